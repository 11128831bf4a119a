//! What every configuration switchyard generates must satisfy. The renderer checks its own output with this,
//! and the property tests check it over random sequences of transitions.

use std::collections::BTreeMap;

use crate::names::is_safe_traefik_name;
use crate::traefik::RenderedConfig;

/// Every violated invariant, in words; empty when the configuration is sound.
pub fn violations(config: &RenderedConfig) -> Vec<String> {
    let mut problems = Vec::new();
    let mut rules: BTreeMap<(&str, u32), &str> = BTreeMap::new();
    for (name, router) in config.routers() {
        if !is_safe_traefik_name(name) {
            problems.push(format!("router name {name:?} is not a plain name (no '@', no dots)"));
        }
        if config.service(&router.service).is_none() {
            problems.push(format!("router {name} points at the missing service {}", router.service));
        }
        if router.priority == 0 {
            problems.push(format!("router {name} relies on Traefik's default priority"));
        }
        if !is_generated_rule(&router.rule) {
            problems.push(format!("router {name} has a rule outside the generated grammar: {:?}", router.rule));
        }
        if let Some(other) = rules.insert((router.rule.as_str(), router.priority), name) {
            problems.push(format!("routers {other} and {name} have the same rule and priority"));
        }
    }
    for (name, service) in config.services() {
        if !is_safe_traefik_name(name) {
            problems.push(format!("service name {name:?} is not a plain name (no '@', no dots)"));
        }
        match (&service.load_balancer, &service.weighted) {
            (Some(lb), None) => {
                if lb.servers.is_empty() {
                    problems.push(format!("service {name} has no servers"));
                }
            }
            (None, Some(w)) => {
                if w.services.is_empty() {
                    problems.push(format!("weighted service {name} has no children"));
                }
                for child in &w.services {
                    if child.weight == 0 {
                        problems.push(format!("weighted service {name} gives {} weight 0", child.name));
                    }
                    match config.service(&child.name) {
                        None => problems
                            .push(format!("weighted service {name} refers to the missing service {}", child.name)),
                        Some(c) if w.health_check.is_some() => {
                            let reports = c.load_balancer.as_ref().is_some_and(|lb| lb.health_check.is_some())
                                || c.weighted.as_ref().is_some_and(|w| w.health_check.is_some());
                            if !reports {
                                problems.push(format!(
                                    "weighted service {name} has healthCheck but its child {} cannot report health",
                                    child.name
                                ));
                            }
                        }
                        Some(_) => {}
                    }
                }
            }
            _ => problems.push(format!("service {name} must have exactly one kind")),
        }
    }
    problems
}

/// `Host(`h`)` optionally followed by ` && PathPrefix(`/p`)`, with only hostname and path characters inside
/// the literals: nothing that could close a literal or add a matcher.
fn is_generated_rule(rule: &str) -> bool {
    let Some(rest) = rule.strip_prefix("Host(`") else { return false };
    let Some((host, rest)) = rest.split_once("`)") else { return false };
    if crate::names::check_hostname(host).is_err() {
        return false;
    }
    if rest.is_empty() {
        return true;
    }
    let Some(rest) = rest.strip_prefix(" && PathPrefix(`") else { return false };
    let Some(path) = rest.strip_suffix("`)") else { return false };
    crate::names::check_url_path(path, false).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_rule_grammar() {
        assert!(is_generated_rule("Host(`a.example.com`)"));
        assert!(is_generated_rule("Host(`a.example.com`) && PathPrefix(`/api`)"));
        assert!(!is_generated_rule("Host(`a.example.com`) || Host(`evil.com`)"));
        assert!(!is_generated_rule("Host(`a`) && PathPrefix(`/x`) || Path(`/`)"));
        assert!(!is_generated_rule("Host(`a`b`)"));
    }
}
