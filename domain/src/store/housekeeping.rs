//! Periodic clean-up: expired sessions and old login failures.

use sqlx::PgPool;

use crate::DomainError;

/// What one clean-up pass removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Expired web sessions deleted.
    pub sessions: u64,
    /// Login failures older than an hour deleted (throttling looks back one minute).
    pub login_failures: u64,
}

/// Deletes expired sessions and login failures that no longer matter.
pub async fn prune(pool: &PgPool) -> Result<Pruned, DomainError> {
    let sessions = sqlx::query!("delete from web_session where expires_at <= now()").execute(pool).await?.rows_affected();
    let login_failures =
        sqlx::query!("delete from login_failure where failed_at < now() - interval '1 hour'").execute(pool).await?.rows_affected();
    Ok(Pruned { sessions, login_failures })
}
