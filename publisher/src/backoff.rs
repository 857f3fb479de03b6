//! When a temporarily failed delivery is tried again: `base × 2^(failures − 1)`, at most 4 hours
//! (the product brief: with a 5-minute base, 5, 10, 20 and 40 minutes).

use std::time::Duration;

/// No retry waits longer than this.
pub const MAX_DELAY: Duration = Duration::from_secs(4 * 3600);

/// The wait before the next attempt after the `failures`-th temporary failure (1 for the first).
pub fn retry_delay(base_seconds: i32, failures: i16) -> Duration {
    let base = u64::try_from(base_seconds.max(1)).unwrap_or(1);
    let exponent = u32::try_from(failures.max(1) - 1).unwrap_or(0).min(32);
    let delay = base.saturating_mul(1u64 << exponent);
    Duration::from_secs(delay).min(MAX_DELAY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_brief_schedule_doubles_from_five_minutes() {
        let minutes: Vec<u64> = (1..=4).map(|f| retry_delay(300, f).as_secs() / 60).collect();
        assert_eq!(minutes, [5, 10, 20, 40]);
    }

    #[test]
    fn the_delay_is_capped_at_four_hours_however_many_failures() {
        assert_eq!(retry_delay(300, 7), MAX_DELAY, "300 s × 64 = 5 h 20 min → capped");
        assert_eq!(retry_delay(300, i16::MAX), MAX_DELAY);
        assert_eq!(retry_delay(1, 1), Duration::from_secs(1));
        assert_eq!(retry_delay(0, 0), Duration::from_secs(1), "nonsense input still waits");
    }
}
