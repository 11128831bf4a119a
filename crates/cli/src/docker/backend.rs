//! The Docker backend: carries out plans on a Docker host through bollard (the executor's side of
//! [`Backend`]).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow, bail};
use bollard::Docker;
use switchyard_model::directory::{SHIPPED_LIST, Shipment};
use switchyard_model::naming;
use switchyard_model::plan::{Probe, Step};
use switchyard_model::render::to_yaml;
use switchyard_model::state::HealthStatus;
use switchyard_model::{EnvKey, EnvState, Outcome, Timestamp, World};
use tokio::runtime::Runtime;

use super::cache::{self, CacheFile, HostCache};
use super::commit::{COMMIT, REPLAY, atomic_commit_script, audit_line, removal_renames};
use super::host::{self, ProxyHost};
use super::{DockerOptions, connect, direct, install, provider_dir, runtime, stack};
use crate::backend::Backend;
use crate::fsio::read_provider_dir;
use crate::store::LockHolder;

pub(crate) struct DockerBackend {
    rt: Runtime,
    host: ProxyHost,
    opts: DockerOptions,
    /// Files to write (directory under /switchyard, name, contents), flushed together.
    pending: Vec<(String, String, Vec<u8>)>,
    /// The audit file and line to append with the next flush.
    pending_audit: Option<(String, String)>,
    /// The lock this backend holds (`<app>_<env>`).
    held_lock: Option<String>,
    /// Every environment's state, read together with taking the lock.
    world: Option<World>,
    /// What this machine remembers about the host ([`cache`]).
    cache_file: CacheFile,
    cache: HostCache,
    /// What a routing-only change was planned on, checked again when it commits.
    basis: Option<Basis>,
    /// The lock was taken over or broken: a change may have been cut short under it.
    took_over: bool,
    /// Traefik's provider directory as read with the world ([`provider_dir`]).
    dynamic: Option<Vec<(String, String)>>,
    /// The user's files the change ships ([`Backend::ship`]), and whether its writes are queued already.
    shipment: Shipment,
    shipped_writes: bool,
    /// Files of Traefik's directory to remove with the next flush (moved out of it by the journal).
    pending_removals: Vec<String>,
    /// The last [`Backend::load_world_for_commit`] answered from the cache.
    from_memory: bool,
}

/// Where the state a change was planned on came from, its revisions and the fingerprint of Traefik's
/// directory ([`provider_dir::fingerprint`]).
#[derive(Debug, Clone)]
enum Basis {
    /// Read from the local directory that is the proxy's `/switchyard` ([`direct`]).
    Direct { root: PathBuf, expected: (String, usize), dynamic: String },
    /// Read from the host, or from the cache; the host checks the revisions and the directory when it commits.
    Remote { expected: (String, usize), dynamic: String },
}

impl DockerBackend {
    pub(crate) fn connect(opts: DockerOptions) -> Result<Self> {
        let rt = runtime()?;
        let endpoint = connect::resolve(&connect::Inputs::from_process(opts.context.clone()))?;
        let cache_file = CacheFile::new(&endpoint.host, &opts.proxy);
        let mut cache = cache_file.read();
        let docker = rt.block_on(connect::connect(&endpoint, cache.api_version.as_deref()))?;
        let version = connect::format_version(&docker);
        if cache.api_version.as_deref() != Some(version.as_str()) {
            cache.api_version = Some(version);
            cache_file.write(&cache);
        }
        let host = ProxyHost { docker, container: opts.proxy.clone() };
        Ok(DockerBackend {
            rt,
            host,
            opts,
            pending: Vec::new(),
            pending_audit: None,
            held_lock: None,
            world: None,
            cache_file,
            cache,
            basis: None,
            took_over: false,
            dynamic: None,
            shipment: Shipment::default(),
            shipped_writes: true,
            pending_removals: Vec::new(),
            from_memory: false,
        })
    }

    /// Remembers Traefik's directory as it is now.
    fn remember_dynamic(&mut self, files: Vec<(String, String)>) {
        self.cache.dynamic = Some(files.clone());
        self.cache_file.write(&self.cache);
        self.dynamic = Some(files);
    }

    /// Every state and Traefik's directory, read in one command (no lock): for a change whose plan this
    /// machine cannot take from what it remembers.
    fn read_host(&mut self) -> Result<(World, Vec<(String, String)>)> {
        let script = format!(
            r#"for f in /switchyard/state/*.json; do
  [ -e "$f" ] || continue
  printf '\036%s\n' "${{f##*/}}"
  cat "$f"
done
{}"#,
            provider_dir::DUMP
        );
        let out = self.rt.block_on(self.host.script(&script, &[], &[]))?;
        if out.code != 0 {
            bail!("could not read {}:/switchyard (exit {}): {}", self.host.container, out.code, out.stderr.trim());
        }
        let (states, files) = provider_dir::split_dump(&out.raw)
            .with_context(|| format!("could not read {}:/switchyard/dynamic", self.host.container))?;
        let world = self.parse_states(&states)?;
        self.remember(&world);
        self.remember_dynamic(files.clone());
        Ok((world, files))
    }

    /// The files of the shipment that go in first (definitions before references), once.
    fn take_shipped_writes(&mut self) -> Vec<(String, String, Vec<u8>)> {
        if std::mem::replace(&mut self.shipped_writes, true) {
            return Vec::new();
        }
        self.shipment.writes.iter().map(|(n, t)| ("dynamic".to_string(), n.clone(), t.clone().into_bytes())).collect()
    }

    /// Queues the rest of the shipment: the list of shipped files and the removals, after everything else.
    fn queue_shipment_rest(&mut self) {
        let shipment = std::mem::take(&mut self.shipment);
        if let Some(list) = shipment.list {
            self.pending.push(("dynamic".into(), SHIPPED_LIST.into(), list.into_bytes()));
        }
        self.pending_removals.extend(shipment.removals);
    }

    /// Remembers `world` as the host's current state.
    fn remember(&mut self, world: &World) {
        self.cache.set_world(world);
        self.cache_file.write(&self.cache);
    }

    /// Remembers one environment's new state.
    fn remember_state(&mut self, state: &EnvState) {
        let mut world = self.cache.world().unwrap_or_default();
        world.insert(EnvKey::new(&state.app, &state.env), state.clone());
        self.remember(&world);
    }

    /// The local directory that is the proxy's `/switchyard`, checked with one inspect request; remembered when
    /// there is none, so a remote host costs nothing more.
    fn direct_root(&mut self) -> Option<PathBuf> {
        if self.cache.direct == Some(cache::DirectCheck::Unavailable)
            || std::env::var_os("SWITCHYARD_NO_DIRECT").is_some()
        {
            return None;
        }
        let root = self.rt.block_on(direct::probe(&self.host.docker, &self.opts.proxy));
        let check = match &root {
            Some(source) => cache::DirectCheck::Local { source: source.clone() },
            None => cache::DirectCheck::Unavailable,
        };
        if self.cache.direct.as_ref() != Some(&check) {
            self.cache.direct = Some(check);
            self.cache_file.write(&self.cache);
        }
        root
    }

    /// Writes the queued files (and audit line) in one upload and one command, the shipment's writes first;
    /// with `release`, the lock is removed by the same command.
    fn flush_pending(&mut self, release: bool) -> Result<()> {
        let release = if release { self.held_lock.take() } else { None };
        let mut files = self.take_shipped_writes();
        files.append(&mut self.pending);
        let removals = std::mem::take(&mut self.pending_removals);
        if files.is_empty() && removals.is_empty() && self.pending_audit.is_none() && release.is_none() {
            return Ok(());
        }
        let audit = self.pending_audit.take();
        let name = release.clone().or_else(|| self.held_lock.clone()).unwrap_or_default();
        let written: Vec<(String, String)> = files
            .iter()
            .filter(|(dir, _, _)| dir == "dynamic")
            .map(|(_, n, data)| (n.clone(), String::from_utf8_lossy(data).into_owned()))
            .collect();
        let result = self.rt.block_on(self.write_files(&name, files, &removals, audit, release));
        // What the directory is now, for the next routing-only change (checked again when it commits).
        match (&result, self.dynamic.take()) {
            (Ok(()), Some(before)) => {
                let shipment = Shipment { writes: written, removals, list: None };
                self.remember_dynamic(shipment.apply(&before, &[]));
            }
            _ => {
                self.cache.dynamic = None;
                self.cache_file.write(&self.cache);
            }
        }
        result
    }

    fn parse_states(&self, dump: &str) -> Result<World> {
        let mut world = World::new();
        for chunk in dump.split('\u{1e}').skip(1) {
            let (name, text) = chunk.split_once('\n').unwrap_or((chunk, ""));
            let state: EnvState = serde_json::from_str(text).with_context(|| {
                format!("{}:/switchyard/state/{name} is not a switchyard state file", self.host.container)
            })?;
            world.insert(EnvKey::new(&state.app, &state.env), state);
        }
        Ok(world)
    }

    fn docker(&self) -> &Docker {
        &self.host.docker
    }

    async fn write_files(
        &self,
        name: &str,
        files: Vec<(String, String, Vec<u8>)>,
        removals: &[String],
        audit: Option<(String, String)>,
        release: Option<String>,
    ) -> Result<()> {
        // Upload every file under a temporary name, then, in one command, commit them through the journal
        // (renames and the audit line), and release the lock.
        let uploads: Vec<(String, Vec<u8>)> =
            files.iter().map(|(dir, n, data)| (host::staged(dir, n), data.clone())).collect();
        let mut script = String::from("set -e\nname=\"$1\"; lock=\"$2\"; shift 2\ntar -x -f - -C /switchyard\n");
        script.push_str(COMMIT);
        script.push_str("if [ -n \"$lock\" ]; then rm -rf \"/switchyard/locks/$lock\"; fi\n");
        let mut args: Vec<String> = vec![name.to_string(), release.unwrap_or_default()];
        for (dir, n, _) in &files {
            args.push(format!("{}/{}", host::ROOT, host::staged(dir, n)));
            args.push(format!("{}/{dir}/{n}", host::ROOT));
        }
        args.extend(removal_renames(removals));
        let line = audit.map(|(_, line)| line).unwrap_or_default();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let tar = host::archive(&uploads)?;
        let out = self.host.script_with_input(&script, &args, &[("AUDIT", line.as_str())], &tar).await?;
        if out.code != 0 {
            bail!("could not write to {}:/switchyard (exit {}): {}", self.host.container, out.code, out.stderr.trim());
        }
        Ok(())
    }

    async fn wait_healthy(&self, version: &str, stack: &str, probes: &[Probe], out: &mut dyn Write) -> Result<()> {
        let deadline = Instant::now() + self.opts.health_timeout;
        let mut last = String::new();
        loop {
            let mut problems = Vec::new();
            for probe in probes {
                let rest = probe.url.trim_start_matches("http://");
                let container = rest.rsplit_once(':').map_or(rest, |(c, _)| c);
                let info = match self.docker().inspect_container(container, None).await {
                    Ok(info) => info,
                    Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => {
                        problems.push(format!("{}: no container {container}", probe.service));
                        continue;
                    }
                    // The engine restarting (or the connection lost) is waited out like an unhealthy service.
                    Err(e) => {
                        problems.push(format!("Docker does not answer ({})", connect::short_error(&e)));
                        break;
                    }
                };
                let state = info.state.clone().unwrap_or_default();
                if state.running != Some(true) {
                    problems.push(format!("{}: container not running", probe.service));
                    continue;
                }
                // Docker's own health check, when the image or compose file has one.
                if let Some(status) = state.health.and_then(|h| h.status) {
                    use bollard::models::HealthStatusEnum as H;
                    if status != H::HEALTHY && status != H::NONE && status != H::EMPTY {
                        problems.push(format!("{}: Docker health {status}", probe.service));
                        continue;
                    }
                }
                // The check Traefik makes, by the same URL, from inside the stack's network (the proxy is
                // connected to it). The time limit is enforced here rather than with wget's -T, which not every
                // wget has.
                let on_network = info.network_settings.and_then(|n| n.networks).is_some_and(|n| n.contains_key(stack));
                if !on_network {
                    problems.push(format!("{}: {container} is not on the network {stack}", probe.service));
                    continue;
                }
                let url = format!("{}{}", probe.url, probe.path);
                let limit = Duration::from_millis(probe.timeout_ms.max(100));
                match tokio::time::timeout(limit, self.host.exec(&["wget", "-q", "-O", "/dev/null", &url], &[])).await {
                    Ok(Err(e)) => {
                        problems.push(format!("{}: could not probe from {}: {e:#}", probe.service, self.host.container))
                    }
                    Ok(Ok(res)) => {
                        if res.code != 0 {
                            let why = match res.stderr.trim() {
                                "" => format!("exit {}", res.code),
                                e => e.to_string(),
                            };
                            problems.push(format!("{}: {url} ({why})", probe.service));
                        }
                    }
                    Err(_) => {
                        problems.push(format!("{}: {url} (no answer within {}ms)", probe.service, limit.as_millis()))
                    }
                }
            }
            if problems.is_empty() {
                return Ok(());
            }
            let now = problems.join("; ");
            if now != last {
                writeln!(out, "      waiting for {version}: {now}")?;
                last = now;
            }
            if Instant::now() > deadline {
                bail!(
                    "{version} did not become healthy within {}s ({last}); traffic stays where it is",
                    self.opts.health_timeout.as_secs()
                );
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

impl Backend for DockerBackend {
    fn commits_atomically(&self, _key: &EnvKey) -> bool {
        true
    }

    fn commit_atomically(
        &mut self,
        holder: &LockHolder,
        outcome: &Outcome,
        out: &mut dyn Write,
    ) -> Result<Option<EnvState>> {
        let state = &outcome.state;
        let name = naming::env_stem(&state.app, &state.env);
        // The user's files the change ships (definitions first), the configuration the plan ends with, the
        // state and its revision marker, the list of shipped files; then the files no longer shipped go.
        let mut files = self.take_shipped_writes();
        let mut config_file = None;
        if let Some(Step::WriteConfig { file, config, .. }) =
            outcome.plan.steps.iter().rev().find(|s| matches!(s, Step::WriteConfig { .. }))
        {
            let text = to_yaml(config)?;
            config_file = Some((file.clone(), text.clone()));
            files.push(("dynamic".into(), file.clone(), text.into_bytes()));
        }
        let mut text = serde_json::to_string_pretty(state)?;
        text.push('\n');
        files.push(("state".into(), format!("{name}.json"), text.into_bytes()));
        files.push(("state".into(), format!("{name}.rev"), state.revision.to_string().into_bytes()));
        let shipment = std::mem::take(&mut self.shipment);
        if let Some(list) = &shipment.list {
            files.push(("dynamic".into(), SHIPPED_LIST.into(), list.clone().into_bytes()));
        }
        let (audit_file, audit) = audit_line(state).unwrap_or_default();
        let holder_json = serde_json::to_string(holder)?;
        let basis = match self.basis.take() {
            Some(basis) => basis,
            None => {
                let (world, dynamic) = self.read_host()?;
                Basis::Remote { expected: cache::fingerprint(&world), dynamic: provider_dir::fingerprint(&dynamic) }
            }
        };
        let (done, place) = match basis {
            Basis::Direct { root, expected, dynamic } => {
                let commit = direct::Commit {
                    lock: &name,
                    holder_json: &holder_json,
                    expected: &expected,
                    dynamic: &dynamic,
                    files: &files,
                    removals: &shipment.removals,
                    audit: (&audit_file, &audit),
                };
                let done = direct::commit(&root, &commit)? == direct::Committed::Done;
                (done, format!("{} (directly; it is {}:/switchyard)", root.display(), self.host.container))
            }
            Basis::Remote { expected, dynamic } => {
                let uploads: Vec<(String, Vec<u8>)> =
                    files.iter().map(|(dir, n, data)| (host::staged(dir, n), data.clone())).collect();
                let _ = audit_file;
                let mut args: Vec<String> = vec![name.clone()];
                for (dir, n, _) in &files {
                    args.push(format!("{}/{}", host::ROOT, host::staged(dir, n)));
                    args.push(format!("{}/{dir}/{n}", host::ROOT));
                }
                args.extend(removal_renames(&shipment.removals));
                let host = self.host.clone();
                let tar = host::archive(&uploads)?;
                let count = expected.1.to_string();
                let upload_count = files.len().to_string();
                let result = self.rt.block_on(async move {
                    let args: Vec<&str> = args.iter().map(String::as_str).collect();
                    let env = [
                        ("HOLDER", holder_json.as_str()),
                        ("AUDIT", audit.as_str()),
                        ("EXPECTED", expected.0.as_str()),
                        ("COUNT", count.as_str()),
                        ("DYNSUM", dynamic.as_str()),
                        ("UPLOADS", upload_count.as_str()),
                    ];
                    host.script_with_input(&atomic_commit_script(), &args, &env, &tar).await
                })?;
                let done = match result.code {
                    0 => true,
                    3 | 4 => false,
                    code => bail!(
                        "could not write to {}:/switchyard (exit {code}): {}",
                        self.host.container,
                        result.stderr.trim()
                    ),
                };
                (done, format!("{}:/switchyard", self.host.container))
            }
        };
        if !done {
            // Whatever was remembered is out of date.
            self.cache.states = None;
            self.cache.dynamic = None;
            self.cache_file.write(&self.cache);
            self.dynamic = None;
            return Ok(None);
        }
        if let Some(before) = self.dynamic.take() {
            let configs: Vec<(String, String)> = config_file.into_iter().collect();
            self.remember_dynamic(shipment.apply(&before, &configs));
        }
        self.remember_state(state);
        for (i, step) in outcome.plan.steps.iter().enumerate() {
            writeln!(out, "[{}/{}] {step}", i + 1, outcome.plan.steps.len())?;
        }
        writeln!(out, "      written in one step in {place}")?;
        Ok(Some(state.clone()))
    }

    fn runtime_view(&mut self, state: &EnvState) -> Result<Vec<String>> {
        let docker = self.host.docker.clone();
        let proxy = self.opts.proxy.clone();
        self.rt.block_on(async move {
            let mut lines = Vec::new();
            let proxy_networks: Vec<String> = docker
                .inspect_container(&proxy, None)
                .await
                .ok()
                .and_then(|i| i.network_settings)
                .and_then(|n| n.networks)
                .map(|n| n.into_keys().collect())
                .unwrap_or_default();
            for d in &state.deployments {
                let containers = stack::containers(&docker, &d.stack).await?;
                let network = if docker.inspect_network(&d.stack, None).await.is_ok() { "present" } else { "MISSING" };
                let connected = if proxy_networks.contains(&d.stack) { "connected" } else { "NOT connected" };
                lines.push(format!("{} ({}): network {network}, Traefik {connected}", d.version, d.stack));
                if containers.is_empty() {
                    lines.push("    no containers".into());
                }
                for (name, status) in containers {
                    lines.push(format!("    {name}: {status}"));
                }
            }
            Ok(lines)
        })
    }

    fn traefik(&mut self) -> Result<Option<crate::backend::TraefikView>> {
        let proxy = self.opts.proxy.clone();
        let source = format!("the proxy's API, {} in {proxy}", switchyard_model::proxy::INTERNAL_ADDRESS);
        let rawdata = self.ask_internal("/api/rawdata", "API")?;
        self.rt.block_on(async {
            // The log since the proxy started, bounded too: a long-running proxy may have a long one.
            let provider_failure =
                tokio::time::timeout(Duration::from_secs(10), install::provider_failure(&self.host.docker, &proxy))
                    .await
                    .map_err(|_| anyhow!("the proxy's log ({proxy}) could not be read within 10s"))??;
            Ok(Some(crate::backend::TraefikView { source, rawdata, provider_failure }))
        })
    }

    fn metrics(&mut self) -> Result<String> {
        self.ask_internal("/metrics", "metrics")
    }

    fn host_view(&mut self, key: &EnvKey, config_file: &str) -> Result<crate::backend::HostView> {
        let name = naming::env_stem(&key.app, &key.env);
        // One command: the file, the lock holder and whether a journal waits, separated by \036.
        let script = r#"cat "/switchyard/dynamic/$2" 2>/dev/null || printf '\035'
printf '\036'
cat "/switchyard/locks/$1/holder" 2>/dev/null
printf '\036'
[ -e "/switchyard/state/.$1.journal" ] && printf journal
exit 0"#;
        let out = self.rt.block_on(self.host.script(script, &[&name, config_file], &[]))?;
        let mut parts = out.stdout.split('\u{1e}');
        let config = parts.next().filter(|c| *c != "\u{1d}").map(str::to_string);
        let lock = parts.next().and_then(|t| serde_json::from_str(t).ok());
        let journal = parts.next().is_some_and(|t| t.contains("journal"));
        Ok(crate::backend::HostView { config, lock, journal, store: None })
    }

    fn lock(&mut self, key: &EnvKey, holder: &LockHolder, break_lock: bool) -> Result<()> {
        let name = naming::env_stem(&key.app, &key.env);
        let holder_json = serde_json::to_string(holder)?;
        // Takes the lock and, in the same command, reads every state: one round trip for both.
        let script = format!(
            r#"d="/switchyard/locks/$1"; name="$1"
mkdir -p /switchyard/locks /switchyard/state
if [ "$2" = break ]; then rm -rf "$d"; fi
if mkdir "$d" 2>/dev/null; then
  printf '%s' "$HOLDER" > "$d/holder"
{REPLAY}
  for f in /switchyard/state/*.json; do
    [ -e "$f" ] || continue
    printf '\036%s\n' "${{f##*/}}"
    cat "$f"
  done
{dump}  exit 0
fi
cat "$d/holder" 2>/dev/null
exit 3"#,
            dump = provider_dir::DUMP
        );
        self.took_over = break_lock;
        for attempt in 0..2 {
            let mode = if break_lock || attempt == 1 { "break" } else { "keep" };
            let out = self.rt.block_on(self.host.script(
                &script,
                &[name.as_str(), mode],
                &[("HOLDER", holder_json.as_str())],
            ))?;
            match out.code {
                0 => {
                    let (states, dynamic) = provider_dir::split_dump(&out.raw)
                        .with_context(|| format!("could not read {}:/switchyard/dynamic", self.host.container))?;
                    if states.split('\u{1e}').next().is_some_and(|head| head.contains("switchyard-replayed")) {
                        eprintln!("note: finished the change to {key} that was interrupted after its commit point");
                    }
                    let world = self.parse_states(&states)?;
                    self.remember(&world);
                    self.remember_dynamic(dynamic);
                    self.world = Some(world);
                    self.held_lock = Some(name);
                    return Ok(());
                }
                3 => {
                    let held: Option<LockHolder> = serde_json::from_str(&out.stdout).ok();
                    let expired = held
                        .as_ref()
                        .is_some_and(|h| holder.since.0.saturating_sub(h.since.0) > self.opts.lock_ttl.as_secs());
                    let dead = held.as_ref().is_some_and(LockHolder::is_dead);
                    let who = held.as_ref().map_or_else(|| "an unknown holder".to_string(), LockHolder::describe);
                    if (expired || dead) && attempt == 0 {
                        let why = if dead { "its process is gone" } else { "it is older than --lock-ttl" };
                        eprintln!("warning: taking over the stale lock of {key} held by {who}: {why}");
                        self.took_over = true;
                        continue;
                    }
                    bail!(
                        "{key} is locked by {who}; wait for that change to finish, or if it died, run again with --break-lock"
                    );
                }
                code => bail!("could not take the lock of {key} (exit {code}): {}", out.stderr.trim()),
            }
        }
        bail!("could not take the lock of {key}")
    }

    fn unlock(&mut self, _key: &EnvKey) -> Result<()> {
        // Usually released already, by the command that saved the state.
        if let Some(name) = self.held_lock.take() {
            self.rt.block_on(self.host.sh("rm -rf \"/switchyard/locks/$1\"", &[&name], &[]))?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        self.flush_pending(false)
    }

    fn load_world(&mut self) -> Result<World> {
        if let Some(world) = self.world.take() {
            return Ok(world);
        }
        let files = self.rt.block_on(self.host.read_dir("state"))?;
        let mut world = World::new();
        for (name, data) in files {
            if !name.ends_with(".json") || name.starts_with('.') {
                continue;
            }
            let state: EnvState = serde_json::from_slice(&data).with_context(|| {
                format!("{}:/switchyard/state/{name} is not a switchyard state file", self.host.container)
            })?;
            world.insert(EnvKey::new(&state.app, &state.env), state);
        }
        self.remember(&world);
        Ok(world)
    }

    fn load_world_for_commit(&mut self) -> Result<World> {
        if let Some(root) = self.direct_root() {
            match direct::read_world(&root).and_then(|w| Ok((w, read_provider_dir(&root.join("dynamic"))?))) {
                Ok((world, dynamic)) => {
                    self.basis = Some(Basis::Direct {
                        root,
                        expected: cache::fingerprint(&world),
                        dynamic: provider_dir::fingerprint(&dynamic),
                    });
                    self.dynamic = Some(dynamic);
                    return Ok(world);
                }
                Err(e) => {
                    // Not readable from here after all (permissions): the host's own copy is the same.
                    eprintln!("note: not writing {} directly: {e:#}", root.display());
                    self.cache.direct = Some(cache::DirectCheck::Unavailable);
                    self.cache_file.write(&self.cache);
                }
            }
        }
        let (world, dynamic) = match (self.cache.world(), self.cache.dynamic.clone()) {
            (Some(world), Some(dynamic)) => {
                self.from_memory = true;
                (world, dynamic)
            }
            _ => self.read_host()?,
        };
        self.basis =
            Some(Basis::Remote { expected: cache::fingerprint(&world), dynamic: provider_dir::fingerprint(&dynamic) });
        self.dynamic = Some(dynamic);
        Ok(world)
    }

    fn provider_files(&mut self) -> Result<Vec<(String, String)>> {
        if let Some(files) = &self.dynamic {
            return Ok(files.clone());
        }
        Ok(self.read_host()?.1)
    }

    fn provider_dir(&self) -> String {
        format!("{}:{}", self.host.container, switchyard_model::proxy::DYNAMIC_DIR)
    }

    fn ship(&mut self, shipment: Shipment) {
        self.shipped_writes = shipment.writes.is_empty();
        self.shipment = shipment;
    }

    fn ship_now(&mut self) -> Result<()> {
        self.queue_shipment_rest();
        self.flush_pending(false)
    }

    fn answered_from_memory(&self) -> bool {
        self.from_memory
    }

    fn took_over(&self) -> bool {
        self.took_over
    }

    fn forget(&mut self) {
        self.cache.states = None;
        self.cache.dynamic = None;
        self.cache.api_version = None;
        self.cache.direct = None;
        self.cache_file.write(&self.cache);
    }

    fn step(
        &mut self,
        step: &Step,
        state: &mut EnvState,
        now: Timestamp,
        out: &mut dyn Write,
    ) -> Result<Option<String>> {
        let docker = self.host.docker.clone();
        if !matches!(step, Step::WriteConfig { .. } | Step::SaveState { .. }) {
            // Whatever this step does may depend on the configuration written before it.
            self.flush_pending(false)?;
        }
        Ok(match step {
            Step::CreateStack { stack, version, compose, services, variables, .. } => {
                let path = self.opts.spec_dir.join(compose);
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("could not read the compose file {}", path.display()))?;
                let options = switchyard_compose::Options {
                    stack: stack.clone(),
                    variables: variables.clone(),
                    routed: services.iter().cloned().collect(),
                };
                let file = path.display().to_string();
                let parsed = switchyard_compose::parse(&text, &file, &options)
                    .map_err(|d| anyhow!("{}", crate::report::render(&d, Some(&text))))?;
                let dir = path.parent().map(PathBuf::from).unwrap_or_default();
                let mut env_files = BTreeMap::new();
                for f in parsed.env_files() {
                    let p = if f.relative { dir.join(&f.path) } else { PathBuf::from(&f.path) };
                    match std::fs::read_to_string(&p) {
                        Ok(t) => {
                            env_files.insert(f.path.clone(), t);
                        }
                        Err(_) if !f.required => {}
                        Err(e) => {
                            return Err(e).with_context(|| format!("could not read the env file {}", p.display()));
                        }
                    }
                }
                let project =
                    parsed.finish(&env_files).map_err(|d| anyhow!("{}", crate::report::render(&d, Some(&text))))?;
                let labels = stack::labels(&state.app, &state.env, version, stack, "app");
                self.rt.block_on(stack::create(&docker, &project, &labels, &dir, out))?;
                None
            }
            Step::ConnectProxy { network } => {
                self.rt.block_on(stack::connect_proxy(&docker, &self.opts.proxy, network))?;
                None
            }
            Step::DisconnectProxy { network } => {
                self.rt.block_on(stack::disconnect_proxy(&docker, &self.opts.proxy, network))?;
                None
            }
            Step::RemoveStack { stack, .. } => {
                let n = self.rt.block_on(stack::remove(&docker, stack))?;
                Some(format!("removed {n} containers"))
            }
            Step::WriteConfig { file, config, .. } => {
                // Written with the next step that needs it live (a health wait) or with the state.
                self.pending.push(("dynamic".into(), file.clone(), to_yaml(config)?.into_bytes()));
                None
            }
            Step::WaitHealthy { version, stack, probes } => {
                self.rt.block_on(self.wait_healthy(version, stack, probes, out))?;
                state.record_health(version, HealthStatus::Healthy, now);
                Some(format!("{version} is healthy"))
            }
            Step::SaveState { .. } => {
                let name = naming::env_stem(&state.app, &state.env);
                let mut text = serde_json::to_string_pretty(state)?;
                text.push('\n');
                let audit = audit_line(state);
                self.pending.push(("state".into(), format!("{name}.json"), text.into_bytes()));
                self.pending.push(("state".into(), format!("{name}.rev"), state.revision.to_string().into_bytes()));
                self.pending_audit = audit;
                self.queue_shipment_rest();
                let files = self.pending.iter().map(|(d, n, _)| format!("{d}/{n}")).collect::<Vec<_>>().join(", ");
                self.flush_pending(true)?;
                self.remember_state(state);
                Some(format!("wrote {files} in {}:/switchyard", self.host.container))
            }
            other => bail!("the Docker backend cannot carry out: {other}"),
        })
    }
}

impl DockerBackend {
    /// GETs `path` from Traefik's internal entry point inside the proxy container (nothing is published): its
    /// API (`what`: for messages) or its metrics.
    fn ask_internal(&mut self, path: &str, what: &str) -> Result<String> {
        let url = format!("http://{}{path}", switchyard_model::proxy::INTERNAL_ADDRESS);
        let proxy = self.opts.proxy.clone();
        self.rt.block_on(async {
            // busybox wget in the proxy (busybox's `wget -T` crashes in some builds); the URL reaches the shell as
            // an argument only. Bounded in the container by `timeout` where there is one, so no wget is left
            // waiting there, and here in any case.
            let args = [url.as_str(), "10"];
            let script = r#"if command -v timeout >/dev/null 2>&1; then timeout "$2" wget -q -O - "$1"; else wget -q -O - "$1"; fi"#;
            let asked = self.host.script(script, &args, &[]);
            let out = tokio::time::timeout(Duration::from_secs(15), asked)
                .await
                .map_err(|_| anyhow!("Traefik's {what} ({url} in {proxy}) did not answer within 15s"))??;
            if out.code == 143 || out.code == 124 {
                bail!("Traefik's {what} ({url} in {proxy}) did not answer within 10s: is Traefik stuck?");
            }
            if out.code != 0 {
                bail!(
                    "Traefik's {what} could not be read in {proxy} ({url}: {}); `switchyard --docker install` runs \
                     Traefik with its API and metrics there",
                    out.stderr.trim()
                );
            }
            Ok(out.stdout)
        })
    }
}
