//! X API v2 (platforms.md §1): OAuth 2.0 with PKCE, or OAuth 1.0a user-context credentials.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use crier_platform::Platform;
use crier_protocol::oauth1::{self, OAuth1Credentials};
use crier_protocol::rate_limit::x_budget;
use crier_protocol::x::{self as protocol, classify_error, classify_publish, classify_token_error};
use crier_protocol::{PlatformError, Published, RateBudget};
use oauth2::AuthType;
use reqwest::Method;
use reqwest::header::{AUTHORIZATION, HeaderMap};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use url::Url;

mod media;

pub use media::XPost;

use crate::oauth::{OAuth, Scopes};
use crate::transport::{Raw, Transport, builtin_url, encode_segment, endpoint};
use crate::{
    AuthorizationStart, Clock, PostMetrics, PostMetricsRead, RecentPost, Response, RevokeOutcome, Timeouts, TokenSet, system_clock,
};

/// Where and how to reach X. Every URL can be overridden (the sandbox, a proxy, the legacy
/// `api.twitter.com` host).
#[derive(Clone, Debug)]
pub struct XSettings {
    /// The OAuth 2.0 client id (X developer portal, "User authentication settings").
    pub client_id: String,
    /// The OAuth 2.0 client secret of a confidential client ("Web App, Automated App or Bot"),
    /// sent as HTTP Basic. Empty for a public client: then `client_id` goes in the body.
    pub client_secret: SecretString,
    /// The consent page: `https://x.com/i/oauth2/authorize`.
    pub authorize_url: Url,
    /// Code exchange and refresh: `https://api.x.com/2/oauth2/token`.
    pub token_url: Url,
    /// Revocation: `https://api.x.com/2/oauth2/revoke`.
    pub revoke_url: Url,
    /// The API host the `/2/...` paths are appended to: `https://api.x.com`.
    pub api_url: Url,
    /// Scopes requested: `tweet.read tweet.write users.read offline.access media.write`.
    pub scopes: Vec<String>,
    /// Connection pool timeouts.
    pub timeouts: Timeouts,
}

impl XSettings {
    /// X's production endpoints (platforms.md §1.1) and Crier's scopes (§1.6).
    pub fn production(client_id: String, client_secret: SecretString) -> Self {
        XSettings {
            client_id,
            client_secret,
            authorize_url: builtin_url(protocol::AUTHORIZE_URL),
            token_url: builtin_url(protocol::TOKEN_URL),
            revoke_url: builtin_url(protocol::REVOKE_URL),
            api_url: builtin_url(protocol::API_BASE),
            scopes: protocol::SCOPES.iter().map(|s| (*s).to_owned()).collect(),
            timeouts: Timeouts::default(),
        }
    }

    /// The sandbox's X fake under `base` (e.g. `http://127.0.0.1:3000/sandbox`):
    /// `{base}/x/i/oauth2/authorize`, `{base}/x/2/oauth2/token`, `{base}/x/2/oauth2/revoke`, API `{base}/x`.
    pub fn sandbox(base: &Url, client_id: String, client_secret: SecretString) -> Self {
        XSettings {
            authorize_url: endpoint(base, "/x/i/oauth2/authorize"),
            token_url: endpoint(base, "/x/2/oauth2/token"),
            revoke_url: endpoint(base, "/x/2/oauth2/revoke"),
            api_url: endpoint(base, "/x"),
            ..XSettings::production(client_id, client_secret)
        }
    }
}

/// How an X API call is authorized: an OAuth 2.0 user access token, or OAuth 1.0a user-context
/// credentials (signed per request with HMAC-SHA1, platforms.md §1.10). `Debug` shows no secret.
#[derive(Clone, Debug)]
pub enum XAuth {
    /// `Authorization: Bearer <access token>` from the OAuth 2.0 flow.
    Bearer(SecretString),
    /// The app's API key and secret with the user's access token and secret.
    OAuth1(OAuth1Credentials),
}

/// The connected X account (`GET /2/users/me`, §1.7).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XUser {
    /// The numeric user id (a string, as X sends it).
    pub id: String,
    /// The display name.
    pub name: String,
    /// The handle, without `@`.
    pub username: String,
    /// The profile picture's URL at X, if it has one.
    pub picture: Option<String>,
}

/// How far a thread got: every post X accepted, in order, and the first failure, if any.
#[derive(Clone, Debug, PartialEq)]
pub struct ThreadOutcome {
    /// The posts published, in thread order; each after the first replies to the one before.
    pub published: Vec<Published>,
    /// The part that failed (nothing after it was tried).
    pub failure: Option<ThreadFailure>,
    /// The budget reported by the last answer.
    pub budget: Option<RateBudget>,
}

/// The part of a thread X refused.
#[derive(Clone, Debug, PartialEq)]
pub struct ThreadFailure {
    /// Its index in the parts given to [`XClient::publish_thread`].
    pub index: usize,
    /// Why.
    pub error: PlatformError,
}

struct Inner {
    settings: XSettings,
    oauth: OAuth,
    transport: Transport,
}

/// The X client: cheap to clone (one shared connection pool).
#[derive(Clone)]
pub struct XClient {
    inner: Arc<Inner>,
}

impl fmt::Debug for XClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("XClient").field("settings", &self.inner.settings).finish_non_exhaustive()
    }
}

/// X's per-request OAuth 1.0a nonce: 32 random hex digits.
fn nonce() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the OS random source failed");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn budget(headers: &HeaderMap, _now: DateTime<Utc>) -> Option<RateBudget> {
    x_budget(headers)
}

fn string(v: &Value, pointer: &str) -> Option<String> {
    v.pointer(pointer).and_then(Value::as_str).map(str::to_owned)
}

impl XClient {
    /// A client on the wall clock. Panics only if the TLS backend cannot be initialised.
    pub fn new(settings: XSettings) -> Self {
        XClient::with_clock(settings, system_clock())
    }

    /// A client reading the time from `clock` (token expiry, OAuth 1.0a timestamps, rate-limit waits).
    pub fn with_clock(settings: XSettings, clock: Clock) -> Self {
        // X takes confidential client credentials as HTTP Basic (§1.6); a public client (empty
        // secret) sends `client_id` in the body, which `oauth2` does when there is no secret.
        let s = &settings;
        let oauth = OAuth::new(&s.client_id, &s.client_secret, &s.authorize_url, &s.token_url, AuthType::BasicAuth, classify_token_error);
        let transport = Transport::new(Platform::X, settings.timeouts, clock);
        XClient { inner: Arc::new(Inner { settings, oauth, transport }) }
    }

    /// The settings this client was built with.
    pub fn settings(&self) -> &XSettings {
        &self.inner.settings
    }

    /// The consent page URL with the configured scopes, a random `state` and a PKCE S256
    /// challenge (§1.6); keep `state` and `pkce_verifier` for [`XClient::exchange_code`].
    pub fn start_authorization(&self, redirect_uri: &Url) -> AuthorizationStart {
        self.inner.oauth.start(redirect_uri, &self.inner.settings.scopes, Scopes::Spaces, true)
    }

    /// Exchanges the authorization code (valid 30 seconds, §1.6) for tokens: an access token for
    /// 2 hours and, with `offline.access`, a refresh token. X requires the PKCE verifier.
    pub async fn exchange_code(
        &self,
        code: &str,
        pkce_verifier: Option<&SecretString>,
        redirect_uri: &Url,
    ) -> Result<TokenSet, PlatformError> {
        let transport = &self.inner.transport;
        if pkce_verifier.is_none() {
            return Err(transport.permanent(None, "X needs the PKCE verifier from start_authorization to exchange a code"));
        }
        self.inner.oauth.exchange_code(transport, code, pkce_verifier, redirect_uri).await
    }

    /// A new access token for 2 hours. X rotates refresh tokens (§1.6): the returned set carries a
    /// new refresh token, the one passed in is spent from now on, so save the new one before
    /// anything else, and never refresh the same account twice at once. A spent or revoked refresh
    /// token answers `NeedsReauth`.
    pub async fn refresh(&self, refresh_token: &SecretString) -> Result<TokenSet, PlatformError> {
        self.inner.oauth.refresh(&self.inner.transport, refresh_token).await
    }

    /// Revokes an access token (`POST /2/oauth2/revoke`, `token_type_hint=access_token`, §1.6).
    pub async fn revoke(&self, token: &SecretString) -> Result<RevokeOutcome, PlatformError> {
        self.revoke_hinted(token, "access_token").await
    }

    /// Revokes a refresh token (`token_type_hint=refresh_token`); to disconnect an account,
    /// revoke the refresh token and the access token.
    pub async fn revoke_refresh_token(&self, token: &SecretString) -> Result<RevokeOutcome, PlatformError> {
        self.revoke_hinted(token, "refresh_token").await
    }

    /// RFC 7009 by hand: X insists on `token_type_hint` (§1.6), and `oauth2`'s revocation refuses
    /// any URL that is not HTTPS, which the sandbox is.
    async fn revoke_hinted(&self, token: &SecretString, hint: &str) -> Result<RevokeOutcome, PlatformError> {
        let settings = &self.inner.settings;
        let mut form = vec![("token", token.expose_secret()), ("token_type_hint", hint)];
        let mut request = self.inner.transport.http.post(settings.revoke_url.clone());
        if settings.client_secret.expose_secret().is_empty() {
            form.push(("client_id", &settings.client_id));
        } else {
            request = request.basic_auth(&settings.client_id, Some(settings.client_secret.expose_secret()));
        }
        self.inner.transport.call(request.form(&form), classify_token_error).await.map(|_| RevokeOutcome::Revoked)
    }

    /// Sends one API request, authorized by `auth` (OAuth 1.0a signs the method and the URL with
    /// its query; a JSON body is not signed, §1.10).
    async fn send(&self, method: Method, url: Url, auth: &XAuth, body: Option<&Value>) -> Result<Raw, PlatformError> {
        let mut request = self.authorized(method, url, auth);
        if let Some(body) = body {
            request = request.json(body);
        }
        self.inner.transport.send(request).await
    }

    /// A request authorized by `auth`, without a body yet.
    fn authorized(&self, method: Method, url: Url, auth: &XAuth) -> reqwest::RequestBuilder {
        let transport = &self.inner.transport;
        let request = transport.http.request(method.clone(), url.clone());
        match auth {
            XAuth::Bearer(token) => request.bearer_auth(token.expose_secret()),
            XAuth::OAuth1(credentials) => {
                let timestamp = u64::try_from(transport.now().timestamp()).unwrap_or_default();
                let header = oauth1::authorization_header(method.as_str(), url.as_str(), &[], credentials, &nonce(), timestamp);
                request.header(AUTHORIZATION, header)
            }
        }
    }

    fn api_url(&self, path: &str) -> Url {
        endpoint(&self.inner.settings.api_url, path)
    }

    /// The account behind `auth` (`GET /2/users/me`, §1.7), for the connection check.
    pub async fn who_am_i(&self, auth: &XAuth) -> Result<XUser, PlatformError> {
        let transport = &self.inner.transport;
        let mut url = self.api_url(protocol::USERS_ME_PATH);
        url.query_pairs_mut().append_pair("user.fields", protocol::USERS_ME_FIELDS);
        let raw = self.send(Method::GET, url, auth, None).await?;
        if !raw.is_success() {
            return Err(classify_error(raw.status, &raw.headers, &raw.body, transport.now()));
        }
        let v = raw.json().unwrap_or_default();
        match (string(&v, "/data/id"), string(&v, "/data/name"), string(&v, "/data/username")) {
            (Some(id), Some(name), Some(username)) => {
                Ok(XUser { id, name, username, picture: string(&v, "/data/profile_image_url").filter(|url| !url.is_empty()) })
            }
            _ => Err(transport.unreadable(&raw, "a user")),
        }
    }

    /// Publishes a post (`POST /2/tweets`, §1.2). A link is part of the text on X: it counts 23
    /// characters and X shows its card.
    pub async fn publish(&self, auth: &XAuth, text: &str) -> Response<Published> {
        self.create(auth, json!({ "text": text })).await
    }

    /// Publishes a reply to `in_reply_to` (a post id): how a thread is chained (§1.2).
    pub async fn publish_reply(&self, auth: &XAuth, text: &str, in_reply_to: &str) -> Response<Published> {
        self.create(auth, json!({ "text": text, "reply": { "in_reply_to_tweet_id": in_reply_to } })).await
    }

    async fn create(&self, auth: &XAuth, body: Value) -> Response<Published> {
        let transport = &self.inner.transport;
        let raw = self.send(Method::POST, self.api_url(protocol::CREATE_POST_PATH), auth, Some(&body)).await;
        transport.respond(raw, budget, |raw, now| classify_publish(raw.status, &raw.headers, &raw.body, now))
    }

    /// Publishes `parts` as a thread: each part replies to the one before; the first replies to
    /// `in_reply_to` when given (to resume a thread whose first parts are already out). Stops at
    /// the first failure, which names the part's index.
    pub async fn publish_thread<S: AsRef<str>>(&self, auth: &XAuth, parts: &[S], in_reply_to: Option<&str>) -> ThreadOutcome {
        let posts: Vec<XPost> = parts.iter().map(|p| XPost { text: p.as_ref().to_owned(), ..XPost::default() }).collect();
        self.publish_thread_posts(auth, &posts, in_reply_to).await
    }

    /// Deletes one of the account's posts (`DELETE /2/tweets/:id`, §1.1). An unknown or already
    /// deleted post answers 404 → `Permanent`.
    pub async fn delete_post(&self, auth: &XAuth, post_id: &str) -> Response<()> {
        let transport = &self.inner.transport;
        let url = self.api_url(&format!("/2/tweets/{}", encode_segment(post_id)));
        let raw = self.send(Method::DELETE, url, auth, None).await;
        transport.respond(raw, budget, |raw, now| {
            if !raw.is_success() {
                return Err(classify_error(raw.status, &raw.headers, &raw.body, now));
            }
            match raw.json().and_then(|v| v.pointer("/data/deleted").and_then(Value::as_bool)) {
                Some(true) => Ok(()),
                _ => Err(transport.unreadable(raw, "{\"data\":{\"deleted\":true}}")),
            }
        })
    }

    /// The metrics of the account's posts `ids` (`GET /2/tweets?ids=`, media-and-metrics.md §1.6),
    /// [`protocol::METRICS_IDS_PER_CALL`] a call: the public figures for any post, and with
    /// `private` the clicks X gives only for the account's own posts under 30 days old (a post it
    /// refuses them for answers [`PostMetricsRead::NotAllowed`]; ask again without). Each id's
    /// answer, in the order asked; the first refused call ends the read with its error. The budget
    /// returned is the lookup window's, not publishing's.
    pub async fn post_metrics(&self, auth: &XAuth, ids: &[&str], private: bool) -> Response<Vec<(String, PostMetricsRead)>> {
        let transport = &self.inner.transport;
        let mut read = Vec::with_capacity(ids.len());
        let mut budget_left = None;
        for chunk in ids.chunks(protocol::METRICS_IDS_PER_CALL) {
            let mut url = self.api_url(protocol::LOOKUP_PATH);
            let fields = if private { protocol::ALL_METRICS } else { protocol::PUBLIC_METRICS };
            url.query_pairs_mut().append_pair("ids", &chunk.join(",")).append_pair("tweet.fields", fields);
            let raw = self.send(Method::GET, url, auth, None).await;
            let answer = transport.respond(raw, budget, |raw, now| {
                if !raw.is_success() {
                    return Err(classify_error(raw.status, &raw.headers, &raw.body, now));
                }
                let v = raw.json().ok_or_else(|| transport.unreadable(raw, "JSON"))?;
                Ok(chunk.iter().map(|id| ((*id).to_owned(), metrics_read(&v, id))).collect::<Vec<_>>())
            });
            budget_left = answer.budget;
            match answer.value {
                Ok(found) => read.extend(found),
                Err(error) => return Response { value: Err(error), budget: budget_left },
            }
        }
        Response { value: Ok(read), budget: budget_left }
    }

    /// The user's latest posts, newest first (`GET /2/users/:id/tweets`), `max_results` clamped to
    /// X's 5–100; `user_id` from [`XClient::who_am_i`].
    pub async fn recent_posts(&self, auth: &XAuth, user_id: &str, max_results: u8) -> Response<Vec<RecentPost>> {
        let transport = &self.inner.transport;
        let mut url = self.api_url(&format!("/2/users/{}/tweets", encode_segment(user_id)));
        url.query_pairs_mut().append_pair("max_results", &max_results.clamp(5, 100).to_string()).append_pair("tweet.fields", "created_at");
        let raw = self.send(Method::GET, url, auth, None).await;
        transport.respond(raw, budget, |raw, now| {
            if !raw.is_success() {
                return Err(classify_error(raw.status, &raw.headers, &raw.body, now));
            }
            let v = raw.json().ok_or_else(|| transport.unreadable(raw, "JSON"))?;
            let posts = v.get("data").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
            posts
                .iter()
                .map(|p| {
                    let id = string(p, "/id").ok_or_else(|| transport.unreadable(raw, "a list of posts"))?;
                    Ok(RecentPost {
                        permalink: Some(protocol::permalink(&id)),
                        text: string(p, "/text").unwrap_or_default(),
                        created_at: string(p, "/created_at").and_then(|t| DateTime::parse_from_rfc3339(&t).ok()).map(|t| t.to_utc()),
                        external_id: id,
                    })
                })
                .collect()
        })
    }
}

/// What a `GET /2/tweets?ids=` answer says of `id`: its figures, or the problem X reports for it
/// (an id it does not mention at all is taken as gone).
fn metrics_read(answer: &Value, id: &str) -> PostMetricsRead {
    let found =
        answer.get("data").and_then(Value::as_array).and_then(|data| data.iter().find(|p| p.get("id").and_then(Value::as_str) == Some(id)));
    if let Some(post) = found {
        let count = |pointer: &str| post.pointer(pointer).and_then(Value::as_u64);
        let clicks = match (count("/non_public_metrics/url_link_clicks"), count("/non_public_metrics/user_profile_clicks")) {
            (None, None) => None,
            (links, profile) => Some(links.unwrap_or(0) + profile.unwrap_or(0)),
        };
        return PostMetricsRead::Read(PostMetrics {
            impressions: count("/public_metrics/impression_count").or_else(|| count("/non_public_metrics/impression_count")),
            likes: count("/public_metrics/like_count"),
            reposts: count("/public_metrics/retweet_count"),
            replies: count("/public_metrics/reply_count"),
            quotes: count("/public_metrics/quote_count"),
            bookmarks: count("/public_metrics/bookmark_count"),
            clicks,
        });
    }
    let problems = answer.get("errors").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let about_id = |p: &&Value| p.get("resource_id").or_else(|| p.get("value")).and_then(Value::as_str) == Some(id);
    let refused = problems
        .iter()
        .filter(about_id)
        .any(|p| p.get("type").and_then(Value::as_str).is_some_and(|t| t.ends_with(protocol::NOT_AUTHORIZED_FOR_FIELD_PROBLEM)));
    if refused { PostMetricsRead::NotAllowed } else { PostMetricsRead::Gone }
}
