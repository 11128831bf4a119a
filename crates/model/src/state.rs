//! The observed and decided state of one app in one environment: deployed versions, the two slots, which
//! one is live, the traffic split, a revision and a bounded history. Time only enters as data.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::rollout::Progress;
use crate::time::Timestamp;

/// The state file format version.
pub const STATE_FORMAT: u32 = 1;
/// How many changes the state keeps (the full audit log lives with the executor).
pub const HISTORY_LEN: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Slot {
    Blue,
    Green,
}

impl Slot {
    pub const BOTH: [Slot; 2] = [Slot::Blue, Slot::Green];
    pub fn other(self) -> Slot {
        match self {
            Slot::Blue => Slot::Green,
            Slot::Green => Slot::Blue,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Slot::Blue => "blue",
            Slot::Green => "green",
        }
    }
}

impl fmt::Display for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    #[default]
    Unknown,
    Healthy,
    Unhealthy,
}

impl fmt::Display for HealthStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HealthStatus::Unknown => "unknown",
            HealthStatus::Healthy => "healthy",
            HealthStatus::Unhealthy => "unhealthy",
        })
    }
}

/// The last health observation of a version, as reported by an executor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthObservation {
    pub status: HealthStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_at: Option<Timestamp>,
}

/// Where a routed compose service of a version is reached by Traefik (fixed when the version is deployed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    /// `http://whoami-dev-v1-2-0-web-1:80`
    pub url: String,
}

/// One deployed version: its own compose stack on its own network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deployment {
    /// As the user named it (`v1.2.0`).
    pub version: String,
    /// The version as one DNS label (`v1-2-0`).
    pub slug: String,
    /// The compose project name, also the network's name (`whoami-dev-v1-2-0`).
    pub stack: String,
    pub deployed_at: Timestamp,
    /// Per routed compose service.
    pub endpoints: BTreeMap<String, Endpoint>,
    #[serde(default)]
    pub health: HealthObservation,
}

/// A share of production traffic on the candidate slot while a promotion is under way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Split {
    pub slot: Slot,
    /// Percent of production traffic, 1 to 99; the live slot takes the rest.
    pub share: u8,
}

/// One change, as kept in the state's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryEntry {
    pub revision: u64,
    pub at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// What was done, in words (`promote v1.3.0 into green at 10%`).
    pub summary: String,
    /// Production traffic before and after, e.g. `blue v1.2.0 100%`.
    pub before: String,
    pub after: String,
}

/// The state of one app in one environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvState {
    pub format: u32,
    pub app: String,
    pub env: String,
    /// Increases by one with every change.
    pub revision: u64,
    /// In the order they were deployed.
    #[serde(default)]
    pub deployments: Vec<Deployment>,
    /// The version each slot holds.
    #[serde(default)]
    pub slots: BTreeMap<Slot, String>,
    /// The slot that takes production traffic; None until the first promotion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live: Option<Slot>,
    /// A promotion under way: the other slot takes this share.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<Split>,
    #[serde(default)]
    pub history: Vec<HistoryEntry>,
    /// A rollout under way: the promotion's share raised in steps, each watched before the next.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout: Option<Progress>,
}

impl EnvState {
    pub fn new(app: &str, env: &str) -> Self {
        EnvState {
            format: STATE_FORMAT,
            app: app.into(),
            env: env.into(),
            revision: 0,
            deployments: Vec::new(),
            slots: BTreeMap::new(),
            live: None,
            split: None,
            history: Vec::new(),
            rollout: None,
        }
    }

    pub fn deployment(&self, version: &str) -> Option<&Deployment> {
        self.deployments.iter().find(|d| d.version == version)
    }

    pub fn deployment_mut(&mut self, version: &str) -> Option<&mut Deployment> {
        self.deployments.iter_mut().find(|d| d.version == version)
    }

    /// Records an executor's health observation; false when the version is not deployed.
    pub fn record_health(&mut self, version: &str, status: HealthStatus, at: Timestamp) -> bool {
        match self.deployment_mut(version) {
            Some(d) => {
                d.health = HealthObservation { status, observed_at: Some(at) };
                true
            }
            None => false,
        }
    }

    /// The version a slot holds, with its deployment.
    pub fn slot_deployment(&self, slot: Slot) -> Option<&Deployment> {
        self.slots.get(&slot).and_then(|v| self.deployment(v))
    }

    /// The slot holding `version`, if any.
    pub fn slot_of(&self, version: &str) -> Option<Slot> {
        Slot::BOTH.into_iter().find(|s| self.slots.get(s).is_some_and(|v| v == version))
    }

    /// Production traffic as (slot, version, percent), live first; empty when nothing is live.
    pub fn traffic(&self) -> Vec<(Slot, &str, u8)> {
        let Some(live) = self.live else { return Vec::new() };
        let Some(live_version) = self.slots.get(&live) else { return Vec::new() };
        match self.split {
            Some(split) => match self.slots.get(&split.slot) {
                Some(v) => {
                    vec![(live, live_version.as_str(), 100 - split.share), (split.slot, v.as_str(), split.share)]
                }
                None => vec![(live, live_version.as_str(), 100)],
            },
            None => vec![(live, live_version.as_str(), 100)],
        }
    }

    /// The traffic as words, for history and status: `blue v1.2.0 90%, green v1.3.0 10%`.
    pub fn traffic_summary(&self) -> String {
        let t = self.traffic();
        if t.is_empty() {
            return "nothing live".into();
        }
        t.iter().map(|(s, v, p)| format!("{s} {v} {p}%")).collect::<Vec<_>>().join(", ")
    }
}

/// Identifies an environment state: app and environment names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct EnvKey {
    pub app: String,
    pub env: String,
}

impl EnvKey {
    pub fn new(app: &str, env: &str) -> Self {
        EnvKey { app: app.into(), env: env.into() }
    }
}

impl fmt::Display for EnvKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.app, self.env)
    }
}

/// Every environment's state, as the model sees the whole installation.
pub type World = BTreeMap<EnvKey, EnvState>;
