//! Faithful fakes of the platform APIs Crier talks to, served as an axum [`Router`].
//!
//! X (API v2 + OAuth 2.0 authorization code with PKCE), LinkedIn (OAuth 2.0 3-legged, OpenID
//! userinfo, versioned Posts API) and Meta (Graph API for Facebook Pages), per `platforms.md` §1–§5.
//! The fake decides its answers on its own (it does not consult `crier_protocol`' client-side
//! classification), so a client bug cannot be hidden by a fake that shares it.
//!
//! Routes (relative; the app nests the router at `/sandbox`):
//!
//! | Route | What |
//! |---|---|
//! | `GET /x/i/oauth2/authorize` | consent page |
//! | `POST /x/i/oauth2/authorize` | consent form → 302 to the registered redirect URI |
//! | `POST /x/2/oauth2/token` | authorization_code / refresh_token grants |
//! | `POST /x/2/oauth2/revoke` | revoke a token |
//! | `GET /x/2/users/me` | who am I |
//! | `POST /x/2/tweets` | publish |
//! | `GET /x/2/tweets?ids=…` | posts read back with their metrics ([`engagement`]'s numbers) |
//! | `DELETE /x/2/tweets/{id}` | delete own post |
//! | `GET /x/2/users/{id}/tweets` | a user's recent posts |
//! | `GET`/`POST /linkedin/oauth/v2/authorization` | consent page / form |
//! | `POST /linkedin/oauth/v2/accessToken` | authorization_code / refresh_token grants (credentials in the body) |
//! | `POST /linkedin/oauth/v2/introspectToken` | token introspection |
//! | `GET /linkedin/v2/userinfo` | who am I (OpenID) |
//! | `GET /linkedin/rest/organizationAcls?q=roleAssignee` | organizations the member administers |
//! | `GET /linkedin/rest/organizations/{id}` | an organization's name and logo (`logoV2`) |
//! | `POST /linkedin/rest/posts` | publish (201, `x-restli-id`) |
//! | `GET /linkedin/rest/posts?q=author&author={urn}` | an author's recent posts |
//! | `GET`/`DELETE /linkedin/rest/posts/{urn}` | read / delete a post |
//! | `GET /linkedin/rest/socialActions/{post urn}` | a post's likes and comments summaries |
//! | `GET /linkedin/rest/organizationalEntityShareStatistics` | an organization's posts' totals |
//! | `POST`/`GET /linkedin/rest/socialActions/{post urn}/comments` | comment on a post as its author (201, `x-restli-id`) / its comments |
//! | `POST /linkedin/rest/{images,videos,documents}?action=initializeUpload`, `POST /linkedin/rest/videos?action=finalizeUpload`, `PUT /linkedin/dms-uploads/{id}`, `GET /linkedin/rest/{images,videos,documents}/{urn}` | LinkedIn media (upload URLs, parts with ETags, status; an organization logo's `downloadUrl`) |
//! | `GET`/`POST /facebook/{vNN.N}/dialog/oauth` | login dialog / form |
//! | `GET /facebook/{v}/oauth/access_token` | code → short-lived user token; `fb_exchange_token` → long-lived |
//! | `GET /facebook/{v}/me`, `GET /facebook/{v}/me/accounts` | who am I; the Pages with Page tokens |
//! | `POST`/`GET /facebook/{v}/{page_id}/feed` (`GET` also `…/posts`, `…/published_posts`) | publish / recent posts |
//! | `POST`/`GET /facebook/{v}/{page_post_id}/comments` | comment as the Page (`pages_manage_engagement`) / the post's comments |
//! | `GET`/`DELETE /facebook/{v}/{id}` | a Page or post (`reactions`, `comments`, `shares` counts when asked) / delete a post; a video's `?fields=status` |
//! | `GET /facebook/{v}/{page_post_id}/insights?metric=…` | a post's lifetime insights |
//! | `POST /facebook/{v}/{page_id}/photos` (multipart `source`, `published`, `alt_text_custom`), `POST …/{app_id}/uploads`, `POST`/`GET …/upload:{id}` (`file_offset`), `POST …/{page_id}/videos` (`file_url`, `fbuploader_video_file_chunk`, or `upload_phase` `start`/`transfer` (multipart `video_file_chunk`)/`finish`) | Facebook media: photos, resumable and chunked uploads, video posts |
//! | `DELETE /facebook/{v}/me/permissions` (or `/{user_id}/permissions`) | revoke: the app's grant and every token it issued for that person die |
//! | `POST /control/{x,linkedin,facebook}/apps` (`meta` still accepted) | register an app (`{"client_id","client_secret","redirect_uri","name"}`; LinkedIn also `"refresh_tokens"`) |
//! | `GET /pictures/{platform}/{id}.png` | an account's profile picture, as the platforms' image hosts serve them (the who-am-I answers point here) |
//! | `PUT /control/pictures/{platform}/{id}` | the bytes (and `Content-Type`) that account's picture answers from now on |
//! | `POST /control/{platform}/faults`, `DELETE …` | inject / clear faults (Facebook also `{"created_then_500": N}`); media: `next_responses[].on` (a step of [`MEDIA_STEPS`], or `comment` for LinkedIn's and Facebook's comments) and `.after` (skip N), `processing_failure` (the next processed upload fails with this reason), `processing_stuck` (processing never ends) |
//! | `POST /control/{platform}/expire-token` | `{"access_token"}` → expired now (LinkedIn: a refresh token too) |
//! | `POST /control/{platform}/revoke-user` | `{"user_id"}` → every token of that user dies |
//! | `POST /control/x/oauth1-credentials` | `{"consumer_key","consumer_secret","access_token","token_secret","username"}` → OAuth 1.0a user-context credentials for that user (`{"user_id"}`) |
//! | `GET /control/ledger` | every accepted post, all platforms, each with its `media` (SHA-256, type, size, alt text, in order) |
//! | `POST /control/reset` | forget everything but the registered apps |
//!
//! Media uploads (X, LinkedIn, Facebook) stream through the fakes without being held: every byte
//! is hashed as it arrives, so the ledger records each published post's media (SHA-256, type,
//! size, alt text, in order; [`Sandbox::post_media`], or `media` in `GET /control/ledger`) and a
//! test can prove the exact bytes arrived. Processing is played on the sandbox's clock
//! ([`ProcessingConfig`]), and every media limit is a setting ([`XMediaLimits`],
//! [`LinkedInMediaLimits`], [`FacebookMediaLimits`]).
//!
//! The X API routes take `Authorization: Bearer <OAuth 2.0 user token>` or an OAuth 1.0a
//! HMAC-SHA1 `Authorization: OAuth …` header signed with credentials registered through
//! `/control/x/oauth1-credentials` or [`Sandbox::register_x_oauth1`].

mod clock;
mod control;
mod engagement;
mod facebook;
mod faults;
mod linkedin;
mod media;
mod pictures;
mod util;
mod x;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use clock::{Clock, ManualClock, SystemClock};
pub use engagement::{Engagement, engagement};
pub use facebook::{FacebookLimits, FacebookMediaLimits};
pub use linkedin::{LinkedInLimits, LinkedInMediaLimits};
pub use media::{PostMedia, ProcessingConfig};
pub use pictures::drawn as drawn_picture;
pub use x::{XLimits, XMediaLimits};

/// The upload steps an injected response can be aimed at (`"on"` in `POST /control/{platform}/faults`):
/// X `upload` (one-shot), `initialize`, `append`, `finalize`, `status`, `metadata`; LinkedIn
/// `initialize`, `part` (a PUT to an upload URL), `finalize`, `status`; Facebook `photos`,
/// `uploads` (opening a resumable session), `transfer` (a chunk, resumable or chunked), `videos`,
/// `start` and `finish` (the chunked upload's other phases on `/videos`), `status`. Every platform
/// also has `post` (publishing).
pub const MEDIA_STEPS: &[(&str, &[&str])] = &[
    ("x", &["upload", "initialize", "append", "finalize", "status", "metadata", "post"]),
    ("linkedin", &["initialize", "part", "finalize", "status", "post"]),
    ("facebook", &["photos", "uploads", "transfer", "videos", "start", "finish", "status", "post"]),
];

/// How the sandbox behaves. `SandboxConfig::new(public_base)` gives the X defaults.
#[derive(Clone)]
pub struct SandboxConfig {
    /// Where the router is reachable from a browser, without a trailing slash, e.g.
    /// `http://127.0.0.1:3000/sandbox`. The consent form posts to `{public_base}/x/i/oauth2/authorize`.
    pub public_base: String,
    /// X access-token lifetime (`expires_in`); X: 2 hours.
    pub x_access_token_ttl: Duration,
    /// X authorization-code lifetime; X: 30 seconds.
    pub x_code_ttl: Duration,
    /// Rate limits of the X fake.
    pub x_limits: XLimits,
    /// Media limits, lifetimes and processing of the X fake.
    pub x_media: XMediaLimits,
    /// LinkedIn access-token lifetime (`expires_in`); LinkedIn: 60 days (5,184,000 s).
    pub linkedin_access_token_ttl: Duration,
    /// LinkedIn refresh-token lifetime (`refresh_token_expires_in`), not extended by refreshing; 365 days.
    pub linkedin_refresh_token_ttl: Duration,
    /// LinkedIn authorization-code lifetime; LinkedIn: 30 minutes.
    pub linkedin_code_ttl: Duration,
    /// Daily throttle and active API versions of the LinkedIn fake.
    pub linkedin_limits: LinkedInLimits,
    /// Media limits, lifetimes and processing of the LinkedIn fake.
    pub linkedin_media: LinkedInMediaLimits,
    /// Meta short-lived user token (code exchange); "expiring in hours": 2 hours here.
    pub facebook_short_user_token_ttl: Duration,
    /// Meta long-lived user token (`fb_exchange_token`): about 60 days.
    pub facebook_long_user_token_ttl: Duration,
    /// Page tokens got with a short-lived user token: 1 hour (from a long-lived one: no expiry).
    pub facebook_short_page_token_ttl: Duration,
    /// Meta authorization-code lifetime: 10 minutes (not in platforms.md).
    pub facebook_code_ttl: Duration,
    /// Graph versions the Meta fake answers (`v26.0`, ...); empty = any well-formed `vNN.N`.
    pub facebook_graph_versions: Vec<String>,
    /// Rate limits of the Meta fake.
    pub facebook_limits: FacebookLimits,
    /// Media limits, lifetimes and processing of the Meta fake.
    pub facebook_media: FacebookMediaLimits,
    /// The clock every expiry, window and `accepted_at` is measured with. Tests inject a [`ManualClock`].
    pub clock: Arc<dyn Clock>,
    /// The bearer token the control API (`/control/...`: apps, faults, the ledger, reset) requires:
    /// `Some` where the fakes run beside real teams (inside `crier serve`), so that nobody but the
    /// operator and the tests sees another team's posts or injects faults; `None` opens it (a fake
    /// running alone for tests and benchmarks). A request without it answers 404, as if there
    /// were no control API.
    pub control_token: Option<String>,
}

impl SandboxConfig {
    pub fn new(public_base: impl Into<String>) -> Self {
        SandboxConfig {
            public_base: public_base.into().trim_end_matches('/').to_owned(),
            x_access_token_ttl: Duration::from_secs(2 * 60 * 60),
            x_code_ttl: Duration::from_secs(30),
            x_limits: XLimits::default(),
            x_media: XMediaLimits::default(),
            linkedin_access_token_ttl: Duration::from_secs(5_184_000),
            linkedin_refresh_token_ttl: Duration::from_secs(31_536_000),
            linkedin_code_ttl: Duration::from_secs(30 * 60),
            linkedin_limits: LinkedInLimits::default(),
            linkedin_media: LinkedInMediaLimits::default(),
            facebook_short_user_token_ttl: Duration::from_secs(2 * 60 * 60),
            facebook_long_user_token_ttl: Duration::from_secs(5_184_000),
            facebook_short_page_token_ttl: Duration::from_secs(60 * 60),
            facebook_code_ttl: Duration::from_secs(10 * 60),
            facebook_graph_versions: Vec::new(),
            facebook_limits: FacebookLimits::default(),
            facebook_media: FacebookMediaLimits::default(),
            clock: Arc::new(SystemClock),
            control_token: None,
        }
    }

    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig::new("http://127.0.0.1:3000/sandbox")
    }
}

/// One accepted post, in acceptance order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    /// `"x"`, `"linkedin"` or `"facebook"`.
    pub platform: String,
    /// Who is signed in: the X user id, the LinkedIn member id (`sub`), the Facebook user id.
    pub user_id: String,
    /// Who the post is by: the X user id, `urn:li:person:…` / `urn:li:organization:…`, the Page id.
    #[serde(default)]
    pub author: String,
    pub post_id: String,
    pub text: String,
    pub in_reply_to: Option<String>,
    /// When the publish request arrived, before any injected latency: when the caller's call
    /// started, as the benchmark measures schedule lag.
    #[serde(default)]
    pub received_at: DateTime<Utc>,
    pub accepted_at: DateTime<Utc>,
}

pub(crate) struct State {
    pub(crate) x: x::XState,
    pub(crate) linkedin: linkedin::LinkedInState,
    pub(crate) facebook: facebook::FacebookState,
    pub(crate) ledger: Vec<LedgerEntry>,
    /// Each published post's media, in the post's order, by `(platform, post_id)`. Kept beside
    /// [`LedgerEntry`] rather than in it, so that code building entries keeps compiling; the
    /// control API's ledger shows it as each entry's `media`.
    pub(crate) post_media: std::collections::HashMap<(String, String), Vec<PostMedia>>,
    /// Profile pictures a test replaced, by `(platform, id)`: the `Content-Type` to answer and the bytes.
    pub(crate) pictures: std::collections::HashMap<(String, String), (String, Vec<u8>)>,
}

impl State {
    pub(crate) fn reset(&mut self) {
        self.x.reset();
        self.linkedin.reset();
        self.facebook.reset();
        self.ledger.clear();
        self.post_media.clear();
        self.pictures.clear();
    }

    /// Records a published post's media for the ledger.
    pub(crate) fn record_media(&mut self, platform: &str, post_id: &str, media: Vec<PostMedia>) {
        if !media.is_empty() {
            self.post_media.insert((platform.to_owned(), post_id.to_owned()), media);
        }
    }

    /// The ledger as the control API shows it: each entry with its `media` (possibly empty).
    pub(crate) fn ledger_json(&self) -> serde_json::Value {
        let entries = self.ledger.iter().map(|entry| {
            let mut value = serde_json::to_value(entry).expect("a ledger entry serializes");
            let media = self.post_media.get(&(entry.platform.clone(), entry.post_id.clone())).cloned().unwrap_or_default();
            value["media"] = serde_json::to_value(media).expect("media serializes");
            value
        });
        serde_json::Value::Array(entries.collect())
    }
}

pub(crate) struct Inner {
    pub(crate) config: SandboxConfig,
    state: Mutex<State>,
}

impl Inner {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A handler that panicked mid-update leaves the sandbox usable: it is a test fake.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.config.clock.now()
    }
}

/// The fake platforms: cheap to clone (shared state).
#[derive(Clone)]
pub struct Sandbox {
    inner: Arc<Inner>,
}

impl Sandbox {
    pub fn new(config: SandboxConfig) -> Self {
        let state = State {
            x: x::XState::new(),
            linkedin: linkedin::LinkedInState::new(),
            facebook: facebook::FacebookState::new(),
            ledger: Vec::new(),
            post_media: std::collections::HashMap::new(),
            pictures: std::collections::HashMap::new(),
        };
        Sandbox { inner: Arc::new(Inner { config, state: Mutex::new(state) }) }
    }

    /// Serves a new sandbox over real HTTP on a free port of 127.0.0.1, nested at `/sandbox` as
    /// `crier serve` mounts it: for tests in any crate. `config.public_base` is replaced by where it
    /// listens, which is returned with it (`http://127.0.0.1:<port>/sandbox`). The server runs on
    /// the current tokio runtime.
    pub async fn serve_local(mut config: SandboxConfig) -> std::io::Result<(String, Sandbox)> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        config.public_base = format!("http://{}/sandbox", listener.local_addr()?);
        let base = config.public_base.clone();
        let sandbox = Sandbox::new(config);
        let app = Router::new().nest("/sandbox", sandbox.router());
        tokio::spawn(async move {
            // Only fails when the runtime goes away, which ends the test that started it.
            let _ = axum::serve(listener, app).await;
        });
        Ok((base, sandbox))
    }

    /// All routes, relative (nest under `/sandbox`).
    pub fn router(&self) -> Router {
        Router::new()
            .merge(x::routes())
            .merge(linkedin::routes())
            .merge(facebook::routes())
            .route("/pictures/{platform}/{file}", axum::routing::get(pictures::picture))
            .merge(control::routes(&self.inner))
            .with_state(self.inner.clone())
    }

    /// Registers an X app that may authorize. An empty `client_secret` makes it a public client
    /// (`client_id` in the token request body instead of HTTP Basic). Re-registering replaces it.
    pub fn register_x_app(&self, client_id: &str, client_secret: &str, redirect_uri: &str, name: &str) {
        self.inner.lock().x.register_app(client_id, client_secret, redirect_uri, name);
    }

    /// Registers OAuth 1.0a user-context credentials for the X user `username` (created if new): the
    /// app's API key and secret and the user's access token and secret, as X's developer portal
    /// issues them. API calls signed with them (HMAC-SHA1) act as that user. Returns the user's id.
    pub fn register_x_oauth1(
        &self,
        consumer_key: &str,
        consumer_secret: &str,
        access_token: &str,
        token_secret: &str,
        username: &str,
    ) -> String {
        self.inner.lock().x.register_oauth1(consumer_key, consumer_secret, access_token, token_secret, username)
    }

    /// Registers a LinkedIn app (client credentials go in the token request body). New apps are
    /// "approved" for programmatic refresh tokens; see [`Sandbox::set_linkedin_refresh_tokens`].
    pub fn register_linkedin_app(&self, client_id: &str, client_secret: &str, redirect_uri: &str, name: &str) {
        self.inner.lock().linkedin.register_app(client_id, client_secret, redirect_uri, name);
    }

    /// Whether the LinkedIn app gets refresh tokens (only approved partners do). False when unknown.
    pub fn set_linkedin_refresh_tokens(&self, client_id: &str, enabled: bool) -> bool {
        self.inner.lock().linkedin.set_refresh_tokens(client_id, enabled)
    }

    /// Registers a Meta app (`client_id` = app id, `client_secret` = app secret).
    pub fn register_facebook_app(&self, app_id: &str, app_secret: &str, redirect_uri: &str, name: &str) {
        self.inner.lock().facebook.register_app(app_id, app_secret, redirect_uri, name);
    }

    /// Every accepted post, in order.
    pub fn ledger(&self) -> Vec<LedgerEntry> {
        self.inner.lock().ledger.clone()
    }

    /// The media of a published post, in the post's order (empty for a text post): what the
    /// platform received of each (SHA-256, type, size, alt text). `platform` is `"x"`,
    /// `"linkedin"` or `"facebook"`, `post_id` the ledger entry's.
    pub fn post_media(&self, platform: &str, post_id: &str) -> Vec<PostMedia> {
        self.inner.lock().post_media.get(&(platform.to_owned(), post_id.to_owned())).cloned().unwrap_or_default()
    }

    /// How many faulty answers the fault injection has given so far, on all platforms.
    pub fn faults_injected(&self) -> u64 {
        let state = self.inner.lock();
        state.x.faults.injected + state.linkedin.faults.injected + state.facebook.faults.injected
    }

    /// Forgets users, codes, tokens, posts, the ledger, rate-limit windows and faults; keeps the apps.
    pub fn reset(&self) {
        self.inner.lock().reset();
    }
}
