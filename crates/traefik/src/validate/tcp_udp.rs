//! TCP and UDP routers and services, and their servers' addresses.

use std::collections::BTreeMap;

use crate::dynamic::Section;
use crate::dynamic::model::{TcpRouter, TcpService, UdpRouter, UdpService};
use crate::rules::MatcherKind;
use switchyard_diagnostics::{Diagnostic, did_you_mean};

use super::urls::*;
use super::*;

impl<'l> Validator<'l> {
    pub(super) fn tcp_routers(
        &mut self,
        routers: &'l BTreeMap<String, TcpRouter>,
        services: &mut Names<'l>,
        middlewares: &mut Names<'l>,
        tls_options: &mut Names<'l>,
    ) {
        const S: Section = Section::TcpRouter;
        for (name, router) in routers {
            let name = name.as_str();
            match router.rule.as_deref() {
                None => {
                    let d = Diagnostic::error(
                        "SY3211",
                        format!("TCP router `{name}` has no rule: Traefik v3 refuses it, so it serves nothing"),
                    )
                    .hint("add a rule such as rule: HostSNI(`example.com`) (or HostSNI(`*`) without TLS)");
                    self.emit(d, S, name, &[], Aim::Key);
                }
                Some(_) if router.rule_syntax.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("v2")) => {}
                Some(rule) => {
                    if let Some((code, column, message, hints)) = tcp_rule(rule) {
                        let mut d = Diagnostic::error(code, message);
                        d.hints = hints;
                        self.rule_problem(d, S, name, rule, column);
                    }
                }
            }
            match router.service.as_deref() {
                None => {
                    let d =
                        Diagnostic::error("SY3212", format!("TCP router `{name}` has no service: Traefik disables it"))
                            .hint("add `service: <name>`, naming a service of `tcp.services`");
                    self.emit(d, S, name, &[], Aim::Key);
                }
                Some(service) => {
                    let site = Site { section: S, name, steps: &[K("service")] };
                    if self.resolve(Section::TcpService, services, service, site) == Target::Missing {
                        let message = format!(
                            "TCP router `{name}` uses service `{service}`, which is not defined: Traefik disables \
                             the router, and the connections it would take are not routed"
                        );
                        self.missing("SY3201", Section::TcpService, service, message, site);
                    }
                }
            }
            for (i, middleware) in router.middlewares.iter().flatten().enumerate() {
                let steps = [K("middlewares"), I(i)];
                let site = Site { section: S, name, steps: &steps };
                if self.resolve(Section::TcpMiddleware, middlewares, middleware, site) == Target::Missing {
                    let message = format!(
                        "TCP router `{name}` uses middleware `{middleware}`, which is not defined: Traefik disables \
                         the router"
                    );
                    self.missing("SY3202", Section::TcpMiddleware, middleware, message, site);
                }
            }
            if let Some(options) = router.tls.as_ref().and_then(|t| t.options.as_ref()) {
                self.tls_options(S, name, options, tls_options);
            }
        }
    }

    pub(super) fn tcp_services(
        &mut self,
        services: &'l BTreeMap<String, TcpService>,
        names: &mut Names<'l>,
        transports: &mut Names<'l>,
    ) {
        const S: Section = Section::TcpService;
        let mut edges: Vec<(u32, u32)> = Vec::new();
        for (index, (name, service)) in services.iter().enumerate() {
            let name = name.as_str();
            let kinds = [service.load_balancer.is_some(), service.weighted.is_some()];
            self.kinds(S, name, &kinds, "`loadBalancer` or `weighted`");
            if let Some(lb) = &service.load_balancer {
                let addresses: Vec<Option<&str>> = lb.servers.iter().flatten().map(|s| s.address.as_deref()).collect();
                self.addresses(S, name, lb.servers.is_some(), &addresses);
                if let Some(transport) = lb.servers_transport.as_deref() {
                    let steps = [K("loadBalancer"), K("serversTransport")];
                    let site = Site { section: S, name, steps: &steps };
                    if self.resolve(Section::TcpServersTransport, transports, transport, site) == Target::Missing {
                        let message = format!(
                            "TCP service `{name}` uses servers transport `{transport}`, which is not defined: \
                             Traefik cannot build the service"
                        );
                        self.missing("SY3207", Section::TcpServersTransport, transport, message, site);
                    }
                }
            }
            if let Some(w) = &service.weighted {
                let mut children = Vec::new();
                let list = w.services.as_deref().unwrap_or_default();
                self.weighted_children(S, name, "weighted", list, names, &mut children, false);
                for (target, _, _) in children {
                    if let Target::Local(to) = target {
                        edges.push((u32::try_from(index).unwrap_or(u32::MAX), u32::try_from(to).unwrap_or(u32::MAX)));
                    }
                }
            }
        }
        self.cycles(S, &names.names, edges, "TCP services");
    }

    pub(super) fn udp_routers(&mut self, routers: &'l BTreeMap<String, UdpRouter>, services: &mut Names<'l>) {
        const S: Section = Section::UdpRouter;
        for (name, router) in routers {
            let name = name.as_str();
            match router.service.as_deref() {
                None => {
                    let d =
                        Diagnostic::error("SY3212", format!("UDP router `{name}` has no service: Traefik disables it"))
                            .hint("add `service: <name>`, naming a service of `udp.services`");
                    self.emit(d, S, name, &[], Aim::Key);
                }
                Some(service) => {
                    let site = Site { section: S, name, steps: &[K("service")] };
                    if self.resolve(Section::UdpService, services, service, site) == Target::Missing {
                        let message = format!(
                            "UDP router `{name}` uses service `{service}`, which is not defined: Traefik disables \
                             the router"
                        );
                        self.missing("SY3201", Section::UdpService, service, message, site);
                    }
                }
            }
        }
    }

    pub(super) fn udp_services(&mut self, services: &'l BTreeMap<String, UdpService>, names: &mut Names<'l>) {
        const S: Section = Section::UdpService;
        let mut edges: Vec<(u32, u32)> = Vec::new();
        for (index, (name, service)) in services.iter().enumerate() {
            let name = name.as_str();
            let kinds = [service.load_balancer.is_some(), service.weighted.is_some()];
            self.kinds(S, name, &kinds, "`loadBalancer` or `weighted`");
            if let Some(lb) = &service.load_balancer {
                let addresses: Vec<Option<&str>> = lb.servers.iter().flatten().map(|s| s.address.as_deref()).collect();
                self.addresses(S, name, lb.servers.is_some(), &addresses);
            }
            if let Some(w) = &service.weighted {
                let mut children = Vec::new();
                let list = w.services.as_deref().unwrap_or_default();
                self.weighted_children(S, name, "weighted", list, names, &mut children, false);
                for (target, _, _) in children {
                    if let Target::Local(to) = target {
                        edges.push((u32::try_from(index).unwrap_or(u32::MAX), u32::try_from(to).unwrap_or(u32::MAX)));
                    }
                }
            }
        }
        self.cycles(S, &names.names, edges, "UDP services");
    }

    /// SY3307 and SY3308 for TCP and UDP load balancers.
    pub(super) fn addresses(&mut self, section: Section, name: &'l str, written: bool, addresses: &[Option<&str>]) {
        if addresses.is_empty() {
            let d = Diagnostic::error(
                "SY3307",
                format!("the load balancer of {} `{name}` has no servers: nothing can be forwarded", section.label()),
            )
            .hint("add `servers: [{address: \"host:port\"}]`");
            let steps: &[Step<'_>] = if written { &[K("loadBalancer"), K("servers")] } else { &[K("loadBalancer")] };
            self.emit(d, section, name, steps, Aim::Key);
        }
        for (i, address) in addresses.iter().enumerate() {
            let problem = match address {
                None => Some("it has no `address`".to_string()),
                Some(a) => check_address(a).err().map(|why| format!("`{a}` {why}")),
            };
            if let Some(why) = problem {
                let d = Diagnostic::error(
                    "SY3308",
                    format!("server {i} of {} `{name}` is not valid: {why}", section.label()),
                )
                .hint("write `address: host:port` (IPv6 in brackets: `[::1]:53`)");
                let steps = [K("loadBalancer"), K("servers"), I(i), K("address")];
                self.emit(d, section, name, &steps, Aim::Value);
            }
        }
    }
}

/// A minimal check of a TCP rule: not empty, strings closed, known matcher names. `(code, column, message,
/// hints)` of the first problem.
pub(super) fn tcp_rule(rule: &str) -> Option<(&'static str, usize, String, Vec<String>)> {
    let column = |at: usize| rule[..at].chars().count() + 1;
    if rule.trim().is_empty() {
        return Some((
            "SY3114",
            1,
            "column 1: the rule is empty; write at least one matcher, such as HostSNI(`example.com`)".to_string(),
            Vec::new(),
        ));
    }
    let bytes = rule.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'`' || c == b'"' {
            let close = rule[i + 1..].find(if c == b'`' { '`' } else { '"' });
            match close {
                Some(len) => i += len + 2,
                None => {
                    let col = column(i);
                    return Some(("SY3110", col, format!("column {col}: string not terminated; close it"), Vec::new()));
                }
            }
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            let end = rule[i..].find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).map_or(rule.len(), |l| i + l);
            let word = &rule[i..end];
            let known = TCP_MATCHERS.iter().any(|m| {
                let lower = m.to_ascii_lowercase();
                word == *m
                    || word == lower
                    || word == m.to_ascii_uppercase()
                    || (word.len() == m.len() && word[..1] == m[..1] && word[1..] == lower[1..])
            });
            if !known && rule[end..].trim_start().starts_with('(') {
                let col = column(i);
                let mut hints = Vec::new();
                if let Some(kind) = MatcherKind::from_name(word) {
                    hints.push(match kind {
                        MatcherKind::Host => "TCP routers match the TLS server name: use HostSNI".to_string(),
                        MatcherKind::HostRegexp => "TCP routers use HostSNIRegexp".to_string(),
                        _ => format!("{word} is an HTTP matcher: it has no meaning for TCP"),
                    });
                } else if let Some(m) = did_you_mean(word, TCP_MATCHERS) {
                    hints.push(format!("did you mean {m}?"));
                }
                return Some((
                    "SY3102",
                    col,
                    format!("column {col}: unknown matcher `{word}`; TCP rules use {}", TCP_MATCHERS.join(", ")),
                    hints,
                ));
            }
            i = end;
            continue;
        }
        i += 1;
    }
    None
}

/// The matchers of Traefik v3 TCP rules.
const TCP_MATCHERS: [&str; 4] = ["HostSNI", "HostSNIRegexp", "ClientIP", "ALPN"];
