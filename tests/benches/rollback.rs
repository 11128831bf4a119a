//! Rollback on a real Docker engine with the real Traefik, end to end through the `switchyard` CLI (release
//! build): what users feel is when requests move, not when the command returns. While requests flow to the
//! production host through Traefik, each round starts `switchyard rollback` and measures
//! - the command's own time (lock, state, configuration, audit, unlock, process start and connection), and
//! - the time from the command's start until every request is answered by the version rolled back to: the start
//!   of the first request after the last one the other version answered.
//!
//! Two paths: on the Docker host with the configuration directory bind-mounted (the CLI writes it directly),
//! and through the Docker API only, as from another machine. In the same run, the same file change done with
//! the docker CLI the way people script it (copy the file into the proxy container, rename it there), for the
//! command's time.
//!
//! `cargo bench -p switchyard-e2e --bench rollback` measures (30 rounds per path); under `cargo test` it only
//! runs three rounds to prove it works.

#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::process::Command;
use std::time::{Duration, Instant};

use switchyard_e2e::build_switchyard;
use switchyard_e2e::docker::{Site, docker};
use switchyard_e2e::load::{Load, Options, Target, ms, quantile};

/// One path's measurements.
#[derive(Default)]
struct Rounds {
    command: Vec<Duration>,
    moved: Vec<Duration>,
}

impl Rounds {
    fn line(&self, what: &str) -> String {
        let (c, m) = (&self.command, &self.moved);
        format!(
            "{what}: command median {:.1} ms, p95 {:.1} ms; traffic moved after median {:.1} ms, p95 {:.1} ms, max {:.1} ms ({} rounds)",
            ms(quantile(c, 0.5)),
            ms(quantile(c, 0.95)),
            ms(quantile(m, 0.5)),
            ms(quantile(m, 0.95)),
            ms(quantile(m, 1.0)),
            m.len()
        )
    }
}

/// `rounds` rollbacks through the CLI on `machine` (see `Site::command_on`) while `load` sends requests to
/// `host`.
fn rollbacks(site: &Site, machine: &str, load: &Load, host: &str, rounds: usize) -> Rounds {
    let mut out = Rounds::default();
    for _ in 0..rounds {
        // The version rolled back to: the one in the slot that is not live.
        let state = site.state();
        let live = state["live"].as_str().unwrap();
        let idle = if live == "blue" { "green" } else { "blue" };
        let to = state["slots"][idle].as_str().unwrap().to_string();
        let mut c = site.command_on(machine, &["rollback"]);
        let since = Instant::now();
        let result = c.output().unwrap();
        out.command.push(since.elapsed());
        assert!(result.status.success(), "{}", String::from_utf8_lossy(&result.stderr));
        let switch = load.wait_for_switch(since, host, &to, Duration::from_secs(30));
        let settled = switch.settled.unwrap_or_else(|| panic!("requests to {host} did not settle on {to}"));
        // Already counted from the command's start.
        out.moved.push(settled);
        // The next round starts from quiet: nothing of this change is still settling.
        std::thread::sleep(Duration::from_millis(250));
    }
    out
}

fn main() {
    let measuring = std::env::args().any(|a| a == "--bench");
    let rounds = if measuring { 30 } else { 3 };
    let site = Site::with_binary("sybench-rollback", build_switchyard(measuring));
    // The configuration directory is a bind mount of a directory on this (the Docker) host.
    let data = site.dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    site.install_with(&["--data-dir", data.to_str().unwrap()]);
    for v in ["v1", "v2"] {
        site.ok(&["deploy", v]);
        site.ok(&["promote", v]);
    }
    // Both paths must really be the ones measured.
    let direct = site.ok(&["rollback"]);
    assert!(direct.contains("(directly"), "{direct}");
    let remote = site.ok_on("remote", &["rollback"]);
    assert!(remote.contains(&format!("in one step in {}:/switchyard", site.proxy)), "{remote}");

    // Requests to the production host through Traefik, on several connections, all the time.
    let production = site.production_host();
    let load = Load::start(
        &[Target::new(&site.proxy_addr(), &production)],
        Options { connections: 4, rate: 400, ..Options::default() },
    );
    load.step("rollbacks on the Docker host");
    // On the Docker host itself: the CLI writes the bind-mounted directory directly.
    let here = rollbacks(&site, "here", &load, &production, rounds);
    load.step("rollbacks through the API");
    // As from another machine: everything through the Docker API (one command in the container).
    let api = rollbacks(&site, "remote", &load, &production, rounds);
    let report = load.stop();

    // The docker CLI route: the same file content, copied in under a temporary name and renamed.
    let config = site.config();
    let file = site.dir.path().join("route.yml");
    std::fs::write(&file, config).unwrap();
    let tmp = format!("{}:/switchyard/staging/route.yml.tmp", site.proxy);
    let mut cli = Vec::new();
    for _ in 0..rounds {
        let start = Instant::now();
        let cp = Command::new("docker").arg("cp").arg(&file).arg(&tmp).status().unwrap();
        let mv = Command::new("docker")
            .args([
                "exec",
                &site.proxy,
                "mv",
                "-f",
                "/switchyard/staging/route.yml.tmp",
                "/switchyard/dynamic/route.yml",
            ])
            .status()
            .unwrap();
        cli.push(start.elapsed());
        assert!(cp.success() && mv.success());
    }
    docker(&["exec", &site.proxy, "rm", "-f", "/switchyard/dynamic/route.yml"]);

    println!("{}", here.line("rollback through switchyard on the Docker host (direct write)"));
    println!("{}", api.line("rollback through switchyard through the Docker API only (as from another machine)"));
    println!("same file change with the docker CLI (cp + exec mv): command median {:.1} ms", ms(quantile(&cli, 0.5)));
    print!("{report}");
    assert_eq!(report.failures().count(), 0, "requests failed during the rollbacks:\n{report}");
}
