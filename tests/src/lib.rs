//! Helpers for the end-to-end tests: find the `switchyard` binary and the shared reference data.

#![allow(clippy::unwrap_used)]

pub mod browser;
pub mod docker;
pub mod load;
pub mod registry;
pub mod rule_gen;
pub mod traefik;

use std::path::PathBuf;
use std::process::Command;

/// The workspace root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// `../shared/reference/traefik/<rel>`: the reference data beside the checkout (never copied into it).
pub fn reference(rel: &str) -> PathBuf {
    root().join("../shared/reference/traefik").join(rel)
}

/// The `switchyard` binary of this workspace (debug build), built if needed.
pub fn switchyard_bin() -> PathBuf {
    build_switchyard(false)
}

/// The `switchyard` binary, built with `--release` when `release` (for benchmarks).
pub fn build_switchyard(release: bool) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut args = vec!["build", "-q", "-p", "switchyard"];
    if release {
        args.push("--release");
    }
    let mut command = Command::new(cargo);
    command.current_dir(root()).args(&args);
    // What cargo sets for a test it runs describes the test's package; some build scripts (ring's) track these
    // variables, so passing them on would rebuild ring and everything above it here, and again on the next plain
    // `cargo build`.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("CARGO_PKG_")
            || name.starts_with("CARGO_BIN_EXE_")
            || ["CARGO_MANIFEST_DIR", "CARGO_MANIFEST_PATH", "CARGO_CRATE_NAME", "CARGO_PRIMARY_PACKAGE"]
                .contains(&&*name)
            || ["CARGO_TARGET_TMPDIR", "OUT_DIR"].contains(&&*name)
        {
            command.env_remove(&*name);
        }
    }
    let status = command.status().unwrap();
    assert!(status.success(), "could not build the switchyard binary");
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from);
    target.join(if release { "release" } else { "debug" }).join("switchyard")
}
