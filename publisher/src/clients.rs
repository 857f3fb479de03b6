//! The platform clients the engine publishes with.

use crier_clients::{LinkedInClient, MetaClient, XClient};

/// One client per platform. A platform is `None` when this Crier has no app for it and the
/// sandbox is off (its accounts cannot be refreshed; publishing to them fails with a clear reason).
#[derive(Clone, Debug)]
pub struct Clients {
    /// X with the OAuth 2.0 app (refresh needs it).
    pub x: Option<XClient>,
    /// X for OAuth 1.0a accounts and for posting when no OAuth 2.0 app is configured: the same
    /// API, signed per request.
    pub x_api: XClient,
    /// LinkedIn.
    pub linkedin: Option<LinkedInClient>,
    /// Facebook Pages.
    pub meta: Option<MetaClient>,
}
