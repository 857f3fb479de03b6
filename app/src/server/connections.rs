//! The Accounts page's side of connecting: the one-time message the next Accounts page shows
//! (the "flash"), the browser-session binding of OAuth attempts, and the sentences a person reads
//! for each [`AccountsError`]. The work itself is the accounts service's (`crier_accounts`); the
//! server functions in `accounts` and the OAuth endpoints in the server crate call it and then
//! come here for the words.

use crier_accounts::AccountsError;
use crier_accounts::connect::Started;
use crier_platform::Platform;
use tower_sessions::Session;
use uuid::Uuid;

use super::accounts::Flash;
use super::ssr::session;
use crate::errors::AppError;

const SESSION_FLASH_KEY: &str = "accounts_flash";

/// Leaves a one-time message for the next Accounts page view.
pub async fn set_flash(ok: bool, text: impl Into<String>) {
    if let Ok(session) = session().await {
        set_flash_on(&session, ok, text).await;
    }
}

/// Leaves a message on a session the caller already holds (the OAuth endpoints).
pub async fn set_flash_on(session: &Session, ok: bool, text: impl Into<String>) {
    let _ = session.insert(SESSION_FLASH_KEY, Flash { ok, text: text.into() }).await;
}

/// Takes the pending message, if any.
pub async fn take_flash() -> Option<Flash> {
    session().await.ok()?.remove::<Flash>(SESSION_FLASH_KEY).await.ok().flatten()
}

/// Session key listing the connections this browser session started: a callback must come back
/// to the session that started it (not merely to the same person signed in elsewhere).
const SESSION_CONNECTIONS_KEY: &str = "oauth_connections";
/// A person rarely has more than one consent page open; older attempts simply expire.
const SESSION_CONNECTIONS_KEPT: usize = 5;

/// The OAuth attempts this browser session started (the accounts service's callback checks the
/// one coming back against them). An attempt stays listed after its callback: its state is
/// consumed then, so it can never be used again anyway.
pub async fn started_in(session: &Session) -> Vec<Uuid> {
    session.get::<Vec<Uuid>>(SESSION_CONNECTIONS_KEY).await.ok().flatten().unwrap_or_default()
}

/// Binds a started attempt to this browser session.
pub async fn remember_start(session: &Session, started: &Started) -> Result<(), AppError> {
    let mut mine = started_in(session).await;
    mine.push(started.connection_id);
    let excess = mine.len().saturating_sub(SESSION_CONNECTIONS_KEPT);
    mine.drain(..excess);
    session.insert(SESSION_CONNECTIONS_KEY, mine).await.map_err(|e| {
        tracing::error!(error = %e, "the session store failed");
        AppError::Internal
    })
}

/// What the Accounts page says about an account operation that stopped.
pub fn message(error: AccountsError) -> String {
    match error {
        AccountsError::Forbidden => "Only owners and admins connect and disconnect accounts.".into(),
        AccountsError::Unavailable(p) => unavailable(p),
        AccountsError::Cancelled(p) => format!("You cancelled on {}'s consent page. Nothing was connected.", p.label()),
        AccountsError::Refused { platform, reason } => {
            format!("{} did not grant access ({reason}). Nothing was connected.", platform.label())
        }
        AccountsError::Expired => "That connection attempt is no longer valid (it expired after 10 minutes, was already used, or was \
                                   started in another session). Nothing was connected; click Connect again."
            .into(),
        AccountsError::Platform(e) => {
            format!("{} answered with an error, so nothing was connected: {}. Try again in a moment.", e.platform.label(), e.message)
        }
        AccountsError::CredentialsRefused(e) => format!("{} refused these keys: {}. Check all four values.", e.platform.label(), e.message),
        AccountsError::Unreachable(e) => {
            format!("{} could not be reached ({}). Nothing changed; try again in a moment.", e.platform.label(), e.message)
        }
        AccountsError::Invalid(_) | AccountsError::Domain(_) => AppError::from(error).page_message(),
    }
}

/// "X is not set up": what an administrator must set.
fn unavailable(platform: Platform) -> String {
    let prefix = platform.settings_prefix();
    format!("{} is not set up on this Crier: an administrator must set {prefix}_CLIENT_ID and {prefix}_CLIENT_SECRET.", platform.label())
}

impl From<AccountsError> for AppError {
    fn from(error: AccountsError) -> Self {
        match error {
            AccountsError::Forbidden => AppError::Forbidden,
            AccountsError::Invalid(fields) => AppError::Fields(fields),
            AccountsError::Domain(e) => e.into(),
            other => AppError::Refused(message(other)),
        }
    }
}
