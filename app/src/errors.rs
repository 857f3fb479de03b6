//! The one error type server functions return, and the one place domain errors become what a
//! person reads. Internal details never cross: they are logged on the server.

use crier_domain::FieldError;
use serde::{Deserialize, Serialize};
use server_fn::codec::JsonEncoding;
use server_fn::error::{FromServerFnError, ServerFnErrorErr};

/// An error as the browser receives it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// One or more fields need correcting.
    #[error("Please correct the highlighted fields.")]
    Fields(Vec<FieldError>),
    /// Unknown email or wrong password (deliberately one message).
    #[error("Wrong email or password.")]
    WrongCredentials,
    /// Too many failed logins.
    #[error("Too many failed attempts. Try again in {0} seconds.")]
    Throttled(u64),
    /// The session ended.
    #[error("Your session has ended. Please log in again.")]
    Unauthenticated,
    /// The role does not allow it.
    #[error("Your role does not allow this. Ask an owner or admin.")]
    Forbidden,
    /// Nothing with that id in this team.
    #[error("That no longer exists.")]
    NotFound,
    /// A rule of the team stops this; the message says which.
    #[error("{0}")]
    Refused(String),
    /// Our fault; the details are in the server log.
    #[error("Something went wrong on our side. Please try again in a moment.")]
    Internal,
    /// The request did not reach the server or its answer could not be read.
    #[error("Crier could not be reached. Check your connection and try again.")]
    Transport,
}

impl AppError {
    /// The message for one field, if that field was refused.
    pub fn field(&self, name: &str) -> Option<String> {
        match self {
            AppError::Fields(fields) => fields.iter().find(|f| f.field == name).map(|f| f.message.clone()),
            _ => None,
        }
    }

    /// The whole error in words, for a page with no form to highlight (a bad address): the
    /// fields' own messages rather than "correct the highlighted fields".
    pub fn page_message(&self) -> String {
        match self {
            AppError::Fields(fields) => fields.iter().map(|f| f.message.as_str()).collect::<Vec<_>>().join(" "),
            other => other.to_string(),
        }
    }

    /// A message for the whole form (none when only fields are at fault).
    pub fn form_message(&self) -> Option<String> {
        match self {
            AppError::Fields(_) => None,
            other => Some(other.to_string()),
        }
    }
}

impl AppError {
    /// The HTTP status this error answers with (the wasm client treats every 4xx and 5xx as
    /// this error either way; the status is for logs, proxies and API clients).
    pub fn status(&self) -> u16 {
        match self {
            AppError::Fields(_) => 422,
            AppError::WrongCredentials | AppError::Unauthenticated => 401,
            AppError::Throttled(_) => 429,
            AppError::Forbidden => 403,
            AppError::NotFound => 404,
            AppError::Refused(_) => 409,
            AppError::Internal => 500,
            AppError::Transport => 400,
        }
    }
}

impl From<FieldError> for AppError {
    fn from(value: FieldError) -> Self {
        AppError::Fields(vec![value])
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        #[cfg(feature = "ssr")]
        tracing::warn!(error = %value, "server function transport error");
        let _ = value;
        AppError::Transport
    }
}

#[cfg(feature = "ssr")]
impl From<crier_domain::DomainError> for AppError {
    fn from(value: crier_domain::DomainError) -> Self {
        use crier_domain::DomainError as D;
        match value {
            D::Invalid(field) => AppError::Fields(vec![field]),
            D::WrongCredentials => AppError::WrongCredentials,
            D::Throttled { retry_after_secs } => AppError::Throttled(retry_after_secs),
            D::NotFound => AppError::NotFound,
            D::TooSoon { retry_after_secs } => AppError::Refused(format!("That was done moments ago: try again in {retry_after_secs} seconds.")),
            D::Forbidden => AppError::Forbidden,
            D::LastOwner => AppError::Refused("A team needs at least one owner: make someone else an owner first.".into()),
            D::Refused(text) => AppError::Refused(text),
            D::InviteInvalid => AppError::Refused("This invite link is no longer valid. Ask for a new one.".into()),
            D::SignUpClosed => AppError::Refused(
                "Sign-up is closed on this Crier: people join a team by invitation. Ask a team's owner or admin to invite you.".into(),
            ),
            D::ConnectionExpired => AppError::Refused(
                "This connection attempt is no longer valid (it expired, was already used, or was started by someone else). Click Connect again.".into(),
            ),
            D::SecretUnreadable(e) => {
                tracing::error!(error = %e, "a sealed secret does not open with the configured keys");
                AppError::Refused(
                    "This account's tokens cannot be decrypted with the configured secret key. Reconnect the account, or restore the previous key.".into(),
                )
            }
            D::Database(e) => {
                tracing::error!(error = %e, "database error");
                AppError::Internal
            }
            D::Internal(e) => {
                tracing::error!(error = %e, "internal error");
                AppError::Internal
            }
        }
    }
}
