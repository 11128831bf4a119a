//! The CLI's output on disk is valid Traefik configuration, and every adapter renders the same bytes.

#![allow(clippy::unwrap_used)] // a panic in a test is a failing test

use std::fs;
use std::process::Command;

use switchyard_e2e::{reference, switchyard_bin};
use switchyard_model::directory::SHIPPED_LIST;
use switchyard_model::{EXAMPLE_FILES, EXAMPLE_SPEC};

#[test]
fn every_file_the_cli_writes_validates_and_matches_the_wasm_adapter() {
    let schema: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(reference("schemastore/traefik-v3-file-provider.json")).unwrap())
            .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let bin = switchyard_bin();
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("switchyard.yaml"), EXAMPLE_SPEC).unwrap();
    // The example's own Traefik files (`traefik.files`), beside it as shipped.
    for (name, text) in EXAMPLE_FILES {
        fs::write(dir.path().join(name), text).unwrap();
    }
    let run = |args: &[&str]| {
        let out = Command::new(&bin)
            .current_dir(dir.path())
            .args(["--now", "2026-03-01T12:00:00Z"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let steps: &[&[&str]] = &[
        &["create", "-e", "dev"],
        &["create", "-e", "prod"],
        &["deploy", "-e", "dev", "v1.2.0"],
        &["deploy", "-e", "prod", "v1.2.0"],
        &["observe", "-e", "dev", "v1.2.0", "healthy"],
        &["observe", "-e", "prod", "v1.2.0", "healthy"],
        &["promote", "-e", "dev", "v1.2.0"],
        &["promote", "-e", "prod", "v1.2.0"],
        &["deploy", "-e", "dev", "2.0.0-rc.1+build.7"],
        &["observe", "-e", "dev", "2.0.0-rc.1+build.7", "healthy"],
        &["promote", "-e", "dev", "2.0.0-rc.1+build.7", "--share", "25"],
    ];
    let dynamic = dir.path().join(".switchyard/dynamic");
    for step in steps {
        run(step);
        for entry in fs::read_dir(&dynamic).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                // Files are written there, then renamed into place: nothing may be left in it.
                assert_eq!(path.file_name().unwrap(), ".staging", "no other directory: {path:?}");
                assert_eq!(fs::read_dir(&path).unwrap().count(), 0, "a file was left in {path:?}");
                continue;
            }
            if path.file_name().unwrap() == SHIPPED_LIST {
                // The list of the user's files switchyard put there: Traefik reads no file without an extension.
                continue;
            }
            let ext = path.extension().unwrap().to_string_lossy().into_owned();
            assert_eq!(ext, "yml", "only Traefik files at the top level: {path:?}");
            let text = fs::read_to_string(&path).unwrap();
            assert!(!text.contains("{{"), "{path:?}");
            let value: serde_json::Value = serde_yaml::from_str(&text).unwrap();
            let errors: Vec<String> =
                validator.iter_errors(&value).map(|e| format!("{e} at {}", e.instance_path())).collect();
            assert!(errors.is_empty(), "after {step:?}, {path:?} fails the SchemaStore schema: {errors:#?}\n{text}");
        }
    }

    // The playground's adapter renders the same bytes from the same spec and states.
    let mut states = Vec::new();
    for env in ["dev", "prod"] {
        let text = fs::read_to_string(dir.path().join(format!(".switchyard/state/whoami_{env}.json"))).unwrap();
        states.push(serde_json::from_str::<serde_json::Value>(&text).unwrap());
    }
    let answer: serde_json::Value =
        serde_json::from_str(&switchyard_wasm::render(EXAMPLE_SPEC, &serde_json::to_string(&states).unwrap())).unwrap();
    let out = Command::new(&bin).current_dir(dir.path()).arg("render").output().unwrap();
    assert!(out.status.success());
    assert_eq!(answer["ok"].as_str().unwrap(), String::from_utf8_lossy(&out.stdout));
}
