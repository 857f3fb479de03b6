use crate::FieldError;

/// Everything the domain layer can answer besides success. Expected outcomes are variants; the
/// unexpected (a database outage, a bug) is `Database`/`Internal`, which the web layer logs and
/// shows to people only as a generic message.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// Input that must be corrected; names the field and says how.
    #[error(transparent)]
    Invalid(#[from] FieldError),
    /// Unknown email or wrong password: one answer for both, so addresses cannot be probed.
    #[error("wrong email or password")]
    WrongCredentials,
    /// Too many failed logins for this email or client address in the last minute.
    #[error("too many failed logins; try again in {retry_after_secs} seconds")]
    Throttled {
        /// Seconds until one more attempt is allowed.
        retry_after_secs: u64,
    },
    /// Done too recently to be done again yet (a rate limit counted in the database).
    #[error("done too recently; try again in {retry_after_secs} seconds")]
    TooSoon {
        /// Seconds until it may be done again.
        retry_after_secs: u64,
    },
    /// The thing does not exist *in the caller's team* (another team's id answers the same).
    #[error("not found")]
    NotFound,
    /// The caller's role does not allow this.
    #[error("your role does not allow this")]
    Forbidden,
    /// Removing or demoting this member would leave the team without an owner.
    #[error("a team needs at least one owner")]
    LastOwner,
    /// A rule stops this (two-factor required by the team, already turned on, ...); the text says
    /// which, in words for the person.
    #[error("{0}")]
    Refused(String),
    /// The invite link is unknown, expired, revoked or already used.
    #[error("this invite link is no longer valid")]
    InviteInvalid,
    /// Sign-up is closed on this instance (`CRIER_SIGNUP`): people join by invitation.
    #[error("sign-up is closed on this instance")]
    SignUpClosed,
    /// An OAuth connection's state is unknown, already used, expired or someone else's.
    #[error("this connection attempt is no longer valid")]
    ConnectionExpired,
    /// A sealed secret does not open with the configured keys (wrong or rotated-away key,
    /// tampered row). The detail names the vault error, never the secret.
    #[error("a stored secret cannot be decrypted: {0}")]
    SecretUnreadable(String),
    /// The database failed; details are for the log only.
    #[error("database error")]
    Database(#[from] sqlx::Error),
    /// Something that should not happen; details are for the log only.
    #[error("internal error: {0}")]
    Internal(String),
}

impl DomainError {
    /// Turns a unique-constraint violation named `constraint` into a field error, leaving every
    /// other error as it is. Keeps constraint names out of the handlers.
    pub(crate) fn on_constraint(err: sqlx::Error, constraint: &str, field: FieldError) -> DomainError {
        match &err {
            sqlx::Error::Database(db) if db.constraint() == Some(constraint) => DomainError::Invalid(field),
            _ => DomainError::Database(err),
        }
    }
}
