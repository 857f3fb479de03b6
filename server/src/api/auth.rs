//! Who is calling: a team API token (`Authorization: Bearer crier_api_…`), looked up by its hash,
//! then held to the token's rate limit. Everything a handler does is scoped by the caller's team.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::ApiState;
use super::problem::ApiError;
use crier_domain::Role;
use crier_domain::store::Member;
use crier_domain::store::api_tokens::{self, Admission, ApiCaller};
use crier_domain::store::audit::Actor;

/// The authenticated caller of a REST API request.
#[derive(Clone, Copy, Debug)]
pub struct Caller(pub ApiCaller);

impl Caller {
    /// The team everything is scoped by.
    pub fn team_id(&self) -> uuid::Uuid {
        self.0.team_id
    }

    /// The audit trail's actor.
    pub fn actor(&self) -> Actor {
        Actor::ApiToken(self.0.api_token_id)
    }

    /// Writing posts, verifying accounts: editors and up.
    pub fn require_editor(&self) -> Result<(), ApiError> {
        if self.0.role.can_edit() { Ok(()) } else { Err(ApiError::Forbidden) }
    }

    /// The member this token acts as where an act is a person's (a review decision, a comment, what
    /// waits for their review): the member who created it, with no more than the token's role.
    /// Refused when the token has none in the team.
    pub async fn member(&self, pool: &sqlx::PgPool) -> Result<Member, ApiError> {
        api_tokens::acting_member(pool, &self.0).await?.ok_or_else(|| {
            ApiError::Conflict(
                "This token acts for no member of the team (it was made with `crier admin create-token`, or the member who \
                 created it has left), and reviews and comments are a member's. Use a token a member created in Settings → API."
                    .into(),
            )
        })
    }

    /// Connecting and disconnecting accounts: admins (and owners, which tokens never are).
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if matches!(self.0.role, Role::Admin | Role::Owner) { Ok(()) } else { Err(ApiError::Forbidden) }
    }
}

impl FromRequestParts<ApiState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, Self::Rejection> {
        let presented = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(ApiError::Unauthenticated)?;
        match api_tokens::authenticate(&state.pool, presented, state.rate_limit).await?.ok_or(ApiError::Unauthenticated)? {
            Admission::Admitted(caller) => Ok(Caller(caller)),
            Admission::Limited { retry_after_secs } => Err(ApiError::RateLimited(retry_after_secs)),
        }
    }
}
