//! Synthetic media for the upload tests (included by each media test as `media`, beside
//! `support`, which other crates' tests include too and which must not need these crates): deterministic bytes behind real magic numbers (the
//! sandbox sniffs the first bytes and reads dimensions from headers; it decodes nothing), a source
//! that makes its bytes as they are read and records every range asked for, and upload options
//! whose sleep moves the harness's manual clock instead of waiting.

#![allow(dead_code)]

use std::ops::Range;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use crier_clients::{ByteStream, MediaSource, MediaToUpload, UploadOptions};
use crier_media::{ContentType, MediaKind};
use futures_util::stream;
use sha2::{Digest, Sha256};

use crate::support::Harness;

/// The first bytes of a PNG of `w`×`h` (signature and IHDR).
pub fn png_header(w: u32, h: u32) -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    b.extend_from_slice(&w.to_be_bytes());
    b.extend_from_slice(&h.to_be_bytes());
    b.extend_from_slice(&[8, 6, 0, 0, 0]);
    b
}

/// The first bytes of a JPEG (SOI, APP0, SOF0 with `w`×`h`).
pub fn jpeg_header(w: u16, h: u16) -> Vec<u8> {
    let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 16];
    b.extend_from_slice(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    b.extend_from_slice(&[0xFF, 0xC0, 0, 11, 8]);
    b.extend_from_slice(&h.to_be_bytes());
    b.extend_from_slice(&w.to_be_bytes());
    b.extend_from_slice(&[1, 1, 0x11, 0]);
    b
}

/// The first bytes of a GIF of `w`×`h`.
pub fn gif_header(w: u16, h: u16) -> Vec<u8> {
    let mut b = b"GIF89a".to_vec();
    b.extend_from_slice(&w.to_le_bytes());
    b.extend_from_slice(&h.to_le_bytes());
    b
}

/// The first bytes of a "fast start" MP4 of `w`×`h`: `ftyp`, then `moov` → `trak` → `tkhd`.
pub fn mp4_header(w: u16, h: u16) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&24u32.to_be_bytes());
    b.extend_from_slice(b"ftypisom\0\0\x02\0isommp42");
    // tkhd version 0: 4 size + 4 type + 1 version + 3 flags + 72 bytes, then width and height.
    let mut tkhd = Vec::new();
    tkhd.extend_from_slice(&92u32.to_be_bytes());
    tkhd.extend_from_slice(b"tkhd");
    tkhd.extend_from_slice(&[0, 0, 0, 3]);
    tkhd.extend_from_slice(&[0u8; 72]);
    tkhd.extend_from_slice(&(u32::from(w) << 16).to_be_bytes());
    tkhd.extend_from_slice(&(u32::from(h) << 16).to_be_bytes());
    let trak_len = 8 + tkhd.len() as u32;
    let moov_len = 8 + trak_len;
    b.extend_from_slice(&moov_len.to_be_bytes());
    b.extend_from_slice(b"moov");
    b.extend_from_slice(&trak_len.to_be_bytes());
    b.extend_from_slice(b"trak");
    b.extend_from_slice(&tkhd);
    b
}

/// A synthetic item: `header`, then deterministic filler up to `len` bytes, made as it is read.
/// Every range asked for is recorded, and the largest piece ever held is `PIECE`.
pub struct Synthetic {
    header: Vec<u8>,
    len: u64,
    pub reads: Mutex<Vec<Range<u64>>>,
}

/// The generator yields at most this many bytes at a time.
pub const PIECE: u64 = 64 * 1024;

fn byte_at(header: &[u8], i: u64) -> u8 {
    match header.get(i as usize) {
        Some(b) => *b,
        None => (i.wrapping_mul(31).wrapping_add(i >> 13).wrapping_add(7) % 251) as u8,
    }
}

impl Synthetic {
    pub fn new(header: Vec<u8>, len: u64) -> Arc<Synthetic> {
        Arc::new(Synthetic { header, len, reads: Mutex::new(Vec::new()) })
    }

    /// SHA-256 (hex) of all its bytes, computed piece by piece.
    pub fn sha256(&self) -> String {
        let mut hasher = Sha256::new();
        let mut at = 0;
        while at < self.len {
            let end = (at + PIECE).min(self.len);
            hasher.update(self.piece(at..end));
            at = end;
        }
        hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    fn piece(&self, range: Range<u64>) -> Vec<u8> {
        range.map(|i| byte_at(&self.header, i)).collect()
    }

    /// The largest range a client asked for.
    pub fn largest_read(&self) -> u64 {
        self.reads.lock().unwrap().iter().map(|r| r.end - r.start).max().unwrap_or(0)
    }

    /// An upload of this item.
    pub fn upload(self: &Arc<Self>, kind: MediaKind, content_type: ContentType, file_name: &str, alt_text: Option<&str>) -> MediaToUpload {
        MediaToUpload {
            kind,
            content_type,
            byte_size: self.len,
            file_name: file_name.to_owned(),
            alt_text: alt_text.map(str::to_owned),
            source: self.clone(),
        }
    }
}

#[async_trait]
impl MediaSource for Synthetic {
    async fn read_range(&self, range: Range<u64>) -> std::io::Result<ByteStream> {
        if range.end > self.len {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "past the end"));
        }
        self.reads.lock().unwrap().push(range.clone());
        let header = self.header.clone();
        // Made lazily, one piece at a time: nothing of the range exists before it is sent.
        let pieces = stream::unfold(range.start, move |at| {
            let header = header.clone();
            let end = range.end;
            async move {
                if at >= end {
                    return None;
                }
                let next = (at + PIECE).min(end);
                let bytes: Vec<u8> = (at..next).map(|i| byte_at(&header, i)).collect();
                Some((Ok(Bytes::from(bytes)), next))
            }
        });
        Ok(Box::pin(pieces))
    }
}

/// Options for tests: small chunks, and a sleep that moves the harness's clock (the sandbox's and
/// the clients') instead of waiting.
pub fn options(h: &Harness, chunk_bytes: u64) -> UploadOptions {
    let clock = h.clock.clone();
    UploadOptions {
        chunk_bytes,
        sleep: Arc::new(move |d: Duration| {
            clock.advance(d);
            Box::pin(async {})
        }),
        ..UploadOptions::default()
    }
}
