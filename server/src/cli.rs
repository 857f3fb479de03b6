//! The command line: `crier [serve|worker|migrate|admin ...]`.

use std::io::BufRead;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use secrecy::SecretString;

use crate::config::{
    Config, ConfigError, GlobalArgs, KeyRing, MetricsArgs, MetricsConfig, OutboundArgs, ReadinessArgs, WebArgs, WebConfig, WorkerArgs,
    WorkerConfig,
};
use crate::database::Database;
use crate::{admin, telemetry};

/// Crier schedules and publishes posts to X, LinkedIn and Facebook Pages.
///
/// With no subcommand, `crier` serves the web app and runs the worker pool (like `crier serve`).
/// Without DATABASE_URL it runs its own PostgreSQL in CRIER_DATA_DIR (the PostgreSQL server
/// binaries must be installed: `apt-get install postgresql`).
#[derive(Parser, Debug)]
#[command(
    name = "crier",
    version,
    propagate_version = true,
    args_conflicts_with_subcommands = true,
    after_long_help = "Also read from the environment:\n  RUST_LOG          log levels, tracing filter syntax (default: info), e.g. info,crier=debug\n  LEPTOS_SITE_ROOT  where the compiled site (wasm, JS, CSS) is served from (default: target/site)"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Options of the default command (`serve`).
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// The subcommands.
// Parsed once per process: the size of `Serve`'s flags does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the web app and run the worker pool in one process (the default).
    Serve(ServeArgs),
    /// Run the worker pool alone, to scale publishing out over several processes.
    Worker(WorkerCommandArgs),
    /// Apply the database migrations (Crier's and the job queue's), then exit.
    Migrate,
    /// Print whether this Crier can publish (the checks of GET /readyz): the database answers,
    /// its migrations are current, a worker heartbeats, nothing due waits too long. Exits 0 when
    /// ready, 1 when not. Starts nothing: with the embedded database, `crier serve` must be running.
    Status(StatusArgs),
    /// Operator commands.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Serve only the fake X, LinkedIn and Meta APIs (for tests, benchmarks and demos). Register
    /// apps with `POST /sandbox/control/{x,linkedin,meta}/apps`; see the crier-sandbox docs.
    Sandbox {
        /// Address to listen on.
        #[arg(long, env = "CRIER_SANDBOX_ADDR", default_value = "127.0.0.1:3100")]
        addr: String,
        /// The URL browsers reach it at (consent forms post there). Default: http://<addr>.
        #[arg(long = "public-url", env = "CRIER_SANDBOX_PUBLIC_URL")]
        public_url: Option<String>,
        /// A bearer token the control API then requires. Unset, the control API is open: a fake
        /// running alone, on loopback by default, for tests and benchmarks.
        #[arg(long = "control-token", env = "CRIER_SANDBOX_CONTROL_TOKEN", hide_env_values = true)]
        control_token: Option<SecretString>,
    },
    /// Measure publishing: start the sandbox platforms with a response latency, a fresh database,
    /// teams and X accounts, schedule posts, run the worker pool until everything is published, and
    /// print one JSON line (posts per second, lag percentiles, peak memory, CPU seconds, statements
    /// per delivery; with --baseline, the same burst through a minimal loop and the ratio). Uses a
    /// private embedded PostgreSQL unless DATABASE_URL is set (then a new database on that
    /// server, dropped after). Exits 1 if any post was lost, duplicated or failed. See BENCHMARKS.md.
    Bench(crate::bench::BenchArgs),
    /// Check a post's text for a platform: reads the text from standard input and prints one JSON
    /// line `{"platform","length","limit","valid"}` (the same rules the Compose page counts with).
    CheckText {
        /// x, linkedin or facebook.
        #[arg(long)]
        platform: String,
    },
}

/// `crier serve` options.
#[derive(clap::Args, Debug, Clone)]
pub struct ServeArgs {
    #[command(flatten)]
    pub web: WebArgs,
    /// Serve the web app only, without the worker pool (run `crier worker` elsewhere).
    #[arg(long = "no-worker")]
    pub no_worker: bool,
    #[command(flatten)]
    pub worker: WorkerArgs,
    #[command(flatten)]
    pub metrics: MetricsArgs,
    #[command(flatten)]
    pub readiness: ReadinessArgs,
    #[command(flatten)]
    pub outbound: OutboundArgs,
    #[command(flatten)]
    pub media: crate::config::MediaArgs,
}

/// `crier worker` options: the pool's, the platforms' apps and endpoints it publishes with, and
/// the networks its webhook calls may reach.
#[derive(clap::Args, Debug, Clone)]
pub struct WorkerCommandArgs {
    #[command(flatten)]
    pub worker: WorkerArgs,
    #[command(flatten)]
    pub platforms: crate::config::PlatformArgs,
    #[command(flatten)]
    pub metrics: MetricsArgs,
    #[command(flatten)]
    pub outbound: OutboundArgs,
    #[command(flatten)]
    pub media: crate::config::MediaArgs,
    /// The URL Crier's web app is reached at. Facebook fetches videos from a signed link under it,
    /// so without it a worker cannot publish a Facebook video.
    #[arg(long = "public-url", env = "CRIER_PUBLIC_URL")]
    pub public_url: Option<String>,
}

/// `crier status` options.
#[derive(clap::Args, Debug, Clone)]
pub struct StatusArgs {
    /// Print the checks as JSON (as GET /readyz answers them).
    #[arg(long)]
    pub json: bool,
    /// Seconds after which a silent worker no longer counts (as the workers are configured).
    #[arg(long = "stale-after", env = "CRIER_WORKER_STALE_AFTER", default_value_t = crier_publisher::engine::defaults::STALE_AFTER.as_secs())]
    pub stale_after_secs: u64,
    #[command(flatten)]
    pub readiness: ReadinessArgs,
}

/// `crier admin ...`
#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Create a person in a team. The team is created if it does not exist, and then its first
    /// person is its owner; otherwise the person joins with --role.
    CreateUser {
        /// The team's name (case-insensitive).
        #[arg(long)]
        team: String,
        /// The person's email address.
        #[arg(long)]
        email: String,
        /// Read the password from the first line of standard input (required: passwords never
        /// go on the command line, where `ps` and shell history would show them).
        #[arg(long = "password-stdin", required = true)]
        password_stdin: bool,
        /// Role when joining an existing team: admin, editor or viewer.
        #[arg(long, default_value = "editor")]
        role: String,
    },
    /// Create a team API token and print it once (only its hash is stored).
    CreateToken {
        /// The team's name (case-insensitive).
        #[arg(long)]
        team: String,
        /// A label to recognise the token by.
        #[arg(long)]
        name: String,
        /// The role the token acts with: admin, editor or viewer.
        #[arg(long, default_value = "editor")]
        role: String,
        /// Days until the token stops working (1 to 366); without it, the token works until revoked.
        #[arg(long = "expires-in-days")]
        expires_in_days: Option<i64>,
    },
    /// Re-encrypt every stored platform token and webhook signing secret under the current secret key. With the key file
    /// (embedded default) a new key is generated; with CRIER_SECRET_KEY, put the new key there and
    /// the old one in CRIER_PREVIOUS_SECRET_KEYS first. Stop running Crier processes first.
    RotateKey,
    /// Connect an X account from OAuth 1.0a keys in the environment: TWITTER_API_KEY,
    /// TWITTER_API_SECRET, TWITTER_ACCESS_TOKEN, TWITTER_ACCESS_TOKEN_SECRET. The keys are checked
    /// with X (who am I) before they are stored, encrypted.
    ImportEnv {
        /// The team's name (case-insensitive).
        #[arg(long)]
        team: String,
        /// X API base [default: https://api.x.com].
        #[arg(long = "x-api-url", env = "CRIER_X_API_URL")]
        x_api_url: Option<String>,
    },
    /// Import posts from a CSV file (the Import page's format and checks): every row is checked
    /// and, if none is wrong, all are scheduled in one transaction; rows imported before are
    /// skipped. Prints the report; exits 1 when nothing was imported because of problems.
    ImportCsv {
        /// The team's name (case-insensitive).
        #[arg(long)]
        team: String,
        /// The member the posts are imported as (their authorship, role for the team's approval
        /// rules, and timezone for the file's dates and times). Default: the team's first owner.
        #[arg(long = "as")]
        as_email: Option<String>,
        /// The CSV file.
        file: std::path::PathBuf,
        #[command(flatten)]
        import: crate::config::import::ImportArgs,
        #[command(flatten)]
        media_limits: crate::config::media::MediaLimitArgs,
    },
}

/// Runs the command line and turns failures into a message and an exit code: 2 for bad input or
/// configuration, 1 for everything else.
pub fn main(cli: Cli) -> ExitCode {
    crate::memory::few_malloc_arenas();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("crier: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::Config(e)) => {
            eprintln!("crier: configuration error: {e}");
            ExitCode::from(2)
        }
        Err(CliError::Usage(message)) => {
            eprintln!("crier: {message}");
            ExitCode::from(2)
        }
        Err(CliError::Failed(e)) => {
            eprintln!("crier: {e:#}");
            ExitCode::FAILURE
        }
        // `crier status` (or `crier admin import-csv`) printed why.
        Err(CliError::NotReady | CliError::Refused) => ExitCode::FAILURE,
    }
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A configuration value is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Input the person must correct.
    #[error("{0}")]
    Usage(String),
    /// Anything else.
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
    /// `crier status` found Crier not ready (and said why).
    #[error("not ready")]
    NotReady,
    /// `crier admin import-csv` imported nothing because of problems it printed.
    #[error("nothing imported")]
    Refused,
}

async fn run(cli: Cli) -> Result<(), CliError> {
    // Needs no configuration, database or logging: a pure function over standard input.
    if let Some(Command::CheckText { platform }) = &cli.command {
        return check_text(platform);
    }
    if let Some(Command::Sandbox { addr, public_url, control_token }) = &cli.command {
        use secrecy::ExposeSecret;
        telemetry::init(crate::config::LogFormat::Pretty);
        let token = control_token.as_ref().map(|t| t.expose_secret().trim().to_owned()).filter(|t| !t.is_empty());
        return crate::sandbox::serve_alone(addr, public_url.as_deref(), token, crate::shutdown_signal()).await;
    }
    let config = Config::parse(&cli.global)?;
    if let Some(Command::Bench(args)) = &cli.command {
        telemetry::init_with_default(config.log_format, "warn");
        return bench(args, &config).await;
    }
    telemetry::init(config.log_format);
    let command = cli.command.unwrap_or(Command::Serve(cli.serve));
    match command {
        Command::Serve(args) => {
            let mut worker = WorkerConfig::parse(&args.worker)?;
            let mut web = WebConfig::parse(&args.web)?.with_operations(&args.metrics, &args.readiness, &worker)?;
            // The worker's setting, which the web app's URL checks follow too (even with
            // --no-worker, so every process of one installation agrees).
            web.webhooks_allow_http = worker.webhooks.allow_http;
            // One rule for the form that adds an endpoint and the dispatcher that calls it.
            let outbound = crate::config::outbound::parse(&args.outbound)?;
            worker.outbound = outbound.clone();
            web.outbound = outbound;
            // One media store for the pages that upload and the worker that publishes.
            let media = crate::config::media::parse(&args.media, &config.data_dir)?;
            worker.media = media.clone();
            web.media = media;
            // Resolved before anything starts (generated on first run with the embedded database),
            // so a bad or missing key stops start-up.
            let keys = KeyRing::resolve(&config)?;
            let sandbox_default = matches!(config.database, crate::config::DatabaseSetting::Embedded);
            let database = Database::open(&config).await?;
            let result = async {
                let vault = keys.open_vault(&database.pool).await?;
                let worker = (!args.no_worker).then_some(worker);
                crate::serve(&database, web, std::sync::Arc::new(vault), sandbox_default, worker, crate::shutdown_signal()).await
            }
            .await;
            database.close().await;
            result.map_err(CliError::Failed)
        }
        Command::Worker(args) => {
            let keys = KeyRing::resolve(&config)?;
            let web = WebConfig::parse(&crate::config::WebArgs {
                platforms: args.platforms.clone(),
                public_url: args.public_url.clone(),
                ..Default::default()
            })?;
            let metrics = MetricsConfig::parse(&args.metrics)?;
            if metrics.addr.is_none() && metrics.token.is_some() {
                tracing::warn!("CRIER_METRICS_TOKEN is set without CRIER_METRICS_ADDR: a worker serves its metrics only on that address");
            }
            let worker = WorkerConfig {
                outbound: crate::config::outbound::parse(&args.outbound)?,
                media: crate::config::media::parse(&args.media, &config.data_dir)?,
                public_base: web.public_url.as_ref().map(|url| url.as_str().trim_end_matches('/').to_owned()),
                ..WorkerConfig::parse(&args.worker)?
            };
            let clients = crate::platforms::worker_clients(&web);
            let database = Database::open(&config).await?;
            let result = async {
                let vault = std::sync::Arc::new(keys.open_vault(&database.pool).await?);
                let accounts = std::sync::Arc::new(crier_accounts::Accounts::new(database.pool.clone(), vault.clone(), clients, None));
                let metrics = crate::web::metrics::MetricsServer::bind(database.pool.clone(), &metrics, worker.stale_after).await?;
                let stop = crate::fan_out(crate::shutdown_signal());
                let worker = crate::worker::run(database.pool.clone(), vault, accounts, worker, crate::stopped(stop.clone()));
                match metrics {
                    Some(metrics) => {
                        let (worker, metrics) = tokio::join!(worker, metrics.run_until(crate::stopped(stop)));
                        worker.and(metrics)
                    }
                    None => worker.await,
                }
            }
            .await;
            database.close().await;
            result.map_err(CliError::Failed)
        }
        Command::Status(args) => {
            if status(&config, &args).await? {
                Ok(())
            } else {
                Err(CliError::NotReady)
            }
        }
        Command::Migrate => {
            let database = Database::open(&config).await?;
            database.close().await;
            println!("crier: migrations are up to date");
            Ok(())
        }
        Command::CheckText { .. } | Command::Sandbox { .. } | Command::Bench(_) => unreachable!("handled before the other commands"),
        Command::Admin(admin) => {
            // Only the commands that touch secrets need the keys (and may generate the key file).
            let keys =
                matches!(admin, AdminCommand::RotateKey | AdminCommand::ImportEnv { .. }).then(|| KeyRing::resolve(&config)).transpose()?;
            let database = Database::open(&config).await?;
            let result = run_admin(&database, admin, keys).await;
            database.close().await;
            result
        }
    }
}

async fn run_admin(database: &Database, command: AdminCommand, keys: Option<KeyRing>) -> Result<(), CliError> {
    match command {
        AdminCommand::CreateUser { team, email, password_stdin: _, role } => {
            let password = read_password_line()?;
            let outcome = admin::create_user(&database.pool, &team, &email, password, &role).await?;
            println!("{outcome}");
        }
        AdminCommand::CreateToken { team, name, role, expires_in_days } => {
            let token = admin::create_token(&database.pool, &team, &name, &role, expires_in_days).await?;
            // The token alone on stdout, so scripts can capture it; the explanation on stderr.
            eprintln!("crier: created API token “{name}” for team “{team}”. It is shown once; store it now.");
            println!("{token}");
        }
        AdminCommand::RotateKey => {
            let keys = keys.expect("resolved for rotate-key");
            println!("crier: {}", admin::rotate_key(&database.pool, keys).await?);
        }
        AdminCommand::ImportEnv { team, x_api_url } => {
            let keys = keys.expect("resolved for import-env");
            println!("crier: {}", admin::import_env(&database.pool, keys, &team, x_api_url.as_deref()).await?);
        }
        AdminCommand::ImportCsv { team, as_email, file, import, media_limits } => {
            let limits = import.parse()?;
            let rules = crier_domain::post::MediaRules(media_limits.parse()?);
            let report = admin::import_csv(&database.pool, &team, as_email.as_deref(), &file, limits, &rules).await?;
            println!("crier: {}", report.summary());
            for problem in &report.problems {
                println!("  {problem}");
            }
            if report.more_problems > 0 {
                println!("  …and {} more", report.more_problems);
            }
            if !report.is_imported() {
                return Err(CliError::Refused);
            }
        }
    }
    Ok(())
}

/// `crier status`: reads the readiness checks from the database without starting or migrating
/// anything, prints them, and answers whether every one passed.
async fn status(config: &Config, args: &StatusArgs) -> Result<bool, CliError> {
    use std::str::FromStr;

    use crier_domain::store::status::{self, ReadinessLimits, Verdict};
    use secrecy::ExposeSecret;
    use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

    let url = match &config.database {
        crate::config::DatabaseSetting::External(url) => url.expose_secret().to_owned(),
        // The cluster `crier serve` runs: looked at, never started (or stopped) from here.
        crate::config::DatabaseSetting::Embedded => crier_embedded_pg::database_url_for_data_dir(&config.data_dir)
            .map_err(|e| CliError::Failed(anyhow::anyhow!("cannot locate the embedded PostgreSQL: {e}")))?,
    };
    let options = PgConnectOptions::from_str(&url).map_err(|_| CliError::Usage("DATABASE_URL could not be parsed".into()))?;
    // Lazy: a database that does not answer is a failing check to print, not an error.
    let pool = PgPoolOptions::new().max_connections(2).acquire_timeout(std::time::Duration::from_secs(5)).connect_lazy_with(options);
    let limits = ReadinessLimits {
        stale_after: std::time::Duration::from_secs(args.stale_after_secs.max(1)),
        max_queue_age: args.readiness.max_queue_age()?,
    };
    let (readiness, snapshot) = status::readiness(&pool, limits, status::Waiting::Count).await;
    pool.close().await;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&readiness).map_err(|e| CliError::Failed(e.into()))?);
        return Ok(readiness.ready);
    }
    match readiness.ready {
        true => println!("crier: ready"),
        false => println!("crier: not ready ({})", readiness.failing.join(", ")),
    }
    for check in &readiness.checks {
        let verdict = match check.verdict {
            Verdict::Pass => "ok",
            Verdict::Fail => "FAIL",
            Verdict::Skipped => "skipped",
        };
        println!("  {:<11}{verdict:<8}{}", check.name, check.detail);
    }
    let embedded = matches!(config.database, crate::config::DatabaseSetting::Embedded);
    if embedded && readiness.failing.contains(&"database") {
        println!("(the embedded PostgreSQL runs while `crier serve` does: is it running with this CRIER_DATA_DIR?)");
    }
    if let Some(s) = snapshot {
        println!(
            "queue: {} due, {} waiting, {} publishing, {} held; {} worker(s) heartbeating",
            s.due,
            s.waiting.unwrap_or_default(),
            s.publishing,
            s.held,
            s.fresh_workers
        );
    }
    Ok(readiness.ready)
}

/// `crier bench`: the JSON line on stdout; exit code 1 when a post was lost, duplicated or failed.
async fn bench(args: &crate::bench::BenchArgs, config: &Config) -> Result<(), CliError> {
    args.check().map_err(CliError::Usage)?;
    let database_url = match &config.database {
        crate::config::DatabaseSetting::External(url) => Some(url),
        crate::config::DatabaseSetting::Embedded => None,
    };
    let report = crate::bench::run(args, database_url).await?;
    println!("{}", serde_json::to_string(&report).map_err(|e| CliError::Failed(e.into()))?);
    if !report.intact() {
        return Err(CliError::Failed(anyhow::anyhow!("some posts were lost, duplicated or failed (see the JSON line)")));
    }
    Ok(())
}

fn check_text(platform: &str) -> Result<(), CliError> {
    use std::io::Read;
    let platform: crier_platform::Platform = platform.parse().map_err(|e| CliError::Usage(format!("--platform: {e}")))?;
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text).map_err(|e| CliError::Usage(format!("cannot read the text from standard input: {e}")))?;
    // A trailing newline from `echo` or a file is not part of the post.
    let text = text.strip_suffix('\n').map(|t| t.strip_suffix('\r').unwrap_or(t)).unwrap_or(&text);
    let check = crier_text::check(platform, text);
    println!("{}", serde_json::to_string(&check).map_err(|e| CliError::Failed(e.into()))?);
    Ok(())
}

fn read_password_line() -> Result<SecretString, CliError> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| CliError::Usage(format!("cannot read the password from standard input: {e}")))?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    if password.is_empty() {
        return Err(CliError::Usage(
            "--password-stdin: standard input was empty; pipe the password in, e.g. `printf '%s\\n' \"$PW\" | crier admin create-user ...`"
                .into(),
        ));
    }
    Ok(SecretString::from(password))
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    /// Every environment variable a command reads (its hidden aliases left out).
    fn settings(command: &clap::Command, into: &mut std::collections::BTreeSet<String>) {
        for arg in command.get_arguments().filter(|a| !a.is_hide_set()) {
            if let Some(env) = arg.get_env() {
                into.insert(env.to_string_lossy().into_owned());
            }
        }
        for sub in command.get_subcommands() {
            settings(sub, into);
        }
    }

    /// Expands the README's shorthand `CRIER_{X,LINKEDIN}_{A,B}` into every name it stands for.
    fn expand(pattern: &str) -> Vec<String> {
        match pattern.find('{') {
            None => vec![pattern.to_owned()],
            Some(open) => {
                let close = open + pattern[open..].find('}').expect("a closing brace");
                pattern[open + 1..close]
                    .split(',')
                    .flat_map(|choice| expand(&format!("{}{choice}{}", &pattern[..open], &pattern[close + 1..])))
                    .collect()
            }
        }
    }

    #[test]
    fn every_setting_in_the_help_is_in_the_readme_table_and_in_env_example() {
        let mut all = std::collections::BTreeSet::new();
        settings(&Cli::command(), &mut all);
        assert!(all.len() > 30, "the settings are found: {all:?}");
        let readme = include_str!("../../README.md");
        // The names are in a row's first cell; the others hold values and examples (JSON with braces
        // of its own), which are not names.
        let table: std::collections::BTreeSet<String> = readme
            .lines()
            .filter(|line| line.starts_with("| `"))
            .filter_map(|line| line.split('|').nth(1))
            .flat_map(|cell| cell.split('`').skip(1).step_by(2).flat_map(|name| name.split(", ").flat_map(expand)).collect::<Vec<_>>())
            .collect();
        let example = include_str!("../../.env.example");
        let missing_readme: Vec<_> = all.iter().filter(|name| !table.contains(*name)).collect();
        let missing_example: Vec<_> = all.iter().filter(|name| !example.contains(&format!("{name}="))).collect();
        assert!(missing_readme.is_empty(), "settings missing from the README's configuration table: {missing_readme:?}");
        assert!(missing_example.is_empty(), "settings missing from .env.example: {missing_example:?}");
    }

    #[test]
    fn the_readme_shorthand_expands_to_every_name() {
        assert_eq!(expand("CRIER_{X,LINKEDIN}_{ID,URL}"), ["CRIER_X_ID", "CRIER_X_URL", "CRIER_LINKEDIN_ID", "CRIER_LINKEDIN_URL"]);
        assert_eq!(expand("CRIER_ADDR"), ["CRIER_ADDR"]);
    }
}
