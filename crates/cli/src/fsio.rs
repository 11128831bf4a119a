//! File writes that never leave a half-written file where a reader looks. Traefik's file provider applies an
//! empty or truncated-yet-valid file (its routers vanish), so every write goes to a temporary name Traefik
//! ignores (not `.yml`/`.yaml`/`.toml`) in the hidden directory `.staging` beside the target (same file
//! system), is fsynced, then renamed over the target, and the directory is fsynced so the rename survives a
//! crash. Staging in a subdirectory matters for speed too: Traefik watches the directory itself, not its
//! subdirectories, so the only event a write makes is the rename; a temporary file created in the watched
//! directory makes an event of its own, which reloads an unchanged configuration and, under Traefik's
//! provider throttle, holds the real change back (2 s with Traefik's default).

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

/// The hidden directory beside `target` where it is written before the rename.
pub(crate) const STAGING: &str = ".staging";

/// The temporary name used while writing `target`: in [`STAGING`], ending in `.tmp` so Traefik never reads it.
pub(crate) fn temp_path(target: &Path) -> PathBuf {
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    target.with_file_name(STAGING).join(format!("{name}.{}.tmp", std::process::id()))
}

/// Writes `contents` to `target` atomically.
pub(crate) fn write_atomic(target: &Path, contents: &[u8]) -> Result<()> {
    let dir = target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let tmp = temp_path(target);
    let staging = dir.join(STAGING);
    fs::create_dir_all(&staging).with_context(|| format!("could not create the directory {}", staging.display()))?;
    let result = (|| -> Result<()> {
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)
            .with_context(|| format!("could not create {}", tmp.display()))?;
        file.write_all(contents).with_context(|| format!("could not write {}", tmp.display()))?;
        file.sync_all().with_context(|| format!("could not flush {}", tmp.display()))?;
        fs::rename(&tmp, target)
            .with_context(|| format!("could not rename {} to {}", tmp.display(), target.display()))?;
        // Make the rename durable; some file systems do not support syncing a directory, which is fine.
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// True for a file of Traefik's provider directory that its check reads: one Traefik reads (`.yml`, `.yaml`,
/// `.toml`, any case) or the list of the user's files switchyard shipped. The commands run in the proxy
/// container select the same files (`find` in `docker/mod.rs`).
pub(crate) fn is_provider_file(name: &str) -> bool {
    let base = name.rsplit('/').next().unwrap_or(name);
    base == switchyard_model::directory::SHIPPED_LIST
        || matches!(switchyard_traefik::dynamic::classify(base), switchyard_traefik::dynamic::FileClass::Counted(_))
}

/// The files of Traefik's provider directory `dir` that its check reads ([`is_provider_file`]), subdirectories
/// included (Traefik reads them too), by their path relative to `dir` with `/`; none when `dir` does not exist.
/// A file that is not UTF-8 is read with replacement characters (Traefik refuses it; the validator then finds
/// it does not parse).
pub(crate) fn read_provider_dir(dir: &Path) -> Result<Vec<(String, String)>> {
    fn walk(dir: &Path, prefix: &str, out: &mut Vec<(String, String)>) -> Result<()> {
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && prefix.is_empty() => return Ok(()),
            Err(e) => return Err(e).with_context(|| format!("could not read the directory {}", dir.display())),
        };
        for entry in entries {
            let entry = entry.with_context(|| format!("could not read the directory {}", dir.display()))?;
            let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
            let kind = entry.file_type().with_context(|| format!("could not read {}", entry.path().display()))?;
            if kind.is_dir() {
                walk(&entry.path(), &format!("{name}/"), out)?;
            } else if kind.is_file() && is_provider_file(&name) {
                let bytes =
                    fs::read(entry.path()).with_context(|| format!("could not read {}", entry.path().display()))?;
                out.push((name, String::from_utf8_lossy(&bytes).into_owned()));
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    walk(dir, "", &mut files)?;
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_replace_the_target_and_leave_no_temporary_file() {
        let dir = std::env::temp_dir().join(format!("switchyard-fsio-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let target = dir.join("a.yml");
        write_atomic(&target, b"one").unwrap();
        write_atomic(&target, b"two").unwrap();
        assert_eq!(fs::read_to_string(&target).unwrap(), "two");
        let mut names: Vec<_> = fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        names.sort();
        assert_eq!(names, vec![std::ffi::OsString::from(STAGING), std::ffi::OsString::from("a.yml")]);
        assert_eq!(fs::read_dir(dir.join(STAGING)).unwrap().count(), 0, "nothing left in staging");
        let tmp = temp_path(&target);
        let ext = tmp.extension().unwrap().to_string_lossy().into_owned();
        assert!(!["yml", "yaml", "toml"].contains(&ext.as_str()), "Traefik would read {tmp:?}");
        fs::remove_dir_all(&dir).unwrap();
    }
}
