//! `http`: routers, services, middlewares and servers transports.

use std::collections::BTreeMap;

use super::super::schema::{Meta, Section, traefik_struct};
use super::deprecations as dep;
use super::{Certificate, ClientTls, Domain, GoDuration, Spiffe, WeightedService};

traefik_struct! {
    /// `http`.
    pub struct HttpConfig {
        routers: BTreeMap<String, Router> = "routers" => Meta::section(Section::HttpRouter),
        services: BTreeMap<String, Service> = "services" => Meta::section(Section::HttpService),
        middlewares: BTreeMap<String, Middleware> = "middlewares" => Meta::section(Section::HttpMiddleware),
        servers_transports: BTreeMap<String, ServersTransport> = "serversTransports"
            => Meta::section(Section::HttpServersTransport),
    }
}

traefik_struct! {
    /// An HTTP router.
    pub struct Router {
        entry_points: Vec<String> = "entryPoints",
        middlewares: Vec<String> = "middlewares",
        service: String = "service",
        rule: String = "rule",
        rule_syntax: String = "ruleSyntax" => Meta::deprecated(&dep::RULE_SYNTAX),
        priority: i64 = "priority",
        tls: RouterTls = "tls" => Meta::ALLOW_EMPTY,
        observability: RouterObservability = "observability",
    }
}

traefik_struct! {
    /// TLS on an HTTP router (`tls: {}` enables it with defaults).
    pub struct RouterTls {
        options: String = "options",
        cert_resolver: String = "certResolver",
        domains: Vec<Domain> = "domains",
    }
}

traefik_struct! {
    /// Per-router observability switches.
    pub struct RouterObservability {
        access_logs: bool = "accessLogs",
        metrics: bool = "metrics",
        tracing: bool = "tracing",
        trace_verbosity: String = "traceVerbosity",
    }
}

traefik_struct! {
    /// An HTTP service: exactly one kind must be set (checked later, not by serde). The kinds are boxed: a
    /// service is then 40 bytes, not 880, which keeps maps of thousands of them fast.
    pub struct Service {
        load_balancer: Box<LoadBalancer> = "loadBalancer",
        highest_random_weight: Box<HighestRandomWeight> = "highestRandomWeight",
        weighted: Box<Weighted> = "weighted",
        mirroring: Box<Mirroring> = "mirroring",
        failover: Box<Failover> = "failover",
    }
}

traefik_struct! {
    /// `healthCheck: {}` on a weighted, mirroring, failover or highestRandomWeight service: follow the children's
    /// health and report it to the parent.
    pub struct HealthCheck {}
}

traefik_struct! {
    /// A load balancer over servers.
    pub struct LoadBalancer {
        sticky: Sticky = "sticky" => Meta::ALLOW_EMPTY,
        servers: Vec<Server> = "servers",
        /// `wrr` (default), `p2c`, `hrw`, `leasttime`.
        strategy: String = "strategy",
        health_check: ServerHealthCheck = "healthCheck",
        passive_health_check: PassiveHealthCheck = "passiveHealthCheck",
        pass_host_header: bool = "passHostHeader",
        response_forwarding: ResponseForwarding = "responseForwarding",
        servers_transport: String = "serversTransport",
    }
}

traefik_struct! {
    /// Sticky sessions.
    pub struct Sticky {
        cookie: Cookie = "cookie" => Meta::ALLOW_EMPTY,
    }
}

traefik_struct! {
    /// The sticky-session cookie.
    pub struct Cookie {
        name: String = "name",
        secure: bool = "secure",
        http_only: bool = "httpOnly",
        same_site: String = "sameSite",
        max_age: i64 = "maxAge",
        path: String = "path",
        domain: String = "domain",
    }
}

traefik_struct! {
    /// A server of a load balancer.
    pub struct Server {
        url: String = "url",
        weight: i64 = "weight",
        preserve_path: bool = "preservePath",
    }
}

traefik_struct! {
    /// Active health checks of a load balancer's servers.
    pub struct ServerHealthCheck {
        scheme: String = "scheme",
        mode: String = "mode",
        path: String = "path",
        method: String = "method",
        status: i64 = "status",
        port: i64 = "port",
        interval: GoDuration = "interval",
        unhealthy_interval: GoDuration = "unhealthyInterval",
        timeout: GoDuration = "timeout",
        hostname: String = "hostname",
        follow_redirects: bool = "followRedirects",
        headers: BTreeMap<String, String> = "headers",
    }
}

traefik_struct! {
    /// Passive health checks: failures of real requests mark a server down.
    pub struct PassiveHealthCheck {
        failure_window: GoDuration = "failureWindow",
        max_failed_attempts: i64 = "maxFailedAttempts",
    }
}

traefik_struct! {
    /// How responses are streamed back.
    pub struct ResponseForwarding {
        flush_interval: GoDuration = "flushInterval",
    }
}

traefik_struct! {
    /// A weighted round robin over services.
    pub struct Weighted {
        services: Vec<WeightedService> = "services",
        sticky: Sticky = "sticky",
        health_check: HealthCheck = "healthCheck" => Meta::ALLOW_EMPTY,
    }
}

traefik_struct! {
    /// Highest random weight (rendezvous hashing) over services.
    pub struct HighestRandomWeight {
        services: Vec<WeightedService> = "services",
        health_check: HealthCheck = "healthCheck" => Meta::ALLOW_EMPTY,
    }
}

traefik_struct! {
    /// Mirroring: requests go to `service` and copies to the mirrors.
    pub struct Mirroring {
        service: String = "service",
        mirror_body: bool = "mirrorBody",
        max_body_size: i64 = "maxBodySize",
        mirrors: Vec<Mirror> = "mirrors",
        health_check: HealthCheck = "healthCheck" => Meta::ALLOW_EMPTY,
    }
}

traefik_struct! {
    /// A mirror and the share of requests it gets.
    pub struct Mirror {
        name: String = "name",
        percent: i64 = "percent",
    }
}

traefik_struct! {
    /// Failover: `service` until it is down (or answers one of `errors.status`), then `fallback`.
    pub struct Failover {
        service: String = "service",
        fallback: String = "fallback",
        health_check: HealthCheck = "healthCheck" => Meta::ALLOW_EMPTY,
        errors: FailoverErrors = "errors",
    }
}

traefik_struct! {
    /// Status codes that make a failover service use its fallback.
    pub struct FailoverErrors {
        status: Vec<String> = "status",
        max_request_body_bytes: i64 = "maxRequestBodyBytes",
    }
}

traefik_struct! {
    /// An HTTP middleware: exactly one kind must be set (checked later, not by serde). The kinds are boxed, as
    /// for [`Service`].
    pub struct Middleware {
        add_prefix: Box<AddPrefix> = "addPrefix",
        basic_auth: Box<BasicAuth> = "basicAuth",
        buffering: Box<Buffering> = "buffering",
        chain: Box<Chain> = "chain",
        circuit_breaker: Box<CircuitBreaker> = "circuitBreaker",
        compress: Box<Compress> = "compress" => Meta::ALLOW_EMPTY,
        content_type: Box<ContentType> = "contentType" => Meta::ALLOW_EMPTY,
        digest_auth: Box<DigestAuth> = "digestAuth",
        errors: Box<ErrorPage> = "errors",
        forward_auth: Box<ForwardAuth> = "forwardAuth",
        grpc_web: Box<GrpcWeb> = "grpcWeb",
        headers: Box<Headers> = "headers",
        ip_allow_list: Box<IpAllowList> = "ipAllowList",
        ip_white_list: Box<IpWhiteList> = "ipWhiteList" => Meta::deprecated(&dep::IP_WHITE_LIST),
        in_flight_req: Box<InFlightReq> = "inFlightReq",
        pass_tls_client_cert: Box<PassTlsClientCert> = "passTLSClientCert",
        /// Plugin settings by plugin name; free-form.
        plugin: BTreeMap<String, BTreeMap<String, serde_json::Value>> = "plugin",
        rate_limit: Box<RateLimit> = "rateLimit",
        redirect_regex: Box<RedirectRegex> = "redirectRegex",
        redirect_scheme: Box<RedirectScheme> = "redirectScheme",
        replace_path: Box<ReplacePath> = "replacePath",
        replace_path_regex: Box<ReplacePathRegex> = "replacePathRegex",
        retry: Box<Retry> = "retry",
        strip_prefix: Box<StripPrefix> = "stripPrefix",
        strip_prefix_regex: Box<StripPrefixRegex> = "stripPrefixRegex",
    }
}

traefik_struct! {
    /// `addPrefix`.
    pub struct AddPrefix {
        prefix: String = "prefix",
    }
}

traefik_struct! {
    /// `basicAuth`.
    pub struct BasicAuth {
        users: Vec<String> = "users",
        users_file: String = "usersFile",
        realm: String = "realm",
        remove_header: bool = "removeHeader",
        header_field: String = "headerField",
    }
}

traefik_struct! {
    /// `buffering`.
    pub struct Buffering {
        max_request_body_bytes: i64 = "maxRequestBodyBytes",
        mem_request_body_bytes: i64 = "memRequestBodyBytes",
        max_response_body_bytes: i64 = "maxResponseBodyBytes",
        mem_response_body_bytes: i64 = "memResponseBodyBytes",
        retry_expression: String = "retryExpression",
    }
}

traefik_struct! {
    /// `chain`.
    pub struct Chain {
        middlewares: Vec<String> = "middlewares",
    }
}

traefik_struct! {
    /// `circuitBreaker`.
    pub struct CircuitBreaker {
        expression: String = "expression",
        check_period: GoDuration = "checkPeriod",
        fallback_duration: GoDuration = "fallbackDuration",
        recovery_duration: GoDuration = "recoveryDuration",
        response_code: i64 = "responseCode",
    }
}

traefik_struct! {
    /// `compress` (`compress: {}` enables it with defaults).
    pub struct Compress {
        excluded_content_types: Vec<String> = "excludedContentTypes",
        included_content_types: Vec<String> = "includedContentTypes",
        min_response_body_bytes: i64 = "minResponseBodyBytes",
        encodings: Vec<String> = "encodings",
        default_encoding: String = "defaultEncoding",
    }
}

traefik_struct! {
    /// `contentType` (`contentType: {}` enables Content-Type detection).
    pub struct ContentType {
        auto_detect: bool = "autoDetect" => Meta::deprecated(&dep::AUTO_DETECT),
    }
}

traefik_struct! {
    /// `digestAuth`.
    pub struct DigestAuth {
        users: Vec<String> = "users",
        users_file: String = "usersFile",
        remove_header: bool = "removeHeader",
        realm: String = "realm",
        header_field: String = "headerField",
    }
}

traefik_struct! {
    /// `errors`: custom error pages.
    pub struct ErrorPage {
        status: Vec<String> = "status",
        status_rewrites: BTreeMap<String, i64> = "statusRewrites",
        service: String = "service",
        query: String = "query",
        error_request_headers: Vec<String> = "errorRequestHeaders",
    }
}

traefik_struct! {
    /// `forwardAuth`.
    pub struct ForwardAuth {
        address: String = "address",
        tls: ForwardAuthTls = "tls",
        trust_forward_header: bool = "trustForwardHeader",
        auth_response_headers: Vec<String> = "authResponseHeaders",
        auth_response_headers_regex: String = "authResponseHeadersRegex",
        auth_request_headers: Vec<String> = "authRequestHeaders",
        add_auth_cookies_to_response: Vec<String> = "addAuthCookiesToResponse",
        header_field: String = "headerField",
        forward_body: bool = "forwardBody",
        max_body_size: i64 = "maxBodySize",
        max_response_body_size: i64 = "maxResponseBodySize",
        preserve_location_header: bool = "preserveLocationHeader",
        preserve_request_method: bool = "preserveRequestMethod",
    }
}

traefik_struct! {
    /// TLS to the forward-auth server.
    pub struct ForwardAuthTls {
        ca: String = "ca",
        cert: String = "cert",
        key: String = "key",
        insecure_skip_verify: bool = "insecureSkipVerify",
        ca_optional: bool = "caOptional" => Meta::deprecated(&dep::CA_OPTIONAL),
    }
}

traefik_struct! {
    /// `grpcWeb`.
    pub struct GrpcWeb {
        allow_origins: Vec<String> = "allowOrigins",
    }
}

traefik_struct! {
    /// `headers`.
    pub struct Headers {
        custom_request_headers: BTreeMap<String, String> = "customRequestHeaders",
        custom_response_headers: BTreeMap<String, String> = "customResponseHeaders",
        access_control_allow_credentials: bool = "accessControlAllowCredentials",
        access_control_allow_headers: Vec<String> = "accessControlAllowHeaders",
        access_control_allow_methods: Vec<String> = "accessControlAllowMethods",
        access_control_allow_origin_list: Vec<String> = "accessControlAllowOriginList",
        access_control_allow_origin_list_regex: Vec<String> = "accessControlAllowOriginListRegex",
        access_control_expose_headers: Vec<String> = "accessControlExposeHeaders",
        access_control_max_age: i64 = "accessControlMaxAge",
        add_vary_header: bool = "addVaryHeader",
        allowed_hosts: Vec<String> = "allowedHosts",
        hosts_proxy_headers: Vec<String> = "hostsProxyHeaders",
        ssl_proxy_headers: BTreeMap<String, String> = "sslProxyHeaders",
        sts_seconds: i64 = "stsSeconds",
        sts_include_subdomains: bool = "stsIncludeSubdomains",
        sts_preload: bool = "stsPreload",
        force_sts_header: bool = "forceSTSHeader",
        frame_deny: bool = "frameDeny",
        custom_frame_options_value: String = "customFrameOptionsValue",
        content_type_nosniff: bool = "contentTypeNosniff",
        browser_xss_filter: bool = "browserXssFilter",
        custom_browser_xss_value: String = "customBrowserXSSValue",
        content_security_policy: String = "contentSecurityPolicy",
        content_security_policy_report_only: String = "contentSecurityPolicyReportOnly",
        public_key: String = "publicKey",
        referrer_policy: String = "referrerPolicy",
        permissions_policy: String = "permissionsPolicy",
        is_development: bool = "isDevelopment",
        feature_policy: String = "featurePolicy" => Meta::deprecated(&dep::FEATURE_POLICY),
        ssl_redirect: bool = "sslRedirect" => Meta::deprecated(&dep::SSL_REDIRECT),
        ssl_temporary_redirect: bool = "sslTemporaryRedirect" => Meta::deprecated(&dep::SSL_REDIRECT),
        ssl_host: String = "sslHost" => Meta::deprecated(&dep::SSL_HOST),
        ssl_force_host: bool = "sslForceHost" => Meta::deprecated(&dep::SSL_HOST),
    }
}

traefik_struct! {
    /// `ipAllowList`.
    pub struct IpAllowList {
        source_range: Vec<String> = "sourceRange",
        ip_strategy: IpStrategy = "ipStrategy" => Meta::ALLOW_EMPTY,
        reject_status_code: i64 = "rejectStatusCode",
    }
}

traefik_struct! {
    /// `ipWhiteList`, the v2 name of `ipAllowList` (deprecated).
    pub struct IpWhiteList {
        source_range: Vec<String> = "sourceRange",
        ip_strategy: IpStrategy = "ipStrategy" => Meta::ALLOW_EMPTY,
    }
}

traefik_struct! {
    /// How the client IP is found.
    pub struct IpStrategy {
        depth: i64 = "depth",
        excluded_ips: Vec<String> = "excludedIPs",
        ipv6_subnet: i64 = "ipv6Subnet",
    }
}

traefik_struct! {
    /// `inFlightReq`.
    pub struct InFlightReq {
        amount: i64 = "amount",
        source_criterion: SourceCriterion = "sourceCriterion",
    }
}

traefik_struct! {
    /// What groups requests as coming from one source.
    pub struct SourceCriterion {
        ip_strategy: IpStrategy = "ipStrategy",
        request_header_name: String = "requestHeaderName",
        request_host: bool = "requestHost",
    }
}

traefik_struct! {
    /// `passTLSClientCert`.
    pub struct PassTlsClientCert {
        pem: bool = "pem",
        info: TlsClientCertInfo = "info",
    }
}

traefik_struct! {
    /// Which client certificate details are passed.
    pub struct TlsClientCertInfo {
        not_after: bool = "notAfter",
        not_before: bool = "notBefore",
        sans: bool = "sans",
        serial_number: bool = "serialNumber",
        subject: CertSubject = "subject",
        issuer: CertIssuer = "issuer",
    }
}

traefik_struct! {
    /// Client certificate subject fields.
    pub struct CertSubject {
        country: bool = "country",
        province: bool = "province",
        locality: bool = "locality",
        organization: bool = "organization",
        organizational_unit: bool = "organizationalUnit",
        common_name: bool = "commonName",
        serial_number: bool = "serialNumber",
        domain_component: bool = "domainComponent",
    }
}

traefik_struct! {
    /// Client certificate issuer fields.
    pub struct CertIssuer {
        country: bool = "country",
        province: bool = "province",
        locality: bool = "locality",
        organization: bool = "organization",
        common_name: bool = "commonName",
        serial_number: bool = "serialNumber",
        domain_component: bool = "domainComponent",
    }
}

traefik_struct! {
    /// `rateLimit`.
    pub struct RateLimit {
        average: i64 = "average",
        period: GoDuration = "period",
        burst: i64 = "burst",
        source_criterion: SourceCriterion = "sourceCriterion",
        redis: Redis = "redis",
    }
}

traefik_struct! {
    /// Redis for a distributed rate limit.
    pub struct Redis {
        endpoints: Vec<String> = "endpoints",
        tls: ClientTls = "tls",
        username: String = "username",
        password: String = "password",
        db: i64 = "db",
        pool_size: i64 = "poolSize",
        min_idle_conns: i64 = "minIdleConns",
        max_active_conns: i64 = "maxActiveConns",
        read_timeout: GoDuration = "readTimeout",
        write_timeout: GoDuration = "writeTimeout",
        dial_timeout: GoDuration = "dialTimeout",
    }
}

traefik_struct! {
    /// `redirectRegex`.
    pub struct RedirectRegex {
        regex: String = "regex",
        replacement: String = "replacement",
        permanent: bool = "permanent",
    }
}

traefik_struct! {
    /// `redirectScheme`.
    pub struct RedirectScheme {
        scheme: String = "scheme",
        port: String = "port",
        permanent: bool = "permanent",
    }
}

traefik_struct! {
    /// `replacePath`.
    pub struct ReplacePath {
        path: String = "path",
    }
}

traefik_struct! {
    /// `replacePathRegex`.
    pub struct ReplacePathRegex {
        regex: String = "regex",
        replacement: String = "replacement",
    }
}

traefik_struct! {
    /// `retry`.
    pub struct Retry {
        attempts: i64 = "attempts",
        initial_interval: GoDuration = "initialInterval",
    }
}

traefik_struct! {
    /// `stripPrefix`.
    pub struct StripPrefix {
        prefixes: Vec<String> = "prefixes",
        force_slash: bool = "forceSlash" => Meta::deprecated(&dep::FORCE_SLASH),
    }
}

traefik_struct! {
    /// `stripPrefixRegex`.
    pub struct StripPrefixRegex {
        regex: Vec<String> = "regex",
    }
}

traefik_struct! {
    /// How Traefik talks to the servers of HTTP load balancers that name it.
    pub struct ServersTransport {
        server_name: String = "serverName",
        insecure_skip_verify: bool = "insecureSkipVerify",
        root_cas: Vec<String> = "rootCAs",
        certificates: Vec<Certificate> = "certificates",
        cipher_suites: Vec<String> = "cipherSuites",
        min_version: String = "minVersion",
        max_version: String = "maxVersion",
        max_idle_conns_per_host: i64 = "maxIdleConnsPerHost",
        forwarding_timeouts: ForwardingTimeouts = "forwardingTimeouts",
        disable_http2: bool = "disableHTTP2",
        peer_cert_uri: String = "peerCertURI",
        spiffe: Spiffe = "spiffe" => Meta::ALLOW_EMPTY,
    }
}

traefik_struct! {
    /// Timeouts of requests forwarded to servers.
    pub struct ForwardingTimeouts {
        dial_timeout: GoDuration = "dialTimeout",
        response_header_timeout: GoDuration = "responseHeaderTimeout",
        idle_conn_timeout: GoDuration = "idleConnTimeout",
        read_idle_timeout: GoDuration = "readIdleTimeout",
        ping_timeout: GoDuration = "pingTimeout",
    }
}
