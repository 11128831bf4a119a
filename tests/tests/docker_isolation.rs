//! Isolation between stacks on a real Docker engine. In a test binary of its own: cargo runs test binaries one
//! after another, so no other test creates or removes networks while this one measures (once, with other
//! tests churning networks beside it, a stack reached another's address: Docker rewrites its isolation rules
//! on every network change).

#![allow(clippy::unwrap_used)] // a panic in a test is a failing test

use switchyard_e2e::docker::{Site, docker};

#[test]
fn stacks_cannot_reach_each_other_but_traefik_reaches_both() {
    let site = Site::new("sye2e-iso");
    site.install();
    site.ok(&["deploy", "a"]);
    site.ok(&["deploy", "b"]);
    let (a, b) = (site.container("a"), site.container("b"));
    let ip_b = docker(&[
        "inspect",
        "-f",
        &format!("{{{{(index .NetworkSettings.Networks \"{}-dev-b\").IPAddress}}}}", site.name),
        &b,
    ]);
    assert!(!ip_b.is_empty());
    assert_eq!(site.get(&a, &format!("http://{b}/")), None, "a resolves b's name");
    assert_eq!(site.get(&a, &format!("http://{ip_b}/")), None, "a reaches b's address");
    assert_eq!(site.get(&site.proxy, &format!("http://{a}/")).as_deref(), Some("a"));
    assert_eq!(site.get(&site.proxy, &format!("http://{b}/")).as_deref(), Some("b"));
    // Through the real Traefik, from outside: each preview host is answered by its own stack only.
    for v in ["a", "b"] {
        site.wait_for_answer(&site.preview_host(v), v);
        assert_eq!(site.answers(&site.preview_host(v), 20).into_keys().collect::<Vec<_>>(), [v]);
    }
    // The only network the app containers are on is their own.
    let nets = docker(&["inspect", "-f", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}", &a]);
    assert_eq!(nets, format!("{}-dev-a", site.name));
}
