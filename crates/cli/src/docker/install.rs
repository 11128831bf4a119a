//! `install`: the proxy container (Traefik) with the static configuration the model computes
//! ([`switchyard_model::proxy`]), switchyard's directory in its volume, and a default certificate of its own.
//!
//! The directory is made before Traefik first starts (a file provider pointed at a missing directory fails for
//! good): the container is created, the directories and files are uploaded into it, and only then is it
//! started. The container carries a fingerprint of everything it was created with; running `install` again
//! with the same spec and options leaves a healthy proxy alone (no restart, no dropped request), and replaces
//! one created differently (an older switchyard, other options) or whose file provider failed, keeping its
//! volume and its stack networks.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context as _, Result, anyhow, bail};
use bollard::Docker;
use bollard::models::{
    ContainerCreateBody, ContainerInspectResponse, HostConfig, Mount, MountType, PortBinding, RestartPolicy,
    RestartPolicyNameEnum, VolumeCreateRequest,
};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, LogsOptionsBuilder, RemoveContainerOptionsBuilder, RenameContainerOptionsBuilder,
    StartContainerOptions, StopContainerOptionsBuilder, UploadToContainerOptionsBuilder,
};
use futures_util::StreamExt as _;
use sha2::Digest as _;
use switchyard_model::proxy::{self, StaticConfig};

use super::cache::{CacheFile, HostCache};
use super::host::{self, ProxyHost};
use super::{DockerOptions, connect, data_volume, direct, proxy_network, pull, runtime, stack};

/// The label holding the fingerprint of the container's definition.
const FINGERPRINT: &str = "switchyard.install";

/// What Traefik logs when its file provider could not start; it never retries.
const PROVIDER_FAILED: &str = "Cannot start the provider *file.Provider";

/// What `install` sets up.
#[derive(Debug, Clone)]
pub(crate) struct InstallOptions {
    pub(crate) image: String,
    /// The static configuration, from the spec and the entry points given ([`proxy::static_config`]).
    pub(crate) config: StaticConfig,
    /// Publish the entry points' ports on the host.
    pub(crate) publish: bool,
    /// A host directory to bind-mount at /switchyard instead of the data volume.
    pub(crate) data_dir: Option<PathBuf>,
}

impl InstallOptions {
    fn mount(&self, proxy: &str) -> Mount {
        match &self.data_dir {
            Some(dir) => Mount {
                target: Some(host::ROOT.into()),
                source: Some(dir.display().to_string()),
                typ: Some(MountType::BIND),
                bind_options: Some(bollard::models::MountBindOptions {
                    create_mountpoint: Some(true),
                    ..Default::default()
                }),
                ..Default::default()
            },
            None => Mount {
                target: Some(host::ROOT.into()),
                source: Some(data_volume(proxy)),
                typ: Some(MountType::VOLUME),
                ..Default::default()
            },
        }
    }

    /// The published ports (none with `--no-publish`).
    fn published(&self) -> Vec<u16> {
        if self.publish { self.config.ports() } else { Vec::new() }
    }

    /// A digest of everything the container is created with.
    fn fingerprint(&self, proxy: &str) -> String {
        let mount = self.mount(proxy);
        let text = format!(
            "image {}\nargs {}\npublish {:?}\nmount {:?} {}\nnetwork {}\n",
            self.image,
            self.config.args.join("\n"),
            self.published(),
            mount.typ,
            mount.source.unwrap_or_default(),
            proxy_network(proxy),
        );
        sha2::Sha256::digest(text.as_bytes()).iter().take(12).map(|b| format!("{b:02x}")).collect()
    }

    fn body(&self, proxy: &str) -> ContainerCreateBody {
        let labels: BTreeMap<String, String> = BTreeMap::from([
            (stack::MANAGED.to_string(), "true".to_string()),
            ("switchyard.role".to_string(), "proxy".to_string()),
            (FINGERPRINT.to_string(), self.fingerprint(proxy)),
        ]);
        let mut bindings = std::collections::HashMap::new();
        for port in self.published() {
            bindings.insert(
                format!("{port}/tcp"),
                Some(vec![PortBinding { host_ip: None, host_port: Some(port.to_string()) }]),
            );
        }
        ContainerCreateBody {
            image: Some(self.image.clone()),
            cmd: Some(self.config.args.clone()),
            labels: Some(labels.into_iter().collect()),
            exposed_ports: (!bindings.is_empty()).then(|| bindings.keys().cloned().collect()),
            host_config: Some(HostConfig {
                mounts: Some(vec![self.mount(proxy)]),
                port_bindings: (!bindings.is_empty()).then_some(bindings),
                restart_policy: Some(RestartPolicy {
                    name: Some(RestartPolicyNameEnum::UNLESS_STOPPED),
                    maximum_retry_count: None,
                }),
                network_mode: Some(proxy_network(proxy)),
                ..Default::default()
            }),
            ..Default::default()
        }
    }
}

/// Makes sure the proxy container runs as `install` describes it.
pub(crate) fn install(opts: &DockerOptions, install: &InstallOptions, out: &mut dyn Write) -> Result<()> {
    let rt = runtime()?;
    let endpoint = connect::resolve(&connect::Inputs::from_process(opts.context.clone()))?;
    let docker = rt.block_on(connect::connect(&endpoint, None))?;
    writeln!(out, "Docker at {endpoint}")?;
    let proxy = opts.proxy.as_str();
    rt.block_on(async {
        match docker.inspect_container(proxy, None).await {
            Ok(info) => reinstall(&docker, proxy, install, info, out).await?,
            Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => {
                pull::ensure(&docker, &[install.image.as_str()], out).await?;
                ensure_network_and_volume(&docker, proxy, install).await?;
                create_and_start(&docker, proxy, proxy, install, &[], out).await?;
                writeln!(out, "created and started {proxy} ({})", install.image)?;
            }
            Err(e) => return Err(anyhow!(e).context(format!("could not inspect the proxy container {proxy}"))),
        }
        wait_until_ready(&docker, proxy, out).await?;
        // Whatever was remembered about this proxy may be out of date now.
        let cache = CacheFile::new(&endpoint.host, proxy);
        cache.write(&HostCache { api_version: Some(connect::format_version(&docker)), ..HostCache::default() });
        let eps: Vec<String> = install.config.entry_points.iter().map(|(n, a)| format!("{n} on {a}")).collect();
        let published = if install.publish { "published" } else { "not published (--no-publish)" };
        writeln!(out, "entry points: {} ({published})", eps.join(", "))?;
        writeln!(
            out,
            "API, ping and metrics: {} inside the container only (entry point `{}`)",
            proxy::INTERNAL_ADDRESS,
            proxy::INTERNAL_ENTRY_POINT
        )?;
        anyhow::Ok(())
    })
}

/// The proxy exists: leave it alone when it is what `install` would create and its file provider runs; start it
/// when stopped; otherwise replace it.
async fn reinstall(
    docker: &Docker,
    proxy: &str,
    install: &InstallOptions,
    info: ContainerInspectResponse,
    out: &mut dyn Write,
) -> Result<()> {
    let wanted = install.fingerprint(proxy);
    let labels = info.config.as_ref().and_then(|c| c.labels.clone()).unwrap_or_default();
    let running = info.state.as_ref().and_then(|s| s.running).unwrap_or(false);
    let id = info.id.clone().unwrap_or_default();
    let why = match labels.get(FINGERPRINT) {
        Some(have) if *have == wanted => {
            if !running {
                prepare(docker, &id, out).await?;
                docker.start_container(proxy, None::<StartContainerOptions>).await?;
                writeln!(out, "started {proxy}: it is as install describes it")?;
                return Ok(());
            }
            match provider_failure(docker, proxy).await? {
                None => {
                    let host = ProxyHost { docker: docker.clone(), container: proxy.to_string() };
                    ensure_files(&host, &id).await?;
                    writeln!(out, "{proxy} is running as install describes it; nothing to do")?;
                    return Ok(());
                }
                Some(line) => format!("its file provider did not start ({line})"),
            }
        }
        Some(_) => "it was created with other settings (image, entry points, publishing or data directory)".to_string(),
        None => "it was created by an earlier switchyard, without the settings switchyard now relies on".to_string(),
    };
    writeln!(out, "replacing {proxy}: {why}")?;
    pull::ensure(docker, &[install.image.as_str()], out).await?;
    ensure_network_and_volume(docker, proxy, install).await?;
    replace(docker, proxy, install, &info, out).await
}

/// Waits until Traefik answers ping on its internal entry point (asked inside the container), then checks that
/// its file provider started.
async fn wait_until_ready(docker: &Docker, proxy: &str, out: &mut dyn Write) -> Result<()> {
    let host = ProxyHost { docker: docker.clone(), container: proxy.to_string() };
    let url = format!("http://{}/ping", proxy::INTERNAL_ADDRESS);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut said = false;
    loop {
        let probe = tokio::time::timeout(
            std::time::Duration::from_secs(2),
            host.script("wget -q -O - \"$1\" 2>&1", &[url.as_str()], &[]),
        )
        .await;
        match probe {
            Ok(Ok(r)) if r.code == 0 && r.stdout.trim() == "OK" => break,
            Ok(Ok(r)) if r.code == 127 => {
                writeln!(out, "note: the image has no wget; not waiting for Traefik to answer")?;
                return Ok(());
            }
            _ => {}
        }
        if !said {
            writeln!(out, "waiting for Traefik to answer on {url} ...")?;
            said = true;
        }
        if std::time::Instant::now() > deadline {
            bail!("Traefik in {proxy} did not answer {url} within 60 s; see `docker logs {proxy}`");
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    if let Some(line) = provider_failure(docker, proxy).await? {
        bail!("Traefik's file provider did not start in {proxy}: {line}");
    }
    writeln!(out, "Traefik answers; its file provider reads {proxy}:{}", proxy::DYNAMIC_DIR)?;
    Ok(())
}

/// The line of the proxy's log (since it last started) saying its file provider failed, if any.
pub(crate) async fn provider_failure(docker: &Docker, proxy: &str) -> Result<Option<String>> {
    let started = docker
        .inspect_container(proxy, None)
        .await?
        .state
        .and_then(|s| s.started_at)
        .and_then(|t| parse_rfc3339_secs(&t))
        .unwrap_or(0);
    let options = LogsOptionsBuilder::default().stdout(true).stderr(true).since(started).build();
    let mut logs = docker.logs(proxy, Some(options));
    while let Some(chunk) = logs.next().await {
        let text = chunk.context("could not read the proxy's log")?.to_string();
        if let Some(line) = text.lines().find(|l| l.contains(PROVIDER_FAILED)) {
            return Ok(Some(strip_ansi(line).trim().to_string()));
        }
    }
    Ok(None)
}

/// Seconds since the epoch of an RFC 3339 UTC time as Docker writes it (`2026-12-03T08:25:08.123Z`).
fn parse_rfc3339_secs(t: &str) -> Option<i32> {
    let ts = switchyard_model::Timestamp::parse(t.split('.').next()?.trim_end_matches('Z')).ok()?;
    i32::try_from(ts.0).ok()
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

async fn ensure_network_and_volume(docker: &Docker, proxy: &str, install: &InstallOptions) -> Result<()> {
    let labels: std::collections::HashMap<String, String> =
        [(stack::MANAGED.to_string(), "true".to_string()), ("switchyard.role".to_string(), "proxy".to_string())]
            .into_iter()
            .collect();
    // Docker allows duplicate network names: look before creating.
    if docker.inspect_network(&proxy_network(proxy), None).await.is_err() {
        let network = bollard::models::NetworkCreateRequest {
            name: proxy_network(proxy),
            driver: Some("bridge".into()),
            labels: Some(labels.clone()),
            ..Default::default()
        };
        docker.create_network(network).await.context("could not create the proxy network")?;
    }
    if install.data_dir.is_none() {
        docker
            .create_volume(VolumeCreateRequest {
                name: Some(data_volume(proxy)),
                labels: Some(labels),
                ..Default::default()
            })
            .await
            .context("could not create the data volume")?;
    }
    Ok(())
}

/// Creates the container `name` for `proxy`, connects it to `networks`, writes switchyard's directories and
/// files into it, and starts it. On failure the new container is removed.
async fn create_and_start(
    docker: &Docker,
    proxy: &str,
    name: &str,
    install: &InstallOptions,
    networks: &[String],
    out: &mut dyn Write,
) -> Result<String> {
    let options = CreateContainerOptionsBuilder::default().name(name).build();
    let created = docker.create_container(Some(options), install.body(proxy)).await.map_err(|e| match e {
        bollard::errors::Error::DockerResponseServerError { status_code: 404, .. } => anyhow!(
            "the image {} is not on the Docker host; `docker pull {}` there first, or choose one with --image",
            install.image,
            install.image
        ),
        e => anyhow!(e).context(format!("could not create the proxy container {name}")),
    })?;
    let result = async {
        // The networks given (the old proxy's), and those of every version the state in its volume records.
        let mut all: std::collections::BTreeSet<String> = networks.iter().cloned().collect();
        all.extend(recorded_networks(docker, &created.id).await?);
        for network in &all {
            if docker.inspect_network(network, None).await.is_ok() {
                stack::connect_proxy(docker, name, network).await?;
            }
        }
        if !all.is_empty() {
            writeln!(out, "connected to {} stack network(s)", all.len())?;
        }
        prepare(docker, &created.id, out).await?;
        docker
            .start_container(name, None::<StartContainerOptions>)
            .await
            .with_context(|| format!("could not start the proxy container {name}"))?;
        anyhow::Ok(())
    }
    .await;
    if let Err(e) = result {
        let force = RemoveContainerOptionsBuilder::default().force(true).build();
        let _ = docker.remove_container(name, Some(force)).await;
        return Err(e);
    }
    Ok(created.id)
}

/// The networks of the versions deployed in every environment whose state is in the container's volume
/// (read from the created container, before it starts).
async fn recorded_networks(docker: &Docker, id: &str) -> Result<Vec<String>> {
    let host = ProxyHost { docker: docker.clone(), container: id.to_string() };
    let mut networks = Vec::new();
    for (name, data) in host.read_dir("state").await? {
        if !name.ends_with(".json") || name.starts_with('.') {
            continue;
        }
        let state: switchyard_model::EnvState = serde_json::from_slice(&data)
            .with_context(|| format!("{}/state/{name} is not a switchyard state file", host::ROOT))?;
        networks.extend(state.deployments.iter().map(|d| d.stack.clone()));
    }
    Ok(networks)
}

/// Replaces the proxy: a new container beside it (same volume, same stack networks), then the old one stops and
/// the new one starts in its place. If the new one cannot start, the old one starts again: nothing is lost.
async fn replace(
    docker: &Docker,
    proxy: &str,
    install: &InstallOptions,
    old: &ContainerInspectResponse,
    out: &mut dyn Write,
) -> Result<()> {
    let networks: Vec<String> = old
        .network_settings
        .as_ref()
        .and_then(|n| n.networks.as_ref())
        .map(|n| n.keys().filter(|k| **k != proxy_network(proxy)).cloned().collect())
        .unwrap_or_default();
    let old_id = old.id.clone().unwrap_or_default();
    let retired = format!("{proxy}-replaced");
    let force = RemoveContainerOptionsBuilder::default().force(true).build();
    // Left by an earlier replacement that was cut short.
    let _ = docker.remove_container(&retired, Some(force.clone())).await;
    let stop = StopContainerOptionsBuilder::default().t(10).build();
    docker.stop_container(&old_id, Some(stop)).await.with_context(|| format!("could not stop {proxy}"))?;
    docker
        .rename_container(&old_id, RenameContainerOptionsBuilder::default().name(&retired).build())
        .await
        .with_context(|| format!("could not rename {proxy}"))?;
    writeln!(out, "stopped the old {proxy}; starting the new one")?;
    match create_and_start(docker, proxy, proxy, install, &networks, out).await {
        Ok(_) => {
            docker.remove_container(&old_id, Some(force)).await.context("could not remove the old proxy container")?;
            writeln!(out, "replaced {proxy} ({})", install.image)?;
            Ok(())
        }
        Err(e) => {
            let back = async {
                docker.rename_container(&old_id, RenameContainerOptionsBuilder::default().name(proxy).build()).await?;
                docker.start_container(proxy, None::<StartContainerOptions>).await
            }
            .await;
            match back {
                Ok(()) => bail!("{e:#}; the old {proxy} was started again, as it was"),
                Err(again) => bail!(
                    "{e:#}; starting the old proxy again failed too ({again}): it is the stopped container {retired}"
                ),
            }
        }
    }
}

/// switchyard's directories and files in a container that may not be running yet: the directories, the
/// marker holding the container's ID (see [`direct`]), and the default certificate with the file that names it
/// (kept when they exist).
async fn prepare(docker: &Docker, id: &str, out: &mut dyn Write) -> Result<()> {
    let exists = |path: String| async move {
        let options = bollard::query_parameters::DownloadFromContainerOptionsBuilder::default().path(&path).build();
        let mut stream = docker.download_from_container(id, Some(options));
        !matches!(stream.next().await, Some(Err(_)) | None)
    };
    let mut builder = tar::Builder::new(Vec::new());
    for (dir, mode) in DIRECTORIES {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Directory);
        header.set_size(0);
        header.set_mode(*mode);
        header.set_cksum();
        builder.append_data(&mut header, format!("{dir}/"), &[][..])?;
    }
    let mut file = |path: &str, data: &[u8], mode: u32| -> Result<()> {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(mode);
        header.set_cksum();
        builder.append_data(&mut header, path, data)?;
        Ok(())
    };
    file(direct::MARKER, id.as_bytes(), 0o644)?;
    if !exists(proxy::DEFAULT_CERTIFICATE.to_string()).await {
        let (cert, key) = default_certificate()?;
        let rel = |p: &str| p.trim_start_matches(host::ROOT).trim_start_matches('/').to_string();
        file(&rel(proxy::DEFAULT_CERTIFICATE), cert.as_bytes(), 0o644)?;
        file(&rel(proxy::DEFAULT_CERTIFICATE_KEY), key.as_bytes(), 0o600)?;
        writeln!(out, "made the default certificate {}", proxy::DEFAULT_CERTIFICATE)?;
    }
    file(
        &format!("dynamic/{}", proxy::DEFAULT_CERTIFICATE_FILE),
        proxy::default_certificate_config().as_bytes(),
        0o644,
    )?;
    let tar = builder.into_inner()?;
    let options = UploadToContainerOptionsBuilder::default().path(host::ROOT).build();
    docker
        .upload_to_container(id, Some(options), bollard::body_full(tar.into()))
        .await
        .context("could not write switchyard's directory into the proxy container")?;
    Ok(())
}

/// switchyard's directories under /switchyard, with their modes.
const DIRECTORIES: &[(&str, u32)] = &[
    ("dynamic", 0o755),
    ("staging", 0o755),
    ("state", 0o755),
    ("locks", 0o755),
    ("audit", 0o755),
    ("tls", 0o700),
    ("acme", 0o700),
];

/// The same on a running proxy, without touching what exists: the directories, the marker, and the default
/// certificate's file (written by rename, so Traefik never sees it half-written).
async fn ensure_files(host: &ProxyHost, id: &str) -> Result<()> {
    let dirs: Vec<String> = DIRECTORIES.iter().map(|(d, _)| format!("{}/{d}", host::ROOT)).collect();
    let script = r#"mkdir -p "$@"
chmod 700 /switchyard/tls /switchyard/acme
printf '%s' "$ID" > "/switchyard/$MARKER"
if [ -e "$CERT" ] && [ ! -e "/switchyard/dynamic/$FILE" ]; then
  printf '%s' "$CONFIG" > "/switchyard/staging/$FILE.tmp" && mv -f "/switchyard/staging/$FILE.tmp" "/switchyard/dynamic/$FILE"
fi"#;
    let args: Vec<&str> = dirs.iter().map(String::as_str).collect();
    let config = proxy::default_certificate_config();
    let env = [
        ("ID", id),
        ("MARKER", direct::MARKER),
        ("CERT", proxy::DEFAULT_CERTIFICATE),
        ("FILE", proxy::DEFAULT_CERTIFICATE_FILE),
        ("CONFIG", config.as_str()),
    ];
    host.sh(script, &args, &env).await?;
    Ok(())
}

/// A self-signed ECDSA P-256 certificate and its key (PEM), for the default TLS store: served to clients that
/// ask for a host no other certificate covers, as Traefik's own generated one would be.
fn default_certificate() -> Result<(String, String)> {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
        .context("could not generate the default certificate's key")?;
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name.push(rcgen::DnType::CommonName, "switchyard default certificate");
    params.not_before = rcgen::date_time_ymd(2025, 1, 1);
    params.not_after = rcgen::date_time_ymd(2035, 1, 1);
    let cert = params.self_signed(&key).context("could not sign the default certificate")?;
    Ok((cert.pem(), key.serialize_pem()))
}
