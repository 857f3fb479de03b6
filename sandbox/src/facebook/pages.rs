//! Pages: `GET /me/accounts` (the Pages the person granted the app, each with a fresh Page token)
//! and `GET /{id}` (a Page, or a post, by id, with its engagement counts when asked), with Graph's
//! `fields` selection.

use std::collections::HashMap;

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::TimeDelta;
use serde_json::{Value, json};

use super::errors::{not_found, not_on_a_page, permission, with_headers};
use super::front_door::enter;
use super::publishing::post_json;
use super::state::{Kind, Token};
use super::token::new_token;
use crate::Inner;
use crate::util;

/// Keeps only the asked `fields` (always `id`); a field's sub-selection (`picture{url}`) or
/// modifiers (`reactions.summary(total_count).limit(0)`) are answered whole.
pub(super) fn select(all: Value, fields: &str) -> Value {
    let wanted: Vec<&str> = fields.split(',').map(|f| f.split(['{', '.']).next().unwrap_or(f).trim()).collect();
    let mut out = serde_json::Map::new();
    if let Value::Object(map) = all {
        for (k, v) in map {
            if k == "id" || wanted.contains(&k.as_str()) {
                out.insert(k, v);
            }
        }
    }
    Value::Object(out)
}

/// A Page's `picture` as Graph nests it (the 50×50 default; the fake's picture is 48×48).
pub(super) fn page_picture(inner: &Inner, page_id: &str) -> Value {
    let url = crate::pictures::url(inner, crier_platform::Platform::Facebook, page_id);
    json!({"data": {"height": 50, "width": 50, "is_silhouette": false, "url": url}})
}

pub(super) async fn accounts(inner: &Inner, version: &str, headers: &HeaderMap, params: &HashMap<String, String>) -> Response {
    let (token, usage) = match enter(inner, version, headers, params, true).await {
        Ok(entered) => entered,
        Err(response) => return response,
    };
    let Kind::User { long_lived } = token.kind else {
        return not_on_a_page("accounts");
    };
    if !token.scope.iter().any(|s| s == "pages_show_list") {
        return with_headers(permission("Requires pages_show_list permission to manage the object"), usage);
    }
    let now = inner.now();
    let page_ttl = TimeDelta::from_std(inner.config.facebook_short_page_token_ttl).unwrap_or(TimeDelta::hours(1));
    let mut state = inner.lock();
    let meta = &mut state.facebook;
    let granted = meta.grants.get(&(token.user_id.clone(), token.app_id.clone())).cloned().unwrap_or_default();
    let mut data = Vec::new();
    for page_id in granted {
        let Some(page) = meta.pages.iter().find(|p| p.id == page_id && p.admins.contains(&token.user_id)) else { continue };
        let (name, category) = (page.name.clone(), page.category.clone());
        let picture = page_picture(inner, &page_id);
        let page_token = new_token();
        // From a short-lived user token: 1 hour; from a long-lived one: no expiry (§3.2).
        let expires_at = if long_lived { None } else { Some(now + page_ttl) };
        let record = Token {
            kind: Kind::Page { page_id: page_id.clone() },
            user_id: token.user_id.clone(),
            app_id: token.app_id.clone(),
            scope: token.scope.clone(),
            expires_at,
            invalidated: None,
        };
        meta.tokens.insert(page_token.clone(), record);
        data.push(json!({
            "access_token": page_token,
            "category": category,
            "category_list": [{"id": "2211", "name": category}],
            "name": name,
            "id": page_id,
            "tasks": ["ANALYZE", "ADVERTISE", "MODERATE", "CREATE_CONTENT", "MANAGE"],
            "picture": picture,
        }));
    }
    let body = json!({"data": data, "paging": {"cursors": {"before": "QVFIUkJEZA", "after": "QVFIUkJEZA"}}});
    util::json(StatusCode::OK, &body, usage)
}

pub(super) async fn page_node(inner: &Inner, version: &str, node: &str, headers: &HeaderMap, params: &HashMap<String, String>) -> Response {
    let (token, usage) = match enter(inner, version, headers, params, false).await {
        Ok(entered) => entered,
        Err(response) => return response,
    };
    let now = inner.now();
    let state = inner.lock();
    let meta = &state.facebook;
    let fields = params.get("fields").map(String::as_str).unwrap_or("id,name");
    if let Some(page) = meta.pages.iter().find(|p| p.id == node) {
        let all = json!({"id": page.id, "name": page.name, "category": page.category, "picture": page_picture(inner, &page.id)});
        return util::json(StatusCode::OK, &select(all, fields), usage);
    }
    if let Some(post) = meta.posts.iter().find(|p| !p.deleted && p.id == node) {
        let mut all = post_json(post);
        if super::metrics::asks_for_engagement(fields) {
            if !super::metrics::may_read_engagement(&token) {
                return with_headers(permission("Requires pages_read_engagement permission to manage the object"), usage);
            }
            if let Value::Object(map) = &mut all {
                map.extend(super::metrics::engagement_fields(post, now));
            }
        }
        return util::json(StatusCode::OK, &select(all, fields), usage);
    }
    with_headers(not_found(node, "get"), usage)
}
