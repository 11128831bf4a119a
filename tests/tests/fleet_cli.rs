//! `routing.store` through the `switchyard` binary: an environment whose routing, state and lock live in the
//! real etcd or the real Redis, watched by three real Traefik instances. The workflow moves all of them; two
//! CLIs racing for the environment get one winner and the other names the holder; a store that is down fails
//! the change with nothing written, and once it is back the next change goes through everywhere.

#![allow(clippy::unwrap_used)] // a panic in a test is a failing test
#![allow(clippy::print_stdout)] // the convergence times are part of what the test reports

use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use switchyard_e2e::switchyard_bin;
use switchyard_e2e::traefik::{LocalTraefik, get};
use switchyard_model::proxy::PROVIDERS_THROTTLE;
use switchyard_real_stores::{LocalEtcd, LocalRedis};
use switchyard_store::{Credentials, Endpoint, Guard, Write, connect};

/// The spec, with the environment's routing in `store`, watched by the Traefik instances whose APIs are `apis`.
fn spec(store: &str, apis: &[String]) -> String {
    let instances: Vec<String> = apis.iter().map(|a| format!("\"{a}\"")).collect();
    format!(
        "apps:\n  shop:\n    compose: compose.yaml\n    routes:\n      web: {{port: 80}}\n    \
         health: {{path: /health, interval: 1h, timeout: 1s}}\n    environments:\n      prod:\n        \
         domain: shop.test\n        entry_points: [web]\n        \
         routing: {{store: \"{store}\", instances: [{}]}}\n",
        instances.join(", ")
    )
}

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(switchyard_bin())
        .current_dir(dir)
        .args(["--actor", "e2e", "--dynamic-dir", "dynamic"])
        .args(args)
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// Runs and requires success; returns stdout and stderr together.
fn ok_text(dir: &Path, args: &[&str]) -> String {
    let out = run(dir, args);
    assert!(out.status.success(), "switchyard {args:?}:\n{}", text(&out));
    text(&out)
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = run(dir, args);
    assert!(out.status.success(), "switchyard {args:?}:\n{}", text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The weights production's web service gives each version, as the Traefik whose API is on `api_port` serves
/// them from `provider`.
fn weights(api_port: u16, provider: &str) -> Option<Value> {
    let answer = get(api_port, "127.0.0.1", "/api/rawdata", &[]).ok()?;
    let raw: Value = serde_json::from_str(&answer.body).ok()?;
    let service = &raw["services"][format!("shop_prod_prod_web@{provider}")];
    (service["status"] == "enabled").then(|| service["weighted"]["services"].clone())
}

/// What the rendered configuration gives production's web service.
fn rendered_weights(dir: &Path) -> Value {
    let config: Value = serde_json::from_str(&ok(dir, &["render", "--format", "json"])).unwrap();
    config["http"]["services"]["shop_prod_prod_web"]["weighted"]["services"].clone()
}

/// Watches what every instance serves of production's weights from `provider`, from `since` on, recording
/// each change with its time, until each has served what [`Watch::until`] is given.
struct Watch {
    want: Arc<Mutex<Option<Value>>>,
    threads: Vec<std::thread::JoinHandle<Seen>>,
}

/// What one instance served, each change with when it was first seen.
type Seen = Vec<(Duration, Option<Value>)>;

impl Watch {
    fn start(fleet: &[LocalTraefik], provider: &str, since: Instant) -> Watch {
        let want: Arc<Mutex<Option<Value>>> = Arc::default();
        let threads = fleet
            .iter()
            .map(|traefik| {
                let (api_port, provider, want) = (traefik.api_port, provider.to_string(), want.clone());
                std::thread::spawn(move || {
                    let mut seen: Seen = Vec::new();
                    loop {
                        let now = weights(api_port, &provider);
                        if seen.last().is_none_or(|(_, last)| *last != now) {
                            seen.push((since.elapsed(), now));
                        }
                        let wanted = want.lock().unwrap().clone();
                        let done = wanted.is_some_and(|w| seen.iter().any(|(_, v)| v.as_ref() == Some(&w)));
                        if done || since.elapsed() > Duration::from_secs(30) {
                            return seen;
                        }
                        std::thread::sleep(Duration::from_millis(2));
                    }
                })
            })
            .collect();
        Watch { want, threads }
    }

    /// Waits until every instance has served `want`; returns when each first did (since the watch's start).
    fn until(self, want: &Value) -> Vec<Duration> {
        *self.want.lock().unwrap() = Some(want.clone());
        self.threads
            .into_iter()
            .map(|thread| {
                let seen = thread.join().unwrap();
                let first = seen.iter().find(|(_, w)| w.as_ref() == Some(want));
                first.unwrap_or_else(|| panic!("an instance did not serve {want} within 30 s: {seen:?}")).0
            })
            .collect()
    }
}

/// Waits until every instance serves production's weights as rendered now.
fn converge(dir: &Path, fleet: &[LocalTraefik], provider: &str) {
    let watch = Watch::start(fleet, provider, Instant::now());
    watch.until(&rendered_weights(dir));
}

fn fleet_workflow(store: &str, provider: &str, address: &str, stop: &mut dyn FnMut(), start: &mut dyn FnMut()) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("switchyard.yaml"), spec(store, &[])).unwrap();
    ok(dir.path(), &["create"]);
    // Nothing of the environment is written to files: its routing and state are in the store.
    assert!(!dir.path().join("dynamic").join("switchyard_shop_prod.yml").exists());
    assert!(!dir.path().join(".switchyard/state").join("shop_prod.json").exists());

    let empty = tempfile::tempdir().unwrap();
    let flags = vec![
        format!("--providers.{provider}.endpoints={address}"),
        format!("--providers.{provider}.rootKey=traefik"),
        format!("--providers.providersThrottleDuration={PROVIDERS_THROTTLE}"),
    ];
    let fleet: Vec<LocalTraefik> = (0..3)
        .map(|i| LocalTraefik::start(empty.path(), &["web"], &flags, &dir.path().join(format!("fleet-{i}.log"))))
        .collect();
    // From now on switchyard asks every instance, after each change, whether it serves it.
    let apis: Vec<String> = fleet.iter().map(|t| format!("http://127.0.0.1:{}", t.api_port)).collect();
    std::fs::write(dir.path().join("switchyard.yaml"), spec(store, &apis)).unwrap();

    for args in [&["deploy", "v1"][..], &["observe", "v1", "healthy"], &["promote", "v1"]] {
        ok(dir.path(), args);
    }
    converge(dir.path(), &fleet, provider);
    ok(dir.path(), &["deploy", "v2"]);
    ok(dir.path(), &["observe", "v2", "healthy"]);
    for args in [&["promote", "v2", "--share", "30"][..], &["shift", "--share", "60"], &["complete"], &["rollback"]] {
        let since = Instant::now();
        let watch = Watch::start(&fleet, provider, since);
        let out = ok(dir.path(), args);
        let returned = since.elapsed();
        assert!(out.contains(&format!("wrote {store} (")), "{out}");
        if args[0] == "rollback" {
            // Routing only: the configuration and the state in one transaction, no lock taken.
            assert!(out.contains(&format!("write the routing and the state to {store} in one transaction")), "{out}");
        }
        let said = out.lines().find(|l| l.contains("every instance serves it (3 of 3)"));
        let said = said.unwrap_or_else(|| panic!("switchyard did not wait for the instances:\n{out}"));
        println!("{provider}: {:<24} switchyard says: {}", args.join(" "), said.trim());
        let times = watch.until(&rendered_weights(dir.path()));
        println!(
            "{provider}: {:<24} the command took {returned:?}; each instance served it {times:?} after it started",
            args.join(" ")
        );
    }
    let status = ok(dir.path(), &["status"]);
    assert!(status.contains(&format!("routing in {store}: as the state says")), "{status}");
    assert!(status.contains("not locked"), "{status}");
    for api in &apis {
        assert!(status.contains(&format!("Traefik at {api}: serves it")), "{status}");
    }

    // Two CLIs racing for the environment: one wins; the other either names the holder or runs after it.
    ok(dir.path(), &["promote", "v2", "--share", "10"]);
    let racers: Vec<_> = ["20", "40"]
        .into_iter()
        .map(|share| {
            let dir = dir.path().to_path_buf();
            std::thread::spawn(move || run(&dir, &["shift", "--share", share]))
        })
        .collect();
    let outs: Vec<Output> = racers.into_iter().map(|r| r.join().unwrap()).collect();
    let won = outs.iter().filter(|o| o.status.success()).count();
    assert!(won >= 1, "{}", outs.iter().map(text).collect::<String>());
    for lost in outs.iter().filter(|o| !o.status.success()) {
        let said = text(lost);
        assert!(said.contains(&format!("shop/prod is locked in {store} by e2e (process")), "{said}");
    }
    let revision_said = ok(dir.path(), &["status"]);
    assert!(revision_said.contains("not locked"), "{revision_said}");
    converge(dir.path(), &fleet, provider);

    // The store down: the change fails and says so, nothing is written; back up, the next change goes through.
    let before = rendered_weights(dir.path());
    stop();
    let out = run(dir.path(), &["shift", "--share", "70"]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains(&format!("{store} cannot be reached")), "{}", text(&out));
    start();
    assert_eq!(rendered_weights(dir.path()), before, "a change against a store that was down wrote something");
    ok(dir.path(), &["shift", "--share", "70"]);
    converge(dir.path(), &fleet, provider);
    // A lock left by a CLI on another machine: refused while it is fresh, taken over once it is older than
    // --lock-ttl (no process here can tell whether that one still runs).
    let mut kv = connect(&Endpoint::parse(store).unwrap(), &Credentials::default()).unwrap();
    let left = r#"{"actor":"alice","pid":4711,"since":"2026-01-01T00:00:00Z","change":"shift","host":"elsewhere"}"#;
    let lock = Guard { key: "switchyard/shop/prod/lock".into(), expect: None, set: left.into() };
    kv.commit(&Write { guard: lock, absent: Default::default(), put: Default::default(), delete: Default::default() })
        .unwrap();
    let out = run(dir.path(), &["--lock-ttl", "100000d", "shift", "--share", "80"]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("locked in") && text(&out).contains("alice (process 4711 on elsewhere)"),
        "{}",
        text(&out)
    );
    let out = ok_text(dir.path(), &["shift", "--share", "80"]);
    assert!(out.contains("taking over the stale lock of shop/prod held by alice"), "{out}");
    assert_eq!(kv.get("switchyard/shop/prod/lock").unwrap(), None, "the lock taken over is released");
    converge(dir.path(), &fleet, provider);

    // An instance gone: status says it does not answer; the others serve the environment's last write.
    let mut fleet = fleet;
    let gone = fleet.pop().unwrap();
    drop(gone);
    let status = ok(dir.path(), &["status"]);
    assert!(status.contains(&format!("Traefik at {}: does not answer", apis[2])), "{status}");
    assert!(status.contains(&format!("Traefik at {}: serves it", apis[0])), "{status}");
    // Started again, an instance comes back on the current routing, with nothing written for it.
    fleet.push(LocalTraefik::start(empty.path(), &["web"], &flags, &dir.path().join("fleet-again.log")));
    converge(dir.path(), &fleet, provider);

    for traefik in &fleet {
        let log = traefik.log_text();
        // The only errors: the provider's, while the store was down.
        let other = log.lines().filter(|l| l.contains(" ERR ") && !l.contains("Provider error")).count();
        assert_eq!(other, 0, "{log}");
    }
}

#[test]
fn the_cli_moves_three_traefiks_through_etcd() {
    let mut etcd = LocalEtcd::start_new();
    let (endpoint, address) = (etcd.endpoint(), format!("127.0.0.1:{}", etcd.port));
    let cell = std::cell::RefCell::new(&mut etcd);
    fleet_workflow(&endpoint, "etcd", &address, &mut || cell.borrow_mut().stop(), &mut || cell.borrow_mut().start());
}

#[test]
fn the_cli_moves_three_traefiks_through_redis() {
    let mut redis = LocalRedis::start_new();
    let (endpoint, address) = (redis.endpoint(), format!("127.0.0.1:{}", redis.port));
    let cell = std::cell::RefCell::new(&mut redis);
    fleet_workflow(&endpoint, "redis", &address, &mut || cell.borrow_mut().stop(), &mut || cell.borrow_mut().start());
}
