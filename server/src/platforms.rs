//! Builds the platform clients from the configuration: a configured app talks to the real
//! platform (or to the URLs given in `CRIER_<PLATFORM>_*_URL`); a platform without one is served
//! by the sandbox when it is on, and cannot be connected otherwise.

use std::net::SocketAddr;

use crier_clients::{AppClient, Clients, FacebookClient, FacebookSettings, LinkedInClient, LinkedInSettings, XClient, XSettings};
use crier_platform::{PerPlatform, Platform};
use crier_sandbox::{Sandbox, SandboxConfig};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::config::{OAuthAppConfig, PlatformConfig, WebConfig};
use crate::sandbox::PREFIX;

/// The clients, and the sandbox to mount when one is used.
pub struct Assembled {
    /// Every platform's client.
    pub clients: Clients,
    /// Mounted under `/sandbox` when `Some`.
    pub sandbox: Option<Sandbox>,
}

/// Whether the sandbox runs: CRIER_SANDBOX when given; otherwise on exactly when the database is
/// the embedded one and no platform has a real app (a fresh `crier serve` can be clicked through).
pub fn sandbox_enabled(web: &WebConfig, embedded_database: bool) -> bool {
    web.platforms.sandbox.unwrap_or(embedded_database && !web.platforms.any_real_app())
}

fn sandbox_secret() -> SecretString {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).expect("the operating system's random number generator failed");
    SecretString::from(bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

/// Where the sandbox is reached: by browsers (consent pages) and by this server (API calls).
struct SandboxBases {
    browser: Url,
    server: Url,
}

/// The clients for this configuration. `bound` is the listening address (the server reaches its
/// own sandbox there); `public_base` is where browsers reach Crier (consent pages, callbacks).
pub fn assemble(web: &WebConfig, bound: SocketAddr, public_base: &str, sandbox_on: bool) -> Assembled {
    let config = &web.platforms;
    let browser = Url::parse(&format!("{public_base}{PREFIX}")).expect("the public base is a URL");
    // Server-to-sandbox calls go to the socket directly, not through a proxy in front of Crier.
    let local_ip = if bound.ip().is_unspecified() { std::net::Ipv4Addr::LOCALHOST.into() } else { bound.ip() };
    let server = Url::parse(&format!("http://{}{PREFIX}", SocketAddr::new(local_ip, bound.port()))).expect("a socket address URL");
    // The control API (every team's posts in the ledger, faults) only for who holds the configured
    // token; without one, a token nobody knows.
    let control_token = config
        .sandbox_control_token
        .as_ref()
        .map(|t| t.expose_secret().to_owned())
        .unwrap_or_else(|| sandbox_secret().expose_secret().to_owned());
    let sandbox = sandbox_on.then(|| {
        Sandbox::new(SandboxConfig { control_token: Some(control_token), ..SandboxConfig::new(browser.as_str().trim_end_matches('/')) })
    });
    let bases = SandboxBases { browser, server };

    let mut sandboxed = PerPlatform::default();
    let apps = PerPlatform::from_fn(|platform| match (&config.apps[platform], &sandbox) {
        (Some(app), _) => Some(configured(platform, app, config)),
        (None, Some(sandbox)) => {
            sandboxed[platform] = true;
            Some(sandboxed_client(platform, sandbox, &bases, config, &format!("{public_base}/oauth/{}/callback", platform.as_str())))
        }
        (None, None) => None,
    });
    // OAuth 1.0a keys need no OAuth 2.0 app: the X API the app uses, else the sandbox's, else
    // production (or CRIER_X_API_URL).
    let x_keys = match (&apps[Platform::X], &sandbox) {
        (Some(AppClient::X(client)), _) => client.clone(),
        (_, Some(_)) => XClient::new(XSettings::sandbox(&bases.server, String::new(), SecretString::from(String::new()))),
        _ => {
            let mut settings = XSettings::production(String::new(), SecretString::from(String::new()));
            if let Some(api) = config.x_api_url.clone() {
                settings.api_url = api;
            }
            XClient::new(settings)
        }
    };
    Assembled { clients: Clients::new(apps, x_keys, sandboxed), sandbox }
}

/// A platform's client for its configured app (production URLs unless overridden).
fn configured(platform: Platform, app: &OAuthAppConfig, config: &PlatformConfig) -> AppClient {
    let (id, secret) = (app.client_id.clone(), app.client_secret.clone());
    match platform {
        Platform::X => {
            let mut settings = XSettings::production(id, secret);
            override_urls(app, &mut settings.authorize_url, &mut settings.token_url, &mut settings.api_url);
            if app.api_url.is_some() {
                // Revocation lives on the API host.
                settings.revoke_url = join(&settings.api_url, "/2/oauth2/revoke");
            }
            AppClient::X(XClient::new(settings))
        }
        Platform::Linkedin => {
            let mut settings = LinkedInSettings::production(id, secret);
            override_urls(app, &mut settings.authorize_url, &mut settings.token_url, &mut settings.api_url);
            if let Some(version) = &config.linkedin_version {
                settings.version = version.clone();
            }
            AppClient::Linkedin(LinkedInClient::new(settings))
        }
        Platform::Facebook => {
            let mut settings = FacebookSettings::production(id, secret);
            if let Some(version) = &config.facebook_graph_version {
                settings = settings.with_graph_version(version);
            }
            override_urls(app, &mut settings.authorize_url, &mut settings.token_url, &mut settings.api_url);
            AppClient::Facebook(FacebookClient::new(settings))
        }
    }
}

/// A platform's client for the sandbox's fake, with an app registered there for this server.
fn sandboxed_client(platform: Platform, sandbox: &Sandbox, bases: &SandboxBases, config: &PlatformConfig, callback: &str) -> AppClient {
    let secret = sandbox_secret();
    let client_id = format!("crier-sandbox-{}", platform.as_str());
    let name = "Crier (sandbox)";
    match platform {
        Platform::X => {
            sandbox.register_x_app(&client_id, secret.expose_secret(), callback, name);
            let mut settings = XSettings::sandbox(&bases.server, client_id, secret);
            settings.authorize_url = join(&bases.browser, "/x/i/oauth2/authorize");
            AppClient::X(XClient::new(settings))
        }
        Platform::Linkedin => {
            sandbox.register_linkedin_app(&client_id, secret.expose_secret(), callback, name);
            let mut settings = LinkedInSettings::sandbox(&bases.server, client_id, secret);
            settings.authorize_url = join(&bases.browser, "/linkedin/oauth/v2/authorization");
            if let Some(version) = &config.linkedin_version {
                settings.version = version.clone();
            }
            AppClient::Linkedin(LinkedInClient::new(settings))
        }
        Platform::Facebook => {
            sandbox.register_facebook_app(&client_id, secret.expose_secret(), callback, name);
            let mut settings = FacebookSettings::sandbox(&bases.server, client_id, secret);
            if let Some(version) = &config.facebook_graph_version {
                settings = settings.with_graph_version(version);
            }
            settings.authorize_url = join(&bases.browser, &format!("/facebook/{}/dialog/oauth", settings.graph_version));
            AppClient::Facebook(FacebookClient::new(settings))
        }
    }
}

fn override_urls(app: &OAuthAppConfig, authorize: &mut Url, token: &mut Url, api: &mut Url) {
    if let Some(url) = &app.authorize_url {
        *authorize = url.clone();
    }
    if let Some(url) = &app.token_url {
        *token = url.clone();
    }
    if let Some(url) = &app.api_url {
        *api = url.clone();
    }
}

fn join(base: &Url, path: &str) -> Url {
    Url::parse(&format!("{}{path}", base.as_str().trim_end_matches('/'))).expect("a URL under the sandbox base")
}

/// The clients of a `crier worker` process: the configured apps and endpoints only. (The sandbox
/// lives in `crier serve`; a separate worker reaches it, or any fake, through the `CRIER_*_URL`
/// overrides and the apps registered there.)
pub fn worker_clients(web: &WebConfig) -> Clients {
    let unbound = SocketAddr::from(([127, 0, 0, 1], 0));
    assemble(web, unbound, "http://127.0.0.1", false).clients
}
