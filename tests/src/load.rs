//! A bounded HTTP load generator for the end-to-end tests and the rollback benchmark: several HTTP/1.1
//! keep-alive connections (a new one whenever the server closes one), each sending one request at a time to one
//! target at a fixed pace, a few hundred requests per second in total. It stops by itself after
//! [`Options::max_duration`], or when [`Load::stop`] is called, and records every request: when it was sent
//! (relative to the start), the step the test had marked ([`Load::step`]), the connection, the host, the status,
//! the body (the test app answers its version), the latency and what went wrong, if anything.
//!
//! ```no_run
//! # use switchyard_e2e::load::{Load, Options, Target};
//! let load = Load::start(&[Target::new("172.18.0.2:80", "app.example.test")], Options::default());
//! load.step("rollback");
//! let since = std::time::Instant::now();
//! // ... run the command ...
//! let moved = load.wait_for_switch(since, "app.example.test", "v1", std::time::Duration::from_secs(30));
//! println!("every request answered by v1 from {:?} after the command started", moved.settled);
//! let report = load.stop();
//! print!("{report}");
//! assert_eq!(report.failures().count(), 0, "{report}");
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs as _};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Where a connection sends its requests: `GET path` with `Host: host` to `addr` (`ip:port`).
#[derive(Debug, Clone)]
pub struct Target {
    pub addr: String,
    pub host: String,
    pub path: String,
}

impl Target {
    /// `GET /` with `Host: host` to `addr`.
    pub fn new(addr: &str, host: &str) -> Target {
        Target { addr: addr.to_string(), host: host.to_string(), path: "/".to_string() }
    }
}

/// How much load, for how long.
#[derive(Debug, Clone)]
pub struct Options {
    /// Connections, spread over the targets in turn (connection `i` sends to target `i % targets`).
    pub connections: usize,
    /// Requests per second, all connections together.
    pub rate: u32,
    /// The load stops by itself after this long.
    pub max_duration: Duration,
    /// A request with no complete answer after this long fails (and its connection is closed).
    pub timeout: Duration,
}

impl Default for Options {
    /// 6 connections, 300 requests per second in total, at most 10 minutes, 10 s per request.
    fn default() -> Options {
        Options { connections: 6, rate: 300, max_duration: Duration::from_secs(600), timeout: Duration::from_secs(10) }
    }
}

/// One request and what came of it.
#[derive(Debug, Clone)]
pub struct Record {
    /// When it was sent, since the load started.
    pub at: Duration,
    /// The step the test had marked when it was sent.
    pub step: Arc<str>,
    /// Which connection (0-based) sent it.
    pub connection: usize,
    /// Its `Host` header.
    pub host: Arc<str>,
    /// The response's status, if one was read.
    pub status: Option<u16>,
    /// The response's body, trimmed (the test app answers its version).
    pub body: String,
    /// From sending to the whole answer (or the error).
    pub latency: Duration,
    /// What went wrong at the connection level, if anything.
    pub error: Option<String>,
}

impl Record {
    /// Failed: no complete answer, or a status other than 200.
    pub fn failed(&self) -> bool {
        self.error.is_some() || self.status != Some(200)
    }

    /// The version that answered: the body of a 200 answer.
    pub fn version(&self) -> Option<&str> {
        (!self.failed()).then_some(self.body.as_str())
    }

    /// When the answer (or the error) arrived, since the load started.
    pub fn done(&self) -> Duration {
        self.at + self.latency
    }
}

impl fmt::Display for Record {
    /// The request and what came of it, e.g. `step promote, sent at 12.345 s, connection 3, host
    /// app.example.test: status 502 "Bad Gateway" after 3.1 ms`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "step {}, sent at {:.3} s, connection {}, host {}: ",
            self.step,
            self.at.as_secs_f64(),
            self.connection,
            self.host
        )?;
        let ms = self.latency.as_secs_f64() * 1000.0;
        match (&self.error, self.status) {
            (Some(e), Some(s)) => write!(f, "status {s}, then {e} after {ms:.1} ms"),
            (Some(e), None) => write!(f, "{e} after {ms:.1} ms"),
            (None, Some(s)) => write!(f, "status {s} {:?} after {ms:.1} ms", short(&self.body)),
            (None, None) => write!(f, "no answer after {ms:.1} ms"),
        }
    }
}

fn short(body: &str) -> String {
    if body.chars().count() > 80 { format!("{}...", body.chars().take(80).collect::<String>()) } else { body.into() }
}

/// When the answers on a host moved to a target version, from an instant on (all times relative to it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Switch {
    /// When the last request not answered by the target (another version, or a failure) was sent.
    pub last_other: Option<Duration>,
    /// When the first request answered by the target was sent.
    pub first_target: Option<Duration>,
    /// When the first request was sent from which on every request was answered by the target: the first target
    /// answer sent after [`Switch::last_other`]. None while no such answer has come.
    pub settled: Option<Duration>,
}

struct Shared {
    stop: AtomicBool,
    step: Mutex<Arc<str>>,
    steps: Mutex<Vec<(Arc<str>, Duration)>>,
    records: Mutex<Vec<Record>>,
}

/// A running load (see the module's documentation). Stopped when dropped.
pub struct Load {
    start: Instant,
    shared: Arc<Shared>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    /// Each connection's host.
    hosts: Vec<Arc<str>>,
}

impl fmt::Debug for Load {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Load").field("hosts", &self.hosts).finish()
    }
}

impl Load {
    /// Starts the connections; the first step is `start`.
    pub fn start(targets: &[Target], options: Options) -> Load {
        assert!(
            !targets.is_empty() && options.connections > 0 && options.rate > 0,
            "a load needs targets, connections and a rate"
        );
        let start = Instant::now();
        let first: Arc<str> = Arc::from("start");
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            step: Mutex::new(first.clone()),
            steps: Mutex::new(vec![(first, Duration::ZERO)]),
            records: Mutex::new(Vec::new()),
        });
        // Each connection keeps its own pace; they start spread over one interval so the requests interleave.
        let interval = Duration::from_secs_f64(options.connections as f64 / f64::from(options.rate));
        let deadline = start + options.max_duration;
        let mut threads = Vec::new();
        for i in 0..options.connections {
            let target = targets[i % targets.len()].clone();
            let shared = shared.clone();
            let first = start + interval.mul_f64(i as f64 / options.connections as f64);
            let timeout = options.timeout;
            threads.push(
                std::thread::Builder::new()
                    .name(format!("load-{i}"))
                    .spawn(move || connection(&shared, i, &target, start, first, interval, deadline, timeout))
                    .expect("a load thread starts"),
            );
        }
        let hosts = (0..options.connections).map(|i| Arc::from(targets[i % targets.len()].host.as_str())).collect();
        Load { start, shared, threads: Mutex::new(threads), hosts }
    }

    /// Marks a step: requests sent from now on belong to `name`.
    pub fn step(&self, name: &str) {
        let name: Arc<str> = Arc::from(name);
        *self.shared.step.lock().unwrap() = name.clone();
        self.shared.steps.lock().unwrap().push((name, self.start.elapsed()));
    }

    /// `instant` on the load's clock (since it started; zero for an instant before).
    pub fn since_start(&self, instant: Instant) -> Duration {
        instant.saturating_duration_since(self.start)
    }

    /// A copy of every request recorded so far.
    pub fn records(&self) -> Vec<Record> {
        self.shared.records.lock().unwrap().clone()
    }

    /// Whether the connections still run (false once stopped, or after the maximum duration).
    pub fn running(&self) -> bool {
        !self.shared.stop.load(Ordering::SeqCst) && self.threads.lock().unwrap().iter().any(|t| !t.is_finished())
    }

    /// Waits until `done` holds of the records (checked every 20 ms), at most `timeout`; panics naming `what`
    /// and the last records otherwise.
    pub fn wait_until(&self, what: &str, timeout: Duration, done: impl Fn(&[Record]) -> bool) {
        let until = Instant::now() + timeout;
        loop {
            {
                let records = self.shared.records.lock().unwrap();
                if done(&records) {
                    return;
                }
            }
            if Instant::now() > until || !self.running() {
                let records = self.records();
                let tail: Vec<String> = records.iter().rev().take(10).map(|r| r.to_string()).collect();
                panic!(
                    "the load did not see {what} within {} s (running: {}); the last requests, newest first:\n{}",
                    timeout.as_secs(),
                    self.running(),
                    tail.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until every connection to `host` has had an answer from `version` to a request sent after
    /// `since`, and then returns how the answers moved (see [`Report::switch`]).
    pub fn wait_for_switch(&self, since: Instant, host: &str, version: &str, timeout: Duration) -> Switch {
        let from = self.since_start(since);
        let conns: Vec<usize> = (0..self.hosts.len()).filter(|i| *self.hosts[*i] == *host).collect();
        assert!(!conns.is_empty(), "no connection of the load goes to {host}");
        self.wait_until(&format!("{version} answer every connection to {host}"), timeout, |records| {
            conns
                .iter()
                .all(|c| records.iter().any(|r| r.connection == *c && r.at >= from && r.version() == Some(version)))
        });
        switch(&self.records(), from, host, version)
    }

    /// Stops the connections (each finishes the request it is sending) and returns the report. Calling it
    /// again returns the same records.
    pub fn stop(&self) -> Report {
        self.shared.stop.store(true, Ordering::SeqCst);
        for t in self.threads.lock().unwrap().drain(..) {
            t.join().expect("a load thread ended cleanly");
        }
        let mut records = self.records();
        records.sort_by_key(|r| r.at);
        Report { records, steps: self.shared.steps.lock().unwrap().clone() }
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Ok(mut threads) = self.threads.lock() {
            for t in threads.drain(..) {
                let _ = t.join();
            }
        }
    }
}

/// One connection's loop: a request every `interval` from `first` on, until stopped or `deadline`.
#[allow(clippy::too_many_arguments)]
fn connection(
    shared: &Shared,
    index: usize,
    target: &Target,
    start: Instant,
    first: Instant,
    interval: Duration,
    deadline: Instant,
    timeout: Duration,
) {
    let host: Arc<str> = Arc::from(target.host.as_str());
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: switchyard-e2e-load\r\nAccept: */*\r\n\r\n",
        target.path, target.host
    );
    let mut conn: Option<BufReader<TcpStream>> = None;
    let mut next = first;
    loop {
        // Sleep in short slices, so that stop() is quick.
        loop {
            if shared.stop.load(Ordering::SeqCst) || Instant::now() >= deadline {
                return;
            }
            let now = Instant::now();
            if now >= next {
                break;
            }
            std::thread::sleep((next - now).min(Duration::from_millis(50)));
        }
        // Keep the pace, but never send a burst to catch up after a slow answer.
        next = (next + interval).max(Instant::now());
        let step = shared.step.lock().unwrap().clone();
        let sent = Instant::now();
        let outcome = exchange(&mut conn, &target.addr, request.as_bytes(), timeout);
        let latency = sent.elapsed();
        let (status, body, error) = match outcome {
            Ok(answer) => {
                if answer.close {
                    conn = None;
                }
                (Some(answer.status), answer.body, None)
            }
            Err(failure) => {
                conn = None;
                (failure.status, String::new(), Some(failure.what))
            }
        };
        let record = Record {
            at: sent - start,
            step,
            connection: index,
            host: host.clone(),
            status,
            body: body.trim().to_string(),
            latency,
            error,
        };
        shared.records.lock().unwrap().push(record);
    }
}

struct Answer {
    status: u16,
    body: String,
    /// The server will close the connection (or the body ran to its end).
    close: bool,
}

struct Failure {
    status: Option<u16>,
    what: String,
}

/// One request on the connection (a new one when there is none); the answer read whole.
fn exchange(
    conn: &mut Option<BufReader<TcpStream>>,
    addr: &str,
    request: &[u8],
    timeout: Duration,
) -> Result<Answer, Failure> {
    let fail = |status: Option<u16>, what: String| Failure { status, what };
    let reused = conn.is_some();
    if conn.is_none() {
        let address: SocketAddr = addr
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .ok_or_else(|| fail(None, format!("connect to {addr}: not an address")))?;
        let stream = TcpStream::connect_timeout(&address, timeout)
            .map_err(|e| fail(None, format!("connect to {addr}: {}", io_error(&e, timeout))))?;
        let _ = stream.set_nodelay(true);
        stream.set_read_timeout(Some(timeout)).map_err(|e| fail(None, format!("socket: {e}")))?;
        stream.set_write_timeout(Some(timeout)).map_err(|e| fail(None, format!("socket: {e}")))?;
        *conn = Some(BufReader::new(stream));
    }
    let reader = conn.as_mut().expect("connected above");
    let on = if reused { "a reused keep-alive connection" } else { "a new connection" };
    reader.get_mut().write_all(request).map_err(|e| fail(None, format!("send on {on}: {}", io_error(&e, timeout))))?;

    let mut line = String::new();
    let n = reader
        .read_line(&mut line)
        .map_err(|e| fail(None, format!("read the status line on {on}: {}", io_error(&e, timeout))))?;
    if n == 0 {
        return Err(fail(None, format!("the server closed {on} before answering")));
    }
    let mut parts = line.split_whitespace();
    let version = parts.next().unwrap_or_default().to_string();
    let status: u16 = parts
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| fail(None, format!("not an HTTP status line: {:?}", line.trim_end())))?;
    let mut length: Option<usize> = None;
    let mut chunked = false;
    let mut close = version == "HTTP/1.0";
    loop {
        let mut header = String::new();
        let n = reader
            .read_line(&mut header)
            .map_err(|e| fail(Some(status), format!("read the headers: {}", io_error(&e, timeout))))?;
        if n == 0 {
            return Err(fail(Some(status), "the server closed the connection in the headers".into()));
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let Some((name, value)) = header.split_once(':') else { continue };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => length = value.parse().ok(),
            "transfer-encoding" => chunked = value.to_ascii_lowercase().contains("chunked"),
            "connection" => {
                let v = value.to_ascii_lowercase();
                close = v.contains("close") || (close && !v.contains("keep-alive"));
            }
            _ => {}
        }
    }
    let body_error = |e: std::io::Error| fail(Some(status), format!("read the body: {}", io_error(&e, timeout)));
    let body = if chunked {
        read_chunked(reader).map_err(body_error)?
    } else if let Some(len) = length {
        let mut body = vec![0; len];
        reader.read_exact(&mut body).map_err(body_error)?;
        body
    } else {
        close = true;
        let mut body = Vec::new();
        reader.read_to_end(&mut body).map_err(body_error)?;
        body
    };
    Ok(Answer { status, body: String::from_utf8_lossy(&body).into_owned(), close })
}

fn read_chunked(reader: &mut BufReader<TcpStream>) -> std::io::Result<Vec<u8>> {
    let bad = || std::io::Error::new(std::io::ErrorKind::InvalidData, "a malformed chunk");
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        if reader.read_line(&mut size)? == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the body ended early"));
        }
        let size = usize::from_str_radix(size.trim().split(';').next().unwrap_or_default(), 16).map_err(|_| bad())?;
        if size == 0 {
            // Trailers, then the empty line.
            loop {
                let mut trailer = String::new();
                if reader.read_line(&mut trailer)? == 0 || trailer.trim_end().is_empty() {
                    return Ok(body);
                }
            }
        }
        let mut chunk = vec![0; size + 2];
        reader.read_exact(&mut chunk)?;
        body.extend_from_slice(&chunk[..size]);
    }
}

fn io_error(e: &std::io::Error, timeout: Duration) -> String {
    match e.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
            format!("no answer within {} s", timeout.as_secs_f64())
        }
        _ => e.to_string(),
    }
}

/// How the answers to requests on `host` sent at or after `from` (on the load's clock) moved to `version`;
/// times relative to `from`.
fn switch(records: &[Record], from: Duration, host: &str, version: &str) -> Switch {
    let mut sorted: Vec<&Record> = records.iter().filter(|r| r.at >= from && *r.host == *host).collect();
    sorted.sort_by_key(|r| r.at);
    let last_other = sorted.iter().rposition(|r| r.version() != Some(version));
    let first_target = sorted.iter().find(|r| r.version() == Some(version)).map(|r| r.at - from);
    let settled = match last_other {
        Some(i) => sorted.get(i + 1).map(|r| r.at - from),
        None => first_target,
    };
    Switch { last_other: last_other.map(|i| sorted[i].at - from), first_target, settled }
}

/// Everything a load recorded, by step.
#[derive(Debug, Clone)]
pub struct Report {
    /// Every request, in the order they were sent.
    pub records: Vec<Record>,
    /// The steps, in order, with when they were marked.
    pub steps: Vec<(Arc<str>, Duration)>,
}

/// One step's requests, by host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepReport {
    pub step: Arc<str>,
    pub hosts: BTreeMap<String, StepCounts>,
}

/// One step's requests to one host.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StepCounts {
    pub requests: usize,
    pub failures: usize,
    /// 200 answers by version (the body).
    pub answers: BTreeMap<String, usize>,
}

impl Report {
    /// The failed requests (see [`Record::failed`]).
    pub fn failures(&self) -> impl Iterator<Item = &Record> {
        self.records.iter().filter(|r| r.failed())
    }

    /// Counts per step (in the order the steps were marked) and host; steps with no request appear with none.
    pub fn counts(&self) -> Vec<StepReport> {
        let mut out: Vec<StepReport> = Vec::new();
        for (name, _) in &self.steps {
            if !out.iter().any(|s| s.step == *name) {
                out.push(StepReport { step: name.clone(), hosts: BTreeMap::new() });
            }
        }
        for r in &self.records {
            let i = match out.iter().position(|s| s.step == r.step) {
                Some(i) => i,
                None => {
                    out.push(StepReport { step: r.step.clone(), hosts: BTreeMap::new() });
                    out.len() - 1
                }
            };
            let c = out[i].hosts.entry(r.host.to_string()).or_default();
            c.requests += 1;
            if let Some(v) = r.version() {
                *c.answers.entry(v.to_string()).or_default() += 1;
            } else {
                c.failures += 1;
            }
        }
        out
    }

    /// The counts of one step's requests to one host (none when there were none).
    pub fn step(&self, step: &str, host: &str) -> StepCounts {
        self.counts()
            .into_iter()
            .find(|s| &*s.step == step)
            .and_then(|s| s.hosts.get(host).cloned())
            .unwrap_or_default()
    }

    /// Writes the report (its [`fmt::Display`]) to the process's standard error directly, where the test harness
    /// does not capture it: it shows whether the test passes or not, in CI logs too.
    pub fn print(&self) {
        let _ = std::io::stderr().write_all(self.to_string().as_bytes());
    }

    /// The versions that answered requests to `host`, with how many.
    pub fn answers(&self, host: &str) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for r in self.records.iter().filter(|r| *r.host == *host) {
            if let Some(v) = r.version() {
                *out.entry(v.to_string()).or_default() += 1;
            }
        }
        out
    }

    /// How the answers on `host` moved to `version` from `from` on (on the load's clock; see
    /// [`Load::since_start`]).
    pub fn switch(&self, from: Duration, host: &str, version: &str) -> Switch {
        switch(&self.records, from, host, version)
    }
}

impl fmt::Display for Report {
    /// A table of requests, failures and answers per version, per step and host; then every failure (at most
    /// 50, and how many more).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total = self.records.len();
        let failed = self.failures().count();
        let span = self.records.last().map_or(0.0, |r| r.at.as_secs_f64());
        writeln!(f, "load: {total} requests in {span:.1} s, {failed} failed")?;
        writeln!(f, "{:<14} {:<36} {:>8} {:>8}  answers", "step", "host", "requests", "failed")?;
        for StepReport { step, hosts } in self.counts() {
            if hosts.is_empty() {
                writeln!(f, "{step:<14} {:<36} {:>8} {:>8}", "-", 0, 0)?;
            }
            for (host, c) in hosts {
                let answers: Vec<String> = c.answers.iter().map(|(v, n)| format!("{v}: {n}")).collect();
                writeln!(f, "{step:<14} {host:<36} {:>8} {:>8}  {}", c.requests, c.failures, answers.join(", "))?;
            }
        }
        for r in self.failures().take(50) {
            writeln!(f, "FAILED {r}")?;
        }
        if failed > 50 {
            writeln!(f, "... and {} more failures", failed - 50)?;
        }
        Ok(())
    }
}

/// The `q`-quantile (0..=1) of `xs`, nearest rank (for the benchmarks' medians and p95s).
pub fn quantile(xs: &[Duration], q: f64) -> Duration {
    let mut xs = xs.to_vec();
    xs.sort();
    let rank = ((q * xs.len() as f64).ceil() as usize).clamp(1, xs.len());
    xs[rank - 1]
}

/// `d` in milliseconds.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(at_ms: u64, host: &str, status: u16, body: &str) -> Record {
        Record {
            at: Duration::from_millis(at_ms),
            step: Arc::from("s"),
            connection: 0,
            host: Arc::from(host),
            status: Some(status),
            body: body.into(),
            latency: Duration::from_millis(1),
            error: None,
        }
    }

    /// A server on 127.0.0.1 that answers two requests per connection (one with a length, one chunked) and
    /// closes the connection on the third without answering; returns its address and the connections accepted.
    fn flaky_server() -> (String, Arc<std::sync::atomic::AtomicUsize>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = accepted.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                count.fetch_add(1, Ordering::SeqCst);
                let mut reader = BufReader::new(stream);
                for answer in [
                    Some("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nv1\n"),
                    Some("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nv1\r\n1\r\n\n\r\n0\r\n\r\n"),
                    None,
                ] {
                    // The whole request, so that closing sends no reset.
                    let mut line = String::new();
                    while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                        line.clear();
                    }
                    if let Some(answer) = answer {
                        let _ = reader.get_mut().write_all(answer.as_bytes());
                    }
                }
            }
        });
        (addr, accepted)
    }

    #[test]
    fn connections_are_kept_alive_reopened_when_closed_and_every_failure_is_recorded() {
        let (addr, accepted) = flaky_server();
        let options = Options { connections: 1, rate: 100, max_duration: Duration::from_secs(1), ..Options::default() };
        let load = Load::start(&[Target::new(&addr, "a.test")], options);
        let start = Instant::now();
        while load.running() {
            assert!(start.elapsed() < Duration::from_secs(30), "the load stops by itself");
            std::thread::sleep(Duration::from_millis(10));
        }
        let report = load.stop();
        let n = report.records.len();
        assert!(n >= 6, "{report}");
        for (i, r) in report.records.iter().enumerate() {
            if i % 3 == 2 {
                assert_eq!(
                    r.error.as_deref(),
                    Some("the server closed a reused keep-alive connection before answering"),
                    "{r}"
                );
            } else {
                assert_eq!(r.version(), Some("v1"), "{r}");
            }
        }
        assert_eq!(report.failures().count(), n / 3, "{report}");
        assert_eq!(accepted.load(Ordering::SeqCst), n.div_ceil(3), "a new connection after each close");
    }

    #[test]
    fn a_switch_is_settled_by_the_first_target_answer_after_the_last_other_one() {
        let records = vec![
            record(5, "a", 200, "v1"),
            record(10, "a", 200, "v2"),
            record(12, "b", 200, "v1"),
            record(15, "a", 200, "v1"),
            record(20, "a", 502, "Bad Gateway"),
            record(25, "a", 200, "v2"),
            record(30, "a", 200, "v2"),
        ];
        let s = switch(&records, Duration::from_millis(8), "a", "v2");
        assert_eq!(s.first_target, Some(Duration::from_millis(2)));
        assert_eq!(s.last_other, Some(Duration::from_millis(12)));
        assert_eq!(s.settled, Some(Duration::from_millis(17)));
        let s = switch(&records, Duration::from_millis(22), "a", "v2");
        assert_eq!((s.last_other, s.settled), (None, Some(Duration::from_millis(3))));
        let s = switch(&records, Duration::from_millis(8), "a", "v1");
        assert_eq!(s.settled, None, "v2 answered last");
    }

    #[test]
    fn the_report_counts_per_step_and_host_and_names_each_failure() {
        let mut records =
            vec![record(1, "a", 200, "v1"), record(2, "b", 200, "v1"), record(3, "a", 404, "404 page not found")];
        records[2].step = Arc::from("deploy");
        records[2].connection = 4;
        let report =
            Report { records, steps: vec![(Arc::from("s"), Duration::ZERO), (Arc::from("deploy"), Duration::ZERO)] };
        assert_eq!(report.counts().len(), 2);
        assert_eq!(report.step("s", "a").answers, BTreeMap::from([("v1".to_string(), 1)]));
        assert_eq!((report.step("deploy", "a").requests, report.step("deploy", "a").failures), (1, 1));
        assert_eq!(report.step("deploy", "b"), StepCounts::default());
        let text = report.to_string();
        assert!(
            text.contains(
                "FAILED step deploy, sent at 0.003 s, connection 4, host a: status 404 \"404 page not found\""
            ),
            "{text}"
        );
    }
}
