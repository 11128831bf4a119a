//! A dedicated YAML writer for [`DynamicConfig`], byte-identical to the generic serialiser in [`crate::yaml`]
//! (serde_yaml) and several times faster. The shape of the configuration is fixed (maps with string keys,
//! lists, strings, integers, booleans and the empty `{}`), so this writes it directly in the block style
//! serde_yaml uses: two-space indentation, lists not indented under their key, empty maps and lists as `{}`
//! and `[]`.
//!
//! The only judgement is how to write a string. [`is_plain_safe`] is a deliberately narrow predicate for
//! strings that serde_yaml writes unquoted; every other string is handed to [`crate::yaml::to_string`] on its
//! own, and when even that is not a single line (or a map key is not plain-safe, or longer than the 128 bytes
//! of a YAML simple key) the whole document is. Switchyard's strings are validated names, hosts, paths, URLs
//! and durations, so the fallback is rare; the tests compare both writers byte for byte.

use crate::traefik::{
    ActiveHealthCheck, DynamicConfig, Http, LoadBalancer, Router, RouterTls, Service, Sticky, Weighted,
};
use crate::yaml;

/// Why the fast path gave up.
enum Fallback {
    /// Write the whole document with the generic serialiser.
    Document,
    /// The generic serialiser failed.
    Error(String),
}

/// The longest map key written as a YAML simple key (`key: value`); longer ones become `? key`.
const MAX_SIMPLE_KEY: usize = 128;

/// YAML for a configuration: exactly what [`crate::yaml::to_string`] gives for it.
pub fn to_string(config: &DynamicConfig) -> Result<String, String> {
    let mut out = String::new();
    append(&mut out, config)?;
    Ok(out)
}

/// Appends the YAML of `config` to `out` (exactly what [`crate::yaml::to_string`] gives for it).
pub fn append(out: &mut String, config: &DynamicConfig) -> Result<(), String> {
    let start = out.len();
    out.reserve(estimate(config));
    let mut w = Writer { out, inline_next: false, fallbacks: 0 };
    match w.config(config) {
        Ok(()) => Ok(()),
        Err(Fallback::Document) => {
            out.truncate(start);
            out.push_str(&yaml::to_string(config)?);
            Ok(())
        }
        Err(Fallback::Error(e)) => Err(e),
    }
}

/// Roughly the size of the output, so that the string is allocated once.
fn estimate(config: &DynamicConfig) -> usize {
    config.http.as_ref().map_or(8, |h| 32 + 320 * h.routers.len() + 320 * h.services.len())
}

/// True when serde_yaml writes `s` as a plain (unquoted) scalar in block context, judged conservatively: a
/// false answer only means "ask serde_yaml". Plain-safe strings are non-empty ASCII that
/// - start with a letter, a digit or `/` (no indicator such as `-`, `?`, `:`, `#`, `&`, `*`, `!`, `|`, `>`,
///   `'`, `"`, `%`, `@` or a backtick, and no `---` or `...`);
/// - contain only letters, digits, spaces and ``-_./:@()`&%!$*+,;~=?``, with no space at either end, no `:`
///   followed by a space or at the end (a mapping), and no `#` (a comment);
/// - do not read as another type: not `null`, `Null`, `NULL`, `true`, `True`, `TRUE`, `false`, `False`,
///   `FALSE`, and not made only of characters that can spell a number (digits, hex digits, signs, `.`, `_`,
///   `x`, `o`, `i`, `n`) when starting with a digit.
pub fn is_plain_safe(s: &str) -> bool {
    let bytes = s.as_bytes();
    let Some(&first) = bytes.first() else { return false };
    if !(first.is_ascii_alphanumeric() || first == b'/') {
        return false;
    }
    let mut previous = 0u8;
    for &b in bytes {
        if !PLAIN_BYTES[usize::from(b)] || (previous == b':' && b == b' ') {
            return false;
        }
        previous = b;
    }
    if matches!(previous, b' ' | b':') {
        return false;
    }
    if first.is_ascii_digit() {
        // Integers (also 0x.., 0o.., 0b..) and finite floats (1e5, 1.5) use no other characters.
        let number_like = bytes.iter().all(|&b| {
            b.is_ascii_hexdigit() || matches!(b, b'.' | b'_' | b'+' | b'-' | b'x' | b'X' | b'o' | b'O' | b'i' | b'n')
        });
        return !number_like;
    }
    !matches!(s, "null" | "Null" | "NULL" | "true" | "True" | "TRUE" | "false" | "False" | "FALSE")
}

/// The bytes a plain-safe string may contain (see [`is_plain_safe`]).
const PLAIN_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric();
        b += 1;
    }
    let others = b"-_./@()`&%!$*+,;~=? :";
    let mut i = 0;
    while i < others.len() {
        table[others[i] as usize] = true;
        i += 1;
    }
    table
};

struct Writer<'a> {
    out: &'a mut String,
    /// The next line starts after a `- ` already written (the first key of a map in a list).
    inline_next: bool,
    /// How many strings were handed to serde_yaml.
    fallbacks: usize,
}

const SPACES: &str = "                                                                ";

impl Writer<'_> {
    fn pad(&mut self, indent: usize) {
        if self.inline_next {
            self.inline_next = false;
        } else {
            self.out.push_str(&SPACES[..indent]);
        }
    }

    /// A string value (after `key: ` or `- `).
    fn scalar(&mut self, s: &str) -> Result<(), Fallback> {
        if is_plain_safe(s) {
            self.out.push_str(s);
            return Ok(());
        }
        // Outside printable ASCII, libyaml may write a line break (`\u{2028}`, `\u{85}`, ...) followed by the
        // indentation of the place the scalar is in: only the whole document gives the right bytes.
        if !s.bytes().all(|b| (b' '..=b'~').contains(&b)) {
            return Err(Fallback::Document);
        }
        self.fallbacks += 1;
        let text = yaml::to_string(&s).map_err(Fallback::Error)?;
        // Only a one-line scalar is the same wherever it is written; anything else goes through serde_yaml whole.
        match text.strip_suffix('\n') {
            Some(line) if !line.contains('\n') && !line.starts_with("---") && !line.starts_with("...") => {
                self.out.push_str(line);
                Ok(())
            }
            _ => Err(Fallback::Document),
        }
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

    /// `key:` of a map entry with a user-derived name, at `indent`.
    fn key(&mut self, indent: usize, name: &str) -> Result<(), Fallback> {
        if name.len() > MAX_SIMPLE_KEY || !is_plain_safe(name) {
            return Err(Fallback::Document);
        }
        self.field(indent, name);
        Ok(())
    }

    fn string_field(&mut self, indent: usize, name: &str, value: &str) -> Result<(), Fallback> {
        self.field(indent, name);
        self.out.push(' ');
        self.scalar(value)?;
        self.out.push('\n');
        Ok(())
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
    fn string_list(&mut self, indent: usize, items: &[String]) -> Result<(), Fallback> {
        if items.is_empty() {
            self.out.push_str(" []\n");
            return Ok(());
        }
        self.out.push('\n');
        for item in items {
            self.pad(indent);
            self.out.push_str("- ");
            self.scalar(item)?;
            self.out.push('\n');
        }
        Ok(())
    }

    /// Starts a list item that is a map: `- ` at `indent`, its first key on the same line.
    fn map_item(&mut self, indent: usize) {
        self.pad(indent);
        self.out.push_str("- ");
        self.inline_next = true;
    }

    fn config(&mut self, config: &DynamicConfig) -> Result<(), Fallback> {
        match &config.http {
            None => self.out.push_str("{}\n"),
            Some(http) => {
                self.field(0, "http");
                self.http(2, http)?;
            }
        }
        Ok(())
    }

    fn http(&mut self, indent: usize, http: &Http) -> Result<(), Fallback> {
        if http.routers.is_empty() && http.services.is_empty() {
            self.out.push_str(" {}\n");
            return Ok(());
        }
        self.out.push('\n');
        if !http.routers.is_empty() {
            self.field(indent, "routers");
            self.out.push('\n');
            for (name, router) in &http.routers {
                self.key(indent + 2, name)?;
                self.out.push('\n');
                self.router(indent + 4, router)?;
            }
        }
        if !http.services.is_empty() {
            self.field(indent, "services");
            self.out.push('\n');
            for (name, service) in &http.services {
                self.key(indent + 2, name)?;
                self.service(indent + 4, service)?;
            }
        }
        Ok(())
    }

    fn router(&mut self, indent: usize, router: &Router) -> Result<(), Fallback> {
        self.field(indent, "entryPoints");
        self.string_list(indent, &router.entry_points)?;
        self.string_field(indent, "rule", &router.rule)?;
        self.uint_field(indent, "priority", router.priority);
        self.string_field(indent, "service", &router.service)?;
        if !router.middlewares.is_empty() {
            self.field(indent, "middlewares");
            self.string_list(indent, &router.middlewares)?;
        }
        if let Some(tls) = &router.tls {
            self.router_tls(indent, tls)?;
        }
        Ok(())
    }

    fn router_tls(&mut self, indent: usize, tls: &RouterTls) -> Result<(), Fallback> {
        self.field(indent, "tls");
        match &tls.cert_resolver {
            None => self.out.push_str(" {}\n"),
            Some(resolver) => {
                self.out.push('\n');
                self.string_field(indent + 2, "certResolver", resolver)?;
            }
        }
        Ok(())
    }

    /// A service, after its name's `name:`.
    fn service(&mut self, indent: usize, service: &Service) -> Result<(), Fallback> {
        if service.load_balancer.is_none() && service.weighted.is_none() {
            self.out.push_str(" {}\n");
            return Ok(());
        }
        self.out.push('\n');
        if let Some(lb) = &service.load_balancer {
            self.load_balancer(indent, lb)?;
        }
        if let Some(weighted) = &service.weighted {
            self.weighted(indent, weighted)?;
        }
        Ok(())
    }

    fn load_balancer(&mut self, indent: usize, lb: &LoadBalancer) -> Result<(), Fallback> {
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
                self.string_field(inner + 2, "url", &server.url)?;
            }
        }
        if let Some(health) = &lb.health_check {
            self.active_health_check(inner, health)?;
        }
        Ok(())
    }

    fn active_health_check(&mut self, indent: usize, health: &ActiveHealthCheck) -> Result<(), Fallback> {
        self.field(indent, "healthCheck");
        self.out.push('\n');
        self.string_field(indent + 2, "path", &health.path)?;
        self.string_field(indent + 2, "interval", &health.interval)?;
        self.string_field(indent + 2, "timeout", &health.timeout)
    }

    fn weighted(&mut self, indent: usize, weighted: &Weighted) -> Result<(), Fallback> {
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
                self.string_field(inner + 2, "name", &child.name)?;
                self.uint_field(inner + 2, "weight", child.weight);
            }
        }
        if let Some(sticky) = &weighted.sticky {
            self.sticky(inner, sticky)?;
        }
        if weighted.health_check.is_some() {
            self.field(inner, "healthCheck");
            self.out.push_str(" {}\n");
        }
        Ok(())
    }

    fn sticky(&mut self, indent: usize, sticky: &Sticky) -> Result<(), Fallback> {
        self.field(indent, "sticky");
        self.out.push('\n');
        self.field(indent + 2, "cookie");
        self.out.push('\n');
        let cookie = &sticky.cookie;
        let inner = indent + 4;
        self.string_field(inner, "name", &cookie.name)?;
        self.bool_field(inner, "secure", cookie.secure);
        self.bool_field(inner, "httpOnly", cookie.http_only);
        self.string_field(inner, "sameSite", &cookie.same_site)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Strings that must never be written plain, or that look tricky: each is either plain-safe and written
    /// exactly like serde_yaml, or routed to serde_yaml.
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

    #[test]
    fn adversarial_strings_match_serde_yaml_or_fall_back() {
        for s in ADVERSARIAL {
            let reference = yaml::to_string(s).unwrap();
            if is_plain_safe(s) {
                assert_eq!(reference, format!("{s}\n"), "{s:?} is judged plain-safe but serde_yaml quotes it");
            }
            let mut out = String::new();
            let mut w = Writer { out: &mut out, inline_next: false, fallbacks: 0 };
            match w.scalar(s) {
                Ok(()) => assert_eq!(format!("{out}\n"), reference, "{s:?}"),
                Err(Fallback::Document) => assert!(!s.bytes().all(|b| (b' '..=b'~').contains(&b)), "{s:?}"),
                Err(Fallback::Error(e)) => panic!("{s:?}: {e}"),
            }
        }
    }

    #[test]
    fn rendered_configurations_take_the_fast_path() {
        use crate::{Context, EXAMPLE_SPEC, EnvKey, Request, Spec, World, apply};
        let spec = Spec::parse(EXAMPLE_SPEC, "switchyard.yaml").unwrap();
        let key = EnvKey::new("whoami", "dev");
        let mut world = World::new();
        for request in [
            Request::Create,
            Request::Deploy { version: "v1.2.0".into() },
            Request::Promote { version: "v1.2.0".into(), share: 100 },
            Request::Deploy { version: "v1.3.0-rc.1".into() },
            Request::Promote { version: "v1.3.0-rc.1".into(), share: 10 },
        ] {
            let out = apply(&spec, &world, &key, &request, &Context::default()).unwrap();
            world.insert(key.clone(), out.state);
        }
        let config = crate::render::render_env(&spec, &world[&key]).unwrap().config;
        assert!(config.services().any(|(_, s)| s.weighted.as_ref().is_some_and(|w| w.services.len() == 2)));
        let mut out = String::new();
        let mut w = Writer { out: &mut out, inline_next: false, fallbacks: 0 };
        assert!(w.config(&config).is_ok(), "a fallback");
        assert_eq!(w.fallbacks, 0);
        assert_eq!(out, yaml::to_string(&config).unwrap());
    }

    #[test]
    fn dangerous_strings_are_not_plain_safe() {
        for s in [
            "", "1", "-1", "1.5", "1e5", "0x1F", "0123", ".inf", "true", "False", "null", "~", "-x", "a: b", "#x",
            "a #b", "'q'", "é", " a", "a ", "a:", "---", "a\nb",
        ] {
            // `-x` is written plain by serde_yaml, but the predicate need not know that.
            assert!(!is_plain_safe(s), "{s:?}");
        }
        for s in ["10s", "/health", "http://x-y-1:80", "Host(`a.b`) && PathPrefix(`/p`)", "a_b", "lax", "x@file"] {
            assert!(is_plain_safe(s), "{s:?}");
        }
    }
}
