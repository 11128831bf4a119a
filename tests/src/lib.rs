//! Helpers for the end-to-end tests: find the `switchyard` binary and the shared reference data.

#![allow(clippy::unwrap_used)]

pub mod browser;
pub mod docker;
pub mod registry;
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
    let status = Command::new(cargo).current_dir(root()).args(&args).status().unwrap();
    assert!(status.success(), "could not build the switchyard binary");
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from);
    target.join(if release { "release" } else { "debug" }).join("switchyard")
}
