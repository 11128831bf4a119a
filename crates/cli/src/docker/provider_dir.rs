//! Traefik's provider directory on the Docker host (`/switchyard/dynamic`), as the check before every write
//! reads it (`switchyard_model::directory`): the files Traefik reads there and the list of the user's files
//! switchyard shipped ([`crate::fsio::is_provider_file`]), subdirectories included.
//!
//! It is never read on its own, so it costs no round trip:
//! - a change under the lock reads it in the command that takes the lock and reads the states ([`DUMP`] after
//!   them, a tar archive: each file is read once, so a file renamed into place meanwhile is seen whole);
//! - a routing-only change (a rollback) plans on what this machine remembers of the host, the directory
//!   included, or reads it from the directory itself when that is local (the direct path). It is checked
//!   again when the change commits, by the very command (or, on the direct path, under the very lock) that
//!   checks the states' revisions: a [`fingerprint`] of the files, computed in the container by [`SUM`]. When
//!   it differs (someone wrote the directory meanwhile), the change is refused as when a state moved on, and
//!   the CLI plans it again under the lock, on the directory as it is. So the remembered directory is never
//!   the truth, and a rollback still commits with one command (or none, directly).

use std::io::Read as _;

use anyhow::{Context as _, Result};
use sha2::{Digest, Sha256};

use crate::fsio::is_provider_file;

/// Shell: a separator byte (`\034`), then the directory as a tar archive on standard output (nothing more when
/// it does not exist). Run last in a command whose output before it is text.
pub(crate) const DUMP: &str = r#"printf '\034'
if [ -d /switchyard/dynamic ]; then tar -c -f - -C /switchyard/dynamic .; fi
"#;

/// Shell: sets `dynsum` to the [`fingerprint`] of the directory (sha256sum's, or busybox's when the image
/// has no `sha256sum` of its own).
pub(crate) fn sum_script() -> String {
    format!(
        r#"h=sha256sum; command -v sha256sum >/dev/null 2>&1 || h="busybox sha256sum"
dynsum=$(mkdir -p /switchyard/dynamic && cd /switchyard/dynamic && find . -type f \( -iname '*.yml' -o -iname '*.yaml' -o -iname '*.toml' -o -name '{list}' \) -exec $h {{}} + | LC_ALL=C sort | $h)
dynsum="${{dynsum%% *}}"
"#,
        list = switchyard_model::directory::SHIPPED_LIST
    )
}

/// The fingerprint of the directory's `files` (path relative to it, text), as [`sum_script`] computes it in
/// the container: the sha256 of sha256sum's lines for the files (`<hex>  ./<path>`), sorted.
pub(crate) fn fingerprint(files: &[(String, String)]) -> String {
    let mut lines: Vec<String> =
        files.iter().map(|(name, text)| format!("{}  ./{name}\n", hex(text.as_bytes()))).collect();
    lines.sort();
    hex(lines.concat().as_bytes())
}

fn hex(data: &[u8]) -> String {
    Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

/// Splits the output of a command that ended with [`DUMP`]: the text before it, and the directory's files.
pub(crate) fn split_dump(raw: &[u8]) -> Result<(String, Vec<(String, String)>)> {
    let Some(at) = raw.iter().position(|b| *b == 0x1c) else {
        anyhow::bail!("the command ended before it read Traefik's directory");
    };
    let text = String::from_utf8_lossy(&raw[..at]).into_owned();
    let mut files = Vec::new();
    let archive = &raw[at + 1..];
    if !archive.is_empty() {
        let mut tar = tar::Archive::new(archive);
        for entry in tar.entries().context("could not read Traefik's directory")? {
            let mut entry = entry.context("could not read Traefik's directory")?;
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let path = entry.path().context("could not read Traefik's directory")?.to_string_lossy().into_owned();
            let name = path.trim_start_matches("./").to_string();
            if !is_provider_file(&name) {
                continue;
            }
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).context("could not read Traefik's directory")?;
            files.push((name, String::from_utf8_lossy(&bytes).into_owned()));
        }
    }
    files.sort();
    Ok((text, files))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_is_the_one_the_container_computes() {
        // What `find ... -exec sha256sum {} + | sort | sha256sum` printed in a busybox shell for these files.
        let files = vec![
            ("sub/Y.YAML".to_string(), "b\n".to_string()),
            ("x.yml".to_string(), "a: 1\n".to_string()),
            (switchyard_model::directory::SHIPPED_LIST.to_string(), "n\n".to_string()),
        ];
        assert_eq!(fingerprint(&files), "37153249db4f9fa2a3d5e47927176a0a598a60a3328e815512f5e3b9fb467dc4");
        assert_eq!(fingerprint(&[]), hex(b""));
    }

    #[test]
    fn a_dump_is_split_into_text_and_files() {
        let mut b = tar::Builder::new(Vec::new());
        for (path, data) in [("./", &b""[..]), ("./a.yml", b"http: {}\n"), ("./notes.txt", b"x"), ("./s/b.toml", b"")] {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            if path.ends_with('/') {
                h.set_entry_type(tar::EntryType::Directory);
            }
            h.set_cksum();
            b.append_data(&mut h, path, data).unwrap();
        }
        let mut raw = b"states\x1e".to_vec();
        raw.push(0x1c);
        raw.extend(b.into_inner().unwrap());
        let (text, files) = split_dump(&raw).unwrap();
        assert_eq!(text, "states\u{1e}");
        assert_eq!(files, vec![("a.yml".into(), "http: {}\n".into()), ("s/b.toml".into(), String::new())]);
        assert_eq!(split_dump(b"x\x1c").unwrap().1, vec![]);
        assert!(split_dump(b"x").is_err());
    }
}
