//! The pure protocol layer for the platforms Crier publishes to: X, LinkedIn and Facebook Pages.
//!
//! Everything here is a pure function from what a platform answered (HTTP status, headers, body
//! bytes, and "now") to a typed outcome. No HTTP client, no async, no database: the reqwest clients
//! and the sandbox fakes are built on top, and both use these rules, so a fake cannot drift from
//! what the real client understands.
//!
//! - [`outcome`]: the shared vocabulary ([`Published`], [`PlatformError`], [`ErrorClass`]) and
//!   [`redact`], which keeps tokens out of every message we store or log.
//! - [`rate_limit`]: X and Meta rate-limit headers, LinkedIn's midnight-UTC reset.
//! - [`x`], [`linkedin`], [`facebook`]: per platform, `classify_publish`, `classify_token_error`,
//!   production URLs and documented token lifetimes.
//! - [`media`]: what the media upload flows share (processing failures, a media id refused at
//!   post time); each platform's media bodies are in `x::media`, `linkedin::media`,
//!   `facebook::media` (media-and-metrics.md §1–§3).
//! - [`oauth1`]: OAuth 1.0a HMAC-SHA1 request signing (X user-context credentials).
//! - [`pkce`]: the PKCE S256 challenge (RFC 7636), for the fakes that must check a verifier.
//!
//! The facts (bodies, codes, headers, URLs) come from `platforms.md` in the shared reference; each
//! rule's doc comment names the section it implements.

#![warn(missing_docs)]

pub mod facebook;
pub mod linkedin;
pub mod media;
pub mod oauth1;
pub mod outcome;
pub mod pkce;
pub mod rate_limit;
pub mod x;

mod common;

pub use outcome::{ErrorClass, PlatformError, Published, redact};
pub use rate_limit::RateBudget;
