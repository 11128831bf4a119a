//! The structural checker: walks one file's [`Node`] tree against the [`Shape`] of [`DynamicConfig`] and
//! reports every problem at once, the way Traefik's file provider (paerser) would react:
//!
//! - a key Traefik does not know (SY3002, with a did-you-mean): paerser fails with "field not found" and the
//!   file is refused. Unknown top-level keys are the exception: Traefik silently ignores them;
//! - a value of the wrong shape or that the Go type refuses (SY3003): `priority: high`, `passHostHeader: yes`,
//!   `interval: 10 s`; a string where a list of values is wanted (`entryPoints: web,websecure`) is a warning:
//!   Traefik reads it as the list, split at commas;
//! - an empty mapping (or a bare value) where a block is wanted (SY3004, error): paerser refuses the whole file
//!   with "middlewares cannot be a standalone element"; fields tagged `allowEmpty` (`tls`, `healthCheck` of
//!   weighted services, `sticky`, ...) are the exception. A null value is skipped by Traefik (SY3004, warning);
//! - v2 options still read by v3 (SY3005, warning);
//! - the same key spelled twice with a different case (SY3008, warning) and keys spelled with another case than
//!   Traefik's (SY3009, info): paerser matches keys case-insensitively.
//!
//! [`check`] walks a file down to its named definitions (routers, services, ...) and lists them;
//! [`check_definition`] checks each one and says whether it is free of errors. Both give the normalisations serde
//! needs afterwards (keys in Traefik's spelling, `tls: true` as `tls: {}`), applied by [`apply`].

#[cfg(doc)]
use switchyard_diagnostics::KeyPath;
use switchyard_diagnostics::{Diagnostic, Location, did_you_mean};

use super::model::DynamicConfig;
use super::schema::{Field, Section, Shape, Struct, Ty};
use super::source::{Format, Key, Kind, Node};

/// A named definition found in a file.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    pub section: Section,
    /// The name (for certificates, the index in the file's list).
    pub name: String,
    /// Child indices from the root to the definition.
    pub index: DefIndex,
    /// No error was found inside it (set by [`check_definition`]).
    pub valid: bool,
    pub line: u32,
    pub column: u32,
    pub path: String,
    /// Its shape, and whether it is a list item (certificates) rather than a named entry.
    ty: &'static Ty,
    item: bool,
}

/// Child indices from the root to a definition, kept inline: definitions are three levels down (`http`,
/// `routers`, the name), so a record needs no allocation of its own.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DefIndex {
    items: [u32; 8],
    len: u8,
}

impl DefIndex {
    fn new(index: &[u32]) -> Self {
        let mut items = [0; 8];
        let len = index.len().min(8);
        items[..len].copy_from_slice(&index[..len]);
        DefIndex { items, len: u8::try_from(len).unwrap_or(8) }
    }

    pub(crate) fn as_slice(&self) -> &[u32] {
        &self.items[..usize::from(self.len)]
    }
}

/// A change to make to the tree before deserialising it.
#[derive(Debug, Clone)]
pub(crate) struct Fixup {
    /// Child indices from the root to a mapping entry.
    index: Vec<u32>,
    action: Action,
}

#[derive(Debug, Clone)]
enum Action {
    /// Spell the key as Traefik does.
    Rename(&'static str),
    /// `tls: true` on an `allowEmpty` field: the block with its defaults.
    Enable,
    /// A value Traefik ignores (an `allowEmpty` field set to anything but `true`, the loser of two spellings).
    Drop,
}

#[derive(Debug)]
pub(crate) struct Checked {
    pub diagnostics: Vec<Diagnostic>,
    pub fixups: Vec<Fixup>,
    pub records: Vec<Record>,
}

/// Top-level keys of Traefik's static configuration: in a dynamic file they are ignored.
const STATIC_KEYS: &[&str] = &[
    "global",
    "serversTransport",
    "tcpServersTransport",
    "entryPoints",
    "providers",
    "api",
    "metrics",
    "ping",
    "log",
    "accessLog",
    "tracing",
    "hostResolver",
    "certificatesResolvers",
    "experimental",
    "core",
    "spiffe",
    "ocsp",
    "pilot",
    "hub",
];

#[derive(Clone, Copy)]
enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

#[derive(Clone, Copy)]
enum Parent<'a> {
    /// The value of a struct field.
    Field(&'static Field, &'a Key<'a>),
    /// The value of an entry of a `map[string]T`.
    Entry(&'a Key<'a>),
    /// An item of a list.
    Item,
}

struct Checker<'a> {
    file: &'a str,
    format: Format,
    /// The path of the definition being checked, before `path`.
    prefix: &'a str,
    diagnostics: Vec<Diagnostic>,
    errors: usize,
    path: Vec<Seg<'a>>,
    index: Vec<u32>,
    fixups: Vec<Fixup>,
    records: Vec<Record>,
}

/// Checks one file's tree down to its named definitions (routers, services, ...), which it lists without
/// checking them: [`check_definition`] does, one at a time, so that each is checked and then converted while it
/// is in the processor's cache.
pub(crate) fn check<'a>(root: &'a Node<'a>, file: &'a str, format: Format) -> Checked {
    let mut c = Checker::new(file, format, "");
    c.root(root);
    Checked { diagnostics: c.diagnostics, fixups: c.fixups, records: c.records }
}

/// Checks one definition listed by [`check`] (found at `record.index` in `root`), and sets `record.valid`. The
/// fixups it returns are relative to the root. `walk` is a buffer for the walk's stack, reused from one definition
/// to the next.
pub(crate) fn check_definition<'a>(
    root: &'a Node<'a>,
    record: &mut Record,
    file: &'a str,
    format: Format,
    walk: &mut Vec<u32>,
) -> Checked {
    let Some((&last, parent_index)) = record.index.as_slice().split_last() else {
        return Checked { diagnostics: Vec::new(), fixups: Vec::new(), records: Vec::new() };
    };
    let parent = node_at(root, parent_index).map(|n| &n.kind);
    let path = std::mem::take(&mut record.path);
    let mut c = Checker::new(file, format, &path);
    // Room for the deepest walk (Traefik's options are at most 8 levels deep), so the stack is allocated once.
    c.path = Vec::with_capacity(16);
    // The walk pushes and pops below the definition's own index.
    walk.clear();
    walk.extend_from_slice(record.index.as_slice());
    c.index = std::mem::take(walk);
    match (parent, record.item) {
        (Some(Kind::Map(entries)), false) => {
            if let Some((key, value)) = entries.get(last as usize) {
                c.value(value, record.ty, Parent::Entry(key));
            }
        }
        (Some(Kind::Seq(items)), true) => {
            if let Some(item) = items.get(last as usize) {
                c.value(item, record.ty, Parent::Item);
            }
        }
        _ => {}
    }
    let (valid, diagnostics, fixups, index) = (c.errors == 0, c.diagnostics, c.fixups, c.index);
    record.valid = valid;
    *walk = index;
    record.path = path;
    Checked { diagnostics, fixups, records: Vec::new() }
}

/// Applies the normalisations found by [`check`]. They never add or remove entries, so the indices of
/// [`Record`]s stay valid.
pub(crate) fn apply(root: &mut Node<'_>, fixups: Vec<Fixup>) {
    for fixup in fixups {
        let Some((last, parents)) = fixup.index.split_last() else { continue };
        let Some(node) = node_at_mut(root, parents) else { continue };
        let Kind::Map(entries) = &mut node.kind else { continue };
        let Some((key, value)) = entries.get_mut(*last as usize) else { continue };
        match fixup.action {
            Action::Rename(name) => key.name = name.into(),
            Action::Enable => value.kind = Kind::Map(Vec::new()),
            Action::Drop => value.kind = Kind::Null,
        }
    }
}

fn node_at_mut<'n, 's>(root: &'n mut Node<'s>, index: &[u32]) -> Option<&'n mut Node<'s>> {
    let mut node = root;
    for i in index {
        node = match &mut node.kind {
            Kind::Map(entries) => &mut entries.get_mut(*i as usize)?.1,
            Kind::Seq(items) => items.get_mut(*i as usize)?,
            _ => return None,
        };
    }
    Some(node)
}

/// The node at `index` (child indices from `root`).
pub(crate) fn node_at<'n, 's>(root: &'n Node<'s>, index: &[u32]) -> Option<&'n Node<'s>> {
    let mut node = root;
    for i in index {
        node = match &node.kind {
            Kind::Map(entries) => &entries.get(*i as usize)?.1,
            Kind::Seq(items) => items.get(*i as usize)?,
            _ => return None,
        };
    }
    Some(node)
}

fn struct_of(ty: &'static Ty) -> Option<&'static Struct> {
    match ty {
        Ty::Struct(s) => Some(s),
        _ => None,
    }
}

/// What a type expects, for messages.
fn expected(ty: &Ty) -> &'static str {
    match ty {
        Ty::Str => "a string",
        Ty::Int => "an integer",
        Ty::Bool => "true or false",
        Ty::Duration => "a duration (`10s`, `1m30s`, `500ms`, or a number of seconds)",
        Ty::Any => "a value",
        Ty::List(_) => "a list",
        Ty::Map(_) => "a mapping of names to values",
        Ty::Struct(_) => "a mapping",
    }
}

fn is_scalar_ty(ty: &Ty) -> bool {
    matches!(ty, Ty::Str | Ty::Int | Ty::Bool | Ty::Duration)
}

impl<'a> Checker<'a> {
    fn new(file: &'a str, format: Format, prefix: &'a str) -> Self {
        Checker {
            file,
            format,
            prefix,
            diagnostics: Vec::new(),
            errors: 0,
            path: Vec::new(),
            index: Vec::new(),
            fixups: Vec::new(),
            records: Vec::new(),
        }
    }

    /// The current key path, written like [`KeyPath`] does (`a."b.c"[0]`), in one allocation.
    fn path_string(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::with_capacity(64);
        out.push_str(self.prefix);
        for seg in &self.path {
            match seg {
                Seg::Key(k) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    let plain = !k.is_empty()
                        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$');
                    if plain {
                        out.push_str(k);
                    } else {
                        let _ = write!(out, "{k:?}");
                    }
                }
                Seg::Index(i) => {
                    let _ = write!(out, "[{i}]");
                }
            }
        }
        out
    }

    fn at(&self, line: u32, column: u32) -> Option<Location> {
        Some(Location { file: self.file.to_string(), line: line as usize, column: column as usize })
    }

    fn push(&mut self, mut d: Diagnostic, line: u32, column: u32) {
        if d.is_error() {
            self.errors += 1;
        }
        let path = self.path_string();
        if !path.is_empty() {
            d = d.at(path);
        }
        d.location = self.at(line, column);
        self.diagnostics.push(d);
    }

    /// The name of the current value for messages: its key, or `item N of key`.
    fn name(&self) -> String {
        match self.path.last() {
            Some(Seg::Key(k)) => format!("`{k}`"),
            Some(Seg::Index(i)) => {
                let parent = self.path.iter().rev().find_map(|s| match s {
                    Seg::Key(k) => Some(*k),
                    Seg::Index(_) => None,
                });
                format!("item {i} of `{}`", parent.unwrap_or("?"))
            }
            None if !self.prefix.is_empty() => format!("`{}`", self.prefix.rsplit('.').next().unwrap_or(self.prefix)),
            None => "the file".to_string(),
        }
    }

    fn fixup(&mut self, index: Vec<u32>, action: Action) {
        self.fixups.push(Fixup { index, action });
    }

    fn list_hint(&self, key: &str, value: &Node<'_>) -> String {
        let text = value.scalar_text().unwrap_or_default();
        match self.format {
            Format::Yaml => format!("write a list: `{key}: [{text}]`"),
            Format::Toml => format!("write a list: `{key} = [\"{text}\"]`"),
        }
    }

    fn empty_block_hint(&self, key: &str) -> String {
        match self.format {
            Format::Yaml => format!("write `{key}: {{}}`"),
            Format::Toml => format!("write `{key} = {{}}` or an empty `[...{key}]` table"),
        }
    }

    // -----------------------------------------------------------------------------------------------------------

    fn root(&mut self, root: &'a Node<'a>) {
        let Ty::Struct(s) = &DynamicConfig::TY else { return };
        match &root.kind {
            Kind::Null => self.push(empty_file(), root.line, root.column),
            Kind::Map(entries) => {
                if entries.is_empty() {
                    self.push(empty_file(), root.line, root.column);
                }
                self.fields(s, entries, true);
            }
            _ => self.push(
                Diagnostic::error(
                    "SY3003",
                    format!(
                        "the file is {}: the top level must be a mapping of `http`, `tcp`, `udp` and `tls`",
                        root.describe()
                    ),
                ),
                root.line,
                root.column,
            ),
        }
    }

    fn fields(&mut self, s: &'static Struct, entries: &'a [(Key<'a>, Node<'a>)], root: bool) {
        // Two spellings of one key need one of them spelled differently from Traefik: look back only then.
        let mut inexact = false;
        for (i, (key, value)) in entries.iter().enumerate() {
            self.index.push(i as u32);
            match s.field(&key.name) {
                Some((field, exact)) => {
                    self.path.push(Seg::Key(field.key));
                    inexact |= !exact;
                    if inexact
                        && let Some(prev) = entries[..i]
                            .iter()
                            .position(|(k, _)| s.field(&k.name).is_some_and(|(f, _)| f.key == field.key))
                    {
                        self.case_duplicate(entries, prev, i);
                    }
                    if !exact {
                        let d = Diagnostic::info(
                            "SY3009",
                            format!(
                                "`{}` is spelled `{}` by Traefik; it matches keys without regard to case, so this \
                                 works, but other tools (and readers) expect `{}`",
                                key.name, field.key, field.key
                            ),
                        );
                        self.push(d, key.line, key.column);
                        self.fixup(self.index.clone(), Action::Rename(field.key));
                    }
                    if let Some(dep) = field.meta.deprecated
                        && !value.is_null()
                    {
                        let d = Diagnostic::warning("SY3005", dep.note).hint(dep.instead);
                        self.push(d, key.line, key.column);
                    }
                    self.value(value, field.ty, Parent::Field(field, key));
                    self.path.pop();
                }
                None => {
                    self.path.push(Seg::Key(&key.name));
                    self.unknown_key(s, key, root);
                    self.path.pop();
                }
            }
            self.index.pop();
        }
    }

    /// Two spellings of one key (`entryPoints` and `entrypoints`): paerser reads the keys in byte order and the
    /// later one overwrites the earlier.
    fn case_duplicate(&mut self, entries: &'a [(Key<'a>, Node<'a>)], prev: usize, current: usize) {
        let (a, b) = (&entries[prev].0, &entries[current].0);
        let (winner, loser) = if b.name > a.name { (current, prev) } else { (prev, current) };
        let d = Diagnostic::warning(
            "SY3008",
            format!(
                "`{}` (line {}) and `{}` are one key for Traefik, which ignores case; it uses `{}` and ignores `{}`",
                a.name, a.line, b.name, entries[winner].0.name, entries[loser].0.name
            ),
        )
        .hint("keep only one of them");
        self.push(d, b.line, b.column);
        let mut index = self.index.clone();
        if let Some(last) = index.last_mut() {
            *last = loser as u32;
        }
        self.fixup(index, Action::Drop);
    }

    fn unknown_key(&mut self, s: &'static Struct, key: &Key<'_>, root: bool) {
        let name: &str = &key.name;
        let keys: Vec<&str> = s.fields.iter().map(|f| f.key).collect();
        let mut d;
        if root {
            if let Some(k) = STATIC_KEYS.iter().find(|k| k.eq_ignore_ascii_case(name)) {
                d = Diagnostic::warning(
                    "SY3002",
                    format!("`{name}` is static configuration: Traefik ignores it in a dynamic configuration file"),
                )
                .hint(format!("move `{k}` to the static configuration (traefik.yml or command-line flags)"));
                self.push(d, key.line, key.column);
                return;
            }
            d = Diagnostic::error(
                "SY3002",
                format!("unknown top-level key `{name}`: Traefik silently ignores it, so nothing below it is loaded"),
            );
            if matches!(name, "frontends" | "backends") {
                d = d.hint("this is Traefik v1 configuration: v2 and v3 use `http.routers` and `http.services`");
            } else if let Some(section) = ["routers", "services", "middlewares", "serversTransports"]
                .iter()
                .find(|k| k.eq_ignore_ascii_case(name))
            {
                d = d.hint(format!("`{section}` goes under `http` (or `tcp`/`udp`): `http: {{{section}: ...}}`"));
            }
        } else {
            d = Diagnostic::error("SY3002", format!("unknown key `{name}`"));
        }
        let lower = name.to_ascii_lowercase();
        let lowered: Vec<String> = keys.iter().map(|k| k.to_ascii_lowercase()).collect();
        let suggestion = did_you_mean(&lower, lowered.iter().map(String::as_str))
            .and_then(|l| lowered.iter().position(|k| k == l))
            .map(|i| keys[i]);
        if let Some(best) = suggestion {
            d = d.hint(format!("did you mean `{best}`?"));
        }
        // A key of a block one level down: `certResolver` directly on a router.
        for f in s.fields {
            if let Some(inner) = struct_of(f.ty)
                && let Some((g, _)) = inner.field(name)
            {
                d = d.hint(format!("`{}` belongs inside `{}`: `{}.{}`", g.key, f.key, f.key, g.key));
            }
        }
        match (s.name, name) {
            ("Middleware", _) => {
                d = d.hint(format!(
                    "if `{name}` is a plugin, configure it under `plugin`: `plugin: {{{name}: {{...}}}}`"
                ));
            }
            ("Service" | "TcpService" | "UdpService", "servers") => {
                d = d.hint("servers go inside a load balancer: `loadBalancer: {servers: [...]}`");
            }
            ("LoadBalancer", "url") | ("TcpLoadBalancer" | "UdpLoadBalancer", "address") => {
                d = d.hint(format!("each server is an item of `servers`: `servers: [{{{name}: ...}}]`"));
            }
            _ => {}
        }
        if suggestion.is_none() && !root {
            d = d.hint(format!("the keys allowed here are: {}", keys.join(", ")));
        }
        self.push(d, key.line, key.column);
    }

    /// Checks `node` against `ty`.
    fn value(&mut self, node: &'a Node<'a>, ty: &'static Ty, parent: Parent<'a>) {
        if node.is_null() {
            self.null(ty, parent, node);
            return;
        }
        match ty {
            Ty::Any => {}
            Ty::Str | Ty::Int | Ty::Bool | Ty::Duration => self.scalar(node, ty),
            Ty::List(elem) => self.list(node, elem, parent),
            Ty::Map(elem) => self.map(node, elem, parent),
            Ty::Struct(s) => self.block(node, s, parent),
        }
    }

    fn null(&mut self, ty: &'static Ty, parent: Parent<'a>, node: &Node<'_>) {
        match parent {
            Parent::Item => {
                let d =
                    Diagnostic::error("SY3003", "an empty (null) list item").hint("remove the item or give it a value");
                self.push(d, node.line, node.column);
            }
            Parent::Field(field, key) => {
                let mut d = Diagnostic::warning("SY3004", format!("{} has no value: Traefik ignores it", self.name()));
                if field.meta.allow_empty {
                    d = d.hint(format!("to enable it with its defaults, {}", self.empty_block_hint(&key.name)));
                } else if let Ty::Struct(_) | Ty::Map(_) = ty {
                    d = d.hint(format!("remove `{}` or fill it in", key.name));
                }
                self.push(d, key.line, key.column);
            }
            Parent::Entry(key) => {
                let mut d =
                    Diagnostic::warning("SY3004", format!("`{}` has no value: Traefik ignores this entry", key.name));
                if matches!(ty, Ty::Str) {
                    d = d.hint("write `\"\"` for an empty value (an empty custom header value removes the header)");
                }
                self.push(d, key.line, key.column);
            }
        }
    }

    fn scalar(&mut self, node: &'a Node<'a>, ty: &'static Ty) {
        // The common cases, without building the text Traefik would see.
        match (ty, &node.kind) {
            (Ty::Str, Kind::Str(_) | Kind::Int(_) | Kind::Bool(_) | Kind::Float(_))
            | (Ty::Int, Kind::Int(_))
            | (Ty::Bool, Kind::Bool(_))
            | (Ty::Duration, Kind::Int(_)) => return,
            (Ty::Duration, Kind::Str(s)) if super::golang::parse_paerser_duration(s).is_some() => return,
            _ => {}
        }
        let Some(text) = node.scalar_text() else {
            let mut d = Diagnostic::error(
                "SY3003",
                format!("{} must be {}, not {}", self.name(), expected(ty), node.describe()),
            );
            if matches!(node.kind, Kind::Seq(_)) {
                d = d.hint("Traefik takes a single value here");
            }
            self.push(d, node.line, node.column);
            return;
        };
        let ok = match ty {
            Ty::Int => super::golang::parse_int10(&text).is_some(),
            Ty::Bool => super::golang::parse_bool(&text).is_some(),
            Ty::Duration => super::golang::parse_paerser_duration(&text).is_some(),
            _ => true,
        };
        if ok {
            return;
        }
        let shown = node.text.as_deref().map_or_else(|| text.to_string(), str::to_string);
        let mut d = Diagnostic::error("SY3003", format!("{} must be {}: `{shown}` is not", self.name(), expected(ty)));
        match (ty, &node.kind) {
            (Ty::Int | Ty::Duration, Kind::Float(_)) => {
                d = d.hint(format!("Traefik reads this number as `{text}`, which is not a whole number"));
                if matches!(ty, Ty::Duration) {
                    d = d.hint(format!("write a unit: `{shown}s`"));
                }
            }
            (Ty::Bool, Kind::Str(_))
                if self.format == Format::Yaml
                    && !node.quoted
                    && matches!(text.to_ascii_lowercase().as_str(), "yes" | "no" | "on" | "off" | "y" | "n") =>
            {
                d = d.hint("Traefik's YAML decoder (YAML 1.2) reads yes/no/on/off as strings: write true or false");
            }
            (Ty::Bool, _) => d = d.hint("write true or false"),
            (Ty::Duration, _) => {
                d = d.hint("Go durations have no spaces and use the units ns, us, ms, s, m, h (there is no `d`)");
            }
            _ => {}
        }
        self.push(d, node.line, node.column);
    }

    fn list(&mut self, node: &'a Node<'a>, elem: &'static Ty, parent: Parent<'a>) {
        let section = match parent {
            Parent::Field(f, _) => f.meta.section,
            _ => None,
        };
        match &node.kind {
            Kind::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.path.push(Seg::Index(i));
                    self.index.push(i as u32);
                    if let Some(section) = section {
                        self.record(section, i.to_string(), elem, true, item.line, item.column);
                    } else if is_scalar_ty(elem) && matches!(item.kind, Kind::Seq(_) | Kind::Map(_)) {
                        let d = Diagnostic::error(
                            "SY3003",
                            format!("{} must be {}, not {}", self.name(), expected(elem), item.describe()),
                        );
                        self.push(d, item.line, item.column);
                    } else {
                        self.value(item, elem, Parent::Item);
                    }
                    self.index.pop();
                    self.path.pop();
                }
            }
            Kind::Map(_) => {
                let mut d = Diagnostic::error("SY3003", format!("{} must be a list, not a mapping", self.name()));
                if struct_of(elem).is_some() {
                    d = d.hint(match self.format {
                        Format::Yaml => "start each item with `- `",
                        Format::Toml => "write each item as an `[[...]]` array-of-tables entry",
                    });
                }
                self.push(d, node.line, node.column);
            }
            // Traefik reads a scalar where a list of scalars is wanted as that list, split at commas and trimmed
            // (`entryPoints: web, websecure` is two entry points): accepted, with a style warning.
            Kind::Str(_) if is_scalar_ty(elem) => {
                let text = node.scalar_text().unwrap_or_default();
                let items: Vec<&str> = text.split(',').map(str::trim).collect();
                let mut d = Diagnostic::warning(
                    "SY3003",
                    format!(
                        "{} is a list written as a string: Traefik reads `{text}` as the list [{}]",
                        self.name(),
                        items.join(", ")
                    ),
                );
                if let Parent::Field(_, key) = parent {
                    d = d.hint(self.list_hint(&key.name, node));
                }
                self.push(d, node.line, node.column);
            }
            _ => {
                let mut d =
                    Diagnostic::error("SY3003", format!("{} must be a list, not {}", self.name(), node.describe()));
                if let Parent::Field(_, key) = parent
                    && is_scalar_ty(elem)
                {
                    d = d.hint(self.list_hint(&key.name, node));
                }
                self.push(d, node.line, node.column);
            }
        }
    }

    fn map(&mut self, node: &'a Node<'a>, elem: &'static Ty, parent: Parent<'a>) {
        let section = match parent {
            Parent::Field(f, _) => f.meta.section,
            _ => None,
        };
        match &node.kind {
            Kind::Map(entries) => {
                if entries.iter().all(|(_, v)| v.is_null()) {
                    self.standalone(node, parent);
                }
                for (i, (key, value)) in entries.iter().enumerate() {
                    self.path.push(Seg::Key(&key.name));
                    self.index.push(i as u32);
                    match section {
                        Some(section) if !value.is_null() => {
                            self.record(section, key.name.to_string(), elem, false, key.line, key.column);
                        }
                        _ => self.value(value, elem, Parent::Entry(key)),
                    }
                    self.index.pop();
                    self.path.pop();
                }
            }
            Kind::Seq(_) => {
                let mut d = Diagnostic::error(
                    "SY3003",
                    format!("{} must be a mapping of names to values, not a list", self.name()),
                );
                if let Some(section) = section {
                    d = d.hint(format!(
                        "{}s are a mapping by name: `{}: {{my-name: {{...}}}}`",
                        section.label(),
                        section.keys()[1]
                    ));
                }
                self.push(d, node.line, node.column);
            }
            _ => self.standalone(node, parent),
        }
    }

    fn block(&mut self, node: &'a Node<'a>, s: &'static Struct, parent: Parent<'a>) {
        match &node.kind {
            Kind::Map(entries) => {
                if entries.iter().all(|(_, v)| v.is_null()) {
                    self.standalone(node, parent);
                }
                self.fields(s, entries, false);
            }
            Kind::Seq(_) => {
                let d = Diagnostic::error("SY3003", format!("{} must be a mapping, not a list", self.name()));
                self.push(d, node.line, node.column);
            }
            _ => match parent {
                Parent::Field(field, _) if field.meta.allow_empty => {
                    let text = node.scalar_text().unwrap_or_default();
                    if text.eq_ignore_ascii_case("true") {
                        self.fixup(self.index.clone(), Action::Enable);
                    } else {
                        if !text.eq_ignore_ascii_case("false") {
                            let d = Diagnostic::warning(
                                "SY3003",
                                format!(
                                    "{} is `{text}`: Traefik enables it only for `true` (or a mapping) and ignores it \
                                     otherwise",
                                    self.name()
                                ),
                            );
                            self.push(d, node.line, node.column);
                        }
                        self.fixup(self.index.clone(), Action::Drop);
                    }
                }
                _ => self.standalone(node, parent),
            },
        }
    }

    /// An empty mapping, or a bare value, where a block or a mapping is wanted.
    fn standalone(&mut self, node: &'a Node<'a>, parent: Parent<'a>) {
        match parent {
            Parent::Field(field, key) => {
                if field.meta.allow_empty && !node.is_scalar() {
                    return;
                }
                let d = if node.is_scalar() {
                    Diagnostic::error(
                        "SY3003",
                        format!(
                            "{} must be a mapping, not {}: Traefik refuses the whole file (\"{} cannot be a \
                             standalone element\")",
                            self.name(),
                            node.describe(),
                            key.name
                        ),
                    )
                } else {
                    let empty =
                        if node.entries().is_empty() { "is empty" } else { "has only null values, so is empty" };
                    let mut d = Diagnostic::error(
                        "SY3004",
                        format!(
                            "{} {empty}: Traefik refuses the whole file (\"{} cannot be a standalone element\")",
                            self.name(),
                            key.name
                        ),
                    );
                    d = d.hint(format!("remove `{}`, or fill it in", key.name));
                    d
                };
                self.push(d, key.line, key.column);
            }
            // An empty definition (`my-router: {}`) is accepted by the decoder; later checks judge it. A bare
            // value becomes an empty definition in Traefik: certainly not what was meant.
            Parent::Entry(_) | Parent::Item if !node.is_scalar() => {}
            Parent::Entry(_) | Parent::Item => {
                let d =
                    Diagnostic::error("SY3003", format!("{} must be a mapping, not {}", self.name(), node.describe()))
                        .hint("Traefik would read it as an empty definition");
                self.push(d, node.line, node.column);
            }
        }
    }

    fn record(&mut self, section: Section, name: String, ty: &'static Ty, item: bool, line: u32, column: u32) {
        debug_assert!(self.index.len() <= 8, "definitions are three levels down");
        self.records.push(Record {
            section,
            name,
            index: DefIndex::new(&self.index),
            valid: false,
            line,
            column,
            path: self.path_string(),
            ty,
            item,
        });
    }
}

fn empty_file() -> Diagnostic {
    Diagnostic::warning(
        "SY3004",
        "the file defines nothing: Traefik applies it as an empty configuration, so what it defined before \
         disappears (its routers answer 404)",
    )
    .hint("if the file is being written, write it under a name Traefik ignores and rename it when complete")
}
