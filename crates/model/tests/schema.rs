//! Schemas: every configuration the fixtures produce validates against SchemaStore's schema of Traefik v3's
//! file provider (the closest thing Traefik has to a validator), and the committed spec schema
//! `switchyard.schema.json` is what the model generates.

// This file reads the reference schema and the committed spec schema, and `SWITCHYARD_BLESS=1` rewrites the
// latter: test harness I/O, not the model's.
#![allow(clippy::disallowed_methods)]

mod common;

use common::{Fixture, manifest_dir, run, schema_errors, traefik_validator};
use switchyard_model::EXAMPLE_SPEC;

#[test]
fn every_fixture_config_validates_against_the_traefik_schema() {
    let validator = traefik_validator();
    let mut checked = 0;
    insta::glob!("inputs/*.yaml", |path| {
        let name = path.file_name().and_then(|n| n.to_str()).expect("a UTF-8 file name");
        if name.starts_with("err_") {
            return;
        }
        let fixture = Fixture::load(path);
        for (i, config) in run(&fixture, name).configs.iter().enumerate() {
            let errors = schema_errors(&validator, config);
            assert!(errors.is_empty(), "{name}: configuration {i} does not validate: {errors:#?}");
            checked += 1;
        }
    });
    assert!(checked > 20, "only {checked} configurations checked");
}

#[test]
fn the_traefik_schema_catches_what_users_get_wrong() {
    // The validator is only worth something if it refuses the failures users hit, listed below. (It does not
    // catch the v2 name `ipWhiteList` in a v3 file: SchemaStore's middleware definitions allow it.)
    let validator = traefik_validator();
    for bad in [
        r#"{"http": {"routers": {"r": {"rule": "Host(`a`)", "service": "s", "entryPoints": "websecure"}}}}"#,
        r#"{"http": {"services": {"s": {"weighted": {"services": [{"name": "a", "weight": "x"}]}}}}}"#,
        r#"{"htpp": {"routers": {}}}"#,
    ] {
        let value: serde_json::Value = serde_json::from_str(bad).expect("JSON");
        assert!(!validator.is_valid(&value), "the schema accepts {bad}");
    }
}

fn committed_schema_path() -> std::path::PathBuf {
    manifest_dir().join("../../switchyard.schema.json")
}

#[test]
fn spec_schema_is_fresh() {
    let generated = switchyard_model::spec::json_schema();
    let path = committed_schema_path();
    if std::env::var_os("SWITCHYARD_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &generated).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        committed == generated,
        "switchyard.schema.json is stale; regenerate it with `SWITCHYARD_BLESS=1 cargo test -p switchyard-model --test schema`\n{}",
        switchyard_model::view::unified_diff(&committed, &generated, "committed", "generated")
    );
}

fn spec_validator() -> jsonschema::Validator {
    let text = std::fs::read_to_string(committed_schema_path()).expect("switchyard.schema.json exists");
    let schema: serde_json::Value = serde_json::from_str(&text).expect("the spec schema is JSON");
    jsonschema::validator_for(&schema).expect("the spec schema compiles")
}

fn yaml_to_json(source: &str) -> serde_json::Value {
    serde_yaml::from_str(source).expect("YAML that maps to JSON")
}

#[test]
fn example_spec_validates_against_the_spec_schema() {
    let validator = spec_validator();
    let example = yaml_to_json(EXAMPLE_SPEC);
    let errors: Vec<String> = validator.iter_errors(&example).map(|e| format!("{}: {e}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn spec_schema_refuses_what_the_parser_refuses() {
    // Unknown keys, wrong types and bad durations: editors flag the same mistakes the parser does.
    let validator = spec_validator();
    for fixture in ["err_unknown_key.yaml", "err_wrong_type.yaml", "err_port_type.yaml"] {
        let f = Fixture::load(&manifest_dir().join("tests/inputs").join(fixture));
        assert!(!validator.is_valid(&yaml_to_json(f.spec_source())), "{fixture} passes the spec schema");
    }
    let bad_duration = EXAMPLE_SPEC.replace("interval: 10s", "interval: 10 seconds");
    assert!(!validator.is_valid(&yaml_to_json(&bad_duration)));
}
