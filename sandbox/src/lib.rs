//! Faithful fakes of the platform APIs Crier talks to, served as an axum [`Router`].
//!
//! Today: X (API v2 + OAuth 2.0 authorization code with PKCE), per `platforms.md` §1, §4 and §5.
//! LinkedIn and Meta follow the same pattern later. The fake decides its answers on its own (it
//! does not consult `crier_platforms`' client-side classification), so a client bug cannot be
//! hidden by a fake that shares it.
//!
//! Routes (relative; the app nests the router at `/sandbox`):
//!
//! | Route | What |
//! |---|---|
//! | `GET /x/i/oauth2/authorize` | consent page |
//! | `POST /x/i/oauth2/authorize` | consent form → 302 to the registered redirect URI |
//! | `POST /x/2/oauth2/token` | authorization_code / refresh_token grants |
//! | `POST /x/2/oauth2/revoke` | revoke a token |
//! | `GET /x/2/users/me` | who am I |
//! | `POST /x/2/tweets` | publish |
//! | `DELETE /x/2/tweets/{id}` | delete own post |
//! | `GET /x/2/users/{id}/tweets` | a user's recent posts |
//! | `POST /control/x/apps` | register an app (`{"client_id","client_secret","redirect_uri","name"}`) |
//! | `POST /control/x/faults`, `DELETE /control/x/faults` | inject / clear faults |
//! | `POST /control/x/expire-token` | `{"access_token"}` → expired now |
//! | `POST /control/x/revoke-user` | `{"user_id"}` → every token of that user dies |
//! | `GET /control/ledger` | every accepted post |
//! | `POST /control/reset` | forget everything but the registered apps |

mod clock;
mod control;
mod faults;
mod util;
mod x;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use clock::{Clock, ManualClock, SystemClock};
pub use x::XLimits;

/// How the sandbox behaves. `SandboxConfig::new(public_base)` gives the X defaults.
#[derive(Clone)]
pub struct SandboxConfig {
    /// Where the router is reachable from a browser, without a trailing slash, e.g.
    /// `http://127.0.0.1:3000/sandbox`. The consent form posts to `{public_base}/x/i/oauth2/authorize`.
    pub public_base: String,
    /// X access-token lifetime (`expires_in`); X: 2 hours.
    pub x_access_token_ttl: Duration,
    /// X authorization-code lifetime; X: 30 seconds.
    pub x_code_ttl: Duration,
    /// Rate limits of the X fake.
    pub x_limits: XLimits,
    /// The clock every expiry, window and `accepted_at` is measured with. Tests inject a [`ManualClock`].
    pub clock: Arc<dyn Clock>,
}

impl SandboxConfig {
    pub fn new(public_base: impl Into<String>) -> Self {
        SandboxConfig {
            public_base: public_base.into().trim_end_matches('/').to_owned(),
            x_access_token_ttl: Duration::from_secs(2 * 60 * 60),
            x_code_ttl: Duration::from_secs(30),
            x_limits: XLimits::default(),
            clock: Arc::new(SystemClock),
        }
    }

    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig::new("http://127.0.0.1:3000/sandbox")
    }
}

/// One accepted post, in acceptance order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    /// `"x"` (later `"linkedin"`, `"facebook"`).
    pub platform: String,
    pub user_id: String,
    pub post_id: String,
    pub text: String,
    pub in_reply_to: Option<String>,
    pub accepted_at: DateTime<Utc>,
}

pub(crate) struct State {
    pub(crate) x: x::XState,
    pub(crate) ledger: Vec<LedgerEntry>,
}

pub(crate) struct Inner {
    pub(crate) config: SandboxConfig,
    state: Mutex<State>,
}

impl Inner {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A handler that panicked mid-update leaves the sandbox usable: it is a test fake.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.config.clock.now()
    }
}

/// The fake platforms: cheap to clone (shared state).
#[derive(Clone)]
pub struct Sandbox {
    inner: Arc<Inner>,
}

impl Sandbox {
    pub fn new(config: SandboxConfig) -> Self {
        let state = State { x: x::XState::new(), ledger: Vec::new() };
        Sandbox { inner: Arc::new(Inner { config, state: Mutex::new(state) }) }
    }

    /// All routes, relative (nest under `/sandbox`).
    pub fn router(&self) -> Router {
        Router::new().merge(x::routes()).merge(control::routes()).with_state(self.inner.clone())
    }

    /// Registers an X app that may authorize. An empty `client_secret` makes it a public client
    /// (`client_id` in the token request body instead of HTTP Basic). Re-registering replaces it.
    pub fn register_x_app(&self, client_id: &str, client_secret: &str, redirect_uri: &str, name: &str) {
        self.inner.lock().x.register_app(client_id, client_secret, redirect_uri, name);
    }

    /// Every accepted post, in order.
    pub fn ledger(&self) -> Vec<LedgerEntry> {
        self.inner.lock().ledger.clone()
    }

    /// Forgets users, codes, tokens, posts, the ledger, rate-limit windows and faults; keeps the apps.
    pub fn reset(&self) {
        let mut state = self.inner.lock();
        state.x.reset();
        state.ledger.clear();
    }
}
