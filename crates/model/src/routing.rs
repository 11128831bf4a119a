//! Where an environment's routing lives: Traefik's file provider (the default: switchyard's files in Traefik's
//! directory on the host), or a key-value store that every Traefik of a fleet watches (`routing.store`), where
//! one transaction moves every instance at once.

use serde::{Deserialize, Serialize};
use switchyard_traefik::kv::{self, Endpoint};

/// An environment's `routing`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Routing {
    /// The store every Traefik of the fleet reads: `etcd://HOST:PORT` (several members separated by commas) or
    /// `redis://HOST:PORT[/DB]`. Credentials never go here: switchyard reads them from its environment
    /// (`SWITCHYARD_ETCD_USERNAME`/`_PASSWORD`, `SWITCHYARD_REDIS_USERNAME`/`_PASSWORD`).
    pub store: String,
    /// Traefik's root key in the store (`providers.etcd.rootKey`, `providers.redis.rootKey`).
    #[serde(default = "default_root_key")]
    pub root_key: String,
}

fn default_root_key() -> String {
    kv::DEFAULT_ROOT.to_string()
}

impl Routing {
    /// The store, parsed.
    pub fn endpoint(&self) -> Result<Endpoint, String> {
        Endpoint::parse(&self.store)
    }

    /// What is wrong with it, as (key, problem); empty when switchyard can write to it.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Err(problem) = self.endpoint() {
            out.push(("store", problem));
        }
        if let Err(e) = kv::check_root(&self.root_key) {
            out.push(("root_key", e.message));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_and_a_root_key_are_checked() {
        let ok = Routing { store: "etcd://10.0.0.5:2379".into(), root_key: "traefik".into() };
        assert!(ok.problems().is_empty());
        let bad = Routing { store: "redis://ops:s3cret@cache:6379".into(), root_key: "/traefik".into() };
        let problems = bad.problems();
        assert_eq!(problems.iter().map(|(k, _)| *k).collect::<Vec<_>>(), ["store", "root_key"]);
        assert!(problems[0].1.contains("SWITCHYARD_REDIS_PASSWORD") && !problems[0].1.contains("s3cret"));
    }
}
