//! The store an environment names: `etcd://HOST:PORT[,HOST:PORT...]` or `redis://HOST:PORT[/DB]`, the same
//! members Traefik's provider is given (`providers.etcd.endpoints`, `providers.redis.endpoints`).
//!
//! Credentials never go into the spec file: an endpoint with `user:password@` is refused; the process that
//! connects reads them from its environment (`SWITCHYARD_ETCD_USERNAME` and `SWITCHYARD_ETCD_PASSWORD`,
//! `SWITCHYARD_REDIS_USERNAME` and `SWITCHYARD_REDIS_PASSWORD`).

use std::fmt;

/// Which store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Etcd,
    Redis,
}

impl Kind {
    /// The scheme, which is also the name of Traefik's provider (`providers.etcd`, `providers.redis`).
    pub fn name(self) -> &'static str {
        match self {
            Kind::Etcd => "etcd",
            Kind::Redis => "redis",
        }
    }

    /// The start of the names of the environment variables that hold its credentials (`..._USERNAME`,
    /// `..._PASSWORD`).
    pub fn credentials_variable(self) -> &'static str {
        match self {
            Kind::Etcd => "SWITCHYARD_ETCD",
            Kind::Redis => "SWITCHYARD_REDIS",
        }
    }
}

/// A parsed endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub kind: Kind,
    /// `host:port` of each member (etcd may name several; Redis one).
    pub addresses: Vec<String>,
    /// Redis: the database number (0 by default).
    pub database: u32,
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.kind.name(), self.addresses.join(","))?;
        if self.kind == Kind::Redis && self.database != 0 {
            write!(f, "/{}", self.database)?;
        }
        Ok(())
    }
}

impl Endpoint {
    /// Parses `etcd://HOST:PORT[,HOST:PORT...]` or `redis://HOST:PORT[/DB]`; the error says what to write.
    pub fn parse(text: &str) -> Result<Endpoint, String> {
        let hint = "write it as etcd://HOST:PORT (several members: etcd://HOST:PORT,HOST:PORT) or redis://HOST:PORT";
        let Some((scheme, rest)) = text.split_once("://") else {
            return Err(format!("{text:?} is not a store endpoint; {hint}"));
        };
        let kind = match scheme {
            "etcd" => Kind::Etcd,
            "redis" => Kind::Redis,
            "http" | "https" => return Err(format!("{text:?}: name the store, not its protocol; {hint}")),
            other => return Err(format!("{text:?}: {other:?} is not a store switchyard writes to; {hint}")),
        };
        if rest.contains('@') {
            return Err(format!(
                "{}://...: credentials never go into the spec; set {var}_USERNAME and {var}_PASSWORD in the \
                 environment of the command instead",
                kind.name(),
                var = kind.credentials_variable()
            ));
        }
        let (hosts, database) = match (kind, rest.split_once('/')) {
            (_, None) => (rest, 0),
            (Kind::Redis, Some((hosts, db))) => {
                let db = db.parse::<u32>().map_err(|_| format!("{text:?}: the database {db:?} is not a number"))?;
                (hosts, db)
            }
            (Kind::Etcd, Some(_)) => return Err(format!("{text:?}: an etcd endpoint has no path; {hint}")),
        };
        let addresses: Vec<String> = hosts.split(',').map(str::to_string).collect();
        for address in &addresses {
            check_address(address).map_err(|why| format!("{text:?}: {why}; {hint}"))?;
        }
        if kind == Kind::Redis && addresses.len() > 1 {
            return Err(format!("{text:?}: switchyard writes to one Redis server (its primary); {hint}"));
        }
        Ok(Endpoint { kind, addresses, database })
    }
}

/// `host:port`, with a host of letters, digits, `.`, `-` (or an IPv6 address in brackets) and a port number.
fn check_address(address: &str) -> Result<(), String> {
    let Some((host, port)) = address.rsplit_once(':') else {
        return Err(format!("{address:?} has no port"));
    };
    if port.parse::<u16>().map_or(true, |p| p == 0) {
        return Err(format!("{address:?} has no valid port"));
    }
    let bracketed = host.starts_with('[') && host.ends_with(']') && host.len() > 2;
    let plain = !host.is_empty() && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'));
    if !(bracketed && host[1..host.len() - 1].chars().all(|c| c.is_ascii_hexdigit() || c == ':') || plain) {
        return Err(format!("{address:?} has no valid host"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse() {
        let e = Endpoint::parse("etcd://10.0.0.1:2379,10.0.0.2:2379").unwrap();
        assert_eq!((e.kind, e.addresses.len()), (Kind::Etcd, 2));
        assert_eq!(e.to_string(), "etcd://10.0.0.1:2379,10.0.0.2:2379");
        let r = Endpoint::parse("redis://cache.internal:6379/2").unwrap();
        assert_eq!((r.kind, r.database), (Kind::Redis, 2));
        assert_eq!(r.to_string(), "redis://cache.internal:6379/2");
        assert!(Endpoint::parse("etcd://[::1]:2379").is_ok());
    }

    #[test]
    fn bad_endpoints_say_what_to_write() {
        for (text, says) in [
            ("127.0.0.1:2379", "is not a store endpoint"),
            ("https://127.0.0.1:2379", "name the store"),
            ("consul://127.0.0.1:8500", "not a store switchyard writes to"),
            ("redis://user:secret@127.0.0.1:6379", "SWITCHYARD_REDIS_PASSWORD"),
            ("etcd://127.0.0.1", "has no port"),
            ("etcd://127.0.0.1:0", "no valid port"),
            ("etcd://a b:2379", "no valid host"),
            ("etcd://127.0.0.1:2379/x", "no path"),
            ("redis://127.0.0.1:6379/x", "not a number"),
            ("redis://a:1,b:2", "one Redis server"),
        ] {
            let err = Endpoint::parse(text).unwrap_err();
            assert!(err.contains(says), "{text}: {err}");
            assert!(!err.contains("secret"), "{err}");
        }
    }
}
