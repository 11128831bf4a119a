//! HTTP services: load balancers and their servers, weighted (blue/green) services and their children, mirroring,
//! failover, and health checks over children that cannot report health (SY3301-SY3303, SY3307).

use std::collections::BTreeMap;

use crate::dynamic::Section;
use crate::dynamic::model::{
    Failover, HighestRandomWeight, LoadBalancer, Mirroring, Service, Weighted, WeightedService,
};
use switchyard_diagnostics::Diagnostic;

use super::urls::*;
use super::*;

impl<'l> Validator<'l> {
    pub(super) fn http_services(
        &mut self,
        services: &'l BTreeMap<String, Service>,
        names: &mut Names<'l>,
        transports: &mut Names<'l>,
    ) {
        const S: Section = Section::HttpService;
        // Edges between services, by index in `names`, for cycles.
        let mut edges: Vec<(u32, u32)> = Vec::new();
        for (index, (name, service)) in services.iter().enumerate() {
            let name = name.as_str();
            let kinds = [
                service.load_balancer.is_some(),
                service.highest_random_weight.is_some(),
                service.weighted.is_some(),
                service.mirroring.is_some(),
                service.failover.is_some(),
            ];
            self.kinds(S, name, &kinds, "`loadBalancer`, `weighted`, `mirroring`, `failover` or `highestRandomWeight`");
            let mut children: Vec<Child<'l>> = Vec::new();
            if let Some(lb) = service.load_balancer.as_deref() {
                self.load_balancer(name, lb, transports);
            }
            if let Some(w) = service.weighted.as_deref() {
                self.weighted(name, w, names, &mut children);
            }
            if let Some(h) = service.highest_random_weight.as_deref() {
                self.highest_random_weight(name, h, names, &mut children);
            }
            if let Some(m) = service.mirroring.as_deref() {
                self.mirroring(name, m, names, &mut children);
            }
            if let Some(f) = service.failover.as_deref() {
                self.failover(name, f, names, &mut children);
            }
            let from = u32::try_from(index).unwrap_or(u32::MAX);
            for (target, _, _) in &children {
                if let Target::Local(to) = target {
                    edges.push((from, u32::try_from(*to).unwrap_or(u32::MAX)));
                }
            }
        }
        self.cycles(S, &names.names, edges, "services");
    }

    /// Resolves a child of service `name` at `steps`, reporting it when missing (SY3203).
    pub(super) fn child(
        &mut self,
        (section, name, kind): (Section, &'l str, &str),
        child: &'l str,
        steps: &[Step<'static>],
        names: &mut Names<'l>,
        children: &mut Vec<Child<'l>>,
    ) {
        let site = Site { section, name, steps };
        let target = self.resolve(section, names, child, site);
        if target == Target::Missing {
            let message = format!(
                "{kind} service `{name}` refers to `{child}`, which is not defined: Traefik cannot build `{name}`, \
                 and disables it with every router that uses it{}",
                self.disabled_routers(section, name)
            );
            self.missing("SY3203", section, child, message, site);
        }
        children.push((target, child, Steps::new(steps)));
    }

    pub(super) fn load_balancer(&mut self, name: &'l str, lb: &'l LoadBalancer, transports: &mut Names<'l>) {
        const S: Section = Section::HttpService;
        let servers = lb.servers.as_deref().unwrap_or_default();
        if servers.is_empty() {
            let d = Diagnostic::error(
                "SY3307",
                format!(
                    "the load balancer of HTTP service `{name}` has no servers: Traefik answers every request \
                     with 503{}",
                    self.disabled_routers(S, name)
                ),
            )
            .hint("add `servers: [{url: \"http://host:port\"}]`");
            let steps: &[Step<'_>] =
                if lb.servers.is_some() { &[K("loadBalancer"), K("servers")] } else { &[K("loadBalancer")] };
            self.emit(d, S, name, steps, Aim::Key);
        }
        let wrr = lb.strategy.as_deref().is_none_or(|s| s.eq_ignore_ascii_case("wrr"));
        let mut dropped = 0;
        for (i, server) in servers.iter().enumerate() {
            match server.url.as_deref() {
                None => {
                    let d = Diagnostic::error(
                        "SY3308",
                        format!("server {i} of HTTP service `{name}` has no `url`: Traefik cannot build the service"),
                    )
                    .hint("add `url: http://host:port`");
                    self.emit(d, S, name, &[K("loadBalancer"), K("servers"), I(i)], Aim::Value);
                }
                Some(url) => {
                    if let Err(why) = check_url(url) {
                        let d = Diagnostic::error(
                            "SY3308",
                            format!("server URL `{url}` of HTTP service `{name}` is not valid: {why}"),
                        )
                        .hint("write `http://host:port` (or `https://`, `h2c://`)");
                        self.emit(d, S, name, &[K("loadBalancer"), K("servers"), I(i), K("url")], Aim::Value);
                    }
                }
            }
            if wrr && let Some(weight) = server.weight.filter(|w| *w <= 0) {
                dropped += 1;
                let d = Diagnostic::warning(
                    "SY3301",
                    format!(
                        "server {i} of HTTP service `{name}` has weight {weight}: Traefik drops it, it gets no \
                         requests"
                    ),
                )
                .hint("remove the server to take it out of rotation, or give it a weight of 1 or more");
                self.emit(d, S, name, &[K("loadBalancer"), K("servers"), I(i), K("weight")], Aim::Value);
            }
        }
        if !servers.is_empty() && dropped == servers.len() {
            let d = Diagnostic::error(
                "SY3302",
                format!(
                    "every server of HTTP service `{name}` has weight 0 or less: Traefik drops them all and \
                     answers every request with 503"
                ),
            )
            .hint("give at least one server a weight of 1 or more");
            self.emit(d, S, name, &[K("loadBalancer"), K("servers")], Aim::Key);
        }
        if let Some(transport) = lb.servers_transport.as_deref() {
            let steps = [K("loadBalancer"), K("serversTransport")];
            let site = Site { section: S, name, steps: &steps };
            if self.resolve(Section::HttpServersTransport, transports, transport, site) == Target::Missing {
                let message = format!(
                    "HTTP service `{name}` uses servers transport `{transport}`, which is not defined: Traefik \
                     cannot build the service{}",
                    self.disabled_routers(S, name)
                );
                self.missing("SY3207", Section::HttpServersTransport, transport, message, site);
            }
        }
    }

    pub(super) fn weighted(
        &mut self,
        name: &'l str,
        w: &'l Weighted,
        names: &mut Names<'l>,
        children: &mut Vec<Child<'l>>,
    ) {
        const S: Section = Section::HttpService;
        let list = w.services.as_deref().unwrap_or_default();
        let first = children.len();
        self.weighted_children(S, name, "weighted", list, names, children, w.health_check.is_some());
        if w.health_check.is_some() {
            self.health(name, "weighted", &children[first..]);
        }
    }

    /// The children of a `weighted` service: references and weights (SY3203, SY3301, SY3302).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn weighted_children(
        &mut self,
        section: Section,
        name: &'l str,
        kind: &'static str,
        list: &'l [WeightedService],
        names: &mut Names<'l>,
        children: &mut Vec<Child<'l>>,
        health_check: bool,
    ) {
        let mut dropped = 0;
        for (i, child) in list.iter().enumerate() {
            match child.name.as_deref() {
                Some(child_name) => {
                    let steps = [K(kind), K("services"), I(i), K("name")];
                    self.child((section, name, kind), child_name, &steps, names, children);
                }
                None => {
                    let d = Diagnostic::error(
                        "SY3203",
                        format!("child {i} of {kind} service `{name}` has no `name`: Traefik cannot build `{name}`"),
                    )
                    .hint("name the service to send traffic to: `- name: my-service`");
                    self.emit(d, section, name, &[K(kind), K("services"), I(i)], Aim::Value);
                }
            }
            if section == Section::HttpService && kind == "weighted" && child.weight.is_some_and(|w| w <= 0) {
                dropped += 1;
                let weight = child.weight.unwrap_or_default();
                let child_name = child.name.as_deref().unwrap_or("?");
                let d = if health_check {
                    Diagnostic::error(
                        "SY3301",
                        format!(
                            "child `{child_name}` of weighted service `{name}` has weight {weight}, under \
                             `healthCheck: {{}}`: the child is dropped from the rotation but still registers for \
                             health updates, and if it comes back up while every other child is down Traefik's \
                             picker can loop forever"
                        ),
                    )
                    .hint(format!("leave `{child_name}` out of `{name}` instead of giving it weight {weight}"))
                } else {
                    Diagnostic::warning(
                        "SY3301",
                        format!(
                            "child `{child_name}` of weighted service `{name}` has weight {weight}: Traefik drops \
                             it, it gets no traffic"
                        ),
                    )
                    .hint(format!(
                        "leave `{child_name}` out of `{name}` to give it no traffic (a weight of 0 is a hazard with \
                         `healthCheck: {{}}`)"
                    ))
                };
                self.emit(d, section, name, &[K(kind), K("services"), I(i), K("weight")], Aim::Value);
            }
        }
        if section == Section::HttpService && kind == "weighted" && dropped == list.len() {
            let d = if list.is_empty() {
                Diagnostic::error(
                    "SY3302",
                    format!(
                        "weighted service `{name}` has no children: Traefik answers every request with 503{}",
                        self.disabled_routers(section, name)
                    ),
                )
                .hint("list the services to balance: `services: [{name: a, weight: 1}]`")
            } else {
                Diagnostic::error(
                    "SY3302",
                    format!(
                        "every child of weighted service `{name}` has weight 0 or less: Traefik drops them all and \
                         answers every request with 503{}",
                        self.disabled_routers(section, name)
                    ),
                )
                .hint("give at least one child a weight of 1 or more")
            };
            let steps: &[Step<'_>] = if list.is_empty() { &[K(kind)] } else { &[K(kind), K("services")] };
            self.emit(d, section, name, steps, Aim::Key);
        }
    }

    pub(super) fn highest_random_weight(
        &mut self,
        name: &'l str,
        h: &'l HighestRandomWeight,
        names: &mut Names<'l>,
        children: &mut Vec<Child<'l>>,
    ) {
        let list = h.services.as_deref().unwrap_or_default();
        let first = children.len();
        let kind = "highestRandomWeight";
        self.weighted_children(Section::HttpService, name, kind, list, names, children, false);
        if h.health_check.is_some() {
            self.health(name, kind, &children[first..]);
        }
    }

    pub(super) fn mirroring(
        &mut self,
        name: &'l str,
        m: &'l Mirroring,
        names: &mut Names<'l>,
        children: &mut Vec<Child<'l>>,
    ) {
        const S: Section = Section::HttpService;
        let first = children.len();
        match m.service.as_deref() {
            Some(main) => self.child((S, name, "mirroring"), main, &[K("mirroring"), K("service")], names, children),
            None => {
                let d = Diagnostic::error(
                    "SY3203",
                    format!("mirroring service `{name}` has no `service`: Traefik cannot build it"),
                )
                .hint("name the service that answers the requests: `service: my-service`");
                self.emit(d, S, name, &[K("mirroring")], Aim::Key);
            }
        }
        let main = children.len();
        for (i, mirror) in m.mirrors.iter().flatten().enumerate() {
            if let Some(mirror_name) = mirror.name.as_deref() {
                let steps = [K("mirroring"), K("mirrors"), I(i), K("name")];
                self.child((S, name, "mirroring"), mirror_name, &steps, names, children);
            }
        }
        // Only the main service's health is followed.
        if m.health_check.is_some() {
            self.health(name, "mirroring", &children[first..main]);
        }
    }

    pub(super) fn failover(
        &mut self,
        name: &'l str,
        f: &'l Failover,
        names: &mut Names<'l>,
        children: &mut Vec<Child<'l>>,
    ) {
        const S: Section = Section::HttpService;
        let first = children.len();
        for key in ["service", "fallback"] {
            let value = if key == "service" { f.service.as_deref() } else { f.fallback.as_deref() };
            match value {
                Some(child) => self.child((S, name, "failover"), child, &[K("failover"), K(key)], names, children),
                None => {
                    let d = Diagnostic::error(
                        "SY3203",
                        format!("failover service `{name}` has no `{key}`: Traefik cannot build it"),
                    )
                    .hint(format!("add `{key}: <service name>`"));
                    self.emit(d, S, name, &[K("failover")], Aim::Key);
                }
            }
        }
        if f.health_check.is_some() {
            self.health(name, "failover", &children[first..]);
        }
    }

    /// SY3303: under `healthCheck: {}`, every child must report its health.
    pub(super) fn health(&mut self, name: &'l str, kind: &str, children: &[Child<'l>]) {
        for (target, child, steps) in children {
            let Target::Local(index) = *target else { continue };
            let local = split_reference(child).0;
            let Some(&service) = self.http_services.get(index) else { continue };
            let Some(why) = cannot_report_health(service) else { continue };
            let d = Diagnostic::error(
                "SY3303",
                format!(
                    "{kind} service `{name}` has `healthCheck: {{}}`, but its child `{child}` cannot report health \
                     ({why}): Traefik fails to build `{name}`, and its routers answer 404{}",
                    self.disabled_routers(Section::HttpService, name)
                ),
            )
            .hint(format!(
                "give `{local}` {}, or remove `healthCheck: {{}}` from `{name}`",
                if service.load_balancer.is_some() {
                    "an active health check (`loadBalancer.healthCheck` with a `path`)"
                } else {
                    "its own `healthCheck: {}`"
                }
            ));
            self.emit(d, Section::HttpService, name, steps.as_slice(), Aim::Value);
        }
    }
}

/// Why a service cannot report its health to a parent with `healthCheck: {}`, if it cannot.
pub(super) fn cannot_report_health(service: &Service) -> Option<&'static str> {
    if let Some(lb) = &service.load_balancer {
        return lb.health_check.is_none().then_some("a load balancer without an active `healthCheck`");
    }
    let own = service
        .weighted
        .as_ref()
        .map(|w| w.health_check.is_some())
        .or_else(|| service.highest_random_weight.as_ref().map(|h| h.health_check.is_some()))
        .or_else(|| service.mirroring.as_ref().map(|m| m.health_check.is_some()))
        .or_else(|| service.failover.as_ref().map(|f| f.health_check.is_some()));
    match own {
        Some(false) => Some("it has no `healthCheck: {}` of its own"),
        _ => None,
    }
}
