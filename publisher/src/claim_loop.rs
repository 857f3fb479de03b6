//! The loop both of a worker's queues run (deliveries, and webhook calls): claim a batch whenever
//! enough slots are free, handle each claimed item as its own task, and otherwise sleep until the
//! next item falls due, a transaction notifies the queue's channel, a task finishes, or a rescue
//! put something back. On shutdown, claiming stops and the tasks get a grace period.
//!
//! An idle queue costs one indexed query per idle period (capped by `idle_poll`, in case a
//! notification was missed), nothing per second.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use crier_domain::DomainError;
use sqlx::postgres::PgListener;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

/// A queue the loop drains.
pub(crate) trait Queue: Send + Sync + 'static {
    /// A claimed item.
    type Item: Send + 'static;
    /// What the items are, for the logs ("deliveries", "webhook calls").
    const WHAT: &'static str;
    /// Claims up to `limit` due items (one statement).
    fn claim(&self, limit: usize) -> impl Future<Output = Result<Vec<Self::Item>, DomainError>> + Send;
    /// When the next item falls due, if any is waiting.
    fn next_due(&self) -> impl Future<Output = Result<Option<DateTime<Utc>>, DomainError>> + Send;
    /// Handles one claimed item to the end (its outcome is the queue's to write).
    fn handle(self: Arc<Self>, item: Self::Item) -> impl Future<Output = ()> + Send + 'static;
}

/// How the loop paces itself.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Pacing {
    /// Items handled at once at most.
    pub concurrency: usize,
    /// Items claimed per statement at most.
    pub batch_size: usize,
    /// Claim when this many slots are free (or nothing is running): one statement for many items
    /// rather than one per finished task.
    pub claim_at: usize,
    /// The longest the loop sleeps without looking.
    pub idle_poll: Duration,
    /// How long running tasks may take to finish after shutdown is asked for.
    pub shutdown_grace: Duration,
}

/// Runs `queue` until `shutdown` completes. `listener` listens on the queue's channel; `woken`
/// says a rescue put items back. Answers whether every task finished within the grace period (the
/// others are aborted; their claims are the caller's to put back).
pub(crate) async fn run<Q: Queue>(
    queue: Arc<Q>,
    mut listener: PgListener,
    pacing: Pacing,
    mut woken: mpsc::Receiver<()>,
    shutdown: impl Future<Output = ()> + Send,
) -> bool {
    let concurrency = pacing.concurrency.max(1);
    let slots = Arc::new(Semaphore::new(concurrency));
    let claim_at = pacing.claim_at.clamp(1, concurrency);
    let mut in_flight: JoinSet<()> = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);

    'run: loop {
        let free = slots.available_permits();
        let mut more_due = false;
        if free >= claim_at || (in_flight.is_empty() && free > 0) {
            let want = free.min(pacing.batch_size.max(1));
            match queue.claim(want).await {
                Ok(claimed) => {
                    more_due = claimed.len() == want;
                    for item in claimed {
                        let permit = slots.clone().try_acquire_owned().expect("a slot was counted free");
                        let task = queue.clone().handle(item);
                        in_flight.spawn(async move {
                            task.await;
                            drop(permit);
                        });
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "claiming {} failed; trying again shortly", Q::WHAT);
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
            pacing.idle_poll
        } else {
            match queue.next_due().await {
                Ok(Some(at)) => (at - Utc::now()).to_std().unwrap_or(Duration::ZERO).min(pacing.idle_poll),
                Ok(None) => pacing.idle_poll,
                Err(e) => {
                    tracing::warn!(error = %e, "could not read when the next of the {} is due", Q::WHAT);
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
                    tracing::warn!(error = %e, "the notification channel of the {} failed", Q::WHAT);
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
            _ = tokio::time::sleep(sleep) => {}
            Some(_) = in_flight.join_next(), if !in_flight.is_empty() => {}
            Some(()) = woken.recv() => {}
        }
    }

    tracing::info!(in_flight = in_flight.len(), "no new claims of {}: stopping", Q::WHAT);
    let drained = tokio::time::timeout(pacing.shutdown_grace, async { while in_flight.join_next().await.is_some() {} }).await.is_ok();
    if !drained {
        tracing::warn!(left = in_flight.len(), "{} still running after the grace period; putting them back", Q::WHAT);
        in_flight.abort_all();
        while in_flight.join_next().await.is_some() {}
    }
    drained
}
