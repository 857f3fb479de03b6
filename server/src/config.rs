//! Typed configuration, parsed once from flags and environment variables.
//!
//! clap collects the raw strings (so `--help` lists every variable); this module parses them into
//! types, and a bad value stops startup with a message naming the variable and what is wrong.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use clap::Args;
use secrecy::{ExposeSecret, SecretBox, SecretString};
use url::Url;

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
    /// The secret key given in CRIER_SECRET_KEY, if any (see [`SecretKey::resolve`]).
    pub secret_key: Option<SecretKey>,
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
        let secret_key = args.secret_key.as_ref().map(|key| SecretKey::parse(key.expose_secret(), "CRIER_SECRET_KEY")).transpose()?;
        let log_format = match args.log_format.trim().to_ascii_lowercase().as_str() {
            "pretty" => LogFormat::Pretty,
            "json" => LogFormat::Json,
            other => return Err(bad("CRIER_LOG_FORMAT", format!("is `{other}`; use `pretty` or `json`"))),
        };
        Ok(Self { database, data_dir: args.data_dir.clone(), secret_key, log_format })
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
        Ok(Self { addr, public_url, trusted_proxies })
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

/// The 32-byte key that encrypts secrets at rest (used by the token vault).
pub struct SecretKey(SecretBox<[u8; 32]>);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey([REDACTED])")
    }
}

impl SecretKey {
    const FILE_NAME: &'static str = "secret.key";

    fn parse(encoded: &str, source: &'static str) -> Result<Self, ConfigError> {
        let bytes = STANDARD
            .decode(encoded.trim())
            .map_err(|_| bad(source, "is not base64; generate a key with `head -c 32 /dev/urandom | base64`"))?;
        let key: [u8; 32] =
            bytes.try_into().map_err(|b: Vec<u8>| bad(source, format!("decodes to {} bytes; it must be exactly 32", b.len())))?;
        Ok(Self(SecretBox::new(Box::new(key))))
    }

    /// The key bytes.
    pub fn expose(&self) -> &[u8; 32] {
        self.0.expose_secret()
    }

    /// The key to use: CRIER_SECRET_KEY when given; with the embedded database, the one kept in
    /// the data dir (generated on first run); with DATABASE_URL and no key, an error, because a
    /// key generated on one machine would leave the others unable to decrypt.
    pub fn resolve(config: &Config) -> Result<Self, ConfigError> {
        if let Some(key) = &config.secret_key {
            return Ok(Self(SecretBox::new(Box::new(*key.expose()))));
        }
        if let DatabaseSetting::External(_) = config.database {
            return Err(bad(
                "CRIER_SECRET_KEY",
                "is required when DATABASE_URL is set; generate one with `head -c 32 /dev/urandom | base64`",
            ));
        }
        Self::load_or_create(&config.data_dir)
    }

    fn load_or_create(data_dir: &Path) -> Result<Self, ConfigError> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;

        let path = data_dir.join(Self::FILE_NAME);
        match std::fs::read_to_string(&path) {
            Ok(encoded) => return Self::parse(&encoded, "CRIER_DATA_DIR"),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(bad("CRIER_DATA_DIR", format!("cannot read {}: {e}", path.display()))),
        }
        std::fs::create_dir_all(data_dir).map_err(|e| bad("CRIER_DATA_DIR", format!("cannot create {}: {e}", data_dir.display())))?;
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| bad("CRIER_SECRET_KEY", format!("no randomness to generate a key: {e}")))?;
        // create_new: two processes starting at once cannot overwrite each other's key; the loser
        // reads the winner's.
        match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path) {
            Ok(mut file) => {
                file.write_all(STANDARD.encode(key).as_bytes())
                    .map_err(|e| bad("CRIER_DATA_DIR", format!("cannot write {}: {e}", path.display())))?;
                Ok(Self(SecretBox::new(Box::new(key))))
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Self::load_or_create(data_dir),
            Err(e) => Err(bad("CRIER_DATA_DIR", format!("cannot write {}: {e}", path.display()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn global() -> GlobalArgs {
        GlobalArgs { database_url: None, data_dir: "./.crier".into(), secret_key: None, log_format: "pretty".into() }
    }

    fn web(addr: &str, public_url: Option<&str>) -> WebArgs {
        WebArgs { addr: addr.into(), public_url: public_url.map(Into::into), trusted_proxies: None }
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
        assert_eq!(SecretKey::resolve(&config).unwrap_err().variable, "CRIER_SECRET_KEY");
    }

    #[test]
    fn embedded_key_is_generated_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let mut args = global();
        args.data_dir = dir.path().to_owned();
        let config = Config::parse(&args).unwrap();
        let first = SecretKey::resolve(&config).unwrap();
        let second = SecretKey::resolve(&config).unwrap();
        assert_eq!(first.expose(), second.expose());
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("secret.key")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "only the owner may read the key");
        assert_eq!(format!("{first:?}"), "SecretKey([REDACTED])");
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
