//! Publishing and the posts it makes (the Posts API, §2.2, §2.4): `POST /rest/posts` (the daily
//! throttle, body validation, who may post as whom, length, duplicates, the ledger), reading one
//! post or an author's recent posts, and deleting.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State as AxumState};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Shared;
use super::errors::{error, forbidden, rest_error, unprocessable};
use super::front_door::{Auth, authed_rest, authed_step, check_versions};
use super::little_text::little_text_keep;
use super::state::{LinkedInState, Post};
use crate::LedgerEntry;
use crate::util;

const MAX_COMMENTARY: usize = 3000;

const VISIBILITIES: &[&str] = &["CONNECTIONS", "PUBLIC", "LOGGED_IN", "CONTAINER"];
const LIFECYCLES: &[&str] = &["DRAFT", "PUBLISHED", "PUBLISH_REQUESTED", "PUBLISH_FAILED"];
/// LinkedIn ids are time-ordered like X's; the share id in §2.6 is from 2023.
const LINKEDIN_EPOCH_MS: i64 = 0;

pub(super) async fn create_post(AxumState(inner): Shared, headers: HeaderMap, body: Bytes) -> Response {
    let received_at = inner.now();
    let auth = match authed_step(&inner, &headers, "post").await {
        Ok(auth) => auth,
        Err(response) => return response,
    };
    if let Err(response) = check_versions(&inner, &headers) {
        return response;
    }
    let now = inner.now();
    let daily_limit = inner.config.linkedin_limits.posts_per_member_per_day;
    let mut state = inner.lock();
    if let Err(response) = state.linkedin.count_post_call(&auth, daily_limit, now) {
        return response;
    }

    let request = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(map)) => map,
        _ => return rest_error(400, "ILLEGAL_ARGUMENT", "Request body could not be converted to data map"),
    };
    let missing: String = ["author", "commentary", "visibility", "distribution", "lifecycleState"]
        .iter()
        .filter(|f| !request.contains_key(**f))
        .map(|f| format!("ERROR :: /{f} :: field is required but not found and has no default value\n"))
        .collect();
    if !missing.is_empty() {
        return unprocessable(&missing);
    }
    let string = |f: &str| request.get(f).and_then(Value::as_str).map(str::to_owned);
    let (Some(author), Some(commentary), Some(visibility), Some(lifecycle_state)) =
        (string("author"), string("commentary"), string("visibility"), string("lifecycleState"))
    else {
        return unprocessable("ERROR :: author, commentary, visibility and lifecycleState must be strings\n");
    };
    if !VISIBILITIES.contains(&visibility.as_str()) {
        return unprocessable(&format!("ERROR :: /visibility :: \"{visibility}\" is not an enum symbol\n"));
    }
    if !LIFECYCLES.contains(&lifecycle_state.as_str()) {
        return unprocessable(&format!("ERROR :: /lifecycleState :: \"{lifecycle_state}\" is not an enum symbol\n"));
    }
    let distribution = request.get("distribution").cloned().unwrap_or(Value::Null);
    if distribution.get("feedDistribution").and_then(Value::as_str).is_none() {
        return unprocessable("ERROR :: /distribution/feedDistribution :: field is required but not found and has no default value\n");
    }
    let content = request.get("content").cloned();
    if let Some(article) = content.as_ref().and_then(|c| c.get("article"))
        && article.get("source").and_then(Value::as_str).is_none_or(|s| url::Url::parse(s).is_err())
    {
        return unprocessable("ERROR :: /content/article/source :: field is required but not found and has no default value\n");
    }
    // Who may post as whom (§2.2 permissions).
    if let Some(person) = author.strip_prefix("urn:li:person:") {
        if person != auth.member_id {
            return forbidden(&format!("Not enough permissions to access: partnerApiPostsExternal.CREATE.{}", "member mismatch"));
        }
        if !auth.has("w_member_social") {
            return forbidden("Not enough permissions to access: partnerApiPostsExternal.CREATE.NO_VERSION");
        }
    } else if let Some(org) = author.strip_prefix("urn:li:organization:") {
        let admin = state.linkedin.member(&auth.member_id).is_some_and(|m| m.orgs.iter().any(|o| o.to_string() == org));
        if !auth.has("w_organization_social") || !admin {
            return forbidden("Not enough permissions to access: partnerApiPostsExternal.CREATE.NO_VERSION");
        }
    } else {
        return unprocessable(&format!("ERROR :: /author :: \"{author}\" is not a valid person or organization URN\n"));
    }
    // Length: 3,000 characters (secondary, §2.2), counted on the commentary as sent.
    let length = commentary.chars().count();
    if length > MAX_COMMENTARY {
        let body = json!({
            "errorDetailType": "com.linkedin.common.error.BadRequest",
            "message": format!("ERROR :: /commentary :: commentary length {length} exceeds the maximum of {MAX_COMMENTARY} characters"),
            "errorDetails": {"inputErrors": [{"description": "Text length exceeds the maximum", "input": {"inputPath": {"fieldPath": "/commentary"}}, "code": "MAX_LENGTH_EXCEEDED"}]},
            "status": 422,
        });
        return error(StatusCode::UNPROCESSABLE_ENTITY, body);
    }
    // Media (media-and-metrics.md §2.4): every asset named is the author's and AVAILABLE.
    let media = match content.as_ref().filter(|c| c.get("media").is_some() || c.get("multiImage").is_some()) {
        Some(content) => match state.linkedin.check_post_content(&author, content, &inner.config.linkedin_media) {
            Ok(media) => media,
            Err(response) => return response,
        },
        None => Vec::new(),
    };
    let kept = little_text_keep(&commentary).to_owned();
    // Duplicate: the same author's live post with the same commentary (no time window documented).
    if let Some(original) =
        state.linkedin.posts.iter().find(|p| !p.deleted && p.author == author && p.commentary == kept && p.content == content)
    {
        let body = json!({
            "errorDetailType": "com.linkedin.common.error.BadRequest",
            "message": format!("com.linkedin.content.common.exception.BadRequestResponseException: Content is a duplicate of {}", original.urn),
            "errorDetails": {"inputErrors": [{"description": "Duplicate post is detected", "input": {}, "code": "DUPLICATE_POST"}]},
            "status": 422,
        });
        return error(StatusCode::UNPROCESSABLE_ENTITY, body);
    }
    let id = util::time_id(&mut state.linkedin.last_post_id, now, LINKEDIN_EPOCH_MS, 6_800_000_000_000_000_000);
    let urn = format!("urn:li:share:{id}");
    state.linkedin.posts.push(Post {
        urn: urn.clone(),
        member_id: auth.member_id.clone(),
        author: author.clone(),
        commentary: kept.clone(),
        visibility,
        lifecycle_state,
        distribution,
        content,
        created_at: now,
        deleted: false,
    });
    state.ledger.push(LedgerEntry {
        platform: "linkedin".to_owned(),
        user_id: auth.member_id,
        author,
        post_id: urn.clone(),
        text: kept,
        in_reply_to: None,
        received_at,
        accepted_at: now,
    });
    state.record_media("linkedin", &urn, media);
    let mut response = StatusCode::CREATED.into_response();
    let headers = response.headers_mut();
    headers.insert("x-restli-id", HeaderValue::from_str(&urn).expect("ascii urn"));
    headers.insert("x-linkedin-id", HeaderValue::from_str(&urn).expect("ascii urn"));
    response
}

fn post_json(p: &Post) -> Value {
    let millis = p.created_at.timestamp_millis();
    let mut body = json!({
        "id": p.urn,
        "author": p.author,
        "commentary": p.commentary,
        "visibility": p.visibility,
        "distribution": p.distribution,
        "lifecycleState": p.lifecycle_state,
        "isReshareDisabledByAuthor": false,
        "createdAt": millis,
        "publishedAt": millis,
        "lastModifiedAt": millis,
        "lifecycleStateInfo": {"isEditedByAuthor": false},
    });
    if let Some(content) = &p.content {
        body["content"] = content.clone();
    }
    body
}

/// Reading posts needs the restricted read scopes (§2.2).
pub(super) fn may_read(li: &LinkedInState, auth: &Auth, author: &str) -> bool {
    if author.strip_prefix("urn:li:person:").is_some() {
        return auth.has("r_member_social");
    }
    if let Some(org) = author.strip_prefix("urn:li:organization:") {
        let admin = li.member(&auth.member_id).is_some_and(|m| m.orgs.iter().any(|o| o.to_string() == org));
        return admin && auth.has("r_organization_social");
    }
    false
}

pub(super) async fn get_post(AxumState(inner): Shared, headers: HeaderMap, Path(urn): Path<String>) -> Response {
    let auth = match authed_rest(&inner, &headers).await {
        Ok(auth) => auth,
        Err(response) => return response,
    };
    let state = inner.lock();
    match state.linkedin.posts.iter().find(|p| !p.deleted && p.urn == urn) {
        Some(p) if may_read(&state.linkedin, &auth, &p.author) => util::json(StatusCode::OK, &post_json(p), HeaderMap::new()),
        Some(_) => forbidden("Not enough permissions to access: partnerApiPostsExternal.GET.NO_VERSION"),
        None => rest_error(404, "NOT_FOUND", &format!("Post {urn} not found")),
    }
}

pub(super) async fn list_posts(AxumState(inner): Shared, headers: HeaderMap, Query(query): Query<HashMap<String, String>>) -> Response {
    let auth = match authed_rest(&inner, &headers).await {
        Ok(auth) => auth,
        Err(response) => return response,
    };
    if query.get("q").map(String::as_str) != Some("author") {
        return rest_error(400, "ILLEGAL_ARGUMENT", "The finder \"q\" must be author.");
    }
    let Some(author) = query.get("author") else { return rest_error(400, "ILLEGAL_ARGUMENT", "The author parameter is required.") };
    let count = query.get("count").and_then(|c| c.parse::<usize>().ok()).unwrap_or(10).clamp(1, 100);
    let start = query.get("start").and_then(|c| c.parse::<usize>().ok()).unwrap_or(0);
    let state = inner.lock();
    let li = &state.linkedin;
    if !may_read(li, &auth, author) {
        return forbidden("Not enough permissions to access: partnerApiPostsExternal.FINDER-author.NO_VERSION");
    }
    let all: Vec<&Post> = li.posts.iter().rev().filter(|p| !p.deleted && p.author == *author).collect();
    let elements: Vec<Value> = all.iter().skip(start).take(count).map(|p| post_json(p)).collect();
    let body = json!({"paging": {"start": start, "count": count, "links": [], "total": all.len()}, "elements": elements});
    util::json(StatusCode::OK, &body, HeaderMap::new())
}

/// 204, idempotent (§2.2): an unknown or already deleted post answers 204 too.
pub(super) async fn delete_post(AxumState(inner): Shared, headers: HeaderMap, Path(urn): Path<String>) -> Response {
    let auth = match authed_rest(&inner, &headers).await {
        Ok(auth) => auth,
        Err(response) => return response,
    };
    let mut state = inner.lock();
    let li = &mut state.linkedin;
    let orgs = li.member(&auth.member_id).map(|m| m.orgs.clone()).unwrap_or_default();
    if let Some(post) = li.posts.iter_mut().find(|p| !p.deleted && p.urn == urn) {
        let own = post.member_id == auth.member_id && post.author.starts_with("urn:li:person:") && auth.has("w_member_social");
        let org = post.author.strip_prefix("urn:li:organization:").is_some_and(|o| orgs.iter().any(|id| id.to_string() == o))
            && auth.has("w_organization_social");
        if !own && !org {
            return forbidden("Not enough permissions to access: partnerApiPostsExternal.DELETE.NO_VERSION");
        }
        post.deleted = true;
    }
    StatusCode::NO_CONTENT.into_response()
}
