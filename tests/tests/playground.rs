//! The browser playground in a real headless Chromium (Debian's `chromium` through `chromedriver`): it loads
//! with no console errors, shows what the model says (the same bytes as the adapter natively, the same
//! diagnostics as `switchyard validate`), follows the workflow's steps in its state, plan, configuration,
//! diff and picture, keeps hostile inputs inert, and its share link and download carry the session.

#![allow(clippy::unwrap_used)] // a panic in a test is a failing test

use std::process::Command;

use fantoccini::Locator;
use serde_json::{Value, json};
use switchyard_e2e::browser::{self, Browser};
use switchyard_e2e::switchyard_bin;

/// What the native adapter shows for the page's current inputs: the page must show the very same.
async fn native_view(page: &Browser) -> Value {
    let session = page.js("return window.playground.session").await;
    let (spec, states) = (session["spec"].as_str().unwrap(), session["states"].as_str().unwrap());
    let (app, env) = (session["app"].as_str().unwrap(), session["env"].as_str().unwrap());
    serde_json::from_str(&switchyard_wasm::view(spec, states, app, env)).unwrap()
}

async fn click(page: &Browser, action: &str) {
    page.client.find(Locator::Css(&format!("[data-action='{action}']"))).await.unwrap().click().await.unwrap();
    page.js_async("await window.playground.idle(); return true;").await;
    // A step runs behind the ones before it; wait for the chain too.
    page.js_async("await window.playground.step('none'); await window.playground.idle(); return true;").await;
}

async fn set_input(page: &Browser, id: &str, value: &str) {
    let input = page.client.find(Locator::Id(id)).await.unwrap();
    input.clear().await.unwrap();
    input.send_keys(value).await.unwrap();
}

async fn state(page: &Browser) -> Value {
    let text = page.js("return document.getElementById('state').value").await;
    let states: Value = serde_json::from_str(text.as_str().unwrap()).unwrap();
    states.as_array().unwrap().iter().find(|s| s["env"] == "dev").unwrap().clone()
}

/// The picture's traffic shares: (target node, label), in the order drawn.
async fn shares(page: &Browser) -> Vec<(String, String)> {
    let value = page
        .js("return [...document.querySelectorAll('#graph text.share')].map(t => [t.getAttribute('data-to'), t.textContent])")
        .await;
    serde_json::from_value(value).unwrap()
}

async fn assert_shows_the_model(page: &Browser) {
    let native = native_view(page).await;
    assert_eq!(page.text("#config").await, native["ok"]["config"].as_str().unwrap());
    assert_eq!(page.text("#status").await, native["ok"]["status_text"].as_str().unwrap());
    let nodes = page.js("return document.querySelectorAll('#graph g.node').length").await;
    assert_eq!(nodes, json!(native["ok"]["graph"]["nodes"].as_array().unwrap().len()));
    let edges = page.js("return document.querySelectorAll('#graph path.edge').length").await;
    assert_eq!(edges, json!(native["ok"]["graph"]["edges"].as_array().unwrap().len()));
}

#[tokio::test]
async fn the_playground_runs_the_workflow_in_chromium() {
    if !browser::available() {
        return;
    }
    let server = browser::serve();
    let page = Browser::start().await;
    page.open(&server.url()).await;
    assert_eq!(page.js("return document.title").await, "switchyard playground");

    // The bundled example, with v1.2.0 live in dev: the page shows what the adapter renders natively.
    assert_shows_the_model(&page).await;
    let config = page.text("#config").await;
    assert!(config.contains("rule: Host(`whoami.dev.example.com`)"), "{config}");
    assert!(config.contains("whoami_dev_prod_web:") && config.contains("weight: 100"), "{config}");
    assert_eq!(page.text("#config-file").await, "switchyard_whoami_dev.yml");
    assert_eq!(shares(&page).await, [("slot:blue".into(), "100%".into()), ("slot:blue".into(), "100%".into())]);
    assert_eq!(page.text("#diagnostics").await, "No problems.");
    screenshot(&page, "example").await;

    // A typo in a key: the same code, message, line and hints as `switchyard validate`; fixing it clears them.
    let at = page
        .js("const t = document.getElementById('spec'); const i = t.value.indexOf('    compose: compose.yaml') + 8; t.focus(); t.setSelectionRange(i, i); return i;")
        .await;
    assert!(at.as_i64().unwrap() > 8);
    let editor = page.client.find(Locator::Id("spec")).await.unwrap();
    editor.send_keys("\u{E003}").await.unwrap(); // Backspace: `compose` becomes `comose`
    page.idle().await;
    let spec = page.js("return document.getElementById('spec').value").await;
    let spec = spec.as_str().unwrap();
    assert!(spec.contains("    comose: compose.yaml"), "{spec}");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("switchyard.yaml"), spec).unwrap();
    let out = Command::new(switchyard_bin()).current_dir(dir.path()).args(["validate", "--json"]).output().unwrap();
    let cli: Value = serde_json::from_slice(&out.stdout).unwrap();
    let cli = cli.as_array().unwrap();
    assert!(!cli.is_empty());
    let shown = page
        .js(r#"return [...document.querySelectorAll('#diagnostics li.diagnostic')].map(li => ({
            code: li.dataset.code, line: Number(li.dataset.line), column: Number(li.dataset.column),
            message: li.querySelector('.message').textContent,
            hints: [...li.querySelectorAll('.hint')].map(h => h.textContent.replace(/^hint: /, '')) }))"#)
        .await;
    let expected: Vec<Value> = cli
        .iter()
        .map(|d| {
            json!({ "code": d["code"], "line": d["location"]["line"], "column": d["location"]["column"],
                    "message": d["message"], "hints": d.get("hints").cloned().unwrap_or(json!([])) })
        })
        .collect();
    assert_eq!(shown, json!(expected));
    assert_eq!(expected[0]["code"], "SY0001");
    let line = expected[0]["line"].as_u64().unwrap();
    let marked = page
        .js("return [...document.querySelectorAll('#spec-editor .gutter .line.error')].map(l => Number(l.textContent))")
        .await;
    assert_eq!(marked, json!([line]));
    assert_eq!(page.js("return document.querySelectorAll('#spec-editor .marks .band.error').length").await, json!(1));
    screenshot(&page, "typo").await;
    assert_eq!(page.js("return document.getElementById('stale').hidden").await, json!(false));
    // Clicking the problem puts the cursor on its line.
    page.js("document.getElementById('spec').setSelectionRange(0, 0)").await;
    page.client.find(Locator::Css("#diagnostics li.diagnostic")).await.unwrap().click().await.unwrap();
    let cursor = page
        .js("const t = document.getElementById('spec'); const before = t.value.slice(0, t.selectionStart).split('\\n'); return [before.length, before[before.length - 1].length + 1]")
        .await;
    assert_eq!(cursor, json!([line, expected[0]["column"]]));
    page.js("const t = document.getElementById('spec'); const i = t.value.indexOf('    comose: ') + 7; t.setSelectionRange(i, i);").await;
    editor.send_keys("p").await.unwrap();
    page.idle().await;
    assert_eq!(page.text("#diagnostics").await, "No problems.");
    assert_eq!(page.js("return document.querySelectorAll('#spec-editor .gutter .line.error').length").await, json!(0));
    assert_eq!(page.js("return document.getElementById('stale').hidden").await, json!(true));

    // Deploy a preview.
    set_input(&page, "version", "v1.3.0").await;
    click(&page, "deploy").await;
    assert!(page.text("#step-result").await.contains("whoami/dev: deploy v1.3.0: done"));
    let s = state(&page).await;
    assert_eq!(s["deployments"][1]["version"], "v1.3.0");
    assert_eq!(s["deployments"][1]["stack"], "whoami-dev-v1-3-0");
    let plan = page.text("#plan").await;
    assert!(
        plan.starts_with(" 1. create stack whoami-dev-v1-3-0 for v1.3.0 on its own network (api, web)\n"),
        "{plan}"
    );
    assert!(plan.contains(" 2. connect Traefik to network whoami-dev-v1-3-0\n"), "{plan}");
    let diff = page.text("#diff").await;
    assert!(diff.starts_with("--- a/switchyard_whoami_dev.yml\n+++ b/switchyard_whoami_dev.yml\n"), "{diff}");
    assert!(diff.contains("\n+    whoami_dev_preview_v1-3-0_web:\n"), "{diff}");
    assert!(diff.contains("\n+      rule: Host(`v1-3-0-whoami.dev.example.com`)\n"), "{diff}");
    assert!(!diff.lines().any(|l| l.starts_with('-') && !l.starts_with("---")), "a deploy only adds: {diff}");
    assert_shows_the_model(&page).await;
    let added = page.js("return document.querySelectorAll('#diff span.add').length").await;
    assert!(added.as_u64().unwrap() > 10, "{added}");
    assert_eq!(page.js("return document.querySelectorAll('#diff span.del').length").await, json!(0));
    let graph = page.js("return !!document.querySelector('#graph g.node[data-id=\"version:v1.3.0\"]')").await;
    assert_eq!(graph, json!(true));

    // Observe it healthy and promote it with 10%.
    click(&page, "healthy").await;
    assert_eq!(state(&page).await["deployments"][1]["health"]["status"], "healthy");
    set_input(&page, "share-percent", "10").await;
    click(&page, "promote").await;
    let s = state(&page).await;
    assert_eq!((s["live"].clone(), s["split"].clone()), (json!("blue"), json!({"slot": "green", "share": 10})));
    assert_eq!(s["slots"], json!({"blue": "v1.2.0", "green": "v1.3.0"}));
    let plan = page.text("#plan").await;
    assert!(plan.contains("route the green slot host to v1.3.0 (no production traffic yet)"), "{plan}");
    assert!(plan.contains("wait until v1.3.0 is healthy"), "{plan}");
    assert!(plan.contains("shift production traffic: blue v1.2.0 90%, green v1.3.0 10%"), "{plan}");
    let diff = page.text("#diff").await;
    for line in [
        "-          weight: 100",
        "+          weight: 90",
        "+        - name: whoami_dev_ver_v1-3-0_web",
        "+          weight: 10",
        "+            name: whoami_slot",
    ] {
        assert!(diff.lines().any(|l| l == line), "{line:?} not in\n{diff}");
    }
    assert_shows_the_model(&page).await;
    assert_eq!(
        shares(&page).await,
        [
            ("slot:blue".into(), "90%".into()),
            ("slot:green".into(), "10%".into()),
            ("slot:blue".into(), "90%".into()),
            ("slot:green".into(), "10%".into())
        ]
    );
    let green =
        page.js("return document.querySelector('#graph g.node[data-id=\"slot:green\"] .detail').textContent").await;
    assert_eq!(green, json!("candidate, 10%"));
    screenshot(&page, "promoted").await;

    // Change the share to 50%.
    set_input(&page, "share-percent", "50").await;
    click(&page, "shift").await;
    assert_eq!(state(&page).await["split"], json!({"slot": "green", "share": 50}));
    let diff = page.text("#diff").await;
    assert!(diff.lines().any(|l| l == "-          weight: 90") && diff.lines().any(|l| l == "+          weight: 50"));
    assert_eq!(shares(&page).await.iter().filter(|(_, l)| l == "50%").count(), 4);

    // Complete: green takes everything.
    click(&page, "complete").await;
    let s = state(&page).await;
    assert_eq!((s["live"].clone(), s.get("split").cloned()), (json!("green"), None));
    assert_eq!(shares(&page).await, [("slot:green".into(), "100%".into()), ("slot:green".into(), "100%".into())]);
    let config = page.text("#config").await;
    assert!(!config.contains("whoami_slot"), "no sticky cookie without a split: {config}");
    assert_shows_the_model(&page).await;

    // Roll back: blue again, at once, nothing redeployed.
    click(&page, "rollback").await;
    let s = state(&page).await;
    assert_eq!(s["live"], "blue");
    assert_eq!(s["deployments"].as_array().unwrap().len(), 2);
    let plan = page.text("#plan").await;
    assert!(plan.contains("roll back production traffic: blue v1.2.0 100%"), "{plan}");
    assert!(!plan.contains("create stack") && !plan.contains("wait until"), "{plan}");
    let diff = page.text("#diff").await;
    assert!(diff.lines().any(|l| l == "-        - name: whoami_dev_ver_v1-3-0_web"), "{diff}");
    assert!(diff.lines().any(|l| l == "+        - name: whoami_dev_ver_v1-2-0_web"), "{diff}");
    assert_eq!(shares(&page).await, [("slot:blue".into(), "100%".into()), ("slot:blue".into(), "100%".into())]);
    let green =
        page.js("return document.querySelector('#graph g.node[data-id=\"slot:green\"] .detail').textContent").await;
    assert_eq!(green, json!("idle"));
    assert_shows_the_model(&page).await;

    // A refused step shows the model's diagnostic and changes nothing.
    let before = state(&page).await;
    click(&page, "complete").await;
    let result = page.text("#step-result").await;
    assert!(result.contains("complete: refused") && result.contains("SY0212"), "{result}");
    assert_eq!(state(&page).await, before);

    // The download link holds the configuration shown, under the file's name.
    let link = page.js("const a = document.getElementById('download'); return [a.download, a.href]").await;
    assert_eq!(link[0], "switchyard_whoami_dev.yml");
    let href = link[1].as_str().unwrap();
    let data = href.strip_prefix("data:application/yaml;charset=utf-8,").unwrap();
    assert_eq!(percent_decode(data), page.text("#config").await);

    // The share link carries the whole session: a new browser opening it shows the same.
    page.client.find(Locator::Id("share")).await.unwrap().click().await.unwrap();
    let mut link = String::new();
    for _ in 0..50 {
        link = page.js("return document.getElementById('link').value").await.as_str().unwrap().to_string();
        if !link.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(link.starts_with(&format!("{}#z", server.url())), "{link}");
    let snapshot = r#"return [document.getElementById('spec').value, document.getElementById('state').value,
        document.getElementById('config').textContent, document.getElementById('env').value,
        document.getElementById('clock').textContent,
        [...document.querySelectorAll('#graph text.share')].map(t => t.textContent)]"#;
    let here = page.js(snapshot).await;
    page.assert_no_errors().await;
    let other = Browser::start().await;
    other.open(&link).await;
    assert_eq!(other.js(snapshot).await, here);
    other.assert_no_errors().await;
    other.close().await;
    page.close().await;
}

/// With `PLAYGROUND_SCREENSHOTS=DIR`, saves what the page looks like (to look at, not compared).
async fn screenshot(page: &Browser, name: &str) {
    if let Some(dir) = std::env::var_os("PLAYGROUND_SCREENSHOTS") {
        let png = page.client.screenshot().await.unwrap();
        std::fs::write(std::path::Path::new(&dir).join(format!("{name}.png")), png).unwrap();
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// Whatever a spec, a state or a version holds is shown as text: no element is created from it, no script
/// runs.
#[tokio::test]
async fn hostile_inputs_stay_inert() {
    if !browser::available() {
        return;
    }
    let server = browser::serve();
    let page = Browser::start().await;
    page.open(&server.url()).await;
    let hostile_spec = r#"# <script>window.pwned = 'comment'</script>
apps:
  "'><img src=x onerror=window.pwned=1>":
    compose: "\"'><img src=x onerror=window.pwned=2>"
    routes:
      web: { port: 80 }
    environments:
      dev:
        domain: "<script>window.pwned=3</script>"
        entry_points: ["<svg onload=window.pwned=4>"]
"#;
    page.js(&format!(
        "const t = document.getElementById('spec'); t.value = {}; t.dispatchEvent(new Event('input'));",
        json!(hostile_spec)
    ))
    .await;
    page.idle().await;
    let problems = page.text("#diagnostics").await;
    assert!(problems.contains("<script>window.pwned=3</script>"), "shown as text: {problems}");
    assert!(problems.contains("'><img src=x onerror=window.pwned=1>"), "{problems}");
    // A hostile version name, refused by the model, is shown as text too.
    page.js("document.getElementById('spec').value = ''").await;
    page.client.find(Locator::Id("reset")).await.unwrap().click().await.unwrap();
    page.js_async(
        "const spec = document.getElementById('spec'); while (!spec.value.includes('whoami')) await new Promise(r => setTimeout(r, 50)); await window.playground.idle(); return true;",
    )
    .await;
    set_input(&page, "version", "<img src=x onerror=window.pwned=5>").await;
    click(&page, "deploy").await;
    let result = page.text("#step-result").await;
    assert!(result.contains("refused") && result.contains("<img src=x onerror=window.pwned=5>"), "{result}");
    // And a hostile state.
    page.js(
        r#"const t = document.getElementById('state'); t.value = '[{"format":1,"app":"<img src=x onerror=window.pwned=6>","env":"x","revision":"<b>"}]'; t.dispatchEvent(new Event('input'));"#,
    )
    .await;
    page.idle().await;
    let problems = page.text("#diagnostics").await;
    assert!(problems.contains("SY0901"), "{problems}");

    let counts = page
        .js("return [document.querySelectorAll('img').length, document.querySelectorAll('script').length, document.querySelectorAll('svg [onload], [onerror]').length, typeof window.pwned]")
        .await;
    assert_eq!(counts, json!([0, 1, 0, "undefined"]));
    assert!(page.client.get_alert_text().await.is_err(), "no dialog opened");
    page.assert_no_errors().await;
    page.close().await;
}
