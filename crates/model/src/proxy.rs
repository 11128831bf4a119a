//! The Traefik that `switchyard --docker install` runs: its static configuration, as command-line flags, from
//! the spec and the addresses given to `install`, and the files it reads beside the environments' own.
//!
//! What switchyard relies on, and why (each shown on the real Traefik by `tests/tests/docker_install.rs`,
//! `tests/tests/traefik_reload.rs` and the reload benchmark):
//! - the file provider on `/switchyard/dynamic`, a directory that exists before Traefik starts (a missing
//!   directory makes the provider fail for good) and that switchyard writes only by renames from
//!   `/switchyard/staging`, outside the watched directory: every event Traefik sees is a finished file;
//! - a provider throttle of [`PROVIDERS_THROTTLE`] instead of Traefik's 2 s, so a change is applied as soon as
//!   it is renamed into place (measured: the README's "Time until traffic moves");
//! - a default TLS certificate of switchyard's own ([`DEFAULT_CERTIFICATE_FILE`]): without one Traefik makes
//!   a new RSA key on every configuration change, which takes tens to hundreds of milliseconds before the new
//!   routes are in place;
//! - the API, ping and Prometheus metrics on the internal entry point [`INTERNAL_ENTRY_POINT`], on 127.0.0.1
//!   in the container: never published, out of reach of the apps on the stack networks Traefik joins; switchyard
//!   reads them with commands run in the container through the Docker API;
//! - the entry points the environments route on, and the certificate resolvers they name.

use std::collections::BTreeMap;

use crate::spec::{AcmeChallenge, Spec};
use switchyard_diagnostics::Diagnostic;

pub use crate::spec::INTERNAL_ENTRY_POINT;

/// The default image `install` runs: the current Traefik v3 line.
pub const DEFAULT_IMAGE: &str = "traefik:v3.7";

/// switchyard's directory in the proxy container (a volume, or a bind mount with `install --data-dir`).
pub const ROOT: &str = "/switchyard";
/// Traefik's file-provider directory.
pub const DYNAMIC_DIR: &str = "/switchyard/dynamic";
/// Where files are written before they are renamed into [`DYNAMIC_DIR`] (same file system, not watched).
pub const STAGING_DIR: &str = "/switchyard/staging";

/// Where the internal entry point listens, inside the container.
pub const INTERNAL_ADDRESS: &str = "127.0.0.1:8080";

/// The upper bounds, in seconds, of the latency histogram Traefik keeps per service, which a rollout's p95 is
/// read from (Prometheus's own defaults). Traefik's defaults (0.1, 0.3, 1.2, 5) would put every answer under
/// 100 ms at a p95 of 95 ms, and judge `max_p95` only in those steps.
pub const LATENCY_BUCKETS: &str = "0.005,0.01,0.025,0.05,0.1,0.25,0.5,1,2.5,5,10";

/// `providers.providersThrottleDuration`. Traefik's default (2 s) holds back any change that comes within 2 s
/// of the previous one; switchyard writes each change with one rename, so there are no bursts to smooth.
pub const PROVIDERS_THROTTLE: &str = "10ms";

/// The middlewares the Traefik `install` runs defines itself (`name@internal`), for its dashboard (the API is
/// on): the only `@internal` middlewares an environment may name. Seen in `/api/rawdata` of the real binary
/// with [`static_config`]'s flags (the end-to-end test `traefik_example` keeps checking it).
pub const INTERNAL_MIDDLEWARES: &[&str] = &["dashboard_redirect", "dashboard_stripprefix"];

/// The default certificate and its key, in switchyard's directory (key mode 0600).
pub const DEFAULT_CERTIFICATE: &str = "/switchyard/tls/default.crt";
pub const DEFAULT_CERTIFICATE_KEY: &str = "/switchyard/tls/default.key";
/// The file in [`DYNAMIC_DIR`] that makes them the default TLS store's certificate.
pub const DEFAULT_CERTIFICATE_FILE: &str = "switchyard-default-certificate.yml";

/// Traefik's static configuration for a proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticConfig {
    /// Entry points the routers use: name -> address (`:80`).
    pub entry_points: BTreeMap<String, String>,
    /// The flags, in a stable order.
    pub args: Vec<String>,
}

impl StaticConfig {
    /// The TCP ports of the entry points (what `install` publishes unless told not to).
    pub fn ports(&self) -> Vec<u16> {
        let mut ports: Vec<u16> = self.entry_points.values().filter_map(|a| address_port(a)).collect();
        ports.sort_unstable();
        ports.dedup();
        ports
    }
}

/// The port of an entry point address (`:80`, `0.0.0.0:443`, `[::]:8443`).
pub fn address_port(address: &str) -> Option<u16> {
    address.rsplit_once(':').and_then(|(_, p)| p.parse().ok()).filter(|p| *p > 0)
}

/// `:PORT`, `IPv4:PORT` or `[IPv6]:PORT`.
fn check_address(address: &str) -> Result<(), String> {
    let Some((host, port)) = address.rsplit_once(':') else {
        return Err("has no port; write it as `:PORT`, e.g. `:8443`".into());
    };
    if !port.parse::<u16>().is_ok_and(|p| p > 0) {
        return Err(format!("has the port {port:?}; a port is 1 to 65535"));
    }
    let ipv6 = host.strip_prefix('[').and_then(|h| h.strip_suffix(']'));
    let ok = host.is_empty()
        || ipv6.is_some_and(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.'))
        || (host.split('.').count() == 4 && host.split('.').all(|o| o.parse::<u8>().is_ok()));
    if !ok {
        return Err(format!("listens on {host:?}; give an IP address or nothing (`:PORT`, every address)"));
    }
    Ok(())
}

/// The address an entry point gets when `install` is not given one.
pub fn default_address(name: &str) -> Option<&'static str> {
    match name {
        "web" => Some(":80"),
        "websecure" => Some(":443"),
        _ => None,
    }
}

/// Traefik's static configuration for the spec: the entry points its environments route on (and `web` for an
/// HTTP-01 challenge) at the addresses `given` (name -> address) or their defaults, the internal entry point,
/// the file provider, and the certificate resolvers. Every problem at once.
pub fn static_config(spec: &Spec, given: &BTreeMap<String, String>) -> Result<StaticConfig, Vec<Diagnostic>> {
    let mut problems = Vec::new();
    let mut wanted: BTreeMap<String, Option<String>> = BTreeMap::new();
    for app in spec.apps.values() {
        for env in app.environments.values() {
            for name in &env.entry_points {
                wanted.entry(name.clone()).or_default();
            }
        }
    }
    for resolver in spec.traefik.cert_resolvers.values() {
        let needs = match resolver.acme.challenge {
            AcmeChallenge::Http => "web",
            AcmeChallenge::Tls => "websecure",
        };
        wanted.entry(needs.to_string()).or_default();
    }
    for (name, address) in given {
        if name == INTERNAL_ENTRY_POINT {
            problems.push(
                Diagnostic::error(
                    "SY0160",
                    format!("--entry-point {name}: `{INTERNAL_ENTRY_POINT}` is the internal entry point"),
                )
                .hint(format!("it serves Traefik's API, ping and metrics on {INTERNAL_ADDRESS}; choose another name")),
            );
            continue;
        }
        if let Err(e) = crate::names::check_identifier(name) {
            problems.push(Diagnostic::error("SY0160", format!("--entry-point {name}={address}: the name {e}")));
            continue;
        }
        wanted.insert(name.clone(), Some(address.clone()));
    }
    let mut entry_points = BTreeMap::new();
    for (name, address) in wanted {
        let address = match address.or_else(|| default_address(&name).map(str::to_string)) {
            Some(a) => a,
            None => {
                problems.push(
                    Diagnostic::error("SY0161", format!("the entry point {name:?} has no address"))
                        .hint(format!("give it one: `install --entry-point {name}=:PORT`")),
                );
                continue;
            }
        };
        if let Err(e) = check_address(&address) {
            problems.push(Diagnostic::error("SY0160", format!("--entry-point {name}={address}: the address {e}")));
            continue;
        }
        if address_port(&address) == address_port(INTERNAL_ADDRESS) {
            let (host, _) = address.rsplit_once(':').unwrap_or_default();
            if host.is_empty() || host == "0.0.0.0" || host == "127.0.0.1" || host == "[::]" {
                problems.push(
                    Diagnostic::error("SY0160", format!("the entry point {name:?} would listen on {address}"))
                        .hint(format!("that port is the internal entry point's ({INTERNAL_ADDRESS}); choose another")),
                );
                continue;
            }
        }
        entry_points.insert(name, address);
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut args = Vec::new();
    for (name, address) in &entry_points {
        args.push(format!("--entrypoints.{name}.address={address}"));
    }
    args.extend([
        format!("--entrypoints.{INTERNAL_ENTRY_POINT}.address={INTERNAL_ADDRESS}"),
        "--api.insecure=true".to_string(),
        "--ping=true".to_string(),
        "--metrics.prometheus=true".to_string(),
        format!("--metrics.prometheus.buckets={LATENCY_BUCKETS}"),
        format!("--providers.file.directory={DYNAMIC_DIR}"),
        "--providers.file.watch=true".to_string(),
        format!("--providers.providersThrottleDuration={PROVIDERS_THROTTLE}"),
        "--global.checknewversion=false".to_string(),
        "--global.sendanonymoususage=false".to_string(),
    ]);
    for (name, resolver) in &spec.traefik.cert_resolvers {
        let acme = &resolver.acme;
        let at = format!("--certificatesresolvers.{name}.acme");
        args.push(format!("{at}.storage={ROOT}/acme/{name}.json"));
        if let Some(email) = &acme.email {
            args.push(format!("{at}.email={email}"));
        }
        if let Some(url) = &acme.ca_server {
            args.push(format!("{at}.caserver={url}"));
        }
        match acme.challenge {
            AcmeChallenge::Tls => args.push(format!("{at}.tlschallenge=true")),
            AcmeChallenge::Http => args.push(format!("{at}.httpchallenge.entrypoint=web")),
        }
    }
    Ok(StaticConfig { entry_points, args })
}

/// The dynamic configuration file ([`DEFAULT_CERTIFICATE_FILE`]) that gives Traefik's default TLS store
/// switchyard's certificate.
pub fn default_certificate_config() -> String {
    format!(
        "# Written by switchyard install: the default TLS store's certificate. Without one, Traefik generates a new\n\
         # RSA key on every configuration change, which holds back every change by tens to hundreds of milliseconds.\n\
         tls:\n  stores:\n    default:\n      defaultCertificate:\n        certFile: {DEFAULT_CERTIFICATE}\n        \
         keyFile: {DEFAULT_CERTIFICATE_KEY}\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> Spec {
        crate::Spec::parse(text, "s.yaml").unwrap().spec
    }

    #[test]
    fn the_example_gets_its_entry_points_and_resolver() {
        let c = static_config(&crate::Spec::parse(crate::EXAMPLE_SPEC, "s").unwrap().spec, &BTreeMap::new()).unwrap();
        assert_eq!(c.entry_points, BTreeMap::from([("websecure".to_string(), ":443".to_string())]));
        assert_eq!(c.ports(), vec![443]);
        assert!(c.args.contains(&"--certificatesresolvers.letsencrypt.acme.tlschallenge=true".to_string()));
        assert!(c.args.contains(
            &"--certificatesresolvers.letsencrypt.acme.storage=/switchyard/acme/letsencrypt.json".to_string()
        ));
        assert!(c.args.contains(&"--entrypoints.traefik.address=127.0.0.1:8080".to_string()));
    }

    #[test]
    fn entry_points_without_an_address_or_on_the_internal_port_are_refused() {
        let s = spec(
            "apps:\n  a:\n    compose: c.yaml\n    routes: {web: {port: 80}}\n    environments:\n      dev:\n        domain: a.test\n        entry_points: [web, admin]\n",
        );
        let errs = static_config(&s, &BTreeMap::new()).unwrap_err();
        assert_eq!(errs.len(), 1);
        assert!(errs[0].message.contains("\"admin\" has no address"), "{errs:?}");
        let given = BTreeMap::from([("admin".to_string(), ":8080".to_string())]);
        let errs = static_config(&s, &given).unwrap_err();
        assert!(errs[0].message.contains("would listen on :8080"), "{errs:?}");
        let given = BTreeMap::from([("admin".to_string(), "10.0.0.1:8080".to_string())]);
        assert!(static_config(&s, &given).is_ok());
        for bad in ["8443", ":0", ":99999", "a b:80", "--api.insecure=true x:1"] {
            let given = BTreeMap::from([("admin".to_string(), bad.to_string())]);
            assert!(static_config(&s, &given).is_err(), "{bad}");
        }
    }
}
