//! In-app notifications: what the audit trail's trigger (`notification_enqueue`, migration
//! `20261212000010_notification_channels.sql`) told each person, read back in words with where to
//! look. Every query is scoped by the person (and their team). Emails and chat messages
//! (`notify`) are worded by the same [`describe`].

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::Member;
use crate::DomainError;

/// The most notifications the page shows (older ones stay, unlisted).
pub const NOTIFICATIONS_PAGE: i64 = 100;

/// One notification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notification {
    /// Its id.
    pub id: i64,
    /// What happened, in words.
    pub words: String,
    /// Where to look.
    pub link: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Whether it was read.
    pub read: bool,
}

/// How many of `me`'s notifications are unread (the header's count).
pub async fn unread(pool: &PgPool, me: &Member) -> Result<i64, DomainError> {
    Ok(sqlx::query_scalar!(
        "select count(*) from notification where user_id = $1 and team_id = $2 and read_at is null",
        me.user_id,
        me.team_id
    )
    .fetch_one(pool)
    .await?
    .unwrap_or(0))
}

/// `me`'s latest notifications, newest first, at most [`NOTIFICATIONS_PAGE`].
pub async fn latest(pool: &PgPool, me: &Member) -> Result<Vec<Notification>, DomainError> {
    let rows = sqlx::query!(
        r#"select notification_id, kind, entity_id, created_at, read_at is not null as "read!"
           from notification where user_id = $1 and team_id = $2
           order by notification_id desc
           limit $3"#,
        me.user_id,
        me.team_id,
        NOTIFICATIONS_PAGE
    )
    .fetch_all(pool)
    .await?;
    let about: Vec<About> = rows.iter().map(|r| About { kind: r.kind.clone(), entity_id: r.entity_id.clone() }).collect();
    let told = describe(pool, me.team_id, &about).await?;
    Ok(rows
        .into_iter()
        .zip(told)
        .map(|(r, (words, link))| Notification { id: r.notification_id, words, link, at: r.created_at, read: r.read })
        .collect())
}

/// What a notification or a message is about: its kind and the id of what it names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct About {
    /// The kind (`delivery_failed`, …).
    pub kind: String,
    /// The delivery, post, account or comment it names (the team, for a stall).
    pub entity_id: Option<String>,
}

/// The words and the link (a path in Crier) of each of the team's notifications `about`, in their
/// order: one statement for all, reading only the team's rows.
pub async fn describe(pool: &PgPool, team_id: uuid::Uuid, about: &[About]) -> Result<Vec<(String, String)>, DomainError> {
    if about.is_empty() {
        return Ok(Vec::new());
    }
    let kinds: Vec<String> = about.iter().map(|a| a.kind.clone()).collect();
    let entities: Vec<Option<String>> = about.iter().map(|a| a.entity_id.clone()).collect();
    let rows = sqlx::query!(
        r#"select n.i as "i!", n.kind as "kind!", coalesce(dp.text, p.text, cp.text) as text, coalesce(da.name, a.name) as account,
                  d.post_id as "delivery_post?", coalesce(p.state, cp.state) = 'scheduled' as "post_scheduled?", c.post_id as "comment_post?"
           from unnest($2::text[], $3::text[]) with ordinality as n (kind, entity_id, i)
           left join delivery d on n.kind = 'delivery_failed' and d.delivery_id::text = n.entity_id and d.team_id = $1
           left join post dp on dp.post_id = d.post_id and dp.team_id = $1
           left join platform_account da on da.account_id = d.account_id and da.team_id = $1
           left join post p on (n.kind like 'post_%' or n.kind = 'client_reviewed') and p.post_id::text = n.entity_id and p.team_id = $1
           left join platform_account a on n.kind in ('account_needs_reauth', 'account_token_expiring') and a.account_id::text = n.entity_id and a.team_id = $1
           left join post_comment c on n.kind = 'comment_mention' and c.comment_id::text = n.entity_id and c.team_id = $1
           left join post cp on cp.post_id = c.post_id and cp.team_id = $1
           order by n.i"#,
        team_id,
        &kinds,
        &entities as &[Option<String>]
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .zip(about)
        .map(|(r, about)| {
            let text = r.text.map(|t| excerpt(&t)).unwrap_or_else(|| "a post".to_owned());
            let account = r.account.unwrap_or_else(|| "an account".to_owned());
            let entity = about.entity_id.clone().unwrap_or_default();
            match r.kind.as_str() {
                "delivery_failed" => (
                    format!("“{text}” failed on {account}."),
                    r.delivery_post.map_or_else(|| "/?state=failed".to_owned(), |post| format!("/posts/{post}")),
                ),
                "account_needs_reauth" => (format!("{account} needs reconnecting: its posts wait until it is."), "/accounts".to_owned()),
                "account_token_expiring" => {
                    (format!("{account} must be reconnected within 7 days, or its posts will wait."), "/accounts".to_owned())
                }
                "publishing_stalled" => (
                    "Publishing is stalled: posts that are due have not gone out. Check that a Crier worker runs.".to_owned(),
                    "/status".to_owned(),
                ),
                "post_submitted" => (format!("“{text}” waits for your review."), "/review".to_owned()),
                // Approved and scheduled: its page; approved without going out yet: Compose.
                "post_approved" if r.post_scheduled == Some(true) => {
                    (format!("“{text}” was approved and scheduled."), format!("/posts/{entity}"))
                }
                "post_approved" => (format!("“{text}” was approved; choose when it goes out."), format!("/compose?draft={entity}")),
                "client_reviewed" => {
                    let link = if r.post_scheduled == Some(true) { format!("/posts/{entity}") } else { format!("/compose?draft={entity}") };
                    (format!("A client reviewed “{text}” through a review link."), link)
                }
                "comment_mention" => {
                    let post = r.comment_post.map(|p| p.to_string()).unwrap_or_default();
                    let link = if r.post_scheduled == Some(true) { format!("/posts/{post}") } else { format!("/compose?draft={post}") };
                    (format!("You were mentioned in a comment on “{text}”."), link)
                }
                _ => (format!("Changes were requested on “{text}”."), format!("/compose?draft={entity}")),
            }
        })
        .collect())
}

/// The start of a post's text, for a sentence.
fn excerpt(text: &str) -> String {
    let mut short: String = text.chars().take(60).collect();
    if text.chars().count() > 60 {
        short.push('…');
    }
    short
}

/// Marks all of `me`'s notifications read; answers how many were unread.
pub async fn mark_all_read(pool: &PgPool, me: &Member) -> Result<u64, DomainError> {
    Ok(sqlx::query!(
        "update notification set read_at = now() where user_id = $1 and team_id = $2 and read_at is null",
        me.user_id,
        me.team_id
    )
    .execute(pool)
    .await?
    .rows_affected())
}
