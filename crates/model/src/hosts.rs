//! Hostnames from minijinja templates, sandboxed.
//!
//! A template is user input that runs on every render (also in the browser and in CI), so the environment is
//! locked down beyond minijinja's defaults: no loader (no file access), no global functions, only filters
//! whose output is linear in their input (`lower`, `slug`, `default`, `trim`), expressions only (no `{% %}`
//! statements, so no loops and no doubling through `set`), no `*` (string repetition), a source length limit,
//! strict undefined variables and a fuel limit. The output must be a valid hostname, so nothing rendered can
//! close a rule literal or start a Go template.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use minijinja::{Environment, UndefinedBehavior, Value, context};

use crate::names;
use crate::spec::{HostKind, Route, Spec};
use crate::state::Slot;
use crate::state::World;
use crate::valid_spec::ValidSpec;
use switchyard_diagnostics::{Diagnostic, KeyPath};

/// The longest host template accepted.
pub const MAX_TEMPLATE_LEN: usize = 256;
const FUEL: u64 = 2_000;

/// What a host is computed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostFor<'a> {
    Production,
    Slot(Slot),
    /// The version's slug (one DNS label).
    Preview(&'a str),
}

impl HostFor<'_> {
    fn kind(self) -> HostKind {
        match self {
            HostFor::Production => HostKind::Production,
            HostFor::Slot(_) => HostKind::Slot,
            HostFor::Preview(_) => HostKind::Preview,
        }
    }
}

/// Why a host could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HostError {
    #[error("no app {app:?} with an environment {env:?} in the spec")]
    UnknownEnvironment { app: String, env: String },
    #[error("the {kind} host template failed: {message}")]
    Template { kind: &'static str, message: String },
    #[error("the {kind} host template made {host:?}, which {reason}")]
    Invalid { kind: &'static str, host: String, reason: String },
}

/// The compiled host templates of a spec.
pub struct Hosts {
    env: Environment<'static>,
    /// By app and environment, for [`Hosts::base_host`] on every render.
    by_env: BTreeMap<String, BTreeMap<String, EnvHosts>>,
}

/// The domain and the three host templates of one environment of one app.
struct EnvHosts {
    domain: String,
    /// By [`HostKind::index`].
    templates: [Compiled; 3],
}

/// One template, shared by every environment that uses the same source for the same kind of host.
#[derive(Clone)]
struct Compiled {
    /// The template's name in the minijinja environment.
    name: Arc<str>,
    /// Its parts, when it is only variables and literal hostname characters.
    simple: Option<Arc<[Part]>>,
}

/// A piece of a simple template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    App,
    Env,
    Domain,
    Slot,
    Version,
}

/// The parts of a template made only of `{{ variable }}` expressions (each variable one the template gets for
/// `kind`) and literal hostname characters, such as the defaults `{{ version }}-{{ app }}.{{ domain }}`. It
/// renders by concatenation to exactly what minijinja makes of it (the variables are strings, written as they
/// are: no auto-escaping, no filters, no whitespace control, no trailing newline to strip), without running
/// the engine on every render. Anything else (filters, conditions, other characters) gives None and renders
/// through minijinja.
fn simple_template(source: &str, kind: HostKind) -> Option<Vec<Part>> {
    let literal_char = |c: char| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_';
    let mut parts = Vec::new();
    let mut rest = source;
    while !rest.is_empty() {
        let (literal, after) = match rest.find("{{") {
            Some(i) => (&rest[..i], Some(&rest[i + 2..])),
            None => (rest, None),
        };
        if !literal.chars().all(literal_char) {
            return None;
        }
        if !literal.is_empty() {
            parts.push(Part::Literal(literal.to_string()));
        }
        let Some(after) = after else { break };
        let end = after.find("}}")?;
        let var = match after[..end].trim_matches(' ') {
            "app" => Part::App,
            "env" => Part::Env,
            "domain" => Part::Domain,
            "slot" if kind == HostKind::Slot => Part::Slot,
            "version" if kind == HostKind::Preview => Part::Version,
            _ => return None,
        };
        parts.push(var);
        rest = &after[end + 2..];
    }
    Some(parts)
}

impl fmt::Debug for Hosts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let templates: Vec<_> = self
            .by_env
            .iter()
            .flat_map(|(app, envs)| {
                envs.iter().map(move |(env, h)| (app, env, h.templates.each_ref().map(|c| &*c.name)))
            })
            .collect();
        f.debug_struct("Hosts").field("templates", &templates).finish_non_exhaustive()
    }
}

fn sandbox() -> Environment<'static> {
    let mut env = Environment::empty();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(FUEL));
    env.set_recursion_limit(16);
    env.add_filter("lower", |s: &str| s.to_ascii_lowercase());
    env.add_filter("trim", |s: &str| s.trim().to_string());
    env.add_filter("slug", |s: &str| names::slug(s));
    env.add_filter("default", |v: Value, d: Value| if v.is_undefined() || v.is_none() { d } else { v });
    env
}

/// Refuses what the sandbox does not allow before minijinja sees it.
fn precheck(source: &str) -> Result<(), String> {
    if source.len() > MAX_TEMPLATE_LEN {
        return Err(format!("it is {} bytes long; a host template has at most {MAX_TEMPLATE_LEN}", source.len()));
    }
    if source.contains("{%") {
        return Err("it uses a `{% ... %}` statement; host templates are expressions only, e.g. `{{ app }}.{{ domain }}` or `{{ 'www' if env == 'prod' else env }}.{{ domain }}`".into());
    }
    if source.contains('*') {
        return Err("it uses `*`; host templates may not repeat strings".into());
    }
    Ok(())
}

impl Hosts {
    /// Compiles every host template of `spec`, reporting each that does not compile or renders no valid
    /// hostname. None when any failed.
    pub fn compile(spec: &Spec, out: &mut Vec<Diagnostic>) -> Option<Hosts> {
        let mut env = sandbox();
        // A large spec uses a handful of distinct templates: each is compiled (and split into parts) once.
        let mut names_by_source: BTreeMap<&str, Arc<str>> = BTreeMap::new();
        let mut compiled_by_source: BTreeMap<(&str, HostKind), Compiled> = BTreeMap::new();
        let mut by_env: BTreeMap<String, BTreeMap<String, EnvHosts>> = BTreeMap::new();
        let mut failed = false;
        for (app_name, app) in &spec.apps {
            let mut envs = BTreeMap::new();
            for (env_name, environment) in &app.environments {
                let mut templates: [Option<Compiled>; 3] = [None, None, None];
                for kind in HostKind::ALL {
                    let source = environment.hosts.resolve(&app.hosts, kind);
                    if let Some(compiled) = compiled_by_source.get(&(source, kind)) {
                        templates[kind.index()] = Some(compiled.clone());
                        continue;
                    }
                    let name = match names_by_source.get(source) {
                        Some(name) => Arc::clone(name),
                        None => {
                            let name = format!("t{}", names_by_source.len());
                            let compiled = precheck(source).and_then(|()| {
                                env.add_template_owned(name.clone(), source.to_string()).map_err(|e| template_error(&e))
                            });
                            if let Err(message) = compiled {
                                failed = true;
                                // Key paths only for diagnostics: building them for every template is most of
                                // the cost of a large spec that has no problem.
                                let app_path = KeyPath::root().key("apps").key(app_name);
                                let empty = crate::spec::HostTemplates::default();
                                let path = if app.hosts.resolve(&empty, kind) == source
                                    && environment.hosts.resolve(&empty, kind) != source
                                {
                                    app_path.key("hosts").key(kind.key())
                                } else {
                                    app_path.key("environments").key(env_name).key("hosts").key(kind.key())
                                };
                                out.push(
                                    Diagnostic::error(
                                        "SY0140",
                                        format!(
                                            "the {} host template {source:?} does not compile: {message}",
                                            kind.key()
                                        ),
                                    )
                                    .at(path.as_str())
                                    .hint(format!("the default is `{}`", kind.default_template())),
                                );
                                continue;
                            }
                            let name: Arc<str> = name.into();
                            names_by_source.insert(source, Arc::clone(&name));
                            name
                        }
                    };
                    let compiled = Compiled { name, simple: simple_template(source, kind).map(Arc::from) };
                    compiled_by_source.insert((source, kind), compiled.clone());
                    templates[kind.index()] = Some(compiled);
                }
                if let [Some(production), Some(slot), Some(preview)] = templates {
                    let hosts = EnvHosts { domain: environment.domain.clone(), templates: [production, slot, preview] };
                    envs.insert(env_name.clone(), hosts);
                }
            }
            by_env.insert(app_name.clone(), envs);
        }
        if failed {
            return None;
        }
        let hosts = Hosts { env, by_env };
        // Render each with sample values: it must make hostnames, and distinct ones where it must.
        let mut ok = true;
        for (app, envs) in &hosts.by_env {
            for (env, env_hosts) in envs {
                // A bad domain, app or environment name is reported where it is written; the templates would
                // only repeat that.
                if names::check_hostname(&env_hosts.domain).is_err()
                    || names::check_label(app).is_err()
                    || names::check_label(env).is_err()
                {
                    ok = false;
                    continue;
                }
                for kind in HostKind::ALL {
                    let path = || {
                        KeyPath::root().key("apps").key(app).key("environments").key(env).key("hosts").key(kind.key())
                    };
                    let samples: &[HostFor<'_>] = match kind {
                        HostKind::Production => &[HostFor::Production],
                        HostKind::Slot => &[HostFor::Slot(Slot::Blue), HostFor::Slot(Slot::Green)],
                        HostKind::Preview => &[HostFor::Preview("v1-2-0"), HostFor::Preview("v2-0-0-rc-1")],
                    };
                    let mut rendered = samples.iter().map(|s| hosts.env_host(env_hosts, app, env, *s));
                    match (rendered.next(), rendered.next()) {
                        (Some(Err(e)), _) | (_, Some(Err(e))) => {
                            ok = false;
                            out.push(Diagnostic::error("SY0141", e.to_string()).at(path().as_str()).hint("a host template must make a lowercase hostname from `app`, `env`, `domain` and, for slots and previews, `slot` or `version`"));
                        }
                        (Some(Ok(a)), Some(Ok(b))) if a == b => {
                            ok = false;
                            let var = if kind == HostKind::Slot { "slot" } else { "version" };
                            out.push(
                                Diagnostic::error(
                                    "SY0142",
                                    format!(
                                        "the {} host template makes the same host {a:?} for every {var}",
                                        kind.key()
                                    ),
                                )
                                .at(path().as_str())
                                .hint(format!("use `{{{{ {var} }}}}` in it, e.g. `{}`", kind.default_template())),
                            );
                        }
                        _ => {}
                    }
                }
            }
        }
        ok.then_some(hosts)
    }

    /// The host of an app in an environment, before any route prefix.
    pub fn base_host(&self, app: &str, env: &str, what: HostFor<'_>) -> Result<String, HostError> {
        let unknown = || HostError::UnknownEnvironment { app: app.into(), env: env.into() };
        let hosts = self.by_env.get(app).and_then(|envs| envs.get(env)).ok_or_else(unknown)?;
        self.env_host(hosts, app, env, what)
    }

    /// [`Hosts::base_host`] for the environment's own templates, already looked up.
    fn env_host(&self, hosts: &EnvHosts, app: &str, env: &str, what: HostFor<'_>) -> Result<String, HostError> {
        let kind = what.kind();
        let domain = hosts.domain.as_str();
        let compiled = &hosts.templates[kind.index()];
        let host = match &compiled.simple {
            Some(parts) => render_simple(parts, app, env, domain, what),
            None => {
                let template = self
                    .env
                    .get_template(&compiled.name)
                    .map_err(|e| HostError::Template { kind: kind.key(), message: template_error(&e) })?;
                let ctx = match what {
                    HostFor::Production => context! { app, env, domain },
                    HostFor::Slot(slot) => context! { app, env, domain, slot => slot.as_str() },
                    HostFor::Preview(version) => context! { app, env, domain, version },
                };
                template
                    .render(ctx)
                    .map_err(|e| HostError::Template { kind: kind.key(), message: template_error(&e) })?
            }
        };
        names::check_hostname(&host).map_err(|reason| HostError::Invalid {
            kind: kind.key(),
            host: host.clone(),
            reason,
        })?;
        Ok(host)
    }

    /// Every production and slot host of the spec must be unique: two routers on one host would shadow each
    /// other in Traefik.
    pub fn check_spec_hosts(&self, spec: &Spec, out: &mut Vec<Diagnostic>) {
        /// A host and path (a range of `keys`; the host is the part before `host_end`) and who answers there.
        struct Answer<'a> {
            key: std::ops::Range<usize>,
            host_end: usize,
            owner: Owner<'a>,
        }
        // Every host and path in the spec's order, written one after the other in one string.
        let mut keys = String::new();
        let mut answers: Vec<Answer<'_>> = Vec::new();
        for (app_name, app) in &spec.apps {
            let envs = self.by_env.get(app_name);
            for env_name in app.environments.keys() {
                let env_id = (app_name.as_str(), env_name.as_str());
                // A host that cannot be made (an unknown environment, a template that fails) is left out.
                let Some(hosts) = envs.and_then(|envs| envs.get(env_name)) else { continue };
                for what in [HostFor::Production, HostFor::Slot(Slot::Blue), HostFor::Slot(Slot::Green)] {
                    let Ok(base) = self.env_host(hosts, app_name, env_name, what) else { continue };
                    for (service, route) in &app.routes {
                        let start = keys.len();
                        // As rendered (`route_host`): the prefix before the base host; a path prefix of `/` is
                        // no path prefix.
                        if let Some(prefix) = &route.host_prefix {
                            keys.push_str(prefix);
                            keys.push('.');
                        }
                        keys.push_str(&base);
                        let host_end = keys.len();
                        keys.push_str(route.path_prefix.as_deref().filter(|p| *p != "/").unwrap_or(""));
                        answers.push(Answer {
                            key: start..keys.len(),
                            host_end,
                            owner: Owner { env: env_id, what, service },
                        });
                    }
                }
            }
        }
        // Who answers first on each host and path.
        let first = first_of_each(answers.len(), |i| &keys[answers[i].key.clone()], switchyard_lookup::fnv1a);
        // One report per pair of environments: a shared domain collides on every route and kind of host.
        type EnvId<'a> = (&'a str, &'a str);
        let mut reported: BTreeSet<(EnvId<'_>, EnvId<'_>)> = BTreeSet::new();
        for (i, answer) in answers.iter().enumerate() {
            if first[i] == i {
                continue;
            }
            let (here, other) = (answer.owner, answers[first[i]].owner);
            // Two routes of one app on the same host and path: reported once, as SY0111.
            if other.env == here.env && other.what == here.what {
                continue;
            }
            if !reported.insert((here.env, other.env)) {
                continue;
            }
            let hint = if other.env == here.env {
                "change the host templates so that production and slot hosts differ"
            } else {
                "give the environments different domains or host templates"
            };
            let (app_name, env_name) = here.env;
            let path = KeyPath::root().key("apps").key(app_name).key("environments").key(env_name);
            let host = &keys[answer.key.start..answer.host_end];
            out.push(
                Diagnostic::error("SY0143", format!("{here} and {other} both answer on {host}"))
                    .at(path.as_str())
                    .hint(hint),
            );
        }
    }
}

/// Who answers on a host and path ([`Hosts::check_spec_hosts`]); its text is only made for a report.
#[derive(Clone, Copy)]
struct Owner<'a> {
    env: (&'a str, &'a str),
    what: HostFor<'a>,
    service: &'a str,
}

impl fmt::Display for Owner<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (app, env) = self.env;
        write!(f, "{app}/{env} ({}, route {})", what_label(self.what), self.service)
    }
}

/// For each of `n` keys, the index of the first key equal to it (its own index when it is the first). The keys
/// are sorted by their hash (then by index), so equal keys are next to each other; within a run of equal hashes,
/// each key's first is the first with the very same key (a run holds more than one key only if hashes collide).
fn first_of_each<'k>(n: usize, key: impl Fn(usize) -> &'k str, hash: fn(&[u8]) -> u64) -> Vec<usize> {
    let mut order: Vec<(u64, usize)> = (0..n).map(|i| (hash(key(i).as_bytes()), i)).collect();
    order.sort_unstable();
    let mut first: Vec<usize> = (0..n).collect();
    for run in order.chunk_by(|a, b| a.0 == b.0) {
        for (at, &(_, i)) in run.iter().enumerate().skip(1) {
            if let Some(&(_, j)) = run[..at].iter().find(|(_, j)| key(*j) == key(i)) {
                first[i] = j;
            }
        }
    }
    first
}

/// A simple template (see [`simple_template`]) with its variables filled in.
fn render_simple(parts: &[Part], app: &str, env: &str, domain: &str, what: HostFor<'_>) -> String {
    let mut host = String::with_capacity(64);
    for part in parts {
        host.push_str(match (part, what) {
            (Part::Literal(s), _) => s,
            (Part::App, _) => app,
            (Part::Env, _) => env,
            (Part::Domain, _) => domain,
            (Part::Slot, HostFor::Slot(slot)) => slot.as_str(),
            (Part::Version, HostFor::Preview(version)) => version,
            // simple_template gives these only to the kinds that have them.
            (Part::Slot | Part::Version, _) => "",
        });
    }
    host
}

fn what_label(what: HostFor<'_>) -> String {
    match what {
        HostFor::Production => "production".into(),
        HostFor::Slot(s) => format!("slot {s}"),
        HostFor::Preview(v) => format!("preview {v}"),
    }
}

/// The host a route answers on: its prefix, if any, before the base host.
pub fn route_host(base: &str, route: &Route) -> String {
    match &route.host_prefix {
        Some(prefix) => format!("{prefix}.{base}"),
        None => base.to_string(),
    }
}

fn template_error(e: &minijinja::Error) -> String {
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}

/// Every host in use: production and slot hosts of every environment in the spec, and the preview hosts of
/// every deployed version. Host -> who uses it.
pub fn world_hosts(spec: &ValidSpec, world: &World) -> BTreeMap<String, String> {
    let mut hosts = BTreeMap::new();
    for (app_name, app) in &spec.spec.apps {
        for env_name in app.environments.keys() {
            for what in [HostFor::Production, HostFor::Slot(Slot::Blue), HostFor::Slot(Slot::Green)] {
                if let Ok(base) = spec.hosts.base_host(app_name, env_name, what) {
                    for route in app.routes.values() {
                        let owner = match what {
                            HostFor::Slot(s) => format!("the {s} slot of {app_name}/{env_name}"),
                            _ => format!("production of {app_name}/{env_name}"),
                        };
                        hosts.insert(route_host(&base, route), owner);
                    }
                }
            }
        }
    }
    for (key, state) in world {
        let Some(app) = spec.spec.apps.get(&key.app) else { continue };
        for d in &state.deployments {
            if let Ok(base) = spec.hosts.base_host(&key.app, &key.env, HostFor::Preview(&d.slug)) {
                for route in app.routes.values() {
                    hosts.insert(route_host(&base, route), format!("the preview of {} in {key}", d.version));
                }
            }
        }
    }
    hosts
}

#[cfg(test)]
mod tests;
