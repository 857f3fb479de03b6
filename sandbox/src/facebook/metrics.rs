//! Engagement read back (media-and-metrics.md §3.3), with [`crate::engagement`]'s numbers:
//!
//! - `GET /{page_post_id}?fields=reactions.summary(total_count).limit(0),comments.summary(true)
//!   .limit(0),shares`: the counts, as [`engagement_fields`] adds them to the post (`shares` is
//!   absent at 0, as Graph leaves it out). Needs a token with `pages_read_engagement`.
//! - `GET /{page_post_id}/insights?metric=…`: lifetime values of the metrics that still exist
//!   (`post_media_view`, `post_total_media_view_unique`, `post_reactions_by_type_total`,
//!   `post_clicks`). One metric it does not know (the retired `post_impressions*` among them)
//!   fails the whole call with `(#100) The value must be a valid insights metric`. Needs the
//!   Page's token with `read_insights`.

use std::collections::HashMap;

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::errors::{invalid_parameter, not_found, permission, with_headers};
use super::front_door::enter;
use super::state::{Kind, Post, Token};
use crate::Inner;
use crate::engagement::engagement;
use crate::util;

/// The insights metrics the fake knows, with their titles.
const INSIGHTS: [(&str, &str); 4] = [
    ("post_media_view", "Post media views"),
    ("post_total_media_view_unique", "Post total media view unique"),
    ("post_reactions_by_type_total", "Total post reactions by type"),
    ("post_clicks", "Post clicks"),
];

/// The fields of [`engagement`] a post answers when asked: `reactions`, `comments` and `shares`.
pub(super) fn engagement_fields(post: &Post, now: DateTime<Utc>) -> serde_json::Map<String, Value> {
    let e = engagement(&post.id, now - post.created_at);
    let mut fields = serde_json::Map::new();
    fields.insert("reactions".into(), json!({"data": [], "summary": {"total_count": e.likes, "viewer_reaction": "NONE"}}));
    fields.insert("comments".into(), json!({"data": [], "summary": {"order": "ranked", "total_count": e.replies, "can_comment": true}}));
    if e.reposts > 0 {
        fields.insert("shares".into(), json!({"count": e.reposts}));
    }
    fields
}

/// Whether `fields` asks for any of [`engagement_fields`]'s.
pub(super) fn asks_for_engagement(fields: &str) -> bool {
    fields.split(',').any(|f| matches!(f.split(['.', '{']).next().map(str::trim), Some("reactions" | "comments" | "shares")))
}

/// Whether the token may read engagement (`pages_read_engagement`).
pub(super) fn may_read_engagement(token: &Token) -> bool {
    token.scope.iter().any(|s| s == "pages_read_engagement")
}

pub(super) async fn insights(inner: &Inner, version: &str, node: &str, headers: &HeaderMap, params: &HashMap<String, String>) -> Response {
    let (token, usage) = match enter(inner, version, headers, params, false).await {
        Ok(entered) => entered,
        Err(response) => return response,
    };
    let metrics: Vec<&str> = params.get("metric").map(|m| m.split(',').map(str::trim).collect()).unwrap_or_default();
    if metrics.is_empty() || metrics.iter().any(|m| !INSIGHTS.iter().any(|(known, _)| known == m)) {
        return with_headers(invalid_parameter("The value must be a valid insights metric"), usage);
    }
    let now = inner.now();
    let state = inner.lock();
    let Some(post) = state.facebook.posts.iter().find(|p| !p.deleted && p.id == node) else {
        return with_headers(not_found(node, "get"), usage);
    };
    let own_page = matches!(&token.kind, Kind::Page { page_id } if *page_id == post.page_id);
    if !own_page || !token.scope.iter().any(|s| s == "read_insights") {
        return with_headers(
            permission("The user does not have sufficient administrative permission for this action on this page."),
            usage,
        );
    }
    let e = engagement(&post.id, now - post.created_at);
    let data: Vec<Value> = metrics
        .iter()
        .map(|metric| {
            let title = INSIGHTS.iter().find(|(known, _)| known == metric).map_or("", |(_, t)| t);
            let value = match *metric {
                "post_media_view" => json!(e.impressions),
                "post_total_media_view_unique" => json!(e.impressions * 4 / 5),
                "post_reactions_by_type_total" => json!({"like": e.likes}),
                _ => json!(e.link_clicks + e.profile_clicks),
            };
            json!({
                "name": metric,
                "period": "lifetime",
                "values": [{"value": value}],
                "title": title,
                "description": format!("Lifetime: {title}"),
                "id": format!("{}/insights/{metric}/lifetime", post.id),
            })
        })
        .collect();
    util::json(StatusCode::OK, &json!({"data": data, "paging": {}}), usage)
}
