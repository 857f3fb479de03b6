//! `/api/v1/posts/{id}/activity`, `/api/v1/posts/{id}/comments` and `/api/v1/comments/{id}`: a
//! post's comments and activity, for scripts. A comment is a person's: a token comments as the
//! member who created it, and changes only that member's comments. As on the pages, any role may
//! comment (talking about a post changes nothing of it).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::auth::Caller;
use super::problem::{ApiError, Conflict, Internal, Invalid, Malformed, NotFound, RateLimited, Unauthenticated};
use super::{ApiJson, ApiPath, ApiState, created};
use crier_domain::DomainError;
use crier_domain::store::{comments, drafts, posts};

/// A comment to write.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentBody {
    /// Plain text, at most 4,000 characters; `@name` (an email's local part) or `@their@email`
    /// mentions a member, who is notified.
    #[schema(example = "@ana can you check the link?")]
    pub body: String,
}

/// A comment.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommentJson {
    /// The comment.
    pub id: Uuid,
    /// Its text, as saved (trimmed).
    pub body: String,
}

/// One item of a post's activity.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityItem {
    /// When.
    pub at: DateTime<Utc>,
    /// Who: an email, "Crier", "An API token", a review link, or "Someone who left the team".
    pub who: String,
    /// The event in words, or the comment's text.
    pub words: String,
    /// The comment's id, when this is a comment.
    pub comment_id: Option<Uuid>,
    /// Whether the token's creator wrote the comment (and so this token may edit or delete it).
    pub own: bool,
    /// Whether the comment was edited.
    pub edited: bool,
}

/// A post's activity.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityList {
    /// Its events, review decisions and comments, oldest first (at most 300).
    pub items: Vec<ActivityItem>,
}

/// A post's activity: its events, review decisions and comments, oldest first.
#[utoipa::path(get, path = "/api/v1/posts/{id}/activity", tag = "review", operation_id = "post_activity",
    params(("id" = Uuid, Path, description = "The post (scheduled, or not yet: a draft)")),
    responses((status = 200, description = "The post's activity, oldest first", body = ActivityList),
              Unauthenticated, NotFound, Conflict, RateLimited, Internal),
    security(("bearer" = [])))]
pub async fn activity(State(state): State<ApiState>, caller: Caller, ApiPath(id): ApiPath<Uuid>) -> Result<Json<ActivityList>, ApiError> {
    let me = caller.member(&state.pool).await?;
    // The feed of an id that is no post of the team's is not empty but missing.
    match posts::get(&state.pool, me.team_id, id).await {
        Err(DomainError::NotFound) => drafts::get(&state.pool, me.team_id, id).await.map(|_| ())?,
        other => other.map(|_| ())?,
    }
    let items = comments::activity(&state.pool, &me, id)
        .await?
        .into_iter()
        .map(|a| ActivityItem {
            at: a.at,
            who: a.who,
            words: a.words,
            comment_id: a.comment.map(|(id, _, _)| id),
            own: a.comment.is_some_and(|(_, own, _)| own),
            edited: a.comment.is_some_and(|(_, _, edited)| edited),
        })
        .collect();
    Ok(Json(ActivityList { items }))
}

/// Comment on a post, as the token's creator.
#[utoipa::path(post, path = "/api/v1/posts/{id}/comments", tag = "review", operation_id = "add_comment",
    params(("id" = Uuid, Path, description = "The post")), request_body = CommentBody,
    responses((status = 201, description = "Added: the comment", body = CommentJson,
               headers(("Location" = String, description = "The comment's URL"))),
              Malformed, Unauthenticated, NotFound, Invalid, Conflict, RateLimited, Internal),
    security(("bearer" = [])))]
pub async fn add(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(post_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<CommentBody>,
) -> Result<Response, ApiError> {
    let me = caller.member(&state.pool).await?;
    let id = comments::add(&state.pool, &me, post_id, &body.body).await?;
    Ok(created(CommentJson { id, body: body.body.trim().to_owned() }, &format!("/api/v1/comments/{id}")))
}

/// Edit a comment the token's creator wrote (anyone else's answers 404).
#[utoipa::path(patch, path = "/api/v1/comments/{id}", tag = "review", operation_id = "edit_comment",
    params(("id" = Uuid, Path, description = "The comment")), request_body = CommentBody,
    responses((status = 200, description = "The comment as saved", body = CommentJson),
              Malformed, Unauthenticated, NotFound, Invalid, Conflict, RateLimited, Internal),
    security(("bearer" = [])))]
pub async fn edit(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<CommentBody>,
) -> Result<Json<CommentJson>, ApiError> {
    let me = caller.member(&state.pool).await?;
    comments::edit(&state.pool, &me, id, &body.body).await?;
    Ok(Json(CommentJson { id, body: body.body.trim().to_owned() }))
}

/// Delete a comment the token's creator wrote (anyone else's answers 404).
#[utoipa::path(delete, path = "/api/v1/comments/{id}", tag = "review", operation_id = "delete_comment",
    params(("id" = Uuid, Path, description = "The comment")),
    responses((status = 204, description = "Deleted"), Unauthenticated, NotFound, Conflict, RateLimited, Internal),
    security(("bearer" = [])))]
pub async fn delete(State(state): State<ApiState>, caller: Caller, ApiPath(id): ApiPath<Uuid>) -> Result<StatusCode, ApiError> {
    let me = caller.member(&state.pool).await?;
    comments::delete(&state.pool, &me, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
