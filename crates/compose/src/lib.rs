//! Docker Compose files, turned into what the Docker executor creates through the Docker API: one stack (one
//! version of one app), its services in start order, their containers' settings and the named volumes.
//!
//! Pure like the model: the CLI reads the files and passes their text in. Two steps, because a
//! compose file names other files (`env_file`) that only the CLI can read:
//! 1. [`parse`] the compose file with [`Options`] (the stack name, the variables switchyard fills in, the
//!    routed services). Gives a [`Parsed`] whose [`Parsed::env_files`] lists the env files to read.
//! 2. [`Parsed::finish`] with the contents of those files gives the [`ComposeProject`].
//!
//! [`load`] does both when the env files are at hand already.
//!
//! The modules: `types` (what a compose file becomes), `walk` (the walk over its values, with the hints for what
//! is not supported, ports and command lines), `graph` (dependencies: cycles and start order), `interpolate`
//! (`${VAR}`) and `env_file` (env files).
//!
//! What is supported, and how:
//! - Top level: `services`, `volumes` (plain named volumes, no options), `name` (ignored: switchyard names
//!   the stack), `version` (obsolete), and `x-*` extension fields (ignored; YAML anchors and `<<` merge keys
//!   work anywhere). Everything else is refused, every unsupported key at once, each with its line.
//! - Service keys: `image`, `command`, `entrypoint`, `environment`, `env_file`, `labels`, `ports`,
//!   `healthcheck`, `volumes`, `depends_on`, `restart`, `user`, `working_dir`, plus `x-*`.
//! - `command` and `entrypoint` as a string are split into words the way compose does it (shell quoting
//!   rules: spaces separate words, single and double quotes and backslashes group and escape), and nothing
//!   else a shell does happens: no variables, pipes, redirections or globs. A string that looks like it needs
//!   a shell gets a warning (SY0531) suggesting `["sh", "-c", "..."]`. An empty list (or empty string)
//!   clears the image's value; leaving the key out keeps it.
//! - Variables: `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`,
//!   `${VAR:+replacement}`, `${VAR+replacement}` (defaults may nest) and `$$` for a literal `$`, in string
//!   values (never keys) of supported keys and in env files. Variables come only from [`Options::variables`],
//!   never from the process environment; an unset variable without a default is an error. A bare `KEY` in
//!   `environment` or an env file takes its value from the same variables, or is left out with a warning.
//! - Named volumes are created per stack (`data` in stack `whoami-dev-v1-2-0` is the Docker volume
//!   `whoami-dev-v1-2-0_data`): versions never share data through a volume.
//!
//! Diagnostic codes: SY05xx; each, with its severity and meaning, is in [`switchyard_diagnostics::registry`].

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use switchyard_diagnostics::{Diagnostic, has_errors};
use switchyard_yaml::{self as yaml, SourceMap};

mod env_file;
mod graph;
mod interpolate;
mod types;
mod walk;

pub use env_file::*;
pub use interpolate::*;
pub use types::*;
pub use walk::*;

/// Both steps at once: `env_files` maps env-file paths (as written in the compose file) to their contents.
pub fn load(
    source: &str,
    file: &str,
    options: &Options,
    env_files: &BTreeMap<String, String>,
) -> Result<ComposeProject, Vec<Diagnostic>> {
    parse(source, file, options)?.finish(env_files)
}

/// Label prefixes reserved for switchyard's and compose's own bookkeeping.
pub const RESERVED_LABEL_PREFIXES: &[&str] = &["switchyard.", "com.docker.compose."];

/// Step 1: parses, interpolates and validates a compose file. Every problem at once, located in `file`.
pub fn parse(source: &str, file: &str, options: &Options) -> Result<Parsed, Vec<Diagnostic>> {
    let root: Value = match yaml::from_str::<Value>(source, file) {
        Ok(v) => v,
        Err(d) => {
            let mut d = *d;
            d.code = "SY0500".into();
            d.hints.retain(|h| !h.contains("switchyard.yaml"));
            return Err(vec![d]);
        }
    };
    let mut cx = Cx { options, declared_volumes: BTreeSet::new(), used_volumes: BTreeSet::new(), out: Vec::new() };
    let parsed = cx.project(root);
    let mut out = cx.out;
    let map = SourceMap::new(source, file);
    map.attach(&mut out);
    sort_diagnostics(&mut out);
    match parsed {
        Some(mut parsed) if !has_errors(&out) => {
            for entry in parsed.pending.values_mut().flat_map(|p| p.files.iter_mut()) {
                entry.location = map.locate(&entry.key_path);
            }
            parsed.project.warnings = out;
            Ok(parsed)
        }
        _ => Err(out),
    }
}

pub(crate) fn sort_diagnostics(out: &mut [Diagnostic]) {
    out.sort_by_key(|d| (d.location.is_none(), d.location.clone()));
}
