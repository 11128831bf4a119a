//! Rollback on a real Docker engine, end to end through the `switchyard` CLI (release build): lock, state,
//! configuration, audit, unlock, process start and connection included. In the same run, the same change done
//! with the docker CLI the way people script it: copy the file into the proxy container, rename it there.
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

fn main() {
    let measuring = std::env::args().any(|a| a == "--bench");
    let rounds = if measuring { 40 } else { 3 };
    let site = Site::with_binary("sybench-rollback", build_switchyard(measuring));
    site.install();
    for (v, promote) in [("v1", &["promote", "v1"][..]), ("v2", &["promote", "v2"][..])] {
        site.ok(&["deploy", v]);
        site.ok(promote);
    }

    let mut switchyard = Vec::new();
    for _ in 0..rounds {
        let mut c = site.command(&["rollback"]);
        let start = Instant::now();
        let out = c.output().unwrap();
        switchyard.push(start.elapsed());
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }

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

    let (a, b) = (median(switchyard), median(cli));
    println!(
        "rollback through switchyard (CLI process, Docker API): median {:.1} ms over {rounds} rounds",
        a.as_secs_f64() * 1000.0
    );
    println!("same file change with the docker CLI (cp + exec mv): median {:.1} ms", b.as_secs_f64() * 1000.0);
    println!("ratio: switchyard takes {:.2}x the time of the docker CLI route", a.as_secs_f64() / b.as_secs_f64());
}
