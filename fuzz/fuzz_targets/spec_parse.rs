//! `Spec::parse` on arbitrary UTF-8: it must never panic, and every diagnostic must point at a line of the
//! input; and the spec reader's fast reader must give saphyr-parser's events whenever it reads the text.
//! Run with `cargo +nightly fuzz run spec_parse` from the repository root.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchyard_model::Spec;
use switchyard_yaml as yaml;

fuzz_target!(|source: &str| {
    if let (Some(fast), reference) = yaml::events_both_ways(source) {
        assert_eq!(fast, reference, "{source:?}");
    }
    let lines = source.split('\n').count();
    let diagnostics = match Spec::parse(source, "fuzz.yaml") {
        Ok(valid) => valid.warnings,
        Err(diagnostics) => diagnostics,
    };
    for d in diagnostics.iter().filter(|d| d.is_error()) {
        let loc = d.location.as_ref().expect("every error has a location");
        assert!(loc.line >= 1 && loc.line <= lines && loc.column >= 1, "{d}");
    }
});
