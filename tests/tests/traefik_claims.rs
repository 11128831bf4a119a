//! What switchyard's messages say about Traefik, shown on the real binary (run directly on 127.0.0.1, no Docker
//! needed):
//! - SY0156's hint ("Traefik would serve its default certificate instead"): a router naming a certificate
//!   resolver the static configuration lacks stays enabled, Traefik logs an error, and HTTPS clients get
//!   Traefik's own default certificate;
//! - SY0150's hint ("Traefik's file provider reads only .yml, .yaml and .toml files"): a `.json` file in the
//!   directory is not read.

#![allow(clippy::unwrap_used)] // a panic in a test is a failing test

use std::process::Command;
use std::time::{Duration, Instant};

use switchyard_e2e::traefik::LocalTraefik;
use switchyard_model::Spec;

/// The subject of the certificate Traefik presents on `port` for `host`.
fn served_subject(port: u16, host: &str) -> String {
    let script = format!(
        "openssl s_client -connect 127.0.0.1:{port} -servername {host} </dev/null 2>/dev/null \
         | openssl x509 -noout -subject"
    );
    let out = Command::new("sh").args(["-c", &script]).output().expect("openssl runs");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn an_undeclared_resolver_is_refused_because_traefik_would_serve_its_default_certificate() {
    // What switchyard says: SY0156, with the hint naming the consequence.
    let spec = "apps:\n  shop:\n    compose: compose.yaml\n    routes: {web: {port: 80}}\n    environments:\n      \
                prod:\n        domain: example.com\n        entry_points: [websecure]\n        tls: {cert_resolver: le}\n";
    let diagnostics = Spec::parse(spec, "switchyard.yaml").expect_err("the spec is refused");
    let d = diagnostics.iter().find(|d| d.code == "SY0156").unwrap_or_else(|| panic!("no SY0156 in {diagnostics:?}"));
    let hint = d.hints.join("\n");
    assert!(hint.contains("Traefik would serve its default certificate instead"), "{hint}");

    // What the real Traefik does with such a router.
    let dir = tempfile::tempdir().unwrap();
    let dynamic = dir.path().join("dynamic");
    std::fs::create_dir(&dynamic).unwrap();
    std::fs::write(
        dynamic.join("routes.yml"),
        "http:\n  routers:\n    r:\n      rule: Host(`secure.test`)\n      entryPoints: [websecure]\n      \
         service: s\n      tls:\n        certResolver: le\n  services:\n    s:\n      loadBalancer:\n        \
         servers:\n        - url: http://127.0.0.1:9\n",
    )
    .unwrap();
    let t = LocalTraefik::start(&dynamic, &["websecure"], &[], &dir.path().join("traefik.log"));
    let router = wait_for_router(&t, "r@file");
    assert_eq!(router["status"], "enabled", "{router}");
    let log = t.log_text();
    assert!(
        log.lines().any(|l| l.contains("ERR") && l.contains("nonexistent certificate resolver") && l.contains("le")),
        "no error about the resolver in Traefik's log:\n{log}"
    );
    let subject = served_subject(t.port("websecure"), "secure.test");
    assert!(subject.contains("TRAEFIK DEFAULT CERT"), "served: {subject:?}");
}

/// Waits until Traefik's API lists the router `name`.
fn wait_for_router(t: &LocalTraefik, name: &str) -> serde_json::Value {
    let start = Instant::now();
    loop {
        if let Some(r) = t.rawdata()["routers"].get(name) {
            return r.clone();
        }
        assert!(start.elapsed() < Duration::from_secs(30), "router {name} never appeared:\n{}", t.log_text());
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn traefik_reads_only_yml_yaml_and_toml_files() {
    let spec = "traefik:\n  files: [middlewares.json]\napps: {}\n";
    let diagnostics = Spec::parse(spec, "switchyard.yaml").expect_err("the spec is refused");
    let d = diagnostics.iter().find(|d| d.code == "SY0150").unwrap_or_else(|| panic!("no SY0150 in {diagnostics:?}"));
    assert!(d.hints.join("\n").contains("reads only .yml, .yaml and .toml files"), "{d:?}");

    let dir = tempfile::tempdir().unwrap();
    let dynamic = dir.path().join("dynamic");
    std::fs::create_dir(&dynamic).unwrap();
    let router = |name: &str| {
        format!(
            "{{\"http\": {{\"routers\": {{\"{name}\": {{\"rule\": \"Host(`{name}.test`)\", \"service\": \"s\"}}}}, \
             \"services\": {{\"s\": {{\"loadBalancer\": {{\"servers\": [{{\"url\": \"http://127.0.0.1:9\"}}]}}}}}}}}}}\n"
        )
    };
    // JSON is YAML: the same text under four names, one router each; and one in TOML.
    for (file, name) in [("a.yml", "yml"), ("b.yaml", "yaml"), ("c.json", "json"), ("d.txt", "txt")] {
        std::fs::write(dynamic.join(file), router(name)).unwrap();
    }
    std::fs::write(dynamic.join("e.toml"), "[http.routers.toml]\nrule = \"Host(`toml.test`)\"\nservice = \"s\"\n")
        .unwrap();
    let t = LocalTraefik::start(&dynamic, &["web"], &[], &dir.path().join("traefik.log"));
    for name in ["yml@file", "yaml@file", "toml@file"] {
        wait_for_router(&t, name);
    }
    let routers = t.rawdata()["routers"].clone();
    for name in ["json@file", "txt@file"] {
        assert!(routers.get(name).is_none(), "Traefik read {name}: {routers}");
    }
}
