//! The Rollout panel's call (feature `replay`, in the module loaded on demand): a rollout replayed against
//! made-up numbers ([`switchyard_model::replay`]), with the decisions `switchyard promote` would take.

use serde::Serialize;
use switchyard_model::replay::{Replay, Traffic, replay};
use switchyard_model::rollout::Rollout;
use switchyard_model::{Diagnostic, EnvKey};
use wasm_bindgen::prelude::wasm_bindgen;

use crate::inputs::{ok, parse};
use crate::{Reply, respond};

#[derive(Serialize)]
struct Replayed {
    /// The rollout replayed: the environment's, or the defaults when it has none.
    rollout: Rollout,
    /// Whether the environment has a `rollout` of its own.
    declared: bool,
    replay: Replay,
    /// The replay in words ([`Replay::text`]).
    text: String,
}

/// `{ ok: { rollout, declared, replay: { phases, outcome, at_s, candidate_errors }, text }, diagnostics }` for the
/// environment `app`/`env` of the spec and the made-up traffic (`{ rate, candidate_errors,
/// candidate_latency_ms, live_errors, live_latency_ms, candidate_fails_after_s }`).
#[wasm_bindgen]
pub fn replay_rollout(spec_yaml: &str, app: &str, env: &str, traffic_json: &str) -> String {
    let run = || -> Reply<Replayed> {
        let spec = parse(spec_yaml);
        let spec = ok(&spec)?;
        let traffic: Traffic = serde_json::from_str(traffic_json)
            .map_err(|e| vec![Diagnostic::error("SY0902", format!("the traffic is not valid: {e}")).at("traffic")])?;
        let key = EnvKey::new(app, env);
        let environment = spec.spec.apps.get(&key.app).and_then(|a| a.environments.get(&key.env)).ok_or_else(|| {
            vec![Diagnostic::error("SY0902", format!("the spec has no environment {key}")).at("environment")]
        })?;
        let declared = environment.rollout.is_some();
        let rollout = environment.rollout.clone().unwrap_or_default();
        let replay = replay(&rollout, &traffic);
        let text = replay.text();
        Ok((Replayed { rollout, declared, replay, text }, Vec::new()))
    };
    respond(run())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_failing_candidate_is_rolled_back_in_the_example() {
        let spec = switchyard_model::EXAMPLE_SPEC;
        let traffic = r#"{"rate": 200, "candidate_errors": 20, "candidate_latency_ms": 20}"#;
        let answer: serde_json::Value =
            serde_json::from_str(&super::replay_rollout(spec, "whoami", "dev", traffic)).unwrap();
        let ok = &answer["ok"];
        assert_eq!(ok["declared"], false);
        assert_eq!(ok["replay"]["outcome"], "rolled back");
        assert_eq!(ok["replay"]["phases"][0]["phase"], "step 1 of 4 (10%)");
        assert_eq!(ok["replay"]["phases"][0]["verdict"]["verdict"], "roll_back");
        let bad: serde_json::Value = serde_json::from_str(&super::replay_rollout(spec, "whoami", "dev", "{}")).unwrap();
        assert_eq!(bad["diagnostics"][0]["code"], "SY0902");
    }
}
