//! What the fakes know of a file from its first bytes, as the platforms do: its type by magic
//! bytes (never the name or the declared type), and where the header says so, its width and
//! height. The fakes decode nothing: a 30-byte PNG header passes as a PNG.

use crier_media::ContentType;

/// The type the bytes start like, if it is one the platforms take.
pub(crate) fn sniff(head: &[u8]) -> Option<ContentType> {
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(ContentType::Jpeg);
    }
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some(ContentType::Png);
    }
    if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        return Some(ContentType::Gif);
    }
    if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        return Some(ContentType::Webp);
    }
    if head.len() >= 12 && &head[4..8] == b"ftyp" {
        return Some(ContentType::Mp4);
    }
    if head.starts_with(b"%PDF-") {
        return Some(ContentType::Pdf);
    }
    None
}

fn be16(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?)))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn le16(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?)))
}

/// Width and height from the header, when the first bytes hold them: PNG `IHDR`, GIF's logical
/// screen, JPEG's first `SOFn`, an MP4's first `tkhd` (only when `moov` comes before the media
/// data, as a "fast start" file has it; otherwise unknown, and no aspect-ratio check is made).
pub(crate) fn dimensions(content_type: ContentType, head: &[u8]) -> Option<(u32, u32)> {
    match content_type {
        ContentType::Png => Some((be32(head, 16)?, be32(head, 20)?)),
        ContentType::Gif => Some((le16(head, 6)?, le16(head, 8)?)),
        ContentType::Jpeg => jpeg_dimensions(head),
        ContentType::Mp4 => mp4_dimensions(head),
        ContentType::Webp | ContentType::Pdf => None,
    }
}

fn jpeg_dimensions(head: &[u8]) -> Option<(u32, u32)> {
    let mut at = 2;
    while at + 4 <= head.len() {
        if head[at] != 0xFF {
            return None;
        }
        let marker = head[at + 1];
        let len = be16(head, at + 2)? as usize;
        // SOF0–SOF15 but DHT (C4), JPG (C8) and DAC (CC).
        if (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            return Some((be16(head, at + 7)?, be16(head, at + 5)?));
        }
        at += 2 + len;
    }
    None
}

fn mp4_dimensions(head: &[u8]) -> Option<(u32, u32)> {
    let at = head.windows(4).position(|w| w == b"tkhd")?;
    // `tkhd`'s box starts 4 bytes before its type; after size, type, version and flags, a
    // version 0 body has 72 bytes (times, track id, duration, layer, volume, matrix) before width
    // and height (16.16 fixed point), at 84 and 88 bytes from the box start; version 1's 64-bit
    // times put them at 96 and 100.
    let start = at.checked_sub(4)?;
    let version = *head.get(at + 4)?;
    let (w, h) = if version == 1 { (start + 96, start + 100) } else { (start + 84, start + 88) };
    Some((be32(head, w)? >> 16, be32(head, h)? >> 16))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_bytes() {
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0\0\x10JFIF"), Some(ContentType::Jpeg));
        assert_eq!(sniff(b"GIF89a\x02\0\x01\0"), Some(ContentType::Gif));
        assert_eq!(sniff(b"\0\0\0\x18ftypmp42"), Some(ContentType::Mp4));
        assert_eq!(sniff(b"%PDF-1.7"), Some(ContentType::Pdf));
        assert_eq!(sniff(b"<svg xmlns="), None);
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend_from_slice(&640u32.to_be_bytes());
        png.extend_from_slice(&480u32.to_be_bytes());
        assert_eq!(dimensions(ContentType::Png, &png), Some((640, 480)));
        assert_eq!(dimensions(ContentType::Gif, b"GIF89a\x02\0\x01\0"), Some((2, 1)));
        let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 0, 0, 0xFF, 0xC0, 0, 11, 8, 0, 100, 0, 200, 3];
        assert_eq!(dimensions(ContentType::Jpeg, &jpeg), Some((200, 100)));
        let mut mp4 = b"\0\0\0\x18ftypisom\0\0\x02\0isommp42\0\0\0\x5ctkhd\0\0\0\x03".to_vec();
        mp4.extend_from_slice(&[0u8; 72]);
        mp4.extend_from_slice(&(1280u32 << 16).to_be_bytes());
        mp4.extend_from_slice(&(720u32 << 16).to_be_bytes());
        assert_eq!(dimensions(ContentType::Mp4, &mp4), Some((1280, 720)));
    }
}
