//! References between definitions, resolved as Traefik resolves `name@provider` names: what is missing, what
//! nothing uses, cycles, definitions of no kind or several (SY32xx).

use std::collections::{BTreeMap, BTreeSet};

use crate::dynamic::Section;
use switchyard_diagnostics::{Diagnostic, did_you_mean};

use super::*;

impl<'l> Validator<'l> {
    /// Resolves `reference` among `names` (of section `target`), marking it used; records references to other
    /// providers. Missing references are for the caller to report (with [`Self::missing`]).
    pub(super) fn resolve(
        &mut self,
        target: Section,
        names: &mut Names<'l>,
        reference: &'l str,
        site: Site<'_, 'l>,
    ) -> Target {
        let (name, provider) = split_reference(reference);
        if provider.is_some() {
            let entry = self.external.entry((target, reference)).or_insert((0, None, String::new()));
            entry.0 += 1;
            if entry.0 == 1 {
                let (_, at, path) = self.place(site.section, site.name, site.steps, Aim::Value);
                let entry = self.external.get_mut(&(target, reference)).expect("just inserted");
                entry.1 = (at.line > 0).then_some(at);
                entry.2 = path;
            }
            return Target::External;
        }
        if let Some(i) = names.find(name) {
            names.used[i] = true;
            return Target::Local(i);
        }
        if self.loaded.origins.contains_key(&(target, name.to_string())) {
            return Target::Invalid;
        }
        Target::Missing
    }

    /// Reports a missing reference with a did-you-mean hint among the names defined in `target`.
    pub(super) fn missing(
        &mut self,
        code: &'static str,
        target: Section,
        reference: &str,
        message: String,
        site: Site<'_, 'l>,
    ) {
        let (name, _) = split_reference(reference);
        let mut d = Diagnostic::error(code, message);
        let suggestion = if self.suggestions < SUGGESTION_BUDGET {
            self.suggestions += 1;
            let defined = self
                .loaded
                .origins
                .range((target, String::new())..)
                .take_while(|((s, _), _)| *s == target)
                .map(|((_, n), _)| n.as_str())
                .filter(|c| c.len().abs_diff(name.len()) <= 2.max(c.len() / 3));
            did_you_mean(name, defined).map(str::to_string)
        } else {
            None
        };
        let [a, b] = target.keys();
        d = match suggestion {
            Some(s) => d.hint(format!("did you mean `{s}`?")),
            None => d.hint(format!(
                "define `{name}` under `{a}.{b}`, or name a definition of another provider as `{name}@provider`"
            )),
        };
        self.emit(d, site.section, site.name, site.steps, Aim::Value);
    }

    /// The routers that use service `name` (a local name), for messages.
    pub(super) fn users(&self, section: Section, name: &str) -> Vec<&'l str> {
        let loaded = self.loaded;
        let users = self.users.get_or_init(|| {
            let mut users: BTreeMap<(Section, &'l str), Vec<&'l str>> = BTreeMap::new();
            let config = &loaded.config;
            let mut add = |section, router: &'l str, service: Option<&'l String>| {
                if let Some(service) = service
                    && let (name, None) = split_reference(service)
                {
                    users.entry((section, name)).or_default().push(router);
                }
            };
            for (r, router) in config.http.iter().flat_map(|h| h.routers.iter().flatten()) {
                add(Section::HttpService, r.as_str(), router.service.as_ref());
            }
            for (r, router) in config.tcp.iter().flat_map(|t| t.routers.iter().flatten()) {
                add(Section::TcpService, r.as_str(), router.service.as_ref());
            }
            for (r, router) in config.udp.iter().flat_map(|u| u.routers.iter().flatten()) {
                add(Section::UdpService, r.as_str(), router.service.as_ref());
            }
            users
        });
        users.get(&(section, name)).cloned().unwrap_or_default()
    }

    pub(super) fn disabled_routers(&self, section: Section, name: &str) -> String {
        let users = self.users(section, name);
        if users.is_empty() { String::new() } else { format!(" (routers {})", list(&users, 3)) }
    }

    pub(super) fn externals(&mut self) {
        for ((target, reference), (count, at, path)) in std::mem::take(&mut self.external) {
            let (name, provider) = split_reference(reference);
            let provider = provider.unwrap_or("file");
            let times = if count == 1 { String::new() } else { format!(" ({count} references)") };
            let mut d = Diagnostic::info(
                "SY3208",
                format!(
                    "{} `{name}` of provider `{provider}`{times} is not checked here: only the files given are \
                     known",
                    target.label()
                ),
            )
            .at(path)
            .hint(format!("make sure provider `{provider}` defines `{name}`, or Traefik disables what uses it"));
            d.location = at;
            self.out.push(d);
        }
    }

    pub(super) fn unused(&mut self, section: Section, names: &Names<'l>) {
        let unused: Vec<&str> = names.names.iter().zip(&names.used).filter(|(_, u)| !**u).map(|(n, _)| *n).collect();
        for name in unused {
            let d = Diagnostic::info(
                "SY3210",
                format!(
                    "{} `{name}` is used by no router, service or middleware of these files: Traefik builds it \
                     only if something refers to it",
                    section.label()
                ),
            )
            .hint(format!("remove it if it is left over, or check the routers that should use it (another provider can refer to it as `{name}@file`)"));
            self.emit(d, section, name, &[], Aim::Key);
        }
    }

    /// SY3213: exactly one kind.
    pub(super) fn kinds(&mut self, section: Section, name: &str, kinds: &[bool], expected: &str) {
        let count = kinds.iter().filter(|k| **k).count();
        if count == 1 {
            return;
        }
        let what = if section == Section::HttpMiddleware || section == Section::TcpMiddleware {
            "middleware"
        } else {
            "service"
        };
        let d = if count == 0 {
            Diagnostic::error(
                "SY3213",
                format!("{} `{name}` defines no {what} kind: Traefik cannot build it", section.label()),
            )
            .hint(format!("give it one of {expected}"))
        } else {
            Diagnostic::error(
                "SY3213",
                format!(
                    "{} `{name}` defines {count} kinds at once: Traefik refuses to build it (\"multi-types {what} \
                     not supported\")",
                    section.label()
                ),
            )
            .hint(format!("split it into {count} {what}s, one kind each"))
        };
        self.emit(d, section, name, &[], Aim::Key);
    }

    /// SY3209: cycles in a graph of definitions (indices into `names`).
    pub(super) fn cycles(&mut self, section: Section, names: &[&'l str], mut edges: Vec<(u32, u32)>, what: &str) {
        if edges.is_empty() {
            return;
        }
        edges.sort_unstable();
        edges.dedup();
        let n = names.len();
        // Adjacency in compressed form.
        let mut start = vec![0usize; n + 1];
        for &(from, _) in &edges {
            start[from as usize + 1] += 1;
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        // 0 = unseen, 1 = on the stack, 2 = done.
        let mut state = vec![0u8; n];
        let mut seen_cycles: BTreeSet<Vec<usize>> = BTreeSet::new();
        for root in 0..n {
            if state[root] != 0 || start[root] == start[root + 1] {
                continue;
            }
            // (node, next edge to follow)
            let mut stack: Vec<(usize, usize)> = vec![(root, start[root])];
            state[root] = 1;
            while let Some(&mut (v, ref mut e)) = stack.last_mut() {
                if *e < start[v + 1] {
                    let to = edges[*e].1 as usize;
                    *e += 1;
                    match state[to] {
                        0 => {
                            state[to] = 1;
                            stack.push((to, start[to]));
                        }
                        1 => {
                            let from = stack.iter().position(|(x, _)| *x == to).unwrap_or(0);
                            let mut cycle: Vec<usize> = stack[from..].iter().map(|(x, _)| *x).collect();
                            let min = cycle.iter().enumerate().min_by_key(|(_, x)| **x).map_or(0, |(i, _)| i);
                            cycle.rotate_left(min);
                            seen_cycles.insert(cycle);
                        }
                        _ => {}
                    }
                } else {
                    state[v] = 2;
                    stack.pop();
                }
            }
        }
        for cycle in seen_cycles.into_iter().take(100) {
            let head = names[cycle[0]];
            let mut chain: Vec<&str> = cycle.iter().map(|i| names[*i]).collect();
            chain.push(head);
            let chain = chain.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(" → ");
            let d = Diagnostic::error(
                "SY3209",
                format!(
                    "{what} contain each other: {chain}; Traefik cannot build them, and disables every router that \
                     uses one of them"
                ),
            )
            .hint("break the cycle: a child must eventually be a load balancer (or a middleware that is not a chain)");
            self.emit(d, section, head, &[], Aim::Key);
        }
    }
}
