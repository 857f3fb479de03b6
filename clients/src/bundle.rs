//! Every platform's client in one table keyed by [`Platform`]: what an installation can connect
//! and publish to. The web app, the REST API and the workers share one [`Clients`] per process.

use crier_platform::{PerPlatform, Platform};
use crier_protocol::{ErrorClass, PlatformError};
use secrecy::SecretString;
use url::Url;

use crate::{AuthorizationStart, FacebookClient, LinkedInClient, RevokeOutcome, TokenSet, XClient};

/// One platform's client, for what every platform does alike: the OAuth round trip, refreshing
/// and revoking. Publishing differs per platform; [`Clients::x`] and its siblings give the typed
/// client for that.
#[derive(Clone, Debug)]
pub enum AppClient {
    /// X with an OAuth 2.0 app.
    X(XClient),
    /// LinkedIn.
    Linkedin(LinkedInClient),
    /// Facebook Pages.
    Facebook(FacebookClient),
}

impl AppClient {
    /// Which platform it talks to.
    pub fn platform(&self) -> Platform {
        match self {
            AppClient::X(_) => Platform::X,
            AppClient::Linkedin(_) => Platform::Linkedin,
            AppClient::Facebook(_) => Platform::Facebook,
        }
    }

    /// The consent page to send a person to, with a fresh `state` (and PKCE verifier where the
    /// platform's flow has one).
    pub fn start_authorization(&self, redirect_uri: &Url) -> AuthorizationStart {
        match self {
            AppClient::X(c) => c.start_authorization(redirect_uri),
            AppClient::Linkedin(c) => c.start_authorization(redirect_uri),
            AppClient::Facebook(c) => c.start_authorization(redirect_uri),
        }
    }

    /// Exchanges the code the consent page returned for tokens.
    pub async fn exchange_code(
        &self,
        code: &str,
        pkce_verifier: Option<&SecretString>,
        redirect_uri: &Url,
    ) -> Result<TokenSet, PlatformError> {
        match self {
            AppClient::X(c) => c.exchange_code(code, pkce_verifier, redirect_uri).await,
            AppClient::Linkedin(c) => c.exchange_code(code, pkce_verifier, redirect_uri).await,
            AppClient::Facebook(c) => c.exchange_code(code, pkce_verifier, redirect_uri).await,
        }
    }

    /// New tokens for a refresh token (X rotates it: store the answer's before anything else).
    /// Facebook has no refresh tokens: a person logs in again, so this answers `NeedsReauth`.
    pub async fn refresh(&self, refresh_token: &SecretString) -> Result<TokenSet, PlatformError> {
        match self {
            AppClient::X(c) => c.refresh(refresh_token).await,
            AppClient::Linkedin(c) => c.refresh(refresh_token).await,
            AppClient::Facebook(_) => Err(PlatformError::new(
                Platform::Facebook,
                ErrorClass::NeedsReauth,
                None,
                None,
                "Facebook tokens cannot be refreshed; log in to Facebook again",
            )),
        }
    }

    /// Ends a grant at the platform: X revokes the refresh token (which ends the grant) and then
    /// the access token; LinkedIn has no revocation call; Facebook de-authorizes the app.
    pub async fn revoke(&self, access_token: &SecretString, refresh_token: Option<&SecretString>) -> Result<RevokeOutcome, PlatformError> {
        match self {
            AppClient::X(c) => {
                if let Some(refresh_token) = refresh_token {
                    c.revoke_refresh_token(refresh_token).await?;
                }
                c.revoke(access_token).await
            }
            AppClient::Linkedin(c) => c.revoke(access_token).await,
            AppClient::Facebook(c) => c.revoke(access_token).await,
        }
    }
}

/// The clients of one installation: an app per platform where one is configured (or the sandbox
/// stands in), and X for OAuth 1.0a keys, which need no app.
#[derive(Clone, Debug)]
pub struct Clients {
    apps: PerPlatform<Option<AppClient>>,
    x_keys: XClient,
    sandboxed: PerPlatform<bool>,
}

impl Clients {
    /// The bundle. `apps[p]` must be `p`'s client (or `None`); `sandboxed[p]` says that it is the
    /// sandbox's fake; `x_keys` calls X for accounts connected with OAuth 1.0a keys.
    ///
    /// # Panics
    /// When a client sits under another platform's key: a wiring mistake, caught at start-up.
    pub fn new(apps: PerPlatform<Option<AppClient>>, x_keys: XClient, sandboxed: PerPlatform<bool>) -> Self {
        for (platform, app) in apps.iter() {
            if let Some(app) = app {
                assert_eq!(app.platform(), platform, "a client under another platform's key");
            }
        }
        Clients { apps, x_keys, sandboxed }
    }

    /// Only X for OAuth 1.0a keys (`crier admin import-env`): nothing can be connected by OAuth.
    pub fn keys_only(x_keys: XClient) -> Self {
        Clients { apps: PerPlatform::default(), x_keys, sandboxed: PerPlatform::default() }
    }

    /// The platform's app client, when this installation has one.
    pub fn app(&self, platform: Platform) -> Option<&AppClient> {
        self.apps[platform].as_ref()
    }

    /// Whether "Connect …" works for the platform.
    pub fn is_available(&self, platform: Platform) -> bool {
        self.apps[platform].is_some()
    }

    /// Whether the platform is the sandbox's fake.
    pub fn is_sandboxed(&self, platform: Platform) -> bool {
        self.sandboxed[platform]
    }

    /// Whether any platform is the sandbox's (every page then shows the "Sandbox" badge).
    pub fn any_sandboxed(&self) -> bool {
        self.sandboxed.values().any(|s| *s)
    }

    /// X with the OAuth 2.0 app (connecting, refreshing).
    pub fn x(&self) -> Option<&XClient> {
        match self.app(Platform::X) {
            Some(AppClient::X(c)) => Some(c),
            _ => None,
        }
    }

    /// X for publishing: the app's client, else the one OAuth 1.0a keys use (the same API, signed
    /// per request).
    pub fn x_api(&self) -> &XClient {
        self.x().unwrap_or(&self.x_keys)
    }

    /// X for accounts connected with OAuth 1.0a keys.
    pub fn x_keys(&self) -> &XClient {
        &self.x_keys
    }

    /// LinkedIn.
    pub fn linkedin(&self) -> Option<&LinkedInClient> {
        match self.app(Platform::Linkedin) {
            Some(AppClient::Linkedin(c)) => Some(c),
            _ => None,
        }
    }

    /// Facebook Pages.
    pub fn facebook(&self) -> Option<&FacebookClient> {
        match self.app(Platform::Facebook) {
            Some(AppClient::Facebook(c)) => Some(c),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{LinkedInSettings, XSettings};

    fn x() -> XClient {
        XClient::new(XSettings::production("id".into(), SecretString::from("secret".to_owned())))
    }

    #[test]
    fn the_table_answers_per_platform() {
        let linkedin = LinkedInClient::new(LinkedInSettings::production("li".into(), SecretString::from("s".to_owned())));
        let apps = PerPlatform::from_fn(|p| match p {
            Platform::Linkedin => Some(AppClient::Linkedin(linkedin.clone())),
            _ => None,
        });
        let sandboxed = PerPlatform::from_fn(|p| p == Platform::Linkedin);
        let clients = Clients::new(apps, x(), sandboxed);
        assert!(clients.is_available(Platform::Linkedin) && clients.linkedin().is_some());
        assert!(!clients.is_available(Platform::X) && clients.x().is_none());
        assert!(clients.facebook().is_none());
        assert!(clients.any_sandboxed() && clients.is_sandboxed(Platform::Linkedin) && !clients.is_sandboxed(Platform::X));
        assert_eq!(clients.x_api().settings().client_id, "id", "publishing to X falls back to the keys' client");
    }

    #[test]
    #[should_panic(expected = "another platform's key")]
    fn a_client_under_the_wrong_key_is_refused() {
        let apps = PerPlatform::from_fn(|p| (p == Platform::Facebook).then(|| AppClient::X(x())));
        Clients::new(apps, x(), PerPlatform::default());
    }
}
