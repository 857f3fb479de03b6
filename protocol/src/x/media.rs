//! X media upload (media-and-metrics.md §1): the request and response bodies of the one-shot
//! upload, the chunked initialize/append/finalize flow, the STATUS poll and alt text, shared by
//! the client and the sandbox's fake, and what their answers mean.
//!
//! ```text
//! POST /2/media/upload                    multipart media + media_category      → MediaResponse (images: ready)
//! POST /2/media/upload/initialize         InitializeRequest                     → MediaResponse (id, expires_after_secs)
//! POST /2/media/upload/{id}/append  ×N    multipart segment_index + media       → AppendResponse
//! POST /2/media/upload/{id}/finalize      {}                                    → MediaResponse (+ processing_info for GIF/video)
//! GET  /2/media/upload?command=STATUS&media_id={id}  (only when processing_info was returned)
//! POST /2/media/metadata                  MetadataRequest (alt text ≤ 1000)     → {"data":{"id",…}}
//! POST /2/tweets                          {"text", "media": PostMedia}
//! ```

use chrono::{DateTime, Utc};
use crier_media::MediaKind;
use crier_platform::Platform;
use http::HeaderMap;
use serde::{Deserialize, Serialize};

use crate::common::json;
use crate::media::{media_expired, processing_failed};
use crate::outcome::PlatformError;

/// One-shot upload (`POST`, multipart) and, with `?command=STATUS&media_id=`, the status poll.
pub const UPLOAD_PATH: &str = "/2/media/upload";
/// Chunked upload, step 1 (`POST`, JSON [`InitializeRequest`]).
pub const INITIALIZE_PATH: &str = "/2/media/upload/initialize";
/// Alt text (`POST`, JSON [`MetadataRequest`]).
pub const METADATA_PATH: &str = "/2/media/metadata";

/// Chunked upload, step 2: `/2/media/upload/{id}/append` (multipart `segment_index`, `media`).
pub fn append_path(media_id: &str) -> String {
    format!("/2/media/upload/{media_id}/append")
}

/// Chunked upload, step 3: `/2/media/upload/{id}/finalize` (body `{}`: an empty body is refused
/// with "Request body must be a JSON object.", §1.1).
pub fn finalize_path(media_id: &str) -> String {
    format!("/2/media/upload/{media_id}/finalize")
}

/// At most this many segments: `segment_index` is 0–999 (§1.1).
pub const MAX_SEGMENTS: u64 = 1000;
/// Alt text is at most 1,000 characters, on images only (§1.3).
pub const ALT_TEXT_MAX_CHARS: usize = 1000;
/// At most 4 media ids on a post (§1.3): 4 photos, or 1 GIF, or 1 video.
pub const MAX_MEDIA_PER_POST: usize = 4;
/// A post naming an expired, unknown, failed or unprocessed media id (§1.4).
pub const INVALID_MEDIA_IDS: &str = "Your media IDs are invalid.";
/// Finalize of bytes that are not the declared type (§1.4: plain text, 400).
pub const MEDIA_TYPE_UNRECOGNIZED: &str = "media type unrecognized";
/// Finalize when the segments do not add up to `total_bytes` (§1.4).
pub const SEGMENTS_MISMATCH: &str = "Segments do not add up to provided total file size.";

/// `media_category` (§1.1): what the media will be used for. Crier posts to the timeline only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaCategory {
    /// A still image on a post.
    TweetImage,
    /// An animated GIF on a post (asynchronous processing).
    TweetGif,
    /// A video on a post (asynchronous processing).
    TweetVideo,
}

impl MediaCategory {
    /// The category for a kind of media; X takes no documents.
    pub fn for_kind(kind: MediaKind) -> Option<MediaCategory> {
        match kind {
            MediaKind::Image => Some(MediaCategory::TweetImage),
            MediaKind::Gif => Some(MediaCategory::TweetGif),
            MediaKind::Video => Some(MediaCategory::TweetVideo),
            MediaKind::Document => None,
        }
    }

    /// The form value: `tweet_image`, `tweet_gif`, `tweet_video`.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaCategory::TweetImage => "tweet_image",
            MediaCategory::TweetGif => "tweet_gif",
            MediaCategory::TweetVideo => "tweet_video",
        }
    }

    /// Parses a form value.
    pub fn parse(s: &str) -> Option<MediaCategory> {
        [MediaCategory::TweetImage, MediaCategory::TweetGif, MediaCategory::TweetVideo].into_iter().find(|c| c.as_str() == s)
    }

    /// Whether X must use the chunked, asynchronous path ("Please use the Async Path for media
    /// uploads", §1.2): GIFs and videos.
    pub fn is_chunked(self) -> bool {
        !matches!(self, MediaCategory::TweetImage)
    }
}

/// `POST /2/media/upload/initialize` (§1.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InitializeRequest {
    /// The MIME type, e.g. `video/mp4`.
    pub media_type: String,
    /// The whole file's size.
    pub total_bytes: u64,
    /// What it is for.
    pub media_category: MediaCategory,
}

/// The answer of initialize, finalize, the one-shot upload and STATUS: `{"data": MediaData}` (§1.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaResponse {
    /// The media.
    pub data: MediaData,
}

/// A media object as the upload endpoints describe it (§1.2; `data.id` is the only required field).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaData {
    /// The media id to put in `media.media_ids`.
    pub id: String,
    /// `3_…` image, `7_…` video, `13_…` amplify video.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_key: Option<String>,
    /// Bytes received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// How long the id stays usable from this answer (INIT ≈ 15 days, FINALIZE/one-shot 24 hours).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_after_secs: Option<u64>,
    /// Present while the media is processed asynchronously; absent means ready to post.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processing_info: Option<ProcessingInfo>,
}

/// `processing_info` (§1.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessingInfo {
    /// Where processing is.
    pub state: ProcessingState,
    /// Poll again after this many seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_after_secs: Option<u64>,
    /// 0–100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress_percent: Option<u8>,
    /// The v1.1 failure detail (`{"code":1,"name":"InvalidMedia","message":"Unsupported video
    /// format"}`); whether v2 sends it is not known (§1.2): read it when present, and treat any
    /// `error` as terminal, even beside `in_progress`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ProcessingError>,
}

/// `pending → in_progress → succeeded | failed` (§1.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProcessingState {
    /// Queued.
    Pending,
    /// Being processed.
    InProgress,
    /// Ready to post.
    Succeeded,
    /// Refused; the id cannot be posted.
    Failed,
}

impl ProcessingState {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ProcessingState::Pending => "pending",
            ProcessingState::InProgress => "in_progress",
            ProcessingState::Succeeded => "succeeded",
            ProcessingState::Failed => "failed",
        }
    }
}

/// `processing_info.error` (v1.1 shape, §1.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessingError {
    /// e.g. 1 (`InvalidMedia`), 3 (`UnsupportedMedia`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<u64>,
    /// e.g. `InvalidMedia`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The reason, e.g. "Unsupported video format".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// What a `processing_info` means for the upload.
#[derive(Clone, Debug, PartialEq)]
pub enum Processing {
    /// Ready to post.
    Ready,
    /// Poll again after this many seconds (X's `check_after_secs`, or 1 when it gave none).
    Wait {
        /// Seconds until the next poll.
        check_after_secs: u64,
        /// The state, for the record.
        state: ProcessingState,
    },
    /// Refused: `Permanent` with X's reason.
    Failed(PlatformError),
}

impl MediaData {
    /// Where processing stands: no `processing_info` means ready (§1.2: "If not, the media is
    /// ready to use"); `succeeded` ready; `failed` or any `error` object refused with its reason.
    pub fn processing(&self) -> Processing {
        let Some(info) = &self.processing_info else { return Processing::Ready };
        if info.state == ProcessingState::Failed || info.error.is_some() {
            let reason = info.error.as_ref().and_then(|e| e.message.clone().or_else(|| e.name.clone())).unwrap_or_default();
            return Processing::Failed(processing_failed(Platform::X, Some(200), &reason));
        }
        match info.state {
            ProcessingState::Succeeded => Processing::Ready,
            state => Processing::Wait { check_after_secs: info.check_after_secs.unwrap_or(1), state },
        }
    }
}

/// `POST /2/media/upload/{id}/append` answers `{"data":{"expires_at":<epoch seconds>}}` (schema
/// only; the body was never observed, §1.2, so every field is optional and an empty body is fine).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppendResponse {
    /// The append's data.
    #[serde(default)]
    pub data: AppendData,
}

/// See [`AppendResponse`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppendData {
    /// When the upload session expires (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

/// `POST /2/media/metadata` (§1.3): `{"id","metadata":{"alt_text":{"text"}}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetadataRequest {
    /// The media id.
    pub id: String,
    /// What to set.
    pub metadata: Metadata,
}

/// See [`MetadataRequest`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    /// The alt text.
    pub alt_text: AltText,
}

/// See [`MetadataRequest`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AltText {
    /// At most [`ALT_TEXT_MAX_CHARS`] characters.
    pub text: String,
}

impl MetadataRequest {
    /// Alt text for a media id.
    pub fn alt_text(id: &str, text: &str) -> Self {
        MetadataRequest { id: id.to_owned(), metadata: Metadata { alt_text: AltText { text: text.to_owned() } } }
    }
}

/// `media` in `POST /2/tweets` (§1.3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostMedia {
    /// 1–4 ids.
    pub media_ids: Vec<String>,
}

/// Whether a refused `POST /2/tweets` is about its media ids (§1.4): the message "Your media IDs
/// are invalid." or v1.1 codes 324/325 ("Invalid media id …"). Other problems naming
/// `media.media_ids` (too many, a GIF beside photos) are the post's own fault, not the ids'.
pub fn names_invalid_media(status: u16, body: &[u8]) -> bool {
    if status != 400 {
        return false;
    }
    let Some(v) = json(body) else { return false };
    let errors = v.get("errors").and_then(|e| e.as_array()).map(Vec::as_slice).unwrap_or_default();
    errors.iter().any(|e| {
        let message = e.get("message").and_then(|m| m.as_str()).unwrap_or_default();
        let code = e.get("code").and_then(|c| c.as_u64());
        message == INVALID_MEDIA_IDS || matches!(code, Some(324 | 325)) || message.starts_with("Invalid media id")
    })
}

/// Classifies a failed media call (upload, STATUS, metadata) (§1.4, §1.5): as any X call
/// ([`super::classify_error`]): a 429 on an upload is `RateLimited` ("nothing is published at
/// upload time"), 5xx `Temporary`, a 400 (`media type unrecognized`, too large, segments not
/// adding up) `Permanent` with X's words.
pub fn classify_media_error(status: u16, headers: &HeaderMap, body: &[u8], now: DateTime<Utc>) -> PlatformError {
    super::classify_error(status, headers, body, now)
}

/// The refusal of a post because of its media ids, as [`crate::media::media_expired`].
pub(crate) fn invalid_media(status: u16, message: &str) -> PlatformError {
    media_expired(Platform::X, Some(status), Some("invalid-request"), message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorClass;

    #[test]
    fn responses_read_as_documented() {
        // §1.2, verbatim.
        let init: MediaResponse = serde_json::from_str(
            r#"{"data":{"id":"1880028106020515840","media_key":"13_1880028106020515840","expires_after_secs":1295999}}"#,
        )
        .unwrap();
        assert_eq!(init.data.expires_after_secs, Some(1_295_999));
        assert_eq!(init.data.processing(), Processing::Ready);
        let finalize: MediaResponse = serde_json::from_str(
            r#"{"data":{"id":"1880028106020515840","media_key":"13_…","size":1048576,"expires_after_secs":86400,"processing_info":{"state":"pending","check_after_secs":1}}}"#,
        )
        .unwrap();
        assert_eq!(finalize.data.processing(), Processing::Wait { check_after_secs: 1, state: ProcessingState::Pending });
        // The observed one-shot image answer carries an `image` object: unknown fields are ignored.
        let image: MediaResponse = serde_json::from_str(
            r#"{"data":{"id":"1900544781383569409","media_key":"3_1900544781383569409","size":117807,"expires_after_secs":86400,"image":{"image_type":"image\/jpeg","w":1266,"h":793}}}"#,
        )
        .unwrap();
        assert_eq!(image.data.size, Some(117_807));
        // v1.1 failure detail, and an error beside in_progress (§1.2): terminal with the reason.
        for body in [
            r#"{"data":{"id":"1","processing_info":{"state":"failed","progress_percent":12,"error":{"code":1,"name":"InvalidMedia","message":"Unsupported video format"}}}}"#,
            r#"{"data":{"id":"1","processing_info":{"state":"in_progress","progress_percent":99,"error":{"code":1,"name":"InvalidMedia","message":"Unsupported video format"}}}}"#,
        ] {
            let r: MediaResponse = serde_json::from_str(body).unwrap();
            let Processing::Failed(e) = r.data.processing() else { panic!("{body}") };
            assert_eq!(e.class, ErrorClass::Permanent);
            assert_eq!(e.message, "media processing failed: Unsupported video format");
        }
        assert_eq!(serde_json::from_str::<AppendResponse>("{}").unwrap(), AppendResponse::default());
    }

    #[test]
    fn requests_serialize_as_documented() {
        let init = InitializeRequest { media_type: "video/mp4".into(), total_bytes: 10, media_category: MediaCategory::TweetVideo };
        assert_eq!(serde_json::to_string(&init).unwrap(), r#"{"media_type":"video/mp4","total_bytes":10,"media_category":"tweet_video"}"#);
        assert_eq!(
            serde_json::to_string(&MetadataRequest::alt_text("1", "A cat")).unwrap(),
            r#"{"id":"1","metadata":{"alt_text":{"text":"A cat"}}}"#
        );
        assert_eq!(MediaCategory::for_kind(MediaKind::Gif), Some(MediaCategory::TweetGif));
        assert_eq!(MediaCategory::for_kind(MediaKind::Document), None);
        assert_eq!(MediaCategory::parse("tweet_video"), Some(MediaCategory::TweetVideo));
    }

    #[test]
    fn invalid_media_ids_are_recognised() {
        let body = br#"{"errors":[{"parameters":{"media.media_ids":["1880028106020515840"]},"message":"Your media IDs are invalid."}],"title":"Invalid Request","detail":"One or more parameters to your request was invalid.","type":"https://api.twitter.com/2/problems/invalid-request"}"#;
        assert!(names_invalid_media(400, body));
        assert!(names_invalid_media(400, br#"{"errors":[{"code":324,"message":"Invalid media id 889241623330263044"}]}"#));
        assert!(!names_invalid_media(400, br#"{"errors":[{"message":"Request body is not valid JSON."}],"title":"Invalid Request"}"#));
        assert!(!names_invalid_media(403, body));
    }
}
