//! `/api/v1/review` and `/api/v1/posts/{id}/review`: the Review page for scripts. A decision is a
//! person's act: a token decides as the member who created it, with no more than the token's
//! role, so the team's approval settings hold as on the page, and nobody approves their own post
//! (a token its author created cannot approve it either).

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::auth::Caller;
use super::drafts::{PlannedAccount, workflow_error};
use super::problem::{ApiError, Conflict, Forbidden, Internal, Invalid, Malformed, NotFound, RateLimited, Unauthenticated};
use super::{ApiJson, ApiPath, ApiState};
use crier_domain::post_state::PostState;
use crier_domain::store::reviews::{self, Decided, Decision};

/// An approver's decision.
#[derive(Clone, Copy, Debug, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecisionJson {
    /// Approve the post.
    Approve,
    /// Send it back to its author, with a comment saying what to change.
    RequestChanges,
}

/// A decision on a post in review.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    /// approve or request_changes.
    pub decision: DecisionJson,
    /// What to change (required to request changes; at most 4,000 characters). The author reads it
    /// with the post.
    #[serde(default)]
    #[schema(example = "Say which day it launches.")]
    pub comment: String,
}

/// What a decision did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewOutcome {
    /// Where the post is now: in_review (more approvals are needed), scheduled, approved (not
    /// scheduled: `detail` says why) or changes_requested.
    #[schema(value_type = String, example = "scheduled")]
    pub state: PostState,
    /// What happened, in words.
    pub detail: String,
    /// Approvals so far in this round, while more are needed.
    pub approvals: Option<i64>,
    /// Approvals the team's settings ask, while more are needed.
    pub approvals_needed: Option<u8>,
    /// When it is scheduled for, once scheduled.
    pub scheduled_at: Option<DateTime<Utc>>,
}

/// A post waiting for review.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewItem {
    /// The post (`GET /api/v1/drafts/{id}` shows it whole).
    pub id: Uuid,
    /// Its text.
    pub text: String,
    /// When it is planned for.
    pub planned_at: Option<DateTime<Utc>>,
    /// Who wrote it (absent once they left the team).
    pub author: Option<String>,
    /// The accounts it is meant for.
    pub accounts: Vec<PlannedAccount>,
    /// Approvals so far in this round.
    pub approvals: i64,
    /// Approvals it needs.
    pub approvals_needed: u8,
    /// Whether this token may decide on it now.
    pub can_decide: bool,
    /// Why not, when it may not: its creator's own post, already decided, a role that does not approve.
    pub cannot_decide: Option<String>,
}

/// What waits for review.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewList {
    /// Oldest first, at most 200.
    pub items: Vec<ReviewItem>,
    /// The team's approval settings, in words.
    pub policy: String,
}

/// What waits for review in the team, as the token's creator sees it (with the token's role).
#[utoipa::path(get, path = "/api/v1/review", tag = "review", operation_id = "list_review",
    responses((status = 200, description = "Posts in review, oldest first, and whether this token may decide on each", body = ReviewList),
              Unauthenticated, Conflict, RateLimited, Internal),
    security(("bearer" = [])))]
pub async fn list(State(state): State<ApiState>, caller: Caller) -> Result<Json<ReviewList>, ApiError> {
    let me = caller.member(&state.pool).await?;
    let policy = reviews::policy(&state.pool, me.team_id).await?;
    let approver = policy.may_approve(me.role);
    let items = reviews::in_review(&state.pool, &me)
        .await?
        .into_iter()
        .map(|p| {
            let cannot_decide = if p.own {
                Some("The token's creator wrote it: another approver decides on it.")
            } else if p.decided {
                Some("The token's creator has decided on this version.")
            } else if !approver {
                Some("This token's role does not approve posts in this team.")
            } else {
                None
            };
            ReviewItem {
                id: p.post_id,
                text: p.text,
                planned_at: p.planned_at,
                author: p.author,
                accounts: PlannedAccount::all(p.accounts),
                approvals: p.approvals,
                approvals_needed: policy.approvals,
                can_decide: cannot_decide.is_none(),
                cannot_decide: cannot_decide.map(str::to_owned),
            }
        })
        .collect();
    Ok(Json(ReviewList { items, policy: policy.describe() }))
}

/// Approve a post in review, or request changes with a comment. The last approval it needs
/// schedules it for its planned time (if still to come).
#[utoipa::path(post, path = "/api/v1/posts/{id}/review", tag = "review", operation_id = "review_post",
    params(("id" = Uuid, Path, description = "The post, in review")), request_body = ReviewBody,
    responses((status = 200, description = "What the decision did", body = ReviewOutcome),
              Malformed, Unauthenticated, Forbidden, NotFound, Invalid, Conflict, RateLimited, Internal),
    security(("bearer" = [])))]
pub async fn decide(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<ReviewBody>,
) -> Result<Json<ReviewOutcome>, ApiError> {
    caller.require_editor()?;
    let me = caller.member(&state.pool).await?;
    let decision = match body.decision {
        DecisionJson::Approve => Decision::Approve,
        DecisionJson::RequestChanges => Decision::RequestChanges,
    };
    let decided =
        reviews::decide(&state.pool, &me, id, decision, &body.comment, &state.media.rules).await.map_err(|e| workflow_error(id, e))?;
    let outcome = |state, detail: String| ReviewOutcome { state, detail, approvals: None, approvals_needed: None, scheduled_at: None };
    Ok(Json(match decided {
        Decided::Waiting { approvals, needed } => ReviewOutcome {
            approvals: Some(approvals),
            approvals_needed: Some(needed),
            ..outcome(PostState::InReview, format!("Approved: {approvals} of {needed} approvals so far."))
        },
        Decided::Scheduled(at) => ReviewOutcome {
            scheduled_at: Some(at),
            ..outcome(PostState::Scheduled, format!("Approved and scheduled for {}.", at.to_rfc3339()))
        },
        Decided::Approved(why) => outcome(PostState::Approved, why),
        Decided::ChangesRequested => outcome(PostState::ChangesRequested, "Sent back to its author with the comment.".to_owned()),
    }))
}
