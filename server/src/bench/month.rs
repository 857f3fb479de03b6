//! `crier bench --scenario month`: Crier inside a month of a large instance.
//!
//! The live accounts (connected through the sandbox, as in every scenario) are joined by filler
//! teams, and by filler accounts cloned from a live one; then the rest of the month's queued posts
//! (due from an hour after the run to 30 days out) and a history of published deliveries of the
//! last 30 days, each with its attempt and audit record, are written in bulk: multi-row
//! statements into the tables the store writes, with every constraint, index and trigger on. The
//! first team holds a tenth of both; its owner signs in to time three pages at 32 connections.
//! Then the phase schedules the window's posts to the live accounts and measures their lag and
//! CPU as the spread scenario does; afterwards the claim statement's cost comes from
//! pg_stat_statements and the plan of its scan from EXPLAIN.

use std::str::FromStr;
use std::time::Instant;

use sqlx::ConnectOptions;

use anyhow::{Context, bail};
use chrono::{DateTime, TimeDelta, Utc};
use futures::{StreamExt, TryStreamExt};
use serde::Serialize;
use uuid::Uuid;

use super::fixture::{Accounts, OWNER_PASSWORD, PhaseDatabase, Statement, StatementOrder};
use super::measure::{Lag, round1, round3};
use super::{BenchArgs, KillOnDrop, progress};

/// Rows per bulk statement.
const CHUNK: usize = 20_000;
/// Bulk statements in flight (one per core of the machine the figures are taken on).
const IN_FLIGHT: usize = 2;
/// Connections the pages are requested over.
const CONNECTIONS: usize = 32;
/// The share of the month the first team holds (the team the pages are timed for).
const BIG_TEAM_SHARE: f64 = 0.1;
/// The queued posts start this long after the run starts, after the window has published.
const QUEUED_FROM: TimeDelta = TimeDelta::hours(1);
/// How far the month reaches, ahead and back.
const MONTH: TimeDelta = TimeDelta::days(30);
/// The tables a post's rows live in: its size on disk per post is theirs over the posts.
const POST_TABLES: [&str; 4] = ["post", "delivery", "delivery_attempt", "audit_event"];

/// What the month scenario measures besides the window's publishing.
#[derive(Debug, Serialize)]
pub struct MonthFigures {
    /// Posts queued over the next 30 days (the window's included).
    pub queued: usize,
    /// Published deliveries of the last 30 days.
    pub history: usize,
    pub teams: usize,
    pub accounts: usize,
    /// Writing the month, then VACUUM ANALYZE.
    pub seed_seconds: f64,
    /// Posts, queued and published, of the team the pages are timed for.
    pub big_team_posts: usize,
    /// The rows in the tables once the month was written (before the window's posts).
    pub written: Written,
    pub pages: Vec<PageFigures>,
    /// The statements that took the most time while the pages were timed.
    pub page_statements: Vec<Statement>,
    pub disk: Disk,
    /// The claim statement during the window (with pg_stat_statements).
    pub claim: Option<ClaimFigures>,
    /// The statements that took the most time during the window.
    pub slowest: Vec<Statement>,
}

/// Rows counted in the database.
#[derive(Debug, Serialize)]
pub struct Written {
    pub posts: i64,
    pub deliveries: i64,
    pub attempts: i64,
    pub audit_events: i64,
}

/// One page requested over [`CONNECTIONS`] connections.
#[derive(Debug, Serialize)]
pub struct PageFigures {
    pub name: &'static str,
    pub path: String,
    pub requests: usize,
    pub connections: usize,
    /// Web servers the requests were dealt between (this process, or `--web` processes).
    pub servers: usize,
    pub latency_ms: Lag,
    pub per_sec: f64,
}

/// Size on disk, tables with their indexes and TOAST.
#[derive(Debug, Serialize)]
pub struct Disk {
    /// The tables of [`POST_TABLES`] over every post (queued and history).
    pub bytes_per_post: f64,
    pub tables: Vec<Table>,
}

#[derive(Debug, Serialize)]
pub struct Table {
    pub name: String,
    pub bytes: i64,
}

/// The claim statement's cost at this size.
#[derive(Debug, Serialize)]
pub struct ClaimFigures {
    pub calls: i64,
    pub mean_ms: f64,
    pub max_ms: f64,
    pub rows_per_call: f64,
    /// Shared buffers hit or read per call: flat as the queue grows when it reads only due rows.
    pub blocks_per_call: f64,
    /// EXPLAIN ANALYZE of the claim's scan as of two hours ahead (a thousand or more due), in a
    /// transaction rolled back.
    pub plan: Vec<String>,
}

/// What [`seed`] made that the pages need.
pub struct Seeded {
    big_team: Uuid,
    owner_email: String,
    big_team_posts: usize,
    seconds: f64,
    written: (i64, i64, i64, i64),
}

/// The team and account of each slot a post may go to, as two parallel arrays.
#[derive(Default)]
struct Slots {
    teams: Vec<Uuid>,
    accounts: Vec<Uuid>,
}

/// Queued posts or published history.
#[derive(Clone, Copy)]
enum Kind {
    Queued,
    History,
}

/// One bulk statement's rows: `[start, end)` of a run over `slots`, due from `from` over `span`.
struct Bulk<'a> {
    kind: Kind,
    slots: &'a Slots,
    from: DateTime<Utc>,
    span: TimeDelta,
    start: i64,
    end: i64,
}

/// Writes the month around the live accounts: filler teams and accounts, the queued posts other
/// than the window's, and the history; then vacuums and analyzes (as autovacuum would have).
pub async fn seed(db: &PhaseDatabase, live: &Accounts, args: &BenchArgs) -> anyhow::Result<Seeded> {
    let started = Instant::now();
    // A pool of its own: its bulk statements take seconds each, which is no news to log.
    let options = sqlx::postgres::PgConnectOptions::from_str(&db.url)?.disable_statement_logging();
    let bulk_pool = sqlx::postgres::PgPoolOptions::new().max_connections(IN_FLIGHT as u32).connect_with(options).await?;
    let pool = &bulk_pool;
    let live_teams: Vec<Uuid> = live.teams.iter().map(|(owner, _)| owner.team_id).collect();
    let template = *live.teams[0].1.first().context("the first team has no live account")?;
    let filler_teams = args.teams().saturating_sub(live_teams.len());
    let new_teams: Vec<Uuid> =
        sqlx::query_scalar("insert into team (name) select 'Bench month ' || g from generate_series(1, $1) g returning team_id")
            .bind(filler_teams as i32)
            .fetch_all(pool)
            .await
            .context("writing the month's teams")?;
    // Round robin, the new teams first, so that each has an account before a live team gets more.
    let teams: Vec<Uuid> = new_teams.iter().chain(&live_teams).copied().collect();
    let filler_accounts = args.accounts().saturating_sub(args.publishing_accounts());
    let owners: Vec<Uuid> = (0..filler_accounts).map(|i| teams[i % teams.len()]).collect();
    for (i, chunk) in owners.chunks(CHUNK).enumerate() {
        // A copy of a live account's row, whatever columns it has, under a new id and team. Its
        // sealed credentials name the live account, so they would not open: these accounts hold
        // posts due after the run and are never claimed during it.
        sqlx::query(
            "insert into platform_account
             select (jsonb_populate_record(null::platform_account, to_jsonb(a) || jsonb_build_object(
                 'account_id', gen_random_uuid(), 'team_id', t.team_id, 'external_id', 'month-' || ($3 + t.n),
                 'name', 'Month account ' || ($3 + t.n), 'handle', 'month_' || ($3 + t.n), 'connected_by', null))).*
             from platform_account a, unnest($2::uuid[]) with ordinality as t (team_id, n)
             where a.account_id = $1",
        )
        .bind(template)
        .bind(chunk)
        .bind((i * CHUNK) as i64)
        .execute(pool)
        .await
        .context("writing the month's accounts")?;
    }
    let every: Vec<(Uuid, Uuid)> = sqlx::query_as("select team_id, account_id from platform_account order by account_id")
        .fetch_all(pool)
        .await
        .context("reading the month's accounts")?;
    let big_team = live_teams[0];
    let (mut big, mut rest) = (Slots::default(), Slots::default());
    for (team, account) in every {
        let slots = if team == big_team { &mut big } else { &mut rest };
        slots.teams.push(team);
        slots.accounts.push(account);
    }
    let split = |n: usize| {
        let big = if rest.teams.is_empty() { n } else { (n as f64 * BIG_TEAM_SHARE).round() as usize };
        (big, n - big)
    };
    let (big_queued, rest_queued) = split(args.posts() - args.window_posts);
    let (big_history, rest_history) = split(args.history());

    let now = Utc::now();
    let mut bulks = Vec::new();
    for (kind, slots, count, from, span) in [
        (Kind::Queued, &big, big_queued, now + QUEUED_FROM, MONTH - QUEUED_FROM),
        (Kind::Queued, &rest, rest_queued, now + QUEUED_FROM, MONTH - QUEUED_FROM),
        (Kind::History, &big, big_history, now - MONTH, MONTH - TimeDelta::hours(1)),
        (Kind::History, &rest, rest_history, now - MONTH, MONTH - TimeDelta::hours(1)),
    ] {
        for start in (0..count).step_by(CHUNK) {
            bulks.push(Bulk { kind, slots, from, span, start: start as i64, end: (start + CHUNK).min(count) as i64 });
        }
    }
    let total = args.posts() - args.window_posts + args.history();
    progress(&format!(
        "month: writing {} queued posts and {} published deliveries over {} accounts in {} teams",
        args.posts() - args.window_posts,
        args.history(),
        args.accounts(),
        args.teams()
    ));
    let mut writing = futures::stream::iter(bulks.iter().map(|bulk| write(pool, bulk))).buffer_unordered(IN_FLIGHT);
    let (mut written, mut told) = (0usize, 0usize);
    while let Some(rows) = writing.next().await {
        written += rows?;
        if written * 10 / total.max(1) > told {
            told = written * 10 / total.max(1);
            progress(&format!("month: {written} of {total} written in {:.0} s", started.elapsed().as_secs_f64()));
        }
    }
    drop(writing);
    sqlx::raw_sql("vacuum (analyze) team, platform_account, post, delivery, delivery_attempt, audit_event")
        .execute(pool)
        .await
        .context("vacuuming the month")?;
    // The window should not pay for writing the month's pages out: a server that has run for a
    // month has long checkpointed them. (Needs a superuser; on another server it is left to time.)
    let _ = sqlx::raw_sql("checkpoint").execute(pool).await;
    let written = sqlx::query_as(
        "select (select count(*) from post), (select count(*) from delivery), (select count(*) from delivery_attempt),
                (select count(*) from audit_event)",
    )
    .fetch_one(pool)
    .await?;
    bulk_pool.close().await;
    let seconds = started.elapsed().as_secs_f64();
    progress(&format!("month: written and vacuumed in {seconds:.1} s"));
    Ok(Seeded { big_team, owner_email: live.teams[0].0.email.clone(), big_team_posts: big_queued + big_history, seconds, written })
}

/// One bulk statement; answers the posts it wrote.
async fn write(pool: &sqlx::PgPool, bulk: &Bulk<'_>) -> anyhow::Result<usize> {
    // Row g goes to slot g mod n; its time is uniform over the span. `src` is materialized (it
    // calls volatile functions), so every insert reads the same rows.
    let sql = match bulk.kind {
        Kind::Queued => {
            "with src as (
                 select gen_random_uuid() as post_id, ($1::uuid[])[i] as team_id, ($2::uuid[])[i] as account_id, g,
                        $3::timestamptz + make_interval(secs => $4 * random()) as at
                 from generate_series($5::int8, $6::int8 - 1) g
                 cross join lateral (select 1 + (g % cardinality($1::uuid[]))::int4 as i) x
             ),
             p as (
                 insert into post (post_id, team_id, text, scheduled_at, schedule_timezone)
                 select post_id, team_id, 'Month post ' || g || ': the same words a team would send, give or take a link.', at, 'UTC'
                 from src
                 returning post_id
             ),
             d as (
                 insert into delivery (team_id, post_id, account_id, next_attempt_at)
                 select s.team_id, s.post_id, s.account_id, s.at from src s join p using (post_id)
             )
             insert into audit_event (team_id, actor_kind, action, entity, entity_id, metadata)
             select team_id, 'system', 'post_scheduled', 'post', post_id::text,
                    jsonb_build_object('accounts', 1, 'scheduled_at', at, 'timezone', 'UTC')
             from src"
        }
        Kind::History => {
            "with src as (
                 select gen_random_uuid() as post_id, gen_random_uuid() as delivery_id, ($1::uuid[])[i] as team_id,
                        ($2::uuid[])[i] as account_id, g, $3::timestamptz + make_interval(secs => $4 * random()) as at
                 from generate_series($5::int8, $6::int8 - 1) g
                 cross join lateral (select 1 + (g % cardinality($1::uuid[]))::int4 as i) x
             ),
             p as (
                 insert into post (post_id, team_id, text, scheduled_at, schedule_timezone, created_at, updated_at)
                 select post_id, team_id, 'Month history ' || g || ': the same words a team would send, give or take a link.', at, 'UTC',
                        at - interval '1 day', at - interval '1 day'
                 from src
                 returning post_id
             ),
             d as (
                 insert into delivery (delivery_id, team_id, post_id, account_id, state, attempts, next_attempt_at, external_id, permalink,
                                       published_at, created_at, updated_at)
                 select s.delivery_id, s.team_id, s.post_id, s.account_id, 'published', 1, s.at, 'month-' || s.g,
                        'https://x.com/i/status/month-' || s.g, s.at + interval '1 second', s.at - interval '1 day', s.at + interval '1 second'
                 from src s join p using (post_id)
                 returning delivery_id
             ),
             a as (
                 insert into delivery_attempt (delivery_id, attempt, team_id, worker, started_at, finished_at, outcome, http_status, duration_ms)
                 select s.delivery_id, 1, s.team_id, 'month', s.at, s.at + interval '1 second', 'published', 201, 1000
                 from src s join d using (delivery_id)
             )
             insert into audit_event (team_id, occurred_at, actor_kind, action, entity, entity_id, metadata)
             select team_id, at + interval '1 second', 'system', 'delivery_published', 'delivery', delivery_id::text,
                    jsonb_build_object('attempt', 1)
             from src"
        }
    };
    sqlx::query(sql)
        .bind(&bulk.slots.teams)
        .bind(&bulk.slots.accounts)
        .bind(bulk.from)
        .bind(bulk.span.as_seconds_f64())
        .bind(bulk.start)
        .bind(bulk.end)
        .execute(pool)
        .await
        .context("writing the month's posts")?;
    Ok((bulk.end - bulk.start) as usize)
}

/// The figures taken before the window: the pages, and the size on disk.
pub async fn before_window(db: &PhaseDatabase, seeded: &Seeded, args: &BenchArgs) -> anyhow::Result<MonthFigures> {
    db.reset_statements().await;
    let pages = match args.web {
        0 => pages_in_process(db, seeded, args.page_requests).await?,
        n => pages_from_processes(db, seeded, args.page_requests, n).await?,
    };
    let page_statements = db.top_statements(8, StatementOrder::TotalTime).await;
    let disk = disk(&db.pool, args.posts() + args.history()).await?;
    Ok(MonthFigures {
        queued: args.posts(),
        history: args.history(),
        teams: args.teams(),
        accounts: args.accounts(),
        seed_seconds: round3(seeded.seconds),
        big_team_posts: seeded.big_team_posts,
        written: Written {
            posts: seeded.written.0,
            deliveries: seeded.written.1,
            attempts: seeded.written.2,
            audit_events: seeded.written.3,
        },
        pages,
        page_statements,
        disk,
        claim: None,
        slowest: Vec::new(),
    })
}

/// Serves the web app from this process (no worker) and times the pages there.
async fn pages_in_process(db: &PhaseDatabase, seeded: &Seeded, requests: usize) -> anyhow::Result<Vec<PageFigures>> {
    let database = crate::database::Database::open_url(&db.url).await?;
    let web = crate::config::WebConfig::parse(&crate::config::WebArgs { addr: "127.0.0.1:0".into(), ..Default::default() })
        .map_err(|e| anyhow::anyhow!("the benchmark's web settings: {e}"))?;
    let app = crate::build(&database, web, db.vault.clone(), false).await?;
    let base = format!("http://{}", app.addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(app.run_with_worker(database.pool.clone(), None, async {
        let _ = stopped.await;
    }));
    let timed = time_pages(&[base], db, seeded, requests).await;
    let _ = stop.send(());
    let _ = serving.await;
    database.close().await;
    timed
}

/// Starts `processes` web servers (`crier serve --no-worker`) on the phase's database, waits
/// until each answers `/healthz`, and times the pages through all of them.
async fn pages_from_processes(db: &PhaseDatabase, seeded: &Seeded, requests: usize, processes: usize) -> anyhow::Result<Vec<PageFigures>> {
    let exe = std::env::current_exe().context("cannot find the crier binary to start web servers")?;
    let mut servers = Vec::with_capacity(processes);
    let mut bases = Vec::with_capacity(processes);
    for _ in 0..processes {
        // A port the system has free now (the server binds it a moment later).
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = std::process::Command::new(&exe)
            .args(["serve", "--no-worker", "--addr", &format!("127.0.0.1:{port}")])
            .env("DATABASE_URL", &db.url)
            .env("CRIER_SECRET_KEY", &db.key_base64)
            .env("CRIER_MEDIA_STORE", db.media_config.store.to_string())
            .env("RUST_LOG", "warn")
            .env_remove("CRIER_METRICS_ADDR")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .spawn()
            .context("cannot start `crier serve --no-worker`")?;
        servers.push(KillOnDrop(child));
        bases.push(format!("http://127.0.0.1:{port}"));
    }
    let http = reqwest::Client::new();
    for base in &bases {
        let deadline = Instant::now() + std::time::Duration::from_secs(60);
        // Polls until it answers: a server's start is not something to wait a fixed time for.
        while !http.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
            if Instant::now() > deadline {
                bail!("the web server at {base} did not answer /healthz within 60 s");
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
    let timed = time_pages(&bases, db, seeded, requests).await;
    for server in servers {
        server.stop().await;
    }
    timed
}

/// Times the dashboard, the month calendar and a list page halfway down the big team's posts,
/// each `requests` times over 32 connections, the requests dealt round robin over `bases`.
async fn time_pages(bases: &[String], db: &PhaseDatabase, seeded: &Seeded, requests: usize) -> anyhow::Result<Vec<PageFigures>> {
    use reqwest::header::{COOKIE, SET_COOKIE};
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).pool_max_idle_per_host(CONNECTIONS).build()?;
    // Sessions live in the database: signed in at one server, the cookie opens every one.
    let signed_in = http
        .post(format!("{}/api/log_in", bases[0]))
        .form(&[("email", seeded.owner_email.as_str()), ("password", OWNER_PASSWORD)])
        .send()
        .await?;
    if !signed_in.status().is_success() {
        bail!("signing in to time the pages answered {}", signed_in.status());
    }
    let cookie: Vec<&str> = signed_in.headers().get_all(SET_COOKIE).iter().filter_map(|v| v.to_str().ok()?.split(';').next()).collect();
    let cookie = cookie.join("; ");
    let (at, post_id): (DateTime<Utc>, Uuid) = sqlx::query_as(
        "select scheduled_at, post_id from post where team_id = $1 order by scheduled_at desc, post_id desc offset $2 limit 1",
    )
    .bind(seeded.big_team)
    .bind((seeded.big_team_posts / 2) as i64)
    .fetch_one(&db.pool)
    .await
    .context("finding a post halfway down the list")?;
    let deep = format!("/?after={}", crier_domain::store::posts::encode_cursor(at, post_id));
    let mut figures = Vec::new();
    for (name, path) in [("dashboard", "/".to_owned()), ("month calendar", "/?view=month".to_owned()), ("deep list page", deep)] {
        let urls: Vec<String> = bases.iter().map(|base| format!("{base}{path}")).collect();
        let one = |i: usize| {
            let url = &urls[i % urls.len()];
            let (http, cookie, path) = (&http, &cookie, &path);
            async move {
                let started = Instant::now();
                let response = http.get(url).header(COOKIE, cookie).send().await?;
                let status = response.status();
                let body = response.text().await?;
                // The page rendered the month's posts, not an error in their place.
                if !status.is_success() || !body.contains("Month ") || body.contains("class=\"form-error\"") {
                    bail!("{name} ({path}) answered {status} without the month's posts: {}", body.chars().take(300).collect::<String>());
                }
                Ok(started.elapsed().as_secs_f64() * 1000.0)
            }
        };
        // One request per connection first: connections opened and caches warm are not counted.
        futures::stream::iter(0..CONNECTIONS).map(one).buffer_unordered(CONNECTIONS).try_collect::<Vec<f64>>().await?;
        let started = Instant::now();
        let samples: Vec<f64> = futures::stream::iter(0..requests).map(one).buffer_unordered(CONNECTIONS).try_collect().await?;
        let seconds = started.elapsed().as_secs_f64();
        let page = PageFigures {
            name,
            path: path.chars().take(40).collect(),
            requests,
            connections: CONNECTIONS,
            servers: bases.len(),
            latency_ms: Lag::of(samples),
            per_sec: round1(requests as f64 / seconds),
        };
        progress(&format!("month: {name}: p50 {} ms, p99 {} ms, {} a second", page.latency_ms.p50, page.latency_ms.p99, page.per_sec));
        figures.push(page);
    }
    Ok(figures)
}

/// The tables' size with their indexes and TOAST, and the posts' tables per post.
async fn disk(pool: &sqlx::PgPool, posts: usize) -> anyhow::Result<Disk> {
    let tables: Vec<(String, i64)> = sqlx::query_as(
        "select relname::text, pg_total_relation_size(oid) from pg_class
         where relkind = 'r' and relnamespace = 'public'::regnamespace
         order by pg_total_relation_size(oid) desc limit 12",
    )
    .fetch_all(pool)
    .await?;
    let of_posts: i64 = tables.iter().filter(|(name, _)| POST_TABLES.contains(&name.as_str())).map(|(_, bytes)| bytes).sum();
    Ok(Disk {
        bytes_per_post: round1(of_posts as f64 / posts.max(1) as f64),
        tables: tables.into_iter().map(|(name, bytes)| Table { name, bytes }).collect(),
    })
}

/// The claim statement's calls during the window, and the plan of its scan.
pub async fn claim(db: &PhaseDatabase) -> Option<ClaimFigures> {
    if !db.counts_statements {
        return None;
    }
    let (calls, mean_ms, max_ms, rows, blocks): (i64, f64, f64, i64, i64) = sqlx::query_as(
        "select calls, mean_exec_time, max_exec_time, rows, shared_blks_hit + shared_blks_read from pg_stat_statements
         where dbid = (select oid from pg_database where datname = current_database())
           and query like '%with candidate as%' and query like '%insert into delivery_attempt%'
         order by calls desc limit 1",
    )
    .fetch_optional(&db.pool)
    .await
    .ok()
    .flatten()?;
    let plan = match explain_claim_scan(&db.pool).await {
        Ok(plan) => plan,
        Err(e) => vec![format!("EXPLAIN failed: {e}")],
    };
    let per_call = |n: i64| round1(n as f64 / calls.max(1) as f64);
    Some(ClaimFigures {
        calls,
        mean_ms: round3(mean_ms),
        max_ms: round3(max_ms),
        rows_per_call: per_call(rows),
        blocks_per_call: per_call(blocks),
        plan,
    })
}

/// EXPLAIN ANALYZE of the claim's first step, as `deliveries::claim` writes it (keep the two
/// alike), as of two hours ahead so that the month's first posts are due; rolled back.
async fn explain_claim_scan(pool: &sqlx::PgPool) -> Result<Vec<String>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let lines: Vec<String> = sqlx::query_scalar(
        "explain (analyze, buffers, costs off, timing off)
         select d.delivery_id, d.account_id, d.next_attempt_at
         from delivery d join platform_account a on a.account_id = d.account_id
         where d.state in ('scheduled', 'retrying') and d.next_attempt_at <= now() + interval '2 hours'
           and (a.paused_until is null or a.paused_until <= now())
         order by d.next_attempt_at
         limit 256
         for update of d skip locked",
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.rollback().await?;
    Ok(lines.into_iter().map(|l| l.trim().to_owned()).filter(|l| !l.is_empty()).collect())
}
