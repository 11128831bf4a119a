//! From a spec and an environment's state to Traefik dynamic configuration.
//!
//! Per routed compose service of an app in an environment:
//! - a `loadBalancer` service per deployed version, with the spec's active health check;
//! - a preview router per version (`v1-2-0-whoami.dev.example.com`);
//! - a slot router per filled slot (`blue-whoami.dev.example.com`);
//! - once something is live, a production router to a `weighted` service with `healthCheck: {}` whose
//!   children are the live slot and, during a promotion, the candidate slot with its share. The idle slot is
//!   left out, never given weight 0. Sticky cookies only during a split.

use serde::Serialize;

use crate::hosts::{HostError, HostFor, route_host};
use crate::invariants;
use crate::naming;
use crate::spec::{Environment, Route};
use crate::state::{Deployment, EnvState, Slot};
use crate::traefik::{
    ActiveHealthCheck, Cookie, Empty, Http, LoadBalancer, RenderedConfig, Router, RouterTls, Server, Service, Sticky,
    Weighted, WeightedChild,
};
use crate::traefik_yaml;
use crate::valid_spec::ValidSpec;
use switchyard_diagnostics::Diagnostic;

/// Every generated router's priority starts here, far above Traefik's default (the rule's length), so a
/// user's own catch-all router never shadows ours; a longer path prefix adds to it so it wins on its host.
pub const BASE_PRIORITY: u32 = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    #[error(transparent)]
    Host(#[from] HostError),
    #[error("the state is for {found}, not {expected}")]
    WrongState { expected: String, found: String },
    #[error("internal error: the generated configuration breaks an invariant: {0}; please report this")]
    Invariant(String),
    #[error("could not serialise the configuration: {0}")]
    Serialise(String),
}

/// A rendered configuration and what was noticed while rendering.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rendered {
    pub config: RenderedConfig,
    pub warnings: Vec<Diagnostic>,
}

/// For rule literals: the values are validated when they enter the model; this refuses anything that could
/// close the backtick literal anyway.
fn has_unsafe_char(value: &str) -> bool {
    if value.is_ascii() {
        // The same test on bytes: an ASCII control character is a byte below 0x20 or 0x7f.
        value.bytes().any(|b| matches!(b, b'`' | b'"' | b'\\' | b'{' | b'}' | 0x7f) || b < 0x20)
    } else {
        value.chars().any(|c| c == '`' || c == '"' || c == '\\' || c.is_control() || c == '{' || c == '}')
    }
}

fn unsafe_literal(value: &str) -> RenderError {
    RenderError::Invariant(format!("unsafe rule literal {value:?}"))
}

/// The rule of a route on the host `base` (before the route's host prefix): `Host(`h`)`, and
/// ` && PathPrefix(`/p`)` for a path other than `/`.
fn rule(base: &str, route: &Route) -> Result<String, RenderError> {
    let prefix = route.host_prefix.as_deref();
    // The host is `prefix.base` or `base`, and `.` is safe: checking the parts checks the host.
    if has_unsafe_char(base) || prefix.is_some_and(has_unsafe_char) || (prefix.is_none() && base.is_empty()) {
        return Err(unsafe_literal(&route_host(base, route)));
    }
    let path = route.path_prefix.as_deref().filter(|p| *p != "/");
    let mut r = String::with_capacity(
        "Host(``)".len() + prefix.map_or(0, |p| p.len() + 1) + base.len() + path.map_or(0, |p| p.len() + 18),
    );
    r.push_str("Host(`");
    if let Some(prefix) = prefix {
        r.push_str(prefix);
        r.push('.');
    }
    r.push_str(base);
    r.push_str("`)");
    if let Some(path) = path {
        if path.is_empty() || has_unsafe_char(path) {
            return Err(unsafe_literal(path));
        }
        r.push_str(" && PathPrefix(`");
        r.push_str(path);
        r.push_str("`)");
    }
    Ok(r)
}

fn priority(route: &Route) -> u32 {
    BASE_PRIORITY + route.path_prefix.as_deref().filter(|p| *p != "/").map_or(0, |p| p.len() as u32)
}

/// A router for a route on the host `base` (before the route's host prefix).
fn router(environment: &Environment, base: &str, route: &Route, service: String) -> Result<Router, RenderError> {
    Ok(Router {
        entry_points: environment.entry_points.clone(),
        rule: rule(base, route)?,
        priority: priority(route),
        service,
        middlewares: environment.middlewares.clone(),
        tls: environment
            .tls
            .as_ref()
            .map(|t| RouterTls { cert_resolver: t.cert_resolver.clone(), options: t.options.clone() }),
    })
}

/// Renders every environment of `states` into one configuration, with every environment's warnings: what
/// `switchyard render` prints and the playground shows.
pub fn render_world<'a>(
    spec: &ValidSpec,
    states: impl IntoIterator<Item = &'a EnvState>,
) -> Result<Rendered, RenderError> {
    let mut all = Rendered { config: RenderedConfig::default(), warnings: Vec::new() };
    for state in states {
        let rendered = render_env(spec, state)?;
        all.warnings.extend(rendered.warnings);
        all.config.merge(rendered.config);
    }
    Ok(all)
}

/// Renders one environment of one app.
pub fn render_env(spec: &ValidSpec, state: &EnvState) -> Result<Rendered, RenderError> {
    let (app_name, env_name) = (state.app.as_str(), state.env.as_str());
    let unknown = || RenderError::Host(HostError::UnknownEnvironment { app: app_name.into(), env: env_name.into() });
    let app = spec.spec.apps.get(app_name).ok_or_else(unknown)?;
    let environment = app.environments.get(env_name).ok_or_else(unknown)?;
    let mut http = Http::default();
    let mut warnings = Vec::new();
    let health = ActiveHealthCheck {
        path: app.health.path.clone(),
        interval: app.health.interval.to_string(),
        timeout: app.health.timeout.to_string(),
    };

    // A load balancer and a preview router per version and routed service.
    for d in &state.deployments {
        let preview_base = spec.hosts.base_host(app_name, env_name, HostFor::Preview(&d.slug))?;
        for (service, route) in &app.routes {
            let Some(endpoint) = d.endpoints.get(service) else {
                warnings.push(missing_endpoint(state, d, service));
                continue;
            };
            let lb = naming::version(app_name, env_name, &d.slug, service);
            http.services.insert(
                lb.clone(),
                Service {
                    load_balancer: Some(LoadBalancer {
                        servers: vec![Server { url: endpoint.url.clone() }],
                        health_check: Some(health.clone()),
                    }),
                    weighted: None,
                },
            );
            http.routers.insert(
                naming::preview(app_name, env_name, &d.slug, service),
                router(environment, &preview_base, route, lb)?,
            );
        }
    }

    // Slot routers, for testing a slot on its own host.
    for slot in Slot::BOTH {
        let Some(d) = state.slot_deployment(slot) else { continue };
        let base = spec.hosts.base_host(app_name, env_name, HostFor::Slot(slot))?;
        for (service, route) in &app.routes {
            if !d.endpoints.contains_key(service) {
                continue;
            }
            let lb = naming::version(app_name, env_name, &d.slug, service);
            http.routers
                .insert(naming::slot(app_name, env_name, slot, service), router(environment, &base, route, lb)?);
        }
    }

    // Production: only once something is live, never a router to an empty service.
    let traffic = state.traffic();
    if !traffic.is_empty() {
        let base = spec.hosts.base_host(app_name, env_name, HostFor::Production)?;
        let split = traffic.len() > 1;
        for (service, route) in &app.routes {
            let children: Vec<WeightedChild> = traffic
                .iter()
                .filter(|(_, _, share)| *share > 0)
                .filter_map(|(_, version, share)| {
                    let d = state.deployment(version)?;
                    d.endpoints.contains_key(service).then(|| WeightedChild {
                        name: naming::version(app_name, env_name, &d.slug, service),
                        weight: u32::from(*share),
                    })
                })
                .collect();
            if children.is_empty() {
                continue;
            }
            let sticky = environment.sticky.as_ref().filter(|_| split).map(|s| Sticky {
                cookie: Cookie {
                    name: s.cookie.clone(),
                    secure: environment.tls.is_some(),
                    http_only: true,
                    same_site: "lax".into(),
                },
            });
            let name = naming::production(app_name, env_name, service);
            http.services.insert(
                name.clone(),
                Service {
                    load_balancer: None,
                    weighted: Some(Weighted { services: children, sticky, health_check: Some(Empty {}) }),
                },
            );
            http.routers.insert(name.clone(), router(environment, &base, route, name)?);
        }
    }

    let config = if http.routers.is_empty() && http.services.is_empty() {
        RenderedConfig::default()
    } else {
        RenderedConfig { http: Some(http) }
    };
    if let Some(problem) = invariants::violations(&config).into_iter().next() {
        return Err(RenderError::Invariant(problem));
    }
    Ok(Rendered { config, warnings })
}

fn missing_endpoint(state: &EnvState, d: &Deployment, service: &str) -> Diagnostic {
    Diagnostic::warning("SY0301", format!("{}/{}: version {} has no endpoint for the routed service {service:?}; it was deployed before that route existed", state.app, state.env, d.version))
        .hint("deploy a new version to route it")
}

/// The header every generated file starts with.
pub const HEADER: &str = "# Generated by switchyard; changes made here are overwritten.\n";

/// YAML for Traefik's file provider. Refuses to produce a literal `{{`, since every file is a Go template
/// to Traefik.
/// Written by [`traefik_yaml`], which gives the same bytes as serde_yaml.
pub fn to_yaml(config: &RenderedConfig) -> Result<String, RenderError> {
    let mut text = String::from(HEADER);
    if config.is_empty() {
        text.push_str("{}\n");
    } else {
        traefik_yaml::append(&mut text, config);
    }
    guard_template(&text)?;
    Ok(text)
}

/// JSON, for tools and the schema check.
pub fn to_json(config: &RenderedConfig) -> Result<String, RenderError> {
    let mut text = serde_json::to_string_pretty(config).map_err(|e| RenderError::Serialise(e.to_string()))?;
    text.push('\n');
    guard_template(&text)?;
    Ok(text)
}

fn guard_template(text: &str) -> Result<(), RenderError> {
    if contains_pair(text, '{') || contains_pair(text, '}') {
        return Err(RenderError::Invariant("the output contains a Go template delimiter".into()));
    }
    Ok(())
}

/// Whether `text` contains `c` twice in a row (as `text.contains("{{")` for `{`), by looking only at the few
/// places where `c` occurs.
fn contains_pair(text: &str, c: char) -> bool {
    let mut rest = text;
    while let Some(i) = rest.find(c) {
        rest = &rest[i + c.len_utf8()..];
        if rest.starts_with(c) {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_delimiters_are_found() {
        for (text, found) in
            [("", false), ("{", false), ("{}", false), ("{ {", false), ("a{{", true), ("}}", true), ("{}}", true)]
        {
            assert_eq!(guard_template(text).is_err(), found, "{text:?}");
            assert_eq!(guard_template(text).is_err(), text.contains("{{") || text.contains("}}"), "{text:?}");
        }
    }

    #[test]
    fn unsafe_literal_characters() {
        for value in ["a`b", "a\"b", "a\\b", "a{b", "a}b", "a\nb", "a\u{7f}", "a\u{85}", "é`"] {
            assert!(has_unsafe_char(value), "{value:?}");
        }
        for value in ["a.example.com", "/api", "é", "a b"] {
            assert!(!has_unsafe_char(value), "{value:?}");
        }
    }
}
