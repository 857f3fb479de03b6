//! What the three platforms' media flows share: the errors an upload can end in that are not a
//! platform's own answer (processing failed, processing took too long, a media id refused at post
//! time), and the rule for telling a refused media id apart from any other refusal.
//!
//! The per-platform bodies are in [`crate::x::media`], [`crate::linkedin::media`] and
//! [`crate::facebook::media`] (media-and-metrics.md §1–§3).
//!
//! ## A media id refused at post time
//!
//! Media ids expire (X: `expires_after_secs`; Facebook: unpublished photos after 24 hours;
//! LinkedIn: upload URLs), and the platforms answer a post that names an expired, unknown or
//! unprocessed id with one error ("Your media IDs are invalid." on X). Retrying the same post cannot
//! help, but uploading again can. [`ErrorClass`] has no variant for that (adding one would make
//! every `match` on it in the engine change at once), so such an error is `Temporary` (an engine
//! that knows nothing of media retries the whole attempt, which uploads again) with the code
//! [`MEDIA_EXPIRED`]; [`PlatformError::is_media_expired`] tells it apart, so that a media-aware
//! engine drops the ids it kept and uploads again at once. The platform's own code, when it gave
//! one, is kept at the end of the message.

use crier_platform::Platform;

use crate::outcome::{ErrorClass, PlatformError};

/// The code of a post refused because of a media id it names (expired, unknown, failed or not yet
/// processed): upload the media again, then post.
pub const MEDIA_EXPIRED: &str = "media-expired";
/// The code of an upload whose processing failed on the platform (the message is its reason).
pub const MEDIA_PROCESSING_FAILED: &str = "media-processing-failed";
/// The code of an upload still processing when the client stopped waiting for it.
pub const MEDIA_PROCESSING_TIMEOUT: &str = "media-processing-timeout";

impl PlatformError {
    /// Whether this is a post refused because of a media id it named ([`MEDIA_EXPIRED`]): upload
    /// again rather than retry the same ids.
    pub fn is_media_expired(&self) -> bool {
        self.code.as_deref() == Some(MEDIA_EXPIRED)
    }
}

/// A post refused because of a media id: `Temporary` with [`MEDIA_EXPIRED`], the platform's
/// message, and its own code (if any) in brackets after it.
pub fn media_expired(platform: Platform, status: Option<u16>, platform_code: Option<&str>, message: &str) -> PlatformError {
    let message = match platform_code {
        Some(code) => format!("{message} [{code}]"),
        None => message.to_owned(),
    };
    PlatformError::new(platform, ErrorClass::Temporary, status, Some(MEDIA_EXPIRED.to_owned()), message)
}

/// The platform processed the upload and refused it (an unsupported codec, too long, a broken
/// file): `Permanent`, with the platform's reason.
pub fn processing_failed(platform: Platform, status: Option<u16>, reason: &str) -> PlatformError {
    let message =
        if reason.trim().is_empty() { "media processing failed".to_owned() } else { format!("media processing failed: {reason}") };
    PlatformError::new(platform, ErrorClass::Permanent, status, Some(MEDIA_PROCESSING_FAILED.to_owned()), message)
}

/// The upload was still processing after the client's cap: `Temporary` (processing may finish
/// later; a new attempt uploads again or polls the kept id).
pub fn processing_timeout(platform: Platform, waited_secs: u64, last_state: &str) -> PlatformError {
    let message = format!("media still processing after {waited_secs} s (last state: {last_state})");
    PlatformError::new(platform, ErrorClass::Temporary, None, Some(MEDIA_PROCESSING_TIMEOUT.to_owned()), message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expired_media_is_temporary_and_recognisable() {
        let e = media_expired(Platform::X, Some(400), Some("invalid-request"), "Your media IDs are invalid.");
        assert_eq!(e.class, ErrorClass::Temporary);
        assert!(e.is_media_expired());
        assert_eq!(e.message, "Your media IDs are invalid. [invalid-request]");
        let failed = processing_failed(Platform::Linkedin, None, "Unsupported video format");
        assert_eq!(failed.class, ErrorClass::Permanent);
        assert!(!failed.is_media_expired());
        assert_eq!(failed.message, "media processing failed: Unsupported video format");
        assert_eq!(processing_timeout(Platform::Facebook, 300, "processing").class, ErrorClass::Temporary);
    }
}
