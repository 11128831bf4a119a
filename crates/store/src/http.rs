//! One HTTP/1.0 POST of a JSON body on a fresh connection, for etcd's JSON gateway: HTTP/1.0 so the answer
//! comes whole and ends when the connection closes (no chunked encoding to read).

use std::io::{Read as _, Write as _};
use std::net::{TcpStream, ToSocketAddrs as _};
use std::time::Duration;

/// How long to wait for a connection, and then for each read or write.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(5);
/// The largest answer read.
const MAX_ANSWER: u64 = 64 << 20;

/// Why a request got no answer: the connection, or an answer that is not HTTP.
#[derive(Debug)]
pub(crate) struct NoAnswer(pub(crate) String);

/// POSTs `body` to `http://address{path}`; returns the status and the body.
pub(crate) fn post(address: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Result<(u16, String), NoAnswer> {
    let target = address
        .to_socket_addrs()
        .map_err(|e| NoAnswer(format!("{address}: {e}")))?
        .next()
        .ok_or_else(|| NoAnswer(format!("{address} resolves to no address")))?;
    let mut stream = TcpStream::connect_timeout(&target, TIMEOUT).map_err(|e| NoAnswer(e.to_string()))?;
    stream.set_read_timeout(Some(TIMEOUT)).map_err(|e| NoAnswer(e.to_string()))?;
    stream.set_write_timeout(Some(TIMEOUT)).map_err(|e| NoAnswer(e.to_string()))?;
    let mut request = format!(
        "POST {path} HTTP/1.0\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).map_err(|e| NoAnswer(e.to_string()))?;
    let mut raw = Vec::new();
    stream.take(MAX_ANSWER).read_to_end(&mut raw).map_err(|e| NoAnswer(e.to_string()))?;
    parse(&raw)
}

/// The status and body of a whole HTTP answer.
fn parse(raw: &[u8]) -> Result<(u16, String), NoAnswer> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n").ok_or_else(|| NoAnswer("the answer was cut short".into()))?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .filter(|_| head.starts_with("HTTP/"))
        .ok_or_else(|| NoAnswer(format!("the answer is not HTTP: {:?}", head.lines().next().unwrap_or(""))))?;
    Ok((status, body.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_parse() {
        let (status, body) = parse(b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{\"a\":1}").unwrap();
        assert_eq!((status, body.as_str()), (200, "{\"a\":1}"));
        assert!(parse(b"HTTP/1.0 200 OK\r\n").is_err());
        assert!(parse(b"SSH-2.0-OpenSSH\r\n\r\n").unwrap_err().0.contains("not HTTP"));
    }
}
