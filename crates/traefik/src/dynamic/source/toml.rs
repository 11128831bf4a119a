//! The tree of a TOML file, read with toml_edit and its spans; values keep their TOML types.

use std::borrow::Cow;

use super::{Key, Kind, MAX_DEPTH, Node, Parsed, error_at, to_u32, too_deep};

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

pub(super) fn parse_toml<'s>(source: &'s str, file: &str) -> Parsed<'s> {
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
