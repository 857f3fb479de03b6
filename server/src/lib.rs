//! The `crier` binary's library: configuration, database, web server and worker pool.
//!
//! `main` only parses the command line; [`build`] assembles the web application and is what the
//! integration tests start, so they exercise exactly what production runs.

pub mod admin;
pub mod api;
pub mod bench;
pub mod cli;
pub mod config;
pub mod database;
pub mod media_bytes;
pub mod media_fetch;
pub mod memory;
pub mod platforms;
pub mod resumable;
pub mod sandbox;
pub mod telemetry;
pub mod uploads;
pub mod web;
pub mod worker;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use crier_accounts::Accounts;
use crier_vault::Vault;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::config::{WebConfig, WorkerConfig};
use crate::database::Database;

/// A web application bound to its address, ready to run.
pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    addr: SocketAddr,
    /// The accounts service the in-process worker publishes with (the same the web app uses).
    accounts: Arc<Accounts>,
    vault: Arc<Vault>,
    /// `/metrics` on an address of its own (CRIER_METRICS_ADDR).
    metrics: Option<web::metrics::MetricsServer>,
    /// Where people (and platforms fetching media) reach this app.
    public_base: String,
    /// The database, for the notifier.
    pool: sqlx::PgPool,
    /// How this process sends notifications (every web process does, with or without a worker
    /// pool beside it, so that stalled publishing is noticed even when every worker is dead).
    notifier: crier_publisher::notify::NotifierConfig,
    /// The teams' feeds' poller (every web process runs one beside the notifier; claims keep two
    /// from polling one feed at once). The pages' "Check now" uses it too.
    feeds: Arc<crier_publisher::feeds::Poller>,
}

impl Application {
    /// The address actually bound (port 0 becomes a real port).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Where `/metrics` listens on an address of its own, if it does.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().and_then(|m| m.addr().ok())
    }

    /// Serves, with the worker pool in the same process unless `worker` is `None`, until
    /// `shutdown` completes; then finishes in-flight requests and stops the pool gracefully.
    pub async fn run_with_worker(
        self,
        pool: sqlx::PgPool,
        worker: Option<WorkerConfig>,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        // One shutdown signal fans out to the web server and the worker pool.
        let stop_rx = fan_out(shutdown);
        let (accounts, vault, public_base) = (self.accounts.clone(), self.vault.clone(), self.public_base.clone());
        let web_task = self.run_until(stopped(stop_rx.clone()));
        match worker {
            Some(mut settings) => {
                // The in-process worker's media links point at this app.
                settings.public_base.get_or_insert(public_base);
                let worker_task = worker::run(pool, vault, accounts, settings, stopped(stop_rx));
                let (web_result, worker_result) = tokio::join!(web_task, worker_task);
                web_result.and(worker_result)
            }
            None => web_task.await,
        }
    }

    /// Serves, and sends notifications, until `shutdown` completes, then finishes in-flight
    /// requests.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let stop = fan_out(shutdown);
        let notifier = crier_publisher::notify::run(self.pool, self.vault, self.notifier, stopped(stop.clone()));
        let feeds = crier_publisher::feeds::run(self.feeds, stopped(stop.clone()));
        let web = axum::serve(self.listener, self.router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(stopped(stop.clone()));
        let served = async {
            match self.metrics {
                Some(metrics) => {
                    let (web, metrics) = tokio::join!(web, metrics.run_until(stopped(stop)));
                    web.context("the web server failed").and(metrics)
                }
                None => web.await.context("the web server failed"),
            }
        };
        let (served, notified, ()) = tokio::join!(served, notifier, feeds);
        served.and(notified.map_err(|e| anyhow::anyhow!("the notifier failed: {e}")))
    }
}

/// Binds the web server and assembles the router on an open database. `vault` seals the platform
/// tokens; `embedded_database` decides whether the sandbox is on by default (see
/// [`platforms::sandbox_enabled`]).
pub async fn build(database: &Database, web: WebConfig, vault: Arc<Vault>, embedded_database: bool) -> anyhow::Result<Application> {
    let listener = TcpListener::bind(web.addr).await.with_context(|| format!("cannot listen on {} (CRIER_ADDR)", web.addr))?;
    let addr = listener.local_addr()?;
    let public_base = web.public_base(addr);
    let sandbox_on = platforms::sandbox_enabled(&web, embedded_database);
    let assembled = platforms::assemble(&web, addr, &public_base, sandbox_on);
    if sandbox_on {
        tracing::info!(url = %format!("{public_base}{}", sandbox::PREFIX), "the sandbox platforms are on: Connect buttons go to fakes");
    }
    let pictures = crier_accounts::PictureFetcher::new(picture_policy(&web, addr, sandbox_on), web.account_picture_max_bytes)
        .context("the profile pictures' HTTP client cannot be built")?;
    let accounts =
        Arc::new(Accounts::new(database.pool.clone(), vault.clone(), assembled.clients, Some(public_base.clone())).with_pictures(pictures));
    let metrics = web::metrics::MetricsServer::bind(database.pool.clone(), &web.metrics, web.operations.readiness.stale_after).await?;
    let media = Arc::new(open_media(&web.media, &vault)?);
    let notifier = crier_publisher::notify::NotifierConfig {
        mailer: web.notify.mailer.clone(),
        gather: web.notify.gather,
        allow_http: web.webhooks_allow_http,
        outbound: web.outbound.clone(),
        stall_after: web.operations.readiness.max_queue_age,
        ..crier_publisher::notify::NotifierConfig::new(worker::unique_worker_name("web"), public_base.clone())
    };
    let feeds = crier_publisher::feeds::FeedsConfig {
        min_interval: web.feeds.min_interval,
        tick: web.feeds.tick,
        allow_http: web.webhooks_allow_http,
        outbound: web.outbound.clone(),
        rules: media.rules.clone(),
    };
    let feeds = Arc::new(crier_publisher::feeds::Poller::new(database.pool.clone(), feeds).context("the feed poller cannot be built")?);
    let router = web::router(database.pool.clone(), vault.clone(), accounts.clone(), assembled.sandbox, media, feeds.clone(), web, addr);
    Ok(Application { listener, router, addr, accounts, vault, metrics, public_base, pool: database.pool.clone(), notifier, feeds })
}

/// Where profile pictures may be fetched from: where URLs teams give may point
/// (CRIER_OUTBOUND_ALLOW_NETWORKS), and, with the sandbox on, this app's own address, where the
/// fake platforms' image host is, so that trying Crier with the sandbox shows pictures without
/// allowing loopback for webhooks too. Only the platforms (here the fakes) name picture URLs, the
/// fetch is a plain GET without cookies, and only image bytes are kept.
fn picture_policy(web: &WebConfig, addr: SocketAddr, sandbox_on: bool) -> crier_outbound::AddressPolicy {
    let mut networks = web.outbound.allowed_networks().to_vec();
    if sandbox_on && !addr.ip().is_unspecified() {
        networks.push(ipnet::IpNet::from(addr.ip()));
    }
    crier_outbound::AddressPolicy::allowing(networks)
}

/// Opens the media store (a bad setting stops start-up) and checks in the background that it
/// answers (an unreachable bucket is logged, not fatal: publishing text needs no media).
pub(crate) fn open_media(config: &config::MediaConfig, vault: &Vault) -> anyhow::Result<app::state::Media> {
    let store = crier_media::storage::MediaStore::open(&config.store).context("CRIER_MEDIA_STORE")?;
    std::fs::create_dir_all(&config.upload_dir)
        .with_context(|| format!("cannot create {}, where uploads are written while they arrive", config.upload_dir.display()))?;
    let checked = store.clone();
    tokio::spawn(async move {
        if let Err(error) = checked.check().await {
            tracing::error!(store = checked.location(), %error, "the media store does not work: uploads and media posts will fail until it does");
        }
    });
    Ok(app::state::Media {
        store,
        upload_dir: config.upload_dir.clone(),
        max_file_bytes: config.max_file_bytes,
        team_quota_bytes: config.team_quota_bytes,
        links: crier_domain::media_link::MediaLinks::new(vault),
        rules: crier_domain::post::MediaRules(config.limits.clone()),
        inspections: tokio::sync::Semaphore::new(1),
    })
}

/// `crier serve`: the web app, and the worker pool unless `worker` is `None`, until `shutdown`.
pub async fn serve(
    database: &Database,
    web: WebConfig,
    vault: Arc<Vault>,
    embedded_database: bool,
    worker: Option<WorkerConfig>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let app = build(database, web.clone(), vault, embedded_database).await?;
    let public_url = web.public_base(app.addr());
    tracing::info!(addr = %app.addr(), %public_url, "Crier is serving");
    app.run_with_worker(database.pool.clone(), worker, shutdown).await
}

/// Lets one shutdown signal stop several tasks: each waits on [`stopped`] with its own receiver.
pub fn fan_out(shutdown: impl Future<Output = ()> + Send + 'static) -> tokio::sync::watch::Receiver<bool> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    stop_rx
}

/// Completes when the signal behind [`fan_out`] has come.
pub async fn stopped(mut rx: tokio::sync::watch::Receiver<bool>) {
    let _ = rx.wait_for(|stop| *stop).await;
}

/// Completes on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
