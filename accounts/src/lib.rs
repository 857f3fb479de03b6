//! The accounts service: everything that happens to a team's connected platform accounts.
//!
//! - **Connecting** ([`connect`]): "Connect X" records the attempt and sends the person to the
//!   platform's consent page; the callback consumes the attempt once, exchanges the code, asks who
//!   the token belongs to, and either connects the account (X) or holds the sealed grant while the
//!   person chooses which profile, organizations or Pages to connect (LinkedIn, Facebook). X
//!   accounts can also be connected with OAuth 1.0a keys ([`keys`]), checked with X first.
//! - **Verifying** ([`verify`]): who-am-I with the stored token, recorded as the account's health.
//! - **Refreshing** ([`refresh`]): single-flight per account across tasks and processes, so X's
//!   rotating refresh token is never spent twice.
//! - **Profile pictures** ([`pictures`]): fetched after a connect or a Verify from the URL the
//!   platform gave, checked by their bytes and stored, so pages show them from Crier.
//! - **Disconnecting** ([`disconnect`]): the tokens are deleted, then revoked at the platform.
//!
//! One [`Accounts`] per process holds the pool, the vault and the one bundle of platform clients
//! ([`Clients`]); the pages, the REST API, the admin CLI, the OAuth routes and the publishing engine
//! all call it. Every operation is scoped by team, and every change is audited (never a token).
//! Errors are [`AccountsError`] variants, which each caller words for its readers.

#![warn(missing_docs)]

pub mod connect;
pub mod disconnect;
mod error;
pub mod keys;
pub mod pictures;
pub mod refresh;
pub mod verify;

use std::sync::Arc;

use crier_domain::store::accounts::Account;
use crier_domain::store::audit::{self, Actor};
use crier_platform::Platform;
use crier_vault::Vault;
use sqlx::PgPool;
use url::Url;
use uuid::Uuid;

pub use crier_clients::{AppClient, Clients};
pub use error::AccountsError;
pub use pictures::PictureFetcher;
pub use refresh::{RefreshError, needs_refresh};

/// The accounts service of one process.
pub struct Accounts {
    pool: PgPool,
    vault: Arc<Vault>,
    clients: Clients,
    refresher: refresh::Refresher,
    /// Where people reach Crier (no trailing slash): OAuth redirect URIs are built on it. `None`
    /// in a process that connects nothing (a `crier worker`, the admin CLI).
    public_base: Option<String>,
    /// Fetches profile pictures after connects and Verifies (`None`: no pictures are fetched).
    pictures: Option<PictureFetcher>,
}

impl std::fmt::Debug for Accounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accounts").field("clients", &self.clients).field("public_base", &self.public_base).finish_non_exhaustive()
    }
}

impl Accounts {
    /// The service over `pool`, sealing tokens with `vault`, calling the platforms through
    /// `clients`. `public_base` is where browsers reach Crier (for OAuth redirect URIs); without
    /// it nothing can be connected by OAuth.
    pub fn new(pool: PgPool, vault: Arc<Vault>, clients: Clients, public_base: Option<String>) -> Self {
        let public_base = public_base.map(|base| base.trim_end_matches('/').to_owned());
        Accounts { pool, vault, clients, refresher: refresh::Refresher::default(), public_base, pictures: None }
    }

    /// The platform clients.
    pub fn clients(&self) -> &Clients {
        &self.clients
    }

    /// The vault that seals the tokens.
    pub fn vault(&self) -> &Vault {
        &self.vault
    }

    /// The redirect URI registered with a platform's app: `<public URL>/oauth/<platform>/callback`.
    pub fn redirect_uri(&self, platform: Platform) -> Option<Url> {
        let base = self.public_base.as_deref()?;
        Url::parse(&format!("{base}/oauth/{}/callback", platform.as_str())).ok()
    }

    /// Records an account event: the account's id, platform and kind (never a token).
    async fn audit(&self, team_id: Uuid, actor: Actor, action: &str, account: &Account) {
        let metadata = serde_json::json!({ "platform": account.platform, "kind": account.kind, "external_id": account.external_id });
        audit::record_after(&self.pool, team_id, actor, action, "account", Some(&account.account_id.to_string()), metadata).await;
    }
}
