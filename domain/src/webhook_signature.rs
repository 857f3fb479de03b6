//! The signature on every webhook call, and its verification (for tests, and as the reference
//! receivers can compare their code with). `docs/webhooks.md` documents the same steps with a
//! worked example; [`tests::the_documented_test_vector`] asserts that example, so the two cannot
//! drift apart.
//!
//! ```text
//! Crier-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
//! ```
//!
//! The key is the endpoint's signing secret exactly as Settings showed it (`crier_whsec_…`, its
//! UTF-8 bytes). Signing the timestamp with the body lets a receiver refuse a replayed old call:
//! it rejects a timestamp more than [`TOLERANCE`] away from its own clock.

use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha256::Sha256;

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "Crier-Signature";
/// The header naming the event type (`delivery.published`, …, or `ping`).
pub const EVENT_HEADER: &str = "Crier-Event";
/// The header with the event's id (`evt_…`): the same on every retry of a call, so a receiver can
/// ignore one it has already handled.
pub const ID_HEADER: &str = "Crier-Webhook-Id";
/// How far a signature's timestamp may be from the receiver's clock (5 minutes).
pub const TOLERANCE: Duration = Duration::from_secs(300);

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &SecretString, timestamp: i64, body: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret.expose_secret().as_bytes()).expect("HMAC takes a key of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The `Crier-Signature` value for `body` sent at `timestamp` (unix seconds).
pub fn sign(secret: &SecretString, timestamp: i64, body: &[u8]) -> String {
    let digest = mac(secret, timestamp, body).finalize().into_bytes();
    let mut header = format!("t={timestamp},v1=");
    for byte in digest.iter() {
        header.push_str(&format!("{byte:02x}"));
    }
    header
}

/// Why a signature was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The header is not `t=<digits>,v1=<64 hex digits>`.
    #[error("the signature header is not t=<unix seconds>,v1=<hex>")]
    Malformed,
    /// The timestamp is further than the tolerance from now (a replay, or a wrong clock).
    #[error("the signature's timestamp is too far from now")]
    Expired,
    /// No `v1` matches the body with this secret (a tampered body, or another secret).
    #[error("the signature does not match the body")]
    Mismatch,
}

/// Checks a `Crier-Signature` header against the raw body, as a receiver does: the timestamp
/// must be within `tolerance` of `now` (unix seconds), and one `v1` must equal the HMAC (compared
/// in constant time).
pub fn verify(secret: &SecretString, header: &str, body: &[u8], now: i64, tolerance: Duration) -> Result<(), SignatureError> {
    let mut timestamp = None;
    let mut candidates = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = Some(value.parse::<i64>().map_err(|_| SignatureError::Malformed)?),
            Some(("v1", value)) => candidates.push(decode_hex(value).ok_or(SignatureError::Malformed)?),
            // Other schemes (a future v2) are skipped, as receivers should.
            Some(_) => {}
            None => return Err(SignatureError::Malformed),
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if candidates.is_empty() {
        return Err(SignatureError::Malformed);
    }
    if now.abs_diff(timestamp) > tolerance.as_secs() {
        return Err(SignatureError::Expired);
    }
    let expected = mac(secret, timestamp, body);
    if candidates.iter().any(|candidate| expected.clone().verify_slice(candidate).is_ok()) { Ok(()) } else { Err(SignatureError::Mismatch) }
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() != 64 {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example in `docs/webhooks.md`, "Verifying a call".
    const SECRET: &str = "crier_whsec_MfKQ9r3GYp4bT2x7sVq8Lk0nZcW1dE5hJ6uA9oRt3yI";
    const TIMESTAMP: i64 = 1_767_225_600;
    const BODY: &str = r#"{"created_at":"2026-01-01T00:00:00.000000Z","data":{"delivery_id":"6f1c2b7e-0d3a-4a59-9f6e-2c8b1d4e7a90","permalink":"https://x.com/acme/status/1874000000000000000","platform":"x"},"id":"evt_42","type":"delivery.published"}"#;
    const HEADER: &str = "t=1767225600,v1=a2c8c4ebddd3fb66fb8626a96afaaa60489a201d17fb7f5425a509a749058379";

    fn secret() -> SecretString {
        SecretString::from(SECRET)
    }

    #[test]
    fn the_documented_test_vector() {
        assert_eq!(sign(&secret(), TIMESTAMP, BODY.as_bytes()), HEADER);
        let doc = include_str!("../../docs/webhooks.md");
        for value in [SECRET, &TIMESTAMP.to_string(), BODY, HEADER] {
            assert!(doc.contains(value), "docs/webhooks.md shows {value}");
        }
        assert_eq!(verify(&secret(), HEADER, BODY.as_bytes(), TIMESTAMP + 10, TOLERANCE), Ok(()));
    }

    #[test]
    fn a_tampered_body_another_secret_or_an_old_timestamp_is_refused() {
        let tampered = BODY.replace("evt_42", "evt_43");
        assert_eq!(verify(&secret(), HEADER, tampered.as_bytes(), TIMESTAMP, TOLERANCE), Err(SignatureError::Mismatch));
        let other = SecretString::from("crier_whsec_another");
        assert_eq!(verify(&other, HEADER, BODY.as_bytes(), TIMESTAMP, TOLERANCE), Err(SignatureError::Mismatch));
        // Five minutes and one second later, the same call is a replay.
        assert_eq!(verify(&secret(), HEADER, BODY.as_bytes(), TIMESTAMP + 301, TOLERANCE), Err(SignatureError::Expired));
        assert_eq!(verify(&secret(), HEADER, BODY.as_bytes(), TIMESTAMP + 300, TOLERANCE), Ok(()));
        // A valid HMAC under a changed timestamp is not valid.
        let moved = HEADER.replace("t=1767225600", "t=1767225601");
        assert_eq!(verify(&secret(), &moved, BODY.as_bytes(), TIMESTAMP, TOLERANCE), Err(SignatureError::Mismatch));
    }

    #[test]
    fn malformed_headers_are_refused_and_unknown_schemes_skipped() {
        for bad in ["", "t=1767225600", "v1=00", "t=abc,v1=a2c8", "t=1767225600,v1=zz", "garbage"] {
            assert_eq!(verify(&secret(), bad, BODY.as_bytes(), TIMESTAMP, TOLERANCE), Err(SignatureError::Malformed), "{bad:?}");
        }
        let with_v2 = format!("{HEADER},v2=whatever");
        assert_eq!(verify(&secret(), &with_v2, BODY.as_bytes(), TIMESTAMP, TOLERANCE), Ok(()));
        let rotated = format!("t={TIMESTAMP},v1={},{}", "0".repeat(64), HEADER.split_once(",").unwrap().1);
        assert_eq!(verify(&secret(), &rotated, BODY.as_bytes(), TIMESTAMP, TOLERANCE), Ok(()), "any v1 may match");
    }
}
