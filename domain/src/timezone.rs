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

    /// The first moment of `day` in this zone. Where the clocks skip midnight, the day starts at
    /// the first moment that exists.
    pub fn start_of_day(self, day: chrono::NaiveDate) -> chrono::DateTime<chrono::Utc> {
        use chrono::TimeZone as _;
        let midnight = day.and_hms_opt(0, 0, 0).expect("midnight exists");
        self.0
            .from_local_datetime(&midnight)
            .earliest()
            .or_else(|| self.0.from_local_datetime(&(midnight + chrono::TimeDelta::hours(1))).earliest())
            .map(|t| t.with_timezone(&chrono::Utc))
            .unwrap_or_else(|| midnight.and_utc())
    }

    /// A range of whole days typed as `YYYY-MM-DD` (both inclusive, `until` by default today and
    /// `from` by default `default_days` before it), as UTC moments `[start of from, end of until)`.
    /// Also answers the two dates, for showing the range back.
    pub fn day_range(
        self,
        from: &str,
        until: &str,
        default_days: i64,
        today: chrono::DateTime<chrono::Utc>,
    ) -> Result<DayRange, crate::FieldError> {
        let last = parse_day("until", until)?.unwrap_or_else(|| today.with_timezone(&self.0).date_naive());
        let first = parse_day("from", from)?.unwrap_or(last - chrono::TimeDelta::days(default_days - 1));
        if first > last {
            return Err(crate::FieldError::new("from", "The first day must not be after the last."));
        }
        if (last - first).num_days() > 3660 {
            return Err(crate::FieldError::new("from", "Choose a range of at most ten years."));
        }
        Ok(DayRange { first, last, from: self.start_of_day(first), until: self.start_of_day(last + chrono::TimeDelta::days(1)) })
    }

    /// `2026-11-21 14:05 CET`: a UTC moment as this person reads it.
    pub fn format(self, moment: chrono::DateTime<chrono::Utc>) -> String {
        moment.with_timezone(&self.0).format("%Y-%m-%d %H:%M %Z").to_string()
    }

    /// [`TimeZone::format`] with the moment in UTC beside it, `2026-11-21 14:05 CET (2026-11-21
    /// 13:05 UTC)`, for saying when a post goes out; the same alone for someone who lives in UTC.
    pub fn format_with_utc(self, moment: chrono::DateTime<chrono::Utc>) -> String {
        let shown = self.format(moment);
        if self.0 == chrono_tz::UTC { shown } else { format!("{shown} ({} UTC)", moment.format("%Y-%m-%d %H:%M")) }
    }
}

/// The first year a date or time field accepts.
pub const FIRST_YEAR: i32 = 1970;
/// The last year a date or time field accepts. Every field stays far inside what the calendar
/// arithmetic (a month's next month, a week's Monday, a range's start) can compute, so no input
/// can make it overflow.
pub const LAST_YEAR: i32 = 2199;

/// Whether a moment lies within the years a field accepts ([`FIRST_YEAR`] to [`LAST_YEAR`]).
pub fn is_supported(moment: chrono::DateTime<chrono::Utc>) -> bool {
    use chrono::Datelike;
    (FIRST_YEAR..=LAST_YEAR).contains(&moment.year())
}

/// A day typed as `YYYY-MM-DD` into `field` (`None` when empty), between [`FIRST_YEAR`] and
/// [`LAST_YEAR`], with an error that says what to type.
pub fn parse_day(field: &str, raw: &str) -> Result<Option<chrono::NaiveDate>, crate::FieldError> {
    use chrono::Datelike;
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let day =
        chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| crate::FieldError::new(field, "Give a date as YYYY-MM-DD."))?;
    if !(FIRST_YEAR..=LAST_YEAR).contains(&day.year()) {
        return Err(crate::FieldError::new(field, format!("Give a date between {FIRST_YEAR} and {LAST_YEAR}.")));
    }
    Ok(Some(day))
}

/// A range of whole days in a zone (see [`TimeZone::day_range`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DayRange {
    /// The first day.
    pub first: chrono::NaiveDate,
    /// The last day (inclusive).
    pub last: chrono::NaiveDate,
    /// The first day's first moment.
    pub from: chrono::DateTime<chrono::Utc>,
    /// The moment after the last day.
    pub until: chrono::DateTime<chrono::Utc>,
}

impl DayRange {
    /// How many days it covers.
    pub fn days(&self) -> i64 {
        (self.last - self.first).num_days() + 1
    }

    /// How a chart cuts it: hours for a day or two, days otherwise. The number of steps, and
    /// their name.
    pub fn chart_steps(&self) -> (u32, &'static str) {
        let days = u32::try_from(self.days()).unwrap_or(u32::MAX);
        if days <= 2 { (days * 24, "hour") } else { (days, "day") }
    }
}

/// A wall-clock time in a zone, resolved to UTC the way a person expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LocalTime {
    /// The time exists once.
    Exact(chrono::DateTime<chrono::Utc>),
    /// The clocks skip this time (spring forward): it does not exist. `after_gap` is the first
    /// moment after the gap, at the same distance from the gap's start (02:30 → 03:30 in
    /// Berlin), offered instead of shifting silently.
    Gap {
        /// The suggested moment after the gap.
        after_gap: chrono::DateTime<chrono::Utc>,
    },
    /// The clocks repeat this time (fall back): it happens twice, and the person must choose.
    Ambiguous {
        /// The first occurrence (summer time).
        earlier: chrono::DateTime<chrono::Utc>,
        /// The second occurrence (standard time).
        later: chrono::DateTime<chrono::Utc>,
    },
}

impl TimeZone {
    /// Resolves a wall-clock time entered in this zone.
    pub fn resolve(self, local: chrono::NaiveDateTime) -> LocalTime {
        use chrono::Offset as _;
        use chrono::TimeZone as _;
        use chrono::offset::LocalResult;
        let utc = |t: chrono::DateTime<chrono_tz::Tz>| t.with_timezone(&chrono::Utc);
        match self.0.from_local_datetime(&local) {
            LocalResult::Single(t) => LocalTime::Exact(utc(t)),
            LocalResult::Ambiguous(a, b) => {
                let (earlier, later) = if utc(a) <= utc(b) { (utc(a), utc(b)) } else { (utc(b), utc(a)) };
                LocalTime::Ambiguous { earlier, later }
            }
            LocalResult::None => {
                // Read the wall time with the offset in force just before the gap: that lands as far
                // past the gap's end as the wall time was past its start.
                let before = local - chrono::TimeDelta::hours(3);
                let offset = match self.0.from_local_datetime(&before) {
                    LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.offset().fix(),
                    LocalResult::None => chrono::FixedOffset::east_opt(0).expect("zero offset"),
                };
                let after_gap = (local - chrono::TimeDelta::seconds(i64::from(offset.local_minus_utc()))).and_utc();
                LocalTime::Gap { after_gap }
            }
        }
    }
}

impl fmt::Display for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which of two moments a wall-clock time that happens twice (clocks going back) means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Occurrence {
    /// The first time the clock shows it (still on summer time).
    Earlier,
    /// The second time.
    Later,
}

impl TimeZone {
    /// A schedule time typed as `YYYY-MM-DDTHH:MM` (a `datetime-local` input) in this zone, as a
    /// UTC moment. A time that does not exist (the clocks skip it) or happens twice is never
    /// shifted silently: the error says what happens at that time and what to choose, under the
    /// field `scheduled_at` (gap) or `occurrence` (overlap, answered by `occurrence`).
    pub fn schedule_time(self, typed: &str, occurrence: Option<Occurrence>) -> Result<chrono::DateTime<chrono::Utc>, FieldError> {
        let typed = typed.trim();
        let local = chrono::NaiveDateTime::parse_from_str(typed, "%Y-%m-%dT%H:%M")
            .or_else(|_| chrono::NaiveDateTime::parse_from_str(typed, "%Y-%m-%dT%H:%M:%S"))
            .or_else(|_| chrono::NaiveDateTime::parse_from_str(typed, "%Y-%m-%d %H:%M"))
            .map_err(|_| FieldError::new("scheduled_at", "Give the date and time to publish at, for example 2026-12-01 09:30."))?;
        {
            use chrono::Datelike;
            if !(FIRST_YEAR..=LAST_YEAR).contains(&local.year()) {
                return Err(FieldError::new("scheduled_at", format!("Give a time between {FIRST_YEAR} and {LAST_YEAR}.")));
            }
        }
        let shown = local.format("%Y-%m-%d %H:%M");
        match self.resolve(local) {
            LocalTime::Exact(moment) => Ok(moment),
            LocalTime::Gap { after_gap } => Err(FieldError::new(
                "scheduled_at",
                format!(
                    "{shown} does not exist in {}: the clocks go forward then. Choose another time, for example {}.",
                    self.name(),
                    self.format(after_gap)
                ),
            )),
            LocalTime::Ambiguous { earlier, later } => match occurrence {
                Some(Occurrence::Earlier) => Ok(earlier),
                Some(Occurrence::Later) => Ok(later),
                None => Err(FieldError::new(
                    "occurrence",
                    format!(
                        "{shown} happens twice in {}: the clocks go back then. Choose the first ({} UTC) or the second ({} UTC).",
                        self.name(),
                        earlier.format("%H:%M"),
                        later.format("%H:%M")
                    ),
                )),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::TimeZone;
    use chrono::TimeZone as _;

    #[test]
    fn a_moment_is_said_in_the_persons_zone_and_in_utc_once() {
        let at = chrono::Utc.with_ymd_and_hms(2026, 11, 21, 13, 5, 0).unwrap();
        let berlin = TimeZone::parse("Europe/Berlin").unwrap();
        assert_eq!(berlin.format_with_utc(at), "2026-11-21 14:05 CET (2026-11-21 13:05 UTC)");
        assert_eq!(TimeZone::UTC.format_with_utc(at), "2026-11-21 13:05 UTC", "not twice for someone in UTC");
    }

    #[test]
    fn a_day_range_covers_whole_local_days_across_a_dst_change() {
        let berlin = TimeZone::parse("Europe/Berlin").unwrap();
        let now = chrono::Utc.with_ymd_and_hms(2026, 10, 26, 12, 0, 0).unwrap();
        let range = berlin.day_range("2026-10-25", "", 30, now).unwrap();
        assert_eq!(range.days(), 2);
        assert_eq!(range.from, chrono::Utc.with_ymd_and_hms(2026, 10, 24, 22, 0, 0).unwrap(), "midnight CEST");
        assert_eq!(range.until, chrono::Utc.with_ymd_and_hms(2026, 10, 26, 23, 0, 0).unwrap(), "the next midnight, CET: 25 h later");
        let default = berlin.day_range("", "", 30, now).unwrap();
        assert_eq!((default.days(), default.last.to_string()), (30, "2026-10-26".to_owned()));
        assert_eq!(berlin.day_range("2026-11-02", "2026-11-01", 30, now).unwrap_err().field, "from");
        assert_eq!(berlin.day_range("", "yesterday", 30, now).unwrap_err().field, "until");
    }

    #[test]
    fn iana_names_parse_and_others_say_what_to_fix() {
        assert_eq!(TimeZone::parse(" Europe/Berlin ").unwrap().name(), "Europe/Berlin");
        let err = TimeZone::parse("CEST+2").unwrap_err();
        assert_eq!(err.field, "timezone");
        assert_eq!(TimeZone::from_stored("Mars/Olympus"), TimeZone::UTC);
        assert!(TimeZone::all().any(|n| n == "America/New_York"));
    }

    #[test]
    fn wall_times_in_a_dst_gap_or_overlap_are_explained_not_shifted() {
        use super::LocalTime;
        use chrono::NaiveDate;
        let berlin = TimeZone::parse("Europe/Berlin").unwrap();
        let at = |d: u32, m: u32, h: u32, min: u32| NaiveDate::from_ymd_opt(2026, m, d).unwrap().and_hms_opt(h, min, 0).unwrap();
        let utc = |m: u32, d: u32, h: u32, min: u32| chrono::Utc.with_ymd_and_hms(2026, m, d, h, min, 0).unwrap();

        // 2026-03-29 02:30 does not exist in Berlin (02:00 CET → 03:00 CEST): 03:30 CEST is offered.
        assert_eq!(berlin.resolve(at(29, 3, 2, 30)), LocalTime::Gap { after_gap: utc(3, 29, 1, 30) });
        assert_eq!(berlin.format(utc(3, 29, 1, 30)), "2026-03-29 03:30 CEST");
        // 2026-10-25 02:30 happens twice (03:00 CEST → 02:00 CET).
        assert_eq!(berlin.resolve(at(25, 10, 2, 30)), LocalTime::Ambiguous { earlier: utc(10, 25, 0, 30), later: utc(10, 25, 1, 30) });
        // An ordinary time is exact.
        assert_eq!(berlin.resolve(at(21, 11, 14, 5)), LocalTime::Exact(utc(11, 21, 13, 5)));
    }

    #[test]
    fn schedule_times_in_a_dst_change_are_explained_never_shifted() {
        use super::Occurrence;
        let utc = |m: u32, d: u32, h: u32, min: u32| chrono::Utc.with_ymd_and_hms(2026, m, d, h, min, 0).unwrap();
        let berlin = TimeZone::parse("Europe/Berlin").unwrap();
        let gap = berlin.schedule_time("2026-03-29T02:30", None).unwrap_err();
        assert_eq!(gap.field, "scheduled_at");
        assert!(gap.message.contains("does not exist") && gap.message.contains("2026-03-29 03:30 CEST"), "{}", gap.message);
        let twice = berlin.schedule_time("2026-10-25T02:30", None).unwrap_err();
        assert_eq!(twice.field, "occurrence");
        assert!(
            twice.message.contains("happens twice") && twice.message.contains("00:30 UTC") && twice.message.contains("01:30 UTC"),
            "{}",
            twice.message
        );
        assert_eq!(berlin.schedule_time("2026-10-25T02:30", Some(Occurrence::Earlier)).unwrap(), utc(10, 25, 0, 30));
        assert_eq!(berlin.schedule_time("2026-10-25T02:30", Some(Occurrence::Later)).unwrap(), utc(10, 25, 1, 30));
        assert_eq!(berlin.schedule_time("2026-11-21T14:05", None).unwrap(), utc(11, 21, 13, 5));
        assert_eq!(berlin.schedule_time("tomorrow", None).unwrap_err().field, "scheduled_at");
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
