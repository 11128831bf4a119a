//! Traefik v3 HTTP router rules: a parser that accepts what Traefik accepts and refuses what it refuses, lints for
//! rules that parse but rarely do what their author meant, Traefik's default priority, and an evaluator for a
//! request simulator.
//!
//! Traefik (v3.7) reads a rule with Go's expression parser (`go/parser.ParseExpr` through `vulcand/predicate`,
//! `pkg/rules/parser.go`) and builds each matcher in `pkg/muxer/http/matcher.go`. This module follows both:
//! - Operators `&&`, `||`, `!` and parentheses, with Go's precedence (`&&` binds tighter than `||`).
//!   Whitespace is Go's (space, tab, CR, LF); Go comments are skipped. A line break right after a matcher's `)`,
//!   a name or a string ends the expression (Go's automatic semicolon), so a rule written on several lines must
//!   break after an operator. A trailing comma in an argument list is allowed, as in any Go call.
//! - Matcher names are accepted as written in Traefik (`PathPrefix`), all lower (`pathprefix`), all upper
//!   (`PATHPREFIX`) or capitalised lower (`Pathprefix`), nothing else.
//! - Arguments are Go string literals: raw (backticks; carriage returns are dropped) or interpreted (double
//!   quotes, Go escapes). Every argument is non-empty; arity, `/` at the start of paths, ASCII hosts, compiling
//!   regexps (Go RE2 syntax, see the `go_regex` submodule) and IPs/CIDRs are checked as Traefik checks them.
//!
//! Deliberate differences, all on inputs nobody writes by hand: nesting deeper than [`MAX_DEPTH`] parentheses or
//! `!` is refused (Go allows far more); an interpreted string whose `\x`/octal escapes do not form valid UTF-8 is
//! refused (Go keeps the raw bytes).
//!
//! # Codes
//!
//! Errors ([`RuleError`], from [`parse`]); the message names the column (1-based, in characters) and the fix:
//!
//! SY3101-SY3114, each with its meaning in [`switchyard_diagnostics::registry`].
//!
//! Lints ([`RuleLint`], from [`lint`]): the rule works in Traefik v3, but probably not as meant:
//!
//! SY3151-SY3159, each with its meaning in [`switchyard_diagnostics::registry`].

mod go_regex;

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use switchyard_diagnostics::{Diagnostic, did_you_mean};

/// Deepest nesting of parentheses and `!` accepted.
pub const MAX_DEPTH: usize = 64;

/// Traefik's default priority for a router without one (or with `priority: 0`): the rule's length in UTF-8 bytes.
pub fn default_priority(rule: &str) -> i64 {
    i64::try_from(rule.len()).unwrap_or(i64::MAX)
}

// ---------------------------------------------------------------------------------------------------------------
// The tree

/// A parsed rule. Equality compares the structure and the argument values, not the source positions.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub expr: Expr,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Matcher(Matcher),
    Not(Box<Expr>),
    /// Two or more operands. Operands written in parentheses stay nested, so printing gives the same tree back.
    And(Vec<Expr>),
    /// Two or more operands.
    Or(Vec<Expr>),
}

/// The matchers of Traefik v3 HTTP routers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MatcherKind {
    Host,
    HostRegexp,
    Path,
    PathPrefix,
    PathRegexp,
    Method,
    ClientIP,
    Header,
    HeaderRegexp,
    Query,
    QueryRegexp,
}

impl MatcherKind {
    pub const ALL: [MatcherKind; 11] = [
        MatcherKind::Host,
        MatcherKind::HostRegexp,
        MatcherKind::Path,
        MatcherKind::PathPrefix,
        MatcherKind::PathRegexp,
        MatcherKind::Method,
        MatcherKind::ClientIP,
        MatcherKind::Header,
        MatcherKind::HeaderRegexp,
        MatcherKind::Query,
        MatcherKind::QueryRegexp,
    ];

    /// The name as Traefik documents it.
    pub fn name(self) -> &'static str {
        match self {
            MatcherKind::Host => "Host",
            MatcherKind::HostRegexp => "HostRegexp",
            MatcherKind::Path => "Path",
            MatcherKind::PathPrefix => "PathPrefix",
            MatcherKind::PathRegexp => "PathRegexp",
            MatcherKind::Method => "Method",
            MatcherKind::ClientIP => "ClientIP",
            MatcherKind::Header => "Header",
            MatcherKind::HeaderRegexp => "HeaderRegexp",
            MatcherKind::Query => "Query",
            MatcherKind::QueryRegexp => "QueryRegexp",
        }
    }

    /// The matcher a name stands for, with Traefik's four accepted spellings: `HostRegexp`, `hostregexp`,
    /// `HOSTREGEXP`, `Hostregexp`.
    pub fn from_name(name: &str) -> Option<MatcherKind> {
        // Without allocating: this runs for every matcher of every rule.
        let (Some(first), Some(rest)) = (name.get(..1), name.get(1..)) else { return None };
        MatcherKind::ALL.into_iter().find(|kind| {
            let exact = kind.name();
            if exact.len() != name.len() || !exact[..1].eq_ignore_ascii_case(first) {
                return false;
            }
            let (e_first, e_rest) = exact.split_at(1);
            let upper = name.bytes().all(|b| !b.is_ascii_lowercase());
            name == exact
                || (rest.bytes().all(|b| !b.is_ascii_uppercase())
                    && rest.eq_ignore_ascii_case(e_rest)
                    && (first == e_first || first.bytes().all(|b| b.is_ascii_lowercase())))
                || (upper && name.eq_ignore_ascii_case(exact))
        })
    }

    /// How many arguments it takes: (fewest, most).
    pub fn arity(self) -> (usize, usize) {
        match self {
            MatcherKind::Header | MatcherKind::HeaderRegexp => (2, 2),
            MatcherKind::Query | MatcherKind::QueryRegexp => (1, 2),
            _ => (1, 1),
        }
    }

    /// The index of the argument that is a Go regexp, if any (`QueryRegexp` with one argument has none).
    fn regexp_arg(self, args: usize) -> Option<usize> {
        match self {
            MatcherKind::HostRegexp | MatcherKind::PathRegexp => Some(0),
            MatcherKind::HeaderRegexp => Some(1),
            MatcherKind::QueryRegexp if args == 2 => Some(1),
            _ => None,
        }
    }

    /// A typical call, for hints.
    fn example(self) -> &'static str {
        match self {
            MatcherKind::Host => "Host(`example.com`)",
            MatcherKind::HostRegexp => r"HostRegexp(`^[a-z]+\.example\.com$`)",
            MatcherKind::Path => "Path(`/api`)",
            MatcherKind::PathPrefix => "PathPrefix(`/api`)",
            MatcherKind::PathRegexp => "PathRegexp(`^/api/v[0-9]+/`)",
            MatcherKind::Method => "Method(`GET`)",
            MatcherKind::ClientIP => "ClientIP(`192.168.1.0/24`)",
            MatcherKind::Header => "Header(`X-Forwarded-Proto`, `https`)",
            MatcherKind::HeaderRegexp => "HeaderRegexp(`X-Forwarded-Proto`, `^https?$`)",
            MatcherKind::Query => "Query(`mobile`, `true`)",
            MatcherKind::QueryRegexp => "QueryRegexp(`q`, `^traefik`)",
        }
    }
}

impl fmt::Display for MatcherKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One argument: its value (unquoted) and the byte range of its literal, quotes included, in the rule.
#[derive(Debug, Clone)]
pub struct Arg {
    pub value: String,
    pub span: (usize, usize),
}

/// One matcher call. Equality compares the kind and the argument values only.
#[derive(Debug, Clone)]
pub struct Matcher {
    pub kind: MatcherKind,
    /// Byte range of the name as written.
    pub name_span: (usize, usize),
    pub args: Vec<Arg>,
    compiled: Compiled,
}

impl PartialEq for Matcher {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind
            && self.args.len() == other.args.len()
            && self.args.iter().zip(&other.args).all(|(a, b)| a.value == b.value)
    }
}

/// What a matcher needs at match time, prepared while parsing.
#[derive(Debug, Clone)]
enum Compiled {
    Nothing,
    /// `None`: valid for Go, but `regex-lite` cannot run it (e.g. `\p{Greek}`); such a matcher never matches.
    Regex(Option<regex_lite::Regex>),
    Ip(IpRange),
}

impl Matcher {
    /// Argument `i`'s value ("" when absent).
    pub fn arg(&self, i: usize) -> &str {
        self.args.get(i).map_or("", |a| a.value.as_str())
    }

    /// For regexp matchers: false when the request simulator cannot evaluate the pattern (see SY3157).
    pub fn simulable(&self) -> bool {
        !matches!(self.compiled, Compiled::Regex(None))
    }
}

impl Rule {
    /// Every matcher, in source order.
    pub fn matchers(&self) -> Vec<&Matcher> {
        fn walk<'r>(expr: &'r Expr, out: &mut Vec<&'r Matcher>) {
            match expr {
                Expr::Matcher(m) => out.push(m),
                Expr::Not(inner) => walk(inner, out),
                Expr::And(items) | Expr::Or(items) => items.iter().for_each(|e| walk(e, out)),
            }
        }
        let mut out = Vec::new();
        walk(&self.expr, &mut out);
        out
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Errors and lints

/// Why a rule does not parse. `column` is 1-based in characters; `span` is a byte range of the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    pub code: &'static str,
    pub message: String,
    pub column: usize,
    pub span: (usize, usize),
    pub hints: Vec<String>,
}

impl RuleError {
    /// As a diagnostic at key path `path` (e.g. `http.routers.web.rule`).
    pub fn to_diagnostic(&self, path: &str) -> Diagnostic {
        let mut diagnostic = Diagnostic::error(self.code, self.message.clone()).at(path);
        diagnostic.hints = self.hints.clone();
        diagnostic
    }
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for RuleError {}

/// A rule that works in Traefik v3 but probably not as meant. Same shape as [`RuleError`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleLint {
    pub code: &'static str,
    pub message: String,
    pub column: usize,
    pub span: (usize, usize),
    pub hints: Vec<String>,
}

impl RuleLint {
    /// As a warning at key path `path`.
    pub fn to_diagnostic(&self, path: &str) -> Diagnostic {
        let mut diagnostic = Diagnostic::warning(self.code, self.message.clone()).at(path);
        diagnostic.hints = self.hints.clone();
        diagnostic
    }
}

impl fmt::Display for RuleLint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

/// 1-based column, in characters, of byte offset `at` of `src`.
fn column(src: &str, at: usize) -> usize {
    src.get(..at).map_or(1, |s| s.chars().count() + 1)
}

// ---------------------------------------------------------------------------------------------------------------
// Lexer

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident,
    Str(String),
    LParen,
    RParen,
    Comma,
    And,
    Or,
    Not,
    /// A line break where Go inserts a semicolon.
    Newline,
    Eof,
    /// Anything else Go's scanner would return (a number, `&`, `==`, `#`...): never valid in a rule.
    Other,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    start: usize,
    end: usize,
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    /// Whether a line break here would end the expression (after a name, a string or `)`).
    semicolon: bool,
}

impl<'a> Lexer<'a> {
    fn error(&self, code: &'static str, span: (usize, usize), message: String, hints: Vec<String>) -> RuleError {
        let col = column(self.src, span.0);
        RuleError { code, message: format!("column {col}: {message}"), column: col, span, hints }
    }

    fn next_token(&mut self) -> Result<Token, RuleError> {
        let bytes = self.src.as_bytes();
        // Whitespace and comments.
        loop {
            match bytes.get(self.pos) {
                Some(b' ' | b'\t' | b'\r') => self.pos += 1,
                Some(b'\n') => {
                    if self.semicolon {
                        return Ok(self.newline(self.pos, self.pos + 1));
                    }
                    self.pos += 1;
                }
                Some(b'/') if bytes.get(self.pos + 1) == Some(&b'/') => {
                    let end = self.src[self.pos..].find('\n').map_or(self.src.len(), |i| self.pos + i);
                    if self.semicolon {
                        return Ok(self.newline(self.pos, end));
                    }
                    self.pos = end;
                }
                Some(b'/') if bytes.get(self.pos + 1) == Some(&b'*') => {
                    let Some(len) = self.src[self.pos + 2..].find("*/") else {
                        let span = (self.pos, self.src.len());
                        let message = "comment not terminated; close it with `*/`".to_string();
                        return Err(self.error("SY3101", span, message, Vec::new()));
                    };
                    let end = self.pos + 2 + len + 2;
                    if self.semicolon && self.src[self.pos..end].contains('\n') {
                        return Ok(self.newline(self.pos, end));
                    }
                    self.pos = end;
                }
                _ if self.pos == 0 && self.src.starts_with('\u{feff}') => self.pos += '\u{feff}'.len_utf8(),
                _ => break,
            }
        }
        let start = self.pos;
        let Some(c) = self.src[start..].chars().next() else {
            return Ok(Token { tok: Tok::Eof, start, end: start });
        };
        let (tok, end) = match c {
            '(' => (Tok::LParen, start + 1),
            ')' => (Tok::RParen, start + 1),
            ',' => (Tok::Comma, start + 1),
            '&' if bytes.get(start + 1) == Some(&b'&') => (Tok::And, start + 2),
            '|' if bytes.get(start + 1) == Some(&b'|') => (Tok::Or, start + 2),
            '!' if bytes.get(start + 1) != Some(&b'=') => (Tok::Not, start + 1),
            '`' => self.raw_string(start)?,
            '"' => self.interpreted_string(start)?,
            '\'' => return Err(self.single_quoted(start)),
            '\0' | '\u{feff}' => {
                let name = if c == '\0' { "NUL" } else { "byte order mark" };
                let message = format!("illegal character {name}; remove it");
                return Err(self.error("SY3101", (start, start + c.len_utf8()), message, Vec::new()));
            }
            c if c == '_' || c.is_alphabetic() => {
                let len = self.src[start..]
                    .find(|c: char| !(c == '_' || c.is_alphanumeric()))
                    .unwrap_or(self.src.len() - start);
                (Tok::Ident, start + len)
            }
            c if c.is_ascii_digit() => {
                let len = self.src[start..]
                    .find(|c: char| !(c == '_' || c == '.' || c.is_ascii_alphanumeric()))
                    .unwrap_or(self.src.len() - start);
                (Tok::Other, start + len)
            }
            _ => {
                // Operators Go knows, so the message quotes the whole of `==`, `!=`, `&^`...
                let two = self.src.get(start..start + 2).unwrap_or("");
                let len = if ["==", "!=", "&^", "<=", ">=", "<-", ":="].contains(&two) { 2 } else { c.len_utf8() };
                (Tok::Other, start + len)
            }
        };
        self.pos = end;
        self.semicolon = matches!(tok, Tok::Ident | Tok::Str(_) | Tok::RParen);
        Ok(Token { tok, start, end })
    }

    fn newline(&mut self, start: usize, end: usize) -> Token {
        self.pos = end;
        self.semicolon = false;
        Token { tok: Tok::Newline, start, end }
    }

    fn raw_string(&self, start: usize) -> Result<(Tok, usize), RuleError> {
        let Some(len) = self.src[start + 1..].find('`') else {
            let message = "raw string not terminated; close it with a backtick (`)".to_string();
            return Err(self.error("SY3110", (start, self.src.len()), message, Vec::new()));
        };
        let end = start + 1 + len + 1;
        let body = &self.src[start + 1..end - 1];
        // The search for either character only when one of them may be there (it decodes every character).
        let suspicious = body.as_bytes().contains(&0) || (!body.is_ascii() && body.contains('\u{feff}'));
        if let Some(i) = if suspicious { body.find(['\0', '\u{feff}']) } else { None } {
            let at = start + 1 + i;
            let message = "illegal character (NUL or byte order mark) in a string; remove it".to_string();
            return Err(self.error("SY3101", (at, at + 1), message, Vec::new()));
        }
        let value = if body.contains('\r') { body.replace('\r', "") } else { body.to_string() };
        Ok((Tok::Str(value), end))
    }

    fn interpreted_string(&self, start: usize) -> Result<(Tok, usize), RuleError> {
        match unquote_interpreted(self.src, start, None) {
            Ok((value, end)) => Ok((Tok::Str(value), end)),
            Err(Unquote { code, at, end, message }) => {
                let hints = match code {
                    "SY3111" if self.src[start..].contains('`') => Vec::new(),
                    "SY3111" => vec!["a raw string in backticks needs no escapes: `...`".to_string()],
                    _ => Vec::new(),
                };
                Err(self.error(code, (at, end), message, hints))
            }
        }
    }

    fn single_quoted(&self, start: usize) -> RuleError {
        let rest = &self.src[start + 1..];
        let close = rest.find(['\'', '\n']).filter(|&i| rest[i..].starts_with('\''));
        let (end, hints) = match close {
            Some(i) => {
                let inner = &rest[..i];
                let fixed = if inner.contains('`') { quote_interpreted(inner) } else { format!("`{inner}`") };
                (start + 1 + i + 1, vec![format!("write {fixed} instead of '{inner}'")])
            }
            None => (start + 1, Vec::new()),
        };
        let message = "single-quoted strings are not allowed: '...' is a Go character literal; quote the value with \
                       backticks (`...`) or double quotes"
            .to_string();
        self.error("SY3109", (start, end), message, hints)
    }
}

/// An interpreted-string problem: code, byte range of the offending part, message.
struct Unquote {
    code: &'static str,
    at: usize,
    end: usize,
    message: String,
}

/// Reads the Go interpreted string literal starting at `src[start] == '"'`: its value and the end of the literal.
/// With `map`, records for each byte of the value the offset in `src` it came from.
fn unquote_interpreted(src: &str, start: usize, mut map: Option<&mut Vec<usize>>) -> Result<(String, usize), Unquote> {
    let bytes = src.as_bytes();
    let mut out: Vec<u8> = Vec::new();
    let mut i = start + 1;
    let unterminated = |end: usize| Unquote {
        code: "SY3110",
        at: start,
        end,
        message: "string not terminated; close it with `\"` on the same line, or use backticks for a multi-line value"
            .to_string(),
    };
    loop {
        let Some(&b) = bytes.get(i) else { return Err(unterminated(src.len())) };
        match b {
            b'"' => break,
            b'\n' => return Err(unterminated(i)),
            b'\\' => {
                let esc = i;
                let bad = |end: usize, what: &str| Unquote {
                    code: "SY3111",
                    at: esc,
                    end,
                    message: format!(
                        "{what} `{}`; Go strings know \\n \\t \\\\ \\\" \\xNN \\uNNNN \\UNNNNNNNN \\NNN (octal) \\a \\b \\f \\r \\v",
                        src.get(esc..end).unwrap_or("\\")
                    ),
                };
                let Some(&e) = bytes.get(i + 1) else { return Err(unterminated(src.len())) };
                let simple = match e {
                    b'a' => Some(0x07),
                    b'b' => Some(0x08),
                    b'f' => Some(0x0C),
                    b'n' => Some(b'\n'),
                    b'r' => Some(b'\r'),
                    b't' => Some(b'\t'),
                    b'v' => Some(0x0B),
                    b'\\' => Some(b'\\'),
                    b'"' => Some(b'"'),
                    _ => None,
                };
                let (produced, next): (Vec<u8>, usize) = if let Some(v) = simple {
                    (vec![v], i + 2)
                } else if e.is_ascii_digit() && e < b'8' {
                    let digits = src.get(i + 1..i + 4).filter(|d| d.bytes().all(|d| (b'0'..=b'7').contains(&d)));
                    let Some(digits) = digits else {
                        return Err(bad(i + 2, "invalid octal escape (needs three digits 0-7)"));
                    };
                    let value = digits.bytes().fold(0u32, |n, d| n * 8 + u32::from(d - b'0'));
                    let Ok(byte) = u8::try_from(value) else {
                        return Err(bad(i + 4, "octal escape value above 255 (\\377)"));
                    };
                    (vec![byte], i + 4)
                } else if matches!(e, b'x' | b'u' | b'U') {
                    let n = match e {
                        b'x' => 2,
                        b'u' => 4,
                        _ => 8,
                    };
                    let digits = src.get(i + 2..i + 2 + n).filter(|d| d.bytes().all(|d| d.is_ascii_hexdigit()));
                    let Some(digits) = digits else {
                        return Err(bad(i + 2, &format!("invalid hex escape (needs {n} hex digits)")));
                    };
                    let value = u32::from_str_radix(digits, 16).unwrap_or(u32::MAX);
                    if e == b'x' {
                        (vec![u8::try_from(value).unwrap_or(0)], i + 4)
                    } else {
                        let Some(c) = char::from_u32(value) else {
                            return Err(bad(i + 2 + n, "escape is not a valid Unicode code point"));
                        };
                        (c.to_string().into_bytes(), i + 2 + n)
                    }
                } else {
                    let len = src[i + 1..].chars().next().map_or(1, char::len_utf8);
                    return Err(bad(i + 1 + len, "unknown escape sequence"));
                };
                if let Some(map) = map.as_deref_mut() {
                    map.extend(std::iter::repeat_n(esc, produced.len()));
                }
                out.extend(produced);
                i = next;
            }
            0 => {
                return Err(Unquote {
                    code: "SY3101",
                    at: i,
                    end: i + 1,
                    message: "illegal character NUL in a string; write it as \\x00".to_string(),
                });
            }
            _ => {
                let len = src[i..].chars().next().map_or(1, char::len_utf8);
                if src[i..].starts_with('\u{feff}') {
                    return Err(Unquote {
                        code: "SY3101",
                        at: i,
                        end: i + len,
                        message: "illegal byte order mark in a string; write it as \\uFEFF".to_string(),
                    });
                }
                if let Some(map) = map.as_deref_mut() {
                    map.extend(std::iter::repeat_n(i, len));
                }
                out.extend_from_slice(&bytes[i..i + len]);
                i += len;
            }
        }
    }
    match String::from_utf8(out) {
        Ok(value) => Ok((value, i + 1)),
        Err(_) => Err(Unquote {
            code: "SY3112",
            at: start,
            end: i + 1,
            message: "the escapes in this string do not form valid UTF-8; write the characters themselves, or \
                      \\u escapes"
                .to_string(),
        }),
    }
}

/// Byte offset in the rule of byte `value_at` of the value of the literal at `span`.
fn source_offset(src: &str, span: (usize, usize), value_at: usize) -> usize {
    if src[span.0..].starts_with('"') {
        let mut map = Vec::new();
        if unquote_interpreted(src, span.0, Some(&mut map)).is_ok() {
            return map.get(value_at).copied().unwrap_or(span.1.saturating_sub(1));
        }
        return span.0;
    }
    // Raw string: the value is the body without carriage returns.
    let mut seen = 0;
    for (i, c) in src[span.0 + 1..span.1 - 1].char_indices() {
        if c == '\r' {
            continue;
        }
        if seen >= value_at {
            return span.0 + 1 + i;
        }
        seen += c.len_utf8();
    }
    span.1 - 1
}

// ---------------------------------------------------------------------------------------------------------------
// Parser

/// Parses a Traefik v3 HTTP router rule.
pub fn parse(rule: &str) -> Result<Rule, RuleError> {
    let mut lexer = Lexer { src: rule, pos: 0, semicolon: false };
    let token = lexer.next_token()?;
    let mut parser = Parser { src: rule, lexer, token, depth: 0, semantic: None };
    if parser.token.tok == Tok::Eof {
        let message = "the rule is empty; write at least one matcher, such as Host(`example.com`)".to_string();
        return Err(parser.error("SY3114", (0, rule.len()), message, Vec::new()));
    }
    let expr = parser.or()?;
    if parser.token.tok == Tok::Newline {
        // Go's parser takes one semicolon at the end; anything after it is an error at the line break.
        let newline = parser.advance()?;
        if parser.token.tok != Tok::Eof {
            return Err(parser.newline_error(&newline));
        }
    }
    if parser.token.tok != Tok::Eof {
        return Err(parser.trailing());
    }
    match parser.semantic {
        Some(err) => Err(err),
        None => Ok(Rule { expr }),
    }
}

struct Parser<'a> {
    src: &'a str,
    lexer: Lexer<'a>,
    token: Token,
    depth: usize,
    /// The first error that is not a syntax error (unknown matcher, bad argument...). Go reports syntax errors
    /// first, so parsing goes on to the end before this one is returned.
    semantic: Option<RuleError>,
}

impl Parser<'_> {
    fn error(&self, code: &'static str, span: (usize, usize), message: String, hints: Vec<String>) -> RuleError {
        self.lexer.error(code, span, message, hints)
    }

    fn advance(&mut self) -> Result<Token, RuleError> {
        let next = self.lexer.next_token()?;
        Ok(std::mem::replace(&mut self.token, next))
    }

    fn text(&self, token: &Token) -> &str {
        &self.src[token.start..token.end]
    }

    fn describe(&self, token: &Token) -> String {
        match token.tok {
            Tok::Eof => "the end of the rule".to_string(),
            Tok::Newline => "a line break".to_string(),
            Tok::Str(_) => format!("the string {}", self.text(token)),
            _ => format!("`{}`", self.text(token)),
        }
    }

    fn enter(&mut self, at: &Token) -> Result<(), RuleError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let message = format!("more than {MAX_DEPTH} nested parentheses or `!`; simplify the rule");
            return Err(self.error("SY3113", (at.start, at.end), message, Vec::new()));
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Expr, RuleError> {
        let first = self.and()?;
        if self.token.tok != Tok::Or {
            return Ok(first);
        }
        let mut items = Vec::with_capacity(4);
        items.push(first);
        while self.token.tok == Tok::Or {
            let op = self.advance()?;
            self.operand_after(&op)?;
            items.push(self.and()?);
        }
        Ok(Expr::Or(items))
    }

    fn and(&mut self) -> Result<Expr, RuleError> {
        let first = self.unary()?;
        if self.token.tok != Tok::And {
            return Ok(first);
        }
        let mut items = Vec::with_capacity(4);
        items.push(first);
        while self.token.tok == Tok::And {
            let op = self.advance()?;
            self.operand_after(&op)?;
            items.push(self.unary()?);
        }
        Ok(Expr::And(items))
    }

    /// After a binary operator: refuse a missing operand, pointing at the operator.
    fn operand_after(&self, op: &Token) -> Result<(), RuleError> {
        if matches!(self.token.tok, Tok::Eof | Tok::Newline | Tok::RParen) {
            let what = self.text(op);
            let message = format!(
                "`{what}` has no matcher after it (found {}); add one, such as Host(`example.com`), or remove the `{what}`",
                self.describe(&self.token)
            );
            return Err(self.error("SY3101", (op.start, op.end), message, Vec::new()));
        }
        Ok(())
    }

    fn unary(&mut self) -> Result<Expr, RuleError> {
        if self.token.tok == Tok::Not {
            let not = self.advance()?;
            self.enter(&not)?;
            if matches!(self.token.tok, Tok::Eof | Tok::Newline | Tok::RParen) {
                let message = format!(
                    "`!` has nothing to negate (found {}); put a matcher or `(` after it",
                    self.describe(&self.token)
                );
                return Err(self.error("SY3101", (not.start, not.end), message, Vec::new()));
            }
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, RuleError> {
        match self.token.tok {
            Tok::LParen => {
                let open = self.advance()?;
                self.enter(&open)?;
                let expr = self.or()?;
                if self.token.tok != Tok::RParen {
                    if self.token.tok == Tok::Eof {
                        let message = format!(
                            "this `(` is never closed; add `)` (the rule ends at column {})",
                            column(self.src, self.src.len())
                        );
                        return Err(self.error("SY3101", (open.start, open.end), message, Vec::new()));
                    }
                    return Err(self.unexpected_after_operand("`)` to close the `(`", &open));
                }
                self.advance()?;
                self.depth -= 1;
                Ok(expr)
            }
            Tok::Ident => self.call(),
            _ => {
                let found = self.describe(&self.token);
                let hints = match self.token.tok {
                    Tok::Str(_) => {
                        vec!["a string on its own is not a matcher; put it inside one: Host(`...`)".to_string()]
                    }
                    _ => Vec::new(),
                };
                let message = format!("expected a matcher such as Host(`example.com`), `!` or `(`, found {found}");
                Err(self.error("SY3101", (self.token.start, self.token.end), message, hints))
            }
        }
    }

    /// The token after a complete operand is not what `context` needs.
    fn unexpected_after_operand(&self, needed: &str, open: &Token) -> RuleError {
        let token = &self.token;
        if token.tok == Tok::Newline {
            return self.newline_error(token);
        }
        let found = self.describe(token);
        let text = self.text(token);
        let mut hints = operator_hints(text);
        if matches!(token.tok, Tok::Ident | Tok::Str(_) | Tok::LParen | Tok::Not) {
            hints.push("join matchers with && or ||".to_string());
        }
        let message =
            format!("expected `&&`, `||` or {needed} at column {}, found {found}", column(self.src, open.start));
        self.error("SY3101", (token.start, token.end), message, hints)
    }

    fn newline_error(&self, newline: &Token) -> RuleError {
        let message = "a line break here ends the rule (Go inserts a semicolon after a name, a string or `)`), so \
                       what follows cannot be read; break the line after `&&`, `||`, `(` or `,` instead"
            .to_string();
        self.error("SY3101", (newline.start, newline.end), message, Vec::new())
    }

    /// After a complete expression, something other than the end.
    fn trailing(&self) -> RuleError {
        let token = &self.token;
        if token.tok == Tok::Newline {
            return self.newline_error(token);
        }
        let found = self.describe(token);
        let mut hints = operator_hints(self.text(token));
        let message = if token.tok == Tok::RParen {
            format!("unexpected {found}: it has no matching `(`; remove it")
        } else {
            if matches!(token.tok, Tok::Ident | Tok::Str(_) | Tok::LParen | Tok::Not) {
                hints.push("join matchers with && or ||".to_string());
            }
            format!("expected `&&`, `||` or the end of the rule, found {found}")
        };
        self.error("SY3101", (token.start, token.end), message, hints)
    }

    /// `Name(args...)`.
    fn call(&mut self) -> Result<Expr, RuleError> {
        let name_token = self.advance()?;
        let src = self.src;
        let name = &src[name_token.start..name_token.end];
        let name_span = (name_token.start, name_token.end);
        if self.token.tok != Tok::LParen {
            return Err(self.bare_name(name, name_span));
        }
        let open = self.advance()?;
        let mut args = Vec::new();
        loop {
            match &self.token.tok {
                Tok::RParen => break,
                Tok::Str(_) => {
                    let token = self.advance()?;
                    if let Tok::Str(value) = token.tok {
                        args.push(Arg { value, span: (token.start, token.end) });
                    }
                }
                _ => return Err(self.bad_argument(name)),
            }
            match self.token.tok {
                Tok::Comma => {
                    self.advance()?;
                }
                Tok::RParen => break,
                Tok::Newline => return Err(self.newline_error(&self.token)),
                Tok::Eof => {
                    let message = format!("the `(` of {name} is never closed; add `)` after the last argument");
                    return Err(self.error("SY3101", (open.start, open.end), message, Vec::new()));
                }
                _ => {
                    let found = self.describe(&self.token);
                    let message = format!("expected `,` or `)` after an argument of {name}, found {found}");
                    let hints = vec!["separate arguments with commas: Header(`X-Key`, `value`)".to_string()];
                    return Err(self.error("SY3101", (self.token.start, self.token.end), message, hints));
                }
            }
        }
        let close = self.advance()?;
        let call_span = (name_span.0, close.end);
        let matcher = match self.matcher(name, name_span, args, call_span) {
            Ok(matcher) => matcher,
            Err(err) => {
                self.semantic.get_or_insert(err);
                Matcher { kind: MatcherKind::Host, name_span, args: Vec::new(), compiled: Compiled::Nothing }
            }
        };
        Ok(Expr::Matcher(matcher))
    }

    /// A name not followed by `(`.
    fn bare_name(&self, name: &str, span: (usize, usize)) -> RuleError {
        if let Some(kind) = MatcherKind::from_name(name) {
            let message =
                format!("expected `(` after {name}, found {}; write {}", self.describe(&self.token), kind.example());
            return self.error("SY3101", (self.token.start, self.token.end), message, Vec::new());
        }
        let mut hints = operator_hints(name);
        hints.extend(unknown_name_hints(name, &[], true));
        let message = format!("`{name}` is not a matcher; a rule combines matchers such as Host(`example.com`)");
        self.error("SY3102", span, message, hints)
    }

    /// In an argument list, something that is not a string.
    fn bad_argument(&self, name: &str) -> RuleError {
        let token = &self.token;
        let found = self.describe(token);
        if token.tok == Tok::Newline {
            return self.newline_error(token);
        }
        if matches!(token.tok, Tok::Ident | Tok::Other) {
            // An unquoted value such as Host(example.com): quote everything up to `,` or `)`.
            let rest = &self.src[token.start..];
            let len = rest.find([',', ')', '\n']).unwrap_or(rest.len());
            let value = rest[..len].trim_end();
            let end = token.start + value.len();
            let message =
                format!("argument `{value}` of {name} is not quoted; arguments are strings: write {name}(`{value}`)");
            let hints = vec!["use backticks (`...`), or double quotes with Go escapes".to_string()];
            return self.error("SY3101", (token.start, end), message, hints);
        }
        let message = format!("expected an argument of {name} (a string in backticks), found {found}");
        self.error("SY3101", (token.start, token.end), message, Vec::new())
    }

    /// The span of the character at byte `at` (empty at the end of the rule).
    fn char_span(&self, at: usize) -> (usize, usize) {
        let len = self.src[at..].chars().next().map_or(0, char::len_utf8);
        (at, at + len)
    }

    /// Checks a call the way Traefik builds the matcher, in Traefik's order.
    fn matcher(
        &self,
        name: &str,
        name_span: (usize, usize),
        args: Vec<Arg>,
        call_span: (usize, usize),
    ) -> Result<Matcher, RuleError> {
        // For hints only (computed on errors).
        let whole = || self.src.trim() == &self.src[call_span.0..call_span.1];
        let values = || args.iter().map(|a| a.value.as_str()).collect::<Vec<&str>>();
        let Some(kind) = MatcherKind::from_name(name) else {
            let names: Vec<&str> = MatcherKind::ALL.iter().map(|k| k.name()).collect();
            let message = format!("unknown matcher `{name}`; HTTP rules use {}", names.join(", "));
            return Err(self.error("SY3102", name_span, message, unknown_name_hints(name, &values(), whole())));
        };
        let (fewest, most) = kind.arity();
        let expected = match (fewest, most) {
            (1, 1) => "exactly 1 argument".to_string(),
            (2, 2) => "exactly 2 arguments".to_string(),
            (a, b) => format!("{a} or {b} arguments"),
        };
        if args.is_empty() {
            let message = format!("{name} takes {expected}, got none; write {}", kind.example());
            return Err(self.error("SY3103", call_span, message, Vec::new()));
        }
        if let Some(arg) = args.iter().find(|a| a.value.is_empty()) {
            let message = format!("empty argument to {name}; every argument needs a value, as in {}", kind.example());
            return Err(self.error("SY3104", arg.span, message, Vec::new()));
        }
        if args.len() < fewest || args.len() > most {
            let message = format!("{name} takes {expected}, got {}", args.len());
            return Err(self.error("SY3103", call_span, message, arity_hints(kind, &values(), whole())));
        }
        let first = &args[0];
        let compiled = match kind {
            MatcherKind::Path | MatcherKind::PathPrefix if !first.value.starts_with('/') => {
                let fixed = call_text(kind.name(), &[&format!("/{}", first.value)]);
                let message = format!("the path given to {name} must start with `/`; write {fixed}");
                return Err(self.error("SY3105", first.span, message, Vec::new()));
            }
            MatcherKind::Host | MatcherKind::HostRegexp if !first.value.is_ascii() => {
                let bad = first.value.find(|c: char| !c.is_ascii()).unwrap_or(0);
                let c = first.value[bad..].chars().next().unwrap_or('?');
                let span = self.char_span(source_offset(self.src, first.span, bad));
                let message =
                    format!("{name} accepts only ASCII, found `{c}`; write the domain in its punycode (xn--) form");
                return Err(self.error("SY3106", span, message, Vec::new()));
            }
            MatcherKind::ClientIP => match IpRange::parse(&first.value) {
                Ok(range) => Compiled::Ip(range),
                Err(why) => {
                    let message = format!(
                        "`{}` is neither an IP address nor a CIDR range{}; write an address such as `192.168.1.7` or \
                         `2001:db8::1`, or a range such as `192.168.1.0/24`",
                        first.value,
                        why.map(|why| format!(" ({why})")).unwrap_or_default()
                    );
                    return Err(self.error("SY3108", first.span, message, Vec::new()));
                }
            },
            _ => Compiled::Nothing,
        };
        let compiled = match kind.regexp_arg(args.len()) {
            Some(i) => {
                let arg = &args[i];
                match go_regex::compile(&arg.value) {
                    Ok(regex) => Compiled::Regex(regex),
                    Err(err) => {
                        let span = self.char_span(source_offset(self.src, arg.span, err.offset));
                        let message = format!(
                            "the regexp given to {name} does not compile: {}; fix the regexp (Go RE2 syntax), or \
                             escape special characters with `\\`",
                            err.message,
                        );
                        let mut hints = Vec::new();
                        if err.message.contains("unclosed group") || err.message.contains("unopened group") {
                            hints.push("a literal parenthesis is written `\\(` or `\\)`".to_string());
                        }
                        return Err(self.error("SY3107", span, message, hints));
                    }
                }
            }
            None => compiled,
        };
        Ok(Matcher { kind, name_span, args, compiled })
    }
}

/// Hints for a word used where an operator belongs.
fn operator_hints(word: &str) -> Vec<String> {
    let hint = match word {
        "&" | "and" | "AND" | "And" => "write `&&` for \"and\"",
        "|" | "or" | "OR" | "Or" => "write `||` for \"or\"",
        "not" | "NOT" | "Not" => "write `!` for \"not\"",
        "==" | "=" | "!=" => "rules have no comparisons; use a matcher such as Header(`X-Key`, `value`)",
        _ => return Vec::new(),
    };
    vec![hint.to_string()]
}

/// `Name(`a`, `b`)` with canonical quoting.
fn call_text(name: &str, values: &[&str]) -> String {
    let args: Vec<String> = values.iter().map(|v| quote(v)).collect();
    format!("{name}({})", args.join(", "))
}

/// `A || B` (parenthesised when part of a larger rule).
fn join(calls: Vec<String>, op: &str, whole: bool) -> String {
    let joined = calls.join(&format!(" {op} "));
    if whole || calls.len() < 2 { joined } else { format!("({joined})") }
}

/// Hints for an unknown name: the v3 replacement of a v2 matcher, a capitalisation fix, or the closest name.
fn unknown_name_hints(name: &str, values: &[&str], whole: bool) -> Vec<String> {
    let lower = name.to_ascii_lowercase();
    let v2 = match lower.as_str() {
        "hostheader" => Some(MatcherKind::Host),
        "headers" => Some(MatcherKind::Header),
        "headersregexp" => Some(MatcherKind::HeaderRegexp),
        _ => None,
    };
    if let Some(kind) = v2 {
        let replacement = if values.is_empty() {
            kind.example().to_string()
        } else if kind == MatcherKind::Host {
            join(values.iter().map(|v| call_text("Host", &[v])).collect(), "||", whole)
        } else {
            call_text(kind.name(), values)
        };
        return vec![format!("{name} is Traefik v2 syntax; in v3 write {replacement}")];
    }
    if matches!(lower.as_str(), "hostsni" | "hostsniregexp" | "alpn") {
        return vec![format!("{name} is a TCP router matcher; HTTP routers use Host or HostRegexp")];
    }
    if let Some(kind) = MatcherKind::ALL.into_iter().find(|k| k.name().eq_ignore_ascii_case(name)) {
        let exact = kind.name();
        let lower = exact.to_ascii_lowercase();
        let title = format!("{}{}", &exact[..1], &lower[1..]);
        return vec![format!(
            "matcher names are case-sensitive: write {exact} (or {lower}, {}, {title})",
            exact.to_ascii_uppercase()
        )];
    }
    let lowered: Vec<String> = MatcherKind::ALL.iter().map(|k| k.name().to_ascii_lowercase()).collect();
    match did_you_mean(&lower, lowered.iter().map(String::as_str)) {
        Some(found) => {
            let kind = MatcherKind::ALL.into_iter().find(|k| k.name().eq_ignore_ascii_case(found));
            kind.map(|k| vec![format!("did you mean {}?", k.name())]).unwrap_or_default()
        }
        None => Vec::new(),
    }
}

/// Hints for a wrong number of arguments: mostly Traefik v2's several-values forms.
fn arity_hints(kind: MatcherKind, values: &[&str], whole: bool) -> Vec<String> {
    let name = kind.name();
    let v2 = "Traefik v2 accepted several values here; in v3 combine one matcher per value";
    match kind {
        MatcherKind::Header | MatcherKind::HeaderRegexp if values.len() == 1 => {
            vec![format!("{name} takes a header name and a value: {}", call_text(name, &[values[0], "..."]))]
        }
        MatcherKind::Header | MatcherKind::HeaderRegexp => {
            let calls = values[1..].iter().map(|v| call_text(name, &[values[0], v])).collect();
            vec![format!("to accept any of several values write {}", join(calls, "||", whole))]
        }
        MatcherKind::Query | MatcherKind::QueryRegexp if values.iter().all(|v| v.contains('=')) => {
            let calls = values
                .iter()
                .map(|v| {
                    let (key, value) = v.split_once('=').unwrap_or((v, ""));
                    call_text(name, &[key, value])
                })
                .collect();
            vec![format!("Traefik v2 wrote `key=value` pairs; in v3 write {}", join(calls, "&&", whole))]
        }
        MatcherKind::Query | MatcherKind::QueryRegexp => {
            let calls = values[1..].iter().map(|v| call_text(name, &[values[0], v])).collect();
            vec![format!(
                "{name} takes a key and an optional value; for several values write {}",
                join(calls, "||", whole)
            )]
        }
        _ => {
            let calls = values.iter().map(|v| call_text(name, &[v])).collect();
            vec![format!("{v2}: {}", join(calls, "||", whole))]
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Printing

/// A value as a Go string literal: backticks when possible, else double quotes with escapes.
fn quote(value: &str) -> String {
    let raw = !value.chars().any(|c| c == '`' || c.is_control() || c == '\u{feff}');
    if raw { format!("`{value}`") } else { quote_interpreted(value) }
}

fn quote_interpreted(value: &str) -> String {
    let mut out = String::from("\"");
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_ascii_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if c.is_control() || c == '\u{feff}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let values: Vec<&str> = self.args.iter().map(|a| a.value.as_str()).collect();
        f.write_str(&call_text(self.kind.name(), &values))
    }
}

impl fmt::Display for Expr {
    /// The canonical form: names as Traefik documents them, backtick literals, parentheses only where the tree
    /// has them. It parses back to an equal tree.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Matcher(m) => write!(f, "{m}"),
            Expr::Not(inner) => match **inner {
                Expr::And(_) | Expr::Or(_) => write!(f, "!({inner})"),
                _ => write!(f, "!{inner}"),
            },
            Expr::And(items) => {
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" && ")?;
                    }
                    match item {
                        Expr::And(_) | Expr::Or(_) => write!(f, "({item})")?,
                        _ => write!(f, "{item}")?,
                    }
                }
                Ok(())
            }
            Expr::Or(items) => {
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" || ")?;
                    }
                    match item {
                        Expr::Or(_) => write!(f, "({item})")?,
                        _ => write!(f, "{item}")?,
                    }
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.expr)
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Lints

/// Warnings for a parsed rule; `source` is the text it was parsed from (for columns).
pub fn lint(rule: &Rule, source: &str) -> Vec<RuleLint> {
    fn walk(expr: &Expr, source: &str, lints: &mut Vec<RuleLint>) {
        match expr {
            Expr::Matcher(m) => lint_matcher(m, source, lints),
            Expr::Not(inner) => walk(inner, source, lints),
            Expr::And(items) | Expr::Or(items) => items.iter().for_each(|e| walk(e, source, lints)),
        }
    }
    let mut lints = Vec::new();
    walk(&rule.expr, source, &mut lints);
    lints
}

fn lint_matcher(m: &Matcher, source: &str, lints: &mut Vec<RuleLint>) {
    let mut push = |code: &'static str, span: (usize, usize), message: String, hints: Vec<String>| {
        let col = column(source, span.0);
        lints.push(RuleLint { code, message: format!("column {col}: {message}"), column: col, span, hints });
    };
    let name = m.kind.name();
    let first = m.args.first().map_or((0, 0), |a| a.span);
    let value = m.arg(0);
    match m.kind {
        MatcherKind::Host | MatcherKind::Path | MatcherKind::PathPrefix if !placeholders(value).is_empty() => {
            let (target, default) = match m.kind {
                MatcherKind::Host => ("HostRegexp", "[^.]+"),
                _ => ("PathRegexp", "[^/]+"),
            };
            let end = if m.kind == MatcherKind::PathPrefix { "" } else { "$" };
            let regexp = format!("^{}{end}", placeholders_to_regexp(value, default, true));
            let message = format!(
                "{name}(`{value}`) contains a Traefik v2 placeholder; v3 matches it literally, braces included; use \
                 {target} with a plain regexp"
            );
            push("SY3151", first, message, vec![format!("write {}", call_text(target, &[&regexp]))]);
        }
        MatcherKind::Host if value.contains('*') => {
            let hint = if value == "*" {
                "to match any host, leave the Host matcher out".to_string()
            } else {
                let regexp = format!("^{}$", regex_escape(value).replace(r"\*", "[^.]+"));
                format!("write {}", call_text("HostRegexp", &[&regexp]))
            };
            let message = format!("Host(`{value}`) matches only the literal host `{value}`: v3 has no wildcard hosts");
            push("SY3153", first, message, vec![hint]);
        }
        MatcherKind::Header | MatcherKind::HeaderRegexp if value.eq_ignore_ascii_case("host") => {
            let message = format!(
                "{name}(`{value}`, ...) never matches: Go moves the Host header out of the header map; use Host or \
                 HostRegexp"
            );
            let target = if m.kind == MatcherKind::Header { "Host" } else { "HostRegexp" };
            push("SY3156", first, message, vec![format!("write {}", call_text(target, &[m.arg(1)]))]);
        }
        MatcherKind::Query | MatcherKind::QueryRegexp if value.contains('=') => {
            let (key, val) = value.split_once('=').unwrap_or((value, ""));
            let message = format!(
                "{name}(`{value}`) looks for a query key named `{value}`; Traefik v2's `key=value` form is two \
                 arguments in v3"
            );
            push("SY3155", first, message, vec![format!("write {}", call_text(name, &[key, val]))]);
        }
        MatcherKind::Method => {
            const METHODS: [&str; 9] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE"];
            let upper = value.to_uppercase();
            if !METHODS.contains(&upper.as_str()) {
                let hints = match did_you_mean(&upper, METHODS) {
                    Some(method) => vec![format!("did you mean Method(`{method}`)?")],
                    None => Vec::new(),
                };
                push("SY3158", first, format!("Method(`{value}`) is not a standard HTTP method"), hints);
            }
        }
        MatcherKind::ClientIP => {
            if let Compiled::Ip(range) = &m.compiled
                && value.contains('/')
                && range.network() != range.addr
            {
                let fixed = format!("{}/{}", range.network(), range.prefix);
                let message = format!("ClientIP(`{value}`) has host bits set; it means {fixed}");
                push("SY3159", first, message, vec![format!("write ClientIP(`{fixed}`)")]);
            }
        }
        _ => {}
    }
    if let Some(i) = m.kind.regexp_arg(m.args.len()) {
        let arg = &m.args[i];
        let pattern = arg.value.as_str();
        let found = placeholders(pattern);
        if !found.is_empty() {
            let default = if m.kind == MatcherKind::HostRegexp { "[^.]+" } else { "[^/]+" };
            let mut fixed = placeholders_to_regexp(pattern, default, false);
            if m.kind == MatcherKind::HostRegexp && !fixed.starts_with('^') {
                fixed = format!("^{fixed}$");
            }
            let mut values: Vec<&str> = m.args.iter().map(|a| a.value.as_str()).collect();
            values[i] = &fixed;
            let message = format!(
                "`{}` in {name} is a Traefik v2 placeholder; a v3 (Go) regexp reads its braces and name as literal \
                 text, so real requests do not match; write the regexp alone",
                found[0]
            );
            push("SY3152", arg.span, message, vec![format!("write {}", call_text(name, &values))]);
        } else if m.kind == MatcherKind::HostRegexp && !anchored(pattern) {
            let fixed = format!("^{}$", pattern.trim_start_matches('^').trim_end_matches('$'));
            let message = format!(
                "HostRegexp(`{pattern}`) is not anchored: a Go regexp matches anywhere in the host, so other domains \
                 containing it match too"
            );
            push("SY3154", arg.span, message, vec![format!("write {}", call_text("HostRegexp", &[&fixed]))]);
        }
        if !m.simulable() {
            let message = format!(
                "the request simulator cannot evaluate this {name} regexp (it uses \\p{{..}} classes or is very \
                 large); Traefik can, but simulated requests never match it"
            );
            push("SY3157", arg.span, message, Vec::new());
        }
    }
}

/// Whether a HostRegexp pattern is anchored at both ends (after optional leading flags).
fn anchored(pattern: &str) -> bool {
    let mut p = pattern;
    while let Some(rest) = p.strip_prefix("(?") {
        match rest.find(')') {
            Some(end) if rest[..end].chars().all(|c| "imsU-".contains(c)) => p = &rest[end + 1..],
            _ => break,
        }
    }
    (p.starts_with('^') || p.starts_with(r"\A")) && (p.ends_with('$') || p.ends_with(r"\z"))
}

/// Traefik v2 placeholders in a value: `{name}` or `{name:regexp}` (braces inside the regexp balanced).
fn placeholders(value: &str) -> Vec<&str> {
    placeholder_spans(value).into_iter().map(|(s, e, _)| &value[s..e]).collect()
}

/// (start, end, regexp) of each placeholder.
fn placeholder_spans(value: &str) -> Vec<(usize, usize, Option<&str>)> {
    let bytes = value.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(rel) = value[i..].find('{') {
        let start = i + rel;
        let name_len = value[start + 1..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(value.len() - start - 1);
        let after = start + 1 + name_len;
        let starts_with_letter = value[start + 1..].starts_with(|c: char| c.is_ascii_alphabetic() || c == '_');
        // `\{` is a literal brace and `\p{L}`, `\x{41}` are regexp escapes, not placeholders.
        let escaped =
            value[..start].ends_with('\\') || [r"\p", r"\P", r"\x"].iter().any(|e| value[..start].ends_with(e));
        if !starts_with_letter || escaped {
            i = start + 1;
            continue;
        }
        match bytes.get(after) {
            Some(b'}') => {
                out.push((start, after + 1, None));
                i = after + 1;
            }
            Some(b':') => {
                let mut depth = 1;
                let mut j = after + 1;
                while j < bytes.len() {
                    match bytes[j] {
                        b'\\' => j += 1,
                        b'{' => depth += 1,
                        b'}' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                }
                if j < bytes.len() && value.is_char_boundary(j) {
                    out.push((start, j + 1, Some(&value[after + 1..j])));
                    i = j + 1;
                } else {
                    i = start + 1;
                }
            }
            _ => i = start + 1,
        }
    }
    out
}

/// Replaces placeholders by groups of their regexps (`default` when they have none); with `escape`, the text
/// around them is a literal to escape.
fn placeholders_to_regexp(value: &str, default: &str, escape: bool) -> String {
    let mut out = String::new();
    let mut last = 0;
    for (start, end, regexp) in placeholder_spans(value) {
        let text = &value[last..start];
        out.push_str(&if escape { regex_escape(text) } else { text.to_string() });
        let regexp = regexp.unwrap_or(default);
        if fully_grouped(regexp) {
            out.push_str(regexp);
        } else {
            out.push_str(&format!("({regexp})"));
        }
        last = end;
    }
    let text = &value[last..];
    out.push_str(&if escape { regex_escape(text) } else { text.to_string() });
    out
}

/// Whether a regexp is one group, `(...)`, from its first to its last character.
fn fully_grouped(regexp: &str) -> bool {
    let bytes = regexp.as_bytes();
    if bytes.first() != Some(&b'(') || bytes.last() != Some(&b')') {
        return false;
    }
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'(' => depth += 1,
            b')' => {
                depth = depth.saturating_sub(1);
                if depth == 0 && i + 1 < bytes.len() {
                    return false;
                }
            }
            _ => {}
        }
        i += 1;
    }
    depth == 0
}

fn regex_escape(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if r"\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

// ---------------------------------------------------------------------------------------------------------------
// Matching

/// A request as the simulator sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    /// The `Host` header (or URL authority), port allowed: `example.com:8443`, `[::1]:80`.
    pub host: String,
    /// The routing path: Traefik matches the request's escaped path with only unreserved characters decoded
    /// (`%20` becomes a space, `%2F` stays `%2F`).
    pub path: String,
    pub method: String,
    /// Header values by lower-cased name (names are compared case-insensitively anyway).
    pub headers: BTreeMap<String, Vec<String>>,
    /// Decoded query parameters in order; a parameter without `=` has the value "".
    pub query: Vec<(String, String)>,
    /// The TCP peer address (Traefik's ClientIP uses the remote address, never X-Forwarded-For).
    pub client_ip: Option<IpAddr>,
}

impl Request {
    /// A request with `method`, `host` and `path`, nothing else.
    pub fn new(method: &str, host: &str, path: &str) -> Self {
        Request { host: host.to_string(), path: path.to_string(), method: method.to_string(), ..Request::default() }
    }

    /// Adds a header value (the name is stored lower-cased).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.entry(name.to_ascii_lowercase()).or_default().push(value.to_string());
        self
    }

    /// Adds a query parameter.
    pub fn query(mut self, key: &str, value: &str) -> Self {
        self.query.push((key.to_string(), value.to_string()));
        self
    }

    pub fn client_ip(mut self, ip: IpAddr) -> Self {
        self.client_ip = Some(ip);
        self
    }
}

impl Rule {
    /// Whether Traefik v3 would match `req` with this rule.
    pub fn matches(&self, req: &Request) -> bool {
        self.expr.matches(req)
    }
}

impl Expr {
    pub fn matches(&self, req: &Request) -> bool {
        match self {
            Expr::Matcher(m) => m.matches(req),
            Expr::Not(inner) => !inner.matches(req),
            Expr::And(items) => items.iter().all(|e| e.matches(req)),
            Expr::Or(items) => items.iter().any(|e| e.matches(req)),
        }
    }
}

impl Matcher {
    /// Traefik v3's semantics (`pkg/muxer/http/matcher.go`):
    /// - `Host`: the request host lower-cased, port removed, equals the value lower-cased; a trailing dot on
    ///   either side is ignored. (CNAME flattening is not simulated.)
    /// - `HostRegexp`, `PathRegexp`, `HeaderRegexp`, `QueryRegexp`: Go's `MatchString`, which is **not anchored**:
    ///   the pattern matches anywhere unless it has `^`/`$`. `HostRegexp` sees the lower-cased host without port.
    /// - `Path`: equal; `PathPrefix`: starts with (byte-wise, so `/api` also matches `/apis`).
    /// - `Method`: equal to the value upper-cased.
    /// - `Header`: one of the header's values equals the value exactly; `Host` is never a header in Go.
    /// - `Query(key, value)`: one of the key's values equals the value. `Query(key)` compares with the empty
    ///   value: it matches `?key` and `?key=`, **not** `?key=1` (read from Traefik's code, not run).
    ///   `QueryRegexp` with one argument is `Query`.
    /// - `ClientIP`: the peer address equals the IP or is within the CIDR (IPv4-mapped IPv6 addresses count as
    ///   IPv4). No peer address: no match.
    /// - A regexp `regex-lite` cannot run (see SY3157): no match.
    pub fn matches(&self, req: &Request) -> bool {
        let value = self.arg(0);
        match self.kind {
            MatcherKind::Host => {
                let req_host = canonical_host(&req.host);
                let host = value.to_ascii_lowercase();
                !req_host.is_empty()
                    && (req_host == host
                        || host.strip_suffix('.') == Some(req_host.as_str())
                        || req_host.strip_suffix('.') == Some(host.as_str()))
            }
            MatcherKind::HostRegexp => self.regex_matches(&canonical_host(&req.host)),
            MatcherKind::Path => req.path == value,
            MatcherKind::PathPrefix => req.path.starts_with(value),
            MatcherKind::PathRegexp => self.regex_matches(&req.path),
            MatcherKind::Method => req.method == value.to_uppercase(),
            MatcherKind::ClientIP => match (&self.compiled, req.client_ip) {
                (Compiled::Ip(range), Some(ip)) => range.contains(ip),
                _ => false,
            },
            MatcherKind::Header | MatcherKind::HeaderRegexp => {
                if value.eq_ignore_ascii_case("host") {
                    return false;
                }
                let mut values = req.headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case(value)).flat_map(|(_, v)| v);
                if self.kind == MatcherKind::Header {
                    values.any(|v| v == self.arg(1))
                } else {
                    values.any(|v| self.regex_matches(v))
                }
            }
            MatcherKind::Query | MatcherKind::QueryRegexp => {
                let mut values = req.query.iter().filter(|(k, _)| k == value).map(|(_, v)| v).peekable();
                if values.peek().is_none() {
                    return false;
                }
                if self.kind == MatcherKind::QueryRegexp && self.args.len() == 2 {
                    values.any(|v| self.regex_matches(v))
                } else {
                    values.any(|v| v == self.arg(1))
                }
            }
        }
    }

    fn regex_matches(&self, text: &str) -> bool {
        match &self.compiled {
            Compiled::Regex(Some(re)) => re.is_match(text),
            _ => false,
        }
    }
}

/// Traefik's canonical host: port removed (Go's `net.SplitHostPort`, brackets of a bare IPv6 literal dropped),
/// lower-cased.
fn canonical_host(host: &str) -> String {
    let bare = if !host.contains(':') {
        host
    } else if let Some(rest) = host.strip_prefix('[') {
        match rest.find(']') {
            Some(end) if rest[end + 1..].starts_with(':') || end + 1 == rest.len() => &rest[..end],
            _ => host,
        }
    } else {
        match host.rsplit_once(':') {
            Some((name, _)) if !name.contains(':') => name,
            _ => host,
        }
    };
    bare.to_lowercase()
}

/// An IP address (all bits significant) or a CIDR range, as Traefik's `ip.Checker` reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct IpRange {
    addr: IpAddr,
    prefix: u8,
    single: bool,
}

impl IpRange {
    /// Go's `net.ParseIP`, then `net.ParseCIDR`.
    /// The error says what is wrong with a CIDR (`None`: not an address at all).
    fn parse(text: &str) -> Result<IpRange, Option<&'static str>> {
        if let Ok(addr) = text.parse::<IpAddr>() {
            let prefix = if addr.is_ipv4() { 32 } else { 128 };
            return Ok(IpRange { addr, prefix, single: true });
        }
        let Some((addr, bits)) = text.split_once('/') else {
            return Err(None);
        };
        let addr: IpAddr = addr.parse().map_err(|_| Some("the part before `/` is not an IP address"))?;
        let valid_bits = !bits.is_empty()
            && bits.bytes().all(|b| b.is_ascii_digit())
            && !(bits.len() > 1 && bits.starts_with('0'))
            && bits.len() <= 3;
        let prefix: u8 = if valid_bits { bits.parse().unwrap_or(u8::MAX) } else { u8::MAX };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if prefix > max {
            return Err(Some(if addr.is_ipv4() {
                "the prefix length after `/` must be 0-32"
            } else {
                "the prefix length after `/` must be 0-128"
            }));
        }
        Ok(IpRange { addr, prefix, single: false })
    }

    fn bits(addr: IpAddr) -> u128 {
        match addr {
            IpAddr::V4(v4) => u128::from(u32::from(v4)),
            IpAddr::V6(v6) => u128::from(v6),
        }
    }

    fn mask(&self) -> u128 {
        let width = if self.addr.is_ipv4() { 32 } else { 128 };
        let host_bits = u32::from(width - self.prefix);
        let all = if width == 32 { u128::from(u32::MAX) } else { u128::MAX };
        all.checked_shl(host_bits).map_or(0, |m| m & all)
    }

    /// The network address (host bits cleared).
    fn network(&self) -> IpAddr {
        let bits = IpRange::bits(self.addr) & self.mask();
        match self.addr {
            IpAddr::V4(_) => IpAddr::V4(u32::try_from(bits).unwrap_or(0).into()),
            IpAddr::V6(_) => IpAddr::V6(bits.into()),
        }
    }

    fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        if self.single {
            return self.addr.to_canonical() == ip;
        }
        // Go's IPNet.Contains: an IPv4 (or IPv4-mapped) address only ever matches a network written as IPv4.
        if ip.is_ipv4() != self.addr.is_ipv4() {
            return false;
        }
        IpRange::bits(ip) & self.mask() == IpRange::bits(self.addr) & self.mask()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(rule: &str) -> Rule {
        parse(rule).unwrap_or_else(|e| panic!("{rule}: {e}"))
    }

    fn e(rule: &str) -> RuleError {
        parse(rule).expect_err(rule)
    }

    #[test]
    fn precedence_and_structure() {
        let rule = p("Host(`a`) || Host(`b`) && Path(`/c`)");
        let Expr::Or(items) = &rule.expr else { panic!("{rule:?}") };
        assert_eq!(items.len(), 2);
        assert!(matches!(&items[1], Expr::And(and) if and.len() == 2));
        assert_eq!(rule.to_string(), "Host(`a`) || Host(`b`) && Path(`/c`)");
        assert_eq!(p("(Host(`a`) || Host(`b`)) && Path(`/c`)").to_string(), "(Host(`a`) || Host(`b`)) && Path(`/c`)");
        assert_eq!(p("!(!(Host(`a`) && pathprefix(`/c`)))").to_string(), "!!(Host(`a`) && PathPrefix(`/c`))");
        assert_eq!(p("((Host(`a`)))").to_string(), "Host(`a`)");
        assert_eq!(p("Host(`a`) && (Host(`b`) && Host(`c`))").to_string(), "Host(`a`) && (Host(`b`) && Host(`c`))");
        assert_eq!(p("!Host(`a`) || !Path(`/`)").to_string(), "!Host(`a`) || !Path(`/`)");
    }

    #[test]
    fn names_spans_and_strings() {
        for name in ["HostRegexp", "hostregexp", "HOSTREGEXP", "Hostregexp"] {
            assert_eq!(MatcherKind::from_name(name), Some(MatcherKind::HostRegexp), "{name}");
        }
        for name in ["hostRegexp", "HostRegExp", "HOSTregexp"] {
            assert_eq!(MatcherKind::from_name(name), None, "{name}");
        }
        let rule = p("  Header(`X-A`, \"v\\x41\\u00e9\\101\\t\")");
        let m = rule.matchers()[0];
        assert_eq!(m.name_span, (2, 8));
        assert_eq!(m.args[0].span, (9, 14));
        assert_eq!(m.args[1].span, (16, 35));
        assert_eq!(m.arg(1), "vAéA\t");
        assert_eq!(rule.to_string(), "Header(`X-A`, \"vAéA\\t\")");
        assert_eq!(p("Path(`/a\r\nb`)").matchers()[0].arg(0), "/a\nb");
        assert_eq!(p("Path(\"/a`b\")").to_string(), "Path(\"/a`b\")");
        // Go call syntax: trailing comma; comments; a line break after an operator.
        assert_eq!(p("Host(`a`,) /* x */ &&\n Path(`/`) // end").to_string(), "Host(`a`) && Path(`/`)");
        assert_eq!(p("Host(`a`)\n").to_string(), "Host(`a`)");
        assert_eq!(default_priority("Host(`é`)"), 10);
    }

    #[test]
    fn errors_point_at_the_problem() {
        let cases: [(&str, &str, usize); 22] = [
            ("", "SY3114", 1),
            ("Host(example.com)", "SY3101", 6),
            ("Host('example.com')", "SY3109", 6),
            ("Host(`1)", "SY3110", 6),
            ("Host(\"a\nb\")", "SY3110", 6),
            ("Host(\"\\q\")", "SY3111", 7),
            ("Host(\"\\xff\")", "SY3112", 6),
            ("w(`1`)", "SY3102", 1),
            ("Host(`a`) && hostheader(`b`)", "SY3102", 14),
            ("Host(`a`, `b`)", "SY3103", 1),
            ("Header(`X`, ``)", "SY3104", 13),
            ("Path(`css`)", "SY3105", 6),
            ("Host(`bücher.de`)", "SY3106", 8),
            ("PathRegexp(`/(css`)", "SY3107", 14),
            ("ClientIP(`10.0.0.0/33`)", "SY3108", 10),
            ("Host(`1`) &&", "SY3101", 11),
            ("Host(`1`))", "SY3101", 10),
            ("(Host(`1`)", "SY3101", 1),
            ("Host(`a`)\n&& Path(`/`)", "SY3101", 10),
            ("Host(`a`) Path(`/`)", "SY3101", 11),
            ("Host(`a`) & Path(`/`)", "SY3101", 11),
            ("é(`a`) && Höst", "SY3102", 11),
        ];
        for (rule, code, col) in cases {
            let err = e(rule);
            assert_eq!((err.code, err.column), (code, col), "{rule}: {err}");
            assert!(err.message.starts_with(&format!("column {col}: ")), "{}", err.message);
        }
        // Syntax errors win over earlier semantic ones, as in Go.
        assert_eq!(e("w(`1`) && Host(").code, "SY3101");
        assert_eq!(e("PathRegexp(`/(css`)").span, (13, 14));
        assert_eq!(e("PathRegexp(\"\\t(css\")").column, 15);
        assert_eq!(e("PathRegexp(\"\\u00e9(\")").column, 19);
    }

    #[test]
    fn v2_hints() {
        let hint = |rule: &str| e(rule).hints.join(" | ");
        assert_eq!(hint("HostHeader(`a`, `b`)"), "HostHeader is Traefik v2 syntax; in v3 write Host(`a`) || Host(`b`)");
        assert_eq!(hint("Headers(`X`, `v`)"), "Headers is Traefik v2 syntax; in v3 write Header(`X`, `v`)");
        assert_eq!(
            hint("HeadersRegexp(`X`, `v`)"),
            "HeadersRegexp is Traefik v2 syntax; in v3 write HeaderRegexp(`X`, `v`)"
        );
        assert!(hint("Host(`a`, `b`) && Path(`/`)").ends_with("(Host(`a`) || Host(`b`))"));
        assert!(hint("ClientIP(`1.2.3.4`, `10.0.0.0/8`)").ends_with("ClientIP(`1.2.3.4`) || ClientIP(`10.0.0.0/8`)"));
        assert_eq!(
            hint("Query(`a=1`, `b=2`, `c=3`)"),
            "Traefik v2 wrote `key=value` pairs; in v3 write Query(`a`, `1`) && Query(`b`, `2`) && Query(`c`, `3`)"
        );
        assert_eq!(hint("PathPrefx(`/`)"), "did you mean PathPrefix?");
        assert!(hint("ClientIp(`1.2.3.4`)").starts_with("matcher names are case-sensitive: write ClientIP"));
        assert!(hint("Host(`a`) and Path(`/`)").contains("write `&&`"));
    }

    #[test]
    fn nesting_is_bounded() {
        let ok = format!("{}Host(`a`){}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert!(parse(&ok).is_ok());
        let deep = format!("{}Host(`a`){}", "(".repeat(MAX_DEPTH + 1), ")".repeat(MAX_DEPTH + 1));
        assert_eq!(e(&deep).code, "SY3113");
        assert_eq!(e(&"!".repeat(100_000)).code, "SY3113");
        assert_eq!(e(&"(!".repeat(100_000)).code, "SY3113");
        let long = vec!["Host(`example.com`)"; 5000].join(" || ");
        assert_eq!(p(&long).matchers().len(), 5000);
    }

    #[test]
    fn matching_follows_traefik() {
        let req = Request::new("GET", "Example.COM:8443", "/api/v1")
            .header("X-Forwarded-Proto", "https")
            .query("q", "traefik")
            .query("mobile", "")
            .client_ip("192.168.1.7".parse().unwrap());
        let yes = [
            "Host(`example.com`)",
            "Host(`EXAMPLE.com.`)",
            "HostRegexp(`example`)",
            r"HostRegexp(`^example\.com$`)",
            "Path(`/api/v1`)",
            "PathPrefix(`/api`)",
            "PathRegexp(`v[0-9]`)",
            "Method(`get`)",
            "ClientIP(`192.168.1.0/24`)",
            "ClientIP(`192.168.1.7`)",
            "Header(`x-forwarded-proto`, `https`)",
            "HeaderRegexp(`X-Forwarded-Proto`, `^https?$`)",
            "Query(`q`, `traefik`)",
            "Query(`mobile`)",
            "QueryRegexp(`q`, `^tr`)",
            "!Host(`other.com`) && (Path(`/x`) || Method(`GET`))",
        ];
        for rule in yes {
            assert!(p(rule).matches(&req), "{rule}");
        }
        let no = [
            "Host(`example.com:8443`)",
            "Path(`/api`)",
            "PathRegexp(`^v1`)",
            "Method(`POST`)",
            "ClientIP(`10.0.0.0/8`)",
            "ClientIP(`::ffff:c0a8:0/120`)",
            "Header(`X-Forwarded-Proto`, `HTTPS`)",
            "Header(`Host`, `example.com`)",
            "Query(`q`)",
            "Query(`missing`)",
            r"HostRegexp(`\p{L}+`)",
            "HostRegexp(`{sub:[a-z]+}.example.com`)",
        ];
        for rule in no {
            assert!(!p(rule).matches(&req), "{rule}");
        }
        assert!(
            p("ClientIP(`192.168.1.7`)").matches(&Request::default().client_ip("::ffff:192.168.1.7".parse().unwrap()))
        );
        assert!(p("Host(`10::10`)").matches(&Request::new("GET", "10::10", "/")));
        assert!(p("Host(`::1`)").matches(&Request::new("GET", "[::1]:80", "/")));
        assert!(!p("Host(`a`)").matches(&Request::default()));
    }

    #[test]
    fn lints() {
        let codes = |rule: &str| -> Vec<&'static str> { lint(&p(rule), rule).iter().map(|l| l.code).collect() };
        assert_eq!(codes("Host(`{sub:[a-z]+}.example.com`)"), ["SY3151"]);
        assert_eq!(codes("HostRegexp(`{domain:[a-z]+\\.com}`)"), ["SY3152"]);
        assert_eq!(codes("Host(`*.example.com`)"), ["SY3153"]);
        assert_eq!(codes(r"HostRegexp(`example\.com`)"), ["SY3154"]);
        assert_eq!(codes("Query(`a=b`)"), ["SY3155"]);
        assert_eq!(codes("Header(`host`, `a`)"), ["SY3156"]);
        assert_eq!(codes(r"HostRegexp(`^\p{L}+$`)"), ["SY3157"]);
        assert_eq!(codes("Method(`GTE`)"), ["SY3158"]);
        assert_eq!(codes("ClientIP(`10.1.2.3/8`)"), ["SY3159"]);
        assert!(codes("Host(`a.com`) && PathPrefix(`/a`) && Method(`get`) && ClientIP(`10.0.0.0/8`)").is_empty());
        let rule = "Path(`/api/{id:[0-9]+}`)";
        let lints = lint(&p(rule), rule);
        assert_eq!(lints[0].hints, ["write PathRegexp(`^/api/([0-9]+)$`)"]);
        assert_eq!(lints[0].column, 6);
        let rule = "Host(`{sub}.example.com`)";
        assert_eq!(lint(&p(rule), rule)[0].hints, [r"write HostRegexp(`^([^.]+)\.example\.com$`)"]);
        let rule = "Host(`*.example.com`)";
        assert_eq!(lint(&p(rule), rule)[0].hints, [r"write HostRegexp(`^[^.]+\.example\.com$`)"]);
        let diagnostic = lint(&p(rule), rule)[0].to_diagnostic("http.routers.web.rule");
        assert_eq!(diagnostic.severity, switchyard_diagnostics::Severity::Warning);
        assert_eq!(diagnostic.path.as_deref(), Some("http.routers.web.rule"));
    }

    #[test]
    fn diagnostics() {
        let d = e("Host(`a`, `b`)").to_diagnostic("http.routers.web.rule");
        assert_eq!(d.code, "SY3103");
        assert!(d.is_error());
        assert_eq!(d.hints.len(), 1);
    }
}
