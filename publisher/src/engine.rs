//! The worker loop: claim in batches, publish concurrently, complete in batches.
//!
//! - **Claiming.** Whenever enough publishing slots are free, one statement claims up to that many
//!   due deliveries. An idle worker sleeps until the next due time (or an account's pause ends), or
//!   until a transaction that made something due notifies [`DUE_CHANNEL`]; a post due in a month
//!   costs one indexed query per idle period, nothing per second.
//! - **Publishing.** Each claimed delivery runs as its own task, with no transaction open.
//! - **Completing.** Outcomes go through a channel to one writer, which writes everything waiting
//!   in one statement. If the database is unreachable for long, the outcomes are dropped and the
//!   claims are later rescued and reconciled against the platform: nothing is published twice.
//!   (The loop, the writer, start and shutdown are shared with the webhook dispatcher: `queue`.)
//! - **Heartbeat, rescue, watchdog.** The worker says it is alive; any worker puts back the claims
//!   of workers that stopped (kill -9, a lost machine) and reports deliveries nobody claimed.
//! - **Shutdown.** Claiming stops; in-flight publishes get [`PublisherConfig::shutdown_grace`] to
//!   finish; whatever is still claimed after that is put back for a reconciled retry.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use chrono::Utc;
use crier_accounts::Accounts;
use crier_domain::DomainError;
use crier_domain::budget::Counted;
use crier_domain::delivery::DeliveryState;
use crier_domain::store::deliveries::{self, Budgets, Completion, DUE_CHANNEL};
use sqlx::PgPool;

use crate::attempt::{self, AccountEffects};
use crate::media::MediaSettings;
use crate::queue::{self, Queue, Settings};
use crate::telemetry;

/// The engine's defaults, written once: [`PublisherConfig::new`] and the command line's
/// settings (`CRIER_WORKER_*`) both take them from here.
pub mod defaults {
    use std::time::Duration;

    /// Publishes in flight at most.
    pub const CONCURRENCY: usize = 128;
    /// Deliveries claimed per statement at most.
    pub const BATCH_SIZE: usize = 256;
    /// Between a worker's heartbeats.
    pub const HEARTBEAT: Duration = Duration::from_secs(5);
    /// Silence after which a worker is taken for dead and its claims are put back.
    pub const STALE_AFTER: Duration = crier_domain::store::deliveries::DEFAULT_STALE_AFTER;
    /// What in-flight publishes may take to finish after shutdown is asked for.
    pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
}

/// How a worker publishes.
#[derive(Clone, Debug)]
pub struct PublisherConfig {
    /// This process start's unique name (claims carry it).
    pub worker: String,
    /// Publishes in flight at most.
    pub concurrency: usize,
    /// Deliveries claimed per statement at most.
    pub batch_size: usize,
    /// Crier's own per-account budgets of posts.
    pub budgets: Budgets,
    /// Crier's own per-account budgets of media upload calls.
    pub media_budgets: Budgets,
    /// How often the worker says it is alive, and looks for orphaned claims.
    pub heartbeat: Duration,
    /// A worker silent this long is taken for dead and its claims are put back.
    pub stale_after: Duration,
    /// A token expiring within this margin is renewed before the call.
    pub refresh_margin: Duration,
    /// How long in-flight publishes may take to finish after shutdown is asked for.
    pub shutdown_grace: Duration,
    /// The longest an idle worker sleeps without looking (in case a notification was missed); at
    /// most [`deliveries::WAKE_HORIZON`], beyond which deliveries are not notified.
    pub idle_poll: Duration,
    /// The watchdog reports deliveries due longer ago than this and not claimed.
    pub overdue_after: Duration,
}

impl PublisherConfig {
    /// The defaults, for the worker named `worker`.
    pub fn new(worker: impl Into<String>) -> Self {
        PublisherConfig {
            worker: worker.into(),
            concurrency: defaults::CONCURRENCY,
            batch_size: defaults::BATCH_SIZE,
            budgets: Budgets::default(),
            media_budgets: Budgets::defaults(Counted::MediaCalls),
            heartbeat: defaults::HEARTBEAT,
            stale_after: defaults::STALE_AFTER,
            refresh_margin: Duration::from_secs(300),
            shutdown_grace: defaults::SHUTDOWN_GRACE,
            idle_poll: Duration::from_secs(30),
            overdue_after: Duration::from_secs(60),
        }
    }
}

/// Counters for logs, metrics and tests.
#[derive(Debug, Default)]
pub struct EngineStats {
    /// Claim statements run (the loop's passes that looked for due deliveries).
    pub claim_passes: AtomicU64,
    /// Deliveries claimed.
    pub claimed: AtomicU64,
    /// Completions written, by resulting state.
    pub published: AtomicU64,
    /// Dry runs that passed.
    pub dry_run_ok: AtomicU64,
    /// Scheduled for a retry.
    pub retrying: AtomicU64,
    /// Failed for good.
    pub failed: AtomicU64,
    /// Held for re-authorisation.
    pub held: AtomicU64,
    /// Claims of dead workers put back.
    pub rescued: AtomicU64,
    /// The watchdog's last count of overdue, unclaimed deliveries.
    pub overdue: AtomicI64,
}

impl EngineStats {
    fn count(&self, state: DeliveryState) {
        let counter = match state {
            DeliveryState::Published => &self.published,
            DeliveryState::DryRunOk => &self.dry_run_ok,
            DeliveryState::Retrying => &self.retrying,
            DeliveryState::Failed => &self.failed,
            DeliveryState::Held => &self.held,
            _ => return,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// What every publish task shares.
pub struct Context {
    /// The database.
    pub pool: PgPool,
    /// The accounts: their clients, tokens and single-flight refresh.
    pub accounts: Arc<Accounts>,
    /// The configuration.
    pub config: PublisherConfig,
    /// Counters.
    pub stats: Arc<EngineStats>,
    /// Where media is, its rules, and how it is uploaded.
    pub media: MediaSettings,
}

impl Context {
    /// What the engine needs: the database, the accounts service, its configuration, counters,
    /// and media.
    pub fn new(pool: PgPool, accounts: Arc<Accounts>, config: PublisherConfig, stats: Arc<EngineStats>, media: MediaSettings) -> Arc<Self> {
        Arc::new(Context { pool, accounts, config, stats, media })
    }
}

/// Publishes until `shutdown` completes, then stops as described in the module documentation.
pub async fn run(ctx: Arc<Context>, shutdown: impl Future<Output = ()> + Send) -> Result<(), DomainError> {
    let config = &ctx.config;
    let worker = config.worker.clone();
    tracing::info!(worker = %worker, concurrency = config.concurrency, "publisher started");
    let concurrency = config.concurrency.max(1);
    let settings = Settings {
        concurrency,
        batch_size: config.batch_size,
        // A claim's fixed cost is about that of ten claimed rows: wait for a quarter free.
        claim_at: (concurrency / 4).max(1),
        // Deliveries due beyond the horizon are not notified: a longer sleep could miss them.
        idle_poll: config.idle_poll.min(deliveries::WAKE_HORIZON),
        shutdown_grace: config.shutdown_grace,
        care_every: config.heartbeat,
    };
    match queue::run(Arc::new(DeliveryQueue { ctx: ctx.clone() }), settings, shutdown).await {
        queue::Ended::Cleanly => match deliveries::unregister_worker(&ctx.pool, &worker).await {
            Ok(()) => tracing::info!(worker = %worker, "publisher stopped; nothing claimed"),
            // Nothing is claimed; the registration only goes stale.
            Err(e) => tracing::warn!(worker = %worker, error = %e, "publisher stopped; nothing claimed, but it could not unregister"),
        },
        // Its registration goes stale like a killed worker's, and its claims are rescued.
        queue::Ended::DatabaseAway => {
            tracing::info!(worker = %worker, "publisher stopped without PostgreSQL; its claims are rescued later")
        }
    }
    Ok(())
}

/// One step of the engine, for tests that drive it rather than wait on it: claims what is due
/// (a batch at most), publishes it, writes the outcomes, and answers them.
pub async fn step(ctx: &Arc<Context>) -> Result<Vec<Completion>, DomainError> {
    queue::step(Arc::new(DeliveryQueue { ctx: ctx.clone() }), ctx.config.batch_size).await
}

/// The delivery rows as a queue.
struct DeliveryQueue {
    ctx: Arc<Context>,
}

impl Queue for DeliveryQueue {
    type Item = deliveries::Claimed;
    type Outcome = Completion;
    const WHAT: &'static str = "deliveries";
    const CHANNEL: &'static str = DUE_CHANNEL;
    const WRITE_BATCH: usize = 1024;
    // 40 outcomes a statement at 2,000 deliveries a second instead of 10 (BENCHMARKS.md, "CPU per
    // delivery"); the slots are free as soon as the platform answered, so nothing waits on it.
    const WRITE_EVERY: Duration = Duration::from_millis(20);

    fn pool(&self) -> &PgPool {
        &self.ctx.pool
    }

    async fn start(&self) -> Result<(), DomainError> {
        deliveries::register_worker(&self.ctx.pool, &self.ctx.config.worker).await
    }

    async fn claim(&self, limit: usize) -> Result<Vec<deliveries::Claimed>, DomainError> {
        self.ctx.stats.claim_passes.fetch_add(1, Ordering::Relaxed);
        let config = &self.ctx.config;
        let claimed = deliveries::claim(&self.ctx.pool, &config.worker, limit as i64, &config.budgets).await?;
        self.ctx.stats.claimed.fetch_add(claimed.len() as u64, Ordering::Relaxed);
        // Schedule lag: how long after its due time each delivery was taken.
        let now = Utc::now();
        for delivery in &claimed {
            telemetry::claimed(delivery.platform, (now - delivery.due_at).to_std().unwrap_or_default());
        }
        Ok(claimed)
    }

    async fn next_due(&self) -> Result<Option<chrono::DateTime<Utc>>, DomainError> {
        deliveries::next_wake(&self.ctx.pool).await
    }

    fn due_of(payload: &str) -> Option<chrono::DateTime<Utc>> {
        deliveries::due_of(payload)
    }

    async fn handle(self: Arc<Self>, delivery: deliveries::Claimed) -> Completion {
        let (completion, effects) = attempt::run(&self.ctx, &delivery).await;
        apply_effects(&self.ctx, &delivery, &effects).await;
        completion
    }

    async fn write(&self, batch: &[Completion]) -> Result<usize, DomainError> {
        let applied = deliveries::complete(&self.ctx.pool, &self.ctx.config.worker, batch).await?;
        for c in batch.iter().filter(|c| applied.contains(&c.delivery_id)) {
            self.ctx.stats.count(c.state);
            telemetry::completed(c);
        }
        Ok(applied.len())
    }

    /// Heartbeat, rescue of dead workers' claims, and the watchdog.
    async fn look_after(&self, _tick: u64) -> Result<bool, DomainError> {
        let ctx = &self.ctx;
        deliveries::heartbeat(&ctx.pool, &ctx.config.worker).await?;
        let rescued = deliveries::rescue(&ctx.pool, ctx.config.stale_after).await?;
        if rescued > 0 {
            ctx.stats.rescued.fetch_add(rescued, Ordering::Relaxed);
            telemetry::rescued(rescued);
            tracing::warn!(rescued, "claims of a stopped worker put back for a reconciled retry");
        }
        let overdue = deliveries::overdue(&ctx.pool, ctx.config.overdue_after).await?;
        ctx.stats.overdue.store(overdue, Ordering::Relaxed);
        telemetry::overdue(overdue);
        if overdue > 0 {
            tracing::warn!(overdue, "watchdog: deliveries are due and nobody has claimed them");
        }
        Ok(rescued > 0)
    }

    async fn release(&self) -> Result<u64, DomainError> {
        deliveries::release(&self.ctx.pool, &self.ctx.config.worker).await
    }
}

async fn apply_effects(ctx: &Context, delivery: &deliveries::Claimed, effects: &AccountEffects) {
    if let Some(until) = effects.pause_until
        && until > Utc::now()
    {
        if let Err(e) = deliveries::pause_account(&ctx.pool, delivery.team_id, delivery.account_id, until).await {
            tracing::warn!(error = %e, account_id = %delivery.account_id, "could not pause the account");
        } else {
            telemetry::paused(delivery.platform);
            tracing::info!(account_id = %delivery.account_id, %until, "account paused until its rate limit resets");
        }
    }
    if let Some(reason) = &effects.needs_reauth {
        match deliveries::hold_account(&ctx.pool, delivery.team_id, delivery.account_id, reason).await {
            Ok(_) => tracing::warn!(account_id = %delivery.account_id, "account needs re-authorising; its deliveries are held"),
            Err(e) => tracing::error!(error = %e, account_id = %delivery.account_id, "could not hold the account"),
        }
    }
}
