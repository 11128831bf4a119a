//! Printing a rule back: the same tree when parsed again.

use std::fmt;

use super::hints::*;
use super::*;

/// A value as a Go string literal: backticks when possible, else double quotes with escapes.
pub(crate) fn quote(value: &str) -> String {
    let raw = !value.chars().any(|c| c == '`' || c.is_control() || c == '\u{feff}');
    if raw { format!("`{value}`") } else { quote_interpreted(value) }
}

pub(crate) fn quote_interpreted(value: &str) -> String {
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
