//! GIF: blocks copied up to the trailer without comments and application extensions other than
//! looping and colour; frames counted and timed as they stream by, then decoded one at a time
//! to check them and thumbnail the first.
//!
//! Kept: image descriptors with their data, graphic control extensions (timing, transparency),
//! plain-text extensions (part of the picture), NETSCAPE2.0 and ANIMEXTS1.0 (looping) and
//! ICCRGBG1012 (a colour profile). Dropped: comment extensions, XMP (`XMP DataXMP`) and every
//! other application extension, and anything after the trailer.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, Write};

use image::codecs::gif::GifDecoder;
use image::metadata::Orientation;
use image::{AnimationDecoder, DynamicImage, ImageDecoder};

use super::picture::{self, check_decode, check_pixels};
use super::{InspectLimits, Output, Reading, Refusal, copy_exact, damaged, invalid, read_error, unreadable};
use crate::{ContentType, MediaFacts};

const GIF: ContentType = ContentType::Gif;

const KEPT_APPLICATIONS: [&[u8; 11]; 3] = [b"NETSCAPE2.0", b"ANIMEXTS1.0", b"ICCRGBG1012"];

pub(super) fn inspect(mut file: File, out: &mut Output, limits: &InspectLimits) -> Result<Reading, Refusal> {
    let structure = strip(&mut BufReader::new(&file), out, limits.max_gif_frames).map_err(read_error(GIF))?;
    let Some(frames) = structure.frames else {
        return Err(Refusal::TooManyFrames { max: limits.max_gif_frames });
    };
    if frames == 0 {
        return Err(damaged(GIF, "it has no picture"));
    }
    file.rewind().map_err(unreadable)?;
    let mut decoder = GifDecoder::new(BufReader::new(&file)).map_err(|error| damaged(GIF, &error.to_string()))?;
    let (width, height) = decoder.dimensions();
    check_pixels(width, height, limits)?;
    // The canvas, the frame being composed and the previous one kept for disposal.
    check_decode(width, height, decoder.total_bytes() * 3, limits)?;
    decoder.set_limits(picture::image_limits(limits)).map_err(|error| damaged(GIF, &error.to_string()))?;
    let mut thumbnail = None;
    for frame in decoder.into_frames() {
        let frame = frame.map_err(|error| damaged(GIF, &format!("a frame does not decode: {error}")))?;
        if thumbnail.is_none() {
            let first = DynamicImage::ImageRgba8(frame.into_buffer());
            thumbnail = Some(picture::thumbnail(&first, Orientation::NoTransforms, limits)?);
        }
    }
    let facts = MediaFacts {
        width: Some(width),
        height: Some(height),
        frames: Some(frames),
        duration_ms: (frames > 1).then_some(structure.duration_ms),
        ..MediaFacts::new(GIF, 0)
    };
    Ok(Reading { facts, thumbnail, metadata_removed: structure.removed })
}

struct Structure {
    /// The number of frames (`None`: more than the limit).
    frames: Option<u32>,
    /// The frames' delays added up, as browsers play them (a delay under 20 ms plays as 100 ms).
    duration_ms: u64,
    removed: bool,
}

fn strip(reader: &mut impl BufRead, out: &mut impl Write, max_frames: u32) -> io::Result<Structure> {
    // Header and logical screen descriptor.
    let mut screen = [0u8; 13];
    reader.read_exact(&mut screen)?;
    out.write_all(&screen)?;
    copy_color_table(reader, out, screen[10])?;
    let mut structure = Structure { frames: Some(0), duration_ms: 0, removed: false };
    loop {
        match read_u8(reader)? {
            0x2C => {
                let mut descriptor = [0u8; 10];
                descriptor[0] = 0x2C;
                reader.read_exact(&mut descriptor[1..])?;
                out.write_all(&descriptor)?;
                copy_color_table(reader, out, descriptor[9])?;
                let minimum_code_size = read_u8(reader)?;
                out.write_all(&[minimum_code_size])?;
                sub_blocks(reader, out)?;
                structure.frames = structure.frames.map(|n| n + 1).filter(|&n| n <= max_frames);
                if structure.frames.is_none() {
                    return Ok(structure);
                }
            }
            0x21 => {
                let label = read_u8(reader)?;
                match label {
                    0xF9 => {
                        // Block size (4), packed fields, delay in centiseconds, transparent index.
                        let mut control = [0u8; 5];
                        reader.read_exact(&mut control)?;
                        let centiseconds = u64::from(u16::from_le_bytes([control[2], control[3]]));
                        structure.duration_ms += if centiseconds < 2 { 100 } else { centiseconds * 10 };
                        out.write_all(&[0x21, 0xF9])?;
                        out.write_all(&control)?;
                        copy_exact(reader, out, u64::from(control[0].saturating_sub(4)))?;
                        sub_blocks(reader, out)?;
                    }
                    0x01 => {
                        out.write_all(&[0x21, 0x01])?;
                        sub_blocks(reader, out)?;
                    }
                    0xFF => {
                        let size = read_u8(reader)?;
                        let mut identifier = vec![0u8; usize::from(size)];
                        reader.read_exact(&mut identifier)?;
                        if KEPT_APPLICATIONS.iter().any(|kept| identifier == kept.as_slice()) {
                            out.write_all(&[0x21, 0xFF, size])?;
                            out.write_all(&identifier)?;
                            sub_blocks(reader, out)?;
                        } else {
                            structure.removed = true;
                            sub_blocks(reader, &mut io::sink())?;
                        }
                    }
                    _ => {
                        structure.removed = true;
                        sub_blocks(reader, &mut io::sink())?;
                    }
                }
            }
            0x3B => {
                out.write_all(&[0x3B])?;
                break;
            }
            _ => return Err(invalid("it has a block of an unknown kind")),
        }
    }
    structure.removed |= !reader.fill_buf()?.is_empty();
    Ok(structure)
}

fn read_u8(reader: &mut impl Read) -> io::Result<u8> {
    let mut byte = [0u8];
    reader.read_exact(&mut byte)?;
    Ok(byte[0])
}

/// A global or local colour table, present when the packed field's top bit is set.
fn copy_color_table(reader: &mut impl Read, out: &mut impl Write, packed: u8) -> io::Result<()> {
    if packed & 0x80 != 0 {
        copy_exact(reader, out, 3 << ((packed & 0x07) + 1))?;
    }
    Ok(())
}

/// Copies data sub-blocks up to and including the zero-length terminator (to `io::sink()` to
/// drop them).
fn sub_blocks(reader: &mut impl Read, out: &mut dyn Write) -> io::Result<()> {
    loop {
        let size = read_u8(reader)?;
        out.write_all(&[size])?;
        copy_exact(reader, out, u64::from(size))?;
        if size == 0 {
            return Ok(());
        }
    }
}
