//! Signed, expiring links to a media item's bytes, for platforms that fetch media by URL
//! (Facebook can; Instagram must) and for nothing else: whoever holds the link can fetch the file
//! until it expires, without signing in.
//!
//! ```text
//! <CRIER_PUBLIC_URL>/media/link/<team>/<item>?expires=<unix seconds>&signature=<base64url HMAC-SHA256>
//! ```
//!
//! The HMAC covers the team, the item and the expiry, under a key derived from the vault's current
//! key for this purpose alone ([`crier_vault::Vault::derive_key`]): no other setting, the same in
//! every process of an installation, and links stop working when the key is rotated (they are
//! short-lived anyway).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeDelta, Utc};
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretBox};
use sha256::Sha256;
use uuid::Uuid;

/// How long a link works unless asked otherwise: long enough for a platform to fetch a large
/// video, short enough that a leaked link soon stops working.
pub const DEFAULT_LIFETIME: TimeDelta = TimeDelta::hours(1);
/// The vault purpose the key is derived for.
const PURPOSE: &str = "media links";

/// Signs and checks media links.
pub struct MediaLinks {
    key: SecretBox<[u8; 32]>,
}

impl std::fmt::Debug for MediaLinks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MediaLinks { .. }")
    }
}

/// Why a link was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LinkRefused {
    /// Its time is up.
    #[error("this link has expired")]
    Expired,
    /// The signature does not match (altered, or made with another key).
    #[error("this link is not valid")]
    Invalid,
}

impl MediaLinks {
    /// The signer for an installation's vault.
    pub fn new(vault: &crier_vault::Vault) -> Self {
        MediaLinks { key: vault.derive_key(PURPOSE) }
    }

    fn mac(&self, team_id: Uuid, media_id: Uuid, expires: i64) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(self.key.expose_secret()).expect("HMAC takes a key of any length");
        mac.update(format!("{team_id}/{media_id}/{expires}").as_bytes());
        mac
    }

    /// The path and query of a link to the item that works until `expires`.
    pub fn path(&self, team_id: Uuid, media_id: Uuid, expires: DateTime<Utc>) -> String {
        let expires = expires.timestamp();
        let signature = URL_SAFE_NO_PAD.encode(self.mac(team_id, media_id, expires).finalize().into_bytes());
        format!("/media/link/{team_id}/{media_id}?expires={expires}&signature={signature}")
    }

    /// Checks a link's parts (in constant time) at `now`.
    pub fn verify(&self, team_id: Uuid, media_id: Uuid, expires: i64, signature: &str, now: DateTime<Utc>) -> Result<(), LinkRefused> {
        let given = URL_SAFE_NO_PAD.decode(signature.as_bytes()).map_err(|_| LinkRefused::Invalid)?;
        self.mac(team_id, media_id, expires).verify_slice(&given).map_err(|_| LinkRefused::Invalid)?;
        if now.timestamp() > expires {
            return Err(LinkRefused::Expired);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links(byte: u8) -> MediaLinks {
        MediaLinks::new(&crier_vault::Vault::new(crier_vault::VaultKey::new(1, [byte; 32]).unwrap()))
    }

    fn parts(path: &str) -> (i64, String) {
        let query = path.split_once('?').unwrap().1;
        let (expires, signature) = query.split_once('&').unwrap();
        (expires.trim_start_matches("expires=").parse().unwrap(), signature.trim_start_matches("signature=").to_owned())
    }

    #[test]
    fn a_link_works_for_its_item_until_it_expires() {
        let (team, item, now) = (Uuid::new_v4(), Uuid::new_v4(), Utc::now());
        let signer = links(1);
        let path = signer.path(team, item, now + DEFAULT_LIFETIME);
        assert!(path.starts_with(&format!("/media/link/{team}/{item}?expires=")));
        let (expires, signature) = parts(&path);
        assert_eq!(signer.verify(team, item, expires, &signature, now), Ok(()));
        assert_eq!(signer.verify(team, item, expires, &signature, now + TimeDelta::hours(2)), Err(LinkRefused::Expired));
        // Another item, another team, a later expiry, another key: all refused.
        assert_eq!(signer.verify(team, Uuid::new_v4(), expires, &signature, now), Err(LinkRefused::Invalid));
        assert_eq!(signer.verify(Uuid::new_v4(), item, expires, &signature, now), Err(LinkRefused::Invalid));
        assert_eq!(signer.verify(team, item, expires + 3600, &signature, now), Err(LinkRefused::Invalid));
        assert_eq!(links(2).verify(team, item, expires, &signature, now), Err(LinkRefused::Invalid));
        assert_eq!(signer.verify(team, item, expires, "not base64!", now), Err(LinkRefused::Invalid));
    }
}
