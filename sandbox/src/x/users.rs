//! `GET /x/2/users/me`: who the token or the OAuth 1.0a credentials act as.

use axum::extract::State as AxumState;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::json;

use super::Shared;
use super::errors::unauthorized;
use super::front_door::{Caller, enter};
use crate::util;

/// `user.fields` asks for more than id, name and username: only `profile_image_url` is known here
/// (X's `_normal` 48×48 picture, served by the fake image host).
pub(super) async fn users_me(AxumState(inner): Shared, method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let limit = inner.config.x_limits.users_me_per_15min;
    let caller = Caller { method: &method, uri: &uri, headers: &headers };
    let (auth, state, headers) = match enter(&inner, &caller, "me", limit, None).await {
        Ok(entered) => entered,
        Err(response) => return response,
    };
    let fields: Vec<String> = uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .filter(|(k, _)| k == "user.fields")
                .flat_map(|(_, v)| v.split(',').map(str::to_owned).collect::<Vec<_>>())
                .collect()
        })
        .unwrap_or_default();
    match state.x.user_by_id(&auth.user_id) {
        Some(user) => {
            let mut data = json!({"id": user.id, "name": user.name, "username": user.username});
            if fields.iter().any(|f| f == "profile_image_url") {
                data["profile_image_url"] = json!(crate::pictures::url(&inner, crier_platform::Platform::X, &user.id));
            }
            util::json(StatusCode::OK, &json!({"data": data}), headers)
        }
        None => unauthorized(),
    }
}
