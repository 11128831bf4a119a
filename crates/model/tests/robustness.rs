//! Robustness: whatever text reaches `Spec::parse` (from an editor in the playground, a CI job, a fuzzer),
//! it returns instead of panicking, and every diagnostic points at a line that exists. This is the in-CI
//! stand-in for the fuzz target in `fuzz/`.

use proptest::prelude::*;
use switchyard_model::{Diagnostic, EXAMPLE_SPEC, Spec};

/// Parses and checks the locations; returns a description of the first problem.
fn check(source: &str) -> Result<(), String> {
    // Lines as an editor counts them: a final newline starts one more (empty) line.
    let lines = source.split('\n').count();
    let check_located = |d: &Diagnostic| -> Result<(), String> {
        let loc = d.location.as_ref().ok_or_else(|| format!("no location on {d}"))?;
        if loc.file != "fuzz.yaml" || loc.line == 0 || loc.line > lines || loc.column == 0 {
            return Err(format!("location {loc} outside a file of {lines} lines: {d}"));
        }
        Ok(())
    };
    match Spec::parse(source, "fuzz.yaml") {
        Ok(valid) => valid.warnings.iter().try_for_each(check_located),
        Err(diagnostics) => {
            if !diagnostics.iter().any(Diagnostic::is_error) {
                return Err("refused without an error".into());
            }
            diagnostics.iter().filter(|d| d.is_error()).try_for_each(check_located)
        }
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    /// Set the byte at (index modulo length) to this byte.
    Flip(usize, u8),
    DeleteLine(usize),
    DuplicateLine(usize),
    SwapLines(usize, usize),
    /// Insert a snippet at the start of a line.
    Insert(usize, &'static str),
}

const SNIPPETS: &[&str] = &[
    "  ",
    "\t",
    "- ",
    ": ",
    "{",
    "}",
    "[",
    "&a ",
    "*a ",
    "!!map ",
    "? ",
    "'",
    "\"",
    "# ",
    "---\n",
    "...\n",
    "{{ ",
    "{% for x in y %}",
    "domain: é.example.com\n",
    "port: 99999999999\n",
    "interval: 0s\n",
    "<<: *a\n",
];

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        2 => any::<usize>().prop_map(Mutation::DeleteLine),
        2 => any::<usize>().prop_map(Mutation::DuplicateLine),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        2 => (any::<usize>(), prop::sample::select(SNIPPETS)).prop_map(|(i, s)| Mutation::Insert(i, s)),
    ]
}

fn mutate(source: &str, mutations: &[Mutation]) -> String {
    let mut text = source.to_string();
    for m in mutations {
        let mut lines: Vec<String> = text.split('\n').map(String::from).collect();
        let n = lines.len();
        match m {
            Mutation::Flip(i, b) => {
                let mut bytes = text.into_bytes();
                if !bytes.is_empty() {
                    let i = i % bytes.len();
                    bytes[i] = *b;
                }
                text = String::from_utf8_lossy(&bytes).into_owned();
                continue;
            }
            Mutation::DeleteLine(i) => {
                lines.remove(i % n);
            }
            Mutation::DuplicateLine(i) => {
                let line = lines[i % n].clone();
                lines.insert(i % n, line);
            }
            Mutation::SwapLines(a, b) => lines.swap(a % n, b % n),
            Mutation::Insert(i, s) => lines[i % n].insert_str(0, s),
        }
        text = lines.join("\n");
    }
    text
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
    fn yaml_ish_strings_never_panic(source in "([a-z_]{1,8}|[ \\n:\\-\\[\\]{},'\"#&*!|>?]|\\{\\{ ?[a-z]* ?\\}\\}){0,60}") {
        if let Err(problem) = check(&source) {
            prop_assert!(false, "{problem}\nsource: {source:?}");
        }
    }

    #[test]
    fn mutated_example_never_panics(mutations in prop::collection::vec(mutation(), 1..6)) {
        let source = mutate(EXAMPLE_SPEC, &mutations);
        if let Err(problem) = check(&source) {
            prop_assert!(false, "{problem}\nmutations: {mutations:?}\nsource:\n{source}");
        }
    }
}

#[test]
fn known_edge_cases() {
    for source in [
        "",
        "\n",
        "\n\n\n",
        "apps:",
        "apps: ~",
        "apps: []",
        "apps: {x: ~}",
        "---\n---\n",
        "apps: {}\n---\napps: {}\n",
        "a: &a [*a]",
        "apps: &a {whoami: *a}",
        "\u{feff}apps: {}",
        "apps:\n  whoami:\n    compose: c\n    routes: {web: {port: 80}}\n    environments: {dev: {domain: d.test, hosts: {preview: '{{ version ~ version ~ version }}.{{ domain }}'}}}\n",
        "apps:\n  whoami:\n    compose: c\n    routes: {web: {port: 80}}\n    environments: {dev: {domain: d.test, hosts: {preview: '{{ version }}{{ range }}.{{ domain }}'}}}\n",
    ] {
        if let Err(problem) = check(source) {
            panic!("{problem}\nsource: {source:?}");
        }
    }
}

#[test]
fn positions_stay_within_the_lines_of_the_text() {
    // A lone carriage return is a line break to YAML, not to the CLI or the editor (found by fuzzing).
    let source = "\r\r\tapps:\n\t\r\t#0.b26#";
    let Err(errors) = Spec::parse(source, "s.yaml") else { panic!("no apps is an error") };
    for d in &errors {
        let at = d.location.as_ref().map(|l| (l.line, l.column));
        assert!(at.is_some_and(|(line, column)| line <= 2 && column >= 1), "{d}");
    }
}
