//! What every command shares: how it fails (exit 1 or 2), the spec read and checked, the clock, the backend the
//! global options choose, and the app and environment a command is about.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context as _, Result, anyhow};
use switchyard_model::policy::Source;
use switchyard_model::traefik_files::{self, UserFile};
use switchyard_model::{Diagnostic, EnvKey, Severity, Spec, Timestamp, ValidSpec};

use crate::args::{Cli, Target};
use crate::backend::Backend;
use crate::docker;
use crate::gate::Gate;
use crate::local::LocalBackend;
use crate::report;
use crate::routing::Routed;
use crate::store::Store;
use crate::traefik_api;

/// Exit codes: 0 done, 1 refused (problems in the spec or the request, health gate closed), 2 could not run.
pub(crate) enum Failure {
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

pub(crate) struct Session {
    pub(crate) spec: ValidSpec,
    pub(crate) now: Timestamp,
    pub(crate) actor: String,
    /// The spec's file and text, for policies.
    pub(crate) source: Option<Source>,
    /// The policies every change must pass.
    pub(crate) gate: Option<Gate>,
    /// The user's own Traefik files (`traefik.files`), as read beside the spec: a change ships them.
    pub(crate) files: Vec<UserFile>,
}

pub(crate) fn load_spec(path: &Path) -> Result<ValidSpec, Failure> {
    Ok(load_spec_with_source(path)?.0)
}

pub(crate) fn load_spec_with_source(path: &Path) -> Result<(ValidSpec, Source), Failure> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("could not read the spec {}; give its path with --spec", path.display()))?;
    let file = path.display().to_string();
    Ok((parse_spec(&text, &file)?, Source { file, text }))
}

/// Reads the files of the spec's `traefik.files`, relative to the spec at `spec_path`; what cannot be read is
/// kept with the reason (the model's check reports it at its line in the spec).
pub(crate) fn read_user_files(spec: &Spec, spec_path: &Path) -> Vec<UserFile> {
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

/// The user's files of a spec, checked with what the spec names in them ([`traefik_files::diagnose`]): errors
/// refuse (exit 1) before anything else happens, warnings are shown.
pub(crate) fn load_user_files(spec: &ValidSpec, source: &Source, spec_path: &Path) -> Result<Vec<UserFile>, Failure> {
    let files = read_user_files(&spec.spec, spec_path);
    let found = traefik_files::diagnose(&spec.spec, &source.text, &source.file, &files);
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

pub(crate) fn parse_spec(text: &str, file: &str) -> Result<ValidSpec, Failure> {
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

pub(crate) fn clock(now: Option<&str>) -> Result<Timestamp> {
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

/// The backend for a command that asks Traefik (`status`, a rollout's metrics): the local one asks Traefik's API
/// where `--traefik-api` (else `SWITCHYARD_TRAEFIK_API`) says. The variable is not an option's default: set for a
/// local Traefik, it must not refuse the command on a Docker host.
pub(crate) fn traefik_backend(
    cli: &Cli,
    spec: &ValidSpec,
    traefik_api: Option<&str>,
) -> Result<Box<dyn Backend>, Failure> {
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
            Ok(Routed::wrap(Box::new(LocalBackend::new(store).with_traefik_api(api)), spec, cli.lock_ttl)?)
        }
        None => Ok(backend(cli, spec)?),
    }
}

/// The backend the global options choose, with the environments of `spec` that name a store kept there.
pub(crate) fn backend(cli: &Cli, spec: &ValidSpec) -> Result<Box<dyn Backend>> {
    let inner: Box<dyn Backend> = if cli.docker || cli.context.is_some() {
        Box::new(docker::DockerBackend::connect(docker_options(cli))?)
    } else {
        Box::new(LocalBackend::new(Store::new(&cli.dir, cli.dynamic_dir.as_deref())))
    };
    Routed::wrap(inner, spec, cli.lock_ttl)
}

pub(crate) fn docker_options(cli: &Cli) -> docker::DockerOptions {
    docker::DockerOptions {
        context: cli.context.clone(),
        proxy: cli.proxy.clone(),
        spec_dir: cli.spec.parent().map(Path::to_path_buf).unwrap_or_default(),
        health_timeout: cli.health_timeout,
        lock_ttl: cli.lock_ttl,
    }
}

/// The app and environment a command is about; either may be left out when there is only one.
pub(crate) fn resolve(spec: &ValidSpec, target: &Target) -> Result<EnvKey, Failure> {
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

pub(crate) fn refuse(message: String) -> Failure {
    Failure::Refused(format!("error: {message}\n"))
}

pub(crate) fn refuse_diagnostic(d: &Diagnostic) -> Failure {
    Failure::Refused(report::render(std::slice::from_ref(d), None))
}

/// A session for `spec`: the clock and the actor the global options give.
/// The session of a command that changes something: the spec with its source and the user's files read, the
/// policies opened; and the environment `opts` names.
pub(crate) fn change_session(cli: &Cli, opts: &crate::args::ChangeOpts) -> Result<(Session, EnvKey), Failure> {
    let (spec, source) = load_spec_with_source(&cli.spec)?;
    let files = load_user_files(&spec, &source, &cli.spec)?;
    let mut s = session(cli, spec)?;
    s.source = Some(source);
    s.files = files;
    s.gate = opts.policy.gate()?;
    let key = resolve(&s.spec, &opts.target)?;
    Ok((s, key))
}

pub(crate) fn session(cli: &Cli, spec: ValidSpec) -> Result<Session, Failure> {
    Ok(Session {
        spec,
        now: clock(cli.now.as_deref())?,
        actor: cli.actor.clone().or_else(|| std::env::var("USER").ok()).unwrap_or_else(|| "unknown".into()),
        source: None,
        gate: None,
        files: Vec::new(),
    })
}
