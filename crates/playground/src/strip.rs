//! What the page's JavaScript carries only for its readers, left out of what is served: whole-line comments
//! (`// ...`, `/* ... */` and `/** ... */` blocks that start a line) and each line's indentation. About 4 KB
//! gzipped of the first load (the page's modules and wasm-bindgen's glue, whose doc comments are the Rust
//! functions'). A file it cannot strip safely (a line with an odd number of backticks: a template literal that
//! spans lines, whose lines are text; backticks in comments do not count) is served as it is.

/// `source` without whole-line comments, indentation and empty lines; `None` when that could change what it
/// means.
pub fn strip_js(source: &str) -> Option<String> {
    let mut out = String::with_capacity(source.len());
    let mut in_block = false;
    for line in source.lines() {
        let text = line.trim();
        if in_block {
            in_block = !text.contains("*/");
            continue;
        }
        if text.starts_with("/*") {
            // A block that ends on its own line is dropped whole; one with code after its end is kept.
            match text.find("*/") {
                None => in_block = true,
                Some(end) if text[end + 2..].trim().is_empty() => {}
                Some(_) => {
                    out.push_str(text);
                    out.push('\n');
                }
            }
            continue;
        }
        if text.is_empty() || text.starts_with("//") {
            continue;
        }
        if text.matches('`').count() % 2 == 1 {
            return None;
        }
        out.push_str(text);
        out.push('\n');
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::strip_js;

    #[test]
    fn comments_and_indentation_go_code_stays() {
        let source = "/** A doc comment\n * over lines. */\nexport function f(a) {\n  // a note\n  return a + 1; // kept\n}\n/* one line */\n  /* x */ const b = '//';\n\nconst re = /\\/\\//;\n";
        assert_eq!(
            strip_js(source).unwrap(),
            "export function f(a) {\nreturn a + 1; // kept\n}\n/* x */ const b = '//';\nconst re = /\\/\\//;\n"
        );
    }

    #[test]
    fn a_template_literal_over_lines_is_left_alone() {
        assert_eq!(strip_js("const t = `a\n  // text\n`;\n"), None);
        assert!(strip_js("const t = `one line`;\n").is_some());
        assert!(strip_js("/** a `code` span\n * over `lines\n */\nconst t = 1;\n").is_some());
    }
}
