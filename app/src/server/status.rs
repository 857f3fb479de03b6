//! The Status page's data: the team's accounts with their last verification and rate budget,
//! the publishing workers' heartbeats, and the team's queue. Times are in the viewer's timezone.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::accounts::AccountRow;
use crate::errors::AppError;

/// One account's line: as the Accounts page lists it, with its budget.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountStatusRow {
    /// The account (times in the viewer's timezone).
    pub account: AccountRow,
    /// The budget, e.g. "300 per 15 min"; `None` when Crier keeps none for the platform.
    pub budget: Option<String>,
    /// Calls made in the current window.
    pub used: i32,
    /// When the current window ends.
    pub resets_at: Option<String>,
    /// The media upload budget in words: "4 of 500 per 15 min", or `None` when Crier keeps none.
    pub media: Option<String>,
    /// No call before this moment (rate limit or budget spent).
    pub paused_until: Option<String>,
}

/// One worker process's line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerRow {
    /// Its name (host, pid, random suffix).
    pub name: String,
    /// When it started.
    pub started_at: String,
    /// Its last heartbeat, e.g. "3 s ago".
    pub last_seen: String,
    /// Whether the heartbeat is fresh.
    pub alive: bool,
}

/// The team's unfinished deliveries.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueRow {
    /// Due now, not yet claimed.
    pub due: i64,
    /// How long the oldest of those has waited, e.g. "4 s".
    pub oldest_due_waited: Option<String>,
    /// Due later.
    pub waiting: i64,
    /// When the next of those falls due.
    pub next_due_at: Option<String>,
    /// Being published.
    pub publishing: i64,
    /// Waiting for an account to be reconnected.
    pub held: i64,
}

/// Everything the Status page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusView {
    /// The team's accounts (every one not disconnected).
    pub accounts: Vec<AccountStatusRow>,
    /// The registered publishing workers, oldest first.
    pub workers: Vec<WorkerRow>,
    /// The team's queue.
    pub queue: QueueRow,
    /// The viewer's timezone, named under the tables.
    pub timezone: String,
}

/// The Status page's data for the signed-in member's team.
#[server(prefix = "/api", endpoint = "status_overview")]
pub async fn status_overview() -> Result<StatusView, AppError> {
    use chrono::Utc;
    use crier_domain::store::status::{self, span};

    use super::ssr::{current_member, state};
    let me = current_member().await?;
    let state = state()?;
    let settings = state.operations;
    let accounts = status::account_budgets(&state.pool, me.team_id, &settings).await?;
    let workers = status::workers(&state.pool, settings.readiness.stale_after).await?;
    let queue = status::team_queue(&state.pool, me.team_id).await?;
    let pictures = crier_domain::store::account_pictures::urls(&state.pool, me.team_id).await?;
    let zone = me.timezone;
    let at = |t: Option<chrono::DateTime<Utc>>| t.map(|t| zone.format(t));
    let now = Utc::now();
    let ago = |t: chrono::DateTime<Utc>| format!("{} ago", span((now - t).as_seconds_f64()));
    Ok(StatusView {
        accounts: accounts
            .into_iter()
            .map(|a| AccountStatusRow {
                budget: a.budget.budget.map(|b| format!("{} per {}", b.limit, span(b.window.as_secs_f64()))),
                used: a.budget.used,
                resets_at: at(a.budget.resets_at),
                media: a.media.budget.map(|b| format!("{} of {} per {}", a.media.used, b.limit, span(b.window.as_secs_f64()))),
                paused_until: at(a.paused_until),
                account: super::accounts::row(a.account, now, zone, &pictures),
            })
            .collect(),
        workers: workers
            .into_iter()
            .map(|w| WorkerRow { started_at: zone.format(w.started_at), last_seen: ago(w.last_seen), alive: w.alive, name: w.name })
            .collect(),
        queue: QueueRow {
            due: queue.due,
            oldest_due_waited: queue.oldest_due_at.map(|t| span((now - t).as_seconds_f64())),
            waiting: queue.waiting,
            next_due_at: at(queue.next_due_at),
            publishing: queue.publishing,
            held: queue.held,
        },
        timezone: zone.name().to_owned(),
    })
}
