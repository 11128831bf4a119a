//! A simulator request from its parts as a person writes them: `switchyard route`'s options and the
//! playground's "Who answers?" form both come through [`HttpRequest::from_parts`], so that both read a header,
//! a cookie or a client address the same way and refuse the same mistakes in the same words.

use std::fmt;

use super::http::HttpRequest;
use crate::rules;

/// The parts of a request, as written: blank items are skipped, names and values trimmed.
#[derive(Debug, Clone, Default)]
pub struct RequestParts<'a> {
    /// The method; empty: `GET`.
    pub method: &'a str,
    /// The `Host` header, port allowed; required.
    pub host: &'a str,
    /// The path; empty: `/`.
    pub path: &'a str,
    /// Headers, each `Name: value`.
    pub headers: Vec<&'a str>,
    /// Query parameters, each `name=value`.
    pub query: Vec<&'a str>,
    /// Cookies, each `name=value`; a sticky cookie whose value names a child service pins it.
    pub cookies: Vec<&'a str>,
    /// The client's address (what Traefik's `ClientIP` matches); None or blank: not known.
    pub client_ip: Option<&'a str>,
    /// The entry point the request arrives on; None or blank: any.
    pub entry_point: Option<&'a str>,
    /// The request arrives over TLS.
    pub tls: bool,
}

/// Which part of a request a [`PartError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Host,
    Header,
    Query,
    Cookie,
    ClientIp,
}

impl Part {
    /// The part's name, as the playground's request names its fields: `host`, `header`, `query`, `cookie`,
    /// `client_ip`.
    pub fn name(self) -> &'static str {
        match self {
            Part::Host => "host",
            Part::Header => "header",
            Part::Query => "query",
            Part::Cookie => "cookie",
            Part::ClientIp => "client_ip",
        }
    }
}

/// A part that cannot be read, with what to write instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartError {
    pub part: Part,
    /// The whole message: `header "X-Canary 1": write it as NAME:VALUE`.
    pub message: String,
}

impl fmt::Display for PartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PartError {}

/// `NAME<sep>VALUE` items, trimmed; an error for each item without a name.
fn pairs(items: &[&str], sep: char, part: Part, errors: &mut Vec<PartError>) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for item in items.iter().map(|i| i.trim()).filter(|i| !i.is_empty()) {
        match item.split_once(sep) {
            Some((k, v)) if !k.trim().is_empty() => found.push((k.trim().to_string(), v.trim().to_string())),
            _ => errors
                .push(PartError { part, message: format!("{} {item:?}: write it as NAME{sep}VALUE", part.name()) }),
        }
    }
    found
}

impl HttpRequest {
    /// The request made of `parts`, or every part that cannot be read (in the order of [`RequestParts`]'
    /// fields).
    pub fn from_parts(parts: &RequestParts<'_>) -> Result<HttpRequest, Vec<PartError>> {
        let mut errors = Vec::new();
        let host = parts.host.trim();
        if host.is_empty() {
            errors.push(PartError { part: Part::Host, message: "the request needs a host".into() });
        }
        let method = Some(parts.method.trim()).filter(|m| !m.is_empty()).unwrap_or("GET");
        let path = Some(parts.path).filter(|p| !p.is_empty()).unwrap_or("/");
        let mut request = rules::Request::new(method, host, path);
        for (name, value) in pairs(&parts.headers, ':', Part::Header, &mut errors) {
            request = request.header(&name, &value);
        }
        for (name, value) in pairs(&parts.query, '=', Part::Query, &mut errors) {
            request = request.query(&name, &value);
        }
        let cookies = pairs(&parts.cookies, '=', Part::Cookie, &mut errors).into_iter().collect();
        match parts.client_ip.map(str::trim).filter(|ip| !ip.is_empty()) {
            None => {}
            Some(ip) => match ip.parse() {
                Ok(ip) => request = request.client_ip(ip),
                Err(_) => errors.push(PartError {
                    part: Part::ClientIp,
                    message: format!("client IP {ip:?} is not an IP address"),
                }),
            },
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let entry_point = parts.entry_point.map(str::trim).filter(|e| !e.is_empty()).map(str::to_string);
        Ok(HttpRequest { entry_point, tls: parts.tls, request, cookies })
    }
}

/// The path Traefik's matchers see for a request whose path is `written` (as sent, escapes included), or None
/// when Go's HTTP server refuses it (a `%` not followed by two hex digits: 400 Bad Request). Go reads the path
/// into a decoded `Path` and, when `written` is not the default escaping of it, a `RawPath`; Traefik's entry
/// points then decode percent-escaped unreserved characters in the `RawPath` and capitalise the other escapes
/// (`normalizePath`), clean it (`sanitizePath`: Go's `url.JoinPath()`, `path.Clean` keeping a trailing slash),
/// and the matchers read the `RawPath` when there is one, else the decoded `Path`. So `/x/../api/v1`,
/// `/api/./v1` and `/ap%69/v1` are all routed as `/api/v1`, `/a%20b` as `/a b`, and `/a%2fb` as `/a%2Fb`.
pub(crate) fn routing_path(written: &str) -> Option<String> {
    let path = unescape(written)?;
    let raw = (escape(&path) != written).then(|| normalize(written));
    let escaped = match raw {
        Some(raw) if valid_encoded(&raw) && unescape(&raw).as_deref() == Some(&path[..]) => raw,
        _ => escape(&path),
    };
    let cleaned = clean_path(&escaped);
    let path = unescape(&cleaned)?;
    Some(if escape(&path) != cleaned { cleaned } else { String::from_utf8_lossy(&path).into_owned() })
}

/// Go's `url.PathUnescape`: `%XX` decoded (any other `%` is an error), everything else as it is.
fn unescape(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok().filter(|_| hex.bytes().all(|b| b.is_ascii_hexdigit()))?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

/// Whether Go escapes byte `b` in a path (`shouldEscape(b, encodePath)`). The sub-delimiters `!`, `'`, `(`,
/// `)` and `*` are not escaped by the Go Traefik 3.7 is built with: seen running, `/a%28b%29` and `/a%27b`
/// keep their escapes (Traefik matches them as written, not as `/a(b)` or `/a'b`).
fn should_escape(b: u8) -> bool {
    !(b.is_ascii_alphanumeric() || b"-_.~$&+,/:;=@!'()*".contains(&b))
}

/// Go's escaping of a path: what [`should_escape`] names as `%XX` (capitals).
fn escape(path: &[u8]) -> String {
    let mut out = String::with_capacity(path.len());
    for &b in path {
        if should_escape(b) {
            out.push_str(&format!("%{b:02X}"));
        } else {
            out.push(char::from(b));
        }
    }
    out
}

/// Go's `validEncoded(s, encodePath)`: only characters a path may hold as written.
fn valid_encoded(text: &str) -> bool {
    text.bytes().all(|b| b"!$&'()*+,;=:@[]%".contains(&b) || !should_escape(b))
}

/// Traefik's `normalizePath` on a raw path: escaped unreserved characters decoded, other escapes capitalised.
fn normalize(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = String::with_capacity(raw.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| raw.get(i + 1..i + 3))
            .flatten()
            .filter(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(b) if b.is_ascii_alphanumeric() || b"-._~".contains(&b) => out.push(char::from(b)),
            Some(b) => out.push_str(&format!("%{b:02X}")),
            None => {
                let c = raw[i..].chars().next().unwrap_or('%');
                out.push(c);
                i += c.len_utf8();
                continue;
            }
        }
        i += 3;
    }
    out
}

/// Go's `path.Clean` keeping a trailing slash (`url.JoinPath()`): `.` and `..` segments resolved, repeated
/// slashes merged. `%2e%2e` is not a dot segment here (normalisation decodes it first).
fn clean_path(path: &str) -> String {
    // A relative path is cleaned as if rooted, then the `/` is taken off again (Go's `JoinPath`).
    let mut kept: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                kept.pop();
            }
            segment => kept.push(segment),
        }
    }
    let mut cleaned = format!("/{}", kept.join("/"));
    if !path.starts_with('/') {
        cleaned.remove(0);
    }
    if path.ends_with('/') && !cleaned.ends_with('/') {
        cleaned.push('/');
    }
    cleaned
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parts_make_the_request_with_defaults_for_what_is_left_out() {
        let req = HttpRequest::from_parts(&RequestParts {
            host: " app.example.com ",
            headers: vec!["X-Canary: 1", "", "Accept:text/html"],
            query: vec!["a=1", " b = 2 "],
            cookies: vec!["lb=green"],
            client_ip: Some("10.0.0.1"),
            entry_point: Some(" "),
            tls: true,
            ..RequestParts::default()
        })
        .unwrap();
        assert_eq!((req.request.method.as_str(), req.request.host.as_str()), ("GET", "app.example.com"));
        assert_eq!(req.request.path, "/");
        assert_eq!(req.request.headers["x-canary"], ["1"]);
        assert_eq!(req.request.headers["accept"], ["text/html"]);
        assert_eq!(req.request.query, [("a".to_string(), "1".to_string()), ("b".to_string(), "2".to_string())]);
        assert_eq!(req.cookies["lb"], "green");
        assert_eq!(req.request.client_ip, Some("10.0.0.1".parse().unwrap()));
        assert_eq!((req.entry_point, req.tls), (None, true));
    }

    #[test]
    fn paths_are_cleaned_as_traefik_cleans_them() {
        for (written, routed) in [
            ("/x/../api/v1", "/api/v1"),
            ("/a//b/", "/a/b/"),
            ("/a/./b/.", "/a/b"),
            ("/..", "/"),
            ("/../../a/", "/a/"),
            ("/a/b/..", "/a"),
            ("/%2e%2e/a", "/%2e%2e/a"),
            ("/", "/"),
            ("*", "*"),
        ] {
            assert_eq!(clean_path(written), routed, "{written}");
        }
        for (written, routed) in [
            ("/x/../api/v1", Some("/api/v1")),
            ("/%2e%2e/api/v1", Some("/api/v1")),
            ("/ap%69/v1", Some("/api/v1")),
            ("/a%20b", Some("/a b")),
            ("/a b", Some("/a b")),
            ("/a%2fb", Some("/a%2Fb")),
            ("/a%2Fb/../c", Some("/c")),
            ("/a(b)", Some("/a(b)")),
            ("/a%28b%29", Some("/a%28b%29")),
            ("/caf%C3%A9", Some("/café")),
            ("/%zz", None),
            ("/100%", None),
        ] {
            assert_eq!(routing_path(written).as_deref(), routed, "{written}");
        }
    }

    #[test]
    fn every_part_that_cannot_be_read_is_named_in_order() {
        let errors = HttpRequest::from_parts(&RequestParts {
            host: " ",
            headers: vec!["no colon"],
            query: vec!["=1"],
            cookies: vec!["lb"],
            client_ip: Some("10.0.0"),
            ..RequestParts::default()
        })
        .unwrap_err();
        let shown: Vec<(&str, &str)> = errors.iter().map(|e| (e.part.name(), e.message.as_str())).collect();
        assert_eq!(
            shown,
            [
                ("host", "the request needs a host"),
                ("header", "header \"no colon\": write it as NAME:VALUE"),
                ("query", "query \"=1\": write it as NAME=VALUE"),
                ("cookie", "cookie \"lb\": write it as NAME=VALUE"),
                ("client_ip", "client IP \"10.0.0\" is not an IP address"),
            ]
        );
    }
}
