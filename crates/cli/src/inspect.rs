//! `validate` and `route` on files: reading Traefik configuration the way its file provider does (a file, or a
//! directory and its subdirectories), telling switchyard specs apart, and the request `route` simulates (its
//! answer's text is `switchyard_traefik`'s, shared with the playground).

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Context as _, Result, bail};
use switchyard_model::Diagnostic;
use switchyard_traefik::dynamic::{FileClass, classify};
use switchyard_traefik::simulate::http::{HttpRequest, Part, RequestParts};

/// What was read for a check.
#[derive(Debug, Default)]
pub(crate) struct Inputs {
    /// Traefik dynamic configuration files (name as given, contents), in the order found.
    pub(crate) traefik: Vec<(String, String)>,
    /// switchyard specs.
    pub(crate) specs: Vec<(String, String)>,
    /// Problems with the paths themselves (subdirectories, ignored files).
    pub(crate) diagnostics: Vec<Diagnostic>,
}

/// True when `text` looks like a switchyard spec rather than Traefik configuration: its top level has `apps`
/// and none of Traefik's sections.
pub(crate) fn is_spec(text: &str) -> bool {
    let top: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with([' ', '\t', '#', '-']) && l.contains(':'))
        .filter_map(|l| l.split(':').next())
        .map(str::trim)
        .collect();
    top.contains(&"apps") && !top.iter().any(|k| ["http", "tcp", "udp", "tls"].contains(k))
}

/// Reads `paths`: a file is read whatever its extension (it was named on purpose); a directory as Traefik's
/// file provider reads one: `.yml`/`.yaml`/`.toml` files, subdirectories included but warned about (Traefik
/// loads them at start but does not watch them), other files noted as ignored.
pub(crate) fn read(paths: &[&Path]) -> Result<Inputs> {
    let mut inputs = Inputs::default();
    for path in paths {
        let meta = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
        if meta.is_dir() {
            read_dir(path, path, &mut inputs)?;
        } else {
            let text = read_text(path)?;
            let name = path.display().to_string();
            if is_spec(&text) { inputs.specs.push((name, text)) } else { inputs.traefik.push((name, text)) }
        }
    }
    if inputs.traefik.is_empty() && inputs.specs.is_empty() {
        bail!("no Traefik configuration (.yml, .yaml, .toml) or switchyard spec found in the paths given");
    }
    Ok(inputs)
}

fn read_text(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "{} is not UTF-8 text (byte {}); Traefik reads only UTF-8",
            path.display(),
            e.utf8_error().valid_up_to()
        )
    })
}

fn read_dir(root: &Path, dir: &Path, inputs: &mut Inputs) -> Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read the directory {}", dir.display()))?
        .filter_map(|e| e.ok())
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let name = path.display().to_string();
        let kind = entry.file_type().with_context(|| format!("cannot read {name}"))?;
        if kind.is_dir() {
            read_dir(root, &path, inputs)?;
            continue;
        }
        if matches!(classify(&name), FileClass::IgnoredExtension) {
            if !entry.file_name().to_string_lossy().starts_with('.') {
                inputs.diagnostics.push(
                    Diagnostic::info("SY3020", format!("{name}: ignored by Traefik (not .yml, .yaml or .toml)"))
                        .hint("rename it if Traefik should read it"),
                );
            }
            continue;
        }
        if dir != root {
            inputs.diagnostics.push(
                Diagnostic::warning(
                    "SY3021",
                    format!("{name} is in a subdirectory: Traefik loads it at start but does not watch it for changes"),
                )
                .hint(format!("move it to the top level of {}", root.display())),
            );
        }
        inputs.traefik.push((name, read_text(&path)?));
    }
    Ok(())
}

/// The request `switchyard route` simulates, from its options; the first part that cannot be read is the
/// error, named by its option (`--header "X-Canary 1": write it as NAME:VALUE`).
pub(crate) fn request(parts: &RequestParts<'_>) -> Result<HttpRequest> {
    HttpRequest::from_parts(parts).map_err(|errors| match errors.first() {
        Some(e) if matches!(e.part, Part::Header | Part::Query | Part::Cookie) => anyhow::anyhow!("--{e}"),
        Some(e) => anyhow::anyhow!("{e}"),
        None => anyhow::anyhow!("the request cannot be read"),
    })
}

/// The down set from `--down` values.
pub(crate) fn down(values: &[String]) -> BTreeSet<String> {
    values.iter().cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_are_told_from_traefik_configuration() {
        assert!(is_spec("# spec\napps:\n  whoami:\n    compose: c.yaml\n"));
        assert!(!is_spec("http:\n  routers: {}\napps: x\n"));
        assert!(!is_spec("http:\n  routers:\n    apps: {}\n"));
    }

    #[test]
    fn a_directory_is_read_as_traefik_reads_it() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("b.yml"), "http: {}\n").unwrap();
        std::fs::write(d.join("a.toml"), "[http]\n").unwrap();
        std::fs::write(d.join("notes.txt"), "x").unwrap();
        std::fs::write(d.join(".b.yml.tmp"), "x").unwrap();
        std::fs::create_dir(d.join("sub")).unwrap();
        std::fs::write(d.join("sub/c.yaml"), "tcp: {}\n").unwrap();
        let inputs = read(&[d]).unwrap();
        let names: Vec<&str> = inputs.traefik.iter().map(|(n, _)| n.rsplit('/').next().unwrap_or_default()).collect();
        assert_eq!(names, ["a.toml", "b.yml", "c.yaml"]);
        let codes: Vec<&str> = inputs.diagnostics.iter().map(|d| &*d.code).collect();
        assert_eq!(codes, ["SY3020", "SY3021"], "{:?}", inputs.diagnostics);
    }
}
