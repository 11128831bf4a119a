//! A fast reader for the YAML that configuration files and specs are made of: block mappings and sequences,
//! one-line flow collections, one-line plain and quoted scalars, comments. It gives the events saphyr-parser
//! gives, at the same positions, about ten times faster, to an [`Events`] sink: the dynamic configuration's
//! tree builder ([`switchyard_traefik::dynamic::source`]) and the spec's deserialiser ([`super::de`]). Anything else (anchors,
//! aliases, tags, block scalars, multi-line scalars or flow collections, tabs, several documents, complex keys,
//! unusual characters, and anything that is not valid YAML) stops it with [`Stop::Unsupported`], and the text is
//! read again by saphyr-parser from the start. So what it accepts it must read exactly as saphyr-parser does:
//! the tests and the fuzz targets compare the two readers on every input, through both sinks.

use std::borrow::Cow;

/// Where the events go. Positions are 1-based line and column (in characters), as saphyr-parser's start marks;
/// the end of a collection has none.
pub trait Events<'s> {
    /// Why the sink refuses the events (a duplicate key, too deep).
    type Error;
    /// A scalar: plain, or quoted (single or double, already unescaped).
    fn scalar(&mut self, value: Cow<'s, str>, quoted: bool, line: u32, column: u32);
    /// The start of a sequence (`seq`) or a mapping.
    fn open(&mut self, seq: bool, line: u32, column: u32) -> Result<(), Self::Error>;
    /// The end of the innermost open collection.
    fn close(&mut self) -> Result<(), Self::Error>;
}

/// Why the fast reader stopped.
#[derive(Debug)]
pub enum Stop<E> {
    /// Not in the subset: read the text with saphyr-parser.
    Unsupported,
    /// The sink refused the events: the same as it would with saphyr-parser's.
    Error(E),
}

type R<T, E> = Result<T, Stop<E>>;

/// The longest key (in bytes, quotes included) read here. YAML limits a key without `?` to 1024 characters,
/// which saphyr-parser enforces ("mapping values are not allowed in this context"): longer ones are left to it.
const MAX_KEY: usize = 1000;

fn unsupported<T, E>() -> R<T, E> {
    Err(Stop::Unsupported)
}

/// An open block collection.
struct Block {
    /// Column (0-based) of its keys or dashes.
    indent: usize,
    seq: bool,
    /// A sequence whose dashes are at the indentation of its parent mapping's keys.
    indentless: bool,
    /// A key (or a dash) was read and its value has not come yet: where its null value would be.
    pending: Option<(u32, u32)>,
}

struct Reader<'b, E> {
    b: &'b mut E,
    stack: Vec<Block>,
    started: bool,
    document_marker: bool,
    line: u32,
}

/// Reads `source` into `b`, or stops.
pub fn read<'s, E: Events<'s>>(source: &'s str, b: &mut E) -> R<(), E::Error> {
    prescan(source)?;
    let mut r = Reader { b, stack: Vec::new(), started: false, document_marker: false, line: 0 };
    // Lines as `split('\n')` gives them (a last, empty one after a final line break), found with a plain byte
    // loop: much cheaper than the general searcher on lines this short.
    let bytes = source.as_bytes();
    let mut start = 0;
    let mut number = 0usize;
    loop {
        let end = bytes[start..].iter().position(|&b| b == b'\n').map_or(bytes.len(), |i| start + i);
        number += 1;
        r.line = u32::try_from(number).unwrap_or(u32::MAX);
        let line = &source[start..end];
        r.read_line(line.strip_suffix('\r').unwrap_or(line))?;
        if end == bytes.len() {
            break;
        }
        start = end + 1;
    }
    if r.document_marker && !r.started {
        // A lone `---`: saphyr-parser gives a null document at its own position.
        return unsupported();
    }
    while !r.stack.is_empty() {
        r.finish_top()?;
    }
    Ok(())
}

/// Characters the fast reader leaves to saphyr-parser: tabs, control characters, a lone carriage return, C1
/// controls, Unicode line and paragraph separators, byte order marks and non-characters.
fn prescan<E>(source: &str) -> R<(), E> {
    let bytes = source.as_bytes();
    // Nearly every file is printable ASCII and line breaks: check that 32 bytes at a time, without branches, and
    // look closer only from the first block that is not.
    let mut from = 0;
    for chunk in bytes.chunks_exact(32) {
        let unusual = chunk.iter().fold(0u8, |acc, &b| acc | u8::from(!((0x20..0x7f).contains(&b) || b == b'\n')));
        if unusual != 0 {
            break;
        }
        from += 32;
    }
    for (i, &b) in bytes.iter().enumerate().skip(from) {
        if (0x20..0x7f).contains(&b) {
            continue;
        }
        let bad = match b {
            b'\n' => false,
            b'\r' => bytes.get(i + 1) != Some(&b'\n'),
            0..=0x1f | 0x7f => true,
            0xc2 => matches!(bytes.get(i + 1), Some(0x80..=0x9f)),
            0xe2 => bytes.get(i + 1) == Some(&0x80) && matches!(bytes.get(i + 2), Some(0xa8 | 0xa9)),
            0xef => matches!(
                (bytes.get(i + 1), bytes.get(i + 2)),
                (Some(0xbb), Some(0xbf)) | (Some(0xbf), Some(0xbe | 0xbf))
            ),
            _ => false,
        };
        if bad {
            return unsupported();
        }
    }
    Ok(())
}

/// The 1-based column (in characters) of byte `at` of `line`.
fn col(line: &str, at: usize) -> u32 {
    let head = &line[..at.min(line.len())];
    let n = if head.is_ascii() { head.len() } else { head.chars().count() };
    u32::try_from(n + 1).unwrap_or(u32::MAX)
}

fn skip_spaces(line: &str, mut i: usize) -> usize {
    while line.as_bytes().get(i) == Some(&b' ') {
        i += 1;
    }
    i
}

/// Characters that cannot start a plain scalar here (or whose meaning the fast reader does not handle).
fn indicator(b: u8) -> bool {
    matches!(
        b,
        b'-' | b'?'
            | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
    )
}

impl<'s, E: Events<'s>> Reader<'_, E> {
    fn scalar(&mut self, value: Cow<'s, str>, quoted: bool, column: u32) {
        let line = self.line;
        self.b.scalar(value, quoted, line, column);
    }

    fn null(&mut self, (line, column): (u32, u32)) {
        self.b.scalar(Cow::Borrowed(""), false, line, column);
    }

    fn open(&mut self, seq: bool, column: u32) -> R<(), E::Error> {
        self.b.open(seq, self.line, column).map_err(Stop::Error)
    }

    fn close(&mut self) -> R<(), E::Error> {
        self.b.close().map_err(Stop::Error)
    }

    fn finish_top(&mut self) -> R<(), E::Error> {
        if let Some(block) = self.stack.pop() {
            if let Some(at) = block.pending {
                self.null(at);
            }
            self.close()?;
        }
        Ok(())
    }

    fn read_line(&mut self, line: &'s str) -> R<(), E::Error> {
        let ind = skip_spaces(line, 0);
        let rest = &line[ind..];
        if rest.is_empty() || rest.starts_with('#') {
            return Ok(());
        }
        if ind == 0 && (rest.starts_with("---") || rest.starts_with("...") || rest.starts_with('%')) {
            // `---` alone (or with a comment) before any content is the start of the first document.
            let marker_only = rest.strip_prefix("---").is_some_and(|after| {
                let trimmed = after.trim_start_matches(' ');
                trimmed.is_empty() || (trimmed.starts_with('#') && trimmed.len() < after.len())
            });
            if marker_only && !self.started && !self.document_marker {
                self.document_marker = true;
                return Ok(());
            }
            return unsupported();
        }
        let item = rest == "-" || rest.starts_with("- ");
        while let Some(top) = self.stack.last() {
            if top.indent > ind || (top.indent == ind && top.indentless && !item) {
                self.finish_top()?;
            } else {
                break;
            }
        }
        if item { self.item(line, ind) } else { self.entry_line(line, ind) }
    }

    /// A line `- ...` with its dash at `ind`.
    fn item(&mut self, line: &'s str, ind: usize) -> R<(), E::Error> {
        let content = skip_spaces(line, ind + 1);
        let empty = content >= line.len();
        // saphyr-parser puts the null of `- ` after the spaces, that of `-` right after the dash: keep it simple.
        if (!empty && line.as_bytes()[content] == b'#') || (empty && line.len() > ind + 1) {
            return unsupported();
        }
        let started = self.started;
        match self.stack.last_mut() {
            None if !started => {
                self.stack.push(Block { indent: ind, seq: true, indentless: false, pending: None });
                self.open(true, col(line, ind))?;
            }
            Some(top) if top.seq && top.indent == ind => {
                if let Some(at) = top.pending.take() {
                    self.null(at);
                }
            }
            Some(top) if !top.seq && top.pending.is_some() && top.indent == ind => {
                // saphyr-parser puts an indentless sequence where its first item's content starts.
                if empty {
                    return unsupported();
                }
                top.pending = None;
                self.stack.push(Block { indent: ind, seq: true, indentless: true, pending: None });
                self.open(true, col(line, content))?;
            }
            Some(top) if top.pending.is_some() && top.indent < ind => {
                top.pending = None;
                self.stack.push(Block { indent: ind, seq: true, indentless: false, pending: None });
                self.open(true, col(line, ind))?;
            }
            _ => return unsupported(),
        }
        self.started = true;
        if empty {
            if let Some(top) = self.stack.last_mut() {
                top.pending = Some((self.line, col(line, ind + 1)));
            }
            return Ok(());
        }
        let rest = &line[content..];
        if rest == "-" || rest.starts_with("- ") {
            return unsupported();
        }
        if self.key_end(line, content)?.is_some() {
            self.stack.push(Block { indent: content, seq: false, indentless: false, pending: None });
            self.open(false, col(line, content))?;
            return self.entry(line, content);
        }
        self.value(line, content)
    }

    /// A line that must be a mapping entry, its key at `ind`.
    fn entry_line(&mut self, line: &'s str, ind: usize) -> R<(), E::Error> {
        let started = self.started;
        match self.stack.last_mut() {
            Some(top) if !top.seq && top.indent == ind => {
                if let Some(at) = top.pending.take() {
                    self.null(at);
                }
            }
            Some(top) if top.pending.is_some() && top.indent < ind => {
                top.pending = None;
                self.push_map(line, ind)?;
            }
            None if !started => self.push_map(line, ind)?,
            _ => return unsupported(),
        }
        self.started = true;
        self.entry(line, ind)
    }

    fn push_map(&mut self, line: &str, ind: usize) -> R<(), E::Error> {
        if self.key_end(line, ind)?.is_none() {
            return unsupported();
        }
        self.stack.push(Block { indent: ind, seq: false, indentless: false, pending: None });
        self.open(false, col(line, ind))
    }

    /// Where the `:` after a block key starting at `at` is, if the line is `key: ...` or `key:`.
    fn key_end(&self, line: &str, at: usize) -> R<Option<usize>, E::Error> {
        let bytes = line.as_bytes();
        match bytes.get(at) {
            Some(b'\'' | b'"') => {
                let (_, end) = quoted(line, at)?;
                Ok((bytes.get(end) == Some(&b':') && matches!(bytes.get(end + 1), None | Some(b' '))).then_some(end))
            }
            Some(b) if indicator(*b) => unsupported(),
            Some(_) => {
                let mut i = at;
                while i < bytes.len() {
                    match bytes[i] {
                        b':' if matches!(bytes.get(i + 1), None | Some(b' ')) => {
                            return if bytes[i - 1] == b' ' { unsupported() } else { Ok(Some(i)) };
                        }
                        b'#' if bytes[i - 1] == b' ' => return Ok(None),
                        _ => i += 1,
                    }
                }
                Ok(None)
            }
            None => Ok(None),
        }
    }

    /// `key: value`, `key:` with the key at `at`, in the mapping on top of the stack.
    fn entry(&mut self, line: &'s str, at: usize) -> R<(), E::Error> {
        let Some(colon) = self.key_end(line, at)? else { return unsupported() };
        if colon - at > MAX_KEY {
            return unsupported();
        }
        if matches!(line.as_bytes()[at], b'\'' | b'"') {
            let (key, _) = quoted(line, at)?;
            self.scalar(key, true, col(line, at));
        } else {
            self.scalar(Cow::Borrowed(&line[at..colon]), false, col(line, at));
        }
        let value = skip_spaces(line, colon + 1);
        if value >= line.len() {
            let at = (self.line, col(line, colon));
            if let Some(top) = self.stack.last_mut() {
                top.pending = Some(at);
            }
            return Ok(());
        }
        if line.as_bytes()[value] == b'#' {
            return unsupported();
        }
        self.value(line, value)
    }

    /// A value written on the line of its key or dash, starting at `at`, up to the end of the line.
    fn value(&mut self, line: &'s str, at: usize) -> R<(), E::Error> {
        let bytes = line.as_bytes();
        let end = match bytes[at] {
            b'[' | b'{' => self.flow(line, at)?,
            b'\'' | b'"' => {
                let (value, end) = quoted(line, at)?;
                self.scalar(value, true, col(line, at));
                end
            }
            b'-' if matches!(bytes.get(at + 1), None | Some(b' ')) => return unsupported(),
            b if b != b'-' && indicator(b) => return unsupported(),
            _ => {
                let mut end = bytes.len();
                for i in at + 1..bytes.len() {
                    if bytes[i] == b'#' && bytes[i - 1] == b' ' {
                        end = i;
                        break;
                    }
                }
                let text = line[at..end].trim_end_matches(' ');
                if text.contains(": ") || text.ends_with(':') {
                    return unsupported();
                }
                self.scalar(Cow::Borrowed(text), false, col(line, at));
                return Ok(());
            }
        };
        line_end(line, end)
    }

    /// A flow collection starting at `at` (`[` or `{`), on this line; returns where it ends.
    fn flow(&mut self, line: &'s str, at: usize) -> R<usize, E::Error> {
        let bytes = line.as_bytes();
        let seq = bytes[at] == b'[';
        let close = if seq { b']' } else { b'}' };
        self.open(seq, col(line, at))?;
        let mut i = skip_spaces(line, at + 1);
        if bytes.get(i) == Some(&close) {
            self.close()?;
            return Ok(i + 1);
        }
        loop {
            if i >= bytes.len() {
                return unsupported();
            }
            if seq {
                i = self.flow_node(line, i, true)?;
            } else {
                // `key: value`
                let key = i;
                i = self.flow_node(line, i, false)?;
                if i - key > MAX_KEY {
                    return unsupported();
                }
                if bytes.get(i) != Some(&b':') || bytes.get(i + 1) != Some(&b' ') {
                    return unsupported();
                }
                i = skip_spaces(line, i + 1);
                if matches!(bytes.get(i), None | Some(b',' | b'}' | b']')) {
                    return unsupported();
                }
                i = self.flow_node(line, i, true)?;
            }
            i = skip_spaces(line, i);
            match bytes.get(i) {
                Some(b',') => {
                    i = skip_spaces(line, i + 1);
                    if matches!(bytes.get(i), None | Some(b']' | b'}' | b',')) {
                        return unsupported();
                    }
                }
                Some(c) if *c == close => {
                    self.close()?;
                    return Ok(i + 1);
                }
                _ => return unsupported(),
            }
        }
    }

    /// A node inside a flow collection at `at`; `value` is false for a flow mapping's key. Returns where it ends.
    fn flow_node(&mut self, line: &'s str, at: usize, value: bool) -> R<usize, E::Error> {
        let bytes = line.as_bytes();
        match bytes[at] {
            b'[' | b'{' if value => self.flow(line, at),
            b'\'' | b'"' => {
                let (text, end) = quoted(line, at)?;
                self.scalar(text, true, col(line, at));
                Ok(end)
            }
            b'-' if !matches!(bytes.get(at + 1), None | Some(b' ' | b',' | b'[' | b']' | b'{' | b'}')) => {
                self.flow_plain(line, at, value)
            }
            b if indicator(b) => unsupported(),
            _ => self.flow_plain(line, at, value),
        }
    }

    fn flow_plain(&mut self, line: &'s str, at: usize, value: bool) -> R<usize, E::Error> {
        let bytes = line.as_bytes();
        let mut i = at;
        while i < bytes.len() {
            match bytes[i] {
                b',' | b'[' | b']' | b'{' | b'}' => break,
                b':' if matches!(bytes.get(i + 1), None | Some(b' ' | b',' | b'[' | b']' | b'{' | b'}')) => {
                    if value {
                        // `[a: b]` (a pair in a sequence) or `{a: b: c}`.
                        return unsupported();
                    }
                    break;
                }
                b'#' if bytes[i - 1] == b' ' => return unsupported(),
                _ => i += 1,
            }
        }
        let text = line[at..i].trim_end_matches(' ');
        if text.is_empty() || (!value && text.len() != i - at) {
            return unsupported();
        }
        self.scalar(Cow::Borrowed(text), false, col(line, at));
        Ok(at + text.len())
    }
}

/// After a value: nothing but spaces and a comment.
fn line_end<E>(line: &str, at: usize) -> R<(), E> {
    let rest = &line[at..];
    let trimmed = rest.trim_start_matches(' ');
    if trimmed.is_empty() || (trimmed.starts_with('#') && trimmed.len() < rest.len()) { Ok(()) } else { unsupported() }
}

/// A quoted scalar starting at `at` and closed on the same line; returns its value and where it ends.
fn quoted<E>(line: &str, at: usize) -> R<(Cow<'_, str>, usize), E> {
    let bytes = line.as_bytes();
    let quote = bytes[at];
    let start = at + 1;
    if quote == b'\'' {
        let mut owned: Option<String> = None;
        let mut i = start;
        let mut chunk = start;
        loop {
            let Some(off) = line[i..].find('\'') else { return unsupported() };
            let q = i + off;
            if bytes.get(q + 1) == Some(&b'\'') {
                owned.get_or_insert_with(String::new).push_str(&line[chunk..=q]);
                i = q + 2;
                chunk = i;
                continue;
            }
            return Ok(match owned {
                Some(mut s) => {
                    s.push_str(&line[chunk..q]);
                    (Cow::Owned(s), q + 1)
                }
                None => (Cow::Borrowed(&line[start..q]), q + 1),
            });
        }
    }
    let mut owned: Option<String> = None;
    let mut chunk = start;
    let mut i = start;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                return Ok(match owned {
                    Some(mut s) => {
                        s.push_str(&line[chunk..i]);
                        (Cow::Owned(s), i + 1)
                    }
                    None => (Cow::Borrowed(&line[start..i]), i + 1),
                });
            }
            b'\\' => {
                let s = owned.get_or_insert_with(String::new);
                s.push_str(&line[chunk..i]);
                let (c, len) = match bytes.get(i + 1) {
                    Some(b'\\') => ('\\', 2),
                    Some(b'"') => ('"', 2),
                    Some(b'/') => ('/', 2),
                    Some(b'n') => ('\n', 2),
                    Some(b't') => ('\t', 2),
                    Some(b'r') => ('\r', 2),
                    Some(b'0') => ('\0', 2),
                    Some(b' ') => (' ', 2),
                    Some(b'x') => (hex(line, i + 2, 2)?, 4),
                    Some(b'u') => (hex(line, i + 2, 4)?, 6),
                    Some(b'U') => (hex(line, i + 2, 8)?, 10),
                    _ => return unsupported(),
                };
                s.push(c);
                i += len;
                chunk = i;
            }
            _ => i += 1,
        }
    }
    unsupported()
}

fn hex<E>(line: &str, at: usize, len: usize) -> R<char, E> {
    let digits = line.get(at..at + len).ok_or(Stop::Unsupported)?;
    if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return unsupported();
    }
    let code = u32::from_str_radix(digits, 16).map_err(|_| Stop::Unsupported)?;
    char::from_u32(code).ok_or(Stop::Unsupported)
}
