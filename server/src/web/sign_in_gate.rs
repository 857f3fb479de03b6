//! Pages need a signed-in member: a signed-out page load is redirected to
//! `/login?next=<the page>` before anything renders, so protected pages never flash or leak.
//! Also hands a failed plain form post's typed values to the page render that follows it.

use std::sync::Arc;

use app::server::ssr::{FormValues, SESSION_FORM_VALUES_KEY, member_from_session};
use app::state::AppState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, Response};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect};
use tower_sessions::Session;

/// Files and endpoints, not pages: no session work for them (each session access is a query).
fn is_not_a_page(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/metrics" | "/favicon.svg" | "/favicon.ico")
        || path.starts_with("/pkg/")
        // Server functions check the session themselves and answer with a typed error.
        || path.starts_with("/api/")
        // The sandbox's fake platforms have their own (fake) sign-in.
        || path.starts_with("/sandbox/")
}

/// Pages anyone may load.
fn is_public_page(path: &str) -> bool {
    matches!(path, "/login" | "/signup") || path.starts_with("/invite/")
}

pub(super) async fn gate(State(state): State<Arc<AppState>>, session: Session, mut request: Request, next: Next) -> Response<Body> {
    let path = request.uri().path();
    if !matches!(*request.method(), Method::GET | Method::HEAD) || is_not_a_page(path) {
        return next.run(request).await;
    }
    let public = is_public_page(path);
    // One page view consumes the values a failed plain form post left behind.
    if let Ok(Some(values)) = session.remove::<FormValues>(SESSION_FORM_VALUES_KEY).await {
        request.extensions_mut().insert(values);
    }
    if public {
        return next.run(request).await;
    }
    match member_from_session(&session, &state.pool).await {
        Ok(Some(member)) => {
            // The page render asks who is signed in; it finds the answer here, not in the database.
            request.extensions_mut().insert(member);
            next.run(request).await
        }
        Ok(None) => {
            let next_path = request.uri().path_and_query().map(|pq| pq.as_str()).unwrap_or("/");
            let target = format!("/login?next={}", url::form_urlencoded::byte_serialize(next_path.as_bytes()).collect::<String>());
            Redirect::to(&target).into_response()
        }
        Err(_) => {
            // Logged by member_from_session; the page would fail the same way, so say it plainly.
            (axum::http::StatusCode::SERVICE_UNAVAILABLE, "Crier cannot reach its database right now. Please try again in a moment.")
                .into_response()
        }
    }
}
