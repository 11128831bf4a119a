//! Loading a set of files the way Traefik's file provider does in `directory` mode: files in sorted order,
//! each parsed and checked, named definitions merged with the first definition of a name winning.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::BTreeMap;

use switchyard_diagnostics::{Diagnostic, Location};
use switchyard_lookup::{FNV_OFFSET, Table, fnv1a_from};

use super::check::{self, Record, node_at};
use super::de::from_node;
use super::model::DynamicConfig;
use super::schema::Section;
use super::source::{self, Format, NOT_APPLIED, Node};

/// Whether Traefik's file provider reads a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileClass {
    /// `.yml`, `.yaml` or `.toml` (any case): read.
    Counted(Format),
    /// Any other extension: ignored (which makes such names safe for files being written).
    IgnoredExtension,
}

/// Classifies `path` by its extension, as Go's `filepath.Ext` and Traefik's `isFileSupported` do: the text from
/// the last dot of the last path element, compared without case. A file named `.yaml` counts.
pub fn classify(path: &str) -> FileClass {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    let ext = name.rfind('.').map_or("", |i| &name[i..]).to_ascii_lowercase();
    match ext.as_str() {
        ".yml" | ".yaml" => FileClass::Counted(Format::Yaml),
        ".toml" => FileClass::Counted(Format::Toml),
        _ => FileClass::IgnoredExtension,
    }
}

/// Where a named definition is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Origin {
    pub file: String,
    /// Position of the definition's name.
    pub line: usize,
    pub column: usize,
    /// Key path inside the file, e.g. `http.routers.web`.
    pub path: String,
    /// The definition has no structural error and is in [`Loaded::config`].
    pub valid: bool,
}

impl Origin {
    pub fn location(&self) -> Location {
        Location { file: self.file.clone(), line: self.line, column: self.column }
    }
}

/// One file as read.
#[derive(Debug, Clone)]
pub struct LoadedFile<'a> {
    pub name: String,
    pub format: Format,
    /// The file's text, as given to [`load`] (for positions inside values, such as a column inside a rule).
    pub source: Cow<'a, str>,
    /// The tree after normalisation (keys in Traefik's spelling); `None` when the file does not parse.
    pub root: Option<Node<'a>>,
    /// No error was found: Traefik would read this file.
    pub accepted: bool,
}

/// The result of [`load`].
#[derive(Debug, Clone, Default)]
pub struct Loaded<'a> {
    /// The merged configuration: for each name the first valid definition in file order. Definitions with
    /// errors are left out (Traefik would refuse their file, and with it the whole directory).
    pub config: DynamicConfig,
    /// Every named definition that owns its name (the first one in file order), valid or not. Certificates have
    /// no name: a valid one is keyed by its index in `config.tls.certificates`, an invalid one by `file#index`.
    pub origins: BTreeMap<(Section, String), Origin>,
    /// The files read, in Traefik's order.
    pub files: Vec<LoadedFile<'a>>,
    /// Everything found, sorted by file (in Traefik's order), line and column.
    pub diagnostics: Vec<Diagnostic>,
}

impl Loaded<'_> {
    /// The same result, owning the text of its trees (which otherwise borrow the files given to [`load`]).
    pub fn into_owned(self) -> Loaded<'static> {
        Loaded {
            config: self.config,
            origins: self.origins,
            files: self
                .files
                .into_iter()
                .map(|f| LoadedFile {
                    name: f.name,
                    format: f.format,
                    source: Cow::Owned(f.source.into_owned()),
                    root: f.root.map(Node::into_owned),
                    accepted: f.accepted,
                })
                .collect(),
            diagnostics: self.diagnostics,
        }
    }

    pub fn has_errors(&self) -> bool {
        switchyard_diagnostics::has_errors(&self.diagnostics)
    }

    pub fn origin(&self, section: Section, name: &str) -> Option<&Origin> {
        self.origins.get(&(section, name.to_string()))
    }

    /// The location of `keys` (Traefik's spelling) inside the definition `name`, or of the nearest enclosing
    /// key found: `locate(Section::HttpRouter, "web", &["tls", "certResolver"])`.
    pub fn locate(&self, section: Section, name: &str, keys: &[&str]) -> Option<Location> {
        let origin = self.origin(section, name)?;
        let file = self.files.iter().find(|f| f.name == origin.file)?;
        let mut node = file.root.as_ref()?;
        let [a, b] = section.keys();
        for k in [a, b, name] {
            node = node.get(k)?;
        }
        let mut at = (origin.line, origin.column);
        for k in keys {
            let Some((key, value)) = node.entries().iter().find(|(key, _)| &*key.name == *k) else { break };
            at = (key.line as usize, key.column as usize);
            node = value;
        }
        Some(Location { file: origin.file.clone(), line: at.0, column: at.1 })
    }
}

/// Compares paths element by element, the order in which Traefik walks a directory (`os.ReadDir` sorts names,
/// and a subdirectory is read where its name sorts).
fn traefik_order(a: &str, b: &str) -> Ordering {
    a.split('/').cmp(b.split('/'))
}

/// Reads `files` (name, contents) as Traefik's file provider reads a directory: only `.yml`, `.yaml` and `.toml`
/// files, in sorted order; for each name the first definition wins and later ones are reported (SY3006).
/// A file that does not parse contributes nothing. The trees in the result borrow the contents (see
/// [`Loaded::into_owned`]).
pub fn load(files: &[(String, String)]) -> Loaded<'_> {
    let mut order: Vec<(usize, Format)> = files
        .iter()
        .enumerate()
        .filter_map(|(i, (name, _))| match classify(name) {
            FileClass::Counted(format) => Some((i, format)),
            FileClass::IgnoredExtension => None,
        })
        .collect();
    order.sort_by(|(a, _), (b, _)| traefik_order(&files[*a].0, &files[*b].0));

    let mut loaded = Loaded::default();
    let mut walk = Vec::with_capacity(32);
    let mut merged = Merge::default();
    for (i, format) in order {
        let (name, source) = &files[i];
        let mut diagnostics = Vec::new();
        // `contains` has a vectorised search for short needles; `find` does not.
        if source.contains("{{")
            && let Some((first, broken)) = super::template::check(source)
        {
            diagnostics.push(match broken {
                Some(error) => template_error(name, source, &error),
                None => template_warning(name, source, first),
            });
        }
        let parsed = source::parse(source, name, format);
        let parse_failed = parsed.root.is_none();
        diagnostics.extend(parsed.diagnostics);
        let mut root = parsed.root;
        if let Some(root) = &mut root {
            let checked = check::check(root, name, format);
            diagnostics.extend(checked.diagnostics);
            check::apply(root, checked.fixups);
            // Each definition is checked, normalised and converted in turn, while it is in the cache.
            for mut record in checked.records {
                let definition = check::check_definition(root, &mut record, name, format, &mut walk);
                diagnostics.extend(definition.diagnostics);
                check::apply(root, definition.fixups);
                merge(&mut merged, &mut loaded.config, &mut diagnostics, root, name, record);
            }
        } else if parse_failed && source.contains("{{") {
            for d in diagnostics.iter_mut().filter(|d| d.code == "SY3001") {
                d.hints.push("the file contains Go template actions (`{{ }}`), which may be the cause".into());
            }
        }
        let accepted = !switchyard_diagnostics::has_errors(&diagnostics);
        // What an error means for the whole file, said once: on its first error.
        if let Some(first) = diagnostics
            .iter_mut()
            .filter(|d| d.is_error())
            .min_by_key(|d| d.location.as_ref().map(|l| (l.line, l.column)))
        {
            first.hints.push(NOT_APPLIED.to_string());
        }
        loaded.diagnostics.extend(diagnostics);
        loaded.files.push(LoadedFile { name: name.clone(), format, source: Cow::Borrowed(source), root, accepted });
    }
    merged.pending.finish(&mut loaded.config);
    loaded.origins = merged.origins.finish();
    let file_rank: BTreeMap<&str, usize> = loaded.files.iter().enumerate().map(|(i, f)| (f.name.as_str(), i)).collect();
    loaded.diagnostics.sort_by_key(|d| {
        d.location.as_ref().map(|l| (file_rank.get(l.file.as_str()).copied().unwrap_or(usize::MAX), l.line, l.column))
    });
    loaded
}

/// The line and column (1-based, in characters) of byte `offset` of `source`.
fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    (line, before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1)
}

fn template_error(file: &str, source: &str, error: &super::template::TemplateError) -> Diagnostic {
    let (line, column) = line_column(source, error.offset);
    let mut d = Diagnostic::error(
        "SY3013",
        format!(
            "the file's Go template does not parse ({}): Traefik renders every file as a template before reading \
             it, even its comments, and refuses the whole file",
            error.message
        ),
    )
    .hint("to keep a literal `{{`, write {{ \"{{\" }}");
    d.location = Some(Location { file: file.to_string(), line, column });
    d
}

fn template_warning(file: &str, source: &str, offset: usize) -> Diagnostic {
    let (line, column) = line_column(source, offset);
    let mut d = Diagnostic::warning(
        "SY3007",
        "`{{` found: Traefik renders every file as a Go template before reading it, so the file is not read as \
         written (and fails to load if the template does not render)",
    )
    .hint("to keep a literal `{{`, write {{ \"{{\" }}; if the template is intended, this check sees the file before rendering");
    d.location = Some(Location { file: file.to_string(), line, column });
    d
}

/// What the merge builds while the files are read: the origins, the definitions kept, the certificates counted.
#[derive(Default)]
struct Merge {
    origins: Origins,
    pending: Pending,
    certificates: usize,
}

fn merge(
    m: &mut Merge,
    config: &mut DynamicConfig,
    diagnostics: &mut Vec<Diagnostic>,
    root: &Node<'_>,
    file: &str,
    record: Record,
) {
    let (origins, pending, certificates) = (&mut m.origins, &mut m.pending, &mut m.certificates);
    let origin = Origin {
        file: file.to_string(),
        line: record.line as usize,
        column: record.column as usize,
        path: record.path,
        valid: record.valid,
    };
    let Some(node) = node_at(root, record.index.as_slice()) else { return };
    if record.section == Section::TlsCertificate {
        // Traefik keeps every certificate of every file.
        let key = if record.valid { certificates.to_string() } else { format!("{file}#{}", record.name) };
        if record.valid && insert(config, pending, record.section, String::new(), node, diagnostics, &origin) {
            *certificates += 1;
        }
        origins.push((record.section, key), origin, None);
        return;
    }
    let hash = Origins::hash(record.section, &record.name);
    if let Some(first) = origins.find(record.section, &record.name, hash) {
        let mut d = Diagnostic::warning(
            "SY3006",
            format!(
                "{} `{}` is already defined at {}:{}:{}; Traefik keeps that definition and ignores this one",
                record.section.label(),
                record.name,
                first.file,
                first.line,
                first.column
            ),
        )
        .at(origin.path.clone())
        .hint("rename one of them, or remove this one");
        d.location = Some(origin.location());
        diagnostics.push(d);
        return;
    }
    if origin.valid {
        insert(config, pending, record.section, record.name.clone(), node, diagnostics, &origin);
    }
    origins.push((record.section, record.name), origin, Some(hash));
}

/// The origins found so far, in file order, with a [`Table`] by section and name for the first-wins rule. The
/// map of [`Loaded::origins`] is built from the list at the end, in one pass.
#[derive(Default)]
struct Origins {
    list: Vec<((Section, String), Origin)>,
    /// The named definitions (certificates have no name, and are not in it).
    table: Table,
}

impl Origins {
    fn hash(section: Section, name: &str) -> u64 {
        fnv1a_from(FNV_OFFSET ^ section as u64, name.as_bytes())
    }

    fn find(&self, section: Section, name: &str, hash: u64) -> Option<&Origin> {
        let at = self.table.find(hash, |i| {
            let (s, n) = &self.list[i].0;
            *s == section && n == name
        })?;
        Some(&self.list[at].1)
    }

    /// Adds an origin; `hash` for a named definition (which must not be there yet).
    fn push(&mut self, key: (Section, String), origin: Origin, hash: Option<u64>) {
        self.list.push((key, origin));
        if let Some(hash) = hash {
            self.table.insert(hash, self.list.len() - 1);
        }
    }

    fn finish(self) -> BTreeMap<(Section, String), Origin> {
        self.list.into_iter().collect()
    }
}

/// The named definitions kept so far, by section, in file order (each name once: the origins decide which
/// definition wins). The maps of the merged configuration are built from them at the end, all at once: sorting
/// each list and building its map in one pass costs less than inserting the names one by one.
#[derive(Default)]
struct Pending {
    http_routers: Vec<(String, super::model::Router)>,
    http_services: Vec<(String, super::model::Service)>,
    http_middlewares: Vec<(String, super::model::Middleware)>,
    http_transports: Vec<(String, super::model::ServersTransport)>,
    tcp_routers: Vec<(String, super::model::TcpRouter)>,
    tcp_services: Vec<(String, super::model::TcpService)>,
    tcp_middlewares: Vec<(String, super::model::TcpMiddleware)>,
    tcp_transports: Vec<(String, super::model::TcpServersTransport)>,
    udp_routers: Vec<(String, super::model::UdpRouter)>,
    udp_services: Vec<(String, super::model::UdpService)>,
    tls_options: Vec<(String, super::model::TlsOptions)>,
    tls_stores: Vec<(String, super::model::TlsStore)>,
}

impl Pending {
    /// Moves everything into `config`.
    fn finish(self, config: &mut DynamicConfig) {
        fn build<T>(map: &mut Option<BTreeMap<String, T>>, items: Vec<(String, T)>) {
            if !items.is_empty() {
                *map = Some(items.into_iter().collect());
            }
        }
        let p = self;
        if !(p.http_routers.is_empty()
            && p.http_services.is_empty()
            && p.http_middlewares.is_empty()
            && p.http_transports.is_empty())
        {
            let http = config.http.get_or_insert_default();
            build(&mut http.routers, p.http_routers);
            build(&mut http.services, p.http_services);
            build(&mut http.middlewares, p.http_middlewares);
            build(&mut http.servers_transports, p.http_transports);
        }
        if !(p.tcp_routers.is_empty()
            && p.tcp_services.is_empty()
            && p.tcp_middlewares.is_empty()
            && p.tcp_transports.is_empty())
        {
            let tcp = config.tcp.get_or_insert_default();
            build(&mut tcp.routers, p.tcp_routers);
            build(&mut tcp.services, p.tcp_services);
            build(&mut tcp.middlewares, p.tcp_middlewares);
            build(&mut tcp.servers_transports, p.tcp_transports);
        }
        if !(p.udp_routers.is_empty() && p.udp_services.is_empty()) {
            let udp = config.udp.get_or_insert_default();
            build(&mut udp.routers, p.udp_routers);
            build(&mut udp.services, p.udp_services);
        }
        if !(p.tls_options.is_empty() && p.tls_stores.is_empty()) {
            let tls = config.tls.get_or_insert_default();
            build(&mut tls.options, p.tls_options);
            build(&mut tls.stores, p.tls_stores);
        }
    }
}

/// Deserialises one definition into the merged configuration (named ones into `pending`). False (with an SY3099
/// error) when serde refuses what the checker accepted, which is a bug.
fn insert(
    config: &mut DynamicConfig,
    pending: &mut Pending,
    section: Section,
    name: String,
    node: &Node<'_>,
    diagnostics: &mut Vec<Diagnostic>,
    origin: &Origin,
) -> bool {
    fn put<T: serde::de::DeserializeOwned>(
        list: &mut Vec<(String, T)>,
        name: String,
        node: &Node<'_>,
    ) -> Result<(), super::de::Error> {
        list.push((name, from_node(node)?));
        Ok(())
    }
    let result = match section {
        Section::HttpRouter => put(&mut pending.http_routers, name, node),
        Section::HttpService => put(&mut pending.http_services, name, node),
        Section::HttpMiddleware => put(&mut pending.http_middlewares, name, node),
        Section::HttpServersTransport => put(&mut pending.http_transports, name, node),
        Section::TcpRouter => put(&mut pending.tcp_routers, name, node),
        Section::TcpService => put(&mut pending.tcp_services, name, node),
        Section::TcpMiddleware => put(&mut pending.tcp_middlewares, name, node),
        Section::TcpServersTransport => put(&mut pending.tcp_transports, name, node),
        Section::UdpRouter => put(&mut pending.udp_routers, name, node),
        Section::UdpService => put(&mut pending.udp_services, name, node),
        Section::TlsOptions => put(&mut pending.tls_options, name, node),
        Section::TlsStore => put(&mut pending.tls_stores, name, node),
        Section::TlsCertificate => from_node(node).map(|c| {
            config.tls.get_or_insert_default().certificates.get_or_insert_default().push(c);
        }),
    };
    match result {
        Ok(()) => true,
        Err(e) => {
            let mut d = Diagnostic::error(
                "SY3099",
                format!("internal error: the checked definition could not be converted ({e}); please report it"),
            )
            .at(origin.path.clone());
            d.location = Some(origin.location());
            diagnostics.push(d);
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_follows_go_filepath_ext() {
        assert_eq!(classify("a/b/x.YML"), FileClass::Counted(Format::Yaml));
        assert_eq!(classify("x.yaml"), FileClass::Counted(Format::Yaml));
        assert_eq!(classify("conf.d/x.toml"), FileClass::Counted(Format::Toml));
        assert_eq!(classify(".yaml"), FileClass::Counted(Format::Yaml));
        for ignored in ["x.yaml.tmp", "x.yml~", "x", "x.json", "yaml", "dir.yaml/x"] {
            assert_eq!(classify(ignored), FileClass::IgnoredExtension, "{ignored}");
        }
    }

    #[test]
    fn order_is_traefiks_directory_walk() {
        let mut names = vec!["sub.yml", "sub/a.yml", "b.yml", "a.yml", "B.yml"];
        names.sort_by(|a, b| traefik_order(a, b));
        assert_eq!(names, ["B.yml", "a.yml", "b.yml", "sub/a.yml", "sub.yml"]);
    }
}
