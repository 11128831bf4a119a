//! Lints: rules that work in Traefik v3, but probably not as meant (SY3151-SY3159).

use switchyard_diagnostics::did_you_mean;

use super::hints::*;
use super::*;

/// Warnings for a parsed rule; `source` is the text it was parsed from (for columns).
pub fn lint(rule: &Rule, source: &str) -> Vec<RuleLint> {
    pub(crate) fn walk(expr: &Expr, source: &str, lints: &mut Vec<RuleLint>) {
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

pub(crate) fn lint_matcher(m: &Matcher, source: &str, lints: &mut Vec<RuleLint>) {
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
pub(crate) fn anchored(pattern: &str) -> bool {
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
pub(crate) fn placeholders(value: &str) -> Vec<&str> {
    placeholder_spans(value).into_iter().map(|(s, e, _)| &value[s..e]).collect()
}

/// (start, end, regexp) of each placeholder.
pub(crate) fn placeholder_spans(value: &str) -> Vec<(usize, usize, Option<&str>)> {
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
pub(crate) fn placeholders_to_regexp(value: &str, default: &str, escape: bool) -> String {
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
pub(crate) fn fully_grouped(regexp: &str) -> bool {
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

pub(crate) fn regex_escape(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if r"\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
