//! Helpers for the end-to-end tests: find the `switchyard` binary and the shared reference data.

#![allow(clippy::unwrap_used)]

pub mod docker;

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

/// The `switchyard` binary of this workspace, built if needed (same profile as the tests).
pub fn switchyard_bin() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo).current_dir(root()).args(["build", "-q", "-p", "switchyard"]).status().unwrap();
    assert!(status.success(), "could not build the switchyard binary");
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from);
    target.join("debug").join("switchyard")
}
