//! `GET /healthz`: is the process alive and does the database answer (cheap, for liveness probes
//! and load balancers). `GET /readyz`: can this Crier publish: the database answers, its
//! migrations are current, a worker heartbeats, and nothing due waits too long unclaimed
//! (`crier status` prints the same checks).
//!
//! Through a database outage both keep answering, promptly: 503 naming the database. Probes come
//! every few seconds, so an unreachable database is logged when the answers change (and reminded
//! once a minute), not at every probe.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Extension, Json, Router};
use crier_domain::outage::SharedOutage;
use crier_domain::store::status::{self, Readiness, ReadinessLimits};
use serde::Serialize;
use sqlx::PgPool;

use super::AlreadyReported;

/// How long `/healthz` waits for the database to answer (pool wait included), and `/readyz` for
/// the answers to all its checks, before answering that it does not: a probe must not hang as long
/// as a dead network link would make a connection attempt (the pool's acquire timeout).
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// What the probes need.
#[derive(Clone)]
struct Probes {
    pool: PgPool,
    limits: ReadinessLimits,
    /// The database as the probes see it, for the log.
    database: SharedOutage,
}

/// `/healthz` and `/readyz`.
pub(super) fn routes<S: Clone + Send + Sync + 'static>(pool: PgPool, limits: ReadinessLimits) -> Router<S> {
    let probes = Probes { pool, limits, database: SharedOutage::new("reaching the database for /healthz and /readyz") };
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz)).with_state(probes)
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
    database: &'static str,
}

/// 200 with `status: ok` when the database answers; 503 (`database: unreachable`) otherwise.
async fn healthz(State(probes): State<Probes>) -> (StatusCode, Extension<AlreadyReported>, Json<Health>) {
    let answered = match tokio::time::timeout(PROBE_TIMEOUT, status::database_answers(&probes.pool)).await {
        Ok(answered) => answered.map_err(|e| e.to_string()),
        Err(_) => Err(format!("no answer within {} s", PROBE_TIMEOUT.as_secs())),
    };
    match answered {
        Ok(()) => {
            probes.database.ok();
            (StatusCode::OK, Extension(AlreadyReported), Json(Health { status: "ok", database: "ok" }))
        }
        Err(e) => {
            probes.database.failed(&e);
            (StatusCode::SERVICE_UNAVAILABLE, Extension(AlreadyReported), Json(Health { status: "unavailable", database: "unreachable" }))
        }
    }
}

/// 200 when every check passes; 503 naming the failing checks (`failing`) otherwise (an answer,
/// not a failure of the request).
async fn readyz(State(probes): State<Probes>) -> (StatusCode, Extension<AlreadyReported>, Json<Readiness>) {
    let readiness = match tokio::time::timeout(PROBE_TIMEOUT, status::readiness(&probes.pool, probes.limits, status::Waiting::Skip)).await {
        Ok((readiness, _)) => readiness,
        Err(_) => status::database_unreachable(),
    };
    if readiness.failing.contains(&"database") {
        probes.database.failed(&"PostgreSQL does not answer");
    } else {
        probes.database.ok();
    }
    let code = if readiness.ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (code, Extension(AlreadyReported), Json(readiness))
}
