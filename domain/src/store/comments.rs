//! Comments on posts, and a post's activity: its comments, review decisions and own events in one
//! feed, oldest first. A comment is plain text (at most [`MAX_COMMENT_CHARS`]) and may mention
//! team members as `@name` (the part of their email before the `@`) or `@their@email`; each newly
//! mentioned member is notified. Only its author edits or deletes a comment. Every query is
//! scoped by the team; the audit trail records each change (never the text).

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::Member;
use super::audit::{self, Actor};
use crate::{DomainError, FieldError};

/// The longest comment.
pub const MAX_COMMENT_CHARS: usize = 4000;
/// The most items a post's activity shows (the oldest beyond it are left out).
pub const ACTIVITY_LIMIT: i64 = 300;

fn checked_body(body: &str) -> Result<&str, DomainError> {
    let body = body.trim();
    if body.is_empty() {
        return Err(FieldError::new("body", "Write something to comment.").into());
    }
    if body.chars().count() > MAX_COMMENT_CHARS {
        return Err(FieldError::new("body", format!("A comment is at most {MAX_COMMENT_CHARS} characters: shorten it.")).into());
    }
    Ok(body)
}

/// The members `body` mentions: `@name` (an email's local part) or `@name@domain` (the email),
/// case-insensitively, each once.
async fn mentioned(conn: &mut sqlx::PgConnection, team_id: Uuid, body: &str) -> Result<Vec<Uuid>, DomainError> {
    let words: Vec<String> = body
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | ':' | '!' | '?' | '(' | ')'))
        .filter_map(|w| w.strip_prefix('@'))
        .map(|w| w.trim_end_matches('.').to_lowercase())
        .filter(|w| !w.is_empty() && w.len() <= 254)
        .take(50)
        .collect();
    if words.is_empty() {
        return Ok(Vec::new());
    }
    Ok(sqlx::query_scalar!(
        "select user_id from app_user where team_id = $1 and (email = any($2) or split_part(email, '@', 1) = any($2)) order by user_id",
        team_id,
        &words
    )
    .fetch_all(&mut *conn)
    .await?)
}

/// `me` comments on the team's post `post_id`. Records `comment_added` (with who is newly
/// mentioned, which notifies them); answers the comment's id.
pub async fn add(pool: &PgPool, me: &Member, post_id: Uuid, body: &str) -> Result<Uuid, DomainError> {
    let body = checked_body(body)?;
    let mut tx = pool.begin().await?;
    let exists =
        sqlx::query_scalar!("select 1 from post where team_id = $1 and post_id = $2 and state <> 'cancelled'", me.team_id, post_id)
            .fetch_optional(&mut *tx)
            .await?;
    if exists.is_none() {
        return Err(DomainError::NotFound);
    }
    let mentions = mentioned(&mut tx, me.team_id, body).await?;
    let comment_id = sqlx::query_scalar!(
        "insert into post_comment (team_id, post_id, author_id, body) values ($1, $2, $3, $4) returning comment_id",
        me.team_id,
        post_id,
        me.user_id,
        body
    )
    .fetch_one(&mut *tx)
    .await?;
    let metadata = json!({ "post_id": post_id, "notify": mentions });
    audit::record(&mut *tx, me.team_id, Actor::User(me.user_id), "comment_added", "comment", Some(&comment_id.to_string()), metadata)
        .await?;
    tx.commit().await?;
    Ok(comment_id)
}

/// `me` changes their own comment; those it now mentions and did not before are notified.
/// Another's comment (or another team's) answers [`DomainError::NotFound`].
pub async fn edit(pool: &PgPool, me: &Member, comment_id: Uuid, body: &str) -> Result<(), DomainError> {
    let body = checked_body(body)?;
    let mut tx = pool.begin().await?;
    let old = sqlx::query!(
        "select post_id, body from post_comment where team_id = $1 and comment_id = $2 and author_id = $3 for update",
        me.team_id,
        comment_id,
        me.user_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(DomainError::NotFound)?;
    let before = mentioned(&mut tx, me.team_id, &old.body).await?;
    let now: Vec<Uuid> = mentioned(&mut tx, me.team_id, body).await?.into_iter().filter(|id| !before.contains(id)).collect();
    sqlx::query!("update post_comment set body = $2, edited_at = now() where comment_id = $1", comment_id, body).execute(&mut *tx).await?;
    let metadata = json!({ "post_id": old.post_id, "notify": now });
    audit::record(&mut *tx, me.team_id, Actor::User(me.user_id), "comment_edited", "comment", Some(&comment_id.to_string()), metadata)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// `me` deletes their own comment ([`DomainError::NotFound`] for anyone else's).
pub async fn delete(pool: &PgPool, me: &Member, comment_id: Uuid) -> Result<(), DomainError> {
    let mut tx = pool.begin().await?;
    let post_id = sqlx::query_scalar!(
        "delete from post_comment where team_id = $1 and comment_id = $2 and author_id = $3 returning post_id",
        me.team_id,
        comment_id,
        me.user_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(DomainError::NotFound)?;
    let metadata = json!({ "post_id": post_id });
    audit::record(&mut *tx, me.team_id, Actor::User(me.user_id), "comment_deleted", "comment", Some(&comment_id.to_string()), metadata)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// One item of a post's activity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Activity {
    /// When.
    pub at: DateTime<Utc>,
    /// Who (an email; "Crier" for the system, "an API token", or "someone who left").
    pub who: String,
    /// What: the event in words, or the comment's text.
    pub words: String,
    /// The comment, when this is one: its id, whether `me` wrote it (and so may change it), and
    /// whether it was edited.
    pub comment: Option<(Uuid, bool, bool)>,
}

/// The team's post `post_id`'s activity as `me` sees it, oldest first, at most [`ACTIVITY_LIMIT`].
pub async fn activity(pool: &PgPool, me: &Member, post_id: Uuid) -> Result<Vec<Activity>, DomainError> {
    let rows = sqlx::query!(
        r#"select at as "at!", who, words as "words!", comment_id, own as "own!", edited as "edited!" from (
               select c.created_at as at, coalesce(u.email, 'Review link “' || l.label || '”') as who, c.body as words, c.comment_id,
                      c.author_id is not distinct from $3 as own, c.edited_at is not null as edited
               from post_comment c left join app_user u on u.user_id = c.author_id
               left join review_link l on l.link_id = c.review_link_id and l.team_id = $1
               where c.team_id = $1 and c.post_id = $2
               union all
               select r.decided_at, u.email,
                      case r.decision when 'approved' then 'Approved.' else 'Requested changes.' end
                          || case when r.comment <> '' then ' “' || r.comment || '”' else '' end,
                      null, false, false
               from post_review r left join app_user u on u.user_id = r.reviewer_id
               where r.team_id = $1 and r.post_id = $2
               union all
               select e.occurred_at, coalesce(u.email, case e.actor_kind when 'system' then 'Crier' else 'An API token' end),
                      replace(initcap(replace(e.action, '_', ' ')), 'Post ', '') || '.', null, false, false
               from audit_event e left join app_user u on e.actor_kind = 'user' and u.user_id = e.actor_id
               where e.team_id = $1 and e.entity = 'post' and e.entity_id = $2::uuid::text
                 and e.action not in ('post_approved', 'post_changes_requested', 'review_link_approved', 'review_link_changes_requested')
           ) a
           order by at
           limit $4"#,
        me.team_id,
        post_id,
        me.user_id,
        ACTIVITY_LIMIT
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Activity {
            at: r.at,
            who: r.who.unwrap_or_else(|| "Someone who left the team".to_owned()),
            words: r.words,
            comment: r.comment_id.map(|id| (id, r.own, r.edited)),
        })
        .collect())
}
