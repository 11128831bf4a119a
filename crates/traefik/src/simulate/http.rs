//! "Who answers?" for any Traefik v3 dynamic configuration: which router wins a request (Traefik's priority:
//! the explicit one, else the rule's length in bytes; equal priorities are decided by provider order, which
//! is reported as a tie, not guessed), which service it sends to, and the service tree below it for
//! [`super::Simulation`]. A request is made from its parts by [`HttpRequest::from_parts`]; an answer reads
//! as text through [`Route::text`], as `switchyard route` prints it and the playground shows it.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

pub use super::request::{Part, PartError, RequestParts};
use super::{Child, Node, Server};
use crate::dynamic::model::{DynamicConfig, Service};
use crate::rules;

/// A request as the simulator sees it ([`HttpRequest::from_parts`] makes one from what a person writes).
#[derive(Debug, Clone, Default)]
pub struct HttpRequest {
    /// The entry point it arrives on; None: any.
    pub entry_point: Option<String>,
    /// Arrived over TLS: only routers with `tls` handle it (and only routers without `tls` handle plain HTTP).
    pub tls: bool,
    pub request: rules::Request,
    /// Cookies (name -> value), for sticky sessions.
    pub cookies: BTreeMap<String, String>,
}

/// A router that matches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Candidate {
    pub router: String,
    pub priority: i64,
    /// The priority was set; else it is the rule's length.
    pub explicit: bool,
    pub service: String,
    /// References to definitions of other providers, which these files cannot show (`auth@docker`): the
    /// router answers only if they exist.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub assumes: Vec<String>,
}

/// A router whose rule matches but which Traefik disables, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Disabled {
    pub router: String,
    pub reason: String,
}

/// What happens to one request.
#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    /// Every router whose rule matches, the winner first.
    pub candidates: Vec<Candidate>,
    /// Routers with the winner's priority besides it: Traefik picks among them by provider order.
    pub tied: Vec<String>,
    /// Routers skipped because their rule does not parse (Traefik disables them).
    pub broken: Vec<String>,
    /// Routers whose rule matches but which Traefik disables (a middleware defined nowhere).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub disabled: Vec<Disabled>,
    /// The service chain the request walks, the answering load balancer last, and the server.
    pub chain: Vec<String>,
    pub server: Option<String>,
    /// 200 (a server answers), 400 (a path Go refuses), 404 (no router, or a missing service), 502, 503.
    pub status: u16,
    /// Things the simulator could not follow exactly.
    pub notes: Vec<String>,
}

/// Strips `@file`; a name for another provider stays as written (it resolves to nothing here).
fn local(name: &str) -> &str {
    name.strip_suffix("@file").unwrap_or(name)
}

/// The routers that handle `req`, best first; the routers skipped because their rule does not parse; those
/// whose rule matches but which Traefik disables.
pub fn candidates(config: &DynamicConfig, req: &HttpRequest) -> (Vec<Candidate>, Vec<String>, Vec<Disabled>) {
    let mut found = Vec::new();
    let mut broken = Vec::new();
    let mut disabled = Vec::new();
    let mut unread = Vec::new();
    let middlewares = config.http.as_ref().and_then(|h| h.middlewares.as_ref());
    let routers = config.http.as_ref().and_then(|h| h.routers.as_ref());
    for (name, router) in routers.into_iter().flatten() {
        if let (Some(ep), Some(eps)) = (&req.entry_point, &router.entry_points)
            && !eps.iter().any(|e| e == ep)
        {
            continue;
        }
        if router.tls.is_some() != req.tls {
            continue;
        }
        let Some(rule) = router.rule.as_deref() else { continue };
        let parsed = match rules::parse(rule) {
            Ok(parsed) => parsed,
            // Nested deeper than the parser reads: Traefik serves it, the simulator cannot tell whether it
            // matches; said in the answer, never claimed disabled.
            Err(e) if e.traefik_accepts() => {
                unread.push(name.clone());
                continue;
            }
            Err(_) => {
                broken.push(name.clone());
                continue;
            }
        };
        if !parsed.matches(&req.request) {
            continue;
        }
        // A middleware of these files' provider that they do not define: Traefik disables the router (seen
        // running). One of another provider may exist there: assumed, and said.
        let mut assumes = Vec::new();
        let mut missing = None;
        for reference in router.middlewares.iter().flatten() {
            match reference.split_once('@') {
                None | Some((_, "file")) => {
                    let local = reference.split_once('@').map_or(reference.as_str(), |(n, _)| n);
                    if !middlewares.is_some_and(|m| m.contains_key(local)) {
                        missing.get_or_insert_with(|| reference.clone());
                    }
                }
                Some((_, provider)) => assumes.push(format!(
                    "router {name} assumes middleware `{reference}` exists in provider {provider}: if it does not, \
                     Traefik disables the router"
                )),
            }
        }
        if let Some(reference) = missing {
            disabled.push(Disabled {
                router: name.clone(),
                reason: format!("its middleware `{reference}` is defined in none of these files"),
            });
            continue;
        }
        let explicit = router.priority.is_some_and(|p| p != 0);
        let priority = router.priority.filter(|p| *p != 0).unwrap_or_else(|| rules::default_priority(rule));
        let service = router.service.clone().unwrap_or_default();
        found.push(Candidate { router: name.clone(), priority, explicit, service, assumes });
    }
    // A router the simulator cannot read may win in Traefik: every candidate then carries the caveat.
    if !unread.is_empty() {
        let note = format!(
            "router(s) {} nest their rule deeper than switchyard reads: Traefik serves them, and one may answer \
             instead",
            unread.join(", ")
        );
        for candidate in &mut found {
            candidate.assumes.push(note.clone());
        }
    }
    // Highest priority first; among equals, name order (Traefik: provider order, reported as a tie).
    found.sort_by(|a, b| b.priority.cmp(&a.priority).then_with(|| a.router.cmp(&b.router)));
    (found, broken, disabled)
}

/// The service tree below `service`, with `down` naming servers (by URL) or services that do not answer.
pub fn tree(config: &DynamicConfig, service: &str, down: &BTreeSet<String>) -> (Node, Vec<String>) {
    let mut notes = Vec::new();
    let node = build(config, local(service), down, &mut notes, 0);
    (node, notes)
}

fn services(config: &DynamicConfig) -> Option<&BTreeMap<String, Service>> {
    config.http.as_ref().and_then(|h| h.services.as_ref())
}

fn build(config: &DynamicConfig, name: &str, down: &BTreeSet<String>, notes: &mut Vec<String>, depth: usize) -> Node {
    let missing = || Node::Missing { service: name.to_string() };
    if depth > 32 {
        notes.push(format!("{name}: services nest deeper than 32 levels (a cycle?); Traefik refuses such a tree"));
        return missing();
    }
    if name.contains('@') {
        notes.push(format!("{name}: defined by another provider; not known here"));
        return missing();
    }
    let Some(service) = services(config).and_then(|s| s.get(name)) else { return missing() };
    let children = |list: &[crate::dynamic::model::WeightedService], notes: &mut Vec<String>| -> Vec<Child> {
        list.iter()
            .map(|c| Child {
                weight: c.weight.unwrap_or(1),
                node: build(config, local(c.name.as_deref().unwrap_or_default()), down, notes, depth + 1),
            })
            .collect()
    };
    if let Some(lb) = &service.load_balancer {
        let servers: Vec<Server> = lb
            .servers
            .iter()
            .flatten()
            .map(|s| {
                let url = s.url.clone().unwrap_or_default();
                Server { up: !down.contains(&url) && !down.contains(name), weight: s.weight.unwrap_or(1), url }
            })
            .collect();
        if lb.health_check.is_some() {
            for server in servers.iter().filter(|s: &&Server| !s.up) {
                notes.push(format!(
                    "{name}: {} is skipped once its health check fails; Traefik starts every server as up after a \
                     reload and probes one `interval` later, so until then its requests get 502",
                    server.url
                ));
            }
        }
        if lb.strategy.as_deref().is_some_and(|s| s != "wrr") {
            notes.push(format!(
                "{name}: strategy {} is simulated as weighted round robin",
                lb.strategy.as_deref().unwrap_or_default()
            ));
        }
        return Node::Servers { service: name.to_string(), servers, health_check: lb.health_check.is_some() };
    }
    if let Some(w) = &service.weighted {
        return Node::Weighted {
            service: name.to_string(),
            children: children(w.services.as_deref().unwrap_or_default(), notes),
            health_check: w.health_check.is_some(),
        };
    }
    if let Some(h) = &service.highest_random_weight {
        notes.push(format!(
            "{name}: highestRandomWeight picks by a hash of the client; simulated as weighted round robin (counts only)"
        ));
        return Node::Weighted {
            service: name.to_string(),
            children: children(h.services.as_deref().unwrap_or_default(), notes),
            health_check: h.health_check.is_some(),
        };
    }
    if let Some(m) = &service.mirroring {
        if m.mirrors.as_ref().is_some_and(|v| !v.is_empty()) {
            notes.push(format!("{name}: mirrors get copies of requests; the answer comes from its main service"));
        }
        return build(config, local(m.service.as_deref().unwrap_or_default()), down, notes, depth + 1);
    }
    if let Some(f) = &service.failover {
        return Node::Failover {
            service: name.to_string(),
            main: Box::new(build(config, local(f.service.as_deref().unwrap_or_default()), down, notes, depth + 1)),
            fallback: Box::new(build(config, local(f.fallback.as_deref().unwrap_or_default()), down, notes, depth + 1)),
        };
    }
    missing()
}

/// Who answers one request: the winning router, its service chain and server. A sticky cookie naming a
/// child of a weighted service (its value is the child service's name) sends the request to that child.
pub fn answer(config: &DynamicConfig, req: &HttpRequest, down: &BTreeSet<String>) -> Answer {
    // Go and Traefik's entry points decode, normalise and clean the path before any router sees it.
    let Some(routed_path) = super::request::routing_path(&req.request.path) else {
        return Answer {
            candidates: Vec::new(),
            broken: Vec::new(),
            disabled: Vec::new(),
            tied: Vec::new(),
            chain: Vec::new(),
            server: None,
            status: 400,
            notes: vec![
                "the path holds a `%` that is not followed by two hex digits: Go's HTTP server answers \
                         400 Bad Request before Traefik routes it"
                    .to_string(),
            ],
        };
    };
    if routed_path == req.request.path {
        return answer_as_routed(config, req, down);
    }
    let mut routed = req.clone();
    routed.request.path = routed_path.clone();
    let mut answer = answer_as_routed(config, &routed, down);
    answer.notes.insert(0, format!("Traefik routes the path as `{routed_path}`"));
    answer
}

/// [`answer`] for a request whose path is already as Traefik routes it.
fn answer_as_routed(config: &DynamicConfig, req: &HttpRequest, down: &BTreeSet<String>) -> Answer {
    let (candidates, broken, disabled) = candidates(config, req);
    let mut answer = Answer {
        candidates,
        tied: Vec::new(),
        broken,
        disabled,
        chain: Vec::new(),
        server: None,
        status: 404,
        notes: Vec::new(),
    };
    let Some(winner) = answer.candidates.first().cloned() else {
        // The usual slip: asking over plain HTTP for routers that only serve TLS, or the other way round.
        let flipped = HttpRequest { tls: !req.tls, ..req.clone() };
        if let Some(first) = self::candidates(config, &flipped).0.first() {
            let how = if req.tls { "over plain HTTP (without TLS)" } else { "over TLS" };
            answer.notes.push(format!("router {} would match {how}", first.router));
        }
        return answer;
    };
    answer.tied =
        answer.candidates.iter().skip(1).filter(|c| c.priority == winner.priority).map(|c| c.router.clone()).collect();
    let (mut node, notes) = tree(config, &winner.service, down);
    answer.notes = winner.assumes.iter().cloned().chain(notes).collect();
    // Walk the tree for one request, honouring sticky cookies on the way.
    let mut depth = 0;
    loop {
        depth += 1;
        answer.chain.push(match &node {
            Node::Servers { service, .. }
            | Node::Weighted { service, .. }
            | Node::Failover { service, .. }
            | Node::Missing { service } => service.clone(),
        });
        match node {
            Node::Weighted { ref service, ref children, .. } => {
                let weighted = services(config).and_then(|s| s.get(service.as_str())).and_then(|s| s.weighted.as_ref());
                let sticky = weighted
                    .and_then(|w| w.sticky.as_ref())
                    .and_then(|s| s.cookie.as_ref())
                    .map(|c| c.name.clone().unwrap_or_else(|| "_sticky".to_string()));
                // The children are in the order written; a cookie names one by its name as written.
                let written: Vec<&str> = weighted
                    .and_then(|w| w.services.as_deref())
                    .unwrap_or_default()
                    .iter()
                    .map(|c| c.name.as_deref().unwrap_or_default())
                    .collect();
                let pinned = sticky.as_ref().and_then(|cookie| Some((cookie, req.cookies.get(cookie)?))).and_then(
                    |(cookie, value)| {
                        children.iter().zip(&written).find_map(|(child, name)| {
                            let form = super::sticky::pins(value, name)?;
                            (child.weight > 0 && child.node.is_up()).then(|| (child, sticky_note(cookie, name, form)))
                        })
                    },
                );
                let next = match pinned {
                    Some((child, note)) => {
                        answer.notes.push(note);
                        child.node.clone()
                    }
                    None => {
                        let mut sim = super::Simulation::new(node.clone());
                        let outcome = sim.send();
                        // The child the first pick goes to: found by the service the outcome names.
                        match children.iter().find(|c| contains(&c.node, &outcome)) {
                            Some(child) => child.node.clone(),
                            None => {
                                answer.status = status(&outcome);
                                return answer;
                            }
                        }
                    }
                };
                node = next;
            }
            Node::Failover { main, fallback, .. } => node = if main.is_up() { *main } else { *fallback },
            Node::Servers { ref service, ref servers, .. } => {
                let cookie = services(config)
                    .and_then(|s| s.get(service.as_str()))
                    .and_then(|s| s.load_balancer.as_ref())
                    .and_then(|lb| lb.sticky.as_ref())
                    .and_then(|s| s.cookie.as_ref())
                    .map(|c| c.name.clone().unwrap_or_else(|| "_sticky".to_string()));
                let pinned = cookie.as_ref().and_then(|cookie| Some((cookie, req.cookies.get(cookie)?))).and_then(
                    |(cookie, value)| {
                        servers.iter().find_map(|server| {
                            let form = super::sticky::pins(value, &server.url)?;
                            (server.up && server.weight > 0).then(|| (server, sticky_note(cookie, &server.url, form)))
                        })
                    },
                );
                if let Some((server, note)) = pinned {
                    answer.notes.push(note);
                    answer.server = Some(server.url.clone());
                    answer.status = 200;
                    return answer;
                }
                let outcome = super::Simulation::new(node.clone()).send();
                answer.status = status(&outcome);
                if let super::Ending::Server { url, .. } | super::Ending::BadGateway { url, .. } = outcome {
                    answer.server = Some(url);
                }
                return answer;
            }
            Node::Missing { .. } => {
                let outcome = super::Simulation::new(node.clone()).send();
                answer.status = status(&outcome);
                if let super::Ending::Server { url, .. } | super::Ending::BadGateway { url, .. } = outcome {
                    answer.server = Some(url);
                }
                return answer;
            }
        }
        if depth > 64 {
            answer.status = 404;
            return answer;
        }
    }
}

/// What a sticky cookie did, said in the answer.
fn sticky_note(cookie: &str, target: &str, form: super::sticky::Form) -> String {
    let how = match form {
        super::sticky::Form::Hashed => String::new(),
        super::sticky::Form::Raw | super::sticky::Form::Fnv => {
            format!(" (Traefik then sets it to {}, its own form)", super::sticky::cookie_value(target))
        }
    };
    format!("sticky cookie {cookie} pins {target}{how}")
}

fn status(outcome: &super::Ending) -> u16 {
    match outcome {
        super::Ending::Server { .. } => 200,
        super::Ending::Unavailable { .. } => 503,
        super::Ending::BadGateway { .. } => 502,
        super::Ending::NotFound { .. } => 404,
    }
}

fn contains(node: &Node, outcome: &super::Ending) -> bool {
    let target = match outcome {
        super::Ending::Server { service, .. }
        | super::Ending::Unavailable { service }
        | super::Ending::BadGateway { service, .. }
        | super::Ending::NotFound { service } => service,
    };
    match node {
        Node::Servers { service, .. } | Node::Missing { service } => service == target,
        Node::Weighted { service, children, .. } => {
            service == target || children.iter().any(|c| contains(&c.node, outcome))
        }
        Node::Failover { service, main, fallback } => {
            service == target || contains(main, outcome) || contains(fallback, outcome)
        }
    }
}

/// `n` requests through the winning router's service: counts by server URL (or by status when none
/// answers). The order of picks is not promised; the counts per round are what Traefik guarantees.
pub fn split(config: &DynamicConfig, service: &str, n: usize, down: &BTreeSet<String>) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for (outcome, count) in outcomes(config, service, n, down) {
        *counts.entry(target(&outcome)).or_insert(0) += count;
    }
    counts
}

fn outcomes(config: &DynamicConfig, service: &str, n: usize, down: &BTreeSet<String>) -> BTreeMap<super::Ending, u64> {
    let (node, _) = tree(config, service, down);
    super::Simulation::new(node).run(n)
}

/// How [`split`] names where a request ended.
fn target(outcome: &super::Ending) -> String {
    match outcome {
        super::Ending::Server { service, url } => format!("{service} {url}"),
        super::Ending::Unavailable { service } => format!("503 (no server available in {service})"),
        super::Ending::BadGateway { service, url } => format!("502 ({url} of {service} does not answer)"),
        super::Ending::NotFound { service } => format!("404 ({service} does not exist)"),
    }
}

/// What `switchyard route` reports for a request: the [`answer`], the version behind the service that
/// answers, and the split of `requests` requests through the winning router's service.
#[derive(Debug, Clone, Serialize)]
pub struct Route {
    /// The answer; when the version is known, its first note says which (`version whoami/dev v1.2.0 ...`).
    pub answer: Answer,
    /// The version (and slot) the answering chain ends in, from the `versions` map given to [`route`].
    pub version: Option<String>,
    /// The requests sent through the winner's service, as [`split`] counts them (None: none sent, or no
    /// router matches).
    pub split: Option<BTreeMap<String, u64>>,
    /// The same counts, one row per target in [`split`]'s order, with what each target stands for.
    pub shares: Vec<Share>,
}

/// Where a share of the simulated requests ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Share {
    /// The key of [`split`]: `service url`, or the failure (`503 (...)`).
    pub target: String,
    /// The load balancer that answered (or failed to).
    pub service: String,
    /// 200, 404, 502 or 503, as for one request.
    pub status: u16,
    pub count: u64,
    /// The version (and slot) `service` stands for, when the `versions` map knows it.
    pub version: Option<String>,
}

/// [`answer`] and, with `requests`, [`split`] through the winning router's service; `versions` maps
/// services to the versions they stand for (`switchyard_model::view::version_services`; empty for plain Traefik
/// files). The version of the answer is the one of the last service of the chain that has one.
pub fn route(
    config: &DynamicConfig,
    req: &HttpRequest,
    requests: Option<usize>,
    down: &BTreeSet<String>,
    versions: &BTreeMap<String, String>,
) -> Route {
    let mut answer = answer(config, req, down);
    let version = answer.chain.iter().rev().find_map(|s| versions.get(s)).cloned();
    if let Some(v) = &version {
        answer.notes.insert(0, format!("version {v}"));
    }
    let mut split = None;
    let mut shares: Vec<Share> = Vec::new();
    if let (Some(n), Some(winner)) = (requests, answer.candidates.first()) {
        let mut counts = BTreeMap::new();
        for (outcome, count) in outcomes(config, &winner.service, n, down) {
            let key = target(&outcome);
            *counts.entry(key.clone()).or_insert(0) += count;
            match shares.iter_mut().find(|s| s.target == key) {
                Some(share) => share.count += count,
                None => {
                    let service = match &outcome {
                        super::Ending::Server { service, .. }
                        | super::Ending::Unavailable { service }
                        | super::Ending::BadGateway { service, .. }
                        | super::Ending::NotFound { service } => service.clone(),
                    };
                    let version = versions.get(&service).cloned();
                    shares.push(Share { target: key, service, status: status(&outcome), count, version });
                }
            }
        }
        shares.sort_by(|a, b| a.target.cmp(&b.target));
        split = Some(counts);
    }
    Route { answer, version, split, shares }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"
http:
  routers:
    prod:
      entryPoints: [web]
      rule: Host(`app.example.com`)
      priority: 10
      service: app
    api:
      entryPoints: [web]
      rule: Host(`app.example.com`) && PathPrefix(`/api`)
      service: api@file
    other:
      rule: Host(`app.example.com`)
      priority: 10
      service: green
  services:
    app:
      weighted:
        healthCheck: {}
        sticky: {cookie: {name: lb}}
        services:
          - {name: blue, weight: 11}
          - {name: green, weight: 3}
    blue:
      loadBalancer:
        healthCheck: {path: /health}
        servers: [{url: "http://blue:80"}]
    green:
      loadBalancer:
        healthCheck: {path: /health}
        servers: [{url: "http://green:80"}]
    api:
      loadBalancer:
        servers: [{url: "http://api:80"}]
"#;

    fn config() -> DynamicConfig {
        let files = vec![("c.yml".to_string(), CONFIG.to_string())];
        let loaded = crate::dynamic::load(&files);
        assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
        loaded.config
    }

    fn request(path: &str) -> HttpRequest {
        HttpRequest {
            entry_point: Some("web".into()),
            request: rules::Request::new("GET", "app.example.com", path),
            ..HttpRequest::default()
        }
    }

    #[test]
    fn the_longest_rule_wins_over_a_lower_explicit_priority_and_ties_are_reported() {
        let config = config();
        let a = answer(&config, &request("/api/x"), &BTreeSet::new());
        // api's default priority is its rule's length (49) > 10.
        assert_eq!(a.candidates[0].router, "api");
        assert!(!a.candidates[0].explicit);
        assert_eq!(a.chain, vec!["api"]);
        assert_eq!(a.server.as_deref(), Some("http://api:80"));
        let a = answer(&config, &request("/"), &BTreeSet::new());
        assert_eq!(a.candidates[0].router, "other", "name order among equals");
        assert_eq!(a.tied, vec!["prod"]);
    }

    #[test]
    fn the_split_follows_the_weights_and_a_down_child_is_skipped() {
        let config = config();
        let counts = split(&config, "app", 14, &BTreeSet::new());
        assert_eq!(counts.get("blue http://blue:80"), Some(&11));
        assert_eq!(counts.get("green http://green:80"), Some(&3));
        let down = BTreeSet::from(["http://green:80".to_string()]);
        let counts = split(&config, "app", 14, &down);
        assert_eq!(counts.get("blue http://blue:80"), Some(&14));
    }

    #[test]
    fn a_sticky_cookie_pins_the_child() {
        let config = config();
        let mut req = request("/");
        req.entry_point = None;
        // Only `prod` sends to `app`; make it win by asking through it alone.
        let mut only_prod = config.clone();
        if let Some(r) = only_prod.http.as_mut().and_then(|h| h.routers.as_mut()) {
            r.remove("other");
        }
        req.cookies.insert("lb".into(), "green".into());
        let a = answer(&only_prod, &req, &BTreeSet::new());
        assert_eq!(a.chain, vec!["app", "green"]);
        assert_eq!(a.server.as_deref(), Some("http://green:80"));
    }

    #[test]
    fn a_route_names_the_version_and_counts_the_split_per_target() {
        let config = config();
        let versions = BTreeMap::from([
            ("blue".to_string(), "app/dev v1 (web), blue slot".to_string()),
            ("green".to_string(), "app/dev v2 (web), green slot".to_string()),
        ]);
        let mut only_prod = config.clone();
        if let Some(r) = only_prod.http.as_mut().and_then(|h| h.routers.as_mut()) {
            r.remove("other");
        }
        let r = route(&only_prod, &request("/"), Some(28), &BTreeSet::new(), &versions);
        assert_eq!(r.answer.candidates[0].router, "prod");
        assert_eq!(r.version.as_deref(), Some("app/dev v1 (web), blue slot"));
        assert_eq!(r.answer.notes[0], "version app/dev v1 (web), blue slot");
        assert_eq!(r.split, Some(split(&only_prod, "app", 28, &BTreeSet::new())));
        let rows: Vec<(&str, &str, u16, u64, Option<&str>)> = r
            .shares
            .iter()
            .map(|s| (s.target.as_str(), s.service.as_str(), s.status, s.count, s.version.as_deref()))
            .collect();
        assert_eq!(
            rows,
            [
                ("blue http://blue:80", "blue", 200, 22, Some("app/dev v1 (web), blue slot")),
                ("green http://green:80", "green", 200, 6, Some("app/dev v2 (web), green slot")),
            ]
        );
        // Every server down: the requests fail with 503 at the weighted service, which stands for no version.
        let down = BTreeSet::from(["blue".to_string(), "green".to_string()]);
        let r = route(&only_prod, &request("/"), Some(5), &down, &versions);
        let rows: Vec<(&str, u16, u64)> = r.shares.iter().map(|s| (s.service.as_str(), s.status, s.count)).collect();
        assert_eq!(rows, [("app", 503, 5)]);
        assert_eq!(r.shares[0].version, None);
        // Without requests, or without a matching router, nothing is split.
        assert!(route(&only_prod, &request("/"), None, &BTreeSet::new(), &versions).split.is_none());
        let mut nowhere = request("/");
        nowhere.request.host = "nope.example.com".into();
        let r = route(&only_prod, &nowhere, Some(10), &BTreeSet::new(), &versions);
        assert!(r.split.is_none() && r.shares.is_empty() && r.version.is_none());
    }

    #[test]
    fn no_router_is_404_and_tls_requests_skip_plain_routers() {
        let config = config();
        let mut req = request("/");
        req.request.host = "nope.example.com".into();
        assert_eq!(answer(&config, &req, &BTreeSet::new()).status, 404);
        let mut req = request("/");
        req.tls = true;
        let a = answer(&config, &req, &BTreeSet::new());
        assert!(a.candidates.is_empty());
        assert!(a.notes.iter().any(|n| n.contains("without TLS")), "{:?}", a.notes);
    }
}
