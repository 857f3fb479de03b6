//! PDF: checked for its header and trailer, copied as is, pages counted when the page tree is
//! readable without decompressing anything.
//!
//! Counting pages properly means following the trailer's `/Root` to the catalog's `/Pages` and
//! its `/Count`, through a cross-reference table that PDF 1.5 and later may compress (and the page
//! tree with it, in object streams); a full PDF parser (lopdf) loads the whole document into memory,
//! which a 100 MB document may not. So the file is streamed once and each object's first 4 KB is
//! looked at: the last page-tree root (`/Type /Pages` without `/Parent`; a later incremental
//! update wins) gives `/Count`. When the page tree sits in a compressed object stream, no root is
//! seen and `pages` stays `None`: the size rule still applies and LinkedIn judges the pages.
//!
//! Copied as is: a PDF's metadata (the Info dictionary, XMP) lives in its object graph; removing
//! it means rewriting the document, which is out of scope.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};

use super::{Output, Reading, Refusal, damaged, read_error, read_up_to, unreadable};
use crate::{ContentType, MediaFacts};

const PDF: ContentType = ContentType::Pdf;

/// How much of each object is looked at.
const OBJECT_HEAD: usize = 4096;

pub(super) fn inspect(mut file: File, out: &mut Output) -> Result<Reading, Refusal> {
    let length = file.metadata().map_err(unreadable)?.len();
    let tail_start = length.saturating_sub(1024);
    file.seek(SeekFrom::Start(tail_start)).map_err(unreadable)?;
    let mut tail = vec![0u8; (length - tail_start) as usize];
    let read = read_up_to(&mut file, &mut tail).map_err(unreadable)?;
    tail.truncate(read);
    if find(&tail, b"%%EOF").is_none() || find(&tail, b"startxref").is_none() {
        return Err(damaged(PDF, "it has no end-of-file trailer; it may be cut short"));
    }
    file.rewind().map_err(unreadable)?;
    let pages = count_pages(&mut BufReader::new(&file), out).map_err(read_error(PDF))?;
    let facts = MediaFacts { pages, ..MediaFacts::new(PDF, 0) };
    Ok(Reading { facts, thumbnail: None, metadata_removed: false })
}

/// Copies the PDF to `out` while looking at each object's head for the page-tree root.
fn count_pages(reader: &mut impl Read, out: &mut Output) -> io::Result<Option<u32>> {
    use std::io::Write;
    const END: &[u8] = b"endobj";
    let mut buffer = vec![0u8; 64 * 1024];
    let mut head = Vec::with_capacity(OBJECT_HEAD);
    let mut matched = 0;
    let mut pages = None;
    loop {
        let read = read_up_to(reader, &mut buffer)?;
        if read == 0 {
            return Ok(pages);
        }
        out.write_all(&buffer[..read])?;
        for &byte in &buffer[..read] {
            if head.len() < OBJECT_HEAD {
                head.push(byte);
            }
            // "endobj" has no prefix that is also a suffix, so a plain counter finds it.
            matched = if byte == END[matched] {
                matched + 1
            } else if byte == END[0] {
                1
            } else {
                0
            };
            if matched == END.len() {
                if let Some(count) = root_count(&head) {
                    pages = Some(count);
                }
                head.clear();
                matched = 0;
            }
        }
    }
}

/// `/Count` of a page-tree root object (`/Type /Pages`, no `/Parent`).
fn root_count(object: &[u8]) -> Option<u32> {
    let type_at = find(object, b"/Type")?;
    let after_type = skip_space(&object[type_at + 5..]);
    let rest = after_type.strip_prefix(b"/Pages")?;
    if rest.first().is_some_and(|b| b.is_ascii_alphanumeric()) || find(object, b"/Parent").is_some() {
        return None;
    }
    let count_at = find(object, b"/Count")?;
    let digits = skip_space(&object[count_at + 6..]);
    let end = digits.iter().position(|b| !b.is_ascii_digit()).unwrap_or(digits.len());
    std::str::from_utf8(&digits[..end]).ok()?.parse().ok()
}

fn skip_space(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(bytes.len());
    &bytes[start..]
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|window| window == needle)
}
