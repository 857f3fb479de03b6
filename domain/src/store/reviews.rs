//! Approvals in the store: the team's [`ApprovalPolicy`], submitting a post for review, an
//! approver's decision (approve, or request changes with a comment), and what waits for review.
//!
//! A post in review has no deliveries. When its last needed approval comes, it is approved and, if
//! its planned time is still to come, scheduled in the same transaction (through
//! [`posts::schedule_draft`], so it is checked as any post is); if the time has passed, or
//! scheduling it is refused (an account disconnected meanwhile), it stays approved and the answer
//! says why: its author schedules it from Compose. Every query is scoped by the team.

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::Member;
use super::audit::{self, Actor};
use super::drafts::{self, Draft};
use super::posts::{self, NewPost, content_of};
use crate::approval::ApprovalPolicy;
use crate::post::MediaRules;
use crate::post_state::PostState;
use crate::role::Role;
use crate::timezone::TimeZone;
use crate::{DomainError, FieldError};
use crier_platform::Platform;

/// The team's approval settings.
pub async fn policy(pool: &PgPool, team_id: Uuid) -> Result<ApprovalPolicy, DomainError> {
    policy_in(&mut *pool.acquire().await?, team_id).await
}

async fn policy_in(conn: &mut PgConnection, team_id: Uuid) -> Result<ApprovalPolicy, DomainError> {
    let row = sqlx::query!("select approval_rule, approvals_needed, approvers from team where team_id = $1", team_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(DomainError::NotFound)?;
    parsed(&row.approval_rule, row.approvals_needed, &row.approvers)
}

/// The settings as stored (the table's checks allow only valid ones).
fn parsed(rule: &str, approvals: i16, approvers: &str) -> Result<ApprovalPolicy, DomainError> {
    ApprovalPolicy::parse(rule, &approvals.to_string(), approvers)
        .map_err(|e| DomainError::Internal(format!("the team's approval settings are not valid: {}", e.message)))
}

/// Changes the team's approval settings (owners and admins; the caller checks). Records
/// `approval_policy_changed` with the old and new settings. Posts already in review keep waiting
/// for the approvals the new settings ask.
pub async fn set_policy(pool: &PgPool, team_id: Uuid, actor: Actor, policy: ApprovalPolicy) -> Result<(), DomainError> {
    let mut tx = pool.begin().await?;
    let old = policy_in(&mut tx, team_id).await?;
    sqlx::query!(
        "update team set approval_rule = $2, approvals_needed = $3, approvers = $4 where team_id = $1",
        team_id,
        policy.rule_str(),
        i16::from(policy.approvals),
        policy.approvers_str()
    )
    .execute(&mut *tx)
    .await?;
    let metadata = json!({ "from": old, "to": policy });
    audit::record(&mut *tx, team_id, actor, "approval_policy_changed", "team", Some(&team_id.to_string()), metadata).await?;
    tx.commit().await?;
    Ok(())
}

/// Whether `actor` must submit posts for review rather than schedule them: a member or API token
/// whose role the team's rule covers. Crier itself (the admin CLI) is not held.
pub(super) async fn must_submit(conn: &mut PgConnection, team_id: Uuid, actor: Actor) -> Result<bool, DomainError> {
    let (user, token) = match actor {
        Actor::User(id) => (Some(id), None),
        Actor::ApiToken(id) => (None, Some(id)),
        Actor::System | Actor::ReviewLink(_) => return Ok(false),
    };
    // One statement per post scheduled (a batch schedules hundreds): the rule and the role together.
    let row = sqlx::query!(
        r#"select t.approval_rule, t.approvals_needed, t.approvers, coalesce(u.role, k.role) as "role: Role"
           from team t
           left join app_user u on u.team_id = t.team_id and u.user_id = $2
           left join api_token k on k.team_id = t.team_id and k.api_token_id = $3
           where t.team_id = $1"#,
        team_id,
        user,
        token
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Err(DomainError::NotFound) };
    let policy = parsed(&row.approval_rule, row.approvals_needed, &row.approvers)?;
    Ok(row.role.is_some_and(|role| policy.needs_review(role)))
}

/// Saves the post as [`drafts::save`] does and submits it for review, in one transaction: it must
/// name its accounts and fit each of their platforms (nobody is asked to approve what could not go
/// out). Records `post_submitted`.
pub async fn submit(
    pool: &PgPool,
    team_id: Uuid,
    actor: Actor,
    draft_id: Option<Uuid>,
    draft: &Draft,
    rules: &MediaRules,
) -> Result<Uuid, DomainError> {
    if draft.account_ids.is_empty() {
        return Err(FieldError::new("accounts", "Choose the accounts it is for: the approvers see it as each will show it.").into());
    }
    let mut tx = pool.begin().await?;
    let post_id = drafts::save_in(&mut tx, team_id, actor, draft_id, draft).await?;
    let platforms: Vec<Platform> = sqlx::query_scalar!(
        r#"select distinct platform as "platform: Platform" from platform_account where team_id = $1 and account_id = any($2)"#,
        team_id,
        &draft.account_ids
    )
    .fetch_all(&mut *tx)
    .await?;
    draft.content.check(&platforms)?;
    posts::check_media(&mut tx, team_id, &draft.content, &platforms, rules).await?;
    // A draft goes into review as a new round; one already in review (just saved) stays there.
    sqlx::query!(
        r#"update post set state = 'in_review', review_round = review_round + case when state = 'in_review' then 0 else 1 end
           where team_id = $1 and post_id = $2"#,
        team_id,
        post_id
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut *tx,
        team_id,
        actor,
        "post_submitted",
        "post",
        Some(&post_id.to_string()),
        json!({ "accounts": draft.account_ids.len() }),
    )
    .await?;
    tx.commit().await?;
    Ok(post_id)
}

/// An approver's decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Approve it.
    Approve,
    /// Send it back to its author.
    RequestChanges,
}

/// What a decision did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decided {
    /// Approved, and more approvals are still needed.
    Waiting { approvals: i64, needed: u8 },
    /// Approved and scheduled for its planned time.
    Scheduled(DateTime<Utc>),
    /// Approved, not scheduled: why (its time passed, none was planned, or scheduling was refused).
    Approved(String),
    /// Sent back to its author.
    ChangesRequested,
}

/// `reviewer` decides on the team's post `post_id`, in review: approve, or request changes with
/// `comment` (required then). Refused: a post not in review, the reviewer's own post, a role the
/// team's settings do not let approve, a second decision in the same round. Records
/// `post_approved` or `post_changes_requested`.
pub async fn decide(
    pool: &PgPool,
    reviewer: &Member,
    post_id: Uuid,
    decision: Decision,
    comment: &str,
    rules: &MediaRules,
) -> Result<Decided, DomainError> {
    let team_id = reviewer.team_id;
    let comment = comment.trim();
    if comment.chars().count() > 4000 {
        return Err(FieldError::new("comment", "A comment is at most 4,000 characters.").into());
    }
    if decision == Decision::RequestChanges && comment.is_empty() {
        return Err(FieldError::new("comment", "Say what to change: the author reads it with the post.").into());
    }
    let mut tx = pool.begin().await?;
    let post = sqlx::query!(
        r#"select state as "state: PostState", author_id, review_round, scheduled_at, schedule_timezone
           from post where team_id = $1 and post_id = $2 for update"#,
        team_id,
        post_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(DomainError::NotFound)?;
    if post.state != PostState::InReview {
        return Err(
            FieldError::new("post", "This post is no longer waiting for review (it was edited, decided or discarded meanwhile).").into()
        );
    }
    let policy = policy_in(&mut tx, team_id).await?;
    if !policy.may_approve(reviewer.role) {
        return Err(DomainError::Forbidden);
    }
    if post.author_id == Some(reviewer.user_id) {
        return Err(FieldError::new("post", "Nobody approves their own post: another approver decides on it.").into());
    }
    let recorded = sqlx::query!(
        r#"insert into post_review (post_id, team_id, round, reviewer_id, decision, comment)
           values ($1, $2, $3, $4, $5, $6) on conflict do nothing"#,
        post_id,
        team_id,
        post.review_round,
        reviewer.user_id,
        if decision == Decision::Approve { "approved" } else { "changes_requested" },
        comment
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if recorded == 0 {
        return Err(FieldError::new("post", "You have already decided on this version of the post.").into());
    }
    let action = if decision == Decision::Approve { "post_approved" } else { "post_changes_requested" };
    audit::record(
        &mut *tx,
        team_id,
        Actor::User(reviewer.user_id),
        action,
        "post",
        Some(&post_id.to_string()),
        json!({ "round": post.review_round, "commented": !comment.is_empty() }),
    )
    .await?;
    let decided = if decision == Decision::RequestChanges {
        sqlx::query!(
            "update post set state = 'changes_requested', updated_at = now() where team_id = $1 and post_id = $2",
            team_id,
            post_id
        )
        .execute(&mut *tx)
        .await?;
        Decided::ChangesRequested
    } else {
        let approvals = sqlx::query_scalar!(
            "select count(*) from post_review where post_id = $1 and team_id = $2 and round = $3 and decision = 'approved'",
            post_id,
            team_id,
            post.review_round
        )
        .fetch_one(&mut *tx)
        .await?
        .unwrap_or(0);
        if approvals < i64::from(policy.approvals) {
            Decided::Waiting { approvals, needed: policy.approvals }
        } else {
            sqlx::query!("update post set state = 'approved', updated_at = now() where team_id = $1 and post_id = $2", team_id, post_id)
                .execute(&mut *tx)
                .await?;
            let timezone = TimeZone::from_stored(&post.schedule_timezone);
            match post.scheduled_at {
                Some(at) if !crate::post::has_passed(at, Utc::now()) => {
                    schedule_approved(&mut tx, reviewer, post_id, at, timezone, rules).await?
                }
                Some(at) => Decided::Approved(format!(
                    "Approved, not scheduled: its time ({}) has passed. Its author chooses a new one in Compose.",
                    timezone.format(at)
                )),
                None => Decided::Approved("Approved, not scheduled: it has no time yet. Its author chooses one in Compose.".into()),
            }
        }
    };
    tx.commit().await?;
    Ok(decided)
}

/// Schedules the approved post as it was approved; a refusal (an account disconnected since, a
/// medium deleted) leaves it approved, saying why, rather than undoing the approval.
async fn schedule_approved(
    tx: &mut PgConnection,
    reviewer: &Member,
    post_id: Uuid,
    at: DateTime<Utc>,
    timezone: TimeZone,
    rules: &MediaRules,
) -> Result<Decided, DomainError> {
    let team_id = reviewer.team_id;
    let content = content_of(&mut *tx, team_id, post_id).await?;
    let account_ids =
        sqlx::query_scalar!("select account_id from post_planned_account where team_id = $1 and post_id = $2", team_id, post_id)
            .fetch_all(&mut *tx)
            .await?;
    let new = NewPost { content, account_ids, scheduled_at: at, timezone, dry_run: false, retry: Default::default() };
    sqlx::query!("savepoint schedule_approved").execute(&mut *tx).await?;
    match posts::schedule_draft(&mut *tx, team_id, Actor::User(reviewer.user_id), post_id, &new, rules).await {
        Ok(_) => Ok(Decided::Scheduled(at)),
        Err(DomainError::Invalid(why)) => {
            sqlx::query!("rollback to savepoint schedule_approved").execute(&mut *tx).await?;
            Ok(Decided::Approved(format!("Approved, not scheduled: {} Its author fixes it in Compose.", why.message)))
        }
        Err(e) => Err(e),
    }
}

/// A post waiting for review, as the Review page lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InReview {
    /// The post.
    pub post_id: Uuid,
    /// Its text.
    pub text: String,
    /// When it is planned for.
    pub planned_at: Option<DateTime<Utc>>,
    /// Its author's email (none once they left).
    pub author: Option<String>,
    /// Whether the viewer wrote it (then they cannot approve it).
    pub own: bool,
    /// Whether the viewer already decided on this version.
    pub decided: bool,
    /// Approvals so far in this round.
    pub approvals: i64,
    /// The accounts it is meant for: platform and name.
    pub accounts: Vec<(Platform, String)>,
}

/// The team's posts in review, oldest first (at most [`drafts::DRAFTS_PAGE`]), as `viewer` sees them.
pub async fn in_review(pool: &PgPool, viewer: &Member) -> Result<Vec<InReview>, DomainError> {
    let rows = sqlx::query!(
        r#"select p.post_id, p.text, p.scheduled_at, u.email as "author?", p.author_id,
                  exists (select 1 from post_review r where r.post_id = p.post_id and r.round = p.review_round and r.reviewer_id = $2) as "decided!",
                  (select count(*) from post_review r where r.post_id = p.post_id and r.round = p.review_round and r.decision = 'approved') as "approvals!",
                  coalesce((select array_agg(a.platform::text order by a.platform, a.name) from post_planned_account pa
                            join platform_account a on a.account_id = pa.account_id and a.team_id = $1
                            where pa.post_id = p.post_id and pa.team_id = $1), '{}') as "platforms!",
                  coalesce((select array_agg(a.name order by a.platform, a.name) from post_planned_account pa
                            join platform_account a on a.account_id = pa.account_id and a.team_id = $1
                            where pa.post_id = p.post_id and pa.team_id = $1), '{}') as "names!"
           from post p left join app_user u on u.user_id = p.author_id
           where p.team_id = $1 and p.state = 'in_review'
           order by p.updated_at, p.post_id
           limit $3"#,
        viewer.team_id,
        viewer.user_id,
        drafts::DRAFTS_PAGE
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| InReview {
            post_id: r.post_id,
            text: r.text,
            planned_at: r.scheduled_at,
            author: r.author,
            own: r.author_id == Some(viewer.user_id),
            decided: r.decided,
            approvals: r.approvals,
            accounts: drafts::named_accounts(&r.platforms, r.names),
        })
        .collect())
}
