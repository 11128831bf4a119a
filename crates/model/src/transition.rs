//! The blue/green state machine. Each transition takes the spec, every environment's state (for global
//! checks such as unique hostnames), the request and a context carrying the time, and returns the new state,
//! the plan that gets there, the plan that undoes a partial run, and diagnostics. Nothing is read from a clock
//! or the outside world.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::hosts::{HostFor, route_host, world_hosts};
use crate::names;
use crate::naming;
use crate::plan::{Plan, Probe, Step};
use crate::render::{RenderError, render_env};
use crate::rollout::{Driver, Phase, Progress, Rollout};
use crate::state::{
    Deployment, Endpoint, EnvKey, EnvState, HISTORY_LEN, HealthStatus, HistoryEntry, Slot, Split, World,
};
use crate::time::Timestamp;
use crate::traefik::RenderedConfig;
use crate::valid_spec::ValidSpec;
use switchyard_diagnostics::Diagnostic;

/// Data the caller supplies instead of the model reading it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    pub now: Timestamp,
    /// Who asks for the change (a user name, a CI job), for the history.
    pub actor: Option<String>,
}

/// A requested change to one app in one environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case", try_from = "crate::change_read::ChangeFields")]
#[non_exhaustive]
pub enum Change {
    /// Create the environment: an empty state and its (empty) configuration file.
    Create,
    /// Deploy a version as a preview, on its own stack and preview hosts.
    Deploy { version: String },
    /// Record an executor's health observation of a version.
    ObserveHealth { version: String, status: HealthStatus },
    /// Put a version into the idle slot and give it `share` percent of production traffic once healthy.
    Promote { version: String, share: u8 },
    /// Change the candidate's share during a promotion (100 completes it).
    SetShare { share: u8 },
    /// The candidate becomes live with all traffic.
    Complete,
    /// The previous slot takes all traffic at once; nothing is redeployed.
    Rollback,
    /// Promote a version in steps (see [`crate::rollout`]): its first step's share now, the rest by
    /// [`Change::NextStep`] once each step passed.
    StartRollout {
        version: String,
        rollout: Rollout,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        driver: Option<Driver>,
    },
    /// The rollout of `version` passed its current step (`passed`: why, in words): on to the next share, the
    /// bake, or done. Refused from another `driver` than the rollout's.
    NextStep {
        version: String,
        passed: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        driver: Option<Driver>,
    },
    /// `driver` takes on the rollout of `version` where it stands, its step watched afresh; from another
    /// driver only with `take_over` (that one is gone).
    ResumeRollout { version: String, driver: Driver, take_over: bool },
    /// The rollout of `version` failed (`reason`: why, in words): all traffic back to the live slot at once.
    AbortRollout { version: String, reason: String },
    /// Remove a version no slot holds.
    Retire { version: String },
    /// Remove versions by the environment's retention policy.
    Cleanup,
}

impl Change {
    pub fn describe(&self) -> String {
        match self {
            Change::Create => "create the environment".into(),
            Change::Deploy { version } => format!("deploy {version}"),
            Change::ObserveHealth { version, status } => format!("observe {version} {status}"),
            Change::Promote { version, share } => format!("promote {version} at {share}%"),
            Change::SetShare { share } => format!("set the candidate's share to {share}%"),
            Change::Complete => "complete the promotion".into(),
            Change::Rollback => "roll back".into(),
            Change::StartRollout { version, rollout, .. } => {
                let steps: Vec<String> = rollout.steps.iter().map(|s| format!("{s}%")).collect();
                format!("start a rollout of {version}: {}, {} a step", steps.join(", "), rollout.step_time)
            }
            Change::NextStep { version, passed, .. } => format!("rollout of {version}: {passed}"),
            Change::ResumeRollout { version, driver, .. } => format!("resume the rollout of {version} ({driver})"),
            Change::AbortRollout { version, reason } => format!("roll back the rollout of {version}: {reason}"),
            Change::Retire { version } => format!("retire {version}"),
            Change::Cleanup => "clean up by retention".into(),
        }
    }
}

/// An impossible request, with what to do instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransitionError {
    #[error("the spec has no app {app:?}")]
    UnknownApp { app: String, known: Vec<String> },
    #[error("the app {app:?} has no environment {env:?}")]
    UnknownEnvironment { app: String, env: String, known: Vec<String> },
    #[error("the environment {key} has not been created")]
    NotCreated { key: EnvKey },
    #[error("the version {version:?} {reason}")]
    InvalidVersion { version: String, reason: String },
    #[error("{version:?} and the deployed {other:?} both become {slug:?} in hostnames and stack names")]
    SlugCollision { version: String, other: String, slug: String },
    #[error("the names made from {version:?} are too long: {name:?} has {len} characters, at most 63")]
    NameTooLong { version: String, name: String, len: usize },
    #[error("{host} is already used by {owner}")]
    HostTaken { host: String, owner: String },
    #[error("{version:?} is not deployed in {key}")]
    UnknownVersion { key: EnvKey, version: String, deployed: Vec<String> },
    #[error("a share must be 1 to 100 percent, not {share}")]
    InvalidShare { share: u8 },
    #[error("{version} is already live in {key}")]
    AlreadyLive { key: EnvKey, version: String },
    #[error("a promotion of {version} into {slot} is under way in {key}")]
    PromotionUnderWay { key: EnvKey, version: String, slot: Slot },
    #[error("no promotion is under way in {key}")]
    NoPromotion { key: EnvKey },
    #[error("there is nothing to roll back to in {key}: {reason}")]
    NothingToRollBack { key: EnvKey, reason: String },
    #[error("no rollout of {version} is under way in {key}")]
    NoRollout { key: EnvKey, version: String, under_way: Option<String> },
    #[error("a rollout of {version} is under way in {key}")]
    RolloutUnderWay { key: EnvKey, version: String },
    #[error("the rollout of {version} in {key} is driven by {driver}")]
    DrivenElsewhere { key: EnvKey, version: String, driver: String },
    #[error("the rollout cannot run: {problem}")]
    InvalidRollout { problem: String, fix: String },
    #[error("{version} is held by the {slot} slot in {key}; it cannot be removed")]
    VersionInSlot { key: EnvKey, version: String, slot: Slot },
    #[error(transparent)]
    Render(#[from] RenderError),
}

impl TransitionError {
    /// A stable code for the diagnostic form.
    pub fn code(&self) -> &'static str {
        match self {
            TransitionError::UnknownApp { .. } => "SY0201",
            TransitionError::UnknownEnvironment { .. } => "SY0202",
            TransitionError::NotCreated { .. } => "SY0203",
            TransitionError::InvalidVersion { .. } => "SY0204",
            TransitionError::SlugCollision { .. } => "SY0205",
            TransitionError::NameTooLong { .. } => "SY0206",
            TransitionError::HostTaken { .. } => "SY0207",
            TransitionError::UnknownVersion { .. } => "SY0208",
            TransitionError::InvalidShare { .. } => "SY0209",
            TransitionError::AlreadyLive { .. } => "SY0210",
            TransitionError::PromotionUnderWay { .. } => "SY0211",
            TransitionError::NoPromotion { .. } => "SY0212",
            TransitionError::NothingToRollBack { .. } => "SY0213",
            TransitionError::VersionInSlot { .. } => "SY0214",
            TransitionError::NoRollout { .. } => "SY0215",
            TransitionError::RolloutUnderWay { .. } => "SY0216",
            TransitionError::InvalidRollout { .. } => "SY0217",
            TransitionError::DrivenElsewhere { .. } => "SY0218",
            TransitionError::Render(_) => "SY0299",
        }
    }

    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            TransitionError::UnknownApp { known, .. } => format!("the spec's apps are: {}", known.join(", ")),
            TransitionError::UnknownEnvironment { known, .. } => format!("its environments are: {}", known.join(", ")),
            TransitionError::NotCreated { key } => {
                format!("create it first: `switchyard create --app {} --env {}`", key.app, key.env)
            }
            TransitionError::InvalidVersion { .. } => "name versions like v1.2.0, 2024-05-01.3 or 1.4.0-rc.1".into(),
            TransitionError::SlugCollision { other, .. } => {
                format!("retire {other} first, or pick a version name that differs in letters or digits")
            }
            TransitionError::NameTooLong { .. } => {
                "use a shorter version name (or shorter app, environment and service names)".into()
            }
            TransitionError::HostTaken { .. } => {
                "use a different version name, or change the host templates so hosts cannot collide".into()
            }
            TransitionError::UnknownVersion { deployed, .. } if deployed.is_empty() => {
                "nothing is deployed yet; deploy it first".into()
            }
            TransitionError::UnknownVersion { deployed, .. } => {
                format!("deployed versions: {}; deploy it first", deployed.join(", "))
            }
            TransitionError::InvalidShare { .. } => "use e.g. 10, 50 or 100; to take traffic away, roll back".into(),
            TransitionError::AlreadyLive { .. } => "nothing to do; `switchyard status` shows the slots".into(),
            TransitionError::PromotionUnderWay { .. } => {
                "change its share with `shift`, finish it with `complete`, or undo it with `rollback`".into()
            }
            TransitionError::NoPromotion { .. } => "start one with `promote VERSION --share N`".into(),
            TransitionError::NothingToRollBack { .. } => "promote a version into the idle slot first".into(),
            TransitionError::VersionInSlot { .. } => "promote another version into that slot first".into(),
            TransitionError::NoRollout { under_way: Some(other), .. } => {
                format!("the rollout under way is of {other}; `switchyard status` shows it")
            }
            TransitionError::NoRollout { .. } => "start one with `promote VERSION` and a rollout".into(),
            TransitionError::RolloutUnderWay { .. } => {
                "take it on with `switchyard rollout resume`, or stop it with `switchyard rollout abort`".into()
            }
            TransitionError::InvalidRollout { fix, .. } => fix.clone(),
            TransitionError::DrivenElsewhere { .. } => {
                "let it go on; if that process is gone, `switchyard rollout resume --take-over` takes the rollout on"
                    .into()
            }
            TransitionError::Render(_) => return None,
        })
    }

    pub fn to_diagnostic(&self) -> Diagnostic {
        let d = Diagnostic::error(self.code(), self.to_string());
        match self.hint() {
            Some(h) => d.hint(h),
            None => d,
        }
    }
}

/// The result of a transition.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    pub key: EnvKey,
    /// False when the request was already satisfied: re-running a finished command changes nothing.
    pub changed: bool,
    pub state: EnvState,
    pub plan: Plan,
    /// What to run, best effort, when a step of `plan` fails: the previous configuration back, new stacks away.
    pub undo: Plan,
    pub before: RenderedConfig,
    pub after: RenderedConfig,
    pub diagnostics: Vec<Diagnostic>,
}

/// Applies `request` to the environment `key`.
pub fn apply(
    spec: &ValidSpec,
    world: &World,
    key: &EnvKey,
    request: &Change,
    ctx: &Context,
) -> Result<Outcome, TransitionError> {
    let app = spec.spec.apps.get(&key.app).ok_or_else(|| TransitionError::UnknownApp {
        app: key.app.clone(),
        known: spec.spec.apps.keys().cloned().collect(),
    })?;
    if !app.environments.contains_key(&key.env) {
        return Err(TransitionError::UnknownEnvironment {
            app: key.app.clone(),
            env: key.env.clone(),
            known: app.environments.keys().cloned().collect(),
        });
    }
    let old = match (world.get(key), request) {
        (Some(state), _) => state.clone(),
        (None, Change::Create) => EnvState::new(&key.app, &key.env),
        (None, _) => return Err(TransitionError::NotCreated { key: key.clone() }),
    };
    let before = render_env(spec, &old)?.config;
    let mut t = Transition {
        spec,
        world,
        key,
        ctx,
        old: &old,
        new: old.clone(),
        diagnostics: Vec::new(),
        steps: Vec::new(),
        undo: Vec::new(),
        before: &before,
    };
    let changed = t.run(request)?;
    let Transition { new, mut diagnostics, steps, undo, .. } = t;
    let after = render_env(spec, &new)?;
    diagnostics.extend(after.warnings);
    if !changed {
        return Ok(Outcome {
            key: key.clone(),
            changed,
            state: old.clone(),
            plan: Plan::default(),
            undo: Plan::default(),
            after: before.clone(),
            before,
            diagnostics,
        });
    }
    let mut state = new;
    state.revision = old.revision + 1;
    state.history.push(HistoryEntry {
        revision: state.revision,
        at: ctx.now,
        actor: ctx.actor.clone(),
        summary: request.describe(),
        before: old.traffic_summary(),
        after: state.traffic_summary(),
    });
    if state.history.len() > HISTORY_LEN {
        let excess = state.history.len() - HISTORY_LEN;
        state.history.drain(..excess);
    }
    let mut steps = steps;
    steps.push(Step::SaveState { revision: state.revision });
    let mut undo = undo;
    if steps.iter().any(|s| matches!(s, Step::WriteConfig { .. })) {
        undo.insert(
            0,
            Step::WriteConfig {
                file: naming::config_file(&key.app, &key.env),
                reason: "restore the previous configuration".into(),
                config: before.clone(),
            },
        );
    }
    Ok(Outcome {
        key: key.clone(),
        changed,
        state,
        plan: Plan { steps },
        undo: Plan { steps: undo },
        before,
        after: after.config,
        diagnostics,
    })
}

struct Transition<'a> {
    spec: &'a ValidSpec,
    world: &'a World,
    key: &'a EnvKey,
    ctx: &'a Context,
    old: &'a EnvState,
    new: EnvState,
    diagnostics: Vec<Diagnostic>,
    steps: Vec<Step>,
    undo: Vec<Step>,
    before: &'a RenderedConfig,
}

impl Transition<'_> {
    /// Changes `self.new` and plans the steps; false when there is nothing to do.
    fn run(&mut self, request: &Change) -> Result<bool, TransitionError> {
        match request {
            Change::Create => Ok(match self.world.get(self.key) {
                Some(_) => {
                    self.diagnostics.push(Diagnostic::info("SY0220", format!("{} already exists", self.key)));
                    false
                }
                None => {
                    self.write_config("create the environment (no version deployed yet)")?;
                    true
                }
            }),
            Change::Deploy { version } => self.deploy(version),
            Change::ObserveHealth { version, status } => {
                let now = self.ctx.now;
                let d = self.new.deployment_mut(version).ok_or_else(|| unknown_version(self.old, version))?;
                // The same status observed again is still news: when it was last seen. (It used to be set on a
                // state that was then thrown away as unchanged.)
                let changed = d.health.status != *status || d.health.observed_at != Some(now);
                d.health.status = *status;
                d.health.observed_at = Some(now);
                Ok(changed)
            }
            Change::Promote { version, share } => {
                self.stop_rollout("another promotion is asked for by hand");
                self.promote(version, *share)
            }
            Change::SetShare { share } => {
                self.stop_rollout("its share is set by hand");
                self.set_share(*share)
            }
            Change::Complete => {
                self.stop_rollout("it is completed by hand");
                let split = self.new.split.ok_or_else(|| TransitionError::NoPromotion { key: self.key.clone() })?;
                self.complete(split)
            }
            Change::Rollback => {
                self.stop_rollout("rolled back by hand");
                self.rollback()
            }
            Change::StartRollout { version, rollout, driver } => self.start_rollout(version, rollout, driver),
            Change::NextStep { version, passed, driver } => self.next_step(version, passed, driver.as_ref()),
            Change::ResumeRollout { version, driver, take_over } => {
                let mut progress = self.rollout_of(version)?.clone();
                self.check_driver(&progress, Some(driver), *take_over)?;
                progress.driver = Some(driver.clone());
                progress.since = self.ctx.now;
                self.new.rollout = Some(progress);
                Ok(true)
            }
            Change::AbortRollout { version, reason } => {
                self.rollout_of(version)?;
                self.new.rollout = None;
                self.diagnostics.push(Diagnostic::warning("SY0227", format!("rolling back {version}: {reason}")));
                self.rollback()
            }
            Change::Retire { version } => {
                self.remove_versions(std::slice::from_ref(version), "retire")?;
                Ok(true)
            }
            Change::Cleanup => {
                let doomed = self.retention_victims();
                if doomed.is_empty() {
                    self.diagnostics.push(Diagnostic::info(
                        "SY0221",
                        "retention keeps every deployed version; nothing to clean up",
                    ));
                    return Ok(false);
                }
                self.remove_versions(&doomed, "clean up")?;
                Ok(true)
            }
        }
    }

    fn deploy(&mut self, version: &str) -> Result<bool, TransitionError> {
        names::check_version(version)
            .map_err(|reason| TransitionError::InvalidVersion { version: version.into(), reason })?;
        if self.old.deployment(version).is_some() {
            self.diagnostics.push(Diagnostic::info("SY0222", format!("{version} is already deployed in {}", self.key)));
            return Ok(false);
        }
        let slug = names::slug(version);
        if let Some(other) = self.old.deployments.iter().find(|d| d.slug == slug) {
            return Err(TransitionError::SlugCollision { version: version.into(), other: other.version.clone(), slug });
        }
        let (app_name, env_name) = (self.key.app.as_str(), self.key.env.as_str());
        let app = &self.spec.spec.apps[app_name];
        let stack = naming::stack(app_name, env_name, &slug);
        let mut endpoints = BTreeMap::new();
        for (service, route) in &app.routes {
            let container = naming::container(&stack, service);
            if container.len() > names::MAX_LABEL {
                return Err(TransitionError::NameTooLong {
                    version: version.into(),
                    len: container.len(),
                    name: container,
                });
            }
            endpoints.insert(service.clone(), Endpoint { url: format!("http://{container}:{}", route.port) });
        }
        // Preview hosts must be free everywhere: in every environment of every app.
        let taken = world_hosts(self.spec, self.world);
        let base = self.spec.hosts.base_host(app_name, env_name, HostFor::Preview(&slug)).map_err(RenderError::from)?;
        for route in app.routes.values() {
            let host = route_host(&base, route);
            if let Some(owner) = taken.get(&host) {
                return Err(TransitionError::HostTaken { host, owner: owner.clone() });
            }
        }
        let mut variables = BTreeMap::from([
            ("SWITCHYARD_APP".to_string(), app_name.to_string()),
            ("SWITCHYARD_ENV".to_string(), env_name.to_string()),
            ("SWITCHYARD_VERSION".to_string(), version.to_string()),
            ("SWITCHYARD_VERSION_SLUG".to_string(), slug.clone()),
            ("SWITCHYARD_STACK".to_string(), stack.clone()),
            ("SWITCHYARD_PREVIEW_HOST".to_string(), base.clone()),
        ]);
        if let Ok(production) = self.spec.hosts.base_host(app_name, env_name, HostFor::Production) {
            variables.insert("SWITCHYARD_PRODUCTION_HOST".to_string(), production);
        }
        self.new.deployments.push(Deployment {
            version: version.into(),
            slug,
            stack: stack.clone(),
            deployed_at: self.ctx.now,
            endpoints,
            health: Default::default(),
        });
        self.steps.push(Step::CreateStack {
            stack: stack.clone(),
            network: stack.clone(),
            version: version.into(),
            compose: app.compose.clone(),
            services: app.routes.keys().cloned().collect(),
            variables,
        });
        self.steps.push(Step::ConnectProxy { network: stack.clone() });
        self.write_config(&format!("add the preview routes of {version}"))?;
        self.undo.push(Step::DisconnectProxy { network: stack.clone() });
        self.undo.push(Step::RemoveStack { stack: stack.clone(), network: stack });
        Ok(true)
    }

    fn promote(&mut self, version: &str, share: u8) -> Result<bool, TransitionError> {
        if share == 0 || share > 100 {
            return Err(TransitionError::InvalidShare { share });
        }
        if self.old.deployment(version).is_none() {
            return Err(unknown_version(self.old, version));
        }
        if let Some(split) = self.old.split {
            let candidate = self.old.slots.get(&split.slot).cloned().unwrap_or_default();
            if candidate == version && split.share == share {
                return Ok(false);
            }
            return Err(TransitionError::PromotionUnderWay {
                key: self.key.clone(),
                version: candidate,
                slot: split.slot,
            });
        }
        let live = self.old.live;
        if let Some(live) = live
            && self.old.slots.get(&live).is_some_and(|v| v == version)
        {
            return Err(TransitionError::AlreadyLive { key: self.key.clone(), version: version.into() });
        }
        let target = live.map_or(Slot::Blue, Slot::other);
        if self.old.deployment(version).is_some_and(|d| d.health.status == HealthStatus::Unhealthy) {
            self.diagnostics.push(Diagnostic::warning(
                "SY0223",
                format!("{version} was last observed unhealthy; traffic moves only if it is healthy now"),
            ));
        }
        // Stage: the slot host answers with the candidate; production is untouched.
        self.new.slots.insert(target, version.into());
        self.write_config(&format!("route the {target} slot host to {version} (no production traffic yet)"))?;
        self.wait_healthy(version);
        match live {
            None => {
                if share < 100 {
                    self.diagnostics.push(Diagnostic::info(
                        "SY0224",
                        format!("nothing was live in {}, so {version} takes all production traffic", self.key),
                    ));
                }
                self.new.live = Some(target);
            }
            Some(_) if share == 100 => self.new.live = Some(target),
            Some(_) => self.new.split = Some(Split { slot: target, share }),
        }
        self.write_config(&format!("shift production traffic: {}", self.new.traffic_summary()))?;
        Ok(true)
    }

    fn start_rollout(
        &mut self,
        version: &str,
        rollout: &Rollout,
        driver: &Option<Driver>,
    ) -> Result<bool, TransitionError> {
        if let Some((_, problem, fix)) = rollout.problems().into_iter().next() {
            return Err(TransitionError::InvalidRollout { problem, fix });
        }
        if let Some(progress) = &self.old.rollout {
            if progress.version == version && progress.rollout == *rollout {
                self.diagnostics.push(Diagnostic::info(
                    "SY0226",
                    format!("the rollout of {version} is under way: {}", progress.describe()),
                ));
                return Ok(false);
            }
            return Err(TransitionError::RolloutUnderWay { key: self.key.clone(), version: progress.version.clone() });
        }
        let first = rollout.steps[0];
        let had_live = self.old.live.is_some();
        if !self.promote(version, first)? {
            return Ok(false);
        }
        let progress = Progress {
            version: version.into(),
            rollout: rollout.clone(),
            step: 0,
            since: self.ctx.now,
            last: None,
            driver: driver.clone(),
        };
        // With nothing live there is nothing to compare with or go back to: the promotion is all there is.
        if had_live && (first < 100 || progress.next().is_some()) {
            self.new.rollout = Some(progress);
        }
        Ok(true)
    }

    /// The rollout under way, when it is of `version`.
    fn rollout_of(&self, version: &str) -> Result<&Progress, TransitionError> {
        match &self.old.rollout {
            Some(p) if p.version == version => Ok(p),
            other => Err(TransitionError::NoRollout {
                key: self.key.clone(),
                version: version.into(),
                under_way: other.as_ref().map(|p| p.version.clone()),
            }),
        }
    }

    /// Refuses `driver` when the rollout has another one, unless it takes over.
    fn check_driver(
        &self,
        progress: &Progress,
        driver: Option<&Driver>,
        take_over: bool,
    ) -> Result<(), TransitionError> {
        match &progress.driver {
            Some(recorded) if driver != Some(recorded) && !take_over => Err(TransitionError::DrivenElsewhere {
                key: self.key.clone(),
                version: progress.version.clone(),
                driver: recorded.to_string(),
            }),
            _ => Ok(()),
        }
    }

    fn next_step(&mut self, version: &str, passed: &str, driver: Option<&Driver>) -> Result<bool, TransitionError> {
        let mut progress = self.rollout_of(version)?.clone();
        self.check_driver(&progress, driver, false)?;
        match progress.next() {
            Some(Phase::Step { index, share }) => {
                self.set_share(share)?;
                progress.step = index;
            }
            Some(Phase::Bake) => progress.step = progress.rollout.steps.len(),
            None => {
                self.new.rollout = None;
                return Ok(true);
            }
        }
        progress.since = self.ctx.now;
        progress.last = Some(passed.into());
        self.new.rollout = Some(progress);
        Ok(true)
    }

    /// A change by hand ends the rollout under way: from then on, the user moves the traffic.
    fn stop_rollout(&mut self, why: &str) {
        if let Some(progress) = self.new.rollout.take() {
            self.diagnostics.push(Diagnostic::info(
                "SY0228",
                format!("the rollout of {} stops at {}: {why}", progress.version, progress.describe()),
            ));
        }
    }

    fn set_share(&mut self, share: u8) -> Result<bool, TransitionError> {
        if share == 0 || share > 100 {
            return Err(TransitionError::InvalidShare { share });
        }
        let split = self.old.split.ok_or_else(|| TransitionError::NoPromotion { key: self.key.clone() })?;
        if share == 100 {
            return self.complete(split);
        }
        if share == split.share {
            return Ok(false);
        }
        if share > split.share {
            self.wait_slot_healthy(split.slot);
        }
        self.new.split = Some(Split { slot: split.slot, share });
        self.write_config(&format!("shift production traffic: {}", self.new.traffic_summary()))?;
        Ok(true)
    }

    fn complete(&mut self, split: Split) -> Result<bool, TransitionError> {
        self.wait_slot_healthy(split.slot);
        self.new.live = Some(split.slot);
        self.new.split = None;
        self.write_config(&format!("shift all production traffic: {}", self.new.traffic_summary()))?;
        Ok(true)
    }

    fn rollback(&mut self) -> Result<bool, TransitionError> {
        let key = self.key.clone();
        let live = self
            .old
            .live
            .ok_or_else(|| TransitionError::NothingToRollBack { key: key.clone(), reason: "nothing is live".into() })?;
        if self.old.split.is_some() {
            self.new.split = None;
        } else {
            let other = live.other();
            let Some(previous) = self.old.slots.get(&other) else {
                return Err(TransitionError::NothingToRollBack { key, reason: format!("the {other} slot is empty") });
            };
            if self.old.deployment(previous).is_some_and(|d| d.health.status == HealthStatus::Unhealthy) {
                self.diagnostics.push(Diagnostic::warning(
                    "SY0225",
                    format!("rolling back to {previous}, which was last observed unhealthy"),
                ));
            }
            self.new.live = Some(other);
        }
        self.write_config(&format!("roll back production traffic: {}", self.new.traffic_summary()))?;
        Ok(true)
    }

    /// Versions the retention policy removes: not in a slot, not among the newest `keep_last`, and older than
    /// `older_than` when set.
    fn retention_victims(&self) -> Vec<String> {
        let env = &self.spec.spec.apps[&self.key.app].environments[&self.key.env];
        let policy = &env.retention;
        // Newest first; among equal times, the later deployment counts as newer (stable sort of reversed order).
        let mut newest_first: Vec<&Deployment> = self.old.deployments.iter().rev().collect();
        newest_first.sort_by_key(|d| std::cmp::Reverse(d.deployed_at));
        newest_first
            .iter()
            .skip(policy.keep_last as usize)
            .filter(|d| self.old.slot_of(&d.version).is_none())
            .filter(|d| {
                policy
                    .older_than
                    .is_none_or(|age| self.ctx.now.0.saturating_sub(d.deployed_at.0) * 1000 > age.as_millis())
            })
            .map(|d| d.version.clone())
            .collect()
    }

    fn remove_versions(&mut self, versions: &[String], verb: &str) -> Result<(), TransitionError> {
        let mut stacks = Vec::new();
        for version in versions {
            let d = self.old.deployment(version).ok_or_else(|| unknown_version(self.old, version))?;
            if let Some(slot) = self.old.slot_of(version) {
                return Err(TransitionError::VersionInSlot { key: self.key.clone(), version: version.clone(), slot });
            }
            stacks.push(d.stack.clone());
        }
        self.new.deployments.retain(|d| !versions.contains(&d.version));
        let whose = if versions.len() == 1 { "its" } else { "their" };
        self.write_config(&format!("{verb} {}: remove {whose} preview routes", versions.join(", ")))?;
        for stack in stacks {
            self.steps.push(Step::DisconnectProxy { network: stack.clone() });
            self.steps.push(Step::RemoveStack { network: stack.clone(), stack });
        }
        Ok(())
    }

    fn wait_slot_healthy(&mut self, slot: Slot) {
        if let Some(version) = self.new.slots.get(&slot).cloned() {
            self.wait_healthy(&version);
        }
    }

    fn wait_healthy(&mut self, version: &str) {
        let Some(d) = self.new.deployment(version) else { return };
        let app = &self.spec.spec.apps[&self.key.app];
        let probes = d
            .endpoints
            .iter()
            .map(|(service, e)| Probe {
                service: service.clone(),
                url: e.url.clone(),
                path: app.health.path.clone(),
                timeout_ms: app.health.timeout.as_millis(),
            })
            .collect();
        self.steps.push(Step::WaitHealthy { version: version.into(), stack: d.stack.clone(), probes });
    }

    /// Plans writing the configuration of the state as it is now, if it differs from the last one planned.
    fn write_config(&mut self, reason: &str) -> Result<(), TransitionError> {
        let config = render_env(self.spec, &self.new)?.config;
        let last = self.steps.iter().rev().find_map(|s| match s {
            Step::WriteConfig { config, .. } => Some(config),
            _ => None,
        });
        let unchanged = last.unwrap_or(self.before) == &config;
        // Creating an environment writes its first (empty) file even though nothing routes yet.
        if !unchanged || self.world.get(self.key).is_none() {
            self.steps.push(Step::WriteConfig {
                file: naming::config_file(&self.key.app, &self.key.env),
                reason: reason.into(),
                config,
            });
        }
        Ok(())
    }
}

fn unknown_version(state: &EnvState, version: &str) -> TransitionError {
    TransitionError::UnknownVersion {
        key: EnvKey::new(&state.app, &state.env),
        version: version.into(),
        deployed: state.deployments.iter().map(|d| d.version.clone()).collect(),
    }
}
