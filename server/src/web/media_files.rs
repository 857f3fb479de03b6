//! Media bytes over HTTP: to signed-in members of the item's team (`/media/<id>`, its thumbnail
//! at `/media/<id>/thumbnail`), and to whoever holds a signed, expiring link
//! (`/media/link/<team>/<id>?expires=…&signature=…`: platforms that fetch media by URL).
//!
//! The answers themselves, and the headers that keep them from running as pages, are
//! [`crate::media_bytes`]'s (the REST API serves items through it too); this module decides who
//! may see an item and words the refusals for people.

use app::server::ssr::member_from_session;
use app::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::header::CONTENT_RANGE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use crier_domain::DomainError;
use crier_domain::store::media::{self, MediaItem};
use crier_media::storage::StorageError;
use serde::Deserialize;
use tower_sessions::Session;
use uuid::Uuid;

use crate::media_bytes::{self as serve, Unserved};

fn plain(status: StatusCode, words: &'static str) -> Response {
    (status, words).into_response()
}

/// The signed-in member's team, or the answer to give instead (a file is not a page: no redirect
/// to the login page, just 404 for anyone who may not see it, as for an id that does not exist).
pub(super) async fn team_of(session: &Session, state: &AppState) -> Result<Uuid, Response> {
    match member_from_session(session, &state.pool).await {
        Ok(Some(member)) => Ok(member.team_id),
        Ok(None) => Err(plain(StatusCode::NOT_FOUND, "No such file.")),
        Err(_) => Err(plain(StatusCode::SERVICE_UNAVAILABLE, "Crier cannot reach its database right now. Please try again in a moment.")),
    }
}

async fn item(state: &AppState, team_id: Uuid, raw_id: &str) -> Result<MediaItem, Response> {
    let media_id = Uuid::parse_str(raw_id).map_err(|_| plain(StatusCode::NOT_FOUND, "No such file."))?;
    match media::get(&state.pool, team_id, media_id).await {
        Ok(item) => Ok(item),
        Err(DomainError::NotFound) => Err(plain(StatusCode::NOT_FOUND, "No such file.")),
        Err(error) => {
            tracing::error!(%error, "reading a media item failed");
            Err(plain(StatusCode::SERVICE_UNAVAILABLE, "Crier cannot reach its database right now. Please try again in a moment."))
        }
    }
}

/// `GET /media/{id}`: the item's bytes, for its team.
pub(super) async fn original(State(state): State<AppState>, session: Session, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let team_id = match team_of(&session, &state).await {
        Ok(team) => team,
        Err(answer) => return answer,
    };
    match item(&state, team_id, &id).await {
        Ok(item) => bytes(&state, team_id, &item, &headers, "private, max-age=3600").await,
        Err(answer) => answer,
    }
}

/// `GET /media/{id}/thumbnail`: the item's thumbnail (a JPEG), for its team.
pub(super) async fn thumbnail(State(state): State<AppState>, session: Session, Path(id): Path<String>) -> Response {
    let team_id = match team_of(&session, &state).await {
        Ok(team) => team,
        Err(answer) => return answer,
    };
    let item = match item(&state, team_id, &id).await {
        Ok(item) if item.has_thumbnail => item,
        Ok(_) => return plain(StatusCode::NOT_FOUND, "This file has no thumbnail."),
        Err(answer) => return answer,
    };
    serve::thumbnail(&state.media.store, team_id, &item).await.unwrap_or_else(unserved)
}

#[derive(Deserialize)]
pub(super) struct LinkQuery {
    #[serde(default)]
    expires: i64,
    #[serde(default)]
    signature: String,
}

/// `GET /media/link/{team}/{id}?expires=…&signature=…`: the bytes, to whoever holds the link,
/// until it expires.
pub(super) async fn signed(
    State(state): State<AppState>,
    Path((team, id)): Path<(String, String)>,
    Query(link): Query<LinkQuery>,
    headers: HeaderMap,
) -> Response {
    let (Ok(team_id), Ok(media_id)) = (Uuid::parse_str(&team), Uuid::parse_str(&id)) else {
        return plain(StatusCode::NOT_FOUND, "No such file.");
    };
    if let Err(refused) = state.media.links.verify(team_id, media_id, link.expires, &link.signature, chrono::Utc::now()) {
        return (StatusCode::FORBIDDEN, refused.to_string()).into_response();
    }
    match item(&state, team_id, &id).await {
        Ok(item) => bytes(&state, team_id, &item, &headers, "private, no-store").await,
        Err(answer) => answer,
    }
}

async fn bytes(state: &AppState, team_id: Uuid, item: &MediaItem, request: &HeaderMap, cache: &'static str) -> Response {
    serve::original(&state.media.store, team_id, item, request, cache).await.unwrap_or_else(unserved)
}

/// A refusal in words for people.
fn unserved(why: Unserved) -> Response {
    match why {
        Unserved::NotSatisfiable { size } => {
            let mut response = plain(StatusCode::RANGE_NOT_SATISFIABLE, "That range is not in the file.");
            if let Some(value) = Unserved::content_range(size) {
                response.headers_mut().insert(CONTENT_RANGE, value);
            }
            response
        }
        Unserved::Store(error) => store_failed(&error),
    }
}

fn store_failed(error: &StorageError) -> Response {
    match error {
        StorageError::NotFound(_) => {
            tracing::error!(%error, "a media item's bytes are missing from the store");
            plain(StatusCode::NOT_FOUND, "This file's bytes are missing from the media store.")
        }
        _ => {
            tracing::error!(%error, "reading from the media store failed");
            plain(StatusCode::SERVICE_UNAVAILABLE, "Crier cannot reach its media store right now. Please try again in a moment.")
        }
    }
}
