//! Client review links: one post, or the posts due in a range of time, shared with someone outside
//! the team through an unguessable token (only its hash is stored), expiring and revocable. The
//! link shows those posts and nothing else of the team; what the reviewer does (approve, or
//! request changes) is recorded as a comment on the post and in the audit trail, with the link as
//! the actor.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::Member;
use super::audit::{self, Actor};
use crate::secret_token::{SecretToken, hash_token};
use crate::{DomainError, FieldError};

/// The prefix of a review link's token (so one found in a log is recognised).
pub const TOKEN_PREFIX: &str = "crier_rvw_";
/// The longest a link lives.
pub const MAX_DAYS: i64 = 90;
/// The most posts a range link shows.
pub const MAX_POSTS: i64 = 50;
/// The most comments one link may leave (a link is a door to the outside: it cannot flood a team).
pub const MAX_COMMENTS: i64 = 200;

/// What a link shares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// One post.
    Post(Uuid),
    /// The posts due in `[from, until)`.
    Range(DateTime<Utc>, DateTime<Utc>),
}

/// A link as its team lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReviewLink {
    /// Its id.
    pub link_id: Uuid,
    /// What the team calls it (shown to the reviewer, and in the audit trail).
    pub label: String,
    /// What it shares.
    pub scope: Scope,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

fn can_share(me: &Member) -> Result<(), DomainError> {
    if me.role.can_manage_members() { Ok(()) } else { Err(DomainError::Forbidden) }
}

/// Creates a link (owners and admins) living `days` days; answers it and its token, shown once.
/// Records `review_link_created`.
pub async fn create(pool: &PgPool, me: &Member, label: &str, scope: Scope, days: i64) -> Result<(ReviewLink, SecretToken), DomainError> {
    can_share(me)?;
    let label = label.trim();
    if label.is_empty() || label.chars().count() > 100 {
        return Err(FieldError::new("label", "Name the link (at most 100 characters), for example the client's name.").into());
    }
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(FieldError::new("days", format!("A link lives 1 to {MAX_DAYS} days.")).into());
    }
    let (post_id, from, until) = match scope {
        Scope::Post(id) => (Some(id), None, None),
        Scope::Range(from, until) if from < until && until - from <= TimeDelta::days(366) => (None, Some(from), Some(until)),
        Scope::Range(..) => return Err(FieldError::new("until", "The range ends after it starts, within a year.").into()),
    };
    let mut tx = pool.begin().await?;
    if let Some(id) = post_id {
        sqlx::query_scalar!("select 1 from post where team_id = $1 and post_id = $2 and state <> 'cancelled'", me.team_id, id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(DomainError::NotFound)?;
    }
    let token = SecretToken::generate(TOKEN_PREFIX);
    let expires_at = Utc::now() + TimeDelta::days(days);
    let link_id = sqlx::query_scalar!(
        r#"insert into review_link (team_id, label, token_hash, post_id, range_from, range_until, expires_at, created_by)
           values ($1, $2, $3, $4, $5, $6, $7, $8) returning link_id"#,
        me.team_id,
        label,
        token.hash(),
        post_id,
        from,
        until,
        expires_at,
        me.user_id
    )
    .fetch_one(&mut *tx)
    .await?;
    audit::record(
        &mut *tx,
        me.team_id,
        Actor::User(me.user_id),
        "review_link_created",
        "review_link",
        Some(&link_id.to_string()),
        json!({ "label": label, "post_id": post_id, "range_from": from, "range_until": until, "expires_at": expires_at }),
    )
    .await?;
    tx.commit().await?;
    Ok((ReviewLink { link_id, label: label.to_owned(), scope, expires_at, revoked_at: None }, token))
}

/// The team's links, newest first.
pub async fn list(pool: &PgPool, me: &Member) -> Result<Vec<ReviewLink>, DomainError> {
    let rows = sqlx::query!(
        "select link_id, label, post_id, range_from, range_until, expires_at, revoked_at from review_link
         where team_id = $1 order by created_at desc limit 200",
        me.team_id
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let scope = match (r.post_id, r.range_from, r.range_until) {
                (Some(id), _, _) => Scope::Post(id),
                (None, Some(from), Some(until)) => Scope::Range(from, until),
                _ => return None,
            };
            Some(ReviewLink { link_id: r.link_id, label: r.label, scope, expires_at: r.expires_at, revoked_at: r.revoked_at })
        })
        .collect())
}

/// Revokes the team's link `link_id` (owners and admins): it stops working at once. Records
/// `review_link_revoked`.
pub async fn revoke(pool: &PgPool, me: &Member, link_id: Uuid) -> Result<(), DomainError> {
    can_share(me)?;
    let mut tx = pool.begin().await?;
    let revoked = sqlx::query!(
        "update review_link set revoked_at = now() where team_id = $1 and link_id = $2 and revoked_at is null",
        me.team_id,
        link_id
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if revoked == 0 {
        return Err(DomainError::NotFound);
    }
    audit::record(
        &mut *tx,
        me.team_id,
        Actor::User(me.user_id),
        "review_link_revoked",
        "review_link",
        Some(&link_id.to_string()),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A working link, opened by its token: whose, and which posts it shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Opened {
    /// The link.
    pub link_id: Uuid,
    /// Its team (for the queries that follow; never shown).
    pub team_id: Uuid,
    /// Its label.
    pub label: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// The posts it shows, by time (none cancelled).
    pub post_ids: Vec<Uuid>,
}

/// The link `presented` names, if it works (known, not revoked, not expired); `None` otherwise,
/// whichever the reason (nothing tells a guesser which tokens exist).
pub async fn open(pool: &PgPool, presented: &str) -> Result<Option<Opened>, DomainError> {
    if !presented.starts_with(TOKEN_PREFIX) || presented.len() > 100 {
        return Ok(None);
    }
    let Some(link) = sqlx::query!(
        "select link_id, team_id, label, post_id, range_from, range_until, expires_at from review_link
         where token_hash = $1 and revoked_at is null and expires_at > now()",
        hash_token(presented)
    )
    .fetch_optional(pool)
    .await?
    else {
        return Ok(None);
    };
    let post_ids = sqlx::query_scalar!(
        r#"select post_id from post
           where team_id = $1 and state <> 'cancelled'
             and (post_id = $2 or (scheduled_at >= $3 and scheduled_at < $4))
           order by scheduled_at nulls last, post_id
           limit $5"#,
        link.team_id,
        link.post_id,
        link.range_from,
        link.range_until,
        MAX_POSTS
    )
    .fetch_all(pool)
    .await?;
    Ok(Some(Opened { link_id: link.link_id, team_id: link.team_id, label: link.label, expires_at: link.expires_at, post_ids }))
}

/// The reviewer behind `link` approves (`approve`) or requests changes on `post_id`, one of the
/// link's posts, with `comment` (required to request changes): recorded as a comment on the post
/// and as `review_link_approved` / `review_link_changes_requested`, the link as actor.
pub async fn decide(pool: &PgPool, link: &Opened, post_id: Uuid, approve: bool, comment: &str) -> Result<(), DomainError> {
    if !link.post_ids.contains(&post_id) {
        return Err(DomainError::NotFound);
    }
    let comment = comment.trim();
    if comment.chars().count() > 4000 {
        return Err(FieldError::new("comment", "A comment is at most 4,000 characters.").into());
    }
    if !approve && comment.is_empty() {
        return Err(FieldError::new("comment", "Say what to change: the team reads it with the post.").into());
    }
    let mut tx = pool.begin().await?;
    let left = sqlx::query_scalar!("select count(*) from post_comment where review_link_id = $1", link.link_id)
        .fetch_one(&mut *tx)
        .await?
        .unwrap_or(0);
    if left >= MAX_COMMENTS {
        return Err(FieldError::new("comment", "This link has left as many comments as it may. Ask the team for a new one.").into());
    }
    let said = if approve { "Approved" } else { "Requested changes" };
    let body = if comment.is_empty() { format!("{said}.") } else { format!("{said}: {comment}") };
    let comment_id = sqlx::query_scalar!(
        "insert into post_comment (team_id, post_id, review_link_id, body) values ($1, $2, $3, $4) returning comment_id",
        link.team_id,
        post_id,
        link.link_id,
        body
    )
    .fetch_one(&mut *tx)
    .await?;
    let action = if approve { "review_link_approved" } else { "review_link_changes_requested" };
    audit::record(
        &mut *tx,
        link.team_id,
        Actor::ReviewLink(link.link_id),
        action,
        "post",
        Some(&post_id.to_string()),
        json!({ "comment_id": comment_id, "label": link.label }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// One of a link's posts, as its previews need it: what it says, the accounts it goes to (its
/// deliveries' once scheduled, else those planned), and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shared {
    /// What it says.
    pub content: crate::post::PostContent,
    /// Its accounts: platform, name and handle.
    pub accounts: Vec<(crier_platform::Platform, String, Option<String>)>,
    /// When it is due (or planned).
    pub at: Option<DateTime<Utc>>,
}

/// The link's post `post_id` ([`DomainError::NotFound`] for any post the link does not show).
pub async fn shared(pool: &PgPool, link: &Opened, post_id: Uuid) -> Result<Shared, DomainError> {
    if !link.post_ids.contains(&post_id) {
        return Err(DomainError::NotFound);
    }
    let content = super::posts::content_of(&mut *pool.acquire().await?, link.team_id, post_id).await?;
    let at = sqlx::query_scalar!("select scheduled_at from post where team_id = $1 and post_id = $2", link.team_id, post_id)
        .fetch_one(pool)
        .await?;
    let accounts = sqlx::query!(
        r#"select a.platform as "platform: crier_platform::Platform", a.name, a.handle from platform_account a
           where a.team_id = $1 and (
                 a.account_id in (select account_id from delivery where team_id = $1 and post_id = $2)
              or a.account_id in (select account_id from post_planned_account where team_id = $1 and post_id = $2))
           order by a.platform, a.name"#,
        link.team_id,
        post_id
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|a| (a.platform, a.name, a.handle))
    .collect();
    Ok(Shared { content, accounts, at })
}
