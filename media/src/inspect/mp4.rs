//! MP4: the facts from the `moov` box tree, and the metadata boxes blanked in place.
//!
//! Hand-parsed rather than through a crate. The two pure-Rust parsers compared: `mp4parse`
//! (Mozilla's, in Firefox, fuzzed and kept) reads a file front to back through `Read` and reads
//! past `mdat` to find a trailing `moov`, and gives no box offsets; `mp4` (alfg) seeks but has been
//! without a release since 2023 and has open panics on malformed input. Crier needs a handful of
//! fields (`mvhd` duration, `tkhd` size and rotation, `mdhd` timescale, `hdlr` track type, the
//! `stsd` sample entry's codec, `stts` for the frame rate) *and* the offsets of the `udta`/`meta`
//! boxes to blank, which neither gives; the walk below is about 250 lines, seeks over `mdat`,
//! checks every size against its parent, reads at most 64 bytes a box header, and never allocates
//! by a size read from the file.
//!
//! Blanking: every `udta` and `meta` box and every XMP `uuid` box at the top level, in `moov`, in
//! each `trak` and in its `mdia` is rewritten as a `free` box of the same size with zeroed contents
//! (GPS `©xyz`, Apple's `com.apple.quicktime.location.ISO6709` keys, camera makes, XMP), so every
//! chunk offset (`stco`/`co64`) stays valid and the file is not rewritten: the output is the input
//! copied with those ranges patched, streamed, the same length.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};

use super::{Output, Reading, Refusal, damaged, invalid, read_error, unreadable};
use crate::{ContentType, MediaFacts};

const MP4: ContentType = ContentType::Mp4;

/// The XMP `uuid` box's user type (Adobe's XMP specification, part 3).
const XMP_UUID: [u8; 16] = [0xBE, 0x7A, 0xCF, 0xCB, 0x97, 0xA9, 0x42, 0xE8, 0x9C, 0x71, 0x99, 0x94, 0x91, 0xE3, 0xAF, 0xAC];

/// Boxes nested deeper than this are not looked into (the ones read are at depth 6 at most).
const MAX_DEPTH: u32 = 8;

pub(super) fn inspect(mut file: File, out: &mut Output) -> Result<Reading, Refusal> {
    let length = file.metadata().map_err(unreadable)?.len();
    let mut walk = Walk::default();
    walk.top(&mut BufReader::new(&file), length).map_err(read_error(MP4))?;
    let Some(video) = walk.video.take() else {
        return Err(if walk.moov { Refusal::NoVideoTrack } else { damaged(MP4, "it has no movie header (moov)") });
    };
    file.rewind().map_err(unreadable)?;
    copy_blanked(&mut file, out, &walk.blank).map_err(read_error(MP4))?;

    let displayed = if video.quarter_turn { (video.height, video.width) } else { (video.width, video.height) };
    let track_ms = (video.timescale > 0).then(|| video.duration * 1000 / u64::from(video.timescale));
    let movie_ms = (walk.timescale > 0 && walk.duration > 0).then(|| walk.duration * 1000 / u64::from(walk.timescale));
    let frame_rate_milli = (video.sample_duration > 0).then(|| video.samples * u64::from(video.timescale) * 1000 / video.sample_duration);
    let facts = MediaFacts {
        width: Some(displayed.0).filter(|&w| w > 0),
        height: Some(displayed.1).filter(|&h| h > 0),
        duration_ms: movie_ms.or(track_ms),
        frame_rate_milli: frame_rate_milli.and_then(|rate| u32::try_from(rate).ok()),
        video_codec: video.codec,
        audio_codec: walk.audio_codec,
        ..MediaFacts::new(MP4, 0)
    };
    Ok(Reading { facts, thumbnail: None, metadata_removed: !walk.blank.is_empty() })
}

/// A box: where it starts, its whole size, its header's size and its type.
#[derive(Clone, Copy)]
struct BoxHeader {
    start: u64,
    size: u64,
    header: u64,
    kind: [u8; 4],
}

impl BoxHeader {
    fn body(&self) -> u64 {
        self.start + self.header
    }

    fn end(&self) -> u64 {
        self.start + self.size
    }
}

#[derive(Default)]
struct Walk {
    moov: bool,
    timescale: u32,
    duration: u64,
    video: Option<Track>,
    audio_codec: Option<String>,
    /// Boxes to rewrite as `free`.
    blank: Vec<BoxHeader>,
}

#[derive(Default)]
struct Track {
    handler: [u8; 4],
    width: u32,
    height: u32,
    quarter_turn: bool,
    timescale: u32,
    duration: u64,
    codec: Option<String>,
    samples: u64,
    sample_duration: u64,
}

type Reader<'a> = BufReader<&'a File>;

impl Walk {
    fn top(&mut self, reader: &mut Reader<'_>, length: u64) -> io::Result<()> {
        let mut at = 0;
        let mut first = true;
        while at < length {
            let item = header(reader, at, length)?;
            if first && &item.kind != b"ftyp" {
                return Err(invalid("it does not start with a file type box"));
            }
            first = false;
            match &item.kind {
                b"moov" => {
                    if self.moov {
                        return Err(invalid("it has two movie headers"));
                    }
                    self.moov = true;
                    self.children(reader, item, 1, &mut Walk::moov_child)?;
                }
                b"udta" | b"meta" => self.blank.push(item),
                b"uuid" if is_xmp(reader, item)? => self.blank.push(item),
                _ => {}
            }
            at = item.end();
        }
        Ok(())
    }

    /// Walks `parent`'s children, handing each to `visit`.
    fn children(
        &mut self,
        reader: &mut Reader<'_>,
        parent: BoxHeader,
        depth: u32,
        visit: &mut dyn FnMut(&mut Walk, &mut Reader<'_>, BoxHeader, u32) -> io::Result<()>,
    ) -> io::Result<()> {
        if depth > MAX_DEPTH {
            return Ok(());
        }
        let mut at = parent.body();
        while at + 8 <= parent.end() {
            let child = header(reader, at, parent.end())?;
            visit(self, reader, child, depth + 1)?;
            at = child.end();
        }
        Ok(())
    }

    fn moov_child(&mut self, reader: &mut Reader<'_>, item: BoxHeader, depth: u32) -> io::Result<()> {
        match &item.kind {
            b"mvhd" => {
                (self.timescale, self.duration) = timescale_and_duration(reader, item)?;
            }
            b"trak" => {
                let mut track = Track::default();
                self.children(reader, item, depth, &mut |walk, reader, child, depth| walk.trak_child(reader, child, depth, &mut track))?;
                match &track.handler {
                    b"vide" if self.video.is_none() => self.video = Some(track),
                    b"soun" if self.audio_codec.is_none() => self.audio_codec = track.codec,
                    _ => {}
                }
            }
            b"udta" | b"meta" => self.blank.push(item),
            b"uuid" if is_xmp(reader, item)? => self.blank.push(item),
            _ => {}
        }
        Ok(())
    }

    fn trak_child(&mut self, reader: &mut Reader<'_>, item: BoxHeader, depth: u32, track: &mut Track) -> io::Result<()> {
        match &item.kind {
            b"tkhd" => {
                let body = read_body(reader, item, 96)?;
                let rest = if body[0] == 1 { &body[36..] } else { &body[24..] };
                // reserved 8, layer 2, group 2, volume 2, reserved 2, matrix 36, width, height.
                if rest.len() >= 60 {
                    let matrix = &rest[16..52];
                    let (a, b) = (be32(&matrix[0..]), be32(&matrix[4..]));
                    track.quarter_turn = a == 0 && b != 0;
                    track.width = be32(&rest[52..]) >> 16;
                    track.height = be32(&rest[56..]) >> 16;
                }
            }
            b"mdia" | b"minf" | b"stbl" => {
                self.children(reader, item, depth, &mut |walk, reader, child, depth| walk.trak_child(reader, child, depth, track))?
            }
            b"mdhd" => {
                (track.timescale, track.duration) = timescale_and_duration(reader, item)?;
            }
            b"hdlr" => {
                let body = read_body(reader, item, 12)?;
                track.handler.copy_from_slice(&body[8..12]);
            }
            b"stsd" => {
                // version and flags 4, entry count 4, then the first entry's size 4 and type 4;
                // a visual sample entry's width and height follow 24 bytes later.
                let body = read_body(reader, item, 36)?;
                let codec = &body[12..16];
                if codec.iter().all(|&b| b.is_ascii_graphic() || b == b' ') {
                    track.codec = Some(String::from_utf8_lossy(codec).into_owned());
                }
                if track.width == 0 && body.len() >= 36 {
                    track.width = u32::from(u16::from_be_bytes([body[32], body[33]]));
                    track.height = u32::from(u16::from_be_bytes([body[34], body[35]]));
                }
            }
            b"stts" => {
                let body = read_body(reader, item, 8)?;
                let entries = u64::from(be32(&body[4..]));
                if entries * 8 > item.size - item.header - 8 {
                    return Err(invalid("a time-to-sample table is longer than its box"));
                }
                reader.seek(SeekFrom::Start(item.body() + 8))?;
                let mut entry = [0u8; 8];
                for _ in 0..entries {
                    reader.read_exact(&mut entry)?;
                    let (count, delta) = (u64::from(be32(&entry[0..])), u64::from(be32(&entry[4..])));
                    track.samples += count;
                    track.sample_duration += count * delta;
                }
            }
            b"udta" | b"meta" => self.blank.push(item),
            b"uuid" if is_xmp(reader, item)? => self.blank.push(item),
            _ => {}
        }
        Ok(())
    }
}

/// Reads the box header at `at`, checking it fits inside `end`.
fn header(reader: &mut Reader<'_>, at: u64, end: u64) -> io::Result<BoxHeader> {
    if at + 8 > end {
        return Err(invalid("a box is cut short"));
    }
    reader.seek(SeekFrom::Start(at))?;
    let mut head = [0u8; 8];
    reader.read_exact(&mut head)?;
    let kind = [head[4], head[5], head[6], head[7]];
    let (size, mut header) = match be32(&head) {
        0 => (end - at, 8),
        1 => {
            let mut large = [0u8; 8];
            reader.read_exact(&mut large)?;
            (u64::from_be_bytes(large), 16)
        }
        size => (u64::from(size), 8),
    };
    if &kind == b"uuid" {
        header += 16;
    }
    if size < header || at.checked_add(size).is_none_or(|box_end| box_end > end) {
        return Err(invalid("a box runs past its parent or the file"));
    }
    Ok(BoxHeader { start: at, size, header, kind })
}

/// The first `want` bytes of a box's body (a box shorter than that is damaged).
fn read_body(reader: &mut Reader<'_>, item: BoxHeader, want: u64) -> io::Result<Vec<u8>> {
    let available = item.size - item.header;
    if available < want.min(16) {
        return Err(invalid("a box is shorter than its contents"));
    }
    let mut body = vec![0u8; want.min(available) as usize];
    reader.seek(SeekFrom::Start(item.body()))?;
    reader.read_exact(&mut body)?;
    body.resize(want as usize, 0);
    Ok(body)
}

/// `mvhd` and `mdhd` alike: after version and flags, creation and modification times (32 or 64
/// bits by version), the timescale and the duration.
fn timescale_and_duration(reader: &mut Reader<'_>, item: BoxHeader) -> io::Result<(u32, u64)> {
    let body = read_body(reader, item, 32)?;
    Ok(if body[0] == 1 { (be32(&body[20..]), be64(&body[24..])) } else { (be32(&body[12..]), u64::from(be32(&body[16..]))) })
}

fn is_xmp(reader: &mut Reader<'_>, item: BoxHeader) -> io::Result<bool> {
    let mut user_type = [0u8; 16];
    reader.seek(SeekFrom::Start(item.body() - 16))?;
    reader.read_exact(&mut user_type)?;
    Ok(user_type == XMP_UUID)
}

fn be32(bytes: &[u8]) -> u32 {
    u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

fn be64(bytes: &[u8]) -> u64 {
    u64::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7]])
}

/// Copies the file to `out`, turning each box of `blank` into a `free` box of the same size:
/// the type becomes `free` and everything after the header becomes zeros.
fn copy_blanked(file: &mut File, out: &mut Output, blank: &[BoxHeader]) -> io::Result<()> {
    let mut buffer = vec![0u8; 256 * 1024];
    let mut position = 0u64;
    loop {
        let read = match file.read(&mut buffer) {
            Ok(0) => return Ok(()),
            Ok(read) => read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        let chunk = &mut buffer[..read];
        let chunk_end = position + read as u64;
        for item in blank {
            let mut patch = |from: u64, to: u64, byte: Option<&[u8; 4]>| {
                let (from, to) = (from.max(position), to.min(chunk_end));
                for at in from..to {
                    let i = (at - position) as usize;
                    chunk[i] = byte.map_or(0, |kind| kind[(at - item.start - 4) as usize]);
                }
            };
            patch(item.start + 4, item.start + 8, Some(b"free"));
            // A uuid box's user type is part of its header; as a `free` box it is contents.
            let contents = if &item.kind == b"uuid" { item.header - 16 } else { item.header };
            patch(item.start + contents, item.end(), None);
        }
        out.write_all(chunk)?;
        position = chunk_end;
    }
}
