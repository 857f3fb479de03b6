//! The tower-sessions store on Postgres (sqlx 0.9: the published sqlx store targets sqlx 0.8).
//!
//! Rows are keyed by the SHA-256 of the session id, so the database never holds a usable cookie.

use std::collections::HashMap;

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

fn backend(e: sqlx::Error) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

#[async_trait]
impl SessionStore for PgSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // Insert-only, retrying on the (astronomically unlikely) id collision, so that one
        // session can never overwrite another.
        loop {
            let data = serde_json::to_value(&record.data).map_err(|e| session_store::Error::Encode(e.to_string()))?;
            let inserted = sqlx::query!(
                "insert into web_session (session_id_hash, data, expires_at) values ($1, $2, $3) on conflict do nothing",
                key(&record.id),
                data,
                to_chrono(record.expiry_date)?,
            )
            .execute(&self.pool)
            .await
            .map_err(backend)?;
            if inserted.rows_affected() == 1 {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let data = serde_json::to_value(&record.data).map_err(|e| session_store::Error::Encode(e.to_string()))?;
        sqlx::query!(
            r#"insert into web_session (session_id_hash, data, expires_at) values ($1, $2, $3)
               on conflict (session_id_hash) do update set data = excluded.data, expires_at = excluded.expires_at"#,
            key(&record.id),
            data,
            to_chrono(record.expiry_date)?,
        )
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let row = sqlx::query!("select data, expires_at from web_session where session_id_hash = $1 and expires_at > now()", key(id))
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        let Some(row) = row else { return Ok(None) };
        let data: HashMap<String, serde_json::Value> =
            serde_json::from_value(row.data).map_err(|e| session_store::Error::Decode(e.to_string()))?;
        Ok(Some(Record { id: *id, data, expiry_date: to_time(row.expires_at)? }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        sqlx::query!("delete from web_session where session_id_hash = $1", key(id)).execute(&self.pool).await.map_err(backend)?;
        Ok(())
    }
}
