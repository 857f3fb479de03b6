//! `GET /x/2/users/me`: who the token or the OAuth 1.0a credentials act as.

use axum::extract::State as AxumState;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::json;

use super::Shared;
use super::errors::unauthorized;
use super::front_door::{Caller, enter};
use crate::util;

pub(super) async fn users_me(AxumState(inner): Shared, method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let limit = inner.config.x_limits.users_me_per_15min;
    let caller = Caller { method: &method, uri: &uri, headers: &headers };
    let (auth, state, headers) = match enter(&inner, &caller, "me", limit, None).await {
        Ok(entered) => entered,
        Err(response) => return response,
    };
    match state.x.user_by_id(&auth.user_id) {
        Some(user) => util::json(StatusCode::OK, &json!({"data": {"id": user.id, "name": user.name, "username": user.username}}), headers),
        None => unauthorized(),
    }
}
