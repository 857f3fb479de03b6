//! What Crier knows about one media item, read from its bytes by `inspect` on the server and
//! carried to the browser with the item, where [`check`](crate::check) judges it per platform.

use serde::{Deserialize, Serialize};

use crate::{ContentType, MediaKind};

/// The facts of one media item: everything a platform's rules look at.
///
/// A fact Crier could not read is `None`, and the rules that need it are skipped (the platform is
/// then the judge): a PDF's page count, for one, is only known when its page tree is readable
/// without decompressing it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaFacts {
    /// The content type found in the bytes.
    pub content_type: ContentType,
    /// The size of the bytes that will be published (after metadata was stripped).
    pub byte_size: u64,
    /// Width in pixels as displayed (a video's rotation applied).
    pub width: Option<u32>,
    /// Height in pixels as displayed.
    pub height: Option<u32>,
    /// A video's (or an animated GIF's) duration in milliseconds.
    pub duration_ms: Option<u64>,
    /// A GIF's number of frames (1 for a still GIF).
    pub frames: Option<u32>,
    /// A video's frame rate in thousandths of a frame per second (29.97 fps is 29,970).
    pub frame_rate_milli: Option<u32>,
    /// A video's codec as its MP4 sample entry names it: "avc1" (H.264), "hvc1" (HEVC)…
    pub video_codec: Option<String>,
    /// A video's audio codec as its MP4 sample entry names it: "mp4a" (AAC); `None` without sound.
    pub audio_codec: Option<String>,
    /// A PDF's number of pages, when known.
    pub pages: Option<u32>,
}

impl MediaFacts {
    /// Facts with only the content type and size known (the rest to be filled in).
    pub fn new(content_type: ContentType, byte_size: u64) -> MediaFacts {
        MediaFacts {
            content_type,
            byte_size,
            width: None,
            height: None,
            duration_ms: None,
            frames: None,
            frame_rate_milli: None,
            video_codec: None,
            audio_codec: None,
            pages: None,
        }
    }

    /// What kind of item this is (from its content type).
    pub fn kind(&self) -> MediaKind {
        self.content_type.kind()
    }

    /// Width × height, when both are known.
    pub fn pixels(&self) -> Option<u64> {
        Some(u64::from(self.width?) * u64::from(self.height?))
    }
}
