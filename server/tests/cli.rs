//! The `crier` binary itself: admin commands, configuration errors, help, and the embedded
//! PostgreSQL kept across restarts.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Command, Stdio};

use reqwest::StatusCode;
use support::{KillOnDrop, PASSWORD, location};

const CRIER: &str = env!("CARGO_BIN_EXE_crier");

fn crier() -> Command {
    let mut command = Command::new(CRIER);
    for var in [
        "DATABASE_URL",
        "CRIER_ADDR",
        "CRIER_PUBLIC_URL",
        "CRIER_DATA_DIR",
        "CRIER_SECRET_KEY",
        "CRIER_LOG_FORMAT",
        "CRIER_TRUSTED_PROXIES",
        "CRIER_PREVIOUS_SECRET_KEYS",
        "CRIER_SANDBOX",
        "CRIER_X_API_URL",
        "CRIER_X_CLIENT_ID",
        "CRIER_LINKEDIN_CLIENT_ID",
        "CRIER_META_CLIENT_ID",
        "CRIER_METRICS_TOKEN",
        "CRIER_METRICS_ADDR",
        "CRIER_READY_MAX_QUEUE_AGE",
        "CRIER_WORKER_STALE_AFTER",
        "TWITTER_API_KEY",
        "TWITTER_API_SECRET",
        "TWITTER_ACCESS_TOKEN",
        "TWITTER_ACCESS_TOKEN_SECRET",
    ] {
        command.env_remove(var);
    }
    command
}

fn run_with_stdin(mut command: Command, stdin: &str) -> std::process::Output {
    let mut child = command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn admin_create_user_and_create_token() {
    let url = tokio::task::spawn_blocking(crier_embedded_pg::test_cluster::fresh_database).await.unwrap();
    let mut create = crier();
    create.env("DATABASE_URL", &url).args([
        "admin",
        "create-user",
        "--team",
        "Initech",
        "--email",
        "Peter@Example.com",
        "--password-stdin",
    ]);
    let output = run_with_stdin(create, &format!("{PASSWORD}\n"));
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains("created team “Initech” with peter@example.com as its owner"));

    let mut join = crier();
    join.env("DATABASE_URL", &url).args([
        "admin",
        "create-user",
        "--team",
        "initech",
        "--email",
        "milton@example.com",
        "--password-stdin",
        "--role",
        "viewer",
    ]);
    let output = run_with_stdin(join, &format!("{PASSWORD}\n"));
    assert!(String::from_utf8_lossy(&output.stdout).contains("added milton@example.com to team “Initech” as viewer"));

    let short = {
        let mut c = crier();
        c.env("DATABASE_URL", &url).args(["admin", "create-user", "--team", "Initech", "--email", "x@example.com", "--password-stdin"]);
        run_with_stdin(c, "short\n")
    };
    assert_eq!(short.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&short.stderr).contains("--password: Use at least 10 characters"));

    let token =
        crier().env("DATABASE_URL", &url).args(["admin", "create-token", "--team", "Initech", "--name", "deploy"]).output().unwrap();
    assert!(token.status.success(), "{}", String::from_utf8_lossy(&token.stderr));
    let secret = String::from_utf8(token.stdout).unwrap().trim().to_owned();
    assert!(secret.starts_with("crier_api_"), "{secret}");
    assert!(String::from_utf8_lossy(&token.stderr).contains("shown once"));

    // The web app knows the person, and the token authenticates as the team.
    let database = crier::database::Database::open_url(&url).await.unwrap();
    let Some(crier_domain::store::api_tokens::Admission::Admitted(caller)) =
        crier_domain::store::api_tokens::authenticate(&database.pool, &secret, None).await.unwrap()
    else {
        panic!("the token is valid")
    };
    assert_eq!(caller.role, crier_domain::Role::Editor);
    let stored: i64 = sqlx::query_scalar("select count(*) from api_token where name = 'deploy'").fetch_one(&database.pool).await.unwrap();
    assert_eq!(stored, 1);
    let member =
        crier_domain::store::login::log_in(&database.pool, "peter@example.com", PASSWORD.to_owned().into(), "cli-test").await.unwrap();
    assert_eq!(member.role, crier_domain::Role::Owner);
}

#[test]
fn bad_configuration_names_the_variable() {
    let output = crier()
        .env("DATABASE_URL", "postgres://unused/x")
        .env("CRIER_ADDR", "localhost")
        .env("CRIER_SECRET_KEY", "AAAA")
        .args(["serve"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("CRIER_SECRET_KEY: decodes to 3 bytes; it must be exactly 32"), "{stderr}");

    let output = crier().env("CRIER_LOG_FORMAT", "xml").args(["migrate"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("CRIER_LOG_FORMAT: is `xml`; use `pretty` or `json`"));

    // Checked before anything starts, by the web app and the worker alike.
    for command in ["serve", "worker"] {
        let output = crier()
            .env("DATABASE_URL", "postgres://unused/x")
            .env("CRIER_SECRET_KEY", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
            .env("CRIER_OUTBOUND_ALLOW_NETWORKS", "10.0.0.0/8,office")
            .args([command])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{command}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("CRIER_OUTBOUND_ALLOW_NETWORKS: `office` is not an IP address or CIDR range"), "{command}: {stderr}");
    }
}

#[test]
fn help_documents_every_variable() {
    let top = String::from_utf8(crier().arg("--help").output().unwrap().stdout).unwrap();
    for var in [
        "DATABASE_URL",
        "CRIER_DATA_DIR",
        "CRIER_SECRET_KEY",
        "CRIER_LOG_FORMAT",
        "CRIER_ADDR",
        "CRIER_PUBLIC_URL",
        "CRIER_TRUSTED_PROXIES",
        "RUST_LOG",
        "LEPTOS_SITE_ROOT",
    ] {
        assert!(top.contains(var), "crier --help mentions {var}");
    }
    for sub in ["serve", "worker", "migrate", "status", "admin"] {
        assert!(top.contains(sub), "crier --help lists {sub}");
    }
    let serve = String::from_utf8(crier().args(["serve", "--help"]).output().unwrap().stdout).unwrap();
    assert!(serve.contains("--no-worker") && serve.contains("CRIER_WORKER_CONCURRENCY"));
    for var in ["CRIER_METRICS_TOKEN", "CRIER_METRICS_ADDR", "CRIER_READY_MAX_QUEUE_AGE"] {
        assert!(serve.contains(var), "crier serve --help mentions {var}");
    }
    let worker = String::from_utf8(crier().args(["worker", "--help"]).output().unwrap().stdout).unwrap();
    assert!(worker.contains("CRIER_METRICS_ADDR"), "a worker is scraped on its own address");
    for help in [&serve, &worker] {
        assert!(help.contains("CRIER_OUTBOUND_ALLOW_NETWORKS"), "the form and the dispatcher follow one setting");
    }
    let create_user = String::from_utf8(crier().args(["admin", "create-user", "--help"]).output().unwrap().stdout).unwrap();
    assert!(create_user.contains("--password-stdin") && create_user.contains("--team"));
}

/// A `crier serve` process on its own embedded PostgreSQL.
struct Served {
    child: Child,
    base: String,
}

impl Served {
    /// Starts `crier serve` and waits for its "serving" log line (JSON logs), which carries the
    /// address it bound.
    fn start(data_dir: &std::path::Path) -> Served {
        let mut child = crier()
            .env("CRIER_DATA_DIR", data_dir)
            .env("CRIER_ADDR", "127.0.0.1:0")
            .env("CRIER_LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .arg("serve")
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let addr = wait_for_log(&mut lines, "Crier is serving")["fields"]["addr"].as_str().unwrap().to_owned();
        // Keep draining the log so the process never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Served { child, base: format!("http://{addr}") }
    }

    /// SIGTERM, then wait: the server stops its embedded PostgreSQL on the way out.
    fn stop(mut self) {
        nix_kill(self.child.id());
        let status = self.child.wait().unwrap();
        assert!(status.success(), "crier exits cleanly on SIGTERM: {status}");
    }
}

fn nix_kill(pid: u32) {
    let status = Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap();
    assert!(status.success());
}

/// Polls `GET /readyz` until it answers 200, for at most 30 seconds.
async fn wait_ready(base: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let response = reqwest::get(format!("{base}/readyz")).await.unwrap();
        if response.status() == StatusCode::OK {
            return;
        }
        let report = response.text().await.unwrap();
        assert!(std::time::Instant::now() < deadline, "not ready after 30 s: {report}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn restarting_serve_keeps_the_data_in_the_embedded_cluster() {
    // Under /tmp with 0755 so that, when tests run as root, the postgres user can reach it.
    let data_dir = tempfile::Builder::new().prefix("crier-restart-").tempdir_in("/tmp").unwrap();
    std::fs::set_permissions(data_dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let dir = data_dir.path().to_owned();

    let first = tokio::task::spawn_blocking({
        let dir = dir.clone();
        move || Served::start(&dir)
    })
    .await
    .unwrap();
    let client = reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let response = client
        .post(format!("{}/api/sign_up", first.base))
        .form(&[("team_name", "Acme"), ("email", "ada@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    wait_ready(&first.base).await;
    tokio::task::spawn_blocking(move || first.stop()).await.unwrap();
    assert!(!dir.join("pg/postmaster.pid").exists(), "the embedded PostgreSQL was stopped");
    let key = std::fs::read_to_string(dir.join("secret.key")).unwrap();

    let second = tokio::task::spawn_blocking({
        let dir = dir.clone();
        move || Served::start(&dir)
    })
    .await
    .unwrap();
    let fresh = reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let response = fresh
        .post(format!("{}/api/log_in", second.base))
        .form(&[("email", "ada@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "the account survived the restart");
    assert_eq!(location(&response).as_deref(), Some("/"));
    assert!(fresh.get(format!("{}/", second.base)).send().await.unwrap().text().await.unwrap().contains("Acme"));
    assert_eq!(std::fs::read_to_string(dir.join("secret.key")).unwrap(), key, "the generated key is kept");
    tokio::task::spawn_blocking(move || second.stop()).await.unwrap();

    let migrate = crier().env("CRIER_DATA_DIR", &dir).arg("migrate").output().unwrap();
    assert!(migrate.status.success(), "{}", String::from_utf8_lossy(&migrate.stderr));
    assert!(String::from_utf8_lossy(&migrate.stdout).contains("migrations are up to date"));
}

#[tokio::test]
async fn admin_commands_beside_a_running_serve_leave_its_database_running() {
    let data_dir = tempfile::Builder::new().prefix("crier-beside-").tempdir_in("/tmp").unwrap();
    std::fs::set_permissions(data_dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let dir = data_dir.path().to_owned();
    let served = tokio::task::spawn_blocking({
        let dir = dir.clone();
        move || Served::start(&dir)
    })
    .await
    .unwrap();
    let postmaster = std::fs::read_to_string(dir.join("pg/postmaster.pid")).unwrap();

    // The admin commands adopt serve's cluster, and leave it running when they exit.
    let mut create = crier();
    create.env("CRIER_DATA_DIR", &dir).args(["admin", "create-user", "--team", "Beside", "--email", "ada@example.com", "--password-stdin"]);
    let created = tokio::task::spawn_blocking(move || run_with_stdin(create, &format!("{PASSWORD}\n"))).await.unwrap();
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    assert!(String::from_utf8_lossy(&created.stdout).contains("created team “Beside”"));
    let token = crier().env("CRIER_DATA_DIR", &dir).args(["admin", "create-token", "--team", "Beside", "--name", "ops"]).output().unwrap();
    assert!(token.status.success(), "{}", String::from_utf8_lossy(&token.stderr));
    let migrate = crier().env("CRIER_DATA_DIR", &dir).arg("migrate").output().unwrap();
    assert!(migrate.status.success(), "{}", String::from_utf8_lossy(&migrate.stderr));
    assert_eq!(std::fs::read_to_string(dir.join("pg/postmaster.pid")).unwrap(), postmaster, "the same PostgreSQL still runs");

    // serve never noticed: it answers, and knows the person the command created.
    let health = reqwest::get(format!("{}/healthz", served.base)).await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let browser = reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let logged_in = browser
        .post(format!("{}/api/log_in", served.base))
        .form(&[("email", "ada@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(logged_in.status(), StatusCode::OK);
    assert!(browser.get(format!("{}/", served.base)).send().await.unwrap().text().await.unwrap().contains("Beside"));
    let api = reqwest::Client::new()
        .get(format!("{}/api/v1/posts", served.base))
        .bearer_auth(String::from_utf8(token.stdout).unwrap().trim())
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::OK, "the token the command created works");

    // serve started the cluster and nobody else uses it now: it stops it on the way out.
    tokio::task::spawn_blocking(move || served.stop()).await.unwrap();
    assert!(!dir.join("pg/postmaster.pid").exists(), "the embedded PostgreSQL was stopped");
}

/// Reads a child's JSON log lines until one has `message`; returns that event.
fn wait_for_log(lines: &mut impl Iterator<Item = std::io::Result<String>>, message: &str) -> serde_json::Value {
    loop {
        let line = lines.next().unwrap_or_else(|| panic!("process exited before logging {message:?}")).unwrap();
        if let Ok(event) = serde_json::from_str::<serde_json::Value>(&line)
            && event["fields"]["message"] == message
        {
            return event;
        }
    }
}

#[tokio::test]
async fn web_and_worker_run_as_separate_processes() {
    let url = tokio::task::spawn_blocking(crier_embedded_pg::test_cluster::fresh_database).await.unwrap();
    let key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="; // 32 bytes, base64
    let spawn = |args: &[&str]| {
        crier()
            .env("DATABASE_URL", &url)
            .env("CRIER_SECRET_KEY", key)
            .env("CRIER_ADDR", "127.0.0.1:0")
            .env("CRIER_LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .args(args)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };

    let mut web = spawn(&["serve", "--no-worker"]);
    let mut web_log = BufReader::new(web.stderr.take().unwrap()).lines();
    let serving = tokio::task::spawn_blocking(move || (wait_for_log(&mut web_log, "Crier is serving"), web_log)).await.unwrap();
    let base = format!("http://{}", serving.0["fields"]["addr"].as_str().unwrap());
    std::thread::spawn(move || for _ in serving.1 {});
    let readyz = reqwest::get(format!("{base}/readyz")).await.unwrap();
    assert_eq!(readyz.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(readyz.json::<serde_json::Value>().await.unwrap()["failing"], serde_json::json!(["worker"]), "--no-worker runs no worker");

    let mut worker = spawn(&["worker"]);
    let mut worker_log = BufReader::new(worker.stderr.take().unwrap()).lines();
    // The pool enqueues a housekeeping pass at start and runs it: proof it registered and works.
    let worker_log = tokio::task::spawn_blocking(move || {
        wait_for_log(&mut worker_log, "housekeeping done");
        worker_log
    })
    .await
    .unwrap();
    wait_ready(&base).await; // the web process sees the worker's heartbeat
    let database = crier::database::Database::open_url(&url).await.unwrap();
    let names: Vec<String> = sqlx::query_scalar("select id from apalis.workers").fetch_all(&database.pool).await.unwrap();
    assert_eq!(names.len(), 1);
    assert!(names[0].starts_with("crier-worker-"), "{names:?}");

    nix_kill(worker.id());
    let stopped = tokio::task::spawn_blocking(move || {
        let mut lines = worker_log;
        wait_for_log(&mut lines, "worker pool stopped");
        worker.wait().unwrap()
    })
    .await
    .unwrap();
    assert!(stopped.success(), "the worker stops cleanly on SIGTERM");
    nix_kill(web.id());
    assert!(web.wait().unwrap().success());
}

#[test]
fn check_text_prints_one_json_line_per_platform() {
    let check = |platform: &str, text: &str| {
        let output = run_with_stdin(
            {
                let mut c = crier();
                c.args(["check-text", "--platform", platform]);
                c
            },
            text,
        );
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        serde_json::from_slice::<serde_json::Value>(&output.stdout).unwrap()
    };
    // A URL counts 23 on X, and the trailing newline of `echo` is not part of the post.
    assert_eq!(
        check("x", "Read https://example.com/a/very/long/path/that/is/still/one/link\n"),
        serde_json::json!({"platform": "x", "length": 28, "limit": 280, "valid": true})
    );
    assert_eq!(check("x", &"a".repeat(281))["valid"], false);
    assert_eq!(check("linkedin", "Hello (world)")["length"], 13, "counted as typed, before escaping");
    assert_eq!(check("facebook", "")["valid"], false, "an empty post is never valid");

    let unknown = run_with_stdin(
        {
            let mut c = crier();
            c.args(["check-text", "--platform", "myspace"]);
            c
        },
        "hi",
    );
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("--platform: unknown platform"));
}

/// Runs the binary off the async runtime (the sandbox it talks to is served on that runtime).
async fn run_blocking(command: Command) -> std::process::Output {
    tokio::task::spawn_blocking(move || run_with_stdin(command, "")).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_env_connects_x_keys_and_rotate_key_reseals_them() {
    use base64::Engine as _;
    let url = tokio::task::spawn_blocking(crier_embedded_pg::test_cluster::fresh_database).await.unwrap();
    let sandbox_base = initech_and_an_x_sandbox(&url).await.0;
    let key = |byte: u8| base64::engine::general_purpose::STANDARD.encode([byte; 32]);
    let import = |secret: &str, keys: &str| import_x_keys(&url, &sandbox_base, keys, secret);

    let refused = run_blocking(import("not-the-secret", &key(1))).await;
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("X refused these keys"), "{}", String::from_utf8_lossy(&refused.stderr));

    let imported = run_blocking(import("token-secret-1234567890", &key(1))).await;
    assert!(imported.status.success(), "{}", String::from_utf8_lossy(&imported.stderr));
    let said = String::from_utf8_lossy(&imported.stdout);
    assert!(said.contains("connected X account") && said.contains("@initech_news") && said.contains("to team “initech”"), "{said}");

    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let dump: Vec<(String,)> = sqlx::query_as("select row_to_json(t)::text from platform_account t").fetch_all(&pool).await.unwrap();
    assert_eq!(dump.len(), 1, "one account, the refused keys stored nothing");
    for secret in ["consumer-secret-1234567890", "access-token-1234567890", "token-secret-1234567890", "initech-consumer-key"] {
        assert!(!dump[0].0.contains(secret), "{secret} is stored in plain text");
    }
    assert!(dump[0].0.contains("\"auth_method\":\"oauth1\""));

    // Rotate from key 1 to key 2.
    let mut rotate = crier();
    rotate
        .env("DATABASE_URL", &url)
        .env("CRIER_SECRET_KEY", key(2))
        .env("CRIER_PREVIOUS_SECRET_KEYS", key(1))
        .args(["admin", "rotate-key"]);
    let rotated = run_blocking(rotate).await;
    assert!(rotated.status.success(), "{}", String::from_utf8_lossy(&rotated.stderr));
    assert!(String::from_utf8_lossy(&rotated.stdout).contains("re-encrypted 1 secret(s)"), "{}", String::from_utf8_lossy(&rotated.stdout));

    // Key 2 alone now reads everything; key 1 alone reads nothing.
    let check = |keys: String| {
        let mut command = crier();
        command.env("DATABASE_URL", &url).env("CRIER_SECRET_KEY", keys).args(["admin", "rotate-key"]);
        command
    };
    let with_new = String::from_utf8_lossy(&run_blocking(check(key(2))).await.stdout).into_owned();
    assert!(with_new.contains("re-encrypted 0 secret(s) under the current key (1 already were)"), "{with_new}");
    let with_old = String::from_utf8_lossy(&run_blocking(check(key(1))).await.stdout).into_owned();
    assert!(with_old.contains("1 account(s) could not be decrypted"), "{with_old}");
}

#[tokio::test]
async fn sandbox_runs_alone_and_takes_app_registrations() {
    let mut command = crier();
    command.args(["sandbox", "--addr", "127.0.0.1:0"]).stdout(Stdio::piped()).stderr(Stdio::null());
    let mut child: Child = command.spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let base = line.trim().strip_prefix("crier: sandbox serving at ").unwrap_or_else(|| panic!("announces its URL: {line}")).to_owned();
    assert!(base.ends_with("/sandbox"), "{base}");

    let http = reqwest::Client::new();
    let registered = http
        .post(format!("{base}/control/x/apps"))
        .json(&serde_json::json!({"client_id": "bench", "client_secret": "s", "redirect_uri": "http://127.0.0.1:1/cb", "name": "Bench"}))
        .send()
        .await
        .unwrap();
    assert!(registered.status().is_success(), "{}", registered.status());
    let consent = http.get(format!("{base}/x/i/oauth2/authorize?response_type=code&client_id=bench&redirect_uri=http%3A%2F%2F127.0.0.1%3A1%2Fcb&scope=tweet.read&state=s&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGKSC5DqDg&code_challenge_method=S256")).send().await.unwrap();
    assert_eq!(consent.status(), StatusCode::OK);
    assert!(consent.text().await.unwrap().contains("Bench"));
    let ledger = http.get(format!("{base}/control/ledger")).send().await.unwrap();
    assert_eq!(ledger.status(), StatusCode::OK);
    child.kill().unwrap();
    child.wait().unwrap();
}

/// Team "Initech" with its owner, and a sandbox where X knows Initech's OAuth 1.0a keys.
async fn initech_and_an_x_sandbox(url: &str) -> (String, crier_sandbox::Sandbox) {
    let mut create = crier();
    create.env("DATABASE_URL", url).args(["admin", "create-user", "--team", "Initech", "--email", "peter@example.com", "--password-stdin"]);
    assert!(run_with_stdin(create, &format!("{PASSWORD}\n")).status.success());
    let (base, sandbox) = crier_sandbox::Sandbox::serve_local(crier_sandbox::SandboxConfig::default()).await.unwrap();
    sandbox.register_x_oauth1(
        "initech-consumer-key",
        "consumer-secret-1234567890",
        "access-token-1234567890",
        "token-secret-1234567890",
        "initech_news",
    );
    (base, sandbox)
}

/// `crier admin import-env` of Initech's X keys (with `secret` as the token secret) under `keys`.
fn import_x_keys(url: &str, sandbox_base: &str, keys: &str, secret: &str) -> Command {
    let mut command = crier();
    command
        .env("DATABASE_URL", url)
        .env("CRIER_SECRET_KEY", keys)
        .env("CRIER_X_API_URL", format!("{sandbox_base}/x"))
        .env("TWITTER_API_KEY", "initech-consumer-key")
        .env("TWITTER_API_SECRET", "consumer-secret-1234567890")
        .env("TWITTER_ACCESS_TOKEN", "access-token-1234567890")
        .env("TWITTER_ACCESS_TOKEN_SECRET", secret)
        .args(["admin", "import-env", "--team", "initech"]);
    command
}

/// Polls `sql` (a boolean) until it holds, for at most 60 seconds.
async fn wait_until(pool: &sqlx::PgPool, what: &str, sql: &'static str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !sqlx::query_scalar::<_, bool>(sql).fetch_one(pool).await.unwrap() {
        if std::time::Instant::now() > deadline {
            let states: Vec<(String, i64, Option<String>)> =
                sqlx::query_as("select state::text, count(*), max(last_error_message) from delivery group by state")
                    .fetch_all(pool)
                    .await
                    .unwrap();
            panic!("timed out waiting until {what}; deliveries: {states:?}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_worker_killed_mid_publish_loses_nothing_and_publishes_nothing_twice() {
    let url = tokio::task::spawn_blocking(crier_embedded_pg::test_cluster::fresh_database).await.unwrap();
    let (base, sandbox) = initech_and_an_x_sandbox(&url).await;
    let key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    let with_platform = |command: &mut Command| {
        command.env("DATABASE_URL", &url).env("CRIER_SECRET_KEY", key).env("CRIER_X_API_URL", format!("{base}/x"));
    };
    assert!(run_blocking(import_x_keys(&url, &base, key, "token-secret-1234567890")).await.status.success());

    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let worker = || {
        let mut command = crier();
        with_platform(&mut command);
        command.env("RUST_LOG", "warn").args(["worker", "--heartbeat", "1", "--stale-after", "2"]).stderr(Stdio::null());
        KillOnDrop(command.spawn().unwrap())
    };

    // Every call to X takes 1.5 s: the first worker claims everything and is killed mid-call.
    let slow = reqwest::Client::new()
        .post(format!("{base}/control/x/faults"))
        .json(&serde_json::json!({ "latency_ms": 1500 }))
        .send()
        .await
        .unwrap();
    assert!(slow.status().is_success());
    let first: Vec<String> = (0..6).map(|i| format!("Before the crash {i}")).collect();
    schedule_now(&pool, &first).await;
    let mut doomed = worker();
    wait_until(&pool, "the first worker holds every delivery", "select count(*) = 6 from delivery where state = 'publishing'").await;
    let killed = Command::new("kill").args(["-KILL", &doomed.0.id().to_string()]).status().unwrap();
    assert!(killed.success());
    doomed.0.wait().unwrap();
    assert!(reqwest::Client::new().delete(format!("{base}/control/x/faults")).send().await.unwrap().status().is_success());

    // Two fresh workers share the database: the dead one's claims are rescued after its heartbeat
    // goes stale, checked against X, and published where X does not have them.
    let mut second = worker();
    let mut third = worker();
    let more: Vec<String> = (0..30).map(|i| format!("After the crash {i}")).collect();
    schedule_now(&pool, &more).await;
    wait_until(&pool, "every delivery is published", "select count(*) = 36 from delivery where state = 'published'").await;
    let ledger = sandbox.ledger();
    for text in first.iter().chain(&more) {
        assert_eq!(ledger.iter().filter(|e| &e.text == text).count(), 1, "{text} must be on X exactly once");
    }
    let rescued: i64 =
        sqlx::query_scalar("select count(*) from audit_event where action = 'delivery_rescued'").fetch_one(&pool).await.unwrap();
    assert_eq!(rescued, 6, "the killed worker's six claims were rescued");

    for child in [&mut second, &mut third] {
        nix_kill(child.0.id());
        assert!(child.0.wait().unwrap().success(), "SIGTERM stops a worker cleanly");
    }
    let claimed: i64 = sqlx::query_scalar("select count(*) from delivery where claimed_by is not null").fetch_one(&pool).await.unwrap();
    assert_eq!(claimed, 0, "nothing is left claimed");
}

/// Schedules `texts`, due now, to Initech's one account (see [`initech_and_an_x_sandbox`]).
async fn schedule_now(pool: &sqlx::PgPool, texts: &[String]) -> Vec<uuid::Uuid> {
    use crier_domain::post::PostContent;
    use crier_domain::store::audit::Actor;
    use crier_domain::store::posts::{self, NewPost};

    let (team_id, user_id, account_id): (uuid::Uuid, uuid::Uuid, uuid::Uuid) = sqlx::query_as(
        "select t.team_id, u.user_id, a.account_id from team t join app_user u using (team_id) join platform_account a using (team_id)",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    let new: Vec<NewPost> = texts
        .iter()
        .map(|text| NewPost {
            content: PostContent::parse(text, [], "", []).unwrap(),
            account_ids: vec![account_id],
            scheduled_at: chrono::Utc::now(),
            timezone: crier_domain::timezone::TimeZone::UTC,
            dry_run: false,
            retry: Default::default(),
        })
        .collect();
    posts::schedule_all(pool, team_id, Actor::User(user_id), &new, &Default::default()).await.map_err(|(_, e)| e).unwrap()
}

#[tokio::test]
async fn status_prints_the_readiness_checks_and_fails_until_crier_can_publish() {
    let url = tokio::task::spawn_blocking(crier_embedded_pg::test_cluster::fresh_database).await.unwrap();
    let status = |url: &str, json: bool| {
        let mut command = crier();
        command.env("DATABASE_URL", url).arg("status");
        if json {
            command.arg("--json");
        }
        let output = command.output().unwrap();
        (output.status.code(), String::from_utf8(output.stdout).unwrap())
    };

    // An empty database: nothing is migrated, so workers and queue are not even looked at.
    let (code, said) = status(&url, false);
    assert_eq!(code, Some(1), "{said}");
    assert!(said.starts_with("crier: not ready (migrations)\n"), "{said}");
    assert!(said.contains("  database   ok      PostgreSQL answers"), "{said}");
    assert!(said.contains("  migrations FAIL    the database has no readable migrations table; run `crier migrate`"), "{said}");
    assert!(said.contains("  worker     skipped not checked: the migrations are not current"), "{said}");

    let migrate = crier().env("DATABASE_URL", &url).arg("migrate").output().unwrap();
    assert!(migrate.status.success(), "{}", String::from_utf8_lossy(&migrate.stderr));
    let (code, said) = status(&url, true);
    assert_eq!(code, Some(1));
    let report: serde_json::Value = serde_json::from_str(&said).unwrap();
    assert_eq!((report["ready"].clone(), report["failing"].clone()), (serde_json::json!(false), serde_json::json!(["worker"])), "{said}");

    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    crier_domain::store::deliveries::register_worker(&pool, "crier-worker-elsewhere").await.unwrap();
    let (code, said) = status(&url, false);
    assert_eq!(code, Some(0), "{said}");
    assert!(said.starts_with("crier: ready\n"), "{said}");
    assert!(said.contains("queue: 0 due, 0 waiting, 0 publishing, 0 held; 1 worker(s) heartbeating"), "{said}");

    // Nothing listens there: the database check fails and the rest are skipped.
    let (code, said) = status("postgres://crier@127.0.0.1:9/crier", false);
    assert_eq!(code, Some(1), "{said}");
    assert!(said.starts_with("crier: not ready (database)\n") && said.contains("  queue      skipped"), "{said}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_serves_its_metrics_on_its_own_address() {
    let url = tokio::task::spawn_blocking(crier_embedded_pg::test_cluster::fresh_database).await.unwrap();
    let (base, _sandbox) = initech_and_an_x_sandbox(&url).await;
    let key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    assert!(run_blocking(import_x_keys(&url, &base, key, "token-secret-1234567890")).await.status.success());
    let token = "a-worker-metrics-token";
    let mut worker = crier();
    worker
        .env("DATABASE_URL", &url)
        .env("CRIER_SECRET_KEY", key)
        .env("CRIER_X_API_URL", format!("{base}/x"))
        .env("CRIER_METRICS_ADDR", "127.0.0.1:0")
        .env("CRIER_METRICS_TOKEN", token)
        .env("CRIER_LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .arg("worker")
        .stderr(Stdio::piped());
    let mut worker = KillOnDrop(worker.spawn().unwrap());
    let mut log = BufReader::new(worker.0.stderr.take().unwrap()).lines();
    let (serving, log) = tokio::task::spawn_blocking(move || (wait_for_log(&mut log, "serving metrics at /metrics"), log)).await.unwrap();
    std::thread::spawn(move || for _ in log {});
    let metrics = format!("http://{}/metrics", serving["fields"]["addr"].as_str().unwrap());

    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    schedule_now(&pool, &["Measured once".to_owned(), "Measured twice".to_owned()]).await;
    wait_until(&pool, "both are published", "select count(*) = 2 from delivery where state = 'published'").await;

    let http = reqwest::Client::new();
    assert_eq!(http.get(&metrics).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    // The outcome is counted right after its row is written: poll for it.
    let published = r#"crier_deliveries_total{platform="x",outcome="published"} 2"#;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let scrape = loop {
        let scrape = http.get(&metrics).bearer_auth(token).send().await.unwrap().text().await.unwrap();
        if scrape.contains(published) {
            break scrape;
        }
        assert!(std::time::Instant::now() < deadline, "{published} never appeared:\n{scrape}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    for series in [
        r#"crier_publish_duration_seconds_count{platform="x"} 2"#,
        r#"crier_schedule_lag_seconds_count{platform="x"} 2"#,
        r#"crier_queue_depth{state="due"} 0"#,
        "crier_workers_alive 1",
    ] {
        assert!(scrape.contains(series), "{series} is missing from:\n{scrape}");
    }
    assert!(!scrape.contains("crier_http_requests_total"), "a worker answers no web requests");

    nix_kill(worker.0.id());
    assert!(worker.0.wait().unwrap().success(), "the worker and its metrics listener stop cleanly on SIGTERM");
}
