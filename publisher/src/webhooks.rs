//! The webhook dispatcher: sends the calls the audit trigger queued (see
//! `crier_domain::store::webhooks`), beside the publishing engine in every worker process.
//!
//! - **Claiming.** One statement claims up to a batch of due calls whenever enough sending slots
//!   are free. An idle dispatcher sleeps until the next call falls due, or until a transaction that
//!   queued calls notifies [`DUE_CHANNEL`].
//! - **Sending.** Each call is its own task: the body is signed (`Crier-Signature`, see
//!   `crier_domain::webhook_signature`) and POSTed with a timeout, following no redirects, with no
//!   transaction open, through `crier_outbound`'s client: the endpoint's address is checked at
//!   every call (a name may resolve elsewhere than when the endpoint was added), and a refused one
//!   is logged in words and retried like any failure (an operator may allow its network meanwhile).
//! - **Outcomes.** One writer puts everything finished in one statement: 2xx is delivered;
//!   anything else is retried after `base × 2^(n−1)` (the same rule as deliveries,
//!   `RetryPolicy::after_failure`) until the last attempt, which fails the call. The claim loop, the
//!   writer, start and shutdown are the publishing engine's too (`queue`).
//! - **Rescue.** A claim older than [`WebhookConfig::stale_after`] outlived any call (its
//!   dispatcher stopped): it goes back to the queue and its lost attempt is logged as unknown.
//! - **Shutdown.** Claiming stops, calls in flight get the grace period, and whatever is still
//!   claimed is put back.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use crier_domain::DomainError;
use crier_domain::retry::{RetryDecision, RetryPolicy};
use crier_domain::store::webhooks::{self, CallOutcome, ClaimedCall, DUE_CHANNEL};
use crier_domain::webhook::CallState;
use crier_domain::webhook_signature::{EVENT_HEADER, ID_HEADER, SIGNATURE_HEADER, sign};
use crier_outbound::{AddressPolicy, ClientOptions, OutboundClient, OutboundError};
use crier_vault::Vault;
use sqlx::PgPool;

use crate::queue::{self, Queue, Settings};

/// Attempts per call and the first retry's wait, unless configured: 8 attempts, retries after
/// 30 s, 1 min, 2 min… (`CRIER_WEBHOOKS_MAX_ATTEMPTS`, `CRIER_WEBHOOKS_RETRY_BASE`).
pub const DEFAULT_RETRY: RetryPolicy = RetryPolicy { max_attempts: 8, first_retry_seconds: 30 };

/// How a worker sends webhooks.
#[derive(Clone, Debug)]
pub struct WebhookConfig {
    /// This process start's unique name (claims carry it).
    pub worker: String,
    /// Calls in flight at most.
    pub concurrency: usize,
    /// Calls claimed per statement at most.
    pub batch_size: usize,
    /// Attempts in all, and the wait before the first retry (doubling after each failure).
    pub retry: RetryPolicy,
    /// How long an endpoint has to answer.
    pub timeout: Duration,
    /// Whether plain http:// endpoints are called (CRIER_WEBHOOKS_ALLOW_HTTP).
    pub allow_http: bool,
    /// Which addresses endpoints may have (CRIER_OUTBOUND_ALLOW_NETWORKS): public ones unless the
    /// operator allows more.
    pub outbound: AddressPolicy,
    /// A claim older than this is taken for a stopped dispatcher's (longer than any call).
    pub stale_after: Duration,
    /// How often to look for such claims.
    pub rescue_every: Duration,
    /// The longest an idle dispatcher sleeps without looking (in case a notification was missed).
    pub idle_poll: Duration,
    /// How long calls in flight may take to finish after shutdown is asked for.
    pub shutdown_grace: Duration,
    /// Finished calls older than this are deleted.
    pub keep_for: Duration,
}

impl WebhookConfig {
    /// The defaults, for the worker named `worker`: [`DEFAULT_RETRY`], a 10-second timeout, https
    /// only, public addresses only.
    pub fn new(worker: impl Into<String>) -> Self {
        let timeout = Duration::from_secs(10);
        WebhookConfig {
            worker: worker.into(),
            concurrency: 32,
            batch_size: 64,
            retry: DEFAULT_RETRY,
            timeout,
            allow_http: false,
            outbound: AddressPolicy::strict(),
            stale_after: timeout * 3 + Duration::from_secs(30),
            rescue_every: Duration::from_secs(15),
            idle_poll: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(30),
            keep_for: Duration::from_secs(30 * 24 * 3600),
        }
    }
}

/// What every sending task shares.
struct Dispatcher {
    pool: PgPool,
    vault: Arc<Vault>,
    http: OutboundClient,
    config: WebhookConfig,
}

impl Dispatcher {
    fn new(pool: PgPool, vault: Arc<Vault>, config: WebhookConfig) -> Result<Self, DomainError> {
        // No redirects (the default): a receiver answers where it is. One limit for the whole call,
        // connecting included, as the team's log words it ("no answer within 10 seconds").
        let options = ClientOptions { timeout: config.timeout, connect_timeout: config.timeout, ..ClientOptions::new("Crier-Webhooks") };
        let http = OutboundClient::new(config.outbound.clone(), options)
            .map_err(|e| DomainError::Internal(format!("the webhook HTTP client cannot be built: {e}")))?;
        Ok(Dispatcher { pool, vault, http, config })
    }
}

/// Sends webhook calls until `shutdown` completes, then stops as the module documentation says.
pub async fn run(
    pool: PgPool,
    vault: Arc<Vault>,
    config: WebhookConfig,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), DomainError> {
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
    tracing::info!(worker = %worker, concurrency, "webhook dispatcher started");
    match queue::run(Arc::new(Dispatcher::new(pool, vault, config)?), settings, shutdown).await {
        queue::Ended::Cleanly => tracing::info!(worker = %worker, "webhook dispatcher stopped"),
        queue::Ended::DatabaseAway => tracing::info!(worker = %worker, "webhook dispatcher stopped; its claims are rescued later"),
    }
    Ok(())
}

/// One step of the dispatcher, for tests: sends the calls that are due (a batch at most), writes
/// their outcomes, and answers them.
pub async fn step(pool: PgPool, vault: Arc<Vault>, config: WebhookConfig) -> Result<Vec<CallOutcome>, DomainError> {
    let batch = config.batch_size;
    queue::step(Arc::new(Dispatcher::new(pool, vault, config)?), batch).await
}

impl Queue for Dispatcher {
    type Item = ClaimedCall;
    type Outcome = CallOutcome;
    const WHAT: &'static str = "webhook calls";
    const CHANNEL: &'static str = DUE_CHANNEL;
    const WRITE_BATCH: usize = 512;

    fn pool(&self) -> &PgPool {
        &self.pool
    }

    async fn claim(&self, limit: usize) -> Result<Vec<ClaimedCall>, DomainError> {
        webhooks::claim(&self.pool, &self.config.worker, limit as i64).await
    }

    async fn next_due(&self) -> Result<Option<chrono::DateTime<Utc>>, DomainError> {
        webhooks::next_due(&self.pool).await
    }

    async fn handle(self: Arc<Self>, call: ClaimedCall) -> CallOutcome {
        send(&self, &call).await
    }

    async fn write(&self, batch: &[CallOutcome]) -> Result<usize, DomainError> {
        // A call whose outcome is not written is rescued and sent again: at least once, as documented.
        Ok(webhooks::complete(&self.pool, &self.config.worker, batch).await?.len())
    }

    /// Puts back claims of stopped dispatchers, and prunes old finished calls (about hourly).
    async fn look_after(&self, tick: u64) -> Result<bool, DomainError> {
        let rescued = webhooks::rescue(&self.pool, self.config.stale_after, self.config.retry.max_attempts).await?;
        if rescued > 0 {
            tracing::warn!(rescued, "webhook calls of a stopped worker put back");
        }
        let prune_every = (3600 / self.config.rescue_every.as_secs().max(1)).max(1);
        if tick.is_multiple_of(prune_every) {
            let pruned = webhooks::prune(&self.pool, self.config.keep_for).await?;
            if pruned > 0 {
                tracing::info!(pruned, "old webhook calls deleted");
            }
        }
        Ok(rescued > 0)
    }

    async fn release(&self) -> Result<u64, DomainError> {
        webhooks::release(&self.pool, &self.config.worker, self.config.retry.max_attempts).await
    }
}

/// One attempt at one call, and what the call becomes.
async fn send(ctx: &Dispatcher, call: &ClaimedCall) -> CallOutcome {
    let started_at = Utc::now();
    let clock = Instant::now();
    let (http_status, result) = post(ctx, call).await;
    let duration_ms = i32::try_from(clock.elapsed().as_millis()).unwrap_or(i32::MAX);
    let (state, next_attempt_at) = match &result {
        Ok(()) => (CallState::Delivered, None),
        // Each failed attempt of a call is a failure: the attempt number counts them.
        Err(_) => match ctx.config.retry.after_failure(call.attempt, Utc::now()) {
            RetryDecision::RetryAt(at) => (CallState::Pending, Some(at)),
            RetryDecision::GiveUp => (CallState::Failed, None),
        },
    };
    match &result {
        Ok(()) => tracing::debug!(call_id = call.call_id, endpoint_id = %call.endpoint_id, status = http_status, "webhook delivered"),
        Err(error) => tracing::info!(
            call_id = call.call_id, endpoint_id = %call.endpoint_id, attempt = call.attempt, status = http_status, error = %error,
            state = state.label(), "webhook attempt failed"
        ),
    }
    CallOutcome {
        call_id: call.call_id,
        attempt: call.attempt,
        state,
        next_attempt_at,
        http_status: http_status.and_then(|s| i16::try_from(s).ok()),
        error: result.err(),
        started_at,
        duration_ms,
    }
}

/// Signs and POSTs the call: the endpoint's status, and whether it was a 2xx (else a sentence for
/// the team's log, never naming the URL, which may hold the receiver's token).
async fn post(ctx: &Dispatcher, call: &ClaimedCall) -> (Option<u16>, Result<(), String>) {
    if call.url.starts_with("http://") && !ctx.config.allow_http {
        return (None, Err("Plain http:// endpoints are not allowed on this Crier: change the URL to https://.".into()));
    }
    let secret = match webhooks::open_secret(&ctx.vault, call.team_id, call.endpoint_id, &call.sealed_secret) {
        Ok(secret) => secret,
        Err(e) => {
            tracing::error!(error = %e, endpoint_id = %call.endpoint_id, "a webhook signing secret does not open");
            return (None, Err("The signing secret cannot be decrypted with the configured keys: add the endpoint again.".into()));
        }
    };
    let body = match serde_json::to_vec(&call.payload) {
        Ok(body) => body,
        Err(e) => return (None, Err(format!("The payload could not be written: {e}"))),
    };
    // An IP-literal URL is checked here; a name when the call connects.
    let request = match ctx.http.post(&call.url) {
        Ok(request) => request,
        Err(e) => return (None, Err(failure_words(&e))),
    };
    let signature = sign(&secret, Utc::now().timestamp(), &body);
    let request = request
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(SIGNATURE_HEADER, signature)
        .header(EVENT_HEADER, &call.event_type)
        .header(ID_HEADER, &call.event_id)
        .body(body);
    match ctx.http.send(request).await {
        Ok(response) if response.status().is_success() => (Some(response.status().as_u16()), Ok(())),
        Ok(response) if response.status().is_redirection() => (
            Some(response.status().as_u16()),
            Err(format!("HTTP {}: a redirect, and Crier follows none: use the address it points to.", response.status().as_u16())),
        ),
        Ok(response) => (Some(response.status().as_u16()), Err(format!("HTTP {}: not a 2xx answer.", response.status().as_u16()))),
        Err(e) => (None, Err(failure_words(&e))),
    }
}

/// The team's log's words for a call that got no answer (never the URL, which may hold the
/// receiver's token; the host is the team's own).
fn failure_words(error: &OutboundError) -> String {
    match error {
        OutboundError::Refused { .. } => format!("Not called: {error}"),
        OutboundError::Timeout(limit) => format!("No answer within {} seconds.", limit.as_secs()),
        OutboundError::Unresolvable { host, .. } => format!("Could not connect: the name {host} does not resolve."),
        OutboundError::Connect(detail) => format!("Could not connect (the connection was refused or failed: {detail})."),
        OutboundError::BadUrl(detail) => format!("The endpoint's URL cannot be called: {detail}."),
        other => format!("The call failed: {other}"),
    }
}
