//! `crier bench`: how fast and how lean publishing is, measured end to end.
//!
//! One run starts the sandbox platforms in a process of their own with a response latency
//! (default 50 ms), makes a fresh database (a private embedded cluster, or a new database on the
//! server of `DATABASE_URL`), creates teams with X accounts connected through the sandbox,
//! schedules the posts through the store Compose and the API use, runs the worker pool (in this
//! process, or as `--workers` separate `crier worker` processes) until every delivery is
//! published, checks the sandbox's ledger (each post exactly once), and prints one JSON line.
//! `--baseline` then runs the same burst, in a database of its own, through a deliberately
//! minimal loop ([`baseline`]) and prints the ratio. See BENCHMARKS.md for what each figure means.
//!
//! Progress goes to stderr; the JSON line alone goes to stdout. The exit code is 1 when anything
//! was lost, duplicated or failed.

mod baseline;
mod fixture;
mod measure;
mod month;

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::{DateTime, TimeDelta, Utc};
use crier_clients::{XClient, XSettings};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use fixture::{PhaseDatabase, SandboxProcess, Scheduled, Server, StatementOrder};
use measure::{Lag, round1, round3};

use crate::config::{WorkerArgs, WorkerConfig};

/// What to publish.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scenario {
    /// Every post due at once (default 10,000 over 100 accounts): throughput.
    Burst,
    /// Posts due at random moments over --spread-secs (default 200 over 60 s): schedule lag.
    Spread,
    /// A burst of posts with a photo each (default 1,000 over 100 accounts), every photo
    /// uploaded to X inside its delivery; then one 300 MB video (--video-mb) uploaded through the
    /// upload path and published, with each process's peak memory.
    Media,
    /// The spread's text posts (default 200 over 60 s), and beside them as many photo posts over
    /// the same window and a --video-mb video uploaded and published at its start: the text posts'
    /// lag while media work runs in the same processes.
    Mixed,
    /// A month of a large instance: --posts queued over the next 30 days (default 1,000,000) and
    /// --history published deliveries of the last 30 days, over --accounts (10,000) in --teams
    /// (1,000), written in bulk; then the claim's plan and time, three pages at 32 connections for
    /// the team holding a tenth of the posts, the size on disk per post, and the lag and CPU of
    /// --window-posts falling due over --window-secs among them.
    Month,
}

/// `crier bench` options.
#[derive(clap::Args, Debug, Clone)]
pub struct BenchArgs {
    /// burst (throughput) or spread (lag).
    #[arg(long, value_enum, default_value_t = Scenario::Burst)]
    pub scenario: Scenario,
    /// Posts to publish, one delivery each [default: 10000 for burst, 200 for spread].
    #[arg(long)]
    pub posts: Option<usize>,
    /// X accounts the posts are spread over (X lets each post 100 times per 15 minutes)
    /// [default: 100; 10000 for month].
    #[arg(long)]
    pub accounts: Option<usize>,
    /// Teams the accounts belong to [default: 10; 1000 for month].
    #[arg(long)]
    pub teams: Option<usize>,
    /// How long the sandbox takes to answer each API call, in milliseconds.
    #[arg(long = "latency-ms", default_value_t = 50)]
    pub latency_ms: u64,
    /// 0: the worker pool runs in this process. W: W separate `crier worker` processes.
    #[arg(long, default_value_t = 0)]
    pub workers: usize,
    /// Publishes in flight per worker process (CRIER_WORKER_CONCURRENCY).
    #[arg(long, default_value_t = 128)]
    pub concurrency: usize,
    /// Deliveries claimed per statement at most (CRIER_WORKER_BATCH_SIZE).
    #[arg(long = "batch-size", default_value_t = 256)]
    pub batch_size: usize,
    /// The spread scenario's window, in seconds.
    #[arg(long = "spread-secs", default_value_t = 60)]
    pub spread_secs: u64,
    /// Also run the same burst through a minimal SKIP LOCKED loop and print the ratio.
    #[arg(long)]
    pub baseline: bool,
    /// The media scenario's video, in megabytes (0: none).
    #[arg(long = "video-mb", default_value_t = 300)]
    pub video_mb: u64,
    /// Give up when publishing takes longer than this many seconds.
    #[arg(long = "timeout-secs", default_value_t = 600)]
    pub timeout_secs: u64,
    /// Write this many attempts and as many audit records from three years ago before the posts
    /// are scheduled; the workers' housekeeping pass prunes them while the posts publish.
    #[arg(long = "prune-rows", default_value_t = 0)]
    pub prune_rows: usize,
    /// The month scenario's published deliveries of the last 30 days, each with its attempt and
    /// audit record [default: as many as --posts].
    #[arg(long)]
    pub history: Option<usize>,
    /// The month scenario's accounts connected through the sandbox, which the window's posts go
    /// to (the others hold the rest of the month and are never due during the run).
    #[arg(long = "live-accounts", default_value_t = 100)]
    pub live_accounts: usize,
    /// The month scenario's posts falling due during the measured window (part of --posts).
    #[arg(long = "window-posts", default_value_t = 1_000)]
    pub window_posts: usize,
    /// The month scenario's window, in seconds.
    #[arg(long = "window-secs", default_value_t = 300)]
    pub window_secs: u64,
    /// The month scenario's requests per page, sent over 32 connections.
    #[arg(long = "page-requests", default_value_t = 640)]
    pub page_requests: usize,
    /// 0: the month scenario's pages are served from this process. N: by N separate
    /// `crier serve --no-worker` processes, the requests dealt round robin between them.
    #[arg(long, default_value_t = 0)]
    pub web: usize,
}

impl BenchArgs {
    fn posts(&self) -> usize {
        self.posts.unwrap_or(match self.scenario {
            Scenario::Burst => 10_000,
            Scenario::Spread | Scenario::Mixed => 200,
            Scenario::Media => 1_000,
            Scenario::Month => 1_000_000,
        })
    }

    fn accounts(&self) -> usize {
        self.accounts.unwrap_or(if self.scenario == Scenario::Month { 10_000 } else { 100 })
    }

    fn teams(&self) -> usize {
        self.teams.unwrap_or(if self.scenario == Scenario::Month { 1_000 } else { 10 })
    }

    /// The month scenario's published history.
    fn history(&self) -> usize {
        self.history.unwrap_or_else(|| self.posts())
    }

    /// The accounts the posts that publish during the run go to: every account, but in the month
    /// scenario only the live ones.
    fn publishing_accounts(&self) -> usize {
        match self.scenario {
            Scenario::Month => self.live_accounts.min(self.accounts()),
            _ => self.accounts(),
        }
    }

    /// The teams those accounts are in: in the month scenario as many as keep the month's
    /// accounts per team.
    fn publishing_teams(&self) -> usize {
        match self.scenario {
            Scenario::Month => (self.teams() * self.publishing_accounts()).div_ceil(self.accounts()).clamp(1, self.publishing_accounts()),
            _ => self.teams(),
        }
    }

    /// The posts published during the run.
    fn published_posts(&self) -> usize {
        match self.scenario {
            Scenario::Month => self.window_posts,
            // The mixed scenario sends as many photo posts as text posts.
            Scenario::Mixed => self.posts() * 2,
            _ => self.posts(),
        }
    }

    /// Refuses combinations that would measure something else than asked.
    pub fn check(&self) -> Result<(), String> {
        let (posts, accounts, teams) = (self.posts(), self.accounts(), self.teams());
        if posts == 0 || accounts == 0 || teams == 0 {
            return Err("--posts, --accounts and --teams must be at least 1".into());
        }
        if teams > accounts {
            return Err(format!("--teams {teams} is more than --accounts {accounts}: every team needs an account"));
        }
        if self.scenario == Scenario::Month {
            if self.window_posts == 0 || self.window_posts > posts {
                return Err(format!("--window-posts {} must be between 1 and --posts {posts}", self.window_posts));
            }
            if self.live_accounts == 0 || self.page_requests == 0 {
                return Err("--live-accounts and --page-requests must be at least 1".into());
            }
        }
        // The sandbox enforces X's limit like X does; past it, the run would measure a 15-minute pause.
        let (deliveries, over) = (self.published_posts(), self.publishing_accounts());
        let per_account = deliveries.div_ceil(over);
        if per_account > 100 {
            let flag = if self.scenario == Scenario::Month { "--live-accounts" } else { "--accounts" };
            return Err(format!(
                "{deliveries} posts over {over} accounts is {per_account} per account, but X allows 100 per account per 15 minutes: use {flag} {} or more",
                deliveries.div_ceil(100)
            ));
        }
        if self.scenario != Scenario::Month && self.web > 0 {
            return Err("--web serves the month scenario's pages: add --scenario month".into());
        }
        if self.scenario == Scenario::Month && self.prune_rows > 0 {
            return Err("the month scenario writes a history of its own (--history): drop --prune-rows".into());
        }
        if self.baseline && self.prune_rows > 0 {
            return Err("--baseline has no retention to prune: drop --prune-rows".into());
        }
        if self.baseline && self.scenario != Scenario::Burst {
            return Err("--baseline compares text-only bursts: drop --scenario".into());
        }
        if self.video_mb > 500 {
            return Err(format!("--video-mb {} is more than X takes (512 MB) and than Crier accepts by default", self.video_mb));
        }
        Ok(())
    }
}

/// The figures of one phase.
#[derive(Debug, Serialize)]
pub struct Figures {
    /// From the moment the workers started to the last publish.
    pub seconds: f64,
    pub posts_per_sec: f64,
    /// When the platform received the publish call minus when the post was due (for a burst,
    /// posts scheduled before the workers started are due when they start).
    pub lag_ms: Lag,
    /// Peak resident memory of each process that published (this one, or each `crier worker`).
    pub peak_rss_mb: Vec<f64>,
    pub cpu_seconds: Cpu,
    /// Statements PostgreSQL ran per delivery (pg_stat_statements), when it can count them.
    pub statements_per_delivery: Option<f64>,
    /// WAL bytes PostgreSQL wrote per delivery (how far the WAL position moved): rows and index entries written,
    /// the cost that grows with each index a delivery's updates must touch.
    pub wal_bytes_per_delivery: Option<f64>,
    pub published: i64,
    pub failed: i64,
    /// Deliveries published on a second or later attempt (a late post's first suspect).
    pub retried: i64,
    /// Posts the platform never received.
    pub lost: usize,
    /// Posts the platform received more than once.
    pub duplicated: usize,
    /// The media scenario's large video.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub video: Option<VideoFigures>,
    /// Old history pruned while the posts published (--prune-rows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pruning: Option<PruningFigures>,
    /// The month scenario's figures (the ones above are its window's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub month: Option<month::MonthFigures>,
}

/// The retention pruner's run beside publishing.
#[derive(Debug, Serialize)]
pub struct PruningFigures {
    /// Old attempts and audit records written before publishing (--prune-rows of each).
    pub rows: usize,
    /// From the workers' start until none of them was left.
    pub seconds: f64,
}

/// One large video through upload and publish.
#[derive(Debug, Serialize)]
pub struct VideoFigures {
    pub megabytes: f64,
    /// Received, inspected and stored (streamed from a file, as a browser sends it).
    pub upload_seconds: f64,
    /// Scheduled to published: the chunked upload to X, its processing, the post.
    pub publish_seconds: f64,
    /// Peak resident memory of each process from the upload's start to the publish: this one (the
    /// upload path, and the worker pool when it runs here), each `crier worker`, the sandbox.
    pub peak_rss_mb: VideoMemory,
}

/// Peak memory per process while the video moved.
#[derive(Debug, Serialize)]
pub struct VideoMemory {
    pub bench: f64,
    pub workers: Vec<f64>,
    pub sandbox: f64,
}

/// CPU time spent while publishing.
#[derive(Debug, Serialize)]
pub struct Cpu {
    /// The publishing processes (for `--workers W`, over their whole life).
    pub app: f64,
    /// PostgreSQL, when it runs on this machine.
    pub postgres: Option<f64>,
    pub total: Option<f64>,
    /// `total` per 1,000 deliveries.
    pub per_1000_deliveries: Option<f64>,
}

/// The JSON line.
#[derive(Debug, Serialize)]
pub struct Report {
    pub scenario: Scenario,
    pub posts: usize,
    pub accounts: usize,
    /// Worker processes (1 when the pool runs in the benchmark's own process).
    pub workers: usize,
    pub in_process: bool,
    pub concurrency: usize,
    pub batch_size: usize,
    pub latency_ms: u64,
    #[serde(flatten)]
    pub crier: Figures,
    pub baseline: Option<Figures>,
    /// Crier's posts per second over the baseline's.
    pub ratio: Option<f64>,
}

impl Report {
    /// Whether every post went out exactly once.
    pub fn intact(&self) -> bool {
        std::iter::once(&self.crier).chain(&self.baseline).all(|f| f.lost == 0 && f.duplicated == 0 && f.failed == 0)
    }
}

/// Runs the benchmark; `database_url` is the server to use instead of a private embedded cluster.
pub async fn run(args: &BenchArgs, database_url: Option<&SecretString>) -> anyhow::Result<Report> {
    args.check().map_err(|e| anyhow::anyhow!(e))?;
    let server = match database_url {
        Some(url) => Server::external(url.expose_secret())?,
        None => {
            progress("starting a private PostgreSQL");
            Server::embedded().await?
        }
    };
    let result = run_on(args, &server).await;
    server.shut_down().await;
    result
}

async fn run_on(args: &BenchArgs, server: &Server) -> anyhow::Result<Report> {
    let sandbox = SandboxProcess::start()?;
    progress(&format!("sandbox at {}", sandbox.base));
    let crier = phase(args, server, &sandbox, Phase::Crier).await?;
    let baseline = match args.baseline {
        true => Some(phase(args, server, &sandbox, Phase::Baseline).await?),
        false => None,
    };
    let ratio = baseline.as_ref().filter(|b| b.posts_per_sec > 0.0).map(|b| round3(crier.posts_per_sec / b.posts_per_sec));
    Ok(Report {
        scenario: args.scenario,
        posts: args.posts(),
        accounts: args.accounts(),
        workers: args.workers.max(1),
        in_process: args.workers == 0,
        concurrency: args.concurrency,
        batch_size: args.batch_size,
        latency_ms: args.latency_ms,
        crier,
        baseline,
        ratio,
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Crier,
    Baseline,
}

impl Phase {
    /// Keeps the phases' databases, users and texts apart.
    fn tag(self) -> &'static str {
        match self {
            Phase::Crier => "crier",
            Phase::Baseline => "baseline",
        }
    }
}

async fn phase(args: &BenchArgs, server: &Server, sandbox: &SandboxProcess, which: Phase) -> anyhow::Result<Figures> {
    let tag = which.tag();
    let name = format!("crier_bench_{}_{tag}", std::process::id());
    let db = PhaseDatabase::open(server.fresh_database(&name).await?).await?;
    let figures = measure_phase(args, sandbox, &db, which).await;
    db.close().await;
    server.drop_database(&name).await;
    figures
}

async fn measure_phase(args: &BenchArgs, sandbox: &SandboxProcess, db: &PhaseDatabase, which: Phase) -> anyhow::Result<Figures> {
    let tag = which.tag();
    let posts = args.posts();
    // Accounts are connected at full speed; the platform is slow only while publishing.
    sandbox.control("/control/x/faults", serde_json::json!({ "latency_ms": 0 })).await?;
    let (teams, live) = (args.publishing_teams(), args.publishing_accounts());
    progress(&format!("{tag}: connecting {live} X accounts in {teams} teams"));
    let accounts = fixture::connect_accounts(db, sandbox, teams, live, tag).await?;
    sandbox.control("/control/x/faults", serde_json::json!({ "latency_ms": args.latency_ms })).await?;

    // Before the posts are scheduled: their due times are counted from then.
    if args.prune_rows > 0 {
        let writing = Instant::now();
        fixture::old_history(db, &accounts, args.prune_rows).await?;
        progress(&format!(
            "{tag}: wrote {} old attempts and as many audit records in {:.1} s",
            args.prune_rows,
            writing.elapsed().as_secs_f64()
        ));
    }

    // The month: the rest of its posts, its history, and what is measured before the window.
    let mut month = match args.scenario {
        Scenario::Month => {
            let seeded = month::seed(db, &accounts, args).await?;
            let figures = month::before_window(db, &seeded, args).await?;
            Some(figures)
        }
        _ => None,
    };

    let enqueue_started = Instant::now();
    let spread = |posts: usize, secs: u64| -> Vec<DateTime<Utc>> {
        // Far enough ahead that every post is written before the first falls due.
        let first = Utc::now() + TimeDelta::seconds(3);
        let window = secs.max(1) as f64;
        let mut random = Random::seeded();
        (0..posts).map(|_| first + TimeDelta::milliseconds((random.unit() * window * 1000.0) as i64)).collect()
    };
    let due: Vec<DateTime<Utc>> = match args.scenario {
        Scenario::Burst | Scenario::Media => vec![Utc::now(); posts],
        Scenario::Spread | Scenario::Mixed => spread(posts, args.spread_secs),
        Scenario::Month => spread(args.window_posts, args.window_secs),
    };
    // What the run waits for: every delivery, but in the month scenario only those due by the
    // window's end (the rest of the month stays queued).
    let due_by = match args.scenario {
        Scenario::Month => due.iter().max().copied().unwrap_or_else(Utc::now) + TimeDelta::seconds(1),
        _ => DateTime::<Utc>::MAX_UTC,
    };
    let media = match args.scenario {
        Scenario::Media | Scenario::Mixed => {
            progress(&format!("{tag}: adding a photo to each team's library"));
            fixture::media_library(db, &accounts, &db.media).await?
        }
        _ => Vec::new(),
    };
    let mut scheduled = match args.scenario {
        // The photo posts are checked like the others, but only the text posts' lag is measured.
        Scenario::Mixed => {
            let mut photos = fixture::schedule(db, &accounts, &due, &format!("{tag} photo"), &media).await?;
            photos.iter_mut().for_each(|p| p.timed = false);
            photos
        }
        _ => Vec::new(),
    };
    let media_of_text = if args.scenario == Scenario::Mixed { &[][..] } else { &media[..] };
    scheduled.extend(fixture::schedule(db, &accounts, &due, tag, media_of_text).await?);
    progress(&format!("{tag}: scheduled {} posts in {:.1} s; publishing", due.len(), enqueue_started.elapsed().as_secs_f64()));

    let watch = fixture::bookkeeping_pool(&db.url).await?;
    db.reset_statements().await;
    let wal_before = db.wal_bytes().await;
    // Peak memory from here on, not the setup's (Linux resets VmHWM on "5" since 4.0).
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let pg_before = db.postmaster.and_then(measure::postgres_cpu);
    let me_before = measure::cpu_times(std::process::id()).map(|c| c.own).unwrap_or_default();
    let started = Utc::now();

    let pool = Publishers::start(args, sandbox, db, which)?;
    // The workers' housekeeping pass prunes (it runs when a worker starts): the bench watches the
    // old rows go, through the BRIN indexes the pruner reads them by.
    let pruning = (args.prune_rows > 0).then(|| {
        let watch = watch.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            loop {
                let left: bool = sqlx::query_scalar(
                    "select /* crier-bench */ exists (select 1 from delivery_attempt where started_at < now() - interval '1000 days')
                         or exists (select 1 from audit_event where occurred_at < now() - interval '1000 days')",
                )
                .fetch_one(&watch)
                .await?;
                if !left {
                    return Ok::<_, sqlx::Error>(round3(started.elapsed().as_secs_f64()));
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    });
    let deadline = Instant::now() + Duration::from_secs(args.timeout_secs);
    let everything_done = async {
        loop {
            // Both through the partial indexes on open states: cheap however much is queued later.
            let open: bool = sqlx::query_scalar(
                "select /* crier-bench */ exists (select 1 from delivery where state in ('scheduled', 'retrying') and next_attempt_at <= $1)
                     or exists (select 1 from delivery where state = 'publishing')",
            )
            .bind(due_by)
            .fetch_one(&watch)
            .await?;
            if !open {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("{tag}: deliveries still not done after {} s (--timeout-secs)", args.timeout_secs);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    // The mixed scenario's video goes through upload and publish while the spread is published.
    let (done, beside) = match args.scenario {
        Scenario::Mixed if args.video_mb > 0 => {
            let (done, video) = tokio::join!(everything_done, video(args, sandbox, db, &pool, &accounts, &watch));
            (done, Some(video))
        }
        _ => (everything_done.await, None),
    };
    let beside = match (done, beside) {
        (Err(e), _) | (Ok(()), Some(Err(e))) => {
            pool.stop().await;
            return Err(e);
        }
        (Ok(()), beside) => beside.transpose()?,
    };
    let pruning = match pruning {
        Some(watching) => {
            let left = Duration::from_secs(args.timeout_secs).saturating_sub(enqueue_started.elapsed());
            match tokio::time::timeout(left, watching).await {
                Ok(Ok(Ok(seconds))) => Some(PruningFigures { rows: args.prune_rows * 2, seconds }),
                Ok(Ok(Err(e))) => {
                    pool.stop().await;
                    return Err(e.into());
                }
                Ok(Err(e)) => {
                    pool.stop().await;
                    bail!("{tag}: watching the pruner failed: {e}");
                }
                Err(_) => {
                    pool.stop().await;
                    bail!("{tag}: old history still there after {} s (--timeout-secs)", args.timeout_secs);
                }
            }
        }
        None => None,
    };
    let (last, published, failed, retried): (Option<DateTime<Utc>>, i64, i64, i64) = sqlx::query_as(
        "select /* crier-bench */ max(published_at), count(*) filter (where state = 'published'), count(*) filter (where state = 'failed'),
                count(*) filter (where state = 'published' and attempts > 1)
         from delivery where updated_at >= $1",
    )
    .bind(started)
    .fetch_one(&watch)
    .await?;
    let statements = db.statements().await;
    let wal = match wal_before {
        Some(before) => db.wal_bytes().await.map(|after| after - before),
        None => None,
    };
    if let Some(month) = &mut month {
        month.claim = month::claim(db).await;
        month.slowest = db.top_statements(8, StatementOrder::TotalTime).await;
    }
    for s in db.top_statements(6, StatementOrder::Calls).await {
        progress(&format!("{tag}: {:>7} × {}", s.calls, s.query));
    }
    for s in db.top_statements(6, StatementOrder::TotalTime).await {
        progress(&format!("{tag}: {:>9.1} ms in {:>5} × {}", s.total_ms, s.calls, s.query));
    }
    let pg_cpu = pg_before.and_then(|before| db.postmaster.and_then(measure::postgres_cpu).map(|after| after - before));
    let (app_cpu, peak_rss_mb) = match &pool {
        Publishers::InProcess { .. } => {
            let me = measure::cpu_times(std::process::id()).map(|c| c.own).unwrap_or_default();
            (me - me_before, vec![round1(measure::peak_rss_mb(std::process::id()).unwrap_or_default())])
        }
        Publishers::Processes(children) => (
            children.iter().filter_map(|c| measure::cpu_times(c.0.id())).map(|c| c.own).sum(),
            children.iter().map(|c| round1(measure::peak_rss_mb(c.0.id()).unwrap_or_default())).collect(),
        ),
    };
    let video = match args.scenario {
        Scenario::Media if args.video_mb > 0 => Some(video(args, sandbox, db, &pool, &accounts, &watch).await?),
        _ => beside,
    };
    pool.stop().await;
    watch.close().await;

    let ledger = sandbox.ledger().await?;
    let check = check_ledger(&scheduled, &ledger, started);
    let seconds = (last.unwrap_or_else(Utc::now) - started).as_seconds_f64().max(0.001);
    let total = pg_cpu.map(|pg| app_cpu + pg);
    let figures = Figures {
        seconds: round3(seconds),
        posts_per_sec: round1(published as f64 / seconds),
        lag_ms: Lag::of(check.lag_ms),
        peak_rss_mb,
        cpu_seconds: Cpu {
            app: round3(app_cpu),
            postgres: pg_cpu.map(round3),
            total: total.map(round3),
            per_1000_deliveries: total.filter(|_| published > 0).map(|t| round3(t * 1000.0 / published as f64)),
        },
        statements_per_delivery: statements.filter(|_| published > 0).map(|s| round1(s as f64 / published as f64)),
        wal_bytes_per_delivery: wal.filter(|_| published > 0).map(|w| round1(w as f64 / published as f64)),
        published,
        failed,
        retried,
        lost: check.lost,
        duplicated: check.duplicated,
        video,
        pruning,
        month,
    };
    progress(&format!("{tag}: {published} published in {seconds:.2} s ({} posts/s)", figures.posts_per_sec));
    Ok(figures)
}

/// Writes a video of `--video-mb` to disk, adds it through the upload path streamed from the
/// file, schedules it to one account and waits until it is published, measuring each process's
/// peak memory over the whole of it.
async fn video(
    args: &BenchArgs,
    sandbox: &SandboxProcess,
    db: &PhaseDatabase,
    pool: &Publishers,
    accounts: &fixture::Accounts,
    watch: &sqlx::PgPool,
) -> anyhow::Result<VideoFigures> {
    use tokio::io::AsyncReadExt;
    let bytes = args.video_mb * 1_000_000;
    let path = db.media.upload_dir.join("benchmark-video.mp4");
    let spec = crier_media::fixtures::VideoSpec { duration_ms: 120_000, data_bytes: bytes, with_location: false, ..Default::default() };
    let written = path.clone();
    tokio::task::spawn_blocking(move || crier_media::fixtures::write_mp4(&written, &spec)).await??;
    progress(&format!("video: {} MB written; uploading", args.video_mb));

    let workers: Vec<u32> = match pool {
        Publishers::Processes(children) => children.iter().map(|c| c.0.id()).collect(),
        Publishers::InProcess { .. } => Vec::new(),
    };
    for pid in workers.iter().copied().chain([std::process::id(), sandbox.pid()]) {
        let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
    }
    let started = Instant::now();
    let file = tokio::fs::File::open(&path).await?;
    // Read a megabyte at a time, as a browser's upload arrives: the file is never in memory.
    let body = Box::pin(futures::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let mut chunk = vec![0u8; 1 << 20];
        match file.read(&mut chunk).await {
            Ok(0) => None,
            Ok(n) => {
                chunk.truncate(n);
                Some((Ok(bytes::Bytes::from(chunk)), Some(file)))
            }
            Err(e) => Some((Err(e), None)),
        }
    }));
    let (owner, ids) = &accounts.teams[0];
    let incoming = crate::uploads::Incoming { file_name: "benchmark-video.mp4", alt_text: "" };
    let item =
        crate::uploads::receive(&db.media, &db.pool, owner.team_id, crier_domain::store::audit::Actor::User(owner.user_id), incoming, body)
            .await
            .map_err(|e| anyhow::anyhow!("uploading the video: {e}"));
    let _ = std::fs::remove_file(&path);
    let item = item?;
    let upload_seconds = started.elapsed().as_secs_f64();
    progress(&format!("video: stored in {upload_seconds:.1} s; publishing"));

    let published = Instant::now();
    let scheduled = fixture::schedule_one(db, owner, ids[0], &Utc::now(), item.media_id).await?;
    let deadline = Instant::now() + Duration::from_secs(args.timeout_secs);
    loop {
        let state: String = sqlx::query_scalar("select /* crier-bench */ state::text from delivery where post_id = $1")
            .bind(scheduled)
            .fetch_one(watch)
            .await?;
        match state.as_str() {
            "published" => break,
            "failed" | "held" => {
                let why: Option<String> = sqlx::query_scalar("select last_error_message from delivery where post_id = $1")
                    .bind(scheduled)
                    .fetch_one(watch)
                    .await?;
                bail!("the video post {state}: {}", why.unwrap_or_default());
            }
            _ if Instant::now() > deadline => bail!("the video was not published within {} s (--timeout-secs)", args.timeout_secs),
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    let publish_seconds = published.elapsed().as_secs_f64();
    let peak = |pid: u32| round1(measure::peak_rss_mb(pid).unwrap_or_default());
    let figures = VideoFigures {
        megabytes: args.video_mb as f64,
        upload_seconds: round3(upload_seconds),
        publish_seconds: round3(publish_seconds),
        peak_rss_mb: VideoMemory {
            bench: peak(std::process::id()),
            workers: workers.iter().map(|p| peak(*p)).collect(),
            sandbox: peak(sandbox.pid()),
        },
    };
    progress(&format!("video: published in {publish_seconds:.1} s; peak memory {:?}", figures.peak_rss_mb));
    Ok(figures)
}

/// What the ledger says about the phase's posts.
struct LedgerCheck {
    lag_ms: Vec<f64>,
    lost: usize,
    duplicated: usize,
}

fn check_ledger(scheduled: &[Scheduled], ledger: &[crier_sandbox::LedgerEntry], started: DateTime<Utc>) -> LedgerCheck {
    let mut received: std::collections::HashMap<&str, Vec<DateTime<Utc>>> = std::collections::HashMap::new();
    for entry in ledger {
        received.entry(entry.text.as_str()).or_default().push(entry.received_at);
    }
    let mut check = LedgerCheck { lag_ms: Vec::with_capacity(scheduled.len()), lost: 0, duplicated: 0 };
    for post in scheduled {
        match received.get(post.text.as_str()).map(Vec::as_slice) {
            None | Some([]) => check.lost += 1,
            Some([first, rest @ ..]) => {
                check.duplicated += rest.len();
                if !post.timed {
                    continue;
                }
                let due = post.due.max(started);
                check.lag_ms.push((*first - due).as_seconds_f64() * 1000.0);
            }
        }
    }
    check
}

/// Whoever publishes during a phase.
enum Publishers {
    /// Crier's worker pool in this process.
    InProcess { stop: tokio::sync::oneshot::Sender<()>, running: tokio::task::JoinHandle<anyhow::Result<()>> },
    /// `crier worker` processes.
    Processes(Vec<KillOnDrop>),
}

impl Publishers {
    fn start(args: &BenchArgs, sandbox: &SandboxProcess, db: &PhaseDatabase, which: Phase) -> anyhow::Result<Self> {
        let x = XClient::new(XSettings::sandbox(&url::Url::parse(&sandbox.base)?, String::new(), SecretString::from(String::new())));
        if which == Phase::Baseline {
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let (pool, vault) = (db.pool.clone(), db.vault.clone());
            let tasks = args.concurrency * args.workers.max(1);
            let running = tokio::spawn(async move {
                tokio::select! {
                    done = baseline::run(pool, vault, x, tasks) => done,
                    _ = stopped => Ok(()),
                }
            });
            return Ok(Publishers::InProcess { stop, running });
        }
        let worker_args = WorkerArgs {
            concurrency: args.concurrency,
            batch_size: args.batch_size,
            heartbeat_secs: 1,
            stale_after_secs: 5,
            ..WorkerArgs::default()
        };
        if args.workers == 0 {
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let settings = WorkerConfig { media: db.media_config.clone(), ..WorkerConfig::parse(&worker_args)? };
            let accounts =
                Arc::new(crier_accounts::Accounts::new(db.pool.clone(), db.vault.clone(), crier_clients::Clients::keys_only(x), None));
            let running = tokio::spawn(crate::worker::run(db.pool.clone(), db.vault.clone(), accounts, settings, async {
                let _ = stopped.await;
            }));
            return Ok(Publishers::InProcess { stop, running });
        }
        let exe = std::env::current_exe().context("cannot find the crier binary to start workers")?;
        let mut children = Vec::with_capacity(args.workers);
        for _ in 0..args.workers {
            let child = Command::new(&exe)
                .arg("worker")
                .env("DATABASE_URL", &db.url)
                .env("CRIER_SECRET_KEY", &db.key_base64)
                .env("CRIER_X_API_URL", format!("{}/x", sandbox.base))
                .env("CRIER_WORKER_CONCURRENCY", worker_args.concurrency.to_string())
                .env("CRIER_WORKER_BATCH_SIZE", worker_args.batch_size.to_string())
                .env("CRIER_WORKER_HEARTBEAT", "1")
                .env("CRIER_WORKER_STALE_AFTER", "5")
                .env("CRIER_MEDIA_STORE", db.media_config.store.to_string())
                .env("RUST_LOG", "warn")
                .env_remove("CRIER_METRICS_ADDR")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .spawn()
                .context("cannot start `crier worker`")?;
            children.push(KillOnDrop(child));
        }
        Ok(Publishers::Processes(children))
    }

    /// Stops the publishers the way an operator would (SIGTERM for processes) and waits.
    async fn stop(self) {
        match self {
            Publishers::InProcess { stop, running } => {
                let _ = stop.send(());
                match running.await {
                    Ok(Err(e)) => progress(&format!("the publishers stopped with an error: {e:#}")),
                    Err(e) => progress(&format!("the publishers' task failed: {e}")),
                    Ok(Ok(())) => {}
                }
            }
            Publishers::Processes(children) => KillOnDrop::stop_all(children).await,
        }
    }
}

/// A child process killed if the benchmark ends early.
struct KillOnDrop(Child);

impl KillOnDrop {
    /// Asks the process to stop as an operator would (SIGTERM) and waits for it.
    async fn stop(self) {
        Self::stop_all(vec![self]).await;
    }

    /// [`KillOnDrop::stop`] for several: all are signalled before the first is waited for, so
    /// they shut down side by side.
    async fn stop_all(mut children: Vec<KillOnDrop>) {
        for child in &children {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.0.id() as i32), nix::sys::signal::Signal::SIGTERM);
        }
        let _ = tokio::task::spawn_blocking(move || {
            for child in &mut children {
                let _ = child.0.wait();
            }
        })
        .await;
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// xorshift64*, seeded from the OS: the spread's due times need to be scattered, not secret.
struct Random(u64);

impl Random {
    fn seeded() -> Self {
        let mut seed = [0u8; 8];
        let _ = getrandom::fill(&mut seed);
        Random(u64::from_le_bytes(seed) | 1)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn progress(message: &str) {
    eprintln!("crier bench: {message}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(extra: &[&str]) -> BenchArgs {
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            bench: BenchArgs,
        }
        let mut argv = vec!["bench"];
        argv.extend_from_slice(extra);
        <Cli as clap::Parser>::parse_from(argv).bench
    }

    #[test]
    fn refuses_runs_that_would_measure_a_rate_limit_pause() {
        assert_eq!(args(&[]).posts(), 10_000);
        assert!(args(&[]).check().is_ok());
        assert_eq!(args(&["--scenario", "spread"]).posts(), 200);
        let err = args(&["--posts", "10001"]).check().unwrap_err();
        assert!(err.contains("use --accounts 101 or more"), "{err}");
        let err = args(&["--scenario", "spread", "--baseline"]).check().unwrap_err();
        assert!(err.contains("--baseline compares text-only bursts"), "{err}");
        assert!(args(&["--teams", "5", "--accounts", "4", "--posts", "10"]).check().unwrap_err().contains("every team needs an account"));
    }

    #[test]
    fn the_ledger_check_counts_lost_and_duplicated_posts_and_measures_lag_from_the_later_of_due_and_start() {
        let start = Utc::now();
        let entry = |text: &str, at: DateTime<Utc>| crier_sandbox::LedgerEntry {
            platform: "x".into(),
            user_id: "1".into(),
            author: "1".into(),
            post_id: "1".into(),
            text: text.into(),
            in_reply_to: None,
            received_at: at,
            accepted_at: at,
        };
        let scheduled = vec![
            Scheduled { text: "early".into(), due: start - TimeDelta::seconds(10), timed: true },
            Scheduled { text: "late".into(), due: start + TimeDelta::seconds(5), timed: true },
            Scheduled { text: "never".into(), due: start, timed: true },
            // Checked for loss and duplicates, its lag not measured (the mixed scenario's photos).
            Scheduled { text: "beside".into(), due: start, timed: false },
        ];
        let ledger = vec![
            entry("beside", start + TimeDelta::milliseconds(9_000)),
            entry("early", start + TimeDelta::milliseconds(40)),
            entry("late", start + TimeDelta::milliseconds(5_120)),
            entry("late", start + TimeDelta::milliseconds(6_000)),
            entry("someone else's", start),
        ];
        let check = check_ledger(&scheduled, &ledger, start);
        assert_eq!((check.lost, check.duplicated), (1, 1));
        let lags: Vec<i64> = check.lag_ms.iter().map(|l| l.round() as i64).collect();
        assert_eq!(lags, vec![40, 120]);
    }
}
