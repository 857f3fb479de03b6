//! What every Graph API call goes through first ([`enter`]): the version in the path, the injected
//! faults (scoped by the person behind the token), the token itself (from the query, the form or
//! the `Authorization` header), then the rate limits. The login dialog takes only the version
//! check; the token endpoint the version check and the faults.

use std::collections::HashMap;

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};

use super::errors::{graph_error, oauth_exception, transient_500, with_headers};
use super::rate_limits::{buc_usage, rate_limit};
use super::state::{FacebookState, Token};
use crate::Inner;
use crate::util;

fn fb_date(t: DateTime<Utc>) -> String {
    t.format("%A, %d-%b-%y %H:%M:%S UTC").to_string()
}

/// The token of a request: `access_token` in the query or form, or `Authorization: Bearer|OAuth`.
fn token_of<'a>(headers: &'a HeaderMap, params: &'a HashMap<String, String>) -> Option<&'a str> {
    params.get("access_token").map(String::as_str).filter(|t| !t.is_empty()).or_else(|| util::bearer_token(headers))
}

pub(super) fn check_token(meta: &FacebookState, token: Option<&str>, now: DateTime<Utc>, me: bool) -> Result<(String, Token), Response> {
    let Some(token) = token else {
        return Err(if me {
            oauth_exception(2500, None, "An active access token must be used to query information about the current user.")
        } else {
            oauth_exception(104, None, "An access token is required to request this resource.")
        });
    };
    let Some(t) = meta.tokens.get(token) else {
        return Err(oauth_exception(190, None, "Invalid OAuth access token - Cannot parse access token"));
    };
    if let Some(subcode) = t.invalidated {
        let message = match subcode {
            460 => {
                "Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons.".to_owned()
            }
            // §3.3 names 458 "App Not Installed" without quoting its message; this wording is the sandbox's.
            458 => format!("Error validating access token: The user has not authorized application {}.", t.app_id),
            _ => "Error validating access token: The session is invalid because the user logged out.".to_owned(),
        };
        return Err(oauth_exception(190, Some(subcode), &message));
    }
    if let Some(expires_at) = t.expires_at
        && now >= expires_at
    {
        let message =
            format!("Error validating access token: Session has expired on {}. The current time is {}.", fb_date(expires_at), fb_date(now));
        return Err(oauth_exception(190, Some(463), &message));
    }
    Ok((token.to_owned(), t.clone()))
}

/// A `vNN.N` path prefix, optionally restricted to the configured versions.
pub(super) fn check_version(inner: &Inner, version: &str) -> Result<(), Response> {
    let well_formed = version.strip_prefix('v').and_then(|v| v.split_once('.')).is_some_and(|(a, b)| {
        !a.is_empty() && !b.is_empty() && a.bytes().all(|c| c.is_ascii_digit()) && b.bytes().all(|c| c.is_ascii_digit())
    });
    let allowed = &inner.config.facebook_graph_versions;
    if !well_formed || (!allowed.is_empty() && !allowed.iter().any(|v| v == version)) {
        // The exact body for an unknown version is NOT FOUND (§6).
        return Err(oauth_exception(2500, None, &format!("Unknown path components: /{version}")));
    }
    Ok(())
}

/// Injected faults, scoped by the Facebook user behind the token.
pub(super) async fn front_door(inner: &Inner, user: Option<&str>) -> Result<(), Response> {
    front_door_step(inner, user, None).await
}

/// [`front_door`] for a request of a named step (media: `photos`, `uploads`, `transfer`,
/// `videos`, `status`), which injected responses may be aimed at.
pub(super) async fn front_door_step(inner: &Inner, user: Option<&str>, step: Option<&str>) -> Result<(), Response> {
    let throttled = |reset_secs: u64| {
        // A Page-level throttle whose usage header says when access comes back (in minutes).
        let mut headers = HeaderMap::new();
        headers.insert("x-business-use-case-usage", buc_usage(user.unwrap_or("0"), 100, reset_secs.div_ceil(60) as i64));
        let e = graph_error(StatusCode::BAD_REQUEST, "OAuthException", 32, None, "(#32) Page request limit reached", Some(true));
        with_headers(e, headers)
    };
    let decision = inner.lock().facebook.faults.decide_step(user, step, transient_500, throttled);
    decision.apply().await
}

fn user_of(inner: &Inner, headers: &HeaderMap, params: &HashMap<String, String>) -> Option<String> {
    let token = token_of(headers, params)?;
    inner.lock().facebook.tokens.get(token).map(|t| t.user_id.clone())
}

/// The common front of the API endpoints: version, faults, token, rate limits.
pub(super) async fn enter(
    inner: &Inner,
    version: &str,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
    me: bool,
) -> Result<(Token, HeaderMap), Response> {
    enter_step(inner, version, headers, params, me, None).await
}

/// [`enter`] for a request of a named step (see [`front_door_step`]).
pub(super) async fn enter_step(
    inner: &Inner,
    version: &str,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
    me: bool,
    step: Option<&str>,
) -> Result<(Token, HeaderMap), Response> {
    check_version(inner, version)?;
    front_door_step(inner, user_of(inner, headers, params).as_deref(), step).await?;
    let now = inner.now();
    let mut state = inner.lock();
    let (_, token) = check_token(&state.facebook, token_of(headers, params), now, me)?;
    let usage = rate_limit(inner, &mut state.facebook, &token, now)?;
    Ok((token, usage))
}
