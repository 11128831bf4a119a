//! Policies end to end through the `switchyard` binary on a local directory: the model's own policy built for
//! real (wasm32-unknown-unknown, profile `policy`), the hand-written WAT policy, hostile modules, pinning,
//! report formats and the compilation cache.

#![allow(clippy::unwrap_used)] // a panic in a test is a failing test

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;

const SPEC: &str = include_str!("../../../examples/whoami/switchyard.yaml");
/// The example's own Traefik file (its `traefik.files`), beside the spec.
const MIDDLEWARES: &str = include_str!("../../../examples/whoami/middlewares.yml");

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn canary() -> String {
    root().join("examples/policies/canary-25.wat").display().to_string()
}

/// The model's policy module, built once per test run (a no-op when it is up to date).
fn model_policy() -> String {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| build_policy("switchyard-policy", "switchyard_policy")).display().to_string()
}

/// The example policy in Rust (`examples/policies/rollout-floor`), built once per test run.
fn floor_policy() -> String {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| build_policy("switchyard-example-rollout-floor", "switchyard_example_rollout_floor"))
        .display()
        .to_string()
}

/// Builds `package` for wasm32-unknown-unknown with the `policy` profile; returns the module's path.
fn build_policy(package: &str, file: &str) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(root())
        .args(["build", "-q", "-p", package, "--target", "wasm32-unknown-unknown", "--profile", "policy"])
        .status()
        .unwrap();
    assert!(status.success(), "{package} did not build");
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from);
    target.join(format!("wasm32-unknown-unknown/policy/{file}.wasm"))
}

struct Env {
    dir: tempfile::TempDir,
    cache: tempfile::TempDir,
}

impl Env {
    /// The example spec, with v1 live and v2 deployed and healthy in whoami/dev (every command runs with `-e dev`).
    fn new() -> Self {
        let env = Env { dir: tempfile::tempdir().unwrap(), cache: tempfile::tempdir().unwrap() };
        fs::write(env.path().join("switchyard.yaml"), SPEC).unwrap();
        fs::write(env.path().join("middlewares.yml"), MIDDLEWARES).unwrap();
        for args in [
            &["create"][..],
            &["deploy", "v1"],
            &["observe", "v1", "healthy"],
            &["promote", "v1"],
            &["deploy", "v2"],
            &["observe", "v2", "healthy"],
        ] {
            env.expect(0, args);
        }
        env
    }
    fn path(&self) -> &Path {
        self.dir.path()
    }
    /// Runs `switchyard COMMAND -e dev ARGS...`.
    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .current_dir(self.path())
            .args(["--now", "2026-03-01T12:00:00Z", "--actor", "tester"])
            .args(&args[..1])
            .args(["-e", "dev"])
            .args(&args[1..])
            .env_remove("SWITCHYARD_SPEC")
            .env_remove("SWITCHYARD_DIR")
            .env_remove("SWITCHYARD_DYNAMIC_DIR")
            .env("SWITCHYARD_CACHE_DIR", self.cache.path())
            .output()
            .unwrap()
    }
    /// Runs and requires exit code `code`; returns (stdout, stderr).
    fn expect(&self, code: i32, args: &[&str]) -> (String, String) {
        let out = self.run(args);
        let (stdout, stderr) =
            (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned());
        assert_eq!(out.status.code(), Some(code), "switchyard {args:?}:\n{stdout}{stderr}");
        (stdout, stderr)
    }
    fn state(&self) -> String {
        fs::read_to_string(self.path().join(".switchyard/state/whoami_dev.json")).unwrap()
    }
    fn write(&self, name: &str, text: &str) -> String {
        let path = self.path().join(name);
        fs::write(&path, text).unwrap();
        path.display().to_string()
    }
}

#[test]
fn the_wat_policy_refuses_a_30_percent_canary_and_allows_20() {
    let env = Env::new();
    let canary = canary();
    let (out, _) = env.expect(1, &["check", "--policy", &canary, "promote", "v2", "--share", "30"]);
    assert!(
        out.contains("error[CANARY25]: a canary step of 30 percent is above the team's limit of 25 percent"),
        "{out}"
    );
    assert!(out.contains(&format!("(policy {canary})")), "{out}");
    assert!(out.contains("at change.share"), "{out}");
    env.expect(0, &["check", "--policy", &canary, "promote", "v2", "--share", "20"]);
    // A plain check has no change: nothing to say.
    env.expect(0, &["check", "--policy", &canary]);

    // On the change itself: refused with nothing changed, then allowed.
    let before = env.state();
    let dynamic = fs::read(env.path().join(".switchyard/dynamic/switchyard_whoami_dev.yml")).unwrap();
    let (out, err) = env.expect(1, &["promote", "v2", "--share", "30", "--policy", &canary]);
    assert!(out.contains("CANARY25"), "{out}");
    assert!(err.contains("refused, nothing was changed"), "{err}");
    assert_eq!(env.state(), before);
    assert_eq!(fs::read(env.path().join(".switchyard/dynamic/switchyard_whoami_dev.yml")).unwrap(), dynamic);
    // A dry run is checked too.
    env.expect(1, &["promote", "v2", "--share", "30", "--dry-run", "--policy", &canary]);
    env.expect(0, &["promote", "v2", "--share", "20", "--policy", &canary]);
    assert!(env.state().contains("\"share\": 20"), "{}", env.state());
    env.expect(1, &["shift", "--share", "50", "--policy", &canary]);
    env.expect(0, &["complete", "--policy", &canary]);
}

#[test]
fn the_rust_example_holds_a_rollout_to_the_teams_floor() {
    let env = Env::new();
    let module = floor_policy();
    let floor = module.as_str();
    let loose = ["promote", "v2", "--steps", "25,100", "--max-error-rate", "2%"];
    let (out, _) = env.expect(1, &[&["check", "--policy", floor][..], &loose].concat());
    for finding in [
        "error[floor/first-step]: the rollout of v2 in whoami/dev starts at 25%; the team's first step is at most 10%",
        "error[floor/error-rate]: the rollout of v2 in whoami/dev allows an error rate of 2%; the team allows at most 0.5%",
        "error[floor/p95]: the rollout of v2 in whoami/dev does not watch latency; the team requires a p95 of at most 500ms",
        "error[floor/min-requests]: the rollout of v2 in whoami/dev judges a step on 50 requests; the team wants at least 100",
    ] {
        assert!(out.contains(finding), "{finding}\n{out}");
    }
    assert!(out.contains("--max-error-rate 0.5%"), "{out}");
    let strict = ["promote", "v2", "--max-error-rate", "0.5%", "--max-p95", "300ms", "--min-requests", "100"];
    env.expect(0, &[&["check", "--policy", floor][..], &strict].concat());
    // A plain promotion is no rollout: nothing to judge.
    env.expect(0, &["check", "--policy", floor, "promote", "v2", "--share", "30"]);

    // On the change itself (planned, as a dry run: a rollout that starts needs a Traefik to read): refused.
    let before = env.state();
    let (out, err) = env.expect(1, &[&loose[..], &["--dry-run", "--policy", floor]].concat());
    assert!(out.contains("floor/error-rate"), "{out}");
    assert!(err.contains("refused, nothing was changed"), "{err}");
    assert_eq!(env.state(), before);
}

#[test]
fn findings_come_out_in_every_format() {
    let env = Env::new();
    let canary = canary();
    let args = |format: &'static str| -> Vec<&str> {
        vec!["check", "--policy", &canary, "--format", format, "promote", "v2", "--share", "30"]
    };
    let (json, _) = env.expect(1, &args("json"));
    let json: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json[0]["code"], "CANARY25");
    assert_eq!(json[0]["severity"], "error");
    assert_eq!(json[0]["path"], "change.share");
    assert!(json[0]["message"].as_str().unwrap().ends_with(&format!("(policy {canary})")));
    let (sarif, _) = env.expect(1, &args("sarif"));
    let sarif: Value = serde_json::from_str(&sarif).unwrap();
    assert_eq!(sarif["runs"][0]["results"][0]["ruleId"], "CANARY25");
    assert_eq!(sarif["runs"][0]["results"][0]["level"], "error");
    let (github, _) = env.expect(1, &args("github"));
    assert!(github.starts_with("::error title=CANARY25::a canary step of 30 percent"), "{github}");
}

#[test]
fn the_models_policy_passes_a_sound_world_and_finds_a_broken_state() {
    let env = Env::new();
    let model = model_policy();
    let (out, err) = env.expect(0, &["check", "--policy", &model]);
    assert!(out.contains(&format!("{model}: ok")), "{out}");
    assert!(err.contains("sha256:"), "{err}");
    env.expect(0, &["check", "--policy", &model, "promote", "v2", "--share", "30"]);
    // Both policies on the change: the model has nothing to say, the canary refuses.
    let (out, _) = env.expect(1, &["promote", "v2", "--share", "30", "--policy", &model, "--policy", &canary()]);
    assert!(out.contains("CANARY25") && !out.contains("SY04"), "{out}");

    // A state edited by hand: the green slot holds a version that was never deployed.
    let mut state: Value = serde_json::from_str(&env.state()).unwrap();
    state["slots"]["green"] = "v9".into();
    fs::write(env.path().join(".switchyard/state/whoami_dev.json"), state.to_string()).unwrap();
    let (out, _) = env.expect(1, &["check", "--policy", &model, "--format", "json"]);
    let findings: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(findings[0]["code"], "SY0402", "{findings:#}");
    assert!(findings[0]["message"].as_str().unwrap().contains("the green slot holds v9, which is not deployed"));
}

#[test]
fn a_pinned_hash_must_match() {
    let env = Env::new();
    let model = model_policy();
    let bytes = fs::read(&model).unwrap();
    let sha256: String = {
        use sha2::Digest as _;
        sha2::Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect()
    };
    env.expect(0, &["check", "--policy", &format!("{model}@sha256:{sha256}")]);
    let wrong = "f".repeat(64);
    let (_, err) = env.expect(2, &["check", "--policy", &format!("{model}@sha256:{wrong}")]);
    assert!(err.contains(&format!("its sha256 is {sha256}, not the pinned {wrong}")), "{err}");
    // On a change: refused before anything happens.
    let before = env.state();
    env.expect(2, &["promote", "v2", "--policy", &format!("{model}@sha256:{wrong}")]);
    assert_eq!(env.state(), before);
}

#[test]
fn a_hostile_policy_fails_clearly_and_the_others_still_run() {
    let env = Env::new();
    let spin = env.write(
        "spin.wat",
        r#"(module (memory (export "memory") 1)
          (func (export "switchyard_alloc") (param i32) (result i32) i32.const 1024)
          (func (export "switchyard_policy_v1") (param i32 i32) (result i64) (loop $l (br $l)) i64.const 0))"#,
    );
    let canary = canary();
    let (out, err) = env.expect(
        2,
        &[
            "check",
            "--policy",
            &spin,
            "--policy",
            &canary,
            "--policy-fuel",
            "5000000",
            "promote",
            "v2",
            "--share",
            "30",
        ],
    );
    assert!(err.contains(&format!("policy {spin}: ran out of fuel")), "{err}");
    assert!(err.contains("5000000 units (--policy-fuel)"), "{err}");
    assert!(out.contains("CANARY25"), "the other policy still ran:\n{out}");
    let (out, err) =
        env.expect(2, &["check", "--policy", &spin, "--policy-fuel", "100000000000000", "--policy-timeout", "300ms"]);
    assert!(err.contains("passed its deadline of 300 ms"), "{err}");
    assert!(!out.contains("ok"), "a module that could not run is never reported ok:\n{out}");
    let (out, _) = env.expect(2, &["check", "--policy", &spin, "--policy", &canary, "--policy-fuel", "5000000"]);
    assert_eq!(out, format!("{canary}: ok\n"), "only the policy that ran is ok");
    let importing = env.write("imports.wat", r#"(module (import "wasi_snapshot_preview1" "fd_write" (func)))"#);
    let (_, err) = env.expect(2, &["check", "--policy", &importing]);
    assert!(err.contains("imports wasi_snapshot_preview1.fd_write; a policy may import nothing"), "{err}");
    let before = env.state();
    env.expect(2, &["promote", "v2", "--policy", &spin, "--policy-timeout", "200ms"]);
    assert_eq!(env.state(), before, "a failing policy stops the change");
    let (_, err) = env.expect(2, &["check"]);
    assert!(err.contains("give at least one --policy"), "{err}");
}

#[test]
fn the_second_run_takes_compiled_code_from_the_cache() {
    let env = Env::new();
    let model = model_policy();
    let (_, err) = env.expect(0, &["check", "--policy", &model]);
    assert!(err.contains(", compiled\n"), "{err}");
    // The compiled module, and (on Unix, the module on the cache's filesystem, older than the run) the
    // module file's sha256, remembered by the file's identity.
    let files = walk(env.cache.path());
    let compiled: Vec<_> = files.iter().filter(|f| f.parent() == Some(&env.cache.path().join("modules"))).collect();
    assert_eq!(compiled.len(), 1, "{files:?}");
    assert!(compiled[0].extension().is_some_and(|e| e == "cwasm"), "{files:?}");
    let memos = files.iter().filter(|f| f.parent() == Some(&env.cache.path().join("sha256"))).count();
    assert!(memos <= 1 && files.len() == 1 + memos, "{files:?}");
    let (_, err) = env.expect(0, &["check", "--policy", &model]);
    assert!(err.contains("compiled code from the cache"), "{err}");
    // A pin is checked on a remembered hash as on a hashed one.
    let sha256 = err.split("sha256:").nth(1).and_then(|s| s.get(..64)).unwrap();
    let (_, err) = env.expect(0, &["check", "--policy", &format!("{model}@sha256:{sha256}")]);
    assert!(err.contains("compiled code from the cache"), "{err}");
    let (_, err) = env.expect(2, &["check", "--policy", &format!("{model}@sha256:{}", "0".repeat(64))]);
    assert!(err.contains(&format!("its sha256 is {sha256}, not the pinned")), "{err}");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
