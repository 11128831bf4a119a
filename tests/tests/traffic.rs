//! Real traffic through the real Traefik on a real Docker engine: what each host answers, how production splits
//! (Traefik's weighted round robin, counted per round), sticky visitors, rollback, the health gate under load,
//! and the CLI killed (SIGKILL) or Traefik restarted in the middle of a change, each followed by the real
//! traffic checks ([`Site::check_traffic`]). Requests go from this host to the proxy container's address on its
//! own network, with the Host header of the production, preview and slot hostnames.

#![allow(clippy::unwrap_used)] // a panic in a test is a failing test

use std::collections::BTreeMap;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest as _, Sha256};
use switchyard_e2e::docker::{APP_IMAGE, HEALTH_UNDER_LOAD, ROUTE_WEB, Site, docker, docker_raw};
use switchyard_e2e::load::{Load, Options, Report};

/// A site whose spec has the health check for counting answers.
fn site(name: &str) -> Site {
    let site = Site::new(name);
    site.write_spec(&[ROUTE_WEB, HEALTH_UNDER_LOAD], &[]);
    site
}

fn counts(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs.iter().map(|(v, n)| (v.to_string(), *n)).collect()
}

/// A light load (3 connections, 150 requests per second) on the hosts given, at most 5 minutes.
fn light_load(site: &Site, hosts: &[String]) -> Load {
    let targets: Vec<_> = hosts.iter().map(|h| site.target(h)).collect();
    Load::start(
        &targets,
        Options { connections: 3, rate: 150, max_duration: Duration::from_secs(300), ..Options::default() },
    )
}

/// Waits (up to 60 s) until `cond` holds, checking every 100 ms; panics naming `what` otherwise.
fn wait_until(what: &str, cond: impl Fn() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < Duration::from_secs(60), "{what}: not within 60 s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn spawn(site: &Site, args: &[&str]) -> Child {
    site.command(args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap()
}

/// Only these versions answered `host` (and at least one request did), per the report.
fn only(report: &Report, host: &str, versions: &[&str]) {
    let answers = report.answers(host);
    assert!(!answers.is_empty(), "no request to {host} was answered:\n{report}");
    for v in answers.keys() {
        assert!(versions.contains(&v.as_str()), "{v} answered {host}, which only {versions:?} may answer:\n{report}");
    }
}

#[test]
fn the_previews_of_every_routed_service_answer_their_version() {
    let site = site("sytr-preview");
    site.write_spec(&["routes: {web: {port: 80}, api: {port: 8080, host_prefix: api}}", HEALTH_UNDER_LOAD], &[]);
    site.write_compose(&format!(
        "services:\n  web:\n    image: {APP_IMAGE}\n    environment:\n      APP_VERSION: ${{SWITCHYARD_VERSION}}\n  \
         api:\n    image: {APP_IMAGE}\n    environment:\n      PORT: \"8080\"\n      APP_VERSION: api-${{SWITCHYARD_VERSION}}\n"
    ));
    site.install();
    site.ok(&["deploy", "v1"]);
    site.ok(&["deploy", "v2"]);
    for v in ["v1", "v2"] {
        let preview = site.preview_host(v);
        site.wait_for_answer(&preview, v);
        assert_eq!(site.answer(&format!("api.{preview}")), format!("api-{v}"));
    }
    // Nothing is live yet: no production router, so Traefik answers 404.
    let r = site.http(&site.production_host(), &[]).unwrap();
    assert_eq!(r.status, 404, "{}", r.body);

    site.ok(&["promote", "v1"]);
    let production = site.production_host();
    site.wait_for_answer(&production, "v1");
    assert_eq!(site.answer(&format!("api.{production}")), "api-v1");
    assert_eq!(site.answer(&site.slot_host("blue")), "v1");
    assert_eq!(site.answer(&format!("api.{}", site.slot_host("blue"))), "api-v1");
    let r = site.http(&site.slot_host("green"), &[]).unwrap();
    assert_eq!(r.status, 404, "the green slot is empty: {}", r.body);
    site.check_traffic(&["v1", "v2"]);
}

#[test]
fn production_splits_follow_traefiks_weighted_round_robin_through_complete_and_rollback() {
    let site = site("sytr-split");
    site.install();
    site.ok(&["deploy", "v1"]);
    site.ok(&["promote", "v1"]);
    site.check_traffic(&["v1"]);
    site.ok(&["deploy", "v2"]);
    // Each change starts Traefik's balancer afresh: 100 requests right after it are exactly the shares.
    site.ok(&["promote", "v2", "--share", "10"]);
    site.check_traffic(&["v1", "v2"]);
    site.ok(&["shift", "--share", "50"]);
    site.check_traffic(&["v1", "v2"]);
    site.ok(&["complete"]);
    site.check_traffic(&["v1", "v2"]);
    assert_eq!(site.answers(&site.production_host(), 100), counts(&[("v2", 100)]));
    assert_eq!(site.answer(&site.slot_host("green")), "v2");
    // Rollback: the old version answers everything again.
    site.ok(&["rollback"]);
    site.check_traffic(&["v1", "v2"]);
    assert_eq!(site.answers(&site.production_host(), 100), counts(&[("v1", 100)]));
}

/// The value of the cookie `name` in a Set-Cookie header.
fn cookie_value(set_cookie: &str, name: &str) -> Option<String> {
    let first = set_cookie.split(';').next()?;
    let (n, v) = first.split_once('=')?;
    (n.trim() == name).then(|| v.trim().to_string())
}

#[test]
fn the_sticky_cookie_keeps_a_visitor_on_one_version_during_a_split() {
    let site = site("sytr-sticky");
    let cookie = "sytr_slot";
    site.write_spec(&[ROUTE_WEB, HEALTH_UNDER_LOAD], &[&format!("sticky: {{cookie: {cookie}}}")]);
    site.install();
    site.ok(&["deploy", "v1"]);
    site.ok(&["promote", "v1"]);
    site.ok(&["deploy", "v2"]);
    site.ok(&["promote", "v2", "--share", "50"]);
    site.check_traffic(&["v1", "v2"]);
    let production = site.production_host();

    // New visitors (no cookie) are spread by the round robin; each gets a cookie naming its version's child.
    let mut pinned: BTreeMap<String, String> = BTreeMap::new();
    for _ in 0..20 {
        let r = site.http(&production, &[]).unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
        let set = r.header("set-cookie").unwrap_or_else(|| panic!("no Set-Cookie during a split: {:?}", r.headers));
        let value = cookie_value(set, cookie).unwrap_or_else(|| panic!("not the spec's cookie: {set}"));
        pinned.entry(r.body.trim().to_string()).or_insert(value);
        if pinned.len() == 2 {
            break;
        }
    }
    assert_eq!(pinned.keys().collect::<Vec<_>>(), ["v1", "v2"], "a new visitor on each side");
    // The value is the first 16 hex digits of the SHA-256 of the child's name as written in the weighted service.
    for (version, value) in &pinned {
        let child = format!("{}_dev_ver_{version}_web", site.name);
        let digest: String = Sha256::digest(child.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(value, &digest[..16], "the cookie of {version}");
    }
    // Each visitor, sending its cookie back, is answered by its version every time.
    for (version, value) in &pinned {
        let header = format!("{cookie}={value}");
        for i in 0..30 {
            let r = site.http(&production, &[("Cookie", &header)]).unwrap();
            assert_eq!((r.status, r.body.trim()), (200, version.as_str()), "request {i} of the visitor on {version}");
        }
    }

    // After complete there is no split, and no cookie: the visitor pinned to v1 gets v2 like everyone.
    site.ok(&["complete"]);
    site.check_traffic(&["v2"]);
    let r = site.http(&production, &[("Cookie", &format!("{cookie}={}", pinned["v1"]))]).unwrap();
    assert_eq!((r.status, r.body.trim()), (200, "v2"));
    assert_eq!(r.header("set-cookie"), None, "no sticky cookie without a split");
}

#[test]
fn an_unhealthy_candidate_receives_no_request_while_its_promotion_is_refused_under_load() {
    let site = site("sytr-gate");
    site.install();
    site.ok(&["deploy", "v1"]);
    site.ok(&["promote", "v1"]);
    site.ok(&["deploy", "v2"]);
    site.set_unhealthy("v2", true);
    let production = site.production_host();
    site.wait_for_answer(&production, "v1");
    let load = light_load(&site, std::slice::from_ref(&production));
    load.step("promote refused");
    let text = site.expect(1, &["promote", "v2", "--share", "50", "--health-timeout", "4s"]);
    assert!(text.contains("v2 did not become healthy within 4s"), "{text}");
    load.step("after");
    let since = Instant::now();
    load.wait_until("200 more answers", Duration::from_secs(60), |r| {
        r.iter().filter(|r| r.at >= load.since_start(since)).count() >= 200
    });
    let report = load.stop();
    report.print();
    assert_eq!(report.failures().count(), 0, "{report}");
    assert_eq!(report.answers(&production).keys().collect::<Vec<_>>(), ["v1"], "{report}");
    site.check_traffic(&["v1"]);
}

/// A compose file whose `web` waits for `db` to be healthy; `db` is healthy for v1, and for any other version
/// once `/tmp/ready` exists in it.
fn compose_waiting_for_db(site: &Site) {
    site.write_compose(&format!(
        "services:\n  db:\n    image: {APP_IMAGE}\n    healthcheck:\n      \
         test: [\"CMD\", \"sh\", \"-c\", \"test -e /tmp/ready || test ${{SWITCHYARD_VERSION}} = v1\"]\n      \
         interval: 1s\n      retries: 1000\n  web:\n    image: {APP_IMAGE}\n    depends_on:\n      \
         db: {{condition: service_healthy}}\n    environment:\n      APP_VERSION: ${{SWITCHYARD_VERSION}}\n"
    ));
}

#[test]
fn a_deploy_killed_half_way_leaves_production_alone_and_the_next_run_makes_its_preview_answer() {
    let site = site("sytr-killdep");
    compose_waiting_for_db(&site);
    site.install();
    site.ok(&["deploy", "v1"]);
    site.ok(&["promote", "v1"]);
    let (production, preview1) = (site.production_host(), site.preview_host("v1"));
    site.wait_for_answer(&production, "v1");
    let load = light_load(&site, &[production.clone(), preview1.clone()]);

    // The deploy of v2 creates db, then waits for it to be healthy before it creates web: kill -9 it there.
    load.step("deploy killed");
    let mut child = spawn(&site, &["deploy", "v2"]);
    let db = format!("{}-dev-v2-db-1", site.name);
    wait_until("the deploy started v2's db", || {
        docker_raw(&["inspect", "-f", "{{.State.Running}}", &db]).stdout.starts_with(b"true")
    });
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!docker_raw(&["inspect", &site.container("v2")]).status.success(), "killed before web existed");
    let r = site.http(&site.preview_host("v2"), &[]).unwrap();
    assert_eq!(r.status, 404, "v2 was never recorded, so it has no route: {}", r.body);

    load.step("deploy again");
    docker(&["exec", &db, "touch", "/tmp/ready"]);
    site.ok(&["deploy", "v2"]);
    let report = load.stop();
    report.print();
    assert_eq!(report.failures().count(), 0, "{report}");
    only(&report, &production, &["v1"]);
    only(&report, &preview1, &["v1"]);
    site.check_traffic(&["v1", "v2"]);
}

#[test]
fn a_promotion_killed_while_it_waits_leaves_production_alone_and_repair_then_a_new_promotion_work() {
    let site = site("sytr-killpro");
    site.install();
    site.ok(&["deploy", "v1"]);
    site.ok(&["promote", "v1"]);
    site.ok(&["deploy", "v2"]);
    site.set_unhealthy("v2", true);
    let (production, preview1) = (site.production_host(), site.preview_host("v1"));
    site.wait_for_answer(&production, "v1");
    let load = light_load(&site, &[production.clone(), preview1.clone()]);

    load.step("promote killed");
    let mut child = spawn(&site, &["promote", "v2", "--share", "50", "--health-timeout", "120s"]);
    let slot = format!("{}_dev_slot_green", site.name);
    wait_until("the promotion staged the green slot's route", || site.config().contains(&slot));
    child.kill().unwrap();
    child.wait().unwrap();
    load.step("repair");
    let text = site.ok(&["repair"]);
    assert!(text.contains("taking over the stale lock"), "{text}");
    assert!(!site.config().contains(&slot), "the staged route is gone");
    // Traffic on production never moved; let it run a little longer on the repaired configuration.
    let since = load.since_start(Instant::now());
    load.wait_until("100 answers after the repair", Duration::from_secs(60), |r| {
        r.iter().filter(|r| r.at >= since).count() >= 100
    });
    let report = load.stop();
    report.print();
    assert_eq!(report.failures().count(), 0, "{report}");
    only(&report, &production, &["v1"]);
    only(&report, &preview1, &["v1"]);
    site.check_traffic(&["v1"]);

    // v2 recovers: a new promotion goes through and production splits as the state says.
    site.set_unhealthy("v2", false);
    site.ok(&["promote", "v2", "--share", "50"]);
    site.check_traffic(&["v1", "v2"]);
}

#[test]
fn traefik_restarted_while_a_promotion_waits_serves_the_state_and_the_promotion_finishes() {
    let site = site("sytr-proxy");
    site.install();
    site.ok(&["deploy", "v1"]);
    site.ok(&["promote", "v1"]);
    site.ok(&["deploy", "v2"]);
    site.set_unhealthy("v2", true);
    let production = site.production_host();
    site.wait_for_answer(&production, "v1");
    let revision = site.state()["revision"].as_u64().unwrap();

    let child = site
        .command(&["promote", "v2", "--share", "50", "--health-timeout", "120s"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let slot = format!("{}_dev_slot_green", site.name);
    wait_until("the promotion staged the green slot's route", || site.config().contains(&slot));
    let started = docker(&["inspect", "-f", "{{.State.StartedAt}}", &site.proxy]);
    docker(&["restart", &site.proxy]);
    assert_ne!(docker(&["inspect", "-f", "{{.State.StartedAt}}", &site.proxy]), started, "Traefik restarted");

    // The restarted Traefik reads the files as they are: production is still all v1, v2 gets nothing.
    site.wait_for_answer(&production, "v1");
    assert_eq!(site.state()["revision"].as_u64().unwrap(), revision, "nothing recorded");
    site.check_traffic(&["v1"]);
    let r = site.http(&site.slot_host("blue"), &[]).unwrap();
    assert_eq!((r.status, r.body.trim()), (200, "v1"));

    // v2 recovers: the same promotion carries on to the end, and traffic splits as the state says.
    site.set_unhealthy("v2", false);
    let out = child.wait_with_output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert_eq!(site.state()["revision"].as_u64().unwrap(), revision + 1);
    site.check_traffic(&["v1", "v2"]);
}
