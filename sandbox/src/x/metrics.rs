//! Reading posts back with their metrics (media-and-metrics.md §1.6): `GET /x/2/tweets?ids=…`
//! with `tweet.fields` (or `post.fields`, the newer name) asking for `public_metrics`,
//! `non_public_metrics` and `organic_metrics`. The numbers are [`crate::engagement`]'s for the
//! post's id and age.
//!
//! As X answers: 1 to 100 ids a call (else 400); an unknown or deleted id is a `resource-not-found`
//! problem in `errors[]` beside the `data` found (HTTP 200); a private group asked for a post the
//! caller does not own, or one older than 30 days, is a `not-authorized-for-field` problem and the
//! post is left out of `data`.

use std::collections::HashMap;

use axum::extract::{Query, State as AxumState};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use chrono::TimeDelta;
use serde_json::{Value, json};

use super::Shared;
use super::errors::invalid_request;
use super::front_door::{Caller, enter};
use crate::engagement::engagement;
use crate::util;

/// The metric groups the fake serves; others named in `tweet.fields` are accepted and ignored.
const PRIVATE_GROUPS: [&str; 2] = ["non_public_metrics", "organic_metrics"];

pub(super) async fn lookup(
    AxumState(inner): Shared,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let limits = inner.config.x_limits.clone();
    let caller = Caller { method: &method, uri: &uri, headers: &headers };
    let (auth, state, out) = match enter(&inner, &caller, "lookup", limits.lookup_per_15min, Some("tweet.read")).await {
        Ok(entered) => entered,
        Err(response) => return response,
    };
    let now = inner.now();
    let ids: Vec<&str> = query.get("ids").map(|ids| ids.split(',').collect()).unwrap_or_default();
    let max = limits.lookup_ids_per_call as usize;
    if ids.is_empty() || ids.len() > max {
        let message = format!("The number of values in the `ids` query parameter list [{}] is not between 1 and {max}", ids.len());
        return invalid_request("ids", &message, out);
    }
    if let Some(bad) = ids.iter().find(|id| !super::publishing::is_post_id(id)) {
        return invalid_request("ids", &format!("The `ids` query parameter value [{bad}] is not valid"), out);
    }
    let fields: Vec<&str> =
        query.get("tweet.fields").or_else(|| query.get("post.fields")).map(|f| f.split(',').collect()).unwrap_or_default();
    let private_window = TimeDelta::days(i64::from(limits.private_metrics_days));

    let (mut data, mut errors) = (Vec::new(), Vec::new());
    for id in ids {
        let Some(post) = state.x.posts.iter().find(|p| !p.deleted && p.id.to_string() == id) else {
            errors.push(json!({
                "value": id,
                "detail": format!("Could not find tweet with ids: [{id}]."),
                "title": "Not Found Error",
                "resource_type": "tweet",
                "parameter": "ids",
                "resource_id": id,
                "type": "https://api.x.com/2/problems/resource-not-found",
            }));
            continue;
        };
        let age = now - post.created_at;
        let own_and_recent = post.user_id == auth.user_id && age < private_window;
        let refused: Vec<&&str> = fields.iter().filter(|f| PRIVATE_GROUPS.contains(f) && !own_and_recent).collect();
        if !refused.is_empty() {
            for field in refused {
                errors.push(json!({
                    "value": id,
                    "detail": format!("Sorry, you are not authorized to access '{field}.impression_count' on the Tweet with ids : [{id}]."),
                    "title": "Field Authorization Error",
                    "resource_type": "tweet",
                    "field": format!("{field}.impression_count"),
                    "parameter": "ids",
                    "resource_id": id,
                    "section": "data",
                    "type": "https://api.x.com/2/problems/not-authorized-for-field",
                }));
            }
            continue;
        }
        let e = engagement(id, age);
        let mut found = json!({"id": id, "text": post.text, "edit_history_tweet_ids": [id]});
        if fields.contains(&"public_metrics") {
            found["public_metrics"] = json!({
                "retweet_count": e.reposts, "reply_count": e.replies, "like_count": e.likes,
                "quote_count": e.quotes, "bookmark_count": e.bookmarks, "impression_count": e.impressions,
            });
        }
        if fields.contains(&"non_public_metrics") {
            found["non_public_metrics"] = json!({
                "impression_count": e.impressions, "url_link_clicks": e.link_clicks,
                "user_profile_clicks": e.profile_clicks, "engagements": e.engagements(),
            });
        }
        if fields.contains(&"organic_metrics") {
            found["organic_metrics"] = json!({
                "impression_count": e.impressions, "like_count": e.likes, "reply_count": e.replies,
                "retweet_count": e.reposts, "url_link_clicks": e.link_clicks, "user_profile_clicks": e.profile_clicks,
            });
        }
        data.push(found);
    }
    let mut body = json!({});
    if !data.is_empty() {
        body["data"] = Value::Array(data);
    }
    if !errors.is_empty() {
        body["errors"] = Value::Array(errors);
    }
    util::json(StatusCode::OK, &body, out)
}
