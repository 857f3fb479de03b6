//! Settings → Webhooks: the team's endpoints with their recent calls; adding one (its signing
//! secret is shown once), turning one off and on, deleting one, sending a test event.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::ssr::parse_id;
use crate::errors::AppError;
#[cfg(feature = "ssr")]
use server_fn::ServerFn;

/// One line of an endpoint's log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallLine {
    /// When the attempt ended (or the call was queued), RFC 3339 UTC.
    pub at: String,
    /// The same, in the viewer's timezone.
    pub shown_at: String,
    /// The event's type.
    pub event: String,
    /// The event's id (`Crier-Webhook-Id`).
    pub event_id: String,
    /// The attempt's number, if it was made.
    pub attempt: Option<i16>,
    /// The endpoint's HTTP status.
    pub http_status: Option<i16>,
    /// delivered, failed, unknown, or queued.
    pub outcome: String,
    /// The call's state now.
    pub state: String,
    /// Crier's words on a failure.
    pub error: Option<String>,
    /// When the call is tried next (in the viewer's timezone), on its latest line while it waits.
    pub next_retry: Option<String>,
}

/// An endpoint as the page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointView {
    /// Its id (for the row's forms).
    pub endpoint_id: String,
    /// Where Crier calls: whole for owners and admins, `https://host/…` for everyone else (a path
    /// or query may hold the receiver's own token).
    pub url: String,
    /// The event types it receives.
    pub events: Vec<String>,
    /// Whether Crier calls it.
    pub enabled: bool,
    /// When it was added, in the viewer's timezone.
    pub created: String,
    /// Who added it.
    pub created_by: Option<String>,
    /// Its newest calls, newest first.
    pub log: Vec<CallLine>,
}

/// Everything the Webhooks page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhooksView {
    /// The team's endpoints.
    pub endpoints: Vec<EndpointView>,
    /// Whether the viewer may add, change and delete them (owners and admins).
    pub can_manage: bool,
    /// Whether http:// URLs are accepted here (development).
    pub allow_http: bool,
    /// Whether a call is being sent or due within a minute (the page then looks again shortly).
    pub busy: bool,
}

/// A new endpoint's signing secret, shown once.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedWebhook {
    /// The endpoint's URL.
    pub url: String,
    /// The secret (`crier_whsec_…`).
    pub secret: String,
}

impl std::fmt::Debug for CreatedWebhook {
    /// Never the secret (nor the URL's path, which may hold the receiver's own token).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CreatedWebhook { secret: [REDACTED], .. }")
    }
}

/// The team's endpoints with their newest calls (viewable by everyone in the team).
#[server(prefix = "/api", endpoint = "settings/webhooks")]
pub async fn webhook_settings() -> Result<WebhooksView, AppError> {
    use crier_domain::store::webhooks;
    use crier_domain::webhook::CallState;

    use super::ssr::{current_member, state};
    let me = current_member().await?;
    let state = state()?;
    let endpoints = webhooks::list(&state.pool, me.team_id).await?;
    let lines = webhooks::log(&state.pool, me.team_id, 20).await?;
    let soon = chrono::Utc::now() + chrono::TimeDelta::minutes(1);
    let can_manage = me.role.can_manage_members();
    let busy = lines.iter().any(|l| l.state == CallState::Sending || l.next_attempt_at.is_some_and(|at| at <= soon));
    let endpoints = endpoints
        .into_iter()
        .map(|e| EndpointView {
            endpoint_id: e.endpoint_id.to_string(),
            url: if can_manage { e.url } else { webhooks::masked_url(&e.url) },
            events: e.events.iter().map(|ev| ev.as_str().to_owned()).collect(),
            enabled: e.enabled,
            created: me.timezone.format(e.created_at),
            created_by: e.created_by,
            log: lines
                .iter()
                .filter(|l| l.endpoint_id == e.endpoint_id)
                .map(|l| CallLine {
                    at: l.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    shown_at: me.timezone.format(l.at),
                    event: l.event_type.clone(),
                    event_id: l.event_id.clone(),
                    attempt: l.attempt,
                    http_status: l.http_status,
                    outcome: l.outcome.clone().unwrap_or_else(|| "queued".to_owned()),
                    state: l.state.label().to_owned(),
                    error: l.error.clone(),
                    next_retry: l.next_attempt_at.map(|at| me.timezone.format(at)),
                })
                .collect(),
        })
        .collect();
    Ok(WebhooksView { endpoints, can_manage, allow_http: state.webhooks_allow_http, busy })
}

/// After a plain form post added an endpoint, the page view that follows shows its secret: the
/// post kept it in the session, sealed by the vault (never in clear text), for that one view.
/// Empty otherwise (and for any call from the browser: only a page render sees kept values).
#[server(prefix = "/api", endpoint = "settings/webhooks/created")]
pub async fn kept_webhook_secret() -> Result<Option<CreatedWebhook>, AppError> {
    use crate::components::form::kept_secret;
    let kept = kept_secret(CreateWebhook::PATH, "created_url").zip(kept_secret(CreateWebhook::PATH, "created_secret"));
    Ok(kept.map(|(url, secret)| CreatedWebhook { url, secret }))
}

/// What a second submission of the form answers: the secret was shown once.
#[cfg(feature = "ssr")]
const SENT_TWICE_WEBHOOK: &str = "This form was already sent, and the endpoint added: it is in the list. Its signing secret was shown once; delete it and add it again if it was not copied.";

/// Adds an endpoint (owners and admins). Answers its signing secret, shown once.
#[server(prefix = "/api", endpoint = "settings/webhooks/create")]
pub async fn create_webhook(
    url: String,
    #[server(default)] events: Vec<String>,
    #[server(default)] form_key: String,
) -> Result<CreatedWebhook, AppError> {
    use crier_domain::store::webhooks::{self, WebhookUrl};
    use crier_domain::webhook::WebhookEvent;

    use super::ssr::{current_member, fail_form, keep_secrets_for_next_page, state};
    use crate::components::form::join_list;
    let typed_events = join_list(&events);
    let typed = [("url", url.as_str()), ("events", typed_events.as_str())];
    let outcome = async {
        let me = current_member().await?;
        if !me.role.can_manage_members() {
            return Err(AppError::Forbidden);
        }
        super::ssr::once_per_form(&form_key, &me, super::ssr::Replay::Refuse(SENT_TWICE_WEBHOOK), async {
            let state = state()?;
            let parsed_url = match WebhookUrl::parse(&url, state.webhooks_allow_http) {
                Ok(parsed) => refuse_internal(&state.outbound, parsed).await,
                Err(e) => Err(e),
            };
            let parsed_events = WebhookEvent::parse_list(&events);
            let (parsed_url, parsed_events) = match (parsed_url, parsed_events) {
                (Ok(u), Ok(e)) => (u, e),
                (u, e) => return Err(AppError::Fields([u.err(), e.err()].into_iter().flatten().collect())),
            };
            let created = webhooks::create(&state.pool, &state.vault, &me, &parsed_url, &parsed_events).await?;
            let shown = CreatedWebhook { url: created.endpoint.url, secret: created.secret.expose().to_owned() };
            // Without wasm the browser reloads the page, which must show the secret once: it waits in
            // the session for that view, sealed.
            keep_secrets_for_next_page(CreateWebhook::PATH, &me, &[("created_url", &shown.url), ("created_secret", &shown.secret)]).await;
            Ok(shown)
        })
        .await
    }
    .await;
    match outcome {
        Ok(created) => Ok(created),
        Err(e) => fail_form(CreateWebhook::PATH, e, &typed).await,
    }
}

/// The URL, unless its host is or resolves to an address Crier does not call (loopback, private,
/// link-local…, unless the operator allows the network): then a field error saying which address,
/// why, and the setting that allows it. A name that does not resolve now is accepted (a receiver
/// being set up): the dispatcher checks the address again at every call.
#[cfg(feature = "ssr")]
pub(crate) async fn refuse_internal(
    policy: &crier_outbound::AddressPolicy,
    url: crier_domain::store::webhooks::WebhookUrl,
) -> Result<crier_domain::store::webhooks::WebhookUrl, crier_domain::FieldError> {
    use crier_outbound::OutboundError;
    const RESOLVE_WITHIN: std::time::Duration = std::time::Duration::from_secs(5);
    match crier_outbound::check_url(policy, url.as_str(), RESOLVE_WITHIN).await {
        Err(refused @ OutboundError::Refused { .. }) => Err(crier_domain::FieldError::new("url", refused.to_string())),
        Err(other) => {
            tracing::info!(host = url.host(), error = %other, "a new webhook endpoint's host does not resolve now; accepted");
            Ok(url)
        }
        Ok(()) => Ok(url),
    }
}

/// Turns an endpoint on (`enabled` = "true") or off (owners and admins).
#[server(prefix = "/api", endpoint = "settings/webhooks/enable")]
pub async fn set_webhook_enabled(endpoint_id: String, enabled: String) -> Result<(), AppError> {
    use crier_domain::store::webhooks;

    use super::ssr::{current_member, fail_form, pool};
    let outcome = async {
        let me = current_member().await?;
        Ok::<_, AppError>(webhooks::set_enabled(&pool()?, &me, parse_id(&endpoint_id)?, enabled.trim() == "true").await?)
    }
    .await;
    match outcome {
        Ok(()) => Ok(()),
        Err(e) => fail_form(SetWebhookEnabled::PATH, e, &[]).await,
    }
}

/// Deletes an endpoint, its queued calls and its log (owners and admins).
#[server(prefix = "/api", endpoint = "settings/webhooks/delete")]
pub async fn delete_webhook(endpoint_id: String) -> Result<(), AppError> {
    use crier_domain::store::webhooks;

    use super::ssr::{current_member, fail_form, pool};
    let outcome = async {
        let me = current_member().await?;
        Ok::<_, AppError>(webhooks::delete(&pool()?, &me, parse_id(&endpoint_id)?).await?)
    }
    .await;
    match outcome {
        Ok(()) => Ok(()),
        Err(e) => fail_form(DeleteWebhook::PATH, e, &[]).await,
    }
}

/// Sends a test event (`ping`) to an enabled endpoint (owners and admins).
#[server(prefix = "/api", endpoint = "settings/webhooks/test")]
pub async fn send_test_webhook(endpoint_id: String) -> Result<String, AppError> {
    use crier_domain::store::webhooks;

    use super::ssr::{current_member, fail_form, notice_for_next_page, pool};
    let outcome = async {
        let me = current_member().await?;
        let pool = pool()?;
        let endpoint = webhooks::get(&pool, me.team_id, parse_id(&endpoint_id)?).await?;
        if !endpoint.enabled {
            return Err(AppError::Refused("This endpoint is disabled: enable it to send it a test event.".into()));
        }
        match webhooks::send_test(&pool, &me, endpoint.endpoint_id, webhooks::TEST_EVENT_INTERVAL).await {
            Err(crier_domain::DomainError::TooSoon { retry_after_secs }) => {
                return Err(AppError::Refused(format!(
                    "A test event was sent to this endpoint less than a minute ago: try again in {retry_after_secs} seconds."
                )));
            }
            other => other?,
        }
        Ok(format!("A test event is on its way to {}; it appears in the log below.", endpoint.url))
    }
    .await;
    match outcome {
        Ok(message) => {
            notice_for_next_page(SendTestWebhook::PATH, &message).await;
            Ok(message)
        }
        Err(e) => fail_form(SendTestWebhook::PATH, e, &[]).await,
    }
}
