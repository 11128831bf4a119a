//! An example policy in Rust (ABI v1, `docs/policy-abi.md`): **a rollout may be stricter than the team's floor,
//! never looser.** Where `canary-25.wat` limits one number by scanning the raw input, this one reads the input
//! with the model's own types and judges the steps and thresholds of a rollout, wherever they came from (the
//! spec's `rollout` or `promote`'s flags): they are in the changed environment's state after the change.
//!
//! It judges a rollout when one starts (`promote` with a rollout) or a process takes one on (`rollout-resume`),
//! and every rollout under way on a plain `switchyard check`. A step that passes (`rollout-step`) is not judged
//! again, so adopting the policy does not roll back a rollout already under way.
//!
//! Build it and use it:
//!
//! ```sh
//! cargo build -p switchyard-example-rollout-floor --target wasm32-unknown-unknown --profile policy
//! switchyard promote v2 --max-error-rate 2% \
//!   --policy target/wasm32-unknown-unknown/policy/switchyard_example_rollout_floor.wasm   # refused: exit 1
//! ```

use serde::Deserialize;
use switchyard_model::Diagnostic;
use switchyard_model::policy::{ABI_VERSION, Answer, ChangeInput, Finding, Source};
use switchyard_model::rollout::{Percent, Progress};
use switchyard_model::state::EnvState;
use switchyard_model::time::Duration;
use switchyard_yaml::SourceMap;

switchyard_policy_guest::export!(evaluate);

/// The loosest rollout the team accepts.
#[derive(Debug, Clone, Copy)]
pub struct Floor {
    /// The largest share the first step may give the new version.
    pub first_step: u8,
    /// The largest error rate a step may allow.
    pub max_error_rate: Percent,
    /// The largest p95 latency a step may allow; a rollout must set one.
    pub max_p95: Duration,
    /// The fewest requests a step may be judged on.
    pub min_requests: u32,
}

/// This team's floor.
pub const FLOOR: Floor = Floor {
    first_step: 10,
    max_error_rate: Percent { basis_points: 50 },
    max_p95: Duration::from_millis(500),
    min_requests: 100,
};

/// The parts of the input this policy reads; the rest (the spec, the configurations, the plan) is skipped.
#[derive(Deserialize)]
struct Input {
    abi: u32,
    change: Option<ChangeInput>,
    #[serde(default)]
    spec_source: Option<Source>,
    #[serde(default)]
    after: Vec<EnvState>,
}

/// The policy: the input's JSON in, the answer's JSON out.
pub fn evaluate(input: &[u8]) -> String {
    let answer = match serde_json::from_slice::<Input>(input) {
        Ok(input) if input.abi != ABI_VERSION => {
            Answer::Error { error: format!("the input is for ABI version {}, this policy reads 1", input.abi) }
        }
        Ok(input) => Answer::Findings { findings: findings(&input, &FLOOR) },
        Err(e) => Answer::Error { error: format!("the input is not ABI v1 as this policy reads it: {e}") },
    };
    serde_json::to_string(&answer).unwrap_or_else(|e| format!(r#"{{"error":"the answer did not serialise: {e}"}}"#))
}

/// The rollouts the input asks about, each judged against `floor`, located in the spec's text when it came.
fn findings(input: &Input, floor: &Floor) -> Vec<Finding> {
    let judged = |state: &EnvState| match &input.change {
        None => true,
        Some(change) => {
            matches!(change.command.as_str(), "promote" | "rollout-resume")
                && change.app == state.app
                && change.env == state.env
        }
    };
    let mut out = Vec::new();
    for state in input.after.iter().filter(|s| judged(s)) {
        if let Some(progress) = &state.rollout {
            judge(state, progress, floor, &mut out);
        }
    }
    if let Some(source) = &input.spec_source {
        SourceMap::new(&source.text, &source.file).attach(&mut out);
    }
    out.iter().map(Finding::from).collect()
}

/// What in one rollout is looser than `floor`.
fn judge(state: &EnvState, progress: &Progress, floor: &Floor, out: &mut Vec<Diagnostic>) {
    let rollout = &progress.rollout;
    let what = format!("the rollout of {} in {}/{}", progress.version, state.app, state.env);
    let path = |key: &str| format!("apps.{}.environments.{}.rollout.{key}", state.app, state.env);
    let mut refuse = |code: &'static str, key: &str, message: String, hint: String| {
        out.push(Diagnostic::error(code, message).at(path(key)).hint(hint));
    };
    if let Some(&first) = rollout.steps.first()
        && first > floor.first_step
    {
        refuse(
            "floor/first-step",
            "steps",
            format!("{what} starts at {first}%; the team's first step is at most {}%", floor.first_step),
            format!(
                "start smaller: `steps: [{0}, 25, 50, 100]` in the spec, or `--steps {0},25,50,100`",
                floor.first_step
            ),
        );
    }
    if rollout.max_error_rate > floor.max_error_rate {
        refuse(
            "floor/error-rate",
            "max_error_rate",
            format!(
                "{what} allows an error rate of {}; the team allows at most {}",
                rollout.max_error_rate, floor.max_error_rate
            ),
            format!("`max_error_rate: {0}` in the spec, or `--max-error-rate {0}`", floor.max_error_rate),
        );
    }
    match rollout.max_p95 {
        None => refuse(
            "floor/p95",
            "max_p95",
            format!("{what} does not watch latency; the team requires a p95 of at most {}", floor.max_p95),
            format!("`max_p95: {0}` in the spec, or `--max-p95 {0}`", floor.max_p95),
        ),
        Some(p95) if p95 > floor.max_p95 => refuse(
            "floor/p95",
            "max_p95",
            format!("{what} allows a p95 of {p95}; the team allows at most {}", floor.max_p95),
            format!("`max_p95: {0}` in the spec, or `--max-p95 {0}`", floor.max_p95),
        ),
        Some(_) => {}
    }
    if rollout.min_requests < floor.min_requests {
        refuse(
            "floor/min-requests",
            "min_requests",
            format!(
                "{what} judges a step on {} requests; the team wants at least {}",
                rollout.min_requests, floor.min_requests
            ),
            format!("`min_requests: {0}` in the spec, or `--min-requests {0}`", floor.min_requests),
        );
    }
}

#[cfg(test)]
mod tests;
