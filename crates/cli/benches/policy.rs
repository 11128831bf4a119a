//! The model's own policy (`crates/policy`, built for wasm32-unknown-unknown with the `policy` profile) on 50
//! apps x 3 environments, each environment with 5 deployed versions, two in slots and a promotion at 10% under
//! way: a plain check (`switchyard check --policy switchyard-model.wasm`, every environment's configuration in
//! the input) and a change (a promotion in one environment, its configuration in the input).
//!
//! - cold: a new engine and an empty cache directory: the module file read and hashed, compilation by
//!   Cranelift, then the evaluation;
//! - warm: a new engine (as a new CLI process has) on the filled cache: the module file loaded as the CLI
//!   loads it (its identity checked against the sha256 the cache remembers, the compiled code mapped from the
//!   cache), a fresh instance, the evaluation; what every run after the first costs;
//! - evaluation: on a loaded module, a fresh instance and the call.
//!
//! `cargo bench -p switchyard --bench policy` (builds the module first when it is missing or stale).

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code, unreachable_pub)]
#[path = "../src/policy.rs"]
mod policy;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use switchyard_fixtures::{ENVIRONMENTS, Layout, spec_source};
use switchyard_model::naming;
use switchyard_model::policy::{ABI_VERSION, ChangeInput, InputRef, Source};
use switchyard_model::render::render_env;
use switchyard_model::traefik::RenderedConfig;
use switchyard_model::{EnvState, Spec, ValidSpec};

use policy::{Host, Limits, PolicyRef};

const APPS: usize = 50;

/// The module file: the one built for the bench, or another build (e.g. another opt-level) to compare.
fn module() -> PathBuf {
    if let Some(path) = std::env::var_os("SWITCHYARD_BENCH_MODULE") {
        return PathBuf::from(path);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(&root)
        .args(["build", "-q", "-p", "switchyard-policy", "--target", "wasm32-unknown-unknown", "--profile", "policy"])
        .status()
        .expect("cargo runs");
    assert!(status.success(), "the model's policy did not build");
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    target.join("wasm32-unknown-unknown/policy/switchyard_policy.wasm")
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let file = PolicyRef { path: module(), sha256: None };
    let bytes = std::fs::read(&file.path).expect("the module");
    let source = spec_source(APPS, Layout::Flow);
    let spec = Spec::parse(&source, "switchyard.yaml").expect("the spec parses");
    let states: Vec<EnvState> = switchyard_fixtures::states(&spec);
    let configs: Vec<(String, RenderedConfig)> =
        states.iter().map(|s| (format!("{}/{}", s.app, s.env), render_env(&spec, s).unwrap().config)).collect();
    let src = Source { file: "switchyard.yaml".into(), text: source.clone() };
    let empty = serde_json::json!([]);
    let plain = serde_json::to_vec(&InputRef {
        abi: ABI_VERSION,
        change: None,
        spec: &spec.spec,
        spec_source: Some(&src),
        before: states.iter().collect(),
        after: states.iter().collect(),
        config: configs.iter().map(|(k, c)| (k.clone(), c)).collect(),
        plan: &empty,
    })
    .unwrap();
    let change = ChangeInput {
        command: "shift".into(),
        app: "app0007".into(),
        env: "prod".into(),
        version: None,
        share: Some(50),
    };
    let changed_key = "app0007/prod".to_string();
    let one = configs.iter().find(|(k, _)| *k == changed_key).unwrap();
    let change_input = serde_json::to_vec(&InputRef {
        abi: ABI_VERSION,
        change: Some(&change),
        spec: &spec.spec,
        spec_source: Some(&src),
        before: states.iter().collect(),
        after: states.iter().collect(),
        config: BTreeMap::from([(one.0.clone(), &one.1)]),
        plan: &empty,
    })
    .unwrap();
    println!(
        "model policy: {} bytes; spec of {APPS} apps x {} environments ({} lines); input {} bytes (plain check), {} bytes (a change)",
        bytes.len(),
        ENVIRONMENTS.len(),
        source.lines().count(),
        plain.len(),
        change_input.len()
    );

    let limits = Limits::default();
    let runs = 20;
    for (label, input) in [("plain check", &plain), ("a change", &change_input)] {
        // Cold: an empty cache.
        let mut cold = Vec::new();
        for _ in 0..3 {
            let dir = tempfile::tempdir().unwrap();
            let started = Instant::now();
            let host = Host::new(limits, Some(dir.path())).unwrap();
            let p = host.load(&file).unwrap();
            let findings = host.run(&p, input).unwrap();
            cold.push(started.elapsed());
            assert!(findings.is_empty(), "{findings:?}");
            assert!(!p.cached);
        }
        // Warm: a filled cache, a new engine each time. The cache remembers the module file's sha256 when the
        // file is on its filesystem (the memo is then written by the first load).
        let dir = tempfile::tempdir().unwrap();
        Host::new(limits, Some(dir.path())).unwrap().load(&file).unwrap();
        let memos = std::fs::read_dir(dir.path().join("sha256")).map_or(0, Iterator::count);
        if memos == 0 {
            println!(
                "(no memo of the module's sha256: it is on another filesystem, or changed just now; warm hashes it)"
            );
        }
        let (mut warm, mut engine, mut load, mut first, mut eval) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for _ in 0..runs {
            let started = Instant::now();
            let host = Host::new(limits, Some(dir.path())).unwrap();
            let created = started.elapsed();
            let p = host.load(&file).unwrap();
            let loaded = started.elapsed();
            let findings = host.run(&p, input).unwrap();
            let done = started.elapsed();
            warm.push(done);
            engine.push(created);
            load.push(loaded - created);
            first.push(done - loaded);
            assert!(p.cached, "the second load must come from the cache");
            assert!(findings.is_empty(), "{findings:?}");
            let started = Instant::now();
            host.run(&p, input).unwrap();
            eval.push(started.elapsed());
        }
        println!(
            "{label:12} cold {} | warm {} = engine {} + load from the cache {} + evaluation {} | evaluation again {}   (medians; cold of 3, warm of {runs})",
            ms(median(cold)),
            ms(median(warm)),
            ms(median(engine)),
            ms(median(load)),
            ms(median(first)),
            ms(median(eval))
        );
    }
    breakdown(&file, &bytes, &spec, &states, &change_input, &changed_key, &one.1);
}

/// Where a warm evaluation of a change goes: the host's steps (as `Host::run` takes them, on an engine of the
/// same configuration), then the model's steps run natively (the module runs the same code, slower).
#[allow(clippy::too_many_arguments)]
fn breakdown(
    file: &PolicyRef,
    bytes: &[u8],
    spec: &ValidSpec,
    states: &[EnvState],
    input: &[u8],
    key: &str,
    config: &RenderedConfig,
) {
    use sha2::Digest as _;
    use wasmtime::{Engine, Linker, Module, Store};
    let runs = 20;
    let engine = Engine::new(&policy::engine_config()).unwrap();
    let module = Module::new(&engine, bytes).unwrap();
    let cache = tempfile::tempdir().unwrap();
    Host::new(Limits::default(), Some(cache.path())).unwrap().load(file).unwrap();
    let mut times: BTreeMap<&str, Vec<Duration>> = BTreeMap::new();
    let mut time = |what: &'static str, started: Instant| times.entry(what).or_default().push(started.elapsed());
    // Fuel: the WebAssembly instructions the evaluation ran, the same on every machine (time is not).
    let mut fuel = 0;
    for _ in 0..runs {
        let started = Instant::now();
        let _ = Engine::new(&policy::engine_config()).unwrap();
        time("1 host: engine", started);
        let host = Host::new(Limits::default(), Some(cache.path())).unwrap();
        let started = Instant::now();
        std::hint::black_box(host.load(file).unwrap());
        time("2 host: load the module file (its memo, mapping)", started);
        let started = Instant::now();
        std::hint::black_box(sha2::Sha256::digest(std::fs::read(&file.path).unwrap()));
        time("3 host: (without the memo: read it, sha256)", started);
        let started = Instant::now();
        let mut store = Store::new(&engine, ());
        store.set_fuel(u64::MAX).unwrap();
        store.set_epoch_deadline(1000);
        let instance = Linker::new(&engine).instantiate(&mut store, &module).unwrap();
        time("4 host: instantiate", started);
        let started = Instant::now();
        let alloc = instance.get_typed_func::<i32, i32>(&mut store, policy::ALLOC).unwrap();
        let entry = instance.get_typed_func::<(i32, i32), i64>(&mut store, policy::ENTRY).unwrap();
        let memory = instance.get_memory(&mut store, "memory").unwrap();
        let ptr = alloc.call(&mut store, input.len() as i32).unwrap();
        memory.write(&mut store, ptr as u32 as usize, input).unwrap();
        time("5 host: alloc and write the input", started);
        let started = Instant::now();
        let packed = entry.call(&mut store, (ptr, input.len() as i32)).unwrap() as u64;
        time("6 guest: evaluate a change", started);
        fuel = u64::MAX - store.get_fuel().unwrap();
        let started = Instant::now();
        let answer = &memory.data(&store)[(packed >> 32) as usize..][..(packed & 0xffff_ffff) as usize];
        let answer: switchyard_model::policy::Answer = serde_json::from_slice(answer).unwrap();
        std::hint::black_box(answer);
        time("7 host: read the answer", started);

        // The model's steps, natively.
        let started = Instant::now();
        std::hint::black_box(switchyard_model::policy::evaluate(input));
        time("8 native: evaluate a change (all of the below)", started);
        let started = Instant::now();
        let _: serde::de::IgnoredAny = serde_json::from_slice(input).unwrap();
        time("9 native: scan the input JSON", started);
        let spec_json = serde_json::to_vec(&spec.spec).unwrap();
        let started = Instant::now();
        let parsed: Spec = serde_json::from_slice(&spec_json).unwrap();
        time("a native: parse the spec", started);
        let started = Instant::now();
        let mut out = Vec::new();
        let hosts = parsed.validate(&mut out).unwrap();
        time("b native: validate the spec", started);
        let valid = ValidSpec { spec: parsed, hosts, warnings: Vec::new() };
        let state = states.iter().find(|s| format!("{}/{}", s.app, s.env) == key).unwrap();
        let state_json = serde_json::to_string(state).unwrap();
        let config_json = serde_json::to_string(config).unwrap();
        let started = Instant::now();
        let _: EnvState = serde_json::from_str(&state_json).unwrap();
        let given: RenderedConfig = serde_json::from_str(&config_json).unwrap();
        time("c native: parse the state and configuration", started);
        let started = Instant::now();
        let rendered = render_env(&valid, state).unwrap().config;
        assert!(rendered == given);
        time("d native: render and compare", started);
        let started = Instant::now();
        let text = switchyard_model::render::to_yaml(&rendered).unwrap();
        let files = vec![(naming::config_file(&state.app, &state.env), text)];
        time("e native: to YAML", started);
        let started = Instant::now();
        std::hint::black_box(switchyard_traefik::validate::validate_files(&files));
        time("f native: validate the rendered file", started);
    }
    println!(
        "where a warm evaluation of a change goes (medians of {runs}; the guest's evaluation ran {:.1} M instructions of fuel):",
        fuel as f64 / 1e6
    );
    for (what, t) in times {
        println!("  {:48} {}", &what[2..], ms(median(t)));
    }
}
