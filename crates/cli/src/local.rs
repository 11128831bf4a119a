//! The local backend: state files and Traefik's dynamic directory on this machine. It writes Traefik's
//! configuration and the state; it runs no containers (that is the Docker backend's job), so it reports
//! those steps as skipped, and it gates traffic on the health recorded in the state (`switchyard observe`).

use std::io::Write;

use anyhow::{Context as _, Result, anyhow, bail};
use switchyard_model::directory::{SHIPPED_LIST, Shipment};
use switchyard_model::naming;
use switchyard_model::plan::Step;
use switchyard_model::render::to_yaml;
use switchyard_model::state::HealthStatus;
use switchyard_model::{EnvKey, EnvState, Timestamp, World};

use crate::backend::{Backend, HostView, TraefikView};
use crate::fsio::{read_provider_dir, write_atomic};
use crate::store::{Lock, LockHolder, Store};
use crate::traefik_api::ApiUrl;

pub(crate) struct LocalBackend {
    pub(crate) store: Store,
    lock: Option<Lock>,
    /// The user's files the change ships ([`Backend::ship`]).
    shipment: Shipment,
    /// Its writes are done.
    shipped_writes: bool,
    /// Where the user's Traefik answers its API (`status --traefik-api`).
    traefik_api: Option<ApiUrl>,
}

impl LocalBackend {
    pub(crate) fn new(store: Store) -> Self {
        LocalBackend { store, lock: None, shipment: Shipment::default(), shipped_writes: true, traefik_api: None }
    }

    /// Writes the shipment's files, once: before the first configuration or state of the change (definitions
    /// before references), each atomically.
    fn ship_writes(&mut self) -> Result<()> {
        if std::mem::replace(&mut self.shipped_writes, true) {
            return Ok(());
        }
        for (name, text) in &self.shipment.writes {
            write_atomic(&self.store.config_path(name)?, text.as_bytes())?;
        }
        Ok(())
    }

    /// Removes what the shipment removes and writes the list of shipped files: with the state, once nothing
    /// the change writes refers to them.
    fn ship_rest(&mut self) -> Result<()> {
        let shipment = std::mem::take(&mut self.shipment);
        for name in &shipment.removals {
            let path = if name == SHIPPED_LIST { self.shipped_list() } else { self.store.config_path(name)? };
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e).with_context(|| format!("could not remove {}", path.display())),
            }
        }
        if let Some(list) = &shipment.list {
            write_atomic(&self.shipped_list(), list.as_bytes())?;
        }
        Ok(())
    }

    fn shipped_list(&self) -> std::path::PathBuf {
        self.store.dynamic_dir.join(SHIPPED_LIST)
    }

    /// The same, asking the Traefik whose API answers at `api`.
    pub(crate) fn with_traefik_api(mut self, api: ApiUrl) -> Self {
        self.traefik_api = Some(api);
        self
    }
}

impl Backend for LocalBackend {
    fn lock(&mut self, key: &EnvKey, holder: &LockHolder, break_lock: bool) -> Result<()> {
        self.lock = Some(self.store.lock(key, holder, break_lock)?);
        Ok(())
    }

    fn unlock(&mut self, _key: &EnvKey) -> Result<()> {
        self.lock = None;
        Ok(())
    }

    fn host_view(&mut self, key: &EnvKey, config_file: &str) -> Result<HostView> {
        let config = std::fs::read_to_string(self.store.config_path(config_file)?).ok();
        let lock = std::fs::read_to_string(
            self.store.state_dir.join(format!("{}.lock", naming::env_stem(&key.app, &key.env))),
        )
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok());
        Ok(HostView { config, lock, journal: false, store: None })
    }

    fn load_world(&mut self) -> Result<World> {
        self.store.load_world()
    }

    fn provider_files(&mut self) -> Result<Vec<(String, String)>> {
        read_provider_dir(&self.store.dynamic_dir)
    }

    fn provider_dir(&self) -> String {
        self.store.dynamic_dir.display().to_string()
    }

    fn ship(&mut self, shipment: Shipment) {
        self.shipped_writes = shipment.writes.is_empty();
        self.shipment = shipment;
    }

    fn ship_now(&mut self) -> Result<()> {
        self.ship_writes()?;
        self.ship_rest()
    }

    fn traefik(&mut self) -> Result<Option<TraefikView>> {
        let Some(api) = &self.traefik_api else { return Ok(None) };
        // The user's Traefik and its log are the user's: only its API is asked.
        Ok(Some(TraefikView { source: api.rawdata_url(), rawdata: api.rawdata()?, provider_failure: None }))
    }

    fn metrics(&mut self) -> Result<String> {
        match &self.traefik_api {
            Some(api) => api.metrics(),
            None => anyhow::bail!(
                "a rollout reads Traefik's metrics: give your Traefik's API with --traefik-api URL (or \
                 $SWITCHYARD_TRAEFIK_API), with --metrics.prometheus on its entry point"
            ),
        }
    }

    fn step(
        &mut self,
        step: &Step,
        state: &mut EnvState,
        _now: Timestamp,
        _out: &mut dyn Write,
    ) -> Result<Option<String>> {
        Ok(match step {
            Step::WriteConfig { file, config, .. } => {
                self.ship_writes()?;
                let path = self.store.config_path(file)?;
                write_atomic(&path, to_yaml(config)?.as_bytes())?;
                Some(format!("wrote {}", path.display()))
            }
            Step::SaveState { .. } => {
                self.ship_writes()?;
                self.ship_rest()?;
                self.store.save_state(state)?;
                None
            }
            Step::WaitHealthy { version, .. } => {
                let d = state.deployment(version).ok_or_else(|| anyhow!("{version} is not deployed"))?;
                match d.health.status {
                    HealthStatus::Healthy => Some(format!(
                        "{version} was observed healthy at {}",
                        d.health.observed_at.map(|t| t.to_string()).unwrap_or_else(|| "an unknown time".into())
                    )),
                    status => bail!(
                        "{version} is {status}, so traffic stays where it is. The local backend runs no containers: \
                         once {version} passes its health check, record it with `switchyard observe {version} healthy` \
                         and run this command again"
                    ),
                }
            }
            Step::CreateStack { .. }
            | Step::ConnectProxy { .. }
            | Step::DisconnectProxy { .. }
            | Step::RemoveStack { .. } => Some("skipped: the local backend runs no containers (use --docker)".into()),
            other => bail!("the local backend cannot carry out: {other}"),
        })
    }
}
