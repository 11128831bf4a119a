//! `tcp` (routers, services, middlewares, servers transports) and `udp` (routers, services).

use std::collections::BTreeMap;

use super::super::schema::{Meta, Section, traefik_struct};
use super::deprecations as dep;
use super::{Certificate, Domain, GoDuration, Spiffe, WeightedService};

traefik_struct! {
    /// `tcp`.
    pub struct TcpConfig {
        routers: BTreeMap<String, TcpRouter> = "routers" => Meta::section(Section::TcpRouter),
        services: BTreeMap<String, TcpService> = "services" => Meta::section(Section::TcpService),
        middlewares: BTreeMap<String, TcpMiddleware> = "middlewares" => Meta::section(Section::TcpMiddleware),
        servers_transports: BTreeMap<String, TcpServersTransport> = "serversTransports"
            => Meta::section(Section::TcpServersTransport),
    }
}

traefik_struct! {
    /// A TCP router.
    pub struct TcpRouter {
        entry_points: Vec<String> = "entryPoints",
        middlewares: Vec<String> = "middlewares",
        service: String = "service",
        rule: String = "rule",
        rule_syntax: String = "ruleSyntax" => Meta::deprecated(&dep::RULE_SYNTAX),
        priority: i64 = "priority",
        tls: TcpRouterTls = "tls" => Meta::ALLOW_EMPTY,
    }
}

traefik_struct! {
    /// TLS on a TCP router (`tls: {}` terminates TLS with defaults).
    pub struct TcpRouterTls {
        passthrough: bool = "passthrough",
        options: String = "options",
        cert_resolver: String = "certResolver",
        domains: Vec<Domain> = "domains",
    }
}

traefik_struct! {
    /// A TCP service: exactly one kind must be set (checked later).
    pub struct TcpService {
        load_balancer: TcpLoadBalancer = "loadBalancer",
        weighted: TcpWeighted = "weighted",
    }
}

traefik_struct! {
    /// A TCP load balancer.
    pub struct TcpLoadBalancer {
        servers: Vec<TcpServer> = "servers",
        servers_transport: String = "serversTransport",
        proxy_protocol: ProxyProtocol = "proxyProtocol" => Meta::allow_empty_deprecated(&dep::PROXY_PROTOCOL),
        /// Milliseconds (an integer, unlike the servers transport's duration).
        termination_delay: i64 = "terminationDelay" => Meta::deprecated(&dep::TERMINATION_DELAY),
    }
}

traefik_struct! {
    /// A TCP server.
    pub struct TcpServer {
        address: String = "address",
        tls: bool = "tls",
    }
}

traefik_struct! {
    /// PROXY protocol towards the servers.
    pub struct ProxyProtocol {
        version: i64 = "version",
    }
}

traefik_struct! {
    /// A weighted round robin over TCP services.
    pub struct TcpWeighted {
        services: Vec<WeightedService> = "services",
    }
}

traefik_struct! {
    /// A TCP middleware: exactly one kind must be set (checked later).
    pub struct TcpMiddleware {
        ip_allow_list: TcpIpAllowList = "ipAllowList",
        ip_white_list: TcpIpAllowList = "ipWhiteList" => Meta::deprecated(&dep::IP_WHITE_LIST),
        in_flight_conn: InFlightConn = "inFlightConn",
    }
}

traefik_struct! {
    /// TCP `ipAllowList` (and its v2 name `ipWhiteList`).
    pub struct TcpIpAllowList {
        source_range: Vec<String> = "sourceRange",
    }
}

traefik_struct! {
    /// TCP `inFlightConn`.
    pub struct InFlightConn {
        amount: i64 = "amount",
    }
}

traefik_struct! {
    /// How Traefik talks to the servers of TCP load balancers that name it.
    pub struct TcpServersTransport {
        dial_keep_alive: GoDuration = "dialKeepAlive",
        dial_timeout: GoDuration = "dialTimeout",
        proxy_protocol: ProxyProtocol = "proxyProtocol" => Meta::ALLOW_EMPTY,
        termination_delay: GoDuration = "terminationDelay",
        tls: TcpServersTransportTls = "tls" => Meta::ALLOW_EMPTY,
    }
}

traefik_struct! {
    /// TLS towards TCP servers.
    pub struct TcpServersTransportTls {
        server_name: String = "serverName",
        insecure_skip_verify: bool = "insecureSkipVerify",
        root_cas: Vec<String> = "rootCAs",
        certificates: Vec<Certificate> = "certificates",
        peer_cert_uri: String = "peerCertURI",
        spiffe: Spiffe = "spiffe" => Meta::ALLOW_EMPTY,
    }
}

traefik_struct! {
    /// `udp`.
    pub struct UdpConfig {
        routers: BTreeMap<String, UdpRouter> = "routers" => Meta::section(Section::UdpRouter),
        services: BTreeMap<String, UdpService> = "services" => Meta::section(Section::UdpService),
    }
}

traefik_struct! {
    /// A UDP router.
    pub struct UdpRouter {
        entry_points: Vec<String> = "entryPoints",
        service: String = "service",
    }
}

traefik_struct! {
    /// A UDP service: exactly one kind must be set (checked later).
    pub struct UdpService {
        load_balancer: UdpLoadBalancer = "loadBalancer",
        weighted: UdpWeighted = "weighted",
    }
}

traefik_struct! {
    /// A UDP load balancer.
    pub struct UdpLoadBalancer {
        servers: Vec<UdpServer> = "servers",
    }
}

traefik_struct! {
    /// A UDP server.
    pub struct UdpServer {
        address: String = "address",
    }
}

traefik_struct! {
    /// A weighted round robin over UDP services.
    pub struct UdpWeighted {
        services: Vec<WeightedService> = "services",
    }
}
