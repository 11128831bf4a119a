//! The lexer: a rule's tokens as Go's scanner gives them (names, strings, operators, parentheses, commas), with
//! Go's comments and automatic semicolons.

use super::display::*;
use super::unquote::*;
use super::*;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Ident,
    Str(String),
    LParen,
    RParen,
    Comma,
    And,
    Or,
    Not,
    /// `...`: Go's variadic spread, allowed after a call's last argument (`Host(`a`...)`); Traefik ignores it.
    Ellipsis,
    /// A line break where Go inserts a semicolon.
    Newline,
    Eof,
    /// Anything else Go's scanner would return (a number, `&`, `==`, `#`...): never valid in a rule.
    Other,
}

#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub(crate) tok: Tok,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

pub(crate) struct Lexer<'a> {
    pub(crate) src: &'a str,
    pub(crate) pos: usize,
    /// Whether a line break here would end the expression (after a name, a string or `)`).
    pub(crate) semicolon: bool,
}

impl<'a> Lexer<'a> {
    pub(crate) fn error(
        &self,
        code: &'static str,
        span: (usize, usize),
        message: String,
        hints: Vec<String>,
    ) -> RuleError {
        let col = column(self.src, span.0);
        RuleError { code, message: format!("column {col}: {message}"), column: col, span, hints }
    }

    pub(crate) fn next_token(&mut self) -> Result<Token, RuleError> {
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
            '.' if self.src[start..].starts_with("...") => (Tok::Ellipsis, start + 3),
            '`' => self.raw_string(start)?,
            '"' => self.interpreted_string(start)?,
            '\'' => return Err(self.single_quoted(start)),
            '\0' | '\u{feff}' => {
                let name = if c == '\0' { "NUL" } else { "byte order mark" };
                let message = format!("illegal character {name}; remove it");
                return Err(self.error("SY3101", (start, start + c.len_utf8()), message, Vec::new()));
            }
            c if go_letter(c) => {
                let len =
                    self.src[start..].find(|c: char| !(go_letter(c) || go_digit(c))).unwrap_or(self.src.len() - start);
                (Tok::Ident, start + len)
            }
            c if c.is_ascii_digit() => {
                let len = self.src[start..]
                    .find(|c: char| !(c == '_' || c == '.' || c.is_ascii_alphanumeric()))
                    .unwrap_or(self.src.len() - start);
                (Tok::Other, start + len)
            }
            c if !c.is_ascii() => {
                // Go's scanner: a character that is no letter, digit or operator is illegal where it stands.
                let message = format!("illegal character U+{:04X}; remove it", u32::from(c));
                return Err(self.error("SY3101", (start, start + c.len_utf8()), message, Vec::new()));
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

    pub(crate) fn newline(&mut self, start: usize, end: usize) -> Token {
        self.pos = end;
        self.semicolon = false;
        Token { tok: Tok::Newline, start, end }
    }

    pub(crate) fn raw_string(&self, start: usize) -> Result<(Tok, usize), RuleError> {
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

    pub(crate) fn interpreted_string(&self, start: usize) -> Result<(Tok, usize), RuleError> {
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

    pub(crate) fn single_quoted(&self, start: usize) -> RuleError {
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

/// A letter as Go's scanner reads identifiers: `_`, an ASCII letter, or a character of Unicode's category L
/// (`unicode.IsLetter`). Rust's `char::is_alphabetic` also takes letter numbers and the marks that are "other
/// alphabetic" (`U+065F`), which Go calls illegal characters.
fn go_letter(c: char) -> bool {
    c == '_' || c.is_ascii_alphabetic() || (!c.is_ascii() && in_category(unicode_class(&LETTERS, r"\p{L}"), c))
}

/// A digit as Go's scanner reads identifiers: an ASCII digit or a character of category Nd (`unicode.IsDigit`).
fn go_digit(c: char) -> bool {
    c.is_ascii_digit() || (!c.is_ascii() && in_category(unicode_class(&DIGITS, r"\p{Nd}"), c))
}

static LETTERS: std::sync::OnceLock<Vec<(char, char)>> = std::sync::OnceLock::new();
static DIGITS: std::sync::OnceLock<Vec<(char, char)>> = std::sync::OnceLock::new();

/// The ranges of the Unicode class `pattern` (`\p{L}`), from regex-syntax's tables, made once.
fn unicode_class(cell: &'static std::sync::OnceLock<Vec<(char, char)>>, pattern: &str) -> &'static [(char, char)] {
    cell.get_or_init(|| {
        let hir = regex_syntax::ParserBuilder::new().build().parse(pattern);
        match hir.as_ref().map(regex_syntax::hir::Hir::kind) {
            Ok(regex_syntax::hir::HirKind::Class(regex_syntax::hir::Class::Unicode(class))) => {
                class.ranges().iter().map(|r| (r.start(), r.end())).collect()
            }
            _ => Vec::new(),
        }
    })
}

fn in_category(ranges: &[(char, char)], c: char) -> bool {
    ranges
        .binary_search_by(|&(start, end)| {
            if end < c {
                std::cmp::Ordering::Less
            } else if start > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}
