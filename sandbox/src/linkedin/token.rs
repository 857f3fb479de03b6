//! The token endpoints (§2.5): `accessToken` (the authorization_code and refresh_token grants,
//! client credentials in the form body; refresh tokens only for approved apps, their expiry never
//! extended) and `introspectToken`. Errors are RFC 6749 §5.2 bodies.

use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;

use super::Shared;
use super::front_door::front_door;
use super::state::{Access, LinkedInState, Refresh};
use crate::util;

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    util::json(status, &json!({"error": error, "error_description": description}), HeaderMap::new())
}

fn missing(parameter: &str) -> Response {
    oauth_error(StatusCode::BAD_REQUEST, "invalid_request", &format!("A required parameter \"{parameter}\" is missing"))
}

const BAD_REFRESH: &str = "The provided authorization grant or refresh token is invalid, expired or revoked";

pub(super) async fn token(AxumState(inner): Shared, body: Bytes) -> Response {
    if let Err(response) = front_door(&inner, &HeaderMap::new(), false).await {
        return response;
    }
    let form = util::parse_form(&body);
    let now = inner.now();
    let ttl = TimeDelta::from_std(inner.config.linkedin_access_token_ttl).unwrap_or(TimeDelta::days(60));
    let refresh_ttl = TimeDelta::from_std(inner.config.linkedin_refresh_token_ttl).unwrap_or(TimeDelta::days(365));
    let mut state = inner.lock();
    let li = &mut state.linkedin;
    let get = |k: &str| form.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let Some(grant_type) = get("grant_type") else { return missing("grant_type") };
    if !matches!(grant_type, "authorization_code" | "refresh_token") {
        return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", "The grant_type is not supported");
    }
    let Some(client_id) = get("client_id") else { return missing("client_id") };
    let Some(client_secret) = get("client_secret") else { return missing("client_secret") };
    let refresh_enabled = match li.apps.get(client_id) {
        Some(app) if app.client_secret == client_secret => app.refresh_tokens,
        _ => return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "Client authentication failed"),
    };
    let body = if grant_type == "authorization_code" {
        let Some(code) = get("code") else { return missing("code") };
        let Some(redirect_uri) = get("redirect_uri") else { return missing("redirect_uri") };
        // Single use: spent by any attempt.
        let Some(grant) = li.codes.remove(code) else {
            return oauth_error(StatusCode::UNAUTHORIZED, "invalid_request", "authorization code not found");
        };
        if grant.client_id != client_id || grant.redirect_uri != redirect_uri || now >= grant.expires_at {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_redirect_uri",
                "Unable to retrieve access token: appid/redirect uri/code verifier does not match authorization code. Or authorization code expired. Or external member binding exists",
            );
        }
        // "Requesting a different scope invalidates previously issued access tokens" (§2.5).
        let mut scope = grant.scope.clone();
        scope.sort();
        for access in li.access.values_mut().filter(|a| a.member_id == grant.member_id && a.client_id == client_id) {
            let mut old = access.scope.clone();
            old.sort();
            if old != scope {
                access.revoked = true;
            }
        }
        let access_token = issue_access(li, &grant.member_id, client_id, &grant.scope, ttl, now);
        let mut body = json!({"access_token": access_token, "expires_in": ttl.num_seconds(), "scope": grant.scope.join(",")});
        if refresh_enabled {
            let refresh_token = format!("AQ{}", util::random_token());
            let refresh =
                Refresh { member_id: grant.member_id, client_id: client_id.to_owned(), scope: grant.scope, expires_at: now + refresh_ttl };
            li.refresh.insert(refresh_token.clone(), refresh);
            body["refresh_token"] = json!(refresh_token);
            body["refresh_token_expires_in"] = json!(refresh_ttl.num_seconds());
        }
        body
    } else {
        let Some(refresh_token) = get("refresh_token") else { return missing("refresh_token") };
        let (member_id, scope, expires_at) = match li.refresh.get(refresh_token) {
            Some(r) if r.client_id == client_id && now < r.expires_at && refresh_enabled => {
                (r.member_id.clone(), r.scope.clone(), r.expires_at)
            }
            _ => return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", BAD_REFRESH),
        };
        let access_token = issue_access(li, &member_id, client_id, &scope, ttl, now);
        // The same refresh token, its expiry not extended (§2.5).
        json!({
            "access_token": access_token,
            "expires_in": ttl.num_seconds(),
            "refresh_token": refresh_token,
            "refresh_token_expires_in": (expires_at - now).num_seconds(),
            "scope": scope.join(","),
        })
    };
    let no_store = HeaderMap::from_iter([
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        (header::PRAGMA, HeaderValue::from_static("no-cache")),
    ]);
    util::json(StatusCode::OK, &body, no_store)
}

fn issue_access(li: &mut LinkedInState, member_id: &str, client_id: &str, scope: &[String], ttl: TimeDelta, now: DateTime<Utc>) -> String {
    // Real tokens are ~500 characters ("plan for 1000"); these are shorter but opaque the same way.
    let token = format!("AQV{}{}", util::random_token(), util::random_token());
    let access = Access {
        member_id: member_id.to_owned(),
        client_id: client_id.to_owned(),
        scope: scope.to_vec(),
        expires_at: now + ttl,
        revoked: false,
    };
    li.access.insert(token.clone(), access);
    token
}

pub(super) async fn introspect(AxumState(inner): Shared, body: Bytes) -> Response {
    let form = util::parse_form(&body);
    let now = inner.now();
    let state = inner.lock();
    let li = &state.linkedin;
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    match li.apps.get(get("client_id")) {
        Some(app) if app.client_secret == get("client_secret") => {}
        _ => return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "Client authentication failed"),
    }
    let body = match li.access.get(get("token")) {
        Some(a) => {
            let status = if a.revoked {
                "revoked"
            } else if now >= a.expires_at {
                "expired"
            } else {
                "active"
            };
            json!({
                "active": status == "active",
                "client_id": a.client_id,
                "authorized_at": (a.expires_at - TimeDelta::days(60)).timestamp(),
                "created_at": (a.expires_at - TimeDelta::days(60)).timestamp(),
                "status": status,
                "expires_at": a.expires_at.timestamp(),
                "scope": a.scope.join(","),
                "auth_type": "3L",
            })
        }
        None => json!({"active": false}),
    };
    util::json(StatusCode::OK, &body, HeaderMap::new())
}
