//! A dedicated YAML writer for [`RenderedConfig`], byte-identical to serde_yaml 0.9 (libyaml's emitter, as
//! serde_yaml configures it: two-space indentation, no line width, Unicode written as is) and several times
//! faster. The shape of the configuration is fixed (maps with string keys, lists, strings, integers, booleans
//! and the empty `{}`), so this writes it directly in the block style serde_yaml uses: lists not indented
//! under their key, empty maps and lists as `{}` and `[]`.
//!
//! The only judgement is how to write a string, and this module makes it itself, by serde_yaml's and
//! libyaml's rules (see `scalar_style`): plain when nothing in it would read otherwise; single-quoted when it
//! would read as another type (`'10'`, `'true'`) or starts with an indicator; double-quoted with escapes when
//! it holds characters only escapes can carry; a literal block (`|`, `|-`, `|+`, `|2`) for text with `\n`;
//! and `? key` / `: value` for keys longer than 128 bytes or with line breaks. No YAML library is involved,
//! so none is linked into the browser's module; the tests compare the bytes with serde_yaml's.

use crate::traefik::{
    ActiveHealthCheck, Http, LoadBalancer, RenderedConfig, Router, RouterTls, Service, Sticky, Weighted,
};

/// The longest map key written as a YAML simple key (`key: value`); longer ones become `? key`.
const MAX_SIMPLE_KEY: usize = 128;

/// YAML for a configuration: exactly what serde_yaml 0.9 gives for it.
pub fn to_string(config: &RenderedConfig) -> String {
    let mut out = String::new();
    append(&mut out, config);
    out
}

/// Appends the YAML of `config` to `out` (exactly what serde_yaml 0.9 gives for it). Every configuration can
/// be written: nothing fails.
pub fn append(out: &mut String, config: &RenderedConfig) {
    out.reserve(estimate(config));
    Writer { out, inline_next: false, line_ended: false }.config(config);
}

/// Roughly the size of the output, so that the string is allocated once.
fn estimate(config: &RenderedConfig) -> usize {
    config.http.as_ref().map_or(8, |h| 32 + 320 * h.routers.len() + 320 * h.services.len())
}

/// How a string is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
}

/// What libyaml's emitter finds in a string, reduced to the styles it then allows.
struct Analysis {
    multiline: bool,
    plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// A blank, a break or the end of the string (NUL counts as an end, as in libyaml).
fn is_blankz(c: Option<char>) -> bool {
    matches!(c, None | Some(' ' | '\t' | '\0')) || c.is_some_and(is_break)
}

/// libyaml's printable characters (tab and `\r` are not; `\n`, U+2028 and U+2029 are).
fn is_printable(c: char) -> bool {
    matches!(c, '\n' | ' '..='~' | '\u{a0}'..='\u{d7ff}' | '\u{10000}'..)
        || (('\u{e000}'..='\u{fffd}').contains(&c) && c != '\u{feff}')
}

/// libyaml's `yaml_emitter_analyze_scalar` for block context.
fn analyze(s: &str) -> Analysis {
    if s.is_empty() {
        return Analysis { multiline: false, plain_allowed: true, single_quoted_allowed: true, block_allowed: false };
    }
    let document_marker = s.starts_with("---") || s.starts_with("...");
    if s.bytes().all(|b| b.is_ascii_graphic()) {
        // Nearly every string written (names, URLs, durations): printable ASCII without whitespace. Nothing can
        // be special, no space or break is at an edge, and an indicator can only be the first character (any,
        // `-`, `?` or `:` alone) or a `:` at the end (followed by the end, which counts as whitespace).
        let first = s.as_bytes()[0];
        let indicator = match first {
            b'#' | b',' | b'[' | b']' | b'{' | b'}' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\'' | b'"' | b'%' | b'@'
            | b'`' => true,
            b'?' | b':' | b'-' => s.len() == 1,
            _ => false,
        };
        let plain_allowed = !(document_marker || indicator || (s.len() > 1 && s.ends_with(':')));
        return Analysis { multiline: false, plain_allowed, single_quoted_allowed: true, block_allowed: true };
    }
    let mut scan = Scan { indicators: document_marker, ..Scan::default() };
    if s.is_ascii() {
        // Nearly every string written (names, rules, URLs): bytes are characters, no decoding needed.
        let bytes = s.as_bytes();
        for (i, &b) in bytes.iter().enumerate() {
            scan.step(char::from(b), bytes.get(i + 1).map(|&n| char::from(n)));
        }
    } else {
        let mut chars = s.chars().peekable();
        while let Some(c) = chars.next() {
            scan.step(c, chars.peek().copied());
        }
    }
    scan.finish()
}

/// What [`analyze`] has seen so far, one character at a time.
struct Scan {
    indicators: bool,
    leading_space: bool,
    leading_break: bool,
    trailing_space: bool,
    trailing_break: bool,
    break_space: bool,
    space_break: bool,
    special: bool,
    line_breaks: bool,
    previous_space: bool,
    previous_break: bool,
    preceded_by_whitespace: bool,
    first: bool,
}

impl Default for Scan {
    fn default() -> Self {
        Scan {
            indicators: false,
            leading_space: false,
            leading_break: false,
            trailing_space: false,
            trailing_break: false,
            break_space: false,
            space_break: false,
            special: false,
            line_breaks: false,
            previous_space: false,
            previous_break: false,
            preceded_by_whitespace: true,
            first: true,
        }
    }
}

impl Scan {
    /// The character `c`, followed by `next` (`None` at the end).
    #[inline(always)]
    fn step(&mut self, c: char, next: Option<char>) {
        let followed_by_whitespace = is_blankz(next);
        let last = next.is_none();
        if self.first {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"' | '%' | '@' | '`' => {
                    self.indicators = true;
                }
                '?' | ':' | '-' if followed_by_whitespace => self.indicators = true,
                _ => {}
            }
        } else if (c == ':' && followed_by_whitespace) || (c == '#' && self.preceded_by_whitespace) {
            self.indicators = true;
        }
        if !is_printable(c) {
            self.special = true;
        }
        if c == ' ' {
            self.leading_space |= self.first;
            self.trailing_space |= last;
            self.break_space |= self.previous_break;
            (self.previous_space, self.previous_break) = (true, false);
        } else if is_break(c) {
            self.line_breaks = true;
            self.leading_break |= self.first;
            self.trailing_break |= last;
            self.space_break |= self.previous_space;
            (self.previous_space, self.previous_break) = (false, true);
        } else {
            (self.previous_space, self.previous_break) = (false, false);
        }
        self.preceded_by_whitespace = is_blankz(Some(c));
        self.first = false;
    }

    fn finish(self) -> Analysis {
        let edges = self.leading_space || self.leading_break || self.trailing_space || self.trailing_break;
        Analysis {
            multiline: self.line_breaks,
            plain_allowed: !(edges
                || self.break_space
                || self.space_break
                || self.special
                || self.line_breaks
                || self.indicators),
            single_quoted_allowed: !(self.break_space || self.space_break || self.special),
            block_allowed: !(self.trailing_space || self.space_break || self.special),
        }
    }
}

/// The style serde_yaml 0.9 writes `s` in, in block context; `simple_key` when it is a `key:`. serde_yaml asks
/// for a literal block when the string has a `\n`, for single quotes when it would read back as something
/// other than a string, and otherwise lets libyaml choose; libyaml falls back from plain to single-quoted to
/// double-quoted, and from a literal block to double-quoted, when the string cannot be written that way.
fn scalar_style(s: &str, a: &Analysis, simple_key: bool) -> Style {
    let mut style = if s.contains('\n') {
        Style::Literal
    } else if !switchyard_yaml::reads_as_string(s) {
        Style::SingleQuoted
    } else {
        Style::Plain
    };
    if simple_key && a.multiline {
        style = Style::DoubleQuoted;
    }
    if style == Style::Plain && (!a.plain_allowed || (s.is_empty() && simple_key)) {
        style = Style::SingleQuoted;
    }
    if style == Style::SingleQuoted && !a.single_quoted_allowed {
        style = Style::DoubleQuoted;
    }
    if style == Style::Literal && (!a.block_allowed || simple_key) {
        style = Style::DoubleQuoted;
    }
    style
}

struct Writer<'a> {
    out: &'a mut String,
    /// The next line starts after a `- ` or `: ` already written (the first key of a map in a list, or the
    /// value of a `? key`).
    inline_next: bool,
    /// The last scalar written ended its line itself (a block scalar ending in a line break).
    line_ended: bool,
}

const SPACES: &str = "                                                                ";

impl Writer<'_> {
    fn pad(&mut self, indent: usize) {
        if self.inline_next {
            self.inline_next = false;
        } else {
            self.spaces(indent);
        }
    }

    fn spaces(&mut self, n: usize) {
        let mut n = n;
        while n > SPACES.len() {
            self.out.push_str(SPACES);
            n -= SPACES.len();
        }
        self.out.push_str(&SPACES[..n]);
    }

    /// Ends the line, unless the scalar just written already did.
    fn eol(&mut self) {
        if !std::mem::take(&mut self.line_ended) {
            self.out.push('\n');
        }
    }

    /// A string value (after `key: ` or `- `) whose lines, when it has several, are indented by `indent`.
    fn scalar(&mut self, s: &str, indent: usize) {
        self.styled(s, indent, false);
    }

    fn styled(&mut self, s: &str, indent: usize, simple_key: bool) {
        self.styled_as(s, &analyze(s), indent, simple_key);
    }

    /// [`Self::styled`] with the analysis of `s` already made.
    fn styled_as(&mut self, s: &str, analysis: &Analysis, indent: usize, simple_key: bool) {
        match scalar_style(s, analysis, simple_key) {
            Style::Plain => self.out.push_str(s),
            Style::SingleQuoted => self.single_quoted(s, indent),
            Style::DoubleQuoted => self.double_quoted(s),
            Style::Literal => self.literal(s, indent),
        }
    }

    /// `'...'`, quotes doubled; after a line break (only U+2028 and U+2029 get here) the next line is indented.
    fn single_quoted(&mut self, s: &str, indent: usize) {
        self.out.push('\'');
        let mut after_break = false;
        for c in s.chars() {
            if is_break(c) {
                if !after_break && c == '\n' {
                    self.out.push('\n');
                }
                self.out.push(c);
                after_break = true;
            } else {
                if after_break {
                    self.spaces(indent);
                }
                if c == '\'' {
                    self.out.push('\'');
                }
                self.out.push(c);
                after_break = false;
            }
        }
        if after_break {
            self.spaces(indent);
        }
        self.out.push('\'');
    }

    /// `"..."` with libyaml's escapes for what is not printable, line breaks, the BOM, `"` and `\`.
    fn double_quoted(&mut self, s: &str) {
        self.out.push('"');
        for c in s.chars() {
            if is_printable(c) && !is_break(c) && !matches!(c, '\u{feff}' | '"' | '\\') {
                self.out.push(c);
                continue;
            }
            self.out.push('\\');
            let short = match c {
                '\0' => '0',
                '\u{7}' => 'a',
                '\u{8}' => 'b',
                '\t' => 't',
                '\n' => 'n',
                '\u{b}' => 'v',
                '\u{c}' => 'f',
                '\r' => 'r',
                '\u{1b}' => 'e',
                '"' => '"',
                '\\' => '\\',
                '\u{85}' => 'N',
                '\u{a0}' => '_',
                '\u{2028}' => 'L',
                '\u{2029}' => 'P',
                _ => {
                    let n = u32::from(c);
                    let (letter, width) = match n {
                        0..=0xff => ('x', 2),
                        0x100..=0xffff => ('u', 4),
                        _ => ('U', 8),
                    };
                    self.out.push(letter);
                    for k in (0..width).rev() {
                        let digit = (n >> (4 * k)) & 0xf;
                        self.out.push(char::from_digit(digit, 16).map_or('0', |d| d.to_ascii_uppercase()));
                    }
                    continue;
                }
            };
            self.out.push(short);
        }
        self.out.push('"');
    }

    /// A literal block: `|`, an indentation indicator when the text starts with a space or a break, a
    /// chomping indicator (`-` with no final break, `+` with more than one), then the lines at `indent`.
    fn literal(&mut self, s: &str, indent: usize) {
        self.out.push('|');
        if s.starts_with(|c: char| c == ' ' || is_break(c)) {
            self.out.push('2');
        }
        let mut tail = s.chars().rev();
        let keep = match (tail.next(), tail.next()) {
            (Some(last), _) if !is_break(last) => {
                self.out.push('-');
                false
            }
            (_, None) => true,
            (_, Some(before)) => is_break(before),
        };
        if keep {
            self.out.push('+');
        }
        self.out.push('\n');
        let mut after_break = true;
        for c in s.chars() {
            if is_break(c) {
                self.out.push(c);
                after_break = true;
            } else {
                if after_break {
                    self.spaces(indent);
                }
                self.out.push(c);
                after_break = false;
            }
        }
        self.line_ended = after_break;
    }

    fn uint(&mut self, n: u32) {
        let mut buf = [0u8; 10];
        let mut i = buf.len();
        let mut n = n;
        loop {
            i -= 1;
            buf[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        // Only ASCII digits were written.
        self.out.push_str(std::str::from_utf8(&buf[i..]).unwrap_or_default());
    }

    /// `key:` of a field whose name is a plain identifier, at `indent`.
    fn field(&mut self, indent: usize, name: &str) {
        self.pad(indent);
        self.out.push_str(name);
        self.out.push(':');
    }

    /// The key of a map entry with a user-derived name, at `indent`: `key:`, or, for a key longer than 128
    /// bytes or with line breaks, `? key` then `:` on a line of its own. Then `value_opens_map` says whether
    /// the value is a non-empty map, whose first key follows on the same line after `? key`'s `: `.
    fn key(&mut self, indent: usize, name: &str, value_opens_map: bool) {
        let analysis = analyze(name);
        if name.len() <= MAX_SIMPLE_KEY && !analysis.multiline {
            self.pad(indent);
            self.styled_as(name, &analysis, indent + 2, true);
            self.out.push(':');
            if value_opens_map {
                self.out.push('\n');
            }
            return;
        }
        self.pad(indent);
        self.out.push_str("? ");
        self.styled_as(name, &analysis, indent + 2, false);
        self.eol();
        self.spaces(indent);
        self.out.push(':');
        if value_opens_map {
            self.out.push(' ');
            self.inline_next = true;
        }
    }

    fn string_field(&mut self, indent: usize, name: &str, value: &str) {
        self.field(indent, name);
        self.out.push(' ');
        self.scalar(value, indent + 2);
        self.eol();
    }

    fn uint_field(&mut self, indent: usize, name: &str, value: u32) {
        self.field(indent, name);
        self.out.push(' ');
        self.uint(value);
        self.out.push('\n');
    }

    fn bool_field(&mut self, indent: usize, name: &str, value: bool) {
        self.field(indent, name);
        self.out.push_str(if value { " true\n" } else { " false\n" });
    }

    /// A list of strings under a key at `indent`: `[]`, or one `- item` per line at the key's indentation.
    fn string_list(&mut self, indent: usize, items: &[String]) {
        if items.is_empty() {
            self.out.push_str(" []\n");
            return;
        }
        self.out.push('\n');
        for item in items {
            self.pad(indent);
            self.out.push_str("- ");
            self.scalar(item, indent + 2);
            self.eol();
        }
    }

    /// Starts a list item that is a map: `- ` at `indent`, its first key on the same line.
    fn map_item(&mut self, indent: usize) {
        self.pad(indent);
        self.out.push_str("- ");
        self.inline_next = true;
    }

    fn config(&mut self, config: &RenderedConfig) {
        match &config.http {
            None => self.out.push_str("{}\n"),
            Some(http) => {
                self.field(0, "http");
                self.http(2, http);
            }
        }
    }

    fn http(&mut self, indent: usize, http: &Http) {
        if http.routers.is_empty() && http.services.is_empty() {
            self.out.push_str(" {}\n");
            return;
        }
        self.out.push('\n');
        if !http.routers.is_empty() {
            self.field(indent, "routers");
            self.out.push('\n');
            for (name, router) in &http.routers {
                self.key(indent + 2, name, true);
                self.router(indent + 4, router);
            }
        }
        if !http.services.is_empty() {
            self.field(indent, "services");
            self.out.push('\n');
            for (name, service) in &http.services {
                let empty = service.load_balancer.is_none() && service.weighted.is_none();
                self.key(indent + 2, name, !empty);
                self.service(indent + 4, service);
            }
        }
    }

    fn router(&mut self, indent: usize, router: &Router) {
        self.field(indent, "entryPoints");
        self.string_list(indent, &router.entry_points);
        self.string_field(indent, "rule", &router.rule);
        self.uint_field(indent, "priority", router.priority);
        self.string_field(indent, "service", &router.service);
        if !router.middlewares.is_empty() {
            self.field(indent, "middlewares");
            self.string_list(indent, &router.middlewares);
        }
        if let Some(tls) = &router.tls {
            self.router_tls(indent, tls);
        }
    }

    fn router_tls(&mut self, indent: usize, tls: &RouterTls) {
        self.field(indent, "tls");
        if tls.cert_resolver.is_none() && tls.options.is_none() {
            self.out.push_str(" {}\n");
            return;
        }
        self.out.push('\n');
        if let Some(resolver) = &tls.cert_resolver {
            self.string_field(indent + 2, "certResolver", resolver);
        }
        if let Some(options) = &tls.options {
            self.string_field(indent + 2, "options", options);
        }
    }

    /// A service, after its name's key (which ended the line when the service is not empty).
    fn service(&mut self, indent: usize, service: &Service) {
        if service.load_balancer.is_none() && service.weighted.is_none() {
            self.out.push_str(" {}\n");
            return;
        }
        if let Some(lb) = &service.load_balancer {
            self.load_balancer(indent, lb);
        }
        if let Some(weighted) = &service.weighted {
            self.weighted(indent, weighted);
        }
    }

    fn load_balancer(&mut self, indent: usize, lb: &LoadBalancer) {
        self.field(indent, "loadBalancer");
        self.out.push('\n');
        let inner = indent + 2;
        self.field(inner, "servers");
        if lb.servers.is_empty() {
            self.out.push_str(" []\n");
        } else {
            self.out.push('\n');
            for server in &lb.servers {
                self.map_item(inner);
                self.string_field(inner + 2, "url", &server.url);
            }
        }
        if let Some(health) = &lb.health_check {
            self.active_health_check(inner, health);
        }
    }

    fn active_health_check(&mut self, indent: usize, health: &ActiveHealthCheck) {
        self.field(indent, "healthCheck");
        self.out.push('\n');
        self.string_field(indent + 2, "path", &health.path);
        self.string_field(indent + 2, "interval", &health.interval);
        self.string_field(indent + 2, "timeout", &health.timeout);
    }

    fn weighted(&mut self, indent: usize, weighted: &Weighted) {
        self.field(indent, "weighted");
        self.out.push('\n');
        let inner = indent + 2;
        self.field(inner, "services");
        if weighted.services.is_empty() {
            self.out.push_str(" []\n");
        } else {
            self.out.push('\n');
            for child in &weighted.services {
                self.map_item(inner);
                self.string_field(inner + 2, "name", &child.name);
                self.uint_field(inner + 2, "weight", child.weight);
            }
        }
        if let Some(sticky) = &weighted.sticky {
            self.sticky(inner, sticky);
        }
        if weighted.health_check.is_some() {
            self.field(inner, "healthCheck");
            self.out.push_str(" {}\n");
        }
    }

    fn sticky(&mut self, indent: usize, sticky: &Sticky) {
        self.field(indent, "sticky");
        self.out.push('\n');
        self.field(indent + 2, "cookie");
        self.out.push('\n');
        let cookie = &sticky.cookie;
        let inner = indent + 4;
        self.string_field(inner, "name", &cookie.name);
        self.bool_field(inner, "secure", cookie.secure);
        self.bool_field(inner, "httpOnly", cookie.http_only);
        self.string_field(inner, "sameSite", &cookie.same_site);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Strings that must never be written plain, or that look tricky: each is written exactly like serde_yaml.
    pub(crate) const ADVERSARIAL: &[&str] = &[
        "",
        " ",
        "a ",
        " a",
        "0",
        "1",
        "10",
        "-1",
        "+1",
        "1.5",
        "1e5",
        "1E5",
        ".5",
        "5.",
        "0x1F",
        "0o17",
        "0b101",
        "0123",
        "-0123",
        "1_000",
        ".inf",
        "-.inf",
        ".NaN",
        "inf",
        "nan",
        "NaN",
        "infinity",
        "true",
        "True",
        "TRUE",
        "false",
        "False",
        "FALSE",
        "yes",
        "no",
        "on",
        "off",
        "y",
        "n",
        "Yes",
        "NO",
        "null",
        "Null",
        "NULL",
        "~",
        "-",
        "-x",
        "--",
        "---",
        "---x",
        "...",
        "...x",
        "?",
        "?x",
        "? x",
        ":",
        ":x",
        "a:",
        "a: b",
        "a:b",
        "a :b",
        "#x",
        "a#b",
        "a #b",
        "'q'",
        "\"q\"",
        "q'",
        "&a",
        "*a",
        "!a",
        "!!str",
        "%x",
        "@x",
        "`x",
        "|",
        ">",
        "[a]",
        "{a}",
        "a,b",
        "a[b",
        "a{b}",
        "a\tb",
        "a\nb",
        "a\n",
        "\n",
        "a\\b",
        "é",
        "aé",
        "ü-x",
        "日本",
        "a\u{7f}",
        "a\u{85}b",
        "a\u{2028}b",
        "\u{2029}",
        "a\u{2028}  ",
        "\u{feff}a",
        "a  b",
        "a\rb",
        "10s",
        "3s",
        "1m30s",
        "1.5s",
        "500ms",
        "1h",
        "1d",
        "1ns",
        "2h45m",
        "0s",
        "/health",
        "/",
        "//",
        "/a b",
        "/a:b",
        "/a: b",
        "/a#b",
        "http://x-y-1:80",
        "Host(`a.example.com`)",
        "Host(`a`) && PathPrefix(`/admin`)",
        "secure-headers@file",
        "websecure",
        "a_b-c_v1-2-0_web",
        "lax",
        "slot",
        "x=1&y=2",
        "/h?full=1",
        "a?",
        "a,",
        "a!",
        "a%",
        "~a",
        "a~",
        "1-2",
        "1.2.3",
        "12:30",
        "1:20:30",
        "0:0",
        "2024-01-01",
        "2024-01-01T00:00:00Z",
        "0x",
        "0xg",
        "1e",
        "e1",
        "-.5",
        "+.5",
        "+",
        "+-1",
        "0.0.0.0",
        "127.0.0.1",
        "1a",
        "1f",
        "1n",
        "1i",
        "1x1",
    ];

    /// One string as a map value, a list item and a map key, written by this module and by serde_yaml.
    fn assert_like_serde_yaml(s: &str) {
        use std::collections::BTreeMap;
        let value: BTreeMap<&str, &str> = [("k", s)].into_iter().collect();
        let list: BTreeMap<&str, Vec<&str>> = [("k", vec![s, "x"])].into_iter().collect();
        let key: BTreeMap<&str, BTreeMap<&str, &str>> =
            [("k", [(s, "v"), ("z", s)].into_iter().collect())].into_iter().collect();
        let mut out = String::new();
        let mut w = Writer { out: &mut out, inline_next: false, line_ended: false };
        w.string_field(0, "k", s);
        w.field(0, "k");
        w.string_list(0, &[s.to_string(), "x".to_string()]);
        w.field(0, "k");
        w.out.push('\n');
        let mut entries = [(s, "v"), ("z", s)];
        entries.sort_unstable();
        for (k, v) in entries {
            w.key(2, k, false);
            w.out.push(' ');
            w.scalar(v, 4);
            w.eol();
        }
        let reference = [serde_yaml::to_string(&value), serde_yaml::to_string(&list), serde_yaml::to_string(&key)]
            .map(Result::unwrap)
            .concat();
        assert_eq!(out, reference, "{s:?}");
    }

    #[test]
    fn adversarial_strings_are_written_like_serde_yaml() {
        for s in ADVERSARIAL {
            assert_like_serde_yaml(s);
        }
    }

    #[test]
    fn line_breaks_and_escapes_are_written_like_serde_yaml() {
        for s in [
            "a\nb",
            "a\n",
            "a\n\n",
            "\n",
            "\n\n",
            "\na",
            " a\nb",
            "a\n b",
            "a \nb",
            "a\nb ",
            "a\n\nb\n\n\n",
            "a\u{2028}b",
            "a\u{2028}",
            "\u{2028}",
            "a\u{2028}\u{2029}b",
            "a\u{2028} b",
            "a \u{2028}b",
            "'a\u{2028}'",
            "a\n\u{2028}",
            "a\u{2028}\n",
            "a\nb\u{2028}c",
            "\u{2028}\n",
            "a\tb\nc",
            "\u{85}",
            "a\u{85}\nb",
            "\u{0}",
            "\u{1}\u{7f}\u{9f}",
            "\u{feff}",
            "\u{fffe}\u{ffff}",
            "\u{10ffff}",
            "\u{1b}\u{b}\u{c}",
            "\u{7}\u{8}",
            "\"\\",
            "é\nü",
            "#a\nb",
            "- a\nb",
            "---\nx",
            "...\n",
            "a: b\nc",
            "a\r\nb",
        ] {
            assert_like_serde_yaml(s);
        }
        let long = "k".repeat(129);
        assert_like_serde_yaml(&long);
        assert_like_serde_yaml(&format!("{long}\nx"));
        assert_like_serde_yaml(&"k".repeat(128));
    }

    #[test]
    fn dangerous_strings_are_not_plain() {
        for s in [
            "", "1", "-1", "1.5", "1e5", "0x1F", "0123", ".inf", "true", "False", "null", "~", "a: b", "#x", "a #b",
            "'q'", " a", "a ", "a:", "---", "a\nb",
        ] {
            assert_ne!(scalar_style(s, &analyze(s), false), Style::Plain, "{s:?}");
        }
        for s in ["10s", "/health", "http://x-y-1:80", "Host(`a.b`) && PathPrefix(`/p`)", "a_b", "lax", "x@file", "-x"]
        {
            assert_eq!(scalar_style(s, &analyze(s), false), Style::Plain, "{s:?}");
        }
    }
}
