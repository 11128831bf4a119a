//! Text views shared by every adapter: unified diffs of configurations.

use similar::TextDiff;

/// A unified diff of two texts; empty when they are equal.
pub fn unified_diff(old: &str, new: &str, old_name: &str, new_name: &str) -> String {
    if old == new {
        return String::new();
    }
    TextDiff::from_lines(old, new).unified_diff().context_radius(3).header(old_name, new_name).to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn diffs_show_changed_lines_only() {
        let d = super::unified_diff("a\nb\nc\n", "a\nB\nc\n", "old", "new");
        assert!(d.contains("-b\n") && d.contains("+B\n") && d.starts_with("--- old\n+++ new\n"), "{d}");
        assert_eq!(super::unified_diff("x\n", "x\n", "o", "n"), "");
    }
}
