//! How often, and after how long, a temporarily failed delivery is tried again.
//!
//! A team sets a default (Settings → Retries); a post may set its own (Compose → Retries). The
//! wait after the n-th temporary failure is `base × 2^(n − 1)`, at most 4 hours: with the product
//! brief's 5-minute base that is 5, 10, 20 and 40 minutes. Pure, so the browser describes a
//! policy with exactly the rule the workers apply.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::FieldError;

/// No retry waits longer than this.
pub const MAX_DELAY: Duration = Duration::from_secs(4 * 3600);

/// Attempts in all (the first one included) that a policy may allow.
pub const ATTEMPTS: std::ops::RangeInclusive<i16> = 1..=20;

/// The first retry's wait, in seconds, that a policy may set (1 second to 4 hours).
pub const FIRST_RETRY_SECONDS: std::ops::RangeInclusive<i32> = 1..=14_400;

/// A retry policy: how many attempts, and the first retry's wait (doubling after each failure).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryPolicy {
    /// Attempts in all before a temporary failure becomes final.
    pub max_attempts: i16,
    /// The wait before the first retry, in seconds.
    pub first_retry_seconds: i32,
}

impl Default for RetryPolicy {
    /// The product brief's: 5 attempts, the first retry after 5 minutes.
    fn default() -> Self {
        Self { max_attempts: 5, first_retry_seconds: 300 }
    }
}

/// What a post's form says about retries: each part empty (the team's default) or set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryOverride {
    /// Attempts in all, or the team's default.
    pub max_attempts: Option<i16>,
    /// The first retry's wait in seconds, or the team's default.
    pub first_retry_seconds: Option<i32>,
}

impl RetryOverride {
    /// This override on top of the team's `default`.
    pub fn over(self, default: RetryPolicy) -> RetryPolicy {
        RetryPolicy {
            max_attempts: self.max_attempts.unwrap_or(default.max_attempts),
            first_retry_seconds: self.first_retry_seconds.unwrap_or(default.first_retry_seconds),
        }
    }

    /// Parses a form's "Attempts" and "First retry after (minutes)" fields; an empty field keeps
    /// the team's default.
    pub fn parse(attempts: &str, first_retry_minutes: &str) -> Result<Self, FieldError> {
        let attempts = attempts.trim();
        let minutes = first_retry_minutes.trim();
        Ok(Self {
            max_attempts: if attempts.is_empty() { None } else { Some(parse_attempts(attempts)?) },
            first_retry_seconds: if minutes.is_empty() { None } else { Some(parse_minutes(minutes)?) },
        })
    }

    /// Checks values that came from elsewhere (the REST API's seconds), with the API's field names.
    pub fn check(self) -> Result<Self, FieldError> {
        if let Some(n) = self.max_attempts
            && !ATTEMPTS.contains(&n)
        {
            return Err(FieldError::new("max_attempts", "Allow between 1 and 20 attempts."));
        }
        if let Some(s) = self.first_retry_seconds
            && !FIRST_RETRY_SECONDS.contains(&s)
        {
            return Err(FieldError::new("retry_base_seconds", "The first retry may wait between 1 second and 4 hours (14400 seconds)."));
        }
        Ok(self)
    }
}

impl RetryPolicy {
    /// Parses Settings' "Attempts" and "First retry after (minutes)" fields, both required.
    pub fn parse(attempts: &str, first_retry_minutes: &str) -> Result<Self, FieldError> {
        let attempts = attempts.trim();
        let minutes = first_retry_minutes.trim();
        if attempts.is_empty() {
            return Err(FieldError::new("max_attempts", "Enter how many attempts to make, from 1 to 20."));
        }
        if minutes.is_empty() {
            return Err(FieldError::new("first_retry_minutes", "Enter the minutes to wait before the first retry, from 1 to 240."));
        }
        Ok(Self { max_attempts: parse_attempts(attempts)?, first_retry_seconds: parse_minutes(minutes)? })
    }

    /// The wait after the `failures`-th temporary failure (1 for the first): `base × 2^(failures − 1)`,
    /// at most [`MAX_DELAY`].
    pub fn delay_after(self, failures: i16) -> Duration {
        let base = u64::try_from(self.first_retry_seconds.max(1)).unwrap_or(1);
        let exponent = u32::try_from(failures.max(1) - 1).unwrap_or(0).min(32);
        Duration::from_secs(base.saturating_mul(1u64 << exponent)).min(MAX_DELAY)
    }

    /// A sentence for the page: "Up to 5 attempts: retries after 5 min, 10 min, 20 min and 40 min."
    pub fn describe(self) -> String {
        if self.max_attempts <= 1 {
            return "1 attempt: a temporary failure is final.".to_owned();
        }
        let waits: Vec<String> = (1..self.max_attempts).map(|n| short_duration(self.delay_after(n))).collect();
        let waits = match waits.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
            None => String::new(),
        };
        format!("Up to {} attempts: retries after {waits}.", self.max_attempts)
    }

    /// The first retry's wait in whole minutes, rounded up, for a form field.
    pub fn first_retry_minutes(self) -> i32 {
        (self.first_retry_seconds + 59) / 60
    }

    /// What to do after the `failures`-th temporary failure (1 for the first), at `now`: try
    /// again after [`RetryPolicy::delay_after`], or give up once the attempts are spent. The one
    /// rule for deliveries and webhook calls alike.
    pub fn after_failure(self, failures: i16, now: DateTime<Utc>) -> RetryDecision {
        if failures >= self.max_attempts {
            return RetryDecision::GiveUp;
        }
        let wait = TimeDelta::from_std(self.delay_after(failures)).unwrap_or(TimeDelta::hours(4));
        RetryDecision::RetryAt(now + wait)
    }
}

/// What becomes of something that failed for now: see [`RetryPolicy::after_failure`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryDecision {
    /// Try again at this moment.
    RetryAt(DateTime<Utc>),
    /// The attempts are spent: the failure is final.
    GiveUp,
}

fn parse_attempts(raw: &str) -> Result<i16, FieldError> {
    raw.parse::<i16>()
        .ok()
        .filter(|n| ATTEMPTS.contains(n))
        .ok_or_else(|| FieldError::new("max_attempts", format!("“{raw}” is not a number of attempts from 1 to 20.")))
}

fn parse_minutes(raw: &str) -> Result<i32, FieldError> {
    raw.parse::<i32>()
        .ok()
        .filter(|m| (1..=240).contains(m))
        .map(|m| m * 60)
        .ok_or_else(|| FieldError::new("first_retry_minutes", format!("“{raw}” is not a whole number of minutes from 1 to 240 (4 hours).")))
}

fn short_duration(d: Duration) -> String {
    let s = d.as_secs();
    match (s / 3600, (s % 3600) / 60, s % 60) {
        (0, 0, s) => format!("{s} s"),
        (0, m, 0) => format!("{m} min"),
        (0, m, s) => format!("{m} min {s} s"),
        (h, 0, _) => format!("{h} h"),
        (h, m, _) => format!("{h} h {m} min"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_brief_schedule_doubles_from_five_minutes() {
        let policy = RetryPolicy::default();
        let minutes: Vec<u64> = (1..=4).map(|f| policy.delay_after(f).as_secs() / 60).collect();
        assert_eq!(minutes, [5, 10, 20, 40]);
        assert_eq!(policy.describe(), "Up to 5 attempts: retries after 5 min, 10 min, 20 min and 40 min.");
    }

    #[test]
    fn the_delay_is_capped_at_four_hours_however_many_failures() {
        let policy = RetryPolicy { max_attempts: 20, first_retry_seconds: 300 };
        assert_eq!(policy.delay_after(7), MAX_DELAY, "300 s × 64 = 5 h 20 min → capped");
        assert_eq!(policy.delay_after(i16::MAX), MAX_DELAY);
        assert_eq!(RetryPolicy { max_attempts: 2, first_retry_seconds: 1 }.delay_after(1), Duration::from_secs(1));
        assert_eq!(RetryPolicy { max_attempts: 2, first_retry_seconds: 0 }.delay_after(0), Duration::from_secs(1), "nonsense still waits");
        assert_eq!(
            RetryPolicy { max_attempts: 3, first_retry_seconds: 9000 }.describe(),
            "Up to 3 attempts: retries after 2 h 30 min and 4 h."
        );
        assert_eq!(RetryPolicy { max_attempts: 1, first_retry_seconds: 60 }.describe(), "1 attempt: a temporary failure is final.");
    }

    #[test]
    fn a_failure_is_retried_until_the_attempts_are_spent() {
        let policy = RetryPolicy { max_attempts: 3, first_retry_seconds: 30 };
        let now = DateTime::<Utc>::UNIX_EPOCH;
        assert_eq!(policy.after_failure(1, now), RetryDecision::RetryAt(now + TimeDelta::seconds(30)));
        assert_eq!(policy.after_failure(2, now), RetryDecision::RetryAt(now + TimeDelta::seconds(60)));
        assert_eq!(policy.after_failure(3, now), RetryDecision::GiveUp, "the third attempt was the last");
        assert_eq!(RetryPolicy { max_attempts: 1, first_retry_seconds: 30 }.after_failure(1, now), RetryDecision::GiveUp);
    }

    #[test]
    fn form_fields_parse_with_errors_that_name_the_field() {
        assert_eq!(RetryPolicy::parse(" 3 ", "2"), Ok(RetryPolicy { max_attempts: 3, first_retry_seconds: 120 }));
        assert_eq!(RetryPolicy::parse("0", "2").unwrap_err().field, "max_attempts");
        assert_eq!(RetryPolicy::parse("21", "2").unwrap_err().field, "max_attempts");
        assert_eq!(RetryPolicy::parse("3", "241").unwrap_err().field, "first_retry_minutes");
        assert_eq!(RetryPolicy::parse("3", "1.5").unwrap_err().field, "first_retry_minutes");
        assert_eq!(RetryPolicy::parse("", "5").unwrap_err().field, "max_attempts");

        assert_eq!(RetryOverride::parse("", ""), Ok(RetryOverride::default()));
        let own = RetryOverride::parse("2", "").unwrap();
        assert_eq!(own.over(RetryPolicy::default()), RetryPolicy { max_attempts: 2, first_retry_seconds: 300 });
        assert_eq!(RetryOverride::parse("", "x").unwrap_err().field, "first_retry_minutes");
        assert_eq!(
            RetryOverride { max_attempts: None, first_retry_seconds: Some(20_000) }.check().unwrap_err().field,
            "retry_base_seconds"
        );
    }
}
