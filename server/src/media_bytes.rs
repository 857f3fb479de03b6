//! A media item's bytes as an HTTP answer, the same for every route that serves them: the pages'
//! (`/media/{id}`, a signed link) and the REST API's (`/api/v1/media/{id}/content`). Each route
//! decides who may see the item and words its own refusals ([`Unserved`]); the headers are decided
//! here, once.
//!
//! Whatever an item is, the answer cannot be run as a page: the content type is the sniffed one
//! (never the uploader's), `nosniff` (set on every response) stops browsers guessing another, the
//! response's own Content-Security-Policy is `sandbox` with nothing allowed, and PDFs download
//! rather than open inline. Bytes stream from the store; a single `Range` is honoured (video
//! players seek with it).

use std::ops::Range;

use axum::body::Body;
use axum::http::header::{
    ACCEPT_RANGES, CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_SECURITY_POLICY, CONTENT_TYPE, RANGE,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use crier_domain::store::media::MediaItem;
use crier_media::MediaKind;
use crier_media::storage::{MediaKey, MediaStore, StorageError};
use uuid::Uuid;

/// Nothing on a media response may run or load anything.
pub const MEDIA_CSP: &str = "default-src 'none'; sandbox";

/// Why the bytes were not sent; each route answers it in its own words.
#[derive(Debug)]
pub enum Unserved {
    /// The `Range` asked for is not in the file of this many bytes.
    NotSatisfiable {
        /// The file's size.
        size: u64,
    },
    /// The store failed (or the bytes are missing from it).
    Store(StorageError),
}

impl Unserved {
    /// `Content-Range: bytes */<size>`, which a 416 answer carries.
    pub fn content_range(size: u64) -> Option<HeaderValue> {
        HeaderValue::from_str(&format!("bytes */{size}")).ok()
    }
}

/// The item's bytes (or the one range `request` asks for), streamed from the store.
pub async fn original(
    store: &MediaStore,
    team_id: Uuid,
    item: &MediaItem,
    request: &HeaderMap,
    cache: &'static str,
) -> Result<Response, Unserved> {
    let size = item.facts.byte_size;
    let key = MediaKey::original(team_id, item.media_id);
    let range = request.get(RANGE).and_then(|v| v.to_str().ok()).map(|v| single_range(v, size));
    let (status, range) = match range {
        None => (StatusCode::OK, 0..size),
        Some(Some(range)) => (StatusCode::PARTIAL_CONTENT, range),
        Some(None) => return Err(Unserved::NotSatisfiable { size }),
    };
    let stream = store.stream_range(&key, range.clone()).await.map_err(Unserved::Store)?;
    let mut response = Response::new(Body::from_stream(stream));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(item.facts.content_type.mime()));
    headers.insert(CONTENT_LENGTH, HeaderValue::from(range.end - range.start));
    headers.insert(ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(MEDIA_CSP));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    if status == StatusCode::PARTIAL_CONTENT
        && let Ok(value) = HeaderValue::from_str(&format!("bytes {}-{}/{size}", range.start, range.end - 1))
    {
        headers.insert(CONTENT_RANGE, value);
    }
    if let Ok(value) = HeaderValue::from_str(&content_disposition(item)) {
        headers.insert(CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// An account's stored profile picture (`/accounts/{id}/picture`, `/api/v1/accounts/{id}/picture`):
/// its checked type, the deny-all policy, and a year of private caching, since every URL that
/// names it carries its version (`?v=`), which changes with its bytes.
pub fn account_picture(stored: crier_domain::store::account_pictures::StoredPicture) -> Response {
    let etag = HeaderValue::from_str(&format!("\"{}\"", stored.version)).ok();
    let mut response = Body::from(stored.bytes).into_response();
    let headers = response.headers_mut();
    // Stored only as one of four image types (the table's check says so), always a valid header.
    headers.insert(CONTENT_TYPE, HeaderValue::from_str(&stored.content_type).unwrap_or(HeaderValue::from_static("image/png")));
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(MEDIA_CSP));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("private, max-age=31536000, immutable"));
    if let Some(etag) = etag {
        headers.insert(axum::http::header::ETAG, etag);
    }
    response
}

/// The item's thumbnail (a small JPEG); the caller checked that it has one.
pub async fn thumbnail(store: &MediaStore, team_id: Uuid, item: &MediaItem) -> Result<Response, Unserved> {
    let jpeg = store.read_small(&MediaKey::thumbnail(team_id, item.media_id)).await.map_err(Unserved::Store)?;
    let mut response = Body::from(jpeg).into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("image/jpeg"));
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(MEDIA_CSP));
    // An item's thumbnail never changes (a new upload is a new item).
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("private, max-age=86400, immutable"));
    Ok(response)
}

/// `inline` for pictures and video (pages show them), `attachment` for documents; the name in
/// RFC 6266's two forms: a plain ASCII fallback and the UTF-8 original, percent-encoded.
fn content_disposition(item: &MediaItem) -> String {
    let kind = if item.kind() == MediaKind::Document { "attachment" } else { "inline" };
    let ascii: String =
        item.file_name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ') { c } else { '_' }).collect();
    let encoded: String = url::form_urlencoded::byte_serialize(item.file_name.as_bytes()).collect::<String>().replace('+', "%20");
    format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// A `Range: bytes=…` header with one range, within a file of `size` bytes: `None` when it
/// cannot be satisfied. (Several ranges are answered with the whole file, as RFC 9110 allows.)
fn single_range(header: &str, size: u64) -> Option<Range<u64>> {
    // Another unit is not understood: the whole file, as if no range had been asked for.
    let Some(spec) = header.trim().strip_prefix("bytes=") else {
        return Some(0..size);
    };
    if spec.contains(',') {
        return Some(0..size);
    }
    let (start, end) = spec.split_once('-')?;
    let (start, end) = (start.trim(), end.trim());
    let range = if start.is_empty() {
        // The last N bytes.
        let last: u64 = end.parse().ok()?;
        size.saturating_sub(last)..size
    } else {
        let start: u64 = start.parse().ok()?;
        let end = if end.is_empty() { size } else { end.parse::<u64>().ok()?.saturating_add(1).min(size) };
        start..end
    };
    (range.start < range.end).then_some(range)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_read_as_rfc_9110_says() {
        assert_eq!(single_range("bytes=0-99", 1000), Some(0..100));
        assert_eq!(single_range("bytes=900-", 1000), Some(900..1000));
        assert_eq!(single_range("bytes=-100", 1000), Some(900..1000));
        assert_eq!(single_range("bytes=990-2000", 1000), Some(990..1000));
        assert_eq!(single_range("bytes=0-1,5-9", 1000), Some(0..1000));
        assert_eq!(single_range("bytes=1000-", 1000), None);
        assert_eq!(single_range("bytes=5-1", 1000), None);
        assert_eq!(single_range("items=0-1", 1000), Some(0..1000));
    }
}
