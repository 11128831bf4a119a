//! switchyard against the real Traefik (3.7.15, run directly on 127.0.0.1 with the file provider; no Docker):
//! the same inputs go to both, and their verdicts are compared case by case. Each section prints its numbers
//! (cases, agreed, disagreed) and fails on any disagreement.
//!
//! - rules: Traefik's own corpora and thousands of generated rules (`switchyard_e2e::rule_gen`), many routers
//!   per file; a router Traefik disables must be one whose rule switchyard refuses, and the other way round.
//!   One difference is known and counted apart: switchyard refuses nesting deeper than 64 parentheses or `!`
//!   (`rules::MAX_DEPTH`, its recursive parser's bound), where Traefik reads about 100,000 levels.
//! - the validator: a string for `entryPoints` is the list Traefik reads (no error); a file Traefik refuses
//!   gives no finding drawn from the rest of it; a Go template that does not parse (in a comment too) refuses
//!   the file, and one calling every function switchyard knows loads.

#![allow(clippy::unwrap_used, clippy::print_stdout)] // a panic in a test is a failing test; the numbers are printed

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use switchyard_e2e::rule_gen;
use switchyard_e2e::traefik::LocalTraefik;
use switchyard_traefik::rules;

/// `value` as a YAML double-quoted scalar: everything outside printable ASCII escaped, so the YAML reader hands
/// Traefik exactly these characters.
fn yaml_quoted(value: &str) -> String {
    let mut out = String::from("\"");
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            ' '..='~' => out.push(c),
            c if (c as u32) <= 0xFFFF => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push_str(&format!("\\U{:08X}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// What Traefik says of a router: None when enabled, else its error text.
type Verdict = Option<String>;

/// Loads one router per rule (`r0`, `r1`...) into a fresh Traefik and returns each router's verdict.
fn traefik_verdicts(rules: &[String], dir: &Path) -> Vec<Verdict> {
    let dynamic = dir.join("dynamic");
    std::fs::create_dir_all(&dynamic).unwrap();
    let mut yaml = String::from(
        "http:\n  services:\n    s:\n      loadBalancer:\n        servers:\n          - url: http://127.0.0.1:9\n  routers:\n",
    );
    for (i, rule) in rules.iter().enumerate() {
        yaml.push_str(&format!(
            "    r{i}:\n      entryPoints: [web]\n      service: s\n      rule: {}\n",
            yaml_quoted(rule)
        ));
    }
    std::fs::write(dynamic.join("rules.yml"), yaml).unwrap();
    let traefik = LocalTraefik::start(&dynamic, &["web"], &[], &dir.join("traefik.log"));
    let start = Instant::now();
    let routers = loop {
        let raw = traefik.rawdata();
        let mut routers = raw["routers"].as_object().cloned().unwrap_or_default();
        routers.retain(|name, _| name.ends_with("@file"));
        if routers.len() == rules.len() {
            break routers;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "Traefik shows {} of {} routers:\n{}",
            routers.len(),
            rules.len(),
            traefik.log_text()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    (0..rules.len())
        .map(|i| {
            let router = &routers[&format!("r{i}@file")];
            match router["status"].as_str() {
                Some("enabled") => None,
                _ => Some(router["error"].to_string()),
            }
        })
        .collect()
}

/// A section's tally, printed as one line.
#[derive(Default)]
struct Tally {
    cases: usize,
    disagreed: Vec<String>,
    /// Disagreements on what switchyard deliberately does not do (counted, shown, not failed on).
    known: usize,
}

impl Tally {
    fn report(&self, section: &str) -> String {
        let agreed = self.cases - self.disagreed.len() - self.known;
        let known = match self.known {
            0 => String::new(),
            n => format!(" (and {n} known: nesting deeper than 64)"),
        };
        format!("{section}: {} cases, {agreed} agreed, {} disagreed{known}", self.cases, self.disagreed.len())
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
    let rules: Vec<String> = cases.iter().map(|(r, _)| r.clone()).collect();
    let dir = tempfile::tempdir().unwrap();
    let verdicts = traefik_verdicts(&rules, dir.path());

    let mut tallies: BTreeMap<&str, Tally> = BTreeMap::new();
    let (mut refused, mut accepted) = (0, 0);
    for ((rule, section), traefik) in cases.iter().zip(&verdicts) {
        let tally = tallies.entry(section).or_default();
        tally.cases += 1;
        let ours = rules::parse(rule);
        match (&ours, traefik) {
            (Ok(_), None) => accepted += 1,
            (Err(_), Some(_)) => refused += 1,
            (Ok(_), Some(error)) => {
                tally.disagreed.push(format!("{rule:?}: Traefik disables it ({error}); switchyard accepts it"))
            }
            // The one known difference (`rules::MAX_DEPTH`): Traefik reads up to about 100,000 levels.
            (Err(e), None) if e.code == "SY3113" => tally.known += 1,
            (Err(e), None) => {
                tally.disagreed.push(format!("{rule:?}: Traefik accepts it; switchyard refuses it ({e})"))
            }
        }
    }
    let lines: Vec<String> = tallies.iter().map(|(section, t)| t.report(&format!("rules ({section})"))).collect();
    println!(
        "{}\n(Traefik accepted {accepted} and disabled {refused} where both agree; {:.1} s)",
        lines.join("\n"),
        started.elapsed().as_secs_f64()
    );
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
    for (written, expected) in [("websecure", &["websecure"][..]), ("web,websecure", &["web", "websecure"][..])] {
        let text = format!(
            "http:\n  routers:\n    r:\n      entryPoints: {written}\n      rule: Host(`a`)\n      service: s\n{SERVICE}"
        );
        let (routers, _) = traefik_reads("a.yml", &text);
        let router = &routers["r@file"];
        assert_eq!(router["status"], "enabled", "{router}");
        assert_eq!(router["entryPoints"], serde_json::json!(expected), "{router}");

        let files = [("a.yml".to_string(), text.clone())];
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
