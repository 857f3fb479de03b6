//! Which endpoint a Graph path is: `/facebook/{version}/{node}` and
//! `/facebook/{version}/{node}/{edge}` come here, and the node and edge pick the handler; anything
//! else is Meta's "Unknown path components". A post to a feed takes its parameters from the query
//! and a form or JSON body, merged as Graph does.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{Path, Query, State as AxumState};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::Value;

use super::Shared;
use super::consent::{dialog_page, dialog_submit};
use super::errors::{invalid_parameter, oauth_exception};
use super::me::{deauthorize, me};
use super::media;
use super::pages::{accounts, page_node};
use super::publishing::{delete_post, feed, publish};
use super::token::access_token;
use crate::util;

pub(super) async fn get_node(
    AxumState(inner): Shared,
    Path((version, node)): Path<(String, String)>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    if node == "me" {
        return me(&inner, &version, &headers, &params).await;
    }
    if node.starts_with("upload:") {
        return media::session_status(&inner, &version, &node, &headers, &params).await;
    }
    if let Some(response) = media::status(&inner, &version, &node, &headers, &params).await {
        return response;
    }
    page_node(&inner, &version, &node, &headers, &params).await
}

/// `POST /upload:<id>`: a chunk of a resumable upload (the only node Graph takes a POST on here).
pub(super) async fn post_node(
    AxumState(inner): Shared,
    Path((version, node)): Path<(String, String)>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
    body: Body,
) -> Response {
    if node.starts_with("upload:") {
        return media::transfer(&inner, &version, &node, &headers, &params, body).await;
    }
    oauth_exception(2500, None, &format!("Unknown path components: /{node}"))
}

pub(super) async fn delete_node(
    AxumState(inner): Shared,
    Path((version, node)): Path<(String, String)>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    delete_post(&inner, &version, &node, &headers, &params).await
}

pub(super) async fn get_edge(
    AxumState(inner): Shared,
    Path((version, node, edge)): Path<(String, String, String)>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    match (node.as_str(), edge.as_str()) {
        ("dialog", "oauth") => dialog_page(&inner, &version, &params),
        ("oauth", "access_token") => access_token(&inner, &version, &params).await,
        ("me", "accounts") => accounts(&inner, &version, &headers, &params).await,
        (_, "feed") | (_, "posts") | (_, "published_posts") => feed(&inner, &version, &node, &headers, &params).await,
        (_, "comments") => super::comments::list(&inner, &version, &node, &headers, &params).await,
        (_, "insights") => super::metrics::insights(&inner, &version, &node, &headers, &params).await,
        _ => unknown_path(&node, &edge),
    }
}

pub(super) async fn post_edge(
    AxumState(inner): Shared,
    Path((version, node, edge)): Path<(String, String, String)>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    body: Body,
) -> Response {
    let content_type = headers.get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    match (node.as_str(), edge.as_str()) {
        // Photos and a chunked video upload's transfers stream their bytes (multipart); everything
        // else is a small form or JSON body.
        (_, "photos") => return media::photos(&inner, &version, &node, &headers, query, body).await,
        (_, "videos") if content_type.starts_with("multipart/form-data") => {
            return media::videos_multipart(&inner, &version, &node, &headers, query, body).await;
        }
        (_, "feed" | "videos" | "uploads" | "comments") | ("dialog", "oauth") => {}
        _ => return unknown_path(&node, &edge),
    }
    let Ok(body) = axum::body::to_bytes(body, FORM_LIMIT).await else {
        return invalid_parameter("The request body is too large or broke off");
    };
    if (node.as_str(), edge.as_str()) == ("dialog", "oauth") {
        return dialog_submit(&inner, &version, &body);
    }
    // JSON or form body; query parameters too (Graph merges them).
    let mut params = query;
    if content_type.starts_with("application/json") {
        match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Object(map)) => {
                for (k, v) in map {
                    let v = match v {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    params.insert(k, v);
                }
            }
            _ => return invalid_parameter("The request body is not valid JSON"),
        }
    } else {
        params.extend(util::parse_form(&body));
    }
    match edge.as_str() {
        "feed" => publish(&inner, &version, &node, &headers, &params).await,
        "comments" => super::comments::create(&inner, &version, &node, &headers, &params).await,
        "videos" => media::videos(&inner, &version, &node, &headers, &params, None).await,
        _ => media::open_session(&inner, &version, &node, &headers, &params).await,
    }
}

/// The largest form or JSON body read whole (photos and upload chunks stream instead).
const FORM_LIMIT: usize = 1024 * 1024;

pub(super) async fn delete_edge(
    AxumState(inner): Shared,
    Path((version, node, edge)): Path<(String, String, String)>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    match edge.as_str() {
        "permissions" => deauthorize(&inner, &version, &node, &headers, &params).await,
        _ => unknown_path(&node, &edge),
    }
}

fn unknown_path(node: &str, edge: &str) -> Response {
    oauth_exception(2500, None, &format!("Unknown path components: /{node}/{edge}"))
}
