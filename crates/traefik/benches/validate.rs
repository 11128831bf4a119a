//! Loading and checking a large provider directory: 20,000 HTTP routers (Host rules, entry points, two
//! middlewares, TLS) and 20,000 load-balancer services (two servers and an active health check each), plus 2,000
//! weighted services in front of some of them. The target is well under 200 ms for all of it.
//!
//! - `load`: [`dynamic::load`] alone (parsing, structural checks, merge);
//! - `validate_files`: [`validate::validate_files`], the whole of `switchyard validate`: `load` and every semantic
//!   check (20,000 rules parsed and linted, every reference resolved, priorities compared, health checks...);
//! - `schemastore`: for comparison, the SchemaStore JSON Schema of Traefik v3's file provider validating the same
//!   configuration with the `jsonschema` crate (the YAML converted to a `serde_json::Value` beforehand, and the
//!   schema compiled beforehand, outside the measurement).
//!
//! Two shapes of the same configuration: one YAML file, and 40 files of 500 routers and services each (the merge
//! across files then runs for every name). The files are built once, outside the measured code; the measured code
//! includes dropping the result.
//!
//! Each is measured twice: in wall-clock time (criterion's default), and in CPU time of the benchmark thread (on
//! Linux, from `/proc/thread-self/schedstat`), which stays meaningful on a machine busy with other work.

use std::fmt::Write as _;
use std::hint::black_box;

use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use switchyard_traefik::{dynamic, validate};

const ROUTERS: usize = 20_000;

/// Routers and services `from..to` as one YAML document.
fn yaml(from: usize, to: usize, middlewares: bool) -> String {
    let mut s = String::with_capacity((to - from) * 420);
    s.push_str("http:\n  routers:\n");
    for i in from..to {
        let service = if i % 10 == 0 { format!("w{i}") } else { format!("svc{i}") };
        let _ = write!(
            s,
            "    r{i}:\n      rule: Host(`app{i}.example.com`) && PathPrefix(`/`)\n      entryPoints: [websecure]\n      \
             middlewares: [secure-headers, compress@file]\n      service: {service}\n      priority: 100\n      \
             tls:\n        certResolver: le\n"
        );
    }
    s.push_str("  services:\n");
    for i in from..to {
        let _ = write!(
            s,
            "    svc{i}:\n      loadBalancer:\n        servers:\n          - url: http://10.{}.{}.1:8080\n          \
             - url: http://10.{}.{}.2:8080\n        healthCheck:\n          path: /health\n          interval: 10s\n          \
             timeout: 3s\n        passHostHeader: true\n",
            i / 256 % 256,
            i % 256,
            i / 256 % 256,
            i % 256
        );
        if i % 10 == 0 {
            let _ = write!(
                s,
                "    w{i}:\n      weighted:\n        services:\n          - name: svc{i}\n            weight: 3\n          \
                 - name: svc{}\n            weight: 1\n        healthCheck: {{}}\n",
                i + 1
            );
        }
    }
    if middlewares {
        s.push_str(
            "  middlewares:\n    secure-headers:\n      headers:\n        stsSeconds: 31536000\n        \
             frameDeny: true\n        customResponseHeaders:\n          X-Powered-By: \"\"\n    compress:\n      \
             compress: {}\n",
        );
    }
    s
}

/// Files as `load` takes them: (name, contents).
type Files = Vec<(String, String)>;

fn inputs() -> (Files, Files) {
    let one = vec![("dynamic.yml".to_string(), yaml(0, ROUTERS, true))];
    let many: Files = (0..40).map(|f| (format!("part-{f:02}.yml"), yaml(f * 500, (f + 1) * 500, f == 0))).collect();
    // A sanity check outside the measurement: everything loads, nothing is reported.
    for files in [&one, &many] {
        let loaded = dynamic::load(files);
        assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics.first());
        let http = loaded.config.http.as_ref().expect("http");
        assert_eq!(http.routers.as_ref().map(|r| r.len()), Some(ROUTERS));
        assert_eq!(http.services.as_ref().map(|r| r.len()), Some(ROUTERS + ROUTERS / 10));
        let all = validate::validate_files(files);
        assert!(all.is_empty(), "{:?}", all.first());
    }
    (one, many)
}

/// The SchemaStore schema of Traefik v3's file provider, compiled, and the one-file configuration as JSON.
// Reading the reference schema is the harness's business; the model itself does no I/O.
#[allow(clippy::disallowed_methods)]
fn schemastore(one: &Files) -> (jsonschema::Validator, serde_json::Value) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/reference/traefik/schemastore/traefik-v3-file-provider.json"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let schema: serde_json::Value = serde_json::from_str(&text).expect("the schema is JSON");
    let validator = jsonschema::draft7::new(&schema).expect("the schema compiles");
    let value: serde_json::Value = serde_yaml::from_str(&one[0].1).expect("the generated YAML reads as JSON values");
    let errors = validator.iter_errors(&value).count();
    assert_eq!(errors, 0, "the generated configuration fails the SchemaStore schema");
    (validator, value)
}

fn run<M: Measurement>(c: &mut Criterion<M>, name: &str) {
    let (one, many) = inputs();
    let (schema, json) = schemastore(&one);
    let mut group = c.benchmark_group(name);
    group.sample_size(20);
    group.throughput(Throughput::Bytes(one[0].1.len() as u64));
    group.bench_function("load/one YAML file", |b| b.iter(|| dynamic::load(black_box(&one))));
    group.bench_function("load/40 YAML files", |b| b.iter(|| dynamic::load(black_box(&many))));
    group.bench_function("validate_files/one YAML file", |b| b.iter(|| validate::validate_files(black_box(&one))));
    group.bench_function("validate_files/40 YAML files", |b| b.iter(|| validate::validate_files(black_box(&many))));
    group.bench_function("schemastore/one document", |b| b.iter(|| schema.iter_errors(black_box(&json)).count()));
    group.finish();
}

fn wall(c: &mut Criterion) {
    run(c, "20k routers + 22k services (wall)");
}

fn cpu(c: &mut Criterion<ThreadCpu>) {
    run(c, "20k routers + 22k services (thread CPU)");
}

/// CPU time of the current thread, in nanoseconds.
struct ThreadCpu;

// Reading the clock of the benchmark thread is the harness's business; the model itself reads no clock.
#[allow(clippy::disallowed_methods)]
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

impl Measurement for ThreadCpu {
    type Intermediate = u64;
    type Value = u64;

    fn start(&self) -> u64 {
        thread_cpu_ns()
    }
    fn end(&self, start: u64) -> u64 {
        thread_cpu_ns().saturating_sub(start)
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, value: &u64) -> f64 {
        *value as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &Nanoseconds
    }
}

struct Nanoseconds;

impl ValueFormatter for Nanoseconds {
    fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
        let (factor, unit) = if typical < 1e3 {
            (1.0, "ns")
        } else if typical < 1e6 {
            (1e-3, "µs")
        } else if typical < 1e9 {
            (1e-6, "ms")
        } else {
            (1e-9, "s")
        };
        values.iter_mut().for_each(|v| *v *= factor);
        unit
    }

    fn scale_throughputs(&self, typical: f64, throughput: &Throughput, values: &mut [f64]) -> &'static str {
        match throughput {
            Throughput::Bytes(bytes) | Throughput::BytesDecimal(bytes) => {
                values.iter_mut().for_each(|v| *v = *bytes as f64 / (*v / 1e9) / 1e6);
                let _ = typical;
                "MB/s"
            }
            _ => {
                values.iter_mut().for_each(|v| *v = 1e9 / *v);
                "elem/s"
            }
        }
    }

    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}

criterion_group!(wall_clock, wall);
criterion_group! {
    name = thread_cpu;
    config = Criterion::default().with_measurement(ThreadCpu);
    targets = cpu
}
criterion_main!(wall_clock, thread_cpu);
