//! Publishing and the posts it makes on a Page (§3.1): `POST /{page_id}/feed` (a Page token, a
//! message or link, the hourly post limit, consecutive duplicates, the ledger, the injected
//! created-then-500), a Page's recent posts, and deleting a post.

use std::collections::HashMap;

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};

use super::errors::{graph_error, invalid_parameter, not_found, permission, transient_500, with_headers};
use super::front_door::{enter, enter_step};
use super::state::{FacebookState, Kind, Post, Token};
use crate::media::PostMedia;
use crate::util;
use crate::{Inner, LedgerEntry, State};

pub(super) fn post_json(p: &Post) -> Value {
    let mut body = json!({"created_time": p.created_at.format("%Y-%m-%dT%H:%M:%S+0000").to_string(), "message": p.message, "id": p.id});
    if let Some(link) = &p.link {
        body["link"] = json!(link);
    }
    body
}

/// The Page a Page token may act on; user tokens are refused for Page publishing (§3.1).
fn page_token_for(token: &Token, page_id: &str) -> Result<(), Response> {
    match &token.kind {
        Kind::Page { page_id: own } if own == page_id => Ok(()),
        _ => Err(permission(
            "If posting to a page, requires both pages_read_engagement and pages_manage_posts as an admin with sufficient administrative permission",
        )),
    }
}

pub(super) async fn publish(
    inner: &Inner,
    version: &str,
    page_id: &str,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
) -> Response {
    let received_at = inner.now();
    let (token, usage) = match enter_step(inner, version, headers, params, false, Some("post")).await {
        Ok(entered) => entered,
        Err(response) => return response,
    };
    let now = inner.now();
    let mut state = inner.lock();
    if let Err(response) = may_publish(&state.facebook, &token, page_id) {
        return with_headers(response, usage);
    }
    let message = params.get("message").cloned().unwrap_or_default();
    let link = params.get("link").filter(|l| !l.is_empty()).cloned();
    // Photos uploaded unpublished, attached by id (media-and-metrics.md §3.1).
    let attached = match attached_media(params) {
        Ok(ids) => ids,
        Err(response) => return with_headers(response, usage),
    };
    if message.is_empty() && link.is_none() && attached.is_empty() {
        return with_headers(invalid_parameter("Missing message or attachment"), usage);
    }
    if let Some(link) = &link
        && url::Url::parse(link).is_err()
    {
        return with_headers(
            graph_error(
                StatusCode::BAD_REQUEST,
                "OAuthException",
                1609005,
                None,
                "Error Posting Link: the link could not be fetched.",
                None,
            ),
            usage,
        );
    }
    let media = match state.facebook.take_attached(page_id, &attached, &inner.config.facebook_media, now) {
        Ok(media) => media,
        Err(response) => return with_headers(response, usage),
    };
    let new = NewPost { page_id, message, link, media, received_at, now };
    match create_post(inner, &mut state, &token, new) {
        Ok(id) => {
            if state.facebook.faults.created_then_500 > 0 {
                state.facebook.faults.created_then_500 -= 1;
                state.facebook.faults.injected += 1;
                return with_headers(transient_500(), usage);
            }
            util::json(StatusCode::OK, &json!({"id": id}), usage)
        }
        Err(response) => with_headers(response, usage),
    }
}

/// Who may publish on a Page: its Page token, with `pages_manage_posts`, of one of its admins.
pub(super) fn may_publish(meta: &FacebookState, token: &Token, page_id: &str) -> Result<(), Response> {
    if !meta.pages.iter().any(|p| p.id == page_id) {
        return Err(not_found(page_id, "post"));
    }
    page_token_for(token, page_id)?;
    if !token.scope.iter().any(|s| s == "pages_manage_posts")
        || !meta.pages.iter().any(|p| p.id == page_id && p.admins.contains(&token.user_id))
    {
        return Err(permission(
            "The user must be an administrator, editor, or moderator of the page in order to impersonate it. / requires pages_manage_posts",
        ));
    }
    Ok(())
}

/// The ids in `attached_media`: a JSON array (`[{"media_fbid":"…"}]`, as a JSON body or one form
/// field) or form fields `attached_media[0]`, `attached_media[1]`, … each `{"media_fbid":"…"}`.
fn attached_media(params: &HashMap<String, String>) -> Result<Vec<String>, Response> {
    let bad = || invalid_parameter("attached_media must be a list of {\"media_fbid\": id}");
    let id_of = |v: &Value| v.get("media_fbid").and_then(|i| i.as_str().map(str::to_owned).or_else(|| i.as_u64().map(|n| n.to_string())));
    if let Some(list) = params.get("attached_media") {
        let Ok(Value::Array(items)) = serde_json::from_str::<Value>(list) else { return Err(bad()) };
        return items.iter().map(|v| id_of(v).ok_or_else(bad)).collect();
    }
    let mut indexed: Vec<(usize, String)> = Vec::new();
    for (k, v) in params {
        if let Some(i) = k.strip_prefix("attached_media[").and_then(|r| r.strip_suffix(']')).and_then(|i| i.parse().ok()) {
            let value: Value = serde_json::from_str(v).map_err(|_| bad())?;
            indexed.push((i, id_of(&value).ok_or_else(bad)?));
        }
    }
    indexed.sort();
    Ok(indexed.into_iter().map(|(_, id)| id).collect())
}

/// A post about to be created on a Page.
pub(super) struct NewPost<'a> {
    pub(super) page_id: &'a str,
    pub(super) message: String,
    pub(super) link: Option<String>,
    pub(super) media: Vec<PostMedia>,
    pub(super) received_at: DateTime<Utc>,
    pub(super) now: DateTime<Utc>,
}

/// Creates a Page post (feed, photo or video): the hourly post limit (613), consecutive
/// duplicates (506), the post, the ledger and its media. The post's id.
pub(super) fn create_post(inner: &Inner, state: &mut State, token: &Token, new: NewPost<'_>) -> Result<String, Response> {
    let NewPost { page_id, message, link, media, received_at, now } = new;
    // Posts per Page per hour: 613.
    let post_key = format!("posts:{page_id}");
    let (posted, _) = state.facebook.used(&post_key, TimeDelta::hours(1), now);
    if posted >= inner.config.facebook_limits.posts_per_page_per_hour as usize {
        return Err(graph_error(
            StatusCode::BAD_REQUEST,
            "OAuthException",
            613,
            None,
            "Calls to this api have exceeded the rate limit.",
            Some(true),
        ));
    }
    // "Duplicate posts cannot be published consecutively": the same as the Page's latest live post.
    let media_ids: Vec<String> = media.iter().map(|m| m.media_id.clone()).collect();
    let latest = state.facebook.posts.iter().rev().find(|p| !p.deleted && p.page_id == page_id);
    if media_ids.is_empty() && latest.is_some_and(|p| p.message == message && p.link == link && p.media.is_empty()) {
        return Err(graph_error(StatusCode::BAD_REQUEST, "OAuthException", 506, None, "(#506) Duplicate status message", Some(false)));
    }
    state.facebook.count(&post_key, TimeDelta::hours(1), now);
    state.facebook.last_post_id += 1 + util::random_u64() % 1000;
    let id = format!("{page_id}_{}", state.facebook.last_post_id);
    state.facebook.posts.push(Post {
        id: id.clone(),
        page_id: page_id.to_owned(),
        message: message.clone(),
        link: link.clone(),
        media: media_ids,
        created_at: now,
        deleted: false,
    });
    let text = match &link {
        Some(link) if message.is_empty() => link.clone(),
        _ => message,
    };
    state.ledger.push(LedgerEntry {
        platform: "facebook".to_owned(),
        user_id: token.user_id.clone(),
        author: page_id.to_owned(),
        post_id: id.clone(),
        text,
        in_reply_to: None,
        received_at,
        accepted_at: now,
    });
    state.record_media("facebook", &id, media);
    Ok(id)
}

pub(super) async fn feed(inner: &Inner, version: &str, page_id: &str, headers: &HeaderMap, params: &HashMap<String, String>) -> Response {
    let (token, usage) = match enter(inner, version, headers, params, false).await {
        Ok(entered) => entered,
        Err(response) => return response,
    };
    let state = inner.lock();
    let meta = &state.facebook;
    if !meta.pages.iter().any(|p| p.id == page_id) {
        return with_headers(not_found(page_id, "get"), usage);
    }
    let allowed = match &token.kind {
        Kind::Page { page_id: own } => own == page_id,
        Kind::User { .. } => meta.pages.iter().any(|p| p.id == page_id && p.admins.contains(&token.user_id)),
    };
    if !allowed || !token.scope.iter().any(|s| s == "pages_read_engagement") {
        return with_headers(permission("Missing Permission: requires pages_read_engagement and a Page access token"), usage);
    }
    let limit = params.get("limit").and_then(|l| l.parse::<usize>().ok()).unwrap_or(25).clamp(1, 100);
    let data: Vec<Value> = meta.posts.iter().rev().filter(|p| !p.deleted && p.page_id == page_id).take(limit).map(post_json).collect();
    util::json(StatusCode::OK, &json!({"data": data, "paging": {"cursors": {"before": "QVFIUkJEZA", "after": "QVFIUkJEZA"}}}), usage)
}

pub(super) async fn delete_post(
    inner: &Inner,
    version: &str,
    post_id: &str,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
) -> Response {
    let (token, usage) = match enter(inner, version, headers, params, false).await {
        Ok(entered) => entered,
        Err(response) => return response,
    };
    let mut state = inner.lock();
    let Some(post) = state.facebook.posts.iter_mut().find(|p| !p.deleted && p.id == post_id) else {
        return with_headers(not_found(post_id, "delete"), usage);
    };
    let own_page = matches!(&token.kind, Kind::Page { page_id } if *page_id == post.page_id);
    if !own_page || !token.scope.iter().any(|s| s == "pages_manage_posts") {
        return with_headers(permission("The user hasn't authorized the application to perform this action"), usage);
    }
    post.deleted = true;
    util::json(StatusCode::OK, &json!({"success": true}), usage)
}
