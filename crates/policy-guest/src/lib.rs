//! The guest side of the policy ABI v1 (`docs/policy-abi.md`) for a policy written in Rust: a crate of type
//! `cdylib` built for `wasm32-unknown-unknown` writes its checks as `fn(&[u8]) -> String` (the input's JSON in,
//! the answer's JSON out) and exports them with [`export!`]:
//!
//! ```ignore
//! switchyard_policy_guest::export!(my_policy::evaluate);
//! ```
//!
//! The macro defines `switchyard_alloc` and `switchyard_policy_v1`; the module's `memory` is exported by the
//! toolchain. The buffers live in two statics of this crate: `switchyard_alloc` makes the input buffer (and
//! returns its address), the entry point reads it and keeps its answer in the output buffer until the next call.
//! Only addresses cross the boundary as integers; no raw pointer is dereferenced. The exports need
//! `#[unsafe(no_mangle)]`, so the crate that calls the macro denies unsafe code rather than forbidding it.

use std::sync::{Mutex, PoisonError};

static INPUT: Mutex<Vec<u8>> = Mutex::new(Vec::new());
static OUTPUT: Mutex<String> = Mutex::new(String::new());

/// What `switchyard_alloc` does: makes a zeroed input buffer of `len` bytes and returns its address.
pub fn alloc(len: u32) -> u32 {
    let mut input = INPUT.lock().unwrap_or_else(PoisonError::into_inner);
    *input = vec![0; len as usize];
    address(input.as_ptr())
}

/// What `switchyard_policy_v1` does: runs `evaluate` on the input the host wrote into the buffer [`alloc`]
/// returned, keeps the answer, and returns its address (high 32 bits) and length (low 32 bits).
pub fn run(ptr: u32, len: u32, evaluate: fn(&[u8]) -> String) -> u64 {
    let input = INPUT.lock().unwrap_or_else(PoisonError::into_inner);
    let answer = if ptr == address(input.as_ptr()) && len as usize == input.len() {
        evaluate(&input)
    } else {
        r#"{"error":"the input must be in the buffer switchyard_alloc returned, with its length"}"#.to_string()
    };
    let mut output = OUTPUT.lock().unwrap_or_else(PoisonError::into_inner);
    *output = answer;
    (u64::from(address(output.as_ptr())) << 32) | output.len() as u64
}

/// An address in the module's memory (32 bits on wasm32; truncated on a 64-bit host, where it is never used).
fn address(ptr: *const u8) -> u32 {
    ptr as usize as u32
}

/// Exports `evaluate` (a path to a `fn(&[u8]) -> String`) as a policy: `switchyard_alloc` and
/// `switchyard_policy_v1`, on wasm targets only (a native build, for tests, exports nothing).
#[macro_export]
macro_rules! export {
    ($evaluate:path) => {
        /// ABI v1: makes the input buffer of `len` bytes and returns its address.
        #[cfg(target_family = "wasm")]
        #[allow(unsafe_code)] // `no_mangle` is how the export gets the ABI's name; nothing else here is unsafe.
        #[unsafe(no_mangle)]
        pub extern "C" fn switchyard_alloc(len: u32) -> u32 {
            $crate::alloc(len)
        }

        /// ABI v1: evaluates the input in the buffer; returns the answer's address and length, packed.
        #[cfg(target_family = "wasm")]
        #[allow(unsafe_code)] // as above
        #[unsafe(no_mangle)]
        pub extern "C" fn switchyard_policy_v1(ptr: u32, len: u32) -> u64 {
            $crate::run(ptr, len, $evaluate)
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn echo(input: &[u8]) -> String {
        String::from_utf8_lossy(input).into_owned()
    }

    #[test]
    fn the_answer_comes_from_the_buffer_alloc_made() {
        // On a 64-bit host addresses are truncated, so only the refusal of a wrong buffer is meaningful here;
        // the wasm32 path runs in the CLI's policy tests.
        let at = alloc(4);
        let packed = run(at.wrapping_add(1), 4, echo);
        let answer = OUTPUT.lock().unwrap_or_else(PoisonError::into_inner).clone();
        assert_eq!(packed & 0xffff_ffff, answer.len() as u64);
        assert!(answer.contains("the buffer switchyard_alloc returned"), "{answer}");
    }
}
