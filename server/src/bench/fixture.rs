//! What a benchmark run stands on: the sandbox platforms in a process of their own (so their CPU
//! is not counted as Crier's), a PostgreSQL with a fresh database per phase, teams with X
//! accounts connected through the sandbox, and the posts.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::sync::Arc;

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use crier_domain::password::Password;
use crier_domain::post::{MediaChoice, PostContent};
use crier_domain::store::audit::Actor;
use crier_domain::store::posts::{self, NewPost};
use crier_domain::store::{Member, teams, vault_keys};
use crier_domain::timezone::TimeZone;
use crier_domain::{EmailAddress, TeamName};
use crier_embedded_pg::{EmbeddedPostgres, Options};
use crier_vault::{Vault, VaultKey};
use secrecy::SecretString;
use serde::Serialize;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, PgPool};
use uuid::Uuid;

use super::measure::{round1, round3};
use crate::database::Database;
use crate::uploads::Incoming;

/// The fake platforms, served by a `crier sandbox` child process on a free port.
pub struct SandboxProcess {
    child: Child,
    /// `http://127.0.0.1:<port>/sandbox`.
    pub base: String,
    http: reqwest::Client,
}

impl SandboxProcess {
    /// Its process id (for its peak memory).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Starts `crier sandbox` and waits for the line saying where it serves.
    pub fn start() -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("cannot find the crier binary to start the sandbox")?;
        let mut child = Command::new(exe)
            .args(["sandbox", "--addr", "127.0.0.1:0"])
            .env("RUST_LOG", "warn")
            .env_remove("CRIER_SANDBOX_PUBLIC_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("cannot start `crier sandbox`")?;
        let stdout = child.stdout.take().context("the sandbox's output")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).context("reading the sandbox's address")?;
        let Some(base) = line.trim().strip_prefix("crier: sandbox serving at ") else {
            let _ = child.kill();
            bail!("the sandbox did not say where it serves (it printed {line:?})");
        };
        Ok(SandboxProcess { base: base.to_owned(), child, http: reqwest::Client::new() })
    }

    /// POSTs `body` to a control route (`/control/...`) and fails on anything but success.
    pub async fn control(&self, path: &str, body: serde_json::Value) -> anyhow::Result<serde_json::Value> {
        let response = self.http.post(format!("{}{path}", self.base)).json(&body).send().await?;
        let status = response.status();
        let answer: serde_json::Value = response.json().await.unwrap_or_default();
        if !status.is_success() {
            bail!("sandbox {path} answered {status}: {answer}");
        }
        Ok(answer)
    }

    /// Every post the platforms accepted.
    pub async fn ledger(&self) -> anyhow::Result<Vec<crier_sandbox::LedgerEntry>> {
        Ok(self.http.get(format!("{}/control/ledger", self.base)).send().await?.error_for_status()?.json().await?)
    }
}

impl Drop for SandboxProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where the phases' databases live.
pub enum Server {
    /// A cluster of our own in a temporary directory, removed at the end.
    Embedded { cluster: EmbeddedPostgres, dir: std::path::PathBuf },
    /// The server of `DATABASE_URL`: each phase creates a database there and drops it after.
    External { admin: PgConnectOptions },
}

impl Server {
    /// A private embedded cluster: durable (as `crier serve` runs it), with statement counts.
    pub async fn embedded() -> anyhow::Result<Self> {
        let dir = std::env::temp_dir().join(format!("crier-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        // The postgres user (when we run as root) must reach it.
        std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
        let start_dir = dir.clone();
        let cluster =
            tokio::task::spawn_blocking(move || EmbeddedPostgres::start(&start_dir, &Options { fsync: true, track_statements: true }))
                .await??;
        Ok(Server::Embedded { cluster, dir })
    }

    /// The server at `url`.
    pub fn external(url: &str) -> anyhow::Result<Self> {
        Ok(Server::External { admin: PgConnectOptions::from_str(url).context("DATABASE_URL could not be parsed")? })
    }

    fn admin_options(&self) -> anyhow::Result<PgConnectOptions> {
        match self {
            Server::Embedded { cluster, .. } => Ok(PgConnectOptions::from_str(&cluster.database_url())?),
            Server::External { admin } => Ok(admin.clone()),
        }
    }

    /// Creates the empty database `name` and returns its URL.
    pub async fn fresh_database(&self, name: &str) -> anyhow::Result<String> {
        let admin = self.admin_options()?;
        let mut conn = admin.connect().await.context("cannot connect to PostgreSQL")?;
        // `name` is the benchmark's own (letters, digits, underscores), never input.
        // Two statements apart: DROP and CREATE DATABASE refuse to run in one implicit transaction.
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("drop database if exists {name} with (force)"))).execute(&mut conn).await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("create database {name}"))).execute(&mut conn).await?;
        Ok(admin.database(name).to_url_lossy().to_string())
    }

    /// Drops the database `name` (external servers; an embedded cluster goes away whole).
    pub async fn drop_database(&self, name: &str) {
        if let Server::External { admin } = self
            && let Ok(mut conn) = admin.connect().await
        {
            let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!("drop database if exists {name} with (force)"))).execute(&mut conn).await;
        }
    }

    /// Stops and removes an embedded cluster.
    pub async fn shut_down(self) {
        if let Server::Embedded { cluster, dir } = self {
            let _ = tokio::task::spawn_blocking(move || {
                let _ = cluster.stop();
                let _ = std::fs::remove_dir_all(&dir);
            })
            .await;
        }
    }
}

/// One phase's database, opened and migrated, with the vault key the workers share.
pub struct PhaseDatabase {
    pub url: String,
    pub pool: PgPool,
    pub vault: Arc<Vault>,
    /// The vault key, base64, for `crier worker` processes (CRIER_SECRET_KEY).
    pub key_base64: String,
    /// Whether `pg_stat_statements` counts this database's statements.
    pub counts_statements: bool,
    /// The PostgreSQL server process, when it runs on this machine.
    pub postmaster: Option<u32>,
    /// Where the phase's media is kept (a directory store; removed by [`PhaseDatabase::close`]).
    pub media_dir: std::path::PathBuf,
    /// Those media settings, for the workers.
    pub media_config: crate::config::MediaConfig,
    /// The upload path's state (store, upload directory, limits).
    pub media: app::state::Media,
}

impl PhaseDatabase {
    /// Opens and migrates `url`, with a new random vault key.
    pub async fn open(url: String) -> anyhow::Result<Self> {
        use base64::Engine;
        let pool = Database::open_url(&url).await?.pool;
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| anyhow::anyhow!("no randomness for the vault key: {e}"))?;
        let id = vault_keys::key_ids(&pool, &[vault_keys::fingerprint(&key)]).await?[0];
        let vault = Arc::new(Vault::new(VaultKey::new(id, key)?));
        let counts_statements = sqlx::raw_sql("create extension if not exists pg_stat_statements").execute(&pool).await.is_ok()
            && sqlx::query("select pg_stat_statements_reset()").execute(&pool).await.is_ok();
        let backend: i32 = sqlx::query_scalar("select pg_backend_pid()").fetch_one(&pool).await?;
        let postmaster = super::measure::postmaster_of(backend as u32);
        let media_dir = std::env::temp_dir().join(format!("crier-bench-media-{}-{}", std::process::id(), id));
        let media_config = crate::config::MediaConfig::in_data_dir(&media_dir);
        let media = crate::open_media(&media_config, &vault)?;
        Ok(PhaseDatabase {
            url,
            pool,
            vault,
            key_base64: base64::engine::general_purpose::STANDARD.encode(key),
            counts_statements,
            postmaster,
            media_dir,
            media_config,
            media,
        })
    }

    /// Closes the pool and removes the phase's media files.
    pub async fn close(&self) {
        self.pool.close().await;
        let _ = std::fs::remove_dir_all(&self.media_dir);
    }

    /// Statements this database ran since the last reset, other than the benchmark's own
    /// bookkeeping (marked `crier-bench`) and the statistics queries themselves.
    pub async fn statements(&self) -> Option<i64> {
        if !self.counts_statements {
            return None;
        }
        sqlx::query_scalar::<_, Option<i64>>(
            "select sum(calls)::int8 from pg_stat_statements
             where dbid = (select oid from pg_database where datname = current_database())
               and query not like '%crier-bench%' and query not like '%pg_stat_statements%'",
        )
        .fetch_one(&self.pool)
        .await
        .ok()
        .flatten()
    }

    /// The first `n` statements since the last reset, by call count (round trips to save) or by
    /// time (where PostgreSQL's share of the CPU goes).
    pub async fn top_statements(&self, n: i64, by: StatementOrder) -> Vec<Statement> {
        if !self.counts_statements {
            return Vec::new();
        }
        let rows: Vec<(i64, f64, f64, String)> = sqlx::query_as(
            r"select calls, mean_exec_time, total_exec_time, regexp_replace(left(query, 120), '\s+', ' ', 'g') from pg_stat_statements
              where dbid = (select oid from pg_database where datname = current_database())
                and query not like '%crier-bench%' and query not like '%pg_stat_statements%'
              order by case when $2 then calls::float8 else total_exec_time end desc limit $1",
        )
        .bind(n)
        .bind(matches!(by, StatementOrder::Calls))
        .fetch_all(&self.pool)
        .await
        .unwrap_or_default();
        rows.into_iter()
            .map(|(calls, mean, total, query)| Statement { calls, mean_ms: round3(mean), total_ms: round1(total), query })
            .collect()
    }

    /// The cluster's WAL position in bytes: the difference between two readings is what every
    /// process wrote between them. (Not `pg_stat_wal`: backends report into it at most once a
    /// second, so a short run read it before the workers' writes were counted.)
    pub async fn wal_bytes(&self) -> Option<i64> {
        sqlx::query_scalar::<_, i64>("select (pg_current_wal_lsn() - '0/0'::pg_lsn)::int8").fetch_one(&self.pool).await.ok()
    }

    /// Starts counting statements from zero.
    pub async fn reset_statements(&self) {
        if self.counts_statements {
            let _ = sqlx::query("select pg_stat_statements_reset()").execute(&self.pool).await;
        }
    }
}

/// Which statements [`PhaseDatabase::top_statements`] lists first.
pub enum StatementOrder {
    /// The most often sent.
    Calls,
    /// The most time spent in (triggers and foreign-key checks included).
    TotalTime,
}

/// One statement from pg_stat_statements.
#[derive(Debug, Serialize)]
pub struct Statement {
    pub calls: i64,
    pub mean_ms: f64,
    pub total_ms: f64,
    pub query: String,
}

/// The password of every benchmark team's owner (the month scenario signs in with it).
pub const OWNER_PASSWORD: &str = "benchmark password 1234";

/// The teams and their X accounts.
pub struct Accounts {
    /// Per team: its owner, and its accounts' ids.
    pub teams: Vec<(Member, Vec<Uuid>)>,
}

/// Creates `teams` teams and `accounts` X accounts over them (round robin), each account an X user
/// of the sandbox with OAuth 1.0a keys of its own app, connected the way `crier admin import-env`
/// does (X is asked who the keys belong to). `tag` keeps phases' users apart.
pub async fn connect_accounts(
    db: &PhaseDatabase,
    sandbox: &SandboxProcess,
    teams: usize,
    accounts: usize,
    tag: &str,
) -> anyhow::Result<Accounts> {
    use crier_accounts::keys::XKeys;
    use crier_clients::{Clients, XClient, XSettings};

    let mut made = Vec::with_capacity(teams);
    for t in 0..teams.max(1) {
        let owner = teams::sign_up(
            &db.pool,
            TeamName::parse(&format!("Bench {tag} {t}"))?,
            EmailAddress::parse(&format!("owner{t}@{tag}.bench.test"))?,
            Password::parse(SecretString::from(OWNER_PASSWORD.to_owned()))?,
        )
        .await?;
        made.push((owner, Vec::new()));
    }
    let x = XClient::new(XSettings::sandbox(&url::Url::parse(&sandbox.base)?, String::new(), SecretString::from(String::new())));
    let service = std::sync::Arc::new(crier_accounts::Accounts::new(db.pool.clone(), db.vault.clone(), Clients::keys_only(x), None));
    let mut connecting = tokio::task::JoinSet::new();
    for i in 0..accounts {
        let credentials = serde_json::json!({
            "consumer_key": format!("{tag}-app-{i}"),
            "consumer_secret": format!("{tag}-app-secret-{i}"),
            "access_token": format!("{tag}-token-{i}"),
            "token_secret": format!("{tag}-token-secret-{i}"),
            "username": format!("{tag}_{i}"),
        });
        sandbox.control("/control/x/oauth1-credentials", credentials).await?;
        let keys = XKeys {
            consumer_key: SecretString::from(format!("{tag}-app-{i}")),
            consumer_secret: SecretString::from(format!("{tag}-app-secret-{i}")),
            access_token: SecretString::from(format!("{tag}-token-{i}")),
            access_token_secret: SecretString::from(format!("{tag}-token-secret-{i}")),
        };
        let team_index = i % made.len();
        let team_id = made[team_index].0.team_id;
        let service = service.clone();
        connecting.spawn(async move { (team_index, service.connect_x_keys(team_id, None, keys).await) });
        if connecting.len() >= 16 {
            let (team_index, account) = connecting.join_next().await.expect("a task is running")?;
            made[team_index].1.push(account.map_err(|e| anyhow::anyhow!("connecting a benchmark account: {e}"))?.account_id);
        }
    }
    while let Some(joined) = connecting.join_next().await {
        let (team_index, account) = joined?;
        made[team_index].1.push(account.map_err(|e| anyhow::anyhow!("connecting a benchmark account: {e}"))?.account_id);
    }
    Ok(Accounts { teams: made })
}

/// One scheduled post: its text (unique, so the ledger tells posts apart) and when it is due.
pub struct Scheduled {
    pub text: String,
    pub due: DateTime<Utc>,
    /// Whether its lag is measured (the mixed scenario's photo posts only go out beside).
    pub timed: bool,
}

/// Adds a photo (a 1200×800 JPEG with a location, as phones take them) to each team's library
/// through the upload path the pages use (sniffed, stripped, stored, counted against the quota);
/// answers their ids, one per team.
pub async fn media_library(db: &PhaseDatabase, accounts: &Accounts, media: &app::state::Media) -> anyhow::Result<Vec<Uuid>> {
    let mut ids = Vec::with_capacity(accounts.teams.len());
    for (t, (owner, _)) in accounts.teams.iter().enumerate() {
        let photo = bytes::Bytes::from(crier_media::fixtures::photo(1200, 800, 1, t as u8));
        let body = futures::stream::iter([Ok::<_, std::io::Error>(photo)]);
        let incoming = Incoming { file_name: "benchmark.jpg", alt_text: "" };
        let item = crate::uploads::receive(media, &db.pool, owner.team_id, Actor::User(owner.user_id), incoming, body)
            .await
            .map_err(|e| anyhow::anyhow!("adding the benchmark's photo: {e}"))?;
        ids.push(item.media_id);
    }
    Ok(ids)
}

/// Schedules one post per `due` time, each to one account (round robin over every team's
/// accounts), through the same store function Compose and the API use, 500 per transaction.
/// With `media` (one item per team), each post carries its team's.
pub async fn schedule(
    db: &PhaseDatabase,
    accounts: &Accounts,
    due: &[DateTime<Utc>],
    tag: &str,
    media: &[Uuid],
) -> anyhow::Result<Vec<Scheduled>> {
    let slots: Vec<(usize, Uuid)> =
        accounts.teams.iter().enumerate().flat_map(|(t, (_, ids))| ids.iter().map(move |id| (t, *id))).collect();
    if slots.is_empty() {
        bail!("no accounts to post to");
    }
    let mut per_team: Vec<Vec<NewPost>> = accounts.teams.iter().map(|_| Vec::new()).collect();
    let mut scheduled = Vec::with_capacity(due.len());
    for (i, at) in due.iter().enumerate() {
        let (team, account) = slots[i % slots.len()];
        let text = format!("Benchmark {tag} post {i}: the same words a team would send, give or take a link.");
        per_team[team].push(new_post(&text, account, *at, media.get(team).copied())?);
        scheduled.push(Scheduled { text, due: *at, timed: true });
    }
    for ((owner, _), posts) in accounts.teams.iter().zip(&per_team) {
        for chunk in posts.chunks(500) {
            posts::schedule_all(&db.pool, owner.team_id, Actor::User(owner.user_id), chunk, &Default::default())
                .await
                .map_err(|(_, e)| e)?;
        }
    }
    Ok(scheduled)
}

/// Schedules one post due `at` to `account` of `owner`'s team with `media_id` attached.
pub async fn schedule_one(db: &PhaseDatabase, owner: &Member, account: Uuid, at: &DateTime<Utc>, media_id: Uuid) -> anyhow::Result<Uuid> {
    let new = new_post("Benchmark video: the launch, in full.", account, *at, Some(media_id))?;
    let ids =
        posts::schedule_all(&db.pool, owner.team_id, Actor::User(owner.user_id), &[new], &Default::default()).await.map_err(|(_, e)| e)?;
    Ok(ids[0])
}

/// A post of `text` to one account, due `at`, with a media item attached when given.
fn new_post(text: &str, account: Uuid, at: DateTime<Utc>, media_id: Option<Uuid>) -> anyhow::Result<NewPost> {
    let mut content = PostContent::parse(text, [], "", [])?;
    if let Some(media_id) = media_id {
        content = content.with_media(vec![MediaChoice { media_id, alt_text: None, platform: None, item: 0 }])?;
    }
    Ok(NewPost {
        content,
        account_ids: vec![account],
        scheduled_at: at,
        timezone: TimeZone::UTC,
        dry_run: false,
        retry: Default::default(),
    })
}

/// A pool for the benchmark's own bookkeeping queries, apart from the workers' pool.
pub async fn bookkeeping_pool(url: &str) -> anyhow::Result<PgPool> {
    Ok(PgPoolOptions::new().max_connections(2).connect_with(PgConnectOptions::from_str(url)?).await?)
}

/// History old enough for every retention to prune, written fast (a statement per 10,000
/// attempts and per 100,000 audit records, into the tables the store writes, their constraints
/// and triggers on): `rows` attempts, 10 each on cancelled deliveries of posts from three years
/// ago, and `rows` audit records of that time, spread over the teams.
pub async fn old_history(db: &PhaseDatabase, accounts: &Accounts, rows: usize) -> anyhow::Result<()> {
    const PER_DELIVERY: usize = 10;
    const DELIVERIES_PER_STATEMENT: usize = 1_000;
    const AUDIT_PER_STATEMENT: usize = 100_000;
    let deliveries = rows.div_ceil(PER_DELIVERY);
    for (i, start) in (0..deliveries).step_by(DELIVERIES_PER_STATEMENT).enumerate() {
        let (owner, account_ids) = &accounts.teams[i % accounts.teams.len()];
        let n = DELIVERIES_PER_STATEMENT.min(deliveries - start) as i32;
        sqlx::query(
            "with p as (
                 insert into post (team_id, author_id, text, scheduled_at, schedule_timezone)
                 select $1, $2, 'old history', now() - interval '3 years', 'UTC' from generate_series(1, $4)
                 returning post_id
             ),
             d as (
                 insert into delivery (team_id, post_id, account_id, state, next_attempt_at, updated_at)
                 select $1, post_id, $3, 'cancelled', now() - interval '3 years', now() - interval '3 years' from p
                 returning delivery_id
             )
             insert into delivery_attempt (delivery_id, attempt, team_id, worker, started_at, finished_at, outcome)
             select d.delivery_id, g, $1, 'old', now() - interval '3 years', now() - interval '3 years', 'temporary'
             from d, generate_series(1, $5) g",
        )
        .bind(owner.team_id)
        .bind(owner.user_id)
        .bind(account_ids[0])
        .bind(n)
        .bind(PER_DELIVERY as i32)
        .execute(&db.pool)
        .await
        .context("writing old attempts")?;
    }
    for (i, start) in (0..rows).step_by(AUDIT_PER_STATEMENT).enumerate() {
        let (owner, _) = &accounts.teams[i % accounts.teams.len()];
        let n = AUDIT_PER_STATEMENT.min(rows - start) as i32;
        sqlx::query(
            "insert into audit_event (team_id, occurred_at, actor_kind, action, entity)
             select $1, now() - interval '3 years', 'system', 'old_history', 'team' from generate_series(1, $2)",
        )
        .bind(owner.team_id)
        .bind(n)
        .execute(&db.pool)
        .await
        .context("writing old audit records")?;
    }
    sqlx::query("analyze delivery_attempt, audit_event").execute(&db.pool).await?;
    Ok(())
}
