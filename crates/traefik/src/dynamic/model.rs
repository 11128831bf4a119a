//! The typed model of the whole Traefik v3 dynamic configuration, as the file provider reads it.
//!
//! Every key of Traefik's own exhaustive samples (`docs/content/reference/dynamic-configuration/file.yaml`
//! and `file.toml`, v3.7) is a field here, plus `failover.errors` (used by Traefik's integration tests, missing
//! from the sample). Fields are all optional, as in Go every field has a zero value; a service or middleware is
//! a struct with one optional field per kind, and "exactly one kind" is a later check, not a serde rule. The
//! Go types behind the fields decide what the structural checker accepts (see `golang.rs`).
//!
//! The structs are split by protocol: [`http`], [`tcp`] (TCP and UDP) and [`tls`].

pub mod http;
pub mod tcp;
pub mod tls;

use serde::{Deserialize, Serialize};

use super::golang;
use super::schema::{Section, Shape, Ty, traefik_struct};

pub use http::*;
pub use tcp::*;
pub use tls::*;

traefik_struct! {
    /// One file's (or the merged) dynamic configuration. Traefik ignores any other top-level key.
    pub struct DynamicConfig {
        http: HttpConfig = "http",
        tcp: TcpConfig = "tcp",
        udp: UdpConfig = "udp",
        tls: TlsConfig = "tls",
    }
}

/// A paerser `types.Duration` as written: an integer is a number of seconds, a string a Go duration (`10s`,
/// `1m30s`, `500ms`). Kept as written so that the model serialises back to the same document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum GoDuration {
    Seconds(i64),
    Text(String),
}

impl<'de> Deserialize<'de> for GoDuration {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = GoDuration;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a number of seconds or a Go duration")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<GoDuration, E> {
                Ok(GoDuration::Seconds(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<GoDuration, E> {
                i64::try_from(v).map(GoDuration::Seconds).map_err(|_| E::custom("out of range"))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<GoDuration, E> {
                Ok(GoDuration::Text(v.to_string()))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<GoDuration, E> {
                Ok(GoDuration::Text(v))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl GoDuration {
    /// The duration in nanoseconds, as Traefik reads it, or `None` when Traefik would refuse it.
    pub fn nanos(&self) -> Option<i128> {
        match self {
            GoDuration::Seconds(s) => Some(i128::from(*s) * 1_000_000_000),
            GoDuration::Text(t) => golang::parse_paerser_duration(t),
        }
    }
}

impl Shape for GoDuration {
    const TY: Ty = Ty::Duration;
}

traefik_struct! {
    /// A TLS domain: a main name and subject alternative names.
    pub struct Domain {
        main: String = "main",
        sans: Vec<String> = "sans",
    }
}

traefik_struct! {
    /// A certificate and its key, each a file path or the PEM content itself.
    pub struct Certificate {
        cert_file: String = "certFile",
        key_file: String = "keyFile",
    }
}

traefik_struct! {
    /// TLS settings of a client connection (forward auth, Redis).
    pub struct ClientTls {
        ca: String = "ca",
        cert: String = "cert",
        key: String = "key",
        insecure_skip_verify: bool = "insecureSkipVerify",
    }
}

traefik_struct! {
    /// SPIFFE authorisation of the servers.
    pub struct Spiffe {
        ids: Vec<String> = "ids",
        trust_domain: String = "trustDomain",
    }
}

traefik_struct! {
    /// A child of a `weighted` or `highestRandomWeight` service (HTTP, TCP or UDP). A missing weight is 1.
    pub struct WeightedService {
        name: String = "name",
        weight: i64 = "weight",
    }
}

/// The v2 options Traefik v3 still reads, and what to use instead (code SY3005, a warning).
///
/// Traefik v3.0 first removed them, then brought them back before its release (traefik/traefik#10355,
/// "Reintroduce dropped v2 dynamic config") so that v2 files keep loading; they log a deprecation warning and
/// will go in the next major version. All of them are in Traefik's v3.7 reference sample. No v2 key is refused
/// outright by v3: every key of the v2 file-provider schema is still accepted.
pub mod deprecations {
    use super::super::schema::Deprecation;

    /// `ipWhiteList` middleware (HTTP and TCP): renamed `ipAllowList` in v3, same options.
    pub const IP_WHITE_LIST: Deprecation = Deprecation {
        note: "`ipWhiteList` is the v2 name of this middleware; v3 still reads it but logs a deprecation warning",
        instead: "rename it `ipAllowList` (same options; `sourceRange` and `ipStrategy` stay)",
    };
    /// `headers.sslRedirect` / `sslTemporaryRedirect`: HTTPS redirection moved out of the headers middleware.
    pub const SSL_REDIRECT: Deprecation = Deprecation {
        note: "the headers middleware's SSL redirection options are v2 options, deprecated in v3",
        instead: "use a `redirectScheme` middleware (`scheme: https`, `permanent: true` or `false`) or the \
                  entry point redirection of the static configuration",
    };
    /// `headers.sslHost` / `sslForceHost`: redirection to another host.
    pub const SSL_HOST: Deprecation = Deprecation {
        note: "the headers middleware's `sslHost`/`sslForceHost` are v2 options, deprecated in v3",
        instead: "use a `redirectRegex` middleware",
    };
    /// `headers.featurePolicy`: the header itself was renamed by browsers.
    pub const FEATURE_POLICY: Deprecation = Deprecation {
        note: "`featurePolicy` is deprecated in v3 (browsers replaced Feature-Policy by Permissions-Policy)",
        instead: "use `permissionsPolicy`",
    };
    /// `stripPrefix.forceSlash`.
    pub const FORCE_SLASH: Deprecation =
        Deprecation { note: "`forceSlash` is a v2 option, deprecated in v3", instead: "remove it" };
    /// `contentType.autoDetect`: in v3 the presence of the middleware enables detection.
    pub const AUTO_DETECT: Deprecation = Deprecation {
        note: "`autoDetect` is a v2 option, deprecated in v3: v3 never guesses Content-Type unless a \
               `contentType` middleware is used",
        instead: "write `contentType: {}` to enable detection, or remove the middleware to disable it",
    };
    /// `forwardAuth.tls.caOptional`: parsed, no effect in v3.
    pub const CA_OPTIONAL: Deprecation =
        Deprecation { note: "`caOptional` has no effect in v3 (it is read and ignored)", instead: "remove it" };
    /// `tls.options.*.preferServerCipherSuites`: parsed, no effect in v3 (Go ignores it since 1.18).
    pub const PREFER_SERVER_CIPHER_SUITES: Deprecation = Deprecation {
        note: "`preferServerCipherSuites` has no effect in v3 (Go's TLS stack ignores it)",
        instead: "remove it",
    };
    /// TCP `loadBalancer.terminationDelay` (milliseconds): moved to TCP servers transports (a duration).
    pub const TERMINATION_DELAY: Deprecation = Deprecation {
        note: "`terminationDelay` on a TCP load balancer is deprecated, and ignored when the load balancer \
               names a `serversTransport`",
        instead: "set `terminationDelay` (a duration such as `100ms`) on a `tcp.serversTransports` entry and \
                  reference it with `serversTransport`",
    };
    /// TCP `loadBalancer.proxyProtocol`: moved to TCP servers transports.
    pub const PROXY_PROTOCOL: Deprecation = Deprecation {
        note: "`proxyProtocol` on a TCP load balancer is deprecated, and ignored when the load balancer names a \
               `serversTransport`",
        instead: "set `proxyProtocol` on a `tcp.serversTransports` entry and reference it with `serversTransport`",
    };
    /// Router `ruleSyntax`: a migration aid for v2 rules.
    pub const RULE_SYNTAX: Deprecation = Deprecation {
        note: "`ruleSyntax` is a v2-to-v3 migration aid, deprecated since v3.0",
        instead: "rewrite the rule in the v3 syntax and remove `ruleSyntax`",
    };
}

impl DynamicConfig {
    /// The definitions of one section, by name (certificates have none; see [`TlsConfig::certificates`]).
    pub fn names(&self, section: Section) -> Vec<&str> {
        fn keys<T>(m: Option<&std::collections::BTreeMap<String, T>>) -> Vec<&str> {
            m.map(|m| m.keys().map(String::as_str).collect()).unwrap_or_default()
        }
        let (http, tcp, udp, tls) = (self.http.as_ref(), self.tcp.as_ref(), self.udp.as_ref(), self.tls.as_ref());
        match section {
            Section::HttpRouter => keys(http.and_then(|h| h.routers.as_ref())),
            Section::HttpService => keys(http.and_then(|h| h.services.as_ref())),
            Section::HttpMiddleware => keys(http.and_then(|h| h.middlewares.as_ref())),
            Section::HttpServersTransport => keys(http.and_then(|h| h.servers_transports.as_ref())),
            Section::TcpRouter => keys(tcp.and_then(|t| t.routers.as_ref())),
            Section::TcpService => keys(tcp.and_then(|t| t.services.as_ref())),
            Section::TcpMiddleware => keys(tcp.and_then(|t| t.middlewares.as_ref())),
            Section::TcpServersTransport => keys(tcp.and_then(|t| t.servers_transports.as_ref())),
            Section::UdpRouter => keys(udp.and_then(|u| u.routers.as_ref())),
            Section::UdpService => keys(udp.and_then(|u| u.services.as_ref())),
            Section::TlsCertificate => Vec::new(),
            Section::TlsOptions => keys(tls.and_then(|t| t.options.as_ref())),
            Section::TlsStore => keys(tls.and_then(|t| t.stores.as_ref())),
        }
    }
}
