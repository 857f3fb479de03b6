//! How publishing went for a team over a time range: totals, success rates per platform and per
//! account, response times, retries, refreshes, rate-limit waits, and the queue over time. Read
//! from the rows the engine writes anyway (deliveries, attempts, the audit trail): there is no
//! second bookkeeping to drift from the truth.
//!
//! A delivery belongs to the range its post was due in; attempts, refreshes and waits to the range
//! they happened in.

use chrono::{DateTime, TimeDelta, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::DomainError;
use crier_platform::Platform;

/// Published and failed deliveries, and the share that went out.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Outcomes {
    /// Deliveries due in the range (any state).
    pub deliveries: i64,
    /// Of those, published.
    pub published: i64,
    /// Of those, failed for good.
    pub failed: i64,
}

impl std::iter::Sum for Outcomes {
    fn sum<I: Iterator<Item = Outcomes>>(iter: I) -> Outcomes {
        iter.fold(Outcomes::default(), |sum, o| Outcomes {
            deliveries: sum.deliveries + o.deliveries,
            published: sum.published + o.published,
            failed: sum.failed + o.failed,
        })
    }
}

impl Outcomes {
    /// published ÷ (published + failed); `None` while nothing has finished.
    pub fn success_rate(&self) -> Option<f64> {
        let finished = self.published + self.failed;
        (finished > 0).then(|| self.published as f64 / finished as f64)
    }
}

/// One platform's figures.
#[derive(Clone, Debug, PartialEq)]
pub struct PlatformFigures {
    /// Which platform.
    pub platform: Platform,
    /// Its deliveries.
    pub outcomes: Outcomes,
}

/// One account's figures.
#[derive(Clone, Debug, PartialEq)]
pub struct AccountFigures {
    /// The account.
    pub account_id: Uuid,
    /// Its name.
    pub name: String,
    /// Its platform.
    pub platform: Platform,
    /// Its deliveries.
    pub outcomes: Outcomes,
}

/// The team's figures for a range.
#[derive(Clone, Debug, PartialEq)]
pub struct Analytics {
    /// Posts due in the range.
    pub posts: i64,
    /// All deliveries of those posts.
    pub outcomes: Outcomes,
    /// Per platform (only platforms with deliveries), X, LinkedIn, Facebook order.
    pub platforms: Vec<PlatformFigures>,
    /// Per account, most deliveries first.
    pub accounts: Vec<AccountFigures>,
    /// The mean duration of the publish calls that succeeded, in milliseconds.
    pub average_publish_ms: Option<f64>,
    /// Calls per published delivery (1.0 when nothing needed a retry).
    pub attempts_per_published: Option<f64>,
    /// Token refreshes in the range.
    pub token_refreshes: i64,
    /// Calls answered "rate limited" in the range (each paused its account until the reset).
    pub rate_limit_waits: i64,
    /// Deliveries waiting now: due or scheduled, retrying or held.
    pub queued_now: i64,
}

/// One step of the series.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bucket {
    /// Where the step starts.
    pub start: DateTime<Utc>,
    /// Deliveries published during the step.
    pub published: i64,
    /// Deliveries that failed for good during the step.
    pub failed: i64,
    /// Deliveries due and not yet finished at the step's end: the queue's length then.
    pub queued: i64,
}

/// The team's figures for posts due in `[from, until)`.
pub async fn summary(pool: &PgPool, team_id: Uuid, from: DateTime<Utc>, until: DateTime<Utc>) -> Result<Analytics, DomainError> {
    let per_account = sqlx::query!(
        r#"select a.account_id, a.name, a.platform as "platform: Platform",
                  count(*) as "deliveries!",
                  count(*) filter (where d.state = 'published') as "published!",
                  count(*) filter (where d.state = 'failed') as "failed!"
           from delivery d
           join post p on p.post_id = d.post_id and p.team_id = d.team_id
           join platform_account a on a.account_id = d.account_id and a.team_id = d.team_id
           where d.team_id = $1 and p.scheduled_at >= $2 and p.scheduled_at < $3
           group by a.account_id, a.name, a.platform
           order by count(*) desc, a.name"#,
        team_id,
        from,
        until
    )
    .fetch_all(pool)
    .await?;
    let figures = sqlx::query!(
        r#"select
             (select count(*) from post p where p.team_id = $1 and p.state = 'scheduled' and p.scheduled_at >= $2 and p.scheduled_at < $3) as "posts!",
             (select avg(t.duration_ms)::float8 from delivery_attempt t
                where t.team_id = $1 and t.outcome = 'published' and t.started_at >= $2 and t.started_at < $3) as average_publish_ms,
             (select avg(d.attempts)::float8 from delivery d join post p on p.post_id = d.post_id
                where d.team_id = $1 and d.state = 'published' and p.scheduled_at >= $2 and p.scheduled_at < $3) as attempts_per_published,
             (select count(*) from audit_event e
                where e.team_id = $1 and e.action = 'account_refreshed' and e.occurred_at >= $2 and e.occurred_at < $3) as "token_refreshes!",
             (select count(*) from delivery_attempt t
                where t.team_id = $1 and t.outcome = 'rate_limited' and t.started_at >= $2 and t.started_at < $3) as "rate_limit_waits!",
             (select count(*) from delivery d where d.team_id = $1 and d.state in ('scheduled', 'retrying', 'held')) as "queued_now!""#,
        team_id,
        from,
        until
    )
    .fetch_one(pool)
    .await?;

    let accounts: Vec<AccountFigures> = per_account
        .into_iter()
        .map(|r| AccountFigures {
            account_id: r.account_id,
            name: r.name,
            platform: r.platform,
            outcomes: Outcomes { deliveries: r.deliveries, published: r.published, failed: r.failed },
        })
        .collect();
    let platforms = Platform::ALL
        .into_iter()
        .filter_map(|platform| {
            let outcomes: Outcomes = accounts.iter().filter(|a| a.platform == platform).map(|a| a.outcomes).sum();
            (outcomes.deliveries > 0).then_some(PlatformFigures { platform, outcomes })
        })
        .collect::<Vec<_>>();
    let outcomes = accounts.iter().map(|a| a.outcomes).sum();
    Ok(Analytics {
        posts: figures.posts,
        outcomes,
        platforms,
        accounts,
        average_publish_ms: figures.average_publish_ms,
        attempts_per_published: figures.attempts_per_published,
        token_refreshes: figures.token_refreshes,
        rate_limit_waits: figures.rate_limit_waits,
        queued_now: figures.queued_now,
    })
}

/// The range cut into `steps` equal steps (at most 400): published and failed per step, and the
/// queue's length at each step's end. Reads the deliveries still queued or finished within the
/// range, whatever the team's history.
pub async fn series(
    pool: &PgPool,
    team_id: Uuid,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    steps: u32,
) -> Result<Vec<Bucket>, DomainError> {
    let steps = steps.clamp(1, 400);
    let step = (until - from) / steps as i32;
    if step <= TimeDelta::zero() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query!(
        r#"with bucket as (
               select $2::timestamptz + make_interval(secs => $4::float8 * n) as start
               from generate_series(0, $5 - 1) as n
           ), finished as (
               -- When each of the team's deliveries left the queue (null: still in it). Only those
               -- still queued or finished since the range began count for any step: one that
               -- finished before it is left out by the finished deliveries' index on (team_id,
               -- updated_at), so the cost follows the range, not the team's whole history.
               select p.scheduled_at as due,
                      case d.state when 'published' then d.published_at
                                   when 'failed' then d.updated_at when 'cancelled' then d.updated_at
                                   when 'dry_run_ok' then d.updated_at end as done_at,
                      d.state
               from delivery d join post p on p.post_id = d.post_id and p.team_id = d.team_id
               where d.team_id = $1 and p.scheduled_at < $3
                 and ((d.updated_at >= $2 and d.state in ('published', 'dry_run_ok', 'failed', 'cancelled'))
                      or d.state in ('scheduled', 'retrying', 'publishing', 'held', 'paused'))
           )
           select b.start as "start!",
                  count(*) filter (where f.state = 'published' and f.done_at >= b.start and f.done_at < b.start + make_interval(secs => $4)) as "published!",
                  count(*) filter (where f.state = 'failed' and f.done_at >= b.start and f.done_at < b.start + make_interval(secs => $4)) as "failed!",
                  count(*) filter (where f.due < b.start + make_interval(secs => $4)
                                     and (f.done_at is null or f.done_at >= b.start + make_interval(secs => $4))) as "queued!"
           from bucket b left join finished f on true
           group by b.start
           order by b.start"#,
        team_id,
        from,
        until,
        step.as_seconds_f64(),
        steps as i32,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| Bucket { start: r.start, published: r.published, failed: r.failed, queued: r.queued }).collect())
}

/// The team's deliveries waiting now, by state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Queue {
    /// Scheduled for later.
    pub scheduled: i64,
    /// Scheduled or retrying, and due now (a worker takes them within moments).
    pub due: i64,
    /// Waiting for their next attempt.
    pub retrying: i64,
    /// Being published right now.
    pub publishing: i64,
    /// Waiting for an account to be reconnected.
    pub held: i64,
    /// Posts with at least one delivery still to go out (scheduled, retrying, publishing or held).
    pub posts_waiting: i64,
    /// When the longest-waiting due delivery became due.
    pub oldest_due_at: Option<DateTime<Utc>>,
}

/// The team's queue now.
pub async fn queue(pool: &PgPool, team_id: Uuid) -> Result<Queue, DomainError> {
    let r = sqlx::query!(
        r#"select count(*) filter (where state = 'scheduled') as "scheduled!",
                  count(*) filter (where state in ('scheduled', 'retrying') and next_attempt_at <= now()) as "due!",
                  count(*) filter (where state = 'retrying') as "retrying!",
                  count(*) filter (where state = 'publishing') as "publishing!",
                  count(*) filter (where state = 'held') as "held!",
                  count(distinct post_id) as "posts_waiting!",
                  min(next_attempt_at) filter (where state in ('scheduled', 'retrying') and next_attempt_at <= now()) as oldest_due_at
           from delivery where team_id = $1 and state in ('scheduled', 'retrying', 'publishing', 'held')"#,
        team_id
    )
    .fetch_one(pool)
    .await?;
    Ok(Queue {
        scheduled: r.scheduled,
        due: r.due,
        retrying: r.retrying,
        publishing: r.publishing,
        held: r.held,
        posts_waiting: r.posts_waiting,
        oldest_due_at: r.oldest_due_at,
    })
}

/// Worker processes that heartbeated within `fresh_secs` (any team's work: workers are shared).
pub async fn live_workers(pool: &PgPool, fresh_secs: f64) -> Result<i64, DomainError> {
    Ok(sqlx::query_scalar!(
        r#"select count(*) as "count!" from publish_worker where last_seen > now() - make_interval(secs => $1)"#,
        fresh_secs
    )
    .fetch_one(pool)
    .await?)
}
