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

/// Waits until the filesystem's clock has passed the change time of `path` (a new file in its directory is
/// strictly newer), so that a memo begun now can be believed.
#[cfg(unix)]
fn settle(path: &std::path::Path) {
    use std::os::unix::fs::MetadataExt as _;
    let time = |m: &std::fs::Metadata| (m.ctime(), m.ctime_nsec());
    let changed = time(&std::fs::metadata(path).unwrap());
    let probe = path.with_extension("probe");
    for _ in 0..2000 {
        std::fs::write(&probe, b"").unwrap();
        let now = time(&std::fs::metadata(&probe).unwrap());
        std::fs::remove_file(&probe).unwrap();
        if now > changed {
            return;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    panic!("the filesystem's clock did not move");
}

/// A module file in `dir` (the cache is `dir/cache`: the same filesystem, as the memo wants).
#[cfg(unix)]
fn module_file(dir: &std::path::Path, name: &str, wat: &str) -> PolicyRef {
    let path = dir.join(name);
    std::fs::write(&path, wat).unwrap();
    settle(&path);
    PolicyRef { path, sha256: None }
}

#[cfg(unix)]
#[test]
fn a_module_file_is_hashed_once_then_remembered() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let policy = module_file(dir.path(), "good.wat", &answering(GOOD));
    let first = Host::new(limits(), Some(&cache)).unwrap();
    let loaded = first.load(&policy).unwrap();
    assert_eq!((first.remembered(), loaded.cached), (0, false));
    // One memo, named by the file's device and inode, only the user can read.
    let memos: Vec<_> = std::fs::read_dir(cache.join("sha256")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(memos.len(), 1, "{memos:?}");
    let memo = std::fs::read_to_string(&memos[0]).unwrap();
    assert!(memo.starts_with("v1 ") && memo.ends_with(&format!(" {}\n", loaded.sha256)), "{memo}");
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(std::fs::metadata(cache.join("sha256")).unwrap().permissions().mode() & 0o777, 0o700);
        assert_eq!(std::fs::metadata(&memos[0]).unwrap().permissions().mode() & 0o777, 0o600);
    }
    // The next host believes it: the same hash and compiled code, the file not read; a matching pin too.
    for pin in [None, Some(loaded.sha256.clone())] {
        let host = Host::new(limits(), Some(&cache)).unwrap();
        let again = host.load(&PolicyRef { path: policy.path.clone(), sha256: pin }).unwrap();
        assert_eq!((host.remembered(), host.cache_stats(), again.cached), (1, (1, 0), true));
        assert_eq!(again.sha256, loaded.sha256);
        assert_eq!(host.run(&again, b"{}").unwrap().len(), 1);
    }
    // A pin the memo does not match: the file is hashed, and decides.
    let host = Host::new(limits(), Some(&cache)).unwrap();
    let wrong = "0".repeat(64);
    let err = host.load(&PolicyRef { path: policy.path.clone(), sha256: Some(wrong.clone()) }).unwrap_err();
    assert!(err.message.contains(&format!("its sha256 is {}, not the pinned {wrong}", loaded.sha256)), "{err}");
    assert_eq!(host.remembered(), 0);
    // Without a cache there is no memo: the file is hashed every time.
    let host = Host::new(limits(), None).unwrap();
    assert_eq!(host.load(&policy).unwrap().sha256, loaded.sha256);
    assert_eq!(host.remembered(), 0);
}

#[cfg(unix)]
#[test]
fn a_changed_or_replaced_module_file_is_hashed_again() {
    use std::time::SystemTime;
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let policy = module_file(dir.path(), "good.wat", &answering(GOOD));
    let original = Host::new(limits(), Some(&cache)).unwrap().load(&policy).unwrap().sha256;
    let modified = std::fs::metadata(&policy.path).unwrap().modified().unwrap();
    let pinned = PolicyRef { path: policy.path.clone(), sha256: Some(original.clone()) };
    // The same size, its modification time set back: the change time still tells.
    let changed = answering(&GOOD.replace("hello", "jello"));
    assert_eq!(changed.len(), answering(GOOD).len());
    let set_back = |path: &std::path::Path, time: SystemTime| {
        std::fs::File::options().write(true).open(path).unwrap().set_modified(time).unwrap();
    };
    std::fs::write(&policy.path, &changed).unwrap();
    set_back(&policy.path, modified);
    let host = Host::new(limits(), Some(&cache)).unwrap();
    let err = host.load(&pinned).unwrap_err();
    assert!(err.message.contains(&format!("not the pinned {original}")), "{err}");
    let loaded = host.load(&policy).unwrap();
    assert_ne!(loaded.sha256, original);
    assert!(host.run(&loaded, b"{}").unwrap()[0].message.contains("jello"));
    assert_eq!(host.remembered(), 0);
    // Put back, then replaced by another file (a new inode) of the same size and modification time.
    std::fs::write(&policy.path, answering(GOOD)).unwrap();
    settle(&policy.path);
    assert_eq!(Host::new(limits(), Some(&cache)).unwrap().load(&pinned).unwrap().sha256, original);
    let host = Host::new(limits(), Some(&cache)).unwrap();
    assert_eq!(host.load(&pinned).unwrap().sha256, original);
    assert_eq!(host.remembered(), 1);
    let replacement = dir.path().join("replacement.wat");
    std::fs::write(&replacement, &changed).unwrap();
    set_back(&replacement, std::fs::metadata(&policy.path).unwrap().modified().unwrap());
    std::fs::rename(&replacement, &policy.path).unwrap();
    let host = Host::new(limits(), Some(&cache)).unwrap();
    let err = host.load(&pinned).unwrap_err();
    assert!(err.message.contains(&format!("not the pinned {original}")), "{err}");
    assert_eq!(host.remembered(), 0);
}

#[cfg(unix)]
#[test]
fn a_memo_is_believed_only_for_times_strictly_older_than_it() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let policy = module_file(dir.path(), "good.wat", &answering(GOOD));
    Host::new(limits(), Some(&cache)).unwrap().load(&policy).unwrap();
    let memo = std::fs::read_dir(cache.join("sha256")).unwrap().next().unwrap().unwrap().path();
    let text = std::fs::read_to_string(&memo).unwrap();
    let fields: Vec<&str> = text.trim_end().split(' ').collect();
    let (mtime, ctime): (i128, i128) = (fields[2].parse().unwrap(), fields[3].parse().unwrap());
    let believed = |text: String| {
        std::fs::write(&memo, text).unwrap();
        let host = Host::new(limits(), Some(&cache)).unwrap();
        host.load(&policy).unwrap();
        host.remembered() == 1
    };
    let with = |begun: i128| format!("{} {} {} {} {begun} {}\n", fields[0], fields[1], fields[2], fields[3], fields[5]);
    // Begun in the same tick as the file's change (or modification): racily clean, hashed again.
    assert!(!believed(with(ctime)));
    assert!(!believed(with(mtime)));
    assert!(believed(with(ctime.max(mtime) + 1)));
    // A damaged memo is ignored.
    for damaged in
        [String::new(), text[..text.len() / 2].to_string(), text.replace("v1", "v2"), text.trim_end().to_string()]
    {
        assert!(!believed(damaged));
    }
    assert!(believed(text));
    // No temporary file is left behind.
    assert_eq!(std::fs::read_dir(cache.join("sha256")).unwrap().count(), 1);
}
