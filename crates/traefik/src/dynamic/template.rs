//! Traefik's file provider renders every file as a Go template (`text/template`, with sprig's functions and
//! Traefik's own `normalize` and `split`) before it reads the YAML or TOML, wherever the `{{` is: in a value, a
//! key or a comment. A template that does not parse makes Traefik refuse the whole file (its log says
//! `template: ...: function "in" not defined`). This module reads the actions the way Go's template lexer and
//! parser do, far enough to find what makes parsing fail: an action or comment never closed, an unknown
//! function, a quoted string never closed, `{{end}}` or `{{else}}` without their block, a block never ended.
//! A template that parses may still fail when it runs (a missing template, a function's error), and renders to
//! text this check does not see: that stays a warning (SY3007).

/// Go's template keywords and constants: identifiers that are not function calls.
const KEYWORDS: &[&str] =
    &["block", "break", "continue", "define", "else", "end", "if", "nil", "range", "template", "with", "true", "false"];

/// The functions a template may call in Traefik's file provider: Go's builtins, sprig's (v3) and Traefik's
/// (the differential suite shows the real Traefik parsing a template that calls every one).
pub const FUNCTIONS: &[&str] = &[
    // Go's text/template builtins.
    "and",
    "call",
    "html",
    "index",
    "slice",
    "js",
    "len",
    "not",
    "or",
    "print",
    "printf",
    "println",
    "urlquery",
    "eq",
    "ge",
    "gt",
    "le",
    "lt",
    "ne",
    // Traefik's own.
    "normalize",
    "split",
    // sprig v3 (the release Traefik 3.7 builds with: no `randSeededNumeric` or `sha512sum` yet).
    "hello",
    "ago",
    "date",
    "date_in_zone",
    "date_modify",
    "dateInZone",
    "dateModify",
    "duration",
    "durationRound",
    "htmlDate",
    "htmlDateInZone",
    "must_date_modify",
    "mustDateModify",
    "mustToDate",
    "now",
    "toDate",
    "unixEpoch",
    "abbrev",
    "abbrevboth",
    "trunc",
    "trim",
    "upper",
    "lower",
    "title",
    "untitle",
    "substr",
    "repeat",
    "trimall",
    "trimAll",
    "trimSuffix",
    "trimPrefix",
    "nospace",
    "initials",
    "randAlphaNum",
    "randAlpha",
    "randAscii",
    "randNumeric",
    "swapcase",
    "shuffle",
    "snakecase",
    "camelcase",
    "kebabcase",
    "wrap",
    "wrapWith",
    "contains",
    "hasPrefix",
    "hasSuffix",
    "quote",
    "squote",
    "cat",
    "indent",
    "nindent",
    "replace",
    "plural",
    "sha1sum",
    "sha256sum",
    "adler32sum",
    "toString",
    "atoi",
    "int64",
    "int",
    "float64",
    "seq",
    "toDecimal",
    "splitList",
    "splitn",
    "toStrings",
    "until",
    "untilStep",
    "add1",
    "add",
    "sub",
    "div",
    "mod",
    "mul",
    "randInt",
    "add1f",
    "addf",
    "subf",
    "divf",
    "mulf",
    "biggest",
    "max",
    "min",
    "maxf",
    "minf",
    "ceil",
    "floor",
    "round",
    "join",
    "sortAlpha",
    "default",
    "empty",
    "coalesce",
    "all",
    "any",
    "compact",
    "mustCompact",
    "fromJson",
    "toJson",
    "toPrettyJson",
    "toRawJson",
    "mustFromJson",
    "mustToJson",
    "mustToPrettyJson",
    "mustToRawJson",
    "ternary",
    "deepCopy",
    "mustDeepCopy",
    "typeOf",
    "typeIs",
    "typeIsLike",
    "kindOf",
    "kindIs",
    "deepEqual",
    "env",
    "expandenv",
    "getHostByName",
    "base",
    "dir",
    "clean",
    "ext",
    "isAbs",
    "osBase",
    "osClean",
    "osDir",
    "osExt",
    "osIsAbs",
    "b64enc",
    "b64dec",
    "b32enc",
    "b32dec",
    "tuple",
    "list",
    "dict",
    "get",
    "set",
    "unset",
    "hasKey",
    "pluck",
    "keys",
    "pick",
    "omit",
    "merge",
    "mergeOverwrite",
    "mustMerge",
    "mustMergeOverwrite",
    "values",
    "append",
    "push",
    "mustAppend",
    "mustPush",
    "prepend",
    "mustPrepend",
    "first",
    "mustFirst",
    "rest",
    "mustRest",
    "last",
    "mustLast",
    "initial",
    "mustInitial",
    "reverse",
    "mustReverse",
    "uniq",
    "mustUniq",
    "without",
    "mustWithout",
    "has",
    "mustHas",
    "mustSlice",
    "concat",
    "dig",
    "chunk",
    "mustChunk",
    "bcrypt",
    "htpasswd",
    "genPrivateKey",
    "derivePassword",
    "buildCustomCert",
    "genCA",
    "genCAWithKey",
    "genSelfSignedCert",
    "genSelfSignedCertWithKey",
    "genSignedCert",
    "genSignedCertWithKey",
    "encryptAES",
    "decryptAES",
    "randBytes",
    "uuidv4",
    "semver",
    "semverCompare",
    "fail",
    "regexMatch",
    "mustRegexMatch",
    "regexFindAll",
    "mustRegexFindAll",
    "regexFind",
    "mustRegexFind",
    "regexReplaceAll",
    "mustRegexReplaceAll",
    "regexReplaceAllLiteral",
    "mustRegexReplaceAllLiteral",
    "regexSplit",
    "mustRegexSplit",
    "regexQuoteMeta",
    "urlParse",
    "urlJoin",
];

/// Why the template does not parse, and the byte offset in the file of the action at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TemplateError {
    pub(crate) offset: usize,
    /// Go's words for it (`function "in" not defined`).
    pub(crate) message: String,
}

/// The first `{{` of `source` and, when the template does not parse, why.
pub(crate) fn check(source: &str) -> Option<(usize, Option<TemplateError>)> {
    let first = source.find("{{")?;
    Some((first, parse(source, first).err()))
}

/// A block that needs its `{{end}}`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Block {
    /// `if`, `range`, `with`: `{{else}}` may follow.
    Branching,
    /// `define`, `block`.
    Plain,
}

fn parse(source: &str, first: usize) -> Result<(), TemplateError> {
    let mut blocks: Vec<(Block, usize)> = Vec::new();
    let mut at = first;
    loop {
        let action = at;
        let end = action_end(source, action)?;
        let words = words(source, action, end);
        let error = |message: String| TemplateError { offset: action, message };
        let keyword = words.first().map(String::as_str);
        match keyword {
            Some("if" | "range" | "with") => blocks.push((Block::Branching, action)),
            Some("define" | "block") => blocks.push((Block::Plain, action)),
            _ => {}
        }
        if keyword == Some("end") && blocks.pop().is_none() {
            return Err(error("unexpected {{end}}".into()));
        }
        if keyword == Some("else") && blocks.last().is_none_or(|(kind, _)| *kind != Block::Branching) {
            return Err(error("unexpected {{else}}".into()));
        }
        for word in &words {
            if !KEYWORDS.contains(&word.as_str()) && !FUNCTIONS.contains(&word.as_str()) {
                return Err(error(format!("function {word:?} not defined")));
            }
        }
        match source[end..].find("{{") {
            Some(next) => at = end + next,
            None => break,
        }
    }
    match blocks.last() {
        Some(&(_, offset)) => Err(TemplateError { offset, message: "unexpected EOF (a block is never ended)".into() }),
        None => Ok(()),
    }
}

/// The end (just after `}}`) of the action or comment that starts at `source[at..]` with `{{`.
fn action_end(source: &str, at: usize) -> Result<usize, TemplateError> {
    let bytes = source.as_bytes();
    let unclosed = |message: &str| TemplateError { offset: at, message: message.to_string() };
    let mut i = at + 2;
    // A left trim marker: `{{-` followed by a space.
    if bytes.get(i) == Some(&b'-') && bytes.get(i + 1).is_some_and(|b| b" \t\r\n".contains(b)) {
        i += 2;
    }
    if source[i..].starts_with("/*") {
        let Some(close) = source[i + 2..].find("*/") else { return Err(unclosed("unclosed comment")) };
        let mut j = i + 2 + close + 2;
        if source[j..].starts_with(" -}}") {
            j += 2;
        }
        if !source[j..].starts_with("}}") {
            return Err(unclosed("comment ends before closing delimiter"));
        }
        return Ok(j + 2);
    }
    while i < bytes.len() {
        match bytes[i] {
            b'}' if bytes.get(i + 1) == Some(&b'}') => return Ok(i + 2),
            b'"' | b'\'' => {
                let quote = bytes[i];
                i += 1;
                loop {
                    match bytes.get(i) {
                        None | Some(b'\n') => return Err(unclosed("unterminated quoted string")),
                        Some(b'\\') => i += 2,
                        Some(&b) if b == quote => break,
                        Some(_) => i += 1,
                    }
                }
                i += 1;
            }
            b'`' => match source[i + 1..].find('`') {
                Some(len) => i += len + 2,
                None => return Err(unclosed("unterminated raw quoted string")),
            },
            // What Go's lexer reads inside an action: spaces, `:=`, `=`, `|`, `,`, parentheses, `$`, `.`, numbers,
            // identifiers (Unicode letters too).
            b' ' | b'\t' | b'\r' | b'\n' | b'=' | b':' | b'|' | b',' | b'(' | b')' | b'$' | b'.' | b'+' | b'-'
            | b'_' => i += 1,
            b if b.is_ascii_alphanumeric() || b >= 0x80 => i += 1,
            _ => {
                let c = source[i..].chars().next().unwrap_or('?');
                return Err(unclosed(&format!("unrecognized character in action: U+{:04X} '{c}'", c as u32)));
            }
        }
    }
    Err(unclosed("unclosed action"))
}

/// The bare identifiers of the action `source[at..end]` (not fields `.Name`, variables `$name` or strings),
/// in order: a comment has none.
fn words(source: &str, at: usize, end: usize) -> Vec<String> {
    let text = &source[at + 2..end - 2];
    if text.trim_start_matches('-').trim_start().starts_with("/*") {
        return Vec::new();
    }
    let bytes = text.as_bytes();
    let mut words = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'"' | b'\'' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'`' => i += text[i + 1..].find('`').map_or(bytes.len(), |len| len + 2),
            b'.' | b'$' => {
                // A field chain or a variable, with the name after it.
                i += 1;
                while i < bytes.len() && (bytes[i] == b'_' || bytes[i].is_ascii_alphanumeric()) {
                    i += 1;
                }
            }
            b'0'..=b'9' => {
                while i < bytes.len() && (bytes[i] == b'_' || bytes[i] == b'.' || bytes[i].is_ascii_alphanumeric()) {
                    i += 1;
                }
            }
            _ if b == b'_' || b.is_ascii_alphabetic() || b >= 0x80 => {
                let start = i;
                while i < bytes.len() && (bytes[i] == b'_' || bytes[i].is_ascii_alphanumeric() || bytes[i] >= 0x80) {
                    i += 1;
                }
                words.push(text[start..i].to_string());
            }
            _ => i += 1,
        }
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(source: &str) -> Option<String> {
        check(source).and_then(|(_, e)| e).map(|e| e.message)
    }

    #[test]
    fn what_makes_traefiks_template_fail_to_parse() {
        assert_eq!(error("a: 1 # see {{ in the docs }}\n").as_deref(), Some("function \"in\" not defined"));
        assert_eq!(error("a: {{ env \"X\"\n").as_deref(), Some("unclosed action"));
        assert_eq!(error("a: {{/* note\n").as_deref(), Some("unclosed comment"));
        assert_eq!(error("a: {{ \"x }}\n").as_deref(), Some("unterminated quoted string"));
        assert_eq!(error("{{ end }}").as_deref(), Some("unexpected {{end}}"));
        assert_eq!(error("{{ else }}").as_deref(), Some("unexpected {{else}}"));
        assert_eq!(error("{{ if true }}a").as_deref(), Some("unexpected EOF (a block is never ended)"));
        assert_eq!(error("{{ Env \"X\" }}").as_deref(), Some("function \"Env\" not defined"));
        // A template inside a YAML double-quoted string, its quotes escaped for YAML: Go reads the backslash.
        assert_eq!(
            error("rule: \"Host(`{{ env \\\"HOST\\\" }}`)\"").as_deref(),
            Some("unrecognized character in action: U+005C '\\'")
        );
    }

    #[test]
    fn templates_that_parse() {
        for ok in [
            "a: {{ \"{{\" }}\n",
            "a: {{ env \"HOME\" | quote }}\n",
            "# {{/* a comment }} with braces */}}\n",
            "{{- if .Server1 }}a{{ else }}b{{ end -}}",
            "{{ range $i, $e := until 3 }}{{ $i }}{{ end }}",
            "a: {{ `}}` }}",
            "a: {{ printf \"%d\" 1 }} {{ normalize \"a b\" }} {{ split \",\" \"a,b\" }}",
        ] {
            assert_eq!(error(ok), None, "{ok}");
        }
        assert_eq!(check("no actions"), None);
    }

    /// Any text is answered, never panicked on: pieces that stress the byte-level scanning (multi-byte
    /// characters after backslashes and quotes, trim markers, comments) in pseudo-random orders.
    #[test]
    fn any_text_is_answered() {
        const PIECES: [&str; 16] =
            ["{{", "}}", "{{-", " -}}", "/*", "*/", "\"", "'", "`", "\\", "é", "€", "ü\\", " if ", " end ", "$x."];
        let mut state: u64 = 0x2026;
        for _ in 0..20_000 {
            let mut text = String::new();
            for _ in 0..8 {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                text.push_str(PIECES[(state >> 33) as usize % PIECES.len()]);
            }
            let _ = check(&text);
        }
    }
}
