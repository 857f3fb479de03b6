//! Comments on Page posts: `POST /{page-post-id}/comments` as the Page (its Page token with
//! `pages_manage_engagement`), and `GET /{page-post-id}/comments`. Each
//! comment goes into the ledger as a reply to its post.

use std::collections::HashMap;

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::errors::{invalid_parameter, not_found, permission, with_headers};
use super::front_door::{enter, enter_step};
use super::state::Kind;
use crate::util;
use crate::{Inner, LedgerEntry};

/// A comment on a Page post.
pub(super) struct Comment {
    pub(super) id: String,
    pub(super) post_id: String,
    pub(super) from: String,
    pub(super) message: String,
    pub(super) created_at: DateTime<Utc>,
}

fn comment_json(c: &Comment) -> Value {
    json!({ "id": c.id, "message": c.message, "from": { "id": c.from },
            "created_time": c.created_at.format("%Y-%m-%dT%H:%M:%S%z").to_string() })
}

pub(super) async fn create(inner: &Inner, version: &str, post_id: &str, headers: &HeaderMap, params: &HashMap<String, String>) -> Response {
    let received_at = inner.now();
    let (token, usage) = match enter_step(inner, version, headers, params, false, Some("comment")).await {
        Ok(entered) => entered,
        Err(response) => return response,
    };
    let now = inner.now();
    let mut state = inner.lock();
    let Some(page_id) = state.facebook.posts.iter().find(|p| !p.deleted && p.id == post_id).map(|p| p.page_id.clone()) else {
        return with_headers(not_found(post_id, "post"), usage);
    };
    let own_page = matches!(&token.kind, Kind::Page { page_id: own } if *own == page_id);
    let scoped = token.scope.iter().any(|s| s == "pages_manage_engagement");
    if !own_page || !scoped {
        return with_headers(permission("Commenting as the Page requires its Page access token with pages_manage_engagement"), usage);
    }
    let message = params.get("message").cloned().unwrap_or_default();
    if message.trim().is_empty() {
        return with_headers(invalid_parameter("Missing message"), usage);
    }
    let meta = &mut state.facebook;
    meta.last_comment_id += 1;
    let id = format!("{post_id}_{}", 9_000_000_000_000_u64 + meta.last_comment_id);
    meta.comments.push(Comment {
        id: id.clone(),
        post_id: post_id.to_owned(),
        from: page_id.clone(),
        message: message.clone(),
        created_at: now,
    });
    state.ledger.push(LedgerEntry {
        platform: "facebook".to_owned(),
        user_id: token.user_id.clone(),
        author: page_id,
        post_id: id.clone(),
        text: message,
        in_reply_to: Some(post_id.to_owned()),
        received_at,
        accepted_at: now,
    });
    util::json(StatusCode::OK, &json!({ "id": id }), usage)
}

pub(super) async fn list(inner: &Inner, version: &str, post_id: &str, headers: &HeaderMap, params: &HashMap<String, String>) -> Response {
    let (token, usage) = match enter(inner, version, headers, params, false).await {
        Ok(entered) => entered,
        Err(response) => return response,
    };
    let state = inner.lock();
    let meta = &state.facebook;
    let Some(post) = meta.posts.iter().find(|p| !p.deleted && p.id == post_id) else {
        return with_headers(not_found(post_id, "get"), usage);
    };
    let allowed = match &token.kind {
        Kind::Page { page_id } => *page_id == post.page_id,
        Kind::User { .. } => meta.pages.iter().any(|p| p.id == post.page_id && p.admins.contains(&token.user_id)),
    };
    if !allowed || !token.scope.iter().any(|s| s == "pages_read_engagement") {
        return with_headers(permission("Missing Permission: requires pages_read_engagement and a Page access token"), usage);
    }
    let data: Vec<Value> = meta.comments.iter().rev().filter(|c| c.post_id == post_id).map(comment_json).collect();
    util::json(StatusCode::OK, &json!({ "data": data, "paging": { "cursors": { "before": "QVFIUkJEZA", "after": "QVFIUkJEZA" } } }), usage)
}
