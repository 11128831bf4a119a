#![allow(clippy::unwrap_used)] // a panic in a test is a failing test

use serde_json::{Value, json};
use switchyard_model::EnvState;
use switchyard_model::rollout::{Percent, Progress, Rollout};
use switchyard_model::time::{Duration, Timestamp};

use super::evaluate;

const SPEC: &str = "apps:\n  whoami:\n    environments:\n      prod:\n        rollout:\n          steps: [25, 100]\n          max_error_rate: 2%\n";

/// whoami/prod with a rollout of v2 under way.
fn state(rollout: Rollout) -> EnvState {
    let mut state = EnvState::new("whoami", "prod");
    state.rollout = Some(Progress {
        version: "v2".into(),
        rollout,
        step: 0,
        since: Timestamp::parse("2026-03-01T12:00:00Z").unwrap(),
        last: None,
        driver: None,
    });
    state
}

fn strict() -> Rollout {
    Rollout {
        max_error_rate: Percent { basis_points: 25 },
        max_p95: Some(Duration::from_millis(300)),
        min_requests: 200,
        ..Rollout::default()
    }
}

fn run(change: Value, after: &EnvState) -> Value {
    let input = json!({
        "abi": 1,
        "change": change,
        "spec": {"apps": {}},
        "spec_source": {"file": "switchyard.yaml", "text": SPEC},
        "before": [],
        "after": [after],
        "config": {},
        "plan": [],
    });
    serde_json::from_str(&evaluate(input.to_string().as_bytes())).unwrap()
}

fn promote() -> Value {
    json!({"command": "promote", "app": "whoami", "env": "prod", "version": "v2", "share": 25})
}

fn codes(answer: &Value) -> Vec<&str> {
    answer["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap()).collect()
}

#[test]
fn a_rollout_stricter_than_the_floor_passes() {
    assert_eq!(run(promote(), &state(strict())), json!({"findings": []}));
}

#[test]
fn every_looser_threshold_is_refused_at_its_key_in_the_spec() {
    let loose = Rollout { steps: vec![25, 100], max_error_rate: Percent { basis_points: 200 }, ..Rollout::default() };
    let answer = run(promote(), &state(loose));
    assert_eq!(codes(&answer), ["floor/first-step", "floor/error-rate", "floor/p95", "floor/min-requests"]);
    let rate = &answer["findings"][1];
    assert_eq!(rate["severity"], "error");
    assert_eq!(
        rate["message"],
        "the rollout of v2 in whoami/prod allows an error rate of 2%; the team allows at most 0.5%"
    );
    assert_eq!(rate["path"], "apps.whoami.environments.prod.rollout.max_error_rate");
    assert_eq!((rate["file"].as_str(), rate["line"].as_u64()), (Some("switchyard.yaml"), Some(7)));
    assert_eq!(rate["hints"][0], "`max_error_rate: 0.5%` in the spec, or `--max-error-rate 0.5%`");
    // A key the spec does not write (flags, or a default) points at the nearest one it does.
    assert_eq!(answer["findings"][2]["line"], 5);
}

#[test]
fn a_p95_above_the_floor_is_refused() {
    let slow = Rollout { max_p95: Some(Duration::from_secs(2)), ..strict() };
    let answer = run(promote(), &state(slow));
    assert_eq!(codes(&answer), ["floor/p95"]);
    assert_eq!(
        answer["findings"][0]["message"],
        "the rollout of v2 in whoami/prod allows a p95 of 2s; the team allows at most 500ms"
    );
}

#[test]
fn a_passing_step_and_other_environments_are_not_judged() {
    let loose = Rollout::default();
    let step = json!({"command": "rollout-step", "app": "whoami", "env": "prod", "version": "v2", "share": 50});
    assert_eq!(run(step, &state(loose.clone())), json!({"findings": []}));
    let elsewhere = json!({"command": "promote", "app": "whoami", "env": "dev", "version": "v2"});
    assert_eq!(run(elsewhere, &state(loose.clone())), json!({"findings": []}));
    // A plain check judges every rollout under way.
    assert_eq!(codes(&run(Value::Null, &state(loose))), ["floor/error-rate", "floor/p95", "floor/min-requests"]);
}

#[test]
fn an_input_it_cannot_read_is_an_error_not_a_pass() {
    let answer: Value = serde_json::from_str(&evaluate(b"{\"abi\":1,\"change\":")).unwrap();
    assert!(answer["error"].as_str().unwrap().starts_with("the input is not ABI v1"), "{answer}");
    let answer: Value = serde_json::from_str(&evaluate(br#"{"abi":2,"change":null}"#)).unwrap();
    assert_eq!(answer["error"], "the input is for ABI version 2, this policy reads 1");
}
