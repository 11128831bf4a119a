//! Reading a [`Change`] from its tagged form (`{"change": "promote", "version": "v2", "share": 10}`), the form
//! its `Serialize` writes.
//!
//! serde's derive reads an internally tagged enum by buffering the whole map into its generic `Content` first;
//! in the playground's WebAssembly module that machinery, instantiated for every variant's fields, cost
//! about 13 KB gzipped of the page's first load. One flat struct of every field, checked against the variant
//! afterwards, reads the same documents with the same errors for a missing or misplaced field.

use serde::Deserialize;

use crate::rollout::{Driver, Rollout};
use crate::state::HealthStatus;
use crate::transition::Change;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChangeFields {
    change: Kind,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    status: Option<HealthStatus>,
    #[serde(default)]
    share: Option<u8>,
    #[serde(default)]
    rollout: Option<Rollout>,
    #[serde(default)]
    passed: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    driver: Option<Driver>,
    #[serde(default)]
    take_over: Option<bool>,
}

#[derive(Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    Create,
    Deploy,
    ObserveHealth,
    Promote,
    SetShare,
    Complete,
    Rollback,
    StartRollout,
    NextStep,
    ResumeRollout,
    AbortRollout,
    Retire,
    Cleanup,
}

impl TryFrom<ChangeFields> for Change {
    type Error = String;

    fn try_from(f: ChangeFields) -> Result<Change, String> {
        let ChangeFields { change, version, status, share, rollout, passed, reason, driver, take_over } = f;
        let (name, takes): (&str, &[&str]) = match change {
            Kind::Create => ("create", &[]),
            Kind::Deploy => ("deploy", &["version"]),
            Kind::ObserveHealth => ("observe_health", &["version", "status"]),
            Kind::Promote => ("promote", &["version", "share"]),
            Kind::SetShare => ("set_share", &["share"]),
            Kind::Complete => ("complete", &[]),
            Kind::Rollback => ("rollback", &[]),
            Kind::StartRollout => ("start_rollout", &["version", "rollout", "driver"]),
            Kind::NextStep => ("next_step", &["version", "passed", "driver"]),
            Kind::ResumeRollout => ("resume_rollout", &["version", "driver", "take_over"]),
            Kind::AbortRollout => ("abort_rollout", &["version", "reason"]),
            Kind::Retire => ("retire", &["version"]),
            Kind::Cleanup => ("cleanup", &[]),
        };
        let given = [
            ("version", version.is_some()),
            ("status", status.is_some()),
            ("share", share.is_some()),
            ("rollout", rollout.is_some()),
            ("passed", passed.is_some()),
            ("reason", reason.is_some()),
            ("driver", driver.is_some()),
            ("take_over", take_over.is_some()),
        ];
        for (field, present) in given {
            if present && !takes.contains(&field) {
                let expected = match takes {
                    [] => "no other field".to_string(),
                    [one] => format!("`{one}`"),
                    _ => format!("one of {}", takes.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", ")),
                };
                return Err(format!("unknown field `{field}` for `{name}`, expected {expected}"));
            }
        }
        let missing = |field: &str| format!("missing field `{field}` for `{name}`");
        let version = || version.clone().ok_or_else(|| missing("version"));
        Ok(match change {
            Kind::Create => Change::Create,
            Kind::Deploy => Change::Deploy { version: version()? },
            Kind::ObserveHealth => {
                Change::ObserveHealth { version: version()?, status: status.ok_or_else(|| missing("status"))? }
            }
            Kind::Promote => Change::Promote { version: version()?, share: share.ok_or_else(|| missing("share"))? },
            Kind::SetShare => Change::SetShare { share: share.ok_or_else(|| missing("share"))? },
            Kind::Complete => Change::Complete,
            Kind::Rollback => Change::Rollback,
            Kind::StartRollout => Change::StartRollout {
                version: version()?,
                rollout: rollout.ok_or_else(|| missing("rollout"))?,
                driver,
            },
            Kind::NextStep => {
                Change::NextStep { version: version()?, passed: passed.ok_or_else(|| missing("passed"))?, driver }
            }
            Kind::ResumeRollout => Change::ResumeRollout {
                version: version()?,
                driver: driver.ok_or_else(|| missing("driver"))?,
                take_over: take_over.unwrap_or(false),
            },
            Kind::AbortRollout => {
                Change::AbortRollout { version: version()?, reason: reason.ok_or_else(|| missing("reason"))? }
            }
            Kind::Retire => Change::Retire { version: version()? },
            Kind::Cleanup => Change::Cleanup,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(json: &str) -> Result<Change, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    #[test]
    fn every_change_reads_back_what_it_writes() {
        let changes = [
            Change::Create,
            Change::Deploy { version: "v1".into() },
            Change::ObserveHealth { version: "v1".into(), status: HealthStatus::Healthy },
            Change::Promote { version: "v1".into(), share: 10 },
            Change::SetShare { share: 50 },
            Change::Complete,
            Change::Rollback,
            Change::StartRollout { version: "v2".into(), rollout: Rollout::default(), driver: None },
            Change::NextStep { version: "v2".into(), passed: "ok".into(), driver: None },
            Change::NextStep {
                version: "v2".into(),
                passed: "ok".into(),
                driver: Some(Driver { host: Some("ci".into()), pid: 7 }),
            },
            Change::ResumeRollout { version: "v2".into(), driver: Driver { host: None, pid: 8 }, take_over: true },
            Change::AbortRollout { version: "v2".into(), reason: "bad".into() },
            Change::Retire { version: "v1".into() },
            Change::Cleanup,
        ];
        for change in changes {
            let json = serde_json::to_string(&change).unwrap();
            assert_eq!(read(&json), Ok(change), "{json}");
        }
    }

    #[test]
    fn fields_that_do_not_belong_are_refused() {
        let e = read(r#"{"change": "promote", "version": "v1"}"#).unwrap_err();
        assert!(e.contains("missing field `share` for `promote`"), "{e}");
        let e = read(r#"{"change": "rollback", "share": 10}"#).unwrap_err();
        assert!(e.contains("unknown field `share` for `rollback`, expected no other field"), "{e}");
        let e = read(r#"{"change": "deploy", "version": "v1", "status": "healthy"}"#).unwrap_err();
        assert!(e.contains("unknown field `status` for `deploy`, expected `version`"), "{e}");
        let e = read(r#"{"change": "promote", "version": "v1", "share": 10, "colour": 1}"#).unwrap_err();
        assert!(e.contains("unknown field `colour`"), "{e}");
        let e = read(r#"{"change": "launch"}"#).unwrap_err();
        assert!(e.contains("unknown variant `launch`"), "{e}");
        let e = read(r#"{"version": "v1"}"#).unwrap_err();
        assert!(e.contains("missing field `change`"), "{e}");
    }
}
