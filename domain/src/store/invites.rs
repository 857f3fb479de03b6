//! Invitations: a manager creates a link for an email and a role; the person opens it, sets a
//! password and joins. Links are single-use and expire after [`INVITE_VALID_DAYS`] days.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::Member;
use crate::password::{Password, hash_password};
use crate::secret_token::{SecretToken, hash_token};
use crate::{DomainError, EmailAddress, FieldError, Role};

/// How long an invite link stays valid.
pub const INVITE_VALID_DAYS: i32 = 7;

/// A pending invitation, as the Members page lists it (the link itself is shown only once).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingInvite {
    /// The invite.
    pub invite_id: Uuid,
    /// Who is invited.
    pub email: String,
    /// The role they will have.
    pub role: Role,
    /// When the link stops working.
    pub expires_at: DateTime<Utc>,
}

/// A freshly created invite and its link token (shown once, never stored).
#[derive(Debug)]
pub struct CreatedInvite {
    /// The invite as listed.
    pub invite: PendingInvite,
    /// The secret that goes into `/invite/<token>`.
    pub token: SecretToken,
}

/// Creates an invite link for `email` to join the actor's team with `role`.
pub async fn create(pool: &PgPool, actor: &Member, email: EmailAddress, role: Role) -> Result<CreatedInvite, DomainError> {
    actor.require_manager()?;
    if role == Role::Owner {
        return Err(FieldError::new("role", "Invite as admin, editor or viewer; promote to owner once they have joined.").into());
    }
    // Within the team only: whether the address has an account in another team is none of this
    // team's business (and must not be learnable by inviting it).
    let known = sqlx::query!(
        r#"select exists(select 1 from app_user where email = $1 and team_id = $2) as "member!",
                  exists(select 1 from invite where email = $1 and team_id = $2 and accepted_at is null and revoked_at is null
                                and expires_at > now()) as "invited!""#,
        email.as_str(),
        actor.team_id
    )
    .fetch_one(pool)
    .await?;
    if known.member {
        return Err(FieldError::new("email", "This person is already a member of your team.").into());
    }
    if known.invited {
        return Err(FieldError::new("email", "This address already has a pending invitation: revoke it to send a new one.").into());
    }
    let token = SecretToken::generate("crier_inv_");
    let row = sqlx::query!(
        r#"insert into invite (team_id, email, role, token_hash, invited_by, expires_at)
           values ($1, $2, $3, $4, $5, now() + make_interval(days => $6))
           returning invite_id, expires_at"#,
        actor.team_id,
        email.as_str(),
        role as Role,
        token.hash(),
        actor.user_id,
        INVITE_VALID_DAYS,
    )
    .fetch_one(pool)
    .await?;
    Ok(CreatedInvite {
        invite: PendingInvite { invite_id: row.invite_id, email: email.to_string(), role, expires_at: row.expires_at },
        token,
    })
}

/// Invites of the team not yet used, revoked or expired, newest first.
pub async fn list_pending(pool: &PgPool, team_id: Uuid) -> Result<Vec<PendingInvite>, DomainError> {
    Ok(sqlx::query_as!(
        PendingInvite,
        r#"select invite_id, email, role as "role: Role", expires_at from invite
           where team_id = $1 and accepted_at is null and revoked_at is null and expires_at > now()
           order by created_at desc"#,
        team_id
    )
    .fetch_all(pool)
    .await?)
}

/// Revokes a pending invite of the actor's team.
pub async fn revoke(pool: &PgPool, actor: &Member, invite_id: Uuid) -> Result<(), DomainError> {
    actor.require_manager()?;
    let revoked = sqlx::query!(
        "update invite set revoked_at = now() where invite_id = $1 and team_id = $2 and accepted_at is null and revoked_at is null",
        invite_id,
        actor.team_id
    )
    .execute(pool)
    .await?;
    if revoked.rows_affected() == 0 { Err(DomainError::NotFound) } else { Ok(()) }
}

/// What the invite page shows before the person joins.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InviteDetails {
    /// The team they are invited to.
    pub team_name: String,
    /// The invited address.
    pub email: String,
    /// The role they will have.
    pub role: Role,
}

/// Looks up a valid invite by its link token.
pub async fn find_by_token(pool: &PgPool, token: &str) -> Result<InviteDetails, DomainError> {
    sqlx::query_as!(
        InviteDetails,
        r#"select t.name as team_name, i.email, i.role as "role: Role"
           from invite i join team t using (team_id)
           where i.token_hash = $1 and i.accepted_at is null and i.revoked_at is null and i.expires_at > now()"#,
        hash_token(token)
    )
    .fetch_optional(pool)
    .await?
    .ok_or(DomainError::InviteInvalid)
}

/// Uses an invite from `client_addr`: creates the person with the chosen password and marks the
/// link used, in one transaction, so a link can only ever be used once. The link is checked (and
/// the address's limit, [`Costly::InviteAcceptance`](super::throttle::Costly)) before the password
/// is hashed: a made-up link costs no argon2 run.
pub async fn accept(
    pool: &PgPool,
    token: &str,
    password: Password,
    client_addr: &str,
    limits: &super::throttle::AddressLimits,
) -> Result<Member, DomainError> {
    super::throttle::admit(pool, super::throttle::Costly::InviteAcceptance, client_addr, limits).await?;
    find_by_token(pool, token).await?;
    let hash = hash_password(password).await?;
    let mut tx = pool.begin().await?;
    let invite = sqlx::query!(
        r#"select i.invite_id, i.team_id, t.name as team_name, i.email, i.role as "role: Role"
           from invite i join team t using (team_id)
           where i.token_hash = $1 and i.accepted_at is null and i.revoked_at is null and i.expires_at > now()
           for update of i"#,
        hash_token(token)
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(DomainError::InviteInvalid)?;
    let user_id = sqlx::query_scalar!(
        "insert into app_user (team_id, email, password_hash, role) values ($1, $2, $3, $4) returning user_id",
        invite.team_id,
        invite.email,
        hash.as_str(),
        invite.role as Role,
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| {
        DomainError::on_constraint(
            e,
            "app_user_email_key",
            FieldError::new("password", "This email already belongs to a Crier account: log in instead."),
        )
    })?;
    sqlx::query!("update invite set accepted_at = now() where invite_id = $1", invite.invite_id).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(Member {
        user_id,
        team_id: invite.team_id,
        team_name: invite.team_name,
        email: invite.email,
        role: invite.role,
        timezone: crate::timezone::TimeZone::UTC,
    })
}
