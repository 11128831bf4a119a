//! The local backend: state files and Traefik's dynamic directory on this machine. It writes Traefik's
//! configuration and the state; it runs no containers (that is the Docker backend's job), so it reports
//! those steps as skipped, and it gates traffic on the health recorded in the state (`switchyard observe`).

use std::io::Write;

use anyhow::{Result, anyhow, bail};
use switchyard_model::plan::Step;
use switchyard_model::render::to_yaml;
use switchyard_model::state::HealthStatus;
use switchyard_model::{EnvKey, EnvState, Timestamp, World};

use crate::backend::{Backend, HostView, TraefikView};
use crate::fsio::write_atomic;
use crate::store::{Lock, LockHolder, Store};
use crate::traefik_api::ApiUrl;

pub(crate) struct LocalBackend {
    pub(crate) store: Store,
    lock: Option<Lock>,
    /// Where the user's Traefik answers its API (`status --traefik-api`).
    traefik_api: Option<ApiUrl>,
}

impl LocalBackend {
    pub(crate) fn new(store: Store) -> Self {
        LocalBackend { store, lock: None, traefik_api: None }
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
        let lock = std::fs::read_to_string(self.store.state_dir.join(format!("{}_{}.lock", key.app, key.env)))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok());
        Ok(HostView { config, lock, journal: false })
    }

    fn load_world(&mut self) -> Result<World> {
        self.store.load_world()
    }

    fn traefik(&mut self) -> Result<Option<TraefikView>> {
        let Some(api) = &self.traefik_api else { return Ok(None) };
        // The user's Traefik and its log are the user's: only its API is asked.
        Ok(Some(TraefikView { source: api.rawdata_url(), rawdata: api.rawdata()?, provider_failure: None }))
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
                let path = self.store.config_path(file)?;
                write_atomic(&path, to_yaml(config)?.as_bytes())?;
                Some(format!("wrote {}", path.display()))
            }
            Step::SaveState { .. } => {
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
