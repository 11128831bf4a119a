//! # switchyard-model
//!
//! The pure core of switchyard: blue/green and preview deployments of Docker Compose apps behind Traefik.
//! It does no I/O, reads no clock and uses no randomness (`clippy.toml` enforces it); time and observations
//! come in as arguments. The CLI, the browser playground and the policy step all run this same code.
//!
//! The pipeline:
//! 1. **Parse** the spec ([`Spec::parse`]): serde with unknown keys refused, then validation of every value,
//!    returning every problem at once as [`Diagnostic`]s with file, line and key path (`switchyard_yaml::SourceMap`).
//!    Host templates compile into a sandboxed minijinja environment ([`hosts::Hosts`]).
//! 2. **Transition** ([`transition::apply`]): a [`Change`] (deploy, promote, shift, complete, roll back,
//!    retire, clean up) on an environment's [`EnvState`] gives an [`Outcome`]: the new state, an ordered
//!    [`Plan`] of steps for an executor (health waits come before any traffic moves), an undo plan, the
//!    configuration before and after, and diagnostics. Impossible requests are typed [`TransitionError`]s.
//! 3. **Render** ([`render::render_env`]): the state becomes Traefik v3 dynamic configuration
//!    ([`traefik::RenderedConfig`]), checked against [`invariants`] (no weight 0, no dangling references,
//!    explicit priorities, safe names and rule literals), serialised to YAML (by [`traefik_yaml`], a writer
//!    for exactly this shape that gives serde_yaml's bytes, faster) or JSON, with no `{{` in it.
//! 4. **View** ([`view`]): configuration diffs, an environment's status, and its routing as a graph (hosts,
//!    routers, services, slots, versions, with the weighted shares) for the playground's picture.
//!
//! 5. **Analyse** ([`analysis`]): while a rollout holds a step, the counters Traefik keeps for the candidate's
//!    and the live slot's services become figures (requests, errors, p95) and a verdict: go on, hold, roll back.
//!
//! Beside them, the Traefik in front: [`proxy`] computes its static configuration; [`traefik_files`] checks
//! the user's own dynamic files (`traefik.files`) and what the environments name in them, and [`directory`]
//! checks Traefik's provider directory as a change will leave it, before anything is written.
//!
//! Below the model, each in its own crate: `switchyard-diagnostics` (what every check reports),
//! `switchyard-yaml` (the spec's reader and the writer's scalar rules), `switchyard-lookup` (the name tables) and
//! `switchyard-traefik` (any Traefik configuration: the loader, rules, the validator and the simulator, which
//! [`traefik_files`], [`directory`] and [`policy`] build on). [`served`] compares what a running Traefik serves
//! (its API's `/api/rawdata`) with what an environment's state renders.

pub mod analysis;
mod change_read;
pub mod directory;
pub mod hosts;
pub mod invariants;
pub mod names;
pub mod naming;
pub mod plan;
pub mod policy;
pub mod proxy;
pub mod render;
pub mod replay;
pub mod rollout;
pub mod routing;
pub mod served;
pub mod spec;
pub mod state;
pub mod time;
pub mod traefik;
pub mod traefik_files;
pub mod traefik_yaml;
pub mod transition;
pub mod valid_spec;
pub mod view;

pub use plan::{Plan, Step};
pub use spec::Spec;
pub use state::{EnvKey, EnvState, Slot, World};
pub use switchyard_diagnostics::{Diagnostic, Location, Severity};
pub use time::{Duration, Timestamp};
pub use transition::{Change, Context, Outcome, TransitionError, apply};
pub use valid_spec::ValidSpec;

/// The bundled example spec (`examples/whoami/switchyard.yaml`), for demos, the playground and tests.
pub const EXAMPLE_SPEC: &str = include_str!("../../../examples/whoami/switchyard.yaml");

/// The files of the example's `traefik.files`, as declared, with their texts (`examples/whoami/middlewares.yml`).
pub const EXAMPLE_FILES: &[(&str, &str)] =
    &[("middlewares.yml", include_str!("../../../examples/whoami/middlewares.yml"))];
