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
//! Diagnostic codes:
//!
//! | code   | severity | meaning                                                                        |
//! |--------|----------|--------------------------------------------------------------------------------|
//! | SY0500 | error    | the file is not YAML, or not a mapping at the top                              |
//! | SY0501 | error    | a top-level key switchyard does not support (`networks`, `configs`, ...)       |
//! | SY0502 | error    | a service key switchyard does not support (`build`, `network_mode`, ...)       |
//! | SY0503 | error    | a nested key not supported (in `healthcheck`, long `ports`/`volumes`, ...)     |
//! | SY0504 | error    | a value of the wrong shape (a list where a string belongs, ...)                |
//! | SY0505 | warning  | top-level `name` is ignored: switchyard names the stack                        |
//! | SY0506 | warning  | top-level `version` is obsolete                                                |
//! | SY0510 | error    | a variable is not set and has no default                                       |
//! | SY0511 | error    | `${VAR?message}` / `${VAR:?message}` on a variable that is not set (or empty)  |
//! | SY0512 | error    | invalid interpolation syntax (`$` not followed by a name, unclosed `${`, ...)  |
//! | SY0520 | error    | the file has no services                                                       |
//! | SY0521 | error    | an invalid service name                                                        |
//! | SY0522 | error    | a service without an image, or with an invalid one                             |
//! | SY0523 | error    | a service the spec routes is not in the compose file                           |
//! | SY0524 | error    | `depends_on` names a service that is not in the file                           |
//! | SY0525 | error    | services depend on each other in a cycle                                       |
//! | SY0526 | warning  | `service_healthy` on a service with no health check in the file                |
//! | SY0527 | error    | an invalid `depends_on` condition                                              |
//! | SY0530 | error    | a `command`/`entrypoint` string that cannot be split (unclosed quote, ...)     |
//! | SY0531 | warning  | a `command`/`entrypoint` string that looks like it needs a shell               |
//! | SY0540 | error    | an invalid environment variable name or value                                  |
//! | SY0541 | warning  | a variable without a value that no switchyard variable fills: left out         |
//! | SY0542 | error    | an invalid `env_file` path                                                     |
//! | SY0543 | error    | a syntax error in an env file                                                  |
//! | SY0544 | error    | a required env file whose contents were not passed in                          |
//! | SY0550 | error    | a label with a reserved prefix (`switchyard.`, `com.docker.compose.`)          |
//! | SY0551 | error    | an invalid label name or value                                                 |
//! | SY0560 | error    | an invalid port                                                                |
//! | SY0561 | warning  | a fixed host port: two versions deployed at once would both need it           |
//! | SY0570 | error    | an invalid health check test                                                   |
//! | SY0571 | error    | an invalid health check duration                                               |
//! | SY0572 | error    | invalid health check retries                                                   |
//! | SY0580 | error    | an invalid service volume (mount)                                              |
//! | SY0581 | error    | a named volume not declared under top-level `volumes`                          |
//! | SY0582 | error    | an invalid top-level volume (a bad name, or options such as `driver`)          |
//! | SY0583 | error    | an invalid bind-mount source (NUL, `~`, empty)                                 |
//! | SY0584 | warning  | a bind mount of the Docker socket or of `/`                                    |
//! | SY0590 | error    | an invalid `restart` policy                                                    |
//! | SY0591 | error    | an invalid `user` or `working_dir`                                             |
//! | SY0599 | error    | the stack name the caller passed is not a valid compose project name           |

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
            d.code = "SY0500";
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
