//! Rendering a large installation: 1,000 apps x 3 environments, each environment with 5 deployed versions,
//! two of them in slots and a promotion at 10% under way. Measures rendering every environment, merging the
//! configurations and serialising the result to YAML (target: under 100 ms in total).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use switchyard_model::render::{self, naming};
use switchyard_model::state::{Deployment, Endpoint, Split};
use switchyard_model::traefik::DynamicConfig;
use switchyard_model::{EnvState, Slot, Spec, Timestamp, ValidSpec, names};

const APPS: usize = 1_000;
const ENVS: [(&str, &str); 3] =
    [("dev", "dev.example.com"), ("staging", "staging.example.com"), ("prod", "example.com")];
const VERSIONS: [&str; 5] = ["v1.0.0", "v1.1.0", "v1.2.0", "v1.3.0-rc.1", "v1.3.0"];

fn spec_source() -> String {
    let mut s = String::from("apps:\n");
    for i in 0..APPS {
        let _ = write!(
            s,
            "  app{i:04}:\n    compose: compose.yaml\n    routes:\n      web: {{port: 80}}\n      api: {{port: 8080, host_prefix: api}}\n    health: {{path: /health, interval: 10s, timeout: 3s}}\n    environments:\n"
        );
        for (env, domain) in ENVS {
            let _ = writeln!(
                s,
                "      {env}: {{domain: {domain}, entry_points: [websecure], tls: {{cert_resolver: le}}, sticky: {{cookie: slot}}}}"
            );
        }
    }
    s
}

fn state(spec: &ValidSpec, app: &str, env: &str) -> EnvState {
    let mut state = EnvState::new(app, env);
    for (i, version) in VERSIONS.iter().enumerate() {
        let slug = names::slug(version);
        let stack = naming::stack(app, env, &slug);
        let endpoints: BTreeMap<String, Endpoint> = spec.spec.apps[app]
            .routes
            .iter()
            .map(|(service, route)| {
                let url = format!("http://{}:{}", naming::container(&stack, service), route.port);
                (service.clone(), Endpoint { url })
            })
            .collect();
        state.deployments.push(Deployment {
            version: (*version).into(),
            slug,
            stack,
            deployed_at: Timestamp(1_780_000_000 + i as u64 * 3600),
            endpoints,
            health: Default::default(),
        });
    }
    state.slots.insert(Slot::Blue, VERSIONS[2].into());
    state.slots.insert(Slot::Green, VERSIONS[4].into());
    state.live = Some(Slot::Blue);
    state.split = Some(Split { slot: Slot::Green, share: 10 });
    state.revision = 12;
    state
}

fn render_all(spec: &ValidSpec, states: &[EnvState]) -> DynamicConfig {
    let mut merged = DynamicConfig::default();
    for s in states {
        merged.merge(render::render_env(spec, s).expect("renders").config);
    }
    merged
}

fn bench(c: &mut Criterion) {
    let spec = Spec::parse(&spec_source(), "big.yaml").expect("the generated spec is valid");
    let states: Vec<EnvState> = spec
        .spec
        .apps
        .iter()
        .flat_map(|(app, a)| a.environments.keys().map(|env| (app.clone(), env.clone())).collect::<Vec<_>>())
        .map(|(app, env)| state(&spec, &app, &env))
        .collect();
    assert_eq!(states.len(), APPS * ENVS.len());
    let merged = render_all(&spec, &states);
    let yaml = render::to_yaml(&merged).expect("serialises");
    assert!(merged.routers().count() == APPS * ENVS.len() * 2 * (5 + 2 + 1), "{}", merged.routers().count());

    let mut group = c.benchmark_group("1000 apps x 3 environments");
    group.sample_size(20);
    group.bench_function("render, merge and serialise to YAML", |b| {
        b.iter(|| render::to_yaml(&render_all(&spec, black_box(&states))).expect("serialises"))
    });
    group.bench_function("render and merge only", |b| b.iter(|| render_all(&spec, black_box(&states))));
    group.bench_function("serialise to YAML only", |b| b.iter(|| render::to_yaml(black_box(&merged))));
    group.bench_function("serialise to JSON only", |b| b.iter(|| render::to_json(black_box(&merged))));
    group.finish();
    black_box(yaml);
}

criterion_group!(benches, bench);
criterion_main!(benches);
