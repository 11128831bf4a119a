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
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow, bail};
use switchyard_model::directory::Shipment;
use switchyard_model::naming;
use switchyard_model::plan::Step;
use switchyard_model::state::STATE_FORMAT;
use switchyard_model::{EnvKey, EnvState, Outcome, Timestamp, ValidSpec, World};
use switchyard_store::{Credentials, Guard, Store, StoreError, Write, connect};
use switchyard_traefik::kv::{self, Endpoint};

use crate::backend::{Backend, HostView, StoreView, TraefikView};
use crate::store::LockHolder;
use crate::traefik_api::ApiUrl;

/// The store of one environment, connected on first use.
struct EnvStore {
    endpoint: Endpoint,
    root: String,
    store: Option<Box<dyn Store>>,
    /// The lock this process holds on the environment, as written (the guard of every write).
    held: Option<String>,
    /// The API of every Traefik of the fleet (`routing.instances`).
    instances: Vec<ApiUrl>,
    /// The configuration writes of this change so far, and the marker and time of the last.
    writes: u32,
    last_write: Option<(String, Instant)>,
    /// The state as last read for a change that commits in one transaction (None: there was none).
    basis: Option<Option<String>>,
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
                    let instances = routing
                        .instances
                        .iter()
                        .map(|url| ApiUrl::parse(url))
                        .collect::<Result<Vec<_>>>()
                        .with_context(|| format!("{app_name}/{env_name}: routing.instances"))?;
                    let entry = EnvStore {
                        endpoint,
                        root: routing.root_key.clone(),
                        store: None,
                        held: None,
                        instances,
                        writes: 0,
                        last_write: None,
                        basis: None,
                    };
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
        match env.store()?.commit(&Write { guard, absent: BTreeSet::new(), put, delete }) {
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
            let text = env.store()?.get(&own_key(key, "state")).map_err(|e| anyhow!("{e}"))?;
            env.basis = Some(text.clone());
            let Some(text) = text else { continue };
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

    /// What writing `config` changes in the store: the keys to put (Traefik's, the revision marker's, the root
    /// key, the list of the environment's keys), those to delete, and the marker.
    fn routes_write(
        key: &EnvKey,
        env: &mut EnvStore,
        config: &switchyard_model::traefik::RenderedConfig,
        revision: u64,
    ) -> Result<(BTreeMap<String, String>, BTreeSet<String>, String)> {
        let mut wanted = kv::pairs(&env.root, config).map_err(|e| anyhow!("{key}: {e}"))?;
        env.writes += 1;
        let marker = format!("{revision}.{}", env.writes);
        wanted.extend(kv::pairs(&env.root, &marker_config(key, &marker)).map_err(|e| anyhow!("{key}: {e}"))?);
        let current = Routed::current_routes(key, env)?;
        let (mut put, delete) = switchyard_store::changes(&current, &wanted);
        let (root, root_value) = kv::root_marker(&env.root);
        put.insert(root, root_value);
        let names: BTreeSet<&String> = wanted.keys().collect();
        put.insert(own_key(key, "routes"), serde_json::to_string(&names)?);
        Ok((put, delete, marker))
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
                absent: BTreeSet::new(),
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

    fn commits_atomically(&self, key: &EnvKey) -> bool {
        self.stores.contains_key(key) || self.inner.commits_atomically(key)
    }

    /// A routing-only change of an environment in a store is one transaction: its configuration, its state and
    /// the revision marker, written only while the state is the one the change was planned on and nobody holds
    /// the lock. Nothing to lock or unlock; a change planned on an old state is refused and planned again.
    fn commit_atomically(
        &mut self,
        holder: &LockHolder,
        outcome: &Outcome,
        out: &mut dyn std::io::Write,
    ) -> Result<Option<EnvState>> {
        let key = EnvKey::new(&outcome.state.app, &outcome.state.env);
        let Some(env) = self.stores.get_mut(&key) else { return self.inner.commit_atomically(holder, outcome, out) };
        let Some(basis) = env.basis.take() else { return Ok(None) };
        let config = outcome.plan.steps.iter().rev().find_map(|step| match step {
            Step::WriteConfig { config, .. } => Some(config),
            _ => None,
        });
        self.inner.ship_now()?;
        let mut text = serde_json::to_string_pretty(&outcome.state)?;
        text.push('\n');
        let mut put = BTreeMap::new();
        let mut delete = BTreeSet::new();
        let mut marker = None;
        if let Some(config) = config {
            let (routes, gone, written) = Routed::routes_write(&key, env, config, outcome.state.revision)?;
            put.extend(routes);
            delete = gone;
            marker = Some(written);
        }
        let guard = Guard { key: own_key(&key, "state"), expect: basis, set: text };
        let write = Write { guard, absent: BTreeSet::from([own_key(&key, "lock")]), put, delete };
        let endpoint = env.endpoint.to_string();
        writeln!(out, "[1/1] write the routing and the state to {endpoint} in one transaction")?;
        match env.store()?.commit(&write) {
            Ok(()) => {}
            Err(StoreError::Conflict { .. }) => return Ok(None),
            Err(e) => return Err(anyhow!("{key}: {e}")),
        }
        writeln!(out, "      wrote {endpoint} ({} keys put, {} deleted)", write.put.len() + 1, write.delete.len())?;
        if let Some(marker) = marker
            && !env.instances.is_empty()
        {
            writeln!(out, "      {}", wait_for_instances(&key, env, &marker, Instant::now()))?;
        }
        Ok(Some(outcome.state.clone()))
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
                let (put, delete, marker) = Routed::routes_write(&key, env, config, state.revision)?;
                let (puts, deleted) = (put.len(), delete.len());
                Routed::write(&key, env, put, delete)?;
                env.last_write = Some((marker, Instant::now()));
                Ok(Some(format!("wrote {} ({puts} keys put, {deleted} deleted, one transaction)", env.endpoint)))
            }
            Step::SaveState { .. } => {
                self.inner.ship_now()?;
                let mut text = serde_json::to_string_pretty(state)?;
                text.push('\n');
                Routed::write(&key, env, BTreeMap::from([(own_key(&key, "state"), text)]), BTreeSet::new())?;
                // The change is recorded; now every instance of the fleet should serve its last write.
                Ok(match env.last_write.take() {
                    Some((marker, written)) if !env.instances.is_empty() => {
                        Some(wait_for_instances(&key, env, &marker, written))
                    }
                    _ => None,
                })
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
        let mut keys = Routed::current_routes(key, env)?;
        let (endpoint, root) = (env.endpoint.to_string(), env.root.clone());
        let marker_prefix = format!("{root}/http/middlewares/{}/", naming::revision_marker(&key.app, &key.env));
        let marker_keys: Vec<String> = keys.keys().filter(|k| k.starts_with(&marker_prefix)).cloned().collect();
        let marker = marker_keys.iter().filter_map(|k| keys.remove(k)).next_back();
        let provider = env.endpoint.kind.name();
        let instances = env
            .instances
            .iter()
            .map(|api| (api.base(), served_marker(api, key, provider).map_err(|e| format!("{e:#}"))))
            .collect();
        let lock = env.store()?.get(&own_key(key, "lock")).map_err(|e| anyhow!("{e}"))?;
        Ok(HostView {
            config: None,
            lock: lock.and_then(|l| serde_json::from_str(&l).ok()),
            journal: false,
            store: Some(StoreView { endpoint, root, keys, marker, instances }),
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

/// How long the fleet is given to serve a change before switchyard says which instances lag.
const CONVERGENCE_PATIENCE: Duration = Duration::from_secs(30);

/// The configuration of the revision marker of `key` (see `naming::revision_marker`), with `marker` as its value.
fn marker_config(key: &EnvKey, marker: &str) -> serde_json::Value {
    let name = naming::revision_marker(&key.app, &key.env);
    serde_json::json!({"http": {"middlewares": {name: {"headers": {"customResponseHeaders": {REVISION_HEADER: marker}}}}}})
}

/// The header of the revision marker.
const REVISION_HEADER: &str = "X-Switchyard-Revision";

/// The marker `api`'s Traefik serves for `key` from the store of kind `provider`: None while it serves none.
pub(crate) fn served_marker(api: &ApiUrl, key: &EnvKey, provider: &str) -> Result<Option<String>> {
    let name = format!("{}@{provider}", naming::revision_marker(&key.app, &key.env));
    Ok(api
        .middleware(&name)?
        .and_then(|m| m["headers"]["customResponseHeaders"][REVISION_HEADER].as_str().map(str::to_string)))
}

/// Waits until every instance serves `marker`, at most [`CONVERGENCE_PATIENCE`] after `written`; says when each
/// did, or which lag and what they serve.
fn wait_for_instances(key: &EnvKey, env: &EnvStore, marker: &str, written: Instant) -> String {
    let provider = env.endpoint.kind.name();
    let mut served: Vec<Option<Duration>> = vec![None; env.instances.len()];
    let mut last: Vec<String> = vec![String::new(); env.instances.len()];
    while served.iter().any(Option::is_none) && written.elapsed() < CONVERGENCE_PATIENCE {
        for (i, api) in env.instances.iter().enumerate() {
            if served[i].is_some() {
                continue;
            }
            match served_marker(api, key, provider) {
                Ok(Some(m)) if m == marker => served[i] = Some(written.elapsed()),
                Ok(Some(m)) => last[i] = format!("still serves {m}"),
                Ok(None) => last[i] = "serves none of this environment's writes".into(),
                Err(e) => last[i] = format!("does not answer: {e:#}"),
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let ms = |d: Duration| format!("{:.0} ms", d.as_secs_f64() * 1000.0);
    let lagging: Vec<String> = env
        .instances
        .iter()
        .zip(&served)
        .zip(&last)
        .filter(|((_, s), _)| s.is_none())
        .map(|((api, _), why)| format!("{} {why}", api.base()))
        .collect();
    if lagging.is_empty() {
        let (slowest, time) = env
            .instances
            .iter()
            .zip(&served)
            .filter_map(|(api, s)| s.map(|s| (api.base(), s)))
            .max_by_key(|(_, s)| *s)
            .unwrap_or_default();
        format!(
            "every instance serves it ({} of {}): the slowest, {slowest}, {} after the write",
            env.instances.len(),
            env.instances.len(),
            ms(time)
        )
    } else {
        format!(
            "WARNING: {} of {} instances do not serve it {} after the write (the change is recorded; they follow \
             once they read {}): {}",
            lagging.len(),
            env.instances.len(),
            ms(CONVERGENCE_PATIENCE),
            env.endpoint,
            lagging.join("; ")
        )
    }
}
