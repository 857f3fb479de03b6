//! WebP: RIFF chunks without EXIF and XMP (the VP8X flags and the RIFF size fixed), nothing
//! past the RIFF size; decoded to check and thumbnail.
//!
//! An EXIF orientation other than 1 is applied to the pixels and the picture re-encoded as
//! lossless WebP (the only WebP encoder in pure Rust; the file may grow, and the platform's size
//! check then says so), unless it is animated.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};

use image::codecs::webp::{WebPDecoder, WebPEncoder};
use image::metadata::Orientation;

use super::picture;
use super::{InspectLimits, Output, Reading, Refusal, copy_exact, damaged, invalid, read_error, skip_exact, unreadable};
use crate::{ContentType, MediaFacts};

const WEBP: ContentType = ContentType::Webp;

const KEPT: [&[u8; 4]; 7] = [b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF", b"ICCP"];

/// VP8X flags: animation, EXIF, XMP.
const ANIMATION: u8 = 0x02;
const EXIF: u8 = 0x08;
const XMP: u8 = 0x04;

pub(super) fn inspect(mut file: File, out: &mut Output, limits: &InspectLimits) -> Result<Reading, Refusal> {
    let length = file.metadata().map_err(unreadable)?.len();
    let chunks = list_chunks(&mut BufReader::new(&file), length).map_err(read_error(WEBP))?;
    if !chunks.iter().any(|chunk| matches!(&chunk.name, b"VP8 " | b"VP8L" | b"ANMF")) {
        return Err(damaged(WEBP, "it has no picture"));
    }
    file.rewind().map_err(unreadable)?;
    let decoder = WebPDecoder::new(BufReader::new(&file)).map_err(|error| damaged(WEBP, &error.to_string()))?;
    let (mut picture, orientation) = picture::decode(decoder, WEBP, limits)?;
    let thumbnail = picture::thumbnail(&picture, orientation, limits)?;
    let animated = chunks.iter().any(|chunk| &chunk.name == b"VP8X" && chunk.flags & ANIMATION != 0);
    let reencode = orientation != Orientation::NoTransforms && !animated;
    let removed = chunks.iter().any(|chunk| !chunk.kept()) || 12 + chunks.iter().map(Chunk::stored).sum::<u64>() < length;
    if reencode {
        picture.apply_orientation(orientation);
        let picture = picture.to_rgba8();
        picture.write_with_encoder(WebPEncoder::new_lossless(out)).map_err(|error| Refusal::Unreadable { detail: error.to_string() })?;
    } else {
        write_kept(&mut BufReader::new(&file), out, &chunks).map_err(read_error(WEBP))?;
    }
    let facts = MediaFacts { width: Some(picture.width()), height: Some(picture.height()), ..MediaFacts::new(WEBP, 0) };
    Ok(Reading { facts, thumbnail: Some(thumbnail), metadata_removed: removed || reencode })
}

struct Chunk {
    name: [u8; 4],
    /// Where its data starts.
    offset: u64,
    size: u32,
    /// VP8X's flags byte (0 for other chunks).
    flags: u8,
}

impl Chunk {
    fn kept(&self) -> bool {
        KEPT.contains(&&self.name)
    }

    /// Header, data and padding.
    fn stored(&self) -> u64 {
        8 + u64::from(self.size) + u64::from(self.size & 1)
    }
}

/// The chunks inside the RIFF size.
fn list_chunks(reader: &mut BufReader<&File>, length: u64) -> io::Result<Vec<Chunk>> {
    let mut header = [0u8; 12];
    reader.read_exact(&mut header)?;
    let riff_size = u64::from(u32::from_le_bytes([header[4], header[5], header[6], header[7]]));
    let end = 8 + riff_size;
    if end > length {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    let mut chunks = Vec::new();
    let mut at = 12;
    while at + 8 <= end {
        let mut head = [0u8; 8];
        reader.read_exact(&mut head)?;
        let chunk = Chunk {
            name: [head[0], head[1], head[2], head[3]],
            offset: at + 8,
            size: u32::from_le_bytes([head[4], head[5], head[6], head[7]]),
            flags: 0,
        };
        if at + chunk.stored() > end + u64::from(chunk.size & 1) {
            return Err(invalid("a chunk runs past the end of the file"));
        }
        let mut flags = 0;
        let mut skipped = 0;
        if &chunk.name == b"VP8X" && chunk.size >= 1 {
            let mut byte = [0u8];
            reader.read_exact(&mut byte)?;
            flags = byte[0];
            skipped = 1;
        }
        skip_exact(reader, u64::from(chunk.size) + u64::from(chunk.size & 1) - skipped)?;
        at += chunk.stored();
        chunks.push(Chunk { flags, ..chunk });
        if chunks.len() > 100_000 {
            return Err(invalid("it has too many chunks"));
        }
    }
    Ok(chunks)
}

/// Writes the RIFF header with the new size, and the kept chunks.
fn write_kept(reader: &mut BufReader<&File>, out: &mut impl Write, chunks: &[Chunk]) -> io::Result<()> {
    let kept: Vec<&Chunk> = chunks.iter().filter(|chunk| chunk.kept()).collect();
    let riff_size = 4 + kept.iter().map(|chunk| chunk.stored()).sum::<u64>();
    let riff_size = u32::try_from(riff_size).map_err(|_| invalid("it is too large"))?;
    out.write_all(b"RIFF")?;
    out.write_all(&riff_size.to_le_bytes())?;
    out.write_all(b"WEBP")?;
    for chunk in kept {
        reader.seek(SeekFrom::Start(chunk.offset))?;
        out.write_all(&chunk.name)?;
        out.write_all(&chunk.size.to_le_bytes())?;
        let mut data = u64::from(chunk.size);
        if &chunk.name == b"VP8X" && data >= 1 {
            let mut flags = [0u8];
            reader.read_exact(&mut flags)?;
            out.write_all(&[flags[0] & !(EXIF | XMP)])?;
            data -= 1;
        }
        copy_exact(reader, out, data)?;
        if chunk.size & 1 == 1 {
            out.write_all(&[0])?;
        }
    }
    Ok(())
}
