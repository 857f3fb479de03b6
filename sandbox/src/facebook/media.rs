//! Facebook Page media (media-and-metrics.md §3, §5): photos uploaded unpublished and attached to
//! one feed post (or published at once as a single photo post), and videos three ways: through the
//! Resumable Upload API (a session opened with a user token on the app, the bytes at offsets, then
//! the Page's `/videos` with the file handle), through the legacy chunked upload on the Page's
//! `/videos` (`upload_phase` `start`, `transfer`, `finish`, with the Page token), or `/videos` with
//! a `file_url` Meta fetches itself; with their processing status.
//!
//! Bytes stream through [`Assembly`]: hashed and counted, never held. Both kinds of upload
//! [`Session`] take their chunks in offset order (each `file_offset` or `start_offset` must be
//! where the upload stands, which `GET /upload:<id>` or the last chunk's answer tells), so nothing
//! is ever spilled.
//!
//! The fake's choices where the reference is silent (§6): a photo of another type than JPEG, PNG
//! or GIF (sniffed) is 324 "Missing or invalid image file", one over the size limit code 100; a
//! feed post naming a photo that is gone (older than 24 hours unpublished, already used, unknown)
//! is code 100 naming `attached_media`; more photos than the cap is code 100; a video's processing
//! is played on its status polls (`processing` → `ready` or `error`); the chunked upload asks for
//! ranges of [`FacebookMediaLimits::page_upload_chunk_bytes`] (Meta's size is not documented),
//! takes less, refuses more, and reads a multipart body's text fields before its file part (as
//! clients send them) to know the phase before the bytes stream.

use std::collections::HashMap;

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use chrono::{DateTime, TimeDelta, Utc};
use crier_media::{ContentType, MediaKind};
use crier_protocol::facebook::media::{
    self as protocol, CHUNK_FIELD, ChunkRange, ChunkedFinish, ChunkedStart, PhotoResponse, UploadHandle, UploadPhase, UploadSession,
    UploadSessionStatus, VideoCreated, VideoPhase, VideoPhaseError, VideoStatus, VideoStatusResponse,
};
use futures_util::Stream;

use super::errors::{graph_error, invalid_parameter, oauth_exception, with_headers};
use super::front_door::enter_step;
use super::publishing::{NewPost, create_post, may_publish};
use super::state::{FacebookState, Kind, Token};
use crate::Inner;
use crate::media::assembly::Assembly;
use crate::media::processing::{Ending, Phase, Processing, ProcessingConfig};
use crate::media::{PostMedia, Stored, body_stream, multipart, refuse_after_body, text_field};
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
    /// How long an upload session (resumable or chunked) lives: 24 hours (not documented).
    pub session_ttl_secs: u64,
    /// The largest range the chunked upload on a Page's `/videos` asks for at once (Meta picks it,
    /// §3.2; its size is not documented): 4 MiB.
    pub page_upload_chunk_bytes: u64,
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
            page_upload_chunk_bytes: 4 * 1024 * 1024,
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

/// An upload session: its bytes arrive in offset order until `file_length`, before `expires_at`.
pub(crate) struct Session {
    flow: Flow,
    file_length: u64,
    expires_at: DateTime<Utc>,
    assembly: Assembly,
}

/// Whose a session is, and what its bytes become.
enum Flow {
    /// Opened on the app by a user (Resumable Upload API, §3.2): `/videos` takes its `handle` once
    /// every byte is in.
    Resumable { app_id: String, user_id: String, file_type: String, handle: String },
    /// Opened on a Page's `/videos` (legacy chunked, §3.2): any token of the Page goes on with it,
    /// and `finish` makes the video `video_id`.
    Chunked { page_id: String, video_id: String },
}

/// The session a request names, and who asks: a resumable one (`upload:<id>`) is its user's, a
/// chunked one (`upload_session_id`) its Page's.
enum Named<'a> {
    Resumable { node: &'a str, user_id: &'a str },
    Chunked { id: &'a str, page_id: &'a str },
}

impl Named<'_> {
    fn key(&self) -> &str {
        match self {
            Named::Resumable { node, .. } => node.strip_prefix("upload:").unwrap_or(node),
            Named::Chunked { id, .. } => id,
        }
    }

    /// The request's name for the offset.
    fn offset_field(&self) -> &'static str {
        match self {
            Named::Resumable { .. } => protocol::FILE_OFFSET_HEADER,
            Named::Chunked { .. } => "start_offset",
        }
    }

    fn holds(&self, flow: &Flow) -> bool {
        match (self, flow) {
            (Named::Resumable { user_id, .. }, Flow::Resumable { user_id: own, .. }) => user_id == own,
            (Named::Chunked { page_id, .. }, Flow::Chunked { page_id: own, .. }) => page_id == own,
            _ => false,
        }
    }

    fn gone(&self) -> Response {
        let shown = match self {
            Named::Resumable { node, .. } => node,
            Named::Chunked { id, .. } => id,
        };
        let message = format!("Upload session {shown} does not exist or has expired");
        graph_error(StatusCode::BAD_REQUEST, "OAuthException", 100, Some(33), &message, None)
    }
}

impl Session {
    fn open(flow: Flow, file_length: u64, limits: &FacebookMediaLimits, now: DateTime<Utc>) -> (String, Session) {
        let id: String = util::random_token().chars().filter(|c| c.is_ascii_alphanumeric()).take(24).collect();
        let expires_at = now + TimeDelta::seconds(limits.session_ttl_secs as i64);
        (id, Session { flow, file_length, expires_at, assembly: Assembly::default() })
    }

    /// The bytes the session takes next: all the rest for a resumable upload; for a chunked one
    /// at most `chunk` of it (Meta picks the range, §3.2).
    fn asked(&self, chunk: u64) -> ChunkRange {
        let at = self.assembly.bytes_in_order();
        let rest = self.file_length.saturating_sub(at);
        let room = match self.flow {
            Flow::Resumable { .. } => rest,
            Flow::Chunked { .. } => rest.min(chunk.max(1)),
        };
        ChunkRange { start_offset: at, end_offset: at + room }
    }
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

fn json_of(body: impl serde::Serialize) -> serde_json::Value {
    serde_json::to_value(body).expect("serializable")
}

fn ok(body: impl serde::Serialize, usage: HeaderMap) -> Response {
    util::json(StatusCode::OK, &json_of(body), usage)
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
        Err(response) => return refuse_after_body(body, response).await,
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
        return with_headers(too_large_video(limits), usage);
    }
    let now = inner.now();
    let mut state = inner.lock();
    let flow = Flow::Resumable {
        app_id: app_id.to_owned(),
        user_id: token.user_id.clone(),
        file_type,
        handle: format!("2:{}", util::random_token()),
    };
    let (id, session) = Session::open(flow, file_length, limits, now);
    state.facebook.sessions.insert(id.clone(), session);
    ok(UploadSession { id: format!("upload:{id}") }, usage)
}

fn too_large_video(limits: &FacebookMediaLimits) -> Response {
    invalid_parameter(&format!("Videos must be at most {} bytes", limits.video_max_bytes))
}

/// The session `named`, if the asker holds it and it has not expired.
fn session_of<'a>(meta: &'a mut FacebookState, named: &Named<'_>, now: DateTime<Utc>) -> Result<&'a mut Session, Response> {
    match meta.sessions.get_mut(named.key()) {
        Some(session) if named.holds(&session.flow) && now < session.expires_at => Ok(session),
        _ => Err(named.gone()),
    }
}

/// Takes one chunk of the session `named`, in offset order: `offset` must be where the upload
/// stands, and no more than the session asks for may come ([`Session::asked`]). The bytes stream
/// with the lock released (see [`Assembly`]); `answer` reads the session once they are in.
async fn take_chunk<T, E: std::fmt::Display>(
    inner: &Inner,
    named: &Named<'_>,
    offset: u64,
    bytes: impl Stream<Item = Result<Bytes, E>> + Unpin,
    answer: impl FnOnce(&Session) -> T,
) -> Result<T, Response> {
    let now = inner.now();
    let chunk = inner.config.facebook_media.page_upload_chunk_bytes;
    let (ticket, room) = {
        let mut state = inner.lock();
        let session = session_of(&mut state.facebook, named, now)?;
        let at = session.assembly.bytes_in_order();
        if offset != at {
            let field = named.offset_field();
            let message = format!("(#100) {field} {offset} does not match the upload, which has {at} bytes: resume from {at}");
            return Err(oauth_exception(100, None, &message));
        }
        let asked = session.asked(chunk);
        let index = (0..).find(|i| !session.assembly.has(*i)).unwrap_or(0);
        (session.assembly.begin(index), asked.end_offset - asked.start_offset)
    };
    let index = ticket.index();
    let received = ticket.receive(bytes, room).await;
    let mut state = inner.lock();
    let session = session_of(&mut state.facebook, named, now)?;
    match received {
        Ok(received) => session.assembly.finish(received),
        Err(message) => {
            session.assembly.abort(index);
            return Err(invalid_parameter(&format!("The chunk was refused: {message}")));
        }
    }
    Ok(answer(session))
}

/// The video a session's bytes make, once every one is in: the session is used up (a refused one
/// too); with bytes missing it stays, for the rest.
fn take_video(meta: &mut FacebookState, id: &str) -> Result<Stored, Response> {
    if let Some(session) = meta.sessions.get(id) {
        let at = session.assembly.bytes_in_order();
        if at != session.file_length {
            return Err(invalid_parameter(&format!("The upload has {at} of {} bytes: send the rest first", session.file_length)));
        }
    }
    let Some(session) = meta.sessions.remove(id) else {
        return Err(invalid_parameter(&format!("Upload session {id} does not exist or has expired")));
    };
    let declared_mp4 = match &session.flow {
        Flow::Resumable { file_type, .. } => file_type == "video/mp4",
        Flow::Chunked { .. } => true,
    };
    match session.assembly.whole_so_far().ok().and_then(|w| Stored::from_whole(&w)) {
        Some(stored) if stored.content_type.kind() == MediaKind::Video && declared_mp4 => Ok(stored),
        _ => Err(unsupported_video()),
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
        Err(response) => return refuse_after_body(body, response).await,
    };
    let offset = headers.get(protocol::FILE_OFFSET_HEADER).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
    let Some(offset) = offset else {
        return with_headers(invalid_parameter("The file_offset header is required"), usage);
    };
    let named = Named::Resumable { node, user_id: &token.user_id };
    let handle = take_chunk(inner, &named, offset, body_stream(body), |session| match &session.flow {
        Flow::Resumable { handle, .. } => handle.clone(),
        Flow::Chunked { .. } => String::new(),
    })
    .await;
    match handle {
        Ok(h) => ok(UploadHandle { h }, usage),
        Err(response) => with_headers(response, usage),
    }
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
    match session_of(&mut state.facebook, &Named::Resumable { node, user_id: &token.user_id }, now) {
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

/// `POST /{page}/videos` with a multipart body (a chunked upload's `transfer`, or any call sent
/// so): its text fields are read first, then a file part, which a `transfer` streams.
pub(super) async fn videos_multipart(
    inner: &Inner,
    version: &str,
    page_id: &str,
    headers: &HeaderMap,
    query: HashMap<String, String>,
    body: Body,
) -> Response {
    let mut form = match multipart(headers, body) {
        Ok(form) => form,
        Err(message) => return invalid_parameter(&message),
    };
    let mut params = query;
    let file = loop {
        match form.next_field().await {
            Ok(Some(field)) if field.file_name().is_some() => break Some(field),
            Ok(Some(field)) => {
                let name = field.name().map(str::to_owned);
                match text_field(field).await {
                    Ok(text) => {
                        params.extend(name.map(|name| (name, text)));
                    }
                    Err(message) => return invalid_parameter(&message),
                }
            }
            Ok(None) => break None,
            Err(e) => return invalid_parameter(&format!("The multipart body could not be read: {e}")),
        }
    };
    videos(inner, version, page_id, headers, &params, file).await
}

/// `POST /{page}/videos`: a phase of the chunked upload when `upload_phase` is given (see
/// [`chunked`]), else the video post, from a finished resumable upload
/// (`fbuploader_video_file_chunk=<h>`) or from a URL Meta fetches (`file_url`), with
/// `description` and `title`. `file` is a multipart body's file part, when there is one.
pub(super) async fn videos(
    inner: &Inner,
    version: &str,
    page_id: &str,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
    file: Option<multer::Field<'static>>,
) -> Response {
    if params.contains_key(UploadPhase::FIELD) {
        return chunked(inner, version, page_id, headers, params, file).await;
    }
    let received_at = inner.now();
    let (token, usage) = match enter_step(inner, version, headers, params, false, Some("videos")).await {
        Ok(entered) => entered,
        Err(response) => return response,
    };
    let mut fetched = None;
    if let Some(url) = params.get("file_url").filter(|_| !params.contains_key("fbuploader_video_file_chunk")) {
        let limits = inner.config.facebook_media.clone();
        fetched = match fetch_video(inner, url, limits.video_max_bytes).await {
            Ok(stored) if stored.content_type.kind() == MediaKind::Video => Some(stored),
            Ok(_) => return with_headers(unsupported_video(), usage),
            Err(response) => return with_headers(response, usage),
        };
    }
    let now = inner.now();
    let mut state = inner.lock();
    if let Err(response) = may_publish(&state.facebook, &token, page_id) {
        return with_headers(response, usage);
    }
    let stored = match fetched {
        Some(stored) => stored,
        None => match by_handle(&mut state.facebook, &token, params, now) {
            Ok(stored) => stored,
            Err(response) => return with_headers(response, usage),
        },
    };
    let id = state.facebook.next_media_id();
    let new = NewVideo { page_id, id, stored, params, received_at, now };
    match video_post(inner, &mut state, &token, new) {
        Ok(id) => ok(VideoCreated { id }, usage),
        Err(response) => with_headers(response, usage),
    }
}

/// The video of the finished resumable upload `fbuploader_video_file_chunk` names.
fn by_handle(meta: &mut FacebookState, token: &Token, params: &HashMap<String, String>, now: DateTime<Utc>) -> Result<Stored, Response> {
    let handle = params.get("fbuploader_video_file_chunk").map(String::as_str).unwrap_or_default();
    let found = meta.sessions.iter().find(|(_, s)| {
        let ours = matches!(&s.flow, Flow::Resumable { handle: h, user_id, app_id, .. }
            if h == handle && *user_id == token.user_id && *app_id == token.app_id);
        ours && now < s.expires_at
    });
    let Some((session_id, _)) = found else {
        return Err(invalid_parameter("fbuploader_video_file_chunk is not a handle of a finished upload"));
    };
    let session_id = session_id.clone();
    take_video(meta, &session_id)
}

/// `POST /{page}/videos` with `upload_phase` (legacy chunked, §3.2), with a token of the Page:
/// `start` opens a session on the Page, names the video and asks for the first range; each
/// `transfer` takes the range asked for from where the upload stands (less is fine, more is
/// refused) and asks for the next; `finish` makes the video post once every byte is in. Injected
/// faults may be aimed at each phase by its name (`start`, `transfer`, `finish`).
async fn chunked(
    inner: &Inner,
    version: &str,
    page_id: &str,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
    file: Option<multer::Field<'static>>,
) -> Response {
    let received_at = inner.now();
    let phase = params.get(UploadPhase::FIELD).and_then(|p| UploadPhase::parse(p));
    let step = phase.map_or("videos", UploadPhase::as_str);
    let (token, usage) = match enter_step(inner, version, headers, params, false, Some(step)).await {
        Ok(entered) => entered,
        Err(response) => {
            // As `refuse_after_body`: the chunk is read to its end before the refusal.
            if let Some(mut file) = file {
                while let Ok(Some(_)) = file.chunk().await {}
            }
            return response;
        }
    };
    if let Err(response) = may_publish(&inner.lock().facebook, &token, page_id) {
        return with_headers(response, usage);
    }
    let session_id = params.get("upload_session_id").map(String::as_str).unwrap_or_default();
    let named = Named::Chunked { id: session_id, page_id };
    let answered = match phase {
        None => Err(invalid_parameter("upload_phase must be start, transfer or finish")),
        Some(UploadPhase::Start) => start_chunked(inner, page_id, params),
        Some(UploadPhase::Transfer) => transfer_chunked(inner, &named, params, file).await,
        Some(UploadPhase::Finish) => finish_chunked(inner, &token, &named, params, received_at),
    };
    match answered {
        Ok(body) => ok(body, usage),
        Err(response) => with_headers(response, usage),
    }
}

/// `upload_phase=start&file_size=N`: the session, the video id and the first range.
fn start_chunked(inner: &Inner, page_id: &str, params: &HashMap<String, String>) -> Result<serde_json::Value, Response> {
    let limits = &inner.config.facebook_media;
    let Some(file_size) = params.get("file_size").and_then(|l| l.trim().parse::<u64>().ok()).filter(|l| *l > 0) else {
        return Err(invalid_parameter("file_size must be a positive number of bytes"));
    };
    if file_size > limits.video_max_bytes {
        return Err(too_large_video(limits));
    }
    let now = inner.now();
    let mut state = inner.lock();
    let video_id = state.facebook.next_media_id();
    let flow = Flow::Chunked { page_id: page_id.to_owned(), video_id: video_id.clone() };
    let (upload_session_id, session) = Session::open(flow, file_size, limits, now);
    let range = session.asked(limits.page_upload_chunk_bytes);
    state.facebook.sessions.insert(upload_session_id.clone(), session);
    Ok(json_of(ChunkedStart { video_id, upload_session_id, range }))
}

/// `upload_phase=transfer&upload_session_id&start_offset` with the bytes as `video_file_chunk`:
/// the next range.
async fn transfer_chunked(
    inner: &Inner,
    named: &Named<'_>,
    params: &HashMap<String, String>,
    file: Option<multer::Field<'static>>,
) -> Result<serde_json::Value, Response> {
    let Some(offset) = params.get("start_offset").and_then(|o| o.trim().parse::<u64>().ok()) else {
        return Err(invalid_parameter("start_offset must be a whole number of bytes"));
    };
    let Some(file) = file.filter(|f| f.name() == Some(CHUNK_FIELD)) else {
        return Err(invalid_parameter(&format!("{CHUNK_FIELD} is required, as the file part of a multipart body")));
    };
    let chunk = inner.config.facebook_media.page_upload_chunk_bytes;
    let next = take_chunk(inner, named, offset, file, |session| session.asked(chunk)).await?;
    Ok(json_of(next))
}

/// `upload_phase=finish&upload_session_id&description(&title)`: the video post, once every byte
/// is in.
fn finish_chunked(
    inner: &Inner,
    token: &Token,
    named: &Named<'_>,
    params: &HashMap<String, String>,
    received_at: DateTime<Utc>,
) -> Result<serde_json::Value, Response> {
    let now = inner.now();
    let mut state = inner.lock();
    let session = session_of(&mut state.facebook, named, now)?;
    let Flow::Chunked { video_id, page_id } = &session.flow else { return Err(named.gone()) };
    let (id, page_id) = (video_id.clone(), page_id.clone());
    let stored = take_video(&mut state.facebook, named.key())?;
    let new = NewVideo { page_id: &page_id, id, stored, params, received_at, now };
    video_post(inner, &mut state, token, new)?;
    Ok(json_of(ChunkedFinish { success: true }))
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

/// A video post to make: the video `id` of `stored`, described by the request's `description`.
struct NewVideo<'a> {
    page_id: &'a str,
    id: String,
    stored: Stored,
    params: &'a HashMap<String, String>,
    received_at: DateTime<Utc>,
    now: DateTime<Utc>,
}

/// Creates the video post (the ledger knows it by the video id) and starts its processing: the
/// video id.
fn video_post(inner: &Inner, state: &mut crate::State, token: &Token, new: NewVideo<'_>) -> Result<String, Response> {
    let NewVideo { page_id, id, stored, params, received_at, now } = new;
    let limits = &inner.config.facebook_media;
    let meta = &mut state.facebook;
    let ending = meta.faults.processing_ending().unwrap_or(Ending::Succeed);
    meta.videos.insert(id.clone(), Video { page_id: page_id.to_owned(), processing: Processing::start(ending, &limits.processing, now) });
    let message = params.get("description").cloned().unwrap_or_default();
    let new = NewPost { page_id, message, link: None, media: vec![stored.ledger(&id, None)], received_at, now };
    let post_id = create_post(inner, state, token, new)?;
    // The ledger knows the video post by the video id, which is what the caller got back.
    if let Some(entry) = state.ledger.iter_mut().rev().find(|e| e.post_id == post_id) {
        entry.post_id = id.clone();
    }
    if let Some(media) = state.post_media.remove(&("facebook".to_owned(), post_id)) {
        state.post_media.insert(("facebook".to_owned(), id.clone()), media);
    }
    Ok(id)
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
