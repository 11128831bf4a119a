//! The commands that change an environment (create, repair, deploy, observe, promote, shift, complete,
//! rollback, retire, cleanup): plan with the model, run the policies, check Traefik's directory as the change will
//! leave it, then execute the plan under the environment's lock.

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::anyhow;
use switchyard_model::directory::{self, Shipment};
use switchyard_model::plan::Step;
use switchyard_model::render::to_yaml;
use switchyard_model::view::outcome_diff;
use switchyard_model::{Change, Context, EnvKey, Outcome, Timestamp, World};

use crate::args::{ChangeOpts, Cli};
use crate::backend::{Backend, run_plan};
use crate::report;
use crate::session::{Failure, Session, backend, change_session, refuse, refuse_diagnostic};
use crate::store::{self, LockHolder};

/// Carries out `request` on the environment `opts` names.
pub(crate) fn run(cli: &Cli, opts: &ChangeOpts, request: Change, out: &mut dyn Write) -> Result<(), Failure> {
    let (s, key) = change_session(cli, opts)?;
    run_in(&s, cli, &key, opts, request, out)
}

/// Carries out `request` on the environment `key` in the session `s`.
pub(crate) fn run_in(
    s: &Session,
    cli: &Cli,
    key: &EnvKey,
    opts: &ChangeOpts,
    request: Change,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let mut backend = backend(cli, &s.spec)?;
    let result = apply_change(s, backend.as_mut(), key, &request, opts, out).map(|_| ());
    if matches!(result, Err(Failure::Broken(_))) {
        backend.forget();
    }
    result
}

pub(crate) fn apply_change(
    s: &Session,
    backend: &mut dyn Backend,
    key: &EnvKey,
    request: &Change,
    opts: &ChangeOpts,
    out: &mut dyn Write,
) -> Result<Outcome, Failure> {
    // A dry run changes nothing, so it takes no lock.
    if opts.dry_run {
        let (world, outcome) = compute(s, backend, key, request)?;
        show(&outcome, key, request, opts, out)?;
        police(s, &world, key, request, opts, &outcome, out)?;
        let existing = backend.provider_files()?;
        let shipment = directory::shipment(&s.files, &existing);
        show_shipment(&shipment, out)?;
        guard(backend, &existing, &shipment, configs(&outcome, outcome.changed)?)?;
        return Ok(outcome);
    }
    let holder = LockHolder {
        actor: s.actor.clone(),
        pid: std::process::id(),
        since: s.now,
        change: request.describe(),
        host: store::this_host(),
    };
    // A change that only rewrites routing (a rollback, a share lowered) commits in one step where the backend
    // can: lock, check that nothing changed since it was read (the states, Traefik's directory), write, unlock.
    // On any conflict it goes the locked way below.
    if backend.commits_atomically(key) && !opts.break_lock && !opts.repair {
        let world = backend.load_world_for_commit()?;
        let outcome = plan(s, &world, key, request)?;
        police(s, &world, key, request, opts, &outcome, out)?;
        let routing_only =
            outcome.plan.steps.iter().all(|step| matches!(step, Step::WriteConfig { .. } | Step::SaveState { .. }));
        if !outcome.changed || routing_only {
            let existing = backend.provider_files()?;
            let shipment = directory::shipment(&s.files, &existing);
            // Nothing changed but the user's files: they go in under the lock, below.
            if outcome.changed || shipment.is_empty() {
                show(&outcome, key, request, opts, out)?;
                if !outcome.changed {
                    return Ok(outcome);
                }
                show_shipment(&shipment, out)?;
                match guard(backend, &existing, &shipment, configs(&outcome, true)?) {
                    Ok(()) => {
                        backend.ship(shipment);
                        if let Some(state) = backend.commit_atomically(&holder, &outcome, out)? {
                            writeln!(out, "done: revision {}, production {}", state.revision, state.traffic_summary())?;
                            return Ok(outcome);
                        }
                        writeln!(
                            out,
                            "the state or Traefik's directory changed, or it is locked; planning again under the lock"
                        )?;
                    }
                    // What this machine remembers of Traefik's directory may be out of date (someone mended it
                    // since): the refusal stands only on the directory as it is, read under the lock below.
                    Err(_) if backend.answered_from_memory() => writeln!(
                        out,
                        "Traefik's directory as this machine remembers it has errors; checking it as it is, under \
                         the lock"
                    )?,
                    Err(e) => return Err(e),
                }
            }
        }
    }
    backend.lock(key, &holder, opts.break_lock)?;
    let result = compute(s, backend, key, request).and_then(|(world, outcome)| {
        show(&outcome, key, request, opts, out)?;
        police(s, &world, key, request, opts, &outcome, out)?;
        let existing = backend.provider_files()?;
        let shipment = directory::shipment(&s.files, &existing);
        if !outcome.changed {
            // A change cut short under the old lock may have left a staged route in Traefik's file: put back the
            // file the state describes.
            let rewrite = backend.took_over() || opts.repair;
            if !rewrite && shipment.is_empty() {
                return Ok(outcome);
            }
            show_shipment(&shipment, out)?;
            guard(backend, &existing, &shipment, configs(&outcome, rewrite)?)?;
            backend.ship(shipment);
            if rewrite {
                repair(backend, &outcome, s.now, out)?;
            }
            backend.ship_now()?;
            return Ok(outcome);
        }
        show_shipment(&shipment, out)?;
        guard(backend, &existing, &shipment, configs(&outcome, true)?)?;
        backend.ship(shipment);
        let state = run_plan(backend, &outcome, s.now, out).map_err(|e| refuse(format!("{e:#}")))?;
        writeln!(out, "done: revision {}, production {}", state.revision, state.traffic_summary())?;
        Ok(outcome)
    });
    let released = backend.unlock(key);
    let outcome = result?;
    released?;
    Ok(outcome)
}

/// The environment's files a change writes (name and text): every configuration of its plan and of its undo;
/// for a change that writes none, the configuration its state describes when `rewrite` (a repair), else none.
pub(crate) fn configs(outcome: &Outcome, rewrite: bool) -> Result<Vec<(String, String)>, Failure> {
    let mut configs = Vec::new();
    for step in outcome.plan.steps.iter().chain(&outcome.undo.steps) {
        if let Step::WriteConfig { file, config, .. } = step {
            configs.push((file.clone(), to_yaml(config).map_err(|e| Failure::Broken(e.into()))?));
        }
    }
    if configs.is_empty() && rewrite {
        let file = switchyard_model::naming::config_file(&outcome.key.app, &outcome.key.env);
        configs.push((file, to_yaml(&outcome.after).map_err(|e| Failure::Broken(e.into()))?));
    }
    Ok(configs)
}

/// Refuses the change (exit 1, nothing written) when Traefik's provider directory, as it would be after the
/// change's writes, has an error: every error, at its file and line there.
pub(crate) fn guard(
    backend: &dyn Backend,
    existing: &[(String, String)],
    shipment: &Shipment,
    configs: Vec<(String, String)>,
) -> Result<(), Failure> {
    let problems = directory::problems_after(existing, shipment, &configs);
    if problems.is_empty() {
        return Ok(());
    }
    let dir = backend.provider_dir();
    let mut sources = BTreeMap::new();
    let mut diagnostics = Vec::new();
    for problem in problems {
        let mut d = problem.diagnostic;
        if let Some(location) = &mut d.location {
            location.file = format!("{dir}/{}", location.file);
            sources.insert(location.file.clone(), problem.text);
        }
        diagnostics.push(d);
    }
    let text = report::render_with(&diagnostics, &|f| sources.get(f).map(String::as_str), false);
    Err(Failure::Refused(format!(
        "{text}error: Traefik's directory {dir}, as this change would leave it, has {} error(s): Traefik would \
         refuse a file or disable what uses it; nothing was changed\n",
        diagnostics.len()
    )))
}

/// Says what a change ships of the user's files.
pub(crate) fn show_shipment(shipment: &Shipment, out: &mut dyn Write) -> Result<(), Failure> {
    for (name, _) in &shipment.writes {
        writeln!(out, "traefik.files: {name} goes into Traefik's directory")?;
    }
    for name in shipment.removals.iter().filter(|n| *n != directory::SHIPPED_LIST) {
        writeln!(out, "traefik.files: {name} is no longer declared; it leaves Traefik's directory")?;
    }
    Ok(())
}

/// Writes the configuration `outcome`'s state describes.
pub(crate) fn repair(
    backend: &mut dyn Backend,
    outcome: &Outcome,
    now: Timestamp,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let step = Step::WriteConfig {
        file: switchyard_model::naming::config_file(&outcome.key.app, &outcome.key.env),
        reason: "repair: the configuration the state describes, after an interrupted change".into(),
        config: outcome.after.clone(),
    };
    writeln!(out, "[repair] {step}")?;
    let mut state = outcome.state.clone();
    backend.step(&step, &mut state, now, out)?;
    backend.flush()?;
    Ok(())
}

/// The change the model plans on the backend's current state, and that state.
pub(crate) fn compute(
    s: &Session,
    backend: &mut dyn Backend,
    key: &EnvKey,
    request: &Change,
) -> Result<(World, Outcome), Failure> {
    let world = backend.load_world()?;
    let outcome = plan(s, &world, key, request)?;
    Ok((world, outcome))
}

/// The policies' input for a planned change: the world before and after, the changed environment's
/// configuration after, and the plan.
pub(crate) fn change_input_json(
    s: &Session,
    world: &World,
    key: &EnvKey,
    request: &Change,
    repair: bool,
    outcome: &Outcome,
) -> Result<Vec<u8>, Failure> {
    switchyard_model::policy::change_input(&s.spec, s.source.as_ref(), world, key, request, repair, outcome)
        .map_err(|e| Failure::Broken(anyhow!(e)))
}

/// Runs the session's policies on a planned change: findings are shown; an error finding refuses the change
/// (exit 1) and a policy that cannot answer stops it (exit 2), before anything is applied.
pub(crate) fn police(
    s: &Session,
    world: &World,
    key: &EnvKey,
    request: &Change,
    opts: &ChangeOpts,
    outcome: &Outcome,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let Some(gate) = &s.gate else { return Ok(()) };
    if !outcome.changed {
        return Ok(());
    }
    let input = change_input_json(s, world, key, request, opts.repair, outcome)?;
    let verdict = gate.evaluate(&input);
    if !verdict.diagnostics.is_empty() {
        let text = s.source.as_ref().map(|src| src.text.as_str());
        out.write_all(report::render(&verdict.diagnostics, text).as_bytes())?;
    }
    if !verdict.failures.is_empty() {
        let failures: Vec<String> = verdict.failures.iter().map(ToString::to_string).collect();
        return Err(Failure::Broken(anyhow!("{}\nnothing was changed", failures.join("\nerror: "))));
    }
    let errors = verdict.diagnostics.iter().filter(|d| d.is_error()).count();
    if errors > 0 {
        return Err(refuse(format!("{errors} policy error(s): {} refused, nothing was changed", request.describe())));
    }
    Ok(())
}

/// The change the model plans on `world`.
pub(crate) fn plan(s: &Session, world: &World, key: &EnvKey, request: &Change) -> Result<Outcome, Failure> {
    let ctx = Context { now: s.now, actor: Some(s.actor.clone()) };
    switchyard_model::apply(&s.spec, world, key, request, &ctx).map_err(|e| refuse_diagnostic(&e.to_diagnostic()))
}

/// Shows a computed change; for a dry run, with the plan and the configuration diff.
pub(crate) fn show(
    outcome: &Outcome,
    key: &EnvKey,
    request: &Change,
    opts: &ChangeOpts,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    if opts.repair {
        writeln!(out, "{key}: repair (recorded revision {})", outcome.state.revision)?;
        return Ok(());
    }
    if !outcome.diagnostics.is_empty() {
        out.write_all(report::render(&outcome.diagnostics, None).as_bytes())?;
    }
    writeln!(out, "{key}: {}", request.describe())?;
    if !outcome.changed {
        writeln!(out, "nothing to do")?;
        return Ok(());
    }
    if opts.dry_run {
        writeln!(out, "plan (dry run, nothing changed):")?;
        write!(out, "{}", outcome.plan)?;
        let diff = outcome_diff(outcome).map_err(|e| Failure::Broken(e.into()))?;
        if diff.is_empty() {
            writeln!(out, "the Traefik configuration does not change")?;
        } else {
            writeln!(out, "configuration diff:")?;
            out.write_all(diff.as_bytes())?;
        }
    }
    Ok(())
}
