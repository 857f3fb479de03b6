//! X's problem bodies for the API routes (platforms.md §1.4). The token endpoints answer RFC 6749
//! bodies instead (`oauth_error` in [`super::token`]).

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;

use crate::util;

pub(super) fn unauthorized() -> Response {
    let body = json!({"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"});
    util::json(StatusCode::UNAUTHORIZED, &body, HeaderMap::new())
}

pub(super) fn forbidden(detail: &str, headers: HeaderMap) -> Response {
    let body = json!({"detail": detail, "type": "about:blank", "title": "Forbidden", "status": 403});
    util::json(StatusCode::FORBIDDEN, &body, headers)
}

pub(super) fn too_many_requests(headers: HeaderMap) -> Response {
    let body = json!({"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429});
    util::json(StatusCode::TOO_MANY_REQUESTS, &body, headers)
}

/// X v2's validation shape: `errors[]` naming the parameter, then the problem fields.
pub(super) fn invalid_request(parameter: &str, message: &str, headers: HeaderMap) -> Response {
    let mut error = json!({"message": message});
    if !parameter.is_empty() {
        error["parameters"] = json!({ parameter: [message] });
    }
    let body = json!({
        "errors": [error],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": "https://api.x.com/2/problems/invalid-request",
    });
    util::json(StatusCode::BAD_REQUEST, &body, headers)
}

pub(super) fn not_found(kind: &str, id: &str, headers: HeaderMap) -> Response {
    let body = json!({
        "title": "Not Found Error",
        "type": "https://api.x.com/2/problems/resource-not-found",
        "detail": format!("Could not find {kind} with id: [{id}]."),
        "status": 404,
        "resource_type": kind,
        "resource_id": id,
    });
    util::json(StatusCode::NOT_FOUND, &body, headers)
}

/// A post naming media ids X will not take (expired, unknown, failed, still processing), as
/// observed (media-and-metrics.md §1.4): the ids under `parameters.media.media_ids`.
pub(super) fn invalid_media_ids(ids: &[String], headers: HeaderMap) -> Response {
    let body = json!({
        "errors": [{"parameters": {"media.media_ids": ids}, "message": crier_protocol::x::media::INVALID_MEDIA_IDS}],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": "https://api.twitter.com/2/problems/invalid-request",
    });
    util::json(StatusCode::BAD_REQUEST, &body, headers)
}
