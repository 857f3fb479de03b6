//! The control API tests drive the fakes with (JSON).

use std::sync::Arc;

use axum::Router;
use axum::extract::{Json, State as AxumState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use crate::Inner;
use crate::faults::FaultRequest;

type Shared = AxumState<Arc<Inner>>;

pub(crate) fn routes() -> Router<Arc<Inner>> {
    Router::new()
        .route("/control/x/apps", post(register_app))
        .route("/control/x/faults", post(add_faults).delete(clear_faults))
        .route("/control/x/expire-token", post(expire_token))
        .route("/control/x/revoke-user", post(revoke_user))
        .route("/control/ledger", get(ledger))
        .route("/control/reset", post(reset))
}

#[derive(Deserialize)]
struct AppRequest {
    client_id: String,
    #[serde(default)]
    client_secret: String,
    redirect_uri: String,
    name: String,
}

async fn register_app(AxumState(inner): Shared, Json(app): Json<AppRequest>) -> Response {
    inner.lock().x.register_app(&app.client_id, &app.client_secret, &app.redirect_uri, &app.name);
    Json(json!({"registered": true})).into_response()
}

async fn add_faults(AxumState(inner): Shared, Json(request): Json<FaultRequest>) -> Response {
    if request.error_rate.is_some_and(|r| !(0.0..=1.0).contains(&r)) {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": "error_rate must be between 0 and 1"}))).into_response();
    }
    inner.lock().x.faults.add(request);
    Json(json!({"ok": true})).into_response()
}

async fn clear_faults(AxumState(inner): Shared) -> Response {
    inner.lock().x.faults.clear();
    Json(json!({"ok": true})).into_response()
}

#[derive(Deserialize)]
struct ExpireRequest {
    access_token: String,
}

async fn expire_token(AxumState(inner): Shared, Json(request): Json<ExpireRequest>) -> Response {
    let now = inner.now();
    if inner.lock().x.expire_token(&request.access_token, now) {
        Json(json!({"expired": true})).into_response()
    } else {
        (StatusCode::NOT_FOUND, Json(json!({"error": "unknown access token"}))).into_response()
    }
}

#[derive(Deserialize)]
struct RevokeUserRequest {
    user_id: String,
}

async fn revoke_user(AxumState(inner): Shared, Json(request): Json<RevokeUserRequest>) -> Response {
    let revoked = inner.lock().x.revoke_user(&request.user_id);
    Json(json!({"revoked": revoked})).into_response()
}

async fn ledger(AxumState(inner): Shared) -> Response {
    Json(inner.lock().ledger.clone()).into_response()
}

async fn reset(AxumState(inner): Shared) -> Response {
    let mut state = inner.lock();
    state.x.reset();
    state.ledger.clear();
    Json(json!({"reset": true})).into_response()
}
