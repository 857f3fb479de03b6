//! What every LinkedIn API call goes through first: the injected faults (scoped by the member
//! behind the token), then the bearer token ([`authed`]), and on `/rest` calls the
//! `LinkedIn-Version` and `X-Restli-Protocol-Version` headers ([`check_versions`], §2.1).

use axum::http::HeaderMap;
use axum::response::Response;
use chrono::{DateTime, Datelike, Utc};

use super::errors::{TokenProblem, rest_error, token_error, transient};
use super::rate_limits::daily_throttle;
use super::state::LinkedInState;
use crate::Inner;
use crate::util;

#[derive(Clone)]
pub(super) struct Auth {
    pub(super) member_id: String,
    pub(super) client_id: String,
    pub(super) scope: Vec<String>,
}

impl Auth {
    pub(super) fn has(&self, scope: &str) -> bool {
        self.scope.iter().any(|s| s == scope)
    }
}

fn bearer(li: &LinkedInState, headers: &HeaderMap, now: DateTime<Utc>) -> Result<Auth, TokenProblem> {
    let token = util::bearer_token(headers).filter(|t| !t.is_empty()).ok_or(TokenProblem::Missing)?;
    let access = li.access.get(token).ok_or(TokenProblem::Unknown)?;
    if access.revoked {
        return Err(TokenProblem::Revoked);
    }
    if now >= access.expires_at {
        return Err(TokenProblem::Expired);
    }
    Ok(Auth { member_id: access.member_id.clone(), client_id: access.client_id.clone(), scope: access.scope.clone() })
}

/// Injected faults first (scoped by the member behind the token), then the token check.
pub(super) async fn front_door(inner: &Inner, headers: &HeaderMap, check_token: bool) -> Result<Option<Auth>, Response> {
    front_door_step(inner, headers, check_token, None).await
}

/// [`front_door`] for a request of a named step (media: `initialize`, `part`, `finalize`,
/// `status`), which injected responses may be aimed at.
pub(super) async fn front_door_step(
    inner: &Inner,
    headers: &HeaderMap,
    check_token: bool,
    step: Option<&str>,
) -> Result<Option<Auth>, Response> {
    let (auth, decision) = {
        let mut state = inner.lock();
        let auth = bearer(&state.linkedin, headers, inner.now());
        let member = auth.as_ref().ok().map(|a| a.member_id.clone());
        let decision = state.linkedin.faults.decide_step(member.as_deref(), step, transient, |_| daily_throttle());
        (auth, decision)
    };
    decision.apply().await?;
    if !check_token {
        return Ok(None);
    }
    auth.map(Some).map_err(token_error)
}

pub(super) async fn authed(inner: &Inner, headers: &HeaderMap) -> Result<Auth, Response> {
    front_door(inner, headers, true).await.map(|a| a.expect("checked"))
}

/// [`authed`], then [`check_versions`]: what every `/rest` call goes through.
pub(super) async fn authed_rest(inner: &Inner, headers: &HeaderMap) -> Result<Auth, Response> {
    let auth = authed(inner, headers).await?;
    check_versions(inner, headers)?;
    Ok(auth)
}

/// [`authed`] for a request of a named step.
pub(super) async fn authed_step(inner: &Inner, headers: &HeaderMap, step: &str) -> Result<Auth, Response> {
    front_door_step(inner, headers, true, Some(step)).await.map(|a| a.expect("checked"))
}

/// `LinkedIn-Version: YYYYMM` and `X-Restli-Protocol-Version: 2.0.0` on every `/rest` call (§2.1).
pub(super) fn check_versions(inner: &Inner, headers: &HeaderMap) -> Result<(), Response> {
    let Some(version) = headers.get("linkedin-version").and_then(|v| v.to_str().ok()).map(str::trim) else {
        // Not in platforms.md: the body LinkedIn is seen to send without the header.
        return Err(rest_error(
            400,
            "VERSION_MISSING",
            "A version must be present. Please specify a version by adding the LinkedIn-Version header.",
        ));
    };
    if !is_active_version(version, inner.now(), inner.config.linkedin_limits.active_versions) {
        return Err(rest_error(426, "NONEXISTENT_VERSION", &format!("Requested version {version} is not active")));
    }
    if headers.get("x-restli-protocol-version").and_then(|v| v.to_str().ok()).map(str::trim) != Some("2.0.0") {
        // Not documented: the posts API is Rest.li 2.0 only; a 400 in LinkedIn's shape.
        return Err(rest_error(400, "ILLEGAL_ARGUMENT", "The X-Restli-Protocol-Version header must be 2.0.0."));
    }
    Ok(())
}

/// `YYYYMM` (LinkedIn also accepts `YYYYMM.RR` patch releases) within the active window.
fn is_active_version(version: &str, now: DateTime<Utc>, active: u32) -> bool {
    let month_part = version.split_once('.').map(|(m, _)| m).unwrap_or(version);
    if month_part.len() != 6 || !month_part.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let (Ok(year), Ok(month)) = (month_part[..4].parse::<i32>(), month_part[4..].parse::<i32>()) else { return false };
    if !(1..=12).contains(&month) {
        return false;
    }
    let asked = year * 12 + month - 1;
    let current = now.year() * 12 + now.month0() as i32;
    asked <= current && asked > current - active as i32
}
