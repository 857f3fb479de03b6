//! Errors as RFC 9457 problem details (`application/problem+json`), decided in one place: every
//! handler returns [`ApiError`], and [`ApiError::into_response`] is the only code that picks a status.
//! Internal details are logged, never sent.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::header::{CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crier_accounts::AccountsError;
use crier_domain::{DomainError, FieldError};

/// A problem detail (RFC 9457).
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// `about:blank`: the status says what kind of problem it is.
    #[serde(rename = "type")]
    #[schema(example = "about:blank")]
    pub kind: &'static str,
    /// The status's short name.
    #[schema(example = "Unprocessable Content")]
    pub title: String,
    /// The HTTP status.
    #[schema(example = 422)]
    pub status: u16,
    /// What went wrong and what to do about it.
    #[schema(example = "Please correct the fields listed in errors.")]
    pub detail: String,
    /// For 422: each field to correct.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemField>,
}

/// One field to correct.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemField {
    /// The field's name in the request (`text`, `account_ids`, `scheduled_at`, `Idempotency-Key`…).
    #[schema(example = "text")]
    pub field: String,
    /// What to fix.
    #[schema(example = "The text for X is 291 characters long; X allows 280.")]
    pub detail: String,
}

/// Why a request failed.
#[derive(Debug)]
pub enum ApiError {
    /// No token, or one Crier does not know (or revoked).
    Unauthenticated,
    /// The token's role does not allow this.
    Forbidden,
    /// Nothing with that id in the token's team (whatever exists elsewhere).
    NotFound,
    /// Fields to correct.
    Invalid(Vec<FieldError>),
    /// The request could not be read (not JSON, wrong types).
    Malformed(String),
    /// A rule of the team stops this.
    Conflict(String),
    /// Too many requests with this token; try again after this many seconds.
    RateLimited(u64),
    /// Crier or a platform cannot do this right now.
    Unavailable(String),
    /// Our fault; the details are in the log.
    Internal,
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthenticated => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Malformed(_) => StatusCode::BAD_REQUEST,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn detail(&self) -> String {
        match self {
            ApiError::Unauthenticated => {
                "Send a team API token as `Authorization: Bearer crier_api_…` (create one in Settings → API).".into()
            }
            ApiError::Forbidden => "This token's role does not allow this. Use a token with the editor or admin role.".into(),
            ApiError::NotFound => "Nothing with that id exists in this token's team.".into(),
            ApiError::Invalid(_) => "Please correct the fields listed in errors.".into(),
            ApiError::Malformed(why) => format!("The request could not be read: {why}"),
            ApiError::Conflict(why) | ApiError::Unavailable(why) => why.clone(),
            ApiError::RateLimited(secs) => format!("Too many requests with this token. Try again in {secs} seconds."),
            ApiError::Internal => "Something went wrong on our side. It has been logged; please try again in a moment.".into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let problem = Problem {
            kind: "about:blank",
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: self.detail(),
            errors: match &self {
                ApiError::Invalid(fields) => {
                    fields.iter().map(|f| ProblemField { field: f.field.clone(), detail: f.message.clone() }).collect()
                }
                _ => Vec::new(),
            },
        };
        let mut response = (status, axum::Json(problem)).into_response();
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        match self {
            ApiError::Unauthenticated => {
                headers.insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"crier\""));
            }
            ApiError::RateLimited(secs) => {
                headers.insert(RETRY_AFTER, HeaderValue::from(secs.max(1)));
            }
            _ => {}
        }
        response
    }
}

impl From<DomainError> for ApiError {
    /// The domain's answers in words for API clients; internals are logged, never sent.
    fn from(value: DomainError) -> Self {
        match value {
            DomainError::Invalid(field) => ApiError::Invalid(vec![field]),
            DomainError::WrongCredentials => ApiError::Unauthenticated,
            DomainError::Throttled { retry_after_secs } => ApiError::RateLimited(retry_after_secs),
            DomainError::NotFound => ApiError::NotFound,
            DomainError::Forbidden => ApiError::Forbidden,
            DomainError::LastOwner => ApiError::Conflict("The team would have no owner left; make someone else an owner first.".into()),
            DomainError::InviteInvalid => ApiError::Conflict("The invite is unknown, expired, revoked or already used.".into()),
            DomainError::ConnectionExpired => ApiError::Conflict("The connection attempt is unknown, expired or already used.".into()),
            DomainError::SecretUnreadable(e) => {
                tracing::error!(error = %e, "a sealed secret does not open with the configured keys");
                ApiError::Conflict(
                    "A stored secret of this resource cannot be decrypted with the configured secret key: reconnect the account (or \
                     recreate the webhook), or restore the previous key."
                        .into(),
                )
            }
            DomainError::Database(e) => {
                tracing::error!(error = %e, "database error");
                ApiError::Internal
            }
            DomainError::Internal(e) => {
                tracing::error!(error = %e, "internal error");
                ApiError::Internal
            }
        }
    }
}

impl From<AccountsError> for ApiError {
    /// The accounts service's answers in words for API clients.
    fn from(value: AccountsError) -> Self {
        match value {
            AccountsError::Forbidden => ApiError::Forbidden,
            AccountsError::Invalid(fields) => ApiError::Invalid(fields),
            AccountsError::Domain(e) => e.into(),
            AccountsError::Unavailable(platform) => ApiError::Unavailable(format!(
                "{platform} is not configured on this Crier: its operator must set {prefix}_CLIENT_ID and {prefix}_CLIENT_SECRET.",
                prefix = platform.settings_prefix()
            )),
            AccountsError::Unreachable(e) => {
                ApiError::Unavailable(format!("{} could not be reached ({}); nothing changed. Retry later.", e.platform, e.message))
            }
            AccountsError::CredentialsRefused(e) => ApiError::Conflict(format!("{} refused the credentials: {}", e.platform, e.message)),
            AccountsError::Platform(e) => ApiError::Unavailable(format!("{} answered with an error: {}", e.platform, e.message)),
            // Connecting happens in a browser (the connect link); these only arise there.
            AccountsError::Cancelled(_) | AccountsError::Refused { .. } | AccountsError::Expired => ApiError::Conflict(value.to_string()),
        }
    }
}

impl From<FieldError> for ApiError {
    fn from(value: FieldError) -> Self {
        ApiError::Invalid(vec![value])
    }
}

impl From<JsonRejection> for ApiError {
    fn from(value: JsonRejection) -> Self {
        match value {
            JsonRejection::JsonDataError(e) => ApiError::Invalid(vec![FieldError::new("body", e.body_text())]),
            other => ApiError::Malformed(other.body_text()),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(value: QueryRejection) -> Self {
        ApiError::Invalid(vec![FieldError::new("query", value.body_text())])
    }
}

impl From<PathRejection> for ApiError {
    /// A path id that is not even a UUID names nothing in this team either.
    fn from(_: PathRejection) -> Self {
        ApiError::NotFound
    }
}
