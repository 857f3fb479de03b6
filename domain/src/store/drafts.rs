//! Drafts: posts being written, with no deliveries yet (see [`crate::post_state`]). Saved as often
//! as the person likes, with the accounts they are meant for and an optional planned time, then
//! scheduled ([`super::posts::schedule_draft`]) or discarded.
//!
//! A draft is checked less than a post to schedule: its text may still be too long for a
//! platform, its accounts may need reconnecting (the counters and the schedule step say so); but
//! it must be readable (the shapes [`PostContent::parse`] enforces) and name only the team's own
//! accounts and media. Every query is scoped by the team.

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::audit::{self, Actor};
use super::media;
use super::posts::{content_of, write_content_parts};
use crate::post::PostContent;
use crate::post_state::PostState;
use crate::timezone::TimeZone;
use crate::{DomainError, FieldError};
use crier_platform::Platform;

/// What a draft holds.
#[derive(Clone, Debug)]
pub struct Draft {
    /// What it says so far.
    pub content: PostContent,
    /// The accounts it is meant for (none yet is fine).
    pub account_ids: Vec<Uuid>,
    /// When it is planned for, if decided.
    pub planned_at: Option<DateTime<Utc>>,
    /// The zone the time was (or will be) entered in.
    pub timezone: TimeZone,
}

/// The most drafts the Drafts page lists (the oldest beyond it are still there, and counted).
pub const DRAFTS_PAGE: i64 = 200;

fn no_longer_a_draft() -> DomainError {
    FieldError::new("draft", "This draft has been scheduled or discarded since you opened it. Start a new post, or open it from Drafts.")
        .into()
}

/// Saves a new draft (`draft_id` none) or the draft `draft_id`, with its content parts and
/// accounts, in one transaction. Records `post_draft_saved`; answers the draft's id.
pub async fn save(pool: &PgPool, team_id: Uuid, actor: Actor, draft_id: Option<Uuid>, draft: &Draft) -> Result<Uuid, DomainError> {
    let mut tx = pool.begin().await?;
    let post_id = save_in(&mut tx, team_id, actor, draft_id, draft).await?;
    tx.commit().await?;
    Ok(post_id)
}

/// [`save`] on `conn`, inside the caller's transaction. A post sent back with changes requested
/// becomes a draft again; one in review or approved goes (back) to review, as a new round: an
/// edit is approved afresh.
pub async fn save_in(
    conn: &mut PgConnection,
    team_id: Uuid,
    actor: Actor,
    draft_id: Option<Uuid>,
    draft: &Draft,
) -> Result<Uuid, DomainError> {
    let tx = conn;
    let mut account_ids = draft.account_ids.clone();
    account_ids.sort_unstable();
    account_ids.dedup();
    let known = sqlx::query_scalar!(
        "select count(*) from platform_account where team_id = $1 and account_id = any($2) and status <> 'disconnected'",
        team_id,
        &account_ids
    )
    .fetch_one(&mut *tx)
    .await?
    .unwrap_or(0);
    if usize::try_from(known).unwrap_or(0) != account_ids.len() {
        return Err(FieldError::new(
            "accounts",
            "One of the chosen accounts is disconnected or no longer exists. Untick it, or reload the page.",
        )
        .into());
    }
    media::chosen(tx, team_id, &draft.content.media_ids(), "media").await?;
    let author_id = super::api_tokens::author(&mut *tx, team_id, actor).await?;
    let post_id = match draft_id {
        None => sqlx::query_scalar!(
            r#"insert into post (team_id, author_id, text, link, scheduled_at, schedule_timezone, state, max_attempts, retry_base_seconds)
                   select $1, $2, $3, $4, $5, $6, 'draft', t.max_attempts, t.retry_base_seconds from team t where t.team_id = $1
                   returning post_id"#,
            team_id,
            author_id,
            draft.content.text,
            draft.content.link,
            draft.planned_at,
            draft.timezone.name(),
        )
        .fetch_one(&mut *tx)
        .await?,
        Some(post_id) => {
            let state = sqlx::query_scalar!(
                r#"select state as "state: PostState" from post where team_id = $1 and post_id = $2 for update"#,
                team_id,
                post_id
            )
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(DomainError::NotFound)?;
            let (next, new_round) = match state {
                PostState::Draft => (PostState::Draft, 0),
                PostState::ChangesRequested => (PostState::Draft, 0),
                PostState::InReview | PostState::Approved => (PostState::InReview, 1),
                PostState::Scheduled | PostState::Cancelled => return Err(no_longer_a_draft()),
            };
            sqlx::query!(
                r#"update post set text = $3, link = $4, scheduled_at = $5, schedule_timezone = $6, state = $7,
                          review_round = review_round + $8, updated_at = now()
                   where team_id = $1 and post_id = $2"#,
                team_id,
                post_id,
                draft.content.text,
                draft.content.link,
                draft.planned_at,
                draft.timezone.name(),
                next as PostState,
                new_round,
            )
            .execute(&mut *tx)
            .await?;
            super::posts::clear_parts(tx, post_id).await?;
            post_id
        }
    };
    write_content_parts(tx, team_id, post_id, &draft.content).await?;
    sqlx::query!(
        "insert into post_planned_account (post_id, team_id, account_id) select $1, $2, unnest($3::uuid[])",
        post_id,
        team_id,
        &account_ids
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut *tx,
        team_id,
        actor,
        "post_draft_saved",
        "post",
        Some(&post_id.to_string()),
        json!({ "accounts": account_ids.len(), "planned_at": draft.planned_at, "new": draft_id.is_none() }),
    )
    .await?;
    Ok(post_id)
}

/// A draft as Compose reopens it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DraftDetail {
    /// Its id.
    pub post_id: Uuid,
    /// What it says.
    pub content: PostContent,
    /// The accounts it is meant for.
    pub account_ids: Vec<Uuid>,
    /// When it is planned for.
    pub planned_at: Option<DateTime<Utc>>,
    /// The zone its time was entered in.
    pub timezone: TimeZone,
    /// Draft, in review, changes requested or approved.
    pub state: PostState,
}

/// The team's post `post_id` not yet scheduled: a draft, or one in review, sent back or approved
/// ([`DomainError::NotFound`] for anything else: another team's post, a scheduled or discarded one).
pub async fn get(pool: &PgPool, team_id: Uuid, post_id: Uuid) -> Result<DraftDetail, DomainError> {
    let row = sqlx::query!(
        r#"select p.scheduled_at, p.schedule_timezone, p.state as "state: PostState",
                  coalesce((select array_agg(a.account_id order by a.account_id) from post_planned_account a
                            where a.post_id = p.post_id and a.team_id = $1), '{}') as "account_ids!"
           from post p where p.team_id = $1 and p.post_id = $2 and p.state in ('draft', 'in_review', 'changes_requested', 'approved')"#,
        team_id,
        post_id
    )
    .fetch_optional(pool)
    .await?
    .ok_or(DomainError::NotFound)?;
    let content = content_of(&mut *pool.acquire().await?, team_id, post_id).await?;
    Ok(DraftDetail {
        post_id,
        content,
        account_ids: row.account_ids,
        planned_at: row.scheduled_at,
        timezone: TimeZone::from_stored(&row.schedule_timezone),
        state: row.state,
    })
}

/// A draft on the Drafts page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DraftSummary {
    /// Its id.
    pub post_id: Uuid,
    /// Its text.
    pub text: String,
    /// When it is planned for.
    pub planned_at: Option<DateTime<Utc>>,
    /// The zone its time was entered in.
    pub timezone: TimeZone,
    /// When it was last saved.
    pub updated_at: DateTime<Utc>,
    /// Who started it (none once they left the team).
    pub author: Option<String>,
    /// The accounts it is meant for: platform and name.
    pub accounts: Vec<(Platform, String)>,
    /// Draft, in review, changes requested or approved.
    pub state: PostState,
}

/// The team's posts not yet scheduled (drafts, in review, sent back, approved), the latest saved
/// first, at most [`DRAFTS_PAGE`]; and how many there are.
pub async fn list(pool: &PgPool, team_id: Uuid) -> Result<(Vec<DraftSummary>, i64), DomainError> {
    let rows = sqlx::query!(
        r#"select p.post_id, p.text, p.scheduled_at, p.schedule_timezone, p.updated_at, u.email as "author?", p.state as "state: PostState",
                  coalesce(array_agg(a.platform::text order by a.platform, a.name) filter (where a.account_id is not null), '{}') as "platforms!",
                  coalesce(array_agg(a.name order by a.platform, a.name) filter (where a.account_id is not null), '{}') as "names!"
           from post p
           left join app_user u on u.user_id = p.author_id
           left join post_planned_account pa on pa.post_id = p.post_id and pa.team_id = $1
           left join platform_account a on a.account_id = pa.account_id and a.team_id = $1
           where p.team_id = $1 and p.state not in ('scheduled', 'cancelled')
           group by p.post_id, u.email
           order by p.updated_at desc, p.post_id
           limit $2"#,
        team_id,
        DRAFTS_PAGE
    )
    .fetch_all(pool)
    .await?;
    let total = sqlx::query_scalar!("select count(*) from post where team_id = $1 and state not in ('scheduled', 'cancelled')", team_id)
        .fetch_one(pool)
        .await?
        .unwrap_or(0);
    let drafts = rows
        .into_iter()
        .map(|r| DraftSummary {
            post_id: r.post_id,
            text: r.text,
            planned_at: r.scheduled_at,
            timezone: TimeZone::from_stored(&r.schedule_timezone),
            updated_at: r.updated_at,
            author: r.author,
            accounts: named_accounts(&r.platforms, r.names),
            state: r.state,
        })
        .collect();
    Ok((drafts, total))
}

/// Accounts read as two arrays (platforms, names) side by side, as pairs.
pub(super) fn named_accounts(platforms: &[String], names: Vec<String>) -> Vec<(Platform, String)> {
    platforms.iter().zip(names).filter_map(|(p, name)| Some((p.parse().ok()?, name))).collect()
}

/// Discards the team's draft `post_id` (it stays in the audit trail, no longer listed). Records
/// `post_discarded`.
pub async fn discard(pool: &PgPool, team_id: Uuid, actor: Actor, post_id: Uuid) -> Result<(), DomainError> {
    let mut tx = pool.begin().await?;
    let discarded = sqlx::query!(
        "update post set state = 'cancelled', updated_at = now() where team_id = $1 and post_id = $2 and state in ('draft', 'changes_requested')",
        team_id,
        post_id
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if discarded == 0 {
        return Err(DomainError::NotFound);
    }
    audit::record(&mut *tx, team_id, actor, "post_discarded", "post", Some(&post_id.to_string()), json!({})).await?;
    tx.commit().await?;
    Ok(())
}
