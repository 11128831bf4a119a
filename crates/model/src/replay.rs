//! A rollout replayed against made-up numbers: what it would decide, and when, for a candidate that fails or
//! slows down as described. The playground shows it; the decisions are [`crate::analysis::analyse`]'s, on
//! the counters Traefik would have kept, read once a second as the CLI reads them.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::analysis::{Figures, Reading, Series, Verdict, analyse};
use crate::rollout::{Phase, Progress, Rollout, describe_figures};
use crate::time::Timestamp;

/// How the made-up traffic behaves.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Traffic {
    /// Production requests per second, both slots together.
    pub rate: f64,
    /// The candidate's share of answers that are server errors, in percent.
    pub candidate_errors: f64,
    /// The candidate's latency, in milliseconds (every answer alike).
    pub candidate_latency_ms: f64,
    /// The live version's share of server errors, in percent.
    #[serde(default)]
    pub live_errors: f64,
    /// The live version's latency, in milliseconds.
    #[serde(default = "default_latency")]
    pub live_latency_ms: f64,
    /// The candidate behaves as above from this second of the rollout on, and as well as the live version
    /// before (a version that goes bad after a while).
    #[serde(default)]
    pub candidate_fails_after_s: u64,
}

fn default_latency() -> f64 {
    20.0
}

/// One phase of the replay as it ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhaseOutcome {
    /// `step 1 of 4 (10%)`, `bake at 100% for 5m`.
    pub phase: String,
    pub share: u8,
    /// Seconds from the rollout's start to the decision.
    pub decided_at_s: u64,
    pub verdict: Verdict,
    pub candidate: Figures,
    pub live: Figures,
}

/// The whole replay: each phase in turn, until the rollout is done or rolled back (or the time limit, for a
/// candidate that never gets enough requests).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Replay {
    pub phases: Vec<PhaseOutcome>,
    /// `done`, `rolled back` or `still waiting`.
    pub outcome: String,
    /// Seconds from the start to the outcome.
    pub at_s: u64,
    /// Requests the candidate answered with a server error, in all.
    pub candidate_errors: u64,
}

impl Replay {
    /// The replay in words, a line per phase and one for the outcome, as the CLI words its decisions.
    pub fn text(&self) -> String {
        let mut text = String::new();
        for p in &self.phases {
            let (what, reasons) = match &p.verdict {
                Verdict::Pass => ("passed", Vec::new()),
                Verdict::Hold(reasons) => ("still waiting", reasons.clone()),
                Verdict::RollBack(reasons) => ("rolled back", reasons.clone()),
            };
            let _ = write!(text, "{}: {what} at {} s", p.phase, p.decided_at_s);
            if !reasons.is_empty() {
                let _ = write!(text, ": {}", reasons.join("; "));
            }
            let _ = writeln!(
                text,
                "\n  candidate: {}\n  live: {}",
                describe_figures(&p.candidate),
                describe_figures(&p.live)
            );
        }
        let _ = writeln!(
            text,
            "{} after {} s; the candidate answered {} requests with a server error",
            self.outcome, self.at_s, self.candidate_errors
        );
        text
    }
}

/// The replay stops waiting after this long in one phase (a candidate that gets too few requests).
const PATIENCE_S: u64 = 3600;

/// Replays `rollout` against `traffic`, a second at a time.
pub fn replay(rollout: &Rollout, traffic: &Traffic) -> Replay {
    let thresholds = rollout.thresholds();
    let mut progress = Progress {
        version: "candidate".into(),
        rollout: rollout.clone(),
        step: 0,
        since: Timestamp(0),
        last: None,
        driver: None,
    };
    let mut phases = Vec::new();
    let mut now = 0u64;
    // Cumulative counters, as Traefik keeps them.
    let mut candidate = Counters::default();
    let mut live = Counters::default();
    loop {
        let share = progress.share();
        let window = progress.window().as_millis().div_ceil(1000);
        // The counters only rise here, so the window's first reading and the latest give what every reading
        // between would (a restart is what needs them all).
        let (first_candidate, first_live) = (candidate.reading(), live.reading());
        let started = now;
        let decided = loop {
            now += 1;
            let rate = traffic.rate.max(0.0);
            let to_candidate = rate * f64::from(share) / 100.0;
            let bad = now > traffic.candidate_fails_after_s;
            let (errors, latency) = if bad {
                (traffic.candidate_errors, traffic.candidate_latency_ms)
            } else {
                (traffic.live_errors, traffic.live_latency_ms)
            };
            candidate.add(to_candidate, errors, latency);
            live.add(rate - to_candidate, traffic.live_errors, traffic.live_latency_ms);
            let seen_candidate = [first_candidate.clone(), candidate.reading()];
            let seen_live = [first_live.clone(), live.reading()];
            let analysis = analyse(&thresholds, &seen_candidate, &seen_live, now - started >= window);
            if !matches!(analysis.verdict, Verdict::Hold(_)) || now - started >= PATIENCE_S {
                break analysis;
            }
        };
        let verdict = decided.verdict.clone();
        phases.push(PhaseOutcome {
            phase: progress.describe(),
            share,
            decided_at_s: now,
            verdict: decided.verdict,
            candidate: decided.candidate,
            live: decided.live,
        });
        let errors = candidate.errors.round() as u64;
        match verdict {
            Verdict::RollBack(_) => {
                return Replay { phases, outcome: "rolled back".into(), at_s: now, candidate_errors: errors };
            }
            Verdict::Hold(_) => {
                return Replay { phases, outcome: "still waiting".into(), at_s: now, candidate_errors: errors };
            }
            Verdict::Pass => match progress.next() {
                Some(Phase::Step { index, .. }) => progress.step = index,
                Some(Phase::Bake) => progress.step = progress.rollout.steps.len(),
                None => return Replay { phases, outcome: "done".into(), at_s: now, candidate_errors: errors },
            },
        }
        progress.since = Timestamp(now);
    }
}

/// One version's counters: requests by status and the latency histogram.
#[derive(Default)]
struct Counters {
    ok: f64,
    errors: f64,
    /// Requests by the latency histogram's bucket (the bounds of `install`'s `LATENCY_BUCKETS`, in µs).
    buckets: Vec<(u64, f64)>,
}

/// `crate::proxy::LATENCY_BUCKETS` in microseconds.
const BOUNDS_MICROS: [u64; 11] =
    [5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000];

impl Counters {
    fn add(&mut self, requests: f64, error_percent: f64, latency_ms: f64) {
        let errors = requests * error_percent.clamp(0.0, 100.0) / 100.0;
        self.errors += errors;
        self.ok += requests - errors;
        if self.buckets.is_empty() {
            self.buckets = BOUNDS_MICROS.iter().map(|b| (*b, 0.0)).collect();
        }
        let micros = latency_ms.max(0.0) * 1000.0;
        for (bound, count) in &mut self.buckets {
            if micros <= *bound as f64 {
                *count += requests;
            }
        }
    }

    fn reading(&self) -> Reading {
        let service = "candidate".to_string();
        let mut reading = Reading::default();
        reading.series.insert(Series::Requests { service: service.clone(), code: 200 }, self.ok);
        reading.series.insert(Series::Requests { service: service.clone(), code: 500 }, self.errors);
        for (bound, count) in &self.buckets {
            reading.series.insert(Series::Bucket { service: service.clone(), le_micros: Some(*bound) }, *count);
        }
        reading.series.insert(Series::Bucket { service, le_micros: None }, self.ok + self.errors);
        reading
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rollout::Percent;
    use crate::time::Duration;

    fn rollout() -> Rollout {
        Rollout {
            steps: vec![10, 50, 100],
            step_time: Duration::from_secs(60),
            bake: Duration::from_secs(120),
            max_error_rate: Percent { basis_points: 100 },
            max_p95: Some(Duration::from_millis(300)),
            min_requests: 50,
        }
    }

    fn traffic(errors: f64, latency: f64) -> Traffic {
        Traffic {
            rate: 200.0,
            candidate_errors: errors,
            candidate_latency_ms: latency,
            live_errors: 0.0,
            live_latency_ms: 20.0,
            candidate_fails_after_s: 0,
        }
    }

    #[test]
    fn a_good_candidate_goes_through_every_step_and_the_bake() {
        let r = replay(&rollout(), &traffic(0.0, 20.0));
        assert_eq!(r.outcome, "done");
        assert_eq!(r.phases.len(), 4, "{r:#?}");
        assert_eq!(r.at_s, 60 + 60 + 60 + 120);
        assert!(r.phases.iter().all(|p| p.verdict == Verdict::Pass));
        assert_eq!(r.phases[0].candidate.requests, 60 * 20);
    }

    #[test]
    fn a_failing_candidate_is_rolled_back_in_the_first_second_it_fails() {
        let r = replay(&rollout(), &traffic(20.0, 20.0));
        assert_eq!(r.outcome, "rolled back");
        assert_eq!((r.phases.len(), r.at_s), (1, 1), "{r:#?}");
        assert!(r.candidate_errors <= 4, "{r:#?}");
        assert_eq!(
            r.text(),
            "step 1 of 3 (10%): rolled back at 1 s: 4 of 20 requests failed (20%), over the 1% allowed even if \
             the next 30 all succeed\n  candidate: 20 requests, 4 errors (20%), p95 24ms\n  live: 180 requests, \
             0 errors (0%), p95 24ms\nrolled back after 1 s; the candidate answered 4 requests with a server error\n"
        );
        // Going bad 30 s into the second step (50%, 100 requests a second): the step's 3,000 good requests
        // before make the first second's 20 errors 0.6%, the second's 40 over the 1%.
        let late = replay(&rollout(), &Traffic { candidate_fails_after_s: 90, ..traffic(20.0, 20.0) });
        assert_eq!((late.phases.len(), late.at_s, late.outcome.as_str()), (2, 92, "rolled back"), "{late:#?}");
    }

    #[test]
    fn a_slow_candidate_is_rolled_back_once_enough_requests_came() {
        let r = replay(&rollout(), &traffic(0.0, 450.0));
        assert_eq!(r.outcome, "rolled back");
        // 20 requests a second at 10%: the 50 needed by the third second.
        assert_eq!(r.at_s, 3, "{r:#?}");
        let Verdict::RollBack(reasons) = &r.phases[0].verdict else { panic!("{r:#?}") };
        assert!(reasons[0].contains("p95 latency"), "{reasons:?}");
    }

    #[test]
    fn a_candidate_without_requests_waits() {
        let r = replay(&rollout(), &Traffic { rate: 0.0, ..traffic(0.0, 20.0) });
        assert_eq!(r.outcome, "still waiting");
        assert_eq!(r.at_s, PATIENCE_S);
    }
}
