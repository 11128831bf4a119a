//! Policies in the browser (feature `policy`, in the module loaded on demand): the playground runs policy
//! modules itself (`web/policy-host.js`, ABI v1), and the model writes their input and reads their answers,
//! exactly as the CLI does, so a policy's verdict is the same in both.

use serde::Serialize;
use switchyard_model::policy::{Source, change_input, check_input, finding_diagnostic, read_answer};
use switchyard_model::{Change, Context, Diagnostic, EnvKey, Timestamp};
use wasm_bindgen::prelude::wasm_bindgen;

use crate::inputs::{ok, parse, parse_world};
use crate::{Reply, respond};

/// The spec editor's file name, as `switchyard check` names the spec it reads.
const SPEC_FILE: &str = "switchyard.yaml";

#[derive(Serialize)]
struct PolicyInput {
    /// The ABI v1 input, JSON text.
    input: String,
    /// Whether the change changes anything: the CLI runs policies only on a change that does.
    changed: bool,
}

fn failure(message: String) -> Vec<Diagnostic> {
    vec![Diagnostic::error("SY0905", message)]
}

/// The policies' input (docs/policy-abi.md): for a plain check (`request_json` empty) the spec and every
/// recorded state, as `switchyard check`; for a change (`{"change": "promote", "version": ..., "share": ...}`,
/// as `apply` takes it) of `app`/`env` at `now_unix`, the states before and after, the changed environment's
/// configuration and the plan, as `--policy` on that command. `{ ok: { input, changed }, diagnostics }`; `ok`
/// is null when the spec or the states do not parse or the model refuses the change (its diagnostics say why).
#[wasm_bindgen]
pub fn policy_input(
    spec_yaml: &str,
    states_json: &str,
    app: &str,
    env: &str,
    request_json: &str,
    now_unix: u64,
) -> String {
    let run = || -> Reply<PolicyInput> {
        let (spec, world) = (parse(spec_yaml), parse_world(states_json));
        let (spec, world) = (ok(&spec)?, ok(&world)?);
        let source = Source { file: SPEC_FILE.into(), text: spec_yaml.into() };
        if request_json.trim().is_empty() {
            let input = check_input(spec, Some(&source), world).map_err(failure)?;
            let input = String::from_utf8(input).map_err(|e| failure(e.to_string()))?;
            return Ok((PolicyInput { input, changed: false }, Vec::new()));
        }
        let request: Change = serde_json::from_str(request_json)
            .map_err(|e| vec![Diagnostic::error("SY0902", format!("the request is not valid: {e}")).at("request")])?;
        let key = EnvKey::new(app, env);
        let ctx = Context { now: Timestamp(now_unix), actor: Some("playground".into()) };
        let outcome =
            switchyard_model::apply(spec, world, &key, &request, &ctx).map_err(|e| vec![e.to_diagnostic()])?;
        let input = change_input(spec, Some(&source), world, &key, &request, false, &outcome).map_err(failure)?;
        let input = String::from_utf8(input).map_err(|e| failure(e.to_string()))?;
        Ok((PolicyInput { input, changed: outcome.changed }, Vec::new()))
    };
    respond(run())
}

/// The answer of the policy module `name`, as `web/policy-host.js` gives it (`{"findings": [...]}` read from
/// the module, or `{"error": "policy NAME: ..."}` when it could not run or answer): `{ ok: [diagnostics],
/// diagnostics }`, the findings as the CLI reports them (each message naming the policy). A policy that
/// failed gives `ok: null` and one SY0905 error saying why, as the CLI's "error: policy NAME: ..." line.
#[wasm_bindgen]
pub fn policy_verdict(name: &str, answer_json: &str) -> String {
    #[derive(serde::Deserialize)]
    struct HostAnswer {
        #[serde(default)]
        error: Option<String>,
    }
    let run = || -> Reply<Vec<Diagnostic>> {
        let host: HostAnswer = serde_json::from_str(answer_json)
            .map_err(|e| failure(format!("policy {name}: the host's answer is not JSON: {e}")))?;
        if let Some(error) = host.error {
            return Err(failure(error));
        }
        let findings = read_answer(answer_json).map_err(|e| failure(format!("policy {name}: {e}")))?;
        Ok((findings.iter().map(|f| finding_diagnostic(name, f)).collect(), Vec::new()))
    };
    respond(run())
}
