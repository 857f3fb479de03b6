//! LinkedIn's error bodies for the API routes (platforms.md §2.6), including the 401s that say why
//! a token was refused. The OAuth endpoints answer RFC 6749 bodies instead (`oauth_error` in
//! [`super::token`]).

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use crate::util;

pub(super) fn error(status: StatusCode, body: Value) -> Response {
    util::json(status, &body, HeaderMap::new())
}

pub(super) fn rest_error(status: u16, code: &str, message: &str) -> Response {
    let status_code = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    error(status_code, json!({"status": status, "code": code, "message": message}))
}

pub(super) fn forbidden(message: &str) -> Response {
    error(StatusCode::FORBIDDEN, json!({"serviceErrorCode": 100, "message": message, "status": 403}))
}

pub(super) fn unprocessable(message: &str) -> Response {
    error(StatusCode::UNPROCESSABLE_ENTITY, json!({"message": message, "status": 422}))
}

/// Why a bearer token was refused.
pub(super) enum TokenProblem {
    Missing,
    Unknown,
    Expired,
    Revoked,
}

pub(super) fn token_error(problem: TokenProblem) -> Response {
    let body = match problem {
        TokenProblem::Missing => json!({"message": "Empty oauth2_access_token", "serviceErrorCode": 401, "status": 401}),
        TokenProblem::Unknown => json!({"serviceErrorCode": 65600, "message": "Invalid access token", "status": 401}),
        // The exact serviceErrorCode for expiry is NOT FOUND (§6); §5 suggests 65600 "Expired access token".
        TokenProblem::Expired => json!({"serviceErrorCode": 65600, "message": "Expired access token", "status": 401}),
        TokenProblem::Revoked => json!({
            "status": 401,
            "serviceErrorCode": 65601,
            "code": "REVOKED_ACCESS_TOKEN",
            "message": "The token used in the request has been revoked by the user",
        }),
    };
    error(StatusCode::UNAUTHORIZED, body)
}

pub(super) fn transient() -> Response {
    // §2.6 lists 500/504 without a body; LinkedIn's usual error fields.
    error(StatusCode::INTERNAL_SERVER_ERROR, json!({"message": "Internal Server Error", "status": 500}))
}
