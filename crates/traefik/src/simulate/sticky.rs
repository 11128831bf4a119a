//! Sticky cookies as Traefik 3.7 reads them (seen running): the value it sets is the first 16 hex digits of the
//! SHA-256 of the target's name, the weighted child's name exactly as written in the service (`green`, or
//! `green@file` when written so) or the server's URL for a load balancer. It also accepts the name or URL
//! itself and its FNV-1 64-bit hash in hex (older Traefik's values; FNV-1, not FNV-1a, seen running), and then
//! sets the SHA-256 form instead.

use sha2::{Digest, Sha256};

/// The cookie value Traefik sets for the target `name` (a weighted child's name as written, or a server's URL).
pub fn cookie_value(name: &str) -> String {
    Sha256::digest(name.as_bytes()).iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// How a cookie value names a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// The value Traefik sets ([`cookie_value`]).
    Hashed,
    /// The name or URL itself (Traefik then rewrites the cookie).
    Raw,
    /// Its FNV-1 64-bit hash in hex (Traefik then rewrites the cookie).
    Fnv,
}

/// Whether the cookie `value` names the target `name`, and how.
pub fn pins(value: &str, name: &str) -> Option<Form> {
    if value == cookie_value(name) {
        Some(Form::Hashed)
    } else if value == name {
        Some(Form::Raw)
    } else if value == format!("{:x}", fnv1(name)) {
        Some(Form::Fnv)
    } else {
        None
    }
}

/// FNV-1 64-bit (multiply, then xor: Go's `hash/fnv.New64`).
fn fnv1(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash: u64, b| hash.wrapping_mul(0x0000_0100_0000_01b3) ^ u64::from(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_forms_of_a_cookie() {
        assert_eq!(cookie_value("green").len(), 16);
        assert_eq!(pins(&cookie_value("green@file"), "green@file"), Some(Form::Hashed));
        assert_eq!(pins("green@file", "green@file"), Some(Form::Raw));
        assert_eq!(pins(&format!("{:x}", fnv1("green")), "green"), Some(Form::Fnv));
        assert_eq!(pins(&format!("{:x}", switchyard_lookup::fnv1a(b"green")), "green"), None);
        assert_eq!(pins("green", "green@file"), None);
        assert_eq!(pins(&cookie_value("green"), "green@file"), None);
    }
}
