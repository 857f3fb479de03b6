//! A person's own security: changing the password, and throttling the checks that prove it is
//! them once their password has been verified (second-factor codes, the current password asked
//! again before a change).

use secrecy::SecretString;
use sqlx::PgPool;
use tower_sessions::session::Id;

use super::Member;
use super::audit::{self, Actor};
use super::login::{MAX_FAILURES, WINDOW_SECS};
use crate::password::{Password, PasswordHash, hash_password, verify_password};
use crate::{DomainError, FieldError};

/// One check of a second factor or of the current password, counted as a failure before it runs
/// (see [`begin_check`]): done right, [`Check::passed`] takes the failure back.
#[must_use = "a check must end with passed() or failed()"]
pub(crate) struct Check {
    failure_id: i64,
}

/// Starts a check for `member` from `client_addr`, or fails with `Throttled` while the person or the
/// address (an IPv6 /64) has used up its failed checks: the same rule as passwords at login
/// ([`MAX_FAILURES`] in [`WINDOW_SECS`], per person and per address), counted apart from login failures, so a throttled
/// second step does not lock the person out of the first one and the other way round.
///
/// As at login, the attempt is recorded as a failure first, under per-person and per-address
/// locks, so that checks sent at once are counted as they arrive: twenty codes sent together for
/// one person leave five checked, not twenty.
pub(crate) async fn begin_check(pool: &PgPool, member: &Member, client_addr: &str) -> Result<Check, DomainError> {
    // An IPv6 client is counted by its /64, as everywhere else (`throttle::address_key`).
    let client_addr = super::throttle::address_key(client_addr);
    let client_addr = client_addr.as_str();
    let mut tx = pool.begin().await?;
    // Always the person's lock before the address's: one order, so no two checks wait on each other.
    sqlx::query!("select pg_advisory_xact_lock(hashtextextended('verification_user:' || $1::uuid::text, 0))", member.user_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query!("select pg_advisory_xact_lock(hashtextextended('verification_addr:' || $1, 0))", client_addr).execute(&mut *tx).await?;
    // As in login.rs: for each key the MAX_FAILURES-th most recent failure in the window; checks
    // are allowed again once it is WINDOW_SECS old. greatest() ignores a key under the limit.
    let wait = sqlx::query_scalar!(
        r#"select greatest(
               (select extract(epoch from (failed_at + make_interval(secs => $3) - now()))
                  from verification_failure
                 where user_id = $1 and failed_at > now() - make_interval(secs => $3)
                 order by failed_at desc offset $4::bigint - 1 limit 1),
               (select extract(epoch from (failed_at + make_interval(secs => $3) - now()))
                  from verification_failure
                 where client_addr = $2 and failed_at > now() - make_interval(secs => $3)
                 order by failed_at desc offset $4::bigint - 1 limit 1)
           )::float8 as "wait_secs""#,
        member.user_id,
        client_addr,
        WINDOW_SECS as f64,
        MAX_FAILURES,
    )
    .fetch_one(&mut *tx)
    .await?;
    if let Some(secs) = wait.filter(|secs| *secs > 0.0) {
        return Err(DomainError::Throttled { retry_after_secs: secs.ceil() as u64 });
    }
    let failure_id = sqlx::query_scalar!(
        "insert into verification_failure (user_id, client_addr) values ($1, $2) returning verification_failure_id",
        member.user_id,
        client_addr
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Check { failure_id })
}

impl Check {
    /// The check passed: its provisional failure is taken back.
    pub(crate) async fn passed(self, pool: &PgPool) -> Result<(), DomainError> {
        sqlx::query!("delete from verification_failure where verification_failure_id = $1", self.failure_id).execute(pool).await?;
        Ok(())
    }

    /// The check failed: its failure stays counted, and is audited as `action` (never with what was typed).
    pub(crate) async fn failed(self, pool: &PgPool, member: &Member, client_addr: &str, action: &str) {
        let metadata = serde_json::json!({ "client_addr": client_addr });
        audit::record_after(
            pool,
            member.team_id,
            Actor::User(member.user_id),
            action,
            "member",
            Some(&member.user_id.to_string()),
            metadata,
        )
        .await;
    }
}

/// Whether `candidate` is the person's current password (throttled; a wrong one is counted and
/// audited as `audit_action`). Does not say which field was wrong: the caller does.
pub(crate) async fn password_matches(
    pool: &PgPool,
    member: &Member,
    candidate: SecretString,
    client_addr: &str,
    audit_action: &str,
) -> Result<bool, DomainError> {
    let check = begin_check(pool, member, client_addr).await?;
    let stored = sqlx::query_scalar!("select password_hash from app_user where user_id = $1", member.user_id)
        .fetch_optional(pool)
        .await?
        .ok_or(DomainError::NotFound)?;
    if verify_password(candidate, Some(PasswordHash::from_stored(stored))).await? {
        check.passed(pool).await?;
        return Ok(true);
    }
    check.failed(pool, member, client_addr, audit_action).await;
    Ok(false)
}

/// Changes the person's password after checking the current one (throttled), and signs out every
/// other session of theirs (`keep` is the asking request's): whoever knew the old password is out.
/// Audited as `password_changed` with how many sessions ended. Answers that count.
pub async fn change_password(
    pool: &PgPool,
    member: &Member,
    current: SecretString,
    new: Result<Password, FieldError>,
    keep: Option<Id>,
    client_addr: &str,
) -> Result<u64, DomainError> {
    if !password_matches(pool, member, current, client_addr, "password_change_failed").await? {
        return Err(FieldError::new("current_password", "That is not your current password. Type the one you log in with now.").into());
    }
    let new = new.map_err(|e| FieldError::new("new_password", e.message))?;
    let hash = hash_password(new).await?;
    let mut tx = pool.begin().await?;
    sqlx::query!("update app_user set password_hash = $2 where user_id = $1", member.user_id, hash.as_str()).execute(&mut *tx).await?;
    let signed_out = super::sessions::revoke_others(&mut *tx, member.user_id, keep).await?;
    let metadata = serde_json::json!({ "client_addr": client_addr, "other_sessions_signed_out": signed_out });
    audit::record(
        &mut *tx,
        member.team_id,
        Actor::User(member.user_id),
        "password_changed",
        "member",
        Some(&member.user_id.to_string()),
        metadata,
    )
    .await?;
    tx.commit().await?;
    Ok(signed_out)
}
