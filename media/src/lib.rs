//! Media items: the kinds Crier accepts, the facts it knows about each, each platform's rules,
//! and (with the `inspect` feature, on the server) reading those facts from the bytes.
//!
//! A file becomes a media item only after its bytes are read ([`ContentType`] is sniffed from
//! them, never taken from a file name or a browser's claim); everything after that (the store,
//! the compose checks, the clients' upload flows, the sandbox) speaks in these types.
//!
//! Two halves, for two places:
//!
//! - **Pure** (always compiled, also to wasm32 for the browser; depends on serde and
//!   crier-platform only): [`MediaFacts`], each platform's [`MediaLimits`], [`check`] (every
//!   problem a post's media have on a platform, in words that say what to change) and [`layout`]
//!   (how a platform will show them, for previews). Compose checks attachments as they are added
//!   with the same code and the same configured limits the scheduler uses.
//! - **`inspect`** (server only): `inspect::inspect` sniffs a file, refuses what is not on the
//!   allow-list, reads its facts with bounded memory, strips metadata (EXIF GPS, XMP, comments, MP4
//!   location boxes) from the bytes that will be published, and makes a thumbnail.
//! - **`storage`** (server and worker): [`storage::MediaStore`], the directory or S3-compatible
//!   bucket the bytes live in, streamed both ways.

#![warn(missing_docs)]

mod check;
mod facts;
#[cfg(feature = "fixtures")]
pub mod fixtures;
#[cfg(feature = "inspect")]
pub mod inspect;
mod layout;
mod limits;
#[cfg(feature = "storage")]
pub mod storage;
#[cfg(feature = "test-s3")]
pub mod test_s3;
mod words;

pub use check::{Attachment, Issue, MediaProblem, check};
pub use facts::MediaFacts;
pub use layout::{Layout, layout};
pub use limits::{MediaLimits, Ratio};
pub use words::{ByteSize, HumanDuration};

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What a media item is, as platforms group them: X posts up to four images, or one GIF, or one
/// video; LinkedIn posts documents as carousels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(type_name = "media_kind", rename_all = "lowercase"))]
pub enum MediaKind {
    /// A still picture: JPEG, PNG or WebP.
    Image,
    /// A GIF, animated or not (platforms treat every GIF as one).
    Gif,
    /// An MP4 video.
    Video,
    /// A PDF document.
    Document,
}

impl MediaKind {
    /// The lowercase name used in URLs, JSON and the database.
    pub const fn as_str(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Gif => "gif",
            MediaKind::Video => "video",
            MediaKind::Document => "document",
        }
    }

    /// The word for sentences: "image", "GIF", "video", "PDF document".
    pub const fn label(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Gif => "GIF",
            MediaKind::Video => "video",
            MediaKind::Document => "PDF document",
        }
    }
}

impl fmt::Display for MediaKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The content types Crier accepts: the allow-list. Anything else (SVG, HTML, HEIC, QuickTime,
/// WebM, Office files) is refused with the list of what is accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "&'static str", try_from = "String")]
pub enum ContentType {
    /// `image/jpeg`
    Jpeg,
    /// `image/png`
    Png,
    /// `image/webp`
    Webp,
    /// `image/gif`
    Gif,
    /// `video/mp4`
    Mp4,
    /// `application/pdf`
    Pdf,
}

impl ContentType {
    /// Every accepted content type.
    pub const ALL: [ContentType; 6] =
        [ContentType::Jpeg, ContentType::Png, ContentType::Webp, ContentType::Gif, ContentType::Mp4, ContentType::Pdf];

    /// The MIME type, as stored, served and sent to platforms.
    pub const fn mime(self) -> &'static str {
        match self {
            ContentType::Jpeg => "image/jpeg",
            ContentType::Png => "image/png",
            ContentType::Webp => "image/webp",
            ContentType::Gif => "image/gif",
            ContentType::Mp4 => "video/mp4",
            ContentType::Pdf => "application/pdf",
        }
    }

    /// The kind of item a file of this type is.
    pub const fn kind(self) -> MediaKind {
        match self {
            ContentType::Jpeg | ContentType::Png | ContentType::Webp => MediaKind::Image,
            ContentType::Gif => MediaKind::Gif,
            ContentType::Mp4 => MediaKind::Video,
            ContentType::Pdf => MediaKind::Document,
        }
    }

    /// The file extension a download gets.
    pub const fn extension(self) -> &'static str {
        match self {
            ContentType::Jpeg => "jpg",
            ContentType::Png => "png",
            ContentType::Webp => "webp",
            ContentType::Gif => "gif",
            ContentType::Mp4 => "mp4",
            ContentType::Pdf => "pdf",
        }
    }

    /// What a person is told is accepted: "JPEG, PNG, WebP, GIF, MP4 or PDF".
    pub const ACCEPTED: &'static str = "JPEG, PNG, WebP, GIF, MP4 or PDF";
}

impl From<ContentType> for &'static str {
    fn from(value: ContentType) -> Self {
        value.mime()
    }
}

impl fmt::Display for ContentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.mime())
    }
}

/// A MIME type that is not on the allow-list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotAccepted(pub String);

impl fmt::Display for NotAccepted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} is not accepted: use {}", self.0, ContentType::ACCEPTED)
    }
}

impl std::error::Error for NotAccepted {}

impl FromStr for ContentType {
    type Err = NotAccepted;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ContentType::ALL.into_iter().find(|t| t.mime() == s).ok_or_else(|| NotAccepted(s.to_owned()))
    }
}

impl TryFrom<String> for ContentType {
    type Error = NotAccepted;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_round_trip_through_their_mime_names_and_nothing_else_parses() {
        for t in ContentType::ALL {
            assert_eq!(t.mime().parse::<ContentType>(), Ok(t));
            assert_eq!(serde_json::to_string(&t).unwrap(), format!("\"{}\"", t.mime()));
        }
        for refused in ["image/svg+xml", "text/html", "video/quicktime", "image/heic", ""] {
            let err = refused.parse::<ContentType>().unwrap_err();
            assert!(err.to_string().contains("JPEG, PNG, WebP, GIF, MP4 or PDF"), "{err}");
        }
    }

    #[test]
    fn kinds_follow_content_types() {
        assert_eq!(ContentType::Webp.kind(), MediaKind::Image);
        assert_eq!(ContentType::Gif.kind(), MediaKind::Gif);
        assert_eq!(ContentType::Mp4.kind(), MediaKind::Video);
        assert_eq!(ContentType::Pdf.kind(), MediaKind::Document);
    }
}
