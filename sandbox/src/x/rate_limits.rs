//! X's rate limits (§1.5): fixed windows per user (and per app for the 24-hour post cap). Every
//! counted call is told its window in `x-rate-limit-*` headers (posts also `x-user-limit-24hour-*`
//! and `x-app-limit-24hour-*`), and refused with a 429 once a window is used up.

use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;
use chrono::{DateTime, TimeDelta, Utc};

use super::errors::too_many_requests;
use super::state::{Window, XState};
use crate::State;

/// Rate limits of the X fake (per user per 15-minute window unless noted).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XLimits {
    /// `POST /2/tweets` per user per 15 minutes: 100 (platforms.md §1.5, current table).
    pub post_per_15min: u32,
    /// `POST /2/tweets` per user per 24 hours (`x-user-limit-24hour-*`). The reference gives no current
    /// per-user daily number for the Pro tier (Basic was 100); default 10,000 so that the 15-minute
    /// window is what binds unless a test lowers this.
    pub post_per_24h_user: u32,
    /// `POST /2/tweets` per app per 24 hours (`x-app-limit-24hour-*`): 10,000 (platforms.md §1.5).
    pub post_per_24h_app: u32,
    /// `GET /2/users/me`: 75 (platforms.md §1.5).
    pub users_me_per_15min: u32,
    /// `DELETE /2/tweets/:id`: 50 (X's published table; not in platforms.md).
    pub delete_per_15min: u32,
    /// `GET /2/users/:id/tweets`: 900 (X's published table; not in platforms.md).
    pub timeline_per_15min: u32,
    /// `GET /2/tweets?ids=` (posts and their metrics) per user: 5,000 (media-and-metrics.md §1.6).
    pub lookup_per_15min: u32,
    /// Ids one `GET /2/tweets` may name: 100 (§1.6).
    pub lookup_ids_per_call: u32,
    /// Days after posting that `non_public_metrics` and `organic_metrics` stay readable: 30 (§1.6).
    pub private_metrics_days: u32,
    /// `POST /2/media/upload` (one-shot): 500 (media-and-metrics.md §1.5).
    pub media_upload_per_15min: u32,
    /// Each of initialize, append and finalize: 1,875 (§1.5).
    pub media_chunked_per_15min: u32,
    /// `GET /2/media/upload` (STATUS): 1,000 (§1.5).
    pub media_status_per_15min: u32,
    /// `POST /2/media/metadata`: 500 (§1.5).
    pub media_metadata_per_15min: u32,
}

impl Default for XLimits {
    fn default() -> Self {
        XLimits {
            post_per_15min: 100,
            post_per_24h_user: 10_000,
            post_per_24h_app: 10_000,
            users_me_per_15min: 75,
            delete_per_15min: 50,
            timeline_per_15min: 900,
            lookup_per_15min: 5000,
            lookup_ids_per_call: 100,
            private_metrics_days: 30,
            media_upload_per_15min: 500,
            media_chunked_per_15min: 1875,
            media_status_per_15min: 1000,
            media_metadata_per_15min: 500,
        }
    }
}

/// One window as its headers tell it: the size, what is left, and when it resets (Unix seconds).
pub(super) struct Limit {
    pub(super) limit: u32,
    pub(super) remaining: u32,
    pub(super) reset: i64,
}

impl XState {
    /// A window as it stands before this request, without counting it ([`XState::count`] does):
    /// `remaining` is 0 when it is used up; a window whose period has passed reads as a new one.
    pub(super) fn check(&self, key: &str, limit: u32, period: TimeDelta, now: DateTime<Utc>) -> Limit {
        match self.windows.get(key) {
            Some(w) if now < w.start + period => {
                Limit { limit, remaining: limit.saturating_sub(w.used), reset: (w.start + period).timestamp() }
            }
            _ => Limit { limit, remaining: limit, reset: (now + period).timestamp() },
        }
    }

    pub(super) fn count(&mut self, key: &str, period: TimeDelta, now: DateTime<Utc>) {
        let window = self.windows.entry(key.to_owned()).or_insert(Window { start: now, used: 0 });
        if now >= window.start + period {
            *window = Window { start: now, used: 0 };
        }
        window.used += 1;
    }
}

pub(super) fn add_limit_headers(headers: &mut HeaderMap, prefix: &str, limit: &Limit) {
    let pairs = [("limit", limit.limit as i64), ("remaining", limit.remaining as i64), ("reset", limit.reset)];
    for (suffix, value) in pairs {
        let name = axum::http::HeaderName::try_from(format!("{prefix}-{suffix}")).expect("valid header name");
        headers.insert(name, HeaderValue::from(value));
    }
}

/// Applies a rate-limit bucket: the headers to send, or the 429.
pub(super) fn rate_limit(state: &mut State, key: &str, limit: u32, now: DateTime<Utc>) -> Result<HeaderMap, Response> {
    let period = TimeDelta::minutes(15);
    let current = state.x.check(key, limit, period, now);
    let mut headers = HeaderMap::new();
    if current.remaining == 0 {
        add_limit_headers(&mut headers, "x-rate-limit", &current);
        return Err(too_many_requests(headers));
    }
    state.x.count(key, period, now);
    add_limit_headers(&mut headers, "x-rate-limit", &Limit { remaining: current.remaining - 1, ..current });
    Ok(headers)
}
