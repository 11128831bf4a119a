//! Snapshot tests: every fixture in `tests/inputs/` (format in `common/mod.rs`) runs through the model and its
//! transcript is compared with `tests/snapshots/`. Files named `err_*` hold specs that must be refused: their
//! snapshot is the diagnostics, each with file:line:col, key path and hints.

mod common;

use common::{Fixture, join, run};

#[test]
fn fixtures() {
    insta::glob!("inputs/*.yaml", |path| {
        let fixture = Fixture::load(path);
        let name = path.file_name().and_then(|n| n.to_str()).expect("a UTF-8 file name");
        if name.starts_with("err_") {
            assert!(fixture.requests.is_empty(), "{name}: an err_ fixture has no requests");
            let diagnostics = match fixture.parse() {
                Ok(_) => panic!("{name}: the spec was accepted but must be refused"),
                Err(d) => d,
            };
            assert!(diagnostics.iter().any(|d| d.is_error()), "{name}: refused without an error");
            for d in &diagnostics {
                let loc = d.location.as_ref().unwrap_or_else(|| panic!("{name}: no location on {d}"));
                assert_eq!(loc.file, "switchyard.yaml");
            }
            insta::assert_snapshot!(join(&diagnostics));
        } else {
            insta::assert_snapshot!(run(&fixture, name).text);
        }
    });
}
