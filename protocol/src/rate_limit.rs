//! Rate-limit headers: how much budget an account has left and when it comes back.
//!
//! - X sends counts and an epoch-seconds reset for the 15-minute window and, on POST /2/tweets, for
//!   the 24-hour per-user and per-app caps (platforms.md §1.5).
//! - Meta sends usage percentages in JSON headers, and per business id an
//!   `estimated_time_to_regain_access` in minutes (§3.4).
//! - LinkedIn sends nothing; its daily limits reset at 00:00 UTC (§2.6).

use chrono::{DateTime, Days, TimeDelta, Utc};
use http::HeaderMap;
use serde_json::Value;

use crate::common::{header_u64, u64_of};

/// One rate-limit window as the platform reported it. Every field is optional because each
/// platform reports a different subset (X: counts and reset; Meta: a percentage; LinkedIn: nothing).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RateBudget {
    /// Calls allowed in the window.
    pub limit: Option<u32>,
    /// Calls left in the window.
    pub remaining: Option<u32>,
    /// When the window resets (X) or access comes back (Meta BUC).
    pub reset_at: Option<DateTime<Utc>>,
    /// Meta: the highest of the usage percentages (0–100; throttling starts at 100).
    pub usage_percent: Option<u8>,
}

impl RateBudget {
    /// Whether the next call is expected to be refused: no calls left, or usage at 100 %.
    pub fn is_exhausted(&self) -> bool {
        self.remaining == Some(0) || self.usage_percent.is_some_and(|p| p >= 100)
    }

    /// The tighter of two windows: an exhausted one wins (the later reset if both are, since the
    /// account must wait for both); otherwise the one with fewer calls left.
    pub fn tighter(self, other: RateBudget) -> RateBudget {
        match (self.is_exhausted(), other.is_exhausted()) {
            (true, false) => self,
            (false, true) => other,
            (true, true) => {
                if other.reset_at > self.reset_at {
                    other
                } else {
                    self
                }
            }
            (false, false) => match (self.remaining, other.remaining) {
                (Some(a), Some(b)) if b < a => other,
                (Some(a), Some(b)) if a == b && other.reset_at > self.reset_at => other,
                (None, Some(_)) => other,
                _ => self,
            },
        }
    }
}

fn to_u32(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

fn epoch(secs: u64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(i64::try_from(secs).ok()?, 0)
}

/// One X window from its three headers `<prefix>-limit`, `-remaining`, `-reset`; `None` when none
/// of them is present.
fn x_window(headers: &HeaderMap, prefix: &str) -> Option<RateBudget> {
    let limit = header_u64(headers, &format!("{prefix}-limit")).map(to_u32);
    let remaining = header_u64(headers, &format!("{prefix}-remaining")).map(to_u32);
    let reset_at = header_u64(headers, &format!("{prefix}-reset")).and_then(epoch);
    if limit.is_none() && remaining.is_none() && reset_at.is_none() {
        return None;
    }
    Some(RateBudget { limit, remaining, reset_at, usage_percent: None })
}

/// X's 15-minute window: `x-rate-limit-limit/remaining/reset` (§1.5, official).
pub fn x_rate_limit(headers: &HeaderMap) -> Option<RateBudget> {
    x_window(headers, "x-rate-limit")
}

/// X's 24-hour per-user post cap: `x-user-limit-24hour-limit/remaining/reset` (§1.5, observed).
pub fn x_user_24h(headers: &HeaderMap) -> Option<RateBudget> {
    x_window(headers, "x-user-limit-24hour")
}

/// X's 24-hour per-app cap: `x-app-limit-24hour-limit/remaining/reset` (§1.5, observed). When it
/// is exhausted every account of this app waits, so it takes part in [`x_budget`] too.
pub fn x_app_24h(headers: &HeaderMap) -> Option<RateBudget> {
    x_window(headers, "x-app-limit-24hour")
}

/// The account's effective X budget: the tighter of the 15-minute, 24-hour per-user and 24-hour
/// per-app windows present. A 429 with `x-user-limit-24hour-remaining: 0` means waiting for the
/// 24-hour reset, not the 15-minute one (§1.5).
pub fn x_budget(headers: &HeaderMap) -> Option<RateBudget> {
    [x_rate_limit(headers), x_user_24h(headers), x_app_24h(headers)].into_iter().flatten().reduce(RateBudget::tighter)
}

/// Meta's app- or page-level usage (`X-App-Usage`, `X-Page-Usage`): percentages of the limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MetaUsage {
    /// Percentage of calls used.
    pub call_count: u32,
    /// Percentage of CPU time used.
    pub total_cputime: u32,
    /// Percentage of total time used.
    pub total_time: u32,
}

impl MetaUsage {
    fn from_json(v: &Value) -> MetaUsage {
        let pct = |k| u64_of(v.get(k)).map(to_u32).unwrap_or(0);
        MetaUsage { call_count: pct("call_count"), total_cputime: pct("total_cputime"), total_time: pct("total_time") }
    }

    /// The highest of the three, which is what throttling looks at (saturating at 255).
    pub fn percent(&self) -> u8 {
        u8::try_from(self.call_count.max(self.total_cputime).max(self.total_time)).unwrap_or(u8::MAX)
    }
}

/// Meta's usage for one business id and use-case type (`X-Business-Use-Case-Usage`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BucUsage {
    /// The business (for Pages: the Page) id the header is keyed by.
    pub business_id: String,
    /// The use case, e.g. `pages`.
    pub kind: Option<String>,
    /// The three percentages.
    pub usage: MetaUsage,
    /// `estimated_time_to_regain_access`, in **minutes** (§3.4; secondary sources agree on the unit).
    pub regain_access_minutes: u32,
}

fn header_json(headers: &HeaderMap, name: &str) -> Option<Value> {
    serde_json::from_slice(headers.get(name)?.as_bytes()).ok()
}

/// `X-App-Usage` (§3.4); `None` when absent (Meta omits it while usage is near 0 %) or unreadable.
pub fn meta_app_usage(headers: &HeaderMap) -> Option<MetaUsage> {
    header_json(headers, "x-app-usage").filter(Value::is_object).map(|v| MetaUsage::from_json(&v))
}

/// `X-Page-Usage` (§3.4); `None` when absent or unreadable.
pub fn meta_page_usage(headers: &HeaderMap) -> Option<MetaUsage> {
    header_json(headers, "x-page-usage").filter(Value::is_object).map(|v| MetaUsage::from_json(&v))
}

/// Every entry of `X-Business-Use-Case-Usage` (§3.4): `{"<business id>": [{"type", ...}, ...]}`.
pub fn meta_buc_usage(headers: &HeaderMap) -> Vec<BucUsage> {
    let Some(Value::Object(map)) = header_json(headers, "x-business-use-case-usage") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (business_id, entries) in &map {
        for entry in entries.as_array().into_iter().flatten() {
            out.push(BucUsage {
                business_id: business_id.clone(),
                kind: entry.get("type").and_then(Value::as_str).map(str::to_owned),
                usage: MetaUsage::from_json(entry),
                regain_access_minutes: u64_of(entry.get("estimated_time_to_regain_access")).map(to_u32).unwrap_or(0),
            });
        }
    }
    out
}

/// When Meta says access comes back: `now` + the largest non-zero `estimated_time_to_regain_access`
/// (minutes) in `X-Business-Use-Case-Usage`; `None` when the header is absent or all zeros.
pub fn meta_regain_access_at(headers: &HeaderMap, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let minutes = meta_buc_usage(headers).iter().map(|b| b.regain_access_minutes).max().filter(|m| *m > 0)?;
    Some(now + TimeDelta::minutes(i64::from(minutes)))
}

/// The account's Meta budget: the highest usage percentage among the app, page and business
/// headers, and the regain-access time when Meta gave one. `None` when no usage header is present.
pub fn meta_budget(headers: &HeaderMap, now: DateTime<Utc>) -> Option<RateBudget> {
    let buc = meta_buc_usage(headers);
    let percents: Vec<u8> = meta_app_usage(headers)
        .iter()
        .chain(meta_page_usage(headers).iter())
        .map(MetaUsage::percent)
        .chain(buc.iter().map(|b| b.usage.percent()))
        .collect();
    let usage_percent = percents.iter().copied().max()?;
    Some(RateBudget { limit: None, remaining: None, reset_at: meta_regain_access_at(headers, now), usage_percent: Some(usage_percent) })
}

/// LinkedIn's daily limits reset at midnight UTC (§2.6): the first 00:00 UTC strictly after `now`.
pub fn linkedin_reset_after(now: DateTime<Utc>) -> DateTime<Utc> {
    let tomorrow = now.date_naive().checked_add_days(Days::new(1)).expect("date in range");
    tomorrow.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (headers, expected remaining, expected reset epoch)
    type Row = (&'static [(&'static str, &'static str)], u32, i64);
    use chrono::TimeZone;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(secs, 0).unwrap()
    }

    /// platforms.md §1.5: the official example.
    #[test]
    fn x_15_minute_window() {
        let h = headers(&[("x-rate-limit-limit", "900"), ("x-rate-limit-remaining", "847"), ("x-rate-limit-reset", "1705420800")]);
        let b = x_rate_limit(&h).unwrap();
        assert_eq!(b, RateBudget { limit: Some(900), remaining: Some(847), reset_at: Some(at(1_705_420_800)), usage_percent: None });
        assert!(!b.is_exhausted());
        assert_eq!(x_budget(&h), Some(b));
        assert_eq!(x_budget(&HeaderMap::new()), None);
    }

    /// platforms.md §1.5: the 24-hour user cap (example values 100/99) is tighter than 847 left.
    #[test]
    fn x_tighter_window_wins() {
        let table: &[Row] = &[
            // (headers, expected remaining, expected reset)
            (
                &[
                    ("x-rate-limit-limit", "900"),
                    ("x-rate-limit-remaining", "847"),
                    ("x-rate-limit-reset", "1705420800"),
                    ("x-user-limit-24hour-limit", "100"),
                    ("x-user-limit-24hour-remaining", "99"),
                    ("x-user-limit-24hour-reset", "1705500000"),
                ],
                99,
                1_705_500_000,
            ),
            // Exhausted daily cap beats a 15-minute window with calls left.
            (
                &[
                    ("x-rate-limit-remaining", "5"),
                    ("x-rate-limit-reset", "1705420800"),
                    ("x-user-limit-24hour-remaining", "0"),
                    ("x-user-limit-24hour-reset", "1705500000"),
                ],
                0,
                1_705_500_000,
            ),
            // Both exhausted: the later reset, since both must pass.
            (
                &[
                    ("x-rate-limit-remaining", "0"),
                    ("x-rate-limit-reset", "1705600000"),
                    ("x-user-limit-24hour-remaining", "0"),
                    ("x-user-limit-24hour-reset", "1705500000"),
                ],
                0,
                1_705_600_000,
            ),
            // The app-wide daily cap counts too.
            (
                &[("x-rate-limit-remaining", "10"), ("x-app-limit-24hour-remaining", "0"), ("x-app-limit-24hour-reset", "1705700000")],
                0,
                1_705_700_000,
            ),
        ];
        for (pairs, remaining, reset) in table {
            let b = x_budget(&headers(pairs)).unwrap();
            assert_eq!(b.remaining, Some(*remaining), "{pairs:?}");
            assert_eq!(b.reset_at, Some(at(*reset)), "{pairs:?}");
        }
    }

    #[test]
    fn x_garbage_headers_are_ignored() {
        let h = headers(&[("x-rate-limit-remaining", "lots"), ("x-rate-limit-reset", "-5")]);
        assert_eq!(x_rate_limit(&h), None);
    }

    /// platforms.md §3.4: the three header examples, verbatim.
    #[test]
    fn meta_usage_headers() {
        let now = at(1_700_000_000);
        let h = headers(&[
            ("X-App-Usage", r#"{"call_count":28,"total_time":25,"total_cputime":25}"#),
            ("X-Page-Usage", r#"{"call_count":85,"total_cputime":56,"total_time":60}"#),
            (
                "X-Business-Use-Case-Usage",
                r#"{"112130216863063":[{"type":"pages","call_count":1,"total_cputime":1,"total_time":1,"estimated_time_to_regain_access":0}]}"#,
            ),
        ]);
        assert_eq!(meta_app_usage(&h), Some(MetaUsage { call_count: 28, total_cputime: 25, total_time: 25 }));
        assert_eq!(meta_app_usage(&h).unwrap().percent(), 28);
        assert_eq!(meta_page_usage(&h).unwrap().percent(), 85);
        let buc = meta_buc_usage(&h);
        assert_eq!(
            buc,
            vec![BucUsage {
                business_id: "112130216863063".into(),
                kind: Some("pages".into()),
                usage: MetaUsage { call_count: 1, total_cputime: 1, total_time: 1 },
                regain_access_minutes: 0,
            }]
        );
        // A zero estimate is no estimate.
        assert_eq!(meta_regain_access_at(&h, now), None);
        let b = meta_budget(&h, now).unwrap();
        assert_eq!(b.usage_percent, Some(85));
        assert_eq!(b.reset_at, None);
        assert!(!b.is_exhausted());
        assert_eq!(meta_budget(&HeaderMap::new(), now), None);
    }

    /// platforms.md §3.4: `estimated_time_to_regain_access` is minutes; the largest one counts.
    #[test]
    fn meta_regain_access_minutes() {
        let now = at(1_700_000_000);
        let h = headers(&[(
            "x-business-use-case-usage",
            r#"{"112130216863063":[{"type":"pages","call_count":100,"total_cputime":3,"total_time":4,"estimated_time_to_regain_access":7}],"999":[{"type":"pages","call_count":"40","estimated_time_to_regain_access":"3"}]}"#,
        )]);
        assert_eq!(meta_regain_access_at(&h, now), Some(now + TimeDelta::minutes(7)));
        let b = meta_budget(&h, now).unwrap();
        assert_eq!(b.usage_percent, Some(100));
        assert!(b.is_exhausted());
        assert_eq!(b.reset_at, Some(now + TimeDelta::minutes(7)));
        // Unreadable header: no usage, no panic.
        assert_eq!(meta_buc_usage(&headers(&[("x-business-use-case-usage", "nope")])), vec![]);
    }

    /// platforms.md §2.6: LinkedIn resets at midnight UTC.
    #[test]
    fn linkedin_midnight() {
        let table = [
            (Utc.with_ymd_and_hms(2026, 3, 14, 15, 9, 26).unwrap(), Utc.with_ymd_and_hms(2026, 3, 15, 0, 0, 0).unwrap()),
            (Utc.with_ymd_and_hms(2026, 3, 15, 0, 0, 0).unwrap(), Utc.with_ymd_and_hms(2026, 3, 16, 0, 0, 0).unwrap()),
            (Utc.with_ymd_and_hms(2026, 12, 31, 23, 59, 59).unwrap(), Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap()),
        ];
        for (now, expected) in table {
            assert_eq!(linkedin_reset_after(now), expected);
        }
    }
}
