//! Small text helpers for display: status labels, timestamps, truncation, URL encoding, HTML
//! escaping, record names and element ids.

use aims_store::model::Record;
use serde_json::Value;

/// A stored code such as `in_place` or `not_started` as people read it: "In place".
pub(crate) fn humanize(code: &str) -> String {
    let spaced = code.replace('_', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A stored timestamp (`2025-11-25T17:05:12.123456Z`) as `2025-11-25 17:05 UTC`.
pub(crate) fn datetime(stored: &str) -> String {
    match (stored.get(0..10), stored.get(11..16)) {
        (Some(date), Some(time)) => format!("{date} {time} UTC"),
        _ => stored.to_owned(),
    }
}

/// The time of day of a stored timestamp with seconds, for the activity log, where order
/// within a minute matters.
pub(crate) fn time_of_day(stored: &str) -> String {
    stored.get(11..19).unwrap_or_default().to_owned()
}

/// The date part of a stored timestamp.
pub(crate) fn date(stored: &str) -> String {
    stored.get(0..10).unwrap_or(stored).to_owned()
}

/// Shortens long text for a table cell, on a character boundary.
pub(crate) fn truncate(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max_chars.saturating_sub(1)).collect();
    format!("{}…", cut.trim_end())
}

/// Percent-encodes a query parameter value (RFC 3986 unreserved characters stay as they are).
pub(crate) fn encode_query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A redirect target given by the client (`?next=`) is only followed when it is a path on
/// this site: `/orgs/…`, never `//evil.example` or `https://…` (no open redirect).
pub(crate) fn safe_next(next: Option<&str>) -> Option<String> {
    let next = next?.trim();
    let local = next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\") && !next.contains(['\r', '\n']);
    local.then(|| next.to_owned())
}

/// A policy's state for people.
pub(crate) fn state_label(state: &str) -> String {
    match state {
        "in_review" => "In review".into(),
        other => humanize(other),
    }
}

/// An AI system's life-cycle stage (or a lifecycle record's type) for people.
pub(crate) fn stage_label(stage: &str) -> String {
    match stage {
        "verification_validation" => "Verification & validation".into(),
        other => humanize(other),
    }
}

/// HTML-escapes text for attribute values and element content.
pub(crate) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A record's name for people: its name or title.
pub(crate) fn record_label(record: &Record) -> String {
    ["name", "title", "subject"]
        .iter()
        .find_map(|f| record.data.get(*f).and_then(Value::as_str).filter(|t| !t.is_empty()))
        .map_or_else(|| record.reference.clone().unwrap_or_else(|| record.id.clone()), str::to_owned)
}

pub(crate) fn id_of(prefix: &str, name: &str) -> String {
    format!("{prefix}{}", name.replace(['[', ']', '.'], "_"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_dates() {
        assert_eq!(humanize("in_place"), "In place");
        assert_eq!(humanize(""), "");
        assert_eq!(datetime("2025-11-25T17:05:12.123456Z"), "2025-11-25 17:05 UTC");
        assert_eq!(datetime("odd"), "odd");
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("äöü", 3), "äöü");
    }

    #[test]
    fn next_must_stay_on_site() {
        assert_eq!(safe_next(Some("/orgs/demo/")), Some("/orgs/demo/".into()));
        for bad in ["//evil.example", "https://evil.example", "/\\evil", "", "orgs"] {
            assert_eq!(safe_next(Some(bad)), None, "{bad}");
        }
        assert_eq!(encode_query_value("/a b?c=d&e"), "/a%20b%3Fc%3Dd%26e");
    }
}
