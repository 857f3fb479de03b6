//! `GET /healthz`: is the process alive, can it reach the database, is a worker heartbeating.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;

use app::state::AppState;

/// A worker counts as alive when it heartbeated this recently (the pool heartbeats every 15 s).
const WORKER_FRESH_SECS: f64 = 60.0;

#[derive(Serialize)]
pub(super) struct Health {
    status: &'static str,
    database: &'static str,
    worker: &'static str,
}

/// 200 with `status: ok` when the database answers; 503 otherwise. `worker` is `ok` when some
/// worker process heartbeated within a minute, `stale` when one did earlier, `none` when none
/// ever registered (e.g. a `--no-worker` web process on its own).
pub(super) async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let heartbeat = sqlx::query_scalar::<_, Option<f64>>("select extract(epoch from now() - max(last_seen))::float8 from apalis.workers")
        .fetch_one(&state.pool)
        .await;
    match heartbeat {
        Ok(age) => {
            let worker = match age {
                Some(secs) if secs <= WORKER_FRESH_SECS => "ok",
                Some(_) => "stale",
                None => "none",
            };
            (StatusCode::OK, Json(Health { status: "ok", database: "ok", worker }))
        }
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, Json(Health { status: "unavailable", database: "unreachable", worker: "unknown" }))
        }
    }
}
