//! `GET /healthz`: is the process alive and does the database answer (cheap, for liveness probes
//! and load balancers). `GET /readyz`: can this Crier publish: the database answers, its
//! migrations are current, a worker heartbeats, and nothing due waits too long unclaimed
//! (`crier status` prints the same checks).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use crier_domain::store::status::{self, Readiness};
use serde::Serialize;

use app::state::AppState;

#[derive(Serialize)]
pub(super) struct Health {
    status: &'static str,
    database: &'static str,
}

/// 200 with `status: ok` when the database answers; 503 otherwise.
pub(super) async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    match status::database_answers(&state.pool).await {
        Ok(()) => (StatusCode::OK, Json(Health { status: "ok", database: "ok" })),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, Json(Health { status: "unavailable", database: "unreachable" }))
        }
    }
}

/// 200 when every check passes; 503 naming the failing checks (`failing`) otherwise.
pub(super) async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let (readiness, _) = status::readiness(&state.pool, state.operations.readiness).await;
    let code = if readiness.ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (code, Json(readiness))
}
