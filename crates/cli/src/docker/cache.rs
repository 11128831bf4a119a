//! What the CLI remembers between runs about a Docker host, so a routing-only change (a rollback) costs one
//! round trip: the API version the engine agreed to, every environment's state and Traefik's provider
//! directory as last seen, and whether the proxy's data directory can be written directly from here.
//!
//! The cache is never the truth. A change planned on cached state carries the revisions it was planned on, and
//! the host refuses it when any state or Traefik's directory moved on (the CLI then reads the host and plans
//! again under the lock).
//! A cached API version the engine refuses is negotiated again. Losing or corrupting the file only costs time.
//!
//! Where: `$SWITCHYARD_CACHE_DIR`, else `$XDG_CACHE_HOME/switchyard`, else `~/.cache/switchyard`; one file per
//! endpoint and proxy container.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use switchyard_model::naming;
use switchyard_model::{EnvKey, EnvState, World};

use crate::fsio::write_atomic;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct HostCache {
    /// The API version negotiated with the engine, `1.41`.
    #[serde(default)]
    pub(crate) api_version: Option<String>,
    /// The proxy's `/switchyard` mount as seen from this machine: None = not checked yet.
    #[serde(default)]
    pub(crate) direct: Option<DirectCheck>,
    /// Every environment's state as last read or written.
    #[serde(default)]
    pub(crate) states: Option<Vec<EnvState>>,
    /// Traefik's provider directory as last read or written (path, text): what a routing-only change is
    /// checked on; the commit checks its fingerprint (`provider_dir`).
    #[serde(default)]
    pub(crate) dynamic: Option<Vec<(String, String)>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum DirectCheck {
    /// The mount's source is not reachable from here (another machine, or not permitted).
    Unavailable,
    /// The proxy container's `/switchyard` is this local directory (checked by the marker file).
    Local { source: PathBuf },
}

impl HostCache {
    pub(crate) fn world(&self) -> Option<World> {
        self.states
            .as_ref()
            .map(|states| states.iter().map(|s| (EnvKey::new(&s.app, &s.env), s.clone())).collect::<World>())
    }

    pub(crate) fn set_world(&mut self, world: &World) {
        self.states = Some(world.values().cloned().collect());
    }
}

/// The cache file of one endpoint and proxy.
#[derive(Debug, Clone)]
pub(crate) struct CacheFile {
    path: Option<PathBuf>,
}

impl CacheFile {
    pub(crate) fn new(endpoint: &str, proxy: &str) -> Self {
        let dir = std::env::var_os("SWITCHYARD_CACHE_DIR")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("XDG_CACHE_HOME").map(|d| Path::new(&d).join("switchyard")))
            .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/switchyard")));
        let digest = Sha256::digest(format!("{endpoint}\n{proxy}").as_bytes());
        let name: String = digest.iter().take(12).map(|b| format!("{b:02x}")).collect();
        CacheFile { path: dir.map(|d| d.join(format!("docker-{name}.json"))) }
    }

    /// The cached facts, or empty ones when there is no usable file.
    pub(crate) fn read(&self) -> HostCache {
        self.path
            .as_ref()
            .and_then(|p| std::fs::read(p).ok())
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    /// Best effort: a cache that cannot be written only makes the next run slower.
    pub(crate) fn write(&self, cache: &HostCache) {
        if let (Some(path), Ok(bytes)) = (&self.path, serde_json::to_vec(cache)) {
            let _ = write_atomic(path, &bytes);
        }
    }
}

/// The revisions a change was planned on, in the form the host checks: `<app>_<env>.rev=<revision>` per
/// environment. The host compares it with its own `.rev` files, whatever their order.
pub(crate) fn fingerprint(world: &World) -> (String, usize) {
    let entries: Vec<String> =
        world.values().map(|s| format!("{}.rev={}", naming::env_stem(&s.app, &s.env), s.revision)).collect();
    (entries.join(";"), entries.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_survives_a_round_trip_and_garbage_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let file = CacheFile { path: Some(dir.path().join("c.json")) };
        assert!(file.read().api_version.is_none());
        let cache = HostCache {
            api_version: Some("1.41".into()),
            direct: Some(DirectCheck::Local { source: "/x".into() }),
            states: None,
            dynamic: None,
        };
        file.write(&cache);
        let back = file.read();
        assert_eq!(back.api_version.as_deref(), Some("1.41"));
        assert_eq!(back.direct, cache.direct);
        std::fs::write(dir.path().join("c.json"), "{not json").unwrap();
        assert!(file.read().api_version.is_none());
    }
}
