//! Server URLs and addresses, checked as Traefik parses them (SY3308).

/// Checks a server URL the way Traefik uses it: Go's `url.Parse`, then a scheme it can forward to and a host.
pub(super) fn check_url(url: &str) -> Result<(), String> {
    // Byte loops throughout: this runs for every server of every load balancer.
    let bytes = url.as_bytes();
    if bytes.iter().any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
        || (!url.is_ascii() && url.chars().any(|c| c.is_whitespace() || c.is_control()))
    {
        return Err("it contains spaces or control characters".to_string());
    }
    let Some(colon) = bytes.windows(3).position(|w| w == b"://") else {
        return Err("it has no scheme (`http://`)".to_string());
    };
    let (scheme, rest) = (&url[..colon], &url[colon + 3..]);
    let scheme_ok = scheme.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        && scheme.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    if !scheme_ok {
        return Err(format!("`{scheme}` is not a URL scheme"));
    }
    if !["http", "https", "h2c"].iter().any(|s| s.eq_ignore_ascii_case(scheme)) {
        return Err(format!("Traefik forwards HTTP only to `http`, `https` and `h2c` servers, not `{scheme}`"));
    }
    let authority = &rest[..rest.bytes().position(|b| matches!(b, b'/' | b'?' | b'#')).unwrap_or(rest.len())];
    let host_port = match authority.bytes().rposition(|b| b == b'@') {
        Some(at) => &authority[at + 1..],
        None => authority,
    };
    // The host, unless it is an IPv6 address (checked here).
    let (host, port) = if let Some(inner) = host_port.strip_prefix('[') {
        let Some((ip, after)) = inner.split_once(']') else {
            return Err("an IPv6 address is not closed with `]`".to_string());
        };
        if ip.parse::<std::net::Ipv6Addr>().is_err() && !ip.contains('%') {
            return Err(format!("`{ip}` is not an IPv6 address"));
        }
        match after {
            "" => (None, None),
            p => match p.strip_prefix(':') {
                Some(port) => (None, Some(port)),
                None => return Err(format!("unexpected `{p}` after the IPv6 address")),
            },
        }
    } else {
        match host_port.bytes().rposition(|b| b == b':') {
            Some(at) => (Some(&host_port[..at]), Some(&host_port[at + 1..])),
            None => (Some(host_port), None),
        }
    };
    if host == Some("") {
        return Err("it has no host".to_string());
    }
    let allowed = |c: char| {
        c.is_alphanumeric()
            || matches!(
                c,
                '-' | '.' | '_' | '~' | '%' | '!' | '$' | '&' | '\'' | '(' | ')' | '*' | '+' | ',' | ';' | '='
            )
    };
    if let Some(bad) = host.and_then(|h| h.chars().find(|c| !allowed(*c))) {
        return Err(format!("invalid character `{bad}` in the host"));
    }
    if let Some(port) = port
        && !port.is_empty()
        && port.parse::<u16>().is_err()
    {
        return Err(format!("the port `{port}` is not a number from 0 to 65535"));
    }
    Ok(())
}

/// Checks a TCP/UDP server address: `host:port` as Go's `net.SplitHostPort` reads it.
pub(super) fn check_address(address: &str) -> Result<(), String> {
    let port = if let Some(inner) = address.strip_prefix('[') {
        let Some((_, after)) = inner.split_once(']') else { return Err("has an IPv6 address without `]`".into()) };
        match after.strip_prefix(':') {
            Some(port) => port,
            None => return Err("has no port".into()),
        }
    } else {
        match address.rsplit_once(':') {
            Some((host, _)) if host.contains(':') => {
                return Err("has too many colons (write IPv6 in brackets)".into());
            }
            Some((_, port)) => port,
            None => return Err("has no port".into()),
        }
    };
    if port.parse::<u16>().is_err() {
        return Err(format!("has port `{port}`, not a number from 0 to 65535"));
    }
    if address.chars().any(char::is_whitespace) {
        return Err("contains spaces".into());
    }
    Ok(())
}
