//! Router rules given to the real Traefik and to switchyard's rule parser, verdict against verdict: the
//! differential suite (`tests/tests/traefik_differential.rs`) and the `rule_differential` fuzz target both judge
//! rules here.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use switchyard_traefik::rules;

use crate::LocalTraefik;

/// What Traefik says of a router: `None` when it is enabled, else its error text.
pub type Verdict = Option<String>;

/// How switchyard's verdict on a rule compares with Traefik's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Agreement {
    /// Both accept it.
    Accepted,
    /// Traefik accepts it, and switchyard accepts it with a warning that it does not read it (nested deeper than
    /// its parser reads: `rules::MAX_DEPTH`).
    AcceptedUnread,
    /// Both refuse it, and where Traefik's error gives a position, switchyard's error covers it.
    Refused,
    /// Both refuse it, and switchyard's error lies before the position Traefik's error gives: Go's parser reads
    /// a rule as a Go expression, which takes more than the rule grammar (an unquoted call as an argument, a lone
    /// `&`, `/` between strings), so it stops later, at the first thing no Go expression allows; switchyard
    /// stops at the first thing no rule allows.
    RefusedEarlier,
    /// They disagree: why, in a sentence.
    Disagreed(String),
}

/// Compares switchyard's verdict on `rule` with Traefik's.
pub fn compare(rule: &str, traefik: &Verdict) -> Agreement {
    match (rules::parse(rule), traefik) {
        (Ok(_), None) => Agreement::Accepted,
        (Err(e), None) if e.traefik_accepts() => Agreement::AcceptedUnread,
        (Err(e), Some(error)) if e.traefik_accepts() => {
            Agreement::Disagreed(format!("{rule:?}: Traefik disables it ({error}); switchyard accepts it unread"))
        }
        (Err(e), Some(error)) => match go_position(rule, error) {
            // Go's scanner points at a byte; switchyard's error covers a span, its end included (an unclosed
            // call is reported at its start and ends where the rule does).
            Some(at) if at < e.span.0 => Agreement::Disagreed(format!(
                "{rule:?}: both refuse it, but Traefik points at byte {at} ({error}), before switchyard's error at \
                 bytes {}..{} ({e})",
                e.span.0, e.span.1
            )),
            Some(at) if at > e.span.1 => Agreement::RefusedEarlier,
            _ => Agreement::Refused,
        },
        (Ok(_), Some(error)) => {
            Agreement::Disagreed(format!("{rule:?}: Traefik disables it ({error}); switchyard accepts it"))
        }
        (Err(e), None) => Agreement::Disagreed(format!("{rule:?}: Traefik accepts it; switchyard refuses it ({e})")),
    }
}

/// The byte offset in `rule` of the position Go's parser gives in Traefik's error (`parsing rule RULE: L:C:
/// message`, line and byte column from 1), if it gives one.
pub fn go_position(rule: &str, error: &str) -> Option<usize> {
    let rest = &error[error.rfind(&format!("parsing rule {rule}: "))? + "parsing rule : ".len() + rule.len()..];
    let (line, rest) = rest.split_once(':')?;
    let (column, _) = rest.split_once(':')?;
    let (line, column): (usize, usize) = (line.parse().ok()?, column.parse().ok()?);
    let start: usize = rule.split_inclusive('\n').take(line.checked_sub(1)?).map(str::len).sum();
    Some(start + column.checked_sub(1)?)
}

/// `value` as a YAML double-quoted scalar: everything outside printable ASCII escaped, so the YAML reader hands
/// Traefik exactly these characters, and `{` escaped too, so that no `{{` reaches the Go template every
/// dynamic configuration file is to Traefik.
pub fn yaml_quoted(value: &str) -> String {
    let mut out = String::from("\"");
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '{' => out.push_str("\\x7B"),
            ' '..='~' => out.push(c),
            c if (c as u32) <= 0xFFFF => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push_str(&format!("\\U{:08X}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// A dynamic configuration file with one router per rule, named `{prefix}{i}`, all on the entry point `web`
/// and the service `s`.
pub fn routers_file<R: AsRef<str>>(rules: &[R], prefix: &str) -> String {
    let mut yaml = String::from(
        "http:\n  services:\n    s:\n      loadBalancer:\n        servers:\n          - url: http://127.0.0.1:9\n  routers:\n",
    );
    for (i, rule) in rules.iter().enumerate() {
        yaml.push_str(&format!(
            "    {prefix}{i}:\n      entryPoints: [web]\n      service: s\n      rule: {}\n",
            yaml_quoted(rule.as_ref())
        ));
    }
    yaml
}

/// A running Traefik that judges rules, a batch per configuration reload.
#[derive(Debug)]
pub struct RuleJudge {
    traefik: LocalTraefik,
    /// The watched directory.
    dynamic: PathBuf,
    /// Where a file is written before it is renamed into `dynamic`, so that Traefik sees it whole.
    staging: PathBuf,
    /// Counts the batches; each names its routers `g{generation}_r{i}`, so that a reload is known by its names.
    generation: u64,
}

impl RuleJudge {
    /// Starts Traefik under `work` (an empty directory that outlives the judge), tied to this process (see
    /// [`LocalTraefik::start_tied`]), applying each configuration as soon as it sees it (a 10 ms throttle).
    pub fn start(work: &Path) -> RuleJudge {
        let dynamic = work.join("dynamic");
        std::fs::create_dir_all(&dynamic).unwrap();
        let throttle = ["--providers.providersThrottleDuration=10ms".to_string()];
        let traefik = LocalTraefik::start_tied(&dynamic, &["web"], &throttle, &work.join("traefik.log"));
        RuleJudge { traefik, dynamic, staging: work.join("rules.yml"), generation: 0 }
    }

    /// Traefik's verdict on each rule, in order: one configuration with a router per rule, applied and read
    /// back from `/api/rawdata`. Panics, with Traefik's log, when Traefik does not show the routers within
    /// `patience` (when it refuses the file, say).
    pub fn verdicts<R: AsRef<str>>(&mut self, rules: &[R], patience: Duration) -> Vec<Verdict> {
        self.generation += 1;
        let prefix = format!("g{}_r", self.generation);
        std::fs::write(&self.staging, routers_file(rules, &prefix)).unwrap();
        std::fs::rename(&self.staging, self.dynamic.join("rules.yml")).unwrap();
        let start = Instant::now();
        let mut pause = Duration::from_millis(1);
        loop {
            let raw = self.traefik.rawdata();
            let routers = raw["routers"].as_object();
            let ours = |i: usize| routers.and_then(|r| r.get(&format!("{prefix}{i}@file")));
            if (0..rules.len()).all(|i| ours(i).is_some()) {
                return (0..rules.len())
                    .map(|i| {
                        let router = ours(i).unwrap_or(&serde_json::Value::Null);
                        match router["status"].as_str() {
                            Some("enabled") => None,
                            _ => Some(router["error"].to_string()),
                        }
                    })
                    .collect();
            }
            assert!(
                start.elapsed() < patience,
                "Traefik shows none or part of the {} routers {prefix}*:\n{}",
                rules.len(),
                self.traefik.log_text()
            );
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(100));
        }
    }
}
