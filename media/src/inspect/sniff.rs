//! The content type from the first bytes, and the names of what is refused.

use crate::ContentType;

/// A kind of file Crier recognises and refuses, named for the person who chose it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)] // each variant is the format it names
pub enum Found {
    Svg,
    Html,
    Xml,
    Json,
    Text,
    Heic,
    Avif,
    QuickTime,
    ThreeGp,
    M4a,
    WebM,
    Avi,
    Wav,
    Mp3,
    Ogg,
    Flac,
    Tiff,
    Bmp,
    Icon,
    Photoshop,
    Jpeg2000,
    Zip,
    OldOffice,
    Rtf,
    Gzip,
    SevenZip,
    Rar,
    Executable,
}

impl Found {
    /// "an SVG image", "a QuickTime (.mov) video".
    pub fn name(self) -> &'static str {
        match self {
            Found::Svg => "an SVG image",
            Found::Html => "an HTML page",
            Found::Xml => "an XML document",
            Found::Json => "a JSON document",
            Found::Text => "a text file",
            Found::Heic => "a HEIC/HEIF image",
            Found::Avif => "an AVIF image",
            Found::QuickTime => "a QuickTime (.mov) video",
            Found::ThreeGp => "a 3GP video",
            Found::M4a => "an M4A audio file",
            Found::WebM => "a WebM or Matroska video",
            Found::Avi => "an AVI video",
            Found::Wav => "a WAV audio file",
            Found::Mp3 => "an MP3 audio file",
            Found::Ogg => "an Ogg file",
            Found::Flac => "a FLAC audio file",
            Found::Tiff => "a TIFF image (or a camera's raw file)",
            Found::Bmp => "a BMP image",
            Found::Icon => "an icon file",
            Found::Photoshop => "a Photoshop document",
            Found::Jpeg2000 => "a JPEG 2000 image",
            Found::Zip => "a ZIP archive (or an Office document)",
            Found::OldOffice => "an old-style Office document",
            Found::Rtf => "an RTF document",
            Found::Gzip => "a gzip archive",
            Found::SevenZip => "a 7-Zip archive",
            Found::Rar => "a RAR archive",
            Found::Executable => "a program",
        }
    }

    /// What to do instead, where there is something better to say than the accepted list.
    pub fn hint(self) -> Option<&'static str> {
        Some(match self {
            Found::Heic | Found::Avif | Found::Tiff | Found::Bmp | Found::Photoshop | Found::Jpeg2000 | Found::Svg => {
                "export it as JPEG or PNG"
            }
            Found::QuickTime | Found::ThreeGp | Found::WebM | Found::Avi => "convert it to MP4 with H.264 video",
            Found::Zip | Found::OldOffice | Found::Rtf => "export a document as PDF",
            _ => return None,
        })
    }
}

/// "a JPEG", "an MP4".
pub(super) fn article(content_type: ContentType) -> &'static str {
    match content_type {
        ContentType::Jpeg => "a JPEG",
        ContentType::Png => "a PNG",
        ContentType::Webp => "a WebP",
        ContentType::Gif => "a GIF",
        ContentType::Mp4 => "an MP4",
        ContentType::Pdf => "a PDF",
    }
}

/// The content type of a file starting with `head` (its first bytes, up to 512), or what it is
/// if it is refused (`None`: not recognised).
pub(super) fn sniff(head: &[u8]) -> Result<ContentType, Option<Found>> {
    let at = |offset: usize, magic: &[u8]| head.get(offset..offset + magic.len()) == Some(magic);
    if at(0, b"\xFF\xD8\xFF") {
        return Ok(ContentType::Jpeg);
    }
    if at(0, b"\x89PNG\r\n\x1A\n") {
        return Ok(ContentType::Png);
    }
    if at(0, b"GIF87a") || at(0, b"GIF89a") {
        return Ok(ContentType::Gif);
    }
    if at(0, b"%PDF-") {
        return Ok(ContentType::Pdf);
    }
    if at(0, b"RIFF") {
        return match head.get(8..12) {
            Some(b"WEBP") => Ok(ContentType::Webp),
            Some(b"AVI ") => Err(Some(Found::Avi)),
            Some(b"WAVE") => Err(Some(Found::Wav)),
            _ => Err(None),
        };
    }
    if at(4, b"ftyp") {
        return iso_media(head);
    }
    // QuickTime files from before `ftyp` start with their first atom.
    if [b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"].iter().any(|atom| at(4, *atom)) {
        return Err(Some(Found::QuickTime));
    }
    let found = match () {
        _ if at(0, b"\x1A\x45\xDF\xA3") => Found::WebM,
        _ if at(0, b"PK\x03\x04") || at(0, b"PK\x05\x06") => Found::Zip,
        _ if at(0, b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1") => Found::OldOffice,
        _ if at(0, b"II*\0") || at(0, b"MM\0*") => Found::Tiff,
        _ if at(0, b"BM") && at(6, b"\0\0\0\0") => Found::Bmp,
        _ if at(0, b"\0\0\x01\0") => Found::Icon,
        _ if at(0, b"8BPS") => Found::Photoshop,
        _ if at(0, b"\0\0\0\x0CjP  ") || at(0, b"\xFF\x4F\xFF\x51") => Found::Jpeg2000,
        _ if at(0, b"ID3") || at(0, b"\xFF\xFB") || at(0, b"\xFF\xF3") => Found::Mp3,
        _ if at(0, b"OggS") => Found::Ogg,
        _ if at(0, b"fLaC") => Found::Flac,
        _ if at(0, b"{\\rtf") => Found::Rtf,
        _ if at(0, b"\x1F\x8B") => Found::Gzip,
        _ if at(0, b"7z\xBC\xAF\x27\x1C") => Found::SevenZip,
        _ if at(0, b"Rar!\x1A\x07") => Found::Rar,
        _ if at(0, b"\x7FELF") || at(0, b"MZ") || at(0, b"\xCF\xFA\xED\xFE") => Found::Executable,
        _ => return Err(text(head)),
    };
    Err(Some(found))
}

/// An ISO base media file (`ftyp` box): MP4 is accepted; QuickTime, HEIC, AVIF, 3GP and M4A are
/// named and refused.
fn iso_media(head: &[u8]) -> Result<ContentType, Option<Found>> {
    let major = head.get(8..12).unwrap_or_default();
    let size = head.get(0..4).map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize);
    let compatible = head.get(16..size.min(head.len())).unwrap_or_default();
    let brands = || std::iter::once(major).chain(compatible.chunks_exact(4));
    let refused = |brand: &[u8]| match brand {
        b"qt  " => Some(Found::QuickTime),
        b"heic" | b"heix" | b"hevc" | b"hevx" | b"heim" | b"heis" | b"mif1" | b"msf1" => Some(Found::Heic),
        b"avif" | b"avis" => Some(Found::Avif),
        b"M4A " | b"M4B " | b"M4P " | b"F4A " => Some(Found::M4a),
        b"crx " => Some(Found::Tiff),
        b"jp2 " => Some(Found::Jpeg2000),
        _ if brand.starts_with(b"3g") => Some(Found::ThreeGp),
        _ => None,
    };
    // The major brand says what the file is; compatible brands only what it can be read as.
    if let Some(found) = refused(major) {
        return Err(Some(found));
    }
    let mp4 = |brand: &[u8]| {
        matches!(brand, b"isom" | b"mp41" | b"mp42" | b"avc1" | b"M4V " | b"M4VH" | b"M4VP" | b"MSNV" | b"dash" | b"mmp4" | b"f4v ")
            || (brand.starts_with(b"iso") && brand[3].is_ascii_digit())
    };
    if brands().any(mp4) {
        return Ok(ContentType::Mp4);
    }
    Err(brands().find_map(refused))
}

/// Text formats: SVG, HTML, XML, JSON, plain text.
fn text(head: &[u8]) -> Option<Found> {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    // The head may end inside a multi-byte character.
    let text = match std::str::from_utf8(head) {
        Ok(text) => text,
        Err(error) if error.error_len().is_none() => std::str::from_utf8(&head[..error.valid_up_to()]).ok()?,
        Err(_) => return None,
    };
    let lower = text.trim_start().to_ascii_lowercase();
    let markup = ["<!doctype html", "<html", "<head", "<body", "<script", "<iframe", "<meta", "<div", "<p>", "<a "];
    Some(match () {
        _ if lower.starts_with("<svg") || (lower.starts_with('<') && lower.contains("<svg")) => Found::Svg,
        _ if markup.iter().any(|tag| lower.starts_with(tag)) || lower.contains("<html") || lower.contains("<script") => Found::Html,
        _ if lower.starts_with("<?xml") || lower.starts_with("<!--") || lower.starts_with("<!doctype") => Found::Xml,
        _ if lower.starts_with('{') || lower.starts_with('[') => Found::Json,
        _ if text.chars().all(|c| !c.is_control() || c.is_whitespace()) && !text.is_empty() => Found::Text,
        _ => return None,
    })
}
