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

/// Session key holding the signed-in person's id (the session store reads it too, to list a
/// person's sessions).
pub const SESSION_USER_KEY: &str = crier_domain::store::sessions::USER_KEY;
/// Session key holding a sign-in that passed the password and waits for its second step
/// ([`PendingSignIn`]): not a signed-in person.
pub const SESSION_PENDING_KEY: &str = "pending_sign_in";
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
/// The signed-in member, if their role may edit (editors, admins and owners).
pub async fn editor() -> Result<crier_domain::store::Member, AppError> {
    let me = current_member().await?;
    if me.role.can_edit() { Ok(me) } else { Err(AppError::Forbidden) }
}

pub fn pool() -> Result<PgPool, AppError> {
    Ok(state()?.pool)
}

/// The media store, its limits and each platform's media rules.
pub fn media() -> Result<std::sync::Arc<crate::state::Media>, AppError> {
    Ok(state()?.media)
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

fn session_failed(e: tower_sessions::session::Error) -> AppError {
    tracing::error!(error = %e, "session store failed");
    AppError::Internal
}

/// Signs a member in: a new session id (against fixation), then their id in it, and the client it
/// is used from (listed on the Security page). Any half-done sign-in in it is over.
pub async fn sign_in(member: &Member) -> Result<(), AppError> {
    let session = session().await?;
    session.cycle_id().await.map_err(session_failed)?;
    session.remove_value(SESSION_PENDING_KEY).await.map_err(session_failed)?;
    session.insert(SESSION_USER_KEY, member.user_id).await.map_err(session_failed)?;
    session.insert(crier_domain::store::sessions::CLIENT_KEY, client_info()).await.map_err(session_failed)?;
    Ok(())
}

/// The request's client address and browser, as a session records them.
pub fn client_info() -> crier_domain::store::sessions::ClientInfo {
    let agent = use_context::<http::request::Parts>()
        .and_then(|parts| parts.headers.get(http::header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned));
    crier_domain::store::sessions::ClientInfo::new(&client_addr(), agent.as_deref())
}

/// A sign-in whose password was verified and that waits for its second step: a code (or a
/// recovery code), or setting two-factor up when the team requires it. The session holds this
/// and nothing else of the person until the step is done, so nothing but that step's page and
/// server functions work with it; it expires on its own.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PendingSignIn {
    /// Whose password was verified.
    pub user_id: Uuid,
    /// Whether the step is setting two-factor up (the team requires it) rather than a code.
    pub set_up: bool,
    /// Unix seconds after which the password must be typed again.
    pub until: i64,
    /// Where to go once signed in (a local path).
    pub next: String,
}

impl PendingSignIn {
    /// Seconds a verified password waits for its code.
    pub const VERIFY_SECS: i64 = 5 * 60;
    /// Seconds a verified password waits for two-factor to be set up (installing an app and
    /// scanning a code takes longer than typing one).
    pub const SET_UP_SECS: i64 = 15 * 60;

    /// The page of this step.
    pub fn page(&self) -> &'static str {
        if self.set_up { "/login/two-factor/setup" } else { "/login/two-factor" }
    }

    /// Whether it is still good.
    pub fn is_live(&self) -> bool {
        chrono::Utc::now().timestamp() < self.until
    }
}

/// The session's pending sign-in, while it has not expired.
pub async fn pending_sign_in(session: &Session) -> Option<PendingSignIn> {
    session.get::<PendingSignIn>(SESSION_PENDING_KEY).await.ok().flatten().filter(PendingSignIn::is_live)
}

/// Starts the second step of a sign-in whose password was verified: a new session id (against
/// fixation) holding only the [`PendingSignIn`], and the browser sent to that step's page.
pub async fn begin_pending_sign_in(member: &Member, set_up: bool, next: &str) -> Result<(), AppError> {
    let session = session().await?;
    let lasts = if set_up { PendingSignIn::SET_UP_SECS } else { PendingSignIn::VERIFY_SECS };
    let pending =
        PendingSignIn { user_id: member.user_id, set_up, until: chrono::Utc::now().timestamp() + lasts, next: safe_next(Some(next)) };
    session.cycle_id().await.map_err(session_failed)?;
    session.remove_value(SESSION_USER_KEY).await.map_err(session_failed)?;
    session.insert(SESSION_PENDING_KEY, &pending).await.map_err(session_failed)?;
    redirect(pending.page());
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
///
/// The values are capped: a signed-in member's at [`KEPT_CHARS_MEMBER`] characters each (already
/// bounded by the request's size), a visitor's (sign-up, log-in) at [`KEPT_CHARS_VISITOR`]: a refused form must
/// not make Crier store whatever an anonymous client sends.
pub async fn keep_for_next_page(fn_path: &str, values: &[(&str, &str)]) {
    if !is_plain_form_post() || values.is_empty() {
        return;
    }
    let signed_in = matches!(signed_in_member().await, Ok(Some(_)));
    let cap = if signed_in { KEPT_CHARS_MEMBER } else { KEPT_CHARS_VISITOR };
    let capped = |v: &str| v.chars().take(cap).collect::<String>();
    let kept = FormValues { path: fn_path.to_owned(), values: values.iter().map(|(k, v)| ((*k).to_owned(), capped(v))).collect() };
    if let Ok(session) = session().await
        && let Err(e) = session.insert(SESSION_FORM_VALUES_KEY, kept).await
    {
        tracing::warn!(error = %e, "could not keep the form's values for the next page");
    }
}

/// For a plain form post only: keeps secrets (a new API token, an invite link, a webhook's signing
/// secret) for the one page view that follows, which must show them: sealed by the vault and bound
/// to `member` and the form, so the session never holds them in clear text and only that member's
/// next page opens them ([`open_kept`]).
pub async fn keep_secrets_for_next_page(fn_path: &str, member: &Member, secrets: &[(&str, &str)]) {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    let Ok(state) = state() else { return };
    let sealed: Vec<(String, String)> = secrets
        .iter()
        .map(|(field, value)| {
            let sealed = state.vault.seal(&secrecy::SecretString::from((*value).to_owned()), &kept_aad(member.user_id, fn_path, field));
            ((*field).to_owned(), STANDARD.encode(sealed))
        })
        .collect();
    let pairs: Vec<(&str, &str)> = sealed.iter().map(|(f, v)| (f.as_str(), v.as_str())).collect();
    keep_for_next_page(fn_path, &pairs).await;
}

/// What binds a kept secret to its member, form and field.
fn kept_aad(user_id: Uuid, fn_path: &str, field: &str) -> Vec<u8> {
    format!("kept_for_next_page:{user_id}:{fn_path}:{field}").into_bytes()
}

/// A secret a plain form post kept for this page view ([`keep_secrets_for_next_page`]), opened for
/// the signed-in member of this page render; `None` when there is none, or it is not theirs.
pub fn open_kept(fn_path: &str, field: &str) -> Option<String> {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use secrecy::ExposeSecret;
    let parts = use_context::<http::request::Parts>()?;
    let member = parts.extensions.get::<Member>()?;
    let prefill = use_context::<crate::components::form::Prefill>().filter(|p| p.0.path == fn_path)?;
    let sealed = STANDARD.decode(prefill.0.values.get(field)?).ok()?;
    let opened = use_context::<AppState>()?.vault.open(&sealed, &kept_aad(member.user_id, fn_path, field)).ok()?;
    Some(opened.expose_secret().to_owned())
}

/// What a second submission of a form answers (see [`once_per_form`]).
pub enum Replay {
    /// The first submission's answer again (it holds no secret).
    Same,
    /// A refusal with these words: the first answer showed a secret (a token, an invite link)
    /// that is shown once, so it is not kept to show again.
    Refuse(&'static str),
}

/// Does `work` once per rendered form: the form's one-time key (`form_key`, rendered by
/// `components::form::FormKey`) makes a double click, a browser's retry or a resubmission answer
/// the first submission's result instead of creating a second post, invitation, token or webhook
/// (`crier_domain::store::form_keys`). Without a key (a script calling the function) the work
/// simply runs. A failed submission gives its key back, so the corrected form can be sent.
pub async fn once_per_form<T, W>(form_key: &str, me: &Member, replay: Replay, work: W) -> Result<T, AppError>
where
    T: serde::Serialize + serde::de::DeserializeOwned,
    W: std::future::Future<Output = Result<T, AppError>>,
{
    use crier_domain::store::form_keys::{self, Submission};
    if form_key.trim().is_empty() {
        return work.await;
    }
    let pool = pool()?;
    match form_keys::begin(&pool, form_key, me.user_id).await? {
        Submission::Done(earlier) => match replay {
            Replay::Same => serde_json::from_str(&earlier).map_err(|e| {
                tracing::error!(error = %e, "a form's first answer does not read back");
                AppError::Internal
            }),
            Replay::Refuse(words) => Err(AppError::Refused(words.to_owned())),
        },
        Submission::First => {
            let outcome = work.await;
            let recorded = match (&outcome, &replay) {
                (Ok(done), Replay::Same) => form_keys::finish(&pool, form_key, &serde_json::to_string(done).unwrap_or_default()).await,
                (Ok(_), Replay::Refuse(_)) => form_keys::finish(&pool, form_key, "shown once").await,
                (Err(_), _) => form_keys::give_back(&pool, form_key).await,
            };
            if let Err(e) = recorded {
                tracing::warn!(error = %e, "a form key's outcome was not recorded; it expires in a day");
            }
            outcome
        }
    }
}

/// A new one-time key for a form (see [`once_per_form`]).
pub fn new_form_key() -> String {
    Uuid::new_v4().simple().to_string()
}

/// The most characters of one field a member's refused form keeps for the next page: as much as
/// the largest form may send (the batch form), so nothing a member typed is lost.
pub const KEPT_CHARS_MEMBER: usize = 1024 * 1024;
/// The most characters of one field a visitor's refused form keeps (a team name, an email).
pub const KEPT_CHARS_VISITOR: usize = 256;

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
