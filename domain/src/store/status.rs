//! How the publishing machinery is doing: the readiness checks behind `/readyz` and
//! `crier status`, the queue figures `/metrics` reports, and for one team the Status page's
//! accounts with their budgets, the workers and the team's queue.
//!
//! The worker and queue-wide figures describe the machinery every team shares (how many workers
//! heartbeat, how many deliveries wait); they carry no team's posts or accounts. Everything about
//! a team's accounts and deliveries is filtered by its team.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use sqlx::PgPool;
use sqlx::migrate::{AppliedMigration, Migrate, Migrator};
use uuid::Uuid;

use super::accounts::{self, Account};
use super::deliveries::{Budget, Budgets};
use crate::DomainError;

/// What readiness tolerates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadinessLimits {
    /// A worker whose last heartbeat is older than this does not count (the engine takes it for
    /// dead after the same time, `CRIER_WORKER_STALE_AFTER`).
    pub stale_after: Duration,
    /// How long the oldest due delivery that no worker has claimed may have waited
    /// (`CRIER_READY_MAX_QUEUE_AGE`).
    pub max_queue_age: Duration,
}

impl ReadinessLimits {
    /// How long the oldest due delivery may wait unclaimed, unless configured
    /// (`CRIER_READY_MAX_QUEUE_AGE`).
    pub const DEFAULT_MAX_QUEUE_AGE: Duration = Duration::from_secs(120);
}

impl Default for ReadinessLimits {
    /// The command line's defaults: the workers' staleness and [`Self::DEFAULT_MAX_QUEUE_AGE`].
    fn default() -> Self {
        ReadinessLimits { stale_after: super::deliveries::DEFAULT_STALE_AFTER, max_queue_age: Self::DEFAULT_MAX_QUEUE_AGE }
    }
}

/// What `/readyz` and the Status page know of the publishing settings: the web process parses the
/// same worker settings as the workers it reports on (`crier serve` takes them even with
/// `--no-worker`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Operations {
    /// Crier's own per-account budgets of posts.
    pub budgets: Budgets,
    /// Crier's own per-account budgets of media upload calls.
    pub media_budgets: Budgets,
    /// How fresh a worker's heartbeat must be, and how long a due delivery may wait.
    pub readiness: ReadinessLimits,
}

impl Default for Operations {
    fn default() -> Self {
        Operations {
            budgets: Budgets::default(),
            media_budgets: Budgets::defaults(crate::budget::Counted::MediaCalls),
            readiness: ReadinessLimits::default(),
        }
    }
}

/// One check's result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Fine.
    Pass,
    /// Not ready because of this.
    Fail,
    /// Not looked at: an earlier check failed (the database is unreachable).
    Skipped,
}

/// One readiness check: `database`, `migrations`, `worker` or `queue`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Which check.
    pub name: &'static str,
    /// Its result.
    pub verdict: Verdict,
    /// What was found, and on failure what to do.
    pub detail: String,
}

/// Whether this Crier can publish: every check and its verdict (`/readyz` and
/// `crier status --json` answer this, as JSON).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Readiness {
    /// Every check passed.
    pub ready: bool,
    /// The names of the checks that failed.
    pub failing: Vec<&'static str>,
    /// The checks, in the order they were made.
    pub checks: Vec<Check>,
}

impl Readiness {
    fn of(checks: Vec<Check>) -> Self {
        let failing = checks.iter().filter(|c| c.verdict == Verdict::Fail).map(|c| c.name).collect();
        Readiness { ready: checks.iter().all(|c| c.verdict == Verdict::Pass), failing, checks }
    }
}

/// The database-wide figures of one moment, read in one statement.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Snapshot {
    /// Workers that heartbeated within `stale_after`.
    pub fresh_workers: i64,
    /// Seconds since the last heartbeat of any worker (none registered: `None`).
    pub last_heartbeat_secs: Option<f64>,
    /// Seconds the oldest due delivery on an account that is not paused has waited unclaimed.
    pub oldest_due_secs: Option<f64>,
    /// Scheduled or retrying, and due now (also those whose account is paused).
    pub due: i64,
    /// Scheduled or retrying, due later (`None`: not counted, see [`Waiting`]).
    pub waiting: Option<i64>,
    /// Claimed by a worker, the platform being called.
    pub publishing: i64,
    /// Waiting for an account to be reconnected.
    pub held: i64,
}

/// Whether a snapshot counts the deliveries due later: every future post of every team, a
/// million index entries on a large instance (`crier bench --scenario month`). Metrics and
/// `crier status` show it; `/readyz`, asked every few seconds, needs only what is due.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Waiting {
    /// Count them.
    Count,
    /// Leave them uncounted (`Snapshot::waiting` is `None`).
    Skip,
}

/// Whether the database answers a trivial query (liveness: no table is read).
pub async fn database_answers(pool: &PgPool) -> Result<(), DomainError> {
    sqlx::query_scalar!(r#"select 1 as "one!""#).fetch_one(pool).await?;
    Ok(())
}

/// Workers and queue across all teams, in one statement (each count uses its partial index).
pub async fn snapshot(pool: &PgPool, stale_after: Duration, waiting: Waiting) -> Result<Snapshot, DomainError> {
    let row = sqlx::query!(
        r#"select
               (select count(*) from publish_worker where last_seen > now() - make_interval(secs => $1)) as "fresh_workers!",
               (select extract(epoch from now() - max(last_seen))::float8 from publish_worker) as last_heartbeat_secs,
               -- Paused accounts' deliveries wait for their reset on purpose: not a sign of trouble.
               -- The first in due order, not min() over a join (see deliveries::next_wake).
               (select extract(epoch from now() - d.next_attempt_at)::float8
                from delivery d join platform_account a on a.account_id = d.account_id
                where d.state in ('scheduled', 'retrying') and d.next_attempt_at <= now()
                  and (a.paused_until is null or a.paused_until <= now())
                order by d.next_attempt_at limit 1) as oldest_due_secs,
               (select count(*) from delivery where state in ('scheduled', 'retrying') and next_attempt_at <= now()) as "due!",
               -- A subquery under CASE runs only when its branch is taken.
               case when $2 then (select count(*) from delivery where state in ('scheduled', 'retrying') and next_attempt_at > now()) end
                   as waiting,
               (select count(*) from delivery where state = 'publishing') as "publishing!",
               (select count(*) from delivery where state = 'held') as "held!""#,
        stale_after.as_secs_f64(),
        waiting == Waiting::Count,
    )
    .fetch_one(pool)
    .await?;
    Ok(Snapshot {
        fresh_workers: row.fresh_workers,
        last_heartbeat_secs: row.last_heartbeat_secs,
        oldest_due_secs: row.oldest_due_secs,
        due: row.due,
        waiting: row.waiting,
        publishing: row.publishing,
        held: row.held,
    })
}

/// The readiness checks, in order: the database answers; every migration this binary knows is
/// applied (unchanged); a worker heartbeated within `stale_after`; the oldest due, unclaimed
/// delivery has waited less than `max_queue_age`. When the database does not answer, the others
/// are skipped. Also answers the snapshot the last two were read from, if it could be read.
///
/// An unreachable database is not logged here: `/readyz` may be asked every few seconds through
/// an outage, and its caller logs the outage once (`crate::outage`).
pub async fn readiness(pool: &PgPool, limits: ReadinessLimits, waiting: Waiting) -> (Readiness, Option<Snapshot>) {
    let skipped = |name, why: &str| Check { name, verdict: Verdict::Skipped, detail: format!("not checked: {why}") };
    if database_answers(pool).await.is_err() {
        return (database_unreachable(), None);
    }
    let database = Check { name: "database", verdict: Verdict::Pass, detail: "PostgreSQL answers".into() };
    let migrations = migrations(pool).await;
    match snapshot(pool, limits.stale_after, waiting).await {
        Ok(snapshot) => {
            let checks =
                vec![database, migrations, worker_check(&snapshot, limits.stale_after), queue_check(&snapshot, limits.max_queue_age)];
            (Readiness::of(checks), Some(snapshot))
        }
        // The tables are missing when the migrations are: that failure already says what to do.
        Err(_) if migrations.verdict == Verdict::Fail => {
            let why = "the migrations are not current";
            (Readiness::of(vec![database, migrations, skipped("worker", why), skipped("queue", why)]), None)
        }
        Err(e) => {
            tracing::warn!(error = %e, "readiness: workers and queue could not be read");
            let unread = |name| Check { name, verdict: Verdict::Fail, detail: "could not be read from the database; see the log".into() };
            (Readiness::of(vec![database, migrations, unread("worker"), unread("queue")]), None)
        }
    }
}

/// The readiness when the database does not answer (or not in time): `database` fails and the
/// other checks are skipped.
pub fn database_unreachable() -> Readiness {
    let skipped = |name, why: &str| Check { name, verdict: Verdict::Skipped, detail: format!("not checked: {why}") };
    let database = Check {
        name: "database",
        verdict: Verdict::Fail,
        detail: "PostgreSQL does not answer; check that it runs and that Crier reaches it (DATABASE_URL)".into(),
    };
    let why = "the database does not answer";
    Readiness::of(vec![database, skipped("migrations", why), skipped("worker", why), skipped("queue", why)])
}

async fn migrations(pool: &PgPool) -> Check {
    let migrator = &crate::MIGRATOR;
    let read = async {
        let mut conn = pool.acquire().await?;
        let dirty = conn.dirty_version(&migrator.table_name).await?;
        let applied = conn.list_applied_migrations(&migrator.table_name).await?;
        Ok::<_, sqlx::migrate::MigrateError>((dirty, applied))
    };
    match read.await {
        Ok((dirty, applied)) => migration_check(migrator, dirty, &applied),
        Err(e) => {
            tracing::warn!(error = %e, "readiness: the migrations table cannot be read");
            Check {
                name: "migrations",
                verdict: Verdict::Fail,
                detail: "the database has no readable migrations table; run `crier migrate`".into(),
            }
        }
    }
}

/// Compares the migrations this binary carries with those the database has applied. A database
/// ahead of the binary (a newer release migrated it) passes: the previous release keeps serving
/// while the new one rolls out.
pub fn migration_check(migrator: &Migrator, dirty: Option<i64>, applied: &[AppliedMigration]) -> Check {
    let fail = |detail: String| Check { name: "migrations", verdict: Verdict::Fail, detail };
    if let Some(version) = dirty {
        return fail(format!("migration {version} failed part-way; repair the database, then run `crier migrate`"));
    }
    let known: Vec<_> = migrator.iter().filter(|m| !m.migration_type.is_down_migration()).collect();
    let mut pending = Vec::new();
    for migration in &known {
        match applied.iter().find(|a| a.version == migration.version) {
            Some(a) if a.checksum != migration.checksum => {
                return fail(format!(
                    "migration {} ({}) differs from the one applied to the database; this binary does not match the database",
                    migration.version, migration.description
                ));
            }
            Some(_) => {}
            None => pending.push(migration),
        }
    }
    if let Some(first) = pending.first() {
        return fail(format!(
            "{} of {} migrations not applied (the first: {} {}); run `crier migrate`",
            pending.len(),
            known.len(),
            first.version,
            first.description
        ));
    }
    let newer = applied.iter().filter(|a| !known.iter().any(|m| m.version == a.version)).count();
    let detail = match newer {
        0 => format!("all {} applied", known.len()),
        n => format!("all {} applied; the database also has {n} newer, from a later release", known.len()),
    };
    Check { name: "migrations", verdict: Verdict::Pass, detail }
}

fn worker_check(snapshot: &Snapshot, stale_after: Duration) -> Check {
    let (verdict, detail) = match (snapshot.fresh_workers, snapshot.last_heartbeat_secs) {
        (n, _) if n > 0 => (Verdict::Pass, format!("{n} publishing {} heartbeating", if n == 1 { "worker" } else { "workers" })),
        (_, Some(age)) => (
            Verdict::Fail,
            format!(
                "no publishing worker heartbeated within {}; the last one was seen {} ago. Start `crier worker` (or `crier serve` without --no-worker)",
                span(stale_after.as_secs_f64()),
                span(age)
            ),
        ),
        (_, None) => (Verdict::Fail, "no publishing worker runs; start `crier worker` (or `crier serve` without --no-worker)".into()),
    };
    Check { name: "worker", verdict, detail }
}

fn queue_check(snapshot: &Snapshot, max_age: Duration) -> Check {
    let (verdict, detail) = match snapshot.oldest_due_secs {
        None => (Verdict::Pass, "no due delivery is waiting".into()),
        Some(age) if age <= max_age.as_secs_f64() => {
            (Verdict::Pass, format!("the oldest due delivery has waited {} (at most {})", span(age), span(max_age.as_secs_f64())))
        }
        Some(age) => (
            Verdict::Fail,
            format!(
                "the oldest due delivery has waited {} unclaimed (at most {} allowed); the workers are not keeping up: add workers or raise CRIER_WORKER_CONCURRENCY",
                span(age),
                span(max_age.as_secs_f64())
            ),
        ),
    };
    Check { name: "queue", verdict, detail }
}

/// A length of time for people: `45 s`, `3 min 20 s`, `2 h 5 min`, `3 d 4 h`.
pub fn span(secs: f64) -> String {
    let secs = secs.max(0.0).round() as u64;
    let (d, h, m, s) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60, secs % 60);
    let pair = |big: u64, big_unit: &str, small: u64, small_unit: &str| {
        if small == 0 { format!("{big} {big_unit}") } else { format!("{big} {big_unit} {small} {small_unit}") }
    };
    if d > 0 {
        pair(d, "d", h, "h")
    } else if h > 0 {
        pair(h, "h", m, "min")
    } else if m > 0 {
        pair(m, "min", s, "s")
    } else {
        format!("{s} s")
    }
}

/// A worker process as the Status page lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkerBeat {
    /// Its unique name (host, pid and a random suffix).
    pub name: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// Its last heartbeat.
    pub last_seen: DateTime<Utc>,
    /// Whether that heartbeat is recent enough for it to count as alive.
    pub alive: bool,
}

/// The registered worker processes, oldest first.
pub async fn workers(pool: &PgPool, stale_after: Duration) -> Result<Vec<WorkerBeat>, DomainError> {
    Ok(sqlx::query_as!(
        WorkerBeat,
        r#"select name, started_at, last_seen, last_seen > now() - make_interval(secs => $1) as "alive!"
           from publish_worker order by started_at, name"#,
        stale_after.as_secs_f64()
    )
    .fetch_all(pool)
    .await?)
}

/// One team's deliveries that are not finished, by where they wait.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TeamQueue {
    /// Due now, not yet claimed (including those of paused accounts).
    pub due: i64,
    /// Due later.
    pub waiting: i64,
    /// Being published.
    pub publishing: i64,
    /// Waiting for an account to be reconnected.
    pub held: i64,
    /// The earliest due time among those due now.
    pub oldest_due_at: Option<DateTime<Utc>>,
    /// The next due time among those due later.
    pub next_due_at: Option<DateTime<Utc>>,
}

/// The team's unfinished deliveries, counted by where they wait.
pub async fn team_queue(pool: &PgPool, team_id: Uuid) -> Result<TeamQueue, DomainError> {
    Ok(sqlx::query_as!(
        TeamQueue,
        r#"select count(*) filter (where state in ('scheduled', 'retrying') and next_attempt_at <= now()) as "due!",
                  count(*) filter (where state in ('scheduled', 'retrying') and next_attempt_at > now()) as "waiting!",
                  count(*) filter (where state = 'publishing') as "publishing!",
                  count(*) filter (where state = 'held') as "held!",
                  min(next_attempt_at) filter (where state in ('scheduled', 'retrying') and next_attempt_at <= now()) as oldest_due_at,
                  min(next_attempt_at) filter (where state in ('scheduled', 'retrying') and next_attempt_at > now()) as next_due_at
           from delivery
           where team_id = $1 and state in ('scheduled', 'retrying', 'publishing', 'held')"#,
        team_id
    )
    .fetch_one(pool)
    .await?)
}

/// An account's budget at one moment.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BudgetNow {
    /// Calls allowed per window (`None`: Crier keeps no budget for this platform).
    pub budget: Option<Budget>,
    /// Calls made in the current window.
    pub used: i32,
    /// When the current window ends and the count starts again (none while no window is open).
    pub resets_at: Option<DateTime<Utc>>,
}

impl BudgetNow {
    /// The budget of an account whose window opened at `window_started_at` with `used` calls
    /// counted, at `now`: a window that has ended counts nothing (the next claim opens a new one),
    /// as the claim itself decides.
    pub fn at(budget: Option<Budget>, window_started_at: Option<DateTime<Utc>>, used: i32, now: DateTime<Utc>) -> BudgetNow {
        let ends = budget.zip(window_started_at).and_then(|(b, start)| start.checked_add_signed(TimeDelta::from_std(b.window).ok()?));
        match ends {
            Some(end) if end > now => BudgetNow { budget, used, resets_at: Some(end) },
            _ => BudgetNow { budget, used: 0, resets_at: None },
        }
    }
}

/// An account as the Status page shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct AccountBudget {
    /// The account.
    pub account: Account,
    /// No call before this moment (a rate limit, or the budget spent); only while in the future.
    pub paused_until: Option<DateTime<Utc>>,
    /// Its posting budget now.
    pub budget: BudgetNow,
    /// Its media upload budget now.
    pub media: BudgetNow,
}

/// The team's connected accounts (as [`accounts::list`] lists them) with their budgets under
/// `operations`' budgets.
pub async fn account_budgets(pool: &PgPool, team_id: Uuid, operations: &Operations) -> Result<Vec<AccountBudget>, DomainError> {
    let listed = accounts::list(pool, team_id).await?;
    let counters = sqlx::query!(
        r#"select account_id, budget_window_started_at, budget_used, media_budget_window_started_at, media_budget_used,
                  paused_until, now() as "now!"
           from platform_account where team_id = $1 and status <> 'disconnected'"#,
        team_id
    )
    .fetch_all(pool)
    .await?;
    Ok(listed
        .into_iter()
        .filter_map(|account| {
            // An account connected between the two reads has no counters yet: left for the next look.
            let c = counters.iter().find(|c| c.account_id == account.account_id)?;
            let platform = account.platform;
            Some(AccountBudget {
                paused_until: c.paused_until.filter(|until| *until > c.now),
                budget: BudgetNow::at(operations.budgets[platform], c.budget_window_started_at, c.budget_used, c.now),
                media: BudgetNow::at(operations.media_budgets[platform], c.media_budget_window_started_at, c.media_budget_used, c.now),
                account,
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_like_people_say_them() {
        assert_eq!(span(0.2), "0 s");
        assert_eq!(span(45.0), "45 s");
        assert_eq!(span(120.0), "2 min");
        assert_eq!(span(200.0), "3 min 20 s");
        assert_eq!(span(7500.0), "2 h 5 min");
        assert_eq!(span(3.0 * 86_400.0 + 4.0 * 3600.0 + 59.0), "3 d 4 h");
        assert_eq!(span(-5.0), "0 s");
    }

    #[test]
    fn a_budget_counts_only_inside_its_window() {
        let now = Utc::now();
        let budget = Some(Budget { limit: 300, window: Duration::from_secs(900) });
        let open = BudgetNow::at(budget, Some(now - TimeDelta::minutes(5)), 12, now);
        assert_eq!((open.used, open.resets_at), (12, Some(now + TimeDelta::minutes(10))));
        let ended = BudgetNow::at(budget, Some(now - TimeDelta::minutes(16)), 12, now);
        assert_eq!((ended.used, ended.resets_at), (0, None), "an ended window counts nothing");
        assert_eq!(BudgetNow::at(budget, None, 0, now).resets_at, None, "no call yet");
        assert_eq!(BudgetNow::at(None, Some(now), 3, now), BudgetNow { budget: None, used: 0, resets_at: None }, "no budget kept");
    }

    fn applied(migrator: &Migrator) -> Vec<AppliedMigration> {
        migrator.iter().map(|m| AppliedMigration { version: m.version, checksum: m.checksum.clone() }).collect()
    }

    #[test]
    fn migrations_are_current_when_every_known_one_is_applied_unchanged() {
        let migrator = &crate::MIGRATOR;
        let all = applied(migrator);
        let check = migration_check(migrator, None, &all);
        assert_eq!(check.verdict, Verdict::Pass, "{check:?}");

        let missing = migration_check(migrator, None, &all[..all.len() - 1]);
        assert_eq!(missing.verdict, Verdict::Fail);
        assert!(missing.detail.starts_with("1 of ") && missing.detail.contains("crier migrate"), "{}", missing.detail);

        let mut changed = all.clone();
        changed[0].checksum = vec![0u8; 48].into();
        assert!(migration_check(migrator, None, &changed).detail.contains("differs"));

        assert!(migration_check(migrator, Some(all[1].version), &all).detail.contains("failed part-way"));

        let mut ahead = all.clone();
        ahead.push(AppliedMigration { version: 99_991_231_000_001, checksum: vec![1u8; 48].into() });
        let ahead = migration_check(migrator, None, &ahead);
        assert_eq!(ahead.verdict, Verdict::Pass, "a database migrated by a later release still serves");
        assert!(ahead.detail.contains("1 newer"), "{}", ahead.detail);
    }

    #[test]
    fn worker_and_queue_checks_say_what_to_do() {
        let limits = ReadinessLimits::default();
        let none = Snapshot::default();
        assert_eq!(worker_check(&none, limits.stale_after).verdict, Verdict::Fail);
        assert!(worker_check(&none, limits.stale_after).detail.contains("crier worker"));
        let stale = Snapshot { last_heartbeat_secs: Some(300.0), ..none };
        assert!(worker_check(&stale, limits.stale_after).detail.contains("seen 5 min ago"));
        let alive = Snapshot { fresh_workers: 2, last_heartbeat_secs: Some(1.0), ..none };
        assert_eq!(worker_check(&alive, limits.stale_after).verdict, Verdict::Pass);

        assert_eq!(queue_check(&none, limits.max_queue_age).verdict, Verdict::Pass);
        let fine = Snapshot { oldest_due_secs: Some(3.0), ..none };
        assert_eq!(queue_check(&fine, limits.max_queue_age).verdict, Verdict::Pass);
        let late = Snapshot { oldest_due_secs: Some(600.0), ..none };
        let late = queue_check(&late, limits.max_queue_age);
        assert_eq!(late.verdict, Verdict::Fail);
        assert!(late.detail.contains("waited 10 min unclaimed (at most 2 min allowed)"), "{}", late.detail);
    }
}
