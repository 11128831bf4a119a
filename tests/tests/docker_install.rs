//! `install` on a real Docker engine with the real Traefik: every static flag it gives Traefik is accepted and
//! in effect (read back from Traefik's own API), the API, ping and metrics answer inside the container only, the
//! file provider reads switchyard's directory from the first start, and running `install` again leaves a proxy
//! alone or replaces it, keeping what it serves.

#![allow(clippy::unwrap_used)] // a panic in a test is a failing test

use std::time::{Duration, Instant};

use switchyard_e2e::docker::{Site, docker, docker_raw};
use switchyard_e2e::traefik;

/// Runs `sh -c script` in the proxy container; its stdout when it succeeds.
fn in_proxy(site: &Site, script: &str) -> Option<String> {
    let out = docker_raw(&["exec", &site.proxy, "sh", "-c", script]);
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A path of the internal entry point, fetched inside the proxy.
fn api(site: &Site, path: &str) -> Option<String> {
    in_proxy(site, &format!("wget -q -O - http://127.0.0.1:8080{path}"))
}

/// Waits until Traefik in the proxy answers ping.
fn wait_for_ping(site: &Site) {
    let start = Instant::now();
    while api(site, "/ping").as_deref() != Some("OK") {
        assert!(start.elapsed() < Duration::from_secs(60), "Traefik's ping did not answer:\n{}", logs(site));
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn logs(site: &Site) -> String {
    let out = docker_raw(&["logs", &site.proxy]);
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// The proxy's address on its own network, as the host reaches it.
fn proxy_ip(site: &Site) -> String {
    docker(&[
        "inspect",
        "-f",
        &format!("{{{{(index .NetworkSettings.Networks \"{}-net\").IPAddress}}}}", site.proxy),
        &site.proxy,
    ])
}

/// Waits until `host` on the proxy's `web` entry point answers `want`.
fn wait_for_answer(site: &Site, host: &str, want: &str) {
    let addr = format!("{}:80", proxy_ip(site));
    let start = Instant::now();
    loop {
        let got = traefik::get_at(&addr, host, "/", &[]).ok().map(|r| (r.status, r.body.trim().to_string()));
        if got.as_ref().is_some_and(|(s, b)| *s == 200 && b == want) {
            return;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "{host} did not answer {want:?} (last: {got:?})");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn spec(name: &str) -> String {
    format!(
        "traefik:\n  cert_resolvers:\n    le:\n      acme:\n        email: ops@example.com\n        \
         ca_server: https://acme.invalid/directory\n    le-http:\n      acme:\n        challenge: http\n\
         apps:\n  {name}:\n    compose: compose.yaml\n    routes:\n      web: {{port: 80}}\n    \
         health: {{path: /cgi-bin/health, interval: 2s, timeout: 1s}}\n    environments:\n      dev:\n        \
         domain: {name}.test\n        entry_points: [web, admin]\n"
    )
}

#[test]
fn install_gives_the_real_traefik_every_flag_it_relies_on_and_they_are_in_effect() {
    let site = Site::new("sye2e-inst");
    std::fs::write(site.path().join("switchyard.yaml"), spec(&site.name)).unwrap();
    // An entry point with no address is refused before anything is created.
    let text = site.expect(1, &["install", "--no-publish"]);
    assert!(text.contains("the entry point \"admin\" has no address") && text.contains("--entry-point admin=:PORT"));
    assert!(!docker_raw(&["inspect", &site.proxy]).status.success(), "nothing was created");

    let text = site.ok(&["install", "--no-publish", "--entry-point", "admin=:8443"]);
    assert!(text.contains("made the default certificate"), "{text}");
    wait_for_ping(&site);

    // Traefik's own view of its static configuration: every flag install gave it.
    let dump = in_proxy(&site, "wget -q -O - http://127.0.0.1:8080/api/support-dump | tar -xzOf - static-config.json")
        .expect("the API's support dump");
    let config: serde_json::Value = serde_json::from_str(&dump).unwrap();
    assert_eq!(config["providers"]["file"]["directory"], "/switchyard/dynamic", "{config:#}");
    assert_eq!(config["providers"]["file"]["watch"], true);
    assert_eq!(config["providers"]["providersThrottleDuration"], switchyard_model::proxy::PROVIDERS_THROTTLE);
    assert_eq!(config["api"]["insecure"], true);
    assert!(config["ping"].is_object() && config["metrics"]["prometheus"].is_object(), "{config:#}");
    assert_eq!(config["global"]["checkNewVersion"], serde_json::Value::Null, "not on: {config:#}");
    let le = &config["certificatesResolvers"]["le"]["acme"];
    assert_eq!(le["storage"], "/switchyard/acme/le.json");
    assert!(le["tlsChallenge"].is_object() && le["email"].is_string(), "{le:#}");
    let http = &config["certificatesResolvers"]["le-http"]["acme"];
    assert_eq!(http["httpChallenge"]["entryPoint"], "web", "{http:#}");
    // The entry points and their addresses, the internal one on the loopback only.
    let eps: serde_json::Value = serde_json::from_str(&api(&site, "/api/entrypoints").unwrap()).unwrap();
    let mut eps: Vec<(String, String)> = eps
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["name"].as_str().unwrap().to_string(), e["address"].as_str().unwrap().to_string()))
        .collect();
    eps.sort();
    let want = [("admin", ":8443"), ("traefik", "127.0.0.1:8080"), ("web", ":80"), ("websecure", ":443")];
    assert_eq!(eps, want.map(|(n, a)| (n.to_string(), a.to_string())));
    // Metrics, and the default certificate switchyard made (so no reload generates a key).
    assert!(api(&site, "/metrics").unwrap().contains("traefik_config_reloads_total"));
    let certs = api(&site, "/api/certificates").unwrap();
    assert!(certs.contains("switchyard default certificate"), "{certs}");
    let mode = in_proxy(&site, "ls -l /switchyard/tls/default.key").unwrap();
    assert!(mode.starts_with("-rw-------"), "the key is readable by its owner only: {mode}");
    // Traefik logged no error at start (its default level shows errors only).
    let log = logs(&site);
    assert!(!log.contains("ERR") && !log.contains("level=error"), "{log}");

    // The internal entry point is out of reach from outside the container; the routes are not.
    let ip = proxy_ip(&site);
    assert!(traefik::get_at(&format!("{ip}:8080"), "x", "/ping", &[]).is_err(), "the API is reachable");
    assert_eq!(traefik::get_at(&format!("{ip}:80"), "x.test", "/", &[]).unwrap().status, 404);

    // The file provider reads switchyard's directory from the first start: a deployed version answers.
    site.ok(&["create"]);
    site.ok(&["deploy", "v1"]);
    wait_for_answer(&site, &format!("v1-{}.{}.test", site.name, site.name), "v1");
}

#[test]
fn install_again_leaves_a_proxy_alone_or_replaces_it_keeping_what_it_serves() {
    let site = Site::new("sye2e-reinst");
    site.install();
    site.ok(&["deploy", "v1"]);
    site.ok(&["promote", "v1"]);
    let production = format!("{}.{}.test", site.name, site.name);
    wait_for_answer(&site, &production, "v1");
    let started = |s: &Site| docker(&["inspect", "-f", "{{.Id}} {{.State.StartedAt}}", &s.proxy]);
    let before = started(&site);

    // Same spec, same options: nothing happens to the running proxy.
    let text = site.ok(&["install", "--no-publish"]);
    assert!(text.contains("nothing to do"), "{text}");
    assert_eq!(started(&site), before, "the proxy was not restarted");

    // Other options: the proxy is replaced; it keeps its volume (the state) and its stack networks.
    let text = site.ok(&["install", "--no-publish", "--entry-point", "web=:8000"]);
    assert!(text.contains("replacing") && text.contains("created with other settings"), "{text}");
    assert!(text.contains("connected to 1 stack network(s)"), "{text}");
    assert_ne!(started(&site), before);
    let state = site.state();
    assert_eq!(state["live"], "blue", "the state survived the replacement");
    let eps = api(&site, "/api/entrypoints").unwrap();
    assert!(eps.contains(r#""address":":8000""#), "{eps}");
    let addr = format!("{}:8000", proxy_ip(&site));
    let start = Instant::now();
    loop {
        let got = traefik::get_at(&addr, &production, "/", &[]).ok();
        if got.as_ref().is_some_and(|r| r.status == 200 && r.body.trim() == "v1") {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "production did not answer after the replacement: {got:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!docker_raw(&["inspect", &format!("{}-replaced", site.proxy)]).status.success(), "the old one is gone");

    // A proxy as an earlier switchyard made it, with no label, not connected to the stack networks, and with
    // Traefik started before its directory existed: its file provider failed for good ("Cannot start the
    // provider *file.Provider") and every request gets 404.
    docker(&["rm", "-f", &site.proxy]);
    docker(&[
        "run",
        "-d",
        "--name",
        &site.proxy,
        "--network",
        &format!("{}-net", site.proxy),
        "-v",
        &format!("{}-data:/switchyard", site.proxy),
        "--label",
        "switchyard.managed=true",
        "--entrypoint",
        "/bin/sh",
        traefik::IMAGE,
        "-c",
        "mv /switchyard/dynamic /switchyard/dynamic.away && (traefik --providers.file.directory=/switchyard/dynamic \
         --entrypoints.web.address=:80 --ping=true & sleep 2; mv /switchyard/dynamic.away /switchyard/dynamic; wait)",
    ]);
    let start = Instant::now();
    while !logs(&site).contains("Cannot start the provider *file.Provider") {
        assert!(start.elapsed() < Duration::from_secs(30), "the provider did not fail:\n{}", logs(&site));
        std::thread::sleep(Duration::from_millis(100));
    }
    let ip = proxy_ip(&site);
    assert_eq!(traefik::get_at(&format!("{ip}:80"), &production, "/", &[]).unwrap().status, 404, "it serves nothing");
    let text = site.ok(&["install", "--no-publish"]);
    assert!(text.contains("replacing") && text.contains("earlier switchyard"), "{text}");
    // The replacement joins the network of every version the state records, not only the old one's networks.
    assert!(text.contains("connected to 1 stack network(s)"), "{text}");
    wait_for_answer(&site, &production, "v1");
    assert!(!logs(&site).contains("Cannot start the provider"), "{}", logs(&site));
}
