//! OAuth 1.0a HMAC-SHA1 request signing, for X user-context credentials (platforms.md §1.10,
//! RFC 5849 §3.4).
//!
//! Written here rather than taken from the `oauth1-request` crate: that crate builds the header
//! from a derive-annotated request type and does not expose the parameter string or signature base
//! string, which are exactly what the documented test vector pins (and what one needs to debug a
//! "could not authenticate you" answer).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use secrecy::{ExposeSecret, SecretString};
use sha1::Sha1;

/// RFC 3986 unreserved characters stay; every other byte of the UTF-8 becomes `%XX` (uppercase hex,
/// space as `%20`, never `+`) (§1.10 step 2).
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// The four OAuth 1.0a user-context credentials: the app's consumer key/secret and the user's
/// access token/secret.
#[derive(Clone)]
pub struct OAuth1Credentials {
    /// The app's API key (`oauth_consumer_key`); not secret, it is sent in every header.
    pub consumer_key: String,
    /// The app's API secret.
    pub consumer_secret: SecretString,
    /// The user's access token (`oauth_token`); empty while requesting a request token.
    pub token: String,
    /// The user's access token secret.
    pub token_secret: SecretString,
}

/// Shows the consumer key only: the token is a bearer credential together with its secret, and
/// neither secret may ever reach a log.
impl fmt::Debug for OAuth1Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuth1Credentials")
            .field("consumer_key", &self.consumer_key)
            .field("consumer_secret", &"[redacted]")
            .field("token", &"[redacted]")
            .field("token_secret", &"[redacted]")
            .finish()
    }
}

/// RFC 3986 percent-encoding as OAuth 1.0a requires it (§1.10 step 2).
pub fn percent_encode(s: &str) -> String {
    utf8_percent_encode(s, UNRESERVED).to_string()
}

/// The `oauth_*` protocol parameters for one request (without `oauth_signature`), in sorted order.
pub fn oauth_params<'a>(creds: &'a OAuth1Credentials, nonce: &'a str, timestamp: &'a str) -> Vec<(&'static str, &'a str)> {
    let mut params =
        vec![("oauth_consumer_key", creds.consumer_key.as_str()), ("oauth_nonce", nonce), ("oauth_signature_method", "HMAC-SHA1")];
    params.push(("oauth_timestamp", timestamp));
    if !creds.token.is_empty() {
        params.push(("oauth_token", creds.token.as_str()));
    }
    params.push(("oauth_version", "1.0"));
    params
}

/// Splits off the query and fragment and normalizes the rest (RFC 5849 §3.4.1.2): lowercase scheme
/// and host, no default port.
fn base_url(url: &str) -> String {
    let url = url.split('#').next().unwrap_or_default();
    let url = url.split('?').next().unwrap_or_default();
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let scheme = scheme.to_ascii_lowercase();
    let mut authority = authority.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => Some(":443"),
        "http" => Some(":80"),
        _ => None,
    };
    if let Some(port) = default_port
        && authority.ends_with(port)
    {
        authority.truncate(authority.len() - port.len());
    }
    format!("{scheme}://{authority}{path}")
}

/// The query's parameters, decoded (form-urlencoded rules: `+` is a space).
fn query_params(url: &str) -> Vec<(String, String)> {
    let url = url.split('#').next().unwrap_or_default();
    let Some((_, query)) = url.split_once('?') else {
        return Vec::new();
    };
    let decode = |s: &str| percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned();
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(pair), String::new()),
        })
        .collect()
}

/// The normalized parameter string (§1.10 steps 1–3): query + form + `oauth_*` parameters, each
/// percent-encoded, sorted by encoded key then value, joined as `k=v&k=v`. `form_params` are the
/// raw (decoded) values of an `application/x-www-form-urlencoded` body; a JSON body (as for
/// `POST /2/tweets`) is not signed, so pass none.
pub fn parameter_string(url_with_query: &str, form_params: &[(&str, &str)], oauth_params: &[(&str, &str)]) -> String {
    let mut encoded: Vec<(String, String)> = query_params(url_with_query)
        .iter()
        .map(|(k, v)| (percent_encode(k), percent_encode(v)))
        .chain(form_params.iter().chain(oauth_params).map(|(k, v)| (percent_encode(k), percent_encode(v))))
        .collect();
    encoded.sort();
    encoded.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

/// The signature base string (§1.10 step 4): `METHOD&pct(base URL)&pct(parameter string)`.
pub fn signature_base_string(method: &str, url_with_query: &str, parameter_string: &str) -> String {
    format!("{}&{}&{}", method.to_ascii_uppercase(), percent_encode(&base_url(url_with_query)), percent_encode(parameter_string))
}

/// The HMAC-SHA1 signature, base64 (§1.10 steps 5–6); the key is `pct(consumer secret)&pct(token
/// secret)`, ending in `&` when there is no token secret yet.
pub fn sign(base_string: &str, consumer_secret: &str, token_secret: &str) -> String {
    let key = format!("{}&{}", percent_encode(consumer_secret), percent_encode(token_secret));
    let mut mac = Hmac::<Sha1>::new_from_slice(key.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(base_string.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

/// The `Authorization` header value for one request (§1.10 step 7):
/// `OAuth oauth_consumer_key="…", oauth_nonce="…", oauth_signature="…", …`, parameters sorted,
/// values percent-encoded.
///
/// `nonce` must be unique per request (e.g. 32 random alphanumerics) and `timestamp` the current
/// Unix time in seconds; both are parameters so signing stays a pure, testable function.
pub fn authorization_header(
    method: &str,
    url_with_query: &str,
    form_params: &[(&str, &str)],
    creds: &OAuth1Credentials,
    nonce: &str,
    timestamp: u64,
) -> String {
    let timestamp = timestamp.to_string();
    let mut params = oauth_params(creds, nonce, &timestamp);
    let base = signature_base_string(method, url_with_query, &parameter_string(url_with_query, form_params, &params));
    let signature = sign(&base, creds.consumer_secret.expose_secret(), creds.token_secret.expose_secret());
    params.push(("oauth_signature", &signature));
    params.sort();
    let pairs: Vec<String> = params.iter().map(|(k, v)| format!("{}=\"{}\"", percent_encode(k), percent_encode(v))).collect();
    format!("OAuth {}", pairs.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONSUMER_KEY: &str = "xvz1evFS4wEEPTGEFPHBog";
    const CONSUMER_SECRET: &str = "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw";
    const TOKEN: &str = "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb";
    const TOKEN_SECRET: &str = "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE";
    const NONCE: &str = "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg";
    const TIMESTAMP: u64 = 1_318_622_958;
    const STATUS: &str = "Hello Ladies + Gentlemen, a signed OAuth request!";

    fn creds() -> OAuth1Credentials {
        OAuth1Credentials {
            consumer_key: CONSUMER_KEY.into(),
            consumer_secret: SecretString::from(CONSUMER_SECRET),
            token: TOKEN.into(),
            token_secret: SecretString::from(TOKEN_SECRET),
        }
    }

    /// §1.10: the official percent-encoding examples.
    #[test]
    fn percent_encoding_examples() {
        let table = [
            ("Ladies + Gentlemen", "Ladies%20%2B%20Gentlemen"),
            ("An encoded string!", "An%20encoded%20string%21"),
            ("Dogs, Cats & Mice", "Dogs%2C%20Cats%20%26%20Mice"),
            ("☃", "%E2%98%83"),
            ("AZaz09-._~", "AZaz09-._~"),
        ];
        for (raw, encoded) in table {
            assert_eq!(percent_encode(raw), encoded);
        }
    }

    /// §1.10: parameter string, base string and signature for both hosts.
    #[test]
    fn signature_test_vector() {
        let c = creds();
        let ts = TIMESTAMP.to_string();
        let oauth = oauth_params(&c, NONCE, &ts);
        for (url, signature) in [
            ("https://api.x.com/1.1/statuses/update.json?include_entities=true", "Ls93hJiZbQ3akF3HF3x1Bz8/zU4="),
            ("https://api.twitter.com/1.1/statuses/update.json?include_entities=true", "hCtSmYh+iHYCEqBWrE7C7hYmtUk="),
        ] {
            let params = parameter_string(url, &[("status", STATUS)], &oauth);
            assert_eq!(
                params,
                "include_entities=true&oauth_consumer_key=xvz1evFS4wEEPTGEFPHBog&oauth_nonce=kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg&oauth_signature_method=HMAC-SHA1&oauth_timestamp=1318622958&oauth_token=370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb&oauth_version=1.0&status=Hello%20Ladies%20%2B%20Gentlemen%2C%20a%20signed%20OAuth%20request%21"
            );
            let base = signature_base_string("post", url, &params);
            if url.contains("api.x.com") {
                assert_eq!(
                    base,
                    "POST&https%3A%2F%2Fapi.x.com%2F1.1%2Fstatuses%2Fupdate.json&include_entities%3Dtrue%26oauth_consumer_key%3Dxvz1evFS4wEEPTGEFPHBog%26oauth_nonce%3DkYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1318622958%26oauth_token%3D370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb%26oauth_version%3D1.0%26status%3DHello%2520Ladies%2520%252B%2520Gentlemen%252C%2520a%2520signed%2520OAuth%2520request%2521"
                );
            }
            assert_eq!(sign(&base, CONSUMER_SECRET, TOKEN_SECRET), signature, "{url}");
        }
    }

    /// §1.10: the header layout of the official "Authorizing a request" example, with the signature
    /// these inputs really produce (the page's `tnnArx…` is not reproducible; only its format is
    /// compared: `/` → `%2F`, `=` → `%3D`).
    #[test]
    fn authorization_header_format() {
        let header = authorization_header(
            "POST",
            "https://api.x.com/1.1/statuses/update.json?include_entities=true",
            &[("status", STATUS)],
            &creds(),
            NONCE,
            TIMESTAMP,
        );
        let official = r#"OAuth oauth_consumer_key="xvz1evFS4wEEPTGEFPHBog", oauth_nonce="kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg", oauth_signature="tnnArxj06cWHq44gCs1OSKk%2FjLY%3D", oauth_signature_method="HMAC-SHA1", oauth_timestamp="1318622958", oauth_token="370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb", oauth_version="1.0""#;
        assert_eq!(header, official.replace("tnnArxj06cWHq44gCs1OSKk%2FjLY%3D", "Ls93hJiZbQ3akF3HF3x1Bz8%2FzU4%3D"));
    }

    /// RFC 5849 §3.4.1.2: scheme and host are lowercased and default ports dropped; the fragment and
    /// query never reach the base URL; query values are decoded before re-encoding.
    #[test]
    fn url_normalization() {
        assert_eq!(base_url("HTTPS://API.X.com:443/2/tweets?a=b#frag"), "https://api.x.com/2/tweets");
        assert_eq!(base_url("http://example.com:8080"), "http://example.com:8080/");
        assert_eq!(
            query_params("https://h/p?a=b+c&d=%21&e"),
            vec![("a".into(), "b c".into()), ("d".into(), "!".into()), ("e".into(), String::new())]
        );
    }

    #[test]
    fn no_token_secret_key_ends_with_ampersand() {
        // HMAC with key "secret&" equals signing with an empty token secret.
        let mut mac = Hmac::<Sha1>::new_from_slice(b"secret&").unwrap();
        mac.update(b"base");
        assert_eq!(sign("base", "secret", ""), STANDARD.encode(mac.finalize().into_bytes()));
    }

    #[test]
    fn debug_redacts_secrets() {
        let shown = format!("{:?}", creds());
        assert!(shown.contains(CONSUMER_KEY));
        for secret in [CONSUMER_SECRET, TOKEN, TOKEN_SECRET] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }
}
