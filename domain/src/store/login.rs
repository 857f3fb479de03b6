//! Logging in, with throttling of repeated failures by email and by client address.

use secrecy::SecretString;
use sqlx::PgPool;

use super::Member;
use crate::password::{PasswordHash, verify_password};
use crate::{DomainError, Role};

/// Failures allowed per email, and per client address, within [`WINDOW_SECS`].
pub const MAX_FAILURES: i64 = 5;
/// The sliding window for counting failures.
pub const WINDOW_SECS: i64 = 60;

/// Checks an email and password. A wrong password and an unknown email give the same error after
/// the same work (an argon2 verification either way). After [`MAX_FAILURES`] failures for the
/// email or the client address within a minute, further tries are refused until the oldest of
/// those failures leaves the window.
pub async fn log_in(pool: &PgPool, email_input: &str, password: SecretString, client_addr: &str) -> Result<Member, DomainError> {
    // Not `EmailAddress::parse`: a malformed address is just another wrong login, and it is
    // throttled like any other.
    let email = email_input.trim().to_lowercase();

    if let Some(retry_after_secs) = seconds_until_allowed(pool, &email, client_addr).await? {
        return Err(DomainError::Throttled { retry_after_secs });
    }

    let account = sqlx::query!(
        r#"select u.user_id, u.team_id, t.name as team_name, u.email, u.role as "role: Role", u.password_hash, u.timezone
           from app_user u join team t using (team_id)
           where u.email = $1"#,
        email
    )
    .fetch_optional(pool)
    .await?;

    let stored_hash = account.as_ref().map(|a| PasswordHash::from_stored(a.password_hash.clone()));
    if verify_password(password, stored_hash).await? {
        let a = account.expect("a password only verifies against an existing account");
        return Ok(Member {
            user_id: a.user_id,
            team_id: a.team_id,
            team_name: a.team_name,
            email: a.email,
            role: a.role,
            timezone: crate::timezone::TimeZone::from_stored(&a.timezone),
        });
    }

    sqlx::query!("insert into login_failure (email, client_addr) values ($1, $2)", email, client_addr).execute(pool).await?;
    // A wrong password for an existing person goes into their team's audit trail (an unknown email
    // belongs to no team, and only the throttle counts it).
    if let Some(a) = &account {
        let metadata = serde_json::json!({ "client_addr": client_addr });
        super::audit::record_after(
            pool,
            a.team_id,
            super::audit::Actor::System,
            "login_failed",
            "member",
            Some(&a.user_id.to_string()),
            metadata,
        )
        .await;
    }
    Err(DomainError::WrongCredentials)
}

/// `Some(seconds)` while the email or the address has used up its failures in the window.
async fn seconds_until_allowed(pool: &PgPool, email: &str, client_addr: &str) -> Result<Option<u64>, DomainError> {
    // For each key: the MAX_FAILURES-th most recent failure in the window; tries are allowed
    // again once it is WINDOW_SECS old. greatest() ignores the NULL of a key under the limit.
    let wait = sqlx::query_scalar!(
        r#"select greatest(
               (select extract(epoch from (failed_at + make_interval(secs => $3) - now()))
                  from login_failure
                 where email = $1 and failed_at > now() - make_interval(secs => $3)
                 order by failed_at desc offset $4::bigint - 1 limit 1),
               (select extract(epoch from (failed_at + make_interval(secs => $3) - now()))
                  from login_failure
                 where client_addr = $2 and failed_at > now() - make_interval(secs => $3)
                 order by failed_at desc offset $4::bigint - 1 limit 1)
           )::float8 as "wait_secs""#,
        email,
        client_addr,
        WINDOW_SECS as f64,
        MAX_FAILURES,
    )
    .fetch_one(pool)
    .await?;
    Ok(wait.filter(|secs| *secs > 0.0).map(|secs| secs.ceil() as u64))
}
