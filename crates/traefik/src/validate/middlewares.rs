//! HTTP middlewares: their kinds and the services and middlewares they name.

use std::collections::BTreeMap;

use crate::dynamic::Section;
use crate::dynamic::model::Middleware;

use super::*;

impl<'l> Validator<'l> {
    pub(super) fn http_middlewares(
        &mut self,
        middlewares: &'l BTreeMap<String, Middleware>,
        names: &mut Names<'l>,
        services: &mut Names<'l>,
    ) {
        const S: Section = Section::HttpMiddleware;
        let mut edges: Vec<(u32, u32)> = Vec::new();
        for (index, (name, m)) in middlewares.iter().enumerate() {
            let name = name.as_str();
            self.kinds(S, name, &middleware_kinds(m), "the middleware kinds (`headers`, `chain`, `basicAuth`, ...)");
            if let Some(chain) = m.chain.as_deref() {
                for (i, child) in chain.middlewares.iter().flatten().enumerate() {
                    let steps = [K("chain"), K("middlewares"), I(i)];
                    let site = Site { section: S, name, steps: &steps };
                    match self.resolve(S, names, child, site) {
                        Target::Missing => {
                            let message = format!(
                                "chain middleware `{name}` refers to middleware `{child}`, which is not defined: \
                                 every router using `{name}` is disabled"
                            );
                            self.missing("SY3204", S, child, message, site);
                        }
                        Target::Local(to) => edges
                            .push((u32::try_from(index).unwrap_or(u32::MAX), u32::try_from(to).unwrap_or(u32::MAX))),
                        Target::Invalid | Target::External => {}
                    }
                }
            }
            if let Some(service) = m.errors.as_deref().and_then(|e| e.service.as_deref()) {
                let steps = [K("errors"), K("service")];
                let site = Site { section: S, name, steps: &steps };
                if self.resolve(Section::HttpService, services, service, site) == Target::Missing {
                    let message = format!(
                        "errors middleware `{name}` uses service `{service}`, which is not defined: every router \
                         using `{name}` is disabled"
                    );
                    self.missing("SY3204", Section::HttpService, service, message, site);
                }
            }
        }
        self.cycles(S, &names.names, edges, "middleware chains");
    }
}

pub(super) fn middleware_kinds(m: &Middleware) -> [bool; 25] {
    [
        m.add_prefix.is_some(),
        m.basic_auth.is_some(),
        m.buffering.is_some(),
        m.chain.is_some(),
        m.circuit_breaker.is_some(),
        m.compress.is_some(),
        m.content_type.is_some(),
        m.digest_auth.is_some(),
        m.errors.is_some(),
        m.forward_auth.is_some(),
        m.grpc_web.is_some(),
        m.headers.is_some(),
        m.ip_allow_list.is_some(),
        m.ip_white_list.is_some(),
        m.in_flight_req.is_some(),
        m.pass_tls_client_cert.is_some(),
        m.plugin.is_some(),
        m.rate_limit.is_some(),
        m.redirect_regex.is_some(),
        m.redirect_scheme.is_some(),
        m.replace_path.is_some(),
        m.replace_path_regex.is_some(),
        m.retry.is_some(),
        m.strip_prefix.is_some(),
        m.strip_prefix_regex.is_some(),
    ]
}
