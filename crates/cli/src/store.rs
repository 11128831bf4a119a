//! The local store: state files and Traefik's dynamic directory on disk, as a user with Traefik on the same
//! host points the file provider at. Layout under `--dir` (default `.switchyard`):
//!
//! ```text
//! state/<app>_<env>.json     one environment's state
//! state/<app>_<env>.lock     held while a change runs: who, since when, which process
//! dynamic/                   Traefik's file-provider directory (or --dynamic-dir)
//! ```

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use serde::{Deserialize, Serialize};
use switchyard_model::naming;
use switchyard_model::state::STATE_FORMAT;
use switchyard_model::{EnvKey, EnvState, Timestamp, World};

use crate::fsio::write_atomic;

#[derive(Debug, Clone)]
pub(crate) struct Store {
    pub(crate) state_dir: PathBuf,
    pub(crate) dynamic_dir: PathBuf,
}

/// Who holds a lock.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct LockHolder {
    pub(crate) actor: String,
    pub(crate) pid: u32,
    pub(crate) since: Timestamp,
    pub(crate) change: String,
    /// The machine the holder runs on.
    #[serde(default)]
    pub(crate) host: Option<String>,
}

impl LockHolder {
    pub(crate) fn describe(&self) -> String {
        let host = self.host.as_deref().map(|h| format!(" on {h}")).unwrap_or_default();
        format!("{} (process {}{host}) since {}, for \"{}\"", self.actor, self.pid, self.since, self.change)
    }

    /// True when the holder ran on this machine and its process is gone: the lock is left over from a CLI
    /// that was killed, and nothing can still be working under it.
    pub(crate) fn is_dead(&self) -> bool {
        process_gone(self.host.as_deref(), self.pid)
    }
}

/// True when process `pid` of machine `host` ran on this machine and is gone (false when it ran elsewhere:
/// nothing here can tell).
pub(crate) fn process_gone(host: Option<&str>, pid: u32) -> bool {
    host.is_some() && host.map(str::to_string) == this_host() && !Path::new(&format!("/proc/{pid}")).exists()
}

/// This machine's name, to tell locks held here from locks held elsewhere.
pub(crate) fn this_host() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname").ok().map(|h| h.trim().to_string()).filter(|h| !h.is_empty())
}

/// Removes the lock file when dropped.
#[derive(Debug)]
pub(crate) struct Lock {
    path: PathBuf,
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

impl Store {
    pub(crate) fn new(dir: &Path, dynamic_dir: Option<&Path>) -> Self {
        Store {
            state_dir: dir.join("state"),
            dynamic_dir: dynamic_dir.map_or_else(|| dir.join("dynamic"), Path::to_path_buf),
        }
    }

    fn state_path(&self, key: &EnvKey) -> PathBuf {
        self.state_dir.join(format!("{}.json", naming::env_stem(&key.app, &key.env)))
    }

    /// Every environment's state. A file that does not parse is an error naming it: nothing is guessed.
    pub(crate) fn load_world(&self) -> Result<World> {
        let mut world = World::new();
        let entries = match fs::read_dir(&self.state_dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(world),
            Err(e) => return Err(e).with_context(|| format!("could not read {}", self.state_dir.display())),
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        paths.sort();
        for path in paths {
            let text = fs::read_to_string(&path).with_context(|| format!("could not read {}", path.display()))?;
            let state: EnvState = serde_json::from_str(&text).with_context(|| {
                format!("{} is not a switchyard state file; restore it from a backup or remove it", path.display())
            })?;
            if state.format != STATE_FORMAT {
                bail!(
                    "{} has state format {}, this switchyard reads format {STATE_FORMAT}; use a matching switchyard",
                    path.display(),
                    state.format
                );
            }
            let key = EnvKey::new(&state.app, &state.env);
            if self.state_path(&key) != path {
                bail!("{} holds the state of {key}; it belongs in {}", path.display(), self.state_path(&key).display());
            }
            world.insert(key, state);
        }
        Ok(world)
    }

    pub(crate) fn save_state(&self, state: &EnvState) -> Result<()> {
        let key = EnvKey::new(&state.app, &state.env);
        let mut text = serde_json::to_string_pretty(state)?;
        text.push('\n');
        write_atomic(&self.state_path(&key), text.as_bytes())
    }

    pub(crate) fn config_path(&self, file: &str) -> Result<PathBuf> {
        // File names come from the model (app and environment are DNS labels), never straight from input.
        if file.contains(['/', '\\']) || file.starts_with('.') {
            bail!("refusing to write outside the dynamic directory: {file:?}");
        }
        Ok(self.dynamic_dir.join(file))
    }

    /// Takes the lock of an environment, or says who holds it.
    pub(crate) fn lock(&self, key: &EnvKey, holder: &LockHolder, break_lock: bool) -> Result<Lock> {
        fs::create_dir_all(&self.state_dir)
            .with_context(|| format!("could not create {}", self.state_dir.display()))?;
        let path = self.state_dir.join(format!("{}.lock", naming::env_stem(&key.app, &key.env)));
        if break_lock {
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e).with_context(|| format!("could not break the lock {}", path.display())),
            }
        }
        for attempt in 0..2 {
            match fs::OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(mut f) => {
                    f.write_all(serde_json::to_string(holder)?.as_bytes())?;
                    f.sync_all()?;
                    return Ok(Lock { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let held = fs::read_to_string(&path).ok().and_then(|t| serde_json::from_str::<LockHolder>(&t).ok());
                    let who = held.as_ref().map_or_else(|| "an unknown holder".to_string(), LockHolder::describe);
                    if attempt == 0 && held.as_ref().is_some_and(LockHolder::is_dead) {
                        eprintln!("warning: taking over the lock of {key} left by {who}, whose process is gone");
                        let _ = fs::remove_file(&path);
                        continue;
                    }
                    bail!(
                        "{key} is locked by {who}; wait for that change to finish, or if it died, run again with --break-lock"
                    )
                }
                Err(e) => return Err(e).with_context(|| format!("could not create the lock {}", path.display())),
            }
        }
        bail!("could not take the lock of {key}")
    }
}
