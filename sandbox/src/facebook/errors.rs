//! Meta's error envelope (platforms.md §3.3),
//! `{"error":{"message","type","code"[,"error_subcode"],"fbtrace_id"}}`, and the errors more than
//! one endpoint answers.

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;

use crate::util;

fn trace_id() -> String {
    util::random_token().chars().filter(|c| c.is_ascii_alphanumeric()).take(11).collect()
}

pub(super) fn graph_error(
    status: StatusCode,
    kind: &str,
    code: u32,
    subcode: Option<u32>,
    message: &str,
    transient: Option<bool>,
) -> Response {
    let mut error = json!({"message": message, "type": kind, "code": code});
    if let Some(subcode) = subcode {
        error["error_subcode"] = json!(subcode);
    }
    if let Some(transient) = transient {
        error["is_transient"] = json!(transient);
    }
    error["fbtrace_id"] = json!(trace_id());
    util::json(status, &json!({"error": error}), HeaderMap::new())
}

pub(super) fn oauth_exception(code: u32, subcode: Option<u32>, message: &str) -> Response {
    graph_error(StatusCode::BAD_REQUEST, "OAuthException", code, subcode, message, None)
}

pub(super) fn permission(message: &str) -> Response {
    oauth_exception(200, None, &format!("(#200) {message}"))
}

pub(super) fn invalid_parameter(message: &str) -> Response {
    oauth_exception(100, None, &format!("(#100) {message}"))
}

pub(super) fn transient_500() -> Response {
    graph_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "OAuthException",
        2,
        None,
        "An unexpected error has occurred. Please retry your request later.",
        Some(true),
    )
}

pub(super) fn with_headers(mut response: Response, headers: HeaderMap) -> Response {
    response.headers_mut().extend(headers);
    response
}

/// With a Page token, `/me` is the Page, which has no such edge.
pub(super) fn not_on_a_page(edge: &str) -> Response {
    invalid_parameter(&format!("Tried accessing nonexisting field ({edge}) on node type (Page)"))
}

pub(super) fn not_found(id: &str, operation: &str) -> Response {
    let message = format!(
        "Unsupported {operation} request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api"
    );
    graph_error(StatusCode::BAD_REQUEST, "GraphMethodException", 100, Some(33), &message, None)
}
