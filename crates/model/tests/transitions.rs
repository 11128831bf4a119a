//! The state machine, one row per case: the requests that set the scene, the request under test, and what
//! must come of it (a specific error, or the key facts of the new state and the kinds of the plan's steps).

use switchyard_model::state::HealthStatus;
use switchyard_model::traefik::RenderedConfig;
use switchyard_model::{
    Change, Context, EnvKey, Outcome, Slot, Spec, Step, Timestamp, TransitionError, ValidSpec, World, apply,
};

const SPEC: &str = r#"
apps:
  whoami:
    compose: compose.yaml
    routes:
      web: {port: 80}
      api: {port: 8080, host_prefix: api}
    health: {path: /health, interval: 10s, timeout: 3s}
    environments:
      dev:
        domain: dev.example.com
        retention: {keep_last: 1, older_than: 1d}
"#;

const T0: u64 = 1_780_000_000;
const DAY: u64 = 86_400;

fn spec() -> ValidSpec {
    Spec::parse(SPEC, "switchyard.yaml").expect("the table's spec is valid")
}

fn key() -> EnvKey {
    EnvKey::new("whoami", "dev")
}

fn deploy(v: &str) -> Change {
    Change::Deploy { version: v.into() }
}
fn promote(v: &str, share: u8) -> Change {
    Change::Promote { version: v.into(), share }
}
fn set_share(share: u8) -> Change {
    Change::SetShare { share }
}
fn retire(v: &str) -> Change {
    Change::Retire { version: v.into() }
}

/// Applies `setup` in order, one minute apart from T0; every step must succeed.
fn scene(spec: &ValidSpec, setup: &[Change]) -> World {
    let mut world = World::new();
    for (i, request) in setup.iter().enumerate() {
        let ctx = Context { now: Timestamp(T0 + 60 * i as u64), actor: None };
        let out = apply(spec, &world, &key(), request, &ctx)
            .unwrap_or_else(|e| panic!("setup step {i} ({}) failed: {e}", request.describe()));
        world.insert(key(), out.state);
    }
    world
}

fn kind(step: &Step) -> &'static str {
    match step {
        Step::CreateStack { .. } => "create",
        Step::ConnectProxy { .. } => "connect",
        Step::WriteConfig { .. } => "write",
        Step::WaitHealthy { .. } => "wait",
        Step::DisconnectProxy { .. } => "disconnect",
        Step::RemoveStack { .. } => "remove",
        Step::SaveState { .. } => "save",
        _ => "other",
    }
}

#[derive(Debug)]
struct Facts {
    changed: bool,
    live: Option<Slot>,
    split: Option<(Slot, u8)>,
    slots: &'static [(Slot, &'static str)],
    versions: &'static [&'static str],
    revision: u64,
    steps: &'static [&'static str],
}

#[derive(Debug)]
enum Expect {
    Ok(Facts),
    /// The error's variant, checked by a `matches!`.
    Err(&'static str, fn(&TransitionError) -> bool),
}

#[derive(Debug)]
struct Case {
    name: &'static str,
    setup: Vec<Change>,
    request: Change,
    /// Days after T0 at which the request under test is made.
    days_later: u64,
    expect: Expect,
}

use Slot::{Blue, Green};

const PROMOTE_STEPS: &[&str] = &["write", "wait", "write", "save"];
const DEPLOY_STEPS: &[&str] = &["create", "connect", "write", "save"];

fn cases() -> Vec<Case> {
    let created = || vec![Change::Create, deploy("v1"), deploy("v2")];
    let v1_live = || vec![Change::Create, deploy("v1"), deploy("v2"), promote("v1", 100)];
    let split_10 = || vec![Change::Create, deploy("v1"), deploy("v2"), promote("v1", 100), promote("v2", 10)];
    let completed =
        || vec![Change::Create, deploy("v1"), deploy("v2"), promote("v1", 100), promote("v2", 10), Change::Complete];
    let ok = |f: Facts| Expect::Ok(f);
    vec![
        Case {
            name: "request before create",
            setup: vec![],
            request: deploy("v1"),
            days_later: 0,
            expect: Expect::Err("NotCreated", |e| matches!(e, TransitionError::NotCreated { .. })),
        },
        Case {
            name: "promote an unknown version",
            setup: created(),
            request: promote("v9", 50),
            days_later: 0,
            expect: Expect::Err(
                "UnknownVersion",
                |e| matches!(e, TransitionError::UnknownVersion { version, deployed, .. } if version == "v9" && deployed.len() == 2),
            ),
        },
        Case {
            name: "promote with share 0",
            setup: created(),
            request: promote("v1", 0),
            days_later: 0,
            expect: Expect::Err("InvalidShare 0", |e| matches!(e, TransitionError::InvalidShare { share: 0 })),
        },
        Case {
            name: "promote with share 101",
            setup: created(),
            request: promote("v1", 101),
            days_later: 0,
            expect: Expect::Err("InvalidShare 101", |e| matches!(e, TransitionError::InvalidShare { share: 101 })),
        },
        Case {
            name: "the first promote makes live regardless of share",
            setup: created(),
            request: promote("v1", 10),
            days_later: 0,
            expect: ok(Facts {
                changed: true,
                live: Some(Blue),
                split: None,
                slots: &[(Blue, "v1")],
                versions: &["v1", "v2"],
                revision: 4,
                steps: PROMOTE_STEPS,
            }),
        },
        Case {
            name: "promote 10 into the idle slot",
            setup: v1_live(),
            request: promote("v2", 10),
            days_later: 0,
            expect: ok(Facts {
                changed: true,
                live: Some(Blue),
                split: Some((Green, 10)),
                slots: &[(Blue, "v1"), (Green, "v2")],
                versions: &["v1", "v2"],
                revision: 5,
                steps: PROMOTE_STEPS,
            }),
        },
        Case {
            name: "promote the live version",
            setup: v1_live(),
            request: promote("v1", 50),
            days_later: 0,
            expect: Expect::Err("AlreadyLive", |e| matches!(e, TransitionError::AlreadyLive { .. })),
        },
        Case {
            name: "promote 10 then set_share 50",
            setup: split_10(),
            request: set_share(50),
            days_later: 0,
            expect: ok(Facts {
                changed: true,
                live: Some(Blue),
                split: Some((Green, 50)),
                slots: &[(Blue, "v1"), (Green, "v2")],
                versions: &["v1", "v2"],
                revision: 6,
                steps: &["wait", "write", "save"],
            }),
        },
        Case {
            name: "lowering the share moves traffic back without waiting",
            setup: vec![
                Change::Create,
                deploy("v1"),
                deploy("v2"),
                promote("v1", 100),
                promote("v2", 10),
                set_share(50),
            ],
            request: set_share(5),
            days_later: 0,
            expect: ok(Facts {
                changed: true,
                live: Some(Blue),
                split: Some((Green, 5)),
                slots: &[(Blue, "v1"), (Green, "v2")],
                versions: &["v1", "v2"],
                revision: 7,
                steps: &["write", "save"],
            }),
        },
        Case {
            name: "promote 10, set_share 50, then complete",
            setup: vec![
                Change::Create,
                deploy("v1"),
                deploy("v2"),
                promote("v1", 100),
                promote("v2", 10),
                set_share(50),
            ],
            request: Change::Complete,
            days_later: 0,
            expect: ok(Facts {
                changed: true,
                live: Some(Green),
                split: None,
                slots: &[(Blue, "v1"), (Green, "v2")],
                versions: &["v1", "v2"],
                revision: 7,
                steps: &["wait", "write", "save"],
            }),
        },
        Case {
            name: "set_share 100 completes",
            setup: split_10(),
            request: set_share(100),
            days_later: 0,
            expect: ok(Facts {
                changed: true,
                live: Some(Green),
                split: None,
                slots: &[(Blue, "v1"), (Green, "v2")],
                versions: &["v1", "v2"],
                revision: 6,
                steps: &["wait", "write", "save"],
            }),
        },
        Case {
            name: "set_share without a promotion",
            setup: v1_live(),
            request: set_share(50),
            days_later: 0,
            expect: Expect::Err("NoPromotion", |e| matches!(e, TransitionError::NoPromotion { .. })),
        },
        Case {
            name: "complete without a promotion",
            setup: v1_live(),
            request: Change::Complete,
            days_later: 0,
            expect: Expect::Err("NoPromotion", |e| matches!(e, TransitionError::NoPromotion { .. })),
        },
        Case {
            name: "promote another version while a split is under way",
            setup: vec![
                Change::Create,
                deploy("v1"),
                deploy("v2"),
                deploy("v3"),
                promote("v1", 100),
                promote("v2", 10),
            ],
            request: promote("v3", 50),
            days_later: 0,
            expect: Expect::Err(
                "PromotionUnderWay",
                |e| matches!(e, TransitionError::PromotionUnderWay { version, slot: Slot::Green, .. } if version == "v2"),
            ),
        },
        Case {
            name: "repeating the promotion under way changes nothing",
            setup: split_10(),
            request: promote("v2", 10),
            days_later: 0,
            expect: ok(Facts {
                changed: false,
                live: Some(Blue),
                split: Some((Green, 10)),
                slots: &[(Blue, "v1"), (Green, "v2")],
                versions: &["v1", "v2"],
                revision: 5,
                steps: &[],
            }),
        },
        Case {
            name: "rollback with nothing live",
            setup: created(),
            request: Change::Rollback,
            days_later: 0,
            expect: Expect::Err("NothingToRollBack", |e| matches!(e, TransitionError::NothingToRollBack { .. })),
        },
        Case {
            name: "rollback during a split clears the split",
            setup: split_10(),
            request: Change::Rollback,
            days_later: 0,
            expect: ok(Facts {
                changed: true,
                live: Some(Blue),
                split: None,
                slots: &[(Blue, "v1"), (Green, "v2")],
                versions: &["v1", "v2"],
                revision: 6,
                steps: &["write", "save"],
            }),
        },
        Case {
            name: "rollback after complete flips the slots",
            setup: completed(),
            request: Change::Rollback,
            days_later: 0,
            expect: ok(Facts {
                changed: true,
                live: Some(Blue),
                split: None,
                slots: &[(Blue, "v1"), (Green, "v2")],
                versions: &["v1", "v2"],
                revision: 7,
                steps: &["write", "save"],
            }),
        },
        Case {
            name: "rollback with the other slot empty",
            setup: v1_live(),
            request: Change::Rollback,
            days_later: 0,
            expect: Expect::Err(
                "NothingToRollBack",
                |e| matches!(e, TransitionError::NothingToRollBack { reason, .. } if reason.contains("green slot is empty")),
            ),
        },
        Case {
            name: "retire a version a slot holds",
            setup: completed(),
            request: retire("v1"),
            days_later: 0,
            expect: Expect::Err(
                "VersionInSlot",
                |e| matches!(e, TransitionError::VersionInSlot { version, slot: Slot::Blue, .. } if version == "v1"),
            ),
        },
        Case {
            name: "retire a preview",
            setup: v1_live(),
            request: retire("v2"),
            days_later: 0,
            expect: ok(Facts {
                changed: true,
                live: Some(Blue),
                split: None,
                slots: &[(Blue, "v1")],
                versions: &["v1"],
                revision: 5,
                steps: &["write", "disconnect", "remove", "save"],
            }),
        },
        Case {
            name: "retire an unknown version",
            setup: v1_live(),
            request: retire("v7"),
            days_later: 0,
            expect: Expect::Err("UnknownVersion", |e| matches!(e, TransitionError::UnknownVersion { .. })),
        },
        Case {
            name: "cleanup before older_than has passed removes nothing",
            setup: vec![Change::Create, deploy("v1"), deploy("v2"), deploy("v3"), deploy("v4"), promote("v1", 100)],
            request: Change::Cleanup,
            days_later: 0,
            expect: ok(Facts {
                changed: false,
                live: Some(Blue),
                split: None,
                slots: &[(Blue, "v1")],
                versions: &["v1", "v2", "v3", "v4"],
                revision: 6,
                steps: &[],
            }),
        },
        Case {
            name: "cleanup keeps the newest and every slot version",
            setup: vec![
                Change::Create,
                deploy("v1"),
                deploy("v2"),
                deploy("v3"),
                deploy("v4"),
                promote("v1", 100),
                promote("v2", 100),
            ],
            request: Change::Cleanup,
            days_later: 2,
            expect: ok(Facts {
                changed: true,
                live: Some(Green),
                split: None,
                slots: &[(Blue, "v1"), (Green, "v2")],
                versions: &["v1", "v2", "v4"],
                revision: 8,
                steps: &["write", "disconnect", "remove", "save"],
            }),
        },
        Case {
            name: "deploy twice is a no-op",
            setup: created(),
            request: deploy("v2"),
            days_later: 0,
            expect: ok(Facts {
                changed: false,
                live: None,
                split: None,
                slots: &[],
                versions: &["v1", "v2"],
                revision: 3,
                steps: &[],
            }),
        },
        Case {
            name: "deploy a new version",
            setup: created(),
            request: deploy("v3"),
            days_later: 0,
            expect: ok(Facts {
                changed: true,
                live: None,
                split: None,
                slots: &[],
                versions: &["v1", "v2", "v3"],
                revision: 4,
                steps: DEPLOY_STEPS,
            }),
        },
        Case {
            name: "deploy a version whose slug collides",
            setup: vec![Change::Create, deploy("v1.2.0")],
            request: deploy("v1-2-0"),
            days_later: 0,
            expect: Expect::Err(
                "SlugCollision",
                |e| matches!(e, TransitionError::SlugCollision { other, slug, .. } if other == "v1.2.0" && slug == "v1-2-0"),
            ),
        },
        Case {
            name: "deploy an invalid version string",
            setup: vec![Change::Create],
            request: deploy("v1`evil"),
            days_later: 0,
            expect: Expect::Err("InvalidVersion", |e| matches!(e, TransitionError::InvalidVersion { .. })),
        },
        Case {
            name: "deploy a version whose names are too long",
            setup: vec![Change::Create],
            request: deploy(&"v".repeat(60)),
            days_later: 0,
            expect: Expect::Err("NameTooLong", |e| matches!(e, TransitionError::NameTooLong { .. })),
        },
        Case {
            name: "observe an unknown version",
            setup: vec![Change::Create],
            request: Change::ObserveHealth { version: "v1".into(), status: HealthStatus::Healthy },
            days_later: 0,
            expect: Expect::Err("UnknownVersion", |e| matches!(e, TransitionError::UnknownVersion { .. })),
        },
        Case {
            name: "an observation is a change of state only",
            setup: created(),
            request: Change::ObserveHealth { version: "v1".into(), status: HealthStatus::Healthy },
            days_later: 0,
            expect: ok(Facts {
                changed: true,
                live: None,
                split: None,
                slots: &[],
                versions: &["v1", "v2"],
                revision: 4,
                steps: &["save"],
            }),
        },
    ]
}

#[test]
fn state_machine_table() {
    let spec = spec();
    let mut failures = Vec::new();
    for case in cases() {
        let world = scene(&spec, &case.setup);
        let ctx = Context { now: Timestamp(T0 + 3600 + case.days_later * DAY), actor: None };
        let result = apply(&spec, &world, &key(), &case.request, &ctx);
        let problem = match (&case.expect, &result) {
            (Expect::Err(_, check), Err(e)) if check(e) => None,
            (Expect::Err(name, _), Err(e)) => Some(format!("expected {name}, got {e:?}")),
            (Expect::Err(name, _), Ok(out)) => Some(format!("expected {name}, got Ok with plan\n{}", out.plan)),
            (Expect::Ok(_), Err(e)) => Some(format!("expected Ok, got {e:?}")),
            (Expect::Ok(facts), Ok(out)) => check_facts(facts, out, world.get(&key())),
        };
        if let Some(p) = problem {
            failures.push(format!("{}: {p}", case.name));
        }
    }
    assert!(failures.is_empty(), "{} failing cases:\n{}", failures.len(), failures.join("\n\n"));
}

fn check_facts(f: &Facts, out: &Outcome, old: Option<&switchyard_model::EnvState>) -> Option<String> {
    let s = &out.state;
    let slots: Vec<(Slot, &str)> = s.slots.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let versions: Vec<&str> = s.deployments.iter().map(|d| d.version.as_str()).collect();
    let steps: Vec<&str> = out.plan.steps.iter().map(kind).collect();
    let got = Facts {
        changed: out.changed,
        live: s.live,
        split: s.split.map(|sp| (sp.slot, sp.share)),
        slots: &[],
        versions: &[],
        revision: s.revision,
        steps: &[],
    };
    let same = got.changed == f.changed
        && got.live == f.live
        && got.split == f.split
        && slots == f.slots
        && versions == f.versions
        && got.revision == f.revision
        && steps == f.steps;
    if !same {
        return Some(format!(
            "expected {f:?}\n     got changed {}, live {:?}, split {:?}, slots {slots:?}, versions {versions:?}, revision {}, steps {steps:?}",
            got.changed, got.live, got.split, got.revision
        ));
    }
    if !out.changed {
        // Nothing changed: the very same state back, nothing to do or undo, the same configuration.
        if Some(s) != old || !out.undo.is_empty() || out.before != out.after {
            return Some("an unchanged outcome differs from the state it started from".into());
        }
    }
    None
}

// ---- health gating, in detail ----

fn production_services(config: &RenderedConfig) -> Vec<(String, String)> {
    config
        .services()
        .filter_map(|(name, s)| {
            s.weighted.as_ref().map(|w| {
                let children: Vec<String> = w.services.iter().map(|c| format!("{}={}", c.name, c.weight)).collect();
                (name.clone(), children.join(","))
            })
        })
        .collect()
}

fn writes(out: &Outcome) -> Vec<(usize, &RenderedConfig)> {
    out.plan
        .steps
        .iter()
        .enumerate()
        .filter_map(|(i, s)| match s {
            Step::WriteConfig { config, .. } => Some((i, config)),
            _ => None,
        })
        .collect()
}

fn first_wait(out: &Outcome) -> Option<usize> {
    out.plan.steps.iter().position(|s| matches!(s, Step::WaitHealthy { .. }))
}

#[test]
fn health_gating_on_promote() {
    let spec = spec();
    for (setup, request, label) in [
        (vec![Change::Create, deploy("v1")], promote("v1", 100), "first promote"),
        (vec![Change::Create, deploy("v1"), deploy("v2"), promote("v1", 100)], promote("v2", 10), "canary"),
        (vec![Change::Create, deploy("v1"), deploy("v2"), promote("v1", 100)], promote("v2", 100), "full switch"),
    ] {
        let world = scene(&spec, &setup);
        let ctx = Context { now: Timestamp(T0 + 3600), actor: None };
        let out = apply(&spec, &world, &key(), &request, &ctx).expect(label);
        let writes = writes(&out);
        assert_eq!(writes.len(), 2, "{label}: a staging write and a traffic write\n{}", out.plan);
        let wait = first_wait(&out).unwrap_or_else(|| panic!("{label}: no WaitHealthy in\n{}", out.plan));
        let (stage_at, stage) = writes[0];
        let (shift_at, shift) = writes[1];
        assert!(stage_at < wait && wait < shift_at, "{label}: stage, wait, then shift\n{}", out.plan);
        assert_eq!(
            production_services(stage),
            production_services(&out.before),
            "{label}: the staging write must not change production weights"
        );
        assert_ne!(production_services(shift), production_services(&out.before), "{label}: the shift moves traffic");
        assert_eq!(shift, &out.after, "{label}: the last write is the outcome's configuration");
        // The probes are the candidate's, on every routed service, with the spec's path.
        match &out.plan.steps[wait] {
            Step::WaitHealthy { version, probes, .. } => {
                let promoted = match &request {
                    Change::Promote { version, .. } => version,
                    _ => unreachable!(),
                };
                assert_eq!(version, promoted);
                assert_eq!(probes.len(), 2);
                assert!(probes.iter().all(|p| p.path == "/health" && p.timeout_ms == 3000), "{probes:?}");
            }
            other => panic!("{other:?}"),
        }
        // The undo plan restores the previous configuration first.
        match out.undo.steps.first() {
            Some(Step::WriteConfig { config, .. }) => assert_eq!(config, &out.before, "{label}"),
            other => panic!("{label}: the undo plan starts with {other:?}"),
        }
    }
}

#[test]
fn health_gating_on_raising_the_share_and_completing() {
    let spec = spec();
    let world = scene(&spec, &[Change::Create, deploy("v1"), deploy("v2"), promote("v1", 100), promote("v2", 10)]);
    let ctx = Context { now: Timestamp(T0 + 3600), actor: None };
    for request in [set_share(50), Change::Complete] {
        let out = apply(&spec, &world, &key(), &request, &ctx).expect("valid");
        let wait = first_wait(&out).expect("raising traffic waits for health");
        let writes = writes(&out);
        assert_eq!(writes.len(), 1);
        assert!(wait < writes[0].0, "{}", out.plan);
    }
}

#[test]
fn rollback_is_immediate() {
    let spec = spec();
    let world = scene(&spec, &[Change::Create, deploy("v1"), deploy("v2"), promote("v1", 100), promote("v2", 100)]);
    let ctx = Context { now: Timestamp(T0 + 3600), actor: None };
    let out = apply(&spec, &world, &key(), &Change::Rollback, &ctx).expect("rollback");
    assert_eq!(first_wait(&out), None, "a rollback waits for nothing:\n{}", out.plan);
    assert_eq!(out.state.traffic(), vec![(Slot::Blue, "v1", 100)]);
}

/// The same health status observed again records when it was seen: the refresh is a change of state (it used
/// to be made on a state that `apply` then threw away). The same observation at the same time changes nothing.
#[test]
fn observing_the_same_status_again_refreshes_when_it_was_seen() {
    let spec = spec();
    let healthy = Change::ObserveHealth { version: "v1".into(), status: HealthStatus::Healthy };
    let world = scene(&spec, &[Change::Create, deploy("v1"), healthy.clone()]);
    let first = world.get(&key()).expect("created").clone();
    let seen = |state: &switchyard_model::EnvState| state.deployment("v1").expect("deployed").health.observed_at;
    assert_eq!(seen(&first), Some(Timestamp(T0 + 120)));

    let later = Context { now: Timestamp(T0 + DAY), actor: None };
    let out = apply(&spec, &world, &key(), &healthy, &later).expect("observed");
    assert!(out.changed);
    assert_eq!(seen(&out.state), Some(Timestamp(T0 + DAY)));
    assert_eq!(out.state.revision, first.revision + 1);
    assert_eq!(out.plan.steps.iter().map(kind).collect::<Vec<_>>(), ["save"]);

    let mut world = world;
    world.insert(key(), out.state);
    let again = apply(&spec, &world, &key(), &healthy, &later).expect("observed");
    assert!(!again.changed, "the same observation at the same time changes nothing");
}
