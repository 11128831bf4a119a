//! Environments whose routing lives in a key-value store (`routing.store`): every Traefik of a fleet watches
//! the store, so one transaction there moves all of them at once. Their state and lock live in the store too,
//! so any machine running the CLI sees one truth.
//!
//! [`Routed`] wraps the backend the global options choose (a local directory, a Docker host): for an
//! environment with a store it takes the lock, reads and saves the state, and writes Traefik's configuration
//! in the store; everything else (stacks, health checks, the user's files, Traefik's API) stays with the inner
//! backend. Keys, beside Traefik's own under the root key:
//!
//! ```text
//! switchyard/<app>/<env>/state    the state (JSON, the state file's format)
//! switchyard/<app>/<env>/lock     who holds the environment while a change runs (JSON)
//! switchyard/<app>/<env>/routes   the keys of Traefik's configuration the environment wrote (JSON list)
//! ```
//!
//! Every write of a change is one transaction guarded by the lock (it goes through only while the lock holds
//! this change's holder), so a change whose lock was broken cannot write over the one that broke it; a write
//! of the configuration replaces exactly the environment's keys (puts what changed, deletes what is gone).

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context as _, Result, anyhow, bail};
use switchyard_model::directory::Shipment;
use switchyard_model::plan::Step;
use switchyard_model::state::STATE_FORMAT;
use switchyard_model::{EnvKey, EnvState, Outcome, Timestamp, ValidSpec, World};
use switchyard_store::{Credentials, Guard, Store, StoreError, Write, connect};
use switchyard_traefik::kv::{self, Endpoint};

use crate::backend::{Backend, HostView, StoreView, TraefikView};
use crate::store::LockHolder;

/// The store of one environment, connected on first use.
struct EnvStore {
    endpoint: Endpoint,
    root: String,
    store: Option<Box<dyn Store>>,
    /// The lock this process holds on the environment, as written (the guard of every write).
    held: Option<String>,
}

impl EnvStore {
    fn store(&mut self) -> Result<&mut dyn Store> {
        if self.store.is_none() {
            let credentials = Credentials::from_env(self.endpoint.kind);
            self.store = Some(connect(&self.endpoint, &credentials).map_err(|e| anyhow!("{e}"))?);
        }
        Ok(self.store.as_deref_mut().expect("connected above"))
    }
}

/// The keys of `key` in a store, beside Traefik's.
fn own_key(key: &EnvKey, what: &str) -> String {
    format!("switchyard/{}/{}/{what}", key.app, key.env)
}

/// A backend whose environments with a store keep routing, state and lock there.
pub(crate) struct Routed {
    inner: Box<dyn Backend>,
    stores: BTreeMap<EnvKey, EnvStore>,
    /// A lock older than this is stale and is taken over (`--lock-ttl`, as on a Docker host).
    lock_ttl: std::time::Duration,
    /// A lock in a store was broken or taken over.
    took_over: bool,
}

impl Routed {
    /// Wraps `inner` for the environments of `spec` that name a store; `inner` itself when none does.
    pub(crate) fn wrap(
        inner: Box<dyn Backend>,
        spec: &ValidSpec,
        lock_ttl: std::time::Duration,
    ) -> Result<Box<dyn Backend>> {
        let mut stores = BTreeMap::new();
        for (app_name, app) in &spec.spec.apps {
            for (env_name, env) in &app.environments {
                if let Some(routing) = &env.routing {
                    let endpoint = routing.endpoint().map_err(|e| anyhow!("{app_name}/{env_name}: {e}"))?;
                    let entry = EnvStore { endpoint, root: routing.root_key.clone(), store: None, held: None };
                    stores.insert(EnvKey::new(app_name, env_name), entry);
                }
            }
        }
        if stores.is_empty() {
            return Ok(inner);
        }
        Ok(Box::new(Routed { inner, stores, lock_ttl, took_over: false }))
    }

    fn env(&mut self, key: &EnvKey) -> Option<&mut EnvStore> {
        self.stores.get_mut(key)
    }

    /// Writes `put` (and deletes `delete`) for `key` in one transaction, while this process holds its lock.
    fn write(key: &EnvKey, env: &mut EnvStore, put: BTreeMap<String, String>, delete: BTreeSet<String>) -> Result<()> {
        let held = env.held.clone().ok_or_else(|| anyhow!("{key}: writing to its store without its lock"))?;
        let guard = Guard { key: own_key(key, "lock"), expect: Some(held.clone()), set: held };
        let endpoint = env.endpoint.to_string();
        match env.store()?.commit(&Write { guard, put, delete }) {
            Ok(()) => Ok(()),
            Err(StoreError::Conflict { found, .. }) => {
                let who = found
                    .and_then(|f| serde_json::from_str::<LockHolder>(&f).ok())
                    .map_or_else(|| "nobody".to_string(), |h| h.describe());
                bail!(
                    "{key}: its lock in {endpoint} was taken from this change (it is held by {who}); nothing was written"
                )
            }
            Err(e) => Err(anyhow!("{key}: {e}")),
        }
    }

    /// `world` with the states of the environments in a store read from there (over any file of theirs).
    fn with_stored_states(&mut self, mut world: World) -> Result<World> {
        for (key, env) in &mut self.stores {
            world.remove(key);
            let endpoint = env.endpoint.to_string();
            let Some(text) = env.store()?.get(&own_key(key, "state")).map_err(|e| anyhow!("{e}"))? else { continue };
            let state: EnvState = serde_json::from_str(&text).with_context(|| {
                format!("{key}: the state in {endpoint} is not a switchyard state; restore it from a backup")
            })?;
            if state.format != STATE_FORMAT || EnvKey::new(&state.app, &state.env) != *key {
                bail!("{key}: the state in {endpoint} is of format {} for {}/{}", state.format, state.app, state.env);
            }
            world.insert(key.clone(), state);
        }
        Ok(world)
    }

    /// The environment's Traefik keys as they are in the store (those it wrote last, with their values).
    fn current_routes(key: &EnvKey, env: &mut EnvStore) -> Result<BTreeMap<String, String>> {
        let root = env.root.clone();
        let store = env.store()?;
        let listed: BTreeSet<String> = match store.get(&own_key(key, "routes")).map_err(|e| anyhow!("{e}"))? {
            Some(text) => serde_json::from_str(&text).with_context(|| format!("{key}: its list of routes"))?,
            None => BTreeSet::new(),
        };
        let all = store.list(&format!("{root}/")).map_err(|e| anyhow!("{e}"))?;
        Ok(all.into_iter().filter(|(k, _)| listed.contains(k)).collect())
    }
}

impl Backend for Routed {
    fn lock(&mut self, key: &EnvKey, holder: &LockHolder, break_lock: bool) -> Result<()> {
        let Some(env) = self.stores.get_mut(key) else { return self.inner.lock(key, holder, break_lock) };
        let mine = serde_json::to_string(holder)?;
        let lock = own_key(key, "lock");
        let endpoint = env.endpoint.to_string();
        let store = env.store()?;
        let mut expect = None;
        for attempt in 0..2 {
            let write = Write {
                guard: Guard { key: lock.clone(), expect: expect.clone(), set: mine.clone() },
                put: BTreeMap::new(),
                delete: BTreeSet::new(),
            };
            match store.commit(&write) {
                Ok(()) => {
                    env.held = Some(mine);
                    return Ok(());
                }
                Err(StoreError::Conflict { found: Some(found), .. }) if attempt == 0 => {
                    let held = serde_json::from_str::<LockHolder>(&found).ok();
                    let who = held.as_ref().map_or_else(|| "an unknown holder".to_string(), LockHolder::describe);
                    let ttl = self.lock_ttl.as_secs();
                    let expired = held.as_ref().is_some_and(|h| holder.since.0.saturating_sub(h.since.0) > ttl);
                    let dead = held.as_ref().is_some_and(LockHolder::is_dead);
                    if break_lock || expired || dead {
                        self.took_over = true;
                        if !break_lock {
                            let why = if dead { "its process is gone" } else { "it is older than --lock-ttl" };
                            eprintln!("warning: taking over the stale lock of {key} held by {who}: {why}");
                        }
                        expect = Some(found);
                        continue;
                    }
                    bail!(
                        "{key} is locked in {endpoint} by {who}; wait for that change to finish, or if it died, run \
                         again with --break-lock"
                    )
                }
                Err(e) => return Err(anyhow!("{key}: {e}")),
            }
        }
        bail!("{key}: could not take its lock in {endpoint}")
    }

    fn unlock(&mut self, key: &EnvKey) -> Result<()> {
        let Some(env) = self.stores.get_mut(key) else { return self.inner.unlock(key) };
        if let Some(held) = env.held.take() {
            env.store()?.delete_if(&own_key(key, "lock"), &held).map_err(|e| anyhow!("{key}: {e}"))?;
        }
        Ok(())
    }

    fn load_world(&mut self) -> Result<World> {
        let world = self.inner.load_world()?;
        self.with_stored_states(world)
    }

    fn load_world_for_commit(&mut self) -> Result<World> {
        let world = self.inner.load_world_for_commit()?;
        self.with_stored_states(world)
    }

    fn answered_from_memory(&self) -> bool {
        self.inner.answered_from_memory()
    }

    fn took_over(&self) -> bool {
        self.took_over || self.inner.took_over()
    }

    fn commits_atomically(&self) -> bool {
        self.inner.commits_atomically()
    }

    fn commit_atomically(
        &mut self,
        holder: &LockHolder,
        outcome: &Outcome,
        out: &mut dyn std::io::Write,
    ) -> Result<Option<EnvState>> {
        // An environment in a store takes the lock path: its writes are guarded by the lock.
        if self.stores.contains_key(&EnvKey::new(&outcome.state.app, &outcome.state.env)) {
            return Ok(None);
        }
        self.inner.commit_atomically(holder, outcome, out)
    }

    fn forget(&mut self) {
        self.inner.forget();
    }

    fn step(
        &mut self,
        step: &Step,
        state: &mut EnvState,
        now: Timestamp,
        out: &mut dyn std::io::Write,
    ) -> Result<Option<String>> {
        let key = EnvKey::new(&state.app, &state.env);
        let Some(env) = self.stores.get_mut(&key) else { return self.inner.step(step, state, now, out) };
        match step {
            Step::WriteConfig { config, .. } => {
                self.inner.ship_now()?;
                let wanted = kv::pairs(&env.root, config).map_err(|e| anyhow!("{key}: {e}"))?;
                let current = Routed::current_routes(&key, env)?;
                let (mut put, delete) = switchyard_store::changes(&current, &wanted);
                let (root, marker) = kv::root_marker(&env.root);
                put.insert(root, marker);
                let names: BTreeSet<&String> = wanted.keys().collect();
                put.insert(own_key(&key, "routes"), serde_json::to_string(&names)?);
                let (puts, deleted) = (put.len(), delete.len());
                Routed::write(&key, env, put, delete)?;
                Ok(Some(format!("wrote {} ({puts} keys put, {deleted} deleted, one transaction)", env.endpoint)))
            }
            Step::SaveState { .. } => {
                self.inner.ship_now()?;
                let mut text = serde_json::to_string_pretty(state)?;
                text.push('\n');
                Routed::write(&key, env, BTreeMap::from([(own_key(&key, "state"), text)]), BTreeSet::new())?;
                Ok(None)
            }
            _ => self.inner.step(step, state, now, out),
        }
    }

    fn flush(&mut self) -> Result<()> {
        self.inner.flush()
    }

    fn runtime_view(&mut self, state: &EnvState) -> Result<Vec<String>> {
        self.inner.runtime_view(state)
    }

    fn traefik(&mut self) -> Result<Option<TraefikView>> {
        self.inner.traefik()
    }

    fn metrics(&mut self) -> Result<String> {
        self.inner.metrics()
    }

    fn host_view(&mut self, key: &EnvKey, config_file: &str) -> Result<HostView> {
        let Some(env) = self.env(key) else { return self.inner.host_view(key, config_file) };
        let keys = Routed::current_routes(key, env)?;
        let (endpoint, root) = (env.endpoint.to_string(), env.root.clone());
        let lock = env.store()?.get(&own_key(key, "lock")).map_err(|e| anyhow!("{e}"))?;
        Ok(HostView {
            config: None,
            lock: lock.and_then(|l| serde_json::from_str(&l).ok()),
            journal: false,
            store: Some(StoreView { endpoint, root, keys }),
        })
    }

    fn provider_files(&mut self) -> Result<Vec<(String, String)>> {
        self.inner.provider_files()
    }

    fn provider_dir(&self) -> String {
        self.inner.provider_dir()
    }

    fn ship(&mut self, shipment: Shipment) {
        self.inner.ship(shipment);
    }

    fn ship_now(&mut self) -> Result<()> {
        self.inner.ship_now()
    }
}
