//! Text views shared by every adapter: unified diffs of configurations.

use similar::TextDiff;

/// A unified diff of two texts; empty when they are equal.
pub fn unified_diff(old: &str, new: &str, old_name: &str, new_name: &str) -> String {
    if old == new {
        return String::new();
    }
    TextDiff::from_lines(old, new).unified_diff().context_radius(3).header(old_name, new_name).to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn diffs_show_changed_lines_only() {
        let d = super::unified_diff("a\nb\nc\n", "a\nB\nc\n", "old", "new");
        assert!(d.contains("-b\n") && d.contains("+B\n") && d.starts_with("--- old\n+++ new\n"), "{d}");
        assert_eq!(super::unified_diff("x\n", "x\n", "o", "n"), "");
    }
}

use serde::Serialize;

use crate::hosts::{HostFor, route_host};
use crate::render::RenderError;
use crate::spec::ValidSpec;
use crate::state::{EnvState, HealthStatus, Slot};
use crate::time::Timestamp;

/// What `status` shows for one environment: the same data for the terminal, JSON and the playground.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvStatus {
    pub app: String,
    pub env: String,
    pub revision: u64,
    pub live: Option<Slot>,
    /// Production traffic: slot, version, percent.
    pub traffic: Vec<TrafficShare>,
    /// The production URLs, once something is live.
    pub production_urls: Vec<String>,
    pub slots: Vec<SlotStatus>,
    pub versions: Vec<VersionStatus>,
    pub last_change: Option<crate::state::Change>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrafficShare {
    pub slot: Slot,
    pub version: String,
    pub percent: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SlotStatus {
    pub slot: Slot,
    pub version: Option<String>,
    pub urls: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionStatus {
    pub version: String,
    pub stack: String,
    pub deployed_at: Timestamp,
    pub health: HealthStatus,
    pub slot: Option<Slot>,
    pub preview_urls: Vec<String>,
}

/// The status of an environment, with its URLs.
pub fn status(spec: &ValidSpec, state: &EnvState) -> Result<EnvStatus, RenderError> {
    let (app_name, env_name) = (state.app.as_str(), state.env.as_str());
    let unknown = || {
        RenderError::Host(crate::hosts::HostError::UnknownEnvironment { app: app_name.into(), env: env_name.into() })
    };
    let app = spec.spec.apps.get(app_name).ok_or_else(unknown)?;
    let environment = app.environments.get(env_name).ok_or_else(unknown)?;
    let scheme = if environment.tls.is_some() { "https" } else { "http" };
    let urls = |what: HostFor<'_>| -> Result<Vec<String>, RenderError> {
        let base = spec.hosts.base_host(app_name, env_name, what)?;
        Ok(app
            .routes
            .values()
            .map(|r| format!("{scheme}://{}{}", route_host(&base, r), r.path_prefix.as_deref().unwrap_or("/")))
            .collect())
    };
    let traffic: Vec<TrafficShare> = state
        .traffic()
        .into_iter()
        .map(|(slot, version, percent)| TrafficShare { slot, version: version.into(), percent })
        .collect();
    let production_urls = if traffic.is_empty() { Vec::new() } else { urls(HostFor::Production)? };
    let mut slots = Vec::new();
    for slot in Slot::BOTH {
        let version = state.slots.get(&slot).cloned();
        let slot_urls = if version.is_some() { urls(HostFor::Slot(slot))? } else { Vec::new() };
        slots.push(SlotStatus { slot, version, urls: slot_urls });
    }
    let mut versions = Vec::new();
    for d in &state.deployments {
        versions.push(VersionStatus {
            version: d.version.clone(),
            stack: d.stack.clone(),
            deployed_at: d.deployed_at,
            health: d.health.status,
            slot: state.slot_of(&d.version),
            preview_urls: urls(HostFor::Preview(&d.slug))?,
        });
    }
    Ok(EnvStatus {
        app: app_name.into(),
        env: env_name.into(),
        revision: state.revision,
        live: state.live,
        traffic,
        production_urls,
        slots,
        versions,
        last_change: state.history.last().cloned(),
    })
}

impl std::fmt::Display for EnvStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{}/{} (revision {})", self.app, self.env, self.revision)?;
        if self.traffic.is_empty() {
            writeln!(f, "  production: nothing live")?;
        } else {
            let shares: Vec<String> =
                self.traffic.iter().map(|t| format!("{} {} {}%", t.slot, t.version, t.percent)).collect();
            writeln!(f, "  production: {}", shares.join(", "))?;
            for url in &self.production_urls {
                writeln!(f, "    {url}")?;
            }
        }
        for s in &self.slots {
            let live = if self.live == Some(s.slot) { " (live)" } else { "" };
            match &s.version {
                Some(v) => writeln!(f, "  {} slot{live}: {v}  {}", s.slot, s.urls.join("  "))?,
                None => writeln!(f, "  {} slot: empty", s.slot)?,
            }
        }
        if self.versions.is_empty() {
            writeln!(f, "  versions: none deployed")?;
        } else {
            writeln!(f, "  versions:")?;
            for v in &self.versions {
                let slot = v.slot.map(|s| format!(" [{s}]")).unwrap_or_default();
                writeln!(
                    f,
                    "    {}{slot}  {}  deployed {}  {}",
                    v.version,
                    v.health,
                    v.deployed_at,
                    v.preview_urls.join("  ")
                )?;
            }
        }
        if let Some(c) = &self.last_change {
            let by = c.actor.as_deref().map(|a| format!(" by {a}")).unwrap_or_default();
            writeln!(f, "  last change: #{} {}{by}: {} ({} -> {})", c.revision, c.at, c.summary, c.before, c.after)?;
        }
        Ok(())
    }
}

/// Which version (and slot) each version service of the rendered configuration stands for:
/// `whoami_dev_ver_v1-2-0_web` -> `whoami/dev v1.2.0 (web), blue slot`. For telling which version answers.
pub fn version_services(world: &crate::state::World) -> std::collections::BTreeMap<String, String> {
    let mut out = std::collections::BTreeMap::new();
    for state in world.values() {
        for d in &state.deployments {
            let slot = state.slot_of(&d.version).map(|s| format!(", {} slot", s.as_str())).unwrap_or_default();
            for service in d.endpoints.keys() {
                let name = crate::render::naming::version(&state.app, &state.env, &d.slug, service);
                out.insert(name, format!("{}/{} {} ({service}){slot}", state.app, state.env, d.version));
            }
        }
    }
    out
}
