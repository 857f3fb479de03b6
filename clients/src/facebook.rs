//! Meta Graph API for Facebook Pages (platforms.md §3): the login dialog, the `GET
//! oauth/access_token` code exchange and `fb_exchange_token`, Page tokens from `/me/accounts`, and
//! a Page's feed.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use crier_platform::Platform;
use crier_protocol::facebook::{self as protocol, classify_error, classify_publish, classify_token_error};
use crier_protocol::rate_limit::meta_budget;
use crier_protocol::{PlatformError, Published};
use oauth2::AuthType;
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use url::Url;

mod media;

pub use media::{PAGE_VIDEO_FINISH_STEP, VideoSource};

use crate::oauth::{OAuth, Scopes, TokenBody};
use crate::transport::{Raw, Transport, builtin_url, encode_segment, endpoint};
use crate::{
    AuthorizationStart, Clock, PostMetrics, PostMetricsRead, RecentPost, Response, RevokeOutcome, Timeouts, TokenSet, system_clock,
};

/// Where and how to reach Meta's Graph API.
#[derive(Clone, Debug)]
pub struct FacebookSettings {
    /// The app id.
    pub client_id: String,
    /// The app secret.
    pub client_secret: SecretString,
    /// The login dialog, with its version: `https://www.facebook.com/v26.0/dialog/oauth`.
    pub authorize_url: Url,
    /// The token endpoint, with its version: `https://graph.facebook.com/v26.0/oauth/access_token`.
    pub token_url: Url,
    /// The Graph host, without a version: `https://graph.facebook.com`.
    pub api_url: Url,
    /// The Graph version API calls use (`{api_url}/{graph_version}/...`), e.g. `v26.0`. Meta retires
    /// versions: see [`FacebookSettings::with_graph_version`].
    pub graph_version: String,
    /// Permissions requested: `pages_manage_posts pages_read_engagement pages_show_list pages_manage_engagement` (§3.1).
    pub scopes: Vec<String>,
    /// The host `/{page}/videos` is posted to, without a version: `https://graph-video.facebook.com`
    /// ("The single exception is video uploads", media-and-metrics.md §3).
    pub video_api_url: Url,
    /// Connection pool timeouts.
    pub timeouts: Timeouts,
}

impl FacebookSettings {
    /// Meta's production endpoints (§3.1, §3.2) at [`protocol::DEFAULT_GRAPH_VERSION`].
    pub fn production(client_id: String, client_secret: SecretString) -> Self {
        let version = protocol::DEFAULT_GRAPH_VERSION;
        FacebookSettings {
            client_id,
            client_secret,
            authorize_url: builtin_url(&protocol::dialog_url(version)),
            token_url: builtin_url(&protocol::token_url(version)),
            api_url: builtin_url(protocol::GRAPH_HOST),
            graph_version: version.to_owned(),
            scopes: protocol::SCOPES.iter().map(|s| (*s).to_owned()).collect(),
            video_api_url: builtin_url(protocol::GRAPH_VIDEO_HOST),
            timeouts: Timeouts::default(),
        }
    }

    /// The sandbox's Meta fake under `base`: `{base}/facebook/{version}/dialog/oauth`,
    /// `{base}/facebook/{version}/oauth/access_token`, API `{base}/facebook`.
    pub fn sandbox(base: &Url, client_id: String, client_secret: SecretString) -> Self {
        let version = protocol::DEFAULT_GRAPH_VERSION;
        FacebookSettings {
            authorize_url: endpoint(base, &format!("/facebook/{version}/dialog/oauth")),
            token_url: endpoint(base, &format!("/facebook/{version}/oauth/access_token")),
            api_url: endpoint(base, "/facebook"),
            video_api_url: endpoint(base, "/facebook"),
            ..FacebookSettings::production(client_id, client_secret)
        }
    }

    /// Moves API calls to another Graph version, and the dialog and token URLs with them where
    /// their path names the current version (`/v26.0/dialog/oauth` → `/v27.0/dialog/oauth`).
    pub fn with_graph_version(mut self, version: &str) -> Self {
        let old = format!("/{}/", self.graph_version);
        let new = format!("/{version}/");
        for url in [&mut self.authorize_url, &mut self.token_url] {
            let path = url.path().replacen(&old, &new, 1);
            url.set_path(&path);
        }
        self.graph_version = version.to_owned();
        self
    }
}

/// The Facebook user behind a user token (`GET /me?fields=id,name`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FacebookUser {
    /// The app-scoped user id.
    pub id: String,
    /// The name.
    pub name: String,
}

/// A Page the user granted the app, with its Page token (`GET /me/accounts`, §3.2). `Debug` shows
/// no token.
#[derive(Clone, Debug)]
pub struct FacebookPage {
    /// The Page id.
    pub id: String,
    /// The Page name.
    pub name: String,
    /// The Page access token: publish with it.
    pub access_token: SecretString,
    /// The Page's profile picture URL at Meta.
    pub picture: Option<String>,
    /// When the Page token expires. `None`: Page tokens fetched with a long-lived user token (what
    /// [`FacebookClient::exchange_code`] returns) do not expire; Meta invalidates them on a password
    /// change, a lost Page role or the app's removal (code 190 → `NeedsReauth`). Fetched with a
    /// short-lived user token they last an hour, which `/me/accounts` does not say: always pass
    /// the long-lived token.
    pub token_expires_at: Option<DateTime<Utc>>,
}

/// A Page's id, name and picture, for checking that a Page token still works.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FacebookPageInfo {
    /// The Page id.
    pub id: String,
    /// The Page name.
    pub name: String,
    /// The Page's profile picture URL at Meta.
    pub picture: Option<String>,
}

/// A Page feed post (§3.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FacebookPost {
    /// The text.
    pub message: String,
    /// A link, shown as a card (Meta scrapes it; a link it cannot fetch is error 1609005).
    pub link: Option<Url>,
}

struct Inner {
    settings: FacebookSettings,
    oauth: OAuth,
    transport: Transport,
}

/// The Meta client: cheap to clone (one shared connection pool).
#[derive(Clone)]
pub struct FacebookClient {
    inner: Arc<Inner>,
}

impl fmt::Debug for FacebookClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FacebookClient").field("settings", &self.inner.settings).finish_non_exhaustive()
    }
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// How many `/me/accounts` pages [`FacebookClient::pages`] follows (100 Pages each).
const MAX_ACCOUNT_PAGES: usize = 10;

impl FacebookClient {
    /// A client on the wall clock. Panics only if the TLS backend cannot be initialised.
    pub fn new(settings: FacebookSettings) -> Self {
        FacebookClient::with_clock(settings, system_clock())
    }

    /// A client reading the time from `clock` (token expiry, rate-limit waits).
    pub fn with_clock(settings: FacebookSettings, clock: Clock) -> Self {
        // Only the dialog URL comes from `oauth2`: Meta's token endpoint is a GET (§3.2).
        let s = &settings;
        let oauth = OAuth::new(&s.client_id, &s.client_secret, &s.authorize_url, &s.token_url, AuthType::RequestBody, classify_token_error);
        let transport = Transport::new(Platform::Facebook, settings.timeouts, clock);
        FacebookClient { inner: Arc::new(Inner { settings, oauth, transport }) }
    }

    /// The settings this client was built with.
    pub fn settings(&self) -> &FacebookSettings {
        &self.inner.settings
    }

    /// The login dialog URL with the configured permissions (comma-separated, as Meta documents
    /// them) and a random `state` (§3.2). No PKCE: `pkce_verifier` is `None`.
    pub fn start_authorization(&self, redirect_uri: &Url) -> AuthorizationStart {
        self.inner.oauth.start(redirect_uri, &self.inner.settings.scopes, Scopes::Commas, false)
    }

    /// Exchanges the code for a **long-lived** user token (about 60 days), in Meta's two steps:
    /// `GET oauth/access_token?code=…` gives a short-lived token, which
    /// [`FacebookClient::extend_user_token`] exchanges (§3.2). There is no refresh token; before the
    /// 60 days are up, the person logs in again. The PKCE verifier is not used.
    pub async fn exchange_code(
        &self,
        code: &str,
        _pkce_verifier: Option<&SecretString>,
        redirect_uri: &Url,
    ) -> Result<TokenSet, PlatformError> {
        let settings = &self.inner.settings;
        let mut url = settings.token_url.clone();
        url.query_pairs_mut()
            .append_pair("client_id", &settings.client_id)
            .append_pair("redirect_uri", redirect_uri.as_str())
            .append_pair("client_secret", settings.client_secret.expose_secret())
            .append_pair("code", code);
        let short = self.token_request(url).await?;
        self.extend_user_token(&short.access_token).await
    }

    /// Exchanges a valid user token for a long-lived one (`grant_type=fb_exchange_token`, §3.2).
    /// An expired token cannot be exchanged (`NeedsReauth`).
    pub async fn extend_user_token(&self, user_token: &SecretString) -> Result<TokenSet, PlatformError> {
        let settings = &self.inner.settings;
        let mut url = settings.token_url.clone();
        url.query_pairs_mut()
            .append_pair("grant_type", "fb_exchange_token")
            .append_pair("client_id", &settings.client_id)
            .append_pair("client_secret", settings.client_secret.expose_secret())
            .append_pair("fb_exchange_token", user_token.expose_secret());
        self.token_request(url).await
    }

    /// `GET oauth/access_token` (the credentials are in the query, as Meta documents).
    async fn token_request(&self, url: Url) -> Result<TokenSet, PlatformError> {
        let transport = &self.inner.transport;
        let raw = transport.call(transport.http.get(url), classify_token_error).await?;
        let body: TokenBody = serde_json::from_slice(&raw.body).map_err(|_| transport.unreadable(&raw, "a token response"))?;
        Ok(body.into_token_set(transport.now()))
    }

    /// De-authorizes the app for the user (`DELETE /me/permissions` with the user token): every
    /// token the app holds for them, Page tokens included, stops working. Meta documents
    /// `DELETE /{user-id}/permissions[/{permission}]` answering `true`; platforms.md §3.2 notes that
    /// de-authorizing invalidates Page tokens.
    pub async fn revoke(&self, user_token: &SecretString) -> Result<RevokeOutcome, PlatformError> {
        let transport = &self.inner.transport;
        let request = self.graph(Method::DELETE, "/me/permissions", user_token);
        let raw = transport.call(request, classify_error).await?;
        match raw.json() {
            Some(Value::Bool(true)) => Ok(RevokeOutcome::Revoked),
            Some(v) if v.get("success") == Some(&Value::Bool(true)) => Ok(RevokeOutcome::Revoked),
            _ => Err(transport.unreadable(&raw, "true")),
        }
    }

    /// A Graph API request with the token in the `Authorization` header (not the query, so it
    /// cannot end up in a logged URL).
    fn graph(&self, method: Method, path: &str, token: &SecretString) -> reqwest::RequestBuilder {
        self.graph_url(method, self.graph_endpoint(path), token)
    }

    fn graph_url(&self, method: Method, url: Url, token: &SecretString) -> reqwest::RequestBuilder {
        self.inner.transport.http.request(method, url).bearer_auth(token.expose_secret())
    }

    fn graph_endpoint(&self, path: &str) -> Url {
        let settings = &self.inner.settings;
        endpoint(&settings.api_url, &format!("/{}/{}", settings.graph_version, path.trim_start_matches('/')))
    }

    async fn get_json(&self, request: reqwest::RequestBuilder, what: &str) -> Result<Value, PlatformError> {
        let transport = &self.inner.transport;
        let raw = transport.call(request, classify_error).await?;
        raw.json().ok_or_else(|| transport.unreadable(&raw, what))
    }

    /// The user behind a user token (`GET /me?fields=id,name`).
    pub async fn who_am_i(&self, user_token: &SecretString) -> Result<FacebookUser, PlatformError> {
        let v = self.get_json(self.graph(Method::GET, "/me?fields=id,name", user_token), "a user").await?;
        match (text(&v, "id"), text(&v, "name")) {
            (Some(id), Some(name)) => Ok(FacebookUser { id, name }),
            _ => Err(self.inner.transport.permanent(Some(200), "/me without an id and a name")),
        }
    }

    /// The Pages the user granted the app, each with its Page token (`GET /me/accounts`, §3.2),
    /// following Meta's paging. Call it with the long-lived user token: see
    /// [`FacebookPage::token_expires_at`].
    pub async fn pages(&self, user_token: &SecretString) -> Result<Vec<FacebookPage>, PlatformError> {
        let mut url = self.graph_endpoint("/me/accounts");
        url.query_pairs_mut().append_pair("fields", &format!("{},access_token", protocol::PAGE_FIELDS)).append_pair("limit", "100");
        let mut pages = Vec::new();
        for _ in 0..MAX_ACCOUNT_PAGES {
            let v = self.get_json(self.graph_url(Method::GET, url.clone(), user_token), "a list of Pages").await?;
            for page in v.get("data").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default() {
                let (Some(id), Some(name), Some(token)) = (text(page, "id"), text(page, "name"), text(page, "access_token")) else {
                    // A Page the user cannot act on comes without a token: nothing to publish with.
                    continue;
                };
                let picture = protocol::page_picture(page);
                pages.push(FacebookPage { id, name, access_token: SecretString::from(token), picture, token_expires_at: None });
            }
            // Only follow a `next` link to the same Graph host.
            match v.pointer("/paging/next").and_then(Value::as_str).and_then(|n| Url::parse(n).ok()) {
                Some(next) if next.as_str().starts_with(self.inner.settings.api_url.as_str()) => url = next,
                _ => break,
            }
        }
        Ok(pages)
    }

    /// The Page as its Page token sees it (`GET /{page-id}?fields=id,name,picture{url}`): the
    /// connection check for a Page.
    pub async fn page(&self, page_id: &str, page_token: &SecretString) -> Result<FacebookPageInfo, PlatformError> {
        let mut url = self.graph_endpoint(&format!("/{}", encode_segment(page_id)));
        url.query_pairs_mut().append_pair("fields", protocol::PAGE_FIELDS);
        let v = self.get_json(self.graph_url(Method::GET, url, page_token), "a Page").await?;
        match (text(&v, "id"), text(&v, "name")) {
            (Some(id), Some(name)) => Ok(FacebookPageInfo { id, name, picture: protocol::page_picture(&v) }),
            _ => Err(self.inner.transport.permanent(Some(200), "a Page without an id and a name")),
        }
    }

    /// Publishes on the Page's feed with the Page token (`POST /{page-id}/feed`, §3.1). A
    /// `Temporary` "code 2" (HTTP 500) may come back although the post was created (§3.3):
    /// look for it with [`FacebookClient::recent_posts`] before publishing again.
    pub async fn publish(&self, page_id: &str, page_token: &SecretString, post: &FacebookPost) -> Response<Published> {
        let mut body = json!({ "message": post.message });
        if let Some(link) = &post.link {
            body["link"] = json!(link.as_str());
        }
        let transport = &self.inner.transport;
        let request = self.graph(Method::POST, &format!("/{}/feed", encode_segment(page_id)), page_token).json(&body);
        let raw = transport.send(request).await;
        transport.respond(raw, meta_budget, |raw, now| classify_publish(raw.status, &raw.headers, &raw.body, now))
    }

    /// Deletes a Page post (`DELETE /{page-post-id}`, §3.1) with the Page token.
    pub async fn delete_post(&self, post_id: &str, page_token: &SecretString) -> Response<()> {
        let transport = &self.inner.transport;
        let raw = transport.send(self.graph(Method::DELETE, &format!("/{}", encode_segment(post_id)), page_token)).await;
        transport.respond(raw, meta_budget, |raw, now| {
            let v = raw.json();
            let success = v.as_ref().is_some_and(|v| v == &Value::Bool(true) || v.get("success") == Some(&Value::Bool(true)));
            match (raw.is_success(), success) {
                (true, true) => Ok(()),
                (true, false) if v.as_ref().is_none_or(|v| v.get("error").is_none()) => {
                    Err(transport.unreadable(raw, "{\"success\":true}"))
                }
                _ => Err(classify_error(raw.status, &raw.headers, &raw.body, now)),
            }
        })
    }

    /// Comments on a Page post as the Page (`POST /{page-post-id}/comments` with the Page token).
    pub async fn comment(&self, post_id: &str, page_token: &SecretString, message: &str) -> Response<Published> {
        let transport = &self.inner.transport;
        let request =
            self.graph(Method::POST, &format!("/{}/comments", encode_segment(post_id)), page_token).json(&json!({ "message": message }));
        let raw = transport.send(request).await;
        transport.respond(raw, meta_budget, |raw, now| classify_publish(raw.status, &raw.headers, &raw.body, now))
    }

    /// A Page post's latest comments (`GET /{page-post-id}/comments`), as [`RecentPost`]s.
    pub async fn comments(&self, post_id: &str, page_token: &SecretString) -> Response<Vec<RecentPost>> {
        self.list(&format!("/{}/comments", encode_segment(post_id)), page_token, 100).await
    }

    /// A Page post's reactions, comments and shares (`GET /{page_post_id}?fields=…`,
    /// media-and-metrics.md §3.3; needs `pages_read_engagement`), and with `insights` its views
    /// and clicks (`GET /{page_post_id}/insights`; needs `read_insights`, and Meta computes them
    /// about once a day). A permission Meta refuses is [`PostMetricsRead::NotAllowed`], a post it
    /// no longer has [`PostMetricsRead::Gone`].
    pub async fn post_metrics(&self, post_id: &str, page_token: &SecretString, insights: bool) -> Response<PostMetricsRead> {
        let transport = &self.inner.transport;
        let mut url = self.graph_endpoint(&format!("/{}", encode_segment(post_id)));
        url.query_pairs_mut().append_pair("fields", protocol::ENGAGEMENT_FIELDS);
        let raw = transport.send(self.graph_url(Method::GET, url, page_token)).await;
        let counts = transport.respond(raw, meta_budget, |raw, now| {
            let v = graph_answer(raw, now)?;
            let Some(v) = v else { return Ok(refused(raw)) };
            let count = |pointer: &str| v.pointer(pointer).and_then(Value::as_u64);
            Ok(PostMetricsRead::Read(PostMetrics {
                likes: count("/reactions/summary/total_count"),
                replies: count("/comments/summary/total_count"),
                // Graph leaves `shares` out when there are none.
                reposts: Some(count("/shares/count").unwrap_or(0)),
                ..PostMetrics::default()
            }))
        });
        let (Ok(PostMetricsRead::Read(mut figures)), true) = (counts.value.clone(), insights) else { return counts };
        let mut url = self.graph_endpoint(&format!("/{}/insights", encode_segment(post_id)));
        url.query_pairs_mut().append_pair("metric", protocol::INSIGHTS_METRICS);
        let raw = transport.send(self.graph_url(Method::GET, url, page_token)).await;
        transport.respond(raw, meta_budget, |raw, now| {
            // Without read_insights the counts still stand.
            let Some(v) = graph_answer(raw, now)? else { return Ok(PostMetricsRead::Read(figures.clone())) };
            let metric = |name: &str| {
                v.get("data")?
                    .as_array()?
                    .iter()
                    .find(|m| m.get("name").and_then(Value::as_str) == Some(name))?
                    .pointer("/values/0/value")?
                    .as_u64()
            };
            figures.impressions = metric("post_media_view");
            figures.clicks = metric("post_clicks");
            Ok(PostMetricsRead::Read(figures.clone()))
        })
    }

    /// The Page's latest posts, newest first (`GET /{page-id}/feed`, `limit` clamped to 1–100).
    pub async fn recent_posts(&self, page_id: &str, page_token: &SecretString, limit: u8) -> Response<Vec<RecentPost>> {
        self.list(&format!("/{}/feed", encode_segment(page_id)), page_token, limit).await
    }

    /// A Graph edge listing posts or comments (`id`, `message`, `created_time`), as [`RecentPost`]s.
    async fn list(&self, path: &str, page_token: &SecretString, limit: u8) -> Response<Vec<RecentPost>> {
        let transport = &self.inner.transport;
        let mut url = self.graph_endpoint(path);
        url.query_pairs_mut().append_pair("fields", "id,message,created_time").append_pair("limit", &limit.clamp(1, 100).to_string());
        let raw = transport.send(self.graph_url(Method::GET, url, page_token)).await;
        transport.respond(raw, meta_budget, |raw, now| {
            let v = raw.json();
            if !raw.is_success() || v.as_ref().is_some_and(|v| v.get("error").is_some()) {
                return Err(classify_error(raw.status, &raw.headers, &raw.body, now));
            }
            let v = v.ok_or_else(|| transport.unreadable(raw, "JSON"))?;
            let listed = v.get("data").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
            listed.iter().map(|p| self.recent_post(raw, p)).collect()
        })
    }

    fn recent_post(&self, raw: &Raw, post: &Value) -> Result<RecentPost, PlatformError> {
        let Some(id) = text(post, "id") else {
            return Err(self.inner.transport.unreadable(raw, "a list of posts"));
        };
        // Graph writes `2026-03-01T12:00:00+0000`.
        let created_at =
            text(post, "created_time").and_then(|t| DateTime::parse_from_str(&t, "%Y-%m-%dT%H:%M:%S%z").ok()).map(|t| t.to_utc());
        Ok(RecentPost {
            permalink: Some(protocol::permalink(&id)),
            text: text(post, "message").unwrap_or_default(),
            created_at,
            external_id: id,
        })
    }
}

/// A Graph answer read for metrics: its JSON; `None` when Meta refused it as a permission it was
/// not granted (codes 10 and 200–299) or a post it does not have (code 100, subcode 33); else
/// the error as any call's.
fn graph_answer(raw: &Raw, now: DateTime<Utc>) -> Result<Option<Value>, PlatformError> {
    let v = raw.json();
    let error = v.as_ref().and_then(|v| v.get("error"));
    if raw.is_success() && error.is_none() {
        return Ok(v);
    }
    let code = error.and_then(|e| e.get("code")).and_then(Value::as_u64);
    let subcode = error.and_then(|e| e.get("error_subcode")).and_then(Value::as_u64);
    match (code, subcode) {
        (Some(10 | 200..=299), _) | (Some(100), Some(33)) => Ok(None),
        _ => Err(classify_error(raw.status, &raw.headers, &raw.body, now)),
    }
}

/// What a refused metrics read means: the post is gone (code 100, subcode 33), or not allowed.
fn refused(raw: &Raw) -> PostMetricsRead {
    let subcode = raw.json().and_then(|v| v.pointer("/error/error_subcode").and_then(Value::as_u64));
    if subcode == Some(33) { PostMetricsRead::Gone } else { PostMetricsRead::NotAllowed }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_version_moves_every_url() {
        let settings = FacebookSettings::production("app".into(), SecretString::from("secret")).with_graph_version("v27.0");
        assert_eq!(settings.authorize_url.as_str(), "https://www.facebook.com/v27.0/dialog/oauth");
        assert_eq!(settings.token_url.as_str(), "https://graph.facebook.com/v27.0/oauth/access_token");
        assert_eq!(settings.graph_version, "v27.0");
        let base = Url::parse("http://127.0.0.1:9/sandbox").unwrap();
        let settings = FacebookSettings::sandbox(&base, "app".into(), SecretString::from("secret")).with_graph_version("v25.0");
        assert_eq!(settings.authorize_url.as_str(), "http://127.0.0.1:9/sandbox/facebook/v25.0/dialog/oauth");
        assert_eq!(settings.token_url.as_str(), "http://127.0.0.1:9/sandbox/facebook/v25.0/oauth/access_token");
        assert_eq!(settings.api_url.as_str(), "http://127.0.0.1:9/sandbox/facebook");
    }
}
