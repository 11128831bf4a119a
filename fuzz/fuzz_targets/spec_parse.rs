//! `Spec::parse` on arbitrary UTF-8: it must never panic, and every diagnostic must point at a line of the
//! input. Run with `cargo +nightly fuzz run spec_parse` from the repository root.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchyard_model::Spec;

fuzz_target!(|source: &str| {
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
