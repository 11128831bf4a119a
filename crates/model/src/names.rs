//! Validation of every name a user types that ends up in a hostname, a Traefik name, a router rule, a
//! container name or a file name. Everything that reaches the output goes through one of these checks, so
//! nothing can close a rule literal (a backtick or quote), start a Go template (`{{`), or escape a path.

/// The longest DNS label.
pub const MAX_LABEL: usize = 63;
/// The longest hostname.
pub const MAX_HOSTNAME: usize = 253;
/// The longest version string a user may deploy.
pub const MAX_VERSION: usize = 128;

/// Why a name was refused: the text is a complete sentence fragment a user can act on.
pub type NameError = String;

/// A DNS label made of lowercase letters, digits and inner hyphens: app and environment names, host prefixes.
pub fn check_label(s: &str) -> Result<(), NameError> {
    // The common case, on every render: a valid label, checked byte by byte.
    let label_byte = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-';
    if !s.is_empty()
        && s.len() <= MAX_LABEL
        && s.as_bytes().iter().all(label_byte)
        && !s.starts_with('-')
        && !s.ends_with('-')
    {
        return Ok(());
    }
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    if s.len() > MAX_LABEL {
        return Err(format!("is {} characters long; a DNS label has at most {MAX_LABEL}", s.len()));
    }
    if let Some(c) = s.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')) {
        return Err(format!("contains {c:?}; use only lowercase letters a-z, digits and '-'"));
    }
    if s.starts_with('-') || s.ends_with('-') {
        return Err("must start and end with a letter or digit".into());
    }
    Ok(())
}

/// A hostname: dot-separated DNS labels, at most 253 characters.
pub fn check_hostname(s: &str) -> Result<(), NameError> {
    // The common case, on every render: a valid hostname, checked in one pass over its bytes.
    if is_valid_hostname(s.as_bytes()) {
        return Ok(());
    }
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    if s.len() > MAX_HOSTNAME {
        return Err(format!("is {} characters long; a hostname has at most {MAX_HOSTNAME}", s.len()));
    }
    for label in s.split('.') {
        check_label(label).map_err(|e| {
            if label.is_empty() {
                "has an empty label (two dots in a row, or a dot at either end)".to_string()
            } else {
                format!("has the label {label:?} that {e}")
            }
        })?;
    }
    Ok(())
}

/// What [`check_hostname`] accepts, without the reasons.
fn is_valid_hostname(s: &[u8]) -> bool {
    if s.is_empty() || s.len() > MAX_HOSTNAME {
        return false;
    }
    let mut label_len = 0;
    let mut previous = b'.';
    for &b in s {
        if b == b'.' {
            if label_len == 0 || previous == b'-' {
                return false;
            }
            label_len = 0;
        } else if b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' {
            if label_len == 0 && b == b'-' {
                return false;
            }
            label_len += 1;
            if label_len > MAX_LABEL {
                return false;
            }
        } else {
            return false;
        }
        previous = b;
    }
    label_len > 0 && previous != b'-'
}

/// A compose service name that switchyard routes: lowercase letters, digits, '-' and '_'.
/// (Compose also allows dots and capitals; those break Traefik names and Docker labels.)
pub fn check_service_name(s: &str) -> Result<(), NameError> {
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    if s.len() > MAX_LABEL {
        return Err(format!("is {} characters long; at most {MAX_LABEL}", s.len()));
    }
    if let Some(c) = s.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '_')) {
        return Err(format!("contains {c:?}; use only lowercase letters a-z, digits, '-' and '_'"));
    }
    if !s.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err("must start with a letter or digit".into());
    }
    Ok(())
}

/// A plain Traefik identifier: entry point names, cert resolver names, the name part of a middleware.
pub fn check_identifier(s: &str) -> Result<(), NameError> {
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    if s.len() > 128 {
        return Err(format!("is {} characters long; at most 128", s.len()));
    }
    if let Some(c) = s.chars().find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_')) {
        return Err(format!("contains {c:?}; use only letters, digits, '-' and '_'"));
    }
    Ok(())
}

/// A reference to a definition of Traefik's dynamic configuration (a middleware, TLS options) with an explicit
/// provider, such as `secure-headers@file`. The provider is required so the reference can never dangle inside
/// switchyard's own files silently; whether it exists is checked against the user's files
/// ([`crate::traefik_files`]).
pub fn check_reference(s: &str) -> Result<(), NameError> {
    let Some((name, provider)) = s.split_once('@') else {
        return Err(format!(
            "has no provider; write it as `{s}@file`, defined in one of the files of `traefik.files`, so it is clear \
             where it is defined"
        ));
    };
    check_identifier(name).map_err(|e| format!("has a name that {e}"))?;
    if provider.is_empty() || !provider.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()) {
        return Err(format!("has the provider {provider:?}; a provider is lowercase letters and digits"));
    }
    Ok(())
}

/// A URL path used in a rule or a health check: starts with '/', only RFC 3986 path characters, nothing that
/// could close a rule literal or open a template.
pub fn check_url_path(s: &str, allow_query: bool) -> Result<(), NameError> {
    if !s.starts_with('/') {
        return Err("must start with '/'".into());
    }
    if s.len() > 1024 {
        return Err(format!("is {} characters long; at most 1024", s.len()));
    }
    let path_byte = |b: &u8| {
        b.is_ascii_alphanumeric() || b"/-._~%!$()*+,;:@".contains(b) || (allow_query && matches!(b, b'?' | b'=' | b'&'))
    };
    if s.as_bytes().iter().all(path_byte) {
        return Ok(());
    }
    let extra: &[char] = if allow_query { &['?', '=', '&'] } else { &[] };
    if let Some(c) =
        s.chars().find(|c| !(c.is_ascii_alphanumeric() || "/-._~%!$()*+,;:@".contains(*c) || extra.contains(c)))
    {
        return Err(format!("contains {c:?}, which is not allowed in a path here"));
    }
    Ok(())
}

/// A version as the user names it (`v1.2.0`, `2024-05-01.3`, `1.4.0-rc.1+build.7`).
pub fn check_version(s: &str) -> Result<(), NameError> {
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    if s.len() > MAX_VERSION {
        return Err(format!("is {} characters long; at most {MAX_VERSION}", s.len()));
    }
    if let Some(c) = s.chars().find(|c| !(c.is_ascii_alphanumeric() || "._+-".contains(*c))) {
        return Err(format!("contains {c:?}; use only letters, digits, '.', '_', '+' and '-'"));
    }
    if slug(s).is_empty() {
        return Err("must contain at least one letter or digit".into());
    }
    Ok(())
}

/// The version as one DNS label: lowercase, every run of other characters turned into a single '-'.
/// `v1.2.0` becomes `v1-2-0`, so a wildcard certificate for the domain still covers the preview host and the
/// compose project name stays valid.
pub fn slug(version: &str) -> String {
    let mut out = String::with_capacity(version.len());
    let mut pending_dash = false;
    for c in version.chars() {
        if c.is_ascii_alphanumeric() {
            if pending_dash && !out.is_empty() {
                out.push('-');
            }
            pending_dash = false;
            out.push(c.to_ascii_lowercase());
        } else {
            pending_dash = true;
        }
    }
    out
}

/// True when `name` may be used as a Traefik router/service name in switchyard's output.
pub fn is_safe_traefik_name(name: &str) -> bool {
    // Byte by byte: a non-ASCII character has no byte that passes.
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// The name a declared file gets in Traefik's directory: the last element of its path (`traefik/tls.yml` becomes
/// `tls.yml`), as the spec's validation checks it (SY0150-SY0152).
pub fn base_name(declared: &str) -> &str {
    declared.rsplit(['/', '\\']).next().unwrap_or(declared)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_single_labels() {
        assert_eq!(slug("v1.2.0"), "v1-2-0");
        assert_eq!(slug("1.4.0-rc.1+build.7"), "1-4-0-rc-1-build-7");
        assert_eq!(slug("..V2__"), "v2");
        assert_eq!(slug("--"), "");
        assert!(check_label(&slug("Release_2024.05.01")).is_ok());
    }

    #[test]
    fn injection_attempts_are_refused() {
        for bad in ["a`b", "a\"b", "a b", "{{x}}", "a.b", "A", "-a", "a-", "a/b", ""] {
            assert!(check_label(bad).is_err(), "{bad:?}");
        }
        for bad in ["x`) || Host(`evil", "a..b", ".a", "a.", "a.-b"] {
            assert!(check_hostname(bad).is_err(), "{bad:?}");
        }
        assert!(check_hostname("api.v1-2-0-whoami.dev.example.com").is_ok());
        for bad in ["/a`b", "/{{x}}", "a", "/a b", "/a\"", "/a'"] {
            assert!(check_url_path(bad, true).is_err(), "{bad:?}");
        }
        assert!(check_url_path("/health?full=1", true).is_ok());
        assert!(check_url_path("/health?full=1", false).is_err());
        for bad in ["v1`", "v1 2", "v1/2", "{{v}}", "...", ""] {
            assert!(check_version(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_hostname_fast_path_agrees() {
        let long_label = "a".repeat(64);
        let long_host = ["a".repeat(63), "b".repeat(63), "c".repeat(63), "d".repeat(61)].join(".");
        for s in [
            "a",
            "a.b",
            "a-b.c",
            "-a",
            "a-",
            "a.-b",
            "a-.b",
            "a..b",
            ".a",
            "a.",
            "",
            ".",
            "A",
            "a_b",
            "é.com",
            "a b",
            "1.2.3.4",
            "x--y.z",
            &long_label,
            &long_host,
            &long_host[1..],
        ] {
            let slow = s.is_empty()
                || s.len() > MAX_HOSTNAME
                || s.split('.').any(|l| {
                    l.is_empty()
                        || l.len() > MAX_LABEL
                        || l.starts_with('-')
                        || l.ends_with('-')
                        || !l.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                });
            assert_eq!(is_valid_hostname(s.as_bytes()), !slow, "{s:?}");
            assert_eq!(check_hostname(s).is_ok(), !slow, "{s:?}");
        }
    }

    #[test]
    fn middleware_refs_need_a_provider() {
        assert!(check_reference("secure-headers@file").is_ok());
        assert!(check_reference("secure-headers").is_err());
        assert!(check_reference("a`b@file").is_err());
        assert!(check_reference("ab@Fi.le").is_err());
    }
}
