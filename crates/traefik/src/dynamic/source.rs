//! The positioned value tree of one file, built from YAML (`yaml`: the fast reader's or saphyr-parser's events) or
//! TOML (`toml`: toml_edit with spans).
//!
//! Scalars are resolved the way Traefik's decoders do: YAML plain scalars like yaml.v3 (YAML 1.2 core schema
//! plus its 1.1 leftovers: `0777` octal, `_` in numbers; `yes`/`on` stay strings; timestamps stay strings),
//! TOML values by their TOML type. Each scalar keeps the text it was written as when that differs from its
//! value (`0x10`), and whether it was quoted. Anchors and aliases are resolved (with a bound on expansion),
//! merge keys (`<<`) are applied like yaml.v3 does, duplicate keys are refused, and only the first YAML document
//! is read, as yaml.v3 does.

use std::borrow::Cow;

use switchyard_diagnostics::{Diagnostic, Location};

use super::golang;

mod toml;
mod yaml;

use self::toml::parse_toml;
use self::yaml::parse_yaml;
use self::yaml::too_deep;
pub use self::yaml::{parse_yaml_fast, parse_yaml_reference};

/// Deepest nesting accepted. Traefik's own options are at most 8 levels deep; plugin settings add a few. The
/// bound keeps every recursive walk (checks, conversion, drop) far from the stack limit.
pub const MAX_DEPTH: usize = 64;

/// Aliases may expand to at most this many nodes beyond ten times the nodes written out (a "billion laughs"
/// file is refused instead of exhausting memory).
const ALIAS_BUDGET: usize = 100_000;

/// The syntax of a file, from its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    Yaml,
    Toml,
}

/// A value with the position (1-based line and column, in characters) where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Node<'s> {
    pub kind: Kind<'s>,
    /// The source text of a scalar that resolved to something other than a string (`0x10`, `~`, `1e3`).
    pub text: Option<Cow<'s, str>>,
    /// The scalar was quoted (always true for TOML strings).
    pub quoted: bool,
    pub line: u32,
    pub column: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Kind<'s> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// Borrowed from the source when written without escapes.
    Str(Cow<'s, str>),
    Seq(Vec<Node<'s>>),
    /// Entries in document order.
    Map(Vec<(Key<'s>, Node<'s>)>),
}

/// A mapping key and where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key<'s> {
    pub name: Cow<'s, str>,
    pub line: u32,
    pub column: u32,
}

impl<'s> Node<'s> {
    pub(crate) fn new(kind: Kind<'s>, line: u32, column: u32) -> Self {
        Node { kind, text: None, quoted: false, line, column }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.kind, Kind::Null)
    }

    pub fn is_scalar(&self) -> bool {
        !matches!(self.kind, Kind::Seq(_) | Kind::Map(_) | Kind::Null)
    }

    /// The entries of a mapping.
    pub fn entries(&self) -> &[(Key<'s>, Node<'s>)] {
        match &self.kind {
            Kind::Map(entries) => entries,
            _ => &[],
        }
    }

    /// The items of a sequence.
    pub fn items(&self) -> &[Node<'s>] {
        match &self.kind {
            Kind::Seq(items) => items,
            _ => &[],
        }
    }

    /// The value of key `key` in a mapping (exact spelling).
    pub fn get(&self, key: &str) -> Option<&Node<'s>> {
        self.entries().iter().find(|(k, _)| &*k.name == key).map(|(_, v)| v)
    }

    /// A string's value.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The text Traefik sees for a scalar after its decoder turned it back into a string (see
    /// `golang.rs`): integers in decimal, floats with six decimals unless whole, booleans as `true`/`false`.
    pub fn scalar_text(&self) -> Option<Cow<'_, str>> {
        match &self.kind {
            Kind::Str(s) => Some(Cow::Borrowed(s)),
            Kind::Int(i) => Some(Cow::Owned(i.to_string())),
            Kind::Float(f) => Some(Cow::Owned(golang::format_float(*f))),
            Kind::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
            Kind::Null | Kind::Seq(_) | Kind::Map(_) => None,
        }
    }

    /// How the value is written, for messages: `a string`, `a list`, ...
    pub fn describe(&self) -> &'static str {
        match &self.kind {
            Kind::Null => "empty (null)",
            Kind::Bool(_) => "a boolean",
            Kind::Int(_) => "an integer",
            Kind::Float(_) => "a number",
            Kind::Str(_) => "a string",
            Kind::Seq(_) => "a list",
            Kind::Map(_) => "a mapping",
        }
    }

    pub fn location(&self, file: &str) -> Location {
        Location { file: file.to_string(), line: self.line as usize, column: self.column as usize }
    }

    /// The same tree, owning its text.
    pub fn into_owned(self) -> Node<'static> {
        let kind = match self.kind {
            Kind::Null => Kind::Null,
            Kind::Bool(b) => Kind::Bool(b),
            Kind::Int(i) => Kind::Int(i),
            Kind::Float(f) => Kind::Float(f),
            Kind::Str(s) => Kind::Str(Cow::Owned(s.into_owned())),
            Kind::Seq(items) => Kind::Seq(items.into_iter().map(Node::into_owned).collect()),
            Kind::Map(entries) => Kind::Map(
                entries
                    .into_iter()
                    .map(|(k, v)| {
                        (Key { name: Cow::Owned(k.name.into_owned()), line: k.line, column: k.column }, v.into_owned())
                    })
                    .collect(),
            ),
        };
        Node {
            kind,
            text: self.text.map(|t| Cow::Owned(t.into_owned())),
            quoted: self.quoted,
            line: self.line,
            column: self.column,
        }
    }

    /// The generic JSON form: numbers, strings, booleans, null, arrays and objects (a key written twice keeps its
    /// last value). NaN and infinities become null, as JSON has no such numbers.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.kind {
            Kind::Null => Value::Null,
            Kind::Bool(b) => Value::Bool(*b),
            Kind::Int(i) => Value::from(*i),
            Kind::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Kind::Str(s) => Value::String(s.to_string()),
            Kind::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            Kind::Map(entries) => {
                Value::Object(entries.iter().map(|(k, v)| (k.name.to_string(), v.to_json())).collect())
            }
        }
    }
}

impl Key<'_> {
    pub fn location(&self, file: &str) -> Location {
        Location { file: file.to_string(), line: self.line as usize, column: self.column as usize }
    }
}

/// What reading one file gives: its tree, or `None` when it does not parse (the errors say why).
#[derive(Debug, Clone)]
pub struct Parsed<'s> {
    pub root: Option<Node<'s>>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Reads `source` as `format`. An empty document gives a null root.
pub fn parse<'s>(source: &'s str, file: &str, format: Format) -> Parsed<'s> {
    match format {
        Format::Yaml => parse_yaml(source, file),
        Format::Toml => parse_toml(source, file),
    }
}

fn error_at(code: &'static str, message: impl Into<String>, file: &str, line: usize, column: usize) -> Diagnostic {
    let mut d = Diagnostic::error(code, message);
    d.location = Some(Location { file: file.to_string(), line: line.max(1), column: column.max(1) });
    d
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Hint added to the first error of a file: what any error means.
pub(crate) const NOT_APPLIED: &str = "Traefik refuses the whole file and keeps its previous configuration; in \
     directory mode, no change in any file of the directory is applied until this is fixed";

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(source: &str) -> Parsed<'_> {
        parse(source, "t.yaml", Format::Yaml)
    }

    #[test]
    fn yaml_scalars_keep_text_and_positions() {
        let p = yaml("a:\n  b: 0x10\n  c: \"10\"\n  d: yes\n  e: ~\n  f: [x, 2.5]\n");
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
        let root = p.root.unwrap();
        let a = root.get("a").unwrap();
        let b = a.get("b").unwrap();
        assert_eq!((b.kind.clone(), b.text.as_deref(), b.line, b.column), (Kind::Int(16), Some("0x10"), 2, 6));
        let c = a.get("c").unwrap();
        assert_eq!((c.as_str(), c.quoted), (Some("10"), true));
        assert_eq!(a.get("d").unwrap().as_str(), Some("yes"));
        assert!(a.get("e").unwrap().is_null());
        let f = a.get("f").unwrap();
        assert_eq!(f.items()[1].kind, Kind::Float(2.5));
        assert_eq!((f.items()[1].line, f.items()[1].column), (6, 10));
        let (key, _) = &a.entries()[1];
        assert_eq!((&*key.name, key.line, key.column), ("c", 3, 3));
    }

    #[test]
    fn yaml_anchors_merges_and_duplicates() {
        let p = yaml("base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\nlist: [*b]\n");
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
        let root = p.root.unwrap();
        assert_eq!(root.get("use").unwrap().to_json(), serde_json::json!({"x": 1, "y": 3}));
        assert_eq!(root.get("list").unwrap().to_json(), serde_json::json!([{"x": 1, "y": 2}]));

        let p = yaml("a: 1\nb: 2\na: 3\n");
        assert_eq!(p.diagnostics.len(), 1);
        let d = &p.diagnostics[0];
        assert_eq!((&*d.code, d.location.as_ref().map(|l| (l.line, l.column))), ("SY3008", Some((3, 1))));
        assert_eq!(p.root.unwrap().to_json(), serde_json::json!({"a": 1, "b": 2}));

        // A large mapping goes another way.
        let mut big: String = (0..20).map(|i| format!("k{i}: {i}\n")).collect();
        big.push_str("k7: again\nk7: thrice\n");
        let p = yaml(&big);
        let dups: Vec<_> = p.diagnostics.iter().map(|d| (&*d.code, d.location.as_ref().map(|l| l.line))).collect();
        assert_eq!(dups, [("SY3008", Some(21)), ("SY3008", Some(22))]);
        assert!(p.diagnostics.iter().all(|d| d.message.contains("first at line 8")));
        assert_eq!(p.root.unwrap().entries().len(), 20);
    }

    #[test]
    fn yaml_refusals() {
        let second = yaml("a: 1\n---\nb: 2\n");
        assert_eq!(second.diagnostics[0].code, "SY3010");
        assert_eq!(second.diagnostics[0].location.as_ref().map(|l| l.line), Some(2));

        let syntax = yaml("a: [1, 2\n");
        assert!(syntax.root.is_none());
        assert_eq!(syntax.diagnostics[0].code, "SY3001");

        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let deep = yaml(&deep);
        assert!(deep.root.is_none());
        assert!(matches!(&*deep.diagnostics[0].code, "SY3011" | "SY3001"), "{:?}", deep.diagnostics);

        let bomb = "a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n\
                    d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n";
        let bomb = yaml(bomb);
        assert!(bomb.root.is_none());
        assert_eq!(bomb.diagnostics[0].code, "SY3011");

        let key = yaml("routes:\n  404: x\n");
        assert_eq!(key.diagnostics[0].code, "SY3012");
    }

    /// Inputs in the fast reader's subset, and just outside it.
    const DIFFERENTIAL: &[&str] = &[
        "a:\nb: 1\n",
        "a:\n  - x\n  -\n  - 'y'\nc: [1, {d: e}, \"f\"]\n",
        "- url: x\n  w: 1\n-\n",
        "k:\n- a\n- b\nz: ~\n",
        "a: {}\nb: []\nc:\n",
        "x: 1 # c\n'q': \"r\\n\\u00e9\\x41\"\n\"k\": 'it''s'\n",
        "---\na: 1\n",
        "--- # doc\na: 1\n",
        "http:\n  routers:\n    web:\n      rule: Host(`a`) && PathPrefix(`/b`)  # c\n      entryPoints:\n      - web\n      - websecure\n      tls: {}\n",
        "a:\n  b:\n    c: 1\n  d: 2\ne: 3\n",
        "a:\n  -   x: 1\n      y: 2\n  - z\n",
        "- - a\n",
        "a: b\n  c\n",
        "a: b: c\n",
        "a: [a, b, ]\n",
        "a: [x: 1]\n",
        "a: {x: 1, y: [2, 3], z: {w: 'v'}}\n",
        "a: {b: , c}\n",
        "a: 'x\n  y'\n",
        "a: |\n  x\n",
        "a: &x 1\nb: *x\n",
        "a: 1\n---\nb: 2\n",
        "a:\tb\n",
        "a: 1\r\nb: 2\r\n",
        "caf\u{e9}: th\u{e9}\nx: [\u{e9}, b]\n",
        "a: 1\na: 2\n",
        "routes:\n  404: x\n",
        "  a: 1\n  b: 2\n",
        "  a: 1\nb: 2\n",
        "a:\n   b: 1\n  c: 2\n",
        "a: -1\nb: -x\nc: - x\n",
        "a: \"x\" y\n",
        "a: x #c\nb: x#c\n",
        "a : b\n",
        "? a\n: b\n",
        "a: [\"x, y\", 'z]']\n",
        "a: {\"k\": v}\n",
        "a: {k:v}\n",
        "a: http://x:80/y\nb: [http://x:80, {u: http://y:1}]\n",
        "-\n  a: 1\n-\n  - x\n",
        "- a\n- b:\n  - c\n",
        "a:\n# comment\n  b: 1\n\n  c: 2\n",
        "<<: {a: 1}\nb: 2\n",
        "a: 0x10\nb: 1_000\nc: .5\nd: 1e3\ne: True\nf: NULL\ng: 08\n",
        "a: '\u{2028}'\n",
        "",
        "# only\n",
        "---\n",
        "a",
        "a: [[[[1]]]]\n",
        "a: \nb: 1\n",
        "a:   \n",
        "- \n- x\n",
        "-",
        "- ",
        "\n---",
        "a:\n  - x\n  - \n",
        "'k':\n\"l\":\nm: 1\n",
        "- 'k':\n  \"l\": x\n",
    ];

    #[test]
    fn the_fast_reader_reads_like_saphyr() {
        let mut fast = 0;
        for source in DIFFERENTIAL {
            let reference = parse_yaml_reference(source, "t.yaml");
            if let Some(parsed) = parse_yaml_fast(source, "t.yaml") {
                fast += 1;
                assert_eq!(parsed.root, reference.root, "{source:?}");
                assert_eq!(parsed.diagnostics, reference.diagnostics, "{source:?}");
            }
            let both = parse(source, "t.yaml", Format::Yaml);
            assert_eq!(both.root, reference.root, "{source:?}");
        }
        assert!(fast >= 25, "{fast}");
    }

    #[test]
    fn empty_yaml_is_a_null_root() {
        for source in ["", "# only a comment\n", "---\n"] {
            let p = yaml(source);
            assert!(p.diagnostics.is_empty());
            assert!(p.root.unwrap().is_null(), "{source:?}");
        }
    }

    #[test]
    fn toml_positions() {
        let src = "[http.routers.r]\n  rule = \"Host(`a`)\"\n  priority = 0x10\n[[http.services.s.loadBalancer.servers]]\n  url = \"http://x\"\n";
        let p = parse(src, "t.toml", Format::Toml);
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
        let root = p.root.unwrap();
        let r = root.get("http").unwrap().get("routers").unwrap().get("r").unwrap();
        let rule = r.get("rule").unwrap();
        assert_eq!((rule.line, rule.column, rule.quoted), (2, 10, true));
        let (k, v) = &r.entries()[1];
        assert_eq!(
            (&*k.name, k.line, k.column, &v.kind, v.text.as_deref()),
            ("priority", 3, 3, &Kind::Int(16), Some("0x10"))
        );
        let servers = root.get("http").unwrap().get("services").unwrap().get("s").unwrap().get("loadBalancer").unwrap();
        let servers = servers.get("servers").unwrap();
        assert_eq!(servers.items().len(), 1);
        assert_eq!(servers.items()[0].get("url").unwrap().line, 5);

        let bad = parse("a = \n", "t.toml", Format::Toml);
        assert!(bad.root.is_none());
        assert_eq!(bad.diagnostics[0].code, "SY3001");
        let dup = parse("a = 1\na = 2\n", "t.toml", Format::Toml);
        assert_eq!(dup.diagnostics[0].code, "SY3001");
        assert_eq!(dup.diagnostics[0].location.as_ref().map(|l| l.line), Some(2));
    }
}
