//! `switchyard route`: which router, service, server and version answer a request, and how requests split.

use std::io::Write;
use std::path::PathBuf;

use switchyard_model::Diagnostic;
use switchyard_model::render::to_yaml;

use crate::args::{Cli, RouteArgs, Target};
use crate::commands::render::render_world;
use crate::inspect;
use crate::report;
use crate::session::{Failure, backend, load_spec, read_user_files, session};

pub(crate) fn run(cli: &Cli, args: &RouteArgs, out: &mut dyn Write) -> Result<(), Failure> {
    let RouteArgs {
        paths,
        host,
        path,
        method,
        headers,
        query,
        cookies,
        client_ip,
        entry_point,
        tls,
        requests,
        down,
        json,
    } = args;
    let mut versions = std::collections::BTreeMap::new();
    let files = if paths.is_empty() {
        let s = session(cli, load_spec(&cli.spec)?)?;
        let world = backend(cli, &s.spec)?.load_world()?;
        versions = switchyard_model::view::version_services(world.values());
        let config = render_world(&s.spec, &world, &Target { app: None, env: None })?;
        let mut files = vec![("rendered.yml".to_string(), to_yaml(&config).map_err(|e| Failure::Broken(e.into()))?)];
        // The user's own files Traefik reads beside switchyard's: the middlewares the environments name are
        // defined there (a router naming one defined nowhere is disabled, and `route` says so).
        files.extend(read_user_files(&s.spec.spec, &cli.spec).into_iter().filter_map(|f| Some((f.path, f.text.ok()?))));
        files
    } else {
        let inputs = inspect::read(&paths.iter().map(PathBuf::as_path).collect::<Vec<_>>())?;
        if let Some((name, _)) = inputs.specs.first() {
            return Err(Failure::Refused(format!(
                "{name} is a switchyard spec; `route` reads Traefik configuration (leave PATHS out to route \
                 through the spec and the recorded state)"
            )));
        }
        inputs.traefik
    };
    let loaded = switchyard_traefik::dynamic::load(&files);
    if loaded.has_errors() {
        let sources: std::collections::BTreeMap<String, String> = files.iter().cloned().collect();
        let errors: Vec<Diagnostic> = loaded.diagnostics.iter().filter(|d| d.is_error()).cloned().collect();
        let text = report::render_with(&errors, &|f| sources.get(f).map(String::as_str), false);
        return Err(Failure::Refused(format!("{text}Traefik would refuse this configuration; fix it first")));
    }
    let client_ip = client_ip.map(|ip| ip.to_string());
    let req = inspect::request(&switchyard_traefik::simulate::http::RequestParts {
        method,
        host,
        path,
        headers: headers.iter().map(String::as_str).collect(),
        query: query.iter().map(String::as_str).collect(),
        cookies: cookies.iter().map(String::as_str).collect(),
        client_ip: client_ip.as_deref(),
        entry_point: entry_point.as_deref(),
        tls: *tls,
    })?;
    let down = inspect::down(down);
    // The same function answers the playground's "Who answers?" panel, and its text is the panel's.
    let route = switchyard_traefik::simulate::http::route(&loaded.config, &req, *requests, &down, &versions);
    if *json {
        let value = serde_json::json!({ "answer": route.answer, "version": route.version, "split": route.split });
        writeln!(out, "{}", serde_json::to_string_pretty(&value).map_err(anyhow::Error::from)?)?;
    } else {
        out.write_all(route.text(&req).as_bytes())?;
    }
    Ok(())
}
