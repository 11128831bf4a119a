//! Rollback on a real Docker engine, end to end through the `switchyard` CLI (release build): lock, state,
//! configuration, audit, unlock, process start and connection included. In the same run, the same change done
//! with the docker CLI the way people script it: copy the file into the proxy container, rename it there. The CLI
//! is measured twice: on the Docker host with the configuration directory bind-mounted (it writes it directly),
//! and through the Docker API only, as it runs from another machine.
//!
//! `cargo bench -p switchyard-e2e --bench rollback` measures (40 rounds each); under `cargo test` it only runs
//! three rounds to prove it works.

#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::process::Command;
use std::time::{Duration, Instant};

use switchyard_e2e::build_switchyard;
use switchyard_e2e::docker::{Site, docker};

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

/// `rounds` rollbacks through the CLI on `machine` (see `Site::command_on`).
fn rollbacks(site: &Site, machine: &str, rounds: usize) -> Vec<Duration> {
    let mut times = Vec::new();
    for _ in 0..rounds {
        let mut c = site.command_on(machine, &["rollback"]);
        let start = Instant::now();
        let out = c.output().unwrap();
        times.push(start.elapsed());
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    times
}

fn main() {
    let measuring = std::env::args().any(|a| a == "--bench");
    let rounds = if measuring { 40 } else { 3 };
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

    // On the Docker host itself: the CLI writes the bind-mounted directory directly.
    let here = rollbacks(&site, "here", rounds);
    // As from another machine: everything through the Docker API (one command in the container).
    let api = rollbacks(&site, "remote", rounds);

    // The docker CLI route: the same file content, copied in under a temporary name and renamed.
    let config = site.config();
    let file = site.dir.path().join("route.yml");
    std::fs::write(&file, config).unwrap();
    let tmp = format!("{}:/switchyard/dynamic/.route.yml.tmp", site.proxy);
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
                "/switchyard/dynamic/.route.yml.tmp",
                "/switchyard/dynamic/route.yml",
            ])
            .status()
            .unwrap();
        cli.push(start.elapsed());
        assert!(cp.success() && mv.success());
    }
    docker(&["exec", &site.proxy, "rm", "-f", "/switchyard/dynamic/route.yml"]);

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let (here, api, cli) = (median(here), median(api), median(cli));
    println!(
        "rollback through switchyard on the Docker host (direct write): median {:.1} ms over {rounds} rounds",
        ms(here)
    );
    println!(
        "rollback through switchyard through the Docker API only (as from another machine): median {:.1} ms",
        ms(api)
    );
    println!("same file change with the docker CLI (cp + exec mv): median {:.1} ms", ms(cli));
    println!(
        "docker CLI route / switchyard: {:.1}x on the host, {:.1}x through the API",
        ms(cli) / ms(here),
        ms(cli) / ms(api)
    );
}
