//! Receiving a media file, for every way one arrives (the pages' upload, a plain form with a file
//! input, the REST API): bytes stream to a file on this machine's disk (never memory), counted
//! against the size limit as they come; `crier_media::inspect` reads it (one at a time per process,
//! so decoding stays within its memory budget), strips its metadata and makes its thumbnail; the
//! stripped bytes stream to the media store; and only then is the item added to the library,
//! under the team's quota. Whatever fails, the temporary files are removed, and bytes already
//! stored for an item that was not added are deleted.

use std::path::{Path, PathBuf};

use app::state::Media;
use bytes::Bytes;
use crier_domain::DomainError;
use crier_domain::store::audit::Actor;
use crier_domain::store::media::{self, MediaItem, NewMedia};
use crier_media::inspect::{InspectLimits, Refusal};
use crier_media::storage::MediaKey;
use futures::{Stream, StreamExt};
use sqlx::PgPool;
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

/// Why a file was not added. Every variant's words say what to do; [`UploadError::status`] is
/// its HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// More bytes than a file may have.
    #[error("This file is larger than Crier accepts ({max}). Make it smaller and upload it again.", max = media::bytes_in_words(*.max))]
    TooLarge {
        /// The limit in bytes.
        max: u64,
    },
    /// The bytes are not something Crier accepts, or are damaged.
    #[error("{0}")]
    Refused(#[from] Refusal),
    /// The team's storage is full, or another rule stops it (the words say which).
    #[error("{0}")]
    Domain(DomainError),
    /// The request ended before the file did.
    #[error("The upload was interrupted before the whole file arrived. Upload it again.")]
    Interrupted,
    /// This machine's disk or the media store failed.
    #[error("Crier could not store the file just now. Nothing was saved; please try again in a moment.")]
    Storage(String),
}

impl UploadError {
    /// The HTTP status that fits.
    pub fn status(&self) -> axum::http::StatusCode {
        use axum::http::StatusCode;
        match self {
            UploadError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            UploadError::Refused(_) => StatusCode::UNPROCESSABLE_ENTITY,
            UploadError::Domain(DomainError::NotFound) => StatusCode::NOT_FOUND,
            UploadError::Domain(DomainError::Forbidden) => StatusCode::FORBIDDEN,
            UploadError::Domain(DomainError::Refused(_) | DomainError::Invalid(_)) => StatusCode::UNPROCESSABLE_ENTITY,
            UploadError::Domain(_) | UploadError::Storage(_) => StatusCode::SERVICE_UNAVAILABLE,
            UploadError::Interrupted => StatusCode::BAD_REQUEST,
        }
    }
}

impl From<DomainError> for UploadError {
    fn from(error: DomainError) -> Self {
        if matches!(error, DomainError::Database(_) | DomainError::Internal(_)) {
            tracing::error!(%error, "adding a media item failed");
        }
        UploadError::Domain(error)
    }
}

fn storage(error: impl std::fmt::Display) -> UploadError {
    tracing::error!(%error, "storing an upload failed");
    UploadError::Storage(error.to_string())
}

/// Removes its files when dropped, whatever happened.
struct TempFiles(Vec<PathBuf>);

impl Drop for TempFiles {
    fn drop(&mut self) {
        for path in &self.0 {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// One file arriving.
pub struct Incoming<'a> {
    /// The name the sender gave it (shown, never used as a path).
    pub file_name: &'a str,
    /// Alt text sent with it.
    pub alt_text: &'a str,
}

/// Receives one file from `body` into the team's library.
pub async fn receive<S, E>(
    state: &Media,
    pool: &PgPool,
    team_id: Uuid,
    actor: Actor,
    incoming: Incoming<'_>,
    body: S,
) -> Result<MediaItem, UploadError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let alt_text = media::alt_text(incoming.alt_text, "alt_text").map_err(|e| UploadError::Domain(e.into()))?;
    // A full team is told before a large file is sent, not after.
    let used = media::usage(pool, team_id).await?;
    media::quota_check(used, 1, state.team_quota_bytes)?;

    let media_id = Uuid::new_v4();
    let received = state.upload_dir.join(format!("{media_id}.part"));
    let cleaned = state.upload_dir.join(format!("{media_id}.out"));
    let _cleanup = TempFiles(vec![received.clone(), cleaned.clone()]);
    write_bounded(&received, body, state.max_file_bytes).await?;

    let inspected = {
        // One inspection at a time per process: decoding a photo takes up to 64 MiB.
        let _turn = state.inspections.acquire().await.map_err(storage)?;
        let (input, output) = (received.clone(), cleaned.clone());
        tokio::task::spawn_blocking(move || crier_media::inspect::inspect(&input, &output, &InspectLimits::default()))
            .await
            .map_err(storage)??
    };
    let _ = tokio::fs::remove_file(&received).await;

    let original = MediaKey::original(team_id, media_id);
    let thumbnail = MediaKey::thumbnail(team_id, media_id);
    state.store.put_file(&original, &cleaned).await.map_err(storage)?;
    if let Some(jpeg) = &inspected.thumbnail
        && let Err(error) = state.store.put_bytes(&thumbnail, Bytes::from(jpeg.clone())).await
    {
        forget(state, &original, &thumbnail).await;
        return Err(storage(error));
    }
    let new = NewMedia {
        media_id,
        file_name: media::file_name(incoming.file_name, inspected.facts.content_type),
        facts: inspected.facts,
        sha256: inspected.sha256,
        alt_text,
        has_thumbnail: inspected.thumbnail.is_some(),
    };
    match media::create(pool, team_id, actor, &new, state.team_quota_bytes).await {
        Ok(item) => Ok(item),
        Err(error) => {
            forget(state, &original, &thumbnail).await;
            Err(error.into())
        }
    }
}

/// Deletes stored bytes of an item that was not added (best effort: a failure is logged).
async fn forget(state: &Media, original: &MediaKey, thumbnail: &MediaKey) {
    for key in [original, thumbnail] {
        if let Err(error) = state.store.delete(key).await {
            tracing::warn!(%error, %key, "could not delete the bytes of an upload that was not added");
        }
    }
}

/// The longest text part of an upload form read (alt text: 4,000 characters of up to 4 bytes fit;
/// the page to return to).
pub const MAX_TEXT_PART_BYTES: usize = 16 * 1024;

/// A small text part of an upload form (alt text beside the file), or `None` when it is longer
/// than [`MAX_TEXT_PART_BYTES`]: only the file streams, anything else must be small.
pub async fn text_part(mut field: axum::extract::multipart::Field<'_>) -> Option<String> {
    let mut bytes = Vec::new();
    while let Ok(Some(chunk)) = field.chunk().await {
        if bytes.len() + chunk.len() > MAX_TEXT_PART_BYTES {
            return None;
        }
        bytes.extend_from_slice(&chunk);
    }
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// Writes `body` to `path`, refusing (and stopping) past `max` bytes.
async fn write_bounded<S, E>(path: &Path, mut body: S, max: u64) -> Result<u64, UploadError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut file = tokio::fs::File::create(path).await.map_err(storage)?;
    let mut written = 0u64;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|error| {
            tracing::debug!(%error, "an upload's body failed");
            UploadError::Interrupted
        })?;
        written += chunk.len() as u64;
        if written > max {
            return Err(UploadError::TooLarge { max });
        }
        file.write_all(&chunk).await.map_err(storage)?;
    }
    file.flush().await.map_err(storage)?;
    Ok(written)
}
