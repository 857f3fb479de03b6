//! Helpers the per-platform classifiers share (crate-private).

use http::{HeaderMap, StatusCode};
use serde_json::Value;

use crate::outcome::ErrorClass;

/// The body as JSON, or `None` when it is not JSON (HTML error pages from proxies, empty bodies).
pub(crate) fn json(body: &[u8]) -> Option<Value> {
    serde_json::from_slice(body).ok()
}

/// A string field, or a number rendered as a string (platforms are not consistent about which).
pub(crate) fn str_of(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A non-negative integer field, accepting `12` and `"12"`.
pub(crate) fn u64_of(v: Option<&Value>) -> Option<u64> {
    match v? {
        Value::Number(n) => n.as_u64().or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A header's value as an integer (X sends counts and epoch seconds as decimal strings).
pub(crate) fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// The class for a status when the body says nothing we recognise: server errors and request
/// timeouts are worth retrying, any other failure is not.
pub(crate) fn class_for_status(status: u16) -> ErrorClass {
    match status {
        408 | 500..=599 => ErrorClass::Temporary,
        _ => ErrorClass::Permanent,
    }
}

/// A message for a body we could not read: the status's reason phrase, plus the body itself when it
/// is short plain text (a proxy's "upstream connect error"), never an HTML page.
pub(crate) fn fallback_message(status: u16, body: &[u8]) -> String {
    let reason = StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("Unexpected response");
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if !text.is_empty() && text.len() <= 200 && !text.starts_with('<') {
        format!("HTTP {status} {reason}: {text}")
    } else {
        format!("HTTP {status} {reason}")
    }
}

/// An RFC 6749 §5.2 token-endpoint error: `{"error": "...", "error_description": "..."}`.
pub(crate) struct OAuthError {
    pub(crate) error: String,
    pub(crate) description: Option<String>,
}

impl OAuthError {
    pub(crate) fn parse(v: &Value) -> Option<OAuthError> {
        let error = v.get("error")?.as_str()?.to_owned();
        Some(OAuthError { error, description: str_of(v.get("error_description")) })
    }

    /// The description when given, else the error code itself.
    pub(crate) fn message(&self) -> String {
        self.description.clone().unwrap_or_else(|| self.error.clone())
    }

    /// RFC 6749 §5.2 semantics without platform deviations: a bad grant means the user must
    /// authorize again; everything else is our client's configuration or request.
    pub(crate) fn standard_class(&self) -> ErrorClass {
        match self.error.as_str() {
            "invalid_grant" => ErrorClass::NeedsReauth,
            // `invalid_request`, `invalid_client`, `unauthorized_client`,
            // `unsupported_grant_type`, `invalid_scope`: fixing them needs a code or config change.
            _ => ErrorClass::Permanent,
        }
    }
}
