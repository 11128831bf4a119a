//! The spec, the deployment state and the workflow's steps (feature `workflow`): the module the page loads.

use std::collections::BTreeMap;

use serde::Serialize;
use switchyard_model::naming;
use switchyard_model::render::{render_env, render_world, to_yaml};
use switchyard_model::traefik::RenderedConfig;
use switchyard_model::view::{EnvStatus, RoutingGraph, routing_graph, status, version_services};
use switchyard_model::{Context, Diagnostic, EnvKey, EnvState, Timestamp, World};
use wasm_bindgen::prelude::wasm_bindgen;

use crate::inputs::{ok, parse, parse_world};
use crate::{Reply, respond};

fn render_error(e: impl std::fmt::Display) -> Vec<Diagnostic> {
    vec![Diagnostic::error("SY0299", e.to_string())]
}

fn yaml(config: &RenderedConfig) -> Result<String, Vec<Diagnostic>> {
    to_yaml(config).map_err(render_error)
}

/// Validates a spec: `{ ok: true|null, diagnostics }`.
#[wasm_bindgen]
pub fn validate(spec_yaml: &str) -> String {
    respond(ok(&parse(spec_yaml)).map(|spec| (true, spec.warnings.clone())))
}

/// Renders the Traefik configuration of every environment in `states_json` (a JSON array of states):
/// `{ ok: "<yaml>", diagnostics }`.
#[wasm_bindgen]
pub fn render(spec_yaml: &str, states_json: &str) -> String {
    let run = || -> Reply<String> {
        let (spec, world) = (parse(spec_yaml), parse_world(states_json));
        let (spec, world) = (ok(&spec)?, ok(&world)?);
        let rendered = render_world(spec, world.values()).map_err(render_error)?;
        let mut warnings = spec.warnings.clone();
        warnings.extend(rendered.warnings);
        Ok((yaml(&rendered.config)?, warnings))
    };
    respond(run())
}

#[derive(Serialize)]
struct Environment<'a> {
    app: &'a str,
    env: &'a str,
    created: bool,
}

#[derive(Serialize)]
struct View<'a> {
    environments: Vec<Environment<'a>>,
    app: String,
    env: String,
    file: String,
    config: String,
    status: Option<EnvStatus>,
    status_text: Option<String>,
    graph: RoutingGraph,
    /// Which version (and slot) each version service of `config` stands for ([`version_services`]), for `route`
    /// ([`crate::inspect`]).
    versions: BTreeMap<String, String>,
    /// The user's own Traefik files the spec declares (`traefik.files`) that the page has (the example's), as
    /// `[name, text]`: Traefik reads them beside `config`, so `route` takes them too.
    traefik_files: Vec<(&'static str, &'static str)>,
}

/// What the playground shows for one environment, in one call (every keystroke runs it):
/// `{ ok: { environments: [{app, env, created}], app, env, file, config, status, status_text, graph,
/// versions, traefik_files }, diagnostics }`. `config` is the environment's Traefik file (YAML), `status` the model's status
/// (null until the environment is created), `graph` its [`switchyard_model::view::RoutingGraph`], `versions`
/// what [`crate::inspect::route`] needs to name the versions behind services. An `app`/`env`
/// the spec does not have selects the spec's first environment.
#[wasm_bindgen]
pub fn view(spec_yaml: &str, states_json: &str, app: &str, env: &str) -> String {
    let (spec, world) = (parse(spec_yaml), parse_world(states_json));
    let (spec, world) = match (ok(&spec), ok(&world)) {
        (Ok(spec), Ok(world)) => (spec, world),
        (Err(d), _) | (_, Err(d)) => return respond::<()>(Err(d)),
    };
    let mut environments = Vec::new();
    for (a, definition) in &spec.spec.apps {
        for e in definition.environments.keys() {
            let created = world.contains_key(&EnvKey::new(a, e));
            environments.push(Environment { app: a, env: e, created });
        }
    }
    let known = environments.iter().any(|e| e.app == app && e.env == env);
    let key = match environments.first() {
        _ if known => EnvKey::new(app, env),
        Some(first) => EnvKey::new(first.app, first.env),
        None => {
            let view = View {
                environments,
                app: String::new(),
                env: String::new(),
                file: String::new(),
                config: String::new(),
                status: None,
                status_text: None,
                graph: RoutingGraph::default(),
                versions: BTreeMap::new(),
                traefik_files: Vec::new(),
            };
            return respond(Ok((view, spec.warnings.clone())));
        }
    };
    let run = || -> Reply<View<'_>> {
        let mut diagnostics = spec.warnings.clone();
        let empty = EnvState::new(&key.app, &key.env);
        let state = world.get(&key);
        let rendered = render_env(spec, state.unwrap_or(&empty)).map_err(render_error)?;
        diagnostics.extend(rendered.warnings);
        let graph = routing_graph(spec, state.unwrap_or(&empty), &rendered.config).map_err(render_error)?;
        let status = state.map(|s| status(spec, s)).transpose().map_err(render_error)?;
        let status_text = status.as_ref().map(ToString::to_string);
        let view = View {
            environments,
            file: naming::config_file(&key.app, &key.env),
            app: key.app.clone(),
            env: key.env.clone(),
            config: yaml(&rendered.config)?,
            status,
            status_text,
            graph,
            // This environment's only: `route` runs on this environment's file (`config`).
            versions: version_services(state),
            traefik_files: switchyard_model::EXAMPLE_FILES
                .iter()
                .filter(|(name, _)| spec.spec.traefik.files.iter().any(|declared| declared == name))
                .copied()
                .collect(),
        };
        Ok((view, diagnostics))
    };
    respond(run())
}

#[derive(Serialize)]
struct Applied<'a> {
    changed: bool,
    state: &'a EnvState,
    states: Vec<&'a EnvState>,
    file: String,
    plan: String,
    undo: String,
    before: String,
    after: String,
}

fn read_request(request_json: &str) -> Result<switchyard_model::Change, Vec<Diagnostic>> {
    serde_json::from_str(request_json)
        .map_err(|e| vec![Diagnostic::error("SY0902", format!("the request is not valid: {e}")).at("request")])
}

/// What a request (as [`apply`] takes it) does, in the model's words, as the CLI names a change and the state's
/// history records it: `{ ok: "promote v1.3.0 at 10%", diagnostics }`.
#[wasm_bindgen]
pub fn describe_request(request_json: &str) -> String {
    respond(read_request(request_json).map(|request| (request.describe(), Vec::new())))
}

/// Applies a request (`{"change": "promote", "version": "v1.3.0", "share": 10}`) to one environment:
/// `{ ok: { changed, state, states, file, plan, undo, before, after }, diagnostics }`: the new state,
/// every state (the input with this one replaced, as the next call's `states_json`), the plan and its undo
/// as text, the environment's Traefik file before and after (YAML); their diff is [`crate::diff::diff`]'s, in
/// the module loaded on demand.
#[wasm_bindgen]
pub fn apply(spec_yaml: &str, states_json: &str, app: &str, env: &str, request_json: &str, now_unix: u64) -> String {
    let run = || -> Result<(switchyard_model::Outcome, World), Vec<Diagnostic>> {
        let (spec, world) = (parse(spec_yaml), parse_world(states_json));
        let (spec, world) = (ok(&spec)?, ok(&world)?.clone());
        let request = read_request(request_json)?;
        let ctx = Context { now: Timestamp(now_unix), actor: Some("playground".into()) };
        let outcome = switchyard_model::apply(spec, &world, &EnvKey::new(app, env), &request, &ctx)
            .map_err(|e| vec![e.to_diagnostic()])?;
        Ok((outcome, world))
    };
    let (outcome, mut world) = match run() {
        Ok(done) => done,
        Err(d) => return respond::<()>(Err(d)),
    };
    world.insert(outcome.key.clone(), outcome.state.clone());
    let show = || -> Reply<Applied<'_>> {
        let file = naming::config_file(app, env);
        let (before, after) = (yaml(&outcome.before)?, yaml(&outcome.after)?);
        let applied = Applied {
            changed: outcome.changed,
            state: &outcome.state,
            states: world.values().collect(),
            file,
            plan: outcome.plan.to_string(),
            undo: outcome.undo.to_string(),
            before,
            after,
        };
        Ok((applied, outcome.diagnostics.clone()))
    };
    respond(show())
}

/// The bundled example spec.
#[wasm_bindgen]
pub fn example_spec() -> String {
    switchyard_model::EXAMPLE_SPEC.to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trip_through_the_string_interface() {
        let spec = super::example_spec();
        let v: serde_json::Value = serde_json::from_str(&super::validate(&spec)).unwrap();
        assert_eq!(v["ok"], true);
        let created: serde_json::Value =
            serde_json::from_str(&super::apply(&spec, "", "whoami", "dev", r#"{"change":"create"}"#, 0)).unwrap();
        let state = created["ok"]["state"].clone();
        let states = serde_json::to_string(&[state]).unwrap();
        let deployed: serde_json::Value = serde_json::from_str(&super::apply(
            &spec,
            &states,
            "whoami",
            "dev",
            r#"{"change":"deploy","version":"v1.2.0"}"#,
            60,
        ))
        .unwrap();
        assert_eq!(deployed["ok"]["changed"], true);
        let states = serde_json::to_string(&[deployed["ok"]["state"].clone()]).unwrap();
        let rendered: serde_json::Value = serde_json::from_str(&super::render(&spec, &states)).unwrap();
        assert!(rendered["ok"].as_str().unwrap().contains("Host(`v1-2-0-whoami.dev.example.com`)"));
        assert_eq!(deployed["ok"]["states"].as_array().unwrap().len(), 1);
        assert!(deployed["ok"]["plan"].as_str().unwrap().contains(" 1. create stack whoami-dev-v1-2-0"));
        let ok = &deployed["ok"];
        let (before, after) = (ok["before"].as_str().unwrap(), ok["after"].as_str().unwrap());
        let diff: serde_json::Value =
            serde_json::from_str(&crate::diff::diff(before, after, "switchyard_whoami_dev.yml")).unwrap();
        let diff = diff["ok"].as_str().unwrap();
        assert!(diff.starts_with("--- a/switchyard_whoami_dev.yml\n+++ b/switchyard_whoami_dev.yml\n"), "{diff}");
        assert!(diff.contains("+      rule: Host(`v1-2-0-whoami.dev.example.com`)"), "{diff}");

        let view: serde_json::Value = serde_json::from_str(&super::view(&spec, &states, "", "")).unwrap();
        let ok = &view["ok"];
        assert_eq!((ok["app"].as_str(), ok["env"].as_str()), (Some("whoami"), Some("dev")));
        assert_eq!(ok["environments"][0], serde_json::json!({"app": "whoami", "env": "dev", "created": true}));
        assert_eq!(ok["environments"][1]["created"], false);
        assert_eq!(ok["config"], rendered["ok"]);
        assert_eq!(ok["status"]["versions"][0]["version"], "v1.2.0");
        assert!(ok["status_text"].as_str().unwrap().starts_with("whoami/dev (revision 2)"));
        assert!(ok["graph"]["nodes"].as_array().unwrap().iter().any(|n| n["id"] == "version:v1.2.0"));
        let versions = ok["versions"].as_object().unwrap();
        assert!(versions.values().any(|v| v.as_str().unwrap().starts_with("whoami/dev v1.2.0 ")), "{versions:?}");
        assert!(versions.keys().all(|k| ok["config"].as_str().unwrap().contains(k.as_str())), "{versions:?}");
        let prod: serde_json::Value = serde_json::from_str(&super::view(&spec, &states, "whoami", "prod")).unwrap();
        assert_eq!(prod["ok"]["status"], serde_json::Value::Null);
        assert_eq!(prod["ok"]["config"], "# Generated by switchyard; changes made here are overwritten.\n{}\n");

        let broken: serde_json::Value = serde_json::from_str(&super::view(&spec, "[\n  {\n    x", "", "")).unwrap();
        assert_eq!(broken["diagnostics"][0]["code"], "SY0901");
        assert_eq!(broken["diagnostics"][0]["location"]["file"], "state.json");
        assert_eq!(broken["diagnostics"][0]["location"]["line"], 3);

        let said: serde_json::Value =
            serde_json::from_str(&super::describe_request(r#"{"change":"set_share","share":50}"#)).unwrap();
        assert_eq!(said["ok"], "set the candidate's share to 50%");
        let said: serde_json::Value = serde_json::from_str(&super::describe_request(r#"{"change":"x"}"#)).unwrap();
        assert_eq!(said["diagnostics"][0]["code"], "SY0902");

        let bad: serde_json::Value = serde_json::from_str(&super::validate("apps: 3")).unwrap();
        assert_eq!(bad["ok"], serde_json::Value::Null);
        assert_eq!(bad["diagnostics"][0]["code"], "SY0001");
    }
}
