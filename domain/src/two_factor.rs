//! Two-factor sign-in: time-based one-time codes (TOTP, RFC 6238) and single-use recovery codes.
//!
//! Codes are what authenticator apps expect: HMAC-SHA-1, 30-second steps, 6 digits, one step of
//! clock skew either way. The secret is 160 random bits (RFC 4226's recommendation); it is sealed
//! by the vault at rest (`store::two_factor`) and crosses this module only inside [`TotpSecret`],
//! whose `Debug` never shows it. Which step a code matched is returned so the store can refuse a
//! code whose step was already used (RFC 6238 §5.2: accept a code once).

use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use totp_rs::{Algorithm, Builder, Secret, Totp};

/// Seconds per step.
pub const STEP_SECS: u64 = 30;
/// Digits per code.
pub const DIGITS: u8 = 6;
/// Recovery codes made at a time.
pub const RECOVERY_CODES: usize = 10;
/// The name authenticator apps show above the account.
pub const ISSUER: &str = "Crier";

/// Random bytes in a secret: 160 bits, the length RFC 4226 recommends.
const SECRET_BYTES: usize = 20;
/// Random bytes in a recovery code: 80 bits, 16 base32 characters.
const RECOVERY_BYTES: usize = 10;

/// A TOTP shared secret. `Debug` is redacted; the bytes leave only sealed (by the vault) or as the
/// base32 text and QR code the person copies into their app during setup.
pub struct TotpSecret(Totp);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret([REDACTED])")
    }
}

fn build(bytes: Vec<u8>, digits: u8, account: &str) -> Totp {
    let builder = Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(digits)
        .with_skew(1)
        .with_step_duration(STEP_SECS)
        .with_secret(Secret::new(bytes.into_boxed_slice()))
        .with_issuer(Some(ISSUER));
    // A colon would split the otpauth label; emails have none, but a stored value is not trusted.
    let builder = builder.with_account_name(account.replace(':', ""));
    // Only our own parameters reach here (SHA-1, 6 or 8 digits, 160 bits), which RFC 6238 allows;
    // the unchecked build also accepts the RFC's 8-digit test vectors with their 20-byte key.
    builder.build_noncompliant()
}

impl TotpSecret {
    /// A fresh secret from the operating system's random source, for `account` (the email the
    /// app lists it under).
    pub fn generate(account: &str) -> Self {
        let mut bytes = vec![0u8; SECRET_BYTES];
        getrandom::fill(&mut bytes).expect("the operating system's random source is available");
        Self(build(bytes, DIGITS, account))
    }

    /// A stored secret (the base32 text sealed in the database), for `account`.
    pub fn from_base32(base32: &SecretString, account: &str) -> Option<Self> {
        let secret = Secret::try_from_base32(base32.expose_secret().trim()).ok()?;
        Some(Self(build(secret.as_bytes().to_vec(), DIGITS, account)))
    }

    /// The secret in base32 (RFC 4648, no padding), for sealing and for typing into an app.
    pub fn base32(&self) -> SecretString {
        SecretString::from(self.0.secret().to_base32())
    }

    /// The base32 text in groups of four, as a person types it ("ABCD EFGH …").
    pub fn base32_grouped(&self) -> SecretString {
        let plain = self.0.secret().to_base32();
        let grouped: Vec<String> = plain.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
        SecretString::from(grouped.join(" "))
    }

    /// The `otpauth://totp/…` URL an authenticator app scans from the QR code.
    pub fn otpauth_url(&self) -> SecretString {
        SecretString::from(self.0.to_url().unwrap_or_default())
    }

    /// The code for the step holding `unix_secs` (tests, and nothing else: people read it from
    /// their app).
    pub fn code_at(&self, unix_secs: u64) -> String {
        self.0.generate(unix_secs).to_string()
    }

    /// The step `code` belongs to, if it is the code of the step holding `unix_secs` or of the
    /// step before or after it (clock skew). Spaces in the input are ignored. The caller must
    /// refuse a step it has already accepted.
    pub fn matching_step(&self, code: &str, unix_secs: u64) -> Option<u64> {
        let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if digits.len() != usize::from(DIGITS) || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        self.0.check(&digits, unix_secs)
    }
}

/// Whether the input looks like a code from an authenticator app (six digits, spaces allowed)
/// rather than a recovery code or a password.
pub fn looks_like_totp_code(input: &str) -> bool {
    let digits: Vec<char> = input.chars().filter(|c| !c.is_whitespace()).collect();
    digits.len() == usize::from(DIGITS) && digits.iter().all(char::is_ascii_digit)
}

/// The current Unix time in seconds.
pub fn now_unix() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// A fresh set of recovery codes, shown once: `xxxx-xxxx-xxxx-xxxx`, 80 random bits each.
///
/// Stored as SHA-256 ([`recovery_code_hash`]) rather than argon2: with 80 bits of entropy an
/// offline search through 2^80 SHA-256 hashes is out of reach, so a slow hash would add nothing
/// but cost (argon2 against each of ten unused codes on every try), while a fast one lets the
/// store find a presented code by its hash in one indexed query.
pub fn generate_recovery_codes() -> Vec<SecretString> {
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut bytes = [0u8; RECOVERY_BYTES];
            getrandom::fill(&mut bytes).expect("the operating system's random source is available");
            let plain = Secret::from(bytes.to_vec()).to_base32().to_lowercase();
            let groups: Vec<&str> = (0..plain.len()).step_by(4).map(|i| &plain[i..(i + 4).min(plain.len())]).collect();
            SecretString::from(groups.join("-"))
        })
        .collect()
}

/// A recovery code as typed, made comparable: case, spaces and dashes do not matter.
pub fn normalise_recovery_code(input: &str) -> String {
    input.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect()
}

/// What the database stores of a recovery code (see [`generate_recovery_codes`] for why SHA-256).
pub fn recovery_code_hash(input: &str) -> Vec<u8> {
    Sha256::digest(normalise_recovery_code(input).as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, SHA-1: the ASCII key "12345678901234567890", 8-digit codes.
    const RFC_VECTORS: [(u64, &str); 6] = [
        (59, "94287082"),
        (1_111_111_109, "07081804"),
        (1_111_111_111, "14050471"),
        (1_234_567_890, "89005924"),
        (2_000_000_000, "69279037"),
        (20_000_000_000, "65353130"),
    ];

    fn rfc_secret(digits: u8) -> Totp {
        build(b"12345678901234567890".to_vec(), digits, "rfc@example.com")
    }

    #[test]
    fn codes_match_the_rfc_6238_test_vectors() {
        let eight = rfc_secret(8);
        let six = TotpSecret(rfc_secret(DIGITS));
        for (time, expected) in RFC_VECTORS {
            assert_eq!(eight.generate(time).to_string(), expected, "8 digits at T={time}");
            // A 6-digit code is the same truncation modulo 10^6: the vector's last six digits.
            assert_eq!(six.code_at(time), expected[2..], "6 digits at T={time}");
            assert_eq!(six.matching_step(&expected[2..], time), Some(time / STEP_SECS));
        }
    }

    #[test]
    fn a_code_is_accepted_one_step_either_side_and_no_further() {
        let secret = TotpSecret(rfc_secret(DIGITS));
        let t = 1_234_567_890;
        let code = secret.code_at(t);
        assert_eq!(secret.matching_step(&code, t - 30), Some(t / 30));
        assert_eq!(secret.matching_step(&code, t + 30), Some(t / 30));
        assert_eq!(secret.matching_step(&code, t + 90), None);
        assert_eq!(secret.matching_step(&format!("{} {}", &code[..3], &code[3..]), t), Some(t / 30), "spaces are ignored");
        assert_eq!(secret.matching_step("12345", t), None);
        assert_eq!(secret.matching_step("abcdef", t), None);
    }

    #[test]
    fn a_secret_survives_its_base32_form_and_never_shows_in_debug() {
        let secret = TotpSecret::generate("ada@example.com");
        let text = secret.base32();
        assert_eq!(text.expose_secret().len(), 32, "160 bits in base32");
        let again = TotpSecret::from_base32(&text, "ada@example.com").unwrap();
        assert_eq!(secret.code_at(1_000_000), again.code_at(1_000_000));
        assert!(!format!("{secret:?}").contains(text.expose_secret()));
        assert_eq!(secret.base32_grouped().expose_secret().replace(' ', ""), *text.expose_secret());
        let url = secret.otpauth_url();
        assert!(url.expose_secret().starts_with("otpauth://totp/Crier:ada%40example.com?"), "{}", url.expose_secret());
        assert!(url.expose_secret().contains("issuer=Crier"));
        assert!(TotpSecret::from_base32(&SecretString::from("not base32!"), "x").is_none());
    }

    #[test]
    fn recovery_codes_are_distinct_long_and_compared_loosely() {
        let codes = generate_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let plain: std::collections::HashSet<String> = codes.iter().map(|c| c.expose_secret().to_owned()).collect();
        assert_eq!(plain.len(), RECOVERY_CODES, "no duplicates");
        let first = codes[0].expose_secret();
        assert_eq!(first.len(), 19, "xxxx-xxxx-xxxx-xxxx: {first}");
        assert_eq!(recovery_code_hash(first), recovery_code_hash(&format!("  {} ", first.to_uppercase().replace('-', " "))));
        assert_ne!(recovery_code_hash(first), recovery_code_hash(codes[1].expose_secret()));
        assert!(!looks_like_totp_code(first));
        assert!(looks_like_totp_code("123 456") && !looks_like_totp_code("1234567"));
    }
}
