//! Server-side plumbing shared by the server functions and the page render: state, session,
//! the signed-in member, safe redirects, and error redisplay for forms posted without wasm.

use crier_domain::store::{Member, members};
use http::HeaderValue;
use http::header::{ACCEPT, CONTENT_SECURITY_POLICY};
use leptos::prelude::*;
use leptos_axum::ResponseOptions;
use sqlx::PgPool;
use tower_sessions::Session;
use uuid::Uuid;

use crate::errors::AppError;
use crate::state::AppState;

/// The client's IP address as the server determined it (the socket peer, or the address a
/// trusted proxy reported); put into the request by the server's middleware.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr(pub std::net::IpAddr);

/// The client's address, for throttling; "unknown" only if the middleware is missing.
pub fn client_addr() -> String {
    use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<ClientAddr>().copied())
        .map(|ClientAddr(ip)| ip.to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// Session key holding the signed-in person's id.
pub const SESSION_USER_KEY: &str = "user_id";
/// Session key holding what a failed plain form post typed (see [`fail_form`]).
pub const SESSION_FORM_VALUES_KEY: &str = "form_values";

/// The shared server state.
pub fn state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from the Leptos context");
        AppError::Internal
    })
}

/// The database pool.
pub fn pool() -> Result<PgPool, AppError> {
    Ok(state()?.pool)
}

/// The request's session.
pub async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>().await.map_err(|e| {
        tracing::error!(error = %e, "session layer missing");
        AppError::Internal
    })
}

/// The member a session belongs to, if it is signed in and the member still exists.
pub async fn member_from_session(session: &Session, pool: &PgPool) -> Result<Option<Member>, AppError> {
    let user_id = session.get::<Uuid>(SESSION_USER_KEY).await.map_err(|e| {
        tracing::error!(error = %e, "session store failed");
        AppError::Internal
    })?;
    match user_id {
        Some(user_id) => Ok(members::find(pool, user_id).await?),
        None => Ok(None),
    }
}

/// The signed-in member, if any: from the request when the server's sign-in gate already looked
/// them up (page loads), else from the session.
pub async fn signed_in_member() -> Result<Option<Member>, AppError> {
    if let Some(member) = use_context::<http::request::Parts>().and_then(|parts| parts.extensions.get::<Member>().cloned()) {
        return Ok(Some(member));
    }
    member_from_session(&session().await?, &pool()?).await
}

/// The signed-in member, or `Unauthenticated`.
pub async fn current_member() -> Result<Member, AppError> {
    signed_in_member().await?.ok_or(AppError::Unauthenticated)
}

/// Signs a member in: a new session id (against fixation), then their id in it.
pub async fn sign_in(member: &Member) -> Result<(), AppError> {
    let session = session().await?;
    let failed = |e: tower_sessions::session::Error| {
        tracing::error!(error = %e, "session store failed");
        AppError::Internal
    };
    session.cycle_id().await.map_err(failed)?;
    session.insert(SESSION_USER_KEY, member.user_id).await.map_err(failed)?;
    Ok(())
}

/// An id from a form or the address; a malformed one is not found, like another team's
/// (`crier_domain::store::parse_id`).
pub fn parse_id(raw: &str) -> Result<Uuid, AppError> {
    Ok(crier_domain::store::parse_id(raw)?)
}

/// Where to go after logging in: `next` only when it is a path on this site, else the dashboard.
/// Refuses `//host`, `/\host` (browsers treat both as other hosts), schemes and control chars.
pub fn safe_next(next: Option<&str>) -> String {
    let Some(next) = next.map(str::trim).filter(|n| !n.is_empty()) else { return "/".into() };
    let is_local_path =
        next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\") && !next.chars().any(|c| c.is_control() || c == '\\');
    if is_local_path { next.to_owned() } else { "/".into() }
}

/// Whether this request is a plain HTML form post (the page's wasm had not loaded): then the
/// browser follows a redirect and renders the page again instead of reading our JSON.
fn is_plain_form_post() -> bool {
    use_context::<http::request::Parts>()
        .and_then(|parts| parts.headers.get(ACCEPT).and_then(|v| v.to_str().ok()).map(|v| v.contains("text/html")))
        .unwrap_or(false)
}

pub use crate::components::form::{FormValues, Prefill};

/// Fails a form's server function. With wasm the error travels as the response and the form
/// keeps what was typed. Without it (a plain post), server_fn sends the browser back to the page
/// with the error in the URL (`__path`/`__err`), where the router hands it to the form's action
/// as if it had arrived by fetch; the typed values (never passwords) wait in the session for that
/// one page view, to refill the form.
pub async fn fail_form<T>(fn_path: &str, error: AppError, values: &[(&str, &str)]) -> Result<T, AppError> {
    keep_for_next_page(fn_path, values).await;
    Err(error)
}

/// For a plain form post only: keeps `values` in the session for the page the browser is sent
/// to next (the sign-in gate hands them to that render), e.g. what was typed into a form that
/// failed, or a result that must be shown once (an invite link).
pub async fn keep_for_next_page(fn_path: &str, values: &[(&str, &str)]) {
    if !is_plain_form_post() || values.is_empty() {
        return;
    }
    let kept = FormValues { path: fn_path.to_owned(), values: values.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect() };
    if let Ok(session) = session().await
        && let Err(e) = session.insert(SESSION_FORM_VALUES_KEY, kept).await
    {
        tracing::warn!(error = %e, "could not keep the form's values for the next page");
    }
}

/// For a plain form post only: the success message the page it returns to shows (see
/// `components::form::kept_notice`); a form posted by fetch shows the function's answer instead.
pub async fn notice_for_next_page(fn_path: &str, text: &str) {
    keep_for_next_page(fn_path, &[(crate::components::form::NOTICE_FIELD, text)]).await;
}

/// Per page render: the Content-Security-Policy with this response's nonce, and the refill
/// values of a failed plain form post. (The error itself needs nothing here: the router reads
/// `__path`/`__err` from the URL and hands it to the matching action, on server and client.)
pub fn prepare_page_response() {
    if let (Some(nonce), Some(response)) = (leptos::nonce::use_nonce(), use_context::<ResponseOptions>())
        && let Ok(policy) = HeaderValue::from_str(&page_csp(&nonce))
    {
        response.insert_header(CONTENT_SECURITY_POLICY, policy);
    }
    if let Some(parts) = use_context::<http::request::Parts>()
        && let Some(values) = parts.extensions.get::<FormValues>()
    {
        provide_context(Prefill(values.clone()));
    }
}

/// The policy for rendered pages: only our own scripts (the hydration loader carries the nonce)
/// and our own wasm; nothing may frame us.
pub fn page_csp(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Sends the browser to `path` (works with and without wasm).
pub fn redirect(path: &str) {
    leptos_axum::redirect(path);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_must_be_a_local_path() {
        assert_eq!(safe_next(Some("/compose?draft=1")), "/compose?draft=1");
        assert_eq!(safe_next(None), "/");
        assert_eq!(safe_next(Some("")), "/");
        for hostile in ["https://evil.example", "//evil.example", "/\\evil.example", "javascript:alert(1)", "evil.example", "/\nx"] {
            assert_eq!(safe_next(Some(hostile)), "/", "{hostile:?}");
        }
    }
}
