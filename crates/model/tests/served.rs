//! What Traefik serves beside what the state says ([`switchyard_model::served`]), on answers of the real Traefik
//! 3.7.15: every file in `tests/rawdata/` was captured from the real binary's `/api/rawdata` (how, in its
//! README); none was written by hand.

#![allow(clippy::unwrap_used)] // a panic in a test is a failing test

use switchyard_model::served::{Kind, Problem, RawData, ServerStatus, Status, compare};
use switchyard_model::state::HealthStatus;
use switchyard_model::{
    Change, Context, EXAMPLE_SPEC, EnvKey, EnvState, Slot, Spec, Timestamp, ValidSpec, World, apply,
};

fn spec() -> ValidSpec {
    Spec::parse(EXAMPLE_SPEC, "switchyard.yaml").unwrap()
}

fn raw(name: &str) -> RawData {
    let text = match name {
        "split" => include_str!("rawdata/split.json"),
        "split-servers-down" => include_str!("rawdata/split-servers-down.json"),
        "split-without-middleware" => include_str!("rawdata/split-without-middleware.json"),
        "split-with-hand-written-file" => include_str!("rawdata/split-with-hand-written-file.json"),
        "file-provider-failed" => include_str!("rawdata/file-provider-failed.json"),
        other => panic!("no fixture {other}"),
    };
    RawData::parse(text).unwrap()
}

/// The state of whoami/`env` after `requests`, as the CLI's local backend records it.
fn state(env: &str, requests: &[Change]) -> EnvState {
    let spec = spec();
    let key = EnvKey::new("whoami", env);
    let mut world = World::new();
    let ctx = Context { now: Timestamp::parse("2026-03-01T12:00:00Z").unwrap(), actor: None };
    for request in std::iter::once(&Change::Create).chain(requests) {
        let outcome = apply(&spec, &world, &key, request, &ctx).unwrap();
        world.insert(key.clone(), outcome.state);
    }
    world.remove(&key).unwrap()
}

fn healthy(v: &str) -> Change {
    Change::ObserveHealth { version: v.into(), status: HealthStatus::Healthy }
}

/// The fixtures' state: v1.2.0 live in blue, v1.3.0 promoted into green at 10 %.
fn split_requests() -> Vec<Change> {
    vec![
        Change::Deploy { version: "v1.2.0".into() },
        healthy("v1.2.0"),
        Change::Promote { version: "v1.2.0".into(), share: 100 },
        Change::Deploy { version: "v1.3.0".into() },
        healthy("v1.3.0"),
        Change::Promote { version: "v1.3.0".into(), share: 10 },
    ]
}

fn problems(served: &switchyard_model::served::Served) -> Vec<&Problem> {
    served.findings.iter().map(|f| &f.problem).collect()
}

#[test]
fn traefik_serving_the_split_agrees_with_the_state() {
    let served = compare(&spec(), &state("dev", &split_requests()), &raw("split"), None).unwrap();
    assert!(served.agrees(), "{:#?}", served.findings);
    assert_eq!(served.routers.len(), 10);
    assert_eq!(served.services.len(), 6);
    for entry in served.routers.iter().chain(&served.services) {
        assert!(entry.expected && entry.status == Some(Status::Enabled) && entry.errors.is_empty(), "{entry:?}");
    }
    type Row<'a> = (&'a str, Option<Slot>, u8, &'a str, &'a str, ServerStatus);
    let servers: Vec<Row> = served
        .servers
        .iter()
        .map(|s| (s.version.as_str(), s.slot, s.share, s.service.as_str(), s.url.as_str(), s.status))
        .collect();
    assert_eq!(
        servers,
        [
            ("v1.2.0", Some(Slot::Blue), 90, "api", "http://whoami-dev-v1-2-0-api-1:8080", ServerStatus::Up),
            ("v1.2.0", Some(Slot::Blue), 90, "web", "http://whoami-dev-v1-2-0-web-1:80", ServerStatus::Up),
            ("v1.3.0", Some(Slot::Green), 10, "api", "http://whoami-dev-v1-3-0-api-1:8080", ServerStatus::Up),
            ("v1.3.0", Some(Slot::Green), 10, "web", "http://whoami-dev-v1-3-0-web-1:80", ServerStatus::Up),
        ]
    );
}

#[test]
fn a_server_down_with_production_traffic_is_a_finding() {
    let served = compare(&spec(), &state("dev", &split_requests()), &raw("split-servers-down"), None).unwrap();
    assert!(served.servers.iter().all(|s| s.status == ServerStatus::Down));
    let down: Vec<(&str, u8, &str)> = problems(&served)
        .into_iter()
        .map(|p| match p {
            Problem::ServerDown { version, share, service, .. } => (version.as_str(), *share, service.as_str()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(down, [("v1.2.0", 90, "api"), ("v1.2.0", 90, "web"), ("v1.3.0", 10, "api"), ("v1.3.0", 10, "web")]);
    assert_eq!(served.findings[1].code, "SY0706");
    assert_eq!(
        served.findings[1].message,
        "server http://whoami-dev-v1-2-0-web-1:80 of v1.2.0 (blue, 90% of production, web): DOWN in Traefik's \
         health check"
    );
}

#[test]
fn a_server_down_without_production_traffic_is_shown_but_no_finding() {
    // v1.3.0 deployed as a preview only: the fixture's green slot routers are stale and the weights differ, but
    // v1.3.0's servers being DOWN is no finding, v1.2.0's (live, 100 %) is.
    let requests = &split_requests()[..5];
    let served = compare(&spec(), &state("dev", requests), &raw("split-servers-down"), None).unwrap();
    let v13: Vec<_> = served.servers.iter().filter(|s| s.version == "v1.3.0").collect();
    assert_eq!(v13.len(), 2);
    assert!(v13.iter().all(|s| s.status == ServerStatus::Down && s.share == 0 && s.slot.is_none()), "{v13:?}");
    let mut down = Vec::new();
    let mut stale = Vec::new();
    let mut differs = Vec::new();
    for p in problems(&served) {
        match p {
            Problem::ServerDown { version, share, .. } => down.push((version.clone(), *share)),
            Problem::Stale { of: Kind::Router, name, status: Status::Enabled, .. } => stale.push(name.clone()),
            Problem::Differs { of: Kind::Service, name, field, expected, served } => {
                differs.push((name.clone(), field.clone(), expected.clone(), served.clone()))
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(down, [("v1.2.0".to_string(), 100), ("v1.2.0".to_string(), 100)]);
    assert_eq!(stale, ["whoami_dev_slot_green_api", "whoami_dev_slot_green_web"]);
    assert_eq!(
        differs[1],
        (
            "whoami_dev_prod_web".to_string(),
            "weighted children".to_string(),
            "whoami_dev_ver_v1-2-0_web=100".to_string(),
            "whoami_dev_ver_v1-2-0_web=90, whoami_dev_ver_v1-3-0_web=10".to_string()
        )
    );
}

#[test]
fn routers_traefik_disabled_come_with_its_error_text() {
    let served = compare(&spec(), &state("dev", &split_requests()), &raw("split-without-middleware"), None).unwrap();
    let found = problems(&served);
    assert_eq!(found.len(), 10, "{found:#?}");
    for p in found {
        match p {
            Problem::Disabled { of: Kind::Router, errors, .. } => {
                assert_eq!(errors, &[r#"middleware "secure-headers@file" does not exist"#.to_string()])
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(served.findings[0].code, "SY0701");
    assert_eq!(
        served.findings[0].message,
        r#"router whoami_dev_preview_v1-2-0_api: DISABLED by Traefik (requests get 404): middleware "secure-headers@file" does not exist"#
    );
    assert!(served.routers.iter().all(|r| r.status == Some(Status::Disabled)));
    assert!(served.services.iter().all(|s| s.status == Some(Status::Enabled)));
}

#[test]
fn a_hand_written_file_with_the_environments_names_is_stale_with_traefiks_errors() {
    let served =
        compare(&spec(), &state("dev", &split_requests()), &raw("split-with-hand-written-file"), None).unwrap();
    let stale: Vec<String> = problems(&served)
        .into_iter()
        .map(|p| match p {
            Problem::Stale { of, name, status, errors } => format!("{of} {name} {status}: {}", errors.join("; ")),
            other => panic!("{other:?}"),
        })
        .collect();
    let missing_child = r#"building HTTP service "whoami_dev_ver_v0-9-0_api": the service "whoami_dev_ver_v0-9-0_api@file" does not exist"#;
    assert_eq!(
        stale,
        [
            r#"router whoami_dev_extra_web disabled: the service "whoami_dev_nowhere_web@file" does not exist"#
                .to_string(),
            format!("router whoami_dev_mixed_api disabled: {missing_child}"),
            r#"router whoami_dev_two_web warning: entryPoint "nope" doesn't exist"#.to_string(),
            format!("service whoami_dev_mixed_api disabled: {missing_child}"),
        ]
    );
    assert_eq!(served.findings[2].code, "SY0704");
    assert_eq!(
        served.findings[2].message,
        r#"router whoami_dev_two_web: STALE: Traefik has it (warning: entryPoint "nope" doesn't exist); the state does not expect it"#
    );
    assert!(served.routers.iter().filter(|r| r.expected).all(|r| r.status == Some(Status::Enabled)));
}

#[test]
fn a_failed_file_provider_leaves_everything_missing() {
    let log = "Cannot start the provider *file.Provider error=\"unable to read directory /x\"";
    let served = compare(&spec(), &state("dev", &split_requests()), &raw("file-provider-failed"), Some(log)).unwrap();
    let found = problems(&served);
    assert_eq!(found[0], &Problem::ProviderFailed { log: log.into() });
    assert_eq!(served.findings[0].code, "SY0707");
    let missing = found[1..].iter().filter(|p| matches!(p, Problem::Missing { .. })).count();
    assert_eq!((missing, found.len()), (16, 17));
    assert!(served.servers.iter().all(|s| s.status == ServerStatus::Unknown));
    assert!(served.routers.iter().all(|r| r.expected && r.status.is_none()));
}

#[test]
fn differences_name_the_field_and_both_values() {
    // The state moved to 50 % (and a router's rule is compared too): Traefik still has 90/10.
    let mut requests = split_requests();
    requests.push(Change::SetShare { share: 50 });
    let served = compare(&spec(), &state("dev", &requests), &raw("split"), None).unwrap();
    let messages: Vec<&str> = served.findings.iter().map(|f| f.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "service whoami_dev_prod_api: DIFFERS in weighted children: Traefik has whoami_dev_ver_v1-2-0_api=90, \
             whoami_dev_ver_v1-3-0_api=10; the state says whoami_dev_ver_v1-2-0_api=50, whoami_dev_ver_v1-3-0_api=50",
            "service whoami_dev_prod_web: DIFFERS in weighted children: Traefik has whoami_dev_ver_v1-2-0_web=90, \
             whoami_dev_ver_v1-3-0_web=10; the state says whoami_dev_ver_v1-2-0_web=50, whoami_dev_ver_v1-3-0_web=50",
        ]
    );
    assert!(served.findings.iter().all(|f| f.code == "SY0705"));
}

#[test]
fn references_with_and_without_the_file_provider_are_the_same() {
    // Traefik gives a router's middlewares qualified and its service as written; a file may write either. The
    // captured answer, with `@file` taken out of the middlewares and put into a router's service and a weighted
    // child (an edit here, to the same references): nothing differs.
    let text = include_str!("rawdata/split.json")
        .replace("secure-headers@file\"", "secure-headers\"")
        .replace("\"service\":\"whoami_dev_prod_web\"", "\"service\":\"whoami_dev_prod_web@file\"")
        .replace("{\"name\":\"whoami_dev_ver_v1-2-0_web\"", "{\"name\":\"whoami_dev_ver_v1-2-0_web@file\"");
    assert!(text.contains("whoami_dev_prod_web@file\"") && text.contains("whoami_dev_ver_v1-2-0_web@file\""));
    let unqualified = RawData::parse(&text).unwrap();
    let served = compare(&spec(), &state("dev", &split_requests()), &unqualified, None).unwrap();
    assert!(served.agrees(), "{:#?}", served.findings);
    // A middleware of another provider is another reference.
    let text = include_str!("rawdata/split.json").replace("secure-headers@file\"", "secure-headers@docker\"");
    let other = RawData::parse(&text).unwrap();
    let served = compare(&spec(), &state("dev", &split_requests()), &other, None).unwrap();
    assert_eq!(served.findings.len(), 10, "{:#?}", served.findings);
    assert!(
        served.findings[0]
            .message
            .ends_with("DIFFERS in middlewares: Traefik has secure-headers@docker; the state says secure-headers@file"),
        "{:#?}",
        served.findings
    );
}

#[test]
fn what_the_state_expects_and_traefik_lacks_is_missing() {
    let mut requests = split_requests();
    requests.push(Change::Deploy { version: "v1.4.0".into() });
    let served = compare(&spec(), &state("dev", &requests), &raw("split"), None).unwrap();
    let missing: Vec<String> = problems(&served)
        .into_iter()
        .map(|p| match p {
            Problem::Missing { of, name } => format!("{of} {name}"),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        missing,
        [
            "router whoami_dev_preview_v1-4-0_api",
            "router whoami_dev_preview_v1-4-0_web",
            "service whoami_dev_ver_v1-4-0_api",
            "service whoami_dev_ver_v1-4-0_web",
        ]
    );
    assert!(served.findings.iter().all(|f| f.code == "SY0703"));
    let v14: Vec<_> = served.servers.iter().filter(|s| s.version == "v1.4.0").map(|s| s.status).collect();
    assert_eq!(v14, [ServerStatus::Unknown, ServerStatus::Unknown]);
}

#[test]
fn another_environments_names_are_not_its_own() {
    // The fixtures hold whoami/dev only: for whoami/prod (created, nothing deployed) Traefik agrees.
    let served = compare(&spec(), &state("prod", &[]), &raw("split-with-hand-written-file"), None).unwrap();
    assert!(served.agrees() && served.routers.is_empty() && served.services.is_empty(), "{served:#?}");
}

#[test]
fn findings_serialise_with_their_code_message_and_fields() {
    let served = compare(&spec(), &state("dev", &split_requests()), &raw("split-without-middleware"), None).unwrap();
    let value = serde_json::to_value(&served.findings[0]).unwrap();
    assert_eq!(
        value,
        serde_json::json!({
            "code": "SY0701",
            "message": served.findings[0].message,
            "kind": "disabled",
            "of": "router",
            "name": "whoami_dev_preview_v1-2-0_api",
            "errors": ["middleware \"secure-headers@file\" does not exist"],
        })
    );
    let value = serde_json::to_value(&served.servers[0]).unwrap();
    assert_eq!(value["status"], "UP");
}

#[test]
fn rawdata_ignores_what_it_does_not_read_and_refuses_what_is_not_json() {
    let raw =
        RawData::parse(r#"{"routers":{"a@file":{"rule":"Host(`a`)","status":"enabled","new":1}},"x":[]}"#).unwrap();
    assert_eq!(raw.routers["a@file"].status, Status::Enabled);
    let raw = RawData::parse(r#"{"services":{"s@file":{"status":"someday","serverStatus":{"u":"MAYBE"}}}}"#).unwrap();
    assert_eq!(raw.services["s@file"].status, Status::Unknown);
    assert_eq!(raw.services["s@file"].server_status["u"], ServerStatus::Unknown);
    assert_eq!(RawData::parse("{}").unwrap(), RawData::default());
    let err = RawData::parse("404 page not found").unwrap_err();
    assert!(err.to_string().starts_with("Traefik's /api/rawdata answer could not be read: "), "{err}");
}
