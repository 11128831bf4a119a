//! switchyard: blue/green and preview deployments of Docker Compose apps behind Traefik.
//!
//! This binary is the I/O edge: it reads files and the clock, takes locks, and executes the plans that
//! `switchyard-model` computes. Every decision about routing, slots, weights and retention is the model's.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod backend;
mod docker;
mod fsio;
mod gate;
mod inspect;
mod local;
mod policy;
#[cfg(test)]
mod policy_tests;
mod report;
mod store;
mod traefik_api;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result, anyhow};
use clap::{Args, Parser, Subcommand, ValueEnum};
use switchyard_model::directory::{self, Shipment};
use switchyard_model::plan::Step;
use switchyard_model::policy::Source;
use switchyard_model::render::{render_env, to_json, to_yaml};
use switchyard_model::served::{RawData, Served, compare};
use switchyard_model::state::HealthStatus;
use switchyard_model::traefik::DynamicConfig;
use switchyard_model::traefik_files::{self, UserFile};
use switchyard_model::view::{status, unified_diff};
use switchyard_model::{
    Context, Diagnostic, EXAMPLE_FILES, EXAMPLE_SPEC, EnvKey, Outcome, Request, Severity, Spec, Timestamp, ValidSpec,
    World,
};

use crate::backend::{Backend, TraefikView, run_plan};
use crate::gate::Gate;
use crate::local::LocalBackend;
use crate::store::{LockHolder, Store};
use switchyard_model::EnvState;

#[derive(Debug, Parser)]
#[command(name = "switchyard", version, about, long_about = None, propagate_version = true)]
/// Blue/green and preview deployments of Docker Compose apps behind Traefik.
///
/// Without Docker, switchyard works on a local directory: state files and a Traefik file-provider directory.
struct Cli {
    /// The spec file.
    #[arg(long, global = true, env = "SWITCHYARD_SPEC", default_value = "switchyard.yaml")]
    spec: PathBuf,
    /// Where state lives (state/) and, unless --dynamic-dir is given, Traefik's configuration (dynamic/).
    #[arg(long, global = true, env = "SWITCHYARD_DIR", default_value = ".switchyard")]
    dir: PathBuf,
    /// Traefik's file-provider directory (the `providers.file.directory` of its static configuration).
    #[arg(long, global = true, env = "SWITCHYARD_DYNAMIC_DIR")]
    dynamic_dir: Option<PathBuf>,
    /// The time to record, as 2026-11-27T06:55:53Z or Unix seconds (default: now).
    #[arg(long, global = true, value_name = "TIME")]
    now: Option<String>,
    /// Who makes the change, for the history (default: $USER).
    #[arg(long, global = true, env = "SWITCHYARD_ACTOR")]
    actor: Option<String>,
    /// Work on a Docker host (state, locks and Traefik's files live there) instead of a local directory.
    #[arg(long, global = true, env = "SWITCHYARD_DOCKER")]
    docker: bool,
    /// The Docker CLI context to use (implies --docker); default: DOCKER_HOST, DOCKER_CONTEXT, the current context.
    #[arg(long, global = true, value_name = "NAME")]
    context: Option<String>,
    /// The proxy (Traefik) container on the Docker host.
    #[arg(long, global = true, default_value = "switchyard-traefik", value_name = "NAME")]
    proxy: String,
    /// How long to wait for a version to become healthy before traffic moves (e.g. 90s, 5m).
    #[arg(long, global = true, default_value = "2m", value_parser = parse_duration)]
    health_timeout: std::time::Duration,
    /// A lock older than this is stale and is taken over.
    #[arg(long, global = true, default_value = "15m", value_parser = parse_duration)]
    lock_ttl: std::time::Duration,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Args)]
struct Target {
    /// The app (may be left out when the spec has one).
    #[arg(short, long)]
    app: Option<String>,
    /// The environment (may be left out when the app has one).
    #[arg(short, long)]
    env: Option<String>,
}

#[derive(Debug, Clone, Args)]
struct ChangeOpts {
    #[command(flatten)]
    target: Target,
    /// Show the plan and the configuration diff; change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Remove a lock left by a change that died, then go on.
    #[arg(long)]
    break_lock: bool,
    /// Set by `repair`: rewrite Traefik's file from the recorded state even when nothing changes.
    #[arg(skip)]
    repair: bool,
    #[command(flatten)]
    policy: PolicyOpts,
}

/// Policy modules (docs/policy-abi.md) and their limits.
#[derive(Debug, Clone, Default, Args)]
struct PolicyOpts {
    /// A policy module (WebAssembly, ABI v1) to run on the change before anything is applied: an error finding
    /// refuses the change. `PATH@sha256:HEX` refuses a module with another hash. Repeatable.
    #[arg(long = "policy", value_name = "PATH[@sha256:HEX]")]
    policies: Vec<policy::PolicyRef>,
    /// Fuel for one policy evaluation (about one unit per WebAssembly instruction).
    #[arg(long, value_name = "UNITS", default_value_t = policy::Limits::default().fuel)]
    policy_fuel: u64,
    /// Wall-clock time for one policy evaluation.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    policy_timeout: std::time::Duration,
    /// Linear memory a policy may use, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = policy::Limits::default().memory >> 20)]
    policy_memory: usize,
    /// Size of a policy's answer, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = policy::Limits::default().output >> 20)]
    policy_output: usize,
}

impl PolicyOpts {
    fn limits(&self) -> policy::Limits {
        policy::Limits {
            fuel: self.policy_fuel,
            timeout: self.policy_timeout,
            memory: self.policy_memory.saturating_mul(1 << 20),
            output: self.policy_output.saturating_mul(1 << 20),
        }
    }
    fn gate(&self) -> Result<Option<Gate>, Failure> {
        Gate::open(&self.policies, self.limits()).map_err(Failure::Broken)
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Observed {
    Healthy,
    Unhealthy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ReportFormat {
    Human,
    Json,
    Sarif,
    Github,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Yaml,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Make sure the Traefik container runs on the Docker host as the spec needs it: the file provider on
    /// switchyard's directory (made before Traefik starts), the entry points and certificate resolvers the spec
    /// names, the API, ping and metrics inside the container only. Running it again leaves a proxy that is as
    /// described alone, and replaces one that is not (keeping its volume and stack networks).
    Install {
        /// The Traefik image.
        #[arg(long, default_value = switchyard_model::proxy::DEFAULT_IMAGE)]
        image: String,
        /// An entry point and its address, e.g. `websecure=:8443` (default: the spec's entry points, with web on
        /// :80 and websecure on :443).
        #[arg(long = "entry-point", value_name = "NAME=ADDRESS")]
        entry_points: Vec<String>,
        /// Do not publish the entry points' ports on the host.
        #[arg(long)]
        no_publish: bool,
        /// Keep switchyard's files (Traefik's directory, state, locks, audit) in this directory of the Docker
        /// host, bind-mounted into the proxy, instead of in the `<proxy>-data` volume. Running the CLI on that
        /// host, routing changes then write it directly.
        #[arg(long, value_name = "HOST_PATH")]
        data_dir: Option<PathBuf>,
    },
    /// Create an environment: its state and its (empty) Traefik file.
    Create(ChangeOpts),
    /// Put things back in line after a change was cut short (CLI killed, host lost): takes over the lock of a
    /// process that is gone (or with --break-lock any lock), finishes a change interrupted after its commit
    /// point, and rewrites Traefik's file from the recorded state, removing a route staged for a promotion
    /// that never finished.
    Repair(ChangeOpts),
    /// Deploy a version as a preview on its own stack and preview hosts.
    Deploy {
        #[arg(value_name = "VERSION")]
        name: String,
        #[command(flatten)]
        opts: ChangeOpts,
    },
    /// Record a health observation of a version (the local executor runs no probes itself).
    Observe {
        #[arg(value_name = "VERSION")]
        name: String,
        #[arg(value_enum)]
        status: Observed,
        #[command(flatten)]
        opts: ChangeOpts,
    },
    /// Put a version into the idle slot with a share of production traffic, once it is healthy.
    Promote {
        #[arg(value_name = "VERSION")]
        name: String,
        /// Percent of production traffic, 1 to 100 (100 switches completely).
        #[arg(long, default_value = "100", value_parser = parse_share)]
        share: u8,
        #[command(flatten)]
        opts: ChangeOpts,
    },
    /// Change the candidate's share during a promotion.
    Shift {
        #[arg(long, value_parser = parse_share)]
        share: u8,
        #[command(flatten)]
        opts: ChangeOpts,
    },
    /// Finish a promotion: the candidate takes all traffic.
    Complete(ChangeOpts),
    /// Send all traffic back to the previous slot at once; nothing is redeployed.
    Rollback(ChangeOpts),
    /// Remove a version no slot holds.
    Retire {
        #[arg(value_name = "VERSION")]
        name: String,
        #[command(flatten)]
        opts: ChangeOpts,
    },
    /// Remove versions by the environment's retention policy (never one a slot holds).
    Cleanup(ChangeOpts),
    /// Show slots, traffic, versions and URLs, and what Traefik really serves (from its API): routers and services
    /// it disabled or warns about, with its error text, what it lacks or has beyond the state, and the servers'
    /// health as its checks see it.
    Status {
        #[command(flatten)]
        target: Target,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Exit 0 when Traefik serves what the state says; 1 when they disagree (a router or service disabled,
        /// warned about, missing, stale or different; Traefik's file not as the state says; a server DOWN for a
        /// version with production traffic; the file provider not started); 2 when it cannot tell (Traefik's API
        /// cannot be asked, or no --traefik-api on the local backend).
        #[arg(long)]
        check: bool,
        /// Local backend: where your Traefik answers its API (`--api.insecure`), e.g. http://127.0.0.1:8080;
        /// else $SWITCHYARD_TRAEFIK_API. On a Docker host switchyard asks the proxy's API itself (and ignores
        /// that variable).
        #[arg(long, value_name = "URL")]
        traefik_api: Option<String>,
    },
    /// Print the Traefik dynamic configuration for the spec and the recorded state.
    Render {
        #[command(flatten)]
        target: Target,
        #[arg(long, value_enum, default_value = "yaml")]
        format: Format,
    },
    /// Check Traefik dynamic configuration (files, or directories read as Traefik's file provider reads them)
    /// and switchyard specs, and report every problem; without PATHS, the spec (--spec).
    Validate {
        /// Files or directories: Traefik configuration (.yml, .yaml, .toml) or switchyard specs.
        #[arg(value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// How to report: for people (source lines, colour on a terminal), JSON, SARIF 2.1.0 (code scanning),
        /// or GitHub workflow annotations.
        #[arg(long, value_enum, default_value = "human")]
        format: ReportFormat,
        /// The same as --format json.
        #[arg(long, hide = true)]
        json: bool,
        /// Fail (exit 1) on warnings too, not only on errors.
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Which router, service, server and version answer a request, and how N requests split; from Traefik
    /// configuration files, or (without PATHS) from the spec and the recorded state.
    Route {
        /// Files or directories of Traefik dynamic configuration.
        #[arg(value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// The request's host.
        #[arg(long)]
        host: String,
        #[arg(long, default_value = "/")]
        path: String,
        #[arg(long, default_value = "GET")]
        method: String,
        /// A header, `Name: value` (repeatable).
        #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
        headers: Vec<String>,
        /// A query parameter, `name=value` (repeatable).
        #[arg(long = "query", value_name = "NAME=VALUE")]
        query: Vec<String>,
        /// A cookie, `name=value` (repeatable); a sticky cookie whose value names a child service pins it.
        #[arg(long = "cookie", value_name = "NAME=VALUE")]
        cookies: Vec<String>,
        #[arg(long)]
        client_ip: Option<std::net::IpAddr>,
        /// The entry point the request arrives on (default: any).
        #[arg(long)]
        entry_point: Option<String>,
        /// The request arrives over TLS (only routers with `tls` handle it).
        #[arg(long)]
        tls: bool,
        /// Also send N requests through the winning router's service and show the split.
        #[arg(long, value_name = "N")]
        requests: Option<usize>,
        /// A server URL or service name that does not answer (repeatable).
        #[arg(long, value_name = "URL|SERVICE")]
        down: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// Run policy modules (docs/policy-abi.md) on the spec and the recorded state, or on a proposed change
    /// (`check --policy p.wasm promote v2 --share 30`); nothing is changed. Exit 1 when a policy reports an
    /// error (or a warning, with --deny-warnings), 2 when a policy could not run.
    Check {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        policy: PolicyOpts,
        /// How to report: for people, JSON, SARIF 2.1.0 or GitHub workflow annotations.
        #[arg(long, value_enum, default_value = "human")]
        format: ReportFormat,
        /// Fail (exit 1) on warnings too, not only on errors.
        #[arg(long)]
        deny_warnings: bool,
        /// The change to check (default: the spec and the recorded state as they are).
        #[command(subcommand)]
        change: Option<Proposed>,
    },
    /// Print the JSON Schema of the spec (the committed switchyard.schema.json).
    Schema,
    /// Run the whole workflow on the bundled example in a fresh directory; no Docker needed.
    Demo {
        /// Keep the demo's files in this directory (it must not exist yet).
        #[arg(long)]
        into: Option<PathBuf>,
    },
}

/// A change `check` plans and runs the policies on, without applying it.
#[derive(Debug, Clone, Subcommand)]
enum Proposed {
    /// Create the environment.
    Create,
    /// Deploy a version as a preview.
    Deploy {
        #[arg(value_name = "VERSION")]
        name: String,
    },
    /// Promote a version into the idle slot with a share of production traffic.
    Promote {
        #[arg(value_name = "VERSION")]
        name: String,
        /// Percent of production traffic, 1 to 100.
        #[arg(long, default_value = "100", value_parser = parse_share)]
        share: u8,
    },
    /// Change the candidate's share.
    Shift {
        /// Percent of production traffic, 1 to 100.
        #[arg(long, value_parser = parse_share)]
        share: u8,
    },
    /// Finish a promotion.
    Complete,
    /// Roll back to the previous slot.
    Rollback,
    /// Remove a version no slot holds.
    Retire {
        #[arg(value_name = "VERSION")]
        name: String,
    },
    /// Remove versions by retention.
    Cleanup,
}

impl Proposed {
    fn request(&self) -> Request {
        match self {
            Proposed::Create => Request::Create,
            Proposed::Deploy { name } => Request::Deploy { version: name.clone() },
            Proposed::Promote { name, share } => Request::Promote { version: name.clone(), share: *share },
            Proposed::Shift { share } => Request::SetShare { share: *share },
            Proposed::Complete => Request::Complete,
            Proposed::Rollback => Request::Rollback,
            Proposed::Retire { name } => Request::Retire { version: name.clone() },
            Proposed::Cleanup => Request::Cleanup,
        }
    }
}

fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    switchyard_model::Duration::parse(s).map(|d| std::time::Duration::from_millis(d.as_millis()))
}

fn parse_share(s: &str) -> Result<u8, String> {
    s.trim_end_matches('%').parse::<u8>().map_err(|_| format!("{s:?} is not a share; give a percent from 1 to 100"))
}

/// Exit codes: 0 done, 1 refused (problems in the spec or the request, health gate closed), 2 could not run.
enum Failure {
    Refused(String),
    Broken(anyhow::Error),
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Broken(e)
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure::Broken(e.into())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match run(&cli, &mut out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Refused(text)) => {
            let _ = out.flush();
            eprint!("{text}");
            ExitCode::from(1)
        }
        Err(Failure::Broken(err)) => {
            let _ = out.flush();
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

struct Session {
    spec: ValidSpec,
    now: Timestamp,
    actor: String,
    /// The spec's file and text, for policies.
    source: Option<Source>,
    /// The policies every change must pass.
    gate: Option<Gate>,
    /// The user's own Traefik files (`traefik.files`), as read beside the spec: a change ships them.
    files: Vec<UserFile>,
}

fn load_spec(path: &Path) -> Result<ValidSpec, Failure> {
    Ok(load_spec_with_source(path)?.0)
}

fn load_spec_with_source(path: &Path) -> Result<(ValidSpec, Source), Failure> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("could not read the spec {}; give its path with --spec", path.display()))?;
    let file = path.display().to_string();
    Ok((parse_spec(&text, &file)?, Source { file, text }))
}

/// Reads the files of the spec's `traefik.files`, relative to the spec at `spec_path`; what cannot be read is
/// kept with the reason (the model's check reports it at its line in the spec).
fn read_user_files(spec: &Spec, spec_path: &Path) -> Vec<UserFile> {
    let dir = spec_path.parent().unwrap_or(Path::new(""));
    spec.traefik
        .files
        .iter()
        .map(|declared| {
            let path = dir.join(declared);
            let text = match std::fs::read(&path) {
                Ok(bytes) => String::from_utf8(bytes).map_err(|e| {
                    format!("it is not UTF-8 text (byte {}); Traefik reads only UTF-8", e.utf8_error().valid_up_to())
                }),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err("there is no such file".to_string()),
                Err(e) => Err(e.to_string()),
            };
            UserFile { declared: declared.clone(), path: path.display().to_string(), text }
        })
        .collect()
}

/// The user's files of a spec, checked with what the spec names in them ([`traefik_files::check`]): errors
/// refuse (exit 1) before anything else happens, warnings are shown.
fn load_user_files(spec: &ValidSpec, source: &Source, spec_path: &Path) -> Result<Vec<UserFile>, Failure> {
    let files = read_user_files(&spec.spec, spec_path);
    let found = traefik_files::check(&spec.spec, &source.text, &source.file, &files);
    let shown: Vec<Diagnostic> = found.into_iter().filter(|d| d.severity != Severity::Info).collect();
    if !shown.is_empty() {
        let sources = user_sources(source, &files);
        let text = report::render_with(&shown, &|f| sources.get(f).map(String::as_str), false);
        if shown.iter().any(Diagnostic::is_error) {
            return Err(Failure::Refused(text));
        }
        eprint!("{text}");
    }
    Ok(files)
}

/// The spec's text and the user's files' texts, by the names diagnostics give them.
fn user_sources(source: &Source, files: &[UserFile]) -> BTreeMap<String, String> {
    let mut sources: BTreeMap<String, String> =
        files.iter().filter_map(|f| Some((f.path.clone(), f.text.clone().ok()?))).collect();
    sources.insert(source.file.clone(), source.text.clone());
    sources
}

fn parse_spec(text: &str, file: &str) -> Result<ValidSpec, Failure> {
    match Spec::parse(text, file) {
        Ok(spec) => {
            if !spec.warnings.is_empty() {
                eprint!("{}", report::render(&spec.warnings, Some(text)));
            }
            Ok(spec)
        }
        Err(diagnostics) => Err(Failure::Refused(report::render(&diagnostics, Some(text)))),
    }
}

fn clock(now: Option<&str>) -> Result<Timestamp> {
    match now {
        Some(s) => Timestamp::parse(s).map_err(|e| anyhow!("--now: {e}")),
        None => {
            let secs = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .context("the system clock is before 1970")?
                .as_secs();
            Ok(Timestamp(secs))
        }
    }
}

fn run(cli: &Cli, out: &mut dyn Write) -> Result<(), Failure> {
    let session = |spec: ValidSpec| -> Result<Session, Failure> {
        Ok(Session {
            spec,
            now: clock(cli.now.as_deref())?,
            actor: cli.actor.clone().or_else(|| std::env::var("USER").ok()).unwrap_or_else(|| "unknown".into()),
            source: None,
            gate: None,
            files: Vec::new(),
        })
    };
    let change = |opts: &ChangeOpts, request: Request, out: &mut dyn Write| -> Result<(), Failure> {
        let (spec, source) = load_spec_with_source(&cli.spec)?;
        let files = load_user_files(&spec, &source, &cli.spec)?;
        let mut s = session(spec)?;
        s.source = Some(source);
        s.files = files;
        s.gate = opts.policy.gate()?;
        let key = resolve(&s.spec, &opts.target)?;
        let mut backend = backend(cli)?;
        let result = apply_change(&s, backend.as_mut(), &key, &request, opts, out).map(|_| ());
        if matches!(result, Err(Failure::Broken(_))) {
            backend.forget();
        }
        result
    };
    match &cli.command {
        Command::Install { image, entry_points: given, no_publish, data_dir } => {
            let spec = load_spec(&cli.spec)?;
            let data_dir = match data_dir {
                Some(dir) if !dir.is_absolute() => {
                    return Err(Failure::Refused(format!(
                        "--data-dir {} must be an absolute path on the Docker host",
                        dir.display()
                    )));
                }
                other => other.clone(),
            };
            let config = switchyard_model::proxy::static_config(&spec.spec, &entry_points(given)?)
                .map_err(|d| Failure::Refused(report::render(&d, None)))?;
            let install =
                docker::install::InstallOptions { image: image.clone(), config, publish: !no_publish, data_dir };
            docker::install::install(&docker_options(cli), &install, out)?;
            Ok(())
        }
        Command::Create(opts) => change(opts, Request::Create, out),
        Command::Repair(opts) => {
            let opts = ChangeOpts { repair: true, ..opts.clone() };
            change(&opts, Request::Create, out)
        }
        Command::Deploy { name, opts } => change(opts, Request::Deploy { version: name.clone() }, out),
        Command::Observe { name, status, opts } => {
            let status = match status {
                Observed::Healthy => HealthStatus::Healthy,
                Observed::Unhealthy => HealthStatus::Unhealthy,
            };
            change(opts, Request::ObserveHealth { version: name.clone(), status }, out)
        }
        Command::Promote { name, share, opts } => {
            change(opts, Request::Promote { version: name.clone(), share: *share }, out)
        }
        Command::Shift { share, opts } => change(opts, Request::SetShare { share: *share }, out),
        Command::Complete(opts) => change(opts, Request::Complete, out),
        Command::Rollback(opts) => change(opts, Request::Rollback, out),
        Command::Retire { name, opts } => change(opts, Request::Retire { version: name.clone() }, out),
        Command::Cleanup(opts) => change(opts, Request::Cleanup, out),
        Command::Status { target, json, check, traefik_api } => {
            let s = session(load_spec(&cli.spec)?)?;
            let mut backend = status_backend(cli, traefik_api.as_deref())?;
            print_status(&s, backend.as_mut(), target, &StatusOpts { json: *json, check: *check }, out)
        }
        Command::Render { target, format } => {
            let s = session(load_spec(&cli.spec)?)?;
            let world = backend(cli)?.load_world()?;
            let config = render_world(&s.spec, &world, target)?;
            let text = match format {
                Format::Yaml => to_yaml(&config),
                Format::Json => to_json(&config),
            }
            .map_err(|e| Failure::Broken(e.into()))?;
            out.write_all(text.as_bytes())?;
            Ok(())
        }
        Command::Validate { paths, format, json, deny_warnings } => {
            let format = if *json { ReportFormat::Json } else { *format };
            let inputs = if paths.is_empty() {
                let text = std::fs::read_to_string(&cli.spec)
                    .with_context(|| format!("could not read the spec {}", cli.spec.display()))?;
                inspect::Inputs { specs: vec![(cli.spec.display().to_string(), text)], ..Default::default() }
            } else {
                inspect::read(&paths.iter().map(PathBuf::as_path).collect::<Vec<_>>())?
            };
            let mut diagnostics = inputs.diagnostics.clone();
            if !inputs.traefik.is_empty() {
                diagnostics.extend(check_traefik(&inputs.traefik));
            }
            // A spec's own files (`traefik.files`) are read beside it and checked with it.
            let mut user_files: Vec<(String, String)> = Vec::new();
            for (file, text) in &inputs.specs {
                match Spec::parse(text, file) {
                    Ok(spec) => {
                        diagnostics.extend(spec.warnings.iter().cloned());
                        let files = read_user_files(&spec.spec, Path::new(file));
                        diagnostics.extend(traefik_files::check(&spec.spec, text, file, &files));
                        user_files.extend(files.into_iter().filter_map(|f| Some((f.path, f.text.ok()?))));
                    }
                    Err(d) => diagnostics.extend(d),
                }
            }
            let checked: Vec<String> =
                inputs.traefik.iter().chain(&inputs.specs).chain(&user_files).map(|(n, _)| n.clone()).collect();
            let sources: std::collections::BTreeMap<String, String> =
                inputs.traefik.into_iter().chain(inputs.specs).chain(user_files).collect();
            report_diagnostics(&diagnostics, &sources, format, &checked, out)?;
            let failed =
                diagnostics.iter().any(|d| d.is_error() || (*deny_warnings && d.severity == Severity::Warning));
            if failed { Err(Failure::Refused(String::new())) } else { Ok(()) }
        }
        Command::Route {
            paths,
            host,
            path,
            method,
            headers,
            query,
            cookies,
            client_ip,
            entry_point,
            tls,
            requests,
            down,
            json,
        } => {
            let mut versions = std::collections::BTreeMap::new();
            let files = if paths.is_empty() {
                let s = session(load_spec(&cli.spec)?)?;
                let world = backend(cli)?.load_world()?;
                versions = switchyard_model::view::version_services(world.values());
                let config = render_world(&s.spec, &world, &Target { app: None, env: None })?;
                vec![("rendered.yml".to_string(), to_yaml(&config).map_err(|e| Failure::Broken(e.into()))?)]
            } else {
                let inputs = inspect::read(&paths.iter().map(PathBuf::as_path).collect::<Vec<_>>())?;
                if let Some((name, _)) = inputs.specs.first() {
                    return Err(Failure::Refused(format!(
                        "{name} is a switchyard spec; `route` reads Traefik configuration (leave PATHS out to route \
                         through the spec and the recorded state)"
                    )));
                }
                inputs.traefik
            };
            let loaded = switchyard_traefik::dynamic::load(&files);
            if loaded.has_errors() {
                let sources: std::collections::BTreeMap<String, String> = files.iter().cloned().collect();
                let errors: Vec<Diagnostic> = loaded.diagnostics.iter().filter(|d| d.is_error()).cloned().collect();
                let text = report::render_with(&errors, &|f| sources.get(f).map(String::as_str), false);
                return Err(Failure::Refused(format!("{text}Traefik would refuse this configuration; fix it first")));
            }
            let mut request = switchyard_traefik::rules::Request::new(method, host, path);
            for (name, value) in inspect::pairs(headers, ':', "--header")? {
                request = request.header(&name, &value);
            }
            for (name, value) in inspect::pairs(query, '=', "--query")? {
                request = request.query(&name, &value);
            }
            if let Some(ip) = client_ip {
                request = request.client_ip(*ip);
            }
            let req = switchyard_traefik::simulate::http::HttpRequest {
                entry_point: entry_point.clone(),
                tls: *tls,
                request,
                cookies: inspect::pairs(cookies, '=', "--cookie")?.into_iter().collect(),
            };
            let down = inspect::down(down);
            // The same function answers the playground's "Who answers?" panel.
            let route = switchyard_traefik::simulate::http::route(&loaded.config, &req, *requests, &down, &versions);
            if *json {
                let value =
                    serde_json::json!({ "answer": route.answer, "version": route.version, "split": route.split });
                writeln!(out, "{}", serde_json::to_string_pretty(&value).map_err(anyhow::Error::from)?)?;
            } else {
                let split = requests.zip(route.split.as_ref());
                out.write_all(inspect::describe(&req, &route.answer, split).as_bytes())?;
            }
            Ok(())
        }
        Command::Check { target, policy, format, deny_warnings, change } => {
            let (spec, source) = load_spec_with_source(&cli.spec)?;
            let mut s = session(spec)?;
            s.source = Some(source);
            s.gate = policy.gate()?;
            let Some(gate) = &s.gate else {
                return Err(Failure::Broken(anyhow!("give at least one --policy PATH to check (docs/policy-abi.md)")));
            };
            let world = backend(cli)?.load_world()?;
            let input = match change {
                Some(proposed) => {
                    let key = resolve(&s.spec, target)?;
                    let request = proposed.request();
                    let outcome = plan(&s, &world, &key, &request)?;
                    change_input_json(&s, &world, &key, &request, false, &outcome)?
                }
                None => switchyard_model::policy::check_input(&s.spec, s.source.as_ref(), &world)
                    .map_err(|e| Failure::Broken(anyhow!(e)))?,
            };
            let verdict = gate.evaluate(&input);
            eprint!("{}", gate.describe());
            let sources: BTreeMap<String, String> =
                s.source.iter().map(|src| (src.file.clone(), src.text.clone())).collect();
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
        Command::Schema => {
            out.write_all(switchyard_model::spec::json_schema().as_bytes())?;
            Ok(())
        }
        Command::Demo { into } => demo(into.as_deref(), out),
    }
}

/// Every problem in a set of Traefik configuration files.
fn check_traefik(files: &[(String, String)]) -> Vec<Diagnostic> {
    switchyard_traefik::validate::validate_files(files)
}

/// Writes diagnostics in the chosen format; `checked` names what was checked, for the all-clear line.
fn report_diagnostics(
    diagnostics: &[Diagnostic],
    sources: &std::collections::BTreeMap<String, String>,
    format: ReportFormat,
    checked: &[String],
    out: &mut dyn Write,
) -> Result<(), Failure> {
    use std::io::IsTerminal as _;
    match format {
        ReportFormat::Json => {
            writeln!(out, "{}", serde_json::to_string_pretty(diagnostics).map_err(anyhow::Error::from)?)?;
        }
        ReportFormat::Sarif => {
            writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&report::sarif(diagnostics)).map_err(anyhow::Error::from)?
            )?;
        }
        ReportFormat::Github => out.write_all(report::github(diagnostics).as_bytes())?,
        ReportFormat::Human if diagnostics.is_empty() => {
            for name in checked {
                writeln!(out, "{name}: ok")?;
            }
        }
        ReportFormat::Human => {
            let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            let text = report::render_with(diagnostics, &|f| sources.get(f).map(String::as_str), color);
            out.write_all(text.as_bytes())?;
            let (errors, warnings) = diagnostics.iter().fold((0, 0), |(e, w), d| match d.severity {
                Severity::Error => (e + 1, w),
                Severity::Warning => (e, w + 1),
                Severity::Info => (e, w),
            });
            writeln!(out, "{errors} error(s), {warnings} warning(s)")?;
        }
    }
    Ok(())
}

/// The backend for `status`: the local one asks Traefik's API where `--traefik-api` (else
/// `SWITCHYARD_TRAEFIK_API`) says. The variable is not an option's default: set for a local Traefik, it must not
/// refuse `status` on a Docker host.
fn status_backend(cli: &Cli, traefik_api: Option<&str>) -> Result<Box<dyn Backend>, Failure> {
    let docker = cli.docker || cli.context.is_some();
    if docker && traefik_api.is_some() {
        return Err(refuse(
            "--traefik-api is for the local backend; on a Docker host switchyard asks the proxy's API itself".into(),
        ));
    }
    let from_env = std::env::var("SWITCHYARD_TRAEFIK_API").ok().filter(|v| !v.is_empty() && !docker);
    match traefik_api.or(from_env.as_deref()) {
        Some(url) => {
            let api = traefik_api::ApiUrl::parse(url).map_err(|e| refuse(format!("{e:#}")))?;
            let store = Store::new(&cli.dir, cli.dynamic_dir.as_deref());
            Ok(Box::new(LocalBackend::new(store).with_traefik_api(api)))
        }
        None => Ok(backend(cli)?),
    }
}

/// The backend the global options choose.
fn backend(cli: &Cli) -> Result<Box<dyn Backend>> {
    if cli.docker || cli.context.is_some() {
        return Ok(Box::new(docker::DockerBackend::connect(docker_options(cli))?));
    }
    Ok(Box::new(LocalBackend::new(Store::new(&cli.dir, cli.dynamic_dir.as_deref()))))
}

fn docker_options(cli: &Cli) -> docker::DockerOptions {
    docker::DockerOptions {
        context: cli.context.clone(),
        proxy: cli.proxy.clone(),
        spec_dir: cli.spec.parent().map(Path::to_path_buf).unwrap_or_default(),
        health_timeout: cli.health_timeout,
        lock_ttl: cli.lock_ttl,
    }
}

/// The entry point addresses given to `install` (`NAME=ADDRESS`).
fn entry_points(given: &[String]) -> Result<std::collections::BTreeMap<String, String>, Failure> {
    let mut map = std::collections::BTreeMap::new();
    for item in given {
        let (name, address) = item
            .split_once('=')
            .ok_or_else(|| refuse(format!("--entry-point {item:?}: write it as NAME=ADDRESS, e.g. web=:80")))?;
        map.insert(name.to_string(), address.to_string());
    }
    Ok(map)
}

/// The app and environment a command is about; either may be left out when there is only one.
fn resolve(spec: &ValidSpec, target: &Target) -> Result<EnvKey, Failure> {
    let apps: Vec<&String> = spec.spec.apps.keys().collect();
    let app = match &target.app {
        Some(a) => a.clone(),
        None if apps.len() == 1 => apps[0].clone(),
        None => return Err(refuse(format!("the spec has several apps ({}); choose one with --app", join(&apps)))),
    };
    let envs: Vec<&String> = match spec.spec.apps.get(&app) {
        Some(a) => a.environments.keys().collect(),
        None => return Err(refuse(format!("the spec has no app {app:?}; its apps are: {}", join(&apps)))),
    };
    let env = match &target.env {
        Some(e) => e.clone(),
        None if envs.len() == 1 => envs[0].clone(),
        None => return Err(refuse(format!("{app} has several environments ({}); choose one with --env", join(&envs)))),
    };
    Ok(EnvKey::new(&app, &env))
}

fn join(items: &[&String]) -> String {
    items.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
}

fn refuse(message: String) -> Failure {
    Failure::Refused(format!("error: {message}\n"))
}

fn refuse_diagnostic(d: &Diagnostic) -> Failure {
    Failure::Refused(report::render(std::slice::from_ref(d), None))
}

fn apply_change(
    s: &Session,
    backend: &mut dyn Backend,
    key: &EnvKey,
    request: &Request,
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
    if backend.commits_atomically() && !opts.break_lock && !opts.repair {
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
fn configs(outcome: &Outcome, rewrite: bool) -> Result<Vec<(String, String)>, Failure> {
    let mut configs = Vec::new();
    for step in outcome.plan.steps.iter().chain(&outcome.undo.steps) {
        if let Step::WriteConfig { file, config, .. } = step {
            configs.push((file.clone(), to_yaml(config).map_err(|e| Failure::Broken(e.into()))?));
        }
    }
    if configs.is_empty() && rewrite {
        let file = switchyard_model::render::naming::config_file(&outcome.key.app, &outcome.key.env);
        configs.push((file, to_yaml(&outcome.after).map_err(|e| Failure::Broken(e.into()))?));
    }
    Ok(configs)
}

/// Refuses the change (exit 1, nothing written) when Traefik's provider directory, as it would be after the
/// change's writes, has an error: every error, at its file and line there.
fn guard(
    backend: &dyn Backend,
    existing: &[(String, String)],
    shipment: &Shipment,
    configs: Vec<(String, String)>,
) -> Result<(), Failure> {
    let problems = directory::check(existing, shipment, &configs);
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
fn show_shipment(shipment: &Shipment, out: &mut dyn Write) -> Result<(), Failure> {
    for (name, _) in &shipment.writes {
        writeln!(out, "traefik.files: {name} goes into Traefik's directory")?;
    }
    for name in shipment.removals.iter().filter(|n| *n != directory::SHIPPED_LIST) {
        writeln!(out, "traefik.files: {name} is no longer declared; it leaves Traefik's directory")?;
    }
    Ok(())
}

/// Writes the configuration `outcome`'s state describes.
fn repair(backend: &mut dyn Backend, outcome: &Outcome, now: Timestamp, out: &mut dyn Write) -> Result<(), Failure> {
    let step = Step::WriteConfig {
        file: switchyard_model::render::naming::config_file(&outcome.key.app, &outcome.key.env),
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
fn compute(
    s: &Session,
    backend: &mut dyn Backend,
    key: &EnvKey,
    request: &Request,
) -> Result<(World, Outcome), Failure> {
    let world = backend.load_world()?;
    let outcome = plan(s, &world, key, request)?;
    Ok((world, outcome))
}

/// The policies' input for a planned change: the world before and after, the changed environment's
/// configuration after, and the plan.
fn change_input_json(
    s: &Session,
    world: &World,
    key: &EnvKey,
    request: &Request,
    repair: bool,
    outcome: &Outcome,
) -> Result<Vec<u8>, Failure> {
    switchyard_model::policy::change_input(&s.spec, s.source.as_ref(), world, key, request, repair, outcome)
        .map_err(|e| Failure::Broken(anyhow!(e)))
}

/// Runs the session's policies on a planned change: findings are shown; an error finding refuses the change
/// (exit 1) and a policy that cannot answer stops it (exit 2), before anything is applied.
fn police(
    s: &Session,
    world: &World,
    key: &EnvKey,
    request: &Request,
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
fn plan(s: &Session, world: &World, key: &EnvKey, request: &Request) -> Result<Outcome, Failure> {
    let ctx = Context { now: s.now, actor: Some(s.actor.clone()) };
    switchyard_model::apply(&s.spec, world, key, request, &ctx).map_err(|e| refuse_diagnostic(&e.to_diagnostic()))
}

/// Shows a computed change; for a dry run, with the plan and the configuration diff.
fn show(
    outcome: &Outcome,
    key: &EnvKey,
    request: &Request,
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
        let file = switchyard_model::render::naming::config_file(&key.app, &key.env);
        let diff = unified_diff(
            &to_yaml(&outcome.before).map_err(|e| Failure::Broken(e.into()))?,
            &to_yaml(&outcome.after).map_err(|e| Failure::Broken(e.into()))?,
            &format!("a/{file}"),
            &format!("b/{file}"),
        );
        if diff.is_empty() {
            writeln!(out, "the Traefik configuration does not change")?;
        } else {
            writeln!(out, "configuration diff:")?;
            out.write_all(diff.as_bytes())?;
        }
    }
    Ok(())
}

/// How `status` reports.
struct StatusOpts {
    json: bool,
    /// Exit 1 when Traefik and the state disagree, 2 when Traefik cannot be asked.
    check: bool,
}

fn print_status(
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
fn print_served(served: &Served, source: &str, out: &mut dyn Write) -> Result<(), Failure> {
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
fn host_lines(
    spec: &ValidSpec,
    backend: &mut dyn Backend,
    key: &EnvKey,
    state: &EnvState,
) -> Result<(Vec<String>, bool)> {
    let file = switchyard_model::render::naming::config_file(&key.app, &key.env);
    let view = backend.host_view(key, &file)?;
    let expected = render_env(spec, state).map_err(|e| anyhow!("{e}"))?.config;
    let expected = to_yaml(&expected).map_err(|e| anyhow!("{e}"))?;
    let file_agrees = view.config.as_ref() == Some(&expected);
    let mut lines = vec![match &view.config {
        None => format!("Traefik's file {file}: MISSING; `switchyard repair` writes it"),
        Some(_) if file_agrees => format!("Traefik's file {file}: as the state says"),
        Some(_) => format!(
            "Traefik's file {file}: DIFFERS from the state (a change cut short, or an edit by hand); \
             `switchyard repair` rewrites it"
        ),
    }];
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

fn render_world(spec: &ValidSpec, world: &World, target: &Target) -> Result<DynamicConfig, Failure> {
    let chosen = world.iter().filter(|(key, _)| {
        target.app.as_ref().is_none_or(|a| *a == key.app) && target.env.as_ref().is_none_or(|e| *e == key.env)
    });
    let rendered = switchyard_model::render::render_world(spec, chosen.map(|(_, state)| state))
        .map_err(|e| Failure::Broken(e.into()))?;
    if !rendered.warnings.is_empty() {
        eprint!("{}", report::render(&rendered.warnings, None));
    }
    Ok(rendered.config)
}

/// The whole workflow on the bundled example, with a fixed clock so its output is the same every run.
fn demo(into: Option<&Path>, out: &mut dyn Write) -> Result<(), Failure> {
    let (dir, keep) = match into {
        Some(d) if d.exists() => {
            return Err(refuse(format!("{} already exists; --into wants a new directory", d.display())));
        }
        Some(d) => (d.to_path_buf(), true),
        None => (std::env::temp_dir().join(format!("switchyard-demo-{}", std::process::id())), false),
    };
    let spec = parse_spec(EXAMPLE_SPEC, "examples/whoami/switchyard.yaml")?;
    let files = EXAMPLE_FILES
        .iter()
        .map(|(name, text)| UserFile {
            declared: name.to_string(),
            path: format!("examples/whoami/{name}"),
            text: Ok(text.to_string()),
        })
        .collect();
    let mut s = Session { spec, now: Timestamp(0), actor: "demo".into(), source: None, gate: None, files };
    let store = Store::new(&dir, None);
    let mut backend = LocalBackend::new(store.clone());
    let start = Timestamp::parse("2026-01-05T09:00:00Z").map_err(|e| anyhow!(e))?;
    let key = EnvKey::new("whoami", "dev");
    let opts = ChangeOpts {
        target: Target { app: None, env: None },
        dry_run: false,
        break_lock: false,
        repair: false,
        policy: PolicyOpts::default(),
    };
    let dry = ChangeOpts { dry_run: true, ..opts.clone() };
    let healthy = |v: &str| Request::ObserveHealth { version: v.into(), status: HealthStatus::Healthy };
    let steps: Vec<(&str, Request, &ChangeOpts)> = vec![
        ("Create the environment", Request::Create, &opts),
        ("Deploy v1.2.0 as a preview", Request::Deploy { version: "v1.2.0".into() }, &opts),
        ("Its health check passes", healthy("v1.2.0"), &opts),
        (
            "Promote it: nothing is live yet, so it takes all traffic",
            Request::Promote { version: "v1.2.0".into(), share: 100 },
            &opts,
        ),
        ("Deploy v1.3.0 beside it", Request::Deploy { version: "v1.3.0".into() }, &opts),
        (
            "Promoting before it is healthy is refused; traffic stays",
            Request::Promote { version: "v1.3.0".into(), share: 10 },
            &opts,
        ),
        ("It becomes healthy", healthy("v1.3.0"), &opts),
        ("Preview the promotion at 10% (dry run)", Request::Promote { version: "v1.3.0".into(), share: 10 }, &dry),
        ("Promote it at 10%", Request::Promote { version: "v1.3.0".into(), share: 10 }, &opts),
        ("Shift to 50%", Request::SetShare { share: 50 }, &opts),
        ("Complete the switch", Request::Complete, &opts),
        ("Roll back: blue takes all traffic again, nothing redeployed", Request::Rollback, &opts),
    ];
    let result = (|| -> Result<(), Failure> {
        for (i, (title, request, opts)) in steps.iter().enumerate() {
            s.now = Timestamp(start.0 + 60 * i as u64);
            writeln!(out, "\n== {}. {title}", i + 1)?;
            match apply_change(&s, &mut backend, &key, request, opts, out) {
                Ok(_) => {}
                Err(Failure::Refused(text)) => write!(out, "refused, as intended:\n{text}")?,
                Err(e) => return Err(e),
            }
        }
        writeln!(out, "\n== Status")?;
        let opts = StatusOpts { json: false, check: false };
        print_status(&s, &mut backend, &Target { app: None, env: None }, &opts, out)?;
        let file = store.config_path(&switchyard_model::render::naming::config_file(&key.app, &key.env))?;
        writeln!(
            out,
            "\n== Traefik's file {}",
            if keep { file.display().to_string() } else { "(in a temporary directory)".into() }
        )?;
        out.write_all(std::fs::read(&file).with_context(|| format!("could not read {}", file.display()))?.as_slice())?;
        Ok(())
    })();
    if !keep {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }

    #[test]
    fn shares_accept_a_percent_sign() {
        assert_eq!(super::parse_share("10%"), Ok(10));
        assert_eq!(super::parse_share("50"), Ok(50));
        assert!(super::parse_share("ten").is_err());
    }
}
