//! switchyard on a real Docker engine: the whole lifecycle, isolation between stacks, the health gate,
//! locks, and cleanup that only ever touches what switchyard created.

#![allow(clippy::unwrap_used)] // a panic in a test is a failing test

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use switchyard_e2e::docker::{Site, docker, docker_raw};

fn weights(config: &str) -> Vec<(String, u64)> {
    let v: serde_json::Value = serde_yaml::from_str(config).unwrap();
    let mut out = Vec::new();
    for (_, service) in v["http"]["services"].as_object().cloned().unwrap_or_default() {
        if let Some(children) = service["weighted"]["services"].as_array() {
            for c in children {
                out.push((c["name"].as_str().unwrap().to_string(), c["weight"].as_u64().unwrap()));
            }
        }
    }
    out
}

#[test]
fn the_whole_lifecycle_on_a_real_engine() {
    let site = Site::new("sye2e-life");
    let name = &site.name;
    site.install();
    site.ok(&["deploy", "v1.0.0"]);
    let c1 = site.container("v1-0-0");
    assert_eq!(docker(&["inspect", "-f", "{{.State.Running}}", &c1]), "true");
    // Traefik (the proxy) is connected to the stack's network and reaches the version by its container name.
    assert_eq!(site.get(&site.proxy, &format!("http://{c1}/")).as_deref(), Some("v1.0.0"));
    assert!(site.config().contains(&format!("Host(`v1-0-0-{name}.{name}.test`)")));
    assert!(weights(&site.config()).is_empty(), "no production router before a promotion");

    site.ok(&["promote", "v1.0.0"]);
    assert_eq!(weights(&site.config()), vec![(format!("{name}_dev_ver_v1-0-0_web"), 100)]);

    site.ok(&["deploy", "v2.0.0"]);
    let text = site.ok(&["promote", "v2.0.0", "--share", "10"]);
    assert!(text.contains("wait until v2.0.0 is healthy") && text.contains("v2.0.0 is healthy"), "{text}");
    let mut w = weights(&site.config());
    w.sort();
    assert_eq!(w, vec![(format!("{name}_dev_ver_v1-0-0_web"), 90), (format!("{name}_dev_ver_v2-0-0_web"), 10)]);
    site.ok(&["shift", "--share", "50"]);
    site.ok(&["complete"]);
    assert_eq!(site.state()["live"], "green");
    assert_eq!(weights(&site.config()), vec![(format!("{name}_dev_ver_v2-0-0_web"), 100)]);

    // Rollback is a routing change only: the very same containers keep running.
    let ids = |s: &Site| docker(&["ps", "-q", "--no-trunc", "--filter", &format!("label=switchyard.app={}", s.name)]);
    let before = ids(&site);
    let text = site.ok(&["rollback"]);
    assert_eq!(ids(&site), before);
    // On the Docker host itself, the proxy's data directory is written directly.
    assert!(text.contains("written in one step in /var/lib/docker/volumes/") && text.contains("(directly"), "{text}");
    assert_eq!(site.state()["live"], "blue");
    assert_eq!(weights(&site.config()), vec![(format!("{name}_dev_ver_v1-0-0_web"), 100)]);

    // Status shows the intended state beside what Docker runs.
    let status: serde_json::Value = serde_json::from_str(&site.ok(&["status", "--json"])).unwrap();
    let runtime = status[0]["runtime"].to_string();
    assert!(runtime.contains("network present, Traefik connected") && runtime.contains(&c1), "{runtime}");

    // Every change is in the audit log on the host, one line each.
    let audit = site.proxy_file(&format!("audit/{name}_dev.jsonl"));
    let revision = site.state()["revision"].as_u64().unwrap();
    assert_eq!(audit.lines().count() as u64, revision, "{audit}");
    assert!(audit.lines().last().unwrap().contains(r#""change":"roll back""#), "{audit}");

    // Cleanup and retire never remove a slot's version, nor anything switchyard did not create.
    let foreign = format!("{name}-foreign");
    docker(&["run", "-d", "--name", &foreign, switchyard_e2e::docker::APP_IMAGE]);
    docker(&["volume", "create", &foreign]);
    docker(&["network", "create", &foreign]);
    let text = site.ok(&["cleanup"]);
    assert!(text.contains("nothing to do"), "both versions are in slots: {text}");
    site.ok(&["deploy", "v3.0.0"]);
    let text = site.expect(1, &["retire", "v1.0.0"]);
    assert!(text.contains("held by the blue slot"), "{text}");
    site.ok(&["retire", "v3.0.0"]);
    assert!(!docker_raw(&["inspect", &site.container("v3-0-0")]).status.success(), "v3's container is gone");
    assert!(!docker_raw(&["network", "inspect", &format!("{name}-dev-v3-0-0")]).status.success(), "and its network");
    for (kind, id) in [("container", &foreign), ("volume", &foreign), ("network", &foreign)] {
        assert!(docker_raw(&[kind, "inspect", id]).status.success(), "the foreign {kind} survived");
    }
    assert_eq!(docker(&["inspect", "-f", "{{.State.Running}}", &c1]), "true");
    let _ = docker_raw(&["rm", "-f", &foreign]);
    let _ = docker_raw(&["volume", "rm", &foreign]);
    let _ = docker_raw(&["network", "rm", &foreign]);
}

#[test]
fn an_unhealthy_candidate_never_gets_traffic() {
    let site = Site::new("sye2e-gate");
    site.install();
    site.ok(&["deploy", "v1"]);
    site.ok(&["promote", "v1"]);
    site.ok(&["deploy", "v2"]);
    site.set_unhealthy("v2", true);
    let (config, state) = (site.config(), site.state());
    let text = site.expect(1, &["promote", "v2", "--share", "50", "--health-timeout", "4s"]);
    assert!(text.contains("v2 did not become healthy within 4s"), "{text}");
    assert!(text.contains("traffic stays where it is"), "{text}");
    assert_eq!(site.config(), config, "the staged slot route was undone");
    assert_eq!(site.state(), state, "nothing was recorded");
    site.set_unhealthy("v2", false);
    site.ok(&["promote", "v2", "--share", "50"]);
    assert_eq!(weights(&site.config()).len(), 2);
}

#[test]
fn two_concurrent_changes_are_serialised_by_the_lock() {
    let site = Site::new("sye2e-lock");
    site.install();
    site.ok(&["deploy", "v1"]);
    site.ok(&["promote", "v1"]);
    site.ok(&["deploy", "v2"]);
    site.ok(&["deploy", "v3"]);
    site.set_unhealthy("v2", true);
    // The first promotion holds the lock while it waits for v2.
    let mut first = site
        .command(&["promote", "v2", "--share", "10", "--health-timeout", "10s"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let lock = format!("/switchyard/locks/{}_dev/holder", site.name);
    let mut held = false;
    for _ in 0..50 {
        if docker_raw(&["exec", &site.proxy, "test", "-e", &lock]).status.success() {
            held = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(held, "the first promotion took the lock");
    let text = site.expect(2, &["promote", "v3", "--share", "10"]);
    assert!(text.contains(&format!("is locked by e2e (process {} on ", first.id())), "{text}");
    assert!(text.contains("promote v2 at 10%") && text.contains("--break-lock"), "{text}");
    assert_eq!(first.wait().unwrap().code(), Some(1), "the first promotion times out on v2's health");
    // The lock was released: the second change goes through now.
    site.ok(&["promote", "v3", "--share", "10"]);
}

#[test]
fn a_stale_lock_is_taken_over_and_a_fresh_one_can_be_broken() {
    let site = Site::new("sye2e-stale");
    site.install();
    let dir = format!("/switchyard/locks/{}_dev", site.name);
    let hold = |since: u64| {
        let holder = format!(r#"{{"actor":"ci-runner-7","pid":4242,"since":"{since}","change":"deploy v0"}}"#);
        docker(&["exec", &site.proxy, "sh", "-c", &format!("mkdir -p {dir} && printf '%s' '{holder}' > {dir}/holder")]);
    };
    hold(946_684_800); // 2000-01-01: long expired
    let text = site.ok(&["deploy", "v1"]);
    assert!(text.contains("taking over the stale lock") && text.contains("ci-runner-7"), "{text}");
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    hold(now);
    let text = site.expect(2, &["deploy", "v2"]);
    assert!(text.contains("is locked by ci-runner-7 (process 4242)"), "{text}");
    site.ok(&["deploy", "v2", "--break-lock"]);
    assert!(!docker_raw(&["exec", &site.proxy, "test", "-e", &dir]).status.success(), "released after the change");
}

#[test]
fn a_deploy_killed_half_way_is_finished_by_the_next_run() {
    let site = Site::new("sye2e-kill");
    std::fs::write(
        site.path().join("compose.yaml"),
        format!(
            "services:\n  db:\n    image: {img}\n    healthcheck:\n      test: [\"CMD\", \"test\", \"-e\", \"/tmp/ready\"]\n      \
             interval: 1s\n      retries: 1000\n  web:\n    image: {img}\n    depends_on:\n      db: {{condition: service_healthy}}\n    \
             environment:\n      APP_VERSION: ${{SWITCHYARD_VERSION}}\n",
            img = switchyard_e2e::docker::APP_IMAGE
        ),
    )
    .unwrap();
    site.install();
    let db = format!("{}-dev-v1-db-1", site.name);
    // The deploy creates db, then waits for it to be healthy before it creates web: kill it there.
    let mut child = site
        .command(&["deploy", "v1"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut started = false;
    for _ in 0..100 {
        if docker_raw(&["inspect", "-f", "{{.State.Running}}", &db]).stdout.starts_with(b"true") {
            started = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(started, "the deploy started db");
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!docker_raw(&["inspect", &site.container("v1")]).status.success(), "killed before web existed");
    let state = site.state();
    assert_eq!(state["deployments"].as_array().unwrap().len(), 0, "nothing recorded yet");

    // The next run takes over the lock of the dead process and carries the deploy through, reusing what exists.
    docker(&["exec", &db, "touch", "/tmp/ready"]);
    let text = site.ok(&["deploy", "v1"]);
    assert!(text.contains("whose process is gone") || text.contains("its process is gone"), "{text}");
    let containers = docker(&["ps", "-aq", "--filter", &format!("label=switchyard.stack={}-dev-v1", site.name)]);
    assert_eq!(containers.lines().count(), 2, "no duplicates: {containers}");
    assert_eq!(site.state()["deployments"][0]["version"], "v1");
    assert_eq!(site.get(&site.proxy, &format!("http://{}/", site.container("v1"))).as_deref(), Some("v1"));
    // And running it again changes nothing.
    let revision = site.state()["revision"].clone();
    assert!(site.ok(&["deploy", "v1"]).contains("nothing to do"));
    assert_eq!(site.state()["revision"], revision);
}

#[test]
fn a_routing_change_planned_on_an_outdated_cache_is_refused_by_the_host_and_planned_again() {
    let site = Site::new("sye2e-cache");
    site.install();
    site.ok(&["deploy", "v1"]);
    site.ok(&["promote", "v1"]);
    site.ok(&["deploy", "v2"]);
    site.ok(&["promote", "v2", "--share", "50"]);
    // Machine A remembers the host's state after its own change, through the Docker API only.
    // (Lowering a share is a routing-only change; raising one waits for health first.)
    let text = site.ok_on("a", &["shift", "--share", "40"]);
    assert!(text.contains(&format!("written in one step in {}:/switchyard", site.proxy)), "{text}");
    // Machine B moves the state on; A's memory is now out of date.
    site.ok_on("b", &["shift", "--share", "30"]);
    let revision = site.state()["revision"].as_u64().unwrap();
    // A plans on what it remembers (share 40 -> 20); the host sees the revision moved and refuses; A reads the
    // host and plans again under the lock.
    let text = site.ok_on("a", &["shift", "--share", "20"]);
    assert!(text.contains("planning again under the lock"), "{text}");
    let state = site.state();
    assert_eq!(state["revision"].as_u64().unwrap(), revision + 1, "exactly one more change");
    let mut w = weights(&site.config());
    w.sort();
    let name = &site.name;
    assert_eq!(w, vec![(format!("{name}_dev_ver_v1_web"), 80), (format!("{name}_dev_ver_v2_web"), 20)]);
    let audit = site.proxy_file(&format!("audit/{name}_dev.jsonl"));
    assert_eq!(audit.lines().count() as u64, revision + 1, "{audit}");
    // And the next change from A goes through in one step again.
    let text = site.ok_on("a", &["rollback"]);
    assert!(!text.contains("planning again"), "{text}");
}

#[test]
fn a_change_cut_short_after_its_commit_point_is_finished_by_the_next_run() {
    let site = Site::new("sye2e-journal");
    let name = site.name.clone();
    site.install();
    site.ok(&["deploy", "v1"]);
    site.ok(&["promote", "v1"]);
    site.ok(&["deploy", "v2"]);
    site.ok(&["promote", "v2", "--share", "50"]);
    let revision = site.state()["revision"].as_u64().unwrap();
    let audit_lines = site.proxy_file(&format!("audit/{name}_dev.jsonl")).lines().count();

    // What `shift --share 20` leaves when the engine dies right after its commit point: the new files under
    // their temporary names, the journal in place, the lock held, the audit line pending.
    let config = site.config().replace("weight: 50", "weight: 20");
    let config = config.replacen("weight: 20", "weight: 80", 1);
    let mut state = site.state();
    state["revision"] = (revision + 1).into();
    let state_text = serde_json::to_string_pretty(&state).unwrap();
    let file = format!("switchyard_{name}_dev.yml");
    let script = r#"set -e
printf '%s' "$CONFIG" > "/switchyard/dynamic/.$FILE.tmp"
printf '%s\n' "$STATE" > "/switchyard/state/.$N.json.tmp"
printf '%s' "$REV" > "/switchyard/state/.$N.rev.tmp"
printf '%s\n' '{"change":"set share 20%"}' > "/switchyard/audit/.$N.pending"
mkdir -p "/switchyard/locks/$N"
printf '%s' '{"actor":"ci-runner-9","pid":999999,"since":"946684800","change":"set share 20%","host":"gone"}' > "/switchyard/locks/$N/holder"
printf '%s\n' "/switchyard/dynamic/.$FILE.tmp" "/switchyard/dynamic/$FILE" \
  "/switchyard/state/.$N.json.tmp" "/switchyard/state/$N.json" \
  "/switchyard/state/.$N.rev.tmp" "/switchyard/state/$N.rev" > "/switchyard/state/.$N.journal"
"#;
    let n = format!("{name}_dev");
    let rev = (revision + 1).to_string();
    docker(&[
        "exec",
        "-e",
        &format!("CONFIG={config}"),
        "-e",
        &format!("STATE={state_text}"),
        "-e",
        &format!("REV={rev}"),
        "-e",
        &format!("FILE={file}"),
        "-e",
        &format!("N={n}"),
        &site.proxy,
        "sh",
        "-c",
        script,
    ]);

    // The next change takes over the expired lock, finishes the cut-short change first, then plans on it.
    let text = site.ok(&["rollback"]);
    assert!(text.contains("taking over the stale lock"), "{text}");
    assert!(text.contains("finished the change"), "{text}");
    assert_eq!(site.state()["revision"].as_u64().unwrap(), revision + 2, "the finished change, then the rollback");
    let audit = site.proxy_file(&format!("audit/{name}_dev.jsonl"));
    assert_eq!(audit.lines().count(), audit_lines + 2, "{audit}");
    assert!(audit.contains(r#"{"change":"set share 20%"}"#), "{audit}");
    assert_eq!(weights(&site.config()), vec![(format!("{name}_dev_ver_v1_web"), 100)]);
    let leftovers =
        docker(&["exec", &site.proxy, "sh", "-c", "ls -a /switchyard/state /switchyard/audit /switchyard/dynamic"]);
    assert!(
        !leftovers.contains(".journal") && !leftovers.contains(".pending") && !leftovers.contains(".tmp"),
        "{leftovers}"
    );
}

#[test]
fn a_promotion_killed_while_it_waits_leaves_traffic_alone_and_the_next_run_cleans_its_staged_route() {
    let site = Site::new("sye2e-killwait");
    let name = site.name.clone();
    site.install();
    site.ok(&["deploy", "v1"]);
    site.ok(&["promote", "v1"]);
    site.ok(&["deploy", "v2"]);
    site.set_unhealthy("v2", true);
    let (config, state) = (site.config(), site.state());
    let mut child = site
        .command(&["promote", "v2", "--share", "50", "--health-timeout", "60s"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let slot = format!("{name}_dev_slot_green");
    let mut staged = false;
    for _ in 0..100 {
        if site.config().contains(&slot) {
            staged = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(staged, "the promotion staged the green slot's route");
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(weights(&site.config()), weights(&config), "no weight moved");
    assert_eq!(site.state(), state, "nothing recorded");
    // Status tells: the file is ahead of the state, and the lock's process is gone.
    let text = site.ok(&["status"]);
    assert!(text.contains("DIFFERS from the state") && text.contains("that process is gone"), "{text}");
    // `repair` takes over the dead process's lock and puts back the file the state describes: the staged
    // route goes.
    let text = site.ok(&["repair"]);
    assert!(text.contains("taking over the stale lock") && text.contains("[repair]"), "{text}");
    assert_eq!(site.config(), config);
    assert!(
        !docker_raw(&["exec", &site.proxy, "test", "-e", &format!("/switchyard/locks/{name}_dev")]).status.success()
    );
    let text = site.ok(&["status"]);
    assert!(text.contains("as the state says") && text.contains("not locked"), "{text}");
}

#[test]
fn a_missing_image_is_pulled_with_progress_and_an_unknown_one_stops_the_deploy_before_anything_is_created() {
    use switchyard_e2e::docker::{APP, image_tar_with};
    let registry = switchyard_e2e::registry::Registry::start();
    let site = Site::new("sye2e-pull");
    let name = site.name.clone();
    // A layer Docker has never seen (its own marker file), so the pull really downloads it.
    let marker = format!("{:?}", SystemTime::now());
    let rootfs = image_tar_with("app", APP, &[("etc/e2e-marker", marker.as_bytes())]);
    let image = registry.push("e2e/app", "v1", &rootfs, &["/bin/app"]);
    let missing = registry.reference("e2e/app", "nope");
    site.install();
    let compose = |image: &str| {
        std::fs::write(
            site.path().join("compose.yaml"),
            format!(
                "services:\n  web:\n    image: {image}\n    environment:\n      APP_VERSION: ${{SWITCHYARD_VERSION}}\n"
            ),
        )
        .unwrap()
    };

    compose(&missing);
    let text = site.expect(1, &["deploy", "v0"]);
    assert!(text.contains(&format!("could not pull {missing}")) && text.contains("docker pull"), "{text}");
    assert!(!docker_raw(&["network", "inspect", &format!("{name}-dev-v0")]).status.success(), "nothing created");
    assert_eq!(site.state()["deployments"].as_array().unwrap().len(), 0);

    compose(&image);
    let text = site.ok(&["deploy", "v1"]);
    assert!(text.contains(&format!("pulling {image} (not on the Docker host)")), "{text}");
    assert!(text.contains("Download complete") && text.contains("Pull complete"), "{text}");
    assert!(text.contains(&format!("pulled {image} in")), "{text}");
    assert_eq!(site.get(&site.proxy, &format!("http://{}/", site.container("v1"))).as_deref(), Some("v1"));
    // Now it is there: the next stack uses it without pulling.
    let text = site.ok(&["deploy", "v2"]);
    assert!(!text.contains("pulling"), "{text}");
    site.cleanup();
    let _ = docker_raw(&["rmi", "-f", &image]);
}
