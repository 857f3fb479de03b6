//! What the store's test files share: a fresh database per test, and a team to act in.

#![allow(dead_code)] // each test binary uses a different part

pub mod migrated;

use crier_domain::account::AccountKind;
use crier_domain::password::Password;
use crier_domain::store::accounts::{self, Credentials, NewAccount};
use crier_domain::store::{Member, teams, vault_keys};
use crier_domain::{EmailAddress, TeamName};
use crier_platform::Platform;
use crier_vault::{Vault, VaultKey};
use secrecy::SecretString;
use sqlx::PgPool;
use uuid::Uuid;

/// A fresh, migrated database on the shared test cluster (a copy of the migrated template).
pub async fn pool() -> PgPool {
    let url = tokio::task::spawn_blocking(migrated::migrated_database).await.unwrap();
    PgPool::connect(&url).await.unwrap()
}

/// A secret string.
pub fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

/// Signs up a team; returns its owner.
pub async fn team(pool: &PgPool, name: &str, email: &str) -> Member {
    teams::sign_up(
        pool,
        TeamName::parse(name).unwrap(),
        EmailAddress::parse(email).unwrap(),
        Password::parse(secret("correct horse battery")).unwrap(),
    )
    .await
    .unwrap()
}

/// Connects a profile account of the team on `platform` (its id on the platform `external_id`,
/// its name "Account <external_id>"); answers its id.
pub async fn account(pool: &PgPool, team_id: Uuid, platform: Platform, external_id: &str) -> Uuid {
    let key = [9u8; 32];
    let id = vault_keys::key_ids(pool, &[vault_keys::fingerprint(&key)]).await.unwrap()[0];
    let vault = Vault::new(VaultKey::new(id, key).unwrap());
    let new = NewAccount {
        platform,
        kind: AccountKind::Profile,
        external_id: external_id.into(),
        name: format!("Account {external_id}"),
        handle: None,
        authorized_by: external_id.into(),
        credentials: Credentials::OAuth2 { access_token: secret("t"), refresh_token: None },
        token_expires_at: None,
        refresh_expires_at: None,
        scopes: vec![],
    };
    accounts::connect(pool, &vault, team_id, None, new).await.unwrap().account_id
}

/// A new scheduled delivery (due now).
pub async fn insert_delivery(pool: &PgPool, team_id: Uuid, post_id: Uuid, account_id: Uuid) -> Uuid {
    sqlx::query_scalar(
        "insert into delivery (team_id, post_id, account_id, next_attempt_at) values ($1, $2, $3, now()) returning delivery_id",
    )
    .bind(team_id)
    .bind(post_id)
    .bind(account_id)
    .fetch_one(pool)
    .await
    .unwrap()
}
