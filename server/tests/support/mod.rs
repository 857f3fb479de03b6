//! Test harness: the real application (the same `crier::build` that `main` uses) on a random
//! port, against a fresh database on the shared test cluster.

#![allow(dead_code)] // each test binary uses a different part of the harness

/// The domain tests' template helpers: the server's own template below uses their migration
/// `fingerprint` and `block_on`.
#[path = "../../../domain/tests/support/migrated.rs"]
mod migrated;

use std::collections::HashMap;
use std::sync::LazyLock;

use crier::config::{KeyRing, WebArgs, WebConfig};
use crier::database::Database;
use reqwest::header::{ACCEPT, LOCATION, REFERER};
use reqwest::{Client, Response, StatusCode};
use serde_json::Value;
use sqlx::PgPool;
use tokio::sync::oneshot;

/// The sandbox control API's token in tests (`CRIER_SANDBOX_CONTROL_TOKEN`).
pub const SANDBOX_CONTROL_TOKEN: &str = "test-sandbox-control-token";

/// A running app and a database handle to inspect it.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`
    pub base: String,
    /// The app's database.
    pub pool: PgPool,
    /// Its URL (for commands run beside the app).
    pub url: String,
    /// `/metrics` on an address of its own, when configured.
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// The media settings it runs with (a directory of its own unless the test chose a store).
    pub media: crier::config::MediaConfig,
    /// Its vault (to sign what the app signs, as a platform would receive it).
    pub vault: std::sync::Arc<crier_vault::Vault>,
    stop: Option<oneshot::Sender<()>>,
    /// Its media directory, removed when the test ends.
    _media_dir: tempfile::TempDir,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl TestApp {
    /// Starts the app on a fresh database.
    pub async fn spawn() -> TestApp {
        Self::spawn_with(WebArgs { addr: "127.0.0.1:0".into(), ..WebArgs::default() }).await
    }

    /// Starts the app on a fresh database with these web settings.
    pub async fn spawn_with(args: WebArgs) -> TestApp {
        Self::start(WebConfig::parse(&args).unwrap(), None).await
    }

    /// Starts the app with its worker pool in the same process (as `crier serve` does), so
    /// posts are published to the sandbox.
    pub async fn spawn_with_worker() -> TestApp {
        Self::spawn_with_worker_media(|_| {}).await
    }

    /// [`TestApp::spawn_with_worker`] with media settings the test changes (the worker reads the
    /// same).
    pub async fn spawn_with_worker_media(change: impl FnOnce(&mut crier::config::MediaConfig)) -> TestApp {
        let mut web = WebConfig::parse(&WebArgs { addr: "127.0.0.1:0".into(), ..WebArgs::default() }).unwrap();
        change(&mut web.media);
        let worker = crier::config::WorkerConfig::parse(&crier::config::WorkerArgs::default()).unwrap();
        Self::start(web, Some(worker)).await
    }

    /// Starts the app with media settings the test chooses, in `dir` (which the test keeps).
    pub async fn spawn_with_media(dir: &std::path::Path, change: impl FnOnce(&mut crier::config::MediaConfig)) -> TestApp {
        let mut web = WebConfig::parse(&WebArgs { addr: "127.0.0.1:0".into(), ..WebArgs::default() }).unwrap();
        web.media = crier::config::MediaConfig::in_data_dir(dir);
        change(&mut web.media);
        Self::spawn_configured(web).await
    }

    /// Starts the app on a fresh database with this parsed configuration (metrics, operations).
    pub async fn spawn_configured(web: WebConfig) -> TestApp {
        Self::start(web, None).await
    }

    async fn start(mut web: WebConfig, mut worker: Option<crier::config::WorkerConfig>) -> TestApp {
        // Each app keeps its media (and its uploads in progress) in a directory of its own, unless
        // the test gave it another store; the worker reads the same one.
        let media_dir = tempfile::tempdir().expect("a media directory");
        if web.media.store == crier::config::MediaConfig::in_data_dir(std::path::Path::new(crier::config::DEFAULT_DATA_DIR)).store {
            let own = crier::config::MediaConfig::in_data_dir(media_dir.path());
            (web.media.store, web.media.upload_dir) = (own.store, own.upload_dir);
        }
        if let Some(worker) = worker.as_mut() {
            worker.media = web.media.clone();
        }
        // The sandbox's control API answers only to its token inside `crier serve`; tests hold it.
        web.platforms.sandbox_control_token.get_or_insert_with(|| secrecy::SecretString::from(SANDBOX_CONTROL_TOKEN.to_owned()));
        let url = tokio::task::spawn_blocking(migrated_database).await.unwrap();
        // Still checks the migrations, as the app does; they are all applied already.
        let database = Database::open_url(&url).await.expect("database opens and migrates");
        let vault = KeyRing::ephemeral().open_vault(&database.pool).await.expect("the vault opens");
        // As with the embedded database: the sandbox is on unless the test configures a platform.
        let web_media = web.media.clone();
        let vault = std::sync::Arc::new(vault);
        let app = crier::build(&database, web, vault.clone(), true).await.expect("app builds");
        let base = format!("http://{}", app.addr());
        let metrics_addr = app.metrics_addr();
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(app.run_with_worker(database.pool.clone(), worker, async move {
            let _ = stopped.await;
        }));
        TestApp { base, pool: database.pool.clone(), url, metrics_addr, media: web_media, vault, stop: Some(stop), _media_dir: media_dir }
    }

    /// The sandbox's ledger (every team's published posts, each with its media), read through
    /// its control API with the operator's token.
    pub async fn sandbox_ledger(&self) -> Value {
        let response = self
            .browser()
            .client
            .get(format!("{}/sandbox/control/ledger", self.base))
            .bearer_auth(SANDBOX_CONTROL_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "the ledger answers to the control token");
        response.json().await.unwrap()
    }

    /// A new browser-like client: its own cookie jar, redirects not followed (tests look at them).
    pub fn browser(&self) -> Browser {
        Browser {
            base: self.base.clone(),
            client: Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap(),
        }
    }

    /// A signed-in owner of a new team.
    pub async fn owner(&self, team: &str, email: &str) -> Browser {
        let browser = self.browser();
        let response = browser.sign_up(team, email, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::OK, "sign-up succeeds");
        browser
    }

    /// A signed-in member of `owner`'s team with `role`, invited by `owner` and joined.
    pub async fn member(&self, owner: &Browser, email: &str, role: &str) -> Browser {
        let invite: Value = owner.call("create_invite", &[("email", email), ("role", role)]).await.json().await.unwrap();
        let token = invite["url"].as_str().unwrap_or_else(|| panic!("invite answer: {invite}")).rsplit('/').next().unwrap().to_owned();
        let joiner = self.browser();
        let accepted = joiner.call("accept_invite", &[("token", &token), ("password", PASSWORD)]).await;
        assert_eq!(accepted.status(), StatusCode::OK, "{}", accepted.text().await.unwrap());
        joiner
    }
}

/// A fresh database set up as [`Database::open_url`] sets one up (Crier's migrations, the
/// `hstore` extension, the job queue's migrations), copied from a template that the first test
/// on the cluster prepares with `open_url` itself; returns its URL. Blocking: call it through
/// `spawn_blocking`.
pub fn migrated_database() -> String {
    static TEMPLATE: LazyLock<String> = LazyLock::new(|| {
        let mut contents = migrated::fingerprint(&crier_domain::MIGRATOR);
        contents.extend(migrated::fingerprint(&apalis_postgres::PostgresStorage::migrations()));
        // What else `open_url` sets up is written in database.rs (`migrate`), and how the template
        // is prepared in this file: an edit to either makes a new template, so a change there is
        // never tested against an old one.
        contents.extend(include_bytes!("../../src/database.rs"));
        contents.extend(include_bytes!("mod.rs"));
        crier_embedded_pg::test_cluster::template_name("crier_server", &contents)
    });
    crier_embedded_pg::test_cluster::fresh_database_from_template(&TEMPLATE, |url| {
        migrated::block_on(async { Database::open_url(url).await.expect("the template database opens and migrates").close().await })
    })
}

/// The password the helpers use.
pub const PASSWORD: &str = "correct horse battery";

/// One person's browser.
pub struct Browser {
    /// The app's base URL.
    pub base: String,
    /// The HTTP client with this browser's cookies.
    pub client: Client,
}

impl Browser {
    /// Calls a server function as the hydrated page does (form-encoded in, JSON out).
    pub async fn call(&self, function: &str, form: &[(&str, &str)]) -> Response {
        self.client.post(format!("{}/api/{function}", self.base)).form(form).send().await.unwrap()
    }

    /// Calls a server function as a plain HTML form post does (before the wasm has loaded).
    pub async fn post_plain(&self, function: &str, form: &[(&str, &str)], from_page: &str) -> Response {
        self.client
            .post(format!("{}/api/{function}", self.base))
            .header(ACCEPT, "text/html,application/xhtml+xml")
            .header(REFERER, format!("{}{from_page}", self.base))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// GETs a page.
    pub async fn get(&self, path: &str) -> Response {
        self.client.get(format!("{}{path}", self.base)).send().await.unwrap()
    }

    /// GETs a page that must render, and returns its HTML without Leptos' `<!>` hydration
    /// markers (with `--cfg erase_components` every element's children end with one), so tests
    /// read `<h1>Dashboard</h1>` as a person would.
    pub async fn page(&self, path: &str) -> String {
        let response = self.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.text().await.unwrap().replace("<!>", "")
    }

    /// Signs up a team.
    pub async fn sign_up(&self, team: &str, email: &str, password: &str) -> Response {
        self.call("sign_up", &[("team_name", team), ("email", email), ("password", password)]).await
    }

    /// Logs in.
    pub async fn log_in(&self, email: &str, password: &str, next: Option<&str>) -> Response {
        let mut form = vec![("email", email), ("password", password)];
        if let Some(next) = next {
            form.push(("next", next));
        }
        self.call("log_in", &form).await
    }

    /// Uploads files as the Compose page's script does (multipart, JSON answer).
    pub async fn upload(&self, files: &[(&str, Vec<u8>)], alt_text: &str) -> Response {
        let mut form = reqwest::multipart::Form::new().text("alt_text", alt_text.to_owned());
        for (name, bytes) in files {
            form = form.part("file", reqwest::multipart::Part::bytes(bytes.clone()).file_name((*name).to_owned()));
        }
        self.client.post(format!("{}/media/upload", self.base)).header(ACCEPT, "application/json").multipart(form).send().await.unwrap()
    }

    /// Logs out.
    pub async fn log_out(&self) -> Response {
        self.call("log_out", &[]).await
    }
}

/// The `Location` a response redirects to.
pub fn location(response: &Response) -> Option<String> {
    response.headers().get(LOCATION).map(|v| v.to_str().unwrap().to_owned())
}

/// The JSON error a failed server function answered with.
pub async fn error_of(response: Response) -> Value {
    assert!(response.status().is_server_error() || response.status().is_client_error(), "expected an error, got {}", response.status());
    response.json().await.unwrap()
}

/// Field name → message of a `Fields` error.
pub fn field_errors(error: &Value) -> HashMap<String, String> {
    error["Fields"]
        .as_array()
        .unwrap_or_else(|| panic!("not a field error: {error}"))
        .iter()
        .map(|f| (f["field"].as_str().unwrap().to_owned(), f["message"].as_str().unwrap().to_owned()))
        .collect()
}

/// The `name`/`value` pairs of the page's hidden inputs, and its form's action.
pub fn form_of(html: &str) -> (String, Vec<(String, String)>) {
    let action = html.split("<form").nth(1).and_then(|f| f.split("action=\"").nth(1)).and_then(|a| a.split('"').next()).unwrap_or_default();
    let hidden = html
        .split("<input type=\"hidden\" ")
        .skip(1)
        .filter_map(|tag| {
            let name = tag.split("name=\"").nth(1)?.split('"').next()?;
            let value = tag.split("value=\"").nth(1)?.split('"').next()?;
            Some((name.to_owned(), value.replace("&amp;", "&").replace("&quot;", "\"").replace("&#39;", "'")))
        })
        .collect();
    (action.replace("&amp;", "&"), hidden)
}

/// Clicks "Connect {platform}", answers the sandbox consent page with `extra` fields and
/// `decision` (authorize / cancel), follows the callback, and returns where the app sent the
/// browser then.
pub async fn connect(browser: &Browser, platform: &str, extra: &[(&str, &str)], decision: &str) -> String {
    let start = browser.get(&format!("/accounts/connect/{platform}")).await;
    assert_eq!(start.status(), StatusCode::SEE_OTHER, "Connect redirects to the consent page");
    let consent_url = location(&start).unwrap();
    assert!(consent_url.contains("/sandbox/"), "the sandbox's consent page: {consent_url}");
    let consent = browser.client.get(&consent_url).send().await.unwrap();
    assert_eq!(consent.status(), StatusCode::OK);
    let html = consent.text().await.unwrap();
    assert!(html.contains("Crier (sandbox)"), "the consent page names the app");
    let (action, mut fields) = form_of(&html);
    let action = if action.starts_with("http") { action } else { consent_url.split('?').next().unwrap().to_owned() };
    fields.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    fields.push(("action".into(), decision.into()));
    let answered = browser.client.post(&action).form(&fields).send().await.unwrap();
    assert!(answered.status().is_redirection(), "the consent form redirects back ({})", answered.status());
    let callback = location(&answered).unwrap();
    assert!(callback.contains(&format!("/oauth/{platform}/callback")), "back to Crier's callback: {callback}");
    let back = browser.client.get(&callback).send().await.unwrap();
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    location(&back).unwrap()
}

/// Connects an X account (the sandbox's user `test_x`) for `browser`'s team through the consent
/// page; answers its id.
pub async fn connect_x_account(app: &TestApp, browser: &Browser) -> String {
    assert_eq!(connect(browser, "x", &[("account", "test_x")], "authorize").await, "/accounts");
    sqlx::query_scalar("select account_id::text from platform_account order by connected_at desc limit 1")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// Connects a Facebook Page called `page` (created at the sandbox) for `browser`'s team through
/// the consent page and the chooser; answers its account id.
pub async fn connect_facebook_page(app: &TestApp, browser: &Browser, page: &str) -> String {
    let next = connect(browser, "facebook", &[("account", "owner.fb"), ("new_page", page)], "authorize").await;
    let connection_id = next.rsplit('/').next().expect("the chooser's address names the connection").to_owned();
    let choices: Value = browser.call("accounts/choices", &[("connection_id", &connection_id)]).await.json().await.unwrap();
    let option = choices["options"].as_array().unwrap().iter().find(|o| o["label"] == page).expect("the Page is offered").clone();
    let chosen =
        browser.call("accounts/choose", &[("connection_id", &connection_id), ("chosen[0]", option["key"].as_str().unwrap())]).await;
    assert!(chosen.status().is_success() || chosen.status().is_redirection(), "{}", chosen.status());
    sqlx::query_scalar("select account_id::text from platform_account where name = $1").bind(page).fetch_one(&app.pool).await.unwrap()
}

/// A child process killed if the test ends early (a failed assertion must not leave processes behind).
pub struct KillOnDrop(pub std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}
