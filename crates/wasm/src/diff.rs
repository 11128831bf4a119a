//! The Diff panel's call: the unified diff of an environment's Traefik file before and after a step, as
//! `switchyard ... --dry-run` prints it.

use wasm_bindgen::prelude::wasm_bindgen;

use crate::respond;

/// `{ ok: "--- a/FILE\n+++ b/FILE\n@@ ..." }` (empty when the texts are equal).
#[wasm_bindgen]
pub fn diff(before: &str, after: &str, file: &str) -> String {
    let text = switchyard_model::view::unified_diff(before, after, &format!("a/{file}"), &format!("b/{file}"));
    respond::<String>(Ok((text, Vec::new())))
}
