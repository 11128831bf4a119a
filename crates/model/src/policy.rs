//! Policies: the JSON a policy module receives and answers (ABI v1, `docs/policy-abi.md`), and the model's own
//! checks as a policy ([`evaluate`]), which `crates/policy` compiles to WebAssembly.
//!
//! Both sides use these types: the host (the CLI) writes an [`InputRef`] and reads an [`Answer`]; a policy
//! written in Rust reads an [`Input`] and writes an [`Answer`]. A finding has the shape of a [`Diagnostic`]
//! with a code of the policy's choosing.
//!
//! The model's checks, in order, each returning every problem it finds:
//! 1. the spec's values ([`Spec::validate`]): what `switchyard validate` says about it, located in
//!    `spec_source` when it is given;
//! 2. every environment state of `after`: it belongs to an app and environment of the spec, its slots hold
//!    deployed versions, the live slot and the split are consistent (SY0401-SY0406);
//! 3. the state renders ([`render_env`], which checks the [`crate::invariants`]), and the configuration the
//!    host sent for it is the one the model renders (SY0407, SY0408);
//! 4. the validator ([`validate::validate_files`]) on the rendered files of the environments in `config`
//!    (all of them for a plain check; the changed one for a change), as Traefik would read them together;
//!    except SY3202 and SY3208 (middlewares the spec names are defined in the user's own files or by another
//!    provider, which the input does not carry).
//!
//! For a change, only the changed environment's state and configuration are checked (and parsed: [`evaluate`]
//! reads the others only for their `app` and `env`, in the one pass over the input that checks it is JSON); a
//! plain check (`change: null`) checks every environment.
//!
//! The codes are SY0401-SY0409, each with its severity and meaning in [`switchyard_diagnostics::registry`].

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::de::value::{MapAccessDeserializer, MapDeserializer, SeqDeserializer};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::naming;
use crate::render::{render_env, to_yaml};
use crate::spec::Spec;
use crate::state::{EnvKey, EnvState, World};
use crate::traefik::RenderedConfig;
use crate::transition::{Change, Outcome};
use crate::valid_spec::ValidSpec;
use switchyard_diagnostics::{Diagnostic, KeyPath, Location, Severity};
use switchyard_traefik::validate;
use switchyard_yaml::SourceMap;

/// The ABI version this model writes and reads. A new major version gets a new entry point
/// (`switchyard_policy_v2`); fields may be added to a version without changing it.
pub const ABI_VERSION: u32 = 1;

/// The requested change, as the command line names it. Its keys come in this order and its strings are
/// validated names (letters, digits, `.`, `_`, `+`, `-`), so a policy may scan the raw JSON for them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeInput {
    /// `create`, `repair`, `deploy`, `observe`, `promote`, `shift`, `complete`, `rollback`, `retire`, `cleanup`.
    pub command: String,
    pub app: String,
    pub env: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Percent of production traffic the candidate gets (`promote`, `shift`); always the last key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share: Option<u8>,
}

/// The spec's file and text, for locating findings (lines and columns).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    pub file: String,
    pub text: String,
}

/// What the host sends, borrowed (the host serialises it without copying the world).
#[derive(Debug, Serialize)]
pub struct InputRef<'a> {
    pub abi: u32,
    /// First after `abi`: `{"abi":1,"change":null,` or `{"abi":1,"change":{"command":...}`.
    pub change: Option<&'a ChangeInput>,
    pub spec: &'a Spec,
    pub spec_source: Option<&'a Source>,
    pub before: Vec<&'a EnvState>,
    pub after: Vec<&'a EnvState>,
    pub config: BTreeMap<String, &'a RenderedConfig>,
    pub plan: &'a serde_json::Value,
}

/// What a policy receives (see `docs/policy-abi.md`). Unknown fields are ignored: later minor versions add some.
#[derive(Debug, Clone, Deserialize)]
pub struct Input {
    pub abi: u32,
    #[serde(default)]
    pub change: Option<ChangeInput>,
    pub spec: Spec,
    #[serde(default)]
    pub spec_source: Option<Source>,
    #[serde(default)]
    pub before: Vec<EnvState>,
    #[serde(default)]
    pub after: Vec<EnvState>,
    #[serde(default)]
    pub config: BTreeMap<String, RenderedConfig>,
}

/// One finding: a diagnostic with the policy's own code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub code: String,
    pub severity: Severity,
    pub message: String,
    /// Key path, e.g. `apps.whoami.environments.prod.tls`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hints: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
}

impl From<&Diagnostic> for Finding {
    fn from(d: &Diagnostic) -> Self {
        Finding {
            code: d.code.to_string(),
            severity: d.severity,
            message: d.message.clone(),
            path: d.path.clone(),
            hint: None,
            hints: d.hints.clone(),
            file: d.location.as_ref().map(|l| l.file.clone()),
            line: d.location.as_ref().map(|l| l.line),
            column: d.location.as_ref().map(|l| l.column),
        }
    }
}

impl Finding {
    /// The finding as a diagnostic, with its own code (owned: a policy's codes are not switchyard's).
    pub fn to_diagnostic(&self) -> Diagnostic {
        let mut hints = Vec::new();
        hints.extend(self.hint.clone());
        hints.extend(self.hints.iter().cloned());
        Diagnostic {
            code: Cow::Owned(self.code.clone()),
            severity: self.severity,
            message: self.message.clone(),
            path: self.path.clone(),
            location: self.file.as_ref().map(|file| Location {
                file: file.clone(),
                line: self.line.unwrap_or(1),
                column: self.column.unwrap_or(1),
            }),
            hints,
        }
    }
}

/// A policy's answer: its findings, or why it could not decide.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Answer {
    Findings { findings: Vec<Finding> },
    Error { error: String },
}

/// The input as [`evaluate`] reads it: states and configurations stay raw JSON until they are needed, and
/// `before` and `plan` are skipped (the model's checks do not use them).
#[derive(Deserialize)]
struct Lazy<'a> {
    abi: u32,
    #[serde(default)]
    change: Option<ChangeInput>,
    spec: Spec,
    #[serde(default)]
    spec_source: Option<Source>,
    #[serde(default, borrow)]
    after: Vec<RawState<'a>>,
    #[serde(default, borrow)]
    config: BTreeMap<String, &'a RawValue>,
}

/// A state of `after` as [`evaluate`] first reads it: which environment it is for, and its top-level entries as
/// raw JSON, so that only the states it checks are parsed, in the same pass over the input that finds their
/// environment (reading each state again just for its `app` and `env` cost as much as skipping it).
///
/// It accepts exactly what reading the state as `struct StateKey { app: String, env: String }` (unknown
/// fields ignored) would: an object with one `app` and one `env`, both strings (keys compared unescaped, a key
/// twice is an error), or an array whose two elements are those strings; the other values are checked to be
/// JSON and nothing more until the state is parsed.
struct RawState<'a> {
    app: Cow<'a, str>,
    env: Cow<'a, str>,
    /// Its top-level entries in order, or None when it is an array (which is never an [`EnvState`]).
    entries: Option<Vec<(Cow<'a, str>, &'a RawValue)>>,
}

impl RawState<'_> {
    /// The state, as parsing its JSON text as an [`EnvState`] would give it (the errors say where in the state's
    /// values rather than where in its text).
    fn parse(self) -> Result<EnvState, serde_json::Error> {
        match self.entries {
            Some(entries) => {
                let mut map = MapDeserializer::new(entries.into_iter());
                let state = EnvState::deserialize(MapAccessDeserializer::new(&mut map))?;
                map.end()?;
                Ok(state)
            }
            // As an array, an EnvState begins with its `format`, a number: these strings are not one.
            None => {
                EnvState::deserialize(SeqDeserializer::<_, serde_json::Error>::new([self.app, self.env].into_iter()))
            }
        }
    }
}

/// A string, borrowed from the input when it has no escapes (as `#[serde(borrow)] Cow<str>` reads it).
struct CowStr;

impl<'de> DeserializeSeed<'de> for CowStr {
    type Value = Cow<'de, str>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for CowStr {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

struct RawStateVisitor;

impl<'de> Visitor<'de> for RawStateVisitor {
    type Value = RawState<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("struct StateKey")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut app, mut env) = (None, None);
        // As many as the fields of an EnvState: one allocation for a state as hosts write it.
        let mut entries = Vec::with_capacity(9);
        while let Some(key) = map.next_key_seed(CowStr)? {
            let value: &'de RawValue = map.next_value()?;
            let (field, seen) = match &*key {
                "app" => ("app", &mut app),
                "env" => ("env", &mut env),
                _ => {
                    entries.push((key, value));
                    continue;
                }
            };
            if seen.is_some() {
                return Err(de::Error::duplicate_field(field));
            }
            *seen = Some(CowStr.deserialize(value).map_err(de::Error::custom)?);
            entries.push((key, value));
        }
        let app = app.ok_or_else(|| de::Error::missing_field("app"))?;
        let env = env.ok_or_else(|| de::Error::missing_field("env"))?;
        Ok(RawState { app, env, entries: Some(entries) })
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let app = seq.next_element_seed(CowStr)?.ok_or_else(|| de::Error::invalid_length(0, &self))?;
        let env = seq.next_element_seed(CowStr)?.ok_or_else(|| de::Error::invalid_length(1, &self))?;
        Ok(RawState { app, env, entries: None })
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for RawState<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_struct("StateKey", &["app", "env"], RawStateVisitor)
    }
}

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

/// The [`Input`] to check: every state and configuration for a plain check, the changed environment's for a
/// change.
fn parse(input: &[u8]) -> Result<Input, serde_json::Error> {
    let lazy: Lazy<'_> = serde_json::from_slice(input)?;
    let wanted = |app: &str, env: &str| match &lazy.change {
        Some(c) => c.app == app && c.env == env,
        None => true,
    };
    let mut after = Vec::new();
    for state in lazy.after {
        if wanted(&state.app, &state.env) {
            after.push(state.parse()?);
        }
    }
    let mut config = BTreeMap::new();
    for (key, raw) in &lazy.config {
        let (app, env) = key.split_once('/').unwrap_or((key.as_str(), ""));
        if wanted(app, env) {
            config.insert(key.clone(), serde_json::from_str::<RenderedConfig>(raw.get())?);
        }
    }
    Ok(Input {
        abi: lazy.abi,
        change: lazy.change,
        spec: lazy.spec,
        spec_source: lazy.spec_source,
        before: Vec::new(),
        after,
        config,
    })
}

/// The model's checks (see the module's documentation).
pub fn check(input: &Input) -> Vec<Diagnostic> {
    checks(input.abi, Cow::Borrowed(&input.spec), input.spec_source.as_ref(), &input.after, &input.config)
}

/// [`check`] on the parts of an input, the spec borrowed or owned.
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

/// Findings sorted the way reports show them: errors first, then by code and path.
pub fn errors_first(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.severity.cmp(&a.severity).then_with(|| a.code.cmp(&b.code)).then_with(|| a.path.cmp(&b.path))
    });
}

// ---- The host's side: what the CLI (wasmtime) and the playground (the browser) both do ----------------------

/// The change as policies see it: the command's name and its arguments (`repair` is the `create` request that
/// `switchyard repair` plans).
pub fn change_of(request: &Change, key: &EnvKey, repair: bool) -> ChangeInput {
    let (command, version, share) = match request {
        Change::Create if repair => ("repair", None, None),
        Change::Create => ("create", None, None),
        Change::Deploy { version } => ("deploy", Some(version.clone()), None),
        Change::ObserveHealth { version, .. } => ("observe", Some(version.clone()), None),
        Change::Promote { version, share } => ("promote", Some(version.clone()), Some(*share)),
        Change::SetShare { share } => ("shift", None, Some(*share)),
        Change::Complete => ("complete", None, None),
        Change::Rollback => ("rollback", None, None),
        Change::Retire { version } => ("retire", Some(version.clone()), None),
        Change::Cleanup => ("cleanup", None, None),
    };
    ChangeInput { command: command.into(), app: key.app.clone(), env: key.env.clone(), version, share }
}

fn write_input(input: &InputRef<'_>) -> Result<Vec<u8>, String> {
    serde_json::to_vec(input).map_err(|e| format!("could not write the policies' input: {e}"))
}

/// The input of a plain check (`switchyard check` without a change): the spec, every environment's state as
/// recorded (before and after alike) and the configuration of every environment that renders.
pub fn check_input(spec: &ValidSpec, source: Option<&Source>, world: &World) -> Result<Vec<u8>, String> {
    let mut configs = BTreeMap::new();
    for (key, state) in world {
        // A state that does not render has no configuration; the policies see why in its state.
        if let Ok(rendered) = render_env(spec, state) {
            configs.insert(format!("{}/{}", key.app, key.env), rendered.config);
        }
    }
    let plan = serde_json::Value::Array(Vec::new());
    write_input(&InputRef {
        abi: ABI_VERSION,
        change: None,
        spec: &spec.spec,
        spec_source: source,
        before: world.values().collect(),
        after: world.values().collect(),
        config: configs.iter().map(|(k, c)| (k.clone(), c)).collect(),
        plan: &plan,
    })
}

/// The input for a change the model planned (`outcome`, of `request` on `key` in `world`): the world before and
/// after, the changed environment's configuration after, and the plan.
pub fn change_input(
    spec: &ValidSpec,
    source: Option<&Source>,
    world: &World,
    key: &EnvKey,
    request: &Change,
    repair: bool,
    outcome: &Outcome,
) -> Result<Vec<u8>, String> {
    let mut after = world.clone();
    after.insert(key.clone(), outcome.state.clone());
    let change = change_of(request, key, repair);
    let plan = serde_json::to_value(&outcome.plan.steps).map_err(|e| format!("could not write the plan: {e}"))?;
    write_input(&InputRef {
        abi: ABI_VERSION,
        change: Some(&change),
        spec: &spec.spec,
        spec_source: source,
        before: world.values().collect(),
        after: after.values().collect(),
        config: BTreeMap::from([(format!("{}/{}", key.app, key.env), &outcome.after)]),
        plan: &plan,
    })
}

/// The longest message or hint of a finding kept, in characters: a policy cannot flood a terminal or a page.
const MAX_TEXT: usize = 4000;

/// `text` cut to `max` characters, with `...` when it was cut.
pub fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text.to_string(),
    }
}

/// Reads a policy's answer (the UTF-8 text it returned) as every host must: its findings, each with a code of 1
/// to 64 letters, digits, `-`, `_`, `.` or `/`; or why it is not an answer (the error names no policy: the host
/// adds that).
pub fn read_answer(text: &str) -> Result<Vec<Finding>, String> {
    let answer: Answer = serde_json::from_str(text).map_err(|e| {
        format!("its answer is not ABI v{ABI_VERSION} JSON ({{\"findings\":[...]}} or {{\"error\":\"...\"}}): {e}")
    })?;
    match answer {
        Answer::Error { error } => Err(format!("could not decide: {}", clip(&error, 2000))),
        Answer::Findings { findings } => {
            for (i, f) in findings.iter().enumerate() {
                let good = !f.code.is_empty()
                    && f.code.len() <= 64
                    && f.code.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./".contains(&b));
                if !good {
                    return Err(format!(
                        "finding {i} has the code {:?}; codes are 1 to 64 letters, digits, '-', '_', '.' or '/'",
                        clip(&f.code, 80)
                    ));
                }
            }
            Ok(findings)
        }
    }
}

/// A finding as a diagnostic, its message naming the policy (`name`, the module's file name) that reported it.
/// Messages and hints are clipped.
pub fn finding_diagnostic(name: &str, finding: &Finding) -> Diagnostic {
    let mut d = finding.to_diagnostic();
    d.message = format!("{} (policy {name})", clip(&d.message, MAX_TEXT));
    for hint in &mut d.hints {
        *hint = clip(hint, MAX_TEXT);
    }
    d
}

#[cfg(test)]
mod tests;
