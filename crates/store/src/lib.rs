//! # switchyard-store
//!
//! Where a fleet's routing lives: a key-value store that every Traefik of the fleet watches (Traefik's own
//! `providers.etcd` and `providers.redis`), so that one transaction moves every instance at once.
//!
//! - The store an environment names is a `switchyard_traefik::kv::Endpoint` (`etcd://HOST:PORT`,
//!   `redis://HOST:PORT`); its [`Credentials`] come from the environment of the process, never from the spec.
//! - [`Store`]: what switchyard needs of a store: list the keys under a prefix, read one, and [`commit`] a
//!   [`Write`] (keys to put and to delete, and a guard: a key whose value must be what the writer last saw) in
//!   one transaction, all of it or nothing.
//! - [`etcd`] (v3 API through its JSON gateway: one `Txn`) and [`redis`] (`WATCH`, then `MULTI`/`EXEC`).
//!
//! The keys themselves (Traefik's layout of a dynamic configuration) come from `switchyard_traefik::kv`.
//!
//! [`commit`]: Store::commit

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

pub mod etcd;
mod http;
pub mod redis;

pub use switchyard_traefik::kv::{Endpoint, Kind};

/// A compare-and-set on one key, which makes a [`Write`] fail when someone else wrote since its writer read:
/// the write goes through only while `key` holds `expect` (`None`: while it is absent), and sets it to `set`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guard {
    pub key: String,
    pub expect: Option<String>,
    pub set: String,
}

/// Everything one change writes, applied in one transaction or not at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    pub guard: Guard,
    /// Keys that must not exist either (someone's lock), else nothing is written.
    pub absent: BTreeSet<String>,
    pub put: BTreeMap<String, String>,
    pub delete: BTreeSet<String>,
}

impl Write {
    /// The write that turns the keys `current` into `wanted`: only the keys whose value changes are put, and the
    /// keys of `current` that `wanted` lacks are deleted (a store limits the operations of a transaction: etcd
    /// to 128 by default, `--max-txn-ops`).
    pub fn replace(current: &BTreeMap<String, String>, wanted: &BTreeMap<String, String>, guard: Guard) -> Write {
        let (put, delete) = changes(current, wanted);
        Write { guard, absent: BTreeSet::new(), put, delete }
    }

    /// How many operations the transaction holds (the guard's put included).
    pub fn operations(&self) -> usize {
        self.put.len() + self.delete.len() + 1
    }
}

/// What turns the keys `current` into `wanted`: the keys to put (those whose value changes) and to delete.
pub fn changes(
    current: &BTreeMap<String, String>,
    wanted: &BTreeMap<String, String>,
) -> (BTreeMap<String, String>, BTreeSet<String>) {
    let put = wanted.iter().filter(|(k, v)| current.get(*k) != Some(v)).map(|(k, v)| (k.clone(), v.clone())).collect();
    let delete = current.keys().filter(|k| !wanted.contains_key(*k)).cloned().collect();
    (put, delete)
}

/// What a store did not do.
#[derive(Debug)]
pub enum StoreError {
    /// The guard did not hold: someone wrote since. Nothing of the write was applied.
    Conflict { key: String, expected: Option<String>, found: Option<String> },
    /// The store could not be reached, or stopped answering; a write may or may not have been applied (read
    /// the guard to know).
    Unreachable { endpoint: String, why: String },
    /// The store answered with an error (a limit, a refused credential, ...). Nothing was applied.
    Refused { endpoint: String, why: String },
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |v: &Option<String>| v.as_deref().map_or("nothing".to_string(), |v| format!("{v:?}"));
        match self {
            StoreError::Conflict { key, expected, found } => write!(
                f,
                "someone else changed {key} meanwhile (it holds {}, not {}): nothing was written",
                shown(found),
                shown(expected)
            ),
            StoreError::Unreachable { endpoint, why } => write!(f, "{endpoint} cannot be reached: {why}"),
            StoreError::Refused { endpoint, why } => write!(f, "{endpoint} refused: {why}"),
        }
    }
}

impl std::error::Error for StoreError {}

/// A key-value store as switchyard uses it.
pub trait Store {
    /// The store, as its endpoint is written (for messages).
    fn endpoint(&self) -> String;
    /// Every key that starts with `prefix`, with its value.
    fn list(&mut self, prefix: &str) -> Result<BTreeMap<String, String>, StoreError>;
    /// One key's value.
    fn get(&mut self, key: &str) -> Result<Option<String>, StoreError>;
    /// Applies `write` in one transaction if its guard holds and its `absent` keys are absent; else nothing and
    /// [`StoreError::Conflict`] naming the key that did not hold.
    fn commit(&mut self, write: &Write) -> Result<(), StoreError>;
    /// Deletes `key` if it holds `expect` (a lock released by its holder); false when it holds something else
    /// or nothing.
    fn delete_if(&mut self, key: &str, expect: &str) -> Result<bool, StoreError>;
}

/// Connects to the store `endpoint` names, as the user `credentials` name (if any).
pub fn connect(endpoint: &Endpoint, credentials: &Credentials) -> Result<Box<dyn Store>, StoreError> {
    Ok(match endpoint.kind {
        Kind::Etcd => Box::new(etcd::Etcd::connect(endpoint, credentials)?),
        Kind::Redis => Box::new(redis::Redis::connect(endpoint, credentials)?),
    })
}

/// A user name and password for the store; the password is never shown.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    pub username: Option<String>,
    pub password: Option<String>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<hidden>"))
            .finish()
    }
}

impl Credentials {
    /// The credentials for a store of `kind` from the process's environment (`SWITCHYARD_ETCD_USERNAME`,
    /// `SWITCHYARD_ETCD_PASSWORD`; `SWITCHYARD_REDIS_USERNAME`, `SWITCHYARD_REDIS_PASSWORD`).
    pub fn from_env(kind: Kind) -> Credentials {
        let var = |what: &str| {
            std::env::var(format!("{}_{what}", kind.credentials_variable())).ok().filter(|v| !v.is_empty())
        };
        Credentials { username: var("USERNAME"), password: var("PASSWORD") }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn a_replace_puts_what_changes_and_deletes_what_is_gone() {
        let guard = Guard { key: "g".into(), expect: Some("1".into()), set: "2".into() };
        let current = map(&[("a", "1"), ("b", "2"), ("c", "3")]);
        let wanted = map(&[("a", "1"), ("b", "20"), ("d", "4")]);
        let write = Write::replace(&current, &wanted, guard);
        assert_eq!(write.put, map(&[("b", "20"), ("d", "4")]));
        assert_eq!(write.delete, BTreeSet::from(["c".to_string()]));
        assert_eq!(write.operations(), 4);
    }

    #[test]
    fn a_password_is_never_shown() {
        let c = Credentials { username: Some("ops".into()), password: Some("s3cret".into()) };
        assert!(!format!("{c:?}").contains("s3cret"));
    }

    #[test]
    fn a_conflict_says_what_was_found() {
        let e = StoreError::Conflict { key: "g".into(), expected: Some("1".into()), found: None };
        assert_eq!(
            e.to_string(),
            "someone else changed g meanwhile (it holds nothing, not \"1\"): nothing was written"
        );
    }
}
