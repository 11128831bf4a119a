//! `switchyard status`: slots, traffic, versions and URLs, and what Traefik really serves.

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::{Result, anyhow};
use switchyard_model::render::{render_env, to_yaml};
use switchyard_model::served::{RawData, Served, compare};
use switchyard_model::view::status;
use switchyard_model::{EnvKey, EnvState, ValidSpec};

use crate::args::{Cli, StatusArgs, Target};
use crate::backend::{Backend, TraefikView};
use crate::session::{Failure, Session, load_spec, refuse, session, traefik_backend};

pub(crate) fn run(cli: &Cli, args: &StatusArgs, out: &mut dyn Write) -> Result<(), Failure> {
    let StatusArgs { target, json, check, traefik_api } = args;
    let s = session(cli, load_spec(&cli.spec)?)?;
    let mut backend = traefik_backend(cli, &s.spec, traefik_api.as_deref())?;
    print_status(&s, backend.as_mut(), target, &StatusOpts { json: *json, check: *check }, out)
}

/// How `status` reports.
pub(crate) struct StatusOpts {
    pub(crate) json: bool,
    /// Exit 1 when Traefik and the state disagree, 2 when Traefik cannot be asked.
    pub(crate) check: bool,
}

pub(crate) fn print_status(
    s: &Session,
    backend: &mut dyn Backend,
    target: &Target,
    opts: &StatusOpts,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let world = backend.load_world()?;
    let shown: Vec<(&EnvKey, &EnvState)> = world
        .iter()
        .filter(|(key, _)| {
            target.app.as_ref().is_none_or(|a| *a == key.app) && target.env.as_ref().is_none_or(|e| *e == key.env)
        })
        .collect();
    // What Traefik serves, asked once for every environment shown.
    let traefik: Result<Option<(TraefikView, RawData)>, String> = if shown.is_empty() {
        Ok(None)
    } else {
        match backend.traefik() {
            Ok(Some(view)) => match RawData::parse(&view.rawdata) {
                Ok(raw) => Ok(Some((view, raw))),
                Err(e) => Err(format!("{e} (asked {})", view.source)),
            },
            Ok(None) => Ok(None),
            Err(e) => Err(format!("{e:#}")),
        }
    };
    let mut statuses = Vec::new();
    let mut disagree = Vec::new();
    for (key, state) in shown {
        let (mut runtime, file_agrees) = host_lines(&s.spec, backend, key, state)?;
        runtime.extend(backend.runtime_view(state)?);
        let served = match &traefik {
            Ok(Some((view, raw))) => Some(
                compare(&s.spec, state, raw, view.provider_failure.as_deref())
                    .map_err(|e| Failure::Broken(e.into()))?,
            ),
            _ => None,
        };
        if !file_agrees || served.as_ref().is_some_and(|sv| !sv.agrees()) {
            disagree.push(key.to_string());
        }
        statuses.push((status(&s.spec, state).map_err(|e| Failure::Broken(e.into()))?, runtime, served));
    }
    let source = traefik.as_ref().ok().and_then(|t| t.as_ref()).map(|(view, _)| view.source.as_str());
    let unseen = match &traefik {
        Ok(Some(_)) => None,
        // Nothing to compare: no environment shown.
        Ok(None) if statuses.is_empty() => None,
        Ok(None) => Some(
            "switchyard cannot see what Traefik serves: give its API with --traefik-api URL (e.g. \
             http://127.0.0.1:8080: Traefik's `traefik` entry point with --api.insecure)"
                .to_string(),
        ),
        Err(e) => Some(format!("could not ask Traefik what it serves: {e}")),
    };
    if opts.json {
        let values: Vec<serde_json::Value> = statuses
            .iter()
            .map(|(st, runtime, served)| {
                let mut v = serde_json::to_value(st).unwrap_or_default();
                if !runtime.is_empty() {
                    v["runtime"] = serde_json::json!(runtime);
                }
                v["traefik"] = match (served, &unseen) {
                    (Some(served), _) => {
                        let mut t = serde_json::to_value(served).unwrap_or_default();
                        t["source"] = serde_json::json!(source);
                        t["agrees"] = serde_json::json!(served.agrees());
                        t
                    }
                    (None, reason) => serde_json::json!({ "error": reason }),
                };
                v
            })
            .collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&values).map_err(anyhow::Error::from)?)?;
    } else if statuses.is_empty() {
        writeln!(out, "no environment has been created yet; run `switchyard create`")?;
    } else {
        for (st, runtime, served) in statuses {
            write!(out, "{st}")?;
            if !runtime.is_empty() {
                writeln!(out, "  on the host:")?;
                for line in runtime {
                    writeln!(out, "    {line}")?;
                }
            }
            match (served, &unseen) {
                (Some(served), _) => print_served(&served, source.unwrap_or("its API"), out)?,
                (None, Some(reason)) => writeln!(out, "  Traefik: {reason}")?,
                (None, None) => {}
            }
        }
    }
    if opts.check {
        if let Some(reason) = unseen {
            return Err(Failure::Broken(anyhow!("status --check: {reason}")));
        }
        if !disagree.is_empty() {
            return Err(refuse(format!(
                "status --check: Traefik and the state disagree for {} (see above)",
                disagree.join(", ")
            )));
        }
    }
    Ok(())
}

/// What Traefik serves for one environment, for people.
pub(crate) fn print_served(served: &Served, source: &str, out: &mut dyn Write) -> Result<(), Failure> {
    writeln!(out, "  Traefik ({source}):")?;
    let counts = |entries: &[switchyard_model::served::Entry]| -> String {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for e in entries {
            let label = match (e.expected, e.status) {
                (false, _) => "stale".to_string(),
                (true, None) => "missing".to_string(),
                (true, Some(status)) => status.to_string(),
            };
            *counts.entry(label).or_default() += 1;
        }
        if counts.is_empty() {
            return "none".into();
        }
        counts.iter().map(|(label, n)| format!("{n} {label}")).collect::<Vec<_>>().join(", ")
    };
    writeln!(out, "    routers: {}; services: {}", counts(&served.routers), counts(&served.services))?;
    for finding in &served.findings {
        writeln!(out, "    {}: {}", finding.code, finding.message)?;
    }
    if !served.servers.is_empty() {
        writeln!(out, "    servers, as Traefik's health checks see them:")?;
        for server in &served.servers {
            let role = match (server.slot, server.share) {
                (Some(slot), 0) => format!("{slot}, no production traffic"),
                (Some(slot), share) => format!("{slot}, {share}% of production"),
                (None, _) => "preview".to_string(),
            };
            writeln!(out, "      {} [{role}] {} {}: {}", server.version, server.service, server.url, server.status)?;
        }
    }
    if served.agrees() {
        writeln!(out, "    Traefik serves what the state says")?;
    } else {
        writeln!(out, "    Traefik and the state DISAGREE: {} finding(s)", served.findings.len())?;
    }
    Ok(())
}

/// Traefik's file beside the state (does it say what the state says? the second value), the lock, an unfinished
/// change.
pub(crate) fn host_lines(
    spec: &ValidSpec,
    backend: &mut dyn Backend,
    key: &EnvKey,
    state: &EnvState,
) -> Result<(Vec<String>, bool)> {
    let file = switchyard_model::naming::config_file(&key.app, &key.env);
    let view = backend.host_view(key, &file)?;
    let expected = render_env(spec, state).map_err(|e| anyhow!("{e}"))?.config;
    let (file_agrees, mut lines) = match &view.store {
        Some(store) => {
            let wanted = switchyard_traefik::kv::pairs(&store.root, &expected).map_err(|e| anyhow!("{e}"))?;
            let agrees = store.keys == wanted;
            let line = match () {
                _ if store.keys.is_empty() && !wanted.is_empty() => {
                    format!("routing in {}: MISSING; `switchyard repair` writes it", store.endpoint)
                }
                _ if agrees => format!("routing in {}: as the state says ({} keys)", store.endpoint, wanted.len()),
                _ => format!(
                    "routing in {}: DIFFERS from the state (a change cut short, or an edit by hand); `switchyard \
                     repair` rewrites it",
                    store.endpoint
                ),
            };
            let mut lines = vec![line];
            for (api, served) in &store.instances {
                lines.push(match served {
                    Ok(Some(m)) if Some(m) == store.marker.as_ref() => format!("Traefik at {api}: serves it"),
                    Ok(Some(m)) => format!(
                        "Traefik at {api}: LAGS: it serves write {m}, the store holds {}",
                        store.marker.as_deref().unwrap_or("none")
                    ),
                    Ok(None) => format!("Traefik at {api}: LAGS: it serves none of this environment's writes"),
                    Err(e) => format!("Traefik at {api}: does not answer ({e})"),
                });
            }
            (agrees, lines)
        }
        None => {
            let expected = to_yaml(&expected).map_err(|e| anyhow!("{e}"))?;
            let agrees = view.config.as_ref() == Some(&expected);
            let line = match &view.config {
                None => format!("Traefik's file {file}: MISSING; `switchyard repair` writes it"),
                Some(_) if agrees => format!("Traefik's file {file}: as the state says"),
                Some(_) => format!(
                    "Traefik's file {file}: DIFFERS from the state (a change cut short, or an edit by hand); \
                     `switchyard repair` rewrites it"
                ),
            };
            (agrees, vec![line])
        }
    };
    match &view.lock {
        Some(holder) => lines.push(format!(
            "locked by {}{}",
            holder.describe(),
            if holder.is_dead() { " (that process is gone: the next change takes the lock over)" } else { "" }
        )),
        None => lines.push("not locked".to_string()),
    }
    if view.journal {
        lines.push(
            "a change cut short after its commit point waits to be finished: the next change (or `switchyard repair`) \
             finishes it"
                .to_string(),
        );
    }
    Ok((lines, file_agrees))
}
