#![allow(clippy::unwrap_used)]
//! The Compose reader: every supported key shape, interpolation, every problem at once with its line,
//! dependency order and cycles, env files, determinism, and no panic on any input.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use switchyard_compose::{
    self as compose, ComposeProject, Condition, InterpolationError, MountKind, Options, PortBinding, Protocol,
    RestartPolicy,
};
use switchyard_diagnostics::Diagnostic;

const EXAMPLE: &str = include_str!("../../../examples/whoami/compose.yaml");
const STACK: &str = "whoami-dev-v1-2-0";

fn options(routed: &[&str]) -> Options {
    let variables = [
        ("SWITCHYARD_VERSION", "v1.2.0"),
        ("SWITCHYARD_STACK", STACK),
        ("SWITCHYARD_APP", "whoami"),
        ("SWITCHYARD_ENV", "dev"),
    ];
    Options {
        stack: STACK.into(),
        variables: variables.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        routed: routed.iter().map(|s| s.to_string()).collect(),
    }
}

fn load(source: &str) -> Result<ComposeProject, Vec<Diagnostic>> {
    compose::load(source, "compose.yaml", &options(&[]), &BTreeMap::new())
}

fn ok(source: &str) -> ComposeProject {
    load(source).unwrap_or_else(|d| panic!("{}", render(&d)))
}

fn errors(source: &str) -> Vec<Diagnostic> {
    match load(source) {
        Ok(p) => panic!("expected errors, got {p:#?}"),
        Err(d) => d.into_iter().filter(Diagnostic::is_error).collect(),
    }
}

fn render(diags: &[Diagnostic]) -> String {
    diags.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
}

fn codes(diags: &[Diagnostic]) -> Vec<&str> {
    diags.iter().map(|d| &*d.code).collect()
}

fn line(d: &Diagnostic) -> usize {
    d.location.as_ref().map_or(0, |l| l.line)
}

/// One service with `body` (indented under it).
fn svc(body: &str) -> String {
    let body: String = body.lines().map(|l| format!("    {l}\n")).collect();
    format!("services:\n  app:\n    image: busybox\n{body}")
}

#[test]
fn the_example_parses() {
    let p = compose::load(EXAMPLE, "compose.yaml", &options(&["web", "api"]), &BTreeMap::new())
        .unwrap_or_else(|d| panic!("{}", render(&d)));
    assert_eq!(p.stack, STACK);
    let names: Vec<&str> = p.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["api", "web"]);
    let web = p.service("web").unwrap();
    assert_eq!(web.container_name, "whoami-dev-v1-2-0-web-1");
    assert_eq!(web.image, "traefik/whoami:v1.10");
    assert_eq!(web.command.as_deref().unwrap(), ["--port", "80", "--name", "web-v1.2.0"]);
    let hc = web.healthcheck.as_ref().unwrap();
    assert_eq!(hc.test, ["CMD", "/whoami", "--help"]);
    assert_eq!(hc.interval.unwrap().to_string(), "5s");
    assert!(web.routed);
    assert!(p.volumes.is_empty());
    assert!(p.warnings.is_empty(), "{}", render(&p.warnings));
}

#[test]
fn the_example_without_its_variable_names_it() {
    let mut o = options(&[]);
    o.variables.remove("SWITCHYARD_VERSION");
    o.variables.insert("SWITCHYARD_VERSON".into(), "x".into());
    let d = compose::parse(EXAMPLE, "compose.yaml", &o).unwrap_err();
    assert_eq!(codes(&d), ["SY0510", "SY0510"]);
    assert_eq!(d[0].location.as_ref().unwrap().to_string(), "compose.yaml:5:41");
    assert!(d[0].message.contains("SWITCHYARD_VERSION"), "{}", d[0]);
    assert_eq!(d[0].path.as_deref(), Some("services.web.command[3]"));
    let hints = d[0].hints.join("\n");
    assert!(hints.contains("did you mean `SWITCHYARD_VERSON`?"), "{hints}");
    assert!(hints.contains("SWITCHYARD_APP, SWITCHYARD_ENV, SWITCHYARD_STACK, SWITCHYARD_VERSON"), "{hints}");
    assert_eq!(line(&d[1]), 11);
}

#[test]
fn command_and_entrypoint_shapes() {
    let p = ok(&svc("command: echo 'hello world' \"a \\\"b\\\"\" c\\ d\nentrypoint: [\"/bin/sh\", \"-c\"]"));
    let s = &p.services[0];
    assert_eq!(s.command.as_deref().unwrap(), ["echo", "hello world", "a \"b\"", "c d"]);
    assert_eq!(s.entrypoint.as_deref().unwrap(), ["/bin/sh", "-c"]);

    let p = ok(&svc("entrypoint: /docker-entrypoint.sh --flag\ncommand: [\"--port\", 80, true]"));
    let s = &p.services[0];
    assert_eq!(s.entrypoint.as_deref().unwrap(), ["/docker-entrypoint.sh", "--flag"]);
    assert_eq!(s.command.as_deref().unwrap(), ["--port", "80", "true"]);

    // Empty clears; absent keeps the image's.
    let p = ok(&svc("entrypoint: []\ncommand: \"\""));
    assert_eq!(p.services[0].entrypoint, Some(vec![]));
    assert_eq!(p.services[0].command, Some(vec![]));
    assert_eq!(ok(&svc("")).services[0].command, None);

    // Shell syntax in a string is passed literally, with a warning.
    let p = ok(&svc("command: echo a && echo b"));
    assert_eq!(p.services[0].command.as_deref().unwrap(), ["echo", "a", "&&", "echo", "b"]);
    assert_eq!(codes(&p.warnings), ["SY0531"]);
    assert!(p.warnings[0].hints[0].contains("[\"sh\", \"-c\", \"echo a && echo b\"]"));

    let e = errors(&svc("command: echo 'unclosed"));
    assert_eq!(codes(&e), ["SY0530"]);
    assert_eq!(line(&e[0]), 4);
    assert_eq!(codes(&errors(&svc("command: {a: b}"))), ["SY0504"]);
}

#[test]
fn environment_shapes() {
    let p = ok(&svc("environment:\n  - B=2\n  - A=x=y\n  - EMPTY=\n  - SWITCHYARD_APP\n  - MISSING"));
    assert_eq!(p.services[0].env, ["A=x=y", "B=2", "EMPTY=", "SWITCHYARD_APP=whoami"]);
    assert_eq!(codes(&p.warnings), ["SY0541"]);
    assert_eq!(line(&p.warnings[0]), 9);

    let p = ok(&svc("environment:\n  NUM: 3\n  BOOL: true\n  STR: \"v ${SWITCHYARD_ENV}\"\n  SWITCHYARD_ENV:"));
    assert_eq!(p.services[0].env, ["BOOL=true", "NUM=3", "STR=v dev", "SWITCHYARD_ENV=dev"]);

    let e = errors(&svc("environment:\n  - =x\n  - \"A B=1\"\nlabels: [a=b]"));
    assert_eq!(codes(&e), ["SY0540", "SY0540"]);
    assert_eq!(codes(&errors(&svc("environment: 3"))), ["SY0504"]);
}

#[test]
fn env_files_are_listed_then_read() {
    let source = svc(concat!(
        "env_file:\n",
        "  - ./common.env\n",
        "  - path: ./${SWITCHYARD_ENV}.env\n",
        "    required: false\n",
        "  - ./missing.env\n",
        "environment: [C=from-compose]",
    ));
    let parsed = compose::parse(&source, "compose.yaml", &options(&[])).unwrap();
    let files: Vec<(&str, bool, bool)> =
        parsed.env_files().iter().map(|f| (f.path.as_str(), f.relative, f.required)).collect();
    assert_eq!(files, [("./common.env", true, true), ("./dev.env", true, false), ("./missing.env", true, true)]);

    let mut contents = BTreeMap::new();
    contents.insert("./common.env".to_string(), include_str!("compose_inputs/common.env").to_string());
    // The optional file is absent; the required one is missing.
    let err = parsed.clone().finish(&contents).unwrap_err();
    assert_eq!(codes(&err), ["SY0544"]);
    assert_eq!(err[0].location.as_ref().unwrap().to_string(), "compose.yaml:8:9");

    contents.insert("./missing.env".to_string(), "H=last\r\nA=again\r\n".to_string());
    let p = parsed.finish(&contents).unwrap_or_else(|d| panic!("{}", render(&d)));
    assert_eq!(
        p.services[0].env,
        [
            "A=again",
            "B=single $NOT ${X}",
            "C=from-compose",
            "D=x\ny 1",
            "E=plain",
            "F=multi\nline",
            "G=1whoami",
            "H=last"
        ]
    );
}

#[test]
fn env_file_syntax_errors_name_the_file_and_line() {
    let vars: BTreeMap<String, String> = BTreeMap::new();
    let mut out = Vec::new();
    let entries = compose::parse_env_file("OK=1\nBAD KEY=2\nQ=\"open\nU=$MISSING\nBARE\n", "app.env", &vars, &mut out);
    assert_eq!(entries, [("OK".to_string(), "1".to_string())]);
    let got: Vec<(&str, String)> = out.iter().map(|d| (&*d.code, d.location.as_ref().unwrap().to_string())).collect();
    assert_eq!(got, [("SY0543", "app.env:2:1".to_string()), ("SY0543", "app.env:3:3".to_string())]);

    let mut out = Vec::new();
    compose::parse_env_file("U=$MISSING\nBARE\n", "app.env", &vars, &mut out);
    let got: Vec<(&str, String)> = out.iter().map(|d| (&*d.code, d.location.as_ref().unwrap().to_string())).collect();
    assert_eq!(got, [("SY0510", "app.env:1:3".to_string()), ("SY0541", "app.env:2:1".to_string())]);
}

#[test]
fn label_shapes_and_reserved_prefixes() {
    let p = ok(&svc("labels:\n  - com.example.a=1\n  - com.example.flag"));
    let labels: Vec<(&str, &str)> = p.services[0].labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(labels, [("com.example.a", "1"), ("com.example.flag", "")]);
    let p = ok(&svc("labels:\n  com.example.n: 5\n  com.example.s: \"${SWITCHYARD_STACK}\""));
    assert_eq!(p.services[0].labels["com.example.s"], STACK);
    assert_eq!(p.services[0].labels["com.example.n"], "5");

    let e = errors(&svc(
        "labels:\n  switchyard.app: evil\n  Switchyard.Slot: blue\n  com.docker.compose.project: other\n  \"\": x",
    ));
    assert_eq!(codes(&e), ["SY0550", "SY0550", "SY0550", "SY0551"]);
    assert!(e.iter().all(|d| line(d) > 4));
}

#[test]
fn port_shapes() {
    let b = |c: u16, p: Protocol, ip: Option<&str>, h: Option<u16>| PortBinding {
        container_port: c,
        protocol: p,
        host_ip: ip.map(String::from),
        host_port: h,
    };
    let p = ok(&svc(concat!(
        "ports:\n",
        "  - \"8080:80\"\n",
        "  - 127.0.0.1:8081:81/udp\n",
        "  - \"82\"\n",
        "  - 83\n",
        "  - \"[::1]:8084:84\"\n",
        "  - 127.0.0.1::85\n",
        "  - 9000-9001:90-91/tcp",
    )));
    assert_eq!(
        p.services[0].ports,
        [
            b(80, Protocol::Tcp, None, Some(8080)),
            b(81, Protocol::Udp, Some("127.0.0.1"), Some(8081)),
            b(82, Protocol::Tcp, None, None),
            b(83, Protocol::Tcp, None, None),
            b(84, Protocol::Tcp, Some("::1"), Some(8084)),
            b(85, Protocol::Tcp, Some("127.0.0.1"), None),
            b(90, Protocol::Tcp, None, Some(9000)),
            b(91, Protocol::Tcp, None, Some(9001)),
        ]
    );
    assert_eq!(p.services[0].ports[1].key(), "81/udp");
    // A fixed host port would clash between two versions deployed at once.
    assert_eq!(codes(&p.warnings), ["SY0561", "SY0561", "SY0561", "SY0561"]);

    let p = ok(&svc(concat!(
        "ports:\n",
        "  - target: 80\n",
        "    published: \"8080\"\n",
        "    host_ip: 127.0.0.1\n",
        "    protocol: udp\n",
        "    mode: host\n",
        "  - target: 81",
    )));
    assert_eq!(
        p.services[0].ports,
        [b(80, Protocol::Udp, Some("127.0.0.1"), Some(8080)), b(81, Protocol::Tcp, None, None)]
    );

    let e = errors(&svc(concat!(
        "ports:\n",
        "  - \"0\"\n",
        "  - \"70000:80\"\n",
        "  - \"1:2:3:4\"\n",
        "  - \"80/icmp\"\n",
        "  - \"x.y:80:80\"\n",
        "  - \"1-3:1-2\"\n",
        "  - target: 80\n",
        "    bogus: 1\n",
        "  - published: 80",
    )));
    assert_eq!(codes(&e), ["SY0560", "SY0560", "SY0560", "SY0560", "SY0560", "SY0560", "SY0503", "SY0560"]);
    let lines: Vec<usize> = e.iter().map(line).collect();
    assert_eq!(lines, [5, 6, 7, 8, 9, 10, 12, 13]);
}

#[test]
fn healthcheck_shapes() {
    let p = ok(&svc(concat!(
        "healthcheck:\n",
        "  test: [\"CMD-SHELL\", \"wget -q -O- localhost || exit 1\"]\n",
        "  interval: 1m30s\n",
        "  timeout: 500ms\n",
        "  retries: 3\n",
        "  start_period: 10s",
    )));
    let h = p.services[0].healthcheck.as_ref().unwrap();
    assert_eq!(h.test, ["CMD-SHELL", "wget -q -O- localhost || exit 1"]);
    assert_eq!(h.interval.unwrap().as_millis(), 90_000);
    assert_eq!(h.timeout.unwrap().as_millis(), 500);
    assert_eq!(h.start_period.unwrap().as_secs(), 10);
    assert_eq!(h.retries, Some(3));

    let p = ok(&svc("healthcheck:\n  test: curl -f http://localhost"));
    assert_eq!(p.services[0].healthcheck.as_ref().unwrap().test, ["CMD-SHELL", "curl -f http://localhost"]);
    let p = ok(&svc("healthcheck:\n  disable: true"));
    assert!(p.services[0].healthcheck.as_ref().unwrap().is_disabled());
    let p = ok(&svc("healthcheck:\n  interval: 2s"));
    assert!(p.services[0].healthcheck.as_ref().unwrap().test.is_empty(), "keeps the image's test");

    let e = errors(&svc(
        "healthcheck:\n  test: [\"RUN\", \"x\"]\n  interval: 30\n  timeout: 1.5s\n  retries: -1\n  start_interval: 1s",
    ));
    assert_eq!(codes(&e), ["SY0570", "SY0571", "SY0571", "SY0572", "SY0503"]);
    assert_eq!(e.iter().map(line).collect::<Vec<_>>(), [5, 6, 7, 8, 9]);
    assert!(e[1].hints[0].contains("30s"));
    assert_eq!(codes(&errors(&svc("healthcheck:\n  test: [CMD]"))), ["SY0570"]);
    assert!(ok(&svc("healthcheck:\n  test: [NONE]\n  disable: true\n  retries: 2")).services[0].healthcheck.is_some());
    assert_eq!(codes(&errors(&svc("healthcheck:\n  test: [CMD, x]\n  disable: true"))), ["SY0570"]);
}

#[test]
fn volume_shapes() {
    let source = include_str!("compose_inputs/volumes.yaml");
    let p = ok(source);
    let m: Vec<(MountKind, Option<&str>, bool, &str, bool)> = p.services[0]
        .mounts
        .iter()
        .map(|m| (m.kind, m.source.as_deref(), m.relative, m.target.as_str(), m.read_only))
        .collect();
    assert_eq!(
        m,
        [
            (MountKind::Volume, Some("whoami-dev-v1-2-0_data"), false, "/var/lib/data", false),
            (MountKind::Bind, Some("./conf"), true, "/etc/conf", true),
            (MountKind::Bind, Some("/srv/abs"), false, "/abs", false),
            (MountKind::Volume, None, false, "/anonymous", false),
            (MountKind::Bind, Some("../up"), true, "/up", false),
            (MountKind::Volume, Some("whoami-dev-v1-2-0_cache"), false, "/cache", true),
            (MountKind::Bind, Some("rel/dir"), true, "/rel", false),
            (MountKind::Tmpfs, None, false, "/tmp", false),
        ]
    );
    let vols: Vec<(&str, &str)> = p.volumes.iter().map(|v| (v.name.as_str(), v.docker_name.as_str())).collect();
    assert_eq!(vols, [("cache", "whoami-dev-v1-2-0_cache"), ("data", "whoami-dev-v1-2-0_data")]);

    let e = errors(include_str!("compose_inputs/err_volumes.yaml"));
    assert_eq!(
        codes(&e),
        ["SY0581", "SY0583", "SY0580", "SY0580", "SY0580", "SY0580", "SY0503", "SY0582", "SY0582"],
        "{}",
        render(&e)
    );
    assert_eq!(e.iter().map(line).collect::<Vec<_>>(), [5, 6, 7, 8, 9, 10, 15, 18, 19]);
    assert!(e[7].hints[0].contains("each version gets its own volumes"));

    let p = ok(&svc("volumes:\n  - /var/run/docker.sock:/var/run/docker.sock"));
    assert_eq!(codes(&p.warnings), ["SY0584"]);
}

#[test]
fn bind_sources_with_nul_are_refused() {
    let e = errors(&svc("volumes:\n  - \"./a\\0b:/x\""));
    assert_eq!(codes(&e), ["SY0583"]);
    let e = errors(&svc("volumes:\n  - type: bind\n    source: \"/a\\0\"\n    target: /x"));
    assert_eq!(codes(&e), ["SY0583"]);
}

#[test]
fn depends_on_shapes_and_start_order() {
    let source = include_str!("compose_inputs/depends_on.yaml");
    let p = ok(source);
    let order: Vec<&str> = p.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(order, ["cache", "db", "migrate", "api", "web", "zzz"]);
    let api = p.service("api").unwrap();
    let deps: Vec<(&str, Condition)> = api.depends_on.iter().map(|d| (d.service.as_str(), d.condition)).collect();
    assert_eq!(
        deps,
        [
            ("cache", Condition::ServiceStarted),
            ("db", Condition::ServiceHealthy),
            ("migrate", Condition::ServiceCompletedSuccessfully)
        ]
    );
    assert!(p.warnings.is_empty(), "{}", render(&p.warnings));

    // Waiting for health of a service with no health check in the file: a warning.
    let p = ok(concat!(
        "services:\n",
        "  a:\n",
        "    image: x\n",
        "    depends_on:\n",
        "      b:\n",
        "        condition: service_healthy\n",
        "  b:\n",
        "    image: x\n",
    ));
    assert_eq!(codes(&p.warnings), ["SY0526"]);

    let e = errors(concat!(
        "services:\n",
        "  a:\n",
        "    image: x\n",
        "    depends_on:\n",
        "      b:\n",
        "        condition: service_helthy\n",
        "        restart: true\n",
        "  b:\n",
        "    image: x\n",
        "    depends_on: [nope]\n",
    ));
    assert_eq!(codes(&e), ["SY0527", "SY0503", "SY0524"]);
    assert!(e[0].hints.iter().any(|h| h.contains("service_healthy")));
}

#[test]
fn cycles_are_reported_with_their_path() {
    let source = include_str!("compose_inputs/err_cycles.yaml");
    let e = errors(source);
    assert_eq!(codes(&e), ["SY0525", "SY0525"]);
    assert!(e[0].message.ends_with("a -> b -> c -> a"), "{}", e[0]);
    assert_eq!(e[0].path.as_deref(), Some("services.a.depends_on"));
    assert_eq!(line(&e[0]), 4);
    assert!(e[1].message.ends_with("e -> e"), "{}", e[1]);
}

#[test]
fn restart_user_and_working_dir() {
    for (text, policy, max) in [
        ("\"no\"", RestartPolicy::No, None),
        ("always", RestartPolicy::Always, None),
        ("on-failure", RestartPolicy::OnFailure, None),
        ("on-failure:5", RestartPolicy::OnFailure, Some(5)),
        ("unless-stopped", RestartPolicy::UnlessStopped, None),
    ] {
        let p = ok(&svc(&format!("restart: {text}")));
        let r = p.services[0].restart.unwrap();
        assert_eq!((r.policy, r.max_retries), (policy, max), "{text}");
    }
    let e = errors(&svc("restart: allways"));
    assert_eq!(codes(&e), ["SY0590"]);
    assert!(e[0].hints.iter().any(|h| h.contains("`always`")));
    assert_eq!(codes(&errors(&svc("restart: on-failure:x"))), ["SY0590"]);

    let p = ok(&svc("user: \"1000:1000\"\nworking_dir: /app"));
    assert_eq!(p.services[0].user.as_deref(), Some("1000:1000"));
    assert_eq!(p.services[0].working_dir.as_deref(), Some("/app"));
    assert_eq!(ok(&svc("user: 1000")).services[0].user.as_deref(), Some("1000"));
    assert_eq!(codes(&errors(&svc("user: \"a b\"\nworking_dir: app"))), ["SY0591", "SY0591"]);
}

#[test]
fn every_unsupported_key_at_once_with_its_line() {
    let source = "\
version: \"3.8\"
name: mine
services:
  web:
    image: nginx
    networks: [front]
    network_mode: host
    privileged: true
    cap_add: [NET_ADMIN]
    build: .
    deploy: {replicas: 2}
    extends: {service: base}
    container_name: web
    imgae: typo
    x-custom: ignored
  worker:
    build: ./worker
networks:
  front: {}
configs: {}
secrets: {}
include: [other.yaml]
x-anchors: &a {image: x}
";
    let d = load(source).unwrap_err();
    let got: Vec<(&str, String, usize)> =
        d.iter().map(|d| (&*d.code, d.path.clone().unwrap_or_default(), line(d))).collect();
    let want = [
        ("SY0506", "version", 1),
        ("SY0505", "name", 2),
        ("SY0502", "services.web.networks", 6),
        ("SY0502", "services.web.network_mode", 7),
        ("SY0502", "services.web.privileged", 8),
        ("SY0502", "services.web.cap_add", 9),
        ("SY0502", "services.web.build", 10),
        ("SY0502", "services.web.deploy", 11),
        ("SY0502", "services.web.extends", 12),
        ("SY0502", "services.web.container_name", 13),
        ("SY0502", "services.web.imgae", 14),
        ("SY0502", "services.worker.build", 17),
        ("SY0522", "services.worker", 16),
        ("SY0501", "networks", 18),
        ("SY0501", "configs", 20),
        ("SY0501", "secrets", 21),
        ("SY0501", "include", 22),
    ];
    let mut want: Vec<(&str, String, usize)> = want.iter().map(|(c, p, l)| (*c, p.to_string(), *l)).collect();
    want.sort_by_key(|w| w.2);
    assert_eq!(got, want, "{}", render(&d));
    assert!(d.iter().all(|d| d.location.as_ref().unwrap().file == "compose.yaml"));
    let hint = |path: &str| d.iter().find(|d| d.path.as_deref() == Some(path)).unwrap().hints.join(" ");
    assert!(hint("services.web.networks").contains("apps never join a shared network"));
    assert!(hint("services.web.network_mode").contains("its own network"));
    assert!(hint("services.web.container_name").contains("`whoami-dev-v1-2-0-web-1`"));
    assert!(hint("services.web.imgae").contains("did you mean `image`?"));
    assert!(hint("networks").contains("apps never join a shared network"));
    let text = d[2].to_string();
    assert!(text.contains("--> compose.yaml:6:5"), "{text}");
}

#[test]
fn routed_services_must_exist() {
    let d = compose::parse(EXAMPLE, "compose.yaml", &options(&["web", "wbe", "admin"])).unwrap_err();
    assert_eq!(codes(&d), ["SY0523", "SY0523"]);
    assert!(d.iter().all(|d| line(d) == 2));
    let by_name = |n: &str| d.iter().find(|d| d.message.contains(&format!("`{n}`"))).unwrap();
    assert!(by_name("wbe").hints[0].contains("did you mean `web`?"));
    assert!(by_name("admin").hints[0].contains("api, web"));
}

#[test]
fn service_names_and_images_are_checked() {
    let e = errors("services:\n  Web.1:\n    image: x\n  ok:\n    command: [a]\n  bad:\n    image: \"a b\"\n");
    assert_eq!(codes(&e), ["SY0521", "SY0522", "SY0522"]);
    assert_eq!(codes(&errors("services: {}\n")), ["SY0520"]);
    assert_eq!(codes(&errors("")), ["SY0520"]);
    assert_eq!(codes(&errors("- a\n")), ["SY0500"]);
    assert_eq!(codes(&errors("services: [\n")), ["SY0500"]);
    let mut o = options(&[]);
    o.stack = "Bad Stack".into();
    assert_eq!(codes(&compose::parse("services: {a: {image: x}}", "c.yaml", &o).unwrap_err()), ["SY0599"]);
}

#[test]
fn anchors_merge_keys_and_extensions() {
    let source = concat!(
        "x-common: &common\n",
        "  image: busybox\n",
        "  restart: always\n",
        "  environment: [A=1]\n",
        "services:\n",
        "  one:\n",
        "    <<: *common\n",
        "    environment: [B=2]\n",
        "  two:\n",
        "    <<: [*common]\n",
    );
    let p = ok(source);
    let one = p.service("one").unwrap();
    assert_eq!(one.image, "busybox");
    assert_eq!(one.env, ["B=2"]);
    assert_eq!(p.service("two").unwrap().restart.unwrap().policy, RestartPolicy::Always);
}

#[test]
fn interpolation_edge_cases() {
    let vars: BTreeMap<String, String> =
        [("SET", "v"), ("EMPTY", ""), ("N", "3")].iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let i = |s: &str| compose::interpolate(s, &vars);
    assert_eq!(i("plain").unwrap(), "plain");
    assert_eq!(i("$SET ${SET} $SET.x ${N}0").unwrap(), "v v v.x 30");
    assert_eq!(i("$$SET $$ $${SET}").unwrap(), "$SET $ ${SET}");
    assert_eq!(i("${UNSET:-d} ${EMPTY:-d} ${EMPTY-d} ${UNSET-d} ${SET:-d}").unwrap(), "d d  d v");
    assert_eq!(i("${UNSET:-${SET}-${N:-x}} ${UNSET:-${ALSO_UNSET:-deep}}").unwrap(), "v-3 deep");
    assert_eq!(i("${SET:+r} ${EMPTY:+r} ${EMPTY+r} ${UNSET+r}|").unwrap(), "r  r |");
    assert_eq!(i("${UNSET:-a}}").unwrap(), "a}");
    assert_eq!(i("${SET?never} ${EMPTY?fine}").unwrap(), "v ");
    assert_eq!(i("é$SET€").unwrap(), "év€");
    // An unused default may name unset variables.
    assert_eq!(i("${SET:-$UNSET}").unwrap(), "v");

    assert_eq!(i("$UNSET").unwrap_err(), [InterpolationError::Unset { name: "UNSET".into() }]);
    assert_eq!(
        i("${A} and ${B}").unwrap_err(),
        [InterpolationError::Unset { name: "A".into() }, InterpolationError::Unset { name: "B".into() }]
    );
    assert_eq!(
        i("${EMPTY:?must be set for $SET}").unwrap_err(),
        [InterpolationError::Required { name: "EMPTY".into(), message: "must be set for v".into() }]
    );
    assert_eq!(
        i("${UNSET?}").unwrap_err(),
        [InterpolationError::Required { name: "UNSET".into(), message: "".into() }]
    );
    for bad in ["$", "a $ b", "$1", "${", "${SET", "${}", "${1A}", "${SET:x}", "${SET SET}", "${A:-${B}"] {
        assert!(matches!(i(bad).unwrap_err()[0], InterpolationError::Syntax(_)), "{bad}");
    }
    let deep = format!("{}x{}", "${U:-".repeat(40), "}".repeat(40));
    assert!(i(&deep).is_err());
}

#[test]
fn interpolation_applies_to_values_not_keys() {
    let p = ok(&svc("labels:\n  \"$KEY\": \"${SWITCHYARD_APP}\"\nenvironment:\n  PRICE: \"$$5\""));
    assert_eq!(p.services[0].labels["$KEY"], "whoami");
    assert_eq!(p.services[0].env, ["PRICE=$5"]);
    // Values of unsupported keys are not interpolated: one error for the key, not one per variable.
    let e = errors(&svc("networks: [\"$NOPE\"]"));
    assert_eq!(codes(&e), ["SY0502"]);
    let e = errors(&svc("image: \"${REGISTRY:?set the registry}/app\"\ncommand: \"price $5\""));
    assert_eq!(codes(&e), ["SY0511", "SY0512"]);
    assert_eq!(e[0].message, "`REGISTRY` is required: set the registry");
}

#[test]
fn output_is_deterministic_and_independent_of_key_order() {
    let a = concat!(
        "services:\n",
        "  b:\n",
        "    image: x\n",
        "    environment: {Z: 1, A: 2}\n",
        "    depends_on: [a]\n",
        "  a:\n",
        "    image: y\n",
        "    labels: [com.x.z=1, com.x.a=2]\n",
    );
    let b = concat!(
        "services:\n",
        "  a:\n",
        "    labels: [com.x.a=2, com.x.z=1]\n",
        "    image: y\n",
        "  b:\n",
        "    depends_on: [a]\n",
        "    environment: {A: 2, Z: 1}\n",
        "    image: x\n",
    );
    let ja = serde_json::to_string(&ok(a)).unwrap();
    assert_eq!(ja, serde_json::to_string(&ok(a)).unwrap());
    assert_eq!(ja, serde_json::to_string(&ok(b)).unwrap());
    let e1 = render(&load("services:\n  z:\n    build: .\n  a:\n    build: .\n").unwrap_err());
    let e2 = render(&load("services:\n  z:\n    build: .\n  a:\n    build: .\n").unwrap_err());
    assert_eq!(e1, e2);
    // Serialisable for the plan, as YAML without tags too.
    let yaml = serde_yaml::to_string(&ok(EXAMPLE)).unwrap();
    assert!(!yaml.contains('!'), "{yaml}");
}

fn mutate(source: &str, cut: usize, insert: &str) -> String {
    let mut cut = cut % (source.len() + 1);
    while !source.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{insert}{}", &source[..cut], &source[cut..])
}

fn run_everything(source: &str) {
    let o = options(&["web", "api"]);
    if let Ok(parsed) = compose::parse(source, "c.yaml", &o) {
        let contents: BTreeMap<String, String> =
            parsed.env_files().iter().map(|f| (f.path.clone(), source.to_string())).collect();
        let _ = parsed.finish(&contents);
    }
    let mut out = Vec::new();
    compose::parse_env_file(source, "e.env", &o.variables, &mut out);
    let _ = compose::interpolate(source, &o.variables);
    let _ = compose::split_words(source);
    let _ = compose::parse_port_short(source);
}

const FRAGMENTS: &[&str] = &[
    "\n",
    " ",
    ":",
    "- ",
    "${",
    "}",
    "$",
    "'",
    "\"",
    "\\",
    "[",
    "]",
    "{",
    "}",
    "&a",
    "*a",
    "<<: ",
    "\t",
    "#",
    "ports: [\"1-65535:1-65535\"]",
    "depends_on: [web]",
    "volumes: [x:/y]",
    "env_file: [a]",
    "\0",
    "é",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_strings_never_panic(source in "\\PC*") {
        run_everything(&source);
    }

    #[test]
    fn mutated_examples_never_panic(
        edits in proptest::collection::vec((any::<usize>(), proptest::sample::select(FRAGMENTS)), 1..6)
    ) {
        let mut source = EXAMPLE.to_string();
        for (at, fragment) in edits {
            source = mutate(&source, at, fragment);
        }
        run_everything(&source);
    }

    #[test]
    fn routed_sets_and_orders_are_stable(routed in proptest::collection::btree_set("[a-z]{1,4}", 0..4)) {
        let o = Options { routed: routed.clone(), ..options(&[]) };
        let json = || {
            compose::load(EXAMPLE, "c.yaml", &o, &BTreeMap::new()).map(|p| serde_json::to_string(&p).unwrap())
        };
        let (a, b) = (json(), json());
        prop_assert_eq!(a.is_ok(), routed.is_subset(&BTreeSet::from(["api".to_string(), "web".to_string()])));
        prop_assert_eq!(a.map_err(|d| render(&d)), b.map_err(|d| render(&d)));
    }
}
