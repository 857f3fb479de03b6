//! What the team sees about its publishing: analytics, status, the audit trail, and the text check.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::auth::Caller;
use super::problem::{ApiError, Internal, Invalid, Malformed, RateLimited, Unauthenticated};
use super::{ApiJson, ApiQuery, ApiState, Page};
use crier_domain::FieldError;
use crier_domain::store::analytics::{self, Outcomes};
use crier_domain::store::audit::{self, AuditFilter};
use crier_platform::Platform;

/// A heartbeat older than this means the worker is gone (the engine heartbeats every 5 s).
pub(super) const WORKER_FRESH_SECS: f64 = 30.0;

/// The range to report on.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RangeQuery {
    /// From (RFC 3339); default 30 days before `until`.
    pub from: Option<DateTime<Utc>>,
    /// Until (RFC 3339, exclusive); default now.
    pub until: Option<DateTime<Utc>>,
    /// Steps of the series (1–400, default 30).
    pub steps: Option<u32>,
}

impl RangeQuery {
    pub(super) fn range(&self) -> Result<(DateTime<Utc>, DateTime<Utc>), ApiError> {
        use crier_domain::timezone::{FIRST_YEAR, LAST_YEAR, is_supported};
        let supported = |field: &str, at: Option<DateTime<Utc>>| match at {
            Some(at) if !is_supported(at) => Err(FieldError::new(field, format!("Give a time between {FIRST_YEAR} and {LAST_YEAR}."))),
            _ => Ok(()),
        };
        supported("from", self.from)?;
        supported("until", self.until)?;
        let until = self.until.unwrap_or_else(Utc::now);
        let from = self.from.unwrap_or(until - TimeDelta::days(30));
        if from >= until {
            return Err(FieldError::new("from", "`from` must be before `until`.").into());
        }
        if until - from > TimeDelta::days(3660) {
            return Err(FieldError::new("from", "Ask for a range of at most ten years.").into());
        }
        Ok((from, until))
    }
}

/// Deliveries and how they ended.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutcomesJson {
    /// Deliveries due in the range.
    pub deliveries: i64,
    /// Published.
    pub published: i64,
    /// Failed for good.
    pub failed: i64,
    /// published ÷ (published + failed); absent while nothing has finished.
    pub success_rate: Option<f64>,
}

impl From<Outcomes> for OutcomesJson {
    fn from(o: Outcomes) -> Self {
        OutcomesJson { deliveries: o.deliveries, published: o.published, failed: o.failed, success_rate: o.success_rate() }
    }
}

/// One platform's figures.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlatformFiguresJson {
    /// x, linkedin or facebook.
    #[schema(value_type = String)]
    pub platform: Platform,
    /// Its deliveries.
    #[serde(flatten)]
    pub outcomes: OutcomesJson,
}

/// One account's figures.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountFiguresJson {
    /// The account.
    pub account_id: Uuid,
    /// Its name.
    pub name: String,
    /// Its platform.
    #[schema(value_type = String)]
    pub platform: Platform,
    /// Its deliveries.
    #[serde(flatten)]
    pub outcomes: OutcomesJson,
}

/// One step of the series.
#[derive(Debug, Serialize, ToSchema)]
pub struct BucketJson {
    /// Where the step starts.
    pub start: DateTime<Utc>,
    /// Published during the step.
    pub published: i64,
    /// Failed for good during the step.
    pub failed: i64,
    /// Due and not finished at the step's end.
    pub queued: i64,
}

/// How publishing went.
#[derive(Debug, Serialize, ToSchema)]
pub struct AnalyticsJson {
    /// The range (posts due in it).
    pub from: DateTime<Utc>,
    /// Its end (exclusive).
    pub until: DateTime<Utc>,
    /// Posts due in the range.
    pub posts: i64,
    /// Their deliveries.
    pub totals: OutcomesJson,
    /// Per platform.
    pub platforms: Vec<PlatformFiguresJson>,
    /// Per account.
    pub accounts: Vec<AccountFiguresJson>,
    /// Mean duration of successful publish calls.
    pub average_publish_ms: Option<f64>,
    /// Calls per published delivery.
    pub attempts_per_published: Option<f64>,
    /// Token refreshes.
    pub token_refreshes: i64,
    /// Calls answered "rate limited".
    pub rate_limit_waits: i64,
    /// Deliveries waiting now.
    pub queued_now: i64,
    /// The range in steps.
    pub series: Vec<BucketJson>,
}

/// Analytics for posts due in a range.
#[utoipa::path(get, path = "/api/v1/analytics", tag = "insights", params(RangeQuery),
    responses((status = 200, description = "Figures for the posts due in the range, in all, per platform, per account and in steps",
               body = AnalyticsJson),
              Unauthenticated, Invalid, RateLimited, Internal),
    security(("bearer" = [])))]
pub async fn analytics(
    State(state): State<ApiState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<RangeQuery>,
) -> Result<Json<AnalyticsJson>, ApiError> {
    let (from, until) = q.range()?;
    let pool = &state.pool;
    let a = analytics::summary(pool, caller.team_id(), from, until).await?;
    let series = analytics::series(pool, caller.team_id(), from, until, q.steps.unwrap_or(30)).await?;
    Ok(Json(AnalyticsJson {
        from,
        until,
        posts: a.posts,
        totals: a.outcomes.into(),
        platforms: a.platforms.into_iter().map(|p| PlatformFiguresJson { platform: p.platform, outcomes: p.outcomes.into() }).collect(),
        accounts: a
            .accounts
            .into_iter()
            .map(|x| AccountFiguresJson { account_id: x.account_id, name: x.name, platform: x.platform, outcomes: x.outcomes.into() })
            .collect(),
        average_publish_ms: a.average_publish_ms,
        attempts_per_published: a.attempts_per_published,
        token_refreshes: a.token_refreshes,
        rate_limit_waits: a.rate_limit_waits,
        queued_now: a.queued_now,
        series: series
            .into_iter()
            .map(|b| BucketJson { start: b.start, published: b.published, failed: b.failed, queued: b.queued })
            .collect(),
    }))
}

/// One platform's accounts by status.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlatformStatusJson {
    /// x, linkedin or facebook.
    #[schema(value_type = String)]
    pub platform: Platform,
    /// Accounts ready to publish (including expiring soon).
    pub connected: usize,
    /// Accounts that need reconnecting (their deliveries are held) or are revoked.
    pub needs_attention: usize,
}

/// The team's queue now.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueJson {
    /// Scheduled for later.
    pub scheduled: i64,
    /// Due now and about to be taken.
    pub due: i64,
    /// Waiting for their next attempt.
    pub retrying: i64,
    /// Being published.
    pub publishing: i64,
    /// Waiting for an account to be reconnected.
    pub held: i64,
    /// Posts with something still to go out.
    pub posts_waiting: i64,
    /// Seconds the longest-waiting due delivery has waited.
    pub oldest_due_seconds: Option<f64>,
}

/// Where publishing stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusJson {
    /// Per platform with accounts.
    pub platforms: Vec<PlatformStatusJson>,
    /// The queue.
    pub queue: QueueJson,
    /// Worker processes heartbeating now.
    pub workers: i64,
    /// `active` when a worker is heartbeating, `stopped` when none is.
    #[schema(example = "active")]
    pub scheduler_status: &'static str,
}

pub(super) async fn status_of(state: &ApiState, team_id: Uuid) -> Result<StatusJson, ApiError> {
    use crier_domain::account::AccountHealth;
    let pool = &state.pool;
    let accounts = super::accounts::connected(state, team_id).await?;
    let queue = analytics::queue(pool, team_id).await?;
    let workers = analytics::live_workers(pool, WORKER_FRESH_SECS).await?;
    let platforms = Platform::ALL
        .into_iter()
        .filter(|p| accounts.iter().any(|a| a.platform == *p))
        .map(|platform| {
            let mine = || accounts.iter().filter(move |a| a.platform == platform);
            PlatformStatusJson {
                platform,
                connected: mine().filter(|a| matches!(a.status, AccountHealth::Connected | AccountHealth::ExpiringSoon)).count(),
                needs_attention: mine().filter(|a| matches!(a.status, AccountHealth::NeedsReauth | AccountHealth::Revoked)).count(),
            }
        })
        .collect();
    Ok(StatusJson {
        platforms,
        queue: QueueJson {
            scheduled: queue.scheduled,
            due: queue.due,
            retrying: queue.retrying,
            publishing: queue.publishing,
            held: queue.held,
            posts_waiting: queue.posts_waiting,
            oldest_due_seconds: queue.oldest_due_at.map(|at| (Utc::now() - at).as_seconds_f64().max(0.0)),
        },
        workers,
        scheduler_status: if workers > 0 { "active" } else { "stopped" },
    })
}

/// Accounts by platform, the queue, and whether workers are running.
#[utoipa::path(get, path = "/api/v1/status", tag = "insights",
    responses((status = 200, description = "Where publishing stands now", body = StatusJson), Unauthenticated, RateLimited, Internal),
    security(("bearer" = [])))]
pub async fn status(State(state): State<ApiState>, caller: Caller) -> Result<Json<StatusJson>, ApiError> {
    Ok(Json(status_of(&state, caller.team_id()).await?))
}

/// Which audit events to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only this entity kind (post, delivery, platform_account, api_token, team, app_user…).
    pub entity: Option<String>,
    /// Only this entity.
    pub entity_id: Option<String>,
    /// Only this action (post_scheduled, delivery_published…).
    pub action: Option<String>,
    /// From (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Before (RFC 3339).
    pub until: Option<DateTime<Utc>>,
    /// At most this many (1–500, default 100).
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

/// One audit event.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditJson {
    /// Its sequence number.
    pub id: i64,
    /// When.
    pub occurred_at: DateTime<Utc>,
    /// user, api_token or system.
    pub actor: String,
    /// The person's email or the token's label.
    pub actor_label: Option<String>,
    /// What happened.
    pub action: String,
    /// To what kind of thing.
    pub entity: String,
    /// Which one.
    pub entity_id: Option<String>,
    /// Details (never a secret).
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
}

/// A page of audit events.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    /// Newest first.
    pub items: Vec<AuditJson>,
    /// Pass as `cursor` for the next page; absent on the last one.
    pub next_cursor: Option<String>,
}

/// The team's audit trail, newest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "insights", params(AuditQuery),
    responses((status = 200, description = "A page of audit events, newest first", body = AuditPage),
              Unauthenticated, Invalid, RateLimited, Internal),
    security(("bearer" = [])))]
pub async fn audit(State(state): State<ApiState>, caller: Caller, ApiQuery(q): ApiQuery<AuditQuery>) -> Result<Json<AuditPage>, ApiError> {
    let page = Page::new(q.limit, 100, 500)?;
    let before_id = match q.cursor.as_deref() {
        Some(c) => Some(c.trim().parse::<i64>().map_err(|_| FieldError::new("cursor", "Pass back the next_cursor of the previous page."))?),
        None => None,
    };
    let optional = |s: Option<String>| s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let filter = AuditFilter {
        entity: optional(q.entity),
        entity_id: optional(q.entity_id),
        action: optional(q.action),
        from: q.from,
        until: q.until,
        before_id,
        after_id: None,
    };
    let mut rows = audit::list(&state.pool, caller.team_id(), &filter, page.fetch()).await?;
    let next_cursor = page.cut(&mut rows).map(|last| last.audit_id.to_string());
    let items = rows
        .into_iter()
        .map(|e| AuditJson {
            id: e.audit_id,
            occurred_at: e.occurred_at,
            actor: serde_json::to_value(e.actor_kind).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default(),
            actor_label: e.actor_label,
            action: e.action,
            entity: e.entity,
            entity_id: e.entity_id,
            metadata: e.metadata,
        })
        .collect();
    Ok(Json(AuditPage { items, next_cursor }))
}

/// A text to measure.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TextCheckJson {
    /// x (or twitter), linkedin or facebook.
    #[schema(example = "x")]
    pub platform: String,
    /// The text, as it would be published.
    #[schema(example = "Hello, world")]
    pub text: String,
}

/// The text measured as the platform counts it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TextCheckResult {
    /// The platform.
    #[schema(value_type = String, example = "x")]
    pub platform: Platform,
    /// Its length as the platform counts it (X: weighted, URLs count 23).
    #[schema(example = 12)]
    pub length: usize,
    /// The platform's limit.
    #[schema(example = 280)]
    pub limit: usize,
    /// Whether the platform would take it.
    pub valid: bool,
}

/// Measure a text for a platform (X's weighted length, LinkedIn 3,000, Facebook 63,206).
#[utoipa::path(post, path = "/api/v1/text/check", tag = "insights", request_body = TextCheckJson,
    responses((status = 200, description = "The text's length and limit on the platform, and whether it fits", body = TextCheckResult),
              Malformed, Unauthenticated, Invalid, RateLimited, Internal),
    security(("bearer" = [])))]
pub async fn check_text(_authenticated: Caller, ApiJson(body): ApiJson<TextCheckJson>) -> Result<Json<TextCheckResult>, ApiError> {
    let platform = super::accounts::parse_platform(&body.platform)?;
    let check = crier_text::check(platform, &body.text);
    Ok(Json(TextCheckResult { platform, length: check.length, limit: check.limit, valid: check.valid }))
}
