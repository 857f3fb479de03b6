//! `/api/v1/posts` and `/api/v1/deliveries`: everything the Compose page, the dashboard and a
//! post's page do, for scripts. The same domain functions, the same rules, the same audit trail
//! (with the token as the actor).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::auth::Caller;
use super::problem::{ApiError, Forbidden, Internal, Invalid, Malformed, NotFound, RateLimited, Unauthenticated};
use super::{ApiJson, ApiPath, ApiQuery, ApiState, Cursor, Page};
use crier_domain::FieldError;
use crier_domain::delivery::{AttemptOutcome, DeliveryState};
use crier_domain::link_tracking::LinkTracking;
use crier_domain::post::{MediaChoice, PostContent};
use crier_domain::retry::RetryOverride;
use crier_domain::store::first_comments::FirstCommentState;
use crier_domain::store::posts::{self, AttemptRow, DeliveryChip, Idempotent, NewPost, PostDetail, PostEdit, PostFilter, PostSummary};
use crier_domain::timezone::TimeZone;
use crier_platform::Platform;

/// Per-platform texts, each replacing the shared text on that platform.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
pub struct PlatformTexts {
    /// The text for X.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    /// The text for LinkedIn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linkedin: Option<String>,
    /// The text for Facebook.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facebook: Option<String>,
}

impl PlatformTexts {
    pub(super) fn pairs(&self) -> Vec<(Platform, String)> {
        [(Platform::X, &self.x), (Platform::Linkedin, &self.linkedin), (Platform::Facebook, &self.facebook)]
            .into_iter()
            .filter_map(|(p, t)| t.clone().map(|t| (p, t)))
            .collect()
    }

    pub(super) fn from_pairs(pairs: &[(Platform, String)]) -> Self {
        let find = |platform| pairs.iter().find(|(p, _)| *p == platform).map(|(_, t)| t.clone());
        PlatformTexts { x: find(Platform::X), linkedin: find(Platform::Linkedin), facebook: find(Platform::Facebook) }
    }
}

/// A media item a post carries.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostMediaJson {
    /// The team's media item (`GET /api/v1/media` lists them).
    pub id: Uuid,
    /// The alt text it is published with; absent: the item's own.
    #[serde(default)]
    pub alt_text: Option<String>,
    /// Absent: every platform the post goes to, unless that platform has a list of its own; set
    /// (x, linkedin or facebook): that platform's own list, in place of the shared one.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "x")]
    pub platform: Option<Platform>,
    /// 0 (the default): the post itself; N: the X thread's reply N.
    #[serde(default)]
    pub item: u8,
}

impl From<MediaChoice> for PostMediaJson {
    fn from(c: MediaChoice) -> Self {
        PostMediaJson { id: c.media_id, alt_text: c.alt_text, platform: c.platform, item: c.item }
    }
}

/// What a post (or a draft) says: the texts, link, thread and media of a post to create or a
/// draft to save.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ContentJson {
    /// The shared text.
    #[schema(example = "We launch today!")]
    pub text: String,
    /// Texts for some platforms instead of the shared one.
    #[serde(default)]
    pub texts: PlatformTexts,
    /// A link: appended on X, a card on LinkedIn and Facebook.
    #[serde(default)]
    pub link: Option<String>,
    /// X only: replies after the first post.
    #[serde(default)]
    pub thread: Vec<String>,
    /// Media from the team's library, in order (upload with `POST /api/v1/media`). Each
    /// platform's rules (count, kinds, sizes, alt text) are checked for the accounts chosen.
    #[serde(default)]
    pub media: Vec<PostMediaJson>,
    /// What its links get as they go out; the team's defaults (Settings → Link tracking) when absent.
    #[serde(default)]
    pub link_tracking: Option<LinkTrackingJson>,
    /// A comment under the post per platform, sent once it is out (X: a reply by the same
    /// account; LinkedIn: a comment by the author; Facebook: a comment by the Page). At most 280
    /// (weighted), 1,250 and 3,000 characters.
    #[serde(default)]
    pub first_comments: PlatformTexts,
}

impl ContentJson {
    /// The content, checked as [`content`] checks it.
    pub(super) async fn parse(self, state: &ApiState, caller: &Caller) -> Result<PostContent, ApiError> {
        let link = self.link.unwrap_or_default();
        let tracking = match self.link_tracking {
            Some(chosen) => chosen.parse()?,
            None => crier_domain::store::link_tracking::team_defaults(&state.pool, caller.team_id()).await?,
        };
        content(state, caller, (&self.text, &self.texts, &link, self.thread), self.media)
            .await?
            .with_tracking(tracking)
            .with_first_comments(self.first_comments.pairs())
            .map_err(|e| in_api_terms(e.into()))
    }
}

/// Link tracking: UTM parameters (`utm_source` is the platform: twitter, linkedin or facebook;
/// parameters a link already has are kept) and Crier's short links (`CRIER_PUBLIC_URL/l/…`),
/// which count clicks per delivery. Links are rewritten only as each delivery goes out.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkTrackingJson {
    /// Add UTM parameters.
    #[serde(default)]
    pub utm: bool,
    /// `utm_campaign` (at most 100 characters).
    #[serde(default)]
    #[schema(example = "spring-launch")]
    pub utm_campaign: Option<String>,
    /// `utm_medium` (at most 100 characters); `social` when absent.
    #[serde(default)]
    pub utm_medium: Option<String>,
    /// Replace links by Crier's short links.
    #[serde(default)]
    pub short_links: bool,
}

impl LinkTrackingJson {
    fn parse(&self) -> Result<LinkTracking, ApiError> {
        let (campaign, medium) = (self.utm_campaign.as_deref().unwrap_or_default(), self.utm_medium.as_deref().unwrap_or_default());
        LinkTracking::parse(self.utm, campaign, medium, self.short_links).map_err(|mut e| {
            e.field = format!("link_tracking.{}", e.field);
            e.into()
        })
    }
}

impl From<LinkTracking> for LinkTrackingJson {
    fn from(tracking: LinkTracking) -> Self {
        LinkTrackingJson {
            utm: tracking.utm.is_some(),
            utm_campaign: tracking.utm.as_ref().and_then(|u| u.campaign.clone()),
            utm_medium: tracking.utm.map(|u| u.medium),
            short_links: tracking.short_links,
        }
    }
}

/// A post to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPostJson {
    /// What it says.
    #[serde(flatten)]
    pub content: ContentJson,
    /// The accounts to publish to (one delivery each).
    pub account_ids: Vec<Uuid>,
    /// When to publish (RFC 3339 with an offset); now when absent.
    #[serde(default)]
    pub scheduled_at: Option<DateTime<Utc>>,
    /// The IANA zone the time is shown in on the dashboard (default UTC).
    #[serde(default)]
    #[schema(example = "Europe/Berlin")]
    pub timezone: Option<String>,
    /// Go through everything but the publish call.
    #[serde(default)]
    pub dry_run: bool,
    /// Add it to the queues of its accounts: each delivery takes its account's next free posting
    /// time (`scheduled_at` must then be absent; not with `dry_run` or an Idempotency-Key).
    #[serde(default)]
    pub queue: bool,
    /// Attempts in all (1–20); the team's default when absent.
    #[serde(default)]
    pub max_attempts: Option<i16>,
    /// The first retry's wait in seconds (1–14400), doubling after each failure; the team's default when absent.
    #[serde(default)]
    pub retry_base_seconds: Option<i32>,
}

/// Changes to a post that has not started publishing; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostPatchJson {
    /// The shared text.
    #[serde(default)]
    pub text: Option<String>,
    /// Per-platform texts (replaces all of them when present).
    #[serde(default)]
    pub texts: Option<PlatformTexts>,
    /// The link (`""` removes it).
    #[serde(default)]
    pub link: Option<String>,
    /// The X thread (replaces it when present).
    #[serde(default)]
    pub thread: Option<Vec<String>>,
    /// The media (replaces all of them when present; `[]` removes them).
    #[serde(default)]
    pub media: Option<Vec<PostMediaJson>>,
    /// The new time (RFC 3339 with an offset).
    #[serde(default)]
    pub scheduled_at: Option<DateTime<Utc>>,
    /// The zone the time is shown in.
    #[serde(default)]
    pub timezone: Option<String>,
    /// Link tracking (replaces the post's when present).
    #[serde(default)]
    pub link_tracking: Option<LinkTrackingJson>,
    /// First comments (replace all of them when present; `{}` removes them).
    #[serde(default)]
    pub first_comments: Option<PlatformTexts>,
}

/// One call to a platform.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptJson {
    /// 1, 2, …
    pub attempt: i16,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended (absent while it runs).
    pub finished_at: Option<DateTime<Utc>>,
    /// How it ended: published, reconciled, dry_run_ok, validation, permanent, temporary, rate_limited,
    /// needs_reauth or unknown (absent while it runs).
    #[schema(value_type = Option<String>, example = "published")]
    pub outcome: Option<AttemptOutcome>,
    /// The platform's HTTP status.
    pub http_status: Option<i16>,
    /// How long the call took.
    pub duration_ms: Option<i32>,
    /// The platform's words and code, when it failed.
    pub error: Option<String>,
}

/// One post to one account.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryJson {
    /// The delivery.
    pub id: Uuid,
    /// The post it delivers.
    pub post_id: Uuid,
    /// The account.
    pub account_id: Uuid,
    /// The account's name.
    pub account_name: String,
    /// x, linkedin or facebook.
    #[schema(value_type = String, example = "x")]
    pub platform: Platform,
    /// scheduled, paused (in a paused queue), publishing, published, dry_run_ok, retrying, held, failed or cancelled.
    #[schema(value_type = String, example = "published")]
    pub state: DeliveryState,
    /// Calls made so far.
    pub attempts: i16,
    /// When a worker takes it next (scheduled or retrying).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The post at the platform, once published.
    pub permalink: Option<String>,
    /// Why it failed or waits.
    pub error: Option<String>,
    /// Its calls, oldest first (only on the single-delivery and single-post views).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt_log: Option<Vec<AttemptJson>>,
    /// Clicks on its short links (only on the single-post view, for deliveries that have them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clicks: Option<i64>,
    /// Its first comment, once the post is out (only on the single-post view).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_comment: Option<FirstCommentJson>,
}

/// A delivery's first comment.
#[derive(Debug, Serialize, ToSchema)]
pub struct FirstCommentJson {
    /// pending, sending, posted or failed.
    #[schema(value_type = String, example = "posted")]
    pub state: FirstCommentState,
    /// Attempts made.
    pub attempts: i16,
    /// The platform's id for it, once posted.
    pub external_id: Option<String>,
    /// Where it is seen.
    pub permalink: Option<String>,
    /// Why it failed or waits.
    pub error: Option<String>,
}

/// A post.
#[derive(Debug, Serialize, ToSchema)]
pub struct PostJson {
    /// The post.
    pub id: Uuid,
    /// The shared text.
    pub text: String,
    /// Per-platform texts (only on the single-post view).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub texts: Option<PlatformTexts>,
    /// The link (only on the single-post view).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// The X thread (only on the single-post view).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thread: Option<Vec<String>>,
    /// Its media, in order (only on the single-post view).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media: Option<Vec<PostMediaJson>>,
    /// What its links get as they go out (only on the single-post view).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link_tracking: Option<LinkTrackingJson>,
    /// Its first comments per platform (only on the single-post view).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_comments: Option<PlatformTexts>,
    /// When it is (or was) due.
    pub scheduled_at: DateTime<Utc>,
    /// The zone it was entered in.
    pub timezone: String,
    /// A dry run.
    pub dry_run: bool,
    /// Whether it can still be edited, rescheduled or cancelled (nothing has started).
    pub editable: bool,
    /// Attempts allowed (only on the single-post view).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<i16>,
    /// First retry's wait in seconds (only on the single-post view).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_base_seconds: Option<i32>,
    /// One per account.
    pub deliveries: Vec<DeliveryJson>,
}

fn attempt_json(a: AttemptRow) -> AttemptJson {
    AttemptJson {
        attempt: a.attempt,
        started_at: a.started_at,
        finished_at: a.finished_at,
        outcome: a.outcome,
        http_status: a.http_status,
        duration_ms: a.duration_ms,
        error: a.error,
    }
}

pub(super) fn delivery_json(post_id: Uuid, d: DeliveryChip, attempts: Option<Vec<AttemptJson>>) -> DeliveryJson {
    let waiting = matches!(d.state, DeliveryState::Scheduled | DeliveryState::Retrying);
    DeliveryJson {
        id: d.delivery_id,
        post_id,
        account_id: d.account_id,
        account_name: d.account_name,
        platform: d.platform,
        state: d.state,
        attempts: d.attempts,
        next_attempt_at: waiting.then_some(d.next_attempt_at),
        permalink: d.permalink,
        error: d.last_error,
        attempt_log: attempts,
        clicks: None,
        first_comment: None,
    }
}

fn summary_json(p: PostSummary) -> PostJson {
    let editable = p.is_editable();
    PostJson {
        id: p.post_id,
        text: p.text,
        texts: None,
        link: None,
        thread: None,
        media: None,
        link_tracking: None,
        first_comments: None,
        scheduled_at: p.scheduled_at,
        timezone: p.timezone.name().to_owned(),
        dry_run: p.dry_run,
        editable,
        max_attempts: None,
        retry_base_seconds: None,
        deliveries: p.deliveries.into_iter().map(|d| delivery_json(p.post_id, d, None)).collect(),
    }
}

pub(super) fn detail_json(detail: PostDetail) -> PostJson {
    let PostDetail { summary, content, retry, mut attempts } = detail;
    let post_id = summary.post_id;
    let editable = summary.is_editable();
    let deliveries = summary
        .deliveries
        .into_iter()
        .map(|d| {
            let (mine, rest): (Vec<_>, Vec<_>) = attempts.drain(..).partition(|a| a.delivery_id == d.delivery_id);
            attempts = rest;
            delivery_json(post_id, d, Some(mine.into_iter().map(attempt_json).collect()))
        })
        .collect();
    PostJson {
        id: post_id,
        text: content.text,
        texts: Some(PlatformTexts::from_pairs(&content.overrides)),
        link: content.link,
        thread: Some(content.thread),
        media: Some(content.media.into_iter().map(PostMediaJson::from).collect()),
        link_tracking: Some(content.tracking.into()),
        first_comments: Some(PlatformTexts::from_pairs(&content.first_comments)),
        scheduled_at: summary.scheduled_at,
        timezone: summary.timezone.name().to_owned(),
        dry_run: summary.dry_run,
        editable,
        max_attempts: Some(retry.max_attempts),
        retry_base_seconds: Some(retry.first_retry_seconds),
        deliveries,
    }
}

pub(super) fn zone(name: Option<&str>) -> Result<TimeZone, ApiError> {
    match name.map(str::trim).filter(|n| !n.is_empty()) {
        Some(name) => TimeZone::parse(name).map_err(|e| FieldError::new("timezone", e.message).into()),
        None => Ok(TimeZone::UTC),
    }
}

pub(super) fn not_in_the_past(at: DateTime<Utc>) -> Result<DateTime<Utc>, ApiError> {
    supported("scheduled_at", Some(at))?;
    if crier_domain::post::has_passed(at, Utc::now()) {
        return Err(FieldError::new(
            "scheduled_at",
            format!("{} has passed. Send a later time, or leave scheduled_at out to publish now.", at.to_rfc3339()),
        )
        .into());
    }
    Ok(at)
}

/// Refuses a time outside the years Crier accepts (`crier_domain::timezone::is_supported`).
pub(super) fn supported(field: &str, at: Option<DateTime<Utc>>) -> Result<(), ApiError> {
    use crier_domain::timezone::{FIRST_YEAR, LAST_YEAR, is_supported};
    match at {
        Some(at) if !is_supported(at) => Err(FieldError::new(field, format!("Give a time between {FIRST_YEAR} and {LAST_YEAR}.")).into()),
        _ => Ok(()),
    }
}

/// The domain names fields as the Compose form does; the API's JSON names some differently.
fn api_field(mut error: FieldError) -> FieldError {
    error.field = match error.field.as_str() {
        "accounts" => "account_ids".to_owned(),
        field => match (field.strip_prefix("text_"), field.strip_prefix("first_comment_")) {
            (Some(platform), _) => format!("texts.{platform}"),
            (_, Some(platform)) => format!("first_comments.{platform}"),
            _ => error.field,
        },
    };
    error
}

/// [`api_field`] for every field of an error.
pub(super) fn in_api_terms(error: ApiError) -> ApiError {
    match error {
        ApiError::Invalid(fields) => ApiError::Invalid(fields.into_iter().map(api_field).collect()),
        other => other,
    }
}

/// The post's content with its media, each item in the team's library: an id that is not (another
/// team's, deleted, never made) is named by its place in `media`, in the same words whatever the
/// reason, so that nothing tells whether it exists elsewhere.
pub(super) async fn content(
    state: &ApiState,
    caller: &Caller,
    (text, texts, link, thread): (&str, &PlatformTexts, &str, Vec<String>),
    media: Vec<PostMediaJson>,
) -> Result<PostContent, ApiError> {
    let ids: Vec<Uuid> = media.iter().map(|m| m.id).collect();
    let choices =
        media.into_iter().map(|m| MediaChoice { media_id: m.id, alt_text: m.alt_text, platform: m.platform, item: m.item }).collect();
    let content = PostContent::parse(text, texts.pairs(), link, thread).and_then(|c| c.with_media(choices)).map_err(api_field)?;
    let missing = crier_domain::store::media::missing(&state.pool, caller.team_id(), &ids).await?;
    if missing.is_empty() {
        return Ok(content);
    }
    let errors = ids
        .iter()
        .enumerate()
        .filter(|(_, id)| missing.contains(id))
        .map(|(index, _)| {
            FieldError::new(
                &format!("media[{index}].id"),
                "There is no media item with this id in the team's library. Upload it first (POST /api/v1/media) or remove it.",
            )
        })
        .collect();
    Err(ApiError::Invalid(errors))
}

/// Posts, newest due first.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PostQuery {
    /// Only posts with a delivery in this state.
    pub state: Option<String>,
    /// Due at or after (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Due before (RFC 3339).
    pub until: Option<DateTime<Utc>>,
    /// At most this many (1–200, default 50).
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

/// A page of posts.
#[derive(Debug, Serialize, ToSchema)]
pub struct PostPage {
    /// The posts.
    pub items: Vec<PostJson>,
    /// Pass as `cursor` for the next page; absent on the last one.
    pub next_cursor: Option<String>,
}

/// List posts.
#[utoipa::path(get, path = "/api/v1/posts", tag = "posts", operation_id = "list_posts", params(PostQuery),
    responses((status = 200, description = "A page of posts, newest due first, with their deliveries", body = PostPage),
              Unauthenticated, Invalid, RateLimited, Internal),
    security(("bearer" = [])))]
pub async fn list(State(state): State<ApiState>, caller: Caller, ApiQuery(q): ApiQuery<PostQuery>) -> Result<Json<PostPage>, ApiError> {
    let page = Page::new(q.limit, 50, 200)?;
    let delivery_state = match q.state.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => Some(s.parse::<DeliveryState>().map_err(|names| FieldError::new("state", names))?),
        None => None,
    };
    let after = q.cursor.as_deref().map(Cursor::decode).transpose()?;
    supported("from", q.from)?;
    supported("until", q.until)?;
    let filter = PostFilter { from: q.from, until: q.until, state: delivery_state, after, before: None, with_unscheduled: false };
    let mut rows = posts::list(&state.pool, caller.team_id(), &filter, page.fetch()).await?;
    let next_cursor = page.cut(&mut rows).map(|last: &PostSummary| Cursor::encode(last.scheduled_at, last.post_id));
    Ok(Json(PostPage { items: rows.into_iter().map(summary_json).collect(), next_cursor }))
}

/// Create a post (and its deliveries). With `Idempotency-Key`, a retried request returns the
/// first request's post instead of making another (header `Idempotent-Replayed: true`).
#[utoipa::path(post, path = "/api/v1/posts", tag = "posts", operation_id = "create_post", request_body = NewPostJson,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retried create return the first result (kept for 24 hours)")),
    responses((status = 201, description = "Created: the post with its deliveries and their attempts", body = PostJson,
               headers(("Location" = String, description = "The post's URL"))),
              (status = 200, description = "Replayed: the post an earlier request with this key made", body = PostJson,
               headers(("Location" = String, description = "The post's URL"),
                       ("Idempotent-Replayed" = String, description = "`true`: no new post was made"))),
              Malformed, Unauthenticated, Forbidden, Invalid, RateLimited, Internal),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<ApiState>,
    caller: Caller,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    caller.require_editor()?;
    let ApiJson(new): ApiJson<NewPostJson> = ApiJson::parse(&body)?;
    let retry = RetryOverride { max_attempts: new.max_attempts, first_retry_seconds: new.retry_base_seconds };
    let post = NewPost {
        content: new.content.parse(&state, &caller).await?,
        account_ids: new.account_ids.clone(),
        scheduled_at: match new.scheduled_at {
            Some(at) => not_in_the_past(at)?,
            None => Utc::now(),
        },
        timezone: zone(new.timezone.as_deref())?,
        dry_run: new.dry_run,
        retry,
    };
    if post.account_ids.is_empty() {
        return Err(FieldError::new("account_ids", "Name at least one account to publish to (GET /api/v1/accounts lists them).").into());
    }
    let pool = &state.pool;
    let key = headers.get("idempotency-key").map(|v| v.to_str().map(str::trim));
    let (post_id, replayed) = if new.queue {
        if new.scheduled_at.is_some() || new.dry_run || key.is_some() {
            return Err(FieldError::new(
                "queue",
                "A queued post takes its accounts' next free times: leave out scheduled_at, dry_run and the Idempotency-Key.",
            )
            .into());
        }
        let mut tx = pool.begin().await.map_err(crier_domain::DomainError::from)?;
        let id = posts::add_to_queue(&mut tx, caller.team_id(), caller.actor(), None, &post, &state.media.rules)
            .await
            .map_err(|e| in_api_terms(e.into()))?;
        tx.commit().await.map_err(crier_domain::DomainError::from)?;
        (id, false)
    } else {
        match key {
            Some(Ok(key)) => {
                let hash = Sha256::digest(&body);
                match posts::schedule_once(pool, caller.team_id(), caller.actor(), key, &hash, &post, &state.media.rules)
                    .await
                    .map_err(|e| in_api_terms(e.into()))?
                {
                    Idempotent::Created(id) => (id, false),
                    Idempotent::Replayed(id) => (id, true),
                }
            }
            Some(Err(_)) => return Err(FieldError::new("Idempotency-Key", "Use printable ASCII in the Idempotency-Key.").into()),
            None => {
                let ids = posts::schedule_all(pool, caller.team_id(), caller.actor(), std::slice::from_ref(&post), &state.media.rules)
                    .await
                    .map_err(|(_, e)| in_api_terms(e.into()))?;
                (ids[0], false)
            }
        }
    };
    let created = detail_json(posts::get(pool, caller.team_id(), post_id).await?);
    let mut response = (if replayed { StatusCode::OK } else { StatusCode::CREATED }, Json(created)).into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("/api/v1/posts/{post_id}")) {
        response.headers_mut().insert(axum::http::header::LOCATION, location);
    }
    if replayed {
        response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// A post with its deliveries and their attempts.
#[utoipa::path(get, path = "/api/v1/posts/{id}", tag = "posts", operation_id = "get_post", params(("id" = Uuid, Path, description = "The post")),
    responses((status = 200, description = "The post with its deliveries and their attempts", body = PostJson),
              Unauthenticated, NotFound, RateLimited, Internal),
    security(("bearer" = [])))]
pub async fn get(State(state): State<ApiState>, caller: Caller, ApiPath(id): ApiPath<Uuid>) -> Result<Json<PostJson>, ApiError> {
    let mut post = detail_json(posts::get(&state.pool, caller.team_id(), id).await?);
    let clicks = crier_domain::store::link_tracking::clicks_by_delivery(&state.pool, caller.team_id(), id).await?;
    let mut comments = crier_domain::store::first_comments::of_post(&state.pool, caller.team_id(), id).await?;
    for delivery in &mut post.deliveries {
        delivery.clicks = clicks.get(&delivery.id).copied();
        delivery.first_comment = comments.iter().position(|c| c.delivery_id == delivery.id).map(|at| {
            let c = comments.swap_remove(at);
            FirstCommentJson { state: c.state, attempts: c.attempts, external_id: c.external_id, permalink: c.permalink, error: c.error }
        });
    }
    Ok(Json(post))
}

/// Edit or reschedule a post that has not started publishing.
#[utoipa::path(patch, path = "/api/v1/posts/{id}", tag = "posts", operation_id = "edit_post",
    params(("id" = Uuid, Path, description = "The post")), request_body = PostPatchJson,
    responses((status = 200, description = "The post as edited", body = PostJson),
              Malformed, Unauthenticated, Forbidden, NotFound, Invalid, RateLimited, Internal),
    security(("bearer" = [])))]
pub async fn patch(
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(change): ApiJson<PostPatchJson>,
) -> Result<Json<PostJson>, ApiError> {
    caller.require_editor()?;
    let pool = &state.pool;
    let current = posts::get(pool, caller.team_id(), id).await?;
    let texts = change.texts.unwrap_or_else(|| PlatformTexts::from_pairs(&current.content.overrides));
    let link = change.link.or(current.content.link.clone()).unwrap_or_default();
    let media = change.media.unwrap_or_else(|| current.content.media.iter().cloned().map(PostMediaJson::from).collect());
    let text = change.text.as_deref().unwrap_or(&current.content.text);
    let tracking = match &change.link_tracking {
        Some(chosen) => chosen.parse()?,
        None => current.content.tracking.clone(),
    };
    let edit = PostEdit {
        content: content(&state, &caller, (text, &texts, &link, change.thread.unwrap_or(current.content.thread.clone())), media)
            .await?
            .with_tracking(tracking)
            .with_first_comments(
                change.first_comments.as_ref().map_or_else(|| current.content.first_comments.clone(), PlatformTexts::pairs),
            )
            .map_err(|e| in_api_terms(e.into()))?,
        scheduled_at: match change.scheduled_at {
            Some(at) => not_in_the_past(at)?,
            None => current.summary.scheduled_at,
        },
        timezone: match change.timezone {
            Some(name) => zone(Some(&name))?,
            None => current.summary.timezone,
        },
    };
    posts::edit(pool, caller.team_id(), caller.actor(), id, &edit, &state.media.rules).await.map_err(|e| in_api_terms(e.into()))?;
    Ok(Json(detail_json(posts::get(pool, caller.team_id(), id).await?)))
}

/// How many deliveries an action changed.
#[derive(Debug, Serialize, ToSchema)]
pub struct Changed {
    /// Deliveries changed.
    pub deliveries: u64,
}

/// Cancel what has not gone out (scheduled, retrying or held deliveries).
#[utoipa::path(delete, path = "/api/v1/posts/{id}", tag = "posts", operation_id = "cancel_post",
    params(("id" = Uuid, Path, description = "The post")),
    responses((status = 200, description = "How many deliveries were cancelled", body = Changed),
              Unauthenticated, Forbidden, NotFound, Invalid, RateLimited, Internal),
    security(("bearer" = [])))]
pub async fn cancel(State(state): State<ApiState>, caller: Caller, ApiPath(id): ApiPath<Uuid>) -> Result<Json<Changed>, ApiError> {
    caller.require_editor()?;
    let deliveries = posts::cancel(&state.pool, caller.team_id(), caller.actor(), id).await?;
    Ok(Json(Changed { deliveries }))
}

/// Retry the post's failed deliveries.
#[utoipa::path(post, path = "/api/v1/posts/{id}/retry", tag = "posts", operation_id = "retry_post",
    params(("id" = Uuid, Path, description = "The post")),
    responses((status = 200, description = "How many failed deliveries were put back in the queue, due now", body = Changed),
              Unauthenticated, Forbidden, NotFound, Invalid, RateLimited, Internal),
    security(("bearer" = [])))]
pub async fn retry(State(state): State<ApiState>, caller: Caller, ApiPath(id): ApiPath<Uuid>) -> Result<Json<Changed>, ApiError> {
    caller.require_editor()?;
    // The post must be this team's: a retry of nothing elsewhere answers 404, not "0 retried".
    posts::get(&state.pool, caller.team_id(), id).await?;
    let deliveries = posts::retry_failed(&state.pool, caller.team_id(), caller.actor(), Some(id), None).await?;
    Ok(Json(Changed { deliveries }))
}

/// One delivery with its attempts.
#[utoipa::path(get, path = "/api/v1/deliveries/{id}", tag = "posts", operation_id = "get_delivery",
    params(("id" = Uuid, Path, description = "The delivery")),
    responses((status = 200, description = "The delivery with its attempts", body = DeliveryJson),
              Unauthenticated, NotFound, RateLimited, Internal),
    security(("bearer" = [])))]
pub async fn delivery(State(state): State<ApiState>, caller: Caller, ApiPath(id): ApiPath<Uuid>) -> Result<Json<DeliveryJson>, ApiError> {
    let d = posts::delivery(&state.pool, caller.team_id(), id).await?;
    Ok(Json(delivery_json(d.post_id, d.delivery, Some(d.attempts.into_iter().map(attempt_json).collect()))))
}
