//! The bundled example on the Docker backend, with the real Traefik `install` runs: its spec and its own
//! `middlewares.yml` as shipped, with a compose file that runs the test app (the example's images cannot be
//! pulled here) under the example's service names, and the app named after this test (the engine is shared).
//! After create, deploy and promote, Traefik in the proxy serves every router, service and middleware enabled,
//! with the user's file in its directory. And before any write the whole directory is checked, on the direct
//! path and through the API: a broken file someone put there stops the change, nothing written.

#![allow(clippy::unwrap_used)] // a panic in a test is a failing test

use std::fs;

use serde_json::Value;
use switchyard_e2e::docker::{APP_IMAGE, Site, docker, docker_raw};
use switchyard_e2e::root;

const NAME: &str = "syex-whoami";

/// The example's spec for the app `NAME`, its middlewares file and a compose file with the test app as `web`
/// (port 80) and `api` (port 8080), answering the example's health path.
fn site() -> Site {
    let site = Site::new(NAME);
    let example = root().join("examples/whoami");
    let spec = fs::read_to_string(example.join("switchyard.yaml")).unwrap();
    let spec = spec.replace("\n  whoami:\n", &format!("\n  {NAME}:\n"));
    fs::write(site.path().join("switchyard.yaml"), spec).unwrap();
    fs::copy(example.join("middlewares.yml"), site.path().join("middlewares.yml")).unwrap();
    let service = |name: &str, port: u16| {
        format!(
            "  {name}:\n    image: {APP_IMAGE}\n    command: [\"sh\", \"-c\", \"echo ok > /www/health && exec /bin/app\"]\n    \
             environment:\n      APP_VERSION: {name}-${{SWITCHYARD_VERSION}}\n      PORT: \"{port}\"\n"
        )
    };
    fs::write(site.path().join("compose.yaml"), format!("services:\n{}{}", service("web", 80), service("api", 8080)))
        .unwrap();
    site
}

/// `/api/rawdata` of the Traefik in the proxy, read from inside it.
fn rawdata(site: &Site) -> Value {
    serde_json::from_str(&docker(&["exec", &site.proxy, "wget", "-q", "-O", "-", "http://127.0.0.1:8080/api/rawdata"]))
        .unwrap()
}

/// Waits until Traefik serves `router`; returns `/api/rawdata`.
fn serving(site: &Site, router: &str) -> Value {
    for _ in 0..200 {
        let raw = rawdata(site);
        if raw["routers"].get(router).is_some() {
            return raw;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("Traefik does not serve {router}:\n{:#}", rawdata(site));
}

#[test]
fn the_example_runs_behind_the_real_traefik_with_its_own_file() {
    let site = site();
    site.ok(&["install", "--no-publish"]);
    for args in [&["create", "-e", "dev"][..], &["deploy", "-e", "dev", "v1.2.0"], &["promote", "-e", "dev", "v1.2.0"]]
    {
        site.ok(args);
    }
    assert_eq!(
        site.proxy_file("dynamic/middlewares.yml"),
        fs::read_to_string(site.path().join("middlewares.yml")).unwrap().trim_end()
    );
    assert_eq!(site.proxy_file("dynamic/.switchyard-files"), "middlewares.yml");

    let raw = serving(&site, &format!("{NAME}_dev_prod_web@file"));
    let mut dev = 0;
    for section in ["routers", "services", "middlewares"] {
        for (name, value) in raw[section].as_object().unwrap().iter().filter(|(n, _)| n.ends_with("@file")) {
            assert_eq!(value["status"], "enabled", "{section} {name}: {value:#}");
            assert!(value.get("error").is_none(), "{section} {name}: {value:#}");
            if section == "routers" {
                assert_eq!(value["middlewares"], serde_json::json!(["secure-headers@file"]), "{name}");
                assert_eq!(value["tls"]["certResolver"], "letsencrypt", "{name}");
                dev += 1;
            }
        }
    }
    assert_eq!(dev, 6, "2 previews, 2 slot routes, 2 production routes:\n{raw:#}");
    assert_eq!(raw["middlewares"]["secure-headers@file"]["usedBy"].as_array().unwrap().len(), dev);
    let logs = docker_raw(&["logs", &site.proxy]);
    let log = format!("{}{}", String::from_utf8_lossy(&logs.stdout), String::from_utf8_lossy(&logs.stderr));
    assert!(!log.contains("nonexistent certificate resolver") && !log.contains("resolve is skipped"), "{log}");

    // A second version, so there is something to roll back to.
    site.ok(&["deploy", "-e", "dev", "v1.3.0"]);
    site.ok(&["promote", "-e", "dev", "v1.3.0"]);

    // Another machine rolls back, through the API: it remembers the states and Traefik's directory it wrote.
    let remote = site.ok_on("remote", &["rollback", "-e", "dev"]);
    assert!(remote.contains(&format!("in one step in {}:/switchyard", site.proxy)), "{remote}");

    // Someone puts a file in Traefik's directory that Traefik would disable a router of: every change stops
    // there, on this machine (which sees the proxy's directory, and writes it directly) and on the other one,
    // whose remembered directory lacks the file: its commit finds the directory changed, and the change is
    // planned again under the lock, on the directory as it is.
    docker(&[
        "exec",
        &site.proxy,
        "sh",
        "-c",
        "printf 'http:\\n  routers:\\n    r:\\n      rule: Host(`r.test`)\\n      service: noop@internal\\n      middlewares: [gone@file]\\n' > /switchyard/dynamic/theirs.yml",
    ]);
    let config = site.proxy_file(&format!("dynamic/switchyard_{NAME}_dev.yml"));
    let state = site.proxy_file(&format!("state/{NAME}_dev.json"));
    for machine in ["here", "remote"] {
        let out = site.command_on(machine, &["rollback", "-e", "dev"]).output().unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.status.code(), Some(1), "{machine}:\n{text}");
        assert!(text.contains("error[SY3202]") && text.contains(":/switchyard/dynamic/theirs.yml:6:"), "{text}");
        assert!(text.contains("nothing was changed"), "{text}");
        if machine == "remote" {
            assert!(text.contains("planning again under the lock"), "{text}");
        }
        assert_eq!(site.proxy_file(&format!("dynamic/switchyard_{NAME}_dev.yml")), config, "{machine}");
        assert_eq!(site.proxy_file(&format!("state/{NAME}_dev.json")), state, "{machine}");
    }
    docker(&["exec", &site.proxy, "rm", "/switchyard/dynamic/theirs.yml"]);
    site.ok(&["rollback", "-e", "dev"]);
    // The other machine's memory is out of date twice over now (a state, the directory): planned again under
    // the lock once, then in one step.
    site.ok_on("remote", &["rollback", "-e", "dev"]);
    let remote = site.ok_on("remote", &["rollback", "-e", "dev"]);
    assert!(remote.contains(&format!("in one step in {}:/switchyard", site.proxy)), "{remote}");
    let raw = rawdata(&site);
    for (name, value) in raw["routers"].as_object().unwrap().iter().filter(|(n, _)| n.ends_with("@file")) {
        assert_eq!(value["status"], "enabled", "{name}: {value:#}");
    }
}
