//! Periodic clean-up: expired sessions, old login and verification failures and per-address
//! attempts, abandoned OAuth connections, old idempotency and form keys.

use sqlx::PgPool;

use crate::DomainError;

/// What one clean-up pass removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Expired web sessions deleted.
    pub sessions: u64,
    /// Login failures older than an hour deleted (throttling looks back one minute).
    pub login_failures: u64,
    /// Failed second-factor and password checks older than an hour deleted (the same throttle).
    pub verification_failures: u64,
    /// OAuth connections past their 10 minutes (abandoned on a consent page, or never chosen).
    pub oauth_connections: u64,
    /// REST API idempotency keys older than a day (a retry comes within minutes, not days).
    pub idempotency_keys: u64,
    /// Form keys older than a day, and per-address attempts older than a day.
    pub form_keys: u64,
}

/// Deletes expired sessions, login failures that no longer matter and expired OAuth connections.
pub async fn prune(pool: &PgPool) -> Result<Pruned, DomainError> {
    // Past either limit: inactivity (expires_at) or the absolute lifetime from creation.
    let sessions = sqlx::query!(
        "delete from web_session where expires_at <= now() or created_at <= now() - make_interval(days => $1)",
        super::sessions::ABSOLUTE_LIFETIME_DAYS
    )
    .execute(pool)
    .await?
    .rows_affected();
    let login_failures =
        sqlx::query!("delete from login_failure where failed_at < now() - interval '1 hour'").execute(pool).await?.rows_affected();
    let verification_failures =
        sqlx::query!("delete from verification_failure where failed_at < now() - interval '1 hour'").execute(pool).await?.rows_affected();
    let oauth_connections = sqlx::query!("delete from oauth_connection where expires_at <= now()").execute(pool).await?.rows_affected();
    let idempotency_keys =
        sqlx::query!("delete from api_idempotency where created_at < now() - interval '1 day'").execute(pool).await?.rows_affected();
    let form_keys =
        sqlx::query!("delete from form_submission where created_at < now() - interval '1 day'").execute(pool).await?.rows_affected();
    // Every per-address window is at most a day long.
    sqlx::query!("delete from address_attempt where at < now() - interval '1 day'").execute(pool).await?;
    Ok(Pruned { sessions, login_failures, verification_failures, oauth_connections, idempotency_keys, form_keys })
}

/// Warns the owners and admins of each connected account whose access ends within
/// [`AccountHealth::WARN_BEFORE`](crate::account::AccountHealth::WARN_BEFORE) and cannot be renewed
/// by Crier (the refresh token's end, or the access token's when Crier holds no refresh token):
/// records `account_token_expiring`, which notifies them. Once per deadline, whichever worker's
/// pass gets there first (`expiry_warned_for`); a reconnection's new deadline warns again.
/// Answers how many accounts were warned.
pub async fn warn_expiring(pool: &PgPool) -> Result<u64, DomainError> {
    let mut tx = pool.begin().await?;
    let warned = sqlx::query!(
        r#"update platform_account a set expiry_warned_for = d.deadline
           from (select account_id, case when can_refresh then refresh_expires_at else token_expires_at end as deadline
                 from platform_account where status = 'connected') d
           where a.account_id = d.account_id and d.deadline > now() and d.deadline <= now() + make_interval(days => $1)
             and a.expiry_warned_for is distinct from d.deadline
           returning a.team_id, a.account_id, d.deadline as "deadline!""#,
        i32::try_from(crate::account::AccountHealth::WARN_BEFORE.num_days()).unwrap_or(7)
    )
    .fetch_all(&mut *tx)
    .await?;
    for account in &warned {
        super::audit::record(
            &mut *tx,
            account.team_id,
            super::audit::Actor::System,
            "account_token_expiring",
            "account",
            Some(&account.account_id.to_string()),
            serde_json::json!({ "reauth_by": account.deadline }),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(warned.len() as u64)
}
