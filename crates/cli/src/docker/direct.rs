//! The direct path: when the CLI runs on the Docker host itself and the proxy's `/switchyard` directory is a
//! bind mount (or a volume) this process can write, a routing-only change is written to the files directly,
//! with the same lock, revision check, atomic renames and audit line as the script run inside the container,
//! and no command started in the container.
//!
//! Only taken when it is provably the same directory: the proxy container's mount source exists here and holds
//! the marker file that `install` wrote with that container's full ID (256 random bits), so a directory of the
//! same name on another machine, or a volume the proxy no longer uses, is never written.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use bollard::Docker;
use switchyard_model::{EnvKey, EnvState, World};

use super::host::ROOT;
use crate::fsio::read_provider_dir;

/// The marker file at the top of the data directory: the proxy container's full ID.
pub(crate) const MARKER: &str = ".switchyard-proxy";

/// The local directory that is the proxy container's `/switchyard`, when there is one.
pub(crate) async fn probe(docker: &Docker, proxy: &str) -> Option<PathBuf> {
    let info = docker.inspect_container(proxy, None).await.ok()?;
    let id = info.id?;
    let source = info.mounts?.into_iter().find(|m| m.destination.as_deref() == Some(ROOT))?.source?;
    let source = PathBuf::from(source);
    let marker = fs::read_to_string(source.join(MARKER)).ok()?;
    (marker.trim() == id).then_some(source)
}

/// Every environment's state, read from the local directory.
pub(crate) fn read_world(root: &Path) -> Result<World> {
    let dir = root.join("state");
    let mut world = World::new();
    let entries = match fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(world),
        Err(e) => return Err(e).with_context(|| format!("could not read {}", dir.display())),
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".json") || name.starts_with('.') {
            continue;
        }
        let bytes = fs::read(entry.path()).with_context(|| format!("could not read {}", entry.path().display()))?;
        let state: EnvState = serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is not a switchyard state file", entry.path().display()))?;
        world.insert(EnvKey::new(&state.app, &state.env), state);
    }
    Ok(world)
}

/// How a direct commit ended.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Committed {
    Done,
    /// Someone holds the lock.
    Locked,
    /// A state changed since the change was planned.
    Moved,
}

/// What one commit writes.
pub(crate) struct Commit<'a> {
    /// `<app>_<env>`: the lock's name.
    pub(crate) lock: &'a str,
    pub(crate) holder_json: &'a str,
    /// The revisions the change was planned on ([`super::cache::fingerprint`]).
    pub(crate) expected: &'a (String, usize),
    /// The fingerprint of Traefik's directory the change was checked on ([`super::provider_dir::fingerprint`]).
    pub(crate) dynamic: &'a str,
    /// (directory under the root, file name, contents), written in this order.
    pub(crate) files: &'a [(String, String, Vec<u8>)],
    /// Files of Traefik's directory to take out of it, after the writes.
    pub(crate) removals: &'a [String],
    /// (file under audit/, line).
    pub(crate) audit: (&'a str, &'a str),
}

/// Takes the lock, finishes an interrupted change, checks the revisions and Traefik's directory, commits every
/// file, the removals and the audit line through the journal (the same protocol as the commands run in the
/// container), releases.
pub(crate) fn commit(root: &Path, c: &Commit<'_>) -> Result<Committed> {
    let locks = root.join("locks");
    fs::create_dir_all(&locks).with_context(|| format!("could not create {}", locks.display()))?;
    let lock = locks.join(c.lock);
    match fs::create_dir(&lock) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(Committed::Locked),
        Err(e) => return Err(e).with_context(|| format!("could not take the lock {}", lock.display())),
    }
    let result = (|| -> Result<Committed> {
        fs::write(lock.join("holder"), c.holder_json)?;
        replay(root, c.lock)?;
        if !revisions_match(&root.join("state"), c.expected)?
            || super::provider_dir::fingerprint(&read_provider_dir(&root.join("dynamic"))?) != c.dynamic
        {
            return Ok(Committed::Moved);
        }
        let mut renames = Vec::new();
        for (dir, name, data) in c.files {
            let target = root.join(dir).join(name);
            fs::create_dir_all(root.join(dir))
                .with_context(|| format!("could not create {}", root.join(dir).display()))?;
            let tmp = root.join(super::host::staged(dir, name));
            write_synced(&tmp, data)?;
            renames.push((tmp, target));
        }
        for name in c.removals {
            renames.push((root.join("dynamic").join(name), root.join(super::host::staged("removed", name))));
        }
        let (journal, pending, audit) = journal_paths(root, c.lock);
        write_synced(&pending, format!("{}\n", c.audit.1).as_bytes())?;
        let text: String = renames.iter().map(|(from, to)| format!("{}\n{}\n", from.display(), to.display())).collect();
        let journal_tmp = journal.with_extension("journal.tmp");
        write_synced(&journal_tmp, text.as_bytes())?;
        // The commit point.
        fs::rename(&journal_tmp, &journal)?;
        sync_dir(&root.join("state"));
        finish(&journal, &pending, &audit, &renames)?;
        Ok(Committed::Done)
    })();
    let released = fs::remove_dir_all(&lock).with_context(|| format!("could not release the lock {}", lock.display()));
    let committed = result?;
    released?;
    Ok(committed)
}

/// The journal, the pending audit line and the audit log of the environment `name`.
fn journal_paths(root: &Path, name: &str) -> (PathBuf, PathBuf, PathBuf) {
    (
        root.join("state").join(format!(".{name}.journal")),
        root.join("audit").join(format!(".{name}.pending")),
        root.join("audit").join(format!("{name}.jsonl")),
    )
}

/// Finishes a change of `name` interrupted after its commit point (the journal exists). True when it did.
pub(crate) fn replay(root: &Path, name: &str) -> Result<bool> {
    let (journal, pending, audit) = journal_paths(root, name);
    let text = match fs::read_to_string(&journal) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e).with_context(|| format!("could not read {}", journal.display())),
    };
    // The paths in a journal written in the container are the container's (/switchyard/...).
    let local = |p: &str| match p.strip_prefix(ROOT) {
        Some(rest) => root.join(rest.trim_start_matches('/')),
        None => PathBuf::from(p),
    };
    let lines: Vec<&str> = text.lines().collect();
    let renames: Vec<(PathBuf, PathBuf)> =
        lines.chunks(2).filter(|c| c.len() == 2).map(|c| (local(c[0]), local(c[1]))).collect();
    finish(&journal, &pending, &audit, &renames)?;
    Ok(true)
}

/// The part of a commit after its commit point; safe to run again.
fn finish(journal: &Path, pending: &Path, audit: &Path, renames: &[(PathBuf, PathBuf)]) -> Result<()> {
    for (from, to) in renames {
        if from.exists() {
            fs::rename(from, to).with_context(|| format!("could not rename {} to {}", from.display(), to.display()))?;
        }
    }
    for dir in renames.iter().filter_map(|(_, to)| to.parent()) {
        sync_dir(dir);
    }
    if let Ok(line) = fs::read_to_string(pending) {
        let last = fs::read_to_string(audit).ok().and_then(|t| t.lines().last().map(str::to_string));
        if last.as_deref() != Some(line.trim_end_matches('\n')) {
            if let Some(dir) = audit.parent() {
                fs::create_dir_all(dir)?;
            }
            let mut file = fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(audit)
                .with_context(|| format!("could not open {}", audit.display()))?;
            file.write_all(line.as_bytes())?;
            file.sync_data()?;
        }
        fs::remove_file(pending)?;
    }
    fs::remove_file(journal).with_context(|| format!("could not remove {}", journal.display()))?;
    Ok(())
}

/// Writes and flushes a file (not yet in place: the caller renames it).
fn write_synced(path: &Path, data: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).with_context(|| format!("could not create {}", dir.display()))?;
    }
    let mut file = fs::File::create(path).with_context(|| format!("could not create {}", path.display()))?;
    file.write_all(data)?;
    file.sync_all()?;
    Ok(())
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// True when the `.rev` files in `dir` are exactly the expected ones.
fn revisions_match(dir: &Path, expected: &(String, usize)) -> Result<bool> {
    let wanted: Vec<&str> = expected.0.split(';').filter(|e| !e.is_empty()).collect();
    let mut seen = 0;
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(expected.1 == 0),
        Err(e) => return Err(e).with_context(|| format!("could not read {}", dir.display())),
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".rev") || name.starts_with('.') {
            continue;
        }
        let rev = fs::read_to_string(entry.path())?;
        if !wanted.contains(&format!("{name}={}", rev.trim()).as_str()) {
            return Ok(false);
        }
        seen += 1;
    }
    Ok(seen == expected.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files() -> Vec<(String, String, Vec<u8>)> {
        vec![
            ("dynamic".into(), "a.yml".into(), b"http: {}\n".to_vec()),
            ("state".into(), "a_dev.json".into(), b"{}".to_vec()),
            ("state".into(), "a_dev.rev".into(), b"2".to_vec()),
        ]
    }

    #[test]
    fn commits_checks_revisions_and_respects_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("state")).unwrap();
        fs::write(root.join("state/a_dev.rev"), "1").unwrap();
        let files = files();
        let stale = ("a_dev.rev=0".to_string(), 1);
        let empty = super::super::provider_dir::fingerprint(&[]);
        let commit = |expected: &(String, usize)| {
            super::commit(
                root,
                &Commit {
                    lock: "a_dev",
                    holder_json: "{}",
                    expected,
                    dynamic: &empty,
                    files: &files,
                    removals: &[],
                    audit: ("a_dev.jsonl", "{\"change\":\"rollback\"}"),
                },
            )
            .unwrap()
        };
        assert_eq!(commit(&stale), Committed::Moved);
        assert!(!root.join("dynamic/a.yml").exists());
        assert!(!root.join("locks/a_dev").exists(), "the lock is released when the state moved on");

        fs::create_dir_all(root.join("locks/a_dev")).unwrap();
        assert_eq!(commit(&("a_dev.rev=1".to_string(), 1)), Committed::Locked);
        assert!(root.join("locks/a_dev").exists(), "someone else's lock is left alone");
        fs::remove_dir(root.join("locks/a_dev")).unwrap();

        assert_eq!(commit(&("a_dev.rev=1".to_string(), 1)), Committed::Done);
        assert_eq!(fs::read_to_string(root.join("state/a_dev.rev")).unwrap(), "2");
        assert_eq!(fs::read_to_string(root.join("dynamic/a.yml")).unwrap(), "http: {}\n");
        assert_eq!(fs::read_to_string(root.join("audit/a_dev.jsonl")).unwrap(), "{\"change\":\"rollback\"}\n");
        assert!(!root.join("locks/a_dev").exists());
        assert!(!root.join("state/.a_dev.journal").exists() && !root.join("audit/.a_dev.pending").exists());
        // A new environment appearing since the plan also counts as moved on.
        fs::write(root.join("state/b_dev.rev"), "1").unwrap();
        assert_eq!(commit(&("a_dev.rev=2".to_string(), 1)), Committed::Moved);
    }

    #[test]
    fn traefiks_directory_must_be_as_checked_and_removals_leave_it() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("dynamic")).unwrap();
        fs::write(root.join("dynamic/old.yml"), "http: {}\n").unwrap();
        fs::write(root.join("dynamic/notes.txt"), "not Traefik's").unwrap();
        let files = vec![("dynamic".to_string(), "a.yml".to_string(), b"http: {}\n".to_vec())];
        let removals = vec!["old.yml".to_string()];
        let commit = |dynamic: &str| {
            super::commit(
                root,
                &Commit {
                    lock: "a_dev",
                    holder_json: "{}",
                    expected: &(String::new(), 0),
                    dynamic,
                    files: &files,
                    removals: &removals,
                    audit: ("a_dev.jsonl", "{}"),
                },
            )
            .unwrap()
        };
        let checked = super::super::provider_dir::fingerprint(&read_provider_dir(&root.join("dynamic")).unwrap());
        // Someone wrote the directory after the change was checked: refused, nothing written.
        fs::write(root.join("dynamic/old.yml"), "http:\n  routers: {}\n").unwrap();
        assert_eq!(commit(&checked), Committed::Moved);
        assert!(!root.join("dynamic/a.yml").exists() && root.join("dynamic/old.yml").exists());
        // Files Traefik does not read do not count.
        fs::write(root.join("dynamic/old.yml"), "http: {}\n").unwrap();
        fs::write(root.join("dynamic/notes.txt"), "changed").unwrap();
        assert_eq!(commit(&checked), Committed::Done);
        assert!(root.join("dynamic/a.yml").exists());
        assert!(!root.join("dynamic/old.yml").exists(), "removed in the same commit");
        assert!(root.join("dynamic/notes.txt").exists());
    }

    #[test]
    fn a_change_interrupted_after_its_commit_point_is_finished_once() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for d in ["state", "dynamic", "audit"] {
            fs::create_dir_all(root.join(d)).unwrap();
        }
        // As the command in the container leaves it when killed after the journal went into place and the
        // first rename: paths are the container's.
        fs::write(root.join("dynamic/a.yml"), "new").unwrap();
        fs::write(root.join("state/.a_dev.json.tmp"), "{\"revision\":2}").unwrap();
        fs::write(root.join("state/a_dev.json"), "{\"revision\":1}").unwrap();
        fs::write(root.join("audit/a_dev.jsonl"), "one\n").unwrap();
        fs::write(root.join("audit/.a_dev.pending"), "two\n").unwrap();
        fs::write(
            root.join("state/.a_dev.journal"),
            "/switchyard/dynamic/.a.yml.tmp\n/switchyard/dynamic/a.yml\n/switchyard/state/.a_dev.json.tmp\n/switchyard/state/a_dev.json\n",
        )
        .unwrap();
        assert!(replay(root, "a_dev").unwrap());
        assert_eq!(fs::read_to_string(root.join("dynamic/a.yml")).unwrap(), "new");
        assert_eq!(fs::read_to_string(root.join("state/a_dev.json")).unwrap(), "{\"revision\":2}");
        assert_eq!(fs::read_to_string(root.join("audit/a_dev.jsonl")).unwrap(), "one\ntwo\n");
        assert!(!root.join("state/.a_dev.journal").exists());
        assert!(!replay(root, "a_dev").unwrap(), "nothing left to finish");
        // Interrupted after the audit line was appended but before the pending line went away: not twice.
        fs::write(root.join("audit/.a_dev.pending"), "two\n").unwrap();
        fs::write(root.join("state/.a_dev.journal"), "").unwrap();
        assert!(replay(root, "a_dev").unwrap());
        assert_eq!(fs::read_to_string(root.join("audit/a_dev.jsonl")).unwrap(), "one\ntwo\n");
    }
}
