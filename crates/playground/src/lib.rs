//! The browser playground's build and its static file server, shared by `cargo xtask playground` and the
//! browser tests (`tests/tests/playground.rs`), so both build and serve the page the same way.
//!
//! - [`build`]: installs what is missing (the wasm32 target, `wasm-bindgen-cli` at the exact version of
//!   `wasm-bindgen` in Cargo.lock, Debian's `binaryen` for `wasm-opt`), builds `switchyard-wasm` with the
//!   size-first `wasm` profile, runs `wasm-opt -Oz` and `wasm-bindgen --target web`, and copies `web/` beside
//!   it into `target/playground/`, its JavaScript without whole-line comments and indentation ([`strip_js`]).
//! - [`Server`]: a small HTTP/1.1 server for that directory on 127.0.0.1 (std only): `GET` and `HEAD`, the
//!   right `Content-Type` (`application/wasm` included), nothing outside the root.

mod build;
mod serve;
mod strip;

pub use build::{
    LAZY, MODULES, Sizes, build, build_policy, install_tools, on_demand, output_dir, sizes, target_dir, wasm_imports,
};
pub use serve::{Server, content_type};
pub use strip::strip_js;
