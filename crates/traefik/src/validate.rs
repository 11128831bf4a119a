//! The semantic checks of `switchyard validate`, for any Traefik v3 dynamic configuration: what
//! [`dynamic::load()`] cannot see one definition at a time. Router rules are parsed ([`rules::parse`]) and linted,
//! every reference between definitions is resolved the way Traefik resolves `name@provider` names, and the
//! configuration is checked for the hazards of blue/green deployments in Traefik's weighted round robin, health
//! checks and router priorities: dropped weights, `healthCheck: {}` over children that cannot report health,
//! routers whose order depends on rule length or on Traefik's internal order.
//!
//! [`validate_files`] loads and checks a provider directory; [`check`] runs the checks on a [`Loaded`]
//! configuration. Each diagnostic points at the exact place (the rule's column inside the `rule` value, the
//! `service` value, a weighted child's `name`), with its key path and a hint.
//!
//! The checks by concern, each in its module: `references` (SY32xx), `routers` (rules, priorities and overlaps),
//! `services` (load balancers, weighted services, health), `middlewares`, `tcp_udp`, `tls` and `urls`.
//!
//! Rule errors and lints keep the codes of [`rules`] (SY3101-SY3114 errors, SY3151-SY3159 warnings). The column
//! is the column of the problem in the file when the rule is written verbatim on one line (plain, or quoted
//! without escapes); otherwise the diagnostic points at the start of the value and the message says "column N of
//! the rule". TCP rules get a minimal check (not empty, known TCP matcher names).
//!
//! Their own codes are SY3201-SY3213 and SY3301-SY3309, each with its severity and meaning in
//! [`switchyard_diagnostics::registry`].
//!
//! What is deliberately not flagged: negative priorities (valid), entry points and certificate resolvers (they
//! are static configuration), references to other providers (SY3208 says they are not checked).
//!
//! Cost: a configuration of 20,000 routers is checked in a few tens of milliseconds (see the `validate` bench).
//! Names are looked up in hash tables with a fixed hash (deterministic, never iterated); positions inside the
//! files are looked up only for the definitions that get a diagnostic; routers are compared for priorities only
//! when they name the same literal host.

use std::cell::OnceCell;
use std::collections::BTreeMap;

use crate::dynamic::model::Service;
use crate::dynamic::{self, Format, Loaded, Node, Section};
use switchyard_diagnostics::{Diagnostic, Location};
use switchyard_lookup::{Table, fnv1a};

mod middlewares;
mod references;
mod routers;
mod services;
mod tcp_udp;
mod tls;
mod urls;

/// Loads `files` (name, contents) as Traefik's file provider reads a directory ([`dynamic::load()`]) and runs
/// [`check`]: every diagnostic, structural and semantic, sorted by file (in Traefik's order), line and column.
///
/// When Traefik would refuse a file, the semantic checks do not run: Traefik applies nothing from the directory
/// until that file is fixed, and findings drawn from a half-read file would be about a configuration that never
/// runs (a service "used by no router" because the router's file was refused).
pub fn validate_files(files: &[(String, String)]) -> Vec<Diagnostic> {
    let mut loaded = dynamic::load(files);
    if loaded.files.iter().any(|f| !f.accepted) {
        return std::mem::take(&mut loaded.diagnostics);
    }
    let semantic = check(&loaded);
    let mut all = std::mem::take(&mut loaded.diagnostics);
    if !semantic.is_empty() {
        all.extend(semantic);
        sort(&loaded, &mut all);
    }
    all
}

/// The semantic checks of a loaded configuration (see the module's documentation): only their diagnostics, not
/// those of [`dynamic::load()`], sorted by file, line and column.
pub fn check(loaded: &Loaded<'_>) -> Vec<Diagnostic> {
    let mut v = Validator::new(loaded);
    v.run();
    let mut out = v.out;
    sort(loaded, &mut out);
    out
}

fn sort(loaded: &Loaded<'_>, diagnostics: &mut [Diagnostic]) {
    let rank: BTreeMap<&str, usize> = loaded.files.iter().enumerate().map(|(i, f)| (f.name.as_str(), i)).collect();
    diagnostics.sort_by_cached_key(|d| {
        d.location.as_ref().map(|l| (rank.get(l.file.as_str()).copied().unwrap_or(usize::MAX), l.line, l.column))
    });
}

// ---------------------------------------------------------------------------------------------------------------
// Places

/// A step of a key path below a definition.
#[derive(Debug, Clone, Copy)]
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}
use Step::{Index as I, Key as K};

/// Where a diagnostic points: the value at the end of the steps, or the key that holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Aim {
    Value,
    Key,
}

/// The definitions of one section by name, in name order, with a flag for "something refers to it"; found
/// through a [`Table`].
struct Names<'l> {
    names: Vec<&'l str>,
    used: Vec<bool>,
    table: Table,
}

impl<'l> Names<'l> {
    fn new<T>(map: Option<&'l BTreeMap<String, T>>) -> Self {
        let names: Vec<&str> = map.map(|m| m.keys().map(String::as_str).collect()).unwrap_or_default();
        let used = vec![false; names.len()];
        let mut table = Table::with_capacity(names.len());
        for (i, name) in names.iter().enumerate() {
            table.insert(fnv1a(name.as_bytes()), i);
        }
        Names { names, used, table }
    }

    fn find(&self, name: &str) -> Option<usize> {
        self.table.find(fnv1a(name.as_bytes()), |i| self.names[i] == name)
    }
}

/// A key path of at most four steps below a definition, without allocating.
#[derive(Debug, Clone, Copy)]
struct Steps {
    items: [Step<'static>; 4],
    len: usize,
}

impl Steps {
    fn new(steps: &[Step<'static>]) -> Self {
        let mut items = [K(""); 4];
        let len = steps.len().min(4);
        items[..len].copy_from_slice(&steps[..len]);
        Steps { items, len }
    }

    fn as_slice(&self) -> &[Step<'static>] {
        &self.items[..self.len]
    }
}

/// A child of a service: what it resolved to, its name, and where it is written.
type Child<'l> = (Target, &'l str, Steps);

/// What a reference names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// A valid definition of these files (its index in [`Names`]).
    Local(usize),
    /// A definition of these files that has structural errors (already reported).
    Invalid,
    /// A definition of another provider (`x@docker`).
    External,
    Missing,
}

/// Splits `name@provider`; `@file` is this provider.
fn split_reference(reference: &str) -> (&str, Option<&str>) {
    // A byte loop: names are short, and the general searcher costs more than the search.
    match reference.bytes().position(|b| b == b'@') {
        Some(at) if &reference[at + 1..] == "file" => (&reference[..at], None),
        Some(at) => (&reference[..at], Some(&reference[at + 1..])),
        None => (reference, None),
    }
}

/// A reference found while checking: who refers (section, name), where (steps), to what.
#[derive(Clone, Copy)]
struct Site<'a, 'l> {
    section: Section,
    name: &'l str,
    steps: &'a [Step<'a>],
}

/// Up to `n` names for a message: `a`, `b` and 3 more.
fn list(names: &[&str], n: usize) -> String {
    let mut s: Vec<String> = names.iter().take(n).map(|x| format!("`{x}`")).collect();
    if names.len() > n {
        s.push(format!("{} more", names.len() - n));
    }
    match s.len() {
        0 => String::new(),
        1 => s.remove(0),
        _ => {
            let last = s.pop().unwrap_or_default();
            format!("{} and {last}", s.join(", "))
        }
    }
}

/// A key for a key path, quoted like [`switchyard_diagnostics::KeyPath`] does when it is not a plain identifier.
fn push_key(path: &mut String, key: &str) {
    use std::fmt::Write as _;
    if !path.is_empty() {
        path.push('.');
    }
    let plain = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$');
    if plain {
        path.push_str(key);
    } else {
        let _ = write!(path, "{key:?}");
    }
}

/// The tree node of each named definition, with the index of its file.
type Defs<'l> = BTreeMap<(Section, &'l str), (usize, &'l Node<'l>)>;

/// How many did-you-mean searches one run may make (each compares a name with every defined one).
const SUGGESTION_BUDGET: usize = 200;

struct Validator<'l> {
    loaded: &'l Loaded<'l>,
    out: Vec<Diagnostic>,
    /// The tree node of each named definition (the one that owns its name), built on first use.
    defs: OnceCell<Defs<'l>>,
    /// Byte offsets of line starts, per file, built on first use.
    lines: Vec<OnceCell<Vec<usize>>>,
    suggestions: usize,
    /// References to other providers: (kind of target, reference) -> (count, first site's location and path).
    external: BTreeMap<(Section, &'l str), (usize, Option<Location>, String)>,
    /// Routers by the (local) service they use, for messages; built on first use.
    users: OnceCell<BTreeMap<(Section, &'l str), Vec<&'l str>>>,
    /// The HTTP services in name order (the order of [`Names`]).
    http_services: Vec<&'l Service>,
}

impl<'l> Validator<'l> {
    fn new(loaded: &'l Loaded<'l>) -> Self {
        Validator {
            loaded,
            out: Vec::new(),
            defs: OnceCell::new(),
            lines: loaded.files.iter().map(|_| OnceCell::new()).collect(),
            suggestions: 0,
            external: BTreeMap::new(),
            users: OnceCell::new(),
            http_services: loaded
                .config
                .http
                .iter()
                .flat_map(|h| h.services.iter().flat_map(BTreeMap::values))
                .collect(),
        }
    }

    fn run(&mut self) {
        let loaded = self.loaded;
        let config = &loaded.config;
        let http = config.http.as_ref();
        let tcp = config.tcp.as_ref();
        let udp = config.udp.as_ref();
        let tls = config.tls.as_ref();

        let mut http_services = Names::new(http.and_then(|h| h.services.as_ref()));
        let mut http_middlewares = Names::new(http.and_then(|h| h.middlewares.as_ref()));
        let mut tcp_services = Names::new(tcp.and_then(|t| t.services.as_ref()));
        let mut tcp_middlewares = Names::new(tcp.and_then(|t| t.middlewares.as_ref()));
        let mut udp_services = Names::new(udp.and_then(|u| u.services.as_ref()));
        let mut tls_options = Names::new(tls.and_then(|t| t.options.as_ref()));
        let mut http_transports = Names::new(http.and_then(|h| h.servers_transports.as_ref()));
        let mut tcp_transports = Names::new(tcp.and_then(|t| t.servers_transports.as_ref()));

        if let Some(routers) = http.and_then(|h| h.routers.as_ref()) {
            self.http_routers(routers, &mut http_services, &mut http_middlewares, &mut tls_options);
        }
        if let Some(services) = http.and_then(|h| h.services.as_ref()) {
            self.http_services(services, &mut http_services, &mut http_transports);
        }
        if let Some(middlewares) = http.and_then(|h| h.middlewares.as_ref()) {
            self.http_middlewares(middlewares, &mut http_middlewares, &mut http_services);
        }
        if let Some(routers) = tcp.and_then(|t| t.routers.as_ref()) {
            self.tcp_routers(routers, &mut tcp_services, &mut tcp_middlewares, &mut tls_options);
        }
        if let Some(services) = tcp.and_then(|t| t.services.as_ref()) {
            self.tcp_services(services, &mut tcp_services, &mut tcp_transports);
        }
        if let Some(middlewares) = tcp.and_then(|t| t.middlewares.as_ref()) {
            for (name, m) in middlewares {
                let kinds = [m.ip_allow_list.is_some(), m.ip_white_list.is_some(), m.in_flight_conn.is_some()];
                self.kinds(Section::TcpMiddleware, name, &kinds, "`ipAllowList` or `inFlightConn`");
            }
        }
        if let Some(routers) = udp.and_then(|u| u.routers.as_ref()) {
            self.udp_routers(routers, &mut udp_services);
        }
        if let Some(services) = udp.and_then(|u| u.services.as_ref()) {
            self.udp_services(services, &mut udp_services);
        }
        self.tls_stores();
        self.unused(Section::HttpService, &http_services);
        self.unused(Section::TcpService, &tcp_services);
        self.unused(Section::UdpService, &udp_services);
        self.externals();
    }

    // -----------------------------------------------------------------------------------------------------------
    // Positions

    fn defs(&self) -> &Defs<'l> {
        self.defs.get_or_init(|| {
            let mut defs = BTreeMap::new();
            for (i, file) in self.loaded.files.iter().enumerate() {
                let Some(root) = file.root.as_ref() else { continue };
                for section in Section::ALL {
                    if section == Section::TlsCertificate {
                        continue;
                    }
                    let [a, b] = section.keys();
                    let Some(map) = root.get(a).and_then(|n| n.get(b)) else { continue };
                    for (key, value) in map.entries() {
                        if !value.is_null() {
                            defs.entry((section, &*key.name)).or_insert((i, value));
                        }
                    }
                }
            }
            defs
        })
    }

    /// The node at `steps` below a definition, the location to report (per `aim`) and the key path.
    fn place(
        &self,
        section: Section,
        name: &str,
        steps: &[Step<'_>],
        aim: Aim,
    ) -> (Option<&'l Node<'l>>, Location, String) {
        let origin = self.loaded.origin(section, name);
        let mut path = origin.map_or_else(
            || {
                let mut p = String::new();
                for k in section.keys() {
                    push_key(&mut p, k);
                }
                push_key(&mut p, name);
                p
            },
            |o| o.path.clone(),
        );
        for step in steps {
            match step {
                K(k) => push_key(&mut path, k),
                I(i) => path.push_str(&format!("[{i}]")),
            }
        }
        let fallback =
            origin.map_or_else(|| Location { file: String::new(), line: 0, column: 0 }, dynamic::Origin::location);
        let Some(&(file, mut node)) = self.defs().get(&(section, name)) else { return (None, fallback, path) };
        let file_name = &self.loaded.files[file].name;
        let mut at = fallback.clone();
        let mut complete = true;
        for (n, step) in steps.iter().enumerate() {
            let last = n + 1 == steps.len();
            match step {
                K(k) => match node.entries().iter().find(|(key, _)| &*key.name == *k) {
                    Some((key, value)) => {
                        at = key.location(file_name);
                        if !(last && aim == Aim::Key) {
                            at = if value.is_null() { at } else { value.location(file_name) };
                        }
                        node = value;
                    }
                    None => {
                        complete = false;
                        break;
                    }
                },
                I(i) => match node.items().get(*i) {
                    Some(item) => {
                        at = item.location(file_name);
                        node = item;
                    }
                    None => {
                        complete = false;
                        break;
                    }
                },
            }
        }
        (complete.then_some(node), at, path)
    }

    fn emit(&mut self, mut d: Diagnostic, section: Section, name: &str, steps: &[Step<'_>], aim: Aim) {
        let (_, at, path) = self.place(section, name, steps, aim);
        d = d.at(path);
        if at.line > 0 {
            d.location = Some(at);
        }
        self.out.push(d);
    }

    /// The byte offset of (line, column) in file `file` (columns count characters).
    fn offset(&self, file: usize, line: u32, column: u32) -> Option<usize> {
        let source: &str = &self.loaded.files[file].source;
        let starts = self.lines[file]
            .get_or_init(|| std::iter::once(0).chain(source.match_indices('\n').map(|(i, _)| i + 1)).collect());
        let start = *starts.get((line as usize).checked_sub(1)?)?;
        let skip = (column as usize).checked_sub(1)?;
        let rest = &source[start..];
        match rest.char_indices().nth(skip) {
            Some((i, _)) => Some(start + i),
            None if rest.chars().count() == skip => Some(source.len()),
            None => None,
        }
    }

    /// Reports a rule problem found at 1-based character column `column` of the rule of `name`: at that column in
    /// the file when the rule is written there verbatim on one line, else at the value with "column N of the
    /// rule" in the message.
    fn rule_problem(&mut self, mut d: Diagnostic, section: Section, name: &str, rule: &str, column: usize) {
        let (node, value_at, path) = self.place(section, name, &[K("rule")], Aim::Value);
        d = d.at(path);
        let prefix = format!("column {column}: ");
        let message = d.message.strip_prefix(&prefix).unwrap_or(&d.message).to_string();
        let exact = node.and_then(|node| {
            let &(file, _) = self.defs().get(&(section, name))?;
            let start = self.offset(file, node.line, node.column)?;
            let text = self.loaded.files[file].source.get(start..)?;
            let quote = match self.loaded.files[file].format {
                Format::Toml if text.starts_with("\"\"\"") || text.starts_with("'''") => return None,
                _ if text.starts_with('"') || text.starts_with('\'') => 1,
                _ => 0,
            };
            let verbatim = !rule.contains('\n') && text[quote..].starts_with(rule);
            verbatim.then(|| Location {
                file: value_at.file.clone(),
                line: node.line as usize,
                column: node.column as usize + quote + column - 1,
            })
        });
        match exact {
            Some(at) => {
                d.message = message;
                d.location = Some(at);
            }
            None => {
                d.message = format!("column {column} of the rule: {message}");
                if value_at.line > 0 {
                    d.location = Some(value_at);
                }
            }
        }
        self.out.push(d);
    }
}
