//! Diagnostics for people: the message, where it is, the source line with the spot marked, and hints.

use std::fmt::Write as _;
use std::io::Write;

use switchyard_model::{Diagnostic, Severity};

use crate::args::ReportFormat;
use crate::session::Failure;

/// Renders diagnostics; `source` is the text of the file they point into, when there is one.
pub(crate) fn render(diagnostics: &[Diagnostic], source: Option<&str>) -> String {
    render_with(diagnostics, &|_| source, false)
}

/// Renders diagnostics that point into several files: `source_of(file)` gives a file's text. With `color`
/// (a terminal, and `NO_COLOR` unset), severities and markers are coloured.
pub(crate) fn render_with<'a>(
    diagnostics: &[Diagnostic],
    source_of: &dyn Fn(&str) -> Option<&'a str>,
    color: bool,
) -> String {
    let paint = |code: &str, text: &str| if color { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_string() };
    let mut out = String::new();
    for d in diagnostics {
        let severity = match d.severity {
            Severity::Error => paint("1;31", "error"),
            Severity::Warning => paint("1;33", "warning"),
            Severity::Info => paint("1;36", "info"),
        };
        let _ = writeln!(out, "{severity}[{}]: {}", d.code, sanitize(&d.message));
        if let Some(loc) = &d.location {
            let _ = writeln!(out, "  --> {}", sanitize(&loc.to_string()));
            if let Some(line) = source_of(&loc.file).and_then(|s| s.lines().nth(loc.line.saturating_sub(1))) {
                let width = loc.line.to_string().len();
                let line = sanitize(line);
                let _ = writeln!(out, "{:width$} |", "");
                let _ = writeln!(out, "{} | {line}", loc.line);
                let col = loc.column.saturating_sub(1).min(line.chars().count());
                // Underline the word the problem starts at (a key, a value, a matcher).
                let len = line.chars().skip(col).take_while(|c| !c.is_whitespace() && *c != ':').count().max(1);
                let marker = paint("1;31", &"^".repeat(len));
                let _ = writeln!(out, "{:width$} | {}{marker}", "", " ".repeat(col));
            }
        }
        if let Some(path) = &d.path {
            let _ = writeln!(out, "  at {}", sanitize(path));
        }
        for hint in &d.hints {
            let _ = writeln!(out, "  {}: {}", paint("1;32", "hint"), sanitize(hint));
        }
    }
    out
}

/// Diagnostics as a SARIF 2.1.0 log, for code-scanning uploads: one run of the tool `switchyard`, a rule per
/// code that occurs, a result per diagnostic with its file, line and column, the key path as a property and
/// the hints in the message.
pub(crate) fn sarif(diagnostics: &[Diagnostic]) -> serde_json::Value {
    use serde_json::json;
    let mut codes: Vec<&str> = diagnostics.iter().map(|d| &*d.code).collect();
    codes.sort_unstable();
    codes.dedup();
    let rules: Vec<serde_json::Value> = codes
        .iter()
        .map(|code| {
            json!({
                "id": code,
                "helpUri": concat!(env!("CARGO_PKG_REPOSITORY"), "#diagnostics-codes"),
            })
        })
        .collect();
    let results: Vec<serde_json::Value> = diagnostics
        .iter()
        .map(|d| {
            let mut text = d.message.clone();
            for hint in &d.hints {
                text.push_str("\nhint: ");
                text.push_str(hint);
            }
            let mut result = json!({
                "ruleId": d.code,
                "level": match d.severity {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                    Severity::Info => "note",
                },
                "message": { "text": text },
            });
            if let Some(loc) = &d.location {
                result["locations"] = json!([{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri(&loc.file) },
                        "region": { "startLine": loc.line.max(1), "startColumn": loc.column.max(1) },
                    }
                }]);
            }
            if let Some(path) = &d.path {
                result["properties"] = json!({ "keyPath": path });
            }
            result
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "switchyard",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": env!("CARGO_PKG_REPOSITORY"),
                "rules": rules,
            }},
            "results": results,
        }],
    })
}

/// A file name as a relative URI reference (SARIF wants `/` separators and percent-encoding).
fn uri(file: &str) -> String {
    let mut out = String::new();
    for b in file.trim_start_matches("./").bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Diagnostics as GitHub Actions workflow commands (`::error file=...,line=...::message`), which show as
/// annotations on the pull request. Values are escaped so a message cannot start a command of its own.
pub(crate) fn github(diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diagnostics {
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let mut props = Vec::new();
        if let Some(loc) = &d.location {
            props.push(format!("file={}", escape_property(&loc.file)));
            props.push(format!("line={}", loc.line));
            props.push(format!("col={}", loc.column));
        }
        props.push(format!("title={}", escape_property(&d.code)));
        let mut message = d.message.clone();
        if let Some(path) = &d.path {
            message.push_str(&format!(" (at {path})"));
        }
        for hint in &d.hints {
            message.push_str("\nhint: ");
            message.push_str(hint);
        }
        let _ = writeln!(out, "::{command} {}::{}", props.join(","), escape_data(&message));
    }
    out
}

fn escape_data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// Control characters from user files must not reach the terminal as escape sequences.
fn sanitize(line: &str) -> String {
    line.chars().map(|c| if c.is_control() && c != '\t' { '\u{fffd}' } else { c }).collect()
}

/// Writes diagnostics in the chosen format; `checked` names what was checked, for the all-clear line.
pub(crate) fn report_diagnostics(
    diagnostics: &[Diagnostic],
    sources: &std::collections::BTreeMap<String, String>,
    format: ReportFormat,
    checked: &[String],
    out: &mut dyn Write,
) -> Result<(), Failure> {
    use std::io::IsTerminal as _;
    match format {
        ReportFormat::Json => {
            writeln!(out, "{}", serde_json::to_string_pretty(diagnostics).map_err(anyhow::Error::from)?)?;
        }
        ReportFormat::Sarif => {
            writeln!(out, "{}", serde_json::to_string_pretty(&sarif(diagnostics)).map_err(anyhow::Error::from)?)?;
        }
        ReportFormat::Github => out.write_all(github(diagnostics).as_bytes())?,
        ReportFormat::Human if diagnostics.is_empty() => {
            for name in checked {
                writeln!(out, "{name}: ok")?;
            }
        }
        ReportFormat::Human => {
            let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            let text = render_with(diagnostics, &|f| sources.get(f).map(String::as_str), color);
            out.write_all(text.as_bytes())?;
            let (errors, warnings) = diagnostics.iter().fold((0, 0), |(e, w), d| match d.severity {
                Severity::Error => (e + 1, w),
                Severity::Warning => (e, w + 1),
                Severity::Info => (e, w),
            });
            writeln!(out, "{errors} error(s), {warnings} warning(s)")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use switchyard_model::{Diagnostic, Location};

    fn sample() -> Vec<Diagnostic> {
        let mut e = Diagnostic::error("SY3101", "column 7: unexpected `)`").at("http.routers.a.rule").hint("close it");
        e.location = Some(Location { file: "dyn/my file.yml".into(), line: 4, column: 13 });
        let w = Diagnostic::warning("SY3006", "a, b: defined twice\n::error::injected");
        vec![e, w]
    }

    #[test]
    fn sarif_has_a_rule_per_code_and_a_located_result_per_diagnostic() {
        let log = super::sarif(&sample());
        assert_eq!(log["version"], "2.1.0");
        let run = &log["runs"][0];
        assert_eq!(run["tool"]["driver"]["name"], "switchyard");
        let rules: Vec<&str> =
            run["tool"]["driver"]["rules"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
        assert_eq!(rules, ["SY3006", "SY3101"]);
        let first = &run["results"][0];
        assert_eq!(first["level"], "error");
        assert_eq!(first["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "dyn/my%20file.yml");
        assert_eq!(first["locations"][0]["physicalLocation"]["region"]["startLine"], 4);
        assert_eq!(first["properties"]["keyPath"], "http.routers.a.rule");
        assert!(first["message"]["text"].as_str().unwrap().ends_with("\nhint: close it"));
        assert_eq!(run["results"][1]["level"], "warning");
        assert!(run["results"][1].get("locations").is_none());
    }

    #[test]
    fn github_annotations_cannot_be_broken_out_of() {
        let text = super::github(&sample());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(
            lines[0].starts_with("::error file=dyn/my file.yml,line=4,col=13,title=SY3101::column 7: unexpected"),
            "{text}"
        );
        assert!(lines[0].contains("(at http.routers.a.rule)%0Ahint: close it"), "{text}");
        assert_eq!(lines[1], "::warning title=SY3006::a, b: defined twice%0A::error::injected");
    }

    #[test]
    fn marks_the_column_and_neutralises_escapes() {
        let mut d = Diagnostic::error("SY0130", "bad domain").at("apps.a.environments.b.domain").hint("fix it");
        d.location = Some(Location { file: "s.yaml".into(), line: 2, column: 5 });
        let text = super::render(&[d], Some("x: 1\ny:  \u{1b}[31mred\n"));
        assert!(text.contains("2 | y:  \u{fffd}[31mred\n  |     ^^^^^^^^\n"), "{text}");
        assert!(text.contains("  --> s.yaml:2:5\n") && text.contains("  hint: fix it\n"), "{text}");
    }
}
