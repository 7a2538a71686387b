//! Readable differences between two editions of a text (policy revisions), line by line.

use serde::Serialize;
use similar::{ChangeTag, TextDiff};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffLine {
    /// `equal`, `insert` or `delete`.
    pub op: &'static str,
    pub text: String,
}

/// The lines of `old` and `new` with what happened to each.
pub fn lines(old: &str, new: &str) -> Vec<DiffLine> {
    TextDiff::from_lines(old, new)
        .iter_all_changes()
        .map(|change| DiffLine {
            op: match change.tag() {
                ChangeTag::Equal => "equal",
                ChangeTag::Insert => "insert",
                ChangeTag::Delete => "delete",
            },
            text: change.value().trim_end_matches(['\n', '\r']).to_owned(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_line_is_a_delete_and_an_insert() {
        let diff = lines("a\nb\nc\n", "a\nB\nc\nd");
        let ops: Vec<(&str, &str)> = diff.iter().map(|l| (l.op, l.text.as_str())).collect();
        assert_eq!(ops, vec![("equal", "a"), ("delete", "b"), ("insert", "B"), ("equal", "c"), ("insert", "d")]);
    }
}
