//! PostgreSQL going away under a running `crier serve` (the real binary, on a cluster of the
//! test's own that it stops and starts): Crier stays near idle and quiet, keeps answering its
//! probes with 503 naming the database, stops on SIGTERM, and picks up by itself when the
//! database is back, publishing what fell due.
//!
//! The measured figures are printed (`cargo test -p crier --test outage -- --nocapture`):
//! `outage: secs=… log_lines=… cpu_secs=… …`.

mod support;

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use crier_embedded_pg::{EmbeddedPostgres, Options};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{Browser, KillOnDrop, PASSWORD, connect};

const CRIER: &str = env!("CARGO_BIN_EXE_crier");
/// 32 bytes, base64.
const KEY: &str = "b3V0YWdlLXRlc3Qta2V5LTMyLWJ5dGVzLWxvbmchISE=";
/// How long PostgreSQL stays down.
const OUTAGE: Duration = Duration::from_secs(20);
/// The post falls due this long after it is scheduled (just before PostgreSQL is stopped): after
/// the outage, so it is published once Crier has found the database again.
const DUE_IN: TimeDelta = TimeDelta::seconds(25);
/// `CRIER_METRICS_TOKEN` of the processes under test.
const METRICS_TOKEN: &str = "outage-metrics-token-1234";
/// `CRIER_WORKER_SHUTDOWN_GRACE` of the processes under test.
const GRACE: Duration = Duration::from_secs(10);
/// Log lines the whole process may write over the outage: each loop's "failed" line and the
/// apalis worker's few, once (the stop at the outage's start makes a burst of them), not one per
/// try or per probe.
const MAX_OUTAGE_LOG_LINES: usize = 40;
/// CPU seconds (user + system) the process may use over the 20-second outage: near idle.
const MAX_OUTAGE_CPU_SECS: f64 = 1.0;

/// Every line a child process writes (stdout and stderr), with when it arrived.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<(Instant, String)>>>);

impl Log {
    /// Collects `child`'s output from now on, in threads of its own (so the pipes never fill).
    fn collect(child: &mut Child) -> Log {
        let log = Log::default();
        let streams: [Box<dyn Read + Send>; 2] =
            [Box::new(child.stdout.take().expect("stdout piped")), Box::new(child.stderr.take().expect("stderr piped"))];
        for stream in streams {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    log.0.lock().unwrap().push((Instant::now(), line));
                }
            });
        }
        log
    }

    /// The lines that arrived between `from` and `to`.
    fn between(&self, from: Instant, to: Instant) -> Vec<String> {
        self.0.lock().unwrap().iter().filter(|(at, _)| *at >= from && *at < to).map(|(_, line)| line.clone()).collect()
    }

    /// The first JSON event whose message is `message`, waiting for it up to `limit`.
    async fn wait_for(&self, message: &str, limit: Duration) -> Value {
        self.wait_until(message, |logged| logged == message, limit).await
    }

    /// The first JSON event whose message `fits` (described as `what`), waiting for it up to `limit`.
    async fn wait_until(&self, what: &str, fits: impl Fn(&str) -> bool, limit: Duration) -> Value {
        let deadline = Instant::now() + limit;
        loop {
            let found = self.0.lock().unwrap().iter().find_map(|(_, line)| {
                serde_json::from_str::<Value>(line).ok().filter(|event| event["fields"]["message"].as_str().is_some_and(&fits))
            });
            if let Some(event) = found {
                return event;
            }
            assert!(Instant::now() < deadline, "no {what:?} logged within {limit:?}; the log:\n{}", self.all());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn all(&self) -> String {
        self.0.lock().unwrap().iter().map(|(_, line)| line.as_str()).collect::<Vec<_>>().join("\n")
    }
}

/// `crier serve` on `url` (sandbox platforms on, JSON logs), once it serves: the process, its log
/// and its base URL.
async fn serve(url: &str) -> (KillOnDrop, Log, String) {
    let mut command = Command::new(CRIER);
    for var in ["CRIER_DATA_DIR", "CRIER_PUBLIC_URL", "CRIER_METRICS_ADDR", "CRIER_PREVIOUS_SECRET_KEYS"] {
        command.env_remove(var);
    }
    command
        .env("DATABASE_URL", url)
        .env("CRIER_SECRET_KEY", KEY)
        .env("CRIER_SANDBOX", "1")
        .env("CRIER_ADDR", "127.0.0.1:0")
        .env("CRIER_LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .env("CRIER_WORKER_SHUTDOWN_GRACE", GRACE.as_secs().to_string())
        .env("CRIER_METRICS_TOKEN", METRICS_TOKEN)
        .env("CRIER_SANDBOX_CONTROL_TOKEN", support::SANDBOX_CONTROL_TOKEN)
        .arg("serve")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("start crier serve");
    let log = Log::collect(&mut child);
    let child = KillOnDrop(child);
    let serving = log.wait_for("Crier is serving", Duration::from_secs(60)).await;
    let base = format!("http://{}", serving["fields"]["addr"].as_str().unwrap());
    (child, log, base)
}

/// User plus system CPU time the process has used so far, in seconds (`/proc/<pid>/stat`).
fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // "pid (comm) state ppid ...": utime and stime are fields 14 and 15, counted from 1.
    let after_comm: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    let ticks: f64 = after_comm[11].parse::<f64>().unwrap() + after_comm[12].parse::<f64>().unwrap();
    let per_sec: f64 = String::from_utf8(Command::new("getconf").arg("CLK_TCK").output().unwrap().stdout).unwrap().trim().parse().unwrap();
    ticks / per_sec
}

/// GETs `url` and answers its status and body, or `None` when the request failed.
async fn get(url: &str) -> Option<(StatusCode, String)> {
    let response = reqwest::Client::new().get(url).timeout(Duration::from_secs(10)).send().await.ok()?;
    let status = response.status();
    Some((status, response.text().await.ok()?))
}

/// Polls `/healthz` until it answers `want`.
async fn wait_health(base: &str, want: StatusCode, limit: Duration) -> String {
    let deadline = Instant::now() + limit;
    loop {
        if let Some((status, body)) = get(&format!("{base}/healthz")).await
            && status == want
        {
            return body;
        }
        assert!(Instant::now() < deadline, "/healthz did not answer {want} within {limit:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Polls `/readyz` until it answers 200 (the worker heartbeats).
async fn wait_ready(base: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some((StatusCode::OK, _)) = get(&format!("{base}/readyz")).await {
            return;
        }
        assert!(Instant::now() < deadline, "not ready within a minute");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Stops the cluster in a data dir when the test ends, however it ends.
struct StopOnDrop(std::path::PathBuf);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        let _ = crier_embedded_pg::stop_data_dir(&self.0);
    }
}

fn sigterm(child: &KillOnDrop) {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.0.id() as i32), nix::sys::signal::Signal::SIGTERM).unwrap();
}

/// Waits for the child to exit, up to `limit`: its exit status and how long it took.
async fn wait_exit(child: &mut KillOnDrop, limit: Duration) -> (std::process::ExitStatus, Duration) {
    let started = Instant::now();
    loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            return (status, started.elapsed());
        }
        assert!(started.elapsed() < limit, "still running {limit:?} after SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn stop_postgres(cluster: EmbeddedPostgres) {
    tokio::task::spawn_blocking(move || cluster.stop().expect("stop PostgreSQL")).await.unwrap();
}

async fn start_postgres(dir: &std::path::Path) -> EmbeddedPostgres {
    let dir = dir.to_owned();
    tokio::task::spawn_blocking(move || {
        EmbeddedPostgres::start(&dir, &Options { fsync: false, ..Options::default() }).expect("start PostgreSQL")
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_is_ridden_out_quietly_and_what_fell_due_is_published_after() {
    // A cluster of the test's own (the shared test cluster must not be stopped under other
    // tests), under /tmp with 0755 so that the postgres user reaches it when tests run as root.
    let dir = tempfile::Builder::new().prefix("crier-outage-").tempdir_in("/tmp").unwrap();
    std::fs::set_permissions(dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let _stop = StopOnDrop(dir.path().to_owned());
    let cluster = start_postgres(dir.path()).await;
    let url = cluster.database_url();

    let (mut crier, log, base) = serve(&url).await;
    let browser = Browser {
        base: base.clone(),
        client: reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap(),
    };
    assert!(browser.sign_up("Outage", "owner@outage.test", PASSWORD).await.status().is_success());
    assert_eq!(connect(&browser, "x", &[("account", "outage_x")], "authorize").await, "/accounts");
    let token = {
        let output = Command::new(CRIER)
            .env("DATABASE_URL", &url)
            .env("CRIER_LOG_FORMAT", "json")
            .args(["admin", "create-token", "--team", "Outage", "--name", "outage"])
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    };
    let api = reqwest::Client::new();
    let accounts: Value = api.get(format!("{base}/api/v1/accounts")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    let account_id = accounts[0]["id"].as_str().unwrap_or_else(|| panic!("one account: {accounts}")).to_owned();
    // Every loop in its steady state first: the worker heartbeats, housekeeping ran once.
    wait_ready(&base).await;
    log.wait_for("housekeeping done", Duration::from_secs(60)).await;

    let text = format!("Through the outage {}", Utc::now().timestamp_micros());
    let created = api
        .post(format!("{base}/api/v1/posts"))
        .bearer_auth(&token)
        .json(&json!({"text": text, "account_ids": [account_id], "scheduled_at": Utc::now() + DUE_IN}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED, "{}", created.text().await.unwrap());
    let post: Value = created.json().await.unwrap();
    let post_id = post["id"].as_str().unwrap().to_owned();

    // The outage.
    let pid = crier.0.id();
    let (cpu_before, stopped_at) = (cpu_secs(pid), Instant::now());
    stop_postgres(cluster).await;
    let health = wait_health(&base, StatusCode::SERVICE_UNAVAILABLE, Duration::from_secs(5)).await;
    let health: Value = serde_json::from_str(&health).unwrap();
    assert_eq!(health["database"], "unreachable", "/healthz names the database: {health}");
    let (status, readyz) = get(&format!("{base}/readyz")).await.expect("/readyz answers");
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(serde_json::from_str::<Value>(&readyz).unwrap()["failing"], json!(["database"]), "{readyz}");
    // A signed-in page load answers an error page at once (its session cannot be read).
    let asked = Instant::now();
    let page = browser.get("/").await;
    let page_secs = asked.elapsed().as_secs_f64();
    assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(page.text().await.unwrap().contains("cannot reach its database"));
    assert!(page_secs < 2.0, "the page answered in {page_secs:.2} s");
    // A scrape answers too, promptly, saying the database is down.
    let asked = Instant::now();
    let metrics = api.get(format!("{base}/metrics")).bearer_auth(METRICS_TOKEN).send().await.unwrap();
    assert_eq!(metrics.status(), StatusCode::OK);
    assert!(metrics.text().await.unwrap().contains("crier_database_up 0"), "the scrape reports the database down");
    assert!(asked.elapsed() < Duration::from_secs(4), "the scrape took {:?}", asked.elapsed());
    // A load balancer's probes through the rest of it: every one answers, 503.
    let mut probes = 0;
    while stopped_at.elapsed() < OUTAGE {
        let (status, _) = get(&format!("{base}/healthz")).await.expect("/healthz answers during the outage");
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        probes += 1;
        tokio::time::sleep(Duration::from_secs(2).min(OUTAGE.saturating_sub(stopped_at.elapsed()))).await;
    }
    let (cpu_after, restarting_at) = (cpu_secs(pid), Instant::now());
    let outage_lines = log.between(stopped_at, restarting_at);
    let cluster = start_postgres(dir.path()).await;

    // Back by itself: healthy, and the post that fell due meanwhile goes out, once.
    wait_health(&base, StatusCode::OK, Duration::from_secs(10)).await;
    let deadline = Instant::now() + Duration::from_secs(90);
    let published_after = loop {
        let ledger: Vec<Value> = api
            .get(format!("{base}/sandbox/control/ledger"))
            .bearer_auth(support::SANDBOX_CONTROL_TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let ours = ledger.iter().filter(|entry| entry["text"] == text.as_str()).count();
        if ours > 0 {
            assert_eq!(ours, 1, "published once");
            break restarting_at.elapsed();
        }
        assert!(Instant::now() < deadline, "not published within 90 s of PostgreSQL's return; the log:\n{}", log.all());
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // The return is logged too, once per loop.
    log.wait_for("claiming deliveries works again", Duration::from_secs(5)).await;
    // The housekeeping worker runs again: a new one, started once the database answered.
    let restarted = |message: &str| message.starts_with("Worker crier-worker-") && message.ends_with("-housekeeping-1 started");
    log.wait_until("the second housekeeping worker started", restarted, Duration::from_secs(40)).await;
    let recovery_lines = log.between(restarting_at, Instant::now());
    // The platform accepted it before its outcome is written: the delivery says so a moment later.
    loop {
        let post: Value = api.get(format!("{base}/api/v1/posts/{post_id}")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        if post["deliveries"][0]["state"] == "published" {
            break;
        }
        assert!(Instant::now() < deadline, "the delivery was never marked published: {post}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let cpu = cpu_after - cpu_before;
    eprintln!(
        "outage: secs={} log_lines={} cpu_secs={cpu:.2} healthz_probes={probes} page_secs={page_secs:.3} published_secs_after_restart={:.1}",
        OUTAGE.as_secs(),
        outage_lines.len(),
        published_after.as_secs_f64()
    );
    eprintln!("outage: the lines logged during it:\n{}", outage_lines.join("\n"));
    eprintln!("outage: the lines logged after it, until the post went out:\n{}", recovery_lines.join("\n"));
    assert!(outage_lines.len() <= MAX_OUTAGE_LOG_LINES, "{} lines logged during the outage", outage_lines.len());
    assert!(cpu <= MAX_OUTAGE_CPU_SECS, "{cpu:.2} CPU seconds used during the outage");

    sigterm(&crier);
    let (status, _) = wait_exit(&mut crier, GRACE + Duration::from_secs(5)).await;
    assert!(status.success(), "exits cleanly on SIGTERM: {status}");

    // A second run, stopped in the middle of an outage: SIGTERM is honoured within the grace.
    let (mut crier, log, base) = serve(&url).await;
    wait_ready(&base).await;
    stop_postgres(cluster).await;
    wait_health(&base, StatusCode::SERVICE_UNAVAILABLE, Duration::from_secs(5)).await;
    // Until the loops have noticed and are in their backoff.
    log.wait_for("claiming deliveries failed; retrying with backoff until it works again", Duration::from_secs(30)).await;
    sigterm(&crier);
    let (status, took) = wait_exit(&mut crier, GRACE).await;
    eprintln!("outage: stopped {:.2} s after SIGTERM during an outage ({status})", took.as_secs_f64());
    assert!(status.success(), "exits cleanly on SIGTERM during an outage: {status}; the log:\n{}", log.all());
}
