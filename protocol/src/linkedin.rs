//! LinkedIn Posts API: URLs, headers, token lifetimes, and what its answers mean (platforms.md §2).

use chrono::{DateTime, TimeDelta, Utc};
use http::HeaderMap;
use serde_json::Value;

use crate::common::{OAuthError, class_for_status, fallback_message, json, str_of, u64_of};
use crate::outcome::{ErrorClass, PlatformError, Published};
use crate::rate_limit::linkedin_reset_after;
use crier_platform::Platform;

pub mod media;

/// Production API host (§2.1).
pub const API_BASE: &str = "https://api.linkedin.com";
/// Create a post (`POST`, JSON; 201 with an empty body and the URN in `x-restli-id`) (§2.1, §2.2).
pub const POSTS_PATH: &str = "/rest/posts";

/// A post's likes and comments summaries (`GET`, media-and-metrics.md §2.6).
pub fn social_actions_path(encoded_post_urn: &str) -> String {
    format!("/rest/socialActions/{encoded_post_urn}")
}
/// An organization's posts' totals (`GET`, `q=organizationalEntity`; §2.6).
pub const SHARE_STATISTICS_PATH: &str = "/rest/organizationalEntityShareStatistics";
/// Posts one share-statistics call names at most (LinkedIn publishes no number; URLs stay short).
pub const SHARE_STATISTICS_POSTS_PER_CALL: usize = 20;

/// Where a post's comments are (`/rest/socialActions/{encoded post urn}/comments`).
pub fn comments_path(encoded_post_urn: &str) -> String {
    format!("/rest/socialActions/{encoded_post_urn}/comments")
}
/// The connected member (OIDC `sub`, used as `urn:li:person:<sub>`) (§2.1, §2.5).
pub const USERINFO_PATH: &str = "/v2/userinfo";
/// The userinfo claim with the member's profile picture URL (with the `profile` scope, §2.5).
pub const USERINFO_PICTURE: &str = "picture";
/// Where an image's URN is looked up for its `downloadUrl` (`GET`, the URN encoded).
pub const IMAGES_PATH: &str = "/rest/images";

/// The image URN of an organization's logo, from `GET /rest/organizations/{id}`: its `logoV2`'s
/// `cropped` (else `original`) digital media asset, `urn:li:digitalmediaAsset:<id>`, is the image
/// `urn:li:image:<id>` of the Images API.
pub fn organization_logo(organization: &serde_json::Value) -> Option<String> {
    let logo = organization.get("logoV2")?;
    let asset = logo.get("cropped").or_else(|| logo.get("original"))?.as_str()?;
    let id = asset.strip_prefix("urn:li:digitalmediaAsset:").or_else(|| asset.strip_prefix("urn:li:image:"))?;
    (!id.is_empty()).then(|| format!("urn:li:image:{id}"))
}
/// Browser authorization page (§2.5).
pub const AUTHORIZE_URL: &str = "https://www.linkedin.com/oauth/v2/authorization";
/// Token endpoint: code exchange and refresh; client secret goes in the form body (§2.5).
pub const TOKEN_URL: &str = "https://www.linkedin.com/oauth/v2/accessToken";
/// Token introspection (§2.1).
pub const INTROSPECT_URL: &str = "https://www.linkedin.com/oauth/v2/introspectToken";
/// Header every `/rest` call needs, with a `YYYYMM` version (§2.1).
pub const VERSION_HEADER: &str = "LinkedIn-Version";
/// The default `LinkedIn-Version` (the example in §2.1). Versions are monthly and sunset after about
/// a year (then 426 `NONEXISTENT_VERSION`), so the clients must let this be configured.
pub const DEFAULT_VERSION: &str = "202601";
/// Header every call needs (§2.1).
pub const RESTLI_PROTOCOL_HEADER: &str = "X-Restli-Protocol-Version";
/// Its only value (§2.1).
pub const RESTLI_PROTOCOL_VERSION: &str = "2.0.0";
/// Response header carrying the created post's URN (§2.2).
pub const RESTLI_ID_HEADER: &str = "x-restli-id";
/// Scopes for posting as a member with Sign In with LinkedIn (self-serve) (§2.5).
pub const MEMBER_SCOPES: &[&str] = &["openid", "profile", "w_member_social"];
/// Extra scope for posting as an organisation (needs LinkedIn's approval) (§2.5).
pub const ORGANIZATION_SCOPES: &[&str] = &["w_organization_social", "r_organization_social"];

/// Access tokens are issued for 60 days (`expires_in: 5184000`) (§2.5).
pub const ACCESS_TOKEN_LIFETIME: TimeDelta = TimeDelta::days(60);
/// Refresh tokens (approved partners only) last 365 days from the first grant; refreshing does not
/// extend them (§2.5).
pub const REFRESH_TOKEN_LIFETIME: TimeDelta = TimeDelta::days(365);
/// LinkedIn returns the same refresh token on refresh: it does not rotate (§2.5).
pub const REFRESH_TOKEN_ROTATES: bool = false;
/// The authorization code lives 30 minutes (§2.5).
pub const AUTHORIZATION_CODE_LIFETIME: TimeDelta = TimeDelta::minutes(30);

/// The public link to a post: `https://www.linkedin.com/feed/update/<urn>`.
pub fn permalink(urn: &str) -> String {
    format!("https://www.linkedin.com/feed/update/{urn}")
}

/// LinkedIn's error body (§2.6): `message`, `serviceErrorCode`, `status`, newer `code`, and for
/// validation errors `errorDetails.inputErrors[].code`.
struct LinkedinError {
    service_code: Option<u64>,
    /// `code`, else the first input error's code, else `serviceErrorCode`.
    code: Option<String>,
    message: String,
}

impl LinkedinError {
    fn read(v: &Value) -> Option<LinkedinError> {
        let message = str_of(v.get("message"))?;
        let service_code = u64_of(v.get("serviceErrorCode"));
        let input_code = v.pointer("/errorDetails/inputErrors/0/code");
        let code = str_of(v.get("code")).or_else(|| str_of(input_code)).or_else(|| service_code.map(|c| c.to_string()));
        // "com.linkedin.content.common.exception.BadRequestResponseException: Content is a
        // duplicate of urn:li:share:…": the Java class name is noise; the rest is LinkedIn's words.
        let message = match message.rfind("Exception: ") {
            Some(i) if message[..i].contains("com.linkedin.") => message[i + "Exception: ".len()..].to_owned(),
            _ => message,
        };
        Some(LinkedinError { service_code, code, message })
    }
}

fn error(class: ErrorClass, status: u16, code: Option<String>, message: impl AsRef<str>) -> PlatformError {
    PlatformError::new(Platform::Linkedin, class, Some(status), code, message)
}

/// Classifies the answer to `POST /rest/posts` (§2.2, §2.6).
///
/// | answer | outcome |
/// |---|---|
/// | 2xx with an `x-restli-id` header (or an `id` in the body) | [`Published`], permalink `https://www.linkedin.com/feed/update/<urn>` |
/// | 2xx without either | `Permanent` (the post may exist: do not blindly retry) |
/// | 4xx naming its media (`/content/media/id`, [`media::MEDIA_NOT_USABLE`]) | `Temporary`, [`crate::media::MEDIA_EXPIRED`]: upload again |
/// | anything else | [`classify_error`] |
pub fn classify_publish(status: u16, headers: &HeaderMap, body: &[u8], now: DateTime<Utc>) -> Result<Published, PlatformError> {
    if media::names_unusable_media(status, body) {
        return Err(media::unusable_media(status, body));
    }
    if (200..300).contains(&status) {
        let from_header =
            headers.get(RESTLI_ID_HEADER).and_then(|h| h.to_str().ok()).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
        let urn = from_header.or_else(|| json(body).and_then(|v| str_of(v.get("id"))));
        return match urn {
            Some(urn) => Ok(Published { permalink: Some(permalink(&urn)), external_id: urn }),
            None => {
                Err(error(ErrorClass::Permanent, status, None, format!("{} without an x-restli-id header", fallback_message(status, body))))
            }
        };
    }
    Err(classify_error(status, headers, body, now))
}

/// Classifies any failed LinkedIn API call (§2.1, §2.6).
///
/// | status / body | class |
/// |---|---|
/// | 401 (65600 invalid, 65601 `REVOKED_ACCESS_TOKEN`, expired, any) | `NeedsReauth` |
/// | 403 `serviceErrorCode` 100 "Not enough permissions…" | `NeedsReauth` (missing scope or org role: the connection must be fixed) |
/// | 403 other | `Permanent` |
/// | 422 `DUPLICATE_POST`, 422 validation, 400, 404, 426 `NONEXISTENT_VERSION` | `Permanent` |
/// | 429 (`serviceErrorCode` 101) | `RateLimited` until the next 00:00 UTC |
/// | 408, 5xx | `Temporary` |
pub fn classify_error(status: u16, _headers: &HeaderMap, body: &[u8], now: DateTime<Utc>) -> PlatformError {
    let parsed = json(body).as_ref().and_then(LinkedinError::read);
    let class = match status {
        401 => ErrorClass::NeedsReauth,
        429 => ErrorClass::RateLimited { until: linkedin_reset_after(now) },
        403 if parsed.as_ref().is_some_and(|e| e.service_code == Some(100) || e.message.starts_with("Not enough permissions")) => {
            ErrorClass::NeedsReauth
        }
        _ => class_for_status(status),
    };
    match parsed {
        Some(e) => error(class, status, e.code, e.message),
        None => error(class, status, None, fallback_message(status, body)),
    }
}

/// Classifies an error from the token endpoint (§2.5, §4.2).
///
/// | error | class |
/// |---|---|
/// | `invalid_request` "…grant or refresh token is invalid, expired or revoked", "authorization code not found" | `NeedsReauth` |
/// | `invalid_redirect_uri` ("…does not match authorization code. Or authorization code expired") | `NeedsReauth` |
/// | `invalid_grant` | `NeedsReauth` |
/// | `invalid_request` "A required parameter … is missing", `invalid_client_id`, others | `Permanent` |
/// | 429 | `RateLimited` until the next 00:00 UTC; 408/5xx `Temporary` |
pub fn classify_token_error(status: u16, headers: &HeaderMap, body: &[u8], now: DateTime<Utc>) -> PlatformError {
    if status == 429 || matches!(class_for_status(status), ErrorClass::Temporary) {
        return classify_error(status, headers, body, now);
    }
    let Some(e) = json(body).as_ref().and_then(OAuthError::parse) else {
        return classify_error(status, headers, body, now);
    };
    let description = e.description.as_deref().unwrap_or_default().to_ascii_lowercase();
    let grant_gone = ["expired", "revoked", "not found"].iter().any(|w| description.contains(w));
    let class = match e.error.as_str() {
        "invalid_request" if grant_gone => ErrorClass::NeedsReauth,
        // Also a redirect-URI mismatch, which a reconnect attempt will surface again: LinkedIn
        // folds both into one code, and an expired code is the common case.
        "invalid_redirect_uri" => ErrorClass::NeedsReauth,
        _ => e.standard_class(),
    };
    error(class, status, Some(e.error.clone()), e.message())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (test name, status, body, class, code, message)
    type Row = (&'static str, u16, &'static str, ErrorClass, Option<&'static str>, &'static str);
    use chrono::TimeZone;
    use http::HeaderValue;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 14, 15, 9, 26).unwrap()
    }

    /// §2.2: 201, empty body, URN in `x-restli-id`.
    #[test]
    fn publish_success() {
        let mut h = HeaderMap::new();
        h.insert("x-restli-id", HeaderValue::from_static("urn:li:share:6844785523593134080"));
        let got = classify_publish(201, &h, b"", now()).unwrap();
        assert_eq!(
            got,
            Published {
                external_id: "urn:li:share:6844785523593134080".into(),
                permalink: Some("https://www.linkedin.com/feed/update/urn:li:share:6844785523593134080".into()),
            }
        );
        // §2.3 legacy ugcPosts spells it X-RestLi-Id; header names are case-insensitive.
        let mut h = HeaderMap::new();
        h.insert("X-RestLi-Id", HeaderValue::from_static("urn:li:ugcPost:1"));
        assert_eq!(classify_publish(201, &h, b"", now()).unwrap().external_id, "urn:li:ugcPost:1");
        let e = classify_publish(201, &HeaderMap::new(), b"", now()).unwrap_err();
        assert_eq!(e.class, ErrorClass::Permanent);
    }

    /// §2.1 / §2.2 / §2.6: every documented error body.
    #[test]
    fn publish_error_table() {
        let midnight = Utc.with_ymd_and_hms(2026, 3, 15, 0, 0, 0).unwrap();
        #[rustfmt::skip]
        let table: &[Row] = &[
            ("§2.6 400 ILLEGAL_ARGUMENT", 400, r#"{"status":400,"code":"ILLEGAL_ARGUMENT","message":"Request body could not be converted to data map"}"#,
             ErrorClass::Permanent, Some("ILLEGAL_ARGUMENT"), "Request body could not be converted to data map"),
            ("§2.6 error-handling example", 401, r#"{"message":"Empty oauth2_access_token","serviceErrorCode":401,"status":401}"#,
             ErrorClass::NeedsReauth, Some("401"), "Empty oauth2_access_token"),
            ("§2.6 401 invalid token", 401, r#"{"serviceErrorCode":65600,"message":"Invalid access token","status":401}"#,
             ErrorClass::NeedsReauth, Some("65600"), "Invalid access token"),
            ("§2.6 401 revoked", 401, r#"{"status":401,"serviceErrorCode":65601,"code":"REVOKED_ACCESS_TOKEN","message":"The token used in the request has been revoked by the user"}"#,
             ErrorClass::NeedsReauth, Some("REVOKED_ACCESS_TOKEN"), "The token used in the request has been revoked by the user"),
            ("§2.6 401 expired", 401, r#"{"message":"Expired access token","status":401}"#,
             ErrorClass::NeedsReauth, None, "Expired access token"),
            ("§2.6 403 not enough permissions", 403, r#"{"serviceErrorCode":100,"message":"Not enough permissions to access: GET /me","status":403}"#,
             ErrorClass::NeedsReauth, Some("100"), "Not enough permissions to access: GET /me"),
            ("§2.6 403 other", 403, r#"{"message":"Member is restricted","status":403}"#,
             ErrorClass::Permanent, None, "Member is restricted"),
            ("§2.6 422 DUPLICATE_POST", 422,
             r#"{"errorDetailType":"com.linkedin.common.error.BadRequest","message":"com.linkedin.content.common.exception.BadRequestResponseException: Content is a duplicate of urn:li:share:7141138937766391808","errorDetails":{"inputErrors":[{"description":"Duplicate post is detected","input":{},"code":"DUPLICATE_POST"}]},"status":422}"#,
             ErrorClass::Permanent, Some("DUPLICATE_POST"), "Content is a duplicate of urn:li:share:7141138937766391808"),
            ("§2.2 422 field required", 422, r#"{"message":"ERROR :: /author :: field is required but not found and has no default value\n","status":422}"#,
             ErrorClass::Permanent, None, "ERROR :: /author :: field is required but not found and has no default value\n"),
            ("§2.1 426 version sunset", 426, r#"{"status":426,"code":"NONEXISTENT_VERSION","message":"Requested version 20241101 is not active"}"#,
             ErrorClass::Permanent, Some("NONEXISTENT_VERSION"), "Requested version 20241101 is not active"),
            ("§2.6 429 daily throttle", 429, r#"{"serviceErrorCode":101,"message":"Resource level throttle limit for calls to this resource is reached.","status":429}"#,
             ErrorClass::RateLimited { until: midnight }, Some("101"), "Resource level throttle limit for calls to this resource is reached."),
            ("§2.6 429 non-JSON", 429, "", ErrorClass::RateLimited { until: midnight }, None, "HTTP 429 Too Many Requests"),
            ("§2.6 500", 500, "", ErrorClass::Temporary, None, "HTTP 500 Internal Server Error"),
            ("§2.6 504 HTML", 504, "<html>gateway</html>", ErrorClass::Temporary, None, "HTTP 504 Gateway Timeout"),
            ("401 non-JSON", 401, "nope", ErrorClass::NeedsReauth, None, "HTTP 401 Unauthorized: nope"),
        ];
        for (name, status, body, class, code, message) in table {
            let e = classify_publish(*status, &HeaderMap::new(), body.as_bytes(), now()).unwrap_err();
            assert_eq!(e.class, *class, "{name}");
            assert_eq!(e.code.as_deref(), *code, "{name}");
            assert_eq!(e.message, *message, "{name}");
            assert_eq!(e.platform, Platform::Linkedin, "{name}");
        }
    }

    /// §2.5 / §4.2: token-endpoint errors.
    #[test]
    fn token_error_table() {
        #[rustfmt::skip]
        let table: &[(&str, u16, &str, ErrorClass)] = &[
            ("§2.5 refresh token expired/revoked", 400,
             r#"{"error":"invalid_request","error_description":"The provided authorization grant or refresh token is invalid, expired or revoked"}"#,
             ErrorClass::NeedsReauth),
            ("§2.5 code not found", 401, r#"{"error":"invalid_request","error_description":"authorization code not found"}"#, ErrorClass::NeedsReauth),
            ("§2.5 missing parameter", 400, r#"{"error":"invalid_request","error_description":"A required parameter \"code\" is missing"}"#, ErrorClass::Permanent),
            ("§2.5 bad/expired code", 400,
             r#"{"error":"invalid_redirect_uri","error_description":"Unable to retrieve access token: appid/redirect uri/code verifier does not match authorization code. Or authorization code expired."}"#,
             ErrorClass::NeedsReauth),
            ("§2.5 client credentials", 401, r#"{"error":"invalid_client_id","error_description":"Client authentication failed"}"#, ErrorClass::Permanent),
            ("§4.2 invalid_grant", 400, r#"{"error":"invalid_grant"}"#, ErrorClass::NeedsReauth),
            ("5xx", 502, "", ErrorClass::Temporary),
        ];
        for (name, status, body, class) in table {
            let e = classify_token_error(*status, &HeaderMap::new(), body.as_bytes(), now());
            assert_eq!(e.class, *class, "{name}");
        }
        let e = classify_token_error(429, &HeaderMap::new(), b"", now());
        assert_eq!(e.class, ErrorClass::RateLimited { until: Utc.with_ymd_and_hms(2026, 3, 15, 0, 0, 0).unwrap() });
    }

    #[test]
    fn constants() {
        assert_eq!(format!("{API_BASE}{POSTS_PATH}"), "https://api.linkedin.com/rest/posts");
        assert_eq!(ACCESS_TOKEN_LIFETIME.num_seconds(), 5_184_000);
        assert_eq!(DEFAULT_VERSION.len(), 6);
    }
}
