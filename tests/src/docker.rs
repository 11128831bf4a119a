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
# Answers with its version; /cgi-bin/health fails while /tmp/unhealthy exists. A version named *-fail5 answers
# every fifth request with a 500; one named *-slow answers after half a second (a CGI script, which busybox
# httpd runs for / when there is no index.html).
mkdir -p /www/cgi-bin
case "${APP_VERSION:-unknown}" in
*-fail5|*-slow)
  cat > /www/cgi-bin/index.cgi <<'H'
#!/bin/sh
case "$APP_VERSION" in
*-fail5)
  n=$(cat /tmp/count 2>/dev/null); n=$(( ${n:-0} + 1 )); echo "$n" > /tmp/count
  if [ $(( n % 5 )) -eq 0 ]; then printf 'Status: 500 Internal Server Error\r\nContent-Type: text/plain\r\n\r\nfailed\n'; exit 0; fi ;;
*-slow) sleep 0.5 ;;
esac
printf 'Content-Type: text/plain\r\n\r\n%s\n' "$APP_VERSION"
H
  chmod +x /www/cgi-bin/index.cgi ;;
*) printf '%s\n' "${APP_VERSION:-unknown}" > /www/index.html ;;
esac
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

/// The spec's default routes: the compose service `web` on port 80.
pub const ROUTE_WEB: &str = "routes: {web: {port: 80}}";

/// The spec's default health check: the app's health endpoint, every 2 s, with 1 s to answer.
pub const HEALTH: &str = "health: {path: /cgi-bin/health, interval: 2s, timeout: 1s}";

/// A health check with room for a loaded machine, for tests that count answers: a probe that times out marks a
/// server down in Traefik, which changes who answers.
pub const HEALTH_UNDER_LOAD: &str = "health: {path: /cgi-bin/health, interval: 5s, timeout: 3s}";

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
        site.write_spec(&[ROUTE_WEB, HEALTH], &[]);
        site.write_compose(&format!(
            "services:\n  web:\n    image: {APP_IMAGE}\n    environment:\n      APP_VERSION: ${{SWITCHYARD_VERSION}}\n"
        ));
        site
    }

    /// A site whose spec routes `web` with the health check for load (and `environment`'s lines), installed,
    /// with `version` deployed, live with all traffic and answering on the production host.
    pub fn live(name: &str, environment: &[&str], version: &str) -> Site {
        let site = Site::new(name);
        site.write_spec(&[ROUTE_WEB, HEALTH_UNDER_LOAD], environment);
        site.install();
        site.ok(&["deploy", version]);
        site.ok(&["promote", version, "--share", "100"]);
        site.wait_for_answer(&site.production_host(), version);
        site
    }

    /// Runs `body` under a load on the production host (`rate` requests per second over 4 connections); then
    /// stops the load, prints its report if `body` failed, and removes the site, whatever happened.
    pub fn under_load(self, rate: u32, body: impl FnOnce(&Site, &crate::load::Load)) {
        let load = crate::load::Load::start(
            &[self.target(&self.production_host())],
            crate::load::Options {
                connections: 4,
                rate,
                max_duration: std::time::Duration::from_secs(300),
                ..crate::load::Options::default()
            },
        );
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| body(&self, &load)));
        let report = load.stop();
        if result.is_err() {
            report.print();
        }
        self.cleanup();
        if let Err(panic) = result {
            std::panic::resume_unwind(panic);
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes the spec: the app `name` with its compose file `compose.yaml`, the app-level keys given (YAML
    /// lines: [`ROUTE_WEB`] and [`HEALTH`] by default) and one environment `dev` on the domain `<name>.test` with
    /// `retention: {keep_last: 1}` and the more keys given (YAML lines, e.g. `"sticky: {cookie: slot}"`).
    pub fn write_spec(&self, app: &[&str], environment: &[&str]) {
        let name = &self.name;
        let mut spec = format!("apps:\n  {name}:\n    compose: compose.yaml\n");
        for line in app {
            spec.push_str(&format!("    {line}\n"));
        }
        spec.push_str(&format!(
            "    environments:\n      dev:\n        domain: {name}.test\n        retention: {{keep_last: 1}}\n"
        ));
        for line in environment {
            spec.push_str(&format!("        {line}\n"));
        }
        std::fs::write(self.path().join("switchyard.yaml"), spec).unwrap();
    }

    /// Writes `compose.yaml`.
    pub fn write_compose(&self, text: &str) {
        std::fs::write(self.path().join("compose.yaml"), text).unwrap();
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

    /// The production host of `dev` (the spec's default host templates).
    pub fn production_host(&self) -> String {
        format!("{0}.{0}.test", self.name)
    }

    /// The preview host of a version (by its slug, e.g. `v1-2-0`).
    pub fn preview_host(&self, slug: &str) -> String {
        format!("{slug}-{0}.{0}.test", self.name)
    }

    /// The host of a slot (`blue`, `green`).
    pub fn slot_host(&self, slot: &str) -> String {
        format!("{slot}-{0}.{0}.test", self.name)
    }

    /// Where this host reaches the real Traefik: the proxy container's address on its network `<proxy>-net`, port
    /// 80 (the `web` entry point; the tests install with `--no-publish`). Waits (up to 60 s) for the container to
    /// have one, as after a restart.
    pub fn proxy_addr(&self) -> String {
        let network = format!("{}-net", self.proxy);
        let format = format!("{{{{with index .NetworkSettings.Networks \"{network}\"}}}}{{{{.IPAddress}}}}{{{{end}}}}");
        let start = std::time::Instant::now();
        loop {
            let out = docker_raw(&["inspect", "-f", &format, &self.proxy]);
            let ip = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if out.status.success() && !ip.is_empty() {
                return format!("{ip}:80");
            }
            assert!(
                start.elapsed() < std::time::Duration::from_secs(60),
                "{} has no address on {network}: {}",
                self.proxy,
                String::from_utf8_lossy(&out.stderr)
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }

    /// A load target: `GET /` with `Host: host`, through the real Traefik.
    pub fn target(&self, host: &str) -> crate::load::Target {
        crate::load::Target::new(&self.proxy_addr(), host)
    }

    /// One GET of `/` with `Host: host` (and the headers given) through the real Traefik, on a new connection.
    pub fn http(&self, host: &str, headers: &[(&str, &str)]) -> std::io::Result<crate::traefik::Response> {
        crate::traefik::get_at(&self.proxy_addr(), host, "/", headers)
    }

    /// The version answering `host` (the body of a 200 answer); panics naming anything else.
    pub fn answer(&self, host: &str) -> String {
        let r = self.http(host, &[]).unwrap_or_else(|e| panic!("GET {host} through Traefik: {e}"));
        assert_eq!(r.status, 200, "GET {host} through Traefik: {} {}", r.status, r.body);
        r.body.trim().to_string()
    }

    /// `n` GETs of `host` one after the other, each on a new connection: how many each version answered. Panics
    /// naming the first request that failed.
    pub fn answers(&self, host: &str, n: usize) -> std::collections::BTreeMap<String, usize> {
        let addr = self.proxy_addr();
        let mut out = std::collections::BTreeMap::new();
        for i in 0..n {
            let r = crate::traefik::get_at(&addr, host, "/", &[])
                .unwrap_or_else(|e| panic!("request {i} of {n} to {host} through Traefik: {e}"));
            assert_eq!(r.status, 200, "request {i} of {n} to {host} through Traefik: {} {}", r.status, r.body);
            *out.entry(r.body.trim().to_string()).or_default() += 1;
        }
        out
    }

    /// Waits (up to 60 s) until `host` answers `version` through Traefik, e.g. after a change.
    pub fn wait_for_answer(&self, host: &str, version: &str) {
        let start = std::time::Instant::now();
        let mut last = String::new();
        while start.elapsed() < std::time::Duration::from_secs(60) {
            last = match self.http(host, &[]) {
                Ok(r) if r.status == 200 && r.body.trim() == version => return,
                Ok(r) => format!("{} {}", r.status, r.body.trim()),
                Err(e) => e.to_string(),
            };
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("{host} did not answer {version} through Traefik within 60 s; last: {last}");
    }

    /// Traefik's `/api/rawdata`, read inside the proxy (the API is not published).
    pub fn rawdata(&self) -> serde_json::Value {
        let text = docker(&["exec", &self.proxy, "wget", "-q", "-O", "-", "http://127.0.0.1:8080/api/rawdata"]);
        serde_json::from_str(&text).unwrap()
    }

    /// The children (without `@file`) and weights Traefik serves for the production service of the compose
    /// service `service`, sorted; None while Traefik has no such service; and whether every server of those
    /// children is up.
    pub fn served_weights(&self, raw: &serde_json::Value, service: &str) -> Option<(Vec<(String, u64)>, bool)> {
        let services = &raw["services"];
        let prod = &services[format!("{}_dev_prod_{service}@file", self.name)];
        let children = prod["weighted"]["services"].as_array()?;
        let mut weights: Vec<(String, u64)> = children
            .iter()
            .map(|c| {
                let name = c["name"].as_str().unwrap_or_default();
                (name.trim_end_matches("@file").to_string(), c["weight"].as_u64().unwrap_or(1))
            })
            .collect();
        weights.sort();
        let up = weights.iter().all(|(child, _)| {
            let status = &services[format!("{child}@file")]["serverStatus"];
            status.as_object().is_some_and(|s| !s.is_empty() && s.values().all(|v| v == "UP"))
        });
        Some((weights, up))
    }

    /// Waits (up to 60 s) until Traefik serves exactly these weights for the production service of `web` (by
    /// version slug: `[("v1", 90), ("v2", 10)]`) with every server up. Read from the API, which answers from the
    /// same configuration as the routers and does not go through the balancer: nothing is sent to it.
    pub fn wait_for_weights(&self, expected: &[(&str, u64)]) {
        let mut want: Vec<(String, u64)> =
            expected.iter().map(|(slug, w)| (format!("{}_dev_ver_{slug}_web", self.name), *w)).collect();
        want.sort();
        let start = std::time::Instant::now();
        let mut last = None;
        while start.elapsed() < std::time::Duration::from_secs(60) {
            let raw = self.rawdata();
            let served = self.served_weights(&raw, "web");
            if served.as_ref().is_some_and(|(w, up)| *w == want && *up) {
                return;
            }
            last = served;
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!(
            "Traefik did not serve {want:?} with every server up within 60 s; last seen (weights, all up): {last:?}"
        );
    }

    /// The recorded state, as the model reads it.
    pub fn env_state(&self) -> switchyard_model::state::EnvState {
        serde_json::from_value(self.state()).unwrap()
    }

    /// The real traffic checks, after a change: Traefik serves the production weights the recorded state says
    /// (read from its API, every server up); 100 requests one after the other to the production host are
    /// answered by the state's versions in exactly the state's shares, so no other version answers; and the
    /// preview host of each version given answers that version (give only healthy ones).
    ///
    /// Traefik's weighted round robin gives exact counts per round (100 picks for shares that add up to 100) when
    /// its balancer starts afresh, as it does on every configuration change: with a split, call this right after
    /// a change, with nothing sent to the production host since.
    pub fn check_traffic(&self, previews: &[&str]) {
        let state = self.env_state();
        let traffic: Vec<(String, String, u64)> = state
            .traffic()
            .into_iter()
            .filter(|(_, _, share)| *share > 0)
            .map(|(_, version, share)| {
                let slug = state.deployment(version).map(|d| d.slug.clone()).unwrap_or_default();
                (version.to_string(), slug, u64::from(share))
            })
            .collect();
        assert!(!traffic.is_empty(), "nothing is live in the state");
        let weights: Vec<(&str, u64)> = traffic.iter().map(|(_, slug, share)| (slug.as_str(), *share)).collect();
        self.wait_for_weights(&weights);
        let want: std::collections::BTreeMap<String, usize> =
            traffic.iter().map(|(version, _, share)| (version.clone(), *share as usize)).collect();
        let got = self.answers(&self.production_host(), 100);
        assert_eq!(got, want, "100 requests to the production host, against the state's shares");
        for version in previews {
            let d = state.deployment(version).unwrap_or_else(|| panic!("{version} is not deployed"));
            assert_eq!(self.answer(&self.preview_host(&d.slug)), *version, "the preview of {version}");
        }
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
