//! JPEG: metadata stripped losslessly segment by segment, checked and thumbnailed by a scaled
//! decode, and re-encoded only to apply an EXIF orientation.
//!
//! The strip keeps APP0 (JFIF, its embedded thumbnail dropped: it may show the picture before a
//! crop), APP2 only when it is an ICC profile (APP2 also carries MPF, the index of pictures
//! appended after EOI), APP14 (Adobe's colour transform, needed to decode CMYK) and every
//! non-APP segment; it drops APP1 (EXIF with its GPS IFD, XMP), APP13 (IPTC), COM and the other
//! APPn, and everything after EOI.
//!
//! A photo with EXIF orientation 2–8 is shown rotated by every browser; with the EXIF gone it
//! must be rotated in the pixels: it is decoded at full size and re-encoded
//! ([`InspectLimits::jpeg_quality`]), streaming the rotated rows to the encoder. When that decode
//! would need more than [`InspectLimits::max_decode_bytes`] (about 14 megapixels for a progressive
//! JPEG, 14–20 for a baseline one at the default 64 MiB), the lossless strip is kept instead and
//! a new, minimal EXIF segment holding only the orientation tag is written: the picture still
//! shows upright, and nothing else of the original EXIF survives.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Seek, Write};

use image::metadata::Orientation;
use image::{DynamicImage, GrayImage, RgbImage};
use jpeg_decoder::PixelFormat;

use super::picture::{self, check_decode, check_pixels};
use super::{InspectLimits, Output, Reading, Refusal, damaged, invalid, read_error, unreadable};
use crate::{ContentType, MediaFacts};

const JPEG: ContentType = ContentType::Jpeg;

pub(super) fn inspect(mut file: File, out: &mut Output, limits: &InspectLimits) -> Result<Reading, Refusal> {
    let header = strip(&mut BufReader::new(&file), &mut io::sink(), None).map_err(read_error(JPEG))?;
    let (width, height) = (u32::from(header.width), u32::from(header.height));
    if width == 0 || height == 0 {
        return Err(damaged(JPEG, "it has no picture size"));
    }
    check_pixels(width, height, limits)?;
    let orientation = Orientation::from_exif(header.orientation as u8).unwrap_or(Orientation::NoTransforms);
    let turned = header.orientation != 1 && orientation != Orientation::NoTransforms;
    let full = header.decode_bytes(8);
    let rotate_in_pixels = turned && full <= limits.max_decode_bytes;

    file.rewind().map_err(unreadable)?;
    let mut decoder = jpeg_decoder::Decoder::new(BufReader::new(&file));
    decoder.set_max_decoding_buffer_size(usize::try_from(limits.max_decode_bytes).unwrap_or(usize::MAX));
    if !rotate_in_pixels {
        let side = u16::try_from(limits.thumbnail_side.max(1)).unwrap_or(u16::MAX);
        let scale = header.thumbnail_scale(side);
        check_decode(width, height, header.decode_bytes(scale), limits)?;
        decoder.scale(side, side).map_err(undecodable)?;
    }
    let pixels = decoder.decode().map_err(undecodable)?;
    let info = decoder.info().ok_or_else(|| damaged(JPEG, "it has no frame"))?;
    let decoded = to_image(pixels, info.width.into(), info.height.into(), info.pixel_format)?;
    let thumbnail = picture::thumbnail(&decoded, orientation, limits)?;

    if rotate_in_pixels {
        let icc = decoder.icc_profile();
        encode_oriented(&decoded, header.orientation, icc, limits.jpeg_quality, out)?;
    } else {
        file.rewind().map_err(unreadable)?;
        let keep = turned.then_some(header.orientation);
        strip(&mut BufReader::new(&file), out, keep).map_err(read_error(JPEG))?;
    }
    let (width, height) = if header.orientation >= 5 && turned { (height, width) } else { (width, height) };
    let facts = MediaFacts { width: Some(width), height: Some(height), ..MediaFacts::new(JPEG, 0) };
    Ok(Reading { facts, thumbnail: Some(thumbnail), metadata_removed: header.removed || rotate_in_pixels })
}

fn undecodable(error: jpeg_decoder::Error) -> Refusal {
    damaged(JPEG, &format!("it does not decode: {error}"))
}

/// What the strip saw of a JPEG's structure.
#[derive(Default)]
struct Header {
    width: u16,
    height: u16,
    progressive: bool,
    /// Each component's horizontal and vertical sampling factors.
    sampling: Vec<(u8, u8)>,
    /// The EXIF orientation (1 when there is none).
    orientation: u16,
    /// Whether any segment or trailing data was dropped.
    removed: bool,
}

impl Header {
    /// The scale (in eighths) jpeg-decoder picks for a thumbnail of `side` pixels: the smallest
    /// that gives at least `side` on one axis.
    fn thumbnail_scale(&self, side: u16) -> u64 {
        let scaled = |len: u16, scale: u32| (u32::from(len) * scale).div_ceil(8);
        [1, 2, 4]
            .into_iter()
            .find(|&scale| scaled(self.width, scale) >= u32::from(side) || scaled(self.height, scale) >= u32::from(side))
            .map_or(8, u64::from)
    }

    /// The memory jpeg-decoder needs at a scale of `scale` eighths: each component's plane, the
    /// output, and for a progressive JPEG every DCT coefficient (16 bits each) at full size.
    fn decode_bytes(&self, scale: u64) -> u64 {
        let h_max = u64::from(self.sampling.iter().map(|s| s.0).max().unwrap_or(1).max(1));
        let v_max = u64::from(self.sampling.iter().map(|s| s.1).max().unwrap_or(1).max(1));
        let (width, height) = (u64::from(self.width), u64::from(self.height));
        let mcu_columns = width.div_ceil(8 * h_max);
        let mcu_rows = height.div_ceil(8 * v_max);
        let blocks: u64 = self.sampling.iter().map(|&(h, v)| mcu_columns * u64::from(h) * mcu_rows * u64::from(v)).sum();
        let planes = blocks * scale * scale;
        let coefficients = if self.progressive { blocks * 64 * 2 } else { 0 };
        let channels = match self.sampling.len() {
            1 => 1,
            4 => 4,
            _ => 3,
        };
        let output = (width * scale).div_ceil(8) * (height * scale).div_ceil(8) * channels;
        planes + coefficients + output
    }
}

/// Copies the JPEG from `reader` to `out` without its metadata segments and anything after EOI,
/// reading its structure on the way. With `orientation`, a minimal EXIF segment holding only that
/// orientation is written after APP0.
fn strip(reader: &mut impl BufRead, out: &mut impl Write, orientation: Option<u16>) -> io::Result<Header> {
    let mut soi = [0u8; 2];
    reader.read_exact(&mut soi)?;
    if soi != [0xFF, 0xD8] {
        return Err(invalid("it has no start-of-image marker"));
    }
    out.write_all(&soi)?;
    let mut header = Header { orientation: 1, ..Header::default() };
    let mut orientation = orientation;
    let mut pending = None;
    loop {
        let marker = match pending.take() {
            Some(marker) => marker,
            None => next_marker(reader)?,
        };
        if marker != 0xE0
            && let Some(value) = orientation.take()
        {
            write_orientation(out, value)?;
        }
        match marker {
            0xD9 => {
                out.write_all(&[0xFF, 0xD9])?;
                break;
            }
            0xD8 => return Err(invalid("it has a second start-of-image marker")),
            0xD0..=0xD7 | 0x01 => out.write_all(&[0xFF, marker])?,
            _ => {
                let mut length = [0u8; 2];
                reader.read_exact(&mut length)?;
                let length = usize::from(u16::from_be_bytes(length));
                if length < 2 {
                    return Err(invalid("a segment has a wrong length"));
                }
                let mut payload = vec![0u8; length - 2];
                reader.read_exact(&mut payload)?;
                match marker {
                    0xE0 if payload.starts_with(b"JFIF\0") && payload.len() >= 14 => {
                        // JFIF without its thumbnail: version, units and density, then 0×0.
                        out.write_all(&[0xFF, 0xE0, 0, 16])?;
                        out.write_all(&payload[..12])?;
                        out.write_all(&[0, 0])?;
                        header.removed |= payload.len() > 14;
                    }
                    0xE1 => {
                        if let Some(tiff) = payload.strip_prefix(b"Exif\0\0") {
                            header.orientation = exif_orientation(tiff).filter(|o| (1..=8).contains(o)).unwrap_or(1);
                        }
                        header.removed = true;
                    }
                    0xE2 if payload.starts_with(b"ICC_PROFILE\0") => segment(out, marker, &payload)?,
                    0xEE if payload.starts_with(b"Adobe") => segment(out, marker, &payload)?,
                    0xE0..=0xEF | 0xFE => header.removed = true,
                    _ => {
                        if matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
                            read_frame(&mut header, marker, &payload)?;
                        }
                        segment(out, marker, &payload)?;
                        if marker == 0xDA {
                            pending = Some(copy_entropy_coded(reader, out)?);
                        }
                    }
                }
            }
        }
    }
    header.removed |= !reader.fill_buf()?.is_empty();
    Ok(header)
}

fn segment(out: &mut impl Write, marker: u8, payload: &[u8]) -> io::Result<()> {
    let length = u16::try_from(payload.len() + 2).map_err(|_| invalid("a segment is too long"))?;
    out.write_all(&[0xFF, marker])?;
    out.write_all(&length.to_be_bytes())?;
    out.write_all(payload)
}

fn read_frame(header: &mut Header, marker: u8, payload: &[u8]) -> io::Result<()> {
    if header.width != 0 {
        return Err(invalid("it has two frames"));
    }
    let [_precision, h0, h1, w0, w1, count, components @ ..] = payload else {
        return Err(invalid("its frame header is cut short"));
    };
    header.height = u16::from_be_bytes([*h0, *h1]);
    header.width = u16::from_be_bytes([*w0, *w1]);
    header.progressive = matches!(marker, 0xC2 | 0xC6 | 0xCA | 0xCE);
    let components = components.get(..usize::from(*count) * 3).ok_or_else(|| invalid("its frame header is cut short"))?;
    header.sampling = components.chunks_exact(3).map(|c| (c[1] >> 4, c[1] & 0x0F)).collect();
    Ok(())
}

/// Reads the next marker: 0xFF, any fill bytes, and the marker byte.
fn next_marker(reader: &mut impl BufRead) -> io::Result<u8> {
    if read_u8(reader)? != 0xFF {
        return Err(invalid("a segment does not start with a marker"));
    }
    let mut marker = read_u8(reader)?;
    while marker == 0xFF {
        marker = read_u8(reader)?;
    }
    Ok(marker)
}

fn read_u8(reader: &mut impl BufRead) -> io::Result<u8> {
    let mut byte = [0u8];
    reader.read_exact(&mut byte)?;
    Ok(byte[0])
}

/// Copies a scan's entropy-coded data (where 0xFF is followed by 0x00 or a restart marker) and
/// returns the marker that ends it.
fn copy_entropy_coded(reader: &mut impl BufRead, out: &mut impl Write) -> io::Result<u8> {
    loop {
        let buffer = reader.fill_buf()?;
        if buffer.is_empty() {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let Some(at) = buffer.iter().position(|&byte| byte == 0xFF) else {
            out.write_all(buffer)?;
            let length = buffer.len();
            reader.consume(length);
            continue;
        };
        out.write_all(&buffer[..at])?;
        reader.consume(at + 1);
        let mut next = read_u8(reader)?;
        while next == 0xFF {
            next = read_u8(reader)?;
        }
        match next {
            0x00 | 0xD0..=0xD7 => out.write_all(&[0xFF, next])?,
            marker => return Ok(marker),
        }
    }
}

/// The Orientation tag (0x0112) of IFD0 in EXIF's TIFF structure.
pub(super) fn exif_orientation(tiff: &[u8]) -> Option<u16> {
    let big_endian = match tiff.get(..4)? {
        b"MM\0*" => true,
        b"II*\0" => false,
        _ => return None,
    };
    let u16_at = |at: usize| {
        let bytes = [*tiff.get(at)?, *tiff.get(at + 1)?];
        Some(if big_endian { u16::from_be_bytes(bytes) } else { u16::from_le_bytes(bytes) })
    };
    let u32_at = |at: usize| {
        let bytes = [*tiff.get(at)?, *tiff.get(at + 1)?, *tiff.get(at + 2)?, *tiff.get(at + 3)?];
        Some(if big_endian { u32::from_be_bytes(bytes) } else { u32::from_le_bytes(bytes) })
    };
    let ifd = usize::try_from(u32_at(4)?).ok()?;
    (0..usize::from(u16_at(ifd)?))
        .map(|i| ifd + 2 + i * 12)
        .find(|&entry| u16_at(entry) == Some(0x0112))
        .and_then(|entry| u16_at(entry + 8))
}

/// An APP1 EXIF segment holding only IFD0's Orientation tag (big-endian TIFF).
fn write_orientation(out: &mut impl Write, orientation: u16) -> io::Result<()> {
    let mut payload = Vec::with_capacity(32);
    payload.extend_from_slice(b"Exif\0\0MM\0*\0\0\0\x08"); // TIFF header, IFD0 at 8
    payload.extend_from_slice(&1u16.to_be_bytes()); // one entry
    payload.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1]); // Orientation, SHORT, count 1
    payload.extend_from_slice(&orientation.to_be_bytes());
    payload.extend_from_slice(&[0, 0, 0, 0, 0, 0]); // value padding, no next IFD
    segment(out, 0xE1, &payload)
}

/// jpeg-decoder's pixels as an image (CMYK converted to RGB in place; 12-bit grey to 8).
fn to_image(mut pixels: Vec<u8>, width: u32, height: u32, format: PixelFormat) -> Result<DynamicImage, Refusal> {
    let image = match format {
        PixelFormat::L8 => GrayImage::from_raw(width, height, pixels).map(DynamicImage::ImageLuma8),
        PixelFormat::L16 => {
            let grey = pixels.chunks_exact(2).map(|pair| pair[0]).collect();
            GrayImage::from_raw(width, height, grey).map(DynamicImage::ImageLuma8)
        }
        PixelFormat::RGB24 => RgbImage::from_raw(width, height, pixels).map(DynamicImage::ImageRgb8),
        PixelFormat::CMYK32 => {
            // Adobe's CMYK JPEGs store inverted inks: each channel times K is the RGB value.
            let count = pixels.len() / 4;
            for i in 0..count {
                let k = u16::from(pixels[i * 4 + 3]);
                for channel in 0..3 {
                    pixels[i * 3 + channel] = (u16::from(pixels[i * 4 + channel]) * k / 255) as u8;
                }
            }
            pixels.truncate(count * 3);
            RgbImage::from_raw(width, height, pixels).map(DynamicImage::ImageRgb8)
        }
    };
    image.ok_or_else(|| damaged(JPEG, "its pixels do not match its size"))
}

/// Encodes `picture` turned by EXIF `orientation`, giving the encoder rotated rows from the
/// decoded pixels (no second copy of the picture).
fn encode_oriented(picture: &DynamicImage, orientation: u16, icc: Option<Vec<u8>>, quality: u8, out: &mut Output) -> Result<(), Refusal> {
    let channels = usize::from(picture.color().channel_count());
    let view =
        Oriented { pixels: picture.as_bytes(), width: picture.width() as usize, height: picture.height() as usize, channels, orientation };
    picture::dimension(picture.width())?;
    picture::dimension(picture.height())?;
    let mut encoder = jpeg_encoder::Encoder::new(out, quality.clamp(1, 100));
    if let Some(icc) = icc {
        encoder.add_icc_profile(&icc).map_err(|error| Refusal::Unreadable { detail: error.to_string() })?;
    }
    encoder.encode_image(view).map_err(|error| Refusal::Unreadable { detail: error.to_string() })
}

/// Decoded pixels seen through an EXIF orientation.
struct Oriented<'a> {
    pixels: &'a [u8],
    width: usize,
    height: usize,
    channels: usize,
    orientation: u16,
}

impl jpeg_encoder::ImageBuffer for Oriented<'_> {
    fn get_jpeg_color_type(&self) -> jpeg_encoder::JpegColorType {
        if self.channels == 1 { jpeg_encoder::JpegColorType::Luma } else { jpeg_encoder::JpegColorType::Ycbcr }
    }

    fn width(&self) -> u16 {
        (if self.orientation >= 5 { self.height } else { self.width }) as u16
    }

    fn height(&self) -> u16 {
        (if self.orientation >= 5 { self.width } else { self.height }) as u16
    }

    fn fill_buffers(&self, y: u16, buffers: &mut [Vec<u8>; 4]) {
        let (w, h, y) = (self.width, self.height, usize::from(y));
        for x in 0..usize::from(self.width()) {
            // The source pixel shown at (x, y) once the orientation is applied.
            let (sx, sy) = match self.orientation {
                2 => (w - 1 - x, y),
                3 => (w - 1 - x, h - 1 - y),
                4 => (x, h - 1 - y),
                5 => (y, x),
                6 => (y, h - 1 - x),
                7 => (w - 1 - y, h - 1 - x),
                8 => (w - 1 - y, x),
                _ => (x, y),
            };
            let at = (sy * w + sx) * self.channels;
            if self.channels == 1 {
                buffers[0].push(self.pixels[at]);
            } else {
                let (luma, cb, cr) = jpeg_encoder::rgb_to_ycbcr(self.pixels[at], self.pixels[at + 1], self.pixels[at + 2]);
                buffers[0].push(luma);
                buffers[1].push(cb);
                buffers[2].push(cr);
            }
        }
    }
}
