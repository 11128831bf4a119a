//! The spec reader (`yaml::from_str`, over the fast reader's or saphyr-parser's events) against serde_yaml 0.9
//! with serde_path_to_error, which it replaced: for every input, the same value, or an error with the same
//! message, key path and position (syntax errors aside: their wording and position come from the parser).
//! And the fast reader against saphyr-parser: the same events at the same positions whenever it reads a text.

use proptest::prelude::*;
use switchyard_model::Spec;
use switchyard_yaml as yaml;

/// What serde_yaml + serde_path_to_error said: (message, path, line, column), as the old reader reported it.
/// serde_yaml's error: message, key path, line and column.
type Refusal = (String, String, Option<(usize, usize)>);

fn reference<T: serde::de::DeserializeOwned>(source: &str) -> Result<T, Refusal> {
    serde_path_to_error::deserialize(serde_yaml::Deserializer::from_str(source)).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let at = inner.location().map(|l| (l.line(), l.column()));
        let mut message = inner.to_string();
        if let Some(i) = message.find(" at line ") {
            message.truncate(i);
        }
        if let Some((prefix, rest)) = message.split_once(": ")
            && !prefix.contains(' ')
            && path.starts_with(prefix)
        {
            message = rest.to_string();
        }
        (message, path, at)
    })
}

/// The fast reader gives saphyr-parser's events when it reads `source`; whether it did.
fn events_agree(source: &str) -> Result<bool, String> {
    match yaml::events_both_ways(source) {
        (None, _) => Ok(false),
        (Some(fast), reference) if fast == reference => Ok(true),
        (Some(fast), reference) => {
            let at = fast.iter().zip(&reference).position(|(a, b)| a != b).unwrap_or(fast.len().min(reference.len()));
            Err(format!(
                "{source:?}: the fast reader's events differ from saphyr-parser's at event {at}:\n fast: {:?}\n saphyr: {:?}",
                &fast[at.saturating_sub(2)..(at + 3).min(fast.len())],
                &reference[at.saturating_sub(2)..(at + 3).min(reference.len())]
            ))
        }
    }
}

fn compare<T: serde::de::DeserializeOwned + PartialEq + std::fmt::Debug>(source: &str) -> Result<(), String> {
    events_agree(source)?;
    // serde_yaml numbers anchors by how many distinct names it has seen, so a name defined twice can make an
    // alias point at a later node; we resolve each alias to the latest definition before it, as YAML says.
    if source.matches("&a").count() > 1 {
        return Ok(());
    }
    let ours = yaml::from_str::<T>(source, "s.yaml");
    match (ours, reference::<T>(source)) {
        (Ok(a), Ok(b)) if a == b => Ok(()),
        (Ok(a), Ok(b)) => Err(format!("{source:?}: different values\n{a:?}\n{b:?}")),
        (Ok(a), Err(e)) => Err(format!("{source:?}: accepted as {a:?}, serde_yaml refused: {e:?}")),
        (Err(d), Ok(b)) => Err(format!("{source:?}: refused ({d}), serde_yaml accepted: {b:?}")),
        (Err(d), Err((message, path, at))) => {
            // Syntax errors are worded and placed by the parser (saphyr's, libyaml's).
            let syntax = saphyr_parser::Parser::new_from_str(source).any(|event| event.is_err());
            if syntax {
                return Ok(());
            }
            let our_path = d.path.clone().unwrap_or_else(|| ".".into());
            let our_at = d.location.as_ref().map(|l| (l.line, l.column));
            let lines = source.split('\n').count();
            let same_at = at.is_none_or(|(l, c)| our_at == Some((l, c)) || l > lines);
            if d.message != message || our_path != path || !same_at {
                return Err(format!(
                    "{source:?}:\n ours: {} at {our_path} {our_at:?}\n serde_yaml: {message} at {path} {at:?}",
                    d.message
                ));
            }
            Ok(())
        }
    }
}

const APP: &str = "apps:\n  whoami:\n    compose: compose.yaml\n    routes:\n      web: {port: 80}\n    environments:\n      dev:\n        domain: dev.example.com\n";

/// Hand-picked inputs: YAML features serde_yaml gives a meaning to, and errors of each kind.
const CASES: &[&str] = &[
    APP,
    "",
    "# only a comment\n",
    "---\n",
    "~\n",
    "[]\n",
    "apps:\n",
    "apps: {}\n",
    "apps: []\n",
    "apps: 3\n",
    "apps:\n  w:\n    compose: 123\n    routes: {web: {port: 80}}\n    environments: {dev: {domain: d.example.com}}\n",
    "apps:\n  w:\n    compose: true\n    routes: {web: {port: '80'}}\n    environments: {dev: {domain: d.example.com}}\n",
    "apps:\n  w:\n    compose: c\n    routes: {web: {port: \"80\"}}\n    environments: {dev: {domain: d.example.com}}\n",
    "apps:\n  w:\n    compose: c\n    routes: {web: {port: 0x50}}\n    environments: {dev: {domain: d.example.com}}\n",
    "apps:\n  w:\n    compose: c\n    routes: {web: {port: +80}}\n    environments: {dev: {domain: d.example.com}}\n",
    "apps:\n  w:\n    compose: c\n    routes: {web: {port: 080}}\n    environments: {dev: {domain: d.example.com}}\n",
    "apps:\n  w:\n    compose: c\n    routes: {web: {port: -1}}\n    environments: {dev: {domain: d.example.com}}\n",
    "apps:\n  w:\n    compose: c\n    routes: {web: {port: 70000}}\n    environments: {dev: {domain: d.example.com}}\n",
    "apps:\n  w:\n    compose: c\n    routes: {web: {port: 1.5}}\n    environments: {dev: {domain: d.example.com}}\n",
    "apps:\n  w:\n    compose: c\n    routes: {web: {port: ~}}\n    environments: {dev: {domain: d.example.com}}\n",
    "apps:\n  w:\n    compose: c\n    routes: {web: {port: !!int 80}}\n    environments: {dev: {domain: d.example.com}}\n",
    "apps:\n  w:\n    compose: c\n    routes: {web: {port: [80]}}\n    environments: {dev: {domain: d.example.com}}\n",
    "apps:\n  w:\n    compose: c\n    routes: {web: {port: 80, port: 81}}\n    environments: {dev: {domain: d.example.com}}\n",
    "apps:\n  w:\n    compose: c\n    routes: {web: {port: 80}}\n    environments: {dev: {domain: d.example.com, tls: {}}}\n",
    "apps:\n  w:\n    compose: c\n    routes: {web: {port: 80}}\n    environments: {dev: {domain: d.example.com, entry_points: web}}\n",
    "apps:\n  w:\n    compose: c\n    routes: {web: {port: 80}}\n    environments: {dev: {domain: d.example.com, entry_points: }}\n",
    "apps:\n  w:\n    compose: c\n    routes: {web: {port: 80}}\n    environments: {dev: {domain: d.example.com, entry_points: [1, true, ~, 'x']}}\n",
    "apps:\n  w:\n    compose: c\n    routes: {web: {port: 80}}\n    environments: {dev: {domain: d.example.com, entry_points: [[a]]}}\n",
    "apps:\n  w:\n    compose: c\n    routes: {web: {port: 80}}\n    environments: {dev: {domain: d.example.com, retention: {keep_last: 2, older_than: 3d}}}\n",
    "apps:\n  w:\n    compose: c\n    routes: {web: {port: 80}}\n    environments: {dev: {domain: d.example.com, retention: {older_than: 3x}}}\n",
    "apps:\n  w:\n    compose: c\n    routes: {web: {port: 80}}\n    environments: {dev: {domain: d.example.com}}\n    environments: {}\n",
    "apps:\n  w:\n    compose: c\n  w:\n    compose: d\n    routes: {web: {port: 80}}\n    environments: {dev: {domain: d.example.com}}\n",
    "apps:\n  w:\n    compose: c\n    routes: {web: {port: 80}}\n    environments: {dev: {domain: d.example.com}}\n---\napps: {}\n",
    "---\napps: {}\n---\n",
    "apps: {}\n...\n",
    "x-defaults: &d {port: 80}\napps: {}\n",
    "apps:\n  w:\n    compose: c\n    routes: {web: &r {port: 80}, api: *r}\n    environments: {dev: {domain: d.example.com}}\n",
    "apps:\n  w: &w\n    compose: c\n    routes: {web: {port: 80}}\n    environments: {dev: {domain: d.example.com}}\n  v: *w\n",
    "apps:\n  w:\n    compose: &c c\n    routes: {web: {port: 80}}\n    environments: {*c : {domain: d.example.com}}\n",
    "apps:\n  w:\n    <<: {compose: c}\n    routes: {web: {port: 80}}\n    environments: {dev: {domain: d.example.com}}\n",
    "apps:\n  w:\n    compose: !!str 3\n    routes: !!map {web: {port: 80}}\n    environments: {dev: {domain: d.example.com}}\n",
    "apps:\n  w:\n    compose: !local c\n    routes: {web: {port: 80}}\n    environments: {dev: {domain: d.example.com}}\n",
    "apps:\n  w:\n    compose: |\n      multi\n      line\n    routes: {web: {port: 80}}\n    environments: {dev: {domain: d.example.com}}\n",
    "apps:\n  w:\n    compose: c\n    routes: {web: {port: 80}}\n    environments: {dev: {domain: d.example.com}}\n    health: {path: /h, interval: 5s}\n",
    "apps:\n  w:\n    compose: c\n    routes: {web: {port: 80}}\n    environments: {dev: {domain: d.example.com}}\n    health: {interval: 5}\n",
    "apps:\n  w:\n    compose: c\n    routes: {web: {port: 80}}\n    environments: {dev: {}}\n",
    "apps:\n  w:\n    routes: {web: {port: 80}}\n    environments: {dev: {domain: d.example.com}}\n",
    "apps:\n  [a]: {}\n",
    "apps:\n  ? {a: b}\n  : {}\n",
    "apps:\n  123: {compose: c}\n",
    "apps:\n  w:\n    compose: c\n    routes: {web: {port: 80}}\n    environments: {dev: {domain: d.example.com, sticky: {cookie: s}}}\n",
    "$schema: ./switchyard.schema.json\napps: {}\n",
    "apps: {}\nextra: 1\n",
    "apps: {}\nextra: &a [*a]\n",
    "a: &a [*a]\n",
    "apps: {w: {compose: c\n",
    "apps:\n\tw: 1\n",
    "apps: [\n",
    "apps: {}\n]\n",
    "apps: {}\n--- ]\n",
    "apps: 'unterminated\n",
];

#[test]
fn hand_picked_inputs_read_like_serde_yaml() {
    let failures: Vec<String> = CASES.iter().filter_map(|source| compare::<Spec>(source).err()).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// An empty value in a flow collection, which libyaml places at the `,`, `}` or `]` after it (wherever that is),
/// and in a block mapping, just after the `:`: each refused, so that the position is compared.
#[test]
fn empty_values_are_placed_like_serde_yaml() {
    let route = |routes: &str| format!("apps:\n  a:\n    compose: c\n    routes: {routes}");
    let specs = [
        "{web: }\n",
        "{web:   }\n",
        "{web: }",
        "{\"web\":}\n",
        "{'web': }\n",
        "{web: , api: {port: 80}}\n",
        "{\"web\":, api: {port: 80}}\n",
        "{api: {port: 80}, web: }\n",
        "{web: {port: }}\n",
        "{web: {port:  } }\n",
        "{web: {port: , host_prefix: x}}\n",
        "{web: {\"port\":}}\n",
        "{web: {port: [80], host_prefix: }}\n",
        "{web:\n      }\n",
        "{web: # the port\n      }\n",
        "{web: {port:\n\n      }}\n",
        "{web: {port: \t}}\n",
        "{web: {port: }}",
        "\n      web:\n        port:\n",
        "\n      web:\n        port:",
        "\n      web:\n        port:  # none\n",
        "\n      web:\n        port:\n      api: {port: 80}\n",
        "\n      web: {port: 80}\n      api:\n",
    ];
    let mut failures: Vec<String> = Vec::new();
    for source in specs.iter().map(|routes| route(routes)) {
        assert!(reference::<Spec>(&source).is_err(), "serde_yaml accepts {source:?}");
        failures.extend(compare::<Spec>(&source).err());
        failures.extend(compare::<serde_json::Value>(&source).err());
    }
    type Pairs = std::collections::BTreeMap<String, Vec<std::collections::BTreeMap<String, u16>>>;
    for source in [
        "x: [a: ]\n",
        "x: [a:  ]\n",
        "x: [a: ]",
        "x: [\"a\":]\n",
        "x: [a: , b: 1]\n",
        "x: [\"a\":, b: 1]\n",
        "x: [b: 1, a: ]\n",
        "x: [{a: }]\n",
        "x: [{a: , b: 1}]\n",
        "x: [{\"a\":}]\n",
        "x: [a:\n  ]\n",
        "x: [a: # none\n  ]\n",
        "x: [{a},{b: 1}]\n",
        "x: [{a, b: 1}]\n",
        "x: [? a]\n",
        "x:\n- a:\n",
        "x:\n- a:",
        "x:\n- {a: }\n",
    ] {
        assert!(reference::<Pairs>(source).is_err(), "serde_yaml accepts {source:?}");
        failures.extend(compare::<Pairs>(source).err());
        failures.extend(compare::<serde_json::Value>(source).err());
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn the_fast_reader_reads_the_example_and_block_specs() {
    for source in [switchyard_model::EXAMPLE_SPEC, APP, "apps:\n  a:\n    environments:\n      dev:\n"] {
        assert_eq!(events_agree(source), Ok(true), "{source}");
    }
    // Outside its subset: saphyr-parser reads these.
    // Keys longer than YAML allows (1024 characters without `?`) are saphyr-parser's to refuse.
    let long = format!("{}: 1\n", "k".repeat(1100));
    let long_flow = format!("a: {{{}: 1}}\n", "k".repeat(1100));
    for source in [
        "",
        "# only a comment\n",
        "apps: &a {}\n",
        "apps: |\n  x\n",
        "apps:\n\t- a\n",
        "a: 1\n---\nb: 2\n",
        &long,
        &long_flow,
    ] {
        assert_eq!(events_agree(source), Ok(false), "{source:?}");
    }
}

#[test]
fn hand_picked_inputs_read_like_serde_yaml_as_values() {
    let failures: Vec<String> = CASES.iter().filter_map(|source| compare::<serde_json::Value>(source).err()).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Spec-shaped YAML with random values and some random keys, in block or flow style.
fn scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-z][a-z0-9.-]{0,12}",
        2 => prop::sample::select(&[
            "80", "0x50", "+80", "080", "-1", "1.5", "1e3", ".inf", "~", "null", "true", "False", "''", "\"80\"",
            "'x'", "!!str 80", "!!int 80", "!!float 1", "!!bool true", "!!null ~", "!x y", "[]", "{}", "[a, b]",
            "{a: b}", "3d", "10s", "1h30m", "/p", "a: b", "- a", "", "0o17", "0b1", "-0x1", "++1", "+-1",
            "1_000", "18446744073709551616", "-9223372036854775809", "0x", ".nan", "*a", "&a x",
        ][..]).prop_map(String::from),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::sample::select(&[
            "compose", "routes", "environments", "health", "hosts", "port", "host_prefix", "path_prefix", "domain",
            "entry_points", "tls", "middlewares", "sticky", "retention", "keep_last", "older_than", "path",
            "interval", "timeout", "cert_resolver", "cookie", "<<", "web", "api", "dev", "prod",
        ][..]).prop_map(String::from),
        1 => "[a-z]{1,6}",
    ]
}

fn node(depth: u32) -> BoxedStrategy<String> {
    if depth == 0 {
        return scalar().boxed();
    }
    prop_oneof![
        2 => scalar(),
        2 => prop::collection::vec((key(), node(depth - 1)), 0..4).prop_map(|entries| {
            let inner: Vec<String> = entries.into_iter().map(|(k, v)| format!("{k}: {v}")).collect();
            format!("{{{}}}", inner.join(", "))
        }),
        1 => prop::collection::vec(node(depth - 1), 0..3).prop_map(|items| format!("[{}]", items.join(", "))),
    ]
    .boxed()
}

fn spec() -> impl Strategy<Value = String> {
    (prop::collection::vec(("[a-z]{1,4}", prop::collection::vec((key(), node(3)), 0..6)), 0..3), any::<bool>())
        .prop_map(|(apps, anchor)| {
            let mut out = String::from("apps:\n");
            for (name, fields) in apps {
                out.push_str(&format!("  {name}:{}\n", if anchor { " &a" } else { "" }));
                for (k, v) in fields {
                    out.push_str(&format!("    {k}: {v}\n"));
                }
            }
            out
        })
}

/// A YAML tree to write in block style, as people write specs.
#[derive(Debug, Clone)]
enum Tree {
    Scalar(String),
    Empty,
    Map(Vec<(String, Tree)>),
    Seq(Vec<Tree>),
}

fn tree() -> impl Strategy<Value = Tree> {
    let leaf = prop_oneof![
        4 => scalar().prop_filter("one line", |s| !s.is_empty()).prop_map(Tree::Scalar),
        1 => Just(Tree::Empty),
        1 => prop::sample::select(&["'it''s'", "\"a \\\" b\"", "\"\\u00e9t\u{e9}\"", "x # c", "'a: b'", "\"[x]\""][..])
            .prop_map(|s| Tree::Scalar(s.to_string())),
    ];
    leaf.prop_recursive(4, 40, 4, |inner| {
        prop_oneof![
            3 => prop::collection::vec((key(), inner.clone()), 1..4).prop_map(Tree::Map),
            1 => prop::collection::vec(inner, 1..4).prop_map(Tree::Seq),
        ]
    })
}

/// Writes `tree` as the value after a key or a dash (`after` columns in); `style` picks the layout choices:
/// indentation steps, indentless sequences, comments, blank lines, quoted keys, CRLF.
fn write_block(tree: &Tree, indent: usize, style: &mut impl Iterator<Item = u8>, out: &mut String, nl: &str) {
    fn pick(style: &mut impl Iterator<Item = u8>, n: u8) -> u8 {
        style.next().unwrap_or(0) % n
    }
    match tree {
        Tree::Scalar(s) => out.push_str(&format!(" {s}{}{nl}", if pick(style, 5) == 0 { " # note" } else { "" })),
        Tree::Empty => out.push_str(nl),
        Tree::Map(entries) => {
            out.push_str(nl);
            let step = [2, 4, 1][usize::from(pick(style, 3))];
            for (k, v) in entries {
                match pick(style, 8) {
                    0 => out.push_str(nl),
                    1 => out.push_str(&format!("{}# comment{nl}", " ".repeat(indent + step))),
                    _ => {}
                }
                let key = match pick(style, 6) {
                    0 => format!("'{k}'"),
                    1 => format!("\"{k}\""),
                    _ => k.clone(),
                };
                out.push_str(&format!("{}{key}:", " ".repeat(indent + step)));
                write_block(v, indent + step, style, out, nl);
            }
        }
        Tree::Seq(items) => {
            out.push_str(nl);
            // Under a key, a sequence may sit at the key's own indentation.
            let dash = if pick(style, 2) == 0 { indent } else { indent + 2 };
            for item in items {
                out.push_str(&format!("{}-", " ".repeat(dash)));
                match item {
                    Tree::Map(entries) if pick(style, 2) == 0 => {
                        // `- key: value` and the other keys under the first.
                        let (k, v) = &entries[0];
                        out.push_str(&format!(" {k}:"));
                        write_block(v, dash + 2, style, out, nl);
                        for (k, v) in &entries[1..] {
                            out.push_str(&format!("{}{k}:", " ".repeat(dash + 2)));
                            write_block(v, dash + 2, style, out, nl);
                        }
                    }
                    item => write_block(item, dash, style, out, nl),
                }
            }
        }
    }
}

fn block_spec() -> impl Strategy<Value = String> {
    (prop::collection::vec(("[a-z]{1,4}", tree()), 0..3), prop::collection::vec(any::<u8>(), 64), 0u8..4).prop_map(
        |(apps, style, end)| {
            let nl = if end == 3 { "\r\n" } else { "\n" };
            let mut out = String::new();
            if end == 2 {
                out.push_str(&format!("---{nl}"));
            }
            out.push_str(&format!("# apps{nl}apps:"));
            let mut style = style.into_iter().cycle();
            write_block(
                &Tree::Map(apps.into_iter().map(|(k, v)| (k, Tree::Map(vec![("compose".into(), v)]))).collect()),
                0,
                &mut style,
                &mut out,
                nl,
            );
            if end == 1 {
                // No final line break.
                while out.ends_with('\n') || out.ends_with('\r') {
                    out.pop();
                }
            }
            out
        },
    )
}

/// Block-style specs of every shape: the fast reader reads most of them, with saphyr-parser's events; and all
/// read like serde_yaml.
#[test]
fn generated_block_specs_read_like_saphyr_and_serde_yaml() {
    let config = ProptestConfig { cases: 1024, failure_persistence: None, ..ProptestConfig::default() };
    let fast = std::sync::atomic::AtomicUsize::new(0);
    proptest::test_runner::TestRunner::new(config)
        .run(&block_spec(), |source| {
            if events_agree(&source).map_err(TestCaseError::fail)? {
                fast.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            compare::<Spec>(&source).map_err(TestCaseError::fail)?;
            compare::<serde_json::Value>(&source).map_err(TestCaseError::fail)?;
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let fast = fast.into_inner();
    assert!(fast >= 512, "the fast reader read only {fast} of 1024 generated block specs");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn generated_specs_read_like_serde_yaml(source in spec()) {
        compare::<Spec>(&source).map_err(TestCaseError::fail)?;
        compare::<serde_json::Value>(&source).map_err(TestCaseError::fail)?;
    }
}
