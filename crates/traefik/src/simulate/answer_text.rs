//! The text of a route answer: what `switchyard route` prints and the playground's "Who answers?" panel
//! shows, written once here so that the two say the same thing in the same words.
//!
//! ```text
//! GET https://whoami.dev.example.com/
//!   router   whoami_dev_prod_web (priority 10000, explicit)
//!   service  whoami_dev_prod_web -> whoami_dev_ver_v1-2-0_web
//!   server   http://whoami-dev-v1-2-0-web-1:80 (200)
//!   note: version whoami/dev v1.2.0 (web), blue slot
//! over 100 requests (counts per round are Traefik's; the order is not promised):
//!   whoami_dev_ver_v1-2-0_web http://whoami-dev-v1-2-0-web-1:80     100  100.0%
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::http::{Answer, HttpRequest, Route};

impl Route {
    /// The answer as text: the request, the routers skipped, the winning router (or the 404), the others
    /// that match and any tie, the service chain, the server or the status, the notes (the version first,
    /// when known) and, when requests were sent, how they split (counts per target and their shares).
    pub fn text(&self, req: &HttpRequest) -> String {
        let mut out = answer_text(req, &self.answer);
        if let Some(counts) = &self.split {
            // Every simulated request ends somewhere: the counts add up to the number sent.
            let n: u64 = counts.values().sum();
            split_text(&mut out, n, counts);
        }
        out
    }
}

fn answer_text(req: &HttpRequest, answer: &Answer) -> String {
    let mut out = String::new();
    let scheme = if req.tls { "https" } else { "http" };
    let ep = req.entry_point.as_deref().map(|e| format!(" on entry point {e}")).unwrap_or_default();
    let _ = writeln!(out, "{} {scheme}://{}{}{ep}", req.request.method, req.request.host, req.request.path);
    for name in &answer.broken {
        let _ = writeln!(out, "  skipped router {name}: its rule does not parse (Traefik disables it)");
    }
    for skipped in &answer.disabled {
        let _ = writeln!(out, "  skipped router {}: {} (Traefik disables it)", skipped.router, skipped.reason);
    }
    let Some(winner) = answer.candidates.first() else {
        let _ = writeln!(out, "  no router matches: {}", answer.status);
        notes(&mut out, answer);
        return out;
    };
    let how = if winner.explicit { "explicit" } else { "the rule's length" };
    let _ = writeln!(out, "  router   {} (priority {}, {how})", winner.router, winner.priority);
    for other in answer.candidates.iter().skip(1) {
        let _ = writeln!(out, "  also matches: {} (priority {})", other.router, other.priority);
    }
    if !answer.tied.is_empty() {
        let _ = writeln!(
            out,
            "  TIE with {}: equal priorities are decided by provider order; give the routers explicit priorities",
            answer.tied.join(", ")
        );
    }
    let _ = writeln!(out, "  service  {}", answer.chain.join(" -> "));
    match &answer.server {
        Some(server) => {
            let _ = writeln!(out, "  server   {server} ({})", answer.status);
        }
        None => {
            let _ = writeln!(out, "  answer   {}", answer.status);
        }
    }
    notes(&mut out, answer);
    out
}

fn notes(out: &mut String, answer: &Answer) {
    for note in &answer.notes {
        let _ = writeln!(out, "  note: {note}");
    }
}

fn split_text(out: &mut String, n: u64, counts: &BTreeMap<String, u64>) {
    let _ = writeln!(out, "over {n} requests (counts per round are Traefik's; the order is not promised):");
    let width = counts.keys().map(String::len).max().unwrap_or(0);
    for (target, count) in counts {
        #[allow(clippy::cast_precision_loss)] // request counts are far below 2^52
        let share = *count as f64 * 100.0 / n.max(1) as f64;
        let _ = writeln!(out, "  {target:width$}  {count:>6}  {share:5.1}%");
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use crate::simulate::http::{HttpRequest, RequestParts, route};

    const CONFIG: &str = r#"
http:
  routers:
    a:
      rule: Host(`app.example.com`)
      priority: 10
      service: split
    b:
      rule: Host(`app.example.com`)
      priority: 10
      service: blue
    bad:
      rule: Host(`app.example.com`
      service: blue
    secure:
      rule: Host(`secure.example.com`)
      tls: {}
      service: blue
  services:
    split:
      weighted:
        healthCheck: {}
        services: [{name: blue, weight: 3}, {name: green, weight: 1}]
    blue:
      loadBalancer:
        healthCheck: {path: /}
        servers: [{url: "http://blue:80"}]
    green:
      loadBalancer:
        healthCheck: {path: /}
        servers: [{url: "http://green:80"}]
"#;

    fn text(host: &str, requests: Option<usize>) -> String {
        let files = [("c.yml".to_string(), CONFIG.to_string())];
        let loaded = crate::dynamic::load(&files);
        assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
        let req = HttpRequest::from_parts(&RequestParts { host, entry_point: Some("web"), ..RequestParts::default() })
            .unwrap();
        let versions = BTreeMap::from([("blue".to_string(), "app/dev v1 (web), blue slot".to_string())]);
        route(&loaded.config, &req, requests, &BTreeSet::new(), &versions).text(&req)
    }

    #[test]
    fn the_text_names_the_router_the_tie_the_chain_the_version_and_the_split() {
        assert_eq!(
            text("app.example.com", Some(8)),
            "GET http://app.example.com/ on entry point web
  skipped router bad: its rule does not parse (Traefik disables it)
  router   a (priority 10, explicit)
  also matches: b (priority 10)
  TIE with b: equal priorities are decided by provider order; give the routers explicit priorities
  service  split -> blue
  server   http://blue:80 (200)
  note: version app/dev v1 (web), blue slot
over 8 requests (counts per round are Traefik's; the order is not promised):
  blue http://blue:80         6   75.0%
  green http://green:80       2   25.0%
"
        );
    }

    #[test]
    fn no_router_is_a_404_with_the_reason_when_one_is_known() {
        assert_eq!(
            text("secure.example.com", Some(8)),
            "GET http://secure.example.com/ on entry point web
  skipped router bad: its rule does not parse (Traefik disables it)
  no router matches: 404
  note: router secure would match over TLS
"
        );
    }
}
