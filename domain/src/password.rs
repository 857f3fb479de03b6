//! Passwords: the length policy, and argon2id hashing done off the async runtime.

use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash as PhcHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use secrecy::{ExposeSecret, SecretString};

use crate::{DomainError, FieldError};

/// A new password that meets the policy. Its Debug output is redacted.
#[derive(Debug)]
pub struct Password(SecretString);

impl Password {
    /// Shortest accepted password, in characters.
    pub const MIN_CHARS: usize = 10;
    /// Longest accepted password, in characters (bounds the hashing work one request can cause).
    pub const MAX_CHARS: usize = 1024;

    /// Checks a password typed into the `password` form field.
    pub fn parse(input: SecretString) -> Result<Self, FieldError> {
        let chars = input.expose_secret().chars().count();
        if chars < Self::MIN_CHARS {
            return Err(FieldError::new("password", "Use at least 10 characters for the password."));
        }
        if chars > Self::MAX_CHARS {
            return Err(FieldError::new("password", "Use at most 1024 characters for the password."));
        }
        Ok(Self(input))
    }
}

/// An argon2id hash in PHC string form, as stored in `app_user.password_hash`.
#[derive(Clone, sqlx::Type)]
#[sqlx(transparent)]
pub struct PasswordHash(String);

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash([REDACTED])")
    }
}

impl PasswordHash {
    /// Wraps a PHC string read from the database.
    pub fn from_stored(phc: String) -> Self {
        Self(phc)
    }

    /// The PHC string, for storing.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// argon2id with the crate's defaults (m = 19 MiB, t = 2, p = 1: OWASP's recommendation).
fn hasher() -> Argon2<'static> {
    Argon2::default()
}

/// A hash of a random password, verified against when the email is unknown so that a login
/// attempt costs the same whether or not the account exists.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(b"crier-dummy-password-for-unknown-accounts", &salt)
        .expect("hashing a constant password cannot fail")
        .to_string()
});

/// argon2 hashes running at once, at most: one per core. Each takes 19 MiB and a core's worth of
/// time, so twenty sent at once would otherwise take the process to hundreds of megabytes; the
/// rest wait their turn (cheaply: a waiting request holds no memory of argon2's).
static HASHING: LazyLock<tokio::sync::Semaphore> =
    LazyLock::new(|| tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 4)));

async fn hashing_turn() -> Result<tokio::sync::SemaphorePermit<'static>, DomainError> {
    HASHING.acquire().await.map_err(|e| DomainError::Internal(format!("the hashing semaphore is closed: {e}")))
}

/// Hashes a new password on the blocking pool (argon2 is deliberately slow), one per core at once.
pub async fn hash_password(password: Password) -> Result<PasswordHash, DomainError> {
    let _turn = hashing_turn().await?;
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        hasher()
            .hash_password(password.0.expose_secret().as_bytes(), &salt)
            .map(|hash| PasswordHash(hash.to_string()))
            .map_err(|e| DomainError::Internal(format!("password hashing failed: {e}")))
    })
    .await
    .map_err(|e| DomainError::Internal(format!("password hashing task failed: {e}")))?
}

/// Checks a password typed at login against the stored hash, or against a dummy hash when there
/// is no account, doing the same work either way. Returns whether it matched.
pub async fn verify_password(candidate: SecretString, stored: Option<PasswordHash>) -> Result<bool, DomainError> {
    let _turn = hashing_turn().await?;
    tokio::task::spawn_blocking(move || {
        let has_account = stored.is_some();
        let phc = stored.map(|h| h.0).unwrap_or_else(|| DUMMY_HASH.clone());
        let parsed = PhcHash::new(&phc).map_err(|e| DomainError::Internal(format!("stored password hash is malformed: {e}")))?;
        // Over-long input is cut to the policy's maximum before hashing, so a login request
        // cannot make the server hash megabytes; such a password cannot match anyway.
        let candidate = candidate.expose_secret();
        let bounded: &str = match candidate.char_indices().nth(Password::MAX_CHARS) {
            Some((byte_index, _)) => &candidate[..byte_index],
            None => candidate,
        };
        let matches = hasher().verify_password(bounded.as_bytes(), &parsed).is_ok();
        Ok(matches && has_account)
    })
    .await
    .map_err(|e| DomainError::Internal(format!("password check task failed: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    #[test]
    fn length_policy() {
        assert_eq!(Password::parse(secret("short")).unwrap_err().field, "password");
        assert!(Password::parse(secret("exactly10!")).is_ok());
        assert!(Password::parse(secret(&"p".repeat(1024))).is_ok());
        assert!(Password::parse(secret(&"p".repeat(1025))).unwrap_err().message.contains("1024"));
        assert!(Password::parse(secret("ééééééééé")).is_err(), "9 characters, though 18 bytes");
    }

    #[test]
    fn debug_output_hides_secrets() {
        let password = Password::parse(secret("hunter2hunter2")).unwrap();
        assert!(!format!("{password:?}").contains("hunter2"));
        let hash = PasswordHash::from_stored("$argon2id$v=19$secret".into());
        assert!(!format!("{hash:?}").contains("argon2id"));
    }

    #[tokio::test]
    async fn hash_then_verify() {
        let hash = hash_password(Password::parse(secret("correct horse battery")).unwrap()).await.unwrap();
        assert!(hash.as_str().starts_with("$argon2id$"), "argon2id PHC string");
        assert!(verify_password(secret("correct horse battery"), Some(hash.clone())).await.unwrap());
        assert!(!verify_password(secret("correct horse batterY"), Some(hash)).await.unwrap());
    }

    #[tokio::test]
    async fn unknown_account_never_verifies() {
        assert!(!verify_password(secret("crier-dummy-password-for-unknown-accounts"), None).await.unwrap());
    }
}
