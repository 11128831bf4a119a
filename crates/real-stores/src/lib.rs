//! Real etcd (3.4, Debian's `etcd-server`) and Redis (7, Debian's `redis-server`) for switchyard's tests and
//! benchmarks, each a process of its own on 127.0.0.1 with its data in a temporary directory, bounded (etcd's
//! backend quota, Redis's `maxmemory`) and killed when dropped. `cargo xtask ci` installs both. Failures panic
//! with the server's log: this crate serves tests.
//!
//! Each can be stopped and started again on the same port and data ([`LocalEtcd::stop`], [`LocalEtcd::start`]),
//! to test what happens to a change when its store goes away.

#![allow(clippy::unwrap_used)] // a panic here is a failing test, with its reason

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use switchyard_real_traefik::free_port;

/// How long a server may take to answer after it starts.
const PATIENCE: Duration = Duration::from_secs(30);

/// A server process with its log; killed when dropped.
#[derive(Debug)]
struct Server {
    program: &'static str,
    args: Vec<String>,
    log: PathBuf,
    child: Option<Child>,
}

impl Server {
    /// Starts the program; `Err` with its log when it exits at once (a port taken meanwhile, say).
    fn launch(&mut self, port: u16) -> Result<(), String> {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log).unwrap();
        let child = Command::new(self.program)
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("{} does not start ({e}); install it (cargo xtask ci does)", self.program));
        self.child = Some(child);
        let started = Instant::now();
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(());
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                self.child = None;
                return Err(format!("{} exited with {status} at start:\n{}", self.program, self.log_text()));
            }
            assert!(started.elapsed() < PATIENCE, "{} did not listen:\n{}", self.program, self.log_text());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Tries `start` on fresh free ports while a port chosen free was taken before the server bound it (at most 5
/// times): a free port is an ephemeral one, which any outgoing connection may take meanwhile.
fn on_free_ports<T>(mut start: impl FnMut() -> Result<T, String>) -> T {
    let mut attempt = 1;
    loop {
        match start() {
            Ok(server) => return server,
            Err(e) if e.contains("address already in use") && attempt < 5 => attempt += 1,
            Err(e) => panic!("{e}"),
        }
    }
}

/// A one-member etcd cluster on 127.0.0.1.
#[derive(Debug)]
pub struct LocalEtcd {
    server: Server,
    /// The client port (`etcd://127.0.0.1:<port>`).
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl LocalEtcd {
    /// Starts etcd with its data in a new temporary directory, a backend quota of 256 MiB and etcd's default
    /// limit of 128 operations a transaction; returns once its client port answers.
    pub fn start_new() -> LocalEtcd {
        on_free_ports(|| {
            let dir = tempfile::tempdir().unwrap();
            let (port, peer) = (free_port(), free_port());
            let client = format!("http://127.0.0.1:{port}");
            let peer_url = format!("http://127.0.0.1:{peer}");
            let args = [
                "--name=default",
                &format!("--data-dir={}", dir.path().join("data").display()),
                &format!("--listen-client-urls={client}"),
                &format!("--advertise-client-urls={client}"),
                &format!("--listen-peer-urls={peer_url}"),
                &format!("--initial-advertise-peer-urls={peer_url}"),
                &format!("--initial-cluster=default={peer_url}"),
                "--quota-backend-bytes=268435456",
                "--log-level=warn",
            ]
            .map(str::to_string)
            .to_vec();
            let mut server = Server { program: "etcd", args, log: dir.path().join("etcd.log"), child: None };
            server.launch(port)?;
            Ok(LocalEtcd { server, port, _dir: dir })
        })
    }

    /// `etcd://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("etcd://127.0.0.1:{}", self.port)
    }

    /// Kills it (SIGKILL): what it committed stays on disk.
    pub fn stop(&mut self) {
        self.server.stop();
    }

    /// Starts it again on the same port and data.
    pub fn start(&mut self) {
        self.server.launch(self.port).unwrap_or_else(|e| panic!("{e}"));
    }

    pub fn log_text(&self) -> String {
        self.server.log_text()
    }
}

/// A Redis server on 127.0.0.1, persisting to an append-only file so a restart keeps what it had.
#[derive(Debug)]
pub struct LocalRedis {
    server: Server,
    /// `redis://127.0.0.1:<port>`.
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl LocalRedis {
    /// Starts Redis with its data in a new temporary directory and at most 256 MiB of memory; returns once its
    /// port answers.
    pub fn start_new() -> LocalRedis {
        on_free_ports(|| {
            let dir = tempfile::tempdir().unwrap();
            let port = free_port();
            let args = [
                "--bind",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--dir",
                &dir.path().display().to_string(),
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--maxmemory",
                "256mb",
                "--daemonize",
                "no",
            ]
            .map(str::to_string)
            .to_vec();
            let mut server = Server { program: "redis-server", args, log: dir.path().join("redis.log"), child: None };
            server.launch(port)?;
            Ok(LocalRedis { server, port, _dir: dir })
        })
    }

    pub fn endpoint(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills it (SIGKILL): what it wrote to its append-only file stays.
    pub fn stop(&mut self) {
        self.server.stop();
    }

    /// Starts it again on the same port and data.
    pub fn start(&mut self) {
        self.server.launch(self.port).unwrap_or_else(|e| panic!("{e}"));
    }

    pub fn log_text(&self) -> String {
        self.server.log_text()
    }
}
