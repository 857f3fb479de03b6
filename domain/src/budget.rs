//! Crier's own per-account call budgets: how many calls an account may make per window, so
//! Crier waits before a platform refuses. One [`Budget`] per platform ([`Budgets`]), with the
//! product brief's defaults written here once ([`default_budget`]); a setting reads and prints
//! them as `CALLS/WINDOW` (`300/15m`) or `none`.

use std::fmt;
use std::ops::Index;
use std::time::Duration;

use crier_platform::{PerPlatform, Platform};

/// How many calls an account may make per window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// Calls per window.
    pub limit: i32,
    /// The window.
    pub window: Duration,
}

/// The product brief's limits: X 300 posts per 15 minutes, LinkedIn 100 per day; Facebook has
/// none of Crier's own (Meta's usage headers still pause a Page near its limit).
pub fn default_budget(platform: Platform) -> Option<Budget> {
    match platform {
        Platform::X => Some(Budget { limit: 300, window: Duration::from_secs(15 * 60) }),
        Platform::Linkedin => Some(Budget { limit: 100, window: Duration::from_secs(24 * 3600) }),
        Platform::Facebook => None,
    }
}

impl Budget {
    /// Parses `CALLS/WINDOW` with the window in s, m, h or d (`300/15m`), or `none` (`None`).
    pub fn parse(text: &str) -> Result<Option<Budget>, String> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("none") {
            return Ok(None);
        }
        let problem = || format!("`{text}` is not a budget like 300/15m (calls per window in s, m, h or d) or `none`");
        let (calls, window) = text.split_once('/').ok_or_else(problem)?;
        let limit: i32 = calls.trim().parse().map_err(|_| problem())?;
        let window = window.trim();
        let (number, unit) = window.split_at(window.len().saturating_sub(1));
        let number: u64 = number.parse().map_err(|_| problem())?;
        let unit_seconds = match unit {
            "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86_400,
            _ => return Err(problem()),
        };
        let seconds = number.checked_mul(unit_seconds).filter(|s| *s > 0).ok_or_else(problem)?;
        if limit < 1 {
            return Err(problem());
        }
        Ok(Some(Budget { limit, window: Duration::from_secs(seconds) }))
    }

    /// `budget` as [`Budget::parse`] reads it: `300/15m`, or `none`.
    pub fn describe(budget: Option<Budget>) -> String {
        budget.map_or_else(|| "none".to_owned(), |b| b.to_string())
    }
}

impl fmt::Display for Budget {
    /// The largest whole unit the window is a multiple of: `300/15m`, `100/1d`, `10/90s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.window.as_secs();
        let (number, unit) = [(86_400, "d"), (3600, "h"), (60, "m")]
            .into_iter()
            .find(|(size, _)| secs % size == 0)
            .map_or((secs, "s"), |(size, unit)| (secs / size, unit));
        write!(f, "{}/{number}{unit}", self.limit)
    }
}

/// Each platform's budget (`None`: no budget of Crier's own; the platform's rate-limit headers and
/// 429s still pause the account).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budgets(pub PerPlatform<Option<Budget>>);

impl Default for Budgets {
    /// [`default_budget`] for each platform.
    fn default() -> Self {
        Budgets(PerPlatform::from_fn(default_budget))
    }
}

impl Index<Platform> for Budgets {
    type Output = Option<Budget>;

    fn index(&self, platform: Platform) -> &Option<Budget> {
        &self.0[platform]
    }
}

impl Budgets {
    /// These budgets with `platform`'s replaced.
    pub fn with(mut self, platform: Platform, budget: Option<Budget>) -> Self {
        self.0[platform] = budget;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_parse_from_calls_per_window() {
        assert_eq!(Budget::parse("300/15m").unwrap(), Some(Budget { limit: 300, window: Duration::from_secs(900) }));
        assert_eq!(Budget::parse(" 100/1d ").unwrap(), Some(Budget { limit: 100, window: Duration::from_secs(86_400) }));
        assert_eq!(Budget::parse("None").unwrap(), None);
        for bad in ["300", "x/15m", "300/15", "0/1m", "300/0s", "300/15w", "1/99999999999999999d"] {
            let err = Budget::parse(bad).unwrap_err();
            assert!(err.contains(bad), "{err}");
        }
    }

    #[test]
    fn budgets_print_as_they_parse() {
        for text in ["300/15m", "100/1d", "10/90s", "5/2h", "none"] {
            assert_eq!(Budget::describe(Budget::parse(text).unwrap()), text);
        }
        let defaults = Budgets::default();
        assert_eq!(Budget::describe(defaults[Platform::X]), "300/15m");
        assert_eq!(Budget::describe(defaults[Platform::Linkedin]), "100/1d");
        assert_eq!(defaults[Platform::Facebook], None);
    }
}
