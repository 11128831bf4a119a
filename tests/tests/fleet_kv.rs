//! The fleet's routing in a key-value store, read by the real Traefik: switchyard's rendered configuration,
//! written as Traefik's key layout (`switchyard_traefik::kv`) in one transaction (`switchyard_store`), is what
//! three real Traefik instances watching the real etcd, or the real Redis, serve: router for router and service
//! for service the same as a Traefik reading switchyard's file, after every change of the workflow (deploy,
//! promote at 30 %, complete, rollback), and every instance converges on each change.

#![allow(clippy::unwrap_used)] // a panic in a test is a failing test
#![allow(clippy::print_stdout)] // the convergence times are part of what the test reports

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;
use switchyard_e2e::switchyard_bin;
use switchyard_e2e::traefik::{LocalTraefik, get};
use switchyard_model::proxy::PROVIDERS_THROTTLE;
use switchyard_real_stores::{LocalEtcd, LocalRedis};
use switchyard_store::{Credentials, Endpoint, Guard, Write, connect};
use switchyard_traefik::kv;

/// One app with two routes. The versions' servers are container names, which resolve nowhere here; their
/// health is first checked an hour after Traefik reads them, so every instance serves them as the state says.
const SPEC: &str = "apps:\n  shop:\n    compose: compose.yaml\n    routes:\n      web: {port: 80}\n      \
                    api: {port: 8080, host_prefix: api}\n    health: {path: /health, interval: 1h, timeout: 1s}\n    \
                    environments:\n      prod:\n        domain: shop.test\n        entry_points: [web]\n";

/// The workflow, one change at a time.
const CHANGES: &[&[&str]] = &[
    &["create"],
    &["deploy", "v1"],
    &["observe", "v1", "healthy"],
    &["promote", "v1"],
    &["deploy", "v2"],
    &["observe", "v2", "healthy"],
    &["promote", "v2", "--share", "30"],
    &["complete"],
    &["rollback"],
];

fn switchyard(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(switchyard_bin())
        .current_dir(dir)
        .args(["--actor", "e2e", "--dynamic-dir", "dynamic", "--now", "2026-01-05T09:00:00Z"])
        .args(args)
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "switchyard {args:?}:\n{text}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// What a Traefik serves from `provider`: its routers, services and middlewares of that provider, with the
/// provider's name taken out of every name and reference, and the statuses of servers left out (they change
/// with time, not with configuration).
fn served(traefik: &LocalTraefik, provider: &str) -> Value {
    let answer = get(traefik.api_port, "127.0.0.1", "/api/rawdata", &[]).unwrap();
    assert_eq!(answer.status, 200, "{}", answer.body);
    let text = answer.body.replace(&format!("@{provider}\""), "@P\"");
    let raw: Value = serde_json::from_str(&text).unwrap();
    let mut out = serde_json::Map::new();
    for section in ["routers", "services", "middlewares"] {
        let mut kept = serde_json::Map::new();
        for (name, item) in raw[section].as_object().into_iter().flatten() {
            if name.ends_with("@P") {
                let mut item = item.clone();
                if let Some(map) = item.as_object_mut() {
                    map.remove("serverStatus");
                }
                kept.insert(name.clone(), item);
            }
        }
        out.insert(section.into(), Value::Object(kept));
    }
    Value::Object(out)
}

/// Whether `served` (from [`served`]) is what `config` (the rendered configuration's JSON) asks for: the same
/// routers (rule, service, priority, entry points) and services (weights, servers), and nothing more.
fn serves(config: &Value, served: &Value) -> bool {
    let names = |v: &Value| -> Vec<String> {
        v.as_object().into_iter().flatten().map(|(k, _)| k.trim_end_matches("@P").to_string()).collect()
    };
    let http = &config["http"];
    if names(&http["routers"]) != names(&served["routers"]) || names(&http["services"]) != names(&served["services"]) {
        return false;
    }
    let routers = http["routers"].as_object().into_iter().flatten().all(|(name, r)| {
        let s = &served["routers"][format!("{name}@P")];
        ["rule", "service", "priority", "entryPoints"].iter().all(|k| r[k] == s[k])
    });
    let services = http["services"].as_object().into_iter().flatten().all(|(name, c)| {
        let s = &served["services"][format!("{name}@P")];
        c["weighted"]["services"] == s["weighted"]["services"]
            && c["loadBalancer"]["servers"] == s["loadBalancer"]["servers"]
    });
    routers && services
}

/// Waits until `traefik` serves from `provider` what `config` asks for; returns how long after `since`.
fn converge(traefik: &LocalTraefik, provider: &str, config: &Value, since: Instant) -> Duration {
    loop {
        let got = served(traefik, provider);
        if serves(config, &got) {
            return since.elapsed();
        }
        assert!(
            since.elapsed() < Duration::from_secs(30),
            "an instance still serves something else after 30 s:\n{}\nwant:\n{}\nits log:\n{}",
            serde_json::to_string_pretty(&got).unwrap(),
            serde_json::to_string_pretty(&config).unwrap(),
            traefik.log_text()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Runs the workflow with the routing in the store at `endpoint`, watched by three instances of Traefik's
/// `provider` (`--providers.<provider>.endpoints=<address>`).
fn fleet_follows_the_workflow(endpoint: &str, provider: &str, address: &str) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("switchyard.yaml"), SPEC).unwrap();
    std::fs::create_dir_all(dir.path().join("dynamic")).unwrap();
    let empty = tempfile::tempdir().unwrap();
    // As `install` starts Traefik: changes are applied as they come, not held back for Traefik's default 2 s.
    let throttle = format!("--providers.providersThrottleDuration={PROVIDERS_THROTTLE}");
    let reference = LocalTraefik::start(
        &dir.path().join("dynamic"),
        &["web"],
        std::slice::from_ref(&throttle),
        &dir.path().join("file.log"),
    );
    let flags = vec![
        format!("--providers.{provider}.endpoints={address}"),
        format!("--providers.{provider}.rootKey=traefik"),
        throttle.clone(),
    ];
    let start = |name: &str| LocalTraefik::start(empty.path(), &["web"], &flags, &dir.path().join(name));

    // On an empty etcd, Traefik cannot watch its root key: it says so and tries again later and later (Redis
    // has no such trouble).
    if provider == "etcd" {
        let early = start("early.log");
        let said = Instant::now();
        while !early.log_text().contains("failed to watch KV: key not found in store") {
            assert!(
                said.elapsed() < Duration::from_secs(30),
                "no complaint about the empty store:\n{}",
                early.log_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    // So the root key is written first (as installing a fleet does), and the instances start watching it.
    let mut store = connect(&Endpoint::parse(endpoint).unwrap(), &Credentials::default()).unwrap();
    let (root, marker) = kv::root_marker(kv::DEFAULT_ROOT);
    let first = Write {
        absent: Default::default(),
        guard: Guard { key: "switchyard/shop/prod/revision".into(), expect: None, set: "0".into() },
        put: BTreeMap::from([(root.clone(), marker)]),
        delete: Default::default(),
    };
    store.commit(&first).unwrap();
    let fleet: Vec<LocalTraefik> = (0..3).map(|i| start(&format!("fleet-{i}.log"))).collect();

    let mut written: BTreeMap<String, String> = BTreeMap::new();
    let mut revision = Some("0".to_string());
    for (n, change) in CHANGES.iter().enumerate() {
        switchyard(dir.path(), change);
        let config: Value = serde_json::from_str(&switchyard(dir.path(), &["render", "--format", "json"])).unwrap();
        let wanted = kv::pairs(kv::DEFAULT_ROOT, &config).unwrap();
        let next = (n + 1).to_string();
        let write = Write::replace(
            &written,
            &wanted,
            Guard { key: "switchyard/shop/prod/revision".into(), expect: revision.clone(), set: next.clone() },
        );
        let since = Instant::now();
        store.commit(&write).unwrap();
        assert_eq!(store.list("traefik/").unwrap(), wanted, "the store holds exactly the environment's keys");
        assert_eq!(store.get(&root).unwrap().as_deref(), Some("switchyard"));
        let times: Vec<Duration> = fleet.iter().map(|t| converge(t, provider, &config, since)).collect();
        // Router for router and service for service, statuses and defaults included, what a Traefik reading
        // switchyard's file serves.
        converge(&reference, "file", &config, since);
        let file = served(&reference, "file");
        for traefik in &fleet {
            assert_eq!(served(traefik, provider), file, "{provider} and the file provider differ");
        }
        println!(
            "{provider}: {:<28} {:>3} keys put, {:>3} deleted; instances serve it after {:?}",
            change.join(" "),
            write.put.len(),
            write.delete.len(),
            times
        );
        (written, revision) = (wanted, Some(next));
    }
    // Nothing was refused on the way: no error in any instance's log.
    for traefik in &fleet {
        let log = traefik.log_text();
        assert!(!log.contains("level=error") && !log.contains(" ERR "), "{log}");
    }
}

#[test]
fn three_traefiks_on_etcd_serve_what_the_file_says() {
    let etcd = LocalEtcd::start_new();
    fleet_follows_the_workflow(&etcd.endpoint(), "etcd", &format!("127.0.0.1:{}", etcd.port));
}

#[test]
fn three_traefiks_on_redis_serve_what_the_file_says() {
    let redis = LocalRedis::start_new();
    fleet_follows_the_workflow(&redis.endpoint(), "redis", &format!("127.0.0.1:{}", redis.port));
}
