//! Docker Compose files, turned into what the Docker executor creates through the Docker API: one stack (one
//! version of one app), its services in start order, their containers' settings and the named volumes.
//!
//! Pure like the rest of the model: the CLI reads the files and passes their text in. Two steps, because a
//! compose file names other files (`env_file`) that only the CLI can read:
//! 1. [`parse`] the compose file with [`Options`] (the stack name, the variables switchyard fills in, the
//!    routed services). Gives a [`Parsed`] whose [`Parsed::env_files`] lists the env files to read.
//! 2. [`Parsed::finish`] with the contents of those files gives the [`ComposeProject`].
//!
//! [`load`] does both when the env files are at hand already.
//!
//! What is supported, and how:
//! - Top level: `services`, `volumes` (plain named volumes, no options), `name` (ignored: switchyard names
//!   the stack), `version` (obsolete), and `x-*` extension fields (ignored; YAML anchors and `<<` merge keys
//!   work anywhere). Everything else is refused, every unsupported key at once, each with its line.
//! - Service keys: `image`, `command`, `entrypoint`, `environment`, `env_file`, `labels`, `ports`,
//!   `healthcheck`, `volumes`, `depends_on`, `restart`, `user`, `working_dir`, plus `x-*`.
//! - `command` and `entrypoint` as a string are split into words the way compose does it (shell quoting
//!   rules: spaces separate words, single and double quotes and backslashes group and escape), and nothing
//!   else a shell does happens: no variables, pipes, redirections or globs. A string that looks like it needs
//!   a shell gets a warning (SY0531) suggesting `["sh", "-c", "..."]`. An empty list (or empty string)
//!   clears the image's value; leaving the key out keeps it.
//! - Variables: `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`,
//!   `${VAR:+replacement}`, `${VAR+replacement}` (defaults may nest) and `$$` for a literal `$`, in string
//!   values (never keys) of supported keys and in env files. Variables come only from [`Options::variables`],
//!   never from the process environment; an unset variable without a default is an error. A bare `KEY` in
//!   `environment` or an env file takes its value from the same variables, or is left out with a warning.
//! - Named volumes are created per stack (`data` in stack `whoami-dev-v1-2-0` is the Docker volume
//!   `whoami-dev-v1-2-0_data`): versions never share data through a volume.
//!
//! Diagnostic codes: SY05xx; each, with its severity and meaning, is in [`switchyard_diagnostics::registry`].

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;
use serde_json::Value;

use switchyard_diagnostics::{Diagnostic, KeyPath, Location, did_you_mean, has_errors};
use switchyard_model::names;
use switchyard_model::render::naming;
use switchyard_model::time::Duration;
use switchyard_yaml::{self as yaml, SourceMap};

/// What the caller knows that the compose file does not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Options {
    /// The stack (compose project) name, from [`naming::stack`]: `whoami-dev-v1-2-0`.
    pub stack: String,
    /// The only variables interpolation sees (`SWITCHYARD_VERSION`, `SWITCHYARD_STACK`, hosts, ...).
    pub variables: BTreeMap<String, String>,
    /// The compose services the spec routes; each must be in the file.
    pub routed: BTreeSet<String>,
}

/// A compose file ready to be created on Docker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComposeProject {
    pub stack: String,
    /// In start order: every service after the services it depends on; ties broken by name.
    pub services: Vec<Service>,
    /// The named volumes the services use, to create before the containers.
    pub volumes: Vec<Volume>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Diagnostic>,
}

impl ComposeProject {
    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.name == name)
    }
}

/// A named volume of the stack.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Volume {
    /// As the compose file names it: `data`.
    pub name: String,
    /// As Docker names it: `whoami-dev-v1-2-0_data`.
    pub docker_name: String,
}

/// One service: the settings of its container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Service {
    pub name: String,
    /// [`naming::container`]: `whoami-dev-v1-2-0-web-1`.
    pub container_name: String,
    pub image: String,
    /// `None` keeps the image's entrypoint; an empty list clears it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    /// `None` keeps the image's command; an empty list clears it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    /// `K=V`, sorted by name; `environment` over `env_file`, later env files over earlier ones.
    pub env: Vec<String>,
    pub labels: BTreeMap<String, String>,
    pub ports: Vec<PortBinding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<Healthcheck>,
    pub mounts: Vec<Mount>,
    /// Sorted by service name.
    pub depends_on: Vec<Dependency>,
    /// `None`: not given (Docker's default is `no`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restart: Option<Restart>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    /// The spec routes this service.
    pub routed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Sctp => "sctp",
        })
    }
}

/// A container port published on the host.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct PortBinding {
    pub container_port: u16,
    pub protocol: Protocol,
    /// `None`: all interfaces.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_ip: Option<String>,
    /// `None`: a port Docker picks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_port: Option<u16>,
}

impl PortBinding {
    /// Docker's key for exposed ports and port bindings: `80/tcp`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.container_port, self.protocol)
    }
}

/// A health check, in Docker's terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Healthcheck {
    /// `["CMD", ...]`, `["CMD-SHELL", "..."]`, `["NONE"]` (disabled), or empty: keep the image's test.
    pub test: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<Duration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_period: Option<Duration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retries: Option<u32>,
}

impl Healthcheck {
    pub fn is_disabled(&self) -> bool {
        self.test.first().is_some_and(|t| t == "NONE")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MountKind {
    Volume,
    Bind,
    Tmpfs,
}

/// A mount of a container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mount {
    pub kind: MountKind,
    /// Volume: the Docker volume name, already prefixed with the stack (`None`: an anonymous volume).
    /// Bind: the host path as written. Tmpfs: `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// A bind source relative to the compose file's directory; the CLI resolves it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub relative: bool,
    pub target: String,
    pub read_only: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    ServiceStarted,
    ServiceHealthy,
    ServiceCompletedSuccessfully,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Dependency {
    pub service: String,
    pub condition: Condition,
}

/// Docker's restart policy names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RestartPolicy {
    No,
    Always,
    OnFailure,
    UnlessStopped,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Restart {
    pub policy: RestartPolicy,
    /// Only with `on-failure:N`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_retries: Option<u32>,
}

/// An env file a service names; the CLI reads it (relative paths from the compose file's directory).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct EnvFileRef {
    /// As written (after interpolation); the key of the contents passed to [`Parsed::finish`].
    pub path: String,
    pub relative: bool,
    /// `required: false` (long syntax): a missing file is no error.
    pub required: bool,
}

#[derive(Debug, Clone)]
struct EnvFileEntry {
    file: EnvFileRef,
    key_path: String,
    location: Option<Location>,
}

#[derive(Debug, Clone)]
struct PendingEnv {
    files: Vec<EnvFileEntry>,
    environment: BTreeMap<String, String>,
}

/// A compose file after step 1: everything but the env files' contents.
#[derive(Debug, Clone)]
pub struct Parsed {
    project: ComposeProject,
    pending: BTreeMap<String, PendingEnv>,
    env_files: Vec<EnvFileRef>,
    variables: BTreeMap<String, String>,
}

impl Parsed {
    /// The env files to read, each once, sorted by path. A file named both required and optional is required.
    pub fn env_files(&self) -> &[EnvFileRef] {
        &self.env_files
    }

    /// The warnings so far.
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.project.warnings
    }

    /// Step 2: `contents` maps each path of [`Parsed::env_files`] to the file's text (leave out an optional
    /// file that does not exist).
    pub fn finish(self, contents: &BTreeMap<String, String>) -> Result<ComposeProject, Vec<Diagnostic>> {
        let Parsed { mut project, pending, variables, .. } = self;
        let mut out = std::mem::take(&mut project.warnings);
        for service in &mut project.services {
            let Some(p) = pending.get(&service.name) else { continue };
            let mut env: BTreeMap<String, String> = BTreeMap::new();
            for EnvFileEntry { file, location, .. } in &p.files {
                match contents.get(&file.path) {
                    Some(text) => env.extend(parse_env_file(text, &file.path, &variables, &mut out)),
                    None if file.required => {
                        let mut d = Diagnostic::error(
                            "SY0544",
                            format!("the env file {:?} of service `{}` was not read", file.path, service.name),
                        )
                        .hint("the file must exist (relative to the compose file), or be marked `required: false`");
                        d.location = location.clone();
                        out.push(d);
                    }
                    None => {}
                }
            }
            env.extend(p.environment.iter().map(|(k, v)| (k.clone(), v.clone())));
            service.env = env.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
        }
        sort_diagnostics(&mut out);
        if has_errors(&out) {
            return Err(out);
        }
        project.warnings = out;
        Ok(project)
    }
}

/// Both steps at once: `env_files` maps env-file paths (as written in the compose file) to their contents.
pub fn load(
    source: &str,
    file: &str,
    options: &Options,
    env_files: &BTreeMap<String, String>,
) -> Result<ComposeProject, Vec<Diagnostic>> {
    parse(source, file, options)?.finish(env_files)
}

const TOP_LEVEL_KEYS: &[&str] = &["services", "volumes", "name", "version"];
const SERVICE_KEYS: &[&str] = &[
    "image",
    "command",
    "entrypoint",
    "environment",
    "env_file",
    "labels",
    "ports",
    "healthcheck",
    "volumes",
    "depends_on",
    "restart",
    "user",
    "working_dir",
];
/// Label prefixes reserved for switchyard's and compose's own bookkeeping.
pub const RESERVED_LABEL_PREFIXES: &[&str] = &["switchyard.", "com.docker.compose."];

/// Step 1: parses, interpolates and validates a compose file. Every problem at once, located in `file`.
pub fn parse(source: &str, file: &str, options: &Options) -> Result<Parsed, Vec<Diagnostic>> {
    let root: Value = match yaml::from_str::<Value>(source, file) {
        Ok(v) => v,
        Err(d) => {
            let mut d = *d;
            d.code = "SY0500".into();
            d.hints.retain(|h| !h.contains("switchyard.yaml"));
            return Err(vec![d]);
        }
    };
    let mut cx = Cx { options, declared_volumes: BTreeSet::new(), used_volumes: BTreeSet::new(), out: Vec::new() };
    let parsed = cx.project(root);
    let mut out = cx.out;
    let map = SourceMap::new(source, file);
    map.attach(&mut out);
    sort_diagnostics(&mut out);
    match parsed {
        Some(mut parsed) if !has_errors(&out) => {
            for entry in parsed.pending.values_mut().flat_map(|p| p.files.iter_mut()) {
                entry.location = map.locate(&entry.key_path);
            }
            parsed.project.warnings = out;
            Ok(parsed)
        }
        _ => Err(out),
    }
}

fn sort_diagnostics(out: &mut [Diagnostic]) {
    out.sort_by_key(|d| (d.location.is_none(), d.location.clone()));
}

struct Cx<'a> {
    options: &'a Options,
    declared_volumes: BTreeSet<String>,
    used_volumes: BTreeSet<String>,
    out: Vec<Diagnostic>,
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// A scalar as a string: YAML `80` and `true` where a string is expected are taken as text, as compose does.
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Applies YAML merge keys (`<<: *anchor`, `<<: [*a, *b]`): keys already present win, earlier maps first.
fn apply_merges(v: &mut Value, path: &KeyPath, out: &mut Vec<Diagnostic>) {
    match v {
        Value::Object(map) => {
            if let Some(merge) = map.remove("<<") {
                let sources = match merge {
                    Value::Object(m) => vec![m],
                    Value::Array(items) => items
                        .into_iter()
                        .filter_map(|i| match i {
                            Value::Object(m) => Some(m),
                            other => {
                                out.push(wrong_shape(&path.key("<<"), "a mapping to merge", &other));
                                None
                            }
                        })
                        .collect(),
                    other => {
                        out.push(wrong_shape(&path.key("<<"), "a mapping to merge", &other));
                        Vec::new()
                    }
                };
                for source in sources {
                    for (k, val) in source {
                        map.entry(k).or_insert(val);
                    }
                }
            }
            for (k, child) in map.iter_mut() {
                apply_merges(child, &path.key(k), out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter_mut().enumerate() {
                apply_merges(child, &path.index(i), out);
            }
        }
        _ => {}
    }
}

fn wrong_shape(path: &KeyPath, expected: &str, found: &Value) -> Diagnostic {
    Diagnostic::error("SY0504", format!("expected {expected}, found {}", kind(found))).at(path.as_str())
}

impl Cx<'_> {
    fn push(&mut self, d: Diagnostic) {
        self.out.push(d);
    }

    fn wrong(&mut self, path: &KeyPath, expected: &str, found: &Value) {
        self.out.push(wrong_shape(path, expected, found));
    }

    fn project(&mut self, mut root: Value) -> Option<Parsed> {
        let stack = self.options.stack.clone();
        if let Err(e) = check_stack(&stack) {
            self.push(
                Diagnostic::error("SY0599", format!("the stack name {stack:?} {e}"))
                    .hint("the stack name comes from switchyard (app, environment and version); please report this"),
            );
        }
        apply_merges(&mut root, &KeyPath::root(), &mut self.out);
        let map = match root {
            Value::Object(map) => map,
            Value::Null => {
                self.push(
                    Diagnostic::error("SY0520", "the compose file is empty")
                        .hint("declare the services under `services:`, each with an `image`"),
                );
                return None;
            }
            other => {
                self.push(Diagnostic::error(
                    "SY0500",
                    format!("a compose file is a mapping with `services:`; this one is {}", kind(&other)),
                ));
                return None;
            }
        };
        let root_path = KeyPath::root();
        let mut services = None;
        let mut volumes = None;
        for (key, value) in map {
            let p = root_path.key(&key);
            match key.as_str() {
                "services" => services = Some(value),
                "volumes" => volumes = Some(value),
                "name" => self.push(
                    Diagnostic::warning("SY0505", "`name` is ignored: switchyard names the stack")
                        .at(p.as_str())
                        .hint(format!("this version's stack is `{stack}`; remove `name`")),
                ),
                "version" => self.push(
                    Diagnostic::warning("SY0506", "`version` is obsolete and ignored").at(p.as_str()).hint("remove it"),
                ),
                k if k.starts_with("x-") => {}
                other => {
                    let d = Diagnostic::error("SY0501", format!("the top-level key `{other}` is not supported"))
                        .at(p.as_str())
                        .hint(top_level_hint(other));
                    self.push(d);
                }
            }
        }
        if let Some(v) = volumes {
            self.top_level_volumes(v, &root_path.key("volumes"));
        }
        let sp = root_path.key("services");
        let services = match services {
            Some(Value::Object(m)) if !m.is_empty() => m,
            Some(Value::Object(_) | Value::Null) | None => {
                self.push(
                    Diagnostic::error("SY0520", "the compose file declares no services")
                        .at(sp.as_str())
                        .hint("declare the services under `services:`, each with an `image`"),
                );
                serde_json::Map::new()
            }
            Some(other) => {
                self.wrong(&sp, "a mapping of services", &other);
                serde_json::Map::new()
            }
        };
        let names: BTreeSet<String> = services.keys().cloned().collect();
        let mut parsed: BTreeMap<String, Service> = BTreeMap::new();
        let mut pending = BTreeMap::new();
        for (name, value) in services {
            let p = sp.key(&name);
            if let Err(e) = names::check_service_name(&name) {
                self.push(
                    Diagnostic::error("SY0521", format!("the service name {name:?} {e}")).at(p.as_str()).hint(
                        "service names become container names, DNS names on the stack's network and Traefik names",
                    ),
                );
            }
            if let Some((service, env)) = self.service(&name, value, &p) {
                parsed.insert(name.clone(), service);
                pending.insert(name, env);
            }
        }
        for routed in &self.options.routed {
            if !names.contains(routed) {
                let mut d = Diagnostic::error(
                    "SY0523",
                    format!("the spec routes the service `{routed}`, but the compose file has no such service"),
                )
                .at(sp.as_str());
                if let Some(best) = did_you_mean(routed, names.iter().map(String::as_str)) {
                    d = d.hint(format!("did you mean `{best}`? (rename the service or the route)"));
                } else if !names.is_empty() {
                    d = d.hint(format!(
                        "the services in the file are: {}",
                        names.iter().map(String::as_str).collect::<Vec<_>>().join(", ")
                    ));
                }
                self.push(d);
            }
        }
        self.check_dependencies(&parsed, &sp);
        let order = start_order(&parsed);
        let mut ordered = Vec::with_capacity(parsed.len());
        for name in order {
            if let Some(s) = parsed.remove(&name) {
                ordered.push(s);
            }
        }
        // Only the volumes a service uses are created, as compose does.
        let volumes = self
            .used_volumes
            .iter()
            .filter(|v| self.declared_volumes.contains(*v))
            .map(|v| Volume { name: v.clone(), docker_name: volume_name(&stack, v) })
            .collect();
        let mut env_files: BTreeMap<String, EnvFileRef> = BTreeMap::new();
        for p in pending.values() {
            for EnvFileEntry { file: f, .. } in &p.files {
                env_files.entry(f.path.clone()).and_modify(|e| e.required |= f.required).or_insert_with(|| f.clone());
            }
        }
        Some(Parsed {
            project: ComposeProject { stack, services: ordered, volumes, warnings: Vec::new() },
            pending,
            env_files: env_files.into_values().collect(),
            variables: self.options.variables.clone(),
        })
    }

    fn top_level_volumes(&mut self, v: Value, p: &KeyPath) {
        let map = match v {
            Value::Object(m) => m,
            Value::Null => return,
            other => return self.wrong(p, "a mapping of volume names", &other),
        };
        for (name, decl) in map {
            let vp = p.key(&name);
            if let Err(e) = check_volume_name(&name) {
                self.push(Diagnostic::error("SY0582", format!("the volume name {name:?} {e}")).at(vp.as_str()));
            }
            match decl {
                Value::Null => {}
                Value::Object(opts) => {
                    for key in opts.keys() {
                        let hint = match key.as_str() {
                            "external" | "name" => {
                                "each version gets its own volumes, named after its stack, so two versions never \
                                 write the same data at once; share data through a service outside switchyard \
                                 (a database) instead"
                            }
                            "driver" | "driver_opts" => {
                                "switchyard creates plain local volumes; remove the driver options"
                            }
                            "labels" => "switchyard labels the volumes it creates itself; remove the labels",
                            _ => "a volume is declared with nothing under it: `data: {}` or `data:`",
                        };
                        self.push(
                            Diagnostic::error("SY0582", format!("the volume option `{key}` is not supported"))
                                .at(vp.key(key).as_str())
                                .hint(hint),
                        );
                    }
                }
                other => self.wrong(&vp, "nothing or an empty mapping", &other),
            }
            self.declared_volumes.insert(name);
        }
    }

    /// Interpolates the string values of `v` in place.
    fn interpolate(&mut self, v: &mut Value, p: &KeyPath) {
        match v {
            Value::String(s) => match interpolate(s, &self.options.variables) {
                Ok(new) => *s = new,
                Err(errors) => {
                    for e in errors {
                        self.out.push(interpolation_diagnostic(&e, &self.options.variables).at(p.as_str()));
                    }
                }
            },
            Value::Array(items) => {
                for (i, item) in items.iter_mut().enumerate() {
                    self.interpolate(item, &p.index(i));
                }
            }
            Value::Object(map) => {
                for (k, item) in map.iter_mut() {
                    self.interpolate(item, &p.key(k));
                }
            }
            _ => {}
        }
    }

    fn service(&mut self, name: &str, value: Value, p: &KeyPath) -> Option<(Service, PendingEnv)> {
        let map = match value {
            Value::Object(m) => m,
            Value::Null => serde_json::Map::new(),
            other => {
                self.wrong(p, "a mapping of service keys", &other);
                return None;
            }
        };
        let mut service = Service {
            name: name.to_string(),
            container_name: naming::container(&self.options.stack, name),
            image: String::new(),
            entrypoint: None,
            command: None,
            env: Vec::new(),
            labels: BTreeMap::new(),
            ports: Vec::new(),
            healthcheck: None,
            mounts: Vec::new(),
            depends_on: Vec::new(),
            restart: None,
            user: None,
            working_dir: None,
            routed: self.options.routed.contains(name),
        };
        let mut pending = PendingEnv { files: Vec::new(), environment: BTreeMap::new() };
        let mut has_image = false;
        for (key, mut v) in map {
            let kp = p.key(&key);
            if key.starts_with("x-") {
                continue;
            }
            if !SERVICE_KEYS.contains(&key.as_str()) {
                let d = Diagnostic::error("SY0502", format!("the service key `{key}` is not supported"))
                    .at(kp.as_str())
                    .hint(service_key_hint(&key, &self.options.stack, name));
                self.push(d);
                continue;
            }
            let before = self.out.len();
            self.interpolate(&mut v, &kp);
            has_image |= key == "image";
            if self.out.len() > before {
                continue; // the value is not what the user meant: checking it would only add noise
            }
            match key.as_str() {
                "image" => match scalar(&v) {
                    Some(image) if image.trim().is_empty() => self.push(
                        Diagnostic::error("SY0522", format!("the service `{name}` has an empty image")).at(kp.as_str()),
                    ),
                    Some(image) if image.chars().any(|c| c.is_whitespace() || c.is_control()) => self.push(
                        Diagnostic::error(
                            "SY0522",
                            format!("the image {image:?} contains spaces or control characters"),
                        )
                        .at(kp.as_str()),
                    ),
                    Some(image) => service.image = image,
                    None => self.wrong(&kp, "an image reference such as `traefik/whoami:v1.10`", &v),
                },
                "command" => service.command = self.words(&v, &kp),
                "entrypoint" => service.entrypoint = self.words(&v, &kp),
                "environment" => pending.environment = self.environment(&v, &kp),
                "env_file" => pending.files = self.env_file(&v, &kp),
                "labels" => service.labels = self.labels(&v, &kp),
                "ports" => service.ports = self.ports(&v, &kp),
                "healthcheck" => service.healthcheck = self.healthcheck(&v, &kp),
                "volumes" => service.mounts = self.mounts(&v, &kp),
                "depends_on" => service.depends_on = self.depends_on(&v, &kp),
                "restart" => service.restart = self.restart(&v, &kp),
                "user" => service.user = self.user(&v, &kp),
                "working_dir" => service.working_dir = self.working_dir(&v, &kp),
                _ => {}
            }
        }
        if !has_image {
            self.push(
                Diagnostic::error("SY0522", format!("the service `{name}` has no image"))
                    .at(p.as_str())
                    .hint(BUILD_HINT),
            );
        }
        Some((service, pending))
    }

    fn words(&mut self, v: &Value, p: &KeyPath) -> Option<Vec<String>> {
        match v {
            Value::Null => None,
            Value::String(s) => {
                match split_words(s) {
                    Ok(words) => {
                        if let Some(op) = words.iter().find(|w| looks_like_shell(w)) {
                            self.push(
                                Diagnostic::warning(
                                    "SY0531",
                                    format!("`{op}` is passed to the program as a word; no shell runs this command"),
                                )
                                .at(p.as_str())
                                .hint(format!("to run it in a shell, write it as a list: [\"sh\", \"-c\", {s:?}]")),
                            );
                        }
                        Some(words)
                    }
                    Err(e) => {
                        self.push(Diagnostic::error("SY0530", format!("the command {s:?} {e}")).at(p.as_str()).hint(
                            "write it as a list of words, e.g. [\"--port\", \"80\"], to avoid quoting altogether",
                        ));
                        None
                    }
                }
            }
            Value::Array(items) => {
                let mut words = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    match scalar(item) {
                        Some(w) if w.contains('\0') => self.push(
                            Diagnostic::error("SY0530", "a word contains a NUL character").at(p.index(i).as_str()),
                        ),
                        Some(w) => words.push(w),
                        None => self.wrong(&p.index(i), "a string", item),
                    }
                }
                Some(words)
            }
            other => {
                self.wrong(p, "a string or a list of strings", other);
                None
            }
        }
    }

    fn bare_variable(&mut self, key: &str, p: &KeyPath) -> Option<String> {
        let value = self.options.variables.get(key).cloned();
        if value.is_none() {
            self.push(
                Diagnostic::warning(
                    "SY0541",
                    format!("`{key}` has no value and no switchyard variable of that name exists; it is left out"),
                )
                .at(p.as_str())
                .hint(format!("give it a value: `{key}=...`; switchyard never passes its own environment on")),
            );
        }
        value
    }

    fn env_entry(&mut self, key: &str, value: Option<String>, p: &KeyPath, env: &mut BTreeMap<String, String>) {
        if let Err(e) = check_env_name(key) {
            self.push(Diagnostic::error("SY0540", format!("the environment variable name {key:?} {e}")).at(p.as_str()));
            return;
        }
        let value = match value {
            Some(v) => v,
            None => match self.bare_variable(key, p) {
                Some(v) => v,
                None => return,
            },
        };
        if value.contains('\0') {
            self.push(
                Diagnostic::error("SY0540", format!("the value of `{key}` contains a NUL character")).at(p.as_str()),
            );
            return;
        }
        env.insert(key.to_string(), value);
    }

    fn environment(&mut self, v: &Value, p: &KeyPath) -> BTreeMap<String, String> {
        let mut env = BTreeMap::new();
        match v {
            Value::Null => {}
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let ip = p.index(i);
                    match scalar(item) {
                        Some(entry) => match entry.split_once('=') {
                            Some((k, val)) => self.env_entry(k, Some(val.to_string()), &ip, &mut env),
                            None => self.env_entry(&entry, None, &ip, &mut env),
                        },
                        None => self.wrong(&ip, "a `NAME=value` string", item),
                    }
                }
            }
            Value::Object(map) => {
                for (k, val) in map {
                    let kp = p.key(k);
                    match val {
                        Value::Null => self.env_entry(k, None, &kp, &mut env),
                        other => match scalar(other) {
                            Some(s) => self.env_entry(k, Some(s), &kp, &mut env),
                            None => self.wrong(&kp, "a string, number or boolean", other),
                        },
                    }
                }
            }
            other => self.wrong(p, "a list of `NAME=value` or a mapping", other),
        }
        env
    }

    fn env_file(&mut self, v: &Value, p: &KeyPath) -> Vec<EnvFileEntry> {
        let mut files = Vec::new();
        let mut one = |cx: &mut Self, path: &str, required: bool, at: &KeyPath| {
            if path.trim().is_empty() || path.contains('\0') {
                cx.push(
                    Diagnostic::error("SY0542", format!("the env file path {path:?} is empty or contains NUL"))
                        .at(at.as_str()),
                );
            } else if path.starts_with('~') {
                cx.push(
                    Diagnostic::error("SY0542", format!("the env file path {path:?} starts with `~`"))
                        .at(at.as_str())
                        .hint("write the path relative to the compose file; switchyard reads no home directory"),
                );
            } else {
                let file = EnvFileRef { path: path.to_string(), relative: !path.starts_with('/'), required };
                // The location is filled in once the source map is built.
                files.push(EnvFileEntry { file, key_path: at.as_str().to_string(), location: None });
            }
        };
        match v {
            Value::String(s) => one(self, s, true, p),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let ip = p.index(i);
                    match item {
                        Value::String(s) => one(self, s, true, &ip),
                        Value::Object(m) => {
                            let mut path = None;
                            let mut required = true;
                            for (k, val) in m {
                                match (k.as_str(), val) {
                                    ("path", Value::String(s)) => path = Some(s.clone()),
                                    ("required", Value::Bool(b)) => required = *b,
                                    ("path", other) => self.wrong(&ip.key(k), "a path", other),
                                    ("required", other) => self.wrong(&ip.key(k), "true or false", other),
                                    (other, _) => {
                                        self.push(nested_unsupported(&ip.key(other), other, &["path", "required"]))
                                    }
                                }
                            }
                            match path {
                                Some(s) => one(self, &s, required, &ip),
                                None => self.push(
                                    Diagnostic::error("SY0542", "an env file entry without `path`").at(ip.as_str()),
                                ),
                            }
                        }
                        other => self.wrong(&ip, "a path or `{path: ..., required: ...}`", other),
                    }
                }
            }
            other => self.wrong(p, "a path or a list of paths", other),
        }
        files
    }

    fn labels(&mut self, v: &Value, p: &KeyPath) -> BTreeMap<String, String> {
        let mut labels = BTreeMap::new();
        let mut add =
            |cx: &mut Self, key: &str, value: String, at: &KeyPath| {
                let lower = key.to_ascii_lowercase();
                if let Some(prefix) = RESERVED_LABEL_PREFIXES.iter().find(|pre| lower.starts_with(**pre)) {
                    cx.push(
                    Diagnostic::error("SY0550", format!("the label `{key}` uses the reserved prefix `{prefix}`"))
                        .at(at.as_str())
                        .hint("switchyard and compose keep their own bookkeeping in these labels; choose another name, \
                         e.g. `com.example.`"),
                );
                } else if key.trim().is_empty() || key.chars().any(|c| c.is_control() || c.is_whitespace()) {
                    cx.push(
                        Diagnostic::error(
                            "SY0551",
                            format!("the label name {key:?} is empty or contains spaces or control characters"),
                        )
                        .at(at.as_str()),
                    );
                } else if value.contains('\0') {
                    cx.push(
                        Diagnostic::error("SY0551", format!("the value of the label `{key}` contains a NUL character"))
                            .at(at.as_str()),
                    );
                } else {
                    labels.insert(key.to_string(), value);
                }
            };
        match v {
            Value::Null => {}
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let ip = p.index(i);
                    match scalar(item) {
                        Some(entry) => match entry.split_once('=') {
                            Some((k, val)) => add(self, k, val.to_string(), &ip),
                            None => add(self, &entry, String::new(), &ip),
                        },
                        None => self.wrong(&ip, "a `name=value` string", item),
                    }
                }
            }
            Value::Object(map) => {
                for (k, val) in map {
                    let kp = p.key(k);
                    match val {
                        Value::Null => add(self, k, String::new(), &kp),
                        other => match scalar(other) {
                            Some(s) => add(self, k, s, &kp),
                            None => self.wrong(&kp, "a string", other),
                        },
                    }
                }
            }
            other => self.wrong(p, "a list of `name=value` or a mapping", other),
        }
        labels
    }

    fn ports(&mut self, v: &Value, p: &KeyPath) -> Vec<PortBinding> {
        let mut ports = Vec::new();
        let items = match v {
            Value::Null => return ports,
            Value::Array(items) => items,
            other => {
                self.wrong(p, "a list of ports", other);
                return ports;
            }
        };
        for (i, item) in items.iter().enumerate() {
            let ip = p.index(i);
            let result = match item {
                Value::String(_) | Value::Number(_) => {
                    let s = scalar(item).unwrap_or_default();
                    parse_port_short(&s).map_err(|e| format!("the port {s:?} {e}"))
                }
                Value::Object(m) => self.port_long(m, &ip),
                other => {
                    self.wrong(&ip, "a port such as \"8080:80\" or a mapping with `target`", other);
                    continue;
                }
            };
            match result {
                Ok(bindings) => {
                    if let Some(b) = bindings.iter().find(|b| b.host_port.is_some()) {
                        self.push(
                            Diagnostic::warning(
                                "SY0561",
                                format!(
                                    "host port {} is published: a second version deployed at the same time \
                                     cannot start",
                                    b.host_port.unwrap_or_default()
                                ),
                            )
                            .at(ip.as_str())
                            .hint(PORT_HINT),
                        );
                    }
                    ports.extend(bindings);
                }
                Err(e) if e.is_empty() => {}
                Err(e) => self.push(Diagnostic::error("SY0560", e).at(ip.as_str()).hint(
                    "write ports as \"CONTAINER\", \"HOST:CONTAINER\" or \"IP:HOST:CONTAINER\", \
                         optionally with /tcp or /udp",
                )),
            }
        }
        ports
    }

    /// The long port syntax. An `Err("")` means the problems were already reported.
    fn port_long(&mut self, m: &serde_json::Map<String, Value>, p: &KeyPath) -> Result<Vec<PortBinding>, String> {
        let mut target = None;
        let mut published = None;
        let mut host_ip = None;
        let mut protocol = Protocol::Tcp;
        let mut reported = false;
        for (k, v) in m {
            let kp = p.key(k);
            match k.as_str() {
                "target" => match scalar(v) {
                    Some(s) => target = Some(s),
                    None => {
                        self.wrong(&kp, "a port number", v);
                        reported = true;
                    }
                },
                "published" => match scalar(v) {
                    Some(s) => published = Some(s),
                    None => {
                        self.wrong(&kp, "a port number or range", v);
                        reported = true;
                    }
                },
                "host_ip" => match v {
                    Value::String(s) => host_ip = Some(s.clone()),
                    other => {
                        self.wrong(&kp, "an IP address", other);
                        reported = true;
                    }
                },
                "protocol" => match v.as_str().map(parse_protocol) {
                    Some(Ok(proto)) => protocol = proto,
                    Some(Err(e)) => return Err(e),
                    None => {
                        self.wrong(&kp, "tcp, udp or sctp", v);
                        reported = true;
                    }
                },
                "mode" => match v.as_str() {
                    Some("host" | "ingress") => {}
                    _ => return Err("has a `mode` other than `host` or `ingress`".into()),
                },
                "name" | "app_protocol" => {}
                other => {
                    self.push(nested_unsupported(
                        &kp,
                        other,
                        &["target", "published", "host_ip", "protocol", "mode", "name", "app_protocol"],
                    ));
                    reported = true;
                }
            }
        }
        if reported {
            return Err(String::new());
        }
        let Some(target) = target else { return Err("the long port syntax needs `target`".into()) };
        let mut spec = String::new();
        if let Some(ip) = &host_ip {
            if ip.contains(':') { spec.push_str(&format!("[{ip}]:")) } else { spec.push_str(&format!("{ip}:")) }
        }
        match published.as_deref() {
            Some(p) if !p.is_empty() => spec.push_str(&format!("{p}:")),
            _ if host_ip.is_some() => spec.push(':'),
            _ => {}
        }
        spec.push_str(&target);
        let mut bindings = parse_port_short(&spec).map_err(|e| format!("the port {spec:?} {e}"))?;
        for b in &mut bindings {
            b.protocol = protocol;
        }
        Ok(bindings)
    }

    fn duration(&mut self, v: &Value, p: &KeyPath) -> Option<Duration> {
        match v {
            Value::String(s) => match Duration::parse(s) {
                Ok(d) => Some(d),
                Err(e) => {
                    self.push(Diagnostic::error("SY0571", e).at(p.as_str()));
                    None
                }
            },
            Value::Number(n) => {
                self.push(
                    Diagnostic::error("SY0571", format!("the duration {n} has no unit"))
                        .at(p.as_str())
                        .hint(format!("write it with a unit, e.g. \"{n}s\"")),
                );
                None
            }
            other => {
                self.wrong(p, "a duration such as 30s or 1m30s", other);
                None
            }
        }
    }

    fn healthcheck(&mut self, v: &Value, p: &KeyPath) -> Option<Healthcheck> {
        let m = match v {
            Value::Object(m) => m,
            Value::Null => return None,
            other => {
                self.wrong(p, "a mapping with `test`, `interval`, ...", other);
                return None;
            }
        };
        let mut h = Healthcheck { test: Vec::new(), interval: None, timeout: None, start_period: None, retries: None };
        let mut disable = false;
        for (k, val) in m {
            let kp = p.key(k);
            match k.as_str() {
                "test" => h.test = self.health_test(val, &kp),
                "interval" => h.interval = self.duration(val, &kp),
                "timeout" => h.timeout = self.duration(val, &kp),
                "start_period" => h.start_period = self.duration(val, &kp),
                "retries" => match val.as_u64().map(u32::try_from) {
                    Some(Ok(n)) => h.retries = Some(n),
                    _ => self.push(
                        Diagnostic::error("SY0572", format!("retries must be a whole number, not {val}"))
                            .at(kp.as_str()),
                    ),
                },
                "disable" => match val {
                    Value::Bool(b) => disable = *b,
                    other => self.wrong(&kp, "true or false", other),
                },
                other => self.push(nested_unsupported(
                    &kp,
                    other,
                    &["test", "interval", "timeout", "retries", "start_period", "disable"],
                )),
            }
        }
        if disable {
            if !h.test.is_empty() && h.test != ["NONE"] {
                self.push(
                    Diagnostic::error("SY0570", "the health check is disabled and has a test")
                        .at(p.key("disable").as_str())
                        .hint("remove either `disable: true` or `test`"),
                );
            }
            return Some(Healthcheck {
                test: vec!["NONE".into()],
                interval: None,
                timeout: None,
                start_period: None,
                retries: None,
            });
        }
        Some(h)
    }

    fn health_test(&mut self, v: &Value, p: &KeyPath) -> Vec<String> {
        let test: Vec<String> = match v {
            Value::String(s) if s.trim().is_empty() => {
                self.push(Diagnostic::error("SY0570", "the health check test is empty").at(p.as_str()));
                return Vec::new();
            }
            Value::String(s) => return vec!["CMD-SHELL".into(), s.clone()],
            Value::Array(items) => {
                let words: Vec<Option<String>> = items.iter().map(scalar).collect();
                if words.iter().any(Option::is_none) {
                    self.wrong(p, "a list of strings", v);
                    return Vec::new();
                }
                words.into_iter().flatten().collect()
            }
            other => {
                self.wrong(p, "[\"CMD\", ...], [\"CMD-SHELL\", \"...\"] or a string", other);
                return Vec::new();
            }
        };
        let problem = match test.first().map(String::as_str) {
            None => Some("is an empty list".to_string()),
            Some("CMD") if test.len() < 2 => Some("has `CMD` and no command".to_string()),
            Some("CMD-SHELL") if test.len() != 2 => {
                Some("needs exactly one shell command after `CMD-SHELL`".to_string())
            }
            Some("NONE") if test.len() != 1 => Some("has words after `NONE`".to_string()),
            Some("CMD" | "CMD-SHELL" | "NONE") => None,
            Some(other) => Some(format!("starts with {other:?}, not CMD, CMD-SHELL or NONE")),
        };
        if test.iter().any(|w| w.contains('\0')) {
            self.push(Diagnostic::error("SY0570", "the health check test contains a NUL character").at(p.as_str()));
            return Vec::new();
        }
        match problem {
            Some(why) => {
                self.push(
                    Diagnostic::error("SY0570", format!("the health check test {why}"))
                        .at(p.as_str())
                        .hint("write [\"CMD\", \"program\", \"arg\"] or [\"CMD-SHELL\", \"shell command\"]"),
                );
                Vec::new()
            }
            None => test,
        }
    }

    fn named_volume(&mut self, name: &str, p: &KeyPath) -> String {
        if let Err(e) = check_volume_name(name) {
            let mut d = Diagnostic::error("SY0580", format!("the volume name {name:?} {e}")).at(p.as_str());
            if name.contains('/') {
                d = d.hint(format!("for a directory next to the compose file, write `./{name}`"));
            }
            self.push(d);
        } else if !self.declared_volumes.contains(name) {
            let mut d = Diagnostic::error(
                "SY0581",
                format!("the named volume `{name}` is not declared under the top-level `volumes`"),
            )
            .at(p.as_str())
            .hint(format!("add it: `volumes: {{{name}: {{}}}}` at the top level"));
            if let Some(best) = did_you_mean(name, self.declared_volumes.iter().map(String::as_str)) {
                d = d.hint(format!("did you mean `{best}`?"));
            }
            self.push(d);
        }
        self.used_volumes.insert(name.to_string());
        volume_name(&self.options.stack, name)
    }

    fn bind_source(&mut self, source: &str, p: &KeyPath) -> Option<(String, bool)> {
        if source.is_empty() || source.contains('\0') {
            self.push(
                Diagnostic::error("SY0583", format!("the bind-mount source {source:?} is empty or contains NUL"))
                    .at(p.as_str()),
            );
            return None;
        }
        if source.starts_with('~') {
            self.push(
                Diagnostic::error("SY0583", format!("the bind-mount source {source:?} starts with `~`"))
                    .at(p.as_str())
                    .hint("write the path relative to the compose file (`./data`) or absolute"),
            );
            return None;
        }
        let trimmed = source.trim_end_matches('/');
        if matches!(trimmed, "" | "/var/run/docker.sock" | "/run/docker.sock") {
            self.push(
                Diagnostic::warning("SY0584", format!("mounting {source:?} gives the container control of the host"))
                    .at(p.as_str()),
            );
        }
        Some((source.to_string(), !source.starts_with('/')))
    }

    fn check_target(&mut self, target: &str, p: &KeyPath) -> bool {
        if !target.starts_with('/') || target.contains('\0') {
            self.push(
                Diagnostic::error("SY0580", format!("the mount target {target:?} is not an absolute path"))
                    .at(p.as_str()),
            );
            return false;
        }
        true
    }

    fn mounts(&mut self, v: &Value, p: &KeyPath) -> Vec<Mount> {
        let mut mounts = Vec::new();
        let items = match v {
            Value::Null => return mounts,
            Value::Array(items) => items,
            other => {
                self.wrong(p, "a list of volumes", other);
                return mounts;
            }
        };
        for (i, item) in items.iter().enumerate() {
            let ip = p.index(i);
            let mount = match item {
                Value::String(s) => self.mount_short(s, &ip),
                Value::Object(m) => self.mount_long(m, &ip),
                other => {
                    self.wrong(&ip, "a volume such as `data:/var/lib/data` or a mapping with `type`", other);
                    None
                }
            };
            mounts.extend(mount);
        }
        mounts
    }

    fn mount_short(&mut self, s: &str, p: &KeyPath) -> Option<Mount> {
        let parts: Vec<&str> = s.split(':').collect();
        let (source, target, mode) = match parts.as_slice() {
            [target] => (None, *target, None),
            [source, target] => (Some(*source), *target, None),
            [source, target, mode] => (Some(*source), *target, Some(*mode)),
            _ => {
                self.push(
                    Diagnostic::error("SY0580", format!("the volume {s:?} has too many `:`"))
                        .at(p.as_str())
                        .hint("write it as SOURCE:TARGET[:ro]"),
                );
                return None;
            }
        };
        let mut read_only = false;
        let mut ok = true;
        for opt in mode.into_iter().flat_map(|m| m.split(',')) {
            match opt {
                "ro" => read_only = true,
                "rw" | "cached" | "delegated" | "consistent" | "nocopy" => {}
                other => {
                    self.push(
                        Diagnostic::error("SY0580", format!("the mount option {other:?} is not supported"))
                            .at(p.as_str())
                            .hint("use `ro` or `rw`"),
                    );
                    ok = false;
                }
            }
        }
        ok &= self.check_target(target, p);
        let mount = match source {
            None => Mount { kind: MountKind::Volume, source: None, relative: false, target: target.into(), read_only },
            Some(src) if src.starts_with(['.', '/', '~']) || src.is_empty() || src.contains('\0') => {
                let (source, relative) = self.bind_source(src, p)?;
                Mount { kind: MountKind::Bind, source: Some(source), relative, target: target.into(), read_only }
            }
            Some(name) => {
                let source = self.named_volume(name, p);
                Mount {
                    kind: MountKind::Volume,
                    source: Some(source),
                    relative: false,
                    target: target.into(),
                    read_only,
                }
            }
        };
        ok.then_some(mount)
    }

    fn mount_long(&mut self, m: &serde_json::Map<String, Value>, p: &KeyPath) -> Option<Mount> {
        let mut kind = None;
        let mut source = None;
        let mut target = None;
        let mut read_only = false;
        let mut ok = true;
        for (k, v) in m {
            let kp = p.key(k);
            match (k.as_str(), v) {
                ("type", Value::String(t)) => match t.as_str() {
                    "volume" => kind = Some(MountKind::Volume),
                    "bind" => kind = Some(MountKind::Bind),
                    "tmpfs" => kind = Some(MountKind::Tmpfs),
                    other => {
                        self.push(
                            Diagnostic::error("SY0580", format!("the mount type {other:?} is not supported"))
                                .at(kp.as_str())
                                .hint("use volume, bind or tmpfs"),
                        );
                        ok = false;
                    }
                },
                ("source", Value::String(s)) => source = Some(s.clone()),
                ("target", Value::String(s)) => target = Some(s.clone()),
                ("read_only", Value::Bool(b)) => read_only = *b,
                ("type" | "source" | "target", other) => {
                    self.wrong(&kp, "a string", other);
                    ok = false;
                }
                ("read_only", other) => {
                    self.wrong(&kp, "true or false", other);
                    ok = false;
                }
                (other, _) => {
                    self.push(nested_unsupported(&kp, other, &["type", "source", "target", "read_only"]));
                    ok = false;
                }
            }
        }
        let Some(kind) = kind else {
            if ok {
                self.push(
                    Diagnostic::error("SY0580", "the volume has no `type`")
                        .at(p.as_str())
                        .hint("add `type: volume`, `type: bind` or `type: tmpfs`"),
                );
            }
            return None;
        };
        let Some(target) = target else {
            self.push(Diagnostic::error("SY0580", "the volume has no `target`").at(p.as_str()));
            return None;
        };
        ok &= self.check_target(&target, &p.key("target"));
        let sp = p.key("source");
        let (source, relative) = match (kind, source) {
            (MountKind::Volume, None) => (None, false),
            (MountKind::Volume, Some(name)) => (Some(self.named_volume(&name, &sp)), false),
            (MountKind::Bind, Some(src)) => {
                let (s, rel) = self.bind_source(&src, &sp)?;
                (Some(s), rel)
            }
            (MountKind::Bind, None) => {
                self.push(Diagnostic::error("SY0580", "a bind mount needs a `source`").at(p.as_str()));
                return None;
            }
            (MountKind::Tmpfs, Some(_)) => {
                self.push(Diagnostic::error("SY0580", "a tmpfs mount has no `source`").at(sp.as_str()));
                return None;
            }
            (MountKind::Tmpfs, None) => (None, false),
        };
        ok.then_some(Mount { kind, source, relative, target, read_only })
    }

    fn depends_on(&mut self, v: &Value, p: &KeyPath) -> Vec<Dependency> {
        let mut deps: BTreeMap<String, Condition> = BTreeMap::new();
        match v {
            Value::Null => {}
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    match item {
                        Value::String(s) => {
                            deps.insert(s.clone(), Condition::ServiceStarted);
                        }
                        other => self.wrong(&p.index(i), "a service name", other),
                    }
                }
            }
            Value::Object(map) => {
                for (name, spec) in map {
                    let np = p.key(name);
                    let mut condition = Condition::ServiceStarted;
                    match spec {
                        Value::Null => {}
                        Value::Object(m) => {
                            for (k, val) in m {
                                let kp = np.key(k);
                                match (k.as_str(), val.as_str()) {
                                    ("condition", Some("service_started")) => condition = Condition::ServiceStarted,
                                    ("condition", Some("service_healthy")) => condition = Condition::ServiceHealthy,
                                    ("condition", Some("service_completed_successfully")) => {
                                        condition = Condition::ServiceCompletedSuccessfully
                                    }
                                    ("condition", _) => {
                                        let mut d = Diagnostic::error(
                                            "SY0527",
                                            format!("the condition {val} is not known"),
                                        )
                                        .at(kp.as_str())
                                        .hint("use service_started, service_healthy or service_completed_successfully");
                                        if let Some(best) = val.as_str().and_then(|s| {
                                            did_you_mean(
                                                s,
                                                [
                                                    "service_started",
                                                    "service_healthy",
                                                    "service_completed_successfully",
                                                ],
                                            )
                                        }) {
                                            d = d.hint(format!("did you mean `{best}`?"));
                                        }
                                        self.push(d);
                                    }
                                    (other, _) => self.push(nested_unsupported(&kp, other, &["condition"])),
                                }
                            }
                        }
                        other => self.wrong(&np, "a mapping with `condition`", other),
                    }
                    deps.insert(name.clone(), condition);
                }
            }
            other => self.wrong(p, "a list of service names or a mapping", other),
        }
        deps.into_iter().map(|(service, condition)| Dependency { service, condition }).collect()
    }

    fn restart(&mut self, v: &Value, p: &KeyPath) -> Option<Restart> {
        let Some(s) = v.as_str() else {
            self.wrong(p, "no, always, on-failure[:N] or unless-stopped (quote `no`)", v);
            return None;
        };
        let policy = |policy, max_retries| Some(Restart { policy, max_retries });
        match s {
            "no" => policy(RestartPolicy::No, None),
            "always" => policy(RestartPolicy::Always, None),
            "unless-stopped" => policy(RestartPolicy::UnlessStopped, None),
            "on-failure" => policy(RestartPolicy::OnFailure, None),
            _ => match s.strip_prefix("on-failure:").map(str::parse::<u32>) {
                Some(Ok(n)) => policy(RestartPolicy::OnFailure, Some(n)),
                _ => {
                    let mut d = Diagnostic::error("SY0590", format!("the restart policy {s:?} is not known"))
                        .at(p.as_str())
                        .hint("use no, always, on-failure, on-failure:N or unless-stopped");
                    if let Some(best) = did_you_mean(s, ["no", "always", "on-failure", "unless-stopped"]) {
                        d = d.hint(format!("did you mean `{best}`?"));
                    }
                    self.push(d);
                    None
                }
            },
        }
    }

    fn user(&mut self, v: &Value, p: &KeyPath) -> Option<String> {
        match scalar(v) {
            Some(u) if u.is_empty() || u.chars().any(|c| c.is_whitespace() || c.is_control()) => {
                self.push(
                    Diagnostic::error("SY0591", format!("the user {u:?} is empty or contains spaces"))
                        .at(p.as_str())
                        .hint("write a user name or id, optionally with a group: `1000:1000`"),
                );
                None
            }
            Some(u) => Some(u),
            None => {
                self.wrong(p, "a user name or id", v);
                None
            }
        }
    }

    fn working_dir(&mut self, v: &Value, p: &KeyPath) -> Option<String> {
        match v.as_str() {
            Some(d) if d.starts_with('/') && !d.contains('\0') => Some(d.to_string()),
            Some(d) => {
                self.push(
                    Diagnostic::error("SY0591", format!("the working directory {d:?} is not an absolute path"))
                        .at(p.as_str()),
                );
                None
            }
            None => {
                self.wrong(p, "an absolute path", v);
                None
            }
        }
    }

    fn check_dependencies(&mut self, services: &BTreeMap<String, Service>, sp: &KeyPath) {
        for (name, s) in services {
            for dep in &s.depends_on {
                let dp = sp.key(name).key("depends_on");
                match services.get(&dep.service) {
                    None => {
                        let mut d = Diagnostic::error(
                            "SY0524",
                            format!("`{name}` depends on `{}`, which is not a service in this file", dep.service),
                        )
                        .at(dp.as_str());
                        if let Some(best) = did_you_mean(&dep.service, services.keys().map(String::as_str)) {
                            d = d.hint(format!("did you mean `{best}`?"));
                        }
                        self.push(d);
                    }
                    Some(target)
                        if dep.condition == Condition::ServiceHealthy
                            && target.healthcheck.as_ref().is_none_or(|h| h.test.is_empty() || h.is_disabled()) =>
                    {
                        self.push(
                            Diagnostic::warning(
                                "SY0526",
                                format!(
                                    "`{name}` waits for `{}` to be healthy, but the compose file gives `{}` \
                                     no health check",
                                    dep.service, dep.service
                                ),
                            )
                            .at(dp.as_str())
                            .hint(
                                "unless its image defines a HEALTHCHECK, the wait fails; add a `healthcheck` \
                             with a `test`",
                            ),
                        );
                    }
                    Some(_) => {}
                }
            }
        }
        for cycle in cycles(services) {
            let first = cycle[0].clone();
            let mut shown = cycle.clone();
            shown.push(first.clone());
            self.push(
                Diagnostic::error(
                    "SY0525",
                    format!("services depend on each other in a cycle: {}", shown.join(" -> ")),
                )
                .at(sp.key(&first).key("depends_on").as_str())
                .hint("remove one of these dependencies; services start only after the services they depend on"),
            );
        }
    }
}

fn known_deps<'a>(services: &'a BTreeMap<String, Service>, s: &'a Service) -> impl Iterator<Item = &'a str> {
    s.depends_on.iter().map(|d| d.service.as_str()).filter(|d| services.contains_key(*d))
}

/// Every dependency cycle, each once, starting at its smallest name... as found from the smallest start.
fn cycles(services: &BTreeMap<String, Service>) -> Vec<Vec<String>> {
    let leftover = blocked(services);
    let mut visited: BTreeSet<&str> = BTreeSet::new();
    let mut found = Vec::new();
    for start in &leftover {
        let mut path: Vec<&str> = Vec::new();
        let mut node: &str = start;
        loop {
            if let Some(pos) = path.iter().position(|n| *n == node) {
                found.push(path[pos..].iter().map(|s| s.to_string()).collect());
                break;
            }
            if !visited.insert(node) {
                break;
            }
            path.push(node);
            let Some(s) = services.get(node) else { break };
            match known_deps(services, s).find(|d| leftover.contains(*d)) {
                Some(next) => node = next,
                None => break,
            }
        }
    }
    found
}

/// Services that cannot start because of a cycle (in one or downstream of one).
fn blocked(services: &BTreeMap<String, Service>) -> BTreeSet<&str> {
    let order = start_order(services);
    let placed: BTreeSet<&str> = order.iter().map(String::as_str).collect();
    services.keys().map(String::as_str).filter(|s| !placed.contains(s)).collect()
}

/// Kahn's algorithm: a service comes after its (known) dependencies; among those ready, the smallest name first.
/// Services in or behind a cycle are left out.
fn start_order(services: &BTreeMap<String, Service>) -> Vec<String> {
    let mut waiting: BTreeMap<&str, usize> = BTreeMap::new();
    let mut dependents: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (name, s) in services {
        let deps: BTreeSet<&str> = known_deps(services, s).collect();
        waiting.insert(name, deps.len());
        for d in deps {
            dependents.entry(d).or_default().push(name);
        }
    }
    let mut ready: BTreeSet<&str> = waiting.iter().filter(|(_, n)| **n == 0).map(|(s, _)| *s).collect();
    let mut order = Vec::with_capacity(services.len());
    while let Some(next) = ready.pop_first() {
        order.push(next.to_string());
        for d in dependents.get(next).map(Vec::as_slice).unwrap_or_default() {
            if let Some(n) = waiting.get_mut(d) {
                *n -= 1;
                if *n == 0 {
                    ready.insert(d);
                }
            }
        }
    }
    order
}

const NETWORK_HINT: &str = "switchyard gives each stack its own network, which only Traefik joins: apps never \
    join a shared network (or the host's), so versions cannot reach each other; remove it (services of one stack \
    reach each other by service name)";
const CONFIGS_HINT: &str = "mount files with `volumes` (a bind mount of a file next to the compose file) or pass \
    values with `environment`/`env_file`";
const PORT_HINT: &str = "routed services are reached through Traefik and need no published port; publish only \
    the container port (\"80\") to let Docker pick a free host port";
const BUILD_HINT: &str =
    "switchyard deploys images and builds none: build and push the image, then name it under `image`";

fn top_level_hint(key: &str) -> String {
    match key {
        "networks" => NETWORK_HINT.into(),
        "configs" | "secrets" => CONFIGS_HINT.into(),
        "include" => "put every service of the stack in this one file".into(),
        other => match did_you_mean(other, TOP_LEVEL_KEYS.iter().copied()) {
            Some(best) => format!("did you mean `{best}`?"),
            None => {
                format!(
                    "the top-level keys switchyard supports are: {} (and `x-*` extensions)",
                    TOP_LEVEL_KEYS.join(", ")
                )
            }
        },
    }
}

fn service_key_hint(key: &str, stack: &str, service: &str) -> String {
    match key {
        "networks" | "network_mode" => NETWORK_HINT.into(),
        "container_name" => format!(
            "switchyard names containers `{{stack}}-{{service}}-1` (here `{}`) so versions never collide; remove it",
            naming::container(stack, service)
        ),
        "build" => BUILD_HINT.into(),
        "deploy" => "`deploy` is for Swarm; switchyard runs one container per service".into(),
        "extends" => {
            "copy the keys of the extended service into this one (YAML anchors and `<<` merge keys work)".into()
        }
        "links" | "external_links" => {
            "services of one stack reach each other by service name on the stack's network".into()
        }
        "expose" => "routed ports are declared in switchyard.yaml under `routes`; services of a stack reach each \
                     other's ports without `expose`"
            .into(),
        "profiles" => "every service in the file is deployed; remove `profiles`".into(),
        "privileged" | "cap_add" | "security_opt" | "devices" | "pid" | "ipc" | "userns_mode" | "cgroup_parent" => {
            "switchyard does not grant containers host privileges".into()
        }
        "secrets" | "configs" => CONFIGS_HINT.into(),
        other => match did_you_mean(other, SERVICE_KEYS.iter().copied()) {
            Some(best) => format!("did you mean `{best}`?"),
            None => format!("the service keys switchyard supports are: {}", SERVICE_KEYS.join(", ")),
        },
    }
}

fn nested_unsupported(p: &KeyPath, key: &str, allowed: &[&str]) -> Diagnostic {
    let hint = match did_you_mean(key, allowed.iter().copied()) {
        Some(best) => format!("did you mean `{best}`?"),
        None => format!("the keys supported here are: {}", allowed.join(", ")),
    };
    Diagnostic::error("SY0503", format!("the key `{key}` is not supported here")).at(p.as_str()).hint(hint)
}

fn check_stack(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("is empty".into());
    }
    if let Some(c) = s.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '_')) {
        return Err(format!("contains {c:?}"));
    }
    if !s.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err("must start with a letter or digit".into());
    }
    Ok(())
}

/// Docker's rule for volume names: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`.
fn check_volume_name(s: &str) -> Result<(), String> {
    if !s.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err("must start with a letter or digit".into());
    }
    if s.len() > 128 {
        return Err(format!("is {} characters long; at most 128", s.len()));
    }
    if let Some(c) = s.chars().find(|c| !(c.is_ascii_alphanumeric() || "_.-".contains(*c))) {
        return Err(format!("contains {c:?}; use only letters, digits, '_', '.' and '-'"));
    }
    Ok(())
}

/// The Docker volume of the named volume `name` in `stack`: `whoami-dev-v1-2-0_data`.
pub fn volume_name(stack: &str, name: &str) -> String {
    format!("{stack}_{name}")
}

fn check_env_name(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("is empty".into());
    }
    if let Some(c) = s.chars().find(|c| *c == '=' || c.is_whitespace() || c.is_control()) {
        return Err(format!("contains {c:?}"));
    }
    Ok(())
}

fn parse_protocol(s: &str) -> Result<Protocol, String> {
    match s.to_ascii_lowercase().as_str() {
        "tcp" => Ok(Protocol::Tcp),
        "udp" => Ok(Protocol::Udp),
        "sctp" => Ok(Protocol::Sctp),
        _ => Err(format!("has the protocol {s:?}; use tcp, udp or sctp")),
    }
}

/// The most ports one entry may publish (a range).
const MAX_PORT_RANGE: usize = 1024;

fn parse_port_range(s: &str, what: &str) -> Result<(u16, u16), String> {
    let port = |p: &str| -> Result<u16, String> {
        match p.parse::<u16>() {
            Ok(n) if n > 0 && !p.starts_with('+') => Ok(n),
            _ => Err(format!("has the {what} port {p:?}, which is not a number from 1 to 65535")),
        }
    };
    match s.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (port(a)?, port(b)?);
            if a > b {
                return Err(format!("has the {what} port range {s:?} that runs backwards"));
            }
            if usize::from(b - a) >= MAX_PORT_RANGE {
                return Err(format!("has the {what} port range {s:?} of more than {MAX_PORT_RANGE} ports"));
            }
            Ok((a, b))
        }
        None => port(s).map(|p| (p, p)),
    }
}

/// The short port syntax: `[[IP:][HOST]:]CONTAINER[/PROTOCOL]`, ports or ranges, IPv6 in brackets.
pub fn parse_port_short(s: &str) -> Result<Vec<PortBinding>, String> {
    if s.contains(|c: char| c.is_whitespace() || c.is_control()) {
        return Err("contains spaces or control characters".into());
    }
    let (spec, protocol) = match s.rsplit_once('/') {
        Some((spec, proto)) => (spec, parse_protocol(proto)?),
        None => (s, Protocol::Tcp),
    };
    let (host_ip, rest) = if let Some(inner) = spec.strip_prefix('[') {
        let (ip, rest) = inner.split_once("]:").ok_or("has an IPv6 address without `]:` after it")?;
        (Some(ip), rest)
    } else {
        (None, spec)
    };
    let parts: Vec<&str> = rest.split(':').collect();
    let (host_ip, host, container) = match (host_ip, parts.as_slice()) {
        (None, [c]) => (None, None, *c),
        (None, [h, c]) => (None, Some(*h), *c),
        (None, [ip, h, c]) => (Some(*ip), Some(*h), *c),
        (Some(ip), [h, c]) => (Some(ip), Some(*h), *c),
        _ => return Err("has too many `:` (write IPv6 addresses in brackets: \"[::1]:8080:80\")".into()),
    };
    let host_ip = match host_ip {
        None => None,
        Some(ip) => match ip.parse::<std::net::IpAddr>() {
            Ok(addr) => Some(addr.to_string()),
            Err(_) => return Err(format!("has the host address {ip:?}, which is not an IP address")),
        },
    };
    let (c0, c1) = parse_port_range(container, "container")?;
    let host = match host {
        None | Some("") => None,
        Some(h) => Some(parse_port_range(h, "host")?),
    };
    let mut bindings = Vec::new();
    match host {
        None => {
            for c in c0..=c1 {
                bindings.push(PortBinding { container_port: c, protocol, host_ip: host_ip.clone(), host_port: None });
            }
        }
        Some((h0, h1)) if h1 - h0 == c1 - c0 => {
            for (c, h) in (c0..=c1).zip(h0..=h1) {
                bindings.push(PortBinding {
                    container_port: c,
                    protocol,
                    host_ip: host_ip.clone(),
                    host_port: Some(h),
                });
            }
        }
        Some(_) => return Err("has host and container port ranges of different lengths".into()),
    }
    Ok(bindings)
}

/// Splits a command string into words with shell quoting rules (quotes and backslashes), and nothing else a
/// shell does.
pub fn split_words(s: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err("has a single quote that is not closed".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => word.push(c),
                            Some('\n') => {}
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err("has a double quote that is not closed".into()),
                        },
                        Some(c) => word.push(c),
                        None => return Err("has a double quote that is not closed".into()),
                    }
                }
            }
            '\\' => match chars.next() {
                Some('\n') => {}
                Some(c) => {
                    in_word = true;
                    word.push(c);
                }
                None => return Err("ends with a backslash".into()),
            },
            '\0' => return Err("contains a NUL character".into()),
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

fn looks_like_shell(word: &str) -> bool {
    matches!(word, "|" | "||" | "&&" | ";" | ">" | ">>" | "<" | "&" | "2>&1")
        || word.starts_with("$(")
        || word.contains('`')
}

/// Why interpolation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InterpolationError {
    #[error("the variable `{name}` is not set and has no default")]
    Unset { name: String },
    #[error("`{name}` is required: {message}")]
    Required { name: String, message: String },
    #[error("{0}")]
    Syntax(String),
}

/// How deep `${A:-${B:-...}}` may nest.
const MAX_NESTING: usize = 16;

/// Interpolates `text` the way compose does, with `variables` only.
pub fn interpolate(text: &str, variables: &BTreeMap<String, String>) -> Result<String, Vec<InterpolationError>> {
    let mut out = String::with_capacity(text.len());
    let mut errors = Vec::new();
    interpolate_into(text, variables, 0, &mut out, &mut errors);
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

fn is_name_start(c: char) -> bool {
    c == '_' || c.is_ascii_alphabetic()
}
fn is_name_char(c: char) -> bool {
    c == '_' || c.is_ascii_alphanumeric()
}

/// The byte index of the `}` closing a `${` whose body starts at `from`.
fn closing_brace(s: &str, from: usize) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut depth = 0usize;
    let mut i = from;
    while i < bytes.len() {
        match bytes[i] {
            b'$' if bytes.get(i + 1) == Some(&b'$') => i += 1,
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 1;
            }
            b'}' if depth == 0 => return Some(i),
            b'}' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    None
}

fn interpolate_into(
    s: &str,
    vars: &BTreeMap<String, String>,
    depth: usize,
    out: &mut String,
    errors: &mut Vec<InterpolationError>,
) {
    if depth > MAX_NESTING {
        errors.push(InterpolationError::Syntax(format!("variables nest more than {MAX_NESTING} deep")));
        return;
    }
    let mut i = 0;
    while let Some(pos) = s[i..].find('$') {
        let at = i + pos;
        out.push_str(&s[i..at]);
        let rest = &s[at + 1..];
        match rest.chars().next() {
            Some('$') => {
                out.push('$');
                i = at + 2;
            }
            Some('{') => {
                let body_start = at + 2;
                let Some(end) = closing_brace(s, body_start) else {
                    errors.push(InterpolationError::Syntax(format!(
                        "`${{` at {:?} is not closed with `}}`",
                        truncate(&s[at..], 24)
                    )));
                    return;
                };
                braced(&s[body_start..end], vars, depth, out, errors);
                i = end + 1;
            }
            Some(c) if is_name_start(c) => {
                let len = rest.find(|c: char| !is_name_char(c)).unwrap_or(rest.len());
                let name = &rest[..len];
                match vars.get(name) {
                    Some(v) => out.push_str(v),
                    None => errors.push(InterpolationError::Unset { name: name.to_string() }),
                }
                i = at + 1 + len;
            }
            _ => {
                errors.push(InterpolationError::Syntax(format!(
                    "`$` in {:?} is not followed by a variable name or `{{`; write `$$` for a literal `$`",
                    truncate(s, 40)
                )));
                out.push('$');
                i = at + 1;
            }
        }
    }
    out.push_str(&s[i..]);
}

fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_string(),
    }
}

fn braced(
    body: &str,
    vars: &BTreeMap<String, String>,
    depth: usize,
    out: &mut String,
    errors: &mut Vec<InterpolationError>,
) {
    let len = body.find(|c: char| !is_name_char(c)).unwrap_or(body.len());
    let (name, op) = body.split_at(len);
    if !name.starts_with(is_name_start) {
        errors.push(InterpolationError::Syntax(format!(
            "`${{{}}}` does not start with a variable name (letters, digits and `_`, not starting with a digit)",
            truncate(body, 40)
        )));
        return;
    }
    let value = vars.get(name);
    let nested = |text: &str, out: &mut String, errors: &mut Vec<InterpolationError>| {
        interpolate_into(text, vars, depth + 1, out, errors)
    };
    let set_non_empty = value.is_some_and(|v| !v.is_empty());
    if op.is_empty() {
        match value {
            Some(v) => out.push_str(v),
            None => errors.push(InterpolationError::Unset { name: name.to_string() }),
        }
    } else if let Some(default) = op.strip_prefix(":-") {
        match value {
            Some(v) if set_non_empty => out.push_str(v),
            _ => nested(default, out, errors),
        }
    } else if let Some(default) = op.strip_prefix('-') {
        match value {
            Some(v) => out.push_str(v),
            None => nested(default, out, errors),
        }
    } else if let Some(message) = op.strip_prefix(":?") {
        match value {
            Some(v) if set_non_empty => out.push_str(v),
            _ => {
                let mut m = String::new();
                nested(message, &mut m, errors);
                errors.push(InterpolationError::Required { name: name.to_string(), message: m });
            }
        }
    } else if let Some(message) = op.strip_prefix('?') {
        match value {
            Some(v) => out.push_str(v),
            None => {
                let mut m = String::new();
                nested(message, &mut m, errors);
                errors.push(InterpolationError::Required { name: name.to_string(), message: m });
            }
        }
    } else if let Some(replacement) = op.strip_prefix(":+") {
        if set_non_empty {
            nested(replacement, out, errors);
        }
    } else if let Some(replacement) = op.strip_prefix('+') {
        if value.is_some() {
            nested(replacement, out, errors);
        }
    } else {
        errors.push(InterpolationError::Syntax(format!(
            "`${{{}}}` is not valid; write ${{NAME}}, ${{NAME:-default}}, ${{NAME-default}}, ${{NAME:?error}} \
             or ${{NAME?error}}",
            truncate(body, 40)
        )));
    }
}

fn interpolation_diagnostic(e: &InterpolationError, vars: &BTreeMap<String, String>) -> Diagnostic {
    let available = || {
        if vars.is_empty() {
            "no variables are set".to_string()
        } else {
            format!("the variables are: {}", vars.keys().map(String::as_str).collect::<Vec<_>>().join(", "))
        }
    };
    match e {
        InterpolationError::Unset { name } => {
            let mut d = Diagnostic::error("SY0510", e.to_string());
            if let Some(best) = did_you_mean(name, vars.keys().map(String::as_str)) {
                d = d.hint(format!("did you mean `{best}`?"));
            }
            d.hint(available()).hint(format!(
                "switchyard never reads its own environment; give a default with `${{{name}:-default}}`, or write \
                 `$$` for a literal `$`"
            ))
        }
        InterpolationError::Required { .. } => Diagnostic::error("SY0511", e.to_string()).hint(available()),
        InterpolationError::Syntax(_) => Diagnostic::error("SY0512", e.to_string()),
    }
}

/// Parses an env file (`NAME=value` lines, `#` comments, blank lines, an optional `export `, values in single
/// quotes taken literally, in double quotes with `\n`, `\t`, `\"`, `\\` escapes; both quotes may span lines).
/// Unquoted and double-quoted values are interpolated with the names defined earlier in the file, then
/// `variables`. Problems go to `out`, located in `file`.
pub fn parse_env_file(
    contents: &str,
    file: &str,
    variables: &BTreeMap<String, String>,
    out: &mut Vec<Diagnostic>,
) -> Vec<(String, String)> {
    let lines: Vec<&str> = contents.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).collect();
    let mut scope = variables.clone();
    let mut entries = Vec::new();
    let at = |line: usize, column: usize| Location { file: file.to_string(), line: line + 1, column: column + 1 };
    let mut n = 0;
    while n < lines.len() {
        let start = n;
        let line = lines[n];
        n += 1;
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let body = trimmed.strip_prefix("export ").map(str::trim_start).unwrap_or(trimmed);
        let key_col = indent + (trimmed.len() - body.len());
        let (key, value) = match body.split_once('=') {
            Some((k, v)) => (k.trim_end(), Some(v.trim_start())),
            None => (body.trim_end(), None),
        };
        if let Err(e) = check_env_name(key) {
            let mut d = Diagnostic::error("SY0543", format!("the variable name {key:?} {e}"))
                .hint("write lines as NAME=value; comments start with #");
            d.location = Some(at(start, key_col));
            out.push(d);
            continue;
        }
        let Some(raw) = value else {
            match scope.get(key) {
                Some(v) => entries.push((key.to_string(), v.clone())),
                None => {
                    let mut d = Diagnostic::warning(
                        "SY0541",
                        format!("`{key}` has no value and no switchyard variable of that name exists; it is left out"),
                    );
                    d.location = Some(at(start, key_col));
                    out.push(d);
                }
            }
            continue;
        };
        let value_col = line.len() - raw.len();
        let parsed = if let Some(rest) = raw.strip_prefix('\'') {
            // Single quotes: literal, to the next single quote, maybe on a later line.
            let mut acc = rest.to_string();
            loop {
                if let Some(end) = acc.find('\'') {
                    let tail = acc[end + 1..].trim();
                    if !tail.is_empty() && !tail.starts_with('#') {
                        push_env_error(out, at(start, value_col), "has text after the closing quote");
                    }
                    acc.truncate(end);
                    break Some((acc, false));
                }
                if n >= lines.len() {
                    push_env_error(out, at(start, value_col), "has a single quote that is not closed");
                    break None;
                }
                acc.push('\n');
                acc.push_str(lines[n]);
                n += 1;
            }
        } else if let Some(rest) = raw.strip_prefix('"') {
            let mut acc = rest.to_string();
            loop {
                match unescape_double(&acc) {
                    Some((value, tail)) => {
                        let tail = tail.trim();
                        if !tail.is_empty() && !tail.starts_with('#') {
                            push_env_error(out, at(start, value_col), "has text after the closing quote");
                        }
                        break Some((value, true));
                    }
                    None if n >= lines.len() => {
                        push_env_error(out, at(start, value_col), "has a double quote that is not closed");
                        break None;
                    }
                    None => {
                        acc.push('\n');
                        acc.push_str(lines[n]);
                        n += 1;
                    }
                }
            }
        } else {
            // Unquoted: an inline comment starts at ` #`.
            let cut = raw.find(" #").or_else(|| raw.find("\t#")).unwrap_or(raw.len());
            Some((raw[..cut].trim_end().to_string(), true))
        };
        let Some((text, interpolate_it)) = parsed else { continue };
        let value = if interpolate_it {
            match interpolate(&text, &scope) {
                Ok(v) => v,
                Err(errors) => {
                    for e in errors {
                        let mut d = interpolation_diagnostic(&e, &scope);
                        d.location = Some(at(start, value_col));
                        out.push(d);
                    }
                    continue;
                }
            }
        } else {
            text
        };
        if value.contains('\0') {
            push_env_error(out, at(start, value_col), "contains a NUL character");
            continue;
        }
        scope.insert(key.to_string(), value.clone());
        entries.push((key.to_string(), value));
    }
    entries
}

fn push_env_error(out: &mut Vec<Diagnostic>, location: Location, why: &str) {
    let mut d = Diagnostic::error("SY0543", format!("the value {why}"));
    d.location = Some(location);
    out.push(d);
}

/// The inside of a double-quoted value up to its closing quote, unescaped (`\$` kept as `$$` so interpolation
/// leaves it a literal `$`), and what follows the quote; `None` when the quote is not closed.
fn unescape_double(s: &str) -> Option<(String, &str)> {
    let mut value = String::with_capacity(s.len());
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((value, &s[i + 1..])),
            '\\' => match chars.next() {
                Some((_, 'n')) => value.push('\n'),
                Some((_, 't')) => value.push('\t'),
                Some((_, 'r')) => value.push('\r'),
                Some((_, '$')) => value.push_str("$$"),
                Some((_, c)) => value.push(c),
                None => return None,
            },
            c => value.push(c),
        }
    }
    None
}
