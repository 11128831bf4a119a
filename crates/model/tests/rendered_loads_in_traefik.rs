//! Every configuration switchyard renders for its fixtures loads into the real Traefik 3.7.15 (run on 127.0.0.1
//! with the file provider and the static configuration `install` gives it for the fixture's spec; `cargo xtask
//! ci` installs it) beside the user's file that defines the `@file` middlewares and TLS options it names: every
//! router, service and middleware enabled. Each configuration along the way is loaded alone, and the
//! environments as the fixture leaves them together (one file each, as in Traefik's directory).
//! `switchyard validate`'s checks of the same files are in `rendered_validates.rs`; the 1,000-app benchmark's
//! configuration and the example are loaded by `tests/tests/traefik_differential.rs`.

// Reading the fixtures and running Traefik is what a test harness does; the model itself still does no I/O.
#![allow(clippy::disallowed_methods, clippy::disallowed_types, clippy::unwrap_used, clippy::print_stdout)]

mod common;

use std::time::{Duration, Instant};

use switchyard_model::traefik::RenderedConfig;
use switchyard_real_traefik::LocalTraefik;

#[test]
fn every_configuration_rendered_for_the_fixtures_loads_with_every_definition_enabled() {
    let (mut fixtures, mut loads, mut routers) = (0, 0, 0);
    for (name, fixture) in common::workflow_fixtures() {
        let run = common::run(&fixture, &name);
        // Traefik as `install` starts it for this spec (its entry points and certificate resolvers).
        let spec = fixture.parse().unwrap();
        let flags = switchyard_model::proxy::static_config(&spec.spec, &Default::default()).unwrap();
        let (along, last) = run.configs.split_at(run.configs.len() - run.environments);
        for config in along {
            routers += loads_enabled(&name, &flags.args, &[config]);
            loads += 1;
        }
        routers += loads_enabled(&name, &flags.args, &last.iter().collect::<Vec<_>>());
        loads += 1;
        fixtures += 1;
    }
    println!("fixtures in the real Traefik: {fixtures} fixtures, {loads} loads, {routers} routers, every one enabled");
    assert!(fixtures > 0, "no workflow fixture under tests/inputs");
}

/// Loads `configs` (a file each, and the user's file for each) into a fresh Traefik started with `args`;
/// fails unless every `@file` definition is enabled. Returns the number of routers.
fn loads_enabled(name: &str, args: &[String], configs: &[&RenderedConfig]) -> usize {
    let work = tempfile::tempdir().unwrap();
    let dynamic = work.path().join("dynamic");
    std::fs::create_dir_all(&dynamic).unwrap();
    let mut expected = 0;
    for (i, config) in configs.iter().enumerate() {
        let generated = (format!("switchyard_{i}.yml"), switchyard_model::render::to_yaml(config).unwrap());
        let (user_name, user_text) = common::user_middlewares(&generated);
        std::fs::write(dynamic.join(format!("{i}_{user_name}")), user_text).unwrap();
        std::fs::write(dynamic.join(&generated.0), &generated.1).unwrap();
        expected += config.http.as_ref().map_or(0, |h| h.routers.len());
    }
    let root = work.path().join("traefik-root");
    std::fs::create_dir_all(&root).unwrap();
    let traefik = LocalTraefik::start_as_installed(args, &dynamic, &root, &work.path().join("traefik.log"));
    let start = Instant::now();
    loop {
        let raw = traefik.rawdata();
        let of_file = |section: &str| -> Vec<(String, serde_json::Value)> {
            raw[section]
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(n, _)| n.ends_with("@file"))
                .map(|(n, v)| (n.clone(), v.clone()))
                .collect()
        };
        if of_file("routers").len() >= expected {
            let bad: Vec<String> = ["routers", "services", "middlewares"]
                .iter()
                .flat_map(|section| of_file(section))
                .filter(|(_, v)| v["status"] != "enabled")
                .map(|(n, v)| format!("{n}: {} {}", v["status"], v["error"]))
                .collect();
            assert!(bad.is_empty(), "{name}: Traefik does not enable:\n{}\n{}", bad.join("\n"), traefik.log_text());
            return expected;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{name}: Traefik shows {} of {expected} routers:\n{}",
            of_file("routers").len(),
            traefik.log_text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
