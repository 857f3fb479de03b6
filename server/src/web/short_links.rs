//! `/l/<code>`: a post's short link ([`crier_domain::link_tracking`]). It redirects to the link as
//! the post chose it (UTM parameters included) and counts the click for the delivery, without
//! signing in and without storing anything about the visitor: no address, no agent, no cookie.
//!
//! Platforms fetch every link in a post to draw its preview card, and so do chat apps when the post
//! is shared; those crawlers are redirected too but not counted, nor are `HEAD` requests.

use app::state::AppState;
use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, LOCATION, USER_AGENT};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use crier_domain::store::link_tracking;

/// Words in the `User-Agent` of the link-preview crawlers and bots that fetch links by themselves.
const CRAWLERS: [&str; 12] = [
    "bot",
    "crawler",
    "spider",
    "facebookexternalhit",
    "facebookcatalog",
    "embedly",
    "preview",
    "whatsapp",
    "skypeuripreview",
    "vkshare",
    "outbrain",
    "pinterest",
];

/// Whether the request comes from a crawler rather than a person's browser (the agent is read
/// here and nowhere kept).
fn is_crawler(headers: &HeaderMap) -> bool {
    let Some(agent) = headers.get(USER_AGENT).and_then(|v| v.to_str().ok()) else { return true };
    let agent = agent.to_ascii_lowercase();
    CRAWLERS.iter().any(|word| agent.contains(word))
}

/// `GET /l/{code}`.
pub(super) async fn follow(State(state): State<AppState>, method: Method, headers: HeaderMap, Path(code): Path<String>) -> Response {
    let count = method == Method::GET && !is_crawler(&headers);
    match link_tracking::follow(&state.pool, &code, count).await {
        Ok(Some(url)) => match HeaderValue::from_str(&url) {
            Ok(location) => {
                let mut response = StatusCode::FOUND.into_response();
                response.headers_mut().insert(LOCATION, location);
                // Every visit must reach Crier to be counted.
                response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
                response.headers_mut().insert("x-robots-tag", HeaderValue::from_static("noindex"));
                response
            }
            Err(_) => not_found(),
        },
        Ok(None) => not_found(),
        Err(error) => {
            tracing::error!(%error, "a short link could not be followed");
            super::standalone_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "This link is resting",
                "<p>Crier cannot look it up right now. Try again in a moment.</p>",
            )
        }
    }
}

fn not_found() -> Response {
    super::standalone_page(StatusCode::NOT_FOUND, "This link does not exist", "<p>Check that it was copied whole.</p>")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(USER_AGENT, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn preview_crawlers_are_not_people() {
        for crawler in [
            "Twitterbot/1.0",
            "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
            "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
            "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
            "WhatsApp/2.23.20.0",
        ] {
            assert!(is_crawler(&agent(crawler)), "{crawler}");
        }
        assert!(is_crawler(&HeaderMap::new()), "no agent at all is not a browser");
        assert!(!is_crawler(&agent("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148")));
    }
}
