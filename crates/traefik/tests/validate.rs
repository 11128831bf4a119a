//! The semantic checks of `switchyard validate` (`switchyard_traefik::validate`), one code at a time, in YAML and
//! TOML: code, severity, line, column, key path and hint. Then snapshots of realistic bad configurations,
//! Traefik's own reference file and Traefik's integration fixtures.

// Reading Traefik's reference files is what a test harness does; the model itself still does no I/O.
#![allow(clippy::disallowed_methods)]

use switchyard_diagnostics::{Diagnostic, Severity};
use switchyard_traefik::dynamic;
use switchyard_traefik::validate::{check, validate_files};

fn files(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(n, s)| (n.to_string(), s.to_string())).collect()
}

fn run(name: &str, source: &str) -> Vec<Diagnostic> {
    validate_files(&files(&[(name, source)]))
}

fn render(diagnostics: &[Diagnostic]) -> String {
    diagnostics.iter().map(|d| format!("{d}\n")).collect()
}

/// The only diagnostic with `code`.
#[track_caller]
fn one<'d>(diagnostics: &'d [Diagnostic], code: &str) -> &'d Diagnostic {
    let found: Vec<&Diagnostic> = diagnostics.iter().filter(|d| d.code == code).collect();
    assert_eq!(found.len(), 1, "expected one {code}:\n{}", render(diagnostics));
    found[0]
}

#[track_caller]
fn assert_diag(d: &Diagnostic, severity: Severity, at: (usize, usize), path: &str, hint: &str) {
    assert_eq!(d.severity, severity, "{d}");
    let loc = d.location.as_ref().expect("located");
    assert_eq!((loc.line, loc.column), at, "{d}");
    assert_eq!(d.path.as_deref().unwrap_or(""), path, "{d}");
    if !hint.is_empty() {
        assert!(d.hints.iter().any(|h| h.contains(hint)), "no hint containing {hint:?} in {d}");
    }
}

#[track_caller]
fn assert_codes(diagnostics: &[Diagnostic], codes: &[&str]) {
    let got: Vec<&str> = diagnostics.iter().map(|d| &*d.code).collect();
    assert_eq!(got, codes, "\n{}", render(diagnostics));
}

/// A service that is valid and used, to keep examples short.
const API: &str = "  services:\n    api:\n      loadBalancer:\n        servers: [{url: 'http://10.0.0.1:80'}]\n";

// --- Rules: SY31xx at the column inside the rule ------------------------------------------------------------------

#[test]
fn rule_errors_point_at_the_column_in_the_file() {
    // Plain scalar: the value starts at column 13.
    let src = format!("http:\n  routers:\n    web:\n      rule: Host(`a`) && Pat(`/x`)\n      service: api\n{API}");
    let d = run("a.yaml", &src);
    assert_codes(&d, &["SY3102"]);
    assert_diag(&d[0], Severity::Error, (4, 26), "http.routers.web.rule", "did you mean Path?");
    assert!(d[0].message.starts_with("unknown matcher `Pat`"), "{}", d[0]);

    // Double and single quotes: one more column.
    for q in ['"', '\''] {
        let src =
            format!("http:\n  routers:\n    web:\n      rule: {q}Host(`a`) && Pat(`/x`){q}\n      service: api\n{API}");
        let d = run("a.yaml", &src);
        assert_diag(one(&d, "SY3102"), Severity::Error, (4, 27), "http.routers.web.rule", "");
    }

    // TOML basic and literal strings.
    for q in ['"', '\''] {
        let src = format!(
            "[http.routers.web]\nrule = {q}Host(`a`) || PathPrefix(`api`){q}\nservice = \"api\"\n\
             [[http.services.api.loadBalancer.servers]]\nurl = \"http://10.0.0.1\"\n"
        );
        let d = run("a.toml", &src);
        assert_codes(&d, &["SY3105"]);
        assert_diag(&d[0], Severity::Error, (2, 33), "http.routers.web.rule", "");
        assert!(d[0].message.contains("write PathPrefix(`/api`)"), "{}", d[0]);
    }
}

#[test]
fn rule_errors_in_values_not_written_verbatim_point_at_the_value() {
    // An escape in a YAML double-quoted string shifts the columns: the value, and the column in the rule.
    let src =
        format!("http:\n  routers:\n    web:\n      rule: \"Host(\\\"a\\\") && Pat(`/x`)\"\n      service: api\n{API}");
    let d = run("a.yaml", &src);
    assert_diag(one(&d, "SY3102"), Severity::Error, (4, 13), "http.routers.web.rule", "");
    assert!(d[0].message.starts_with("column 14 of the rule: unknown matcher `Pat`"), "{}", d[0]);

    // A folded block scalar: its value starts on the next line.
    let src = format!(
        "http:\n  routers:\n    web:\n      rule: >-\n        Host(`a`) &&\n        Pat(`/x`)\n      service: api\n{API}"
    );
    let d = run("a.yaml", &src);
    assert_diag(one(&d, "SY3102"), Severity::Error, (5, 9), "http.routers.web.rule", "");
    assert!(d[0].message.starts_with("column 14 of the rule"), "{}", d[0]);

    // A TOML multi-line string.
    let src = "[http.routers.web]\nrule = \"\"\"Host(`a`) && Pat(`/x`)\"\"\"\nservice = \"api\"\n\
               [[http.services.api.loadBalancer.servers]]\nurl = \"http://10.0.0.1\"\n";
    let d = run("a.toml", src);
    assert_diag(one(&d, "SY3102"), Severity::Error, (2, 8), "http.routers.web.rule", "");
}

#[test]
fn rule_lints_are_warnings_at_the_same_place() {
    let src = format!("http:\n  routers:\n    web:\n      rule: Host(`*.example.com`)\n      service: api\n{API}");
    let d = run("a.yaml", &src);
    assert_codes(&d, &["SY3153"]);
    assert_diag(&d[0], Severity::Warning, (4, 18), "http.routers.web.rule", "HostRegexp");
}

#[test]
fn v2_rules_are_left_to_traefiks_v2_parser() {
    let src = format!(
        "http:\n  routers:\n    web:\n      rule: Host(`a`, `b`)\n      ruleSyntax: v2\n      service: api\n{API}"
    );
    assert_codes(&run("a.yaml", &src), &["SY3005"]);
}

#[test]
fn routers_need_a_rule_and_a_service() {
    let src = format!("http:\n  routers:\n    web:\n      service: api\n    nothing:\n      rule: Host(`a`)\n{API}");
    let d = run("a.yaml", &src);
    assert_codes(&d, &["SY3211", "SY3212"]);
    assert_diag(&d[0], Severity::Error, (3, 5), "http.routers.web", "rule: Host(`example.com`)");
    assert_diag(&d[1], Severity::Error, (5, 5), "http.routers.nothing", "add `service: <name>`");

    let src = "tcp:\n  routers:\n    db:\n      entryPoints: [pg]\n  services:\n    pg:\n      loadBalancer:\n        \
               servers: [{address: 'db:5432'}]\n";
    let d = run("a.yaml", src);
    assert_codes(&d, &["SY3211", "SY3212", "SY3210"]);
    assert_diag(&d[0], Severity::Error, (3, 5), "tcp.routers.db", "HostSNI");
}

#[test]
fn tcp_rules_get_a_minimal_check() {
    let src = "tcp:\n  routers:\n    db:\n      rule: Host(`db.example.com`)\n      service: pg\n      tls: {}\n  \
               services:\n    pg:\n      loadBalancer:\n        servers: [{address: 'db:5432'}]\n";
    let d = run("a.yaml", src);
    assert_codes(&d, &["SY3102"]);
    assert_diag(&d[0], Severity::Error, (4, 13), "tcp.routers.db.rule", "use HostSNI");
    let ok = src.replace("Host(", "HostSNI(");
    assert_codes(&run("a.yaml", &ok), &[]);
    let empty = src.replace("Host(`db.example.com`)", "\"  \"");
    assert_diag(one(&run("a.yaml", &empty), "SY3114"), Severity::Error, (4, 14), "tcp.routers.db.rule", "");
}

// --- References: SY32xx -----------------------------------------------------------------------------------------

#[test]
fn a_missing_service_disables_the_router() {
    let src = "http:\n  routers:\n    web:\n      rule: Host(`a`)\n      service: apii\n  services:\n    api:\n      \
               loadBalancer:\n        servers: [{url: 'http://10.0.0.1:80'}]\n";
    let d = run("a.yaml", src);
    assert_codes(&d, &["SY3201", "SY3210"]);
    assert_diag(&d[0], Severity::Error, (5, 16), "http.routers.web.service", "did you mean `api`?");
    assert!(d[0].message.contains("404"));
    assert_diag(&d[1], Severity::Info, (7, 5), "http.services.api", "");

    // `@file` is this provider.
    assert_codes(&run("a.yaml", &src.replace("apii", "api@file")), &[]);

    // TOML.
    let src = "[http.routers.web]\nrule = \"Host(`a`)\"\nservice = \"nope\"\n";
    let d = run("a.toml", src);
    assert_codes(&d, &["SY3201"]);
    assert_diag(&d[0], Severity::Error, (3, 11), "http.routers.web.service", "define `nope` under `http.services`");
}

#[test]
fn references_to_other_providers_are_reported_once() {
    let src = "http:\n  routers:\n    a:\n      rule: Host(`a`)\n      service: api@internal\n    b:\n      rule: \
               Host(`b`)\n      service: api@internal\n      middlewares: [auth@docker]\n";
    let d = run("a.yaml", src);
    assert_codes(&d, &["SY3208", "SY3208"]);
    assert_diag(&d[0], Severity::Info, (5, 16), "http.routers.a.service", "provider `internal`");
    assert!(d[0].message.contains("(2 references)"), "{}", d[0]);
    assert_diag(&d[1], Severity::Info, (9, 21), "http.routers.b.middlewares[0]", "");
}

#[test]
fn a_missing_middleware_disables_the_router() {
    let src = format!(
        "http:\n  routers:\n    web:\n      rule: Host(`a`)\n      service: api\n      middlewares: [compress@file, \
         secure-header]\n  middlewares:\n    compress: {{compress: {{}}}}\n    secure-headers:\n      headers: {{frameDeny: \
         true}}\n{API}"
    );
    let d = run("a.yaml", &src);
    assert_codes(&d, &["SY3202"]);
    assert_diag(&d[0], Severity::Error, (6, 36), "http.routers.web.middlewares[1]", "did you mean `secure-headers`?");
}

#[test]
fn a_missing_child_disables_the_whole_service() {
    let src = "http:\n  routers:\n    web:\n      rule: Host(`a`)\n      service: app\n  services:\n    app:\n      \
               weighted:\n        services:\n          - name: blue\n            weight: 3\n          - name: gren\n  \
               \x20\x20blue:\n      loadBalancer:\n        servers: [{url: 'http://10.0.0.1:80'}]\n    green:\n      \
               loadBalancer:\n        servers: [{url: 'http://10.0.0.2:80'}]\n";
    let d = run("a.yaml", src);
    assert_codes(&d, &["SY3203", "SY3210"]);
    assert_diag(
        &d[0],
        Severity::Error,
        (12, 19),
        "http.services.app.weighted.services[1].name",
        "did you mean `green`?",
    );
    assert!(d[0].message.contains("every router that uses it (routers `web`)"), "{}", d[0]);

    let src = "http:\n  services:\n    m:\n      mirroring:\n        service: a\n        mirrors: [{name: b, percent: \
               10}]\n    f:\n      failover: {service: a, fallback: c}\n    a:\n      loadBalancer:\n        servers: [{url: \
               'http://10.0.0.1'}]\n";
    let d = run("a.yaml", src);
    let missing: Vec<_> = d.iter().filter(|d| d.code == "SY3203").collect();
    assert_eq!(missing.len(), 2, "{}", render(&d));
    assert_diag(missing[0], Severity::Error, (6, 26), "http.services.m.mirroring.mirrors[0].name", "");
    assert_diag(missing[1], Severity::Error, (8, 40), "http.services.f.failover.fallback", "");
}

#[test]
fn middleware_references() {
    let src = format!(
        "http:\n  routers:\n    web:\n      rule: Host(`a`)\n      service: api\n      middlewares: [all]\n  \
         middlewares:\n    all:\n      chain:\n        middlewares: [oops]\n    pages:\n      errors: {{status: ['500'], \
         service: error-pages}}\n{API}"
    );
    let d = run("a.yaml", &src);
    assert_codes(&d, &["SY3204", "SY3204"]);
    assert_diag(&d[0], Severity::Error, (10, 23), "http.middlewares.all.chain.middlewares[0]", "");
    assert_diag(&d[1], Severity::Error, (12, 42), "http.middlewares.pages.errors.service", "");
}

#[test]
fn tls_options_and_stores() {
    let src = format!(
        "http:\n  routers:\n    a:\n      rule: Host(`a`)\n      service: api\n      tls: {{options: modern}}\n    \
         b:\n      rule: Host(`b`)\n      service: api\n      tls: {{options: default}}\n    c:\n      rule: Host(`c`)\n      \
         service: api\n      tls: {{options: strict@file}}\n{API}tls:\n  options:\n    strict: {{minVersion: \
         VersionTLS13}}\n  stores:\n    mine: {{}}\n  certificates:\n    - {{certFile: a.crt, keyFile: a.key, stores: \
         [default, other]}}\n"
    );
    let d = run("a.yaml", &src);
    assert_codes(&d, &["SY3205", "SY3206", "SY3206"]);
    assert_diag(&d[0], Severity::Error, (6, 22), "http.routers.a.tls.options", "");
    assert_diag(&d[1], Severity::Warning, (23, 5), "tls.stores.mine", "tls.stores.default");
    assert_diag(&d[2], Severity::Warning, (25, 59), "tls.certificates[0].stores[1]", "");
}

#[test]
fn servers_transports() {
    let src = "http:\n  routers:\n    web:\n      rule: Host(`a`)\n      service: api\n  services:\n    api:\n      \
               loadBalancer:\n        serversTransport: insecure\n        servers: [{url: 'https://10.0.0.1'}]\n  \
               serversTransports:\n    insecur: {insecureSkipVerify: true}\n";
    let d = run("a.yaml", src);
    assert_codes(&d, &["SY3207"]);
    assert_diag(
        &d[0],
        Severity::Error,
        (9, 27),
        "http.services.api.loadBalancer.serversTransport",
        "did you mean `insecur`?",
    );
}

#[test]
fn cycles_of_services_and_chains() {
    let src = "http:\n  routers:\n    web:\n      rule: Host(`a`)\n      service: a\n      middlewares: [m1]\n  \
               services:\n    a:\n      weighted:\n        services: [{name: b}]\n    b:\n      failover: {service: a, \
               fallback: c}\n    c:\n      loadBalancer:\n        servers: [{url: 'http://10.0.0.1'}]\n  middlewares:\n    \
               m1: {chain: {middlewares: [m2]}}\n    m2: {chain: {middlewares: [m1]}}\n";
    let d = run("a.yaml", src);
    assert_codes(&d, &["SY3209", "SY3209"]);
    assert_diag(&d[0], Severity::Error, (8, 5), "http.services.a", "break the cycle");
    assert!(d[0].message.contains("`a` → `b` → `a`"), "{}", d[0]);
    assert_diag(&d[1], Severity::Error, (17, 5), "http.middlewares.m1", "");
}

#[test]
fn services_and_middlewares_need_exactly_one_kind() {
    let src = "http:\n  routers:\n    web:\n      rule: Host(`a`)\n      service: both\n      middlewares: [none]\n  \
               services:\n    both:\n      loadBalancer:\n        servers: [{url: 'http://10.0.0.1'}]\n      weighted:\n        \
               services: [{name: both}]\n  middlewares:\n    none: {}\n";
    let d = run("a.yaml", src);
    let kinds: Vec<_> = d.iter().filter(|d| d.code == "SY3213").collect();
    assert_eq!(kinds.len(), 2, "{}", render(&d));
    assert_diag(kinds[0], Severity::Error, (8, 5), "http.services.both", "split it into 2 services");
    assert_diag(kinds[1], Severity::Error, (14, 5), "http.middlewares.none", "");
}

// --- Blue/green: SY33xx -----------------------------------------------------------------------------------------

const COLOURS: &str = "    blue:\n      loadBalancer:\n        servers: [{url: 'http://10.0.0.1:80'}]\n        healthCheck: \
                       {path: /health, interval: 5s}\n    green:\n      loadBalancer:\n        servers: [{url: \
                       'http://10.0.0.2:80'}]\n        healthCheck: {path: /health, interval: 5s}\n";

fn weighted(children: &str, health: bool) -> String {
    let health = if health { "        healthCheck: {}\n" } else { "" };
    format!(
        "http:\n  routers:\n    web:\n      rule: Host(`a`)\n      service: app\n  services:\n    app:\n      \
         weighted:\n        services:\n{children}{health}{COLOURS}"
    )
}

#[test]
fn weight_zero_is_dropped_and_a_hazard_under_health_checks() {
    let children = "          - name: blue\n            weight: 1\n          - name: green\n            weight: 0\n";
    let d = run("a.yaml", &weighted(children, false));
    assert_codes(&d, &["SY3301"]);
    assert_diag(
        &d[0],
        Severity::Warning,
        (13, 21),
        "http.services.app.weighted.services[1].weight",
        "leave `green` out",
    );

    let d = run("a.yaml", &weighted(children, true));
    assert_codes(&d, &["SY3301"]);
    assert_diag(&d[0], Severity::Error, (13, 21), "http.services.app.weighted.services[1].weight", "");
    assert!(d[0].message.contains("loop forever"));
}

#[test]
fn every_child_dropped_means_503() {
    let children = "          - name: blue\n            weight: 0\n          - name: green\n            weight: -1\n";
    let d = run("a.yaml", &weighted(children, false));
    assert_codes(&d, &["SY3302", "SY3301", "SY3301"]);
    assert_diag(&d[0], Severity::Error, (9, 9), "http.services.app.weighted.services", "at least one child");
    assert!(d[0].message.contains("503") && d[0].message.contains("`web`"), "{}", d[0]);

    let src = "http:\n  services:\n    app:\n      weighted: {services: [], sticky: {cookie: {}}}\n";
    let d = run("a.yaml", src);
    assert_diag(one(&d, "SY3302"), Severity::Error, (4, 7), "http.services.app.weighted", "");
}

#[test]
fn health_checks_need_children_that_report_health() {
    let children = "          - name: blue\n          - name: green\n";
    assert_codes(&run("a.yaml", &weighted(children, true)), &[]);
    // Green without its active health check.
    let src = weighted(children, true).replacen("        healthCheck: {path: /health, interval: 5s}\n", "", 2);
    let src = src.replacen(
        "'http://10.0.0.1:80'}]\n",
        "'http://10.0.0.1:80'}]\n        healthCheck: {path: /health, interval: 5s}\n",
        1,
    );
    let d = run("a.yaml", &src);
    assert_codes(&d, &["SY3303"]);
    assert_diag(
        &d[0],
        Severity::Error,
        (11, 19),
        "http.services.app.weighted.services[1].name",
        "an active health check",
    );
    assert!(d[0].message.contains("answer 404"), "{}", d[0]);

    // A nested weighted service without its own `healthCheck: {}` (Traefik's propagate_no_healthcheck fixture).
    let src = "[http.routers.r]\nservice = \"outer\"\nrule = \"Host(`root.localhost`)\"\n\
               [http.services.outer.weighted]\n[http.services.outer.weighted.healthCheck]\n\
               [[http.services.outer.weighted.services]]\nname = \"inner\"\n\
               [[http.services.inner.weighted.services]]\nname = \"lb\"\n\
               [http.services.lb.loadBalancer.healthCheck]\npath = \"/health\"\n\
               [[http.services.lb.loadBalancer.servers]]\nurl = \"http://10.0.0.1\"\n";
    let d = run("a.toml", src);
    assert_codes(&d, &["SY3303"]);
    assert_diag(
        &d[0],
        Severity::Error,
        (7, 8),
        "http.services.outer.weighted.services[0].name",
        "its own `healthCheck: {}`",
    );

    // Mirroring follows only its main service.
    let src = format!(
        "http:\n  routers:\n    web:\n      rule: Host(`a`)\n      service: m\n  services:\n    m:\n      mirroring:\n        \
         service: blue\n        mirrors: [{{name: shadow}}]\n        healthCheck: {{}}\n    shadow:\n      loadBalancer:\n        \
         servers: [{{url: 'http://10.0.0.3'}}]\n{COLOURS}"
    );
    let d = run("a.yaml", &src);
    assert_codes(&d, &["SY3210"]);
}

#[test]
fn routers_with_the_same_rule_and_priority() {
    let src = format!(
        "http:\n  routers:\n    old:\n      rule: Host(`a`)\n      service: api\n      entryPoints: [web, websecure]\n    \
         new:\n      rule: Host(`A`)\n      service: api\n      entryPoints: [websecure]\n{API}"
    );
    let d = run("a.yaml", &src);
    assert_codes(&d, &["SY3304"]);
    assert_diag(&d[0], Severity::Warning, (8, 13), "http.routers.new.rule", "higher explicit `priority`");
    assert!(d[0].message.contains("`new`"), "{}", d[0]);

    // Different entry points, or TLS on one only: separate routing tables.
    assert_codes(&run("a.yaml", &src.replace("[web, websecure]", "[web]")), &[]);
    let tls = src.replace("      entryPoints: [websecure]\n", "      entryPoints: [websecure]\n      tls: {}\n");
    assert_codes(&run("a.yaml", &tls), &[]);
}

#[test]
fn shadowed_routers() {
    let src = format!(
        "http:\n  routers:\n    old:\n      rule: Host(`a`)\n      service: api\n      priority: 100\n    new:\n      \
         rule: Host(`a`)\n      service: api\n      priority: -5\n{API}"
    );
    let d = run("a.yaml", &src);
    assert_codes(&d, &["SY3309"]);
    assert_diag(&d[0], Severity::Warning, (8, 13), "http.routers.new.rule", "");
    assert!(d[0].message.contains("(100 > -5)"), "{}", d[0]);
}

#[test]
fn overlapping_rules_with_equal_or_default_priorities() {
    let base = "http:\n  routers:\n    site:\n      rule: Host(`a`)\n      service: api\n      PRIO_A\n    \
                api:\n      rule: Host(`a`) && PathPrefix(`/api`)\n      service: api\n      PRIO_B\n";
    let with = |a: &str, b: &str| format!("{}{API}", base.replace("PRIO_A", a).replace("PRIO_B", b));
    // Default priorities: the longer rule wins, which is fragile.
    let d = run("a.yaml", &with("priority: 0", "entryPoints: [web]"));
    assert_codes(&d, &["SY3306"]);
    assert_diag(&d[0], Severity::Info, (8, 13), "http.routers.api.rule", "explicit `priority`");
    // Equal explicit priorities: a tie.
    let d = run("a.yaml", &with("priority: 10", "priority: 10"));
    assert_codes(&d, &["SY3305"]);
    assert_diag(&d[0], Severity::Warning, (8, 13), "http.routers.api.rule", "");
    // Explicit and different: intended.
    assert_codes(&run("a.yaml", &with("priority: 10", "priority: 20")), &[]);
    // Rules that cannot match the same request are not compared.
    let apart = with("priority: 10", "priority: 10").replace("Host(`a`)\n", "Host(`a`) && PathPrefix(`/web`)\n");
    assert_codes(&run("a.yaml", &apart), &[]);
}

#[test]
fn load_balancers_need_servers_with_valid_urls() {
    let src = "http:\n  routers:\n    web:\n      rule: Host(`a`)\n      service: api\n  services:\n    api:\n      \
               loadBalancer:\n        servers: []\n    web2:\n      loadBalancer:\n        servers:\n          - url: \
               10.0.0.1:8080\n          - url: 'http://:80'\n          - url: 'ftp://x'\n          - url: \
               'http://x:99999'\n          - url: 'http://[::1]:8080/'\n";
    let d = run("a.yaml", src);
    assert_codes(&d, &["SY3307", "SY3210", "SY3308", "SY3308", "SY3308", "SY3308"]);
    assert_diag(&d[0], Severity::Error, (9, 9), "http.services.api.loadBalancer.servers", "servers: [{url");
    assert_diag(&d[2], Severity::Error, (13, 18), "http.services.web2.loadBalancer.servers[0].url", "http://host:port");
    assert!(d[2].message.contains("no scheme"), "{}", d[2]);
    assert!(d[3].message.contains("no host"), "{}", d[3]);
    assert!(d[4].message.contains("`ftp`"), "{}", d[4]);
    assert!(d[5].message.contains("99999"), "{}", d[5]);

    let src = "udp:\n  routers:\n    dns: {service: dns}\n  services:\n    dns:\n      loadBalancer:\n        servers:\n          \
               - address: '10.0.0.1'\n          - address: '[::1]:53'\n";
    let d = run("a.yaml", src);
    assert_codes(&d, &["SY3308"]);
    assert_diag(&d[0], Severity::Error, (8, 22), "udp.services.dns.loadBalancer.servers[0].address", "host:port");
}

#[test]
fn server_weights_zero_drop_servers() {
    let src = "http:\n  routers:\n    web:\n      rule: Host(`a`)\n      service: api\n  services:\n    api:\n      \
               loadBalancer:\n        servers:\n          - {url: 'http://10.0.0.1', weight: 0}\n";
    let d = run("a.yaml", src);
    assert_codes(&d, &["SY3302", "SY3301"]);
    assert_diag(&d[0], Severity::Error, (9, 9), "http.services.api.loadBalancer.servers", "");
    assert_diag(&d[1], Severity::Warning, (10, 46), "http.services.api.loadBalancer.servers[0].weight", "");
}

#[test]
fn negative_priorities_are_valid() {
    let src =
        format!("http:\n  routers:\n    web:\n      rule: Host(`a`)\n      service: api\n      priority: -10\n{API}");
    assert_codes(&run("a.yaml", &src), &[]);
}

#[test]
fn check_alone_returns_only_the_semantic_diagnostics() {
    let f = files(&[("a.yaml", "http:\n  routers:\n    web:\n      rule: Host(`a`)\n      servce: x\n")]);
    let loaded = dynamic::load(&f);
    assert_codes(&loaded.diagnostics, &["SY3002"]);
    // The router has a structural error: it is not in the model, so nothing more is said about it.
    assert_codes(&check(&loaded), &[]);
    assert_codes(&validate_files(&f), &["SY3002"]);
}

// --- Snapshots ----------------------------------------------------------------------------------------------------

#[test]
fn snapshot_a_blue_green_deployment_gone_wrong() {
    let src = r#"# Blue/green for the shop, edited by hand.
http:
  routers:
    shop:
      rule: Host(`shop.example.com`)
      entryPoints: [websecure]
      service: shop
      middlewares: [secure-headers@file, ratelimit]
      tls: {certResolver: le}
    shop-preview:
      rule: Host(`shop.example.com`) && Header(`X-Preview`, `1`)
      entryPoints: [websecure]
      service: shop-green
      tls: {}
    shop-old:
      rule: Host(`shop.example.com`)
      entryPoints: [websecure]
      service: shop-blue
      tls: {certResolver: le}
  services:
    shop:
      weighted:
        services:
          - name: shop-blue
            weight: 100
          - name: shop-green
            weight: 0
        healthCheck: {}
    shop-blue:
      loadBalancer:
        servers: [{url: "http://shop-blue:8080"}]
        healthCheck: {path: /health, interval: 10s}
    shop-green:
      loadBalancer:
        servers: [{url: "http//shop-green:8080"}]
  middlewares:
    secure-headers:
      headers: {frameDeny: true}
"#;
    insta::assert_snapshot!(render(&run("shop.yml", src)));
}

#[test]
fn snapshot_a_directory_migrated_from_v2() {
    let dir = files(&[
        (
            "10-middlewares.yml",
            "http:\n  middlewares:\n    secure-headers:\n      headers: {stsSeconds: 31536000}\n    admin:\n      \
             chain:\n        middlewares: [secure-headers, basic-auth]\n    local-only:\n      ipWhiteList:\n        \
             sourceRange: [10.0.0.0/8]\n",
        ),
        (
            "20-app.yml",
            "http:\n  routers:\n    app:\n      rule: Host(`app.example.com`, `www.example.com`)\n      service: app\n    \
             api:\n      rule: Host(`{sub:[a-z]+}.example.com`) && PathPrefix(`/api`)\n      service: app-api@docker\n    \
             admin:\n      rule: Host(`app.example.com`) && PathPrefix(`/admin`)\n      service: app\n      middlewares: \
             [admin, local-only@file]\n  services:\n    app:\n      loadBalancer:\n        servers:\n          - url: \
             http://app:8080\n          - url: http://app-2:8080\n        healthCheck: {path: /health}\n",
        ),
        (
            "30-tcp.toml",
            "[tcp.routers.db]\nrule = \"Host(`db.example.com`)\"\nservice = \"db\"\n[tcp.routers.db.tls]\n\
             passthrough = true\n\n[tcp.services.db.loadBalancer]\n[[tcp.services.db.loadBalancer.servers]]\n\
             address = \"db\"\n",
        ),
    ]);
    insta::assert_snapshot!(render(&validate_files(&dir)));
}

#[test]
fn snapshot_references_everywhere() {
    let src = r#"[http.routers.web]
rule = "Host(`example.com`) && (Path(`/`) || PathPrefix(`/static`))"
service = "frontend"
middlewares = ["compress", "auth@docker"]
[http.routers.web.tls]
options = "modern"

[http.routers.api]
rule = "Host(`example.com`) && PathPrefix(`/api`)"
service = "api"
priority = 100

[http.services.frontend.failover]
service = "frontend-main"
fallback = "maintenance"
healthCheck = {}

[http.services.frontend-main.loadBalancer]
serversTransport = "internal-tls"
[[http.services.frontend-main.loadBalancer.servers]]
url = "https://frontend:8443"

[http.services.maintenance.loadBalancer]
[[http.services.maintenance.loadBalancer.servers]]
url = "http://maintenance"

[http.middlewares.compress.compress]

[tls.options.intermediate]
minVersion = "VersionTLS12"
"#;
    insta::assert_snapshot!(render(&run("dynamic.toml", src)));
}

// --- Reference configurations -------------------------------------------------------------------------------------

fn shared(path: &str) -> String {
    let path = format!("{}/../../../shared/reference/traefik/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Traefik's exhaustive sample of every option (`file.yaml` and `file.toml`, v3.7) uses the placeholder `foobar`
/// for every value, references included. Every error is explained by it:
/// - SY3102: `rule: foobar` is not a rule;
/// - SY3201, SY3202, SY3203, SY3204, SY3205, SY3207: services, middlewares, TLS options and servers transports
///   named `foobar`, which the sample never defines (its definitions are `Service01`, `Middleware00`, ...);
/// - SY3308: server `url: foobar` and TCP/UDP `address: foobar` are not URLs or `host:port`.
///
/// Its warnings are the deprecated v2 options it lists on purpose (SY3005) and its stores `Store0`, `Store1` and
/// certificate stores `foobar` (SY3206: v3 uses only `default`).
#[test]
fn traefiks_reference_sample_has_no_error_besides_its_placeholders() {
    for name in ["file.yaml", "file.toml"] {
        let text = shared(&format!("traefik-reference/{name}"));
        let d = run(name, &text);
        let errors: Vec<&Diagnostic> = d.iter().filter(|d| d.is_error()).collect();
        assert!(!errors.is_empty());
        for e in &errors {
            assert!(
                ["SY3102", "SY3201", "SY3202", "SY3203", "SY3204", "SY3205", "SY3207", "SY3308"].contains(&&*e.code),
                "{name}: unexpected {e}"
            );
            assert!(e.message.contains("`foobar`"), "{name}: an error not caused by the placeholder: {e}");
        }
        let mut codes: Vec<(&str, Severity)> = d.iter().map(|d| (&*d.code, d.severity)).collect();
        codes.sort();
        codes.dedup();
        let warnings: Vec<&str> = codes.iter().filter(|(_, s)| *s == Severity::Warning).map(|(c, _)| *c).collect();
        assert_eq!(warnings, ["SY3005", "SY3206"], "{name}");
    }
}

/// Traefik's integration-test fixtures (the dynamic part, with the Go template values filled in) are valid,
/// except `propagate_no_healthcheck.toml`, whose point is a weighted service with `healthCheck: {}` over a child
/// without one (Traefik answers 404).
#[test]
fn traefiks_integration_fixtures() {
    let dir = format!("{}/../../../shared/reference/traefik/integration-fixtures", env!("CARGO_MANIFEST_DIR"));
    let mut names = Vec::new();
    for sub in ["", "/healthcheck"] {
        for entry in std::fs::read_dir(format!("{dir}{sub}")).expect("fixtures") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "toml") {
                names.push(path);
            }
        }
    }
    names.sort();
    assert!(names.len() >= 10);
    for path in names {
        let text = std::fs::read_to_string(&path).expect("fixture");
        let dynamic = text.split("## dynamic configuration ##").nth(1).unwrap_or(&text);
        let filled = fill_templates(dynamic);
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("?").to_string();
        let d = run(&name, &filled);
        // Some fixtures have their static configuration in the same file, without the marker: SY3002 warnings.
        let errors: Vec<&str> = d
            .iter()
            .filter(|d| d.severity != Severity::Info && !(d.code == "SY3002" && d.severity == Severity::Warning))
            .map(|d| &*d.code)
            .collect();
        let expected: &[&str] = if name == "propagate_no_healthcheck.toml" { &["SY3303"] } else { &[] };
        assert_eq!(errors, expected, "{name}:\n{}", render(&d));
    }
}

/// Replaces `{{ .X }}` by an address: a whole URL when the template is the whole string.
fn fill_templates(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let end = rest[start..].find("}}").map_or(rest.len(), |e| start + e + 2);
        let whole = rest[..start].ends_with('"') && rest[end..].starts_with('"');
        out.push_str(&rest[..start]);
        out.push_str(if whole { "http://10.0.0.1:80" } else { "10.0.0.1" });
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}
