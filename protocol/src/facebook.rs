//! Meta Graph API, Facebook Pages: URLs, token lifetimes, and what its answers mean (platforms.md §3).

use chrono::{DateTime, TimeDelta, Utc};
use http::HeaderMap;
use serde_json::Value;

use crate::common::{OAuthError, class_for_status, fallback_message, json, str_of, u64_of};
use crate::outcome::{ErrorClass, PlatformError, Published};
use crate::rate_limit::meta_regain_access_at;
use crier_platform::Platform;

pub mod media;

/// Graph API host, without the version (§3.1).
pub const GRAPH_HOST: &str = "https://graph.facebook.com";
/// The host video uploads are posted to (`/{page}/videos`, media-and-metrics.md §3.2).
pub const GRAPH_VIDEO_HOST: &str = "https://graph-video.facebook.com";
/// The default Graph API version: the one the Posts guide's samples use (§3.1; another page calls
/// v25.0 the latest). Meta retires versions, so the clients must let this be configured.
pub const DEFAULT_GRAPH_VERSION: &str = "v26.0";
/// `GRAPH_HOST` + `/` + [`DEFAULT_GRAPH_VERSION`].
pub const DEFAULT_GRAPH_BASE: &str = "https://graph.facebook.com/v26.0";
/// A post's counts, as `fields` of `GET /{page_post_id}` (media-and-metrics.md §3.3).
pub const ENGAGEMENT_FIELDS: &str = "reactions.summary(total_count).limit(0),comments.summary(true).limit(0),shares";
/// The post insights Crier reads (`GET /{page_post_id}/insights?metric=`, §3.3): views and clicks.
/// One retired name fails the whole call, so only metrics that still exist are here.
pub const INSIGHTS_METRICS: &str = "post_media_view,post_clicks";
/// Page permissions Crier requests (§3.1); `pages_manage_engagement` lets the Page comment under
/// its own posts (first comments).
pub const SCOPES: &[&str] = &["pages_manage_posts", "pages_read_engagement", "pages_show_list", "pages_manage_engagement"];

/// A long-lived user token "generally lasts about 60 days"; there are no refresh tokens (§3.2).
pub const LONG_LIVED_USER_TOKEN_LIFETIME: TimeDelta = TimeDelta::days(60);
/// Page tokens fetched (`GET /me/accounts`) with a short-lived user token last one hour (§3.2).
/// Fetched with a long-lived user token they do not expire (until a password change, a lost Page
/// role or the app being removed, which surface as code 190).
pub const SHORT_LIVED_PAGE_TOKEN_LIFETIME: TimeDelta = TimeDelta::hours(1);
/// How long to pause after a throttling error when `X-Business-Use-Case-Usage` gives no estimate.
pub const RATE_LIMIT_FALLBACK: TimeDelta = TimeDelta::hours(1);

/// The Graph API base for a version, e.g. `https://graph.facebook.com/v26.0`.
pub fn graph_base(version: &str) -> String {
    format!("{GRAPH_HOST}/{version}")
}

/// The login dialog for a version: `https://www.facebook.com/<version>/dialog/oauth` (§3.2).
pub fn dialog_url(version: &str) -> String {
    format!("https://www.facebook.com/{version}/dialog/oauth")
}

/// Token endpoint for a version: code exchange and `fb_exchange_token` (§3.2).
pub fn token_url(version: &str) -> String {
    format!("{GRAPH_HOST}/{version}/oauth/access_token")
}

/// The fields Crier asks for a Page (`/me/accounts` adds `access_token`): its id, its name and its
/// profile picture, which Graph nests as `"picture": {"data": {"url": …, "width": …, "height": …,
/// "is_silhouette": …}}` (the 50×50 default size).
pub const PAGE_FIELDS: &str = "id,name,picture{url}";

/// The profile picture's URL in a Page answered with [`PAGE_FIELDS`].
pub fn page_picture(page: &serde_json::Value) -> Option<String> {
    page.pointer("/picture/data/url").and_then(serde_json::Value::as_str).filter(|url| !url.is_empty()).map(str::to_owned)
}

/// The public link to a Page post: `https://www.facebook.com/<page>_<post>` (§3.1).
pub fn permalink(id: &str) -> String {
    format!("https://www.facebook.com/{id}")
}

/// Graph error codes that mean throttling (§3.3): 4 app, 17 user, 32 page, 613 (secondary), 341
/// application limit (retry in hours), and the Business Use Case range 80000–80014 (80001 is the
/// Pages one; secondary).
fn is_throttle(code: u64) -> bool {
    matches!(code, 4 | 17 | 32 | 341 | 613 | 80000..=80014)
}

/// The `{"error":{...}}` envelope (§3.3).
struct GraphError {
    message: String,
    kind: Option<String>,
    code: Option<u64>,
    subcode: Option<u64>,
    is_transient: bool,
}

impl GraphError {
    fn read(v: &Value) -> Option<GraphError> {
        let e = v.get("error")?;
        if !e.is_object() {
            return None;
        }
        let mut message = str_of(e.get("message")).unwrap_or_else(|| "Graph API error".to_owned());
        // The user-facing explanation, when Meta gives one, says more than the technical message.
        if let Some(user_msg) = str_of(e.get("error_user_msg")).filter(|m| *m != message) {
            message = format!("{message} ({user_msg})");
        }
        Some(GraphError {
            message,
            kind: str_of(e.get("type")),
            code: u64_of(e.get("code")),
            subcode: u64_of(e.get("error_subcode")),
            is_transient: e.get("is_transient").and_then(Value::as_bool).unwrap_or(false),
        })
    }

    /// `code` or `code/subcode`, as the error table writes them (`190/463`).
    fn code_string(&self) -> Option<String> {
        match (self.code, self.subcode) {
            (Some(c), Some(s)) => Some(format!("{c}/{s}")),
            (Some(c), None) => Some(c.to_string()),
            _ => None,
        }
    }

    fn class(&self, status: u16, headers: &HeaderMap, now: DateTime<Utc>) -> ErrorClass {
        match self.code {
            Some(c) if is_throttle(c) => ErrorClass::RateLimited { until: rate_limited_until(headers, now) },
            // Token expired, invalidated, password changed, app removed, checkpoint (all subcodes).
            Some(190) => ErrorClass::NeedsReauth,
            // Permission not granted or removed: re-request it by reconnecting.
            Some(10 | 200..=299) => ErrorClass::NeedsReauth,
            // Duplicate, policy block ("You've already posted this"), invalid parameter, link.
            Some(506 | 368 | 100 | 1_609_005) => ErrorClass::Permanent,
            Some(1 | 2) => ErrorClass::Temporary,
            _ if self.is_transient => ErrorClass::Temporary,
            _ => class_for_status(status),
        }
    }
}

/// When a throttled Meta account may call again: `now` + the BUC header's
/// `estimated_time_to_regain_access` (minutes) when present and non-zero, else `now` + 1 hour.
pub fn rate_limited_until(headers: &HeaderMap, now: DateTime<Utc>) -> DateTime<Utc> {
    meta_regain_access_at(headers, now).unwrap_or(now + RATE_LIMIT_FALLBACK)
}

fn error(class: ErrorClass, status: u16, code: Option<String>, message: impl AsRef<str>) -> PlatformError {
    PlatformError::new(Platform::Facebook, class, Some(status), code, message)
}

/// Classifies the answer to `POST /{page_id}/feed` or `/{page_id}/photos` (§3.1, §3.3).
///
/// | answer | outcome |
/// |---|---|
/// | 2xx `{"id":"<page>_<post>"}` (photos: `post_id` preferred over the photo `id`) | [`Published`], permalink `https://www.facebook.com/<id>` |
/// | 2xx without an id | `Permanent` (the post may exist: do not blindly retry) |
/// | code 100 naming `attached_media` (a photo gone after 24 hours) | `Temporary`, [`crate::media::MEDIA_EXPIRED`]: upload again |
/// | an `{"error":…}` envelope at any status, or a non-2xx | [`classify_error`] |
pub fn classify_publish(status: u16, headers: &HeaderMap, body: &[u8], now: DateTime<Utc>) -> Result<Published, PlatformError> {
    if media::names_gone_media(body) {
        return Err(media::gone_media(status, body));
    }
    let v = json(body);
    let has_error = v.as_ref().is_some_and(|v| v.get("error").is_some_and(Value::is_object));
    if (200..300).contains(&status) && !has_error {
        let id = v.as_ref().and_then(|v| str_of(v.get("post_id")).or_else(|| str_of(v.get("id"))));
        return match id {
            Some(id) => Ok(Published { permalink: Some(permalink(&id)), external_id: id }),
            None => Err(error(ErrorClass::Permanent, status, None, format!("{} without a post id", fallback_message(status, body)))),
        };
    }
    Err(classify_error(status, headers, body, now))
}

/// Classifies any failed Graph API call by its error code (§3.3), whatever the HTTP status
/// (errors are usually 400, sometimes 403 or 500).
///
/// | code / subcode | class |
/// |---|---|
/// | 4, 17, 32, 613, 341, 80000–80014 | `RateLimited` until [`rate_limited_until`] |
/// | 190 (any subcode: 458, 459, 460, 463, 464, 467, 492, 493) | `NeedsReauth` |
/// | 10, 200–299 (permission) | `NeedsReauth` |
/// | 506 duplicate, 368 policy block, 100 invalid parameter, 1609005 link | `Permanent` |
/// | 1, 2 (incl. HTTP 500 "code 2"), or `is_transient: true` | `Temporary` |
/// | other codes / no envelope | by status: 401 `NeedsReauth`, 429 `RateLimited`, 408/5xx `Temporary`, else `Permanent` |
///
/// A `Temporary` code 2 may come back although the post was created (§3.3): check before retrying.
pub fn classify_error(status: u16, headers: &HeaderMap, body: &[u8], now: DateTime<Utc>) -> PlatformError {
    match json(body).as_ref().and_then(GraphError::read) {
        Some(e) => error(e.class(status, headers, now), status, e.code_string(), &e.message),
        None => {
            let class = match status {
                401 => ErrorClass::NeedsReauth,
                429 => ErrorClass::RateLimited { until: rate_limited_until(headers, now) },
                _ => class_for_status(status),
            };
            error(class, status, None, fallback_message(status, body))
        }
    }
}

/// Classifies an error from the token endpoint (code exchange, `fb_exchange_token`) (§3.2, §4.2).
///
/// Meta answers with its own envelope, classified as in [`classify_error`], except that an
/// `OAuthException` with code 100 (e.g. "Error validating verification code") means the code or
/// exchanged token is unusable → `NeedsReauth`. An RFC 6749 body, if ever seen, follows RFC rules.
pub fn classify_token_error(status: u16, headers: &HeaderMap, body: &[u8], now: DateTime<Utc>) -> PlatformError {
    let v = json(body);
    if let Some(e) = v.as_ref().and_then(GraphError::read) {
        let class = match (e.code, e.kind.as_deref()) {
            (Some(100), Some("OAuthException")) => ErrorClass::NeedsReauth,
            _ => e.class(status, headers, now),
        };
        return error(class, status, e.code_string(), &e.message);
    }
    if let Some(e) = v.as_ref().and_then(OAuthError::parse) {
        let class = match class_for_status(status) {
            ErrorClass::Temporary => ErrorClass::Temporary,
            _ => e.standard_class(),
        };
        return error(class, status, Some(e.error.clone()), e.message());
    }
    classify_error(status, headers, body, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (test name, status, headers, body, class, code)
    type Row = (&'static str, u16, Vec<(&'static str, &'static str)>, String, ErrorClass, Option<&'static str>);
    use chrono::TimeZone;
    use http::HeaderValue;

    fn now() -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000, 0).unwrap()
    }

    /// §3.1: 200 `{"id":"<page>_<post>"}`; photos answer with `post_id`.
    #[test]
    fn publish_success() {
        let got = classify_publish(200, &HeaderMap::new(), br#"{"id": "422575694827569_917077345377399"}"#, now()).unwrap();
        assert_eq!(
            got,
            Published {
                external_id: "422575694827569_917077345377399".into(),
                permalink: Some("https://www.facebook.com/422575694827569_917077345377399".into()),
            }
        );
        let photo =
            classify_publish(200, &HeaderMap::new(), br#"{"id":"917077345377400","post_id":"422575694827569_917077345377399"}"#, now())
                .unwrap();
        assert_eq!(photo.external_id, "422575694827569_917077345377399");
        let e = classify_publish(200, &HeaderMap::new(), b"not json", now()).unwrap_err();
        assert_eq!(e.class, ErrorClass::Permanent);
    }

    /// §3.3 / §3.4: every documented code, plus non-JSON bodies.
    #[test]
    fn publish_error_table() {
        let hour = now() + TimeDelta::hours(1);
        let buc = [(
            "x-business-use-case-usage",
            r#"{"112130216863063":[{"type":"pages","call_count":100,"total_cputime":1,"total_time":1,"estimated_time_to_regain_access":12}]}"#,
        )];
        let limited = |until| ErrorClass::RateLimited { until };
        let env = |code: u64, sub: Option<u64>, msg: &str, transient: bool| {
            let sub = sub.map(|s| format!(r#","error_subcode":{s}"#)).unwrap_or_default();
            format!(
                r#"{{"error":{{"message":"{msg}","type":"OAuthException","code":{code}{sub},"is_transient":{transient},"fbtrace_id":"EJplcsCHuLu"}}}}"#
            )
        };
        #[rustfmt::skip]
        let table: Vec<Row> = vec![
            ("§3.3 observed #4 (is_transient true, still throttling)", 400, vec![],
             r#"{"error":{"message":"(#4) Application request limit reached","type":"OAuthException","is_transient":true,"code":4,"fbtrace_id":"FlQgl+5U8pF"}}"#.into(),
             limited(hour), Some("4")),
            ("§3.4 #4 with BUC estimate (minutes)", 400, buc.to_vec(), env(4, None, "(#4) Application request limit reached", true),
             limited(now() + TimeDelta::minutes(12)), Some("4")),
            ("§3.3 17 user too many calls", 400, vec![], env(17, None, "(#17) User request limit reached", false), limited(hour), Some("17")),
            ("§3.3 32 page limit", 400, buc.to_vec(), env(32, None, "(#32) Page request limit reached", false),
             limited(now() + TimeDelta::minutes(12)), Some("32")),
            ("§3.3 613", 400, vec![], env(613, None, "Calls to this api have exceeded the rate limit.", false), limited(hour), Some("613")),
            ("§3.3 341 application limit", 400, vec![], env(341, None, "(#341) Application limit reached", false), limited(hour), Some("341")),
            ("§3.4 80001 BUC pages", 400, vec![], env(80001, None, "There have been too many calls to this Page account.", false), limited(hour), Some("80001")),
            ("§3.3 official envelope 190/460", 400, vec![],
             r#"{"error":{"message":"Message describing the error","type":"OAuthException","code":190,"error_subcode":460,"error_user_title":"A title","error_user_msg":"A message","fbtrace_id":"EJplcsCHuLu"}}"#.into(),
             ErrorClass::NeedsReauth, Some("190/460")),
            ("§3.3 190 no subcode", 400, vec![], env(190, None, "Invalid OAuth access token.", false), ErrorClass::NeedsReauth, Some("190")),
            ("§3.3 190/458 app not installed", 400, vec![], env(190, Some(458), "Error validating access token: The user has not authorized application.", false), ErrorClass::NeedsReauth, Some("190/458")),
            ("§3.3 190/463 expired", 400, vec![], env(190, Some(463), "Error validating access token: Session has expired on Tuesday.", false), ErrorClass::NeedsReauth, Some("190/463")),
            ("§3.3 190/467 invalid", 400, vec![], env(190, Some(467), "The session is invalid, because the user logged out.", false), ErrorClass::NeedsReauth, Some("190/467")),
            ("§3.3 190/493", 400, vec![], env(190, Some(493), "The access token is invalid since the user hasn't engaged the app in longer than 90 days.", false), ErrorClass::NeedsReauth, Some("190/493")),
            ("§3.3 10 permission", 403, vec![], env(10, None, "(#10) Application does not have permission for this action", false), ErrorClass::NeedsReauth, Some("10")),
            ("§3.3 200 permission", 403, vec![], env(200, None, "(#200) The user hasn't authorized the application to perform this action", false), ErrorClass::NeedsReauth, Some("200")),
            ("§3.3 299 permission", 400, vec![], env(299, None, "(#299) permission", false), ErrorClass::NeedsReauth, Some("299")),
            ("§3.3 506 duplicate", 400, vec![], env(506, None, "(#506) Duplicate status message", false), ErrorClass::Permanent, Some("506")),
            ("§3.3 368 policy block", 400, vec![], env(368, None, "You've already posted this. Posting the same content repeatedly on Facebook isn't allowed.", false), ErrorClass::Permanent, Some("368")),
            ("§3.3 100 invalid parameter", 400, vec![], env(100, None, "(#100) Invalid parameter", false), ErrorClass::Permanent, Some("100")),
            ("§3.3 1609005 link", 400, vec![], env(1_609_005, None, "Error Posting Link", false), ErrorClass::Permanent, Some("1609005")),
            ("§3.3 1 unknown", 400, vec![], env(1, None, "An unknown error occurred", false), ErrorClass::Temporary, Some("1")),
            ("§3.3 HTTP 500 code 2", 500, vec![], env(2, None, "An unexpected error has occurred. Please retry your request later.", true), ErrorClass::Temporary, Some("2")),
            ("§3.3 unknown code, is_transient", 400, vec![], env(9999, None, "Something", true), ErrorClass::Temporary, Some("9999")),
            ("§3.3 unknown code, not transient", 400, vec![], env(9999, None, "Something", false), ErrorClass::Permanent, Some("9999")),
            ("non-JSON 500", 500, vec![], "<html>oops</html>".into(), ErrorClass::Temporary, None),
            ("non-JSON 502 empty", 502, vec![], String::new(), ErrorClass::Temporary, None),
            ("non-JSON 400", 400, vec![], "bad".into(), ErrorClass::Permanent, None),
            ("non-JSON 401", 401, vec![], String::new(), ErrorClass::NeedsReauth, None),
            ("non-JSON 429", 429, vec![], String::new(), limited(hour), None),
        ];
        for (name, status, pairs, body, class, code) in table {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.insert(k, HeaderValue::from_str(v).unwrap());
            }
            let e = classify_publish(status, &h, body.as_bytes(), now()).unwrap_err();
            assert_eq!(e.class, class, "{name}");
            assert_eq!(e.code.as_deref(), code, "{name}");
            assert_eq!(e.platform, Platform::Facebook, "{name}");
        }
    }

    #[test]
    fn messages_are_the_platforms_words() {
        let body = br#"{"error":{"message":"Message describing the error","type":"OAuthException","code":190,"error_subcode":460,"error_user_title":"A title","error_user_msg":"A message","fbtrace_id":"EJplcsCHuLu"}}"#;
        let e = classify_publish(400, &HeaderMap::new(), body, now()).unwrap_err();
        assert_eq!(e.message, "Message describing the error (A message)");
        // An echoed token never survives.
        let body = br#"{"error":{"message":"Malformed access token EAAGm0PX4ZCpsBAO9ZBeZCuBbZAhZB2nSCvKZBZBb0ZD9ZBAZCzCZAZBF","type":"OAuthException","code":190}}"#;
        let e = classify_publish(400, &HeaderMap::new(), body, now()).unwrap_err();
        assert_eq!(e.message, "Malformed access token [redacted]");
        // An error envelope with HTTP 200 is still an error.
        let e = classify_publish(200, &HeaderMap::new(), br#"{"error":{"message":"x","code":506}}"#, now()).unwrap_err();
        assert_eq!(e.class, ErrorClass::Permanent);
    }

    /// §3.2 / §4.2: token-endpoint errors.
    #[test]
    fn token_error_table() {
        #[rustfmt::skip]
        let table: &[(&str, u16, &str, ErrorClass)] = &[
            ("§3.2 bad code", 400, r#"{"error":{"type":"OAuthException","message":"Error validating verification code. Please make sure your redirect_uri is identical.","code":100,"error_subcode":36008}}"#, ErrorClass::NeedsReauth),
            ("§3.2 expired token exchange", 400, r#"{"error":{"type":"OAuthException","message":"Error validating access token: Session has expired","code":190,"error_subcode":463}}"#, ErrorClass::NeedsReauth),
            ("§3.3 throttled", 400, r#"{"error":{"type":"OAuthException","message":"(#4) Application request limit reached","code":4}}"#, ErrorClass::RateLimited { until: now() + TimeDelta::hours(1) }),
            ("§4.2 RFC body", 400, r#"{"error":"invalid_grant"}"#, ErrorClass::NeedsReauth),
            ("5xx", 503, "", ErrorClass::Temporary),
        ];
        for (name, status, body, class) in table {
            assert_eq!(classify_token_error(*status, &HeaderMap::new(), body.as_bytes(), now()).class, *class, "{name}");
        }
    }

    #[test]
    fn constants() {
        assert_eq!(graph_base(DEFAULT_GRAPH_VERSION), DEFAULT_GRAPH_BASE);
        assert_eq!(token_url("v26.0"), "https://graph.facebook.com/v26.0/oauth/access_token");
        assert_eq!(dialog_url("v19.0"), "https://www.facebook.com/v19.0/dialog/oauth");
    }
}
