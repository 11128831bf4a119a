//! Diagnostics for people: the message, where it is, the source line with the spot marked, and hints.

use std::fmt::Write as _;

use switchyard_model::Diagnostic;

/// Renders diagnostics; `source` is the text of the file they point into, when there is one.
pub(crate) fn render(diagnostics: &[Diagnostic], source: Option<&str>) -> String {
    let mut out = String::new();
    for d in diagnostics {
        let _ = writeln!(out, "{}[{}]: {}", d.severity, d.code, d.message);
        if let Some(loc) = &d.location {
            let _ = writeln!(out, "  --> {loc}");
            if let Some(line) = source.and_then(|s| s.lines().nth(loc.line.saturating_sub(1))) {
                let width = loc.line.to_string().len();
                let line = sanitize(line);
                let _ = writeln!(out, "{:width$} |", "");
                let _ = writeln!(out, "{} | {line}", loc.line);
                let col = loc.column.saturating_sub(1).min(line.chars().count());
                let _ = writeln!(out, "{:width$} | {}^", "", " ".repeat(col));
            }
        }
        if let Some(path) = &d.path {
            let _ = writeln!(out, "  at {path}");
        }
        for hint in &d.hints {
            let _ = writeln!(out, "  hint: {hint}");
        }
    }
    out
}

/// Control characters from user files must not reach the terminal as escape sequences.
fn sanitize(line: &str) -> String {
    line.chars().map(|c| if c.is_control() && c != '\t' { '\u{fffd}' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use switchyard_model::{Diagnostic, Location};

    #[test]
    fn marks_the_column_and_neutralises_escapes() {
        let mut d = Diagnostic::error("SY0130", "bad domain").at("apps.a.environments.b.domain").hint("fix it");
        d.location = Some(Location { file: "s.yaml".into(), line: 2, column: 5 });
        let text = super::render(&[d], Some("x: 1\ny:  \u{1b}[31mred\n"));
        assert!(text.contains("2 | y:  \u{fffd}[31mred\n  |     ^\n"), "{text}");
        assert!(text.contains("  --> s.yaml:2:5\n") && text.contains("  hint: fix it\n"), "{text}");
    }
}
