//! Webhook endpoints (Settings → Webhooks) and the queue of calls to them.
//!
//! Calls are not written here: a trigger on the audit trail (see the migration) queues one per
//! subscribed endpoint in the transaction that records the event, and notifies [`DUE_CHANNEL`].
//! The worker's dispatcher then [`claim`]s due calls in batches (one statement, `FOR UPDATE SKIP
//! LOCKED`), sends them with no transaction open, and writes the outcomes back in one statement
//! ([`complete`]). A claim whose worker stopped mid-call is put back by [`rescue`].
//!
//! Endpoint functions take the signed-in [`Member`] and filter by its team in SQL: another team's
//! endpoint id answers [`DomainError::NotFound`]. Signing secrets are sealed by the [`Vault`]
//! before they reach a query, bound to their team and endpoint.

use std::time::Duration;

use chrono::{DateTime, Utc};
use crier_vault::Vault;
use secrecy::SecretString;
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use super::Member;
use super::accounts::ResealReport;
use super::audit::{self, Actor};
use crate::secret_token::SecretToken;
use crate::webhook::{CallState, WebhookEvent};
use crate::{DomainError, FieldError};

/// The channel the audit trigger notifies (on commit) when it queued calls, so idle dispatchers
/// send them at once.
pub const DUE_CHANNEL: &str = "crier_webhook_due";

/// Endpoints one team may have.
pub const MAX_ENDPOINTS: i64 = 20;

/// How often a test event may be sent to one endpoint (Settings → Webhooks): each one is an HTTP
/// call Crier makes on request, so a person (or a script holding a session) cannot aim a stream of
/// them at a host.
pub const TEST_EVENT_INTERVAL: Duration = Duration::from_secs(60);

/// The signing secret's prefix, so a leaked one is recognisable.
const SECRET_PREFIX: &str = "crier_whsec_";

/// An endpoint URL that Crier will call: https (http only where the configuration allows it),
/// with a host, without credentials or a fragment, at most 2000 characters.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookUrl(url::Url);

impl std::fmt::Debug for WebhookUrl {
    /// The host only: some receivers put a token in the path.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WebhookUrl({}://{}/…)", self.0.scheme(), self.host())
    }
}

impl WebhookUrl {
    /// Parses what was typed into the URL field. `allow_http` is CRIER_WEBHOOKS_ALLOW_HTTP (for
    /// development and tests).
    pub fn parse(raw: &str, allow_http: bool) -> Result<WebhookUrl, FieldError> {
        let raw = raw.trim();
        let problem = |message: String| FieldError::new("url", message);
        if raw.is_empty() {
            return Err(problem("Enter the URL Crier should call, starting with https://.".into()));
        }
        if raw.chars().count() > 2000 {
            return Err(problem("Use a URL of at most 2000 characters.".into()));
        }
        let url =
            url::Url::parse(raw).map_err(|_| problem(format!("“{raw}” is not a URL. Enter one like https://example.com/hooks/crier.")))?;
        match url.scheme() {
            "https" => {}
            "http" if allow_http => {}
            "http" => {
                return Err(problem(
                    "Use https://: Crier sends webhooks over HTTPS only (plain http is for development, with CRIER_WEBHOOKS_ALLOW_HTTP=true)."
                        .into(),
                ));
            }
            _ => return Err(problem(format!("“{raw}” is not a web address. Enter one starting with https://."))),
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(problem("Add the host name, like https://example.com/hooks/crier.".into()));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(problem("Remove the user name and password from the URL: Crier signs every call instead.".into()));
        }
        if url.fragment().is_some() {
            return Err(problem("Remove the #… part: it is never sent to the server.".into()));
        }
        Ok(WebhookUrl(url))
    }

    /// The URL as stored and called.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// Its host, which is all the audit trail records (a path may hold a receiver's token).
    pub fn host(&self) -> &str {
        self.0.host_str().unwrap_or_default()
    }

    /// Whether it is plain http.
    pub fn is_http(&self) -> bool {
        self.0.scheme() == "http"
    }
}

/// The URL as people who do not manage endpoints see it: scheme, host and port, the rest hidden
/// (`https://hooks.example.com/…`), since a path or query may hold the receiver's own token.
pub fn masked_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(parsed) => {
            let port = parsed.port().map(|p| format!(":{p}")).unwrap_or_default();
            format!("{}://{}{port}/…", parsed.scheme(), parsed.host_str().unwrap_or_default())
        }
        Err(_) => "…".to_owned(),
    }
}

/// An endpoint as listed (never its secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// Its id.
    pub endpoint_id: Uuid,
    /// Where Crier calls.
    pub url: String,
    /// What it receives.
    pub events: Vec<WebhookEvent>,
    /// Whether Crier calls it.
    pub enabled: bool,
    /// When it was added.
    pub created_at: DateTime<Utc>,
    /// Who added it (their email), if they are still in the team.
    pub created_by: Option<String>,
}

/// A new endpoint and its signing secret, to show once.
#[derive(Debug)]
pub struct CreatedEndpoint {
    /// The endpoint.
    pub endpoint: Endpoint,
    /// The signing secret (`crier_whsec_…`).
    pub secret: SecretToken,
}

/// The associated data that binds a sealed signing secret to its endpoint.
fn secret_aad(team_id: Uuid, endpoint_id: Uuid) -> Vec<u8> {
    format!("webhook_endpoint:{team_id}:{endpoint_id}:secret").into_bytes()
}

/// Records what `me` did to an endpoint, naming its URL's host only (a path may hold a
/// receiver's token).
async fn audit_endpoint(conn: &mut sqlx::PgConnection, me: &Member, action: &str, endpoint_id: Uuid, url: &str) -> Result<(), DomainError> {
    let host = url::Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default();
    audit::record(conn, me.team_id, Actor::User(me.user_id), action, "webhook", Some(&endpoint_id.to_string()), json!({ "host": host }))
        .await
}

fn events_from_row(names: Vec<String>) -> Vec<WebhookEvent> {
    names.iter().filter_map(|n| WebhookEvent::parse(n)).collect()
}

fn event_names(events: &[WebhookEvent]) -> Vec<String> {
    events.iter().map(|e| e.as_str().to_owned()).collect()
}

/// Adds an endpoint for `me`'s team (owners and admins) with a fresh signing secret, and records
/// `webhook_created` (with the URL's host, never its path) in the same transaction.
pub async fn create(
    pool: &PgPool,
    vault: &Vault,
    me: &Member,
    url: &WebhookUrl,
    events: &[WebhookEvent],
) -> Result<CreatedEndpoint, DomainError> {
    me.require_manager()?;
    if events.is_empty() {
        return Err(FieldError::new("events", "Choose at least one event to send to this endpoint.").into());
    }
    let endpoint_id = Uuid::new_v4();
    let secret = SecretToken::generate(SECRET_PREFIX);
    let sealed = vault.seal(&SecretString::from(secret.expose().to_owned()), &secret_aad(me.team_id, endpoint_id));
    let names = event_names(events);
    let mut tx = pool.begin().await?;
    // Serialises creations per team, so two at once cannot both pass the limit.
    sqlx::query!("select team_id from team where team_id = $1 for update", me.team_id).fetch_one(&mut *tx).await?;
    let count = sqlx::query_scalar!(r#"select count(*) as "count!" from webhook_endpoint where team_id = $1"#, me.team_id)
        .fetch_one(&mut *tx)
        .await?;
    if count >= MAX_ENDPOINTS {
        return Err(
            FieldError::new("url", format!("A team can have {MAX_ENDPOINTS} endpoints. Delete one you no longer use first.")).into()
        );
    }
    let created_at = sqlx::query_scalar!(
        r#"insert into webhook_endpoint (endpoint_id, team_id, url, events, secret, created_by)
           values ($1, $2, $3, $4, $5, $6) returning created_at"#,
        endpoint_id,
        me.team_id,
        url.as_str(),
        &names,
        sealed,
        me.user_id,
    )
    .fetch_one(&mut *tx)
    .await?;
    audit::record(
        &mut *tx,
        me.team_id,
        Actor::User(me.user_id),
        "webhook_created",
        "webhook",
        Some(&endpoint_id.to_string()),
        json!({ "host": url.host(), "events": names }),
    )
    .await?;
    tx.commit().await?;
    Ok(CreatedEndpoint {
        endpoint: Endpoint {
            endpoint_id,
            url: url.as_str().to_owned(),
            events: events.to_vec(),
            enabled: true,
            created_at,
            created_by: Some(me.email.clone()),
        },
        secret,
    })
}

/// The team's endpoints, oldest first.
pub async fn list(pool: &PgPool, team_id: Uuid) -> Result<Vec<Endpoint>, DomainError> {
    let rows = sqlx::query!(
        r#"select w.endpoint_id, w.url, w.events, w.enabled, w.created_at, u.email as "created_by?"
           from webhook_endpoint w left join app_user u on u.user_id = w.created_by and u.team_id = w.team_id
           where w.team_id = $1
           order by w.created_at, w.endpoint_id"#,
        team_id
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Endpoint {
            endpoint_id: r.endpoint_id,
            url: r.url,
            events: events_from_row(r.events),
            enabled: r.enabled,
            created_at: r.created_at,
            created_by: r.created_by,
        })
        .collect())
}

/// One of the team's endpoints.
pub async fn get(pool: &PgPool, team_id: Uuid, endpoint_id: Uuid) -> Result<Endpoint, DomainError> {
    list(pool, team_id).await?.into_iter().find(|e| e.endpoint_id == endpoint_id).ok_or(DomainError::NotFound)
}

/// Turns calls to an endpoint on or off (owners and admins). Calls already queued wait while it
/// is off and go out when it is on again; events meanwhile are not queued for it.
pub async fn set_enabled(pool: &PgPool, me: &Member, endpoint_id: Uuid, enabled: bool) -> Result<(), DomainError> {
    me.require_manager()?;
    let mut tx = pool.begin().await?;
    let url = sqlx::query_scalar!(
        r#"update webhook_endpoint set enabled = $3 where team_id = $1 and endpoint_id = $2
           returning url"#,
        me.team_id,
        endpoint_id,
        enabled
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(DomainError::NotFound)?;
    let action = if enabled { "webhook_enabled" } else { "webhook_disabled" };
    audit_endpoint(&mut tx, me, action, endpoint_id, &url).await?;
    if enabled {
        // Its waiting calls may be due.
        sqlx::query!("select pg_notify('crier_webhook_due', '')").execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Deletes an endpoint with its calls and their log (owners and admins), recording
/// `webhook_deleted`.
pub async fn delete(pool: &PgPool, me: &Member, endpoint_id: Uuid) -> Result<(), DomainError> {
    me.require_manager()?;
    let mut tx = pool.begin().await?;
    let url = sqlx::query_scalar!(
        r#"delete from webhook_endpoint where team_id = $1 and endpoint_id = $2
           returning url"#,
        me.team_id,
        endpoint_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(DomainError::NotFound)?;
    audit_endpoint(&mut tx, me, "webhook_deleted", endpoint_id, &url).await?;
    tx.commit().await?;
    Ok(())
}

/// Sends a test event (`ping`) to one enabled endpoint (owners and admins): records
/// `webhook_test_sent`, which the audit trigger turns into a call to that endpoint alone. At most
/// one per `min_interval` per endpoint ([`TEST_EVENT_INTERVAL`] for people), counted in the
/// database so it holds across web processes; sooner answers [`DomainError::TooSoon`].
pub async fn send_test(pool: &PgPool, me: &Member, endpoint_id: Uuid, min_interval: Duration) -> Result<(), DomainError> {
    me.require_manager()?;
    let mut tx = pool.begin().await?;
    // Locked, so a delete or disable cannot slip between this check and the event, and two tests
    // of one endpoint (from any web process) take turns: the second sees the first's time.
    let row = sqlx::query!(
        r#"select url, test_sent_at, now() as "now!" from webhook_endpoint
           where team_id = $1 and endpoint_id = $2 and enabled for update"#,
        me.team_id,
        endpoint_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(DomainError::NotFound)?;
    let interval = chrono::TimeDelta::from_std(min_interval).unwrap_or(chrono::TimeDelta::MAX);
    if let Some(next) = row.test_sent_at.and_then(|last| last.checked_add_signed(interval)).filter(|next| *next > row.now) {
        let wait = (next - row.now).num_milliseconds();
        return Err(DomainError::TooSoon { retry_after_secs: u64::try_from((wait + 999) / 1000).unwrap_or(1).max(1) });
    }
    sqlx::query!("update webhook_endpoint set test_sent_at = now() where endpoint_id = $1", endpoint_id).execute(&mut *tx).await?;
    audit_endpoint(&mut tx, me, "webhook_test_sent", endpoint_id, &row.url).await?;
    tx.commit().await?;
    Ok(())
}

/// One line of an endpoint's log: an attempt, or a call still waiting for its first.
#[derive(Clone, Debug, PartialEq)]
pub struct CallLogEntry {
    /// The endpoint.
    pub endpoint_id: Uuid,
    /// The call.
    pub call_id: i64,
    /// The event's id (`evt_…`, the `Crier-Webhook-Id`).
    pub event_id: String,
    /// The event's type.
    pub event_type: String,
    /// The call's state now.
    pub state: CallState,
    /// The attempt's number (`None`: not tried yet).
    pub attempt: Option<i16>,
    /// When the attempt ended (or the call was queued).
    pub at: DateTime<Utc>,
    /// delivered, failed or unknown (`None`: not tried yet).
    pub outcome: Option<String>,
    /// The endpoint's HTTP status.
    pub http_status: Option<i16>,
    /// Crier's words on a failure.
    pub error: Option<String>,
    /// When the call is tried next, on its latest line while it waits.
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// The newest lines of each of the team's endpoints' logs (at most `per_endpoint` each).
pub async fn log(pool: &PgPool, team_id: Uuid, per_endpoint: i64) -> Result<Vec<CallLogEntry>, DomainError> {
    let rows = sqlx::query!(
        r#"select w.endpoint_id, l.call_id as "call_id!", l.audit_id as "audit_id!", l.event_type as "event_type!",
                  l.state as "state!: CallState", l.attempt as "attempt?", l.at as "at!", l.outcome as "outcome?",
                  l.http_status as "http_status?", l.error as "error?", l.next_attempt_at as "next_attempt_at?"
           from webhook_endpoint w
           cross join lateral (
               select c.call_id, c.audit_id, c.event_type, c.state, a.attempt, coalesce(a.finished_at, c.created_at) as at,
                      a.outcome, a.http_status, a.error,
                      case when c.state = 'pending' and a.attempt is not distinct from nullif(c.attempts, 0)
                           then c.next_attempt_at end as next_attempt_at
               from webhook_call c left join webhook_attempt a on a.call_id = c.call_id
               where c.endpoint_id = w.endpoint_id and c.team_id = w.team_id
               order by c.call_id desc, a.attempt desc nulls first
               limit $2
           ) l
           where w.team_id = $1
           order by w.endpoint_id, l.call_id desc, l.attempt desc nulls first"#,
        team_id,
        per_endpoint.clamp(1, 200),
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| CallLogEntry {
            endpoint_id: r.endpoint_id,
            call_id: r.call_id,
            event_id: format!("evt_{}", r.audit_id),
            event_type: r.event_type,
            state: r.state,
            attempt: r.attempt,
            at: r.at,
            outcome: r.outcome,
            http_status: r.http_status,
            error: r.error,
            next_attempt_at: r.next_attempt_at,
        })
        .collect())
}

/// A call a dispatcher now holds, with what it needs to send it.
pub struct ClaimedCall {
    /// The call.
    pub call_id: i64,
    /// Its team.
    pub team_id: Uuid,
    /// Its endpoint.
    pub endpoint_id: Uuid,
    /// Where to send it.
    pub url: String,
    /// The endpoint's sealed signing secret: open with [`open_secret`].
    pub sealed_secret: Vec<u8>,
    /// The `Crier-Event` header.
    pub event_type: String,
    /// The `Crier-Webhook-Id` header (`evt_…`).
    pub event_id: String,
    /// The body.
    pub payload: Value,
    /// This attempt's number (1 for the first).
    pub attempt: i16,
}

impl std::fmt::Debug for ClaimedCall {
    /// Ids only: the URL may hold a receiver's token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClaimedCall")
            .field("call_id", &self.call_id)
            .field("endpoint_id", &self.endpoint_id)
            .field("event_type", &self.event_type)
            .field("attempt", &self.attempt)
            .finish_non_exhaustive()
    }
}

/// Opens an endpoint's signing secret.
pub fn open_secret(vault: &Vault, team_id: Uuid, endpoint_id: Uuid, sealed: &[u8]) -> Result<SecretString, DomainError> {
    vault.open(sealed, &secret_aad(team_id, endpoint_id)).map_err(|e| DomainError::SecretUnreadable(e.to_string()))
}

/// Claims up to `limit` due calls of enabled endpoints for `worker`: one statement locks them
/// (skipping rows other dispatchers hold), marks them `sending` and counts the attempt.
pub async fn claim(pool: &PgPool, worker: &str, limit: i64) -> Result<Vec<ClaimedCall>, DomainError> {
    let rows = sqlx::query!(
        r#"with due as (
               select c.call_id from webhook_call c
               join webhook_endpoint w on w.endpoint_id = c.endpoint_id and w.team_id = c.team_id and w.enabled
               where c.state = 'pending' and c.next_attempt_at <= now()
               order by c.next_attempt_at
               limit $2
               for update of c skip locked
           ),
           claimed as (
               update webhook_call c set state = 'sending', claimed_by = $1, claimed_at = now(), attempts = c.attempts + 1
               from due where c.call_id = due.call_id
               returning c.call_id, c.team_id, c.endpoint_id, c.audit_id, c.event_type, c.payload, c.attempts
           )
           select c.call_id as "call_id!", c.team_id as "team_id!", c.endpoint_id as "endpoint_id!", c.audit_id as "audit_id!",
                  c.event_type as "event_type!", c.payload as "payload!", c.attempts as "attempt!", w.url, w.secret
           from claimed c join webhook_endpoint w on w.endpoint_id = c.endpoint_id and w.team_id = c.team_id"#,
        worker,
        limit,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| ClaimedCall {
            call_id: r.call_id,
            team_id: r.team_id,
            endpoint_id: r.endpoint_id,
            url: r.url,
            sealed_secret: r.secret,
            event_type: r.event_type,
            event_id: format!("evt_{}", r.audit_id),
            payload: r.payload,
            attempt: r.attempt,
        })
        .collect())
}

/// What came of one attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallOutcome {
    /// The call.
    pub call_id: i64,
    /// The attempt it was claimed with (an outcome for an older claim is ignored).
    pub attempt: i16,
    /// The call's state now: delivered, pending (a retry at `next_attempt_at`) or failed.
    pub state: CallState,
    /// When to try again (pending).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The endpoint's HTTP status, if it answered.
    pub http_status: Option<i16>,
    /// Crier's short words on a failure (no URL, no secret).
    pub error: Option<String>,
    /// When the attempt started.
    pub started_at: DateTime<Utc>,
    /// How long it took.
    pub duration_ms: i32,
}

/// Writes a batch of outcomes for `worker`'s claims in one statement: each call's new state and
/// its attempt's line in the log. An outcome whose claim was rescued meanwhile is skipped; the
/// ids applied are returned.
pub async fn complete(pool: &PgPool, worker: &str, batch: &[CallOutcome]) -> Result<Vec<i64>, DomainError> {
    let ids: Vec<i64> = batch.iter().map(|o| o.call_id).collect();
    let attempts: Vec<i16> = batch.iter().map(|o| o.attempt).collect();
    let states: Vec<String> = batch.iter().map(|o| o.state.label().to_owned()).collect();
    let next: Vec<Option<DateTime<Utc>>> = batch.iter().map(|o| o.next_attempt_at).collect();
    let statuses: Vec<Option<i16>> = batch.iter().map(|o| o.http_status).collect();
    let errors: Vec<Option<String>> = batch.iter().map(|o| o.error.clone()).collect();
    let started: Vec<DateTime<Utc>> = batch.iter().map(|o| o.started_at).collect();
    let durations: Vec<i32> = batch.iter().map(|o| o.duration_ms).collect();
    Ok(sqlx::query_scalar!(
        r#"with outcome as (
               select * from unnest($2::int8[], $3::int2[], $4::text[], $5::timestamptz[], $6::int2[], $7::text[],
                                    $8::timestamptz[], $9::int4[])
                   as o (call_id, attempt, state, next_attempt_at, http_status, error, started_at, duration_ms)
           ),
           done as (
               update webhook_call c set
                   state = o.state::webhook_call_state, claimed_by = null, claimed_at = null,
                   next_attempt_at = coalesce(o.next_attempt_at, c.next_attempt_at),
                   last_status = o.http_status, last_error = o.error,
                   delivered_at = case when o.state = 'delivered' then now() end
               from outcome o
               where c.call_id = o.call_id and c.state = 'sending' and c.claimed_by = $1 and c.attempts = o.attempt
               returning c.call_id, c.team_id, o.attempt, o.state, o.http_status, o.error, o.started_at, o.duration_ms
           ),
           logged as (
               insert into webhook_attempt (call_id, attempt, team_id, started_at, outcome, http_status, duration_ms, error)
               select call_id, attempt, team_id, started_at, case when state = 'delivered' then 'delivered' else 'failed' end,
                      http_status, duration_ms, error
               from done
           )
           select call_id as "call_id!" from done"#,
        worker,
        &ids,
        &attempts,
        &states,
        &next as &[Option<DateTime<Utc>>],
        &statuses as &[Option<i16>],
        &errors as &[Option<String>],
        &started,
        &durations,
    )
    .fetch_all(pool)
    .await?)
}

/// Puts back calls claimed longer than `stale_after` ago (their dispatcher stopped mid-call: a
/// claim never outlives the HTTP timeout otherwise). Each is sent again at once, or fails if it
/// has used up `max_attempts`; its lost attempt is logged as `unknown`. Answers how many.
pub async fn rescue(pool: &PgPool, stale_after: Duration, max_attempts: i16) -> Result<u64, DomainError> {
    requeue(pool, None, stale_after, max_attempts).await
}

/// Puts back what `worker` still holds when it stops (like [`rescue`], at once).
pub async fn release(pool: &PgPool, worker: &str, max_attempts: i16) -> Result<u64, DomainError> {
    requeue(pool, Some(worker), Duration::ZERO, max_attempts).await
}

async fn requeue(pool: &PgPool, worker: Option<&str>, stale_after: Duration, max_attempts: i16) -> Result<u64, DomainError> {
    let requeued = sqlx::query_scalar!(
        r#"with orphan as (
               select c.call_id, c.claimed_at from webhook_call c
               where c.state = 'sending'
                 and case when $1::text is not null then c.claimed_by = $1
                          else c.claimed_at < now() - make_interval(secs => $2) end
               for update of c skip locked
           ),
           requeued as (
               update webhook_call c set
                   state = case when c.attempts >= $3 then 'failed' else 'pending' end::webhook_call_state,
                   claimed_by = null, claimed_at = null, next_attempt_at = now(), last_status = null,
                   last_error = 'The worker stopped before the call ended, so its outcome is unknown.'
               from orphan o where c.call_id = o.call_id
               returning c.call_id, c.team_id, c.attempts, o.claimed_at, c.last_error
           ),
           logged as (
               insert into webhook_attempt (call_id, attempt, team_id, started_at, outcome, error)
               select call_id, attempts, team_id, claimed_at, 'unknown', last_error from requeued
               on conflict (call_id, attempt) do nothing
           )
           select count(*) as "count!" from requeued"#,
        worker,
        stale_after.as_secs_f64(),
        max_attempts,
    )
    .fetch_one(pool)
    .await?;
    Ok(requeued as u64)
}

/// When the next call of an enabled endpoint falls due: the moment an idle dispatcher should look again.
pub async fn next_due(pool: &PgPool) -> Result<Option<DateTime<Utc>>, DomainError> {
    Ok(sqlx::query_scalar!(
        r#"select c.next_attempt_at from webhook_call c
           join webhook_endpoint w on w.endpoint_id = c.endpoint_id and w.enabled
           where c.state = 'pending'
           order by c.next_attempt_at limit 1"#
    )
    .fetch_optional(pool)
    .await?)
}

/// Deletes finished calls (and their log) queued longer ago than `older_than`. Answers how many.
pub async fn prune(pool: &PgPool, older_than: Duration) -> Result<u64, DomainError> {
    Ok(sqlx::query!(
        "delete from webhook_call where state in ('delivered', 'failed') and created_at < now() - make_interval(secs => $1)",
        older_than.as_secs_f64()
    )
    .execute(pool)
    .await?
    .rows_affected())
}

/// Re-encrypts every endpoint's signing secret under the vault's current key (`crier admin
/// rotate-key`), each in its own short update checked against the value read.
pub async fn reseal_all(pool: &PgPool, vault: &Vault) -> Result<ResealReport, DomainError> {
    let rows = sqlx::query!("select team_id, endpoint_id, secret from webhook_endpoint").fetch_all(pool).await?;
    let mut report = ResealReport::default();
    for row in rows {
        if !vault.needs_reseal(&row.secret) {
            report.current += 1;
            continue;
        }
        match vault.reseal(&row.secret, &secret_aad(row.team_id, row.endpoint_id)) {
            Ok(resealed) => {
                sqlx::query!(
                    "update webhook_endpoint set secret = $3 where endpoint_id = $1 and secret = $2",
                    row.endpoint_id,
                    row.secret,
                    resealed
                )
                .execute(pool)
                .await?;
                report.resealed += 1;
            }
            Err(_) => report.unreadable += 1,
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_https_with_a_host_and_no_credentials() {
        let ok = WebhookUrl::parse(" https://hooks.example.com/crier?team=1 ", false).unwrap();
        assert_eq!((ok.as_str(), ok.host()), ("https://hooks.example.com/crier?team=1", "hooks.example.com"));
        assert!(!format!("{ok:?}").contains("team=1"), "Debug shows the host only");
        let field = |raw: &str, allow_http: bool| WebhookUrl::parse(raw, allow_http).unwrap_err();
        assert!(field("http://hooks.example.com/", false).message.contains("CRIER_WEBHOOKS_ALLOW_HTTP"));
        assert!(WebhookUrl::parse("http://127.0.0.1:9/hook", true).unwrap().is_http());
        assert!(field("", false).message.contains("https://"));
        assert!(field("hooks.example.com/crier", false).message.contains("is not a URL"));
        assert!(field("ftp://hooks.example.com/", true).message.contains("not a web address"));
        assert!(field("https://user:pw@hooks.example.com/", false).message.contains("user name and password"));
        assert!(field("https://hooks.example.com/#x", false).message.contains("#"));
        assert!(field(&format!("https://example.com/{}", "a".repeat(2000)), false).message.contains("2000"));
        assert_eq!(field("", false).field, "url");
    }

    #[test]
    fn masked_urls_keep_scheme_host_and_port_only() {
        assert_eq!(masked_url("https://hooks.example.com/crier?token=abc"), "https://hooks.example.com/…");
        assert_eq!(masked_url("https://hooks.example.com:8443/a/b"), "https://hooks.example.com:8443/…");
        assert_eq!(masked_url("http://[::1]:9/secret"), "http://[::1]:9/…");
        assert_eq!(masked_url("not a url"), "…");
    }
}
