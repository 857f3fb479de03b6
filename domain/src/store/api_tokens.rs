//! Team API tokens: created by a manager (or `crier admin create-token`), shown once, stored as a
//! hash, revocable. The REST API authenticates with [`authenticate`].

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::secret_token::{SecretToken, hash_token};
use crate::{DomainError, FieldError, Role, TeamName};

/// A token as listed in Settings (never the secret itself).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiTokenListing {
    /// The token's id.
    pub api_token_id: Uuid,
    /// Its label.
    pub name: String,
    /// The role it acts with.
    pub role: Role,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last used, if ever.
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A new token and its secret, to print once.
#[derive(Debug)]
pub struct CreatedApiToken {
    /// The token as listed.
    pub token: ApiTokenListing,
    /// The bearer secret.
    pub secret: SecretToken,
}

fn parse_label(name: &str) -> Result<String, FieldError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 80 {
        return Err(FieldError::new("name", "Give the token a label of 1 to 80 characters."));
    }
    Ok(name.to_owned())
}

/// Creates a token for a team.
pub async fn create(
    pool: &PgPool,
    team_id: Uuid,
    name: &str,
    role: Role,
    created_by: Option<Uuid>,
) -> Result<CreatedApiToken, DomainError> {
    let name = parse_label(name)?;
    if role == Role::Owner {
        return Err(FieldError::new("role", "A token acts as admin, editor or viewer.").into());
    }
    let secret = SecretToken::generate("crier_api_");
    let row = sqlx::query!(
        "insert into api_token (team_id, name, role, token_hash, created_by) values ($1, $2, $3, $4, $5) returning api_token_id, created_at",
        team_id,
        name,
        role as Role,
        secret.hash(),
        created_by,
    )
    .fetch_one(pool)
    .await?;
    let actor = created_by.map(super::audit::Actor::User).unwrap_or(super::audit::Actor::System);
    let metadata = serde_json::json!({ "name": name, "role": role.as_str() });
    super::audit::record_after(pool, team_id, actor, "token_created", "api_token", Some(&row.api_token_id.to_string()), metadata).await;
    Ok(CreatedApiToken {
        token: ApiTokenListing { api_token_id: row.api_token_id, name, role, created_at: row.created_at, last_used_at: None },
        secret,
    })
}

/// `crier admin create-token --team NAME`: creates a token for the team of that name.
pub async fn create_for_team_name(pool: &PgPool, team_name: &TeamName, name: &str, role: Role) -> Result<CreatedApiToken, DomainError> {
    let team_id = sqlx::query_scalar!("select team_id from team where lower(name) = lower($1)", team_name.as_str())
        .fetch_optional(pool)
        .await?
        .ok_or_else(|| FieldError::new("team", format!("There is no team named “{team_name}”.")))?;
    create(pool, team_id, name, role, None).await
}

/// The team's tokens that are not revoked.
pub async fn list(pool: &PgPool, team_id: Uuid) -> Result<Vec<ApiTokenListing>, DomainError> {
    Ok(sqlx::query_as!(
        ApiTokenListing,
        r#"select api_token_id, name, role as "role: Role", created_at, last_used_at
           from api_token where team_id = $1 and revoked_at is null order by created_at desc"#,
        team_id
    )
    .fetch_all(pool)
    .await?)
}

/// Revokes one of the team's tokens.
pub async fn revoke(pool: &PgPool, team_id: Uuid, api_token_id: Uuid) -> Result<(), DomainError> {
    let done = sqlx::query!(
        "update api_token set revoked_at = now() where api_token_id = $1 and team_id = $2 and revoked_at is null",
        api_token_id,
        team_id
    )
    .execute(pool)
    .await?;
    if done.rows_affected() == 0 { Err(DomainError::NotFound) } else { Ok(()) }
}

/// The team and role a presented bearer token acts as, recording its use; `None` if unknown or
/// revoked.
pub async fn authenticate(pool: &PgPool, presented: &str) -> Result<Option<(Uuid, Role)>, DomainError> {
    let row = sqlx::query!(
        r#"update api_token set last_used_at = now() where token_hash = $1 and revoked_at is null
           returning team_id, role as "role: Role""#,
        hash_token(presented)
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| (r.team_id, r.role)))
}
