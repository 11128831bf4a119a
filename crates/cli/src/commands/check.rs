//! `switchyard check`: policy modules on the spec and the recorded state, or on a proposed change.

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::anyhow;
use switchyard_model::Severity;

use crate::args::{CheckArgs, Cli};
use crate::commands::change::{change_input_json, plan};
use crate::report::report_diagnostics;
use crate::session::{Failure, backend, load_spec_with_source, resolve, session};

pub(crate) fn run(cli: &Cli, args: &CheckArgs, out: &mut dyn Write) -> Result<(), Failure> {
    let CheckArgs { target, policy, format, deny_warnings, change } = args;
    let (spec, source) = load_spec_with_source(&cli.spec)?;
    let mut s = session(cli, spec)?;
    s.source = Some(source);
    s.gate = policy.gate()?;
    let Some(gate) = &s.gate else {
        return Err(Failure::Broken(anyhow!("give at least one --policy PATH to check (docs/policy-abi.md)")));
    };
    let world = backend(cli, &s.spec)?.load_world()?;
    let input = match change {
        Some(proposed) => {
            let key = resolve(&s.spec, target)?;
            let environment = s.spec.spec.apps.get(&key.app).and_then(|a| a.environments.get(&key.env));
            let request = proposed.request(environment.and_then(|e| e.rollout.as_ref()));
            let outcome = plan(&s, &world, &key, &request)?;
            change_input_json(&s, &world, &key, &request, false, &outcome)?
        }
        None => switchyard_model::policy::check_input(&s.spec, s.source.as_ref(), &world)
            .map_err(|e| Failure::Broken(anyhow!(e)))?,
    };
    let verdict = gate.evaluate(&input);
    eprint!("{}", gate.describe());
    let sources: BTreeMap<String, String> = s.source.iter().map(|src| (src.file.clone(), src.text.clone())).collect();
    // A module that could not run is never reported ok.
    let checked: Vec<String> = policy
        .policies
        .iter()
        .enumerate()
        .filter(|(i, _)| !verdict.failed.contains(i))
        .map(|(_, p)| p.path.display().to_string())
        .collect();
    report_diagnostics(&verdict.diagnostics, &sources, *format, &checked, out)?;
    if !verdict.failures.is_empty() {
        let failures: Vec<String> = verdict.failures.iter().map(ToString::to_string).collect();
        return Err(Failure::Broken(anyhow!("{}", failures.join("\nerror: "))));
    }
    let failed =
        verdict.diagnostics.iter().any(|d| d.is_error() || (*deny_warnings && d.severity == Severity::Warning));
    if failed { Err(Failure::Refused(String::new())) } else { Ok(()) }
}
