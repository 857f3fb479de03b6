//! `/api/v1/accounts`: the team's connected accounts, Verify, Disconnect, and a link to connect
//! one (OAuth needs a person at a browser: the link opens Crier's own Connect flow).

use std::collections::HashMap;

use axum::Json;
use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::auth::Caller;
use super::problem::{ApiError, Conflict, Forbidden, Internal, Invalid, Malformed, NotFound, RateLimited, Unauthenticated, Unavailable};
use super::{ApiJson, ApiPath, ApiState};
use crier_domain::FieldError;
use crier_domain::account::{AccountHealth, AccountKind};
use crier_domain::store::account_pictures;
use crier_domain::store::accounts::{self, Account};
use crier_platform::Platform;

/// A connected account (never its tokens).
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountJson {
    /// Crier's id.
    pub id: Uuid,
    /// x, linkedin or facebook.
    #[schema(value_type = String, example = "x")]
    pub platform: Platform,
    /// profile, organization or page.
    #[schema(value_type = String, example = "profile")]
    pub kind: AccountKind,
    /// Its name.
    pub name: String,
    /// `@username` on X.
    pub handle: Option<String>,
    /// connected, expiring_soon, needs_reauth or revoked.
    #[schema(value_type = String, example = "connected")]
    pub status: AccountHealth,
    /// The platform's last word on a failed check.
    pub status_detail: Option<String>,
    /// When the team must reconnect by, if ever.
    pub reauth_by: Option<DateTime<Utc>>,
    /// When it was (re)connected.
    pub connected_at: DateTime<Utc>,
    /// When Crier last published with it.
    pub last_used_at: Option<DateTime<Utc>>,
    /// When a Verify last succeeded.
    pub last_verified_at: Option<DateTime<Utc>>,
    /// Its profile picture as Crier stored it (fetched when it was connected or verified):
    /// `/api/v1/accounts/{id}/picture?v=<version>`, a URL that changes when the picture does.
    #[schema(example = "/api/v1/accounts/0b5e8a52-3c1f-4e0e-9d53-3d2f1c7e8a10/picture?v=3f9a1c0d2b7e4a65")]
    pub picture_url: Option<String>,
}

/// The account's JSON; `pictures` are its team's picture versions by account
/// ([`account_pictures::versions`]).
pub(super) fn account_json(a: Account, pictures: &HashMap<Uuid, String>) -> AccountJson {
    AccountJson {
        picture_url: pictures.get(&a.account_id).map(|v| format!("/api/v1/accounts/{}/picture?v={v}", a.account_id)),
        id: a.account_id,
        platform: a.platform,
        kind: a.kind,
        status: a.health(Utc::now()),
        reauth_by: a.reauth_by(),
        name: a.name,
        handle: a.handle,
        status_detail: a.status_detail,
        connected_at: a.connected_at,
        last_used_at: a.last_used_at,
        last_verified_at: a.last_verified_at,
    }
}

/// The team's accounts that are not disconnected.
pub(super) async fn connected(state: &ApiState, team_id: Uuid) -> Result<Vec<AccountJson>, ApiError> {
    use crier_domain::account::AccountStatus;
    let rows = accounts::list(&state.pool, team_id).await?;
    let pictures = account_pictures::versions(&state.pool, team_id).await?;
    Ok(rows.into_iter().filter(|a| a.status != AccountStatus::Disconnected).map(|a| account_json(a, &pictures)).collect())
}

/// List the team's accounts.
#[utoipa::path(get, path = "/api/v1/accounts", tag = "accounts", operation_id = "list_accounts",
    responses((status = 200, description = "The accounts that are not disconnected, with their health", body = [AccountJson]),
              Unauthenticated, RateLimited, Internal),
    security(("bearer" = [])))]
pub async fn list(State(state): State<ApiState>, caller: Caller) -> Result<Json<Vec<AccountJson>>, ApiError> {
    Ok(Json(connected(&state, caller.team_id()).await?))
}

/// One account.
#[utoipa::path(get, path = "/api/v1/accounts/{id}", tag = "accounts", operation_id = "get_account",
    params(("id" = Uuid, Path, description = "The account")),
    responses((status = 200, description = "The account with its health", body = AccountJson),
              Unauthenticated, NotFound, RateLimited, Internal),
    security(("bearer" = [])))]
pub async fn get(State(state): State<ApiState>, caller: Caller, ApiPath(id): ApiPath<Uuid>) -> Result<Json<AccountJson>, ApiError> {
    let account = accounts::get(&state.pool, caller.team_id(), id).await?;
    Ok(Json(account_json(account, &account_pictures::versions(&state.pool, caller.team_id()).await?)))
}

/// Ask the platform whether the account's token still works (refreshing it first if it expired).
#[utoipa::path(post, path = "/api/v1/accounts/{id}/verify", tag = "accounts", operation_id = "verify_account",
    params(("id" = Uuid, Path, description = "The account")),
    responses((status = 200, description = "The account after the check (its status says the outcome)", body = AccountJson),
              Unauthenticated, Forbidden, NotFound, Conflict, RateLimited, Internal, Unavailable),
    security(("bearer" = [])))]
pub async fn verify(State(state): State<ApiState>, caller: Caller, ApiPath(id): ApiPath<Uuid>) -> Result<Json<AccountJson>, ApiError> {
    caller.require_editor()?;
    let account = state.accounts.verify(caller.team_id(), id).await?;
    Ok(Json(account_json(account, &account_pictures::versions(&state.pool, caller.team_id()).await?)))
}

/// Disconnect: deletes the tokens and revokes them at the platform; the history is kept.
#[utoipa::path(delete, path = "/api/v1/accounts/{id}", tag = "accounts", operation_id = "disconnect_account",
    params(("id" = Uuid, Path, description = "The account")),
    responses((status = 200, description = "The account as it was", body = AccountJson),
              Unauthenticated, Forbidden, NotFound, RateLimited, Internal),
    security(("bearer" = [])))]
pub async fn disconnect(State(state): State<ApiState>, caller: Caller, ApiPath(id): ApiPath<Uuid>) -> Result<Json<AccountJson>, ApiError> {
    caller.require_admin()?;
    // A disconnected account is not listed, nor is its picture offered.
    Ok(Json(account_json(state.accounts.disconnect(caller.team_id(), caller.actor(), id).await?, &HashMap::new())))
}

/// Download the account's profile picture, as Crier stored it.
#[utoipa::path(get, path = "/api/v1/accounts/{id}/picture", tag = "accounts", operation_id = "get_account_picture",
    params(("id" = Uuid, Path, description = "The account")),
    responses((status = 200, description = "The picture (cacheable for long: its URL's `v` changes with it)",
               content(("image/png"), ("image/jpeg"), ("image/gif"), ("image/webp"))),
              Unauthenticated, NotFound, RateLimited, Internal),
    security(("bearer" = [])))]
pub async fn picture(State(state): State<ApiState>, caller: Caller, ApiPath(id): ApiPath<Uuid>) -> Result<Response, ApiError> {
    Ok(crate::media_bytes::account_picture(account_pictures::get(&state.pool, caller.team_id(), id).await?))
}

/// Which platform to connect.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ConnectJson {
    /// x (or twitter), linkedin or facebook.
    #[schema(example = "linkedin")]
    pub platform: String,
}

/// Where a person finishes connecting.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectLink {
    /// Open in a browser where an owner or admin of the team signs in: it starts the platform's consent.
    pub authorize_url: String,
}

/// A link that connects an account of this platform to the token's team.
#[utoipa::path(post, path = "/api/v1/accounts/connect", tag = "accounts", operation_id = "connect_account", request_body = ConnectJson,
    responses((status = 200, description = "The link for a person to open in a browser", body = ConnectLink),
              Malformed, Unauthenticated, Forbidden, Invalid, RateLimited, Internal, Unavailable),
    security(("bearer" = [])))]
pub async fn connect(
    State(state): State<ApiState>,
    caller: Caller,
    ApiJson(body): ApiJson<ConnectJson>,
) -> Result<Json<ConnectLink>, ApiError> {
    connect_link(&state, &caller, &body.platform).map(Json)
}

pub(super) fn connect_link(state: &ApiState, caller: &Caller, platform: &str) -> Result<ConnectLink, ApiError> {
    caller.require_admin()?;
    let platform = parse_platform(platform)?;
    if !state.accounts.clients().is_available(platform) {
        return Err(ApiError::Unavailable(format!(
            "{platform} is not configured on this Crier: its operator must set its app's client id and secret."
        )));
    }
    Ok(ConnectLink { authorize_url: format!("{}/accounts/connect/{}?team={}", state.public_base, platform.as_str(), caller.team_id()) })
}

/// `x`, `twitter` (the product brief's name), `linkedin` or `facebook`.
pub(super) fn parse_platform(name: &str) -> Result<Platform, ApiError> {
    let name = name.trim();
    let name = if name.eq_ignore_ascii_case("twitter") { "x" } else { name };
    name.parse::<Platform>().map_err(|_| FieldError::new("platform", "Use x (or twitter), linkedin or facebook.").into())
}
