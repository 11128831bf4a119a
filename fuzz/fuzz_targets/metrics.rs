//! `metrics::service_counters` on arbitrary UTF-8 (the text a running Traefik's `/metrics` gives, which is never
//! trusted): it must never panic; an error names a line of the text; what it reads feeds the rollout analysis,
//! which must not panic either.
#![no_main]

use std::collections::BTreeSet;

use libfuzzer_sys::fuzz_target;
use switchyard_model::analysis::{self, Reading, Thresholds};
use switchyard_traefik::metrics::service_counters;

fuzz_target!(|text: &str| {
    match service_counters(text) {
        Ok(counters) => {
            let services: BTreeSet<String> = counters.requests.keys().map(|(service, _)| service.clone()).collect();
            let reading = Reading::of(&counters, &services);
            let thresholds = Thresholds { max_error_basis_points: 100, max_p95: None, min_requests: 1 };
            let _ = analysis::analyse(&thresholds, &[Reading::default(), reading.clone()], &[reading], true);
        }
        Err(err) => assert!(err.line >= 1 && err.line <= text.lines().count(), "{err}"),
    }
});
