//! The HTTP clients for the platforms Crier publishes to: [`XClient`], [`LinkedInClient`] and
//! [`FacebookClient`] (Facebook Pages).
//!
//! Each client covers one platform end to end: the OAuth flow (authorization URL, code exchange,
//! refresh where the platform has it, revocation where it exists), "who am I", publishing,
//! deleting, and listing recent posts (to reconcile a publish whose outcome is unknown).
//!
//! What an answer *means* is not decided here: every response goes through `crier_protocol`'
//! `classify_*` functions, which the sandbox fakes are tested against too. The clients only move
//! bytes and shape the typed results:
//!
//! - success → the value ([`Published`], [`TokenSet`], [`XUser`], …);
//! - a platform error → [`PlatformError`] with its [`ErrorClass`] (`Temporary`, `RateLimited {
//!   until }`, `NeedsReauth`, `Permanent`);
//! - no answer (connection refused, timeout, broken body) → `Temporary` with `status: None`.
//!
//! Media ([`media`]): each client uploads what the engine hands it ([`MediaToUpload`], whose bytes
//! a [`MediaSource`] streams in bounded ranges) inside a delivery attempt, and answers an
//! [`Upload`]: the platform's media id and its expiry, or the classified error, with every call
//! recorded as an [`UploadStep`] (step, status, duration, budget). X: [`XClient::upload_media`],
//! [`XClient::publish_post`], [`XClient::publish_thread_posts`]. LinkedIn:
//! [`LinkedInClient::upload_media`], [`LinkedInClient::publish_with_media`]. Facebook:
//! [`FacebookClient::upload_photo`], [`FacebookClient::publish_photos`],
//! [`FacebookClient::publish_photo`], [`FacebookClient::upload_video`],
//! [`FacebookClient::publish_video`], [`FacebookClient::wait_for_video`]. A post refused because
//! of a media id it names is `Temporary` and [`PlatformError::is_media_expired`]: upload again.
//!
//! Publishing calls return a [`Response`]: the result plus the account's [`RateBudget`] read from
//! the answer's rate-limit headers (X, Meta; LinkedIn sends none).
//!
//! Every URL, the LinkedIn version and the Graph version are settings ([`XSettings`],
//! [`LinkedInSettings`], [`FacebookSettings`]) with `production` and `sandbox` constructors. Secrets
//! are [`SecretString`]s: `Debug` never shows them, and error messages are redacted by
//! [`PlatformError::new`].
//!
//! Redirects are never followed (a token endpoint that redirects is an error, not something to
//! chase with credentials), and each client has one reqwest connection pool with connect and total
//! timeouts ([`Timeouts`]).

#![warn(missing_docs)]

mod bundle;
mod facebook;
mod linkedin;
pub mod media;
mod oauth;
mod transport;
mod x;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use url::Url;

pub use bundle::{AppClient, Clients};
pub use crier_protocol::oauth1::OAuth1Credentials;
pub use crier_protocol::{ErrorClass, PlatformError, Published, RateBudget};
pub use facebook::{
    FacebookClient, FacebookPage, FacebookPageInfo, FacebookPost, FacebookSettings, FacebookUser, PAGE_VIDEO_FINISH_STEP, VideoSource,
};
pub use linkedin::{
    LinkedInArticle, LinkedInAuthor, LinkedInClient, LinkedInImage, LinkedInMedia, LinkedInMember, LinkedInOrganization, LinkedInPost,
    LinkedInSettings,
};
pub use media::{ByteStream, BytesSource, MediaSource, MediaToUpload, Stepped, Upload, UploadOptions, UploadStep, UploadedMedia};
pub use x::{ThreadFailure, ThreadOutcome, XAuth, XClient, XPost, XSettings, XUser};

/// Where the clients read the time: token expiry (`expires_at = now + expires_in`), OAuth 1.0a
/// timestamps and rate-limit waits (`RateLimited { until }`). [`system_clock`] unless a test (or
/// the sandbox) brings its own.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The wall clock.
pub fn system_clock() -> Clock {
    Arc::new(Utc::now)
}

/// Per-request limits of a client's connection pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// Establishing the TCP (and TLS) connection.
    pub connect: Duration,
    /// The whole request, from sending to the last byte of the body.
    pub total: Duration,
}

impl Default for Timeouts {
    /// 10 seconds to connect, 30 for the whole request.
    fn default() -> Self {
        Timeouts { connect: Duration::from_secs(10), total: Duration::from_secs(30) }
    }
}

/// The tokens an authorization (or a refresh) produced. `Debug` shows no token.
#[derive(Clone, Debug)]
pub struct TokenSet {
    /// The bearer token for API calls.
    pub access_token: SecretString,
    /// X (with `offline.access`): rotates on every refresh. LinkedIn: only for apps approved for
    /// programmatic refresh; does not rotate. Meta: never.
    pub refresh_token: Option<SecretString>,
    /// When the access token expires: X 2 hours, LinkedIn 60 days, Meta long-lived user token about
    /// 60 days. `None` when the platform did not say.
    pub expires_at: Option<DateTime<Utc>>,
    /// When the refresh token expires: LinkedIn (365 days from the first grant, not extended by
    /// refreshing). `None` for X (undocumented) and Meta (no refresh tokens).
    pub refresh_expires_at: Option<DateTime<Utc>>,
    /// The scopes granted, as the platform listed them (LinkedIn's comma-separated list split).
    pub scopes: Vec<String>,
}

/// The start of an authorization: send the person to `url`, keep `state` and `pkce_verifier`
/// (server side, e.g. in the session) until the redirect comes back.
#[derive(Clone, Debug)]
pub struct AuthorizationStart {
    /// The platform's consent page with every parameter.
    pub url: Url,
    /// The CSRF `state`: the redirect must carry exactly this value back.
    pub state: String,
    /// The PKCE S256 verifier for the code exchange (X); `None` where the flow has no PKCE.
    pub pkce_verifier: Option<SecretString>,
}

/// What a revocation did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RevokeOutcome {
    /// The platform accepted the revocation.
    Revoked,
    /// The platform has no revocation call (LinkedIn, platforms.md §2); the token lives until it
    /// expires, or until the member removes the app in their LinkedIn settings.
    NotSupported,
}

/// An API call's result and the rate-limit budget its answer reported.
///
/// `budget` comes from the response headers whatever the outcome (a 429 carries them too):
/// X's `x-rate-limit-*` and 24-hour windows (the tighter one), Meta's usage percentages and
/// regain-access estimate. `None` when the answer had no such headers (LinkedIn never sends any:
/// its limits reset at 00:00 UTC, which a `RateLimited` error's `until` already says), or when
/// there was no answer at all.
#[derive(Clone, Debug, PartialEq)]
pub struct Response<T> {
    /// The outcome.
    pub value: Result<T, PlatformError>,
    /// The account's budget after this call.
    pub budget: Option<RateBudget>,
}

impl<T> Response<T> {
    /// The outcome alone.
    pub fn into_result(self) -> Result<T, PlatformError> {
        self.value
    }

    fn failed(error: PlatformError) -> Self {
        Response { value: Err(error), budget: None }
    }
}

/// What a platform reports one post did, as far as it tells this account (`None`: it does not
/// report that figure, or not to this account). Counts since the post was published.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PostMetrics {
    /// Times it was shown.
    pub impressions: Option<u64>,
    /// Likes and reactions.
    pub likes: Option<u64>,
    /// Reposts and shares.
    pub reposts: Option<u64>,
    /// Replies and comments.
    pub replies: Option<u64>,
    /// Quote posts (X).
    pub quotes: Option<u64>,
    /// Bookmarks (X).
    pub bookmarks: Option<u64>,
    /// Clicks on the post (its link, its author).
    pub clicks: Option<u64>,
}

/// One post's answer to a metrics read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PostMetricsRead {
    /// What the platform said.
    Read(PostMetrics),
    /// The platform no longer has the post (deleted there).
    Gone,
    /// The platform will not tell this account: a permission it was not granted, or (X's private
    /// figures) a post that is not its own or older than 30 days.
    NotAllowed,
}

/// A post found on the account, for reconciling a publish whose outcome is unknown (a timeout, a
/// Meta "HTTP 500 code 2" that may have created the post).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecentPost {
    /// The platform's id, as in [`Published::external_id`].
    pub external_id: String,
    /// The text as published (LinkedIn's little-text escapes removed).
    pub text: String,
    /// When it was created, when the platform said.
    pub created_at: Option<DateTime<Utc>>,
    /// A public link to it.
    pub permalink: Option<String>,
}
