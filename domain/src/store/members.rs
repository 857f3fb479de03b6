//! The members of a team: look-up for the signed-in person, listing, re-roling and removal.

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use super::Member;
use crate::timezone::TimeZone;
use crate::{DomainError, Role};

/// Loads the member a session points at; `None` once they have been removed.
pub async fn find(pool: &PgPool, user_id: Uuid) -> Result<Option<Member>, DomainError> {
    let row = sqlx::query!(
        r#"select u.user_id, u.team_id, t.name as team_name, u.email, u.role as "role: Role", u.timezone
           from app_user u join team t using (team_id) where u.user_id = $1"#,
        user_id
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| Member {
        user_id: r.user_id,
        team_id: r.team_id,
        team_name: r.team_name,
        email: r.email,
        role: r.role,
        timezone: TimeZone::from_stored(&r.timezone),
    }))
}

/// The member of `team_id` with `email`, or (without one) the team's earliest owner: whom an
/// operator's command acts as. `None` when the team has no such member.
pub async fn in_team(pool: &PgPool, team_id: Uuid, email: Option<&crate::EmailAddress>) -> Result<Option<Member>, DomainError> {
    let user_id = sqlx::query_scalar!(
        r#"select user_id from app_user
           where team_id = $1 and case when $2::text is null then role = 'owner' else email = $2 end
           order by created_at, user_id limit 1"#,
        team_id,
        email.map(|e| e.as_str())
    )
    .fetch_optional(pool)
    .await?;
    match user_id {
        Some(user_id) => find(pool, user_id).await,
        None => Ok(None),
    }
}

/// Sets the timezone a member sees and enters times in.
pub async fn set_timezone(pool: &PgPool, member: &Member, timezone: TimeZone) -> Result<(), DomainError> {
    sqlx::query!("update app_user set timezone = $2 where user_id = $1", member.user_id, timezone.name()).execute(pool).await?;
    Ok(())
}

/// One row of the Members page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberListing {
    /// The person.
    pub user_id: Uuid,
    /// Their email address.
    pub email: String,
    /// Their role.
    pub role: Role,
    /// When they joined.
    pub joined_at: DateTime<Utc>,
}

/// The members of the caller's team, owners first, then by email.
pub async fn list(pool: &PgPool, team_id: Uuid) -> Result<Vec<MemberListing>, DomainError> {
    let rows = sqlx::query_as!(
        MemberListing,
        r#"select user_id, email, role as "role: Role", created_at as joined_at
           from app_user where team_id = $1 order by role, email"#,
        team_id
    )
    .fetch_all(pool)
    .await?;
    Ok(rows)
}

/// Locks the team row so that concurrent changes to its owners are serialised, then fetches the
/// target member's current role within the actor's team.
async fn lock_target(tx: &mut Transaction<'_, Postgres>, actor: &Member, user_id: Uuid) -> Result<Role, DomainError> {
    sqlx::query!("select team_id from team where team_id = $1 for update", actor.team_id).fetch_one(&mut **tx).await?;
    sqlx::query_scalar!(r#"select role as "role: Role" from app_user where user_id = $1 and team_id = $2"#, user_id, actor.team_id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(DomainError::NotFound)
}

async fn owner_count(tx: &mut Transaction<'_, Postgres>, team_id: Uuid) -> Result<i64, DomainError> {
    Ok(sqlx::query_scalar!(r#"select count(*) as "count!" from app_user where team_id = $1 and role = 'owner'"#, team_id)
        .fetch_one(&mut **tx)
        .await?)
}

/// Owners and admins manage members; only an owner may grant or take away ownership; the last
/// owner can be neither demoted nor removed.
fn check_may_change(actor: &Member, current: Role, new: Option<Role>) -> Result<(), DomainError> {
    actor.require_manager()?;
    let touches_ownership = current == Role::Owner || new == Some(Role::Owner);
    if touches_ownership && actor.role != Role::Owner {
        return Err(DomainError::Forbidden);
    }
    Ok(())
}

/// Gives a member of the actor's team a new role.
pub async fn change_role(pool: &PgPool, actor: &Member, user_id: Uuid, new_role: Role) -> Result<(), DomainError> {
    let mut tx = pool.begin().await?;
    let current = lock_target(&mut tx, actor, user_id).await?;
    check_may_change(actor, current, Some(new_role))?;
    if current == Role::Owner && new_role != Role::Owner && owner_count(&mut tx, actor.team_id).await? <= 1 {
        return Err(DomainError::LastOwner);
    }
    sqlx::query!("update app_user set role = $1 where user_id = $2 and team_id = $3", new_role as Role, user_id, actor.team_id)
        .execute(&mut *tx)
        .await?;
    super::api_tokens::follow_member(&mut tx, actor, user_id, Some(new_role)).await?;
    tx.commit().await?;
    Ok(())
}

/// Removes a member of the actor's team. Their sessions stop working at their next request,
/// because every request loads the member afresh; their API tokens are revoked and the invitations
/// they sent withdrawn.
pub async fn remove(pool: &PgPool, actor: &Member, user_id: Uuid) -> Result<(), DomainError> {
    let mut tx = pool.begin().await?;
    let current = lock_target(&mut tx, actor, user_id).await?;
    check_may_change(actor, current, None)?;
    if current == Role::Owner && owner_count(&mut tx, actor.team_id).await? <= 1 {
        return Err(DomainError::LastOwner);
    }
    super::api_tokens::follow_member(&mut tx, actor, user_id, None).await?;
    sqlx::query!("delete from app_user where user_id = $1 and team_id = $2", user_id, actor.team_id).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}
