//! The tree of a YAML file: from the fast reader's events when the text is in its subset, else from
//! saphyr-parser's, resolved like Traefik's yaml.v3 (anchors and aliases with a bound on expansion, merge keys,
//! duplicate keys refused, the first document only).

use std::borrow::Cow;
use std::collections::BTreeMap;

use switchyard_diagnostics::{Diagnostic, Location};
use switchyard_yaml::fast;

use super::super::golang::{self, Resolved};
use super::{ALIAS_BUDGET, Key, Kind, MAX_DEPTH, Node, Parsed, error_at, to_u32};

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

pub(super) fn parse_yaml<'s>(source: &'s str, file: &str) -> Parsed<'s> {
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
