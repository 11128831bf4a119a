//! A serde `Deserializer` over saphyr-parser's events, following serde_yaml 0.9's rules so that specs read
//! exactly as they did through it (see the equivalence tests in `tests/yaml_de.rs`):
//! - a plain scalar is null (`~`, `null`, empty), a boolean, an integer (also `0x`/`0o`/`0b`, up to 128
//!   bits) or a float only when the type asks for one ([`super::resolve_plain`]); any scalar, quoted or not,
//!   is accepted where a string is wanted (`compose: 123` is `"123"`); numbers must be plain;
//! - an empty plain scalar is also an empty map or list; `<<` is an ordinary key (no merging); in a map the
//!   last of duplicate keys wins, in a struct serde refuses it;
//! - aliases are replayed (with serde_yaml's limits on depth and repetition); a local tag (`!x`) is an enum
//!   variant to serde_yaml, which no type here is, so it is refused where the type accepts anything;
//! - only the first document is read; the caller refuses a second one.
//!
//! Errors carry the key path (in serde_path_to_error's notation: `a.b[0].c`) and the position serde_yaml
//! gave: the key for an unknown field, the map for a missing or duplicate field, the value otherwise.

use std::collections::BTreeMap;
use std::fmt;

use saphyr_parser::{Event, Parser, ScalarStyle, Tag};
use serde::de::{self, DeserializeSeed, IntoDeserializer, Unexpected, Visitor};

use super::{Plain, is_null, parse_bool, parse_f64, resolve_plain};

/// serde_yaml's limit on nesting (also what stops a recursive alias).
const MAX_DEPTH: usize = 128;

#[derive(Debug)]
pub(crate) struct Error {
    pub(crate) message: String,
    /// Line and column, 1-based.
    pub(crate) at: Option<(usize, usize)>,
    pub(crate) path: Option<String>,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error { message: msg.to_string(), at: None, path: None }
    }
}

fn error(message: &str, at: (usize, usize)) -> Error {
    Error { message: message.to_string(), at: Some(at), path: None }
}

struct Node<'a> {
    event: Event<'a>,
    at: (usize, usize),
}

/// The first document's events (up to a syntax error, which is reported when the reader reaches it).
pub(crate) struct Document<'a> {
    nodes: Vec<Node<'a>>,
    anchors: BTreeMap<usize, usize>,
    /// The syntax error that ended the events early, if any.
    error: Option<(String, (usize, usize))>,
    /// Where a second document starts.
    pub(crate) second: Option<(usize, usize)>,
    /// Where the input ends.
    end: (usize, usize),
}

impl<'a> Document<'a> {
    /// The events of `source`: by the fast reader when the text is in its subset ([`super::fast`]), else by
    /// saphyr-parser. The same either way (the differential tests and the fuzz target compare them).
    pub(crate) fn load(source: &'a str) -> Self {
        Self::load_fast(source).unwrap_or_else(|| Self::load_reference(source))
    }

    /// The events by the fast reader; `None` when the text is outside its subset, or has no content (where
    /// saphyr-parser's end of the stream is wanted).
    pub(crate) fn load_fast(source: &'a str) -> Option<Self> {
        let mut sink = Collect { nodes: Vec::new(), open: Vec::new(), lines: Lines::new(source) };
        match super::fast::read(source, &mut sink) {
            Ok(()) if !sink.nodes.is_empty() => {
                sink.lines.place_sequences(&mut sink.nodes);
                Some(Document { nodes: sink.nodes, anchors: BTreeMap::new(), error: None, second: None, end: (1, 1) })
            }
            _ => None,
        }
    }

    /// The events by saphyr-parser.
    pub(crate) fn load_reference(source: &'a str) -> Self {
        let mut lines = Lines::new(source);
        let mut doc = Document { nodes: Vec::new(), anchors: BTreeMap::new(), error: None, second: None, end: (1, 1) };
        let mut documents = 0;
        for item in Parser::new_from_str(source) {
            match item {
                Err(e) => {
                    let m = e.marker();
                    if documents <= 1 && doc.second.is_none() {
                        doc.error = Some((e.info().to_string(), (m.line(), m.col() + 1)));
                    } else if doc.second.is_none() {
                        doc.second = Some((m.line(), m.col() + 1));
                    }
                    break;
                }
                Ok((event, span)) => {
                    let at = lines.libyaml_at(&event, (span.start.line(), span.start.col() + 1));
                    match event {
                        Event::DocumentStart(_) => {
                            documents += 1;
                            if documents > 1 {
                                doc.second = Some(at);
                                break;
                            }
                        }
                        Event::StreamEnd => doc.end = at,
                        Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
                        event => {
                            let anchor = match &event {
                                Event::Scalar(_, _, a, _) | Event::SequenceStart(a, _) | Event::MappingStart(a, _) => {
                                    *a
                                }
                                _ => 0,
                            };
                            if anchor > 0 {
                                doc.anchors.insert(anchor, doc.nodes.len());
                            }
                            doc.nodes.push(Node { event, at });
                        }
                    }
                }
            }
        }
        lines.place_sequences(&mut doc.nodes);
        doc
    }
}

/// The fast reader's events, as [`Document::load_reference`] keeps saphyr-parser's: no anchors or tags; placed
/// where libyaml places them ([`Lines::libyaml_at`]) as there; single and double quotes alike (no rule here tells them
/// apart). The end of a collection gets the position of the event before it: no error is ever placed there.
struct Collect<'a> {
    nodes: Vec<Node<'a>>,
    /// The open collections, innermost last: a sequence?
    open: Vec<bool>,
    lines: Lines<'a>,
}

/// The text by lines, for the few events whose position libyaml gives differently from saphyr-parser.
struct Lines<'a> {
    source: &'a str,
    /// Where each line starts (byte offsets); found the first time a position needs its character.
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    fn new(source: &'a str) -> Self {
        Lines { source, starts: Vec::new() }
    }

    /// The line at a 1-based number.
    fn line(&mut self, line: usize) -> Option<&'a str> {
        if self.starts.is_empty() {
            self.starts.push(0);
            let bytes = self.source.as_bytes();
            let mut at = 0;
            while let Some(off) = bytes[at..].iter().position(|&b| b == b'\n') {
                at += off + 1;
                self.starts.push(at);
            }
        }
        let start = *self.starts.get(line.checked_sub(1)?)?;
        let text = &self.source[start..];
        Some(text.split('\n').next().unwrap_or(text))
    }

    /// Where serde_yaml (libyaml) places `event`, which saphyr-parser places at `at` (1-based, in characters):
    /// the empty value of a `key:`, which saphyr-parser puts on the `:`, libyaml puts on the token after it when
    /// that ends a flow collection's entry (`{a: }`, `[a: , b]`, also on a later line: the `,`, `}` or `]`),
    /// else (in a block mapping) just after the `:`. (Sequences: [`Self::place_sequences`].)
    fn libyaml_at(&mut self, event: &Event<'_>, at: (usize, usize)) -> (usize, usize) {
        let Event::Scalar(v, ScalarStyle::Plain, 0, None) = event else { return at };
        let Some(text) = (if v.is_empty() { self.line(at.0) } else { None }) else { return at };
        let start = text.char_indices().nth(at.1.saturating_sub(1)).map_or(text.len(), |(i, _)| i);
        let mut chars = text[start..].chars();
        if chars.next() != Some(':') {
            return at;
        }
        let after = (at.0, at.1 + 1);
        let mut here = after;
        loop {
            match chars.next() {
                Some(' ' | '\t' | '\r') => here.1 += 1,
                Some(',' | '}' | ']') => return here,
                Some('#') | None => {
                    here = (here.0 + 1, 1);
                    let Some(text) = self.line(here.0) else { return after };
                    chars = text.chars();
                }
                Some(_) => return after,
            }
        }
    }

    /// Places a block sequence written at its key's indentation (`key:\n- a`) at its first dash, as libyaml
    /// does, where saphyr-parser puts it after the dash and its spaces. Such a sequence starts where the event
    /// after it does (its first item: `- a`, `- [a]`, `- - a`), or neither on a dash (`- -1` is a scalar's) nor
    /// on a `[` (`-` alone on its line).
    fn place_sequences(&mut self, nodes: &mut [Node<'_>]) {
        for i in 0..nodes.len() {
            let (this, next) = (&nodes[i], nodes.get(i + 1).map(|n| n.at));
            if !matches!(this.event, Event::SequenceStart(..)) {
                continue;
            }
            let at = this.at;
            let Some(line) = self.line(at.0) else { continue };
            let mut here = line.chars().skip(at.1.saturating_sub(1));
            let block = next == Some(at)
                || !matches!((here.next(), here.next()), (Some('-'), None | Some(' ')) | (Some('['), _));
            if !block {
                continue;
            }
            let before: Vec<char> = line.chars().take(at.1.saturating_sub(1)).collect();
            if let Some(dash) = before.iter().rposition(|c| *c == '-')
                && before[dash + 1..].iter().all(|c| *c == ' ')
            {
                nodes[i].at.1 = dash + 1;
            }
        }
    }
}

impl<'a> super::fast::Events<'a> for Collect<'a> {
    type Error = std::convert::Infallible;

    fn scalar(&mut self, value: std::borrow::Cow<'a, str>, quoted: bool, line: u32, column: u32) {
        let style = if quoted { ScalarStyle::DoubleQuoted } else { ScalarStyle::Plain };
        let event = Event::Scalar(value, style, 0, None);
        let at = self.lines.libyaml_at(&event, (line as usize, column as usize));
        self.nodes.push(Node { event, at });
    }

    fn open(&mut self, seq: bool, line: u32, column: u32) -> Result<(), Self::Error> {
        let event = if seq { Event::SequenceStart(0, None) } else { Event::MappingStart(0, None) };
        let at = self.lines.libyaml_at(&event, (line as usize, column as usize));
        self.open.push(seq);
        self.nodes.push(Node { event, at });
        Ok(())
    }

    fn close(&mut self) -> Result<(), Self::Error> {
        let event = if self.open.pop() == Some(true) { Event::SequenceEnd } else { Event::MappingEnd };
        let at = self.nodes.last().map_or((1, 1), |n| n.at);
        self.nodes.push(Node { event, at });
        Ok(())
    }
}

/// The events of `source` as text, by the fast reader (`None` outside its subset) and by saphyr-parser, in the
/// form the two must agree on: for the differential tests and the fuzz target.
pub(crate) fn events_both_ways(source: &str) -> (Option<Vec<String>>, Vec<String>) {
    fn text(doc: &Document<'_>) -> Vec<String> {
        let mut out: Vec<String> = doc
            .nodes
            .iter()
            .map(|n| match &n.event {
                Event::SequenceEnd => "]".to_string(),
                Event::MappingEnd => "}".to_string(),
                Event::Scalar(v, style, anchor, tag) => {
                    let style = match style {
                        ScalarStyle::Plain => "plain",
                        ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => "quoted",
                        ScalarStyle::Literal => "literal",
                        ScalarStyle::Folded => "folded",
                    };
                    format!("{}:{} {style} {v:?} &{anchor} {tag:?}", n.at.0, n.at.1)
                }
                event => format!("{}:{} {event:?}", n.at.0, n.at.1),
            })
            .collect();
        out.push(format!("error {:?} second {:?}", doc.error, doc.second));
        out
    }
    (Document::load_fast(source).map(|d| text(&d)), text(&Document::load_reference(source)))
}

#[derive(Clone)]
enum Segment {
    Key(String),
    Index(usize),
    Unknown,
}

pub(crate) struct Reader<'d, 'a> {
    doc: &'d Document<'a>,
    pos: usize,
    depth: usize,
    jumps: usize,
    path: Vec<Segment>,
}

/// Deserialises `T` from the first document.
pub(crate) fn from_document<T: de::DeserializeOwned>(doc: &Document<'_>) -> Result<T, Error> {
    let mut reader = Reader { doc, pos: 0, depth: 0, jumps: 0, path: Vec::new() };
    if doc.nodes.is_empty() && doc.error.is_none() {
        // No document at all: serde_yaml reads it as an empty value.
        return T::deserialize(Empty).map_err(|mut e| {
            e.at.get_or_insert(doc.end);
            e
        });
    }
    let value = T::deserialize(&mut reader)?;
    // A syntax error after the first document's content (the reader never reached it).
    if let Some((message, at)) = &doc.error {
        return Err(Error { message: message.clone(), at: Some(*at), path: None });
    }
    Ok(value)
}

impl<'d, 'a> Reader<'d, 'a> {
    fn path_string(&self) -> String {
        let mut out = String::new();
        for (i, segment) in self.path.iter().enumerate() {
            match segment {
                Segment::Index(n) => out.push_str(&format!("[{n}]")),
                Segment::Key(k) => {
                    if i > 0 {
                        out.push('.');
                    }
                    out.push_str(k);
                }
                Segment::Unknown => {
                    if i > 0 {
                        out.push('.');
                    }
                    out.push('?');
                }
            }
        }
        out
    }

    /// Fills in the position and path of an error that has none yet.
    fn fix(&self, mut e: Error, at: (usize, usize)) -> Error {
        e.at.get_or_insert(at);
        if e.path.is_none() {
            e.path = Some(self.path_string());
        }
        e
    }

    fn fix_path(&self, mut e: Error) -> Error {
        if e.path.is_none() {
            e.path = Some(self.path_string());
        }
        e
    }

    fn peek(&self) -> Result<&'d Node<'a>, Error> {
        match self.doc.nodes.get(self.pos) {
            Some(node) => Ok(node),
            None => Err(match &self.doc.error {
                Some((message, at)) => error(message, *at),
                None => Error { message: "EOF while parsing a value".into(), at: None, path: None },
            }),
        }
    }

    fn next(&mut self) -> Result<&'d Node<'a>, Error> {
        let node = self.peek()?;
        self.pos += 1;
        Ok(node)
    }

    /// A reader over an anchored node, for an alias.
    fn jump(&mut self, anchor: usize, at: (usize, usize)) -> Result<Reader<'d, 'a>, Error> {
        self.jumps += 1;
        if self.jumps > self.doc.nodes.len() * 100 {
            return Err(error("repetition limit exceeded", at));
        }
        let pos = *self.doc.anchors.get(&anchor).ok_or_else(|| error("unknown anchor", at))?;
        Ok(Reader { doc: self.doc, pos, depth: self.depth, jumps: self.jumps, path: self.path.clone() })
    }

    /// Skips one node (after its first event was read).
    fn skip_rest(&mut self, first: &Event<'a>) -> Result<(), Error> {
        if !matches!(first, Event::SequenceStart(..) | Event::MappingStart(..)) {
            return Ok(());
        }
        let mut open = 1usize;
        while open > 0 {
            match self.next()?.event {
                Event::SequenceStart(..) | Event::MappingStart(..) => open += 1,
                Event::SequenceEnd | Event::MappingEnd => open -= 1,
                _ => {}
            }
        }
        Ok(())
    }

    fn nested<T>(&mut self, at: (usize, usize), f: impl FnOnce(&mut Self) -> Result<T, Error>) -> Result<T, Error> {
        if self.depth >= MAX_DEPTH {
            return Err(error("recursion limit exceeded", at));
        }
        self.depth += 1;
        let result = f(self);
        self.depth -= 1;
        result
    }

    fn visit_seq<V: Visitor<'a>>(&mut self, visitor: V, at: (usize, usize)) -> Result<V::Value, Error> {
        self.nested(at, |de| {
            let mut access = SeqAccess { de, index: 0, empty: false };
            let value = visitor.visit_seq(&mut access)?;
            let remaining = access.drain()?;
            de.pos += 1; // SequenceEnd
            if remaining > 0 {
                return Err(de::Error::invalid_length(remaining, &"fewer elements in sequence"));
            }
            Ok(value)
        })
    }

    fn visit_map<V: Visitor<'a>>(&mut self, visitor: V, at: (usize, usize)) -> Result<V::Value, Error> {
        self.nested(at, |de| {
            let mut access = MapAccess { de, key: None, empty: false };
            let value = visitor.visit_map(&mut access)?;
            let remaining = access.drain()?;
            de.pos += 1; // MappingEnd
            if remaining > 0 {
                return Err(de::Error::invalid_length(remaining, &"fewer entries in map"));
            }
            Ok(value)
        })
    }

    /// A scalar for a number or boolean: plain (any tag), or a literal block with the matching core tag.
    fn typed_scalar(&mut self, core: &str) -> Result<Option<&'d str>, Error> {
        let node = self.peek()?;
        match &node.event {
            Event::Scalar(v, style, _, tag) => {
                let ok = match style {
                    ScalarStyle::Plain => true,
                    ScalarStyle::Literal => tag.as_deref().is_some_and(|t| is_core(t, core)),
                    _ => false,
                };
                Ok(ok.then_some(v.as_ref()))
            }
            _ => Ok(None),
        }
    }
}

fn is_core(tag: &Tag, suffix: &str) -> bool {
    tag.is_yaml_core_schema() && tag.suffix == suffix
}

/// What a node is, for "invalid type" messages (serde_yaml's view: a plain scalar by its resolved type).
fn unexpected<'x>(event: &'x Event<'_>) -> Unexpected<'x> {
    match event {
        Event::Scalar(v, ScalarStyle::Plain, _, tag) if !tag.as_deref().is_some_and(Tag::is_yaml_core_schema) => {
            match resolve_plain(v) {
                Plain::Null => Unexpected::Unit,
                Plain::Bool(b) => Unexpected::Bool(b),
                Plain::U64(n) => Unexpected::Unsigned(n),
                Plain::I64(n) => Unexpected::Signed(n),
                Plain::U128(_) | Plain::I128(_) => Unexpected::Other("integer"),
                Plain::F64(f) => Unexpected::Float(f),
                Plain::Str => Unexpected::Str(v),
            }
        }
        Event::Scalar(v, _, _, Some(tag)) if tag.is_yaml_core_schema() => match (tag.suffix.as_str(), resolve_plain(v))
        {
            ("int", Plain::U64(n)) => Unexpected::Unsigned(n),
            ("int", Plain::I64(n)) => Unexpected::Signed(n),
            ("float" | "int", Plain::F64(f)) if tag.suffix == "float" => Unexpected::Float(f),
            ("float", Plain::U64(n)) => Unexpected::Float(n as f64),
            ("bool", Plain::Bool(b)) => Unexpected::Bool(b),
            ("null", Plain::Null) if !v.is_empty() => Unexpected::Unit,
            _ => Unexpected::Str(v),
        },
        Event::Scalar(v, ..) => Unexpected::Str(v),
        Event::SequenceStart(..) => Unexpected::Seq,
        Event::MappingStart(..) => Unexpected::Map,
        _ => Unexpected::Other("end of input"),
    }
}

fn invalid_type(event: &Event<'_>, exp: &dyn de::Expected) -> Error {
    if let Event::Scalar(v, ScalarStyle::Plain, _, None) = event {
        let wide = match resolve_plain(v) {
            Plain::U128(n) => Some(format!("integer `{n}` as u128")),
            Plain::I128(n) => Some(format!("integer `{n}` as i128")),
            _ => None,
        };
        if let Some(wide) = wide {
            return de::Error::invalid_type(Unexpected::Other(&wide), exp);
        }
    }
    de::Error::invalid_type(unexpected(event), exp)
}

macro_rules! forward {
    ($($method:ident => $target:ident),*) => {$(
        fn $method<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
            self.$target(visitor)
        }
    )*};
}

macro_rules! integer {
    ($($method:ident, $t:ty, $parse:path, $visit:ident);*) => {$(
        fn $method<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
            let at = self.peek()?.at;
            if let Event::Alias(id) = self.peek()?.event {
                self.pos += 1;
                return self.jump(id, at)?.$method(visitor).map_err(|e| self.fix(e, at));
            }
            let result = match self.typed_scalar("int")? {
                Some(v) => match $parse(v, <$t>::from_str_radix) {
                    Some(n) => visitor.$visit(n),
                    None => Err(invalid_type(&self.peek()?.event, &visitor)),
                },
                None => Err(invalid_type(&self.peek()?.event, &visitor)),
            };
            self.skip_node()?;
            result.map_err(|e| self.fix(e, at))
        }
    )*};
}

impl<'d, 'a> de::Deserializer<'a> for &mut Reader<'d, 'a> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        let node = self.next()?;
        let at = node.at;
        let result = match &node.event {
            Event::Alias(id) => return self.jump(*id, at)?.deserialize_any(visitor).map_err(|e| self.fix(e, at)),
            Event::Scalar(_, _, _, Some(tag))
            | Event::SequenceStart(_, Some(tag))
            | Event::MappingStart(_, Some(tag))
                if tag.handle == "!" =>
            {
                self.skip_rest(&node.event)?;
                Err(de::Error::invalid_type(Unexpected::Enum, &visitor))
            }
            Event::Scalar(v, style, _, tag) => visit_scalar(visitor, v, *style, tag.as_deref()),
            Event::SequenceStart(..) => self.visit_seq(visitor, at),
            Event::MappingStart(..) => self.visit_map(visitor, at),
            _ => Err(error("EOF while parsing a value", at)),
        };
        result.map_err(|e| self.fix(e, at))
    }

    fn deserialize_bool<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        let at = self.peek()?.at;
        if let Event::Alias(id) = self.peek()?.event {
            self.pos += 1;
            return self.jump(id, at)?.deserialize_bool(visitor).map_err(|e| self.fix(e, at));
        }
        let result = match self.typed_scalar("bool")?.and_then(parse_bool) {
            Some(b) => visitor.visit_bool(b),
            None => Err(invalid_type(&self.peek()?.event, &visitor)),
        };
        self.skip_node()?;
        result.map_err(|e| self.fix(e, at))
    }

    integer! {
        deserialize_i64, i64, super::parse_signed, visit_i64;
        deserialize_i128, i128, super::parse_signed, visit_i128;
        deserialize_u64, u64, super::parse_unsigned, visit_u64;
        deserialize_u128, u128, super::parse_unsigned, visit_u128
    }

    forward! {
        deserialize_i8 => deserialize_i64, deserialize_i16 => deserialize_i64, deserialize_i32 => deserialize_i64,
        deserialize_u8 => deserialize_u64, deserialize_u16 => deserialize_u64, deserialize_u32 => deserialize_u64,
        deserialize_f32 => deserialize_f64, deserialize_char => deserialize_str, deserialize_string => deserialize_str,
        deserialize_identifier => deserialize_str
    }

    fn deserialize_f64<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        let at = self.peek()?.at;
        if let Event::Alias(id) = self.peek()?.event {
            self.pos += 1;
            return self.jump(id, at)?.deserialize_f64(visitor).map_err(|e| self.fix(e, at));
        }
        let result = match self.typed_scalar("float")?.and_then(parse_f64) {
            Some(f) => visitor.visit_f64(f),
            None => Err(invalid_type(&self.peek()?.event, &visitor)),
        };
        self.skip_node()?;
        result.map_err(|e| self.fix(e, at))
    }

    fn deserialize_str<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        let node = self.next()?;
        let at = node.at;
        let result = match &node.event {
            Event::Alias(id) => return self.jump(*id, at)?.deserialize_str(visitor).map_err(|e| self.fix(e, at)),
            Event::Scalar(v, ..) => visitor.visit_str(v),
            other => {
                let e = invalid_type(other, &visitor);
                self.skip_rest(other)?;
                Err(e)
            }
        };
        result.map_err(|e| self.fix(e, at))
    }

    fn deserialize_bytes<V: Visitor<'a>>(self, _visitor: V) -> Result<V::Value, Error> {
        let at = self.peek()?.at;
        Err(self.fix(de::Error::custom("serialization and deserialization of bytes in YAML is not implemented"), at))
    }

    fn deserialize_byte_buf<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        let node = self.peek()?;
        let at = node.at;
        let is_some = match &node.event {
            Event::Alias(id) => {
                self.pos += 1;
                return self.jump(*id, at)?.deserialize_option(visitor).map_err(|e| self.fix(e, at));
            }
            Event::Scalar(v, ScalarStyle::Plain, _, Some(tag)) if is_core(tag, "null") => {
                if !is_null(v) {
                    return Err(self.fix(de::Error::invalid_value(Unexpected::Str(v), &"null"), at));
                }
                false
            }
            Event::Scalar(_, ScalarStyle::Plain, _, Some(_)) => true,
            Event::Scalar(v, ScalarStyle::Plain, _, None) => !v.is_empty() && !is_null(v),
            _ => true,
        };
        if is_some {
            visitor.visit_some(self)
        } else {
            self.pos += 1;
            visitor.visit_none().map_err(|e| self.fix(e, at))
        }
    }

    fn deserialize_unit<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        let node = self.next()?;
        let at = node.at;
        let result = match &node.event {
            Event::Alias(id) => return self.jump(*id, at)?.deserialize_unit(visitor).map_err(|e| self.fix(e, at)),
            Event::Scalar(v, style, _, tag) => {
                let null = *style == ScalarStyle::Plain
                    && match tag.as_deref() {
                        Some(tag) => is_core(tag, "null") && is_null(v),
                        None => v.is_empty() || is_null(v),
                    };
                if null { visitor.visit_unit() } else { Err(de::Error::invalid_value(Unexpected::Str(v), &"null")) }
            }
            other => {
                let e = invalid_type(other, &visitor);
                self.skip_rest(other)?;
                Err(e)
            }
        };
        result.map_err(|e| self.fix(e, at))
    }

    fn deserialize_unit_struct<V: Visitor<'a>>(self, _name: &'static str, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'a>>(self, _name: &'static str, visitor: V) -> Result<V::Value, Error> {
        let at = self.peek()?.at;
        self.nested(at, |de| visitor.visit_newtype_struct(de))
    }

    fn deserialize_seq<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        let node = self.next()?;
        let at = node.at;
        let result = match &node.event {
            Event::Alias(id) => return self.jump(*id, at)?.deserialize_seq(visitor).map_err(|e| self.fix(e, at)),
            Event::SequenceStart(..) => self.visit_seq(visitor, at),
            // The same access type as a list's, so that the visitor's code is not compiled twice.
            Event::Scalar(v, ScalarStyle::Plain, ..) if v.is_empty() => {
                visitor.visit_seq(&mut SeqAccess { de: self, index: 0, empty: true })
            }
            other => {
                let e = invalid_type(other, &visitor);
                self.skip_rest(other)?;
                Err(e)
            }
        };
        result.map_err(|e| self.fix(e, at))
    }

    fn deserialize_tuple<V: Visitor<'a>>(self, _len: usize, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        let node = self.next()?;
        let at = node.at;
        let result = match &node.event {
            Event::Alias(id) => return self.jump(*id, at)?.deserialize_map(visitor).map_err(|e| self.fix(e, at)),
            Event::MappingStart(..) => self.visit_map(visitor, at),
            // The same access type as a mapping's, so that the visitor's code (a struct's whole field loop) is not
            // compiled twice: that kept 5 KB (gzipped) off the playground's first load.
            Event::Scalar(v, ScalarStyle::Plain, ..) if v.is_empty() => {
                visitor.visit_map(&mut MapAccess { de: self, key: None, empty: true })
            }
            other => {
                let e = invalid_type(other, &visitor);
                self.skip_rest(other)?;
                Err(e)
            }
        };
        result.map_err(|e| self.fix(e, at))
    }

    fn deserialize_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'a>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        // A plain string names a unit variant (the only kind of enum the spec could hold).
        let node = self.next()?;
        let at = node.at;
        let result = match &node.event {
            Event::Alias(id) => {
                return self.jump(*id, at)?.deserialize_enum(_name, _variants, visitor).map_err(|e| self.fix(e, at));
            }
            Event::Scalar(v, ..) if !v.is_empty() => {
                visitor.visit_enum(IntoDeserializer::<Error>::into_deserializer(v.to_string()))
            }
            other => {
                let e = invalid_type(other, &visitor);
                self.skip_rest(other)?;
                Err(e)
            }
        };
        result.map_err(|e| self.fix(e, at))
    }

    fn deserialize_ignored_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        self.skip_node()?;
        visitor.visit_unit()
    }
}

impl<'d, 'a> Reader<'d, 'a> {
    /// Skips the next node whole.
    fn skip_node(&mut self) -> Result<(), Error> {
        let node = self.next()?;
        self.skip_rest(&node.event)
    }
}

/// A scalar for `deserialize_any`: untagged plain scalars by their resolved type, core tags by theirs, and
/// anything else as a string.
fn visit_scalar<'a, V: Visitor<'a>>(
    visitor: V,
    v: &str,
    style: ScalarStyle,
    tag: Option<&Tag>,
) -> Result<V::Value, Error> {
    match tag {
        Some(tag) if tag.is_yaml_core_schema() => match tag.suffix.as_str() {
            "bool" => match parse_bool(v) {
                Some(b) => visitor.visit_bool(b),
                None => Err(de::Error::invalid_value(Unexpected::Str(v), &"a boolean")),
            },
            "int" => match resolve_plain(v) {
                Plain::U64(n) => visitor.visit_u64(n),
                Plain::I64(n) => visitor.visit_i64(n),
                Plain::U128(n) => visitor.visit_u128(n),
                Plain::I128(n) => visitor.visit_i128(n),
                _ => Err(de::Error::invalid_value(Unexpected::Str(v), &"an integer")),
            },
            "float" => match parse_f64(v) {
                Some(f) => visitor.visit_f64(f),
                None => Err(de::Error::invalid_value(Unexpected::Str(v), &"a float")),
            },
            "null" => match is_null(v) {
                true => visitor.visit_unit(),
                false => Err(de::Error::invalid_value(Unexpected::Str(v), &"null")),
            },
            _ => visitor.visit_str(v),
        },
        _ if style == ScalarStyle::Plain => match resolve_plain(v) {
            Plain::Null => visitor.visit_unit(),
            Plain::Bool(b) => visitor.visit_bool(b),
            Plain::U64(n) => visitor.visit_u64(n),
            Plain::I64(n) => visitor.visit_i64(n),
            Plain::U128(n) => visitor.visit_u128(n),
            Plain::I128(n) => visitor.visit_i128(n),
            Plain::F64(f) => visitor.visit_f64(f),
            Plain::Str => visitor.visit_str(v),
        },
        _ => visitor.visit_str(v),
    }
}

struct SeqAccess<'r, 'd, 'a> {
    de: &'r mut Reader<'d, 'a>,
    index: usize,
    /// An empty value read as an empty list: no element, and nothing of the document consumed.
    empty: bool,
}

impl SeqAccess<'_, '_, '_> {
    /// Skips the elements the visitor left; how many.
    fn drain(&mut self) -> Result<usize, Error> {
        let mut n = 0;
        while !matches!(self.de.peek()?.event, Event::SequenceEnd) {
            self.de.skip_node()?;
            n += 1;
        }
        Ok(n)
    }
}

impl<'a> de::SeqAccess<'a> for SeqAccess<'_, '_, 'a> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'a>>(&mut self, seed: T) -> Result<Option<T::Value>, Error> {
        if self.empty || matches!(self.de.peek()?.event, Event::SequenceEnd) {
            return Ok(None);
        }
        self.de.path.push(Segment::Index(self.index));
        self.index += 1;
        let value = seed.deserialize(&mut *self.de).map_err(|e| self.de.fix_path(e));
        self.de.path.pop();
        value.map(Some)
    }
}

struct MapAccess<'r, 'd, 'a> {
    de: &'r mut Reader<'d, 'a>,
    key: Option<Segment>,
    /// An empty value read as an empty map: no entry, and nothing of the document consumed.
    empty: bool,
}

impl MapAccess<'_, '_, '_> {
    fn drain(&mut self) -> Result<usize, Error> {
        let mut n = 0;
        while !matches!(self.de.peek()?.event, Event::MappingEnd) {
            self.de.skip_node()?;
            self.de.skip_node()?;
            n += 1;
        }
        Ok(n)
    }
}

impl<'a> de::MapAccess<'a> for MapAccess<'_, '_, 'a> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'a>>(&mut self, seed: K) -> Result<Option<K::Value>, Error> {
        if self.empty {
            return Ok(None);
        }
        let node = self.de.peek()?;
        let segment = match &node.event {
            Event::MappingEnd => return Ok(None),
            Event::Scalar(v, ..) => Segment::Key(v.to_string()),
            Event::Alias(id) => match self.de.doc.anchors.get(id).map(|&i| &self.de.doc.nodes[i].event) {
                Some(Event::Scalar(v, ..)) => Segment::Key(v.to_string()),
                _ => Segment::Unknown,
            },
            _ => Segment::Unknown,
        };
        let at = node.at;
        self.de.path.push(segment);
        let key = seed.deserialize(&mut *self.de).map_err(|e| self.de.fix(e, at));
        self.key = self.de.path.pop();
        key.map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'a>>(&mut self, seed: V) -> Result<V::Value, Error> {
        if self.empty {
            return Err(de::Error::custom("no value"));
        }
        self.de.path.push(self.key.take().unwrap_or(Segment::Unknown));
        // An error from the value's own checks (a bad duration) names the key, but serde_yaml places it at the
        // enclosing map, where it reaches the map's deserializer.
        let value = seed.deserialize(&mut *self.de).map_err(|e| self.de.fix_path(e));
        self.de.path.pop();
        value
    }
}

/// An empty value (an empty plain scalar where a map or list is wanted, or an empty document).
struct Empty;

impl<'a> de::SeqAccess<'a> for Empty {
    type Error = Error;
    fn next_element_seed<T: DeserializeSeed<'a>>(&mut self, _seed: T) -> Result<Option<T::Value>, Error> {
        Ok(None)
    }
}

impl<'a> de::MapAccess<'a> for Empty {
    type Error = Error;
    fn next_key_seed<K: DeserializeSeed<'a>>(&mut self, _seed: K) -> Result<Option<K::Value>, Error> {
        Ok(None)
    }
    fn next_value_seed<V: DeserializeSeed<'a>>(&mut self, _seed: V) -> Result<V::Value, Error> {
        Err(de::Error::custom("no value"))
    }
}

impl<'de> de::Deserializer<'de> for Empty {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_none()
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_none()
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_seq(Empty)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_map(Empty)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_map(Empty)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf unit_struct
        newtype_struct tuple tuple_struct enum identifier ignored_any
    }
}
