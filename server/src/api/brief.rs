//! The product brief's endpoints, in the brief's shapes, on top of the same handlers as `/api/v1`:
//! teams moving from the system the brief describes keep their scripts.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::accounts::{AccountJson, ConnectJson, ConnectLink};
use super::auth::Caller;
use super::insights::RangeQuery;
use super::posts::DeliveryJson;
use super::problem::{ApiError, Forbidden, Internal, Invalid, Malformed, NotFound, RateLimited, Unauthenticated, Unavailable};
use super::{ApiJson, ApiPath, ApiState};
use crier_domain::store::analytics;
use crier_platform::Platform;

/// The brief's name for a platform: X is still "twitter" there.
fn brief_name(platform: Platform) -> &'static str {
    match platform {
        Platform::X => "twitter",
        Platform::Linkedin => "linkedin",
        Platform::Facebook => "facebook",
    }
}

/// `GET /api/v2/social/status`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SocialStatus {
    /// Per platform with accounts: `connected` when one can publish, else `needs_reauth`.
    #[schema(example = json!({"twitter": "connected", "linkedin": "connected"}))]
    pub platforms: BTreeMap<&'static str, &'static str>,
    /// `active` when a worker is running, `stopped` when none is.
    #[schema(example = "active")]
    pub scheduler_status: &'static str,
    /// Posts with a delivery still to go out.
    #[schema(example = 5)]
    pub queued_posts: i64,
}

/// Platform connection status (the brief's shape).
#[utoipa::path(get, path = "/api/v2/social/status", tag = "product brief",
    responses((status = 200, description = "Each platform's connection status, the scheduler's, and the posts waiting", body = SocialStatus),
              Unauthenticated, RateLimited, Internal),
    security(("bearer" = [])))]
pub async fn social_status(State(state): State<ApiState>, caller: Caller) -> Result<Json<SocialStatus>, ApiError> {
    let status = super::insights::status_of(&state, caller.team_id()).await?;
    Ok(Json(SocialStatus {
        platforms: status
            .platforms
            .iter()
            .map(|p| (brief_name(p.platform), if p.connected > 0 { "connected" } else { "needs_reauth" }))
            .collect(),
        scheduler_status: status.scheduler_status,
        queued_posts: status.queue.posts_waiting,
    }))
}

/// One platform in `GET /api/v2/social/analytics`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SocialPlatformFigures {
    /// Deliveries to the platform.
    #[schema(example = 80)]
    pub posts: i64,
    /// published ÷ finished (0 while nothing has finished).
    #[schema(example = 0.975)]
    pub success_rate: f64,
}

/// `GET /api/v2/social/analytics`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SocialAnalytics {
    /// Deliveries (one post to one account).
    #[schema(example = 150)]
    pub total_posts: i64,
    /// Published.
    #[schema(example = 145)]
    pub successful_posts: i64,
    /// Failed for good.
    #[schema(example = 5)]
    pub failed_posts: i64,
    /// Per platform.
    pub platforms: BTreeMap<&'static str, SocialPlatformFigures>,
}

/// Posting analytics (the brief's shape); all time unless `from`/`until` are given.
#[utoipa::path(get, path = "/api/v2/social/analytics", tag = "product brief", params(RangeQuery),
    responses((status = 200, description = "Deliveries and how they ended, in all and per platform", body = SocialAnalytics),
              Unauthenticated, Invalid, RateLimited, Internal),
    security(("bearer" = [])))]
pub async fn social_analytics(
    State(state): State<ApiState>,
    caller: Caller,
    super::ApiQuery(q): super::ApiQuery<RangeQuery>,
) -> Result<Json<SocialAnalytics>, ApiError> {
    // "All time" within what Postgres stores: every post Crier can have.
    let from = q.from.unwrap_or(chrono::DateTime::UNIX_EPOCH);
    let until = q.until.unwrap_or_else(|| chrono::Utc::now() + chrono::TimeDelta::days(366 * 100));
    let a = analytics::summary(&state.pool, caller.team_id(), from, until).await?;
    Ok(Json(SocialAnalytics {
        total_posts: a.outcomes.deliveries,
        successful_posts: a.outcomes.published,
        failed_posts: a.outcomes.failed,
        platforms: a
            .platforms
            .iter()
            .map(|p| {
                let figures =
                    SocialPlatformFigures { posts: p.outcomes.deliveries, success_rate: p.outcomes.success_rate().unwrap_or(0.0) };
                (brief_name(p.platform), figures)
            })
            .collect(),
    }))
}

/// Connected accounts (`GET /api/social-media/accounts`).
#[utoipa::path(get, path = "/api/social-media/accounts", tag = "product brief",
    responses((status = 200, description = "The accounts that are not disconnected, with their health", body = [AccountJson]),
              Unauthenticated, RateLimited, Internal),
    security(("bearer" = [])))]
pub async fn accounts(state: State<ApiState>, caller: Caller) -> Result<Json<Vec<AccountJson>>, ApiError> {
    super::accounts::list(state, caller).await
}

/// Disconnect an account (`DELETE /api/social-media/accounts/{id}`).
#[utoipa::path(delete, path = "/api/social-media/accounts/{id}", tag = "product brief", params(("id" = Uuid, Path, description = "The account")),
    responses((status = 200, description = "The account as it was", body = AccountJson),
              Unauthenticated, Forbidden, NotFound, RateLimited, Internal),
    security(("bearer" = [])))]
pub async fn disconnect(state: State<ApiState>, caller: Caller, id: ApiPath<Uuid>) -> Result<Json<AccountJson>, ApiError> {
    super::accounts::disconnect(state, caller, id).await
}

/// A link to connect a platform account (`POST /api/social-media/oauth/connect`).
#[utoipa::path(post, path = "/api/social-media/oauth/connect", tag = "product brief", request_body = ConnectJson,
    responses((status = 200, description = "The link for a person to open in a browser", body = ConnectLink),
              Malformed, Unauthenticated, Forbidden, Invalid, RateLimited, Internal, Unavailable),
    security(("bearer" = [])))]
pub async fn oauth_connect(
    State(state): State<ApiState>,
    caller: Caller,
    ApiJson(body): ApiJson<ConnectJson>,
) -> Result<Json<ConnectLink>, ApiError> {
    super::accounts::connect_link(&state, &caller, &body.platform).map(Json)
}

/// A delivery's status (`GET /api/publishing/status/{distributionId}`: a distribution is a delivery).
#[utoipa::path(get, path = "/api/publishing/status/{distributionId}", tag = "product brief",
    params(("distributionId" = Uuid, Path, description = "The delivery")),
    responses((status = 200, description = "The delivery with its attempts", body = DeliveryJson),
              Unauthenticated, NotFound, RateLimited, Internal),
    security(("bearer" = [])))]
pub async fn publishing_status(state: State<ApiState>, caller: Caller, id: ApiPath<Uuid>) -> Result<Json<DeliveryJson>, ApiError> {
    super::posts::delivery(state, caller, id).await
}
