//! `dynamic::load` on arbitrary UTF-8, read both as a YAML and as a TOML file: it must never panic or hang, every
//! diagnostic must point at a line of the input, and whenever the fast YAML reader accepts the input it must read
//! it exactly as saphyr-parser does. Run with `cargo +nightly fuzz run dynamic_config` from the repository root.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchyard_traefik::dynamic::{self, source};

fuzz_target!(|text: &str| {
    let lines = text.split('\n').count();
    let files = [("f.yaml".to_string(), text.to_string()), ("f.toml".to_string(), text.to_string())];
    let loaded = dynamic::load(&files);
    for d in &loaded.diagnostics {
        if let Some(loc) = &d.location {
            assert!(loc.line >= 1 && loc.line <= lines && loc.column >= 1, "{d}");
        }
    }
    // The model serialises (what the CLI prints with --json).
    let _ = serde_json::to_string(&loaded.config).expect("serialisable");
    if let Some(fast) = source::parse_yaml_fast(text, "f.yaml") {
        let reference = source::parse_yaml_reference(text, "f.yaml");
        // Debug output, so that NaN equals NaN.
        assert_eq!(format!("{:?}", fast.root), format!("{:?}", reference.root), "{text:?}");
        assert_eq!(fast.diagnostics, reference.diagnostics, "{text:?}");
    }
});
