//! Every configuration switchyard renders for its fixtures passes `switchyard validate`'s checks
//! (switchyard-traefik) with no error and no warning.

// Reading the fixtures is what a test harness does; the model itself still does no I/O.
#![allow(clippy::disallowed_methods)]

mod common;

use switchyard_model::{Diagnostic, Severity};
use switchyard_traefik::validate::validate_files;

fn render(diagnostics: &[Diagnostic]) -> String {
    diagnostics.iter().map(|d| format!("{d}\n")).collect()
}

/// Every configuration switchyard renders for its fixtures validates with no error and no warning, next to the
/// file where the user defines the `@file` middlewares the spec names (switchyard does not write them).
#[test]
fn every_rendered_configuration_is_clean() {
    let mut count = 0;
    for (name, fixture) in common::workflow_fixtures() {
        let run = common::run(&fixture, &name);
        for config in &run.configs {
            let yaml = switchyard_model::render::to_yaml(config).expect("renders");
            let generated = ("switchyard_app_env.yml".to_string(), yaml);
            let middlewares = common::user_middlewares(&generated);
            let d = validate_files(&[generated.clone(), middlewares]);
            let mut bad: Vec<&Diagnostic> = d.iter().filter(|d| d.severity != Severity::Info).collect();
            // An environment with nothing left is written as `{}` on purpose, to withdraw its routers; the load
            // check warns about any file that defines nothing (a file being written looks the same).
            if config.is_empty() {
                assert_eq!(bad.iter().map(|d| &*d.code).collect::<Vec<_>>(), ["SY3004"], "{name}");
                assert!(bad[0].message.contains("defines nothing"));
                bad.clear();
            }
            assert!(bad.is_empty(), "{name}:\n{}\n{}", generated.1, render(&d));
            count += 1;
        }
    }
    assert!(count > 20, "only {count} configurations");
}
