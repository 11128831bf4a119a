//! How long the playground takes to show the result of a keystroke, in headless Chromium, on a spec of 50
//! apps x 3 environments with every environment deployed (two versions, a promotion at 10% under way).
//!
//! 200 keystrokes go through the page's own path (the editor's `input` event, the worker, the model, the DOM)
//! and the page measures each with `performance.now()`, from the keystroke until the page shows its result,
//! and until the next frame; and the parts: the model's call in the worker, and the page's DOM update. For
//! comparison, the same keystrokes without a re-render: what Chromium's textarea alone takes to lay out 1,700
//! lines again. The test prints p50 and p95; it asserts no time limit (the figure is reported in the README).
//! Run it alone for a clean figure:
//! `cargo test -p switchyard-e2e --test playground_latency -- --nocapture`.

#![allow(clippy::unwrap_used, clippy::print_stdout)]

use serde_json::{Value, json};
use switchyard_e2e::browser::{self, Browser};
use switchyard_fixtures::{ENVIRONMENTS, Layout, spec_source};
use switchyard_model::{Change, Context, EnvKey, EnvState, Spec, Timestamp, World, apply, state::HealthStatus};

const APPS: usize = 50;
const KEYSTROKES: usize = 200;

/// Every environment created, v1.2.0 live, v1.3.0 promoted at 10%: what the model's own steps give.
fn states(source: &str) -> String {
    let spec = Spec::parse(source, "switchyard.yaml").unwrap();
    let mut world = World::new();
    let mut now = 1_780_000_000;
    for app in spec.spec.apps.keys() {
        for (env, _) in ENVIRONMENTS {
            let key = EnvKey::new(app, env);
            for request in [
                Change::Create,
                Change::Deploy { version: "v1.2.0".into() },
                Change::ObserveHealth { version: "v1.2.0".into(), status: HealthStatus::Healthy },
                Change::Promote { version: "v1.2.0".into(), share: 100 },
                Change::Deploy { version: "v1.3.0".into() },
                Change::ObserveHealth { version: "v1.3.0".into(), status: HealthStatus::Healthy },
                Change::Promote { version: "v1.3.0".into(), share: 10 },
            ] {
                now += 60;
                let ctx = Context { now: Timestamp(now), actor: Some("bench".into()) };
                let outcome = apply(&spec, &world, &key, &request, &ctx).unwrap();
                world.insert(key.clone(), outcome.state);
            }
        }
    }
    let states: Vec<&EnvState> = world.values().collect();
    serde_json::to_string_pretty(&states).unwrap()
}

#[tokio::test]
async fn keystroke_to_screen_latency() {
    if !browser::available() {
        return;
    }
    let source = spec_source(APPS, Layout::Block);
    let states = states(&source);
    let server = browser::serve();
    let page = Browser::start().await;
    page.open(&server.url()).await;

    // Load the large inputs the way a user's paste arrives: through the editors' input events.
    let load = format!(
        r#"for (const [id, text] of [['state', {}], ['spec', {}]]) {{
             const t = document.getElementById(id); t.value = text; t.dispatchEvent(new Event('input'));
           }}
           await window.playground.idle();
           return [document.getElementById('env').value, document.getElementById('config').textContent.length,
                   document.querySelectorAll('#graph text.share').length, document.getElementById('spec').value.split('\n').length];"#,
        json!(states),
        json!(source)
    );
    let loaded = page.js_async(&load).await;
    assert_eq!(loaded[0], "app0000/dev", "{loaded}");
    assert!(loaded[1].as_u64().unwrap() > 1000, "{loaded}");
    assert_eq!(loaded[2], 4, "the split shows in the picture: {loaded}");

    // Keystrokes in app0000's dev domain, the environment shown: type a letter, then delete it. Each changes the
    // hosts, so every one re-renders the configuration, the status and the picture.
    let measure = format!(
        r#"const t = document.getElementById('spec');
           const at = t.value.indexOf('domain: dev.example.com') + 'domain: dev'.length;
           const frame = () => new Promise((resolve) => requestAnimationFrame(() => resolve()));
           const shown = [], framed = [], model = [], dom = [], render = [];
           for (let i = 0; i < {KEYSTROKES}; i++) {{
             t.focus();
             if (i % 2 === 0) t.setRangeText('x', at, at, 'end'); else t.setRangeText('', at, at + 1, 'end');
             const start = performance.now();
             t.dispatchEvent(new InputEvent('input', {{ inputType: i % 2 ? 'deleteContentBackward' : 'insertText' }}));
             await window.playground.idle();
             shown.push(performance.now() - start);
             model.push(window.playground.timings.model);
             dom.push(window.playground.timings.show);
             render.push(window.playground.timings.model + window.playground.timings.show);
             await frame();
             framed.push(performance.now() - start);
           }}
           // The same keystrokes without the page's re-render (no input event): what the textarea alone costs.
           const bare = [];
           for (let i = 0; i < {KEYSTROKES}; i++) {{
             if (i % 2 === 0) t.setRangeText('x', at, at, 'end'); else t.setRangeText('', at, at + 1, 'end');
             const start = performance.now();
             await frame();
             bare.push(performance.now() - start);
           }}
           const host = document.querySelector('#graph g.node.host .label').textContent;
           return {{ shown, framed, model, dom, render, bare, host, lines: t.value.split('\n').length }};"#
    );
    let result = page.js_async(&measure).await;
    assert_eq!(result["host"], "api.app0000.dev.example.com", "{}", result["host"]);
    let stats = |key: &str| -> (f64, f64, f64) {
        let mut v: Vec<f64> = result[key].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
        assert_eq!(v.len(), KEYSTROKES);
        v.sort_by(f64::total_cmp);
        let at = |p: f64| v[((v.len() as f64 * p).ceil() as usize).saturating_sub(1)];
        (at(0.5), at(0.95), v[v.len() - 1])
    };
    let (shown_50, shown_95, shown_max) = stats("shown");
    let (framed_50, framed_95, framed_max) = stats("framed");
    let (model_50, model_95, model_max) = stats("model");
    let (dom_50, dom_95, dom_max) = stats("dom");
    let (bare_50, bare_95, bare_max) = stats("bare");
    let (render_50, render_95, render_max) = stats("render");
    let kib = |s: &str| s.len() as f64 / 1024.0;
    println!(
        "playground keystroke latency, {APPS} apps x {} environments ({} spec lines, {:.0} KiB spec, {:.0} KiB state), {KEYSTROKES} keystrokes:",
        ENVIRONMENTS.len(),
        result["lines"],
        kib(&source),
        kib(&states)
    );
    println!("  keystroke -> page shows the result: p50 {shown_50:.1} ms, p95 {shown_95:.1} ms, max {shown_max:.1} ms");
    println!(
        "  keystroke -> next frame:            p50 {framed_50:.1} ms, p95 {framed_95:.1} ms, max {framed_max:.1} ms"
    );
    println!(
        "  re-render (model + page update):    p50 {render_50:.1} ms, p95 {render_95:.1} ms, max {render_max:.1} ms"
    );
    println!("  of which in the model (worker):     p50 {model_50:.1} ms, p95 {model_95:.1} ms, max {model_max:.1} ms");
    println!("  of which showing it (main thread):  p50 {dom_50:.1} ms, p95 {dom_95:.1} ms, max {dom_max:.1} ms");
    println!(
        "  the textarea alone, no re-render:   p50 {bare_50:.1} ms, p95 {bare_95:.1} ms, max {bare_max:.1} ms (to the next frame)"
    );
    let timing: Value = page.js("return performance.getEntriesByType('navigation').length").await;
    assert_eq!(timing, json!(1));
    page.assert_no_errors().await;
    page.close().await;
}
