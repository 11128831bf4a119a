//! Views shared by every adapter: unified diffs of configurations (and of what a change does to a file), the
//! status of an environment, and its routing as a graph (hosts, routers, services, slots, versions) for the
//! playground's picture.

use serde::Serialize;
use std::fmt::Write as _;

use similar::algorithms::{Capture, Compact, Replace, myers};
use similar::{DiffTag, group_diff_ops};

use crate::hosts::{HostFor, route_host};
use crate::naming;
use crate::render::{RenderError, to_yaml};
use crate::state::{EnvState, HealthStatus, Slot};
use crate::time::Timestamp;
use crate::traefik::RenderedConfig;
use crate::transition::Outcome;
use crate::valid_spec::ValidSpec;

/// The diff of the environment's Traefik file that `outcome` makes: its configuration before and after, as
/// written (`a/<file>` and `b/<file>`); empty when the file does not change. What a dry run and the playground
/// show.
pub fn outcome_diff(outcome: &Outcome) -> Result<String, RenderError> {
    let file = naming::config_file(&outcome.key.app, &outcome.key.env);
    let (before, after) = (to_yaml(&outcome.before)?, to_yaml(&outcome.after)?);
    Ok(unified_diff(&before, &after, &format!("a/{file}"), &format!("b/{file}")))
}

/// A unified diff of two texts by lines, with three lines of context; empty when they are equal. The same
/// bytes as similar's `TextDiff::from_lines(old, new).unified_diff()` (a test holds them to it), but with
/// Myers' algorithm called directly: `TextDiff` picks its algorithm at run time, so it carries all six of
/// them, and their copies for every index type, into the WebAssembly build (about 260 KB).
pub fn unified_diff(old: &str, new: &str, old_name: &str, new_name: &str) -> String {
    if old == new {
        return String::new();
    }
    let (a, b) = (lines(old), lines(new));
    let mut hook = Compact::new(Replace::new(Capture::new()), &a[..], &b[..]);
    let Ok(()) = myers::diff(&mut hook, &a[..], 0..a.len(), &b[..], 0..b.len());
    let ops = hook.into_inner().into_inner().into_ops();
    let mut out = String::new();
    for group in group_diff_ops(ops, 3) {
        let (Some(first), Some(last)) = (group.first(), group.last()) else { continue };
        if out.is_empty() {
            let _ = writeln!(out, "--- {old_name}\n+++ {new_name}");
        }
        let old_range = HunkRange(first.old_range().start, last.old_range().end);
        let new_range = HunkRange(first.new_range().start, last.new_range().end);
        let _ = writeln!(out, "@@ -{old_range} +{new_range} @@");
        for op in &group {
            let (tag, old_lines, new_lines) = op.as_tag_tuple();
            let (before, after) = match tag {
                DiffTag::Equal => (' ', None),
                DiffTag::Delete => ('-', None),
                DiffTag::Insert => ('+', None),
                DiffTag::Replace => ('-', Some('+')),
            };
            let first_side = if tag == DiffTag::Insert { &b[new_lines.clone()] } else { &a[old_lines] };
            push_lines(&mut out, before, first_side);
            if let Some(tag) = after {
                push_lines(&mut out, tag, &b[new_lines]);
            }
        }
    }
    out
}

/// Lines with their terminators, which are `\n`, `\r\n` or a lone `\r`, as similar splits them.
fn lines(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut lines = Vec::new();
    let (mut start, mut i) = (0, 0);
    while i < bytes.len() {
        let end = match bytes[i] {
            b'\r' if bytes.get(i + 1) == Some(&b'\n') => i + 2,
            b'\r' | b'\n' => i + 1,
            _ => {
                i += 1;
                continue;
            }
        };
        lines.push(&text[start..end]);
        (start, i) = (end, end);
    }
    if start < bytes.len() {
        lines.push(&text[start..]);
    }
    lines
}

fn push_lines(out: &mut String, tag: char, lines: &[&str]) {
    for line in lines {
        out.push(tag);
        out.push_str(line);
        if !line.ends_with(['\r', '\n']) {
            out.push_str("\n\\ No newline at end of file\n");
        }
    }
}

/// A hunk's line range as unified diffs write it: `start,len`, just `start` for one line, and the line
/// before for an empty range.
struct HunkRange(usize, usize);

impl std::fmt::Display for HunkRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let len = self.1.saturating_sub(self.0);
        match len {
            1 => write!(f, "{}", self.0 + 1),
            0 => write!(f, "{},0", self.0),
            _ => write!(f, "{},{len}", self.0 + 1),
        }
    }
}

/// What a node of a [`RoutingGraph`] stands for; also its column in a left-to-right picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeKind {
    Host,
    Router,
    Service,
    Slot,
    Version,
}

/// Which traffic a router carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RouteRole {
    Production,
    Slot,
    Preview,
}

/// One node: `id` is unique in the graph (`router:whoami_dev_prod_web`), `label` is what to show, `detail` a
/// second line (a rule and priority, a service kind, a slot's role, a version's health).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GraphNode {
    pub id: String,
    pub kind: NodeKind,
    pub label: String,
    pub detail: String,
    /// For hosts and routers: which traffic they carry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<RouteRole>,
    /// True for what production traffic flows through: the production hosts, routers and weighted services,
    /// the slots with a share and the versions they hold.
    pub live: bool,
}

/// An edge from `from` to `to`; `share` is the percent of the parent's traffic, on the edges a weighted
/// service splits (its children, never 0: an idle slot gets no edge); `label` names what the edge is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GraphEdge {
    pub from: String,
    pub to: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub share: Option<u8>,
    pub label: String,
}

/// The routing of one environment as Traefik will do it: hosts to routers to services; a weighted service
/// to the slots holding its children, with their shares; slots and load balancers to versions. Built from
/// the rendered configuration, so the picture shows what the file says. Nodes come in a stable order:
/// production first, then the slots, then the previews.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RoutingGraph {
    pub nodes: Vec<GraphNode>,
    pub edges: Vec<GraphEdge>,
}

impl RoutingGraph {
    fn node(&mut self, id: String, kind: NodeKind, label: &str, detail: String, role: Option<RouteRole>, live: bool) {
        match self.nodes.iter_mut().find(|n| n.id == id) {
            Some(n) => n.live |= live,
            None => self.nodes.push(GraphNode { id, kind, label: label.into(), detail, role, live }),
        }
    }
    fn edge(&mut self, from: String, to: String, share: Option<u8>, label: String) {
        if !self.edges.iter().any(|e| e.from == from && e.to == to) {
            self.edges.push(GraphEdge { from, to, share, label });
        }
    }
}

/// The routing graph of `state`'s environment, given `config`, its rendered configuration
/// ([`crate::render::render_env`]).
pub fn routing_graph(spec: &ValidSpec, state: &EnvState, config: &RenderedConfig) -> Result<RoutingGraph, RenderError> {
    let (app_name, env_name) = (state.app.as_str(), state.env.as_str());
    let unknown = || {
        RenderError::Host(crate::hosts::HostError::UnknownEnvironment { app: app_name.into(), env: env_name.into() })
    };
    let app = spec.spec.apps.get(app_name).ok_or_else(unknown)?;
    // Every router this environment can have, with its host, in the order of the picture.
    let mut candidates: Vec<(String, String, RouteRole)> = Vec::new();
    let base = spec.hosts.base_host(app_name, env_name, HostFor::Production)?;
    for (service, route) in &app.routes {
        candidates.push((
            naming::production(app_name, env_name, service),
            route_host(&base, route),
            RouteRole::Production,
        ));
    }
    for slot in Slot::BOTH {
        let base = spec.hosts.base_host(app_name, env_name, HostFor::Slot(slot))?;
        for (service, route) in &app.routes {
            candidates.push((
                naming::slot(app_name, env_name, slot, service),
                route_host(&base, route),
                RouteRole::Slot,
            ));
        }
    }
    // The load balancer of each version and routed service: name -> version.
    let mut balancers = std::collections::BTreeMap::new();
    for d in &state.deployments {
        let base = spec.hosts.base_host(app_name, env_name, HostFor::Preview(&d.slug))?;
        for (service, route) in &app.routes {
            candidates.push((
                naming::preview(app_name, env_name, &d.slug, service),
                route_host(&base, route),
                RouteRole::Preview,
            ));
            balancers.insert(naming::version(app_name, env_name, &d.slug, service), d);
        }
    }

    let traffic = state.traffic();
    let mut g = RoutingGraph::default();
    let no_routes = crate::traefik::Http::default();
    let http = config.http.as_ref().unwrap_or(&no_routes);
    for (router_name, host, role) in candidates {
        let Some(router) = http.routers.get(&router_name) else { continue };
        let live = role == RouteRole::Production;
        let (host_id, router_id) = (format!("host:{host}"), format!("router:{router_name}"));
        g.node(host_id.clone(), NodeKind::Host, &host, role_name(role).into(), Some(role), live);
        let detail = format!("{} priority {}", router.rule, router.priority);
        g.node(router_id.clone(), NodeKind::Router, &router_name, detail, Some(role), live);
        g.edge(host_id, router_id.clone(), None, String::new());
        let Some(service) = http.services.get(&router.service) else { continue };
        let service_id = format!("service:{}", router.service);
        g.edge(router_id, service_id.clone(), None, String::new());
        if let Some(weighted) = &service.weighted {
            let sticky = weighted.sticky.as_ref().map(|s| format!(", sticky cookie {}", s.cookie.name));
            let detail = format!("weighted{}", sticky.unwrap_or_default());
            g.node(service_id.clone(), NodeKind::Service, &router.service, detail, None, live);
            let total: u32 = weighted.services.iter().map(|c| c.weight).sum::<u32>().max(1);
            for child in &weighted.services {
                let Some(d) = balancers.get(&child.name) else { continue };
                let share = u8::try_from(child.weight * 100 / total).unwrap_or(100);
                let target = match state.slot_of(&d.version) {
                    Some(slot) => format!("slot:{slot}"),
                    None => format!("version:{}", d.version),
                };
                g.edge(service_id.clone(), target, Some(share), child.name.clone());
            }
        } else if let Some(lb) = &service.load_balancer {
            let servers: Vec<&str> = lb.servers.iter().map(|s| s.url.as_str()).collect();
            let detail = format!("loadBalancer {}", servers.join(" "));
            g.node(service_id.clone(), NodeKind::Service, &router.service, detail, None, false);
            if let Some(d) = balancers.get(&router.service) {
                g.edge(service_id, format!("version:{}", d.version), None, String::new());
            }
        }
    }
    // Slots and versions, after the routes so the columns keep the routes' order.
    for slot in Slot::BOTH {
        let share = traffic.iter().find(|(s, _, _)| *s == slot).map(|(_, _, p)| *p);
        let detail = match (state.slots.get(&slot), share) {
            (None, _) => "empty".to_string(),
            (Some(_), Some(p)) if state.live == Some(slot) => format!("live, {p}%"),
            (Some(_), Some(p)) => format!("candidate, {p}%"),
            (Some(_), None) => "idle".to_string(),
        };
        g.node(format!("slot:{slot}"), NodeKind::Slot, slot.as_str(), detail, None, share.is_some());
        if let Some(version) = state.slots.get(&slot) {
            g.edge(format!("slot:{slot}"), format!("version:{version}"), None, String::new());
        }
    }
    for d in &state.deployments {
        let live = traffic.iter().any(|(_, v, _)| *v == d.version);
        let detail = format!("{}, {}", d.health.status, d.stack);
        g.node(format!("version:{}", d.version), NodeKind::Version, &d.version, detail, None, live);
    }
    // Keep nodes in column order, stable within a column.
    g.nodes.sort_by_key(|n| n.kind);
    Ok(g)
}

fn role_name(role: RouteRole) -> &'static str {
    match role {
        RouteRole::Production => "production",
        RouteRole::Slot => "slot",
        RouteRole::Preview => "preview",
    }
}

/// What `status` shows for one environment: the same data for the terminal, JSON and the playground.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvStatus {
    pub app: String,
    pub env: String,
    pub revision: u64,
    pub live: Option<Slot>,
    /// Production traffic: slot, version, percent.
    pub traffic: Vec<TrafficShare>,
    /// The production URLs, once something is live.
    pub production_urls: Vec<String>,
    pub slots: Vec<SlotStatus>,
    pub versions: Vec<VersionStatus>,
    pub last_change: Option<crate::state::HistoryEntry>,
    /// A rollout under way.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollout: Option<RolloutStatus>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RolloutStatus {
    pub version: String,
    /// Where it stands, in words: `step 2 of 4 (25%)`.
    pub at: String,
    pub since: crate::time::Timestamp,
    /// The last step's decision.
    pub last: Option<String>,
    /// The process walking it, in words (`pid 4242 on build-1`).
    pub driver: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrafficShare {
    pub slot: Slot,
    pub version: String,
    pub percent: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SlotStatus {
    pub slot: Slot,
    pub version: Option<String>,
    pub urls: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionStatus {
    pub version: String,
    pub stack: String,
    pub deployed_at: Timestamp,
    pub health: HealthStatus,
    pub slot: Option<Slot>,
    pub preview_urls: Vec<String>,
}

/// The status of an environment, with its URLs.
pub fn status(spec: &ValidSpec, state: &EnvState) -> Result<EnvStatus, RenderError> {
    let (app_name, env_name) = (state.app.as_str(), state.env.as_str());
    let unknown = || {
        RenderError::Host(crate::hosts::HostError::UnknownEnvironment { app: app_name.into(), env: env_name.into() })
    };
    let app = spec.spec.apps.get(app_name).ok_or_else(unknown)?;
    let environment = app.environments.get(env_name).ok_or_else(unknown)?;
    let scheme = if environment.tls.is_some() { "https" } else { "http" };
    let urls = |what: HostFor<'_>| -> Result<Vec<String>, RenderError> {
        let base = spec.hosts.base_host(app_name, env_name, what)?;
        Ok(app
            .routes
            .values()
            .map(|r| format!("{scheme}://{}{}", route_host(&base, r), r.path_prefix.as_deref().unwrap_or("/")))
            .collect())
    };
    let traffic: Vec<TrafficShare> = state
        .traffic()
        .into_iter()
        .map(|(slot, version, percent)| TrafficShare { slot, version: version.into(), percent })
        .collect();
    let production_urls = if traffic.is_empty() { Vec::new() } else { urls(HostFor::Production)? };
    let mut slots = Vec::new();
    for slot in Slot::BOTH {
        let version = state.slots.get(&slot).cloned();
        let slot_urls = if version.is_some() { urls(HostFor::Slot(slot))? } else { Vec::new() };
        slots.push(SlotStatus { slot, version, urls: slot_urls });
    }
    let mut versions = Vec::new();
    for d in &state.deployments {
        versions.push(VersionStatus {
            version: d.version.clone(),
            stack: d.stack.clone(),
            deployed_at: d.deployed_at,
            health: d.health.status,
            slot: state.slot_of(&d.version),
            preview_urls: urls(HostFor::Preview(&d.slug))?,
        });
    }
    Ok(EnvStatus {
        app: app_name.into(),
        env: env_name.into(),
        revision: state.revision,
        live: state.live,
        traffic,
        production_urls,
        slots,
        versions,
        last_change: state.history.last().cloned(),
        rollout: state.rollout.as_ref().map(|p| RolloutStatus {
            version: p.version.clone(),
            at: p.describe(),
            since: p.since,
            last: p.last.clone(),
            driver: p.driver.as_ref().map(ToString::to_string),
        }),
    })
}

impl std::fmt::Display for EnvStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{}/{} (revision {})", self.app, self.env, self.revision)?;
        if self.traffic.is_empty() {
            writeln!(f, "  production: nothing live")?;
        } else {
            let shares: Vec<String> =
                self.traffic.iter().map(|t| format!("{} {} {}%", t.slot, t.version, t.percent)).collect();
            writeln!(f, "  production: {}", shares.join(", "))?;
            for url in &self.production_urls {
                writeln!(f, "    {url}")?;
            }
        }
        if let Some(r) = &self.rollout {
            let driven = r.driver.as_ref().map(|d| format!(", driven by {d}")).unwrap_or_default();
            writeln!(f, "  rollout of {}: at {} since {}{driven}", r.version, r.at, r.since)?;
            if let Some(last) = &r.last {
                writeln!(f, "    last decision: {last}")?;
            }
            writeln!(
                f,
                "    traffic stays at this step until the rollout's driver goes on; if it was interrupted, \
                 `switchyard rollout resume` takes it on and `switchyard rollout abort` rolls it back"
            )?;
        }
        for s in &self.slots {
            let live = if self.live == Some(s.slot) { " (live)" } else { "" };
            match &s.version {
                Some(v) => writeln!(f, "  {} slot{live}: {v}  {}", s.slot, s.urls.join("  "))?,
                None => writeln!(f, "  {} slot: empty", s.slot)?,
            }
        }
        if self.versions.is_empty() {
            writeln!(f, "  versions: none deployed")?;
        } else {
            writeln!(f, "  versions:")?;
            for v in &self.versions {
                let slot = v.slot.map(|s| format!(" [{s}]")).unwrap_or_default();
                writeln!(
                    f,
                    "    {}{slot}  {}  deployed {}  {}",
                    v.version,
                    v.health,
                    v.deployed_at,
                    v.preview_urls.join("  ")
                )?;
            }
        }
        if let Some(c) = &self.last_change {
            let by = c.actor.as_deref().map(|a| format!(" by {a}")).unwrap_or_default();
            writeln!(f, "  last change: #{} {}{by}: {} ({} -> {})", c.revision, c.at, c.summary, c.before, c.after)?;
        }
        Ok(())
    }
}

/// Which version (and slot) each version service of the given environments' configuration stands for:
/// `whoami_dev_ver_v1-2-0_web` -> `whoami/dev v1.2.0 (web), blue slot`. For telling which version answers
/// (`world.values()` for every environment's files, one state for one environment's file).
pub fn version_services<'s>(
    states: impl IntoIterator<Item = &'s EnvState>,
) -> std::collections::BTreeMap<String, String> {
    let mut out = std::collections::BTreeMap::new();
    for state in states {
        for d in &state.deployments {
            let slot = state.slot_of(&d.version).map(|s| format!(", {} slot", s.as_str())).unwrap_or_default();
            for service in d.endpoints.keys() {
                let name = crate::naming::version(&state.app, &state.env, &d.slug, service);
                out.insert(name, format!("{}/{} {} ({service}){slot}", state.app, state.env, d.version));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn diffs_show_changed_lines_only() {
        let d = super::unified_diff("a\nb\nc\n", "a\nB\nc\n", "old", "new");
        assert!(d.contains("-b\n") && d.contains("+B\n") && d.starts_with("--- old\n+++ new\n"), "{d}");
        assert_eq!(super::unified_diff("x\n", "x\n", "o", "n"), "");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        /// The diff gives similar's `TextDiff` bytes exactly, on texts with many equal lines, every line
        /// terminator, no final newline, and long inputs (similar takes other paths above 100 lines).
        #[test]
        fn diffs_match_similar_text_diff(
            old in proptest::collection::vec(0usize..6, 0..40),
            new in proptest::collection::vec(0usize..6, 0..40),
            repeat in 1usize..5,
            ending in 0usize..4,
        ) {
            const LINES: [&str; 6] = ["a\n", "b\n", "c\r\n", "d\r", "  weight: 10\n", "e"];
            let text = |picks: &[usize]| {
                let mut t: String = picks.iter().cycle().take(picks.len() * repeat).map(|i| LINES[*i]).collect();
                t.push_str(["", "z", "z\n", "\n"][ending]);
                t
            };
            let (old, new) = (text(&old), text(&new));
            let expected = similar::TextDiff::from_lines(&old, &new).unified_diff().context_radius(3).header("o", "n").to_string();
            proptest::prop_assert_eq!(super::unified_diff(&old, &new, "o", "n"), expected);
        }
    }

    use super::*;
    use crate::render::render_env;
    use crate::state::{EnvKey, World};
    use crate::transition::{Change, Context, apply};
    use crate::{EXAMPLE_SPEC, Spec, Timestamp};

    fn run(spec: &ValidSpec, world: &mut World, request: Change) {
        let key = EnvKey::new("whoami", "dev");
        let ctx = Context { now: Timestamp(1_000), actor: None };
        let outcome = apply(spec, world, &key, &request, &ctx).unwrap();
        world.insert(key, outcome.state);
    }

    fn graph(spec: &ValidSpec, world: &World) -> RoutingGraph {
        let state = &world[&EnvKey::new("whoami", "dev")];
        routing_graph(spec, state, &render_env(spec, state).unwrap().config).unwrap()
    }

    fn shares(g: &RoutingGraph) -> Vec<(String, String, u8)> {
        g.edges.iter().filter_map(|e| Some((e.from.clone(), e.to.clone(), e.share?))).collect()
    }

    #[test]
    fn the_graph_follows_the_workflow() {
        let spec = Spec::parse(EXAMPLE_SPEC, "switchyard.yaml").unwrap();
        let mut world = World::new();
        run(&spec, &mut world, Change::Create);
        let g = graph(&spec, &world);
        assert!(g.edges.is_empty());
        let slots: Vec<(&str, &str)> = g.nodes.iter().map(|n| (n.label.as_str(), n.detail.as_str())).collect();
        assert_eq!(slots, [("blue", "empty"), ("green", "empty")]);

        run(&spec, &mut world, Change::Deploy { version: "v1.2.0".into() });
        run(&spec, &mut world, Change::Promote { version: "v1.2.0".into(), share: 100 });
        run(&spec, &mut world, Change::Deploy { version: "v1.3.0".into() });
        run(&spec, &mut world, Change::Promote { version: "v1.3.0".into(), share: 10 });
        let g = graph(&spec, &world);
        assert_eq!(
            shares(&g),
            [
                ("service:whoami_dev_prod_api".into(), "slot:blue".into(), 90),
                ("service:whoami_dev_prod_api".into(), "slot:green".into(), 10),
                ("service:whoami_dev_prod_web".into(), "slot:blue".into(), 90),
                ("service:whoami_dev_prod_web".into(), "slot:green".into(), 10),
            ]
        );
        let node = |id: &str| g.nodes.iter().find(|n| n.id == id).unwrap();
        assert_eq!(node("slot:blue").detail, "live, 90%");
        assert_eq!(node("slot:green").detail, "candidate, 10%");
        assert_eq!(node("host:whoami.dev.example.com").role, Some(RouteRole::Production));
        assert!(node("host:api.v1-3-0-whoami.dev.example.com").detail == "preview");
        assert_eq!(node("router:whoami_dev_prod_web").detail, "Host(`whoami.dev.example.com`) priority 10000");
        assert!(node("service:whoami_dev_prod_web").detail.contains("sticky cookie whoami_slot"));
        assert!(node("version:v1.3.0").live);
        // Columns in order: hosts, routers, services, slots, versions; every edge joins known nodes.
        assert!(g.nodes.windows(2).all(|w| w[0].kind <= w[1].kind));
        for e in &g.edges {
            assert!(g.nodes.iter().any(|n| n.id == e.from) && g.nodes.iter().any(|n| n.id == e.to), "{e:?}");
        }
        assert!(g.edges.iter().any(|e| e.from == "slot:green" && e.to == "version:v1.3.0"));

        run(&spec, &mut world, Change::Complete);
        run(&spec, &mut world, Change::Rollback);
        let g = graph(&spec, &world);
        assert_eq!(
            shares(&g),
            [
                ("service:whoami_dev_prod_api".into(), "slot:blue".into(), 100),
                ("service:whoami_dev_prod_web".into(), "slot:blue".into(), 100),
            ]
        );
        let node = |id: &str| g.nodes.iter().find(|n| n.id == id).unwrap();
        assert_eq!(node("slot:green").detail, "idle");
        assert!(!node("version:v1.3.0").live && node("version:v1.2.0").live);
    }
}
