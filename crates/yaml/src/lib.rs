//! YAML in: typed deserialisation over YAML events (`de`; from the fast reader `fast` for the block style
//! specs are written in, else from saphyr-parser), following serde_yaml 0.9's rules,
//! with errors carrying the file, line, column and key path; the scalar rules it and the writer
//! (the model's `traefik_yaml`) share; and [`SourceMap`], which maps key paths back to lines for problems found
//! after parsing (an invalid domain, a template that does not compile).
//!
//! serde_yaml itself is no dependency of switchyard (it would weigh some 48 KB gzipped in the browser's
//! module): the tests compare both ways against it.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;

use switchyard_diagnostics::{Diagnostic, KeyPath, Location, did_you_mean};

mod de;
pub mod fast;

/// The events of `source` as the spec reader sees them, by its fast reader (`None` outside its subset) and by
/// saphyr-parser, as text that must be equal whenever the first is given. For the differential tests and the
/// fuzz target; not an API.
#[doc(hidden)]
pub fn events_both_ways(source: &str) -> (Option<Vec<String>>, Vec<String>) {
    de::events_both_ways(source)
}

/// Parses a YAML document into `T`, rejecting unknown keys and bad values with a diagnostic that names the
/// file, line, column and key path. The reading follows serde_yaml 0.9's rules (see the `de` module).
pub fn from_str<T: DeserializeOwned>(source: &str, file: &str) -> Result<T, Box<Diagnostic>> {
    let document = de::Document::load(source);
    let result = de::from_document(&document).and_then(|value| match document.second {
        None => Ok(value),
        Some(at) => Err(de::Error {
            message: "deserializing from YAML containing more than one document is not supported".into(),
            at: Some(at),
            path: None,
        }),
    });
    result.map_err(|err| {
        let (line, column) = within(source, err.at.unwrap_or((1, 1)));
        let location = Some(Location { file: file.to_string(), line, column });
        let message = err.message;
        let mut diag = Diagnostic::error("SY0001", message.clone());
        if let Some(path) = err.path.filter(|p| !p.is_empty()) {
            diag = diag.at(path);
        }
        diag.location = location;
        if let Some(hint) = unknown_field_hint(&message) {
            diag = diag.hint(hint);
        }
        if source.trim().is_empty() {
            diag = diag.hint("the file is empty; start from the example in examples/whoami/switchyard.yaml");
        }
        Box::new(diag)
    })
}

/// Moves a position past the end of `source` (as libyaml reports an unexpected end) to the end of its last
/// line, so that editors can jump to it.
fn within(source: &str, (line, column): (usize, usize)) -> (usize, usize) {
    let lines: Vec<&str> = source.split('\n').collect();
    match line {
        0 => (1, column.max(1)),
        l if l > lines.len() => (lines.len(), lines.last().map_or(0, |s| s.chars().count()) + 1),
        l => (l, column.max(1)),
    }
}

/// For serde's "unknown field `domian`, expected one of `domain`, ..." a did-you-mean hint.
fn unknown_field_hint(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    let (field, rest) = rest.split_once('`')?;
    let expected: Vec<&str> = rest.split('`').skip(1).step_by(2).collect();
    match did_you_mean(field, expected.iter().copied()) {
        Some(best) => Some(format!("did you mean `{best}`?")),
        None if !expected.is_empty() => {
            Some(format!("remove `{field}`; the keys allowed here are: {}", expected.join(", ")))
        }
        None => Some(format!("remove `{field}`; no keys are allowed here")),
    }
}

/// What an untagged plain scalar means, by serde_yaml 0.9's rules (YAML 1.2's core schema, with its
/// extensions: `0x`/`0o`/`0b` integers with a sign, `+` before numbers, integers up to 128 bits).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Plain {
    Null,
    Bool(bool),
    U64(u64),
    I64(i64),
    U128(u128),
    I128(i128),
    F64(f64),
    Str,
}

/// The meaning of a plain scalar: null (also empty), a boolean, an integer, a float or a string.
pub fn resolve_plain(v: &str) -> Plain {
    if v.is_empty() || is_null(v) {
        return Plain::Null;
    }
    if let Some(b) = parse_bool(v) {
        return Plain::Bool(b);
    }
    if let Some(n) = parse_unsigned(v, u64::from_str_radix) {
        return Plain::U64(n);
    }
    if let Some(n) = parse_negative(v, i64::from_str_radix) {
        return Plain::I64(n);
    }
    if let Some(n) = parse_unsigned(v, u128::from_str_radix) {
        return Plain::U128(n);
    }
    if let Some(n) = parse_negative(v, i128::from_str_radix) {
        return Plain::I128(n);
    }
    if !digits_but_not_number(v)
        && let Some(f) = parse_f64(v)
    {
        return Plain::F64(f);
    }
    Plain::Str
}

/// True when serde_yaml would read `v`, written plain, back as the same string: what its serialiser asks
/// to write plain (everything else is asked for in single quotes).
pub fn reads_as_string(v: &str) -> bool {
    match v.as_bytes().first() {
        // Every number starts so (Rust's `inf` and `nan` spellings, which start otherwise, are not finite).
        None | Some(b'0'..=b'9' | b'+' | b'-' | b'.') => resolve_plain(v) == Plain::Str && !digits_but_not_number(v),
        // Names, rules, URLs: only a null or a boolean would not read back as the string.
        Some(_) => !is_null(v) && parse_bool(v).is_none(),
    }
}

pub fn is_null(v: &str) -> bool {
    matches!(v, "null" | "Null" | "NULL" | "~")
}

pub fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// Leading zeros followed by digits (`0123`, `-007`): a string in YAML 1.2, not an octal number.
pub fn digits_but_not_number(v: &str) -> bool {
    let v = v.strip_prefix(['-', '+']).unwrap_or(v);
    v.len() > 1 && v.starts_with('0') && v[1..].bytes().all(|b| b.is_ascii_digit())
}

type Radix<T> = fn(&str, u32) -> Result<T, std::num::ParseIntError>;

const PREFIXES: [(&str, u32); 3] = [("0x", 16), ("0o", 8), ("0b", 2)];

/// A non-negative integer: decimal, or `0x`/`0o`/`0b` with digits and no sign after the prefix; one `+` may
/// come first.
fn parse_unsigned<T>(v: &str, from_str_radix: Radix<T>) -> Option<T> {
    let unsigned = v.strip_prefix('+').unwrap_or(v);
    for (prefix, radix) in PREFIXES {
        if let Some(digits) = unsigned.strip_prefix(prefix) {
            if digits.starts_with(['+', '-']) {
                return None;
            }
            if let Ok(n) = from_str_radix(digits, radix) {
                return Some(n);
            }
        }
    }
    if unsigned.starts_with(['+', '-']) || digits_but_not_number(v) {
        return None;
    }
    from_str_radix(unsigned, 10).ok()
}

/// A negative integer: `-` then decimal, or `-0x`/`-0o`/`-0b` and digits.
fn parse_negative<T>(v: &str, from_str_radix: Radix<T>) -> Option<T> {
    for (prefix, radix) in PREFIXES {
        if let Some(digits) = v.strip_prefix('-').and_then(|rest| rest.strip_prefix(prefix))
            && let Ok(n) = from_str_radix(&format!("-{digits}"), radix)
        {
            return Some(n);
        }
    }
    if digits_but_not_number(v) {
        return None;
    }
    from_str_radix(v, 10).ok()
}

/// A float: what Rust parses as a finite `f64` (one `+` may come first), or `.inf`, `-.inf`, `.nan` in
/// their three spellings.
pub fn parse_f64(v: &str) -> Option<f64> {
    let unsigned = match v.strip_prefix('+') {
        Some(rest) if rest.starts_with(['+', '-']) => return None,
        Some(rest) => rest,
        None => v,
    };
    if matches!(unsigned, ".inf" | ".Inf" | ".INF") {
        return Some(f64::INFINITY);
    }
    if matches!(v, "-.inf" | "-.Inf" | "-.INF") {
        return Some(f64::NEG_INFINITY);
    }
    if matches!(v, ".nan" | ".NaN" | ".NAN") {
        return Some(f64::NAN);
    }
    unsigned.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// A signed integer, as serde_yaml reads one for a signed type: decimal, or `0x`/`0o`/`0b` digits after an
/// optional sign.
fn parse_signed<T>(v: &str, from_str_radix: Radix<T>) -> Option<T> {
    let unsigned = match v.strip_prefix('+') {
        Some(rest) if rest.starts_with(['+', '-']) => return None,
        Some(rest) => rest,
        None => v,
    };
    for (prefix, radix) in PREFIXES {
        if let Some(digits) = unsigned.strip_prefix(prefix) {
            if digits.starts_with(['+', '-']) {
                return None;
            }
            if let Ok(n) = from_str_radix(digits, radix) {
                return Some(n);
            }
        }
        if let Some(digits) = v.strip_prefix('-').and_then(|rest| rest.strip_prefix(prefix))
            && let Ok(n) = from_str_radix(&format!("-{digits}"), radix)
        {
            return Some(n);
        }
    }
    if digits_but_not_number(v) {
        return None;
    }
    from_str_radix(unsigned, 10).ok()
}

/// Where each key path of a YAML document starts (line and column, 1-based).
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    file: String,
    positions: BTreeMap<String, (usize, usize)>,
}

enum Frame {
    Map { path: KeyPath, key: Option<KeyPath> },
    Seq { path: KeyPath, next: usize },
}

impl SourceMap {
    /// Indexes `source`. A document that does not scan gives an empty map (the parser reports the error).
    pub fn new(source: &str, file: &str) -> Self {
        use saphyr_parser::{Event, Parser};
        let mut positions = BTreeMap::new();
        let mut stack: Vec<Frame> = Vec::new();
        let mut seen_document = false;
        // saphyr-parser also breaks lines at a lone `\r`; positions stay within the text's `\n` lines, where
        // the CLI and the editor show them.
        let lines = source.split('\n').count();
        for item in Parser::new_from_str(source) {
            let Ok((event, span)) = item else { break };
            let mut here = (span.start.line(), span.start.col() + 1);
            if here.0 > lines {
                here = within(source, here);
            }
            let starts_node = matches!(
                event,
                Event::Scalar(..) | Event::Alias(_) | Event::MappingStart(..) | Event::SequenceStart(..)
            );
            match event {
                Event::DocumentStart(_) if seen_document => break, // only the first document counts
                Event::DocumentStart(_) => seen_document = true,
                Event::MappingEnd | Event::SequenceEnd => {
                    stack.pop();
                }
                _ => {}
            }
            if !starts_node {
                continue;
            }
            // The path of this node, or None when it is a mapping key.
            let node_path = match stack.last_mut() {
                None => Some(KeyPath::root()),
                Some(Frame::Map { path, key }) => match key.take() {
                    None => {
                        let name = match &event {
                            Event::Scalar(value, ..) => value.to_string(),
                            _ => "?".to_string(),
                        };
                        let key_path = path.key(&name);
                        positions.entry(key_path.as_str().to_string()).or_insert(here);
                        *key = Some(key_path);
                        if matches!(event, Event::MappingStart(..) | Event::SequenceStart(..)) {
                            // A complex key: index its insides under a path no validator asks for.
                            let inner = path.key("?");
                            stack.push(match event {
                                Event::MappingStart(..) => Frame::Map { path: inner, key: None },
                                _ => Frame::Seq { path: inner, next: 0 },
                            });
                        }
                        None
                    }
                    Some(value_path) => Some(value_path),
                },
                Some(Frame::Seq { path, next }) => {
                    let p = path.index(*next);
                    *next += 1;
                    positions.entry(p.as_str().to_string()).or_insert(here);
                    Some(p)
                }
            };
            if let Some(path) = node_path {
                match event {
                    Event::MappingStart(..) => stack.push(Frame::Map { path, key: None }),
                    Event::SequenceStart(..) => stack.push(Frame::Seq { path, next: 0 }),
                    _ => {}
                }
            }
        }
        SourceMap { file: file.to_string(), positions }
    }

    /// The location of `path`, or of its nearest ancestor that is in the document.
    pub fn locate(&self, path: &str) -> Option<Location> {
        let mut p = path;
        loop {
            if let Some(&(line, column)) = self.positions.get(p) {
                return Some(Location { file: self.file.clone(), line, column });
            }
            let cut = p.rfind(['.', '['])?;
            p = &p[..cut];
        }
    }

    /// Fills in the location of every diagnostic that has a path but no location.
    pub fn attach(&self, diagnostics: &mut [Diagnostic]) {
        for d in diagnostics.iter_mut() {
            if d.location.is_none()
                && let Some(path) = &d.path
            {
                d.location = self.locate(path);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "apps:\n  whoami:\n    routes:\n      api: {port: 8080, host_prefix: api}\n    environments:\n      dev:\n        entry_points:\n          - web\n          - websecure\n";

    #[test]
    fn locates_keys_in_block_and_flow_style() {
        let map = SourceMap::new(DOC, "s.yaml");
        let at = |p: &str| map.locate(p).map(|l| (l.line, l.column));
        assert_eq!(at("apps.whoami"), Some((2, 3)));
        assert_eq!(at("apps.whoami.routes.api.host_prefix"), Some((4, 25)));
        assert_eq!(at("apps.whoami.environments.dev.entry_points[1]"), Some((9, 13)));
        // Unknown paths fall back to the nearest ancestor.
        assert_eq!(at("apps.whoami.environments.dev.domain"), Some((6, 7)));
        assert_eq!(at("nothing"), None);
    }

    #[test]
    fn unknown_fields_get_a_suggestion() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct S {
            domain: String,
            tls: Option<bool>,
        }
        let err = from_str::<S>("domian: x\n", "f.yaml").unwrap_err();
        assert_eq!(err.location.as_ref().map(|l| l.line), Some(1));
        assert!(err.message.contains("unknown field `domian`"), "{}", err.message);
        assert_eq!(err.hints, vec!["did you mean `domain`?".to_string()]);
    }
}
