//! The control API tests drive the fakes with (JSON): `/control/{platform}/...` for `x`,
//! `linkedin` and `facebook` (`meta`, the name these paths had before, is still accepted).

// `platform` hands back the finished 404 as its error, once per request (as in the fakes' modules).
#![allow(clippy::result_large_err)]

use std::sync::Arc;

use axum::Router;
use axum::extract::{Json, Path, State as AxumState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use crier_platform::Platform;
use serde::Deserialize;
use serde_json::json;

use crate::faults::{FaultRequest, Faults};
use crate::{Inner, State};

type Shared = AxumState<Arc<Inner>>;

pub(crate) fn routes(inner: &Arc<Inner>) -> Router<Arc<Inner>> {
    let guarded = inner.config.control_token.clone();
    Router::new()
        .route("/control/{platform}/apps", post(register_app))
        .route("/control/{platform}/faults", post(add_faults).delete(clear_faults))
        .route("/control/{platform}/expire-token", post(expire_token))
        .route("/control/{platform}/revoke-user", post(revoke_user))
        .route("/control/x/oauth1-credentials", post(register_x_oauth1))
        .route("/control/ledger", get(ledger))
        .route("/control/reset", post(reset))
        // Larger than axum's 2 MB default: a test offers Crier pictures that are too large.
        .route(
            "/control/pictures/{platform}/{id}",
            axum::routing::put(crate::pictures::replace).layer(axum::extract::DefaultBodyLimit::max(16 * 1024 * 1024)),
        )
        .layer(axum::middleware::from_fn(move |request: axum::extract::Request, next: axum::middleware::Next| {
            let allowed = match &guarded {
                None => true,
                Some(token) => request
                    .headers()
                    .get(axum::http::header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.strip_prefix("Bearer "))
                    .is_some_and(|presented| constant_time_eq(presented.as_bytes(), token.as_bytes())),
            };
            async move { if allowed { next.run(request).await } else { StatusCode::NOT_FOUND.into_response() } }
        }))
}

/// Compares a presented token without telling, by its timing, how much of it was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

fn platform(name: &str) -> Result<Platform, Response> {
    match name {
        "meta" => Ok(Platform::Facebook),
        name => name.parse().map_err(|e: crier_platform::ParsePlatformError| {
            (StatusCode::NOT_FOUND, Json(json!({"error": e.to_string()}))).into_response()
        }),
    }
}

fn faults(state: &mut State, platform: Platform) -> &mut Faults {
    match platform {
        Platform::X => &mut state.x.faults,
        Platform::Linkedin => &mut state.linkedin.faults,
        Platform::Facebook => &mut state.facebook.faults,
    }
}

#[derive(Deserialize)]
struct AppRequest {
    client_id: String,
    #[serde(default)]
    client_secret: String,
    redirect_uri: String,
    name: String,
    /// LinkedIn only: programmatic refresh tokens (approved partners).
    #[serde(default)]
    refresh_tokens: Option<bool>,
}

async fn register_app(AxumState(inner): Shared, Path(name): Path<String>, Json(app): Json<AppRequest>) -> Response {
    let platform = match platform(&name) {
        Ok(p) => p,
        Err(response) => return response,
    };
    let mut state = inner.lock();
    match platform {
        Platform::X => state.x.register_app(&app.client_id, &app.client_secret, &app.redirect_uri, &app.name),
        Platform::Linkedin => {
            state.linkedin.register_app(&app.client_id, &app.client_secret, &app.redirect_uri, &app.name);
            if let Some(enabled) = app.refresh_tokens {
                state.linkedin.set_refresh_tokens(&app.client_id, enabled);
            }
        }
        Platform::Facebook => state.facebook.register_app(&app.client_id, &app.client_secret, &app.redirect_uri, &app.name),
    }
    Json(json!({"registered": true})).into_response()
}

#[derive(Deserialize)]
struct OAuth1Request {
    consumer_key: String,
    consumer_secret: String,
    access_token: String,
    token_secret: String,
    username: String,
}

async fn register_x_oauth1(AxumState(inner): Shared, Json(request): Json<OAuth1Request>) -> Response {
    let valid_username =
        (1..=15).contains(&request.username.len()) && request.username.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !valid_username || request.consumer_key.is_empty() || request.access_token.is_empty() {
        let message = "consumer_key and access_token are required; a username is 1 to 15 letters, digits or underscores";
        return (StatusCode::BAD_REQUEST, Json(json!({"error": message}))).into_response();
    }
    let user_id = inner.lock().x.register_oauth1(
        &request.consumer_key,
        &request.consumer_secret,
        &request.access_token,
        &request.token_secret,
        &request.username,
    );
    Json(json!({"registered": true, "user_id": user_id})).into_response()
}

async fn add_faults(AxumState(inner): Shared, Path(name): Path<String>, Json(request): Json<FaultRequest>) -> Response {
    let platform = match platform(&name) {
        Ok(p) => p,
        Err(response) => return response,
    };
    if request.error_rate.is_some_and(|r| !(0.0..=1.0).contains(&r)) {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": "error_rate must be between 0 and 1"}))).into_response();
    }
    if request.rate_limit_rate.is_some_and(|r| !(0.0..=1.0).contains(&r))
        || request.error_rate.unwrap_or(0.0) + request.rate_limit_rate.unwrap_or(0.0) > 1.0
    {
        let message = "rate_limit_rate must be between 0 and 1, and with error_rate at most 1";
        return (StatusCode::BAD_REQUEST, Json(json!({"error": message}))).into_response();
    }
    if request.created_then_500.is_some() && platform != Platform::Facebook {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": "created_then_500 is a Facebook fault"}))).into_response();
    }
    faults(&mut inner.lock(), platform).add(request);
    Json(json!({"ok": true})).into_response()
}

async fn clear_faults(AxumState(inner): Shared, Path(name): Path<String>) -> Response {
    let platform = match platform(&name) {
        Ok(p) => p,
        Err(response) => return response,
    };
    faults(&mut inner.lock(), platform).clear();
    Json(json!({"ok": true})).into_response()
}

#[derive(Deserialize)]
struct ExpireRequest {
    access_token: String,
}

async fn expire_token(AxumState(inner): Shared, Path(name): Path<String>, Json(request): Json<ExpireRequest>) -> Response {
    let platform = match platform(&name) {
        Ok(p) => p,
        Err(response) => return response,
    };
    let now = inner.now();
    let mut state = inner.lock();
    let found = match platform {
        Platform::X => state.x.expire_token(&request.access_token, now),
        Platform::Linkedin => state.linkedin.expire_token(&request.access_token, now),
        Platform::Facebook => state.facebook.expire_token(&request.access_token, now),
    };
    if found {
        Json(json!({"expired": true})).into_response()
    } else {
        (StatusCode::NOT_FOUND, Json(json!({"error": "unknown access token"}))).into_response()
    }
}

#[derive(Deserialize)]
struct RevokeUserRequest {
    user_id: String,
}

async fn revoke_user(AxumState(inner): Shared, Path(name): Path<String>, Json(request): Json<RevokeUserRequest>) -> Response {
    let platform = match platform(&name) {
        Ok(p) => p,
        Err(response) => return response,
    };
    let mut state = inner.lock();
    let revoked = match platform {
        Platform::X => state.x.revoke_user(&request.user_id),
        Platform::Linkedin => state.linkedin.revoke_user(&request.user_id),
        Platform::Facebook => state.facebook.revoke_user(&request.user_id),
    };
    Json(json!({"revoked": revoked})).into_response()
}

async fn ledger(AxumState(inner): Shared) -> Response {
    Json(inner.lock().ledger_json()).into_response()
}

async fn reset(AxumState(inner): Shared) -> Response {
    inner.lock().reset();
    Json(json!({"reset": true})).into_response()
}
