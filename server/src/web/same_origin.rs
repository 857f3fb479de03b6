//! Cross-site requests are refused: every request that changes something (POST, PUT, PATCH,
//! DELETE), from a form or by fetch, log-in and sign-up included, must come from Crier's own
//! origin. Browsers say where a request comes from in `Sec-Fetch-Site` (which a page cannot forge)
//! and `Origin`; a request from another site's page (`Sec-Fetch-Site: cross-site`, or an `Origin`
//! that is not `CRIER_PUBLIC_URL`'s) answers 403 before it reaches the session or a handler. This
//! is what stops login CSRF (signing a victim into an attacker's team) and a forged post riding on
//! a victim's cookie; `SameSite=Lax` cookies alone do not stop the first.
//!
//! A request with neither header is not a browser's (every current browser sends at least one on a
//! POST): scripts and tests are not cross-site requests, and carry no victim's cookie.
//!
//! The REST API is exempt: it authenticates with a bearer token, never a cookie.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{ACCEPT, CONTENT_TYPE, ORIGIN};
use axum::http::{HeaderValue, Method, Response, StatusCode};
use axum::middleware::Next;

use super::body_limit::is_rest_api;

/// Crier's own origin (`scheme://host[:port]` of `CRIER_PUBLIC_URL`).
#[derive(Clone, Debug)]
pub(super) struct OwnOrigin(pub String);

impl OwnOrigin {
    /// The origin of a public base URL (`https://crier.example.com/`, path and slash dropped).
    pub(super) fn of(public_base: &str) -> Self {
        let origin = url::Url::parse(public_base).map(|u| u.origin().ascii_serialization()).unwrap_or_else(|_| public_base.to_owned());
        OwnOrigin(origin)
    }
}

/// Whether a request from a browser that says `sec_fetch_site` and `origin` is from this site.
fn from_this_site(own: &OwnOrigin, sec_fetch_site: Option<&str>, origin: Option<&str>) -> bool {
    match (sec_fetch_site, origin) {
        // `same-origin` only: a sibling subdomain (`same-site`) is another site's page as far as
        // Crier's forms are concerned.
        (Some(site), _) => site == "same-origin",
        // Older browsers: the Origin header (`null` from sandboxed frames and privacy modes is
        // not ours either).
        (None, Some(origin)) => origin == own.0,
        (None, None) => true,
    }
}

pub(super) async fn refuse_cross_site(State(own): State<Arc<OwnOrigin>>, request: Request, next: Next) -> Response<Body> {
    let changes_something = !matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !changes_something || is_rest_api(request.uri().path()) {
        return next.run(request).await;
    }
    let site = header(&request, "sec-fetch-site");
    let origin = header(&request, ORIGIN.as_str());
    if from_this_site(&own, site.as_deref(), origin.as_deref()) {
        return next.run(request).await;
    }
    tracing::warn!(
        path = %request.uri().path(),
        origin = origin.as_deref().unwrap_or("-"),
        sec_fetch_site = site.as_deref().unwrap_or("-"),
        "a cross-site request was refused"
    );
    refused(header(&request, ACCEPT.as_str()).is_some_and(|v| v.contains("text/html")))
}

fn header(request: &Request, name: &str) -> Option<String> {
    request.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

fn refused(wants_page: bool) -> Response<Body> {
    let words = "This request came from another website, so Crier refused it: a page elsewhere cannot act in Crier on your behalf. \
                 If you were using Crier, reload its page and try again.";
    let (content_type, body) = if wants_page {
        let page = format!(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Refused · Crier</title></head>\
             <body><h1>Refused: the request came from another site</h1><p>{words}</p><p><a href=\"/\">Open Crier</a></p></body></html>"
        );
        ("text/html; charset=utf-8", page)
    } else {
        ("application/json", serde_json::to_string(&app::errors::AppError::Refused(words.to_owned())).unwrap_or_default())
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::FORBIDDEN;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    if content_type == "application/json" {
        response.headers_mut().insert("serverfnerror", HeaderValue::from_static("1"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_origin_may_change_things() {
        let own = OwnOrigin::of("https://crier.example.com/");
        assert_eq!(own.0, "https://crier.example.com");
        assert!(from_this_site(&own, Some("same-origin"), Some("https://crier.example.com")));
        assert!(!from_this_site(&own, Some("cross-site"), Some("https://evil.example")));
        assert!(!from_this_site(&own, Some("same-site"), Some("https://evil.crier.example.com")));
        assert!(!from_this_site(&own, Some("cross-site"), Some("https://crier.example.com")), "Sec-Fetch-Site cannot be forged by a page");
        assert!(from_this_site(&own, None, Some("https://crier.example.com")));
        assert!(!from_this_site(&own, None, Some("https://evil.example")));
        assert!(!from_this_site(&own, None, Some("null")));
        assert!(from_this_site(&own, None, None), "not a browser: no victim's cookie to ride on");
        assert_eq!(OwnOrigin::of("http://127.0.0.1:3000").0, "http://127.0.0.1:3000");
    }
}
