//! `/api/v1/drafts`: what the Drafts page and Compose's "Save draft", "Submit for review" and
//! "Schedule" do with a post not yet scheduled, for scripts. The same domain functions and rules
//! (the team's approval settings apply to a token's role), the same audit trail (the token as the
//! actor). A draft a token writes counts as written by the member who created the token.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::auth::Caller;
use super::posts::{ContentJson, PlatformTexts, PostJson, PostMediaJson, detail_json, in_api_terms, not_in_the_past, supported, zone};
use super::problem::{ApiError, Conflict, Forbidden, Internal, Invalid, Malformed, NotFound, RateLimited, Unauthenticated};
use super::{ApiJson, ApiPath, ApiState, created};
use crier_domain::DomainError;
use crier_domain::FieldError;
use crier_domain::post_state::PostState;
use crier_domain::store::drafts::{self, Draft, DraftDetail, DraftSummary};
use crier_domain::store::posts::{self, NewPost};
use crier_domain::store::reviews;
use crier_platform::Platform;

/// A draft to save: the whole of it (saving replaces what the draft held).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftBody {
    /// What it says.
    #[serde(flatten)]
    pub content: ContentJson,
    /// The accounts it is meant for (none yet is fine for a draft; submitting or scheduling it
    /// needs them).
    #[serde(default)]
    pub account_ids: Vec<Uuid>,
    /// When it is planned for (RFC 3339 with an offset), if decided: nothing is scheduled until
    /// the draft is scheduled (or approved, where posts need approval).
    #[serde(default)]
    pub planned_at: Option<DateTime<Utc>>,
    /// The IANA zone the time is shown in (default UTC).
    #[serde(default)]
    #[schema(example = "Europe/Berlin")]
    pub timezone: Option<String>,
}

/// An account a draft is meant for.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlannedAccount {
    /// x, linkedin or facebook.
    #[schema(value_type = String, example = "x")]
    pub platform: Platform,
    /// The account's name.
    pub name: String,
}

impl PlannedAccount {
    pub(super) fn all(accounts: Vec<(Platform, String)>) -> Vec<PlannedAccount> {
        accounts.into_iter().map(|(platform, name)| PlannedAccount { platform, name }).collect()
    }
}

/// A post not yet scheduled.
#[derive(Debug, Serialize, ToSchema)]
pub struct DraftJson {
    /// The draft (the post's id: it keeps it once scheduled).
    pub id: Uuid,
    /// draft, in_review, changes_requested or approved.
    #[schema(value_type = String, example = "draft")]
    pub state: PostState,
    /// The shared text.
    pub text: String,
    /// Per-platform texts.
    pub texts: PlatformTexts,
    /// The link.
    pub link: Option<String>,
    /// The X thread.
    pub thread: Vec<String>,
    /// Its media, in order.
    pub media: Vec<PostMediaJson>,
    /// The accounts it is meant for.
    pub account_ids: Vec<Uuid>,
    /// When it is planned for.
    pub planned_at: Option<DateTime<Utc>>,
    /// The zone its time is shown in.
    pub timezone: String,
}

/// A draft as listed.
#[derive(Debug, Serialize, ToSchema)]
pub struct DraftSummaryJson {
    /// The draft.
    pub id: Uuid,
    /// draft, in_review, changes_requested or approved.
    #[schema(value_type = String, example = "in_review")]
    pub state: PostState,
    /// The shared text.
    pub text: String,
    /// When it is planned for.
    pub planned_at: Option<DateTime<Utc>>,
    /// The zone its time is shown in.
    pub timezone: String,
    /// When it was last saved.
    pub updated_at: DateTime<Utc>,
    /// Who wrote it (their email; absent once they left the team, or for a token without a creator).
    pub author: Option<String>,
    /// The accounts it is meant for.
    pub accounts: Vec<PlannedAccount>,
}

/// The team's drafts.
#[derive(Debug, Serialize, ToSchema)]
pub struct DraftList {
    /// The latest saved first, at most 200.
    pub items: Vec<DraftSummaryJson>,
    /// How many there are (more than listed when over 200).
    pub total: i64,
}

/// A draft to schedule.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleDraftBody {
    /// When to publish (RFC 3339 with an offset); the draft's planned time when absent.
    #[serde(default)]
    pub scheduled_at: Option<DateTime<Utc>>,
    /// The zone the time is shown in; the draft's when absent.
    #[serde(default)]
    pub timezone: Option<String>,
}

fn draft_json(d: DraftDetail) -> DraftJson {
    DraftJson {
        id: d.post_id,
        state: d.state,
        texts: PlatformTexts::from_pairs(&d.content.overrides),
        text: d.content.text,
        link: d.content.link,
        thread: d.content.thread,
        media: d.content.media.into_iter().map(PostMediaJson::from).collect(),
        account_ids: d.account_ids,
        planned_at: d.planned_at,
        timezone: d.timezone.name().to_owned(),
    }
}

fn summary_json(d: DraftSummary) -> DraftSummaryJson {
    DraftSummaryJson {
        id: d.post_id,
        state: d.state,
        text: d.text,
        planned_at: d.planned_at,
        timezone: d.timezone.name().to_owned(),
        updated_at: d.updated_at,
        author: d.author,
        accounts: PlannedAccount::all(d.accounts),
    }
}

/// What a draft body asks to save, checked as the API checks a post's content.
async fn parsed(state: &ApiState, caller: &Caller, body: DraftBody) -> Result<Draft, ApiError> {
    supported("planned_at", body.planned_at)?;
    Ok(Draft {
        content: body.content.parse(state, caller).await?,
        account_ids: body.account_ids,
        planned_at: body.planned_at,
        timezone: zone(body.timezone.as_deref())?,
    })
}

/// The domain's refusals of a step in the workflow, for API clients: where the post stands (in
/// review, scheduled meanwhile, not waiting for review) is a 409 saying what to do; fields to
/// correct are the API's field names.
pub(super) fn workflow_error(id: Uuid, error: DomainError) -> ApiError {
    match error {
        DomainError::Invalid(field) if field.field == "intent" => ApiError::Conflict(format!(
            "Posts need approval in this team, and this token's role is among those whose posts do: submit the draft for \
             review (POST /api/v1/drafts/{id}/submit); it is scheduled for its time once it is approved."
        )),
        DomainError::Invalid(field) if field.field == "draft" || field.field == "post" => ApiError::Conflict(field.message),
        other => in_api_terms(other.into()),
    }
}

/// The team's drafts and posts not yet scheduled (in review, sent back, approved).
#[utoipa::path(get, path = "/api/v1/drafts", tag = "drafts", operation_id = "list_drafts",
    responses((status = 200, description = "The latest saved first, at most 200, and how many there are", body = DraftList),
              Unauthenticated, RateLimited, Internal),
    security(("bearer" = [])))]
pub async fn list(State(state): State<ApiState>, caller: Caller) -> Result<Json<DraftList>, ApiError> {
    let (rows, total) = drafts::list(&state.pool, caller.team_id()).await?;
    Ok(Json(DraftList { items: rows.into_iter().map(summary_json).collect(), total }))
}

/// Save a new draft. Nothing is scheduled: schedule it, or submit it for review, when it is ready.
#[utoipa::path(post, path = "/api/v1/drafts", tag = "drafts", operation_id = "create_draft", request_body = DraftBody,
    responses((status = 201, description = "Saved: the draft", body = DraftJson,
               headers(("Location" = String, description = "The draft's URL"))),
              Malformed, Unauthenticated, Forbidden, Invalid, RateLimited, Internal),
    security(("bearer" = [])))]
pub async fn create(State(state): State<ApiState>, caller: Caller, ApiJson(body): ApiJson<DraftBody>) -> Result<Response, ApiError> {
    caller.require_editor()?;
    let draft = parsed(&state, &caller, body).await?;
    let id = drafts::save(&state.pool, caller.team_id(), caller.actor(), None, &draft).await.map_err(|e| in_api_terms(e.into()))?;
    let saved = draft_json(drafts::get(&state.pool, caller.team_id(), id).await?);
    Ok(created(saved, &format!("/api/v1/drafts/{id}")))
}

/// A draft, or a post in review, sent back or approved (not yet scheduled).
#[utoipa::path(get, path = "/api/v1/drafts/{id}", tag = "drafts", operation_id = "get_draft",
    params(("id" = Uuid, Path, description = "The draft")),
    responses((status = 200, description = "The draft", body = DraftJson), Unauthenticated, NotFound, RateLimited, Internal),
    security(("bearer" = [])))]
pub async fn get(State(state): State<ApiState>, caller: Caller, ApiPath(id): ApiPath<Uuid>) -> Result<Json<DraftJson>, ApiError> {
    Ok(Json(draft_json(drafts::get(&state.pool, caller.team_id(), id).await?)))
}

/// Replace a draft's content, accounts and planned time. A post sent back with changes requested
/// becomes a draft again; one in review or approved goes back to review, to be approved afresh.
#[utoipa::path(put, path = "/api/v1/drafts/{id}", tag = "drafts", operation_id = "save_draft",
    params(("id" = Uuid, Path, description = "The draft")), request_body = DraftBody,
    responses((status = 200, description = "The draft as saved", body = DraftJson),
              Malformed, Unauthenticated, Forbidden, NotFound, Invalid, Conflict, RateLimited, Internal),
    security(("bearer" = [])))]
pub async fn save(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<DraftBody>,
) -> Result<Json<DraftJson>, ApiError> {
    caller.require_editor()?;
    drafts::get(&state.pool, caller.team_id(), id).await?;
    let draft = parsed(&state, &caller, body).await?;
    drafts::save(&state.pool, caller.team_id(), caller.actor(), Some(id), &draft).await.map_err(|e| workflow_error(id, e))?;
    Ok(Json(draft_json(drafts::get(&state.pool, caller.team_id(), id).await?)))
}

/// Discard a draft (or one sent back with changes requested). It stays in the audit trail.
#[utoipa::path(delete, path = "/api/v1/drafts/{id}", tag = "drafts", operation_id = "discard_draft",
    params(("id" = Uuid, Path, description = "The draft")),
    responses((status = 204, description = "Discarded"), Unauthenticated, Forbidden, NotFound, Conflict, RateLimited, Internal),
    security(("bearer" = [])))]
pub async fn discard(State(state): State<ApiState>, caller: Caller, ApiPath(id): ApiPath<Uuid>) -> Result<StatusCode, ApiError> {
    caller.require_editor()?;
    let draft = drafts::get(&state.pool, caller.team_id(), id).await?;
    if !draft.state.can_discard() {
        return Err(ApiError::Conflict(format!(
            "This post is {}: it is not discarded while approvers look at it. Save it as a draft again (PUT) first.",
            draft.state.label().to_lowercase()
        )));
    }
    drafts::discard(&state.pool, caller.team_id(), caller.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Submit a draft for review, as it is saved. It must name its accounts and fit their platforms;
/// it is scheduled for its planned time once approved.
#[utoipa::path(post, path = "/api/v1/drafts/{id}/submit", tag = "drafts", operation_id = "submit_draft",
    params(("id" = Uuid, Path, description = "The draft")),
    responses((status = 200, description = "The draft, now in review", body = DraftJson),
              Unauthenticated, Forbidden, NotFound, Invalid, Conflict, RateLimited, Internal),
    security(("bearer" = [])))]
pub async fn submit(State(state): State<ApiState>, caller: Caller, ApiPath(id): ApiPath<Uuid>) -> Result<Json<DraftJson>, ApiError> {
    caller.require_editor()?;
    let pool = &state.pool;
    let current = drafts::get(pool, caller.team_id(), id).await?;
    if !matches!(current.state, PostState::Draft | PostState::ChangesRequested) {
        return Err(ApiError::Conflict(format!(
            "This post is {} already: nothing to submit. GET /api/v1/review shows what waits.",
            current.state.label().to_lowercase()
        )));
    }
    let draft =
        Draft { content: current.content, account_ids: current.account_ids, planned_at: current.planned_at, timezone: current.timezone };
    reviews::submit(pool, caller.team_id(), caller.actor(), Some(id), &draft, &state.media.rules)
        .await
        .map_err(|e| workflow_error(id, e))?;
    Ok(Json(draft_json(drafts::get(pool, caller.team_id(), id).await?)))
}

/// Schedule a draft (or an approved post) as it is saved, at a time. Where the team's posts need
/// approval for this token's role, a draft is refused: submit it for review instead.
#[utoipa::path(post, path = "/api/v1/drafts/{id}/schedule", tag = "drafts", operation_id = "schedule_draft",
    params(("id" = Uuid, Path, description = "The draft")), request_body = ScheduleDraftBody,
    responses((status = 200, description = "Scheduled: the post with its deliveries (its id is the draft's)", body = PostJson),
              Malformed, Unauthenticated, Forbidden, NotFound, Invalid, Conflict, RateLimited, Internal),
    security(("bearer" = [])))]
pub async fn schedule(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<ScheduleDraftBody>,
) -> Result<Json<PostJson>, ApiError> {
    caller.require_editor()?;
    let pool = &state.pool;
    let draft = drafts::get(pool, caller.team_id(), id).await?;
    let scheduled_at = match body.scheduled_at.or(draft.planned_at) {
        Some(at) => not_in_the_past(at)?,
        None => return Err(FieldError::new("scheduled_at", "Say when to publish it: this draft has no planned time.").into()),
    };
    let timezone = match body.timezone {
        Some(name) => zone(Some(&name))?,
        None => draft.timezone,
    };
    let new = NewPost {
        content: draft.content,
        account_ids: draft.account_ids,
        scheduled_at,
        timezone,
        dry_run: false,
        retry: Default::default(),
    };
    let mut tx = pool.begin().await.map_err(DomainError::from)?;
    posts::schedule_draft(&mut tx, caller.team_id(), caller.actor(), id, &new, &state.media.rules)
        .await
        .map_err(|e| workflow_error(id, e))?;
    tx.commit().await.map_err(DomainError::from)?;
    Ok(Json(detail_json(posts::get(pool, caller.team_id(), id).await?)))
}
