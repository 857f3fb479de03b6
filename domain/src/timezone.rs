//! A person's timezone: an IANA name from the timezone database (`Europe/Berlin`), parsed once.

use std::fmt;

use crate::FieldError;

/// A valid IANA timezone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeZone(chrono_tz::Tz);

impl TimeZone {
    /// UTC, the default until a browser or the person says otherwise.
    pub const UTC: TimeZone = TimeZone(chrono_tz::UTC);

    /// Parses an IANA name, as browsers report it (`Intl.DateTimeFormat().resolvedOptions().timeZone`).
    pub fn parse(name: &str) -> Result<TimeZone, FieldError> {
        name.trim()
            .parse::<chrono_tz::Tz>()
            .map(TimeZone)
            .map_err(|_| FieldError::new("timezone", "Choose a timezone from the list (an IANA name such as Europe/Berlin)."))
    }

    /// A stored name; an unknown one (the database was edited by hand, or a zone was retired)
    /// falls back to UTC rather than failing every page.
    pub fn from_stored(name: &str) -> TimeZone {
        TimeZone::parse(name).unwrap_or(TimeZone::UTC)
    }

    /// The IANA name.
    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// The zone, for conversions.
    pub fn tz(self) -> chrono_tz::Tz {
        self.0
    }

    /// Every zone, for the Settings list.
    pub fn all() -> impl Iterator<Item = &'static str> {
        chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())
    }

    /// `2026-11-21 14:05 CET`: a UTC moment as this person reads it.
    pub fn format(self, moment: chrono::DateTime<chrono::Utc>) -> String {
        moment.with_timezone(&self.0).format("%Y-%m-%d %H:%M %Z").to_string()
    }
}

impl fmt::Display for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::TimeZone;
    use chrono::TimeZone as _;

    #[test]
    fn iana_names_parse_and_others_say_what_to_fix() {
        assert_eq!(TimeZone::parse(" Europe/Berlin ").unwrap().name(), "Europe/Berlin");
        let err = TimeZone::parse("CEST+2").unwrap_err();
        assert_eq!(err.field, "timezone");
        assert_eq!(TimeZone::from_stored("Mars/Olympus"), TimeZone::UTC);
        assert!(TimeZone::all().any(|n| n == "America/New_York"));
    }

    #[test]
    fn moments_are_shown_in_the_zone_with_daylight_saving() {
        let berlin = TimeZone::parse("Europe/Berlin").unwrap();
        let winter = chrono::Utc.with_ymd_and_hms(2026, 11, 21, 13, 5, 0).unwrap();
        let summer = chrono::Utc.with_ymd_and_hms(2026, 7, 1, 13, 5, 0).unwrap();
        assert_eq!(berlin.format(winter), "2026-11-21 14:05 CET");
        assert_eq!(berlin.format(summer), "2026-07-01 15:05 CEST");
    }
}
