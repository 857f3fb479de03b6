//! The token endpoint (`GET /facebook/{version}/oauth/access_token`, §3.2): a code for a
//! short-lived user token, or `fb_exchange_token` for a long-lived one. Meta has no refresh tokens.

use std::collections::HashMap;

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::TimeDelta;
use serde_json::json;

use super::errors::{invalid_parameter, oauth_exception};
use super::front_door::{check_token, check_version, front_door};
use super::state::{Kind, Token};
use crate::Inner;
use crate::util;

pub(super) fn new_token() -> String {
    format!("EAA{}{}", util::random_token(), util::random_token()).replace(['-', '_'], "Z")
}

pub(super) async fn access_token(inner: &Inner, version: &str, params: &HashMap<String, String>) -> Response {
    if let Err(response) = check_version(inner, version) {
        return response;
    }
    if let Err(response) = front_door(inner, None).await {
        return response;
    }
    let now = inner.now();
    let config = &inner.config;
    let short_ttl = TimeDelta::from_std(config.facebook_short_user_token_ttl).unwrap_or(TimeDelta::hours(2));
    let long_ttl = TimeDelta::from_std(config.facebook_long_user_token_ttl).unwrap_or(TimeDelta::days(60));
    let get = |k: &str| params.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let mut state = inner.lock();
    let meta = &mut state.facebook;
    let Some(app_id) = get("client_id") else { return invalid_parameter("Missing client_id parameter.") };
    let Some(app) = meta.apps.get(app_id) else {
        return oauth_exception(101, None, "Error validating application. Invalid application ID.");
    };
    let Some(secret) = get("client_secret") else { return oauth_exception(1, None, "Missing client_secret parameter.") };
    if app.app_secret != secret {
        return oauth_exception(1, None, "Error validating client secret.");
    }
    let (user_id, scope, long_lived) = if get("grant_type") == Some("fb_exchange_token") {
        let Some(short) = get("fb_exchange_token") else { return invalid_parameter("Missing fb_exchange_token parameter.") };
        // "You can not use an expired token to request a long-lived token."
        let (_, t) = match check_token(meta, Some(short), now, false) {
            Ok(found) => found,
            Err(response) => return response,
        };
        if t.app_id != app_id || !matches!(t.kind, Kind::User { .. }) {
            return oauth_exception(190, None, "Invalid OAuth access token - Cannot parse access token");
        }
        (t.user_id, t.scope, true)
    } else {
        let Some(redirect_uri) = get("redirect_uri") else { return invalid_parameter("Missing redirect_uri parameter.") };
        let Some(code) = get("code") else { return invalid_parameter("Missing code parameter.") };
        let Some(grant) = meta.codes.get_mut(code) else { return oauth_exception(100, None, "Invalid verification code format.") };
        if grant.used {
            return oauth_exception(100, Some(36009), "This authorization code has been used.");
        }
        grant.used = true;
        if grant.app_id != app_id {
            return oauth_exception(100, None, "Invalid verification code format.");
        }
        if now >= grant.expires_at {
            return oauth_exception(100, Some(36007), "This authorization code has expired.");
        }
        if grant.redirect_uri != redirect_uri {
            return oauth_exception(
                100,
                Some(36008),
                "Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request",
            );
        }
        (grant.user_id.clone(), grant.scope.clone(), false)
    };
    let ttl = if long_lived { long_ttl } else { short_ttl };
    let token = new_token();
    let record = Token {
        kind: Kind::User { long_lived },
        user_id,
        app_id: app_id.to_owned(),
        scope,
        expires_at: Some(now + ttl),
        invalidated: None,
    };
    meta.tokens.insert(token.clone(), record);
    util::json(StatusCode::OK, &json!({"access_token": token, "token_type": "bearer", "expires_in": ttl.num_seconds()}), HeaderMap::new())
}
