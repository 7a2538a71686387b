//! Timestamps as aims stores and prints them: UTC, RFC 3339 with microseconds and a `Z`,
//! always the same width so that text order is time order on both database backends.

use time::{OffsetDateTime, UtcOffset, format_description::FormatItem, macros::format_description};

const STORED: &[FormatItem<'static>] = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

/// The current time, truncated to microseconds.
pub fn now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(now.nanosecond() / 1_000 * 1_000).unwrap_or(now)
}

/// The stored text form of a timestamp. Every token-checked request formats the time it is
/// checked at, and `time`'s formatter (which interprets the description item by item) was
/// half of that check's cost; a four-digit year, which is every date aims stores, is written
/// straight into its fixed-width slots instead.
pub fn format(at: OffsetDateTime) -> String {
    let at = at.to_offset(UtcOffset::UTC);
    match u32::try_from(at.year()) {
        Ok(year) if year <= 9999 => fixed_width(at, year),
        _ => at.format(STORED).unwrap_or_else(|_| at.unix_timestamp().to_string()),
    }
}

/// [`format`] of a UTC time in a year from 0 to 9999.
fn fixed_width(at: OffsetDateTime, year: u32) -> String {
    let mut text = *b"0000-00-00T00:00:00.000000Z";
    let fields = [
        (0..4, year),
        (5..7, u32::from(u8::from(at.month()))),
        (8..10, u32::from(at.day())),
        (11..13, u32::from(at.hour())),
        (14..16, u32::from(at.minute())),
        (17..19, u32::from(at.second())),
        (20..26, at.microsecond()),
    ];
    for (slots, value) in fields {
        put_digits(&mut text[slots], value);
    }
    // Only ASCII digits and separators were written, so this never falls back.
    std::str::from_utf8(&text).map(str::to_owned).unwrap_or_else(|_| at.unix_timestamp().to_string())
}

/// Writes `value` as decimal digits right-aligned in `slots`, zero-padded.
fn put_digits(slots: &mut [u8], mut value: u32) {
    for slot in slots.iter_mut().rev() {
        // `value % 10` is below ten, so the cast keeps it whole.
        *slot = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

/// `now()` in its stored text form.
pub fn now_text() -> String {
    format(now())
}

/// Reads back a timestamp in the stored form.
pub fn parse_stored(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The fixed-width writer says exactly what `time`'s formatter would, in every year
        /// and at every microsecond it handles, whatever the input's offset.
        #[test]
        fn fixed_width_matches_the_stored_description(
            seconds in -62_135_596_800i64..253_402_300_799,
            micros in 0u32..1_000_000,
            offset_minutes in -1_439i32..1_439,
        ) {
            let utc = OffsetDateTime::from_unix_timestamp(seconds).unwrap().replace_microsecond(micros).unwrap();
            let offset = UtcOffset::from_whole_seconds(offset_minutes * 60).unwrap();
            let at = utc.to_offset(offset);
            prop_assert_eq!(format(at), utc.format(STORED).unwrap());
        }
    }

    #[test]
    fn years_beyond_four_digits_fall_back_to_the_description() {
        let at = time::macros::datetime!(0000-01-01 00:00:00 UTC) - time::Duration::seconds(1);
        assert_eq!(format(at), at.format(STORED).unwrap());
        assert_eq!(format(time::macros::datetime!(2026-12-03 14:05:09.000042 UTC)), "2026-12-03T14:05:09.000042Z");
    }
}
