//! `${VAR}` interpolation as Compose does it: defaults, required variables, nesting, `$$`.

use std::collections::BTreeMap;

use switchyard_diagnostics::{Diagnostic, did_you_mean};

/// Why interpolation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InterpolationError {
    #[error("the variable `{name}` is not set and has no default")]
    Unset { name: String },
    #[error("`{name}` is required: {message}")]
    Required { name: String, message: String },
    #[error("{0}")]
    Syntax(String),
}

/// How deep `${A:-${B:-...}}` may nest.
pub(crate) const MAX_NESTING: usize = 16;

/// Interpolates `text` the way compose does, with `variables` only.
pub fn interpolate(text: &str, variables: &BTreeMap<String, String>) -> Result<String, Vec<InterpolationError>> {
    let mut out = String::with_capacity(text.len());
    let mut errors = Vec::new();
    interpolate_into(text, variables, 0, &mut out, &mut errors);
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

pub(crate) fn is_name_start(c: char) -> bool {
    c == '_' || c.is_ascii_alphabetic()
}
pub(crate) fn is_name_char(c: char) -> bool {
    c == '_' || c.is_ascii_alphanumeric()
}

/// The byte index of the `}` closing a `${` whose body starts at `from`.
pub(crate) fn closing_brace(s: &str, from: usize) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut depth = 0usize;
    let mut i = from;
    while i < bytes.len() {
        match bytes[i] {
            b'$' if bytes.get(i + 1) == Some(&b'$') => i += 1,
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 1;
            }
            b'}' if depth == 0 => return Some(i),
            b'}' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    None
}

pub(crate) fn interpolate_into(
    s: &str,
    vars: &BTreeMap<String, String>,
    depth: usize,
    out: &mut String,
    errors: &mut Vec<InterpolationError>,
) {
    if depth > MAX_NESTING {
        errors.push(InterpolationError::Syntax(format!("variables nest more than {MAX_NESTING} deep")));
        return;
    }
    let mut i = 0;
    while let Some(pos) = s[i..].find('$') {
        let at = i + pos;
        out.push_str(&s[i..at]);
        let rest = &s[at + 1..];
        match rest.chars().next() {
            Some('$') => {
                out.push('$');
                i = at + 2;
            }
            Some('{') => {
                let body_start = at + 2;
                let Some(end) = closing_brace(s, body_start) else {
                    errors.push(InterpolationError::Syntax(format!(
                        "`${{` at {:?} is not closed with `}}`",
                        truncate(&s[at..], 24)
                    )));
                    return;
                };
                braced(&s[body_start..end], vars, depth, out, errors);
                i = end + 1;
            }
            Some(c) if is_name_start(c) => {
                let len = rest.find(|c: char| !is_name_char(c)).unwrap_or(rest.len());
                let name = &rest[..len];
                match vars.get(name) {
                    Some(v) => out.push_str(v),
                    None => errors.push(InterpolationError::Unset { name: name.to_string() }),
                }
                i = at + 1 + len;
            }
            _ => {
                errors.push(InterpolationError::Syntax(format!(
                    "`$` in {:?} is not followed by a variable name or `{{`; write `$$` for a literal `$`",
                    truncate(s, 40)
                )));
                out.push('$');
                i = at + 1;
            }
        }
    }
    out.push_str(&s[i..]);
}

pub(crate) fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_string(),
    }
}

pub(crate) fn braced(
    body: &str,
    vars: &BTreeMap<String, String>,
    depth: usize,
    out: &mut String,
    errors: &mut Vec<InterpolationError>,
) {
    let len = body.find(|c: char| !is_name_char(c)).unwrap_or(body.len());
    let (name, op) = body.split_at(len);
    if !name.starts_with(is_name_start) {
        errors.push(InterpolationError::Syntax(format!(
            "`${{{}}}` does not start with a variable name (letters, digits and `_`, not starting with a digit)",
            truncate(body, 40)
        )));
        return;
    }
    let value = vars.get(name);
    let nested = |text: &str, out: &mut String, errors: &mut Vec<InterpolationError>| {
        interpolate_into(text, vars, depth + 1, out, errors)
    };
    let set_non_empty = value.is_some_and(|v| !v.is_empty());
    if op.is_empty() {
        match value {
            Some(v) => out.push_str(v),
            None => errors.push(InterpolationError::Unset { name: name.to_string() }),
        }
    } else if let Some(default) = op.strip_prefix(":-") {
        match value {
            Some(v) if set_non_empty => out.push_str(v),
            _ => nested(default, out, errors),
        }
    } else if let Some(default) = op.strip_prefix('-') {
        match value {
            Some(v) => out.push_str(v),
            None => nested(default, out, errors),
        }
    } else if let Some(message) = op.strip_prefix(":?") {
        match value {
            Some(v) if set_non_empty => out.push_str(v),
            _ => {
                let mut m = String::new();
                nested(message, &mut m, errors);
                errors.push(InterpolationError::Required { name: name.to_string(), message: m });
            }
        }
    } else if let Some(message) = op.strip_prefix('?') {
        match value {
            Some(v) => out.push_str(v),
            None => {
                let mut m = String::new();
                nested(message, &mut m, errors);
                errors.push(InterpolationError::Required { name: name.to_string(), message: m });
            }
        }
    } else if let Some(replacement) = op.strip_prefix(":+") {
        if set_non_empty {
            nested(replacement, out, errors);
        }
    } else if let Some(replacement) = op.strip_prefix('+') {
        if value.is_some() {
            nested(replacement, out, errors);
        }
    } else {
        errors.push(InterpolationError::Syntax(format!(
            "`${{{}}}` is not valid; write ${{NAME}}, ${{NAME:-default}}, ${{NAME-default}}, ${{NAME:?error}} \
             or ${{NAME?error}}",
            truncate(body, 40)
        )));
    }
}

pub(crate) fn interpolation_diagnostic(e: &InterpolationError, vars: &BTreeMap<String, String>) -> Diagnostic {
    let available = || {
        if vars.is_empty() {
            "no variables are set".to_string()
        } else {
            format!("the variables are: {}", vars.keys().map(String::as_str).collect::<Vec<_>>().join(", "))
        }
    };
    match e {
        InterpolationError::Unset { name } => {
            let mut d = Diagnostic::error("SY0510", e.to_string());
            if let Some(best) = did_you_mean(name, vars.keys().map(String::as_str)) {
                d = d.hint(format!("did you mean `{best}`?"));
            }
            d.hint(available()).hint(format!(
                "switchyard never reads its own environment; give a default with `${{{name}:-default}}`, or write \
                 `$$` for a literal `$`"
            ))
        }
        InterpolationError::Required { .. } => Diagnostic::error("SY0511", e.to_string()).hint(available()),
        InterpolationError::Syntax(_) => Diagnostic::error("SY0512", e.to_string()),
    }
}
