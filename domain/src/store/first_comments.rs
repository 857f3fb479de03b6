//! First comments' queue: each published delivery's comment (queued by
//! [`super::deliveries::complete`]), claimed in batches by the workers' sender
//! (`crier_publisher::first_comments`), completed in one statement, rescued from stopped workers.
//!
//! ```text
//!   pending ──► sending ──► posted
//!      ▲           │ └────► failed ──► pending ("Retry")
//!      └───────────┘ (retry later; a stopped worker's claim, to be looked for first)
//! ```
//!
//! The database refuses any other move (`delivery_first_comment_guard`).

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::DomainError;
use crate::account::AccountStatus;
use crate::retry::RetryPolicy;
use crier_platform::Platform;

/// The channel a statement that queues first comments notifies.
pub const DUE_CHANNEL: &str = "crier_first_comments";

/// A first comment's state (`first_comment_state`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, sqlx::Type)]
#[sqlx(type_name = "first_comment_state", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum FirstCommentState {
    /// Waiting for its time (its first or its next attempt).
    Pending,
    /// A worker is sending it.
    Sending,
    /// Under the post.
    Posted,
    /// Retrying cannot help; the reason is kept.
    Failed,
}

impl FirstCommentState {
    /// In words, for the post's page.
    pub fn label(self) -> &'static str {
        match self {
            FirstCommentState::Pending => "Waiting",
            FirstCommentState::Sending => "Sending",
            FirstCommentState::Posted => "Posted",
            FirstCommentState::Failed => "Failed",
        }
    }
}

/// A claimed first comment, with what sending it needs.
#[derive(Clone, Debug)]
pub struct ClaimedComment {
    /// Its delivery.
    pub delivery_id: Uuid,
    /// The team.
    pub team_id: Uuid,
    /// The account it is posted by.
    pub account_id: Uuid,
    /// The account's platform.
    pub platform: Platform,
    /// The platform's id for the account (X user id, LinkedIn person or organization URN, Page id).
    pub account_external_id: String,
    /// Whether the account is connected.
    pub status: AccountStatus,
    /// The post at the platform (X: the thread's last part, which the reply follows).
    pub parent_id: String,
    /// What it says.
    pub text: String,
    /// This attempt's number.
    pub attempt: i16,
    /// Look for the comment before sending it (the last attempt's outcome is unknown).
    pub reconcile: bool,
    /// When the first attempt started (a comment found from before it is not this one).
    pub first_attempt_at: Option<DateTime<Utc>>,
    /// The post's retry policy, which its comments follow too.
    pub retry: RetryPolicy,
}

/// How an attempt ended, for [`complete`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommentOutcome {
    /// The comment.
    pub delivery_id: Uuid,
    /// The attempt this is the outcome of (a rescued claim's late outcome is ignored).
    pub attempt: i16,
    /// `Posted`, `Failed` or `Pending` (again, at `next_attempt_at`).
    pub state: FirstCommentState,
    /// When to try again.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Whether the next attempt looks for the comment first.
    pub reconcile: bool,
    /// The platform's id for the comment, once posted.
    pub external_id: Option<String>,
    /// Where it is seen, if the platform has a link for it.
    pub permalink: Option<String>,
    /// Why it failed or waits.
    pub error: Option<String>,
    /// Found at the platform rather than posted now.
    pub reconciled: bool,
}

/// Claims up to `limit` due first comments for `worker`, with their account's details.
pub async fn claim(pool: &PgPool, worker: &str, limit: i64) -> Result<Vec<ClaimedComment>, DomainError> {
    let rows = sqlx::query!(
        r#"with picked as (
               select fc.delivery_id from delivery_first_comment fc
               where fc.state = 'pending' and fc.next_attempt_at <= now()
               order by fc.next_attempt_at
               limit $2
               for update skip locked
           ),
           claimed as (
               update delivery_first_comment fc set state = 'sending', claimed_by = $1, claimed_at = now(),
                      attempts = fc.attempts + 1, first_attempt_at = coalesce(fc.first_attempt_at, now())
               from picked p where fc.delivery_id = p.delivery_id
               returning fc.delivery_id, fc.team_id, fc.text, fc.attempts, fc.reconcile, fc.first_attempt_at
           )
           select c.delivery_id, c.team_id, c.text, c.attempts, c.reconcile, c.first_attempt_at,
                  a.account_id, a.platform as "platform: Platform", a.external_id as account_external_id,
                  a.status as "status: AccountStatus",
                  coalesce(d.thread_ids[array_upper(d.thread_ids, 1)], d.external_id) as "parent_id!",
                  p.max_attempts, p.retry_base_seconds
           from claimed c
           join delivery d on d.delivery_id = c.delivery_id and d.team_id = c.team_id
           join post p on p.post_id = d.post_id and p.team_id = c.team_id
           join platform_account a on a.account_id = d.account_id and a.team_id = c.team_id"#,
        worker,
        limit
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| ClaimedComment {
            delivery_id: r.delivery_id,
            team_id: r.team_id,
            account_id: r.account_id,
            platform: r.platform,
            account_external_id: r.account_external_id,
            status: r.status,
            parent_id: r.parent_id,
            text: r.text,
            attempt: r.attempts,
            reconcile: r.reconcile,
            first_attempt_at: r.first_attempt_at,
            retry: RetryPolicy { max_attempts: r.max_attempts, first_retry_seconds: r.retry_base_seconds },
        })
        .collect())
}

/// When the next pending first comment falls due.
pub async fn next_due(pool: &PgPool) -> Result<Option<DateTime<Utc>>, DomainError> {
    Ok(sqlx::query_scalar!("select min(next_attempt_at) from delivery_first_comment where state = 'pending'").fetch_one(pool).await?)
}

/// Writes outcomes in one statement (only for claims `worker` still holds at that attempt), each
/// posted or failed comment recorded in the team's audit trail. Answers how many applied.
pub async fn complete(pool: &PgPool, worker: &str, batch: &[CommentOutcome]) -> Result<usize, DomainError> {
    let ids: Vec<Uuid> = batch.iter().map(|o| o.delivery_id).collect();
    let attempts: Vec<i16> = batch.iter().map(|o| o.attempt).collect();
    let states: Vec<FirstCommentState> = batch.iter().map(|o| o.state).collect();
    let next: Vec<Option<DateTime<Utc>>> = batch.iter().map(|o| o.next_attempt_at).collect();
    let reconcile: Vec<bool> = batch.iter().map(|o| o.reconcile).collect();
    let external: Vec<Option<String>> = batch.iter().map(|o| o.external_id.clone()).collect();
    let permalinks: Vec<Option<String>> = batch.iter().map(|o| o.permalink.clone()).collect();
    let errors: Vec<Option<String>> = batch.iter().map(|o| o.error.clone()).collect();
    let reconciled: Vec<bool> = batch.iter().map(|o| o.reconciled).collect();
    let applied = sqlx::query_scalar!(
        r#"with outcome as (
               select * from unnest($2::uuid[], $3::int2[], $4::first_comment_state[], $5::timestamptz[], $6::bool[], $7::text[],
                                    $8::text[], $9::text[], $10::bool[])
                   as o (delivery_id, attempt, state, next_attempt_at, reconcile, external_id, permalink, error, reconciled)
           ),
           done as (
               update delivery_first_comment fc set state = o.state, claimed_by = null, claimed_at = null,
                      next_attempt_at = coalesce(o.next_attempt_at, fc.next_attempt_at), reconcile = o.reconcile,
                      external_id = o.external_id, permalink = o.permalink, last_error = o.error
               from outcome o
               where fc.delivery_id = o.delivery_id and fc.state = 'sending' and fc.claimed_by = $1 and fc.attempts = o.attempt
               returning fc.delivery_id, fc.team_id, o.state, o.attempt, o.external_id, o.reconciled
           ),
           audited as (
               insert into audit_event (team_id, actor_kind, action, entity, entity_id, metadata)
               select d.team_id, 'system',
                      case d.state when 'posted' then 'first_comment_posted' else 'first_comment_failed' end,
                      'delivery', d.delivery_id::text,
                      jsonb_strip_nulls(jsonb_build_object('attempt', d.attempt, 'external_id', d.external_id,
                                                           'reconciled', case when d.reconciled then true end))
               from done d where d.state in ('posted', 'failed')
           )
           select count(*) as "applied!" from done"#,
        worker,
        &ids,
        &attempts,
        &states as &[FirstCommentState],
        &next as &[Option<DateTime<Utc>>],
        &reconcile,
        &external as &[Option<String>],
        &permalinks as &[Option<String>],
        &errors as &[Option<String>],
        &reconciled,
    )
    .fetch_one(pool)
    .await?;
    Ok(usize::try_from(applied).unwrap_or_default())
}

/// Puts back claims older than `stale_after` (their worker stopped, perhaps mid-call): they are
/// looked for before being sent again. Answers how many.
pub async fn rescue(pool: &PgPool, stale_after: Duration) -> Result<u64, DomainError> {
    let stale = stale_after.as_secs_f64();
    let rescued = sqlx::query!(
        r#"update delivery_first_comment set state = 'pending', claimed_by = null, claimed_at = null, reconcile = true,
                  next_attempt_at = now(), last_error = 'The worker sending it stopped; it is looked for before being sent again.'
           where state = 'sending' and claimed_at < now() - make_interval(secs => $1)"#,
        stale
    )
    .execute(pool)
    .await?
    .rows_affected();
    Ok(rescued)
}

/// At shutdown: puts back what `worker` still holds (to be looked for first: a call may have
/// been under way).
pub async fn release(pool: &PgPool, worker: &str) -> Result<u64, DomainError> {
    Ok(sqlx::query!(
        r#"update delivery_first_comment set state = 'pending', claimed_by = null, claimed_at = null, reconcile = true
           where state = 'sending' and claimed_by = $1"#,
        worker
    )
    .execute(pool)
    .await?
    .rows_affected())
}

/// A post's first comments as its page shows them, by delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FirstCommentRow {
    /// The delivery it is under.
    pub delivery_id: Uuid,
    /// Where it is.
    pub state: FirstCommentState,
    /// Attempts made.
    pub attempts: i16,
    /// Where it is seen.
    pub permalink: Option<String>,
    /// The platform's id.
    pub external_id: Option<String>,
    /// Why it failed or waits.
    pub error: Option<String>,
    /// When it is tried next (pending).
    pub next_attempt_at: DateTime<Utc>,
}

/// The first comments under the team's post `post_id`'s deliveries.
pub async fn of_post(pool: &PgPool, team_id: Uuid, post_id: Uuid) -> Result<Vec<FirstCommentRow>, DomainError> {
    let rows = sqlx::query!(
        r#"select fc.delivery_id, fc.state as "state: FirstCommentState", fc.attempts, fc.permalink, fc.external_id, fc.last_error,
                  fc.next_attempt_at
           from delivery_first_comment fc join delivery d on d.delivery_id = fc.delivery_id and d.team_id = $1
           where fc.team_id = $1 and d.post_id = $2"#,
        team_id,
        post_id
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| FirstCommentRow {
            delivery_id: r.delivery_id,
            state: r.state,
            attempts: r.attempts,
            permalink: r.permalink,
            external_id: r.external_id,
            error: r.last_error,
            next_attempt_at: r.next_attempt_at,
        })
        .collect())
}

/// "Retry" on the post's page: a failed first comment of the team's post is sent again (looked
/// for first if its last outcome was unknown). Answers whether one was.
pub async fn retry(pool: &PgPool, team_id: Uuid, delivery_id: Uuid) -> Result<bool, DomainError> {
    let retried = sqlx::query!(
        r#"update delivery_first_comment set state = 'pending', attempts = 0, next_attempt_at = now()
           where team_id = $1 and delivery_id = $2 and state = 'failed'"#,
        team_id,
        delivery_id
    )
    .execute(pool)
    .await?
    .rows_affected();
    if retried > 0 {
        sqlx::query!("select pg_notify('crier_first_comments', '')").execute(pool).await?;
    }
    Ok(retried > 0)
}
