//! The Docker daemon restarted while a promotion waits for health, followed by the real traffic checks through
//! the real Traefik. In a test binary of its own, with one test, because restarting dockerd would disturb every
//! other test running beside it.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use switchyard_e2e::docker::{HEALTH_UNDER_LOAD, ROUTE_WEB, Site, docker, docker_raw, restart_dockerd};

fn weights(config: &str) -> Vec<(String, u64)> {
    let doc: serde_yaml::Value = serde_yaml::from_str(config).unwrap();
    let mut out = Vec::new();
    for (_, svc) in doc["http"]["services"].as_mapping().into_iter().flatten() {
        for s in svc["weighted"]["services"].as_sequence().into_iter().flatten() {
            out.push((s["name"].as_str().unwrap().to_string(), s["weight"].as_u64().unwrap()));
        }
    }
    out.sort();
    out
}

#[test]
fn a_promotion_waits_out_a_daemon_restart_without_moving_traffic_then_finishes() {
    let site = Site::new("sye2e-restart");
    let name = site.name.clone();
    site.write_spec(&[ROUTE_WEB, HEALTH_UNDER_LOAD], &[]);
    std::fs::write(
        site.path().join("compose.yaml"),
        format!(
            "services:\n  web:\n    image: {}\n    restart: always\n    environment:\n      APP_VERSION: ${{SWITCHYARD_VERSION}}\n",
            switchyard_e2e::docker::APP_IMAGE
        ),
    )
    .unwrap();
    site.install();
    site.ok(&["deploy", "v1"]);
    site.ok(&["promote", "v1"]);
    site.ok(&["deploy", "v2"]);
    site.check_traffic(&["v1", "v2"]);
    site.set_unhealthy("v2", true);
    let before = weights(&site.config());
    assert_eq!(before, vec![(format!("{name}_dev_ver_v1_web"), 100)]);
    let revision = site.state()["revision"].as_u64().unwrap();

    // The promotion stages v2's slot route, then waits for v2 (unhealthy) while holding the lock.
    let child = site
        .command(&["promote", "v2", "--share", "50", "--health-timeout", "120s"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let lock = format!("/switchyard/locks/{name}_dev/holder");
    let mut waiting = false;
    for _ in 0..100 {
        if docker_raw(&["exec", &site.proxy, "test", "-e", &lock]).status.success()
            && site.config().contains(&format!("{name}_dev_slot_green"))
        {
            waiting = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(waiting, "the promotion staged the slot route and waits for v2");

    restart_dockerd();
    // The promotion waits the restart out like an unhealthy service; nothing moved meanwhile.
    assert_eq!(docker(&["inspect", "-f", "{{.State.Running}}", &site.proxy]), "true", "the proxy came back");
    for _ in 0..100 {
        if docker(&["inspect", "-f", "{{.State.Running}}", &site.container("v2")]) == "true" {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(weights(&site.config()), before, "no weight moved");
    assert_eq!(site.state()["revision"].as_u64().unwrap(), revision, "nothing recorded");
    // Through the restarted Traefik (its address looked up again), production is all v1's, v1's preview answers.
    site.wait_for_answer(&site.production_host(), "v1");
    site.check_traffic(&["v1"]);

    // v2 recovers: the same promotion carries on to the end.
    site.set_unhealthy("v2", false);
    let out = child.wait_with_output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("Docker does not answer"), "the wait showed the engine was gone:\n{text}");
    assert_eq!(
        weights(&site.config()),
        vec![(format!("{name}_dev_ver_v1_web"), 50), (format!("{name}_dev_ver_v2_web"), 50)]
    );
    assert_eq!(site.state()["revision"].as_u64().unwrap(), revision + 1);
    // Right after the change: production splits 50 / 50 through the real Traefik, both previews answer.
    site.check_traffic(&["v1", "v2"]);
    // Re-running the finished command changes nothing.
    assert!(site.ok(&["promote", "v2", "--share", "50"]).contains("nothing to do"));
    assert_eq!(site.state()["revision"].as_u64().unwrap(), revision + 1);
}
