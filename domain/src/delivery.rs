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
}

impl DeliveryState {
    /// Every state.
    pub const ALL: [DeliveryState; 8] = [
        DeliveryState::Scheduled,
        DeliveryState::Publishing,
        DeliveryState::Retrying,
        DeliveryState::Published,
        DeliveryState::DryRunOk,
        DeliveryState::Failed,
        DeliveryState::Held,
        DeliveryState::Cancelled,
    ];

    /// Whether a delivery may move from `self` to `next`.
    pub fn can_become(self, next: DeliveryState) -> bool {
        use DeliveryState::*;
        matches!(
            (self, next),
            (Scheduled, Publishing | Held | Cancelled)
                | (Publishing, Published | DryRunOk | Retrying | Failed | Held)
                | (Retrying, Publishing | Held | Cancelled | Failed)
                | (Held, Scheduled | Cancelled)
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
        }
    }
}

#[cfg(test)]
mod tests {
    use super::DeliveryState;

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
