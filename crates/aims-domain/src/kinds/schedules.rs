//! Recurring reviews and reminders (9.1, 9.2, A.5, A.10 and the review dates the other clauses
//! ask for): a schedule says what recurs (a policy review, an impact re-assessment …), which
//! records it concerns, how often, when it is next due and who does it. "Mark done" records the
//! completion and moves the due date on by the frequency ([`next_due`]). Notification channels
//! say where the organisation's reminders go (e-mail over SMTP, a signed webhook); their
//! passwords and secrets are write-only: the record only says whether one is set.

use time::{Date, Duration, Month};

use super::BASE;
use crate::policy::Action;
use crate::validate::{FieldSpec, FieldType, KindSpec, Shape, sys};
use crate::workflow::{BodyField, Permission, Sod, TransitionSpec, Workflow};

/// What recurs.
pub const SCHEDULE_SUBJECTS: &[&str] = &["policy_review", "impact_reassessment", "supplier_review", "evidence_refresh", "audit", "other"];

/// How often (`fortnightly`: every two weeks).
pub const FREQUENCIES: &[&str] = &["daily", "weekly", "fortnightly", "monthly", "quarterly", "yearly"];

pub const SCHEDULE: KindSpec = KindSpec {
    kind: "schedule",
    collection: "schedules",
    label: "Recurring review",
    plural_label: "Recurring reviews",
    fields: &[
        FieldSpec::new("title", "Title", FieldType::Text { max: 300 }).required(),
        FieldSpec::new("subject", "What recurs", FieldType::Choice(SCHEDULE_SUBJECTS)).required(),
        FieldSpec::new("frequency", "Frequency", FieldType::Choice(FREQUENCIES)).required(),
        FieldSpec::new("next_due_on", "Next due", FieldType::Date).required(),
        FieldSpec::new("owner_id", "Owner", FieldType::UserId),
        FieldSpec::new("instructions", "What to do", FieldType::Text { max: 10_000 }),
        FieldSpec::new("policy_ids", "Policies", FieldType::Ids { kind: "policy" }),
        FieldSpec::new("impact_assessment_ids", "Impact assessments", FieldType::Ids { kind: "impact_assessment" }),
        FieldSpec::new("supplier_ids", "Suppliers", FieldType::Ids { kind: "supplier" }),
        FieldSpec::new("evidence_ids", "Evidence", FieldType::Ids { kind: "evidence" }),
        FieldSpec::new("ai_system_ids", "AI systems", FieldType::Ids { kind: "ai_system" }),
    ],
    system_fields: &[
        sys("last_done_on", Shape::Date),
        sys("last_done_by", Shape::UserId),
        sys("last_done_at", Shape::Timestamp),
        sys("last_done_note", Shape::Text),
        sys("anchor_day", Shape::Integer),
    ],
    initial_state: Some("active"),
    workflow: Some(&SCHEDULE_WORKFLOW),
    ..BASE
};

/// Active (reminded, counted as due) ⇄ paused. "Mark done" keeps the state and moves the date.
pub const SCHEDULE_WORKFLOW: Workflow = Workflow {
    transitions: &[
        TransitionSpec {
            name: "mark-done",
            label: "Mark done",
            summary: "The review is done: record it and move the next due date on by the frequency",
            from: &["active"],
            to: None,
            permission: Permission::Action(Action::Edit),
            sod: Sod::None,
            fields: &[BodyField::optional("note", "What was done")],
            event: "mark-done",
            approval: false,
            request: false,
        },
        TransitionSpec {
            name: "pause",
            label: "Pause",
            summary: "Stop reminding and counting it as due",
            from: &["active"],
            to: Some("paused"),
            permission: Permission::Action(Action::Edit),
            sod: Sod::None,
            fields: &[],
            event: "pause",
            approval: false,
            request: false,
        },
        TransitionSpec {
            name: "resume",
            label: "Resume",
            summary: "Remind and count it as due again",
            from: &["paused"],
            to: Some("active"),
            permission: Permission::Action(Action::Edit),
            sod: Sod::None,
            fields: &[],
            event: "resume",
            approval: false,
            request: false,
        },
    ],
    requester_field: None,
    owner_field: Some("owner_id"),
    entries_kind: None,
};

pub const CHANNEL_TYPES: &[&str] = &["email", "webhook"];
pub const TLS_MODES: &[&str] = &["starttls", "tls", "none"];
/// The write-only fields of a notification channel: the record shows [`SECRET_SET`] instead.
pub const CHANNEL_SECRETS: &[&str] = &["smtp_password", "webhook_secret"];
/// What a write-only field shows once a value is stored.
pub const SECRET_SET: &str = "set";

pub const NOTIFICATION_CHANNEL: KindSpec = KindSpec {
    kind: "notification_channel",
    collection: "notification-channels",
    label: "Notification channel",
    plural_label: "Notification channels",
    fields: &[
        FieldSpec::new("name", "Name", FieldType::Text { max: 200 }).required(),
        FieldSpec::new("channel_type", "Type", FieldType::Choice(CHANNEL_TYPES)).required(),
        FieldSpec::new("enabled", "Enabled", FieldType::Bool).default_bool(false),
        FieldSpec::new("smtp_host", "SMTP host", FieldType::Text { max: 253 }),
        FieldSpec::new("smtp_port", "SMTP port", FieldType::Integer { min: 1, max: 65_535 }),
        FieldSpec::new("smtp_tls", "TLS", FieldType::Choice(TLS_MODES)),
        FieldSpec::new("from_address", "From address", FieldType::Text { max: 254 }),
        FieldSpec::new("smtp_username", "SMTP username", FieldType::Text { max: 254 }),
        FieldSpec::new("smtp_password", "SMTP password (write-only)", FieldType::Text { max: 300 }),
        FieldSpec::new("recipients", "Recipients", FieldType::TextList { max_items: 50, max: 254 }),
        FieldSpec::new("webhook_url", "Webhook URL", FieldType::Text { max: 300 }),
        FieldSpec::new("webhook_secret", "Webhook secret (write-only)", FieldType::Text { max: 300 }),
    ],
    system_fields: &[sys("last_test_at", Shape::Timestamp), sys("last_test_result", Shape::Text)],
    ..BASE
};

/// How far one period of `frequency` moves a date: days, or whole months.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Days(i64),
    Months(u32),
}

pub fn period(frequency: &str) -> Option<Period> {
    Some(match frequency {
        "daily" => Period::Days(1),
        "weekly" => Period::Days(7),
        "fortnightly" => Period::Days(14),
        "monthly" => Period::Months(1),
        "quarterly" => Period::Months(3),
        "yearly" => Period::Months(12),
        _ => return None,
    })
}

/// `date` moved on by one period. Months keep the schedule's day of the month (`anchor_day`,
/// the day it was first due), or the month's last day when the month is shorter: a review due
/// on 31 January is due on 28 (or 29) February, then on 31 March — the date never drifts.
pub fn advance(date: Date, period: Period, anchor_day: u8) -> Option<Date> {
    match period {
        Period::Days(days) => date.checked_add(Duration::days(days)),
        Period::Months(months) => {
            let index = i64::from(date.year()) * 12 + i64::from(u8::from(date.month())) - 1 + i64::from(months);
            let year = i32::try_from(index.div_euclid(12)).ok()?;
            let month = Month::try_from(u8::try_from(index.rem_euclid(12) + 1).ok()?).ok()?;
            let day = anchor_day.clamp(1, 31).min(time::util::days_in_month(month, year));
            Date::from_calendar_date(year, month, day).ok()
        }
    }
}

/// The next due date after a review due on `due` was done on `done_on`: one period on, and on
/// again until it is after the day it was done (a review done late does not leave its next
/// occurrence already overdue).
pub fn next_due(due: Date, frequency: &str, anchor_day: u8, done_on: Date) -> Option<Date> {
    let period = period(frequency)?;
    let mut next = advance(due, period, anchor_day)?;
    while next <= done_on {
        next = advance(next, period, anchor_day)?;
    }
    Some(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    #[test]
    fn month_ends_and_leap_years() {
        let m = Period::Months(1);
        assert_eq!(advance(date!(2024 - 01 - 31), m, 31), Some(date!(2024 - 02 - 29)));
        assert_eq!(advance(date!(2025 - 01 - 31), m, 31), Some(date!(2025 - 02 - 28)));
        assert_eq!(advance(date!(2025 - 02 - 28), m, 31), Some(date!(2025 - 03 - 31)));
        assert_eq!(advance(date!(2024 - 02 - 29), Period::Months(12), 29), Some(date!(2025 - 02 - 28)));
        assert_eq!(advance(date!(2025 - 02 - 28), Period::Months(12), 29), Some(date!(2026 - 02 - 28)));
        assert_eq!(advance(date!(2027 - 02 - 28), Period::Months(12), 29), Some(date!(2028 - 02 - 29)));
        assert_eq!(advance(date!(2025 - 11 - 30), Period::Months(3), 30), Some(date!(2026 - 02 - 28)));
        assert_eq!(advance(date!(2025 - 12 - 31), Period::Days(1), 31), Some(date!(2026 - 01 - 01)));
        assert_eq!(next_due(date!(2025 - 01 - 10), "weekly", 10, date!(2025 - 02 - 01)), Some(date!(2025 - 02 - 07)));
        assert_eq!(next_due(date!(2025 - 01 - 10), "yearly", 10, date!(2025 - 01 - 09)), Some(date!(2026 - 01 - 10)));
        assert_eq!(next_due(date!(2025 - 01 - 10), "hourly", 10, date!(2025 - 01 - 09)), None);
    }

    fn any_date() -> impl Strategy<Value = Date> {
        (1900i32..2400, 1u16..=366).prop_map(|(year, day)| {
            let day = day.min(if time::util::is_leap_year(year) { 366 } else { 365 });
            Date::from_ordinal_date(year, day).unwrap_or(date!(2000 - 01 - 01))
        })
    }

    proptest! {
        /// Whole-month periods land on the anchor day, or the month's last day when shorter,
        /// exactly that many months on; day periods move exactly that many days.
        #[test]
        fn a_period_moves_by_exactly_its_length(due in any_date(), f in 0usize..FREQUENCIES.len(), anchor in 1u8..=31) {
            let period = period(FREQUENCIES[f]).unwrap_or(Period::Days(1));
            let next = advance(due, period, anchor).unwrap_or(due);
            prop_assert!(next > due);
            match period {
                Period::Days(days) => prop_assert_eq!((next - due).whole_days(), days),
                Period::Months(months) => {
                    let months_between = (next.year() - due.year()) * 12 + i32::from(u8::from(next.month())) - i32::from(u8::from(due.month()));
                    prop_assert_eq!(months_between, i32::try_from(months).unwrap_or(0));
                    prop_assert_eq!(next.day(), anchor.min(time::util::days_in_month(next.month(), next.year())));
                }
            }
        }

        /// The next due date is after both the old one and the day it was done, and less than
        /// one period after the later of the two.
        #[test]
        fn the_next_due_date_is_the_first_occurrence_after_completion(
            due in any_date(), late in -400i64..2000, f in 0usize..FREQUENCIES.len(),
        ) {
            // A schedule's anchor is the day it was first due, so a due date is on it (or on
            // a shorter month's last day).
            let anchor = due.day();
            let frequency = FREQUENCIES[f];
            let done_on = due.checked_add(Duration::days(late)).unwrap_or(due);
            let next = next_due(due, frequency, anchor, done_on).unwrap_or(due);
            prop_assert!(next > due && next > done_on);
            let period = period(frequency).unwrap_or(Period::Days(1));
            let before = match period {
                Period::Days(days) => next.checked_sub(Duration::days(days)),
                Period::Months(months) => {
                    // one period back, on the same anchor rule
                    let index = i64::from(next.year()) * 12 + i64::from(u8::from(next.month())) - 1 - i64::from(months);
                    let year = i32::try_from(index.div_euclid(12)).unwrap_or(0);
                    let month = Month::try_from(u8::try_from(index.rem_euclid(12) + 1).unwrap_or(1)).unwrap_or(Month::January);
                    Date::from_calendar_date(year, month, anchor.min(time::util::days_in_month(month, year))).ok()
                }
            };
            let before = before.unwrap_or(due);
            prop_assert!(before <= due.max(done_on), "{before} is after both {due} and {done_on}");
        }
    }
}
