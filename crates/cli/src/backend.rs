//! Where plans are carried out. A backend knows how to lock an environment, read every environment's
//! state and carry out one step; running a plan, showing progress and undoing a failed run is shared.

use std::io::Write;

use anyhow::Result;
use switchyard_model::directory::Shipment;
use switchyard_model::plan::Step;
use switchyard_model::{EnvKey, EnvState, Outcome, Timestamp, World};

use crate::store::LockHolder;

/// What [`Backend::host_view`] finds.
#[derive(Debug, Default)]
pub(crate) struct HostView {
    /// Traefik's file of the environment, if it exists.
    pub(crate) config: Option<String>,
    /// Who holds the environment's lock.
    pub(crate) lock: Option<LockHolder>,
    /// A change cut short after its commit point waits to be finished.
    pub(crate) journal: bool,
    /// For an environment whose routing lives in a store (then `config` is None): where, and its keys there.
    pub(crate) store: Option<StoreView>,
}

/// An environment's routing as its store holds it.
#[derive(Debug, Default)]
pub(crate) struct StoreView {
    /// The store, as the spec names it.
    pub(crate) endpoint: String,
    /// Traefik's root key there.
    pub(crate) root: String,
    /// The keys of Traefik's configuration the environment wrote, with their values (its revision marker aside).
    pub(crate) keys: std::collections::BTreeMap<String, String>,
    /// The revision marker of its last write (`naming::revision_marker`).
    pub(crate) marker: Option<String>,
    /// What each instance of the fleet serves of it (`routing.instances`): its API, and the marker it serves
    /// (None: none of the environment's writes), or why it could not be asked.
    pub(crate) instances: Vec<(String, Result<Option<String>, String>)>,
}

/// What [`Backend::traefik`] reads from the Traefik that serves the environments.
#[derive(Debug, Clone)]
pub(crate) struct TraefikView {
    /// Where it was asked, for people (`the proxy's API, 127.0.0.1:8080 in switchyard-traefik`).
    pub(crate) source: String,
    /// Traefik's `/api/rawdata` answer.
    pub(crate) rawdata: String,
    /// The line of Traefik's log saying its file provider did not start, if there is one.
    pub(crate) provider_failure: Option<String>,
}

pub(crate) trait Backend {
    /// Takes the environment's lock, or fails naming who holds it.
    fn lock(&mut self, key: &EnvKey, holder: &LockHolder, break_lock: bool) -> Result<()>;
    fn unlock(&mut self, key: &EnvKey) -> Result<()>;
    /// Every environment's state.
    fn load_world(&mut self) -> Result<World>;
    /// Every environment's state, for a change that [`Backend::commit_atomically`] will check again when it
    /// commits: a backend may answer from a cache.
    fn load_world_for_commit(&mut self) -> Result<World> {
        self.load_world()
    }
    /// True when the last [`Backend::load_world_for_commit`] answered from what this machine remembers rather
    /// than from the host: what was checked on it may be out of date, so a refusal must be confirmed on the host.
    fn answered_from_memory(&self) -> bool {
        false
    }
    /// True when [`Backend::lock`] took over a stale lock or broke one: a change cut short under it may have
    /// left Traefik's file ahead of the state.
    fn took_over(&self) -> bool {
        false
    }
    /// Forgets anything remembered between runs (after a failure, start from the truth).
    fn forget(&mut self) {}
    /// Carries out one step. `state` is the state the plan leads to; a step may record observations in it
    /// (a health check that passed) before `SaveState` writes it. Returns a note to show.
    fn step(
        &mut self,
        step: &Step,
        state: &mut EnvState,
        now: Timestamp,
        out: &mut dyn Write,
    ) -> Result<Option<String>>;
    /// True when [`Backend::commit_atomically`] can be tried for the environment `key`.
    fn commits_atomically(&self, _key: &EnvKey) -> bool {
        false
    }
    /// Carries out a routing-only change (configuration and state writes) in one atomic step: takes the lock,
    /// checks that the state is still the one `outcome` was planned on, writes, releases. None when it could
    /// not (locked by someone, or the state moved on): the caller then plans again under the lock.
    fn commit_atomically(
        &mut self,
        _holder: &LockHolder,
        _outcome: &Outcome,
        _out: &mut dyn Write,
    ) -> Result<Option<EnvState>> {
        Ok(None)
    }
    /// Carries out whatever `step` left queued (a backend may batch writes).
    fn flush(&mut self) -> Result<()> {
        Ok(())
    }
    /// What really runs for an environment, to show beside the intended state (nothing for a local directory).
    fn runtime_view(&mut self, _state: &EnvState) -> Result<Vec<String>> {
        Ok(Vec::new())
    }
    /// What Traefik serves, from its API; None when this backend does not know where Traefik's API is. An error
    /// when it cannot be asked (the proxy's API does not answer).
    fn traefik(&mut self) -> Result<Option<TraefikView>> {
        Ok(None)
    }
    /// Traefik's Prometheus metrics (its `/metrics` text), for a rollout's analysis.
    fn metrics(&mut self) -> Result<String> {
        anyhow::bail!("this backend does not know where Traefik's metrics are")
    }
    /// What is on the host for an environment beside its state: Traefik's file, the lock, an unfinished journal.
    fn host_view(&mut self, key: &EnvKey, config_file: &str) -> Result<HostView>;
    /// The files of Traefik's provider directory that its check reads (name relative to the directory, text),
    /// as the world was read: a backend reads them together with the states where it can.
    fn provider_files(&mut self) -> Result<Vec<(String, String)>>;
    /// Where Traefik's provider directory is, for messages.
    fn provider_dir(&self) -> String;
    /// Queues what a change ships of the user's files: the writes go in before the first configuration or
    /// state the change writes (in the same commit where the backend commits), the removals and the list of
    /// shipped files with the state. Replaces a shipment queued before.
    fn ship(&mut self, shipment: Shipment);
    /// Writes whatever of the queued shipment is not written yet, now: for a change that saves no state.
    fn ship_now(&mut self) -> Result<()>;
}

/// Runs the plan; on the first failing step runs the undo plan (best effort) and returns the failure.
pub(crate) fn run_plan(
    backend: &mut dyn Backend,
    outcome: &Outcome,
    now: Timestamp,
    out: &mut dyn Write,
) -> Result<EnvState> {
    let mut state = outcome.state.clone();
    let total = outcome.plan.steps.len();
    for (i, step) in outcome.plan.steps.iter().enumerate() {
        writeln!(out, "[{}/{total}] {step}", i + 1)?;
        match backend.step(step, &mut state, now, out) {
            Ok(Some(note)) => writeln!(out, "      {note}")?,
            Ok(None) => {}
            Err(err) => {
                writeln!(out, "      failed: {err:#}")?;
                let mut scratch = outcome.state.clone();
                let mut undo_failed = false;
                for undo in &outcome.undo.steps {
                    writeln!(out, "undo: {undo}")?;
                    if let Err(e) = backend.step(undo, &mut scratch, now, out) {
                        writeln!(out, "      undo failed: {e:#}")?;
                        undo_failed = true;
                    }
                }
                if let Err(e) = backend.flush() {
                    writeln!(out, "      undo failed: {e:#}")?;
                    undo_failed = true;
                }
                let what = if undo_failed {
                    "undoing it failed too (see above); nothing was recorded: run the command again once the \
                     host answers (any change of this environment rewrites Traefik's file from the recorded state)"
                } else {
                    "the change was undone"
                };
                return Err(err.context(format!("step {} of {total} failed; {what}", i + 1)));
            }
        }
    }
    backend.flush()?;
    Ok(state)
}
