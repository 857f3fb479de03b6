//! Opens the token vault: the configured keys, with the ids the database registry gives them.

use anyhow::Context;
use crier_domain::store::vault_keys;
use crier_vault::{Vault, VaultKey};
use sqlx::PgPool;

use crate::config::KeyRing;

/// The vault for these keys. Each key's id comes from the `vault_key` registry (assigned on first
/// use), so an operator never picks ids and two keys can never share one.
pub async fn open(pool: &PgPool, ring: &KeyRing) -> anyhow::Result<Vault> {
    let keys: Vec<_> = std::iter::once(&ring.current).chain(&ring.previous).collect();
    let fingerprints: Vec<_> = keys.iter().map(|key| vault_keys::fingerprint(key.expose())).collect();
    let ids = vault_keys::key_ids(pool, &fingerprints).await.context("cannot register the secret keys")?;
    let vault_key = |i: usize| VaultKey::new(ids[i], *keys[i].expose()).context("a registered key id is unusable");
    let mut vault = Vault::new(vault_key(0)?);
    for i in 1..keys.len() {
        vault = vault.with_previous(vault_key(i)?);
    }
    Ok(vault)
}
