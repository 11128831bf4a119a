//! Traefik's API asked from this machine over plain HTTP, for the local backend (`status --traefik-api URL`):
//! the user runs Traefik, with its API on an entry point of its own (`--api.insecure`, entry point `traefik`,
//! `:8080` by default).

use std::io::{Read as _, Write as _};
use std::net::{TcpStream, ToSocketAddrs as _};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow, bail};

/// How long to wait for Traefik to connect, and then for its whole answer.
const TIMEOUT: Duration = Duration::from_secs(10);
/// The largest answer read (`/api/rawdata` of some thousand routers is a few MB).
const MAX_ANSWER: usize = 256 << 20;

/// A checked `--traefik-api` URL: `http://HOST[:PORT][/PREFIX]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiUrl {
    /// `host:port`
    authority: String,
    /// Empty, or `/prefix` without a trailing slash.
    prefix: String,
}

impl ApiUrl {
    pub(crate) fn parse(url: &str) -> Result<ApiUrl> {
        let hint = "give Traefik's API as http://HOST:PORT, e.g. http://127.0.0.1:8080 (the `traefik` entry point \
                    with --api.insecure)";
        if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
            bail!("--traefik-api {url:?} has a space or a control character; {hint}");
        }
        let Some(rest) = url.strip_prefix("http://") else {
            bail!("--traefik-api {url:?} is not an http:// URL; {hint}");
        };
        let (authority, prefix) = match rest.find('/') {
            Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
            None => (rest, ""),
        };
        if authority.is_empty() || authority.contains('@') || prefix.contains(['?', '#']) {
            bail!("--traefik-api {url:?}: {hint}");
        }
        let has_port = authority.rsplit_once(':').is_some_and(|(_, p)| !p.contains(']'));
        let authority = if has_port { authority.to_string() } else { format!("{authority}:80") };
        Ok(ApiUrl { authority, prefix: prefix.to_string() })
    }

    pub(crate) fn rawdata_url(&self) -> String {
        format!("http://{}{}/api/rawdata", self.authority, self.prefix)
    }

    /// Traefik's `/api/rawdata` answer.
    pub(crate) fn rawdata(&self) -> Result<String> {
        self.get("/api/rawdata", "application/json", "is the API enabled (--api.insecure) on that entry point?")
    }

    /// Traefik's Prometheus metrics (on the same entry point as its API unless told otherwise).
    pub(crate) fn metrics(&self) -> Result<String> {
        self.get("/metrics", "text/plain", "are Prometheus metrics on (--metrics.prometheus) on that entry point?")
    }

    /// One middleware as Traefik serves it (`/api/http/middlewares/NAME`, NAME with its provider), or None
    /// while Traefik has none of that name.
    pub(crate) fn middleware(&self, name: &str) -> Result<Option<serde_json::Value>> {
        let path = format!("/api/http/middlewares/{name}");
        let (status, body) = self.fetch(&path, "application/json")?;
        match status.as_str() {
            "200" => Ok(Some(serde_json::from_str(&body).with_context(|| format!("{}: not JSON", self.url(&path)))?)),
            "404" => Ok(None),
            other => bail!("could not ask Traefik's API at {}: it answered {other}", self.url(&path)),
        }
    }

    /// `http://HOST:PORT[/PREFIX]`, as given.
    pub(crate) fn base(&self) -> String {
        format!("http://{}{}", self.authority, self.prefix)
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{}{path}", self.authority, self.prefix)
    }

    fn get(&self, path: &str, accept: &str, hint: &str) -> Result<String> {
        let (status, body) = self.fetch(path, accept)?;
        if status != "200" {
            let first = body.lines().next().unwrap_or_default();
            bail!("could not ask Traefik's API at {}: it answered {status} ({first}); {hint}", self.url(path));
        }
        Ok(body)
    }

    /// One GET: the status code and the body.
    fn fetch(&self, path: &str, accept: &str) -> Result<(String, String)> {
        let url = self.url(path);
        let fail = || format!("could not ask Traefik's API at {url}");
        let address = self
            .authority
            .to_socket_addrs()
            .with_context(fail)?
            .next()
            .ok_or_else(|| anyhow!("{} resolves to no address", self.authority))
            .with_context(fail)?;
        let mut stream = TcpStream::connect_timeout(&address, TIMEOUT).with_context(fail)?;
        stream.set_write_timeout(Some(TIMEOUT)).with_context(fail)?;
        // HTTP/1.0: the answer ends when the connection closes, never chunked.
        let request =
            format!("GET {}{path} HTTP/1.0\r\nHost: {}\r\nAccept: {accept}\r\n\r\n", self.prefix, self.authority);
        stream.write_all(request.as_bytes()).with_context(fail)?;
        // Bounded as a whole, not only per read: a Traefik that trickles its answer must not hold status.
        let deadline = Instant::now() + TIMEOUT;
        let mut raw = Vec::new();
        let mut buf = [0u8; 64 * 1024];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                bail!("{}: no whole answer within {}s", fail(), TIMEOUT.as_secs());
            }
            stream.set_read_timeout(Some(left)).with_context(fail)?;
            match stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => raw.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e).with_context(fail),
            }
            if raw.len() > MAX_ANSWER {
                bail!("{}: the answer is larger than {} MB", fail(), MAX_ANSWER >> 20);
            }
        }
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or_else(|| anyhow!("the answer is not HTTP"))
            .with_context(fail)?;
        let head = String::from_utf8_lossy(&raw[..split]);
        let status = head.lines().next().unwrap_or_default().split_whitespace().nth(1).unwrap_or_default().to_string();
        let body = String::from_utf8_lossy(&raw[split + 4..]).into_owned();
        Ok((status, body))
    }
}

#[cfg(test)]
mod tests {
    use super::ApiUrl;

    #[test]
    fn api_urls() {
        let url = |s: &str| ApiUrl::parse(s).map(|u| u.rawdata_url()).map_err(|e| e.to_string());
        assert_eq!(url("http://127.0.0.1:8080"), Ok("http://127.0.0.1:8080/api/rawdata".into()));
        assert_eq!(url("http://127.0.0.1:8080/"), Ok("http://127.0.0.1:8080/api/rawdata".into()));
        assert_eq!(url("http://traefik.internal/admin/"), Ok("http://traefik.internal:80/admin/api/rawdata".into()));
        assert_eq!(url("http://[::1]:9000"), Ok("http://[::1]:9000/api/rawdata".into()));
        assert_eq!(url("http://[::1]"), Ok("http://[::1]:80/api/rawdata".into()));
        for bad in ["https://127.0.0.1:8080", "127.0.0.1:8080", "http://", "http://a\r\nX: y", "http://u@h:1"] {
            assert!(url(bad).unwrap_err().contains("--traefik-api"), "{bad}");
        }
    }
}
