//! Webhooks: the events a team's endpoints can subscribe to, and the states of a call. Pure, so
//! the Settings page lists the events with the same names the server checks.
//!
//! How a call is signed is in [`crate::webhook_signature`]; the queue in `store::webhooks`.

use serde::{Deserialize, Serialize};

use crate::FieldError;

/// An event a team can receive at its endpoints. Each comes from the audit trail: the action in
/// parentheses is the audit event it tells of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum WebhookEvent {
    /// `delivery.published` (`delivery_published`): a post went out to one account.
    #[serde(rename = "delivery.published")]
    DeliveryPublished,
    /// `delivery.failed` (`delivery_failed`): a delivery failed for good.
    #[serde(rename = "delivery.failed")]
    DeliveryFailed,
    /// `delivery.held` (`delivery_held`): a delivery waits until its account is reconnected.
    #[serde(rename = "delivery.held")]
    DeliveryHeld,
    /// `account.needs_reauth` (`account_needs_reauth`): a platform refused an account's token.
    #[serde(rename = "account.needs_reauth")]
    AccountNeedsReauth,
}

/// The type of the test event Settings sends to one endpoint ("Send test event").
pub const PING: &str = "ping";

impl WebhookEvent {
    /// Every event, in the order the Settings page lists them.
    pub const ALL: [WebhookEvent; 4] =
        [WebhookEvent::DeliveryPublished, WebhookEvent::DeliveryFailed, WebhookEvent::DeliveryHeld, WebhookEvent::AccountNeedsReauth];

    /// The name in payloads, the `Crier-Event` header and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookEvent::DeliveryPublished => "delivery.published",
            WebhookEvent::DeliveryFailed => "delivery.failed",
            WebhookEvent::DeliveryHeld => "delivery.held",
            WebhookEvent::AccountNeedsReauth => "account.needs_reauth",
        }
    }

    /// The event of a name, if it is one.
    pub fn parse(name: &str) -> Option<WebhookEvent> {
        WebhookEvent::ALL.into_iter().find(|e| e.as_str() == name.trim())
    }

    /// What it means, for the page.
    pub fn description(self) -> &'static str {
        match self {
            WebhookEvent::DeliveryPublished => "a post went out to an account (with its link)",
            WebhookEvent::DeliveryFailed => "a post failed for good on an account (with the reason)",
            WebhookEvent::DeliveryHeld => "a post waits until its account is reconnected",
            WebhookEvent::AccountNeedsReauth => "a platform refused an account's token: someone must reconnect it",
        }
    }

    /// The events ticked in a form (each checkbox submits one name): at least one, each known,
    /// each once, in [`WebhookEvent::ALL`]'s order.
    pub fn parse_list(names: &[String]) -> Result<Vec<WebhookEvent>, FieldError> {
        let mut chosen = Vec::new();
        for name in names.iter().filter(|n| !n.trim().is_empty()) {
            let event = WebhookEvent::parse(name)
                .ok_or_else(|| FieldError::new("events", format!("“{}” is not an event Crier sends.", name.trim())))?;
            if !chosen.contains(&event) {
                chosen.push(event);
            }
        }
        if chosen.is_empty() {
            return Err(FieldError::new("events", "Choose at least one event to send to this endpoint."));
        }
        chosen.sort_by_key(|e| WebhookEvent::ALL.iter().position(|a| a == e));
        Ok(chosen)
    }
}

impl std::fmt::Display for WebhookEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a webhook call is (see the migration for the transitions).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "store", derive(sqlx::Type), sqlx(type_name = "webhook_call_state", rename_all = "snake_case"))]
pub enum CallState {
    /// Waiting for its (next) attempt.
    Pending,
    /// A worker is calling the endpoint now.
    Sending,
    /// The endpoint answered 2xx.
    Delivered,
    /// Every attempt failed.
    Failed,
}

impl CallState {
    /// A word for the log.
    pub fn label(self) -> &'static str {
        match self {
            CallState::Pending => "pending",
            CallState::Sending => "sending",
            CallState::Delivered => "delivered",
            CallState::Failed => "failed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_names_round_trip_and_lists_are_checked() {
        for event in WebhookEvent::ALL {
            assert_eq!(WebhookEvent::parse(event.as_str()), Some(event));
            assert_eq!(serde_json::to_value(event).unwrap(), event.as_str());
        }
        let names = |n: &[&str]| n.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            WebhookEvent::parse_list(&names(&["account.needs_reauth", "delivery.published", "delivery.published"])),
            Ok(vec![WebhookEvent::DeliveryPublished, WebhookEvent::AccountNeedsReauth])
        );
        assert_eq!(WebhookEvent::parse_list(&[]).unwrap_err().field, "events");
        assert!(WebhookEvent::parse_list(&names(&["post.deleted"])).unwrap_err().message.contains("post.deleted"));
    }
}
