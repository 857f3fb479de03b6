//! `/api/v1/media`: the team's media library for scripts. A file sent in one request (multipart)
//! goes through the same pipeline as the pages' uploads ([`crate::uploads::receive`]); its bytes
//! are served with the same headers as the pages serve them ([`crate::media_bytes`]). Large files
//! can also arrive in chunks ([`super::uploads`]).

use axum::Json;
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use crier_domain::FieldError;
use crier_domain::store::media::{self, MediaFilter, MediaItem};
use crier_media::MediaKind;
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::auth::Caller;
use super::problem::{
    ApiError, Conflict, Forbidden, Internal, Invalid, Malformed, NotFound, RangeNotSatisfiable, RateLimited, TooLarge, Unauthenticated,
    Unavailable,
};
use super::{ApiJson, ApiPath, ApiQuery, ApiState, Cursor, Page};
use crate::media_bytes::{self, Unserved};
use crate::uploads::{self, Incoming};

/// A media item of the team's library.
#[derive(Debug, Serialize, ToSchema)]
pub struct MediaJson {
    /// The item (what posts name in `media`).
    pub id: Uuid,
    /// image, gif, video or document.
    #[schema(example = "image")]
    pub kind: &'static str,
    /// What its bytes are, read from them (never the name or what the sender said).
    #[schema(example = "image/jpeg")]
    pub content_type: &'static str,
    /// The size of the stored bytes (metadata removed): what counts against the team's storage.
    pub byte_size: u64,
    /// Pixels across (pictures, GIFs, video).
    pub width: Option<u32>,
    /// Pixels down (pictures, GIFs, video).
    pub height: Option<u32>,
    /// How long it plays, in milliseconds (video, animated GIFs).
    pub duration_ms: Option<u64>,
    /// Frames (GIFs, video).
    pub frames: Option<u32>,
    /// Frames per second (video).
    pub frame_rate: Option<f64>,
    /// The video's codec (`avc1`…).
    pub video_codec: Option<String>,
    /// The video's sound codec (`mp4a`…).
    pub audio_codec: Option<String>,
    /// Pages (PDF documents).
    pub pages: Option<u32>,
    /// SHA-256 of the stored bytes, in hex: exactly what is published.
    pub sha256: String,
    /// The name it was uploaded under (shown only).
    pub file_name: String,
    /// Its alt text (`""` when none); a post may give another.
    pub alt_text: String,
    /// The member who uploaded it (absent for an API token or a member since removed).
    pub uploaded_by: Option<String>,
    /// When it was uploaded.
    pub created_at: DateTime<Utc>,
    /// How many posts carry it.
    pub used_by_posts: i64,
    /// Its bytes (`GET`, with this API's token).
    #[schema(example = "https://crier.example.com/api/v1/media/3f6c…/content")]
    pub url: String,
    /// Its thumbnail, a small JPEG (pictures and GIFs; absent for video and documents).
    pub thumbnail_url: Option<String>,
}

/// An item as JSON; `base` is where Crier is reached.
pub(super) fn media_json(base: &str, item: MediaItem) -> MediaJson {
    let id = item.media_id;
    let facts = item.facts;
    MediaJson {
        id,
        kind: facts.kind().as_str(),
        content_type: facts.content_type.mime(),
        byte_size: facts.byte_size,
        width: facts.width,
        height: facts.height,
        duration_ms: facts.duration_ms,
        frames: facts.frames,
        frame_rate: facts.frame_rate_milli.map(|milli| f64::from(milli) / 1000.0),
        video_codec: facts.video_codec,
        audio_codec: facts.audio_codec,
        pages: facts.pages,
        sha256: item.sha256,
        file_name: item.file_name,
        alt_text: item.alt_text,
        uploaded_by: item.uploaded_by,
        created_at: item.created_at,
        used_by_posts: item.used_by_posts,
        url: format!("{base}/api/v1/media/{id}/content"),
        thumbnail_url: item.has_thumbnail.then(|| format!("{base}/api/v1/media/{id}/thumbnail")),
    }
}

/// 201 Created with the item and its `Location`.
pub(super) fn created(base: &str, item: MediaItem) -> Response {
    let location = format!("/api/v1/media/{}", item.media_id);
    let mut response = (StatusCode::CREATED, Json(media_json(base, item))).into_response();
    if let Ok(location) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(axum::http::header::LOCATION, location);
    }
    response
}

/// The multipart form of an upload (for the document; the handler reads the parts as they come).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct MediaUploadForm {
    /// The file: JPEG, PNG, WebP, GIF, MP4 or PDF (read from its bytes; the part's file name is
    /// only shown). One file per request.
    #[schema(value_type = String, content_media_type = "application/octet-stream")]
    file: Vec<u8>,
    /// Alt text for the item (at most 4,000 characters; each platform's own limit is checked when
    /// a post goes to it).
    alt_text: Option<String>,
}

/// A multipart body whose rejection is a problem+json.
pub struct ApiMultipart(Multipart);

impl<S: Send + Sync> axum::extract::FromRequest<S> for ApiMultipart {
    type Rejection = ApiError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        Ok(ApiMultipart(Multipart::from_request(request, state).await?))
    }
}

/// Upload a file.
///
/// `multipart/form-data` with the file in the part `file` (and `alt_text`, before or after it).
/// The file streams to disk (never memory) against the size limit, is read to find what it is
/// (SVG, HTML and anything not on the allow-list are refused, whatever its name), loses its
/// metadata (EXIF with GPS positions; orientation applied first) and is added under the team's
/// storage quota. For files too large to send in one go, use the resumable upload
/// (`POST /api/v1/media/uploads`).
#[utoipa::path(post, path = "/api/v1/media", tag = "media", operation_id = "upload_media",
    request_body(content = inline(MediaUploadForm), content_type = "multipart/form-data"),
    responses((status = 201, description = "Added to the library", body = MediaJson,
               headers(("Location" = String, description = "The item's URL"))),
              Malformed, Unauthenticated, Forbidden, TooLarge, Invalid, RateLimited, Unavailable, Internal),
    security(("bearer" = [])))]
pub async fn upload(
    State(state): State<ApiState>,
    caller: Caller,
    ApiMultipart(mut multipart): ApiMultipart,
) -> Result<Response, ApiError> {
    caller.require_editor()?;
    let mut alt_text: Option<String> = None;
    let mut alt_text_after_file = false;
    let mut item: Option<MediaItem> = None;
    // A problem found after the file was added: the item is taken back out.
    let mut problem: Option<ApiError> = None;
    while problem.is_none() {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(error) => {
                problem = Some(ApiError::Malformed(error.body_text()));
                break;
            }
        };
        match field.name().unwrap_or_default() {
            "file" if item.is_none() => {
                let file_name = field.file_name().unwrap_or_default().to_owned();
                let given = alt_text.clone().unwrap_or_default();
                let incoming = Incoming { file_name: &file_name, alt_text: &given };
                let body = Box::pin(field.map_err(|e| e.to_string()));
                item = Some(uploads::receive(&state.media, &state.pool, caller.team_id(), caller.actor(), incoming, body).await?);
            }
            "file" => problem = Some(FieldError::new("file", "Send one file per request.").into()),
            "alt_text" if alt_text.is_none() => match uploads::text_part(field).await {
                Some(text) => match media::alt_text(&text, "alt_text") {
                    Ok(_) => {
                        alt_text_after_file = item.is_some();
                        alt_text = Some(text);
                    }
                    Err(error) => problem = Some(error.into()),
                },
                None => problem = Some(FieldError::new("alt_text", "This alt text is far too long.").into()),
            },
            "alt_text" => problem = Some(FieldError::new("alt_text", "Send alt_text once.").into()),
            other => {
                let name = if other.is_empty() { "(unnamed)" } else { other };
                problem = Some(FieldError::new(name, "Send only the parts file and alt_text.").into());
            }
        }
    }
    let Some(mut added) = item else {
        return Err(problem.unwrap_or_else(|| FieldError::new("file", "Send the file in a multipart part named file.").into()));
    };
    if let Some(problem) = problem {
        take_back(&state, &caller, &added).await;
        return Err(problem);
    }
    if alt_text_after_file && let Some(text) = alt_text {
        media::set_alt_text(&state.pool, caller.team_id(), caller.actor(), added.media_id, &text).await?;
        added = media::get(&state.pool, caller.team_id(), added.media_id).await?;
    }
    Ok(created(&state.public_base, added))
}

/// Removes an item the same request added before it turned out to be wrong.
async fn take_back(state: &ApiState, caller: &Caller, item: &MediaItem) {
    let removed = media::delete(&state.pool, caller.team_id(), caller.actor(), item.media_id).await;
    let bytes = match removed {
        Ok(_) => state.media.delete_bytes(caller.team_id(), item.media_id).await.map_err(|e| e.to_string()),
        Err(error) => Err(error.to_string()),
    };
    if let Err(error) = bytes {
        tracing::warn!(%error, media_id = %item.media_id, "could not take back an item added by a refused request");
    }
}

/// Which part of the library to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MediaQuery {
    /// Part of the file name, any case.
    pub q: Option<String>,
    /// Only this kind: image, gif, video or document.
    pub kind: Option<String>,
    /// At most this many (1–100, default 50).
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

/// A page of the library.
#[derive(Debug, Serialize, ToSchema)]
pub struct MediaPage {
    /// The items, newest first.
    pub items: Vec<MediaJson>,
    /// Pass as `cursor` for the next page; absent on the last one.
    pub next_cursor: Option<String>,
}

fn kind(raw: Option<&str>) -> Result<Option<MediaKind>, ApiError> {
    let Some(raw) = raw.map(str::trim).filter(|k| !k.is_empty()) else {
        return Ok(None);
    };
    [MediaKind::Image, MediaKind::Gif, MediaKind::Video, MediaKind::Document]
        .into_iter()
        .find(|k| k.as_str().eq_ignore_ascii_case(raw))
        .map(Some)
        .ok_or_else(|| FieldError::new("kind", "Give image, gif, video or document.").into())
}

/// List the library.
#[utoipa::path(get, path = "/api/v1/media", tag = "media", operation_id = "list_media", params(MediaQuery),
    responses((status = 200, description = "A page of the team's media, newest first", body = MediaPage),
              Unauthenticated, Invalid, RateLimited, Internal),
    security(("bearer" = [])))]
pub async fn list(State(state): State<ApiState>, caller: Caller, ApiQuery(q): ApiQuery<MediaQuery>) -> Result<Json<MediaPage>, ApiError> {
    let page = Page::new(q.limit, 50, media::MAX_PAGE)?;
    let filter =
        MediaFilter { search: q.q.clone(), kind: kind(q.kind.as_deref())?, after: q.cursor.as_deref().map(Cursor::decode).transpose()? };
    let mut rows = media::list(&state.pool, caller.team_id(), &filter, page.fetch()).await?;
    let next_cursor = page.cut(&mut rows).map(|last: &MediaItem| Cursor::encode(last.created_at, last.media_id));
    Ok(Json(MediaPage { items: rows.into_iter().map(|item| media_json(&state.public_base, item)).collect(), next_cursor }))
}

/// One item of the library.
#[utoipa::path(get, path = "/api/v1/media/{id}", tag = "media", operation_id = "get_media",
    params(("id" = Uuid, Path, description = "The media item")),
    responses((status = 200, description = "The item", body = MediaJson), Unauthenticated, NotFound, RateLimited, Internal),
    security(("bearer" = [])))]
pub async fn get(State(state): State<ApiState>, caller: Caller, ApiPath(id): ApiPath<Uuid>) -> Result<Json<MediaJson>, ApiError> {
    Ok(Json(media_json(&state.public_base, media::get(&state.pool, caller.team_id(), id).await?)))
}

/// Changes to an item.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MediaPatchJson {
    /// The new alt text (`""` removes it).
    pub alt_text: String,
}

/// Change an item's alt text.
#[utoipa::path(patch, path = "/api/v1/media/{id}", tag = "media", operation_id = "edit_media",
    params(("id" = Uuid, Path, description = "The media item")), request_body = MediaPatchJson,
    responses((status = 200, description = "The item as changed", body = MediaJson),
              Malformed, Unauthenticated, Forbidden, NotFound, Invalid, RateLimited, Internal),
    security(("bearer" = [])))]
pub async fn patch(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(change): ApiJson<MediaPatchJson>,
) -> Result<Json<MediaJson>, ApiError> {
    caller.require_editor()?;
    media::set_alt_text(&state.pool, caller.team_id(), caller.actor(), id, &change.alt_text).await?;
    Ok(Json(media_json(&state.public_base, media::get(&state.pool, caller.team_id(), id).await?)))
}

/// Delete an item and its bytes.
///
/// Refused (409, naming the post) while a post that has not gone out carries it: remove it from
/// that post, or cancel the post, first. Posts already published keep their record of it.
#[utoipa::path(delete, path = "/api/v1/media/{id}", tag = "media", operation_id = "delete_media",
    params(("id" = Uuid, Path, description = "The media item")),
    responses((status = 204, description = "Deleted"), Unauthenticated, Forbidden, NotFound, Conflict, RateLimited, Internal),
    security(("bearer" = [])))]
pub async fn delete(State(state): State<ApiState>, caller: Caller, ApiPath(id): ApiPath<Uuid>) -> Result<StatusCode, ApiError> {
    caller.require_editor()?;
    media::delete(&state.pool, caller.team_id(), caller.actor(), id).await?;
    // Out of the library already: a store that fails now leaves bytes nobody can reach, logged.
    if let Err(error) = state.media.delete_bytes(caller.team_id(), id).await {
        tracing::error!(%error, media_id = %id, "could not delete a deleted item's bytes from the media store");
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The bytes as a problem for API clients.
fn unserved(why: Unserved) -> ApiError {
    match why {
        Unserved::NotSatisfiable { size } => ApiError::RangeNotSatisfiable(size),
        Unserved::Store(error) => {
            tracing::error!(%error, "reading a media item's bytes from the store failed");
            ApiError::Unavailable("Crier cannot read this file from its media store right now. Please try again in a moment.".into())
        }
    }
}

/// Download an item's bytes.
///
/// Exactly the bytes that are published (metadata removed), with the content type read from
/// them; one `Range` is honoured. The answer cannot run as a page (`nosniff`, a sandboxing
/// Content-Security-Policy) and documents download (`Content-Disposition: attachment`).
#[utoipa::path(get, path = "/api/v1/media/{id}/content", tag = "media", operation_id = "get_media_content",
    params(("id" = Uuid, Path, description = "The media item"),
           ("Range" = Option<String>, Header, description = "One range, `bytes=<first>-<last>`")),
    responses((status = 200, description = "The bytes",
               content(("image/jpeg"), ("image/png"), ("image/webp"), ("image/gif"), ("video/mp4"), ("application/pdf")),
               headers(("Content-Disposition" = String, description = "inline (attachment for documents), with the file name"),
                       ("Accept-Ranges" = String, description = "`bytes`"))),
              (status = 206, description = "The range asked for",
               content(("image/jpeg"), ("image/png"), ("image/webp"), ("image/gif"), ("video/mp4"), ("application/pdf")),
               headers(("Content-Range" = String, description = "`bytes <first>-<last>/<size>`"))),
              Unauthenticated, NotFound, RangeNotSatisfiable, RateLimited, Unavailable, Internal),
    security(("bearer" = [])))]
pub async fn content(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let item = media::get(&state.pool, caller.team_id(), id).await?;
    media_bytes::original(&state.media.store, caller.team_id(), &item, &headers, "private, max-age=3600").await.map_err(unserved)
}

/// Download an item's thumbnail.
#[utoipa::path(get, path = "/api/v1/media/{id}/thumbnail", tag = "media", operation_id = "get_media_thumbnail",
    params(("id" = Uuid, Path, description = "The media item")),
    responses((status = 200, description = "A small JPEG of the picture (a GIF's first frame)", content(("image/jpeg"))),
              Unauthenticated, NotFound, RateLimited, Unavailable, Internal),
    security(("bearer" = [])))]
pub async fn thumbnail(State(state): State<ApiState>, caller: Caller, ApiPath(id): ApiPath<Uuid>) -> Result<Response, ApiError> {
    let item = media::get(&state.pool, caller.team_id(), id).await?;
    if !item.has_thumbnail {
        return Err(ApiError::NotFound);
    }
    media_bytes::thumbnail(&state.media.store, caller.team_id(), &item).await.map_err(unserved)
}
