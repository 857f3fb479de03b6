//! Pages need a signed-in member: a signed-out page load is redirected to
//! `/login?next=<the page>` before anything renders, so protected pages never flash or leak.
//! A sign-in waiting for its second step (two-factor) is sent back to that step's page instead:
//! nothing else opens before it is done. Also hands a failed plain form post's typed values to the
//! page render that follows it, and keeps the session's client (address, browser) current for the
//! Security page.
//!
//! While the database is away a protected page answers 503 at once, from the first session read
//! that fails (the session store gives up within its timeout); the outage is logged when it
//! starts and ends, not at every page view.

use std::sync::Arc;

use app::server::ssr::{ClientAddr, FormValues, SESSION_FORM_VALUES_KEY, member_from_session, pending_sign_in};
use app::state::AppState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::USER_AGENT;
use axum::http::{Method, Response};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect};
use crier_domain::outage::SharedOutage;
use crier_domain::store::sessions::{CLIENT_KEY, ClientInfo};
use tower_sessions::Session;

use super::AlreadyReported;

/// What the gate needs: the app's state, and the database as page views see it (for the log).
pub(super) struct Gate {
    app: AppState,
    database: SharedOutage,
}

impl Gate {
    pub(super) fn new(app: AppState) -> Self {
        Gate { app, database: SharedOutage::new("reading sessions for page views") }
    }
}

/// The page a protected page answers while its session or member cannot be read.
fn unavailable() -> Response<Body> {
    (
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        axum::Extension(AlreadyReported),
        "Crier cannot reach its database right now. Please try again in a moment.",
    )
        .into_response()
}

/// Files and endpoints, not pages: no session work for them (each session access is a query).
fn is_not_a_page(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/metrics" | "/favicon.svg" | "/favicon.ico" | "/calendar.js")
        || path.starts_with("/pkg/")
        // The platforms' icons (public/icons), shown on every page.
        || path.starts_with("/icons/")
        // Server functions check the session themselves and answer with a typed error.
        || path.starts_with("/api/")
        // The sandbox's fake platforms have their own (fake) sign-in.
        || path.starts_with("/sandbox/")
        // Media files check the session themselves (a file answers 404, never the login page),
        // and loading a thumbnail must not consume what the page it sits on was shown.
        || path.starts_with("/media/")
        // So do accounts' profile pictures, for the same reasons.
        || (path.starts_with("/accounts/") && path.ends_with("/picture"))
        // An email's unsubscribe link: its signature is its authority, no session is needed.
        || path == "/unsubscribe"
        // Posts' short links: anyone who reads the post follows them.
        || path.starts_with("/l/")
}

/// Pages anyone may load.
fn is_public_page(path: &str) -> bool {
    matches!(path, "/login" | "/signup" | "/login/two-factor" | "/login/two-factor/setup")
        || path.starts_with("/invite/")
        || path.starts_with("/r/")
}

pub(super) async fn gate(State(gate): State<Arc<Gate>>, session: Session, mut request: Request, next: Next) -> Response<Body> {
    let path = request.uri().path();
    if !matches!(*request.method(), Method::GET | Method::HEAD) || is_not_a_page(path) {
        return next.run(request).await;
    }
    let public = is_public_page(path);
    // One page view consumes the values a failed plain form post left behind. It is also the
    // view's first session read: when it fails, a protected page says so without asking again.
    match session.remove::<FormValues>(SESSION_FORM_VALUES_KEY).await {
        Ok(Some(values)) => {
            request.extensions_mut().insert(values);
        }
        Ok(None) => {}
        Err(e) if !public => {
            gate.database.failed(&e);
            return unavailable();
        }
        // The login page renders without a session (its form posts need the database anyway).
        Err(_) => {}
    }
    if public {
        return next.run(request).await;
    }
    match member_from_session(&session, &gate.app.pool).await {
        Ok(Some(member)) => {
            // A session and a member were read: the database answers.
            gate.database.ok();
            if let Some(client) = client_of(&request) {
                note_client(&session, client).await;
            }
            // The page render asks who is signed in; it finds the answer here, not in the database.
            request.extensions_mut().insert(member);
            next.run(request).await
        }
        // Not a sign that the database answers: without a session cookie nothing was read.
        Ok(None) => {
            if let Some(pending) = pending_sign_in(&session).await {
                return Redirect::to(pending.page()).into_response();
            }
            let next_path = request.uri().path_and_query().map(|pq| pq.as_str()).unwrap_or("/");
            let target = format!("/login?next={}", url::form_urlencoded::byte_serialize(next_path.as_bytes()).collect::<String>());
            Redirect::to(&target).into_response()
        }
        // Logged by member_from_session; the page would fail the same way, so say it plainly.
        Err(_) => unavailable(),
    }
}

/// The address and browser a request came from (the address is put in by the `client_addr` layer).
fn client_of(request: &Request) -> Option<ClientInfo> {
    let ClientAddr(addr) = request.extensions().get::<ClientAddr>().copied()?;
    let agent = request.headers().get(USER_AGENT).and_then(|v| v.to_str().ok());
    Some(ClientInfo::new(&addr.to_string(), agent))
}

/// Records the address and browser a signed-in page load came from when they changed (the session
/// is saved after every page load anyway, so this costs no extra query).
async fn note_client(session: &Session, client: ClientInfo) {
    if session.get::<ClientInfo>(CLIENT_KEY).await.ok().flatten().as_ref() != Some(&client)
        && let Err(e) = session.insert(CLIENT_KEY, client).await
    {
        tracing::warn!(error = %e, "could not note the session's client");
    }
}
