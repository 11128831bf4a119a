//! Env files as Compose reads them: `KEY=value` lines, quoting, escapes and interpolation.

use std::collections::BTreeMap;

use switchyard_diagnostics::{Diagnostic, Location};

use crate::interpolate::*;
use crate::walk::*;

/// Parses an env file (`NAME=value` lines, `#` comments, blank lines, an optional `export `, values in single
/// quotes taken literally, in double quotes with `\n`, `\t`, `\"`, `\\` escapes; both quotes may span lines).
/// Unquoted and double-quoted values are interpolated with the names defined earlier in the file, then
/// `variables`. Problems go to `out`, located in `file`.
pub fn parse_env_file(
    contents: &str,
    file: &str,
    variables: &BTreeMap<String, String>,
    out: &mut Vec<Diagnostic>,
) -> Vec<(String, String)> {
    let lines: Vec<&str> = contents.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).collect();
    let mut scope = variables.clone();
    let mut entries = Vec::new();
    let at = |line: usize, column: usize| Location { file: file.to_string(), line: line + 1, column: column + 1 };
    let mut n = 0;
    while n < lines.len() {
        let start = n;
        let line = lines[n];
        n += 1;
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let body = trimmed.strip_prefix("export ").map(str::trim_start).unwrap_or(trimmed);
        let key_col = indent + (trimmed.len() - body.len());
        let (key, value) = match body.split_once('=') {
            Some((k, v)) => (k.trim_end(), Some(v.trim_start())),
            None => (body.trim_end(), None),
        };
        if let Err(e) = check_env_name(key) {
            let mut d = Diagnostic::error("SY0543", format!("the variable name {key:?} {e}"))
                .hint("write lines as NAME=value; comments start with #");
            d.location = Some(at(start, key_col));
            out.push(d);
            continue;
        }
        let Some(raw) = value else {
            match scope.get(key) {
                Some(v) => entries.push((key.to_string(), v.clone())),
                None => {
                    let mut d = Diagnostic::warning(
                        "SY0541",
                        format!("`{key}` has no value and no switchyard variable of that name exists; it is left out"),
                    );
                    d.location = Some(at(start, key_col));
                    out.push(d);
                }
            }
            continue;
        };
        let value_col = line.len() - raw.len();
        let parsed = if let Some(rest) = raw.strip_prefix('\'') {
            // Single quotes: literal, to the next single quote, maybe on a later line.
            let mut acc = rest.to_string();
            loop {
                if let Some(end) = acc.find('\'') {
                    let tail = acc[end + 1..].trim();
                    if !tail.is_empty() && !tail.starts_with('#') {
                        push_env_error(out, at(start, value_col), "has text after the closing quote");
                    }
                    acc.truncate(end);
                    break Some((acc, false));
                }
                if n >= lines.len() {
                    push_env_error(out, at(start, value_col), "has a single quote that is not closed");
                    break None;
                }
                acc.push('\n');
                acc.push_str(lines[n]);
                n += 1;
            }
        } else if let Some(rest) = raw.strip_prefix('"') {
            let mut acc = rest.to_string();
            loop {
                match unescape_double(&acc) {
                    Some((value, tail)) => {
                        let tail = tail.trim();
                        if !tail.is_empty() && !tail.starts_with('#') {
                            push_env_error(out, at(start, value_col), "has text after the closing quote");
                        }
                        break Some((value, true));
                    }
                    None if n >= lines.len() => {
                        push_env_error(out, at(start, value_col), "has a double quote that is not closed");
                        break None;
                    }
                    None => {
                        acc.push('\n');
                        acc.push_str(lines[n]);
                        n += 1;
                    }
                }
            }
        } else {
            // Unquoted: an inline comment starts at ` #`.
            let cut = raw.find(" #").or_else(|| raw.find("\t#")).unwrap_or(raw.len());
            Some((raw[..cut].trim_end().to_string(), true))
        };
        let Some((text, interpolate_it)) = parsed else { continue };
        let value = if interpolate_it {
            match interpolate(&text, &scope) {
                Ok(v) => v,
                Err(errors) => {
                    for e in errors {
                        let mut d = interpolation_diagnostic(&e, &scope);
                        d.location = Some(at(start, value_col));
                        out.push(d);
                    }
                    continue;
                }
            }
        } else {
            text
        };
        if value.contains('\0') {
            push_env_error(out, at(start, value_col), "contains a NUL character");
            continue;
        }
        scope.insert(key.to_string(), value.clone());
        entries.push((key.to_string(), value));
    }
    entries
}

pub(crate) fn push_env_error(out: &mut Vec<Diagnostic>, location: Location, why: &str) {
    let mut d = Diagnostic::error("SY0543", format!("the value {why}"));
    d.location = Some(location);
    out.push(d);
}

/// The inside of a double-quoted value up to its closing quote, unescaped (`\$` kept as `$$` so interpolation
/// leaves it a literal `$`), and what follows the quote; `None` when the quote is not closed.
pub(crate) fn unescape_double(s: &str) -> Option<(String, &str)> {
    let mut value = String::with_capacity(s.len());
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((value, &s[i + 1..])),
            '\\' => match chars.next() {
                Some((_, 'n')) => value.push('\n'),
                Some((_, 't')) => value.push('\t'),
                Some((_, 'r')) => value.push('\r'),
                Some((_, '$')) => value.push_str("$$"),
                Some((_, c)) => value.push(c),
                None => return None,
            },
            c => value.push(c),
        }
    }
    None
}
