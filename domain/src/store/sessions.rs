//! The tower-sessions store on Postgres (sqlx 0.9: the published sqlx store targets sqlx 0.8).
//!
//! Rows are keyed by the SHA-256 of the session id, so the database never holds a usable cookie.
//! Each save also copies into columns who the session belongs to ([`USER_KEY`]) and the client it
//! came from ([`CLIENT_KEY`]), so a person can list their sessions and end any of them (Settings →
//! Security). A session lasts [`ABSOLUTE_LIFETIME_DAYS`] from its creation (a sign-in makes a new
//! one) however active it is, besides the inactivity expiry the session layer sets.
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
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};
use uuid::Uuid;

use crate::DomainError;
use crate::secret_token::hash_token;

/// The session key holding the signed-in person's id.
pub const USER_KEY: &str = "user_id";
/// The session key holding the [`ClientInfo`] it was last used from.
pub const CLIENT_KEY: &str = "client";
/// Days a session lasts from its creation, however active: a stolen cookie stops working.
pub const ABSOLUTE_LIFETIME_DAYS: i32 = 30;
/// The longest User-Agent kept (the column's limit).
const MAX_USER_AGENT_CHARS: usize = 512;

/// Where a session is used from, as the person sees it on the Security page.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientInfo {
    /// The client's IP address (the socket peer, or a trusted proxy's report).
    pub addr: String,
    /// The browser's User-Agent header, cut to 512 characters.
    pub agent: String,
}

impl ClientInfo {
    /// From a request's address and User-Agent.
    pub fn new(addr: &str, agent: Option<&str>) -> Self {
        Self { addr: addr.to_owned(), agent: agent.unwrap_or_default().chars().take(MAX_USER_AGENT_CHARS).collect() }
    }
}

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
/// How far a save must move a session's expiry to be written when nothing else changed.
pub const SLIDE_AT_LEAST: Duration = Duration::from_secs(60);
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

/// The columns a record's data fills: the signed-in person and the client.
fn columns(record: &Record) -> (Option<Uuid>, Option<String>, Option<String>) {
    let user_id = record.data.get(USER_KEY).and_then(|v| serde_json::from_value::<Uuid>(v.clone()).ok());
    let client = record.data.get(CLIENT_KEY).and_then(|v| serde_json::from_value::<ClientInfo>(v.clone()).ok());
    let (addr, agent) = client.map(|c| (Some(c.addr), Some(c.agent.chars().take(MAX_USER_AGENT_CHARS).collect()))).unwrap_or_default();
    (user_id, addr, agent)
}

#[async_trait]
impl SessionStore for PgSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // Insert-only, retrying on the (astronomically unlikely) id collision, so that one
        // session can never overwrite another.
        for _ in 0..CREATE_TRIES {
            let data = serde_json::to_value(&record.data).map_err(|e| session_store::Error::Encode(e.to_string()))?;
            let (user_id, addr, agent) = columns(record);
            // The person is looked up rather than trusted: one removed meanwhile leaves the
            // column empty instead of failing the save.
            let inserted = bounded(
                sqlx::query!(
                    r#"insert into web_session (session_id_hash, data, expires_at, user_id, client_addr, user_agent)
                       values ($1, $2, $3, (select user_id from app_user where user_id = $4), $5, $6) on conflict do nothing"#,
                    key(&record.id),
                    data,
                    to_chrono(record.expiry_date)?,
                    user_id,
                    addr,
                    agent,
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
        let (user_id, addr, agent) = columns(record);
        // A save is a request that used the session: it is "last seen" now. A row deleted meanwhile
        // (signed out from another session) is not brought back: only an existing row is updated.
        // The session layer saves on every request to slide the inactivity expiry; a save that
        // changes nothing but moves the expiry by less than [`SLIDE_AT_LEAST`] writes nothing (a
        // row version and a WAL flush per page view otherwise), so "last seen" is to the minute.
        bounded(
            sqlx::query!(
                r#"update web_session
                      set data = $2, expires_at = $3, last_seen_at = now(),
                          user_id = (select user_id from app_user where user_id = $4), client_addr = $5, user_agent = $6
                    where session_id_hash = $1
                      and not (data = $2 and client_addr is not distinct from $5 and user_agent is not distinct from $6
                               and user_id is not distinct from (select user_id from app_user where user_id = $4)
                               and $3 >= expires_at and $3 < expires_at + make_interval(secs => $7))"#,
                key(&record.id),
                data,
                to_chrono(record.expiry_date)?,
                user_id,
                addr,
                agent,
                SLIDE_AT_LEAST.as_secs_f64(),
            )
            .execute(&self.pool),
        )
        .await?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let row = bounded(
            sqlx::query!(
                r#"select data, expires_at from web_session
                    where session_id_hash = $1 and expires_at > now() and created_at > now() - make_interval(days => $2)"#,
                key(id),
                ABSOLUTE_LIFETIME_DAYS,
            )
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

/// One of a person's sessions, as the Security page lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionListing {
    /// The session's public id (for "Sign out" on that row; never the cookie or its hash).
    pub public_id: Uuid,
    /// When it was created (signed in).
    pub created_at: DateTime<Utc>,
    /// When a page was last loaded with it.
    pub last_seen_at: DateTime<Utc>,
    /// The client address it was last used from.
    pub client_addr: Option<String>,
    /// The browser, in words ("Firefox on Windows").
    pub browser: String,
    /// Whether it is the session of the request asking.
    pub current: bool,
}

/// The live sessions of `user_id`, the most recently seen first. `current` is the asking
/// request's session id, to mark "this session".
pub async fn list_for_user(pool: &PgPool, user_id: Uuid, current: Option<Id>) -> Result<Vec<SessionListing>, DomainError> {
    let current = current.map(|id| key(&id)).unwrap_or_default();
    let rows = sqlx::query!(
        r#"select public_id, created_at, last_seen_at, client_addr, user_agent, session_id_hash = $2 as "current!"
             from web_session
            where user_id = $1 and expires_at > now() and created_at > now() - make_interval(days => $3)
            order by session_id_hash = $2 desc, last_seen_at desc
            limit 100"#,
        user_id,
        current,
        ABSOLUTE_LIFETIME_DAYS,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| SessionListing {
            public_id: r.public_id,
            created_at: r.created_at,
            last_seen_at: r.last_seen_at,
            client_addr: r.client_addr,
            browser: describe_user_agent(r.user_agent.as_deref().unwrap_or_default()),
            current: r.current,
        })
        .collect())
}

/// Ends one of `user_id`'s sessions by its public id. `false` when there is no such session of
/// theirs (already ended, or someone else's: the answer is the same).
pub async fn revoke(pool: &PgPool, user_id: Uuid, public_id: Uuid) -> Result<bool, DomainError> {
    let deleted = sqlx::query!("delete from web_session where user_id = $1 and public_id = $2", user_id, public_id).execute(pool).await?;
    Ok(deleted.rows_affected() == 1)
}

/// Ends every session of `user_id` except `keep` (the asking request's). Answers how many.
pub async fn revoke_others<'e>(executor: impl sqlx::PgExecutor<'e>, user_id: Uuid, keep: Option<Id>) -> Result<u64, DomainError> {
    let keep = keep.map(|id| key(&id)).unwrap_or_default();
    let deleted =
        sqlx::query!("delete from web_session where user_id = $1 and session_id_hash <> $2", user_id, keep).execute(executor).await?;
    Ok(deleted.rows_affected())
}

/// A User-Agent in a few words: "Firefox on Windows", "Safari on iPhone", "Unknown browser".
/// Only the common browsers and systems are named; the rest is "Unknown".
pub fn describe_user_agent(agent: &str) -> String {
    let has = |needle: &str| agent.contains(needle);
    // Order matters: Edge and Opera say "Chrome", Chrome says "Safari", iOS browsers say "Safari".
    let browser = if has("Edg/") || has("Edge/") {
        Some("Edge")
    } else if has("OPR/") || has("Opera") {
        Some("Opera")
    } else if has("Firefox/") || has("FxiOS/") {
        Some("Firefox")
    } else if has("Chrome/") || has("Chromium/") || has("CriOS/") {
        Some("Chrome")
    } else if has("Safari/") && has("Version/") {
        Some("Safari")
    } else {
        None
    };
    let system = if has("iPhone") {
        Some("iPhone")
    } else if has("iPad") {
        Some("iPad")
    } else if has("Android") {
        Some("Android")
    } else if has("Windows") {
        Some("Windows")
    } else if has("Mac OS X") || has("Macintosh") {
        Some("macOS")
    } else if has("CrOS") {
        Some("ChromeOS")
    } else if has("Linux") {
        Some("Linux")
    } else {
        None
    };
    match (browser, system) {
        (Some(b), Some(s)) => format!("{b} on {s}"),
        (Some(b), None) => b.to_owned(),
        (None, Some(s)) => format!("Unknown browser on {s}"),
        (None, None) => "Unknown browser".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agents_in_words() {
        let cases = [
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox on Windows"),
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36",
                "Chrome on Linux",
            ),
            ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome on Linux"),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
                "Edge on Windows",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
                "Safari on iPhone",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
                "Safari on macOS",
            ),
            (
                "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36",
                "Chrome on Android",
            ),
            ("curl/8.5.0", "Unknown browser"),
            ("", "Unknown browser"),
        ];
        for (agent, words) in cases {
            assert_eq!(describe_user_agent(agent), words, "{agent}");
        }
    }
}
