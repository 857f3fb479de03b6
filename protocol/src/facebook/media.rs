//! Facebook Page media (media-and-metrics.md §3): photos (unpublished, then one feed post with
//! `attached_media`, or a single photo post) and videos through the Resumable Upload API, shared by
//! the client and the sandbox's fake.
//!
//! ```text
//! POST /{page}/photos      multipart source, published=false, alt_text_custom → PhotoResponse {id}
//! POST /{page}/feed        message, attached_media=[{"media_fbid"}]           → {id: "<page>_<post>"}
//! POST /{page}/photos      multipart source, caption (published)              → PhotoResponse {id, post_id}
//! POST /{app-id}/uploads?file_name&file_length&file_type  (user token)       → UploadSession {id: "upload:<id>"}
//! POST /upload:<id>        Authorization: OAuth <user token>, file_offset: N, raw bytes → UploadHandle {h}
//! GET  /upload:<id>        (resume)                                           → UploadSessionStatus {id, file_offset}
//! POST /{page}/videos      fbuploader_video_file_chunk=<h>, description, title (Page token) → VideoCreated {id}
//! GET  /{video}?fields=status                                                 → VideoStatusResponse
//! ```

use chrono::TimeDelta;
use crier_platform::Platform;
use serde::{Deserialize, Deserializer, Serialize};

use crate::common::json;
use crate::media::{media_expired, processing_failed};
use crate::outcome::PlatformError;

/// The photo create error for bytes that are not an image Meta takes (§3.1).
pub const INVALID_IMAGE_CODE: u32 = 324;
/// Its message (§3.1).
pub const INVALID_IMAGE_MESSAGE: &str = "Missing or invalid image file";
/// Unpublished photos are kept "about 24 hours" (§3.1, secondary).
pub const UNPUBLISHED_PHOTO_LIFETIME: TimeDelta = TimeDelta::hours(24);
/// `file_type` values the resumable upload accepts (§3.2).
pub const UPLOAD_FILE_TYPES: &[&str] = &["application/pdf", "image/jpeg", "image/jpg", "image/png", "video/mp4"];
/// The header carrying the offset of a resumable upload's chunk (§3.2).
pub const FILE_OFFSET_HEADER: &str = "file_offset";
/// The message the sandbox gives a feed post whose `attached_media` names a photo it no longer has
/// (expired or deleted); Meta's own wording is NOT FOUND (§6), its code is 100.
pub const ATTACHED_MEDIA_GONE: &str = "attached_media";

/// `POST /{page}/photos` (§3.1): the photo id, and with a published photo the post id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoResponse {
    /// The photo id (the `media_fbid` of an unpublished photo).
    pub id: String,
    /// `<page>_<post>`, for a published photo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_id: Option<String>,
}

/// One entry of `attached_media` (§3.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachedMedia {
    /// An unpublished photo's id.
    pub media_fbid: String,
}

/// `POST /{app-id}/uploads` (§3.2): `{"id":"upload:<session>"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadSession {
    /// `upload:<session id>`: the next calls' path.
    pub id: String,
}

/// `POST /upload:<id>` (§3.2): the file handle, once the last byte is in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadHandle {
    /// The handle to give `/videos` as `fbuploader_video_file_chunk`.
    pub h: String,
}

/// `GET /upload:<id>` (§3.2): how far the upload got; resume from `file_offset`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadSessionStatus {
    /// `upload:<id>`.
    pub id: String,
    /// Bytes received so far (Meta sends it as a string).
    #[serde(deserialize_with = "lenient_u64")]
    pub file_offset: u64,
}

/// `POST /{page}/videos` (§3.2): the video id (the video post is the post).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VideoCreated {
    /// The video id.
    pub id: String,
}

/// `GET /{video}?fields=status` (§3.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VideoStatusResponse {
    /// The video id.
    #[serde(default)]
    pub id: String,
    /// The status.
    pub status: VideoStatus,
}

/// A video's `status` (§3.2): `video_status` is `processing`, `ready`, `upload_complete` or `error`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VideoStatus {
    /// Where the video is.
    pub video_status: String,
    /// The processing phase, with its errors when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processing_phase: Option<VideoPhase>,
}

/// One phase of [`VideoStatus`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VideoPhase {
    /// `not_started`, `in_progress`, `complete`, `error`.
    pub status: String,
    /// What went wrong.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<VideoPhaseError>,
}

/// A processing error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VideoPhaseError {
    /// Meta's code.
    #[serde(default)]
    pub code: u64,
    /// The reason.
    #[serde(default)]
    pub message: String,
}

impl VideoStatus {
    /// `Ok(true)` done (`ready`, or `upload_complete` as Postiz treats it), `Ok(false)` still
    /// processing, `Err` `error` (`Permanent` with Meta's reason).
    pub fn readiness(&self) -> Result<bool, PlatformError> {
        match self.video_status.as_str() {
            "ready" | "upload_complete" => Ok(true),
            "error" => {
                let reason = self.processing_phase.as_ref().and_then(|p| p.errors.first()).map(|e| e.message.clone()).unwrap_or_default();
                Err(processing_failed(Platform::Facebook, Some(200), &reason))
            }
            _ => Ok(false),
        }
    }
}

fn lenient_u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        N(u64),
        S(String),
    }
    match Either::deserialize(d)? {
        Either::N(n) => Ok(n),
        Either::S(s) => s.trim().parse().map_err(serde::de::Error::custom),
    }
}

/// Whether a refused feed post is about an attached photo that is gone (expired after 24 hours,
/// deleted): Graph code 100 naming `attached_media` (see [`ATTACHED_MEDIA_GONE`]).
pub fn names_gone_media(body: &[u8]) -> bool {
    let Some(v) = json(body) else { return false };
    let code = v.pointer("/error/code").and_then(|c| c.as_u64());
    let message = v.pointer("/error/message").and_then(|m| m.as_str()).unwrap_or_default();
    code == Some(100) && message.contains(ATTACHED_MEDIA_GONE)
}

/// The refusal of a feed post because of its attached media, as [`crate::media::media_expired`].
pub(crate) fn gone_media(status: u16, body: &[u8]) -> PlatformError {
    let message = json(body)
        .and_then(|v| v.pointer("/error/message").and_then(|m| m.as_str()).map(str::to_owned))
        .unwrap_or_else(|| "attached media is gone".to_owned());
    media_expired(Platform::Facebook, Some(status), Some("100"), &message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorClass;

    #[test]
    fn bodies() {
        let s: UploadSessionStatus = serde_json::from_str(r#"{"id":"upload:MTphdHRh","file_offset":"50002"}"#).unwrap();
        assert_eq!(s.file_offset, 50_002);
        let s: UploadSessionStatus = serde_json::from_str(r#"{"id":"upload:MTphdHRh","file_offset":7}"#).unwrap();
        assert_eq!(s.file_offset, 7);
        let p: PhotoResponse = serde_json::from_str(r#"{"id":"122168909192960180"}"#).unwrap();
        assert_eq!(p.post_id, None);
        assert_eq!(
            serde_json::to_string(&[AttachedMedia { media_fbid: "1002088839996".into() }]).unwrap(),
            r#"[{"media_fbid":"1002088839996"}]"#
        );
        let ready: VideoStatusResponse = serde_json::from_str(r#"{"id":"1","status":{"video_status":"ready"}}"#).unwrap();
        assert_eq!(ready.status.readiness(), Ok(true));
        let failed: VideoStatusResponse = serde_json::from_str(
            r#"{"status":{"video_status":"error","processing_phase":{"status":"error","errors":[{"code":1363008,"message":"Video format not supported"}]}}}"#,
        )
        .unwrap();
        let e = failed.status.readiness().unwrap_err();
        assert_eq!((e.class, e.message.as_str()), (ErrorClass::Permanent, "media processing failed: Video format not supported"));
    }

    #[test]
    fn gone_media_is_recognised() {
        let body = br#"{"error":{"message":"(#100) attached_media[0]: photo 123 does not exist or has expired","type":"OAuthException","code":100}}"#;
        assert!(names_gone_media(body));
        assert!(gone_media(400, body).is_media_expired());
        assert!(!names_gone_media(br#"{"error":{"message":"(#100) Invalid parameter","type":"OAuthException","code":100}}"#));
    }
}
