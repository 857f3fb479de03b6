//! Errors as RFC 9457 problem details (`application/problem+json`), decided in one place: every
//! handler returns [`ApiError`], and [`ApiError::into_response`] is the only code that picks a status.
//! Internal details are logged, never sent. The OpenAPI document describes each kind of error once,
//! from the same [`ApiError`] (the documented problems at the end), and operations name the ones
//! they can answer.

use std::collections::BTreeMap;

use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::header::{CONTENT_RANGE, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::{IntoResponses, Modify, PartialSchema, ToResponse, ToSchema};

use crier_accounts::AccountsError;
use crier_domain::{DomainError, FieldError};

use crate::uploads::UploadError;

/// The header that tells a resumable upload's client where to continue (as in the IETF's
/// resumable uploads draft).
pub const UPLOAD_OFFSET: &str = "upload-offset";

/// The media type of every error the API answers.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// A problem detail (RFC 9457).
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// `about:blank`: the status says what kind of problem it is.
    #[serde(rename = "type")]
    #[schema(example = "about:blank")]
    pub kind: &'static str,
    /// The status's short name.
    #[schema(example = "Unprocessable Entity")]
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
    /// For a CSV import: the row, as a spreadsheet numbers it (the header is row 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<usize>,
    /// For a CSV import: the column.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
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
    /// A CSV import refused: what happened, and the rows (and columns) to correct.
    Rows(String, Vec<crier_domain::import::Problem>),
    /// The request could not be read (not JSON, wrong types).
    Malformed(String),
    /// A rule of the team stops this.
    Conflict(String),
    /// More bytes than this request may carry (a file over the size limit, a chunk over its
    /// upload's chunk size); the words say the limit.
    TooLarge(String),
    /// The `Range` asked for is not in the file of this many bytes.
    RangeNotSatisfiable(u64),
    /// A chunk of a resumable upload sent at another offset than the one the upload waits for.
    WrongOffset {
        /// The offset the upload waits for (bytes received so far).
        expected: u64,
    },
    /// Too many requests with this token; try again after this many seconds.
    RateLimited(u64),
    /// Crier or a platform cannot do this right now.
    Unavailable(String),
    /// Our fault; the details are in the log.
    Internal,
}

impl ApiError {
    /// The HTTP status this error is answered with.
    fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthenticated => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Invalid(_) | ApiError::Rows(..) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Malformed(_) => StatusCode::BAD_REQUEST,
            ApiError::Conflict(_) | ApiError::WrongOffset { .. } => StatusCode::CONFLICT,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RangeNotSatisfiable(_) => StatusCode::RANGE_NOT_SATISFIABLE,
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
            ApiError::Conflict(why) | ApiError::Unavailable(why) | ApiError::TooLarge(why) | ApiError::Rows(why, _) => why.clone(),
            ApiError::RangeNotSatisfiable(size) => {
                format!("That range is not in the file, which has {size} bytes. Ask for a range within it, or for the whole file.")
            }
            ApiError::WrongOffset { expected } => format!(
                "This upload has {expected} bytes and waits for the chunk at offset {expected}. Send that chunk next \
                 (GET the upload to see where it stands)."
            ),
            ApiError::RateLimited(secs) => format!("Too many requests with this token. Try again in {secs} seconds."),
            ApiError::Internal => "Something went wrong on our side. It has been logged; please try again in a moment.".into(),
        }
    }

    /// The body this error is answered with (also the example the OpenAPI document shows).
    fn problem(&self) -> Problem {
        let status = self.status();
        Problem {
            kind: "about:blank",
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: self.detail(),
            errors: match self {
                ApiError::Invalid(fields) => fields
                    .iter()
                    .map(|f| ProblemField { field: f.field.clone(), detail: f.message.clone(), row: None, column: None })
                    .collect(),
                ApiError::Rows(_, problems) => problems
                    .iter()
                    .map(|p| ProblemField {
                        field: match (p.row, &p.column) {
                            (Some(row), Some(column)) => format!("row {row}, {column}"),
                            (Some(row), None) => format!("row {row}"),
                            _ => "file".to_owned(),
                        },
                        detail: p.message.clone(),
                        row: p.row,
                        column: p.column.clone(),
                    })
                    .collect(),
                _ => Vec::new(),
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status(), axum::Json(self.problem())).into_response();
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        match self {
            ApiError::Unauthenticated => {
                headers.insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"crier\""));
            }
            ApiError::RateLimited(secs) => {
                headers.insert(RETRY_AFTER, HeaderValue::from(secs.max(1)));
            }
            ApiError::RangeNotSatisfiable(size) => {
                if let Ok(value) = HeaderValue::from_str(&format!("bytes */{size}")) {
                    headers.insert(CONTENT_RANGE, value);
                }
            }
            ApiError::WrongOffset { expected } => {
                headers.insert(UPLOAD_OFFSET, HeaderValue::from(expected));
            }
            _ => {}
        }
        response
    }
}

/// What a client reads when a stored secret no longer opens (the key it was sealed with is gone).
const SECRET_UNREADABLE: &str = "A stored secret of this resource cannot be decrypted with the configured secret key: reconnect the \
                                 account (or recreate the webhook), or restore the previous key.";

impl From<DomainError> for ApiError {
    /// The domain's answers in words for API clients; internals are logged, never sent.
    fn from(value: DomainError) -> Self {
        match value {
            DomainError::Invalid(field) => ApiError::Invalid(vec![field]),
            DomainError::WrongCredentials => ApiError::Unauthenticated,
            DomainError::Throttled { retry_after_secs } | DomainError::TooSoon { retry_after_secs } => {
                ApiError::RateLimited(retry_after_secs)
            }
            DomainError::NotFound => ApiError::NotFound,
            DomainError::Forbidden => ApiError::Forbidden,
            DomainError::LastOwner => ApiError::Conflict("The team would have no owner left; make someone else an owner first.".into()),
            DomainError::Refused(text) => ApiError::Conflict(text),
            DomainError::InviteInvalid => ApiError::Conflict("The invite is unknown, expired, revoked or already used.".into()),
            DomainError::ConnectionExpired => ApiError::Conflict("The connection attempt is unknown, expired or already used.".into()),
            DomainError::SignUpClosed => ApiError::Conflict("Sign-up is closed on this instance.".into()),
            DomainError::SecretUnreadable(e) => {
                tracing::error!(error = %e, "a sealed secret does not open with the configured keys");
                ApiError::Conflict(SECRET_UNREADABLE.into())
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

impl From<UploadError> for ApiError {
    /// A file that was not added, with the status the pages answer too ([`UploadError::status`]):
    /// what is wrong with the file is the field `file`.
    fn from(value: UploadError) -> Self {
        match value {
            UploadError::TooLarge { .. } => ApiError::TooLarge(value.to_string()),
            UploadError::Refused(_) | UploadError::Domain(DomainError::Refused(_)) => {
                ApiError::Invalid(vec![FieldError::new("file", value.to_string())])
            }
            UploadError::Domain(error) => error.into(),
            UploadError::Interrupted => ApiError::Malformed(value.to_string()),
            UploadError::Storage(_) => ApiError::Unavailable(value.to_string()),
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

impl From<MultipartRejection> for ApiError {
    /// Not `multipart/form-data` (or no boundary): the body cannot be read as an upload.
    fn from(value: MultipartRejection) -> Self {
        ApiError::Malformed(format!("{} Send the file as multipart/form-data, in a part named file.", value.body_text()))
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

/// Declares the documented problems: for each, a unit type that an operation names in its
/// `#[utoipa::path(responses(...))]` (its [`IntoResponses`]: a reference under the status
/// [`ApiError::status`] gives its example) and a reusable response
/// `#/components/responses/<Name>` (its [`ToResponse`]): problem+json with the [`Problem`]
/// schema, the type's doc comment as description, its headers, and as example the body Crier
/// sends for that error. Also declares [`ProblemResponses`], which puts them all in the document.
macro_rules! documented_problems {
    ($(
        $(#[doc = $doc:literal])+
        $name:ident = $example:expr $(, header($header:literal: $header_type:ty, $header_doc:literal))*;
    )+) => {
        $(
            $(#[doc = $doc])+
            pub struct $name;

            impl $name {
                /// An error of this kind, as the document's example shows it.
                fn example() -> ApiError {
                    $example
                }
            }

            impl<'r> ToResponse<'r> for $name {
                fn response() -> (&'r str, RefOr<utoipa::openapi::Response>) {
                    let description = unwrapped(&[$($doc),+]);
                    let headers = [$(($header, $header_doc, <$header_type as PartialSchema>::schema())),*];
                    (stringify!($name), problem_response(&$name::example(), description, headers).into())
                }
            }

            impl IntoResponses for $name {
                fn responses() -> BTreeMap<String, RefOr<utoipa::openapi::Response>> {
                    let status = $name::example().status().as_u16().to_string();
                    BTreeMap::from([(status, Ref::from_response_name(stringify!($name)).into())])
                }
            }
        )+

        /// Adds every documented problem to the document's reusable responses, and the
        /// [`Problem`] schema they share (operations only reference them).
        pub struct ProblemResponses;

        impl Modify for ProblemResponses {
            fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
                let components = openapi.components.get_or_insert_with(Default::default);
                $(
                    let (name, response) = <$name as ToResponse>::response();
                    components.responses.insert(name.to_owned(), response);
                )+
                let mut schemas = vec![(Problem::name().into_owned(), Problem::schema())];
                Problem::schemas(&mut schemas);
                components.schemas.extend(schemas);
            }
        }
    };
}

/// A doc comment's lines as the document's text: the lines of a paragraph joined (they are
/// wrapped for the source, not for the API's readers), paragraphs kept apart.
fn unwrapped(lines: &[&str]) -> String {
    let lines: Vec<&str> = lines.iter().map(|line| line.trim()).collect();
    let paragraphs: Vec<String> = lines.split(|line| line.is_empty()).filter(|p| !p.is_empty()).map(|p| p.join(" ")).collect();
    paragraphs.join("\n\n")
}

/// A problem+json response describing `example`'s kind of error.
fn problem_response<const N: usize>(
    example: &ApiError,
    description: String,
    headers: [(&str, &str, RefOr<utoipa::openapi::schema::Schema>); N],
) -> utoipa::openapi::Response {
    let body = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name(Problem::name())))
        .example(serde_json::to_value(example.problem()).ok())
        .build();
    let mut response = ResponseBuilder::new().description(description).content(PROBLEM_JSON, body);
    for (name, doc, schema) in headers {
        response = response.header(name, HeaderBuilder::new().schema(Some(schema)).description(Some(doc)).build());
    }
    response.build()
}

documented_problems! {
    /// No `Authorization: Bearer crier_api_…` header, or a token Crier does not know or that was
    /// revoked. Create a team API token in Settings → API.
    Unauthenticated = ApiError::Unauthenticated,
        header("WWW-Authenticate": String, "The scheme to authenticate with: `Bearer`.");
    /// The token's role does not allow this: writing posts and drafts, review decisions, uploading
    /// and changing media, and Verify need an editor or admin token (a decision also a role the
    /// team's approval settings let approve); connecting and disconnecting accounts need an admin token.
    Forbidden = ApiError::Forbidden;
    /// Nothing with that id in the token's team (an id from another team answers the same), or an
    /// id that is not a UUID.
    NotFound = ApiError::NotFound;
    /// Fields to correct, each in `errors` with what to fix. A query string that does not parse
    /// is the field `query`; a JSON body of the wrong shape is the field `body`.
    Invalid = ApiError::Invalid(vec![FieldError::new("text", "The text for X is 291 characters long; X allows 280.")]);
    /// A CSV import refused: nothing was written. `errors` lists what to fix, each with its `row`
    /// (as a spreadsheet numbers it: the header is row 1) and `column` where one is to blame; a
    /// problem of the whole file (its header, its size, its number of rows) has neither.
    ImportRefused = ApiError::Rows(
        "Nothing was imported: 1 problem to fix in 2 rows. Correct the file and import it again.".into(),
        vec![crier_domain::import::Problem::at(3, Some("accounts"), "The team has no account named “Acme”. Write an account's name as the Accounts page shows it.")],
    );
    /// The body could not be read: not JSON, or sent without `Content-Type: application/json`; a
    /// multipart upload that is not `multipart/form-data`; a body that ended before all of it
    /// arrived.
    Malformed = ApiError::Malformed("Expected request with `Content-Type: application/json`".into());
    /// What Crier holds stops this, and `detail` says what to do: e.g. the account's stored
    /// credentials no longer open with the configured secret key (reconnect the account, or
    /// restore the previous key); a draft that must be submitted for review rather than scheduled;
    /// a post no longer waiting for review, or the token creator's own; a token that acts for no
    /// member, for what is a member's act (reviews, comments).
    Conflict = ApiError::Conflict(SECRET_UNREADABLE.into());
    /// More bytes than this request may carry: a file over the instance's size limit
    /// (CRIER_MEDIA_MAX_FILE_SIZE), a chunk longer than its upload's `chunk_bytes`, or a JSON body
    /// over 256 KB. `detail` says the limit.
    TooLarge = ApiError::TooLarge("This file is larger than Crier accepts (500 MB). Make it smaller and upload it again.".into());
    /// A chunk sent at another offset than the one its upload waits for (a chunk lost or sent
    /// twice), or to an upload that no longer takes chunks. `Upload-Offset` and `detail` say the
    /// offset to send next.
    WrongOffset = ApiError::WrongOffset { expected: 8_388_608 },
        header("Upload-Offset": u64, "The offset the upload waits for: the bytes it has.");
    /// The `Range` asked for is not in the file; `Content-Range` says the file's size.
    RangeNotSatisfiable = ApiError::RangeNotSatisfiable(48_213),
        header("Content-Range": String, "`bytes */<size>`: the file's size.");
    /// Too many requests with this token (each token has its own limit). Wait the seconds in
    /// `Retry-After`, then retry.
    RateLimited = ApiError::RateLimited(12),
        header("Retry-After": u64, "Seconds until the token may make another request.");
    /// The platform is not configured on this Crier (its operator must set its app's client id
    /// and secret), cannot be reached, or answered an error. Nothing changed; `detail` says which.
    /// Retry later.
    Unavailable = ApiError::Unavailable("X could not be reached (timed out); nothing changed. Retry later.".into());
    /// Something failed on Crier's side; the details are in its log. Retry in a moment.
    Internal = ApiError::Internal;
}
