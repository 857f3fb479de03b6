//! The shared vocabulary: which platform, what was published, and what to do about a failure.

use std::fmt;

use chrono::{DateTime, Utc};
use crier_platform::Platform;
use serde::{Deserialize, Serialize};

/// What to do about a failed call.
///
/// This is the only thing the scheduler has to understand about a platform's error: the
/// per-platform modules map every documented status/code onto one of these four.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ErrorClass {
    /// Retry with backoff: 5xx, timeouts, X 503, Meta code 1/2 or `is_transient: true`.
    ///
    /// Beware: a Meta HTTP 500 "code 2" can come back although the post *was* created
    /// (platforms.md §3.3), so a client should look for the post before publishing again.
    Temporary,
    /// Pause this account (not the whole platform) until then.
    RateLimited {
        /// The earliest moment a new call can succeed.
        until: DateTime<Utc>,
    },
    /// The token is expired, revoked or lacks a permission: hold this account's deliveries and
    /// ask the team to reconnect it. (A client holding an OAuth2 refresh token tries one refresh
    /// first; this class is what remains when that is not possible or failed.)
    NeedsReauth,
    /// Retrying cannot help (duplicate, policy, validation, configuration): fail the delivery
    /// with the platform's reason.
    Permanent,
}

/// A failed platform call, classified. The message is the platform's own words, redacted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformError {
    /// Which platform answered.
    pub platform: Platform,
    /// What to do about it.
    pub class: ErrorClass,
    /// The HTTP status, when there was a response (`None` for transport failures).
    pub status: Option<u16>,
    /// The platform's machine-readable code when it gave one: X problem `reason`/`type` or v1.1
    /// code, LinkedIn `code`/input error code/`serviceErrorCode`, Meta `code` or `code/subcode`,
    /// OAuth `error`.
    pub code: Option<String>,
    /// The platform's own explanation, with anything token-like removed by [`redact`].
    pub message: String,
}

impl PlatformError {
    /// Builds an error, redacting the message and code so no token can leak through it.
    pub fn new(platform: Platform, class: ErrorClass, status: Option<u16>, code: Option<String>, message: impl AsRef<str>) -> Self {
        PlatformError { platform, class, status, code: code.map(|c| redact(&c)), message: redact(message.as_ref()) }
    }

    /// Whether the same call may be tried again later (temporary or rate-limited).
    pub fn is_retryable(&self) -> bool {
        matches!(self.class, ErrorClass::Temporary | ErrorClass::RateLimited { .. })
    }
}

impl fmt::Display for PlatformError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.platform)?;
        if let Some(status) = self.status {
            write!(f, " HTTP {status}")?;
        }
        if let Some(code) = &self.code {
            write!(f, " ({code})")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for PlatformError {}

/// A post the platform accepted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Published {
    /// The platform's id for the post: X tweet id, LinkedIn post URN, Facebook `<page>_<post>` id.
    pub external_id: String,
    /// A public link to the post, when one can be built from the id.
    pub permalink: Option<String>,
}

const REDACTED: &str = "[redacted]";

/// Parameter names whose values are credentials (compared case-insensitively).
const SECRET_KEYS: &[&str] = &[
    "access_token",
    "refresh_token",
    "oauth_token",
    "oauth_token_secret",
    "oauth_signature",
    "oauth_verifier",
    "client_secret",
    "fb_exchange_token",
    "input_token",
    "id_token",
    "code_verifier",
    "token",
    "code",
    "password",
];

/// An opaque run of at least this many token characters, mixing letters and digits, is taken for
/// a credential. Real tokens are far longer (X ~90, LinkedIn ~350, Meta ~200 characters); ids,
/// URNs' numeric tails and words are not caught because they lack either letters or digits.
const OPAQUE_MIN_LEN: usize = 32;

/// Removes token-looking material from text a platform sent us, before it is stored or logged.
///
/// Platforms sometimes echo the request (`...?access_token=EAAB...`), and error bodies may quote
/// headers. Three rules, applied in order:
/// 1. the value after a credential parameter name (`access_token=`, `"refresh_token":"`,
///    `oauth_token="`, `code=`…) is replaced;
/// 2. the credential after `Bearer ` / `Basic ` / `OAuth ` is replaced;
/// 3. any remaining run of 32+ token characters (`A-Z a-z 0-9 - _ . ~ + / =`) that mixes letters
///    and digits is replaced.
///
/// Everything else (the platform's words, ids, URNs) is kept.
pub fn redact(text: &str) -> String {
    redact_opaque(&redact_schemes(&redact_key_values(text)))
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Where a value that must not be shown ends: at a delimiter of query strings, JSON or headers.
fn value_end(bytes: &[u8], start: usize) -> usize {
    let mut end = start;
    while end < bytes.len()
        && !matches!(bytes[end], b'&' | b'"' | b'\'' | b',' | b';' | b'}' | b']' | b')' | b'<' | b'>')
        && !bytes[end].is_ascii_whitespace()
    {
        end += 1;
    }
    end
}

fn redact_key_values(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        let at_word_start = i == 0 || !is_word_byte(bytes[i - 1]);
        let key = if at_word_start {
            SECRET_KEYS
                .iter()
                .filter(|k| bytes.len() - i >= k.len() && bytes[i..i + k.len()].eq_ignore_ascii_case(k.as_bytes()))
                .max_by_key(|k| k.len())
        } else {
            None
        };
        let Some(key) = key else {
            i += 1;
            continue;
        };
        let mut j = i + key.len();
        // `code` is only a credential as a query parameter (`?code=...`); in JSON it is an
        // error number (`"code":190`).
        let query_only = *key == "code";
        if j < bytes.len() && is_word_byte(bytes[j]) || query_only && bytes.get(j) != Some(&b'=') {
            // `tokens`, `code_challenge`, `coder`: a longer word, not the parameter.
            i = j;
            continue;
        }
        // Accept `key=v`, `key="v"`, `key": "v"`, `key: v`.
        if bytes.get(j) == Some(&b'"') {
            j += 1;
        }
        match bytes.get(j) {
            Some(b'=') | Some(b':') => j += 1,
            _ => {
                i = j;
                continue;
            }
        }
        while j < bytes.len() && bytes[j] == b' ' {
            j += 1;
        }
        if bytes.get(j) == Some(&b'"') || bytes.get(j) == Some(&b'\'') {
            j += 1;
        }
        let end = value_end(bytes, j);
        if end > j {
            out.push_str(&text[copied..j]);
            out.push_str(REDACTED);
            copied = end;
        }
        i = end.max(j);
    }
    out.push_str(&text[copied..]);
    out
}

fn redact_schemes(text: &str) -> String {
    // `OAuth ` is not listed: its `k="v"` pairs are handled by rule 1, and the consumer key and
    // nonce it also carries are not secrets.
    const SCHEMES: &[&str] = &["bearer ", "basic "];
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        let at_word_start = i == 0 || !is_word_byte(bytes[i - 1]);
        let scheme = if at_word_start {
            SCHEMES.iter().find(|s| bytes.len() - i >= s.len() && bytes[i..i + s.len()].eq_ignore_ascii_case(s.as_bytes()))
        } else {
            None
        };
        let Some(scheme) = scheme else {
            i += 1;
            continue;
        };
        let start = i + scheme.len();
        let end = value_end(bytes, start);
        // "Basic Plan", "Bearer token": short words are prose; credentials are long.
        let credential = &text[start..end];
        if credential.len() >= 8 && credential != REDACTED {
            out.push_str(&text[copied..start]);
            out.push_str(REDACTED);
            copied = end;
        }
        i = end.max(start);
    }
    out.push_str(&text[copied..]);
    out
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | '+' | '/' | '=')
}

fn redact_opaque(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run_start: Option<usize> = None;
    let flush = |out: &mut String, run: &str| {
        let letters = run.bytes().any(|b| b.is_ascii_alphabetic());
        let digits = run.bytes().any(|b| b.is_ascii_digit());
        // A URL path or a dotted Java class name is not a token even when long: require that
        // the run is not mostly separators.
        // A run starting with `//` follows `https:`: a URL, whose credentials rule 1 handles.
        let separators = run.bytes().filter(|b| matches!(b, b'/' | b'.')).count();
        let url = run.starts_with("//");
        if run.len() >= OPAQUE_MIN_LEN && letters && digits && !url && separators * 8 < run.len() {
            out.push_str(REDACTED);
        } else {
            out.push_str(run);
        }
    };
    for (idx, c) in text.char_indices() {
        if is_token_char(c) {
            run_start.get_or_insert(idx);
        } else {
            if let Some(start) = run_start.take() {
                flush(&mut out, &text[start..idx]);
            }
            out.push(c);
        }
    }
    if let Some(start) = run_start {
        flush(&mut out, &text[start..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_table() {
        let cases: &[(&str, &str)] = &[
            // Platforms' own words stay as they are (platforms.md §1.4, §2.6, §3.3).
            (
                "You are not allowed to create a Tweet with duplicate content.",
                "You are not allowed to create a Tweet with duplicate content.",
            ),
            (
                "com.linkedin.content.common.exception.BadRequestResponseException: Content is a duplicate of urn:li:share:7141138937766391808",
                "com.linkedin.content.common.exception.BadRequestResponseException: Content is a duplicate of urn:li:share:7141138937766391808",
            ),
            ("(#4) Application request limit reached", "(#4) Application request limit reached"),
            (
                "This request must be made using an approved developer account that is enrolled in the requested endpoint. Standard Basic",
                "This request must be made using an approved developer account that is enrolled in the requested endpoint. Standard Basic",
            ),
            ("Value passed for the token was invalid.", "Value passed for the token was invalid."),
            ("Empty oauth2_access_token", "Empty oauth2_access_token"),
            // Query-string echoes.
            ("GET /me?fields=id&access_token=EAABsbCS1iHgBAKZA2x9&x=1", "GET /me?fields=id&access_token=[redacted]&x=1"),
            ("refresh_token=abc&client_secret=s3cr3t", "refresh_token=[redacted]&client_secret=[redacted]"),
            ("?code=AQTQmah11lalyH65&state=foobar", "?code=[redacted]&state=foobar"),
            // JSON echoes.
            (
                r#"{"access_token":"AQUvlL_DYEzvT2wz1QJiEPeLioeA","expires_in":5184000}"#,
                r#"{"access_token":"[redacted]","expires_in":5184000}"#,
            ),
            (r#"{"refresh_token": "xyz"}"#, r#"{"refresh_token": "[redacted]"}"#),
            // OAuth 1.0a header (platforms.md §1.10).
            (
                r#"OAuth oauth_consumer_key="xvz1evFS4wEEPTGEFPHBog", oauth_token="370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb", oauth_signature="tnnArxj06cWHq44gCs1OSKk%2FjLY%3D""#,
                r#"OAuth oauth_consumer_key="xvz1evFS4wEEPTGEFPHBog", oauth_token="[redacted]", oauth_signature="[redacted]""#,
            ),
            // Authorization schemes.
            ("Authorization: Bearer VGNibzFWSWREZm01bjN1N3dicWlN", "Authorization: Bearer [redacted]"),
            ("header was Bearer abcdefgh1234", "header was Bearer [redacted]"),
            ("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ== rejected", "Basic [redacted] rejected"),
            // A bare long token somewhere in prose.
            (
                "token VGNibzFWSWREZm01bjN1N3dicWlNUG1oa2xRRVNNdmVHelJGY2hPWGxNd2dxOjE2MjIxNjA4MjU4MjU6MToxOmF0OjE is bad",
                "token [redacted] is bad",
            ),
            ("saw EAAGm0PX4ZCpsBAO9ZBeZCuBbZAhZB2nSCvKZBZBb0ZD9ZBAZCzCZAZBF in log", "saw [redacted] in log"),
            // Words that merely start like a key are not touched.
            ("tokens: 3, code_challenge=abc", "tokens: 3, code_challenge=abc"),
            // URLs (X problem types, permalinks) are not tokens.
            (
                "https://api.x.com/2/problems/unsupported-authentication and https://x.com/i/web/status/1346889436626259968",
                "https://api.x.com/2/problems/unsupported-authentication and https://x.com/i/web/status/1346889436626259968",
            ),
            (
                "see https://www.facebook.com/422575694827569_917077345377399",
                "see https://www.facebook.com/422575694827569_917077345377399",
            ),
            (r#"{"error":{"code":190,"error_subcode":463}}"#, r#"{"error":{"code":190,"error_subcode":463}}"#),
            // Non-ASCII is preserved.
            ("Erreur ☃ : access_token=abc déjà", "Erreur ☃ : access_token=[redacted] déjà"),
        ];
        for (input, expected) in cases {
            assert_eq!(redact(input), *expected, "input: {input}");
        }
    }

    #[test]
    fn constructor_redacts_message_and_code() {
        let e = PlatformError::new(
            Platform::Facebook,
            ErrorClass::Permanent,
            Some(400),
            Some("access_token=abc".into()),
            "bad access_token=abc",
        );
        assert_eq!(e.message, "bad access_token=[redacted]");
        assert_eq!(e.code.as_deref(), Some("access_token=[redacted]"));
        assert_eq!(e.to_string(), "facebook HTTP 400 (access_token=[redacted]): bad access_token=[redacted]");
    }
}
