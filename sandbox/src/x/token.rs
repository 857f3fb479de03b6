//! The token endpoints (`/x/2/oauth2/token`, `/x/2/oauth2/revoke`, §1.6): client authentication,
//! the authorization_code grant (with PKCE) and the refresh_token grant (with rotation),
//! revocation (RFC 7009), and issuing the tokens. Errors are RFC 6749 §5.2 bodies.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};

use super::Shared;
use super::front_door::front_door;
use super::state::{Access, Refresh, XState};
use crate::util;

/// RFC 6749 §5.2 body with X's codes (platforms.md §1.6, §4.2).
fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    util::json(status, &json!({"error": error, "error_description": description}), HeaderMap::new())
}

/// Confidential clients: HTTP Basic `client_id:client_secret`; public clients (registered with an
/// empty secret): `client_id` in the body. Every failure answers the one body X is seen to send.
fn authenticate_client(x: &XState, headers: &HeaderMap, form: &HashMap<String, String>) -> Result<String, Response> {
    let fail = || oauth_error(StatusCode::UNAUTHORIZED, "unauthorized_client", "Missing valid authorization header");
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let value = value.to_str().map_err(|_| fail())?;
        let (scheme, encoded) = value.split_once(' ').ok_or_else(fail)?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return Err(fail());
        }
        let decoded = STANDARD.decode(encoded.trim()).map_err(|_| fail())?;
        let decoded = String::from_utf8(decoded).map_err(|_| fail())?;
        let (id, secret) = decoded.split_once(':').ok_or_else(fail)?;
        return match x.apps.get(id) {
            Some(app) if !app.client_secret.is_empty() && app.client_secret == secret => Ok(id.to_owned()),
            _ => Err(fail()),
        };
    }
    match form.get("client_id").and_then(|id| x.apps.get(id).map(|app| (id, app))) {
        Some((id, app)) if app.client_secret.is_empty() => Ok(id.clone()),
        _ => Err(fail()),
    }
}

fn missing(parameter: &str) -> Response {
    oauth_error(StatusCode::BAD_REQUEST, "invalid_request", &format!("Missing required parameter [{parameter}]."))
}

fn invalid_value(what: &str) -> Response {
    oauth_error(StatusCode::BAD_REQUEST, "invalid_request", &format!("Value passed for the {what} was invalid."))
}

pub(super) async fn token(AxumState(inner): Shared, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(response) = front_door(&inner, None).await {
        return response;
    }
    let form = util::parse_form(&body);
    let now = inner.now();
    let ttl = TimeDelta::from_std(inner.config.x_access_token_ttl).unwrap_or(TimeDelta::hours(2));
    let mut state = inner.lock();
    let x = &mut state.x;
    let client_id = match authenticate_client(x, &headers, &form) {
        Ok(id) => id,
        Err(response) => return response,
    };
    let get = |k: &str| form.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let body = match get("grant_type") {
        None => return missing("grant_type"),
        Some("authorization_code") => {
            let Some(code) = get("code") else { return missing("code") };
            let Some(redirect_uri) = get("redirect_uri") else { return missing("redirect_uri") };
            let Some(verifier) = get("code_verifier") else { return missing("code_verifier") };
            // Single use: the code is spent by any attempt, right or wrong.
            let Some(grant) = x.codes.remove(code) else { return invalid_value("authorization code") };
            if grant.client_id != client_id || now >= grant.expires_at {
                return invalid_value("authorization code");
            }
            // Exact string match, as on the consent page.
            if grant.redirect_uri != redirect_uri {
                return invalid_value("redirect_uri");
            }
            if crier_protocol::pkce::s256_challenge(verifier) != grant.challenge {
                return invalid_value("code_verifier");
            }
            x.issue_tokens(&grant.user_id, &client_id, grant.scope, ttl, now)
        }
        Some("refresh_token") => {
            let Some(refresh_token) = get("refresh_token") else { return missing("refresh_token") };
            match x.refresh.get(refresh_token) {
                Some(r) if r.client_id == client_id => {}
                _ => return invalid_value("token"),
            }
            // Rotation: the old refresh token dies now; the old access token lives until it expires.
            let old = x.refresh.remove(refresh_token).expect("checked above");
            x.issue_tokens(&old.user_id, &client_id, old.scope, ttl, now)
        }
        Some(_) => return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", "Value passed for the grant_type was invalid."),
    };
    let no_store = HeaderMap::from_iter([
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        (header::PRAGMA, HeaderValue::from_static("no-cache")),
    ]);
    util::json(StatusCode::OK, &body, no_store)
}

pub(super) async fn revoke(AxumState(inner): Shared, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(response) = front_door(&inner, None).await {
        return response;
    }
    let form = util::parse_form(&body);
    let mut state = inner.lock();
    let x = &mut state.x;
    let client_id = match authenticate_client(x, &headers, &form) {
        Ok(id) => id,
        Err(response) => return response,
    };
    let Some(token) = form.get("token").filter(|t| !t.is_empty()) else { return missing("token") };
    if form.get("token_type_hint").is_none_or(|h| h.is_empty()) {
        return missing("token_type_hint");
    }
    // RFC 7009: an unknown token (or another client's) still answers success; only our own dies.
    if let Some(access) = x.access.get_mut(token).filter(|a| a.client_id == client_id) {
        access.revoked = true;
    }
    if x.refresh.get(token).is_some_and(|r| r.client_id == client_id) {
        x.refresh.remove(token);
    }
    util::json(StatusCode::OK, &json!({"revoked": true}), HeaderMap::new())
}

impl XState {
    fn issue_tokens(&mut self, user_id: &str, client_id: &str, scope: Vec<String>, ttl: TimeDelta, now: DateTime<Utc>) -> Value {
        let access_token = util::random_token();
        let access = Access {
            user_id: user_id.to_owned(),
            client_id: client_id.to_owned(),
            scope: scope.clone(),
            expires_at: now + ttl,
            revoked: false,
        };
        self.access.insert(access_token.clone(), access);
        let mut body = json!({
            "token_type": "bearer",
            "expires_in": ttl.num_seconds(),
            "access_token": access_token,
            "scope": scope.join(" "),
        });
        if scope.iter().any(|s| s == "offline.access") {
            let refresh_token = util::random_token();
            self.refresh.insert(refresh_token.clone(), Refresh { user_id: user_id.to_owned(), client_id: client_id.to_owned(), scope });
            body["refresh_token"] = Value::String(refresh_token);
        }
        body
    }
}
