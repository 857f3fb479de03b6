//! LinkedIn's limits (§2.6, §2.1): the member-level daily throttle on posting (counted here, for
//! [`super::publishing`]) and its 429, and how many monthly API versions stay active
//! ([`super::front_door`] checks the version header).

use axum::http::StatusCode;
use axum::response::Response;
use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;

use super::errors::error;
use super::front_door::Auth;
use super::state::LinkedInState;

/// Limits and versions of the LinkedIn fake.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkedInLimits {
    /// Calls to `POST /rest/posts` per member per app per UTC day (reset at 00:00 UTC). LinkedIn
    /// does not publish it (platforms.md §2.6); 150 posts/day is the third-party figure.
    pub posts_per_member_per_day: u32,
    /// How many monthly `LinkedIn-Version`s are active: the current month (by the sandbox clock)
    /// and the `active_versions - 1` before it ("retired after about a year", §2.1). Default 12.
    pub active_versions: u32,
    /// Metrics calls (social actions, share statistics) per member per app per UTC day. Not
    /// published; the development tier's third-party figure is 100 (media-and-metrics.md §2.6).
    pub metrics_per_member_per_day: u32,
    /// How far back share statistics reach: 12 months ("a rolling 12-month window", §2.6).
    pub share_statistics_days: u32,
}

impl Default for LinkedInLimits {
    fn default() -> Self {
        LinkedInLimits { posts_per_member_per_day: 150, active_versions: 12, metrics_per_member_per_day: 100, share_statistics_days: 365 }
    }
}

/// LinkedIn's 429: a daily throttle. No rate-limit headers are documented (§2.6): the client
/// waits for the next 00:00 UTC.
pub(super) fn daily_throttle() -> Response {
    let body =
        json!({"serviceErrorCode": 101, "message": "Resource level throttle limit for calls to this resource is reached.", "status": 429});
    error(StatusCode::TOO_MANY_REQUESTS, body)
}

impl LinkedInState {
    /// Member-level daily throttle on `POST /rest/posts`: every call counts, before its body is
    /// checked, and the count resets at 00:00 UTC (§2.6). Once `limit` calls are used, the 429.
    pub(super) fn count_post_call(&mut self, auth: &Auth, limit: u32, now: DateTime<Utc>) -> Result<(), Response> {
        count_daily(&mut self.daily, auth, limit, now)
    }

    /// The same daily throttle for metrics calls, counted on their own.
    pub(super) fn count_metrics_call(&mut self, auth: &Auth, limit: u32, now: DateTime<Utc>) -> Result<(), Response> {
        count_daily(&mut self.metrics_daily, auth, limit, now)
    }
}

/// One call against a per (member, app, UTC day) count of `limit`: the 429 once it is used up.
fn count_daily(
    counts: &mut HashMap<(String, String, NaiveDate), u32>,
    auth: &Auth,
    limit: u32,
    now: DateTime<Utc>,
) -> Result<(), Response> {
    let used = counts.entry((auth.member_id.clone(), auth.client_id.clone(), now.date_naive())).or_insert(0);
    if *used >= limit {
        return Err(daily_throttle());
    }
    *used += 1;
    Ok(())
}
