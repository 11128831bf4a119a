//! Router rules judged by switchyard and by the real Traefik (3.7.15, started once on 127.0.0.1 by
//! `switchyard_real_traefik::rules::RuleJudge`): each input is a rule; Traefik loads it as a router, and its
//! verdict (enabled, or disabled with its error) must be switchyard's (`rules::compare`: accept or refuse alike,
//! and where Traefik's error gives a position, switchyard's error covers it). A disagreement panics, naming
//! both verdicts. Inputs longer than 1 KiB are skipped.
//! `cargo xtask fuzz` runs it with `fuzz/rules.dict` and a seed corpus of Traefik's own rules.
#![no_main]

use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use switchyard_real_traefik::rules::{Agreement, RuleJudge, compare};

/// The Traefik every input goes to, with the directory it works in.
fn judge() -> &'static Mutex<(RuleJudge, std::path::PathBuf)> {
    static JUDGE: OnceLock<Mutex<(RuleJudge, std::path::PathBuf)>> = OnceLock::new();
    JUDGE.get_or_init(|| {
        let work = std::env::temp_dir().join(format!("switchyard-rule-differential-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&work);
        std::fs::create_dir_all(&work).expect("a working directory for Traefik");
        Mutex::new((RuleJudge::start(&work), work))
    })
}

fuzz_target!(|rule: &str| {
    if rule.len() > 1024 {
        return;
    }
    let mut judge = judge().lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let verdict = judge.0.verdicts(&[rule], Duration::from_secs(20)).remove(0);
    if let Agreement::Disagreed(why) = compare(rule, &verdict) {
        panic!("switchyard and Traefik disagree: {why}");
    }
});
