//! Media bytes over HTTP: to signed-in members of the item's team (`/media/<id>`, its thumbnail
//! at `/media/<id>/thumbnail`), and to whoever holds a signed, expiring link
//! (`/media/link/<team>/<id>?expires=…&signature=…`: platforms that fetch media by URL).
//!
//! Whatever an item is, the answer cannot be run as a page: the content type is the sniffed one
//! (never the uploader's), `nosniff` stops browsers guessing another, the response's own
//! Content-Security-Policy is `sandbox` with nothing allowed, and PDFs download rather than open
//! inline. Bytes stream from the store; a single `Range` is honoured (video players seek with it).

use std::ops::Range;

use app::server::ssr::member_from_session;
use app::state::AppState;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::header::{
    ACCEPT_RANGES, CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_SECURITY_POLICY, CONTENT_TYPE, RANGE,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use crier_domain::DomainError;
use crier_domain::store::media::{self, MediaItem};
use crier_media::MediaKind;
use crier_media::storage::{MediaKey, StorageError};
use serde::Deserialize;
use tower_sessions::Session;
use uuid::Uuid;

/// Nothing on a media response may run or load anything.
const MEDIA_CSP: &str = "default-src 'none'; sandbox";

fn plain(status: StatusCode, words: &'static str) -> Response {
    (status, words).into_response()
}

/// The signed-in member's team, or the answer to give instead (a file is not a page: no redirect
/// to the login page, just 404 for anyone who may not see it, as for an id that does not exist).
async fn team_of(session: &Session, state: &AppState) -> Result<Uuid, Response> {
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
    match state.media.store.read_small(&MediaKey::thumbnail(team_id, item.media_id)).await {
        Ok(jpeg) => {
            let mut response = Body::from(jpeg).into_response();
            let headers = response.headers_mut();
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("image/jpeg"));
            headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(MEDIA_CSP));
            // An item's thumbnail never changes (a new upload is a new item).
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("private, max-age=86400, immutable"));
            response
        }
        Err(error) => store_failed(&error),
    }
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
    let size = item.facts.byte_size;
    let key = MediaKey::original(team_id, item.media_id);
    let range = request.get(RANGE).and_then(|v| v.to_str().ok()).map(|v| single_range(v, size));
    let (status, range) = match range {
        None => (StatusCode::OK, 0..size),
        Some(Some(range)) => (StatusCode::PARTIAL_CONTENT, range),
        Some(None) => {
            let mut response = plain(StatusCode::RANGE_NOT_SATISFIABLE, "That range is not in the file.");
            if let Ok(value) = HeaderValue::from_str(&format!("bytes */{size}")) {
                response.headers_mut().insert(CONTENT_RANGE, value);
            }
            return response;
        }
    };
    let stream = match state.media.store.stream_range(&key, range.clone()).await {
        Ok(stream) => stream,
        Err(error) => return store_failed(&error),
    };
    let mut response = Response::new(Body::from_stream(stream));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(item.facts.content_type.mime()));
    headers.insert(CONTENT_LENGTH, HeaderValue::from(range.end - range.start));
    headers.insert(ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(MEDIA_CSP));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    if status == StatusCode::PARTIAL_CONTENT
        && let Ok(value) = HeaderValue::from_str(&format!("bytes {}-{}/{size}", range.start, range.end - 1))
    {
        headers.insert(CONTENT_RANGE, value);
    }
    if let Ok(value) = HeaderValue::from_str(&content_disposition(item)) {
        headers.insert(CONTENT_DISPOSITION, value);
    }
    response
}

/// `inline` for pictures and video (pages show them), `attachment` for documents; the name in
/// RFC 6266's two forms: a plain ASCII fallback and the UTF-8 original, percent-encoded.
fn content_disposition(item: &MediaItem) -> String {
    let kind = if item.kind() == MediaKind::Document { "attachment" } else { "inline" };
    let ascii: String =
        item.file_name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ') { c } else { '_' }).collect();
    let encoded: String = url::form_urlencoded::byte_serialize(item.file_name.as_bytes()).collect::<String>().replace('+', "%20");
    format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// A `Range: bytes=…` header with one range, within a file of `size` bytes: `None` when it
/// cannot be satisfied. (Several ranges are answered with the whole file, as RFC 9110 allows.)
fn single_range(header: &str, size: u64) -> Option<Range<u64>> {
    // Another unit is not understood: the whole file, as if no range had been asked for.
    let Some(spec) = header.trim().strip_prefix("bytes=") else {
        return Some(0..size);
    };
    if spec.contains(',') {
        return Some(0..size);
    }
    let (start, end) = spec.split_once('-')?;
    let (start, end) = (start.trim(), end.trim());
    let range = if start.is_empty() {
        // The last N bytes.
        let last: u64 = end.parse().ok()?;
        size.saturating_sub(last)..size
    } else {
        let start: u64 = start.parse().ok()?;
        let end = if end.is_empty() { size } else { end.parse::<u64>().ok()?.saturating_add(1).min(size) };
        start..end
    };
    (range.start < range.end).then_some(range)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_read_as_rfc_9110_says() {
        assert_eq!(single_range("bytes=0-99", 1000), Some(0..100));
        assert_eq!(single_range("bytes=900-", 1000), Some(900..1000));
        assert_eq!(single_range("bytes=-100", 1000), Some(900..1000));
        assert_eq!(single_range("bytes=990-2000", 1000), Some(990..1000));
        assert_eq!(single_range("bytes=0-1,5-9", 1000), Some(0..1000));
        assert_eq!(single_range("bytes=1000-", 1000), None);
        assert_eq!(single_range("bytes=5-1", 1000), None);
        assert_eq!(single_range("items=0-1", 1000), Some(0..1000));
    }
}
