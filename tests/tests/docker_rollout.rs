//! Progressive delivery on the real Docker engine behind the real Traefik, under real load, with the steps
//! compressed to seconds: a good version walks every step to 100 % with nothing failed; a version that fails
//! a fifth of its requests is rolled back at its first step, and the test prints how many requests failed and
//! how long after the first failure the traffic had left it. In a test binary of its own, so that no other test
//! loads the machine meanwhile (cargo runs test binaries one after another).

#![allow(clippy::unwrap_used, clippy::print_stderr)] // a panic in a test is a failing test; the figures are printed

use std::time::{Duration, Instant};

use switchyard_e2e::docker::Site;

/// The audit log's lines for the test's environment.
fn audit(site: &Site) -> Vec<serde_json::Value> {
    let text = site.proxy_file(&format!("audit/{}_dev.jsonl", site.name));
    text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn changes(lines: &[serde_json::Value]) -> Vec<String> {
    lines.iter().map(|l| l["change"].as_str().unwrap_or_default().to_string()).collect()
}

#[test]
fn a_good_version_walks_every_step_and_a_failing_one_is_rolled_back_at_the_first() {
    let site = Site::live(
        "syro",
        &["rollout: {steps: [10, 50, 100], step_time: 3s, bake: 2s, max_error_rate: 1%, min_requests: 10}"],
        "v1",
    );
    let production = site.production_host();
    site.ok(&["deploy", "v2"]);
    site.ok(&["deploy", "v3-fail5"]);

    let rate = 200;
    site.under_load(rate, |site, load| {
        // A good version: every step passes, 0 failed requests, one audit line per step.
        load.step("rollout v2");
        let before = audit(site).len();
        let text = site.ok(&["promote", "v2"]);
        for passed in ["step 1 of 3 (10%) passed", "step 2 of 3 (50%) passed", "step 3 of 3 (100%) passed"] {
            assert!(text.contains(passed), "{passed}:\n{text}");
        }
        assert!(text.contains("the rollout of v2 is done: production green v2 100%"), "{text}");
        let lines = audit(site)[before..].to_vec();
        assert_eq!(
            changes(&lines).iter().map(|c| c.split(':').next().unwrap().to_string()).collect::<Vec<_>>(),
            ["start a rollout of v2", "rollout of v2", "rollout of v2", "rollout of v2", "rollout of v2"],
            "{lines:#?}"
        );
        assert!(site.env_state().rollout.is_none());
        site.wait_for_answer(&production, "v2");
        let report = load.records();
        let failed = report.iter().filter(|r| r.failed()).count();
        assert_eq!(failed, 0, "{} requests failed during the good rollout", failed);

        // A version failing a fifth of its requests: rolled back at its first step (10 %, 10 s).
        load.step("rollout v3-fail5");
        let started = Instant::now();
        let text =
            site.expect(1, &["promote", "v3-fail5", "--steps", "10,100", "--step-time", "10s", "--min-requests", "20"]);
        assert!(text.contains("was rolled back at step 1 of 2 (10%)"), "{text}");
        assert!(text.contains("over the 1% allowed"), "{text}");
        eprintln!("the failing version's rollout:\n{text}");
        let state = site.env_state();
        assert!(state.rollout.is_none());
        assert_eq!(state.traffic_summary(), "green v2 100%");
        let last = audit(site).last().cloned().unwrap();
        assert!(last["change"].as_str().unwrap().starts_with("roll back the rollout of v3-fail5:"), "{last}");
        // Traffic back: every connection answered by v2 again.
        let switch = load.wait_for_switch(started, &production, "v2", Duration::from_secs(60));
        let records = load.records();
        let from = load.since_start(started);
        let failures: Vec<_> = records.iter().filter(|r| r.at >= from && r.failed()).collect();
        // On the load's clock from `promote` on, as the switch is.
        let first_failure = failures.iter().map(|r| r.done().saturating_sub(from)).min().unwrap_or_default();
        let last_other = switch.last_other.unwrap_or_default();
        let back = switch.settled.unwrap();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let report = format!(
            "rollout of a version failing 1 in 5 at 10% (10 s steps, {rate} requests/s): {} requests failed; the \
             first failure answered {:.0} ms after `promote` started; the last request not answered by v2 sent at \
             {:.0} ms, every request from {:.0} ms on answered by v2: the traffic left the candidate {:.0} ms \
             after its first failure\n",
            failures.len(),
            ms(first_failure),
            ms(last_other),
            ms(back),
            ms(last_other.saturating_sub(first_failure)),
        );
        eprint!("{report}");
        // Bounded by share x step time x rate: the candidate never had more requests than that to fail.
        let bound = 10 * 10 * rate as usize / 100;
        assert!(failures.len() <= bound, "{} failed, over the bound {bound}\n{report}", failures.len());
        assert!(!failures.is_empty(), "no request failed: was the failing version ever reached?\n{report}");

        // A team's policy that allows no canary step above 25 %: the rollout's step to 50 % is refused, and
        // the refusal rolls it back (a policy holds for a rollout's steps as for `shift`).
        load.step("policy");
        site.ok(&["deploy", "v4"]);
        let policy = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/policies/canary-25.wat");
        let text = site.expect(1, &["promote", "v4", "--steps", "10,50,100", "--policy", policy]);
        assert!(text.contains("step 1 of 3 (10%) passed"), "{text}");
        assert!(text.contains("CANARY25") && text.contains("a canary step of 50 percent"), "{text}");
        assert!(text.contains("was rolled back at step 1 of 3 (10%): the next step failed"), "{text}");
        assert_eq!(site.env_state().traffic_summary(), "green v2 100%");
    });
}
