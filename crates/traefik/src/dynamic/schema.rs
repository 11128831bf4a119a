//! A compact description of the typed model, for the structural checker.
//!
//! There is one source of truth for key names and shapes: the `traefik_struct!` declarations in
//! [`super::model`]. Each declaration expands to a serde struct (every field an `Option`, renamed to Traefik's
//! key, unknown keys refused) and to a [`Shape`] implementation listing the same keys with their [`Ty`], built
//! at compile time from the Rust field types. The checker walks a [`super::source::Node`] tree against these
//! shapes; serde then deserialises the checked tree into the same structs.

use std::collections::BTreeMap;

/// The shape of a value, as Traefik's decoder (paerser) sees the Go type behind it.
#[derive(Debug)]
pub enum Ty {
    /// Go `string` (also `FileOrContent`, `BalancerStrategy`, ...): any scalar, written back as text.
    Str,
    /// Go `int`/`int64`: a scalar whose text `strconv.ParseInt(s, 10, 64)` accepts.
    Int,
    /// Go `bool`: a scalar whose text `strconv.ParseBool` accepts.
    Bool,
    /// paerser `types.Duration`: an integer (seconds) or a Go duration (`10s`, `1m30s`).
    Duration,
    /// Free-form (plugin settings): anything.
    Any,
    /// Go slice.
    List(&'static Ty),
    /// Go `map[string]T`.
    Map(&'static Ty),
    /// Go struct (or pointer to struct).
    Struct(&'static Struct),
}

/// A Go struct: its keys, in Traefik's order.
#[derive(Debug)]
pub struct Struct {
    /// The Rust type name, for messages and tests.
    pub name: &'static str,
    pub fields: &'static [Field],
}

#[derive(Debug)]
pub struct Field {
    /// Traefik's spelling of the key (the serde name).
    pub key: &'static str,
    pub ty: &'static Ty,
    pub meta: Meta,
}

/// What the Go struct tags and the Traefik changelog say about a field beyond its type.
#[derive(Debug, Clone, Copy)]
pub struct Meta {
    /// `file:"allowEmpty"`: the field may be `{}` (or `true`) to enable it with defaults. Without it, an empty
    /// mapping there makes Traefik refuse the whole file ("cannot be a standalone element").
    pub allow_empty: bool,
    /// The field holds named definitions (routers, services, ...) that are merged across files.
    pub section: Option<Section>,
    /// A v2 option kept in v3 for compatibility.
    pub deprecated: Option<&'static Deprecation>,
}

impl Meta {
    pub const NONE: Meta = Meta { allow_empty: false, section: None, deprecated: None };
    pub const ALLOW_EMPTY: Meta = Meta { allow_empty: true, ..Meta::NONE };

    pub const fn section(section: Section) -> Meta {
        Meta { section: Some(section), ..Meta::NONE }
    }

    pub const fn deprecated(deprecation: &'static Deprecation) -> Meta {
        Meta { deprecated: Some(deprecation), ..Meta::NONE }
    }

    pub const fn allow_empty_deprecated(deprecation: &'static Deprecation) -> Meta {
        Meta { allow_empty: true, deprecated: Some(deprecation), ..Meta::NONE }
    }
}

/// A v2 name or option that Traefik v3 still reads but will drop (see [`super::model::deprecations`]).
#[derive(Debug)]
pub struct Deprecation {
    /// What happens in v3.
    pub note: &'static str,
    /// What to write instead.
    pub instead: &'static str,
}

/// The kinds of named definitions, merged across files by name (the first file in sorted order wins).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Section {
    HttpRouter,
    HttpService,
    HttpMiddleware,
    HttpServersTransport,
    TcpRouter,
    TcpService,
    TcpMiddleware,
    TcpServersTransport,
    UdpRouter,
    UdpService,
    /// `tls.certificates`: a list, not named; every file's certificates are kept.
    TlsCertificate,
    TlsOptions,
    TlsStore,
}

impl Section {
    pub const ALL: [Section; 13] = [
        Section::HttpRouter,
        Section::HttpService,
        Section::HttpMiddleware,
        Section::HttpServersTransport,
        Section::TcpRouter,
        Section::TcpService,
        Section::TcpMiddleware,
        Section::TcpServersTransport,
        Section::UdpRouter,
        Section::UdpService,
        Section::TlsCertificate,
        Section::TlsOptions,
        Section::TlsStore,
    ];

    /// For messages: `HTTP router`.
    pub fn label(self) -> &'static str {
        match self {
            Section::HttpRouter => "HTTP router",
            Section::HttpService => "HTTP service",
            Section::HttpMiddleware => "HTTP middleware",
            Section::HttpServersTransport => "HTTP servers transport",
            Section::TcpRouter => "TCP router",
            Section::TcpService => "TCP service",
            Section::TcpMiddleware => "TCP middleware",
            Section::TcpServersTransport => "TCP servers transport",
            Section::UdpRouter => "UDP router",
            Section::UdpService => "UDP service",
            Section::TlsCertificate => "TLS certificate",
            Section::TlsOptions => "TLS options",
            Section::TlsStore => "TLS store",
        }
    }

    /// The keys leading to the section from the top of a file: `["http", "routers"]`.
    pub fn keys(self) -> [&'static str; 2] {
        match self {
            Section::HttpRouter => ["http", "routers"],
            Section::HttpService => ["http", "services"],
            Section::HttpMiddleware => ["http", "middlewares"],
            Section::HttpServersTransport => ["http", "serversTransports"],
            Section::TcpRouter => ["tcp", "routers"],
            Section::TcpService => ["tcp", "services"],
            Section::TcpMiddleware => ["tcp", "middlewares"],
            Section::TcpServersTransport => ["tcp", "serversTransports"],
            Section::UdpRouter => ["udp", "routers"],
            Section::UdpService => ["udp", "services"],
            Section::TlsCertificate => ["tls", "certificates"],
            Section::TlsOptions => ["tls", "options"],
            Section::TlsStore => ["tls", "stores"],
        }
    }
}

/// A type with a known [`Ty`]. Implemented for the scalar types used by the model and generated by
/// `traefik_struct!` for each struct.
pub trait Shape {
    const TY: Ty;
}

impl Shape for String {
    const TY: Ty = Ty::Str;
}

impl Shape for i64 {
    const TY: Ty = Ty::Int;
}

impl Shape for bool {
    const TY: Ty = Ty::Bool;
}

impl Shape for serde_json::Value {
    const TY: Ty = Ty::Any;
}

impl<T: Shape> Shape for Box<T> {
    const TY: Ty = T::TY;
}

impl<T: Shape> Shape for Vec<T> {
    const TY: Ty = Ty::List(&T::TY);
}

impl<T: Shape> Shape for BTreeMap<String, T> {
    const TY: Ty = Ty::Map(&T::TY);
}

impl Struct {
    /// The field spelled exactly `key`, or else the one Traefik matches case-insensitively (paerser compares
    /// keys with the Go field names using `strings.EqualFold`). The flag is true for an exact match.
    pub fn field(&self, key: &str) -> Option<(&'static Field, bool)> {
        // Length and first byte before the comparison: this runs for every key of every file.
        let first = key.as_bytes().first();
        if let Some(f) =
            self.fields.iter().find(|f| f.key.len() == key.len() && f.key.as_bytes().first() == first && f.key == key)
        {
            return Some((f, true));
        }
        self.fields.iter().find(|f| f.key.eq_ignore_ascii_case(key) || eq_fold(f.key, key)).map(|f| (f, false))
    }
}

/// Go's `strings.EqualFold` for the non-ASCII case (ASCII is handled by `eq_ignore_ascii_case`).
fn eq_fold(a: &str, b: &str) -> bool {
    let mut a = a.chars().flat_map(char::to_lowercase);
    let mut b = b.chars().flat_map(char::to_lowercase);
    loop {
        match (a.next(), b.next()) {
            (None, None) => return true,
            (Some(x), Some(y)) if x == y => {}
            _ => return false,
        }
    }
}

/// Declares a struct of the model: a serde struct whose fields are all optional and named as Traefik spells
/// them, refusing unknown keys, and its [`Shape`] listing the same keys. Syntax:
///
/// ```text
/// traefik_struct! {
///     /// Docs.
///     pub struct Router {
///         /// Docs.
///         entry_points: Vec<String> = "entryPoints",
///         tls: RouterTls = "tls" => Meta::ALLOW_EMPTY,
///     }
/// }
/// ```
macro_rules! traefik_struct {
    (
        $(#[$smeta:meta])*
        $vis:vis struct $name:ident {
            $(
                $(#[$fmeta:meta])*
                $field:ident : $ty:ty = $key:literal $(=> $meta:expr)?
            ),* $(,)?
        }
    ) => {
        $(#[$smeta])*
        #[derive(Debug, Clone, Default, PartialEq, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        $vis struct $name {
            $(
                $(#[$fmeta])*
                #[serde(rename = $key, default, skip_serializing_if = "Option::is_none")]
                pub $field: Option<$ty>,
            )*
        }

        impl $crate::dynamic::schema::Shape for $name {
            const TY: $crate::dynamic::schema::Ty =
                $crate::dynamic::schema::Ty::Struct(&$crate::dynamic::schema::Struct {
                    name: stringify!($name),
                    fields: &[$(
                        $crate::dynamic::schema::Field {
                            key: $key,
                            ty: &<$ty as $crate::dynamic::schema::Shape>::TY,
                            meta: $crate::dynamic::schema::traefik_struct!(@meta $($meta)?),
                        }
                    ),*],
                });
        }
    };
    (@meta) => { $crate::dynamic::schema::Meta::NONE };
    (@meta $meta:expr) => { $meta };
}

pub(crate) use traefik_struct;

/// Every key path of a shape, with `*` for map keys and `[]` for list items: `http.routers.*.entryPoints[]`.
/// Used by tests to compare the checker's view with serde's.
pub fn key_paths(ty: &'static Ty) -> Vec<String> {
    fn walk(ty: &'static Ty, prefix: &str, out: &mut Vec<String>) {
        match ty {
            Ty::List(inner) => walk(inner, &format!("{prefix}[]"), out),
            Ty::Map(inner) => walk(inner, &format!("{prefix}.*"), out),
            Ty::Struct(s) => {
                for f in s.fields {
                    let path = if prefix.is_empty() { f.key.to_string() } else { format!("{prefix}.{}", f.key) };
                    out.push(path.clone());
                    walk(f.ty, &path, out);
                }
            }
            Ty::Str | Ty::Int | Ty::Bool | Ty::Duration | Ty::Any => {}
        }
    }
    let mut out = Vec::new();
    walk(ty, "", &mut out);
    out
}
