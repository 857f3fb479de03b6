//! The delivery state machine: one post to one account.
//!
//! ```text
//!                      ┌───────────► held ◄──────────────┐
//!                      │              │ reconnected       │
//!                      │              ▼                   │
//!   (new) ──► scheduled ──► publishing ──► published      │
//!              ▲  │   ▲        │  │  └──► dry_run_ok      │
//!              │  │   │        │  └─────► failed ─────────┼──► scheduled ("Retry")
//!              │  │   │        ▼                          │
//!              │  │   └──── retrying ─────────────────────┘
//!              │  ▼            (backoff, rate limit, worker died)
//!              └ cancelled ◄── (from scheduled, retrying, held)
//! ```
//!
//! The database enforces the same table (`delivery_transition_guard` in the migration
//! `20261121000003_posts_deliveries_audit.sql`); a test checks the two agree pair by pair.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where a delivery is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "store", derive(sqlx::Type), sqlx(type_name = "delivery_state", rename_all = "snake_case"))]
pub enum DeliveryState {
    /// Waiting for its time.
    Scheduled,
    /// A worker is calling the platform.
    Publishing,
    /// Waiting for its next attempt (backoff, a rate limit's reset, or a rescued worker's).
    Retrying,
    /// The platform has it; the external id is known.
    Published,
    /// A dry run went through everything but the publish call.
    DryRunOk,
    /// Retrying cannot help; the platform's reason is kept.
    Failed,
    /// The account needs re-authorising; resumes when it is reconnected.
    Held,
    /// Cancelled by the team before it was published.
    Cancelled,
    /// Waiting in a paused posting queue; takes a fresh slot when the queue resumes.
    Paused,
}

impl DeliveryState {
    /// Every state.
    pub const ALL: [DeliveryState; 9] = [
        DeliveryState::Scheduled,
        DeliveryState::Publishing,
        DeliveryState::Retrying,
        DeliveryState::Published,
        DeliveryState::DryRunOk,
        DeliveryState::Failed,
        DeliveryState::Held,
        DeliveryState::Cancelled,
        DeliveryState::Paused,
    ];

    /// Whether a delivery may move from `self` to `next`.
    pub fn can_become(self, next: DeliveryState) -> bool {
        use DeliveryState::*;
        matches!(
            (self, next),
            (Scheduled, Publishing | Held | Cancelled | Paused)
                | (Publishing, Published | DryRunOk | Retrying | Failed | Held)
                | (Retrying, Publishing | Held | Cancelled | Failed)
                | (Held, Scheduled | Cancelled)
                | (Paused, Scheduled | Cancelled)
                | (Failed, Scheduled)
        )
    }

    /// Whether nothing more will happen to it.
    pub fn is_final(self) -> bool {
        matches!(self, DeliveryState::Published | DeliveryState::DryRunOk | DeliveryState::Cancelled)
    }

    /// Its name in the database and in JSON (`dry_run_ok`), e.g. for metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Scheduled => "scheduled",
            DeliveryState::Publishing => "publishing",
            DeliveryState::Retrying => "retrying",
            DeliveryState::Published => "published",
            DeliveryState::DryRunOk => "dry_run_ok",
            DeliveryState::Failed => "failed",
            DeliveryState::Held => "held",
            DeliveryState::Cancelled => "cancelled",
            DeliveryState::Paused => "paused",
        }
    }

    /// The words a chip on the dashboard shows.
    pub fn label(self) -> &'static str {
        match self {
            DeliveryState::Scheduled => "Scheduled",
            DeliveryState::Publishing => "Publishing",
            DeliveryState::Retrying => "Retrying",
            DeliveryState::Published => "Published",
            DeliveryState::DryRunOk => "Dry run OK",
            DeliveryState::Failed => "Failed",
            DeliveryState::Held => "Held",
            DeliveryState::Cancelled => "Cancelled",
            DeliveryState::Paused => "Queue paused",
        }
    }
}

impl FromStr for DeliveryState {
    type Err = String;

    /// Parses a state's name ([`DeliveryState::as_str`]); the error lists the names.
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        DeliveryState::ALL.into_iter().find(|state| state.as_str() == input.trim()).ok_or_else(|| {
            let names: Vec<_> = DeliveryState::ALL.iter().map(|s| s.as_str()).collect();
            format!("Use one of {}.", names.join(", "))
        })
    }
}

/// How one attempt at a delivery ended: the `outcome` of its `delivery_attempt` row (a PostgreSQL
/// enum), in the audit trail and on the post's page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "store", derive(sqlx::Type), sqlx(type_name = "attempt_outcome", rename_all = "snake_case"))]
pub enum AttemptOutcome {
    /// The platform accepted the post.
    Published,
    /// The post was found already published (an earlier attempt's outcome was unknown).
    Reconciled,
    /// A dry run passed every check.
    DryRunOk,
    /// The post breaks a platform rule (too long, empty): retrying cannot help.
    Validation,
    /// The platform refused it for good.
    Permanent,
    /// A temporary failure: retried with backoff.
    Temporary,
    /// The account's rate limit: retried after its reset.
    RateLimited,
    /// The token was refused: held until the account is reconnected.
    NeedsReauth,
    /// The worker stopped during the call: the platform is checked for the post first next time.
    Unknown,
}

impl AttemptOutcome {
    /// Every outcome.
    pub const ALL: [AttemptOutcome; 9] = [
        AttemptOutcome::Published,
        AttemptOutcome::Reconciled,
        AttemptOutcome::DryRunOk,
        AttemptOutcome::Validation,
        AttemptOutcome::Permanent,
        AttemptOutcome::Temporary,
        AttemptOutcome::RateLimited,
        AttemptOutcome::NeedsReauth,
        AttemptOutcome::Unknown,
    ];

    /// Its name in the database and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptOutcome::Published => "published",
            AttemptOutcome::Reconciled => "reconciled",
            AttemptOutcome::DryRunOk => "dry_run_ok",
            AttemptOutcome::Validation => "validation",
            AttemptOutcome::Permanent => "permanent",
            AttemptOutcome::Temporary => "temporary",
            AttemptOutcome::RateLimited => "rate_limited",
            AttemptOutcome::NeedsReauth => "needs_reauth",
            AttemptOutcome::Unknown => "unknown",
        }
    }

    /// What the post's page says of it.
    pub fn words(self) -> &'static str {
        match self {
            AttemptOutcome::Published => "published",
            AttemptOutcome::Reconciled => "found already published (not posted twice)",
            AttemptOutcome::DryRunOk => "dry run passed",
            AttemptOutcome::Validation => "the text does not fit the platform",
            AttemptOutcome::Permanent => "refused by the platform",
            AttemptOutcome::Temporary => "temporary failure: retried later",
            AttemptOutcome::RateLimited => "rate limited: waits for the reset",
            AttemptOutcome::NeedsReauth => "the account needs reconnecting",
            AttemptOutcome::Unknown => "outcome unknown: checked before the next attempt",
        }
    }
}

/// Why a delivery did not publish (yet): `delivery.last_error_class` (a PostgreSQL enum), in the
/// audit trail, webhooks and the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "store", derive(sqlx::Type), sqlx(type_name = "failure_class", rename_all = "snake_case"))]
pub enum FailureClass {
    /// The post breaks a platform rule Crier checks (too long, empty).
    Validation,
    /// The platform refused it for good (a duplicate, a policy).
    Permanent,
    /// This Crier cannot reach the platform (no app configured).
    Configuration,
    /// A call's outcome could not be known and cannot be checked (LinkedIn member posts).
    Unknown,
    /// A temporary failure (retried, or given up after the last attempt).
    Temporary,
    /// The account's rate limit (retried after the reset).
    RateLimited,
    /// The token was refused; the account needs reconnecting.
    NeedsReauth,
}

impl FailureClass {
    /// Every class.
    pub const ALL: [FailureClass; 7] = [
        FailureClass::Validation,
        FailureClass::Permanent,
        FailureClass::Configuration,
        FailureClass::Unknown,
        FailureClass::Temporary,
        FailureClass::RateLimited,
        FailureClass::NeedsReauth,
    ];

    /// Its name in the database and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureClass::Validation => "validation",
            FailureClass::Permanent => "permanent",
            FailureClass::Configuration => "configuration",
            FailureClass::Unknown => "unknown",
            FailureClass::Temporary => "temporary",
            FailureClass::RateLimited => "rate_limited",
            FailureClass::NeedsReauth => "needs_reauth",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{AttemptOutcome, DeliveryState, FailureClass};

    #[test]
    fn outcomes_and_classes_are_named_as_serde_names_them() {
        for outcome in AttemptOutcome::ALL {
            assert_eq!(serde_json::to_value(outcome).unwrap(), outcome.as_str());
        }
        for class in FailureClass::ALL {
            assert_eq!(serde_json::to_value(class).unwrap(), class.as_str());
        }
    }

    #[test]
    fn final_states_go_nowhere_and_every_other_state_has_a_way_out() {
        for state in DeliveryState::ALL {
            let exits = DeliveryState::ALL.iter().filter(|next| state.can_become(**next)).count();
            assert_eq!(exits == 0, state.is_final(), "{state:?}");
            assert!(!state.can_become(state), "{state:?} → itself is not a transition");
            assert_eq!(serde_json::to_value(state).unwrap(), state.as_str(), "as_str is the serde name");
        }
    }
}
