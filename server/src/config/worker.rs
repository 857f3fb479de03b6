//! The worker pool's settings: the publishing engine's (concurrency, batches, budgets, heartbeats,
//! shutdown) and the webhook dispatcher's. Their defaults are the engine's and the dispatcher's own
//! constants, written once there; `crier serve` parses them too (its `/readyz` and Status page
//! report on workers started with the same settings).

use std::time::Duration;

use clap::{Arg, ArgAction, ArgMatches, Args, Command, FromArgMatches};
use std::marker::PhantomData;

use crier_domain::budget::{Budget, Budgets, Counted};
use crier_domain::retry::{ATTEMPTS, FIRST_RETRY_SECONDS, RetryPolicy};
use crier_platform::{PerPlatform, Platform};
use crier_publisher::PublisherConfig;
use crier_publisher::engine::defaults as engine;
use crier_publisher::webhooks::{self, WebhookConfig};

use super::{ConfigError, bad, parse_switch};

/// Worker pool options (`crier worker`, and `crier serve` unless `--no-worker`).
#[derive(Args, Debug, Clone)]
pub struct WorkerArgs {
    /// Publishes one worker process makes at once.
    #[arg(long = "concurrency", env = "CRIER_WORKER_CONCURRENCY", default_value_t = engine::CONCURRENCY)]
    pub concurrency: usize,
    /// Deliveries claimed per database statement at most.
    #[arg(long = "batch-size", env = "CRIER_WORKER_BATCH_SIZE", default_value_t = engine::BATCH_SIZE)]
    pub batch_size: usize,
    #[command(flatten)]
    pub budgets: BudgetArgs,
    #[command(flatten)]
    pub media_budgets: BudgetArgs<MediaCallsCounted>,
    /// Seconds between a worker's heartbeats; a worker silent for --stale-after seconds is taken
    /// for dead and its claims are put back for a reconciled retry.
    #[arg(long = "heartbeat", env = "CRIER_WORKER_HEARTBEAT", default_value_t = engine::HEARTBEAT.as_secs())]
    pub heartbeat_secs: u64,
    /// See --heartbeat.
    #[arg(long = "stale-after", env = "CRIER_WORKER_STALE_AFTER", default_value_t = engine::STALE_AFTER.as_secs())]
    pub stale_after_secs: u64,
    /// Seconds in-flight publishes (and webhook calls) may take to finish on shutdown.
    #[arg(long = "shutdown-grace", env = "CRIER_WORKER_SHUTDOWN_GRACE", default_value_t = engine::SHUTDOWN_GRACE.as_secs())]
    pub shutdown_grace_secs: u64,
    #[command(flatten)]
    pub webhooks: WebhookArgs,
}

impl Default for WorkerArgs {
    /// The command line's defaults.
    fn default() -> Self {
        WorkerArgs {
            concurrency: engine::CONCURRENCY,
            batch_size: engine::BATCH_SIZE,
            budgets: BudgetArgs::default(),
            media_budgets: BudgetArgs::default(),
            heartbeat_secs: engine::HEARTBEAT.as_secs(),
            stale_after_secs: engine::STALE_AFTER.as_secs(),
            shutdown_grace_secs: engine::SHUTDOWN_GRACE.as_secs(),
            webhooks: WebhookArgs::default(),
        }
    }
}

/// What a [`BudgetArgs`] counts, as a type (clap builds the arguments before any value exists).
pub trait CountedSetting: Clone + std::fmt::Debug + Send + Sync + 'static {
    /// What is counted.
    const COUNTED: Counted;
}

/// Posts: `CRIER_X_BUDGET`…
#[derive(Clone, Debug)]
pub struct PostsCounted;

impl CountedSetting for PostsCounted {
    const COUNTED: Counted = Counted::Posts;
}

/// Media upload calls: `CRIER_X_MEDIA_BUDGET`…
#[derive(Clone, Debug)]
pub struct MediaCallsCounted;

impl CountedSetting for MediaCallsCounted {
    const COUNTED: Counted = Counted::MediaCalls;
}

/// Crier's own per-account budget of each platform, one setting per platform generated from
/// [`Platform::ALL`] (`CRIER_X_BUDGET`, `CRIER_LINKEDIN_BUDGET`… for posts;
/// `CRIER_X_MEDIA_BUDGET`… for media upload calls), as `CALLS/WINDOW` or `none`; the defaults
/// are [`Counted::default_budget`]'s.
#[derive(Clone, Debug)]
pub struct BudgetArgs<K: CountedSetting = PostsCounted>(pub PerPlatform<String>, PhantomData<K>);

impl<K: CountedSetting> Default for BudgetArgs<K> {
    fn default() -> Self {
        BudgetArgs(PerPlatform::from_fn(|p| Budget::describe(K::COUNTED.default_budget(p))), PhantomData)
    }
}

/// `CRIER_X_BUDGET`, `CRIER_X_MEDIA_BUDGET`.
pub fn budget_variable(counted: Counted, platform: Platform) -> String {
    format!("{}_{}", platform.settings_prefix(), budget_name(counted).to_uppercase().replace('-', "_"))
}

/// `budget`, `media-budget`: the flag's and the variable's last word(s).
fn budget_name(counted: Counted) -> &'static str {
    match counted {
        Counted::Posts => "budget",
        Counted::MediaCalls => "media-budget",
    }
}

impl<K: CountedSetting> Args for BudgetArgs<K> {
    fn augment_args(mut cmd: Command) -> Command {
        for platform in Platform::ALL {
            let variable = budget_variable(K::COUNTED, platform);
            let label = platform.label();
            cmd = cmd.arg(
                Arg::new(variable.clone())
                    .long(format!("{}-{}", platform.as_str(), budget_name(K::COUNTED)))
                    .env(variable)
                    .action(ArgAction::Set)
                    .value_name("CALLS/WINDOW")
                    .default_value(Budget::describe(K::COUNTED.default_budget(platform)))
                    .help(format!(
                        "Crier's own {} per {label} account and window (s, m, h or d), so it waits before {label} refuses; `none` \
                         relies on the platform's rate-limit headers alone.",
                        K::COUNTED.noun(),
                    )),
            );
        }
        cmd
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

impl<K: CountedSetting> FromArgMatches for BudgetArgs<K> {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let defaults = Self::default();
        Ok(BudgetArgs(
            PerPlatform::from_fn(|p| {
                matches.get_one::<String>(&budget_variable(K::COUNTED, p)).cloned().unwrap_or_else(|| defaults.0[p].clone())
            }),
            PhantomData,
        ))
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl<K: CountedSetting> BudgetArgs<K> {
    /// The budgets, parsed; a bad one names its variable.
    pub fn parse(&self) -> Result<Budgets, ConfigError> {
        let mut budgets = Budgets::defaults(K::COUNTED);
        for (platform, text) in self.0.iter() {
            let budget = Budget::parse(text).map_err(|problem| bad(budget_variable(K::COUNTED, platform), problem))?;
            budgets = budgets.with(platform, budget);
        }
        Ok(budgets)
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
    #[arg(long = "webhooks-max-attempts", env = "CRIER_WEBHOOKS_MAX_ATTEMPTS", default_value_t = webhooks::DEFAULT_RETRY.max_attempts)]
    pub max_attempts: i16,
    /// Seconds before a failed webhook call's first retry (1 to 14400), doubling after each
    /// failure, at most 4 hours apart.
    #[arg(long = "webhooks-retry-base", env = "CRIER_WEBHOOKS_RETRY_BASE", default_value_t = webhooks::DEFAULT_RETRY.first_retry_seconds)]
    pub retry_base_secs: i32,
}

impl Default for WebhookArgs {
    /// The command line's defaults.
    fn default() -> Self {
        WebhookArgs {
            allow_http: None,
            max_attempts: webhooks::DEFAULT_RETRY.max_attempts,
            retry_base_secs: webhooks::DEFAULT_RETRY.first_retry_seconds,
        }
    }
}

/// Webhook settings, parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WebhookSettings {
    /// Whether http:// endpoints are accepted and called.
    pub allow_http: bool,
    /// Attempts and the first retry's wait.
    pub retry: RetryPolicy,
}

impl WebhookSettings {
    /// Parses the webhook settings; each problem names its variable.
    pub fn parse(args: &WebhookArgs) -> Result<Self, ConfigError> {
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

/// The worker pool's settings, parsed.
#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// Publishes in flight at most.
    pub concurrency: usize,
    /// Deliveries claimed per statement at most.
    pub batch_size: usize,
    /// Crier's own per-account budgets of posts.
    pub budgets: Budgets,
    /// Crier's own per-account budgets of media upload calls.
    pub media_budgets: Budgets,
    /// Between heartbeats.
    pub heartbeat: Duration,
    /// Silence after which a worker is taken for dead: --stale-after, but at least two heartbeats.
    pub stale_after: Duration,
    /// What calls in flight may take to finish on shutdown.
    pub shutdown_grace: Duration,
    /// The webhook dispatcher's.
    pub webhooks: WebhookSettings,
    /// Which addresses the dispatcher may call (CRIER_OUTBOUND_ALLOW_NETWORKS, parsed by
    /// [`super::outbound::parse`] and set by the command; public ones only until then).
    pub outbound: crier_outbound::AddressPolicy,
    /// Where the media files it publishes are (CRIER_MEDIA_*, set by the command; the default
    /// data directory's until then).
    pub media: super::MediaConfig,
    /// Where platforms reach Crier, for the signed links they fetch media by (Facebook videos):
    /// `crier worker`'s CRIER_PUBLIC_URL, or the web app's own address inside `crier serve`.
    pub public_base: Option<String>,
}

impl WorkerConfig {
    /// Parses the worker settings; each problem names its variable.
    pub fn parse(args: &WorkerArgs) -> Result<Self, ConfigError> {
        let heartbeat = Duration::from_secs(args.heartbeat_secs.max(1));
        Ok(WorkerConfig {
            concurrency: args.concurrency.max(1),
            batch_size: args.batch_size.max(1),
            budgets: args.budgets.parse()?,
            media_budgets: args.media_budgets.parse()?,
            heartbeat,
            stale_after: Duration::from_secs(args.stale_after_secs).max(heartbeat * 2),
            shutdown_grace: Duration::from_secs(args.shutdown_grace_secs),
            webhooks: WebhookSettings::parse(&args.webhooks)?,
            outbound: crier_outbound::AddressPolicy::strict(),
            media: super::MediaConfig::in_data_dir(std::path::Path::new(super::DEFAULT_DATA_DIR)),
            public_base: None,
        })
    }

    /// The publishing engine's configuration, for the worker named `name`.
    pub fn publisher(&self, name: &str) -> PublisherConfig {
        PublisherConfig {
            concurrency: self.concurrency,
            batch_size: self.batch_size,
            budgets: self.budgets,
            media_budgets: self.media_budgets,
            heartbeat: self.heartbeat,
            stale_after: self.stale_after,
            shutdown_grace: self.shutdown_grace,
            ..PublisherConfig::new(name)
        }
    }

    /// The webhook dispatcher's configuration, for the worker named `name`.
    pub fn webhooks(&self, name: &str) -> WebhookConfig {
        WebhookConfig {
            allow_http: self.webhooks.allow_http,
            outbound: self.outbound.clone(),
            retry: self.webhooks.retry,
            shutdown_grace: self.shutdown_grace,
            ..WebhookConfig::new(name)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_are_one_setting_per_platform_with_the_briefs_defaults() {
        let parsed = BudgetArgs::<PostsCounted>::default().parse().unwrap();
        assert_eq!(parsed, Budgets::default());
        let mut args = BudgetArgs::<PostsCounted>::default();
        args.0[Platform::Linkedin] = "lots".into();
        let err = args.parse().unwrap_err();
        assert_eq!(err.variable, "CRIER_LINKEDIN_BUDGET");
        assert!(err.problem.contains("lots"));

        let matches = BudgetArgs::<PostsCounted>::augment_args(Command::new("crier"))
            .try_get_matches_from(["crier", "--facebook-budget", "10/1h"])
            .unwrap();
        let given = BudgetArgs::<PostsCounted>::from_arg_matches(&matches).unwrap().parse().unwrap();
        assert_eq!(given[Platform::Facebook], Some(Budget { limit: 10, window: Duration::from_secs(3600) }));
        assert_eq!(given[Platform::X], Counted::Posts.default_budget(Platform::X), "the others keep their defaults");
    }

    #[test]
    fn media_budgets_are_settings_of_their_own() {
        let defaults = WorkerConfig::parse(&WorkerArgs::default()).unwrap();
        assert_eq!(defaults.media_budgets, Budgets::defaults(Counted::MediaCalls));
        assert_eq!(defaults.publisher("w").media_budgets, PublisherConfig::new("w").media_budgets, "one default, written once");
        let matches = WorkerArgs::augment_args(Command::new("crier"))
            .try_get_matches_from(["crier", "--x-media-budget", "20/1m", "--linkedin-budget", "5/1d"])
            .unwrap();
        let parsed = WorkerConfig::parse(&WorkerArgs::from_arg_matches(&matches).unwrap()).unwrap();
        assert_eq!(parsed.media_budgets[Platform::X], Some(Budget { limit: 20, window: Duration::from_secs(60) }));
        assert_eq!(parsed.budgets[Platform::X], Counted::Posts.default_budget(Platform::X), "posts are counted apart");
        assert_eq!(parsed.budgets[Platform::Linkedin], Some(Budget { limit: 5, window: Duration::from_secs(86_400) }));
        let mut args = WorkerArgs::default();
        args.media_budgets.0[Platform::Linkedin] = "often".into();
        assert_eq!(WorkerConfig::parse(&args).unwrap_err().variable, "CRIER_LINKEDIN_MEDIA_BUDGET");
    }

    #[test]
    fn a_worker_is_stale_after_two_heartbeats_at_least() {
        let args = WorkerArgs { heartbeat_secs: 20, stale_after_secs: 5, ..WorkerArgs::default() };
        assert_eq!(WorkerConfig::parse(&args).unwrap().stale_after, Duration::from_secs(40));
        let defaults = WorkerConfig::parse(&WorkerArgs::default()).unwrap();
        assert_eq!(defaults.publisher("w").concurrency, PublisherConfig::new("w").concurrency, "one default, written once");
    }

    #[test]
    fn webhook_settings_default_to_https_only_and_check_their_ranges() {
        let parsed = WebhookSettings::parse(&WebhookArgs::default()).unwrap();
        assert!(!parsed.allow_http);
        assert_eq!(parsed.retry, webhooks::DEFAULT_RETRY);
        let on = WebhookSettings::parse(&WebhookArgs { allow_http: Some(" TRUE ".into()), ..WebhookArgs::default() }).unwrap();
        assert!(on.allow_http);
        let variable = |args: WebhookArgs| WebhookSettings::parse(&args).unwrap_err().variable;
        assert_eq!(variable(WebhookArgs { allow_http: Some("sometimes".into()), ..WebhookArgs::default() }), "CRIER_WEBHOOKS_ALLOW_HTTP");
        assert_eq!(variable(WebhookArgs { max_attempts: 0, ..WebhookArgs::default() }), "CRIER_WEBHOOKS_MAX_ATTEMPTS");
        assert_eq!(variable(WebhookArgs { retry_base_secs: 20_000, ..WebhookArgs::default() }), "CRIER_WEBHOOKS_RETRY_BASE");
    }
}
