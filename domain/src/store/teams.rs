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

/// Who may create a team by signing up (`CRIER_SIGNUP`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignUpPolicy {
    /// Anyone who reaches the instance.
    Open,
    /// The first team only (a fresh instance); after that people join by invitation.
    FirstTeamOnly,
    /// Nobody: people join by invitation, or an operator runs `crier admin create-user`.
    InviteOnly,
}

/// Whether the Sign up page offers its form under `policy` (a moment's answer: the first team may
/// be created meanwhile).
pub async fn sign_up_open(pool: &PgPool, policy: SignUpPolicy) -> Result<bool, DomainError> {
    Ok(match policy {
        SignUpPolicy::Open => true,
        SignUpPolicy::InviteOnly => false,
        SignUpPolicy::FirstTeamOnly => !sqlx::query_scalar!(r#"select exists(select 1 from team) as "exists!""#).fetch_one(pool).await?,
    })
}

/// Sign-up from the web: the instance's policy, then the client address's limit
/// ([`throttle::Costly::SignUp`](super::throttle::Costly)), then [`sign_up`].
pub async fn sign_up_from(
    pool: &PgPool,
    policy: SignUpPolicy,
    client_addr: &str,
    limits: &super::throttle::AddressLimits,
    team_name: TeamName,
    email: EmailAddress,
    password: Password,
) -> Result<Member, DomainError> {
    if !sign_up_open(pool, policy).await? {
        return Err(DomainError::SignUpClosed);
    }
    super::throttle::admit(pool, super::throttle::Costly::SignUp, client_addr, limits).await?;
    create_team(pool, team_name, email, password, policy == SignUpPolicy::FirstTeamOnly).await
}

/// Sign-up: creates a team with this person as its owner.
pub async fn sign_up(pool: &PgPool, team_name: TeamName, email: EmailAddress, password: Password) -> Result<Member, DomainError> {
    create_team(pool, team_name, email, password, false).await
}

/// Creates a team and its owner. The name and the address are checked before the password is
/// hashed (argon2 is the costly part; a taken name should not cost it), and again by the
/// constraints, which decide a race. With `only_first`, creating the team is refused once any team
/// exists, decided under a lock so two first sign-ups at once cannot both win.
async fn create_team(
    pool: &PgPool,
    team_name: TeamName,
    email: EmailAddress,
    password: Password,
    only_first: bool,
) -> Result<Member, DomainError> {
    let taken = sqlx::query!(
        r#"select exists(select 1 from team where lower(name) = lower($1)) as "team!",
                  exists(select 1 from app_user where email = $2) as "email!""#,
        team_name.as_str(),
        email.as_str()
    )
    .fetch_one(pool)
    .await?;
    if taken.team {
        return Err(team_name_taken(&team_name).into());
    }
    if taken.email {
        return Err(email_taken().into());
    }
    // Hash before opening the transaction: never hold a transaction across slow work.
    let hash = hash_password(password).await?;
    let mut tx = pool.begin().await?;
    if only_first {
        sqlx::query!("select pg_advisory_xact_lock(hashtextextended('crier:first-team', 0))").execute(&mut *tx).await?;
        if sqlx::query_scalar!(r#"select exists(select 1 from team) as "exists!""#).fetch_one(&mut *tx).await? {
            return Err(DomainError::SignUpClosed);
        }
    }
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
