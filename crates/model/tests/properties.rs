//! Property tests: random sequences of transitions on a spec of 2 apps x 2 environments, whose names are
//! chosen so that preview hosts can collide across apps (`v1-v1` of `shop` and `v1` of `v1-shop` both make
//! `v1-v1-shop...`) and with slot hosts (a version named `blue`). Errors are fine and skipped; after every
//! successful step, every environment's configuration must be sound.

mod common;

use std::collections::BTreeMap;

use proptest::prelude::*;
use switchyard_model::naming;
use switchyard_model::render;
use switchyard_model::state::HealthStatus;
use switchyard_model::{Change, Context, EnvKey, EnvState, Spec, Timestamp, ValidSpec, World, apply, invariants};

const SPEC: &str = r#"
traefik:
  cert_resolvers:
    letsencrypt: {acme: {}}
apps:
  shop:
    compose: compose.yaml
    routes:
      web: {port: 80}
      api: {port: 8080, host_prefix: api}
    environments:
      dev:
        domain: dev.example.test
        sticky: {cookie: shop_slot}
        retention: {keep_last: 2, older_than: 1d}
      prod:
        domain: example.test
        entry_points: [websecure]
        tls: {cert_resolver: letsencrypt}
        middlewares: [secure-headers@file]
  v1-shop:
    compose: compose.yaml
    routes:
      web: {port: 80}
      admin: {port: 9000, path_prefix: /admin}
    health: {path: /healthz, interval: 5s, timeout: 1s}
    environments:
      dev:
        domain: dev.example.test
        retention: {keep_last: 1}
      prod:
        domain: example.test
        hosts:
          preview: "{{ version }}.preview.{{ domain }}"
"#;

const VERSIONS: &[&str] = &["v2", "2.0.0-rc.1", "V3", "v1", "v1.0", "v1-0", "v1-v1", "blue", "green"];
const DAY: u64 = 86_400;

fn keys() -> Vec<EnvKey> {
    vec![
        EnvKey::new("shop", "dev"),
        EnvKey::new("shop", "prod"),
        EnvKey::new("v1-shop", "dev"),
        EnvKey::new("v1-shop", "prod"),
    ]
}

/// Mostly versions that deploy anywhere, so promotions and splits happen often; sometimes any of the pool.
fn version() -> impl Strategy<Value = String> {
    prop_oneof![3 => prop::sample::select(&VERSIONS[..3]), 1 => prop::sample::select(VERSIONS)].prop_map(String::from)
}

fn share() -> impl Strategy<Value = u8> {
    prop_oneof![1 => Just(0u8), 2 => Just(100), 1 => Just(101), 6 => 1u8..100, 1 => any::<u8>()]
}

fn health() -> impl Strategy<Value = HealthStatus> {
    prop_oneof![Just(HealthStatus::Healthy), Just(HealthStatus::Unhealthy), Just(HealthStatus::Unknown)]
}

fn request() -> impl Strategy<Value = Change> {
    prop_oneof![
        1 => Just(Change::Create),
        4 => version().prop_map(|version| Change::Deploy { version }),
        2 => (version(), health()).prop_map(|(version, status)| Change::ObserveHealth { version, status }),
        4 => (version(), share()).prop_map(|(version, share)| Change::Promote { version, share }),
        2 => share().prop_map(|share| Change::SetShare { share }),
        1 => Just(Change::Complete),
        2 => Just(Change::Rollback),
        1 => version().prop_map(|version| Change::Retire { version }),
        1 => Just(Change::Cleanup),
    ]
}

/// (which environment, what, how many seconds pass before it).
fn steps() -> impl Strategy<Value = Vec<(usize, Change, u64)>> {
    // Mostly one environment, so that sequences get far (deploy, promote, split); sometimes the others.
    let env = prop_oneof![5 => Just(0usize), 1 => Just(1), 2 => Just(2), 1 => Just(3)];
    prop::collection::vec((env, request(), prop_oneof![Just(0u64), 0..DAY, 0..3 * DAY]), 1..50)
}

fn host_of(rule: &str) -> &str {
    rule.strip_prefix("Host(`").and_then(|r| r.split_once('`')).map(|(h, _)| h).unwrap_or(rule)
}

/// Checks every environment of the world; returns the first problem found.
fn check_world(spec: &ValidSpec, world: &World, validator: &jsonschema::Validator) -> Result<(), String> {
    // preview host -> the version of the environment it belongs to.
    let mut owners: BTreeMap<String, String> = BTreeMap::new();
    // (host, router) of every production and slot router.
    let mut fixed: Vec<(String, String)> = Vec::new();
    for (key, state) in world {
        check_state(state).map_err(|e| format!("{key}: {e}"))?;
        let rendered = render::render_env(spec, state).map_err(|e| format!("{key}: render failed: {e}"))?;
        let config = &rendered.config;
        let problems = invariants::violations(config);
        if !problems.is_empty() {
            return Err(format!("{key}: invariants: {problems:?}"));
        }
        for (name, router) in config.routers() {
            if config.service(&router.service).is_none() {
                return Err(format!("{key}: router {name} points at the missing service {}", router.service));
            }
        }
        for (name, service) in config.services() {
            if let Some(w) = &service.weighted {
                if w.services.iter().any(|c| c.weight == 0) {
                    return Err(format!("{key}: {name} has a child of weight 0"));
                }
                let total: u32 = w.services.iter().map(|c| c.weight).sum();
                if total != 100 {
                    return Err(format!("{key}: the weights of {name} sum to {total}"));
                }
            }
        }
        // Production services exist exactly when something is live.
        let app = &spec.spec.apps[&key.app];
        for service in app.routes.keys() {
            let prod = naming::production(&key.app, &key.env, service);
            if config.service(&prod).is_some() != state.live.is_some() {
                return Err(format!(
                    "{key}: {prod} exists: {}, live: {:?}",
                    config.service(&prod).is_some(),
                    state.live
                ));
            }
        }
        let errors = common::schema_errors(validator, config);
        if !errors.is_empty() {
            return Err(format!("{key}: the SchemaStore schema refuses the configuration: {errors:?}"));
        }
        let yaml = render::to_yaml(config).map_err(|e| format!("{key}: {e}"))?;
        let reference =
            format!("{}{}", render::HEADER, serde_yaml::to_string(config).map_err(|e| format!("{key}: {e}"))?);
        if yaml != reference {
            return Err(format!("{key}: the YAML writer and serde_yaml differ:\n{yaml}\n---\n{reference}"));
        }
        if yaml.contains("{{") {
            return Err(format!("{key}: the YAML contains {{{{"));
        }
        let again = render::to_yaml(&render::render_env(spec, state).map_err(|e| e.to_string())?.config)
            .map_err(|e| e.to_string())?;
        if again != yaml {
            return Err(format!("{key}: rendering twice gave different bytes"));
        }
        // Hosts: a preview host belongs to one version of one environment, and to no production or slot router.
        for d in &state.deployments {
            for service in app.routes.keys() {
                let name = naming::preview(&key.app, &key.env, &d.slug, service);
                let router = config.routers().find(|(n, _)| **n == name).map(|(_, r)| r);
                let router = router.ok_or_else(|| format!("{key}: no preview router {name}"))?;
                let host = host_of(&router.rule).to_string();
                let owner = format!("{key} preview {}", d.slug);
                if let Some(other) = owners.insert(host.clone(), owner.clone())
                    && other != owner
                {
                    return Err(format!("{host} is used by {other} and {owner}"));
                }
            }
        }
        for (name, router) in config.routers() {
            if name.contains("_preview_") {
                continue;
            }
            fixed.push((host_of(&router.rule).to_string(), format!("the router {name} of {key}")));
        }
    }
    // Checked once every environment's previews are known.
    for (host, owner) in fixed {
        if let Some(other) = owners.get(&host) {
            return Err(format!("{host} is used by {other} and {owner}"));
        }
    }
    Ok(())
}

/// Facts of a state that every transition keeps.
fn check_state(s: &EnvState) -> Result<(), String> {
    for (slot, v) in &s.slots {
        if s.deployment(v).is_none() {
            return Err(format!("the {slot} slot holds {v}, which is not deployed"));
        }
    }
    if let Some(live) = s.live
        && !s.slots.contains_key(&live)
    {
        return Err(format!("the live slot {live} is empty"));
    }
    if let Some(split) = s.split {
        if s.live.is_none() || s.live == Some(split.slot) || !s.slots.contains_key(&split.slot) {
            return Err(format!("a bad split {split:?} with live {:?}", s.live));
        }
        if split.share == 0 || split.share >= 100 {
            return Err(format!("a split share of {}", split.share));
        }
    }
    let mut slugs: Vec<&str> = s.deployments.iter().map(|d| d.slug.as_str()).collect();
    slugs.sort_unstable();
    slugs.dedup();
    if slugs.len() != s.deployments.len() {
        return Err("two deployments share a slug".into());
    }
    Ok(())
}

fn start() -> (ValidSpec, World) {
    let spec = Spec::parse(SPEC, "switchyard.yaml").expect("the property spec is valid");
    let mut world = World::new();
    for key in keys() {
        let out = apply(&spec, &world, &key, &Change::Create, &Context::default()).expect("create");
        world.insert(key, out.state);
    }
    (spec, world)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_transitions_keep_every_config_sound(warm in any::<bool>(), steps in steps()) {
        let (spec, mut world) = start();
        if warm {
            // Half the sequences start from a live version and a second one deployed, so splits are common.
            for key in [&keys()[0], &keys()[3]] {
                for request in [
                    Change::Deploy { version: "v2".into() },
                    Change::Promote { version: "v2".into(), share: 100 },
                    Change::Deploy { version: "V3".into() },
                ] {
                    let out = apply(&spec, &world, key, &request, &Context::default()).expect("the warm-up is valid");
                    world.insert(key.clone(), out.state);
                }
            }
        }
        let validator = common::traefik_validator();
        let mut now = 1_780_000_000u64;
        for (i, (env, request, wait)) in steps.iter().enumerate() {
            now += wait;
            let key = &keys()[*env];
            let ctx = Context { now: Timestamp(now), actor: None };
            let Ok(out) = apply(&spec, &world, key, request, &ctx) else { continue };
            let old_revision = world[key].revision;
            prop_assert_eq!(out.state.revision, old_revision + u64::from(out.changed), "step {}", i);
            prop_assert_eq!(out.plan.is_empty(), !out.changed, "step {}: {}", i, out.plan);
            world.insert(key.clone(), out.state);
            if let Err(problem) = check_world(&spec, &world, &validator) {
                prop_assert!(false, "after step {} ({} on {}): {}", i, request.describe(), key, problem);
            }
        }
    }
}
