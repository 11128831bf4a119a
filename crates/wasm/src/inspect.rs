//! Any Traefik dynamic configuration (feature `inspect`): the validator and the request simulator. A module of
//! its own in the playground, loaded when a panel that needs it is first opened.

use std::collections::BTreeMap;

use switchyard_diagnostics::Diagnostic;
use switchyard_traefik::dynamic::{FileClass, classify, load};
use switchyard_traefik::simulate::http;
use switchyard_traefik::validate::validate_files;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::{Reply, respond};

/// Which Traefik configuration files are read, and in which format: the name Traefik's file provider would see.
const CHECK_NAMES: &str = "the file name must end in .yml, .yaml or .toml: Traefik's file provider ignores other files";

/// The validator's findings for one Traefik dynamic configuration file (YAML or TOML, by the extension of
/// `file`), exactly as `switchyard validate FILE` reports them: `{ ok: true|null, diagnostics }`. `ok` is
/// null when the file name is one Traefik would not read.
#[wasm_bindgen]
pub fn check_traefik(file: &str, text: &str) -> String {
    if matches!(classify(file), FileClass::IgnoredExtension) {
        return respond::<()>(Err(vec![Diagnostic::error("SY0903", CHECK_NAMES).at("file")]));
    }
    respond(Ok((true, validate_files(&[(file.to_string(), text.to_string())]))))
}

/// A request for [`route`], as the page's form has it: lines of `Name: value` headers, `name=value` cookies
/// (separated by `;` or lines) and query parameters (by `&` or lines), down servers or services (by commas,
/// spaces or lines). An empty `entry_point` is any; an empty method or path is `GET` or `/`.
#[derive(serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RouteRequest {
    host: String,
    path: String,
    method: String,
    headers: String,
    query: String,
    cookies: String,
    client_ip: String,
    entry_point: String,
    tls: bool,
    requests: Option<usize>,
    down: String,
}

impl Default for RouteRequest {
    fn default() -> Self {
        RouteRequest {
            host: String::new(),
            path: "/".into(),
            method: "GET".into(),
            headers: String::new(),
            query: String::new(),
            cookies: String::new(),
            client_ip: String::new(),
            entry_point: String::new(),
            tls: false,
            requests: None,
            down: String::new(),
        }
    }
}

/// At most this many simulated requests in one call: a form must not freeze the page.
const MAX_REQUESTS: usize = 100_000;

/// [`http::Route`] and its text.
#[derive(serde::Serialize)]
struct Routed {
    #[serde(flatten)]
    route: http::Route,
    /// What `switchyard route` prints for the same request ([`http::Route::text`]).
    text: String,
}

/// Who answers a request in a Traefik configuration, and how `requests` requests split:
/// `{ ok: { answer, version, split, shares, text }, diagnostics }` ([`switchyard_traefik::simulate::http::Route`]
/// and its text), as `switchyard route` computes and prints it. `config` is the file's text (named `file`: YAML
/// or TOML by its extension), `versions_json` a JSON object from service names to the versions they stand for
/// (the `versions` of `view`; `{}` for any other configuration), `request_json` a [`RouteRequest`], read by
/// [`http::HttpRequest::from_parts`] as the CLI reads its options, `files_json` the other files Traefik reads
/// beside it as `[[name, text], ...]` (the `traefik_files` of `view`; empty for none). A configuration Traefik
/// would refuse gives its errors and no answer, as the CLI refuses it.
#[wasm_bindgen]
pub fn route(file: &str, config: &str, versions_json: &str, request_json: &str, files_json: &str) -> String {
    let run = || -> Reply<Routed> {
        let form: RouteRequest = serde_json::from_str(request_json)
            .map_err(|e| vec![Diagnostic::error("SY0902", format!("the request is not valid: {e}")).at("request")])?;
        let versions: BTreeMap<String, String> = match versions_json.trim() {
            "" => BTreeMap::new(),
            text => serde_json::from_str(text).map_err(|e| {
                vec![Diagnostic::error("SY0902", format!("the versions are not valid: {e}")).at("versions")]
            })?,
        };
        let headers: Vec<&str> = form.headers.split('\n').collect();
        let query: Vec<&str> = form.query.split(['&', '\n']).collect();
        let cookies: Vec<&str> = form.cookies.split([';', '\n']).collect();
        let parts = http::RequestParts {
            method: &form.method,
            host: &form.host,
            path: &form.path,
            headers,
            query,
            cookies,
            client_ip: Some(&form.client_ip),
            entry_point: Some(&form.entry_point),
            tls: form.tls,
        };
        let (req, mut problems) = match http::HttpRequest::from_parts(&parts) {
            Ok(req) => (Some(req), Vec::new()),
            Err(errors) => (
                None,
                errors.iter().map(|e| Diagnostic::error("SY0904", e.message.clone()).at(e.part.name())).collect(),
            ),
        };
        if form.requests.is_some_and(|n| n > MAX_REQUESTS) {
            problems
                .push(Diagnostic::error("SY0904", format!("at most {MAX_REQUESTS} requests at a time")).at("requests"));
        }
        if matches!(classify(file), FileClass::IgnoredExtension) {
            problems.push(Diagnostic::error("SY0903", CHECK_NAMES).at("file"));
        }
        let Some(req) = req.filter(|_| problems.is_empty()) else { return Err(problems) };
        let mut files = vec![(file.to_string(), config.to_string())];
        if !files_json.trim().is_empty() {
            let others: Vec<(String, String)> = serde_json::from_str(files_json)
                .map_err(|e| vec![Diagnostic::error("SY0902", format!("the files are not valid: {e}")).at("files")])?;
            files.extend(others);
        }
        let loaded = load(&files);
        if loaded.has_errors() {
            return Err(loaded.diagnostics.iter().filter(|d| d.is_error()).cloned().collect());
        }
        let down = form.down.split([',', ' ', '\n']).filter(|d| !d.is_empty()).map(str::to_string).collect();
        let route = http::route(&loaded.config, &req, form.requests, &down, &versions);
        Ok((Routed { text: route.text(&req), route }, Vec::new()))
    };
    respond(run())
}

#[cfg(all(test, feature = "workflow"))]
mod tests {
    #[test]
    fn the_example_answers_over_tls_and_bad_inputs_are_diagnostics() {
        let spec = crate::example_spec();
        let mut states = String::from("[]");
        for (i, req) in [
            r#"{"change":"create"}"#,
            r#"{"change":"deploy","version":"v1.2.0"}"#,
            r#"{"change":"observe_health","version":"v1.2.0","status":"healthy"}"#,
            r#"{"change":"promote","version":"v1.2.0","share":100}"#,
        ]
        .iter()
        .enumerate()
        {
            let a: serde_json::Value =
                serde_json::from_str(&crate::apply(&spec, &states, "whoami", "dev", req, 60 * i as u64)).unwrap();
            states = a["ok"]["states"].to_string();
        }
        let view: serde_json::Value = serde_json::from_str(&crate::view(&spec, &states, "whoami", "dev")).unwrap();
        let ok = &view["ok"];
        let r = super::route(
            ok["file"].as_str().unwrap(),
            ok["config"].as_str().unwrap(),
            &ok["versions"].to_string(),
            r#"{"host":"whoami.dev.example.com","requests":100}"#,
            &ok["traefik_files"].to_string(),
        );
        let r: serde_json::Value = serde_json::from_str(&r).unwrap();
        // The example's routers serve TLS only: over plain HTTP nothing matches, and the note says so.
        assert_eq!(r["ok"]["answer"]["status"], 404);
        assert_eq!(r["ok"]["answer"]["notes"][0], "router whoami_dev_prod_web would match over TLS");
        let tls = super::route(
            ok["file"].as_str().unwrap(),
            ok["config"].as_str().unwrap(),
            &ok["versions"].to_string(),
            r#"{"host":"whoami.dev.example.com","tls":true,"requests":100}"#,
            &ok["traefik_files"].to_string(),
        );
        let tls: serde_json::Value = serde_json::from_str(&tls).unwrap();
        assert_eq!(tls["ok"]["version"], "whoami/dev v1.2.0 (web), blue slot");
        // The text `switchyard route` prints for the same request.
        let text = tls["ok"]["text"].as_str().unwrap();
        assert!(text.starts_with("GET https://whoami.dev.example.com/\n  router   whoami_dev_prod_web "), "{text}");
        assert!(text.contains("\n  note: version whoami/dev v1.2.0 (web), blue slot\nover 100 requests "), "{text}");
        assert_eq!(tls["ok"]["shares"][0]["count"], 100);
        // Without the example's file that defines the middleware its routers name, Traefik disables them.
        let alone = super::route(
            ok["file"].as_str().unwrap(),
            ok["config"].as_str().unwrap(),
            &ok["versions"].to_string(),
            r#"{"host":"whoami.dev.example.com","tls":true}"#,
            "",
        );
        let alone: serde_json::Value = serde_json::from_str(&alone).unwrap();
        assert_eq!(alone["ok"]["answer"]["status"], 404);
        assert_eq!(alone["ok"]["answer"]["disabled"][0]["router"], "whoami_dev_prod_web");
        let bad: serde_json::Value = serde_json::from_str(&super::route("x.json", "", "{}", "{}", "")).unwrap();
        assert_eq!(bad["ok"], serde_json::Value::Null);
        let codes: Vec<&str> =
            bad["diagnostics"].as_array().unwrap().iter().filter_map(|d| d["code"].as_str()).collect();
        assert_eq!(codes, ["SY0904", "SY0903"]);
    }
}
