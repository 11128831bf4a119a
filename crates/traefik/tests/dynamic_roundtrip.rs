//! The typed model against Traefik's own exhaustive samples of the dynamic configuration (`file.yaml` and
//! `file.toml`, v3.7) and its integration-test fixtures, read from the shared reference pack (not copied here).
//!
//! - Both samples load with no structural problem; the only findings are the deprecated v2 options they
//!   contain (SY3005), listed below.
//! - Nothing is lost: the typed model serialised back to JSON equals the document read as generic JSON.
//! - The two samples give equal typed models (their content is identical: same keys, same placeholder values).
//! - The checker and serde agree on the keys: every key path of the sample is in the schema, every schema key
//!   path but `failover.errors` is in the sample, serde accepts a document with every schema key, and an unknown
//!   key anywhere a struct is expected is refused by both.

// Reading the reference pack is what a test harness does; the model itself does no I/O.
#![allow(clippy::disallowed_methods)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use switchyard_traefik::dynamic::schema::{Shape, Ty, key_paths};
use switchyard_traefik::dynamic::source::{self, Format, parse};
use switchyard_traefik::dynamic::{DynamicConfig, Loaded, load};

fn reference_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/traefik")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn sample(name: &str) -> (String, String) {
    (name.to_string(), read(&reference_dir().join("traefik-reference").join(name)))
}

fn load_one(file: &(String, String)) -> Loaded<'static> {
    load(std::slice::from_ref(file)).into_owned()
}

/// The deprecated v2 options in Traefik's v3.7 sample, each reported once as SY3005.
const DEPRECATED_IN_SAMPLE: &[&str] = &[
    "http.middlewares.Middleware07.contentType.autoDetect",
    "http.middlewares.Middleware10.forwardAuth.tls.caOptional",
    "http.middlewares.Middleware12.headers.featurePolicy",
    "http.middlewares.Middleware12.headers.sslForceHost",
    "http.middlewares.Middleware12.headers.sslHost",
    "http.middlewares.Middleware12.headers.sslRedirect",
    "http.middlewares.Middleware12.headers.sslTemporaryRedirect",
    "http.middlewares.Middleware14.ipWhiteList",
    "http.middlewares.Middleware24.stripPrefix.forceSlash",
    "http.routers.Router0.ruleSyntax",
    "http.routers.Router1.ruleSyntax",
    "tcp.middlewares.TCPMiddleware02.ipWhiteList",
    "tcp.routers.TCPRouter0.ruleSyntax",
    "tcp.routers.TCPRouter1.ruleSyntax",
    "tcp.services.TCPService01.loadBalancer.proxyProtocol",
    "tcp.services.TCPService01.loadBalancer.terminationDelay",
    "tls.options.Options0.preferServerCipherSuites",
    "tls.options.Options1.preferServerCipherSuites",
];

#[test]
fn samples_load_with_only_the_deprecations_they_contain() {
    for name in ["file.yaml", "file.toml"] {
        let loaded = load_one(&sample(name));
        let others: Vec<String> =
            loaded.diagnostics.iter().filter(|d| d.code != "SY3005").map(ToString::to_string).collect();
        assert!(others.is_empty(), "{name}:\n{}", others.join("\n"));
        let deprecated: BTreeSet<&str> = loaded.diagnostics.iter().filter_map(|d| d.path.as_deref()).collect();
        assert_eq!(deprecated, DEPRECATED_IN_SAMPLE.iter().copied().collect(), "{name}");
        assert_eq!(loaded.diagnostics.len(), DEPRECATED_IN_SAMPLE.len(), "{name}");
        for d in &loaded.diagnostics {
            let loc = d.location.as_ref().expect("located");
            assert_eq!(loc.file, name);
        }
        assert!(loaded.files[0].accepted);
    }
}

#[test]
fn nothing_is_lost_in_the_typed_model() {
    for (name, format) in [("file.yaml", Format::Yaml), ("file.toml", Format::Toml)] {
        let file = sample(name);
        let original = parse(&file.1, name, format).root.expect("parses").to_json();
        let loaded = load_one(&file);
        let typed = serde_json::to_value(&loaded.config).unwrap();
        assert_eq!(typed, original, "{name}");
        // Every definition has an origin, valid, in this file.
        assert!(loaded.origins.values().all(|o| o.valid && o.file == name));
        assert_eq!(loaded.origins.len(), 2 + 5 + 25 + 2 + 2 + 2 + 3 + 2 + 2 + 2 + 2 + 2 + 2);
    }
}

#[test]
fn the_fast_yaml_reader_reads_the_sample_like_saphyr() {
    let (name, text) = sample("file.yaml");
    let fast = source::parse_yaml_fast(&text, &name).expect("the sample is in the fast reader's subset");
    let reference = source::parse_yaml_reference(&text, &name);
    assert_eq!(fast.root, reference.root);
    assert_eq!(fast.diagnostics, reference.diagnostics);
}

#[test]
fn yaml_and_toml_samples_give_the_same_model() {
    // Traefik's two samples have the same content, down to the placeholder values; there is no difference to
    // document.
    let yaml = load_one(&sample("file.yaml"));
    let toml = load_one(&sample("file.toml"));
    assert_eq!(yaml.config, toml.config);
    // Same definitions, at different places.
    assert_eq!(yaml.origins.keys().collect::<Vec<_>>(), toml.origins.keys().collect::<Vec<_>>());
}

/// Key paths of a JSON document with map keys as `*` and list items as `[]`, guided by the schema to tell
/// maps (names chosen by the user) from structs (Traefik's keys).
fn document_paths(value: &Value, ty: &'static Ty, prefix: &str, out: &mut BTreeSet<String>) {
    match (ty, value) {
        (Ty::Struct(s), Value::Object(map)) => {
            for (k, v) in map {
                let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                out.insert(path.clone());
                match s.fields.iter().find(|f| f.key == k) {
                    Some(f) => document_paths(v, f.ty, &path, out),
                    None => {
                        out.insert(format!("{path} (unknown)"));
                    }
                }
            }
        }
        (Ty::Map(inner), Value::Object(map)) => {
            for v in map.values() {
                document_paths(v, inner, &format!("{prefix}.*"), out);
            }
        }
        (Ty::List(inner), Value::Array(items)) => {
            for v in items {
                document_paths(v, inner, &format!("{prefix}[]"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn schema_keys_are_the_sample_keys() {
    let original = parse(&sample("file.yaml").1, "file.yaml", Format::Yaml).root.unwrap().to_json();
    let mut in_sample = BTreeSet::new();
    document_paths(&original, &DynamicConfig::TY, "", &mut in_sample);
    let in_schema: BTreeSet<String> = key_paths(&DynamicConfig::TY).into_iter().collect();
    let missing_from_schema: Vec<&String> = in_sample.difference(&in_schema).collect();
    assert!(missing_from_schema.is_empty(), "{missing_from_schema:#?}");
    // `failover.errors` is used by Traefik's integration tests (failover_statuscode.toml) but is not in the
    // v3.7 sample.
    let missing_from_sample: Vec<&String> = in_schema.difference(&in_sample).collect();
    assert_eq!(
        missing_from_sample,
        [
            "http.services.*.failover.errors",
            "http.services.*.failover.errors.maxRequestBodyBytes",
            "http.services.*.failover.errors.status",
        ]
    );
}

/// A value of every key of the schema (the first map entry named `n`, lists of one item).
fn full_document(ty: &'static Ty) -> Value {
    match ty {
        Ty::Str => json!("s"),
        Ty::Int => json!(1),
        Ty::Bool => json!(true),
        Ty::Duration => json!("1s"),
        // (Not a null inside: Traefik drops null values, and so does the model.)
        Ty::Any => json!({"any": [1, "x", {"y": "z"}]}),
        Ty::List(inner) => json!([full_document(inner)]),
        Ty::Map(inner) => json!({"n": full_document(inner)}),
        Ty::Struct(s) => Value::Object(s.fields.iter().map(|f| (f.key.to_string(), full_document(f.ty))).collect()),
    }
}

#[test]
fn serde_accepts_every_schema_key_and_the_checker_too() {
    let doc = full_document(&DynamicConfig::TY);
    let typed: DynamicConfig = serde_json::from_value(doc.clone()).expect("serde accepts every schema key");
    assert_eq!(serde_json::to_value(&typed).unwrap(), doc);
    let files = [("full.yaml".to_string(), serde_yaml::to_string(&doc).unwrap())];
    let loaded = load(&files);
    let problems: Vec<String> =
        loaded.diagnostics.iter().filter(|d| d.code != "SY3005").map(ToString::to_string).collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_eq!(serde_json::to_value(&loaded.config).unwrap(), doc);
}

/// JSON pointers of every object of `value` that the schema says is a struct.
fn struct_positions(value: &Value, ty: &'static Ty, pointer: String, out: &mut Vec<(String, Vec<String>)>) {
    fn walk(value: &Value, ty: &'static Ty, pointer: String, keys: Vec<String>, out: &mut Vec<(String, Vec<String>)>) {
        match (ty, value) {
            (Ty::Struct(s), Value::Object(map)) => {
                out.push((pointer.clone(), keys.clone()));
                for (k, v) in map {
                    if let Some(f) = s.fields.iter().find(|f| f.key == k) {
                        let mut keys = keys.clone();
                        keys.push(k.clone());
                        walk(v, f.ty, format!("{pointer}/{k}"), keys, out);
                    }
                }
            }
            (Ty::Map(inner), Value::Object(map)) => {
                for (k, v) in map {
                    let mut keys = keys.clone();
                    keys.push(k.clone());
                    walk(v, inner, format!("{pointer}/{k}"), keys, out);
                }
            }
            (Ty::List(inner), Value::Array(items)) => {
                for (i, v) in items.iter().enumerate() {
                    let mut keys = keys.clone();
                    keys.push(format!("[{i}]"));
                    walk(v, inner, format!("{pointer}/{i}"), keys, out);
                }
            }
            _ => {}
        }
    }
    walk(value, ty, pointer, Vec::new(), out);
}

#[test]
fn an_unknown_key_is_refused_by_both_everywhere() {
    let original = parse(&sample("file.yaml").1, "file.yaml", Format::Yaml).root.unwrap().to_json();
    let mut positions = Vec::new();
    struct_positions(&original, &DynamicConfig::TY, String::new(), &mut positions);
    assert!(positions.len() > 150, "{}", positions.len());
    for (pointer, keys) in positions {
        let mut doc = original.clone();
        let target = if pointer.is_empty() { &mut doc } else { doc.pointer_mut(&pointer).unwrap() };
        target.as_object_mut().unwrap().insert("bogusKey".to_string(), json!("x"));
        assert!(
            serde_json::from_value::<DynamicConfig>(doc.clone()).is_err(),
            "serde accepted an unknown key at {pointer}"
        );
        let files = [("f.yaml".to_string(), serde_yaml::to_string(&doc).unwrap())];
        let loaded = load(&files);
        let unknown: Vec<_> = loaded.diagnostics.iter().filter(|d| d.code == "SY3002").collect();
        assert_eq!(unknown.len(), 1, "at {pointer}: {unknown:?}");
        let mut expected = String::new();
        for k in keys.iter().chain(std::iter::once(&"bogusKey".to_string())) {
            if k.starts_with('[') {
                expected.push_str(k);
            } else {
                if !expected.is_empty() {
                    expected.push('.');
                }
                expected.push_str(k);
            }
        }
        assert_eq!(unknown[0].path.as_deref(), Some(expected.as_str()));
        // At the top level Traefik ignores unknown keys; anywhere else the file is refused.
        assert!(unknown[0].is_error(), "{pointer}");
    }
}

/// The dynamic part of an integration fixture: below `## dynamic configuration ##`, with each Go template
/// action replaced by a plausible address.
fn dynamic_part(source: &str) -> Option<String> {
    let (_, dynamic) = source.split_once("## dynamic configuration ##")?;
    let mut out = String::new();
    let mut rest = dynamic;
    while let Some(start) = rest.find("{{") {
        let end = rest[start..].find("}}").map(|e| start + e + 2).expect("closed action");
        out.push_str(&rest[..start]);
        out.push_str(if rest[..start].ends_with("://") { "10.0.0.1" } else { "http://10.0.0.1:80" });
        rest = &rest[end..];
    }
    out.push_str(rest);
    Some(out)
}

fn fixtures(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> =
        std::fs::read_dir(dir).expect("fixture directory").map(|e| e.expect("directory entry").path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            fixtures(&path, out);
        } else if path.extension().is_some_and(|e| e == "toml") {
            out.push(path);
        }
    }
}

#[test]
fn integration_fixtures_have_no_structural_errors() {
    let mut paths = Vec::new();
    fixtures(&reference_dir().join("integration-fixtures"), &mut paths);
    let mut checked = 0;
    for path in paths {
        let Some(dynamic) = dynamic_part(&read(&path)) else { continue };
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let files = [(name.clone(), dynamic)];
        let loaded = load(&files);
        // Some fixtures write `entrypoints` and `healthcheck`: Traefik ignores case, so these are infos.
        let problems: Vec<String> =
            loaded.diagnostics.iter().filter(|d| d.code != "SY3009").map(ToString::to_string).collect();
        assert!(problems.is_empty(), "{name}:\n{}", problems.join("\n"));
        assert!(loaded.config.http.as_ref().and_then(|h| h.routers.as_ref()).is_some_and(|r| !r.is_empty()));
        checked += 1;
    }
    assert!(checked >= 10, "{checked}");
}

#[test]
fn fixture_spellings_are_normalised() {
    let failover = read(&reference_dir().join("integration-fixtures/failover.toml"));
    let files = [("failover.toml".to_string(), dynamic_part(&failover).unwrap())];
    let loaded = load(&files);
    let info: Vec<_> = loaded.diagnostics.iter().map(|d| (&*d.code, d.path.as_deref().unwrap_or(""))).collect();
    assert_eq!(info, [("SY3009", "http.routers.router1.entryPoints")]);
    let router = &loaded.config.http.as_ref().unwrap().routers.as_ref().unwrap()["router1"];
    assert_eq!(router.entry_points.as_deref(), Some(&["web".to_string()][..]));
    let service = &loaded.config.http.as_ref().unwrap().services.as_ref().unwrap()["failover-service"];
    assert!(service.failover.as_ref().unwrap().health_check.is_some());
}
