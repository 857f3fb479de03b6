//! Each platform's rules, per kind, with the words a person reads.

use crier_media::{Attachment, ContentType, Issue, Layout, MediaFacts, MediaKind, MediaLimits, check, layout};
use crier_platform::Platform;

fn image(bytes: u64, width: u32, height: u32) -> MediaFacts {
    MediaFacts { width: Some(width), height: Some(height), ..MediaFacts::new(ContentType::Jpeg, bytes) }
}

fn gif(bytes: u64, width: u32, height: u32, frames: u32) -> MediaFacts {
    MediaFacts { width: Some(width), height: Some(height), frames: Some(frames), ..MediaFacts::new(ContentType::Gif, bytes) }
}

fn video(bytes: u64, width: u32, height: u32, duration_ms: u64) -> MediaFacts {
    MediaFacts {
        width: Some(width),
        height: Some(height),
        duration_ms: Some(duration_ms),
        frame_rate_milli: Some(30_000),
        video_codec: Some("avc1".to_owned()),
        audio_codec: Some("mp4a".to_owned()),
        ..MediaFacts::new(ContentType::Mp4, bytes)
    }
}

fn pdf(bytes: u64, pages: Option<u32>) -> MediaFacts {
    MediaFacts { pages, ..MediaFacts::new(ContentType::Pdf, bytes) }
}

/// The problems' words on `platform` with its default limits.
fn words(platform: Platform, items: &[(&MediaFacts, &str)]) -> Vec<String> {
    let items: Vec<Attachment<'_>> = items.iter().map(|&(facts, alt_text)| Attachment { facts, alt_text }).collect();
    check(platform, &items, &MediaLimits::defaults(platform)).iter().map(ToString::to_string).collect()
}

fn plain<'a>(items: &[&'a MediaFacts]) -> Vec<(&'a MediaFacts, &'static str)> {
    items.iter().map(|&facts| (facts, "")).collect()
}

#[test]
fn media_within_every_limit_pass_everywhere_they_are_accepted() {
    let photo = image(2_000_000, 1200, 800);
    let clip = video(20_000_000, 1280, 720, 30_000);
    for platform in Platform::ALL {
        assert_eq!(words(platform, &plain(&[&photo, &photo])), Vec::<String>::new(), "{platform}");
        assert_eq!(words(platform, &plain(&[&clip])), Vec::<String>::new(), "{platform}");
        assert!(words(platform, &[]).is_empty());
    }
    let still = gif(1_000_000, 400, 300, 1);
    assert!(words(Platform::Facebook, &plain(&[&still])).is_empty());
    assert!(words(Platform::Linkedin, &plain(&[&pdf(5_000_000, Some(12))])).is_empty());
}

#[test]
fn x_counts_and_mixing() {
    let photo = image(1_000_000, 800, 600);
    let clip = video(10_000_000, 1280, 720, 20_000);
    let loop_ = gif(2_000_000, 480, 270, 40);
    assert_eq!(
        words(Platform::X, &plain(&[&photo, &photo, &photo, &photo, &photo])),
        ["This post has 5 images; X posts up to 4 images: remove 1"]
    );
    assert_eq!(
        words(Platform::X, &plain(&[&photo, &photo, &clip])),
        ["X posts up to 4 images, or 1 GIF, or 1 video, not both images and a video: remove the video or the images"]
    );
    assert_eq!(
        words(Platform::X, &plain(&[&loop_, &photo])),
        ["X posts up to 4 images, or 1 GIF, or 1 video, not both an image and a GIF: remove the GIF or the image"]
    );
    assert_eq!(words(Platform::X, &plain(&[&clip, &clip])), ["This post has 2 videos; X posts 1 video: remove 1"]);
    assert_eq!(words(Platform::X, &plain(&[&loop_, &loop_])), ["This post has 2 GIFs; X posts 1 GIF: remove 1"]);
    assert_eq!(
        words(Platform::X, &plain(&[&photo, &loop_, &clip])),
        ["X posts up to 4 images, or 1 GIF, or 1 video, one kind a post: keep one kind and remove the others"]
    );
    assert_eq!(
        words(Platform::X, &plain(&[&pdf(1_000, None)])),
        ["Document 1 is a PDF document; X does not post PDF documents: remove it"]
    );
}

#[test]
fn x_sizes_gifs_and_videos() {
    assert_eq!(
        words(Platform::X, &plain(&[&image(1, 10, 10), &image(1, 10, 10), &image(7_200_000, 4000, 3000)])),
        ["Image 3 is 7.2 MB; X takes images up to 5 MB: make it smaller"]
    );
    // Rounded sizes that read the same are written in bytes.
    assert_eq!(
        words(Platform::X, &plain(&[&image(5_000_040, 4000, 3000)])),
        ["Image 1 is 5,000,040 bytes; X takes images up to 5,000,000 bytes: make it smaller"]
    );
    assert_eq!(
        words(Platform::X, &plain(&[&gif(16_000_000, 1920, 1080, 400)])),
        [
            "GIF 1 is 16 MB; X takes GIFs up to 15 MB: make it smaller",
            "GIF 1 has 400 frames; X takes GIFs of up to 350 frames: remove frames or shorten it",
            "GIF 1 is 1920×1080; X takes GIFs up to 1280×1080: make it smaller",
            "GIF 1 has 829 megapixels over all its frames; X takes GIFs of up to 300 megapixels: make it smaller or shorter",
        ]
    );
    assert_eq!(
        words(Platform::X, &plain(&[&video(20_000_000, 1280, 720, 149_350)])),
        ["Video 1 lasts 2 min 29 s; X takes videos up to 2 min 20 s: trim it"]
    );
    assert_eq!(
        words(Platform::X, &plain(&[&video(20_000_000, 1280, 720, 140_300)])),
        ["Video 1 lasts 2 min 20.3 s; X takes videos up to 2 min 20 s: trim it"]
    );
    assert_eq!(
        words(Platform::X, &plain(&[&video(20_000_000, 1280, 720, 400)])),
        ["Video 1 lasts 0.4 s; X takes videos of 0.5 s or more: use a longer video"]
    );
    assert_eq!(
        words(Platform::X, &plain(&[&video(600_000_000, 1920, 1080, 60_000)])),
        [
            "Video 1 is 600 MB; X takes videos up to 512 MB: make it smaller or shorter",
            "Video 1 is 1920×1080; X takes videos up to 1280×1024: make it smaller",
        ]
    );
    assert_eq!(
        words(Platform::X, &plain(&[&video(1_000_000, 20, 20, 10_000)])),
        ["Video 1 is 20×20; X takes videos of at least 32×32: use a larger video"]
    );
    assert_eq!(
        words(Platform::X, &plain(&[&video(1_000_000, 320, 1000, 10_000), &video(1, 1000, 300, 10_000)]))[1..],
        [
            "Video 1 is 320×1000; X takes videos from 1:3 (tall) to 3:1 (wide): crop it",
            "Video 2 is 1000×300; X takes videos from 1:3 (tall) to 3:1 (wide): crop it",
        ]
    );
    // Exactly 1:3 and 3:1 are in.
    assert!(words(Platform::X, &plain(&[&video(1_000_000, 300, 900, 10_000)])).is_empty());
    assert!(words(Platform::X, &plain(&[&video(1_000_000, 900, 300, 10_000)])).is_empty());
    let fast = MediaFacts {
        frame_rate_milli: Some(120_000),
        video_codec: Some("hvc1".to_owned()),
        audio_codec: Some("ac-3".to_owned()),
        ..video(1_000_000, 1280, 720, 10_000)
    };
    assert_eq!(
        words(Platform::X, &plain(&[&fast])),
        [
            "Video 1 plays at 120 fps; X takes videos up to 60 fps: re-encode it at 60 fps or less",
            "Video 1 is HEVC (hvc1) video; X takes H.264 video: re-encode it as H.264",
            "Video 1 has AC-3 (ac-3) sound; X takes AAC sound: re-encode its sound as AAC",
        ]
    );
    let silent = MediaFacts { audio_codec: None, ..video(1_000_000, 1280, 720, 10_000) };
    assert!(words(Platform::X, &plain(&[&silent])).is_empty());
}

#[test]
fn alt_text_per_platform_and_kind() {
    let photo = image(1_000, 10, 10);
    let clip = video(1_000_000, 1280, 720, 10_000);
    let long = "a".repeat(1001);
    assert_eq!(words(Platform::X, &[(&photo, long.as_str())]), ["Image 1's alt text is 1,001 characters; X takes up to 1,000: shorten it"]);
    assert!(words(Platform::X, &[(&photo, "a".repeat(1000).as_str())]).is_empty());
    // Characters are code points: 1000 emoji fit.
    assert!(words(Platform::X, &[(&photo, "😀".repeat(1000).as_str())]).is_empty());
    let notes = words(Platform::Linkedin, &[(&clip, "A dog runs")]);
    assert_eq!(notes, ["Video 1 has alt text, but LinkedIn takes alt text only on images and GIFs: it will not be sent there"]);
    let items = [Attachment { facts: &clip, alt_text: "A dog runs" }];
    let problems = check(Platform::Linkedin, &items, &MediaLimits::defaults(Platform::Linkedin));
    assert!(!problems[0].blocks(), "alt text that is not sent does not stop the post");
    assert_eq!(problems[0].item, Some(0));
    // Blank alt text is no alt text.
    assert!(words(Platform::Linkedin, &[(&clip, "  ")]).is_empty());
    assert_eq!(
        words(Platform::X, &[(&gif(1_000, 10, 10, 3), "Loop")]),
        ["GIF 1 has alt text, but X takes alt text only on images: it will not be sent there"]
    );
}

#[test]
fn linkedin_kinds_counts_and_limits() {
    let photo = image(1_000_000, 800, 600);
    let twenty: Vec<&MediaFacts> = std::iter::repeat_n(&photo, 20).collect();
    assert!(words(Platform::Linkedin, &plain(&twenty)).is_empty());
    let twenty_one: Vec<&MediaFacts> = std::iter::repeat_n(&photo, 21).collect();
    assert_eq!(words(Platform::Linkedin, &plain(&twenty_one)), ["This post has 21 images; LinkedIn posts up to 20 images: remove 1"]);
    // GIFs are images on LinkedIn: a GIF with photos is a multi-image post.
    assert!(words(Platform::Linkedin, &plain(&[&photo, &gif(1_000, 10, 10, 5)])).is_empty());
    assert_eq!(
        words(Platform::Linkedin, &plain(&[&photo, &pdf(1_000, Some(3))])),
        [
            "LinkedIn posts up to 20 images, or 1 video, or 1 PDF document, not both an image and a PDF document: remove the PDF document or the image"
        ]
    );
    assert_eq!(
        words(Platform::Linkedin, &plain(&[&image(1_000, 8000, 6000)])),
        ["Image 1 is 8000×6000 (48 megapixels); LinkedIn takes images up to 36.2 megapixels: make it smaller"]
    );
    assert_eq!(
        words(Platform::Linkedin, &plain(&[&gif(1_000, 100, 100, 251)])),
        ["GIF 1 has 251 frames; LinkedIn takes GIFs of up to 250 frames: remove frames or shorten it"]
    );
    assert_eq!(
        words(Platform::Linkedin, &plain(&[&video(50_000, 1280, 720, 2_000)])),
        [
            "Video 1 is 50 KB; LinkedIn takes videos of 75 KB or more: use a longer or higher-quality video",
            "Video 1 lasts 2 s; LinkedIn takes videos of 3 s or more: use a longer video",
        ]
    );
    assert_eq!(
        words(Platform::Linkedin, &plain(&[&video(1_000_000, 1000, 2500, 2_000_000)])),
        [
            "Video 1 lasts 33 min 20 s; LinkedIn takes videos up to 30 min: trim it",
            "Video 1 is 1000×2500; LinkedIn takes videos from 1:2.4 (tall) to 2.4:1 (wide): crop it",
        ]
    );
    // HEVC is fine on LinkedIn (no codec list).
    let hevc = MediaFacts { video_codec: Some("hvc1".to_owned()), ..video(1_000_000, 1920, 1080, 10_000) };
    assert!(words(Platform::Linkedin, &plain(&[&hevc])).is_empty());
    assert_eq!(
        words(Platform::Linkedin, &plain(&[&pdf(120_000_000, Some(301))])),
        [
            "Document 1 is 120 MB; LinkedIn takes PDF documents up to 100 MB: make it smaller or split it",
            "Document 1 has 301 pages; LinkedIn takes documents up to 300 pages: split it",
        ]
    );
    // Pages unknown: not judged.
    assert!(words(Platform::Linkedin, &plain(&[&pdf(1_000, None)])).is_empty());
    assert_eq!(
        words(Platform::Linkedin, &plain(&[&pdf(1_000, None), &pdf(1_000, None)])),
        ["This post has 2 PDF documents; LinkedIn posts 1 PDF document: remove 1"]
    );
}

#[test]
fn a_configured_minimum_for_multi_image_posts() {
    let mut limits = MediaLimits::defaults(Platform::Linkedin);
    limits.min_multi_images = 3;
    let photo = image(1_000, 10, 10);
    let items = [Attachment { facts: &photo, alt_text: "" }, Attachment { facts: &photo, alt_text: "" }];
    let problems = check(Platform::Linkedin, &items, &limits);
    assert_eq!(problems[0].to_string(), "This post has 2 images; LinkedIn posts 1 image or 3 to 20 images: add 1 or keep 1");
    assert!(check(Platform::Linkedin, &items[..1], &limits).is_empty());
}

#[test]
fn facebook_photos_gifs_and_videos() {
    let photo = image(1_000_000, 800, 600);
    let eleven: Vec<&MediaFacts> = std::iter::repeat_n(&photo, 11).collect();
    assert_eq!(words(Platform::Facebook, &plain(&eleven)), ["This post has 11 images; Facebook posts up to 10 images: remove 1"]);
    assert_eq!(
        words(Platform::Facebook, &plain(&[&gif(1_000_000, 400, 300, 12)])),
        ["GIF 1 is animated (12 frames); Facebook does not post animated GIFs: post it as a video, or use a still image"]
    );
    assert_eq!(
        words(Platform::Facebook, &plain(&[&image(10_000_000, 10, 10)])),
        ["Image 1 is 10,000,000 bytes; Facebook takes images up to 9,999,999 bytes: make it smaller"]
    );
    assert_eq!(
        words(Platform::Facebook, &plain(&[&video(1_000_000, 1280, 720, 4 * 3_600_000 + 60_000)])),
        ["Video 1 lasts 4 h 1 min; Facebook takes videos up to 4 h: trim it"]
    );
    assert_eq!(
        words(Platform::Facebook, &plain(&[&photo, &video(1_000_000, 1280, 720, 10_000)])),
        ["Facebook posts up to 10 images, or 1 video, not both an image and a video: remove the video or the image"]
    );
    // A larger album, when the operator allows it.
    let mut limits = MediaLimits::defaults(Platform::Facebook);
    limits.max_images = 20;
    let items: Vec<Attachment<'_>> = eleven.iter().map(|&facts| Attachment { facts, alt_text: "" }).collect();
    assert!(check(Platform::Facebook, &items, &limits).is_empty());
}

#[test]
fn problems_name_their_item_and_issue() {
    let items = [Attachment { facts: &image(7_000_000, 10, 10), alt_text: "" }];
    let problems = check(Platform::X, &items, &MediaLimits::defaults(Platform::X));
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].item, Some(0));
    assert_eq!(problems[0].issue, Issue::TooBig { kind: MediaKind::Image, bytes: 7_000_000, max: 5_000_000 });
    assert!(problems[0].blocks());
    let json = serde_json::to_value(&problems[0]).unwrap();
    assert_eq!(json["issue"], "too_big");
    assert_eq!(json["platform"], "x");
    assert_eq!(json["item"], 0);
    assert_eq!(json["max"], 5_000_000);
    assert_eq!(serde_json::from_value::<crier_media::MediaProblem>(json).unwrap(), problems[0]);
}

#[test]
fn limits_and_facts_round_trip_through_json() {
    for platform in Platform::ALL {
        let limits = MediaLimits::defaults(platform);
        let json = serde_json::to_string(&limits).unwrap();
        assert_eq!(serde_json::from_str::<MediaLimits>(&json).unwrap(), limits);
    }
    let json = serde_json::to_value(MediaLimits::defaults(Platform::X)).unwrap();
    assert_eq!(json["max_images"], 4);
    assert_eq!(json["video_min_aspect"], serde_json::json!({"width": 1, "height": 3}));
    assert_eq!(json["alt_text_kinds"], serde_json::json!(["image"]));
    let facts = video(1_000_000, 1280, 720, 10_000);
    let json = serde_json::to_string(&facts).unwrap();
    assert!(json.contains("\"content_type\":\"video/mp4\""), "{json}");
    assert_eq!(serde_json::from_str::<MediaFacts>(&json).unwrap(), facts);
    assert_eq!(facts.kind(), MediaKind::Video);
}

#[test]
fn layouts_per_platform() {
    let photo = image(1, 1, 1);
    let clip = video(1, 1, 1, 1);
    let loop_ = gif(1, 1, 1, 2);
    let doc = pdf(1, None);
    let lay = |platform, items: &[&MediaFacts]| {
        let items: Vec<Attachment<'_>> = items.iter().map(|&facts| Attachment { facts, alt_text: "" }).collect();
        layout(platform, &items)
    };
    assert_eq!(lay(Platform::X, &[]), Layout::Empty);
    assert_eq!(lay(Platform::X, &[&photo]), Layout::Single);
    assert_eq!(lay(Platform::X, &[&photo, &photo, &photo]), Layout::Grid { count: 3 });
    assert_eq!(lay(Platform::X, &[&loop_]), Layout::Single);
    assert_eq!(lay(Platform::X, &[&loop_, &photo]), Layout::Refused);
    assert_eq!(lay(Platform::X, &[&clip]), Layout::Video);
    assert_eq!(lay(Platform::X, &[&doc]), Layout::Refused);
    assert_eq!(lay(Platform::Linkedin, &[&photo, &loop_]), Layout::MultiImage { count: 2 });
    assert_eq!(lay(Platform::Linkedin, &[&doc]), Layout::DocumentCarousel);
    assert_eq!(lay(Platform::Linkedin, &[&doc, &photo]), Layout::Refused);
    assert_eq!(lay(Platform::Facebook, &[&photo, &photo]), Layout::Album { count: 2 });
    assert_eq!(lay(Platform::Facebook, &[&clip, &clip]), Layout::Refused);
    assert_eq!(lay(Platform::Facebook, &[&photo, &clip]), Layout::Refused);
}
