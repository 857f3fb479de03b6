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

/// Who a REST API request acts as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ApiCaller {
    /// The token (the audit trail's actor, and the rate limiter's key).
    pub api_token_id: Uuid,
    /// Its team: everything the request touches is scoped by it.
    pub team_id: Uuid,
    /// What it may do.
    pub role: Role,
}

/// Who a presented bearer token acts as; `None` if unknown or revoked. Records its use, at most
/// once a minute: "last used" is for people, and a busy script should not write a row per request.
pub async fn authenticate(pool: &PgPool, presented: &str) -> Result<Option<ApiCaller>, DomainError> {
    let row = sqlx::query!(
        r#"with found as (
               select api_token_id, team_id, role, last_used_at from api_token
               where token_hash = $1 and revoked_at is null
           ), used as (
               update api_token t set last_used_at = now() from found
               where t.api_token_id = found.api_token_id
                 and (found.last_used_at is null or found.last_used_at < now() - interval '1 minute')
           )
           select api_token_id as "api_token_id!", team_id as "team_id!", role as "role!: Role" from found"#,
        hash_token(presented)
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| ApiCaller { api_token_id: r.api_token_id, team_id: r.team_id, role: r.role }))
}
