//! The spec users write (`switchyard.yaml`): apps, their routed compose services, health checks and
//! environments, and the checks of every value. Parsing ([`Spec::parse`], in `valid_spec`) rejects unknown keys
//! and wrong types, then validates every value and returns all problems at once, each with the file, line and key
//! path. It uses only `names` and `time`: the host templates compile above it ([`crate::hosts`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::names;
use crate::rollout::Rollout;
use crate::routing::Routing;
use crate::time::Duration;
use switchyard_diagnostics::{Diagnostic, KeyPath};

/// The whole spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(
    feature = "schema",
    schemars(
        title = "switchyard spec",
        description = "Blue/green and preview deployments of Docker Compose apps behind Traefik."
    )
)]
pub struct Spec {
    /// Editors may point at `switchyard.schema.json` here; switchyard ignores it.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// What the Traefik in front of the apps needs beside switchyard's own files: your dynamic configuration
    /// files (the middlewares and TLS options environments name) and the certificate resolvers `install`
    /// configures.
    #[serde(default, skip_serializing_if = "TraefikSpec::is_empty")]
    pub traefik: TraefikSpec,
    /// The apps, by name. A name is a DNS label (`whoami`).
    pub apps: BTreeMap<String, App>,
}

/// The Traefik that serves the apps: what switchyard puts in its provider directory beside the environments'
/// files, and what `install` configures.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TraefikSpec {
    /// Your own Traefik dynamic configuration files (YAML or TOML, relative to this spec), written into
    /// Traefik's provider directory with switchyard's and checked with them before every change: where the
    /// middlewares (`name@file`) and TLS options the environments name are defined.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
    /// Certificate resolvers, by name, that `install` configures in Traefik's static configuration;
    /// environments name them in `tls.cert_resolver`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub cert_resolvers: BTreeMap<String, CertResolver>,
}

impl TraefikSpec {
    pub fn is_empty(&self) -> bool {
        self.files.is_empty() && self.cert_resolvers.is_empty()
    }
}

/// A certificate resolver: ACME (Let's Encrypt, or any ACME server).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CertResolver {
    pub acme: Acme,
}

/// How Traefik obtains certificates from an ACME server. The account and certificates are kept in
/// switchyard's volume on the Docker host (`/switchyard/acme/<resolver>.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Acme {
    /// The account's contact e-mail (optional for Let's Encrypt).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The challenge: `tls` (TLS-ALPN-01 on the `websecure` entry point, the default) or `http` (HTTP-01 on
    /// the `web` entry point).
    #[serde(default)]
    pub challenge: AcmeChallenge,
    /// The ACME directory URL; Let's Encrypt's production directory when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_server: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum AcmeChallenge {
    #[default]
    Tls,
    Http,
}

/// One app: a compose project deployed once per version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct App {
    /// The compose file, relative to this spec file.
    pub compose: String,
    /// The compose services that receive traffic, by compose service name.
    pub routes: BTreeMap<String, Route>,
    /// How to tell that a version is healthy. Traffic only moves to a healthy version.
    #[serde(default)]
    pub health: HealthCheck,
    /// Hostname templates for every environment of this app (an environment may override them).
    #[serde(default, skip_serializing_if = "HostTemplates::is_empty")]
    pub hosts: HostTemplates,
    /// The environments, by name (a DNS label such as `dev` or `prod`).
    pub environments: BTreeMap<String, Environment>,
}

/// How a routed compose service is reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Route {
    /// The port the service listens on inside its container.
    pub port: u16,
    /// A prefix put before the app's hostname: `api` answers on `api.whoami.dev.example.com`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_prefix: Option<String>,
    /// A path prefix on the app's hostname: `/api` answers on `whoami.dev.example.com/api`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_prefix: Option<String>,
}

/// The active health check every version's services get. Traefik probes it; switchyard waits for it before
/// moving traffic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
// Named `Health` in the published schema, as it always was.
#[cfg_attr(feature = "schema", schemars(rename = "Health"))]
pub struct HealthCheck {
    /// The path probed on each routed service (may carry a query string).
    #[serde(default = "default_health_path")]
    pub path: String,
    /// How often Traefik probes. Must be longer than the timeout.
    #[serde(default = "default_interval")]
    pub interval: Duration,
    /// How long one probe may take.
    #[serde(default = "default_timeout")]
    pub timeout: Duration,
}

fn default_health_path() -> String {
    "/".into()
}
fn default_interval() -> Duration {
    Duration::from_secs(10)
}
fn default_timeout() -> Duration {
    Duration::from_secs(3)
}

impl Default for HealthCheck {
    fn default() -> Self {
        HealthCheck { path: default_health_path(), interval: default_interval(), timeout: default_timeout() }
    }
}

/// The three kinds of host an environment has; each has a template ([`HostTemplates`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HostKind {
    Production,
    Slot,
    Preview,
}

impl HostKind {
    pub const ALL: [HostKind; 3] = [HostKind::Production, HostKind::Slot, HostKind::Preview];

    pub fn default_template(self) -> &'static str {
        match self {
            HostKind::Production => "{{ app }}.{{ domain }}",
            HostKind::Slot => "{{ slot }}-{{ app }}.{{ domain }}",
            HostKind::Preview => "{{ version }}-{{ app }}.{{ domain }}",
        }
    }
    pub(crate) fn index(self) -> usize {
        match self {
            HostKind::Production => 0,
            HostKind::Slot => 1,
            HostKind::Preview => 2,
        }
    }
    pub fn key(self) -> &'static str {
        match self {
            HostKind::Production => "production",
            HostKind::Slot => "slot",
            HostKind::Preview => "preview",
        }
    }
}

/// minijinja templates for hostnames. Variables: `app`, `env`, `domain`; `slot` (blue or green) in `slot`;
/// `version` (the version as one DNS label, `v1-2-0`) in `preview`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct HostTemplates {
    /// Default `{{ app }}.{{ domain }}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub production: Option<String>,
    /// Default `{{ slot }}-{{ app }}.{{ domain }}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot: Option<String>,
    /// Default `{{ version }}-{{ app }}.{{ domain }}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview: Option<String>,
}

impl HostTemplates {
    pub fn is_empty(&self) -> bool {
        self.production.is_none() && self.slot.is_none() && self.preview.is_none()
    }
    /// The template for `kind`: this one's, else the fallback's, else the default.
    pub fn resolve<'a>(&'a self, fallback: &'a HostTemplates, kind: HostKind) -> &'a str {
        let pick = |t: &'a HostTemplates| match kind {
            HostKind::Production => t.production.as_deref(),
            HostKind::Slot => t.slot.as_deref(),
            HostKind::Preview => t.preview.as_deref(),
        };
        pick(self).or_else(|| pick(fallback)).unwrap_or(kind.default_template())
    }
}

/// One environment of an app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Environment {
    /// The domain hosts are made under (`dev.example.com`).
    pub domain: String,
    /// Traefik entry points the routers listen on.
    #[serde(default = "default_entry_points")]
    pub entry_points: Vec<String>,
    /// Terminate TLS on the routers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<Tls>,
    /// Extra middlewares for every router of this environment, with their provider (`secure-headers@file`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub middlewares: Vec<String>,
    /// Keep each visitor on one version while traffic is split between the slots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sticky: Option<Sticky>,
    /// Which versions `cleanup` removes. A version a slot holds is never removed.
    #[serde(default)]
    pub retention: Retention,
    /// Hostname templates for this environment, over the app's.
    #[serde(default, skip_serializing_if = "HostTemplates::is_empty")]
    pub hosts: HostTemplates,
    /// Promote in steps, each watched through Traefik's metrics, rolling back by itself when the candidate
    /// fails: `promote VERSION` then walks the steps (`promote --share N` still moves at once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout: Option<Rollout>,
    /// Where the environment's routing lives: left out, Traefik's file provider on the host; with a `store`,
    /// a key-value store that every Traefik of a fleet watches, written in one transaction per change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing: Option<Routing>,
}

fn default_entry_points() -> Vec<String> {
    vec!["web".into()]
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Tls {
    /// The certificate resolver of Traefik's static configuration (e.g. `letsencrypt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_resolver: Option<String>,
    /// TLS options every router of this environment uses, with their provider (`modern@file`): defined under
    /// `tls.options` in one of the files of `traefik.files`. Left out, Traefik's `default` options apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Sticky {
    /// The cookie that pins a visitor to a slot.
    pub cookie: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Retention {
    /// Keep at least the N most recently deployed versions.
    #[serde(default = "default_keep_last")]
    pub keep_last: u32,
    /// Only remove versions deployed longer ago than this (e.g. `7d`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub older_than: Option<Duration>,
}

fn default_keep_last() -> u32 {
    3
}

impl Default for Retention {
    fn default() -> Self {
        Retention { keep_last: default_keep_last(), older_than: None }
    }
}

/// Where a value of the spec is: its key path, made only for a diagnostic (validating a large spec without
/// problems would otherwise spend much of its time making paths that are never shown).
#[derive(Clone, Copy)]
enum At<'a> {
    Root,
    Key(&'a At<'a>, &'a str),
    Index(&'a At<'a>, usize),
}

impl At<'_> {
    fn key<'b>(&'b self, key: &'b str) -> At<'b> {
        At::Key(self, key)
    }
    fn index(&self, i: usize) -> At<'_> {
        At::Index(self, i)
    }
    /// The key path, as [`KeyPath`] writes it.
    fn path(&self) -> String {
        fn build(at: &At<'_>) -> KeyPath {
            match at {
                At::Root => KeyPath::root(),
                At::Key(parent, key) => build(parent).key(key),
                At::Index(parent, i) => build(parent).index(*i),
            }
        }
        build(self).as_str().to_string()
    }
}

impl Spec {
    /// Checks every value but the host templates (compiled by [`Spec::validate`], which calls this first).
    pub(crate) fn check_values(&self, out: &mut Vec<Diagnostic>) {
        let root = At::Root;
        let apps_path = root.key("apps");
        if self.apps.is_empty() {
            out.push(
                Diagnostic::error("SY0102", "the spec declares no apps")
                    .at(apps_path.path())
                    .hint("add an app under `apps:`; see examples/whoami/switchyard.yaml"),
            );
        }
        for (name, app) in &self.apps {
            let p = apps_path.key(name);
            if let Err(e) = names::check_label(name) {
                out.push(
                    Diagnostic::error("SY0103", format!("the app name {name:?} {e}"))
                        .at(p.path())
                        .hint("app names become hostnames and compose project names"),
                );
            }
            app.validate(&p, out);
        }
        self.traefik.validate(&root.key("traefik"), out);
        for (name, app) in &self.apps {
            for (env_name, env) in &app.environments {
                env.check_references(&self.traefik, &apps_path.key(name).key("environments").key(env_name), out);
            }
        }
    }

    pub fn app(&self, app: &str) -> Option<&App> {
        self.apps.get(app)
    }
}

/// The entry point of the Traefik `install` runs for its API, ping and metrics (on 127.0.0.1 in the container,
/// never published): routers may not use it.
pub const INTERNAL_ENTRY_POINT: &str = "traefik";

/// The file names switchyard writes in Traefik's directory start with this; users' files may not.
pub const RESERVED_FILE_PREFIX: &str = "switchyard";

impl TraefikSpec {
    fn validate(&self, p: &At<'_>, out: &mut Vec<Diagnostic>) {
        let fp = p.key("files");
        let mut names: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, file) in self.files.iter().enumerate() {
            let at = fp.index(i);
            let base = names::base_name(file);
            if file.trim().is_empty() || file.contains('\0') || base.is_empty() {
                out.push(
                    Diagnostic::error("SY0150", "the file path is empty")
                        .at(at.path())
                        .hint("name a Traefik dynamic configuration file relative to the spec, e.g. `middlewares.yml`"),
                );
                continue;
            }
            if !(base.ends_with(".yml") || base.ends_with(".yaml") || base.ends_with(".toml")) {
                out.push(
                    Diagnostic::error("SY0150", format!("{file:?} is not a .yml, .yaml or .toml file"))
                        .at(at.path())
                        .hint("Traefik's file provider reads only .yml, .yaml and .toml files; rename it"),
                );
            }
            if let Some(c) = base.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))) {
                out.push(
                    Diagnostic::error("SY0151", format!("the file name {base:?} contains {c:?}"))
                        .at(at.path())
                        .hint("it keeps its name in Traefik's directory: use letters, digits, '-', '_' and '.'"),
                );
            } else if base.starts_with('.') || base.to_ascii_lowercase().starts_with(RESERVED_FILE_PREFIX) {
                out.push(
                    Diagnostic::error("SY0151", format!("the file name {base:?} is reserved"))
                        .at(at.path())
                        .hint("names starting with `.` or `switchyard` are switchyard's own in Traefik's directory; rename the file"),
                );
            }
            if let Some(first) = names.insert(base, i) {
                out.push(
                    Diagnostic::error(
                        "SY0152",
                        format!("{file:?} has the same name as {:?} in Traefik's directory", self.files[first]),
                    )
                    .at(at.path())
                    .hint("every file lands in one directory under its own name; rename one of them"),
                );
            }
        }
        let rp = p.key("cert_resolvers");
        for (name, resolver) in &self.cert_resolvers {
            let at = rp.key(name);
            if let Err(e) = names::check_identifier(name) {
                out.push(
                    Diagnostic::error("SY0153", format!("the certificate resolver name {name:?} {e}")).at(at.path()),
                );
            }
            let ap = at.key("acme");
            if let Some(email) = &resolver.acme.email
                && !is_plain_email(email)
            {
                out.push(
                    Diagnostic::error("SY0154", format!("{email:?} is not an e-mail address"))
                        .at(ap.key("email").path())
                        .hint(
                            "the ACME account's contact, e.g. `ops@example.com`; leave it out to register without one",
                        ),
                );
            }
            if let Some(url) = &resolver.acme.ca_server
                && !is_https_url(url)
            {
                out.push(
                    Diagnostic::error("SY0155", format!("the ACME directory {url:?} is not an https:// URL"))
                        .at(ap.key("ca_server").path())
                        .hint("e.g. `https://acme-staging-v02.api.letsencrypt.org/directory`; leave it out for Let's Encrypt"),
                );
            }
        }
    }
}

/// `local@domain`, ASCII, with no space, quote or control character: it becomes one command-line flag.
fn is_plain_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else { return false };
    !local.is_empty()
        && s.len() <= 254
        && local.chars().all(|c| c.is_ascii_alphanumeric() || "!#$%&*+-/=?^_{|}~.".contains(c))
        && names::check_hostname(domain).is_ok()
        && domain.contains('.')
}

/// `https://host[:port][/path]` with only URL-safe characters.
fn is_https_url(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("https://") else { return false };
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host = authority
        .rsplit_once(':')
        .map_or(authority, |(h, port)| if port.parse::<u16>().is_ok_and(|p| p > 0) { h } else { "" });
    names::check_hostname(host).is_ok()
        && s.len() <= 2048
        && path.chars().all(|c| c.is_ascii_alphanumeric() || "-._~/%!$&'()*+,;=:@".contains(c))
}

impl App {
    fn validate(&self, p: &At<'_>, out: &mut Vec<Diagnostic>) {
        let problem = if self.compose.trim().is_empty() {
            Some("the compose file path is empty")
        } else if self.compose.contains('\0') {
            Some("the compose file path contains a NUL character, which no file name can hold")
        } else {
            None
        };
        if let Some(message) = problem {
            out.push(
                Diagnostic::error("SY0104", message)
                    .at(p.key("compose").path())
                    .hint("name the compose file, relative to the spec, e.g. `compose: compose.yaml`"),
            );
        }
        let rp = p.key("routes");
        if self.routes.is_empty() {
            out.push(
                Diagnostic::error("SY0105", "the app routes no compose service")
                    .at(rp.path())
                    .hint("add the compose service that serves HTTP, e.g. `routes: {web: {port: 80}}`"),
            );
        }
        let mut seen: BTreeMap<(Option<&str>, Option<&str>), &str> = BTreeMap::new();
        for (service, route) in &self.routes {
            let sp = rp.key(service);
            if let Err(e) = names::check_service_name(service) {
                out.push(
                    Diagnostic::error("SY0106", format!("the compose service name {service:?} {e}")).at(sp.path()),
                );
            }
            if route.port == 0 {
                out.push(
                    Diagnostic::error("SY0107", "port 0 cannot be routed")
                        .at(sp.key("port").path())
                        .hint("give the port the service listens on inside its container, 1 to 65535"),
                );
            }
            if let Some(prefix) = &route.host_prefix
                && let Err(e) = names::check_hostname(prefix)
            {
                out.push(Diagnostic::error("SY0108", format!("the host prefix {prefix:?} {e}")).at(sp.key("host_prefix").path()).hint("a host prefix is one or more DNS labels, e.g. `api`; leave it out to answer on the app's own host"));
            }
            if let Some(path) = &route.path_prefix {
                if let Err(e) = names::check_url_path(path, false) {
                    out.push(
                        Diagnostic::error("SY0109", format!("the path prefix {path:?} {e}"))
                            .at(sp.key("path_prefix").path()),
                    );
                } else if path == "/" {
                    out.push(
                        Diagnostic::warning("SY0110", "a path prefix of `/` matches everything; leave it out")
                            .at(sp.key("path_prefix").path()),
                    );
                }
            }
            let key = (route.host_prefix.as_deref(), route.path_prefix.as_deref().filter(|p| *p != "/"));
            if let Some(other) = seen.insert(key, service) {
                out.push(
                    Diagnostic::error(
                        "SY0111",
                        format!("the routes {other:?} and {service:?} answer on the same host and path"),
                    )
                    .at(sp.path())
                    .hint("give one of them a different `host_prefix` or `path_prefix`"),
                );
            }
        }
        self.health.validate(&p.key("health"), out);
        let ep = p.key("environments");
        if self.environments.is_empty() {
            out.push(
                Diagnostic::error("SY0112", "the app has no environments")
                    .at(ep.path())
                    .hint("add one, e.g. `environments: {dev: {domain: dev.example.com}}`"),
            );
        }
        for (name, env) in &self.environments {
            let p = ep.key(name);
            if let Err(e) = names::check_label(name) {
                out.push(Diagnostic::error("SY0113", format!("the environment name {name:?} {e}")).at(p.path()));
            }
            env.validate(&p, out);
        }
    }
}

impl HealthCheck {
    fn validate(&self, p: &At<'_>, out: &mut Vec<Diagnostic>) {
        if let Err(e) = names::check_url_path(&self.path, true) {
            out.push(
                Diagnostic::error("SY0120", format!("the health check path {:?} {e}", self.path))
                    .at(p.key("path").path()),
            );
        }
        if self.timeout.as_millis() == 0 {
            out.push(Diagnostic::error("SY0121", "the health check timeout is zero").at(p.key("timeout").path()));
        }
        if self.interval <= self.timeout {
            out.push(
                Diagnostic::error(
                    "SY0122",
                    format!(
                        "the health check interval ({}) must be longer than its timeout ({})",
                        self.interval, self.timeout
                    ),
                )
                .at(p.key("interval").path())
                .hint("a probe may take the whole timeout: make the interval longer, e.g. `interval: 10s` with `timeout: 3s`"),
            );
        }
    }
}

impl Environment {
    /// What this environment names in the `traefik:` section: its certificate resolver.
    fn check_references(&self, traefik: &TraefikSpec, p: &At<'_>, out: &mut Vec<Diagnostic>) {
        if let Some(resolver) = self.tls.as_ref().and_then(|t| t.cert_resolver.as_ref())
            && names::check_identifier(resolver).is_ok()
            && !traefik.cert_resolvers.contains_key(resolver)
        {
            let declared: Vec<&str> = traefik.cert_resolvers.keys().map(String::as_str).collect();
            let hint = if declared.is_empty() {
                format!(
                    "declare it, e.g. `traefik: {{cert_resolvers: {{{resolver}: {{acme: {{email: you@example.com}}}}}}}}`: \
                     `install` configures it; Traefik would serve its default certificate instead"
                )
            } else {
                format!(
                    "the declared ones are: {}; or declare {resolver:?} under `traefik.cert_resolvers`",
                    declared.join(", ")
                )
            };
            out.push(
                Diagnostic::error("SY0156", format!("the certificate resolver {resolver:?} is not declared"))
                    .at(p.key("tls").key("cert_resolver").path())
                    .hint(hint),
            );
        }
    }

    fn validate(&self, p: &At<'_>, out: &mut Vec<Diagnostic>) {
        if let Err(e) = names::check_hostname(&self.domain) {
            out.push(
                Diagnostic::error("SY0130", format!("the domain {:?} {e}", self.domain)).at(p.key("domain").path()),
            );
        }
        let ep = p.key("entry_points");
        if self.entry_points.is_empty() {
            out.push(
                Diagnostic::error("SY0131", "no entry points: the routers would listen nowhere")
                    .at(ep.path())
                    .hint("name the entry points of Traefik's static configuration, e.g. `[websecure]`"),
            );
        }
        for (i, name) in self.entry_points.iter().enumerate() {
            if let Err(e) = names::check_identifier(name) {
                out.push(Diagnostic::error("SY0132", format!("the entry point {name:?} {e}")).at(ep.index(i).path()));
            } else if name == INTERNAL_ENTRY_POINT {
                out.push(
                    Diagnostic::error(
                        "SY0137",
                        format!("the entry point {name:?} is Traefik's internal one (its API, ping and metrics)"),
                    )
                    .at(ep.index(i).path())
                    .hint("switchyard's Traefik serves its API there on 127.0.0.1 only; route on `web` or `websecure`"),
                );
            }
        }
        if let Some(resolver) = self.tls.as_ref().and_then(|t| t.cert_resolver.as_ref())
            && let Err(e) = names::check_identifier(resolver)
        {
            out.push(
                Diagnostic::error("SY0133", format!("the certificate resolver {resolver:?} {e}"))
                    .at(p.key("tls").key("cert_resolver").path()),
            );
        }
        if let Some(options) = self.tls.as_ref().and_then(|t| t.options.as_ref())
            && let Err(e) = names::check_reference(options)
        {
            out.push(
                Diagnostic::error("SY0138", format!("the TLS options {options:?} {e}"))
                    .at(p.key("tls").key("options").path()),
            );
        }
        let mp = p.key("middlewares");
        for (i, name) in self.middlewares.iter().enumerate() {
            if let Err(e) = names::check_reference(name) {
                out.push(Diagnostic::error("SY0134", format!("the middleware {name:?} {e}")).at(mp.index(i).path()));
            }
        }
        if let Some(sticky) = &self.sticky
            && let Err(e) = names::check_identifier(&sticky.cookie)
        {
            out.push(
                Diagnostic::error("SY0135", format!("the cookie name {:?} {e}", sticky.cookie))
                    .at(p.key("sticky").key("cookie").path()),
            );
        }
        if self.retention.older_than.is_some_and(|d| d.as_millis() == 0) {
            out.push(
                Diagnostic::warning(
                    "SY0136",
                    "`older_than: 0s` lets cleanup remove a version the moment it is replaced",
                )
                .at(p.key("retention").key("older_than").path()),
            );
        }
        if let Some(rollout) = &self.rollout {
            for (key, problem, fix) in rollout.problems() {
                out.push(Diagnostic::error("SY0139", problem).at(p.key("rollout").key(key).path()).hint(fix));
            }
        }
        if let Some(routing) = &self.routing {
            for (key, index, problem) in routing.problems() {
                let routing_path = p.key("routing");
                let field = routing_path.key(key);
                let at = match index {
                    Some(i) => field.index(i).path(),
                    None => field.path(),
                };
                out.push(Diagnostic::error("SY0144", problem).at(at));
            }
        }
    }
}

#[cfg(feature = "schema")]
/// The JSON Schema of the spec, as committed in `switchyard.schema.json`.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(Spec);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}
