//! Token refresh, single-flight per account across every task and process.
//!
//! X access tokens live two hours and X rotates the refresh token on every use: two refreshes of
//! one account racing would leave one of them holding a dead refresh token, and the account
//! wrongly "needs re-auth". So a refresh takes, in order, a lock of this process (tasks wait
//! without spending a database connection) and a Postgres advisory lock (other processes wait),
//! re-reads the tokens after each (someone else may have refreshed meanwhile), and stores the
//! rotated tokens before anything uses them. No transaction is open during the platform call:
//! the advisory lock is a session lock on a connection of its own, detached from the pool so that
//! if this task is dropped the connection closes and Postgres releases the lock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeDelta, Utc};
use crier_clients::{ErrorClass, PlatformError};
use crier_domain::DomainError;
use crier_domain::store::accounts::{self, Account, Credentials};
use crier_domain::store::audit::{self, Actor};
use crier_platform::Platform;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use uuid::Uuid;

use crate::Accounts;

/// Token refreshes, by platform and result (`ok`, `failed`): a Prometheus counter (a no-op
/// without an installed recorder).
pub const REFRESHES: &str = "crier_token_refreshes_total";

/// The advisory-lock namespace of token refreshes ("CRIE"), so they never collide with another
/// user of advisory locks (apalis takes its own).
const LOCK_NAMESPACE: i32 = 0x4352_4945;

/// Why fresh credentials could not be had.
#[derive(Debug)]
pub enum RefreshError {
    /// The platform refused or failed; its class says what to do.
    Platform(PlatformError),
    /// The store failed, or the tokens cannot be opened.
    Store(DomainError),
}

impl From<DomainError> for RefreshError {
    fn from(e: DomainError) -> Self {
        RefreshError::Store(e)
    }
}

impl From<sqlx::Error> for RefreshError {
    fn from(e: sqlx::Error) -> Self {
        RefreshError::Store(e.into())
    }
}

/// Whether the account's access token must be renewed before a call: it expires within `margin`
/// and Crier holds a refresh token.
pub fn needs_refresh(can_refresh: bool, token_expires_at: Option<DateTime<Utc>>, margin: TimeDelta, now: DateTime<Utc>) -> bool {
    can_refresh && token_expires_at.is_some_and(|at| at - margin <= now)
}

/// The in-process half of single-flight: one lock per account being refreshed.
#[derive(Default)]
pub(crate) struct Refresher {
    locks: Mutex<HashMap<Uuid, Arc<tokio::sync::Mutex<()>>>>,
}

fn lock_key(account_id: Uuid) -> i32 {
    let bytes = account_id.as_bytes();
    let folded = bytes.chunks(4).fold(0u32, |acc, chunk| acc ^ u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]));
    i32::from_ne_bytes(folded.to_ne_bytes())
}

impl Refresher {
    fn local_lock(&self, account_id: Uuid) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        // Forget locks nobody holds or waits for, so the map does not grow with every account ever seen.
        if locks.len() > 1024 {
            locks.retain(|_, lock| Arc::strong_count(lock) > 1);
        }
        locks.entry(account_id).or_default().clone()
    }
}

impl Accounts {
    /// The account's credentials, refreshed first if they expire within `margin`. Answers the
    /// account as stored after any refresh.
    pub async fn fresh_credentials(
        &self,
        team_id: Uuid,
        account_id: Uuid,
        margin: TimeDelta,
    ) -> Result<(Account, Credentials), RefreshError> {
        let due = |account: &Account, _: &Credentials| needs_refresh(account.can_refresh, account.token_expires_at, margin, Utc::now());
        self.refresh_when(team_id, account_id, due).await
    }

    /// Renews the account's tokens after the platform refused `refused` (a token it stopped
    /// honouring before its stated expiry), unless another task or process already replaced it.
    pub async fn renew_refused(
        &self,
        team_id: Uuid,
        account_id: Uuid,
        refused: &SecretString,
    ) -> Result<(Account, Credentials), RefreshError> {
        let still_refused = |account: &Account, credentials: &Credentials| {
            account.can_refresh
                && matches!(credentials, Credentials::OAuth2 { access_token, .. } if access_token.expose_secret() == refused.expose_secret())
        };
        self.refresh_when(team_id, account_id, still_refused).await
    }

    /// Refreshes the account's tokens if `due` says so, looked at again under the account's
    /// advisory lock (another process may have refreshed while this one waited).
    async fn refresh_when(
        &self,
        team_id: Uuid,
        account_id: Uuid,
        due: impl Fn(&Account, &Credentials) -> bool,
    ) -> Result<(Account, Credentials), RefreshError> {
        let local = self.refresher.local_lock(account_id);
        let _in_process = local.lock().await;
        let (account, credentials) = accounts::credentials(&self.pool, &self.vault, team_id, account_id).await?;
        if !due(&account, &credentials) {
            return Ok((account, credentials));
        }
        let mut conn = self.pool.acquire().await?.detach();
        sqlx::query("select pg_advisory_lock($1, $2)").bind(LOCK_NAMESPACE).bind(lock_key(account_id)).execute(&mut conn).await?;
        let result = self.refresh_locked(team_id, account_id, due).await;
        // Unlocking can only fail with the connection gone, which released the lock anyway.
        let _ = sqlx::query("select pg_advisory_unlock($1, $2)").bind(LOCK_NAMESPACE).bind(lock_key(account_id)).execute(&mut conn).await;
        drop(conn);
        result
    }

    async fn refresh_locked(
        &self,
        team_id: Uuid,
        account_id: Uuid,
        due: impl Fn(&Account, &Credentials) -> bool,
    ) -> Result<(Account, Credentials), RefreshError> {
        // Another process may have refreshed while this one waited for the lock.
        let (account, credentials) = accounts::credentials(&self.pool, &self.vault, team_id, account_id).await?;
        if !due(&account, &credentials) {
            return Ok((account, credentials));
        }
        let Credentials::OAuth2 { refresh_token: Some(refresh_token), .. } = &credentials else {
            return Ok((account, credentials));
        };
        let refreshed = match self.clients.app(account.platform) {
            Some(client) => client.refresh(refresh_token).await,
            None => Err(PlatformError::new(
                account.platform,
                ErrorClass::NeedsReauth,
                None,
                None,
                format!("{} is not configured on this Crier, so its tokens cannot be renewed", account.platform.label()),
            )),
        };
        record_refresh(account.platform, refreshed.is_ok());
        let refreshed = refreshed.map_err(RefreshError::Platform)?;
        let renewed = Credentials::OAuth2 {
            access_token: refreshed.access_token,
            // LinkedIn keeps its refresh token; X sends a new one, and the old one is dead now.
            refresh_token: Some(refreshed.refresh_token.unwrap_or_else(|| refresh_token.expose_secret().to_owned().into())),
        };
        accounts::replace_tokens(&self.pool, &self.vault, &account, team_id, &renewed, refreshed.expires_at, refreshed.refresh_expires_at)
            .await?;
        audit::record_after(
            &self.pool,
            team_id,
            Actor::System,
            "account_refreshed",
            "account",
            Some(&account_id.to_string()),
            json!({ "platform": account.platform.as_str(), "expires_at": refreshed.expires_at }),
        )
        .await;
        let account = Account { token_expires_at: refreshed.expires_at, ..account };
        Ok((account, renewed))
    }
}

fn record_refresh(platform: Platform, ok: bool) {
    metrics::counter!(REFRESHES, "platform" => platform.as_str(), "result" => if ok { "ok" } else { "failed" }).increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_renewed_within_the_margin_and_only_with_a_refresh_token() {
        let now = Utc::now();
        let margin = TimeDelta::minutes(5);
        assert!(needs_refresh(true, Some(now + TimeDelta::minutes(4)), margin, now));
        assert!(needs_refresh(true, Some(now - TimeDelta::hours(1)), margin, now));
        assert!(!needs_refresh(true, Some(now + TimeDelta::minutes(6)), margin, now));
        assert!(!needs_refresh(false, Some(now - TimeDelta::hours(1)), margin, now));
        assert!(!needs_refresh(true, None, margin, now));
    }

    #[test]
    fn lock_keys_differ_between_accounts() {
        assert_ne!(lock_key(Uuid::from_u128(1)), lock_key(Uuid::from_u128(2)));
    }
}
