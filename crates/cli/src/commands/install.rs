//! `switchyard install`: the Traefik container on the Docker host, as the spec needs it.

use std::io::Write;

use crate::args::{Cli, InstallArgs};
use crate::docker;
use crate::report;
use crate::session::{Failure, docker_options, load_spec, refuse};

pub(crate) fn run(cli: &Cli, args: &InstallArgs, out: &mut dyn Write) -> Result<(), Failure> {
    let InstallArgs { image, entry_points: given, no_publish, data_dir } = args;
    let spec = load_spec(&cli.spec)?;
    let data_dir = match data_dir {
        Some(dir) if !dir.is_absolute() => {
            return Err(Failure::Refused(format!(
                "--data-dir {} must be an absolute path on the Docker host",
                dir.display()
            )));
        }
        other => other.clone(),
    };
    let config = switchyard_model::proxy::static_config(&spec.spec, &entry_points(given)?)
        .map_err(|d| Failure::Refused(report::render(&d, None)))?;
    let install = docker::install::InstallOptions { image: image.clone(), config, publish: !no_publish, data_dir };
    docker::install::install(&docker_options(cli), &install, out)?;
    Ok(())
}

/// The entry point addresses given to `install` (`NAME=ADDRESS`).
fn entry_points(given: &[String]) -> Result<std::collections::BTreeMap<String, String>, Failure> {
    let mut map = std::collections::BTreeMap::new();
    for item in given {
        let (name, address) = item
            .split_once('=')
            .ok_or_else(|| refuse(format!("--entry-point {item:?}: write it as NAME=ADDRESS, e.g. web=:80")))?;
        map.insert(name.to_string(), address.to_string());
    }
    Ok(map)
}
