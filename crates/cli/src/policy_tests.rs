//! The host against hostile modules, written inline in the WebAssembly text format. Each must end with an error
//! naming the module and the limit it hit, and the host must go on running the next policy.

use std::time::{Duration, Instant};

use crate::policy::{Host, Limits, PolicyError, PolicyRef};

/// Small limits, so the hostile modules hit them quickly.
fn limits() -> Limits {
    Limits { fuel: 50_000_000, timeout: Duration::from_secs(5), memory: 16 << 20, output: 1 << 20 }
}

fn host(limits: Limits) -> Host {
    Host::new(limits, None).unwrap()
}

/// A module with the ABI's exports: the entry point's body is `entry`; `data` is placed at address 0.
fn module(data: &str, entry: &str) -> String {
    format!(
        r#"(module
  (memory (export "memory") 1)
  (data (i32.const 0) "{data}")
  (func (export "switchyard_alloc") (param i32) (result i32) i32.const 4096)
  (func (export "switchyard_policy_v1") (param i32 i32) (result i64) {entry}))"#
    )
}

/// A module answering `answer` (no quotes or backslashes in it, other than escaped ones).
fn answering(answer: &str) -> String {
    module(&answer.replace('"', "\\\""), &format!("i64.const {}", answer.len()))
}

fn run(host: &Host, name: &str, wat: &str) -> Result<Vec<switchyard_model::policy::Finding>, PolicyError> {
    let policy = host.load_bytes(name, wat.as_bytes(), None)?;
    host.run(&policy, br#"{"abi":1}"#)
}

fn fails(host: &Host, name: &str, wat: &str, needles: &[&str]) -> String {
    let err = run(host, name, wat).expect_err("the module must fail");
    let text = err.to_string();
    assert!(text.starts_with(&format!("policy {name}: ")), "{text}");
    for needle in needles {
        assert!(text.contains(needle), "{text:?} should say {needle:?}");
    }
    text
}

const GOOD: &str = r#"{"findings":[{"code":"TEAM001","severity":"warning","message":"hello","path":"apps.a"}]}"#;

#[test]
fn a_well_behaved_module_answers_findings() {
    let host = host(limits());
    let findings = run(&host, "good.wat", &answering(GOOD)).unwrap();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].code, "TEAM001");
    assert_eq!(findings[0].path.as_deref(), Some("apps.a"));
}

#[test]
fn an_infinite_loop_runs_out_of_fuel_and_the_host_goes_on() {
    let host = host(limits());
    fails(
        &host,
        "loop.wat",
        &module("", "(loop $l (br $l)) i64.const 0"),
        &["ran out of fuel", "50000000 units", "--policy-fuel"],
    );
    // The same host still runs the next policy.
    assert_eq!(run(&host, "good.wat", &answering(GOOD)).unwrap().len(), 1);
}

#[test]
fn an_infinite_loop_with_fuel_to_spare_hits_the_deadline() {
    let host = host(Limits { fuel: u64::MAX, timeout: Duration::from_millis(300), ..limits() });
    let started = Instant::now();
    fails(&host, "spin.wat", &module("", "(loop $l (br $l)) i64.const 0"), &["deadline of 300 ms", "--policy-timeout"]);
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}

#[test]
fn a_memory_bomb_hits_the_memory_limit() {
    let host = host(limits());
    let bomb = module("", "(loop $l (drop (memory.grow (i32.const 16))) (br $l)) i64.const 0");
    fails(&host, "bomb.wat", &bomb, &["memory limit of 16 MiB", "--policy-memory"]);
    // Asking for it up front fails at instantiation, with the same message.
    let big = r#"(module (memory (export "memory") 1000)
      (func (export "switchyard_alloc") (param i32) (result i32) i32.const 0)
      (func (export "switchyard_policy_v1") (param i32 i32) (result i64) i64.const 0))"#;
    fails(&host, "big.wat", big, &["memory limit of 16 MiB"]);
}

#[test]
fn huge_invalid_and_misplaced_answers_are_refused() {
    let host = host(limits());
    fails(
        &host,
        "huge.wat",
        &module("", "i64.const 100000000"),
        &["answered 100000000 bytes", "limit of 1 MiB", "--policy-output"],
    );
    fails(&host, "outside.wat", &module("", "i64.const 0x0000fff000000100"), &["outside its memory"]);
    fails(&host, "utf8.wat", &module("\\ff\\fe", "i64.const 2"), &["not UTF-8"]);
    fails(&host, "json.wat", &answering("nope"), &["not ABI v1 JSON"]);
    fails(&host, "shape.wat", &answering(r#"{"findings":[{"code":"X"}]}"#), &["not ABI v1 JSON"]);
    fails(
        &host,
        "code.wat",
        &answering(r#"{"findings":[{"code":"a b","severity":"error","message":"m"}]}"#),
        &["code"],
    );
    fails(
        &host,
        "error.wat",
        &answering(r#"{"error":"the spec has no prod"}"#),
        &["could not decide: the spec has no prod"],
    );
}

#[test]
fn missing_exports_imports_and_traps_are_named() {
    let host = host(limits());
    let no_entry = r#"(module (memory (export "memory") 1)
      (func (export "switchyard_alloc") (param i32) (result i32) i32.const 0))"#;
    fails(&host, "noentry.wat", no_entry, &["does not export `switchyard_policy_v1`", "ABI v1"]);
    let no_memory = r#"(module
      (func (export "switchyard_alloc") (param i32) (result i32) i32.const 0)
      (func (export "switchyard_policy_v1") (param i32 i32) (result i64) i64.const 0))"#;
    fails(&host, "nomemory.wat", no_memory, &["`memory`"]);
    let wrong = module("", "i64.const 0").replace("(result i64) i64.const 0", "(result i32) i32.const 0");
    fails(&host, "wrong.wat", &wrong, &["wrong type", "(result i64)"]);
    let imports = module("", "i64.const 0").replacen("(module", r#"(module (import "env" "now" (func))"#, 1);
    fails(&host, "imports.wat", &imports, &["imports env.now", "may import nothing"]);
    fails(&host, "trap.wat", &module("", "unreachable"), &["trapped during switchyard_policy_v1", "unreachable"]);
    fails(&host, "garbage.wasm", "\0asm\u{1}\0\0\0\u{5}", &["not a valid module"]);
    // After all that, the host still works.
    assert_eq!(run(&host, "good.wat", &answering(GOOD)).unwrap().len(), 1);
}

#[test]
fn a_pinned_hash_must_match() {
    let host = host(limits());
    let wat = answering(GOOD);
    let policy = host.load_bytes("good.wat", wat.as_bytes(), None).unwrap();
    assert!(host.load_bytes("good.wat", wat.as_bytes(), Some(&policy.sha256)).is_ok());
    let wrong = "0".repeat(64);
    let err = host.load_bytes("good.wat", wat.as_bytes(), Some(&wrong)).unwrap_err().to_string();
    assert!(err.contains(&format!("its sha256 is {}, not the pinned {wrong}", policy.sha256)), "{err}");
    assert!("p.wasm@sha256:abc".parse::<PolicyRef>().is_err());
    let pinned: PolicyRef = format!("p.wasm@sha256:{}", "A".repeat(64)).parse().unwrap();
    assert_eq!(pinned.sha256, Some("a".repeat(64)));
}

#[test]
fn compiled_modules_come_from_the_cache_the_second_time() {
    let dir = tempfile::tempdir().unwrap();
    let wat = answering(GOOD);
    let first = Host::new(limits(), Some(dir.path())).unwrap();
    let policy = first.load_bytes("good.wat", wat.as_bytes(), None).unwrap();
    assert!(!policy.cached);
    assert_eq!(first.cache_stats(), (0, 1));
    // One file, named by the module's hash and the engine's, in a directory only the user can read.
    let modules = dir.path().join("modules");
    let files: Vec<String> =
        std::fs::read_dir(&modules).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].starts_with(&format!("{}-", policy.sha256)) && files[0].ends_with(".cwasm"), "{files:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(std::fs::metadata(&modules).unwrap().permissions().mode() & 0o777, 0o700);
    }
    let second = Host::new(limits(), Some(dir.path())).unwrap();
    let policy = second.load_bytes("good.wat", wat.as_bytes(), None).unwrap();
    assert!(policy.cached);
    assert_eq!(second.cache_stats(), (1, 0));
    assert_eq!(second.run(&policy, b"{}").unwrap().len(), 1);
}

#[test]
fn a_damaged_cache_entry_is_compiled_again_and_rewritten() {
    let dir = tempfile::tempdir().unwrap();
    let wat = answering(GOOD);
    Host::new(limits(), Some(dir.path())).unwrap().load_bytes("good.wat", wat.as_bytes(), None).unwrap();
    let entry = std::fs::read_dir(dir.path().join("modules")).unwrap().next().unwrap().unwrap().path();
    let good = std::fs::read(&entry).unwrap();
    for damaged in [&b"not a compiled module"[..], &good[..good.len() / 2], b""] {
        std::fs::write(&entry, damaged).unwrap();
        let host = Host::new(limits(), Some(dir.path())).unwrap();
        let policy = host.load_bytes("good.wat", wat.as_bytes(), None).unwrap();
        assert!(!policy.cached);
        assert_eq!(host.cache_stats(), (0, 1));
        assert_eq!(host.run(&policy, b"{}").unwrap().len(), 1);
        // Rewritten whole: the next host maps it.
        assert_eq!(std::fs::read(&entry).unwrap().len(), good.len());
        let host = Host::new(limits(), Some(dir.path())).unwrap();
        assert!(host.load_bytes("good.wat", wat.as_bytes(), None).unwrap().cached);
    }
    // No temporary file is left behind.
    assert_eq!(std::fs::read_dir(dir.path().join("modules")).unwrap().count(), 1);
}

#[test]
fn another_engine_configuration_does_not_share_entries() {
    let dir = tempfile::tempdir().unwrap();
    let wat = answering(GOOD);
    Host::new(limits(), Some(dir.path())).unwrap().load_bytes("good.wat", wat.as_bytes(), None).unwrap();
    let entry = std::fs::read_dir(dir.path().join("modules")).unwrap().next().unwrap().unwrap().path();
    // An entry written by another configuration under this engine's name: wasmtime refuses it, the host compiles.
    let mut config = crate::policy::engine_config();
    config.consume_fuel(false);
    let other = wasmtime::Engine::new(&config).unwrap();
    std::fs::write(&entry, other.precompile_module(wat.as_bytes()).unwrap()).unwrap();
    let host = Host::new(limits(), Some(dir.path())).unwrap();
    let policy = host.load_bytes("good.wat", wat.as_bytes(), None).unwrap();
    assert!(!policy.cached);
    assert_eq!(host.run(&policy, b"{}").unwrap().len(), 1);
}
