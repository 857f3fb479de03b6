//! One attempt at one delivery: from a claimed row to its [`Completion`].
//!
//! The order matters: nothing is called for an account that needs reconnecting; the text is
//! checked before any call; a token about to expire is renewed first; a dry run stops before the
//! publish call; and an attempt after an unknown outcome looks for the post before publishing.

use std::time::Instant;

use chrono::{DateTime, TimeDelta, Utc};
use crier_clients::{
    ErrorClass, FacebookPost, LinkedInArticle, LinkedInAuthor, LinkedInPost, OAuth1Credentials, PlatformError, RateBudget, RecentPost,
    XAuth,
};
use crier_domain::account::AccountStatus;
use crier_domain::delivery::{AttemptOutcome, DeliveryState, FailureClass};
use crier_domain::post::PostContent;
use crier_domain::retry::RetryDecision;
use crier_domain::store::accounts::{self, Credentials};
use crier_domain::store::deliveries::{Claimed, Completion, FailureNote};
use crier_platform::Platform;
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::engine::Context;
use crate::{reconcile, telemetry};
use crier_accounts::{RefreshError, needs_refresh};

/// How an attempt ended, before it is written down.
#[derive(Debug)]
pub enum Outcome {
    /// The platform has the post (`reconciled`: found at the platform, not published now).
    Published { external_id: String, permalink: Option<String>, reconciled: bool },
    /// A dry run passed every check.
    DryRunOk,
    /// Retrying cannot help.
    Permanent { class: FailureClass, code: Option<String>, message: String },
    /// Try again later; `ambiguous` when the post may have been created all the same.
    Temporary { error: PlatformError, ambiguous: bool },
    /// The account must wait until `until`.
    RateLimited { until: DateTime<Utc>, error: PlatformError },
    /// The account needs reconnecting.
    NeedsReauth { message: String },
}

/// An outcome with what the call reported on the side.
#[derive(Debug)]
pub struct Attempted {
    /// What happened.
    pub outcome: Outcome,
    /// The platform's HTTP status of the deciding call.
    pub http_status: Option<u16>,
    /// X thread parts out so far.
    pub thread_ids: Vec<String>,
    /// The account's budget as the platform last reported it.
    pub budget: Option<RateBudget>,
}

impl Attempted {
    fn new(outcome: Outcome, claimed: &Claimed) -> Self {
        Attempted { outcome, http_status: None, thread_ids: claimed.thread_ids.clone(), budget: None }
    }
}

fn from_error(error: PlatformError) -> Outcome {
    match error.class {
        ErrorClass::Temporary => {
            // No answer (a timeout, a reset connection) or a server error: the platform may have
            // acted before failing. Meta documents exactly this for HTTP 500 code 2, and X's 5xx
            // are settled by reading the account's timeline. LinkedIn documents no such case, and
            // reading a member's posts needs a permission (r_member_social) apps rarely get, so
            // its 5xx answers are taken at their word and only a call that got no answer is in doubt.
            let ambiguous = match error.platform {
                Platform::Linkedin => error.status.is_none(),
                _ => error.status.is_none_or(|s| s >= 500),
            };
            Outcome::Temporary { error, ambiguous }
        }
        ErrorClass::RateLimited { until } => Outcome::RateLimited { until, error },
        ErrorClass::NeedsReauth => Outcome::NeedsReauth { message: error.to_string() },
        ErrorClass::Permanent => {
            Outcome::Permanent { class: FailureClass::Permanent, code: error.code.clone(), message: error.message.clone() }
        }
    }
}

/// The content as this delivery's platform gets it.
fn content(claimed: &Claimed) -> PostContent {
    PostContent {
        text: claimed.override_text.clone().unwrap_or_else(|| claimed.text.clone()),
        overrides: Vec::new(),
        link: claimed.link.clone(),
        thread: if claimed.platform == Platform::X { claimed.thread.clone() } else { Vec::new() },
        media: Vec::new(),
    }
}

/// What an attempt asks of the account, besides its own completion.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountEffects {
    /// Pause the account until then (a rate limit, or a budget the platform reports spent).
    pub pause_until: Option<DateTime<Utc>>,
    /// Mark the account as needing re-authorisation, with the reason.
    pub needs_reauth: Option<String>,
}

/// Runs one attempt: the completion to write, and what the account must undergo.
pub async fn run(ctx: &Context, claimed: &Claimed) -> (Completion, AccountEffects) {
    let started = Instant::now();
    let attempted = attempt(ctx, claimed).await;
    let took = started.elapsed();
    telemetry::attempted(claimed.platform, took);
    let duration_ms = i32::try_from(took.as_millis()).unwrap_or(i32::MAX);
    let mut effects = AccountEffects::default();
    if let Some(budget) = attempted.budget
        && budget.is_exhausted()
    {
        effects.pause_until = budget.reset_at;
    }
    match &attempted.outcome {
        Outcome::RateLimited { until, .. } => effects.pause_until = effects.pause_until.max(Some(*until)),
        // Held for want of a connected account needs no marking: its status already says so.
        Outcome::NeedsReauth { message } if claimed.status == AccountStatus::Connected => effects.needs_reauth = Some(message.clone()),
        _ => {}
    }
    (completion(claimed, attempted, duration_ms, Utc::now()), effects)
}

async fn attempt(ctx: &Context, claimed: &Claimed) -> Attempted {
    let name = claimed.platform.label();
    if claimed.status != AccountStatus::Connected {
        let why = match claimed.status {
            AccountStatus::Disconnected => "was disconnected",
            AccountStatus::Revoked => "was removed or revoked at the platform",
            _ => "needs to be reconnected",
        };
        let message =
            format!("The {name} account “{}” {why}; reconnect it on the Accounts page and this post goes out.", claimed.account_name);
        return Attempted::new(Outcome::NeedsReauth { message }, claimed);
    }
    let post = content(claimed);
    if let Err(problem) = post.check(&[claimed.platform]) {
        return Attempted::new(Outcome::Permanent { class: FailureClass::Validation, code: None, message: problem.message }, claimed);
    }

    let credentials = match credentials(ctx, claimed).await {
        Ok(credentials) => credentials,
        Err(outcome) => return Attempted::new(outcome, claimed),
    };
    if claimed.dry_run {
        return Attempted::new(Outcome::DryRunOk, claimed);
    }
    let attempted = publish(ctx, claimed, &post, &credentials).await;
    // A platform may stop honouring an access token before its stated expiry (revoked
    // sessions, a clock skew, a shortened lifetime). With a refresh token in hand, renew once and
    // call again before asking a person to reconnect; only when nothing new went out, so a
    // thread never repeats a part.
    let refused = match (&attempted.outcome, &credentials) {
        (Outcome::NeedsReauth { .. }, Credentials::OAuth2 { access_token, refresh_token: Some(_) })
            if claimed.can_refresh && attempted.thread_ids == claimed.thread_ids =>
        {
            access_token
        }
        _ => return attempted,
    };
    match ctx.accounts.renew_refused(claimed.team_id, claimed.account_id, refused).await {
        Ok((_, renewed)) => publish(ctx, claimed, &post, &renewed).await,
        Err(RefreshError::Platform(error)) => Attempted::new(from_error(error), claimed),
        Err(RefreshError::Store(e)) => Attempted::new(store_trouble(claimed, &e), claimed),
    }
}

async fn publish(ctx: &Context, claimed: &Claimed, post: &PostContent, credentials: &Credentials) -> Attempted {
    match claimed.platform {
        Platform::X => publish_x(ctx, claimed, post, credentials).await,
        Platform::Linkedin => publish_linkedin(ctx, claimed, post, credentials).await,
        Platform::Facebook => publish_facebook(ctx, claimed, post, credentials).await,
    }
}

/// The account's credentials, renewed first when they expire within the margin.
async fn credentials(ctx: &Context, claimed: &Claimed) -> Result<Credentials, Outcome> {
    let margin = TimeDelta::from_std(ctx.config.refresh_margin).unwrap_or(TimeDelta::minutes(5));
    if needs_refresh(claimed.can_refresh, claimed.token_expires_at, margin, Utc::now()) {
        return match ctx.accounts.fresh_credentials(claimed.team_id, claimed.account_id, margin).await {
            Ok((_, credentials)) => Ok(credentials),
            Err(RefreshError::Platform(error)) => Err(from_error(error)),
            Err(RefreshError::Store(e)) => Err(store_trouble(claimed, &e)),
        };
    }
    if !claimed.can_refresh && claimed.token_expires_at.is_some_and(|at| at <= Utc::now()) {
        return Err(Outcome::NeedsReauth {
            message: format!("The {} token has expired; reconnect the account.", claimed.platform.label()),
        });
    }
    let Some(sealed) = &claimed.sealed_credentials else {
        return Err(Outcome::NeedsReauth { message: "The account holds no tokens; reconnect it.".into() });
    };
    accounts::open_credentials(ctx.accounts.vault(), claimed.team_id, claimed.platform, &claimed.external_id, sealed)
        .map_err(|e| store_trouble(claimed, &e))
}

/// The store or the key vault failed: retried (an operator can fix a missing key or a database
/// outage), never shown with its details.
fn store_trouble(claimed: &Claimed, e: &crier_domain::DomainError) -> Outcome {
    tracing::error!(error = %e, delivery_id = %claimed.delivery_id, "could not read the account's tokens");
    let message = match e {
        crier_domain::DomainError::SecretUnreadable(_) => "The account's tokens cannot be decrypted with the configured keys.",
        _ => "The account's tokens could not be read.",
    };
    Outcome::Temporary { error: PlatformError::new(claimed.platform, ErrorClass::Temporary, None, None, message), ambiguous: false }
}

fn unavailable(platform: Platform) -> Outcome {
    Outcome::Permanent {
        class: FailureClass::Configuration,
        code: None,
        message: format!("{} is not configured on this Crier.", platform.label()),
    }
}

async fn publish_x(ctx: &Context, claimed: &Claimed, post: &PostContent, credentials: &Credentials) -> Attempted {
    let client = ctx.accounts.clients().x_api();
    let auth = match credentials {
        Credentials::OAuth2 { access_token, .. } => XAuth::Bearer(access_token.clone()),
        Credentials::OAuth1 { consumer_key, consumer_secret, access_token, access_token_secret } => XAuth::OAuth1(OAuth1Credentials {
            consumer_key: consumer_key.expose_secret().to_owned(),
            consumer_secret: consumer_secret.clone(),
            token: access_token.expose_secret().to_owned(),
            token_secret: access_token_secret.clone(),
        }),
    };
    let mut parts = vec![post.published_text(Platform::X)];
    parts.extend(post.thread.iter().cloned());
    let mut thread_ids = claimed.thread_ids.clone();

    if claimed.reconcile && thread_ids.len() < parts.len() {
        let recent = client.recent_posts(&auth, &claimed.external_id, 20).await;
        match recent.value {
            Ok(recent) => {
                if let Some(found) = reconcile::find(&recent, &parts[thread_ids.len()], claimed.reconcile_since) {
                    thread_ids.push(found.external_id.clone());
                }
            }
            Err(error) => return Attempted { outcome: from_error(error), http_status: None, thread_ids, budget: recent.budget },
        }
    }
    if thread_ids.len() >= parts.len() {
        return x_published(thread_ids, true, None, None);
    }
    let outcome = client.publish_thread(&auth, &parts[thread_ids.len()..], thread_ids.last().map(String::as_str)).await;
    let reconciled_only = outcome.published.is_empty() && !thread_ids.is_empty();
    thread_ids.extend(outcome.published.iter().map(|p| p.external_id.clone()));
    match outcome.failure {
        None => x_published(thread_ids, reconciled_only, outcome.budget, Some(201)),
        Some(failure) => {
            let status = failure.error.status;
            Attempted { outcome: from_error(failure.error), http_status: status, thread_ids, budget: outcome.budget }
        }
    }
}

fn x_published(thread_ids: Vec<String>, reconciled: bool, budget: Option<RateBudget>, http_status: Option<u16>) -> Attempted {
    let first = thread_ids[0].clone();
    Attempted {
        outcome: Outcome::Published { permalink: Some(crier_protocol::x::permalink(&first)), external_id: first, reconciled },
        http_status,
        thread_ids,
        budget,
    }
}

fn reconciled(found: Option<&RecentPost>) -> Option<Outcome> {
    found.map(|p| Outcome::Published { external_id: p.external_id.clone(), permalink: p.permalink.clone(), reconciled: true })
}

async fn publish_linkedin(ctx: &Context, claimed: &Claimed, post: &PostContent, credentials: &Credentials) -> Attempted {
    let Some(client) = ctx.accounts.clients().linkedin() else { return Attempted::new(unavailable(Platform::Linkedin), claimed) };
    let Credentials::OAuth2 { access_token, .. } = credentials else {
        return Attempted::new(unavailable(Platform::Linkedin), claimed);
    };
    let author = match claimed.external_id.strip_prefix("urn:li:organization:") {
        Some(id) => LinkedInAuthor::Organization(id.to_owned()),
        None => LinkedInAuthor::Member(claimed.external_id.strip_prefix("urn:li:person:").unwrap_or(&claimed.external_id).to_owned()),
    };
    let text = post.published_text(Platform::Linkedin);
    if claimed.reconcile {
        let recent = client.recent_posts(access_token, &author, 20).await;
        match recent.value {
            Ok(recent) => {
                if let Some(outcome) = reconciled(reconcile::find(&recent, &text, claimed.reconcile_since)) {
                    return Attempted::new(outcome, claimed);
                }
            }
            // A member's posts cannot be read without r_member_social: publishing again could post
            // twice, and reconnecting would not help. The person decides, told exactly why.
            Err(error)
                if matches!(author, LinkedInAuthor::Member(_))
                    && matches!(error.class, ErrorClass::NeedsReauth | ErrorClass::Permanent) =>
            {
                let message = "The call to LinkedIn got no answer, and LinkedIn does not let apps read a member's posts, so Crier \
                               cannot tell whether this post went out. Check the profile; if the post is not there, use Retry.";
                let outcome = Outcome::Permanent { class: FailureClass::Unknown, code: error.code.clone(), message: message.into() };
                return Attempted { budget: recent.budget, ..Attempted::new(outcome, claimed) };
            }
            Err(error) => return Attempted { budget: recent.budget, ..Attempted::new(from_error(error), claimed) },
        }
    }
    let article =
        post.link.as_deref().and_then(|l| Url::parse(l).ok()).map(|source| LinkedInArticle { source, title: None, description: None });
    let response = client.publish(access_token, &LinkedInPost { author, text, article }).await;
    finish_single(claimed, response.value, response.budget)
}

async fn publish_facebook(ctx: &Context, claimed: &Claimed, post: &PostContent, credentials: &Credentials) -> Attempted {
    let Some(client) = ctx.accounts.clients().facebook() else { return Attempted::new(unavailable(Platform::Facebook), claimed) };
    let Credentials::OAuth2 { access_token, .. } = credentials else {
        return Attempted::new(unavailable(Platform::Facebook), claimed);
    };
    let page_token: &SecretString = access_token;
    let message = post.published_text(Platform::Facebook);
    if claimed.reconcile {
        let recent = client.recent_posts(&claimed.external_id, page_token, 25).await;
        match recent.value {
            Ok(recent) => {
                if let Some(outcome) = reconciled(reconcile::find(&recent, &message, claimed.reconcile_since)) {
                    return Attempted::new(outcome, claimed);
                }
            }
            Err(error) => return Attempted { budget: recent.budget, ..Attempted::new(from_error(error), claimed) },
        }
    }
    let link = post.link.as_deref().and_then(|l| Url::parse(l).ok());
    let response = client.publish(&claimed.external_id, page_token, &FacebookPost { message, link }).await;
    finish_single(claimed, response.value, response.budget)
}

fn finish_single(claimed: &Claimed, value: Result<crier_clients::Published, PlatformError>, budget: Option<RateBudget>) -> Attempted {
    match value {
        Ok(published) => Attempted {
            outcome: Outcome::Published { external_id: published.external_id, permalink: published.permalink, reconciled: false },
            http_status: Some(201),
            thread_ids: claimed.thread_ids.clone(),
            budget,
        },
        Err(error) => {
            let status = error.status;
            Attempted { outcome: from_error(error), http_status: status, thread_ids: claimed.thread_ids.clone(), budget }
        }
    }
}

fn note(class: FailureClass, error: &PlatformError) -> FailureNote {
    FailureNote { class, code: error.code.clone(), message: error.message.clone() }
}

/// What to write for an attempt: the delivery's next state, and the attempt's record.
pub fn completion(claimed: &Claimed, attempted: Attempted, duration_ms: i32, now: DateTime<Utc>) -> Completion {
    let mut c = Completion {
        delivery_id: claimed.delivery_id,
        attempt: claimed.attempt,
        platform: claimed.platform,
        state: DeliveryState::Failed,
        next_attempt_at: None,
        failures: claimed.failures,
        reconcile: false,
        thread_ids: attempted.thread_ids,
        external_id: None,
        permalink: None,
        failure: None,
        outcome: AttemptOutcome::Permanent,
        http_status: attempted.http_status.and_then(|s| i16::try_from(s).ok()),
        duration_ms,
    };
    match attempted.outcome {
        Outcome::Published { external_id, permalink, reconciled } => {
            c.state = DeliveryState::Published;
            c.external_id = Some(external_id);
            c.permalink = permalink;
            c.outcome = if reconciled { AttemptOutcome::Reconciled } else { AttemptOutcome::Published };
        }
        Outcome::DryRunOk => {
            c.state = DeliveryState::DryRunOk;
            c.outcome = AttemptOutcome::DryRunOk;
        }
        Outcome::Permanent { class, code, message } => {
            c.failure = Some(FailureNote { class, code, message });
            c.outcome = if class == FailureClass::Validation { AttemptOutcome::Validation } else { AttemptOutcome::Permanent };
        }
        Outcome::Temporary { error, ambiguous } => {
            c.failures = claimed.failures.saturating_add(1);
            c.outcome = AttemptOutcome::Temporary;
            c.reconcile = ambiguous || claimed.reconcile;
            match claimed.retry.after_failure(c.failures, now) {
                RetryDecision::RetryAt(at) => {
                    c.state = DeliveryState::Retrying;
                    c.next_attempt_at = Some(at);
                    c.failure = Some(note(FailureClass::Temporary, &error));
                }
                RetryDecision::GiveUp => {
                    // A "Retry" looks for the post first if this attempt's outcome is unknown.
                    c.state = DeliveryState::Failed;
                    c.failure = Some(FailureNote {
                        message: format!("Gave up after {} attempts. Last error: {}", c.failures, error.message),
                        ..note(FailureClass::Temporary, &error)
                    });
                }
            }
        }
        Outcome::RateLimited { until, error } => {
            // Not the delivery's fault: it does not use up an attempt.
            c.state = DeliveryState::Retrying;
            c.next_attempt_at = Some(until.max(now));
            c.outcome = AttemptOutcome::RateLimited;
            c.reconcile = claimed.reconcile;
            c.failure = Some(note(FailureClass::RateLimited, &error));
        }
        Outcome::NeedsReauth { message } => {
            c.state = DeliveryState::Held;
            c.outcome = AttemptOutcome::NeedsReauth;
            c.reconcile = claimed.reconcile;
            c.failure = Some(FailureNote { class: FailureClass::NeedsReauth, code: None, message });
        }
    }
    c
}
