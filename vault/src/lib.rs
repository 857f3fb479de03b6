//! Crier's token vault: platform access tokens, refresh tokens and OAuth 1.0a secrets are encrypted
//! at rest with XChaCha20-Poly1305.
//!
//! A sealed value is self-describing, so keys can rotate without a flag day:
//!
//! ```text
//! [version = 1][key id][24-byte nonce][ciphertext][16-byte tag]
//! ```
//!
//! The caller passes associated data that names the value's row and column (for example
//! `b"platform_account:<uuid>:access_token"`). It is authenticated but not stored, so a ciphertext
//! copied into another row or column — by a bug or by someone with write access to the database —
//! fails to open instead of quietly handing one account's token to another.
//!
//! ```
//! use crier_vault::{Vault, VaultKey};
//! use secrecy::{ExposeSecret, SecretString};
//!
//! let vault = Vault::new(VaultKey::generate(1));
//! let aad = b"platform_account:0b4f5c2e-9a51-4c1e-8f0e-2d7b6a1c3e90:access_token";
//! let sealed = vault.seal(&SecretString::from("token"), aad);
//! assert_eq!(vault.open(&sealed, aad).unwrap().expose_secret(), "token");
//! ```
//!
//! The crate is deliberately pure: no database, no async, no configuration loading. Plaintext only
//! crosses its boundary as [`SecretString`], and neither errors nor `Debug` output ever contain key
//! bytes or plaintext.

use std::fmt;

use base64::Engine as _;
use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chacha20poly1305::{Key, Tag, XChaCha20Poly1305, XNonce};
use secrecy::zeroize::{Zeroize, Zeroizing};
use secrecy::{ExposeSecret, SecretBox, SecretString};

/// The format version written as the first byte of every sealed value. A new layout or algorithm
/// gets a new number, so old rows stay readable while they are migrated.
const VERSION: u8 = 1;
/// Version byte and key id byte.
const HEADER_LEN: usize = 2;
/// `XChaCha20`'s extended nonce.
const NONCE_LEN: usize = 24;
/// Poly1305 tag.
const TAG_LEN: usize = 16;
/// The shortest well-formed sealed value: an empty plaintext.
const MIN_SEALED_LEN: usize = HEADER_LEN + NONCE_LEN + TAG_LEN;
/// Key length of XChaCha20-Poly1305.
const KEY_LEN: usize = 32;

/// A 32-byte XChaCha20-Poly1305 key together with its id (1..=255).
///
/// The id is written into every value sealed with the key, so a process that knows several keys
/// can tell which one to open a value with, and a rotation job can tell which values are still
/// under an old key. Id 0 is reserved (it never appears in a sealed value), which makes an
/// all-zero header detectably malformed.
///
/// The bytes live in a [`SecretBox`], which zeroizes them on drop. `Debug` prints only the id:
/// `VaultKey { id: 3, .. }`.
pub struct VaultKey {
    id: u8,
    key: SecretBox<[u8; KEY_LEN]>,
}

impl VaultKey {
    /// Wraps raw key bytes.
    ///
    /// The argument is copied straight into its zeroizing heap box and the by-value copy is wiped;
    /// any copy the caller still holds is the caller's to wipe.
    ///
    /// # Errors
    /// [`VaultError::ReservedKeyId`] if `id` is 0.
    pub fn new(id: u8, mut bytes: [u8; KEY_LEN]) -> Result<Self, VaultError> {
        check_id(id)?;
        let key = SecretBox::init_with_mut(|k: &mut [u8; KEY_LEN]| k.copy_from_slice(&bytes));
        bytes.zeroize();
        Ok(Self { id, key })
    }

    /// Decodes a key from standard (padded) base64, the form keys take in environment variables
    /// and config files. Surrounding whitespace (a trailing newline from a key file) is ignored.
    ///
    /// # Errors
    /// [`VaultError::ReservedKeyId`] if `id` is 0; [`VaultError::MalformedKey`] if the text is not
    /// standard base64 or does not decode to exactly 32 bytes. The error says which, but never
    /// includes the input (not even the offending character): it is key material.
    pub fn from_base64(id: u8, encoded: &str) -> Result<Self, VaultError> {
        check_id(id)?;
        // The decoded bytes are key material even when the length is wrong: wipe them either way.
        let decoded = Zeroizing::new(
            base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                // base64's own error names the offending byte and offset; drop it on purpose.
                .map_err(|_| VaultError::MalformedKey { id, problem: KeyProblem::NotBase64 })?,
        );
        if decoded.len() != KEY_LEN {
            return Err(VaultError::MalformedKey { id, problem: KeyProblem::WrongLength { len: decoded.len() } });
        }
        let key = SecretBox::init_with_mut(|k: &mut [u8; KEY_LEN]| k.copy_from_slice(&decoded));
        Ok(Self { id, key })
    }

    /// Generates a fresh key from the operating system's random number generator.
    ///
    /// # Panics
    /// If `id` is 0 (a programming error: ids are chosen by the caller, not by data), or if the
    /// operating system cannot supply randomness — a key that is not random must never be used.
    #[must_use]
    pub fn generate(id: u8) -> Self {
        assert!(id != 0, "vault key id 0 is reserved");
        // Filled in place inside the zeroizing box, so the key never exists on the stack.
        let key = SecretBox::init_with_mut(|k: &mut [u8; KEY_LEN]| {
            getrandom::fill(k).expect("the operating system's random number generator failed");
        });
        Self { id, key }
    }

    /// The key's id, as written into the values it seals.
    #[must_use]
    pub fn id(&self) -> u8 {
        self.id
    }

    /// A cipher instance for this key. Its copy of the key is wiped when it is dropped (the
    /// `zeroize` feature of `chacha20poly1305`).
    fn cipher(&self) -> XChaCha20Poly1305 {
        let key: &Key = self.key.expose_secret().into();
        XChaCha20Poly1305::new(key)
    }
}

impl fmt::Debug for VaultKey {
    /// Only the id: the key bytes must never reach a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VaultKey").field("id", &self.id).finish_non_exhaustive()
    }
}

fn check_id(id: u8) -> Result<(), VaultError> {
    if id == 0 { Err(VaultError::ReservedKeyId) } else { Ok(()) }
}

/// The keys a process knows: one current key, which seals every new value, and older keys, which
/// are kept only to open values sealed before a rotation until those are re-sealed.
///
/// Rotation: add a new key as current and the old one with [`Vault::with_previous`]; re-seal the
/// rows for which [`Vault::needs_reseal`] is true with [`Vault::reseal`]; then drop the old key.
/// `Debug` shows key ids only.
#[derive(Debug)]
pub struct Vault {
    current: VaultKey,
    previous: Vec<VaultKey>,
}

impl Vault {
    /// A vault that seals and opens with `current` only.
    #[must_use]
    pub fn new(current: VaultKey) -> Self {
        Self { current, previous: Vec::new() }
    }

    /// Adds an older key that can still open values but never seals new ones.
    ///
    /// Passing a key the vault already has (same id, same bytes) is harmless and ignored, so a
    /// configuration that lists the current key among the previous ones during a rotation still
    /// works.
    ///
    /// # Panics
    /// If a *different* key with the same id is already known. The id in a sealed value could then
    /// name either key, and values sealed under one would fail to open under the other; that is a
    /// configuration error to stop on at startup, not to discover row by row later.
    #[must_use = "with_previous returns the vault with the key added"]
    pub fn with_previous(mut self, key: VaultKey) -> Self {
        if let Some(known) = self.key(key.id) {
            // Not constant-time, and needn't be: this runs once at configuration time and compares
            // two keys the process already holds; it is never fed attacker-chosen input.
            assert!(known.key.expose_secret() == key.key.expose_secret(), "two different vault keys have the same id {}", key.id);
            return self;
        }
        self.previous.push(key);
        self
    }

    /// Encrypts `plaintext` under the current key.
    ///
    /// Sealed format: `[version byte = 1][key id][24-byte nonce][ciphertext + 16-byte tag]`.
    /// `aad` binds the secret to its row and column, e.g. `b"platform_account:<uuid>:access_token"`:
    /// a ciphertext copied to another row or column fails to open. The version and key id bytes
    /// are authenticated as well.
    ///
    /// # Panics
    /// If the operating system cannot supply randomness for the nonce (never silently reuse or
    /// guess one), or if the plaintext is larger than `XChaCha20` can encrypt (256 GiB).
    #[must_use]
    pub fn seal(&self, plaintext: &SecretString, aad: &[u8]) -> Vec<u8> {
        let plaintext = plaintext.expose_secret().as_bytes();
        let key = &self.current;

        // A fresh random nonce for every seal. With XChaCha20's 24-byte (192-bit) nonce, random
        // nonces are safe: the chance of two seals under one key ever colliding is negligible even
        // after billions of values, so no nonce counter has to be stored or coordinated between
        // processes. (ChaCha20-Poly1305's 12-byte nonce would not give that margin.)
        let mut nonce = XNonce::default();
        getrandom::fill(&mut nonce).expect("the operating system's random number generator failed");

        // Built at its final size up front and encrypted in place, so the buffer never
        // reallocates and leaves a copy of the plaintext behind in freed memory.
        let mut sealed = Vec::with_capacity(MIN_SEALED_LEN + plaintext.len());
        sealed.extend_from_slice(&[VERSION, key.id]);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(plaintext);
        let body_start = HEADER_LEN + NONCE_LEN;
        let tag = key
            .cipher()
            .encrypt_inout_detached(&nonce, &associated_data(VERSION, key.id, aad), (&mut sealed[body_start..]).into())
            .expect("plaintext too long for XChaCha20-Poly1305");
        sealed.extend_from_slice(&tag);
        sealed
    }

    /// Decrypts a value made by [`Vault::seal`] with any key this vault knows, checking it was
    /// sealed for the same `aad`.
    ///
    /// Fails closed: if authentication fails nothing of the plaintext is returned (the tag is
    /// verified before anything is decrypted).
    ///
    /// # Errors
    /// - [`VaultError::Malformed`] if the value is too short, has an unknown version or the
    ///   reserved key id 0;
    /// - [`VaultError::UnknownKey`] if it names a key id this vault does not know (a key was
    ///   dropped before all its values were re-sealed, or the id byte was corrupted);
    /// - [`VaultError::Tampered`] if authentication fails: wrong key bytes for that id, other
    ///   `aad` (another row or column), or any modified byte.
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<SecretString, VaultError> {
        let parts = Parts::parse(sealed)?;
        let key = self.key(parts.key_id).ok_or(VaultError::UnknownKey { id: parts.key_id })?;

        // Exactly sized, so turning it into the secret's `Box<str>` does not reallocate and leave
        // an unwiped copy of the plaintext behind.
        let mut buffer = Vec::with_capacity(parts.ciphertext.len());
        buffer.extend_from_slice(parts.ciphertext);
        let nonce = XNonce::try_from(parts.nonce).map_err(|_| VaultError::Malformed)?;
        let tag = Tag::try_from(parts.tag).map_err(|_| VaultError::Malformed)?;
        let aad = associated_data(VERSION, parts.key_id, aad);
        if key.cipher().decrypt_inout_detached(&nonce, &aad, (&mut buffer[..]).into(), &tag).is_err() {
            buffer.zeroize();
            return Err(VaultError::Tampered);
        }

        match String::from_utf8(buffer) {
            Ok(text) => Ok(SecretString::from(text)),
            Err(err) => {
                // Authentic but not UTF-8: `seal` only takes strings, so this was not made by
                // Crier. Wipe whatever it is.
                err.into_bytes().zeroize();
                Err(VaultError::Malformed)
            }
        }
    }

    /// Whether `sealed` was made with a key other than the current one, so a rotation has to
    /// re-seal it.
    ///
    /// This reads the header only; it does not authenticate. A value that is not well-formed at
    /// all also answers `true`, so a rotation sweep hands it to [`Vault::reseal`], which reports
    /// the error, instead of silently skipping it.
    #[must_use]
    pub fn needs_reseal(&self, sealed: &[u8]) -> bool {
        Parts::parse(sealed).map_or(true, |parts| parts.key_id != self.current.id)
    }

    /// Opens `sealed` with whichever known key sealed it and seals the plaintext again under the
    /// current key (with a fresh nonce and the same `aad`).
    ///
    /// # Errors
    /// As [`Vault::open`]; nothing is re-sealed unless the value opens.
    pub fn reseal(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, VaultError> {
        let plaintext = self.open(sealed, aad)?;
        Ok(self.seal(&plaintext, aad))
    }

    /// The known key with this id, current first.
    /// A key for another purpose (signing media links), derived from the current key with
    /// HMAC-SHA-256 over the purpose's name, so it needs no configuration of its own and nothing
    /// it signs can be confused with what another purpose signs. It changes when the current key
    /// is rotated: whatever it signed (short-lived links) stops verifying then.
    #[must_use]
    pub fn derive_key(&self, purpose: &str) -> SecretBox<[u8; KEY_LEN]> {
        derived(&self.current, purpose)
    }

    /// The key for `purpose` derived from every key this vault knows, the current key's first:
    /// for what must keep verifying across a rotation (links in emails already sent), sign with
    /// the first and accept any.
    #[must_use]
    pub fn derive_keys(&self, purpose: &str) -> Vec<SecretBox<[u8; KEY_LEN]>> {
        std::iter::once(&self.current).chain(&self.previous).map(|key| derived(key, purpose)).collect()
    }

    fn key(&self, id: u8) -> Option<&VaultKey> {
        std::iter::once(&self.current).chain(&self.previous).find(|key| key.id == id)
    }
}

/// `purpose`'s key derived from `key`: HMAC-SHA-256 over the purpose's name.
fn derived(key: &VaultKey, purpose: &str) -> SecretBox<[u8; KEY_LEN]> {
    use hmac::{KeyInit, Mac};
    let mut mac = <hmac::Hmac<sha256::Sha256> as KeyInit>::new_from_slice(key.key.expose_secret()).expect("HMAC takes keys of any length");
    mac.update(b"crier vault derived key:");
    mac.update(purpose.as_bytes());
    SecretBox::new(Box::new(mac.finalize().into_bytes().into()))
}

/// What the AEAD authenticates besides the ciphertext: the header, then the caller's `aad`. The
/// header comes first and has a fixed length, so the concatenation is unambiguous. Authenticating
/// the version byte means a future format can never be confused with this one under the same key.
fn associated_data(version: u8, key_id: u8, aad: &[u8]) -> Vec<u8> {
    let mut data = Vec::with_capacity(HEADER_LEN + aad.len());
    data.extend_from_slice(&[version, key_id]);
    data.extend_from_slice(aad);
    data
}

/// A sealed value split into its fields, after the checks that need no key.
struct Parts<'a> {
    key_id: u8,
    nonce: &'a [u8],
    ciphertext: &'a [u8],
    tag: &'a [u8],
}

impl<'a> Parts<'a> {
    fn parse(sealed: &'a [u8]) -> Result<Self, VaultError> {
        if sealed.len() < MIN_SEALED_LEN {
            return Err(VaultError::Malformed);
        }
        let (header, rest) = sealed.split_at(HEADER_LEN);
        let (version, key_id) = (header[0], header[1]);
        if version != VERSION || key_id == 0 {
            return Err(VaultError::Malformed);
        }
        let (nonce, rest) = rest.split_at(NONCE_LEN);
        let (ciphertext, tag) = rest.split_at(rest.len() - TAG_LEN);
        Ok(Self { key_id, nonce, ciphertext, tag })
    }
}

/// Why a configured key could not be used. Describes the problem without repeating the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyProblem {
    /// The text is not standard (padded) base64.
    NotBase64,
    /// The text decodes to `len` bytes, not the 32 a key needs.
    WrongLength {
        /// How many bytes it decoded to.
        len: usize,
    },
}

impl fmt::Display for KeyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotBase64 => f.write_str("it is not valid standard base64"),
            Self::WrongLength { len } => write!(f, "it decodes to {len} bytes instead of {KEY_LEN}"),
        }
    }
}

/// Everything that can go wrong with keys and sealed values. No variant carries key bytes,
/// ciphertext or plaintext, so these can be logged freely.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    /// Configured key text could not be turned into a key.
    #[error("vault key {id} is malformed: {problem}")]
    MalformedKey {
        /// The id the key was configured under.
        id: u8,
        /// What is wrong with it.
        problem: KeyProblem,
    },
    /// Key id 0 is reserved and cannot be given to a key.
    #[error("vault key id 0 is reserved; use 1..=255")]
    ReservedKeyId,
    /// The value was sealed with a key id this vault does not know.
    #[error("value was sealed with vault key {id}, which is not configured")]
    UnknownKey {
        /// The key id written in the sealed value.
        id: u8,
    },
    /// The value is not a sealed value: too short, an unknown format version or key id 0.
    #[error("sealed value is malformed")]
    Malformed,
    /// Authentication failed: the key bytes are wrong for that id, the value belongs to another
    /// row or column, or it was modified. Deliberately one variant: the AEAD cannot tell these
    /// apart, and callers should treat them all as "do not trust this value".
    #[error("sealed value failed authentication (wrong key, wrong row or column, or modified)")]
    Tampered,
}
