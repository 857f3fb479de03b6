//! Publishing and the posts it makes (§1.2, §1.4, §1.5): `POST /x/2/tweets` (its 15-minute and
//! 24-hour limits, body validation, replies, duplicates, the ledger), deleting one's own post, and
//! a user's recent posts. Post ids are snowflakes, time-ordered as X's are.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State as AxumState};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};

use super::Shared;
use super::errors::{forbidden, invalid_media_ids, invalid_request, not_found, too_many_requests, unauthorized};
use super::front_door::{Caller, enter, front_door_step, has_scope};
use super::rate_limits::{Limit, add_limit_headers};
use super::state::{Post, XState};
use crate::LedgerEntry;
use crate::util;

/// X's snowflake epoch (2010-11-04T01:42:54.657Z), in Unix milliseconds.
const SNOWFLAKE_EPOCH_MS: i64 = 1_288_834_974_657;

impl XState {
    /// A snowflake, never below 10^18: X's 19 digits whatever the sandbox clock says.
    fn next_post_id(&mut self, now: DateTime<Utc>) -> u64 {
        util::time_id(&mut self.last_post_id, now, SNOWFLAKE_EPOCH_MS, 1_000_000_000_000_000_000)
    }
}

/// Fields `CreatePostsRequest` allows (`additionalProperties: false`, platforms.md §1.2).
const CREATE_FIELDS: &[&str] = &[
    "text",
    "reply",
    "media",
    "quote_tweet_id",
    "poll",
    "reply_settings",
    "card_uri",
    "community_id",
    "direct_message_deep_link",
    "edit_options",
    "for_super_followers_only",
    "geo",
    "made_with_ai",
    "nullcast",
    "paid_partnership",
    "share_with_followers",
];

pub(super) fn is_post_id(s: &str) -> bool {
    (1..=19).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

pub(super) async fn create_post(AxumState(inner): Shared, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let received_at = inner.now();
    let caller = Caller { method: &method, uri: &uri, headers: &headers };
    let auth = match front_door_step(&inner, Some(&caller), Some("post")).await {
        Ok(Some(auth)) => auth,
        Ok(None) => return unauthorized(),
        Err(response) => return response,
    };
    let now = inner.now();
    let limits = inner.config.x_limits.clone();
    let mut state = inner.lock();
    if !has_scope(&auth, "tweet.write") {
        // Not documented verbatim; X answers a token without the scope with a 403.
        return forbidden("Forbidden", HeaderMap::new());
    }

    // Rate limits: 15-minute user window, 24-hour user and app caps; any exhausted one → 429.
    let windows = [
        ("x-rate-limit", format!("post:{}", auth.user_id), limits.post_per_15min, TimeDelta::minutes(15)),
        ("x-user-limit-24hour", format!("post24:{}", auth.user_id), limits.post_per_24h_user, TimeDelta::hours(24)),
        ("x-app-limit-24hour", format!("app24:{}", auth.client_id), limits.post_per_24h_app, TimeDelta::hours(24)),
    ];
    let current: Vec<Limit> = windows.iter().map(|(_, key, limit, period)| state.x.check(key, *limit, *period, now)).collect();
    let mut out = HeaderMap::new();
    if current.iter().any(|l| l.remaining == 0) {
        for ((prefix, ..), limit) in windows.iter().zip(&current) {
            add_limit_headers(&mut out, prefix, limit);
        }
        return too_many_requests(out);
    }
    for ((prefix, key, _, period), limit) in windows.iter().zip(current) {
        state.x.count(key, *period, now);
        add_limit_headers(&mut out, prefix, &Limit { remaining: limit.remaining - 1, ..limit });
    }

    let request: Value = match serde_json::from_slice(&body) {
        Ok(Value::Object(map)) => Value::Object(map),
        _ => return invalid_request("", "Request body is not valid JSON (expected a JSON object).", out),
    };
    if let Some(unknown) = request.as_object().and_then(|m| m.keys().find(|k| !CREATE_FIELDS.contains(&k.as_str()))) {
        return invalid_request(unknown, &format!("The `{unknown}` field is not allowed."), out);
    }
    let text = match request.get("text") {
        None => "",
        Some(Value::String(text)) => text.as_str(),
        Some(_) => return invalid_request("text", "The `text` field must be a string.", out),
    };
    if text.is_empty() && request.get("media").is_none() {
        return invalid_request("text", "The `text` field is required unless `media` is provided.", out);
    }
    // The v2 body for over-length text is not documented (platforms.md §1.4): the validation shape.
    // Counted with twitter-text v3 (`crier_text`): over 280 or containing U+FFFE/U+FEFF/U+FFFF is refused.
    let parsed = crier_text::x_parse(text, &crier_text::XConfig::V3);
    if !text.is_empty() && !parsed.valid {
        let weighted = parsed.weighted_length;
        let message = format!("The text is too long or contains invalid characters (weighted length {weighted}, at most 280).");
        return invalid_request("text", &message, out);
    }
    let in_reply_to = match request.get("reply") {
        None => None,
        Some(reply) => match reply.get("in_reply_to_tweet_id") {
            Some(Value::String(id)) if is_post_id(id) => Some(id.clone()),
            _ => return invalid_request("reply.in_reply_to_tweet_id", "`in_reply_to_tweet_id` must match ^[0-9]{1,19}$.", out),
        },
    };
    if let Some(target) = &in_reply_to {
        let exists = state.x.posts.iter().any(|p| !p.deleted && p.id.to_string() == *target);
        if !exists {
            return forbidden("You attempted to reply to a Tweet that is deleted or not visible to you.", out);
        }
    }
    // Media (media-and-metrics.md §1.3, §1.4): 1–4 ids of the user's processed, unexpired uploads.
    let media = match request.get("media") {
        None => Vec::new(),
        Some(media) => {
            let ids: Option<Vec<String>> = media
                .get("media_ids")
                .and_then(Value::as_array)
                .and_then(|ids| ids.iter().map(|i| i.as_str().filter(|i| is_post_id(i)).map(str::to_owned)).collect());
            let Some(ids) = ids else {
                return invalid_request("media.media_ids", "`media.media_ids` must be 1 to 4 strings matching ^[0-9]{1,19}$.", out);
            };
            match state.x.check_post_media(&auth.user_id, &ids, &inner.config.x_media, now) {
                Ok(media) => media,
                Err((_, message)) if message == crier_protocol::x::media::INVALID_MEDIA_IDS => return invalid_media_ids(&ids, out),
                Err((parameter, message)) => return invalid_request(&parameter, &message, out),
            }
        }
    };
    let duplicate = state
        .x
        .posts
        .iter()
        .any(|p| !p.deleted && p.user_id == auth.user_id && p.text == text && now - p.created_at < TimeDelta::hours(24));
    if duplicate && !text.is_empty() {
        return forbidden("You are not allowed to create a Tweet with duplicate content.", out);
    }

    let id = state.x.next_post_id(now);
    state.x.posts.push(Post { id, user_id: auth.user_id.clone(), text: text.to_owned(), created_at: now, deleted: false });
    state.ledger.push(LedgerEntry {
        platform: "x".to_owned(),
        author: auth.user_id.clone(),
        user_id: auth.user_id,
        post_id: id.to_string(),
        text: text.to_owned(),
        in_reply_to,
        received_at,
        accepted_at: now,
    });
    state.record_media("x", &id.to_string(), media);
    let body = json!({"data": {"id": id.to_string(), "text": text, "edit_history_tweet_ids": [id.to_string()]}});
    util::json(StatusCode::CREATED, &body, out)
}

pub(super) async fn delete_post(
    AxumState(inner): Shared,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let limit = inner.config.x_limits.delete_per_15min;
    let caller = Caller { method: &method, uri: &uri, headers: &headers };
    let (auth, mut state, out) = match enter(&inner, &caller, "delete", limit, Some("tweet.write")).await {
        Ok(entered) => entered,
        Err(response) => return response,
    };
    if !is_post_id(&id) {
        return invalid_request("id", &format!("The `id` query parameter value [{id}] is not valid"), out);
    }
    let Some(post) = state.x.posts.iter_mut().find(|p| !p.deleted && p.id.to_string() == id) else {
        return not_found("tweet", &id, out);
    };
    if post.user_id != auth.user_id {
        return forbidden("You are not allowed to delete a Tweet that is not yours.", out);
    }
    post.deleted = true;
    util::json(StatusCode::OK, &json!({"data": {"deleted": true}}), out)
}

pub(super) async fn user_posts(
    AxumState(inner): Shared,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Path(user_id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let limit = inner.config.x_limits.timeline_per_15min;
    let caller = Caller { method: &method, uri: &uri, headers: &headers };
    let (_auth, state, out) = match enter(&inner, &caller, "timeline", limit, Some("tweet.read")).await {
        Ok(entered) => entered,
        Err(response) => return response,
    };
    let max_results = match query.get("max_results").map(|m| m.parse::<usize>()) {
        None => 10,
        Some(Ok(n)) if (5..=100).contains(&n) => n,
        Some(_) => return invalid_request("max_results", "The `max_results` query parameter value is not between 5 and 100", out),
    };
    if state.x.user_by_id(&user_id).is_none() {
        return not_found("user", &user_id, out);
    }
    let posts: Vec<&Post> = state.x.posts.iter().rev().filter(|p| !p.deleted && p.user_id == user_id).take(max_results).collect();
    let body = if posts.is_empty() {
        json!({"meta": {"result_count": 0}})
    } else {
        let data: Vec<Value> =
            posts.iter().map(|p| json!({"id": p.id.to_string(), "text": p.text, "edit_history_tweet_ids": [p.id.to_string()]})).collect();
        json!({
            "data": data,
            "meta": {
                "result_count": posts.len(),
                "newest_id": posts.first().map(|p| p.id.to_string()),
                "oldest_id": posts.last().map(|p| p.id.to_string()),
            }
        })
    };
    util::json(StatusCode::OK, &body, out)
}
