//! The bundled example (`examples/whoami/`) as shipped, through the CLI on the local backend and the real
//! Traefik 3.7.15 started with the static flags `switchyard --docker install` gives it: every router, service
//! and middleware it writes is enabled, the user's `middlewares.yml` went into Traefik's directory with it, and
//! the certificate resolver is known. And what `validate` refuses is what the real Traefik would disable, with
//! the very words the messages quote.

#![allow(clippy::unwrap_used)] // a panic in a test is a failing test

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;
use switchyard_e2e::traefik::LocalTraefik;
use switchyard_e2e::{root, switchyard_bin};
use switchyard_model::directory::SHIPPED_LIST;
use switchyard_model::proxy::{INTERNAL_MIDDLEWARES, static_config};

/// A copy of `examples/whoami/` to work in.
fn example() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in fs::read_dir(root().join("examples/whoami")).unwrap() {
        let path = entry.unwrap().path();
        fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
    }
    dir
}

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(switchyard_bin())
        .current_dir(dir)
        .args(["--actor", "e2e", "--now", "2026-03-01T12:00:00Z"])
        .args(args)
        .env_remove("SWITCHYARD_SPEC")
        .env_remove("SWITCHYARD_DIR")
        .env_remove("SWITCHYARD_DYNAMIC_DIR")
        .output()
        .unwrap()
}

/// Runs and requires exit code `code`; returns stdout + stderr.
fn expect(dir: &Path, code: i32, args: &[&str]) -> String {
    let out = run(dir, args);
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(code), "switchyard {args:?}:\n{text}");
    text
}

/// The example's whole workflow on the local backend: both environments live, dev in a 50 % split.
fn walk(dir: &Path) {
    for args in [
        &["create", "-e", "dev"][..],
        &["deploy", "-e", "dev", "v1.2.0"],
        &["observe", "-e", "dev", "v1.2.0", "healthy"],
        &["promote", "-e", "dev", "v1.2.0"],
        &["deploy", "-e", "dev", "v1.3.0"],
        &["observe", "-e", "dev", "v1.3.0", "healthy"],
        &["promote", "-e", "dev", "v1.3.0", "--share", "10"],
        &["shift", "-e", "dev", "--share", "50"],
        &["create", "-e", "prod"],
        &["deploy", "-e", "prod", "v1.2.0"],
        &["observe", "-e", "prod", "v1.2.0", "healthy"],
        &["promote", "-e", "prod", "v1.2.0"],
    ] {
        expect(dir, 0, args);
    }
}

/// The real Traefik with install's flags for the spec in `dir`, on the directory `dynamic`, once it serves
/// the routers named.
fn traefik(dir: &Path, dynamic: &Path, routers: &[&str]) -> (LocalTraefik, Value) {
    let text = fs::read_to_string(dir.join("switchyard.yaml")).unwrap();
    let spec = switchyard_model::Spec::parse(&text, "switchyard.yaml").unwrap();
    let flags = static_config(&spec.spec, &BTreeMap::new()).unwrap();
    let state = dir.join("traefik-root");
    fs::create_dir_all(&state).unwrap();
    let traefik = LocalTraefik::start_as_installed(&flags.args, dynamic, &state, &dir.join("traefik.log"));
    let start = Instant::now();
    loop {
        let raw = traefik.rawdata();
        if routers.iter().all(|r| raw["routers"].get(*r).is_some()) {
            return (traefik, raw);
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "Traefik did not load {routers:?}:\n{raw:#}\n{}",
            traefik.log_text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Every entry of a section of `/api/rawdata` whose name ends with `@file`.
fn of_files<'a>(raw: &'a Value, section: &str) -> Vec<(&'a String, &'a Value)> {
    raw[section].as_object().unwrap().iter().filter(|(name, _)| name.ends_with("@file")).collect()
}

#[test]
fn the_example_as_shipped_is_accepted_whole_by_the_real_traefik() {
    let dir = example();
    let dir = dir.path();
    walk(dir);
    let dynamic = dir.join(".switchyard/dynamic");
    // The user's file went in with switchyard's, as written, and is recorded as shipped.
    assert_eq!(
        fs::read_to_string(dynamic.join("middlewares.yml")).unwrap(),
        fs::read_to_string(dir.join("middlewares.yml")).unwrap()
    );
    assert_eq!(fs::read_to_string(dynamic.join(SHIPPED_LIST)).unwrap(), "middlewares.yml\n");
    expect(dir, 0, &["validate", ".switchyard/dynamic"]);

    let (traefik, raw) = traefik(dir, &dynamic, &["whoami_dev_prod_web@file", "whoami_prod_prod_web@file"]);
    let routers = of_files(&raw, "routers");
    assert_eq!(routers.len(), 16, "dev: 4 previews, 4 slot routes, 2 production; prod: 2, 2, 2\n{raw:#}");
    for section in ["routers", "services", "middlewares"] {
        for (name, value) in of_files(&raw, section) {
            assert_eq!(value["status"], "enabled", "{section} {name}: {value:#}");
            assert!(value.get("error").is_none(), "{section} {name}: {value:#}");
        }
    }
    let mut dev = 0;
    for (name, router) in &routers {
        assert_eq!(router["tls"]["certResolver"], "letsencrypt", "{name}");
        if name.starts_with("whoami_dev_") {
            assert_eq!(router["middlewares"], serde_json::json!(["secure-headers@file"]), "{name}");
            dev += 1;
        }
    }
    assert_eq!(dev, 10);
    let headers = &raw["middlewares"]["secure-headers@file"];
    assert_eq!(headers["status"], "enabled", "{headers:#}");
    assert_eq!(headers["usedBy"].as_array().unwrap().len(), dev, "{headers:#}");
    // The certificate resolver is one Traefik has (it cannot reach Let's Encrypt from here, which is another
    // matter): Traefik logs neither of its complaints about resolvers.
    let log = traefik.log_text();
    assert!(!log.contains("nonexistent certificate resolver"), "{log}");
    assert!(!log.contains("resolve is skipped"), "{log}");
    // The only `@internal` middlewares this Traefik has: the ones the model lets environments name.
    let mut internal: Vec<&str> =
        raw["middlewares"].as_object().unwrap().keys().filter_map(|k| k.strip_suffix("@internal")).collect();
    internal.sort_unstable();
    assert_eq!(internal, INTERNAL_MIDDLEWARES);
}

/// Every file under `dir` (path, bytes).
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else {
                files.insert(path.display().to_string(), fs::read(&path).unwrap());
            }
        }
    }
    files
}

/// The text between the first "(`" and "`)" of a message: what Traefik says, as the message quotes it.
fn quoted(text: &str, code: &str) -> String {
    let line = text.lines().find(|l| l.contains(&format!("[{code}]"))).unwrap_or_else(|| panic!("no {code}:\n{text}"));
    let start = line.find("(`").unwrap_or_else(|| panic!("{line}")) + 2;
    let end = line[start..].find("`)").unwrap() + start;
    line[start..end].to_string()
}

#[test]
fn what_validate_refuses_is_what_the_real_traefik_would_disable() {
    let example = example();
    let dir = example.path();
    let spec = fs::read_to_string(dir.join("switchyard.yaml")).unwrap();

    // The example without its own file: every reference dangles.
    let without = spec.replace("  files: [middlewares.yml]\n", "");
    fs::write(dir.join("switchyard.yaml"), &without).unwrap();
    let text = expect(dir, 1, &["validate"]);
    assert!(text.contains("error[SY0157]") && text.contains("`traefik.files` declares no files"), "{text}");
    let (line, at) =
        without.lines().enumerate().find_map(|(i, l)| Some((i + 1, l.find("secure-headers@file")? + 1))).unwrap();
    assert!(text.contains(&format!("--> switchyard.yaml:{line}:{at}")), "{text}");
    let middleware_missing = quoted(&text, "SY0157");
    assert_eq!(middleware_missing, r#"middleware "secure-headers@file" does not exist"#);
    // A command that would change something refuses too, and writes nothing.
    let text = expect(dir, 1, &["create", "-e", "dev"]);
    assert!(text.contains("error[SY0157]"), "{text}");
    assert!(!dir.join(".switchyard").exists());

    // A typo: refused with the name it meant.
    fs::write(dir.join("switchyard.yaml"), spec.replace("[secure-headers@file]", "[secure-header@file]")).unwrap();
    let text = expect(dir, 1, &["validate"]);
    assert!(text.contains("(middlewares.yml)") && text.contains("did you mean `secure-headers@file`?"), "{text}");
    // TLS options defined nowhere, a middleware of a provider install's Traefik does not have, an internal one
    // it does not define.
    let variant = spec
        .replace(
            "        tls:\n          cert_resolver: letsencrypt\n        middlewares",
            "        tls:\n          cert_resolver: letsencrypt\n          options: modern@file\n        middlewares",
        )
        .replace("[secure-headers@file]", "[secure-headers@file, auth@docker, x@internal]");
    fs::write(dir.join("switchyard.yaml"), &variant).unwrap();
    let text = expect(dir, 1, &["validate"]);
    let tls_missing = quoted(&text, "SY0159");
    let lines: Vec<&str> = text.lines().filter(|l| l.contains("[SY0158]")).collect();
    assert_eq!(lines.len(), 2, "{text}");
    let docker_missing = quoted(lines[0], "SY0158");
    let internal_missing = quoted(lines[1], "SY0158");

    // What the real Traefik does with such a directory: the example's, walked as it should be, without the
    // user's file, and routers with the other references.
    fs::write(dir.join("switchyard.yaml"), &spec).unwrap();
    walk(dir);
    let dynamic = dir.join(".switchyard/dynamic");
    // A deploy with the reference dangling is refused too, on live environments, with nothing written.
    let before = snapshot(&dir.join(".switchyard"));
    fs::write(dir.join("switchyard.yaml"), &without).unwrap();
    let text = expect(dir, 1, &["deploy", "-e", "dev", "v1.4.0"]);
    assert!(text.contains("error[SY0157]") && text.contains(&middleware_missing), "{text}");
    assert_eq!(snapshot(&dir.join(".switchyard")), before, "nothing written");
    fs::write(dir.join("switchyard.yaml"), &spec).unwrap();
    fs::remove_file(dynamic.join("middlewares.yml")).unwrap();
    let route = |name: &str, extra: &str| {
        format!(
            "    {name}:\n      entryPoints: [websecure]\n      rule: Host(`{name}.test`)\n      service: s\n{extra}"
        )
    };
    let extra = format!(
        "http:\n  routers:\n{}{}{}{}  services:\n    s:\n      loadBalancer:\n        servers: [{{url: \"http://127.0.0.1:9\"}}]\n",
        route("tls-missing", "      tls: {options: modern@file}\n"),
        route("docker-mw", "      middlewares: [auth@docker]\n"),
        route("internal-mw", "      middlewares: [x@internal]\n"),
        route("resolver-missing", "      tls: {certResolver: nope}\n"),
    );
    fs::write(dynamic.join("zz-extra.yml"), extra).unwrap();
    let (traefik, raw) = traefik(dir, &dynamic, &["whoami_dev_prod_web@file", "tls-missing@file"]);
    let errors = |router: &str| -> Vec<String> {
        let r = &raw["routers"][router];
        assert_eq!(r["status"], "disabled", "{router}: {r:#}");
        r["error"].as_array().unwrap().iter().map(|e| e.as_str().unwrap().to_string()).collect()
    };
    for (name, router) in of_files(&raw, "routers") {
        if name.starts_with("whoami_dev_") {
            assert_eq!(router["status"], "disabled", "{name}: {router:#}");
            assert_eq!(errors(name), std::slice::from_ref(&middleware_missing), "{name}");
        } else if name.starts_with("whoami_prod_") {
            assert_eq!(router["status"], "enabled", "{name}: {router:#}");
        }
    }
    assert!(errors("tls-missing@file").iter().any(|e| e.ends_with(&tls_missing)), "{tls_missing}");
    assert_eq!(errors("docker-mw@file"), [docker_missing]);
    assert_eq!(errors("internal-mw@file"), [internal_missing]);
    // A resolver Traefik does not have leaves the router enabled but is logged: what the example's test
    // above finds absent.
    assert_eq!(raw["routers"]["resolver-missing@file"]["status"], "enabled");
    let log = traefik.log_text();
    assert!(log.contains("Router uses a nonexistent certificate resolver") && log.contains("nope"), "{log}");
}
