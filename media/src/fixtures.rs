//! Media files built from nothing, for tests, the browser tests and `crier bench`: real bytes of
//! each accepted kind (and of refused ones), with the metadata Crier must strip (EXIF with a GPS
//! position, comments, MP4 location boxes) and the facts the platforms' rules look at (dimensions,
//! durations, codecs) under the caller's control. A large video is written to a file in chunks,
//! never held in memory. Not for production paths: only tests and benchmarks call this.

use std::io::Write;
use std::path::Path;

use image::{ImageEncoder, Rgb, RgbImage, RgbaImage};

/// What [`exif_with_gps`] hides in the GPS block: a test finds it in the input and must not find
/// it in what is published.
pub const GPS_SECRET: &[u8] = b"GPS-SECRET";

/// A picture with some detail (so it compresses like a photo, not like a flat colour).
pub fn picture(width: u32, height: u32, seed: u8) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        let r = (x * 255 / width.max(1)) as u8;
        let g = (y * 255 / height.max(1)) as u8;
        Rgb([r ^ seed, g, (x ^ y) as u8 ^ seed.wrapping_mul(7)])
    })
}

/// A photo as a phone takes it: a JPEG with EXIF (a GPS position, `orientation`) and a comment.
pub fn photo(width: u32, height: u32, orientation: u16, seed: u8) -> Vec<u8> {
    jpeg_with_exif(&picture(width, height, seed), orientation)
}

/// A PNG of `width` × `height`.
pub fn png(width: u32, height: u32, seed: u8) -> Vec<u8> {
    let picture = RgbaImage::from_fn(width, height, |x, y| image::Rgba([(x as u8) ^ seed, y as u8, 128, 255]));
    let mut bytes = Vec::new();
    image::codecs::png::PngEncoder::new(&mut bytes)
        .write_image(picture.as_raw(), width, height, image::ExtendedColorType::Rgba8)
        .expect("PNG encodes");
    bytes
}

/// An animated GIF of `frames` frames, `delay_ms` each, looping.
pub fn gif(width: u32, height: u32, frames: u32, delay_ms: u32) -> Vec<u8> {
    let mut bytes = Vec::new();
    {
        let mut encoder = image::codecs::gif::GifEncoder::new(&mut bytes);
        encoder.set_repeat(image::codecs::gif::Repeat::Infinite).expect("GIF repeat");
        for i in 0..frames {
            let shade = if i % 2 == 0 { image::Rgba([230, 20, 20, 255]) } else { image::Rgba([20, 20, 230, 255]) };
            let frame =
                image::Frame::from_parts(RgbaImage::from_pixel(width, height, shade), 0, 0, image::Delay::from_numer_denom_ms(delay_ms, 1));
            encoder.encode_frame(frame).expect("GIF frame encodes");
        }
    }
    bytes
}

/// What a video made by [`write_mp4`] says about itself.
#[derive(Clone, Debug)]
pub struct VideoSpec {
    /// Pixels across.
    pub width: u16,
    /// Pixels down.
    pub height: u16,
    /// How long it lasts.
    pub duration_ms: u32,
    /// The video codec's sample entry ("avc1" for H.264, "hvc1" for HEVC).
    pub codec: [u8; 4],
    /// The size of its media data (the rest of the file is a few hundred bytes).
    pub data_bytes: u64,
    /// Whether it carries a location (`udta/©xyz`), as phone videos do.
    pub with_location: bool,
}

impl Default for VideoSpec {
    /// A 10-second 1280×720 H.264 video of about 1 MB, with a location.
    fn default() -> Self {
        VideoSpec { width: 1280, height: 720, duration_ms: 10_000, codec: *b"avc1", data_bytes: 1_000_000, with_location: true }
    }
}

/// The MP4's boxes before its media data, and the `mdat` header.
fn mp4_head(spec: &VideoSpec) -> Vec<u8> {
    let ftyp = iso_box(b"ftyp", &[b"isom".as_slice(), &[0, 0, 2, 0], b"isomiso2avc1mp41"].concat());
    let mut mvhd = vec![0u8; 8];
    mvhd.extend_from_slice(&1000u32.to_be_bytes());
    mvhd.extend_from_slice(&spec.duration_ms.to_be_bytes());
    mvhd.extend_from_slice(&[0u8; 80]);
    let mut moov = full_box(b"mvhd", 0, &mvhd);
    // 30 frames a second: 1,000 ticks each at a timescale of 30,000.
    let frames = (spec.duration_ms as u64 * 30 / 1000).max(1) as u32;
    moov.extend_from_slice(&track(b"vide", &spec.codec, (spec.width, spec.height), false, 30_000, frames, 1000));
    let audio_frames = (spec.duration_ms as u64 * 48 / 1024).max(1) as u32;
    moov.extend_from_slice(&track(b"soun", b"mp4a", (0, 0), false, 48_000, audio_frames, 1024));
    if spec.with_location {
        let mut location = vec![0, 19, 0x15, 0xC7];
        location.extend_from_slice(b"+51.5074-000.1278/\0");
        moov.extend_from_slice(&iso_box(b"udta", &iso_box(b"\xA9xyz", &location)));
    }
    let mut head = [ftyp, iso_box(b"moov", &moov)].concat();
    // A 64-bit mdat header, so a file of any size can be described.
    head.extend_from_slice(&1u32.to_be_bytes());
    head.extend_from_slice(b"mdat");
    head.extend_from_slice(&(spec.data_bytes + 16).to_be_bytes());
    head
}

/// The byte at `offset` of a video's media data: deterministic, so two copies compare equal.
fn data_byte(offset: u64) -> u8 {
    (offset.wrapping_mul(2_654_435_761) >> 13) as u8
}

/// A video in memory (small ones only).
pub fn mp4(spec: &VideoSpec) -> Vec<u8> {
    let mut bytes = mp4_head(spec);
    bytes.extend((0..spec.data_bytes).map(data_byte));
    bytes
}

/// Writes a video of any size to `path` in 1 MiB pieces; returns its size.
pub fn write_mp4(path: &Path, spec: &VideoSpec) -> std::io::Result<u64> {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    let head = mp4_head(spec);
    file.write_all(&head)?;
    let mut piece = vec![0u8; 1 << 20];
    let mut offset = 0u64;
    while offset < spec.data_bytes {
        let n = (spec.data_bytes - offset).min(piece.len() as u64) as usize;
        for (i, byte) in piece[..n].iter_mut().enumerate() {
            *byte = data_byte(offset + i as u64);
        }
        file.write_all(&piece[..n])?;
        offset += n as u64;
    }
    file.flush()?;
    Ok(head.len() as u64 + spec.data_bytes)
}

/// An SVG (refused: it can carry scripts).
pub fn svg() -> Vec<u8> {
    b"<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>".to_vec()
}

/// A page of HTML, as someone might name it `photo.jpg`.
pub fn html() -> Vec<u8> {
    b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>".to_vec()
}

/// A baseline JPEG of `picture` (quality 90).
pub fn jpeg(picture: &RgbImage) -> Vec<u8> {
    let mut bytes = Vec::new();
    jpeg_encoder::Encoder::new(&mut bytes, 90)
        .encode(picture.as_raw(), picture.width() as u16, picture.height() as u16, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    bytes
}

/// EXIF (little-endian TIFF) with IFD0 {Orientation, GPSInfo} and a GPS IFD holding a latitude
/// and a processing method that says GPS-SECRET.
pub fn exif_with_gps(orientation: u16) -> Vec<u8> {
    let mut tiff = Vec::new();
    tiff.extend_from_slice(b"II*\0");
    tiff.extend_from_slice(&8u32.to_le_bytes());
    // IFD0 at 8: 2 entries (2 + 24 + 4 = 30 bytes), GPS IFD at 38.
    tiff.extend_from_slice(&2u16.to_le_bytes());
    tiff.extend_from_slice(&[0x12, 0x01, 3, 0, 1, 0, 0, 0]);
    tiff.extend_from_slice(&orientation.to_le_bytes());
    tiff.extend_from_slice(&[0, 0]);
    tiff.extend_from_slice(&[0x25, 0x88, 4, 0, 1, 0, 0, 0]);
    tiff.extend_from_slice(&38u32.to_le_bytes());
    tiff.extend_from_slice(&0u32.to_le_bytes());
    // GPS IFD at 38: 3 entries (2 + 36 + 4 = 42 bytes): data from 80.
    tiff.extend_from_slice(&3u16.to_le_bytes());
    tiff.extend_from_slice(&[0x01, 0x00, 2, 0, 2, 0, 0, 0, b'N', 0, 0, 0]); // GPSLatitudeRef "N"
    tiff.extend_from_slice(&[0x02, 0x00, 5, 0, 3, 0, 0, 0]); // GPSLatitude, 3 rationals at 80
    tiff.extend_from_slice(&80u32.to_le_bytes());
    let method = b"ASCII\0\0\0GPS-SECRET";
    tiff.extend_from_slice(&[0x1B, 0x00, 7, 0]); // GPSProcessingMethod, UNDEFINED, at 104
    tiff.extend_from_slice(&(method.len() as u32).to_le_bytes());
    tiff.extend_from_slice(&104u32.to_le_bytes());
    tiff.extend_from_slice(&0u32.to_le_bytes());
    assert_eq!(tiff.len(), 80);
    for value in [51u32, 1, 30, 1, 26, 1] {
        tiff.extend_from_slice(&value.to_le_bytes());
    }
    tiff.extend_from_slice(method);
    let mut payload = b"Exif\0\0".to_vec();
    payload.extend_from_slice(&tiff);
    payload
}

/// A JPEG with an APP1 EXIF segment (GPS, `orientation`) and a comment right after SOI.
pub fn jpeg_with_exif(picture: &RgbImage, orientation: u16) -> Vec<u8> {
    let plain = jpeg(picture);
    let payload = exif_with_gps(orientation);
    let mut bytes = plain[..2].to_vec();
    bytes.extend_from_slice(&[0xFF, 0xE1]);
    bytes.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    bytes.extend_from_slice(&payload);
    let comment = b"shot at home";
    bytes.extend_from_slice(&[0xFF, 0xFE]);
    bytes.extend_from_slice(&((comment.len() + 2) as u16).to_be_bytes());
    bytes.extend_from_slice(comment);
    bytes.extend_from_slice(&plain[2..]);
    bytes
}

/// CRC-32 as PNG computes it.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// A PNG chunk with its length and CRC.
pub fn png_chunk(name: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
    chunk.extend_from_slice(name);
    chunk.extend_from_slice(data);
    chunk.extend_from_slice(&crc32(&[name.as_slice(), data].concat()).to_be_bytes());
    chunk
}

/// An ISO BMFF (MP4) box.
pub fn iso_box(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut item = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    item.extend_from_slice(kind);
    item.extend_from_slice(body);
    item
}

/// An ISO BMFF full box (version and flags first).
pub fn full_box(kind: &[u8; 4], version: u8, body: &[u8]) -> Vec<u8> {
    iso_box(kind, &[&[version, 0, 0, 0], body].concat())
}

/// A track's display matrix: upright, or turned a quarter (a portrait phone video).
pub fn matrix(turned: bool) -> Vec<u8> {
    let one = 0x0001_0000u32.to_be_bytes();
    let zero = [0u8; 4];
    let w = 0x4000_0000u32.to_be_bytes();
    let minus_one = (-0x0001_0000i32).to_be_bytes();
    let values: [[u8; 4]; 9] =
        if turned { [zero, one, zero, minus_one, zero, zero, zero, zero, w] } else { [one, zero, zero, zero, one, zero, zero, zero, w] };
    values.concat()
}

/// A track: tkhd, mdia { mdhd, hdlr, minf { stbl { stsd, stts } } }.
pub fn track(handler: &[u8; 4], codec: &[u8; 4], size: (u16, u16), turned: bool, timescale: u32, samples: u32, delta: u32) -> Vec<u8> {
    let mut tkhd = vec![0u8; 20]; // creation, modification, id, reserved, duration
    tkhd.extend_from_slice(&[0u8; 16]); // reserved, layer, group, volume, reserved
    tkhd.extend_from_slice(&matrix(turned));
    tkhd.extend_from_slice(&(u32::from(size.0) << 16).to_be_bytes());
    tkhd.extend_from_slice(&(u32::from(size.1) << 16).to_be_bytes());
    let mut mdhd = vec![0u8; 8];
    mdhd.extend_from_slice(&timescale.to_be_bytes());
    mdhd.extend_from_slice(&(samples * delta).to_be_bytes());
    mdhd.extend_from_slice(&[0x55, 0xC4, 0, 0]);
    let mut hdlr = vec![0u8; 4];
    hdlr.extend_from_slice(handler);
    hdlr.extend_from_slice(&[0u8; 13]);
    let mut entry = vec![0u8; 6];
    entry.extend_from_slice(&1u16.to_be_bytes());
    entry.extend_from_slice(&[0u8; 16]);
    entry.extend_from_slice(&size.0.to_be_bytes());
    entry.extend_from_slice(&size.1.to_be_bytes());
    entry.extend_from_slice(&[0u8; 50]);
    let stsd = full_box(b"stsd", 0, &[1u32.to_be_bytes().as_slice(), &iso_box(codec, &entry)].concat());
    let stts = full_box(b"stts", 0, &[1u32.to_be_bytes(), samples.to_be_bytes(), delta.to_be_bytes()].concat());
    let stbl = iso_box(b"stbl", &[stsd, stts].concat());
    let minf = iso_box(b"minf", &stbl);
    let mdia = iso_box(b"mdia", &[full_box(b"mdhd", 0, &mdhd), full_box(b"hdlr", 0, &hdlr), minf].concat());
    iso_box(b"trak", &[full_box(b"tkhd", 0, &tkhd), mdia].concat())
}

/// A PDF of `pages` empty pages, its page tree readable.
pub fn pdf(pages: u32) -> Vec<u8> {
    let mut pdf = b"%PDF-1.4\n".to_vec();
    pdf.extend_from_slice(b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n");
    let kids: Vec<String> = (0..pages).map(|i| format!("{} 0 R", i + 3)).collect();
    pdf.extend_from_slice(format!("2 0 obj\n<< /Type /Pages /Kids [{}] /Count {pages} >>\nendobj\n", kids.join(" ")).as_bytes());
    for i in 0..pages {
        pdf.extend_from_slice(format!("{} 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>\nendobj\n", i + 3).as_bytes());
    }
    pdf.extend_from_slice(b"xref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size 1 /Root 1 0 R >>\nstartxref\n9\n%%EOF\n");
    pdf
}
