//! Whether a step of a progressive promotion passes, from Traefik's own metrics.
//!
//! While a rollout holds a step, switchyard reads Traefik's Prometheus counters for the candidate's services
//! and the live ones (`traefik_service_requests_total{code,service}` and
//! `traefik_service_request_duration_seconds_bucket{le,service}`) several times over the step's window. This
//! module turns those [`Reading`]s into [`Figures`] per slot (requests, server errors, error rate, p95
//! latency) and a [`Verdict`]: go on, keep watching (or wait for enough requests), or roll back, with the
//! reasons in words. It is a pure function of its inputs, so the CLI, the playground (replaying made-up
//! numbers) and a policy all decide alike.
//!
//! Counters are read as Prometheus reads them: the increase of a series over the window is the sum of its
//! rises between readings, and a fall means the counter restarted from zero (Traefik restarted mid-step), so
//! the value after the fall counts in full. A series first seen after the window's first reading started at
//! zero (Traefik creates a series at its first request, so a first `500` is never lost).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::Serialize;
use switchyard_traefik::metrics::ServiceCounters;

use crate::time::Duration;

/// A series of the counters of one slot, by the labels that matter here.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Series {
    /// `traefik_service_requests_total` of one service and status code.
    Requests { service: String, code: u16 },
    /// `traefik_service_request_duration_seconds_bucket` of one service (all codes and methods summed) up to
    /// `le_micros` microseconds; `None` is the `+Inf` bucket.
    Bucket { service: String, le_micros: Option<u64> },
}

/// One reading of a slot's counters: each series' value at that moment.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Reading {
    pub series: BTreeMap<Series, f64>,
}

impl Reading {
    /// The series of `services` (Traefik's names, with their provider: `app_v2@file`) in what Traefik's
    /// metrics text counts ([`switchyard_traefik::metrics::service_counters`]).
    pub fn of(counters: &ServiceCounters, services: &BTreeSet<String>) -> Reading {
        let requests = counters
            .requests
            .iter()
            .filter(|((service, _), _)| services.contains(service))
            .map(|((service, code), v)| (Series::Requests { service: service.clone(), code: *code }, *v));
        let buckets = counters
            .buckets
            .iter()
            .filter(|((service, _), _)| services.contains(service))
            .map(|((service, le), v)| (Series::Bucket { service: service.clone(), le_micros: *le }, *v));
        Reading { series: requests.chain(buckets).collect() }
    }
}

/// The thresholds a step must meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Thresholds {
    /// The highest share of server errors (status 500 to 599) the candidate may answer, in hundredths of a
    /// percent (100 is 1 %).
    pub max_error_basis_points: u32,
    /// The highest 95th percentile latency the candidate may show; `None`: latency is not judged.
    pub max_p95: Option<Duration>,
    /// The requests the candidate must have answered before a step can pass.
    pub min_requests: u64,
}

/// What one slot did over the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    pub requests: u64,
    /// Answers with a status of 500 to 599.
    pub errors: u64,
    /// `errors / requests`, in percent; `None` without requests.
    pub error_percent: Option<f64>,
    /// The 95th percentile latency in milliseconds, interpolated within Traefik's buckets as Prometheus's
    /// `histogram_quantile` does; `None` without requests.
    pub p95_ms: Option<f64>,
}

/// The decision on a step.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "verdict", content = "reasons")]
pub enum Verdict {
    /// The window is over and every threshold is met: go on to the next step.
    Pass,
    /// Nothing is wrong yet: keep watching (the window is not over, or too few requests came to judge).
    Hold(Vec<String>),
    /// A threshold is broken (or certain to be): return all traffic to the live slot.
    RollBack(Vec<String>),
}

/// The figures of both slots and the verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    pub candidate: Figures,
    pub live: Figures,
    pub verdict: Verdict,
}

/// Judges a step from the readings of the candidate's and the live slot's counters over its window, oldest
/// first. `window_over`: the step's time has run out, so it may pass.
///
/// The candidate is rolled back as soon as the errors seen make the error rate over the threshold certain
/// (even when the last of `min_requests` all succeeded), or once enough requests came and its error rate or
/// p95 is over. The live slot's figures are reported beside, for comparison; they do not decide.
pub fn analyse(thresholds: &Thresholds, candidate: &[Reading], live: &[Reading], window_over: bool) -> Analysis {
    let (candidate, live) = (figures(candidate), figures(live));
    let verdict = verdict(thresholds, &candidate, window_over);
    Analysis { candidate, live, verdict }
}

fn verdict(t: &Thresholds, c: &Figures, window_over: bool) -> Verdict {
    let max_percent = f64::from(t.max_error_basis_points) / 100.0;
    let mut reasons = Vec::new();
    // The rate it would have if every request still to come before `min_requests` succeeded.
    let floor = c.errors as f64 * 100.0 / c.requests.max(t.min_requests).max(1) as f64;
    if c.errors > 0 && floor > max_percent {
        let mut why = format!(
            "{} of {} requests failed ({}), over the {max_percent}% allowed",
            c.errors,
            c.requests,
            percent_text(c.error_percent.unwrap_or(0.0))
        );
        if c.requests < t.min_requests {
            let _ = write!(why, " even if the next {} all succeed", t.min_requests - c.requests);
        }
        reasons.push(why);
    }
    let enough = c.requests >= t.min_requests;
    if let (Some(max), Some(p95), true) = (t.max_p95, c.p95_ms, enough)
        && p95 > max.as_millis() as f64
    {
        reasons.push(format!("p95 latency {} is over the {max} allowed", millis_text(p95)));
    }
    if !reasons.is_empty() {
        return Verdict::RollBack(reasons);
    }
    if !enough {
        let wait = format!("{} of the {} requests needed to judge the step", c.requests, t.min_requests);
        return Verdict::Hold(vec![wait]);
    }
    if !window_over {
        return Verdict::Hold(vec!["every threshold is met so far; the step's time is not over".to_string()]);
    }
    Verdict::Pass
}

/// A percentage as people read it: `2.5%`, `0.25%`.
pub fn percent_text(p: f64) -> String {
    let text = format!("{p:.2}");
    format!("{}%", text.trim_end_matches('0').trim_end_matches('.'))
}

pub fn millis_text(ms: f64) -> String {
    if ms >= 1000.0 { format!("{:.2}s", ms / 1000.0) } else { format!("{ms:.0}ms") }
}

/// The increase of every series over `readings`, reading a fall as a counter restart.
fn increases(readings: &[Reading]) -> BTreeMap<&Series, f64> {
    let mut total: BTreeMap<&Series, f64> = BTreeMap::new();
    let mut last: BTreeMap<&Series, f64> = BTreeMap::new();
    for (i, reading) in readings.iter().enumerate() {
        for (series, &value) in &reading.series {
            if !value.is_finite() || value < 0.0 {
                continue;
            }
            let rise = match last.get(series) {
                Some(&before) if value >= before => value - before,
                // A restart: the counter began again at zero.
                Some(_) => value,
                // Known since the first reading: that is where the window starts.
                None if i == 0 => 0.0,
                // Created during the window, at its first request.
                None => value,
            };
            *total.entry(series).or_insert(0.0) += rise;
            last.insert(series, value);
        }
    }
    total
}

/// The figures of one slot over its readings.
pub fn figures(readings: &[Reading]) -> Figures {
    let mut requests = 0.0;
    let mut errors = 0.0;
    // Cumulative bucket counts by upper bound (None: +Inf), summed over the slot's services.
    let mut buckets: BTreeMap<Option<u64>, f64> = BTreeMap::new();
    for (series, rise) in increases(readings) {
        match series {
            Series::Requests { code, .. } => {
                requests += rise;
                if (500..600).contains(code) {
                    errors += rise;
                }
            }
            Series::Bucket { le_micros, .. } => *buckets.entry(*le_micros).or_insert(0.0) += rise,
        }
    }
    // Counters hold whole requests; a reading cannot make a fraction of one.
    let (requests, errors) = (requests.round() as u64, errors.round() as u64);
    Figures {
        requests,
        errors,
        error_percent: (requests > 0).then(|| errors as f64 * 100.0 / requests as f64),
        p95_ms: quantile(0.95, &buckets),
    }
}

/// The `q` quantile of a cumulative histogram, in milliseconds, as Prometheus's `histogram_quantile`: the
/// bucket where the rank falls, linear within it (from 0 for the first); in the `+Inf` bucket, the highest
/// finite bound. `None` when the histogram is empty.
fn quantile(q: f64, buckets: &BTreeMap<Option<u64>, f64>) -> Option<f64> {
    // `Option`'s order puts None (+Inf) first: finite bounds in order, then +Inf.
    let mut bounds: Vec<(Option<u64>, f64)> =
        buckets.iter().filter(|(le, _)| le.is_some()).map(|(l, c)| (*l, *c)).collect();
    let total = buckets.get(&None).copied().or_else(|| bounds.last().map(|(_, c)| *c))?;
    if total <= 0.0 {
        return None;
    }
    bounds.push((None, total));
    let rank = q * total;
    let (mut lower_bound, mut lower_count) = (0.0, 0.0);
    for (le, count) in bounds {
        let Some(le) = le else { return Some(lower_bound) };
        let upper = le as f64 / 1000.0;
        if count >= rank {
            let width = count - lower_count;
            let within = if width > 0.0 { (rank - lower_count) / width } else { 1.0 };
            return Some(lower_bound + (upper - lower_bound) * within);
        }
        (lower_bound, lower_count) = (upper, count);
    }
    Some(lower_bound)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn requests(service: &str, code: u16) -> Series {
        Series::Requests { service: service.into(), code }
    }

    fn bucket(service: &str, le_ms: Option<u64>) -> Series {
        Series::Bucket { service: service.into(), le_micros: le_ms.map(|ms| ms * 1000) }
    }

    fn reading(values: &[(Series, f64)]) -> Reading {
        Reading { series: values.iter().cloned().collect() }
    }

    const T: Thresholds =
        Thresholds { max_error_basis_points: 100, max_p95: Some(Duration::from_millis(500)), min_requests: 100 };

    /// Readings of a slot that answered `ok` requests fast and `failed` with 500, counted from `base`.
    fn slot(base: f64, ok: f64, failed: f64) -> Vec<Reading> {
        let at = |n: f64, f: f64| {
            reading(&[
                (requests("s", 200), base + n),
                (requests("s", 500), base + f),
                (bucket("s", Some(100)), base + n + f),
                (bucket("s", Some(300)), base + n + f),
                (bucket("s", None), base + n + f),
            ])
        };
        vec![at(0.0, 0.0), at(ok / 2.0, failed / 2.0), at(ok, failed)]
    }

    #[test]
    fn a_good_step_passes_once_its_window_is_over() {
        let a = analyse(&T, &slot(10.0, 200.0, 0.0), &slot(50.0, 1800.0, 2.0), true);
        assert_eq!(a.verdict, Verdict::Pass);
        assert_eq!((a.candidate.requests, a.candidate.errors), (200, 0));
        assert_eq!((a.live.requests, a.live.errors), (1802, 2));
        let p95 = a.candidate.p95_ms.unwrap();
        assert!((p95 - 95.0).abs() < 1e-9, "{p95}");
        let before_the_end = analyse(&T, &slot(10.0, 200.0, 0.0), &[], false);
        assert!(matches!(before_the_end.verdict, Verdict::Hold(_)), "{before_the_end:?}");
    }

    #[test]
    fn errors_roll_back_as_soon_as_the_rate_is_certain_to_be_over() {
        // 3 failures in 30 requests: even 70 successes more would leave 3%, over 1%.
        let a = analyse(&T, &slot(0.0, 27.0, 3.0), &[], false);
        let Verdict::RollBack(reasons) = &a.verdict else { panic!("{a:?}") };
        assert_eq!(reasons, &["3 of 30 requests failed (10%), over the 1% allowed even if the next 70 all succeed"]);
        // 1 in 30 could still end at 1%: wait for more.
        let a = analyse(&T, &slot(0.0, 29.0, 1.0), &[], false);
        assert_eq!(a.verdict, Verdict::Hold(vec!["30 of the 100 requests needed to judge the step".into()]));
    }

    #[test]
    fn too_few_requests_hold_the_step_after_its_window() {
        let a = analyse(&T, &slot(0.0, 40.0, 0.0), &[], true);
        assert_eq!(a.verdict, Verdict::Hold(vec!["40 of the 100 requests needed to judge the step".into()]));
    }

    #[test]
    fn a_slow_candidate_is_rolled_back_on_its_p95() {
        // 90 fast, 110 between 300 ms and 1.2 s: the p95 falls in the last finite bucket.
        let r = |n: f64| {
            reading(&[
                (requests("s", 200), n * 200.0),
                (bucket("s", Some(100)), n * 90.0),
                (bucket("s", Some(300)), n * 90.0),
                (bucket("s", Some(1200)), n * 200.0),
                (bucket("s", None), n * 200.0),
            ])
        };
        let a = analyse(&T, &[r(0.0), r(1.0)], &[], true);
        let p95 = a.candidate.p95_ms.unwrap();
        // Rank 190 of 200, 100 into the (300, 1200] bucket of 110: 300 + 900 * 100/110.
        assert!((p95 - (300.0 + 900.0 * 100.0 / 110.0)).abs() < 1e-6, "{p95}");
        assert_eq!(a.verdict, Verdict::RollBack(vec!["p95 latency 1.12s is over the 500ms allowed".into()]));
    }

    #[test]
    fn a_counter_restart_is_read_as_prometheus_reads_it() {
        // 100 requests, then Traefik restarts (counters back near zero), then 50 more.
        let r = |ok: f64| reading(&[(requests("s", 200), ok), (bucket("s", Some(100)), ok), (bucket("s", None), ok)]);
        let f = figures(&[r(1000.0), r(1100.0), r(20.0), r(50.0)]);
        assert_eq!((f.requests, f.errors), (150, 0));
        // A first 500 creates its series during the window: it counts.
        let first = reading(&[(requests("s", 200), 10.0)]);
        let later = reading(&[(requests("s", 200), 20.0), (requests("s", 500), 1.0)]);
        let f = figures(&[first, later]);
        assert_eq!((f.requests, f.errors), (11, 1));
    }

    #[test]
    fn several_services_sum_and_an_empty_histogram_has_no_p95() {
        let r = |n: f64| reading(&[(requests("web", 200), n), (requests("api", 503), n / 10.0)]);
        let f = figures(&[r(0.0), r(100.0)]);
        assert_eq!((f.requests, f.errors, f.p95_ms), (110, 10, None));
        assert!((f.error_percent.unwrap() - 100.0 / 11.0).abs() < 1e-9);
        let none = figures(&[]);
        assert_eq!((none.requests, none.error_percent, none.p95_ms), (0, None, None));
    }

    #[test]
    fn a_reading_takes_the_slots_services_out_of_traefiks_counters() {
        let text = "traefik_service_requests_total{code=\"200\",service=\"v2@file\"} 7\n\
                    traefik_service_requests_total{code=\"200\",service=\"v1@file\"} 70\n\
                    traefik_service_request_duration_seconds_bucket{service=\"v2@file\",le=\"+Inf\"} 7\n";
        let counters = switchyard_traefik::metrics::service_counters(text).unwrap();
        let r = Reading::of(&counters, &BTreeSet::from(["v2@file".to_string()]));
        assert_eq!(
            r.series.into_iter().collect::<Vec<_>>(),
            [(requests("v2@file", 200), 7.0), (bucket("v2@file", None), 7.0)]
        );
    }

    #[test]
    fn percentages_read_as_people_write_them() {
        assert_eq!(percent_text(10.0), "10%");
        assert_eq!(percent_text(2.5), "2.5%");
        assert_eq!(percent_text(0.25), "0.25%");
        assert_eq!(millis_text(95.0), "95ms");
        assert_eq!(millis_text(1118.18), "1.12s");
    }
}
