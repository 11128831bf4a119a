//! `switchyard status --traefik-api URL` on the local backend: the user's Traefik (here the real binary on
//! 127.0.0.1, its file provider on switchyard's directory) is asked what it serves.

#![allow(clippy::unwrap_used)] // a panic in a test is a failing test

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use switchyard_e2e::switchyard_bin;
use switchyard_e2e::traefik::{LocalTraefik, free_port};

/// Two apps. The versions' servers are container names, which resolve nowhere here: `shop`'s is DOWN at
/// Traefik's first health check, two seconds after Traefik reads the file; `cart`'s is checked first an hour
/// after (Traefik starts every server UP and checks it once per interval), so Traefik serves it as the state says.
const SPEC: &str = "apps:\n  shop:\n    compose: compose.yaml\n    routes:\n      web: {port: 80}\n    \
                    health: {path: /health, interval: 2s, timeout: 1s}\n    environments:\n      dev:\n        \
                    domain: shop.test\n        entry_points: [web]\n  cart:\n    compose: compose.yaml\n    \
                    routes:\n      web: {port: 80}\n    health: {path: /health, interval: 1h, timeout: 1s}\n    \
                    environments:\n      dev:\n        domain: cart.test\n        entry_points: [web]\n";

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(switchyard_bin())
        .current_dir(dir)
        .args(["--actor", "e2e", "--dynamic-dir", "dynamic", "--now", "2026-01-05T09:00:00Z"])
        .args(args)
        .env_remove("SWITCHYARD_TRAEFIK_API")
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn expect(dir: &Path, code: i32, args: &[&str]) -> String {
    let out = run(dir, args);
    assert_eq!(out.status.code(), Some(code), "switchyard {args:?}:\n{}", text(&out));
    text(&out)
}

/// Runs `status --check ARGS` until it exits `code` with output that satisfies `ok`.
fn wait_for(dir: &Path, args: &[&str], code: i32, ok: impl Fn(&str) -> bool) -> String {
    let mut all = vec!["status", "--check"];
    all.extend_from_slice(args);
    let start = Instant::now();
    loop {
        let out = run(dir, &all);
        if out.status.code() == Some(code) && ok(&text(&out)) {
            return text(&out);
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "status --check did not exit {code} as expected within 60 s; last (exit {:?}):\n{}",
            out.status.code(),
            text(&out)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn status_asks_the_users_traefik_when_told_where_its_api_is() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("switchyard.yaml"), SPEC).unwrap();
    std::fs::create_dir(dir.join("dynamic")).unwrap();
    for app in ["shop", "cart"] {
        for args in [&["create"][..], &["deploy", "v1"], &["observe", "v1", "healthy"], &["promote", "v1"]] {
            let mut all = args.to_vec();
            all.extend_from_slice(&["-a", app]);
            expect(dir, 0, &all);
        }
    }
    let traefik = LocalTraefik::start(
        &dir.join("dynamic"),
        &["web"],
        &["--providers.providersThrottleDuration=10ms".to_string()],
        &dir.join("traefik.log"),
    );
    let api = format!("http://127.0.0.1:{}", traefik.api_port);

    // Without the API, status says it cannot see what Traefik serves, and --check cannot answer.
    let text = expect(dir, 0, &["status", "-a", "shop"]);
    assert!(
        text.contains("  Traefik: switchyard cannot see what Traefik serves: give its API with --traefik-api URL"),
        "{text}"
    );
    let text = expect(dir, 2, &["status", "--check", "-a", "shop"]);
    assert!(text.contains("error: status --check: switchyard cannot see what Traefik serves"), "{text}");

    // With it: Traefik serves cart as its state says.
    let text = wait_for(dir, &["-a", "cart", "--traefik-api", &api], 0, |_| true);
    assert!(text.contains("Traefik serves what the state says"), "{text}");
    insta::assert_snapshot!("local_served_agrees", text.replace(&api, "http://127.0.0.1:[port]"));
    // The same from $SWITCHYARD_TRAEFIK_API.
    let out = Command::new(switchyard_bin())
        .current_dir(dir)
        .args(["--dynamic-dir", "dynamic", "--now", "2026-01-05T09:00:00Z", "status", "--check", "-a", "cart"])
        .env("SWITCHYARD_TRAEFIK_API", &api)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", self::text(&out));
    assert_eq!(self::text(&out), text);

    // shop: every router and service enabled, and its live version's server DOWN at Traefik's first health
    // check: it has all production traffic.
    let text = wait_for(dir, &["-a", "shop", "--traefik-api", &api], 1, |t| t.contains("SY0706"));
    assert!(text.contains(&format!("  Traefik ({api}/api/rawdata):")), "{text}");
    assert!(text.contains("routers: 3 enabled; services: 2 enabled"), "{text}");
    assert!(
        text.contains(
            "SY0706: server http://shop-dev-v1-web-1:80 of v1 (blue, 100% of production, web): DOWN in Traefik's \
             health check"
        ),
        "{text}"
    );
    assert!(text.contains("status --check: Traefik and the state disagree for shop/dev"), "{text}");
    insta::assert_snapshot!("local_served_server_down", text.replace(&api, "http://127.0.0.1:[port]"));
    let out = run(dir, &["status", "-a", "shop", "--json", "--traefik-api", &api]);
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status[0]["traefik"]["agrees"], false);
    assert_eq!(status[0]["traefik"]["findings"][0]["code"], "SY0706");
    assert_eq!(status[0]["traefik"]["servers"][0]["status"], "DOWN");

    // A router written by hand with the environment's name pattern, to a service that does not exist.
    std::fs::write(
        dir.join("dynamic/zz-by-hand.yml"),
        "http:\n  routers:\n    shop_dev_extra_web:\n      entryPoints: [web]\n      rule: Host(`x.shop.test`)\n      \
         service: shop_dev_nowhere_web\n",
    )
    .unwrap();
    let text = wait_for(dir, &["-a", "shop", "--traefik-api", &api], 1, |t| t.contains("SY0704"));
    assert!(
        text.contains(
            r#"SY0704: router shop_dev_extra_web: STALE: Traefik has it (disabled: the service "shop_dev_nowhere_web@file" does not exist); the state does not expect it"#
        ),
        "{text}"
    );

    // An API that does not answer: status still shows the rest; --check cannot answer.
    let nowhere = format!("http://127.0.0.1:{}", free_port());
    let text = expect(dir, 0, &["status", "-a", "cart", "--traefik-api", &nowhere]);
    assert!(text.contains("production: blue v1 100%"), "{text}");
    assert!(
        text.contains(&format!(
            "  Traefik: could not ask Traefik what it serves: could not ask Traefik's API at {nowhere}/api/rawdata"
        )),
        "{text}"
    );
    let text = expect(dir, 2, &["status", "-a", "cart", "--check", "--traefik-api", &nowhere]);
    assert!(text.contains("error: status --check: could not ask Traefik what it serves"), "{text}");
    let text = expect(dir, 1, &["status", "-a", "cart", "--traefik-api", "https://127.0.0.1:1"]);
    assert!(text.contains("is not an http:// URL"), "{text}");
    drop(traefik);
}
