//! The services' dependencies: cycles, services blocked by them, and the order to start them in.

use std::collections::{BTreeMap, BTreeSet};

use crate::types::*;

pub(crate) fn known_deps<'a>(services: &'a BTreeMap<String, Service>, s: &'a Service) -> impl Iterator<Item = &'a str> {
    s.depends_on.iter().map(|d| d.service.as_str()).filter(|d| services.contains_key(*d))
}

/// Every dependency cycle, each once, starting at its smallest name... as found from the smallest start.
pub(crate) fn cycles(services: &BTreeMap<String, Service>) -> Vec<Vec<String>> {
    let leftover = blocked(services);
    let mut visited: BTreeSet<&str> = BTreeSet::new();
    let mut found = Vec::new();
    for start in &leftover {
        let mut path: Vec<&str> = Vec::new();
        let mut node: &str = start;
        loop {
            if let Some(pos) = path.iter().position(|n| *n == node) {
                found.push(path[pos..].iter().map(|s| s.to_string()).collect());
                break;
            }
            if !visited.insert(node) {
                break;
            }
            path.push(node);
            let Some(s) = services.get(node) else { break };
            match known_deps(services, s).find(|d| leftover.contains(*d)) {
                Some(next) => node = next,
                None => break,
            }
        }
    }
    found
}

/// Services that cannot start because of a cycle (in one or downstream of one).
pub(crate) fn blocked(services: &BTreeMap<String, Service>) -> BTreeSet<&str> {
    let order = start_order(services);
    let placed: BTreeSet<&str> = order.iter().map(String::as_str).collect();
    services.keys().map(String::as_str).filter(|s| !placed.contains(s)).collect()
}

/// Kahn's algorithm: a service comes after its (known) dependencies; among those ready, the smallest name first.
/// Services in or behind a cycle are left out.
pub(crate) fn start_order(services: &BTreeMap<String, Service>) -> Vec<String> {
    let mut waiting: BTreeMap<&str, usize> = BTreeMap::new();
    let mut dependents: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (name, s) in services {
        let deps: BTreeSet<&str> = known_deps(services, s).collect();
        waiting.insert(name, deps.len());
        for d in deps {
            dependents.entry(d).or_default().push(name);
        }
    }
    let mut ready: BTreeSet<&str> = waiting.iter().filter(|(_, n)| **n == 0).map(|(s, _)| *s).collect();
    let mut order = Vec::with_capacity(services.len());
    while let Some(next) = ready.pop_first() {
        order.push(next.to_string());
        for d in dependents.get(next).map(Vec::as_slice).unwrap_or_default() {
            if let Some(n) = waiting.get_mut(d) {
                *n -= 1;
                if *n == 0 {
                    ready.insert(d);
                }
            }
        }
    }
    order
}
