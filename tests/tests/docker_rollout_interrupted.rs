//! Rollouts that do not simply pass, on the real Docker engine behind the real Traefik: a slow version (its
//! p95 over the threshold) is rolled back; a version that gets too few requests waits and says so; a rollout
//! killed with SIGKILL in the middle of a step leaves the traffic at that step, `status` says so, and
//! `rollout resume` finishes it; a Traefik restart in the middle of a step (its counters start again from
//! zero) does not roll back a good version. In a test binary of its own (see `docker_rollout.rs`).

#![allow(clippy::unwrap_used, clippy::print_stderr)] // a panic in a test is a failing test; the figures are printed

use std::fs::File;
use std::path::PathBuf;
use std::process::Child;
use std::time::{Duration, Instant};

use switchyard_e2e::docker::{Site, docker};

/// A switchyard command running in the background, its output going to a file.
struct Background {
    child: Child,
    log: PathBuf,
}

impl Background {
    fn start(site: &Site, name: &str, args: &[&str]) -> Background {
        let log = site.path().join(format!("{name}.log"));
        let file = File::create(&log).unwrap();
        let child = site.command(args).stdout(file.try_clone().unwrap()).stderr(file).spawn().unwrap();
        Background { child, log }
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until its output contains `text` (at most a minute, a bound for a broken run, not a measurement).
    fn wait_for(&self, text: &str) {
        let started = Instant::now();
        while !self.output().contains(text) {
            assert!(started.elapsed() < Duration::from_secs(60), "no {text:?} in:\n{}", self.output());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn finish(mut self) -> (Option<i32>, String) {
        let status = self.child.wait().unwrap();
        (status.code(), self.output())
    }
}

#[test]
fn slow_starved_killed_and_restarted_rollouts() {
    let site = Site::live(
        "syri",
        &["rollout: {steps: [20, 100], step_time: 4s, bake: 0s, max_error_rate: 1%, min_requests: 10}"],
        "v1",
    );
    site.ok(&["deploy", "v2-slow"]);
    site.ok(&["deploy", "v3"]);
    site.under_load(100, |site, load| {
        // Slow: every answer takes half a second, over the 300 ms allowed.
        load.step("slow");
        let text = site.expect(1, &["promote", "v2-slow", "--max-p95", "300ms"]);
        assert!(text.contains("p95 latency") && text.contains("is over the 300ms allowed"), "{text}");
        assert!(text.contains("was rolled back at step 1 of 2 (20%)"), "{text}");
        assert_eq!(site.env_state().traffic_summary(), "blue v1 100%");

        // Too few requests: the step waits, and says how many it has; then it is aborted.
        load.step("starved");
        let starved = Background::start(site, "starved", &["promote", "v3", "--min-requests", "1000000"]);
        starved.wait_for("of the 1000000 requests needed to judge the step");
        std::thread::sleep(Duration::from_secs(5));
        starved.wait_for("time is up");
        // SIGKILL in the middle of the step: the traffic stays at the step, and the state says where.
        let mut starved = starved;
        starved.child.kill().unwrap();
        let (_, out) = starved.finish();
        let state = site.env_state();
        assert_eq!(state.traffic_summary(), "blue v1 80%, green v3 20%", "{out}");
        let status = site.ok(&["status"]);
        assert!(status.contains("rollout of v3: at step 1 of 2 (20%)"), "{status}");
        assert!(status.contains("`switchyard rollout resume` takes it on"), "{status}");
        let text = site.ok(&["rollout", "abort"]);
        assert!(text.contains("roll back the rollout of v3: aborted by e2e"), "{text}");
        assert_eq!(site.env_state().traffic_summary(), "blue v1 100%");
        assert!(site.env_state().rollout.is_none());

        // SIGKILL mid-step, then resume: the step is watched afresh and the rollout finishes.
        load.step("killed");
        let killed = Background::start(site, "killed", &["promote", "v3", "--step-time", "30s"]);
        killed.wait_for("watched for 30s");
        std::thread::sleep(Duration::from_secs(1));
        let mut killed = killed;
        killed.child.kill().unwrap();
        let _ = killed.finish();
        assert_eq!(site.env_state().traffic_summary(), "blue v1 80%, green v3 20%");
        let text = site.expect(1, &["promote", "v3"]);
        assert!(text.contains("SY0216") && text.contains("a rollout of v3 is under way"), "{text}");
        load.step("resumed");
        let resumed = Background::start(site, "resumed", &["rollout", "resume"]);
        resumed.wait_for("resuming the rollout of v3 at step 1 of 2 (20%)");
        // A Traefik restart in the middle of the resumed step: its counters start from zero again.
        resumed.wait_for("watched for 30s");
        // A second driver beside the live one is refused: it would take every step twice.
        let text = site.expect(1, &["rollout", "resume"]);
        assert!(text.contains("SY0218") && text.contains("is driven by pid"), "{text}");
        assert!(site.ok(&["status"]).contains("driven by pid"));
        std::thread::sleep(Duration::from_secs(3));
        load.step("restart");
        docker(&["restart", "-t", "1", &site.proxy]);
        load.step("restarted");
        let (code, text) = resumed.finish();
        assert_eq!(code, Some(0), "{text}");
        assert!(text.contains("step 1 of 2 (20%) passed"), "{text}");
        assert!(text.contains("the rollout of v3 is done: production green v3 100%"), "{text}");
        eprintln!("the resumed rollout, with Traefik restarted in its step:\n{text}");
    });
}
