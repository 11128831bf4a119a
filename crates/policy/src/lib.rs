//! The model's own checks as a switchyard policy (ABI v1, `docs/policy-abi.md`): a core WebAssembly module
//! with no imports that exports `memory`, `switchyard_alloc` and `switchyard_policy_v1`. What it checks is
//! [`switchyard_model::policy::findings`]; this crate is only the ABI.
//!
//! Build: `cargo xtask policy-build` (wasm32-unknown-unknown, profile `policy`, `panic = "abort"` so a panic is
//! a trap and std brings no imports) writes `target/policies/switchyard-model.wasm` and prints its sha256.
//!
//! The ABI's buffers and exports come from `switchyard-policy-guest`, as for any policy written in Rust.

switchyard_policy_guest::export!(switchyard_model::policy::evaluate);

/// The model's policy, natively: the same function the module runs.
pub use switchyard_model::policy::evaluate;
