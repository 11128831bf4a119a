//! The dedicated YAML writer (`traefik_yaml`) against serde_yaml:
//! the same bytes for every configuration the fixtures render, for random configurations built from tricky
//! strings, and for the files `render::to_yaml` writes.

mod common;

use std::collections::BTreeMap;

use common::{Fixture, run};
use proptest::prelude::*;
use switchyard_model::traefik::{
    ActiveHealthCheck, Cookie, Empty, Http, LoadBalancer, RenderedConfig, Router, RouterTls, Server, Service, Sticky,
    Weighted, WeightedChild,
};
use switchyard_model::{render, traefik_yaml};

fn assert_same(config: &RenderedConfig, context: &str) {
    let reference = serde_yaml::to_string(config).expect("serde_yaml serialises");
    let fast = traefik_yaml::to_string(config);
    assert_eq!(fast, reference, "{context}");
    let body = if config.is_empty() { "{}\n".to_string() } else { reference };
    match render::to_yaml(config) {
        Ok(file) => assert_eq!(file, format!("{}{body}", render::HEADER), "{context}"),
        Err(_) => assert!(body.contains("{{"), "{context}"),
    }
}

#[test]
fn every_fixture_configuration_is_written_like_serde_yaml() {
    let mut checked = 0;
    insta::glob!("inputs/*.yaml", |path| {
        let name = path.file_name().and_then(|n| n.to_str()).expect("a UTF-8 file name");
        if name.starts_with("err_") {
            return;
        }
        let fixture = Fixture::load(path);
        for (i, config) in run(&fixture, name).configs.iter().enumerate() {
            assert_same(config, &format!("{name}, configuration {i}"));
            checked += 1;
        }
    });
    assert!(checked > 20, "only {checked} configurations");
}

#[test]
fn empty_shapes() {
    let empty_http = RenderedConfig { http: Some(Http::default()) };
    let mut services = BTreeMap::new();
    services.insert("none".to_string(), Service::default());
    services.insert(
        "bare".to_string(),
        Service {
            load_balancer: Some(LoadBalancer { servers: vec![], health_check: None }),
            weighted: Some(Weighted { services: vec![], sticky: None, health_check: Some(Empty {}) }),
        },
    );
    let mut routers = BTreeMap::new();
    routers.insert(
        "r".to_string(),
        Router {
            entry_points: vec![],
            rule: String::new(),
            priority: 0,
            service: "none".into(),
            middlewares: vec![],
            tls: Some(RouterTls { cert_resolver: None, options: None }),
        },
    );
    routers.insert(
        "s".to_string(),
        Router {
            entry_points: vec!["websecure".into()],
            rule: "Host(`s`)".into(),
            priority: 1,
            service: "none".into(),
            middlewares: vec![],
            tls: Some(RouterTls { cert_resolver: None, options: Some("modern@file".into()) }),
        },
    );
    let shapes = RenderedConfig { http: Some(Http { routers, services }) };
    for config in [RenderedConfig::default(), empty_http, shapes] {
        assert_same(&config, &format!("{config:?}"));
    }
}

/// Strings that serde_yaml quotes, or that look as if it might.
const TRICKY: &[&str] = &[
    "",
    " ",
    "a ",
    " a",
    "0",
    "10",
    "-1",
    "+1",
    "1.5",
    "1e5",
    "0x1F",
    "0o17",
    "0b101",
    "0123",
    "1_000",
    ".inf",
    "-.inf",
    ".nan",
    "inf",
    "nan",
    "Infinity",
    "NaN",
    "+inf",
    "-Infinity",
    "INF",
    "true",
    "False",
    "TRUE",
    "yes",
    "no",
    "on",
    "off",
    "y",
    "null",
    "Null",
    "~",
    "-",
    "-x",
    "---",
    "...",
    "?x",
    ":x",
    "a:",
    "a: b",
    "a:b",
    "#x",
    "a #b",
    "a#b",
    "'q'",
    "\"q\"",
    "&a",
    "*a",
    "!a",
    "%x",
    "@x",
    "`x",
    "|",
    ">",
    "[a]",
    "{a}",
    "a,b",
    "a\tb",
    "a\nb",
    "a\n",
    "é",
    "日本",
    "a\u{2028}  ",
    "\u{85}",
    "a\rb",
    "\u{feff}",
    "a\\b",
    "10s",
    "1m30s",
    "1.5s",
    "1d",
    "12:30",
    "2024-01-01",
    "/health",
    "/a:b",
    "http://x-y-1:80",
    "Host(`a.b`) && PathPrefix(`/p`)",
    "secure-headers@file",
    "lax",
    "a\n\n",
    "\n",
    "\na",
    " a\nb",
    "a\n b",
    "a \nb",
    "a\u{2028}b",
    "a\u{2029}",
    "a\u{2028}\nb",
    "a\n\u{2028}",
    "\u{2028}",
    "'\u{2028}'",
    "\u{0}\u{1b}\u{7f}",
    "\u{fffe}",
    "\u{1F600}",
];

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(TRICKY).prop_map(String::from),
        3 => "[a-z0-9][a-z0-9_-]{0,20}",
        2 => "[ -~]{0,12}",
        1 => "[0-9][0-9a-z.:_+-]{0,6}",
        1 => any::<String>(),
        1 => "[a \n\t\u{85}\u{2028}\u{2029}'\"é]{0,8}",
    ]
}

/// Map keys: mostly names, sometimes tricky, sometimes longer than a YAML simple key (128 bytes).
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => "[a-z0-9][a-z0-9_-]{0,30}",
        2 => text(),
        1 => "[a-z]{120,140}",
        1 => "[a-z \n\u{2028}]{1,8}",
        1 => "[a-z é\n]{120,140}",
    ]
}

fn router() -> impl Strategy<Value = Router> {
    (
        prop::collection::vec(text(), 0..3),
        text(),
        any::<u32>(),
        text(),
        prop::collection::vec(text(), 0..3),
        prop::option::of((prop::option::of(text()), prop::option::of(text()))),
    )
        .prop_map(|(entry_points, rule, priority, service, middlewares, tls)| Router {
            entry_points,
            rule,
            priority,
            service,
            middlewares,
            tls: tls.map(|(cert_resolver, options)| RouterTls { cert_resolver, options }),
        })
}

fn load_balancer() -> impl Strategy<Value = LoadBalancer> {
    (prop::collection::vec(text(), 0..3), prop::option::of((text(), text(), text()))).prop_map(|(urls, health)| {
        LoadBalancer {
            servers: urls.into_iter().map(|url| Server { url }).collect(),
            health_check: health.map(|(path, interval, timeout)| ActiveHealthCheck { path, interval, timeout }),
        }
    })
}

fn weighted() -> impl Strategy<Value = Weighted> {
    (
        prop::collection::vec((text(), any::<u32>()), 0..3),
        prop::option::of((text(), any::<bool>(), any::<bool>(), text())),
        any::<bool>(),
    )
        .prop_map(|(children, sticky, health)| Weighted {
            services: children.into_iter().map(|(name, weight)| WeightedChild { name, weight }).collect(),
            sticky: sticky.map(|(name, secure, http_only, same_site)| Sticky {
                cookie: Cookie { name, secure, http_only, same_site },
            }),
            health_check: health.then_some(Empty {}),
        })
}

fn service() -> impl Strategy<Value = Service> {
    (prop::option::of(load_balancer()), prop::option::of(weighted()))
        .prop_map(|(load_balancer, weighted)| Service { load_balancer, weighted })
}

fn config() -> impl Strategy<Value = RenderedConfig> {
    prop::option::of((
        prop::collection::btree_map(key(), router(), 0..4),
        prop::collection::btree_map(key(), service(), 0..4),
    ))
    .prop_map(|http| RenderedConfig { http: http.map(|(routers, services)| Http { routers, services }) })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_configurations_are_written_like_serde_yaml(config in config()) {
        let reference = serde_yaml::to_string(&config).expect("serde_yaml serialises");
        let fast = traefik_yaml::to_string(&config);
        prop_assert_eq!(fast, reference);
    }

    /// Configurations made only of names that need no quoting.
    #[test]
    fn plain_configurations_are_written_like_serde_yaml(
        names in prop::collection::vec("[a-z0-9][a-z0-9_-]{0,40}", 1..6),
        hosts in prop::collection::vec("[a-z0-9]{1,10}(\\.[a-z0-9-]{1,10}){0,3}", 1..6),
        weight in 1u32..100,
    ) {
        let mut http = Http::default();
        for (i, (name, host)) in names.iter().zip(hosts.iter().cycle()).enumerate() {
            http.routers.insert(name.clone(), Router {
                entry_points: vec!["websecure".into()],
                rule: format!("Host(`{host}`) && PathPrefix(`/p{i}`)"),
                priority: 10_000 + i as u32,
                service: name.clone(),
                middlewares: vec![format!("{name}@file")],
                tls: Some(RouterTls { cert_resolver: Some("le".into()), options: (i % 2 == 0).then(|| "modern@file".into()) }),
            });
            http.services.insert(name.clone(), Service {
                load_balancer: Some(LoadBalancer {
                    servers: vec![Server { url: format!("http://{name}-1:80") }],
                    health_check: Some(ActiveHealthCheck { path: "/health".into(), interval: "10s".into(), timeout: format!("{i}s") }),
                }),
                weighted: None,
            });
            http.services.insert(format!("{name}_w"), Service {
                load_balancer: None,
                weighted: Some(Weighted {
                    services: vec![WeightedChild { name: name.clone(), weight }],
                    sticky: Some(Sticky { cookie: Cookie { name: "slot".into(), secure: i % 2 == 0, http_only: true, same_site: "lax".into() } }),
                    health_check: Some(Empty {}),
                }),
            });
        }
        let config = RenderedConfig { http: Some(http) };
        let reference = serde_yaml::to_string(&config).expect("serde_yaml serialises");
        prop_assert_eq!(traefik_yaml::to_string(&config), reference);
    }
}
