//! Headers every response carries (HSTS too when Crier is served over https), and the response
//! for a request whose handler panicked.

use std::any::Any;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{
    CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderValue, Response, StatusCode};
use axum::middleware::Next;

/// For responses that are not rendered pages (JSON, files, errors): nothing may run or frame
/// them. Pages set their own policy with a per-response script nonce (see `app::server::ssr`).
const DEFAULT_CSP: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// HSTS for a year: once a browser has seen Crier over https it never asks over plain http again
/// (no subdomains: Crier does not know what else runs under its domain).
const HSTS: &str = "max-age=31536000";

/// Adds the security headers. `Referrer-Policy: same-origin` keeps the full referrer for our own
/// pages (forms posted before hydration are sent back to it) and sends none elsewhere. `https`
/// (CRIER_PUBLIC_URL is https) adds `Strict-Transport-Security`; on plain http (local development)
/// browsers ignore it, and it would pin a name like localhost to https for a year, so it is left out.
pub(crate) async fn headers(State(https): State<bool>, request: Request, next: Next) -> Response<Body> {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if https {
        headers.insert(STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    }
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.entry(CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(DEFAULT_CSP));
    response
}

/// A panic becomes a plain 500 page; the panic message goes to the log, never to the browser.
pub(super) fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response<Body> {
    let message =
        panic.downcast_ref::<String>().map(String::as_str).or_else(|| panic.downcast_ref::<&str>().copied()).unwrap_or("(no message)");
    tracing::error!(panic = message, "a request handler panicked");
    let page = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Something went wrong · Crier</title></head>\
                <body><h1>Something went wrong</h1><p>Crier hit an unexpected problem. It has been logged. \
                Please go back and try again.</p><p><a href=\"/\">Go to the dashboard</a></p></body></html>";
    let mut response = Response::new(Body::from(page));
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    response
}
