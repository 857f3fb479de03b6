//! Every request body is bounded before anything reads it: a form's server function gets
//! [`FORM_LIMIT`], the batch form [`BATCH_LIMIT`], the REST API [`API_LIMIT`] (a chunk of a
//! resumable upload [`CHUNK_LIMIT`]). A larger body is
//! answered 413 at once, in the words its sender reads: a page for a plain form post, an error the
//! form shows for a post by fetch, problem+json for the API. Nothing is parsed or stored first.
//!
//! A body announced with a `Content-Length` is refused from the header alone; a chunked one is read
//! up to its limit and refused past it (then put back for the handler), so no request makes the
//! server hold more than its limit.

use app::errors::AppError;
use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::header::{ACCEPT, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderValue, Method, Response, StatusCode};
use axum::middleware::Next;

/// Server functions behind ordinary forms: a post's text with its per-platform variants and a
/// thread fits in a few dozen kilobytes.
pub const FORM_LIMIT: usize = 64 * 1024;
/// The batch form: up to 500 lines of posts.
pub const BATCH_LIMIT: usize = 1024 * 1024;
/// The REST API's JSON bodies (one post with its texts, thread and settings).
pub const API_LIMIT: usize = 256 * 1024;
/// A chunk of a resumable upload: the largest chunk size an upload may choose (each handler
/// then holds a chunk to its own upload's size).
pub const CHUNK_LIMIT: usize = crier_domain::store::media_uploads::MAX_CHUNK_BYTES as usize;

/// The paths of the REST API (bearer tokens, problem+json).
pub(super) fn is_rest_api(path: &str) -> bool {
    ["/api/v1/", "/api/v2/", "/api/social-media/", "/api/publishing/"].iter().any(|prefix| path.starts_with(prefix))
}

/// Uploads of media files, which stream to disk and bound each file themselves
/// (CRIER_MEDIA_MAX_FILE_SIZE, a number of files per request): no limit here would fit a video
/// without letting every other path take as much. CSV imports read their file up to
/// CRIER_IMPORT_MAX_FILE_SIZE themselves.
fn streams_itself(path: &str) -> bool {
    matches!(path, "/media/upload" | "/api/v1/media" | "/compose/import" | "/api/v1/posts/import")
}

/// A resumable upload's own path, `/api/v1/media/uploads/<id>`, where its chunks are sent.
fn is_upload_chunk(path: &str) -> bool {
    path.strip_prefix("/api/v1/media/uploads/").is_some_and(|id| !id.is_empty() && !id.contains('/'))
}

/// The body limit of a path.
fn limit_for(path: &str) -> usize {
    if is_upload_chunk(path) {
        CHUNK_LIMIT
    } else if is_rest_api(path) {
        API_LIMIT
    } else if path == "/api/posts/batch" {
        BATCH_LIMIT
    } else {
        FORM_LIMIT
    }
}

pub(super) async fn bounded(request: Request, next: Next) -> Response<Body> {
    if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) || streams_itself(request.uri().path()) {
        return next.run(request).await;
    }
    let limit = limit_for(request.uri().path());
    let announced = request.headers().get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
    match announced {
        Some(length) if length > limit as u64 => too_large(&request, limit),
        Some(_) => next.run(request).await,
        None => {
            // No length announced: read at most the limit, then hand the bytes on.
            let (parts, body) = request.into_parts();
            match to_bytes(body, limit).await {
                Ok(bytes) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
                Err(_) => too_large(&Request::from_parts(parts, Body::empty()), limit),
            }
        }
    }
}

/// The refusal, in the form its sender reads.
fn too_large(request: &Request, limit: usize) -> Response<Body> {
    let path = request.uri().path();
    let kb = limit / 1024;
    let wants_page = request.headers().get(ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/html"));
    let (content_type, body) = if is_rest_api(path) {
        let detail = format!("The request body is larger than this endpoint accepts ({kb} KB). Send less in one request.");
        let problem = serde_json::json!({ "type": "about:blank", "title": "Payload Too Large", "status": 413, "detail": detail });
        ("application/problem+json", problem.to_string())
    } else if wants_page {
        let page = format!(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Too much at once · Crier</title></head>\
             <body><h1>That was too much to send at once</h1><p>Crier accepts at most {kb} KB from this form, and what was sent \
             is larger. Nothing was saved. Use your browser's Back button (what you typed is still in the form), shorten it, \
             and send it again.</p><p><a href=\"/\">Dashboard</a></p></body></html>"
        );
        ("text/html; charset=utf-8", page)
    } else {
        let error = AppError::Refused(format!(
            "That is more than this form accepts at once ({kb} KB). Nothing was saved: shorten it and send again."
        ));
        ("application/json", serde_json::to_string(&error).unwrap_or_default())
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    if content_type == "application/json" {
        // How server_fn marks an error answer (see `server_fn_errors`).
        response.headers_mut().insert("serverfnerror", HeaderValue::from_static("1"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_path_has_its_limit() {
        assert_eq!(limit_for("/api/sign_up"), FORM_LIMIT);
        assert_eq!(limit_for("/api/posts/batch"), BATCH_LIMIT);
        assert_eq!(limit_for("/api/v1/posts"), API_LIMIT);
        assert_eq!(limit_for("/api/v2/content/generate"), API_LIMIT);
        assert_eq!(limit_for("/anything/else"), FORM_LIMIT);
        assert_eq!(limit_for("/api/v1/media/uploads/5f1c2b7e-0d1e-4c51-9c1a-2f3e4d5c6b7a"), CHUNK_LIMIT);
        assert_eq!(limit_for("/api/v1/media/uploads"), API_LIMIT, "starting an upload is JSON");
        assert_eq!(limit_for("/api/v1/media/uploads/5f1c2b7e-0d1e-4c51-9c1a-2f3e4d5c6b7a/complete"), API_LIMIT);
        assert!(streams_itself("/media/upload") && streams_itself("/api/v1/media"));
        assert!(!streams_itself("/media/upload/../api/sign_up"));
    }
}
