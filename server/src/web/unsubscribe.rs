//! `/unsubscribe?u=…&k=…&s=…`: an email's link that turns one kind of email off, signed for its
//! reader ([`UnsubscribeLinks`]), working without signing in.
//!
//! `GET` only asks (mail scanners fetch links, and must not unsubscribe anyone); `POST` does it:
//! the page's button, or a mail client's one-click unsubscribe (RFC 8058, `List-Unsubscribe-Post`),
//! which posts to the same URL. A bad or altered link says so and changes nothing.

use app::state::AppState;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use crier_domain::notification::NotificationKind;
use crier_domain::store::notify::{self, UnsubscribeLinks};
use serde::Deserialize;
use uuid::Uuid;

/// The link's query.
#[derive(Deserialize)]
pub(super) struct Link {
    #[serde(default)]
    u: String,
    #[serde(default)]
    k: String,
    #[serde(default)]
    s: String,
}

fn checked(state: &AppState, link: &Link) -> Option<(Uuid, NotificationKind)> {
    // Bounded before any work: a link Crier wrote is far shorter.
    if link.u.len() > 64 || link.k.len() > 64 || link.s.len() > 128 {
        return None;
    }
    UnsubscribeLinks::new(&state.vault).check(&link.u, &link.k, &link.s)
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    super::standalone_page(status, title, body)
}

fn invalid() -> Response {
    page(
        StatusCode::NOT_FOUND,
        "This unsubscribe link does not work",
        "<p>It is incomplete, was changed, or was made before this Crier's keys were rotated. Nothing was changed. \
         Sign in and choose what Crier emails you in <a href=\"/settings/notifications\">Settings → Notifications</a>.</p>",
    )
}

/// `GET`: asks to confirm.
pub(super) async fn confirm(State(state): State<AppState>, Query(link): Query<Link>) -> Response {
    let Some((_, kind)) = checked(&state, &link) else {
        return invalid();
    };
    let escape = crier_mail::escape;
    let action = format!("/unsubscribe?u={}&k={}&s={}", escape(&link.u), escape(&link.k), escape(&link.s));
    page(
        StatusCode::OK,
        "Stop these emails?",
        &format!(
            "<p>Crier will stop emailing you about: <strong>{}</strong>. You still see them under the bell in Crier.</p>\
             <form method=\"post\" action=\"{action}\"><button type=\"submit\">Unsubscribe</button></form>",
            escape(kind.label())
        ),
    )
}

/// `POST`: turns the kind off by email.
pub(super) async fn unsubscribe(State(state): State<AppState>, Query(link): Query<Link>) -> Response {
    let Some((user_id, kind)) = checked(&state, &link) else {
        return invalid();
    };
    match notify::unsubscribe(&state.pool, user_id, kind).await {
        Ok(true) => page(
            StatusCode::OK,
            "Unsubscribed",
            &format!(
                "<p>Crier no longer emails you about: <strong>{}</strong>. Turn it back on in \
                 <a href=\"/settings/notifications\">Settings → Notifications</a>.</p>",
                crier_mail::escape(kind.label())
            ),
        ),
        Ok(false) => page(StatusCode::OK, "Nothing to unsubscribe", "<p>This address is no longer a member of a team on this Crier.</p>"),
        Err(error) => {
            tracing::error!(%error, "unsubscribing failed");
            page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Please try again in a moment",
                "<p>Crier cannot reach its database right now. Nothing was changed.</p>",
            )
        }
    }
}
