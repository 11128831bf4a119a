//! Building the playground: the wasm module through wasm-opt and wasm-bindgen, and the page beside it.
//! Progress goes to stderr, each command as it runs.

#![allow(clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::SystemTime;

/// What wasm-opt is told the module may use: what rustc's wasm32 target emits by default and wasm-bindgen
/// keeps (every one of them is supported by current browsers).
const WASM_FEATURES: &[&str] = &[
    "--enable-bulk-memory",
    "--enable-mutable-globals",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-reference-types",
    "--enable-multivalue",
];

/// The files of `web/` that are not part of the page.
const NOT_SERVED: &[&str] = &["README.md"];

/// Cargo's target directory for the workspace at `root`.
pub fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from)
}

/// Where the built page goes: `target/playground`.
pub fn output_dir(root: &Path) -> PathBuf {
    target_dir(root).join("playground")
}

fn run(program: &str, args: &[&str], dir: &Path) -> Result<(), String> {
    eprintln!("$ {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .current_dir(dir)
        .status()
        .map_err(|e| format!("could not run {program}: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("`{program} {}` failed with {status}", args.join(" "))) }
}

fn output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).stderr(Stdio::null()).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// The version of `package` in Cargo.lock.
fn locked_version(root: &Path, package: &str) -> Result<String, String> {
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).map_err(|e| format!("Cargo.lock: {e}"))?;
    let wanted = format!("name = \"{package}\"");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == wanted
            && let Some(version) = lines.next().and_then(|l| l.strip_prefix("version = \""))
        {
            return Ok(version.trim_end_matches('"').to_string());
        }
    }
    Err(format!("{package} is not in Cargo.lock"))
}

/// Installs what the build needs and is missing: the wasm32 target, wasm-bindgen-cli at the version of
/// Cargo.lock (the two must match exactly), wasm-opt from Debian's binaryen.
pub fn install_tools(root: &Path) -> Result<(), String> {
    let targets = output("rustup", &["target", "list", "--installed"]).unwrap_or_default();
    if !targets.lines().any(|t| t.trim() == "wasm32-unknown-unknown") {
        run("rustup", &["target", "add", "wasm32-unknown-unknown"], root)?;
    }
    let version = locked_version(root, "wasm-bindgen")?;
    let installed = output("wasm-bindgen", &["--version"]).unwrap_or_default();
    if installed.split_whitespace().nth(1) != Some(version.as_str()) {
        // Not `--locked`: the CLI's own lock file does not resolve with this toolchain.
        run(&cargo(), &["install", "wasm-bindgen-cli", "--version", &version], root)?;
    }
    if output("wasm-opt", &["--version"]).is_none() {
        run("apt-get", &["update", "-q"], root)?;
        run("apt-get", &["install", "-y", "-q", "binaryen"], root)?;
    }
    Ok(())
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The wasm modules of the page: (name under `pkg/`, the features of `switchyard-wasm` it is built with).
/// `switchyard_wasm` is loaded with the page; `switchyard_inspect` (the validator and the request simulator)
/// only when a panel that needs it is first opened.
pub const MODULES: &[(&str, &str)] =
    &[("switchyard_wasm", "workflow"), ("switchyard_inspect", "inspect,policy,diff,replay")];

/// Builds the playground into [`output_dir`] and returns that directory. Cheap when nothing changed: cargo
/// decides whether a module is rebuilt, wasm-bindgen and wasm-opt run only on a newer module, and the page's
/// files are copied again.
pub fn build(root: &Path) -> Result<PathBuf, String> {
    install_tools(root)?;
    let out = output_dir(root);
    let pkg = out.join("pkg");
    std::fs::create_dir_all(&pkg).map_err(|e| format!("{}: {e}", pkg.display()))?;
    let built = target_dir(root).join("wasm32-unknown-unknown/wasm/switchyard_wasm.wasm");
    let work = target_dir(root).join("playground-opt");
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    for (name, features) in MODULES {
        // Each feature set is built in turn; cargo keeps both builds, and copying the module aside (cargo's
        // output name is the same for both) keeps its time stamp for the freshness check.
        run(
            &cargo(),
            &[
                "build",
                "-p",
                "switchyard-wasm",
                "--target",
                "wasm32-unknown-unknown",
                "--profile",
                "wasm",
                "--no-default-features",
                "--features",
                features,
            ],
            root,
        )?;
        let module = work.join(format!("{name}.built.wasm"));
        let same = std::fs::read(&built).ok().zip(std::fs::read(&module).ok()).is_some_and(|(a, b)| a == b);
        if !same {
            std::fs::copy(&built, &module).map_err(|e| format!("{}: {e}", module.display()))?;
        }
        let glue = pkg.join(format!("{name}.js"));
        let fresh = match (modified(&module), modified(&glue)) {
            (Some(m), Some(g)) => g >= m && pkg.join(format!("{name}_bg.wasm")).exists(),
            _ => false,
        };
        if fresh {
            continue;
        }
        // wasm-opt runs before wasm-bindgen: Debian's binaryen (108) writes the externref table wasm-bindgen
        // adds as `anyref`, which browsers refuse; optimising first leaves that table to wasm-bindgen.
        let optimised = work.join(format!("{name}.wasm"));
        let (input, output) = (module.to_string_lossy(), optimised.to_string_lossy());
        // `--low-memory-unused` lets wasm-opt fold `x + c` (c < 1024) into a load's offset, which differs only
        // when the sum wraps past 4 GiB into the first KiB: Rust never addresses it (the first KiB is the far
        // end of the 1 MiB stack, which rustc places first). 4 KB gzipped off the page's module.
        let mut args = vec!["-Oz", "--converge", "--low-memory-unused", "--strip-debug", "--strip-producers"];
        args.extend(WASM_FEATURES);
        args.extend(["-o", &output, &input]);
        run("wasm-opt", &args, root)?;
        for stale in [glue.clone(), pkg.join(format!("{name}_bg.wasm"))] {
            if stale.exists() {
                std::fs::remove_file(&stale).map_err(|e| format!("{}: {e}", stale.display()))?;
            }
        }
        let pkg_dir = pkg.to_string_lossy();
        run(
            "wasm-bindgen",
            &["--target", "web", "--no-typescript", "--out-name", name, "--out-dir", &pkg_dir, &output],
            root,
        )?;
    }
    build_policies(root, &out.join("policies"))?;
    let web = root.join("web");
    let entries = std::fs::read_dir(&web).map_err(|e| format!("{}: {e}", web.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| e.to_string())?;
        let name = entry.file_name();
        if entry.path().is_file() && !NOT_SERVED.iter().any(|n| name == *n) {
            serve(&entry.path(), &out.join(&name))?;
        }
    }
    // wasm-bindgen's glue, stripped in place (again when it was not rebuilt: stripping twice changes nothing).
    for (name, _) in MODULES {
        let glue = pkg.join(format!("{name}.js"));
        serve(&glue, &glue)?;
    }
    Ok(out)
}

/// Copies a file of the page to where it is served: JavaScript without what only its readers need
/// ([`crate::strip::strip_js`]).
fn serve(from: &Path, to: &Path) -> Result<(), String> {
    let failed = |e: std::io::Error| format!("{}: {e}", from.display());
    if from.extension().is_some_and(|e| e == "js") {
        let text = std::fs::read_to_string(from).map_err(failed)?;
        if let Some(stripped) = crate::strip::strip_js(&text) {
            return std::fs::write(to, stripped).map_err(|e| format!("{}: {e}", to.display()));
        }
    }
    if from != to {
        std::fs::copy(from, to).map_err(failed)?;
    }
    Ok(())
}

/// The model's own checks as a policy module (ABI v1, docs/policy-abi.md): `crates/policy` built for
/// wasm32-unknown-unknown (profile `policy`, for speed), checked to import nothing, copied to
/// `target/policies/switchyard-model.wasm`. Returns that path.
pub fn build_policy(root: &Path) -> Result<PathBuf, String> {
    run(
        &cargo(),
        &["build", "-p", "switchyard-policy", "--target", "wasm32-unknown-unknown", "--profile", "policy"],
        root,
    )?;
    let target = target_dir(root);
    let built = target.join("wasm32-unknown-unknown/policy/switchyard_policy.wasm");
    let bytes = std::fs::read(&built).map_err(|e| format!("{}: {e}", built.display()))?;
    let imports = wasm_imports(&bytes).map_err(|e| format!("{} is not a WebAssembly module: {e}", built.display()))?;
    if imports > 0 {
        return Err(format!(
            "{} imports {imports} item(s); a policy must import nothing (docs/policy-abi.md)",
            built.display()
        ));
    }
    let dir = target.join("policies");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let module = dir.join("switchyard-model.wasm");
    if std::fs::read(&module).ok().as_deref() != Some(bytes.as_slice()) {
        std::fs::write(&module, &bytes).map_err(|e| format!("{}: {e}", module.display()))?;
    }
    Ok(module)
}

/// How many imports a module declares (its import section's count), read without a parser crate.
pub fn wasm_imports(bytes: &[u8]) -> Result<u64, String> {
    fn leb(bytes: &[u8], at: &mut usize) -> Result<u64, String> {
        let (mut value, mut shift) = (0u64, 0);
        loop {
            let byte = *bytes.get(*at).ok_or("truncated")?;
            *at += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
            shift += 7;
            if shift > 63 {
                return Err("a number is too long".into());
            }
        }
    }
    if bytes.get(..8) != Some(b"\0asm\x01\0\0\0".as_slice()) {
        return Err("no WebAssembly 1.0 header".into());
    }
    let mut at = 8;
    while at < bytes.len() {
        let id = bytes[at];
        at += 1;
        let size = usize::try_from(leb(bytes, &mut at)?).map_err(|e| e.to_string())?;
        if id == 2 {
            let mut inner = at;
            return leb(bytes, &mut inner);
        }
        at = at.checked_add(size).ok_or("a section runs past the end")?;
    }
    Ok(0)
}

/// The policies the page offers (`policies/` beside it): the model's own checks, and every example of
/// `examples/policies/` written in the text format, compiled to the binary format a browser loads.
fn build_policies(root: &Path, dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let model = build_policy(root)?;
    std::fs::copy(&model, dir.join("switchyard-model.wasm")).map_err(|e| format!("{}: {e}", model.display()))?;
    let examples = root.join("examples/policies");
    let entries = std::fs::read_dir(&examples).map_err(|e| format!("{}: {e}", examples.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.extension().is_none_or(|e| e != "wat") {
            continue;
        }
        let binary = wat::parse_file(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let name = path.with_extension("wasm");
        let name = name.file_name().ok_or_else(|| format!("{}: no file name", path.display()))?;
        std::fs::write(dir.join(name), binary).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    Ok(())
}

/// The files loaded on demand (the validator and simulator's module and their panels' code, the Policies
/// panel's code and modules, the share link's code): not part of the page's first load.
pub const LAZY: &[&str] = &[
    "pkg/switchyard_inspect",
    "who.js",
    "check.js",
    "policies/",
    "policies.js",
    "policy-host.js",
    "policy-worker.js",
    "share.js",
    "rollout.js",
];

/// Whether the page loads `name` (a path under the output directory) only on demand.
pub fn on_demand(name: &str) -> bool {
    LAZY.iter().any(|prefix| name.starts_with(prefix))
}

/// The size of every file the page loads: (path under the output directory, bytes, bytes after `gzip -9`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sizes {
    pub files: Vec<(String, u64, u64)>,
}

impl Sizes {
    /// Everything: the first load and the module loaded on demand. (bytes, gzipped bytes)
    pub fn total(&self) -> (u64, u64) {
        self.sum(|_| true)
    }

    /// What the page loads before it shows anything: all but the module loaded on demand.
    pub fn initial(&self) -> (u64, u64) {
        self.sum(|name| !on_demand(name))
    }

    fn sum(&self, keep: impl Fn(&str) -> bool) -> (u64, u64) {
        self.files.iter().filter(|(name, ..)| keep(name)).fold((0, 0), |(r, g), (_, raw, gz)| (r + raw, g + gz))
    }
}

impl std::fmt::Display for Sizes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (file, raw, gz) in &self.files {
            let when = if on_demand(file) { "  (on demand)" } else { "" };
            writeln!(f, "{file:<32} {raw:>9} B  {gz:>8} B gzip -9{when}")?;
        }
        for (what, (raw, gz)) in [("first load", self.initial()), ("total", self.total())] {
            writeln!(f, "{what:<32} {raw:>9} B  {gz:>8} B gzip -9 ({:.1} KiB)", gz as f64 / 1024.0)?;
        }
        Ok(())
    }
}

/// Sizes of every file under `dir` (the page loads all of them), gzipped by `gzip -9`.
pub fn sizes(dir: &Path) -> Result<Sizes, String> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).map_err(|e| format!("{}: {e}", d.display()))? {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let raw = std::fs::metadata(&path).map_err(|e| e.to_string())?.len();
            let out = Command::new("gzip")
                .args(["-9", "-c"])
                .stdin(std::fs::File::open(&path).map_err(|e| e.to_string())?)
                .output()
                .map_err(|e| format!("could not run gzip: {e}"))?;
            let name = path.strip_prefix(dir).unwrap_or(&path).to_string_lossy().into_owned();
            files.push((name, raw, out.stdout.len() as u64));
        }
    }
    files.sort();
    Ok(Sizes { files })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_wasm_bindgen_version_comes_from_the_lock_file() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let version = super::locked_version(&root, "wasm-bindgen").unwrap();
        assert!(version.starts_with("0.2."), "{version}");
    }
}
