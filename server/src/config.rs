//! Typed configuration, parsed once from flags and environment variables.
//!
//! clap collects the raw strings (so `--help` lists every variable); this module parses them into
//! types, and a bad value stops startup with a message naming the variable and what is wrong.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use app::state::Operations;
use crier_domain::store::status::ReadinessLimits;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use clap::Args;
use secrecy::{ExposeSecret, SecretBox, SecretString};
use url::Url;

use crate::cli::WorkerArgs;

/// Settings shared by every subcommand. Each flag also reads the environment variable named in
/// its help; the README's configuration table lists the same.
#[derive(Args, Clone, Debug)]
pub struct GlobalArgs {
    /// PostgreSQL URL. Unset: Crier runs its own PostgreSQL in CRIER_DATA_DIR/pg from the
    /// installed PostgreSQL binaries.
    #[arg(long = "database-url", env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<SecretString>,

    /// Where Crier keeps its files: the embedded PostgreSQL cluster and the generated secret key.
    #[arg(long = "data-dir", env = "CRIER_DATA_DIR", global = true, default_value = "./.crier")]
    pub data_dir: PathBuf,

    /// 32 bytes, base64: encrypts platform tokens at rest. With the embedded database it is
    /// generated on first run and kept in CRIER_DATA_DIR/secret.key; with DATABASE_URL it is
    /// required. Generate one with `head -c 32 /dev/urandom | base64`.
    #[arg(long = "secret-key", env = "CRIER_SECRET_KEY", global = true, hide_env_values = true)]
    pub secret_key: Option<SecretString>,

    /// Old keys (base64, comma-separated) that still decrypt, while `crier admin rotate-key`
    /// re-encrypts everything under CRIER_SECRET_KEY. Remove them once it has run.
    #[arg(long = "previous-secret-keys", env = "CRIER_PREVIOUS_SECRET_KEYS", global = true, hide_env_values = true)]
    pub previous_secret_keys: Option<SecretString>,

    /// Log output: `pretty` for people, `json` for log collectors. Levels come from RUST_LOG
    /// (default `info`).
    #[arg(long = "log-format", env = "CRIER_LOG_FORMAT", global = true, default_value = "pretty")]
    pub log_format: String,
}

/// Settings of the web server.
#[derive(Args, Clone, Debug)]
pub struct WebArgs {
    /// Address the web server listens on.
    #[arg(long = "addr", env = "CRIER_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: String,

    /// The URL people reach Crier at; used for links (invites) and OAuth redirect URIs, and
    /// makes the session cookie Secure when it is https. Default: http://<CRIER_ADDR>.
    #[arg(long = "public-url", env = "CRIER_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Reverse proxies (IP addresses or CIDR ranges, comma-separated) whose X-Forwarded-For
    /// header tells the client's address, e.g. `10.0.0.0/8,127.0.0.1`. Login throttling counts
    /// per client address; unset, the header is ignored (anyone could forge it).
    #[arg(long = "trusted-proxies", env = "CRIER_TRUSTED_PROXIES")]
    pub trusted_proxies: Option<String>,

    /// REST API requests each API token may make: `600/1m` (per s, m, h or d), or `none`. Over
    /// it, requests answer 429 with Retry-After. Counted per web process.
    #[arg(long = "api-rate-limit", env = "CRIER_API_RATE_LIMIT", default_value = "600/1m")]
    pub api_rate_limit: String,

    #[command(flatten)]
    pub platforms: PlatformArgs,
}

impl Default for WebArgs {
    /// The values the command line defaults to (tests override what they need).
    fn default() -> Self {
        WebArgs {
            addr: "127.0.0.1:3000".into(),
            public_url: None,
            trusted_proxies: None,
            api_rate_limit: "600/1m".into(),
            platforms: PlatformArgs::default(),
        }
    }
}

/// The platforms' OAuth apps and API endpoints. Defaults are the real production endpoints; a
/// platform without a client id is served by the sandbox (when it is on) or cannot be connected.
#[derive(Args, Clone, Debug, Default)]
pub struct PlatformArgs {
    /// X OAuth 2.0 client id (developer portal → your app → Keys and tokens).
    #[arg(long = "x-client-id", env = "CRIER_X_CLIENT_ID")]
    pub x_client_id: Option<String>,
    /// X OAuth 2.0 client secret (confidential clients).
    #[arg(long = "x-client-secret", env = "CRIER_X_CLIENT_SECRET", hide_env_values = true)]
    pub x_client_secret: Option<SecretString>,
    /// X authorize page [default: https://x.com/i/oauth2/authorize].
    #[arg(long = "x-authorize-url", env = "CRIER_X_AUTHORIZE_URL")]
    pub x_authorize_url: Option<String>,
    /// X token endpoint [default: https://api.x.com/2/oauth2/token].
    #[arg(long = "x-token-url", env = "CRIER_X_TOKEN_URL")]
    pub x_token_url: Option<String>,
    /// X API base [default: https://api.x.com].
    #[arg(long = "x-api-url", env = "CRIER_X_API_URL")]
    pub x_api_url: Option<String>,

    /// LinkedIn client id.
    #[arg(long = "linkedin-client-id", env = "CRIER_LINKEDIN_CLIENT_ID")]
    pub linkedin_client_id: Option<String>,
    /// LinkedIn client secret.
    #[arg(long = "linkedin-client-secret", env = "CRIER_LINKEDIN_CLIENT_SECRET", hide_env_values = true)]
    pub linkedin_client_secret: Option<SecretString>,
    /// LinkedIn authorize page [default: https://www.linkedin.com/oauth/v2/authorization].
    #[arg(long = "linkedin-authorize-url", env = "CRIER_LINKEDIN_AUTHORIZE_URL")]
    pub linkedin_authorize_url: Option<String>,
    /// LinkedIn token endpoint [default: https://www.linkedin.com/oauth/v2/accessToken].
    #[arg(long = "linkedin-token-url", env = "CRIER_LINKEDIN_TOKEN_URL")]
    pub linkedin_token_url: Option<String>,
    /// LinkedIn API base [default: https://api.linkedin.com].
    #[arg(long = "linkedin-api-url", env = "CRIER_LINKEDIN_API_URL")]
    pub linkedin_api_url: Option<String>,
    /// The LinkedIn-Version header, YYYYMM (LinkedIn retires versions after about a year).
    #[arg(long = "linkedin-version", env = "CRIER_LINKEDIN_VERSION")]
    pub linkedin_version: Option<String>,

    /// Meta app id (Facebook Pages).
    #[arg(long = "meta-client-id", env = "CRIER_META_CLIENT_ID")]
    pub meta_client_id: Option<String>,
    /// Meta app secret.
    #[arg(long = "meta-client-secret", env = "CRIER_META_CLIENT_SECRET", hide_env_values = true)]
    pub meta_client_secret: Option<SecretString>,
    /// Meta login dialog [default: https://www.facebook.com/<version>/dialog/oauth].
    #[arg(long = "meta-authorize-url", env = "CRIER_META_AUTHORIZE_URL")]
    pub meta_authorize_url: Option<String>,
    /// Meta token endpoint [default: https://graph.facebook.com/<version>/oauth/access_token].
    #[arg(long = "meta-token-url", env = "CRIER_META_TOKEN_URL")]
    pub meta_token_url: Option<String>,
    /// Meta Graph API base, without the version [default: https://graph.facebook.com].
    #[arg(long = "meta-api-url", env = "CRIER_META_API_URL")]
    pub meta_api_url: Option<String>,
    /// The Graph API version, e.g. v26.0.
    #[arg(long = "meta-graph-version", env = "CRIER_META_GRAPH_VERSION")]
    pub meta_graph_version: Option<String>,

    /// Serve fake X, LinkedIn and Meta under /sandbox and connect to them, for trying Crier
    /// without API keys (every page then shows a "Sandbox" badge). Default: on with the embedded
    /// database when no platform client id is set, off otherwise.
    #[arg(long = "sandbox", env = "CRIER_SANDBOX")]
    pub sandbox: Option<String>,
}

/// Who may read the Prometheus metrics at `/metrics` (`crier serve` and `crier worker`).
#[derive(Args, Clone, Debug, Default)]
pub struct MetricsArgs {
    /// Serve Prometheus metrics at /metrics on the web address, to requests bearing
    /// `Authorization: Bearer <token>` (16 characters at least; `head -c 24 /dev/urandom | base64`).
    /// With neither this nor CRIER_METRICS_ADDR, /metrics is not served.
    #[arg(long = "metrics-token", env = "CRIER_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<SecretString>,
    /// Serve /metrics on this address of its own instead (e.g. 127.0.0.1:9100, for the Prometheus
    /// server only), also guarded by CRIER_METRICS_TOKEN when that is set. `crier worker`
    /// processes serve their metrics only here.
    #[arg(long = "metrics-addr", env = "CRIER_METRICS_ADDR")]
    pub metrics_addr: Option<String>,
}

/// What `/readyz` and `crier status` tolerate.
#[derive(Args, Clone, Debug)]
pub struct ReadinessArgs {
    /// Seconds the oldest due delivery may wait unclaimed before /readyz and `crier status`
    /// report the queue as not keeping up.
    #[arg(long = "ready-max-queue-age", env = "CRIER_READY_MAX_QUEUE_AGE", default_value_t = 120)]
    pub max_queue_age_secs: u64,
}

impl Default for ReadinessArgs {
    /// The command line's default.
    fn default() -> Self {
        ReadinessArgs { max_queue_age_secs: 120 }
    }
}

impl ReadinessArgs {
    /// The queue age readiness allows.
    pub fn max_queue_age(&self) -> Result<Duration, ConfigError> {
        match self.max_queue_age_secs {
            0 => Err(bad("CRIER_READY_MAX_QUEUE_AGE", "is 0; give the seconds a due delivery may wait, e.g. 120")),
            secs => Ok(Duration::from_secs(secs)),
        }
    }
}

/// Where `/metrics` is served, parsed.
#[derive(Clone, Debug, Default)]
pub struct MetricsConfig {
    /// The bearer token scrapes must carry.
    pub token: Option<SecretString>,
    /// The address of its own.
    pub addr: Option<SocketAddr>,
}

impl MetricsConfig {
    /// Parses the metrics settings; each problem names its variable.
    pub fn parse(args: &MetricsArgs) -> Result<Self, ConfigError> {
        let token = match args.metrics_token.as_ref().map(|t| t.expose_secret().trim().to_owned()).filter(|t| !t.is_empty()) {
            None => None,
            Some(token) if token.chars().count() < 16 => {
                return Err(bad(
                    "CRIER_METRICS_TOKEN",
                    "is shorter than 16 characters; generate one with `head -c 24 /dev/urandom | base64`",
                ));
            }
            Some(token) => Some(SecretString::from(token)),
        };
        let addr = match args.metrics_addr.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
            None => None,
            Some(raw) => {
                Some(raw.parse().map_err(|_| bad("CRIER_METRICS_ADDR", format!("`{raw}` is not an address like 127.0.0.1:9100")))?)
            }
        };
        Ok(Self { token, addr })
    }
}

/// Webhook settings: read by the worker, which sends the calls, and by the web app, which checks
/// endpoint URLs.
#[derive(Args, Clone, Debug)]
pub struct WebhookArgs {
    /// Accept plain http:// webhook endpoints besides https:// (`1`), for development and tests
    /// on one machine; never in production, where calls carry the team's events in clear text.
    #[arg(long = "webhooks-allow-http", env = "CRIER_WEBHOOKS_ALLOW_HTTP")]
    pub allow_http: Option<String>,
    /// Attempts per webhook call in all (1 to 20) before it is marked failed.
    #[arg(long = "webhooks-max-attempts", env = "CRIER_WEBHOOKS_MAX_ATTEMPTS", default_value_t = 8)]
    pub max_attempts: i16,
    /// Seconds before a failed webhook call's first retry (1 to 14400), doubling after each
    /// failure, at most 4 hours apart.
    #[arg(long = "webhooks-retry-base", env = "CRIER_WEBHOOKS_RETRY_BASE", default_value_t = 30)]
    pub retry_base_secs: i32,
}

impl Default for WebhookArgs {
    /// The command line's defaults.
    fn default() -> Self {
        WebhookArgs { allow_http: None, max_attempts: 8, retry_base_secs: 30 }
    }
}

/// Webhook settings, parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WebhookSettings {
    /// Whether http:// endpoints are accepted and called.
    pub allow_http: bool,
    /// Attempts and the first retry's wait.
    pub retry: crier_domain::retry::RetryPolicy,
}

impl WebhookSettings {
    /// Parses the webhook settings; each problem names its variable.
    pub fn parse(args: &WebhookArgs) -> Result<Self, ConfigError> {
        use crier_domain::retry::{ATTEMPTS, FIRST_RETRY_SECONDS, RetryPolicy};
        let allow_http = parse_switch("CRIER_WEBHOOKS_ALLOW_HTTP", args.allow_http.as_deref())?.unwrap_or(false);
        if !ATTEMPTS.contains(&args.max_attempts) {
            return Err(bad("CRIER_WEBHOOKS_MAX_ATTEMPTS", format!("is {}; allow 1 to 20 attempts", args.max_attempts)));
        }
        if !FIRST_RETRY_SECONDS.contains(&args.retry_base_secs) {
            return Err(bad("CRIER_WEBHOOKS_RETRY_BASE", format!("is {}; use 1 to 14400 seconds", args.retry_base_secs)));
        }
        Ok(Self { allow_http, retry: RetryPolicy { max_attempts: args.max_attempts, first_retry_seconds: args.retry_base_secs } })
    }
}

/// An on/off variable: `1`, `true`, `yes`, `on` or `0`, `false`, `no`, `off` (`None` when unset).
fn parse_switch(variable: &'static str, raw: Option<&str>) -> Result<Option<bool>, ConfigError> {
    match raw.map(|v| v.trim().to_ascii_lowercase()).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) if matches!(v.as_str(), "1" | "true" | "yes" | "on") => Ok(Some(true)),
        Some(v) if matches!(v.as_str(), "0" | "false" | "no" | "off") => Ok(Some(false)),
        Some(v) => Err(bad(variable, format!("is `{v}`; use 1 or 0"))),
    }
}

/// One platform's OAuth app, parsed. `None` URLs mean "the production default".
#[derive(Clone, Debug)]
pub struct OAuthAppConfig {
    /// Client id.
    pub client_id: String,
    /// Client secret.
    pub client_secret: SecretString,
    /// Authorize page override.
    pub authorize_url: Option<Url>,
    /// Token endpoint override.
    pub token_url: Option<Url>,
    /// API base override.
    pub api_url: Option<Url>,
}

/// The platforms' settings, parsed.
#[derive(Clone, Debug, Default)]
pub struct PlatformConfig {
    /// X's app, when configured.
    pub x: Option<OAuthAppConfig>,
    /// LinkedIn's app, when configured.
    pub linkedin: Option<OAuthAppConfig>,
    /// Meta's app, when configured.
    pub meta: Option<OAuthAppConfig>,
    /// LinkedIn-Version override (YYYYMM).
    pub linkedin_version: Option<String>,
    /// Graph version override (vNN.N).
    pub meta_graph_version: Option<String>,
    /// CRIER_SANDBOX when given.
    pub sandbox: Option<bool>,
    /// CRIER_X_API_URL, also without an OAuth 2.0 app: OAuth 1.0a keys call X there.
    pub x_api_url: Option<Url>,
}

impl PlatformConfig {
    /// Parses the platform settings; each problem names its variable.
    pub fn parse(args: &PlatformArgs) -> Result<Self, ConfigError> {
        fn url(raw: &Option<String>, variable: &'static str) -> Result<Option<Url>, ConfigError> {
            match raw.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
                None => Ok(None),
                Some(raw) => {
                    let url = Url::parse(raw).map_err(|e| bad(variable, format!("`{raw}` is not a URL ({e})")))?;
                    if !matches!(url.scheme(), "http" | "https") {
                        return Err(bad(variable, format!("`{raw}` must be an http or https URL")));
                    }
                    Ok(Some(url))
                }
            }
        }
        fn app(
            id: &Option<String>,
            secret: &Option<SecretString>,
            urls: [(&Option<String>, &'static str); 3],
            id_var: &'static str,
            secret_var: &'static str,
        ) -> Result<Option<OAuthAppConfig>, ConfigError> {
            let [authorize, token, api] = urls;
            let (authorize_url, token_url, api_url) = (url(authorize.0, authorize.1)?, url(token.0, token.1)?, url(api.0, api.1)?);
            let Some(client_id) = id.as_deref().map(str::trim).filter(|id| !id.is_empty()) else {
                if secret.is_some() {
                    return Err(bad(id_var, format!("is not set, but {secret_var} is; set both, or neither")));
                }
                return Ok(None);
            };
            let client_secret = secret
                .clone()
                .filter(|s| !s.expose_secret().trim().is_empty())
                .ok_or_else(|| bad(secret_var, format!("is required with {id_var}")))?;
            Ok(Some(OAuthAppConfig { client_id: client_id.to_owned(), client_secret, authorize_url, token_url, api_url }))
        }
        let a = args;
        let x = app(
            &a.x_client_id,
            &a.x_client_secret,
            [(&a.x_authorize_url, "CRIER_X_AUTHORIZE_URL"), (&a.x_token_url, "CRIER_X_TOKEN_URL"), (&a.x_api_url, "CRIER_X_API_URL")],
            "CRIER_X_CLIENT_ID",
            "CRIER_X_CLIENT_SECRET",
        )?;
        let linkedin = app(
            &a.linkedin_client_id,
            &a.linkedin_client_secret,
            [
                (&a.linkedin_authorize_url, "CRIER_LINKEDIN_AUTHORIZE_URL"),
                (&a.linkedin_token_url, "CRIER_LINKEDIN_TOKEN_URL"),
                (&a.linkedin_api_url, "CRIER_LINKEDIN_API_URL"),
            ],
            "CRIER_LINKEDIN_CLIENT_ID",
            "CRIER_LINKEDIN_CLIENT_SECRET",
        )?;
        let meta = app(
            &a.meta_client_id,
            &a.meta_client_secret,
            [
                (&a.meta_authorize_url, "CRIER_META_AUTHORIZE_URL"),
                (&a.meta_token_url, "CRIER_META_TOKEN_URL"),
                (&a.meta_api_url, "CRIER_META_API_URL"),
            ],
            "CRIER_META_CLIENT_ID",
            "CRIER_META_CLIENT_SECRET",
        )?;
        let linkedin_version = match a.linkedin_version.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            None => None,
            Some(v)
                if v.len() == 6
                    && v.bytes().all(|b| b.is_ascii_digit())
                    && matches!(&v[4..], "01" | "02" | "03" | "04" | "05" | "06" | "07" | "08" | "09" | "10" | "11" | "12") =>
            {
                Some(v.to_owned())
            }
            Some(v) => return Err(bad("CRIER_LINKEDIN_VERSION", format!("`{v}` is not a YYYYMM version like 202601"))),
        };
        let meta_graph_version = match a.meta_graph_version.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            None => None,
            Some(v) => {
                let ok = v.strip_prefix('v').and_then(|rest| rest.split_once('.')).is_some_and(|(major, minor)| {
                    !major.is_empty() && !minor.is_empty() && major.bytes().chain(minor.bytes()).all(|b| b.is_ascii_digit())
                });
                if !ok {
                    return Err(bad("CRIER_META_GRAPH_VERSION", format!("`{v}` is not a Graph API version like v26.0")));
                }
                Some(v.to_owned())
            }
        };
        let sandbox = parse_switch("CRIER_SANDBOX", a.sandbox.as_deref())?;
        let x_api_url = url(&a.x_api_url, "CRIER_X_API_URL")?;
        Ok(Self { x, linkedin, meta, linkedin_version, meta_graph_version, sandbox, x_api_url })
    }

    /// Whether any platform has a real app configured.
    pub fn any_real_app(&self) -> bool {
        self.x.is_some() || self.linkedin.is_some() || self.meta.is_some()
    }
}

/// A configuration value that cannot be used; the message names the variable.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    /// The environment variable (and flag) at fault.
    pub variable: &'static str,
    /// What is wrong and how to fix it.
    pub problem: String,
}

fn bad(variable: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError { variable, problem: problem.into() }
}

/// Where the database comes from.
#[derive(Clone, Debug)]
pub enum DatabaseSetting {
    /// A server the operator runs (DATABASE_URL).
    External(SecretString),
    /// Crier's own cluster in the data dir.
    Embedded,
}

/// How logs are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable, coloured when a terminal.
    Pretty,
    /// One JSON object per line.
    Json,
}

/// Parsed shared settings.
#[derive(Debug)]
pub struct Config {
    /// Where the database comes from.
    pub database: DatabaseSetting,
    /// The data directory.
    pub data_dir: PathBuf,
    /// The secret key given in CRIER_SECRET_KEY, if any (see [`KeyRing::resolve`]).
    pub secret_key: Option<SecretKey>,
    /// Keys given in CRIER_PREVIOUS_SECRET_KEYS (during a rotation).
    pub previous_keys: Vec<SecretKey>,
    /// Log format.
    pub log_format: LogFormat,
}

impl Config {
    /// Parses the shared settings.
    pub fn parse(args: &GlobalArgs) -> Result<Self, ConfigError> {
        let database = match &args.database_url {
            Some(url) if !url.expose_secret().trim().is_empty() => {
                let parsed = Url::parse(url.expose_secret().trim())
                    .map_err(|e| bad("DATABASE_URL", format!("is not a URL ({e}); expected postgres://user:password@host/database")))?;
                if !matches!(parsed.scheme(), "postgres" | "postgresql") {
                    return Err(bad("DATABASE_URL", "must start with postgres:// or postgresql://"));
                }
                DatabaseSetting::External(SecretString::from(url.expose_secret().trim().to_owned()))
            }
            _ => DatabaseSetting::Embedded,
        };
        if args.data_dir.as_os_str().is_empty() {
            return Err(bad("CRIER_DATA_DIR", "is empty; give a directory path such as ./.crier"));
        }
        let secret_key = args
            .secret_key
            .as_ref()
            .filter(|key| !key.expose_secret().trim().is_empty())
            .map(|key| SecretKey::parse(key.expose_secret(), "CRIER_SECRET_KEY"))
            .transpose()?;
        let previous_keys = args
            .previous_secret_keys
            .as_ref()
            .map(|keys| {
                keys.expose_secret()
                    .split(',')
                    .filter(|k| !k.trim().is_empty())
                    .map(|k| SecretKey::parse(k, "CRIER_PREVIOUS_SECRET_KEYS"))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?
            .unwrap_or_default();
        let log_format = match args.log_format.trim().to_ascii_lowercase().as_str() {
            "pretty" => LogFormat::Pretty,
            "json" => LogFormat::Json,
            other => return Err(bad("CRIER_LOG_FORMAT", format!("is `{other}`; use `pretty` or `json`"))),
        };
        Ok(Self { database, data_dir: args.data_dir.clone(), secret_key, previous_keys, log_format })
    }
}

/// Parsed web settings.
#[derive(Clone, Debug)]
pub struct WebConfig {
    /// Listen address (port 0 picks a free port, as tests do).
    pub addr: SocketAddr,
    /// The public base URL; `None` means `http://<the bound address>`.
    pub public_url: Option<Url>,
    /// Proxies whose X-Forwarded-For is believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// The platforms' apps and endpoints.
    pub platforms: PlatformConfig,
    /// Requests per API token and window (`None`: unlimited).
    pub api_rate_limit: Option<crier_domain::store::deliveries::Budget>,
    /// Where `/metrics` is served (not at all by default).
    pub metrics: MetricsConfig,
    /// The workers' budgets and the readiness limits, as `/readyz` and the Status page use them
    /// (defaults until the command line's worker settings are applied with [`WebConfig::with_operations`]).
    pub operations: Operations,
    /// Whether webhook endpoints may be plain http:// (CRIER_WEBHOOKS_ALLOW_HTTP, a worker
    /// setting that `serve` copies here; off unless set).
    pub webhooks_allow_http: bool,
}

impl WebConfig {
    /// Parses the web settings.
    pub fn parse(args: &WebArgs) -> Result<Self, ConfigError> {
        let addr: SocketAddr =
            args.addr.trim().parse().map_err(|_| bad("CRIER_ADDR", format!("`{}` is not an address like 127.0.0.1:3000", args.addr)))?;
        let public_url = match &args.public_url {
            Some(raw) if !raw.trim().is_empty() => {
                let url = Url::parse(raw.trim())
                    .map_err(|e| bad("CRIER_PUBLIC_URL", format!("`{raw}` is not a URL ({e}); expected e.g. https://crier.example.com")))?;
                if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
                    return Err(bad("CRIER_PUBLIC_URL", format!("`{raw}` must be an http or https URL with a host")));
                }
                Some(url)
            }
            _ => None,
        };
        let trusted_proxies = args
            .trusted_proxies
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                entry
                    .parse::<ipnet::IpNet>()
                    .or_else(|_| entry.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| bad("CRIER_TRUSTED_PROXIES", format!("`{entry}` is not an IP address or CIDR range like 10.0.0.0/8")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let platforms = PlatformConfig::parse(&args.platforms)?;
        let api_rate_limit = crate::worker::parse_budget("CRIER_API_RATE_LIMIT", &args.api_rate_limit).map_err(|_| {
            bad(
                "CRIER_API_RATE_LIMIT",
                format!("`{}` is not a limit like 600/1m (requests per s, m, h or d) or `none`", args.api_rate_limit),
            )
        })?;
        Ok(Self {
            addr,
            public_url,
            trusted_proxies,
            platforms,
            api_rate_limit,
            metrics: MetricsConfig::default(),
            operations: Operations::default(),
            webhooks_allow_http: false,
        })
    }

    /// With `crier serve`'s metrics, readiness and worker settings: the budgets and heartbeat
    /// staleness are the worker's even with `--no-worker`, since this process reports on workers
    /// started with the same settings.
    pub fn with_operations(self, metrics: &MetricsArgs, readiness: &ReadinessArgs, worker: &WorkerArgs) -> Result<Self, ConfigError> {
        let readiness = ReadinessLimits { stale_after: crate::worker::stale_after(worker), max_queue_age: readiness.max_queue_age()? };
        let operations = Operations { budgets: crate::worker::budgets(worker)?, readiness };
        Ok(Self { metrics: MetricsConfig::parse(metrics)?, operations, ..self })
    }

    /// The public URL without a trailing slash, for building links; `bound` is the address the
    /// server actually listens on (it differs from CRIER_ADDR when that asks for port 0).
    pub fn public_base(&self, bound: SocketAddr) -> String {
        match &self.public_url {
            Some(url) => url.as_str().trim_end_matches('/').to_owned(),
            None => format!("http://{bound}"),
        }
    }

    /// Whether cookies must be Secure (the site is served over https).
    pub fn cookies_secure(&self) -> bool {
        self.public_url.as_ref().is_some_and(|url| url.scheme() == "https")
    }
}

/// One 32-byte key of the token vault.
pub struct SecretKey(SecretBox<[u8; 32]>);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey([REDACTED])")
    }
}

impl SecretKey {
    fn parse(encoded: &str, source: &'static str) -> Result<Self, ConfigError> {
        let bytes = STANDARD
            .decode(encoded.trim())
            .map_err(|_| bad(source, "is not base64; generate a key with `head -c 32 /dev/urandom | base64`"))?;
        let key: [u8; 32] =
            bytes.try_into().map_err(|b: Vec<u8>| bad(source, format!("decodes to {} bytes; it must be exactly 32", b.len())))?;
        Ok(Self(SecretBox::new(Box::new(key))))
    }

    /// A fresh random key.
    pub fn generate() -> Result<Self, ConfigError> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| bad("CRIER_SECRET_KEY", format!("no randomness to generate a key: {e}")))?;
        Ok(Self(SecretBox::new(Box::new(key))))
    }

    /// The key bytes.
    pub fn expose(&self) -> &[u8; 32] {
        self.0.expose_secret()
    }

    fn encode(&self) -> String {
        STANDARD.encode(self.expose())
    }
}

/// Where the keys came from, which decides how `crier admin rotate-key` rotates them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    /// CRIER_SECRET_KEY (and CRIER_PREVIOUS_SECRET_KEYS): the operator rotates them.
    Environment,
    /// The key file in the data dir (embedded default): Crier rotates it itself.
    File(PathBuf),
}

/// The token vault's keys: the current one seals, previous ones (during a rotation) only open.
#[derive(Debug)]
pub struct KeyRing {
    /// Seals every new value.
    pub current: SecretKey,
    /// Still open values sealed before a rotation.
    pub previous: Vec<SecretKey>,
    /// Where they came from.
    pub source: KeySource,
}

impl KeyRing {
    const FILE_NAME: &'static str = "secret.key";

    /// The keys to use: CRIER_SECRET_KEY (plus CRIER_PREVIOUS_SECRET_KEYS) when given; with the
    /// embedded database, the key file in the data dir (generated on first run); with
    /// DATABASE_URL and no key, an error, because a key generated on one machine would leave the
    /// others unable to decrypt.
    pub fn resolve(config: &Config) -> Result<Self, ConfigError> {
        if let Some(key) = &config.secret_key {
            let previous = config.previous_keys.iter().map(|k| SecretKey(SecretBox::new(Box::new(*k.expose())))).collect();
            return Ok(Self { current: SecretKey(SecretBox::new(Box::new(*key.expose()))), previous, source: KeySource::Environment });
        }
        if !config.previous_keys.is_empty() {
            return Err(bad("CRIER_PREVIOUS_SECRET_KEYS", "is set without CRIER_SECRET_KEY; set the new key in CRIER_SECRET_KEY"));
        }
        if let DatabaseSetting::External(_) = config.database {
            return Err(bad(
                "CRIER_SECRET_KEY",
                "is required when DATABASE_URL is set; generate one with `head -c 32 /dev/urandom | base64`",
            ));
        }
        Self::load_or_create(&config.data_dir)
    }

    /// A ring of one fresh key, kept nowhere (tests).
    pub fn ephemeral() -> Self {
        Self { current: SecretKey::generate().expect("randomness"), previous: Vec::new(), source: KeySource::Environment }
    }

    /// Reads the key file: the current key on the first line, previous keys on the lines after
    /// (present only while a rotation is under way).
    fn load(path: &Path) -> Result<Option<Self>, ConfigError> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let mut keys = text.lines().filter(|l| !l.trim().is_empty()).map(|l| SecretKey::parse(l, "CRIER_DATA_DIR"));
                let current = keys.next().ok_or_else(|| bad("CRIER_DATA_DIR", format!("{} is empty", path.display())))??;
                let previous = keys.collect::<Result<Vec<_>, _>>()?;
                Ok(Some(Self { current, previous, source: KeySource::File(path.to_owned()) }))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(bad("CRIER_DATA_DIR", format!("cannot read {}: {e}", path.display()))),
        }
    }

    fn load_or_create(data_dir: &Path) -> Result<Self, ConfigError> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;

        let path = data_dir.join(Self::FILE_NAME);
        if let Some(ring) = Self::load(&path)? {
            return Ok(ring);
        }
        std::fs::create_dir_all(data_dir).map_err(|e| bad("CRIER_DATA_DIR", format!("cannot create {}: {e}", data_dir.display())))?;
        let key = SecretKey::generate()?;
        // create_new: two processes starting at once cannot overwrite each other's key; the loser
        // reads the winner's.
        match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path) {
            Ok(mut file) => {
                file.write_all(key.encode().as_bytes())
                    .map_err(|e| bad("CRIER_DATA_DIR", format!("cannot write {}: {e}", path.display())))?;
                Ok(Self { current: key, previous: Vec::new(), source: KeySource::File(path) })
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Self::load_or_create(data_dir),
            Err(e) => Err(bad("CRIER_DATA_DIR", format!("cannot write {}: {e}", path.display()))),
        }
    }

    /// Replaces the key file's contents atomically (write a sibling, fsync, rename), so a crash
    /// leaves either the old file or the new one, never half of one.
    pub fn write_file(path: &Path, keys: &[&SecretKey]) -> std::io::Result<()> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;

        let tmp = path.with_extension("key.tmp");
        let _ = std::fs::remove_file(&tmp);
        let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp)?;
        let text: String = keys.iter().map(|k| k.encode() + "\n").collect();
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    }

    /// Key-file rotation, step 1: a new current key, the old ones kept as previous (on disk too).
    pub fn rotate_file(self) -> Result<Self, ConfigError> {
        let KeySource::File(path) = &self.source else {
            return Err(bad(
                "CRIER_SECRET_KEY",
                "is set, so you rotate it: put the new key in CRIER_SECRET_KEY, the old one in CRIER_PREVIOUS_SECRET_KEYS, then run `crier admin rotate-key`",
            ));
        };
        let new = SecretKey::generate()?;
        let mut keys = vec![&new, &self.current];
        keys.extend(self.previous.iter());
        Self::write_file(path, &keys).map_err(|e| bad("CRIER_DATA_DIR", format!("cannot write {}: {e}", path.display())))?;
        let mut previous = vec![self.current];
        previous.extend(self.previous);
        Ok(Self { current: new, previous, source: self.source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn global() -> GlobalArgs {
        GlobalArgs {
            database_url: None,
            data_dir: "./.crier".into(),
            secret_key: None,
            previous_secret_keys: None,
            log_format: "pretty".into(),
        }
    }

    fn web(addr: &str, public_url: Option<&str>) -> WebArgs {
        WebArgs { addr: addr.into(), public_url: public_url.map(Into::into), ..WebArgs::default() }
    }

    #[test]
    fn trusted_proxies_take_addresses_and_ranges() {
        let mut args = web("127.0.0.1:3000", None);
        args.trusted_proxies = Some(" 10.0.0.0/8, 127.0.0.1 ,::1".into());
        let parsed = WebConfig::parse(&args).unwrap().trusted_proxies;
        assert_eq!(parsed.len(), 3);
        assert!(parsed[1].contains(&"127.0.0.1".parse::<std::net::IpAddr>().unwrap()));
        args.trusted_proxies = Some("10.0.0.0/8,proxy.internal".into());
        let err = WebConfig::parse(&args).unwrap_err();
        assert_eq!(err.variable, "CRIER_TRUSTED_PROXIES");
        assert!(err.problem.contains("proxy.internal"));
    }

    #[test]
    fn defaults_use_embedded_database_and_derive_public_url() {
        let config = Config::parse(&global()).unwrap();
        assert!(matches!(config.database, DatabaseSetting::Embedded));
        let web = WebConfig::parse(&web("127.0.0.1:0", None)).unwrap();
        assert_eq!(web.public_base("127.0.0.1:3456".parse().unwrap()), "http://127.0.0.1:3456", "the bound port, not 0");
        assert!(!web.cookies_secure());
    }

    #[test]
    fn bad_values_name_their_variable() {
        let err = WebConfig::parse(&web("localhost", None)).unwrap_err();
        assert_eq!(err.variable, "CRIER_ADDR");
        assert!(err.to_string().starts_with("CRIER_ADDR: `localhost` is not an address"));

        let err = WebConfig::parse(&web("127.0.0.1:3000", Some("ftp://x"))).unwrap_err();
        assert_eq!(err.variable, "CRIER_PUBLIC_URL");

        let mut args = global();
        args.log_format = "xml".into();
        assert_eq!(Config::parse(&args).unwrap_err().variable, "CRIER_LOG_FORMAT");

        let mut args = global();
        args.database_url = Some(SecretString::from("mysql://x/y".to_owned()));
        assert_eq!(Config::parse(&args).unwrap_err().variable, "DATABASE_URL");

        let mut args = global();
        args.secret_key = Some(SecretString::from(STANDARD.encode([1u8; 16])));
        let err = Config::parse(&args).unwrap_err();
        assert_eq!(err.variable, "CRIER_SECRET_KEY");
        assert!(err.problem.contains("16 bytes"), "{err}");
    }

    #[test]
    fn platform_settings_are_parsed_and_each_problem_names_its_variable() {
        let parse = |f: fn(&mut PlatformArgs)| {
            let mut args = PlatformArgs::default();
            f(&mut args);
            PlatformConfig::parse(&args)
        };
        let none = parse(|_| {}).unwrap();
        assert!(none.x.is_none() && none.linkedin.is_none() && none.meta.is_none() && none.sandbox.is_none());
        assert!(!none.any_real_app());

        let x = parse(|a| {
            a.x_client_id = Some(" abc ".into());
            a.x_client_secret = Some(SecretString::from("s3cret".to_owned()));
            a.x_api_url = Some("http://127.0.0.1:9/x".into());
            a.sandbox = Some("0".into());
            a.linkedin_version = Some("202604".into());
            a.meta_graph_version = Some("v25.0".into());
        })
        .unwrap();
        let app = x.x.as_ref().unwrap();
        assert_eq!((app.client_id.as_str(), app.api_url.as_ref().map(Url::as_str)), ("abc", Some("http://127.0.0.1:9/x")));
        assert_eq!(
            (x.sandbox, x.linkedin_version.as_deref(), x.meta_graph_version.as_deref()),
            (Some(false), Some("202604"), Some("v25.0"))
        );
        assert!(x.any_real_app());
        assert!(!format!("{x:?}").contains("s3cret"), "Debug hides the client secret");

        let variable = |f: fn(&mut PlatformArgs)| parse(f).unwrap_err().variable;
        assert_eq!(variable(|a| a.x_client_id = Some("id".into())), "CRIER_X_CLIENT_SECRET");
        assert_eq!(variable(|a| a.meta_client_secret = Some(SecretString::from("s".to_owned()))), "CRIER_META_CLIENT_ID");
        assert_eq!(variable(|a| a.linkedin_token_url = Some("ftp://x".into())), "CRIER_LINKEDIN_TOKEN_URL");
        assert_eq!(variable(|a| a.linkedin_version = Some("2026-01".into())), "CRIER_LINKEDIN_VERSION");
        assert_eq!(variable(|a| a.linkedin_version = Some("202613".into())), "CRIER_LINKEDIN_VERSION");
        assert_eq!(variable(|a| a.meta_graph_version = Some("26".into())), "CRIER_META_GRAPH_VERSION");
        assert_eq!(variable(|a| a.sandbox = Some("maybe".into())), "CRIER_SANDBOX");
    }

    #[test]
    fn metrics_and_readiness_settings_name_their_variable_and_hide_the_token() {
        let metrics = |token: Option<&str>, addr: Option<&str>| {
            MetricsConfig::parse(&MetricsArgs {
                metrics_token: token.map(|t| SecretString::from(t.to_owned())),
                metrics_addr: addr.map(Into::into),
            })
        };
        assert_eq!(metrics(Some("too-short"), None).unwrap_err().variable, "CRIER_METRICS_TOKEN");
        assert_eq!(metrics(None, Some("localhost:9100")).unwrap_err().variable, "CRIER_METRICS_ADDR");
        let parsed = metrics(Some(" a-long-enough-token "), Some("127.0.0.1:9100")).unwrap();
        assert_eq!(parsed.token.as_ref().map(|t| t.expose_secret().to_owned()).as_deref(), Some("a-long-enough-token"));
        assert_eq!(parsed.addr, Some("127.0.0.1:9100".parse().unwrap()));
        assert!(!format!("{parsed:?}").contains("a-long-enough-token"), "Debug hides the metrics token");
        let off = metrics(Some(""), Some(" ")).unwrap();
        assert!(off.token.is_none() && off.addr.is_none(), "empty means unset");
        assert_eq!(ReadinessArgs { max_queue_age_secs: 0 }.max_queue_age().unwrap_err().variable, "CRIER_READY_MAX_QUEUE_AGE");

        // `crier serve`: the worker settings reach what /readyz and the Status page report.
        let base = || WebConfig::parse(&web("127.0.0.1:0", None)).unwrap();
        let worker = WorkerArgs { x_budget: "10/1h".into(), stale_after_secs: 5, heartbeat_secs: 5, ..WorkerArgs::default() };
        let served = base().with_operations(&MetricsArgs::default(), &ReadinessArgs { max_queue_age_secs: 30 }, &worker).unwrap();
        let hourly = crier_domain::store::deliveries::Budget { limit: 10, window: Duration::from_secs(3600) };
        assert_eq!(served.operations.budgets.x, Some(hourly));
        assert_eq!(served.operations.readiness.stale_after, Duration::from_secs(10), "two heartbeats at least, as the workers take it");
        assert_eq!(served.operations.readiness.max_queue_age, Duration::from_secs(30));
        let bad = WorkerArgs { linkedin_budget: "lots".into(), ..WorkerArgs::default() };
        let err = base().with_operations(&MetricsArgs::default(), &ReadinessArgs::default(), &bad).unwrap_err();
        assert_eq!(err.variable, "CRIER_LINKEDIN_BUDGET");
    }

    #[test]
    fn webhook_settings_default_to_https_only_and_check_their_ranges() {
        let parsed = WebhookSettings::parse(&WebhookArgs::default()).unwrap();
        assert!(!parsed.allow_http);
        assert_eq!((parsed.retry.max_attempts, parsed.retry.first_retry_seconds), (8, 30));
        let on = WebhookSettings::parse(&WebhookArgs { allow_http: Some(" TRUE ".into()), ..WebhookArgs::default() }).unwrap();
        assert!(on.allow_http);
        let variable = |args: WebhookArgs| WebhookSettings::parse(&args).unwrap_err().variable;
        assert_eq!(variable(WebhookArgs { allow_http: Some("sometimes".into()), ..WebhookArgs::default() }), "CRIER_WEBHOOKS_ALLOW_HTTP");
        assert_eq!(variable(WebhookArgs { max_attempts: 0, ..WebhookArgs::default() }), "CRIER_WEBHOOKS_MAX_ATTEMPTS");
        assert_eq!(variable(WebhookArgs { retry_base_secs: 20_000, ..WebhookArgs::default() }), "CRIER_WEBHOOKS_RETRY_BASE");
    }

    #[test]
    fn https_public_url_makes_cookies_secure() {
        let web = WebConfig::parse(&web("127.0.0.1:3000", Some("https://crier.example.com/"))).unwrap();
        assert!(web.cookies_secure());
        assert_eq!(web.public_base("127.0.0.1:3000".parse().unwrap()), "https://crier.example.com");
    }

    #[test]
    fn external_database_requires_a_key() {
        let mut args = global();
        args.database_url = Some(SecretString::from("postgres://u:p@db/crier".to_owned()));
        let config = Config::parse(&args).unwrap();
        assert_eq!(KeyRing::resolve(&config).unwrap_err().variable, "CRIER_SECRET_KEY");
    }

    #[test]
    fn embedded_key_is_generated_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let mut args = global();
        args.data_dir = dir.path().to_owned();
        let config = Config::parse(&args).unwrap();
        let first = KeyRing::resolve(&config).unwrap();
        let second = KeyRing::resolve(&config).unwrap();
        assert_eq!(first.current.expose(), second.current.expose());
        assert!(first.previous.is_empty());
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("secret.key")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "only the owner may read the key");
        assert_eq!(format!("{:?}", first.current), "SecretKey([REDACTED])");

        // Rotation keeps the old key readable (on disk too) until it is dropped.
        let rotated = first.rotate_file().unwrap();
        let reread = KeyRing::resolve(&config).unwrap();
        assert_eq!(reread.current.expose(), rotated.current.expose());
        assert_eq!(reread.previous.len(), 1);
        assert_eq!(reread.previous[0].expose(), second.current.expose());
        assert_ne!(rotated.current.expose(), second.current.expose());
    }

    #[test]
    fn debug_output_hides_the_database_url_and_key() {
        let mut args = global();
        args.database_url = Some(SecretString::from("postgres://u:hunter2@db/crier".to_owned()));
        args.secret_key = Some(SecretString::from(STANDARD.encode([7u8; 32])));
        let config = Config::parse(&args).unwrap();
        let shown = format!("{config:?} {args:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains(&STANDARD.encode([7u8; 32])), "{shown}");
    }
}
