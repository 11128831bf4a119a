//! The registry of codes (`switchyard_diagnostics::registry`) against what the sources emit and what README
//! documents: every `"SYdddd"` literal under `crates/*/src` is registered, every registered code is emitted,
//! the list is sorted without duplicates, and every code falls inside the README row it names, whose rows each
//! cover at least one registered code.

// Reading the workspace's sources and README is what this test is for; the crate itself still does no I/O.
#![allow(clippy::disallowed_methods)]
#![allow(clippy::unwrap_used)] // a panic in a test is a failing test

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use switchyard_diagnostics::registry::{CODES, lookup};

/// The workspace's root: this crate is `crates/diagnostics`.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("..")
}

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The `"SYdddd"` string literals of `text`: (code, line).
fn literals(text: &str) -> Vec<(String, usize)> {
    let mut found = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let bytes = line.as_bytes();
        for (at, _) in line.match_indices("\"SY") {
            let digits = bytes.get(at + 3..at + 7);
            if digits.is_some_and(|d| d.iter().all(u8::is_ascii_digit)) && bytes.get(at + 7) == Some(&b'"') {
                found.push((line[at + 1..at + 7].to_string(), i + 1));
            }
        }
    }
    found
}

/// Where each code appears in the sources: every place, and whether any of them is outside tests.
struct Sources {
    /// Code to its places (`crates/model/src/spec.rs:329`).
    places: BTreeMap<String, Vec<String>>,
    /// The codes that appear outside unit tests: the ones emitted.
    emitted: BTreeSet<String>,
}

/// Scans `crates/*/src/**/*.rs`, except the registry itself (which names every code). A unit-test module
/// (`#[cfg(test)]` then `mod tests {`, which runs to the end of its file throughout the workspace) and files
/// named `tests.rs` or `*_tests.rs` count for "appears" but not for "emitted": a test asserting a code does not
/// emit it, so a code only tests name would be stale.
fn sources() -> Sources {
    let root = root();
    let registry = root.join("crates/diagnostics/src/registry.rs");
    let mut crates: Vec<PathBuf> =
        std::fs::read_dir(root.join("crates")).unwrap().map(|e| e.unwrap().path().join("src")).collect();
    crates.sort();
    let mut files = Vec::new();
    for src in crates.iter().filter(|src| src.is_dir()) {
        rust_files(src, &mut files);
    }
    assert!(files.len() > 50, "found only {} source files under {}", files.len(), root.display());
    let mut sources = Sources { places: BTreeMap::new(), emitted: BTreeSet::new() };
    for file in files {
        if file.canonicalize().unwrap() == registry.canonicalize().unwrap() {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let name = file.strip_prefix(&root).unwrap_or(&file).display().to_string();
        let stem = file.file_stem().unwrap_or_default().to_string_lossy();
        let test_file = stem == "tests" || stem.ends_with("_tests");
        let test_start = text
            .lines()
            .collect::<Vec<_>>()
            .windows(2)
            .position(|w| w[0].trim() == "#[cfg(test)]" && w[1].trim() == "mod tests {")
            .map_or(usize::MAX, |i| i + 1);
        for (code, line) in literals(&text) {
            if !test_file && line < test_start {
                sources.emitted.insert(code.clone());
            }
            sources.places.entry(code).or_default().push(format!("{name}:{line}"));
        }
    }
    sources
}

/// One item of a README row's first cell.
#[derive(Debug)]
enum Item {
    /// `SY01xx`: the codes starting `SY01`.
    Family(String),
    /// `SY0150-SY0156`, both ends included.
    Range(String, String),
    /// `SY3020`.
    One(String),
}

impl Item {
    fn parse(text: &str) -> Result<Item, String> {
        let code = |s: &str| s.len() == 6 && s.starts_with("SY") && s[2..].bytes().all(|b| b.is_ascii_digit());
        if let Some(prefix) = text.strip_suffix("xx")
            && prefix.len() == 4
            && prefix.starts_with("SY")
            && prefix[2..].bytes().all(|b| b.is_ascii_digit())
        {
            return Ok(Item::Family(prefix.to_string()));
        }
        if let Some((a, b)) = text.split_once('-')
            && code(a)
            && code(b)
            && a < b
        {
            return Ok(Item::Range(a.to_string(), b.to_string()));
        }
        if code(text) {
            return Ok(Item::One(text.to_string()));
        }
        Err(format!("{text:?} is neither `SYddxx`, `SYdddd-SYdddd` (ascending) nor `SYdddd`"))
    }

    fn contains(&self, code: &str) -> bool {
        match self {
            Item::Family(prefix) => code.starts_with(prefix.as_str()),
            Item::Range(a, b) => a.as_str() <= code && code <= b.as_str(),
            Item::One(c) => c == code,
        }
    }
}

/// The rows of README's "## Diagnostics codes" table: first cell, and its items.
fn readme_rows() -> Vec<(String, Vec<Item>)> {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let section =
        readme.split_once("\n## Diagnostics codes\n").expect("README.md has a `## Diagnostics codes` section").1;
    let section = section.split("\n## ").next().unwrap_or_default();
    let mut rows = Vec::new();
    for line in section.lines().filter(|l| l.starts_with("| SY")) {
        let cell = line.split('|').nth(1).unwrap_or_default().trim().to_string();
        let items = cell
            .split(", ")
            .map(|item| Item::parse(item.trim()).unwrap_or_else(|e| panic!("README row `{cell}`: {e}")))
            .collect();
        rows.push((cell, items));
    }
    assert!(rows.len() > 10, "found only {} rows in README's codes table", rows.len());
    rows
}

fn check(failures: Vec<String>) {
    assert!(failures.is_empty(), "\n{}\n", failures.join("\n"));
}

#[test]
fn the_list_is_sorted_without_duplicates() {
    let mut failures = Vec::new();
    for c in CODES {
        let well_formed =
            c.code.len() == 6 && c.code.starts_with("SY") && c.code[2..].bytes().all(|b| b.is_ascii_digit());
        if !well_formed {
            failures.push(format!("{:?} is not a code: write codes as SY and four digits", c.code));
        }
        if c.title.trim().is_empty() {
            failures.push(format!("{} has no title: say in a short sentence what it means", c.code));
        }
    }
    for pair in CODES.windows(2) {
        let (a, b) = (pair[0].code, pair[1].code);
        if a == b {
            failures.push(format!("{a} is registered twice: keep one entry and remove the other"));
        } else if a > b {
            failures.push(format!("{b} comes after {a}: keep CODES sorted by code (lookup is a binary search)"));
        }
    }
    check(failures);
    for c in CODES {
        assert_eq!(lookup(c.code).map(|found| found.code), Some(c.code));
    }
    assert!(lookup("SY9999").is_none() && lookup("").is_none() && lookup("TEAM001").is_none());
}

#[test]
fn every_code_in_the_sources_is_registered() {
    let sources = sources();
    let failures = sources
        .places
        .iter()
        .filter(|(code, _)| lookup(code).is_none())
        .map(|(code, places)| {
            format!(
                "{code} appears in {} but is not registered: add it to CODES in crates/diagnostics/src/registry.rs \
                 with its severity, a title and its README row",
                places.join(", ")
            )
        })
        .collect();
    check(failures);
}

#[test]
fn every_registered_code_is_emitted() {
    let sources = sources();
    let failures = CODES
        .iter()
        .filter(|c| !sources.emitted.contains(c.code))
        .map(|c| match sources.places.get(c.code) {
            Some(places) => format!(
                "{} is registered but only tests name it ({}): remove it from CODES in \
                 crates/diagnostics/src/registry.rs and from README if nothing emits it any more",
                c.code,
                places.join(", ")
            ),
            None => format!(
                "{} is registered but no source under crates/*/src emits it: remove it from CODES in \
                 crates/diagnostics/src/registry.rs (and from README's table if it is named there)",
                c.code
            ),
        })
        .collect();
    check(failures);
}

#[test]
fn every_code_is_inside_its_readme_row() {
    let rows = readme_rows();
    let mut failures = Vec::new();
    for c in CODES {
        match rows.iter().find(|(cell, _)| cell == c.doc) {
            None => failures.push(format!(
                "{}: its doc row `{}` is not a row of README's \"Diagnostics codes\" table: name an existing row \
                 (its first cell, e.g. `SY01xx`), or add the row to README",
                c.code, c.doc
            )),
            Some((cell, items)) if !items.iter().any(|item| item.contains(c.code)) => failures.push(format!(
                "{} is not inside its README row `{cell}`: name the row that covers it, or widen that row's first \
                 cell (and say what the code means in the row)",
                c.code
            )),
            Some(_) => {}
        }
    }
    check(failures);
}

#[test]
fn every_readme_row_covers_a_registered_code() {
    let failures = readme_rows()
        .iter()
        .filter(|(_, items)| !CODES.iter().any(|c| items.iter().any(|item| item.contains(c.code))))
        .map(|(cell, _)| {
            format!(
                "README's codes table has the row `{cell}`, but no registered code falls inside it: remove the row \
                 or narrow it to the codes that exist"
            )
        })
        .collect();
    check(failures);
}
