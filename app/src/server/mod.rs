//! Server functions: thin adapters from forms to the domain. Each parses its input, calls one
//! domain function scoped to the signed-in member's team, and maps errors through
//! [`AppError`](crate::errors::AppError).

pub mod accounts;
pub mod analytics;
pub mod audit;
pub mod auth;
pub mod comments;
#[cfg(feature = "ssr")]
pub mod connections;
pub mod developers;
pub mod drafts;
pub mod feeds;
pub mod imports;
pub mod link_tracking;
pub mod media;
pub mod members;
pub mod notifications;
pub mod posts;
pub mod preview;
pub mod queues;
pub mod review_links;
pub mod reviews;
pub mod security;
pub mod settings;
#[cfg(feature = "ssr")]
pub mod ssr;
pub mod status;
pub mod webhooks;

use serde::{Deserialize, Serialize};

/// A password (or another secret a form submits, such as a review link's token) as a form submits
/// it. Server-function arguments derive `Debug`, so the secret travels in this wrapper whose
/// `Debug` never shows it.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PasswordField(pub String);

impl std::fmt::Debug for PasswordField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordField([REDACTED])")
    }
}
