//! Plans: the ordered actions an executor carries out for a transition. The model decides; executors (the
//! local directory one, the Docker one) only do what a plan says and report observations back.

use std::fmt;

use serde::Serialize;

use crate::traefik::RenderedConfig;

/// One probe an executor runs to decide that a version is healthy: the routed service's URL and the health
/// check path, the same check Traefik will run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Probe {
    pub service: String,
    pub url: String,
    pub path: String,
    pub timeout_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Step {
    /// Create and start the version's compose stack on its own network.
    CreateStack {
        stack: String,
        network: String,
        version: String,
        /// The compose file, relative to the spec.
        compose: String,
        /// The routed compose services.
        services: Vec<String>,
        /// What `${...}` in the compose file may use: `SWITCHYARD_VERSION`, `SWITCHYARD_STACK`, hosts.
        variables: std::collections::BTreeMap<String, String>,
    },
    /// Connect the Traefik container to a stack's network (apps never share a network).
    ConnectProxy {
        network: String,
    },
    /// Write the environment's file into Traefik's dynamic directory, atomically.
    WriteConfig {
        file: String,
        reason: String,
        config: RenderedConfig,
    },
    /// Block until every probe passes; on timeout the executor stops and undoes, traffic unchanged.
    WaitHealthy {
        version: String,
        stack: String,
        probes: Vec<Probe>,
    },
    DisconnectProxy {
        network: String,
    },
    /// Stop and remove the stack's containers and its network.
    RemoveStack {
        stack: String,
        network: String,
    },
    /// Record the new state; the commit point of the change.
    SaveState {
        revision: u64,
    },
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::CreateStack { stack, version, services, .. } => {
                write!(f, "create stack {stack} for {version} on its own network ({})", services.join(", "))
            }
            Step::ConnectProxy { network } => write!(f, "connect Traefik to network {network}"),
            Step::WriteConfig { file, reason, .. } => write!(f, "write {file}: {reason}"),
            Step::WaitHealthy { version, probes, .. } => {
                let list: Vec<String> = probes.iter().map(|p| format!("{}{}", p.url, p.path)).collect();
                write!(f, "wait until {version} is healthy ({})", list.join(", "))
            }
            Step::DisconnectProxy { network } => write!(f, "disconnect Traefik from network {network}"),
            Step::RemoveStack { stack, .. } => write!(f, "remove stack {stack} and its network"),
            Step::SaveState { revision } => write!(f, "save state at revision {revision}"),
        }
    }
}

/// The ordered steps of a change. Empty when nothing needs doing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub steps: Vec<Step>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.steps.is_empty() {
            return writeln!(f, "nothing to do");
        }
        for (i, step) in self.steps.iter().enumerate() {
            writeln!(f, "{:>2}. {step}", i + 1)?;
        }
        Ok(())
    }
}
