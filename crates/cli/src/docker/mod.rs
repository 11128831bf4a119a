//! Docker: plans carried out on a Docker host through bollard ([`DockerBackend`], in `backend`). The host is the
//! source of truth: state, locks, the audit log and Traefik's files live in the proxy container's data volume
//! ([`host`]); what a change commits there runs as scripts under the lock (`commit`); stacks are found by their
//! labels ([`stack`]); the proxy itself is made by [`install`].

mod backend;
pub(crate) mod cache;
mod commit;
pub(crate) mod connect;
pub(crate) mod direct;
pub(crate) mod host;
pub(crate) mod install;
pub(crate) mod provider_dir;
pub(crate) mod pull;
pub(crate) mod stack;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, Result};
use tokio::runtime::Runtime;

/// The data volume mounted at /switchyard in the proxy container.
pub(crate) fn data_volume(proxy: &str) -> String {
    format!("{proxy}-data")
}

/// The proxy's own network. A container created on Docker's default bridge gets the host's resolv.conf and
/// cannot resolve container names on the stack networks it joins later; on a user-defined network it uses
/// Docker's embedded DNS, which resolves names on every network it is connected to. Apps never join it.
pub(crate) fn proxy_network(proxy: &str) -> String {
    format!("{proxy}-net")
}

/// How to reach the engine and the proxy container.
#[derive(Debug, Clone)]
pub(crate) struct DockerOptions {
    pub(crate) context: Option<String>,
    pub(crate) proxy: String,
    /// The spec's directory: compose files are relative to it.
    pub(crate) spec_dir: PathBuf,
    pub(crate) health_timeout: Duration,
    /// A lock older than this is stale and is taken over.
    pub(crate) lock_ttl: Duration,
}

pub(crate) fn runtime() -> Result<Runtime> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().context("could not start the async runtime")
}

pub(crate) use backend::DockerBackend;
