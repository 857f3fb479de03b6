//! Each platform's media rules, as numbers an operator can change.
//!
//! Every number here drifts (LinkedIn's multi-image post went from 9 to 20 images; Facebook's photo
//! size is 4 MB on one Meta page and 10 MB on another), so each one is a field of [`MediaLimits`]
//! and the defaults, with their sources, are written once, in [`MediaLimits::defaults`]. The server
//! sends the configured limits to the browser (they are serde), where Compose checks attachments
//! with the same [`check`](crate::check) the scheduler runs.
//!
//! Limits are inclusive maxima and minima: a platform's "less than 10 MB" is stored as
//! 9,999,999 bytes. `None` means no known limit (the platform is then the judge).

use crier_platform::Platform;
use serde::{Deserialize, Serialize};

use crate::MediaKind;

/// An aspect ratio, width to height (1:3 is `Ratio { width: 1, height: 3 }`); compared exactly,
/// without floating point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ratio {
    /// The width part.
    pub width: u32,
    /// The height part.
    pub height: u32,
}

impl Ratio {
    /// Whether this ratio is wider than `width × height` (`width × height` is taller in
    /// proportion): `width / height < self.width / self.height`, in integers.
    pub(crate) fn is_wider_than(self, width: u32, height: u32) -> bool {
        u64::from(width) * u64::from(self.height) < u64::from(self.width) * u64::from(height)
    }

    /// Whether this ratio is narrower than `width × height` (`width × height` is wider in
    /// proportion).
    pub(crate) fn is_narrower_than(self, width: u32, height: u32) -> bool {
        u64::from(self.width) * u64::from(height) < u64::from(width) * u64::from(self.height)
    }
}

/// One platform's media rules. Every field is public and every number configurable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaLimits {
    // What a post may hold.
    /// Most images in one post (X 4, LinkedIn 20, Facebook 10).
    pub max_images: u32,
    /// Fewest images in a post of several (LinkedIn's multi-image post takes 2 to 20: a post of
    /// one image is a single-image post, so only counts from 2 to this minimum are refused).
    pub min_multi_images: u32,
    /// Whether a GIF counts as an image (LinkedIn, Facebook) rather than a kind of its own (X: one
    /// GIF, alone).
    pub gifs_count_as_images: bool,
    /// Most GIFs in one post when they are a kind of their own.
    pub max_gifs: u32,
    /// Whether an animated GIF is accepted (Facebook: "Animated photos are not supported").
    pub animated_gifs: bool,
    /// Most videos in one post (0: videos are not accepted).
    pub max_videos: u32,
    /// Most PDF documents in one post (0: documents are not accepted).
    pub max_documents: u32,
    /// Whether kinds may be mixed in one post (images with a video…). No platform allows it.
    pub mix_kinds: bool,

    // Images.
    /// Largest image file.
    pub image_max_bytes: Option<u64>,
    /// Most pixels (width × height) in an image.
    pub image_max_pixels: Option<u64>,

    // GIFs.
    /// Largest GIF file.
    pub gif_max_bytes: Option<u64>,
    /// Widest GIF, in pixels.
    pub gif_max_width: Option<u32>,
    /// Tallest GIF, in pixels.
    pub gif_max_height: Option<u32>,
    /// Most frames in a GIF.
    pub gif_max_frames: Option<u32>,
    /// Most pixels over all of a GIF's frames (width × height × frames).
    pub gif_max_total_pixels: Option<u64>,

    // Videos.
    /// Smallest video file.
    pub video_min_bytes: Option<u64>,
    /// Largest video file.
    pub video_max_bytes: Option<u64>,
    /// Shortest video, in milliseconds.
    pub video_min_duration_ms: Option<u64>,
    /// Longest video, in milliseconds.
    pub video_max_duration_ms: Option<u64>,
    /// Narrowest video, in pixels.
    pub video_min_width: Option<u32>,
    /// Shortest video frame, in pixels.
    pub video_min_height: Option<u32>,
    /// Widest video, in pixels.
    pub video_max_width: Option<u32>,
    /// Tallest video, in pixels.
    pub video_max_height: Option<u32>,
    /// Highest frame rate, in thousandths of a frame per second.
    pub video_max_frame_rate_milli: Option<u32>,
    /// The tallest aspect ratio a video may have (X 1:3).
    pub video_min_aspect: Option<Ratio>,
    /// The widest aspect ratio a video may have (X 3:1).
    pub video_max_aspect: Option<Ratio>,
    /// The video codecs accepted, as MP4 sample entries name them ("avc1"); empty: any.
    pub video_codecs: Vec<String>,
    /// The audio codecs accepted ("mp4a"); empty: any. A video without sound always passes.
    pub audio_codecs: Vec<String>,

    // Documents.
    /// Largest PDF document.
    pub document_max_bytes: Option<u64>,
    /// Most pages in a PDF document.
    pub document_max_pages: Option<u32>,

    // Alt text.
    /// Longest alt text, in characters (code points, as Crier counts post text).
    pub alt_text_max_chars: Option<u32>,
    /// The kinds of item the platform takes alt text on; alt text on any other is not sent.
    pub alt_text_kinds: Vec<MediaKind>,
}

const MB: u64 = 1_000_000;

impl MediaLimits {
    /// The platform's rules as documented (see `media-and-metrics.md` in the shared reference for
    /// every source).
    pub fn defaults(platform: Platform) -> MediaLimits {
        match platform {
            // X's media best practices: "up to 4 photos, 1 animated GIF or 1 video"; images 5 MB;
            // GIFs 15 MB, 1280×1080, 350 frames, 300 M pixels in all; video 512 MB, 0.5–140 s,
            // 32×32 to 1280×1024, 60 fps, 1:3 to 3:1, H.264 with AAC. Alt text: 1000 characters,
            // "can only be added to images at the moment" (the data dictionary).
            Platform::X => MediaLimits {
                max_images: 4,
                min_multi_images: 2,
                gifs_count_as_images: false,
                max_gifs: 1,
                animated_gifs: true,
                max_videos: 1,
                max_documents: 0,
                mix_kinds: false,
                image_max_bytes: Some(5 * MB),
                image_max_pixels: None,
                gif_max_bytes: Some(15 * MB),
                gif_max_width: Some(1280),
                gif_max_height: Some(1080),
                gif_max_frames: Some(350),
                gif_max_total_pixels: Some(300_000_000),
                video_min_bytes: None,
                video_max_bytes: Some(512 * MB),
                video_min_duration_ms: Some(500),
                video_max_duration_ms: Some(140_000),
                video_min_width: Some(32),
                video_min_height: Some(32),
                video_max_width: Some(1280),
                video_max_height: Some(1024),
                video_max_frame_rate_milli: Some(60_000),
                video_min_aspect: Some(Ratio { width: 1, height: 3 }),
                video_max_aspect: Some(Ratio { width: 3, height: 1 }),
                video_codecs: vec!["avc1".to_owned(), "avc3".to_owned()],
                audio_codecs: vec!["mp4a".to_owned()],
                document_max_bytes: None,
                document_max_pages: None,
                alt_text_max_chars: Some(1000),
                alt_text_kinds: vec![MediaKind::Image],
            },
            // LinkedIn: one image, a multi-image post of 2 to 20 (the MultiImage API), one video or
            // one document. Images under 36,152,320 pixels, GIFs up to 250 frames (LinkedIn's image
            // limits, secondary copies; a 5 MB image size is a third party's figure only, so none is
            // set). Video: MP4, 3 s to 30 min, 75 KB to 500 MB, 1:2.4 to 2.4:1. Documents: 100 MB,
            // 300 pages (the Documents API). Alt text on images; "LinkedIn does not support
            // altText on videos"; its maximum length is not documented.
            Platform::Linkedin => MediaLimits {
                max_images: 20,
                min_multi_images: 2,
                gifs_count_as_images: true,
                max_gifs: 0,
                animated_gifs: true,
                max_videos: 1,
                max_documents: 1,
                mix_kinds: false,
                image_max_bytes: None,
                image_max_pixels: Some(36_152_319),
                gif_max_bytes: None,
                gif_max_width: None,
                gif_max_height: None,
                gif_max_frames: Some(250),
                gif_max_total_pixels: None,
                video_min_bytes: Some(75_000),
                video_max_bytes: Some(500 * MB),
                video_min_duration_ms: Some(3_000),
                video_max_duration_ms: Some(30 * 60_000),
                video_min_width: None,
                video_min_height: None,
                video_max_width: None,
                video_max_height: None,
                video_max_frame_rate_milli: None,
                video_min_aspect: Some(Ratio { width: 10, height: 24 }),
                video_max_aspect: Some(Ratio { width: 24, height: 10 }),
                video_codecs: Vec::new(),
                audio_codecs: Vec::new(),
                document_max_bytes: Some(100 * MB),
                document_max_pages: Some(300),
                alt_text_max_chars: None,
                alt_text_kinds: vec![MediaKind::Image, MediaKind::Gif],
            },
            // Facebook Pages: photos uploaded unpublished and attached together (Meta gives no
            // maximum; clients cap at 4 to 10, so 10), or one video. "Animated photos are not
            // supported, and a photo must be less than 10MB" (the Photo reference). Video about
            // 10 GB and 4 hours (the Page's `video_upload_limits` is the live figure). Alt text on
            // photos (`alt_text_custom`); on videos not documented.
            Platform::Facebook => MediaLimits {
                max_images: 10,
                min_multi_images: 2,
                gifs_count_as_images: true,
                max_gifs: 0,
                animated_gifs: false,
                max_videos: 1,
                max_documents: 0,
                mix_kinds: false,
                image_max_bytes: Some(10 * MB - 1),
                image_max_pixels: None,
                gif_max_bytes: Some(10 * MB - 1),
                gif_max_width: None,
                gif_max_height: None,
                gif_max_frames: None,
                gif_max_total_pixels: None,
                video_min_bytes: None,
                video_max_bytes: Some(10_000 * MB),
                video_min_duration_ms: None,
                video_max_duration_ms: Some(4 * 3_600_000),
                video_min_width: None,
                video_min_height: None,
                video_max_width: None,
                video_max_height: None,
                video_max_frame_rate_milli: None,
                video_min_aspect: None,
                video_max_aspect: None,
                video_codecs: Vec::new(),
                audio_codecs: Vec::new(),
                document_max_bytes: None,
                document_max_pages: None,
                alt_text_max_chars: None,
                alt_text_kinds: vec![MediaKind::Image, MediaKind::Gif],
            },
        }
    }

    /// The largest file of `kind` (`None`: no known limit).
    pub fn max_bytes(&self, kind: MediaKind) -> Option<u64> {
        match kind {
            MediaKind::Image => self.image_max_bytes,
            MediaKind::Gif => self.gif_max_bytes,
            MediaKind::Video => self.video_max_bytes,
            MediaKind::Document => self.document_max_bytes,
        }
    }

    /// How many items of `kind` one post may hold, counting GIFs as images where the platform
    /// does.
    pub fn max_count(&self, kind: MediaKind) -> u32 {
        match self.group(kind) {
            MediaKind::Image => self.max_images,
            MediaKind::Gif => self.max_gifs,
            MediaKind::Video => self.max_videos,
            MediaKind::Document => self.max_documents,
        }
    }

    /// The kind an item is counted as: a GIF is an image where the platform says so.
    pub fn group(&self, kind: MediaKind) -> MediaKind {
        match kind {
            MediaKind::Gif if self.gifs_count_as_images => MediaKind::Image,
            kind => kind,
        }
    }
}
