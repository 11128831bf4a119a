//! Traefik's Prometheus metrics, as its `/metrics` endpoint writes them (the text exposition format), read
//! for what a rollout judges: the requests each service answered by status code
//! (`traefik_service_requests_total`) and its latency buckets (`traefik_service_request_duration_seconds_bucket`),
//! each summed over the labels a rollout does not look at (method, protocol). Every other metric is skipped.
//!
//! The text comes from a running Traefik, so it is read strictly but never trusted: a line that does not parse
//! is an error naming its line, and nothing here panics.

use std::collections::BTreeMap;
use std::fmt;

/// The counters of every service Traefik reports, summed over method and protocol.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceCounters {
    /// `traefik_service_requests_total` by (service, status code).
    pub requests: BTreeMap<(String, u16), f64>,
    /// `traefik_service_request_duration_seconds_bucket` by (service, upper bound in microseconds; `None`
    /// for `+Inf`), cumulative.
    pub buckets: BTreeMap<(String, Option<u64>), f64>,
}

/// A line of the metrics text that does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsError {
    /// From 1.
    pub line: usize,
    pub message: String,
}

impl fmt::Display for MetricsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {} of Traefik's metrics: {}", self.line, self.message)
    }
}

impl std::error::Error for MetricsError {}

const REQUESTS: &str = "traefik_service_requests_total";
const BUCKETS: &str = "traefik_service_request_duration_seconds_bucket";

/// Reads the service counters out of a `/metrics` text.
pub fn service_counters(text: &str) -> Result<ServiceCounters, MetricsError> {
    let mut counters = ServiceCounters::default();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let error = |message: String| MetricsError { line: i + 1, message };
        let sample = sample(line).map_err(error)?;
        if sample.name != REQUESTS && sample.name != BUCKETS {
            continue;
        }
        let label = |name: &str| sample.labels.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
        let Some(service) = label("service") else {
            return Err(error(format!("{} has no `service` label", sample.name)));
        };
        if sample.name == REQUESTS {
            let code = label("code").unwrap_or_default();
            let code: u16 =
                code.parse().map_err(|_| error(format!("{REQUESTS} has the code {code:?}, not a status code")))?;
            *counters.requests.entry((service.to_string(), code)).or_insert(0.0) += sample.value;
        } else {
            let le = label("le").unwrap_or_default();
            let bound = upper_bound(le).ok_or_else(|| error(format!("{BUCKETS} has the bound {le:?}")))?;
            *counters.buckets.entry((service.to_string(), bound)).or_insert(0.0) += sample.value;
        }
    }
    Ok(counters)
}

/// A bucket's `le`: `Some(Some(microseconds))` for a finite bound, `Some(None)` for `+Inf`, `None` when it
/// is not a bound.
fn upper_bound(le: &str) -> Option<Option<u64>> {
    if le == "+Inf" {
        return Some(None);
    }
    let seconds: f64 = le.parse().ok()?;
    (0.0..1e9).contains(&seconds).then(|| Some((seconds * 1e6).round() as u64))
}

/// One sample line: `name{label="value",...} value [timestamp]`.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: Vec<(String, String)>,
    value: f64,
}

fn sample(line: &str) -> Result<Sample, String> {
    let name_len = line.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':')).unwrap_or(line.len());
    if name_len == 0 {
        return Err("a sample line starts with its metric's name".into());
    }
    let name = line[..name_len].to_string();
    let mut rest = &line[name_len..];
    let mut labels = Vec::new();
    if let Some(after) = rest.strip_prefix('{') {
        rest = after;
        loop {
            rest = rest.trim_start();
            if let Some(after) = rest.strip_prefix('}') {
                rest = after;
                break;
            }
            let key_len = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len());
            if key_len == 0 {
                return Err(format!("{name}: a label name is expected"));
            }
            let key = rest[..key_len].to_string();
            rest = rest[key_len..].trim_start();
            rest = rest.strip_prefix('=').ok_or_else(|| format!("{name}: `=` is expected after the label {key}"))?;
            rest = rest.trim_start();
            rest = rest.strip_prefix('"').ok_or_else(|| format!("{name}: the value of {key} is not quoted"))?;
            let (value, after) = quoted(rest).ok_or_else(|| format!("{name}: the value of {key} is not closed"))?;
            labels.push((key, value));
            rest = after.trim_start();
            rest = rest.strip_prefix(',').unwrap_or(rest);
        }
    }
    let mut fields = rest.split_whitespace();
    let text = fields.next().ok_or_else(|| format!("{name} has no value"))?;
    let value = match text {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        _ => text.parse().map_err(|_| format!("{name} has the value {text:?}, not a number"))?,
    };
    if let Some(timestamp) = fields.next()
        && timestamp.parse::<i64>().is_err()
    {
        return Err(format!("{name} has the timestamp {timestamp:?}, not a number"));
    }
    if fields.next().is_some() {
        return Err(format!("{name}: more follows its value and timestamp"));
    }
    Ok(Sample { name, labels, value })
}

/// A label value after its opening quote: the value unescaped (`\\`, `\"`, `\n`) and what follows the
/// closing quote; `None` when it does not close.
fn quoted(text: &str) -> Option<(String, &str)> {
    let mut value = String::new();
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((value, &text[i + 1..])),
            '\\' => match chars.next()?.1 {
                'n' => value.push('\n'),
                other => value.push(other),
            },
            c => value.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"# HELP traefik_service_requests_total How many HTTP requests processed on a service, partitioned by status code, protocol, and method.
# TYPE traefik_service_requests_total counter
traefik_service_requests_total{code="200",method="GET",protocol="http",service="app_v2@file"} 41
traefik_service_requests_total{code="200",method="POST",protocol="http",service="app_v2@file"} 1
traefik_service_requests_total{code="502",method="GET",protocol="http",service="app_v2@file"} 3
# TYPE traefik_service_request_duration_seconds histogram
traefik_service_request_duration_seconds_bucket{code="200",method="GET",protocol="http",service="app_v2@file",le="0.1"} 40
traefik_service_request_duration_seconds_bucket{code="200",method="GET",protocol="http",service="app_v2@file",le="+Inf"} 41
traefik_service_request_duration_seconds_bucket{code="502",method="GET",protocol="http",service="app_v2@file",le="0.1"} 3
traefik_service_request_duration_seconds_bucket{code="502",method="GET",protocol="http",service="app_v2@file",le="+Inf"} 3
traefik_service_request_duration_seconds_sum{code="200",method="GET",protocol="http",service="app_v2@file"} 0.5
traefik_config_reloads_total 4
traefik_entrypoint_requests_total{code="404",entrypoint="web",method="GET",protocol="http"} 2 1700000000000
"#;

    #[test]
    fn service_counters_sum_over_method_and_protocol() {
        let c = service_counters(TEXT).unwrap();
        let s = "app_v2@file".to_string();
        assert_eq!(c.requests, BTreeMap::from([((s.clone(), 200), 42.0), ((s.clone(), 502), 3.0)]));
        assert_eq!(c.buckets, BTreeMap::from([((s.clone(), Some(100_000)), 43.0), ((s, None), 44.0)]));
    }

    #[test]
    fn escaped_label_values_and_odd_numbers_are_read() {
        let c =
            service_counters("traefik_service_requests_total{service=\"a\\\"b\\\\c\",code=\"500\",} 1e3\n").unwrap();
        assert_eq!(c.requests, BTreeMap::from([(("a\"b\\c".to_string(), 500), 1000.0)]));
    }

    #[test]
    fn a_line_that_does_not_parse_is_named() {
        for (text, message) in [
            ("ok 1\n{x=\"1\"} 2", "line 2 of Traefik's metrics: a sample line starts with its metric's name"),
            (
                "traefik_service_requests_total{service=\"a\",code=\"x\"} 1",
                "line 1 of Traefik's metrics: traefik_service_requests_total has the code \"x\", not a status code",
            ),
            (
                "traefik_service_requests_total{code=\"200\"} 1",
                "line 1 of Traefik's metrics: traefik_service_requests_total has no `service` label",
            ),
            ("m{a=\"1} 2", "line 1 of Traefik's metrics: m: the value of a is not closed"),
            ("m{a=1} 2", "line 1 of Traefik's metrics: m: the value of a is not quoted"),
            ("m 1 2 3", "line 1 of Traefik's metrics: m: more follows its value and timestamp"),
            ("m one", "line 1 of Traefik's metrics: m has the value \"one\", not a number"),
            (
                "traefik_service_request_duration_seconds_bucket{service=\"a\",le=\"-1\"} 1",
                "line 1 of Traefik's metrics: traefik_service_request_duration_seconds_bucket has the bound \"-1\"",
            ),
        ] {
            assert_eq!(service_counters(text).unwrap_err().to_string(), message, "{text}");
        }
    }

    #[test]
    fn no_input_panics() {
        for text in ["", "#", "m{", "m{a", "m{a=", "m{a=\"", "m{a=\"\\", "m{}", "m{} ", "\u{e9}{} 1", "m{a=\"1\"}"] {
            let _ = service_counters(text);
        }
    }
}
