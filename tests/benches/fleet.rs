//! A fleet's convergence after a rollback (issue 16): from the start of `switchyard rollback` until every
//! Traefik instance answers with the version rolled back to, under load, for three instances on etcd, three on
//! Redis, and, in the same run, one Traefik on switchyard's file (the single host).
//!
//! Everything is real: the `switchyard` binary (release build), etcd and Redis (Debian's), the Traefik binary
//! (3.7.15), and two backends answering their version on loopback addresses. The rendered servers are named as
//! containers (`shop-etcd-v1-web-1`); each Traefik runs with a hosts file of its own (`unshare -m`, a bind mount
//! over `/etc/hosts`; root) where those names are the backends' addresses. Each instance gets its own load (two
//! connections, 100 requests per second); an instance has converged at the first request from which on every
//! answer is the target version.
//!
//! `cargo bench -p switchyard-e2e --bench fleet` measures 20 rounds per store; under `cargo test` it runs three.

#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use switchyard_e2e::build_switchyard;
use switchyard_e2e::load::{Load, Options, Target, ms, quantile};
use switchyard_e2e::traefik::{LocalTraefik, get};
use switchyard_model::proxy::PROVIDERS_THROTTLE;
use switchyard_real_stores::{LocalEtcd, LocalRedis};

/// A backend on `ip`: answers every request with `version`, keeping connections open.
fn backend(ip: &str, port: u16, version: &'static str) -> u16 {
    let listener = TcpListener::bind((ip, port)).unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || serve(stream, version));
        }
    });
    port
}

fn serve(stream: TcpStream, version: &str) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    loop {
        let mut line = String::new();
        // The request line and headers, up to the empty line (GET requests have no body).
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) if line == "\r\n" => break,
                Ok(_) => {}
            }
        }
        let answer = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{version}",
            version.len()
        );
        if writer.write_all(answer.as_bytes()).is_err() {
            return;
        }
    }
}

/// The environments: one per place the routing lives.
const ENVS: [(&str, &str); 3] =
    [("file", "a file (one Traefik)"), ("etcd", "etcd (3 instances)"), ("redis", "Redis (3 instances)")];

fn spec(port: u16, etcd: &str, redis: &str, instances: &[(&str, Vec<String>)]) -> String {
    let mut out = format!(
        "apps:\n  shop:\n    compose: compose.yaml\n    routes:\n      web: {{port: {port}}}\n    \
         health: {{path: /health, interval: 1h, timeout: 1s}}\n    environments:\n"
    );
    for (env, _) in ENVS {
        out.push_str(&format!("      {env}:\n        domain: {env}.test\n        entry_points: [web]\n"));
        let store = match env {
            "etcd" => etcd,
            "redis" => redis,
            _ => continue,
        };
        let apis = instances.iter().find(|(e, _)| *e == env).map(|(_, a)| a.clone()).unwrap_or_default();
        let apis: Vec<String> = apis.iter().map(|a| format!("\"{a}\"")).collect();
        out.push_str(&format!("        routing: {{store: \"{store}\", instances: [{}]}}\n", apis.join(", ")));
    }
    out
}

fn switchyard(bin: &Path, dir: &Path, args: &[&str]) -> String {
    let out = Command::new(bin)
        .current_dir(dir)
        .args(["--actor", "bench", "--dynamic-dir", "dynamic"])
        .args(args)
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "switchyard {args:?}:\n{text}");
    text
}

fn main() {
    let measuring = std::env::args().any(|a| a == "--bench");
    let rounds = if measuring { 20 } else { 3 };
    let bin = build_switchyard(measuring);
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();

    // The two versions' backends, on the same port of two loopback addresses, and the names Traefik resolves.
    let port = backend("127.0.0.2", 0, "v1");
    backend("127.0.0.3", port, "v2");
    let mut hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
    for (env, _) in ENVS {
        hosts.push_str(&format!("\n127.0.0.2 shop-{env}-v1-web-1\n127.0.0.3 shop-{env}-v2-web-1\n"));
    }
    let hosts_file = dir.join("hosts");
    std::fs::write(&hosts_file, hosts).unwrap();

    let etcd = LocalEtcd::start_new();
    let redis = LocalRedis::start_new();
    std::fs::write(dir.join("switchyard.yaml"), spec(port, &etcd.endpoint(), &redis.endpoint(), &[])).unwrap();
    for (env, _) in ENVS {
        switchyard(&bin, dir, &["create", "-e", env]);
    }

    let throttle = format!("--providers.providersThrottleDuration={PROVIDERS_THROTTLE}");
    let empty = tempfile::tempdir().unwrap();
    let start = |env: &str, i: usize| -> LocalTraefik {
        let mut flags = vec![throttle.clone()];
        let provider_dir = match env {
            "file" => dir.join("dynamic"),
            store => {
                let port = if store == "etcd" { etcd.port } else { redis.port };
                flags.push(format!("--providers.{store}.endpoints=127.0.0.1:{port}"));
                flags.push(format!("--providers.{store}.rootKey=traefik"));
                empty.path().to_path_buf()
            }
        };
        LocalTraefik::start_with_hosts(
            &provider_dir,
            &["web"],
            &flags,
            &dir.join(format!("{env}-{i}.log")),
            &hosts_file,
        )
    };
    let fleets: Vec<(&str, Vec<LocalTraefik>)> = ENVS
        .iter()
        .map(|(env, _)| (*env, (0..if *env == "file" { 1 } else { 3 }).map(|i| start(env, i)).collect()))
        .collect();
    let instances: Vec<(&str, Vec<String>)> = fleets
        .iter()
        .filter(|(env, _)| *env != "file")
        .map(|(env, fleet)| (*env, fleet.iter().map(|t| format!("http://127.0.0.1:{}", t.api_port)).collect()))
        .collect();
    std::fs::write(dir.join("switchyard.yaml"), spec(port, &etcd.endpoint(), &redis.endpoint(), &instances)).unwrap();

    let mut lines = Vec::new();
    for (env, fleet) in &fleets {
        let e = ["-e", env];
        for args in [
            &["deploy", "v1"][..],
            &["observe", "v1", "healthy"],
            &["promote", "v1"],
            &["deploy", "v2"],
            &["observe", "v2", "healthy"],
            &["promote", "v2"],
        ] {
            switchyard(&bin, dir, &[args, &e[..]].concat());
        }
        let host = format!("shop.{env}.test");
        // Production answers v2 everywhere before the load starts.
        for traefik in fleet {
            let since = Instant::now();
            while get(traefik.port("web"), &host, "/", &[]).map(|r| r.body).ok().as_deref() != Some("v2") {
                assert!(since.elapsed() < Duration::from_secs(30), "{env}: production does not answer v2");
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        let loads: Vec<Load> = fleet
            .iter()
            .map(|t| {
                let target = Target::new(&format!("127.0.0.1:{}", t.port("web")), &host);
                Load::start(&[target], Options { connections: 2, rate: 100, ..Options::default() })
            })
            .collect();
        for load in &loads {
            load.wait_for_switch(Instant::now(), &host, "v2", Duration::from_secs(30));
        }
        let (mut command, mut converged) = (Vec::new(), Vec::new());
        let mut target = "v2";
        for _ in 0..rounds {
            target = if target == "v2" { "v1" } else { "v2" };
            let since = Instant::now();
            switchyard(&bin, dir, &["rollback", "-e", env]);
            command.push(since.elapsed());
            let slowest = loads
                .iter()
                .map(|load| {
                    let switch = load.wait_for_switch(since, &host, target, Duration::from_secs(30));
                    switch.settled.unwrap_or_else(|| panic!("{env}: an instance never answered only {target}"))
                })
                .max()
                .unwrap();
            converged.push(slowest);
            // Let the load run on the new version before the next round.
            std::thread::sleep(Duration::from_millis(300));
        }
        let reports: Vec<_> = loads.iter().map(Load::stop).collect();
        let failed: usize = reports.iter().map(|r| r.failures().count()).sum();
        if failed > 0 {
            for report in &reports {
                println!("{report}");
            }
        }
        let label = ENVS.iter().find(|(e, _)| e == env).unwrap().1;
        lines.push(format!(
            "{label:<22} every instance answers the target: median {:>6.1} ms, p95 {:>6.1} ms, max {:>6.1} ms; \
             the command: median {:>6.1} ms; {failed} failed requests ({rounds} rounds)",
            ms(quantile(&converged, 0.5)),
            ms(quantile(&converged, 0.95)),
            ms(quantile(&converged, 1.0)),
            ms(quantile(&command, 0.5)),
        ));
        assert_eq!(failed, 0, "{env}: requests failed during the rollbacks");
    }
    println!("a rollback, from the command's start (switchyard {}):", if measuring { "release" } else { "debug" });
    for line in lines {
        println!("  {line}");
    }
}
