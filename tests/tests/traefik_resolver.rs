//! What the real Traefik does with a router that names a certificate resolver its static configuration lacks,
//! which is what SY0156's hint tells the user ("Traefik would serve its default certificate instead"): the
//! router stays enabled, Traefik logs an error, and HTTPS clients get Traefik's own default certificate. Run
//! directly on 127.0.0.1, no Docker needed.

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
    let start = Instant::now();
    let router = loop {
        if let Some(r) = t.rawdata()["routers"].get("r@file") {
            break r.clone();
        }
        assert!(start.elapsed() < Duration::from_secs(30), "router r never appeared:\n{}", t.log_text());
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(router["status"], "enabled", "{router}");
    let log = t.log_text();
    assert!(
        log.lines().any(|l| l.contains("ERR") && l.contains("nonexistent certificate resolver") && l.contains("le")),
        "no error about the resolver in Traefik's log:\n{log}"
    );
    let subject = served_subject(t.port("websecure"), "secure.test");
    assert!(subject.contains("TRAEFIK DEFAULT CERT"), "served: {subject:?}");
}
