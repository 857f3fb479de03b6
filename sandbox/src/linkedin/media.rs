//! LinkedIn's Images, Videos and Documents APIs (media-and-metrics.md §2, §5): initialize (an
//! upload URL, or for videos one URL per 4 MiB part with its byte range and an upload token),
//! PUTs to the upload URLs (each part's ETag is its own SHA-256), finalize (ETags in part order,
//! the token verbatim), the asset's status, and what a post may name in `content`.
//!
//! Part order: the parts of a video may be PUT in any order, as LinkedIn allows; an early part is
//! hashed on its own and spilled to a temporary file until the parts before it are in
//! ([`crate::media::assembly`]), so memory stays bounded and the ledger still has the whole file's
//! SHA-256.
//!
//! The fake's choices where the reference is silent (§6): upload URLs are
//! `{public_base}/linkedin/dms-uploads/{id}`, accepted with or without the bearer token, and
//! answer `expired_upload_status` (401) after `uploadUrl(s)ExpireAt`; an image or document is
//! processed as soon as its PUT ends (AVAILABLE, or PROCESSING_FAILED for bytes of the wrong type
//! or too many pixels); a video once finalized, over `processing` polls of its status; a document
//! larger than its limit is refused (400) by its PUT; a person's token cannot read image or
//! document status (403: "a w_member_social token is write-only for those endpoints", §2.5).

use std::collections::HashMap;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State as AxumState};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, TimeDelta, Utc};
use crier_media::{ContentType, MediaKind};
use crier_protocol::linkedin::media::{
    self as protocol, AssetStatus, DocumentUpload, FinalizeUploadRequest, ImageUpload, InitializeUpload, InitializeUploadRequest,
    InitializeVideoUpload, MediaAsset, UploadInstruction, VideoUpload,
};
use serde_json::{Value, json};

use super::Shared;
use super::errors::{error, forbidden, rest_error};
use super::front_door::{Auth, authed_step, check_versions, front_door_step};
use super::state::LinkedInState;
use crate::media::assembly::Assembly;
use crate::media::processing::{Ending, Phase, Processing, ProcessingConfig};
use crate::media::{PostMedia, Stored, body_stream};
use crate::util;

/// LinkedIn's media limits (§2.5), all configurable: most are secondary figures.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkedInMediaLimits {
    /// Image bytes: 5 MB (Ayrshare).
    pub image_max_bytes: u64,
    /// Image pixels: fewer than 36,152,320.
    pub image_max_pixels: u64,
    /// Video bytes: 75 KB to 500 MB.
    pub video_bytes: (u64, u64),
    /// Video width ÷ height: 1:2.4 to 2.4:1.
    pub video_aspect: (f64, f64),
    /// Document bytes: 100 MB.
    pub document_max_bytes: u64,
    /// Video part size: 4 MiB (the last part is shorter).
    pub part_bytes: u64,
    /// How long upload URLs work: 1 hour.
    pub upload_url_ttl_secs: u64,
    /// What a PUT after that answers: 401 (secondary, unverified).
    pub expired_upload_status: u16,
    /// Images in a multi-image post: 2 to 20.
    pub multi_image: (usize, usize),
    /// How video processing is played.
    pub processing: ProcessingConfig,
}

impl Default for LinkedInMediaLimits {
    fn default() -> Self {
        LinkedInMediaLimits {
            image_max_bytes: 5 * 1024 * 1024,
            image_max_pixels: 36_152_320,
            video_bytes: (75 * 1024, 500 * 1024 * 1024),
            video_aspect: (1.0 / 2.4, 2.4),
            document_max_bytes: 100 * 1024 * 1024,
            part_bytes: protocol::VIDEO_PART_BYTES,
            upload_url_ttl_secs: 3600,
            expired_upload_status: 401,
            multi_image: protocol::MULTI_IMAGE_RANGE,
            processing: ProcessingConfig::default(),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum AssetKind {
    Image,
    Video,
    Document,
}

impl AssetKind {
    fn of(path: &str) -> Option<AssetKind> {
        match path {
            "images" => Some(AssetKind::Image),
            "videos" => Some(AssetKind::Video),
            "documents" => Some(AssetKind::Document),
            _ => None,
        }
    }

    fn urn_prefix(self) -> &'static str {
        match self {
            AssetKind::Image => "urn:li:image:",
            AssetKind::Video => "urn:li:video:",
            AssetKind::Document => "urn:li:document:",
        }
    }
}

/// One asset, from initialize on.
pub(crate) struct Asset {
    kind: AssetKind,
    owner: String,
    /// `(firstByte, lastByte)` per part; one part for images and documents.
    ranges: Vec<(u64, u64)>,
    urls_expire_at: DateTime<Utc>,
    upload_token: String,
    assembly: Assembly,
    etags: Vec<Option<String>>,
    stored: Option<Stored>,
    processing: Option<Processing>,
    failure: Option<String>,
}

impl Asset {
    fn status(&self) -> (AssetStatus, Option<String>) {
        if let Some(reason) = &self.failure {
            return (AssetStatus::ProcessingFailed, Some(reason.clone()));
        }
        match self.processing.as_ref().map(Processing::phase) {
            None => (AssetStatus::WaitingUpload, None),
            Some(Phase::Succeeded) => (AssetStatus::Available, None),
            Some(Phase::Failed(reason)) => (AssetStatus::ProcessingFailed, Some(reason)),
            Some(_) => (AssetStatus::Processing, None),
        }
    }
}

impl LinkedInState {
    fn new_asset_id(&mut self) -> String {
        // LinkedIn's asset ids look like `C4E10AQFoyyAjHPMQuQ`.
        let tail: String = util::random_token().chars().filter(|c| c.is_ascii_alphanumeric()).take(15).collect();
        format!("D5{}", tail)
    }

    /// What a post's `content` names, checked: each asset exists, belongs to the author and is
    /// AVAILABLE; `multiImage` holds images only, within the count. The ledger's records, or the
    /// refusal.
    pub(super) fn check_post_content(
        &self,
        author: &str,
        content: &Value,
        limits: &LinkedInMediaLimits,
    ) -> Result<Vec<PostMedia>, Response> {
        let mut items: Vec<(String, Option<String>, &str)> = Vec::new();
        if let Some(media) = content.get("media") {
            let Some(id) = media.get("id").and_then(Value::as_str) else {
                return Err(unprocessable_media("/content/media/id", "field is required but not found"));
            };
            items.push((id.to_owned(), media.get("altText").and_then(Value::as_str).map(str::to_owned), "/content/media/id"));
        }
        if let Some(multi) = content.get("multiImage") {
            let images = multi.get("images").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
            let (min, max) = limits.multi_image;
            if images.len() < min || images.len() > max {
                let message =
                    format!("ERROR :: /content/multiImage/images :: a multi-image post has {min} to {max} images, not {}\n", images.len());
                return Err(error(StatusCode::UNPROCESSABLE_ENTITY, json!({"message": message, "status": 422})));
            }
            for image in images {
                let id = image.get("id").and_then(Value::as_str).unwrap_or_default();
                if !id.starts_with(AssetKind::Image.urn_prefix()) {
                    let message = format!("ERROR :: /content/multiImage/images :: {id} is not an image; multiImage only supports images\n");
                    return Err(error(StatusCode::UNPROCESSABLE_ENTITY, json!({"message": message, "status": 422})));
                }
                items.push((id.to_owned(), image.get("altText").and_then(Value::as_str).map(str::to_owned), "/content/multiImage/images"));
            }
        }
        let mut out = Vec::new();
        for (urn, alt_text, path) in items {
            let usable = self.assets.get(&urn).filter(|a| a.owner == author).and_then(|a| {
                let (status, _) = a.status();
                (status == AssetStatus::Available).then_some(a.stored.as_ref()).flatten().map(|s| (a, s))
            });
            let Some((asset, stored)) = usable else {
                let status = self.assets.get(&urn).map(|a| a.status().0.as_str()).unwrap_or("unknown");
                return Err(unprocessable_media(path, &format!("{urn} cannot be used (status {status})")));
            };
            let alt_text = if asset.kind == AssetKind::Image { alt_text } else { None };
            out.push(stored.ledger(&urn, alt_text));
        }
        Ok(out)
    }
}

/// A post naming media it cannot use (§6: LinkedIn's body NOT FOUND; see
/// [`protocol::MEDIA_NOT_USABLE`]).
fn unprocessable_media(path: &str, what: &str) -> Response {
    let body = json!({
        "message": format!("ERROR :: {path} :: {what}\n"),
        "status": 422,
        "errorDetails": {"inputErrors": [{"description": what, "input": {"inputPath": {"fieldPath": path}}, "code": protocol::MEDIA_NOT_USABLE}]},
    });
    error(StatusCode::UNPROCESSABLE_ENTITY, body)
}

fn owner_allowed(state: &LinkedInState, auth: &Auth, owner: &str) -> bool {
    if let Some(person) = owner.strip_prefix("urn:li:person:") {
        return person == auth.member_id && auth.has("w_member_social");
    }
    if let Some(org) = owner.strip_prefix("urn:li:organization:") {
        return auth.has("w_organization_social")
            && state.member(&auth.member_id).is_some_and(|m| m.orgs.iter().any(|o| o.to_string() == org));
    }
    false
}

fn value(body: impl serde::Serialize) -> Response {
    util::json(StatusCode::OK, &json!({"value": body}), HeaderMap::new())
}

/// `POST /linkedin/rest/{images,videos,documents}?action=initializeUpload|finalizeUpload`.
pub(super) async fn action(
    AxumState(inner): Shared,
    Path(kind): Path<String>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let Some(kind) = AssetKind::of(&kind) else { return rest_error(404, "NOT_FOUND", "No such resource") };
    let action = query.get("action").map(String::as_str).unwrap_or_default();
    let step = if action == protocol::FINALIZE_ACTION { "finalize" } else { "initialize" };
    let auth = match authed_step(&inner, &headers, step).await {
        Ok(auth) => auth,
        Err(response) => return response,
    };
    if let Err(response) = check_versions(&inner, &headers) {
        return response;
    }
    match (action, kind) {
        (protocol::INITIALIZE_ACTION, AssetKind::Video) => initialize_video(&inner, &auth, &body),
        (protocol::INITIALIZE_ACTION, _) => initialize_single(&inner, &auth, kind, &body),
        (protocol::FINALIZE_ACTION, AssetKind::Video) => finalize_video(&inner, &auth, &body),
        _ => rest_error(400, "ILLEGAL_ARGUMENT", &format!("Unsupported action \"{action}\"")),
    }
}

fn initialize_single(inner: &crate::Inner, auth: &Auth, kind: AssetKind, body: &[u8]) -> Response {
    let Ok(request) = serde_json::from_slice::<InitializeUploadRequest<InitializeUpload>>(body) else {
        return rest_error(400, "ILLEGAL_ARGUMENT", "Request body could not be converted to data map");
    };
    let owner = request.initialize_upload_request.owner;
    let now = inner.now();
    let limits = &inner.config.linkedin_media;
    let mut state = inner.lock();
    let li = &mut state.linkedin;
    if !owner_allowed(li, auth, &owner) {
        return forbidden("Not enough permissions to access: partnerApiImages.ACTION-initializeUpload.NO_VERSION");
    }
    let urn = format!("{}{}", kind.urn_prefix(), li.new_asset_id());
    let upload_id = util::random_token();
    let expires_at = now + TimeDelta::seconds(limits.upload_url_ttl_secs as i64);
    let url = format!("{}/linkedin/dms-uploads/{upload_id}", inner.config.public_base);
    let max = if kind == AssetKind::Image { limits.image_max_bytes } else { limits.document_max_bytes };
    li.uploads.insert(upload_id, (urn.clone(), 0));
    li.assets.insert(
        urn.clone(),
        Asset {
            kind,
            owner,
            ranges: vec![(0, max)],
            urls_expire_at: expires_at,
            upload_token: String::new(),
            assembly: Assembly::default(),
            etags: vec![None],
            stored: None,
            processing: None,
            failure: None,
        },
    );
    let ms = expires_at.timestamp_millis();
    match kind {
        AssetKind::Image => value(ImageUpload { upload_url_expires_at: ms, upload_url: url, image: urn }),
        _ => value(DocumentUpload { upload_url_expires_at: ms, upload_url: url, document: urn }),
    }
}

fn initialize_video(inner: &crate::Inner, auth: &Auth, body: &[u8]) -> Response {
    let Ok(request) = serde_json::from_slice::<InitializeUploadRequest<InitializeVideoUpload>>(body) else {
        return rest_error(400, "ILLEGAL_ARGUMENT", "Request body could not be converted to data map");
    };
    let request = request.initialize_upload_request;
    let limits = &inner.config.linkedin_media;
    let (min, max) = limits.video_bytes;
    if request.file_size_bytes < min || request.file_size_bytes > max {
        let message =
            format!("ERROR :: /initializeUploadRequest/fileSizeBytes :: a video is {min} to {max} bytes, not {}", request.file_size_bytes);
        return rest_error(400, "ILLEGAL_ARGUMENT", &message);
    }
    let now = inner.now();
    let mut state = inner.lock();
    let li = &mut state.linkedin;
    if !owner_allowed(li, auth, &request.owner) {
        return forbidden("Not enough permissions to access: partnerApiVideos.ACTION-initializeUpload.NO_VERSION");
    }
    let urn = format!("{}{}", AssetKind::Video.urn_prefix(), li.new_asset_id());
    let expires_at = now + TimeDelta::seconds(limits.upload_url_ttl_secs as i64);
    let part = limits.part_bytes.max(1);
    let mut ranges = Vec::new();
    let mut instructions = Vec::new();
    let mut first = 0;
    while first < request.file_size_bytes {
        let last = (first + part).min(request.file_size_bytes) - 1;
        let upload_id = util::random_token();
        li.uploads.insert(upload_id.clone(), (urn.clone(), ranges.len() as u64));
        instructions.push(UploadInstruction {
            upload_url: format!("{}/linkedin/dms-uploads/{upload_id}", inner.config.public_base),
            first_byte: first,
            last_byte: last,
        });
        ranges.push((first, last));
        first = last + 1;
    }
    // Often "" on LinkedIn (but required): the fake gives one, so a client that does not send it
    // back verbatim is caught.
    let upload_token = util::random_token();
    li.assets.insert(
        urn.clone(),
        Asset {
            kind: AssetKind::Video,
            owner: request.owner,
            etags: vec![None; ranges.len()],
            ranges,
            urls_expire_at: expires_at,
            upload_token: upload_token.clone(),
            assembly: Assembly::default(),
            stored: None,
            processing: None,
            failure: None,
        },
    );
    value(VideoUpload { upload_urls_expire_at: expires_at.timestamp_millis(), video: urn, upload_instructions: instructions, upload_token })
}

/// The fate of an asset whose bytes are all in: the injected ending, else its own checks.
fn ending_for(kind: AssetKind, stored: &Stored, limits: &LinkedInMediaLimits) -> Ending {
    match kind {
        AssetKind::Image => {
            if !matches!(stored.content_type, ContentType::Jpeg | ContentType::Png | ContentType::Gif) {
                return Ending::Fail(format!("Unsupported image format {}", stored.content_type));
            }
            match stored.dimensions {
                Some((w, h)) if u64::from(w) * u64::from(h) >= limits.image_max_pixels => {
                    Ending::Fail(format!("Image has {} pixels, more than {}", u64::from(w) * u64::from(h), limits.image_max_pixels))
                }
                _ => Ending::Succeed,
            }
        }
        AssetKind::Document if stored.content_type != ContentType::Pdf => {
            Ending::Fail(format!("Unsupported document format {}", stored.content_type))
        }
        AssetKind::Document => Ending::Succeed,
        AssetKind::Video if stored.content_type.kind() != MediaKind::Video => {
            Ending::Fail(format!("Unsupported video format {}", stored.content_type))
        }
        AssetKind::Video if !stored.aspect_within(Some(limits.video_aspect)) => {
            let (w, h) = stored.dimensions.unwrap_or_default();
            Ending::Fail(format!("Aspect ratio {w}x{h} is outside 1:2.4 to 2.4:1"))
        }
        AssetKind::Video => Ending::Succeed,
    }
}

/// `PUT /linkedin/dms-uploads/{id}`: an image, a document, or one part of a video.
pub(super) async fn put_upload(AxumState(inner): Shared, Path(upload_id): Path<String>, headers: HeaderMap, body: Body) -> Response {
    // The faults see the member when the PUT carries the bearer token (the doc sample sends it).
    if let Err(response) = front_door_step(&inner, &headers, false, Some("part")).await {
        return crate::media::refuse_after_body(body, response).await;
    }
    let now = inner.now();
    let limits = inner.config.linkedin_media.clone();
    let (urn, index, ticket, max) = {
        let mut state = inner.lock();
        let li = &mut state.linkedin;
        let Some((urn, index)) = li.uploads.get(&upload_id).cloned() else {
            return error(StatusCode::NOT_FOUND, json!({"message": "Upload URL not found", "status": 404}));
        };
        let Some(asset) = li.assets.get_mut(&urn) else {
            return error(StatusCode::NOT_FOUND, json!({"message": "Asset not found", "status": 404}));
        };
        if now >= asset.urls_expire_at {
            let status = StatusCode::from_u16(limits.expired_upload_status).unwrap_or(StatusCode::UNAUTHORIZED);
            return error(status, json!({"message": "The upload URL has expired", "status": status.as_u16()}));
        }
        if asset.processing.is_some() {
            return rest_error(400, "ILLEGAL_ARGUMENT", "The upload is already complete");
        }
        let (first, last) = asset.ranges[index as usize];
        let max = if asset.kind == AssetKind::Video { last - first + 1 } else { last };
        (urn, index, asset.assembly.begin(index), max)
    };
    let received = ticket.receive(body_stream(body), max).await;
    let mut state = inner.lock();
    let li = &mut state.linkedin;
    let Some(asset) = li.assets.get_mut(&urn) else {
        return error(StatusCode::NOT_FOUND, json!({"message": "Asset not found", "status": 404}));
    };
    let received = match received {
        Ok(received) => received,
        Err(message) => {
            asset.assembly.abort(index);
            return rest_error(400, "ILLEGAL_ARGUMENT", &format!("The upload was refused: {message}"));
        }
    };
    if asset.kind == AssetKind::Video {
        let (first, last) = asset.ranges[index as usize];
        if received.len() != last - first + 1 {
            asset.assembly.abort(index);
            let message = format!("Part {index} must be bytes {first}-{last} ({} bytes), got {}", last - first + 1, received.len());
            return rest_error(400, "ILLEGAL_ARGUMENT", &message);
        }
    }
    let etag = format!("\"{}\"", received.sha256_hex());
    asset.etags[index as usize] = Some(etag.clone());
    asset.assembly.finish(received);
    if asset.kind != AssetKind::Video {
        // Processed at once: available, or failed with the reason.
        match asset.assembly.whole(1).ok().and_then(|w| Stored::from_whole(&w)) {
            Some(stored) => {
                let ending = li.faults.processing_ending().unwrap_or_else(|| ending_for(asset.kind, &stored, &limits));
                asset.processing = Some(Processing::done(ending, &limits.processing, now));
                asset.stored = Some(stored);
            }
            None => asset.failure = Some("Unrecognised file format".to_owned()),
        }
    }
    let mut response = (StatusCode::CREATED, "").into_response();
    response.headers_mut().insert(axum::http::header::ETAG, HeaderValue::from_str(&etag).expect("hex"));
    response
}

fn finalize_video(inner: &crate::Inner, auth: &Auth, body: &[u8]) -> Response {
    let Ok(request) = serde_json::from_slice::<FinalizeUploadRequest>(body) else {
        return rest_error(400, "ILLEGAL_ARGUMENT", "Request body could not be converted to data map");
    };
    let request = request.finalize_upload_request;
    let now = inner.now();
    let limits = inner.config.linkedin_media.clone();
    let mut state = inner.lock();
    let li = &mut state.linkedin;
    let allowed = li.assets.get(&request.video).is_some_and(|a| owner_allowed(li, auth, &a.owner));
    if !allowed {
        return rest_error(404, "NOT_FOUND", &format!("Video {} not found", request.video));
    }
    let fault = li.faults.processing_ending();
    let asset = li.assets.get_mut(&request.video).expect("checked");
    if asset.upload_token != request.upload_token {
        return rest_error(400, "ILLEGAL_ARGUMENT", "ERROR :: /finalizeUploadRequest/uploadToken :: does not match the upload");
    }
    let expected: Vec<String> = asset.etags.iter().map(|e| e.clone().unwrap_or_default()).collect();
    let given: Vec<String> = request.uploaded_part_ids.iter().map(|e| format!("\"{}\"", e.trim_matches('"'))).collect();
    if expected.iter().any(String::is_empty) || given != expected {
        return rest_error(
            400,
            "ILLEGAL_ARGUMENT",
            "ERROR :: /finalizeUploadRequest/uploadedPartIds :: must list every part's ETag in part order",
        );
    }
    let whole = match asset.assembly.whole(asset.ranges.len() as u64) {
        Ok(whole) => whole,
        Err(why) => return rest_error(400, "ILLEGAL_ARGUMENT", &why),
    };
    match Stored::from_whole(&whole) {
        Some(stored) => {
            let ending = fault.unwrap_or_else(|| ending_for(AssetKind::Video, &stored, &limits));
            asset.processing = Some(Processing::start(ending, &limits.processing, now));
            asset.stored = Some(stored);
        }
        None => asset.failure = Some("Unrecognised file format".to_owned()),
    }
    StatusCode::OK.into_response()
}

/// `GET /linkedin/rest/{images,videos,documents}/{urn}`.
pub(super) async fn get_asset(AxumState(inner): Shared, Path((kind, urn)): Path<(String, String)>, headers: HeaderMap) -> Response {
    if AssetKind::of(&kind).is_none() {
        return rest_error(404, "NOT_FOUND", "No such resource");
    }
    let auth = match authed_step(&inner, &headers, "status").await {
        Ok(auth) => auth,
        Err(response) => return response,
    };
    if let Err(response) = check_versions(&inner, &headers) {
        return response;
    }
    // An organization's logo (`logoV2`): available, with where the fake image host serves it.
    if let Some(org) = urn.strip_prefix("urn:li:image:").and_then(|id| id.strip_prefix(super::organizations::LOGO_PREFIX))
        && kind == "images"
    {
        let url = crate::pictures::url(&inner, crier_platform::Platform::Linkedin, &format!("org-{org}"));
        let body = serde_json::json!({"id": urn, "status": "AVAILABLE", "downloadUrl": url, "owner": format!("urn:li:organization:{org}")});
        return util::json(StatusCode::OK, &body, HeaderMap::new());
    }
    let now = inner.now();
    let mut state = inner.lock();
    let li = &mut state.linkedin;
    let Some(asset) = li.assets.get(&urn) else { return rest_error(404, "NOT_FOUND", &format!("{urn} not found")) };
    if !owner_allowed(li, &auth, &asset.owner) {
        return forbidden(&format!("Not enough permissions to access: GET /{kind}"));
    }
    let personal = asset.owner.starts_with("urn:li:person:");
    if personal && asset.kind != AssetKind::Video {
        return forbidden(&format!("Not enough permissions to access: partnerApi{kind}.GET.NO_VERSION"));
    }
    let asset = li.assets.get_mut(&urn).expect("checked");
    if let Some(processing) = asset.processing.as_mut() {
        processing.poll(now);
    }
    let (status, reason) = asset.status();
    let body = MediaAsset { id: urn, status, processing_failure_reason: reason };
    util::json(StatusCode::OK, &serde_json::to_value(body).expect("serializable"), HeaderMap::new())
}
