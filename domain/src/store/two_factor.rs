//! Two-factor sign-in for a person: setting it up (a secret sealed by the vault, confirmed with a
//! current code, ten recovery codes), checking the second step at login (codes throttled like
//! passwords, a code's step accepted once, a recovery code once), turning it off, and the team rule
//! that requires it. Secrets and codes are never logged or audited.

use chrono::{DateTime, Utc};
use crier_vault::Vault;
use secrecy::{ExposeSecret, SecretString};
use sqlx::PgPool;
use uuid::Uuid;

use super::Member;
use super::accounts::ResealReport;
use super::audit::{self, Actor};
use super::security::{begin_check, password_matches};
use crate::two_factor::{TotpSecret, generate_recovery_codes, looks_like_totp_code, now_unix, recovery_code_hash};
use crate::{DomainError, FieldError};

/// The associated data binding a sealed TOTP secret to its person's row.
fn secret_aad(user_id: Uuid) -> Vec<u8> {
    format!("two_factor:{user_id}:secret").into_bytes()
}

/// A person's two-factor settings, as the Security page shows them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TwoFactorStatus {
    /// When it was turned on (`None`: off, or being set up).
    pub enabled_at: Option<DateTime<Utc>>,
    /// Recovery codes not used yet.
    pub recovery_codes_left: i64,
    /// Whether their team requires it.
    pub team_requires: bool,
}

/// The person's two-factor settings.
pub async fn status(pool: &PgPool, member: &Member) -> Result<TwoFactorStatus, DomainError> {
    let row = sqlx::query!(
        r#"select (select enabled_at from two_factor where user_id = $1) as enabled_at,
                  (select count(*) from recovery_code where user_id = $1 and used_at is null) as "left!",
                  (select require_two_factor from team where team_id = $2) as "team_requires!""#,
        member.user_id,
        member.team_id,
    )
    .fetch_one(pool)
    .await?;
    Ok(TwoFactorStatus { enabled_at: row.enabled_at, recovery_codes_left: row.left, team_requires: row.team_requires })
}

/// What a verified password leads to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NextStep {
    /// Nothing more: sign in.
    SignIn,
    /// Ask for a code from the authenticator app (or a recovery code).
    Verify,
    /// The team requires two-factor and the person has none: set it up first.
    SetUp,
}

/// What must happen after the person's password was verified.
pub async fn next_step(pool: &PgPool, member: &Member) -> Result<NextStep, DomainError> {
    let row = sqlx::query!(
        r#"select exists (select 1 from two_factor where user_id = $1 and enabled_at is not null) as "enabled!",
                  (select require_two_factor from team where team_id = $2) as "team_requires!""#,
        member.user_id,
        member.team_id,
    )
    .fetch_one(pool)
    .await?;
    Ok(match (row.enabled, row.team_requires) {
        (true, _) => NextStep::Verify,
        (false, true) => NextStep::SetUp,
        (false, false) => NextStep::SignIn,
    })
}

fn already_on() -> DomainError {
    DomainError::Refused("Two-factor sign-in is already on. Turn it off first to move it to another app.".into())
}

fn open_secret(vault: &Vault, member: &Member, sealed: &[u8]) -> Result<TotpSecret, DomainError> {
    let text = vault.open(sealed, &secret_aad(member.user_id)).map_err(|e| DomainError::SecretUnreadable(e.to_string()))?;
    TotpSecret::from_base32(&text, &member.email)
        .ok_or_else(|| DomainError::SecretUnreadable("the sealed TOTP secret is not base32".into()))
}

/// The secret being set up for the person (made on first call, the same one until confirmed, so
/// a reload shows the same QR code). Refused once two-factor is on.
pub async fn begin_setup(pool: &PgPool, vault: &Vault, member: &Member) -> Result<TotpSecret, DomainError> {
    let existing =
        sqlx::query!("select secret, enabled_at from two_factor where user_id = $1", member.user_id).fetch_optional(pool).await?;
    match existing {
        Some(row) if row.enabled_at.is_some() => return Err(already_on()),
        // A secret that no longer opens (the key was rotated away) is simply replaced.
        Some(row) => {
            if let Ok(secret) = open_secret(vault, member, &row.secret) {
                return Ok(secret);
            }
        }
        None => {}
    }
    let secret = TotpSecret::generate(&member.email);
    let sealed = vault.seal(&secret.base32(), &secret_aad(member.user_id));
    // Two tabs starting at once: the first secret written wins and both show it.
    sqlx::query!(
        r#"insert into two_factor (user_id, secret) values ($1, $2)
           on conflict (user_id) do update set secret = excluded.secret, created_at = now() where two_factor.enabled_at is null"#,
        member.user_id,
        sealed,
    )
    .execute(pool)
    .await?;
    let row = sqlx::query!("select secret, enabled_at from two_factor where user_id = $1", member.user_id).fetch_one(pool).await?;
    if row.enabled_at.is_some() {
        return Err(already_on());
    }
    open_secret(vault, member, &row.secret)
}

fn wrong_code(field: &str) -> DomainError {
    FieldError::new(field, "That code is not right. Type the 6 digits your authenticator app shows now (they change every 30 seconds).")
        .into()
}

/// Turns two-factor on once `code` proves the person's app has the secret from
/// [`begin_setup`]: throttled like passwords, the code's step counts as used. Makes ten recovery
/// codes (any older ones are dropped) and answers them, to be shown once. Audited as
/// `two_factor_enabled`.
pub async fn confirm_setup(
    pool: &PgPool,
    vault: &Vault,
    member: &Member,
    code: &str,
    client_addr: &str,
) -> Result<Vec<SecretString>, DomainError> {
    let row = sqlx::query!("select secret, enabled_at from two_factor where user_id = $1", member.user_id).fetch_optional(pool).await?;
    let Some(row) = row else {
        return Err(DomainError::Refused("Start again: open Settings → Security and set up two-factor sign-in.".into()));
    };
    if row.enabled_at.is_some() {
        return Err(already_on());
    }
    let secret = open_secret(vault, member, &row.secret)?;
    let check = begin_check(pool, member, client_addr).await?;
    let Some(step) = secret.matching_step(code, now_unix()) else {
        check.failed(pool, member, client_addr, "two_factor_failed").await;
        return Err(wrong_code("code"));
    };
    check.passed(pool).await?;
    let codes = generate_recovery_codes();
    let hashes: Vec<Vec<u8>> = codes.iter().map(|c| recovery_code_hash(c.expose_secret())).collect();
    let mut tx = pool.begin().await?;
    let enabled = sqlx::query!(
        "update two_factor set enabled_at = now(), last_used_step = $2 where user_id = $1 and enabled_at is null and secret = $3",
        member.user_id,
        step as i64,
        row.secret,
    )
    .execute(&mut *tx)
    .await?;
    if enabled.rows_affected() != 1 {
        // Another tab confirmed (or restarted) the setup meanwhile.
        return Err(already_on());
    }
    sqlx::query!("delete from recovery_code where user_id = $1", member.user_id).execute(&mut *tx).await?;
    sqlx::query!("insert into recovery_code (user_id, code_hash) select $1, unnest($2::bytea[])", member.user_id, &hashes)
        .execute(&mut *tx)
        .await?;
    let metadata = serde_json::json!({ "client_addr": client_addr, "recovery_codes": codes.len() });
    audit::record(
        &mut *tx,
        member.team_id,
        Actor::User(member.user_id),
        "two_factor_enabled",
        "member",
        Some(&member.user_id.to_string()),
        metadata,
    )
    .await?;
    tx.commit().await?;
    Ok(codes)
}

/// How the second step was passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecondFactor {
    /// A code from the authenticator app.
    Totp,
    /// A recovery code (now used up); how many are left.
    RecoveryCode {
        /// Unused recovery codes left.
        left: i64,
    },
}

impl SecondFactor {
    /// The audit trail's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            SecondFactor::Totp => "totp",
            SecondFactor::RecoveryCode { .. } => "recovery_code",
        }
    }
}

/// Accepts a current code from the person's app whose step is later than the last one accepted
/// (so an observed code cannot be used again), recording its step.
async fn accept_totp(pool: &PgPool, vault: &Vault, member: &Member, code: &str) -> Result<bool, DomainError> {
    let row = sqlx::query!("select secret from two_factor where user_id = $1 and enabled_at is not null", member.user_id)
        .fetch_optional(pool)
        .await?;
    let Some(row) = row else { return Ok(false) };
    let Some(step) = open_secret(vault, member, &row.secret)?.matching_step(code, now_unix()) else { return Ok(false) };
    // One statement decides, so two requests with the same code cannot both pass.
    let accepted = sqlx::query!(
        r#"update two_factor set last_used_step = $2
            where user_id = $1 and enabled_at is not null and (last_used_step is null or last_used_step < $2)"#,
        member.user_id,
        step as i64,
    )
    .execute(pool)
    .await?;
    Ok(accepted.rows_affected() == 1)
}

/// Uses up one of the person's recovery codes; answers how many are left, or `None` when the code
/// is not one of theirs or was used before.
async fn use_recovery_code(pool: &PgPool, member: &Member, code: &str) -> Result<Option<i64>, DomainError> {
    let used = sqlx::query!(
        r#"update recovery_code set used_at = now()
            where user_id = $1 and code_hash = $2 and used_at is null
              and exists (select 1 from two_factor where user_id = $1 and enabled_at is not null)"#,
        member.user_id,
        recovery_code_hash(code),
    )
    .execute(pool)
    .await?;
    if used.rows_affected() != 1 {
        return Ok(None);
    }
    let left =
        sqlx::query_scalar!(r#"select count(*) as "left!" from recovery_code where user_id = $1 and used_at is null"#, member.user_id)
            .fetch_one(pool)
            .await?;
    Ok(Some(left))
}

/// The second step of signing in: a current code from the app, or a recovery code. Throttled like
/// passwords (per person and per address); failures are audited as `two_factor_failed`, a used
/// recovery code as `recovery_code_used`.
pub async fn verify(pool: &PgPool, vault: &Vault, member: &Member, input: &str, client_addr: &str) -> Result<SecondFactor, DomainError> {
    let check = begin_check(pool, member, client_addr).await?;
    if looks_like_totp_code(input) {
        if accept_totp(pool, vault, member, input).await? {
            check.passed(pool).await?;
            return Ok(SecondFactor::Totp);
        }
    } else if let Some(left) = use_recovery_code(pool, member, input).await? {
        check.passed(pool).await?;
        let metadata = serde_json::json!({ "client_addr": client_addr, "recovery_codes_left": left });
        audit::record_after(
            pool,
            member.team_id,
            Actor::User(member.user_id),
            "recovery_code_used",
            "member",
            Some(&member.user_id.to_string()),
            metadata,
        )
        .await;
        return Ok(SecondFactor::RecoveryCode { left });
    }
    check.failed(pool, member, client_addr, "two_factor_failed").await;
    Err(FieldError::new(
        "code",
        "That code is not right, or was already used. Type the 6 digits your authenticator app shows now, or one of your unused recovery codes.",
    )
    .into())
}

/// Turns two-factor off after `proof`: a current code from the app (six digits) or the person's
/// password. Refused while the team requires it. Drops the secret and the recovery codes; audited
/// as `two_factor_disabled`.
pub async fn disable(pool: &PgPool, vault: &Vault, member: &Member, proof: SecretString, client_addr: &str) -> Result<(), DomainError> {
    let current = status(pool, member).await?;
    if current.enabled_at.is_none() {
        return Err(DomainError::Refused("Two-factor sign-in is already off.".into()));
    }
    if current.team_requires {
        return Err(DomainError::Refused(
            "Your team requires two-factor sign-in, so it cannot be turned off. An owner can change that in Settings.".into(),
        ));
    }
    let method = if looks_like_totp_code(proof.expose_secret()) {
        let check = begin_check(pool, member, client_addr).await?;
        if !accept_totp(pool, vault, member, proof.expose_secret()).await? {
            check.failed(pool, member, client_addr, "two_factor_failed").await;
            return Err(FieldError::new(
                "proof",
                "That code is not right, or was already used. Type the 6 digits your app shows now, or your password.",
            )
            .into());
        }
        check.passed(pool).await?;
        "totp"
    } else {
        if !password_matches(pool, member, proof, client_addr, "two_factor_failed").await? {
            return Err(FieldError::new(
                "proof",
                "That is neither a current code nor your password. Type the 6 digits your app shows now, or your password.",
            )
            .into());
        }
        "password"
    };
    let mut tx = pool.begin().await?;
    sqlx::query!("delete from two_factor where user_id = $1", member.user_id).execute(&mut *tx).await?;
    sqlx::query!("delete from recovery_code where user_id = $1", member.user_id).execute(&mut *tx).await?;
    let metadata = serde_json::json!({ "client_addr": client_addr, "confirmed_with": method });
    audit::record(
        &mut *tx,
        member.team_id,
        Actor::User(member.user_id),
        "two_factor_disabled",
        "member",
        Some(&member.user_id.to_string()),
        metadata,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Whether the team requires two-factor sign-in.
pub async fn team_requires(pool: &PgPool, team_id: Uuid) -> Result<bool, DomainError> {
    sqlx::query_scalar!("select require_two_factor from team where team_id = $1", team_id)
        .fetch_optional(pool)
        .await?
        .ok_or(DomainError::NotFound)
}

/// An owner requires (or stops requiring) two-factor sign-in for the whole team: members without
/// it are led to set it up at their next sign-in. To require it, the owner must have it on
/// themselves (they would otherwise be sent to set it up at their own next sign-in). Audited as
/// `two_factor_required_changed`.
pub async fn set_team_requirement(pool: &PgPool, member: &Member, required: bool) -> Result<(), DomainError> {
    if member.role != crate::Role::Owner {
        return Err(DomainError::Forbidden);
    }
    if required && status(pool, member).await?.enabled_at.is_none() {
        return Err(DomainError::Refused(
            "Turn on two-factor sign-in for yourself first (Settings → Security), then require it for the team.".into(),
        ));
    }
    let mut tx = pool.begin().await?;
    let before = sqlx::query_scalar!("select require_two_factor from team where team_id = $1 for update", member.team_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(DomainError::NotFound)?;
    if before == required {
        return Ok(());
    }
    sqlx::query!("update team set require_two_factor = $2 where team_id = $1", member.team_id, required).execute(&mut *tx).await?;
    let metadata = serde_json::json!({ "from": before, "to": required });
    audit::record(
        &mut *tx,
        member.team_id,
        Actor::User(member.user_id),
        "two_factor_required_changed",
        "team",
        Some(&member.team_id.to_string()),
        metadata,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Re-encrypts every TOTP secret under the vault's current key (`crier admin rotate-key`), each in
/// its own short update checked against the value read.
pub async fn reseal_all(pool: &PgPool, vault: &Vault) -> Result<ResealReport, DomainError> {
    let rows = sqlx::query!("select user_id, secret from two_factor").fetch_all(pool).await?;
    let mut report = ResealReport::default();
    for row in rows {
        if !vault.needs_reseal(&row.secret) {
            report.current += 1;
            continue;
        }
        match vault.reseal(&row.secret, &secret_aad(row.user_id)) {
            Ok(resealed) => {
                sqlx::query!("update two_factor set secret = $3 where user_id = $1 and secret = $2", row.user_id, row.secret, resealed)
                    .execute(pool)
                    .await?;
                report.resealed += 1;
            }
            Err(_) => report.unreadable += 1,
        }
    }
    Ok(report)
}
