//! The Go parsing rules Traefik's file provider applies, reimplemented so that we accept and refuse exactly the
//! same values.
//!
//! Traefik decodes a file in three steps (`github.com/traefik/paerser`, `file.DecodeContent`): the YAML
//! (`gopkg.in/yaml.v3`) or TOML (`BurntSushi/toml`) parser gives a generic map; every scalar is turned back into
//! a string (`getSimpleValue`: integers in decimal, floats with `strconv.FormatFloat(f, 'f', 6, 64)` minus a
//! trailing `.000000`, booleans as `true`/`false`); then each string is parsed again into the field's Go type
//! with `strconv.ParseInt(s, 10, 64)`, `strconv.ParseBool`, or, for durations, `ParseInt` as seconds falling
//! back to `time.ParseDuration`. So a quoted `"10"` is a fine integer, `3.0` is the integer 3, and `3.5`,
//! `yes` or `10 s` are refused.

/// `strconv.ParseInt(s, 10, 64)`: an optional sign and decimal digits, nothing else.
pub(crate) fn parse_int10(s: &str) -> Option<i64> {
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'+') => (false, &s[1..]),
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut value: i128 = 0;
    for b in digits.bytes() {
        value = value * 10 + i128::from(b - b'0');
        if value > i128::from(i64::MAX) + 1 {
            return None;
        }
    }
    i64::try_from(if negative { -value } else { value }).ok()
}

/// `strconv.ParseInt(s, 0, 64)` and, failing that, `strconv.ParseUint(s, 0, 64)`, as yaml.v3 resolves a plain
/// scalar (after removing underscores): `0x`, `0o`, `0b` prefixes and a leading `0` for octal.
pub(crate) fn parse_int_base0(s: &str) -> Option<i128> {
    let (negative, rest) = match s.as_bytes().first() {
        Some(b'+') => (false, &s[1..]),
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    let lower = |i: usize| rest.as_bytes().get(i).map(u8::to_ascii_lowercase);
    let (radix, digits) = match (lower(0), lower(1)) {
        (Some(b'0'), Some(b'x')) => (16, &rest[2..]),
        (Some(b'0'), Some(b'o')) => (8, &rest[2..]),
        (Some(b'0'), Some(b'b')) => (2, &rest[2..]),
        (Some(b'0'), Some(_)) => (8, &rest[1..]),
        _ => (10, rest),
    };
    if digits.is_empty() {
        return None;
    }
    let mut value: i128 = 0;
    for c in digits.chars() {
        value = value * radix + i128::from(c.to_digit(radix as u32)?);
        if value > i128::from(u64::MAX) {
            return None;
        }
    }
    if negative {
        // ParseInt accepts down to i64::MIN; ParseUint refuses any sign.
        (value <= i128::from(i64::MAX) + 1).then_some(-value)
    } else {
        Some(value)
    }
}

/// `strconv.ParseBool`.
pub(crate) fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// A paerser `types.Duration`: an integer is a number of seconds, anything else goes through
/// `time.ParseDuration`. Returns nanoseconds.
pub(crate) fn parse_paerser_duration(s: &str) -> Option<i128> {
    match parse_int10(s) {
        Some(seconds) => Some(i128::from(seconds) * 1_000_000_000),
        None => parse_go_duration(s),
    }
}

/// `time.ParseDuration`: `[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+`, units `ns`, `us`/`µs`/`μs`, `ms`, `s`, `m`, `h`;
/// `0` alone needs no unit. Returns nanoseconds.
pub(crate) fn parse_go_duration(s: &str) -> Option<i128> {
    const LIMIT: i128 = 1 << 63;
    let (negative, mut rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: i128 = 0;
    while !rest.is_empty() {
        let first = rest.as_bytes()[0];
        if !(first == b'.' || first.is_ascii_digit()) {
            return None;
        }
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let int_part = &rest[..int_len];
        rest = &rest[int_len..];
        let mut frac_part = "";
        if rest.starts_with('.') {
            let frac_len = rest[1..].bytes().take_while(u8::is_ascii_digit).count();
            frac_part = &rest[1..1 + frac_len];
            rest = &rest[1 + frac_len..];
        }
        if int_part.is_empty() && frac_part.is_empty() {
            return None;
        }
        let unit_len = rest.bytes().take_while(|b| *b != b'.' && !b.is_ascii_digit()).count();
        let unit: i128 = match &rest[..unit_len] {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        rest = &rest[unit_len..];
        let mut value: i128 = 0;
        for b in int_part.bytes() {
            value = value * 10 + i128::from(b - b'0');
            if value > LIMIT {
                return None;
            }
        }
        value = value.checked_mul(unit).filter(|v| *v <= LIMIT)?;
        // Go keeps the fraction's leading digits (as many as fit) and scales them by the unit.
        let mut fraction: i128 = 0;
        let mut scale: i128 = 1;
        for b in frac_part.bytes().take(18) {
            fraction = fraction * 10 + i128::from(b - b'0');
            scale *= 10;
        }
        value += fraction * unit / scale;
        total += value;
        if total > LIMIT {
            return None;
        }
    }
    if negative { Some(-total) } else { (total < LIMIT).then_some(total) }
}

/// How paerser turns a float back into text: `strconv.FormatFloat(f, 'f', 6, 64)` minus a trailing `.000000`.
pub(crate) fn format_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_string();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.to_string();
    }
    let text = format!("{f:.6}");
    match text.strip_suffix(".000000") {
        Some(int) => int.to_string(),
        None => text,
    }
}

/// yaml.v3's float syntax for plain scalars (`yamlStyleFloat`): `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`.
fn yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// What yaml.v3 makes of a plain (unquoted, untagged) scalar when it decodes into `interface{}`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Resolved {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str,
}

/// yaml.v3's `resolve` for plain scalars. Timestamps stay strings: yaml.v3 keeps them as text when the target is
/// `interface{}`, which is what paerser decodes into.
pub(crate) fn resolve_plain(s: &str) -> Resolved {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Resolved::Null,
        "true" | "True" | "TRUE" => return Resolved::Bool(true),
        "false" | "False" | "FALSE" => return Resolved::Bool(false),
        ".nan" | ".NaN" | ".NAN" => return Resolved::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Resolved::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Resolved::Float(f64::NEG_INFINITY),
        _ => {}
    }
    match s.as_bytes()[0] {
        b'.' => match s.parse::<f64>() {
            Ok(f) if yaml_style_float(s) => Resolved::Float(f),
            _ => Resolved::Str,
        },
        b'+' | b'-' | b'0'..=b'9' => {
            let plain: std::borrow::Cow<'_, str> = if s.contains('_') {
                std::borrow::Cow::Owned(s.replace('_', ""))
            } else {
                std::borrow::Cow::Borrowed(s)
            };
            if let Some(i) = parse_int_base0(&plain) {
                return match i64::try_from(i) {
                    Ok(i) => Resolved::Int(i),
                    // A uint64 above i64::MAX: kept as a number (Traefik has no field that could hold it).
                    Err(_) => Resolved::Float(i as f64),
                };
            }
            if yaml_style_float(&plain)
                && let Ok(f) = plain.parse::<f64>()
            {
                return Resolved::Float(f);
            }
            Resolved::Str
        }
        _ => Resolved::Str,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_like_strconv() {
        assert_eq!(parse_int10("42"), Some(42));
        assert_eq!(parse_int10("+42"), Some(42));
        assert_eq!(parse_int10("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_int10("9223372036854775808"), None);
        for bad in ["", "+", "4 2", "0x10", "1_000", "3.0", "1e3"] {
            assert_eq!(parse_int10(bad), None, "{bad}");
        }
        assert_eq!(parse_int_base0("0x1F"), Some(31));
        assert_eq!(parse_int_base0("010"), Some(8));
        assert_eq!(parse_int_base0("0o17"), Some(15));
        assert_eq!(parse_int_base0("-0b101"), Some(-5));
        assert_eq!(parse_int_base0("08"), None);
        assert_eq!(parse_int_base0("18446744073709551615"), Some(i128::from(u64::MAX)));
    }

    #[test]
    fn durations_like_go() {
        assert_eq!(parse_paerser_duration("10"), Some(10_000_000_000));
        assert_eq!(parse_paerser_duration("1m30s"), Some(90_000_000_000));
        assert_eq!(parse_paerser_duration("1.5h"), Some(5_400_000_000_000));
        assert_eq!(parse_paerser_duration(".5s"), Some(500_000_000));
        assert_eq!(parse_paerser_duration("-1s"), Some(-1_000_000_000));
        assert_eq!(parse_paerser_duration("0"), Some(0));
        assert_eq!(parse_paerser_duration("100\u{b5}s"), Some(100_000));
        for bad in ["", "s", "10 s", "10sec", "1.500000", "1d", ".s", "-", "1s2"] {
            assert_eq!(parse_paerser_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn yaml_v3_resolution() {
        assert_eq!(resolve_plain("~"), Resolved::Null);
        assert_eq!(resolve_plain("True"), Resolved::Bool(true));
        assert_eq!(resolve_plain("yes"), Resolved::Str);
        assert_eq!(resolve_plain("1_000"), Resolved::Int(1000));
        assert_eq!(resolve_plain("0x10"), Resolved::Int(16));
        assert_eq!(resolve_plain("08"), Resolved::Float(8.0));
        assert_eq!(resolve_plain("3.5"), Resolved::Float(3.5));
        assert_eq!(resolve_plain("1e3"), Resolved::Float(1000.0));
        assert_eq!(resolve_plain("2024-01-01"), Resolved::Str);
        assert_eq!(resolve_plain("10s"), Resolved::Str);
        assert_eq!(resolve_plain("-"), Resolved::Str);
        assert_eq!(format_float(3.0), "3");
        assert_eq!(format_float(3.5), "3.500000");
    }
}
