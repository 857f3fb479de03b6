//! The worker pool: the publishing engine (crier-publisher, which claims due deliveries from the
//! delivery table in batches), the webhook dispatcher beside it (crier-publisher's `webhooks`,
//! which sends the calls the audit trail queues), and apalis on Postgres for the periodic
//! housekeeping (pruning expired sessions, old login failures and OAuth attempts). All stop on the
//! same signal.
//!
//! Each process start gets a unique worker name: apalis registers workers by name under an
//! advisory lock, and a restarted process reusing its old name would refresh the old
//! registration's heartbeat and strand the jobs it held.

use std::sync::Arc;
use std::time::Duration;

use apalis::prelude::{BackendExt, BoxDynError, Data, Monitor, TaskBuilder, TaskSink, TaskSinkError, WorkerBuilder, WorkerBuilderExt};
use apalis_postgres::{Config as QueueConfig, PostgresStorage};
use crier_accounts::Accounts;
use crier_domain::store::housekeeping;
use crier_publisher::EngineStats;
use crier_vault::Vault;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;

use crate::config::WorkerConfig;

/// The housekeeping queue's name in `apalis.jobs.job_type`.
pub const HOUSEKEEPING_QUEUE: &str = "crier::housekeeping";
/// How often workers heartbeat; a worker silent for [`MISSED_HEARTBEATS`] of these is presumed
/// dead and its jobs are handed to others.
pub const HEARTBEAT: Duration = Duration::from_secs(15);
/// See [`HEARTBEAT`].
pub const MISSED_HEARTBEATS: usize = 4;
/// How often a housekeeping pass is due.
pub const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(300);
/// How long a stopping worker may take to finish the jobs it holds.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// One housekeeping pass, identified by its time window so that every worker process may
/// enqueue "the pass for this window" and only one is stored (idempotency key).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Housekeeping {
    /// The window's number: unix seconds / HOUSEKEEPING_EVERY.
    pub window: u64,
}

fn queue_config() -> QueueConfig {
    QueueConfig::default().queue(HOUSEKEEPING_QUEUE).heartbeat_interval(HEARTBEAT).missed_heartbeats(MISSED_HEARTBEATS)
}

async fn run_housekeeping(job: Housekeeping, pool: Data<PgPool>) -> Result<(), BoxDynError> {
    let pruned = housekeeping::prune(&pool).await?;
    // Finished passes are only history; keep a day of them.
    let old_jobs = sqlx::query("delete from apalis.jobs where job_type = $1 and status = 'Done' and done_at < now() - interval '1 day'")
        .bind(HOUSEKEEPING_QUEUE)
        .execute(&*pool)
        .await?
        .rows_affected();
    tracing::info!(
        window = job.window,
        sessions = pruned.sessions,
        login_failures = pruned.login_failures,
        oauth_connections = pruned.oauth_connections,
        idempotency_keys = pruned.idempotency_keys,
        old_jobs,
        "housekeeping done"
    );
    Ok(())
}

/// A name no other process start has used: host, pid and a random suffix.
pub fn unique_worker_name(role: &str) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_owned()).unwrap_or_else(|_| "host".into());
    let mut random = [0u8; 4];
    let _ = getrandom::fill(&mut random);
    format!("crier-{role}-{host}-{}-{:08x}", std::process::id(), u32::from_be_bytes(random))
}

/// Enqueues the housekeeping pass of the current window unless some process already did.
pub async fn enqueue_housekeeping(pool: &PgPool) -> anyhow::Result<()> {
    let window = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs() / HOUSEKEEPING_EVERY.as_secs();
    let mut storage = PostgresStorage::<Housekeeping>::new(pool).with_config(queue_config());
    let task = TaskBuilder::new(Housekeeping { window }).idempotency_key(format!("housekeeping-{window}")).max_attempts(3).build();
    match storage.push_task(task).await {
        Ok(()) => Ok(()),
        Err(TaskSinkError::PushError(apalis_postgres::Error::Database(sqlx::Error::Database(db)))) if db.is_unique_violation() => Ok(()),
        Err(e) => Err(anyhow::anyhow!("could not enqueue housekeeping: {e}")),
    }
}

/// Runs the worker pool until `shutdown` completes: the publishing engine, the webhook dispatcher
/// and the housekeeping queue. In-flight publishes and webhook calls get the configured grace
/// period; held housekeeping jobs [`SHUTDOWN_GRACE`].
pub async fn run(
    pool: PgPool,
    vault: Arc<Vault>,
    accounts: Arc<Accounts>,
    settings: WorkerConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let name = unique_worker_name("worker");
    let config = settings.publisher(&name);
    let webhooks = settings.webhooks(&name);
    tracing::info!(worker = %name, concurrency = config.concurrency, "worker pool starting");

    // One signal, two listeners.
    let stop_rx = crate::fan_out(shutdown);
    let stopped = crate::stopped;

    let scheduler_pool = pool.clone();
    let scheduler = tokio::spawn(async move {
        let mut every = tokio::time::interval(HOUSEKEEPING_EVERY);
        loop {
            every.tick().await;
            if let Err(e) = enqueue_housekeeping(&scheduler_pool).await {
                tracing::warn!(error = %e, "housekeeping not scheduled this time");
            }
        }
    });

    let housekeeping_pool = pool.clone();
    let monitor = Monitor::new()
        .register(move |restarts: usize| {
            let backend = PostgresStorage::<Housekeeping>::new(&housekeeping_pool)
                .with_config(queue_config())
                .with_pubsub()
                // Jobs due later send no notification; this catches them within seconds.
                .poll_with_interval(Duration::from_secs(5));
            WorkerBuilder::new(format!("{name}-housekeeping-{restarts}"))
                .backend(backend)
                .data(housekeeping_pool.clone())
                .concurrency(1)
                .build(run_housekeeping)
        })
        .should_restart(|_ctx, error| {
            tracing::error!(%error, "a worker stopped; restarting it");
            true
        })
        .shutdown_timeout(SHUTDOWN_GRACE);
    let housekeeping_stop = stopped(stop_rx.clone());
    let housekeeping = monitor.run_with_signal(async move {
        housekeeping_stop.await;
        Ok::<(), std::io::Error>(())
    });

    let stats = Arc::new(EngineStats::default());
    let dispatching = crier_publisher::webhooks::run(pool.clone(), vault.clone(), webhooks, stopped(stop_rx.clone()));
    let publishing = crier_publisher::run(crier_publisher::Context::new(pool, accounts, config, stats), stopped(stop_rx));
    let (housekeeping_result, publishing_result, dispatching_result) = tokio::join!(housekeeping, publishing, dispatching);
    scheduler.abort();
    tracing::info!("worker pool stopped");
    housekeeping_result.map_err(|e| anyhow::anyhow!("the housekeeping queue failed: {e}"))?;
    dispatching_result.map_err(|e| anyhow::anyhow!("the webhook dispatcher failed: {e}"))?;
    publishing_result.map_err(|e| anyhow::anyhow!("the publishing engine failed: {e}"))
}
