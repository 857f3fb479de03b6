//! How a platform will lay a post's media out, for Compose's previews.
//!
//! A small judgement from the kinds alone (the counts and limits are [`check`](crate::check)'s):
//! X shows up to four images in a grid, LinkedIn a single image, a multi-image post, a video or a
//! document as a carousel of pages, Facebook a single photo, an album or a video.

use crier_platform::Platform;
use serde::{Deserialize, Serialize};

use crate::{Attachment, MediaKind};

/// What a post's media look like on a platform.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "layout", rename_all = "snake_case")]
pub enum Layout {
    /// No media.
    Empty,
    /// One image or GIF, full width.
    Single,
    /// X's grid: 2 side by side, 3 as one tall beside two, 4 as two rows of two.
    Grid {
        /// How many images (a grid shows up to 4; [`check`](crate::check) refuses more).
        count: u32,
    },
    /// LinkedIn's multi-image post: a large first image and the others beside it, "+N" past 4.
    MultiImage {
        /// How many images.
        count: u32,
    },
    /// A Facebook album: the first five in two rows, "+N" past 5.
    Album {
        /// How many photos.
        count: u32,
    },
    /// One video with its player.
    Video,
    /// A PDF shown as a carousel of its pages (LinkedIn).
    DocumentCarousel,
    /// The media cannot go out as they are (kinds mixed, or a kind the platform does not post):
    /// [`check`](crate::check) says what to change.
    Refused,
}

/// How `platform` will lay out `items` (judged by their kinds only).
pub fn layout(platform: Platform, items: &[Attachment<'_>]) -> Layout {
    let first = match items.first() {
        Some(item) => item.facts.kind(),
        None => return Layout::Empty,
    };
    // GIFs sit with images everywhere but on X, where a GIF is posted alone.
    let still = |kind: MediaKind| matches!(kind, MediaKind::Image) || (kind == MediaKind::Gif && platform != Platform::X);
    let same = |kind: MediaKind| kind == first || (still(kind) && still(first));
    if !items.iter().all(|item| same(item.facts.kind())) {
        return Layout::Refused;
    }
    let count = u32::try_from(items.len()).unwrap_or(u32::MAX);
    match (first, count, platform) {
        (MediaKind::Document, 1, Platform::Linkedin) => Layout::DocumentCarousel,
        (MediaKind::Document, _, _) | (MediaKind::Video, 2.., _) | (MediaKind::Gif, 2.., Platform::X) => Layout::Refused,
        (MediaKind::Video, _, _) => Layout::Video,
        (_, 1, _) => Layout::Single,
        (_, count, Platform::X) => Layout::Grid { count },
        (_, count, Platform::Linkedin) => Layout::MultiImage { count },
        (_, count, Platform::Facebook) => Layout::Album { count },
    }
}
