//! The tower-sessions store on Postgres (sqlx 0.9: the published sqlx store targets sqlx 0.8).
//!
//! Rows are keyed by the SHA-256 of the session id, so the database never holds a usable cookie.
//!
//! Every page request loads its session first, so this store decides how a page answers while the
//! database is away: each operation is bounded by [`STORE_TIMEOUT`] and fails with an error (the
//! sign-in gate then answers 503 at once), never waits for the pool's longer acquire timeout, and
//! never retries on its own.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use crate::secret_token::hash_token;

/// Web sessions in the `web_session` table.
#[derive(Clone, Debug)]
pub struct PgSessionStore {
    pool: PgPool,
}

impl PgSessionStore {
    /// A store on this pool.
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

fn key(id: &Id) -> Vec<u8> {
    hash_token(&id.to_string())
}

fn to_chrono(t: time::OffsetDateTime) -> session_store::Result<DateTime<Utc>> {
    DateTime::from_timestamp(t.unix_timestamp(), t.nanosecond())
        .ok_or_else(|| session_store::Error::Encode("session expiry out of range".into()))
}

fn to_time(t: DateTime<Utc>) -> session_store::Result<time::OffsetDateTime> {
    time::OffsetDateTime::from_unix_timestamp(t.timestamp())
        .map(|s| s + time::Duration::nanoseconds(i64::from(t.timestamp_subsec_nanos())))
        .map_err(|e| session_store::Error::Decode(e.to_string()))
}

/// How long one session operation may take, waiting for a pooled connection included. A session
/// is one row by its key: only a database that is not answering takes this long.
pub const STORE_TIMEOUT: Duration = Duration::from_secs(3);
/// Fresh ids [`SessionStore::create`] tries before giving up (a collision of 128-bit random ids
/// should never happen even once: repeated ones mean something else is wrong).
const CREATE_TRIES: usize = 3;

/// Runs one database operation within [`STORE_TIMEOUT`].
async fn bounded<T>(operation: impl Future<Output = Result<T, sqlx::Error>>) -> session_store::Result<T> {
    match tokio::time::timeout(STORE_TIMEOUT, operation).await {
        Ok(result) => result.map_err(|e| session_store::Error::Backend(e.to_string())),
        Err(_) => Err(session_store::Error::Backend(format!("the database did not answer within {} s", STORE_TIMEOUT.as_secs()))),
    }
}

#[async_trait]
impl SessionStore for PgSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // Insert-only, retrying on the (astronomically unlikely) id collision, so that one
        // session can never overwrite another.
        for _ in 0..CREATE_TRIES {
            let data = serde_json::to_value(&record.data).map_err(|e| session_store::Error::Encode(e.to_string()))?;
            let inserted = bounded(
                sqlx::query!(
                    "insert into web_session (session_id_hash, data, expires_at) values ($1, $2, $3) on conflict do nothing",
                    key(&record.id),
                    data,
                    to_chrono(record.expiry_date)?,
                )
                .execute(&self.pool),
            )
            .await?;
            if inserted.rows_affected() == 1 {
                return Ok(());
            }
            record.id = Id::default();
        }
        Err(session_store::Error::Backend(format!("no free session id after {CREATE_TRIES} tries")))
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let data = serde_json::to_value(&record.data).map_err(|e| session_store::Error::Encode(e.to_string()))?;
        bounded(
            sqlx::query!(
                r#"insert into web_session (session_id_hash, data, expires_at) values ($1, $2, $3)
               on conflict (session_id_hash) do update set data = excluded.data, expires_at = excluded.expires_at"#,
                key(&record.id),
                data,
                to_chrono(record.expiry_date)?,
            )
            .execute(&self.pool),
        )
        .await?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let row = bounded(
            sqlx::query!("select data, expires_at from web_session where session_id_hash = $1 and expires_at > now()", key(id))
                .fetch_optional(&self.pool),
        )
        .await?;
        let Some(row) = row else { return Ok(None) };
        let data: HashMap<String, serde_json::Value> =
            serde_json::from_value(row.data).map_err(|e| session_store::Error::Decode(e.to_string()))?;
        Ok(Some(Record { id: *id, data, expiry_date: to_time(row.expires_at)? }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        bounded(sqlx::query!("delete from web_session where session_id_hash = $1", key(id)).execute(&self.pool)).await?;
        Ok(())
    }
}
