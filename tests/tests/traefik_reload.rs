//! What the real Traefik does on every configuration change, which is why `install` gives it a default
//! certificate (see switchyard_model::proxy): without one, Traefik makes a new key for its default certificate
//! on every change (the served certificate changes), and that key generation runs before the new routes are in
//! place; with switchyard's, the same certificate stays. Run directly on 127.0.0.1, no Docker needed.

#![allow(clippy::unwrap_used)] // a panic in a test is a failing test

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use switchyard_e2e::traefik::{self, LocalTraefik};

/// The SHA-256 fingerprint of the certificate Traefik presents on `port` for a host it has no certificate for.
fn served_certificate(port: u16) -> String {
    let script = format!(
        "openssl s_client -connect 127.0.0.1:{port} -servername nothing.test </dev/null 2>/dev/null \
         | openssl x509 -noout -fingerprint -sha256"
    );
    let out = Command::new("sh").args(["-c", &script]).output().expect("openssl runs");
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(text.contains("Fingerprint="), "no certificate on port {port}: {text}");
    text
}

fn route_file(dir: &Path, n: u32) {
    let staging = dir.join(".staging");
    std::fs::create_dir_all(&staging).unwrap();
    let text = format!(
        "http:\n  routers:\n    r{n}:\n      rule: Host(`r{n}.test`)\n      service: s\n  services:\n    s:\n      \
         loadBalancer:\n        servers:\n        - url: http://127.0.0.1:9\n"
    );
    std::fs::write(staging.join("routes.tmp"), text).unwrap();
    std::fs::rename(staging.join("routes.tmp"), dir.join("routes.yml")).unwrap();
}

/// Waits until Traefik's API lists the router `r<n>`.
fn wait_for_router(t: &LocalTraefik, n: u32) {
    let start = Instant::now();
    while t.rawdata()["routers"].get(format!("r{n}@file")).is_none() {
        assert!(start.elapsed() < Duration::from_secs(30), "router r{n} never appeared:\n{}", t.log_text());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The certificates served after three configuration changes.
fn certificates_across_changes(dir: &Path, log: &Path) -> Vec<String> {
    route_file(dir, 0);
    let t = LocalTraefik::start(dir, &["websecure"], &["--entrypoints.websecure.http.tls=true".into()], log);
    wait_for_router(&t, 0);
    let port = t.port("websecure");
    let mut seen = vec![served_certificate(port)];
    for n in 1..=2 {
        route_file(dir, n);
        wait_for_router(&t, n);
        seen.push(served_certificate(port));
    }
    seen
}

#[test]
fn without_a_default_certificate_every_change_makes_a_new_key_and_with_switchyards_none() {
    let _ = traefik::binary();
    let tmp = tempfile::tempdir().unwrap();

    let bare = tmp.path().join("bare");
    std::fs::create_dir_all(&bare).unwrap();
    let seen = certificates_across_changes(&bare, &tmp.path().join("bare.log"));
    assert!(seen[0] != seen[1] && seen[1] != seen[2], "Traefik kept its generated certificate: {seen:?}");

    // The file install writes, pointing at a certificate and key made here.
    let with = tmp.path().join("with");
    std::fs::create_dir_all(&with).unwrap();
    let (cert, key) = (tmp.path().join("default.crt"), tmp.path().join("default.key"));
    let made = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "30"])
        .args(["-subj", "/CN=switchyard default certificate", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let config = switchyard_model::proxy::default_certificate_config()
        .replace(switchyard_model::proxy::DEFAULT_CERTIFICATE, cert.to_str().unwrap())
        .replace(switchyard_model::proxy::DEFAULT_CERTIFICATE_KEY, key.to_str().unwrap());
    std::fs::write(with.join(switchyard_model::proxy::DEFAULT_CERTIFICATE_FILE), config).unwrap();
    let seen = certificates_across_changes(&with, &tmp.path().join("with.log"));
    let ours = Command::new("openssl").args(["x509", "-noout", "-fingerprint", "-sha256", "-in"]).arg(&cert).output();
    let ours = String::from_utf8_lossy(&ours.unwrap().stdout).trim().to_string();
    assert_eq!(seen, vec![ours.clone(), ours.clone(), ours], "Traefik served another certificate than switchyard's");
}
