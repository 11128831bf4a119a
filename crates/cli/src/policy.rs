//! Policies: untrusted WebAssembly modules (ABI v1, `docs/policy-abi.md`) run in wasmtime against a spec, its
//! states and a requested change. Their findings become diagnostics, each naming the module.
//!
//! A module is untrusted: it may import nothing (refused before it is instantiated), it runs with bounded fuel
//! and an epoch deadline (a ticker thread advances the epoch), its memories and tables are capped by a
//! resource limiter, and its answer is read only if it lies inside its memory and under a size limit. Every
//! failure is a [`PolicyError`] naming the module and the limit it hit; the host stays usable.
//!
//! Compiled modules are cached on disk, uncompressed, as wasmtime serialises them:
//! `<cache>/modules/<sha256 of the module>-<engine>.cwasm`, where `<engine>` is a hash of everything wasmtime
//! says makes compiled code compatible (its version, the target, the compiler's flags, the engine's settings),
//! and `<cache>` is `$SWITCHYARD_CACHE_DIR`, else `$XDG_CACHE_HOME/switchyard`, else `~/.cache/switchyard`.
//! A cached module is mapped into memory, not read and decompressed ([`deserialize_cached`]). The cache also
//! remembers each module file's sha256 by the file's identity ([`memo`]), so a warm run neither reads nor
//! hashes the module.

use std::fmt;
use std::hash::{Hash as _, Hasher};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use sha2::{Digest, Sha256};
use switchyard_model::Diagnostic;
use switchyard_model::policy::{ABI_VERSION, Finding, finding_diagnostic, read_answer};
use wasmtime::{Config, Engine, ExternType, Instance, Linker, Module, ResourceLimiter, Store, Trap, ValType};

/// The entry point of ABI v1 and the allocator it uses.
pub(crate) const ENTRY: &str = "switchyard_policy_v1";
pub(crate) const ALLOC: &str = "switchyard_alloc";

/// How much a policy may use. Defaults fit the model's own policy on a few hundred environments many times
/// over.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Fuel units (about one per WebAssembly instruction).
    pub(crate) fuel: u64,
    /// Wall-clock time for one evaluation.
    pub(crate) timeout: Duration,
    /// Bytes of linear memory, all memories together.
    pub(crate) memory: usize,
    /// Bytes of the answer.
    pub(crate) output: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { fuel: 20_000_000_000, timeout: Duration::from_secs(10), memory: 512 << 20, output: 8 << 20 }
    }
}

/// The largest module file read.
const MAX_MODULE: u64 = 64 << 20;
/// How often the epoch advances.
const TICK: Duration = Duration::from_millis(10);

/// Why a policy gave no findings: it names the module and, where one was hit, the limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PolicyError {
    pub(crate) module: String,
    pub(crate) message: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "policy {}: {}", self.module, self.message)
    }
}

impl std::error::Error for PolicyError {}

/// A policy as given on the command line: `path` or `path@sha256:HEX` (the module must have that hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PolicyRef {
    pub(crate) path: PathBuf,
    pub(crate) sha256: Option<String>,
}

impl std::str::FromStr for PolicyRef {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.rsplit_once("@sha256:") {
            Some((path, hex)) => {
                if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(format!("{hex:?} is not a sha256 (64 hexadecimal digits)"));
                }
                Ok(PolicyRef { path: path.into(), sha256: Some(hex.to_ascii_lowercase()) })
            }
            None => Ok(PolicyRef { path: s.into(), sha256: None }),
        }
    }
}

/// A loaded, checked, compiled policy.
#[derive(Debug, Clone)]
pub(crate) struct Policy {
    /// The file as given, for messages.
    pub(crate) name: String,
    pub(crate) sha256: String,
    /// Whether its compiled code came from the on-disk cache.
    pub(crate) cached: bool,
    module: Module,
}

/// The resource limiter of one evaluation: remembers what it refused, for the error message.
struct Limiter {
    memory: usize,
    refused: Option<String>,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.memory {
            let what = format!(
                "went over its memory limit of {} (it asked for {}; --policy-memory)",
                mib(self.memory),
                mib(desired)
            );
            self.refused = Some(what.clone());
            return Err(wasmtime::format_err!("{what}"));
        }
        Ok(true)
    }
    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        const TABLE: usize = 100_000;
        if desired > TABLE {
            let what = format!("went over its table limit of {TABLE} elements (it asked for {desired})");
            self.refused = Some(what.clone());
            return Err(wasmtime::format_err!("{what}"));
        }
        Ok(true)
    }
    fn instances(&self) -> usize {
        1
    }
    fn tables(&self) -> usize {
        4
    }
    fn memories(&self) -> usize {
        1
    }
}

fn mib(bytes: usize) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}

/// The wasmtime engine every policy runs in, with its epoch ticker and its cache of compiled modules.
pub(crate) struct Host {
    engine: Engine,
    limits: Limits,
    cache: Option<ModuleCache>,
    /// Dropping it stops the ticker thread.
    _ticker: mpsc::Sender<()>,
}

impl fmt::Debug for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Host").field("limits", &self.limits).finish_non_exhaustive()
    }
}

/// switchyard's cache directory (absolute); compiled modules go in its `modules` directory. None when there is
/// no home either.
pub(crate) fn cache_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("SWITCHYARD_CACHE_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()).map(|d| Path::new(&d).join("switchyard"))
        })
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/switchyard")))?;
    if dir.is_absolute() { Some(dir) } else { Some(std::env::current_dir().ok()?.join(dir)) }
}

/// Compiled modules on disk: `<dir>/<sha256 of the module>-<engine>.cwasm`, as [`Module::serialize`] writes
/// them, mapped back with [`Module::deserialize_file`].
struct ModuleCache {
    /// `<cache>/modules`, created (0700) on the first write.
    dir: PathBuf,
    /// Hex of [`Engine::precompile_compatibility_hash`]: wasmtime's version and every setting compiled code
    /// depends on. Another wasmtime or another configuration gets other file names.
    engine: String,
    /// The sha256 of module files, remembered by their identity (`<cache>/sha256`).
    memo: memo::Memo,
    hits: AtomicUsize,
    misses: AtomicUsize,
    /// Module files whose remembered sha256 was believed (neither read nor hashed).
    remembered: AtomicUsize,
}

/// A [`Hasher`] feeding SHA-256, to turn wasmtime's compatibility hash into a stable file name (the standard
/// library's hashers promise no stability across Rust versions).
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
    fn finish(&self) -> u64 {
        let digest = self.0.clone().finalize();
        u64::from_le_bytes(std::array::from_fn(|i| digest[i]))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl ModuleCache {
    fn new(engine: &Engine, dir: &Path) -> ModuleCache {
        let mut hasher = Sha256Hasher(Sha256::new());
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let digest = hasher.0.finalize();
        ModuleCache {
            dir: dir.join("modules"),
            engine: hex(&digest[..16]),
            memo: memo::Memo::new(dir.join("sha256")),
            hits: AtomicUsize::new(0),
            misses: AtomicUsize::new(0),
            remembered: AtomicUsize::new(0),
        }
    }

    fn path(&self, sha256: &str) -> PathBuf {
        self.dir.join(format!("{sha256}-{}.cwasm", self.engine))
    }

    /// The compiled module for these bytes, if this host wrote one for this engine and it still loads.
    fn get(&self, engine: &Engine, sha256: &str) -> Option<Module> {
        let path = self.path(sha256);
        // A missing, stale or damaged entry is a miss: the module is compiled again and the entry rewritten.
        let module = deserialize_cached(engine, &path).ok();
        let counter = if module.is_some() { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
        module
    }

    /// Writes the compiled module atomically (a temporary file in the same directory, synced, then renamed):
    /// a reader sees the whole file or none. Best effort: a failure only costs the next run a compilation.
    fn put(&self, sha256: &str, module: &Module) {
        let _ = self.write(&self.path(sha256), module);
    }

    fn write(&self, path: &Path, module: &Module) -> anyhow::Result<()> {
        let bytes = module.serialize().map_err(anyhow::Error::from)?;
        let mut dirs = std::fs::DirBuilder::new();
        dirs.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut dirs, 0o700);
        dirs.create(&self.dir)?;
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        let temp = self.dir.join(format!(".{}.{}.{}.tmp", std::process::id(), nanos.as_nanos(), self.engine));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let written = options.open(&temp).and_then(|mut file| {
            file.write_all(&bytes)?;
            file.sync_all()
        });
        let renamed = written.and_then(|()| std::fs::rename(&temp, path));
        if renamed.is_err() {
            let _ = std::fs::remove_file(&temp);
        }
        renamed?;
        // The rename itself, on disk too (best effort: not every platform can sync a directory).
        if let Ok(dir) = std::fs::File::open(&self.dir) {
            let _ = dir.sync_all();
        }
        Ok(())
    }
}

/// The sha256 of module files, remembered in the cache by each file's identity, as git's index remembers the
/// hashes of a work tree's files: a warm run then neither reads nor hashes the module (the model's policy is
/// 2.4 MB, 1.4 ms of SHA-256).
///
/// `<cache>/sha256/<device>-<inode>` holds `v1 <size> <mtime> <ctime> <begun> <sha256>`, times in nanoseconds
/// of the filesystem's clock. It is believed only while the file has that device, inode, size, modification
/// time and change time, and only if both times are strictly older than `begun`: the creation time of the memo
/// file, made before the module was stat'ed and read, on the same filesystem as the module (a memo is only
/// written then, so one clock at one granularity stamps both):
/// - any change to the file after `begun` gives it a change time of `begun` or later (a change time cannot be
///   set back, unlike the modification time that `touch -d` or `utimensat` set), so the memo no longer matches;
///   a file replaced by another (a rename over it) has another inode, and a new file that reuses an inode
///   number was created after `begun`;
/// - a change before `begun` is in the times `stat` gave and in the bytes that were read after it;
/// - "strictly older" leaves out a file changed in the same tick of the clock as `begun` (git's "racily clean"
///   entries): such a file is hashed again next time, and remembered then.
///
/// The memo adds no trust: it only names a cache entry, and what runs is always the compiled code of bytes
/// that had that sha256, so a pin (`--policy path@sha256:HEX`) is checked against the code that runs (a
/// remembered hash that is not the pin is not believed: the file is read and hashed). A forged memo could only
/// make a run use other compiled code from the cache directory, which whoever can write that directory can do
/// by writing compiled code there: it is the user's own (0700), and its compiled code is already mapped and run
/// as it is. A damaged memo does not parse and is ignored.
#[cfg(unix)]
mod memo {
    use std::fs::{File, Metadata};
    use std::io::Write as _;
    use std::os::unix::fs::{DirBuilderExt as _, MetadataExt as _, OpenOptionsExt as _};
    use std::path::PathBuf;

    /// A time of the filesystem's clock, in nanoseconds since the epoch.
    fn nanos(seconds: i64, nanoseconds: i64) -> i128 {
        i128::from(seconds) * 1_000_000_000 + i128::from(nanoseconds)
    }

    /// What tells a file's content has not changed, without reading it.
    struct Identity {
        dev: u64,
        ino: u64,
        size: u64,
        mtime: i128,
        ctime: i128,
    }

    impl Identity {
        fn of(meta: &Metadata) -> Identity {
            Identity {
                dev: meta.dev(),
                ino: meta.ino(),
                size: meta.size(),
                mtime: nanos(meta.mtime(), meta.mtime_nsec()),
                ctime: nanos(meta.ctime(), meta.ctime_nsec()),
            }
        }
    }

    pub(super) struct Memo {
        /// `<cache>/sha256`, created (0700) on the first write.
        dir: PathBuf,
    }

    impl Memo {
        pub(super) fn new(dir: PathBuf) -> Memo {
            Memo { dir }
        }

        fn path(&self, id: &Identity) -> PathBuf {
            self.dir.join(format!("{}-{}", id.dev, id.ino))
        }

        /// The sha256 remembered for the file `meta` describes, if it is still the file that was hashed.
        pub(super) fn get(&self, meta: &Metadata) -> Option<String> {
            let id = Identity::of(meta);
            let text = std::fs::read_to_string(self.path(&id)).ok()?;
            let mut fields = text.strip_suffix('\n')?.split(' ');
            if fields.next()? != "v1" {
                return None;
            }
            let size: u64 = fields.next()?.parse().ok()?;
            let mut time = || fields.next()?.parse::<i128>().ok();
            let (mtime, ctime, begun) = (time()?, time()?, time()?);
            let sha256 = fields.next()?;
            let hash = sha256.len() == 64 && sha256.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
            let same = size == id.size && mtime == id.mtime && ctime == id.ctime;
            (fields.next().is_none() && hash && same && mtime < begun && ctime < begun).then(|| sha256.to_string())
        }

        /// Begins to remember the hash of a file about to be stat'ed and read: a new (temporary) memo file, whose
        /// modification time is the memo's `begun`. None when it cannot be made: the hash is not remembered.
        pub(super) fn begin(&self) -> Option<Pending> {
            let mut dirs = std::fs::DirBuilder::new();
            dirs.recursive(true).mode(0o700);
            dirs.create(&self.dir).ok()?;
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
            let temp = self.dir.join(format!(".{}.{}.tmp", std::process::id(), now.as_nanos()));
            let file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&temp).ok()?;
            let Ok(meta) = file.metadata() else {
                let _ = std::fs::remove_file(&temp);
                return None;
            };
            let (begun, dev) = (nanos(meta.mtime(), meta.mtime_nsec()), meta.dev());
            Some(Pending { file, temp, dir: self.dir.clone(), begun, dev, done: false })
        }
    }

    /// A memo being written; its temporary file is removed unless it became the memo.
    pub(super) struct Pending {
        file: File,
        temp: PathBuf,
        dir: PathBuf,
        begun: i128,
        /// The device of the memo's filesystem, whose clock gave `begun`.
        dev: u64,
        done: bool,
    }

    impl Pending {
        /// Remembers `sha256` for the file `meta` describes (stat'ed after [`Memo::begin`], then `len` bytes of it
        /// read and hashed), if it could ever be believed: on the memo's filesystem, as long as the bytes read,
        /// and with both times strictly older than `begun`. Best effort, like the cache.
        pub(super) fn finish(mut self, meta: &Metadata, len: usize, sha256: &str) {
            let id = Identity::of(meta);
            if id.dev != self.dev || id.size != len as u64 || id.mtime >= self.begun || id.ctime >= self.begun {
                return;
            }
            let text = format!("v1 {} {} {} {} {sha256}\n", id.size, id.mtime, id.ctime, self.begun);
            let path = Memo { dir: self.dir.clone() }.path(&id);
            self.done = self.file.write_all(text.as_bytes()).is_ok() && std::fs::rename(&self.temp, path).is_ok();
        }
    }

    impl Drop for Pending {
        fn drop(&mut self) {
            if !self.done {
                let _ = std::fs::remove_file(&self.temp);
            }
        }
    }
}

/// Elsewhere, module files are hashed on every load.
#[cfg(not(unix))]
mod memo {
    use std::fs::Metadata;
    use std::path::PathBuf;

    pub(super) struct Memo;
    pub(super) struct Pending;

    impl Memo {
        pub(super) fn new(_dir: PathBuf) -> Memo {
            Memo
        }
        pub(super) fn get(&self, _meta: &Metadata) -> Option<String> {
            None
        }
        pub(super) fn begin(&self) -> Option<Pending> {
            None
        }
    }

    impl Pending {
        pub(super) fn finish(self, _meta: &Metadata, _len: usize, _sha256: &str) {}
    }
}

/// Maps a compiled module written by [`ModuleCache::write`] back into memory (no copy, no decompression).
#[allow(unsafe_code)] // the one unsafe call of the CLI; see the SAFETY comment
fn deserialize_cached(engine: &Engine, path: &Path) -> wasmtime::Result<Module> {
    // SAFETY: `Module::deserialize_file` requires a file that `Module::serialize` (or `precompile_module`)
    // wrote, unchanged for as long as the module lives. The file is one this host wrote with
    // `Module::serialize`, for an engine of this configuration (its name carries the engine's compatibility
    // hash); wasmtime checks the header, its own version and the configuration before using it and refuses a
    // mismatch with an error. It is written atomically (a synced temporary file renamed into place), so no
    // torn file is ever seen, and a later rewrite renames a new file over the name without touching the one
    // mapped here. The cache directory is the user's own (created 0700): whoever can write there can already
    // run code as the user.
    unsafe { Module::deserialize_file(engine, path) }
}

/// The engine's settings: fuel and epochs for the limits.
pub(crate) fn engine_config() -> Config {
    let mut config = Config::new();
    config.consume_fuel(true).epoch_interruption(true);
    // Smaller compiled code, so a module comes out of the cache faster: no native unwind tables (nothing
    // unwinds through a policy: it calls no host function) and no address map (traps still name their
    // kind, without the module offset).
    config.native_unwind_info(false).generate_address_map(false);
    config
}

impl Host {
    /// An engine with fuel, epochs and (with `cache`) the on-disk cache of compiled modules.
    pub(crate) fn new(limits: Limits, cache: Option<&Path>) -> anyhow::Result<Host> {
        let engine = Engine::new(&engine_config()).map_err(anyhow::Error::from)?;
        let cache = cache.map(|dir| ModuleCache::new(&engine, dir));
        let (stop, stopped) = mpsc::channel::<()>();
        let ticking = engine.clone();
        std::thread::Builder::new().name("policy-epoch".into()).spawn(move || {
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(TICK) {
                ticking.increment_epoch();
            }
        })?;
        Ok(Host { engine, limits, cache, _ticker: stop })
    }

    /// Modules served from the cache and compiled afresh (cache misses), since this host started.
    #[cfg(test)]
    pub(crate) fn cache_stats(&self) -> (usize, usize) {
        self.cache.as_ref().map_or((0, 0), |c| (c.hits.load(Ordering::Relaxed), c.misses.load(Ordering::Relaxed)))
    }

    /// Module files loaded by their remembered sha256, without reading them, since this host started.
    #[cfg(test)]
    pub(crate) fn remembered(&self) -> usize {
        self.cache.as_ref().map_or(0, |c| c.remembered.load(Ordering::Relaxed))
    }

    /// Reads, checks the hash of, compiles and checks the imports and exports of a policy module. With a cache,
    /// a module file whose sha256 the cache remembers (see [`memo`]) and whose compiled code it holds is neither
    /// read nor hashed: the compiled code of the bytes that had that hash is mapped.
    pub(crate) fn load(&self, policy: &PolicyRef) -> Result<Policy, PolicyError> {
        let name = policy.path.display().to_string();
        let fail = |message: String| PolicyError { module: name.clone(), message };
        let read_error = |e: std::io::Error| fail(format!("could not read the module: {e}"));
        let meta = std::fs::metadata(&policy.path).map_err(read_error)?;
        if meta.len() > MAX_MODULE {
            let size = meta.len();
            return Err(fail(format!("the module has {size} bytes, over the limit of {}", mib(MAX_MODULE as usize))));
        }
        let pinned = policy.sha256.as_deref();
        let mut pending = None;
        if let Some(cache) = &self.cache {
            // A remembered hash that is not the pin is not believed: the bytes are hashed, and decide.
            if let Some(sha256) = cache.memo.get(&meta)
                && pinned.is_none_or(|pin| pin == sha256)
                && let Ok(module) = deserialize_cached(&self.engine, &cache.path(&sha256))
            {
                cache.remembered.fetch_add(1, Ordering::Relaxed);
                cache.hits.fetch_add(1, Ordering::Relaxed);
                return self.checked(&name, sha256, true, module);
            }
            pending = cache.memo.begin();
        }
        // Once the memo has begun (its time taken), the file as it is read: stat, then the bytes.
        let meta = if pending.is_some() { std::fs::metadata(&policy.path).map_err(read_error)? } else { meta };
        let bytes = std::fs::read(&policy.path).map_err(read_error)?;
        let sha256 = hex(&Sha256::digest(&bytes));
        if let Some(pending) = pending {
            pending.finish(&meta, bytes.len(), &sha256);
        }
        self.load_hashed(&name, &bytes, sha256, pinned)
    }

    /// As [`Host::load`], for bytes (a binary module or its text format) named `name`.
    #[cfg_attr(not(test), allow(dead_code))] // the tests' and the bench's
    pub(crate) fn load_bytes(&self, name: &str, bytes: &[u8], pinned: Option<&str>) -> Result<Policy, PolicyError> {
        self.load_hashed(name, bytes, hex(&Sha256::digest(bytes)), pinned)
    }

    /// Loads `bytes`, whose sha256 is `sha256`.
    fn load_hashed(
        &self,
        name: &str,
        bytes: &[u8],
        sha256: String,
        pinned: Option<&str>,
    ) -> Result<Policy, PolicyError> {
        let fail = |message: String| PolicyError { module: name.to_string(), message };
        if let Some(pinned) = pinned
            && pinned != sha256
        {
            return Err(fail(format!(
                "its sha256 is {sha256}, not the pinned {pinned}; refusing to run it (update the pin if the change is intended)"
            )));
        }
        let cached = self.cache.as_ref().and_then(|c| c.get(&self.engine, &sha256));
        let (module, cached) = match cached {
            Some(module) => (module, true),
            None => {
                let module =
                    Module::new(&self.engine, bytes).map_err(|e| fail(format!("is not a valid module: {e:#}")))?;
                if let Some(cache) = &self.cache {
                    cache.put(&sha256, &module);
                }
                (module, false)
            }
        };
        self.checked(name, sha256, cached, module)
    }

    /// A compiled module as a policy, if it imports nothing and has the ABI's exports.
    fn checked(&self, name: &str, sha256: String, cached: bool, module: Module) -> Result<Policy, PolicyError> {
        let fail = |message: String| PolicyError { module: name.to_string(), message };
        let imports: Vec<String> = module.imports().map(|i| format!("{}.{}", i.module(), i.name())).collect();
        if !imports.is_empty() {
            return Err(fail(format!(
                "imports {}; a policy may import nothing (ABI v{ABI_VERSION}), so it was not run",
                imports.join(", ")
            )));
        }
        let i32_ = |t: &ValType| matches!(t, ValType::I32);
        let expect = |export: &str, params: usize, result: fn(&ValType) -> bool, shape: &str| match module
            .get_export(export)
        {
            Some(ExternType::Func(f))
                if f.params().len() == params
                    && f.params().all(|p| i32_(&p))
                    && f.results().len() == 1
                    && f.results().all(|r| result(&r)) =>
            {
                Ok(())
            }
            Some(_) => Err(fail(format!("exports `{export}` with the wrong type; ABI v{ABI_VERSION} wants {shape}"))),
            None => Err(fail(format!(
                "does not export `{export}` {shape}; it is not an ABI v{ABI_VERSION} policy (docs/policy-abi.md)"
            ))),
        };
        expect(ALLOC, 1, |t| matches!(t, ValType::I32), "(func (param i32) (result i32))")?;
        expect(ENTRY, 2, |t| matches!(t, ValType::I64), "(func (param i32 i32) (result i64))")?;
        if !matches!(module.get_export("memory"), Some(ExternType::Memory(m)) if !m.is_64()) {
            return Err(fail(format!("does not export its 32-bit `memory`; ABI v{ABI_VERSION} wants it")));
        }
        Ok(Policy { name: name.to_string(), sha256, cached, module })
    }

    /// Runs a policy on the input JSON: its findings, or why there are none.
    pub(crate) fn run(&self, policy: &Policy, input: &[u8]) -> Result<Vec<Finding>, PolicyError> {
        let fail = |message: String| PolicyError { module: policy.name.clone(), message };
        let limits = self.limits;
        let mut store = Store::new(&self.engine, Limiter { memory: limits.memory, refused: None });
        store.limiter(|l| l);
        store.set_fuel(limits.fuel).map_err(|e| fail(format!("{e}")))?;
        let ticks = (limits.timeout.as_millis() / TICK.as_millis()).max(1);
        store.set_epoch_deadline(u64::try_from(ticks).unwrap_or(u64::MAX));
        store.epoch_deadline_trap();
        // Why a call failed: the limit that stopped it, or the trap.
        let why = |store: &Store<Limiter>, e: wasmtime::Error, during: &str| {
            if let Some(refused) = &store.data().refused {
                return fail(refused.clone());
            }
            match e.downcast_ref::<Trap>() {
                Some(Trap::OutOfFuel) => {
                    fail(format!("ran out of fuel during {during}: its limit is {} units (--policy-fuel)", limits.fuel))
                }
                Some(Trap::Interrupt) => fail(format!(
                    "passed its deadline of {} during {during} (--policy-timeout)",
                    humantime(limits.timeout)
                )),
                Some(trap) => fail(format!("trapped during {during}: {trap}")),
                None => fail(format!("failed during {during}: {e:#}")),
            }
        };
        let linker: Linker<Limiter> = Linker::new(&self.engine);
        let instance: Instance =
            linker.instantiate(&mut store, &policy.module).map_err(|e| why(&store, e, "instantiation"))?;
        let alloc =
            instance.get_typed_func::<i32, i32>(&mut store, ALLOC).map_err(|e| fail(format!("`{ALLOC}`: {e}")))?;
        let entry = instance
            .get_typed_func::<(i32, i32), i64>(&mut store, ENTRY)
            .map_err(|e| fail(format!("`{ENTRY}`: {e}")))?;
        let memory = instance.get_memory(&mut store, "memory").ok_or_else(|| fail("exports no `memory`".into()))?;
        let len = i32::try_from(input.len())
            .map_err(|_| fail(format!("the input has {} bytes, more than a 32-bit module can take", input.len())))?;
        let ptr = alloc.call(&mut store, len).map_err(|e| why(&store, e, ALLOC))?;
        memory
            .write(&mut store, ptr as u32 as usize, input)
            .map_err(|_| fail(format!("`{ALLOC}({len})` returned {ptr}, which is not {len} bytes of its memory")))?;
        let packed = entry.call(&mut store, (ptr, len)).map_err(|e| why(&store, e, ENTRY))?;
        let packed = packed as u64;
        let (out_ptr, out_len) = ((packed >> 32) as usize, (packed & 0xffff_ffff) as usize);
        if out_len > limits.output {
            return Err(fail(format!(
                "answered {out_len} bytes, over the limit of {} (--policy-output)",
                mib(limits.output)
            )));
        }
        let data = memory.data(&store);
        let answer = out_ptr
            .checked_add(out_len)
            .and_then(|end| data.get(out_ptr..end))
            .ok_or_else(|| fail(format!("answered at {out_ptr} ({out_len} bytes), outside its memory")))?;
        let text = std::str::from_utf8(answer).map_err(|e| fail(format!("its answer is not UTF-8: {e}")))?;
        // Read as the playground reads it: the model decides what an answer is.
        read_answer(text).map_err(fail)
    }
}

fn humantime(d: Duration) -> String {
    if d.subsec_millis() == 0 { format!("{} s", d.as_secs()) } else { format!("{} ms", d.as_millis()) }
}

/// A finding as a diagnostic, its message naming the policy that reported it (the model's rule, which the
/// playground follows too).
pub(crate) fn to_diagnostic(policy: &Policy, finding: &Finding) -> Diagnostic {
    finding_diagnostic(&policy.name, finding)
}
