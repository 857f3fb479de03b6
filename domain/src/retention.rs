//! How long a team keeps its history: the attempts of finished deliveries, and the audit trail.
//! Older records are pruned by the housekeeping pass (`store::retention::prune`); posts and their
//! deliveries themselves are never pruned.

use serde::{Deserialize, Serialize};

use crate::FieldError;

/// Days kept of each kind of history.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retention {
    /// Attempts of finished (published, failed, cancelled) deliveries, by when the delivery finished.
    pub attempt_days: u16,
    /// Audit records, by when they happened.
    pub audit_days: u16,
}

impl Retention {
    /// What a team keeps until it chooses otherwise: half a year of attempts (enough to answer
    /// "why did this post fail in spring"), two years of audit trail.
    pub const DEFAULT: Retention = Retention { attempt_days: 180, audit_days: 730 };
    /// The shortest attempts may be kept (the table's check says the same).
    pub const MIN_ATTEMPT_DAYS: u16 = 30;
    /// The shortest the audit trail may be kept (the table's check and the append-only trigger
    /// say the same: even the pruner cannot delete a younger record).
    pub const MIN_AUDIT_DAYS: u16 = 90;
    /// The longest either is kept: ten years.
    pub const MAX_DAYS: u16 = 3650;

    /// Reads the form's two fields (whole days); says which to correct and how.
    pub fn parse(attempt_days: &str, audit_days: &str) -> Result<Retention, FieldError> {
        Ok(Retention {
            attempt_days: days("attempt_days", "Attempts", attempt_days, Self::MIN_ATTEMPT_DAYS)?,
            audit_days: days("audit_days", "The audit trail", audit_days, Self::MIN_AUDIT_DAYS)?,
        })
    }

    /// In words, for the settings page.
    pub fn describe(&self) -> String {
        format!(
            "Attempts of finished posts are kept {}, the audit trail {}; older records are deleted.",
            in_words(self.attempt_days),
            in_words(self.audit_days)
        )
    }
}

fn days(field: &str, what: &str, typed: &str, min: u16) -> Result<u16, FieldError> {
    let max = Retention::MAX_DAYS;
    let wrong = || FieldError::new(field, format!("{what}: give a whole number of days from {min} to {max}."));
    let n: u16 = typed.trim().parse().map_err(|_| wrong())?;
    if (min..=max).contains(&n) { Ok(n) } else { Err(wrong()) }
}

fn in_words(days: u16) -> String {
    match days {
        d if d % 365 == 0 && d >= 365 => {
            let years = d / 365;
            if years == 1 { "1 year".into() } else { format!("{years} years") }
        }
        d => format!("{d} days"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_is_read_within_the_floors_and_the_ceiling() {
        assert_eq!(Retention::parse(" 90 ", "365"), Ok(Retention { attempt_days: 90, audit_days: 365 }));
        assert_eq!(Retention::parse("30", "90"), Ok(Retention { attempt_days: 30, audit_days: 90 }));
        assert_eq!(Retention::parse("29", "365").unwrap_err().field, "attempt_days");
        assert_eq!(Retention::parse("180", "89").unwrap_err().field, "audit_days");
        assert_eq!(Retention::parse("180", "3651").unwrap_err().field, "audit_days");
        let words = Retention::parse("1.5", "730").unwrap_err();
        assert_eq!(words.message, "Attempts: give a whole number of days from 30 to 3650.");
        assert!(Retention::parse("", "730").is_err());
    }

    #[test]
    fn the_defaults_read_as_people_say_them() {
        assert_eq!(
            Retention::DEFAULT.describe(),
            "Attempts of finished posts are kept 180 days, the audit trail 2 years; older records are deleted."
        );
        assert_eq!(in_words(365), "1 year");
    }
}
