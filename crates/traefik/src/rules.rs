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
//! One limit, on inputs nobody writes by hand: nesting deeper than [`MAX_DEPTH`] parentheses or `!` is not read
//! (Traefik reads about 100,000 levels): [`parse`] returns SY3113, a warning that says so, never a claim that
//! Traefik disables the router ([`RuleError::traefik_accepts`]). Go's oddities are followed: `Host(`a`...)` (a variadic spread) is accepted,
//! and an interpreted string whose `\x`/octal escapes do not form valid UTF-8 keeps its bytes (shown as U+FFFD):
//! accepted where Traefik does not ask for ASCII, refused by the regexp matchers as Go's regexp refuses it.
//!
//! The modules: `lexer` and `unquote` (tokens and Go strings), `parser` (with `hints` for what does not parse),
//! `display` (printing a rule back), `lint`, and `eval` (matching a request, for the simulator).
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

mod display;
mod eval;
mod go_regex;
mod hints;
mod lexer;
mod lint;
mod parser;
mod unquote;

use std::fmt;

use switchyard_diagnostics::Diagnostic;

pub use eval::*;
pub use lint::*;
pub use parser::*;

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
    pub(crate) fn regexp_arg(self, args: usize) -> Option<usize> {
        match self {
            MatcherKind::HostRegexp | MatcherKind::PathRegexp => Some(0),
            MatcherKind::HeaderRegexp => Some(1),
            MatcherKind::QueryRegexp if args == 2 => Some(1),
            _ => None,
        }
    }

    /// A typical call, for hints.
    pub(crate) fn example(self) -> &'static str {
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
    pub(crate) compiled: Compiled,
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
pub(crate) enum Compiled {
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
    /// Whether Traefik accepts the rule all the same: only nesting deeper than [`MAX_DEPTH`] (SY3113), which
    /// this parser does not read and Traefik does. Every other error is a rule Traefik disables.
    pub fn traefik_accepts(&self) -> bool {
        self.code == "SY3113"
    }

    /// As a diagnostic at key path `path` (e.g. `http.routers.web.rule`): an error, or a warning for a rule
    /// Traefik accepts ([`RuleError::traefik_accepts`]).
    pub fn to_diagnostic(&self, path: &str) -> Diagnostic {
        let mut diagnostic = if self.traefik_accepts() {
            Diagnostic::warning(self.code, self.message.clone())
        } else {
            Diagnostic::error(self.code, self.message.clone())
        }
        .at(path);
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
pub(crate) fn column(src: &str, at: usize) -> usize {
    src.get(..at).map_or(1, |s| s.chars().count() + 1)
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

    /// What the real Traefik (3.7.15) was seen to accept and refuse, where this parser once disagreed; the
    /// differential suite (`tests/tests/traefik_differential.rs`) checks the same against the binary.
    #[test]
    fn odd_rules_traefik_accepts_and_refuses() {
        assert_eq!(p("Host(`a`...)").to_string(), "Host(`a`)");
        assert_eq!(p("Header(`X`, `a`...,)").to_string(), "Header(`X`, `a`)");
        assert_eq!(e("Header(`X`..., `a`)").code, "SY3101");
        assert_eq!(e("Host(...)").code, "SY3101");
        p("Path(\"/\\xff\")");
        assert_eq!(e("PathRegexp(\"/\\xff\")").code, "SY3107");
        assert_eq!(e("Host(\"\\xff\")").code, "SY3106");
        p("ClientIP(`10.0.0.0/08`)");
        p("ClientIP(`10.0.0.0/0032`)");
        assert_eq!(e("ClientIP(`10.0.0.0/33`)").code, "SY3108");
        assert_eq!(e("PathRegexp(`^/(?:a{1000}){1000}$`)").code, "SY3107");
        assert_eq!(e("PathRegexp(`^/(?:(?:a{100}){100})$`)").code, "SY3107");
        p("PathRegexp(`^/(?:a{10}){100}$`)");
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
        let cases: [(&str, &str, usize); 24] = [
            ("", "SY3114", 1),
            ("Host(example.com)", "SY3101", 6),
            ("Host('example.com')", "SY3109", 6),
            ("Host(`1)", "SY3110", 6),
            ("Host(\"a\nb\")", "SY3110", 6),
            ("Host(\"\\q\")", "SY3111", 7),
            ("Host(\"\\xff\")", "SY3106", 7),
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
            // Go's identifiers are letters of category L and digits of Nd: a mark Rust calls alphabetic
            // (U+065F), or a letter number (U+2160), is an illegal character there (found by fuzzing against
            // the real Traefik).
            ("Hostod\u{65f}`", "SY3101", 7),
            ("Host\u{2160}(`a`)", "SY3101", 5),
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
        assert!(e(&deep).traefik_accepts());
        // Past the limit, what Traefik refuses is still found, without recursion.
        for (inner, code) in [("Host(`a`", "SY3101"), ("Hots(`a`)", "SY3102"), ("Host(`a`) &&", "SY3101")] {
            let rule = format!("{}{inner}{}", "!(".repeat(1000), ")".repeat(1000));
            assert_eq!(e(&rule).code, code, "{inner}");
        }
        assert_eq!(e(&format!("{}Host(`a`)", "!".repeat(100_000))).code, "SY3113");
        assert_eq!(e(&format!("{}Host(`a`){}", "(".repeat(100), ")".repeat(99))).code, "SY3101");
        // No matcher at all, however deep: refused (found by the flat pass).
        assert_eq!(e(&"!".repeat(100_000)).code, "SY3101");
        assert_eq!(e(&"(!".repeat(100_000)).code, "SY3101");
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
