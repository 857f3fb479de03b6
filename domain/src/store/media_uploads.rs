//! Resumable uploads: the state of a large file arriving in chunks over many requests, which may
//! reach different web processes. The chunks are objects in the media store; this module keeps
//! what every process must agree on: the team, the announced size, the chunk size, how many bytes
//! arrived, the expiry, and which one request is turning the bytes into a media item.
//!
//! Every chunk but the last is exactly `chunk_bytes` long and chunks arrive in order, so an upload
//! is resumed from [`Upload::received`] alone. Each change is one conditional `update`: two
//! requests carrying the same chunk, or racing to complete, cannot both win.

use chrono::{DateTime, TimeDelta, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::media;
use crate::{DomainError, FieldError};

/// The smallest chunk size an upload may choose.
pub const MIN_CHUNK_BYTES: u32 = 256 * 1024;
/// The largest chunk size (and the default): a chunk is held in memory while it is stored, so
/// this bounds what one request costs.
pub const MAX_CHUNK_BYTES: u32 = 8 * 1024 * 1024;
/// How long an upload may take from its start, after which its chunks are deleted.
pub const LIFETIME: TimeDelta = TimeDelta::hours(24);
/// A completion that has not finished after this long is taken to have stopped with its process,
/// and may be started again.
pub const COMPLETION_LEASE: TimeDelta = TimeDelta::minutes(30);
/// The most uploads a team may have in progress at once.
pub const MAX_OPEN_PER_TEAM: i64 = 20;

/// Where an upload is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "media_upload_state", rename_all = "snake_case")]
pub enum UploadState {
    /// Chunks are arriving.
    Receiving,
    /// Every byte arrived; a request is reading them into a media item.
    Completing,
    /// It became a media item.
    Completed,
    /// Given up by its client, on expiry, or because its file was refused; its chunks are being
    /// deleted.
    Aborted,
}

impl UploadState {
    /// Its name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            UploadState::Receiving => "receiving",
            UploadState::Completing => "completing",
            UploadState::Completed => "completed",
            UploadState::Aborted => "aborted",
        }
    }
}

/// An upload in progress (or just completed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upload {
    /// Its id.
    pub upload_id: Uuid,
    /// Its team.
    pub team_id: Uuid,
    /// The name it was announced under.
    pub file_name: String,
    /// The alt text the item will have.
    pub alt_text: String,
    /// The file's size.
    pub byte_size: u64,
    /// The size of every chunk but the last.
    pub chunk_bytes: u32,
    /// Bytes stored so far: the offset the next chunk starts at.
    pub received: u64,
    /// Where it is.
    pub state: UploadState,
    /// The media item it became.
    pub media_id: Option<Uuid>,
    /// When it started.
    pub created_at: DateTime<Utc>,
    /// When its chunks are deleted, finished or not.
    pub expires_at: DateTime<Utc>,
}

impl Upload {
    /// How many chunks the file takes.
    pub fn chunks(&self) -> u64 {
        self.byte_size.div_ceil(u64::from(self.chunk_bytes))
    }

    /// The bytes chunk `index` holds.
    pub fn chunk_range(&self, index: u64) -> std::ops::Range<u64> {
        let start = index * u64::from(self.chunk_bytes);
        start..(start + u64::from(self.chunk_bytes)).min(self.byte_size)
    }

    /// Whether every byte arrived.
    pub fn is_whole(&self) -> bool {
        self.received == self.byte_size
    }

    /// Whether it is past its expiry at `now`.
    pub fn has_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at <= now
    }
}

/// An upload about to start.
#[derive(Clone, Debug)]
pub struct NewUpload {
    /// The file's name (shown only; cleaned when the item is made).
    pub file_name: String,
    /// Alt text for the item.
    pub alt_text: String,
    /// The file's exact size.
    pub byte_size: u64,
    /// The chunk size ([`MIN_CHUNK_BYTES`]..=[`MAX_CHUNK_BYTES`]).
    pub chunk_bytes: u32,
}

/// One row of `media_upload` as the queries below read it.
struct Row {
    upload_id: Uuid,
    team_id: Uuid,
    file_name: String,
    alt_text: String,
    byte_size: i64,
    chunk_bytes: i32,
    received: i64,
    state: UploadState,
    media_id: Option<Uuid>,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
}

impl From<Row> for Upload {
    fn from(row: Row) -> Self {
        Upload {
            upload_id: row.upload_id,
            team_id: row.team_id,
            file_name: row.file_name,
            alt_text: row.alt_text,
            byte_size: row.byte_size.max(0) as u64,
            chunk_bytes: row.chunk_bytes.max(0) as u32,
            received: row.received.max(0) as u64,
            state: row.state,
            media_id: row.media_id,
            created_at: row.created_at,
            expires_at: row.expires_at,
        }
    }
}

/// Starts an upload, if the team's quota has room for the file beside what it keeps and what
/// its other uploads in progress will bring (decided under the same per-team lock as adding an
/// item). The caller has checked the size against the per-file limit.
pub async fn start(pool: &PgPool, team_id: Uuid, new: &NewUpload, quota: u64) -> Result<Upload, DomainError> {
    if new.byte_size == 0 {
        return Err(FieldError::new("byte_size", "Give the file's size in bytes (more than 0).").into());
    }
    if !(MIN_CHUNK_BYTES..=MAX_CHUNK_BYTES).contains(&new.chunk_bytes) {
        return Err(FieldError::new(
            "chunk_bytes",
            format!("Choose a chunk size from {MIN_CHUNK_BYTES} to {MAX_CHUNK_BYTES} bytes (or leave it out for {MAX_CHUNK_BYTES})."),
        )
        .into());
    }
    let alt_text = media::alt_text(&new.alt_text, "alt_text")?;
    let file_name: String = new.file_name.trim().chars().filter(|c| !c.is_control()).take(media::MAX_FILE_NAME_CHARS).collect();
    let byte_size = i64::try_from(new.byte_size).map_err(|_| FieldError::new("byte_size", "That is not a file size."))?;

    let mut tx = pool.begin().await?;
    sqlx::query!("select pg_advisory_xact_lock(hashtextextended('media_quota:' || $1::text, 0))", team_id.to_string())
        .execute(&mut *tx)
        .await?;
    let taken = sqlx::query!(
        r#"select (select coalesce(sum(byte_size), 0) from media_item where team_id = $1 and deleted_at is null)::bigint as "kept!",
                  (select coalesce(sum(byte_size), 0) from media_upload
                   where team_id = $1 and state in ('receiving', 'completing') and expires_at > now())::bigint as "coming!",
                  (select count(*) from media_upload
                   where team_id = $1 and state in ('receiving', 'completing') and expires_at > now()) as "open!""#,
        team_id
    )
    .fetch_one(&mut *tx)
    .await?;
    if taken.open >= MAX_OPEN_PER_TEAM {
        return Err(DomainError::Refused(format!(
            "The team already has {MAX_OPEN_PER_TEAM} uploads in progress. Finish or cancel one (DELETE it) before starting another."
        )));
    }
    let used = (taken.kept.max(0) as u64).saturating_add(taken.coming.max(0) as u64);
    media::quota_check(used, new.byte_size, quota)?;
    let row = sqlx::query_as!(
        Row,
        r#"insert into media_upload (team_id, file_name, alt_text, byte_size, chunk_bytes, expires_at)
           values ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))
           returning upload_id, team_id, file_name, alt_text, byte_size, chunk_bytes, received,
                     state as "state: UploadState", media_id, created_at, expires_at"#,
        team_id,
        file_name,
        alt_text,
        byte_size,
        new.chunk_bytes as i32,
        LIFETIME.num_seconds() as f64,
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(row.into())
}

/// The team's upload (one that was aborted is gone: [`DomainError::NotFound`], as another
/// team's is).
pub async fn get(pool: &PgPool, team_id: Uuid, upload_id: Uuid) -> Result<Upload, DomainError> {
    let row = sqlx::query_as!(
        Row,
        r#"select upload_id, team_id, file_name, alt_text, byte_size, chunk_bytes, received,
                  state as "state: UploadState", media_id, created_at, expires_at
           from media_upload where team_id = $1 and upload_id = $2 and state <> 'aborted'"#,
        team_id,
        upload_id
    )
    .fetch_optional(pool)
    .await?;
    row.map(Upload::from).ok_or(DomainError::NotFound)
}

/// Records that the chunk `start..end` is stored, if it is the one the upload waits for (it
/// starts at `received`) and the upload is still receiving and has not expired. `None`: it was
/// not recorded (read the upload again to see why).
pub async fn record_chunk(pool: &PgPool, team_id: Uuid, upload_id: Uuid, start: u64, end: u64) -> Result<Option<Upload>, DomainError> {
    let row = sqlx::query_as!(
        Row,
        r#"update media_upload set received = $4, updated_at = now()
           where team_id = $1 and upload_id = $2 and received = $3 and state = 'receiving' and expires_at > now()
           returning upload_id, team_id, file_name, alt_text, byte_size, chunk_bytes, received,
                     state as "state: UploadState", media_id, created_at, expires_at"#,
        team_id,
        upload_id,
        start as i64,
        end as i64
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(Upload::from))
}

/// Takes the completion of a whole upload for this request: it must be receiving (or completing
/// for longer than [`COMPLETION_LEASE`], by a process that stopped) and not expired. `None`:
/// another request has it, or it is not whole, done or expired (read it again to see which).
pub async fn begin_completion(pool: &PgPool, team_id: Uuid, upload_id: Uuid) -> Result<Option<Upload>, DomainError> {
    let row = sqlx::query_as!(
        Row,
        r#"update media_upload set state = 'completing', updated_at = now()
           where team_id = $1 and upload_id = $2 and received = byte_size and expires_at > now()
             and (state = 'receiving' or (state = 'completing' and updated_at < now() - make_interval(secs => $3)))
           returning upload_id, team_id, file_name, alt_text, byte_size, chunk_bytes, received,
                     state as "state: UploadState", media_id, created_at, expires_at"#,
        team_id,
        upload_id,
        COMPLETION_LEASE.num_seconds() as f64
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(Upload::from))
}

/// The upload became `media_id`; its chunks may go (the caller deletes them after this, so a
/// chunk stored late by a retried request sees the upload completed and deletes its own).
pub async fn completed(pool: &PgPool, team_id: Uuid, upload_id: Uuid, media_id: Uuid) -> Result<(), DomainError> {
    sqlx::query!(
        "update media_upload set state = 'completed', media_id = $3, updated_at = now()
         where team_id = $1 and upload_id = $2 and state = 'completing'",
        team_id,
        upload_id,
        media_id
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Completing failed: back to receiving, so that the client may ask again (a store that did not
/// answer), or aborted (a file that will never be accepted: its chunks are deleted).
pub async fn completion_failed(pool: &PgPool, team_id: Uuid, upload_id: Uuid, give_up: bool) -> Result<(), DomainError> {
    let state = if give_up { UploadState::Aborted } else { UploadState::Receiving };
    sqlx::query!(
        "update media_upload set state = $3, updated_at = now() where team_id = $1 and upload_id = $2 and state = 'completing'",
        team_id,
        upload_id,
        state as UploadState
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Gives the upload up (its client's `DELETE`): refused while a request is completing it. The
/// caller then deletes its chunks and [`forget`]s it.
pub async fn abort(pool: &PgPool, team_id: Uuid, upload_id: Uuid) -> Result<Upload, DomainError> {
    let row = sqlx::query_as!(
        Row,
        r#"update media_upload set state = 'aborted', updated_at = now()
           where team_id = $1 and upload_id = $2 and state in ('receiving', 'completed')
           returning upload_id, team_id, file_name, alt_text, byte_size, chunk_bytes, received,
                     state as "state: UploadState", media_id, created_at, expires_at"#,
        team_id,
        upload_id
    )
    .fetch_optional(pool)
    .await?;
    match row {
        Some(row) => Ok(row.into()),
        None => match get(pool, team_id, upload_id).await?.state {
            UploadState::Completing => {
                Err(DomainError::Refused("The upload is being made into a media item right now; wait for it to finish.".into()))
            }
            _ => Err(DomainError::NotFound),
        },
    }
}

/// Removes an aborted upload's row, once its chunks are deleted.
pub async fn forget(pool: &PgPool, upload_id: Uuid) -> Result<(), DomainError> {
    sqlx::query!("delete from media_upload where upload_id = $1 and state = 'aborted'", upload_id).execute(pool).await?;
    Ok(())
}

/// Aborts every upload past its expiry (a completion still within its lease finishes first), and
/// answers the aborted ones, `(team, upload)`, at most `limit`: their chunks are to be deleted,
/// then their rows [`forget`]ten. Aborted uploads whose chunks could not be deleted before are
/// answered again.
pub async fn expired(pool: &PgPool, limit: i64) -> Result<Vec<(Uuid, Uuid)>, DomainError> {
    sqlx::query!(
        "update media_upload set state = 'aborted', updated_at = now()
         where expires_at <= now()
           and (state in ('receiving', 'completed')
                or (state = 'completing' and updated_at < now() - make_interval(secs => $1)))",
        COMPLETION_LEASE.num_seconds() as f64
    )
    .execute(pool)
    .await?;
    let rows = sqlx::query!("select team_id, upload_id from media_upload where state = 'aborted' order by updated_at limit $1", limit)
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().map(|r| (r.team_id, r.upload_id)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_the_file_exactly() {
        let upload = Upload {
            upload_id: Uuid::nil(),
            team_id: Uuid::nil(),
            file_name: String::new(),
            alt_text: String::new(),
            byte_size: 600_000,
            chunk_bytes: MIN_CHUNK_BYTES,
            received: 0,
            state: UploadState::Receiving,
            media_id: None,
            created_at: Utc::now(),
            expires_at: Utc::now() + LIFETIME,
        };
        assert_eq!(upload.chunks(), 3);
        assert_eq!(upload.chunk_range(0), 0..262_144);
        assert_eq!(upload.chunk_range(2), 524_288..600_000);
        assert!(!upload.is_whole());
    }
}
