//! Comments on posts (the Comments API, `/rest/socialActions/{post urn}/comments`): creating one
//! as a member or an organization the member administers, and listing a post's comments. Comment
//! text is not little text: it is kept as sent. Each comment goes into the ledger as a reply to
//! its post.

use axum::body::Bytes;
use axum::extract::{Path, State as AxumState};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Shared;
use super::errors::{forbidden, rest_error, unprocessable};
use super::front_door::{authed_rest, authed_step, check_versions};
use super::publishing::may_read;
use crate::LedgerEntry;
use crate::util;

/// LinkedIn's comment limit.
const MAX_COMMENT: usize = 1250;

/// A comment on a post.
pub(super) struct Comment {
    pub(super) urn: String,
    pub(super) post_urn: String,
    pub(super) actor: String,
    pub(super) text: String,
    pub(super) created_at: chrono::DateTime<chrono::Utc>,
}

pub(super) async fn create_comment(AxumState(inner): Shared, Path(post_urn): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    let received_at = inner.now();
    let auth = match authed_step(&inner, &headers, "comment").await {
        Ok(auth) => auth,
        Err(response) => return response,
    };
    if let Err(response) = check_versions(&inner, &headers) {
        return response;
    }
    let Ok(Value::Object(request)) = serde_json::from_slice::<Value>(&body) else {
        return rest_error(400, "ILLEGAL_ARGUMENT", "Request body could not be converted to data map");
    };
    let actor = request.get("actor").and_then(Value::as_str).unwrap_or_default().to_owned();
    let text = request.get("message").and_then(|m| m.get("text")).and_then(Value::as_str).unwrap_or_default().to_owned();
    if actor.is_empty() || text.is_empty() {
        return unprocessable("ERROR :: /actor and /message/text :: field is required but not found and has no default value\n");
    }
    if text.chars().count() > MAX_COMMENT {
        return unprocessable(&format!("ERROR :: /message/text :: length exceeds the maximum of {MAX_COMMENT} characters\n"));
    }
    let now = inner.now();
    let mut state = inner.lock();
    let li = &mut state.linkedin;
    if !li.posts.iter().any(|p| !p.deleted && p.urn == post_urn) {
        return rest_error(404, "NOT_FOUND", &format!("Post {post_urn} not found"));
    }
    let allowed = match actor.strip_prefix("urn:li:organization:") {
        Some(org) => li.member(&auth.member_id).is_some_and(|m| m.orgs.iter().any(|o| o.to_string() == org)),
        None => actor == format!("urn:li:person:{}", auth.member_id),
    };
    if !allowed || !(auth.has("w_member_social") || auth.has("w_organization_social")) {
        return forbidden("Not enough permissions to access: socialActions.comments.CREATE.NO_VERSION");
    }
    let id = util::time_id(&mut li.last_post_id, now, 0, 7_000_000_000_000_000_000);
    let urn = format!("urn:li:comment:({post_urn},{id})");
    li.comments.push(Comment { urn: urn.clone(), post_urn: post_urn.clone(), actor: actor.clone(), text: text.clone(), created_at: now });
    state.ledger.push(LedgerEntry {
        platform: "linkedin".to_owned(),
        user_id: auth.member_id,
        author: actor.clone(),
        post_id: urn.clone(),
        text: text.clone(),
        in_reply_to: Some(post_urn.clone()),
        received_at,
        accepted_at: now,
    });
    let body = json!({ "$URN": urn, "id": id.to_string(), "actor": actor, "object": post_urn, "message": { "text": text } });
    let mut response = util::json(StatusCode::CREATED, &body, HeaderMap::new()).into_response();
    response.headers_mut().insert("x-restli-id", HeaderValue::from_str(&urn).expect("ascii urn"));
    response
}

pub(super) async fn list_comments(AxumState(inner): Shared, Path(post_urn): Path<String>, headers: HeaderMap) -> Response {
    let auth = match authed_rest(&inner, &headers).await {
        Ok(auth) => auth,
        Err(response) => return response,
    };
    let state = inner.lock();
    let li = &state.linkedin;
    let Some(post) = li.posts.iter().find(|p| !p.deleted && p.urn == post_urn) else {
        return rest_error(404, "NOT_FOUND", &format!("Post {post_urn} not found"));
    };
    if !may_read(li, &auth, &post.author) {
        return forbidden("Not enough permissions to access: socialActions.comments.GET_ALL.NO_VERSION");
    }
    let elements: Vec<Value> = li
        .comments
        .iter()
        .rev()
        .filter(|c| c.post_urn == post_urn)
        .map(|c| {
            json!({ "$URN": c.urn, "actor": c.actor, "object": c.post_urn, "message": { "text": c.text },
                    "created": { "actor": c.actor, "time": c.created_at.timestamp_millis() } })
        })
        .collect();
    let total = elements.len();
    util::json(
        StatusCode::OK,
        &json!({ "paging": { "start": 0, "count": total, "links": [], "total": total }, "elements": elements }),
        HeaderMap::new(),
    )
}
