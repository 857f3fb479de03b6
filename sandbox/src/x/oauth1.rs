//! OAuth 1.0a user-context credentials on the X API (§1.1, §1.10): registering them (control API)
//! and recognising a request signed with them. The signature is recomputed with the fake's own code
//! rather than `crier_protocol::oauth1`, so a signing bug in the client cannot pass because the
//! fake shares it.

use axum::http::Method;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

use super::front_door::Auth;
use super::state::{OAuth1Grant, XState};

/// What an OAuth 1.0a user-context token may do: X grants it the app's permission level; the fake
/// treats every registered app as "Read and write".
const OAUTH1_SCOPES: &[&str] = &["tweet.read", "tweet.write", "users.read", "media.write"];

/// How far `oauth_timestamp` may be from the fake's clock. X refuses stale timestamps (v1.1 code
/// 135, "Timestamp out of bounds", §1.4) without documenting the window; 5 minutes here.
const OAUTH1_TIMESTAMP_WINDOW: i64 = 300;

impl XState {
    /// Control API: OAuth 1.0a user-context credentials for `username` (created if new), as the
    /// developer portal hands them out. Replaces earlier credentials with the same access token.
    /// Returns the user's id. Like every token, forgotten by a reset.
    pub(crate) fn register_oauth1(
        &mut self,
        consumer_key: &str,
        consumer_secret: &str,
        access_token: &str,
        token_secret: &str,
        username: &str,
    ) -> String {
        let user = self.user_by_username(username);
        let grant = OAuth1Grant {
            consumer_key: consumer_key.to_owned(),
            consumer_secret: consumer_secret.to_owned(),
            token_secret: token_secret.to_owned(),
            user_id: user.id.clone(),
        };
        self.oauth1.insert(access_token.to_owned(), grant);
        user.id
    }

    /// RFC 5849 §3.2 as X applies it: HMAC-SHA1 only, a known token with its own consumer key, a
    /// timestamp near the fake's clock, a nonce not seen before, and a signature recomputed here
    /// from the method, the URL and its query (a JSON body is not signed, §1.10).
    pub(super) fn oauth1_caller(&mut self, method: &Method, url: &url::Url, credentials: &str, now: DateTime<Utc>) -> Option<Auth> {
        let params = oauth1_header_params(credentials)?;
        let get = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        if get("oauth_signature_method")? != "HMAC-SHA1" || get("oauth_version").is_some_and(|v| v != "1.0") {
            return None;
        }
        let token = get("oauth_token")?;
        let grant = self.oauth1.get(token)?;
        let nonce = get("oauth_nonce").filter(|n| !n.is_empty())?;
        let timestamp: i64 = get("oauth_timestamp")?.parse().ok()?;
        if get("oauth_consumer_key")? != grant.consumer_key || (now.timestamp() - timestamp).abs() > OAUTH1_TIMESTAMP_WINDOW {
            return None;
        }
        let signed: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .chain(params.iter().filter(|(k, _)| k != "oauth_signature" && k != "realm").cloned())
            .collect();
        let expected = oauth1_signature(method.as_str(), url, &signed, &grant.consumer_secret, &grant.token_secret);
        if !same_bytes(expected.as_bytes(), get("oauth_signature")?.as_bytes()) {
            return None;
        }
        if !self.nonces.insert((token.to_owned(), nonce.to_owned(), timestamp)) {
            return None;
        }
        Some(Auth {
            user_id: grant.user_id.clone(),
            client_id: grant.consumer_key.clone(),
            scope: OAUTH1_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
        })
    }
}

/// The `Authorization: OAuth k="v", …` parameters, percent-decoded; `None` when malformed.
fn oauth1_header_params(credentials: &str) -> Option<Vec<(String, String)>> {
    let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8().ok().map(|d| d.into_owned());
    credentials
        .split(',')
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=')?;
            let value = value.trim().strip_prefix('"')?.strip_suffix('"')?;
            Some((decode(key.trim())?, decode(value)?))
        })
        .collect()
}

/// RFC 3986 percent-encoding as OAuth 1.0a signs with it: unreserved bytes stay, every other byte
/// becomes `%XX` in uppercase hex (§1.10 step 2).
fn oauth1_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The HMAC-SHA1 signature of a request (§1.10 steps 1–6): `params` are the decoded query, form and
/// `oauth_*` parameters (without `oauth_signature`); the base URL is the scheme and host in lower
/// case, without a default port, with the path and without the query.
fn oauth1_signature(method: &str, url: &url::Url, params: &[(String, String)], consumer_secret: &str, token_secret: &str) -> String {
    let mut encoded: Vec<(String, String)> = params.iter().map(|(k, v)| (oauth1_encode(k), oauth1_encode(v))).collect();
    encoded.sort();
    let parameter_string = encoded.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    let base_url = format!("{}://{}{port}{}", url.scheme(), url.host_str().unwrap_or_default().to_ascii_lowercase(), url.path());
    let base_string = format!("{}&{}&{}", method.to_ascii_uppercase(), oauth1_encode(&base_url), oauth1_encode(&parameter_string));
    let key = format!("{}&{}", oauth1_encode(consumer_secret), oauth1_encode(token_secret));
    let mut mac = Hmac::<Sha1>::new_from_slice(key.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(base_string.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

/// Compares two signatures without stopping at the first difference.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// platforms.md §1.10: the fake's own signing reproduces the documented X test vector.
    #[test]
    fn oauth1_signature_matches_the_documented_vector() {
        let params: Vec<(String, String)> = [
            ("status", "Hello Ladies + Gentlemen, a signed OAuth request!"),
            ("oauth_consumer_key", "xvz1evFS4wEEPTGEFPHBog"),
            ("oauth_nonce", "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "1318622958"),
            ("oauth_token", "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb"),
            ("oauth_version", "1.0"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        for (url, expected) in [
            ("https://api.x.com/1.1/statuses/update.json", "Ls93hJiZbQ3akF3HF3x1Bz8/zU4="),
            ("https://API.twitter.com:443/1.1/statuses/update.json", "hCtSmYh+iHYCEqBWrE7C7hYmtUk="),
        ] {
            let url = url::Url::parse(url).unwrap();
            let mut all = params.clone();
            all.push(("include_entities".to_owned(), "true".to_owned()));
            let signature = oauth1_signature(
                "post",
                &url,
                &all,
                "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
                "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE",
            );
            assert_eq!(signature, expected, "{url}");
        }
    }

    #[test]
    fn oauth1_header_is_parsed_and_decoded() {
        let params =
            oauth1_header_params(r#"oauth_consumer_key="key", oauth_signature="tnnArxj06cWHq44gCs1OSKk%2FjLY%3D",oauth_version="1.0""#)
                .unwrap();
        assert_eq!(
            params,
            vec![
                ("oauth_consumer_key".to_owned(), "key".to_owned()),
                ("oauth_signature".to_owned(), "tnnArxj06cWHq44gCs1OSKk/jLY=".to_owned()),
                ("oauth_version".to_owned(), "1.0".to_owned()),
            ]
        );
        assert_eq!(oauth1_header_params(r#"oauth_token=unquoted"#), None);
        assert!(same_bytes(b"abc", b"abc"));
        assert!(!same_bytes(b"abc", b"abd"));
        assert!(!same_bytes(b"abc", b"ab"));
    }
}
