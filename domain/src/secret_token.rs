//! Random bearer secrets: invite links and team API tokens.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

/// 256 random bits from the operating system, base64url-encoded behind a readable prefix
/// (`crier_inv_…`, `crier_api_…`) so a leaked token is recognisable in logs and secret scanners.
/// Only [`SecretToken::hash`] is stored.
#[derive(Debug)]
pub struct SecretToken(SecretString);

impl SecretToken {
    /// A fresh token with the given prefix.
    pub fn generate(prefix: &str) -> Self {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).expect("the operating system's random source is available");
        Self(SecretString::from(format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))))
    }

    /// The token, to show the person once.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// What the database stores and looks tokens up by.
    pub fn hash(&self) -> Vec<u8> {
        hash_token(self.expose())
    }
}

/// SHA-256 of a presented token. A fast hash is right here: the token has 256 bits of entropy, so
/// there is nothing to brute-force (unlike a password).
pub fn hash_token(presented: &str) -> Vec<u8> {
    Sha256::digest(presented.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_prefixed_and_hashed() {
        let a = SecretToken::generate("crier_api_");
        let b = SecretToken::generate("crier_api_");
        assert_ne!(a.expose(), b.expose());
        assert!(a.expose().starts_with("crier_api_"));
        assert_eq!(a.expose().len(), "crier_api_".len() + 43);
        assert_eq!(a.hash(), hash_token(a.expose()));
        assert_ne!(a.hash(), b.hash());
        assert!(!format!("{a:?}").contains(&a.expose()[10..]), "Debug is redacted");
    }
}
