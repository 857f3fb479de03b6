//! PKCE (RFC 7636): the S256 code challenge.
//!
//! The real authorization flow gets its verifier and challenge from the `oauth2` crate's
//! `PkceCodeChallenge`; this function is what the sandbox fakes use to check that a token request's
//! `code_verifier` matches the `code_challenge` the authorize request carried.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// `BASE64URL-ENCODE(SHA256(ASCII(code_verifier)))`, without padding (RFC 7636 §4.2).
pub fn s256_challenge(code_verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(code_verifier.as_bytes()))
}

/// Whether a verifier is well-formed (RFC 7636 §4.1): 43–128 characters from `A-Z a-z 0-9 - . _ ~`.
pub fn is_valid_verifier(code_verifier: &str) -> bool {
    (43..=128).contains(&code_verifier.len())
        && code_verifier.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// platforms.md §4.1: RFC 7636 Appendix B.
    #[test]
    fn rfc7636_appendix_b() {
        let octets: [u8; 32] = [
            116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37, 77, 105, 214, 191, 240, 91, 88, 5, 88,
            83, 132, 141, 121,
        ];
        let verifier = URL_SAFE_NO_PAD.encode(octets);
        assert_eq!(verifier, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        let digest: [u8; 32] = Sha256::digest(verifier.as_bytes()).into();
        assert_eq!(
            digest,
            [
                19, 211, 30, 150, 26, 26, 216, 236, 47, 22, 177, 12, 76, 152, 46, 8, 118, 168, 120, 173, 109, 241, 68, 86, 110, 225, 137,
                74, 203, 112, 249, 195
            ]
        );
        assert_eq!(s256_challenge(&verifier), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
        assert!(is_valid_verifier(&verifier));
        assert!(!is_valid_verifier("short"));
        assert!(!is_valid_verifier(&"a+".repeat(30)));
    }
}
