//! An account's weekly posting schedule: the times of each weekday at which its queue publishes,
//! in a timezone chosen for the account, and the moments those times fall on.
//!
//! A slot's wall-clock time may not exist on a given day (the clocks skip it: 02:30 when summer
//! time starts) or may happen twice (they repeat it: 02:30 when it ends). Neither is moved
//! silently: a skipped time goes out at the moment after the gap at the same distance from its
//! start (02:30 → 03:30), a repeated one at its first occurrence, and each such slot carries a
//! sentence saying so, which the queue shows beside the post.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, NaiveTime, TimeDelta, Utc, Weekday};

use crate::FieldError;
use crate::timezone::{LocalTime, TimeZone};

/// The most slots a week may have (ten a day).
pub const MAX_SLOTS: usize = 70;
/// How far ahead slots are looked for: a queue never reaches further than a year.
pub const HORIZON_DAYS: i64 = 366;

/// One weekly time: a weekday and a minute of the day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Slot {
    /// Monday is 1, Sunday 7 (ISO 8601).
    pub weekday: u8,
    /// Minutes after midnight, 0–1439.
    pub minute: u16,
}

impl Slot {
    /// The slot, if `weekday` is 1–7 and `minute` 0–1439.
    pub fn new(weekday: u8, minute: u16) -> Option<Slot> {
        ((1..=7).contains(&weekday) && minute < 1440).then_some(Slot { weekday, minute })
    }

    /// Its weekday.
    pub fn day(self) -> Weekday {
        Weekday::try_from(self.weekday - 1).unwrap_or(Weekday::Mon)
    }

    /// Its wall-clock time.
    pub fn time(self) -> NaiveTime {
        NaiveTime::from_hms_opt(u32::from(self.minute / 60), u32::from(self.minute % 60), 0).unwrap_or(NaiveTime::MIN)
    }

    /// `Mon 09:30`.
    pub fn label(self) -> String {
        format!("{} {}", weekday_short(self.day()), self.time().format("%H:%M"))
    }
}

/// `Mon`, `Tue`…
pub fn weekday_short(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "Mon",
        Weekday::Tue => "Tue",
        Weekday::Wed => "Wed",
        Weekday::Thu => "Thu",
        Weekday::Fri => "Fri",
        Weekday::Sat => "Sat",
        Weekday::Sun => "Sun",
    }
}

/// An account's week of slots in its timezone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WeeklySchedule {
    /// The zone the times are in.
    pub timezone: TimeZone,
    /// The slots, in week order.
    pub slots: BTreeSet<Slot>,
}

/// One moment a schedule's slot falls on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlotTime {
    /// When it goes out.
    pub at: DateTime<Utc>,
    /// Why it is not at the slot's wall-clock time that day (a gap or a repeat), in words.
    pub note: Option<String>,
}

impl WeeklySchedule {
    /// Parses the schedule form: `times` holds, per weekday (Monday first), the times of day
    /// typed as `09:00, 12:30 17:45` (commas or spaces between them).
    pub fn parse(timezone: &str, times: &[String; 7]) -> Result<WeeklySchedule, FieldError> {
        let timezone = TimeZone::parse(timezone)?;
        let mut slots = BTreeSet::new();
        for (index, typed) in times.iter().enumerate() {
            let weekday = u8::try_from(index + 1).unwrap_or(1);
            let field = format!("times_{weekday}");
            if typed.len() > 400 {
                return Err(FieldError::new(&field, "Give at most ten times a day."));
            }
            for word in typed.split([',', ' ', ';']).map(str::trim).filter(|w| !w.is_empty()) {
                let time = NaiveTime::parse_from_str(word, "%H:%M").map_err(|_| {
                    FieldError::new(&field, format!("“{word}” is not a time: write times of day as HH:MM, e.g. 09:00, 17:30."))
                })?;
                let minute = u16::try_from(time.signed_duration_since(NaiveTime::MIN).num_minutes()).unwrap_or(0);
                slots.insert(Slot { weekday, minute });
            }
        }
        if slots.len() > MAX_SLOTS {
            return Err(FieldError::new("times_1", format!("A week may have at most {MAX_SLOTS} times.")));
        }
        Ok(WeeklySchedule { timezone, slots })
    }

    /// The times of `weekday` (1–7) as the form shows them: `09:00, 12:30`.
    pub fn times_of(&self, weekday: u8) -> String {
        self.slots.iter().filter(|s| s.weekday == weekday).map(|s| s.time().format("%H:%M").to_string()).collect::<Vec<_>>().join(", ")
    }

    /// The moments after `after`, in order, for at most [`HORIZON_DAYS`] days: each slot's
    /// wall-clock time resolved in the schedule's zone as the module documentation says.
    pub fn after(&self, after: DateTime<Utc>) -> impl Iterator<Item = SlotTime> + '_ {
        let start = after.with_timezone(&self.timezone.tz()).date_naive();
        let mut last = after;
        (0..HORIZON_DAYS)
            .flat_map(move |offset| {
                let day = start + TimeDelta::days(offset);
                let weekday = u8::try_from(day.weekday().number_from_monday()).unwrap_or(1);
                self.slots.iter().filter(move |s| s.weekday == weekday).map(move |slot| (day, *slot))
            })
            .filter_map(move |(day, slot)| {
                let local = day.and_time(slot.time());
                let shown = || format!("{} on {}", slot.time().format("%H:%M"), day.format("%Y-%m-%d"));
                let (at, note) = match self.timezone.resolve(local) {
                    LocalTime::Exact(at) => (at, None),
                    LocalTime::Gap { after_gap } => (
                        after_gap,
                        Some(format!(
                            "{} does not exist in {} (the clocks go forward): it goes out at {}.",
                            shown(),
                            self.timezone.name(),
                            self.timezone.format(after_gap)
                        )),
                    ),
                    LocalTime::Ambiguous { earlier, .. } => (
                        earlier,
                        Some(format!(
                            "{} happens twice in {} (the clocks go back): it goes out the first time, {}.",
                            shown(),
                            self.timezone.name(),
                            self.timezone.format(earlier)
                        )),
                    ),
                };
                // Strictly after `after`, and never twice at one moment (a gap can land a slot on
                // the next one's time).
                if at <= last {
                    return None;
                }
                last = at;
                Some(SlotTime { at, note })
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn week(zone: &str, monday: &str, sunday: &str) -> WeeklySchedule {
        let mut times: [String; 7] = Default::default();
        times[0] = monday.into();
        times[6] = sunday.into();
        WeeklySchedule::parse(zone, &times).unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn the_form_parses_with_errors_that_name_the_day() {
        let schedule = week("Europe/Berlin", "17:30, 09:00 09:00", "");
        assert_eq!(schedule.times_of(1), "09:00, 17:30", "sorted, once each");
        let mut times: [String; 7] = Default::default();
        times[2] = "9am".into();
        let error = WeeklySchedule::parse("Europe/Berlin", &times).unwrap_err();
        assert_eq!(error.field, "times_3");
        assert!(error.message.contains("“9am”"));
        assert_eq!(WeeklySchedule::parse("Mars/Olympus", &Default::default()).unwrap_err().field, "timezone");
    }

    #[test]
    fn slots_follow_in_order_in_the_schedules_zone() {
        // Monday 2026-12-07 08:00 UTC is 09:00 in Berlin: the 09:00 slot has passed at that moment.
        let schedule = week("Europe/Berlin", "09:00, 17:30", "");
        let next: Vec<_> = schedule.after(utc("2026-12-07T08:00:00Z")).take(3).map(|s| s.at).collect();
        assert_eq!(next, vec![utc("2026-12-07T16:30:00Z"), utc("2026-12-14T08:00:00Z"), utc("2026-12-14T16:30:00Z")]);
        assert_eq!(WeeklySchedule { slots: BTreeSet::new(), ..schedule }.after(utc("2026-12-07T08:00:00Z")).next(), None);
    }

    #[test]
    fn a_skipped_or_repeated_time_is_resolved_and_explained() {
        // Berlin: 2027-03-28 (a Sunday) skips 02:00–03:00; 2026-10-25 (a Sunday) repeats 02:00–03:00.
        let schedule = week("Europe/Berlin", "", "02:30");
        let spring = schedule.after(utc("2027-03-27T00:00:00Z")).next().unwrap();
        assert_eq!(spring.at, utc("2027-03-28T01:30:00Z"), "03:30 CEST");
        assert!(spring.note.unwrap().contains("does not exist"));
        let autumn = schedule.after(utc("2026-10-24T00:00:00Z")).next().unwrap();
        assert_eq!(autumn.at, utc("2026-10-25T00:30:00Z"), "the first 02:30, still CEST");
        assert!(autumn.note.unwrap().contains("happens twice"));
    }
}
