//! Engagement read back (media-and-metrics.md §2.6), with [`crate::engagement`]'s numbers:
//!
//! - `GET /rest/socialActions/{post urn}`: a post's likes and comments summaries, for anyone who
//!   may read the post (`r_organization_social` as an administrator of its organization,
//!   `r_member_social` for a member's post: restricted, so most apps get the 403).
//! - `GET /rest/organizationalEntityShareStatistics?q=organizationalEntity&organizationalEntity=…
//!   &shares=List(…)&ugcPosts=List(…)`: an organization's posts' totals (impressions, clicks,
//!   likes, comments, shares, engagement), for its administrators with `rw_organization_admin`.
//!   Posts with no activity and posts older than 12 months are left out.
//!
//! Both count against a daily per-member throttle of their own (429 as posting's).

use std::collections::HashMap;

use axum::extract::{Path, Query, State as AxumState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::Shared;
use super::errors::{forbidden, rest_error};
use super::front_door::authed_rest;
use super::publishing::may_read;
use crate::engagement::engagement;
use crate::util;

pub(super) async fn social_actions(AxumState(inner): Shared, headers: HeaderMap, Path(urn): Path<String>) -> Response {
    let auth = match authed_rest(&inner, &headers).await {
        Ok(auth) => auth,
        Err(response) => return response,
    };
    let now = inner.now();
    let limit = inner.config.linkedin_limits.metrics_per_member_per_day;
    let mut state = inner.lock();
    let li = &mut state.linkedin;
    if let Err(response) = li.count_metrics_call(&auth, limit, now) {
        return response;
    }
    let Some(post) = li.posts.iter().find(|p| !p.deleted && p.urn == urn) else {
        return rest_error(404, "NOT_FOUND", &format!("Post {urn} not found"));
    };
    if !may_read(li, &auth, &post.author) {
        return forbidden("Not enough permissions to access: socialActions.GET.NO_VERSION");
    }
    let e = engagement(&urn, now - post.created_at);
    let body = json!({
        "target": urn,
        "likesSummary": {"totalLikes": e.likes, "aggregatedTotalLikes": e.likes, "likedByCurrentUser": false, "selectedLikes": []},
        "commentsSummary": {"totalFirstLevelComments": e.replies, "aggregatedTotalComments": e.replies, "commentsState": "OPEN", "selectedComments": []},
    });
    util::json(StatusCode::OK, &body, HeaderMap::new())
}

/// `List(a,b)` (already percent-decoded) as its items.
fn restli_list(value: Option<&String>) -> Vec<String> {
    value
        .and_then(|v| v.trim().strip_prefix("List(")?.strip_suffix(')').map(str::to_owned))
        .map(|inner| inner.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default()
}

pub(super) async fn share_statistics(
    AxumState(inner): Shared,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let auth = match authed_rest(&inner, &headers).await {
        Ok(auth) => auth,
        Err(response) => return response,
    };
    if query.get("q").map(String::as_str) != Some("organizationalEntity") {
        return rest_error(400, "ILLEGAL_ARGUMENT", "The q parameter must be organizationalEntity");
    }
    let Some(org) = query.get("organizationalEntity").and_then(|o| o.strip_prefix("urn:li:organization:")).map(str::to_owned) else {
        return rest_error(400, "ILLEGAL_ARGUMENT", "organizationalEntity must be an organization URN");
    };
    let now = inner.now();
    let limits = inner.config.linkedin_limits.clone();
    let mut state = inner.lock();
    let li = &mut state.linkedin;
    if let Err(response) = li.count_metrics_call(&auth, limits.metrics_per_member_per_day, now) {
        return response;
    }
    let admin = li.member(&auth.member_id).is_some_and(|m| m.orgs.iter().any(|o| o.to_string() == org));
    if !admin || !auth.has("rw_organization_admin") {
        return forbidden("Not enough permissions to access: organizationalEntityShareStatistics.FINDER-organizationalEntity.NO_VERSION");
    }
    let author = format!("urn:li:organization:{org}");
    let window = chrono::TimeDelta::days(i64::from(limits.share_statistics_days));
    let asked: Vec<(&str, String)> = restli_list(query.get("shares"))
        .into_iter()
        .map(|u| ("share", u))
        .chain(restli_list(query.get("ugcPosts")).into_iter().map(|u| ("ugcPost", u)))
        .collect();
    let elements: Vec<Value> = asked
        .into_iter()
        .filter_map(|(key, urn)| {
            let post = li.posts.iter().find(|p| !p.deleted && p.urn == urn && p.author == author)?;
            let age = now - post.created_at;
            let e = engagement(&urn, age);
            // No activity, or older than the window: left out ("can be assumed to have counts of 0").
            if age >= window || e.impressions == 0 {
                return None;
            }
            let clicks = e.link_clicks + e.profile_clicks;
            let engaged = clicks + e.likes + e.replies + e.reposts;
            Some(json!({
                "organizationalEntity": author,
                key: urn,
                "totalShareStatistics": {
                    "impressionCount": e.impressions,
                    "uniqueImpressionsCount": e.impressions * 4 / 5,
                    "clickCount": clicks,
                    "likeCount": e.likes,
                    "commentCount": e.replies,
                    "shareCount": e.reposts,
                    "engagement": engaged as f64 / e.impressions as f64,
                },
            }))
        })
        .collect();
    util::json(StatusCode::OK, &json!({"elements": elements, "paging": {"start": 0, "count": 10, "links": []}}), HeaderMap::new())
}
