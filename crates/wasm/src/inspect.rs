//! Any Traefik dynamic configuration (feature `inspect`): the validator and the request simulator. A module of
//! its own in the playground, loaded when a panel that needs it is first opened.

use std::collections::BTreeMap;

use switchyard_diagnostics::Diagnostic;
use switchyard_traefik::dynamic::{FileClass, classify, load};
use switchyard_traefik::rules::Request;
use switchyard_traefik::simulate::http;
use switchyard_traefik::validate::validate_files;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::{Outcome, respond};

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
/// spaces or lines). An empty `entry_point` is any.
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

/// `NAME<sep>VALUE` items (blank ones skipped), trimmed, as `switchyard route` reads `--header`, `--query` and
/// `--cookie`; a diagnostic for each item without a name.
fn pairs(text: &str, separators: &[char], sep: char, what: &str, out: &mut Vec<Diagnostic>) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for item in text.split(separators).map(str::trim).filter(|i| !i.is_empty()) {
        match item.split_once(sep) {
            Some((k, v)) if !k.trim().is_empty() => found.push((k.trim().to_string(), v.trim().to_string())),
            _ => out.push(
                Diagnostic::error("SY0904", format!("{what} {item:?}: write it as NAME{sep}VALUE"))
                    .at(what.to_string()),
            ),
        }
    }
    found
}

/// Who answers a request in a Traefik configuration, and how `requests` requests split:
/// `{ ok: { answer, version, split, shares }, diagnostics }` ([`switchyard_traefik::simulate::http::Route`]),
/// as `switchyard route --json` computes it. `config` is the file's text (named `file`: YAML or TOML by its
/// extension), `versions_json` a JSON object from service names to the versions they stand for (the
/// `versions` of [`view`]; `{}` for any other configuration), `request_json` a [`RouteRequest`]. A
/// configuration Traefik would refuse gives its errors and no answer, as the CLI refuses it.
#[wasm_bindgen]
pub fn route(file: &str, config: &str, versions_json: &str, request_json: &str) -> String {
    let run = || -> Outcome<http::Route> {
        let form: RouteRequest = serde_json::from_str(request_json)
            .map_err(|e| vec![Diagnostic::error("SY0902", format!("the request is not valid: {e}")).at("request")])?;
        let versions: BTreeMap<String, String> = match versions_json.trim() {
            "" => BTreeMap::new(),
            text => serde_json::from_str(text).map_err(|e| {
                vec![Diagnostic::error("SY0902", format!("the versions are not valid: {e}")).at("versions")]
            })?,
        };
        let mut problems = Vec::new();
        if form.host.trim().is_empty() {
            problems.push(Diagnostic::error("SY0904", "the request needs a host").at("host"));
        }
        let mut request = Request::new(&form.method, form.host.trim(), &form.path);
        for (name, value) in pairs(&form.headers, &['\n'], ':', "header", &mut problems) {
            request = request.header(&name, &value);
        }
        for (name, value) in pairs(&form.query, &['&', '\n'], '=', "query", &mut problems) {
            request = request.query(&name, &value);
        }
        let cookies = pairs(&form.cookies, &[';', '\n'], '=', "cookie", &mut problems).into_iter().collect();
        match form.client_ip.trim() {
            "" => {}
            ip => match ip.parse() {
                Ok(ip) => request = request.client_ip(ip),
                Err(_) => problems.push(
                    Diagnostic::error("SY0904", format!("client IP {ip:?} is not an IP address")).at("client_ip"),
                ),
            },
        }
        if form.requests.is_some_and(|n| n > MAX_REQUESTS) {
            problems
                .push(Diagnostic::error("SY0904", format!("at most {MAX_REQUESTS} requests at a time")).at("requests"));
        }
        if matches!(classify(file), FileClass::IgnoredExtension) {
            problems.push(Diagnostic::error("SY0903", CHECK_NAMES).at("file"));
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let files = [(file.to_string(), config.to_string())];
        let loaded = load(&files);
        if loaded.has_errors() {
            return Err(loaded.diagnostics.iter().filter(|d| d.is_error()).cloned().collect());
        }
        let entry_point = Some(form.entry_point.trim()).filter(|e| !e.is_empty()).map(str::to_string);
        let req = http::HttpRequest { entry_point, tls: form.tls, request, cookies };
        let down = form.down.split([',', ' ', '\n']).filter(|d| !d.is_empty()).map(str::to_string).collect();
        Ok((http::route(&loaded.config, &req, form.requests, &down, &versions), Vec::new()))
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
        );
        let tls: serde_json::Value = serde_json::from_str(&tls).unwrap();
        assert_eq!(tls["ok"]["version"], "whoami/dev v1.2.0 (web), blue slot");
        assert_eq!(tls["ok"]["shares"][0]["count"], 100);
        let bad: serde_json::Value = serde_json::from_str(&super::route("x.json", "", "{}", "{}")).unwrap();
        assert_eq!(bad["ok"], serde_json::Value::Null);
        let codes: Vec<&str> =
            bad["diagnostics"].as_array().unwrap().iter().filter_map(|d| d["code"].as_str()).collect();
        assert_eq!(codes, ["SY0904", "SY0903"]);
    }
}
