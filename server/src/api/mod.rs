//! The REST API: `/api/v1` for scripts and CMSs, plus the product brief's own endpoints
//! (`/api/v2/social/…`, `/api/social-media/…`, `/api/publishing/…`), authenticated with team API
//! tokens. Handlers are thin: they parse, call the same domain functions the pages call, and
//! answer JSON; every error is a problem+json ([`problem`]). The OpenAPI 3.1 document is generated
//! from the handlers' annotations as the router is built, so it lists exactly the routes served.

pub mod accounts;
pub mod auth;
pub mod brief;
pub mod comments;
pub mod drafts;
pub mod feeds;
pub mod generate;
pub mod imports;
pub mod insights;
pub mod media;
pub mod posts;
pub mod problem;
pub mod queues;
pub mod reviews;
pub mod uploads;

use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts};
use axum::routing::{any, get};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crier_accounts::Accounts;
use crier_domain::FieldError;
use crier_domain::budget::Budget;
use problem::{ApiError, ProblemResponses};
use sqlx::PgPool;

/// What every API handler gets.
#[derive(Clone)]
pub struct ApiState {
    /// The database.
    pub pool: PgPool,
    /// The accounts service (Verify, Disconnect, the platforms available to connect).
    pub accounts: Arc<Accounts>,
    /// Where people reach Crier, without a trailing slash (connect links).
    pub public_base: String,
    /// Requests per token and window (`None`: unlimited), counted in PostgreSQL.
    pub rate_limit: Option<Budget>,
    /// The media store, its limits and each platform's media rules.
    pub media: Arc<app::state::Media>,
    /// How large a CSV import may be (CRIER_IMPORT_MAX_ROWS, CRIER_IMPORT_MAX_FILE_SIZE).
    pub import: crier_domain::import::ImportLimits,
    /// Which addresses URLs teams give may have (CRIER_OUTBOUND_ALLOW_NETWORKS): content sources.
    pub outbound: crier_outbound::AddressPolicy,
    /// Whether plain http:// URLs are fetched (CRIER_WEBHOOKS_ALLOW_HTTP; development).
    pub outbound_allow_http: bool,
}

/// A JSON body whose rejection is a problem+json.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

impl<T: serde::de::DeserializeOwned> ApiJson<T> {
    /// Parses a body already read (when the raw bytes are needed too, e.g. for an idempotency hash).
    pub fn parse(bytes: &[u8]) -> Result<Self, ApiError> {
        axum::Json::<T>::from_bytes(bytes).map(|Json(value)| ApiJson(value)).map_err(ApiError::from)
    }
}

/// A query string whose rejection is a problem+json.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// A path parameter whose rejection (not a UUID) is a 404 problem.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// `limit` for a list, and the cut that tells whether another page follows.
pub struct Page {
    limit: usize,
}

impl Page {
    /// `requested` (or `default`), refused outside 1..=`max`.
    pub fn new(requested: Option<i64>, default: i64, max: i64) -> Result<Self, ApiError> {
        let limit = requested.unwrap_or(default);
        if !(1..=max).contains(&limit) {
            return Err(FieldError::new("limit", format!("Ask for 1 to {max} items.")).into());
        }
        Ok(Page { limit: limit as usize })
    }

    /// How many rows to fetch: one more than the page, to know whether another page follows.
    pub fn fetch(&self) -> i64 {
        self.limit as i64 + 1
    }

    /// Cuts `rows` to the page; the last row kept when another page follows (its cursor).
    pub fn cut<'a, T>(&self, rows: &'a mut Vec<T>) -> Option<&'a T> {
        if rows.len() > self.limit {
            rows.truncate(self.limit);
            rows.last()
        } else {
            None
        }
    }
}

/// A 201 answer: `value`, with its URL in `Location`.
pub fn created(value: impl serde::Serialize, location: &str) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut response = (axum::http::StatusCode::CREATED, Json(value)).into_response();
    if let Ok(location) = axum::http::HeaderValue::from_str(location) {
        response.headers_mut().insert(axum::http::header::LOCATION, location);
    }
    response
}

/// Opaque cursors: what a client passes back, never parses.
pub struct Cursor;

impl Cursor {
    /// A listing's position, a time and an id: a post's (the same cursor the dashboard's page
    /// links carry) or a media item's.
    pub fn encode(at: DateTime<Utc>, id: Uuid) -> String {
        crier_domain::store::posts::encode_cursor(at, id)
    }

    /// Reads [`Cursor::encode`]'s output back.
    pub fn decode(cursor: &str) -> Result<(DateTime<Utc>, Uuid), ApiError> {
        crier_domain::store::posts::decode_cursor(cursor)
            .ok_or_else(|| ApiError::from(FieldError::new("cursor", "Pass back the next_cursor of the previous page, unchanged.")))
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Crier REST API",
        description = "Schedule and publish posts to X, LinkedIn and Facebook Pages. Authenticate with a team API token \
                       (Settings → API) as `Authorization: Bearer crier_api_…`. Errors are RFC 9457 problem+json. \
                       Lists are paged with `limit` and the opaque `cursor` from the previous page's `next_cursor`.",
        version = "1"
    ),
    modifiers(&BearerToken, &ProblemResponses),
    tags(
        (name = "accounts", description = "Connected social accounts"),
        (name = "posts", description = "Posts and their deliveries (one per account)"),
        (name = "queues", description = "Each account's posting schedule and queue (posts join it with `\"queue\": true`)"),
        (name = "drafts", description = "Posts not yet scheduled: drafts, and submitting them for review or scheduling them"),
        (name = "review", description = "Approvals, comments and a post's activity: a person's acts, which a token does as the \
                                            member who created it, with no more than the token's role"),
        (name = "feeds", description = "RSS and Atom feeds whose new items become drafts or posts"),
        (name = "media", description = "The team's media library, and resumable uploads for large files"),
        (name = "insights", description = "Analytics, status, the audit trail, text checks"),
        (name = "product brief", description = "The product brief's endpoints, in its shapes"),
    )
)]
struct ApiDoc;

struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("crier_api_…").build()),
        );
    }
}

/// The API's routes (ready to merge into a router of any state) and its OpenAPI document.
pub fn router<S: Clone + Send + Sync + 'static>(
    pool: PgPool,
    accounts: Arc<Accounts>,
    media: Arc<app::state::Media>,
    public_base: String,
    web: &crate::config::WebConfig,
) -> (Router<S>, utoipa::openapi::OpenApi) {
    let state = ApiState {
        pool,
        accounts,
        public_base,
        rate_limit: web.api_rate_limit,
        media,
        import: web.import,
        outbound: web.outbound.clone(),
        outbound_allow_http: web.webhooks_allow_http,
    };
    let (router, doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(accounts::list))
        .routes(routes!(accounts::get, accounts::disconnect))
        .routes(routes!(accounts::verify))
        .routes(routes!(accounts::picture))
        .routes(routes!(accounts::connect))
        .routes(routes!(queues::get))
        .routes(routes!(queues::set_schedule))
        .routes(routes!(queues::reorder))
        .routes(routes!(queues::remove))
        .routes(routes!(queues::pause))
        .routes(routes!(posts::list, posts::create))
        .routes(routes!(imports::import))
        .routes(routes!(posts::get, posts::patch, posts::cancel))
        .routes(routes!(posts::retry))
        .routes(routes!(posts::delivery))
        .routes(routes!(drafts::list, drafts::create))
        .routes(routes!(drafts::get, drafts::save, drafts::discard))
        .routes(routes!(drafts::submit))
        .routes(routes!(drafts::schedule))
        .routes(routes!(reviews::list))
        .routes(routes!(reviews::decide))
        .routes(routes!(comments::activity))
        .routes(routes!(comments::add))
        .routes(routes!(comments::edit, comments::delete))
        .routes(routes!(feeds::list, feeds::create))
        .routes(routes!(feeds::get, feeds::delete))
        .routes(routes!(media::list, media::upload))
        .routes(routes!(media::get, media::patch, media::delete))
        .routes(routes!(media::content))
        .routes(routes!(media::thumbnail))
        .routes(routes!(uploads::start))
        .routes(routes!(uploads::get, uploads::abort))
        .routes(routes!(uploads::chunk))
        .routes(routes!(uploads::complete))
        .routes(routes!(insights::analytics))
        .routes(routes!(insights::status))
        .routes(routes!(insights::audit))
        .routes(routes!(insights::check_text))
        .routes(routes!(brief::social_status))
        .routes(routes!(brief::social_analytics))
        .routes(routes!(brief::accounts))
        .routes(routes!(brief::disconnect))
        .routes(routes!(brief::oauth_connect))
        .routes(routes!(brief::publishing_status))
        .routes(routes!(generate::generate))
        .with_state(state)
        .split_for_parts();
    let served = doc.clone();
    let router = router
        // Every API body is bounded before it gets here (`web::body_limit`: JSON bodies, chunks
        // of resumable uploads), and a multipart upload bounds its file as it streams; axum's
        // own default (2 MB, for extractors that buffer) would only cut uploads short.
        .layer(axum::extract::DefaultBodyLimit::disable())
        .route("/api/v1/openapi.json", get(move || std::future::ready(Json(served.clone()))))
        // Anything else under /api/v1 is a problem+json 404, not the app's HTML page.
        .route("/api/v1/{*rest}", any(|| std::future::ready(ApiError::NotFound)));
    (router, doc)
}

/// One operation of the document, for the API page in the UI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operation {
    /// GET, POST…
    pub method: String,
    /// `/api/v1/posts/{id}`.
    pub path: String,
    /// Its group.
    pub tag: String,
    /// What it does.
    pub summary: String,
}

/// The document's operations, for the API page in the UI.
pub fn reference(doc: &utoipa::openapi::OpenApi) -> Vec<Operation> {
    let mut operations = Vec::new();
    for (path, item) in &doc.paths.paths {
        let methods = [("GET", &item.get), ("POST", &item.post), ("PATCH", &item.patch), ("PUT", &item.put), ("DELETE", &item.delete)];
        for (method, operation) in methods {
            if let Some(op) = operation {
                operations.push(Operation {
                    method: method.to_owned(),
                    path: path.clone(),
                    tag: op.tags.as_ref().and_then(|t| t.first().cloned()).unwrap_or_default(),
                    summary: op.summary.clone().or_else(|| op.description.clone()).unwrap_or_default(),
                });
            }
        }
    }
    operations
}
