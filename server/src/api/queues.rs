//! `/api/v1/accounts/{id}/queue` and `/schedule`: an account's posting schedule and the posts
//! waiting in its queue; moving, removing, pausing and resuming. Adding a post to the queue is
//! `POST /api/v1/posts` with `"queue": true`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::auth::Caller;
use super::problem::{ApiError, Forbidden, Internal, Invalid, Malformed, NotFound, RateLimited, Unauthenticated};
use super::{ApiJson, ApiPath, ApiState};
use crier_domain::FieldError;
use crier_domain::posting_schedule::{Slot, WeeklySchedule};
use crier_domain::store::queues::{self, Move};

/// A weekly time.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SlotJson {
    /// ISO 8601 weekday: Monday is 1, Sunday 7.
    #[schema(example = 1)]
    pub weekday: u8,
    /// Wall-clock time in the schedule's zone, `HH:MM`.
    #[schema(example = "09:30")]
    pub time: String,
}

/// An account's posting schedule.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleJson {
    /// The IANA zone the times are in.
    #[schema(example = "Europe/Berlin")]
    pub timezone: String,
    /// The weekly times (at most 70).
    pub slots: Vec<SlotJson>,
}

/// A post waiting in the queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueuedJson {
    /// Its delivery to this account (to move or remove it).
    pub delivery_id: Uuid,
    /// Its post.
    pub post_id: Uuid,
    /// The post's text.
    pub text: String,
    /// When it goes out.
    pub at: DateTime<Utc>,
    /// Why that is not the slot's usual wall-clock time (the clocks skip or repeat it), if so.
    pub note: Option<String>,
}

/// An account's queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueJson {
    /// The schedule, if one is set.
    pub schedule: Option<ScheduleJson>,
    /// Whether the queue is paused (its posts wait, and take fresh times on resume).
    pub paused: bool,
    /// What waits, in order.
    pub items: Vec<QueuedJson>,
    /// The next free times (where the next posts added go).
    pub next_free: Vec<DateTime<Utc>>,
}

async fn queue_json(state: &ApiState, caller: &Caller, account_id: Uuid) -> Result<QueueJson, ApiError> {
    let view = queues::view(&state.pool, caller.team_id(), account_id).await?;
    Ok(QueueJson {
        paused: view.schedule.as_ref().is_some_and(|s| s.paused_at.is_some()),
        schedule: view.schedule.map(|s| ScheduleJson {
            timezone: s.week.timezone.name().to_owned(),
            slots: s
                .week
                .slots
                .iter()
                .map(|slot| SlotJson { weekday: slot.weekday, time: slot.time().format("%H:%M").to_string() })
                .collect(),
        }),
        items: view
            .items
            .into_iter()
            .map(|q| QueuedJson { delivery_id: q.delivery_id, post_id: q.post_id, text: q.text, at: q.at, note: q.note })
            .collect(),
        next_free: view.next_free.into_iter().map(|s| s.at).collect(),
    })
}

/// The account's schedule and the posts waiting in its queue, in order.
#[utoipa::path(get, path = "/api/v1/accounts/{id}/queue", tag = "queues", operation_id = "get_queue",
    params(("id" = Uuid, Path, description = "The account")),
    responses((status = 200, description = "The queue", body = QueueJson), Unauthenticated, NotFound, RateLimited, Internal),
    security(("bearer" = [])))]
pub async fn get(State(state): State<ApiState>, caller: Caller, ApiPath(id): ApiPath<Uuid>) -> Result<Json<QueueJson>, ApiError> {
    Ok(Json(queue_json(&state, &caller, id).await?))
}

/// Set the account's weekly posting times; the queue takes the new times in its order.
#[utoipa::path(put, path = "/api/v1/accounts/{id}/schedule", tag = "queues", operation_id = "set_schedule",
    params(("id" = Uuid, Path, description = "The account")), request_body = ScheduleJson,
    responses((status = 200, description = "The queue with its new schedule", body = QueueJson),
              Malformed, Unauthenticated, Forbidden, NotFound, Invalid, RateLimited, Internal),
    security(("bearer" = [])))]
pub async fn set_schedule(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<ScheduleJson>,
) -> Result<Json<QueueJson>, ApiError> {
    caller.require_editor()?;
    let timezone = crier_domain::timezone::TimeZone::parse(&body.timezone)?;
    if body.slots.len() > crier_domain::posting_schedule::MAX_SLOTS {
        return Err(
            FieldError::new("slots", format!("A week may have at most {} times.", crier_domain::posting_schedule::MAX_SLOTS)).into()
        );
    }
    let mut slots = std::collections::BTreeSet::new();
    for (i, slot) in body.slots.iter().enumerate() {
        let time = NaiveTime::parse_from_str(slot.time.trim(), "%H:%M")
            .map_err(|_| FieldError::new(&format!("slots[{i}].time"), "Write the time as HH:MM, e.g. 09:30."))?;
        let minute = u16::try_from(time.signed_duration_since(NaiveTime::MIN).num_minutes()).unwrap_or(0);
        slots.insert(
            Slot::new(slot.weekday, minute)
                .ok_or_else(|| FieldError::new(&format!("slots[{i}].weekday"), "Give the weekday as 1 (Monday) to 7 (Sunday)."))?,
        );
    }
    queues::set_schedule(&state.pool, caller.team_id(), caller.actor(), id, &WeeklySchedule { timezone, slots }).await?;
    Ok(Json(queue_json(&state, &caller, id).await?))
}

/// A change to a queue's order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveJson {
    /// `up`, `down`, `top` (with `delivery_id`), or `shuffle`.
    #[schema(example = "top")]
    pub how: String,
    /// The post's delivery to this account (not needed to shuffle).
    #[serde(default)]
    pub delivery_id: Option<Uuid>,
}

/// Move a post in the queue, or shuffle it: the same times, in the new order.
#[utoipa::path(post, path = "/api/v1/accounts/{id}/queue/move", tag = "queues", operation_id = "move_in_queue",
    params(("id" = Uuid, Path, description = "The account")), request_body = MoveJson,
    responses((status = 200, description = "The queue in its new order", body = QueueJson),
              Malformed, Unauthenticated, Forbidden, NotFound, Invalid, RateLimited, Internal),
    security(("bearer" = [])))]
pub async fn reorder(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<MoveJson>,
) -> Result<Json<QueueJson>, ApiError> {
    caller.require_editor()?;
    let how = Move::parse(&body.how).ok_or_else(|| FieldError::new("how", "Use up, down, top or shuffle."))?;
    if how != Move::Shuffle && body.delivery_id.is_none() {
        return Err(FieldError::new("delivery_id", "Name the post's delivery to this account (from GET …/queue).").into());
    }
    queues::reorder(&state.pool, caller.team_id(), caller.actor(), id, body.delivery_id, how).await?;
    Ok(Json(queue_json(&state, &caller, id).await?))
}

/// Take a post out of the queue (its delivery to this account is cancelled); the rest close up.
#[utoipa::path(delete, path = "/api/v1/accounts/{id}/queue/{delivery_id}", tag = "queues", operation_id = "remove_from_queue",
    params(("id" = Uuid, Path, description = "The account"), ("delivery_id" = Uuid, Path, description = "The post's delivery to it")),
    responses((status = 200, description = "The queue without it", body = QueueJson),
              Unauthenticated, Forbidden, NotFound, Invalid, RateLimited, Internal),
    security(("bearer" = [])))]
pub async fn remove(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath((id, delivery_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<Json<QueueJson>, ApiError> {
    caller.require_editor()?;
    queues::remove(&state.pool, caller.team_id(), caller.actor(), id, delivery_id).await?;
    Ok(Json(queue_json(&state, &caller, id).await?))
}

/// Pausing or resuming.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PausedJson {
    /// `true` to pause, `false` to resume.
    pub paused: bool,
}

/// Pause the queue (its posts wait) or resume it (they take the next free times, in order).
#[utoipa::path(put, path = "/api/v1/accounts/{id}/queue/paused", tag = "queues", operation_id = "pause_queue",
    params(("id" = Uuid, Path, description = "The account")), request_body = PausedJson,
    responses((status = 200, description = "The queue", body = QueueJson),
              Malformed, Unauthenticated, Forbidden, NotFound, Invalid, RateLimited, Internal),
    security(("bearer" = [])))]
pub async fn pause(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<PausedJson>,
) -> Result<(StatusCode, Json<QueueJson>), ApiError> {
    caller.require_editor()?;
    queues::set_paused(&state.pool, caller.team_id(), caller.actor(), id, body.paused).await?;
    Ok((StatusCode::OK, Json(queue_json(&state, &caller, id).await?)))
}
