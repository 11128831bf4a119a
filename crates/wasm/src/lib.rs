//! The browser's view of switchyard-model, through wasm-bindgen. An adapter only: it converts strings and
//! JSON in and out and turns errors into diagnostics; every decision stays in the model.
//!
//! Every function takes and returns strings (YAML or JSON) so the JavaScript side needs no glue types.
//! Results are JSON objects `{ "ok": ..., "diagnostics": [...] }`, errors included: nothing throws.
//!
//! The playground loads two modules built from this crate, by feature, so the page's first load stays small:
//! - `workflow` ([`workflow`]): the spec, the deployment state and the workflow's steps: `validate`, `render`,
//!   `view`, `apply`, `describe_request`, `example_spec` (loaded with the page);
//! - `inspect` ([`inspect`]): any Traefik dynamic configuration: `check_traefik` (the validator) and `route`
//!   (the request simulator), loaded when a panel that needs them is first opened;
//! - `policy` ([`policy`], built into the same module as `inspect`): the policies' input and the reading of
//!   their answers, `policy_input` and `policy_verdict`, for the Policies panel (`web/policies.js`);
//! - `diff` ([`diff`], built into the same module as `inspect`): the unified diff of a step's configuration
//!   for the Diff panel, computed when that panel is open (Myers' diff is about 17 KB gzipped, which the
//!   page's first load does without);
//! - `replay` ([`replay`], built into the same module as `inspect`): a rollout replayed against made-up
//!   numbers, for the Rollout panel.
//!
//! All are on by default (the native build and its tests have everything).

use serde::Serialize;
use switchyard_diagnostics::Diagnostic;

#[cfg(feature = "diff")]
pub mod diff;
#[cfg(any(feature = "workflow", feature = "policy", feature = "replay"))]
mod inputs;
#[cfg(feature = "inspect")]
pub mod inspect;
#[cfg(feature = "policy")]
pub mod policy;
#[cfg(feature = "replay")]
pub mod replay;
#[cfg(feature = "workflow")]
pub mod workflow;

#[cfg(feature = "inspect")]
pub use inspect::{check_traefik, route};
#[cfg(feature = "policy")]
pub use policy::{policy_input, policy_verdict};
#[cfg(feature = "workflow")]
pub use workflow::{apply, describe_request, example_spec, render, validate, view};

/// Every answer: `ok` is null when the request could not be carried out, and `diagnostics` says why (or
/// holds the warnings beside a result). Typed structs all the way, serialised once: going through
/// `serde_json::Value` (`json!`) would put a second serialiser for every model type into the module.
#[derive(Serialize)]
struct Envelope<T> {
    ok: Option<T>,
    diagnostics: Vec<Diagnostic>,
}

/// What an adapter function computes: its result and warnings, or the diagnostics that stopped it.
pub(crate) type Reply<T> = Result<(T, Vec<Diagnostic>), Vec<Diagnostic>>;

pub(crate) fn respond<T: Serialize>(reply: Reply<T>) -> String {
    let envelope = match reply {
        Ok((ok, diagnostics)) => Envelope { ok: Some(ok), diagnostics },
        Err(diagnostics) => Envelope { ok: None, diagnostics },
    };
    serde_json::to_string(&envelope).unwrap_or_else(|e| {
        let message = serde_json::to_string(&e.to_string()).unwrap_or_else(|_| "\"\"".into());
        format!(r#"{{"ok":null,"diagnostics":[{{"code":"SY0900","severity":"error","message":{message}}}]}}"#)
    })
}
