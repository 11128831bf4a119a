//! The command line: clap's types, and nothing else but the conversions of their values.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use switchyard_model::Change;
use switchyard_model::rollout::{Percent, Rollout};

use crate::gate::Gate;
use crate::policy;
use crate::session::Failure;

#[derive(Debug, Parser)]
#[command(name = "switchyard", version, about, long_about = None, propagate_version = true)]
/// Blue/green and preview deployments of Docker Compose apps behind Traefik.
///
/// Without Docker, switchyard works on a local directory: state files and a Traefik file-provider directory.
pub(crate) struct Cli {
    /// The spec file.
    #[arg(long, global = true, env = "SWITCHYARD_SPEC", default_value = "switchyard.yaml")]
    pub(crate) spec: PathBuf,
    /// Where state lives (state/) and, unless --dynamic-dir is given, Traefik's configuration (dynamic/).
    #[arg(long, global = true, env = "SWITCHYARD_DIR", default_value = ".switchyard")]
    pub(crate) dir: PathBuf,
    /// Traefik's file-provider directory (the `providers.file.directory` of its static configuration).
    #[arg(long, global = true, env = "SWITCHYARD_DYNAMIC_DIR")]
    pub(crate) dynamic_dir: Option<PathBuf>,
    /// The time to record, as 2026-11-27T06:55:53Z or Unix seconds (default: now).
    #[arg(long, global = true, value_name = "TIME")]
    pub(crate) now: Option<String>,
    /// Who makes the change, for the history (default: $USER).
    #[arg(long, global = true, env = "SWITCHYARD_ACTOR")]
    pub(crate) actor: Option<String>,
    /// Work on a Docker host (state, locks and Traefik's files live there) instead of a local directory.
    #[arg(long, global = true, env = "SWITCHYARD_DOCKER")]
    pub(crate) docker: bool,
    /// The Docker CLI context to use (implies --docker); default: DOCKER_HOST, DOCKER_CONTEXT, the current context.
    #[arg(long, global = true, value_name = "NAME")]
    pub(crate) context: Option<String>,
    /// The proxy (Traefik) container on the Docker host.
    #[arg(long, global = true, default_value = "switchyard-traefik", value_name = "NAME")]
    pub(crate) proxy: String,
    /// How long to wait for a version to become healthy before traffic moves (e.g. 90s, 5m).
    #[arg(long, global = true, default_value = "2m", value_parser = parse_duration)]
    pub(crate) health_timeout: std::time::Duration,
    /// A lock older than this is stale and is taken over.
    #[arg(long, global = true, default_value = "15m", value_parser = parse_duration)]
    pub(crate) lock_ttl: std::time::Duration,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct Target {
    /// The app (may be left out when the spec has one).
    #[arg(short, long)]
    pub(crate) app: Option<String>,
    /// The environment (may be left out when the app has one).
    #[arg(short, long)]
    pub(crate) env: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct ChangeOpts {
    #[command(flatten)]
    pub(crate) target: Target,
    /// Show the plan and the configuration diff; change nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Remove a lock left by a change that died, then go on.
    #[arg(long)]
    pub(crate) break_lock: bool,
    /// Set by `repair`: rewrite Traefik's file from the recorded state even when nothing changes.
    #[arg(skip)]
    pub(crate) repair: bool,
    #[command(flatten)]
    pub(crate) policy: PolicyOpts,
}

/// Policy modules (docs/policy-abi.md) and their limits.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct PolicyOpts {
    /// A policy module (WebAssembly, ABI v1) to run on the change before anything is applied: an error finding
    /// refuses the change. `PATH@sha256:HEX` refuses a module with another hash. Repeatable.
    #[arg(long = "policy", value_name = "PATH[@sha256:HEX]")]
    pub(crate) policies: Vec<policy::PolicyRef>,
    /// Fuel for one policy evaluation (about one unit per WebAssembly instruction).
    #[arg(long, value_name = "UNITS", default_value_t = policy::Limits::default().fuel)]
    pub(crate) policy_fuel: u64,
    /// Wall-clock time for one policy evaluation.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub(crate) policy_timeout: std::time::Duration,
    /// Linear memory a policy may use, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = policy::Limits::default().memory >> 20)]
    pub(crate) policy_memory: usize,
    /// Size of a policy's answer, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = policy::Limits::default().output >> 20)]
    pub(crate) policy_output: usize,
}

impl PolicyOpts {
    pub(crate) fn limits(&self) -> policy::Limits {
        policy::Limits {
            fuel: self.policy_fuel,
            timeout: self.policy_timeout,
            memory: self.policy_memory.saturating_mul(1 << 20),
            output: self.policy_output.saturating_mul(1 << 20),
        }
    }
    pub(crate) fn gate(&self) -> Result<Option<Gate>, Failure> {
        Gate::open(&self.policies, self.limits()).map_err(Failure::Broken)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum RolloutAction {
    Resume,
    Abort,
}

/// A rollout's options on `promote`, over the environment's `rollout` (see the spec's documentation).
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct RolloutArgs {
    /// The candidate's shares, rising to 100, e.g. 10,25,50,100.
    #[arg(long, value_delimiter = ',', value_parser = parse_share, conflicts_with = "share")]
    pub(crate) steps: Option<Vec<u8>>,
    /// How long each step is watched, e.g. 1m.
    #[arg(long, value_name = "DURATION", value_parser = switchyard_model::Duration::parse, conflicts_with = "share")]
    pub(crate) step_time: Option<switchyard_model::Duration>,
    /// How long the candidate is watched with all traffic at the end (0s: not at all).
    #[arg(long, value_name = "DURATION", value_parser = switchyard_model::Duration::parse, conflicts_with = "share")]
    pub(crate) bake: Option<switchyard_model::Duration>,
    /// The highest share of server errors (500 to 599) the candidate may answer, e.g. 1%.
    #[arg(long, value_name = "PERCENT", value_parser = Percent::parse, conflicts_with = "share")]
    pub(crate) max_error_rate: Option<Percent>,
    /// The highest p95 latency the candidate may show, e.g. 300ms.
    #[arg(long, value_name = "DURATION", value_parser = switchyard_model::Duration::parse, conflicts_with = "share")]
    pub(crate) max_p95: Option<switchyard_model::Duration>,
    /// The requests the candidate must answer in a step before it can pass.
    #[arg(long, value_name = "N", conflicts_with = "share")]
    pub(crate) min_requests: Option<u32>,
}

impl RolloutArgs {
    /// The rollout these options ask for over the environment's (`base`); `None` when neither asks for one.
    pub(crate) fn rollout(&self, base: Option<&Rollout>) -> Option<Rollout> {
        let any = self.steps.is_some()
            || self.step_time.is_some()
            || self.bake.is_some()
            || self.max_error_rate.is_some()
            || self.max_p95.is_some()
            || self.min_requests.is_some();
        if base.is_none() && !any {
            return None;
        }
        let mut r = base.cloned().unwrap_or_default();
        if let Some(steps) = &self.steps {
            r.steps.clone_from(steps);
        }
        r.step_time = self.step_time.unwrap_or(r.step_time);
        r.bake = self.bake.unwrap_or(r.bake);
        r.max_error_rate = self.max_error_rate.unwrap_or(r.max_error_rate);
        r.max_p95 = self.max_p95.or(r.max_p95);
        r.min_requests = self.min_requests.unwrap_or(r.min_requests);
        Some(r)
    }

    /// The change `promote VERSION` asks for: with `--share N`, that share at once; else with a rollout (the
    /// environment's `rollout` under these options), its start; else the whole of the traffic at once.
    pub(crate) fn promotion(&self, version: &str, share: Option<u8>, base: Option<&Rollout>) -> Change {
        match share.map_or_else(|| self.rollout(base), |_| None) {
            Some(rollout) => Change::StartRollout { version: version.into(), rollout, driver: None },
            None => Change::Promote { version: version.into(), share: share.unwrap_or(100) },
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Observed {
    Healthy,
    Unhealthy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ReportFormat {
    Human,
    Json,
    Sarif,
    Github,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Format {
    Yaml,
    Json,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Make sure the Traefik container runs on the Docker host as the spec needs it: the file provider on
    /// switchyard's directory (made before Traefik starts), the entry points and certificate resolvers the spec
    /// names, the API, ping and metrics inside the container only. Running it again leaves a proxy that is as
    /// described alone, and replaces one that is not (keeping its volume and stack networks).
    Install(InstallArgs),
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
    /// Put a version into the idle slot with a share of production traffic, once it is healthy. With a rollout
    /// (the environment's `rollout`, or any of the rollout options), walk its steps: each step's share is held
    /// for its step time while Traefik's metrics of the candidate are read, then the next; a candidate that
    /// fails its thresholds is rolled back at once (exit 1). `--share N` moves at once, rollout or not.
    Promote {
        #[arg(value_name = "VERSION")]
        name: String,
        /// Percent of production traffic, 1 to 100 (100 switches completely); without a rollout, 100.
        #[arg(long, value_parser = parse_share)]
        share: Option<u8>,
        #[command(flatten)]
        rollout: RolloutArgs,
        /// Local backend: where your Traefik answers its API and metrics, e.g. http://127.0.0.1:8080; else
        /// $SWITCHYARD_TRAEFIK_API.
        #[arg(long, value_name = "URL")]
        traefik_api: Option<String>,
        #[command(flatten)]
        opts: ChangeOpts,
    },
    /// Take on a rollout that was interrupted (`resume`: from the step its traffic is at, the step watched
    /// afresh) or stop it (`abort`: all traffic back to the live slot at once).
    Rollout {
        #[arg(value_enum)]
        action: RolloutAction,
        /// Local backend: where your Traefik answers its API and metrics, e.g. http://127.0.0.1:8080; else
        /// $SWITCHYARD_TRAEFIK_API.
        #[arg(long, value_name = "URL")]
        traefik_api: Option<String>,
        /// `resume`: take the rollout over from its driver on another machine, which you know is gone (one
        /// gone on this machine is taken over without it).
        #[arg(long)]
        take_over: bool,
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
    Status(StatusArgs),
    /// Print the Traefik dynamic configuration for the spec and the recorded state.
    Render(RenderArgs),
    /// Check Traefik dynamic configuration (files, or directories read as Traefik's file provider reads them)
    /// and switchyard specs, and report every problem; without PATHS, the spec (--spec).
    Validate(ValidateArgs),
    /// Which router, service, server and version answer a request, and how N requests split; from Traefik
    /// configuration files, or (without PATHS) from the spec and the recorded state.
    Route(RouteArgs),
    /// Run policy modules (docs/policy-abi.md) on the spec and the recorded state, or on a proposed change
    /// (`check --policy p.wasm promote v2 --share 30`); nothing is changed. Exit 1 when a policy reports an
    /// error (or a warning, with --deny-warnings), 2 when a policy could not run.
    Check(CheckArgs),
    /// Print the JSON Schema of the spec (the committed switchyard.schema.json).
    Schema,
    /// Run the whole workflow on the bundled example in a fresh directory; no Docker needed.
    Demo(DemoArgs),
}

// The arguments of `install` (documented on the command).
#[derive(Debug, Args)]
pub(crate) struct InstallArgs {
    /// The Traefik image.
    #[arg(long, default_value = switchyard_model::proxy::DEFAULT_IMAGE)]
    pub(crate) image: String,
    /// An entry point and its address, e.g. `websecure=:8443` (default: the spec's entry points, with web on
    /// :80 and websecure on :443).
    #[arg(long = "entry-point", value_name = "NAME=ADDRESS")]
    pub(crate) entry_points: Vec<String>,
    /// Do not publish the entry points' ports on the host.
    #[arg(long)]
    pub(crate) no_publish: bool,
    /// Keep switchyard's files (Traefik's directory, state, locks, audit) in this directory of the Docker
    /// host, bind-mounted into the proxy, instead of in the `<proxy>-data` volume. Running the CLI on that
    /// host, routing changes then write it directly.
    #[arg(long, value_name = "HOST_PATH")]
    pub(crate) data_dir: Option<PathBuf>,
}

// The arguments of `status` (documented on the command).
#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    #[command(flatten)]
    pub(crate) target: Target,
    /// Print JSON.
    #[arg(long)]
    pub(crate) json: bool,
    /// Exit 0 when Traefik serves what the state says; 1 when they disagree (a router or service disabled,
    /// warned about, missing, stale or different; Traefik's file not as the state says; a server DOWN for a
    /// version with production traffic; the file provider not started); 2 when it cannot tell (Traefik's API
    /// cannot be asked, or no --traefik-api on the local backend).
    #[arg(long)]
    pub(crate) check: bool,
    /// Local backend: where your Traefik answers its API (`--api.insecure`), e.g. http://127.0.0.1:8080;
    /// else $SWITCHYARD_TRAEFIK_API. On a Docker host switchyard asks the proxy's API itself (and ignores
    /// that variable).
    #[arg(long, value_name = "URL")]
    pub(crate) traefik_api: Option<String>,
}

// The arguments of `render` (documented on the command).
#[derive(Debug, Args)]
pub(crate) struct RenderArgs {
    #[command(flatten)]
    pub(crate) target: Target,
    #[arg(long, value_enum, default_value = "yaml")]
    pub(crate) format: Format,
}

// The arguments of `validate` (documented on the command).
#[derive(Debug, Args)]
pub(crate) struct ValidateArgs {
    /// Files or directories: Traefik configuration (.yml, .yaml, .toml) or switchyard specs.
    #[arg(value_name = "PATH")]
    pub(crate) paths: Vec<PathBuf>,
    /// How to report: for people (source lines, colour on a terminal), JSON, SARIF 2.1.0 (code scanning),
    /// or GitHub workflow annotations.
    #[arg(long, value_enum, default_value = "human")]
    pub(crate) format: ReportFormat,
    /// The same as --format json.
    #[arg(long, hide = true)]
    pub(crate) json: bool,
    /// Fail (exit 1) on warnings too, not only on errors.
    #[arg(long)]
    pub(crate) deny_warnings: bool,
}

// The arguments of `route` (documented on the command).
#[derive(Debug, Args)]
pub(crate) struct RouteArgs {
    /// Files or directories of Traefik dynamic configuration.
    #[arg(value_name = "PATH")]
    pub(crate) paths: Vec<PathBuf>,
    /// The request's host.
    #[arg(long)]
    pub(crate) host: String,
    #[arg(long, default_value = "/")]
    pub(crate) path: String,
    #[arg(long, default_value = "GET")]
    pub(crate) method: String,
    /// A header, `Name: value` (repeatable).
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
    pub(crate) headers: Vec<String>,
    /// A query parameter, `name=value` (repeatable).
    #[arg(long = "query", value_name = "NAME=VALUE")]
    pub(crate) query: Vec<String>,
    /// A cookie, `name=value` (repeatable); a sticky cookie whose value names a child service pins it.
    #[arg(long = "cookie", value_name = "NAME=VALUE")]
    pub(crate) cookies: Vec<String>,
    #[arg(long)]
    pub(crate) client_ip: Option<std::net::IpAddr>,
    /// The entry point the request arrives on (default: any).
    #[arg(long)]
    pub(crate) entry_point: Option<String>,
    /// The request arrives over TLS (only routers with `tls` handle it).
    #[arg(long)]
    pub(crate) tls: bool,
    /// Also send N requests through the winning router's service and show the split.
    #[arg(long, value_name = "N")]
    pub(crate) requests: Option<usize>,
    /// A server URL or service name that does not answer (repeatable).
    #[arg(long, value_name = "URL|SERVICE")]
    pub(crate) down: Vec<String>,
    #[arg(long)]
    pub(crate) json: bool,
}

// The arguments of `check` (documented on the command).
#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    #[command(flatten)]
    pub(crate) target: Target,
    #[command(flatten)]
    pub(crate) policy: PolicyOpts,
    /// How to report: for people, JSON, SARIF 2.1.0 or GitHub workflow annotations.
    #[arg(long, value_enum, default_value = "human")]
    pub(crate) format: ReportFormat,
    /// Fail (exit 1) on warnings too, not only on errors.
    #[arg(long)]
    pub(crate) deny_warnings: bool,
    /// The change to check (default: the spec and the recorded state as they are).
    #[command(subcommand)]
    pub(crate) change: Option<Proposed>,
}

// The arguments of `demo` (documented on the command).
#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Keep the demo's files in this directory (it must not exist yet).
    #[arg(long)]
    pub(crate) into: Option<PathBuf>,
}

/// A change `check` plans and runs the policies on, without applying it.
#[derive(Debug, Clone, Subcommand)]
pub(crate) enum Proposed {
    /// Create the environment.
    Create,
    /// Deploy a version as a preview.
    Deploy {
        #[arg(value_name = "VERSION")]
        name: String,
    },
    /// Promote a version into the idle slot with a share of production traffic, or start its rollout (the
    /// environment's `rollout`, or any of the rollout options), as `promote` would.
    Promote {
        #[arg(value_name = "VERSION")]
        name: String,
        /// Percent of production traffic, 1 to 100; without a rollout, 100.
        #[arg(long, value_parser = parse_share)]
        share: Option<u8>,
        #[command(flatten)]
        rollout: RolloutArgs,
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
    /// The change proposed, with `base` the environment's rollout.
    pub(crate) fn request(&self, base: Option<&Rollout>) -> Change {
        match self {
            Proposed::Create => Change::Create,
            Proposed::Deploy { name } => Change::Deploy { version: name.clone() },
            Proposed::Promote { name, share, rollout } => rollout.promotion(name, *share, base),
            Proposed::Shift { share } => Change::SetShare { share: *share },
            Proposed::Complete => Change::Complete,
            Proposed::Rollback => Change::Rollback,
            Proposed::Retire { name } => Change::Retire { version: name.clone() },
            Proposed::Cleanup => Change::Cleanup,
        }
    }
}

pub(crate) fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    switchyard_model::Duration::parse(s).map(|d| std::time::Duration::from_millis(d.as_millis()))
}

pub(crate) fn parse_share(s: &str) -> Result<u8, String> {
    s.trim_end_matches('%').parse::<u8>().map_err(|_| format!("{s:?} is not a share; give a percent from 1 to 100"))
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    pub(crate) fn the_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }

    #[test]
    pub(crate) fn shares_accept_a_percent_sign() {
        assert_eq!(super::parse_share("10%"), Ok(10));
        assert_eq!(super::parse_share("50"), Ok(50));
        assert!(super::parse_share("ten").is_err());
    }
}
