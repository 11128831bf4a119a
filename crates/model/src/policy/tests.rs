//! Tests of the model's policy, with the straightforward reader of its input kept as the oracle the lazy one is
//! compared with.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::value::RawValue;
use switchyard_diagnostics::{Diagnostic, Severity};

use super::lazy::parse;
use super::*;
use crate::render::render_env;
use crate::spec::Spec;
use crate::state::{EnvState, Slot, Split};
use crate::traefik::RenderedConfig;
use crate::valid_spec::ValidSpec;
use crate::{Change, Context, EnvKey, World, apply};

fn input(spec: &ValidSpec, states: Vec<EnvState>) -> String {
    let configs: Vec<(String, RenderedConfig)> = states
        .iter()
        .filter_map(|s| Some((format!("{}/{}", s.app, s.env), render_env(spec, s).ok()?.config)))
        .collect();
    let plan = serde_json::Value::Array(Vec::new());
    let source = Source { file: "switchyard.yaml".into(), text: crate::EXAMPLE_SPEC.into() };
    let input = InputRef {
        abi: ABI_VERSION,
        change: None,
        spec: &spec.spec,
        spec_source: Some(&source),
        before: states.iter().collect(),
        after: states.iter().collect(),
        config: configs.iter().map(|(k, c)| (k.clone(), c)).collect(),
        plan: &plan,
    };
    serde_json::to_string(&input).unwrap()
}

fn live_state(spec: &ValidSpec) -> EnvState {
    let key = EnvKey::new("whoami", "dev");
    let mut world = World::new();
    let ctx = Context::default();
    for request in [
        Change::Create,
        Change::Deploy { version: "v1".into() },
        Change::ObserveHealth { version: "v1".into(), status: crate::state::HealthStatus::Healthy },
        Change::Promote { version: "v1".into(), share: 100 },
    ] {
        let outcome = apply(spec, &world, &key, &request, &ctx).unwrap();
        world.insert(key.clone(), outcome.state);
    }
    world.remove(&key).unwrap()
}

#[test]
fn a_sound_world_has_no_findings() {
    let spec = Spec::parse(crate::EXAMPLE_SPEC, "switchyard.yaml").unwrap();
    let answer = evaluate(input(&spec, vec![live_state(&spec)]).as_bytes());
    assert_eq!(answer, r#"{"findings":[]}"#);
}

#[test]
fn broken_states_and_a_tampered_config_are_found() {
    let spec = Spec::parse(crate::EXAMPLE_SPEC, "switchyard.yaml").unwrap();
    let mut state = live_state(&spec);
    state.split = Some(Split { slot: Slot::Blue, share: 40 });
    state.slots.insert(Slot::Green, "v9".into());
    let text = input(&spec, vec![state, EnvState::new("nope", "dev")]);
    let answer: Answer = serde_json::from_str(&evaluate(text.as_bytes())).unwrap();
    let Answer::Findings { findings } = answer else { panic!("{answer:?}") };
    let codes: Vec<&str> = findings.iter().map(|f| f.code.as_str()).collect();
    assert_eq!(codes, ["SY0402", "SY0404", "SY0401"], "{findings:#?}");

    let mut value: serde_json::Value = serde_json::from_str(&input(&spec, vec![live_state(&spec)])).unwrap();
    value["config"]["whoami/dev"]["http"]["routers"] = serde_json::json!({});
    let answer = evaluate(value.to_string().as_bytes());
    assert!(answer.contains("SY0408"), "{answer}");
}

#[test]
fn spec_problems_are_located_in_the_source() {
    let spec = Spec::parse(crate::EXAMPLE_SPEC, "switchyard.yaml").unwrap();
    let mut value: serde_json::Value = serde_json::from_str(&input(&spec, vec![])).unwrap();
    value["spec"]["apps"]["whoami"]["environments"]["dev"]["domain"] = serde_json::json!("not a domain");
    let answer: Answer = serde_json::from_str(&evaluate(value.to_string().as_bytes())).unwrap();
    let Answer::Findings { findings } = answer else { panic!("{answer:?}") };
    let domain = findings.iter().find(|f| f.path.as_deref() == Some("apps.whoami.environments.dev.domain"));
    let domain = domain.unwrap_or_else(|| panic!("{findings:#?}"));
    assert_eq!(domain.file.as_deref(), Some("switchyard.yaml"));
    assert!(domain.line.is_some_and(|l| l > 1), "{domain:?}");
}

#[test]
fn policy_codes_belong_to_their_diagnostics() {
    // However many distinct codes policies report, each lives in its own diagnostic and goes with it: nothing
    // is kept for the life of the process.
    for i in 0..10_000 {
        let finding = Finding {
            code: format!("TEAM{i:05}"),
            severity: Severity::Warning,
            message: "m".into(),
            path: Some("apps.a".into()),
            hint: None,
            hints: Vec::new(),
            file: None,
            line: None,
            column: None,
        };
        let d = finding_diagnostic("team.wasm", &finding);
        assert!(matches!(&d.code, Cow::Owned(code) if *code == finding.code), "{d:?}");
    }
    // Owned or not, a code reads and serialises the same.
    let finding = Finding::from(&Diagnostic::warning("TEAM001", "hello").at("apps.a"));
    let owned = finding.to_diagnostic();
    let borrowed = Diagnostic::warning("TEAM001", "hello").at("apps.a");
    assert_eq!(owned, borrowed);
    assert_eq!(owned.to_string(), borrowed.to_string());
    assert_eq!(serde_json::to_string(&owned).unwrap(), serde_json::to_string(&borrowed).unwrap());
    assert_eq!(
        serde_json::to_string(&owned).unwrap(),
        r#"{"code":"TEAM001","severity":"warning","message":"hello","path":"apps.a"}"#
    );
}

#[test]
fn garbage_and_other_versions_are_answered_not_panicked_on() {
    assert!(evaluate(b"\xff\xfe").starts_with(r#"{"error":"the input is not ABI v1 JSON"#));
    assert!(evaluate(b"{}").starts_with(r#"{"error":"#));
    let spec = Spec::parse(crate::EXAMPLE_SPEC, "switchyard.yaml").unwrap();
    let text = input(&spec, vec![]).replacen(r#""abi":1"#, r#""abi":2"#, 1);
    assert!(evaluate(text.as_bytes()).contains("SY0409"));
}

#[test]
fn the_change_comes_first_and_flat() {
    let change = ChangeInput {
        command: "promote".into(),
        app: "whoami".into(),
        env: "dev".into(),
        version: Some("v1.3.0".into()),
        share: Some(30),
    };
    let spec = Spec::parse(crate::EXAMPLE_SPEC, "switchyard.yaml").unwrap();
    let plan = serde_json::Value::Null;
    let input = InputRef {
        abi: ABI_VERSION,
        change: Some(&change),
        spec: &spec.spec,
        spec_source: None,
        before: vec![],
        after: vec![],
        config: BTreeMap::new(),
        plan: &plan,
    };
    let text = serde_json::to_string(&input).unwrap();
    assert!(
        text.starts_with(
            r#"{"abi":1,"change":{"command":"promote","app":"whoami","env":"dev","version":"v1.3.0","share":30},"spec":"#
        ),
        "{text}"
    );
}

/// How `parse` read the states before [`RawState`]: each as raw JSON, then again for its environment.
fn parse_reference(input: &[u8]) -> Result<Input, serde_json::Error> {
    #[derive(Deserialize)]
    struct Lazy<'a> {
        abi: u32,
        #[serde(default)]
        change: Option<ChangeInput>,
        spec: Spec,
        #[serde(default)]
        spec_source: Option<Source>,
        #[serde(default, borrow)]
        after: Vec<&'a RawValue>,
        #[serde(default, borrow)]
        config: BTreeMap<String, &'a RawValue>,
    }
    #[derive(Deserialize)]
    struct StateKey<'a> {
        #[serde(borrow)]
        app: Cow<'a, str>,
        #[serde(borrow)]
        env: Cow<'a, str>,
    }
    let lazy: Lazy<'_> = serde_json::from_slice(input)?;
    let wanted = |app: &str, env: &str| match &lazy.change {
        Some(c) => c.app == app && c.env == env,
        None => true,
    };
    let mut after = Vec::new();
    for raw in &lazy.after {
        let key: StateKey<'_> = serde_json::from_str(raw.get())?;
        if wanted(&key.app, &key.env) {
            after.push(serde_json::from_str::<EnvState>(raw.get())?);
        }
    }
    let mut config = BTreeMap::new();
    for (key, raw) in &lazy.config {
        let (app, env) = key.split_once('/').unwrap_or((key.as_str(), ""));
        if wanted(app, env) {
            config.insert(key.clone(), serde_json::from_str::<RenderedConfig>(raw.get())?);
        }
    }
    let (abi, change, spec, spec_source) = (lazy.abi, lazy.change, lazy.spec, lazy.spec_source);
    Ok(Input { abi, change, spec, spec_source, before: Vec::new(), after, config })
}

/// One state of `after` as text: its entries (key and value as JSON), shuffled, or another JSON value.
fn state_text() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    let key = |plain: &'static str, escaped: &'static str| prop_oneof![3 => Just(plain), 1 => Just(escaped)];
    let string = |values: &'static [&'static str]| proptest::sample::select(values);
    let app = prop_oneof![
        8 => string(&[r#""whoami""#, r#""other""#]),
        1 => string(&[r#""w\u0068oami""#, "1", "null", r#"{"app":"whoami"}"#]),
    ];
    let env = prop_oneof![
        8 => string(&[r#""dev""#, r#""prod""#]),
        1 => string(&[r#""d\u0065v""#, "2", r#"["dev"]"#]),
    ];
    let entry =
        |k: BoxedStrategy<&'static str>, v: BoxedStrategy<&'static str>| (k, v).prop_map(|(k, v)| format!("{k}:{v}"));
    // Mostly once, sometimes missing or twice.
    let times = || prop_oneof![8 => Just(1..2), 1 => Just(0..1), 1 => Just(2..3)];
    let apps = times().prop_flat_map(move |n| {
        proptest::collection::vec(entry(key(r#""app""#, r#""\u0061pp""#).boxed(), app.clone().boxed()), n)
    });
    let envs = times().prop_flat_map(move |n| {
        proptest::collection::vec(entry(key(r#""env""#, r#""\u0065nv""#).boxed(), env.clone().boxed()), n)
    });
    let required = proptest::collection::vec(
        prop_oneof![
            9 => Just(vec![r#""format":1"#.to_string(), r#""revision":3"#.to_string()]),
            1 => Just(vec![r#""revision":3"#.to_string()]),
            1 => Just(vec![r#""format":"one""#.to_string(), r#""revision":3"#.to_string()]),
        ],
        1,
    )
    .prop_map(|v| v.concat());
    let optional = proptest::sample::subsequence(
        vec![
            r#""deployments":[]"#.to_string(),
            r#""slots":{}"#.to_string(),
            r#""history":[]"#.to_string(),
            r#""live":null"#.to_string(),
        ],
        0..=4,
    );
    let rare = prop_oneof![
        12 => Just(vec![]),
        1 => Just(vec![r#""unknown":{"app":"x","env":"y"}"#.to_string()]),
        1 => Just(vec![r#""format" : 1"#.to_string()]),
        1 => Just(vec![r#""slots":{"blue":"v1"}"#.to_string()]),
    ];
    let others = (required, optional, rare).prop_map(|(r, o, x)| [r, o, x].concat());
    let object = (apps, envs, others)
        .prop_flat_map(|(a, e, o)| Just([a, e, o].concat()).prop_shuffle())
        .prop_map(|entries| format!("{{{}}}", entries.join(",")));
    let other = string(&[
        r#"["whoami","dev"]"#,
        r#"["whoami","prod"]"#,
        r#"["whoami"]"#,
        r#"["whoami","dev",1]"#,
        "[]",
        "5",
        r#""whoami/dev""#,
        "null",
    ]);
    prop_oneof![12 => object, 1 => other.prop_map(str::to_string)]
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]

    /// Reading each state once (its environment and its entries) finds what reading it twice found: the
    /// same input, or an error for the same inputs.
    #[test]
    fn states_are_read_as_before(
        states in proptest::collection::vec(state_text(), 0..4),
        change in proptest::sample::select(&["null", r#"{"command":"deploy","app":"whoami","env":"dev","version":"v1"}"#][..]),
    ) {
        let spec = Spec::parse(crate::EXAMPLE_SPEC, "switchyard.yaml").unwrap();
        let spec = serde_json::to_string(&spec.spec).unwrap();
        let text = format!(r#"{{"abi":1,"change":{change},"spec":{spec},"after":[{}],"config":{{}}}}"#, states.join(","));
        let (new, old) = (parse(text.as_bytes()), parse_reference(text.as_bytes()));
        match (&new, &old) {
            (Ok(new), Ok(old)) => proptest::prop_assert_eq!(format!("{new:?}"), format!("{old:?}")),
            (Err(_), Err(_)) => {}
            _ => proptest::prop_assert!(false, "{text}\nnew: {new:?}\nold: {old:?}"),
        }
    }
}

#[test]
fn a_rollout_step_tells_policies_the_share_it_moves_to() {
    use crate::rollout::{Progress, Rollout};
    use crate::state::EnvKey;
    use crate::transition::Change;
    let key = EnvKey::new("whoami", "dev");
    let mut state = EnvState::new("whoami", "dev");
    let rollout = Rollout { steps: vec![10, 50, 100], ..Rollout::default() };
    state.rollout =
        Some(Progress { version: "v2".into(), rollout, step: 0, since: crate::Timestamp(0), last: None, driver: None });
    let next = Change::NextStep { version: "v2".into(), passed: "ok".into(), driver: None };
    let seen = host::change_of(&next, &key, false, Some(&state));
    assert_eq!((seen.command.as_str(), seen.share), ("rollout-step", Some(50)));
    state.rollout.as_mut().unwrap().step = 2;
    // From 100% to the bake: no share moves.
    assert_eq!(host::change_of(&next, &key, false, Some(&state)).share, None);
    let start = Change::StartRollout { version: "v2".into(), rollout: Rollout::default(), driver: None };
    let seen = host::change_of(&start, &key, false, None);
    assert_eq!((seen.command.as_str(), seen.share), ("promote", Some(10)));
}
