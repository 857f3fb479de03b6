//! Logging in, with throttling of repeated failures by email and by client address.

use secrecy::SecretString;
use sqlx::{PgConnection, PgPool};

use super::Member;
use crate::password::{PasswordHash, verify_password};
use crate::{DomainError, Role};

/// Failures allowed per email, and per client address, within [`WINDOW_SECS`].
pub const MAX_FAILURES: i64 = 5;
/// The sliding window for counting failures.
pub const WINDOW_SECS: i64 = 60;

/// Checks an email and password. A wrong password and an unknown email give the same error after
/// the same work (an argon2 verification either way). After [`MAX_FAILURES`] failures for the
/// email or the client address (an IPv6 /64 counts as one) within a minute, further tries are
/// refused until the oldest of those failures leaves the window.
///
/// The attempt is recorded as a failure *before* the password is checked, under advisory locks
/// on the email and the address, and removed again when the password was right: twenty wrong
/// passwords sent at once for one email leave at most [`MAX_FAILURES`] checked, the rest refused
/// at once (without the 19 MiB argon2 run each).
pub async fn log_in(pool: &PgPool, email_input: &str, password: SecretString, client_addr: &str) -> Result<Member, DomainError> {
    // Not `EmailAddress::parse`: a malformed address is just another wrong login, and it is
    // throttled like any other. An absurdly long one is cut: it is only a key.
    let email: String = email_input.trim().to_lowercase().chars().take(crate::EmailAddress::MAX_LEN + 1).collect();
    let client_addr = super::throttle::address_key(client_addr);
    let client_addr = client_addr.as_str();

    let mut tx = pool.begin().await?;
    // Email first, then address, in every request: no two requests wait for each other in a cycle.
    sqlx::query!(
        "select pg_advisory_xact_lock(hashtextextended($1, 0)), pg_advisory_xact_lock(hashtextextended($2, 0))",
        format!("crier:login-email:{email}"),
        format!("crier:login-addr:{client_addr}")
    )
    .execute(&mut *tx)
    .await?;
    if let Some(retry_after_secs) = seconds_until_allowed(&mut tx, &email, client_addr).await? {
        return Err(DomainError::Throttled { retry_after_secs });
    }
    let provisional = sqlx::query_scalar!(
        "insert into login_failure (email, client_addr) values ($1, $2) returning login_failure_id",
        email,
        client_addr
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;

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
        sqlx::query!("delete from login_failure where login_failure_id = $1", provisional).execute(pool).await?;
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
async fn seconds_until_allowed(conn: &mut PgConnection, email: &str, client_addr: &str) -> Result<Option<u64>, DomainError> {
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
    .fetch_one(conn)
    .await?;
    Ok(wait.filter(|secs| *secs > 0.0).map(|secs| secs.ceil() as u64))
}
