//! Behaviour of the token vault through its public API only.

use base64::Engine as _;
use crier_vault::{KeyProblem, Vault, VaultError, VaultKey};
use secrecy::{ExposeSecret, SecretString};

const ACCESS: &[u8] = b"platform_account:5d9e2c1a-0b7f-4e3a-9c6d-1f2e3a4b5c6d:access_token";
const REFRESH: &[u8] = b"platform_account:5d9e2c1a-0b7f-4e3a-9c6d-1f2e3a4b5c6d:refresh_token";
const OTHER_ROW: &[u8] = b"platform_account:8a7b6c5d-4e3f-4a1b-8c2d-3e4f5a6b7c8d:access_token";
const TOKEN: &str = "ya29.a0AfH6SMBx-this-is-a-fairly-long-oauth-access-token-0123456789";

/// Header (2) + nonce (24) + tag (16).
const OVERHEAD: usize = 42;

/// Recognisable, non-repeating key bytes, so their encodings can be searched for.
fn key_bytes(seed: u8) -> [u8; 32] {
    std::array::from_fn(|i| seed.wrapping_add((i as u8).wrapping_mul(37)))
}

fn key(id: u8, seed: u8) -> VaultKey {
    VaultKey::new(id, key_bytes(seed)).unwrap()
}

fn secret(text: &str) -> SecretString {
    SecretString::from(text.to_owned())
}

fn hex(bytes: &[u8], upper: bool) -> String {
    bytes.iter().map(|b| if upper { format!("{b:02X}") } else { format!("{b:02x}") }).collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn round_trip() {
    let vault = Vault::new(key(1, 10));
    for text in [TOKEN, "", "x", "oauth_token_secret=ünïcødé ✓"] {
        let sealed = vault.seal(&secret(text), ACCESS);
        assert_eq!(vault.open(&sealed, ACCESS).unwrap().expose_secret(), text);
    }
}

#[test]
fn sealed_layout_is_version_key_id_nonce_ciphertext_tag() {
    let vault = Vault::new(key(42, 10));
    let sealed = vault.seal(&secret(TOKEN), ACCESS);
    assert_eq!(sealed[0], 1, "version byte");
    assert_eq!(sealed[1], 42, "key id byte");
    assert_eq!(sealed.len(), OVERHEAD + TOKEN.len());
    assert_eq!(vault.seal(&secret(""), ACCESS).len(), OVERHEAD);
}

#[test]
fn each_seal_uses_a_fresh_nonce() {
    let vault = Vault::new(key(1, 10));
    let a = vault.seal(&secret(TOKEN), ACCESS);
    let b = vault.seal(&secret(TOKEN), ACCESS);
    assert_ne!(a[2..26], b[2..26], "nonces differ");
    assert_ne!(a, b, "same plaintext gives different ciphertext");
    assert_eq!(vault.open(&a, ACCESS).unwrap().expose_secret(), TOKEN);
    assert_eq!(vault.open(&b, ACCESS).unwrap().expose_secret(), TOKEN);
}

#[test]
fn sealed_bytes_never_contain_the_plaintext() {
    let vault = Vault::new(key(1, 10));
    let sealed = vault.seal(&secret(TOKEN), ACCESS);
    assert!(!contains(&sealed, TOKEN.as_bytes()));
    // Not even a recognisable chunk of it.
    for chunk in TOKEN.as_bytes().chunks(8) {
        assert!(!contains(&sealed, chunk), "found {:?}", String::from_utf8_lossy(chunk));
    }
}

#[test]
fn wrong_key_is_tampered() {
    let sealed = Vault::new(key(1, 10)).seal(&secret(TOKEN), ACCESS);
    // Same id, other bytes: the id matches, authentication does not.
    assert_eq!(Vault::new(key(1, 99)).open(&sealed, ACCESS).unwrap_err(), VaultError::Tampered);
    assert_eq!(Vault::new(VaultKey::generate(1)).open(&sealed, ACCESS).unwrap_err(), VaultError::Tampered);
}

#[test]
fn wrong_aad_is_tampered() {
    let vault = Vault::new(key(1, 10));
    let sealed = vault.seal(&secret(TOKEN), ACCESS);
    assert_eq!(vault.open(&sealed, OTHER_ROW).unwrap_err(), VaultError::Tampered, "other row");
    assert_eq!(vault.open(&sealed, REFRESH).unwrap_err(), VaultError::Tampered, "other column");
    assert_eq!(vault.open(&sealed, b"").unwrap_err(), VaultError::Tampered, "no aad");
    assert_eq!(vault.open(&sealed, &ACCESS[..ACCESS.len() - 1]).unwrap_err(), VaultError::Tampered, "aad prefix");
}

#[test]
fn any_flipped_byte_fails() {
    // Keys 1 and 3 known, so flipping the id byte can land on a known key (1 ^ 2 = 3),
    // on the reserved id 0 (1 ^ 1) or on an unknown one (1 ^ 0x80, 1 ^ 0xff).
    let vault = Vault::new(key(1, 10)).with_previous(key(3, 30));
    let sealed = vault.seal(&secret(TOKEN), ACCESS);
    for i in 0..sealed.len() {
        for mask in [0x01, 0x02, 0x80, 0xff] {
            let mut bad = sealed.clone();
            bad[i] ^= mask;
            let err = vault.open(&bad, ACCESS).unwrap_err();
            if i == 1 {
                // The key id selects the key; a corrupted one that names no known key can only
                // be reported as such.
                assert!(
                    matches!(err, VaultError::Tampered | VaultError::Malformed | VaultError::UnknownKey { .. }),
                    "byte {i} ^ {mask:#x}: {err:?}"
                );
            } else {
                assert!(matches!(err, VaultError::Tampered | VaultError::Malformed), "byte {i} ^ {mask:#x}: {err:?}");
            }
        }
    }
}

#[test]
fn truncated_input_is_malformed() {
    let vault = Vault::new(key(1, 10));
    let sealed = vault.seal(&secret(TOKEN), ACCESS);
    // Too short to hold header, nonce and tag: malformed without trying any key.
    for len in 0..OVERHEAD {
        assert_eq!(vault.open(&sealed[..len], ACCESS).unwrap_err(), VaultError::Malformed, "length {len}");
    }
    // Long enough to parse but cut short: the tag no longer matches.
    for len in OVERHEAD..sealed.len() {
        assert_eq!(vault.open(&sealed[..len], ACCESS).unwrap_err(), VaultError::Tampered, "length {len}");
    }
    // Appended bytes are caught as well.
    let mut longer = sealed.clone();
    longer.push(0);
    assert_eq!(vault.open(&longer, ACCESS).unwrap_err(), VaultError::Tampered);
}

#[test]
fn bad_version_or_reserved_key_id_is_malformed() {
    let vault = Vault::new(key(1, 10));
    let sealed = vault.seal(&secret(TOKEN), ACCESS);
    for version in [0, 2, 255] {
        let mut bad = sealed.clone();
        bad[0] = version;
        assert_eq!(vault.open(&bad, ACCESS).unwrap_err(), VaultError::Malformed);
    }
    let mut bad = sealed;
    bad[1] = 0;
    assert_eq!(vault.open(&bad, ACCESS).unwrap_err(), VaultError::Malformed);
}

#[test]
fn unknown_key_id() {
    let sealed = Vault::new(key(7, 70)).seal(&secret(TOKEN), ACCESS);
    let vault = Vault::new(key(1, 10)).with_previous(key(2, 20));
    assert_eq!(vault.open(&sealed, ACCESS).unwrap_err(), VaultError::UnknownKey { id: 7 });
    assert_eq!(vault.reseal(&sealed, ACCESS).unwrap_err(), VaultError::UnknownKey { id: 7 });
}

#[test]
fn rotation() {
    let old = Vault::new(key(1, 10));
    let sealed = old.seal(&secret(TOKEN), ACCESS);
    assert!(!old.needs_reseal(&sealed));

    let rotating = Vault::new(key(2, 20)).with_previous(key(1, 10));
    assert_eq!(rotating.open(&sealed, ACCESS).unwrap().expose_secret(), TOKEN);
    assert!(rotating.needs_reseal(&sealed));

    let resealed = rotating.reseal(&sealed, ACCESS).unwrap();
    assert_eq!(resealed[1], 2);
    assert!(!rotating.needs_reseal(&resealed));

    let new_only = Vault::new(key(2, 20));
    assert_eq!(new_only.open(&resealed, ACCESS).unwrap().expose_secret(), TOKEN);
    assert!(!new_only.needs_reseal(&resealed));
    // The old value is unreadable once key 1 is gone.
    assert_eq!(new_only.open(&sealed, ACCESS).unwrap_err(), VaultError::UnknownKey { id: 1 });
}

#[test]
fn reseal_keeps_the_row_binding_and_refuses_bad_input() {
    let rotating = Vault::new(key(2, 20)).with_previous(key(1, 10));
    let sealed = Vault::new(key(1, 10)).seal(&secret(TOKEN), ACCESS);
    assert_eq!(rotating.reseal(&sealed, OTHER_ROW).unwrap_err(), VaultError::Tampered);
    let resealed = rotating.reseal(&sealed, ACCESS).unwrap();
    assert_eq!(rotating.open(&resealed, OTHER_ROW).unwrap_err(), VaultError::Tampered);

    let mut tampered = sealed;
    *tampered.last_mut().unwrap() ^= 1;
    assert_eq!(rotating.reseal(&tampered, ACCESS).unwrap_err(), VaultError::Tampered);
}

#[test]
fn needs_reseal_is_true_for_garbage() {
    let vault = Vault::new(key(1, 10));
    assert!(vault.needs_reseal(b""));
    assert!(vault.needs_reseal(&[0u8; 64]));
}

#[test]
fn with_previous_ignores_the_same_key_twice() {
    let vault = Vault::new(key(2, 20)).with_previous(key(1, 10)).with_previous(key(2, 20)).with_previous(key(1, 10));
    let sealed = Vault::new(key(1, 10)).seal(&secret(TOKEN), ACCESS);
    assert_eq!(vault.open(&sealed, ACCESS).unwrap().expose_secret(), TOKEN);
    assert_eq!(format!("{vault:?}"), "Vault { current: VaultKey { id: 2, .. }, previous: [VaultKey { id: 1, .. }] }");
}

#[test]
#[should_panic(expected = "two different vault keys have the same id 1")]
fn with_previous_rejects_a_different_key_under_a_known_id() {
    let _ = Vault::new(key(2, 20)).with_previous(key(1, 10)).with_previous(key(1, 11));
}

#[test]
fn key_id_zero_is_reserved() {
    assert_eq!(VaultKey::new(0, key_bytes(1)).unwrap_err(), VaultError::ReservedKeyId);
    let encoded = base64::engine::general_purpose::STANDARD.encode(key_bytes(1));
    assert_eq!(VaultKey::from_base64(0, &encoded).unwrap_err(), VaultError::ReservedKeyId);
    assert_eq!(key(255, 1).id(), 255);
}

#[test]
#[should_panic(expected = "reserved")]
fn generate_refuses_key_id_zero() {
    let _ = VaultKey::generate(0);
}

#[test]
fn generated_keys_differ() {
    let a = Vault::new(VaultKey::generate(1));
    let b = Vault::new(VaultKey::generate(1));
    let sealed = a.seal(&secret(TOKEN), ACCESS);
    assert_eq!(a.open(&sealed, ACCESS).unwrap().expose_secret(), TOKEN);
    assert_eq!(b.open(&sealed, ACCESS).unwrap_err(), VaultError::Tampered);
}

#[test]
fn from_base64_is_the_same_key_as_from_bytes() {
    let encoded = base64::engine::general_purpose::STANDARD.encode(key_bytes(5));
    let decoded = VaultKey::from_base64(3, &encoded).unwrap();
    assert_eq!(decoded.id(), 3);
    let sealed = Vault::new(decoded).seal(&secret(TOKEN), ACCESS);
    assert_eq!(Vault::new(key(3, 5)).open(&sealed, ACCESS).unwrap().expose_secret(), TOKEN);
    // A trailing newline from a key file is tolerated.
    assert!(VaultKey::from_base64(3, &format!("{encoded}\n")).is_ok());
}

#[test]
fn from_base64_rejects_non_base64_without_echoing_it() {
    let input = "not*base64!secret-looking-input";
    let err = VaultKey::from_base64(4, input).unwrap_err();
    assert_eq!(err, VaultError::MalformedKey { id: 4, problem: KeyProblem::NotBase64 });
    let message = err.to_string();
    assert_eq!(message, "vault key 4 is malformed: it is not valid standard base64");
    for shown in [message, format!("{err:?}")] {
        assert!(!shown.contains(input));
        assert!(!shown.contains("secret-looking"));
    }
    // URL-safe alphabet is not standard base64.
    let url_safe = base64::engine::general_purpose::URL_SAFE.encode([0xfb_u8; 32]);
    assert!(matches!(VaultKey::from_base64(4, &url_safe), Err(VaultError::MalformedKey { problem: KeyProblem::NotBase64, .. })));
}

#[test]
fn from_base64_rejects_16_bytes_without_echoing_it() {
    let input = base64::engine::general_purpose::STANDARD.encode(&key_bytes(9)[..16]);
    let err = VaultKey::from_base64(5, &input).unwrap_err();
    assert_eq!(err, VaultError::MalformedKey { id: 5, problem: KeyProblem::WrongLength { len: 16 } });
    let message = err.to_string();
    assert_eq!(message, "vault key 5 is malformed: it decodes to 16 bytes instead of 32");
    for shown in [message, format!("{err:?}")] {
        assert!(!shown.contains(&input));
        assert!(!shown.contains(&input[..8]));
    }
}

#[test]
fn debug_shows_no_key_material() {
    let bytes = key_bytes(200);
    let current = VaultKey::new(3, bytes).unwrap();
    assert_eq!(format!("{current:?}"), "VaultKey { id: 3, .. }");
    let vault = Vault::new(current).with_previous(key(1, 10));

    let forbidden = [
        base64::engine::general_purpose::STANDARD.encode(bytes),
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes),
        hex(&bytes, false),
        hex(&bytes, true),
        hex(&key_bytes(10), false),
        // A derived `Debug` of the array would print its decimal bytes.
        format!("{:?}", &bytes[..4]).trim_end_matches(']').to_owned(),
    ];
    for shown in [format!("{vault:?}"), format!("{vault:#?}"), format!("{:?}", VaultKey::new(9, bytes).unwrap())] {
        for needle in &forbidden {
            assert!(!shown.contains(needle.as_str()), "{shown} contains {needle}");
        }
    }
}

#[test]
fn errors_never_carry_plaintext() {
    let vault = Vault::new(key(1, 10));
    let mut sealed = vault.seal(&secret(TOKEN), ACCESS);
    sealed[30] ^= 1;
    let err = vault.open(&sealed, ACCESS).unwrap_err();
    for shown in [err.to_string(), format!("{err:?}")] {
        assert!(!shown.contains(TOKEN));
    }
}

#[test]
fn derived_keys_are_stable_per_purpose_and_change_with_the_current_key() {
    use secrecy::ExposeSecret;
    let one = Vault::new(VaultKey::new(1, [1; 32]).unwrap());
    let again = Vault::new(VaultKey::new(1, [1; 32]).unwrap());
    let rotated = Vault::new(VaultKey::new(2, [2; 32]).unwrap()).with_previous(VaultKey::new(1, [1; 32]).unwrap());
    let links = one.derive_key("media links");
    assert_eq!(links.expose_secret(), again.derive_key("media links").expose_secret());
    assert_ne!(links.expose_secret(), one.derive_key("something else").expose_secret());
    assert_ne!(links.expose_secret(), rotated.derive_key("media links").expose_secret());
    assert_ne!(links.expose_secret(), &[1; 32], "not the key itself");
}
