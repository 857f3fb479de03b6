//! Creating teams and people: sign-up, and the operator's `crier admin create-user`.

use sqlx::PgPool;

use super::Member;
use super::audit::{self, Actor};
use crate::password::{Password, hash_password};
use crate::retry::RetryPolicy;
use crate::{DomainError, EmailAddress, FieldError, Role, TeamName};

fn team_name_taken(name: &TeamName) -> FieldError {
    FieldError::new("team_name", format!("A team named “{name}” already exists. Choose another name, or ask its owner for an invite."))
}

fn email_taken() -> FieldError {
    FieldError::new("email", "An account with this email already exists. Log in instead.")
}

/// Sign-up: creates a team with this person as its owner.
pub async fn sign_up(pool: &PgPool, team_name: TeamName, email: EmailAddress, password: Password) -> Result<Member, DomainError> {
    // Hash before opening the transaction: never hold a transaction across slow work.
    let hash = hash_password(password).await?;
    let mut tx = pool.begin().await?;
    let team_id = sqlx::query_scalar!("insert into team (name) values ($1) returning team_id", team_name.as_str())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| DomainError::on_constraint(e, "team_name_key", team_name_taken(&team_name)))?;
    let user_id = sqlx::query_scalar!(
        "insert into app_user (team_id, email, password_hash, role) values ($1, $2, $3, 'owner') returning user_id",
        team_id,
        email.as_str(),
        hash.as_str(),
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| DomainError::on_constraint(e, "app_user_email_key", email_taken()))?;
    tx.commit().await?;
    Ok(Member {
        user_id,
        team_id,
        team_name: team_name.to_string(),
        email: email.to_string(),
        role: Role::Owner,
        timezone: crate::timezone::TimeZone::UTC,
    })
}

/// What `create_user` did.
#[derive(Debug)]
pub struct CreatedUser {
    /// The new member.
    pub member: Member,
    /// Whether the team was created for them (then they are its owner).
    pub created_team: bool,
}

/// `crier admin create-user`: adds a person to the team named `team_name`, creating the team
/// (with them as owner) when it does not exist. `role` applies when joining an existing team.
pub async fn create_user(
    pool: &PgPool,
    team_name: TeamName,
    email: EmailAddress,
    password: Password,
    role: Role,
) -> Result<CreatedUser, DomainError> {
    let hash = hash_password(password).await?;
    let mut tx = pool.begin().await?;
    let existing = sqlx::query!("select team_id, name from team where lower(name) = lower($1) for update", team_name.as_str())
        .fetch_optional(&mut *tx)
        .await?;
    let (team_id, stored_name, created_team) = match existing {
        Some(team) => (team.team_id, team.name, false),
        None => {
            let team_id = sqlx::query_scalar!("insert into team (name) values ($1) returning team_id", team_name.as_str())
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| DomainError::on_constraint(e, "team_name_key", team_name_taken(&team_name)))?;
            (team_id, team_name.to_string(), true)
        }
    };
    let role = if created_team { Role::Owner } else { role };
    let user_id = sqlx::query_scalar!(
        "insert into app_user (team_id, email, password_hash, role) values ($1, $2, $3, $4) returning user_id",
        team_id,
        email.as_str(),
        hash.as_str(),
        role as Role,
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| DomainError::on_constraint(e, "app_user_email_key", email_taken()))?;
    tx.commit().await?;
    Ok(CreatedUser {
        member: Member {
            user_id,
            team_id,
            team_name: stored_name,
            email: email.to_string(),
            role,
            timezone: crate::timezone::TimeZone::UTC,
        },
        created_team,
    })
}

/// The id of the team with this name (case-insensitive), for the admin CLI.
pub async fn id_by_name(pool: &PgPool, team_name: &TeamName) -> Result<uuid::Uuid, DomainError> {
    sqlx::query_scalar!("select team_id from team where lower(name) = lower($1)", team_name.as_str())
        .fetch_optional(pool)
        .await?
        .ok_or_else(|| crate::FieldError::new("team", format!("There is no team named “{team_name}”.")).into())
}

/// The team's default retry policy (a post without its own uses it).
pub async fn retry_policy(pool: &PgPool, team_id: uuid::Uuid) -> Result<RetryPolicy, DomainError> {
    let row = sqlx::query!("select max_attempts, retry_base_seconds from team where team_id = $1", team_id)
        .fetch_optional(pool)
        .await?
        .ok_or(DomainError::NotFound)?;
    Ok(RetryPolicy { max_attempts: row.max_attempts, first_retry_seconds: row.retry_base_seconds })
}

/// Sets the team's default retry policy for posts scheduled from now on (posts already written keep
/// theirs). Records `retry_policy_changed` with the old and new values.
pub async fn set_retry_policy(pool: &PgPool, team_id: uuid::Uuid, actor: Actor, policy: RetryPolicy) -> Result<(), DomainError> {
    let mut tx = pool.begin().await?;
    let old = sqlx::query!("select max_attempts, retry_base_seconds from team where team_id = $1 for update", team_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(DomainError::NotFound)?;
    sqlx::query!(
        "update team set max_attempts = $2, retry_base_seconds = $3 where team_id = $1",
        team_id,
        policy.max_attempts,
        policy.first_retry_seconds
    )
    .execute(&mut *tx)
    .await?;
    let metadata = serde_json::json!({
        "max_attempts": { "from": old.max_attempts, "to": policy.max_attempts },
        "retry_base_seconds": { "from": old.retry_base_seconds, "to": policy.first_retry_seconds },
    });
    audit::record(&mut *tx, team_id, actor, "retry_policy_changed", "team", Some(&team_id.to_string()), metadata).await?;
    tx.commit().await?;
    Ok(())
}
