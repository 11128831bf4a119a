//! Hints for rules that do not parse: the operator or matcher that was probably meant, the right arity.

use switchyard_diagnostics::did_you_mean;

use super::display::*;
use super::*;

/// Hints for a word used where an operator belongs.
pub(crate) fn operator_hints(word: &str) -> Vec<String> {
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
pub(crate) fn call_text(name: &str, values: &[&str]) -> String {
    let args: Vec<String> = values.iter().map(|v| quote(v)).collect();
    format!("{name}({})", args.join(", "))
}

/// `A || B` (parenthesised when part of a larger rule).
pub(crate) fn join(calls: Vec<String>, op: &str, whole: bool) -> String {
    let joined = calls.join(&format!(" {op} "));
    if whole || calls.len() < 2 { joined } else { format!("({joined})") }
}

/// Hints for an unknown name: the v3 replacement of a v2 matcher, a capitalisation fix, or the closest name.
pub(crate) fn unknown_name_hints(name: &str, values: &[&str], whole: bool) -> Vec<String> {
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
pub(crate) fn arity_hints(kind: MatcherKind, values: &[&str], whole: bool) -> Vec<String> {
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
