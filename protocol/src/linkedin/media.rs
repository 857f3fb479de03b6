//! LinkedIn media (media-and-metrics.md §2): the Images, Videos and Documents APIs' bodies, the
//! asset status, and how a post names its media, shared by the client and the sandbox's fake.
//!
//! ```text
//! POST /rest/images?action=initializeUpload     InitializeUploadRequest<InitializeImageUpload> → ValueResponse<ImageUpload>
//! PUT  <uploadUrl>                              the whole file                                  → 201
//! POST /rest/documents?action=initializeUpload  (as images)                                     → ValueResponse<DocumentUpload>
//! POST /rest/videos?action=initializeUpload     InitializeUploadRequest<InitializeVideoUpload> → ValueResponse<VideoUpload>
//! PUT  <uploadInstructions[i].uploadUrl>        bytes firstByte..=lastByte                      → 200, ETag
//! POST /rest/videos?action=finalizeUpload       FinalizeUploadRequest (uploadToken verbatim, ETags in order)
//! GET  /rest/videos/{urn}                       → MediaAsset (PROCESSING → AVAILABLE | PROCESSING_FAILED)
//! POST /rest/posts                              "content": PostContent
//! ```

use chrono::{DateTime, Utc};
use crier_platform::Platform;
use http::HeaderMap;
use serde::{Deserialize, Serialize};

use crate::common::json;
use crate::media::{media_expired, processing_failed};
use crate::outcome::PlatformError;

/// The Images API (§2.1).
pub const IMAGES_PATH: &str = "/rest/images";
/// The Videos API (§2.2).
pub const VIDEOS_PATH: &str = "/rest/videos";
/// The Documents API (§2.3).
pub const DOCUMENTS_PATH: &str = "/rest/documents";
/// `?action=initializeUpload` on each of them.
pub const INITIALIZE_ACTION: &str = "initializeUpload";
/// `?action=finalizeUpload` on videos.
pub const FINALIZE_ACTION: &str = "finalizeUpload";
/// Video parts are 4 MiB except the last (§2.2, secondary).
pub const VIDEO_PART_BYTES: u64 = 4 * 1024 * 1024;
/// A multi-image post has 2 to 20 images (§2.4).
pub const MULTI_IMAGE_RANGE: (usize, usize) = (2, 20);
/// The input-error code the sandbox gives a post naming a media asset it cannot use (unknown,
/// still processing, failed). LinkedIn's own answer is NOT FOUND (§6: "the post-create error when
/// media is not AVAILABLE"); the client also recognises a validation message about
/// `/content/media/id` (a multi-image post's count or mix is the post's own fault, not its ids').
pub const MEDIA_NOT_USABLE: &str = "MEDIA_ASSET_NOT_USABLE";

/// `{"initializeUploadRequest": …}` (§2.1–§2.3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InitializeUploadRequest<T> {
    /// The request.
    pub initialize_upload_request: T,
}

/// Images and documents: the owner (the post's author URN).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InitializeUpload {
    /// `urn:li:person:…` or `urn:li:organization:…`.
    pub owner: String,
}

/// Videos: the owner and the size, which decides the parts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InitializeVideoUpload {
    /// The author URN.
    pub owner: String,
    /// The whole file's size.
    pub file_size_bytes: u64,
    /// No captions.
    #[serde(default)]
    pub upload_captions: bool,
    /// No thumbnail.
    #[serde(default)]
    pub upload_thumbnail: bool,
}

/// `{"value": …}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValueResponse<T> {
    /// The value.
    pub value: T,
}

/// An image upload (§2.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageUpload {
    /// When the upload URL stops working (milliseconds since the epoch).
    pub upload_url_expires_at: i64,
    /// Where to PUT the whole file (one PUT: chunks would overwrite each other).
    pub upload_url: String,
    /// `urn:li:image:…`.
    pub image: String,
}

/// A document upload (§2.3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentUpload {
    /// When the upload URL stops working (ms).
    pub upload_url_expires_at: i64,
    /// Where to PUT the whole file.
    pub upload_url: String,
    /// `urn:li:document:…`.
    pub document: String,
}

/// A video upload (§2.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VideoUpload {
    /// When the part URLs stop working (ms).
    pub upload_urls_expire_at: i64,
    /// `urn:li:video:…`.
    pub video: String,
    /// One per part, each with its own URL and byte range: use each part's own URL.
    pub upload_instructions: Vec<UploadInstruction>,
    /// Send back verbatim at finalize, even when empty.
    #[serde(default)]
    pub upload_token: String,
}

/// One part of a video (§2.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadInstruction {
    /// Where to PUT this part.
    pub upload_url: String,
    /// The first byte of the part (inclusive).
    pub first_byte: u64,
    /// The last byte of the part (inclusive).
    pub last_byte: u64,
}

impl UploadInstruction {
    /// The part's length in bytes.
    pub fn len(&self) -> u64 {
        self.last_byte.saturating_sub(self.first_byte) + 1
    }

    /// Never true: a part holds at least one byte.
    pub fn is_empty(&self) -> bool {
        false
    }
}

/// `{"finalizeUploadRequest": …}` (§2.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FinalizeUploadRequest {
    /// The request.
    pub finalize_upload_request: FinalizeVideoUpload,
}

/// See [`FinalizeUploadRequest`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FinalizeVideoUpload {
    /// The video URN.
    pub video: String,
    /// The token initialize gave, verbatim.
    pub upload_token: String,
    /// Each part's ETag, in part order, as the PUTs returned them.
    pub uploaded_part_ids: Vec<String>,
}

/// `GET /rest/{images,videos,documents}/{urn}` (§2.1–§2.3; the status enum is secondary).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaAsset {
    /// The URN.
    pub id: String,
    /// Where processing is.
    pub status: AssetStatus,
    /// Why processing failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processing_failure_reason: Option<String>,
}

/// An asset's status (§2.2, secondary).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AssetStatus {
    /// Initialized; the bytes have not all arrived.
    WaitingUpload,
    /// Being processed.
    Processing,
    /// Ready to post.
    Available,
    /// Refused; see `processingFailureReason`.
    ProcessingFailed,
}

impl AssetStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            AssetStatus::WaitingUpload => "WAITING_UPLOAD",
            AssetStatus::Processing => "PROCESSING",
            AssetStatus::Available => "AVAILABLE",
            AssetStatus::ProcessingFailed => "PROCESSING_FAILED",
        }
    }
}

impl MediaAsset {
    /// `Ok(true)` available, `Ok(false)` still on its way, `Err` failed (`Permanent` with
    /// LinkedIn's reason; "upload success followed by PROCESSING_FAILED is a real failure mode").
    pub fn readiness(&self) -> Result<bool, PlatformError> {
        match self.status {
            AssetStatus::Available => Ok(true),
            AssetStatus::ProcessingFailed => Err(processing_failed(
                Platform::Linkedin,
                Some(200),
                self.processing_failure_reason.as_deref().unwrap_or("PROCESSING_FAILED"),
            )),
            AssetStatus::WaitingUpload | AssetStatus::Processing => Ok(false),
        }
    }
}

/// A post's `content` with media (§2.4).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostContent {
    /// One image, video or document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<MediaContent>,
    /// 2–20 images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multi_image: Option<MultiImage>,
}

/// `content.media` (§2.4): `altText` on an image, `title` on a video or document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaContent {
    /// The asset URN.
    pub id: String,
    /// Images only ("LinkedIn does not support altText on videos").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alt_text: Option<String>,
    /// Videos and documents (a document's title is shown on the carousel, e.g. `Example.pdf`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// `content.multiImage` (§2.4).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MultiImage {
    /// The images, in order.
    pub images: Vec<MultiImageItem>,
}

/// One image of a multi-image post.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MultiImageItem {
    /// `urn:li:image:…`.
    pub id: String,
    /// The alt text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alt_text: Option<String>,
}

/// Whether a refused `POST /rest/posts` is about the media it names (see [`MEDIA_NOT_USABLE`]).
pub fn names_unusable_media(status: u16, body: &[u8]) -> bool {
    if !(400..500).contains(&status) || status == 401 || status == 403 || status == 429 {
        return false;
    }
    let Some(v) = json(body) else { return false };
    let code = v.pointer("/errorDetails/inputErrors/0/code").and_then(|c| c.as_str());
    let message = v.get("message").and_then(|m| m.as_str()).unwrap_or_default();
    code == Some(MEDIA_NOT_USABLE) || message.contains("/content/media/id ::")
}

/// Classifies a failed media call (initialize, part PUT, finalize, status) as any LinkedIn call
/// ([`super::classify_error`]): 429 → `RateLimited` until 00:00 UTC, 5xx `Temporary`, 401 on an
/// expired upload URL `NeedsReauth` by status, which is wrong for an upload URL: see
/// [`classify_part_error`].
pub fn classify_media_error(status: u16, headers: &HeaderMap, body: &[u8], now: DateTime<Utc>) -> PlatformError {
    super::classify_error(status, headers, body, now)
}

/// A failed PUT to an upload URL: a 401 or 403 there means the URL expired
/// (`uploadUrlExpiresAt` passed, §2.5, secondary), not that the member's token did, so it is
/// `Temporary` (initialize again) rather than `NeedsReauth`; everything else as
/// [`classify_media_error`].
pub fn classify_part_error(status: u16, headers: &HeaderMap, body: &[u8], now: DateTime<Utc>) -> PlatformError {
    let e = classify_media_error(status, headers, body, now);
    if matches!(status, 401 | 403) {
        let message = format!("the upload URL was refused (expired?): {}", e.message);
        return PlatformError::new(Platform::Linkedin, crate::ErrorClass::Temporary, e.status, e.code, message);
    }
    e
}

/// The refusal of a post because of its media, as [`crate::media::media_expired`].
pub(crate) fn unusable_media(status: u16, body: &[u8]) -> PlatformError {
    let v = json(body);
    let message = v.as_ref().and_then(|v| v.get("message").and_then(|m| m.as_str())).unwrap_or("the post names media LinkedIn cannot use");
    let code = v.as_ref().and_then(|v| v.pointer("/errorDetails/inputErrors/0/code").and_then(|c| c.as_str()));
    media_expired(Platform::Linkedin, Some(status), code, message.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorClass;

    #[test]
    fn documented_bodies_read_and_write() {
        // §2.2 initialize sample (secondary copy), verbatim.
        let v: ValueResponse<VideoUpload> = serde_json::from_str(
            r#"{"value":{"uploadUrlsExpireAt":1657111025000,"video":"urn:li:video:C5F10AQGKQg",
               "uploadInstructions":[{"uploadUrl":"https://…part1","firstByte":0,"lastByte":4194303},
                                     {"uploadUrl":"https://…part2","firstByte":4194304,"lastByte":5242879}],
               "uploadToken":""}}"#,
        )
        .unwrap();
        assert_eq!(v.value.upload_instructions[0].len(), VIDEO_PART_BYTES);
        assert_eq!(v.value.upload_instructions[1].len(), 1_048_576);
        let i: ValueResponse<ImageUpload> = serde_json::from_str(
            r#"{"value":{"uploadUrlExpiresAt":1650567510704,"uploadUrl":"https://www.linkedin.com/dms-uploads/…","image":"urn:li:image:C4E10AQFoyyAjHPMQuQ"}}"#,
        )
        .unwrap();
        assert_eq!(i.value.image, "urn:li:image:C4E10AQFoyyAjHPMQuQ");
        let init = InitializeUploadRequest {
            initialize_upload_request: InitializeVideoUpload {
                owner: "urn:li:organization:2414183".into(),
                file_size_bytes: 1_055_736,
                upload_captions: false,
                upload_thumbnail: false,
            },
        };
        assert_eq!(
            serde_json::to_string(&init).unwrap(),
            r#"{"initializeUploadRequest":{"owner":"urn:li:organization:2414183","fileSizeBytes":1055736,"uploadCaptions":false,"uploadThumbnail":false}}"#
        );
        let fin = FinalizeUploadRequest {
            finalize_upload_request: FinalizeVideoUpload {
                video: "urn:li:video:C5F10AQGKQg".into(),
                upload_token: String::new(),
                uploaded_part_ids: vec!["e1".into(), "e2".into()],
            },
        };
        assert_eq!(
            serde_json::to_string(&fin).unwrap(),
            r#"{"finalizeUploadRequest":{"video":"urn:li:video:C5F10AQGKQg","uploadToken":"","uploadedPartIds":["e1","e2"]}}"#
        );
        let content = PostContent {
            media: Some(MediaContent { id: "urn:li:image:1".into(), alt_text: Some("A".into()), title: None }),
            multi_image: None,
        };
        assert_eq!(serde_json::to_string(&content).unwrap(), r#"{"media":{"id":"urn:li:image:1","altText":"A"}}"#);
    }

    #[test]
    fn status_and_refusals() {
        let failed: MediaAsset =
            serde_json::from_str(r#"{"id":"urn:li:video:1","status":"PROCESSING_FAILED","processingFailureReason":"Video is too long"}"#)
                .unwrap();
        let e = failed.readiness().unwrap_err();
        assert_eq!(e.class, ErrorClass::Permanent);
        assert_eq!(e.message, "media processing failed: Video is too long");
        let processing: MediaAsset = serde_json::from_str(r#"{"id":"urn:li:video:1","status":"PROCESSING"}"#).unwrap();
        assert_eq!(processing.readiness(), Ok(false));
        let body = br#"{"message":"ERROR :: /content/media/id :: urn:li:image:1 cannot be used (unknown)","status":422,"errorDetails":{"inputErrors":[{"code":"MEDIA_ASSET_NOT_USABLE"}]}}"#;
        assert!(names_unusable_media(422, body));
        let e = unusable_media(422, body);
        assert!(e.is_media_expired());
        assert!(!names_unusable_media(422, br#"{"message":"Content is a duplicate","status":422}"#));
        let e = classify_part_error(401, &HeaderMap::new(), b"", Utc::now());
        assert_eq!(e.class, ErrorClass::Temporary);
    }
}
