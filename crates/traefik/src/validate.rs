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

use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::{BTreeMap, BTreeSet};

use crate::dynamic::model::{
    Failover, HighestRandomWeight, LoadBalancer, Middleware, Mirroring, Router, Service, TcpRouter, TcpService,
    UdpRouter, UdpService, Weighted, WeightedService,
};
use crate::dynamic::{self, Format, Loaded, Node, Section};
use crate::rules::{self, Expr, MatcherKind};
use switchyard_diagnostics::{Diagnostic, Location, did_you_mean};
use switchyard_lookup::{Table, fnv1a};

/// Loads `files` (name, contents) as Traefik's file provider reads a directory ([`dynamic::load()`]) and runs
/// [`check`]: every diagnostic, structural and semantic, sorted by file (in Traefik's order), line and column.
pub fn validate_files(files: &[(String, String)]) -> Vec<Diagnostic> {
    let mut loaded = dynamic::load(files);
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

    // -----------------------------------------------------------------------------------------------------------
    // References

    /// Resolves `reference` among `names` (of section `target`), marking it used; records references to other
    /// providers. Missing references are for the caller to report (with [`Self::missing`]).
    fn resolve(&mut self, target: Section, names: &mut Names<'l>, reference: &'l str, site: Site<'_, 'l>) -> Target {
        let (name, provider) = split_reference(reference);
        if provider.is_some() {
            let entry = self.external.entry((target, reference)).or_insert((0, None, String::new()));
            entry.0 += 1;
            if entry.0 == 1 {
                let (_, at, path) = self.place(site.section, site.name, site.steps, Aim::Value);
                let entry = self.external.get_mut(&(target, reference)).expect("just inserted");
                entry.1 = (at.line > 0).then_some(at);
                entry.2 = path;
            }
            return Target::External;
        }
        if let Some(i) = names.find(name) {
            names.used[i] = true;
            return Target::Local(i);
        }
        if self.loaded.origins.contains_key(&(target, name.to_string())) {
            return Target::Invalid;
        }
        Target::Missing
    }

    /// Reports a missing reference with a did-you-mean hint among the names defined in `target`.
    fn missing(&mut self, code: &'static str, target: Section, reference: &str, message: String, site: Site<'_, 'l>) {
        let (name, _) = split_reference(reference);
        let mut d = Diagnostic::error(code, message);
        let suggestion = if self.suggestions < SUGGESTION_BUDGET {
            self.suggestions += 1;
            let defined = self
                .loaded
                .origins
                .range((target, String::new())..)
                .take_while(|((s, _), _)| *s == target)
                .map(|((_, n), _)| n.as_str())
                .filter(|c| c.len().abs_diff(name.len()) <= 2.max(c.len() / 3));
            did_you_mean(name, defined).map(str::to_string)
        } else {
            None
        };
        let [a, b] = target.keys();
        d = match suggestion {
            Some(s) => d.hint(format!("did you mean `{s}`?")),
            None => d.hint(format!(
                "define `{name}` under `{a}.{b}`, or name a definition of another provider as `{name}@provider`"
            )),
        };
        self.emit(d, site.section, site.name, site.steps, Aim::Value);
    }

    /// The routers that use service `name` (a local name), for messages.
    fn users(&self, section: Section, name: &str) -> Vec<&'l str> {
        let loaded = self.loaded;
        let users = self.users.get_or_init(|| {
            let mut users: BTreeMap<(Section, &'l str), Vec<&'l str>> = BTreeMap::new();
            let config = &loaded.config;
            let mut add = |section, router: &'l str, service: Option<&'l String>| {
                if let Some(service) = service
                    && let (name, None) = split_reference(service)
                {
                    users.entry((section, name)).or_default().push(router);
                }
            };
            for (r, router) in config.http.iter().flat_map(|h| h.routers.iter().flatten()) {
                add(Section::HttpService, r.as_str(), router.service.as_ref());
            }
            for (r, router) in config.tcp.iter().flat_map(|t| t.routers.iter().flatten()) {
                add(Section::TcpService, r.as_str(), router.service.as_ref());
            }
            for (r, router) in config.udp.iter().flat_map(|u| u.routers.iter().flatten()) {
                add(Section::UdpService, r.as_str(), router.service.as_ref());
            }
            users
        });
        users.get(&(section, name)).cloned().unwrap_or_default()
    }

    fn disabled_routers(&self, section: Section, name: &str) -> String {
        let users = self.users(section, name);
        if users.is_empty() { String::new() } else { format!(" (routers {})", list(&users, 3)) }
    }

    fn externals(&mut self) {
        for ((target, reference), (count, at, path)) in std::mem::take(&mut self.external) {
            let (name, provider) = split_reference(reference);
            let provider = provider.unwrap_or("file");
            let times = if count == 1 { String::new() } else { format!(" ({count} references)") };
            let mut d = Diagnostic::info(
                "SY3208",
                format!(
                    "{} `{name}` of provider `{provider}`{times} is not checked here: only the files given are \
                     known",
                    target.label()
                ),
            )
            .at(path)
            .hint(format!("make sure provider `{provider}` defines `{name}`, or Traefik disables what uses it"));
            d.location = at;
            self.out.push(d);
        }
    }

    fn unused(&mut self, section: Section, names: &Names<'l>) {
        let unused: Vec<&str> = names.names.iter().zip(&names.used).filter(|(_, u)| !**u).map(|(n, _)| *n).collect();
        for name in unused {
            let d = Diagnostic::info(
                "SY3210",
                format!(
                    "{} `{name}` is used by no router, service or middleware of these files: Traefik builds it \
                     only if something refers to it",
                    section.label()
                ),
            )
            .hint(format!("remove it if it is left over, or check the routers that should use it (another provider can refer to it as `{name}@file`)"));
            self.emit(d, section, name, &[], Aim::Key);
        }
    }

    /// SY3213: exactly one kind.
    fn kinds(&mut self, section: Section, name: &str, kinds: &[bool], expected: &str) {
        let count = kinds.iter().filter(|k| **k).count();
        if count == 1 {
            return;
        }
        let what = if section == Section::HttpMiddleware || section == Section::TcpMiddleware {
            "middleware"
        } else {
            "service"
        };
        let d = if count == 0 {
            Diagnostic::error(
                "SY3213",
                format!("{} `{name}` defines no {what} kind: Traefik cannot build it", section.label()),
            )
            .hint(format!("give it one of {expected}"))
        } else {
            Diagnostic::error(
                "SY3213",
                format!(
                    "{} `{name}` defines {count} kinds at once: Traefik refuses to build it (\"multi-types {what} \
                     not supported\")",
                    section.label()
                ),
            )
            .hint(format!("split it into {count} {what}s, one kind each"))
        };
        self.emit(d, section, name, &[], Aim::Key);
    }

    // -----------------------------------------------------------------------------------------------------------
    // HTTP routers

    fn http_routers(
        &mut self,
        routers: &'l BTreeMap<String, Router>,
        services: &mut Names<'l>,
        middlewares: &mut Names<'l>,
        tls_options: &mut Names<'l>,
    ) {
        const S: Section = Section::HttpRouter;
        let mut infos: Vec<RouterInfo<'l>> = Vec::with_capacity(routers.len());
        let mut hosts: Vec<(Cow<'l, str>, u32)> = Vec::with_capacity(routers.len());
        for (name, router) in routers {
            let name = name.as_str();
            match &router.rule {
                None => {
                    let d = Diagnostic::error(
                        "SY3211",
                        format!("HTTP router `{name}` has no rule: Traefik v3 refuses it, so it serves nothing"),
                    )
                    .hint("add a rule such as rule: Host(`example.com`)");
                    self.emit(d, S, name, &[], Aim::Key);
                }
                // A v2 rule is parsed by Traefik's v2 parser (SY3005 already flags `ruleSyntax`).
                Some(_) if router.rule_syntax.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("v2")) => {}
                Some(rule) => match rules::parse(rule) {
                    Err(e) => {
                        let mut d = Diagnostic::error(e.code, e.message.clone());
                        d.hints = e.hints.clone();
                        d.hints.push(format!("Traefik cannot build HTTP router `{name}`: it serves nothing"));
                        self.rule_problem(d, S, name, rule, e.column);
                    }
                    Ok(parsed) => {
                        for lint in rules::lint(&parsed, rule) {
                            let mut d = Diagnostic::warning(lint.code, lint.message);
                            d.hints = lint.hints;
                            self.rule_problem(d, S, name, rule, lint.column);
                        }
                        let index = u32::try_from(infos.len()).unwrap_or(u32::MAX);
                        let before = hosts.len();
                        if !host_values(&parsed.expr, rule, index, &mut hosts) {
                            hosts.truncate(before);
                        }
                        let explicit = router.priority.filter(|p| *p != 0);
                        infos.push(RouterInfo {
                            name,
                            rule,
                            priority: explicit.unwrap_or_else(|| rules::default_priority(rule)),
                            explicit: explicit.is_some(),
                            tls: router.tls.is_some(),
                            entry_points: router.entry_points.as_deref(),
                        });
                    }
                },
            }
            match &router.service {
                None => {
                    let d = Diagnostic::error(
                        "SY3212",
                        format!(
                            "HTTP router `{name}` has no service: Traefik disables it, and requests it would match \
                             get 404"
                        ),
                    )
                    .hint("add `service: <name>`, naming a service of `http.services` or another provider's (`api@internal`)");
                    self.emit(d, S, name, &[], Aim::Key);
                }
                Some(service) => {
                    let site = Site { section: S, name, steps: &[K("service")] };
                    if self.resolve(Section::HttpService, services, service, site) == Target::Missing {
                        let message = format!(
                            "HTTP router `{name}` uses service `{service}`, which is not defined: Traefik disables \
                             the router, and requests it would match get 404"
                        );
                        self.missing("SY3201", Section::HttpService, service, message, site);
                    }
                }
            }
            for (i, middleware) in router.middlewares.iter().flatten().enumerate() {
                let steps = [K("middlewares"), I(i)];
                let site = Site { section: S, name, steps: &steps };
                if self.resolve(Section::HttpMiddleware, middlewares, middleware, site) == Target::Missing {
                    let message = format!(
                        "HTTP router `{name}` uses middleware `{middleware}`, which is not defined: Traefik \
                         disables the router, and requests it would match get 404"
                    );
                    self.missing("SY3202", Section::HttpMiddleware, middleware, message, site);
                }
            }
            if let Some(options) = router.tls.as_ref().and_then(|t| t.options.as_ref()) {
                self.tls_options(S, name, options, tls_options);
            }
        }
        self.priorities(&infos, hosts);
    }

    fn tls_options(&mut self, section: Section, name: &'l str, options: &'l str, tls_options: &mut Names<'l>) {
        if split_reference(options) == ("default", None) {
            return;
        }
        let site = Site { section, name, steps: &[K("tls"), K("options")] };
        if self.resolve(Section::TlsOptions, tls_options, options, site) == Target::Missing {
            let message = format!(
                "{} `{name}` uses TLS options `{options}`, which are not defined: Traefik disables the router",
                section.label()
            );
            self.missing("SY3205", Section::TlsOptions, options, message, site);
        }
    }

    /// SY3304, SY3305, SY3306, SY3309: routers that can match the same request. Only routers that name the same
    /// literal host are compared (cheap and conservative), and only when both use TLS or neither does (Traefik
    /// routes TLS and plain requests separately) and their entry points overlap.
    fn priorities(&mut self, infos: &[RouterInfo<'l>], mut hosts: Vec<(Cow<'l, str>, u32)>) {
        hosts.sort_unstable();
        let mut pairs: BTreeSet<(u32, u32)> = BTreeSet::new();
        let mut start = 0;
        while start < hosts.len() {
            let mut end = start + 1;
            while end < hosts.len() && hosts[end].0 == hosts[start].0 {
                end += 1;
            }
            let group = &hosts[start..end];
            for (n, (_, a)) in group.iter().enumerate() {
                for (_, b) in &group[n + 1..] {
                    if a != b {
                        pairs.insert((*a.min(b), *a.max(b)));
                    }
                }
            }
            start = end;
        }
        if pairs.is_empty() {
            return;
        }
        // The rules of the routers involved, parsed again (they parsed the first time).
        let mut parsed: BTreeMap<u32, rules::Rule> = BTreeMap::new();
        for &(a, b) in &pairs {
            for i in [a, b] {
                if let std::collections::btree_map::Entry::Vacant(e) = parsed.entry(i)
                    && let Ok(rule) = rules::parse(infos[i as usize].rule)
                {
                    e.insert(rule);
                }
            }
        }
        // Per reported router and code: the other routers.
        let mut found: BTreeMap<(u32, &'static str), Vec<u32>> = BTreeMap::new();
        for (a, b) in pairs {
            let (ra, rb) = (&infos[a as usize], &infos[b as usize]);
            let (Some(pa), Some(pb)) = (parsed.get(&a), parsed.get(&b)) else { continue };
            if ra.tls != rb.tls || !overlap(ra.entry_points, rb.entry_points) || disjoint(&pa.expr, &pb.expr) {
                continue;
            }
            // Report on the later definition (in file order), or on the one that loses.
            let (first, second) = if self.order(ra.name) <= self.order(rb.name) { (a, b) } else { (b, a) };
            let same_rule = same_rule(&pa.expr, &pb.expr);
            if same_rule && ra.priority == rb.priority {
                found.entry((second, "SY3304")).or_default().push(first);
            } else if same_rule {
                let (winner, loser) = if ra.priority > rb.priority { (a, b) } else { (b, a) };
                found.entry((loser, "SY3309")).or_default().push(winner);
            } else if ra.priority == rb.priority {
                found.entry((second, "SY3305")).or_default().push(first);
            } else if !(ra.explicit && rb.explicit) {
                found.entry((second, "SY3306")).or_default().push(first);
            }
        }
        for ((index, code), others) in found {
            let r = &infos[index as usize];
            let other_names: Vec<&str> = others.iter().map(|o| infos[*o as usize].name).collect();
            let first = &infos[others[0] as usize];
            let names = list(&other_names, 3);
            let d = match code {
                "SY3304" => Diagnostic::warning(
                    "SY3304",
                    format!(
                        "HTTP router `{}` has the same rule and the same priority ({}) as {names} on the same entry \
                         points: only one of them gets the requests, and which one depends on Traefik's internal \
                         order",
                        r.name, r.priority
                    ),
                )
                .hint("remove the duplicate, or give the router that must win a higher explicit `priority`"),
                "SY3309" => Diagnostic::warning(
                    "SY3309",
                    format!(
                        "HTTP router `{}` never gets a request on the entry points it shares with {names}: same \
                         rule, higher priority ({} > {})",
                        r.name, first.priority, r.priority
                    ),
                )
                .hint("remove the router that is left over, or change its rule"),
                "SY3305" => Diagnostic::warning(
                    "SY3305",
                    format!(
                        "HTTP router `{}` and {names} can match the same requests (same host) with the same \
                         priority ({}): which one wins depends on Traefik's internal order",
                        r.name, r.priority
                    ),
                )
                .hint("give the more specific router a higher explicit `priority`"),
                _ => Diagnostic::info(
                    "SY3306",
                    format!(
                        "HTTP router `{}` and {names} can match the same requests (same host); with the default \
                         priority, the longer rule wins (`{}`: {}, `{}`: {}), and editing a rule can change that",
                        r.name, r.name, r.priority, first.name, first.priority
                    ),
                )
                .hint("set an explicit `priority` on each of them (higher for the more specific rule)"),
            };
            self.emit(d, Section::HttpRouter, r.name, &[K("rule")], Aim::Value);
        }
    }

    /// A definition's place in Traefik's order (file, line).
    fn order(&self, name: &str) -> (usize, usize) {
        let Some(origin) = self.loaded.origin(Section::HttpRouter, name) else { return (usize::MAX, 0) };
        let file = self.loaded.files.iter().position(|f| f.name == origin.file).unwrap_or(usize::MAX);
        (file, origin.line)
    }

    // -----------------------------------------------------------------------------------------------------------
    // HTTP services

    fn http_services(
        &mut self,
        services: &'l BTreeMap<String, Service>,
        names: &mut Names<'l>,
        transports: &mut Names<'l>,
    ) {
        const S: Section = Section::HttpService;
        // Edges between services, by index in `names`, for cycles.
        let mut edges: Vec<(u32, u32)> = Vec::new();
        for (index, (name, service)) in services.iter().enumerate() {
            let name = name.as_str();
            let kinds = [
                service.load_balancer.is_some(),
                service.highest_random_weight.is_some(),
                service.weighted.is_some(),
                service.mirroring.is_some(),
                service.failover.is_some(),
            ];
            self.kinds(S, name, &kinds, "`loadBalancer`, `weighted`, `mirroring`, `failover` or `highestRandomWeight`");
            let mut children: Vec<Child<'l>> = Vec::new();
            if let Some(lb) = service.load_balancer.as_deref() {
                self.load_balancer(name, lb, transports);
            }
            if let Some(w) = service.weighted.as_deref() {
                self.weighted(name, w, names, &mut children);
            }
            if let Some(h) = service.highest_random_weight.as_deref() {
                self.highest_random_weight(name, h, names, &mut children);
            }
            if let Some(m) = service.mirroring.as_deref() {
                self.mirroring(name, m, names, &mut children);
            }
            if let Some(f) = service.failover.as_deref() {
                self.failover(name, f, names, &mut children);
            }
            let from = u32::try_from(index).unwrap_or(u32::MAX);
            for (target, _, _) in &children {
                if let Target::Local(to) = target {
                    edges.push((from, u32::try_from(*to).unwrap_or(u32::MAX)));
                }
            }
        }
        self.cycles(S, &names.names, edges, "services");
    }

    /// Resolves a child of service `name` at `steps`, reporting it when missing (SY3203).
    fn child(
        &mut self,
        (section, name, kind): (Section, &'l str, &str),
        child: &'l str,
        steps: &[Step<'static>],
        names: &mut Names<'l>,
        children: &mut Vec<Child<'l>>,
    ) {
        let site = Site { section, name, steps };
        let target = self.resolve(section, names, child, site);
        if target == Target::Missing {
            let message = format!(
                "{kind} service `{name}` refers to `{child}`, which is not defined: Traefik cannot build `{name}`, \
                 and disables it with every router that uses it{}",
                self.disabled_routers(section, name)
            );
            self.missing("SY3203", section, child, message, site);
        }
        children.push((target, child, Steps::new(steps)));
    }

    fn load_balancer(&mut self, name: &'l str, lb: &'l LoadBalancer, transports: &mut Names<'l>) {
        const S: Section = Section::HttpService;
        let servers = lb.servers.as_deref().unwrap_or_default();
        if servers.is_empty() {
            let d = Diagnostic::error(
                "SY3307",
                format!(
                    "the load balancer of HTTP service `{name}` has no servers: Traefik answers every request \
                     with 503{}",
                    self.disabled_routers(S, name)
                ),
            )
            .hint("add `servers: [{url: \"http://host:port\"}]`");
            let steps: &[Step<'_>] =
                if lb.servers.is_some() { &[K("loadBalancer"), K("servers")] } else { &[K("loadBalancer")] };
            self.emit(d, S, name, steps, Aim::Key);
        }
        let wrr = lb.strategy.as_deref().is_none_or(|s| s.eq_ignore_ascii_case("wrr"));
        let mut dropped = 0;
        for (i, server) in servers.iter().enumerate() {
            match server.url.as_deref() {
                None => {
                    let d = Diagnostic::error(
                        "SY3308",
                        format!("server {i} of HTTP service `{name}` has no `url`: Traefik cannot build the service"),
                    )
                    .hint("add `url: http://host:port`");
                    self.emit(d, S, name, &[K("loadBalancer"), K("servers"), I(i)], Aim::Value);
                }
                Some(url) => {
                    if let Err(why) = check_url(url) {
                        let d = Diagnostic::error(
                            "SY3308",
                            format!("server URL `{url}` of HTTP service `{name}` is not valid: {why}"),
                        )
                        .hint("write `http://host:port` (or `https://`, `h2c://`)");
                        self.emit(d, S, name, &[K("loadBalancer"), K("servers"), I(i), K("url")], Aim::Value);
                    }
                }
            }
            if wrr && let Some(weight) = server.weight.filter(|w| *w <= 0) {
                dropped += 1;
                let d = Diagnostic::warning(
                    "SY3301",
                    format!(
                        "server {i} of HTTP service `{name}` has weight {weight}: Traefik drops it, it gets no \
                         requests"
                    ),
                )
                .hint("remove the server to take it out of rotation, or give it a weight of 1 or more");
                self.emit(d, S, name, &[K("loadBalancer"), K("servers"), I(i), K("weight")], Aim::Value);
            }
        }
        if !servers.is_empty() && dropped == servers.len() {
            let d = Diagnostic::error(
                "SY3302",
                format!(
                    "every server of HTTP service `{name}` has weight 0 or less: Traefik drops them all and \
                     answers every request with 503"
                ),
            )
            .hint("give at least one server a weight of 1 or more");
            self.emit(d, S, name, &[K("loadBalancer"), K("servers")], Aim::Key);
        }
        if let Some(transport) = lb.servers_transport.as_deref() {
            let steps = [K("loadBalancer"), K("serversTransport")];
            let site = Site { section: S, name, steps: &steps };
            if self.resolve(Section::HttpServersTransport, transports, transport, site) == Target::Missing {
                let message = format!(
                    "HTTP service `{name}` uses servers transport `{transport}`, which is not defined: Traefik \
                     cannot build the service{}",
                    self.disabled_routers(S, name)
                );
                self.missing("SY3207", Section::HttpServersTransport, transport, message, site);
            }
        }
    }

    fn weighted(&mut self, name: &'l str, w: &'l Weighted, names: &mut Names<'l>, children: &mut Vec<Child<'l>>) {
        const S: Section = Section::HttpService;
        let list = w.services.as_deref().unwrap_or_default();
        let first = children.len();
        self.weighted_children(S, name, "weighted", list, names, children, w.health_check.is_some());
        if w.health_check.is_some() {
            self.health(name, "weighted", &children[first..]);
        }
    }

    /// The children of a `weighted` service: references and weights (SY3203, SY3301, SY3302).
    #[allow(clippy::too_many_arguments)]
    fn weighted_children(
        &mut self,
        section: Section,
        name: &'l str,
        kind: &'static str,
        list: &'l [WeightedService],
        names: &mut Names<'l>,
        children: &mut Vec<Child<'l>>,
        health_check: bool,
    ) {
        let mut dropped = 0;
        for (i, child) in list.iter().enumerate() {
            match child.name.as_deref() {
                Some(child_name) => {
                    let steps = [K(kind), K("services"), I(i), K("name")];
                    self.child((section, name, kind), child_name, &steps, names, children);
                }
                None => {
                    let d = Diagnostic::error(
                        "SY3203",
                        format!("child {i} of {kind} service `{name}` has no `name`: Traefik cannot build `{name}`"),
                    )
                    .hint("name the service to send traffic to: `- name: my-service`");
                    self.emit(d, section, name, &[K(kind), K("services"), I(i)], Aim::Value);
                }
            }
            if section == Section::HttpService && kind == "weighted" && child.weight.is_some_and(|w| w <= 0) {
                dropped += 1;
                let weight = child.weight.unwrap_or_default();
                let child_name = child.name.as_deref().unwrap_or("?");
                let d = if health_check {
                    Diagnostic::error(
                        "SY3301",
                        format!(
                            "child `{child_name}` of weighted service `{name}` has weight {weight}, under \
                             `healthCheck: {{}}`: the child is dropped from the rotation but still registers for \
                             health updates, and if it comes back up while every other child is down Traefik's \
                             picker can loop forever"
                        ),
                    )
                    .hint(format!("leave `{child_name}` out of `{name}` instead of giving it weight {weight}"))
                } else {
                    Diagnostic::warning(
                        "SY3301",
                        format!(
                            "child `{child_name}` of weighted service `{name}` has weight {weight}: Traefik drops \
                             it, it gets no traffic"
                        ),
                    )
                    .hint(format!(
                        "leave `{child_name}` out of `{name}` to give it no traffic (a weight of 0 is a hazard with \
                         `healthCheck: {{}}`)"
                    ))
                };
                self.emit(d, section, name, &[K(kind), K("services"), I(i), K("weight")], Aim::Value);
            }
        }
        if section == Section::HttpService && kind == "weighted" && dropped == list.len() {
            let d = if list.is_empty() {
                Diagnostic::error(
                    "SY3302",
                    format!(
                        "weighted service `{name}` has no children: Traefik answers every request with 503{}",
                        self.disabled_routers(section, name)
                    ),
                )
                .hint("list the services to balance: `services: [{name: a, weight: 1}]`")
            } else {
                Diagnostic::error(
                    "SY3302",
                    format!(
                        "every child of weighted service `{name}` has weight 0 or less: Traefik drops them all and \
                         answers every request with 503{}",
                        self.disabled_routers(section, name)
                    ),
                )
                .hint("give at least one child a weight of 1 or more")
            };
            let steps: &[Step<'_>] = if list.is_empty() { &[K(kind)] } else { &[K(kind), K("services")] };
            self.emit(d, section, name, steps, Aim::Key);
        }
    }

    fn highest_random_weight(
        &mut self,
        name: &'l str,
        h: &'l HighestRandomWeight,
        names: &mut Names<'l>,
        children: &mut Vec<Child<'l>>,
    ) {
        let list = h.services.as_deref().unwrap_or_default();
        let first = children.len();
        let kind = "highestRandomWeight";
        self.weighted_children(Section::HttpService, name, kind, list, names, children, false);
        if h.health_check.is_some() {
            self.health(name, kind, &children[first..]);
        }
    }

    fn mirroring(&mut self, name: &'l str, m: &'l Mirroring, names: &mut Names<'l>, children: &mut Vec<Child<'l>>) {
        const S: Section = Section::HttpService;
        let first = children.len();
        match m.service.as_deref() {
            Some(main) => self.child((S, name, "mirroring"), main, &[K("mirroring"), K("service")], names, children),
            None => {
                let d = Diagnostic::error(
                    "SY3203",
                    format!("mirroring service `{name}` has no `service`: Traefik cannot build it"),
                )
                .hint("name the service that answers the requests: `service: my-service`");
                self.emit(d, S, name, &[K("mirroring")], Aim::Key);
            }
        }
        let main = children.len();
        for (i, mirror) in m.mirrors.iter().flatten().enumerate() {
            if let Some(mirror_name) = mirror.name.as_deref() {
                let steps = [K("mirroring"), K("mirrors"), I(i), K("name")];
                self.child((S, name, "mirroring"), mirror_name, &steps, names, children);
            }
        }
        // Only the main service's health is followed.
        if m.health_check.is_some() {
            self.health(name, "mirroring", &children[first..main]);
        }
    }

    fn failover(&mut self, name: &'l str, f: &'l Failover, names: &mut Names<'l>, children: &mut Vec<Child<'l>>) {
        const S: Section = Section::HttpService;
        let first = children.len();
        for key in ["service", "fallback"] {
            let value = if key == "service" { f.service.as_deref() } else { f.fallback.as_deref() };
            match value {
                Some(child) => self.child((S, name, "failover"), child, &[K("failover"), K(key)], names, children),
                None => {
                    let d = Diagnostic::error(
                        "SY3203",
                        format!("failover service `{name}` has no `{key}`: Traefik cannot build it"),
                    )
                    .hint(format!("add `{key}: <service name>`"));
                    self.emit(d, S, name, &[K("failover")], Aim::Key);
                }
            }
        }
        if f.health_check.is_some() {
            self.health(name, "failover", &children[first..]);
        }
    }

    /// SY3303: under `healthCheck: {}`, every child must report its health.
    fn health(&mut self, name: &'l str, kind: &str, children: &[Child<'l>]) {
        for (target, child, steps) in children {
            let Target::Local(index) = *target else { continue };
            let local = split_reference(child).0;
            let Some(&service) = self.http_services.get(index) else { continue };
            let Some(why) = cannot_report_health(service) else { continue };
            let d = Diagnostic::error(
                "SY3303",
                format!(
                    "{kind} service `{name}` has `healthCheck: {{}}`, but its child `{child}` cannot report health \
                     ({why}): Traefik fails to build `{name}`, and its routers answer 404{}",
                    self.disabled_routers(Section::HttpService, name)
                ),
            )
            .hint(format!(
                "give `{local}` {}, or remove `healthCheck: {{}}` from `{name}`",
                if service.load_balancer.is_some() {
                    "an active health check (`loadBalancer.healthCheck` with a `path`)"
                } else {
                    "its own `healthCheck: {}`"
                }
            ));
            self.emit(d, Section::HttpService, name, steps.as_slice(), Aim::Value);
        }
    }

    /// SY3209: cycles in a graph of definitions (indices into `names`).
    fn cycles(&mut self, section: Section, names: &[&'l str], mut edges: Vec<(u32, u32)>, what: &str) {
        if edges.is_empty() {
            return;
        }
        edges.sort_unstable();
        edges.dedup();
        let n = names.len();
        // Adjacency in compressed form.
        let mut start = vec![0usize; n + 1];
        for &(from, _) in &edges {
            start[from as usize + 1] += 1;
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        // 0 = unseen, 1 = on the stack, 2 = done.
        let mut state = vec![0u8; n];
        let mut seen_cycles: BTreeSet<Vec<usize>> = BTreeSet::new();
        for root in 0..n {
            if state[root] != 0 || start[root] == start[root + 1] {
                continue;
            }
            // (node, next edge to follow)
            let mut stack: Vec<(usize, usize)> = vec![(root, start[root])];
            state[root] = 1;
            while let Some(&mut (v, ref mut e)) = stack.last_mut() {
                if *e < start[v + 1] {
                    let to = edges[*e].1 as usize;
                    *e += 1;
                    match state[to] {
                        0 => {
                            state[to] = 1;
                            stack.push((to, start[to]));
                        }
                        1 => {
                            let from = stack.iter().position(|(x, _)| *x == to).unwrap_or(0);
                            let mut cycle: Vec<usize> = stack[from..].iter().map(|(x, _)| *x).collect();
                            let min = cycle.iter().enumerate().min_by_key(|(_, x)| **x).map_or(0, |(i, _)| i);
                            cycle.rotate_left(min);
                            seen_cycles.insert(cycle);
                        }
                        _ => {}
                    }
                } else {
                    state[v] = 2;
                    stack.pop();
                }
            }
        }
        for cycle in seen_cycles.into_iter().take(100) {
            let head = names[cycle[0]];
            let mut chain: Vec<&str> = cycle.iter().map(|i| names[*i]).collect();
            chain.push(head);
            let chain = chain.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(" → ");
            let d = Diagnostic::error(
                "SY3209",
                format!(
                    "{what} contain each other: {chain}; Traefik cannot build them, and disables every router that \
                     uses one of them"
                ),
            )
            .hint("break the cycle: a child must eventually be a load balancer (or a middleware that is not a chain)");
            self.emit(d, section, head, &[], Aim::Key);
        }
    }

    // -----------------------------------------------------------------------------------------------------------
    // HTTP middlewares

    fn http_middlewares(
        &mut self,
        middlewares: &'l BTreeMap<String, Middleware>,
        names: &mut Names<'l>,
        services: &mut Names<'l>,
    ) {
        const S: Section = Section::HttpMiddleware;
        let mut edges: Vec<(u32, u32)> = Vec::new();
        for (index, (name, m)) in middlewares.iter().enumerate() {
            let name = name.as_str();
            self.kinds(S, name, &middleware_kinds(m), "the middleware kinds (`headers`, `chain`, `basicAuth`, ...)");
            if let Some(chain) = m.chain.as_deref() {
                for (i, child) in chain.middlewares.iter().flatten().enumerate() {
                    let steps = [K("chain"), K("middlewares"), I(i)];
                    let site = Site { section: S, name, steps: &steps };
                    match self.resolve(S, names, child, site) {
                        Target::Missing => {
                            let message = format!(
                                "chain middleware `{name}` refers to middleware `{child}`, which is not defined: \
                                 every router using `{name}` is disabled"
                            );
                            self.missing("SY3204", S, child, message, site);
                        }
                        Target::Local(to) => edges
                            .push((u32::try_from(index).unwrap_or(u32::MAX), u32::try_from(to).unwrap_or(u32::MAX))),
                        Target::Invalid | Target::External => {}
                    }
                }
            }
            if let Some(service) = m.errors.as_deref().and_then(|e| e.service.as_deref()) {
                let steps = [K("errors"), K("service")];
                let site = Site { section: S, name, steps: &steps };
                if self.resolve(Section::HttpService, services, service, site) == Target::Missing {
                    let message = format!(
                        "errors middleware `{name}` uses service `{service}`, which is not defined: every router \
                         using `{name}` is disabled"
                    );
                    self.missing("SY3204", Section::HttpService, service, message, site);
                }
            }
        }
        self.cycles(S, &names.names, edges, "middleware chains");
    }

    // -----------------------------------------------------------------------------------------------------------
    // TCP and UDP

    fn tcp_routers(
        &mut self,
        routers: &'l BTreeMap<String, TcpRouter>,
        services: &mut Names<'l>,
        middlewares: &mut Names<'l>,
        tls_options: &mut Names<'l>,
    ) {
        const S: Section = Section::TcpRouter;
        for (name, router) in routers {
            let name = name.as_str();
            match router.rule.as_deref() {
                None => {
                    let d = Diagnostic::error(
                        "SY3211",
                        format!("TCP router `{name}` has no rule: Traefik v3 refuses it, so it serves nothing"),
                    )
                    .hint("add a rule such as rule: HostSNI(`example.com`) (or HostSNI(`*`) without TLS)");
                    self.emit(d, S, name, &[], Aim::Key);
                }
                Some(_) if router.rule_syntax.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("v2")) => {}
                Some(rule) => {
                    if let Some((code, column, message, hints)) = tcp_rule(rule) {
                        let mut d = Diagnostic::error(code, message);
                        d.hints = hints;
                        self.rule_problem(d, S, name, rule, column);
                    }
                }
            }
            match router.service.as_deref() {
                None => {
                    let d =
                        Diagnostic::error("SY3212", format!("TCP router `{name}` has no service: Traefik disables it"))
                            .hint("add `service: <name>`, naming a service of `tcp.services`");
                    self.emit(d, S, name, &[], Aim::Key);
                }
                Some(service) => {
                    let site = Site { section: S, name, steps: &[K("service")] };
                    if self.resolve(Section::TcpService, services, service, site) == Target::Missing {
                        let message = format!(
                            "TCP router `{name}` uses service `{service}`, which is not defined: Traefik disables \
                             the router, and the connections it would take are not routed"
                        );
                        self.missing("SY3201", Section::TcpService, service, message, site);
                    }
                }
            }
            for (i, middleware) in router.middlewares.iter().flatten().enumerate() {
                let steps = [K("middlewares"), I(i)];
                let site = Site { section: S, name, steps: &steps };
                if self.resolve(Section::TcpMiddleware, middlewares, middleware, site) == Target::Missing {
                    let message = format!(
                        "TCP router `{name}` uses middleware `{middleware}`, which is not defined: Traefik disables \
                         the router"
                    );
                    self.missing("SY3202", Section::TcpMiddleware, middleware, message, site);
                }
            }
            if let Some(options) = router.tls.as_ref().and_then(|t| t.options.as_ref()) {
                self.tls_options(S, name, options, tls_options);
            }
        }
    }

    fn tcp_services(
        &mut self,
        services: &'l BTreeMap<String, TcpService>,
        names: &mut Names<'l>,
        transports: &mut Names<'l>,
    ) {
        const S: Section = Section::TcpService;
        let mut edges: Vec<(u32, u32)> = Vec::new();
        for (index, (name, service)) in services.iter().enumerate() {
            let name = name.as_str();
            let kinds = [service.load_balancer.is_some(), service.weighted.is_some()];
            self.kinds(S, name, &kinds, "`loadBalancer` or `weighted`");
            if let Some(lb) = &service.load_balancer {
                let addresses: Vec<Option<&str>> = lb.servers.iter().flatten().map(|s| s.address.as_deref()).collect();
                self.addresses(S, name, lb.servers.is_some(), &addresses);
                if let Some(transport) = lb.servers_transport.as_deref() {
                    let steps = [K("loadBalancer"), K("serversTransport")];
                    let site = Site { section: S, name, steps: &steps };
                    if self.resolve(Section::TcpServersTransport, transports, transport, site) == Target::Missing {
                        let message = format!(
                            "TCP service `{name}` uses servers transport `{transport}`, which is not defined: \
                             Traefik cannot build the service"
                        );
                        self.missing("SY3207", Section::TcpServersTransport, transport, message, site);
                    }
                }
            }
            if let Some(w) = &service.weighted {
                let mut children = Vec::new();
                let list = w.services.as_deref().unwrap_or_default();
                self.weighted_children(S, name, "weighted", list, names, &mut children, false);
                for (target, _, _) in children {
                    if let Target::Local(to) = target {
                        edges.push((u32::try_from(index).unwrap_or(u32::MAX), u32::try_from(to).unwrap_or(u32::MAX)));
                    }
                }
            }
        }
        self.cycles(S, &names.names, edges, "TCP services");
    }

    fn udp_routers(&mut self, routers: &'l BTreeMap<String, UdpRouter>, services: &mut Names<'l>) {
        const S: Section = Section::UdpRouter;
        for (name, router) in routers {
            let name = name.as_str();
            match router.service.as_deref() {
                None => {
                    let d =
                        Diagnostic::error("SY3212", format!("UDP router `{name}` has no service: Traefik disables it"))
                            .hint("add `service: <name>`, naming a service of `udp.services`");
                    self.emit(d, S, name, &[], Aim::Key);
                }
                Some(service) => {
                    let site = Site { section: S, name, steps: &[K("service")] };
                    if self.resolve(Section::UdpService, services, service, site) == Target::Missing {
                        let message = format!(
                            "UDP router `{name}` uses service `{service}`, which is not defined: Traefik disables \
                             the router"
                        );
                        self.missing("SY3201", Section::UdpService, service, message, site);
                    }
                }
            }
        }
    }

    fn udp_services(&mut self, services: &'l BTreeMap<String, UdpService>, names: &mut Names<'l>) {
        const S: Section = Section::UdpService;
        let mut edges: Vec<(u32, u32)> = Vec::new();
        for (index, (name, service)) in services.iter().enumerate() {
            let name = name.as_str();
            let kinds = [service.load_balancer.is_some(), service.weighted.is_some()];
            self.kinds(S, name, &kinds, "`loadBalancer` or `weighted`");
            if let Some(lb) = &service.load_balancer {
                let addresses: Vec<Option<&str>> = lb.servers.iter().flatten().map(|s| s.address.as_deref()).collect();
                self.addresses(S, name, lb.servers.is_some(), &addresses);
            }
            if let Some(w) = &service.weighted {
                let mut children = Vec::new();
                let list = w.services.as_deref().unwrap_or_default();
                self.weighted_children(S, name, "weighted", list, names, &mut children, false);
                for (target, _, _) in children {
                    if let Target::Local(to) = target {
                        edges.push((u32::try_from(index).unwrap_or(u32::MAX), u32::try_from(to).unwrap_or(u32::MAX)));
                    }
                }
            }
        }
        self.cycles(S, &names.names, edges, "UDP services");
    }

    /// SY3307 and SY3308 for TCP and UDP load balancers.
    fn addresses(&mut self, section: Section, name: &'l str, written: bool, addresses: &[Option<&str>]) {
        if addresses.is_empty() {
            let d = Diagnostic::error(
                "SY3307",
                format!("the load balancer of {} `{name}` has no servers: nothing can be forwarded", section.label()),
            )
            .hint("add `servers: [{address: \"host:port\"}]`");
            let steps: &[Step<'_>] = if written { &[K("loadBalancer"), K("servers")] } else { &[K("loadBalancer")] };
            self.emit(d, section, name, steps, Aim::Key);
        }
        for (i, address) in addresses.iter().enumerate() {
            let problem = match address {
                None => Some("it has no `address`".to_string()),
                Some(a) => check_address(a).err().map(|why| format!("`{a}` {why}")),
            };
            if let Some(why) = problem {
                let d = Diagnostic::error(
                    "SY3308",
                    format!("server {i} of {} `{name}` is not valid: {why}", section.label()),
                )
                .hint("write `address: host:port` (IPv6 in brackets: `[::1]:53`)");
                let steps = [K("loadBalancer"), K("servers"), I(i), K("address")];
                self.emit(d, section, name, &steps, Aim::Value);
            }
        }
    }

    // -----------------------------------------------------------------------------------------------------------
    // TLS

    fn tls_stores(&mut self) {
        let Some(tls) = self.loaded.config.tls.as_ref() else { return };
        for name in tls.stores.iter().flat_map(|s| s.keys()) {
            if name != "default" {
                let d = Diagnostic::warning(
                    "SY3206",
                    format!("TLS store `{name}` is not `default`: Traefik v3 uses only the `default` store and ignores this one"),
                )
                .hint("configure `tls.stores.default` instead");
                self.emit(d, Section::TlsStore, name, &[], Aim::Key);
            }
        }
        for (i, certificate) in tls.certificates.iter().flatten().enumerate() {
            for (j, store) in certificate.stores.iter().flatten().enumerate() {
                if store == "default" {
                    continue;
                }
                let mut d = Diagnostic::warning(
                    "SY3206",
                    format!(
                        "this certificate goes to TLS store `{store}`: Traefik v3 uses only the `default` store, so \
                         no router serves it"
                    ),
                )
                .hint("remove `stores` (certificates go to `default`), or write `stores: [default]`");
                if let Some(origin) = self.loaded.origins.get(&(Section::TlsCertificate, i.to_string())) {
                    d = d.at(format!("{}.stores[{j}]", origin.path));
                    d.location = Some(self.certificate_store_location(origin, j));
                }
                self.out.push(d);
            }
        }
    }

    fn certificate_store_location(&self, origin: &dynamic::Origin, j: usize) -> Location {
        let found = self.loaded.files.iter().find(|f| f.name == origin.file).and_then(|f| {
            let items = f.root.as_ref()?.get("tls")?.get("certificates")?.items();
            let item = items.iter().find(|n| n.line as usize == origin.line && n.column as usize == origin.column)?;
            Some(item.get("stores")?.items().get(j)?.location(&f.name))
        });
        found.unwrap_or_else(|| origin.location())
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers

/// What the priority checks need of an HTTP router whose rule parses.
struct RouterInfo<'l> {
    name: &'l str,
    rule: &'l str,
    /// Effective priority: explicit, else the rule's length.
    priority: i64,
    explicit: bool,
    tls: bool,
    entry_points: Option<&'l [String]>,
}

/// Entry points overlap; a router without entry points listens on all (default) entry points.
fn overlap(a: Option<&[String]>, b: Option<&[String]>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) if !a.is_empty() && !b.is_empty() => a.iter().any(|x| b.contains(x)),
        _ => true,
    }
}

/// Adds to `out` the literal hosts a request must have to match `expr` (lowercased), tagged `index`; false when
/// any host can match (what was added must then be dropped). The values are borrowed from `rule` when written
/// there verbatim.
fn host_values<'r>(expr: &Expr, rule: &'r str, index: u32, out: &mut Vec<(Cow<'r, str>, u32)>) -> bool {
    match expr {
        Expr::Matcher(m) if m.kind == MatcherKind::Host => {
            let Some(arg) = m.args.first() else { return false };
            let raw = rule.get(arg.span.0 + 1..arg.span.1.saturating_sub(1)).filter(|r| *r == arg.value);
            let value: Cow<'r, str> = match raw {
                Some(r) if !r.bytes().any(|b| b.is_ascii_uppercase()) => Cow::Borrowed(r),
                _ => Cow::Owned(arg.value.to_ascii_lowercase()),
            };
            out.push((value, index));
            true
        }
        Expr::And(items) => {
            for item in items {
                let before = out.len();
                if host_values(item, rule, index, out) {
                    return true;
                }
                out.truncate(before);
            }
            false
        }
        Expr::Or(items) => items.iter().all(|item| host_values(item, rule, index, out)),
        _ => false,
    }
}

/// The same rule, hosts and methods compared without case (as Traefik matches them).
fn same_rule(a: &Expr, b: &Expr) -> bool {
    match (a, b) {
        (Expr::Matcher(x), Expr::Matcher(y)) => {
            x.kind == y.kind
                && x.args.len() == y.args.len()
                && x.args.iter().zip(&y.args).all(|(p, q)| match x.kind {
                    MatcherKind::Host | MatcherKind::Method => p.value.eq_ignore_ascii_case(&q.value),
                    _ => p.value == q.value,
                })
        }
        (Expr::Not(x), Expr::Not(y)) => same_rule(x, y),
        (Expr::And(x), Expr::And(y)) | (Expr::Or(x), Expr::Or(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_rule(p, q))
        }
        _ => false,
    }
}

/// True when no request can match both rules, judged from the matchers both require (`Host`, `Path`,
/// `PathPrefix`, `Method` at the top of an `&&`); false when unsure.
fn disjoint(a: &Expr, b: &Expr) -> bool {
    fn conjuncts(e: &Expr) -> &[Expr] {
        match e {
            Expr::And(items) => items,
            other => std::slice::from_ref(other),
        }
    }
    for x in conjuncts(a) {
        let Expr::Matcher(x) = x else { continue };
        for y in conjuncts(b) {
            let Expr::Matcher(y) = y else { continue };
            let (p, q) = (x.arg(0), y.arg(0));
            let apart = match (x.kind, y.kind) {
                (MatcherKind::Host, MatcherKind::Host) | (MatcherKind::Method, MatcherKind::Method) => {
                    !p.eq_ignore_ascii_case(q)
                }
                (MatcherKind::Path, MatcherKind::Path) => p != q,
                (MatcherKind::Path, MatcherKind::PathPrefix) => !p.starts_with(q),
                (MatcherKind::PathPrefix, MatcherKind::Path) => !q.starts_with(p),
                (MatcherKind::PathPrefix, MatcherKind::PathPrefix) => !p.starts_with(q) && !q.starts_with(p),
                _ => false,
            };
            if apart {
                return true;
            }
        }
    }
    false
}

/// Why a service cannot report its health to a parent with `healthCheck: {}`, if it cannot.
fn cannot_report_health(service: &Service) -> Option<&'static str> {
    if let Some(lb) = &service.load_balancer {
        return lb.health_check.is_none().then_some("a load balancer without an active `healthCheck`");
    }
    let own = service
        .weighted
        .as_ref()
        .map(|w| w.health_check.is_some())
        .or_else(|| service.highest_random_weight.as_ref().map(|h| h.health_check.is_some()))
        .or_else(|| service.mirroring.as_ref().map(|m| m.health_check.is_some()))
        .or_else(|| service.failover.as_ref().map(|f| f.health_check.is_some()));
    match own {
        Some(false) => Some("it has no `healthCheck: {}` of its own"),
        _ => None,
    }
}

fn middleware_kinds(m: &Middleware) -> [bool; 25] {
    [
        m.add_prefix.is_some(),
        m.basic_auth.is_some(),
        m.buffering.is_some(),
        m.chain.is_some(),
        m.circuit_breaker.is_some(),
        m.compress.is_some(),
        m.content_type.is_some(),
        m.digest_auth.is_some(),
        m.errors.is_some(),
        m.forward_auth.is_some(),
        m.grpc_web.is_some(),
        m.headers.is_some(),
        m.ip_allow_list.is_some(),
        m.ip_white_list.is_some(),
        m.in_flight_req.is_some(),
        m.pass_tls_client_cert.is_some(),
        m.plugin.is_some(),
        m.rate_limit.is_some(),
        m.redirect_regex.is_some(),
        m.redirect_scheme.is_some(),
        m.replace_path.is_some(),
        m.replace_path_regex.is_some(),
        m.retry.is_some(),
        m.strip_prefix.is_some(),
        m.strip_prefix_regex.is_some(),
    ]
}

/// Checks a server URL the way Traefik uses it: Go's `url.Parse`, then a scheme it can forward to and a host.
fn check_url(url: &str) -> Result<(), String> {
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
fn check_address(address: &str) -> Result<(), String> {
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

/// The matchers of Traefik v3 TCP rules.
const TCP_MATCHERS: [&str; 4] = ["HostSNI", "HostSNIRegexp", "ClientIP", "ALPN"];

/// A minimal check of a TCP rule: not empty, strings closed, known matcher names. `(code, column, message,
/// hints)` of the first problem.
fn tcp_rule(rule: &str) -> Option<(&'static str, usize, String, Vec<String>)> {
    let column = |at: usize| rule[..at].chars().count() + 1;
    if rule.trim().is_empty() {
        return Some((
            "SY3114",
            1,
            "column 1: the rule is empty; write at least one matcher, such as HostSNI(`example.com`)".to_string(),
            Vec::new(),
        ));
    }
    let bytes = rule.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'`' || c == b'"' {
            let close = rule[i + 1..].find(if c == b'`' { '`' } else { '"' });
            match close {
                Some(len) => i += len + 2,
                None => {
                    let col = column(i);
                    return Some(("SY3110", col, format!("column {col}: string not terminated; close it"), Vec::new()));
                }
            }
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            let end = rule[i..].find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).map_or(rule.len(), |l| i + l);
            let word = &rule[i..end];
            let known = TCP_MATCHERS.iter().any(|m| {
                let lower = m.to_ascii_lowercase();
                word == *m
                    || word == lower
                    || word == m.to_ascii_uppercase()
                    || (word.len() == m.len() && word[..1] == m[..1] && word[1..] == lower[1..])
            });
            if !known && rule[end..].trim_start().starts_with('(') {
                let col = column(i);
                let mut hints = Vec::new();
                if let Some(kind) = MatcherKind::from_name(word) {
                    hints.push(match kind {
                        MatcherKind::Host => "TCP routers match the TLS server name: use HostSNI".to_string(),
                        MatcherKind::HostRegexp => "TCP routers use HostSNIRegexp".to_string(),
                        _ => format!("{word} is an HTTP matcher: it has no meaning for TCP"),
                    });
                } else if let Some(m) = did_you_mean(word, TCP_MATCHERS) {
                    hints.push(format!("did you mean {m}?"));
                }
                return Some((
                    "SY3102",
                    col,
                    format!("column {col}: unknown matcher `{word}`; TCP rules use {}", TCP_MATCHERS.join(", ")),
                    hints,
                ));
            }
            i = end;
            continue;
        }
        i += 1;
    }
    None
}
