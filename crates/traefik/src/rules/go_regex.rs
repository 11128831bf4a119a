//! Go regular expressions (RE2 syntax, `regexp.Compile` with Perl flags) as Traefik compiles them, checked and
//! translated for the Rust regex crates.
//!
//! Go and Rust read some patterns differently, so a pattern is never handed to a Rust crate as written. The
//! translator walks it with Go's grammar (`regexp/syntax/parse.go`) and writes an equivalent Rust pattern:
//! - `{` that does not start a valid repetition (`{n}`, `{n,}`, `{n,m}`, no leading zeros) is a literal in Go
//!   (so a v2 placeholder such as `{domain:[a-z]+}` compiles); Rust would refuse it. Counts above 1000 are
//!   errors in Go, and so are counted repetitions nested in one another whose counts multiply past 1000
//!   (`(?:a{100}){100}`, Go's `repeatIsValid`).
//! - Inside `[...]` Go has no nested classes and no `&&`, `--`, `~~` set operations: `[` `&` `-` `~` are plain
//!   characters there, so every class member is written out escaped.
//! - `\d`, `\s`, `\w`, `\b` are ASCII-only in Go; they become explicit ASCII classes (and `(?-u:\b)`).
//! - `\Q...\E` quoting, octal escapes (`\012`), `\x{...}`, escaped ASCII punctuation (`\_`, `\<` are literals in
//!   Go but `\<` is a word boundary in Rust), `(?P<name>` and `(?<name>` with Go's name rules, and Go's flag
//!   groups (`i m s U`, `(?)` allowed, repeated flags allowed) are all rewritten.
//! - Stacked repetitions (`a**`, `a+*`) are errors in Go; Rust accepts them, so they are refused here.
//!
//! The translated pattern is then parsed by `regex-syntax` (Unicode on, so `\p{..}` names and `(?i)` are
//! checked) for the error a user sees, and compiled with `regex-lite` for matching. `regex-lite` has no `\p{..}`
//! classes: such a pattern validates but the simulator cannot evaluate it (the caller gets `None`).
//!
//! Not checked (Go may refuse what passes here): Go's limit on the total size of a pattern after repetitions
//! are expanded ("expression too large"). `\p{..}` names are looked up by `regex-syntax` (general categories and
//! scripts only, like Go), loosely as Go 1.25 does; a Traefik built with an older Go wants exact names (`L`,
//! `Greek`) and refuses long ones (`Letter`).

use std::fmt::Write as _;

/// Go's limit on counted repetitions.
const MAX_REPEAT: u32 = 1000;
/// Go's limit on nesting (`maxHeight`).
const NEST_LIMIT: u32 = 1000;
/// The simulator's compiled-size limit for one pattern; a larger pattern is not evaluated.
const LITE_SIZE_LIMIT: usize = 1 << 20;

/// POSIX classes Go knows inside brackets; Rust knows the same names.
const POSIX_CLASSES: [&str; 14] = [
    "alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph", "lower", "print", "punct", "space", "upper", "word",
    "xdigit",
];

/// Why a pattern does not compile, and where (a byte offset into the pattern).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct GoRegexError {
    pub(super) message: String,
    pub(super) offset: usize,
}

/// Checks `pattern` as Go would and compiles it for matching. `Ok(None)`: valid, but `regex-lite` cannot run it.
pub(super) fn compile(pattern: &str) -> Result<Option<regex_lite::Regex>, GoRegexError> {
    let translated = Translator::new(pattern).run()?;
    let mut parser = regex_syntax::ParserBuilder::new().nest_limit(NEST_LIMIT).build();
    if let Err(err) = parser.parse(&translated.syntax) {
        let (message, offset) = match &err {
            regex_syntax::Error::Parse(e) => (e.kind().to_string(), e.span().start.offset),
            regex_syntax::Error::Translate(e) => (e.kind().to_string(), e.span().start.offset),
            _ => (err.to_string(), 0),
        };
        let offset = translated.map.get(offset).copied().unwrap_or(pattern.len());
        return Err(GoRegexError { message, offset });
    }
    Ok(regex_lite::RegexBuilder::new(&translated.lite).size_limit(LITE_SIZE_LIMIT).build().ok())
}

struct Translated {
    /// For `regex-syntax` (Unicode mode, ASCII word boundaries spelled `(?-u:\b)`).
    syntax: String,
    /// For `regex-lite` (ASCII-only Perl classes and boundaries already).
    lite: String,
    /// For each byte of `syntax`, the offset in the Go pattern it came from.
    map: Vec<usize>,
}

/// One escape sequence, read with Go's rules.
enum Escape {
    Char(char),
    /// `\d \D \s \S \w \W`.
    Perl(char),
    /// `\pL`, `\p{Greek}`, `\P{..}`, `\p{^..}`: the Rust spelling.
    Unicode(String),
}

struct Translator<'p> {
    pat: &'p str,
    pos: usize,
    out: Translated,
    /// Offset of the repetition operator just read, for Go's "invalid nested repetition operator".
    last_repeat: Option<usize>,
    /// Go's check of nested counted repetitions (`repeatIsValid`): for each open group, the largest product of
    /// the counts of nested `{n,m}` found in it so far (1 for none).
    groups: Vec<u32>,
    /// That product for the last atom read (None: no atom to repeat).
    last_atom: Option<u32>,
}

impl<'p> Translator<'p> {
    fn new(pat: &'p str) -> Self {
        Translator {
            pat,
            pos: 0,
            out: Translated { syntax: String::new(), lite: String::new(), map: Vec::new() },
            last_repeat: None,
            groups: vec![1],
            last_atom: None,
        }
    }

    /// An atom whose nested counted repetitions multiply to `product` was read.
    fn atom(&mut self, product: u32) {
        self.last_atom = Some(product);
        if let Some(top) = self.groups.last_mut() {
            *top = (*top).max(product);
        }
    }

    fn peek(&self) -> Option<char> {
        self.pat[self.pos..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn emit2(&mut self, at: usize, syntax: &str, lite: &str) {
        self.out.syntax.push_str(syntax);
        self.out.lite.push_str(lite);
        self.out.map.extend(std::iter::repeat_n(at, syntax.len()));
    }

    fn emit(&mut self, at: usize, text: &str) {
        self.emit2(at, text, text);
    }

    fn error(&self, at: usize, message: impl Into<String>) -> GoRegexError {
        GoRegexError { message: message.into(), offset: at }
    }

    fn run(mut self) -> Result<Translated, GoRegexError> {
        while let Some(c) = self.peek() {
            let start = self.pos;
            match c {
                '*' | '+' | '?' => {
                    self.bump();
                    self.repetition(start, c.to_string())?;
                    continue;
                }
                '{' => {
                    if let Some(op) = self.counted_repetition()? {
                        self.repetition(start, op)?;
                        continue;
                    }
                }
                _ => {}
            }
            self.last_repeat = None;
            match c {
                '\\' => {
                    self.top_escape()?;
                    self.atom(1);
                }
                '[' => {
                    self.class()?;
                    self.atom(1);
                }
                '(' => {
                    if self.group()? {
                        self.groups.push(1);
                    }
                    self.last_atom = None;
                }
                ')' => {
                    self.bump();
                    self.emit(start, ")");
                    let inner = if self.groups.len() > 1 { self.groups.pop().unwrap_or(1) } else { 1 };
                    self.atom(inner);
                }
                '|' => {
                    self.bump();
                    self.emit(start, "|");
                    self.last_atom = None;
                }
                '^' | '$' | '.' => {
                    self.bump();
                    self.emit(start, &c.to_string());
                    self.atom(1);
                }
                _ => {
                    self.bump();
                    self.literal(start, c);
                    self.atom(1);
                }
            }
        }
        self.out.map.push(self.pat.len());
        Ok(self.out)
    }

    /// A repetition operator `op` read at `start`, plus Go's optional lazy `?`.
    fn repetition(&mut self, start: usize, mut op: String) -> Result<(), GoRegexError> {
        if self.peek() == Some('?') {
            self.bump();
            op.push('?');
        }
        if let Some(previous) = self.last_repeat {
            let text = &self.pat[previous..self.pos];
            return Err(self.error(previous, format!("invalid nested repetition operator: `{text}`")));
        }
        self.emit(start, &op);
        self.last_repeat = Some(start);
        Ok(())
    }

    /// At `{`: a valid Go repetition (consumed and returned in Rust syntax), or `None` (then `{` is a literal).
    fn counted_repetition(&mut self) -> Result<Option<String>, GoRegexError> {
        let start = self.pos;
        let rest = &self.pat[start + 1..];
        let Some((min, rest)) = go_int(rest) else { return Ok(None) };
        let (max, rest) = if let Some(after_comma) = rest.strip_prefix(',') {
            if after_comma.starts_with('}') {
                (None, after_comma)
            } else {
                let Some((max, rest)) = go_int(after_comma) else { return Ok(None) };
                (Some(max), rest)
            }
        } else {
            (Some(min), rest)
        };
        let Some(rest) = rest.strip_prefix('}') else { return Ok(None) };
        let end = self.pat.len() - rest.len();
        let invalid = min > MAX_REPEAT || max.is_some_and(|max| max > MAX_REPEAT || min > max);
        // Go's repeatIsValid: a counted repetition of at least 2, with the counted repetitions nested in what it
        // repeats, may not make more than 1000 copies of the innermost thing (`(?:a{100}){100}` is refused). The
        // count that matters is the maximum (the minimum when unbounded); one of 0 stops the check.
        let count = max.unwrap_or(min);
        let product = if count == 0 { 1 } else { count.saturating_mul(self.last_atom.unwrap_or(1)) };
        let checked = min >= 2 || max.is_some_and(|max| max >= 2);
        if invalid || (self.last_repeat.is_none() && checked && count != 0 && product > MAX_REPEAT) {
            return Err(self.error(start, format!("invalid repeat count: `{}`", &self.pat[start..end])));
        }
        self.atom(product);
        self.pos = end;
        Ok(Some(match max {
            None => format!("{{{min},}}"),
            Some(max) if max == min => format!("{{{min}}}"),
            Some(max) => format!("{{{min},{max}}}"),
        }))
    }

    fn literal(&mut self, at: usize, c: char) {
        let text = escape_literal(c);
        self.emit(at, &text);
    }

    /// A backslash outside brackets.
    fn top_escape(&mut self) -> Result<(), GoRegexError> {
        let start = self.pos;
        let next = self.pat[start + 1..].chars().next();
        match next {
            Some('A') => self.emit_assertion(start, r"\A", r"\A"),
            Some('z') => self.emit_assertion(start, r"\z", r"\z"),
            Some('b') => self.emit_assertion(start, r"(?-u:\b)", r"\b"),
            Some('B') => self.emit_assertion(start, r"(?-u:\B)", r"\B"),
            Some('Q') => {
                self.pos += 2;
                let rest = &self.pat[self.pos..];
                let (quoted, consumed) = match rest.find(r"\E") {
                    Some(end) => (&rest[..end], end + 2),
                    None => (rest, rest.len()),
                };
                let base = self.pos;
                for (i, c) in quoted.char_indices() {
                    self.literal(base + i, c);
                }
                self.pos += consumed;
            }
            _ => match self.escape(false)? {
                Escape::Char(c) => self.literal(start, c),
                Escape::Perl(c) => {
                    let class = match c {
                        'd' => "[0-9]",
                        'D' => "[^0-9]",
                        's' => r"[\t\n\x0C\r ]",
                        'S' => r"[^\t\n\x0C\r ]",
                        'w' => "[0-9A-Za-z_]",
                        _ => "[^0-9A-Za-z_]",
                    };
                    self.emit(start, class);
                }
                Escape::Unicode(class) => self.emit(start, &class),
            },
        }
        Ok(())
    }

    fn emit_assertion(&mut self, start: usize, syntax: &str, lite: &str) {
        self.pos += 2;
        self.emit2(start, syntax, lite);
    }

    /// Go's `parseEscape` plus the Unicode and Perl classes; `self.pos` is at the backslash.
    fn escape(&mut self, in_class: bool) -> Result<Escape, GoRegexError> {
        let start = self.pos;
        self.bump();
        let Some(c) = self.bump() else {
            return Err(self.error(start, "trailing backslash at end of expression"));
        };
        match c {
            'd' | 'D' | 's' | 'S' | 'w' | 'W' => return Ok(Escape::Perl(c)),
            'p' | 'P' => return self.unicode_class(start, c == 'P'),
            '1'..='7' if !self.peek().is_some_and(|d| ('0'..='7').contains(&d)) => {}
            '0'..='7' => {
                let mut value = c as u32 - '0' as u32;
                for _ in 1..3 {
                    match self.peek() {
                        Some(d @ '0'..='7') => {
                            self.bump();
                            value = value * 8 + (d as u32 - '0' as u32);
                        }
                        _ => break,
                    }
                }
                return Ok(Escape::Char(char::from_u32(value).unwrap_or(char::REPLACEMENT_CHARACTER)));
            }
            'x' => {
                if let Some(value) = self.hex_escape() {
                    // Go accepts surrogates here; they encode as U+FFFD.
                    return Ok(Escape::Char(char::from_u32(value).unwrap_or(char::REPLACEMENT_CHARACTER)));
                }
            }
            'a' => return Ok(Escape::Char('\x07')),
            'f' => return Ok(Escape::Char('\x0C')),
            'n' => return Ok(Escape::Char('\n')),
            'r' => return Ok(Escape::Char('\r')),
            't' => return Ok(Escape::Char('\t')),
            'v' => return Ok(Escape::Char('\x0B')),
            c if c.is_ascii() && !c.is_ascii_alphanumeric() => return Ok(Escape::Char(c)),
            _ => {}
        }
        let text = &self.pat[start..self.pos];
        let what = if in_class { "invalid escape sequence in a character class" } else { "invalid escape sequence" };
        Err(self.error(start, format!("{what}: `{text}`")))
    }

    /// After `\x`: two hex digits or `{hex}` (at least one digit, at most U+10FFFF).
    fn hex_escape(&mut self) -> Option<u32> {
        if self.peek() == Some('{') {
            self.bump();
            let mut value: u32 = 0;
            let mut digits = 0;
            loop {
                let c = self.bump()?;
                if c == '}' {
                    break;
                }
                value = value * 16 + c.to_digit(16)?;
                if value > 0x10FFFF {
                    return None;
                }
                digits += 1;
            }
            (digits > 0).then_some(value)
        } else {
            let hi = self.bump()?.to_digit(16);
            let lo = self.bump()?.to_digit(16);
            Some(hi? * 16 + lo?)
        }
    }

    /// After `\p` or `\P`: a one-letter name or `{name}`, with Go's optional `^` negation.
    fn unicode_class(&mut self, start: usize, mut negated: bool) -> Result<Escape, GoRegexError> {
        let name = if self.peek() == Some('{') {
            let rest = &self.pat[self.pos + 1..];
            let Some(end) = rest.find('}') else {
                let text = &self.pat[start..];
                return Err(self.error(start, format!("invalid character class range: `{text}`")));
            };
            let name = &rest[..end];
            self.pos += end + 2;
            name
        } else {
            let from = self.pos;
            self.bump();
            &self.pat[from..self.pos]
        };
        let name = match name.strip_prefix('^') {
            Some(name) => {
                negated = !negated;
                name
            }
            None => name,
        };
        // Go 1.25 looks names up loosely (case, spaces, `_` and `-` ignored; long category names allowed), as
        // regex-syntax does; only its `key=value` and `key:value` forms are not Go.
        if name.is_empty() || name.contains(['=', ':', '{', '}']) {
            let text = &self.pat[start..self.pos];
            return Err(self.error(start, format!("invalid character class range: `{text}`")));
        }
        // Go knows general categories, scripts and three special names, not binary properties; asking for
        // `gc=` or `sc=` keeps it so whatever regex-syntax features other crates turn on.
        let normalized: String =
            name.chars().filter(|c| !matches!(c, ' ' | '_' | '-')).map(|c| c.to_ascii_lowercase()).collect();
        let query = if ["any", "ascii", "assigned"].contains(&normalized.as_str()) {
            Some(name.to_string())
        } else {
            ["gc", "sc"]
                .into_iter()
                .map(|key| format!("{key}={name}"))
                .find(|query| regex_syntax::ParserBuilder::new().build().parse(&format!(r"\p{{{query}}}")).is_ok())
        };
        let Some(query) = query else {
            let text = &self.pat[start..self.pos];
            return Err(self.error(start, format!("invalid character class range: `{text}`")));
        };
        let p = if negated { 'P' } else { 'p' };
        Ok(Escape::Unicode(format!(r"\{p}{{{query}}}")))
    }

    /// `(`: a capture, a named capture, or a flag group; whether it opened a group (a flag group such as `(?i)`
    /// opens none).
    fn group(&mut self) -> Result<bool, GoRegexError> {
        let start = self.pos;
        self.bump();
        if self.peek() != Some('?') {
            self.emit(start, "(");
            return Ok(true);
        }
        let rest = &self.pat[start..];
        let name_at = if rest.len() > 4 && rest[2..].starts_with("P<") {
            Some(4)
        } else if rest.len() > 3 && rest[2..].starts_with('<') {
            Some(3)
        } else {
            None
        };
        if let Some(name_at) = name_at {
            let Some(end) = rest.find('>') else {
                return Err(self.error(start, format!("invalid named capture: `{rest}`")));
            };
            let name = &rest[name_at..end];
            if name.is_empty() || !name.chars().all(|c| c == '_' || c.is_ascii_alphanumeric()) {
                let text = &rest[..=end];
                return Err(self.error(start, format!("invalid named capture: `{text}`")));
            }
            // Names do not matter for matching; a plain group avoids Rust's stricter name rules.
            self.pos = start + end + 1;
            self.emit(start, "(");
            return Ok(true);
        }
        self.bump();
        // Go's flags: i m s U, one `-` that must be followed by at least one flag. Each flag's last setting wins.
        let mut on = String::new();
        let mut off = String::new();
        let mut negated = false;
        let mut saw_flag = false;
        while let Some(c) = self.bump() {
            match c {
                'i' | 'm' | 's' | 'U' => {
                    on.retain(|f| f != c);
                    off.retain(|f| f != c);
                    if negated {
                        off.push(c)
                    } else {
                        on.push(c)
                    }
                    saw_flag = true;
                }
                '-' if !negated => {
                    negated = true;
                    saw_flag = false;
                }
                ':' | ')' if !negated || saw_flag => {
                    let flags = if off.is_empty() { on } else { format!("{on}-{off}") };
                    let text = match (c, flags.is_empty()) {
                        (':', true) => "(?:".to_string(),
                        (':', false) => format!("(?{flags}:"),
                        (_, true) => String::new(),
                        (_, false) => format!("(?{flags})"),
                    };
                    self.emit(start, &text);
                    return Ok(c == ':');
                }
                _ => break,
            }
        }
        let text = &self.pat[start..self.pos];
        Err(self.error(start, format!("invalid or unsupported Perl syntax: `{text}`")))
    }

    /// `[...]` with Go's rules, written out member by member.
    fn class(&mut self) -> Result<(), GoRegexError> {
        let start = self.pos;
        self.bump();
        let mut body = String::from("[");
        if self.peek() == Some('^') {
            self.bump();
            body.push('^');
        }
        let mut first = true;
        loop {
            let Some(c) = self.peek() else {
                let text = &self.pat[start..];
                return Err(self.error(start, format!("missing closing ]: `{text}`")));
            };
            if c == ']' && !first {
                self.bump();
                break;
            }
            first = false;
            let rest = &self.pat[self.pos..];
            if rest.len() > 2
                && rest.starts_with("[:")
                && let Some(end) = rest[2..].find(":]")
            {
                let name = &rest[2..2 + end];
                let known = POSIX_CLASSES.contains(&name.strip_prefix('^').unwrap_or(name));
                if !known {
                    let text = &rest[..end + 4];
                    return Err(self.error(self.pos, format!("invalid character class range: `{text}`")));
                }
                body.push_str(&rest[..end + 4]);
                self.pos += end + 4;
                continue;
            }
            if c == '\\' && matches!(rest[1..].chars().next(), Some('p' | 'P' | 'd' | 'D' | 's' | 'S' | 'w' | 'W')) {
                match self.escape(true)? {
                    Escape::Unicode(class) => body.push_str(&class),
                    Escape::Perl(c) => body.push_str(match c {
                        'd' => "0-9",
                        'D' => "[:^digit:]",
                        's' => r"\t\n\x0C\r ",
                        'S' => r"\x00-\x08\x0B\x0E-\x1F\x21-\x{10FFFF}",
                        'w' => "[:word:]",
                        _ => "[:^word:]",
                    }),
                    Escape::Char(c) => body.push_str(&escape_literal(c)),
                }
                continue;
            }
            let lo_at = self.pos;
            let lo = self.class_char(start)?;
            let rest = &self.pat[self.pos..];
            if rest.len() >= 2 && rest.starts_with('-') && !rest[1..].starts_with(']') {
                self.bump();
                let hi = self.class_char(start)?;
                if hi < lo {
                    let text = &self.pat[lo_at..self.pos];
                    return Err(self.error(lo_at, format!("invalid character class range: `{text}`")));
                }
                let _ = write!(body, "{}-{}", escape_literal(lo), escape_literal(hi));
            } else {
                body.push_str(&escape_literal(lo));
            }
        }
        body.push(']');
        // Classes map to their opening bracket: regex-syntax reports class errors there.
        self.emit2(start, &body, &body);
        Ok(())
    }

    /// One member character of a class: a plain character or a single-character escape.
    fn class_char(&mut self, class_start: usize) -> Result<char, GoRegexError> {
        match self.peek() {
            None => {
                let text = &self.pat[class_start..];
                Err(self.error(class_start, format!("missing closing ]: `{text}`")))
            }
            Some('\\') => match self.escape(true)? {
                Escape::Char(c) => Ok(c),
                // Only reached for `\p`/`\d`-like escapes used as a range end, e.g. `[a-\d]`.
                Escape::Perl(_) | Escape::Unicode(_) => {
                    let text = &self.pat[class_start..self.pos];
                    Err(self.error(class_start, format!("invalid character class range: `{text}`")))
                }
            },
            Some(c) => {
                self.bump();
                Ok(c)
            }
        }
    }
}

/// Go's `parseInt` for repetition counts: digits, no leading zeros; large values saturate (and are refused).
fn go_int(s: &str) -> Option<(u32, &str)> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || (digits >= 2 && s.starts_with('0')) {
        return None;
    }
    let value = s[..digits].bytes().fold(0u32, |n, d| n.saturating_mul(10).saturating_add(u32::from(d - b'0')));
    Some((value, &s[digits..]))
}

/// A literal character in a form both Rust crates read as exactly that character, in or out of brackets.
fn escape_literal(c: char) -> String {
    if c.is_ascii_alphanumeric() {
        c.to_string()
    } else if c.is_ascii_punctuation() && c != '<' && c != '>' {
        format!("\\{c}")
    } else if c == '<' || c == '>' {
        c.to_string()
    } else {
        format!("\\x{{{:X}}}", c as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(pattern: &str) -> String {
        match Translator::new(pattern).run() {
            Ok(t) => {
                assert!(compile(pattern).is_ok(), "{pattern} should compile");
                t.lite
            }
            Err(e) => panic!("{pattern}: {e:?}"),
        }
    }

    fn err(pattern: &str) -> GoRegexError {
        compile(pattern).expect_err(pattern)
    }

    #[test]
    fn go_literal_braces_and_repetitions() {
        assert_eq!(ok("{domain:[a-zA-Z-]+\\.com}"), r"\{domain\:[a-zA-Z\-]+\.com\}");
        assert_eq!(ok("a{2}b{2,}c{2,3}d{03}e{,3}"), r"a{2}b{2,}c{2,3}d\{03\}e\{\,3\}");
        assert_eq!(ok("http{secure:s?}"), r"http\{secure\:s?\}");
        assert_eq!(err("a{1001}").message, "invalid repeat count: `{1001}`");
        // Nested counted repetitions multiply (Go's repeatIsValid), through groups and alternatives.
        assert_eq!(err("^/(?:a{1000}){1000}$").message, "invalid repeat count: `{1000}`");
        assert_eq!(err("^/(?:(?:a{100}){100})$").message, "invalid repeat count: `{100}`");
        assert_eq!(err("(b|(a{10}){11}){10}").message, "invalid repeat count: `{10}`");
        assert_eq!(err("(a{10,}){101}").message, "invalid repeat count: `{101}`");
        for ok in [
            "(?:a{10}){100}",
            "(?:a{1000}){0}",
            "(?:a{1000}){1}",
            "(?:a{1000}){0,1}",
            "(?:a{0}){1000}",
            "(?:a{1000})+",
            "(?:a*){1000}",
            "(?i)a{1000}",
            "(a{10})(b{100}){10}",
        ] {
            assert!(compile(ok).is_ok(), "{ok}");
        }
        assert_eq!(err("a{3,2}").offset, 1);
        assert_eq!(err("a**").message, "invalid nested repetition operator: `**`");
        assert_eq!(err("a+?*").message, "invalid nested repetition operator: `+?*`");
        assert_eq!(err("a{2}{3}").message, "invalid nested repetition operator: `{2}{3}`");
        ok("a*?b+?c??^*");
    }

    #[test]
    fn go_classes_and_escapes() {
        assert_eq!(ok("[[a]"), r"[\[a]");
        assert_eq!(ok("[a&&b]"), r"[a\&\&b]");
        assert_eq!(ok("[]a]"), r"[\]a]");
        assert_eq!(ok("[^]a-]"), r"[^\]a\-]");
        assert_eq!(ok(r"[\d\S[:alpha:]]"), r"[0-9\x00-\x08\x0B\x0E-\x1F\x21-\x{10FFFF}[:alpha:]]");
        assert_eq!(ok(r"\Qa.b\E+"), r"a\.b+");
        assert_eq!(ok(r"\_\<\012\x41\x{42}"), r"\_<\x{A}AB");
        assert_eq!(ok(r"\w\d\s\b"), r"[0-9A-Za-z_][0-9]\\[\t\n\x0C\r ]\b".replace(r"\\[", "["));
        assert_eq!(err("[z-a]").message, "invalid character class range: `z-a`");
        assert_eq!(err("[[:foo:]]").message, "invalid character class range: `[:foo:]`");
        assert_eq!(err("[abc").message, "missing closing ]: `[abc`");
        assert_eq!(err(r"\1").message, "invalid escape sequence: `\\1`");
        assert_eq!(err(r"\C").message, "invalid escape sequence: `\\C`");
        assert_eq!(err(r"[\b]").message, "invalid escape sequence in a character class: `\\b`");
        assert_eq!(err("ab\\").message, "trailing backslash at end of expression");
        assert_eq!(err(r"\x{110000}").offset, 0);
    }

    #[test]
    fn go_groups_flags_and_unicode() {
        assert_eq!(ok("(?P<name>a)(?<n2>b)(?:c)(?i)d(?i-s:e)(?)f(?ii)"), "(a)(b)(?:c)(?i)d(?i-s:e)f(?i)");
        assert_eq!(err("(?=a)").message, "invalid or unsupported Perl syntax: `(?=`");
        assert_eq!(err("(?i-)").message, "invalid or unsupported Perl syntax: `(?i-)`");
        assert_eq!(err("(?x)a").message, "invalid or unsupported Perl syntax: `(?x`");
        assert_eq!(err("(?P<a-b>x)").message, "invalid named capture: `(?P<a-b>`");
        assert_eq!(err("(example.com").message, "unclosed group");
        assert_eq!(err("x(example.com").offset, 1);
        assert!(compile(r"\pL\p{Greek}\P{Lu}[\p{^Han}]").is_ok_and(|lite| lite.is_none()));
        assert!(compile(r"\p{Letter}\p{greek}").is_ok());
        assert_eq!(err(r"\p{Foo}").message, "invalid character class range: `\\p{Foo}`");
        assert_eq!(err(r"a\p{Alphabetic}").offset, 1);
        assert!(compile(r"\p{Any}\p{ASCII}").is_ok());
        assert_eq!(err(r"\p{sc=Greek}").message, "invalid character class range: `\\p{sc=Greek}`");
        assert!(compile("(?i)^[a-z]+\\.example\\.com$").unwrap().unwrap().is_match("WWW.EXAMPLE.COM"));
    }
}
