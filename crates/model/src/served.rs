//! What Traefik really serves for an environment, beside what the environment's state says it should serve.
//!
//! Traefik's API answers `/api/rawdata` with every HTTP router and service it has (named `name@provider`), the
//! status it gave each (`enabled`; `warning`: served, with a problem; `disabled`: not served, requests get 404)
//! with its own error text, and, for each load balancer it built (one a router uses), the health of its servers
//! as its active health check sees them (`serverStatus`: `UP` or `DOWN` by URL; after every reload a server
//! starts `UP` until its first check). [`RawData`] reads the parts switchyard needs and ignores the rest;
//! [`compare`] puts them beside the configuration the state renders ([`render_env`]) and lists where the two
//! disagree ([`Finding`]), with the servers' health tied to their version, slot and production share
//! ([`ServerHealth`]).
//!
//! The environment's routers and services in Traefik are the file provider's whose names start with
//! `<app>_<env>_` ([`naming::prefix`]): apps and environments are DNS labels, so no other environment's names
//! start so. Whatever else Traefik has (other providers, the user's own files) is not looked at.
//!
//! Every finding is a disagreement, and `switchyard status --check` exits 1 on any:
//!
//! SY0701-SY0707, each with its meaning in [`switchyard_diagnostics::registry`].
//!
//! A server `DOWN` for a version without production traffic (a preview, the idle slot) is shown but is no
//! finding: no production request depends on it, and the health gate checks a version again before any traffic
//! moves to it. Servers Traefik has not checked (it builds a load balancer only for a router that uses it) are
//! `unknown`, not a finding either: the router that would use it is a finding of its own.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::naming;
use crate::render::{RenderError, render_env};
use crate::state::{EnvState, Slot};
use crate::traefik::{Router, Service};
use crate::valid_spec::ValidSpec;

/// The file provider's name in Traefik's `name@provider`.
const FILE_PROVIDER: &str = "file";

/// The parts of Traefik's `/api/rawdata` that [`compare`] reads. Names are as Traefik gives them
/// (`name@provider`); references inside (a router's service, a weighted child) are as the file wrote them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct RawData {
    #[serde(default)]
    pub routers: BTreeMap<String, RawRouter>,
    #[serde(default)]
    pub services: BTreeMap<String, RawService>,
}

/// The problem when Traefik's answer is not what `/api/rawdata` gives.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Traefik's /api/rawdata answer could not be read: {0}")]
pub struct RawDataError(pub String);

impl RawData {
    /// Reads Traefik's answer (JSON).
    pub fn parse(json: &str) -> Result<RawData, RawDataError> {
        serde_json::from_str(json).map_err(|e| RawDataError(e.to_string()))
    }
}

/// What Traefik did with a router or service.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Served.
    Enabled,
    /// Served, with a problem named in its errors.
    Warning,
    /// Not served: its routers answer 404.
    Disabled,
    /// A status this version of switchyard does not know.
    #[default]
    #[serde(other)]
    Unknown,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Enabled => "enabled",
            Status::Warning => "warning",
            Status::Disabled => "disabled",
            Status::Unknown => "unknown",
        })
    }
}

/// A router in Traefik's answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawRouter {
    #[serde(default)]
    pub entry_points: Vec<String>,
    #[serde(default)]
    pub middlewares: Vec<String>,
    #[serde(default)]
    pub service: String,
    #[serde(default)]
    pub rule: String,
    /// Absent when Traefik did not get as far as computing it (a router without entry points).
    #[serde(default)]
    pub priority: Option<i64>,
    #[serde(default)]
    pub tls: Option<RawTls>,
    #[serde(default, rename = "error")]
    pub errors: Vec<String>,
    #[serde(default)]
    pub status: Status,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawTls {
    #[serde(default)]
    pub cert_resolver: Option<String>,
}

/// A service in Traefik's answer: a load balancer, a weighted service, or another kind (both fields empty).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawService {
    #[serde(default)]
    pub load_balancer: Option<RawLoadBalancer>,
    #[serde(default)]
    pub weighted: Option<RawWeighted>,
    #[serde(default, rename = "error")]
    pub errors: Vec<String>,
    #[serde(default)]
    pub status: Status,
    /// The servers' health by URL; only for a load balancer Traefik built.
    #[serde(default)]
    pub server_status: BTreeMap<String, ServerStatus>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct RawLoadBalancer {
    #[serde(default)]
    pub servers: Vec<RawServer>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct RawServer {
    #[serde(default)]
    pub url: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct RawWeighted {
    #[serde(default)]
    pub services: Vec<RawChild>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct RawChild {
    #[serde(default)]
    pub name: String,
    /// Absent means 1 to Traefik.
    #[serde(default)]
    pub weight: Option<i64>,
}

/// A server's health as Traefik's active health check sees it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServerStatus {
    #[serde(rename = "UP")]
    Up,
    #[serde(rename = "DOWN")]
    Down,
    /// Traefik has not checked it: it has no such service, or has not built it.
    #[default]
    #[serde(other, rename = "unknown")]
    Unknown,
}

impl fmt::Display for ServerStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ServerStatus::Up => "UP",
            ServerStatus::Down => "DOWN",
            ServerStatus::Unknown => "unknown",
        })
    }
}

/// Router or service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Router,
    Service,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Router => "router",
            Kind::Service => "service",
        })
    }
}

/// A router or service of the environment, expected by the state or found in Traefik (or both).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// As written in the file, without `@file`.
    pub name: String,
    /// The state expects it.
    pub expected: bool,
    /// What Traefik did with it; None when Traefik does not have it.
    pub status: Option<Status>,
    /// Traefik's error text.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

/// One server of a version's load balancer, with its health as Traefik sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerHealth {
    pub version: String,
    /// The slot holding the version, if any.
    pub slot: Option<Slot>,
    /// The version's percent of production traffic (0: none, a preview or the idle slot).
    pub share: u8,
    /// The routed compose service.
    pub service: String,
    pub url: String,
    pub status: ServerStatus,
}

/// What disagrees between Traefik and the state, typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Problem {
    /// Traefik does not serve something the state expects.
    Disabled { of: Kind, name: String, errors: Vec<String> },
    /// Traefik serves something the state expects, with a problem.
    Warning { of: Kind, name: String, errors: Vec<String> },
    /// The state expects it; Traefik does not have it.
    Missing { of: Kind, name: String },
    /// Traefik has it; the state does not expect it.
    Stale { of: Kind, name: String, status: Status, errors: Vec<String> },
    /// Traefik has it with another value of `field` than the state says.
    Differs { of: Kind, name: String, field: String, expected: String, served: String },
    /// A server of a version with production traffic is down.
    ServerDown { version: String, slot: Option<Slot>, share: u8, service: String, url: String },
    /// Traefik's file provider did not start; its log line.
    ProviderFailed { log: String },
}

impl Problem {
    /// The stable code (see [`switchyard_diagnostics::registry`]).
    pub fn code(&self) -> &'static str {
        match self {
            Problem::Disabled { .. } => "SY0701",
            Problem::Warning { .. } => "SY0702",
            Problem::Missing { .. } => "SY0703",
            Problem::Stale { .. } => "SY0704",
            Problem::Differs { .. } => "SY0705",
            Problem::ServerDown { .. } => "SY0706",
            Problem::ProviderFailed { .. } => "SY0707",
        }
    }
}

/// Traefik's error texts, quoted as they are, joined.
fn quoted(errors: &[String]) -> String {
    if errors.is_empty() {
        return "(no error text)".into();
    }
    errors.join("; ")
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Disabled { of, name, errors } => {
                write!(f, "{of} {name}: DISABLED by Traefik (requests get 404): {}", quoted(errors))
            }
            Problem::Warning { of, name, errors } => write!(f, "{of} {name}: Traefik warns: {}", quoted(errors)),
            Problem::Missing { of, name } => write!(f, "{of} {name}: MISSING in Traefik; the state expects it"),
            Problem::Stale { of, name, status, errors } => {
                write!(f, "{of} {name}: STALE: Traefik has it ({status}")?;
                if !errors.is_empty() {
                    write!(f, ": {}", quoted(errors))?;
                }
                write!(f, "); the state does not expect it")
            }
            Problem::Differs { of, name, field, expected, served } => {
                write!(f, "{of} {name}: DIFFERS in {field}: Traefik has {served}; the state says {expected}")
            }
            Problem::ServerDown { version, slot, share, service, url } => {
                let slot = slot.map(|s| format!("{s}, ")).unwrap_or_default();
                write!(
                    f,
                    "server {url} of {version} ({slot}{share}% of production, {service}): DOWN in Traefik's health check"
                )
            }
            Problem::ProviderFailed { log } => {
                write!(
                    f,
                    "Traefik's file provider did not start, and Traefik does not try again until it restarts: {log}"
                )
            }
        }
    }
}

/// A problem with its code and its message, for JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub code: &'static str,
    pub message: String,
    #[serde(flatten)]
    pub problem: Problem,
}

impl From<Problem> for Finding {
    fn from(problem: Problem) -> Self {
        Finding { code: problem.code(), message: problem.to_string(), problem }
    }
}

/// What Traefik serves for one environment, beside what its state says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Served {
    pub app: String,
    pub env: String,
    /// Every router of the environment, expected or found, by name.
    pub routers: Vec<Entry>,
    /// Every service of the environment, expected or found, by name.
    pub services: Vec<Entry>,
    /// Every server of every version, in the state's order of versions.
    pub servers: Vec<ServerHealth>,
    /// Where Traefik and the state disagree; empty when they agree.
    pub findings: Vec<Finding>,
}

impl Served {
    /// Traefik serves what the state says.
    pub fn agrees(&self) -> bool {
        self.findings.is_empty()
    }
}

/// The environment's entries of a Traefik map: name without `@file` -> value.
fn of_env<'a, T>(map: &'a BTreeMap<String, T>, prefix: &str) -> BTreeMap<&'a str, &'a T> {
    map.iter()
        .filter_map(|(name, value)| {
            let (name, provider) = name.rsplit_once('@')?;
            (provider == FILE_PROVIDER && name.starts_with(prefix)).then_some((name, value))
        })
        .collect()
}

/// Compares what Traefik serves (`raw`) with the configuration `state` renders; `provider_failure` is the line of
/// Traefik's log saying its file provider did not start, if the caller found one.
pub fn compare(
    spec: &ValidSpec,
    state: &EnvState,
    raw: &RawData,
    provider_failure: Option<&str>,
) -> Result<Served, RenderError> {
    let expected = render_env(spec, state)?.config;
    let prefix = naming::prefix(&state.app, &state.env);
    let mut problems = Vec::new();
    if let Some(log) = provider_failure {
        problems.push(Problem::ProviderFailed { log: log.to_string() });
    }

    let served_routers = of_env(&raw.routers, &prefix);
    let expected_routers: BTreeMap<&str, &Router> = expected.routers().map(|(n, r)| (n.as_str(), r)).collect();
    let routers = entries(Kind::Router, &expected_routers, &served_routers, |r| (r.status, &r.errors), &mut problems);
    for (name, want) in &expected_routers {
        if let Some(have) = served_routers.get(name) {
            router_differences(name, want, have, &mut problems);
        }
    }

    let served_services = of_env(&raw.services, &prefix);
    let expected_services: BTreeMap<&str, &Service> = expected.services().map(|(n, s)| (n.as_str(), s)).collect();
    let services =
        entries(Kind::Service, &expected_services, &served_services, |s| (s.status, &s.errors), &mut problems);
    for (name, want) in &expected_services {
        if let Some(have) = served_services.get(name) {
            service_differences(name, want, have, &mut problems);
        }
    }

    // Every server of every version's load balancers, with Traefik's view of its health.
    let traffic = state.traffic();
    let mut servers = Vec::new();
    for d in &state.deployments {
        let share = traffic.iter().find(|(_, v, _)| *v == d.version).map_or(0, |(_, _, p)| *p);
        for (service, endpoint) in &d.endpoints {
            let lb = naming::version(&state.app, &state.env, &d.slug, service);
            if !expected_services.contains_key(lb.as_str()) {
                continue;
            }
            let status = served_services
                .get(lb.as_str())
                .and_then(|s| s.server_status.get(&endpoint.url))
                .copied()
                .unwrap_or_default();
            if status == ServerStatus::Down && share > 0 {
                problems.push(Problem::ServerDown {
                    version: d.version.clone(),
                    slot: state.slot_of(&d.version),
                    share,
                    service: service.clone(),
                    url: endpoint.url.clone(),
                });
            }
            servers.push(ServerHealth {
                version: d.version.clone(),
                slot: state.slot_of(&d.version),
                share,
                service: service.clone(),
                url: endpoint.url.clone(),
                status,
            });
        }
    }

    Ok(Served {
        app: state.app.clone(),
        env: state.env.clone(),
        routers,
        services,
        servers,
        findings: problems.into_iter().map(Finding::from).collect(),
    })
}

/// The entries of one kind, expected or found, and the problems of their status: disabled, warning, missing,
/// stale.
fn entries<W, H>(
    of: Kind,
    expected: &BTreeMap<&str, W>,
    served: &BTreeMap<&str, &H>,
    status: impl Fn(&H) -> (Status, &Vec<String>),
    problems: &mut Vec<Problem>,
) -> Vec<Entry> {
    let mut names: Vec<&str> = expected.keys().chain(served.keys()).copied().collect();
    names.sort_unstable();
    names.dedup();
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let is_expected = expected.contains_key(name);
        let found = served.get(name).map(|h| status(h));
        let problem = match (is_expected, &found) {
            (true, None) => Some(Problem::Missing { of, name: name.into() }),
            (true, Some((Status::Disabled, errors))) => {
                Some(Problem::Disabled { of, name: name.into(), errors: errors.to_vec() })
            }
            (true, Some((Status::Warning | Status::Unknown, errors))) => {
                Some(Problem::Warning { of, name: name.into(), errors: errors.to_vec() })
            }
            (true, Some((Status::Enabled, _))) => None,
            (false, Some((status, errors))) => {
                Some(Problem::Stale { of, name: name.into(), status: *status, errors: errors.to_vec() })
            }
            (false, None) => None,
        };
        problems.extend(problem);
        out.push(Entry {
            name: name.into(),
            expected: is_expected,
            status: found.as_ref().map(|(s, _)| *s),
            errors: found.map(|(_, e)| e.clone()).unwrap_or_default(),
        });
    }
    out
}

fn list(items: &[String]) -> String {
    if items.is_empty() { "none".into() } else { items.join(", ") }
}

/// A reference as Traefik resolves it from a file: without `@`, it takes the file provider. Traefik's API gives
/// a router's middlewares qualified (`secure-headers@file` for a file that says `secure-headers`), its service
/// and weighted children as written; compared qualified, the two spellings are the same reference. Shown, each
/// side keeps its own spelling: Traefik's as Traefik gave it.
fn qualified(name: &str) -> String {
    if name.contains('@') { name.to_string() } else { format!("{name}@{FILE_PROVIDER}") }
}

/// A difference in `field` of `of` `name` when the compared values (`expected.0`, `served.0`) are not equal;
/// shown with `expected.1` and `served.1`.
struct Differ<'a> {
    of: Kind,
    name: &'a str,
    problems: &'a mut Vec<Problem>,
}

impl Differ<'_> {
    fn check<K: PartialEq>(&mut self, field: &str, expected: (K, String), served: (K, String)) {
        if expected.0 != served.0 {
            self.problems.push(Problem::Differs {
                of: self.of,
                name: self.name.into(),
                field: field.into(),
                expected: expected.1,
                served: served.1,
            });
        }
    }

    /// Compared and shown as they are.
    fn plain(&mut self, field: &str, expected: String, served: String) {
        self.check(field, (expected.clone(), expected), (served.clone(), served));
    }
}

fn router_differences(name: &str, want: &Router, have: &RawRouter, problems: &mut Vec<Problem>) {
    let mut d = Differ { of: Kind::Router, name, problems };
    d.plain("rule", want.rule.clone(), have.rule.clone());
    d.check(
        "service",
        (qualified(&want.service), want.service.clone()),
        (qualified(&have.service), have.service.clone()),
    );
    d.plain("priority", want.priority.to_string(), have.priority.map_or_else(|| "none".into(), |p| p.to_string()));
    d.plain("entry points", list(&want.entry_points), list(&have.entry_points));
    let refs = |items: &[String]| items.iter().map(|i| qualified(i)).collect::<Vec<_>>();
    d.check(
        "middlewares",
        (refs(&want.middlewares), list(&want.middlewares)),
        (refs(&have.middlewares), list(&have.middlewares)),
    );
    let tls = |on: bool, resolver: Option<&str>| match (on, resolver) {
        (false, _) => "none".to_string(),
        (true, None) => "on".to_string(),
        (true, Some(r)) => format!("certificate resolver {r}"),
    };
    d.plain(
        "TLS",
        tls(want.tls.is_some(), want.tls.as_ref().and_then(|t| t.cert_resolver.as_deref())),
        tls(have.tls.is_some(), have.tls.as_ref().and_then(|t| t.cert_resolver.as_deref())),
    );
}

fn service_differences(name: &str, want: &Service, have: &RawService, problems: &mut Vec<Problem>) {
    let mut d = Differ { of: Kind::Service, name, problems };
    let kind = |lb: bool, weighted: bool| match (lb, weighted) {
        (true, false) => "loadBalancer",
        (false, true) => "weighted",
        _ => "another kind",
    };
    let (want_kind, have_kind) = (
        kind(want.load_balancer.is_some(), want.weighted.is_some()),
        kind(have.load_balancer.is_some(), have.weighted.is_some()),
    );
    if want_kind != have_kind {
        d.plain("kind", want_kind.into(), have_kind.into());
        return;
    }
    if let (Some(want), Some(have)) = (&want.load_balancer, &have.load_balancer) {
        let mut expected: Vec<String> = want.servers.iter().map(|s| s.url.clone()).collect();
        let mut served: Vec<String> = have.servers.iter().map(|s| s.url.clone()).collect();
        expected.sort_unstable();
        served.sort_unstable();
        d.plain("servers", list(&expected), list(&served));
    }
    if let (Some(want), Some(have)) = (&want.weighted, &have.weighted) {
        // (qualified name, weight) compared; `name=weight` shown, sorted by name as written.
        let children = |items: Vec<(&str, i64)>| {
            let mut compared: Vec<(String, i64)> = items.iter().map(|(n, w)| (qualified(n), *w)).collect();
            compared.sort_unstable();
            let mut shown: Vec<String> = items.iter().map(|(n, w)| format!("{n}={w}")).collect();
            shown.sort_unstable();
            (compared, list(&shown))
        };
        d.check(
            "weighted children",
            children(want.services.iter().map(|c| (c.name.as_str(), i64::from(c.weight))).collect()),
            children(have.services.iter().map(|c| (c.name.as_str(), c.weight.unwrap_or(1))).collect()),
        );
    }
}
