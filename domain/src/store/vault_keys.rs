//! The token vault's key registry. A sealed value names its key by a one-byte id; the id of a key
//! is assigned here, by the key's fingerprint, the first time any process uses the key. So ids
//! never collide across rotations, and an operator only ever handles keys, never ids.

use sha2::{Digest, Sha256};
use sqlx::PgPool;

use crate::DomainError;

/// A keyed SHA-256 of the key: identifies it without revealing anything about it (the key is 256
/// random bits; the prefix keeps this hash from equalling any other use of SHA-256 over the key).
pub fn fingerprint(key: &[u8; 32]) -> Vec<u8> {
    let mut hasher = Sha256::new();
    hasher.update(b"crier vault key fingerprint\0");
    hasher.update(key);
    hasher.finalize().to_vec()
}

/// The id of each key (by fingerprint, in order), registering unknown keys with the next free id.
///
/// # Errors
/// `Internal` when all 255 ids are used (255 rotations), and database errors.
pub async fn key_ids(pool: &PgPool, fingerprints: &[Vec<u8>]) -> Result<Vec<u8>, DomainError> {
    let mut tx = pool.begin().await?;
    // Two processes starting with a new key at once must not both pick the same next id.
    sqlx::query!("select pg_advisory_xact_lock(hashtext('crier.vault_key'))").execute(&mut *tx).await?;
    let mut ids = Vec::with_capacity(fingerprints.len());
    for fingerprint in fingerprints {
        let known =
            sqlx::query_scalar!("select key_id from vault_key where fingerprint = $1", fingerprint).fetch_optional(&mut *tx).await?;
        let id = match known {
            Some(id) => id,
            None => sqlx::query_scalar!(
                r#"insert into vault_key (key_id, fingerprint)
                   select coalesce(max(key_id), 0) + 1, $1 from vault_key
                   returning key_id"#,
                fingerprint
            )
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| match &e {
                sqlx::Error::Database(db) if db.constraint() == Some("vault_key_id_range") => {
                    DomainError::Internal("all 255 vault key ids are used".into())
                }
                _ => DomainError::Database(e),
            })?,
        };
        ids.push(u8::try_from(id).map_err(|_| DomainError::Internal(format!("vault key id {id} out of range")))?);
    }
    tx.commit().await?;
    Ok(ids)
}
