//! `switchyard --docker status` says what the real Traefik serves (its API, read inside the proxy), and
//! `status --check` exits 0 when Traefik and the state agree, 1 when they disagree, 2 when Traefik cannot be
//! asked.

#![allow(clippy::unwrap_used)] // a panic in a test is a failing test

use std::time::{Duration, Instant};

use switchyard_e2e::docker::{Site, docker, docker_raw};

/// Runs `status --check` until it exits with `code` and its output satisfies `ok` (Traefik applies a change
/// some milliseconds after the file is renamed, and checks a server's health once per interval: 2 s here);
/// returns that output.
fn wait_for(site: &Site, code: i32, ok: impl Fn(&str) -> bool) -> String {
    let start = Instant::now();
    loop {
        let out = site.run(&["status", "--check"]);
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        if out.status.code() == Some(code) && ok(&text) {
            return text;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "status --check did not exit {code} with the expected output within 60 s; last (exit {:?}):\n{text}",
            out.status.code()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// The part of status's output about what Traefik serves (from `  Traefik (` to the end of the environment's
/// block), with the site's name as `[site]`: what the snapshots hold.
fn traefik_section(site: &Site, text: &str) -> String {
    let start = text.find("  Traefik (").unwrap_or_else(|| panic!("no Traefik section:\n{text}"));
    let section: Vec<&str> = text[start..].lines().take_while(|l| l.starts_with("  ")).collect();
    section.join("\n").replace(&site.name, "[site]")
}

/// A file written by hand into the proxy's provider directory.
fn write_by_hand(site: &Site, name: &str, text: &str) {
    let out = std::process::Command::new("docker")
        .args([
            "exec",
            "-i",
            &site.proxy,
            "sh",
            "-c",
            "cat > /switchyard/staging/hand.tmp && mv /switchyard/staging/hand.tmp \"/switchyard/dynamic/$1\"",
            "sh",
            name,
        ])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write as _;
            child.stdin.take().unwrap().write_all(text.as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    assert!(out.status.success());
}

#[test]
fn status_shows_what_traefik_serves_and_check_fails_when_it_disagrees() {
    let site = Site::new("sye2e-served");
    let name = site.name.clone();
    site.install();
    site.ok(&["deploy", "v1"]);
    site.ok(&["promote", "v1"]);
    site.ok(&["deploy", "v2"]);

    // Deployed and promoted: Traefik has every router and service enabled and both servers UP.
    let text = wait_for(&site, 0, |_| true);
    assert!(text.contains("  Traefik (the proxy's API, 127.0.0.1:8080 in sye2e-served-proxy):"), "{text}");
    assert!(text.contains("routers: 4 enabled; services: 3 enabled"), "{text}");
    assert!(text.contains(&format!("v1 [blue, 100% of production] web http://{name}-dev-v1-web-1:80: UP")), "{text}");
    assert!(text.contains(&format!("v2 [preview] web http://{name}-dev-v2-web-1:80: UP")), "{text}");
    assert!(text.contains("Traefik serves what the state says"), "{text}");
    insta::assert_snapshot!("docker_served_agrees", traefik_section(&site, &text));
    // $SWITCHYARD_TRAEFIK_API names a local Traefik: on a Docker host the proxy's API is asked all the same.
    let out =
        site.command(&["status", "--check"]).env("SWITCHYARD_TRAEFIK_API", "http://127.0.0.1:1").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = site.expect(1, &["status", "--traefik-api", "http://127.0.0.1:1"]);
    assert!(text.contains("--traefik-api is for the local backend"), "{text}");
    let status: serde_json::Value = serde_json::from_str(&site.ok(&["status", "--json"])).unwrap();
    let traefik = &status[0]["traefik"];
    assert_eq!(traefik["agrees"], true, "{traefik:#}");
    for entry in traefik["routers"].as_array().unwrap().iter().chain(traefik["services"].as_array().unwrap()) {
        assert_eq!(entry["status"], "enabled", "{traefik:#}");
    }
    let servers: Vec<(&str, &str, u64)> = traefik["servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["version"].as_str().unwrap(), s["status"].as_str().unwrap(), s["share"].as_u64().unwrap()))
        .collect();
    assert_eq!(servers, [("v1", "UP", 100), ("v2", "UP", 0)]);

    // switchyard's own file changed behind its back: the production router now uses a middleware defined
    // nowhere. Traefik disables it (production answers 404); status quotes Traefik, and `repair` puts it right.
    let file = format!("switchyard_{name}_dev.yml");
    let original = site.config();
    let router = format!("    {name}_dev_prod_web:\n");
    assert!(original.contains(&router), "{original}");
    let edited = original.replacen(&router, &format!("{router}      middlewares: [secure-headers]\n"), 1);
    write_by_hand(&site, &file, &edited);
    let text = wait_for(&site, 1, |t| t.contains("SY0701"));
    assert!(
        text.contains(&format!(
            r#"SY0701: router {name}_dev_prod_web: DISABLED by Traefik (requests get 404): middleware "secure-headers@file" does not exist"#
        )),
        "{text}"
    );
    assert!(text.contains(&format!("Traefik's file {file}: DIFFERS from the state")), "{text}");
    insta::assert_snapshot!("docker_served_router_disabled", traefik_section(&site, &text));
    let status: serde_json::Value = serde_json::from_str(&site.expect(0, &["status", "--json"])).unwrap();
    let traefik = &status[0]["traefik"];
    assert_eq!(traefik["agrees"], false, "{traefik:#}");
    assert_eq!(traefik["findings"][0]["code"], "SY0701", "{traefik:#}");
    assert_eq!(traefik["findings"][0]["kind"], "disabled", "{traefik:#}");
    assert_eq!(
        traefik["findings"][0]["errors"],
        serde_json::json!([r#"middleware "secure-headers@file" does not exist"#]),
        "{traefik:#}"
    );
    site.ok(&["repair"]);
    wait_for(&site, 0, |t| !t.contains("SY07") && t.contains("as the state says"));

    // A file written by hand with the environment's names: a router to a service that does not exist, and a
    // weighted service with a child that does not exist. Traefik disables both; status quotes it.
    write_by_hand(
        &site,
        "zz-by-hand.yml",
        &format!(
            "http:\n  routers:\n    {name}_dev_extra_web:\n      entryPoints: [web]\n      rule: Host(`extra.{name}.test`)\n      \
             service: {name}_dev_nowhere_web\n    {name}_dev_mixed_web:\n      entryPoints: [web]\n      \
             rule: Host(`mixed.{name}.test`)\n      service: {name}_dev_mixed_web\n  services:\n    {name}_dev_mixed_web:\n      \
             weighted:\n        services:\n        - name: {name}_dev_ver_v1_web\n          weight: 1\n        \
             - name: {name}_dev_ver_v0_web\n          weight: 1\n"
        ),
    );
    let text = wait_for(&site, 1, |t| t.contains("STALE") && t.contains(&format!("{name}_dev_mixed_web")));
    assert!(
        text.contains(&format!(
            r#"SY0704: router {name}_dev_extra_web: STALE: Traefik has it (disabled: the service "{name}_dev_nowhere_web@file" does not exist); the state does not expect it"#
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            r#"SY0704: service {name}_dev_mixed_web: STALE: Traefik has it (disabled: building HTTP service "{name}_dev_ver_v0_web": the service "{name}_dev_ver_v0_web@file" does not exist)"#
        )),
        "{text}"
    );
    assert!(text.contains("routers: 4 enabled, 2 stale; services: 3 enabled, 1 stale"), "{text}");
    insta::assert_snapshot!("docker_served_stale", traefik_section(&site, &text));
    assert!(text.contains(&format!("status --check: Traefik and the state disagree for {name}/dev")), "{text}");
    docker(&["exec", &site.proxy, "rm", "/switchyard/dynamic/zz-by-hand.yml"]);
    wait_for(&site, 0, |t| !t.contains("STALE"));

    // The preview's container goes: its server turns DOWN at Traefik's next check, which is shown, but no
    // production request depends on it.
    docker(&["rm", "-f", &site.container("v2")]);
    let text = wait_for(&site, 0, |t| t.contains(&format!("v2 [preview] web http://{name}-dev-v2-web-1:80: DOWN")));
    assert!(text.contains("Traefik serves what the state says"), "{text}");
    // The live version's container goes: a disagreement.
    docker(&["rm", "-f", &site.container("v1")]);
    let text = wait_for(&site, 1, |t| t.contains("SY0706"));
    assert!(
        text.contains(&format!(
            "SY0706: server http://{name}-dev-v1-web-1:80 of v1 (blue, 100% of production, web): DOWN in Traefik's \
             health check"
        )),
        "{text}"
    );
    insta::assert_snapshot!("docker_served_servers_down", traefik_section(&site, &text));
}

/// Sends `signal` to every process of `container`, from this host (the tests run as root beside the engine).
fn signal_all(container: &str, signal: &str) {
    let pids = docker(&["top", container, "-o", "pid"]);
    for pid in pids.lines().skip(1).map(str::trim).filter(|l| !l.is_empty()) {
        let ok = std::process::Command::new("kill").args([signal, pid]).status().unwrap();
        assert!(ok.success(), "kill {signal} {pid}");
    }
}

/// Resumes the proxy's processes even when the test fails while they are stopped.
struct Resume<'a>(&'a str);

impl Drop for Resume<'_> {
    fn drop(&mut self) {
        signal_all(self.0, "-CONT");
    }
}

#[test]
fn a_traefik_that_does_not_answer_leaves_status_showing_the_state_and_check_cannot_tell() {
    let site = Site::new("sye2e-stuck");
    site.install();
    site.ok(&["deploy", "v1"]);
    site.ok(&["promote", "v1"]);
    wait_for(&site, 0, |_| true);

    // Traefik stopped (SIGSTOP): its port still accepts connections, and never answers.
    signal_all(&site.proxy, "-STOP");
    let resume = Resume(&site.proxy);
    let start = Instant::now();
    let out = site.run(&["status", "--check"]);
    let took = start.elapsed();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(took < Duration::from_secs(30), "status took {took:?}:\n{text}");
    // The state is shown all the same, and why Traefik could not be read.
    assert!(text.contains("  production: blue v1 100%"), "{text}");
    assert!(text.contains(&format!("Traefik's file switchyard_{}_dev.yml: as the state says", site.name)), "{text}");
    assert!(
        text.contains(&format!(
            "  Traefik: could not ask Traefik what it serves: Traefik's API (http://127.0.0.1:8080/api/rawdata in \
             {}) did not answer within 10s: is Traefik stuck?",
            site.proxy
        )),
        "{text}"
    );
    assert!(text.contains("error: status --check: could not ask Traefik what it serves"), "{text}");
    // Without --check, status shows the same and succeeds.
    let text = site.ok(&["status"]);
    assert!(text.contains("did not answer within 10s"), "{text}");
    drop(resume);
    wait_for(&site, 0, |_| true);
}

#[test]
fn a_file_provider_that_did_not_start_is_a_disagreement_and_a_stopped_proxy_cannot_be_asked() {
    let site = Site::new("sye2e-provider");
    let name = site.name.clone();
    site.install();
    site.ok(&["deploy", "v1"]);
    site.ok(&["promote", "v1"]);
    wait_for(&site, 0, |_| true);

    // Traefik restarted while its directory is not there: its file provider fails for good.
    docker(&["exec", &site.proxy, "mv", "/switchyard/dynamic", "/switchyard/dynamic-aside"]);
    docker(&["restart", &site.proxy]);
    let start = Instant::now();
    let logs = || {
        let out = docker_raw(&["logs", &site.proxy]);
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    };
    while !logs().contains("Cannot start the provider") {
        assert!(start.elapsed() < Duration::from_secs(60), "Traefik's file provider did not fail");
        std::thread::sleep(Duration::from_millis(100));
    }
    docker(&["exec", &site.proxy, "mv", "/switchyard/dynamic-aside", "/switchyard/dynamic"]);
    let text = wait_for(&site, 1, |t| t.contains("SY0707"));
    assert!(
        text.contains(
            "SY0707: Traefik's file provider did not start, and Traefik does not try again until it restarts:"
        ) && text.contains("Cannot start the provider *file.Provider"),
        "{text}"
    );
    assert!(
        text.contains(&format!("SY0703: router {name}_dev_prod_web: MISSING in Traefik; the state expects it")),
        "{text}"
    );
    assert!(
        text.contains(&format!("v1 [blue, 100% of production] web http://{name}-dev-v1-web-1:80: unknown")),
        "{text}"
    );
    // The file itself is as the state says: it is Traefik that does not read it.
    assert!(text.contains("as the state says"), "{text}");
    // `install` replaces a proxy whose file provider failed; then Traefik and the state agree again.
    site.ok(&["install", "--no-publish"]);
    wait_for(&site, 0, |_| true);

    docker(&["stop", "-t", "1", &site.proxy]);
    let text = site.expect(2, &["status", "--check"]);
    assert!(text.contains("is not running"), "{text}");
    assert!(docker_raw(&["inspect", &site.proxy]).status.success());
}
