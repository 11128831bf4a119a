//! The part of Traefik v3's dynamic configuration that switchyard writes. Traefik's "exactly one of" service
//! kinds are structs with optional fields, never serde enums: serde_yaml would write enum variants as YAML
//! tags (`!loadBalancer`), which Traefik rejects. Maps are ordered, so the same input gives the same bytes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenderedConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<Http>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Http {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub routers: BTreeMap<String, Router>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub services: BTreeMap<String, Service>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Router {
    pub entry_points: Vec<String>,
    pub rule: String,
    /// Always explicit: Traefik's default (the rule's length) must never decide between our routers.
    pub priority: u32,
    pub service: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub middlewares: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<RouterTls>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RouterTls {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_resolver: Option<String>,
    /// TLS options by reference (`modern@file`); Traefik's `default` ones when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<String>,
}

/// Exactly one field is set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Service {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancer: Option<LoadBalancer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weighted: Option<Weighted>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoadBalancer {
    pub servers: Vec<Server>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check: Option<ActiveHealthCheck>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Server {
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ActiveHealthCheck {
    pub path: String,
    pub interval: String,
    pub timeout: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Weighted {
    pub services: Vec<WeightedChild>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sticky: Option<Sticky>,
    /// `healthCheck: {}`: skip down children and report up/down to the parent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check: Option<Empty>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeightedChild {
    pub name: String,
    /// Never 0: an idle slot is left out instead (a weight-0 child can make Traefik's picker loop).
    pub weight: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sticky {
    pub cookie: Cookie,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Cookie {
    pub name: String,
    pub secure: bool,
    pub http_only: bool,
    pub same_site: String,
}

/// Serialises as `{}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

impl RenderedConfig {
    pub fn is_empty(&self) -> bool {
        self.http.as_ref().is_none_or(|h| h.routers.is_empty() && h.services.is_empty())
    }

    /// Adds everything of `other`; names are unique per environment by construction.
    pub fn merge(&mut self, other: RenderedConfig) {
        if let Some(h) = other.http {
            let mine = self.http.get_or_insert_with(Http::default);
            mine.routers.extend(h.routers);
            mine.services.extend(h.services);
        }
    }

    pub fn routers(&self) -> impl Iterator<Item = (&String, &Router)> {
        self.http.iter().flat_map(|h| h.routers.iter())
    }

    pub fn services(&self) -> impl Iterator<Item = (&String, &Service)> {
        self.http.iter().flat_map(|h| h.services.iter())
    }

    pub fn service(&self, name: &str) -> Option<&Service> {
        self.http.as_ref().and_then(|h| h.services.get(name))
    }
}
