//! Facebook Page media (media-and-metrics.md §3, §5): photos uploaded unpublished and attached to
//! one feed post (or published at once as a single photo post), and videos through the Resumable
//! Upload API (a session opened with a user token on the app, the bytes at offsets, then the
//! Page's `/videos` with the file handle, or `/videos` with a `file_url` Meta fetches itself),
//! with their processing status.
//!
//! Bytes stream through [`Assembly`]: hashed and counted, never held. A resumable upload takes its
//! chunks in offset order (each `file_offset` must be where the upload stands, which `GET
//! /upload:<id>` tells), so nothing is ever spilled.
//!
//! The fake's choices where the reference is silent (§6): a photo of another type than JPEG, PNG
//! or GIF (sniffed) is 324 "Missing or invalid image file", one over the size limit code 100; a
//! feed post naming a photo that is gone (older than 24 hours unpublished, already used, unknown)
//! is code 100 naming `attached_media`; more photos than the cap is code 100; a video's processing
//! is played on its status polls (`processing` → `ready` or `error`).

use std::collections::HashMap;

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, TimeDelta, Utc};
use crier_media::{ContentType, MediaKind};
use crier_protocol::facebook::media::{
    self as protocol, PhotoResponse, UploadHandle, UploadSession, UploadSessionStatus, VideoCreated, VideoPhase, VideoPhaseError,
    VideoStatus, VideoStatusResponse,
};

use super::errors::{graph_error, invalid_parameter, oauth_exception, with_headers};
use super::front_door::enter_step;
use super::publishing::{NewPost, create_post, may_publish};
use super::state::{FacebookState, Kind};
use crate::Inner;
use crate::media::assembly::Assembly;
use crate::media::processing::{Ending, Phase, Processing, ProcessingConfig};
use crate::media::{PostMedia, Stored, body_stream, multipart, text_field};
use crate::util;

/// Meta's media limits (§3.1, §3.2), all configurable: the pages disagree (4 MB vs 10 MB photos).
#[derive(Clone, Debug, PartialEq)]
pub struct FacebookMediaLimits {
    /// Photo bytes: "a photo must be less than 10MB".
    pub photo_max_bytes: u64,
    /// Photos on one feed post (not documented; clients cap at 4–10): 10.
    pub max_attached_photos: usize,
    /// How long an unpublished photo is kept: 24 hours.
    pub unpublished_photo_ttl_secs: u64,
    /// Video bytes: about 10 GB.
    pub video_max_bytes: u64,
    /// How long a resumable upload session lives: 24 hours (not documented).
    pub session_ttl_secs: u64,
    /// Whether a Page token may open a resumable session; Meta wants a user token of someone with
    /// a role on the app (§3.2), so no by default.
    pub uploads_accept_page_token: bool,
    /// How video processing is played.
    pub processing: ProcessingConfig,
}

impl Default for FacebookMediaLimits {
    fn default() -> Self {
        FacebookMediaLimits {
            photo_max_bytes: 10 * 1024 * 1024,
            max_attached_photos: 10,
            unpublished_photo_ttl_secs: protocol::UNPUBLISHED_PHOTO_LIFETIME.num_seconds() as u64,
            video_max_bytes: 10 * 1024 * 1024 * 1024,
            session_ttl_secs: 86_400,
            uploads_accept_page_token: false,
            processing: ProcessingConfig::default(),
        }
    }
}

/// An uploaded photo.
pub(crate) struct Photo {
    page_id: String,
    stored: Stored,
    alt_text: Option<String>,
    /// Unpublished photos expire; a published (or attached) one is used.
    expires_at: Option<DateTime<Utc>>,
    used: bool,
}

/// A resumable upload session.
pub(crate) struct Session {
    app_id: String,
    user_id: String,
    file_length: u64,
    file_type: String,
    expires_at: DateTime<Utc>,
    assembly: Assembly,
    handle: String,
}

/// A Page video (the video post).
pub(crate) struct Video {
    page_id: String,
    processing: Processing,
}

impl FacebookState {
    fn next_media_id(&mut self) -> String {
        self.last_media_id += 1 + util::random_u64() % 1000;
        self.last_media_id.to_string()
    }

    /// The photos a feed post attaches, used up: each the Page's, unpublished, unexpired and
    /// unused; within the cap.
    pub(super) fn take_attached(
        &mut self,
        page_id: &str,
        ids: &[String],
        limits: &FacebookMediaLimits,
        now: DateTime<Utc>,
    ) -> Result<Vec<PostMedia>, Response> {
        if ids.len() > limits.max_attached_photos {
            return Err(invalid_parameter(&format!("At most {} photos can be attached to a post", limits.max_attached_photos)));
        }
        let mut out = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            let usable = self.photos.get(id).filter(|p| p.page_id == page_id && !p.used && p.expires_at.is_some_and(|t| now < t));
            let Some(photo) = usable else {
                let message = format!("(#100) {}[{i}]: photo {id} does not exist or has expired", protocol::ATTACHED_MEDIA_GONE);
                return Err(oauth_exception(100, None, &message));
            };
            out.push(photo.stored.ledger(id, photo.alt_text.clone()));
        }
        for id in ids {
            if let Some(photo) = self.photos.get_mut(id) {
                photo.used = true;
            }
        }
        Ok(out)
    }
}

fn ok(body: impl serde::Serialize, usage: HeaderMap) -> Response {
    util::json(StatusCode::OK, &serde_json::to_value(body).expect("serializable"), usage)
}

fn invalid_image() -> Response {
    oauth_exception(protocol::INVALID_IMAGE_CODE, None, protocol::INVALID_IMAGE_MESSAGE)
}

/// `POST /{page}/photos`: multipart `source` (streamed), `published`, `alt_text_custom`,
/// `caption` (or `message`); query parameters count too.
pub(super) async fn photos(
    inner: &Inner,
    version: &str,
    page_id: &str,
    headers: &HeaderMap,
    query: HashMap<String, String>,
    body: Body,
) -> Response {
    let received_at = inner.now();
    let (token, usage) = match enter_step(inner, version, headers, &query, false, Some("photos")).await {
        Ok(entered) => entered,
        Err(response) => return response,
    };
    if let Err(response) = may_publish(&inner.lock().facebook, &token, page_id) {
        return with_headers(response, usage);
    }
    let limits = inner.config.facebook_media.clone();
    let mut form = match multipart(headers, body) {
        Ok(form) => form,
        Err(message) => return with_headers(invalid_parameter(&message), usage),
    };
    let mut params = query;
    let mut assembly = Assembly::default();
    loop {
        let field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => return with_headers(invalid_parameter(&format!("The multipart body could not be read: {e}")), usage),
        };
        match field.name().map(str::to_owned) {
            Some(name) if name == "source" => {
                let ticket = assembly.begin(0);
                match ticket.receive(field, limits.photo_max_bytes).await {
                    Ok(received) => assembly.finish(received),
                    Err(_) => {
                        let message = format!("(#100) Photos must be smaller than {} bytes", limits.photo_max_bytes);
                        return with_headers(oauth_exception(100, None, &message), usage);
                    }
                }
            }
            Some(name) => match text_field(field).await {
                Ok(text) => {
                    params.insert(name, text);
                }
                Err(message) => return with_headers(invalid_parameter(&message), usage),
            },
            None => {}
        }
    }
    let stored = match assembly.whole(1).ok().and_then(|w| Stored::from_whole(&w)) {
        Some(stored) if matches!(stored.content_type, ContentType::Jpeg | ContentType::Png | ContentType::Gif) => stored,
        _ => return with_headers(invalid_image(), usage),
    };
    let published = params.get("published").is_none_or(|p| p != "false" && p != "0");
    let alt_text = params.get("alt_text_custom").filter(|a| !a.is_empty()).cloned();
    let now = inner.now();
    let mut state = inner.lock();
    let id = state.facebook.next_media_id();
    let ttl = TimeDelta::seconds(limits.unpublished_photo_ttl_secs as i64);
    let photo = Photo {
        page_id: page_id.to_owned(),
        stored: stored.clone(),
        alt_text: alt_text.clone(),
        expires_at: (!published).then_some(now + ttl),
        used: published,
    };
    state.facebook.photos.insert(id.clone(), photo);
    if !published {
        return ok(PhotoResponse { id, post_id: None }, usage);
    }
    let message = params.get("caption").or_else(|| params.get("message")).cloned().unwrap_or_default();
    let new = NewPost { page_id, message, link: None, media: vec![stored.ledger(&id, alt_text)], received_at, now };
    match create_post(inner, &mut state, &token, new) {
        Ok(post_id) => ok(PhotoResponse { id, post_id: Some(post_id) }, usage),
        Err(response) => with_headers(response, usage),
    }
}

/// `POST /{app-id}/uploads?file_name&file_length&file_type`: opens a resumable session.
pub(super) async fn open_session(
    inner: &Inner,
    version: &str,
    app_id: &str,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
) -> Response {
    let (token, usage) = match enter_step(inner, version, headers, params, false, Some("uploads")).await {
        Ok(entered) => entered,
        Err(response) => return response,
    };
    let limits = &inner.config.facebook_media;
    let user_token = matches!(token.kind, Kind::User { .. });
    if token.app_id != app_id || !(user_token || limits.uploads_accept_page_token) {
        let message = "(#200) The resumable upload needs a user access token of someone with a role on the app";
        return with_headers(oauth_exception(200, None, message), usage);
    }
    let file_length = params.get("file_length").and_then(|l| l.parse::<u64>().ok());
    let file_type = params.get("file_type").cloned().unwrap_or_default();
    let Some(file_length) = file_length.filter(|l| *l > 0) else {
        return with_headers(invalid_parameter("file_length must be a positive number of bytes"), usage);
    };
    if !protocol::UPLOAD_FILE_TYPES.contains(&file_type.as_str()) {
        return with_headers(invalid_parameter(&format!("file_type must be one of {}", protocol::UPLOAD_FILE_TYPES.join(", "))), usage);
    }
    if file_type == "video/mp4" && file_length > limits.video_max_bytes {
        return with_headers(invalid_parameter(&format!("Videos must be at most {} bytes", limits.video_max_bytes)), usage);
    }
    let now = inner.now();
    let mut state = inner.lock();
    let id: String = util::random_token().chars().filter(|c| c.is_ascii_alphanumeric()).take(24).collect();
    let session = Session {
        app_id: app_id.to_owned(),
        user_id: token.user_id.clone(),
        file_length,
        file_type,
        expires_at: now + TimeDelta::seconds(limits.session_ttl_secs as i64),
        assembly: Assembly::default(),
        handle: format!("2:{}", util::random_token()),
    };
    state.facebook.sessions.insert(id.clone(), session);
    ok(UploadSession { id: format!("upload:{id}") }, usage)
}

/// The session of `upload:<id>`, for its user.
fn session_of<'a>(meta: &'a mut FacebookState, node: &str, user_id: &str, now: DateTime<Utc>) -> Result<&'a mut Session, Response> {
    let id = node.strip_prefix("upload:").unwrap_or(node);
    match meta.sessions.get_mut(id) {
        Some(session) if session.user_id == user_id && now < session.expires_at => Ok(session),
        _ => Err(graph_error(
            StatusCode::BAD_REQUEST,
            "OAuthException",
            100,
            Some(33),
            &format!("Upload session {node} does not exist or has expired"),
            None,
        )),
    }
}

/// `POST /upload:<id>` with `file_offset` and the raw bytes from there.
pub(super) async fn transfer(
    inner: &Inner,
    version: &str,
    node: &str,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
    body: Body,
) -> Response {
    let (token, usage) = match enter_step(inner, version, headers, params, false, Some("transfer")).await {
        Ok(entered) => entered,
        Err(response) => return response,
    };
    let offset = headers.get(protocol::FILE_OFFSET_HEADER).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
    let Some(offset) = offset else {
        return with_headers(invalid_parameter("The file_offset header is required"), usage);
    };
    let now = inner.now();
    let (ticket, max) = {
        let mut state = inner.lock();
        let session = match session_of(&mut state.facebook, node, &token.user_id, now) {
            Ok(session) => session,
            Err(response) => return with_headers(response, usage),
        };
        let at = session.assembly.bytes_in_order();
        if offset != at {
            let message = format!("(#100) file_offset {offset} does not match the upload, which has {at} bytes: resume from {at}");
            return with_headers(oauth_exception(100, None, &message), usage);
        }
        let index = (0..).find(|i| !session.assembly.has(*i)).unwrap_or(0);
        (session.assembly.begin(index), session.file_length - at)
    };
    let index = ticket.index();
    let received = ticket.receive(body_stream(body), max).await;
    let mut state = inner.lock();
    let session = match session_of(&mut state.facebook, node, &token.user_id, now) {
        Ok(session) => session,
        Err(response) => return with_headers(response, usage),
    };
    match received {
        Ok(received) => session.assembly.finish(received),
        Err(message) => {
            session.assembly.abort(index);
            return with_headers(invalid_parameter(&format!("The chunk was refused: {message}")), usage);
        }
    }
    ok(UploadHandle { h: session.handle.clone() }, usage)
}

/// `GET /upload:<id>`: where the upload stands.
pub(super) async fn session_status(
    inner: &Inner,
    version: &str,
    node: &str,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
) -> Response {
    let (token, usage) = match enter_step(inner, version, headers, params, false, Some("transfer")).await {
        Ok(entered) => entered,
        Err(response) => return response,
    };
    let now = inner.now();
    let mut state = inner.lock();
    match session_of(&mut state.facebook, node, &token.user_id, now) {
        Ok(session) => ok(UploadSessionStatus { id: node.to_owned(), file_offset: session.assembly.bytes_in_order() }, usage),
        Err(response) => with_headers(response, usage),
    }
}

/// The one place a video's bytes may be fetched from by URL: Crier's own signed media links
/// beside the sandbox (`<crier>/media/link/...`). Meta fetches any public URL; a fake reachable
/// from the internet must not fetch whatever a caller names (its own network included).
fn fetchable(inner: &Inner, url: &str) -> bool {
    let crier = inner.config.public_base.trim_end_matches("/sandbox");
    url.strip_prefix(crier).is_some_and(|rest| rest.starts_with("/media/link/") && !rest.contains(".."))
}

/// Fetches a video from `file_url` as Meta does, hashing it as it streams (never held).
async fn fetch_video(inner: &Inner, url: &str, max: u64) -> Result<Stored, Response> {
    let unable = |why: &str| {
        graph_error(StatusCode::BAD_REQUEST, "OAuthException", 389, None, &format!("Unable to fetch video file from URL ({why})."), None)
    };
    if !fetchable(inner, url) {
        return Err(unable("the sandbox fetches Crier's media links only"));
    }
    let response = match reqwest::get(url).await {
        Ok(response) if response.status().is_success() => response,
        Ok(response) => return Err(unable(&format!("HTTP {}", response.status().as_u16()))),
        Err(_) => return Err(unable("no answer")),
    };
    let mut assembly = Assembly::default();
    let ticket = assembly.begin(0);
    let received = ticket.receive(Box::pin(response.bytes_stream()), max).await.map_err(|e| unable(&e))?;
    assembly.finish(received);
    assembly.whole_so_far().ok().and_then(|whole| Stored::from_whole(&whole)).ok_or_else(|| unable("unreadable"))
}

/// `POST /{page}/videos`: the video post, from a finished resumable upload
/// (`fbuploader_video_file_chunk=<h>`) or from a URL Meta fetches (`file_url`), with
/// `description` and `title`.
pub(super) async fn videos(inner: &Inner, version: &str, page_id: &str, headers: &HeaderMap, params: &HashMap<String, String>) -> Response {
    let received_at = inner.now();
    let (token, usage) = match enter_step(inner, version, headers, params, false, Some("videos")).await {
        Ok(entered) => entered,
        Err(response) => return response,
    };
    if let Some(url) = params.get("file_url").filter(|_| !params.contains_key("fbuploader_video_file_chunk")) {
        let limits = inner.config.facebook_media.clone();
        let stored = match fetch_video(inner, url, limits.video_max_bytes).await {
            Ok(stored) if stored.content_type.kind() == MediaKind::Video => stored,
            Ok(_) => return with_headers(unsupported_video(), usage),
            Err(response) => return with_headers(response, usage),
        };
        let now = inner.now();
        let mut state = inner.lock();
        if let Err(response) = may_publish(&state.facebook, &token, page_id) {
            return with_headers(response, usage);
        }
        return video_post(inner, &mut state, &token, page_id, stored, params, received_at, now, usage);
    }
    let now = inner.now();
    let mut state = inner.lock();
    if let Err(response) = may_publish(&state.facebook, &token, page_id) {
        return with_headers(response, usage);
    }
    let handle = params.get("fbuploader_video_file_chunk").cloned().unwrap_or_default();
    let meta = &mut state.facebook;
    let found = meta
        .sessions
        .iter()
        .find(|(_, s)| s.handle == handle && s.user_id == token.user_id && s.app_id == token.app_id && now < s.expires_at)
        .map(|(id, _)| id.clone());
    let Some(session_id) = found else {
        return with_headers(invalid_parameter("fbuploader_video_file_chunk is not a handle of a finished upload"), usage);
    };
    let session = meta.sessions.remove(&session_id).expect("found");
    if session.assembly.bytes_in_order() != session.file_length {
        let message = format!("The upload has {} of {} bytes", session.assembly.bytes_in_order(), session.file_length);
        meta.sessions.insert(session_id, session);
        return with_headers(invalid_parameter(&message), usage);
    }
    let stored = match session.assembly.whole_so_far().ok().and_then(|w| Stored::from_whole(&w)) {
        Some(stored) if stored.content_type.kind() == MediaKind::Video && session.file_type == "video/mp4" => stored,
        _ => return with_headers(unsupported_video(), usage),
    };
    video_post(inner, &mut state, &token, page_id, stored, params, received_at, now, usage)
}

fn unsupported_video() -> Response {
    graph_error(
        StatusCode::BAD_REQUEST,
        "OAuthException",
        352,
        None,
        "The video file you selected is in a format that we don't support.",
        None,
    )
}

/// Creates the video post of `stored` (the ledger knows it by the video id) and starts its
/// processing.
#[allow(clippy::too_many_arguments)]
fn video_post(
    inner: &Inner,
    state: &mut crate::State,
    token: &super::state::Token,
    page_id: &str,
    stored: Stored,
    params: &HashMap<String, String>,
    received_at: DateTime<Utc>,
    now: DateTime<Utc>,
    usage: HeaderMap,
) -> Response {
    let limits = inner.config.facebook_media.clone();
    let meta = &mut state.facebook;
    let ending = meta.faults.processing_ending().unwrap_or(Ending::Succeed);
    let id = meta.next_media_id();
    meta.videos.insert(id.clone(), Video { page_id: page_id.to_owned(), processing: Processing::start(ending, &limits.processing, now) });
    let message = params.get("description").cloned().unwrap_or_default();
    let new = NewPost { page_id, message, link: None, media: vec![stored.ledger(&id, None)], received_at, now };
    match create_post(inner, state, token, new) {
        Ok(post_id) => {
            // The ledger knows the video post by the video id, which is what the caller got back.
            if let Some(entry) = state.ledger.iter_mut().rev().find(|e| e.post_id == post_id) {
                entry.post_id = id.clone();
            }
            if let Some(media) = state.post_media.remove(&("facebook".to_owned(), post_id)) {
                state.post_media.insert(("facebook".to_owned(), id.clone()), media);
            }
            ok(VideoCreated { id }, usage)
        }
        Err(response) => with_headers(response, usage),
    }
}

/// `GET /{video}?fields=status`, when `node` is a video: one processing step per timely poll.
pub(super) fn video_status(meta: &mut FacebookState, node: &str, now: DateTime<Utc>) -> Option<VideoStatusResponse> {
    let video = meta.videos.get_mut(node)?;
    let phase = video.processing.poll(now);
    let (video_status, processing_phase) = match phase {
        Phase::Pending | Phase::InProgress { .. } => ("processing", VideoPhase { status: "in_progress".to_owned(), errors: Vec::new() }),
        Phase::Succeeded => ("ready", VideoPhase { status: "complete".to_owned(), errors: Vec::new() }),
        Phase::Failed(reason) => {
            ("error", VideoPhase { status: "error".to_owned(), errors: vec![VideoPhaseError { code: 1_363_008, message: reason }] })
        }
    };
    Some(VideoStatusResponse {
        id: node.to_owned(),
        status: VideoStatus { video_status: video_status.to_owned(), processing_phase: Some(processing_phase) },
    })
}

/// The status answer, through the usual front door.
pub(super) async fn status(
    inner: &Inner,
    version: &str,
    node: &str,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
) -> Option<Response> {
    if !inner.lock().facebook.videos.contains_key(node) {
        return None;
    }
    let (token, usage) = match enter_step(inner, version, headers, params, false, Some("status")).await {
        Ok(entered) => entered,
        Err(response) => return Some(response),
    };
    let now = inner.now();
    let mut state = inner.lock();
    let page_id = state.facebook.videos.get(node).map(|v| v.page_id.clone()).unwrap_or_default();
    if !matches!(&token.kind, Kind::Page { page_id: own } if *own == page_id) {
        return Some(with_headers(super::errors::permission("Reading a video's status needs its Page's token"), usage));
    }
    let body = video_status(&mut state.facebook, node, now)?;
    Some(ok(body, usage))
}
