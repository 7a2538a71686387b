//! The sign-in throttle: failed sign-ins are counted per account **and** source (the
//! client's address) together, and each further attempt from that pair waits longer. Strangers
//! failing from their own addresses never slow the owner down at theirs, so no one can lock an
//! account out by guessing at it.

use time::{Duration, OffsetDateTime};

/// Failures from one pair that cost nothing: typing mistakes.
pub const FREE_FAILURES: i64 = 5;
/// The longest wait between two attempts from one pair.
pub const MAX_DELAY: Duration = Duration::minutes(15);
/// Failures this long ago are forgotten: the next one counts from one again.
pub const FORGET_AFTER: Duration = Duration::hours(1);

/// The failed sign-ins of one account from one source so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failures {
    pub count: i64,
    pub last_at: OffsetDateTime,
}

/// How long the pair waits after `count` failures: nothing for the first [`FREE_FAILURES`],
/// then 1 s, 2 s, 4 s … doubling up to [`MAX_DELAY`].
pub fn delay_after(count: i64) -> Duration {
    let over = count - FREE_FAILURES;
    if over < 0 {
        return Duration::ZERO;
    }
    // 2^10 s is past the cap already; the shift never overflows.
    let seconds = 1_i64 << over.min(10);
    Duration::seconds(seconds).min(MAX_DELAY)
}

/// When the pair may try again, if it must still wait at `now`.
pub fn wait_until(failures: Option<Failures>, now: OffsetDateTime) -> Option<OffsetDateTime> {
    let failures = failures.filter(|f| now - f.last_at < FORGET_AFTER)?;
    let next = failures.last_at + delay_after(failures.count);
    (now < next).then_some(next)
}

/// The failures after one more at `now`: counting on, or from one when the earlier ones are
/// forgotten.
pub fn after_failure(failures: Option<Failures>, now: OffsetDateTime) -> Failures {
    match failures {
        Some(f) if now - f.last_at < FORGET_AFTER => Failures { count: f.count + 1, last_at: now },
        _ => Failures { count: 1, last_at: now },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-03-01 09:00 UTC);

    #[test]
    fn delays_grow_after_the_free_failures_and_are_capped() {
        let delays: Vec<i64> = (0..=16).map(|n| delay_after(n).whole_seconds()).collect();
        assert_eq!(delays, [0, 0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]);
        assert_eq!(delay_after(i64::MAX), MAX_DELAY);
    }

    #[test]
    fn each_attempt_waits_for_the_last_failure_plus_its_delay() {
        let mut failures = None;
        let mut now = T0;
        for _ in 0..FREE_FAILURES {
            assert_eq!(wait_until(failures, now), None, "the first failures cost nothing");
            failures = Some(after_failure(failures, now));
        }
        for expected in [1, 2, 4, 8] {
            let until = wait_until(failures, now).expect("must wait");
            assert_eq!(until - now, Duration::seconds(expected));
            assert_eq!(wait_until(failures, until - Duration::milliseconds(1)), Some(until));
            now = until;
            assert_eq!(wait_until(failures, now), None, "free to try once the delay is over");
            failures = Some(after_failure(failures, now));
        }
    }

    #[test]
    fn old_failures_are_forgotten() {
        let failures = Some(Failures { count: 30, last_at: T0 });
        assert!(wait_until(failures, T0 + Duration::minutes(5)).is_some());
        assert_eq!(wait_until(failures, T0 + FORGET_AFTER), None);
        assert_eq!(after_failure(failures, T0 + FORGET_AFTER).count, 1);
    }
}
