//! Server functions answer every error with HTTP 500 (the server_fn default). This gives each
//! error its own status — 422 for a field to correct, 401, 403, 404, 409, 429 — decided in one
//! place, `AppError::status`, so logs and proxies see a wrong password as a client error.

use app::errors::AppError;
use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{Response, StatusCode};
use axum::middleware::Next;

/// Error bodies are a few hundred bytes of JSON; anything larger is left as it is.
const MAX_ERROR_BODY: usize = 64 * 1024;

pub(super) async fn statuses(request: Request, next: Next) -> Response<Body> {
    let response = next.run(request).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR || !response.headers().contains_key("serverfnerror") {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_ERROR_BODY).await else {
        parts.status = StatusCode::INTERNAL_SERVER_ERROR;
        return Response::from_parts(parts, Body::empty());
    };
    if let Ok(error) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    }
    Response::from_parts(parts, Body::from(bytes))
}
