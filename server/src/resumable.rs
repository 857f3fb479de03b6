//! Resumable uploads, for files too large to send in one request (a long video over a poor
//! connection): the file arrives in chunks, each stored in the media store under a key of the
//! upload (never on one machine's disk, so consecutive chunks may reach different web processes),
//! and when the last byte is in, the chunks are read back in order through the same pipeline as
//! any upload ([`crate::uploads::receive`]: size limit, inspection, store, quota).
//!
//! The upload's state is a row (`crier_domain::store::media_uploads`) that every change updates
//! conditionally; this module keeps the chunks in step with it. A chunk is stored before it is
//! recorded, so a chunk that was recorded is there. A chunk stored by a request that then finds
//! the upload gone, expired or done deletes what it stored; aborting, expiring and completing mark
//! the row before they delete chunks, so a chunk stored at the same moment is deleted by one side
//! or the other and nothing is left behind.

use app::state::Media;
use bytes::Bytes;
use crier_domain::DomainError;
use crier_domain::store::audit::Actor;
use crier_domain::store::media::MediaItem;
use crier_domain::store::media_uploads::{self, Upload, UploadState};
use crier_media::storage::{MediaKey, MediaStore, StorageError};
use futures::StreamExt;
use sqlx::PgPool;
use std::sync::{Arc, Mutex};

use crate::uploads::{self, Incoming, UploadError};

/// What became of a chunk.
#[derive(Debug)]
pub enum Stored {
    /// Stored and recorded: the upload as it is now.
    Recorded(Upload),
    /// The upload already had it (a resent chunk, or a duplicate request that lost the race):
    /// nothing changed.
    AlreadyHad(Upload),
}

/// Why a chunk was not stored.
#[derive(Debug)]
pub enum ChunkRefused {
    /// The upload waits for the chunk at this offset.
    OutOfOrder {
        /// Bytes received so far.
        received: u64,
    },
    /// Past its expiry: start again.
    Expired(Upload),
    /// Aborted meanwhile.
    Gone,
    /// The store failed.
    Store(StorageError),
    /// The database failed.
    Domain(DomainError),
}

impl From<DomainError> for ChunkRefused {
    fn from(error: DomainError) -> Self {
        ChunkRefused::Domain(error)
    }
}

/// Stores `bytes` as chunk `index` of `upload` (the caller checked that they are exactly that
/// chunk's bytes) and records it, if it is the chunk the upload waits for.
pub async fn store_chunk(media: &Media, pool: &PgPool, upload: &Upload, index: u64, bytes: Bytes) -> Result<Stored, ChunkRefused> {
    let range = upload.chunk_range(index);
    if range.end <= upload.received {
        // Resent after an answer was lost: the first copy is kept (a completion may be reading it).
        return Ok(Stored::AlreadyHad(upload.clone()));
    }
    if upload.state != UploadState::Receiving || range.start != upload.received {
        return Err(ChunkRefused::OutOfOrder { received: upload.received });
    }
    if upload.has_expired(chrono::Utc::now()) {
        return Err(ChunkRefused::Expired(upload.clone()));
    }
    let key = MediaKey::upload_chunk(upload.team_id, upload.upload_id, index);
    media.store.put_bytes(&key, bytes).await.map_err(ChunkRefused::Store)?;
    if let Some(recorded) = media_uploads::record_chunk(pool, upload.team_id, upload.upload_id, range.start, range.end).await? {
        return Ok(Stored::Recorded(recorded));
    }
    // Not recorded: something changed since the upload was read.
    let now = match media_uploads::get(pool, upload.team_id, upload.upload_id).await {
        Ok(now) => now,
        Err(DomainError::NotFound) => {
            forget_chunk(&media.store, &key).await;
            return Err(ChunkRefused::Gone);
        }
        Err(error) => return Err(error.into()),
    };
    match now.state {
        // A completion may be reading it: keep it (the completion deletes every chunk after).
        UploadState::Completing => Ok(Stored::AlreadyHad(now)),
        // Completed: its chunks were deleted, or are being deleted; this copy is not needed.
        UploadState::Completed => {
            forget_chunk(&media.store, &key).await;
            Ok(Stored::AlreadyHad(now))
        }
        _ if now.has_expired(chrono::Utc::now()) => {
            forget_chunk(&media.store, &key).await;
            Err(ChunkRefused::Expired(now))
        }
        // Another request carrying the same chunk recorded it first (same key, same bytes).
        _ if now.received >= range.end => Ok(Stored::AlreadyHad(now)),
        _ => Err(ChunkRefused::OutOfOrder { received: now.received }),
    }
}

async fn forget_chunk(store: &MediaStore, key: &MediaKey) {
    if let Err(error) = store.delete(key).await {
        tracing::warn!(%error, %key, "could not delete a chunk stored for an upload that no longer takes it");
    }
}

/// Why an upload did not become a media item.
#[derive(Debug)]
pub enum NotCompleted {
    /// Not every byte has arrived.
    Incomplete {
        /// Bytes received so far.
        received: u64,
    },
    /// Another request is completing it right now.
    InProgress,
    /// Past its expiry.
    Expired(Upload),
    /// The file was refused, or could not be stored (the words say which). A refused file's
    /// upload is aborted; after a failure of the store, completing may be asked again.
    Failed(UploadError),
    /// The database failed.
    Domain(DomainError),
}

impl From<DomainError> for NotCompleted {
    fn from(error: DomainError) -> Self {
        NotCompleted::Domain(error)
    }
}

/// What completing answered.
#[derive(Debug)]
pub enum Completed {
    /// This request made the item.
    Made(Box<MediaItem>),
    /// An earlier request did: the upload's item.
    Earlier(uuid::Uuid),
}

/// Turns the whole upload into a media item, unless another request is doing so, through the
/// same pipeline as a file sent in one request. The chunks are deleted once the item is made.
pub async fn complete(media: &Media, pool: &PgPool, actor: Actor, upload: &Upload) -> Result<Completed, NotCompleted> {
    let (team_id, upload_id) = (upload.team_id, upload.upload_id);
    let Some(upload) = media_uploads::begin_completion(pool, team_id, upload_id).await? else {
        let now = media_uploads::get(pool, team_id, upload_id).await?;
        return Err(match now.state {
            UploadState::Completed => return Ok(Completed::Earlier(now.media_id.unwrap_or_default())),
            UploadState::Completing => NotCompleted::InProgress,
            _ if now.has_expired(chrono::Utc::now()) => NotCompleted::Expired(now),
            _ => NotCompleted::Incomplete { received: now.received },
        });
    };
    let failure: Arc<Mutex<Option<StorageError>>> = Arc::default();
    let incoming = Incoming { file_name: &upload.file_name, alt_text: &upload.alt_text };
    let received = uploads::receive(media, pool, team_id, actor, incoming, chunks(&media.store, &upload, failure.clone())).await;
    match received {
        Ok(item) => {
            media_uploads::completed(pool, team_id, upload_id, item.media_id).await?;
            delete_chunks(&media.store, &upload).await;
            Ok(Completed::Made(Box::new(item)))
        }
        Err(error) => {
            // A chunk the store did not give back reads as an interrupted body to `receive`.
            let error = match failure.lock().unwrap_or_else(|p| p.into_inner()).take() {
                Some(store_error) => {
                    tracing::error!(error = %store_error, %upload_id, "reading an upload's chunks back failed");
                    UploadError::Storage(store_error.to_string())
                }
                None => error,
            };
            // A file that will never be accepted: nothing to keep it for.
            let give_up = matches!(error, UploadError::Refused(_) | UploadError::TooLarge { .. });
            media_uploads::completion_failed(pool, team_id, upload_id, give_up).await?;
            if give_up && delete_chunks(&media.store, &upload).await {
                media_uploads::forget(pool, upload_id).await?;
            }
            Err(NotCompleted::Failed(error))
        }
    }
}

/// The upload's chunks, in order, one in memory at a time, each checked to be as long as it must
/// be. A failure of the store ends the stream with an error and is kept in `failure`.
fn chunks(
    store: &MediaStore,
    upload: &Upload,
    failure: Arc<Mutex<Option<StorageError>>>,
) -> impl futures::Stream<Item = Result<Bytes, String>> + Unpin + use<> {
    let (store, upload) = (store.clone(), upload.clone());
    let stream = futures::stream::iter(0..upload.chunks()).then(move |index| {
        let (store, failure) = (store.clone(), failure.clone());
        let key = MediaKey::upload_chunk(upload.team_id, upload.upload_id, index);
        let range = upload.chunk_range(index);
        async move {
            let read = store.read_small(&key).await.and_then(|bytes| {
                if bytes.len() as u64 == range.end - range.start { Ok(bytes) } else { Err(StorageError::NotFound(key.clone())) }
            });
            read.map_err(|error| {
                let words = error.to_string();
                *failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(error);
                words
            })
        }
    });
    Box::pin(stream)
}

/// Deletes the upload's chunks; answers whether that worked (a failure is logged, and
/// housekeeping tries again once the upload is aborted or expires).
async fn delete_chunks(store: &MediaStore, upload: &Upload) -> bool {
    match store.delete_upload_chunks(upload.team_id, upload.upload_id).await {
        Ok(_) => true,
        Err(error) => {
            tracing::warn!(%error, upload_id = %upload.upload_id, "could not delete an upload's chunks");
            false
        }
    }
}

/// Gives an upload up (its client's `DELETE`): marks it aborted, deletes its chunks, then its row.
pub async fn abort(media: &Media, pool: &PgPool, team_id: uuid::Uuid, upload_id: uuid::Uuid) -> Result<(), DomainError> {
    let upload = media_uploads::abort(pool, team_id, upload_id).await?;
    if delete_chunks(&media.store, &upload).await {
        media_uploads::forget(pool, upload_id).await?;
    }
    Ok(())
}

/// Housekeeping: aborts the uploads past their expiry and deletes the chunks of every aborted
/// upload, then their rows (a batch a pass). Answers how many uploads were cleared away.
pub async fn sweep(store: &MediaStore, pool: &PgPool) -> Result<u64, DomainError> {
    let mut cleared = 0;
    for (team_id, upload_id) in media_uploads::expired(pool, 500).await? {
        match store.delete_upload_chunks(team_id, upload_id).await {
            Ok(_) => {
                media_uploads::forget(pool, upload_id).await?;
                cleared += 1;
            }
            Err(error) => tracing::warn!(%error, %upload_id, "could not delete an expired upload's chunks; the next pass tries again"),
        }
    }
    Ok(cleared)
}
