//! Prometheus metrics at `/metrics`: the publishing engine's (see `crier_publisher::telemetry`),
//! the HTTP requests this process answered, and the queue, read from the database at scrape time
//! (one statement, rather than a gauge kept up to date on every event by every process). While the
//! database does not answer, a scrape still answers promptly, with `crier_database_up 0` and the
//! last queue figures read; the outage is logged when it starts and ends, not at every scrape.
//!
//! Who may scrape: with `CRIER_METRICS_ADDR`, `/metrics` is served on that address alone (an
//! address only the Prometheus server reaches); otherwise with `CRIER_METRICS_TOKEN` it is served
//! on the web address to requests bearing the token; with neither it is not served at all (404)
//! and no recorder is installed, so recording costs nothing. When both are set the token guards
//! the separate address too.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use crier_domain::outage::SharedOutage;
use crier_domain::store::status;
use metrics::{Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use secrecy::{ExposeSecret, SecretString};
use sqlx::PgPool;
use tokio::net::TcpListener;

use crate::config::MetricsConfig;

/// HTTP requests answered, by method, matched route (`/posts/{id}`, never the raw path: ids would
/// make a series per post) and status.
pub const HTTP_REQUESTS: &str = "crier_http_requests_total";
/// How long answering took, by method and matched route.
pub const HTTP_DURATION: &str = "crier_http_request_duration_seconds";
/// Deliveries not finished, by where they wait (`due`, `waiting`, `publishing`, `held`).
pub const QUEUE_DEPTH: &str = "crier_queue_depth";
/// How long the oldest due delivery (on an account that is not paused) has waited unclaimed.
pub const QUEUE_OLDEST_DUE: &str = "crier_queue_oldest_due_seconds";
/// Publishing workers whose heartbeat is fresh.
pub const WORKERS_ALIVE: &str = "crier_workers_alive";
/// 1 when the scrape's database read succeeded, 0 when it failed.
pub const DATABASE_UP: &str = "crier_database_up";

/// How often histograms are drained even when nobody scrapes (so memory stays bounded).
const UPKEEP_EVERY: Duration = Duration::from_secs(5);
/// How long a scrape waits for the queue figures (Prometheus gives up after 10 s by default).
const SCRAPE_DB_TIMEOUT: Duration = Duration::from_secs(3);

/// The process's Prometheus recorder, installed on first use. One per process: the facade has
/// one global recorder, and tests build many apps in one process.
pub fn recorder() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let seconds = |builder: PrometheusBuilder, name: &str, buckets: &[f64]| {
            builder.set_buckets_for_metric(Matcher::Full(name.to_owned()), buckets).expect("buckets are not empty")
        };
        let builder = PrometheusBuilder::new();
        let builder = seconds(builder, HTTP_DURATION, &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]);
        let builder =
            seconds(builder, crier_publisher::telemetry::PUBLISH_DURATION, &[0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0]);
        let builder = seconds(
            builder,
            crier_publisher::telemetry::SCHEDULE_LAG,
            &[0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 14_400.0],
        );
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if let Err(e) = metrics::set_global_recorder(recorder) {
            tracing::error!(error = %e, "another metrics recorder is installed; /metrics will stay empty");
        }
        describe();
        crier_publisher::telemetry::describe();
        let upkeep = handle.clone();
        // A thread, not a task: it must outlive whichever runtime first asked for the recorder.
        let spawned = std::thread::Builder::new().name("crier-metrics-upkeep".into()).spawn(move || {
            loop {
                std::thread::sleep(UPKEEP_EVERY);
                upkeep.run_upkeep();
            }
        });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "no metrics upkeep thread; histograms are drained at each scrape only");
        }
        handle
    })
}

fn describe() {
    describe_counter!(HTTP_REQUESTS, "HTTP requests answered, by method, matched route and status.");
    describe_histogram!(HTTP_DURATION, Unit::Seconds, "How long answering HTTP requests took, by method and matched route.");
    describe_gauge!(QUEUE_DEPTH, "Deliveries not finished, by where they wait (due, waiting, publishing, held), read at scrape time.");
    describe_gauge!(QUEUE_OLDEST_DUE, Unit::Seconds, "How long the oldest due delivery on an account that is not paused has waited.");
    describe_gauge!(WORKERS_ALIVE, "Publishing workers whose heartbeat is fresh, read at scrape time.");
    describe_gauge!(DATABASE_UP, "1 when the scrape's database read succeeded, 0 when it failed.");
}

/// What the scrape handler needs.
#[derive(Clone)]
struct Endpoint {
    pool: PgPool,
    token: Option<Arc<SecretString>>,
    stale_after: Duration,
    handle: &'static PrometheusHandle,
    /// The database as the scrapes see it, for the log.
    database: SharedOutage,
}

impl Endpoint {
    fn new(pool: PgPool, config: &MetricsConfig, stale_after: Duration) -> Self {
        let database = SharedOutage::new("reading the queue for /metrics");
        Endpoint { pool, token: config.token.clone().map(Arc::new), stale_after, handle: recorder(), database }
    }

    fn router<S: Clone + Send + Sync + 'static>(self) -> Router<S> {
        Router::new().route("/metrics", get(scrape)).with_state(self)
    }
}

/// `/metrics` on the web address: present when a token is set and no address of its own is.
pub fn routes<S: Clone + Send + Sync + 'static>(pool: PgPool, config: &MetricsConfig, stale_after: Duration) -> Router<S> {
    match (&config.token, config.addr) {
        (Some(_), None) => Endpoint::new(pool, config, stale_after).router(),
        _ => Router::new(),
    }
}

/// `/metrics` on an address of its own (CRIER_METRICS_ADDR), bound and ready to serve.
pub struct MetricsServer {
    listener: TcpListener,
    router: Router,
}

impl MetricsServer {
    /// Binds CRIER_METRICS_ADDR when it is set.
    pub async fn bind(pool: PgPool, config: &MetricsConfig, stale_after: Duration) -> anyhow::Result<Option<Self>> {
        let Some(addr) = config.addr else { return Ok(None) };
        let listener = TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr} (CRIER_METRICS_ADDR)"))?;
        let router = Endpoint::new(pool, config, stale_after)
            .router() // The metrics address is an internal one (plain http): no HSTS.
            .layer(axum::middleware::from_fn_with_state(false, crate::web::security::headers));
        Ok(Some(MetricsServer { listener, router }))
    }

    /// The address actually bound.
    pub fn addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        if let Ok(addr) = self.addr() {
            tracing::info!(%addr, "serving metrics at /metrics");
        }
        axum::serve(self.listener, self.router).with_graceful_shutdown(shutdown).await.context("the metrics server failed")
    }
}

async fn scrape(State(endpoint): State<Endpoint>, headers: HeaderMap) -> Response {
    if let Some(token) = &endpoint.token
        && !bearer_matches(&headers, token)
    {
        return (
            StatusCode::UNAUTHORIZED,
            [(WWW_AUTHENTICATE, "Bearer")],
            "Send the metrics token: `Authorization: Bearer <CRIER_METRICS_TOKEN>`.\n",
        )
            .into_response();
    }
    let read = match tokio::time::timeout(SCRAPE_DB_TIMEOUT, status::snapshot(&endpoint.pool, endpoint.stale_after, status::Waiting::Count))
        .await
    {
        Ok(read) => read.map_err(|e| e.to_string()),
        Err(_) => Err(format!("no answer within {} s", SCRAPE_DB_TIMEOUT.as_secs())),
    };
    match read {
        Ok(s) => {
            endpoint.database.ok();
            gauge!(DATABASE_UP).set(1.0);
            for (state, count) in [("due", Some(s.due)), ("waiting", s.waiting), ("publishing", Some(s.publishing)), ("held", Some(s.held))]
            {
                if let Some(count) = count {
                    gauge!(QUEUE_DEPTH, "state" => state).set(count as f64);
                }
            }
            gauge!(QUEUE_OLDEST_DUE).set(s.oldest_due_secs.unwrap_or(0.0));
            gauge!(WORKERS_ALIVE).set(s.fresh_workers as f64);
        }
        Err(e) => {
            endpoint.database.failed(&e);
            gauge!(DATABASE_UP).set(0.0);
        }
    }
    ([(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], endpoint.handle.render()).into_response()
}

/// Whether the request bears the token. Compared without stopping at the first difference, so
/// the answer's timing does not tell how much of a guess was right.
fn bearer_matches(headers: &HeaderMap, token: &SecretString) -> bool {
    let Some(given) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")) else {
        return false;
    };
    let (given, expected) = (given.trim().as_bytes(), token.expose_secret().as_bytes());
    given.len() == expected.len() && given.iter().zip(expected).fold(0u8, |differ, (a, b)| differ | (a ^ b)) == 0
}

/// Counts every request by method, matched route and status, and times it.
pub(super) async fn track_requests(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    // Static files and unknown paths have no route: one series for all of them.
    let route = request.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    histogram!(HTTP_DURATION, "method" => method, "route" => route.clone()).record(started.elapsed().as_secs_f64());
    counter!(HTTP_REQUESTS, "method" => method, "route" => route, "status" => status).increment(1);
    response
}

/// Standard methods by name; anything else (a client may send any token) as one label.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_bearer_token_passes() {
        let token = SecretString::from("a-long-metrics-token".to_owned());
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(AUTHORIZATION, value.parse().unwrap());
            bearer_matches(&headers, &token)
        };
        assert!(with("Bearer a-long-metrics-token"));
        assert!(!with("Bearer a-long-metrics-tokeN"));
        assert!(!with("Bearer a-long-metrics-token-and-more"));
        assert!(!with("Basic a-long-metrics-token"));
        assert!(!bearer_matches(&HeaderMap::new(), &token));
    }

    #[test]
    fn unusual_methods_share_one_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::from_bytes(b"PROPFIND").unwrap()), "other");
    }
}
