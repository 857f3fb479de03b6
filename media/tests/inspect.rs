//! `inspect` on real bytes built here: sniffing, refusals, metadata stripped, orientation applied,
//! polyglots cut, MP4 facts read and location boxes blanked, PDF pages.
#![cfg(feature = "inspect")]

use std::path::PathBuf;

use crier_media::fixtures::{VideoSpec, exif_with_gps, full_box, iso_box, jpeg, jpeg_with_exif, pdf, png_chunk, track};
use crier_media::inspect::{Found, InspectLimits, Refusal, inspect};
use crier_media::{ContentType, MediaKind};
use image::{ImageEncoder, Rgb, RgbImage, Rgba, RgbaImage};
use sha2::{Digest, Sha256};

/// A temporary folder for one test's files.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("crier-media-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Dir(path)
    }

    fn input(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn output(&self) -> PathBuf {
        self.0.join("output")
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}

/// Inspects `bytes` (named `name`, which must not matter) with `limits`.
fn run(name: &str, bytes: &[u8], limits: &InspectLimits) -> (Result<crier_media::inspect::Inspected, Refusal>, Vec<u8>) {
    let dir = Dir::new(name);
    let input = dir.input(name, bytes);
    let output = dir.output();
    let result = inspect(&input, &output, limits);
    let written = std::fs::read(&output).unwrap_or_default();
    if let Ok(inspected) = &result {
        assert_eq!(inspected.sha256, <[u8; 32]>::from(Sha256::digest(&written)), "the hash is of the output");
        assert_eq!(inspected.facts.byte_size, written.len() as u64);
    } else {
        assert!(!output.exists(), "a refusal leaves no output");
    }
    (result, written)
}

fn refusal(name: &str, bytes: &[u8]) -> Refusal {
    run(name, bytes, &InspectLimits::default()).0.unwrap_err()
}

/// 64×32: left half red, right half blue.
fn halves() -> RgbImage {
    RgbImage::from_fn(64, 32, |x, _| if x < 32 { Rgb([230, 20, 20]) } else { Rgb([20, 20, 230]) })
}

fn is_red(pixel: Rgb<u8>) -> bool {
    pixel[0] > 150 && pixel[2] < 100
}

fn is_blue(pixel: Rgb<u8>) -> bool {
    pixel[2] > 150 && pixel[0] < 100
}

#[test]
fn a_jpeg_loses_its_exif_and_gps_and_is_turned_upright() {
    let bytes = jpeg_with_exif(&halves(), 6);
    assert!(contains(&bytes, b"GPS-SECRET") && contains(&bytes, b"Exif\0\0"));
    let (result, out) = run("photo.jpg", &bytes, &InspectLimits::default());
    let inspected = result.unwrap();
    assert_eq!(inspected.facts.content_type, ContentType::Jpeg);
    assert_eq!(inspected.facts.kind(), MediaKind::Image);
    assert!(inspected.metadata_removed);
    assert!(!contains(&out, b"Exif\0\0"), "no EXIF left");
    assert!(!contains(&out, b"GPS-SECRET"), "no GPS left");
    assert!(!contains(&out, &[0x25, 0x88]), "no GPS IFD pointer left");
    assert!(!contains(&out, b"shot at home"), "no comment left");
    // Orientation 6 (turn 90° clockwise): 64×32 becomes 32×64, the left (red) half on top.
    assert_eq!((inspected.facts.width, inspected.facts.height), (Some(32), Some(64)));
    let upright = image::load_from_memory_with_format(&out, image::ImageFormat::Png).err();
    assert!(upright.is_some(), "the output is a JPEG, not a PNG");
    let decoded = decode_jpeg(&out);
    assert_eq!(decoded.dimensions(), (32, 64));
    assert!(is_red(*decoded.get_pixel(16, 8)), "{:?}", decoded.get_pixel(16, 8));
    assert!(is_blue(*decoded.get_pixel(16, 56)), "{:?}", decoded.get_pixel(16, 56));
    let thumbnail = decode_jpeg(inspected.thumbnail.as_deref().unwrap());
    assert_eq!(thumbnail.dimensions(), (32, 64), "the thumbnail is upright too");
    assert!(is_red(*thumbnail.get_pixel(16, 8)));
}

fn decode_jpeg(bytes: &[u8]) -> RgbImage {
    let mut decoder = jpeg_decoder::Decoder::new(bytes);
    let pixels = decoder.decode().unwrap();
    let info = decoder.info().unwrap();
    RgbImage::from_raw(info.width.into(), info.height.into(), pixels).unwrap()
}

#[test]
fn a_jpeg_too_large_to_turn_in_memory_keeps_only_its_orientation_tag() {
    let bytes = jpeg_with_exif(&halves(), 6);
    // Too little memory to decode at full size; enough for an eighth-scale check.
    let limits = InspectLimits { max_decode_bytes: 2_000, thumbnail_side: 8, ..InspectLimits::default() };
    let (result, out) = run("photo.jpg", &bytes, &limits);
    let inspected = result.unwrap();
    assert!(!contains(&out, b"GPS-SECRET"));
    assert!(!contains(&out, &[0x25, 0x88]));
    assert!(!contains(&out, b"shot at home"));
    // A new EXIF with the orientation alone, so it still shows upright.
    assert!(contains(&out, b"Exif\0\0MM\0*\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0\x06"));
    assert_eq!((inspected.facts.width, inspected.facts.height), (Some(32), Some(64)));
    assert_eq!(decode_jpeg(&out).dimensions(), (64, 32), "the pixels were not turned");
}

#[test]
fn an_upright_jpeg_is_stripped_losslessly_and_a_polyglot_tail_is_cut() {
    let plain = jpeg(&halves());
    let mut bytes = jpeg_with_exif(&halves(), 1);
    bytes.extend_from_slice(b"PK\x03\x04\x14\0\0\0\x08\0payload.html<script>alert(1)</script>");
    let (result, out) = run("polyglot.jpg", &bytes, &InspectLimits::default());
    let inspected = result.unwrap();
    assert!(inspected.metadata_removed);
    assert!(!contains(&out, b"PK\x03\x04") && !contains(&out, b"<script>"));
    assert!(out.ends_with(&[0xFF, 0xD9]));
    // Lossless: the same bytes as the encoder's own JPEG (which has no metadata of its own but JFIF).
    assert_eq!(out, plain, "only the added segments and the tail went");
    assert_eq!((inspected.facts.width, inspected.facts.height), (Some(64), Some(32)));
    assert_eq!(decode_jpeg(inspected.thumbnail.as_deref().unwrap()).dimensions(), (64, 32));
}

#[test]
fn a_clean_jpeg_is_published_byte_for_byte() {
    let plain = jpeg(&halves());
    let (result, out) = run("clean.jpg", &plain, &InspectLimits::default());
    assert!(!result.unwrap().metadata_removed);
    assert_eq!(out, plain);
}

#[test]
fn a_truncated_or_undecodable_jpeg_is_refused_as_damaged() {
    let plain = jpeg(&halves());
    let cut = refusal("cut.jpg", &plain[..plain.len() / 2]);
    assert_eq!(
        cut.to_string(),
        "This file starts like a JPEG but is damaged (it ends early; it may be cut short): export or save it again"
    );
    // A JPEG header over bytes that are not a picture.
    let mut fake = b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00".to_vec();
    fake.extend_from_slice(b"\xFF\xDA\x00\x08\x01\x01\x00\x00\x3F\x00");
    fake.extend_from_slice(&[0x55; 64]);
    fake.extend_from_slice(&[0xFF, 0xD9]);
    let Refusal::Damaged { content_type, reason } = refusal("fake.jpg", &fake) else { panic!("not damaged") };
    assert_eq!(content_type, ContentType::Jpeg);
    assert!(!reason.is_empty());
}

#[test]
fn files_off_the_allow_list_are_refused_by_what_they_are() {
    let accepted = "JPEG, PNG, WebP, GIF, MP4 or PDF";
    let html = refusal("cat.jpg", b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>");
    assert_eq!(html, Refusal::NotAccepted { found: Some(Found::Html) });
    assert_eq!(html.to_string(), format!("This file is an HTML page, which Crier does not post: use {accepted}"));
    let svg = refusal("logo.png", b"<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"><script/></svg>");
    assert_eq!(svg.to_string(), format!("This file is an SVG image, which Crier does not post: use {accepted} (export it as JPEG or PNG)"));
    assert_eq!(refusal("a.svg", b"\xEF\xBB\xBF  <svg width=\"1\"></svg>"), Refusal::NotAccepted { found: Some(Found::Svg) });
    assert_eq!(refusal("feed.xml", b"<?xml version=\"1.0\"?><rss></rss>"), Refusal::NotAccepted { found: Some(Found::Xml) });
    assert_eq!(refusal("notes.gif", b"just some words\n"), Refusal::NotAccepted { found: Some(Found::Text) });
    let zip = refusal("report.pdf", b"PK\x03\x04\x14\x00\x06\x00word/document.xml");
    assert_eq!(
        zip.to_string(),
        format!("This file is a ZIP archive (or an Office document), which Crier does not post: use {accepted} (export a document as PDF)")
    );
    let mov = refusal("clip.mp4", &iso_box(b"ftyp", &[b"qt  ".as_slice(), &[0, 0, 2, 0], b"qt  "].concat()));
    assert_eq!(
        mov.to_string(),
        format!("This file is a QuickTime (.mov) video, which Crier does not post: use {accepted} (convert it to MP4 with H.264 video)")
    );
    let heic = refusal("photo.jpg", &iso_box(b"ftyp", &[b"heic".as_slice(), &[0; 4], b"mif1heic"].concat()));
    assert_eq!(heic, Refusal::NotAccepted { found: Some(Found::Heic) });
    assert_eq!(refusal("clip.mp4", b"\x1A\x45\xDF\xA3\x01\x00\x00\x00webm"), Refusal::NotAccepted { found: Some(Found::WebM) });
    assert_eq!(refusal("doc.pdf", b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\0\0"), Refusal::NotAccepted { found: Some(Found::OldOffice) });
    let unknown = refusal("x.bin", &[0x00, 0x13, 0x37, 0x99, 0xAB, 0xCD]);
    assert_eq!(unknown.to_string(), format!("Crier does not recognise this file: use {accepted}"));
    assert_eq!(refusal("empty.jpg", b"").to_string(), "The file is empty: choose it again");
}

fn png(picture: &RgbaImage) -> Vec<u8> {
    let mut bytes = Vec::new();
    image::codecs::png::PngEncoder::new(&mut bytes)
        .write_image(picture.as_raw(), picture.width(), picture.height(), image::ExtendedColorType::Rgba8)
        .unwrap();
    bytes
}

fn rgba_halves() -> RgbaImage {
    RgbaImage::from_fn(64, 32, |x, _| if x < 32 { Rgba([230, 20, 20, 255]) } else { Rgba([20, 20, 230, 128]) })
}

#[test]
fn a_png_loses_its_text_and_exif_chunks_and_what_follows_iend() {
    let plain = png(&rgba_halves());
    // After the signature and IHDR (8 + 25 bytes).
    let mut bytes = plain[..33].to_vec();
    bytes.extend_from_slice(&png_chunk(b"tEXt", b"Comment\0GPS-SECRET at home"));
    bytes.extend_from_slice(&png_chunk(b"tIME", &[0x07, 0xE8, 1, 2, 3, 4, 5]));
    bytes.extend_from_slice(&png_chunk(b"gAMA", &45455u32.to_be_bytes()));
    bytes.extend_from_slice(&plain[33..]);
    bytes.extend_from_slice(b"<html><script>alert(1)</script></html>");
    let (result, out) = run("picture.png", &bytes, &InspectLimits::default());
    let inspected = result.unwrap();
    assert_eq!(inspected.facts.content_type, ContentType::Png);
    assert!(inspected.metadata_removed);
    assert!(!contains(&out, b"tEXt") && !contains(&out, b"GPS-SECRET") && !contains(&out, b"tIME"));
    assert!(!contains(&out, b"<script>"));
    assert!(contains(&out, b"gAMA"), "gamma is kept");
    assert!(out.ends_with(&png_chunk(b"IEND", b"")));
    assert_eq!((inspected.facts.width, inspected.facts.height), (Some(64), Some(32)));
    let decoded = image::load_from_memory(&out).unwrap().to_rgba8();
    assert_eq!(decoded, rgba_halves(), "pixels unchanged");
    assert!(inspected.thumbnail.is_some());
}

#[test]
fn a_png_with_an_exif_orientation_is_turned_and_loses_the_exif() {
    let plain = png(&rgba_halves());
    let mut bytes = plain[..33].to_vec();
    bytes.extend_from_slice(&png_chunk(b"eXIf", &exif_with_gps(6)[6..]));
    bytes.extend_from_slice(&plain[33..]);
    let (result, out) = run("turned.png", &bytes, &InspectLimits::default());
    let inspected = result.unwrap();
    assert!(!contains(&out, b"eXIf") && !contains(&out, b"GPS-SECRET"));
    assert_eq!((inspected.facts.width, inspected.facts.height), (Some(32), Some(64)));
    let decoded = image::load_from_memory(&out).unwrap().to_rgba8();
    assert_eq!(decoded.dimensions(), (32, 64));
    assert_eq!(decoded.get_pixel(16, 8), &Rgba([230, 20, 20, 255]), "the left half is on top");
}

#[test]
fn too_many_pixels_or_too_much_memory_is_refused_with_the_numbers() {
    let bytes = png(&rgba_halves());
    let (result, _) = run("big.png", &bytes, &InspectLimits { max_pixels: 1000, ..InspectLimits::default() });
    let refused = result.unwrap_err();
    assert_eq!(refused, Refusal::TooManyPixels { width: 64, height: 32, max: 1000 });
    assert_eq!(refused.to_string(), "This image is 64×32 (0 megapixels); Crier takes images up to 0 megapixels: make it smaller");
    let (result, _) = run("big.png", &bytes, &InspectLimits { max_decode_bytes: 4000, ..InspectLimits::default() });
    let refused = result.unwrap_err();
    assert_eq!(refused, Refusal::TooLargeToDecode { width: 64, height: 32, needed: 8192, max: 4000 });
    assert!(refused.to_string().starts_with("This image is 64×32, which needs 8.2 KB to check and Crier allows 4 KB: make it smaller"));
}

fn riff_chunk(name: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut chunk = name.to_vec();
    chunk.extend_from_slice(&(data.len() as u32).to_le_bytes());
    chunk.extend_from_slice(data);
    if data.len() % 2 == 1 {
        chunk.push(0);
    }
    chunk
}

#[test]
fn a_webp_loses_its_exif_and_xmp_chunks_and_its_flags_say_so() {
    let mut simple = Vec::new();
    image::codecs::webp::WebPEncoder::new_lossless(&mut simple)
        .write_image(rgba_halves().as_raw(), 64, 32, image::ExtendedColorType::Rgba8)
        .unwrap();
    // The simple file's one chunk (VP8L) inside an extended file with EXIF and XMP.
    let vp8l = &simple[12..];
    let mut vp8x = vec![0x08 | 0x04 | 0x10, 0, 0, 0];
    vp8x.extend_from_slice(&[63, 0, 0, 31, 0, 0]);
    let mut body = b"WEBP".to_vec();
    body.extend_from_slice(&riff_chunk(b"VP8X", &vp8x));
    body.extend_from_slice(vp8l);
    body.extend_from_slice(&riff_chunk(b"EXIF", &exif_with_gps(1)[6..]));
    body.extend_from_slice(&riff_chunk(b"XMP ", b"<x:xmpmeta>GPS-SECRET</x:xmpmeta>"));
    let mut bytes = b"RIFF".to_vec();
    bytes.extend_from_slice(&(body.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&body);
    bytes.extend_from_slice(b"trailing <html>");
    let (result, out) = run("picture.webp", &bytes, &InspectLimits::default());
    let inspected = result.unwrap();
    assert_eq!(inspected.facts.content_type, ContentType::Webp);
    assert!(inspected.metadata_removed);
    assert!(!contains(&out, b"EXIF") && !contains(&out, b"XMP ") && !contains(&out, b"GPS-SECRET") && !contains(&out, b"<html>"));
    assert_eq!(u32::from_le_bytes([out[4], out[5], out[6], out[7]]) as usize, out.len() - 8, "RIFF size fixed");
    assert_eq!(out[20], 0x10, "VP8X keeps its alpha flag and loses EXIF and XMP");
    assert_eq!(image::load_from_memory(&out).unwrap().to_rgba8(), rgba_halves());
    assert_eq!((inspected.facts.width, inspected.facts.height), (Some(64), Some(32)));
}

/// An animated GIF of `frames` frames with a comment, an XMP extension and a tail.
fn gif_with_metadata(frames: u32) -> Vec<u8> {
    let mut plain = Vec::new();
    {
        let mut encoder = image::codecs::gif::GifEncoder::new(&mut plain);
        encoder.set_repeat(image::codecs::gif::Repeat::Infinite).unwrap();
        for i in 0..frames {
            let colour = if i % 2 == 0 { Rgba([230, 20, 20, 255]) } else { Rgba([20, 20, 230, 255]) };
            let frame = image::Frame::from_parts(RgbaImage::from_pixel(40, 20, colour), 0, 0, image::Delay::from_numer_denom_ms(200, 1));
            encoder.encode_frame(frame).unwrap();
        }
    }
    // After the header, the screen descriptor and its global colour table, if any.
    let table = if plain[10] & 0x80 != 0 { 3 << ((plain[10] & 7) + 1) } else { 0 };
    let at = 13 + table;
    let mut bytes = plain[..at].to_vec();
    bytes.extend_from_slice(b"\x21\xFE\x0Ashot at me\x00");
    bytes.extend_from_slice(b"\x21\xFF\x0BXMP DataXMP\x0AGPS-SECRET\x00");
    bytes.extend_from_slice(&plain[at..]);
    bytes.extend_from_slice(b"PK\x03\x04 appended");
    bytes
}

#[test]
fn a_gif_keeps_its_frames_and_looping_and_loses_comments_xmp_and_its_tail() {
    let bytes = gif_with_metadata(3);
    let (result, out) = run("loop.gif", &bytes, &InspectLimits::default());
    let inspected = result.unwrap();
    assert_eq!(inspected.facts.content_type, ContentType::Gif);
    assert_eq!(inspected.facts.frames, Some(3));
    assert_eq!(inspected.facts.duration_ms, Some(600));
    assert_eq!((inspected.facts.width, inspected.facts.height), (Some(40), Some(20)));
    assert!(inspected.metadata_removed);
    assert!(!contains(&out, b"shot at me") && !contains(&out, b"XMP DataXMP") && !contains(&out, b"GPS-SECRET"));
    assert!(!contains(&out, b"PK\x03\x04"));
    assert!(contains(&out, b"NETSCAPE2.0"), "looping kept");
    assert_eq!(out.last(), Some(&0x3B));
    let thumbnail = decode_jpeg(inspected.thumbnail.as_deref().unwrap());
    assert!(is_red(*thumbnail.get_pixel(5, 5)), "the first frame");
    let (result, _) = run("long.gif", &bytes, &InspectLimits { max_gif_frames: 2, ..InspectLimits::default() });
    assert_eq!(result.unwrap_err().to_string(), "This GIF has more than 2 frames: shorten it");
}

#[test]
fn a_still_gif_has_one_frame_and_no_duration() {
    let (result, _) = run("still.gif", &gif_with_metadata(1), &InspectLimits::default());
    let facts = result.unwrap().facts;
    assert_eq!((facts.frames, facts.duration_ms), (Some(1), None));
}

/// ftyp, moov { mvhd, video trak, [audio trak], udta { ©xyz }, meta }, mdat.
fn mp4(turned: bool, with_video: bool) -> Vec<u8> {
    let ftyp = iso_box(b"ftyp", &[b"isom".as_slice(), &[0, 0, 2, 0], b"isomiso2avc1mp41"].concat());
    let mut mvhd = vec![0u8; 8];
    mvhd.extend_from_slice(&1000u32.to_be_bytes());
    mvhd.extend_from_slice(&12_345u32.to_be_bytes());
    mvhd.extend_from_slice(&[0u8; 80]);
    let mut location = vec![0, 19, 0x15, 0xC7]; // length, language
    location.extend_from_slice(b"+51.5074-000.1278/\0");
    let udta = iso_box(b"udta", &iso_box(b"\xA9xyz", &location));
    let meta = full_box(b"meta", 0, &iso_box(b"keys", b"com.apple.quicktime.location.ISO6709"));
    let mut moov = full_box(b"mvhd", 0, &mvhd);
    if with_video {
        moov.extend_from_slice(&track(b"vide", b"avc1", (1280, 720), turned, 30_000, 370, 1001));
    }
    moov.extend_from_slice(&track(b"soun", b"mp4a", (0, 0), false, 48_000, 580, 1024));
    moov.extend_from_slice(&udta);
    moov.extend_from_slice(&meta);
    let mdat = iso_box(b"mdat", &[0x42; 4096]);
    [ftyp, iso_box(b"moov", &moov), mdat].concat()
}

#[test]
fn an_mp4_gives_its_facts_and_loses_its_location_in_place() {
    let bytes = mp4(false, true);
    assert!(contains(&bytes, b"\xA9xyz") && contains(&bytes, b"+51.5074"));
    let (result, out) = run("clip.mp4", &bytes, &InspectLimits::default());
    let inspected = result.unwrap();
    let facts = &inspected.facts;
    assert_eq!(facts.content_type, ContentType::Mp4);
    assert_eq!(facts.duration_ms, Some(12_345));
    assert_eq!((facts.width, facts.height), (Some(1280), Some(720)));
    assert_eq!(facts.video_codec.as_deref(), Some("avc1"));
    assert_eq!(facts.audio_codec.as_deref(), Some("mp4a"));
    assert_eq!(facts.frame_rate_milli, Some(29_970));
    assert!(inspected.thumbnail.is_none());
    assert!(inspected.metadata_removed);
    assert_eq!(out.len(), bytes.len(), "same length: chunk offsets stay valid");
    assert!(!contains(&out, b"\xA9xyz") && !contains(&out, b"+51.5074") && !contains(&out, b"com.apple.quicktime.location"));
    assert!(!contains(&out, b"udta") && !contains(&out, b"meta"));
    // Everything but the blanked boxes is unchanged.
    let differing = bytes.iter().zip(&out).filter(|(a, b)| a != b).count();
    assert!(differing > 0 && differing < 120, "{differing}");
    assert!(out.ends_with(&[0x42; 4096]));
}

#[test]
fn a_turned_mp4_reports_its_displayed_size() {
    let (result, _) = run("portrait.mp4", &mp4(true, true), &InspectLimits::default());
    let facts = result.unwrap().facts;
    assert_eq!((facts.width, facts.height), (Some(720), Some(1280)));
}

#[test]
fn an_mp4_without_video_or_cut_short_is_refused() {
    let sound = refusal("song.mp4", &mp4(false, false));
    assert_eq!(sound.to_string(), "This MP4 has no video, only sound: Crier posts videos, so choose a video file");
    let bytes = mp4(false, true);
    let cut = refusal("cut.mp4", &bytes[..bytes.len() - 100]);
    assert!(matches!(cut, Refusal::Damaged { content_type: ContentType::Mp4, .. }), "{cut}");
}

#[test]
fn a_pdf_is_copied_as_is_with_its_pages_counted() {
    let bytes = pdf(3);
    let (result, out) = run("deck.pdf", &bytes, &InspectLimits::default());
    let inspected = result.unwrap();
    assert_eq!(inspected.facts.content_type, ContentType::Pdf);
    assert_eq!(inspected.facts.kind(), MediaKind::Document);
    assert_eq!(inspected.facts.pages, Some(3));
    assert_eq!(out, bytes);
    assert!(!inspected.metadata_removed && inspected.thumbnail.is_none());
    let cut = refusal("cut.pdf", &bytes[..bytes.len() - 30]);
    assert_eq!(
        cut.to_string(),
        "This file starts like a PDF but is damaged (it has no end-of-file trailer; it may be cut short): export or save it again"
    );
}

#[test]
fn the_fixture_video_reads_back_as_specified_and_streams_to_a_file_byte_for_byte() {
    let spec = VideoSpec { width: 1920, height: 1080, duration_ms: 150_000, codec: *b"hvc1", data_bytes: 3 << 20, with_location: true };
    let bytes = crier_media::fixtures::mp4(&spec);
    let dir = Dir::new("fixture-video");
    let written = dir.0.join("written.mp4");
    assert_eq!(crier_media::fixtures::write_mp4(&written, &spec).unwrap(), bytes.len() as u64);
    assert_eq!(std::fs::read(&written).unwrap(), bytes);
    let (result, out) = run("fixture.mp4", &bytes, &InspectLimits::default());
    let facts = result.unwrap().facts;
    assert_eq!((facts.width, facts.height, facts.duration_ms), (Some(1920), Some(1080), Some(150_000)));
    assert_eq!(facts.video_codec.as_deref(), Some("hvc1"));
    assert!(!contains(&out, b"+51.5074"));
    let photo = crier_media::fixtures::photo(300, 200, 6, 1);
    assert!(contains(&photo, crier_media::fixtures::GPS_SECRET));
    let (result, out) = run("fixture.jpg", &photo, &InspectLimits::default());
    let facts = result.unwrap().facts;
    assert_eq!((facts.width, facts.height), (Some(200), Some(300)), "turned upright");
    assert!(!contains(&out, crier_media::fixtures::GPS_SECRET));
}
