//! Riding out a dependency that stops answering (PostgreSQL, mostly): every loop or handler that
//! talks to it keeps one [`Outage`] per thing it does, which says how long to wait before the next
//! try (doubling from one second up to [`MAX_BACKOFF`]) and logs only when something changes: once
//! when the failures start, at most once every [`REMINDER_EVERY`] while they go on, and once when
//! it works again. A database that is away for an hour thus costs each loop a try every half
//! minute and a log line a minute, not a busy loop and a line per try.

use std::fmt::Display;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The longest wait between tries while the dependency does not answer.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// How often an ongoing outage is logged again.
pub const REMINDER_EVERY: Duration = Duration::from_secs(60);
/// The first wait after a failure.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);

/// One failing (or working) dependency as one loop sees it: logs state changes and spaces the tries.
#[derive(Debug)]
pub struct Outage {
    what: String,
    since: Option<Instant>,
    reminded: Option<Instant>,
    wait: Duration,
}

impl Outage {
    /// A tracker for `what`, named as the log lines say it ("claiming deliveries").
    pub fn new(what: impl Into<String>) -> Self {
        Outage { what: what.into(), since: None, reminded: None, wait: Duration::ZERO }
    }

    /// A try failed with `error`: logs if this starts an outage or a reminder is due, and answers
    /// how long to wait before the next try.
    pub fn failed(&mut self, error: &dyn Display) -> Duration {
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
        self.wait = (self.wait * 2).clamp(FIRST_BACKOFF, MAX_BACKOFF);
        self.wait
    }

    /// A try worked: logs the recovery if there was an outage, and the backoff starts over.
    pub fn ok(&mut self) {
        if let Some(since) = self.since.take() {
            tracing::info!(failed_for_secs = since.elapsed().as_secs(), "{} works again", self.what);
        }
        self.reminded = None;
        self.wait = Duration::ZERO;
    }

    /// Whether the last try failed.
    pub fn failing(&self) -> bool {
        self.since.is_some()
    }
}

/// An [`Outage`] that request handlers share (a health probe, a metrics scrape): each answer is
/// decided by its own try, but the log says only when the answers change.
#[derive(Clone, Debug)]
pub struct SharedOutage(Arc<Mutex<Outage>>);

impl SharedOutage {
    /// A shared tracker for `what`.
    pub fn new(what: impl Into<String>) -> Self {
        SharedOutage(Arc::new(Mutex::new(Outage::new(what))))
    }

    /// Records a failed try (see [`Outage::failed`]).
    pub fn failed(&self, error: &dyn Display) {
        // A poisoned lock only means a panic elsewhere mid-update; the tracker is still usable.
        let _ = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).failed(error);
    }

    /// Records a try that worked (see [`Outage::ok`]).
    pub fn ok(&self) {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).ok();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outage_backs_off_doubling_up_to_the_cap_and_recovers() {
        let mut outage = Outage::new("claiming");
        let waits: Vec<u64> = (0..8).map(|_| outage.failed(&"down").as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 30, 30, 30]);
        assert!(outage.failing());
        outage.ok();
        assert!(!outage.failing());
        assert_eq!(outage.failed(&"down"), Duration::from_secs(1), "after recovering, the backoff starts over");
    }
}
