//! `GET /accounts/{id}/picture`: an account's profile picture as Crier stored it, to signed-in
//! members of the account's team (another team's account, or none, is 404 alike).
//!
//! The bytes were checked to be PNG, JPEG, GIF or WebP when fetched and are served with that type,
//! `nosniff` (on every response) and the media answers' deny-all sandboxing policy, so nothing a
//! platform sent can run as a page. Pages link to `?v=<version>`, which changes with the bytes:
//! a browser keeps a picture for long and asks again only when the account has a new one.

use app::state::AppState;
use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use crier_domain::DomainError;
use crier_domain::store::account_pictures;
use tower_sessions::Session;
use uuid::Uuid;

use super::media_files::team_of;
use crate::media_bytes::MEDIA_CSP;

/// A year, privately: the URL changes when the picture does.
const CACHE: &str = "private, max-age=31536000, immutable";

pub(super) async fn picture(State(state): State<AppState>, session: Session, Path(id): Path<String>) -> Response {
    let team_id = match team_of(&session, &state).await {
        Ok(team) => team,
        Err(answer) => return answer,
    };
    let Ok(account_id) = Uuid::parse_str(&id) else {
        return (StatusCode::NOT_FOUND, "No such picture.").into_response();
    };
    let stored = match account_pictures::get(&state.pool, team_id, account_id).await {
        Ok(stored) => stored,
        Err(DomainError::NotFound) => return (StatusCode::NOT_FOUND, "No such picture.").into_response(),
        Err(error) => {
            tracing::error!(%error, "reading an account picture failed");
            return (StatusCode::SERVICE_UNAVAILABLE, "Crier cannot reach its database right now. Please try again in a moment.")
                .into_response();
        }
    };
    let mut response = stored.bytes.into_response();
    let headers = response.headers_mut();
    // Stored only as one of four image types (the table's check), so always a valid header.
    headers.insert(CONTENT_TYPE, HeaderValue::from_str(&stored.content_type).unwrap_or(HeaderValue::from_static("image/png")));
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(MEDIA_CSP));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(CACHE));
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{}\"", stored.version)) {
        headers.insert(ETAG, etag);
    }
    response
}
