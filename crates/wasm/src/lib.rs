//! The browser's view of switchyard-model, through wasm-bindgen. An adapter only: it converts strings and
//! JSON in and out and turns errors into diagnostics; every decision stays in the model.
//!
//! Every function takes and returns strings (YAML or JSON) so the JavaScript side needs no glue types.
//! Results are JSON objects `{ "ok": ..., "diagnostics": [...] }`, errors included: nothing throws.

use serde::Serialize;
use serde_json::json;
use switchyard_model::render::{render_env, to_yaml};
use switchyard_model::traefik::DynamicConfig;
use switchyard_model::{Context, Diagnostic, EnvKey, EnvState, Request, Spec, Timestamp, ValidSpec, World};
use wasm_bindgen::prelude::wasm_bindgen;

fn respond(value: impl Serialize) -> String {
    serde_json::to_string(&value).unwrap_or_else(|e| {
        json!({ "ok": null, "diagnostics": [{"code": "SY0900", "severity": "error", "message": e.to_string()}] })
            .to_string()
    })
}

fn failure(diagnostics: Vec<Diagnostic>) -> String {
    respond(json!({ "ok": null, "diagnostics": diagnostics }))
}

fn parse(spec_yaml: &str) -> Result<ValidSpec, Vec<Diagnostic>> {
    Spec::parse(spec_yaml, "switchyard.yaml")
}

fn parse_world(states_json: &str) -> Result<World, Vec<Diagnostic>> {
    if states_json.trim().is_empty() {
        return Ok(World::new());
    }
    let states: Vec<EnvState> = serde_json::from_str(states_json)
        .map_err(|e| vec![Diagnostic::error("SY0901", format!("the state is not valid: {e}")).at("state")])?;
    Ok(states.into_iter().map(|s| (EnvKey::new(&s.app, &s.env), s)).collect())
}

/// Validates a spec: `{ ok: true|null, diagnostics }`.
#[wasm_bindgen]
pub fn validate(spec_yaml: &str) -> String {
    match parse(spec_yaml) {
        Ok(spec) => respond(json!({ "ok": true, "diagnostics": spec.warnings })),
        Err(d) => failure(d),
    }
}

/// Renders the Traefik configuration of every environment in `states_json` (a JSON array of states):
/// `{ ok: "<yaml>", diagnostics }`.
#[wasm_bindgen]
pub fn render(spec_yaml: &str, states_json: &str) -> String {
    let run = || -> Result<(String, Vec<Diagnostic>), Vec<Diagnostic>> {
        let spec = parse(spec_yaml)?;
        let world = parse_world(states_json)?;
        let mut config = DynamicConfig::default();
        let mut warnings = spec.warnings.clone();
        for state in world.values() {
            let r = render_env(&spec, state).map_err(|e| vec![Diagnostic::error("SY0299", e.to_string())])?;
            warnings.extend(r.warnings);
            config.merge(r.config);
        }
        let yaml = to_yaml(&config).map_err(|e| vec![Diagnostic::error("SY0299", e.to_string())])?;
        Ok((yaml, warnings))
    };
    match run() {
        Ok((yaml, diagnostics)) => respond(json!({ "ok": yaml, "diagnostics": diagnostics })),
        Err(d) => failure(d),
    }
}

/// Applies a request (`{"change": "promote", "version": "v1.3.0", "share": 10}`) to one environment:
/// `{ ok: { changed, state, plan, undo, before, after }, diagnostics }`.
#[wasm_bindgen]
pub fn apply(spec_yaml: &str, states_json: &str, app: &str, env: &str, request_json: &str, now_unix: u64) -> String {
    let run = || -> Result<String, Vec<Diagnostic>> {
        let spec = parse(spec_yaml)?;
        let world = parse_world(states_json)?;
        let request: Request = serde_json::from_str(request_json)
            .map_err(|e| vec![Diagnostic::error("SY0902", format!("the request is not valid: {e}")).at("request")])?;
        let ctx = Context { now: Timestamp(now_unix), actor: Some("playground".into()) };
        let outcome = switchyard_model::apply(&spec, &world, &EnvKey::new(app, env), &request, &ctx)
            .map_err(|e| vec![e.to_diagnostic()])?;
        let diagnostics = outcome.diagnostics.clone();
        Ok(respond(json!({ "ok": outcome, "diagnostics": diagnostics })))
    };
    run().unwrap_or_else(failure)
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
        let bad: serde_json::Value = serde_json::from_str(&super::validate("apps: 3")).unwrap();
        assert_eq!(bad["ok"], serde_json::Value::Null);
        assert_eq!(bad["diagnostics"][0]["code"], "SY0001");
    }
}
