//! What the queues a process drains (deliveries, webhook calls, notifications) share: the claim loop, the one
//! writer of outcomes, the periodic care (heartbeats, rescue, pruning), start and shutdown, and a
//! single step for tests.
//!
//! - **Claiming.** Whenever enough slots are free, one statement claims a batch; each item is
//!   handled as its own task with no transaction open. An idle queue sleeps until the next item
//!   falls due, a transaction notifies the queue's channel of something due sooner than that (the
//!   payload says when; notifications already buffered are read at once, so a burst wakes the loop
//!   once), a task finishes, or a rescue put something back: one indexed query per idle period
//!   (capped by `idle_poll`, in case a notification was missed), nothing per second.
//! - **Writing.** Outcomes go through a channel to one writer, which writes everything waiting in
//!   one statement, retrying with backoff. Outcomes it cannot write are dropped: their claims are
//!   later rescued, and whatever was unknown is settled before anything is done again.
//! - **PostgreSQL away.** Every database call that fails backs off (doubling, at most
//!   [`MAX_BACKOFF`]); a failure is logged when it starts, with a reminder at most once a minute,
//!   and when the database answers again ([`Outage`]). Starting waits for the database the same
//!   way; the notification channel is dropped when it fails and listened to again once the
//!   database answers (a dead listener would fail every wait, and a half-dead one would never be
//!   woken). Shutdown is honoured throughout.
//! - **Shutdown.** Claiming stops; running tasks get the grace period; the writer drains, within
//!   what is left of it; whatever is still claimed is put back. If the database is away then,
//!   nothing more is tried: the claims are rescued by the other workers once this one's
//!   heartbeat is stale, and shutdown is not held up by a database that does not answer.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use crier_domain::DomainError;
use crier_domain::outage::{MAX_BACKOFF, Outage};
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

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
    /// While outcomes keep coming, a write waits until this long after the one before it, to
    /// take what finished meanwhile into the same statement: a statement's fixed cost is about
    /// that of ten outcomes. An outcome after a quiet spell is written at once.
    const WRITE_EVERY: Duration = Duration::ZERO;

    /// The database.
    fn pool(&self) -> &PgPool;
    /// Before the first claim (a worker registers itself, so its claims are not taken for
    /// orphans); nothing, for a queue whose claims need no registration.
    fn start(&self) -> impl Future<Output = Result<(), DomainError>> + Send {
        async { Ok(()) }
    }
    /// Claims up to `limit` due items (one statement).
    fn claim(&self, limit: usize) -> impl Future<Output = Result<Vec<Self::Item>, DomainError>> + Send;
    /// When the next item falls due, if any is waiting.
    fn next_due(&self) -> impl Future<Output = Result<Option<DateTime<Utc>>, DomainError>> + Send;
    /// When a notification's items fall due, as its payload says (`None`: now, or not said).
    fn due_of(_payload: &str) -> Option<DateTime<Utc>> {
        None
    }
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

/// How a queue's run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ended {
    /// Stopped with the database answering: nothing is left claimed.
    Cleanly,
    /// Stopped while the database did not answer: whatever was still claimed is left for the
    /// rescue, and the worker's registration for its heartbeat to go stale.
    DatabaseAway,
}

/// Runs `queue` until `shutdown` completes, then stops as the module documentation says.
pub(crate) async fn run<Q: Queue>(queue: Arc<Q>, settings: Settings, shutdown: impl Future<Output = ()> + Send) -> Ended {
    let mut shutdown = std::pin::pin!(shutdown);
    // A database that is away when the worker starts (or restarts with it) is waited for.
    let mut starting = Outage::new(format!("starting the worker of the {}", Q::WHAT));
    loop {
        match queue.start().await {
            Ok(()) => {
                starting.ok();
                break;
            }
            Err(e) => {
                let wait = starting.failed(&e);
                tokio::select! {
                    _ = &mut shutdown => return Ended::DatabaseAway,
                    _ = tokio::time::sleep(wait) => {}
                }
            }
        }
    }
    let (done_tx, done_rx) = mpsc::unbounded_channel::<Q::Outcome>();
    let writer = tokio::spawn(write_outcomes(queue.clone(), done_rx));
    let (woken_tx, woken_rx) = mpsc::channel::<()>(1);
    let keeper = tokio::spawn(look_after(queue.clone(), settings.care_every, woken_tx));

    let stopping = claim_loop(queue.clone(), settings, done_tx, woken_rx, shutdown).await;
    keeper.abort();
    // The loop dropped the last sender with its tasks: the writer ends once it has written the
    // rest, unless the database keeps it trying past the grace period.
    let left = settings.shutdown_grace.saturating_sub(stopping.asked.elapsed()).max(Duration::from_secs(1));
    let mut writer = writer;
    let written = match tokio::time::timeout(left, &mut writer).await {
        Ok(Ok(written)) => written,
        Ok(Err(_)) => false,
        Err(_) => {
            writer.abort();
            tracing::warn!("the outcomes of {} could not be written before the grace period ended; their claims will be rescued", Q::WHAT);
            false
        }
    };
    if stopping.database_away || !written {
        tracing::warn!("stopping while PostgreSQL does not answer: what this worker still holds is rescued by the others later");
        return Ended::DatabaseAway;
    }
    match queue.release().await {
        Ok(released) => {
            if released > 0 {
                tracing::warn!(released, "{} still claimed at shutdown put back for a retry", Q::WHAT);
            }
            Ended::Cleanly
        }
        // The database went away after the loop's last try: the same as above.
        Err(e) => {
            tracing::warn!(error = %e, "could not put back what this worker still holds of the {}; the others rescue it later", Q::WHAT);
            Ended::DatabaseAway
        }
    }
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

/// When and how the claim loop stopped.
struct Stopping {
    /// When shutdown was asked for (the grace period counts from then).
    asked: Instant,
    /// Whether the database was failing the loop's last tries.
    database_away: bool,
}

/// Listens on the queue's channel (a connection of its own).
async fn listen<Q: Queue>(queue: &Q) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(queue.pool()).await?;
    listener.listen(Q::CHANNEL).await?;
    Ok(listener)
}

/// The next notification and every other one already buffered (a burst of scheduling wakes the
/// loop once), as the soonest time they say something falls due (`None`: now, or not said); never
/// when there is no listener.
async fn notified<Q: Queue>(listener: &mut Option<PgListener>) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    let Some(listener) = listener else { return std::future::pending().await };
    let first = listener.recv().await?;
    let mut soonest = Q::due_of(first.payload());
    while let Some(next) = listener.next_buffered() {
        soonest = soonest.zip(Q::due_of(next.payload())).map(|(a, b)| a.min(b));
    }
    Ok(soonest)
}

async fn claim_loop<Q: Queue>(
    queue: Arc<Q>,
    settings: Settings,
    done: mpsc::UnboundedSender<Q::Outcome>,
    mut woken: mpsc::Receiver<()>,
    mut shutdown: std::pin::Pin<&mut (impl Future<Output = ()> + Send)>,
) -> Stopping {
    let concurrency = settings.concurrency.max(1);
    let slots = Arc::new(Semaphore::new(concurrency));
    let claim_at = settings.claim_at.clamp(1, concurrency);
    let mut in_flight: JoinSet<()> = JoinSet::new();
    let mut claiming = Outage::new(format!("claiming {}", Q::WHAT));
    let mut looking = Outage::new(format!("reading when the next of the {} is due", Q::WHAT));
    let mut listening = Outage::new(format!("the notification channel of the {}", Q::WHAT));
    // None until listening works, and again after it failed; retried no sooner than `listen_at`.
    let mut listener: Option<PgListener> = None;
    let mut listen_at = Instant::now();

    'run: loop {
        if listener.is_none() && Instant::now() >= listen_at {
            match listen(&*queue).await {
                Ok(connected) => {
                    listening.ok();
                    listener = Some(connected);
                }
                Err(e) => listen_at = Instant::now() + listening.failed(&e),
            }
        }
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
        // Too busy to claim (fewer free slots than a claim waits for, with work in flight): the
        // next claim follows a task's end, which wakes the loop anyway, so when the next item
        // falls due does not matter yet. Asking would cost a query per finished task while the
        // queue is full (457 of them in a 10,000-post burst, a tenth of PostgreSQL's time).
        let too_busy = slots.available_permits() < claim_at && !in_flight.is_empty();
        let sleep = if too_busy || slots.available_permits() == 0 || more_due {
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
        // Sleeps until then, unless something comes up sooner. A notification of items due after
        // the loop looks anyway changes nothing (scheduling many posts for later costs no query).
        let deadline = tokio::time::Instant::now() + sleep;
        let looks_by = Utc::now() + sleep;
        loop {
            tokio::select! {
                _ = &mut shutdown => break 'run,
                notification = notified::<Q>(&mut listener) => match notification {
                    Ok(Some(due)) if due > looks_by => continue,
                    Ok(_) => break,
                    Err(e) => {
                        // Dropped rather than left to reconnect inside `recv`: some failures leave
                        // its connection in place, dead. Listened to again after a backoff; the
                        // timer covers what was missed meanwhile.
                        listener = None;
                        listen_at = Instant::now() + listening.failed(&e);
                        break;
                    }
                },
                _ = tokio::time::sleep_until(deadline) => break,
                Some(_) = in_flight.join_next(), if !in_flight.is_empty() => break,
                Some(()) = woken.recv() => break,
            }
        }
    }

    let asked = Instant::now();
    tracing::info!(in_flight = in_flight.len(), "no new claims of {}: stopping", Q::WHAT);
    let drained = tokio::time::timeout(settings.shutdown_grace, async { while in_flight.join_next().await.is_some() {} }).await.is_ok();
    if !drained {
        tracing::warn!(left = in_flight.len(), "{} still running after the grace period; putting them back", Q::WHAT);
        in_flight.abort_all();
        while in_flight.join_next().await.is_some() {}
    }
    Stopping { asked, database_away: claiming.failing() || looking.failing() }
}

/// The one writer of outcomes: everything waiting goes into one statement. Answers whether every
/// batch was written.
async fn write_outcomes<Q: Queue>(queue: Arc<Q>, mut done: mpsc::UnboundedReceiver<Q::Outcome>) -> bool {
    let mut batch = Vec::with_capacity(Q::WRITE_BATCH);
    let mut writing = Outage::new(format!("writing the outcomes of {}", Q::WHAT));
    let mut all_written = true;
    let mut last_write: Option<Instant> = None;
    while done.recv_many(&mut batch, Q::WRITE_BATCH).await > 0 {
        if let Some(until) = last_write.map(|at| at + Q::WRITE_EVERY) {
            while batch.len() < Q::WRITE_BATCH {
                let room = Q::WRITE_BATCH - batch.len();
                match tokio::time::timeout_at(until.into(), done.recv_many(&mut batch, room)).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
            }
        }
        let started = Instant::now();
        last_write = Some(started);
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
                    all_written = false;
                    break;
                }
            }
        }
        batch.clear();
    }
    all_written
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
                // The interval keeps ticking rather than backing off: one failed connection
                // every heartbeat costs nothing, and the heartbeat must resume as soon as the
                // database does, before the others take this worker for dead and rescue its
                // claims. The outage only decides what is logged.
                let _ = caring.failed(&e);
            }
        }
    }
}
