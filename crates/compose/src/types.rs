//! What a compose file becomes: the project, its services, ports, mounts, health checks, dependencies, and the
//! result of step 1 (everything but the env files' contents).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;

use switchyard_diagnostics::{Diagnostic, Location, has_errors};
use switchyard_model::time::Duration;

use crate::env_file::*;
use crate::sort_diagnostics;

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
pub(crate) struct EnvFileEntry {
    pub(crate) file: EnvFileRef,
    pub(crate) key_path: String,
    pub(crate) location: Option<Location>,
}

#[derive(Debug, Clone)]
pub(crate) struct PendingEnv {
    pub(crate) files: Vec<EnvFileEntry>,
    pub(crate) environment: BTreeMap<String, String>,
}

/// A compose file after step 1: everything but the env files' contents.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub(crate) project: ComposeProject,
    pub(crate) pending: BTreeMap<String, PendingEnv>,
    pub(crate) env_files: Vec<EnvFileRef>,
    pub(crate) variables: BTreeMap<String, String>,
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
