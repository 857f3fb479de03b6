//! What the three fakes' media flows share: receiving bytes without holding them
//! ([`assembly`]), knowing a file by its first bytes ([`sniff`]), playing asynchronous processing
//! on the sandbox's clock ([`processing`]), and what the ledger records of each post's media
//! ([`PostMedia`]). Each platform's flow is in its own folder (`x/media.rs`,
//! `linkedin/media.rs`, `facebook/media.rs`), following media-and-metrics.md §1–§3 and §5.
//!
//! Every limit (sizes, counts, lifetimes, processing delays) is a setting of the platform's
//! `…MediaLimits` in [`crate::SandboxConfig`]: the platforms' numbers drift, and tests shrink
//! them to exercise a refusal with a few bytes.

pub(crate) mod assembly;
pub(crate) mod processing;
pub(crate) mod sniff;

use axum::body::Body;
use axum::http::HeaderMap;
use axum::response::Response;
use bytes::Bytes;
use crier_media::ContentType;
use futures_util::Stream;
use serde::{Deserialize, Serialize};

pub use processing::ProcessingConfig;

/// One media item of a published post, as the ledger records it, in the post's order: what the
/// platform received, so a test can prove that the exact bytes arrived.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostMedia {
    /// The platform's id for it: X media id, LinkedIn URN, Facebook photo or video id.
    pub media_id: String,
    /// The type sniffed from the bytes (`image/png`, `video/mp4`, …).
    pub content_type: String,
    /// SHA-256 of the bytes received, lowercase hex.
    pub sha256: String,
    /// How many bytes.
    pub byte_size: u64,
    /// The alt text stored with it, if any.
    pub alt_text: Option<String>,
}

/// What an upload turned out to be, once all its bytes are in.
#[derive(Clone, Debug)]
pub(crate) struct Stored {
    pub(crate) content_type: ContentType,
    pub(crate) sha256: String,
    pub(crate) byte_size: u64,
    pub(crate) dimensions: Option<(u32, u32)>,
}

impl Stored {
    /// Reads a finished assembly: its sniffed type (`None` for bytes no platform takes).
    pub(crate) fn from_whole(whole: &assembly::Whole) -> Option<Stored> {
        let content_type = sniff::sniff(&whole.head)?;
        Some(Stored {
            content_type,
            sha256: whole.sha256.clone(),
            byte_size: whole.bytes,
            dimensions: sniff::dimensions(content_type, &whole.head),
        })
    }

    pub(crate) fn ledger(&self, media_id: &str, alt_text: Option<String>) -> PostMedia {
        PostMedia {
            media_id: media_id.to_owned(),
            content_type: self.content_type.mime().to_owned(),
            sha256: self.sha256.clone(),
            byte_size: self.byte_size,
            alt_text,
        }
    }

    /// Whether width ÷ height is within `[min, max]`; unknown dimensions pass (the fakes decode
    /// nothing; an MP4 with its `moov` at the end has no dimensions in its first bytes).
    pub(crate) fn aspect_within(&self, range: Option<(f64, f64)>) -> bool {
        match (range, self.dimensions) {
            (Some((min, max)), Some((w, h))) if h > 0 => {
                let ratio = f64::from(w) / f64::from(h);
                ratio >= min - 1e-9 && ratio <= max + 1e-9
            }
            _ => true,
        }
    }
}

/// A request body as a stream of chunks.
pub(crate) fn body_stream(body: Body) -> impl Stream<Item = Result<Bytes, axum::Error>> + Unpin {
    body.into_data_stream()
}

/// `response`, once the request's body has been read to its end and thrown away (never held). A
/// real server refuses an upload (a rate limit, a bad token) after the bytes arrived; answering
/// while the client is still sending makes its send fail instead, which the client must take for
/// "no answer", so a fake that did so would test something the platforms do not do.
pub(crate) async fn refuse_after_body(body: Body, response: Response) -> Response {
    use futures_util::StreamExt;
    let mut stream = body.into_data_stream();
    while let Some(Ok(_)) = stream.next().await {}
    response
}

/// A multipart/form-data body, parsed as it streams.
pub(crate) fn multipart(headers: &HeaderMap, body: Body) -> Result<multer::Multipart<'static>, String> {
    let content_type = headers.get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let boundary = multer::parse_boundary(content_type).map_err(|_| "the body must be multipart/form-data".to_owned())?;
    Ok(multer::Multipart::new(body.into_data_stream(), boundary))
}

/// A multipart text field, read whole (small by nature; refused past 64 KiB).
pub(crate) async fn text_field(field: multer::Field<'static>) -> Result<String, String> {
    let bytes = field.bytes().await.map_err(|e| format!("the body broke off: {e}"))?;
    if bytes.len() > 64 * 1024 {
        return Err("a text field is longer than 64 KiB".to_owned());
    }
    String::from_utf8(bytes.to_vec()).map_err(|_| "a text field is not UTF-8".to_owned())
}
