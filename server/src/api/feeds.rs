//! `/api/v1/feeds`: the RSS and Atom feeds the team follows (see docs/feeds.md). Listing needs any
//! token; adding and removing are an admin's, done as the member who created the token (the
//! feed's posts are theirs).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::auth::Caller;
use super::problem::{ApiError, Conflict, Forbidden, Internal, Invalid, Malformed, NotFound, RateLimited, Unauthenticated};
use super::{ApiJson, ApiPath, ApiState, created};
use crier_domain::FieldError;
use crier_domain::feed::NewFeed;
use crier_domain::store::feeds::{self, FeedView};

/// A feed to follow.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFeedJson {
    /// The feed's address (RSS, Atom or JSON Feed), `https://`.
    #[schema(example = "https://blog.example.com/feed.xml")]
    pub url: String,
    /// The accounts its posts go to.
    pub account_ids: Vec<Uuid>,
    /// The posts' text, with `{title}`, `{link}` and `{summary}` (at most 1,000 characters).
    #[schema(example = "{title} {link}")]
    pub template: String,
    /// What new items become: `draft`, `queue` (each account's next free posting time) or `publish` (at once).
    #[schema(example = "draft")]
    pub mode: String,
}

/// An item a feed showed, and what became of it.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedItemJson {
    /// Its title.
    pub title: Option<String>,
    /// Its address.
    pub link: Option<String>,
    /// `posted`, `drafted` or `skipped`.
    pub state: String,
    /// Why it was skipped.
    pub reason: Option<String>,
    /// The post or draft it made, while it exists.
    pub post_id: Option<Uuid>,
    /// When Crier first saw it.
    pub seen_at: DateTime<Utc>,
}

/// A feed the team follows.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedJson {
    /// Its id.
    pub id: Uuid,
    /// Its address.
    pub url: String,
    /// The feed's own title, once read.
    pub title: Option<String>,
    /// The posts' text.
    pub template: String,
    /// `draft`, `queue` or `publish`.
    pub mode: String,
    /// The accounts its posts go to.
    pub account_ids: Vec<Uuid>,
    /// When it was added.
    pub created_at: DateTime<Utc>,
    /// When it was last polled.
    pub last_polled_at: Option<DateTime<Utc>>,
    /// What the last poll did, in words.
    pub last_outcome: Option<String>,
    /// Why the last poll failed, in words (null once a poll succeeds).
    pub last_error: Option<String>,
    /// Failed polls in a row.
    pub error_count: i32,
    /// When it is polled next.
    pub next_poll_at: DateTime<Utc>,
    /// Its latest items (at most 10), newest first.
    pub items: Vec<FeedItemJson>,
}

impl From<FeedView> for FeedJson {
    fn from(f: FeedView) -> Self {
        FeedJson {
            id: f.feed_id,
            url: f.url,
            title: f.title,
            template: f.template,
            mode: f.mode.as_str().to_owned(),
            account_ids: f.accounts.into_iter().map(|(id, _, _)| id).collect(),
            created_at: f.created_at,
            last_polled_at: f.last_polled_at,
            last_outcome: f.last_outcome,
            last_error: f.last_error,
            error_count: f.error_count,
            next_poll_at: f.next_poll_at,
            items: f
                .items
                .into_iter()
                .map(|i| FeedItemJson {
                    title: i.title,
                    link: i.link,
                    state: i.state,
                    reason: i.reason,
                    post_id: i.post_id,
                    seen_at: i.seen_at,
                })
                .collect(),
        }
    }
}

/// The request's field for a domain field name.
fn api_field(mut e: FieldError) -> FieldError {
    if e.field == "accounts" {
        e.field = "account_ids".into();
    }
    e
}

/// The team's feeds, oldest first.
#[utoipa::path(get, path = "/api/v1/feeds", tag = "feeds", operation_id = "list_feeds",
    responses((status = 200, description = "The team's feeds", body = Vec<FeedJson>), Unauthenticated, RateLimited, Internal),
    security(("bearer" = [])))]
pub async fn list(State(state): State<ApiState>, caller: Caller) -> Result<Json<Vec<FeedJson>>, ApiError> {
    Ok(Json(feeds::list(&state.pool, caller.team_id()).await?.into_iter().map(FeedJson::from).collect()))
}

/// Follow a feed (admin tokens). Its first poll takes only items published after it was added.
#[utoipa::path(post, path = "/api/v1/feeds", tag = "feeds", operation_id = "create_feed",
    request_body = NewFeedJson,
    responses((status = 201, description = "Followed", body = FeedJson), Malformed, Unauthenticated, Forbidden, Invalid, Conflict,
              RateLimited, Internal),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<ApiState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewFeedJson>,
) -> Result<axum::response::Response, ApiError> {
    caller.require_admin()?;
    let me = caller.member(&state.pool).await?;
    let accounts: Vec<String> = body.account_ids.iter().map(Uuid::to_string).collect();
    let feed = NewFeed::parse(&body.url, &accounts, &body.template, &body.mode, state.outbound_allow_http)
        .map_err(|errors| ApiError::Invalid(errors.into_iter().map(api_field).collect()))?;
    crier_publisher::feeds::check_address(&state.outbound, &feed.url).await?;
    let id = feeds::add(&state.pool, &me, &feed).await.map_err(|e| match e {
        crier_domain::DomainError::Invalid(field) => ApiError::Invalid(vec![api_field(field)]),
        other => other.into(),
    })?;
    let view = feeds::get(&state.pool, caller.team_id(), id).await?;
    Ok(created(FeedJson::from(view), &format!("/api/v1/feeds/{id}")))
}

/// One of the team's feeds.
#[utoipa::path(get, path = "/api/v1/feeds/{id}", tag = "feeds", operation_id = "get_feed",
    params(("id" = Uuid, Path, description = "The feed")),
    responses((status = 200, description = "The feed", body = FeedJson), Unauthenticated, NotFound, RateLimited, Internal),
    security(("bearer" = [])))]
pub async fn get(State(state): State<ApiState>, caller: Caller, ApiPath(id): ApiPath<Uuid>) -> Result<Json<FeedJson>, ApiError> {
    Ok(Json(feeds::get(&state.pool, caller.team_id(), id).await?.into()))
}

/// Stop following a feed (admin tokens); the posts it made stay.
#[utoipa::path(delete, path = "/api/v1/feeds/{id}", tag = "feeds", operation_id = "delete_feed",
    params(("id" = Uuid, Path, description = "The feed")),
    responses((status = 204, description = "Removed"), Unauthenticated, Forbidden, NotFound, Conflict, RateLimited, Internal),
    security(("bearer" = [])))]
pub async fn delete(State(state): State<ApiState>, caller: Caller, ApiPath(id): ApiPath<Uuid>) -> Result<StatusCode, ApiError> {
    caller.require_admin()?;
    let me = caller.member(&state.pool).await?;
    feeds::remove(&state.pool, &me, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
