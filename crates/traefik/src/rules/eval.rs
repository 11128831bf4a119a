//! Matching: whether a rule matches a request, as Traefik's matchers decide it.

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::*;

/// A request as the simulator sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    /// The `Host` header (or URL authority), port allowed: `example.com:8443`, `[::1]:80`.
    pub host: String,
    /// The path the matchers compare: Go's `RawPath` when the path was not written in Go's default escaping
    /// (after Traefik normalised and cleaned it), else the decoded path. The simulator computes it from the
    /// path as written (`/x/../a%20b` is matched as `/a b`, `/a%2fb` as `/a%2Fb`).
    pub path: String,
    pub method: String,
    /// Header values by lower-cased name (names are compared case-insensitively anyway).
    pub headers: BTreeMap<String, Vec<String>>,
    /// Decoded query parameters in order; a parameter without `=` has the value "".
    pub query: Vec<(String, String)>,
    /// The TCP peer address (Traefik's ClientIP uses the remote address, never X-Forwarded-For).
    pub client_ip: Option<IpAddr>,
}

impl Request {
    /// A request with `method`, `host` and `path`, nothing else.
    pub fn new(method: &str, host: &str, path: &str) -> Self {
        Request { host: host.to_string(), path: path.to_string(), method: method.to_string(), ..Request::default() }
    }

    /// Adds a header value (the name is stored lower-cased).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.entry(name.to_ascii_lowercase()).or_default().push(value.to_string());
        self
    }

    /// Adds a query parameter.
    pub fn query(mut self, key: &str, value: &str) -> Self {
        self.query.push((key.to_string(), value.to_string()));
        self
    }

    pub fn client_ip(mut self, ip: IpAddr) -> Self {
        self.client_ip = Some(ip);
        self
    }
}

impl Rule {
    /// Whether Traefik v3 would match `req` with this rule.
    pub fn matches(&self, req: &Request) -> bool {
        self.expr.matches(req)
    }
}

impl Expr {
    pub fn matches(&self, req: &Request) -> bool {
        match self {
            Expr::Matcher(m) => m.matches(req),
            Expr::Not(inner) => !inner.matches(req),
            Expr::And(items) => items.iter().all(|e| e.matches(req)),
            Expr::Or(items) => items.iter().any(|e| e.matches(req)),
        }
    }
}

impl Matcher {
    /// Traefik v3's semantics (`pkg/muxer/http/matcher.go`):
    /// - `Host`: the request host lower-cased, port removed, equals the value lower-cased; a trailing dot on
    ///   either side is ignored. (CNAME flattening is not simulated.)
    /// - `HostRegexp`, `PathRegexp`, `HeaderRegexp`, `QueryRegexp`: Go's `MatchString`, which is **not anchored**:
    ///   the pattern matches anywhere unless it has `^`/`$`. `HostRegexp` sees the lower-cased host without port.
    /// - `Path`: equal; `PathPrefix`: starts with (byte-wise, so `/api` also matches `/apis`).
    /// - `Method`: equal to the value upper-cased.
    /// - `Header`: one of the header's values equals the value exactly; `Host` is never a header in Go.
    /// - `Query(key, value)`: one of the key's values equals the value. `Query(key)` compares with the empty
    ///   value: it matches `?key` and `?key=`, **not** `?key=1` (read from Traefik's code, not run).
    ///   `QueryRegexp` with one argument is `Query`.
    /// - `ClientIP`: the peer address equals the IP or is within the CIDR (IPv4-mapped IPv6 addresses count as
    ///   IPv4). No peer address: no match.
    /// - A regexp `regex-lite` cannot run (see SY3157): no match.
    pub fn matches(&self, req: &Request) -> bool {
        let value = self.arg(0);
        match self.kind {
            MatcherKind::Host => {
                let req_host = canonical_host(&req.host);
                let host = value.to_ascii_lowercase();
                !req_host.is_empty()
                    && (req_host == host
                        || host.strip_suffix('.') == Some(req_host.as_str())
                        || req_host.strip_suffix('.') == Some(host.as_str()))
            }
            MatcherKind::HostRegexp => self.regex_matches(&canonical_host(&req.host)),
            MatcherKind::Path => req.path == value,
            MatcherKind::PathPrefix => req.path.starts_with(value),
            MatcherKind::PathRegexp => self.regex_matches(&req.path),
            MatcherKind::Method => req.method == value.to_uppercase(),
            MatcherKind::ClientIP => match (&self.compiled, req.client_ip) {
                (Compiled::Ip(range), Some(ip)) => range.contains(ip),
                _ => false,
            },
            MatcherKind::Header | MatcherKind::HeaderRegexp => {
                if value.eq_ignore_ascii_case("host") {
                    return false;
                }
                let mut values = req.headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case(value)).flat_map(|(_, v)| v);
                if self.kind == MatcherKind::Header {
                    values.any(|v| v == self.arg(1))
                } else {
                    values.any(|v| self.regex_matches(v))
                }
            }
            MatcherKind::Query | MatcherKind::QueryRegexp => {
                let mut values = req.query.iter().filter(|(k, _)| k == value).map(|(_, v)| v).peekable();
                if values.peek().is_none() {
                    return false;
                }
                if self.kind == MatcherKind::QueryRegexp && self.args.len() == 2 {
                    values.any(|v| self.regex_matches(v))
                } else {
                    values.any(|v| v == self.arg(1))
                }
            }
        }
    }

    pub(crate) fn regex_matches(&self, text: &str) -> bool {
        match &self.compiled {
            Compiled::Regex(Some(re)) => re.is_match(text),
            _ => false,
        }
    }
}

/// Traefik's canonical host: port removed (Go's `net.SplitHostPort`, brackets of a bare IPv6 literal dropped),
/// lower-cased.
pub(crate) fn canonical_host(host: &str) -> String {
    let bare = if !host.contains(':') {
        host
    } else if let Some(rest) = host.strip_prefix('[') {
        match rest.find(']') {
            Some(end) if rest[end + 1..].starts_with(':') || end + 1 == rest.len() => &rest[..end],
            _ => host,
        }
    } else {
        match host.rsplit_once(':') {
            Some((name, _)) if !name.contains(':') => name,
            _ => host,
        }
    };
    bare.to_lowercase()
}

/// An IP address (all bits significant) or a CIDR range, as Traefik's `ip.Checker` reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IpRange {
    pub(crate) addr: IpAddr,
    pub(crate) prefix: u8,
    pub(crate) single: bool,
}

impl IpRange {
    /// Go's `net.ParseIP`, then `net.ParseCIDR`.
    /// The error says what is wrong with a CIDR (`None`: not an address at all).
    pub(crate) fn parse(text: &str) -> Result<IpRange, Option<&'static str>> {
        if let Ok(addr) = text.parse::<IpAddr>() {
            let prefix = if addr.is_ipv4() { 32 } else { 128 };
            return Ok(IpRange { addr, prefix, single: true });
        }
        let Some((addr, bits)) = text.split_once('/') else {
            return Err(None);
        };
        let addr: IpAddr = addr.parse().map_err(|_| Some("the part before `/` is not an IP address"))?;
        // Go's `dtoi`: decimal digits, leading zeros allowed (`/08` is `/8`).
        let valid_bits = !bits.is_empty() && bits.bytes().all(|b| b.is_ascii_digit());
        let digits = bits.trim_start_matches('0');
        let prefix: u8 = match (valid_bits, digits) {
            (false, _) => u8::MAX,
            (true, "") => 0,
            (true, digits) => digits.parse().unwrap_or(u8::MAX),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if prefix > max {
            return Err(Some(if addr.is_ipv4() {
                "the prefix length after `/` must be 0-32"
            } else {
                "the prefix length after `/` must be 0-128"
            }));
        }
        Ok(IpRange { addr, prefix, single: false })
    }

    pub(crate) fn bits(addr: IpAddr) -> u128 {
        match addr {
            IpAddr::V4(v4) => u128::from(u32::from(v4)),
            IpAddr::V6(v6) => u128::from(v6),
        }
    }

    pub(crate) fn mask(&self) -> u128 {
        let width = if self.addr.is_ipv4() { 32 } else { 128 };
        let host_bits = u32::from(width - self.prefix);
        let all = if width == 32 { u128::from(u32::MAX) } else { u128::MAX };
        all.checked_shl(host_bits).map_or(0, |m| m & all)
    }

    /// The network address (host bits cleared).
    pub(crate) fn network(&self) -> IpAddr {
        let bits = IpRange::bits(self.addr) & self.mask();
        match self.addr {
            IpAddr::V4(_) => IpAddr::V4(u32::try_from(bits).unwrap_or(0).into()),
            IpAddr::V6(_) => IpAddr::V6(bits.into()),
        }
    }

    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        if self.single {
            return self.addr.to_canonical() == ip;
        }
        // Go's IPNet.Contains: an IPv4 (or IPv4-mapped) address only ever matches a network written as IPv4.
        if ip.is_ipv4() != self.addr.is_ipv4() {
            return false;
        }
        IpRange::bits(ip) & self.mask() == IpRange::bits(self.addr) & self.mask()
    }
}
