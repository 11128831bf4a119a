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
    /// The API of every Traefik of the fleet, `http://HOST:PORT` (Traefik's `traefik` entry point with its API
    /// on): after each change switchyard waits until all of them serve it, and `status` shows what each serves.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub instances: Vec<String>,
}

fn default_root_key() -> String {
    kv::DEFAULT_ROOT.to_string()
}

impl Routing {
    /// The store, parsed.
    pub fn endpoint(&self) -> Result<Endpoint, String> {
        Endpoint::parse(&self.store)
    }

    /// What is wrong with it, as (key, index in the key's list, problem); empty when switchyard can use it.
    pub fn problems(&self) -> Vec<(&'static str, Option<usize>, String)> {
        let mut out = Vec::new();
        if let Err(problem) = self.endpoint() {
            out.push(("store", None, problem));
        }
        if let Err(e) = kv::check_root(&self.root_key) {
            out.push(("root_key", None, e.message));
        }
        for (i, url) in self.instances.iter().enumerate() {
            if let Err(problem) = check_api_url(url) {
                out.push(("instances", Some(i), problem));
            }
        }
        out
    }
}

/// A Traefik API's address as `instances` takes it: `http://HOST:PORT`, nothing else.
fn check_api_url(url: &str) -> Result<(), String> {
    let hint = "give Traefik's API as http://HOST:PORT (its `traefik` entry point with the API on)";
    let Some(authority) = url.strip_prefix("http://").map(|a| a.trim_end_matches('/')) else {
        return Err(format!("{url:?} is not an http:// URL; {hint}"));
    };
    let Some((host, port)) = authority.rsplit_once(':') else {
        return Err(format!("{url:?} has no port; {hint}"));
    };
    let host_ok = !host.is_empty() && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'));
    if !host_ok || port.parse::<u16>().map_or(true, |p| p == 0) {
        return Err(format!("{url:?} is not a host and port; {hint}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_and_a_root_key_are_checked() {
        let ok = Routing {
            store: "etcd://10.0.0.5:2379".into(),
            root_key: "traefik".into(),
            instances: vec!["http://10.0.0.5:8080".into(), "http://edge-2.internal:8080/".into()],
        };
        assert!(ok.problems().is_empty());
        let bad = Routing {
            store: "redis://ops:s3cret@cache:6379".into(),
            root_key: "/traefik".into(),
            instances: vec!["http://10.0.0.5:8080".into(), "https://10.0.0.6:8080".into(), "http://a b:1".into()],
        };
        let problems = bad.problems();
        let keys: Vec<_> = problems.iter().map(|(k, i, _)| (*k, *i)).collect();
        assert_eq!(keys, [("store", None), ("root_key", None), ("instances", Some(1)), ("instances", Some(2))]);
        assert!(problems[0].2.contains("SWITCHYARD_REDIS_PASSWORD") && !problems[0].2.contains("s3cret"));
    }
}
