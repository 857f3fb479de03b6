//! Whether a post's media will go out on a platform, and if not, what to change.
//!
//! [`check`] runs in the browser as attachments are added (Compose) and on the server when a post
//! is scheduled, with the same [`MediaLimits`]: a video too long for X is refused while the person
//! is still composing, not when the post is due. Every problem is reported, each in words that say
//! what to change, naming the item by its position ("Image 3 is 7.2 MB; X takes images up to 5 MB:
//! make it smaller").

use std::fmt;

use crier_platform::Platform;
use serde::{Deserialize, Serialize};

use crate::limits::Ratio;
use crate::words::{ByteSize, FrameRate, HumanDuration, Megapixels};
use crate::{MediaFacts, MediaKind, MediaLimits};

/// One item of a post as [`check`] sees it: its facts and the alt text given for it.
#[derive(Clone, Copy, Debug)]
pub struct Attachment<'a> {
    /// The item's facts.
    pub facts: &'a MediaFacts,
    /// Its alt text (empty when none was given).
    pub alt_text: &'a str,
}

/// Something about a post's media that a platform will not take, or will not send.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaProblem {
    /// The platform whose rule this is.
    pub platform: Platform,
    /// The item's position in the post, from 0 (`None`: the post as a whole, for counts and mixing).
    pub item: Option<usize>,
    /// What is wrong, with the numbers (in JSON, its fields sit beside `platform` and `item`).
    #[serde(flatten)]
    pub issue: Issue,
}

/// What is wrong, with the numbers the words need.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "issue", rename_all = "snake_case")]
#[allow(missing_docs)] // the fields are the numbers the variant's words name
pub enum Issue {
    /// The platform does not post this kind at all (documents on X).
    KindNotAccepted { kind: MediaKind },
    /// An animated GIF where the platform takes only still ones (Facebook).
    AnimatedGif { frames: u32 },
    /// More items of a kind than a post may hold.
    TooMany { kind: MediaKind, count: u32, max: u32 },
    /// Fewer images than a multi-image post needs (only where that minimum is above 2).
    TooFewForMultiple { count: u32, min: u32, max: u32 },
    /// Kinds mixed where the platform takes one kind a post: what the post has and what the
    /// platform takes, each kind with its count.
    Mixed { present: Vec<(MediaKind, u32)>, accepted: Vec<(MediaKind, u32)> },
    /// A file larger than the platform takes for its kind.
    TooBig { kind: MediaKind, bytes: u64, max: u64 },
    /// A video file smaller than the platform takes.
    TooSmall { bytes: u64, min: u64 },
    /// An image (or a GIF counted as one) with more pixels than the platform takes.
    TooManyPixels { kind: MediaKind, width: u32, height: u32, max: u64 },
    /// A GIF or video larger in width or height than the platform takes.
    DimensionsTooLarge { kind: MediaKind, width: u32, height: u32, max_width: Option<u32>, max_height: Option<u32> },
    /// A video smaller in width or height than the platform takes.
    DimensionsTooSmall { width: u32, height: u32, min_width: Option<u32>, min_height: Option<u32> },
    /// A GIF with more frames than the platform takes.
    TooManyFrames { frames: u32, max: u32 },
    /// A GIF with more pixels over all its frames than the platform takes.
    TooManyTotalPixels { pixels: u64, max: u64 },
    /// A video shorter than the platform takes.
    TooShort { duration_ms: u64, min_ms: u64 },
    /// A video longer than the platform takes.
    TooLong { duration_ms: u64, max_ms: u64 },
    /// A video at a higher frame rate than the platform takes.
    FrameRateTooHigh { frame_rate_milli: u32, max_milli: u32 },
    /// A video taller or wider in proportion than the platform takes.
    AspectRatio { width: u32, height: u32, min: Option<Ratio>, max: Option<Ratio> },
    /// A video encoded with a codec the platform does not take.
    VideoCodec { found: String, accepted: Vec<String> },
    /// A video whose sound is encoded with a codec the platform does not take.
    AudioCodec { found: String, accepted: Vec<String> },
    /// A document with more pages than the platform takes.
    TooManyPages { pages: u32, max: u32 },
    /// Alt text longer than the platform takes.
    AltTextTooLong { kind: MediaKind, chars: u32, max: u32 },
    /// Alt text on a kind the platform takes none on: it is not sent (this alone does not stop the
    /// post, see [`MediaProblem::blocks`]).
    AltTextNotSent { kind: MediaKind, accepted: Vec<MediaKind> },
}

impl MediaProblem {
    /// Whether the post cannot go out like this: every problem but alt text the platform does not
    /// take (which is simply not sent; the same alt text may serve another platform).
    pub fn blocks(&self) -> bool {
        !matches!(self.issue, Issue::AltTextNotSent { .. })
    }
}

/// Every problem `items` have on `platform` under `limits`: counts and mixing for the post first,
/// then each item's in order. Empty when the media will go out as they are. Facts that are not
/// known (`None`) are not judged.
pub fn check(platform: Platform, items: &[Attachment<'_>], limits: &MediaLimits) -> Vec<MediaProblem> {
    let mut post = Vec::new();
    let mut each = Vec::new();
    // Items counted per kind group, in the order the kinds are listed.
    let mut counts = [0u32; 4];
    for (index, item) in items.iter().enumerate() {
        let kind = item.facts.kind();
        let mut push = |issue| each.push(MediaProblem { platform, item: Some(index), issue });
        if limits.max_count(kind) == 0 {
            push(Issue::KindNotAccepted { kind });
            continue;
        }
        counts[slot(limits.group(kind))] += 1;
        item_issues(item, kind, limits, &mut push);
    }

    let present: Vec<(MediaKind, u32)> = KINDS.into_iter().zip(counts).filter(|&(_, count)| count > 0).collect();
    if !limits.mix_kinds && present.len() > 1 {
        let accepted = KINDS
            .into_iter()
            .filter(|&kind| limits.group(kind) == kind)
            .map(|kind| (kind, limits.max_count(kind)))
            .filter(|&(_, max)| max > 0)
            .collect();
        post.push(MediaProblem { platform, item: None, issue: Issue::Mixed { present: present.clone(), accepted } });
    }
    for (kind, count) in present {
        let max = limits.max_count(kind);
        if count > max {
            post.push(MediaProblem { platform, item: None, issue: Issue::TooMany { kind, count, max } });
        } else if kind == MediaKind::Image && count > 1 && count < limits.min_multi_images {
            let issue = Issue::TooFewForMultiple { count, min: limits.min_multi_images, max };
            post.push(MediaProblem { platform, item: None, issue });
        }
    }
    post.append(&mut each);
    post
}

const KINDS: [MediaKind; 4] = [MediaKind::Image, MediaKind::Gif, MediaKind::Video, MediaKind::Document];

fn slot(kind: MediaKind) -> usize {
    match kind {
        MediaKind::Image => 0,
        MediaKind::Gif => 1,
        MediaKind::Video => 2,
        MediaKind::Document => 3,
    }
}

/// One item's own problems (size, pixels, frames, duration, codecs, pages, alt text).
fn item_issues(item: &Attachment<'_>, kind: MediaKind, limits: &MediaLimits, push: &mut dyn FnMut(Issue)) {
    let facts = item.facts;
    if let Some(max) = limits.max_bytes(kind).filter(|&max| facts.byte_size > max) {
        push(Issue::TooBig { kind, bytes: facts.byte_size, max });
    }
    let dimensions = facts.width.zip(facts.height);
    match kind {
        MediaKind::Image | MediaKind::Gif => {
            if kind == MediaKind::Gif {
                gif_issues(facts, limits, push);
            }
            if let (Some((width, height)), Some(max)) = (dimensions, limits.image_max_pixels)
                && limits.group(kind) == MediaKind::Image
                && u64::from(width) * u64::from(height) > max
            {
                push(Issue::TooManyPixels { kind, width, height, max });
            }
        }
        MediaKind::Video => video_issues(facts, limits, push),
        MediaKind::Document => {
            if let (Some(pages), Some(max)) = (facts.pages, limits.document_max_pages)
                && pages > max
            {
                push(Issue::TooManyPages { pages, max });
            }
        }
    }
    if !item.alt_text.trim().is_empty() {
        if !limits.alt_text_kinds.contains(&kind) {
            push(Issue::AltTextNotSent { kind, accepted: limits.alt_text_kinds.clone() });
        } else if let Some(max) = limits.alt_text_max_chars {
            let chars = u32::try_from(item.alt_text.chars().count()).unwrap_or(u32::MAX);
            if chars > max {
                push(Issue::AltTextTooLong { kind, chars, max });
            }
        }
    }
}

fn gif_issues(facts: &MediaFacts, limits: &MediaLimits, push: &mut dyn FnMut(Issue)) {
    if let Some(frames) = facts.frames {
        if frames > 1 && !limits.animated_gifs {
            push(Issue::AnimatedGif { frames });
        }
        if let Some(max) = limits.gif_max_frames.filter(|&max| frames > max) {
            push(Issue::TooManyFrames { frames, max });
        }
    }
    let Some((width, height)) = facts.width.zip(facts.height) else { return };
    let (max_width, max_height) = (limits.gif_max_width, limits.gif_max_height);
    if exceeds(width, max_width) || exceeds(height, max_height) {
        push(Issue::DimensionsTooLarge { kind: MediaKind::Gif, width, height, max_width, max_height });
    }
    if let (Some(frames), Some(max)) = (facts.frames, limits.gif_max_total_pixels) {
        let pixels = u64::from(width) * u64::from(height) * u64::from(frames);
        if pixels > max {
            push(Issue::TooManyTotalPixels { pixels, max });
        }
    }
}

fn video_issues(facts: &MediaFacts, limits: &MediaLimits, push: &mut dyn FnMut(Issue)) {
    if let Some(min) = limits.video_min_bytes.filter(|&min| facts.byte_size < min) {
        push(Issue::TooSmall { bytes: facts.byte_size, min });
    }
    if let Some(duration_ms) = facts.duration_ms {
        if let Some(min_ms) = limits.video_min_duration_ms.filter(|&min| duration_ms < min) {
            push(Issue::TooShort { duration_ms, min_ms });
        }
        if let Some(max_ms) = limits.video_max_duration_ms.filter(|&max| duration_ms > max) {
            push(Issue::TooLong { duration_ms, max_ms });
        }
    }
    if let Some((width, height)) = facts.width.zip(facts.height) {
        let (min_width, min_height) = (limits.video_min_width, limits.video_min_height);
        if min_width.is_some_and(|min| width < min) || min_height.is_some_and(|min| height < min) {
            push(Issue::DimensionsTooSmall { width, height, min_width, min_height });
        }
        let (max_width, max_height) = (limits.video_max_width, limits.video_max_height);
        if exceeds(width, max_width) || exceeds(height, max_height) {
            push(Issue::DimensionsTooLarge { kind: MediaKind::Video, width, height, max_width, max_height });
        }
        let (min, max) = (limits.video_min_aspect, limits.video_max_aspect);
        let too_tall = min.is_some_and(|min| min.is_wider_than(width, height));
        let too_wide = max.is_some_and(|max| max.is_narrower_than(width, height));
        if height > 0 && (too_tall || too_wide) {
            push(Issue::AspectRatio { width, height, min, max });
        }
    }
    if let Some(frame_rate_milli) = facts.frame_rate_milli
        && let Some(max_milli) = limits.video_max_frame_rate_milli.filter(|&max| frame_rate_milli > max)
    {
        push(Issue::FrameRateTooHigh { frame_rate_milli, max_milli });
    }
    if let Some(found) = &facts.video_codec
        && !limits.video_codecs.is_empty()
        && !limits.video_codecs.contains(found)
    {
        push(Issue::VideoCodec { found: found.clone(), accepted: limits.video_codecs.clone() });
    }
    if let Some(found) = &facts.audio_codec
        && !limits.audio_codecs.is_empty()
        && !limits.audio_codecs.contains(found)
    {
        push(Issue::AudioCodec { found: found.clone(), accepted: limits.audio_codecs.clone() });
    }
}

fn exceeds(value: u32, max: Option<u32>) -> bool {
    max.is_some_and(|max| value > max)
}

impl fmt::Display for MediaProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let platform = self.platform.label();
        if let (Some(index), Some(kind)) = (self.item, self.issue.item_kind()) {
            write!(f, "{} {}", title(kind), index + 1)?;
        }
        match &self.issue {
            Issue::KindNotAccepted { kind } => {
                write!(f, " is a {}; {platform} does not post {}: remove it", kind.label(), plural(*kind))
            }
            Issue::AnimatedGif { frames } => write!(
                f,
                " is animated ({frames} frames); {platform} does not post animated GIFs: post it as a video, or use a still image"
            ),
            Issue::TooMany { kind, count, max } => {
                write!(f, "This post has {}; {platform} posts ", Count(*kind, *count))?;
                if *max > 1 {
                    f.write_str("up to ")?;
                }
                write!(f, "{}: remove {}", Count(*kind, *max), count - max)
            }
            Issue::TooFewForMultiple { count, min, max } => {
                write!(f, "This post has {count} images; {platform} posts 1 image or {min} to {max} images: add {} or keep 1", min - count)
            }
            Issue::Mixed { present, accepted } => {
                write!(f, "{platform} posts ")?;
                for (i, &(kind, max)) in accepted.iter().enumerate() {
                    f.write_str(if i == 0 { "" } else { ", or " })?;
                    if max > 1 {
                        f.write_str("up to ")?;
                    }
                    write!(f, "{}", Count(kind, max))?;
                }
                match present.as_slice() {
                    [(a, a_count), (b, b_count)] => write!(
                        f,
                        ", not both {} and {}: remove the {} or the {}",
                        Article(*a, *a_count),
                        Article(*b, *b_count),
                        noun(*b, *b_count),
                        noun(*a, *a_count)
                    ),
                    _ => f.write_str(", one kind a post: keep one kind and remove the others"),
                }
            }
            Issue::TooBig { kind, bytes, max } => {
                let (size, limit) = sizes(*bytes, *max);
                write!(f, " is {size}; {platform} takes {} up to {limit}: make it smaller", plural(*kind))?;
                match kind {
                    MediaKind::Video => f.write_str(" or shorter"),
                    MediaKind::Document => f.write_str(" or split it"),
                    MediaKind::Image | MediaKind::Gif => Ok(()),
                }
            }
            Issue::TooSmall { bytes, min } => write!(
                f,
                " is {}; {platform} takes videos of {} or more: use a longer or higher-quality video",
                ByteSize(*bytes),
                ByteSize(*min)
            ),
            Issue::TooManyPixels { kind, width, height, max } => write!(
                f,
                " is {width}×{height} ({}); {platform} takes {} up to {}: make it smaller",
                Megapixels(u64::from(*width) * u64::from(*height)),
                plural(*kind),
                Megapixels(*max)
            ),
            Issue::DimensionsTooLarge { kind, width, height, max_width, max_height } => {
                write!(f, " is {width}×{height}; {platform} takes {} up to ", plural(*kind))?;
                bounds(f, *max_width, *max_height)?;
                f.write_str(": make it smaller")
            }
            Issue::DimensionsTooSmall { width, height, min_width, min_height } => {
                write!(f, " is {width}×{height}; {platform} takes videos of at least ")?;
                bounds(f, *min_width, *min_height)?;
                f.write_str(": use a larger video")
            }
            Issue::TooManyFrames { frames, max } => {
                write!(f, " has {frames} frames; {platform} takes GIFs of up to {max} frames: remove frames or shorten it")
            }
            Issue::TooManyTotalPixels { pixels, max } => write!(
                f,
                " has {} over all its frames; {platform} takes GIFs of up to {}: make it smaller or shorter",
                Megapixels(*pixels),
                Megapixels(*max)
            ),
            Issue::TooShort { duration_ms, min_ms } => {
                let (length, limit) = durations(*duration_ms, *min_ms);
                write!(f, " lasts {length}; {platform} takes videos of {limit} or more: use a longer video")
            }
            Issue::TooLong { duration_ms, max_ms } => {
                let (length, limit) = durations(*duration_ms, *max_ms);
                write!(f, " lasts {length}; {platform} takes videos up to {limit}: trim it")
            }
            Issue::FrameRateTooHigh { frame_rate_milli, max_milli } => write!(
                f,
                " plays at {}; {platform} takes videos up to {}: re-encode it at {} or less",
                FrameRate(*frame_rate_milli),
                FrameRate(*max_milli),
                FrameRate(*max_milli)
            ),
            Issue::AspectRatio { width, height, min, max } => {
                write!(f, " is {width}×{height}; {platform} takes videos ")?;
                match (min, max) {
                    (Some(min), Some(max)) => write!(f, "from {min} (tall) to {max} (wide)")?,
                    (Some(min), None) => write!(f, "no taller than {min}")?,
                    (None, Some(max)) => write!(f, "no wider than {max}")?,
                    (None, None) => {}
                }
                f.write_str(": crop it")
            }
            Issue::VideoCodec { found, accepted } => {
                write!(f, " is {} video; {platform} takes ", Codec(found))?;
                codecs(f, accepted)?;
                f.write_str(" video: re-encode it as ")?;
                codecs(f, &accepted[..1])
            }
            Issue::AudioCodec { found, accepted } => {
                write!(f, " has {} sound; {platform} takes ", Codec(found))?;
                codecs(f, accepted)?;
                f.write_str(" sound: re-encode its sound as ")?;
                codecs(f, &accepted[..1])
            }
            Issue::TooManyPages { pages, max } => {
                write!(
                    f,
                    " has {} pages; {platform} takes documents up to {} pages: split it",
                    Grouped((*pages).into()),
                    Grouped((*max).into())
                )
            }
            Issue::AltTextTooLong { chars, max, .. } => write!(
                f,
                "'s alt text is {} characters; {platform} takes up to {}: shorten it",
                Grouped((*chars).into()),
                Grouped((*max).into())
            ),
            Issue::AltTextNotSent { accepted, .. } => {
                write!(f, " has alt text, but {platform} takes alt text only on ")?;
                for (i, kind) in accepted.iter().enumerate() {
                    f.write_str(match i {
                        0 => "",
                        i if i + 1 == accepted.len() => " and ",
                        _ => ", ",
                    })?;
                    f.write_str(plural(*kind))?;
                }
                f.write_str(": it will not be sent there")
            }
        }
    }
}

impl Issue {
    /// The kind of the item a per-item problem names (`None` for problems about the whole post).
    fn item_kind(&self) -> Option<MediaKind> {
        Some(match self {
            Issue::TooMany { .. } | Issue::TooFewForMultiple { .. } | Issue::Mixed { .. } => return None,
            Issue::KindNotAccepted { kind }
            | Issue::TooBig { kind, .. }
            | Issue::TooManyPixels { kind, .. }
            | Issue::DimensionsTooLarge { kind, .. }
            | Issue::AltTextTooLong { kind, .. }
            | Issue::AltTextNotSent { kind, .. } => *kind,
            Issue::AnimatedGif { .. } | Issue::TooManyFrames { .. } | Issue::TooManyTotalPixels { .. } => MediaKind::Gif,
            Issue::TooSmall { .. }
            | Issue::DimensionsTooSmall { .. }
            | Issue::TooShort { .. }
            | Issue::TooLong { .. }
            | Issue::FrameRateTooHigh { .. }
            | Issue::AspectRatio { .. }
            | Issue::VideoCodec { .. }
            | Issue::AudioCodec { .. } => MediaKind::Video,
            Issue::TooManyPages { .. } => MediaKind::Document,
        })
    }
}

/// How an item is named at the start of a sentence: "Image", "GIF", "Video", "Document".
fn title(kind: MediaKind) -> &'static str {
    match kind {
        MediaKind::Image => "Image",
        MediaKind::Gif => "GIF",
        MediaKind::Video => "Video",
        MediaKind::Document => "Document",
    }
}

fn plural(kind: MediaKind) -> &'static str {
    match kind {
        MediaKind::Image => "images",
        MediaKind::Gif => "GIFs",
        MediaKind::Video => "videos",
        MediaKind::Document => "PDF documents",
    }
}

/// "the video" / "the images".
fn noun(kind: MediaKind, count: u32) -> &'static str {
    if count == 1 { kind.label() } else { plural(kind) }
}

/// "4 images", "1 GIF", "1 video".
struct Count(MediaKind, u32);

impl fmt::Display for Count {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.1, noun(self.0, self.1))
    }
}

/// "a video", "an image", "images".
struct Article(MediaKind, u32);

impl fmt::Display for Article {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.0, self.1) {
            (MediaKind::Image, 1) => f.write_str("an image"),
            (kind, 1) => write!(f, "a {}", kind.label()),
            (kind, _) => f.write_str(plural(kind)),
        }
    }
}

/// Two sizes that would read the same when rounded ("5 MB" over "5 MB") are written in bytes.
fn sizes(bytes: u64, limit: u64) -> (String, String) {
    let (size, max) = (ByteSize(bytes).to_string(), ByteSize(limit).to_string());
    if size == max { (format!("{} bytes", Grouped(bytes)), format!("{} bytes", Grouped(limit))) } else { (size, max) }
}

/// Two durations that would read the same are written to the tenth of a second.
fn durations(ms: u64, limit: u64) -> (String, String) {
    let (length, max) = (HumanDuration::new(ms).to_string(), HumanDuration::new(limit).to_string());
    if length == max { (HumanDuration::precise(ms).to_string(), HumanDuration::precise(limit).to_string()) } else { (length, max) }
}

/// "1280×1024", "1280 pixels wide", "1024 pixels tall".
fn bounds(f: &mut fmt::Formatter<'_>, width: Option<u32>, height: Option<u32>) -> fmt::Result {
    match (width, height) {
        (Some(width), Some(height)) => write!(f, "{width}×{height}"),
        (Some(width), None) => write!(f, "{width} pixels wide"),
        (None, Some(height)) => write!(f, "{height} pixels tall"),
        (None, None) => Ok(()),
    }
}

/// "H.264 (avc1)" or "H.264 or HEVC (avc1, hvc1)": accepted codecs by name, each name once.
fn codecs(f: &mut fmt::Formatter<'_>, accepted: &[String]) -> fmt::Result {
    let mut names: Vec<&str> = Vec::new();
    for codec in accepted {
        let name = codec_name(codec).unwrap_or(codec);
        if !names.contains(&name) {
            names.push(name);
        }
    }
    f.write_str(&names.join(" or "))
}

/// A codec by its name and sample entry: "HEVC (hvc1)".
struct Codec<'a>(&'a str);

impl fmt::Display for Codec<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match codec_name(self.0) {
            Some(name) => write!(f, "{name} ({})", self.0),
            None => write!(f, "“{}”", self.0),
        }
    }
}

fn codec_name(sample_entry: &str) -> Option<&'static str> {
    Some(match sample_entry {
        "avc1" | "avc3" => "H.264",
        "hvc1" | "hev1" => "HEVC",
        "av01" => "AV1",
        "vp08" => "VP8",
        "vp09" => "VP9",
        "mp4v" => "MPEG-4 Part 2",
        "mp4a" => "AAC",
        "ac-3" => "AC-3",
        "ec-3" => "E-AC-3",
        "Opus" => "Opus",
        "fLaC" => "FLAC",
        ".mp3" => "MP3",
        _ => return None,
    })
}

impl fmt::Display for Ratio {
    /// "1:3", "3:1", "1:2.4", "2.4:1": the short side is 1.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (long, short) = (self.width.max(self.height), self.width.min(self.height).max(1));
        let tenths = (u64::from(long) * 10 + u64::from(short) / 2) / u64::from(short);
        let mut part = String::new();
        if tenths % 10 == 0 {
            part = (tenths / 10).to_string();
        } else {
            use fmt::Write;
            let _ = write!(part, "{}.{}", tenths / 10, tenths % 10);
        }
        if self.width < self.height { write!(f, "1:{part}") } else { write!(f, "{part}:1") }
    }
}

/// 1,200.
struct Grouped(u64);

impl fmt::Display for Grouped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.0.to_string();
        for (i, digit) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                f.write_str(",")?;
            }
            write!(f, "{digit}")?;
        }
        Ok(())
    }
}
