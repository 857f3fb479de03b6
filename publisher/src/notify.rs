//! The notifier: sends the emails and chat posts `notification_enqueue` queued (see
//! `crier_domain::store::notify`), and watches for stalled publishing. It runs in every web
//! process, whether or not a worker pool runs beside it, so that dead workers are still noticed
//! and told of.
//!
//! - **Parcels.** A claim takes recipients, each with every message pending for them: a member's
//!   emails go as one email (a digest when there are several), a channel's posts as one post.
//!   Messages wait [`NotifierConfig::gather`] after they are written before they are claimed, so a
//!   burst has time to gather.
//! - **Retries.** A temporary failure (the mail server or the channel unreachable, a 5xx, a
//!   timeout) is retried after `base × 2^(n−1)` until the last attempt; a permanent one (a mailbox
//!   the server refuses, a 4xx from the channel) fails the message at once. Without an SMTP server
//!   (`CRIER_SMTP_URL`), emails are dropped, and said so in the team's log.
//! - The claim loop, the one writer, rescue of a stopped sender's claims, pruning and shutdown are
//!   the publishing engine's (`queue`).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use crier_domain::DomainError;
use crier_domain::notification::{ChatService, NotificationKind};
use crier_domain::retry::{RetryDecision, RetryPolicy};
use crier_domain::store::notifications;
use crier_domain::store::notify::{self, Owed, Parcel, Recipient, Sent, UnsubscribeLinks};
use crier_mail::{Item, MailError, Mailer, Unsubscribe};
use crier_outbound::{AddressPolicy, ClientOptions, OutboundClient};
use crier_vault::Vault;
use secrecy::ExposeSecret;
use sqlx::PgPool;

use crate::queue::{self, Queue, Settings};

/// Attempts per message and the first retry's wait: 6 attempts, retries after 1, 2, 4, 8 and
/// 16 minutes.
pub const DEFAULT_RETRY: RetryPolicy = RetryPolicy { max_attempts: 6, first_retry_seconds: 60 };

/// How long a message waits for others to the same recipient unless configured
/// (`CRIER_NOTIFY_GATHER`).
pub const DEFAULT_GATHER: Duration = Duration::from_secs(60);

/// How a process sends notifications.
#[derive(Clone, Debug)]
pub struct NotifierConfig {
    /// This process start's unique name (claims carry it).
    pub worker: String,
    /// The SMTP server, if the installation has one.
    pub mailer: Option<Mailer>,
    /// How long a message waits for others to the same recipient.
    pub gather: Duration,
    /// Attempts in all, and the wait before the first retry.
    pub retry: RetryPolicy,
    /// Where people reach Crier (links in emails and posts).
    pub public_base: String,
    /// Whether plain http:// chat URLs are called (CRIER_WEBHOOKS_ALLOW_HTTP).
    pub allow_http: bool,
    /// Which addresses chat URLs may have (CRIER_OUTBOUND_ALLOW_NETWORKS).
    pub outbound: AddressPolicy,
    /// How long a mail server or a channel has to answer.
    pub timeout: Duration,
    /// How long a due delivery may wait unclaimed before its team is told publishing is stalled
    /// (CRIER_READY_MAX_QUEUE_AGE, as `/readyz` uses it).
    pub stall_after: Duration,
    /// The longest an idle notifier sleeps without looking.
    pub idle_poll: Duration,
    /// How long sends in flight may take after shutdown is asked for.
    pub shutdown_grace: Duration,
    /// Finished messages older than this are deleted.
    pub keep_for: Duration,
}

impl NotifierConfig {
    /// The defaults, for the process named `worker`, with links to `public_base`.
    pub fn new(worker: impl Into<String>, public_base: impl Into<String>) -> Self {
        NotifierConfig {
            worker: worker.into(),
            mailer: None,
            gather: DEFAULT_GATHER,
            retry: DEFAULT_RETRY,
            public_base: public_base.into(),
            allow_http: false,
            outbound: AddressPolicy::strict(),
            timeout: Duration::from_secs(20),
            stall_after: Duration::from_secs(120),
            idle_poll: Duration::from_secs(15),
            shutdown_grace: Duration::from_secs(10),
            keep_for: Duration::from_secs(30 * 24 * 3600),
        }
    }
}

/// What every sending task shares.
struct Notifier {
    pool: PgPool,
    vault: Arc<Vault>,
    http: OutboundClient,
    links: UnsubscribeLinks,
    config: NotifierConfig,
}

impl Notifier {
    fn new(pool: PgPool, vault: Arc<Vault>, config: NotifierConfig) -> Result<Self, DomainError> {
        let options =
            ClientOptions { timeout: config.timeout, connect_timeout: config.timeout, ..ClientOptions::new("Crier-Notifications") };
        let http = OutboundClient::new(config.outbound.clone(), options)
            .map_err(|e| DomainError::Internal(format!("the notifications' HTTP client cannot be built: {e}")))?;
        let links = UnsubscribeLinks::new(&vault);
        Ok(Notifier { pool, vault, http, links, config })
    }
}

/// Sends notifications until `shutdown` completes.
pub async fn run(
    pool: PgPool,
    vault: Arc<Vault>,
    config: NotifierConfig,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), DomainError> {
    let settings = Settings {
        concurrency: 8,
        batch_size: 32,
        claim_at: 2,
        idle_poll: config.idle_poll,
        shutdown_grace: config.shutdown_grace,
        care_every: Duration::from_secs(30),
    };
    let worker = config.worker.clone();
    tracing::info!(worker = %worker, email = config.mailer.is_some(), "notifier started");
    queue::run(Arc::new(Notifier::new(pool, vault, config)?), settings, shutdown).await;
    tracing::info!(worker = %worker, "notifier stopped");
    Ok(())
}

/// One step, for tests: watches for stalls, sends what is due (32 recipients at most), writes the
/// outcomes and answers them.
pub async fn step(pool: PgPool, vault: Arc<Vault>, config: NotifierConfig) -> Result<Vec<Vec<Sent>>, DomainError> {
    let notifier = Arc::new(Notifier::new(pool, vault, config)?);
    notify::watch_stalls(&notifier.pool, notifier.config.stall_after).await?;
    queue::step(notifier, 32).await
}

impl Queue for Notifier {
    type Item = Parcel;
    type Outcome = Vec<Sent>;
    const WHAT: &'static str = "notifications";
    const CHANNEL: &'static str = "crier_notifications";
    const WRITE_BATCH: usize = 64;

    fn pool(&self) -> &PgPool {
        &self.pool
    }

    async fn claim(&self, limit: usize) -> Result<Vec<Parcel>, DomainError> {
        notify::claim(&self.pool, &self.config.worker, limit as i64, self.config.gather).await
    }

    async fn next_due(&self) -> Result<Option<chrono::DateTime<Utc>>, DomainError> {
        notify::next_due(&self.pool, self.config.gather).await
    }

    async fn handle(self: Arc<Self>, parcel: Parcel) -> Vec<Sent> {
        let result = send(&self, &parcel).await;
        let (state, next_at, error) = match &result {
            Ok(()) => ("sent", None, None),
            Err(Failure::Never(why)) => ("dropped", None, Some(why.clone())),
            Err(Failure::Permanent(why)) => ("failed", None, Some(why.clone())),
            Err(Failure::Temporary(why)) => {
                let attempt = parcel.messages.iter().map(|m| m.attempt).max().unwrap_or(1);
                match self.config.retry.after_failure(attempt, Utc::now()) {
                    RetryDecision::RetryAt(at) => ("pending", Some(at), Some(why.clone())),
                    RetryDecision::GiveUp => ("failed", None, Some(why.clone())),
                }
            }
        };
        if let Some(why) = &error {
            tracing::info!(parcel = ?parcel, state, error = %why, "a notification was not sent");
        }
        parcel
            .messages
            .iter()
            .map(|m| Sent { message_id: m.message_id, attempt: m.attempt, state, next_at, error: error.clone() })
            .collect()
    }

    async fn write(&self, batch: &[Vec<Sent>]) -> Result<usize, DomainError> {
        let flat: Vec<Sent> = batch.iter().flatten().cloned().collect();
        Ok(notify::complete(&self.pool, &self.config.worker, &flat).await? as usize)
    }

    /// Warns teams whose publishing stalled (every other minute), puts back stopped senders'
    /// claims, prunes old messages (about hourly).
    async fn look_after(&self, tick: u64) -> Result<bool, DomainError> {
        if tick.is_multiple_of(2) {
            let warned = notify::watch_stalls(&self.pool, self.config.stall_after).await?;
            if warned > 0 {
                tracing::warn!(teams = warned, "publishing is stalled: due posts wait unclaimed; their owners and admins are told");
            }
        }
        let stale = self.config.timeout * 3 + Duration::from_secs(30);
        let rescued = notify::requeue(&self.pool, None, stale, self.config.retry.max_attempts).await?;
        if tick.is_multiple_of(120) {
            notify::prune(&self.pool, self.config.keep_for).await?;
        }
        Ok(rescued > 0)
    }

    async fn release(&self) -> Result<u64, DomainError> {
        notify::requeue(&self.pool, Some(&self.config.worker), Duration::ZERO, self.config.retry.max_attempts).await
    }
}

/// Why a parcel was not sent.
enum Failure {
    /// It can never be (no SMTP server): dropped.
    Never(String),
    /// It was refused for good.
    Permanent(String),
    /// Try again later.
    Temporary(String),
}

/// The parcel's words and links: what each message says, where to look (absolute).
async fn items(ctx: &Notifier, parcel: &Parcel, when: impl Fn(&Owed) -> String) -> Result<Vec<Item>, Failure> {
    let about: Vec<_> = parcel.messages.iter().map(|m| m.about.clone()).collect();
    let told = notifications::describe(&ctx.pool, parcel.team_id, &about)
        .await
        .map_err(|e| Failure::Temporary(format!("The notification could not be read: {e}")))?;
    Ok(parcel
        .messages
        .iter()
        .zip(told)
        .map(|(m, (words, link))| Item { words, link: format!("{}{link}", ctx.config.public_base), when: when(m) })
        .collect())
}

async fn send(ctx: &Notifier, parcel: &Parcel) -> Result<(), Failure> {
    match &parcel.recipient {
        Recipient::Email { user_id, address, timezone } => {
            let Some(mailer) = &ctx.config.mailer else {
                return Err(Failure::Never("Not emailed: this Crier has no SMTP server (CRIER_SMTP_URL).".into()));
            };
            let items = items(ctx, parcel, |m| timezone.format(m.at)).await?;
            let mut kinds: Vec<NotificationKind> = parcel.messages.iter().filter_map(|m| NotificationKind::parse(&m.about.kind)).collect();
            kinds.sort();
            kinds.dedup();
            let unsubscribe: Vec<Unsubscribe> = kinds
                .into_iter()
                .map(|k| Unsubscribe {
                    label: k.label().to_owned(),
                    url: format!("{}{}", ctx.config.public_base, ctx.links.path(*user_id, k)),
                })
                .collect();
            let settings = format!("{}/settings/notifications", ctx.config.public_base);
            let mail = crier_mail::notifications(address, &parcel.team_name, &items, &settings, &unsubscribe);
            mailer.send(&mail).await.map_err(|e| match e {
                e @ MailError::Unavailable(_) => Failure::Temporary(format!("Not emailed yet: {e}.")),
                e => Failure::Permanent(format!("Not emailed: {e}.")),
            })
        }
        Recipient::Chat { hook_id, service, sealed_url } => {
            let url = notify::open_url(&ctx.vault, parcel.team_id, *hook_id, sealed_url).map_err(|_| {
                Failure::Permanent("The channel's URL cannot be decrypted with the configured keys: add the channel again.".into())
            })?;
            let url = url.expose_secret();
            if url.starts_with("http://") && !ctx.config.allow_http {
                return Err(Failure::Permanent("Plain http:// channels are not allowed on this Crier: use the https:// URL.".into()));
            }
            let items = items(ctx, parcel, |m| m.at.format("%Y-%m-%d %H:%M UTC").to_string()).await?;
            let body = chat_body(*service, &items);
            let request = ctx.http.post(url).map_err(|e| Failure::Permanent(format!("Not posted: {e}")))?;
            let request = request.header(reqwest::header::CONTENT_TYPE, "application/json").body(body.to_string());
            match ctx.http.send(request).await {
                Ok(response) if response.status().is_success() => Ok(()),
                Ok(response) if response.status().is_server_error() || response.status().as_u16() == 429 => {
                    Err(Failure::Temporary(format!("The channel answered HTTP {}.", response.status().as_u16())))
                }
                Ok(response) => Err(Failure::Permanent(format!(
                    "The channel answered HTTP {}: check its URL (it may have been removed in {}).",
                    response.status().as_u16(),
                    service.label()
                ))),
                Err(crier_outbound::OutboundError::Refused { .. }) => {
                    Err(Failure::Permanent("Not posted: the channel's address is not one Crier may call.".into()))
                }
                Err(e) => Err(Failure::Temporary(format!("Not posted yet: {e}"))),
            }
        }
    }
}

/// The JSON a chat service's incoming webhook takes: Slack's text with its own link markup, or a
/// Teams message with an Adaptive Card (what both Teams' incoming webhooks and Workflows accept).
pub fn chat_body(service: ChatService, items: &[Item]) -> serde_json::Value {
    match service {
        ChatService::Slack => {
            // Slack's mrkdwn: &, < and > are escaped; a link is <url|words>.
            let escape = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
            let lines: Vec<String> = items.iter().map(|i| format!("• <{}|{}>", escape(&i.link), escape(&i.words))).collect();
            serde_json::json!({ "text": format!("*Crier*\n{}", lines.join("\n")) })
        }
        ChatService::Teams => {
            // Markdown link text must not close the bracket early.
            let blocks: Vec<serde_json::Value> = items
                .iter()
                .map(|i| {
                    let words = i.words.replace('[', "(").replace(']', ")");
                    serde_json::json!({ "type": "TextBlock", "wrap": true, "text": format!("[{words}]({})", i.link) })
                })
                .collect();
            let mut body = vec![serde_json::json!({ "type": "TextBlock", "weight": "Bolder", "text": "Crier" })];
            body.extend(blocks);
            serde_json::json!({
                "type": "message",
                "attachments": [{
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "content": { "$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard", "version": "1.4", "body": body }
                }]
            })
        }
    }
}
