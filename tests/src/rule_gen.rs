//! Router rules for the differential suite: made from Traefik v3's grammar (matchers, `&&`, `||`, `!`,
//! parentheses, Go string literals) with values drawn from pools of what people write and what breaks parsers
//! (quotes, escapes, arity, nesting, Go regexp syntax and its limits, IPs and CIDRs, Unicode, long literals),
//! then mutated at the character level. Deterministic: the same seed gives the same rules.

/// SplitMix64: small, fast, and the same everywhere.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const HOSTS: &[&str] = &[
    "example.com",
    "a",
    "localhost",
    "127.0.0.1",
    "[::1]",
    "::1",
    "*.example.com",
    "bücher.de",
    "xn--bcher-kva.de",
    "EXAMPLE.com",
    "a.b-c.d",
    "host:8080",
    "{sub}.example.com",
    "a b",
    "",
    "-a.com",
];

const PATHS: &[&str] =
    &["/", "/api", "api", "/a b", "/ü", "/%2F", "/x/../y", "", "/{id}", "//", "/a\\b", "/a?b", "/a#b", "*"];

const REGEXPS: &[&str] = &[
    "^/api",
    "[a-z]+",
    "(?i)abc",
    "\\d+",
    "(?P<n>x)",
    "(?<n>x)",
    "(?P<1>x)",
    "a{1000}",
    "a{1001}",
    "a{2,1}",
    "a{,5}",
    "(?:a{10}){100}",
    "(?:a{100}){100}",
    "(?:a{1000}){0}",
    "(a{10}|b){101}",
    "x**",
    "x+?",
    "(?=x)",
    "\\1",
    "[[:alpha:]]",
    "[[:foo:]]",
    "\\pL",
    "\\p{Greek}",
    "\\p{Zzzz}",
    "[z-a]",
    "(",
    ")",
    "\\Q.*\\E",
    "\\C",
    "\\z",
    "\\Z",
    "{domain:[a-z]+}",
    "(?i",
    "(?U)a+",
    "(?s).",
    "(?-)",
    "\\b",
    "\\<",
    "\\_",
    "[\\d-z]",
    "\\x{10FFFF}",
    "\\x{110000}",
    "\\8",
    "[]a]",
    "^$",
    "é+",
];

const METHODS: &[&str] = &["GET", "get", "POST", "PURGE", "G E T", ""];

const NAMES: &[&str] = &["X-Key", "Content-Type", "x", "", "a:b", "X Key", "ü"];

const VALUES: &[&str] = &["value", "", "1", "a b", "ü", "*"];

const IPS: &[&str] = &[
    "10.0.0.1",
    "10.0.0.0/8",
    "10.0.0.0/08",
    "10.0.0.0/0032",
    "::1",
    "2001:db8::/32",
    "010.0.0.1",
    "10.0.0.256",
    "1.2.3.4/33",
    "fe80::1%eth0",
    "::ffff:1.2.3.4",
    "",
    "10.0.0.0/",
    "10.0.0.0/a",
    "1.2.3.4/-1",
    "1.2.3.4/ 8",
    "1.2.3",
    "::/0",
    "0.0.0.0/0",
];

/// The HTTP matchers and what their arguments are drawn from.
const MATCHERS: &[(&str, &[&[&str]])] = &[
    ("Host", &[HOSTS]),
    ("HostRegexp", &[REGEXPS]),
    ("Path", &[PATHS]),
    ("PathPrefix", &[PATHS]),
    ("PathRegexp", &[REGEXPS]),
    ("Method", &[METHODS]),
    ("Header", &[NAMES, VALUES]),
    ("HeaderRegexp", &[NAMES, REGEXPS]),
    ("Query", &[NAMES]),
    ("Query", &[NAMES, VALUES]),
    ("QueryRegexp", &[NAMES, REGEXPS]),
    ("ClientIP", &[IPS]),
];

/// Pieces inserted by mutations.
const INSERTS: &[&str] = &[
    "(", ")", "`", "\"", ",", "!", "&&", "||", "&", "|", " ", "\n", "\t", "\\", "...", "/* c */", "// c\n", "'",
    "\u{0}", "é", "\u{feff}", "0", "Host", "\r", ".", "..", "{", "}",
];

/// A matcher's name as written: Traefik's, all lower, all upper, capitalised lower, or mixed.
fn spelling(rng: &mut Rng, name: &str) -> String {
    match rng.below(10) {
        0 => name.to_lowercase(),
        1 => name.to_uppercase(),
        2 => {
            let lower = name.to_lowercase();
            let mut chars = lower.chars();
            chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
        }
        3 => name.chars().enumerate().map(|(i, c)| if i % 2 == 1 { c.to_ascii_uppercase() } else { c }).collect(),
        _ => name.to_string(),
    }
}

/// A Go string literal of `value`: raw (backticks) when it can be, else interpreted with Go's escapes, some
/// written as `\x`, `\u` or octal.
fn literal(rng: &mut Rng, value: &str) -> String {
    if !value.contains('`') && rng.chance(60) {
        return format!("`{value}`");
    }
    let mut out = String::from("\"");
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if !c.is_ascii() && rng.chance(30) => out.push_str(&format!("\\u{:04x}", c as u32)),
            'a' if rng.chance(10) => out.push_str("\\x61"),
            'a' if rng.chance(10) => out.push_str("\\141"),
            c => out.push(c),
        }
    }
    if rng.chance(3) {
        // Escapes that make bytes which are not UTF-8: Go keeps them.
        const NOT_UTF8: [&str; 3] = ["\\xff", "\\377", "\\xc3"];
        out.push_str(NOT_UTF8[rng.below(NOT_UTF8.len())]);
    }
    out.push('"');
    out
}

fn matcher(rng: &mut Rng) -> String {
    let (name, pools) = *rng.pick(MATCHERS);
    let mut args: Vec<String> = pools
        .iter()
        .map(|pool| {
            let value = if rng.chance(2) { "a".repeat(1 + rng.below(5000)) } else { rng.pick(pool).to_string() };
            literal(rng, &value)
        })
        .collect();
    match rng.below(20) {
        0 => args.clear(),
        1 => args.push(literal(rng, "extra")),
        2 => args.truncate(1),
        _ => {}
    }
    let mut text = format!("{}({}", spelling(rng, name), args.join(", "));
    if rng.chance(3) {
        text.push_str("...");
    }
    if rng.chance(3) {
        text.push(',');
    }
    text.push(')');
    text
}

fn expr(rng: &mut Rng, depth: usize) -> String {
    if depth == 0 {
        return matcher(rng);
    }
    match rng.below(10) {
        0..=3 => matcher(rng),
        4 | 5 => format!("{} && {}", expr(rng, depth - 1), expr(rng, depth - 1)),
        6 | 7 => format!("{} || {}", expr(rng, depth - 1), expr(rng, depth - 1)),
        8 => format!("!{}", expr(rng, depth - 1)),
        _ => format!("({})", expr(rng, depth - 1)),
    }
}

/// One character-level mutation at a character boundary.
fn mutate(rng: &mut Rng, rule: &mut String) {
    let boundaries: Vec<usize> = rule.char_indices().map(|(i, _)| i).chain([rule.len()]).collect();
    let at = *rng.pick(&boundaries);
    match rng.below(3) {
        0 if at < rule.len() => {
            rule.remove(at);
        }
        1 => {
            let end = *rng.pick(&boundaries);
            let (a, b) = (at.min(end), at.max(end));
            let b = boundaries.iter().copied().filter(|&i| i <= b.min(a + 20)).max().unwrap_or(a);
            let piece = rule[a..b].to_string();
            rule.insert_str(at, &piece);
        }
        _ => {
            let piece = *rng.pick(INSERTS);
            rule.insert_str(at, piece);
        }
    }
}

/// One rule: mostly well-formed, often mutated, sometimes deeply nested.
pub fn rule(rng: &mut Rng) -> String {
    let mut rule = expr(rng, 3);
    if rng.chance(5) {
        // Nesting on both sides of switchyard's parser's limit of 64 (beyond it, a flat pass checks the rule).
        let depth = 1 + rng.below(150);
        rule = if rng.chance(50) {
            format!("{}{rule}{}", "(".repeat(depth), ")".repeat(depth))
        } else {
            format!("{}({rule})", "!".repeat(depth))
        };
    }
    if rng.chance(40) {
        for _ in 0..1 + rng.below(2) {
            mutate(rng, &mut rule);
        }
    }
    if rng.chance(5) {
        rule = format!("  {rule}\n");
    }
    rule
}

/// `n` rules from `seed`. None holds `{{`: Traefik's file provider reads every file as a Go template, so such a
/// rule would break its whole file, not its router.
pub fn rules(seed: u64, n: usize) -> Vec<String> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let rule = rule(&mut rng);
        if !rule.contains("{{") {
            out.push(rule);
        }
    }
    out
}
