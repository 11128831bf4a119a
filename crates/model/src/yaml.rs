//! The one module that names a YAML library. serde_yaml is archived upstream; swapping it for a maintained
//! fork changes this file only.
//!
//! Two things live here: typed (de)serialisation through serde_yaml, with errors carrying the file, line,
//! column and key path; and [`SourceMap`], which maps key paths back to lines for problems found after
//! parsing (an invalid domain, a template that does not compile), built from saphyr-parser's spanned events.

use std::collections::BTreeMap;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::diagnostics::{Diagnostic, KeyPath, Location, did_you_mean};

/// Parses a YAML document into `T`, rejecting unknown keys and bad values with a diagnostic that names the
/// file, line, column and key path.
pub fn from_str<T: DeserializeOwned>(source: &str, file: &str) -> Result<T, Box<Diagnostic>> {
    let de = serde_yaml::Deserializer::from_str(source);
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        // serde_yaml gives no location for some errors (a second document), and puts end-of-input errors on a
        // line after the last one; every diagnostic points at a place in the file.
        let (line, column) =
            inner.location().map(|l| (l.line(), l.column())).or_else(|| second_document(source)).unwrap_or((1, 1));
        let (line, column) = within(source, line, column);
        let location = Some(Location { file: file.to_string(), line, column });
        let mut message = strip_location(&inner.to_string());
        // serde_yaml prefixes the path itself on some errors; we carry it separately.
        if let Some((prefix, rest)) = message.split_once(": ")
            && !prefix.contains(' ')
            && path.starts_with(prefix)
        {
            message = rest.to_string();
        }
        let mut diag = Diagnostic::error("SY0001", message.clone());
        if path != "." && !path.is_empty() {
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

/// Serialises `value` as YAML. Only plain maps, sequences and scalars: the types given to it are built so
/// that no YAML tags (`!loadBalancer`) are ever written, since Traefik rejects them.
pub fn to_string<T: Serialize>(value: &T) -> Result<String, String> {
    serde_yaml::to_string(value).map_err(|e| e.to_string())
}

/// Removes every " at line N column M" from a message: the location is carried separately (and corrected).
fn strip_location(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(i) = rest.find(" at line ") {
        let after = &rest[i + " at line ".len()..];
        let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
        let n = digits(after);
        let tail = after[n..].strip_prefix(" column ").filter(|_| n > 0);
        match tail {
            Some(tail) if digits(tail) > 0 => {
                out.push_str(&rest[..i]);
                rest = &tail[digits(tail)..];
            }
            _ => {
                out.push_str(&rest[..i + 1]);
                rest = &rest[i + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The line and column (1-based) where the second document of `source` starts, if it has one.
fn second_document(source: &str) -> Option<(usize, usize)> {
    use saphyr_parser::{Event, Parser};
    Parser::new_from_str(source)
        .map_while(Result::ok)
        .filter(|(event, _)| matches!(event, Event::DocumentStart(_)))
        .nth(1)
        .map(|(_, span)| (span.start.line(), span.start.col() + 1))
}

/// Moves a position past the end of `source` (as libyaml reports an unexpected end) to the end of its last
/// line, so that editors can jump to it.
fn within(source: &str, line: usize, column: usize) -> (usize, usize) {
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
        for item in Parser::new_from_str(source) {
            let Ok((event, span)) = item else { break };
            let here = (span.start.line(), span.start.col() + 1);
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
