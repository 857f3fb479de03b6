//! The worker pool: the publishing engine (crier-publisher, which claims due deliveries from the
//! delivery table in batches), the webhook dispatcher beside it (crier-publisher's `webhooks`,
//! which sends the calls the audit trail queues), and apalis on Postgres for the periodic
//! housekeeping (pruning expired sessions, old login failures and OAuth attempts, and resumable
//! uploads past their expiry with their chunks in the media store). All stop on the same signal.
//!
//! Each process start gets a unique worker name: apalis registers workers by name under an
//! advisory lock, and a restarted process reusing its old name would refresh the old
//! registration's heartbeat and strand the jobs it held. For the same reason each restart of the
//! housekeeping worker within a process gets a name of its own.
//!
//! While PostgreSQL is away every loop here backs off and logs only when its state changes
//! (`crier_domain::outage`), like the publishing engine's. apalis' monitor would restart a failed
//! worker at once, and a worker started without a database fails at once: restarted inside one
//! poll, that spun a core and logged thousands of lines a second, and the spinning task never
//! saw the shutdown signal. So the monitor restarts nothing here: `supervise_housekeeping`
//! runs one worker at a time, and after a failure waits (with backoff) until the database
//! answers before it starts the next.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use apalis::prelude::{BackendExt, BoxDynError, Data, Monitor, TaskBuilder, TaskSink, TaskSinkError, WorkerBuilder, WorkerBuilderExt};
use apalis_postgres::{Config as QueueConfig, PostgresStorage};
use crier_accounts::Accounts;
use crier_domain::outage::Outage;
use crier_domain::store::{housekeeping, retention, status};
use crier_media::storage::MediaStore;
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
/// How long a (re)started housekeeping worker must run before it counts as working again: a
/// worker that fails sooner keeps the backoff growing rather than starting it over. Longer than
/// its first poll and heartbeat, which is when a broken start shows.
pub const HOUSEKEEPING_SETTLES_AFTER: Duration = Duration::from_secs(20);

/// What the retention pruner deletes per statement: the attempts of this many deliveries, or this
/// many audit records. Small enough that publishing's statements never wait long behind one
/// (measured in BENCHMARKS.md, "Retention").
pub const RETENTION_BATCH: i64 = 2_000;

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

async fn run_housekeeping(job: Housekeeping, pool: Data<PgPool>, store: Data<MediaStore>) -> Result<(), BoxDynError> {
    let pruned = housekeeping::prune(&pool).await?;
    let expiring = housekeeping::warn_expiring(&pool).await?;
    let uploads = crate::resumable::sweep(&store, &pool).await?;
    let history = retention::prune(&pool, RETENTION_BATCH).await?;
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
        verification_failures = pruned.verification_failures,
        oauth_connections = pruned.oauth_connections,
        idempotency_keys = pruned.idempotency_keys,
        expiring,
        uploads,
        old_jobs,
        attempts_pruned = history.attempts,
        audit_records_pruned = history.audit_records,
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

/// Sleeps for `wait`, unless the stop signal comes first: answers whether it came.
async fn pause_or_stop(wait: Duration, stop: &mut tokio::sync::watch::Receiver<bool>) -> bool {
    tokio::select! {
        _ = stop.wait_for(|stop| *stop) => true,
        () = tokio::time::sleep(wait) => false,
    }
}

/// Enqueues the pass of the current window every [`HOUSEKEEPING_EVERY`] until the stop signal;
/// while the database does not answer, retries with backoff instead of waiting for the next window.
async fn schedule_housekeeping(pool: PgPool, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut scheduling = Outage::new("scheduling the housekeeping pass");
    loop {
        let wait = match enqueue_housekeeping(&pool).await {
            Ok(()) => {
                scheduling.ok();
                HOUSEKEEPING_EVERY
            }
            Err(e) => scheduling.failed(&e),
        };
        if pause_or_stop(wait, &mut stop).await {
            return;
        }
    }
}

/// Runs the housekeeping worker until the stop signal: one apalis worker at a time, never
/// restarted by the monitor (see the module documentation). When one stops by itself (its
/// database went away), the failure is logged once, and the next is started once the database
/// answers again, probed with backoff.
async fn supervise_housekeeping(
    pool: PgPool,
    store: MediaStore,
    name: String,
    shutdown_grace: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let mut outage = Outage::new("the housekeeping worker");
    for run in 0usize.. {
        if run > 0 {
            loop {
                match status::database_answers(&pool).await {
                    Ok(()) => break,
                    Err(e) => {
                        if pause_or_stop(outage.failed(&e), &mut stop).await {
                            return Ok(());
                        }
                    }
                }
            }
        }
        let failure: Arc<Mutex<Option<String>>> = Arc::default();
        let (worker_pool, worker_store) = (pool.clone(), store.clone());
        let worker_name = format!("{name}-housekeeping-{run}");
        let monitor = Monitor::new()
            .register(move |_| {
                let backend = PostgresStorage::<Housekeeping>::new(&worker_pool)
                    .with_config(queue_config())
                    .with_pubsub()
                    // Jobs due later send no notification; this catches them within seconds.
                    .poll_with_interval(Duration::from_secs(5));
                WorkerBuilder::new(worker_name.clone())
                    .backend(backend)
                    .data(worker_pool.clone())
                    .data(worker_store.clone())
                    .concurrency(1)
                    .build(run_housekeeping)
            })
            .should_restart({
                let failure = failure.clone();
                move |_ctx, error| {
                    *failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(error.to_string());
                    false
                }
            })
            .shutdown_timeout(shutdown_grace);
        let signal = crate::stopped(stop.clone());
        let mut running = std::pin::pin!(monitor.run_with_signal(async move {
            signal.await;
            Ok::<(), std::io::Error>(())
        }));
        let settles = tokio::time::sleep(HOUSEKEEPING_SETTLES_AFTER);
        let mut settles = std::pin::pin!(settles);
        let mut settled = false;
        let started = Instant::now();
        let result = loop {
            tokio::select! {
                result = &mut running => break result,
                () = &mut settles, if !settled => {
                    settled = true;
                    outage.ok();
                }
            }
        };
        if *stop.borrow() {
            return result.map_err(|e| anyhow::anyhow!("{e}"));
        }
        // With a terminator, the monitor answers Ok even when its worker failed: the reason
        // comes from the restart callback.
        let failure = failure.lock().unwrap_or_else(|p| p.into_inner()).take();
        let why = match (failure, result) {
            (Some(failure), _) => failure,
            (None, Err(e)) => e.to_string(),
            (None, Ok(())) => format!("it stopped after {} s", started.elapsed().as_secs()),
        };
        if pause_or_stop(outage.failed(&why), &mut stop).await {
            return Ok(());
        }
    }
    Ok(())
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

/// Runs the worker pool until `shutdown` completes: the publishing engine, the first comment
/// sender, the webhook dispatcher and the housekeeping queue. In-flight publishes and webhook calls get the configured grace
/// period, and so does a housekeeping pass in progress.
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
    // The engine uploads media from the store; housekeeping deletes expired uploads' chunks in it.
    let store = MediaStore::open(&settings.media.store).context("CRIER_MEDIA_STORE")?;
    tracing::info!(worker = %name, concurrency = config.concurrency, "worker pool starting");

    // One signal, two listeners.
    let stop_rx = crate::fan_out(shutdown);
    let stopped = crate::stopped;

    let scheduler = schedule_housekeeping(pool.clone(), stop_rx.clone());
    let housekeeping = supervise_housekeeping(pool.clone(), store.clone(), name.clone(), settings.shutdown_grace, stop_rx.clone());

    let stats = Arc::new(EngineStats::default());
    let dispatching = crier_publisher::webhooks::run(pool.clone(), vault.clone(), webhooks, stopped(stop_rx.clone()));
    let first_comments = crier_publisher::first_comments::FirstCommentConfig {
        stale_after: settings.stale_after,
        shutdown_grace: settings.shutdown_grace,
        refresh_margin: config.refresh_margin,
        ..crier_publisher::first_comments::FirstCommentConfig::new(name.clone())
    };
    let commenting = crier_publisher::first_comments::run(pool.clone(), accounts.clone(), first_comments, stopped(stop_rx.clone()));
    let media = crier_publisher::MediaSettings {
        store,
        rules: crier_domain::post::MediaRules(settings.media.limits.clone()),
        upload: crier_clients::UploadOptions::default(),
        links: Arc::new(crier_domain::media_link::MediaLinks::new(&vault)),
        public_base: settings.public_base.clone(),
        upload_memory: crier_publisher::UploadMemory::new(crier_publisher::DEFAULT_UPLOAD_MEMORY),
        facebook_video: settings.media.facebook_video,
    };
    let publishing = crier_publisher::run(crier_publisher::Context::new(pool, accounts, config, stats, media), stopped(stop_rx));
    let ((), housekeeping_result, publishing_result, dispatching_result, ()) =
        tokio::join!(scheduler, housekeeping, publishing, dispatching, commenting);
    tracing::info!("worker pool stopped");
    housekeeping_result.map_err(|e| anyhow::anyhow!("the housekeeping queue failed: {e}"))?;
    dispatching_result.map_err(|e| anyhow::anyhow!("the webhook dispatcher failed: {e}"))?;
    publishing_result.map_err(|e| anyhow::anyhow!("the publishing engine failed: {e}"))
}
