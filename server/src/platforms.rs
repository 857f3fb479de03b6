//! Builds the platform clients from the configuration: a configured app talks to the real
//! platform (or to the URLs given in CRIER_{X,LINKEDIN,META}_*_URL); a platform without one is
//! served by the sandbox when it is on, and cannot be connected otherwise.

use std::net::SocketAddr;

use app::state::Platforms;
use crier_clients::{LinkedInClient, LinkedInSettings, MetaClient, MetaSettings, XClient, XSettings};
use crier_sandbox::{Sandbox, SandboxConfig};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::config::{OAuthAppConfig, WebConfig};
use crate::sandbox::PREFIX;

/// The clients, and the sandbox to mount when one is used.
pub struct Assembled {
    /// For the app state.
    pub platforms: Platforms,
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

/// The clients for this configuration. `bound` is the listening address (the server reaches its
/// own sandbox there); `public_base` is where browsers reach Crier (consent pages, callbacks).
pub fn assemble(web: &WebConfig, bound: SocketAddr, public_base: &str, sandbox_on: bool) -> Assembled {
    let p = &web.platforms;
    let browser_base = Url::parse(&format!("{public_base}{PREFIX}")).expect("the public base is a URL");
    // Server-to-sandbox calls go to the socket directly, not through a proxy in front of Crier.
    let local_ip = if bound.ip().is_unspecified() { std::net::Ipv4Addr::LOCALHOST.into() } else { bound.ip() };
    let server_base = Url::parse(&format!("http://{}{PREFIX}", SocketAddr::new(local_ip, bound.port()))).expect("a socket address URL");
    let sandbox = sandbox_on.then(|| Sandbox::new(SandboxConfig::new(browser_base.as_str().trim_end_matches('/'))));
    let callback = |platform: &str| format!("{public_base}/oauth/{platform}/callback");
    let mut sandboxed = [false; 3];

    let x = match (&p.x, &sandbox) {
        (Some(app), _) => Some(XClient::new(x_settings(app))),
        (None, Some(sandbox)) => {
            let secret = sandbox_secret();
            sandbox.register_x_app("crier-sandbox-x", secret.expose_secret(), &callback("x"), "Crier (sandbox)");
            sandboxed[0] = true;
            let mut settings = XSettings::sandbox(&server_base, "crier-sandbox-x".into(), secret);
            settings.authorize_url = join(&browser_base, "/x/i/oauth2/authorize");
            Some(XClient::new(settings))
        }
        (None, None) => None,
    };
    // OAuth 1.0a keys need no OAuth 2.0 app: the X API the app would use, else the sandbox's,
    // else production.
    let x_keys = match (&x, &sandbox) {
        (Some(client), _) => client.clone(),
        (None, Some(_)) => XClient::new(XSettings::sandbox(&server_base, String::new(), SecretString::from(String::new()))),
        (None, None) => {
            let mut settings = XSettings::production(String::new(), SecretString::from(String::new()));
            if let Some(api) = p.x_api_url.clone() {
                settings.api_url = api;
            }
            XClient::new(settings)
        }
    };

    let linkedin = match (&p.linkedin, &sandbox) {
        (Some(app), _) => {
            let mut settings = LinkedInSettings::production(app.client_id.clone(), app.client_secret.clone());
            override_urls(app, &mut settings.authorize_url, &mut settings.token_url, &mut settings.api_url);
            if let Some(version) = &p.linkedin_version {
                settings.version = version.clone();
            }
            Some(LinkedInClient::new(settings))
        }
        (None, Some(sandbox)) => {
            let secret = sandbox_secret();
            sandbox.register_linkedin_app("crier-sandbox-linkedin", secret.expose_secret(), &callback("linkedin"), "Crier (sandbox)");
            sandboxed[1] = true;
            let mut settings = LinkedInSettings::sandbox(&server_base, "crier-sandbox-linkedin".into(), secret);
            settings.authorize_url = join(&browser_base, "/linkedin/oauth/v2/authorization");
            if let Some(version) = &p.linkedin_version {
                settings.version = version.clone();
            }
            Some(LinkedInClient::new(settings))
        }
        (None, None) => None,
    };

    let meta = match (&p.meta, &sandbox) {
        (Some(app), _) => {
            let mut settings = MetaSettings::production(app.client_id.clone(), app.client_secret.clone());
            if let Some(version) = &p.meta_graph_version {
                settings = settings.with_graph_version(version);
            }
            override_urls(app, &mut settings.authorize_url, &mut settings.token_url, &mut settings.api_url);
            Some(MetaClient::new(settings))
        }
        (None, Some(sandbox)) => {
            let secret = sandbox_secret();
            sandbox.register_meta_app("crier-sandbox-meta", secret.expose_secret(), &callback("facebook"), "Crier (sandbox)");
            sandboxed[2] = true;
            let mut settings = MetaSettings::sandbox(&server_base, "crier-sandbox-meta".into(), secret);
            if let Some(version) = &p.meta_graph_version {
                settings = settings.with_graph_version(version);
            }
            settings.authorize_url = join(&browser_base, &format!("/meta/{}/dialog/oauth", settings.graph_version));
            Some(MetaClient::new(settings))
        }
        (None, None) => None,
    };

    Assembled { platforms: Platforms { x, linkedin, meta, x_keys, sandboxed }, sandbox }
}

fn x_settings(app: &OAuthAppConfig) -> XSettings {
    let mut settings = XSettings::production(app.client_id.clone(), app.client_secret.clone());
    override_urls(app, &mut settings.authorize_url, &mut settings.token_url, &mut settings.api_url);
    if app.api_url.is_some() {
        // Revocation lives on the API host.
        settings.revoke_url = join(&settings.api_url, "/2/oauth2/revoke");
    }
    settings
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
pub fn worker_clients(web: &WebConfig) -> crier_publisher::Clients {
    let unbound = SocketAddr::from(([127, 0, 0, 1], 0));
    let assembled = assemble(web, unbound, "http://127.0.0.1", false);
    assembled.platforms.publisher_clients()
}
