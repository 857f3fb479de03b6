//! Crier's own per-account call budgets: how many calls an account may make per window, so
//! Crier waits before a platform refuses. Two things are counted apart, as the platforms count
//! them ([`Counted`]): posts, and media upload calls. One [`Budget`] per platform and thing
//! ([`Budgets`]), with the defaults written here once ([`Counted::default_budget`]); a setting
//! reads and prints them as `CALLS/WINDOW` (`300/15m`) or `none`.

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

/// What a budget counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counted {
    /// Posts (a thread's parts each count): spent when a delivery is claimed.
    Posts,
    /// Media upload calls (each upload, chunk, finalize and alt-text call; not status polls):
    /// spent before each item is uploaded, by the calls it will make.
    MediaCalls,
}

impl Counted {
    /// Both, in the order settings list them.
    pub const ALL: [Counted; 2] = [Counted::Posts, Counted::MediaCalls];

    /// The defaults. Posts, the product brief's limits: X 300 per 15 minutes, LinkedIn 100 per
    /// day. Media calls, X's published per-user limit of its tightest media endpoints (one-shot
    /// upload and alt text: 500 per 15 minutes; initialize, append and finalize allow 1,875 each,
    /// so counting every call against 500 is the safe reading); LinkedIn publishes none.
    /// Facebook has none of Crier's own (Meta's usage headers still pause a Page near its limit).
    pub fn default_budget(self, platform: Platform) -> Option<Budget> {
        let fifteen_minutes = Duration::from_secs(15 * 60);
        match (self, platform) {
            (Counted::Posts, Platform::X) => Some(Budget { limit: 300, window: fifteen_minutes }),
            (Counted::Posts, Platform::Linkedin) => Some(Budget { limit: 100, window: Duration::from_secs(24 * 3600) }),
            (Counted::MediaCalls, Platform::X) => Some(Budget { limit: 500, window: fifteen_minutes }),
            (_, Platform::Facebook) | (Counted::MediaCalls, Platform::Linkedin) => None,
        }
    }

    /// What is counted, in words, for settings' help.
    pub fn noun(self) -> &'static str {
        match self {
            Counted::Posts => "posts",
            Counted::MediaCalls => "media upload calls",
        }
    }
}

/// The posting budget's default ([`Counted::default_budget`] of posts).
pub fn default_budget(platform: Platform) -> Option<Budget> {
    Counted::Posts.default_budget(platform)
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
            .find(|(size, _)| secs.is_multiple_of(*size))
            .map_or((secs, "s"), |(size, unit)| (secs / size, unit));
        write!(f, "{}/{number}{unit}", self.limit)
    }
}

/// Each platform's budget (`None`: no budget of Crier's own; the platform's rate-limit headers and
/// 429s still pause the account).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budgets(pub PerPlatform<Option<Budget>>);

impl Default for Budgets {
    /// The posting budgets' defaults.
    fn default() -> Self {
        Budgets::defaults(Counted::Posts)
    }
}

impl Index<Platform> for Budgets {
    type Output = Option<Budget>;

    fn index(&self, platform: Platform) -> &Option<Budget> {
        &self.0[platform]
    }
}

impl Budgets {
    /// The defaults of what `counted` counts, for each platform.
    pub fn defaults(counted: Counted) -> Self {
        Budgets(PerPlatform::from_fn(|p| counted.default_budget(p)))
    }

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
        let media = Budgets::defaults(Counted::MediaCalls);
        assert_eq!(Budget::describe(media[Platform::X]), "500/15m");
        assert_eq!(media[Platform::Linkedin], None);
    }
}
