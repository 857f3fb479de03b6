//! What the store's test files share: a fresh database per test, and a team to act in.

#![allow(dead_code)] // each test binary uses a different part

pub mod migrated;

use crier_domain::password::Password;
use crier_domain::store::{Member, teams};
use crier_domain::{EmailAddress, TeamName};
use secrecy::SecretString;
use sqlx::PgPool;

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
