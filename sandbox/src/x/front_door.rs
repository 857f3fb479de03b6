//! What every X API request goes through before its handler's own checks: who is calling (an
//! OAuth 2.0 bearer token or an OAuth 1.0a signature), then the injected faults (latency, canned
//! responses, random errors and rate limits), then, for the routes that share it ([`enter`]), the
//! 15-minute window and the scope. The token endpoints take only the faults.

use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::Response;
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;

use super::errors::{forbidden, too_many_requests, unauthorized};
use super::rate_limits::{Limit, add_limit_headers, rate_limit};
use super::state::XState;
use crate::util;
use crate::{Inner, State};

/// The authenticated caller of an API request.
#[derive(Clone)]
pub(super) struct Auth {
    pub(super) user_id: String,
    pub(super) client_id: String,
    pub(super) scope: Vec<String>,
}

/// An API request as authentication sees it: OAuth 1.0a signs the method and the URL.
pub(super) struct Caller<'a> {
    pub(super) method: &'a Method,
    /// The request URI inside the sandbox router (the nesting prefix stripped).
    pub(super) uri: &'a Uri,
    pub(super) headers: &'a HeaderMap,
}

impl Caller<'_> {
    /// The URL the client addressed: the sandbox's public base and the path and query it called.
    fn url(&self, public_base: &str) -> Option<url::Url> {
        let path_and_query = self.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        url::Url::parse(&format!("{public_base}{path_and_query}")).ok()
    }
}

impl XState {
    /// The caller of an API request: an OAuth 2.0 bearer token, or OAuth 1.0a credentials with a
    /// valid signature over the request as it arrived (`url` as the client addressed it).
    fn authenticate(&mut self, method: &Method, url: &url::Url, headers: &HeaderMap, now: DateTime<Utc>) -> Option<Auth> {
        let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
        let (scheme, credentials) = value.split_once(' ')?;
        if scheme.eq_ignore_ascii_case("oauth") {
            return self.oauth1_caller(method, url, credentials, now);
        }
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        let access = self.access.get(credentials.trim())?;
        (!access.revoked && now < access.expires_at).then(|| Auth {
            user_id: access.user_id.clone(),
            client_id: access.client_id.clone(),
            scope: access.scope.clone(),
        })
    }
}

pub(super) async fn front_door(inner: &Inner, caller: Option<&Caller<'_>>) -> Result<Option<Auth>, Response> {
    front_door_step(inner, caller, None).await
}

/// [`front_door`] for a request of a named step (media: `upload`, `initialize`, `append`,
/// `finalize`, `status`, `metadata`), which injected responses may be aimed at.
pub(super) async fn front_door_step(inner: &Inner, caller: Option<&Caller<'_>>, step: Option<&str>) -> Result<Option<Auth>, Response> {
    let (auth, decision) = {
        let mut state = inner.lock();
        let now = inner.now();
        let auth = caller.and_then(|c| {
            let url = c.url(&inner.config.public_base)?;
            state.x.authenticate(c.method, &url, c.headers, now)
        });
        let transient = || {
            // X's problem shape, as for 429 (platforms.md §1.4); the 503 body itself is not documented.
            let body = json!({"title": "Service Unavailable", "detail": "Service Unavailable", "type": "about:blank", "status": 503});
            util::json(StatusCode::SERVICE_UNAVAILABLE, &body, HeaderMap::new())
        };
        let rate_limited = |reset_secs: u64| {
            let mut headers = HeaderMap::new();
            let reset = (now + TimeDelta::seconds(reset_secs as i64)).timestamp();
            add_limit_headers(&mut headers, "x-rate-limit", &Limit { limit: 100, remaining: 0, reset });
            too_many_requests(headers)
        };
        let decision = state.x.faults.decide_step(auth.as_ref().map(|a| a.user_id.as_str()), step, transient, rate_limited);
        (auth, decision)
    };
    decision.apply().await?;
    Ok(auth)
}

/// What the read and delete endpoints share, in X's order: an injected fault or the token check
/// first, then the call counted against its 15-minute window, then the scope.
pub(super) async fn enter<'a>(
    inner: &'a Inner,
    caller: &Caller<'_>,
    window: &str,
    limit: u32,
    scope: Option<&str>,
) -> Result<(Auth, std::sync::MutexGuard<'a, State>, HeaderMap), Response> {
    enter_step(inner, caller, None, window, limit, scope).await
}

/// [`enter`] for a request of a named step (see [`front_door_step`]).
pub(super) async fn enter_step<'a>(
    inner: &'a Inner,
    caller: &Caller<'_>,
    step: Option<&str>,
    window: &str,
    limit: u32,
    scope: Option<&str>,
) -> Result<(Auth, std::sync::MutexGuard<'a, State>, HeaderMap), Response> {
    let auth = match front_door_step(inner, Some(caller), step).await {
        Ok(Some(auth)) => auth,
        Ok(None) => return Err(unauthorized()),
        Err(response) => return Err(response),
    };
    let now = inner.now();
    let mut state = inner.lock();
    let out = rate_limit(&mut state, &format!("{window}:{}", auth.user_id), limit, now)?;
    if let Some(scope) = scope
        && !has_scope(&auth, scope)
    {
        return Err(forbidden("Forbidden", out));
    }
    Ok((auth, state, out))
}

pub(super) fn has_scope(auth: &Auth, scope: &str) -> bool {
    auth.scope.iter().any(|s| s == scope)
}
