//! HTTP routers: their rules, services, middlewares and TLS options, and their priorities: equal priorities,
//! overlapping rules, shadowed routers (SY3304-SY3306, SY3309).

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use crate::dynamic::Section;
use crate::dynamic::model::Router;
use crate::rules::{self, Expr, MatcherKind};
use switchyard_diagnostics::Diagnostic;

use super::*;

impl<'l> Validator<'l> {
    pub(super) fn http_routers(
        &mut self,
        routers: &'l BTreeMap<String, Router>,
        services: &mut Names<'l>,
        middlewares: &mut Names<'l>,
        tls_options: &mut Names<'l>,
    ) {
        const S: Section = Section::HttpRouter;
        let mut infos: Vec<RouterInfo<'l>> = Vec::with_capacity(routers.len());
        let mut hosts: Vec<(Cow<'l, str>, u32)> = Vec::with_capacity(routers.len());
        for (name, router) in routers {
            let name = name.as_str();
            match &router.rule {
                None => {
                    let d = Diagnostic::error(
                        "SY3211",
                        format!("HTTP router `{name}` has no rule: Traefik v3 refuses it, so it serves nothing"),
                    )
                    .hint("add a rule such as rule: Host(`example.com`)");
                    self.emit(d, S, name, &[], Aim::Key);
                }
                // A v2 rule is parsed by Traefik's v2 parser (SY3005 already flags `ruleSyntax`).
                Some(_) if router.rule_syntax.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("v2")) => {}
                Some(rule) => match rules::parse(rule) {
                    Err(e) if e.traefik_accepts() => {
                        let d = Diagnostic::warning(e.code, e.message.clone());
                        self.rule_problem(d, S, name, rule, e.column);
                    }
                    Err(e) => {
                        let mut d = Diagnostic::error(e.code, e.message.clone());
                        d.hints = e.hints.clone();
                        d.hints.push(format!("Traefik cannot build HTTP router `{name}`: it serves nothing"));
                        self.rule_problem(d, S, name, rule, e.column);
                    }
                    Ok(parsed) => {
                        for lint in rules::lint(&parsed, rule) {
                            let mut d = Diagnostic::warning(lint.code, lint.message);
                            d.hints = lint.hints;
                            self.rule_problem(d, S, name, rule, lint.column);
                        }
                        let index = u32::try_from(infos.len()).unwrap_or(u32::MAX);
                        let before = hosts.len();
                        if !host_values(&parsed.expr, rule, index, &mut hosts) {
                            hosts.truncate(before);
                        }
                        let explicit = router.priority.filter(|p| *p != 0);
                        infos.push(RouterInfo {
                            name,
                            rule,
                            priority: explicit.unwrap_or_else(|| rules::default_priority(rule)),
                            explicit: explicit.is_some(),
                            tls: router.tls.is_some(),
                            entry_points: router.entry_points.as_deref(),
                        });
                    }
                },
            }
            match &router.service {
                None => {
                    let d = Diagnostic::error(
                        "SY3212",
                        format!(
                            "HTTP router `{name}` has no service: Traefik disables it, and requests it would match \
                             get 404"
                        ),
                    )
                    .hint("add `service: <name>`, naming a service of `http.services` or another provider's (`api@internal`)");
                    self.emit(d, S, name, &[], Aim::Key);
                }
                Some(service) => {
                    let site = Site { section: S, name, steps: &[K("service")] };
                    if self.resolve(Section::HttpService, services, service, site) == Target::Missing {
                        let message = format!(
                            "HTTP router `{name}` uses service `{service}`, which is not defined: Traefik disables \
                             the router, and requests it would match get 404"
                        );
                        self.missing("SY3201", Section::HttpService, service, message, site);
                    }
                }
            }
            for (i, middleware) in router.middlewares.iter().flatten().enumerate() {
                let steps = [K("middlewares"), I(i)];
                let site = Site { section: S, name, steps: &steps };
                if self.resolve(Section::HttpMiddleware, middlewares, middleware, site) == Target::Missing {
                    let message = format!(
                        "HTTP router `{name}` uses middleware `{middleware}`, which is not defined: Traefik \
                         disables the router, and requests it would match get 404"
                    );
                    self.missing("SY3202", Section::HttpMiddleware, middleware, message, site);
                }
            }
            if let Some(options) = router.tls.as_ref().and_then(|t| t.options.as_ref()) {
                self.tls_options(S, name, options, tls_options);
            }
        }
        self.priorities(&infos, hosts);
    }

    pub(super) fn tls_options(
        &mut self,
        section: Section,
        name: &'l str,
        options: &'l str,
        tls_options: &mut Names<'l>,
    ) {
        if split_reference(options) == ("default", None) {
            return;
        }
        let site = Site { section, name, steps: &[K("tls"), K("options")] };
        if self.resolve(Section::TlsOptions, tls_options, options, site) == Target::Missing {
            let message = format!(
                "{} `{name}` uses TLS options `{options}`, which are not defined: Traefik disables the router",
                section.label()
            );
            self.missing("SY3205", Section::TlsOptions, options, message, site);
        }
    }

    /// SY3304, SY3305, SY3306, SY3309: routers that can match the same request. Only routers that name the same
    /// literal host are compared (cheap and conservative), and only when both use TLS or neither does (Traefik
    /// routes TLS and plain requests separately) and their entry points overlap.
    pub(super) fn priorities(&mut self, infos: &[RouterInfo<'l>], mut hosts: Vec<(Cow<'l, str>, u32)>) {
        hosts.sort_unstable();
        let mut pairs: BTreeSet<(u32, u32)> = BTreeSet::new();
        let mut start = 0;
        while start < hosts.len() {
            let mut end = start + 1;
            while end < hosts.len() && hosts[end].0 == hosts[start].0 {
                end += 1;
            }
            let group = &hosts[start..end];
            for (n, (_, a)) in group.iter().enumerate() {
                for (_, b) in &group[n + 1..] {
                    if a != b {
                        pairs.insert((*a.min(b), *a.max(b)));
                    }
                }
            }
            start = end;
        }
        if pairs.is_empty() {
            return;
        }
        // The rules of the routers involved, parsed again (they parsed the first time).
        let mut parsed: BTreeMap<u32, rules::Rule> = BTreeMap::new();
        for &(a, b) in &pairs {
            for i in [a, b] {
                if let std::collections::btree_map::Entry::Vacant(e) = parsed.entry(i)
                    && let Ok(rule) = rules::parse(infos[i as usize].rule)
                {
                    e.insert(rule);
                }
            }
        }
        // Per reported router and code: the other routers.
        let mut found: BTreeMap<(u32, &'static str), Vec<u32>> = BTreeMap::new();
        for (a, b) in pairs {
            let (ra, rb) = (&infos[a as usize], &infos[b as usize]);
            let (Some(pa), Some(pb)) = (parsed.get(&a), parsed.get(&b)) else { continue };
            if ra.tls != rb.tls || !overlap(ra.entry_points, rb.entry_points) || disjoint(&pa.expr, &pb.expr) {
                continue;
            }
            // Report on the later definition (in file order), or on the one that loses.
            let (first, second) = if self.order(ra.name) <= self.order(rb.name) { (a, b) } else { (b, a) };
            let same_rule = same_rule(&pa.expr, &pb.expr);
            if same_rule && ra.priority == rb.priority {
                found.entry((second, "SY3304")).or_default().push(first);
            } else if same_rule {
                let (winner, loser) = if ra.priority > rb.priority { (a, b) } else { (b, a) };
                found.entry((loser, "SY3309")).or_default().push(winner);
            } else if ra.priority == rb.priority {
                found.entry((second, "SY3305")).or_default().push(first);
            } else if !(ra.explicit && rb.explicit) {
                found.entry((second, "SY3306")).or_default().push(first);
            }
        }
        for ((index, code), others) in found {
            let r = &infos[index as usize];
            let other_names: Vec<&str> = others.iter().map(|o| infos[*o as usize].name).collect();
            let first = &infos[others[0] as usize];
            let names = list(&other_names, 3);
            let d = match code {
                "SY3304" => Diagnostic::warning(
                    "SY3304",
                    format!(
                        "HTTP router `{}` has the same rule and the same priority ({}) as {names} on the same entry \
                         points: only one of them gets the requests, and which one depends on Traefik's internal \
                         order",
                        r.name, r.priority
                    ),
                )
                .hint("remove the duplicate, or give the router that must win a higher explicit `priority`"),
                "SY3309" => Diagnostic::warning(
                    "SY3309",
                    format!(
                        "HTTP router `{}` never gets a request on the entry points it shares with {names}: same \
                         rule, higher priority ({} > {})",
                        r.name, first.priority, r.priority
                    ),
                )
                .hint("remove the router that is left over, or change its rule"),
                "SY3305" => Diagnostic::warning(
                    "SY3305",
                    format!(
                        "HTTP router `{}` and {names} can match the same requests (same host) with the same \
                         priority ({}): which one wins depends on Traefik's internal order",
                        r.name, r.priority
                    ),
                )
                .hint("give the more specific router a higher explicit `priority`"),
                _ => Diagnostic::info(
                    "SY3306",
                    format!(
                        "HTTP router `{}` and {names} can match the same requests (same host); with the default \
                         priority, the longer rule wins (`{}`: {}, `{}`: {}), and editing a rule can change that",
                        r.name, r.name, r.priority, first.name, first.priority
                    ),
                )
                .hint("set an explicit `priority` on each of them (higher for the more specific rule)"),
            };
            self.emit(d, Section::HttpRouter, r.name, &[K("rule")], Aim::Value);
        }
    }

    /// A definition's place in Traefik's order (file, line).
    pub(super) fn order(&self, name: &str) -> (usize, usize) {
        let Some(origin) = self.loaded.origin(Section::HttpRouter, name) else { return (usize::MAX, 0) };
        let file = self.loaded.files.iter().position(|f| f.name == origin.file).unwrap_or(usize::MAX);
        (file, origin.line)
    }
}

/// What the priority checks need of an HTTP router whose rule parses.
pub(super) struct RouterInfo<'l> {
    pub(super) name: &'l str,
    pub(super) rule: &'l str,
    /// Effective priority: explicit, else the rule's length.
    pub(super) priority: i64,
    pub(super) explicit: bool,
    pub(super) tls: bool,
    pub(super) entry_points: Option<&'l [String]>,
}

/// Entry points overlap; a router without entry points listens on all (default) entry points.
pub(super) fn overlap(a: Option<&[String]>, b: Option<&[String]>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) if !a.is_empty() && !b.is_empty() => a.iter().any(|x| b.contains(x)),
        _ => true,
    }
}

/// Adds to `out` the literal hosts a request must have to match `expr` (lowercased), tagged `index`; false when
/// any host can match (what was added must then be dropped). The values are borrowed from `rule` when written
/// there verbatim.
pub(super) fn host_values<'r>(expr: &Expr, rule: &'r str, index: u32, out: &mut Vec<(Cow<'r, str>, u32)>) -> bool {
    match expr {
        Expr::Matcher(m) if m.kind == MatcherKind::Host => {
            let Some(arg) = m.args.first() else { return false };
            let raw = rule.get(arg.span.0 + 1..arg.span.1.saturating_sub(1)).filter(|r| *r == arg.value);
            let value: Cow<'r, str> = match raw {
                Some(r) if !r.bytes().any(|b| b.is_ascii_uppercase()) => Cow::Borrowed(r),
                _ => Cow::Owned(arg.value.to_ascii_lowercase()),
            };
            out.push((value, index));
            true
        }
        Expr::And(items) => {
            for item in items {
                let before = out.len();
                if host_values(item, rule, index, out) {
                    return true;
                }
                out.truncate(before);
            }
            false
        }
        Expr::Or(items) => items.iter().all(|item| host_values(item, rule, index, out)),
        _ => false,
    }
}

/// The same rule, hosts and methods compared without case (as Traefik matches them).
pub(super) fn same_rule(a: &Expr, b: &Expr) -> bool {
    match (a, b) {
        (Expr::Matcher(x), Expr::Matcher(y)) => {
            x.kind == y.kind
                && x.args.len() == y.args.len()
                && x.args.iter().zip(&y.args).all(|(p, q)| match x.kind {
                    MatcherKind::Host | MatcherKind::Method => p.value.eq_ignore_ascii_case(&q.value),
                    _ => p.value == q.value,
                })
        }
        (Expr::Not(x), Expr::Not(y)) => same_rule(x, y),
        (Expr::And(x), Expr::And(y)) | (Expr::Or(x), Expr::Or(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_rule(p, q))
        }
        _ => false,
    }
}

/// True when no request can match both rules, judged from the matchers both require (`Host`, `Path`,
/// `PathPrefix`, `Method` at the top of an `&&`); false when unsure.
pub(super) fn disjoint(a: &Expr, b: &Expr) -> bool {
    pub(super) fn conjuncts(e: &Expr) -> &[Expr] {
        match e {
            Expr::And(items) => items,
            other => std::slice::from_ref(other),
        }
    }
    for x in conjuncts(a) {
        let Expr::Matcher(x) = x else { continue };
        for y in conjuncts(b) {
            let Expr::Matcher(y) = y else { continue };
            let (p, q) = (x.arg(0), y.arg(0));
            let apart = match (x.kind, y.kind) {
                (MatcherKind::Host, MatcherKind::Host) | (MatcherKind::Method, MatcherKind::Method) => {
                    !p.eq_ignore_ascii_case(q)
                }
                (MatcherKind::Path, MatcherKind::Path) => p != q,
                (MatcherKind::Path, MatcherKind::PathPrefix) => !p.starts_with(q),
                (MatcherKind::PathPrefix, MatcherKind::Path) => !q.starts_with(p),
                (MatcherKind::PathPrefix, MatcherKind::PathPrefix) => !p.starts_with(q) && !q.starts_with(p),
                _ => false,
            };
            if apart {
                return true;
            }
        }
    }
    false
}
