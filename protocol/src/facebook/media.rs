//! Facebook Page media (media-and-metrics.md §3): photos (unpublished, then one feed post with
//! `attached_media`, or a single photo post) and videos, through the Resumable Upload API or the
//! legacy chunked upload on the Page's `/videos`, shared by the client and the sandbox's fake.
//!
//! ```text
//! POST /{page}/photos      multipart source, published=false, alt_text_custom → PhotoResponse {id}
//! POST /{page}/feed        message, attached_media=[{"media_fbid"}]           → {id: "<page>_<post>"}
//! POST /{page}/photos      multipart source, caption (published)              → PhotoResponse {id, post_id}
//! POST /{app-id}/uploads?file_name&file_length&file_type  (user token)       → UploadSession {id: "upload:<id>"}
//! POST /upload:<id>        Authorization: OAuth <user token>, file_offset: N, raw bytes → UploadHandle {h}
//! GET  /upload:<id>        (resume)                                           → UploadSessionStatus {id, file_offset}
//! POST /{page}/videos      fbuploader_video_file_chunk=<h>, description, title (Page token) → VideoCreated {id}
//! POST /{page}/videos      upload_phase=start, file_size (Page token)         → ChunkedStart {video_id, upload_session_id, range}
//! POST /{page}/videos      upload_phase=transfer, upload_session_id, start_offset, multipart video_file_chunk → ChunkRange
//! POST /{page}/videos      upload_phase=finish, upload_session_id, description, title → ChunkedFinish {success}
//! GET  /{video}?fields=status                                                 → VideoStatusResponse
//! ```

use std::ops::Range;

use chrono::TimeDelta;
use crier_platform::Platform;
use serde::{Deserialize, Serialize};

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
/// The multipart file field of a chunked upload's `transfer` (§3.2, legacy chunked).
pub const CHUNK_FIELD: &str = "video_file_chunk";
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
    #[serde(with = "offset")]
    pub file_offset: u64,
}

/// `POST /{page}/videos` (§3.2): the video id (the video post is the post).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VideoCreated {
    /// The video id.
    pub id: String,
}

/// The phases of the legacy chunked upload on a Page's `/videos` (§3.2, "legacy chunked"), sent as
/// [`UploadPhase::FIELD`]: it needs only the Page token, where the Resumable Upload API needs a
/// user token with a role on the app, and no public URL, where `file_url` does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UploadPhase {
    /// `file_size` → [`ChunkedStart`]: the session, the video id and the first range.
    Start,
    /// `upload_session_id`, `start_offset` and the bytes as [`CHUNK_FIELD`] → the next [`ChunkRange`].
    Transfer,
    /// `upload_session_id`, `description`, `title` → [`ChunkedFinish`]: the video post exists.
    Finish,
}

impl UploadPhase {
    /// The form field naming the phase.
    pub const FIELD: &str = "upload_phase";

    /// The phase as Meta spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            UploadPhase::Start => "start",
            UploadPhase::Transfer => "transfer",
            UploadPhase::Finish => "finish",
        }
    }

    /// A phase from its name (`None` for any other).
    pub fn parse(name: &str) -> Option<UploadPhase> {
        [UploadPhase::Start, UploadPhase::Transfer, UploadPhase::Finish].into_iter().find(|p| p.as_str() == name)
    }
}

/// The bytes Meta asks for next in a chunked upload (§3.2): `start_offset..end_offset`, sent as
/// JSON strings of integers. Meta picks the size; the upload is done when both equal the file size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkRange {
    /// The first byte to send next (where the upload stands).
    #[serde(with = "offset")]
    pub start_offset: u64,
    /// The byte after the last one Meta takes in the next transfer.
    #[serde(with = "offset")]
    pub end_offset: u64,
}

impl ChunkRange {
    /// The bytes to send next, `None` once all `file_size` bytes are in, or why the range cannot be
    /// followed (backwards, past the end, or closed before the end).
    pub fn next(&self, file_size: u64) -> Result<Option<Range<u64>>, String> {
        let (start, end) = (self.start_offset, self.end_offset);
        if start > end || end > file_size {
            return Err(format!("Meta asked for bytes {start}..{end} of a {file_size}-byte file"));
        }
        if start == end {
            return if start == file_size { Ok(None) } else { Err(format!("Meta closed the transfer at {start} of {file_size} bytes")) };
        }
        Ok(Some(start..end))
    }
}

/// `upload_phase=start` (§3.2, legacy chunked): the video id (the post's, once finished), the
/// session the next calls name, and the first range to send.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkedStart {
    /// The video id: the video post's id after `finish`.
    pub video_id: String,
    /// The session the `transfer` and `finish` calls name.
    pub upload_session_id: String,
    /// The first bytes to send.
    #[serde(flatten)]
    pub range: ChunkRange,
}

/// `upload_phase=finish` (§3.2, legacy chunked): `{"success":true}`; the video post exists from here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkedFinish {
    /// Whether Meta took the upload.
    pub success: bool,
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

/// A byte offset as Meta writes it: a JSON string of an integer (a number is read too).
mod offset {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(offset: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(offset)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            N(u64),
            S(String),
        }
        match Either::deserialize(d)? {
            Either::N(n) => Ok(n),
            Either::S(s) => {
                s.trim().parse().map_err(|_| serde::de::Error::custom(format!("a byte offset is a whole number of bytes, not {s:?}")))
            }
        }
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
    fn chunked_upload_bodies() {
        let start: ChunkedStart = serde_json::from_str(
            r#"{"video_id":"2918571","upload_session_id":"1564747013773438","start_offset":"0","end_offset":"52428800"}"#,
        )
        .unwrap();
        assert_eq!((start.video_id.as_str(), start.upload_session_id.as_str()), ("2918571", "1564747013773438"));
        assert_eq!(start.range.next(100_000_000), Ok(Some(0..52_428_800)));
        let last: ChunkRange = serde_json::from_str(r#"{"start_offset":"100000000","end_offset":"100000000"}"#).unwrap();
        assert_eq!(last.next(100_000_000), Ok(None));
        // Offsets are written back as strings, as Meta writes them.
        assert_eq!(serde_json::to_string(&last).unwrap(), r#"{"start_offset":"100000000","end_offset":"100000000"}"#);
        let e = serde_json::from_str::<ChunkRange>(r#"{"start_offset":"zero","end_offset":"10"}"#).unwrap_err();
        assert!(e.to_string().contains(r#"a byte offset is a whole number of bytes, not "zero""#), "{e}");
        assert!(ChunkRange { start_offset: 10, end_offset: 5 }.next(20).is_err());
        assert!(ChunkRange { start_offset: 10, end_offset: 30 }.next(20).is_err());
        assert!(ChunkRange { start_offset: 10, end_offset: 10 }.next(20).unwrap_err().contains("closed the transfer at 10 of 20"));
        let finish: ChunkedFinish = serde_json::from_str(r#"{"success":true}"#).unwrap();
        assert!(finish.success);
        assert_eq!(UploadPhase::parse("transfer"), Some(UploadPhase::Transfer));
        assert_eq!(UploadPhase::parse("cancel"), None);
    }

    #[test]
    fn gone_media_is_recognised() {
        let body = br#"{"error":{"message":"(#100) attached_media[0]: photo 123 does not exist or has expired","type":"OAuthException","code":100}}"#;
        assert!(names_gone_media(body));
        assert!(gone_media(400, body).is_media_expired());
        assert!(!names_gone_media(br#"{"error":{"message":"(#100) Invalid parameter","type":"OAuthException","code":100}}"#));
    }
}
