//! How Traefik spreads requests over a service tree: weighted round robin by earliest deadline first, as
//! Traefik's source does it (v3.7, `pkg/server/service/loadbalancer/wrr`; the counts per round, nested services
//! and health before and after the first probe are checked against the real Traefik by
//! `tests/tests/traefik_differential.rs`):
//!
//! - each child starts at `deadline = 1/weight`; a pick takes the smallest deadline, moves the balancer's clock
//!   to it, adds `1/weight` to that child, and returns the child if it is up; a child that is down is skipped,
//!   but its deadline still advances (no burst when it recovers);
//! - weights are integers; a missing weight is 1; a weight <= 0 drops the child completely;
//! - every child dropped or down: the request gets 503 "no available server";
//! - a `weighted` service with `healthCheck: {}` skips children that are down and is itself down when all are;
//!   without it, it still picks a down child, and that request fails;
//! - ties are broken by the heap, after Traefik shuffled the children at random: **only the counts per round
//!   are deterministic, never the order**. This simulator breaks ties by the children's order, so its sequence
//!   is one of those Traefik may produce; callers must present counts, not orders.
//!
//! The deadlines are `f64` accumulated the way Traefik accumulates them, so rounding lands the same way (11:3
//! gives the counts 11 and 3 in every 14 picks).

use std::collections::BTreeMap;

mod answer_text;
pub mod http;
mod request;
pub mod sticky;

/// A service tree to pick from.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// A `loadBalancer`: servers picked by the same weighted round robin. Without an active `healthCheck`,
    /// Traefik never learns that a server is down: it keeps sending it requests, which fail with 502.
    Servers { service: String, servers: Vec<Server>, health_check: bool },
    /// A `weighted` service.
    Weighted {
        service: String,
        children: Vec<Child>,
        /// `healthCheck: {}` is set: down children are skipped, and the service reports down when all are.
        health_check: bool,
    },
    /// A `failover` service: `main` while it is up, else `fallback`.
    Failover { service: String, main: Box<Node>, fallback: Box<Node> },
    /// A reference that resolves to nothing: Traefik disables the service (and its routers answer 404).
    Missing { service: String },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Server {
    pub url: String,
    pub weight: i64,
    pub up: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Child {
    pub weight: i64,
    pub node: Node,
}

/// Where one request ended.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Ending {
    /// The service that answered (a `loadBalancer`) and its server's URL.
    Server { service: String, url: String },
    /// 503: no server available.
    Unavailable { service: String },
    /// 502: the server picked does not answer (no health check took it out).
    BadGateway { service: String, url: String },
    /// 404: the router's service is missing.
    NotFound { service: String },
}

impl Node {
    fn service(&self) -> &str {
        match self {
            Node::Servers { service, .. }
            | Node::Weighted { service, .. }
            | Node::Failover { service, .. }
            | Node::Missing { service } => service,
        }
    }

    /// True when Traefik would report this node up to a parent that checks health.
    pub fn is_up(&self) -> bool {
        match self {
            Node::Servers { servers, health_check, .. } => {
                !health_check || servers.iter().any(|s| s.weight > 0 && s.up)
            }
            Node::Weighted { children, health_check, .. } => {
                // Without its own health check a weighted service never reports down.
                !health_check || children.iter().any(|c| c.weight > 0 && c.node.is_up())
            }
            Node::Failover { main, fallback, .. } => main.is_up() || fallback.is_up(),
            Node::Missing { .. } => false,
        }
    }

    /// The tree as Traefik runs it before its first health probe: after every configuration reload it starts
    /// each server as up and learns otherwise only from a probe, one `interval` later. Until then no health check
    /// has taken anything out, so a server that does not answer is picked in its turn and its requests get 502.
    #[must_use]
    pub fn unprobed(&self) -> Node {
        match self {
            Node::Servers { service, servers, .. } => {
                Node::Servers { service: service.clone(), servers: servers.clone(), health_check: false }
            }
            Node::Weighted { service, children, .. } => Node::Weighted {
                service: service.clone(),
                children: children.iter().map(|c| Child { weight: c.weight, node: c.node.unprobed() }).collect(),
                health_check: false,
            },
            Node::Failover { service, main, fallback } => Node::Failover {
                service: service.clone(),
                main: Box::new(main.unprobed()),
                fallback: Box::new(fallback.unprobed()),
            },
            Node::Missing { service } => Node::Missing { service: service.clone() },
        }
    }
}

/// One earliest-deadline-first balancer over `weights` (index order), as Traefik keeps it between requests.
#[derive(Debug, Clone)]
struct Edf {
    clock: f64,
    /// (deadline, index) for each child with a weight > 0.
    entries: Vec<(f64, usize, f64)>,
}

impl Edf {
    fn new(weights: &[i64]) -> Self {
        let entries = weights
            .iter()
            .enumerate()
            .filter(|(_, w)| **w > 0)
            .map(|(i, w)| {
                #[allow(clippy::cast_precision_loss)] // weights are small integers
                let step = 1.0 / (*w as f64);
                (step, i, step)
            })
            .collect();
        Edf { clock: 0.0, entries }
    }

    /// The next child whose `up(i)` is true, advancing skipped ones; None when every child is down.
    fn pick(&mut self, up: impl Fn(usize) -> bool) -> Option<usize> {
        if !self.entries.iter().any(|(_, i, _)| up(*i)) {
            return None;
        }
        loop {
            // The smallest deadline; ties go to the earliest child (Traefik: whatever its heap says).
            let slot = self
                .entries
                .iter()
                .enumerate()
                .min_by(|(_, a), (_, b)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)))
                .map(|(slot, _)| slot)?;
            let (deadline, index, step) = self.entries[slot];
            self.clock = deadline;
            self.entries[slot].0 = deadline + step;
            if up(index) {
                return Some(index);
            }
        }
    }
}

/// A running simulation: every balancer of the tree keeps its state from one request to the next, as in
/// Traefik between two configuration reloads.
#[derive(Debug, Clone)]
pub struct Simulation {
    root: Node,
    /// Balancer state by the path of child indexes from the root.
    balancers: BTreeMap<Vec<usize>, Edf>,
}

impl Simulation {
    pub fn new(root: Node) -> Self {
        Simulation { root, balancers: BTreeMap::new() }
    }

    /// Where the next request goes.
    pub fn send(&mut self) -> Ending {
        let root = self.root.clone();
        let mut path = Vec::new();
        self.visit(&root, &mut path)
    }

    /// `n` requests, counted by outcome.
    pub fn run(&mut self, n: usize) -> BTreeMap<Ending, u64> {
        let mut counts = BTreeMap::new();
        for _ in 0..n {
            *counts.entry(self.send()).or_insert(0) += 1;
        }
        counts
    }

    fn visit(&mut self, node: &Node, path: &mut Vec<usize>) -> Ending {
        match node {
            Node::Missing { service } => Ending::NotFound { service: service.clone() },
            Node::Servers { service, servers, health_check } => {
                let weights: Vec<i64> = servers.iter().map(|s| s.weight).collect();
                let edf = self.balancers.entry(path.clone()).or_insert_with(|| Edf::new(&weights));
                match edf.pick(|i| !health_check || servers[i].up) {
                    Some(i) if servers[i].up => {
                        Ending::Server { service: service.clone(), url: servers[i].url.clone() }
                    }
                    Some(i) => Ending::BadGateway { service: service.clone(), url: servers[i].url.clone() },
                    None => Ending::Unavailable { service: service.clone() },
                }
            }
            Node::Weighted { service, children, health_check } => {
                let weights: Vec<i64> = children.iter().map(|c| c.weight).collect();
                let edf = self.balancers.entry(path.clone()).or_insert_with(|| Edf::new(&weights));
                // Without a health check of its own, a weighted service picks down children too.
                let picked = edf.pick(|i| !health_check || children[i].node.is_up());
                match picked {
                    Some(i) => {
                        path.push(i);
                        let outcome = self.visit(&children[i].node, path);
                        path.pop();
                        outcome
                    }
                    None => Ending::Unavailable { service: service.clone() },
                }
            }
            Node::Failover { main, fallback, .. } => {
                let (i, next) = if main.is_up() { (0, main) } else { (1, fallback) };
                path.push(i);
                let outcome = self.visit(next, path);
                path.pop();
                outcome
            }
        }
    }

    pub fn root_service(&self) -> &str {
        self.root.service()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn servers(service: &str, up: bool) -> Node {
        Node::Servers {
            service: service.into(),
            servers: vec![Server { url: format!("http://{service}"), weight: 1, up }],
            health_check: true,
        }
    }

    fn weighted(children: Vec<(i64, Node)>, health_check: bool) -> Node {
        Node::Weighted {
            service: "root".into(),
            children: children.into_iter().map(|(weight, node)| Child { weight, node }).collect(),
            health_check,
        }
    }

    fn letter(o: &Ending) -> char {
        match o {
            Ending::Server { service, .. } => service.chars().next().unwrap_or('?'),
            Ending::Unavailable { .. } => '5',
            Ending::BadGateway { .. } => '2',
            Ending::NotFound { .. } => '4',
        }
    }

    #[test]
    fn before_the_first_probe_a_dead_server_is_picked_in_its_turn_and_fails_with_502() {
        let tree = weighted(vec![(1, servers("A", true)), (1, servers("B", false))], true);
        let after = Simulation::new(tree.clone()).run(4);
        assert_eq!(after.values().sum::<u64>(), 4);
        assert!(after.keys().all(|o| letter(o) == 'A'), "{after:?}");
        let before = Simulation::new(tree.unprobed()).run(4);
        let letters: Vec<(char, u64)> = before.iter().map(|(o, n)| (letter(o), *n)).collect();
        assert_eq!(letters, [('A', 2), ('2', 2)]);
    }

    #[test]
    fn eleven_to_three_gives_traefiks_own_sequence_counts() {
        let mut sim = Simulation::new(weighted(vec![(11, servers("A", true)), (3, servers("B", true))], false));
        let seq: String = (0..14).map(|_| letter(&sim.send())).collect();
        // Traefik's test asserts AAABAAAABAAABA; the order within ties is not promised, the counts are.
        assert_eq!(seq.matches('A').count(), 11);
        assert_eq!(seq.matches('B').count(), 3);
        assert_eq!(seq, "AAABAAAABAAABA");
        // And every following round of 14 has the same counts.
        for _ in 0..10 {
            let seq: String = (0..14).map(|_| letter(&sim.send())).collect();
            assert_eq!((seq.matches('A').count(), seq.matches('B').count()), (11, 3), "{seq}");
        }
    }

    #[test]
    fn three_to_one_and_equal_weights() {
        let mut sim = Simulation::new(weighted(vec![(3, servers("A", true)), (1, servers("B", true))], false));
        for _ in 0..5 {
            let seq: String = (0..4).map(|_| letter(&sim.send())).collect();
            assert_eq!((seq.matches('A').count(), seq.matches('B').count()), (3, 1), "{seq}");
        }
        let mut sim = Simulation::new(weighted(vec![(1, servers("A", true)), (1, servers("B", true))], false));
        let seq: String = (0..6).map(|_| letter(&sim.send())).collect();
        assert_eq!(seq.matches('A').count(), 3);
    }

    #[test]
    fn weight_zero_or_negative_is_dropped_and_all_dropped_is_503() {
        let mut sim = Simulation::new(weighted(vec![(0, servers("A", true)), (-2, servers("B", true))], true));
        assert_eq!(letter(&sim.send()), '5');
        let mut sim = Simulation::new(weighted(vec![(0, servers("A", true)), (5, servers("B", true))], true));
        assert!((0..20).all(|_| letter(&sim.send()) == 'B'));
    }

    #[test]
    fn down_children_are_skipped_only_under_a_health_check() {
        let tree = |hc| weighted(vec![(1, servers("A", true)), (1, servers("B", false))], hc);
        let counts = Simulation::new(tree(true)).run(10);
        assert_eq!(counts.values().sum::<u64>(), 10);
        assert!(counts.keys().all(|o| letter(o) == 'A'));
        // Without healthCheck: {} the weighted service still sends half the requests to the down child: 503.
        let counts = Simulation::new(tree(false)).run(10);
        assert_eq!(counts.get(&Ending::Unavailable { service: "B".into() }), Some(&5));
    }

    #[test]
    fn health_propagates_through_nested_weighted_services() {
        // Parent (health-checked) over a nested weighted service whose only child is down: the nested service
        // reports down (it has its own healthCheck), so the parent sends everything to C.
        let nested = Node::Weighted {
            service: "nested".into(),
            children: vec![Child { weight: 1, node: servers("B", false) }],
            health_check: true,
        };
        let tree = weighted(vec![(1, nested.clone()), (1, servers("C", true))], true);
        let counts = Simulation::new(tree).run(8);
        assert!(counts.keys().all(|o| letter(o) == 'C'), "{counts:?}");
        // The same nested service without its own health check never reports down: half the requests fail.
        let Node::Weighted { service, children, .. } = nested else { unreachable!() };
        let blind = Node::Weighted { service, children, health_check: false };
        let tree = weighted(vec![(1, blind), (1, servers("C", true))], true);
        let counts = Simulation::new(tree).run(8);
        assert_eq!(counts.get(&Ending::Unavailable { service: "B".into() }), Some(&4), "{counts:?}");
    }

    #[test]
    fn a_skipped_child_gets_no_burst_when_it_recovers() {
        // A down child's deadline still advances: after recovering it does not take a run of picks.
        let mut edf = Edf::new(&[1, 1]);
        for _ in 0..10 {
            assert_eq!(edf.pick(|i| i == 0), Some(0));
        }
        let picks: Vec<usize> = (0..4).filter_map(|_| edf.pick(|_| true)).collect();
        assert_eq!(picks.iter().filter(|i| **i == 1).count(), 2, "{picks:?}");
    }

    #[test]
    fn without_a_health_check_a_dead_server_keeps_getting_requests() {
        let lb = Node::Servers {
            service: "lb".into(),
            servers: vec![
                Server { url: "http://a".into(), weight: 1, up: true },
                Server { url: "http://b".into(), weight: 1, up: false },
            ],
            health_check: false,
        };
        let counts = Simulation::new(lb).run(10);
        assert_eq!(counts.get(&Ending::BadGateway { service: "lb".into(), url: "http://b".into() }), Some(&5));
    }

    #[test]
    fn failover_uses_the_fallback_only_while_main_is_down() {
        let tree = |up| Node::Failover {
            service: "f".into(),
            main: Box::new(servers("M", up)),
            fallback: Box::new(servers("F", true)),
        };
        assert_eq!(letter(&Simulation::new(tree(true)).send()), 'M');
        assert_eq!(letter(&Simulation::new(tree(false)).send()), 'F');
    }
}
