//! OAuth connections in progress: "Connect X" creates one (the `state` sent to the platform is
//! stored only as SHA-256, the PKCE verifier sealed); the callback consumes it exactly once, by the
//! same member, within [`CONNECTION_VALID_MINUTES`]; LinkedIn and Facebook then hold the sealed
//! grant here while the member chooses what to connect.

use crier_vault::Vault;
use secrecy::SecretString;
use sqlx::PgPool;
use uuid::Uuid;

use super::Member;
use crate::DomainError;
use crate::secret_token::hash_token;
use crier_platform::Platform;

/// How long a started connection may take, consent page and choice included.
pub const CONNECTION_VALID_MINUTES: i32 = 10;

fn verifier_aad(connection_id: Uuid) -> Vec<u8> {
    format!("oauth_connection:{connection_id}:verifier").into_bytes()
}

fn grant_aad(connection_id: Uuid) -> Vec<u8> {
    format!("oauth_connection:{connection_id}:grant").into_bytes()
}

/// Records a started connection. `state` is the random value in the authorize URL.
pub async fn begin(
    pool: &PgPool,
    vault: &Vault,
    member: &Member,
    platform: Platform,
    state: &str,
    pkce_verifier: Option<&SecretString>,
) -> Result<Uuid, DomainError> {
    let connection_id = Uuid::new_v4();
    let sealed = pkce_verifier.map(|v| vault.seal(v, &verifier_aad(connection_id)));
    sqlx::query!(
        r#"insert into oauth_connection (connection_id, team_id, user_id, platform, state_hash, pkce_verifier, expires_at)
           values ($1, $2, $3, $4, $5, $6, now() + make_interval(mins => $7))"#,
        connection_id,
        member.team_id,
        member.user_id,
        platform as Platform,
        hash_token(state),
        sealed,
        CONNECTION_VALID_MINUTES,
    )
    .execute(pool)
    .await?;
    Ok(connection_id)
}

/// A consumed callback: the connection and its PKCE verifier.
#[derive(Debug)]
pub struct CalledBack {
    /// The connection.
    pub connection_id: Uuid,
    /// The verifier to send with the code, when PKCE was used.
    pub pkce_verifier: Option<SecretString>,
}

/// Consumes the `state` a platform sent back. Unknown, already used, expired, started by someone
/// else or for another platform: all answer [`DomainError::ConnectionExpired`].
pub async fn consume_state(
    pool: &PgPool,
    vault: &Vault,
    member: &Member,
    platform: Platform,
    state: &str,
) -> Result<CalledBack, DomainError> {
    let row = sqlx::query!(
        r#"update oauth_connection set called_back_at = now()
           where state_hash = $1 and team_id = $2 and user_id = $3 and platform = $4
             and called_back_at is null and expires_at > now()
           returning connection_id, pkce_verifier"#,
        hash_token(state),
        member.team_id,
        member.user_id,
        platform as Platform,
    )
    .fetch_optional(pool)
    .await?
    .ok_or(DomainError::ConnectionExpired)?;
    let pkce_verifier = row
        .pkce_verifier
        .map(|sealed| vault.open(&sealed, &verifier_aad(row.connection_id)))
        .transpose()
        .map_err(|e| DomainError::SecretUnreadable(e.to_string()))?;
    Ok(CalledBack { connection_id: row.connection_id, pkce_verifier })
}

/// Holds the grant (tokens and choices, as JSON) while the member chooses.
pub async fn hold_grant(
    pool: &PgPool,
    vault: &Vault,
    member: &Member,
    connection_id: Uuid,
    grant: &SecretString,
) -> Result<(), DomainError> {
    let sealed = vault.seal(grant, &grant_aad(connection_id));
    let updated = sqlx::query!(
        r#"update oauth_connection set grant_payload = $4
           where connection_id = $1 and team_id = $2 and user_id = $3 and called_back_at is not null and expires_at > now()"#,
        connection_id,
        member.team_id,
        member.user_id,
        sealed,
    )
    .execute(pool)
    .await?;
    if updated.rows_affected() == 0 { Err(DomainError::ConnectionExpired) } else { Ok(()) }
}

/// The held grant of one of the member's connections, and its platform.
pub async fn grant(pool: &PgPool, vault: &Vault, member: &Member, connection_id: Uuid) -> Result<(Platform, SecretString), DomainError> {
    let row = sqlx::query!(
        r#"select platform as "platform: Platform", grant_payload as "grant_payload!"
           from oauth_connection
           where connection_id = $1 and team_id = $2 and user_id = $3 and grant_payload is not null and expires_at > now()"#,
        connection_id,
        member.team_id,
        member.user_id,
    )
    .fetch_optional(pool)
    .await?
    .ok_or(DomainError::ConnectionExpired)?;
    let grant = vault.open(&row.grant_payload, &grant_aad(connection_id)).map_err(|e| DomainError::SecretUnreadable(e.to_string()))?;
    Ok((row.platform, grant))
}

/// Ends a connection (done or cancelled): the held grant is deleted with it.
pub async fn finish(pool: &PgPool, member: &Member, connection_id: Uuid) -> Result<(), DomainError> {
    sqlx::query!(
        "delete from oauth_connection where connection_id = $1 and team_id = $2 and user_id = $3",
        connection_id,
        member.team_id,
        member.user_id
    )
    .execute(pool)
    .await?;
    Ok(())
}
