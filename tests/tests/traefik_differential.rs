//! switchyard against the real Traefik (3.7.15, run directly on 127.0.0.1 with the file provider; no Docker):
//! the same inputs go to both, and their verdicts are compared case by case. Each section prints its numbers
//! (cases, agreed, disagreed) and fails on any disagreement.
//!
//! - rules: Traefik's own corpora and thousands of generated rules (`switchyard_e2e::rule_gen`), many routers
//!   per file; a router Traefik disables must be one whose rule switchyard refuses, and the other way round;
//!   where Traefik's error gives a position (Go's parser: `1:23: missing ','`), switchyard's error covers it or
//!   lies before it, never after (Go reads a rule as a Go expression, which allows more than the rule grammar:
//!   `switchyard_real_traefik::rules::compare`, which the `rule_differential` fuzz target uses too).
//!   Switchyard does not read nesting deeper than 64 parentheses or `!` (`rules::MAX_DEPTH`, its recursive
//!   parser's bound; Traefik reads about 100,000 levels): it accepts such a rule with a warning that it is not
//!   checked, which agrees with Traefik's verdict, and the count of such rules is shown apart.
//! - the validator: a string for `entryPoints` is the list Traefik reads (no error); a file Traefik refuses
//!   gives no finding drawn from the rest of it; a Go template that does not parse (in a comment too) refuses
//!   the file, and one calling every function switchyard knows loads.
//! - routing: requests sent as written (dot segments, escapes, headers, queries, methods, hosts with ports and
//!   capitals, regexps, negations, explicit priorities and the rule's length; clients at other loopback
//!   addresses for ClientIP; TLS through `openssl s_client` to routers with and without `tls` on one entry
//!   point) to backends that answer their router's name: the router the simulator picks (or its 404, 400) is
//!   the one that answers. Set `SHOW_ROUTING=1` to print every case (and every count of the next two sections).
//! - round robin: whole rounds of requests through weighted services (weights written, unset, 0; nested three
//!   deep) and load balancers with server weights: each backend's count is the simulator's.
//! - health: the same services with servers that answer nothing, before the first probe (probed hourly: the
//!   simulator's `Node::unprobed`, their requests get 502) and after it (probed every 300 ms, read once Traefik
//!   shows them DOWN: skipped, 503 when nothing is left).
//! - sticky cookies: every form of value (Traefik's SHA-256 form, the raw name or URL, FNV-1 in hex) for a
//!   weighted child written with and without `@file` and for a load balancer's servers, and forms Traefik does
//!   not take: a value pins the backend in Traefik exactly when the simulator says it does.
//! - rendering: what switchyard writes (the 1,000-app benchmark's configuration, 48,000 routers in 3,000
//!   files; the playground's example beside its declared file) loads with no router, service or middleware
//!   disabled or warned about.
//! - metrics: the per-service counters a rollout judges by, read from Traefik's `/metrics` after real requests.

#![allow(clippy::unwrap_used, clippy::print_stdout)] // a panic in a test is a failing test; the numbers are printed

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use switchyard_e2e::rule_gen;
use switchyard_e2e::traefik::LocalTraefik;
use switchyard_real_traefik::rules::{Agreement, RuleJudge, compare, yaml_quoted};

/// A section's tally, printed as one line.
#[derive(Default)]
struct Tally {
    cases: usize,
    disagreed: Vec<String>,
    /// Rules accepted unread (nested deeper than switchyard reads), among the agreed.
    unread: usize,
}

impl Tally {
    /// Counts a case, and records it when switchyard's answer is not Traefik's. `SHOW_ROUTING=1` prints each.
    fn check<T: PartialEq + std::fmt::Debug>(&mut self, case: &str, traefik: &T, ours: &T) {
        self.cases += 1;
        let line = format!("{case}: Traefik {traefik:?}, switchyard {ours:?}");
        if std::env::var_os("SHOW_ROUTING").is_some() {
            println!("{line}");
        }
        if traefik != ours {
            self.disagreed.push(line);
        }
    }

    fn report(&self, section: &str) -> String {
        let agreed = self.cases - self.disagreed.len();
        let unread = match self.unread {
            0 => String::new(),
            n => format!(" ({n} of them accepted unread: nested deeper than 64)"),
        };
        format!("{section}: {} cases, {agreed} agreed{unread}, {} disagreed", self.cases, self.disagreed.len())
    }
}

/// The lines of a reference corpus (`../shared/reference/traefik/rules_*.txt`).
fn corpus(name: &str) -> Vec<String> {
    let text = std::fs::read_to_string(switchyard_e2e::reference(name)).unwrap();
    text.lines().filter(|l| !l.trim().is_empty()).map(str::to_string).collect()
}

#[test]
fn rules_agree_with_the_real_traefik() {
    let started = Instant::now();
    let mut cases: Vec<(String, &str)> = Vec::new();
    cases.extend(corpus("rules_valid.txt").into_iter().map(|r| (r, "corpus")));
    cases.extend(corpus("rules_invalid.txt").into_iter().map(|r| (r, "corpus")));
    cases.extend(rule_gen::rules(0x5EED_2026, 10_000).into_iter().map(|r| (r, "generated")));
    // Found by the `rule_differential` fuzz target: characters Rust calls alphabetic or numeric that Go's scanner
    // calls illegal (a mark, U+065F; letter numbers, U+2160; a superscript digit, U+00B2).
    let found = ["Hostod\u{65f}`", "Host\u{2160}(`a`)", "Host(`a`) && P\u{b2}(`b`)", "H\u{65f}ost(`a`)"];
    cases.extend(found.into_iter().map(|r| (r.to_string(), "found by fuzzing")));
    let rules: Vec<&str> = cases.iter().map(|(r, _)| r.as_str()).collect();
    let dir = tempfile::tempdir().unwrap();
    let mut judge = RuleJudge::start(dir.path());
    let verdicts = judge.verdicts(&rules, Duration::from_secs(120));

    let mut tallies: BTreeMap<&str, Tally> = BTreeMap::new();
    let (mut refused, mut accepted, mut earlier, mut positioned) = (0, 0, 0, 0);
    for ((rule, section), traefik) in cases.iter().zip(&verdicts) {
        let tally = tallies.entry(section).or_default();
        tally.cases += 1;
        match compare(rule, traefik) {
            Agreement::Accepted => accepted += 1,
            // Accepted with a warning that switchyard does not read it, as `validate` reports it.
            Agreement::AcceptedUnread => {
                accepted += 1;
                tally.unread += 1;
            }
            Agreement::Refused => refused += 1,
            Agreement::RefusedEarlier => {
                refused += 1;
                earlier += 1;
            }
            Agreement::Disagreed(why) => tally.disagreed.push(why),
        }
        if traefik.as_deref().is_some_and(|error| switchyard_real_traefik::rules::go_position(rule, error).is_some()) {
            positioned += 1;
        }
    }
    let lines: Vec<String> = tallies.iter().map(|(section, t)| t.report(&format!("rules ({section})"))).collect();
    println!(
        "{}\n(Traefik accepted {accepted} and disabled {refused} where both agree; {positioned} of Traefik's errors \
         give a position: switchyard's error covers it for {}, and lies before it for {earlier}, where the rule \
         grammar fails before a Go expression does; {:.1} s)",
        lines.join("\n"),
        positioned - earlier,
        started.elapsed().as_secs_f64()
    );
    // The README's example of an error switchyard finds before Go's parser does: the lone `&` (byte 8), where
    // Traefik's error points at the `&&` after it (byte 10).
    let example = "Query() & && Path(`/`)";
    let verdict = judge.verdicts(&[example], Duration::from_secs(30)).remove(0);
    assert_eq!(compare(example, &verdict), Agreement::RefusedEarlier, "{verdict:?}");
    let at = verdict.as_deref().and_then(|error| switchyard_real_traefik::rules::go_position(example, error));
    assert_eq!((at, switchyard_traefik::rules::parse(example).unwrap_err().span.0), (Some(10), 8), "{verdict:?}");
    let disagreed: Vec<&String> = tallies.values().flat_map(|t| &t.disagreed).collect();
    assert!(
        disagreed.is_empty(),
        "{} disagreements:\n{}",
        disagreed.len(),
        disagreed.iter().map(|d| format!("- {d}")).collect::<Vec<_>>().join("\n")
    );
}

/// Starts Traefik on one file and returns its `@file` routers and services once it has read the file, or
/// empty maps when it refused it (its log shows the error).
fn traefik_reads(
    name: &str,
    text: &str,
) -> (serde_json::Map<String, serde_json::Value>, serde_json::Map<String, serde_json::Value>) {
    let dir = tempfile::tempdir().unwrap();
    let dynamic = dir.path().join("dynamic");
    std::fs::create_dir_all(&dynamic).unwrap();
    std::fs::write(dynamic.join(name), text).unwrap();
    let traefik = LocalTraefik::start(&dynamic, &["web", "websecure"], &[], &dir.path().join("traefik.log"));
    let start = Instant::now();
    loop {
        let raw = traefik.rawdata();
        let of_file = |section: &str| {
            let mut all = raw[section].as_object().cloned().unwrap_or_default();
            all.retain(|name, _| name.ends_with("@file"));
            all
        };
        let (routers, services) = (of_file("routers"), of_file("services"));
        if !routers.is_empty() || !services.is_empty() || traefik.log_text().contains("ERR") {
            return (routers, services);
        }
        assert!(start.elapsed() < Duration::from_secs(30), "Traefik read nothing:\n{}", traefik.log_text());
        std::thread::sleep(Duration::from_millis(100));
    }
}

const SERVICE: &str =
    "  services:\n    s:\n      loadBalancer:\n        servers:\n          - url: http://127.0.0.1:9\n";

#[test]
fn a_string_for_entry_points_is_a_list_to_both() {
    let yaml = |written: &str| {
        format!(
            "http:\n  routers:\n    r:\n      entryPoints: {written}\n      rule: Host(`a`)\n      service: s\n{SERVICE}"
        )
    };
    let toml = |written: &str| {
        format!(
            "[http.routers.r]\nentryPoints = \"{written}\"\nrule = \"Host(`a`)\"\nservice = \"s\"\n\
             [http.services.s.loadBalancer]\n[[http.services.s.loadBalancer.servers]]\nurl = \"http://127.0.0.1:9\"\n"
        )
    };
    let cases = [
        ("a.yml", yaml("websecure"), &["websecure"][..]),
        ("a.yml", yaml("web,websecure"), &["web", "websecure"][..]),
        ("a.yml", yaml("web, websecure"), &["web", "websecure"][..]),
        ("a.toml", toml("web,websecure"), &["web", "websecure"][..]),
    ];
    for (name, text, expected) in cases {
        let (routers, _) = traefik_reads(name, &text);
        let router = &routers["r@file"];
        assert_eq!(router["status"], "enabled", "{router}");
        assert_eq!(router["entryPoints"], serde_json::json!(expected), "{router}");

        let files = [(name.to_string(), text.clone())];
        let found = switchyard_traefik::validate::validate_files(&files);
        assert!(!switchyard_diagnostics::has_errors(&found), "{found:?}");
        let loaded = switchyard_traefik::dynamic::load(&files);
        let ours = loaded.config.http.as_ref().unwrap().routers.as_ref().unwrap()["r"].entry_points.clone().unwrap();
        assert_eq!(ours, expected);
    }
}

#[test]
fn a_refused_file_gives_no_findings_drawn_from_it() {
    // The router uses the service, but a YAML syntax error (an unclosed quote) cuts the file after the service:
    // read in part, the service would seem used by nothing.
    let text = format!("http:\n{SERVICE}  routers:\n    r:\n      rule: \"Host(`a`)\n      service: s\n");
    let (routers, services) = traefik_reads("a.yml", &text);
    assert!(routers.is_empty() && services.is_empty(), "Traefik read the file: {routers:?} {services:?}");

    let found = switchyard_traefik::validate::validate_files(&[("a.yml".to_string(), text)]);
    assert!(switchyard_diagnostics::has_errors(&found), "{found:?}");
    assert!(found.iter().all(|d| d.code != "SY3210"), "a finding drawn from the refused file: {found:?}");

    // A file Traefik refuses for its structure (an empty `middlewares` block): nothing of it runs, so no
    // finding is drawn from the rest of it (its service, used by nothing, would otherwise be SY3210).
    let text = format!("http:\n{SERVICE}  middlewares: {{}}\n");
    let (routers, services) = traefik_reads("a.yml", &text);
    assert!(routers.is_empty() && services.is_empty(), "Traefik read the file: {routers:?} {services:?}");
    let found = switchyard_traefik::validate::validate_files(&[("a.yml".to_string(), text)]);
    assert!(found.iter().any(|d| d.code == "SY3004" && d.is_error()), "{found:?}");
    assert!(found.iter().all(|d| d.code != "SY3210"), "a finding drawn from the refused file: {found:?}");
}

#[test]
fn a_template_that_does_not_parse_refuses_the_file_and_one_that_does_loads() {
    let router = "http:\n  routers:\n    r:\n      rule: Host(`a`)\n      service: s\n";
    // Every function switchyard knows, called in a block that never runs: Traefik parses the template (an
    // unknown function would refuse the file) and loads the file.
    let calls: String =
        switchyard_traefik::dynamic::TEMPLATE_FUNCTIONS.iter().map(|f| format!("{{{{ {f} }}}}")).collect();
    let known = format!("# {{{{ if false }}}}{calls}{{{{ end }}}}\n{router}{SERVICE}");
    let (routers, _) = traefik_reads("a.yml", &known);
    assert_eq!(routers["r@file"]["status"], "enabled", "{routers:?}");
    let found = switchyard_traefik::validate::validate_files(&[("a.yml".to_string(), known)]);
    assert!(!switchyard_diagnostics::has_errors(&found), "{found:?}");
    assert!(found.iter().any(|d| d.code == "SY3007"), "{found:?}");

    // A `{{` in a comment, a function Go does not know; a template inside a YAML double-quoted string whose
    // quotes are escaped for YAML (Go's lexer reads the backslash); an action never closed.
    for broken in [
        format!("# see {{{{ in the docs }}}}\n{router}{SERVICE}"),
        format!(
            "http:\n  routers:\n    r:\n      rule: \"Host(`{{{{ env \\\"HOST\\\" }}}}`)\"\n      service: s\n{SERVICE}"
        ),
        format!("# {{{{ env \"HOST\"\n{router}{SERVICE}"),
        // In later sprig releases, not in the one Traefik 3.7 is built with.
        format!("# {{{{ sha512sum \"a\" }}}}\n{router}{SERVICE}"),
    ] {
        let (routers, services) = traefik_reads("a.yml", &broken);
        assert!(routers.is_empty() && services.is_empty(), "Traefik read {broken:?}: {routers:?}");
        let found = switchyard_traefik::validate::validate_files(&[("a.yml".to_string(), broken.clone())]);
        let error = found.iter().find(|d| d.code == "SY3013").unwrap_or_else(|| panic!("{broken:?}: {found:?}"));
        assert!(error.is_error() && error.message.contains("refuses the whole file"), "{error:?}");
    }
}

/// Backends on 127.0.0.1 that answer every request with their own name; stopped with the test process.
fn named_backends(names: &[&str]) -> BTreeMap<String, u16> {
    names
        .iter()
        .map(|name| {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let port = listener.local_addr().unwrap().port();
            let body = name.to_string();
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    let Ok(mut stream) = stream else { continue };
                    let body = body.clone();
                    std::thread::spawn(move || {
                        use std::io::{Read, Write};
                        let mut buf = [0u8; 4096];
                        let _ = stream.read(&mut buf);
                        let _ = write!(
                            stream,
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        );
                    });
                }
            });
            (name.to_string(), port)
        })
        .collect()
}

/// One raw HTTP/1.1 request (`target` sent as written: dot segments and escapes reach Traefik untouched)
/// from the loopback address `from` (Traefik's `ClientIP` sees it), over TLS with `Host` as the server name
/// when `tls` (through `openssl s_client`, a real TLS client): the status and body.
fn send(port: u16, request: &Routed<'_>) -> (u16, String) {
    use std::io::{Read, Write};
    let mut text =
        format!("{} {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n", request.method, request.target, request.host);
    for (name, value) in request.headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    let raw = if request.tls {
        let server_name = request.host.split(':').next().unwrap_or_default();
        let mut child = std::process::Command::new("openssl")
            .args(["s_client", "-quiet", "-ign_eof", "-connect", &format!("127.0.0.1:{port}")])
            .args(["-servername", server_name])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("openssl is installed (cargo xtask ci installs it)");
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
        String::from_utf8_lossy(&child.wait_with_output().unwrap().stdout).into_owned()
    } else {
        let from: std::net::IpAddr = request.from.parse().unwrap();
        let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        socket.bind(&std::net::SocketAddr::new(from, 0).into()).unwrap();
        socket.connect(&std::net::SocketAddr::from(([127, 0, 0, 1], port)).into()).unwrap();
        let mut stream: std::net::TcpStream = socket.into();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        stream.write_all(text.as_bytes()).unwrap();
        let mut raw = String::new();
        let _ = stream.read_to_string(&mut raw);
        raw
    };
    let status = raw.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = raw.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

/// A request of the routing corpus.
#[derive(Debug, Clone, Copy)]
struct Routed<'a> {
    method: &'a str,
    /// The `Host` header (and the TLS server name).
    host: &'a str,
    /// The target as sent.
    target: &'a str,
    headers: &'a [(&'a str, &'a str)],
    /// The client's address (on loopback).
    from: &'a str,
    /// Sent over TLS, to the entry point `websecure`; else to `web`.
    tls: bool,
}

impl<'a> Routed<'a> {
    /// Plain HTTP from 127.0.0.1.
    fn plain(method: &'a str, host: &'a str, target: &'a str, headers: &'a [(&'a str, &'a str)]) -> Routed<'a> {
        Routed { method, host, target, headers, from: "127.0.0.1", tls: false }
    }
}

/// A request of the routing corpus as written: method, `Host`, target as sent, headers.
type RoutedRequest = (&'static str, &'static str, &'static str, &'static [(&'static str, &'static str)]);

#[test]
fn routing_agrees_with_the_real_traefik() {
    // Each router has its own service and backend, which answers with the router's name.
    // Routers with middlewares: (router, middlewares); `ok` is defined, `nope` is not.
    let guarded: &[(&str, &str)] = &[("guarded", "nope@file"), ("guarded_local", "nope"), ("headers", "ok@file")];
    let routers: &[(&str, &str, Option<i64>)] = &[
        ("host_a", "Host(`a.test`)", None),
        ("host_a_api", "Host(`a.test`) && PathPrefix(`/api`)", None),
        ("host_a_v1", "Host(`a.test`) && Path(`/api/v1`)", Some(1000)),
        ("canary", "Host(`b.test`) && Header(`X-Canary`, `1`)", None),
        ("b_default", "Host(`b.test`)", None),
        ("post", "Host(`c.test`) && Method(`POST`)", None),
        ("query_v2", "Host(`c.test`) && Query(`v`, `2`)", None),
        ("c_default", "Host(`c.test`)", Some(1)),
        ("subdomains", "HostRegexp(`^[a-z]+\\.d\\.test$`)", None),
        ("items", "Host(`e.test`) && PathRegexp(`^/items/[0-9]+$`)", None),
        ("spaced", "Host(`e.test`) && Path(`/a b`)", None),
        ("local_clients", "Host(`f.test`) && ClientIP(`127.0.0.0/8`)", None),
        ("other_clients", "Host(`f.test`) && ClientIP(`10.0.0.0/8`)", Some(9999)),
        ("public", "Host(`g.test`) && !PathPrefix(`/private`)", None),
        ("upper", "Host(`H.test`)", None),
        ("fallback", "PathPrefix(`/fallback`)", Some(1)),
        ("slash", "Host(`i.test`) && Path(`/a/b`)", None),
        ("paren", "Host(`i.test`) && Path(`/a(b)`)", None),
        ("cafe", "Host(`i.test`) && Path(`/café`)", None),
        ("bang", "Host(`i.test`) && Path(`/a!b*`)", None),
        ("guarded", "Host(`j.test`)", Some(300)),
        ("guarded_local", "Host(`j.test`)", Some(200)),
        ("j_default", "Host(`j.test`)", Some(1)),
        ("headers", "Host(`k.test`)", None),
        ("quote", "Host(`i.test`) && Path(`/a'b`)", None),
        ("client_two", "Host(`f.test`) && ClientIP(`127.0.0.2`)", Some(5000)),
        ("client_range", "Host(`f.test`) && ClientIP(`127.0.0.4/30`, `127.0.0.200`)", Some(4000)),
        ("not_client_three", "Host(`m.test`) && !ClientIP(`127.0.0.3`)", None),
    ];
    // Routers on the entry point `websecure`, with `tls: {}` when marked: (name, rule, tls).
    let secure: &[(&str, &str, bool)] = &[
        ("s_tls", "Host(`s.test`)", true),
        ("s_plain", "Host(`s.test`)", false),
        ("t_tls_api", "Host(`t.test`) && PathPrefix(`/api`)", true),
        ("u_plain_only", "Host(`u.test`)", false),
    ];
    let names: Vec<&str> =
        routers.iter().map(|(name, _, _)| *name).chain(secure.iter().map(|(name, _, _)| *name)).collect();
    let backends = named_backends(&names);
    let mut yaml = String::from("http:\n  routers:\n");
    for (name, rule, priority) in routers {
        yaml.push_str(&format!(
            "    {name}:\n      entryPoints: [web]\n      service: {name}\n      rule: {}\n",
            yaml_quoted(rule)
        ));
        if let Some(priority) = priority {
            yaml.push_str(&format!("      priority: {priority}\n"));
        }
        if let Some((_, middleware)) = guarded.iter().find(|(router, _)| router == name) {
            yaml.push_str(&format!("      middlewares: [{middleware}]\n"));
        }
    }
    for (name, rule, tls) in secure {
        yaml.push_str(&format!(
            "    {name}:\n      entryPoints: [websecure]\n      service: {name}\n      rule: {}\n",
            yaml_quoted(rule)
        ));
        if *tls {
            yaml.push_str("      tls: {}\n");
        }
    }
    yaml.push_str("  middlewares:\n    ok:\n      headers:\n        customRequestHeaders:\n          X-A: \"1\"\n");
    yaml.push_str("  services:\n");
    for (name, port) in &backends {
        yaml.push_str(&format!(
            "    {name}:\n      loadBalancer:\n        servers:\n          - url: http://127.0.0.1:{port}\n"
        ));
    }
    let requests: &[RoutedRequest] = &[
        ("GET", "a.test", "/", &[]),
        ("GET", "a.test", "/api", &[]),
        ("GET", "a.test", "/api/v1", &[]),
        ("GET", "a.test", "/api/v1/", &[]),
        ("GET", "a.test", "/x/../api/v1", &[]),
        ("GET", "a.test", "/api/./v1", &[]),
        ("GET", "a.test", "//api//v1", &[]),
        ("GET", "a.test", "/api/v1/..", &[]),
        ("GET", "a.test", "/%2e%2e/api/v1", &[]),
        ("GET", "a.test", "/ap%69/v1", &[]),
        ("GET", "a.test:80", "/api", &[]),
        ("GET", "A.TEST", "/", &[]),
        ("GET", "a.test", "/api?x=1", &[]),
        ("GET", "b.test", "/", &[]),
        ("GET", "b.test", "/", &[("X-Canary", "1")]),
        ("GET", "b.test", "/", &[("x-canary", "1")]),
        ("GET", "b.test", "/", &[("X-Canary", "2")]),
        ("POST", "c.test", "/", &[]),
        ("GET", "c.test", "/?v=2", &[]),
        ("GET", "c.test", "/?v=3", &[]),
        ("GET", "c.test", "/?v=1&v=2", &[]),
        ("post", "c.test", "/", &[]),
        ("GET", "x.d.test", "/", &[]),
        ("GET", "x.y.d.test", "/", &[]),
        ("GET", "d.test", "/", &[]),
        ("GET", "e.test", "/items/12", &[]),
        ("GET", "e.test", "/items/12/", &[]),
        ("GET", "e.test", "/items/x", &[]),
        ("GET", "e.test", "/a%20b", &[]),
        ("GET", "f.test", "/", &[]),
        ("GET", "g.test", "/", &[]),
        ("GET", "g.test", "/private/x", &[]),
        ("GET", "g.test", "/public/../private/x", &[]),
        ("GET", "h.test", "/", &[]),
        ("GET", "nowhere.test", "/", &[]),
        ("GET", "nowhere.test", "/fallback/x", &[]),
        ("GET", "i.test", "/a/b", &[]),
        ("GET", "i.test", "/a%2fb", &[]),
        ("GET", "i.test", "/a%2Fb", &[]),
        ("GET", "i.test", "/a(b)", &[]),
        ("GET", "i.test", "/a%28b%29", &[]),
        ("GET", "i.test", "/caf%C3%A9", &[]),
        ("GET", "i.test", "/caf%c3%a9", &[]),
        ("GET", "i.test", "/%zz", &[]),
        ("GET", "i.test", "/a!b*", &[]),
        ("GET", "i.test", "/a%21b%2A", &[]),
        ("GET", "i.test", "/a'b", &[]),
        ("GET", "j.test", "/", &[]),
        ("GET", "k.test", "/", &[]),
        ("GET", "i.test", "/a%27b", &[]),
    ];
    let mut cases: Vec<Routed<'_>> =
        requests.iter().map(|&(m, h, t, headers)| Routed::plain(m, h, t, headers)).collect();
    // Other clients on loopback: Traefik's ClientIP sees the connection's source address.
    for (from, host) in [
        ("127.0.0.2", "f.test"),
        ("127.0.0.5", "f.test"),
        ("127.0.0.7", "f.test"),
        ("127.0.0.8", "f.test"),
        ("127.0.0.200", "f.test"),
        ("127.0.0.201", "f.test"),
        ("127.0.0.3", "m.test"),
        ("127.0.0.4", "m.test"),
    ] {
        cases.push(Routed { from, ..Routed::plain("GET", host, "/", &[]) });
    }
    // TLS on `websecure` (Traefik's default certificate; SNI is the host): routers with `tls` answer TLS
    // requests, the others plain HTTP on the same entry point.
    for (host, target, tls) in [
        ("s.test", "/", true),
        ("s.test", "/", false),
        ("t.test", "/api/x", true),
        ("t.test", "/api/x", false),
        ("t.test", "/", true),
        ("u.test", "/", true),
        ("u.test", "/", false),
        ("a.test", "/", true),
        ("S.TEST", "/", true),
    ] {
        cases.push(Routed { tls, ..Routed::plain("GET", host, target, &[]) });
    }

    let dir = tempfile::tempdir().unwrap();
    let dynamic = dir.path().join("dynamic");
    std::fs::create_dir_all(&dynamic).unwrap();
    std::fs::write(dynamic.join("routes.yml"), &yaml).unwrap();
    let traefik = LocalTraefik::start(&dynamic, &["web", "websecure"], &[], &dir.path().join("traefik.log"));
    let port = traefik.port("web");
    let start = Instant::now();
    while send(port, &Routed::plain("GET", "a.test", "/", &[])).1 != "host_a" {
        assert!(start.elapsed() < Duration::from_secs(30), "Traefik does not route:\n{}", traefik.log_text());
        std::thread::sleep(Duration::from_millis(100));
    }

    let files = [("routes.yml".to_string(), yaml.clone())];
    let loaded = switchyard_traefik::dynamic::load(&files);
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    let mut tally = Tally::default();
    for case in &cases {
        let Routed { method, host, target, headers, from, tls } = *case;
        let entry_point = if tls { "websecure" } else { "web" };
        let (status, body) = send(traefik.port(entry_point), case);
        let traefik_says = if status == 200 { body } else { status.to_string() };
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let header_lines: Vec<String> = headers.iter().map(|(n, v)| format!("{n}: {v}")).collect();
        let req = switchyard_traefik::simulate::http::HttpRequest::from_parts(
            &switchyard_traefik::simulate::http::RequestParts {
                method,
                host,
                path,
                headers: header_lines.iter().map(String::as_str).collect(),
                query: query.split('&').collect(),
                client_ip: Some(from),
                entry_point: Some(entry_point),
                tls,
                ..Default::default()
            },
        )
        .unwrap();
        let answer = switchyard_traefik::simulate::http::answer(&loaded.config, &req, &Default::default());
        let ours = match answer.candidates.first() {
            Some(winner) if answer.status == 200 => winner.router.clone(),
            _ => answer.status.to_string(),
        };
        let sent = format!("{method} {}://{host}{target} {headers:?} from {from}", if tls { "https" } else { "http" });
        tally.check(&sent, &traefik_says, &ours);
    }
    println!("{}", tally.report("routing"));
    assert!(tally.disagreed.is_empty(), "{}", tally.disagreed.join("\n"));
}

#[test]
fn sticky_cookies_agree_with_the_real_traefik() {
    use switchyard_traefik::simulate::sticky::cookie_value;
    let backends = named_backends(&["blue", "green", "p1", "p2"]);
    let url = |name: &str| format!("http://127.0.0.1:{}", backends[name]);
    let yaml = format!(
        "http:\n  routers:\n    w:\n      entryPoints: [web]\n      rule: Host(`w.test`)\n      service: split\n    \
         p:\n      entryPoints: [web]\n      rule: Host(`p.test`)\n      service: pool\n  services:\n    split:\n      \
         weighted:\n        sticky:\n          cookie:\n            name: lb\n        services:\n          - name: blue\n          \
         - name: green@file\n    blue:\n      loadBalancer:\n        servers:\n          - url: {}\n    green:\n      \
         loadBalancer:\n        servers:\n          - url: {}\n    pool:\n      loadBalancer:\n        sticky:\n          \
         cookie:\n            name: srv\n        servers:\n          - url: {}\n          - url: {}\n",
        url("blue"),
        url("green"),
        url("p1"),
        url("p2")
    );
    let fnv = |name: &str| format!("{:x}", fnv1(name));
    // (host, cookie, value): every form Traefik might be sent, and names it must not take.
    let cases: Vec<(&str, &str, String)> = vec![
        ("w.test", "lb", cookie_value("blue")),
        ("w.test", "lb", cookie_value("green@file")),
        ("w.test", "lb", cookie_value("green")),
        ("w.test", "lb", "blue".into()),
        ("w.test", "lb", "green@file".into()),
        ("w.test", "lb", "green".into()),
        ("w.test", "lb", fnv("blue")),
        ("w.test", "lb", fnv("green@file")),
        ("w.test", "lb", "nothing".into()),
        ("p.test", "srv", cookie_value(&url("p2"))),
        ("p.test", "srv", url("p2")),
        ("p.test", "srv", fnv(&url("p1"))),
        ("p.test", "srv", cookie_value("p2")),
        ("w.test", "lb", format!("{:x}", fnv1a("blue"))),
        ("w.test", "lb", format!("{}", fnv1("blue"))),
    ];

    let dir = tempfile::tempdir().unwrap();
    let dynamic = dir.path().join("dynamic");
    std::fs::create_dir_all(&dynamic).unwrap();
    std::fs::write(dynamic.join("sticky.yml"), &yaml).unwrap();
    let traefik = LocalTraefik::start(&dynamic, &["web"], &[], &dir.path().join("traefik.log"));
    let port = traefik.port("web");
    let start = Instant::now();
    while send(port, &Routed::plain("GET", "p.test", "/", &[])).0 != 200 {
        assert!(start.elapsed() < Duration::from_secs(30), "Traefik does not route:\n{}", traefik.log_text());
        std::thread::sleep(Duration::from_millis(100));
    }
    let files = [("sticky.yml".to_string(), yaml.clone())];
    let loaded = switchyard_traefik::dynamic::load(&files);
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    let mut tally = Tally::default();
    for (host, cookie, value) in &cases {
        tally.cases += 1;
        // Pinned: six requests in a row reach one backend; without a pin, 1:1 round robin alternates.
        let header = format!("{cookie}={value}");
        let answers: std::collections::BTreeSet<String> =
            (0..6).map(|_| send(port, &Routed::plain("GET", host, "/", &[("Cookie", header.as_str())])).1).collect();
        let traefik_pins = (answers.len() == 1).then(|| answers.into_iter().next().unwrap());
        let req = switchyard_traefik::simulate::http::HttpRequest::from_parts(
            &switchyard_traefik::simulate::http::RequestParts {
                host,
                cookies: vec![&header],
                entry_point: Some("web"),
                ..Default::default()
            },
        )
        .unwrap();
        let answer = switchyard_traefik::simulate::http::answer(&loaded.config, &req, &Default::default());
        let pinned = answer.notes.iter().any(|n| n.starts_with("sticky cookie"));
        let ours = pinned.then(|| {
            let server = answer.server.clone().unwrap_or_default();
            backends
                .iter()
                .find(|(_, port)| server.ends_with(&format!(":{port}")))
                .map(|(n, _)| n.clone())
                .unwrap_or(server)
        });
        if ours != traefik_pins {
            tally.disagreed.push(format!("{host} {header}: Traefik pins {traefik_pins:?}, switchyard {ours:?}"));
        }
    }
    println!("{}", tally.report("sticky cookies"));
    assert!(tally.disagreed.is_empty(), "{}", tally.disagreed.join("\n"));
}

/// FNV-1a 64-bit: not what Traefik accepts.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, b| (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
}

/// FNV-1 64-bit, as older Traefik wrote sticky cookies.
fn fnv1(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash: u64, b| hash.wrapping_mul(0x0000_0100_0000_01b3) ^ u64::from(b))
}

/// Loads `files` as one directory into a fresh Traefik and returns every `@file` router, service and middleware
/// that is not enabled, with its status and errors, once Traefik shows at least `routers` routers.
fn not_enabled(files: &[(String, String)], routers: usize) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let dynamic = dir.path().join("dynamic");
    std::fs::create_dir_all(&dynamic).unwrap();
    // Started on the empty directory (a start over thousands of files answers its ping only once they are
    // read), then given the files, which its watcher picks up.
    let traefik = LocalTraefik::start(&dynamic, &["web", "websecure"], &[], &dir.path().join("traefik.log"));
    for (name, text) in files {
        std::fs::write(dynamic.join(name), text).unwrap();
    }
    let start = Instant::now();
    // `/api/overview` counts what is loaded and what has warnings or errors, cheaply at any size.
    let overview = || -> serde_json::Value {
        let r = switchyard_e2e::traefik::get(traefik.api_port, "127.0.0.1", "/api/overview", &[]).unwrap();
        serde_json::from_str(&r.body).unwrap()
    };
    loop {
        let o = overview();
        let total = o["http"]["routers"]["total"].as_u64().unwrap_or(0) as usize;
        // Traefik's own routers (api, dashboard, ping) are counted too.
        if total >= routers {
            let bad: u64 = ["routers", "services", "middlewares"]
                .iter()
                .map(|s| o["http"][s]["warnings"].as_u64().unwrap_or(0) + o["http"][s]["errors"].as_u64().unwrap_or(0))
                .sum();
            if bad == 0 {
                return Vec::new();
            }
            let raw = traefik.rawdata();
            return ["routers", "services", "middlewares"]
                .iter()
                .flat_map(|section| raw[section].as_object().cloned().unwrap_or_default())
                .filter(|(name, v)| name.ends_with("@file") && v["status"] != "enabled")
                .map(|(name, v)| format!("{name}: {} {}", v["status"], v["error"]))
                .collect();
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "Traefik shows {total} of {routers} routers:\n{}",
            traefik.log_text()
        );
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// Renders every environment of `spec` at the fixtures' state (a promotion under way) beside `beside` (the
/// user's own files), loads them into the real Traefik and fails on any definition not enabled.
fn loads_enabled(what: &str, spec: &str, beside: &[(&str, &str)]) {
    let spec = switchyard_model::Spec::parse(spec, "switchyard.yaml").unwrap();
    let mut files: Vec<(String, String)> = beside.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect();
    let mut routers = 0;
    for state in switchyard_fixtures::states(&spec) {
        let rendered = switchyard_model::render::render_env(&spec, &state).unwrap();
        routers += rendered.config.http.as_ref().map_or(0, |h| h.routers.len());
        let name = switchyard_model::naming::config_file(&state.app, &state.env);
        files.push((name, switchyard_model::render::to_yaml(&rendered.config).unwrap()));
    }
    let refused = not_enabled(&files, routers);
    println!("rendering ({what}): {} files, {routers} routers, {} not enabled", files.len(), refused.len());
    assert!(refused.is_empty(), "{}", refused.join("\n"));
}

#[test]
fn the_playgrounds_example_loads_with_every_definition_enabled() {
    // The playground's example, beside the user's file it declares.
    loads_enabled("example", switchyard_model::EXAMPLE_SPEC, switchyard_model::EXAMPLE_FILES);
}

/// The configuration of the 1,000-app rendering benchmark (`switchyard_fixtures`: 1,000 apps x 3 environments).
#[test]
fn the_benchmarks_configuration_of_1000_apps_loads_with_every_definition_enabled() {
    let started = Instant::now();
    let spec = switchyard_fixtures::spec_source(1000, switchyard_fixtures::Layout::Flow);
    let spec = switchyard_model::Spec::parse(&spec, "switchyard.yaml").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let dynamic = dir.path().join("dynamic");
    std::fs::create_dir_all(&dynamic).unwrap();
    let (mut files, mut routers, mut services) = (0, 0, 0);
    for state in switchyard_fixtures::states(&spec) {
        let rendered = switchyard_model::render::render_env(&spec, &state).unwrap();
        if let Some(http) = &rendered.config.http {
            routers += http.routers.len();
            services += http.services.len();
        }
        let name = switchyard_model::naming::config_file(&state.app, &state.env);
        std::fs::write(dynamic.join(name), switchyard_model::render::to_yaml(&rendered.config).unwrap()).unwrap();
        files += 1;
    }
    let written = started.elapsed();
    // Started over the full directory, so that Traefik reads it once: files written one by one into a watched
    // directory make it read the whole directory again for each batch its watcher sees, for many minutes here.
    let traefik = LocalTraefik::start_over(
        &dynamic,
        &["web", "websecure"],
        &[],
        &dir.path().join("traefik.log"),
        Duration::from_secs(600),
    );
    let overview = || -> serde_json::Value {
        let r = switchyard_e2e::traefik::get(traefik.api_port, "127.0.0.1", "/api/overview", &[]).unwrap();
        serde_json::from_str(&r.body).unwrap()
    };
    let count = |o: &serde_json::Value, section: &str, what: &str| o["http"][section][what].as_u64().unwrap_or(0);
    loop {
        let o = overview();
        // Traefik's own routers and services (api, dashboard, ping...) are counted too.
        if count(&o, "routers", "total") as usize >= routers && count(&o, "services", "total") as usize >= services {
            let bad: Vec<String> = ["routers", "services", "middlewares"]
                .iter()
                .map(|s| (s, count(&o, s, "warnings") + count(&o, s, "errors")))
                .filter(|(_, n)| *n > 0)
                .map(|(s, n)| format!("{n} {s} not enabled"))
                .collect();
            assert!(bad.is_empty(), "{}:\n{}", bad.join(", "), traefik.log_text());
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(900),
            "Traefik shows {} of {routers} routers:\n{}",
            count(&o, "routers", "total"),
            traefik.log_text()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    println!(
        "rendering (the benchmark, 1,000 apps): {files} files, {routers} routers, {services} services, every one \
         enabled; written in {:.1} s, loaded by Traefik in {:.1} s",
        written.as_secs_f64(),
        (started.elapsed() - written).as_secs_f64()
    );
}

/// A `loadBalancer` service in the YAML of a `services:` block: its servers (URL, weight) and, with an
/// `interval`, an active health check of `/health`.
fn load_balancer(name: &str, servers: &[(&str, Option<i64>)], interval: Option<&str>) -> String {
    let mut yaml = format!("    {name}:\n      loadBalancer:\n");
    if let Some(interval) = interval {
        yaml.push_str(&format!(
            "        healthCheck:\n          path: /health\n          interval: {interval}\n          timeout: 200ms\n"
        ));
    }
    yaml.push_str("        servers:\n");
    for (url, weight) in servers {
        yaml.push_str(&format!("          - url: {url}\n"));
        if let Some(weight) = weight {
            yaml.push_str(&format!("            weight: {weight}\n"));
        }
    }
    yaml
}

/// A `weighted` service in the YAML of a `services:` block, with `healthCheck: {}` when `health`.
fn weighted(name: &str, children: &[(&str, Option<i64>)], health: bool) -> String {
    let mut yaml = format!("    {name}:\n      weighted:\n");
    if health {
        yaml.push_str("        healthCheck: {}\n");
    }
    yaml.push_str("        services:\n");
    for (child, weight) in children {
        yaml.push_str(&format!("          - name: {child}\n"));
        if let Some(weight) = weight {
            yaml.push_str(&format!("            weight: {weight}\n"));
        }
    }
    yaml
}

/// Loads `services` with one router per name of `routed` (`Host(`NAME.test`)`, to the service NAME) and a
/// router `ready.test` to the service `ready`, and returns the running Traefik once `ready.test` answers, with
/// switchyard's reading of the same file.
fn serve(
    dir: &std::path::Path,
    routed: &[&str],
    services: &str,
) -> (LocalTraefik, switchyard_traefik::dynamic::model::DynamicConfig) {
    let mut yaml = String::from("http:\n  routers:\n");
    for name in routed.iter().chain(&["ready"]) {
        yaml.push_str(&format!(
            "    {name}:\n      entryPoints: [web]\n      rule: Host(`{name}.test`)\n      service: {name}\n"
        ));
    }
    yaml.push_str("  services:\n");
    yaml.push_str(services);
    let dynamic = dir.join("dynamic");
    std::fs::create_dir_all(&dynamic).unwrap();
    std::fs::write(dynamic.join("services.yml"), &yaml).unwrap();
    let files = [("services.yml".to_string(), yaml)];
    let loaded = switchyard_traefik::dynamic::load(&files);
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    let traefik = LocalTraefik::start(&dynamic, &["web"], &[], &dir.join("traefik.log"));
    let start = Instant::now();
    while send(traefik.port("web"), &Routed::plain("GET", "ready.test", "/", &[])).0 != 200 {
        assert!(start.elapsed() < Duration::from_secs(30), "Traefik does not route:\n{}", traefik.log_text());
        std::thread::sleep(Duration::from_millis(50));
    }
    (traefik, loaded.config)
}

/// `n` requests to `NAME.test`, counted by what answered: the backend's name, or the status.
fn traefik_counts(traefik: &LocalTraefik, name: &str, n: usize) -> BTreeMap<String, u64> {
    let host = format!("{name}.test");
    let mut counts = BTreeMap::new();
    for _ in 0..n {
        let (status, body) = send(traefik.port("web"), &Routed::plain("GET", &host, "/", &[]));
        *counts.entry(if status == 200 { body } else { status.to_string() }).or_insert(0) += 1;
    }
    counts
}

/// The simulator's `n` requests through `root`, counted as [`traefik_counts`] counts them: a server by the
/// name of the backend on its port, a failure by its status.
fn simulated_counts(
    root: switchyard_traefik::simulate::Node,
    n: usize,
    backends: &BTreeMap<String, u16>,
) -> BTreeMap<String, u64> {
    use switchyard_traefik::simulate::{Ending, Simulation};
    let mut counts = BTreeMap::new();
    for (ending, count) in Simulation::new(root).run(n) {
        let key = match ending {
            Ending::Server { url, .. } => backends
                .iter()
                .find(|(_, port)| url.ends_with(&format!(":{port}")))
                .map_or(url, |(name, _)| name.clone()),
            Ending::BadGateway { .. } => "502".into(),
            Ending::Unavailable { .. } => "503".into(),
            Ending::NotFound { .. } => "404".into(),
        };
        *counts.entry(key).or_insert(0) += count;
    }
    counts
}

#[test]
fn round_robin_counts_agree_with_the_real_traefik() {
    let backends = named_backends(&["a", "b", "c", "d"]);
    let url: BTreeMap<&str, String> =
        backends.iter().map(|(name, port)| (name.as_str(), format!("http://127.0.0.1:{port}"))).collect();
    let mut services: String =
        ["a", "b", "c", "d"].iter().map(|leaf| load_balancer(leaf, &[(&url[leaf], None)], None)).collect();
    services.push_str(&load_balancer("ready", &[(&url["a"], None)], None));
    // (routed service, requests): whole rounds at every level, where Traefik promises the counts.
    let cases: &[(&str, usize)] = &[
        ("w_1_1", 6),
        ("w_3_1", 8),
        ("w_11_3", 28),
        ("w_2_0_1", 6),
        ("w_unset_2", 6),
        ("w_5_3_2", 20),
        ("nested", 18),
        ("deep", 12),
        ("lb_weights", 12),
        ("lb_plain", 6),
        ("w_of_lb", 8),
    ];
    for def in [
        weighted("w_1_1", &[("a", Some(1)), ("b", Some(1))], false),
        weighted("w_3_1", &[("a", Some(3)), ("b", Some(1))], false),
        weighted("w_11_3", &[("a", Some(11)), ("b", Some(3))], false),
        weighted("w_2_0_1", &[("a", Some(2)), ("b", Some(0)), ("c", Some(1))], false),
        weighted("w_unset_2", &[("a", None), ("b", Some(2))], false),
        weighted("w_5_3_2", &[("a", Some(5)), ("b", Some(3)), ("c", Some(2))], false),
        weighted("nested", &[("nested_in", Some(2)), ("c", Some(1))], false),
        weighted("nested_in", &[("a", Some(1)), ("b", Some(3))], false),
        weighted("deep", &[("deep_mid", Some(1)), ("d", Some(1))], false),
        weighted("deep_mid", &[("deep_in@file", Some(1)), ("c", Some(2))], false),
        weighted("deep_in", &[("a", Some(1)), ("b", Some(1))], false),
        load_balancer("lb_weights", &[(&url["a"], Some(2)), (&url["b"], Some(1)), (&url["c"], Some(3))], None),
        load_balancer("lb_plain", &[(&url["a"], None), (&url["b"], None), (&url["c"], None)], None),
        weighted("w_of_lb", &[("w_of_lb_pool", Some(1)), ("d", Some(1))], false),
        load_balancer("w_of_lb_pool", &[(&url["a"], Some(1)), (&url["b"], Some(3))], None),
    ] {
        services.push_str(&def);
    }
    let routed: Vec<&str> = cases.iter().map(|(name, _)| *name).collect();
    let dir = tempfile::tempdir().unwrap();
    let (traefik, config) = serve(dir.path(), &routed, &services);
    let mut tally = Tally::default();
    for &(name, n) in cases {
        let theirs = traefik_counts(&traefik, name, n);
        let (root, _) = switchyard_traefik::simulate::http::tree(&config, name, &Default::default());
        let ours = simulated_counts(root, n, &backends);
        tally.check(&format!("{name} x{n}"), &theirs, &ours);
    }
    println!("{}", tally.report("round robin counts"));
    assert!(tally.disagreed.is_empty(), "{}", tally.disagreed.join("\n"));
}

#[test]
fn health_before_and_after_the_first_probe_agrees_with_the_real_traefik() {
    let backends = named_backends(&["up1", "up2"]);
    let url = |name: &str| format!("http://127.0.0.1:{}", backends[name]);
    // Servers that answer nothing: ports that were free a moment ago.
    let dead1 = format!("http://127.0.0.1:{}", switchyard_e2e::traefik::free_port());
    let dead2 = format!("http://127.0.0.1:{}", switchyard_e2e::traefik::free_port());
    let down: std::collections::BTreeSet<String> = [dead1.clone(), dead2.clone()].into();
    // The same shapes twice: probed every 300 ms (`after`: read once Traefik shows the dead servers down), and
    // every hour (`before`: read before the first probe).
    let mut services = load_balancer("ready", &[(&url("up1"), None)], None);
    let mut cases: Vec<(String, usize, &str)> = Vec::new();
    for (phase, interval) in [("before", "1h"), ("after", "300ms")] {
        let lb = |name: &str, servers: &[(&str, Option<i64>)]| {
            load_balancer(&format!("{name}_{phase}"), servers, Some(interval))
        };
        let at = |name: &str| format!("{name}_{phase}");
        for def in [
            lb("pool", &[(&url("up1"), None), (&dead1, None)]),
            lb("pool_weights", &[(&url("up1"), Some(3)), (&dead1, Some(1))]),
            lb("pool_dead", &[(&dead1, None), (&dead2, None)]),
            weighted(&at("split"), &[(&at("split_up"), Some(1)), (&at("split_dead"), Some(1))], true),
            lb("split_up", &[(&url("up2"), None)]),
            lb("split_dead", &[(&dead2, None)]),
            weighted(&at("unchecked"), &[(&at("unchecked_up"), Some(1)), (&at("unchecked_dead"), Some(1))], false),
            lb("unchecked_up", &[(&url("up2"), None)]),
            lb("unchecked_dead", &[(&dead2, None)]),
            weighted(&at("all_dead"), &[(&at("all_dead_a"), Some(1)), (&at("all_dead_b"), Some(2))], true),
            lb("all_dead_a", &[(&dead1, None)]),
            lb("all_dead_b", &[(&dead2, None)]),
            weighted(&at("nested"), &[(&at("nested_in"), Some(3)), (&at("nested_up"), Some(1))], true),
            weighted(&at("nested_in"), &[(&at("nested_dead"), Some(1))], true),
            lb("nested_dead", &[(&dead1, None)]),
            lb("nested_up", &[(&url("up1"), None)]),
        ] {
            services.push_str(&def);
        }
        for (name, n) in [
            ("pool", 4),
            ("pool_weights", 8),
            ("pool_dead", 4),
            ("split", 4),
            ("unchecked", 4),
            ("all_dead", 3),
            ("nested", 8),
        ] {
            cases.push((at(name), n, phase));
        }
    }
    let routed: Vec<&str> = cases.iter().map(|(name, _, _)| name.as_str()).collect();
    let dir = tempfile::tempdir().unwrap();
    let (traefik, config) = serve(dir.path(), &routed, &services);
    // `before` first: its probe is an hour away.
    let mut tallies: BTreeMap<&str, Tally> = BTreeMap::new();
    let mut compare = |name: &str, n: usize, phase: &'static str| {
        let tally = tallies.entry(phase).or_default();
        let theirs = traefik_counts(&traefik, name, n);
        let (root, _) = switchyard_traefik::simulate::http::tree(&config, name, &down);
        let root = if phase == "before" { root.unprobed() } else { root };
        let ours = simulated_counts(root, n, &backends);
        tally.check(&format!("{name} x{n}"), &theirs, &ours);
    };
    for (name, n, phase) in cases.iter().filter(|c| c.2 == "before") {
        compare(name, *n, phase);
    }
    // Every probed server with no answer shown DOWN by Traefik: the first probes have run.
    let start = Instant::now();
    loop {
        let raw = traefik.rawdata();
        let statuses: Vec<(String, String)> = raw["services"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(name, _)| name.ends_with("_after@file"))
            .flat_map(|(_, s)| s["serverStatus"].as_object().cloned().unwrap_or_default())
            .map(|(url, status)| (url, status.as_str().unwrap_or_default().to_string()))
            .collect();
        if !statuses.is_empty() && statuses.iter().all(|(url, status)| (status == "DOWN") == down.contains(url)) {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "no probe ran: {statuses:?}\n{}", traefik.log_text());
        std::thread::sleep(Duration::from_millis(100));
    }
    for (name, n, phase) in cases.iter().filter(|c| c.2 == "after") {
        compare(name, *n, phase);
    }
    for (phase, tally) in &tallies {
        println!("{}", tally.report(&format!("health ({phase} the first probe)")));
    }
    let disagreed: Vec<&String> = tallies.values().flat_map(|t| &t.disagreed).collect();
    assert!(disagreed.is_empty(), "{disagreed:?}");
}

#[test]
fn service_counters_read_what_traefik_counts() {
    let backends = named_backends(&["ok"]);
    let dead = format!("http://127.0.0.1:{}", switchyard_e2e::traefik::free_port());
    let mut services = load_balancer("ready", &[(&format!("http://127.0.0.1:{}", backends["ok"]), None)], None);
    services.push_str(&load_balancer("good", &[(&format!("http://127.0.0.1:{}", backends["ok"]), None)], None));
    services.push_str(&load_balancer("bad", &[(&dead, None)], None));
    let dir = tempfile::tempdir().unwrap();
    let (traefik, _) = serve(dir.path(), &["good", "bad"], &services);
    let port = traefik.port("web");
    for _ in 0..5 {
        assert_eq!(send(port, &Routed::plain("GET", "good.test", "/", &[])).0, 200);
    }
    send(port, &Routed::plain("POST", "good.test", "/", &[]));
    for _ in 0..3 {
        assert_eq!(send(port, &Routed::plain("GET", "bad.test", "/", &[])).0, 502);
    }
    let text = switchyard_e2e::traefik::get(traefik.api_port, "127.0.0.1", "/metrics", &[]).unwrap().body;
    let counters = switchyard_traefik::metrics::service_counters(&text).unwrap();
    let of = |service: &str, code: u16| counters.requests.get(&(service.to_string(), code)).copied();
    // Summed over methods: five GETs and a POST.
    assert_eq!((of("good@file", 200), of("bad@file", 502)), (Some(6.0), Some(3.0)), "{text}");
    // Every request in the +Inf bucket, Traefik's default bounds (0.1, 0.3, 1.2, 5 s) below it.
    let bucket = |service: &str, le: Option<u64>| counters.buckets.get(&(service.to_string(), le)).copied();
    assert_eq!(bucket("good@file", None), Some(6.0), "{text}");
    let bounds: Vec<Option<u64>> =
        counters.buckets.keys().filter(|(service, _)| service == "good@file").map(|(_, le)| *le).collect();
    assert_eq!(bounds, [None, Some(100_000), Some(300_000), Some(1_200_000), Some(5_000_000)], "{text}");
    println!("metrics: Traefik's service counters read as counted (6 answers, 3 failures, 5 buckets)");
}
