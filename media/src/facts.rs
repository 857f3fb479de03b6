//! What Crier knows about a media item once its bytes have been read.

use serde::{Deserialize, Serialize};

use crate::{ContentType, MediaKind};

/// The facts read from a file's bytes (never from its name or a browser's claim): what the
/// per-platform rules check and the pages show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaFacts {
    /// The sniffed content type.
    pub content_type: ContentType,
    /// Bytes, as stored (metadata stripped).
    pub byte_size: u64,
    /// Pixels across (images, GIFs, videos).
    pub width: Option<u32>,
    /// Pixels down.
    pub height: Option<u32>,
    /// Milliseconds (videos, animated GIFs).
    pub duration_ms: Option<u64>,
    /// Frames (GIFs).
    pub frames: Option<u32>,
    /// Frames per thousand seconds (videos): 29,970 for 29.97 fps.
    pub frame_rate_milli: Option<u32>,
    /// The video track's codec, as the container names it ("avc1").
    pub video_codec: Option<String>,
    /// The audio track's codec ("mp4a").
    pub audio_codec: Option<String>,
    /// Pages (PDF documents), when known.
    pub pages: Option<u32>,
}

impl MediaFacts {
    /// The kind of item.
    pub fn kind(&self) -> MediaKind {
        self.content_type.kind()
    }
}
