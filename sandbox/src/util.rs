//! Small helpers: random tokens, HTML escaping, JSON responses.

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// 32 random bytes, base64url without padding (43 characters).
pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS random source failed");
    URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn random_u64() -> u64 {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("the OS random source failed");
    u64::from_le_bytes(bytes)
}

pub(crate) fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A JSON response with exactly this status, body and extra headers.
pub(crate) fn json(status: StatusCode, body: &serde_json::Value, headers: HeaderMap) -> Response {
    let mut response = (status, [(axum::http::header::CONTENT_TYPE, "application/json; charset=utf-8")], body.to_string()).into_response();
    response.headers_mut().extend(headers);
    response
}

pub(crate) fn header_map(pairs: impl IntoIterator<Item = (String, String)>) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            map.append(name, value);
        }
    }
    map
}

/// A whole HTML page with the sandbox banner (consent pages of the LinkedIn and Meta fakes).
pub(crate) fn html_page(banner: &str, title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem}}\
         .banner{{background:#fff4cc;padding:.5rem 1rem;border-radius:.5rem}}.error{{color:#b00020}}\
         button{{font-size:1rem;padding:.5rem 1.5rem;margin-right:.5rem}}</style></head>\
         <body><p class=\"banner\">{}</p>\n{}\n</body></html>\n",
        html_escape(title),
        html_escape(banner),
        body
    )
}

/// The bearer token of a request, if any.
pub(crate) fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("oauth")).then(|| token.trim())
}

/// The consent form's hidden inputs: the authorization request's parameters, carried from the
/// page to its submission.
pub(crate) fn hidden_inputs(params: &std::collections::HashMap<String, String>, names: &[&str]) -> String {
    names
        .iter()
        .map(|name| {
            let value = params.get(*name).map(String::as_str).unwrap_or("");
            format!("<input type=\"hidden\" name=\"{name}\" value=\"{}\">\n", html_escape(value))
        })
        .collect()
}

pub(crate) fn parse_form(body: &[u8]) -> std::collections::HashMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

/// Every value of a repeated form field, in order.
pub(crate) fn form_values(body: &[u8], name: &str) -> Vec<String> {
    url::form_urlencoded::parse(body).filter(|(k, _)| k == name).map(|(_, v)| v.into_owned()).collect()
}

pub(crate) fn redirect(to: &url::Url) -> Response {
    (
        StatusCode::FOUND,
        [(axum::http::header::LOCATION, to.as_str().to_owned()), (axum::http::header::CACHE_CONTROL, "no-store".to_owned())],
    )
        .into_response()
}

/// A time-ordered id like X's and LinkedIn's (milliseconds shifted left 22 bits), strictly increasing.
pub(crate) fn time_id(last: &mut u64, now: chrono::DateTime<chrono::Utc>, epoch_ms: i64, floor: u64) -> u64 {
    let millis = (now.timestamp_millis() - epoch_ms).max(0) as u64;
    let id = (millis << 22).max(*last + 1).max(floor);
    *last = id;
    id
}
