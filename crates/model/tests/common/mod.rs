//! Shared helpers of the model's integration tests: the fixture format of `tests/inputs/*.yaml`, and the
//! SchemaStore validator of Traefik's file provider.
//!
//! A fixture is one YAML document:
//! ```yaml
//! now: 2026-01-01T00:00:00Z     # the clock at the first request; every request advances it by one minute
//! app: whoami                   # the default target of requests
//! env: dev
//! spec: |                       # the spec, as a user writes it (or the word EXAMPLE for EXAMPLE_SPEC)
//!   apps: ...
//! requests:                     # applied in order; errors are recorded and the sequence goes on
//!   - change: deploy            # a `switchyard_model::Change`, on the default target
//!     version: v1.2.0
//!   - on: whoami/prod           # a request on another environment
//!     request: {change: create}
//!   - wait: 8d                  # advance the clock
//! ```
//! Files named `err_*` hold a spec that must fail to parse (and no requests).

// Each test binary uses a different part of this module.
#![allow(dead_code)]
// Reading fixtures and the reference schema is what a test harness does; the model itself still does no I/O.
#![allow(clippy::disallowed_methods)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use switchyard_model::traefik::RenderedConfig;
use switchyard_model::{
    Change, Context, Diagnostic, Duration, EXAMPLE_SPEC, EnvKey, Spec, Timestamp, ValidSpec, World, apply, render,
};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Fixture {
    pub(crate) now: Timestamp,
    #[serde(default)]
    pub(crate) app: Option<String>,
    #[serde(default)]
    pub(crate) env: Option<String>,
    pub(crate) spec: String,
    #[serde(default)]
    pub(crate) requests: Vec<Item>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum Item {
    Wait { wait: Duration },
    On { on: String, request: Change },
    Plain(Change),
}

impl Fixture {
    pub(crate) fn load(path: &Path) -> Fixture {
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: not a fixture: {e}", path.display()))
    }

    pub(crate) fn spec_source(&self) -> &str {
        if self.spec.trim() == "EXAMPLE" { EXAMPLE_SPEC } else { &self.spec }
    }

    pub(crate) fn parse(&self) -> Result<ValidSpec, Vec<Diagnostic>> {
        Spec::parse(self.spec_source(), "switchyard.yaml")
    }
}

/// What running a fixture's requests produced.
#[derive(Debug)]
pub(crate) struct Run {
    /// The transcript: each request with its plan, diagnostics or error; then every environment's YAML.
    pub(crate) text: String,
    /// Every configuration rendered along the way (each outcome's `after`) and at the end.
    pub(crate) configs: Vec<RenderedConfig>,
    /// How many of `configs`, the last ones, are the environments as the fixture leaves them (one each).
    pub(crate) environments: usize,
}

/// Runs a fixture whose spec must be valid.
pub(crate) fn run(fixture: &Fixture, name: &str) -> Run {
    let spec = fixture.parse().unwrap_or_else(|d| panic!("{name}: the spec does not parse:\n{}", join(&d)));
    let default_key = || {
        EnvKey::new(
            fixture.app.as_deref().expect("the fixture names a default `app`"),
            fixture.env.as_deref().expect("the fixture names a default `env`"),
        )
    };
    let mut text = String::new();
    for w in &spec.warnings {
        let _ = writeln!(text, "{w}\n");
    }
    let mut world = World::new();
    let mut now = fixture.now;
    let mut configs = Vec::new();
    for item in &fixture.requests {
        let (key, request) = match item {
            Item::Wait { wait } => {
                now = Timestamp(now.0 + wait.as_secs());
                let _ = writeln!(text, "## wait {wait}: now {now}\n");
                continue;
            }
            Item::On { on, request } => {
                let (app, env) = on.split_once('/').expect("`on` is app/env");
                (EnvKey::new(app, env), request)
            }
            Item::Plain(request) => (default_key(), request),
        };
        let ctx = Context { now, actor: Some("fixture".into()) };
        let _ = writeln!(text, "## {key}: {}", request.describe());
        match apply(&spec, &world, &key, request, &ctx) {
            Ok(out) => {
                let _ = writeln!(text, "changed: {}, revision {}", out.changed, out.state.revision);
                let _ = writeln!(text, "traffic: {}", out.state.traffic_summary());
                if let Some(p) = &out.state.rollout {
                    let driven = p.driver.as_ref().map(|d| format!(", driven by {d}")).unwrap_or_default();
                    let _ = writeln!(text, "rollout of {}: {} since {}{driven}", p.version, p.describe(), p.since);
                }
                let _ = write!(text, "{}", out.plan);
                for d in &out.diagnostics {
                    let _ = writeln!(text, "{d}");
                }
                configs.push(out.after.clone());
                world.insert(key, out.state);
            }
            Err(e) => {
                let _ = writeln!(text, "{}", e.to_diagnostic());
            }
        }
        text.push('\n');
        now = Timestamp(now.0 + 60);
    }
    for (key, state) in &world {
        let rendered = render::render_env(&spec, state).unwrap_or_else(|e| panic!("{name}: {key}: {e}"));
        let yaml = render::to_yaml(&rendered.config).unwrap_or_else(|e| panic!("{name}: {key}: {e}"));
        let _ =
            writeln!(text, "## rendered {key} ({})\n{yaml}", switchyard_model::naming::config_file(&key.app, &key.env));
        configs.push(rendered.config);
    }
    let environments = world.len();
    Run { text, configs, environments }
}

pub(crate) fn join(diagnostics: &[Diagnostic]) -> String {
    diagnostics.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n\n")
}

pub(crate) fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The SchemaStore schema of Traefik v3's file provider, from the shared reference directory next to the repo.
pub(crate) fn traefik_validator() -> jsonschema::Validator {
    let path = manifest_dir().join("../../../shared/reference/traefik/schemastore/traefik-v3-file-provider.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let schema: serde_json::Value = serde_json::from_str(&text).expect("the schema is JSON");
    jsonschema::draft7::new(&schema).expect("the schema compiles")
}

/// Every schema violation of a configuration, in words; empty when it validates.
pub(crate) fn schema_errors(validator: &jsonschema::Validator, config: &RenderedConfig) -> Vec<String> {
    let json = render::to_json(config).expect("renders as JSON");
    let value: serde_json::Value = serde_json::from_str(&json).expect("to_json gives JSON");
    validator.iter_errors(&value).map(|e| format!("{}: {e}", e.instance_path())).collect()
}

/// A file defining every `name@file` middleware and TLS options the generated file names, as a user would.
pub(crate) fn user_middlewares(generated: &(String, String)) -> (String, String) {
    let loaded = switchyard_traefik::dynamic::load(std::slice::from_ref(generated));
    let mut names: Vec<&str> = loaded
        .config
        .http
        .iter()
        .flat_map(|h| h.routers.iter().flatten())
        .flat_map(|(_, r)| r.middlewares.iter().flatten())
        .filter_map(|m| m.strip_suffix("@file"))
        .collect();
    names.sort();
    names.dedup();
    let mut text = String::from("http:\n  middlewares:\n");
    for name in names {
        text.push_str(&format!("    {name}:\n      headers: {{frameDeny: true}}\n"));
    }
    if text.ends_with("middlewares:\n") {
        text = String::from("# nothing\nhttp:\n  middlewares:\n    unused: {compress: {}}\n");
    }
    let mut options: Vec<&str> = loaded
        .config
        .http
        .iter()
        .flat_map(|h| h.routers.iter().flatten())
        .filter_map(|(_, r)| r.tls.as_ref()?.options.as_deref()?.strip_suffix("@file"))
        .collect();
    options.sort();
    options.dedup();
    if !options.is_empty() {
        text.push_str("tls:\n  options:\n");
        for name in options {
            text.push_str(&format!("    {name}: {{minVersion: VersionTLS12}}\n"));
        }
    }
    ("middlewares.yml".to_string(), text)
}

/// The workflow fixtures under `tests/inputs` (not the `err_` ones, whose specs are refused), in name order:
/// each file's name and the fixture.
pub(crate) fn workflow_fixtures() -> Vec<(String, Fixture)> {
    let dir = manifest_dir().join("tests/inputs");
    let mut entries: Vec<PathBuf> =
        std::fs::read_dir(&dir).expect("inputs").map(|e| e.expect("entry").path()).collect();
    entries.sort();
    entries
        .into_iter()
        .filter_map(|path| {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("").to_string();
            (!name.starts_with("err_") && name.ends_with(".yaml")).then(|| (name, Fixture::load(&path)))
        })
        .collect()
}
