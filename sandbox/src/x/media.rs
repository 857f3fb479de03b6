//! X's media upload (media-and-metrics.md §1, §5): the one-shot multipart upload, the chunked
//! initialize / append / finalize flow, STATUS, alt text, and what a post's `media.media_ids` must
//! be. Bytes stream through [`Assembly`] (hashed, never held); finalize sniffs the first bytes,
//! checks the declared type, the size and (video) the aspect ratio, and starts processing on the
//! sandbox's clock. Ids expire (`expires_after_secs`), as do unused ones on X.
//!
//! The fake's choices where the reference is silent: an APPEND must name its `segment_index`
//! (query or a form field) before its `media` field, so the bytes can stream straight into place;
//! a one-shot upload of a GIF or video is processed like a finalized chunked one; too large at
//! initialize or one-shot is a 400, a video outside the aspect ratio fails processing.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{Path, Query, State as AxumState};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, TimeDelta, Utc};
use crier_media::MediaKind;
use crier_protocol::x::media::{
    self as protocol, AppendData, AppendResponse, InitializeRequest, MediaCategory, MediaData, MediaResponse, MetadataRequest,
    ProcessingError, ProcessingInfo, ProcessingState,
};
use serde_json::json;

use super::Shared;
use super::errors::invalid_request;
use super::front_door::{Caller, enter_step};
use super::state::XState;
use crate::media::assembly::{Assembly, Ticket};
use crate::media::processing::{Ending, Phase, Processing, ProcessingConfig};
use crate::media::{PostMedia, Stored, multipart, refuse_after_body, text_field};
use crate::util;

/// X's media limits (§1.3), all configurable: the numbers drift.
#[derive(Clone, Debug, PartialEq)]
pub struct XMediaLimits {
    /// Images: 5 MB.
    pub image_max_bytes: u64,
    /// Animated GIFs: 15 MB.
    pub gif_max_bytes: u64,
    /// Videos: 512 MB.
    pub video_max_bytes: u64,
    /// Video width ÷ height: 1:3 to 3:1.
    pub video_aspect: (f64, f64),
    /// Media ids per post: 4 (photos; 1 GIF or 1 video alone).
    pub max_media_per_post: usize,
    /// Alt text: 1,000 characters.
    pub alt_text_max_chars: usize,
    /// Alt text on videos ("can only be added to images at the moment"): refused by default.
    pub alt_text_on_video: bool,
    /// A media id's lifetime from initialize: 1,296,000 s (≈ 15 days).
    pub initialize_ttl_secs: u64,
    /// From finalize or a one-shot upload: 86,400 s (24 hours).
    pub ttl_secs: u64,
    /// How processing of GIFs and videos is played.
    pub processing: ProcessingConfig,
}

impl Default for XMediaLimits {
    fn default() -> Self {
        XMediaLimits {
            image_max_bytes: 5 * 1024 * 1024,
            gif_max_bytes: 15 * 1024 * 1024,
            video_max_bytes: 512 * 1024 * 1024,
            video_aspect: (1.0 / 3.0, 3.0),
            max_media_per_post: protocol::MAX_MEDIA_PER_POST,
            alt_text_max_chars: protocol::ALT_TEXT_MAX_CHARS,
            alt_text_on_video: false,
            initialize_ttl_secs: 1_296_000,
            ttl_secs: 86_400,
            processing: ProcessingConfig::default(),
        }
    }
}

impl XMediaLimits {
    fn max_bytes(&self, category: MediaCategory) -> u64 {
        match category {
            MediaCategory::TweetImage => self.image_max_bytes,
            MediaCategory::TweetGif => self.gif_max_bytes,
            MediaCategory::TweetVideo => self.video_max_bytes,
        }
    }
}

/// One upload, from initialize (or a one-shot upload) on.
pub(crate) struct XMedia {
    user_id: String,
    category: MediaCategory,
    declared_type: Option<String>,
    total_bytes: Option<u64>,
    expires_at: DateTime<Utc>,
    assembly: Assembly,
    /// Set at finalize.
    stored: Option<Stored>,
    processing: Option<Processing>,
    alt_text: Option<String>,
}

impl XState {
    fn next_media_id(&mut self, now: DateTime<Utc>) -> String {
        util::time_id(&mut self.last_media_id, now, 1_288_834_974_657, 1_000_000_000_000_000_000).to_string()
    }

    /// What a post's `media.media_ids` refer to, checked as X does at post time: each must be
    /// the user's, unexpired and processed; 1–4 photos or one GIF or one video. The ledger's
    /// records, or X's refusal.
    pub(super) fn check_post_media(
        &self,
        user_id: &str,
        ids: &[String],
        limits: &XMediaLimits,
        now: DateTime<Utc>,
    ) -> Result<Vec<PostMedia>, (String, String)> {
        if ids.is_empty() || ids.len() > limits.max_media_per_post {
            let message = format!("`media.media_ids` must hold 1 to {} ids.", limits.max_media_per_post);
            return Err(("media.media_ids".to_owned(), message));
        }
        let mut out = Vec::new();
        for id in ids {
            let usable = self.media.get(id).filter(|m| m.user_id == user_id && now < m.expires_at).and_then(|m| {
                let stored = m.stored.as_ref()?;
                (m.processing.as_ref().map(Processing::phase) == Some(Phase::Succeeded)).then_some((m, stored))
            });
            let Some((media, stored)) = usable else {
                return Err(("media.media_ids".to_owned(), protocol::INVALID_MEDIA_IDS.to_owned()));
            };
            if ids.len() > 1 && media.category != MediaCategory::TweetImage {
                let message = "You may attach up to 4 photos, 1 animated GIF or 1 video in a Post.".to_owned();
                return Err(("media.media_ids".to_owned(), message));
            }
            out.push(stored.ledger(id, media.alt_text.clone()));
        }
        Ok(out)
    }
}

fn media_json(id: &str, media: &XMedia, now: DateTime<Utc>, processing_info: Option<ProcessingInfo>) -> MediaResponse {
    let key_prefix = match media.category {
        MediaCategory::TweetImage => "3",
        MediaCategory::TweetGif => "16",
        MediaCategory::TweetVideo => "7",
    };
    MediaResponse {
        data: MediaData {
            id: id.to_owned(),
            media_key: Some(format!("{key_prefix}_{id}")),
            size: media.stored.as_ref().map(|s| s.byte_size),
            expires_after_secs: Some((media.expires_at - now).num_seconds().max(0) as u64),
            processing_info,
        },
    }
}

fn info_of(phase: &Phase, check_after: u64) -> ProcessingInfo {
    let (state, percent, error) = match phase {
        Phase::Pending => (ProcessingState::Pending, Some(0), None),
        Phase::InProgress { percent } => (ProcessingState::InProgress, Some(*percent), None),
        Phase::Succeeded => (ProcessingState::Succeeded, Some(100), None),
        Phase::Failed(reason) => (
            ProcessingState::Failed,
            None,
            Some(ProcessingError { code: Some(1), name: Some("InvalidMedia".to_owned()), message: Some(reason.clone()) }),
        ),
    };
    let check_after_secs = (!phase.is_done()).then_some(check_after);
    ProcessingInfo { state, check_after_secs, progress_percent: percent, error }
}

fn ok(body: &impl serde::Serialize, headers: HeaderMap) -> Response {
    util::json(StatusCode::OK, &serde_json::to_value(body).expect("serializable"), headers)
}

/// `media type unrecognized`, as plain text (§1.4).
fn unrecognized(headers: HeaderMap) -> Response {
    let mut response = (StatusCode::BAD_REQUEST, protocol::MEDIA_TYPE_UNRECOGNIZED).into_response();
    response.headers_mut().extend(headers);
    response
}

fn too_large(limit: u64, headers: HeaderMap) -> Response {
    invalid_request("total_bytes", &format!("The media is larger than the {limit}-byte limit for its category."), headers)
}

/// Ends an upload whose bytes are all in: the type sniffed and checked against what was
/// declared, the size, then processing (with the injected ending, else the aspect-ratio check).
fn finish(x: &mut XState, id: &str, limits: &XMediaLimits, now: DateTime<Utc>, headers: HeaderMap) -> Response {
    let segments = x.media.get(id).map(|m| (0..protocol::MAX_SEGMENTS).take_while(|i| m.assembly.has(*i)).count() as u64).unwrap_or(0);
    let Some(media) = x.media.get_mut(id) else { return invalid_request("id", "BadRequest: Not found", headers) };
    let whole = match media.assembly.whole(segments) {
        Ok(whole) => whole,
        Err(why) => return invalid_request("segment_index", &format!("{} ({why})", protocol::SEGMENTS_MISMATCH), headers),
    };
    if media.assembly.bytes_received() != whole.bytes || media.total_bytes.is_some_and(|t| t != whole.bytes) {
        return invalid_request("total_bytes", protocol::SEGMENTS_MISMATCH, headers);
    }
    let Some(stored) = Stored::from_whole(&whole) else { return unrecognized(headers) };
    let kind_ok = match media.category {
        MediaCategory::TweetImage => stored.content_type.kind() == MediaKind::Image,
        MediaCategory::TweetGif => stored.content_type.kind() == MediaKind::Gif,
        MediaCategory::TweetVideo => stored.content_type.kind() == MediaKind::Video,
    };
    let declared_ok = media.declared_type.as_deref().is_none_or(|t| t == stored.content_type.mime());
    if !kind_ok || !declared_ok {
        return unrecognized(headers);
    }
    if stored.byte_size > limits.max_bytes(media.category) {
        return too_large(limits.max_bytes(media.category), headers);
    }
    let ending = x.faults.processing_ending().unwrap_or_else(|| {
        if media.category == MediaCategory::TweetVideo && !stored.aspect_within(Some(limits.video_aspect)) {
            let (w, h) = stored.dimensions.unwrap_or_default();
            Ending::Fail(format!("Aspect ratio {w}x{h} is outside 1:3 to 3:1"))
        } else {
            Ending::Succeed
        }
    });
    media.stored = Some(stored);
    media.expires_at = now + TimeDelta::seconds(limits.ttl_secs as i64);
    let processing = if media.category.is_chunked() {
        Processing::start(ending, &limits.processing, now)
    } else {
        // Images are ready at finalize (no processing_info) unless a fault fails or sticks them.
        Processing::done(ending, &limits.processing, now)
    };
    let phase = processing.phase();
    let info = (media.category.is_chunked() || phase != Phase::Succeeded).then(|| info_of(&phase, processing.check_after_secs()));
    media.processing = Some(processing);
    ok(&media_json(id, media, now, info), headers)
}

/// `POST /x/2/media/upload`: one-shot multipart (`media`, `media_category`).
pub(super) async fn upload(AxumState(inner): Shared, method: Method, uri: Uri, headers: HeaderMap, body: Body) -> Response {
    let limit = inner.config.x_limits.media_upload_per_15min;
    let caller = Caller { method: &method, uri: &uri, headers: &headers };
    // The state's lock is let go before anything is awaited.
    let entered = enter_step(&inner, &caller, Some("upload"), "media_upload", limit, Some("media.write"))
        .await
        .map(|(auth, _, out)| (auth.user_id, out));
    let (user_id, out) = match entered {
        Ok(entered) => entered,
        Err(response) => return refuse_after_body(body, response).await,
    };
    let limits = inner.config.x_media.clone();
    let mut form = match multipart(&headers, body) {
        Ok(form) => form,
        Err(message) => return invalid_request("media", &message, out),
    };
    let mut assembly = Assembly::default();
    let mut category = None;
    loop {
        let field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => return invalid_request("media", &format!("The multipart body could not be read: {e}"), out),
        };
        match field.name() {
            Some("media") => {
                let ticket = assembly.begin(0);
                match ticket.receive(field, limits.video_max_bytes.max(limits.gif_max_bytes) + 1).await {
                    Ok(received) => assembly.finish(received),
                    Err(message) => return invalid_request("media", &message, out),
                }
            }
            Some("media_category") => match text_field(field).await {
                Ok(text) => category = Some(text),
                Err(message) => return invalid_request("media_category", &message, out),
            },
            _ => {}
        }
    }
    let Some(category) = category.as_deref().and_then(MediaCategory::parse) else {
        return invalid_request("media_category", "`media_category` is required: tweet_image, tweet_gif or tweet_video.", out);
    };
    if !assembly.has(0) {
        return invalid_request("media", "The `media` field is required.", out);
    }
    let now = inner.now();
    let mut state = inner.lock();
    let id = state.x.next_media_id(now);
    let media = XMedia {
        user_id,
        category,
        declared_type: None,
        total_bytes: None,
        expires_at: now + TimeDelta::seconds(limits.ttl_secs as i64),
        assembly,
        stored: None,
        processing: None,
        alt_text: None,
    };
    state.x.media.insert(id.clone(), media);
    let response = finish(&mut state.x, &id, &limits, now, out);
    if !response.status().is_success() {
        state.x.media.remove(&id);
    }
    response
}

/// `POST /x/2/media/upload/initialize`.
pub(super) async fn initialize(
    AxumState(inner): Shared,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let limit = inner.config.x_limits.media_chunked_per_15min;
    let caller = Caller { method: &method, uri: &uri, headers: &headers };
    let (auth, mut state, out) = match enter_step(&inner, &caller, Some("initialize"), "media_init", limit, Some("media.write")).await {
        Ok(entered) => entered,
        Err(response) => return response,
    };
    let limits = &inner.config.x_media;
    let request: InitializeRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(e) => return invalid_request("", &format!("Request body is not valid JSON or misses a field: {e}"), out),
    };
    if request.total_bytes > limits.max_bytes(request.media_category) {
        return too_large(limits.max_bytes(request.media_category), out);
    }
    let now = inner.now();
    let id = state.x.next_media_id(now);
    let media = XMedia {
        user_id: auth.user_id,
        category: request.media_category,
        declared_type: Some(request.media_type),
        total_bytes: Some(request.total_bytes),
        expires_at: now + TimeDelta::seconds(limits.initialize_ttl_secs as i64),
        assembly: Assembly::default(),
        stored: None,
        processing: None,
        alt_text: None,
    };
    let body = media_json(&id, &media, now, None);
    state.x.media.insert(id, media);
    ok(&body, out)
}

/// `POST /x/2/media/upload/{id}/append` and `/{id}/finalize`.
pub(super) async fn command(
    AxumState(inner): Shared,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Path((id, command)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    body: Body,
) -> Response {
    let step = match command.as_str() {
        "append" => "append",
        "finalize" => "finalize",
        _ => return super::errors::not_found("endpoint", &command, HeaderMap::new()),
    };
    let limit = inner.config.x_limits.media_chunked_per_15min;
    let caller = Caller { method: &method, uri: &uri, headers: &headers };
    // The lock is let go at the end of this match, before the body streams (or, for a refusal,
    // is read to its end).
    let entered = match enter_step(&inner, &caller, Some(step), &format!("media_{step}"), limit, Some("media.write")).await {
        Ok((auth, mut state, out)) => {
            let now = inner.now();
            let known = state.x.media.get(&id).is_some_and(|m| m.user_id == auth.user_id && now < m.expires_at && m.stored.is_none());
            if !known {
                Err(invalid_request("media_id", "BadRequest: Not found", out))
            } else if step == "finalize" {
                let limits = inner.config.x_media.clone();
                return finish(&mut state.x, &id, &limits, now, out);
            } else {
                Ok(out)
            }
        }
        Err(response) => Err(response),
    };
    let out = match entered {
        Ok(out) => out,
        Err(response) => return refuse_after_body(body, response).await,
    };
    let mut form = match multipart(&headers, body) {
        Ok(form) => form,
        Err(message) => return invalid_request("media", &message, out),
    };
    let mut segment: Option<u64> = query.get("segment_index").and_then(|s| s.parse().ok());
    let mut appended = false;
    loop {
        let field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => return invalid_request("media", &format!("The multipart body could not be read: {e}"), out),
        };
        match field.name() {
            Some("segment_index") => match text_field(field).await.map(|t| t.trim().parse::<u64>()) {
                Ok(Ok(index)) if index < protocol::MAX_SEGMENTS => segment = Some(index),
                _ => return invalid_request("segment_index", "`segment_index` must be an integer from 0 to 999.", out),
            },
            Some("media") => {
                let Some(index) = segment else {
                    return invalid_request("segment_index", "`segment_index` must come before `media`.", out);
                };
                let (ticket, max): (Ticket, u64) = {
                    let mut state = inner.lock();
                    let Some(media) = state.x.media.get_mut(&id) else { return invalid_request("media_id", "BadRequest: Not found", out) };
                    (media.assembly.begin(index), media.total_bytes.unwrap_or(u64::MAX))
                };
                let received = ticket.receive(field, max).await;
                let mut state = inner.lock();
                let Some(media) = state.x.media.get_mut(&id) else { return invalid_request("media_id", "BadRequest: Not found", out) };
                match received {
                    Ok(received) => media.assembly.finish(received),
                    Err(message) => {
                        media.assembly.abort(index);
                        return invalid_request("media", &message, out);
                    }
                }
                appended = true;
            }
            _ => {}
        }
    }
    if !appended {
        return invalid_request("media", "The `media` field is required.", out);
    }
    let expires_at = inner.lock().x.media.get(&id).map(|m| m.expires_at.timestamp());
    ok(&AppendResponse { data: AppendData { expires_at } }, out)
}

/// `GET /x/2/media/upload?command=STATUS&media_id=…`.
pub(super) async fn status(
    AxumState(inner): Shared,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let limit = inner.config.x_limits.media_status_per_15min;
    let caller = Caller { method: &method, uri: &uri, headers: &headers };
    let (auth, mut state, out) = match enter_step(&inner, &caller, Some("status"), "media_status", limit, Some("media.write")).await {
        Ok(entered) => entered,
        Err(response) => return response,
    };
    if query.get("command").map(String::as_str) != Some("STATUS") {
        return invalid_request("command", "`command` must be STATUS.", out);
    }
    let id = query.get("media_id").cloned().unwrap_or_default();
    let now = inner.now();
    let Some(media) = state.x.media.get_mut(&id).filter(|m| m.user_id == auth.user_id) else {
        return invalid_request("media_id", "BadRequest: Not found", out);
    };
    // §1.2: STATUS on media that returned no processing_info answers "BadRequest: Not found".
    let chunked = media.category.is_chunked();
    let Some(processing) = media.processing.as_mut().filter(|p| chunked || p.phase() != Phase::Succeeded) else {
        return invalid_request("media_id", "BadRequest: Not found", out);
    };
    let phase = processing.poll(now);
    let info = info_of(&phase, processing.check_after_secs());
    ok(&media_json(&id, media, now, Some(info)), out)
}

/// `POST /x/2/media/metadata`: alt text.
pub(super) async fn metadata(AxumState(inner): Shared, method: Method, uri: Uri, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let limit = inner.config.x_limits.media_metadata_per_15min;
    let caller = Caller { method: &method, uri: &uri, headers: &headers };
    let (auth, mut state, out) = match enter_step(&inner, &caller, Some("metadata"), "media_metadata", limit, Some("media.write")).await {
        Ok(entered) => entered,
        Err(response) => return response,
    };
    let limits = &inner.config.x_media;
    let request: MetadataRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(_) => return invalid_request("", "Request body is not valid JSON.", out),
    };
    let now = inner.now();
    let Some(media) = state.x.media.get_mut(&request.id).filter(|m| m.user_id == auth.user_id && now < m.expires_at) else {
        return invalid_request("id", "BadRequest: Not found", out);
    };
    let text = request.metadata.alt_text.text;
    if text.chars().count() > limits.alt_text_max_chars {
        return invalid_request(
            "metadata.alt_text.text",
            &format!("Alt text must be at most {} characters.", limits.alt_text_max_chars),
            out,
        );
    }
    if media.category == MediaCategory::TweetVideo && !limits.alt_text_on_video {
        return invalid_request("id", "Alt text can only be added to images.", out);
    }
    media.alt_text = Some(text);
    let body = json!({"data": {"id": request.id, "associated_metadata": {"alt_text": {"text": media.alt_text}}}});
    util::json(StatusCode::OK, &body, out)
}
