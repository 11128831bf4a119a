//! The model's own checks as a switchyard policy (ABI v1, `docs/policy-abi.md`): a core WebAssembly module
//! with no imports that exports `memory`, `switchyard_alloc` and `switchyard_policy_v1`. What it checks is
//! [`switchyard_model::policy::findings`]; this crate is only the ABI.
//!
//! Build: `cargo xtask policy-build` (wasm32-unknown-unknown, profile `policy`, `panic = "abort"` so a panic is
//! a trap and std brings no imports) writes `target/policies/switchyard-model.wasm` and prints its sha256.
//!
//! The buffers live in two statics: `switchyard_alloc` makes the input buffer (and returns its address), the
//! entry point reads it and keeps its answer in the output buffer until the next call. Only addresses cross
//! the boundary as integers; no raw pointer is dereferenced here.

#[cfg(target_family = "wasm")]
pub mod abi {
    use std::sync::{Mutex, PoisonError};

    static INPUT: Mutex<Vec<u8>> = Mutex::new(Vec::new());
    static OUTPUT: Mutex<String> = Mutex::new(String::new());

    /// Makes a zeroed input buffer of `len` bytes and returns its address in the module's memory.
    #[allow(unsafe_code)] // `no_mangle` is how the export gets the ABI's name; nothing else here is unsafe.
    #[unsafe(no_mangle)]
    pub extern "C" fn switchyard_alloc(len: u32) -> u32 {
        let mut input = INPUT.lock().unwrap_or_else(PoisonError::into_inner);
        *input = vec![0; len as usize];
        input.as_mut_ptr() as usize as u32
    }

    /// Evaluates the input the host wrote into the buffer `switchyard_alloc` returned; returns the answer's
    /// address (high 32 bits) and length (low 32 bits).
    #[allow(unsafe_code)] // as above
    #[unsafe(no_mangle)]
    pub extern "C" fn switchyard_policy_v1(ptr: u32, len: u32) -> u64 {
        let input = INPUT.lock().unwrap_or_else(PoisonError::into_inner);
        let answer = if ptr as usize == input.as_ptr() as usize && len as usize == input.len() {
            switchyard_model::policy::evaluate(&input)
        } else {
            r#"{"error":"the input must be in the buffer switchyard_alloc returned, with its length"}"#.to_string()
        };
        let mut output = OUTPUT.lock().unwrap_or_else(PoisonError::into_inner);
        *output = answer;
        ((output.as_ptr() as usize as u64) << 32) | output.len() as u64
    }
}

/// The model's policy, natively: the same function the module runs.
pub use switchyard_model::policy::evaluate;
