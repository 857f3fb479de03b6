//! Meta's rate limits (§3.4), over sliding windows: the app's and each person's hourly calls with a
//! user token (codes 4 and 17, `X-App-Usage`), a Page's daily calls with a Page token (code 32,
//! `X-Page-Usage` and `X-Business-Use-Case-Usage`), and the posts per Page per hour that
//! [`super::publishing`] counts (code 613).

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};

use super::errors::{graph_error, with_headers};
use super::state::{FacebookState, Kind, Token};
use crate::Inner;

/// Rate limits of the Meta fake; windows slide (usage = calls in the last hour / 24 hours).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FacebookLimits {
    /// Platform limit for user-token calls: this many per hour × the app's users (§3.4: "200 * Number
    /// of Users"). Over it: code 4; `X-App-Usage` shows the percentage.
    pub app_calls_per_hour_per_user: u32,
    /// One user's user-token calls per hour (code 17 over it). Not published: 200.
    pub user_calls_per_hour: u32,
    /// Page-token calls per Page per 24 hours (§3.4: 4,800 × engaged users; here a flat number).
    /// Over it: code 32; `X-Page-Usage` and `X-Business-Use-Case-Usage` show the percentage.
    pub page_calls_per_day: u32,
    /// Posts per Page per hour (code 613 "Calls to this api have exceeded the rate limit."). Not published: 100.
    pub posts_per_page_per_hour: u32,
}

impl Default for FacebookLimits {
    fn default() -> Self {
        FacebookLimits {
            app_calls_per_hour_per_user: 200,
            user_calls_per_hour: 200,
            page_calls_per_day: 4800,
            posts_per_page_per_hour: 100,
        }
    }
}

impl FacebookState {
    /// Counts one call in a sliding window; returns the calls in the window including this one.
    pub(super) fn count(&mut self, key: &str, period: TimeDelta, now: DateTime<Utc>) -> usize {
        let calls = self.calls.entry(key.to_owned()).or_default();
        while calls.front().is_some_and(|t| *t + period <= now) {
            calls.pop_front();
        }
        calls.push_back(now);
        calls.len()
    }

    /// A sliding window without counting a call: (calls in the window, minutes until the oldest
    /// leaves it).
    pub(super) fn used(&mut self, key: &str, period: TimeDelta, now: DateTime<Utc>) -> (usize, i64) {
        let calls = self.calls.entry(key.to_owned()).or_default();
        while calls.front().is_some_and(|t| *t + period <= now) {
            calls.pop_front();
        }
        let regain = calls.front().map(|t| ((*t + period - now).num_seconds() + 59) / 60).unwrap_or(0);
        (calls.len(), regain)
    }
}

/// Counts a call against the platform (user token) or Page (Page token) limits; the usage headers
/// to send, or the throttling error (with the headers at 100%).
pub(super) fn rate_limit(inner: &Inner, meta: &mut FacebookState, token: &Token, now: DateTime<Utc>) -> Result<HeaderMap, Response> {
    let limits = &inner.config.facebook_limits;
    let mut headers = HeaderMap::new();
    let pct = |used: usize, limit: u32| ((used as u64 * 100) / u64::from(limit.max(1))).min(100);
    match &token.kind {
        Kind::User { .. } => {
            let users = meta
                .tokens
                .values()
                .filter(|t| t.app_id == token.app_id)
                .map(|t| t.user_id.as_str())
                .collect::<std::collections::HashSet<_>>()
                .len()
                .max(1);
            let app_limit = limits.app_calls_per_hour_per_user.saturating_mul(users as u32);
            let app_key = format!("app:{}", token.app_id);
            let user_key = format!("user:{}:{}", token.app_id, token.user_id);
            let (app_used, _) = meta.used(&app_key, TimeDelta::hours(1), now);
            let (user_used, _) = meta.used(&user_key, TimeDelta::hours(1), now);
            if app_used >= app_limit as usize {
                let p = pct(app_used, app_limit);
                headers.insert("x-app-usage", app_usage(p));
                let e =
                    graph_error(StatusCode::BAD_REQUEST, "OAuthException", 4, None, "(#4) Application request limit reached", Some(true));
                return Err(with_headers(e, headers));
            }
            if user_used >= limits.user_calls_per_hour as usize {
                headers.insert("x-app-usage", app_usage(pct(app_used, app_limit)));
                let e = graph_error(StatusCode::BAD_REQUEST, "OAuthException", 17, None, "(#17) User request limit reached", Some(true));
                return Err(with_headers(e, headers));
            }
            let app_used = meta.count(&app_key, TimeDelta::hours(1), now);
            meta.count(&user_key, TimeDelta::hours(1), now);
            let p = pct(app_used, app_limit);
            // "There is no header if the Page's utilization is effectively 0%" (§3.4); the same for the app.
            if p > 0 {
                headers.insert("x-app-usage", app_usage(p));
            }
        }
        Kind::Page { page_id } => {
            let key = format!("page:{page_id}");
            let limit = limits.page_calls_per_day;
            let (used, regain) = meta.used(&key, TimeDelta::hours(24), now);
            if used >= limit as usize {
                headers.insert("x-page-usage", page_usage(100));
                headers.insert("x-business-use-case-usage", buc_usage(page_id, 100, regain));
                let e = graph_error(StatusCode::BAD_REQUEST, "OAuthException", 32, None, "(#32) Page request limit reached", Some(true));
                return Err(with_headers(e, headers));
            }
            let used = meta.count(&key, TimeDelta::hours(24), now);
            let p = pct(used, limit);
            if p > 0 {
                let regain = if p >= 100 { meta.used(&key, TimeDelta::hours(24), now).1 } else { 0 };
                headers.insert("x-page-usage", page_usage(p));
                headers.insert("x-business-use-case-usage", buc_usage(page_id, p, regain));
            }
        }
    }
    Ok(headers)
}

fn header_json(value: Value) -> HeaderValue {
    HeaderValue::from_str(&value.to_string()).expect("JSON is ASCII here")
}

fn app_usage(p: u64) -> HeaderValue {
    header_json(json!({"call_count": p, "total_time": p, "total_cputime": p}))
}

fn page_usage(p: u64) -> HeaderValue {
    header_json(json!({"call_count": p, "total_cputime": p, "total_time": p}))
}

pub(super) fn buc_usage(page_id: &str, p: u64, regain_minutes: i64) -> HeaderValue {
    header_json(json!({ page_id: [{
        "type": "pages",
        "call_count": p,
        "total_cputime": p,
        "total_time": p,
        "estimated_time_to_regain_access": regain_minutes,
    }]}))
}
