//! The positioned value tree of one file, built from YAML (saphyr-parser events) or TOML (toml_edit with spans).
//!
//! Scalars are resolved the way Traefik's decoders do: YAML plain scalars like yaml.v3 (YAML 1.2 core schema
//! plus its 1.1 leftovers: `0777` octal, `_` in numbers; `yes`/`on` stay strings; timestamps stay strings),
//! TOML values by their TOML type. Each scalar keeps the text it was written as when that differs from its
//! value (`0x10`), and whether it was quoted. Anchors and aliases are resolved (with a bound on expansion),
//! merge keys (`<<`) are applied like yaml.v3 does, duplicate keys are refused, and only the first YAML document
//! is read, as yaml.v3 does.

use std::borrow::Cow;
use std::collections::BTreeMap;

use switchyard_diagnostics::{Diagnostic, Location};
use switchyard_yaml::fast;

use super::golang::{self, Resolved};

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

// ---------------------------------------------------------------------------------------------------------------
// YAML

/// The style of a scalar as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    Plain,
    Quoted,
}

/// A tag on a YAML node, when there is one: `!!str` is (`true`, `"str"`), `!foo` is (`false`, `"!foo"`).
pub(crate) struct TagRef<'t> {
    core: bool,
    suffix: &'t str,
    display: String,
}

struct Built<'s> {
    node: Node<'s>,
    /// Nodes in the subtree, and its height (a scalar has height 0).
    count: usize,
    height: usize,
}

/// An open collection. Its children wait in the builder's scratch stacks (from `start`) until it closes, and then
/// move into a vector of exactly their number: no vector grows by doubling, none has spare capacity.
enum Frame<'s> {
    Seq {
        node: Node<'s>,
        anchor: usize,
        count: usize,
        height: usize,
        start: usize,
    },
    Map {
        node: Node<'s>,
        anchor: usize,
        count: usize,
        height: usize,
        start: usize,
        /// The key read, waiting for its value; `merge` when it is `<<`.
        key: Option<(Key<'s>, bool)>,
        merges: Vec<Node<'s>>,
    },
}

/// Builds the tree from YAML events; fed by saphyr-parser or by the fast reader ([`switchyard_yaml::fast`]).
pub(crate) struct YamlBuilder<'s, 'f> {
    file: &'f str,
    stack: Vec<Frame<'s>>,
    /// The entries and items of the open collections, innermost last.
    entries: Vec<(Key<'s>, Node<'s>)>,
    items: Vec<Node<'s>>,
    anchors: BTreeMap<usize, Built<'s>>,
    root: Option<Node<'s>>,
    diagnostics: Vec<Diagnostic>,
    written_nodes: usize,
    alias_nodes: usize,
}

fn parse_yaml<'s>(source: &'s str, file: &str) -> Parsed<'s> {
    parse_yaml_fast(source, file).unwrap_or_else(|| parse_yaml_reference(source, file))
}

/// Reads YAML with the fast reader only: `None` when the file is outside its subset. For differential tests
/// against [`parse_yaml_reference`]; [`parse`] uses both.
pub fn parse_yaml_fast<'s>(source: &'s str, file: &str) -> Option<Parsed<'s>> {
    let mut b = YamlBuilder::new(file);
    match fast::read(source, &mut b) {
        Ok(()) => Some(b.finish()),
        Err(fast::Stop::Error(d)) => Some(b.fail(*d)),
        Err(fast::Stop::Unsupported) => None,
    }
}

impl<'s> fast::Events<'s> for YamlBuilder<'s, '_> {
    type Error = Box<Diagnostic>;

    fn scalar(&mut self, value: Cow<'s, str>, quoted: bool, line: u32, column: u32) {
        let style = if quoted { Style::Quoted } else { Style::Plain };
        YamlBuilder::scalar(self, value, style, 0, None, line, column);
    }

    fn open(&mut self, seq: bool, line: u32, column: u32) -> Result<(), Box<Diagnostic>> {
        let kind = if seq { Kind::Seq(Vec::new()) } else { Kind::Map(Vec::new()) };
        YamlBuilder::open(self, kind, 0, line, column)
    }

    fn close(&mut self) -> Result<(), Box<Diagnostic>> {
        YamlBuilder::close(self)
    }
}

/// Reads YAML with saphyr-parser only, without the fast reader. [`parse`] gives the same result for every input
/// (the fast reader hands anything unusual over to saphyr-parser); differential tests and the fuzz target
/// compare the two.
pub fn parse_yaml_reference<'s>(source: &'s str, file: &str) -> Parsed<'s> {
    use saphyr_parser::{Event, Parser, ScalarStyle};
    let mut b = YamlBuilder::new(file);
    let mut documents = 0;
    // saphyr-parser puts an empty value at the end of the text on the line after the last one.
    let last_line = to_u32(source.split('\n').count());
    let end_column = to_u32(source.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1);
    for item in Parser::new_from_str(source) {
        let (event, span) = match item {
            Ok(x) => x,
            Err(e) => {
                let (line, column) = clamp(source, e.marker().line(), e.marker().col() + 1);
                let d = error_at("SY3001", format!("YAML syntax error: {}", e.info()), file, line, column);
                return b.fail(d);
            }
        };
        let (line, column) = match (to_u32(span.start.line()), to_u32(span.start.col() + 1)) {
            (line, _) if line > last_line => (last_line, end_column),
            (line, column) => (line.max(1), column),
        };
        let result = match event {
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    b.diagnostics.push(second_document(file, line, column));
                    break;
                }
                Ok(())
            }
            Event::Scalar(value, style, anchor, tag) => {
                let style = if style == ScalarStyle::Plain { Style::Plain } else { Style::Quoted };
                let tag = tag.as_deref().map(|t| TagRef {
                    core: t.is_yaml_core_schema(),
                    suffix: if t.is_yaml_core_schema() { t.suffix.as_str() } else { "" },
                    display: if t.is_yaml_core_schema() { format!("!!{}", t.suffix) } else { t.to_string() },
                });
                b.scalar(value, style, anchor, tag.as_ref(), line, column);
                Ok(())
            }
            Event::Alias(id) => b.alias(id, line, column),
            Event::SequenceStart(anchor, _) => b.open(Kind::Seq(Vec::new()), anchor, line, column),
            Event::MappingStart(anchor, _) => b.open(Kind::Map(Vec::new()), anchor, line, column),
            Event::SequenceEnd | Event::MappingEnd => b.close(),
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => Ok(()),
        };
        if let Err(d) = result {
            return b.fail(*d);
        }
    }
    b.finish()
}

pub(crate) fn second_document(file: &str, line: u32, column: u32) -> Diagnostic {
    error_at(
        "SY3010",
        "a second YAML document: Traefik reads only the first document of a file and silently ignores everything \
         after this `---`",
        file,
        line as usize,
        column as usize,
    )
    .hint("put each document in its own file, or merge them into one mapping")
}

/// Keeps a reported position inside the text (parsers report an unexpected end one line past the last).
fn clamp(source: &str, line: usize, column: usize) -> (usize, usize) {
    let lines = source.split('\n').count();
    if line == 0 {
        (1, column.max(1))
    } else if line > lines {
        (lines, source.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1)
    } else {
        (line, column.max(1))
    }
}

impl<'s, 'f> YamlBuilder<'s, 'f> {
    pub(crate) fn new(file: &'f str) -> Self {
        YamlBuilder {
            file,
            stack: Vec::new(),
            entries: Vec::new(),
            items: Vec::new(),
            anchors: BTreeMap::new(),
            root: None,
            diagnostics: Vec::new(),
            written_nodes: 0,
            alias_nodes: 0,
        }
    }

    pub(crate) fn finish(mut self) -> Parsed<'s> {
        let root = self.root.take().unwrap_or(Node::new(Kind::Null, 1, 1));
        Parsed { root: Some(root), diagnostics: self.diagnostics }
    }

    pub(crate) fn fail(mut self, d: Diagnostic) -> Parsed<'s> {
        self.diagnostics.push(d);
        Parsed { root: None, diagnostics: self.diagnostics }
    }

    pub(crate) fn scalar(
        &mut self,
        value: Cow<'s, str>,
        style: Style,
        anchor: usize,
        tag: Option<&TagRef<'_>>,
        line: u32,
        column: u32,
    ) {
        let plain = style == Style::Plain;
        // A plain `<<` key is a merge key.
        if plain
            && value == "<<"
            && tag.is_none()
            && let Some(Frame::Map { key: key @ None, .. }) = self.stack.last_mut()
        {
            *key = Some((Key { name: value, line, column }, true));
            return;
        }
        let resolved = match tag {
            Some(t) if t.core => match t.suffix {
                "str" | "binary" | "timestamp" => Resolved::Str,
                "null" => Resolved::Null,
                "bool" => golang::parse_bool(&value).map_or(Resolved::Str, Resolved::Bool),
                "int" => match golang::resolve_plain(&value) {
                    r @ Resolved::Int(_) => r,
                    _ => {
                        self.warn_tag(&t.display, &value, line, column);
                        Resolved::Str
                    }
                },
                "float" => value.parse::<f64>().map_or(Resolved::Str, Resolved::Float),
                _ => {
                    self.warn_tag(&t.display, &value, line, column);
                    Resolved::Str
                }
            },
            Some(t) => {
                self.warn_tag(&t.display, &value, line, column);
                Resolved::Str
            }
            None if plain => golang::resolve_plain(&value),
            None => Resolved::Str,
        };
        let (kind, text) = match resolved {
            Resolved::Null => (Kind::Null, Some(value)),
            Resolved::Bool(v) => (Kind::Bool(v), Some(value)),
            Resolved::Int(v) => (Kind::Int(v), Some(value)),
            Resolved::Float(v) => (Kind::Float(v), Some(value)),
            Resolved::Str => (Kind::Str(value), None),
        };
        let node = Node { kind, text, quoted: !plain, line, column };
        if self.in_key_position() {
            self.key(node, plain, line, column);
            return;
        }
        self.written_nodes += 1;
        let built = Built { node, count: 1, height: 0 };
        if anchor > 0 {
            self.anchors.insert(anchor, Built { node: built.node.clone(), count: 1, height: 0 });
        }
        self.value(built);
    }

    fn warn_tag(&mut self, tag: &str, value: &str, line: u32, column: u32) {
        let mut d = Diagnostic::warning(
            "SY3012",
            format!("YAML tag `{tag}` on `{value}`: Traefik's YAML decoder ignores it and reads the value as text"),
        );
        d.location = Some(Location { file: self.file.to_string(), line: line as usize, column: column as usize });
        self.diagnostics.push(d.hint("remove the tag"));
    }

    fn in_key_position(&self) -> bool {
        matches!(self.stack.last(), Some(Frame::Map { key: None, .. }))
    }

    /// A scalar read where a key is expected.
    fn key(&mut self, node: Node<'s>, plain: bool, line: u32, column: u32) {
        let name: Cow<'s, str> = match (node.kind, node.text) {
            (Kind::Str(s), _) => s,
            (kind, text) => {
                let text = text.unwrap_or_default();
                // yaml.v3 decodes a nested mapping with a key that is not a string (a plain `404`, `true`, `~`)
                // into a map[interface{}]interface{}; paerser then names the entry with Go's
                // reflect.Value.String(), which is `<int Value>`, not `404`. The top level is decoded into
                // map[string]interface{} and is not affected.
                if plain && self.stack.len() > 1 {
                    let (what, go) = match kind {
                        Kind::Int(_) => ("an integer", "int"),
                        Kind::Float(_) => ("a number", "float64"),
                        Kind::Bool(_) => ("a boolean", "bool"),
                        _ => ("null", "invalid"),
                    };
                    let mut d = Diagnostic::warning(
                        "SY3012",
                        format!(
                            "the key `{text}` is read by Traefik's YAML decoder as {what} and then mangled (Traefik \
                             names the entry `<{go} Value>`)"
                        ),
                    );
                    d.location =
                        Some(Location { file: self.file.to_string(), line: line as usize, column: column as usize });
                    self.diagnostics.push(d.hint(format!("quote the key: \"{text}\"")));
                }
                text
            }
        };
        if let Some(Frame::Map { key, .. }) = self.stack.last_mut() {
            *key = Some((Key { name, line, column }, false));
        }
    }

    fn alias(&mut self, id: usize, line: u32, column: u32) -> Result<(), Box<Diagnostic>> {
        let Some(anchored) = self.anchors.get(&id) else {
            return Err(Box::new(error_at(
                "SY3001",
                "an alias to an unknown anchor",
                self.file,
                line as usize,
                column as usize,
            )));
        };
        if self.stack.len() + anchored.height >= MAX_DEPTH {
            return Err(Box::new(too_deep(self.file, line, column)));
        }
        self.alias_nodes += anchored.count;
        if self.alias_nodes > ALIAS_BUDGET + 10 * self.written_nodes {
            return Err(Box::new(error_at(
                "SY3011",
                format!("aliases expand to more than {} nodes: refused as an alias bomb", self.alias_nodes),
                self.file,
                line as usize,
                column as usize,
            )));
        }
        let built = Built { node: anchored.node.clone(), count: anchored.count, height: anchored.height };
        if self.in_key_position() {
            // An alias used as a key: only a scalar makes sense.
            return if built.node.is_scalar() || built.node.is_null() {
                self.key(built.node, false, line, column);
                Ok(())
            } else {
                Err(Box::new(error_at(
                    "SY3001",
                    "a mapping key must be a scalar",
                    self.file,
                    line as usize,
                    column as usize,
                )))
            };
        }
        self.value(built);
        Ok(())
    }

    pub(crate) fn open(
        &mut self,
        kind: Kind<'s>,
        anchor: usize,
        line: u32,
        column: u32,
    ) -> Result<(), Box<Diagnostic>> {
        if self.in_key_position() {
            return Err(Box::new(error_at(
                "SY3001",
                "a mapping key must be a scalar: Traefik refuses a list or a mapping as a key",
                self.file,
                line as usize,
                column as usize,
            )));
        }
        if self.stack.len() + 1 >= MAX_DEPTH {
            return Err(Box::new(too_deep(self.file, line, column)));
        }
        self.written_nodes += 1;
        let node = Node::new(kind, line, column);
        self.stack.push(match node.kind {
            Kind::Seq(_) => Frame::Seq { node, anchor, count: 1, height: 0, start: self.items.len() },
            _ => Frame::Map {
                node,
                anchor,
                count: 1,
                height: 0,
                start: self.entries.len(),
                key: None,
                merges: Vec::new(),
            },
        });
        Ok(())
    }

    pub(crate) fn close(&mut self) -> Result<(), Box<Diagnostic>> {
        let (built, anchor) = match self.stack.pop() {
            Some(Frame::Seq { mut node, anchor, count, height, start }) => {
                node.kind = Kind::Seq(take_from(&mut self.items, start));
                (Built { node, count, height }, anchor)
            }
            Some(Frame::Map { mut node, anchor, count, height, start, merges, .. }) => {
                let mut entries = take_from(&mut self.entries, start);
                self.remove_duplicates(&mut entries);
                merge(&mut entries, merges, self.file)?;
                node.kind = Kind::Map(entries);
                (Built { node, count, height }, anchor)
            }
            None => return Ok(()),
        };
        if anchor > 0 {
            self.anchors.insert(anchor, Built { node: built.node.clone(), count: built.count, height: built.height });
        }
        self.value(built);
        Ok(())
    }

    /// yaml.v3 refuses a key written twice in one mapping; the later one is dropped here after the error.
    fn remove_duplicates(&mut self, entries: &mut Vec<(Key<'s>, Node<'s>)>) {
        if entries.len() < 2 {
            return;
        }
        // Small mappings (nearly all): compare pairs, without allocating.
        if entries.len() <= 12 {
            let mut i = 1;
            while i < entries.len() {
                if let Some(first) = entries[..i].iter().position(|(k, _)| k.name == entries[i].0.name) {
                    let (first, later) = (&entries[first].0, &entries[i].0);
                    let mut d = Diagnostic::error(
                        "SY3008",
                        format!(
                            "the key `{}` is written twice in this mapping (first at line {})",
                            later.name, first.line
                        ),
                    );
                    d.location = Some(later.location(self.file));
                    self.diagnostics.push(d.hint("keep one of them"));
                    entries.remove(i);
                } else {
                    i += 1;
                }
            }
            return;
        }
        // Large mappings (the routers of a big file): sort hashes of the keys, compare names only on a match.
        let mut hashes: Vec<(u64, u32)> = entries
            .iter()
            .enumerate()
            .map(|(i, (k, _))| (switchyard_lookup::fnv1a(k.name.as_bytes()), to_u32(i)))
            .collect();
        hashes.sort_unstable();
        let mut drop: Vec<usize> = Vec::new();
        let mut run = 0;
        while run < hashes.len() {
            let mut end = run + 1;
            while end < hashes.len() && hashes[end].0 == hashes[run].0 {
                end += 1;
            }
            // Within a run of equal hashes (in entry order), a name seen before is a duplicate of its first.
            for j in run + 1..end {
                let later = hashes[j].1 as usize;
                if let Some(first) = hashes[run..j]
                    .iter()
                    .map(|(_, i)| *i as usize)
                    .find(|i| !drop.contains(i) && entries[*i].0.name == entries[later].0.name)
                {
                    let (first, later_key) = (&entries[first].0, &entries[later].0);
                    let mut d = Diagnostic::error(
                        "SY3008",
                        format!(
                            "the key `{}` is written twice in this mapping (first at line {})",
                            later_key.name, first.line
                        ),
                    );
                    d.location = Some(later_key.location(self.file));
                    self.diagnostics.push(d.hint("keep one of them"));
                    drop.push(later);
                }
            }
            run = end;
        }
        if !drop.is_empty() {
            drop.sort_unstable();
            let mut i = 0;
            entries.retain(|_| {
                i += 1;
                drop.binary_search(&(i - 1)).is_err()
            });
        }
    }

    /// Adds a finished node to its parent (or makes it the root).
    fn value(&mut self, built: Built<'s>) {
        match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(built.node);
                }
            }
            Some(Frame::Seq { count, height, .. }) => {
                *count += built.count;
                *height = (*height).max(built.height + 1);
                self.items.push(built.node);
            }
            Some(Frame::Map { count, height, key, merges, .. }) => {
                *count += built.count;
                *height = (*height).max(built.height + 1);
                match key.take() {
                    Some((_, true)) => merges.push(built.node),
                    Some((k, false)) => self.entries.push((k, built.node)),
                    // A complex key was refused in `open`; nothing else lands here.
                    None => {}
                }
            }
        }
    }
}

/// The items of `scratch` from `start`, moved into a vector of their exact size (one copy of the block).
fn take_from<T>(scratch: &mut Vec<T>, start: usize) -> Vec<T> {
    if start == 0 {
        // `split_off(0)` (or `mem::take`) would hand over the scratch buffer itself, with all its spare capacity.
        #[allow(clippy::drain_collect)]
        return scratch.drain(..).collect();
    }
    scratch.split_off(start)
}

pub(crate) fn too_deep(file: &str, line: u32, column: u32) -> Diagnostic {
    error_at(
        "SY3011",
        format!("nested more than {MAX_DEPTH} levels deep: refused (Traefik's options are at most 8 levels deep)"),
        file,
        line as usize,
        column as usize,
    )
}

/// Applies `<<` merge keys like yaml.v3: keys written in the mapping win over merged ones, and among several
/// merged mappings the first one listed wins.
fn merge<'s>(entries: &mut Vec<(Key<'s>, Node<'s>)>, merges: Vec<Node<'s>>, file: &str) -> Result<(), Box<Diagnostic>> {
    for source in merges {
        let maps = match source.kind {
            Kind::Map(m) => vec![m],
            Kind::Seq(items) => {
                let mut maps = Vec::with_capacity(items.len());
                for item in items {
                    match item.kind {
                        Kind::Map(m) => maps.push(m),
                        _ => return Err(Box::new(bad_merge(file, item.line, item.column))),
                    }
                }
                maps
            }
            _ => return Err(Box::new(bad_merge(file, source.line, source.column))),
        };
        for map in maps {
            for (k, v) in map {
                if !entries.iter().any(|(e, _)| e.name == k.name) {
                    entries.push((k, v));
                }
            }
        }
    }
    Ok(())
}

fn bad_merge(file: &str, line: u32, column: u32) -> Diagnostic {
    error_at(
        "SY3001",
        "a merge key `<<` needs a mapping or a list of mappings (usually an alias such as `<<: *defaults`)",
        file,
        line as usize,
        column as usize,
    )
}

// ---------------------------------------------------------------------------------------------------------------
// TOML

/// Byte offsets to 1-based line and column (in characters).
struct Lines<'s> {
    source: &'s str,
    starts: Vec<usize>,
}

impl<'s> Lines<'s> {
    fn new(source: &'s str) -> Self {
        let mut starts = vec![0];
        starts.extend(source.bytes().enumerate().filter(|(_, b)| *b == b'\n').map(|(i, _)| i + 1));
        Lines { source, starts }
    }

    fn position(&self, offset: usize) -> (u32, u32) {
        let offset = offset.min(self.source.len());
        let line = self.starts.partition_point(|s| *s <= offset).max(1);
        let start = self.starts[line - 1];
        let column = self.source.get(start..offset).map_or(offset - start, |s| s.chars().count()) + 1;
        (to_u32(line), to_u32(column))
    }
}

fn parse_toml<'s>(source: &'s str, file: &str) -> Parsed<'s> {
    let lines = Lines::new(source);
    let doc = match toml_edit::Document::parse(source) {
        Ok(doc) => doc,
        Err(e) => {
            let (line, column) = e.span().map_or((1, 1), |s| lines.position(s.start));
            let message = e.message().trim_end().to_string();
            let d = error_at("SY3001", format!("TOML syntax error: {message}"), file, line as usize, column as usize);
            return Parsed { root: None, diagnostics: vec![d] };
        }
    };
    let conv = TomlConv { lines: &lines, source };
    match conv.table(doc.as_table(), (1, 1), 0) {
        Ok(root) => Parsed { root: Some(root), diagnostics: Vec::new() },
        Err((line, column)) => Parsed { root: None, diagnostics: vec![too_deep(file, line, column)] },
    }
}

struct TomlConv<'a, 's> {
    lines: &'a Lines<'s>,
    source: &'s str,
}

type Pos = (u32, u32);

impl<'s> TomlConv<'_, 's> {
    fn pos(&self, span: Option<std::ops::Range<usize>>, fallback: Pos) -> Pos {
        span.map_or(fallback, |s| self.lines.position(s.start))
    }

    /// `text` borrowed from the source when `span` holds exactly it (a bare key, a string without escapes).
    fn borrow(&self, span: Option<std::ops::Range<usize>>, text: &str, quoted: bool) -> Cow<'s, str> {
        let raw = span.and_then(|s| self.source.get(s));
        let inner = match raw {
            Some(r) if quoted && r.len() >= 2 && (r.starts_with('"') || r.starts_with('\'')) => r.get(1..r.len() - 1),
            other => other,
        };
        match inner {
            Some(r) if r == text => Cow::Borrowed(r),
            _ => Cow::Owned(text.to_string()),
        }
    }

    fn key(&self, key: Option<&toml_edit::Key>, name: &str, at: Pos) -> Key<'s> {
        let span = key.and_then(toml_edit::Key::span);
        let (line, column) = self.pos(span.clone(), at);
        Key { name: self.borrow(span, name, true), line, column }
    }

    fn table(&self, table: &toml_edit::Table, at: Pos, depth: usize) -> Result<Node<'s>, Pos> {
        if depth >= MAX_DEPTH {
            return Err(at);
        }
        let (line, column) = self.pos(table.span(), at);
        let mut entries = Vec::with_capacity(table.len());
        for (name, item) in table.iter() {
            let key = self.key(table.key(name), name, (line, column));
            let value = self.item(item, (key.line, key.column), depth + 1)?;
            entries.push((key, value));
        }
        Ok(Node::new(Kind::Map(entries), line, column))
    }

    fn item(&self, item: &toml_edit::Item, at: Pos, depth: usize) -> Result<Node<'s>, Pos> {
        use toml_edit::Item;
        match item {
            Item::None => Ok(Node::new(Kind::Null, at.0, at.1)),
            Item::Value(v) => self.value(v, at, depth),
            Item::Table(t) => self.table(t, at, depth),
            Item::ArrayOfTables(a) => {
                let (line, column) = self.pos(a.span(), at);
                let mut items = Vec::with_capacity(a.len());
                for t in a.iter() {
                    items.push(self.table(t, (line, column), depth + 1)?);
                }
                Ok(Node::new(Kind::Seq(items), line, column))
            }
        }
    }

    fn value(&self, value: &toml_edit::Value, at: Pos, depth: usize) -> Result<Node<'s>, Pos> {
        use toml_edit::Value;
        if depth >= MAX_DEPTH {
            return Err(at);
        }
        let (line, column) = self.pos(value.span(), at);
        let raw = || value.span().and_then(|s| self.source.get(s)).map(Cow::Borrowed);
        let node = match value {
            Value::String(s) => {
                let text = self.borrow(value.span(), s.value(), true);
                Node { quoted: true, ..Node::new(Kind::Str(text), line, column) }
            }
            Value::Integer(i) => Node { text: raw(), ..Node::new(Kind::Int(*i.value()), line, column) },
            Value::Float(f) => Node { text: raw(), ..Node::new(Kind::Float(*f.value()), line, column) },
            Value::Boolean(b) => Node::new(Kind::Bool(*b.value()), line, column),
            // BurntSushi/toml gives a time.Time, which paerser only accepts where a string is wanted.
            Value::Datetime(d) => Node::new(Kind::Str(Cow::Owned(d.value().to_string())), line, column),
            Value::Array(a) => {
                let mut items = Vec::with_capacity(a.len());
                for v in a.iter() {
                    items.push(self.value(v, (line, column), depth + 1)?);
                }
                Node::new(Kind::Seq(items), line, column)
            }
            Value::InlineTable(t) => {
                let mut entries = Vec::with_capacity(t.len());
                for (name, v) in t.iter() {
                    let key = self.key(t.key(name), name, (line, column));
                    let value = self.value(v, (key.line, key.column), depth + 1)?;
                    entries.push((key, value));
                }
                Node::new(Kind::Map(entries), line, column)
            }
        };
        Ok(node)
    }
}

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
