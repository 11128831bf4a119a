//! A real Docker engine for the end-to-end tests. No image can be pulled here, so the tests build their own:
//! from Debian's static busybox, an app that answers with its version (and whose health endpoint fails while
//! /tmp/unhealthy exists); and the real Traefik's image, from the official binary ([`crate::traefik`]), which
//! `install` runs by default. Each test gets its own app name, proxy container, volume and network, found by
//! name and label and removed afterwards, so tests run side by side and never touch anything else on the
//! engine.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use crate::switchyard_bin;

pub const APP_IMAGE: &str = "switchyard-test-app:e2e";

pub const APP: &str = r#"#!/bin/sh
# Answers with its version; /cgi-bin/health fails while /tmp/unhealthy exists.
mkdir -p /www/cgi-bin
printf '%s\n' "${APP_VERSION:-unknown}" > /www/index.html
cat > /www/cgi-bin/health <<'H'
#!/bin/sh
if [ -e /tmp/unhealthy ]; then printf 'Status: 503 Unavailable\r\nContent-Type: text/plain\r\n\r\nunhealthy\n'; else printf 'Content-Type: text/plain\r\n\r\nok\n'; fi
H
chmod +x /www/cgi-bin/health
exec httpd -f -p "${PORT:-80}" -h /www
"#;

/// Runs `docker`, requiring success; returns stdout.
pub fn docker(args: &[&str]) -> String {
    let out = Command::new("docker").args(args).output().expect("the docker CLI runs");
    assert!(out.status.success(), "docker {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Runs `docker` and returns the whole output, whatever the exit status.
pub fn docker_raw(args: &[&str]) -> Output {
    Command::new("docker").args(args).output().expect("the docker CLI runs")
}

/// A root file system (as a tar) with busybox, its applets and `/bin/<entry>` running `script`.
pub fn image_tar(entry: &str, script: &str) -> Vec<u8> {
    image_tar_with(entry, script, &[])
}

/// The same, with more files (path, contents): a layer of its own, which Docker has not seen before.
pub fn image_tar_with(entry: &str, script: &str, extra: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut add = |path: &str, data: &[u8], mode: u32| {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(mode);
        h.set_cksum();
        b.append_data(&mut h, path, data).unwrap();
    };
    let busybox =
        std::fs::read("/bin/busybox").expect("Debian's busybox-static is installed (cargo xtask ci installs it)");
    add("bin/busybox", &busybox, 0o755);
    add(&format!("bin/{entry}"), script.as_bytes(), 0o755);
    for (path, data) in extra {
        add(path, data, 0o644);
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
    dir("www", 0o755);
    for applet in [
        "sh", "httpd", "wget", "cat", "echo", "sleep", "mkdir", "rm", "mv", "ls", "printf", "chmod", "dirname",
        "touch", "test", "[",
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        h.set_mode(0o777);
        b.append_link(&mut h, format!("bin/{applet}"), "busybox").unwrap();
    }
    b.into_inner().unwrap()
}

fn import(tag: &str, change: &str, tar: &[u8]) {
    let mut child = Command::new("docker")
        .args(["import", "-c", change, "-", tag])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("the docker CLI runs");
    child.stdin.take().unwrap().write_all(tar).unwrap();
    assert!(child.wait().unwrap().success(), "docker import {tag}");
}

/// Builds the test images once per test binary.
pub fn images() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        assert!(
            docker_raw(&["version"]).status.success(),
            "these tests need a running Docker engine; `cargo xtask ci` installs and starts one"
        );
        import(APP_IMAGE, r#"CMD ["/bin/app"]"#, &image_tar("app", APP));
        crate::traefik::image();
    });
}

/// One test's installation: its own app (`name`), spec directory and proxy container.
#[derive(Debug)]
pub struct Site {
    pub name: String,
    pub proxy: String,
    pub dir: tempfile::TempDir,
    bin: PathBuf,
}

impl Site {
    /// A spec with the app `name` (one environment `dev`, one routed service `web`).
    pub fn new(name: &str) -> Site {
        Site::with_binary(name, switchyard_bin())
    }

    /// The same, running the given `switchyard` binary.
    pub fn with_binary(name: &str, bin: PathBuf) -> Site {
        images();
        let dir = tempfile::tempdir().unwrap();
        let site = Site { name: name.to_string(), proxy: format!("{name}-proxy"), dir, bin };
        site.cleanup();
        std::fs::write(
            site.path().join("switchyard.yaml"),
            format!(
                "apps:\n  {name}:\n    compose: compose.yaml\n    routes:\n      web: {{port: 80}}\n    \
                 health: {{path: /cgi-bin/health, interval: 2s, timeout: 1s}}\n    environments:\n      dev:\n        \
                 domain: {name}.test\n        retention: {{keep_last: 1}}\n"
            ),
        )
        .unwrap();
        std::fs::write(
            site.path().join("compose.yaml"),
            format!("services:\n  web:\n    image: {APP_IMAGE}\n    environment:\n      APP_VERSION: ${{SWITCHYARD_VERSION}}\n"),
        )
        .unwrap();
        site
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `switchyard --docker --proxy <proxy> ARGS`, with this site's own cache directory.
    pub fn command(&self, args: &[&str]) -> Command {
        self.command_on("here", args)
    }

    /// The same, as run from another machine: its own cache directory (`machine`), and, for any machine but
    /// `here`, no direct writes to the proxy's data directory (a remote CLI cannot see it).
    pub fn command_on(&self, machine: &str, args: &[&str]) -> Command {
        let mut c = Command::new(&self.bin);
        c.current_dir(self.path())
            .args(["--docker", "--proxy", &self.proxy, "--actor", "e2e", "--health-timeout", "20s"])
            .args(args)
            .env("SWITCHYARD_CACHE_DIR", self.path().join(format!("cache-{machine}")))
            .env_remove("SWITCHYARD_NO_DIRECT")
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_CONTEXT");
        if machine != "here" {
            c.env("SWITCHYARD_NO_DIRECT", "1");
        }
        c
    }

    /// Runs on `machine` (see [`Site::command_on`]) and expects exit code 0; returns stdout and stderr.
    pub fn ok_on(&self, machine: &str, args: &[&str]) -> String {
        let out = self.command_on(machine, args).output().unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.status.code(), Some(0), "switchyard {args:?} on {machine}:\n{text}");
        text
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Runs and requires exit code `code`; returns stdout + stderr.
    pub fn expect(&self, code: i32, args: &[&str]) -> String {
        let out = self.run(args);
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.status.code(), Some(code), "switchyard {args:?}:\n{text}");
        text
    }

    pub fn ok(&self, args: &[&str]) -> String {
        self.expect(0, args)
    }

    /// Installs the proxy (the real Traefik, `install`'s default image) and creates the `dev` environment.
    pub fn install(&self) {
        self.install_with(&[]);
    }

    /// `install` with more options (`--data-dir`), then `create`.
    pub fn install_with(&self, extra: &[&str]) {
        let mut args = vec!["install", "--no-publish"];
        args.extend_from_slice(extra);
        self.ok(&args);
        self.ok(&["create"]);
    }

    /// The container of a version's `web` service.
    pub fn container(&self, slug: &str) -> String {
        format!("{}-dev-{slug}-web-1", self.name)
    }

    /// A file in the proxy's /switchyard directory.
    pub fn proxy_file(&self, rel: &str) -> String {
        docker(&["exec", &self.proxy, "cat", &format!("/switchyard/{rel}")])
    }

    pub fn config(&self) -> String {
        self.proxy_file(&format!("dynamic/switchyard_{}_dev.yml", self.name))
    }

    pub fn state(&self) -> serde_json::Value {
        serde_json::from_str(&self.proxy_file(&format!("state/{}_dev.json", self.name))).unwrap()
    }

    /// An HTTP GET from inside `container`; None when it fails.
    pub fn get(&self, container: &str, url: &str) -> Option<String> {
        let out = docker_raw(&[
            "exec",
            container,
            "sh",
            "-c",
            &format!("wget -q -O - {url} & p=$!; sleep 3; kill $p 2>/dev/null; wait $p"),
        ]);
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    pub fn set_unhealthy(&self, slug: &str, unhealthy: bool) {
        let cmd = if unhealthy { "echo > /tmp/unhealthy" } else { "rm -f /tmp/unhealthy" };
        docker(&["exec", &self.container(slug), "sh", "-c", cmd]);
    }

    /// Removes everything of this test: containers and volumes labelled with its app, its networks, its proxy.
    pub fn cleanup(&self) {
        let label = format!("label=switchyard.app={}", self.name);
        let ids = docker(&["ps", "-aq", "--filter", &label]);
        for id in ids.lines().filter(|l| !l.is_empty()) {
            let _ = docker_raw(&["rm", "-f", id]);
        }
        let _ = docker_raw(&["rm", "-f", &self.proxy]);
        let nets = docker(&["network", "ls", "-q", "--filter", &label]);
        for id in nets.lines().filter(|l| !l.is_empty()) {
            let _ = docker_raw(&["network", "rm", id]);
        }
        let vols = docker(&["volume", "ls", "-q", "--filter", &label]);
        for id in vols.lines().filter(|l| !l.is_empty()) {
            let _ = docker_raw(&["volume", "rm", id]);
        }
        let _ = docker_raw(&["network", "rm", &format!("{}-net", self.proxy)]);
        let _ = docker_raw(&["volume", "rm", &format!("{}-data", self.proxy)]);
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        self.cleanup();
    }
}

/// Stops the Docker engine (SIGTERM, as a host reboot or a package upgrade does) and starts it again with the
/// same command line and log file; returns when it answers. Containers with a restart policy come back.
pub fn restart_dockerd() {
    let pid: u32 = std::fs::read_to_string("/var/run/docker.pid")
        .expect("dockerd writes /var/run/docker.pid")
        .trim()
        .parse()
        .expect("a pid");
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).expect("dockerd's command line");
    let argv: Vec<String> =
        cmdline.split(|b| *b == 0).filter(|a| !a.is_empty()).map(|a| String::from_utf8_lossy(a).into_owned()).collect();
    let log = std::fs::read_link(format!("/proc/{pid}/fd/2")).ok().filter(|p| p.is_file());
    assert!(Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap().success());
    // Gone, or a zombie: started by `cargo xtask ci`, which does not reap it, it stays one until xtask ends.
    let gone = || {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map_or(true, |stat| stat.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')))
    };
    for _ in 0..600 {
        if gone() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(gone(), "dockerd stopped within 60 s");
    // The containerd that dockerd started stops after it; a new dockerd must not find it half gone.
    for _ in 0..600 {
        if !managed_containerd_running() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let output = || match &log {
        Some(path) => Stdio::from(std::fs::OpenOptions::new().append(true).open(path).unwrap()),
        None => Stdio::null(),
    };
    use std::os::unix::process::CommandExt;
    // The new daemon outlives this test process on purpose: it is the engine the next tests use.
    #[allow(clippy::zombie_processes)]
    Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(output())
        .stderr(output())
        .process_group(0)
        .spawn()
        .expect("dockerd starts again");
    for _ in 0..600 {
        if docker_raw(&["version"]).status.success() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("dockerd did not answer within 60 s after its restart");
}

/// True while a containerd started by dockerd (with its config under /var/run/docker) runs.
fn managed_containerd_running() -> bool {
    std::fs::read_dir("/proc").into_iter().flatten().flatten().any(|entry| {
        std::fs::read(entry.path().join("cmdline"))
            .map(|c| String::from_utf8_lossy(&c).contains("/var/run/docker/containerd/containerd.toml"))
            .unwrap_or(false)
    })
}
