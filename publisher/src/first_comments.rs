//! First comments: the comment a post asked for under each of its published deliveries (on X a
//! reply by the same account to the post, or to its thread's last part; on LinkedIn a comment on
//! the post by its author; on a Facebook Page a comment by the Page), sent by every worker process
//! beside the publishing engine.
//!
//! A comment is queued by the very statement that records its delivery as published
//! (`crier_domain::store::deliveries::complete`), so it is a step of the delivery that cannot be
//! lost between the two. From there it has its own queue (the engine's claim loop and writer,
//! [`crate::queue`]), its own retries (as many, as spaced, as the post's own; rate limits waited
//! out without using an attempt) and its own reconciliation: an attempt whose outcome is unknown (no answer, a 5xx, or a
//! worker killed mid-call, whose claim is rescued) looks for the comment under the post before
//! sending it again, so it is never posted twice. A comment that cannot go (the account needs
//! reconnecting, the platform refuses it) fails with the reason on the post's page, where Retry
//! sends it again; the post itself stays published.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use crier_accounts::{Accounts, RefreshError};
use crier_clients::{ErrorClass, LinkedInAuthor, PlatformError, Published, RecentPost};
use crier_domain::DomainError;
use crier_domain::account::AccountStatus;
use crier_domain::retry::RetryDecision;
use crier_domain::store::accounts::Credentials;
use crier_domain::store::first_comments::{self, ClaimedComment, CommentOutcome, DUE_CHANNEL, FirstCommentState};
use crier_platform::Platform;
use sqlx::PgPool;

use crate::queue::{self, Queue, Settings};
use crate::{attempt, reconcile};

/// How a worker sends first comments.
#[derive(Clone, Debug)]
pub struct FirstCommentConfig {
    /// This process start's unique name (claims carry it).
    pub worker: String,
    /// Comments in flight at most.
    pub concurrency: usize,
    /// Comments claimed per statement at most.
    pub batch_size: usize,
    /// A claim older than this is taken for a stopped worker's (longer than any call).
    pub stale_after: Duration,
    /// How often to look for such claims.
    pub rescue_every: Duration,
    /// The longest an idle sender sleeps without looking (in case a notification was missed).
    pub idle_poll: Duration,
    /// How long comments in flight may take to finish after shutdown is asked for.
    pub shutdown_grace: Duration,
    /// A token expiring within this is renewed first.
    pub refresh_margin: Duration,
}

impl FirstCommentConfig {
    /// The defaults, for the worker named `worker`.
    pub fn new(worker: impl Into<String>) -> Self {
        FirstCommentConfig {
            worker: worker.into(),
            concurrency: 8,
            batch_size: 16,
            stale_after: Duration::from_secs(120),
            rescue_every: Duration::from_secs(15),
            idle_poll: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(30),
            refresh_margin: Duration::from_secs(300),
        }
    }
}

/// What every sending task shares.
struct Sender {
    pool: PgPool,
    accounts: Arc<Accounts>,
    config: FirstCommentConfig,
}

/// Sends first comments until `shutdown` completes.
pub async fn run(pool: PgPool, accounts: Arc<Accounts>, config: FirstCommentConfig, shutdown: impl Future<Output = ()> + Send) {
    let worker = config.worker.clone();
    let concurrency = config.concurrency.max(1);
    let settings = Settings {
        concurrency,
        batch_size: config.batch_size,
        claim_at: (concurrency / 4).max(1),
        idle_poll: config.idle_poll,
        shutdown_grace: config.shutdown_grace,
        care_every: config.rescue_every,
    };
    tracing::info!(worker = %worker, concurrency, "first comment sender started");
    match queue::run(Arc::new(Sender { pool, accounts, config }), settings, shutdown).await {
        queue::Ended::Cleanly => tracing::info!(worker = %worker, "first comment sender stopped"),
        queue::Ended::DatabaseAway => tracing::info!(worker = %worker, "first comment sender stopped; its claims are rescued later"),
    }
}

/// One step, for tests: sends the comments that are due (a batch at most), writes their
/// outcomes, and answers them.
pub async fn step(pool: PgPool, accounts: Arc<Accounts>, config: FirstCommentConfig) -> Result<Vec<CommentOutcome>, DomainError> {
    let batch = config.batch_size;
    queue::step(Arc::new(Sender { pool, accounts, config }), batch).await
}

impl Queue for Sender {
    type Item = ClaimedComment;
    type Outcome = CommentOutcome;
    const WHAT: &'static str = "first comments";
    const CHANNEL: &'static str = DUE_CHANNEL;
    const WRITE_BATCH: usize = 256;

    fn pool(&self) -> &PgPool {
        &self.pool
    }

    async fn claim(&self, limit: usize) -> Result<Vec<ClaimedComment>, DomainError> {
        first_comments::claim(&self.pool, &self.config.worker, limit as i64).await
    }

    async fn next_due(&self) -> Result<Option<DateTime<Utc>>, DomainError> {
        first_comments::next_due(&self.pool).await
    }

    async fn handle(self: Arc<Self>, comment: ClaimedComment) -> CommentOutcome {
        send(&self, &comment).await
    }

    async fn write(&self, batch: &[CommentOutcome]) -> Result<usize, DomainError> {
        // An outcome not written leaves the claim to be rescued, and the comment is looked for
        // before it is sent again.
        first_comments::complete(&self.pool, &self.config.worker, batch).await
    }

    async fn look_after(&self, _tick: u64) -> Result<bool, DomainError> {
        let rescued = first_comments::rescue(&self.pool, self.config.stale_after).await?;
        if rescued > 0 {
            tracing::warn!(rescued, "first comments of a stopped worker put back, to be looked for before sending");
        }
        Ok(rescued > 0)
    }

    async fn release(&self) -> Result<u64, DomainError> {
        first_comments::release(&self.pool, &self.config.worker).await
    }
}

/// How one attempt ended, before it is written down.
enum Sent {
    Posted {
        external_id: String,
        permalink: Option<String>,
        reconciled: bool,
    },
    /// Try again later; `unknown` when the comment may exist all the same.
    Temporary {
        message: String,
        unknown: bool,
    },
    RateLimited {
        until: DateTime<Utc>,
        message: String,
    },
    Failed {
        message: String,
    },
    /// In doubt, and the platform does not let Crier look: the person checks, and Retry sends it.
    Unverifiable {
        message: String,
    },
}

fn from_error(error: PlatformError) -> Sent {
    let message = error.to_string();
    match error.class {
        // The platform may have made the comment before failing, as the engine judges for posts.
        ErrorClass::Temporary => Sent::Temporary { unknown: attempt::outcome_unknown(&error), message },
        ErrorClass::RateLimited { until } => Sent::RateLimited { until, message },
        ErrorClass::NeedsReauth => {
            Sent::Failed { message: format!("{message} Reconnect the account on the Accounts page, then use Retry on this page.") }
        }
        ErrorClass::Permanent => Sent::Failed { message },
    }
}

fn from_published(published: Result<Published, PlatformError>) -> Sent {
    match published {
        Ok(p) => Sent::Posted { external_id: p.external_id, permalink: p.permalink, reconciled: false },
        Err(error) => from_error(error),
    }
}

async fn send(ctx: &Sender, comment: &ClaimedComment) -> CommentOutcome {
    let sent = attempt_comment(ctx, comment).await;
    let mut outcome = CommentOutcome {
        delivery_id: comment.delivery_id,
        attempt: comment.attempt,
        state: FirstCommentState::Failed,
        next_attempt_at: None,
        reconcile: false,
        external_id: None,
        permalink: None,
        error: None,
        reconciled: false,
    };
    match sent {
        Sent::Posted { external_id, permalink, reconciled } => {
            outcome.state = FirstCommentState::Posted;
            outcome.external_id = Some(external_id);
            outcome.permalink = permalink;
            outcome.reconciled = reconciled;
        }
        Sent::Failed { message } => {
            // A failure after an unknown outcome is still in doubt: a Retry looks first.
            outcome.reconcile = comment.reconcile;
            outcome.error = Some(message);
        }
        Sent::Unverifiable { message } => outcome.error = Some(message),
        Sent::Temporary { message, unknown } => {
            outcome.reconcile = unknown || comment.reconcile;
            match comment.retry.after_failure(comment.attempt, Utc::now()) {
                RetryDecision::RetryAt(at) => {
                    outcome.state = FirstCommentState::Pending;
                    outcome.next_attempt_at = Some(at);
                    outcome.error = Some(message);
                }
                RetryDecision::GiveUp => {
                    outcome.error = Some(format!("Gave up after {} attempts. Last error: {message}", comment.attempt));
                }
            }
        }
        Sent::RateLimited { until, message } => {
            outcome.state = FirstCommentState::Pending;
            outcome.next_attempt_at = Some(until.max(Utc::now()));
            outcome.reconcile = comment.reconcile;
            outcome.error = Some(message);
        }
    }
    match outcome.state {
        FirstCommentState::Posted => tracing::debug!(delivery_id = %comment.delivery_id, "first comment posted"),
        _ => {
            tracing::info!(delivery_id = %comment.delivery_id, attempt = comment.attempt, error = ?outcome.error, "first comment not posted")
        }
    }
    outcome
}

async fn attempt_comment(ctx: &Sender, comment: &ClaimedComment) -> Sent {
    if comment.status != AccountStatus::Connected {
        return Sent::Failed {
            message: format!(
                "The {} account needs to be reconnected; reconnect it on the Accounts page, then use Retry on this page.",
                comment.platform.label()
            ),
        };
    }
    let margin = TimeDelta::from_std(ctx.config.refresh_margin).unwrap_or(TimeDelta::minutes(5));
    let credentials = match ctx.accounts.fresh_credentials(comment.team_id, comment.account_id, margin).await {
        Ok((_, credentials)) => credentials,
        Err(RefreshError::Platform(error)) => return from_error(error),
        Err(RefreshError::Store(e)) => {
            tracing::error!(error = %e, delivery_id = %comment.delivery_id, "could not read the account's tokens");
            return Sent::Temporary { message: "The account's tokens could not be read.".into(), unknown: false };
        }
    };
    let clients = ctx.accounts.clients();
    let unavailable = || Sent::Failed { message: format!("{} is not configured on this Crier.", comment.platform.label()) };
    match (comment.platform, &credentials) {
        (Platform::X, credentials) => {
            let client = clients.x_api();
            let auth = attempt::x_auth(credentials);
            if comment.reconcile {
                let recent = client.recent_posts(&auth, &comment.account_external_id, 20).await;
                match found(recent.value, comment) {
                    Ok(Some(sent)) => return sent,
                    Ok(None) => {}
                    Err(error) => return from_error(error),
                }
            }
            let outcome = client.publish_thread(&auth, &[comment.text.as_str()], Some(&comment.parent_id)).await;
            match (outcome.published.into_iter().next(), outcome.failure) {
                (Some(p), _) => Sent::Posted { external_id: p.external_id, permalink: p.permalink, reconciled: false },
                (None, Some(failure)) => from_error(failure.error),
                (None, None) => Sent::Temporary { message: "X answered without the reply's id.".into(), unknown: true },
            }
        }
        (Platform::Linkedin, Credentials::OAuth2 { access_token, .. }) => {
            let Some(client) = clients.linkedin() else { return unavailable() };
            let author = attempt::linkedin_author(&comment.account_external_id);
            if comment.reconcile {
                match found(client.comments(access_token, &comment.parent_id).await.value, comment) {
                    Ok(Some(sent)) => return sent,
                    Ok(None) => {}
                    // Reading a member's post's comments needs r_member_social, which LinkedIn
                    // grants few apps: sending again could comment twice, and reconnecting would
                    // not help.
                    Err(error)
                        if matches!(author, LinkedInAuthor::Member(_))
                            && matches!(error.class, ErrorClass::NeedsReauth | ErrorClass::Permanent) =>
                    {
                        return Sent::Unverifiable {
                            message: "The call to LinkedIn got no answer, and LinkedIn does not let apps read a member's comments, so \
                                      Crier cannot tell whether the comment was posted. Check the post; if it is not there, use Retry."
                                .into(),
                        };
                    }
                    Err(error) => return from_error(error),
                }
            }
            from_published(client.comment(access_token, &author, &comment.parent_id, &comment.text).await.value)
        }
        (Platform::Facebook, Credentials::OAuth2 { access_token, .. }) => {
            let Some(client) = clients.facebook() else { return unavailable() };
            if comment.reconcile {
                match found(client.comments(&comment.parent_id, access_token).await.value, comment) {
                    Ok(Some(sent)) => return sent,
                    Ok(None) => {}
                    Err(error) => return from_error(error),
                }
            }
            from_published(client.comment(&comment.parent_id, access_token, &comment.text).await.value)
        }
        _ => unavailable(),
    }
}

/// The comment among what the platform lists, if it is there: the same text, made no earlier
/// than the first attempt (give or take the clocks).
fn found(listed: Result<Vec<RecentPost>, PlatformError>, comment: &ClaimedComment) -> Result<Option<Sent>, PlatformError> {
    Ok(reconcile::find(&listed?, &comment.text, comment.first_attempt_at).map(|p| Sent::Posted {
        external_id: p.external_id.clone(),
        permalink: p.permalink.clone(),
        reconciled: true,
    }))
}
