//! The post's lifecycle, before its deliveries take over.
//!
//! ```text
//!   (new) ──► draft ──────────────────────────────► scheduled ──► (its deliveries' machine)
//!               │ ▲                                     ▲
//!   submitted   ▼ │ taken back                          │
//!   (new) ──► in_review ──► approved ───────────────────┘
//!               ▲   │  ▲       │ edited: reviewed again
//!               │   │  └───────┘
//!               │   ▼
//!           changes_requested ──► draft
//!
//!   every state but scheduled ──► cancelled (discarded)
//! ```
//!
//! A post has deliveries exactly when it is scheduled (written in the same transaction). The
//! database enforces the same table (`post_transition_guard`, migration
//! `20261211000010_post_lifecycle.sql`); a test checks the two agree pair by pair.

use serde::{Deserialize, Serialize};

/// Where a post is in its lifecycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "store", derive(sqlx::Type), sqlx(type_name = "post_state", rename_all = "snake_case"))]
pub enum PostState {
    /// Being written: no deliveries, a time optional.
    Draft,
    /// Waiting for approval.
    InReview,
    /// An approver asked for changes.
    ChangesRequested,
    /// Approved, not yet scheduled (its time had passed, or it waits to be scheduled).
    Approved,
    /// Scheduled: its deliveries exist and carry it from here.
    Scheduled,
    /// Discarded before it was scheduled.
    Cancelled,
}

impl PostState {
    /// Every state.
    pub const ALL: [PostState; 6] = [
        PostState::Draft,
        PostState::InReview,
        PostState::ChangesRequested,
        PostState::Approved,
        PostState::Scheduled,
        PostState::Cancelled,
    ];

    /// Whether a post may move from `self` to `next`.
    pub fn can_become(self, next: PostState) -> bool {
        use PostState::*;
        matches!(
            (self, next),
            (Draft, InReview | Scheduled | Cancelled)
                | (InReview, Approved | ChangesRequested | Draft | Cancelled)
                | (ChangesRequested, Draft | InReview | Cancelled)
                | (Approved, Scheduled | InReview | Cancelled)
        )
    }

    /// Whether its author may discard it (a draft, or one sent back): not while approvers look at it.
    pub fn can_discard(self) -> bool {
        matches!(self, PostState::Draft | PostState::ChangesRequested)
    }

    /// The states a post may be written in.
    pub fn can_start(self) -> bool {
        matches!(self, PostState::Draft | PostState::InReview | PostState::Scheduled)
    }

    /// Its name in the database and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            PostState::Draft => "draft",
            PostState::InReview => "in_review",
            PostState::ChangesRequested => "changes_requested",
            PostState::Approved => "approved",
            PostState::Scheduled => "scheduled",
            PostState::Cancelled => "cancelled",
        }
    }

    /// In words, for the pages.
    pub fn label(self) -> &'static str {
        match self {
            PostState::Draft => "Draft",
            PostState::InReview => "In review",
            PostState::ChangesRequested => "Changes requested",
            PostState::Approved => "Approved",
            PostState::Scheduled => "Scheduled",
            PostState::Cancelled => "Discarded",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheduled_and_cancelled_are_final_and_nothing_returns_to_them_by_accident() {
        for state in PostState::ALL {
            assert!(!PostState::Scheduled.can_become(state));
            assert!(!PostState::Cancelled.can_become(state));
            assert!(!state.can_become(state), "{state:?} → itself is no transition");
        }
        // Only an approved post or a draft (no approvals needed) is scheduled.
        let scheduled_from: Vec<PostState> = PostState::ALL.into_iter().filter(|s| s.can_become(PostState::Scheduled)).collect();
        assert_eq!(scheduled_from, [PostState::Draft, PostState::Approved]);
    }
}
