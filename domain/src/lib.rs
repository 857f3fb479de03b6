//! Crier's domain: the values a team works with, parsed once at the edge so the rest of the code
//! can trust them ("parse, don't validate"), and — with the `store` feature — their Postgres store.
//!
//! Without `store` this crate is plain types and compiles to wasm: the browser checks a form with
//! exactly the rules the server applies.

pub mod account;
pub mod approval;
pub mod budget;
pub mod delivery;
pub mod field_error;
pub mod link_tracking;
pub mod notification;
pub mod people;
pub mod post;
pub mod post_state;
#[cfg(feature = "store")]
pub mod posting_schedule;
pub mod retention;
pub mod retry;
pub mod role;
pub mod webhook;

#[cfg(feature = "store")]
pub mod error;
#[cfg(feature = "store")]
pub mod feed;
#[cfg(feature = "store")]
pub mod import;
#[cfg(feature = "store")]
pub mod media_link;
#[cfg(feature = "store")]
pub mod outage;
#[cfg(feature = "store")]
pub mod password;
#[cfg(feature = "store")]
pub mod secret_token;
#[cfg(feature = "store")]
pub mod store;
#[cfg(feature = "store")]
pub mod timezone;
#[cfg(feature = "store")]
pub mod two_factor;
#[cfg(feature = "store")]
pub mod webhook_signature;

pub use field_error::FieldError;
pub use people::{EmailAddress, TeamName};
pub use role::Role;

#[cfg(feature = "store")]
pub use error::DomainError;

/// Crier's own migrations (the job queue's are applied separately, in their own schema).
#[cfg(feature = "store")]
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");
