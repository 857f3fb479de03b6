//! The product brief's `POST /api/v2/content/generate`: a source document (a Google Docs
//! document, a web page, or text given inline) turned into one post per platform, derived
//! deterministically (`crier_text::derive`), to each of the team's connected accounts of that
//! platform; scheduled at `scheduled_for`, published now with `immediate`, added to the queues
//! with `queue`, or else kept as drafts.
//!
//! Sources are fetched through `crier-outbound` under the webhooks' address rules (public
//! addresses unless the operator allows a network; https unless `CRIER_WEBHOOKS_ALLOW_HTTP`),
//! within [`FETCH_TIMEOUT`], at most [`MAX_SOURCE_BYTES`]. A Google Docs document is read through
//! its plain-text export; an HTML page through `html2text`.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::auth::Caller;
use super::problem::{ApiError, Forbidden, Internal, Invalid, Malformed, RateLimited, Unauthenticated};
use super::{ApiJson, ApiState};
use crier_domain::FieldError;
use crier_domain::post::PostContent;
use crier_domain::store::{accounts, drafts, posts};
use crier_platform::Platform;
use crier_text::derive::{Document, long_text, x_thread};

/// The most a source may be.
pub const MAX_SOURCE_BYTES: usize = 2 * 1024 * 1024;
/// How long a source has to answer, body included.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest text given inline.
pub const MAX_INLINE_TEXT: usize = 100_000;

/// Where the content comes from.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceJson {
    /// `document` (a Google Docs document, read through its plain-text export, or any document
    /// URL), `url` (a web page) or `text` (given here).
    #[schema(example = "document")]
    #[serde(rename = "type")]
    pub kind: String,
    /// The document's or page's address (`document`, `url`).
    #[serde(default)]
    pub url: Option<String>,
    /// The text (`text`): its first line is the title.
    #[serde(default)]
    pub text: Option<String>,
    /// A title, instead of the first line or the page's.
    #[serde(default)]
    pub title: Option<String>,
}

/// How and when the posts go out.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SocialOptionsJson {
    /// `twitter` (or `x`), `linkedin`, `facebook`; one post each, to each connected account of it.
    pub platforms: Vec<String>,
    /// Publish now.
    #[serde(default)]
    pub immediate: bool,
    /// Publish then (RFC 3339).
    #[serde(default)]
    pub scheduled_for: Option<DateTime<Utc>>,
    /// Add to each account's queue (its next free posting time).
    #[serde(default)]
    pub queue: bool,
}

/// What to generate.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContentRequestJson {
    /// The source.
    pub source: SourceJson,
    /// `social_media` (the only channel Crier serves).
    #[serde(default)]
    pub channels: Vec<String>,
    /// Platforms and timing. Without `immediate`, `scheduled_for` or `queue`, the posts are drafts.
    pub social_options: SocialOptionsJson,
}

/// The brief's request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerateJson {
    /// What to generate.
    pub content_request: ContentRequestJson,
}

/// A delivery of a generated post.
#[derive(Debug, Serialize, ToSchema)]
pub struct GeneratedDeliveryJson {
    /// The delivery.
    pub id: Uuid,
    /// Its account.
    pub account_id: Uuid,
    /// scheduled, paused, held…
    pub state: String,
    /// When it goes out.
    pub at: DateTime<Utc>,
}

/// One generated post.
#[derive(Debug, Serialize, ToSchema)]
pub struct GeneratedPostJson {
    /// x, linkedin or facebook.
    #[schema(example = "x")]
    pub platform: String,
    /// The post (`/api/v1/posts/{id}`, or `/api/v1/drafts/{id}` for a draft).
    pub id: Uuid,
    /// `scheduled` or `draft`.
    pub state: String,
    /// Its text.
    pub text: String,
    /// X: the thread's replies.
    pub thread: Vec<String>,
    /// Its deliveries (none for a draft).
    pub deliveries: Vec<GeneratedDeliveryJson>,
}

/// What was generated.
#[derive(Debug, Serialize, ToSchema)]
pub struct GeneratedJson {
    /// The source's title.
    pub title: String,
    /// The source's address, if it has one.
    pub url: Option<String>,
    /// One post per platform asked for.
    pub posts: Vec<GeneratedPostJson>,
}

/// Turn a document, a web page or a text into one post per platform, scheduled, published now,
/// queued, or kept as drafts.
#[utoipa::path(post, path = "/api/v2/content/generate", tag = "product brief", operation_id = "generate_content",
    request_body = GenerateJson,
    responses((status = 201, description = "The posts made, with their deliveries", body = GeneratedJson),
              Malformed, Unauthenticated, Forbidden, Invalid, RateLimited, Internal),
    security(("bearer" = [])))]
pub async fn generate(
    State(state): State<ApiState>,
    caller: Caller,
    ApiJson(body): ApiJson<GenerateJson>,
) -> Result<(StatusCode, Json<GeneratedJson>), ApiError> {
    caller.require_editor()?;
    let request = body.content_request;
    if request.channels.iter().any(|c| c != "social_media") {
        return Err(FieldError::new("content_request.channels", "Crier serves the channel social_media only.").into());
    }
    let options = &request.social_options;
    let platforms = parse_platforms(&options.platforms)?;
    let timing = [options.immediate, options.scheduled_for.is_some(), options.queue].iter().filter(|b| **b).count();
    if timing > 1 {
        return Err(FieldError::new(
            "content_request.social_options",
            "Choose one of immediate, scheduled_for and queue (or none, for drafts).",
        )
        .into());
    }
    if let Some(at) = options.scheduled_for {
        super::posts::not_in_the_past(at).map_err(|_| {
            FieldError::new("content_request.social_options.scheduled_for", format!("{} has passed: give a later time.", at.to_rfc3339()))
        })?;
    }
    // The accounts first: nothing is fetched for a request that cannot be served.
    let team_accounts = accounts::list(&state.pool, caller.team_id()).await?;
    let mut targets: Vec<(Platform, Vec<Uuid>)> = Vec::new();
    for platform in &platforms {
        let ids: Vec<Uuid> = team_accounts
            .iter()
            .filter(|a| a.platform == *platform && a.status == crier_domain::account::AccountStatus::Connected)
            .map(|a| a.account_id)
            .collect();
        if ids.is_empty() {
            return Err(FieldError::new(
                "content_request.social_options.platforms",
                format!("The team has no connected {} account: connect one, or leave {} out.", platform.label(), platform.as_str()),
            )
            .into());
        }
        targets.push((*platform, ids));
    }
    let doc = read_source(&state, &request.source).await?;
    if doc.title.is_empty() && doc.paragraphs.is_empty() {
        return Err(FieldError::new("content_request.source", "The source has no text to make posts of.").into());
    }

    let now = Utc::now();
    let mut made = Vec::new();
    let mut tx = state.pool.begin().await.map_err(crier_domain::DomainError::from)?;
    // The posts track their links as the team's defaults say (Settings → Link tracking).
    let tracking = crier_domain::store::link_tracking::team_defaults_on(&mut tx, caller.team_id()).await?;
    for (platform, account_ids) in targets {
        let (text, thread) = match platform {
            Platform::X => x_thread(&doc),
            other => (long_text(&doc, other), Vec::new()),
        };
        let content = PostContent::parse(&text, Vec::new(), "", thread.clone())
            .map_err(|e| {
                FieldError::new("content_request.source", format!("The derived {} post is not valid: {}", platform.label(), e.message))
            })?
            .with_tracking(tracking.clone());
        let new = posts::NewPost {
            content,
            account_ids: account_ids.clone(),
            scheduled_at: options.scheduled_for.unwrap_or(now),
            timezone: crier_domain::timezone::TimeZone::UTC,
            dry_run: false,
            retry: Default::default(),
        };
        let (id, draft) = if options.immediate || options.scheduled_for.is_some() {
            (posts::schedule(&mut tx, caller.team_id(), caller.actor(), &new, &state.media.rules).await?, false)
        } else if options.queue {
            (posts::add_to_queue(&mut tx, caller.team_id(), caller.actor(), None, &new, &state.media.rules).await?, false)
        } else {
            let draft = drafts::Draft { content: new.content.clone(), account_ids, planned_at: None, timezone: new.timezone };
            (drafts::save_in(&mut tx, caller.team_id(), caller.actor(), None, &draft).await?, true)
        };
        made.push((platform, id, draft, text, thread));
    }
    tx.commit().await.map_err(crier_domain::DomainError::from)?;

    let mut generated = Vec::with_capacity(made.len());
    for (platform, id, draft, text, thread) in made {
        let deliveries = if draft {
            Vec::new()
        } else {
            posts::get(&state.pool, caller.team_id(), id)
                .await?
                .summary
                .deliveries
                .into_iter()
                .map(|d| GeneratedDeliveryJson {
                    id: d.delivery_id,
                    account_id: d.account_id,
                    state: d.state.as_str().to_owned(),
                    at: d.next_attempt_at,
                })
                .collect()
        };
        generated.push(GeneratedPostJson {
            platform: platform.as_str().to_owned(),
            id,
            state: if draft { "draft".into() } else { "scheduled".into() },
            text,
            thread,
            deliveries,
        });
    }
    Ok((StatusCode::CREATED, Json(GeneratedJson { title: doc.title, url: doc.link, posts: generated })))
}

/// The platforms asked for: the brief's names (`twitter`) and Crier's.
fn parse_platforms(names: &[String]) -> Result<Vec<Platform>, ApiError> {
    let field = "content_request.social_options.platforms";
    if names.is_empty() || names.len() > 3 {
        return Err(FieldError::new(field, "Name one to three platforms: twitter, linkedin, facebook.").into());
    }
    let mut platforms = Vec::new();
    for name in names {
        let platform = match name.trim().to_ascii_lowercase().as_str() {
            "twitter" | "x" => Platform::X,
            "linkedin" => Platform::Linkedin,
            "facebook" => Platform::Facebook,
            other => {
                return Err(FieldError::new(
                    field,
                    format!("“{other}” is not a platform Crier posts to: use twitter, linkedin or facebook."),
                )
                .into());
            }
        };
        if !platforms.contains(&platform) {
            platforms.push(platform);
        }
    }
    Ok(platforms)
}

/// A Google Docs document's plain-text export, for its address (`…/document/d/<id>/…`).
pub fn google_docs_export(url: &url::Url) -> Option<String> {
    if url.host_str() != Some("docs.google.com") {
        return None;
    }
    let mut segments = url.path_segments()?;
    match (segments.next(), segments.next(), segments.next()) {
        (Some("document"), Some("d"), Some(id)) if !id.is_empty() => {
            Some(format!("https://docs.google.com/document/d/{id}/export?format=txt"))
        }
        _ => None,
    }
}

/// The `<title>` of an HTML page, if it has one.
fn html_title(html: &str) -> Option<String> {
    let lower = html.to_ascii_lowercase();
    let start = lower.find("<title")?;
    let open_end = lower[start..].find('>')? + start + 1;
    let end = lower[open_end..].find("</title")? + open_end;
    let title = html.get(open_end..end)?.split_whitespace().collect::<Vec<_>>().join(" ");
    let decoded = html2text::from_read(title.as_bytes(), 10_000).ok()?;
    Some(decoded.trim().to_owned()).filter(|t| !t.is_empty())
}

/// Reads the source as a document.
async fn read_source(state: &ApiState, source: &SourceJson) -> Result<Document, ApiError> {
    let field = "content_request.source";
    match source.kind.as_str() {
        "text" => {
            let text = source.text.as_deref().unwrap_or_default();
            if text.trim().is_empty() || text.chars().count() > MAX_INLINE_TEXT {
                return Err(
                    FieldError::new(&format!("{field}.text"), format!("Give the text, at most {MAX_INLINE_TEXT} characters.")).into()
                );
            }
            Ok(Document::from_text(text, source.title.as_deref(), None))
        }
        "document" | "url" => {
            let raw = source.url.as_deref().unwrap_or_default().trim();
            let url = url::Url::parse(raw)
                .map_err(|_| FieldError::new(&format!("{field}.url"), "Give the source's address, starting with https://."))?;
            match url.scheme() {
                "https" => {}
                "http" if state.outbound_allow_http => {}
                _ => return Err(FieldError::new(&format!("{field}.url"), "Give an https:// address.").into()),
            }
            let fetch_from = google_docs_export(&url).unwrap_or_else(|| url.to_string());
            let (body, content_type) = fetch(state, &fetch_from).await?;
            let text = String::from_utf8_lossy(&body);
            let doc = if content_type.contains("html") {
                let title = source.title.clone().or_else(|| html_title(&text));
                let plain = html2text::from_read_with_decorator(body.as_slice(), 10_000, html2text::render::TrivialDecorator::new())
                    .map_err(|e| FieldError::new(&format!("{field}.url"), format!("The page could not be read as HTML: {e}")))?;
                let mut doc = Document::from_text(&plain, title.as_deref(), Some(url.as_str()));
                // The article starts after its heading, which repeats the title: what comes before
                // it is the page's navigation and banners.
                if let Some(heading) = doc.paragraphs.iter().position(|p| Some(p.as_str()) == title.as_deref()) {
                    doc.paragraphs.drain(..=heading);
                }
                doc
            } else {
                Document::from_text(&text, source.title.as_deref(), Some(url.as_str()))
            };
            Ok(doc)
        }
        other => {
            Err(FieldError::new(&format!("{field}.type"), format!("“{other}” is not a source type: use document, url or text.")).into())
        }
    }
}

/// GETs `url` under the outbound rules: the body (at most [`MAX_SOURCE_BYTES`]) and its type.
async fn fetch(state: &ApiState, url: &str) -> Result<(Vec<u8>, String), ApiError> {
    use crier_outbound::{ClientOptions, OutboundClient, OutboundError};
    let field = "content_request.source.url";
    let options =
        ClientOptions { timeout: FETCH_TIMEOUT, max_redirects: 3, max_body: MAX_SOURCE_BYTES, ..ClientOptions::new("Crier-Content") };
    let client = OutboundClient::new(state.outbound.clone(), options)
        .map_err(|e| ApiError::from(crier_domain::DomainError::Internal(format!("the content client cannot be built: {e}"))))?;
    let words = |e: OutboundError| -> ApiError {
        match e {
            OutboundError::Refused { .. } => FieldError::new(field, format!("Not fetched: {e}")).into(),
            OutboundError::Timeout(limit) => {
                FieldError::new(field, format!("The source did not answer within {} seconds.", limit.as_secs())).into()
            }
            OutboundError::TooLarge { .. } => {
                FieldError::new(field, format!("The source is larger than {} MB.", MAX_SOURCE_BYTES / (1024 * 1024))).into()
            }
            other => FieldError::new(field, format!("The source could not be fetched: {other}")).into(),
        }
    };
    let request = client.request(reqwest::Method::GET, url).map_err(words)?;
    let response = client.send(request).await.map_err(words)?;
    if !response.status().is_success() {
        return Err(FieldError::new(
            field,
            format!("The source answered HTTP {}: check the address (and that it is shared publicly).", response.status().as_u16()),
        )
        .into());
    }
    let content_type =
        response.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("text/plain").to_ascii_lowercase();
    if !(content_type.starts_with("text/") || content_type.contains("html")) {
        return Err(FieldError::new(field, format!("The source is {content_type}, not a text or a web page.")).into());
    }
    let body = client.read_body(response).await.map_err(words)?;
    Ok((body, content_type))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_google_docs_address_is_read_through_its_text_export() {
        let doc = url::Url::parse("https://docs.google.com/document/d/abc123/edit?usp=sharing").unwrap();
        assert_eq!(google_docs_export(&doc).as_deref(), Some("https://docs.google.com/document/d/abc123/export?format=txt"));
        assert_eq!(google_docs_export(&url::Url::parse("https://example.com/document/d/abc").unwrap()), None);
        assert_eq!(html_title("<html><head><TITLE> A &amp; B </title></head></html>").as_deref(), Some("A & B"));
        assert_eq!(html_title("<p>no title</p>"), None);
    }
}
