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
    page.type_keys("\u{E003}").await; // Backspace: `compose` becomes `comose`
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
    page.js("const t = document.getElementById('spec'); const i = t.value.indexOf('    comose: ') + 7; t.focus(); t.setSelectionRange(i, i);").await;
    page.type_keys("p").await;
    page.idle().await;
    assert_eq!(page.text("#diagnostics").await, "No problems.");
    assert_eq!(page.js("return document.querySelectorAll('#spec-editor .gutter .line.error').length").await, json!(0));
    assert_eq!(page.js("return document.getElementById('stale').hidden").await, json!(true));

    // Deploy a preview, with the Diff panel open (its diff comes from the module loaded on demand).
    open_tab(&page, "diff-panel").await;
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
    // Named in the model's words, as the CLI names the change.
    assert!(result.contains("whoami/dev: complete the promotion: refused") && result.contains("SY0212"), "{result}");
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

/// What the native adapter answers for the who-answers panel's current request and view.
async fn native_route(page: &Browser) -> Value {
    let native = native_view(page).await;
    let view = &native["ok"];
    let request = page
        .js(r#"const v = (id) => document.getElementById(id); const n = v('who-count').value.trim();
            return JSON.stringify({ host: v('who-host').value, path: v('who-path').value || '/', method: v('who-method').value || 'GET',
              headers: v('who-headers').value, cookies: v('who-cookies').value, query: v('who-query').value,
              entry_point: v('who-entry-point').value, tls: v('who-tls').checked,
              requests: n === '' ? null : Math.max(0, Math.floor(Number(n)) || 0), down: v('who-down').value })"#)
        .await;
    let versions = view["versions"].to_string();
    let answer = switchyard_wasm::route(
        view["file"].as_str().unwrap(),
        view["config"].as_str().unwrap(),
        &versions,
        request.as_str().unwrap(),
        &view["traefik_files"].to_string(),
    );
    serde_json::from_str(&answer).unwrap()
}

/// The split chart: (version or target, count), in the order drawn.
async fn bars(page: &Browser) -> Vec<(String, u64)> {
    let value = page
        .js("return [...document.querySelectorAll('#who-chart g.share')].map(g => [g.dataset.version || g.dataset.target, Number(g.dataset.count)])")
        .await;
    serde_json::from_value(value).unwrap()
}

async fn who_idle(page: &Browser) {
    page.js_async("await window.playground.idle(); await window.playground.who.idle(); return true;").await;
}

async fn check_idle(page: &Browser) {
    page.js_async("await window.playground.check.idle(); return true;").await;
}

async fn open_tab(page: &Browser, id: &str) {
    page.client.find(Locator::Css(&format!("[data-tab='{id}']"))).await.unwrap().click().await.unwrap();
}

async fn set_text(page: &Browser, id: &str, text: &str) {
    page.js(&format!(
        "const t = document.getElementById({}); t.value = {}; t.dispatchEvent(new Event('input'));",
        json!(id),
        json!(text)
    ))
    .await;
}

/// The request simulator's panel: the router, chain and version that answer, the split of 100 requests before
/// and after a promotion with a 25% share, a sticky cookie, all as the adapter answers natively.
#[tokio::test]
async fn who_answers_a_request_and_the_split_follows_the_share() {
    if !browser::available() {
        return;
    }
    let server = browser::serve();
    let page = Browser::start().await;
    page.open(&server.url()).await;
    // The simulator's module is not loaded before its panel opens.
    let loaded = "return performance.getEntriesByType('resource').some(e => e.name.includes('switchyard_inspect'))";
    assert_eq!(page.js(loaded).await, json!(false));
    open_tab(&page, "who-panel").await;
    who_idle(&page).await;
    let native = native_route(&page).await;
    let winner = native["ok"]["answer"]["candidates"][0]["router"].as_str().unwrap().to_string();
    assert!(winner.starts_with("whoami_dev_"), "{native}");
    let answer = page.js("return {...document.getElementById('who-answer').dataset}").await;
    assert_eq!(answer, json!({ "router": winner, "version": "whoami/dev v1.2.0 (web), blue slot", "status": "200" }));
    // The answer's text is the simulator's own: what `switchyard route` prints for the same request.
    let text = page.text("#who-answer").await;
    assert_eq!(text, native["ok"]["text"].as_str().unwrap());
    assert!(text.contains(&format!("\n  router   {winner} (priority ")), "{text}");
    assert!(text.contains("\n  note: version whoami/dev v1.2.0 (web), blue slot\n"), "{text}");
    assert_eq!(bars(&page).await, [("whoami/dev v1.2.0 (web), blue slot".to_string(), 100)]);
    assert_eq!(native["ok"]["shares"][0]["count"], 100);

    // Another host: no router, 404, no chart.
    set_input(&page, "who-host", "nowhere.example.com").await;
    page.client.find(Locator::Id("who-run")).await.unwrap().click().await.unwrap();
    who_idle(&page).await;
    assert_eq!(page.js("return document.getElementById('who-answer').dataset.status").await, json!("404"));
    assert!(page.text("#who-answer").await.contains("no router matches: 404"));
    assert!(bars(&page).await.is_empty());
    set_input(&page, "who-host", "whoami.dev.example.com").await;

    // Deploy v1.3.0, observe it healthy, promote it with 25%: 100 requests split 75/25 (the weighted round
    // robin is deterministic: 3 to 1 in every round of 4).
    set_input(&page, "version", "v1.3.0").await;
    click(&page, "deploy").await;
    click(&page, "healthy").await;
    set_input(&page, "share-percent", "25").await;
    click(&page, "promote").await;
    who_idle(&page).await;
    assert_eq!(
        bars(&page).await,
        [
            ("whoami/dev v1.2.0 (web), blue slot".to_string(), 75),
            ("whoami/dev v1.3.0 (web), green slot".to_string(), 25)
        ]
    );
    let native = native_route(&page).await;
    let shown = page.js("return [...document.querySelectorAll('#who-chart g.share')].map(g => g.dataset.target)").await;
    let expected: Vec<&Value> = native["ok"]["shares"].as_array().unwrap().iter().map(|s| &s["target"]).collect();
    assert_eq!(shown, json!(expected));
    // 1,000 requests: 750/250.
    set_input(&page, "who-count", "1000").await;
    page.client.find(Locator::Id("who-run")).await.unwrap().click().await.unwrap();
    who_idle(&page).await;
    let counts: Vec<u64> = bars(&page).await.into_iter().map(|(_, n)| n).collect();
    assert_eq!(counts, [750, 250]);
    // The sticky cookie naming the green version's service pins the request to it.
    set_input(&page, "who-cookies", "whoami_slot=whoami_dev_ver_v1-3-0_web").await;
    page.client.find(Locator::Id("who-run")).await.unwrap().click().await.unwrap();
    who_idle(&page).await;
    let version = page.js("return document.getElementById('who-answer').dataset.version").await;
    assert_eq!(version, json!("whoami/dev v1.3.0 (web), green slot"));
    assert_eq!(native_route(&page).await["ok"]["version"], version);
    screenshot(&page, "who-answers").await;

    // A malformed header is the adapter's diagnostic, shown as text.
    set_text(&page, "who-headers", "no colon here").await;
    page.client.find(Locator::Id("who-run")).await.unwrap().click().await.unwrap();
    who_idle(&page).await;
    let problems = page.text("#who-diagnostics").await;
    assert!(problems.contains("SY0904") && problems.contains("header \"no colon here\""), "{problems}");
    page.assert_no_errors().await;
    page.close().await;
}

const CLEAN: &str = "http:
  routers:
    web:
      rule: Host(`app.example.com`)
      priority: 10
      service: app
  services:
    app:
      loadBalancer:
        servers:
          - url: http://app:80
";

/// `switchyard validate FILE --json` on a file: the CLI's findings (code, severity, message, location, path,
/// hints) to compare with the page's.
fn cli_validate(name: &str, text: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(name), text).unwrap();
    let out =
        Command::new(switchyard_bin()).current_dir(dir.path()).args(["validate", name, "--json"]).output().unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

/// The page's findings, in the CLI's JSON shape (what each list item shows).
async fn findings(page: &Browser) -> Value {
    page.js(r#"return [...document.querySelectorAll('#check-diagnostics li.diagnostic')].map(li => {
        const d = { code: li.dataset.code, severity: li.querySelector('.severity').textContent,
          message: li.querySelector('.message').textContent };
        if (li.dataset.line) d.location = { file: li.dataset.file, line: Number(li.dataset.line), column: Number(li.dataset.column) };
        const path = li.querySelector('.path'); if (path) d.path = path.textContent.replace(/^at /, '');
        const hints = [...li.querySelectorAll('.hint')].map(h => h.textContent.replace(/^hint: /, ''));
        if (hints.length) d.hints = hints;
        return d; })"#)
        .await
}

/// The validator's panel: no findings for a clean file, a rule error and a missing service at their lines with
/// the CLI's codes and messages, TOML too, and the generated configuration loaded in one click.
#[tokio::test]
async fn the_check_panel_shows_the_validators_findings_at_their_lines() {
    if !browser::available() {
        return;
    }
    let server = browser::serve();
    let page = Browser::start().await;
    page.open(&server.url()).await;
    open_tab(&page, "check-panel").await;

    set_text(&page, "check-input", CLEAN).await;
    check_idle(&page).await;
    assert_eq!(page.text("#check-diagnostics").await, "No findings.");
    assert_eq!(cli_validate("dynamic.yml", CLEAN), json!([]));

    // A rule that does not parse (line 4) and a service that does not exist (line 6).
    let broken = CLEAN
        .replace("Host(`app.example.com`)", "Host(`app.example.com`) && Path(")
        .replace("service: app", "service: nope");
    set_text(&page, "check-input", &broken).await;
    check_idle(&page).await;
    let cli = cli_validate("dynamic.yml", &broken);
    assert_eq!(findings(&page).await, cli);
    let codes: Vec<(&str, u64)> = cli
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["code"].as_str().unwrap(), d["location"]["line"].as_u64().unwrap()))
        .collect();
    assert!(codes.iter().any(|(c, l)| c.starts_with("SY31") && *l == 4), "{codes:?}");
    assert!(codes.contains(&("SY3201", 6)), "{codes:?}");
    let marked = page
        .js("return [...document.querySelectorAll('#check-editor .gutter .line.error')].map(l => Number(l.textContent))")
        .await;
    assert_eq!(marked, json!([4, 6]));
    let text = page.text("#check-text").await;
    assert!(text.contains("error[SY3201]: ") && text.contains("  --> dynamic.yml:6:"), "{text}");
    screenshot(&page, "check").await;
    // Clicking a finding puts the cursor on its line.
    page.client.find(Locator::Css("#check-diagnostics li[data-code='SY3201']")).await.unwrap().click().await.unwrap();
    let line = page
        .js("const t = document.getElementById('check-input'); return t.value.slice(0, t.selectionStart).split('\\n').length")
        .await;
    assert_eq!(line, json!(6));

    // TOML, chosen by the format selector (the file name follows).
    let toml = "[http.routers.web]\nrule = \"Host(`a.example.com`)\"\nservice = \"missing\"\n";
    page.js(
        "const s = document.getElementById('check-format'); s.value = 'toml'; s.dispatchEvent(new Event('change'));",
    )
    .await;
    set_text(&page, "check-input", toml).await;
    check_idle(&page).await;
    assert_eq!(page.js("return document.getElementById('check-file').value").await, json!("dynamic.toml"));
    assert_eq!(findings(&page).await, cli_validate("dynamic.toml", toml));

    // The generated configuration, loaded in one click: what the CLI says of the same file.
    page.client.find(Locator::Id("check-load")).await.unwrap().click().await.unwrap();
    check_idle(&page).await;
    let file = page.js("return document.getElementById('check-file').value").await;
    assert_eq!(file, json!("switchyard_whoami_dev.yml"));
    let generated = page.js("return document.getElementById('check-input').value").await;
    assert_eq!(generated.as_str().unwrap(), page.text("#config").await);
    assert_eq!(findings(&page).await, cli_validate("switchyard_whoami_dev.yml", generated.as_str().unwrap()));
    // Alone, the file names a middleware defined in another file of the provider directory: SY3202, as the CLI.
    let codes = page
        .js("return [...document.querySelectorAll('#check-diagnostics li.error')].map(li => li.dataset.code)")
        .await;
    assert!(codes.as_array().unwrap().iter().all(|c| c == "SY3202"), "{codes}");
    page.assert_no_errors().await;
    page.close().await;
}

/// Whatever the new panels' inputs hold is shown as text: no element is made from it, no script runs.
#[tokio::test]
async fn hostile_inputs_in_the_panels_stay_inert() {
    if !browser::available() {
        return;
    }
    let server = browser::serve();
    let page = Browser::start().await;
    page.open(&server.url()).await;
    open_tab(&page, "who-panel").await;
    who_idle(&page).await;
    set_input(&page, "who-host", "<script>window.pwned=1</script>").await;
    set_input(&page, "who-path", "/\"'><img src=x onerror=window.pwned=2>").await;
    set_text(&page, "who-headers", "X-A: <img src=x onerror=window.pwned=3>\n<svg onload=window.pwned=4>").await;
    set_input(&page, "who-cookies", "a=\"'><img src=x onerror=window.pwned=5>").await;
    set_input(&page, "who-entry-point", "<b>web</b>").await;
    page.client.find(Locator::Id("who-run")).await.unwrap().click().await.unwrap();
    who_idle(&page).await;
    let problems = page.text("#who-diagnostics").await;
    assert!(problems.contains("<svg onload=window.pwned=4>"), "shown as text: {problems}");
    set_text(&page, "who-headers", "X-A: <img src=x onerror=window.pwned=3>").await;
    page.client.find(Locator::Id("who-run")).await.unwrap().click().await.unwrap();
    who_idle(&page).await;
    let answer = page.text("#who-answer").await;
    assert!(answer.contains("<script>window.pwned=1</script>"), "{answer}");

    open_tab(&page, "check-panel").await;
    let hostile = "http:\n  routers:\n    \"<img src=x onerror=window.pwned=6>\":\n      rule: \"Host(`<script>window.pwned=7</script>`)\"\n      service: \"'><svg onload=window.pwned=8>\"\n";
    set_text(&page, "check-input", hostile).await;
    check_idle(&page).await;
    let shown = page.text("#check-diagnostics").await;
    assert!(shown.contains("<svg onload=window.pwned=8>"), "{shown}");
    page.js("const f = document.getElementById('check-file'); f.value = '<img src=x onerror=window.pwned=9>.yml'; f.dispatchEvent(new Event('change'));").await;
    check_idle(&page).await;
    let shown = page.text("#check-text").await;
    assert!(shown.contains("<img src=x onerror=window.pwned=9>.yml:"), "{shown}");
    let counts = page
        .js("return [document.querySelectorAll('img').length, document.querySelectorAll('script').length, document.querySelectorAll('svg [onload], [onerror], b').length, typeof window.pwned]")
        .await;
    assert_eq!(counts, json!([0, 1, 0, "undefined"]));
    assert!(page.client.get_alert_text().await.is_err(), "no dialog opened");
    page.assert_no_errors().await;
    page.close().await;
}

/// What the page loads, gzipped (`gzip -9`), as `cargo xtask playground-build` reports it: the first load, and
/// the total with what a panel fetches when it first opens (the validator, simulator and policy host's module;
/// the Policies panel's code and its two modules, the model's own policy being the largest file of all). The
/// issue's budget for the first load is 350 KB (README, "Playground"), met since the model reads and writes
/// YAML without serde_yaml. That budget is fixed: a limit raised whenever the page outgrows it guards nothing.
/// What loads on demand is reported, not limited.
#[test]
fn the_first_load_stays_within_its_budget_and_the_rest_is_reported() {
    let sizes = switchyard_playground::sizes(&browser::playground_dir()).unwrap();
    #[allow(clippy::print_stdout)]
    {
        println!("{sizes}");
    }
    let lazy: Vec<&str> = sizes
        .files
        .iter()
        .map(|(name, ..)| name.as_str())
        .filter(|name| switchyard_playground::on_demand(name))
        .collect();
    assert_eq!(
        lazy,
        [
            "check.js",
            "pkg/switchyard_inspect.js",
            "pkg/switchyard_inspect_bg.wasm",
            "policies.js",
            "policies/canary-25.wasm",
            "policies/switchyard-model.wasm",
            "policy-host.js",
            "policy-worker.js",
            "rollout.js",
            "share.js",
            "who.js"
        ]
    );
    let (first, total) = (sizes.initial().1, sizes.total().1);
    assert!(first < total);
    assert!(first <= 350_000, "the first load is over the 350 KB budget: {first} B gzipped\n{sizes}");
}

/// The Rollout panel: the example's `dev` (no rollout: the defaults) replayed against a candidate failing a
/// fifth of its requests is rolled back at its first step, in the model's words; a healthy one goes through
/// every step and the bake; the words are those of `switchyard_model::replay`, which the CLI's decisions share.
#[tokio::test]
async fn the_rollout_panel_replays_a_rollout_against_made_up_numbers() {
    if !browser::available() {
        return;
    }
    let server = browser::serve();
    let page = Browser::start().await;
    page.open(&server.url()).await;
    open_tab(&page, "rollout-panel").await;
    page.js_async("await window.playground.rollout.idle(); return true;").await;
    let of = page.text("#rollout-of").await;
    assert!(of.contains("whoami/dev: no rollout declared, the defaults: steps 10, 25, 50, 100%"), "{of}");
    let text = page.text("#rollout-text").await;
    assert!(text.starts_with("step 1 of 4 (10%): rolled back at 1 s: "), "{text}");
    assert!(text.contains("over the 1% allowed"), "{text}");
    let rollout = switchyard_model::rollout::Rollout::default();
    let traffic = switchyard_model::replay::Traffic {
        rate: 200.0,
        candidate_errors: 20.0,
        candidate_latency_ms: 20.0,
        live_errors: 0.0,
        live_latency_ms: 20.0,
        candidate_fails_after_s: 0,
    };
    assert_eq!(text, switchyard_model::replay::replay(&rollout, &traffic).text());

    set_input(&page, "rollout-errors", "0").await;
    page.client.find(Locator::Id("rollout-run")).await.unwrap().click().await.unwrap();
    page.js_async("await window.playground.rollout.idle(); return true;").await;
    let text = page.text("#rollout-text").await;
    assert_eq!(page.js("return document.getElementById('rollout-text').dataset.outcome").await, json!("done"));
    assert!(text.contains("bake at 100% for 5m: passed at 540 s"), "{text}");
    page.assert_no_errors().await;
    page.close().await;
}
