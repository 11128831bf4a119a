//! The structural checks of Traefik dynamic configuration files, one code at a time, in YAML and TOML: code,
//! severity, line, column, key path and hint. Then snapshots of whole bad files, all problems at once.

use switchyard_diagnostics::Diagnostic;
use switchyard_traefik::dynamic::{Loaded, Section, load};

fn load_one(name: &str, source: &str) -> Loaded<'static> {
    load(&[(name.to_string(), source.to_string())]).into_owned()
}

/// The only diagnostic of a file.
fn only(name: &str, source: &str) -> Diagnostic {
    let loaded = load_one(name, source);
    assert_eq!(loaded.diagnostics.len(), 1, "{:#?}", loaded.diagnostics);
    loaded.diagnostics[0].clone()
}

#[track_caller]
fn assert_diag(d: &Diagnostic, code: &str, error: bool, at: (usize, usize), path: &str, hint: &str) {
    assert_eq!(d.code, code, "{d}");
    assert_eq!(d.is_error(), error, "{d}");
    let loc = d.location.as_ref().expect("located");
    assert_eq!((loc.line, loc.column), at, "{d}");
    assert_eq!(d.path.as_deref().unwrap_or(""), path, "{d}");
    if !hint.is_empty() {
        assert!(d.hints.iter().any(|h| h.contains(hint)), "no hint containing {hint:?} in {d}");
    }
}

fn render(loaded: &Loaded<'_>) -> String {
    loaded.diagnostics.iter().map(|d| format!("{d}\n")).collect()
}

// --- SY3001: syntax ---------------------------------------------------------------------------------------------

#[test]
fn syntax_errors_refuse_the_file() {
    let loaded = load_one("a.yaml", "http:\n  routers:\n    web: {rule: x\n");
    assert_eq!(loaded.diagnostics[0].code, "SY3001");
    assert!(loaded.diagnostics[0].is_error());
    assert!(loaded.files[0].root.is_none() && !loaded.files[0].accepted);
    assert_eq!(loaded.config, Default::default());

    let d = only("a.toml", "[http.routers.web]\nrule = \"x\"\nrule = \"y\"\n");
    assert_diag(&d, "SY3001", true, (3, 1), "", "keeps its previous configuration");
}

// --- SY3002: unknown keys ---------------------------------------------------------------------------------------

#[test]
fn unknown_key_with_did_you_mean() {
    let yaml = "http:\n  routers:\n    web:\n      rule: Host(`a`)\n      servce: api\n";
    let d = only("a.yaml", yaml);
    assert_diag(&d, "SY3002", true, (5, 7), "http.routers.web.servce", "did you mean `service`?");

    let toml = "[http.routers.web]\nrule = \"Host(`a`)\"\nservce = \"api\"\n";
    let d = only("a.toml", toml);
    assert_diag(&d, "SY3002", true, (3, 1), "http.routers.web.servce", "did you mean `service`?");
}

#[test]
fn unknown_key_that_belongs_one_level_down() {
    let d = only("a.yaml", "http:\n  routers:\n    web:\n      service: api\n      certResolver: le\n");
    assert_diag(
        &d,
        "SY3002",
        true,
        (5, 7),
        "http.routers.web.certResolver",
        "belongs inside `tls`: `tls.certResolver`",
    );
}

#[test]
fn unknown_middleware_kind_mentions_plugins() {
    let d = only("a.yaml", "http:\n  middlewares:\n    m:\n      crowdsec: {enabled: true}\n");
    assert_diag(&d, "SY3002", true, (4, 7), "http.middlewares.m.crowdsec", "configure it under `plugin`");
}

#[test]
fn unknown_top_level_keys() {
    // Traefik ignores unknown top-level keys: static configuration there is a warning, anything else an error
    // (nothing under it is ever loaded).
    let d = only("a.yaml", "entryPoints:\n  web: {address: \":80\"}\n");
    assert_diag(&d, "SY3002", false, (1, 1), "entryPoints", "static configuration");
    let d = only("a.yaml", "htpp:\n  routers: {}\n");
    assert_diag(&d, "SY3002", true, (1, 1), "htpp", "did you mean `http`?");
    let d = only("a.toml", "[routers.web]\nrule = \"x\"\n");
    assert_diag(&d, "SY3002", true, (1, 2), "routers", "goes under `http`");
}

// --- SY3003: types ----------------------------------------------------------------------------------------------

#[test]
fn a_string_where_a_list_is_wanted() {
    // Traefik reads it as the list, split at commas: a style warning, not an error (the differential suite
    // shows Traefik enabling such a router on both entry points).
    let d = only("a.yaml", "http:\n  routers:\n    web:\n      entryPoints: websecure\n");
    assert_diag(&d, "SY3003", false, (4, 20), "http.routers.web.entryPoints", "`entryPoints: [websecure]`");
    let d = only("a.toml", "[http.routers.web]\nentryPoints = \"websecure\"\n");
    assert_diag(&d, "SY3003", false, (2, 15), "http.routers.web.entryPoints", "`entryPoints = [\"websecure\"]`");
    let loaded = load_one("a.yaml", "http:\n  routers:\n    web:\n      entryPoints: web,websecure\n");
    let router = &loaded.config.http.as_ref().unwrap().routers.as_ref().unwrap()["web"];
    assert_eq!(router.entry_points.as_deref(), Some(&["web".to_string(), "websecure".to_string()][..]));
}

#[test]
fn values_go_refuses() {
    let src = "http:\n  routers:\n    web:\n      priority: high\n  services:\n    api:\n      loadBalancer:\n        \
               passHostHeader: yes\n        healthCheck: {path: /, interval: 10 s}\n        servers:\n          - \
               {url: 'http://a', weight: 2.5}\n";
    let loaded = load_one("a.yaml", src);
    let got: Vec<_> = loaded
        .diagnostics
        .iter()
        .map(|d| (&*d.code, d.path.clone().unwrap_or_default(), d.location.as_ref().map(|l| (l.line, l.column))))
        .collect();
    assert_eq!(
        got,
        [
            ("SY3003", "http.routers.web.priority".to_string(), Some((4, 17))),
            ("SY3003", "http.services.api.loadBalancer.passHostHeader".to_string(), Some((8, 25))),
            ("SY3003", "http.services.api.loadBalancer.healthCheck.interval".to_string(), Some((9, 42))),
            ("SY3003", "http.services.api.loadBalancer.servers[0].weight".to_string(), Some((11, 39))),
        ]
    );
    assert!(loaded.diagnostics[1].hints[0].contains("yes/no/on/off"));
    assert!(loaded.diagnostics[3].hints[0].contains("`2.500000`"));
    // Nothing with an error gets into the model.
    assert!(loaded.config.http.is_none());
    assert_eq!(loaded.origin(Section::HttpRouter, "web").map(|o| o.valid), Some(false));
}

#[test]
fn strings_that_go_parses_are_fine() {
    // paerser turns every scalar into text and parses it again: a quoted number is a number, 3.0 an integer.
    let src = "http:\n  routers:\n    web:\n      priority: \"10\"\n      service: 8080\n  services:\n    s:\n      \
               loadBalancer:\n        passHostHeader: \"false\"\n        servers: [{url: 'http://a', weight: 3.0}]\n        \
               healthCheck: {path: /, interval: 10}\n";
    let loaded = load_one("a.yaml", src);
    assert!(loaded.diagnostics.is_empty(), "{}", render(&loaded));
    let http = loaded.config.http.as_ref().unwrap();
    let web = &http.routers.as_ref().unwrap()["web"];
    assert_eq!((web.priority, web.service.as_deref()), (Some(10), Some("8080")));
    let lb = http.services.as_ref().unwrap()["s"].load_balancer.as_ref().unwrap();
    assert_eq!(lb.pass_host_header, Some(false));
    assert_eq!(lb.servers.as_ref().unwrap()[0].weight, Some(3));
    assert_eq!(lb.health_check.as_ref().unwrap().interval.as_ref().unwrap().nanos(), Some(10_000_000_000));
}

#[test]
fn a_mapping_where_a_list_is_wanted_and_the_reverse() {
    let d = only("a.yaml", "http:\n  services:\n    s:\n      loadBalancer:\n        servers: {url: 'http://a'}\n");
    assert_diag(&d, "SY3003", true, (5, 18), "http.services.s.loadBalancer.servers", "start each item with `- `");
    let d = only("a.yaml", "http:\n  routers:\n    - web: {rule: x}\n");
    assert_diag(&d, "SY3003", true, (3, 5), "http.routers", "mapping by name");
}

#[test]
fn allow_empty_blocks_take_true() {
    let src = "http:\n  routers:\n    a: {service: s, tls: true}\n    b: {service: s, tls: false}\n    c: {service: s, \
               tls: yes}\n";
    let loaded = load_one("a.yaml", src);
    let d: Vec<_> = loaded.diagnostics.iter().collect();
    assert_eq!(d.len(), 1, "{}", render(&loaded));
    assert_diag(d[0], "SY3003", false, (5, 26), "http.routers.c.tls", "");
    let routers = loaded.config.http.as_ref().unwrap().routers.as_ref().unwrap();
    assert_eq!(routers["a"].tls, Some(Default::default()));
    assert_eq!(routers["b"].tls, None);
    assert_eq!(routers["c"].tls, None);
}

// --- SY3004: empty blocks and nulls -----------------------------------------------------------------------------

#[test]
fn a_lone_empty_block_refuses_the_file() {
    let d = only("a.yaml", "http:\n  routers:\n    web: {service: s}\n  middlewares: {}\n");
    assert_diag(&d, "SY3004", true, (4, 3), "http.middlewares", "remove `middlewares`");
    assert!(d.message.contains("cannot be a standalone element"), "{d}");

    let d = only("a.toml", "[http.middlewares]\n");
    assert_diag(&d, "SY3004", true, (1, 7), "http.middlewares", "");

    let d = only("a.yaml", "http: {}\n");
    assert_diag(&d, "SY3004", true, (1, 1), "http", "");

    // Only `allowEmpty` blocks may be empty: a weighted service's health check may, a load balancer's may not.
    let ok = "http:\n  services:\n    w: {weighted: {services: [{name: a}], healthCheck: {}}}\n";
    assert!(load_one("a.yaml", ok).diagnostics.is_empty());
    let d =
        only("a.yaml", "http:\n  services:\n    a: {loadBalancer: {servers: [{url: 'http://a'}], healthCheck: {}}}\n");
    assert_diag(&d, "SY3004", true, (3, 54), "http.services.a.loadBalancer.healthCheck", "");
}

#[test]
fn null_values_are_ignored_by_traefik() {
    // A null value is dropped by Traefik, and a block left with nothing is refused.
    let loaded = load_one("a.yaml", "http:\n  routers:\n");
    assert_eq!(loaded.diagnostics.len(), 2, "{}", render(&loaded));
    assert_diag(&loaded.diagnostics[0], "SY3004", true, (1, 1), "http", "");
    assert!(loaded.diagnostics[0].message.contains("only null values"));
    assert_diag(&loaded.diagnostics[1], "SY3004", false, (2, 3), "http.routers", "");
    let d = only(
        "a.yaml",
        "http:\n  services:\n    w:\n      weighted:\n        services: [{name: a}]\n        healthCheck:\n",
    );
    assert_diag(&d, "SY3004", false, (6, 9), "http.services.w.weighted.healthCheck", "`healthCheck: {}`");
    let headers = "http:\n  middlewares:\n    h:\n      headers:\n        customRequestHeaders:\n          X-Foo:\n          \
                   X-Bar: bar\n";
    let d = only("a.yaml", headers);
    assert_diag(&d, "SY3004", false, (6, 11), "http.middlewares.h.headers.customRequestHeaders.X-Foo", "`\"\"`");
}

#[test]
fn an_empty_file_is_a_warning() {
    for source in ["", "# nothing\n", "{}\n"] {
        let d = only("a.yaml", source);
        assert_diag(&d, "SY3004", false, (1, 1), "", "rename it when complete");
    }
}

// --- SY3005: v2 names -------------------------------------------------------------------------------------------

#[test]
fn v2_names_are_deprecated() {
    let d =
        only("a.yaml", "http:\n  middlewares:\n    office:\n      ipWhiteList:\n        sourceRange: [10.0.0.0/8]\n");
    assert_diag(&d, "SY3005", false, (4, 7), "http.middlewares.office.ipWhiteList", "rename it `ipAllowList`");
    let d = only("a.toml", "[http.middlewares.h.headers]\nsslRedirect = true\n");
    assert_diag(&d, "SY3005", false, (2, 1), "http.middlewares.h.headers.sslRedirect", "redirectScheme");
    let loaded = load_one(
        "a.yaml",
        "http:\n  middlewares:\n    office:\n      ipWhiteList:\n        sourceRange: [10.0.0.0/8]\n",
    );
    let m = &loaded.config.http.as_ref().unwrap().middlewares.as_ref().unwrap()["office"];
    assert!(m.ip_white_list.is_some());
}

// --- SY3006: duplicates across files ----------------------------------------------------------------------------

#[test]
fn the_first_file_in_sorted_order_wins() {
    let b = ("b.toml".to_string(), "[http.routers.web]\nservice = \"b\"\n".to_string());
    let a = ("a.yml".to_string(), "http:\n  routers:\n    web: {service: a}\n".to_string());
    let ignored = ("c.yaml.tmp".to_string(), "not: [valid".to_string());
    let files = [b, ignored, a];
    let loaded = load(&files);
    assert_eq!(loaded.files.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), ["a.yml", "b.toml"]);
    assert_eq!(loaded.diagnostics.len(), 1, "{}", render(&loaded));
    let d = &loaded.diagnostics[0];
    assert_diag(d, "SY3006", false, (1, 15), "http.routers.web", "rename one of them");
    assert!(d.message.contains("a.yml:3:5"), "{d}");
    let web = &loaded.config.http.as_ref().unwrap().routers.as_ref().unwrap()["web"];
    assert_eq!(web.service.as_deref(), Some("a"));
    assert_eq!(loaded.origin(Section::HttpRouter, "web").map(|o| o.file.as_str()), Some("a.yml"));
    assert_eq!(loaded.locate(Section::HttpRouter, "web", &["service"]).map(|l| (l.line, l.column)), Some((3, 11)));
}

#[test]
fn certificates_of_every_file_are_kept() {
    let a = ("a.yml".to_string(), "tls:\n  certificates:\n    - {certFile: a.crt, keyFile: a.key}\n".to_string());
    let b = ("b.yml".to_string(), "tls:\n  certificates:\n    - {certFile: b.crt, keyFile: b.key}\n".to_string());
    let files = [a, b];
    let loaded = load(&files);
    assert!(loaded.diagnostics.is_empty());
    assert_eq!(loaded.config.tls.as_ref().unwrap().certificates.as_ref().unwrap().len(), 2);
    assert_eq!(loaded.origin(Section::TlsCertificate, "1").map(|o| o.file.as_str()), Some("b.yml"));
}

// --- SY3007: templates ------------------------------------------------------------------------------------------

#[test]
fn go_templates_are_flagged() {
    let d = only("a.yaml", "http:\n  routers:\n    web: {rule: \"Host(`{{ .Domain }}`)\", service: s}\n");
    assert_diag(&d, "SY3007", false, (3, 24), "", "{{ \"{{\" }}");
}

// --- SY3008 / SY3009: keys written twice, case ------------------------------------------------------------------

#[test]
fn keys_written_twice() {
    let d = only("a.yaml", "http:\n  routers:\n    web: {service: a}\n    web: {service: b}\n");
    assert_diag(&d, "SY3008", true, (4, 5), "", "keep one");

    let loaded = load_one("a.yaml", "http:\n  routers:\n    web:\n      entryPoints: [a]\n      entrypoints: [b]\n");
    let codes: Vec<_> = loaded.diagnostics.iter().map(|d| &*d.code).collect();
    assert_eq!(codes, ["SY3008", "SY3009"]);
    assert_diag(&loaded.diagnostics[0], "SY3008", false, (5, 7), "http.routers.web.entryPoints", "");
    // paerser reads keys in byte order: `entrypoints` comes last and wins.
    let web = &loaded.config.http.as_ref().unwrap().routers.as_ref().unwrap()["web"];
    assert_eq!(web.entry_points.as_deref(), Some(&["b".to_string()][..]));
}

#[test]
fn keys_in_another_case_work() {
    let d = only("a.toml", "[HTTP.routers.web]\nentryPoints = [\"web\"]\n");
    assert_diag(&d, "SY3009", false, (1, 2), "http", "");
    let loaded = load_one("a.toml", "[http.routers.web]\nEntryPoints = [\"web\"]\n");
    assert_eq!(loaded.diagnostics[0].path.as_deref(), Some("http.routers.web.entryPoints"));
    let web = &loaded.config.http.as_ref().unwrap().routers.as_ref().unwrap()["web"];
    assert!(web.entry_points.is_some());
}

// --- SY3010: documents ------------------------------------------------------------------------------------------

#[test]
fn a_second_document() {
    let d = only("a.yaml", "http:\n  routers:\n    web: {service: a}\n---\ntcp: {}\n");
    assert_diag(&d, "SY3010", true, (4, 1), "", "its own file");
}

// --- Snapshots --------------------------------------------------------------------------------------------------

#[test]
fn snapshot_a_yaml_file_with_everything_wrong() {
    let src = r#"http:
  routers:
    web:
      entryPoints: websecure
      rule: "Host(`example.com`)"
      service: api
      midlewares: [auth]
      tls:
        certresolver: le
    admin:
      rule: Host(`admin.example.com`)
      priority: top
  middlewares: {}
  services:
    api:
      loadBalancer:
        servers:
          url: http://api:8080
        healthCheck:
          path: /health
          interval: 10 s
    old:
      weighted:
        services:
          - name: api
            weight: 1.5
        sticky: {}
tcp:
  middlewares:
    office:
      ipWhiteList:
        sourceRange: [10.0.0.0/8]
entryPoints:
  websecure:
    address: ":443"
"#;
    insta::assert_snapshot!(render(&load_one("dynamic.yml", src)));
}

#[test]
fn snapshot_a_toml_file_with_everything_wrong() {
    let src = r#"[http.routers.web]
entryPoints = "websecure"
rule = "Host(`example.com`)"
service = "api"
priority = 1.5

[http.middlewares]

[http.services.api.loadBalancer]
passHostHeader = "yes"
[[http.services.api.loadBalancer.servers]]
URL = "http://api:8080"

[tls.options.modern]
minVersion = "VersionTLS13"
preferServerCipherSuites = true
[tls.options.modern.clientAuth]
"#;
    insta::assert_snapshot!(render(&load_one("dynamic.toml", src)));
}

#[test]
fn snapshot_a_directory() {
    let files = [
        ("10-routers.yml", "http:\n  routers:\n    web:\n      rule: Host(`a`)\n      service: api\n"),
        (
            "20-services.yaml",
            "http:\n  services:\n    api:\n      loadBalancer:\n        servers: [{url: 'http://a'}]\n",
        ),
        ("30-override.toml", "[http.routers.web]\nrule = \"Host(`b`)\"\nservice = \"api\"\n"),
        ("40-broken.yml", "http:\n  routers:\n    x: [\n"),
        ("50-template.yml", "http:\n  routers:\n    t: {rule: \"Host(`{{ env \\\"HOST\\\" }}`)\", service: api}\n"),
        ("README.md", "# not read"),
    ];
    let files: Vec<(String, String)> = files.iter().map(|(n, s)| (n.to_string(), s.to_string())).collect();
    let loaded = load(&files);
    let mut out = render(&loaded);
    for f in &loaded.files {
        out.push_str(&format!("{}: accepted={}\n", f.name, f.accepted));
    }
    insta::assert_snapshot!(out);
}
