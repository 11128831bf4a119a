//! Zero failed requests: a bounded load (6 keep-alive connections, 300 requests per second in total) on the
//! production host and a preview host, through the real Traefik, while switchyard goes through the whole
//! workflow: deploy, promote (10 %), shift (50 %), complete, rollback, deploy, cleanup, retire, repair and a
//! re-run of install. Every request is counted per step, and the counts are printed whether the test passes or
//! not. In a test binary of its own, so that no other test of this suite loads the machine or churns Docker's
//! networks meanwhile (cargo runs test binaries one after another).

#![allow(clippy::unwrap_used)] // a panic in a test is a failing test

use std::time::{Duration, Instant};

use switchyard_e2e::docker::{HEALTH_UNDER_LOAD, ROUTE_WEB, Site, docker};
use switchyard_e2e::load::{Load, Options, Report};

/// Answers from these versions only, on `host`, in the step `step` (which sent it requests).
fn step_answers_only(report: &Report, step: &str, host: &str, versions: &[&str]) {
    let c = report.step(step, host);
    assert!(c.requests > 0, "no request to {host} in the step {step}:\n{report}");
    for v in c.answers.keys() {
        assert!(
            versions.contains(&v.as_str()),
            "{v} answered {host} in the step {step}; only {versions:?} may:\n{report}"
        );
    }
}

#[test]
fn no_request_fails_through_the_whole_workflow_under_load() {
    let site = Site::new("sytr-load");
    site.write_spec(&[ROUTE_WEB, HEALTH_UNDER_LOAD], &[]);
    site.install();
    site.ok(&["deploy", "v1"]);
    site.ok(&["promote", "v1"]);
    let (production, preview) = (site.production_host(), site.preview_host("v1"));
    site.wait_for_answer(&production, "v1");
    site.wait_for_answer(&preview, "v1");
    let proxy_started = docker(&["inspect", "-f", "{{.State.StartedAt}}", &site.proxy]);

    let load = Load::start(
        &[site.target(&production), site.target(&preview)],
        Options { connections: 6, rate: 300, max_duration: Duration::from_secs(600), ..Options::default() },
    );
    // Each step: the command, then 150 more requests (about half a second) on what it left.
    let step = |name: &str, args: &[&str]| -> String {
        load.step(name);
        let text = site.ok(args);
        let after = load.since_start(Instant::now());
        load.wait_until(&format!("150 requests after {name}"), Duration::from_secs(60), |r| {
            r.iter().filter(|r| r.at >= after).count() >= 150
        });
        text
    };
    // The workflow; the report is printed even when a command fails half way.
    let workflow = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        step("deploy", &["deploy", "v2"]);
        step("promote", &["promote", "v2", "--share", "10"]);
        step("shift", &["shift", "--share", "50"]);
        step("complete", &["complete"]);
        let since = Instant::now();
        step("rollback", &["rollback"]);
        // When the answers moved back (what the rollback benchmark measures); printed, not asserted.
        let moved = load.wait_for_switch(since, &production, "v1", Duration::from_secs(60));
        let settled = moved.settled.expect("every request answered by v1 from some point on");
        let note = format!(
            "rollback: every request answered by v1 from {:.1} ms after the command started (the last other answer \
             was sent at {:.1} ms)\n",
            settled.as_secs_f64() * 1000.0,
            moved.last_other.unwrap_or_default().as_secs_f64() * 1000.0
        );
        let _ = std::io::Write::write_all(&mut std::io::stderr(), note.as_bytes());
        step("deploy v3", &["deploy", "v3"]);
        step("deploy v4", &["deploy", "v4"]);
        // Retention keeps the newest version (v4) and the slots' (v1, v2): v3 goes.
        let text = step("cleanup", &["cleanup"]);
        assert!(!site.env_state().deployments.iter().any(|d| d.version == "v3"), "{text}");
        step("retire", &["retire", "v4"]);
        step("repair", &["repair"]);
        let text = step("install", &["install", "--no-publish"]);
        assert!(text.contains("nothing to do"), "{text}");
    }));
    let report = load.stop();
    report.print();
    if let Err(panic) = workflow {
        std::panic::resume_unwind(panic);
    }

    assert_eq!(report.failures().count(), 0, "{report}");
    assert_eq!(
        docker(&["inspect", "-f", "{{.State.StartedAt}}", &site.proxy]),
        proxy_started,
        "Traefik ran throughout"
    );
    for s in report.counts().iter().filter(|s| &*s.step != "start") {
        assert_eq!(s.hosts.len(), 2, "requests to both hosts in the step {}:\n{report}", s.step);
    }
    step_answers_only(&report, "deploy", &production, &["v1"]);
    for s in ["promote", "shift", "complete", "rollback"] {
        step_answers_only(&report, s, &production, &["v1", "v2"]);
    }
    for s in ["deploy v3", "deploy v4", "cleanup", "retire", "repair", "install"] {
        step_answers_only(&report, s, &production, &["v1"]);
    }
    assert_eq!(report.answers(&preview).keys().collect::<Vec<_>>(), ["v1"], "{report}");
    let both = report.answers(&production);
    assert!(both.contains_key("v1") && both.contains_key("v2"), "{report}");
}
