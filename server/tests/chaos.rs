//! The chaos suite: Crier in its production topology (two `crier serve --no-worker` web
//! processes, three `crier worker` processes, one PostgreSQL) publishing many posts over many
//! accounts while everything that can go wrong does:
//!
//! - the platforms answer 10% of calls with a 5xx and X 5% with a 429 whose reset headers say
//!   when to come back, all after a random latency;
//! - one token per platform expires (X and LinkedIn refresh; the Facebook Page needs its person to
//!   reconnect, which the test does as they would);
//! - Meta creates some posts and then answers HTTP 500;
//! - a worker process is killed with SIGKILL several times at random moments (and restarted);
//! - PostgreSQL is restarted once.
//!
//! At the end every delivery is published exactly once in the sandbox's ledger or failed for good
//! with its reason; none is stuck, none duplicated, and the audit trail agrees with the ledger.
//!
//! Short by default (CI). Long when asked:
//! `CRIER_CHAOS_POSTS=3000 CRIER_CHAOS_KILLS=12 cargo test -p crier --test chaos -- --nocapture`
//! (`CRIER_CHAOS_SEED` replays a run's random choices).
//!
//! LinkedIn and Meta are not sent random 429s: LinkedIn's throttle lasts until midnight UTC and
//! sends no reset time, and Meta's regain estimate is in whole minutes, so either would pause
//! their accounts for longer than any test should wait. Crier's handling of both is covered by
//! the engine's own tests.

mod support;

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use crier_embedded_pg::{EmbeddedPostgres, Options};
use crier_sandbox::{Sandbox, SandboxConfig, SystemClock};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;
use support::{Browser, KillOnDrop, connect};
use uuid::Uuid;

const CRIER: &str = env!("CARGO_BIN_EXE_crier");
const KEY: &str = "Y2hhb3MtdGVzdC1rZXktMzItYnl0ZXMtbG9uZy0hIT0=";
const PASSWORD: &str = "chaos password 12345";

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// xorshift64*: the run's random choices, replayable from the printed seed.
struct Random(u64);

impl Random {
    fn below(&mut self, n: u64) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) % n.max(1)
    }
}

/// The platforms as every process is configured to reach them (a "real" app on each, pointed at
/// the sandbox, rather than sandbox mode: the web processes must share one set of fakes).
fn platform_env(command: &mut Command, sandbox: &str) {
    command
        .env("CRIER_SANDBOX", "0")
        .env("CRIER_X_CLIENT_ID", "chaos-x")
        .env("CRIER_X_CLIENT_SECRET", "chaos-x-secret")
        .env("CRIER_X_AUTHORIZE_URL", format!("{sandbox}/x/i/oauth2/authorize"))
        .env("CRIER_X_TOKEN_URL", format!("{sandbox}/x/2/oauth2/token"))
        .env("CRIER_X_API_URL", format!("{sandbox}/x"))
        .env("CRIER_LINKEDIN_CLIENT_ID", "chaos-li")
        .env("CRIER_LINKEDIN_CLIENT_SECRET", "chaos-li-secret")
        .env("CRIER_LINKEDIN_AUTHORIZE_URL", format!("{sandbox}/linkedin/oauth/v2/authorization"))
        .env("CRIER_LINKEDIN_TOKEN_URL", format!("{sandbox}/linkedin/oauth/v2/accessToken"))
        .env("CRIER_LINKEDIN_API_URL", format!("{sandbox}/linkedin"))
        .env("CRIER_META_CLIENT_ID", "1234567890123456")
        .env("CRIER_META_CLIENT_SECRET", "chaos-meta-secret")
        .env("CRIER_META_AUTHORIZE_URL", format!("{sandbox}/facebook/v26.0/dialog/oauth"))
        .env("CRIER_META_TOKEN_URL", format!("{sandbox}/facebook/v26.0/oauth/access_token"))
        .env("CRIER_META_API_URL", format!("{sandbox}/facebook"));
}

fn crier(url: &str, sandbox: &str) -> Command {
    let mut command = Command::new(CRIER);
    for var in ["CRIER_DATA_DIR", "CRIER_METRICS_ADDR", "CRIER_METRICS_TOKEN", "CRIER_LOG_FORMAT", "CRIER_PREVIOUS_SECRET_KEYS"] {
        command.env_remove(var);
    }
    command.env("DATABASE_URL", url).env("CRIER_SECRET_KEY", KEY).env("RUST_LOG", "error").stdin(Stdio::null()).stdout(Stdio::null());
    platform_env(&mut command, sandbox);
    command
}

fn worker(url: &str, sandbox: &str) -> KillOnDrop {
    let mut command = crier(url, sandbox);
    command.args(["worker", "--heartbeat", "1", "--stale-after", "3", "--shutdown-grace", "5"]);
    KillOnDrop(command.spawn().expect("start crier worker"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A web process (`crier serve --no-worker`) and its base URL, once it answers.
async fn web(url: &str, sandbox: &str) -> (KillOnDrop, String) {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut command = crier(url, sandbox);
    command.env("CRIER_ADDR", format!("127.0.0.1:{port}")).env("CRIER_PUBLIC_URL", &base).env("CRIER_API_RATE_LIMIT", "none");
    command.args(["serve", "--no-worker"]);
    let child = KillOnDrop(command.spawn().expect("start crier serve"));
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = reqwest::get(format!("{base}/healthz")).await
            && r.status().is_success()
        {
            return (child, base);
        }
        assert!(Instant::now() < deadline, "the web process at {base} never answered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Polls `sql` (a boolean) until it holds; the database may be restarting meanwhile.
async fn wait_until(pool: &PgPool, what: &str, sql: &str, limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        if let Ok(true) = sqlx::query_scalar::<_, bool>(sqlx::AssertSqlSafe(sql.to_owned())).fetch_one(pool).await {
            return;
        }
        if Instant::now() > deadline {
            // Platform, state, count, a reason, the latest pause, the account status.
            type Group = (String, String, i64, Option<String>, Option<chrono::DateTime<Utc>>, Option<String>);
            let states: Vec<Group> = sqlx::query_as(
                "select a.platform::text, d.state::text, count(*), max(d.last_error_message), max(a.paused_until), max(a.status::text)
                 from delivery d join platform_account a using (account_id) group by 1, 2",
            )
            .fetch_all(pool)
            .await
            .unwrap_or_default();
            panic!("timed out waiting until {what}; deliveries: {states:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// How a delivery ended.
#[derive(sqlx::FromRow)]
struct Ending {
    delivery_id: Uuid,
    post_id: Uuid,
    state: String,
    external_id: Option<String>,
    last_error_class: Option<String>,
    last_error_message: Option<String>,
    text: String,
}

/// Finishes a chooser (LinkedIn, Facebook) by picking the option `pick` accepts.
async fn choose(browser: &Browser, next: &str, pick: impl Fn(&Value) -> bool) {
    assert!(next.starts_with("/accounts/choose/"), "to the chooser: {next}");
    let connection_id = next.rsplit('/').next().unwrap().to_owned();
    let choices: Value = browser.call("accounts/choices", &[("connection_id", &connection_id)]).await.json().await.unwrap();
    let option = choices["options"].as_array().unwrap().iter().find(|o| pick(o)).unwrap_or_else(|| panic!("no such option: {choices}"));
    let chose = browser.call("accounts/choose", &[("connection_id", &connection_id), ("chosen[0]", option["key"].as_str().unwrap())]).await;
    assert!(chose.status().is_success() || chose.status().is_redirection(), "{}", chose.status());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nothing_is_lost_or_duplicated_through_faults_kills_and_a_database_restart() {
    let posts = setting("CRIER_CHAOS_POSTS", 150) as usize;
    let kills = setting("CRIER_CHAOS_KILLS", 3) as usize;
    let seed = setting("CRIER_CHAOS_SEED", Utc::now().timestamp_micros() as u64) | 1;
    eprintln!("chaos: seed {seed} (CRIER_CHAOS_SEED replays the run's choices)");
    let mut random = Random(seed);

    // Its own cluster: the shared test cluster must not be restarted under other tests.
    let dir = tempfile::Builder::new().prefix("crier-chaos-").tempdir_in("/tmp").unwrap();
    std::fs::set_permissions(dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let options = || Options { fsync: false, ..Options::default() };
    let start_dir = dir.path().to_owned();
    let cluster = tokio::task::spawn_blocking(move || EmbeddedPostgres::start(&start_dir, &options())).await.unwrap().unwrap();
    let url = cluster.database_url();
    let pool = crier::database::Database::open_url(&url).await.unwrap().pool;

    // The platforms: on the system clock (the processes run on it), with each app registered.
    let (sandbox_url, sandbox) =
        Sandbox::serve_local(SandboxConfig { clock: Arc::new(SystemClock), ..SandboxConfig::default() }).await.unwrap();

    let (mut web_a, base_a) = web(&url, &sandbox_url).await;
    let (mut web_b, base_b) = web(&url, &sandbox_url).await;
    sandbox.register_x_app("chaos-x", "chaos-x-secret", &format!("{base_a}/oauth/x/callback"), "Crier (sandbox)");
    sandbox.register_linkedin_app("chaos-li", "chaos-li-secret", &format!("{base_a}/oauth/linkedin/callback"), "Crier (sandbox)");
    sandbox.register_facebook_app("1234567890123456", "chaos-meta-secret", &format!("{base_a}/oauth/facebook/callback"), "Crier (sandbox)");

    // A team connects its accounts in the browser, as people do: enough X accounts that none
    // nears X's 100 posts per 15 minutes, a LinkedIn profile and a Facebook Page.
    let browser = Browser {
        base: base_a.clone(),
        client: reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap(),
    };
    assert!(browser.sign_up("Chaos", "owner@chaos.test", PASSWORD).await.status().is_success());
    let x_accounts = posts.div_ceil(50).max(4);
    for i in 0..x_accounts {
        assert_eq!(connect(&browser, "x", &[("account", &format!("chaos_x_{i}"))], "authorize").await, "/accounts");
    }
    let next = connect(&browser, "linkedin", &[("account", "chaos-li")], "authorize").await;
    choose(&browser, &next, |o| o["kind"] == "profile").await;
    let next = connect(&browser, "facebook", &[("account", "chaos.fb"), ("new_page", "Chaos Page")], "authorize").await;
    choose(&browser, &next, |o| o["label"] == "Chaos Page").await;
    let accounts: Vec<(Uuid, String)> =
        sqlx::query_as("select account_id, platform::text from platform_account order by platform, name").fetch_all(&pool).await.unwrap();
    assert_eq!(accounts.len(), x_accounts + 2);
    let team_id: Uuid = sqlx::query_scalar("select team_id from team").fetch_one(&pool).await.unwrap();

    let token = {
        let mut command = crier(&url, &sandbox_url);
        let output = command.stdout(Stdio::piped()).args(["admin", "create-token", "--team", "Chaos", "--name", "chaos"]).output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    };

    // The faults, from now on.
    let faults = |platform: &'static str, body: Value| {
        let http = reqwest::Client::new();
        let url = format!("{sandbox_url}/control/{platform}/faults");
        async move { assert!(http.post(url).json(&body).send().await.unwrap().status().is_success()) }
    };
    faults("x", json!({"error_rate": 0.10, "rate_limit_rate": 0.05, "rate_limit_reset_secs": 2, "latency_ms": 5, "latency_jitter_ms": 120, "seed": seed}))
        .await;
    faults("linkedin", json!({"error_rate": 0.10, "latency_ms": 5, "latency_jitter_ms": 120})).await;
    faults("meta", json!({"error_rate": 0.10, "latency_ms": 5, "latency_jitter_ms": 120, "created_then_500": 3})).await;

    let mut workers: Vec<KillOnDrop> = (0..3).map(|_| worker(&url, &sandbox_url)).collect();

    // The posts go in through the REST API, alternating between the web processes as a load
    // balancer would. A refused or failed request (the database restarting) is sent again with
    // the same Idempotency-Key, as a careful client does: the key makes the retry safe.
    let created = Arc::new(AtomicUsize::new(0));
    let poster = {
        let (created, accounts) = (created.clone(), accounts.clone());
        let bases = [base_a.clone(), base_b.clone()];
        let token = token.clone();
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut ids = Vec::with_capacity(posts);
            for i in 0..posts {
                let (account_id, _) = &accounts[i % accounts.len()];
                // Half due now, half over the next ten seconds.
                let at = Utc::now() + TimeDelta::milliseconds(if i % 2 == 0 { 0 } else { (i as i64 * 7919) % 10_000 });
                let mut body = json!({
                    "text": format!("Chaos run {seed} post {i}"),
                    "account_ids": [account_id],
                    "scheduled_at": at,
                    "max_attempts": 12,
                    "retry_base_seconds": 1,
                });
                // Every third post has a first comment: a step after the post that kills and
                // faults must neither lose nor repeat.
                if i % 3 == 0 {
                    let comment = format!("Chaos comment {seed} {i}");
                    body["first_comments"] = json!({ "x": comment, "linkedin": comment, "facebook": comment });
                }
                let key = format!("chaos-{seed}-{i}");
                let deadline = Instant::now() + Duration::from_secs(90);
                let id = loop {
                    let base = &bases[i % 2];
                    let sent = http
                        .post(format!("{base}/api/v1/posts"))
                        .bearer_auth(&token)
                        .header("Idempotency-Key", &key)
                        .json(&body)
                        .send()
                        .await;
                    if let Ok(response) = sent {
                        let status = response.status();
                        if status == StatusCode::CREATED || status == StatusCode::OK {
                            let post: Value = response.json().await.unwrap();
                            break post["id"].as_str().unwrap().parse::<Uuid>().unwrap();
                        }
                        assert!(status.is_server_error() || status == StatusCode::SERVICE_UNAVAILABLE, "post {i}: {status}");
                    }
                    assert!(Instant::now() < deadline, "post {i} could not be created");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                };
                ids.push(id);
                created.fetch_add(1, Ordering::Relaxed);
            }
            ids
        })
    };

    // Kill workers at random moments; restart PostgreSQL once, after the first kill; expire one
    // token per platform once half the posts are in.
    let mut cluster = Some(cluster);
    let mut expired = false;
    let mut restarts = 0;
    for k in 0..kills {
        tokio::time::sleep(Duration::from_millis(500 + random.below(2_500))).await;
        let victim = random.below(workers.len() as u64) as usize;
        let pid = workers[victim].0.id();
        assert!(Command::new("kill").args(["-KILL", &pid.to_string()]).status().unwrap().success());
        workers[victim].0.wait().unwrap();
        eprintln!("chaos: killed worker {pid} with SIGKILL ({} of {kills})", k + 1);
        if k == 0 {
            let stopping = cluster.take().unwrap();
            let restart_dir = dir.path().to_owned();
            cluster = Some(
                tokio::task::spawn_blocking(move || {
                    stopping.stop().expect("stop PostgreSQL");
                    EmbeddedPostgres::start(&restart_dir, &options()).expect("start PostgreSQL again")
                })
                .await
                .unwrap(),
            );
            restarts += 1;
            eprintln!("chaos: restarted PostgreSQL");
        }
        // Its supervisor (systemd, Kubernetes) starts it again.
        workers[victim] = worker(&url, &sandbox_url);
        if !expired && created.load(Ordering::Relaxed) >= posts / 2 {
            expire_one_token_per_platform(&pool, &sandbox_url, team_id).await;
            expired = true;
        }
    }
    let post_ids = poster.await.unwrap();
    if !expired {
        expire_one_token_per_platform(&pool, &sandbox_url, team_id).await;
    }

    // The Facebook Page's token died with no way to renew it: its deliveries wait, held, until
    // its person reconnects it (the Accounts page says so); they do.
    let limit = Duration::from_secs(60 + posts as u64 / 5);
    wait_until(
        &pool,
        "nothing is due or being published",
        "select not exists (select 1 from delivery where state in ('scheduled', 'retrying', 'publishing'))",
        limit,
    )
    .await;
    let facebook_held: bool =
        sqlx::query_scalar("select exists (select 1 from delivery where state = 'held')").fetch_one(&pool).await.unwrap();
    // Meta's faults hit its consent and token endpoints too: a person whose attempt met an
    // error (the Accounts page says so) clicks Connect again.
    let mut reconnects = 0;
    while facebook_held
        && sqlx::query_scalar::<_, bool>(
            "select exists (select 1 from platform_account where platform = 'facebook' and status <> 'connected')",
        )
        .fetch_one(&pool)
        .await
        .unwrap()
    {
        reconnects += 1;
        assert!(reconnects <= 10, "the Page could not be reconnected in ten tries");
        // They tick the Page on Facebook's dialog again and pick it in Crier's chooser.
        let page_id: String =
            sqlx::query_scalar("select external_id from platform_account where platform = 'facebook'").fetch_one(&pool).await.unwrap();
        let next = connect(&browser, "facebook", &[("account", "chaos.fb"), ("page", &page_id)], "authorize").await;
        if next.starts_with("/accounts/choose/") {
            choose(&browser, &next, |o| o["label"] == "Chaos Page").await;
        }
    }
    wait_until(
        &pool,
        "every delivery is published or failed",
        "select not exists (select 1 from delivery where state in ('scheduled', 'retrying', 'publishing', 'held'))",
        limit,
    )
    .await;

    wait_until(
        &pool,
        "every first comment is posted or failed",
        "select not exists (select 1 from delivery_first_comment where state in ('pending', 'sending'))",
        limit,
    )
    .await;

    // Every process stops cleanly on SIGTERM, leaving nothing claimed.
    for child in workers.iter_mut().chain([&mut web_a, &mut web_b]) {
        assert!(Command::new("kill").args(["-TERM", &child.0.id().to_string()]).status().unwrap().success());
        assert!(child.0.wait().unwrap().success(), "SIGTERM stops a process cleanly");
    }

    // The verdict: the ledger, the deliveries and the audit trail agree.
    let ledger = sandbox.ledger();
    let deliveries: Vec<Ending> = sqlx::query_as(
        "select d.delivery_id, d.post_id, d.state::text as state, d.external_id, d.last_error_class::text as last_error_class, d.last_error_message, p.text
         from delivery d join post p using (post_id)",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(deliveries.len(), posts, "one delivery per post, none twice despite retried requests");
    let mut known: Vec<Uuid> = deliveries.iter().map(|d| d.post_id).collect();
    known.sort();
    let mut sent = post_ids.clone();
    sent.sort();
    assert_eq!(known, sent, "every post the API accepted exists");

    let mut on_platform: HashMap<&str, usize> = HashMap::new();
    for entry in &ledger {
        *on_platform.entry(entry.text.as_str()).or_default() += 1;
    }
    let published_events: HashMap<String, Vec<Option<String>>> = {
        let rows: Vec<(String, Option<String>)> =
            sqlx::query_as("select entity_id, metadata->>'external_id' from audit_event where action = 'delivery_published'")
                .fetch_all(&pool)
                .await
                .unwrap();
        let mut map: HashMap<String, Vec<Option<String>>> = HashMap::new();
        for (delivery, external) in rows {
            map.entry(delivery).or_default().push(external);
        }
        map
    };
    let (mut published, mut failed, mut unverified, mut lost, mut duplicated) = (0, 0, 0, 0, 0);
    for Ending { delivery_id, state, external_id, last_error_class: class, last_error_message: error, text, .. } in &deliveries {
        let copies = on_platform.get(text.as_str()).copied().unwrap_or(0);
        duplicated += copies.saturating_sub(1);
        match state.as_str() {
            "published" => {
                published += 1;
                let external_id = external_id.as_deref().expect("a published delivery names its post");
                let entry = ledger.iter().find(|e| e.post_id == external_id);
                if entry.is_none_or(|e| &e.text != text) {
                    lost += 1;
                }
                let events = published_events.get(&delivery_id.to_string()).cloned().unwrap_or_default();
                assert_eq!(
                    events,
                    vec![Some(external_id.to_owned())],
                    "the audit trail records {delivery_id} published once, as {external_id}"
                );
            }
            "failed" => {
                failed += 1;
                assert!(error.as_deref().is_some_and(|e| !e.is_empty()), "{delivery_id} failed with its reason");
                if class.as_deref() == Some("unknown") {
                    // A LinkedIn member's post whose call got no answer: Crier cannot read the
                    // profile to check, so it says so instead of risking a second copy. The
                    // platform holds it at most once.
                    unverified += 1;
                    assert!(copies <= 1, "{delivery_id}: {copies} copies");
                } else {
                    assert_eq!(copies, 0, "{delivery_id} is failed, yet the platform has it");
                }
            }
            other => panic!("{delivery_id} ended {other}"),
        }
    }
    // Each published post with a first comment has it queued (the outbox), and the platform holds
    // each posted one exactly once; a failed one (the Page's token died, or LinkedIn will not let
    // Crier look under a member's post) at most once, and only if an attempt's outcome was unknown.
    let comments: Vec<(Uuid, String, String, Option<String>, bool)> = sqlx::query_as(
        "select c.delivery_id, c.text, c.state::text, c.external_id, c.reconcile or coalesce(c.last_error like '%cannot tell%', false)
         from delivery_first_comment c",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let expected = deliveries
        .iter()
        .filter(|d| d.state == "published" && d.text.rsplit(' ').next().and_then(|i| i.parse::<usize>().ok()).is_some_and(|i| i % 3 == 0))
        .count();
    assert_eq!(comments.len(), expected, "every published post with a first comment has it queued");
    let (mut comments_posted, mut comments_failed) = (0, 0);
    for (delivery_id, text, state, external_id, in_doubt) in &comments {
        let copies: Vec<_> = ledger.iter().filter(|e| &e.text == text).collect();
        match state.as_str() {
            "posted" => {
                comments_posted += 1;
                assert_eq!(copies.len(), 1, "{delivery_id}'s first comment is on the platform once");
                assert_eq!(Some(&copies[0].post_id), external_id.as_ref(), "{delivery_id} names its comment");
            }
            "failed" => {
                comments_failed += 1;
                assert!(copies.len() <= usize::from(*in_doubt), "{delivery_id}'s failed comment: {} copies", copies.len());
            }
            other => panic!("{delivery_id}'s first comment ended {other}"),
        }
    }
    eprintln!("chaos: first comments posted={comments_posted} failed={comments_failed}");
    let ours = ledger.iter().filter(|e| e.text.starts_with(&format!("Chaos run {seed} "))).count();
    assert!((published..=published + unverified).contains(&ours), "the platforms hold the published posts and nothing else: {ours}");
    let injected = sandbox.faults_injected();
    let rescued: i64 =
        sqlx::query_scalar("select count(*) from audit_event where action = 'delivery_rescued'").fetch_one(&pool).await.unwrap();
    println!(
        "chaos: posts={posts} accounts={} faults_injected={injected} kills={kills} postgres_restarts={restarts} rescued={rescued} published={published} failed={failed} unverified={unverified} lost={lost} duplicated={duplicated}",
        accounts.len()
    );
    assert_eq!((lost, duplicated), (0, 0), "nothing lost, nothing duplicated");
    assert!(injected > 0, "faults were injected");
    assert_eq!(restarts, 1);

    pool.close().await;
    let cluster = cluster.take().unwrap();
    tokio::task::spawn_blocking(move || cluster.stop()).await.unwrap().unwrap();
}

/// Expires the access token of the first account of each platform at the platform, as time
/// would: X and LinkedIn renew theirs with the refresh token; a Page token cannot be renewed.
async fn expire_one_token_per_platform(pool: &PgPool, sandbox: &str, team_id: Uuid) {
    use crier_domain::store::accounts::{self, Credentials};
    use crier_domain::store::vault_keys;
    use crier_platform::Platform;
    use secrecy::ExposeSecret;

    use base64::Engine;
    let key: [u8; 32] = base64::engine::general_purpose::STANDARD.decode(KEY).unwrap().try_into().unwrap();
    let id = vault_keys::key_ids(pool, &[vault_keys::fingerprint(&key)]).await.unwrap()[0];
    let vault = crier_vault::Vault::new(crier_vault::VaultKey::new(id, key).unwrap());
    let http = reqwest::Client::new();
    for (platform, control) in [(Platform::X, "x"), (Platform::Linkedin, "linkedin"), (Platform::Facebook, "meta")] {
        let (external_id, sealed): (String, Vec<u8>) = sqlx::query_as(
            "select external_id, credentials from platform_account where platform = $1::text::platform and credentials is not null
             order by name limit 1",
        )
        .bind(platform.as_str())
        .fetch_one(pool)
        .await
        .unwrap();
        let Credentials::OAuth2 { access_token, .. } =
            accounts::open_credentials(&vault, team_id, platform, &external_id, &sealed).unwrap()
        else {
            panic!("an OAuth 2.0 account")
        };
        let expired = http
            .post(format!("{sandbox}/control/{control}/expire-token"))
            .json(&json!({"access_token": access_token.expose_secret()}))
            .send()
            .await
            .unwrap();
        assert!(expired.status().is_success(), "{control}: {}", expired.status());
    }
    eprintln!("chaos: expired one access token per platform");
}
