//! `switchyard render`: the Traefik dynamic configuration for the spec and the recorded state.

use std::io::Write;

use switchyard_model::render::{to_json, to_yaml};
use switchyard_model::traefik::RenderedConfig;
use switchyard_model::{ValidSpec, World};

use crate::args::{Cli, Format, RenderArgs, Target};
use crate::report;
use crate::session::{Failure, backend, load_spec, session};

pub(crate) fn run(cli: &Cli, args: &RenderArgs, out: &mut dyn Write) -> Result<(), Failure> {
    let RenderArgs { target, format } = args;
    let s = session(cli, load_spec(&cli.spec)?)?;
    let world = backend(cli, &s.spec)?.load_world()?;
    let config = render_world(&s.spec, &world, target)?;
    let text = match format {
        Format::Yaml => to_yaml(&config),
        Format::Json => to_json(&config),
    }
    .map_err(|e| Failure::Broken(e.into()))?;
    out.write_all(text.as_bytes())?;
    Ok(())
}

pub(crate) fn render_world(spec: &ValidSpec, world: &World, target: &Target) -> Result<RenderedConfig, Failure> {
    let chosen = world.iter().filter(|(key, _)| {
        target.app.as_ref().is_none_or(|a| *a == key.app) && target.env.as_ref().is_none_or(|e| *e == key.env)
    });
    let rendered = switchyard_model::render::render_world(spec, chosen.map(|(_, state)| state))
        .map_err(|e| Failure::Broken(e.into()))?;
    if !rendered.warnings.is_empty() {
        eprint!("{}", report::render(&rendered.warnings, None));
    }
    Ok(rendered.config)
}
