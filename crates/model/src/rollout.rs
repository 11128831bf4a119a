//! A progressive promotion: the candidate's share of production traffic raised in steps, each step watched
//! for a while (its window) through Traefik's metrics and judged by [`crate::analysis`], then a bake time at
//! 100 % watched the same way.
//!
//! [`Rollout`] is what the spec (an environment's `rollout`) or `promote`'s flags ask for; [`Progress`] is
//! where a rollout under way stands, kept in the environment's state so that an interrupted one (Ctrl-C,
//! kill -9, a reboot) is seen by `status` and taken on by `rollout resume`. Traffic only ever changes by one
//! whole transition (a step's share written at once), so an interruption leaves it at a completed step.

use std::collections::BTreeSet;
use std::fmt;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::analysis::{Figures, Thresholds};
use crate::naming;
use crate::state::EnvState;
use crate::time::{Duration, Timestamp};
use crate::valid_spec::ValidSpec;

/// How a rollout goes: its steps, how long each is watched, the bake time and the thresholds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Rollout {
    /// The candidate's shares of production traffic, in percent, rising, the last 100.
    #[serde(default = "default_steps")]
    pub steps: Vec<u8>,
    /// How long each step is watched before it can pass (e.g. `1m`).
    #[serde(default = "default_step_time")]
    pub step_time: Duration,
    /// How long the candidate is watched with all traffic before the rollout is done (`0s`: not at all).
    #[serde(default = "default_bake")]
    pub bake: Duration,
    /// The highest share of the candidate's answers that may be server errors (500 to 599), e.g. `1%`.
    #[serde(default = "default_max_error_rate")]
    pub max_error_rate: Percent,
    /// The highest 95th percentile latency the candidate may show (e.g. `300ms`); left out, not judged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_p95: Option<Duration>,
    /// The requests the candidate must have answered in a step before the step can pass.
    #[serde(default = "default_min_requests")]
    pub min_requests: u32,
}

fn default_steps() -> Vec<u8> {
    vec![10, 25, 50, 100]
}
fn default_step_time() -> Duration {
    Duration::from_secs(60)
}
fn default_bake() -> Duration {
    Duration::from_secs(300)
}
fn default_max_error_rate() -> Percent {
    Percent { basis_points: 100 }
}
fn default_min_requests() -> u32 {
    50
}

impl Default for Rollout {
    fn default() -> Self {
        Rollout {
            steps: default_steps(),
            step_time: default_step_time(),
            bake: default_bake(),
            max_error_rate: default_max_error_rate(),
            max_p95: None,
            min_requests: default_min_requests(),
        }
    }
}

impl Rollout {
    /// The thresholds every step and the bake are judged by.
    pub fn thresholds(&self) -> Thresholds {
        Thresholds {
            max_error_basis_points: self.max_error_rate.basis_points,
            max_p95: self.max_p95,
            min_requests: u64::from(self.min_requests),
        }
    }

    /// What is wrong with it, as (key, problem, fix); empty when it can run.
    pub fn problems(&self) -> Vec<(&'static str, String, String)> {
        let mut out = Vec::new();
        let steps = |s: &[u8]| s.iter().map(u8::to_string).collect::<Vec<_>>().join(", ");
        if self.steps.is_empty() {
            out.push(("steps", "no steps".to_string(), "give the shares to go through, e.g. [10, 25, 50, 100]".into()));
        } else if self.steps.iter().any(|&s| s == 0 || s > 100) {
            out.push((
                "steps",
                format!("the steps [{}] have a share outside 1 to 100", steps(&self.steps)),
                "give shares in percent from 1 to 100, e.g. [10, 25, 50, 100]".into(),
            ));
        } else if self.steps.windows(2).any(|w| w[0] >= w[1]) {
            out.push((
                "steps",
                format!("the steps [{}] do not rise", steps(&self.steps)),
                "give each share larger than the one before, e.g. [10, 25, 50, 100]".into(),
            ));
        } else if self.steps.last() != Some(&100) {
            let mut fixed = self.steps.clone();
            fixed.push(100);
            out.push((
                "steps",
                format!("the steps [{}] do not end at 100", steps(&self.steps)),
                format!("end with 100, which completes the promotion: [{}]", steps(&fixed)),
            ));
        }
        if self.step_time.as_millis() < 1000 {
            out.push((
                "step_time",
                format!("a step time of {} is too short to read Traefik's metrics in", self.step_time),
                "give at least 1s; a minute or more judges real traffic better".into(),
            ));
        }
        if self.max_error_rate.basis_points > 10_000 {
            out.push((
                "max_error_rate",
                format!("an error rate of {} is over 100%", self.max_error_rate),
                "give a percentage from 0% to 100%, e.g. 1%".into(),
            ));
        }
        out
    }
}

/// A percentage with up to two decimals (`1%`, `0.5%`, `0.25%`), kept in hundredths of a percent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Percent {
    pub basis_points: u32,
}

impl Percent {
    /// Parses `1%`, `0.5%` or `0.25%` (the `%` may be left out).
    pub fn parse(s: &str) -> Result<Percent, String> {
        let err = || format!("{s:?} is not a percentage; write it like 1%, 0.5% or 0.25%");
        let number = s.trim().strip_suffix('%').unwrap_or(s.trim());
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if whole.is_empty() || whole.len() > 5 || fraction.len() > 2 {
            return Err(err());
        }
        if !whole.bytes().chain(fraction.bytes()).all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        let whole: u32 = whole.parse().map_err(|_| err())?;
        let fraction: u32 = format!("{fraction:0<2}").parse().map_err(|_| err())?;
        Ok(Percent { basis_points: whole * 100 + fraction })
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (whole, fraction) = (self.basis_points / 100, self.basis_points % 100);
        match fraction {
            0 => write!(f, "{whole}%"),
            f2 if f2 % 10 == 0 => write!(f, "{whole}.{}%", f2 / 10),
            f2 => write!(f, "{whole}.{f2:02}%"),
        }
    }
}

impl Serialize for Percent {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Percent {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Percent::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for Percent {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Percent".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^[0-9]{1,5}(\\.[0-9]{1,2})?%?$",
            "description": "A percentage: 1%, 0.5%, 0.25%."
        })
    }
}

/// Where a rollout under way stands, as the environment's state keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Progress {
    /// The candidate.
    pub version: String,
    /// How the rollout goes, as it was started (the spec's, or `promote`'s flags).
    pub rollout: Rollout,
    /// The step whose share is applied (an index into `rollout.steps`); `rollout.steps.len()` while baking.
    pub step: usize,
    /// When that step's share was applied (or the bake began).
    pub since: Timestamp,
    /// The last step's decision, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<String>,
    /// The process walking the steps: only it takes the next one (`rollout resume` takes over from one that
    /// is gone). None for a rollout walked by hand (the playground).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<Driver>,
}

/// A process that walks a rollout: its machine and process id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Driver {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    pub pid: u32,
}

impl fmt::Display for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.host {
            Some(host) => write!(f, "pid {} on {host}", self.pid),
            None => write!(f, "pid {}", self.pid),
        }
    }
}

/// What a rollout is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Watching the step `index` (from 0) at `share` percent.
    Step { index: usize, share: u8 },
    /// Watching the candidate with all traffic.
    Bake,
}

impl Progress {
    pub fn phase(&self) -> Phase {
        match self.rollout.steps.get(self.step) {
            Some(&share) => Phase::Step { index: self.step, share },
            None => Phase::Bake,
        }
    }

    /// The candidate's share of production traffic in the current phase.
    pub fn share(&self) -> u8 {
        match self.phase() {
            Phase::Step { share, .. } => share,
            Phase::Bake => 100,
        }
    }

    /// The version the candidate is compared with: the one in the other slot (live during the steps, the one
    /// rolled back to during the bake); `None` when that slot is empty.
    pub fn live_version<'s>(&self, state: &'s EnvState) -> Option<&'s str> {
        let slot = state.slot_of(&self.version)?;
        state.slots.get(&slot.other()).map(String::as_str)
    }

    /// How long the current phase is watched.
    pub fn window(&self) -> Duration {
        match self.phase() {
            Phase::Step { .. } => self.rollout.step_time,
            Phase::Bake => self.rollout.bake,
        }
    }

    /// The phase after this one passes; `None` when the rollout is then done.
    pub fn next(&self) -> Option<Phase> {
        let next = self.step + 1;
        match self.rollout.steps.get(next) {
            Some(&share) => Some(Phase::Step { index: next, share }),
            None if next == self.rollout.steps.len() && self.rollout.bake.as_millis() > 0 => Some(Phase::Bake),
            None => None,
        }
    }

    /// The phase in words: `step 2 of 4 (25%)`, `bake`.
    pub fn describe(&self) -> String {
        match self.phase() {
            Phase::Step { index, share } => format!("step {} of {} ({share}%)", index + 1, self.rollout.steps.len()),
            Phase::Bake => format!("bake at 100% for {}", self.rollout.bake),
        }
    }
}

/// The Traefik services (with their provider, as Traefik's metrics name them) that answer for `version` in an
/// environment: one per routed compose service. They count every request the version answers, production,
/// slot and preview hosts alike.
pub fn watched_services(spec: &ValidSpec, state: &EnvState, version: &str) -> BTreeSet<String> {
    let (Some(app), Some(d)) = (spec.spec.apps.get(&state.app), state.deployment(version)) else {
        return BTreeSet::new();
    };
    app.routes
        .keys()
        .filter(|service| d.endpoints.contains_key(*service))
        .map(|service| format!("{}@file", naming::version(&state.app, &state.env, &d.slug, service)))
        .collect()
}

/// The figures of one slot in words: `40 requests, 2 errors (5%), p95 12ms`.
pub fn describe_figures(f: &Figures) -> String {
    let mut text = format!("{} requests, {} errors", f.requests, f.errors);
    if let Some(p) = f.error_percent {
        let _ = write!(text, " ({})", crate::analysis::percent_text(p));
    }
    if let Some(p95) = f.p95_ms {
        let _ = write!(text, ", p95 {}", crate::analysis::millis_text(p95));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_read_and_write_alike() {
        for (text, bp, shown) in [
            ("1%", 100, "1%"),
            ("0.5%", 50, "0.5%"),
            ("0.25%", 25, "0.25%"),
            ("20", 2000, "20%"),
            ("100%", 10_000, "100%"),
        ] {
            let p = Percent::parse(text).unwrap();
            assert_eq!(p.basis_points, bp, "{text}");
            assert_eq!(p.to_string(), shown);
        }
        for bad in ["", "%", "1.234%", "-1%", "1e2%", "x%", ".5%", "123456%", "1 %"] {
            assert!(Percent::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn steps_must_rise_to_100() {
        let with = |steps: &[u8]| Rollout { steps: steps.to_vec(), ..Rollout::default() }.problems();
        assert!(with(&[10, 25, 50, 100]).is_empty());
        assert!(with(&[100]).is_empty());
        assert!(with(&[]).iter().any(|p| p.1 == "no steps"));
        assert!(with(&[10, 10, 100])[0].1.contains("do not rise"));
        assert!(with(&[0, 100])[0].1.contains("outside 1 to 100"));
        let end = with(&[10, 50]);
        assert!(end[0].1.contains("do not end at 100") && end[0].2.contains("[10, 50, 100]"), "{end:?}");
        let short = Rollout { step_time: Duration::from_millis(500), ..Rollout::default() }.problems();
        assert_eq!(short[0].0, "step_time");
    }

    #[test]
    fn phases_go_through_the_steps_then_bake() {
        let mut p = Progress {
            version: "v2".into(),
            rollout: Rollout { steps: vec![10, 100], ..Rollout::default() },
            step: 0,
            since: Timestamp::default(),
            last: None,
            driver: None,
        };
        assert_eq!(p.phase(), Phase::Step { index: 0, share: 10 });
        assert_eq!(p.describe(), "step 1 of 2 (10%)");
        assert_eq!(p.next(), Some(Phase::Step { index: 1, share: 100 }));
        p.step = 1;
        assert_eq!(p.next(), Some(Phase::Bake));
        p.step = 2;
        assert_eq!((p.phase(), p.window(), p.next()), (Phase::Bake, Duration::from_secs(300), None));
        p.rollout.bake = Duration::default();
        p.step = 1;
        assert_eq!(p.next(), None, "no bake: done once 100% passes");
    }
}
