//! Team API tokens: created by a manager (or `crier admin create-token`), shown once, stored as a
//! hash, revocable, optionally expiring. A member's tokens follow the member: revoked when they
//! leave the team, cut down to their new role when they are demoted ([`follow_member`]). The REST
//! API authenticates with [`authenticate`], which also counts the request against the token's
//! rate limit, in PostgreSQL, so the limit holds across every web process.
//!
//! What is a person's act (a review decision, a comment) a token does as the member who created it,
//! with no more than the token's role ([`acting_member`]); posts a token writes count as that
//! member's ([`author`]), so nobody approves, through a token, a post they wrote.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::Member;
use super::audit::Actor;
use crate::budget::Budget;
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
    /// When it stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
}

/// How long a token may be made to last at most when it expires at all (a year).
pub const MAX_EXPIRY_DAYS: i64 = 366;

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

/// Parses a form's "Expires after (days)": empty for never, else 1 to [`MAX_EXPIRY_DAYS`].
pub fn parse_expiry_days(raw: &str) -> Result<Option<i64>, FieldError> {
    let raw = raw.trim();
    if raw.is_empty() || raw == "never" {
        return Ok(None);
    }
    raw.parse::<i64>()
        .ok()
        .filter(|d| (1..=MAX_EXPIRY_DAYS).contains(d))
        .map(Some)
        .ok_or_else(|| FieldError::new("expires_in_days", format!("Choose never, or 1 to {MAX_EXPIRY_DAYS} days.")))
}

/// Creates a token for a team, acting with `role` (not owner), expiring after `expires_in_days`
/// (never with `None`).
pub async fn create(
    pool: &PgPool,
    team_id: Uuid,
    name: &str,
    role: Role,
    created_by: Option<Uuid>,
    expires_in_days: Option<i64>,
) -> Result<CreatedApiToken, DomainError> {
    let name = parse_label(name)?;
    if role == Role::Owner {
        return Err(FieldError::new("role", "A token acts as admin, editor or viewer.").into());
    }
    if let Some(days) = expires_in_days
        && !(1..=MAX_EXPIRY_DAYS).contains(&days)
    {
        return Err(FieldError::new("expires_in_days", format!("Choose never, or 1 to {MAX_EXPIRY_DAYS} days.")).into());
    }
    let secret = SecretToken::generate("crier_api_");
    let row = sqlx::query!(
        r#"insert into api_token (team_id, name, role, token_hash, created_by, expires_at)
           values ($1, $2, $3, $4, $5, now() + make_interval(days => $6::int4))
           returning api_token_id, created_at, expires_at"#,
        team_id,
        name,
        role as Role,
        secret.hash(),
        created_by,
        expires_in_days.map(|d| d as i32),
    )
    .fetch_one(pool)
    .await?;
    let actor = created_by.map(super::audit::Actor::User).unwrap_or(super::audit::Actor::System);
    let metadata = serde_json::json!({ "name": name, "role": role.as_str(), "expires_at": row.expires_at });
    super::audit::record_after(pool, team_id, actor, "token_created", "api_token", Some(&row.api_token_id.to_string()), metadata).await;
    Ok(CreatedApiToken {
        token: ApiTokenListing {
            api_token_id: row.api_token_id,
            name,
            role,
            created_at: row.created_at,
            last_used_at: None,
            expires_at: row.expires_at,
        },
        secret,
    })
}

/// `crier admin create-token --team NAME`: creates a token for the team of that name.
pub async fn create_for_team_name(
    pool: &PgPool,
    team_name: &TeamName,
    name: &str,
    role: Role,
    expires_in_days: Option<i64>,
) -> Result<CreatedApiToken, DomainError> {
    let team_id = sqlx::query_scalar!("select team_id from team where lower(name) = lower($1)", team_name.as_str())
        .fetch_optional(pool)
        .await?
        .ok_or_else(|| FieldError::new("team", format!("There is no team named “{team_name}”.")))?;
    create(pool, team_id, name, role, None, expires_in_days).await
}

/// The team's tokens that are not revoked (expired ones too, marked by their expiry).
pub async fn list(pool: &PgPool, team_id: Uuid) -> Result<Vec<ApiTokenListing>, DomainError> {
    Ok(sqlx::query_as!(
        ApiTokenListing,
        r#"select api_token_id, name, role as "role: Role", created_at, last_used_at, expires_at
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

/// What a presented token may do now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Go ahead, as this caller.
    Admitted(ApiCaller),
    /// The token is valid but has used its requests for the window: try again after this many
    /// seconds.
    Limited {
        /// Seconds until the window ends.
        retry_after_secs: u64,
    },
}

/// Who a presented bearer token acts as, and whether it may make this request under `limit`
/// (requests per window; `None`: unlimited). `None` if the token is unknown, revoked or expired.
///
/// One statement: it finds the token, counts the request in the token's window (fixed windows
/// from the first request; the row is locked, so concurrent requests from every web process count
/// once each), and records the token's use at most once a minute ("last used" is for people).
pub async fn authenticate(pool: &PgPool, presented: &str, limit: Option<Budget>) -> Result<Option<Admission>, DomainError> {
    let (limit, window) = limit.map_or((None, 1.0), |b| (Some(b.limit), b.window.as_secs_f64()));
    let row = sqlx::query!(
        r#"with found as (
               select api_token_id, team_id, role, last_used_at,
                      coalesce(rate_window_started_at + make_interval(secs => $3) > now(), false) as in_window,
                      rate_window_started_at, rate_used
               from api_token
               where token_hash = $1 and revoked_at is null and (expires_at is null or expires_at > now())
               for update
           ), counted as (
               select f.*,
                      case when f.in_window then f.rate_window_started_at else now() end as window_start,
                      case when f.in_window then f.rate_used else 0 end as used_before
               from found f
           ), verdict as (
               select c.*, ($2::int4 is null or c.used_before < $2::int4) as allowed from counted c
           ), used as (
               update api_token t set
                   rate_window_started_at = v.window_start,
                   rate_used = v.used_before + case when v.allowed then 1 else 0 end,
                   last_used_at = case when v.allowed and (v.last_used_at is null or v.last_used_at < now() - interval '1 minute')
                                       then now() else t.last_used_at end
               from verdict v where t.api_token_id = v.api_token_id
           )
           select api_token_id as "api_token_id!", team_id as "team_id!", role as "role!: Role", allowed as "allowed!",
                  extract(epoch from (window_start + make_interval(secs => $3) - now()))::float8 as "retry_after!"
           from verdict"#,
        hash_token(presented),
        limit,
        window,
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| {
        if r.allowed {
            Admission::Admitted(ApiCaller { api_token_id: r.api_token_id, team_id: r.team_id, role: r.role })
        } else {
            Admission::Limited { retry_after_secs: r.retry_after.max(1.0).ceil() as u64 }
        }
    }))
}

/// The member who created the team's token `api_token_id`, while they are in the team: `None` for
/// a token made with `crier admin create-token`, or once its creator has left.
pub async fn creator(conn: &mut PgConnection, team_id: Uuid, api_token_id: Uuid) -> Result<Option<Uuid>, DomainError> {
    Ok(sqlx::query_scalar!(
        r#"select u.user_id from api_token k join app_user u on u.user_id = k.created_by and u.team_id = k.team_id
           where k.team_id = $1 and k.api_token_id = $2"#,
        team_id,
        api_token_id
    )
    .fetch_optional(&mut *conn)
    .await?)
}

/// Whom a post written by `actor` counts as written by: the member, or the member who created the
/// API token (none for Crier itself, a review link, or a token without a creator in the team).
pub(super) async fn author(conn: &mut PgConnection, team_id: Uuid, actor: Actor) -> Result<Option<Uuid>, DomainError> {
    match actor {
        Actor::User(id) => Ok(Some(id)),
        Actor::ApiToken(id) => creator(conn, team_id, id).await,
        Actor::ReviewLink(_) | Actor::System => Ok(None),
    }
}

/// The member the token `caller` acts as where an act is a person's (a review decision, a comment):
/// the member who created it, with the token's role when that is less than theirs. `None` when the
/// token has no creator in the team (made with `crier admin create-token`, or its creator left).
pub async fn acting_member(pool: &PgPool, caller: &ApiCaller) -> Result<Option<Member>, DomainError> {
    let Some(user_id) = creator(&mut *pool.acquire().await?, caller.team_id, caller.api_token_id).await? else {
        return Ok(None);
    };
    let member = super::members::find(pool, user_id).await?.filter(|m| m.team_id == caller.team_id);
    Ok(member.map(|m| Member { role: m.role.at_most(caller.role), ..m }))
}

/// A member's tokens and invitations follow the member: when they leave the team (`new_role`
/// `None`) their tokens are revoked and the invitations they sent withdrawn; when their role
/// changes, their tokens that act with more than the new role are cut down to it (a member made a
/// viewer keeps tokens that only read). Runs in the transaction that changes the member; audited.
pub async fn follow_member(
    conn: &mut sqlx::PgConnection,
    actor: &super::Member,
    user_id: Uuid,
    new_role: Option<Role>,
) -> Result<(), DomainError> {
    let team_id = actor.team_id;
    let (revoked, cut, withdrawn) = match new_role {
        None => {
            let revoked = sqlx::query_scalar!(
                "update api_token set revoked_at = now() where team_id = $1 and created_by = $2 and revoked_at is null returning api_token_id",
                team_id,
                user_id
            )
            .fetch_all(&mut *conn)
            .await?;
            let withdrawn = sqlx::query_scalar!(
                r#"update invite set revoked_at = now()
                   where team_id = $1 and invited_by = $2 and accepted_at is null and revoked_at is null returning invite_id"#,
                team_id,
                user_id
            )
            .fetch_all(&mut *conn)
            .await?;
            (revoked, Vec::new(), withdrawn)
        }
        Some(role) => {
            // Roles from the most to the least powerful; a token above `role` is cut to it.
            let above: Vec<Role> = Role::ALL.iter().copied().take_while(|r| *r != role).collect();
            let to = if role == Role::Owner { None } else { Some(role) };
            let cut = match to {
                Some(to) => {
                    sqlx::query_scalar!(
                        r#"update api_token set role = $4 where team_id = $1 and created_by = $2 and revoked_at is null
                       and role = any($3) returning api_token_id"#,
                        team_id,
                        user_id,
                        &above as &[Role],
                        to as Role,
                    )
                    .fetch_all(&mut *conn)
                    .await?
                }
                None => Vec::new(),
            };
            (Vec::new(), cut, Vec::new())
        }
    };
    let actor_of = super::audit::Actor::User(actor.user_id);
    for id in revoked {
        let metadata = serde_json::json!({ "reason": "member_removed", "member": user_id });
        super::audit::record(&mut *conn, team_id, actor_of, "token_revoked", "api_token", Some(&id.to_string()), metadata).await?;
    }
    for id in cut {
        let metadata = serde_json::json!({ "reason": "member_demoted", "member": user_id, "role": new_role.map(Role::as_str) });
        super::audit::record(&mut *conn, team_id, actor_of, "token_role_cut", "api_token", Some(&id.to_string()), metadata).await?;
    }
    for id in withdrawn {
        let metadata = serde_json::json!({ "reason": "member_removed", "member": user_id });
        super::audit::record(&mut *conn, team_id, actor_of, "invite_revoked", "invite", Some(&id.to_string()), metadata).await?;
    }
    Ok(())
}
