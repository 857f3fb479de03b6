//! Typed configuration, parsed once from flags and environment variables.
//!
//! clap collects the raw strings (so `--help` lists every variable); this module parses them into
//! types, and a bad value stops startup with a message naming the variable and what is wrong.

pub mod feeds;
pub mod import;
mod keys;
pub mod media;
pub mod notify;
pub mod outbound;
mod platforms;
mod worker;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use crier_domain::budget::Budget;
use crier_domain::store::status::{Operations, ReadinessLimits};
use crier_domain::store::teams::SignUpPolicy;
use crier_domain::store::throttle::{AddressLimits, Costly};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

pub use crier_publisher::FacebookVideoRoute;
pub use keys::{KeyRing, KeySource, SecretKey};
pub use media::{MediaArgs, MediaConfig};
pub use outbound::OutboundArgs;
pub use platforms::{AppArgs, OAuthAppConfig, PlatformArgs, PlatformConfig};
pub use worker::{
    BudgetArgs, CountedSetting, MediaCallsCounted, PostsCounted, WebhookArgs, WebhookSettings, WorkerArgs, WorkerConfig, budget_variable,
};

/// Where Crier keeps its files unless CRIER_DATA_DIR says otherwise.
pub const DEFAULT_DATA_DIR: &str = "./.crier";

/// Settings shared by every subcommand. Each flag also reads the environment variable named in
/// its help; the README's configuration table lists the same.
#[derive(Args, Clone, Debug)]
pub struct GlobalArgs {
    /// PostgreSQL URL. Unset: Crier runs its own PostgreSQL in CRIER_DATA_DIR/pg from the
    /// installed PostgreSQL binaries.
    #[arg(long = "database-url", env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<SecretString>,

    /// Where Crier keeps its files: the embedded PostgreSQL cluster and the generated secret key.
    #[arg(long = "data-dir", env = "CRIER_DATA_DIR", global = true, default_value = DEFAULT_DATA_DIR)]
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

/// REST API requests per token and window, unless configured.
pub const DEFAULT_API_RATE_LIMIT: &str = "600/1m";

/// The largest account profile picture fetched, unless configured: the platforms' are a few KB.
pub const DEFAULT_ACCOUNT_PICTURE_MAX_SIZE: &str = "1MiB";

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

    /// Who may create a team by signing up: `open` (anyone who reaches Crier) or `invite-only`
    /// (people join by invitation; `crier admin create-user` still works). Default: the very first
    /// team of a fresh instance may sign up, then it is invite-only, unless the sandbox is on (open).
    #[arg(long = "signup", env = "CRIER_SIGNUP")]
    pub signup: Option<String>,

    /// Sign-ups per client address (an IPv6 /64 counts as one) and window: `10/1h` (per s, m, h or
    /// d), or `none`.
    #[arg(long = "signup-rate-limit", env = "CRIER_SIGNUP_RATE_LIMIT")]
    pub signup_rate_limit: Option<String>,

    /// Invite acceptances per client address and window: `20/1h`, or `none`.
    #[arg(long = "invite-rate-limit", env = "CRIER_INVITE_RATE_LIMIT")]
    pub invite_rate_limit: Option<String>,

    /// REST API requests each API token may make: `600/1m` (per s, m, h or d), or `none`. Over
    /// it, requests answer 429 with Retry-After. Counted in PostgreSQL, so every web process shares the count.
    #[arg(long = "api-rate-limit", env = "CRIER_API_RATE_LIMIT", default_value = DEFAULT_API_RATE_LIMIT)]
    pub api_rate_limit: String,

    /// The largest account profile picture Crier fetches and keeps (fetched when an account is
    /// connected or verified; a larger one is not stored): `1MiB` (KB, MB are powers of 1000;
    /// KiB, MiB of 1024), 5MiB at most.
    #[arg(long = "account-picture-max-size", env = "CRIER_ACCOUNT_PICTURE_MAX_SIZE", default_value = DEFAULT_ACCOUNT_PICTURE_MAX_SIZE)]
    pub account_picture_max_size: String,

    #[command(flatten)]
    pub platforms: PlatformArgs,

    #[command(flatten)]
    pub notify: notify::NotifyArgs,

    #[command(flatten)]
    pub import: import::ImportArgs,

    #[command(flatten)]
    pub feeds: feeds::FeedsArgs,
}

impl Default for WebArgs {
    /// The values the command line defaults to (tests override what they need).
    fn default() -> Self {
        WebArgs {
            addr: "127.0.0.1:3000".into(),
            public_url: None,
            trusted_proxies: None,
            signup: None,
            signup_rate_limit: None,
            invite_rate_limit: None,
            api_rate_limit: DEFAULT_API_RATE_LIMIT.into(),
            account_picture_max_size: DEFAULT_ACCOUNT_PICTURE_MAX_SIZE.into(),
            platforms: PlatformArgs::default(),
            notify: notify::NotifyArgs::default(),
            import: import::ImportArgs::default(),
            feeds: feeds::FeedsArgs::default(),
        }
    }
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
    #[arg(long = "ready-max-queue-age", env = "CRIER_READY_MAX_QUEUE_AGE", default_value_t = ReadinessLimits::DEFAULT_MAX_QUEUE_AGE.as_secs())]
    pub max_queue_age_secs: u64,
}

impl Default for ReadinessArgs {
    /// The command line's default.
    fn default() -> Self {
        ReadinessArgs { max_queue_age_secs: ReadinessLimits::DEFAULT_MAX_QUEUE_AGE.as_secs() }
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

/// An on/off variable: `1`, `true`, `yes`, `on` or `0`, `false`, `no`, `off` (`None` when unset).
fn parse_switch(variable: &'static str, raw: Option<&str>) -> Result<Option<bool>, ConfigError> {
    match raw.map(|v| v.trim().to_ascii_lowercase()).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) if matches!(v.as_str(), "1" | "true" | "yes" | "on") => Ok(Some(true)),
        Some(v) if matches!(v.as_str(), "0" | "false" | "no" | "off") => Ok(Some(false)),
        Some(v) => Err(bad(variable, format!("is `{v}`; use 1 or 0"))),
    }
}

/// A configuration value that cannot be used; the message names the variable.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    /// The environment variable (and flag) at fault.
    pub variable: String,
    /// What is wrong and how to fix it.
    pub problem: String,
}

fn bad(variable: impl Into<String>, problem: impl Into<String>) -> ConfigError {
    ConfigError { variable: variable.into(), problem: problem.into() }
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
    /// CRIER_SIGNUP when given (`None`: the first team only, or open with the sandbox; see
    /// [`WebConfig::sign_up_policy`]).
    pub signup: Option<SignUpPolicy>,
    /// Sign-ups and invite acceptances per client address.
    pub address_limits: AddressLimits,
    /// Requests per API token and window (`None`: unlimited).
    pub api_rate_limit: Option<Budget>,
    /// Where `/metrics` is served (not at all by default).
    pub metrics: MetricsConfig,
    /// The workers' budgets and the readiness limits, as `/readyz` and the Status page use them
    /// (defaults until the command line's worker settings are applied with [`WebConfig::with_operations`]).
    pub operations: Operations,
    /// Whether webhook endpoints may be plain http:// (CRIER_WEBHOOKS_ALLOW_HTTP, a worker
    /// setting that `serve` copies here; off unless set).
    pub webhooks_allow_http: bool,
    /// Which addresses URLs teams give may have (CRIER_OUTBOUND_ALLOW_NETWORKS, which `serve`
    /// parses and copies here and to the worker; public ones only unless set).
    pub outbound: crier_outbound::AddressPolicy,
    /// Where media files are and how large they may be (CRIER_MEDIA_*, parsed with the data
    /// directory by [`media::parse`] and set by the command; the default data directory's until then).
    pub media: MediaConfig,
    /// The largest account profile picture fetched and kept (CRIER_ACCOUNT_PICTURE_MAX_SIZE).
    pub account_picture_max_bytes: usize,
    /// Emails and how notifications gather (CRIER_SMTP_*, CRIER_NOTIFY_GATHER).
    pub notify: notify::NotifyConfig,
    /// The limits of a CSV import (CRIER_IMPORT_MAX_ROWS, CRIER_IMPORT_MAX_FILE_SIZE).
    pub import: crier_domain::import::ImportLimits,
    /// How often one feed is polled at most (CRIER_FEEDS_MIN_INTERVAL), and how often the
    /// poller looks for due feeds (a minute; tests make it rare and poll themselves).
    pub feeds: FeedsPolling,
}

/// How the web process polls feeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FeedsPolling {
    /// A feed is polled at most once in this long.
    pub min_interval: Duration,
    /// How often the poller looks for due feeds.
    pub tick: Duration,
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
        let api_rate_limit = Budget::parse(&args.api_rate_limit).map_err(|_| {
            bad(
                "CRIER_API_RATE_LIMIT",
                format!("`{}` is not a limit like 600/1m (requests per s, m, h or d) or `none`", args.api_rate_limit),
            )
        })?;
        let signup = match args.signup.as_deref().map(|s| s.trim().to_ascii_lowercase()).filter(|s| !s.is_empty()).as_deref() {
            None => None,
            Some("open") => Some(SignUpPolicy::Open),
            Some("invite-only") => Some(SignUpPolicy::InviteOnly),
            Some(other) => return Err(bad("CRIER_SIGNUP", format!("is `{other}`; use `open` or `invite-only`"))),
        };
        let limit = |variable: &str, raw: &Option<String>, default: Budget| match raw.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
            None => Ok(Some(default)),
            Some(raw) => match Budget::parse(raw).map_err(|problem| bad(variable, problem))? {
                // Housekeeping forgets attempts after a day.
                Some(b) if b.window > Duration::from_secs(86_400) => Err(bad(variable, format!("`{raw}`: use a window of a day at most"))),
                parsed => Ok(parsed),
            },
        };
        let address_limits = AddressLimits {
            sign_up: limit("CRIER_SIGNUP_RATE_LIMIT", &args.signup_rate_limit, Costly::SignUp.default_limit())?,
            invite_acceptance: limit("CRIER_INVITE_RATE_LIMIT", &args.invite_rate_limit, Costly::InviteAcceptance.default_limit())?,
        };
        let account_picture_max_bytes = media::parse_size(&args.account_picture_max_size)
            .map_err(|e| bad("CRIER_ACCOUNT_PICTURE_MAX_SIZE", e))
            .and_then(|bytes| match usize::try_from(bytes) {
                Ok(bytes) if bytes <= crier_domain::store::account_pictures::MAX_PICTURE_BYTES => Ok(bytes),
                _ => Err(bad("CRIER_ACCOUNT_PICTURE_MAX_SIZE", format!("`{}` is more than 5MiB", args.account_picture_max_size))),
            })?;
        Ok(Self {
            account_picture_max_bytes,
            notify: notify::parse(&args.notify)?,
            import: args.import.parse()?,
            feeds: FeedsPolling { min_interval: args.feeds.parse()?, tick: Duration::from_secs(60) },
            addr,
            public_url,
            trusted_proxies,
            signup,
            address_limits,
            platforms,
            api_rate_limit,
            metrics: MetricsConfig::default(),
            operations: Operations::default(),
            webhooks_allow_http: false,
            outbound: crier_outbound::AddressPolicy::strict(),
            media: MediaConfig::in_data_dir(std::path::Path::new(DEFAULT_DATA_DIR)),
        })
    }

    /// With `crier serve`'s metrics, readiness and worker settings: the budgets and heartbeat
    /// staleness are the worker's even with `--no-worker`, since this process reports on workers
    /// started with the same settings.
    pub fn with_operations(self, metrics: &MetricsArgs, readiness: &ReadinessArgs, worker: &WorkerConfig) -> Result<Self, ConfigError> {
        let readiness = ReadinessLimits { stale_after: worker.stale_after, max_queue_age: readiness.max_queue_age()? };
        let operations = Operations { budgets: worker.budgets, media_budgets: worker.media_budgets, readiness };
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

    /// Who may sign up: CRIER_SIGNUP when given; otherwise open while the sandbox is on (a demo or a
    /// trial), else the first team only.
    pub fn sign_up_policy(&self, sandbox_on: bool) -> SignUpPolicy {
        self.signup.unwrap_or(if sandbox_on { SignUpPolicy::Open } else { SignUpPolicy::FirstTeamOnly })
    }

    /// Whether cookies must be Secure (the site is served over https).
    pub fn cookies_secure(&self) -> bool {
        self.public_url.as_ref().is_some_and(|url| url.scheme() == "https")
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    use super::*;

    fn global() -> GlobalArgs {
        GlobalArgs {
            database_url: None,
            data_dir: DEFAULT_DATA_DIR.into(),
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
        let mut worker = WorkerArgs { stale_after_secs: 5, heartbeat_secs: 5, ..WorkerArgs::default() };
        worker.budgets.0[crier_platform::Platform::X] = "10/1h".into();
        let worker = WorkerConfig::parse(&worker).unwrap();
        let served = base().with_operations(&MetricsArgs::default(), &ReadinessArgs { max_queue_age_secs: 30 }, &worker).unwrap();
        let hourly = Budget { limit: 10, window: Duration::from_secs(3600) };
        assert_eq!(served.operations.budgets[crier_platform::Platform::X], Some(hourly));
        assert_eq!(served.operations.readiness.stale_after, Duration::from_secs(10), "two heartbeats at least, as the workers take it");
        assert_eq!(served.operations.readiness.max_queue_age, Duration::from_secs(30));
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
    fn the_account_picture_cap_is_a_size_of_5mib_at_most() {
        assert_eq!(WebConfig::parse(&web("127.0.0.1:3000", None)).unwrap().account_picture_max_bytes, 1024 * 1024);
        let mut args = web("127.0.0.1:3000", None);
        args.account_picture_max_size = "200KB".into();
        assert_eq!(WebConfig::parse(&args).unwrap().account_picture_max_bytes, 200_000);
        for bad in ["6MiB", "big"] {
            args.account_picture_max_size = bad.into();
            assert_eq!(WebConfig::parse(&args).unwrap_err().variable, "CRIER_ACCOUNT_PICTURE_MAX_SIZE", "{bad}");
        }
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
