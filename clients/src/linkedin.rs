//! LinkedIn (platforms.md §2): OAuth 2.0 3-legged with the client secret in the body, OpenID
//! userinfo, and the versioned Posts API.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use crier_platform::Platform;
use crier_protocol::linkedin::{self as protocol, classify_error, classify_publish, classify_token_error};
use crier_protocol::{PlatformError, Published, RateBudget};
use oauth2::AuthType;
use reqwest::Method;
use reqwest::header::HeaderMap;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use url::Url;

mod media;

pub use media::{LinkedInImage, LinkedInMedia};

use crate::oauth::{OAuth, Scopes};
use crate::transport::{Raw, Transport, builtin_url, encode_segment, endpoint};
use crate::{
    AuthorizationStart, Clock, PostMetrics, PostMetricsRead, RecentPost, Response, RevokeOutcome, Timeouts, TokenSet, system_clock,
};

/// Where and how to reach LinkedIn.
#[derive(Clone, Debug)]
pub struct LinkedInSettings {
    /// The app's client id.
    pub client_id: String,
    /// The app's client secret (sent in the token request body, §2.5).
    pub client_secret: SecretString,
    /// The consent page: `https://www.linkedin.com/oauth/v2/authorization`.
    pub authorize_url: Url,
    /// Code exchange and refresh: `https://www.linkedin.com/oauth/v2/accessToken`.
    pub token_url: Url,
    /// The API host `/v2/userinfo` and `/rest/...` are appended to: `https://api.linkedin.com`.
    pub api_url: Url,
    /// `LinkedIn-Version` (`YYYYMM`). Versions are retired after about a year (then every `/rest`
    /// call answers 426 `NONEXISTENT_VERSION`, a `Permanent` error): keep it current.
    pub version: String,
    /// Scopes requested: the member scopes (`openid profile w_member_social`) and the organization
    /// ones (`w_organization_social r_organization_social`, which need LinkedIn's approval).
    pub scopes: Vec<String>,
    /// Connection pool timeouts.
    pub timeouts: Timeouts,
}

impl LinkedInSettings {
    /// LinkedIn's production endpoints (§2.1, §2.5) with [`protocol::DEFAULT_VERSION`].
    pub fn production(client_id: String, client_secret: SecretString) -> Self {
        LinkedInSettings {
            client_id,
            client_secret,
            authorize_url: builtin_url(protocol::AUTHORIZE_URL),
            token_url: builtin_url(protocol::TOKEN_URL),
            api_url: builtin_url(protocol::API_BASE),
            version: protocol::DEFAULT_VERSION.to_owned(),
            scopes: protocol::MEMBER_SCOPES.iter().chain(protocol::ORGANIZATION_SCOPES).map(|s| (*s).to_owned()).collect(),
            timeouts: Timeouts::default(),
        }
    }

    /// The sandbox's LinkedIn fake under `base`: `{base}/linkedin/oauth/v2/authorization`,
    /// `{base}/linkedin/oauth/v2/accessToken`, API `{base}/linkedin`.
    pub fn sandbox(base: &Url, client_id: String, client_secret: SecretString) -> Self {
        LinkedInSettings {
            authorize_url: endpoint(base, "/linkedin/oauth/v2/authorization"),
            token_url: endpoint(base, "/linkedin/oauth/v2/accessToken"),
            api_url: endpoint(base, "/linkedin"),
            ..LinkedInSettings::production(client_id, client_secret)
        }
    }
}

/// The connected member (`GET /v2/userinfo`, §2.5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkedInMember {
    /// The OpenID `sub`; posts as the member are by `urn:li:person:<id>`.
    pub id: String,
    /// The full name (empty without the `profile` scope).
    pub name: String,
    /// The profile picture's URL at LinkedIn (with the `profile` scope, when the member has one).
    pub picture: Option<String>,
}

/// An organization (company page) the member administers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkedInOrganization {
    /// The numeric id.
    pub id: String,
    /// `urn:li:organization:<id>`.
    pub urn: String,
    /// Its localized name.
    pub name: String,
    /// Where LinkedIn serves its logo (a download URL that expires), when it has one.
    pub picture: Option<String>,
}

/// Who a post is by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkedInAuthor {
    /// The member, by OpenID `sub` ([`LinkedInMember::id`]); needs `w_member_social`.
    Member(String),
    /// An organization the member administers, by numeric id; needs `w_organization_social`.
    Organization(String),
}

impl LinkedInAuthor {
    /// `urn:li:person:<id>` or `urn:li:organization:<id>`.
    pub fn urn(&self) -> String {
        match self {
            LinkedInAuthor::Member(id) => format!("urn:li:person:{id}"),
            LinkedInAuthor::Organization(id) => format!("urn:li:organization:{id}"),
        }
    }
}

/// A link shown as an article card (§2.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkedInArticle {
    /// The page linked to.
    pub source: Url,
    /// The card's title.
    pub title: Option<String>,
    /// The card's description.
    pub description: Option<String>,
}

/// A post to publish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkedInPost {
    /// The member or one of their organizations.
    pub author: LinkedInAuthor,
    /// The text, as typed: the client escapes it for little text (§2.4).
    pub text: String,
    /// An article card, for a link post.
    pub article: Option<LinkedInArticle>,
}

struct Inner {
    settings: LinkedInSettings,
    oauth: OAuth,
    transport: Transport,
}

/// The LinkedIn client: cheap to clone (one shared connection pool).
#[derive(Clone)]
pub struct LinkedInClient {
    inner: Arc<Inner>,
}

impl fmt::Debug for LinkedInClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LinkedInClient").field("settings", &self.inner.settings).finish_non_exhaustive()
    }
}

/// LinkedIn sends no rate-limit headers (§2.6).
fn no_budget(_headers: &HeaderMap, _now: DateTime<Utc>) -> Option<RateBudget> {
    None
}

/// Whether little text reserves `c`, as `crier_text` escapes it.
fn is_reserved(c: char) -> bool {
    let mut buf = [0u8; 4];
    crier_text::linkedin_escape(c.encode_utf8(&mut buf)).len() > c.len_utf8()
}

/// The text of a commentary as LinkedIn stores it: `\(` → `(` for every reserved character.
fn unescape(commentary: &str) -> String {
    let mut out = String::with_capacity(commentary.len());
    let mut chars = commentary.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\'
            && let Some(&next) = chars.peek()
            && is_reserved(next)
        {
            out.push(next);
            chars.next();
            continue;
        }
        out.push(c);
    }
    out
}

impl LinkedInClient {
    /// A client on the wall clock. Panics only if the TLS backend cannot be initialised.
    pub fn new(settings: LinkedInSettings) -> Self {
        LinkedInClient::with_clock(settings, system_clock())
    }

    /// A client reading the time from `clock` (token expiry, the midnight-UTC rate-limit reset).
    pub fn with_clock(settings: LinkedInSettings, clock: Clock) -> Self {
        // The client secret goes in the form body (§2.5).
        let s = &settings;
        let oauth = OAuth::new(&s.client_id, &s.client_secret, &s.authorize_url, &s.token_url, AuthType::RequestBody, classify_token_error);
        let transport = Transport::new(Platform::Linkedin, settings.timeouts, clock);
        LinkedInClient { inner: Arc::new(Inner { settings, oauth, transport }) }
    }

    /// The settings this client was built with.
    pub fn settings(&self) -> &LinkedInSettings {
        &self.inner.settings
    }

    /// The consent page URL with the configured scopes and a random `state` (§2.5; LinkedIn's
    /// standard web flow has no PKCE, so `pkce_verifier` is `None`).
    pub fn start_authorization(&self, redirect_uri: &Url) -> AuthorizationStart {
        self.inner.oauth.start(redirect_uri, &self.inner.settings.scopes, Scopes::Spaces, false)
    }

    /// Exchanges the authorization code (valid 30 minutes) for a 60-day access token and, for apps
    /// approved for programmatic refresh, a refresh token valid 365 days (§2.5). The PKCE verifier
    /// is not used (there is none in this flow).
    pub async fn exchange_code(
        &self,
        code: &str,
        _pkce_verifier: Option<&SecretString>,
        redirect_uri: &Url,
    ) -> Result<TokenSet, PlatformError> {
        self.inner.oauth.exchange_code(&self.inner.transport, code, None, redirect_uri).await
    }

    /// A new 60-day access token; only for a connection that was issued a refresh token. LinkedIn
    /// does not rotate it (§2.5): the returned set carries the same refresh token, and its expiry is
    /// not extended by refreshing.
    pub async fn refresh(&self, refresh_token: &SecretString) -> Result<TokenSet, PlatformError> {
        let mut set = self.inner.oauth.refresh(&self.inner.transport, refresh_token).await?;
        set.refresh_token = set.refresh_token.or_else(|| Some(refresh_token.clone()));
        Ok(set)
    }

    /// LinkedIn documents no revocation call for these tokens (platforms.md §2 has token
    /// introspection, no revocation): always `Ok(RevokeOutcome::NotSupported)`, without a request.
    /// The token stays valid until it expires or the member removes the app in their LinkedIn
    /// settings.
    pub async fn revoke(&self, _token: &SecretString) -> Result<RevokeOutcome, PlatformError> {
        Ok(RevokeOutcome::NotSupported)
    }

    /// A `/rest` request: bearer token, `LinkedIn-Version` and `X-Restli-Protocol-Version: 2.0.0` (§2.1).
    fn rest(&self, method: Method, url: Url, token: &SecretString) -> reqwest::RequestBuilder {
        self.inner
            .transport
            .http
            .request(method, url)
            .bearer_auth(token.expose_secret())
            .header(protocol::VERSION_HEADER, &self.inner.settings.version)
            .header(protocol::RESTLI_PROTOCOL_HEADER, protocol::RESTLI_PROTOCOL_VERSION)
    }

    fn api_url(&self, path: &str) -> Url {
        endpoint(&self.inner.settings.api_url, path)
    }

    /// A JSON answer from a call that must succeed.
    async fn get_json(&self, request: reqwest::RequestBuilder, what: &str) -> Result<Value, PlatformError> {
        let transport = &self.inner.transport;
        let raw = transport.call(request, classify_error).await?;
        raw.json().ok_or_else(|| transport.unreadable(&raw, what))
    }

    /// The member behind the token (`GET /v2/userinfo`, §2.5).
    pub async fn who_am_i(&self, token: &SecretString) -> Result<LinkedInMember, PlatformError> {
        let request = self.inner.transport.http.get(self.api_url(protocol::USERINFO_PATH)).bearer_auth(token.expose_secret());
        let v = self.get_json(request, "userinfo").await?;
        let Some(id) = v.get("sub").and_then(Value::as_str) else {
            return Err(self.inner.transport.permanent(Some(200), "userinfo without a sub"));
        };
        let name = match v.get("name").and_then(Value::as_str) {
            Some(name) => name.to_owned(),
            None => ["given_name", "family_name"].iter().filter_map(|k| v.get(*k).and_then(Value::as_str)).collect::<Vec<_>>().join(" "),
        };
        let picture = v.get(protocol::USERINFO_PICTURE).and_then(Value::as_str).filter(|url| !url.is_empty()).map(str::to_owned);
        Ok(LinkedInMember { id: id.to_owned(), name, picture })
    }

    /// The organizations the member administers (`GET /rest/organizationAcls?q=roleAssignee`
    /// with `role=ADMINISTRATOR&state=APPROVED`, then `GET /rest/organizations/{id}` for each
    /// name). Needs an organization scope.
    pub async fn organizations(&self, token: &SecretString) -> Result<Vec<LinkedInOrganization>, PlatformError> {
        let mut url = self.api_url("/rest/organizationAcls");
        url.query_pairs_mut().append_pair("q", "roleAssignee").append_pair("role", "ADMINISTRATOR").append_pair("state", "APPROVED");
        let acls = self.get_json(self.rest(Method::GET, url, token), "organization ACLs").await?;
        let urns = acls.get("elements").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default().iter().filter_map(|e| {
            // `organization` in current versions, `organizationTarget` in older ones.
            e.get("organization").or_else(|| e.get("organizationTarget")).and_then(Value::as_str)
        });
        let mut organizations = Vec::new();
        for urn in urns {
            let Some(id) = urn.strip_prefix("urn:li:organization:") else { continue };
            let url = self.api_url(&format!("/rest/organizations/{}", encode_segment(id)));
            let org = self.get_json(self.rest(Method::GET, url, token), "an organization").await?;
            let name = org.get("localizedName").and_then(Value::as_str).unwrap_or_default().to_owned();
            let picture = match protocol::organization_logo(&org) {
                Some(image) => self.image_download_url(token, &image).await,
                None => None,
            };
            organizations.push(LinkedInOrganization { id: id.to_owned(), urn: urn.to_owned(), name, picture });
        }
        Ok(organizations)
    }

    /// Where LinkedIn serves an image (`GET /rest/images/{urn}`, its `downloadUrl`). A logo is a
    /// nicety: any failure is `None`, never the organization's.
    async fn image_download_url(&self, token: &SecretString, image: &str) -> Option<String> {
        let url = self.api_url(&format!("{}/{}", protocol::IMAGES_PATH, encode_segment(image)));
        let v = self.get_json(self.rest(Method::GET, url, token), "an image").await.ok()?;
        v.get("downloadUrl").and_then(Value::as_str).filter(|u| !u.is_empty()).map(str::to_owned)
    }

    /// Publishes a post (`POST /rest/posts`, §2.2): public, main feed, published now. The text is
    /// escaped with [`crier_text::linkedin_escape`] here and nowhere else, so LinkedIn's silent
    /// truncation at an unescaped reserved character cannot happen (§2.4).
    pub async fn publish(&self, token: &SecretString, post: &LinkedInPost) -> Response<Published> {
        self.create_post(token, post_body(post)).await
    }

    async fn create_post(&self, token: &SecretString, body: Value) -> Response<Published> {
        let transport = &self.inner.transport;
        let raw = transport.send(self.rest(Method::POST, self.api_url(protocol::POSTS_PATH), token).json(&body)).await;
        transport.respond(raw, no_budget, |raw, now| classify_publish(raw.status, &raw.headers, &raw.body, now))
    }
}

/// The body of `POST /rest/posts` for a post: public, main feed, published now, the commentary
/// escaped for little text, an article card when there is one.
fn post_body(post: &LinkedInPost) -> Value {
    let mut body = json!({
        "author": post.author.urn(),
        "commentary": crier_text::linkedin_escape(&post.text),
        "visibility": "PUBLIC",
        "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [], "thirdPartyDistributionChannels": []},
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": false,
    });
    if let Some(article) = &post.article {
        let mut card = json!({ "source": article.source.as_str() });
        if let Some(title) = &article.title {
            card["title"] = json!(title);
        }
        if let Some(description) = &article.description {
            card["description"] = json!(description);
        }
        body["content"] = json!({ "article": card });
    }
    body
}

impl LinkedInClient {
    /// Deletes a post by URN (`DELETE /rest/posts/{encoded urn}`, §2.2): 204, and idempotent, so
    /// an already deleted post is `Ok` too.
    pub async fn delete_post(&self, token: &SecretString, urn: &str) -> Response<()> {
        let transport = &self.inner.transport;
        let url = self.api_url(&format!("{}/{}", protocol::POSTS_PATH, encode_segment(urn)));
        let raw = transport.send(self.rest(Method::DELETE, url, token).header("X-RestLi-Method", "DELETE")).await;
        transport.respond(raw, no_budget, |raw, now| {
            if raw.is_success() { Ok(()) } else { Err(classify_error(raw.status, &raw.headers, &raw.body, now)) }
        })
    }

    /// The author's latest posts, newest first (`GET /rest/posts?q=author&author=…`, `count`
    /// clamped to 1–100). Reading needs `r_organization_social` for an organization and the
    /// restricted `r_member_social` for a member (not in the default scopes: LinkedIn grants it to
    /// approved partners only), so for a member this is usually refused with a 403.
    pub async fn recent_posts(&self, token: &SecretString, author: &LinkedInAuthor, count: u8) -> Response<Vec<RecentPost>> {
        let transport = &self.inner.transport;
        let mut url = self.api_url(protocol::POSTS_PATH);
        url.query_pairs_mut()
            .append_pair("q", "author")
            .append_pair("author", &author.urn())
            .append_pair("count", &count.clamp(1, 100).to_string())
            .append_pair("sortBy", "LAST_MODIFIED");
        let raw = transport.send(self.rest(Method::GET, url, token).header("X-RestLi-Method", "FINDER")).await;
        transport.respond(raw, no_budget, |raw, now| {
            if !raw.is_success() {
                return Err(classify_error(raw.status, &raw.headers, &raw.body, now));
            }
            let v = raw.json().ok_or_else(|| transport.unreadable(raw, "JSON"))?;
            let elements = v.get("elements").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
            elements.iter().map(|e| self.recent_post(raw, e)).collect()
        })
    }

    /// Comments on a post as `author` (`POST /rest/socialActions/{encoded post urn}/comments`).
    /// Comments are not little text: the text goes as written. The comment's URN comes back in
    /// `x-restli-id` (or the body's `id`).
    pub async fn comment(&self, token: &SecretString, author: &LinkedInAuthor, post_urn: &str, text: &str) -> Response<Published> {
        let transport = &self.inner.transport;
        let url = self.api_url(&protocol::comments_path(&encode_segment(post_urn)));
        let body = json!({ "actor": author.urn(), "object": post_urn, "message": { "text": text } });
        let raw = transport.send(self.rest(Method::POST, url, token).json(&body)).await;
        transport.respond(raw, no_budget, |raw, now| classify_publish(raw.status, &raw.headers, &raw.body, now))
    }

    /// A post's likes and comments (`GET /rest/socialActions/{encoded post urn}`,
    /// media-and-metrics.md §2.6), for a post the token may read: an organization's with
    /// `r_organization_social`, a member's with `r_member_social` (which LinkedIn grants to few
    /// apps). A 403 is [`PostMetricsRead::NotAllowed`], a 404 [`PostMetricsRead::Gone`].
    pub async fn post_metrics(&self, token: &SecretString, post_urn: &str) -> Response<PostMetricsRead> {
        let transport = &self.inner.transport;
        let url = self.api_url(&protocol::social_actions_path(&encode_segment(post_urn)));
        let raw = transport.send(self.rest(Method::GET, url, token)).await;
        transport.respond(raw, no_budget, |raw, now| match raw.status {
            403 => Ok(PostMetricsRead::NotAllowed),
            404 => Ok(PostMetricsRead::Gone),
            _ if !raw.is_success() => Err(classify_error(raw.status, &raw.headers, &raw.body, now)),
            _ => {
                let v = raw.json().ok_or_else(|| transport.unreadable(raw, "JSON"))?;
                let count = |pointer: &str| v.pointer(pointer).and_then(Value::as_u64);
                Ok(PostMetricsRead::Read(PostMetrics {
                    likes: count("/likesSummary/totalLikes"),
                    replies: count("/commentsSummary/aggregatedTotalComments"),
                    ..PostMetrics::default()
                }))
            }
        })
    }

    /// An organization's posts' totals (`GET /rest/organizationalEntityShareStatistics`, §2.6):
    /// impressions, clicks, likes, comments and shares, for an administrator with
    /// `rw_organization_admin` (else every post [`PostMetricsRead::NotAllowed`]). LinkedIn leaves
    /// out posts with no activity (all zero, it says) and posts older than 12 months, so those
    /// read as zeros. [`protocol::SHARE_STATISTICS_POSTS_PER_CALL`] posts a call.
    pub async fn share_statistics(
        &self,
        token: &SecretString,
        organization: &str,
        post_urns: &[&str],
    ) -> Response<Vec<(String, PostMetricsRead)>> {
        let transport = &self.inner.transport;
        let org_urn = LinkedInAuthor::Organization(organization.to_owned()).urn();
        let mut read = Vec::with_capacity(post_urns.len());
        for chunk in post_urns.chunks(protocol::SHARE_STATISTICS_POSTS_PER_CALL) {
            // Rest.li 2.0: each URN percent-encoded, the `List(…)` around them and its commas not
            // (an encoded parenthesis is refused), so the query is written by hand.
            let list = |prefix: &str| {
                let urns: Vec<String> = chunk.iter().filter(|u| u.starts_with(prefix)).map(|u| encode_segment(u)).collect();
                (!urns.is_empty()).then(|| format!("List({})", urns.join(",")))
            };
            let mut query = format!("q=organizationalEntity&organizationalEntity={}", encode_segment(&org_urn));
            if let Some(shares) = list("urn:li:share:") {
                query.push_str(&format!("&shares={shares}"));
            }
            if let Some(ugc) = list("urn:li:ugcPost:") {
                query.push_str(&format!("&ugcPosts={ugc}"));
            }
            let mut url = self.api_url(protocol::SHARE_STATISTICS_PATH);
            url.set_query(Some(&query));
            let raw = transport.send(self.rest(Method::GET, url, token)).await;
            let answer = transport.respond(raw, no_budget, |raw, now| {
                if raw.status == 403 {
                    return Ok(chunk.iter().map(|u| ((*u).to_owned(), PostMetricsRead::NotAllowed)).collect::<Vec<_>>());
                }
                if !raw.is_success() {
                    return Err(classify_error(raw.status, &raw.headers, &raw.body, now));
                }
                let v = raw.json().ok_or_else(|| transport.unreadable(raw, "JSON"))?;
                let elements = v.get("elements").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
                Ok(chunk
                    .iter()
                    .map(|urn| {
                        let found =
                            elements.iter().find(|e| e.get("share").or_else(|| e.get("ugcPost")).and_then(Value::as_str) == Some(*urn));
                        let count = |field: &str| {
                            Some(
                                found
                                    .and_then(|e| e.pointer(&format!("/totalShareStatistics/{field}")))
                                    .and_then(Value::as_u64)
                                    .unwrap_or(0),
                            )
                        };
                        let figures = PostMetrics {
                            impressions: count("impressionCount"),
                            likes: count("likeCount"),
                            reposts: count("shareCount"),
                            replies: count("commentCount"),
                            clicks: count("clickCount"),
                            ..PostMetrics::default()
                        };
                        ((*urn).to_owned(), PostMetricsRead::Read(figures))
                    })
                    .collect())
            });
            match answer.value {
                Ok(found) => read.extend(found),
                Err(error) => return Response { value: Err(error), budget: None },
            }
        }
        Response { value: Ok(read), budget: None }
    }

    /// A post's latest comments (`GET /rest/socialActions/{encoded post urn}/comments`), as
    /// [`RecentPost`]s whose text is the comment's.
    pub async fn comments(&self, token: &SecretString, post_urn: &str) -> Response<Vec<RecentPost>> {
        let transport = &self.inner.transport;
        let mut url = self.api_url(&protocol::comments_path(&encode_segment(post_urn)));
        url.query_pairs_mut().append_pair("count", "100");
        let raw = transport.send(self.rest(Method::GET, url, token)).await;
        transport.respond(raw, no_budget, |raw, now| {
            if !raw.is_success() {
                return Err(classify_error(raw.status, &raw.headers, &raw.body, now));
            }
            let v = raw.json().ok_or_else(|| transport.unreadable(raw, "JSON"))?;
            let elements = v.get("elements").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
            elements
                .iter()
                .map(|e| {
                    let urn = e.get("$URN").or_else(|| e.get("id")).and_then(Value::as_str);
                    let Some(urn) = urn else { return Err(transport.unreadable(raw, "a list of comments")) };
                    Ok(RecentPost {
                        external_id: urn.to_owned(),
                        text: e.pointer("/message/text").and_then(Value::as_str).unwrap_or_default().to_owned(),
                        created_at: e.pointer("/created/time").and_then(Value::as_i64).and_then(DateTime::from_timestamp_millis),
                        permalink: Some(protocol::permalink(post_urn)),
                    })
                })
                .collect()
        })
    }

    fn recent_post(&self, raw: &Raw, element: &Value) -> Result<RecentPost, PlatformError> {
        let Some(urn) = element.get("id").and_then(Value::as_str) else {
            return Err(self.inner.transport.unreadable(raw, "a list of posts"));
        };
        Ok(RecentPost {
            external_id: urn.to_owned(),
            text: unescape(element.get("commentary").and_then(Value::as_str).unwrap_or_default()),
            created_at: element.get("createdAt").and_then(Value::as_i64).and_then(DateTime::from_timestamp_millis),
            permalink: Some(protocol::permalink(urn)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescape_undoes_linkedin_escape() {
        for text in [r"Launch (beta) @ 9am #rust_lang *bold* ~x~ <tag> [x] {y} | \ back\slash", "plain", "ends with \\", "\\n stays"] {
            assert_eq!(unescape(&crier_text::linkedin_escape(text)), text);
        }
        // A backslash before an ordinary character is kept.
        assert_eq!(unescape(r"a\b"), r"a\b");
    }

    #[test]
    fn author_urns() {
        assert_eq!(LinkedInAuthor::Member("782bbtaQ".into()).urn(), "urn:li:person:782bbtaQ");
        assert_eq!(LinkedInAuthor::Organization("5515715".into()).urn(), "urn:li:organization:5515715");
    }
}
