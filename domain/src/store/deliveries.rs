//! The publishing engine's queue: the delivery rows themselves (a transactional outbox).
//!
//! A worker claims due deliveries in batches ([`claim`]: one statement locks them with
//! `FOR UPDATE SKIP LOCKED`, spends the accounts' budgets, moves them to `publishing` and opens
//! their attempt rows), calls the platforms with no transaction open, then writes a batch of
//! outcomes in one statement ([`complete`]: deliveries, attempt rows and audit events together).
//! A claim held by a worker that stopped heartbeating is put back ([`rescue`]) for a retry that
//! first looks for the post at the platform, because the call's outcome is unknown.
//!
//! These queries span teams (the worker serves every team) but never mix them: each claimed
//! delivery carries its team, and its account is joined on both id and team.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::DomainError;
use crate::account::{AccountKind, AccountStatus, AuthMethod};
use crate::delivery::{AttemptOutcome, DeliveryState, FailureClass};
use crate::retry::RetryPolicy;
use crier_platform::Platform;

/// The channel a transaction that makes a delivery due notifies (on commit), so idle workers
/// claim it at once instead of at their next timer.
pub const DUE_CHANNEL: &str = "crier_delivery_due";

/// A worker never sleeps longer than this without looking for what falls due next (its idle poll
/// is capped to it), so a delivery due later than this from now needs no notification: the
/// worker's next look finds it in time. Scheduling posts for tomorrow notifies nobody.
pub const WAKE_HORIZON: std::time::Duration = std::time::Duration::from_secs(60);

/// Tells the workers that something falls due at `due` (delivered when the caller's transaction
/// commits), if it falls due within [`WAKE_HORIZON`]: beyond it nothing is sent (a `NOTIFY`
/// costs every listening worker a wake-up, and every committing transaction a turn at
/// PostgreSQL's one notification queue). The payload is `due` in milliseconds since the epoch: a
/// worker that will look before then anyway ignores it ([`due_of`] reads it back).
pub async fn wake_workers(conn: &mut PgConnection, due: DateTime<Utc>) -> Result<(), DomainError> {
    if due > Utc::now() + WAKE_HORIZON {
        return Ok(());
    }
    sqlx::query!("select pg_notify('crier_delivery_due', $1)", due.timestamp_millis().to_string()).execute(conn).await?;
    Ok(())
}

/// When a notification on [`DUE_CHANNEL`] says something falls due: `None` for a payload that
/// names no time (then it may be due now).
pub fn due_of(payload: &str) -> Option<DateTime<Utc>> {
    payload.trim().parse::<i64>().ok().and_then(DateTime::from_timestamp_millis)
}

pub use crate::budget::{Budget, Budgets};

/// How long a worker may be silent before it is taken for dead and its claims are rescued, unless
/// configured (`CRIER_WORKER_STALE_AFTER`).
pub const DEFAULT_STALE_AFTER: Duration = Duration::from_secs(30);

/// A delivery a worker now holds, with what it needs to publish it.
#[derive(Debug)]
pub struct Claimed {
    /// The delivery.
    pub delivery_id: Uuid,
    /// Its team.
    pub team_id: Uuid,
    /// Its post.
    pub post_id: Uuid,
    /// Its account.
    pub account_id: Uuid,
    /// This attempt's number (1 for the first call).
    pub attempt: i16,
    /// When it fell due (its post's time, or its retry's): the schedule lag is the claim's
    /// moment minus this.
    pub due_at: DateTime<Utc>,
    /// Temporary failures before this attempt.
    pub failures: i16,
    /// Whether the previous attempt's outcome is unknown (look for the post first).
    pub reconcile: bool,
    /// The earliest attempt's start, when reconciling: a post found on the account from before it
    /// cannot be this delivery's.
    pub reconcile_since: Option<DateTime<Utc>>,
    /// X thread parts already out.
    pub thread_ids: Vec<String>,
    /// The shared text.
    pub text: String,
    /// This platform's override, if any.
    pub override_text: Option<String>,
    /// The link.
    pub link: Option<String>,
    /// The X thread's replies.
    pub thread: Vec<String>,
    /// A dry run.
    pub dry_run: bool,
    /// The post's retry policy.
    pub retry: RetryPolicy,
    /// The account's platform.
    pub platform: Platform,
    /// Profile, organization or Page.
    pub kind: AccountKind,
    /// The platform's id for the account.
    pub external_id: String,
    /// The account's name.
    pub account_name: String,
    /// The account's status.
    pub status: AccountStatus,
    /// OAuth 2.0 or 1.0a.
    pub auth_method: AuthMethod,
    /// The sealed credentials (none once disconnected): open with
    /// [`super::accounts::open_credentials`].
    pub sealed_credentials: Option<Vec<u8>>,
    /// When the access token expires.
    pub token_expires_at: Option<DateTime<Utc>>,
    /// Whether a refresh token is held.
    pub can_refresh: bool,
    /// Whether the post carries media (then [`media_of`] says which, for this platform).
    pub has_media: bool,
    /// What the post's links get as they go out.
    pub tracking: crate::link_tracking::LinkTracking,
}

/// Claims up to `limit` due deliveries for `worker`: skips paused accounts and rows other workers
/// hold, spends each account's budget (pausing an account whose budget is used up until its window
/// ends), moves the claimed rows to `publishing` and opens their attempt rows. One statement, one
/// round trip.
pub async fn claim(pool: &PgPool, worker: &str, limit: i64, budgets: &Budgets) -> Result<Vec<Claimed>, DomainError> {
    // The budgets as three parallel arrays, one entry per platform (`unnest` joins them back).
    let platforms: Vec<String> = Platform::ALL.iter().map(|p| p.as_str().to_owned()).collect();
    let limits: Vec<Option<i32>> = Platform::ALL.iter().map(|p| budgets[*p].map(|b| b.limit)).collect();
    let windows: Vec<f64> = Platform::ALL.iter().map(|p| budgets[*p].map_or(1.0, |b| b.window.as_secs_f64())).collect();
    let rows = sqlx::query!(
        r#"with candidate as (
               select d.delivery_id, d.account_id, d.next_attempt_at
               from delivery d join platform_account a on a.account_id = d.account_id
               where d.state in ('scheduled', 'retrying') and d.next_attempt_at <= now()
                 and (a.paused_until is null or a.paused_until <= now())
               order by d.next_attempt_at
               limit $2
               for update of d skip locked
           ),
           -- Locked in id order (no deadlock between claimers), so two claimers never both spend
           -- the same remaining budget. NO KEY UPDATE: the foreign-key checks of posts being
           -- scheduled meanwhile (KEY SHARE) do not wait for it.
           account_budget as (
               select a.account_id, a.platform, a.budget_window_started_at, a.budget_used
               from platform_account a
               where a.account_id in (select account_id from candidate)
               order by a.account_id
               for no key update of a
           ),
           budget as (
               select ab.account_id, l.budget_limit, l.budget_window,
                      case when ab.budget_window_started_at + l.budget_window > now() then ab.budget_window_started_at else now() end as window_start,
                      case when ab.budget_window_started_at + l.budget_window > now() then ab.budget_used else 0 end as used
               from account_budget ab
               join (
                   select platform, budget_limit, make_interval(secs => window_secs) as budget_window
                   from unnest($3::text[], $4::int4[], $5::float8[]) as u(platform, budget_limit, window_secs)
               ) l on l.platform = ab.platform::text
           ),
           ranked as (
               select c.delivery_id, c.account_id,
                      row_number() over (partition by c.account_id order by c.next_attempt_at, c.delivery_id) as rn
               from candidate c
           ),
           chosen as (
               select r.delivery_id, r.account_id
               from ranked r join budget b on b.account_id = r.account_id
               where b.budget_limit is null or r.rn <= b.budget_limit - b.used
           ),
           spent as (
               update platform_account a set
                   budget_window_started_at = b.window_start,
                   budget_used = b.used + coalesce(n.claimed, 0),
                   paused_until = case when b.used + coalesce(n.claimed, 0) >= b.budget_limit
                                       then b.window_start + b.budget_window else a.paused_until end,
                   last_used_at = case when n.claimed is null then a.last_used_at else now() end
               from budget b left join (select account_id, count(*)::int4 as claimed from chosen group by account_id) n
                    on n.account_id = b.account_id
               where a.account_id = b.account_id
           ),
           claimed as (
               update delivery d set state = 'publishing', claimed_by = $1, claimed_at = now(), attempts = d.attempts + 1
               from chosen c where d.delivery_id = c.delivery_id
               returning d.delivery_id, d.team_id, d.post_id, d.account_id, d.attempts, d.failures, d.reconcile, d.thread_ids,
                         d.next_attempt_at
           ),
           started as (
               insert into delivery_attempt (delivery_id, attempt, team_id, worker, started_at)
               select delivery_id, attempts, team_id, $1, now() from claimed
           )
           select c.delivery_id as "delivery_id!", c.team_id as "team_id!", c.post_id as "post_id!", c.account_id as "account_id!",
                  c.attempts as "attempt!", c.failures as "failures!", c.reconcile as "reconcile!", c.thread_ids as "thread_ids!",
                  c.next_attempt_at as "due_at!",
                  case when c.reconcile then (select min(t.started_at) from delivery_attempt t where t.delivery_id = c.delivery_id) end
                      as reconcile_since,
                  p.text, p.link, p.dry_run, p.max_attempts, p.retry_base_seconds,
                  (select o.text from post_text_override o where o.post_id = p.post_id and o.platform = a.platform) as override_text,
                  coalesce((select array_agg(t.text order by t.position) from post_thread_item t where t.post_id = p.post_id), '{}') as "thread!",
                  a.platform as "platform: Platform", a.kind as "kind: AccountKind", a.external_id, a.name as account_name,
                  a.status as "status: AccountStatus", a.auth_method as "auth_method: AuthMethod", a.credentials,
                  a.token_expires_at, a.can_refresh,
                  exists (select 1 from post_media m where m.post_id = p.post_id) as "has_media!",
                  lt.utm as "utm?", lt.utm_campaign as "utm_campaign?", lt.utm_medium as "utm_medium?", lt.short_links as "short_links?"
           from claimed c
           join post p on p.post_id = c.post_id and p.team_id = c.team_id
           join platform_account a on a.account_id = c.account_id and a.team_id = c.team_id
           left join post_link_tracking lt on lt.post_id = c.post_id"#,
        worker,
        limit,
        &platforms,
        &limits as &[Option<i32>],
        &windows,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Claimed {
            delivery_id: r.delivery_id,
            team_id: r.team_id,
            post_id: r.post_id,
            account_id: r.account_id,
            attempt: r.attempt,
            due_at: r.due_at,
            failures: r.failures,
            reconcile: r.reconcile,
            reconcile_since: r.reconcile_since,
            thread_ids: r.thread_ids,
            text: r.text,
            override_text: r.override_text,
            link: r.link,
            thread: r.thread,
            dry_run: r.dry_run,
            retry: RetryPolicy { max_attempts: r.max_attempts, first_retry_seconds: r.retry_base_seconds },
            platform: r.platform,
            kind: r.kind,
            external_id: r.external_id,
            account_name: r.account_name,
            status: r.status,
            auth_method: r.auth_method,
            sealed_credentials: r.credentials,
            token_expires_at: r.token_expires_at,
            can_refresh: r.can_refresh,
            has_media: r.has_media,
            tracking: super::link_tracking::from_claim(r.utm, r.utm_campaign, r.utm_medium, r.short_links),
        })
        .collect())
}

/// One media item a delivery sends, as the engine uploads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryMedia {
    /// The item.
    pub media_id: Uuid,
    /// 0: the post; N: the X thread's reply N.
    pub item: i16,
    /// Its place in that list, from 1.
    pub position: i16,
    /// What it is.
    pub facts: crier_media::MediaFacts,
    /// The name it was uploaded under (a title for LinkedIn documents and videos).
    pub file_name: String,
    /// The alt text it goes out with (the post's choice, else the item's own; may be empty).
    pub alt_text: String,
    /// Removed from the library since the post was scheduled (its bytes are gone).
    pub deleted: bool,
    /// What an earlier attempt of this delivery uploaded: the platform's id and its expiry.
    pub uploaded: Option<(String, Option<DateTime<Utc>>)>,
}

/// The media a claimed delivery sends on its platform, in order: each item's (the post's, then
/// each X reply's) own list for the platform if the post has one, else the shared list; with
/// what earlier attempts uploaded, to reuse.
pub async fn media_of(pool: &PgPool, claimed: &Claimed) -> Result<Vec<DeliveryMedia>, DomainError> {
    let rows = sqlx::query!(
        r#"with chosen as (
               select pm.item, pm.media_id, pm.alt_text,
                      row_number() over (partition by pm.item order by pm.position)::int2 as position
               from post_media pm
               where pm.post_id = $1 and pm.team_id = $2
                 and (pm.platform = $3::text::platform
                      or (pm.platform is null and not exists (
                          select 1 from post_media own
                          where own.post_id = pm.post_id and own.item = pm.item and own.platform = $3::text::platform)))
           )
           select c.item, c.position as "position!", m.media_id, m.content_type, m.byte_size, m.width, m.height, m.duration_ms,
                  m.frames, m.frame_rate_milli, m.video_codec, m.audio_codec, m.pages, m.file_name,
                  coalesce(c.alt_text, m.alt_text) as "alt_text!", m.deleted_at is not null as "deleted!",
                  u.platform_media_id as "platform_media_id?", u.expires_at as "expires_at?"
           from chosen c
           join media_item m on m.media_id = c.media_id and m.team_id = $2
           left join delivery_media u on u.delivery_id = $4 and u.item = c.item and u.position = c.position and u.media_id = c.media_id
           order by c.item, c.position"#,
        claimed.post_id,
        claimed.team_id,
        claimed.platform.as_str(),
        claimed.delivery_id,
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            let content_type =
                r.content_type.parse().map_err(|_| DomainError::Internal(format!("media_item has content type {}", r.content_type)))?;
            let unsigned = |v: Option<i32>| v.map(|v| v.max(0) as u32);
            Ok(DeliveryMedia {
                media_id: r.media_id,
                item: r.item,
                position: r.position,
                facts: crier_media::MediaFacts {
                    content_type,
                    byte_size: r.byte_size.max(0) as u64,
                    width: unsigned(r.width),
                    height: unsigned(r.height),
                    duration_ms: r.duration_ms.map(|d| d.max(0) as u64),
                    frames: unsigned(r.frames),
                    frame_rate_milli: unsigned(r.frame_rate_milli),
                    video_codec: r.video_codec,
                    audio_codec: r.audio_codec,
                    pages: unsigned(r.pages),
                },
                file_name: r.file_name,
                alt_text: r.alt_text,
                deleted: r.deleted,
                uploaded: r.platform_media_id.map(|id| (id, r.expires_at)),
            })
        })
        .collect()
}

/// Whether an account's media budget had room for an upload's calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MediaBudgetSpent {
    /// The calls are counted; upload.
    Granted,
    /// Not enough room before this moment, when the window ends (nothing was counted).
    WaitUntil(DateTime<Utc>),
}

/// Spends `calls` of the account's media budget (Crier's own count of media upload calls,
/// [`crate::budget::Counted::MediaCalls`]) before an item is uploaded: granted when the window has
/// room for them, or when the window is fresh (an item needing more calls than a whole window
/// holds still goes, alone). The row is locked for the check, so two uploads never both spend the
/// same remaining room. The account is not paused: only the post that would overspend waits.
pub async fn spend_media_budget(
    pool: &PgPool,
    team_id: Uuid,
    account_id: Uuid,
    calls: i32,
    budget: Budget,
) -> Result<MediaBudgetSpent, DomainError> {
    let row = sqlx::query!(
        r#"with current as (
               select a.account_id,
                      case when a.media_budget_window_started_at + make_interval(secs => $4) > now()
                           then a.media_budget_window_started_at else now() end as window_start,
                      case when a.media_budget_window_started_at + make_interval(secs => $4) > now()
                           then a.media_budget_used else 0 end as used
               from platform_account a
               where a.account_id = $2 and a.team_id = $1
               for no key update of a
           ),
           spent as (
               update platform_account a set media_budget_window_started_at = c.window_start, media_budget_used = c.used + $3
               from current c
               where a.account_id = c.account_id and (c.used = 0 or c.used + $3 <= $5)
               returning a.account_id
           )
           select exists (select 1 from spent) as "granted!",
                  (select c.window_start + make_interval(secs => $4) from current c) as window_ends"#,
        team_id,
        account_id,
        calls.max(1),
        budget.window.as_secs_f64(),
        budget.limit,
    )
    .fetch_one(pool)
    .await?;
    Ok(match (row.granted, row.window_ends) {
        (false, Some(ends)) => MediaBudgetSpent::WaitUntil(ends),
        // Granted, or the account is gone (the post call will say so).
        _ => MediaBudgetSpent::Granted,
    })
}

/// Records what an attempt uploaded, at once (no transaction held while uploading): a retry after
/// a crash reuses it while it has not expired.
pub async fn record_upload(
    pool: &PgPool,
    delivery_id: Uuid,
    media: &DeliveryMedia,
    platform_media_id: &str,
    expires_at: Option<DateTime<Utc>>,
) -> Result<(), DomainError> {
    sqlx::query!(
        r#"insert into delivery_media (delivery_id, media_id, item, position, platform_media_id, expires_at)
           values ($1, $2, $3, $4, $5, $6)
           on conflict (delivery_id, item, position) do update
               set media_id = excluded.media_id, platform_media_id = excluded.platform_media_id,
                   uploaded_at = now(), expires_at = excluded.expires_at"#,
        delivery_id,
        media.media_id,
        media.item,
        media.position,
        platform_media_id,
        expires_at,
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Forgets a delivery's uploads for item `from` and after (the platform no longer takes their
/// ids; the items before went out with theirs): the next try uploads them again.
pub async fn forget_uploads(pool: &PgPool, delivery_id: Uuid, from: i16) -> Result<(), DomainError> {
    sqlx::query!("delete from delivery_media where delivery_id = $1 and item >= $2", delivery_id, from).execute(pool).await?;
    Ok(())
}

/// A failure as the delivery and its attempt record it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailureNote {
    /// What kind of failure.
    pub class: FailureClass,
    /// The platform's code.
    pub code: Option<String>,
    /// The platform's words (redacted), or Crier's.
    pub message: String,
}

/// What became of one claimed delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Completion {
    /// The delivery.
    pub delivery_id: Uuid,
    /// The attempt number it was claimed with (a completion for an older claim is ignored).
    pub attempt: i16,
    /// The platform, for the audit metadata.
    pub platform: Platform,
    /// published, dry_run_ok, retrying, failed or held.
    pub state: DeliveryState,
    /// When to try again (retrying).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Temporary failures now.
    pub failures: i16,
    /// Whether the next attempt must look for the post first.
    pub reconcile: bool,
    /// X thread parts out so far.
    pub thread_ids: Vec<String>,
    /// The platform's id for the post (published).
    pub external_id: Option<String>,
    /// Its public link.
    pub permalink: Option<String>,
    /// Why it did not publish.
    pub failure: Option<FailureNote>,
    /// How the attempt ended.
    pub outcome: AttemptOutcome,
    /// The platform's HTTP status.
    pub http_status: Option<i16>,
    /// How long the attempt took.
    pub duration_ms: i32,
    /// Every call the attempt made besides the publish call itself (uploads and their chunks,
    /// status polls, alt text), as a JSON array; empty for a post without media.
    pub steps: Vec<AttemptStep>,
}

/// One call of an attempt, as the attempt row keeps it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AttemptStep {
    /// What it was: "initialize", "append 3 of 75", "status", "post"…
    pub step: String,
    /// The answer's HTTP status (none: no answer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    /// How long it took.
    pub duration_ms: u64,
}

/// Writes a batch of outcomes for `worker`'s claims in one statement: each delivery's new state,
/// its attempt row, and an audit event named for the outcome (`delivery_published`…). A completion
/// whose claim the worker no longer holds (it was rescued meanwhile) is skipped; the ids applied
/// are returned.
pub async fn complete(pool: &PgPool, worker: &str, batch: &[Completion]) -> Result<Vec<Uuid>, DomainError> {
    let n = batch.len();
    let mut ids = Vec::with_capacity(n);
    let mut attempts = Vec::with_capacity(n);
    let mut platforms = Vec::with_capacity(n);
    let mut states = Vec::with_capacity(n);
    let mut next = Vec::with_capacity(n);
    let mut failures = Vec::with_capacity(n);
    let mut reconcile = Vec::with_capacity(n);
    let mut threads = Vec::with_capacity(n);
    let mut external = Vec::with_capacity(n);
    let mut permalinks = Vec::with_capacity(n);
    let mut classes = Vec::with_capacity(n);
    let mut codes = Vec::with_capacity(n);
    let mut messages = Vec::with_capacity(n);
    let mut outcomes = Vec::with_capacity(n);
    let mut statuses = Vec::with_capacity(n);
    let mut durations = Vec::with_capacity(n);
    let mut steps: Vec<Option<String>> = Vec::with_capacity(n);
    for c in batch {
        ids.push(c.delivery_id);
        attempts.push(c.attempt);
        platforms.push(c.platform.as_str().to_owned());
        states.push(c.state.as_str().to_owned());
        next.push(c.next_attempt_at);
        failures.push(c.failures);
        reconcile.push(c.reconcile);
        // Ids are digits, URNs or `page_post`: never a comma.
        threads.push(c.thread_ids.join(","));
        external.push(c.external_id.clone());
        permalinks.push(c.permalink.clone());
        classes.push(c.failure.as_ref().map(|f| f.class.as_str()));
        codes.push(c.failure.as_ref().and_then(|f| f.code.clone()));
        messages.push(c.failure.as_ref().map(|f| f.message.clone()));
        outcomes.push(c.outcome.as_str());
        statuses.push(c.http_status);
        durations.push(c.duration_ms);
        steps.push((!c.steps.is_empty()).then(|| serde_json::to_string(&c.steps).unwrap_or_else(|_| "[]".into())));
    }
    let applied = sqlx::query_scalar!(
        r#"with outcome as (
               select * from unnest($2::uuid[], $3::int2[], $4::text[], $5::text[], $6::timestamptz[], $7::int2[], $8::bool[],
                                    $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[],
                                    $16::int2[], $17::int4[], $18::text[])
                   as o (delivery_id, attempt, platform, state, next_attempt_at, failures, reconcile, thread_ids, external_id,
                         permalink, error_class, error_code, error_message, outcome, http_status, duration_ms, steps)
           ),
           done as (
               update delivery d set
                   state = o.state::delivery_state, claimed_by = null, claimed_at = null,
                   next_attempt_at = coalesce(o.next_attempt_at, d.next_attempt_at),
                   failures = o.failures, reconcile = o.reconcile, thread_ids = string_to_array(o.thread_ids, ','),
                   external_id = o.external_id, permalink = o.permalink,
                   published_at = case when o.state = 'published' then now() end,
                   last_error_class = o.error_class::failure_class, last_error_code = o.error_code, last_error_message = o.error_message
               from outcome o
               where d.delivery_id = o.delivery_id and d.state = 'publishing' and d.claimed_by = $1 and d.attempts = o.attempt
               returning d.delivery_id, d.team_id, d.post_id, o.attempt, o.platform, o.state, o.next_attempt_at, o.external_id,
                         o.error_class, o.error_code, o.error_message, o.outcome, o.http_status, o.duration_ms, o.steps
           ),
           ended as (
               update delivery_attempt t set finished_at = now(), outcome = o.outcome::attempt_outcome, http_status = o.http_status,
                   duration_ms = o.duration_ms, error_code = o.error_code, error_message = o.error_message,
                   steps = coalesce(o.steps::jsonb, '[]'::jsonb)
               from done o where t.delivery_id = o.delivery_id and t.attempt = o.attempt
           ),
           audited as (
               -- One record per attempt, named for its outcome, with what a reader of the trail
               -- wants from the attempt row (there used to be a second, `delivery_attempted`).
               insert into audit_event (team_id, actor_kind, action, entity, entity_id, metadata)
               select team_id, 'system',
                      case state when 'published' then 'delivery_published' when 'dry_run_ok' then 'delivery_dry_run_ok'
                                 when 'retrying' then 'delivery_retry_scheduled' when 'held' then 'delivery_held'
                                 else 'delivery_failed' end,
                      'delivery', delivery_id::text,
                      jsonb_strip_nulls(jsonb_build_object('post_id', post_id, 'platform', platform, 'attempt', attempt,
                          'outcome', outcome, 'duration_ms', duration_ms, 'external_id', external_id,
                          'next_attempt_at', next_attempt_at, 'error_class', error_class, 'error_code', error_code,
                          'http_status', http_status))
               from done
           ),
           -- A published post's first comment, if it has one for this platform, is queued with
           -- the outcome that makes it due (crier_publisher::first_comments sends it).
           commented as (
               insert into delivery_first_comment (delivery_id, team_id, text)
               select o.delivery_id, o.team_id, c.text
               from done o join post_first_comment c on c.post_id = o.post_id and c.platform = o.platform::platform
               where o.state = 'published'
               on conflict (delivery_id) do nothing
               returning delivery_id
           ),
           woken as (select pg_notify('crier_first_comments', '') from (select 1 from commented limit 1) one)
           select delivery_id as "delivery_id!" from done left join woken on true"#,
        worker,
        &ids,
        &attempts,
        &platforms,
        &states,
        &next as &[Option<DateTime<Utc>>],
        &failures,
        &reconcile,
        &threads,
        &external as &[Option<String>],
        &permalinks as &[Option<String>],
        &classes as &[Option<&str>],
        &codes as &[Option<String>],
        &messages as &[Option<String>],
        &outcomes as &[&str],
        &statuses as &[Option<i16>],
        &durations,
        &steps as &[Option<String>],
    )
    .fetch_all(pool)
    .await?;
    Ok(applied)
}

/// Registers a worker process (before its first claim) so its claims are not taken for orphans.
pub async fn register_worker(pool: &PgPool, worker: &str) -> Result<(), DomainError> {
    sqlx::query!("insert into publish_worker (name) values ($1) on conflict (name) do update set last_seen = now()", worker)
        .execute(pool)
        .await?;
    Ok(())
}

/// Says the worker is alive.
pub async fn heartbeat(pool: &PgPool, worker: &str) -> Result<(), DomainError> {
    register_worker(pool, worker).await
}

/// Removes a stopped worker (after [`release`]).
pub async fn unregister_worker(pool: &PgPool, worker: &str) -> Result<(), DomainError> {
    sqlx::query!("delete from publish_worker where name = $1", worker).execute(pool).await?;
    Ok(())
}

/// Puts back the claims of workers not seen for `stale_after` (they died mid-call): each goes to
/// `retrying`, due now, marked for reconciliation; its open attempt ends as `unknown`; the audit
/// trail gets `delivery_rescued`. Also forgets the dead workers. Answers how many were rescued.
pub async fn rescue(pool: &PgPool, stale_after: Duration) -> Result<u64, DomainError> {
    let rescued = requeue(pool, None, stale_after).await?;
    sqlx::query!("delete from publish_worker where last_seen < now() - make_interval(secs => $1)", stale_after.as_secs_f64())
        .execute(pool)
        .await?;
    Ok(rescued)
}

/// Puts back what `worker` still holds when it stops (its calls did not finish within the grace
/// period): like [`rescue`], but for one worker, at once. Answers how many.
pub async fn release(pool: &PgPool, worker: &str) -> Result<u64, DomainError> {
    requeue(pool, Some(worker), Duration::ZERO).await
}

/// Claims back to the queue: `worker`'s, or (without one) those of every worker silent for
/// `stale_after`.
async fn requeue(pool: &PgPool, worker: Option<&str>, stale_after: Duration) -> Result<u64, DomainError> {
    let requeued = sqlx::query_scalar!(
        r#"with orphan as (
               select d.delivery_id from delivery d
               where d.state = 'publishing'
                 and case when $1::text is not null then d.claimed_by = $1
                          else not exists (select 1 from publish_worker w
                                           where w.name = d.claimed_by and w.last_seen > now() - make_interval(secs => $2)) end
               for update of d skip locked
           ),
           requeued as (
               update delivery d set state = 'retrying', claimed_by = null, claimed_at = null, reconcile = true, next_attempt_at = now()
               from orphan o where d.delivery_id = o.delivery_id
               returning d.delivery_id, d.team_id, d.post_id, d.attempts
           ),
           ended as (
               update delivery_attempt t set finished_at = now(), outcome = 'unknown',
                   error_message = 'The worker stopped before the call ended; the platform is checked for the post before the next attempt.'
               from requeued r where t.delivery_id = r.delivery_id and t.attempt = r.attempts and t.finished_at is null
           ),
           audited as (
               insert into audit_event (team_id, actor_kind, action, entity, entity_id, metadata)
               select team_id, 'system', 'delivery_rescued', 'delivery', delivery_id::text,
                      jsonb_build_object('post_id', post_id, 'attempt', attempts)
               from requeued
           )
           select count(*) as "count!" from requeued"#,
        worker,
        stale_after.as_secs_f64()
    )
    .fetch_one(pool)
    .await?;
    Ok(requeued as u64)
}

/// When the next delivery falls due (on an account that is not paused), or when the earliest
/// pause ends that has due deliveries waiting: the moment an idle worker should look again.
pub async fn next_wake(pool: &PgPool) -> Result<Option<DateTime<Utc>>, DomainError> {
    // The first as `order by … limit 1`, not `min()` over the join: the planner then walks the due
    // index from its start and stops at the first delivery of an unpaused account, instead of
    // joining every queued delivery to its account (milliseconds at 20,000 queued, a quarter of a
    // second at a million, on every idle poll; see BENCHMARKS.md, "A month of posts").
    Ok(sqlx::query_scalar!(
        r#"select least(
               (select d.next_attempt_at from delivery d join platform_account a on a.account_id = d.account_id
                where d.state in ('scheduled', 'retrying') and (a.paused_until is null or a.paused_until <= d.next_attempt_at)
                order by d.next_attempt_at limit 1),
               (select min(a.paused_until) from platform_account a
                where a.paused_until > now()
                  and exists (select 1 from delivery d where d.account_id = a.account_id and d.state in ('scheduled', 'retrying')
                              and d.next_attempt_at <= a.paused_until))
           )"#
    )
    .fetch_one(pool)
    .await?)
}

/// The watchdog's count: deliveries due for longer than `late_by` that no worker has claimed,
/// on accounts that are not paused, up to [`OVERDUE_COUNTED`]. Anything above zero means no
/// worker is keeping up (or none runs).
pub async fn overdue(pool: &PgPool, late_by: Duration) -> Result<i64, DomainError> {
    // No join: published deliveries keep their past due times, so the planner expects half the
    // table below `now()` and hashed every account for a join (15 ms a heartbeat at a million
    // queued). The paused accounts are read once, and the ordered scan of the due index with a
    // limit cannot turn into a scan of the table.
    Ok(sqlx::query_scalar!(
        r#"select count(*) as "count!" from (
               select 1 from delivery d
               where d.state in ('scheduled', 'retrying') and d.next_attempt_at < now() - make_interval(secs => $1)
                 and d.account_id <> all (array(select a.account_id from platform_account a where a.paused_until > now()))
               order by d.next_attempt_at
               limit $2
           ) overdue"#,
        late_by.as_secs_f64(),
        OVERDUE_COUNTED,
    )
    .fetch_one(pool)
    .await?)
}

/// How many overdue deliveries the watchdog counts at most: enough to tell a stall from a blip.
pub const OVERDUE_COUNTED: i64 = 100_000;

/// Pauses an account until `until` (its rate limit's reset); a later pause already set stays.
pub async fn pause_account(pool: &PgPool, team_id: Uuid, account_id: Uuid, until: DateTime<Utc>) -> Result<(), DomainError> {
    sqlx::query!(
        r#"update platform_account set paused_until = greatest(coalesce(paused_until, $3), $3)
           where team_id = $1 and account_id = $2"#,
        team_id,
        account_id,
        until
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// The account needs re-authorising: marks it (with the platform's words) and holds its waiting
/// deliveries until it is reconnected. Records `account_needs_reauth` once. Answers whether the
/// account was connected until now.
pub async fn hold_account(pool: &PgPool, team_id: Uuid, account_id: Uuid, detail: &str) -> Result<bool, DomainError> {
    let mut tx = pool.begin().await?;
    let marked = sqlx::query!(
        r#"update platform_account set status = 'needs_reauth', status_detail = $3
           where team_id = $1 and account_id = $2 and status = 'connected'
           returning platform as "platform: Platform""#,
        team_id,
        account_id,
        detail
    )
    .fetch_optional(&mut *tx)
    .await?;
    let held = sqlx::query!(
        "update delivery set state = 'held' where team_id = $1 and account_id = $2 and state in ('scheduled', 'retrying')",
        team_id,
        account_id
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if let Some(row) = &marked {
        super::audit::record(
            &mut *tx,
            team_id,
            super::audit::Actor::System,
            "account_needs_reauth",
            "account",
            Some(&account_id.to_string()),
            serde_json::json!({ "platform": row.platform.as_str(), "held_deliveries": held }),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(marked.is_some())
}

/// Puts a reconnected account's held deliveries back in the queue: due now, or at their post's
/// time if that is later. Part of the reconnect's transaction.
pub async fn resume_account(conn: &mut PgConnection, team_id: Uuid, account_id: Uuid) -> Result<u64, DomainError> {
    let resumed = sqlx::query!(
        r#"update delivery d set state = 'scheduled', next_attempt_at = greatest(now(), p.scheduled_at)
           from post p
           where p.post_id = d.post_id and d.team_id = $1 and d.account_id = $2 and d.state = 'held'"#,
        team_id,
        account_id
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if resumed > 0 {
        sqlx::query!("update platform_account set paused_until = null where team_id = $1 and account_id = $2", team_id, account_id)
            .execute(&mut *conn)
            .await?;
        wake_workers(conn, Utc::now()).await?;
    }
    Ok(resumed)
}

/// A delivery's state, for tests and the API (team-scoped).
pub async fn state(pool: &PgPool, team_id: Uuid, delivery_id: Uuid) -> Result<DeliveryState, DomainError> {
    sqlx::query_scalar!(
        r#"select state as "state: DeliveryState" from delivery where team_id = $1 and delivery_id = $2"#,
        team_id,
        delivery_id
    )
    .fetch_optional(pool)
    .await?
    .ok_or(DomainError::NotFound)
}
