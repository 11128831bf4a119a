//! Policies in the playground, in headless Chromium: the page runs the same policy modules as
//! `switchyard check` (the model's own, built for real, and the WAT example compiled to binary), through its
//! JavaScript host (`web/policy-host.js`), and reaches the same verdict as the CLI in wasmtime on the same spec
//! and states: the same findings, byte for byte as JSON. A policy's error refuses a workflow step as `--policy`
//! refuses the command. Hostile modules (a loop, an import) end with a clear error and the page keeps working.

#![allow(clippy::unwrap_used)] // a panic in a test is a failing test

use std::path::Path;
use std::process::Command;

use fantoccini::Locator;
use serde_json::{Value, json};
use switchyard_e2e::browser::{self, Browser};
use switchyard_e2e::switchyard_bin;

/// The page's spec and states, written as the CLI's local directory, with the page's policy modules beside
/// them under the same names (each finding's message names its policy by the name it was given).
fn cli_dir(session: &Value) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("switchyard.yaml"), session["spec"].as_str().unwrap()).unwrap();
    let states: Value = serde_json::from_str(session["states"].as_str().unwrap()).unwrap();
    let state_dir = dir.path().join(".switchyard/state");
    std::fs::create_dir_all(&state_dir).unwrap();
    for state in states.as_array().unwrap() {
        let name = format!("{}_{}.json", state["app"].as_str().unwrap(), state["env"].as_str().unwrap());
        std::fs::write(state_dir.join(name), serde_json::to_string_pretty(state).unwrap()).unwrap();
    }
    for module in ["switchyard-model.wasm", "canary-25.wasm"] {
        std::fs::copy(browser::playground_dir().join("policies").join(module), dir.path().join(module)).unwrap();
    }
    dir
}

/// `switchyard check --format json` in `dir`: (exit code, findings).
fn cli_check(dir: &Path, args: &[&str]) -> (i32, Value) {
    let cache = tempfile::tempdir().unwrap();
    let out = Command::new(switchyard_bin())
        .current_dir(dir)
        .arg("check")
        .args(["-e", "dev", "--format", "json"])
        .args(args)
        .env_remove("SWITCHYARD_SPEC")
        .env_remove("SWITCHYARD_DIR")
        .env_remove("SWITCHYARD_DYNAMIC_DIR")
        .env("SWITCHYARD_CACHE_DIR", cache.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let findings = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{e}: {stdout}{}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap(), findings)
}

async fn policies_idle(page: &Browser) -> Value {
    page.js_async("const p = await window.playground.policies(); return p.findings();").await
}

async fn click(page: &Browser, css: &str) {
    page.client.find(Locator::Css(css)).await.unwrap().click().await.unwrap();
}

async fn step(page: &Browser, action: &str) {
    click(page, &format!("[data-action='{action}']")).await;
    page.js_async("await window.playground.step('none'); await window.playground.idle(); return true;").await;
}

async fn set_value(page: &Browser, id: &str, value: &str) {
    let script = format!(
        "const e = document.getElementById({}); e.value = {}; e.dispatchEvent(new Event('input')); \
         e.dispatchEvent(new Event('change')); await window.playground.idle(); return true;",
        json!(id),
        json!(value)
    );
    page.js_async(&script).await;
}

async fn session(page: &Browser) -> Value {
    page.js("return window.playground.session").await
}

fn state_of<'a>(states: &'a Value, env: &str) -> &'a Value {
    states.as_array().unwrap().iter().find(|s| s["env"] == env).unwrap()
}

#[tokio::test]
async fn a_policys_verdict_is_the_same_in_chromium_as_in_the_cli() {
    if !browser::available() {
        return;
    }
    let server = browser::serve();
    let page = Browser::start().await;
    page.open(&server.url()).await;
    // Nothing of the policies is loaded with the page.
    let loaded = page.js("return performance.getEntriesByType('resource').map(e => e.name)").await;
    assert!(!loaded.to_string().contains("polic"), "{loaded}");

    click(&page, "[data-tab='policy-panel']").await;
    let findings = policies_idle(&page).await;
    let modules =
        page.js("return [...document.querySelectorAll('#policy-modules li')].map(li => li.dataset.policy)").await;
    assert_eq!(modules, json!(["switchyard-model.wasm", "canary-25.wasm"]));
    // The sha256 shown is the module's.
    let shown = page.js("return document.querySelector('#policy-modules li .sha').title").await;
    let bytes = std::fs::read(browser::playground_dir().join("policies/switchyard-model.wasm")).unwrap();
    let sha: String = {
        use sha2::Digest as _;
        sha2::Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect()
    };
    assert_eq!(shown, json!(sha));

    // The bundled example (v1.2.0 live in dev): a sound world, no findings, in the page as in the CLI.
    assert_eq!(findings, json!([]), "{findings:#}");
    let dir = cli_dir(&session(&page).await);
    assert_eq!(cli_check(dir.path(), &["--policy", "switchyard-model.wasm"]), (0, json!([])));
    assert_eq!(page.text("#policy-diagnostics").await, "No findings.");

    // A state edited by hand: dev's green slot holds a version never deployed. The model's policy finds it,
    // with the same code, message, path and place in the page as in the CLI.
    let s = session(&page).await;
    let mut states: Value = serde_json::from_str(s["states"].as_str().unwrap()).unwrap();
    for state in states.as_array_mut().unwrap() {
        if state["env"] == "dev" {
            state["slots"]["green"] = "v9".into();
        }
    }
    set_value(&page, "state", &serde_json::to_string_pretty(&states).unwrap()).await;
    click(&page, "#policy-run").await;
    let findings = policies_idle(&page).await;
    let dir = cli_dir(&session(&page).await);
    let (code, cli) = cli_check(dir.path(), &["--policy", "switchyard-model.wasm"]);
    assert_eq!(code, 1);
    assert_eq!(findings, cli, "page:\n{findings:#}\ncli:\n{cli:#}");
    assert_eq!(findings[0]["code"], "SY0402", "{findings:#}");
    assert!(findings[0]["message"].as_str().unwrap().ends_with("(policy switchyard-model.wasm)"), "{findings:#}");
    let items =
        page.js("return [...document.querySelectorAll('#policy-diagnostics li')].map(li => li.dataset.code)").await;
    assert_eq!(items[0], "SY0402");

    // Back to the sound state; deploy v1.3.0, healthy, then promote at 30%: the canary policy refuses the step
    // (the state does not change) with the finding the CLI gives for `check ... promote v1.3.0 --share 30`.
    set_value(&page, "state", s["states"].as_str().unwrap()).await;
    step(&page, "deploy").await;
    step(&page, "healthy").await;
    set_value(&page, "share-percent", "30").await;
    let before = session(&page).await;
    step(&page, "promote").await;
    let after = session(&page).await;
    assert_eq!(after["states"], before["states"], "a refused step changes nothing");
    let findings = page.js("return window.playground.session.last").await;
    assert_eq!(findings["refused"], true, "{findings:#}");
    let page_findings = &findings["diagnostics"];
    let dir = cli_dir(&before);
    let (code, cli) = cli_check(
        dir.path(),
        &["--policy", "switchyard-model.wasm", "--policy", "canary-25.wasm", "promote", "v1.3.0", "--share", "30"],
    );
    assert_eq!(code, 1);
    assert_eq!(*page_findings, cli, "page:\n{page_findings:#}\ncli:\n{cli:#}");
    assert_eq!(cli[0]["code"], "CANARY25");
    assert_eq!(
        cli[0]["message"],
        "a canary step of 30 percent is above the team's limit of 25 percent (policy canary-25.wasm)"
    );
    assert!(page.text("#policy-subject").await.ends_with("refused by the policies"));

    // 20% passes both.
    set_value(&page, "share-percent", "20").await;
    let (code, cli) = cli_check(
        dir.path(),
        &["--policy", "switchyard-model.wasm", "--policy", "canary-25.wasm", "promote", "v1.3.0", "--share", "20"],
    );
    assert_eq!((code, cli), (0, json!([])));
    step(&page, "promote").await;
    let states: Value = serde_json::from_str(session(&page).await["states"].as_str().unwrap()).unwrap();
    let dev = state_of(&states, "dev");
    assert_eq!(dev["split"]["share"], 20, "{dev:#}");
    page.assert_no_errors().await;
    page.close().await;
}

/// Modules dropped onto the page are untrusted: one that never returns is stopped at the deadline, one that
/// imports anything is refused before it runs, one that traps says so; each names itself, and the page goes on.
#[tokio::test]
async fn hostile_policy_modules_fail_clearly_in_the_browser() {
    if !browser::available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let modules = [
        (
            "spin.wasm",
            r#"(module (memory (export "memory") 1)
                 (func (export "switchyard_alloc") (param i32) (result i32) (i32.const 1024))
                 (func (export "switchyard_policy_v1") (param i32 i32) (result i64) (loop $l (br $l)) (i64.const 0)))"#,
        ),
        (
            "clock.wasm",
            r#"(module (import "env" "now" (func $now (result i64))) (memory (export "memory") 1)
                 (func (export "switchyard_alloc") (param i32) (result i32) (i32.const 1024))
                 (func (export "switchyard_policy_v1") (param i32 i32) (result i64) (call $now)))"#,
        ),
        (
            "trap.wasm",
            r#"(module (memory (export "memory") 1)
                 (func (export "switchyard_alloc") (param i32) (result i32) (i32.const 1024))
                 (func (export "switchyard_policy_v1") (param i32 i32) (result i64) unreachable))"#,
        ),
    ];
    for (name, text) in modules {
        std::fs::write(dir.path().join(name), wat::parse_str(text).unwrap()).unwrap();
    }
    let server = browser::serve();
    let page = Browser::start().await;
    page.open(&server.url()).await;
    click(&page, "[data-tab='policy-panel']").await;
    policies_idle(&page).await;
    let input = page.client.find(Locator::Id("policy-file")).await.unwrap();
    let paths: Vec<String> = modules.iter().map(|(n, _)| dir.path().join(n).display().to_string()).collect();
    input.send_keys(&paths.join("\n")).await.unwrap();
    // Wait until the three are listed and their run is over.
    let findings = page
        .js_async(
            "for (let i = 0; i < 200 && document.querySelectorAll('#policy-modules li').length < 5; i++) \
               await new Promise((r) => setTimeout(r, 50)); \
             const p = await window.playground.policies(); await p.idle(); \
             await new Promise((r) => setTimeout(r, 100)); await p.idle(); return p.findings();",
        )
        .await;
    let messages: Vec<&str> = findings.as_array().unwrap().iter().map(|d| d["message"].as_str().unwrap()).collect();
    assert!(messages.contains(&"policy spin.wasm: passed its deadline of 5000 ms"), "{findings:#}");
    assert!(
        messages
            .contains(&"policy clock.wasm: imports env.now; a policy may import nothing (ABI v1), so it was not run"),
        "{findings:#}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("policy trap.wasm: trapped during switchyard_policy_v1: RuntimeError: unreachable")),
        "{findings:#}"
    );
    assert!(findings.as_array().unwrap().iter().all(|d| d["code"] == "SY0905" && d["severity"] == "error"));
    // The page goes on: the workflow still runs (with the hostile modules switched off).
    page.js("for (const c of document.querySelectorAll('#policy-modules input[type=checkbox]')) { if (c.dataset.policy.endsWith('.wasm') && ['spin.wasm','clock.wasm','trap.wasm'].includes(c.dataset.policy)) { c.checked = false; c.dispatchEvent(new Event('change')); } } return true").await;
    step(&page, "deploy").await;
    let states: Value = serde_json::from_str(session(&page).await["states"].as_str().unwrap()).unwrap();
    assert_eq!(state_of(&states, "dev")["deployments"].as_array().unwrap().len(), 2);
    page.assert_no_errors().await;
    page.close().await;
}
