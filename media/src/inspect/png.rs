//! PNG: chunks kept or dropped by name, stopping at IEND; decoded to check and thumbnail.
//!
//! Kept: the critical chunks (IHDR, PLTE, IDAT, IEND, and any other whose name starts with a
//! capital: a decoder must understand it) and the ones that change how pixels look or move: tRNS,
//! gAMA, cHRM, sRGB, iCCP, sBIT, pHYs, cICP (HDR colour), and APNG's acTL, fcTL, fdAT. Dropped:
//! eXIf, tEXt, zTXt, iTXt, tIME and every other ancillary chunk. An eXIf orientation other than
//! 1 is applied to the pixels and the PNG re-encoded (losslessly) unless it is animated.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Seek, Write};

use image::codecs::png::{PngDecoder, PngEncoder};
use image::metadata::Orientation;

use super::picture;
use super::{InspectLimits, Output, Reading, Refusal, copy_exact, invalid, read_error, unreadable};
use crate::{ContentType, MediaFacts};

const PNG: ContentType = ContentType::Png;

const KEPT: [&[u8; 4]; 11] = [b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT", b"pHYs", b"cICP", b"acTL", b"fcTL", b"fdAT"];

pub(super) fn inspect(mut file: File, out: &mut Output, limits: &InspectLimits) -> Result<Reading, Refusal> {
    let decoder = PngDecoder::new(BufReader::new(&file)).map_err(|error| super::damaged(PNG, &error.to_string()))?;
    let (mut picture, orientation) = picture::decode(decoder, PNG, limits)?;
    let thumbnail = picture::thumbnail(&picture, orientation, limits)?;
    file.rewind().map_err(unreadable)?;
    let structure = strip(&mut BufReader::new(&file), &mut io::sink()).map_err(read_error(PNG))?;
    let reencode = orientation != Orientation::NoTransforms && !structure.animated;
    if reencode {
        picture.apply_orientation(orientation);
        picture.write_with_encoder(PngEncoder::new(out)).map_err(|error| Refusal::Unreadable { detail: error.to_string() })?;
    } else {
        file.rewind().map_err(unreadable)?;
        strip(&mut BufReader::new(&file), out).map_err(read_error(PNG))?;
    }
    let facts = MediaFacts { width: Some(picture.width()), height: Some(picture.height()), ..MediaFacts::new(PNG, 0) };
    Ok(Reading { facts, thumbnail: Some(thumbnail), metadata_removed: structure.removed || reencode })
}

struct Structure {
    animated: bool,
    removed: bool,
}

/// Copies the kept chunks up to IEND.
fn strip(reader: &mut impl BufRead, out: &mut impl Write) -> io::Result<Structure> {
    let mut signature = [0u8; 8];
    reader.read_exact(&mut signature)?;
    out.write_all(&signature)?;
    let mut structure = Structure { animated: false, removed: false };
    loop {
        let mut head = [0u8; 8];
        reader.read_exact(&mut head)?;
        let length = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
        if length > 0x7FFF_FFFF {
            return Err(invalid("a chunk has a wrong length"));
        }
        let name: [u8; 4] = [head[4], head[5], head[6], head[7]];
        if !name.iter().all(u8::is_ascii_alphabetic) {
            return Err(invalid("a chunk has a wrong name"));
        }
        structure.animated |= &name == b"acTL";
        // Data and CRC.
        let length = u64::from(length) + 4;
        if name[0].is_ascii_uppercase() || KEPT.contains(&&name) {
            out.write_all(&head)?;
            copy_exact(reader, out, length)?;
        } else {
            structure.removed = true;
            copy_exact(reader, &mut io::sink(), length)?;
        }
        if &name == b"IEND" {
            break;
        }
    }
    structure.removed |= !reader.fill_buf()?.is_empty();
    Ok(structure)
}
