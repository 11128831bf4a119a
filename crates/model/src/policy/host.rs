//! The host's side: the inputs the CLI (wasmtime) and the playground (the browser) both write.

use std::collections::BTreeMap;

use super::abi::{ABI_VERSION, ChangeInput, InputRef, Source};
use crate::render::render_env;
use crate::rollout::{Phase, Progress};
use crate::state::{EnvKey, EnvState, World};
use crate::transition::{Change, Outcome};
use crate::valid_spec::ValidSpec;

/// The change as policies see it: the command's name and its arguments (`repair` is the `create` request that
/// `switchyard repair` plans). `before`, the environment's state before the change, gives a rollout's next
/// share.
pub fn change_of(request: &Change, key: &EnvKey, repair: bool, before: Option<&EnvState>) -> ChangeInput {
    let (command, version, share) = match request {
        Change::Create if repair => ("repair", None, None),
        Change::Create => ("create", None, None),
        Change::Deploy { version } => ("deploy", Some(version.clone()), None),
        Change::ObserveHealth { version, .. } => ("observe", Some(version.clone()), None),
        Change::Promote { version, share } => ("promote", Some(version.clone()), Some(*share)),
        Change::SetShare { share } => ("shift", None, Some(*share)),
        Change::Complete => ("complete", None, None),
        Change::Rollback => ("rollback", None, None),
        Change::StartRollout { version, rollout, .. } => {
            ("promote", Some(version.clone()), rollout.steps.first().copied())
        }
        // The share the step moves the candidate to, as a `shift` would say it (none when it moves to the bake
        // or ends the rollout): a policy that limits shares holds for a rollout's steps too.
        Change::NextStep { version, .. } => {
            let next = before.and_then(|s| s.rollout.as_ref()).and_then(Progress::next);
            let share = match next {
                Some(Phase::Step { share, .. }) => Some(share),
                _ => None,
            };
            ("rollout-step", Some(version.clone()), share)
        }
        Change::AbortRollout { version, .. } => ("rollout-abort", Some(version.clone()), None),
        Change::ResumeRollout { version, .. } => ("rollout-resume", Some(version.clone()), None),
        Change::Retire { version } => ("retire", Some(version.clone()), None),
        Change::Cleanup => ("cleanup", None, None),
    };
    ChangeInput { command: command.into(), app: key.app.clone(), env: key.env.clone(), version, share }
}

fn write_input(input: &InputRef<'_>) -> Result<Vec<u8>, String> {
    serde_json::to_vec(input).map_err(|e| format!("could not write the policies' input: {e}"))
}

/// The input of a plain check (`switchyard check` without a change): the spec, every environment's state as
/// recorded (before and after alike) and the configuration of every environment that renders.
pub fn check_input(spec: &ValidSpec, source: Option<&Source>, world: &World) -> Result<Vec<u8>, String> {
    let mut configs = BTreeMap::new();
    for (key, state) in world {
        // A state that does not render has no configuration; the policies see why in its state.
        if let Ok(rendered) = render_env(spec, state) {
            configs.insert(format!("{}/{}", key.app, key.env), rendered.config);
        }
    }
    let plan = serde_json::Value::Array(Vec::new());
    write_input(&InputRef {
        abi: ABI_VERSION,
        change: None,
        spec: &spec.spec,
        spec_source: source,
        before: world.values().collect(),
        after: world.values().collect(),
        config: configs.iter().map(|(k, c)| (k.clone(), c)).collect(),
        plan: &plan,
    })
}

/// The input for a change the model planned (`outcome`, of `request` on `key` in `world`): the world before and
/// after, the changed environment's configuration after, and the plan.
pub fn change_input(
    spec: &ValidSpec,
    source: Option<&Source>,
    world: &World,
    key: &EnvKey,
    request: &Change,
    repair: bool,
    outcome: &Outcome,
) -> Result<Vec<u8>, String> {
    let mut after = world.clone();
    after.insert(key.clone(), outcome.state.clone());
    let change = change_of(request, key, repair, world.get(key));
    let plan = serde_json::to_value(&outcome.plan.steps).map_err(|e| format!("could not write the plan: {e}"))?;
    write_input(&InputRef {
        abi: ABI_VERSION,
        change: Some(&change),
        spec: &spec.spec,
        spec_source: source,
        before: world.values().collect(),
        after: after.values().collect(),
        config: BTreeMap::from([(format!("{}/{}", key.app, key.env), &outcome.after)]),
        plan: &plan,
    })
}
