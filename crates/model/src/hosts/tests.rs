//! Tests of the host templates, with the straightforward version of the collision check kept as the oracle
//! the optimised one is compared with.

use super::*;

#[test]
fn simple_templates_render_like_minijinja() {
    let mut env = sandbox();
    let sources = [
        HostKind::Production.default_template(),
        HostKind::Slot.default_template(),
        HostKind::Preview.default_template(),
        "{{version}}.preview.{{  domain }}",
        "www.{{ domain }}",
        "{{ app }}-{{ env }}.{{ domain }}",
        "{{ env }}_{{ app }}.{{ domain }}",
        "x",
        "",
        "{{ slot }}.{{ app }}.{{ domain }}{{ app }}",
        "A-{{ app }}",
    ];
    let samples = [
        HostFor::Production,
        HostFor::Slot(Slot::Blue),
        HostFor::Slot(Slot::Green),
        HostFor::Preview("v1-2-0"),
        HostFor::Preview("v2-0-0-rc-1"),
    ];
    let mut simple = 0;
    for (i, source) in sources.iter().enumerate() {
        let name = format!("t{i}");
        env.add_template_owned(name.clone(), source.to_string()).unwrap();
        for what in samples {
            let kind = what.kind();
            let Some(parts) = simple_template(source, kind) else { continue };
            simple += 1;
            let (app, env_name, domain) = ("shop-1", "dev", "dev.example.com");
            let ctx = match what {
                HostFor::Production => context! { app, env => env_name, domain },
                HostFor::Slot(slot) => context! { app, env => env_name, domain, slot => slot.as_str() },
                HostFor::Preview(version) => context! { app, env => env_name, domain, version },
            };
            let reference = env.get_template(&name).unwrap().render(ctx).unwrap();
            assert_eq!(render_simple(&parts, app, env_name, domain, what), reference, "{source:?} {what:?}");
        }
    }
    assert!(simple >= 30, "{simple}");
}

#[test]
fn other_templates_run_in_minijinja() {
    for (source, kind) in [
        ("{{ app | lower }}.{{ domain }}", HostKind::Production),
        ("{{- app }}.{{ domain }}", HostKind::Production),
        ("{{ app -}}.{{ domain }}", HostKind::Production),
        ("{{ slot }}.{{ domain }}", HostKind::Production),
        ("{{ version }}.{{ domain }}", HostKind::Slot),
        ("{{ app }}.{{ domain }}\n", HostKind::Production),
        ("{{ app }} .{{ domain }}", HostKind::Production),
        ("{{ 'www' if env == 'prod' else env }}.{{ domain }}", HostKind::Production),
        ("{# c #}{{ app }}", HostKind::Production),
        ("{{ app }}}", HostKind::Production),
        ("{{ app", HostKind::Production),
        ("{{ app\t}}", HostKind::Production),
        ("{{ missing }}", HostKind::Production),
    ] {
        assert_eq!(simple_template(source, kind), None, "{source:?}");
    }
}

/// How `check_spec_hosts` found collisions before it sorted: a map from host and path to the first owner.
fn check_spec_hosts_reference(hosts: &Hosts, spec: &Spec) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut seen: BTreeMap<String, Owner<'_>> = BTreeMap::new();
    type EnvId<'a> = (&'a str, &'a str);
    let mut reported: BTreeSet<(EnvId<'_>, EnvId<'_>)> = BTreeSet::new();
    for (app_name, app) in &spec.apps {
        for env_name in app.environments.keys() {
            let env_id = (app_name.as_str(), env_name.as_str());
            for what in [HostFor::Production, HostFor::Slot(Slot::Blue), HostFor::Slot(Slot::Green)] {
                let Ok(base) = hosts.base_host(app_name, env_name, what) else { continue };
                for (service, route) in &app.routes {
                    let path_prefix = route.path_prefix.as_deref().filter(|p| *p != "/").unwrap_or("");
                    let mut key = route_host(&base, route);
                    let host_len = key.len();
                    key.push_str(path_prefix);
                    let here = Owner { env: env_id, what, service };
                    let other = match seen.get(&key) {
                        Some(other) => *other,
                        None => {
                            seen.insert(key, here);
                            continue;
                        }
                    };
                    if other.env == env_id && other.what == what {
                        continue;
                    }
                    if !reported.insert((env_id, other.env)) {
                        continue;
                    }
                    let hint = if other.env == env_id {
                        "change the host templates so that production and slot hosts differ"
                    } else {
                        "give the environments different domains or host templates"
                    };
                    let path = KeyPath::root().key("apps").key(app_name).key("environments").key(env_name);
                    let host = &key[..host_len];
                    out.push(
                        Diagnostic::error("SY0143", format!("{here} and {other} both answer on {host}"))
                            .at(path.as_str())
                            .hint(hint),
                    );
                }
            }
        }
    }
    out
}

/// A small spec whose hosts often collide: few domains, prefixes and templates for many environments.
fn colliding_spec() -> impl proptest::strategy::Strategy<Value = Spec> {
    use proptest::prelude::*;
    use proptest::sample::select;
    let route = (
        select(&[80u16, 8080][..]),
        select(&[None, Some("api"), Some("www.api")][..]),
        select(&[None, Some("/"), Some("/api"), Some("/v2")][..]),
    )
        .prop_map(|(port, host, path)| crate::spec::Route {
            port,
            host_prefix: host.map(str::to_string),
            path_prefix: path.map(str::to_string),
        });
    let templates = (
        select(&[None, Some("{{ domain }}"), Some("www.{{ domain }}"), Some("{{ env }}.{{ domain }}")][..]),
        select(&[None, Some("{{ slot }}.{{ domain }}"), Some("{{ slot }}.www.{{ domain }}")][..]),
    )
        .prop_map(|(production, slot)| crate::spec::HostTemplates {
            production: production.map(str::to_string),
            slot: slot.map(str::to_string),
            preview: None,
        });
    let environment = (select(&["a.test", "b.test", "blue-shop.a.test", "www.a.test"][..]), templates.clone())
        .prop_map(|(domain, hosts)| crate::spec::Environment {
            domain: domain.to_string(),
            entry_points: vec!["web".into()],
            tls: None,
            middlewares: Vec::new(),
            sticky: None,
            retention: Default::default(),
            hosts,
            rollout: None,
            routing: None,
        });
    let app = (
        proptest::collection::btree_map(select(&["web", "api", "admin"][..]).prop_map(str::to_string), route, 1..3),
        templates,
        proptest::collection::btree_map(
            select(&["dev", "prod", "www", "staging"][..]).prop_map(str::to_string),
            environment,
            1..4,
        ),
    )
        .prop_map(|(routes, hosts, environments)| crate::spec::App {
            compose: "compose.yaml".into(),
            routes,
            health: Default::default(),
            hosts,
            environments,
        });
    proptest::collection::btree_map(
        select(&["shop", "blue-shop", "www", "a", "b", "c"][..]).prop_map(str::to_string),
        app,
        2..5,
    )
    .prop_map(|apps| Spec { schema: None, traefik: Default::default(), apps })
}

proptest::proptest! {
    /// Each key's first equal key, with the real hash and with one that collides all the time.
    #[test]
    fn the_first_of_each_key_is_found(keys in proptest::collection::vec(proptest::sample::select(&["a", "b", "ab", "ba", "abc", ""][..]), 0..40)) {
        let expected: Vec<usize> = (0..keys.len()).map(|i| keys.iter().position(|k| *k == keys[i]).unwrap()).collect();
        proptest::prop_assert_eq!(&first_of_each(keys.len(), |i| keys[i], switchyard_lookup::fnv1a), &expected);
        proptest::prop_assert_eq!(&first_of_each(keys.len(), |i| keys[i], |b| (b.len() % 2) as u64), &expected);
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

    /// Sorting the hosts finds the collisions the map found, reported the same way in the same order.
    #[test]
    fn collisions_are_found_as_before(spec in colliding_spec()) {
        let mut out = Vec::new();
        let Some(hosts) = Hosts::compile(&spec, &mut out) else { return Ok(()) };
        let mut found = Vec::new();
        hosts.check_spec_hosts(&spec, &mut found);
        proptest::prop_assert_eq!(found, check_spec_hosts_reference(&hosts, &spec));
    }
}
