//! Profile pictures, as the platforms' image hosts serve them (pbs.twimg.com, media.licdn.com,
//! scontent.xx.fbcdn.net): `GET /pictures/{platform}/{id}.png`, a small PNG drawn for each
//! account from its id (the same id, the same picture), which the fakes' who-am-I answers point
//! at. Tests replace an account's picture with any bytes and any `Content-Type`
//! (`PUT /control/pictures/{platform}/{id}`), to offer Crier a new picture, a page that is not
//! one, or one too large.

use axum::body::Bytes;
use axum::extract::{Path, State as AxumState};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use crier_platform::Platform;

use crate::Inner;

type Shared = AxumState<std::sync::Arc<Inner>>;

/// The side of the drawn pictures, in pixels (X's `_normal` size).
const SIDE: u32 = 48;

/// Where the fake image host serves `id`'s picture on `platform`.
pub(crate) fn url(inner: &Inner, platform: Platform, id: &str) -> String {
    let id: String = id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
    format!("{}/pictures/{}/{id}.png", inner.config.public_base, platform.as_str())
}

/// The picture drawn for an id: a PNG whose colours follow from the id.
pub fn drawn(id: &str) -> Vec<u8> {
    let seed = id.bytes().fold(17u8, |acc, b| acc.wrapping_mul(31).wrapping_add(b));
    crier_media::fixtures::png(SIDE, SIDE, seed)
}

/// `GET /pictures/{platform}/{file}`: the account's picture, or what a test put in its place.
pub(crate) async fn picture(AxumState(inner): Shared, Path((platform, file)): Path<(String, String)>) -> Response {
    let Some(id) = file.strip_suffix(".png") else { return StatusCode::NOT_FOUND.into_response() };
    if platform.parse::<Platform>().is_err() {
        return StatusCode::NOT_FOUND.into_response();
    }
    let replaced = inner.lock().pictures.get(&(platform, id.to_owned())).cloned();
    let (content_type, bytes) = replaced.unwrap_or_else(|| ("image/png".to_owned(), drawn(id)));
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_str(&content_type).unwrap_or(HeaderValue::from_static("application/octet-stream")));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400"));
    (StatusCode::OK, headers, bytes).into_response()
}

/// `PUT /control/pictures/{platform}/{id}` (body: the bytes; `Content-Type`: what to answer
/// with): the account's picture from now on, until a reset.
pub(crate) async fn replace(
    AxumState(inner): Shared,
    Path((platform, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if platform.parse::<Platform>().is_err() {
        return StatusCode::NOT_FOUND.into_response();
    }
    let content_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("application/octet-stream").to_owned();
    inner.lock().pictures.insert((platform, id), (content_type, body.to_vec()));
    StatusCode::NO_CONTENT.into_response()
}
