//! `/api/v1/media/uploads`: resumable uploads, for a file too large to send in one request (a
//! long video over a poor connection). A client announces the file's size (checked against the
//! per-file limit and the team's quota before a byte is sent), sends it in chunks, in order, each
//! at the offset the upload waits for (`PATCH` with `Upload-Offset`, as in the IETF's resumable
//! uploads draft), resumes after a dropped connection from the upload's `offset`, and completes
//! it, which runs the file through the same pipeline as a multipart upload. The state and the
//! chunks are [`crate::resumable`]'s; this module parses and answers.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::BytesMut;
use chrono::{DateTime, Utc};
use crier_domain::FieldError;
use crier_domain::store::media;
use crier_domain::store::media_uploads::{self, MAX_CHUNK_BYTES, NewUpload, Upload};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::auth::Caller;
use super::media::{MediaJson, created, media_json};
use super::problem::{
    ApiError, Conflict, Forbidden, Internal, Invalid, Malformed, NotFound, RateLimited, TooLarge, UPLOAD_OFFSET, Unauthenticated,
    Unavailable, WrongOffset,
};
use super::{ApiJson, ApiPath, ApiState};
use crate::resumable::{self, ChunkRefused, Completed, NotCompleted, Stored};
use crate::uploads::UploadError;

/// A file about to be uploaded in chunks.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUploadJson {
    /// The file's name (shown only; never a path).
    #[schema(example = "launch.mp4")]
    pub file_name: String,
    /// The file's exact size in bytes: the chunks must add up to it.
    #[schema(example = 73_400_320)]
    pub byte_size: u64,
    /// The size of every chunk but the last (262144–8388608; default 8388608).
    #[serde(default)]
    pub chunk_bytes: Option<u32>,
    /// Alt text for the item it becomes.
    #[serde(default)]
    pub alt_text: Option<String>,
}

/// A resumable upload.
#[derive(Debug, Serialize, ToSchema)]
pub struct UploadJson {
    /// The upload.
    pub id: Uuid,
    /// The name it was announced under.
    pub file_name: String,
    /// The file's size.
    pub byte_size: u64,
    /// The size of every chunk but the last.
    pub chunk_bytes: u32,
    /// Bytes received so far: the `Upload-Offset` of the next chunk.
    pub offset: u64,
    /// receiving, completing or completed.
    #[schema(example = "receiving")]
    pub state: &'static str,
    /// When it is deleted, finished or not (24 hours after it started).
    pub expires_at: DateTime<Utc>,
    /// The media item it became, once completed.
    pub media_id: Option<Uuid>,
}

fn upload_json(upload: Upload) -> UploadJson {
    UploadJson {
        id: upload.upload_id,
        file_name: upload.file_name,
        byte_size: upload.byte_size,
        chunk_bytes: upload.chunk_bytes,
        offset: upload.received,
        state: upload.state.as_str(),
        expires_at: upload.expires_at,
        media_id: upload.media_id,
    }
}

fn expired(upload: &Upload) -> ApiError {
    ApiError::Conflict(format!(
        "This upload expired at {} and its chunks are being deleted. Start a new upload.",
        upload.expires_at.to_rfc3339()
    ))
}

/// Start a resumable upload.
///
/// Announces a file's size, checked at once against the instance's per-file limit (413) and the
/// team's storage quota, which counts what the team's uploads in progress will bring (409). Then
/// send the chunks (`PATCH /api/v1/media/uploads/{id}`) and complete it. An upload not completed
/// within 24 hours is deleted with its chunks.
#[utoipa::path(post, path = "/api/v1/media/uploads", tag = "media", operation_id = "start_media_upload",
    request_body = NewUploadJson,
    responses((status = 201, description = "Started: send the first chunk at offset 0", body = UploadJson,
               headers(("Location" = String, description = "The upload's URL"))),
              Malformed, Unauthenticated, Forbidden, TooLarge, Conflict, Invalid, RateLimited, Internal),
    security(("bearer" = [])))]
pub async fn start(State(state): State<ApiState>, caller: Caller, ApiJson(new): ApiJson<NewUploadJson>) -> Result<Response, ApiError> {
    caller.require_editor()?;
    if new.byte_size > state.media.max_file_bytes {
        return Err(UploadError::TooLarge { max: state.media.max_file_bytes }.into());
    }
    let new = NewUpload {
        file_name: new.file_name,
        alt_text: new.alt_text.unwrap_or_default(),
        byte_size: new.byte_size,
        chunk_bytes: new.chunk_bytes.unwrap_or(MAX_CHUNK_BYTES),
    };
    let upload = media_uploads::start(&state.pool, caller.team_id(), &new, state.media.team_quota_bytes).await?;
    let location = format!("/api/v1/media/uploads/{}", upload.upload_id);
    let mut response = (StatusCode::CREATED, Json(upload_json(upload))).into_response();
    if let Ok(location) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(axum::http::header::LOCATION, location);
    }
    Ok(response)
}

/// Where an upload stands.
///
/// After a dropped connection, resume from its `offset`.
#[utoipa::path(get, path = "/api/v1/media/uploads/{id}", tag = "media", operation_id = "get_media_upload",
    params(("id" = Uuid, Path, description = "The upload")),
    responses((status = 200, description = "The upload", body = UploadJson), Unauthenticated, NotFound, RateLimited, Internal),
    security(("bearer" = [])))]
pub async fn get(State(state): State<ApiState>, caller: Caller, ApiPath(id): ApiPath<Uuid>) -> Result<Json<UploadJson>, ApiError> {
    Ok(Json(upload_json(media_uploads::get(&state.pool, caller.team_id(), id).await?)))
}

/// The `Upload-Offset` a chunk is sent at.
fn offset_of(headers: &HeaderMap) -> Result<u64, ApiError> {
    headers.get(UPLOAD_OFFSET).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse().ok()).ok_or_else(|| {
        FieldError::new("Upload-Offset", "Send the chunk's offset in the file (the upload's offset) as Upload-Offset.").into()
    })
}

/// Send a chunk.
///
/// The body is the file's bytes from `Upload-Offset`, which must be the upload's `offset`: every
/// chunk but the last is exactly `chunk_bytes` long, the last one ends the file. A chunk at
/// another offset is refused (409, with the offset to send in `Upload-Offset`); a chunk the upload
/// already has (resent after a lost answer) changes nothing.
#[utoipa::path(patch, path = "/api/v1/media/uploads/{id}", tag = "media", operation_id = "send_media_upload_chunk",
    params(("id" = Uuid, Path, description = "The upload"),
           ("Upload-Offset" = u64, Header, description = "Where in the file this chunk starts")),
    request_body(content = String, content_type = "application/offset+octet-stream", description = "The chunk's bytes, as they are in the file"),
    responses((status = 200, description = "Stored: the upload, with the offset of the next chunk", body = UploadJson),
              Malformed, Unauthenticated, Forbidden, NotFound, WrongOffset, TooLarge, Invalid, RateLimited, Unavailable, Internal),
    security(("bearer" = [])))]
pub async fn chunk(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<UploadJson>, ApiError> {
    caller.require_editor()?;
    let offset = offset_of(&headers)?;
    let upload = media_uploads::get(&state.pool, caller.team_id(), id).await?;
    let chunk_bytes = u64::from(upload.chunk_bytes);
    // Only a chunk's start is an offset a chunk may have; refused before its bytes are read.
    if offset % chunk_bytes != 0 || offset >= upload.byte_size || offset > upload.received {
        return Err(ApiError::WrongOffset { expected: upload.received });
    }
    let index = offset / chunk_bytes;
    let range = upload.chunk_range(index);
    let expected = (range.end - range.start) as usize;
    // At most one chunk (8 MiB at most, also bounded by `web::body_limit`) is held at a time.
    let mut bytes = BytesMut::with_capacity(expected);
    let mut stream = body.into_data_stream();
    while let Some(piece) = stream.next().await {
        let piece = piece.map_err(|_| ApiError::Malformed("The chunk ended before all of it arrived. Send it again.".into()))?;
        if bytes.len() + piece.len() > expected {
            return Err(ApiError::TooLarge(format!(
                "The chunk at offset {offset} must have exactly {expected} bytes (chunk_bytes, or what is left of the file); more was sent."
            )));
        }
        bytes.extend_from_slice(&piece);
    }
    if bytes.len() != expected {
        return Err(FieldError::new(
            "body",
            format!(
                "The chunk at offset {offset} has {} bytes; it must have exactly {expected} (chunk_bytes, or what is left of the file).",
                bytes.len()
            ),
        )
        .into());
    }
    match resumable::store_chunk(&state.media, &state.pool, &upload, index, bytes.freeze()).await {
        Ok(Stored::Recorded(now) | Stored::AlreadyHad(now)) => Ok(Json(upload_json(now))),
        Err(ChunkRefused::OutOfOrder { received }) => Err(ApiError::WrongOffset { expected: received }),
        Err(ChunkRefused::Expired(upload)) => Err(expired(&upload)),
        Err(ChunkRefused::Gone) => Err(ApiError::NotFound),
        Err(ChunkRefused::Store(error)) => {
            tracing::error!(%error, upload_id = %id, "storing a chunk failed");
            Err(ApiError::Unavailable("Crier could not store this chunk just now. Send it again in a moment.".into()))
        }
        Err(ChunkRefused::Domain(error)) => Err(error.into()),
    }
}

/// Complete an upload.
///
/// Once every byte has arrived: the file is read (SVG, HTML and anything not on the allow-list
/// are refused, whatever its name), loses its metadata and is added to the library under the
/// team's quota, exactly as a multipart upload is. A refused file ends the upload; after a failure
/// of the media store (503), ask again. Completing an upload that already became an item answers
/// that item.
#[utoipa::path(post, path = "/api/v1/media/uploads/{id}/complete", tag = "media", operation_id = "complete_media_upload",
    params(("id" = Uuid, Path, description = "The upload")),
    responses((status = 201, description = "Added to the library", body = MediaJson,
               headers(("Location" = String, description = "The item's URL"))),
              (status = 200, description = "An earlier request completed it: its item", body = MediaJson),
              Unauthenticated, Forbidden, NotFound, Conflict, TooLarge, Invalid, RateLimited, Unavailable, Internal),
    security(("bearer" = [])))]
pub async fn complete(State(state): State<ApiState>, caller: Caller, ApiPath(id): ApiPath<Uuid>) -> Result<Response, ApiError> {
    caller.require_editor()?;
    let upload = media_uploads::get(&state.pool, caller.team_id(), id).await?;
    match resumable::complete(&state.media, &state.pool, caller.actor(), &upload).await {
        Ok(Completed::Made(item)) => Ok(created(&state.public_base, *item)),
        Ok(Completed::Earlier(media_id)) => {
            let item = media::get(&state.pool, caller.team_id(), media_id).await?;
            Ok(Json(media_json(&state.public_base, item)).into_response())
        }
        Err(NotCompleted::Incomplete { received }) => Err(ApiError::Conflict(format!(
            "The upload has {received} of its {} bytes. Send the rest, from offset {received}, then complete it.",
            upload.byte_size
        ))),
        Err(NotCompleted::InProgress) => Err(ApiError::Conflict(
            "Another request is completing this upload right now. GET the upload to see when it has become an item.".into(),
        )),
        Err(NotCompleted::Expired(upload)) => Err(expired(&upload)),
        Err(NotCompleted::Failed(error)) => Err(error.into()),
        Err(NotCompleted::Domain(error)) => Err(error.into()),
    }
}

/// Cancel an upload.
///
/// Deletes its chunks (an item it already became stays in the library).
#[utoipa::path(delete, path = "/api/v1/media/uploads/{id}", tag = "media", operation_id = "cancel_media_upload",
    params(("id" = Uuid, Path, description = "The upload")),
    responses((status = 204, description = "Cancelled"), Unauthenticated, Forbidden, NotFound, Conflict, RateLimited, Internal),
    security(("bearer" = [])))]
pub async fn abort(State(state): State<ApiState>, caller: Caller, ApiPath(id): ApiPath<Uuid>) -> Result<StatusCode, ApiError> {
    caller.require_editor()?;
    resumable::abort(&state.media, &state.pool, caller.team_id(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chunk_sizes_documented_are_the_domains() {
        assert_eq!((media_uploads::MIN_CHUNK_BYTES, MAX_CHUNK_BYTES), (262_144, 8_388_608));
    }
}
