//! `promote` with a rollout, and `rollout resume|abort`: the steps walked one change at a time.
//!
//! Each step's share is one change like any other (policies, Traefik's directory checked, the lock, the
//! journal, an audit line). Between changes no lock is held, so a user can still roll back by hand; the
//! driver then sees the rollout gone from the state and stops. While a step is watched, Traefik's metrics are
//! read about once a second and judged by the model ([`switchyard_model::analysis`]): a failing candidate is
//! rolled back the moment its failure is certain, not at the end of the step.

use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::anyhow;
use switchyard_model::analysis::{Analysis, Reading, Verdict, analyse};
use switchyard_model::rollout::{Driver, Progress, describe_figures, watched_services};
use switchyard_model::{Change, Diagnostic, EnvKey, EnvState};
use switchyard_traefik::metrics::service_counters;

use crate::args::{ChangeOpts, Cli, RolloutAction, RolloutArgs};
use crate::backend::Backend;
use crate::commands::change::{self, apply_change};
use crate::session::{Failure, Session, backend, change_session, clock, refuse, refuse_diagnostic, traefik_backend};
use crate::store;

/// How long Traefik's metrics may stay unreadable (Traefik restarting) before the driver gives up, leaving the
/// traffic at the step it is at.
const METRICS_PATIENCE: Duration = Duration::from_secs(60);
/// How often a step's progress is printed while it is watched.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// `promote VERSION`: with a rollout (the environment's, or the options'), walk it; else promote at once.
pub(crate) fn promote(
    cli: &Cli,
    version: &str,
    share: Option<u8>,
    args: &RolloutArgs,
    traefik_api: Option<&str>,
    opts: &ChangeOpts,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let (mut s, key) = change_session(cli, opts)?;
    let environment = s.spec.spec.apps.get(&key.app).and_then(|a| a.environments.get(&key.env));
    let rollout = match args.promotion(version, share, environment.and_then(|e| e.rollout.as_ref())) {
        Change::StartRollout { rollout, .. } => rollout,
        request => return change::run_in(&s, cli, &key, opts, request, out),
    };
    if let Some((key, problem, fix)) = rollout.problems().into_iter().next() {
        return Err(refuse_diagnostic(
            &Diagnostic::error("SY0217", format!("the rollout cannot run: {problem} (`{key}`)")).hint(fix),
        ));
    }
    let mut backend = traefik_backend(cli, &s.spec, traefik_api)?;
    // A rollout that could not watch its steps must not start.
    if !opts.dry_run {
        backend.metrics().map_err(|e| refuse(format!("no rollout starts, Traefik's metrics cannot be read: {e:#}")))?;
    }
    let request = Change::StartRollout { version: version.into(), rollout, driver: Some(this_driver()) };
    let result = apply_change(&s, backend.as_mut(), &key, &request, opts, out).and_then(|outcome| {
        if opts.dry_run {
            return Ok(());
        }
        if !outcome.changed {
            // The same rollout is under way, maybe driven by another process: a second driver would take its
            // steps twice.
            writeln!(
                out,
                "its driver goes on where it runs; if it was interrupted, `switchyard rollout resume` takes it on"
            )?;
            return Ok(());
        }
        drive(cli, &mut s, backend.as_mut(), &key, opts, out)
    });
    if matches!(result, Err(Failure::Broken(_))) {
        backend.forget();
    }
    result
}

/// `rollout resume|abort`.
pub(crate) fn run(
    cli: &Cli,
    action: RolloutAction,
    traefik_api: Option<&str>,
    take_over: bool,
    opts: &ChangeOpts,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let (mut s, key) = change_session(cli, opts)?;
    let mut backend = match action {
        RolloutAction::Resume => traefik_backend(cli, &s.spec, traefik_api)?,
        RolloutAction::Abort => backend(cli, &s.spec)?,
    };
    let result = (|| {
        let world = backend.load_world()?;
        let Some(progress) = world.get(&key).and_then(|state| state.rollout.clone()) else {
            return Err(no_rollout(&key));
        };
        match action {
            RolloutAction::Resume => {
                writeln!(out, "{key}: resuming the rollout of {} at {}", progress.version, progress.describe())?;
                // A driver that is gone on this machine is taken over without asking; one elsewhere only with
                // --take-over.
                let gone = progress.driver.as_ref().is_some_and(|d| store::process_gone(d.host.as_deref(), d.pid));
                let request = Change::ResumeRollout {
                    version: progress.version.clone(),
                    driver: this_driver(),
                    take_over: take_over || gone,
                };
                apply_change(&s, backend.as_mut(), &key, &request, opts, out)?;
                drive(cli, &mut s, backend.as_mut(), &key, opts, out)
            }
            RolloutAction::Abort => {
                let reason = format!("aborted by {}", s.actor);
                let request = Change::AbortRollout { version: progress.version, reason };
                apply_change(&s, backend.as_mut(), &key, &request, opts, out).map(|_| ())
            }
        }
    })();
    if matches!(result, Err(Failure::Broken(_))) {
        backend.forget();
    }
    result
}

/// This process, as a rollout's driver.
fn this_driver() -> Driver {
    Driver { host: store::this_host(), pid: std::process::id() }
}

/// How a watched phase ended.
enum Watched {
    Passed(String),
    Failed(Vec<String>),
}

/// Walks the rollout under way in `key` from where its state says it is, until it is done (Ok), rolled back
/// (exit 1), or stopped by another change (exit 1).
fn drive(
    cli: &Cli,
    s: &mut Session,
    backend: &mut dyn Backend,
    key: &EnvKey,
    opts: &ChangeOpts,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let mut driven: Option<String> = None;
    loop {
        let world = backend.load_world()?;
        let state = world.get(key).ok_or_else(|| anyhow!("the state of {key} is gone"))?;
        let Some(progress) = state.rollout.clone().filter(|p| driven.as_ref().is_none_or(|v| *v == p.version)) else {
            return match driven {
                Some(version) if state.live.and_then(|l| state.slots.get(&l)) == Some(&version) => {
                    writeln!(out, "{key}: the rollout of {version} is done: production {}", state.traffic_summary())?;
                    Ok(())
                }
                Some(version) => Err(refuse(format!(
                    "{key}: the rollout of {version} was stopped by another change; production {}",
                    state.traffic_summary()
                ))),
                None => Err(no_rollout(key)),
            };
        };
        driven = Some(progress.version.clone());
        let watched = watch(s, backend, state, &progress, out)?;
        s.now = clock(cli.now.as_deref())?;
        match watched {
            Watched::Passed(passed) => {
                let request =
                    Change::NextStep { version: progress.version.clone(), passed, driver: Some(this_driver()) };
                match apply_change(s, backend, key, &request, opts, out) {
                    Ok(_) => {}
                    // The next step was refused (its health check failed, a policy refused it): the traffic is
                    // still at the step that passed, and the candidate goes back.
                    Err(Failure::Refused(text)) => {
                        let reason = format!("the next step failed: {}", first_line(&text));
                        return abort(s, backend, key, &progress, vec![reason], opts, out);
                    }
                    // Nothing known changed (Docker unreachable): the traffic stays, for `rollout resume`.
                    Err(e) => return Err(e),
                }
            }
            Watched::Failed(reasons) => return abort(s, backend, key, &progress, reasons, opts, out),
        }
    }
}

fn first_line(text: &str) -> &str {
    text.lines().find(|l| !l.trim().is_empty()).unwrap_or_default().trim()
}

/// Returns all traffic to the live slot (one change), and says why (exit 1).
fn abort(
    s: &Session,
    backend: &mut dyn Backend,
    key: &EnvKey,
    progress: &Progress,
    reasons: Vec<String>,
    opts: &ChangeOpts,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let reason = reasons.join("; ");
    let request = Change::AbortRollout { version: progress.version.clone(), reason: reason.clone() };
    let outcome = apply_change(s, backend, key, &request, opts, out)?;
    Err(refuse(format!(
        "{key}: the rollout of {} was rolled back at {}: {reason}; production {}",
        progress.version,
        progress.describe(),
        outcome.state.traffic_summary()
    )))
}

/// Watches the phase `progress` is at until it passes or fails: Traefik's counters of the candidate's and the
/// live version's services read about once a second, each time judged over the whole window so far.
fn watch(
    s: &Session,
    backend: &mut dyn Backend,
    state: &EnvState,
    progress: &Progress,
    out: &mut dyn Write,
) -> Result<Watched, Failure> {
    let rollout = &progress.rollout;
    let thresholds = rollout.thresholds();
    let candidate_services = watched_services(&s.spec, state, &progress.version);
    let live_version = progress.live_version(state).unwrap_or_default().to_string();
    let live_services = watched_services(&s.spec, state, &live_version);
    let window = Duration::from_millis(progress.window().as_millis());
    let poll = (window / 10).clamp(Duration::from_millis(250), Duration::from_secs(1));
    let share = progress.share();
    let mut limits = format!("errors at most {}", rollout.max_error_rate);
    if let Some(p95) = rollout.max_p95 {
        limits.push_str(&format!(", p95 at most {p95}"));
    }
    writeln!(
        out,
        "{}: {} at {share}%, watched for {} ({limits}, at least {} requests)",
        progress.describe(),
        progress.version,
        progress.window(),
        rollout.min_requests
    )?;
    let started = Instant::now();
    let (mut candidate, mut live) = (Vec::new(), Vec::new());
    let mut unread_since: Option<Instant> = None;
    let mut printed = started;
    let mut last_said = String::new();
    loop {
        match backend.metrics().and_then(|text| service_counters(&text).map_err(|e| anyhow!("{e}"))) {
            Ok(counters) => {
                if let Some(since) = unread_since.take() {
                    writeln!(out, "  Traefik's metrics read again after {:.1}s", since.elapsed().as_secs_f64())?;
                }
                candidate.push(Reading::of(&counters, &candidate_services));
                live.push(Reading::of(&counters, &live_services));
            }
            Err(e) => {
                let since = *unread_since.get_or_insert_with(|| {
                    let _ = writeln!(out, "  Traefik's metrics cannot be read ({e:#}); trying again");
                    Instant::now()
                });
                if since.elapsed() > METRICS_PATIENCE {
                    return Err(Failure::Broken(anyhow!(
                        "Traefik's metrics could not be read for {}s: {e:#}; the traffic stays at {} of the \
                         rollout of {}: `switchyard rollout resume` takes it on, `switchyard rollout abort` rolls \
                         it back",
                        METRICS_PATIENCE.as_secs(),
                        progress.describe(),
                        progress.version
                    )));
                }
            }
        }
        let elapsed = started.elapsed();
        let over = elapsed >= window;
        let analysis = analyse(&thresholds, &candidate, &live, over);
        let figures = figures_text(&analysis, &progress.version, &live_version);
        match &analysis.verdict {
            Verdict::Pass => {
                writeln!(out, "  passed: {figures}")?;
                return Ok(Watched::Passed(format!("{} passed: {figures}", progress.describe())));
            }
            Verdict::RollBack(reasons) => {
                writeln!(out, "  failed: {figures}")?;
                return Ok(Watched::Failed(reasons.clone()));
            }
            Verdict::Hold(reasons) => {
                let said = reasons.join("; ");
                if printed.elapsed() >= PROGRESS_EVERY || (over && said != last_said) {
                    let left = window.saturating_sub(elapsed).as_secs();
                    let time = if over { "time is up".to_string() } else { format!("{left}s left") };
                    writeln!(out, "  {time}: {figures}; {said}")?;
                    printed = Instant::now();
                    last_said = said;
                }
            }
        }
        std::thread::sleep(poll);
    }
}

fn figures_text(analysis: &Analysis, candidate: &str, live: &str) -> String {
    let mut text = format!("{candidate}: {}", describe_figures(&analysis.candidate));
    if !live.is_empty() {
        text.push_str(&format!("; {live}: {}", describe_figures(&analysis.live)));
    }
    text
}

/// SY0215: the environment has no rollout to resume or abort.
fn no_rollout(key: &EnvKey) -> Failure {
    refuse_diagnostic(&Diagnostic::error("SY0215", format!("no rollout is under way in {key}")))
}
