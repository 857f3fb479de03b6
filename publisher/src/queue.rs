//! What both of a worker's queues (deliveries, and webhook calls) share: the claim loop, the one
//! writer of outcomes, the periodic care (heartbeats, rescue, pruning), start and shutdown, and a
//! single step for tests.
//!
//! - **Claiming.** Whenever enough slots are free, one statement claims a batch; each item is
//!   handled as its own task with no transaction open. An idle queue sleeps until the next item
//!   falls due, a transaction notifies the queue's channel, a task finishes, or a rescue put
//!   something back: one indexed query per idle period (capped by `idle_poll`, in case a
//!   notification was missed), nothing per second.
//! - **Writing.** Outcomes go through a channel to one writer, which writes everything waiting in
//!   one statement, retrying with backoff. Outcomes it cannot write are dropped: their claims are
//!   later rescued, and whatever was unknown is settled before anything is done again.
//! - **PostgreSQL away.** Every database call that fails backs off (doubling, at most
//!   [`MAX_BACKOFF`]); a failure is logged when it starts, with a reminder at most once a minute,
//!   and when the database answers again ([`Outage`]). Shutdown is honoured throughout.
//! - **Shutdown.** Claiming stops; running tasks get the grace period; the writer drains; whatever
//!   is still claimed is put back.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use crier_domain::DomainError;
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

/// The longest wait between tries while the database does not answer.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// How often an ongoing outage is logged again.
const REMINDER_EVERY: Duration = Duration::from_secs(60);

/// A queue a worker drains.
pub(crate) trait Queue: Send + Sync + 'static {
    /// A claimed item.
    type Item: Send + 'static;
    /// What handling an item came to, for the writer.
    type Outcome: Send + 'static;
    /// What the items are, for the logs ("deliveries", "webhook calls").
    const WHAT: &'static str;
    /// The channel a transaction that makes items due notifies.
    const CHANNEL: &'static str;
    /// Outcomes written per statement at most.
    const WRITE_BATCH: usize;

    /// The database.
    fn pool(&self) -> &PgPool;
    /// Before the first claim (a worker registers itself, so its claims are not taken for orphans).
    fn start(&self) -> impl Future<Output = Result<(), DomainError>> + Send;
    /// Claims up to `limit` due items (one statement).
    fn claim(&self, limit: usize) -> impl Future<Output = Result<Vec<Self::Item>, DomainError>> + Send;
    /// When the next item falls due, if any is waiting.
    fn next_due(&self) -> impl Future<Output = Result<Option<DateTime<Utc>>, DomainError>> + Send;
    /// Handles one claimed item to the end, with no transaction open.
    fn handle(self: Arc<Self>, item: Self::Item) -> impl Future<Output = Self::Outcome> + Send + 'static;
    /// Writes finished items' outcomes in one statement; answers how many applied (a claim that was
    /// rescued meanwhile is no longer this worker's to finish).
    fn write(&self, outcomes: &[Self::Outcome]) -> impl Future<Output = Result<usize, DomainError>> + Send;
    /// Periodic care, every [`Settings::care_every`] (`tick` counts from 0): heartbeat, rescue of
    /// stopped workers' claims, pruning. Answers whether items were put back (the loop then
    /// looks at once).
    fn look_after(&self, tick: u64) -> impl Future<Output = Result<bool, DomainError>> + Send;
    /// After the last outcome: puts back whatever this worker still holds; answers how many.
    fn release(&self) -> impl Future<Output = Result<u64, DomainError>> + Send;
}

/// How the loop paces itself.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Settings {
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
    /// How often [`Queue::look_after`] runs.
    pub care_every: Duration,
}

/// Logs a failing dependency once when it starts failing, at most once a minute while it goes on,
/// and once when it recovers; and says how long to wait before the next try (doubling from one
/// second up to [`MAX_BACKOFF`]).
#[derive(Debug)]
pub(crate) struct Outage {
    what: String,
    since: Option<Instant>,
    reminded: Option<Instant>,
    wait: Duration,
}

impl Outage {
    /// A tracker for `what` ("claiming deliveries").
    pub(crate) fn new(what: impl Into<String>) -> Self {
        Outage { what: what.into(), since: None, reminded: None, wait: Duration::ZERO }
    }

    /// A try failed with `error`: logs if due, and answers how long to wait before the next.
    pub(crate) fn failed(&mut self, error: &DomainError) -> Duration {
        let now = Instant::now();
        match self.since {
            None => {
                tracing::warn!(error = %error, "{} failed; retrying with backoff until it works again", self.what);
                self.since = Some(now);
                self.reminded = Some(now);
            }
            Some(since) if self.reminded.is_none_or(|at| now.duration_since(at) >= REMINDER_EVERY) => {
                tracing::warn!(error = %error, failing_for_secs = now.duration_since(since).as_secs(), "{} still fails", self.what);
                self.reminded = Some(now);
            }
            Some(_) => {}
        }
        self.wait = (self.wait * 2).clamp(Duration::from_secs(1), MAX_BACKOFF);
        self.wait
    }

    /// A try worked: logs the recovery if there was an outage.
    pub(crate) fn ok(&mut self) {
        if let Some(since) = self.since.take() {
            tracing::info!(failed_for_secs = since.elapsed().as_secs(), "{} works again", self.what);
        }
        self.reminded = None;
        self.wait = Duration::ZERO;
    }
}

/// Runs `queue` until `shutdown` completes, then stops as the module documentation says.
pub(crate) async fn run<Q: Queue>(queue: Arc<Q>, settings: Settings, shutdown: impl Future<Output = ()> + Send) -> Result<(), DomainError> {
    queue.start().await?;
    let mut listener = PgListener::connect_with(queue.pool()).await?;
    listener.listen(Q::CHANNEL).await?;
    let (done_tx, done_rx) = mpsc::unbounded_channel::<Q::Outcome>();
    let writer = tokio::spawn(write_outcomes(queue.clone(), done_rx));
    let (woken_tx, woken_rx) = mpsc::channel::<()>(1);
    let keeper = tokio::spawn(look_after(queue.clone(), settings.care_every, woken_tx));

    claim_loop(queue.clone(), listener, settings, done_tx, woken_rx, shutdown).await;
    // The loop dropped the last sender with its tasks: the writer ends once it has written the rest.
    let _ = writer.await;
    keeper.abort();
    let released = queue.release().await?;
    if released > 0 {
        tracing::warn!(released, "{} still claimed at shutdown put back for a retry", Q::WHAT);
    }
    Ok(())
}

/// One step, for tests that drive a queue instead of waiting on a running one: claims up to
/// `limit` due items, handles them all concurrently, writes their outcomes in one statement and
/// answers them.
pub(crate) async fn step<Q: Queue>(queue: Arc<Q>, limit: usize) -> Result<Vec<Q::Outcome>, DomainError> {
    queue.start().await?;
    let mut running = JoinSet::new();
    for item in queue.claim(limit).await? {
        running.spawn(queue.clone().handle(item));
    }
    let mut outcomes = Vec::with_capacity(running.len());
    while let Some(outcome) = running.join_next().await {
        outcomes.push(outcome.map_err(|e| DomainError::Internal(format!("a {} task failed: {e}", Q::WHAT)))?);
    }
    queue.write(&outcomes).await?;
    Ok(outcomes)
}

async fn claim_loop<Q: Queue>(
    queue: Arc<Q>,
    mut listener: PgListener,
    settings: Settings,
    done: mpsc::UnboundedSender<Q::Outcome>,
    mut woken: mpsc::Receiver<()>,
    shutdown: impl Future<Output = ()> + Send,
) {
    let concurrency = settings.concurrency.max(1);
    let slots = Arc::new(Semaphore::new(concurrency));
    let claim_at = settings.claim_at.clamp(1, concurrency);
    let mut in_flight: JoinSet<()> = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    let mut claiming = Outage::new(format!("claiming {}", Q::WHAT));
    let mut looking = Outage::new(format!("reading when the next of the {} is due", Q::WHAT));
    let mut listening = Outage::new(format!("the notification channel of the {}", Q::WHAT));

    'run: loop {
        let free = slots.available_permits();
        let mut more_due = false;
        if free >= claim_at || (in_flight.is_empty() && free > 0) {
            let want = free.min(settings.batch_size.max(1));
            match queue.claim(want).await {
                Ok(claimed) => {
                    claiming.ok();
                    more_due = claimed.len() == want;
                    for item in claimed {
                        let permit = slots.clone().try_acquire_owned().expect("a slot was counted free");
                        let (task, done) = (queue.clone().handle(item), done.clone());
                        in_flight.spawn(async move {
                            let _ = done.send(task.await);
                            drop(permit);
                        });
                    }
                }
                Err(e) => {
                    let wait = claiming.failed(&e);
                    tokio::select! {
                        _ = &mut shutdown => break 'run,
                        _ = tokio::time::sleep(wait) => continue 'run,
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
            settings.idle_poll
        } else {
            match queue.next_due().await {
                Ok(next) => {
                    looking.ok();
                    next.map_or(settings.idle_poll, |at| (at - Utc::now()).to_std().unwrap_or(Duration::ZERO).min(settings.idle_poll))
                }
                Err(e) => looking.failed(&e),
            }
        };
        if sleep.is_zero() && slots.available_permits() > 0 {
            continue;
        }
        tokio::select! {
            _ = &mut shutdown => break 'run,
            notification = listener.recv() => match notification {
                Ok(_) => listening.ok(),
                Err(e) => {
                    // PgListener reconnects on the next recv; the timer covers what was missed.
                    let wait = listening.failed(&e.into());
                    tokio::select! {
                        _ = &mut shutdown => break 'run,
                        _ = tokio::time::sleep(wait) => {}
                    }
                }
            },
            _ = tokio::time::sleep(sleep) => {}
            Some(_) = in_flight.join_next(), if !in_flight.is_empty() => {}
            Some(()) = woken.recv() => {}
        }
    }

    tracing::info!(in_flight = in_flight.len(), "no new claims of {}: stopping", Q::WHAT);
    let drained = tokio::time::timeout(settings.shutdown_grace, async { while in_flight.join_next().await.is_some() {} }).await.is_ok();
    if !drained {
        tracing::warn!(left = in_flight.len(), "{} still running after the grace period; putting them back", Q::WHAT);
        in_flight.abort_all();
        while in_flight.join_next().await.is_some() {}
    }
}

/// The one writer of outcomes: everything waiting goes into one statement.
async fn write_outcomes<Q: Queue>(queue: Arc<Q>, mut done: mpsc::UnboundedReceiver<Q::Outcome>) {
    let mut batch = Vec::with_capacity(Q::WRITE_BATCH);
    let mut writing = Outage::new(format!("writing the outcomes of {}", Q::WHAT));
    while done.recv_many(&mut batch, Q::WRITE_BATCH).await > 0 {
        let started = Instant::now();
        loop {
            match queue.write(&batch).await {
                Ok(applied) => {
                    writing.ok();
                    if applied < batch.len() {
                        tracing::warn!(lost = batch.len() - applied, "claims of {} were rescued before their outcome was written", Q::WHAT);
                    }
                    break;
                }
                // Outcomes wait here while the outage is short; after that their claims are
                // rescued by any worker, so holding them longer would only delay that.
                Err(e) if started.elapsed() < MAX_BACKOFF * 2 => tokio::time::sleep(writing.failed(&e).min(Duration::from_secs(5))).await,
                Err(e) => {
                    tracing::error!(error = %e, count = batch.len(), "outcomes of {} not written; their claims will be rescued", Q::WHAT);
                    break;
                }
            }
        }
        batch.clear();
    }
}

/// Runs [`Queue::look_after`] every `every`, waking the loop when items were put back.
async fn look_after<Q: Queue>(queue: Arc<Q>, every: Duration, woken: mpsc::Sender<()>) {
    let mut interval = tokio::time::interval(every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut caring = Outage::new(format!("looking after the {} (heartbeat, rescue)", Q::WHAT));
    for tick in 0u64.. {
        interval.tick().await;
        match queue.look_after(tick).await {
            Ok(put_back) => {
                caring.ok();
                if put_back {
                    let _ = woken.try_send(());
                }
            }
            Err(e) => {
                // The interval keeps ticking; the outage only decides what is logged.
                let _ = caring.failed(&e);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outage_backs_off_doubling_up_to_the_cap_and_recovers() {
        let mut outage = Outage::new("claiming");
        let error = DomainError::Internal("down".into());
        let waits: Vec<u64> = (0..8).map(|_| outage.failed(&error).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 30, 30, 30]);
        outage.ok();
        assert_eq!(outage.failed(&error), Duration::from_secs(1), "after recovering, the backoff starts over");
    }
}
