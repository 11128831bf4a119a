//! Time as data: timestamps and durations are passed in, never read from a clock.

use std::fmt;

/// Seconds since the Unix epoch, UTC. Rendered as RFC 3339 (`2026-11-27T06:55:53Z`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// Parses RFC 3339 in UTC (`2026-11-27T06:55:53Z`) or plain Unix seconds.
    pub fn parse(s: &str) -> Result<Self, String> {
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            return s.parse().map(Timestamp).map_err(|e| format!("{s:?}: {e}"));
        }
        let err = || format!("{s:?} is not a UTC timestamp like 2026-11-27T06:55:53Z or Unix seconds");
        let b = s.as_bytes();
        if b.len() != 20
            || b[4] != b'-'
            || b[7] != b'-'
            || b[10] != b'T'
            || b[13] != b':'
            || b[16] != b':'
            || b[19] != b'Z'
        {
            return Err(err());
        }
        let num = |r: std::ops::Range<usize>| -> Result<u64, String> {
            let part = s.get(r).ok_or_else(err)?;
            if !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err());
            }
            part.parse::<u64>().map_err(|_| err())
        };
        let (y, mo, d, h, mi, se) = (num(0..4)?, num(5..7)?, num(8..10)?, num(11..13)?, num(14..16)?, num(17..19)?);
        if y < 1970 || !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) || h > 23 || mi > 59 || se > 59 {
            return Err(err());
        }
        let days = days_from_civil(y as i64, mo as i64, d as i64);
        Ok(Timestamp(days as u64 * 86_400 + h * 3600 + mi * 60 + se))
    }
}

fn is_leap(y: u64) -> bool {
    (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400)
}

fn days_in_month(y: u64, m: u64) -> u64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's civil-date algorithms (public domain arithmetic, written out here).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0;
        let (y, m, d) = civil_from_days((secs / 86_400) as i64);
        let rem = secs % 86_400;
        write!(f, "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Timestamp::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A span of time written the way Go and Traefik write it: `500ms`, `10s`, `5m`, `1h30m`, plus `d` for days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration {
    millis: u64,
}

impl Duration {
    pub const fn from_secs(secs: u64) -> Self {
        Duration { millis: secs * 1000 }
    }
    pub const fn from_millis(millis: u64) -> Self {
        Duration { millis }
    }
    pub const fn as_millis(self) -> u64 {
        self.millis
    }
    pub const fn as_secs(self) -> u64 {
        self.millis / 1000
    }

    /// Parses `500ms`, `10s`, `5m`, `2h`, `7d` and sums like `1h30m`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let err = |why: &str| format!("{s:?} is not a duration ({why}); write it like 500ms, 10s, 5m, 2h, 7d or 1h30m");
        if s.is_empty() {
            return Err(err("it is empty"));
        }
        let mut total: u64 = 0;
        let mut rest = s;
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err(err("a number is missing"));
            }
            let n: u64 = rest[..digits].parse().map_err(|_| err("the number is too large"))?;
            rest = &rest[digits..];
            let unit_len = rest.bytes().take_while(|b| b.is_ascii_alphabetic()).count();
            let factor = match &rest[..unit_len] {
                "ms" => 1,
                "s" => 1000,
                "m" => 60_000,
                "h" => 3_600_000,
                "d" => 86_400_000,
                "" => return Err(err("a unit is missing")),
                _ => return Err(err("the unit is unknown")),
            };
            rest = &rest[unit_len..];
            total = n.checked_mul(factor).and_then(|v| total.checked_add(v)).ok_or_else(|| err("it is too long"))?;
        }
        Ok(Duration { millis: total })
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut ms = self.millis;
        if ms == 0 {
            return f.write_str("0s");
        }
        for (unit, size) in [("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)] {
            if ms >= size {
                write!(f, "{}{unit}", ms / size)?;
                ms %= size;
            }
        }
        Ok(())
    }
}

impl serde::Serialize for Duration {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Duration {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Duration::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for Duration {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^([0-9]+(ms|s|m|h|d))+$",
            "description": "A duration such as 500ms, 10s, 5m, 2h, 7d or 1h30m.",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip() {
        for s in ["1970-01-01T00:00:00Z", "2000-02-29T12:34:56Z", "2026-11-27T06:55:53Z", "2100-12-31T23:59:59Z"] {
            assert_eq!(Timestamp::parse(s).unwrap().to_string(), s);
        }
        assert_eq!(Timestamp::parse("86400").unwrap().to_string(), "1970-01-02T00:00:00Z");
        for bad in [
            "2026-02-30T00:00:00Z",
            "2026-11-27 06:55:53Z",
            "2026-11-27T06:55:53+01:00",
            "",
            "x",
            "1969-12-31T23:59:59Z",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn durations_parse_and_print() {
        assert_eq!(Duration::parse("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(Duration::parse("7d").unwrap().to_string(), "7d");
        assert_eq!(Duration::parse("90s").unwrap().to_string(), "1m30s");
        assert_eq!(Duration::parse("500ms").unwrap().as_millis(), 500);
        for bad in ["", "10", "s", "10x", "-1s", "1.5s", "99999999999999999999s", "9999999999999999d"] {
            assert!(Duration::parse(bad).is_err(), "{bad}");
        }
    }
}
