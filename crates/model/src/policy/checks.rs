//! The model's checks as a policy (the module's documentation lists them in order).

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use super::abi::{ABI_VERSION, Answer, Finding, Input, Source};
use super::lazy::parse;
use crate::naming;
use crate::render::{render_env, to_yaml};
use crate::spec::Spec;
use crate::state::EnvState;
use crate::traefik::RenderedConfig;
use crate::valid_spec::ValidSpec;
use switchyard_diagnostics::{Diagnostic, KeyPath};
use switchyard_traefik::validate;
use switchyard_yaml::SourceMap;

/// The model's policy: reads the input JSON and answers JSON (never panics on any input). For a change, only the
/// changed environment is checked (the others did not change; a plain check covers them all).
pub fn evaluate(input: &[u8]) -> String {
    let answer = match parse(input) {
        Ok(input) => {
            let Input { abi, spec, spec_source, after, config, .. } = input;
            // The spec moves into the renderer's ValidSpec rather than being copied.
            let found = checks(abi, Cow::Owned(spec), spec_source.as_ref(), &after, &config);
            Answer::Findings { findings: found.iter().map(Finding::from).collect() }
        }
        Err(e) => Answer::Error { error: format!("the input is not ABI v{ABI_VERSION} JSON: {e}") },
    };
    serde_json::to_string(&answer).unwrap_or_else(|e| format!("{{\"error\":\"could not write the answer: {e}\"}}"))
}

/// The model's checks (see the module's documentation).
pub fn findings(input: &Input) -> Vec<Diagnostic> {
    checks(input.abi, Cow::Borrowed(&input.spec), input.spec_source.as_ref(), &input.after, &input.config)
}

/// [`findings`] on the parts of an input, the spec borrowed or owned.
fn checks(
    abi: u32,
    spec: Cow<'_, Spec>,
    spec_source: Option<&Source>,
    after: &[EnvState],
    config: &BTreeMap<String, RenderedConfig>,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if abi != ABI_VERSION {
        out.push(Diagnostic::error(
            "SY0409",
            format!("the input is for ABI version {abi}, this policy reads version {ABI_VERSION}"),
        ));
        return out;
    }
    let hosts = spec.validate(&mut out);
    if let Some(source) = spec_source
        && out.iter().any(|d| d.location.is_none() && d.path.is_some())
    {
        SourceMap::new(&source.text, &source.file).attach(&mut out);
    }
    let Some(hosts) = hosts else { return out };
    if out.iter().any(Diagnostic::is_error) {
        return out;
    }
    // The spec as the renderer wants it; validation already ran, so no warnings twice.
    let spec = ValidSpec { spec: spec.into_owned(), hosts, warnings: Vec::new() };
    let mut seen = BTreeSet::new();
    let mut files = Vec::new();
    for state in after {
        let key = format!("{}/{}", state.app, state.env);
        let path = KeyPath::root().key("after").key(&key);
        if !seen.insert(key.clone()) {
            out.push(Diagnostic::error("SY0406", format!("{key} appears twice in the states")).at(path.as_str()));
            continue;
        }
        let declared = spec.spec.apps.get(&state.app).is_some_and(|a| a.environments.contains_key(&state.env));
        if !declared {
            out.push(
                Diagnostic::error("SY0401", format!("there is a state for {key}, which the spec does not declare"))
                    .at(path.as_str())
                    .hint("declare the environment in the spec again, or remove its state"),
            );
            continue;
        }
        let before = out.len();
        check_state(state, &path, &mut out);
        if out.len() > before {
            continue;
        }
        let rendered = match render_env(&spec, state) {
            Ok(r) => r.config,
            Err(e) => {
                out.push(Diagnostic::error("SY0407", format!("{key} does not render: {e}")).at(path.as_str()));
                continue;
            }
        };
        let Some(given) = config.get(&key) else { continue };
        if *given != rendered {
            out.push(
                Diagnostic::error(
                    "SY0408",
                    format!("the configuration given for {key} is not the one the model renders for its state"),
                )
                .at(KeyPath::root().key("config").key(&key).as_str())
                .hint("the file Traefik reads was changed by hand, or the host is not this version of switchyard"),
            );
        }
        match to_yaml(&rendered) {
            Ok(text) => files.push((naming::config_file(&state.app, &state.env), text)),
            Err(e) => out.push(Diagnostic::error("SY0407", format!("{key} does not render: {e}")).at(path.as_str())),
        }
    }
    if !files.is_empty() {
        // The middlewares the spec names (`secure-headers@file`) are defined in the user's own files or by another
        // provider, which the input does not carry: a reference to one is not a problem of these files.
        out.extend(validate::validate_files(&files).into_iter().filter(|d| !matches!(&*d.code, "SY3202" | "SY3208")));
    }
    out
}

/// The state's own consistency: slots, live slot, split, deployments.
fn check_state(state: &EnvState, path: &KeyPath, out: &mut Vec<Diagnostic>) {
    let key = format!("{}/{}", state.app, state.env);
    let mut versions = BTreeSet::new();
    let mut slugs = BTreeSet::new();
    for d in &state.deployments {
        if !versions.insert(d.version.as_str()) || !slugs.insert(d.slug.as_str()) {
            out.push(
                Diagnostic::error(
                    "SY0405",
                    format!("{key}: {} is deployed twice (or its slug {} is)", d.version, d.slug),
                )
                .at(path.key("deployments").as_str()),
            );
        }
    }
    for (slot, version) in &state.slots {
        if !versions.contains(version.as_str()) {
            out.push(
                Diagnostic::error("SY0402", format!("{key}: the {slot} slot holds {version}, which is not deployed"))
                    .at(path.key("slots").key(slot.as_str()).as_str()),
            );
        }
    }
    if let Some(live) = state.live
        && !state.slots.contains_key(&live)
    {
        out.push(
            Diagnostic::error("SY0403", format!("{key}: the live slot {live} holds no version"))
                .at(path.key("live").as_str()),
        );
    }
    if let Some(split) = state.split {
        let problem = if state.live.is_none() {
            Some("nothing is live".to_string())
        } else if state.live == Some(split.slot) {
            Some(format!("the split is on the live slot {}", split.slot))
        } else if !state.slots.contains_key(&split.slot) {
            Some(format!("the split's slot {} holds no version", split.slot))
        } else if !(1..=99).contains(&split.share) {
            Some(format!("the split's share is {}%, not 1 to 99", split.share))
        } else {
            None
        };
        if let Some(problem) = problem {
            out.push(
                Diagnostic::error("SY0404", format!("{key}: a promotion is under way but {problem}"))
                    .at(path.key("split").as_str()),
            );
        }
    }
}
