//! Policies: the JSON a policy module receives and answers (ABI v1, `docs/policy-abi.md`), and the model's own
//! checks as a policy ([`evaluate`]), which `crates/policy` compiles to WebAssembly.
//!
//! Both sides use these types: the host (the CLI) writes an [`InputRef`] and reads an [`Answer`]; a policy
//! written in Rust reads an [`Input`] and writes an [`Answer`]. A finding has the shape of a [`Diagnostic`]
//! with a code of the policy's choosing.
//!
//! The model's checks, in order, each returning every problem it finds:
//! 1. the spec's values ([`Spec::validate`]): what `switchyard validate` says about it, located in
//!    `spec_source` when it is given;
//! 2. every environment state of `after`: it belongs to an app and environment of the spec, its slots hold
//!    deployed versions, the live slot and the split are consistent (SY0401-SY0406);
//! 3. the state renders ([`render_env`], which checks the [`crate::invariants`]), and the configuration the
//!    host sent for it is the one the model renders (SY0407, SY0408);
//! 4. the validator ([`validate::validate_files`]) on the rendered files of the environments in `config`
//!    (all of them for a plain check; the changed one for a change), as Traefik would read them together;
//!    except SY3202 and SY3208 (middlewares the spec names are defined in the user's own files or by another
//!    provider, which the input does not carry).
//!
//! For a change, only the changed environment's state and configuration are checked (and parsed: [`evaluate`]
//! reads the others only for their `app` and `env`, in the one pass over the input that checks it is JSON); a
//! plain check (`change: null`) checks every environment.
//!
//! The codes are SY0401-SY0409, each with its severity and meaning in [`switchyard_diagnostics::registry`].

mod abi;
mod checks;
mod host;
mod lazy;

pub use abi::{
    ABI_VERSION, Answer, ChangeInput, Finding, Input, InputRef, Source, clip, errors_first, finding_diagnostic,
    read_answer,
};
pub use checks::{evaluate, findings};
pub use host::{change_input, change_of, check_input};

#[cfg(test)]
mod tests;
