//! The `oauth2` crate, set up for three platforms that each bend RFC 6749 a little: a token body
//! that tolerates LinkedIn's missing `token_type` and comma-separated `scope`, and conversion into
//! [`TokenSet`].

use std::borrow::Cow;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use crier_protocol::PlatformError;
use oauth2::basic::{BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse};
use oauth2::{
    AccessToken, AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, RefreshToken, Scope, StandardRevocableToken, TokenResponse, TokenType, TokenUrl,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize};
use url::Url;

use crate::transport::{Classify, Transport};
use crate::{AuthorizationStart, TokenSet};

/// An `oauth2` client with an authorization and a token URL. Revocation is done by hand (the
/// crate refuses a non-HTTPS revocation URL, which the sandbox is).
type OAuthClient = oauth2::Client<
    BasicErrorResponse,
    TokenBody,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// How a platform's authorization URL lists scopes.
#[derive(Clone, Copy)]
pub(crate) enum Scopes {
    /// `scope=a b c` (RFC 6749 §3.3): X, LinkedIn.
    Spaces,
    /// `scope=a,b,c`, as Meta documents its permissions.
    Commas,
}

/// A platform's OAuth 2.0 client: `oauth2` builds the requests, [`Transport`] sends them, and
/// `classify` (the platform's `classify_token_error`) reads the errors.
pub(crate) struct OAuth {
    client: OAuthClient,
    classify: Classify,
}

impl OAuth {
    /// `client_secret` empty = a public client (X "Native App"): `client_id` goes in the body and
    /// no secret is sent.
    pub(crate) fn new(
        client_id: &str,
        client_secret: &SecretString,
        authorize_url: &Url,
        token_url: &Url,
        auth: AuthType,
        classify: Classify,
    ) -> Self {
        let client = oauth2::Client::new(ClientId::new(client_id.to_owned()))
            .set_auth_uri(AuthUrl::from_url(authorize_url.clone()))
            .set_token_uri(TokenUrl::from_url(token_url.clone()))
            .set_auth_type(auth);
        let secret = client_secret.expose_secret();
        let client = if secret.is_empty() { client } else { client.set_client_secret(ClientSecret::new(secret.to_owned())) };
        OAuth { client, classify }
    }

    /// The consent page URL: `response_type=code`, the client id, a random `state`, the redirect
    /// URI, the scopes, and with `pkce` an S256 challenge whose verifier is returned.
    pub(crate) fn start(&self, redirect_uri: &Url, scopes: &[String], style: Scopes, pkce: bool) -> AuthorizationStart {
        let mut request =
            self.client.authorize_url(CsrfToken::new_random).set_redirect_uri(Cow::Owned(RedirectUrl::from_url(redirect_uri.clone())));
        request = match style {
            Scopes::Spaces => request.add_scopes(scopes.iter().map(|s| Scope::new(s.clone()))),
            Scopes::Commas => request.add_extra_param("scope", scopes.join(",")),
        };
        let mut verifier = None;
        if pkce {
            let (challenge, pkce_verifier) = PkceCodeChallenge::new_random_sha256();
            request = request.set_pkce_challenge(challenge);
            verifier = Some(SecretString::from(pkce_verifier.into_secret()));
        }
        let (url, state) = request.url();
        AuthorizationStart { url, state: state.into_secret(), pkce_verifier: verifier }
    }

    /// The `authorization_code` grant (with `code_verifier` when given).
    pub(crate) async fn exchange_code(
        &self,
        transport: &Transport,
        code: &str,
        pkce_verifier: Option<&SecretString>,
        redirect_uri: &Url,
    ) -> Result<TokenSet, PlatformError> {
        let slot = Mutex::new(None);
        let mut request = self
            .client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .set_redirect_uri(Cow::Owned(RedirectUrl::from_url(redirect_uri.clone())));
        if let Some(verifier) = pkce_verifier {
            request = request.set_pkce_verifier(PkceCodeVerifier::new(verifier.expose_secret().to_owned()));
        }
        let result = request.request_async(&transport.oauth2_client(&slot)).await;
        transport.oauth2_outcome(result, &slot, self.classify).map(|body| body.into_token_set(transport.now()))
    }

    /// The `refresh_token` grant.
    pub(crate) async fn refresh(&self, transport: &Transport, refresh_token: &SecretString) -> Result<TokenSet, PlatformError> {
        let slot = Mutex::new(None);
        let token = RefreshToken::new(refresh_token.expose_secret().to_owned());
        let result = self.client.exchange_refresh_token(&token).request_async(&transport.oauth2_client(&slot)).await;
        transport.oauth2_outcome(result, &slot, self.classify).map(|body| body.into_token_set(transport.now()))
    }
}

/// The `token_type` of a token response, whatever the platform calls it (LinkedIn sends none).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AnyTokenType(String);

impl TokenType for AnyTokenType {}

impl Default for AnyTokenType {
    fn default() -> Self {
        AnyTokenType("bearer".to_owned())
    }
}

/// An RFC 6749 §5.1 token response as X, LinkedIn and Meta send it, plus LinkedIn's
/// `refresh_token_expires_in` (§2.5). `Debug` shows no token (`oauth2`'s token types redact).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct TokenBody {
    access_token: AccessToken,
    #[serde(default)]
    token_type: AnyTokenType,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    refresh_token: Option<RefreshToken>,
    #[serde(default)]
    refresh_token_expires_in: Option<u64>,
    #[serde(default, deserialize_with = "scopes", skip_serializing_if = "Option::is_none")]
    scope: Option<Vec<Scope>>,
}

/// X separates scopes with spaces, LinkedIn with commas (`"openid,profile,w_member_social"`).
fn scopes<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Vec<Scope>>, D::Error> {
    let raw: Option<String> = Option::deserialize(deserializer)?;
    Ok(raw.map(|s| s.split([' ', ',']).filter(|s| !s.is_empty()).map(|s| Scope::new(s.to_owned())).collect()))
}

impl TokenResponse for TokenBody {
    type TokenType = AnyTokenType;

    fn access_token(&self) -> &AccessToken {
        &self.access_token
    }

    fn token_type(&self) -> &AnyTokenType {
        &self.token_type
    }

    fn expires_in(&self) -> Option<Duration> {
        self.expires_in.map(Duration::from_secs)
    }

    fn refresh_token(&self) -> Option<&RefreshToken> {
        self.refresh_token.as_ref()
    }

    fn scopes(&self) -> Option<&Vec<Scope>> {
        self.scope.as_ref()
    }
}

fn after(now: DateTime<Utc>, seconds: u64) -> Option<DateTime<Utc>> {
    now.checked_add_signed(TimeDelta::seconds(i64::try_from(seconds).ok()?))
}

impl TokenBody {
    /// The token set, with lifetimes counted from `now` (when the answer arrived).
    pub(crate) fn into_token_set(self, now: DateTime<Utc>) -> TokenSet {
        TokenSet {
            access_token: SecretString::from(self.access_token.into_secret()),
            refresh_token: self.refresh_token.map(|t| SecretString::from(t.into_secret())),
            expires_at: self.expires_in.and_then(|s| after(now, s)),
            refresh_expires_at: self.refresh_token_expires_in.and_then(|s| after(now, s)),
            scopes: self.scope.unwrap_or_default().into_iter().map(|s| s.to_string()).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
    }

    /// platforms.md §1.6: X's token response.
    #[test]
    fn x_token_response() {
        let body = r#"{"token_type":"bearer","expires_in":7200,"access_token":"at-1","scope":"tweet.write users.read tweet.read offline.access","refresh_token":"rt-1"}"#;
        let set = serde_json::from_str::<TokenBody>(body).unwrap().into_token_set(now());
        assert_eq!(set.access_token.expose_secret(), "at-1");
        assert_eq!(set.refresh_token.as_ref().unwrap().expose_secret(), "rt-1");
        assert_eq!(set.expires_at, Some(now() + TimeDelta::hours(2)));
        assert_eq!(set.refresh_expires_at, None);
        assert_eq!(set.scopes, ["tweet.write", "users.read", "tweet.read", "offline.access"]);
    }

    /// platforms.md §2.5: LinkedIn's has no `token_type`, a comma-separated `scope`, and a refresh
    /// token lifetime.
    #[test]
    fn linkedin_token_response() {
        let body = r#"{"access_token":"AQUvlL","expires_in":5184000,"refresh_token":"AQW","refresh_token_expires_in":31536000,"scope":"openid,profile,w_member_social"}"#;
        let set = serde_json::from_str::<TokenBody>(body).unwrap().into_token_set(now());
        assert_eq!(set.expires_at, Some(now() + TimeDelta::days(60)));
        assert_eq!(set.refresh_expires_at, Some(now() + TimeDelta::days(365)));
        assert_eq!(set.scopes, ["openid", "profile", "w_member_social"]);
        let debug = format!("{set:?}");
        assert!(!debug.contains("AQUvlL") && !debug.contains("\"AQW\""), "{debug}");
    }

    /// platforms.md §3.2: Meta's has no scope and no refresh token.
    #[test]
    fn meta_token_response() {
        let body = r#"{"access_token":"EAAB","token_type":"bearer","expires_in":5183944}"#;
        let set = serde_json::from_str::<TokenBody>(body).unwrap().into_token_set(now());
        assert!(set.refresh_token.is_none());
        assert!(set.scopes.is_empty());
        assert_eq!(set.expires_at, Some(now() + TimeDelta::seconds(5_183_944)));
    }
}
