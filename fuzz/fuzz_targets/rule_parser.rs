//! `rules::parse` on arbitrary UTF-8: it must never panic; an error must point inside the rule; a parsed rule must
//! lint and match without panicking, and its canonical form must parse back to an equal tree.
//! Run with `cargo +nightly fuzz run rule_parser` from `fuzz/`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchyard_traefik::rules::{self, Request};

fuzz_target!(|source: &str| {
    match rules::parse(source) {
        Ok(rule) => {
            for lint in rules::lint(&rule, source) {
                assert!(lint.column >= 1 && lint.span.1 <= source.len(), "{lint}");
            }
            let request = Request::new("GET", "www.example.com:8443", "/api/v1")
                .header("X-Forwarded-Proto", "https")
                .query("q", "traefik")
                .query("mobile", "")
                .client_ip(std::net::IpAddr::from([192, 168, 1, 7]));
            let matched = rule.matches(&request);
            let printed = rule.to_string();
            let again = rules::parse(&printed).unwrap_or_else(|e| panic!("canonical {printed:?} does not parse: {e}"));
            assert_eq!(again, rule, "canonical form {printed:?} parses to another tree");
            assert_eq!(again.matches(&request), matched);
        }
        Err(err) => {
            let chars = source.chars().count();
            assert!(err.column >= 1 && err.column <= chars + 1, "{err}");
            assert!(err.span.0 <= err.span.1 && err.span.1 <= source.len(), "{err}");
        }
    }
});
