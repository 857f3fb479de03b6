//! Reading a file's bytes into a media item (server only, feature `inspect`).
//!
//! [`inspect`] is the one door: it sniffs the content type from the bytes (never a name or a
//! browser's claim), refuses anything off the allow-list with what it found and what is accepted,
//! reads the item's [`MediaFacts`], and writes the bytes that will be published to `output` with
//! their metadata removed:
//!
//! | type | kept | removed |
//! |------|------|---------|
//! | JPEG | image data, APP0 (JFIF, without its thumbnail), APP2 ICC profile, APP14 (Adobe) | APP1 (EXIF with GPS, XMP), APP13 (IPTC), COM, every other APPn; EXIF orientation ≠ 1 is applied by decoding and re-encoding |
//! | PNG | critical chunks, PLTE, tRNS, gAMA, cHRM, sRGB, iCCP, sBIT, pHYs, APNG's acTL/fcTL/fdAT | eXIf, tEXt, zTXt, iTXt, tIME and the rest; eXIf orientation ≠ 1 is applied (lossless re-encode) |
//! | WebP | image data, ICC, animation | EXIF and XMP chunks (VP8X flags and RIFF size fixed); orientation ≠ 1 is applied (lossless re-encode) |
//! | GIF | frames, NETSCAPE2.0 looping, ICC | comments, XMP and other application extensions |
//! | MP4 | everything, at the same offsets | `udta`, `meta` and XMP `uuid` boxes in the file, `moov` and its tracks are overwritten with `free` boxes of the same size (GPS `©xyz`, Apple location keys) |
//! | PDF | copied as is | (a PDF's metadata is part of its object graph; rewriting it is out of scope) |
//!
//! Anything after an image's end (JPEG EOI, PNG IEND, the RIFF size, the GIF trailer) is dropped:
//! that is what defeats polyglots (a JPEG with a ZIP or HTML appended), and an MP4 must end with
//! its last box.
//!
//! **Bounded memory.** Crier runs in about 100 MB a process, and videos are hundreds of megabytes:
//! nothing reads a whole file. MP4 boxes are walked with seeks and the copy streams; JPEGs are
//! checked and thumbnailed by a scaled decode (1/8 in the IDCT: a 24-megapixel photo takes a few
//! megabytes); PNG, WebP and GIF decode under [`image::Limits`] set from
//! [`InspectLimits::max_decode_bytes`], GIF frame by frame. An image whose decode would need more
//! is refused with its dimensions and the limit. `examples/peak_rss.rs` measures it.
//!
//! **Thumbnails** (JPEG, longest side [`InspectLimits::thumbnail_side`]) are made for images and
//! GIFs (first frame). Videos and PDFs get none: decoding H.264 needs a codec there is no
//! maintained pure-Rust decoder for, and rendering PDF pages needs a PDF renderer; the UI shows an
//! icon for them.

mod gif;
mod jpeg;
mod mp4;
mod pdf;
mod picture;
mod png;
mod sniff;
mod webp;

use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::words::{ByteSize, Megapixels};
use crate::{ContentType, MediaFacts};

pub use sniff::Found;

/// How much work inspecting may do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InspectLimits {
    /// The most memory one image's decode may take, in bytes (decoded pixels and the decoder's
    /// own buffers). Default 64 MiB.
    pub max_decode_bytes: u64,
    /// The most pixels an image (or a GIF frame) may have. Default 100 megapixels.
    pub max_pixels: u64,
    /// The most frames a GIF may have (every frame is decoded to check it). Default 5,000.
    pub max_gif_frames: u32,
    /// The longest side of a thumbnail, in pixels. Default 320.
    pub thumbnail_side: u32,
    /// JPEG quality of thumbnails (1–100). Default 80.
    pub thumbnail_quality: u8,
    /// JPEG quality when a photo is re-encoded to apply its orientation (1–100). Default 92.
    pub jpeg_quality: u8,
}

impl Default for InspectLimits {
    fn default() -> Self {
        InspectLimits {
            max_decode_bytes: 64 * 1024 * 1024,
            max_pixels: 100_000_000,
            max_gif_frames: 5_000,
            thumbnail_side: 320,
            thumbnail_quality: 80,
            jpeg_quality: 92,
        }
    }
}

/// What [`inspect`] found and wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inspected {
    /// The facts of the published bytes (`byte_size` is the output's size).
    pub facts: MediaFacts,
    /// SHA-256 of the output bytes.
    pub sha256: [u8; 32],
    /// A JPEG thumbnail (images and GIFs; `None` for videos and PDFs).
    pub thumbnail: Option<Vec<u8>>,
    /// Whether anything was removed or rewritten (metadata, trailing data, an orientation applied).
    pub metadata_removed: bool,
}

/// Why a file is not accepted, in words that say what to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The file has no bytes.
    Empty,
    /// Not on the allow-list: what it is, when recognisable.
    NotAccepted {
        /// What the bytes are (`None`: not recognised).
        found: Option<Found>,
    },
    /// It starts like an accepted type but does not read as one.
    Damaged {
        /// The type its first bytes claim.
        content_type: ContentType,
        /// What is wrong, in a few words.
        reason: String,
    },
    /// An image (or GIF) with more pixels than [`InspectLimits::max_pixels`].
    TooManyPixels {
        /// Its width.
        width: u32,
        /// Its height.
        height: u32,
        /// The limit.
        max: u64,
    },
    /// An image whose decode would need more memory than [`InspectLimits::max_decode_bytes`].
    TooLargeToDecode {
        /// Its width.
        width: u32,
        /// Its height.
        height: u32,
        /// The memory its decode needs, in bytes.
        needed: u64,
        /// The limit.
        max: u64,
    },
    /// A GIF with more frames than [`InspectLimits::max_gif_frames`].
    TooManyFrames {
        /// The limit.
        max: u32,
    },
    /// An MP4 without a video track (sound only).
    NoVideoTrack,
    /// The file could not be read or the output written.
    Unreadable {
        /// The operating system's words.
        detail: String,
    },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let accepted = ContentType::ACCEPTED;
        match self {
            Refusal::Empty => f.write_str("The file is empty: choose it again"),
            Refusal::NotAccepted { found: Some(found) } => {
                write!(f, "This file is {}, which Crier does not post: use {accepted}", found.name())?;
                match found.hint() {
                    Some(hint) => write!(f, " ({hint})"),
                    None => Ok(()),
                }
            }
            Refusal::NotAccepted { found: None } => {
                write!(f, "Crier does not recognise this file: use {accepted}")
            }
            Refusal::Damaged { content_type, reason } => {
                write!(f, "This file starts like {} but is damaged ({reason}): export or save it again", sniff::article(*content_type))
            }
            Refusal::TooManyPixels { width, height, max } => write!(
                f,
                "This image is {width}×{height} ({}); Crier takes images up to {}: make it smaller",
                Megapixels(u64::from(*width) * u64::from(*height)),
                Megapixels(*max)
            ),
            Refusal::TooLargeToDecode { width, height, needed, max } => write!(
                f,
                "This image is {width}×{height}, which needs {} to check and Crier allows {}: make it smaller \
                 (or save it as a baseline JPEG, which needs far less)",
                ByteSize(*needed),
                ByteSize(*max)
            ),
            Refusal::TooManyFrames { max } => write!(f, "This GIF has more than {max} frames: shorten it"),
            Refusal::NoVideoTrack => f.write_str("This MP4 has no video, only sound: Crier posts videos, so choose a video file"),
            Refusal::Unreadable { detail } => write!(f, "Crier could not read or store the file ({detail}): try again"),
        }
    }
}

impl std::error::Error for Refusal {}

/// Inspects the file at `input`: sniffs, checks and measures it, and writes the bytes to publish
/// (metadata removed) to `output`, which is created or truncated. Blocking: run it on a blocking
/// thread (`spawn_blocking`). On a refusal `output` is removed.
pub fn inspect(input: &Path, output: &Path, limits: &InspectLimits) -> Result<Inspected, Refusal> {
    let result = inspect_inner(input, output, limits);
    if result.is_err() {
        let _ = std::fs::remove_file(output);
    }
    result
}

fn inspect_inner(input: &Path, output: &Path, limits: &InspectLimits) -> Result<Inspected, Refusal> {
    let mut file = File::open(input).map_err(unreadable)?;
    let mut head = [0u8; 512];
    let len = read_up_to(&mut file, &mut head).map_err(unreadable)?;
    if len == 0 {
        return Err(Refusal::Empty);
    }
    let content_type = sniff::sniff(&head[..len]).map_err(|found| Refusal::NotAccepted { found })?;
    file.rewind().map_err(unreadable)?;
    let mut out = Output::new(File::create(output).map_err(unreadable)?);
    let read = match content_type {
        ContentType::Jpeg => jpeg::inspect(file, &mut out, limits),
        ContentType::Png => png::inspect(file, &mut out, limits),
        ContentType::Webp => webp::inspect(file, &mut out, limits),
        ContentType::Gif => gif::inspect(file, &mut out, limits),
        ContentType::Mp4 => mp4::inspect(file, &mut out),
        ContentType::Pdf => pdf::inspect(file, &mut out),
    }?;
    let (byte_size, sha256) = out.finish().map_err(unreadable)?;
    let mut facts = read.facts;
    facts.byte_size = byte_size;
    Ok(Inspected { facts, sha256, thumbnail: read.thumbnail, metadata_removed: read.metadata_removed })
}

/// What a format's reader returns (the size and hash come from [`Output`]).
struct Reading {
    facts: MediaFacts,
    thumbnail: Option<Vec<u8>>,
    metadata_removed: bool,
}

/// The output file, hashed and counted as it is written.
struct Output {
    file: BufWriter<File>,
    hasher: Sha256,
    written: u64,
}

impl Output {
    fn new(file: File) -> Output {
        Output { file: BufWriter::with_capacity(64 * 1024, file), hasher: Sha256::new(), written: 0 }
    }

    fn finish(mut self) -> io::Result<(u64, [u8; 32])> {
        self.file.flush()?;
        self.file.get_ref().sync_all()?;
        Ok((self.written, self.hasher.finalize().into()))
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

fn unreadable(error: io::Error) -> Refusal {
    Refusal::Unreadable { detail: error.to_string() }
}

/// Reading `content_type` failed: a file that ends early is damaged, anything else unreadable.
fn read_error(content_type: ContentType) -> impl Fn(io::Error) -> Refusal {
    move |error| match error.kind() {
        io::ErrorKind::UnexpectedEof => damaged(content_type, "it ends early; it may be cut short"),
        io::ErrorKind::InvalidData => damaged(content_type, &error.to_string()),
        _ => unreadable(error),
    }
}

fn damaged(content_type: ContentType, reason: &str) -> Refusal {
    Refusal::Damaged { content_type, reason: reason.to_owned() }
}

/// An `InvalidData` error that [`read_error`] turns into [`Refusal::Damaged`].
fn invalid(reason: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, reason.to_owned())
}

/// Reads until `buf` is full or the file ends; returns how much was read.
fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(filled)
}

/// Copies exactly `len` bytes from `reader` to `writer` (an early end is an `UnexpectedEof`).
fn copy_exact(reader: &mut impl Read, writer: &mut (impl Write + ?Sized), len: u64) -> io::Result<()> {
    let copied = io::copy(&mut reader.take(len), writer)?;
    if copied < len {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    Ok(())
}

/// Skips exactly `len` bytes of `reader`.
fn skip_exact(reader: &mut (impl Read + Seek), len: u64) -> io::Result<()> {
    let offset = i64::try_from(len).map_err(|_| invalid("a length is out of range"))?;
    reader.seek_relative(offset)
}
