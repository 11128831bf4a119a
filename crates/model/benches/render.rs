//! Rendering a large installation: 1,000 apps x 3 environments, each environment with 5 deployed versions,
//! two of them in slots and a promotion at 10% under way.
//!
//! The headline group measures what the product does: for each of the 3,000 environments, render it
//! ([`render::render_env`]) and serialise it to its own YAML file ([`render::to_yaml`]); the target is under
//! 100 ms for all of them. The spec and the states are built once, outside the measured code. A second group
//! measures merging everything into a single document, which the product never writes but which is a useful
//! stress test of the serialiser.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use switchyard_fixtures::{ENVIRONMENTS, Layout, spec_source};
use switchyard_model::render;
use switchyard_model::traefik::RenderedConfig;
use switchyard_model::{EnvState, Spec, ValidSpec};

const APPS: usize = 1_000;

/// What the product does: one rendered environment, one file. Returns the total size so nothing is optimised
/// away.
fn render_files(spec: &ValidSpec, states: &[EnvState]) -> usize {
    let mut bytes = 0;
    for s in states {
        let rendered = render::render_env(spec, s).expect("renders");
        bytes += render::to_yaml(&rendered.config).expect("serialises").len();
    }
    bytes
}

fn render_all(spec: &ValidSpec, states: &[EnvState]) -> RenderedConfig {
    let mut merged = RenderedConfig::default();
    for s in states {
        merged.merge(render::render_env(spec, s).expect("renders").config);
    }
    merged
}

fn bench(c: &mut Criterion) {
    // Setup, not measured: the spec, every environment's state and the rendered configurations.
    let spec = Spec::parse(&spec_source(APPS, Layout::Flow), "big.yaml").expect("the generated spec is valid");
    let states: Vec<EnvState> = switchyard_fixtures::states(&spec);
    assert_eq!(states.len(), APPS * ENVIRONMENTS.len());
    let configs: Vec<RenderedConfig> =
        states.iter().map(|s| render::render_env(&spec, s).expect("renders").config).collect();
    for config in &configs {
        assert_eq!(config.routers().count(), 2 * (5 + 2 + 1));
    }

    let mut group = c.benchmark_group("per environment: 3,000 files");
    group.sample_size(30);
    group.bench_function("render_env + to_yaml", |b| b.iter(|| render_files(&spec, black_box(&states))));
    group.bench_function("render_env only", |b| {
        b.iter(|| {
            let mut routers = 0;
            for s in black_box(&states) {
                routers += render::render_env(&spec, s).expect("renders").config.routers().count();
            }
            routers
        })
    });
    group.bench_function("to_yaml only", |b| {
        b.iter(|| black_box(&configs).iter().map(|c| render::to_yaml(c).expect("serialises").len()).sum::<usize>())
    });
    group.bench_function("serde_yaml only (reference)", |b| {
        b.iter(|| {
            black_box(&configs).iter().map(|c| serde_yaml::to_string(c).expect("serialises").len()).sum::<usize>()
        })
    });
    group.finish();

    let merged = render_all(&spec, &states);
    assert_eq!(merged.routers().count(), APPS * ENVIRONMENTS.len() * 2 * (5 + 2 + 1));
    let mut group = c.benchmark_group("merged: one document");
    group.sample_size(10);
    group.bench_function("render, merge and serialise to YAML", |b| {
        b.iter(|| render::to_yaml(&render_all(&spec, black_box(&states))).expect("serialises"))
    });
    group.bench_function("serialise to YAML only", |b| b.iter(|| render::to_yaml(black_box(&merged))));
    group.bench_function("serialise to JSON only", |b| b.iter(|| render::to_json(black_box(&merged))));
    group.finish();

    // What the playground does on every keystroke: parse (and validate) a 50 apps x 3 environments spec.
    let source = spec_source(50, Layout::Flow);
    let mut group = c.benchmark_group("parse: 50 apps x 3 environments");
    group.bench_function("Spec::parse (read + validate)", |b| b.iter(|| Spec::parse(black_box(&source), "s.yaml")));
    group.bench_function("yaml::from_str (read only)", |b| {
        b.iter(|| switchyard_yaml::from_str::<switchyard_model::Spec>(black_box(&source), "s.yaml"))
    });
    group.bench_function("serde_yaml + serde_path_to_error (the reader before, reference)", |b| {
        b.iter(|| {
            let de = serde_yaml::Deserializer::from_str(black_box(&source));
            serde_path_to_error::deserialize::<_, switchyard_model::Spec>(de).map_err(|e| e.to_string())
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
