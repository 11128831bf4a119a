//! Router rules against Traefik's own test cases (`shared/reference/traefik/rules_valid.txt` and
//! `rules_invalid.txt`, read where they are), and properties: parsing never panics, errors point inside the
//! rule, and the canonical printing of a rule parses back to an equal tree.

// Reads the reference lists from shared/.
#![allow(clippy::disallowed_methods)]

use std::path::PathBuf;

use proptest::prelude::*;
use switchyard_traefik::rules::{self, MAX_DEPTH, Request, RuleError};

fn reference(name: &str) -> Vec<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/traefik").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines().filter(|line| !line.is_empty()).map(str::to_string).collect()
}

/// Checks everything that must hold for any input; `Err` describes the first broken property.
fn check(source: &str) -> Result<(), String> {
    match rules::parse(source) {
        Ok(rule) => {
            let printed = rule.to_string();
            let again =
                rules::parse(&printed).map_err(|e| format!("canonical form {printed:?} does not parse: {e}"))?;
            if again != rule {
                return Err(format!("canonical form {printed:?} parses to a different tree"));
            }
            if again.to_string() != printed {
                return Err(format!("printing is not stable for {printed:?}"));
            }
            for lint in rules::lint(&rule, source) {
                error_in_bounds(source, lint.column, lint.span)?;
            }
            let request =
                Request::new("GET", "example.com", "/css").header("X-Forwarded-Proto", "https").query("q", "");
            let _ = rule.matches(&request);
            Ok(())
        }
        Err(err) => error_in_bounds(source, err.column, err.span),
    }
}

fn error_in_bounds(source: &str, column: usize, span: (usize, usize)) -> Result<(), String> {
    let chars = source.chars().count();
    if column == 0 || column > chars + 1 {
        return Err(format!("column {column} outside 1..={}", chars + 1));
    }
    let on_boundaries = source.is_char_boundary(span.0) && source.is_char_boundary(span.1);
    if span.0 > span.1 || span.1 > source.len() || !on_boundaries {
        return Err(format!("span {span:?} is not a range of the rule ({} bytes)", source.len()));
    }
    if source[..span.0].chars().count() + 1 != column {
        return Err(format!("column {column} is not where span {span:?} starts"));
    }
    Ok(())
}

fn describe(err: &RuleError) -> String {
    let mut text = format!("{}: {}", err.code, err.message);
    for hint in &err.hints {
        text.push_str(&format!("\n    hint: {hint}"));
    }
    text
}

#[test]
fn traefik_valid_rules_parse() {
    let lines = reference("rules_valid.txt");
    assert!(lines.len() >= 40, "the reference list is incomplete: {} lines", lines.len());
    let mut report = String::new();
    for line in &lines {
        if let Err(e) = rules::parse(line) {
            panic!("Traefik accepts {line:?}, we refused it: {e}");
        }
        check(line).unwrap_or_else(|problem| panic!("{line:?}: {problem}"));
        let rule = rules::parse(line).unwrap();
        report.push_str(&format!("{line}\n  = {rule}\n"));
        for lint in rules::lint(&rule, line) {
            report.push_str(&format!("  {lint}\n"));
            for hint in &lint.hints {
                report.push_str(&format!("    hint: {hint}\n"));
            }
        }
    }
    insta::assert_snapshot!("valid_reference_rules", report);
}

#[test]
fn traefik_invalid_rules_fail_with_a_column() {
    let lines = reference("rules_invalid.txt");
    assert!(lines.len() >= 35, "the reference list is incomplete: {} lines", lines.len());
    let mut report = String::new();
    for line in &lines {
        let err = match rules::parse(line) {
            Ok(rule) => panic!("Traefik refuses {line:?}, we accepted it as {rule}"),
            Err(err) => err,
        };
        error_in_bounds(line, err.column, err.span).unwrap_or_else(|problem| panic!("{line:?}: {problem}"));
        report.push_str(&format!("{line}\n  {}\n", describe(&err)));
    }
    insta::assert_snapshot!("invalid_reference_rules", report);
}

#[test]
fn reference_rules_match_requests() {
    let request = Request::new("GET", "example.org:443", "/css/site.css")
        .header("X-Forwarded-Proto", "https")
        .query("q", "traefik")
        .client_ip("192.168.1.20".parse().unwrap());
    let expect = [
        ("Host(`example.com`) || Host(`example.org`)", true),
        ("Host(\"example.com\") || Host(\"example.org\") && Path(\"/css\")", false),
        ("(Host(\"example.com\") || Host(\"example.org\")) && PathPrefix(\"/css\")", true),
        ("!(Host(\"example.com\") && !Path(\"/css\"))", true),
        ("ClientIP(`192.168.1.0/24`)", true),
        ("HeaderRegexp(`X-Forwarded-Proto`, `^https?$`)", true),
        ("QueryRegexp(`q`, `^(traefik|nginx)$`)", true),
        ("PathRegexp(`^/(css|js)`)", true),
        ("HostRegexp(`{domain:[a-zA-Z-]+\\.com}`)", false),
    ];
    for (rule, matches) in expect {
        assert_eq!(rules::parse(rule).unwrap().matches(&request), matches, "{rule}");
    }
}

#[test]
fn large_rules_parse_in_linear_time() {
    // 1 MiB of matchers, regexps included: a quadratic step anywhere would make this test take minutes.
    let unit = r"Host(`example.com`) && PathPrefix(`/api`) || HostRegexp(`^[a-z]+\.example\.com$`) || ";
    let mut rule = unit.repeat((1 << 20) / unit.len());
    rule.push_str("Method(`GET`)");
    let parsed = rules::parse(&rule).unwrap();
    assert_eq!(parsed.matchers().len(), 3 * ((1 << 20) / unit.len()) + 1);
    assert_eq!(rules::default_priority(&rule), i64::try_from(rule.len()).unwrap());

    // One 64 KiB argument, and one 64 KiB regexp.
    let long_path = format!("Path(`/{}`)", "a".repeat(64 * 1024));
    assert!(rules::parse(&long_path).is_ok());
    let long_regexp = format!("PathRegexp(`^/{}$`)", "(a|b)".repeat(13 * 1024));
    assert!(rules::parse(&long_regexp).is_ok());

    // Nesting: MAX_DEPTH levels are fine, one more is refused, a million is refused without overflowing.
    let nested = |n: usize| format!("{}Host(`a`){}", "(!".repeat(n / 2), ")".repeat(n / 2));
    assert!(rules::parse(&nested(MAX_DEPTH)).is_ok());
    assert_eq!(rules::parse(&nested(MAX_DEPTH + 2)).unwrap_err().code, "SY3113");
    assert_eq!(rules::parse(&nested(1_000_000)).unwrap_err().code, "SY3113");
}

/// A Go string literal for `value`: raw when `raw` and possible, else interpreted with escapes.
fn go_literal(value: &str, raw: bool) -> String {
    let raw_ok = !value.contains(['`', '\r', '\0', '\u{feff}']);
    if raw && raw_ok {
        return format!("`{value}`");
    }
    let mut out = String::from("\"");
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\{:03o}", c as u32)),
            '\u{feff}' => out.push_str("\\uFEFF"),
            c if (c as u32) > 0xFFFF => out.push_str(&format!("\\U{:08X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// One matcher call in any accepted spelling and quoting.
fn matcher() -> impl Strategy<Value = String> {
    let text = "(?s).{1,8}";
    let spelled = |name: &'static str| {
        prop_oneof![
            Just(name.to_string()),
            Just(name.to_lowercase()),
            Just(name.to_uppercase()),
            Just(format!("{}{}", &name[..1], name[1..].to_lowercase())),
        ]
    };
    let args = prop_oneof![
        (Just("Host"), prop::collection::vec("[!-~]{1,12}", 1..=1)),
        (Just("Path"), prop::collection::vec(text.prop_map(|v| format!("/{v}")), 1..=1)),
        (Just("PathPrefix"), prop::collection::vec(text.prop_map(|v| format!("/{v}")), 1..=1)),
        (Just("Method"), prop::collection::vec(text, 1..=1)),
        (Just("Header"), prop::collection::vec(text, 2..=2)),
        (Just("Query"), prop::collection::vec(text, 1..=2)),
        (
            Just("ClientIP"),
            prop::sample::select(vec!["10.0.0.1", "10.0.0.0/8", "::1", "2001:db8::/32"])
                .prop_map(|v| vec![v.to_string()])
        ),
        (
            Just("HostRegexp"),
            prop::sample::select(vec![r"^[a-z]+\.example\.com$", "(?i)^WWW", "{x:y}"])
                .prop_map(|v| vec![v.to_string()])
        ),
        (
            Just("HeaderRegexp"),
            (text, prop::sample::select(vec![r"^https?$", r"\pL", "a{2,3}"])).prop_map(|(k, v)| vec![k, v.to_string()])
        ),
        (
            Just("QueryRegexp"),
            (text, prop::sample::select(vec![r"^\d+$", "[[a]", "x|"])).prop_map(|(k, v)| vec![k, v.to_string()])
        ),
    ];
    (args, prop::collection::vec(any::<bool>(), 3), " {0,2}").prop_flat_map(move |((name, values), raws, space)| {
        let literals: Vec<String> =
            values.iter().enumerate().map(|(i, v)| go_literal(v, raws[i % raws.len()])).collect();
        spelled(name).prop_map(move |name| format!("{name}({space}{}{space})", literals.join(", ")))
    })
}

fn expression() -> impl Strategy<Value = String> {
    matcher().prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) && ({b})")),
            inner.clone().prop_map(|a| format!("!({a})")),
            inner.clone().prop_map(|a| format!("!{a}")),
            prop::collection::vec(inner.clone(), 2..4).prop_map(|v| v.join(" && ")),
            prop::collection::vec(inner, 2..4).prop_map(|v| v.join(" ||\n ")),
        ]
    })
}

#[derive(Debug, Clone)]
enum Mutation {
    Insert(usize, String),
    Delete(usize, usize),
    Duplicate(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let piece = prop_oneof![
        Just("(".to_string()),
        Just(")".to_string()),
        Just("`".to_string()),
        Just("\"".to_string()),
        Just("\\".to_string()),
        Just("'".to_string()),
        Just("!".to_string()),
        Just("&&".to_string()),
        Just("||".to_string()),
        Just(",".to_string()),
        Just("\n".to_string()),
        Just("{".to_string()),
        Just("é".to_string()),
        "\\PC{1,3}",
    ];
    prop_oneof![
        (any::<usize>(), piece).prop_map(|(i, s)| Mutation::Insert(i, s)),
        (any::<usize>(), 1..4usize).prop_map(|(i, n)| Mutation::Delete(i, n)),
        (any::<usize>(), 1..12usize).prop_map(|(i, n)| Mutation::Duplicate(i, n)),
    ]
}

fn mutate(source: &str, mutations: &[Mutation]) -> String {
    let mut chars: Vec<char> = source.chars().collect();
    for m in mutations {
        let n = chars.len().max(1);
        match m {
            Mutation::Insert(i, s) => {
                let at = i % (chars.len() + 1);
                chars.splice(at..at, s.chars());
            }
            Mutation::Delete(i, len) => {
                let at = i % n;
                let end = (at + len).min(chars.len());
                chars.drain(at.min(end)..end);
            }
            Mutation::Duplicate(i, len) => {
                let at = i % n;
                let end = (at + len).min(chars.len());
                let copy: Vec<char> = chars[at.min(end)..end].to_vec();
                chars.splice(at..at, copy);
            }
        }
    }
    chars.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_strings_never_panic(source in any::<String>()) {
        if let Err(problem) = check(&source) {
            prop_assert!(false, "{problem}\nsource: {source:?}");
        }
    }

    #[test]
    fn rule_like_strings_never_panic(source in "(Host|path|PATHPREFIX|Header|Query|HostRegexp|ClientIP|w|!|&&|\\|\\||\\(|\\)|,| |\n|`[a-z/.*{}:(\\[]{0,6}`|\"[a-z\\\\xu0-9]{0,6}\"){0,40}") {
        if let Err(problem) = check(&source) {
            prop_assert!(false, "{problem}\nsource: {source:?}");
        }
    }

    #[test]
    fn mutated_valid_rules_never_panic(index in any::<usize>(), mutations in prop::collection::vec(mutation(), 1..5)) {
        let lines = reference("rules_valid.txt");
        let source = mutate(&lines[index % lines.len()], &mutations);
        if let Err(problem) = check(&source) {
            prop_assert!(false, "{problem}\nmutations: {mutations:?}\nsource: {source:?}");
        }
    }

    #[test]
    fn generated_rules_parse_and_print_back(source in expression()) {
        let rule = rules::parse(&source);
        prop_assert!(rule.is_ok(), "{source:?}: {}", rule.unwrap_err());
        if let Err(problem) = check(&source) {
            prop_assert!(false, "{problem}\nsource: {source:?}");
        }
    }
}
