//! What the accounts service can answer besides success. Variants say what happened, in the
//! service's terms; the pages and the REST API each word them for their readers (a person on the
//! Accounts page, a script reading problem+json).

use crier_domain::{DomainError, FieldError};
use crier_platform::Platform;
use crier_protocol::PlatformError;

/// Why an account operation stopped.
#[derive(Debug, thiserror::Error)]
pub enum AccountsError {
    /// The member's role does not allow it (connecting and disconnecting need an owner or admin,
    /// Verify an editor).
    #[error("the member's role does not allow this")]
    Forbidden,
    /// No app is configured for the platform, and the sandbox is off.
    #[error("{} is not configured on this Crier", .0.label())]
    Unavailable(Platform),
    /// The person pressed Cancel on the platform's consent page.
    #[error("the consent was cancelled on {}", .0.label())]
    Cancelled(Platform),
    /// The platform answered the consent with an error (its words, redacted).
    #[error("{} did not grant access: {reason}", .platform.label())]
    Refused {
        /// Which platform.
        platform: Platform,
        /// Its reason.
        reason: String,
    },
    /// The connection attempt is unknown, already used, expired (after 10 minutes) or was started
    /// in another browser session.
    #[error("the connection attempt is no longer valid")]
    Expired,
    /// A platform call made while connecting failed: nothing was connected.
    #[error("a platform call failed while connecting: {0}")]
    Platform(PlatformError),
    /// The platform refused the credentials given (X OAuth 1.0a keys).
    #[error("the platform refused the credentials: {0}")]
    CredentialsRefused(PlatformError),
    /// The platform could not be reached or answered a temporary error: try again later; nothing
    /// about the account changed.
    #[error("the platform could not be reached: {0}")]
    Unreachable(PlatformError),
    /// Input to correct.
    #[error("fields to correct")]
    Invalid(Vec<FieldError>),
    /// The store failed or refused (not found, a secret that does not open...).
    #[error(transparent)]
    Domain(DomainError),
}

impl From<DomainError> for AccountsError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::ConnectionExpired => AccountsError::Expired,
            DomainError::Forbidden => AccountsError::Forbidden,
            DomainError::Invalid(field) => AccountsError::Invalid(vec![field]),
            other => AccountsError::Domain(other),
        }
    }
}

impl From<sqlx::Error> for AccountsError {
    fn from(e: sqlx::Error) -> Self {
        AccountsError::Domain(e.into())
    }
}

impl From<FieldError> for AccountsError {
    fn from(field: FieldError) -> Self {
        AccountsError::Invalid(vec![field])
    }
}
