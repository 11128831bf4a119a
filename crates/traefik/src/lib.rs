//! # switchyard-traefik
//!
//! Any Traefik v3 dynamic configuration, understood without the blue/green model: what `switchyard validate`
//! and `switchyard route` need, and what the model uses to check the files it writes beside the user's own.
//! Pure: no I/O, no clock, no randomness (`clippy.toml`); files come in as `(name, text)` pairs.
//!
//! 1. [`dynamic`] reads a provider directory of YAML and TOML files into a typed model the way Traefik's file
//!    provider does, and reports every structural problem with file, line and column.
//! 2. [`rules`] parses router rules (Traefik's v3 syntax, Go's regexp dialect) and evaluates them.
//! 3. [`validate`] adds the semantic checks: rules, references between definitions, priorities and overlaps,
//!    blue/green hazards.
//! 4. [`simulate`] tells which router, service and server answer a request, and how requests split.
//!
//! Beside them, [`metrics`] reads what Traefik counts per service (its Prometheus text) for a rollout's analysis,
//! and [`kv`] writes a configuration as the keys Traefik's key-value providers (etcd, Redis) read.

pub mod dynamic;
pub mod kv;
pub mod metrics;
pub mod rules;
pub mod simulate;
pub mod validate;
