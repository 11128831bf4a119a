//! The local executor: carries out a plan against the local store. It writes Traefik's configuration and
//! the state; it runs no containers (that is the Docker executor's job), so it reports those steps as
//! skipped, and it gates traffic on the health recorded in the state (`switchyard observe`).

use std::io::Write;

use anyhow::{Result, anyhow, bail};
use switchyard_model::plan::Step;
use switchyard_model::render::to_yaml;
use switchyard_model::state::HealthStatus;
use switchyard_model::{Outcome, Plan};

use crate::fsio::write_atomic;
use crate::store::Store;

pub(crate) struct LocalExecutor<'a> {
    pub(crate) store: &'a Store,
    pub(crate) out: &'a mut dyn Write,
}

impl LocalExecutor<'_> {
    /// Runs the plan; on the first failing step, runs the undo plan and returns the failure.
    pub(crate) fn run(&mut self, outcome: &Outcome) -> Result<()> {
        let total = outcome.plan.steps.len();
        for (i, step) in outcome.plan.steps.iter().enumerate() {
            writeln!(self.out, "[{}/{total}] {step}", i + 1)?;
            match self.step(step, outcome) {
                Ok(Some(note)) => writeln!(self.out, "      {note}")?,
                Ok(None) => {}
                Err(err) => {
                    writeln!(self.out, "      failed: {err:#}")?;
                    self.undo(&outcome.undo)?;
                    return Err(err.context(format!("step {} of {total} failed; nothing was changed", i + 1)));
                }
            }
        }
        Ok(())
    }

    fn undo(&mut self, undo: &Plan) -> Result<()> {
        for step in &undo.steps {
            if let Step::WriteConfig { file, config, .. } = step {
                writeln!(self.out, "undo: {step}")?;
                let path = self.store.config_path(file)?;
                write_atomic(&path, to_yaml(config)?.as_bytes())?;
            }
        }
        Ok(())
    }

    fn step(&mut self, step: &Step, outcome: &Outcome) -> Result<Option<String>> {
        Ok(match step {
            Step::WriteConfig { file, config, .. } => {
                let path = self.store.config_path(file)?;
                write_atomic(&path, to_yaml(config)?.as_bytes())?;
                Some(format!("wrote {}", path.display()))
            }
            Step::SaveState { .. } => {
                self.store.save_state(&outcome.state)?;
                None
            }
            Step::WaitHealthy { version, .. } => {
                let d = outcome.state.deployment(version).ok_or_else(|| anyhow!("{version} is not deployed"))?;
                match d.health.status {
                    HealthStatus::Healthy => Some(format!(
                        "{version} was observed healthy at {}",
                        d.health.observed_at.map(|t| t.to_string()).unwrap_or_else(|| "an unknown time".into())
                    )),
                    status => bail!(
                        "{version} is {status}, so traffic stays where it is. The local executor runs no containers: \
                         once {version} passes its health check, record it with `switchyard observe {version} healthy` \
                         and run this command again"
                    ),
                }
            }
            Step::CreateStack { .. }
            | Step::ConnectProxy { .. }
            | Step::DisconnectProxy { .. }
            | Step::RemoveStack { .. } => Some("skipped: the local executor runs no containers".into()),
            other => bail!("the local executor cannot carry out: {other}"),
        })
    }
}
