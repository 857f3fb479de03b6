//! Feed polling settings: how often one feed is polled at most. Read by `crier serve` (every web
//! process polls the teams' feeds beside its notifier).

use std::time::Duration;

use clap::Args;

use super::{ConfigError, bad};

/// The default, in minutes (`crier_publisher::feeds::DEFAULT_MIN_INTERVAL`).
pub const DEFAULT_MIN_INTERVAL_MINUTES: u64 = crier_publisher::feeds::DEFAULT_MIN_INTERVAL.as_secs() / 60;

/// The longest interval any configuration may set: a day.
const MAX_MIN_INTERVAL_MINUTES: u64 = 24 * 60;

/// The command line's and environment's feed settings.
#[derive(Args, Clone, Debug)]
pub struct FeedsArgs {
    /// Minutes between two polls of one RSS or Atom feed, at least (1 to 1440). A failing feed
    /// waits twice as long after each failure, up to a day.
    #[arg(long = "feeds-min-interval", env = "CRIER_FEEDS_MIN_INTERVAL", default_value_t = DEFAULT_MIN_INTERVAL_MINUTES)]
    pub min_interval_minutes: u64,
}

impl Default for FeedsArgs {
    /// The command line's defaults.
    fn default() -> Self {
        FeedsArgs { min_interval_minutes: DEFAULT_MIN_INTERVAL_MINUTES }
    }
}

impl FeedsArgs {
    /// The interval; a bad value names its variable.
    pub fn parse(&self) -> Result<Duration, ConfigError> {
        if !(1..=MAX_MIN_INTERVAL_MINUTES).contains(&self.min_interval_minutes) {
            return Err(bad(
                "CRIER_FEEDS_MIN_INTERVAL",
                format!("is {}; give the minutes between two polls of a feed, 1 to {MAX_MIN_INTERVAL_MINUTES}", self.min_interval_minutes),
            ));
        }
        Ok(Duration::from_secs(self.min_interval_minutes * 60))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_bounds() {
        assert_eq!(FeedsArgs::default().parse().unwrap(), crier_publisher::feeds::DEFAULT_MIN_INTERVAL);
        assert_eq!(FeedsArgs { min_interval_minutes: 5 }.parse().unwrap(), Duration::from_secs(300));
        for bad in [0, 1441] {
            assert!(FeedsArgs { min_interval_minutes: bad }.parse().unwrap_err().to_string().contains("CRIER_FEEDS_MIN_INTERVAL"));
        }
    }
}
