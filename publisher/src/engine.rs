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
use crier_domain::delivery::DeliveryState;
use crier_domain::store::deliveries::{self, Budgets, Completion, DUE_CHANNEL};
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::mpsc;

use crate::attempt::{self, AccountEffects};
use crate::claim_loop::{self, Pacing, Queue};
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
    /// Crier's own per-account budgets.
    pub budgets: Budgets,
    /// How often the worker says it is alive, and looks for orphaned claims.
    pub heartbeat: Duration,
    /// A worker silent this long is taken for dead and its claims are put back.
    pub stale_after: Duration,
    /// A token expiring within this margin is renewed before the call.
    pub refresh_margin: Duration,
    /// How long in-flight publishes may take to finish after shutdown is asked for.
    pub shutdown_grace: Duration,
    /// The longest an idle worker sleeps without looking (in case a notification was missed).
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
}

/// Publishes until `shutdown` completes, then stops as described in the module documentation.
pub async fn run(
    pool: PgPool,
    accounts: Arc<Accounts>,
    config: PublisherConfig,
    stats: Arc<EngineStats>,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), DomainError> {
    let worker = config.worker.clone();
    deliveries::register_worker(&pool, &worker).await?;
    let mut listener = PgListener::connect_with(&pool).await?;
    listener.listen(DUE_CHANNEL).await?;
    tracing::info!(worker = %worker, concurrency = config.concurrency, "publisher started");

    let ctx = Arc::new(Context { pool: pool.clone(), accounts, config: config.clone(), stats });
    let (done_tx, done_rx) = mpsc::unbounded_channel::<Completion>();
    let writer = tokio::spawn(write_completions(ctx.clone(), done_rx));
    let (rescued_tx, rescued_rx) = mpsc::channel::<()>(1);
    let keeper = tokio::spawn(keep_alive(ctx.clone(), rescued_tx));

    let concurrency = config.concurrency.max(1);
    let pacing = Pacing {
        concurrency,
        batch_size: config.batch_size,
        claim_at: (concurrency / 8).max(1),
        idle_poll: config.idle_poll,
        shutdown_grace: config.shutdown_grace,
    };
    // The queue holds the outcomes' sender: once the loop and its tasks are done, the writer ends.
    claim_loop::run(Arc::new(DeliveryQueue { ctx: ctx.clone(), done: done_tx }), listener, pacing, rescued_rx, shutdown).await;
    let _ = writer.await;
    keeper.abort();
    let released = deliveries::release(&pool, &worker).await?;
    if released > 0 {
        tracing::warn!(worker = %worker, released, "claims put back for a reconciled retry");
    }
    deliveries::unregister_worker(&pool, &worker).await?;
    tracing::info!(worker = %worker, "publisher stopped; nothing claimed");
    Ok(())
}

/// The delivery rows as the claim loop's queue.
struct DeliveryQueue {
    ctx: Arc<Context>,
    done: mpsc::UnboundedSender<Completion>,
}

impl Queue for DeliveryQueue {
    type Item = deliveries::Claimed;
    const WHAT: &'static str = "deliveries";

    async fn claim(&self, limit: usize) -> Result<Vec<deliveries::Claimed>, DomainError> {
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

    async fn handle(self: Arc<Self>, delivery: deliveries::Claimed) {
        let (completion, effects) = attempt::run(&self.ctx, &delivery).await;
        apply_effects(&self.ctx, &delivery, &effects).await;
        let _ = self.done.send(completion);
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

/// The one writer of outcomes: everything waiting goes into one statement.
async fn write_completions(ctx: Arc<Context>, mut done: mpsc::UnboundedReceiver<Completion>) {
    const MOST: usize = 1024;
    let mut batch = Vec::with_capacity(MOST);
    while done.recv_many(&mut batch, MOST).await > 0 {
        let mut wait = Duration::from_millis(100);
        for attempt in 1..=8 {
            match deliveries::complete(&ctx.pool, &ctx.config.worker, &batch).await {
                Ok(applied) => {
                    for c in batch.iter().filter(|c| applied.contains(&c.delivery_id)) {
                        ctx.stats.count(c.state);
                        telemetry::completed(c);
                    }
                    if applied.len() < batch.len() {
                        tracing::warn!(lost = batch.len() - applied.len(), "claims taken over before their outcome was written");
                    }
                    break;
                }
                Err(e) if attempt < 8 => {
                    tracing::warn!(error = %e, attempt, "writing outcomes failed; retrying");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(5));
                }
                Err(e) => {
                    tracing::error!(error = %e, count = batch.len(), "outcomes not written; the claims will be rescued and reconciled")
                }
            }
        }
        batch.clear();
    }
}

/// Heartbeat, rescue of dead workers' claims, and the watchdog.
async fn keep_alive(ctx: Arc<Context>, rescued: mpsc::Sender<()>) {
    let mut every = tokio::time::interval(ctx.config.heartbeat);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        if let Err(e) = deliveries::heartbeat(&ctx.pool, &ctx.config.worker).await {
            tracing::warn!(error = %e, "heartbeat failed");
            continue;
        }
        match deliveries::rescue(&ctx.pool, ctx.config.stale_after).await {
            Ok(0) => {}
            Ok(n) => {
                ctx.stats.rescued.fetch_add(n, Ordering::Relaxed);
                telemetry::rescued(n);
                tracing::warn!(rescued = n, "claims of a stopped worker put back for a reconciled retry");
                let _ = rescued.try_send(());
            }
            Err(e) => tracing::warn!(error = %e, "looking for orphaned claims failed"),
        }
        match deliveries::overdue(&ctx.pool, ctx.config.overdue_after).await {
            Ok(n) => {
                ctx.stats.overdue.store(n, Ordering::Relaxed);
                telemetry::overdue(n);
                if n > 0 {
                    tracing::warn!(overdue = n, "watchdog: deliveries are due and nobody has claimed them");
                }
            }
            Err(e) => tracing::warn!(error = %e, "the watchdog's count failed"),
        }
    }
}
