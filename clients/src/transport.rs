//! Moving bytes: one reqwest pool per client, the raw answer kept for classification, and
//! transport failures turned into `Temporary` errors.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use crier_platform::Platform;
use crier_protocol::{ErrorClass, PlatformError, RateBudget};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::header::HeaderMap;
use reqwest::redirect::Policy;
use url::Url;

use crate::{Clock, Response, Timeouts};

/// A platform's answer, before anyone decides what it means.
#[derive(Clone, Debug)]
pub(crate) struct Raw {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

impl Raw {
    pub(crate) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as JSON, when it is JSON.
    pub(crate) fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// `crier_protocol::{x,linkedin,meta}::classify_error` and `classify_token_error`.
pub(crate) type Classify = fn(u16, &HeaderMap, &[u8], DateTime<Utc>) -> PlatformError;

/// The error an HTTP call could not avoid: no answer. Its message is already redacted.
#[derive(Debug)]
pub(crate) struct TransportError(PlatformError);

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.message)
    }
}

impl std::error::Error for TransportError {}

type OAuthFuture<'a> = Pin<Box<dyn Future<Output = Result<oauth2::HttpResponse, TransportError>> + Send + 'a>>;

/// One platform's connection pool and clock.
pub(crate) struct Transport {
    pub(crate) http: reqwest::Client,
    platform: Platform,
    clock: Clock,
}

impl Transport {
    /// Panics when the TLS backend cannot be initialised, as `reqwest::Client::new` does.
    pub(crate) fn new(platform: Platform, timeouts: Timeouts, clock: Clock) -> Self {
        let http = reqwest::Client::builder()
            // Token endpoints must never be followed elsewhere with credentials in the body, and no
            // API call of ours expects a redirect: a 3xx is classified like any other answer.
            .redirect(Policy::none())
            .connect_timeout(timeouts.connect)
            .timeout(timeouts.total)
            .user_agent(concat!("Crier/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("the HTTP client's TLS backend could not be initialised");
        Transport { http, platform, clock }
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    /// An error found on our side (a malformed answer we cannot use, a missing argument).
    pub(crate) fn permanent(&self, status: Option<u16>, message: impl AsRef<str>) -> PlatformError {
        PlatformError::new(self.platform, ErrorClass::Permanent, status, None, message)
    }

    /// A 2xx whose body is not what the endpoint documents: the call may have had its effect, so
    /// it is not retried blindly.
    pub(crate) fn unreadable(&self, raw: &Raw, what: &str) -> PlatformError {
        self.permanent(Some(raw.status), format!("HTTP {} but the body is not {what}", raw.status))
    }

    /// Sends a request and reads the whole answer. No answer → `Temporary`, status `None`.
    pub(crate) async fn send(&self, request: reqwest::RequestBuilder) -> Result<Raw, PlatformError> {
        let response = request.send().await.map_err(|e| self.transport_error(e))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(|e| self.transport_error(e))?.to_vec();
        Ok(Raw { status, headers, body })
    }

    /// Sends, then hands a non-2xx answer to `classify`.
    pub(crate) async fn call(&self, request: reqwest::RequestBuilder, classify: Classify) -> Result<Raw, PlatformError> {
        let raw = self.send(request).await?;
        if raw.is_success() {
            return Ok(raw);
        }
        Err(classify(raw.status, &raw.headers, &raw.body, self.now()))
    }

    /// A [`Response`]: `read` decides what the answer means (it gets `now` for rate-limit waits),
    /// `budget` reads the rate-limit headers whatever the outcome.
    pub(crate) fn respond<T>(
        &self,
        raw: Result<Raw, PlatformError>,
        budget: fn(&HeaderMap, DateTime<Utc>) -> Option<RateBudget>,
        read: impl FnOnce(&Raw, DateTime<Utc>) -> Result<T, PlatformError>,
    ) -> Response<T> {
        let raw = match raw {
            Ok(raw) => raw,
            Err(error) => return Response::failed(error),
        };
        let now = self.now();
        Response { value: read(&raw, now), budget: budget(&raw.headers, now) }
    }

    fn transport_error(&self, error: reqwest::Error) -> PlatformError {
        let kind = if error.is_timeout() {
            "the request timed out"
        } else if error.is_connect() {
            "could not connect"
        } else if error.is_body() || error.is_decode() {
            "the answer broke off"
        } else {
            "the request failed"
        };
        // The URL may carry credentials (Meta's token endpoint takes them in the query): drop it,
        // and let `PlatformError::new` redact whatever else looks like a token.
        let error = error.without_url();
        let mut message = format!("{kind}: {error}");
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            message.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        PlatformError::new(self.platform, ErrorClass::Temporary, None, None, message)
    }

    /// The HTTP client the `oauth2` crate sends its requests with: ours (no redirects, our
    /// timeouts), keeping the last answer in `slot` so that errors are classified from the real
    /// status, headers and body rather than from what `oauth2` managed to parse.
    pub(crate) fn oauth2_client<'a>(&'a self, slot: &'a Mutex<Option<Raw>>) -> OAuthHttp<'a> {
        OAuthHttp { transport: self, slot }
    }

    /// What an `oauth2` token request came to: its parsed body, or the classified error.
    pub(crate) fn oauth2_outcome<T, E: oauth2::ErrorResponse>(
        &self,
        result: Result<T, oauth2::RequestTokenError<TransportError, E>>,
        slot: &Mutex<Option<Raw>>,
        classify: Classify,
    ) -> Result<T, PlatformError> {
        let error = match result {
            Ok(value) => return Ok(value),
            Err(oauth2::RequestTokenError::Request(TransportError(error))) => return Err(error),
            Err(error) => error,
        };
        match slot.lock().unwrap_or_else(|p| p.into_inner()).take() {
            // `oauth2` only accepts 200 with a JSON content type and the fields it knows.
            Some(raw) if raw.is_success() => Err(self.unreadable(&raw, "a token response")),
            Some(raw) => Err(classify(raw.status, &raw.headers, &raw.body, self.now())),
            None => Err(self.permanent(None, format!("the token request could not be built: {error}"))),
        }
    }
}

/// The `oauth2` crate's HTTP client: a named type rather than a closure, because a closure's
/// `AsyncHttpClient` impl is only for one lifetime, which makes every token future fail the
/// "`Send` for all lifetimes" check of callers that box it (Leptos server functions, `tokio::spawn`).
pub(crate) struct OAuthHttp<'a> {
    transport: &'a Transport,
    slot: &'a Mutex<Option<Raw>>,
}

impl<'c> oauth2::AsyncHttpClient<'c> for OAuthHttp<'_> {
    type Error = TransportError;
    type Future = OAuthFuture<'c>;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(async move {
            let transport = self.transport;
            let (parts, body) = request.into_parts();
            let builder = transport.http.request(parts.method, parts.uri.to_string()).headers(parts.headers).body(body);
            let raw = transport.send(builder).await.map_err(TransportError)?;
            let mut response = oauth2::http::Response::builder().status(raw.status);
            for (name, value) in &raw.headers {
                response = response.header(name, value);
            }
            let response =
                response.body(raw.body.clone()).map_err(|e| TransportError(transport.permanent(Some(raw.status), e.to_string())))?;
            *self.slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(raw);
            Ok(response)
        })
    }
}

/// A URL written in this crate or in `crier_protocol` (production endpoints).
pub(crate) fn builtin_url(url: &str) -> Url {
    Url::parse(url).expect("a built-in URL")
}

/// Characters left as they are in a path segment or query value: RFC 3986 unreserved.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Percent-encodes an id for a URL path (`urn:li:share:1` → `urn%3Ali%3Ashare%3A1`, as LinkedIn
/// requires; X and Meta ids pass unchanged).
pub(crate) fn encode_segment(segment: &str) -> String {
    utf8_percent_encode(segment, UNRESERVED).to_string()
}

/// `base` + `path`, whether or not `base` ends with a slash (`https://api.x.com` + `/2/tweets`,
/// `http://127.0.0.1:3000/sandbox/x` + `/2/tweets`). `path` must already be encoded.
pub(crate) fn endpoint(base: &Url, path: &str) -> Url {
    let joined = format!("{}/{}", base.as_str().trim_end_matches('/'), path.trim_start_matches('/'));
    // A valid base and an encoded path always make a valid URL.
    Url::parse(&joined).unwrap_or_else(|_| base.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_join_with_one_slash() {
        let cases = [
            ("https://api.x.com", "/2/tweets", "https://api.x.com/2/tweets"),
            ("https://api.x.com/", "2/tweets", "https://api.x.com/2/tweets"),
            ("http://127.0.0.1:3000/sandbox/x", "/2/users/me", "http://127.0.0.1:3000/sandbox/x/2/users/me"),
            ("http://127.0.0.1:3000/sandbox/x/", "/2/users/me", "http://127.0.0.1:3000/sandbox/x/2/users/me"),
        ];
        for (base, path, expected) in cases {
            assert_eq!(endpoint(&Url::parse(base).unwrap(), path).as_str(), expected);
        }
    }

    #[test]
    fn ids_are_encoded_for_paths() {
        assert_eq!(encode_segment("urn:li:share:6844785523593134080"), "urn%3Ali%3Ashare%3A6844785523593134080");
        assert_eq!(encode_segment("422575694827569_917077345377399"), "422575694827569_917077345377399");
        assert_eq!(encode_segment("a/b?c"), "a%2Fb%3Fc");
    }
}
