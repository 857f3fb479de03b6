//! `GET /linkedin/v2/userinfo` (OpenID Connect): who the member is, with the profile and email
//! claims the token's scopes allow.

use axum::extract::State as AxumState;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;

use super::Shared;
use super::errors::{TokenProblem, forbidden, token_error};
use super::front_door::authed;
use super::state::Member;
use crate::util;

fn full_name(m: &Member) -> String {
    if m.family_name.is_empty() { m.given_name.clone() } else { format!("{} {}", m.given_name, m.family_name) }
}

pub(super) async fn userinfo(AxumState(inner): Shared, headers: HeaderMap) -> Response {
    let auth = match authed(&inner, &headers).await {
        Ok(auth) => auth,
        Err(response) => return response,
    };
    if !auth.has("openid") {
        return forbidden("Not enough permissions to access: userinfo.GET.NO_VERSION");
    }
    let state = inner.lock();
    let Some(m) = state.linkedin.member(&auth.member_id) else { return token_error(TokenProblem::Unknown) };
    let mut body = json!({"sub": m.id});
    if auth.has("profile") {
        body["name"] = json!(full_name(m));
        body["given_name"] = json!(m.given_name);
        body["family_name"] = json!(m.family_name);
        body["picture"] = json!(crate::pictures::url(&inner, crier_platform::Platform::Linkedin, &m.id));
        body["locale"] = json!({"country": "US", "language": "en"});
    }
    if auth.has("email") {
        body["email"] = json!(format!("{}@example.com", m.vanity));
        body["email_verified"] = json!(true);
    }
    util::json(StatusCode::OK, &body, HeaderMap::new())
}
