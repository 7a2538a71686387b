//! Timestamps as aims stores and prints them: UTC, RFC 3339 with microseconds and a `Z`,
//! always the same width so that text order is time order on both database backends.

use time::{OffsetDateTime, UtcOffset, format_description::FormatItem, macros::format_description};

const STORED: &[FormatItem<'static>] = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

/// The current time, truncated to microseconds.
pub fn now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(now.nanosecond() / 1_000 * 1_000).unwrap_or(now)
}

/// The stored text form of a timestamp.
pub fn format(at: OffsetDateTime) -> String {
    at.to_offset(UtcOffset::UTC).format(STORED).unwrap_or_else(|_| at.unix_timestamp().to_string())
}

/// `now()` in its stored text form.
pub fn now_text() -> String {
    format(now())
}

/// Parses an RFC 3339 timestamp given by a user (any offset) into the stored form.
pub fn parse_rfc3339(text: &str) -> Option<String> {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok().map(format)
}

/// Parses a calendar date `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Option<time::Date> {
    time::Date::parse(text, format_description!("[year]-[month]-[day]")).ok()
}

/// A date as `YYYY-MM-DD`.
pub fn format_date(date: time::Date) -> String {
    date.format(format_description!("[year]-[month]-[day]")).unwrap_or_default()
}

/// Today's date in UTC.
pub fn today() -> time::Date {
    now().date()
}
