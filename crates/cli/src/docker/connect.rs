//! Which Docker engine to talk to, the way the docker CLI decides: `--context NAME`, else `DOCKER_HOST`, else
//! `DOCKER_CONTEXT`, else the `currentContext` of the Docker config, else the local socket. Contexts are read
//! from the user's Docker config directory (`DOCKER_CONFIG`, default `~/.docker`): `contexts/meta/<sha256 of
//! the name>/meta.json` for the endpoint, `contexts/tls/<sha256>/docker/{ca,cert,key}.pem` for TLS.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, anyhow, bail};
use bollard::{API_DEFAULT_VERSION, ClientVersion, Docker};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// Client certificates for a TLS endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TlsFiles {
    pub(crate) ca: PathBuf,
    pub(crate) cert: PathBuf,
    pub(crate) key: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// `unix:///var/run/docker.sock`, `tcp://host:2376`, `ssh://user@host`.
    pub(crate) host: String,
    pub(crate) tls: Option<TlsFiles>,
    /// Where the choice came from, for messages.
    pub(crate) source: String,
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (from {})", self.host, self.source)
    }
}

/// The inputs of the decision, so it can be tested without touching the real environment.
#[derive(Debug, Clone, Default)]
pub(crate) struct Inputs {
    pub(crate) context_flag: Option<String>,
    pub(crate) env: BTreeMap<String, String>,
    pub(crate) config_dir: Option<PathBuf>,
}

impl Inputs {
    pub(crate) fn from_process(context_flag: Option<String>) -> Self {
        let env: BTreeMap<String, String> =
            ["DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_CONFIG", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "HOME"]
                .into_iter()
                .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v)))
                .collect();
        let config_dir = env
            .get("DOCKER_CONFIG")
            .map(PathBuf::from)
            .or_else(|| env.get("HOME").map(|h| Path::new(h).join(".docker")));
        Inputs { context_flag, env, config_dir }
    }
}

#[derive(Debug, Deserialize)]
struct ConfigFile {
    #[serde(rename = "currentContext", default)]
    current_context: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ContextMeta {
    #[serde(rename = "Name")]
    name: String,
    #[serde(rename = "Endpoints")]
    endpoints: BTreeMap<String, ContextEndpoint>,
}

#[derive(Debug, Deserialize)]
struct ContextEndpoint {
    #[serde(rename = "Host")]
    host: Option<String>,
    #[serde(rename = "SkipTLSVerify", default)]
    skip_tls_verify: bool,
}

const LOCAL: &str = "unix:///var/run/docker.sock";

/// Decides the endpoint.
pub(crate) fn resolve(inputs: &Inputs) -> Result<Endpoint> {
    if let Some(name) = &inputs.context_flag {
        return context(inputs, name, "--context");
    }
    if let Some(host) = inputs.env.get("DOCKER_HOST").filter(|h| !h.is_empty()) {
        let tls = match inputs.env.get("DOCKER_TLS_VERIFY").filter(|v| !v.is_empty() && *v != "0") {
            Some(_) => {
                let dir =
                    inputs
                        .env
                        .get("DOCKER_CERT_PATH")
                        .map(PathBuf::from)
                        .or_else(|| inputs.config_dir.clone())
                        .ok_or_else(|| anyhow!("DOCKER_TLS_VERIFY is set but neither DOCKER_CERT_PATH nor HOME is"))?;
                Some(TlsFiles { ca: dir.join("ca.pem"), cert: dir.join("cert.pem"), key: dir.join("key.pem") })
            }
            None => None,
        };
        return Ok(Endpoint { host: host.clone(), tls, source: "DOCKER_HOST".into() });
    }
    if let Some(name) = inputs.env.get("DOCKER_CONTEXT").filter(|c| !c.is_empty()) {
        return context(inputs, name, "DOCKER_CONTEXT");
    }
    if let Some(dir) = &inputs.config_dir {
        let path = dir.join("config.json");
        if let Ok(text) = std::fs::read_to_string(&path) {
            let config: ConfigFile =
                serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", path.display()))?;
            if let Some(name) = config.current_context.filter(|c| !c.is_empty()) {
                return context(inputs, &name, &format!("currentContext in {}", path.display()));
            }
        }
    }
    Ok(Endpoint { host: LOCAL.into(), tls: None, source: "the default local socket".into() })
}

fn context(inputs: &Inputs, name: &str, source: &str) -> Result<Endpoint> {
    if name == "default" {
        return Ok(Endpoint { host: LOCAL.into(), tls: None, source: format!("the default context ({source})") });
    }
    let dir =
        inputs.config_dir.as_ref().ok_or_else(|| anyhow!("no Docker config directory (set DOCKER_CONFIG or HOME)"))?;
    let digest = hex(&Sha256::digest(name.as_bytes()));
    let meta_path = dir.join("contexts/meta").join(&digest).join("meta.json");
    let text = std::fs::read_to_string(&meta_path).map_err(|_| {
        anyhow!(
            "no Docker context named {name:?} (from {source}): {} does not exist; `docker context ls` lists the contexts",
            meta_path.display()
        )
    })?;
    let meta: ContextMeta =
        serde_json::from_str(&text).with_context(|| format!("{} is not a Docker context", meta_path.display()))?;
    if meta.name != name {
        bail!("{} names the context {:?}, not {name:?}", meta_path.display(), meta.name);
    }
    let endpoint =
        meta.endpoints.get("docker").ok_or_else(|| anyhow!("the context {name:?} has no docker endpoint"))?;
    let host = endpoint.host.clone().ok_or_else(|| anyhow!("the context {name:?} has no Host"))?;
    let tls_dir = dir.join("contexts/tls").join(&digest).join("docker");
    let tls = (tls_dir.join("ca.pem").exists() && !endpoint.skip_tls_verify).then(|| TlsFiles {
        ca: tls_dir.join("ca.pem"),
        cert: tls_dir.join("cert.pem"),
        key: tls_dir.join("key.pem"),
    });
    Ok(Endpoint { host, tls, source: format!("context {name:?} ({source})") })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Request timeout in seconds for the Docker API.
const TIMEOUT: u64 = 120;

/// Connects and agrees on an API version with the engine (an older engine refuses newer versions). With a
/// version agreed before (`known`, from the cache), no request is made here.
pub(crate) async fn connect(endpoint: &Endpoint, known: Option<&str>) -> Result<Docker> {
    let version = known.and_then(parse_version);
    let pinned = version.as_ref().unwrap_or(API_DEFAULT_VERSION);
    let host = endpoint.host.as_str();
    let docker = if let Some(tls) = &endpoint.tls {
        let addr = host.replacen("tcp://", "https://", 1);
        Docker::connect_with_ssl(&addr, &tls.key, &tls.cert, &tls.ca, TIMEOUT, pinned)
    } else if let Some(path) = host.strip_prefix("unix://") {
        Docker::connect_with_unix(path, TIMEOUT, pinned)
    } else if host.starts_with("tcp://") || host.starts_with("http://") {
        Docker::connect_with_http(host, TIMEOUT, pinned)
    } else if let Some(rest) = host.strip_prefix("ssh://") {
        if let Some(port) = ssh_port(rest) {
            bail!(
                "cannot connect to {endpoint}: the ssh transport takes no port in the address (bollard hands \
                 `host:{port}` to ssh as a host name); name the host in ~/.ssh/config instead (`Host docker-prod` / \
                 `HostName <address>` / `Port {port}`) and use ssh://<user>@docker-prod"
            );
        }
        Docker::connect_with_ssh(host, TIMEOUT, pinned, None)
    } else {
        bail!("cannot connect to {endpoint}: use unix://, tcp:// or ssh://")
    }
    .with_context(|| format!("cannot connect to Docker at {endpoint}"))?;
    if version.is_some() {
        return Ok(docker);
    }
    let docker = docker.negotiate_version().await.with_context(|| format!("Docker at {endpoint} does not answer"))?;
    Ok(docker)
}

/// The port in an ssh address (`user@host:2222`), if there is one.
fn ssh_port(address: &str) -> Option<&str> {
    let host = address.rsplit_once('@').map_or(address, |(_, h)| h).trim_end_matches('/');
    let (_, port) = host.rsplit_once(':')?;
    // `[::1]` without a port has its colons inside the brackets.
    (!port.is_empty() && port.chars().all(|c| c.is_ascii_digit()) && !host.ends_with(']')).then_some(port)
}

/// A bollard error in a few words: its innermost cause ("No such file or directory (os error 2)" for a socket
/// that is gone) instead of the HTTP client's wrapping.
pub(crate) fn short_error(err: &bollard::errors::Error) -> String {
    let mut source: &dyn std::error::Error = err;
    while let Some(next) = source.source() {
        source = next;
    }
    source.to_string()
}

/// `1.41` as bollard's version type.
pub(crate) fn parse_version(text: &str) -> Option<ClientVersion> {
    let (major, minor) = text.split_once('.')?;
    Some(ClientVersion { major_version: major.parse().ok()?, minor_version: minor.parse().ok()? })
}

pub(crate) fn format_version(docker: &Docker) -> String {
    let v = docker.client_version();
    format!("{}.{}", v.major_version, v.minor_version)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(dir: &Path, context: Option<&str>, env: &[(&str, &str)]) -> Inputs {
        Inputs {
            context_flag: context.map(Into::into),
            env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            config_dir: Some(dir.to_path_buf()),
        }
    }

    fn write_context(dir: &Path, name: &str, host: &str, tls: bool) {
        let digest = hex(&Sha256::digest(name.as_bytes()));
        let meta = dir.join("contexts/meta").join(&digest);
        std::fs::create_dir_all(&meta).unwrap();
        std::fs::write(
            meta.join("meta.json"),
            format!(r#"{{"Name":"{name}","Metadata":{{}},"Endpoints":{{"docker":{{"Host":"{host}","SkipTLSVerify":false}}}}}}"#),
        )
        .unwrap();
        if tls {
            let t = dir.join("contexts/tls").join(&digest).join("docker");
            std::fs::create_dir_all(&t).unwrap();
            std::fs::write(t.join("ca.pem"), "x").unwrap();
        }
    }

    #[test]
    fn the_order_is_flag_then_docker_host_then_docker_context_then_config() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write_context(d, "remote", "tcp://10.1.2.3:2376", true);
        write_context(d, "over-ssh", "ssh://deploy@example.com", false);
        std::fs::write(d.join("config.json"), r#"{"currentContext":"over-ssh"}"#).unwrap();

        let e = resolve(&inputs(d, Some("remote"), &[("DOCKER_HOST", "unix:///x.sock")])).unwrap();
        assert_eq!(e.host, "tcp://10.1.2.3:2376");
        assert!(e.tls.as_ref().unwrap().ca.ends_with("docker/ca.pem"));

        let e = resolve(&inputs(d, None, &[("DOCKER_HOST", "unix:///x.sock"), ("DOCKER_CONTEXT", "remote")])).unwrap();
        assert_eq!((e.host.as_str(), e.source.as_str()), ("unix:///x.sock", "DOCKER_HOST"));

        let e = resolve(&inputs(d, None, &[("DOCKER_CONTEXT", "remote")])).unwrap();
        assert_eq!(e.host, "tcp://10.1.2.3:2376");

        let e = resolve(&inputs(d, None, &[])).unwrap();
        assert_eq!(e.host, "ssh://deploy@example.com");
        assert!(e.tls.is_none());

        std::fs::remove_file(d.join("config.json")).unwrap();
        assert_eq!(resolve(&inputs(d, None, &[])).unwrap().host, LOCAL);
        assert_eq!(resolve(&inputs(d, Some("default"), &[])).unwrap().host, LOCAL);
    }

    #[test]
    fn ssh_ports_are_found() {
        assert_eq!(ssh_port("deploy@example.com:2222"), Some("2222"));
        assert_eq!(ssh_port("example.com:22/"), Some("22"));
        assert_eq!(ssh_port("deploy@example.com"), None);
        assert_eq!(ssh_port("deploy@[::1]"), None);
        assert_eq!(ssh_port("deploy@[::1]:2222"), Some("2222"));
    }

    #[test]
    fn tls_from_the_environment_and_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let e = resolve(&inputs(
            dir.path(),
            None,
            &[("DOCKER_HOST", "tcp://h:2376"), ("DOCKER_TLS_VERIFY", "1"), ("DOCKER_CERT_PATH", "/certs")],
        ))
        .unwrap();
        assert_eq!(e.tls.unwrap().key, PathBuf::from("/certs/key.pem"));
        let err = resolve(&inputs(dir.path(), Some("nope"), &[])).unwrap_err().to_string();
        assert!(err.contains("no Docker context named \"nope\"") && err.contains("docker context ls"), "{err}");
    }
}
