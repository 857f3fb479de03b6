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
use crier_domain::DomainError;
use crier_domain::delivery::DeliveryState;
use crier_domain::store::deliveries::{self, Budgets, Completion, DUE_CHANNEL};
use crier_vault::Vault;
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

use crate::attempt::{self, AccountEffects};
use crate::refresh::Refresher;
use crate::{Clients, telemetry};

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
            concurrency: 128,
            batch_size: 256,
            budgets: Budgets::default(),
            heartbeat: Duration::from_secs(5),
            stale_after: Duration::from_secs(30),
            refresh_margin: Duration::from_secs(300),
            shutdown_grace: Duration::from_secs(30),
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
    /// Opens and seals tokens.
    pub vault: Arc<Vault>,
    /// The platform clients.
    pub clients: Arc<Clients>,
    /// The configuration.
    pub config: PublisherConfig,
    /// Single-flight token refresh.
    pub refresher: Refresher,
    /// Counters.
    pub stats: Arc<EngineStats>,
}

/// Publishes until `shutdown` completes, then stops as described in the module documentation.
pub async fn run(
    pool: PgPool,
    vault: Arc<Vault>,
    clients: Arc<Clients>,
    config: PublisherConfig,
    stats: Arc<EngineStats>,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), DomainError> {
    let worker = config.worker.clone();
    deliveries::register_worker(&pool, &worker).await?;
    let mut listener = PgListener::connect_with(&pool).await?;
    listener.listen(DUE_CHANNEL).await?;
    tracing::info!(worker = %worker, concurrency = config.concurrency, "publisher started");

    let ctx = Arc::new(Context { pool: pool.clone(), vault, clients, config: config.clone(), refresher: Refresher::default(), stats });
    let (done_tx, done_rx) = mpsc::unbounded_channel::<Completion>();
    let writer = tokio::spawn(write_completions(ctx.clone(), done_rx));
    let (rescued_tx, mut rescued_rx) = mpsc::channel::<()>(1);
    let keeper = tokio::spawn(keep_alive(ctx.clone(), rescued_tx));

    let concurrency = config.concurrency.max(1);
    let slots = Arc::new(Semaphore::new(concurrency));
    // Claim when this many slots are free (or nothing is in flight): one statement for many
    // deliveries rather than one per finished call.
    let claim_at = (concurrency / 8).max(1);
    let mut in_flight: JoinSet<()> = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);

    'run: loop {
        let free = slots.available_permits();
        let mut more_due = false;
        if free >= claim_at || (in_flight.is_empty() && free > 0) {
            let want = free.min(config.batch_size.max(1));
            match deliveries::claim(&pool, &worker, want as i64, &config.budgets).await {
                Ok(claimed) => {
                    more_due = claimed.len() == want;
                    ctx.stats.claimed.fetch_add(claimed.len() as u64, Ordering::Relaxed);
                    let now = Utc::now();
                    for delivery in claimed {
                        telemetry::claimed(delivery.platform, (now - delivery.due_at).to_std().unwrap_or_default());
                        let permit = slots.clone().try_acquire_owned().expect("a slot was counted free");
                        let (ctx, done) = (ctx.clone(), done_tx.clone());
                        in_flight.spawn(async move {
                            let (completion, effects) = attempt::run(&ctx, &delivery).await;
                            apply_effects(&ctx, &delivery, &effects).await;
                            let _ = done.send(completion);
                            drop(permit);
                        });
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "claiming deliveries failed; trying again shortly");
                    tokio::select! {
                        _ = &mut shutdown => break 'run,
                        _ = tokio::time::sleep(Duration::from_secs(1)) => continue 'run,
                    }
                }
            }
        }
        // Reap finished tasks without waiting.
        while in_flight.try_join_next().is_some() {}
        if more_due && slots.available_permits() >= claim_at {
            continue;
        }
        let sleep = if slots.available_permits() == 0 || more_due {
            config.idle_poll
        } else {
            match deliveries::next_wake(&pool).await {
                Ok(Some(at)) => (at - Utc::now()).to_std().unwrap_or(Duration::ZERO).min(config.idle_poll),
                Ok(None) => config.idle_poll,
                Err(e) => {
                    tracing::warn!(error = %e, "could not read the next due time");
                    Duration::from_secs(1)
                }
            }
        };
        if sleep.is_zero() && slots.available_permits() > 0 {
            continue;
        }
        tokio::select! {
            _ = &mut shutdown => break 'run,
            notification = listener.recv() => {
                if let Err(e) = notification {
                    // PgListener reconnects on the next recv; the timer covers what was missed.
                    tracing::warn!(error = %e, "the due-delivery notification channel failed");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
            _ = tokio::time::sleep(sleep) => {}
            Some(_) = in_flight.join_next(), if !in_flight.is_empty() => {}
            Some(()) = rescued_rx.recv() => {}
        }
    }

    tracing::info!(worker = %worker, in_flight = in_flight.len(), "publisher stopping: no new claims");
    let drained = tokio::time::timeout(config.shutdown_grace, async { while in_flight.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        tracing::warn!(worker = %worker, left = in_flight.len(), "publishes still running after the grace period; putting them back");
        in_flight.abort_all();
        while in_flight.join_next().await.is_some() {}
    }
    drop(done_tx);
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
