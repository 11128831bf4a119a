//! Traefik's key-value layout: a dynamic configuration as the keys and values its KV providers (`etcd`,
//! `redis`, `consul`, `zookeeper`) read, `<root>/http/routers/<name>/rule = Host(...)`.
//!
//! The configuration's JSON form (the file provider's, as `switchyard render --format json` prints it) is
//! walked: an object's keys and an array's indexes become path segments, a string, number or boolean becomes a
//! key's value, and an empty object (such as `tls: {}` or a weighted service's `healthCheck: {}`) becomes the
//! value `true`, which Traefik reads as "present, with its defaults". An empty value would do with etcd, but
//! Traefik's Redis provider drops it (seen with Traefik 3.7.15); `true` reads the same from both. Empty arrays
//! and nulls say nothing and give no key.
//!
//! Traefik splits keys on `/` and refuses `@` in a name (it separates a name from its provider), so a segment
//! with either, or an empty one, is an error naming its path rather than a key that means something else.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::dynamic::DynamicConfig;
use crate::dynamic::schema::{Shape as _, Ty};

/// Traefik's default root key (`providers.etcd.rootKey`, `providers.redis.rootKey`).
pub const DEFAULT_ROOT: &str = "traefik";

/// The key a store must hold before Traefik watches it: the root key itself, with this value. Traefik's etcd
/// provider cannot watch a root under which no key exists ("failed to watch KV: key not found in store") and
/// retries with a growing delay (seconds, then minutes), so a Traefik started on an empty etcd would pick up the
/// first routes late (its Redis provider watches an empty root fine). The root key's own value is ignored by
/// Traefik's decoder. Seen with Traefik 3.7.15 (`tests/tests/fleet_kv.rs`).
pub fn root_marker(root: &str) -> (String, String) {
    (root.to_string(), "switchyard".to_string())
}

/// Why a configuration has no key-value form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KvError {
    /// Where, as a key path (`http.routers.a/b`), or `root` for the root key.
    pub path: String,
    pub message: String,
}

impl fmt::Display for KvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl std::error::Error for KvError {}

/// Whether `root` can be a root key: segments separated by `/`, each a valid segment.
pub fn check_root(root: &str) -> Result<(), KvError> {
    let bad = |why: String| KvError {
        path: "root".into(),
        message: format!(
            "the root key {root:?} {why}; give segments of letters, digits, `.`, `_` and `-` separated by `/`, such as \
             traefik or traefik/fleet"
        ),
    };
    if root.is_empty() {
        return Err(bad("is empty".into()));
    }
    for segment in root.split('/') {
        if segment.is_empty() {
            return Err(bad("has an empty segment (a leading, trailing or double `/`)".into()));
        }
        if let Some(c) = segment.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))) {
            return Err(bad(format!("has the character {c:?}")));
        }
    }
    Ok(())
}

/// `config` (anything that serialises to a dynamic configuration's JSON form) as keys under `root`, sorted.
pub fn pairs(root: &str, config: &impl Serialize) -> Result<BTreeMap<String, String>, KvError> {
    check_root(root)?;
    let value = serde_json::to_value(config)
        .map_err(|e| KvError { path: String::new(), message: format!("the configuration has no JSON form: {e}") })?;
    let mut out = BTreeMap::new();
    walk(&value, &DynamicConfig::TY, root.to_string(), &mut Vec::new(), &mut out)?;
    Ok(out)
}

/// The depth of a named definition (`http`, `routers`, its name): empty objects from there down are structs
/// that are present; above it, sections that say nothing.
const DEFINITION: usize = 3;

/// Adds the keys of `value`, of Traefik's type `ty`, found at `key` (the key so far) and `path` (its segments,
/// for errors). The type tells an empty struct (present, with its defaults: `true`) from an empty map (nothing).
fn walk(
    value: &Value,
    ty: &'static Ty,
    key: String,
    path: &mut Vec<String>,
    out: &mut BTreeMap<String, String>,
) -> Result<(), KvError> {
    match value {
        Value::Null => {}
        Value::Bool(b) => {
            out.insert(key, b.to_string());
        }
        Value::Number(n) => {
            out.insert(key, n.to_string());
        }
        Value::String(s) => {
            out.insert(key, s.clone());
        }
        Value::Array(items) => {
            let item_ty = match ty {
                Ty::List(inner) => inner,
                _ => &Ty::Any,
            };
            for (i, item) in items.iter().enumerate() {
                path.push(i.to_string());
                walk(item, item_ty, format!("{key}/{i}"), path, out)?;
                path.pop();
            }
        }
        Value::Object(map) if map.is_empty() => {
            if !matches!(ty, Ty::Map(_)) && path.len() >= DEFINITION {
                out.insert(key, "true".into());
            }
        }
        Value::Object(map) => {
            let before = out.len();
            for (name, item) in map {
                path.push(name.clone());
                check_segment(name, path)?;
                let item_ty = match ty {
                    Ty::Map(inner) => inner,
                    Ty::Struct(s) => s.field(name).map_or(&Ty::Any, |(field, _)| field.ty),
                    _ => &Ty::Any,
                };
                walk(item, item_ty, format!("{key}/{name}"), path, out)?;
                path.pop();
            }
            // A struct whose fields all said nothing (`headers: {customRequestHeaders: {}}`) is still present.
            if out.len() == before && matches!(ty, Ty::Struct(_)) && path.len() >= DEFINITION {
                out.insert(key, "true".into());
            }
        }
    }
    Ok(())
}

/// A name must be one segment that means itself: not empty, no `/`, no `@`, nothing a KV store or a log would
/// read otherwise (control characters).
fn check_segment(name: &str, path: &[String]) -> Result<(), KvError> {
    let why = if name.is_empty() {
        "is empty"
    } else if name.contains('/') {
        "has a `/`, which Traefik reads as a deeper key"
    } else if name.contains('@') {
        "has an `@`, which Traefik refuses in a name (it separates a name from its provider)"
    } else if name.chars().any(char::is_control) {
        "has a control character"
    } else {
        return Ok(());
    };
    Err(KvError {
        path: path.join("."),
        message: format!("the name {name:?} {why}; rename it with letters, digits, `.`, `_` and `-`"),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn objects_arrays_and_scalars_become_keys() {
        let config = json!({"http": {
            "routers": {"r": {"entryPoints": ["web", "websecure"], "rule": "Host(`a.test`)", "priority": 10000,
                               "service": "s", "tls": {}}},
            "services": {
                "s": {"weighted": {"services": [{"name": "v1", "weight": 90}, {"name": "v2", "weight": 10}],
                                   "healthCheck": {}}},
                "v1": {"loadBalancer": {"servers": [{"url": "http://v1:80"}], "passHostHeader": false,
                                        "middlewares": [], "sticky": null}},
            },
        }});
        let got = pairs("traefik", &config).unwrap();
        let want: BTreeMap<String, String> = [
            ("traefik/http/routers/r/entryPoints/0", "web"),
            ("traefik/http/routers/r/entryPoints/1", "websecure"),
            ("traefik/http/routers/r/priority", "10000"),
            ("traefik/http/routers/r/rule", "Host(`a.test`)"),
            ("traefik/http/routers/r/service", "s"),
            ("traefik/http/routers/r/tls", "true"),
            ("traefik/http/services/s/weighted/healthCheck", "true"),
            ("traefik/http/services/s/weighted/services/0/name", "v1"),
            ("traefik/http/services/s/weighted/services/0/weight", "90"),
            ("traefik/http/services/s/weighted/services/1/name", "v2"),
            ("traefik/http/services/s/weighted/services/1/weight", "10"),
            ("traefik/http/services/v1/loadBalancer/passHostHeader", "false"),
            ("traefik/http/services/v1/loadBalancer/servers/0/url", "http://v1:80"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn an_empty_configuration_has_no_keys() {
        assert!(pairs("traefik", &json!({})).unwrap().is_empty());
        assert!(pairs("traefik", &json!({"http": {"routers": {}}})).unwrap().is_empty());
        let headers = json!({"http": {"middlewares": {"m": {"headers": {"customRequestHeaders": {}}}}}});
        let keys: Vec<_> = pairs("traefik", &headers).unwrap().into_iter().collect();
        assert_eq!(keys, [("traefik/http/middlewares/m/headers".to_string(), "true".to_string())]);
    }

    #[test]
    fn a_name_that_would_mean_something_else_is_refused_at_its_path() {
        for (name, why) in [("a/b", "has a `/`"), ("r@file", "has an `@`"), ("", "is empty"), ("a\nb", "control")] {
            let config = json!({"http": {"routers": {name: {"rule": "Host(`a.test`)"}}}});
            let err = pairs("traefik", &config).unwrap_err();
            assert_eq!(err.path, format!("http.routers.{name}"));
            assert!(err.message.contains(why), "{err}");
        }
    }

    #[test]
    fn root_keys_are_checked() {
        assert!(check_root("traefik").is_ok());
        assert!(check_root("teams/web-1/traefik").is_ok());
        for bad in ["", "/traefik", "traefik/", "a//b", "a b", "a*"] {
            let err = check_root(bad).unwrap_err();
            assert_eq!(err.path, "root");
            assert!(err.message.contains("such as traefik"), "{err}");
        }
        let err = pairs("a/", &json!({"http": {}})).unwrap_err();
        assert!(err.message.contains("empty segment"), "{err}");
    }
}
