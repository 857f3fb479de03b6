//! What the server gives every page render and server function, through Leptos context.

use std::sync::Arc;

use axum::extract::FromRef;
use crier_clients::{LinkedInClient, MetaClient, XClient};
use crier_domain::account::Platform;
use crier_domain::store::deliveries::Budgets;
use crier_domain::store::status::ReadinessLimits;
use crier_vault::Vault;
use leptos::prelude::LeptosOptions;
use sqlx::PgPool;

/// Shared server state.
#[derive(Clone, Debug)]
pub struct AppState {
    /// Where the compiled site lives, and its output name.
    pub leptos_options: LeptosOptions,
    /// The database.
    pub pool: PgPool,
    /// Seals and opens platform tokens.
    pub vault: Arc<Vault>,
    /// The platform clients.
    pub platforms: Arc<Platforms>,
    /// The public base URL without a trailing slash, for links people follow (invites) and OAuth
    /// redirect URIs.
    pub public_base: String,
    /// The REST API's operations, from its OpenAPI document (for the API page).
    pub api_reference: Arc<Vec<crate::server::developers::ApiOperation>>,
    /// The workers' settings this process was started with, and what readiness tolerates.
    pub operations: Operations,
    /// Whether webhook endpoints may be plain http:// (CRIER_WEBHOOKS_ALLOW_HTTP; development).
    pub webhooks_allow_http: bool,
}

/// What `/readyz` and the Status page know of the publishing settings: the web process parses the
/// same worker settings as the workers it reports on (`crier serve` takes them even with
/// `--no-worker`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Operations {
    /// Crier's own per-account budgets.
    pub budgets: Budgets,
    /// How fresh a worker's heartbeat must be, and how long a due delivery may wait.
    pub readiness: ReadinessLimits,
}

/// The platform clients this Crier can connect with. A platform is `None` when it has no app
/// configured and the sandbox is off.
#[derive(Clone, Debug)]
pub struct Platforms {
    /// X with an OAuth 2.0 app.
    pub x: Option<XClient>,
    /// LinkedIn.
    pub linkedin: Option<LinkedInClient>,
    /// Facebook Pages.
    pub meta: Option<MetaClient>,
    /// X for OAuth 1.0a keys, which need no OAuth 2.0 app: the configured X API (or the sandbox's).
    pub x_keys: XClient,
    /// Which platforms are served by the sandbox (X, LinkedIn, Facebook order).
    pub sandboxed: [bool; 3],
}

fn index(platform: Platform) -> usize {
    match platform {
        Platform::X => 0,
        Platform::Linkedin => 1,
        Platform::Facebook => 2,
    }
}

impl Platforms {
    /// Whether "Connect …" works for the platform.
    pub fn is_available(&self, platform: Platform) -> bool {
        match platform {
            Platform::X => self.x.is_some(),
            Platform::Linkedin => self.linkedin.is_some(),
            Platform::Facebook => self.meta.is_some(),
        }
    }

    /// Whether the platform is the sandbox's fake.
    pub fn is_sandboxed(&self, platform: Platform) -> bool {
        self.sandboxed[index(platform)]
    }

    /// The same clients for the publishing engine (and its single-flight token refresh).
    pub fn publisher_clients(&self) -> crier_publisher::Clients {
        crier_publisher::Clients { x: self.x.clone(), x_api: self.x_keys.clone(), linkedin: self.linkedin.clone(), meta: self.meta.clone() }
    }

    /// Whether any platform is the sandbox's (every page then shows the "Sandbox" badge).
    pub fn any_sandboxed(&self) -> bool {
        self.sandboxed.iter().any(|s| *s)
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
