//! X (Twitter) API v2: URLs, token lifetimes, and what its answers mean (platforms.md §1).

use chrono::{DateTime, TimeDelta, Utc};
use http::HeaderMap;
use serde_json::Value;

use crate::common::{OAuthError, class_for_status, fallback_message, json, str_of, u64_of};
use crate::outcome::{ErrorClass, PlatformError, Published};
use crate::rate_limit::{x_app_24h, x_rate_limit, x_user_24h};
use crier_platform::Platform;

pub mod media;

/// Production API host (§1.1). The legacy host `https://api.twitter.com` still answers.
pub const API_BASE: &str = "https://api.x.com";
/// The legacy API host, still seen in the wild (§1.1).
pub const LEGACY_API_BASE: &str = "https://api.twitter.com";
/// Browser authorization page for OAuth 2.0 + PKCE (§1.1: the user-facing docs use x.com, not the
/// `api.x.com/2/oauth2/authorize` listed in openapi.json).
pub const AUTHORIZE_URL: &str = "https://x.com/i/oauth2/authorize";
/// Token endpoint: code exchange and refresh (§1.1, §1.6).
pub const TOKEN_URL: &str = "https://api.x.com/2/oauth2/token";
/// Token revocation (§1.6); X also wants `token_type_hint`.
pub const REVOKE_URL: &str = "https://api.x.com/2/oauth2/revoke";
/// Create a post (`POST`, JSON body, 201 on success) (§1.2).
pub const CREATE_POST_PATH: &str = "/2/tweets";
/// The connected user (`GET`), for the connection check (§1.7).
pub const USERS_ME_PATH: &str = "/2/users/me";
/// The `user.fields` Crier asks `/2/users/me` for beyond id, name and username: the profile
/// picture's URL (`data.profile_image_url`, the 48×48 `_normal` size) (§1.7).
pub const USERS_ME_FIELDS: &str = "profile_image_url";
/// Posts read back by id, with their metrics (`GET`, `ids=` up to [`METRICS_IDS_PER_CALL`];
/// media-and-metrics.md §1.6).
pub const LOOKUP_PATH: &str = "/2/tweets";
/// Ids one [`LOOKUP_PATH`] call may name.
pub const METRICS_IDS_PER_CALL: usize = 100;
/// The metric groups any caller may read.
pub const PUBLIC_METRICS: &str = "public_metrics";
/// Also the ones X gives only for the caller's own posts under 30 days old (link and profile
/// clicks).
pub const ALL_METRICS: &str = "public_metrics,non_public_metrics";
/// The problem type of a field the caller may not read.
pub const NOT_AUTHORIZED_FOR_FIELD_PROBLEM: &str = "not-authorized-for-field";
/// One-shot media upload (§1.8).
pub const MEDIA_UPLOAD_PATH: &str = "/2/media/upload";
/// Scopes Crier requests (§1.6): read/write posts, identify the user, a refresh token, media.
pub const SCOPES: &[&str] = &["tweet.read", "tweet.write", "users.read", "offline.access", "media.write"];

/// Access tokens last two hours (`expires_in: 7200`) (§1.6).
pub const ACCESS_TOKEN_LIFETIME: TimeDelta = TimeDelta::hours(2);
/// The authorization code must be exchanged within 30 seconds (§1.6).
pub const AUTHORIZATION_CODE_LIFETIME: TimeDelta = TimeDelta::seconds(30);
/// Refresh tokens rotate: every refresh returns a new one and the old one is spent, so the newest
/// must be saved and refreshes serialized per account (§1.6).
pub const REFRESH_TOKEN_ROTATES: bool = true;
/// How long to pause after a 429 that carries no usable reset header: one 15-minute window.
pub const RATE_LIMIT_FALLBACK: TimeDelta = TimeDelta::minutes(15);

/// The public link to a post: `https://x.com/i/web/status/<id>` works without the username.
pub fn permalink(id: &str) -> String {
    format!("https://x.com/i/web/status/{id}")
}

/// When a rate-limited X account may call again (§1.5): the latest reset among exhausted windows
/// (a spent 24-hour cap means waiting for its reset, not the 15-minute one); else the 15-minute
/// reset; else `now` + 15 minutes. Resets are whole seconds and clocks differ, so a reset up to
/// [`RESET_JUST_PASSED`] ago means the window has just reset (try again in a second); an older
/// one is a stale header and falls back too.
pub fn rate_limited_until(headers: &HeaderMap, now: DateTime<Utc>) -> DateTime<Utc> {
    let windows: Vec<_> = [x_rate_limit(headers), x_user_24h(headers), x_app_24h(headers)].into_iter().flatten().collect();
    let exhausted = windows.iter().filter(|w| w.is_exhausted()).filter_map(|w| w.reset_at).max();
    let candidate = exhausted.or_else(|| x_rate_limit(headers).and_then(|w| w.reset_at));
    match candidate {
        Some(t) if t > now => t,
        Some(t) if t > now - RESET_JUST_PASSED => now + TimeDelta::seconds(1),
        _ => now + RATE_LIMIT_FALLBACK,
    }
}

/// See [`rate_limited_until`].
pub const RESET_JUST_PASSED: TimeDelta = TimeDelta::seconds(60);

/// What an X error body says, in either of its shapes (§1.4).
struct Problem {
    /// `reason`, else a non-`about:blank` `type`, else the v1.1 numeric code.
    code: Option<String>,
    /// `type`, for matching.
    kind: Option<String>,
    /// v1.1 `errors[0].code`.
    legacy_code: Option<u64>,
    message: String,
}

impl Problem {
    /// Reads the v2 problem form (`type`/`title`/`detail`) or the v1.1 form
    /// (`{"errors":[{"code":88,"message":"..."}]}`); a 2xx body's `errors` array holds problems too.
    fn read(v: &Value) -> Option<Problem> {
        let detail = str_of(v.get("detail")).or_else(|| str_of(v.get("title")));
        if let Some(detail) = detail {
            // An invalid-request problem's detail is generic ("One or more parameters to your
            // request was invalid."); the first error's message says which and why.
            let specific = v.pointer("/errors/0/message").and_then(Value::as_str).filter(|m| !m.is_empty());
            let message = specific.map(str::to_owned).unwrap_or(detail);
            let kind = str_of(v.get("type"));
            let code = str_of(v.get("reason")).or_else(|| kind.clone().filter(|t| t != "about:blank"));
            return Some(Problem { code, kind, legacy_code: None, message });
        }
        let first = v.get("errors")?.as_array()?.first()?;
        if first.get("detail").is_some() || first.get("title").is_some() {
            return Problem::read(first);
        }
        let legacy_code = u64_of(first.get("code"));
        let message = str_of(first.get("message"))?;
        Some(Problem { code: legacy_code.map(|c| c.to_string()), kind: None, legacy_code, message })
    }

    fn kind_is(&self, suffix: &str) -> bool {
        self.kind.as_deref().is_some_and(|k| k.ends_with(suffix))
    }
}

fn error(class: ErrorClass, status: u16, code: Option<String>, message: impl AsRef<str>) -> PlatformError {
    PlatformError::new(Platform::X, class, Some(status), code, message)
}

/// Classifies the answer to `POST /2/tweets` (§1.3, §1.4).
///
/// | answer | outcome |
/// |---|---|
/// | 2xx with `data.id` | [`Published`], permalink `https://x.com/i/web/status/<id>` |
/// | 2xx without an id | `Permanent` (the post may exist: do not blindly retry) |
/// | 400 "Your media IDs are invalid." (media-and-metrics.md §1.4) | `Temporary`, [`crate::media::MEDIA_EXPIRED`]: upload again |
/// | anything else | [`classify_error`] |
pub fn classify_publish(status: u16, headers: &HeaderMap, body: &[u8], now: DateTime<Utc>) -> Result<Published, PlatformError> {
    if media::names_invalid_media(status, body) {
        let e = classify_error(status, headers, body, now);
        let message =
            json(body).and_then(|v| v.pointer("/errors/0/message").and_then(Value::as_str).map(str::to_owned)).unwrap_or(e.message);
        return Err(media::invalid_media(status, &message));
    }
    if (200..300).contains(&status) {
        let v = json(body);
        if let Some(id) = v.as_ref().and_then(|v| str_of(v.pointer("/data/id"))) {
            return Ok(Published { permalink: Some(permalink(&id)), external_id: id });
        }
        let (code, message) = match v.as_ref().and_then(Problem::read) {
            Some(p) => (p.code, p.message),
            None => (None, format!("{} without a post id", fallback_message(status, body))),
        };
        return Err(error(ErrorClass::Permanent, status, code, message));
    }
    Err(classify_error(status, headers, body, now))
}

/// Classifies any failed X API v2 call (§1.4 error table).
///
/// | status / body | class |
/// |---|---|
/// | 401 (any body), v1.1 code 89 | `NeedsReauth` (a client with a refresh token refreshes once first) |
/// | 403 "…duplicate content." / v1.1 187 | `Permanent` |
/// | 403 `…/problems/unsupported-authentication` | `NeedsReauth` (wrong kind of token) |
/// | 403 v1.1 185 (daily status limit) | `RateLimited` as for 429 |
/// | 403 other (`client-forbidden`, suspended, reply not permitted) | `Permanent` |
/// | 429 | `RateLimited` until [`rate_limited_until`] |
/// | 408, 5xx | `Temporary` |
/// | 400, 402 (credits depleted), 404, other 4xx | `Permanent` |
pub fn classify_error(status: u16, headers: &HeaderMap, body: &[u8], now: DateTime<Utc>) -> PlatformError {
    let Some(problem) = json(body).as_ref().and_then(Problem::read) else {
        let class = match status {
            401 => ErrorClass::NeedsReauth,
            429 => ErrorClass::RateLimited { until: rate_limited_until(headers, now) },
            _ => class_for_status(status),
        };
        return error(class, status, None, fallback_message(status, body));
    };
    let duplicate = problem.legacy_code == Some(187) || problem.message.to_ascii_lowercase().contains("duplicate content");
    let class = match status {
        _ if problem.legacy_code == Some(89) => ErrorClass::NeedsReauth,
        401 => ErrorClass::NeedsReauth,
        429 => ErrorClass::RateLimited { until: rate_limited_until(headers, now) },
        403 if duplicate => ErrorClass::Permanent,
        403 if problem.kind_is("/unsupported-authentication") => ErrorClass::NeedsReauth,
        403 if problem.legacy_code == Some(185) => ErrorClass::RateLimited { until: rate_limited_until(headers, now) },
        _ => class_for_status(status),
    };
    error(class, status, problem.code, problem.message)
}

/// Classifies an error from the token endpoint (code exchange or refresh) (§1.6, §4.2).
///
/// RFC 6749 §5.2 semantics (`invalid_grant` → `NeedsReauth`, other codes → `Permanent`), with X's
/// deviation: a spent or invalid refresh token or authorization code comes back as
/// `invalid_request` "Value passed for the token was invalid." / "…authorization code was
/// invalid." → `NeedsReauth`. Other `invalid_request`s (a missing parameter) are our bug →
/// `Permanent`; `unauthorized_client` "Missing valid authorization header" (confidential client
/// without Basic auth) → `Permanent`. 429 → `RateLimited`, 408/5xx → `Temporary`.
pub fn classify_token_error(status: u16, headers: &HeaderMap, body: &[u8], now: DateTime<Utc>) -> PlatformError {
    if status == 429 {
        return classify_error(status, headers, body, now);
    }
    let v = json(body);
    if let Some(e) = v.as_ref().and_then(OAuthError::parse) {
        let spent = e.description.as_deref().is_some_and(|d| d.to_ascii_lowercase().contains("value passed for the"));
        let class = match e.error.as_str() {
            _ if matches!(class_for_status(status), ErrorClass::Temporary) => ErrorClass::Temporary,
            "invalid_request" if spent => ErrorClass::NeedsReauth,
            _ => e.standard_class(),
        };
        return error(class, status, Some(e.error.clone()), e.message());
    }
    // Not an OAuth error body: a problem body or none at all. On the token endpoint a 401 is our
    // client authentication failing, not the user's token, so only the status decides.
    let (code, message) = match v.as_ref().and_then(Problem::read) {
        Some(p) => (p.code, p.message),
        None => (None, fallback_message(status, body)),
    };
    error(class_for_status(status), status, code, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (test name, status, headers, body, class, code, message)
    type Row = (&'static str, u16, Vec<(&'static str, &'static str)>, &'static str, ErrorClass, Option<&'static str>, &'static str);
    use chrono::TimeZone;
    use http::HeaderValue;

    fn now() -> DateTime<Utc> {
        Utc.timestamp_opt(1_705_420_000, 0).unwrap()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    /// §1.3: 201 with `{"data":{"id","text"}}`.
    #[test]
    fn publish_success() {
        let body = br#"{"data": {"id": "1346889436626259968", "text": "Learn how to use the user Tweet timeline ..."}}"#;
        let got = classify_publish(201, &HeaderMap::new(), body, now()).unwrap();
        assert_eq!(
            got,
            Published {
                external_id: "1346889436626259968".into(),
                permalink: Some("https://x.com/i/web/status/1346889436626259968".into())
            }
        );
    }

    #[test]
    fn publish_success_without_id_is_permanent() {
        for body in [&b""[..], b"<html>ok</html>", br#"{"data":{}}"#] {
            let e = classify_publish(201, &HeaderMap::new(), body, now()).unwrap_err();
            assert_eq!(e.class, ErrorClass::Permanent, "{body:?}");
        }
    }

    /// §1.4 / §1.5: every documented error body, plus non-JSON bodies.
    #[test]
    fn publish_error_table() {
        let reset = Utc.timestamp_opt(1_705_420_800, 0).unwrap();
        let day_reset = Utc.timestamp_opt(1_705_500_000, 0).unwrap();
        let fallback = now() + TimeDelta::minutes(15);
        let limited = |until| ErrorClass::RateLimited { until };
        #[rustfmt::skip]
        let table: Vec<Row> = vec![
            ("§1.4 duplicate content", 403, vec![],
             r#"{"detail":"You are not allowed to create a Tweet with duplicate content.","type":"about:blank","title":"Forbidden","status":403}"#,
             ErrorClass::Permanent, None, "You are not allowed to create a Tweet with duplicate content."),
            ("§1.4 bad/expired token", 401, vec![],
             r#"{"title":"Unauthorized","type":"about:blank","status":401,"detail":"Unauthorized"}"#,
             ErrorClass::NeedsReauth, None, "Unauthorized"),
            ("§1.4 rate limited, §1.5 reset header", 429,
             vec![("x-rate-limit-limit", "900"), ("x-rate-limit-remaining", "0"), ("x-rate-limit-reset", "1705420800")],
             r#"{"title":"Too Many Requests","detail":"Too Many Requests","type":"about:blank","status":429}"#,
             limited(reset), None, "Too Many Requests"),
            ("§1.5 daily user cap spent: wait for the 24h reset", 429,
             vec![("x-rate-limit-remaining", "99"), ("x-rate-limit-reset", "1705420800"),
                  ("x-user-limit-24hour-limit", "100"), ("x-user-limit-24hour-remaining", "0"), ("x-user-limit-24hour-reset", "1705500000")],
             r#"{"title":"Too Many Requests","detail":"Too Many Requests","type":"about:blank","status":429}"#,
             limited(day_reset), None, "Too Many Requests"),
            ("§1.4 429 without headers: now + 15 min", 429, vec![],
             r#"{"title":"Too Many Requests","detail":"Too Many Requests","type":"about:blank","status":429}"#,
             limited(fallback), None, "Too Many Requests"),
            ("§1.5 reset a moment ago (whole seconds, clock skew): again in a second", 429,
             vec![("x-rate-limit-remaining", "0"), ("x-rate-limit-reset", "1705419998")],
             "Too Many Requests", limited(now() + TimeDelta::seconds(1)), None, "HTTP 429 Too Many Requests: Too Many Requests"),
            ("§1.5 reset in the past: now + 15 min", 429, vec![("x-rate-limit-remaining", "0"), ("x-rate-limit-reset", "1705000000")],
             "Too Many Requests", limited(fallback), None, "HTTP 429 Too Many Requests: Too Many Requests"),
            ("§1.4 legacy v1.1 429 body", 429, vec![("x-rate-limit-remaining", "0"), ("x-rate-limit-reset", "1705420800")],
             r#"{"errors":[{"code":88,"message":"Rate limit exceeded"}]}"#,
             limited(reset), Some("88"), "Rate limit exceeded"),
            ("§1.4 client not enrolled", 403, vec![],
             r#"{"client_id":"101010101","required_enrollment":"Standard Basic","registration_url":"https://developer.x.com","title":"Client Forbidden","detail":"This request must be made using an approved developer account that is enrolled in the requested endpoint.","reason":"client-not-enrolled","type":"https://api.x.com/2/problems/client-forbidden"}"#,
             ErrorClass::Permanent, Some("client-not-enrolled"),
             "This request must be made using an approved developer account that is enrolled in the requested endpoint."),
            ("§1.4 unsupported authentication", 403, vec![],
             r#"{"title":"Unsupported Authentication","detail":"Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.","type":"https://api.x.com/2/problems/unsupported-authentication","status":403}"#,
             ErrorClass::NeedsReauth, Some("https://api.x.com/2/problems/unsupported-authentication"),
             "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint."),
            ("§1.4 invalid request", 400, vec![],
             r#"{"title":"Invalid Request","detail":"The 'query' parameter is required.","type":"https://api.x.com/2/problems/invalid-request"}"#,
             ErrorClass::Permanent, Some("https://api.x.com/2/problems/invalid-request"), "The 'query' parameter is required."),
            ("§1.4 legacy 187 duplicate", 403, vec![], r#"{"errors":[{"code":187,"message":"Status is a duplicate."}]}"#,
             ErrorClass::Permanent, Some("187"), "Status is a duplicate."),
            ("§1.4 legacy 89 invalid token", 401, vec![], r#"{"errors":[{"code":89,"message":"Invalid or expired token."}]}"#,
             ErrorClass::NeedsReauth, Some("89"), "Invalid or expired token."),
            ("§1.4 legacy 185 daily limit", 403, vec![("x-user-limit-24hour-remaining", "0"), ("x-user-limit-24hour-reset", "1705500000")],
             r#"{"errors":[{"code":185,"message":"User is over daily status update limit."}]}"#,
             limited(day_reset), Some("185"), "User is over daily status update limit."),
            ("§1.4 404 reply target gone", 404, vec![],
             r#"{"title":"Not Found Error","detail":"Could not find tweet.","type":"https://api.x.com/2/problems/resource-not-found"}"#,
             ErrorClass::Permanent, Some("https://api.x.com/2/problems/resource-not-found"), "Could not find tweet."),
            ("§1.4 402 credits depleted", 402, vec![],
             r#"{"title":"Payment Required","detail":"credits-depleted","type":"about:blank","status":402}"#,
             ErrorClass::Permanent, None, "credits-depleted"),
            ("§1.4 503 Service Unavailable", 503, vec![],
             r#"{"title":"Service Unavailable","detail":"Service Unavailable","type":"about:blank","status":503}"#,
             ErrorClass::Temporary, None, "Service Unavailable"),
            ("§1.4 5xx HTML page", 502, vec![], "<html><body>Bad Gateway</body></html>",
             ErrorClass::Temporary, None, "HTTP 502 Bad Gateway"),
            ("§1.4 5xx empty body", 504, vec![], "", ErrorClass::Temporary, None, "HTTP 504 Gateway Timeout"),
            ("§1.4 401 non-JSON", 401, vec![], "Unauthorized", ErrorClass::NeedsReauth, None, "HTTP 401 Unauthorized: Unauthorized"),
            ("§1.4 429 non-JSON", 429, vec![("x-rate-limit-reset", "1705420800")], "",
             limited(reset), None, "HTTP 429 Too Many Requests"),
        ];
        for (name, status, pairs, body, class, code, message) in table {
            let e = classify_publish(status, &headers(&pairs), body.as_bytes(), now()).unwrap_err();
            assert_eq!(e.class, class, "{name}");
            assert_eq!(e.status, Some(status), "{name}");
            assert_eq!(e.code.as_deref(), code, "{name}");
            assert_eq!(e.message, message, "{name}");
            assert_eq!(e.platform, Platform::X, "{name}");
        }
    }

    /// §1.6 / §4.2: token-endpoint errors.
    #[test]
    fn token_error_table() {
        #[rustfmt::skip]
        let table: &[(&str, u16, &str, ErrorClass, Option<&str>)] = &[
            ("§1.6 spent refresh token", 400,
             r#"{"error":"invalid_request","error_description":"Value passed for the token was invalid."}"#,
             ErrorClass::NeedsReauth, Some("invalid_request")),
            ("§1.6 bad/expired/used authorization code", 400,
             r#"{"error":"invalid_request","error_description":"Value passed for the authorization code was invalid.","errors":[{"message":"x"}]}"#,
             ErrorClass::NeedsReauth, Some("invalid_request")),
            ("§1.6 revoke without token_type_hint", 400,
             r#"{"error":"invalid_request","error_description":"Missing required parameter [token_type_hint]."}"#,
             ErrorClass::Permanent, Some("invalid_request")),
            ("§1.6 confidential client without Basic", 401,
             r#"{"error":"unauthorized_client","error_description":"Missing valid authorization header"}"#,
             ErrorClass::Permanent, Some("unauthorized_client")),
            ("§4.2 RFC invalid_grant", 400, r#"{"error":"invalid_grant"}"#, ErrorClass::NeedsReauth, Some("invalid_grant")),
            ("§4.2 RFC invalid_client", 401, r#"{"error":"invalid_client"}"#, ErrorClass::Permanent, Some("invalid_client")),
            ("5xx", 503, "<html>down</html>", ErrorClass::Temporary, None),
            ("5xx with an OAuth body", 500, r#"{"error":"server_error"}"#, ErrorClass::Temporary, Some("server_error")),
        ];
        for (name, status, body, class, code) in table {
            let e = classify_token_error(*status, &HeaderMap::new(), body.as_bytes(), now());
            assert_eq!(e.class, *class, "{name}");
            assert_eq!(e.code.as_deref(), *code, "{name}");
        }
        let e = classify_token_error(429, &HeaderMap::new(), b"", now());
        assert_eq!(e.class, ErrorClass::RateLimited { until: now() + RATE_LIMIT_FALLBACK });
    }

    /// §1.1 / §1.6: the documented URLs and lifetimes.
    #[test]
    fn constants() {
        assert_eq!(format!("{API_BASE}{CREATE_POST_PATH}"), "https://api.x.com/2/tweets");
        assert_eq!(ACCESS_TOKEN_LIFETIME.num_seconds(), 7200);
        assert_eq!(TOKEN_URL, "https://api.x.com/2/oauth2/token");
        assert_eq!(AUTHORIZE_URL, "https://x.com/i/oauth2/authorize");
    }
}
