//! `validate` and `route` on files: reading Traefik configuration the way its file provider does (a file, or a
//! directory and its subdirectories), telling switchyard specs apart, and the text the two commands print.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context as _, Result, bail};
use switchyard_model::Diagnostic;
use switchyard_traefik::dynamic::{FileClass, classify};
use switchyard_traefik::simulate::http::{Answer, HttpRequest};

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

/// Parses `Name: value` (a header), `name=value` (a query parameter or a cookie).
pub(crate) fn pairs(items: &[String], sep: char, what: &str) -> Result<Vec<(String, String)>> {
    items
        .iter()
        .map(|item| match item.split_once(sep) {
            Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.trim().to_string())),
            _ => bail!("{what} {item:?}: write it as NAME{sep}VALUE"),
        })
        .collect()
}

/// The human text of an answer and a split.
pub(crate) fn describe(req: &HttpRequest, answer: &Answer, split: Option<(usize, &BTreeMap<String, u64>)>) -> String {
    let mut out = String::new();
    let scheme = if req.tls { "https" } else { "http" };
    let ep = req.entry_point.as_deref().map(|e| format!(" on entry point {e}")).unwrap_or_default();
    let _ = writeln!(out, "{} {scheme}://{}{}{ep}", req.request.method, req.request.host, req.request.path);
    for name in &answer.broken {
        let _ = writeln!(out, "  skipped router {name}: its rule does not parse (Traefik disables it)");
    }
    let Some(winner) = answer.candidates.first() else {
        let _ = writeln!(out, "  no router matches: 404");
        for note in &answer.notes {
            let _ = writeln!(out, "  note: {note}");
        }
        return out;
    };
    let how = if winner.explicit { "explicit" } else { "the rule's length" };
    let _ = writeln!(out, "  router   {} (priority {}, {how})", winner.router, winner.priority);
    for other in answer.candidates.iter().skip(1) {
        let _ = writeln!(out, "  also matches: {} (priority {})", other.router, other.priority);
    }
    if !answer.tied.is_empty() {
        let _ = writeln!(
            out,
            "  TIE with {}: equal priorities are decided by provider order; give the routers explicit priorities",
            answer.tied.join(", ")
        );
    }
    let _ = writeln!(out, "  service  {}", answer.chain.join(" -> "));
    match &answer.server {
        Some(server) => {
            let _ = writeln!(out, "  server   {server} ({})", answer.status);
        }
        None => {
            let _ = writeln!(out, "  answer   {}", answer.status);
        }
    }
    for note in &answer.notes {
        let _ = writeln!(out, "  note: {note}");
    }
    if let Some((n, counts)) = split {
        let _ = writeln!(out, "over {n} requests (counts per round are Traefik's; the order is not promised):");
        let width = counts.keys().map(String::len).max().unwrap_or(0);
        for (target, count) in counts {
            #[allow(clippy::cast_precision_loss)]
            let share = *count as f64 * 100.0 / n.max(1) as f64;
            let _ = writeln!(out, "  {target:width$}  {count:>6}  {share:5.1}%");
        }
    }
    out
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
