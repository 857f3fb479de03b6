//! Posts and their deliveries, as the team writes and reads them: schedule (one transaction for
//! the post, its deliveries and the wake-up of the workers), list, show, edit, cancel and retry.
//!
//! Every function takes the team and filters by it in SQL; another team's post or delivery id
//! answers [`DomainError::NotFound`]. The publishing engine's own queries live in
//! [`super::deliveries`].

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::audit::{self, Actor};
use super::{deliveries, media, queues, reviews};
use crate::account::AccountStatus;
use crate::delivery::{AttemptOutcome, DeliveryState};
use crate::post::{MediaChoice, MediaRules, PostContent};
use crate::post_state::PostState;
use crate::retry::{RetryOverride, RetryPolicy};
use crate::timezone::TimeZone;
use crate::{DomainError, FieldError};
use crier_platform::Platform;

/// A post to schedule (or publish now: a schedule time of now).
#[derive(Clone, Debug)]
pub struct NewPost {
    /// What it says.
    pub content: PostContent,
    /// The accounts it goes to: one delivery each.
    pub account_ids: Vec<Uuid>,
    /// When it is due, in UTC.
    pub scheduled_at: DateTime<Utc>,
    /// The zone the person entered the time in (shown back to them in it).
    pub timezone: TimeZone,
    /// Go through everything but the publish call.
    pub dry_run: bool,
    /// Attempts and the first retry's wait; each the team's default when not set.
    pub retry: RetryOverride,
}

/// Writes a post, its deliveries and the workers' wake-up on `conn`, which should be inside a
/// transaction the caller commits (so a batch is all or nothing, and a failed request leaves
/// nothing behind). Records `post_scheduled`.
pub async fn schedule(
    conn: &mut PgConnection,
    team_id: Uuid,
    actor: Actor,
    new: &NewPost,
    rules: &MediaRules,
) -> Result<Uuid, DomainError> {
    schedule_post(conn, team_id, actor, new, rules, None, Timing::At).await
}

/// Adds a post to the queues of its accounts: like [`schedule`], but each account's delivery takes
/// that account's next free posting slot (`new.scheduled_at` is not used), and `draft_id`, if
/// given, is the draft that becomes the post. A paused queue's post waits in it (state `paused`).
pub async fn add_to_queue(
    conn: &mut PgConnection,
    team_id: Uuid,
    actor: Actor,
    draft_id: Option<Uuid>,
    new: &NewPost,
    rules: &MediaRules,
) -> Result<Uuid, DomainError> {
    let draft = match draft_id {
        Some(id) => Some((id, lock_draft(conn, team_id, id).await?)),
        None => None,
    };
    schedule_post(conn, team_id, actor, new, rules, draft, Timing::Queue).await
}

/// The team's post's queued deliveries: each account's name and slot, in slot order.
pub async fn queued_slots(pool: &PgPool, team_id: Uuid, post_id: Uuid) -> Result<Vec<(String, DateTime<Utc>)>, DomainError> {
    Ok(sqlx::query!(
        r#"select a.name, d.queue_slot as "queue_slot!" from delivery d join platform_account a on a.account_id = d.account_id
           where d.team_id = $1 and d.post_id = $2 and d.queue_slot is not null order by d.queue_slot, a.name"#,
        team_id,
        post_id
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| (r.name, r.queue_slot))
    .collect())
}

/// When a post's deliveries go out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Timing {
    /// All at the post's time.
    At,
    /// Each at its account's next free posting slot.
    Queue,
}

/// Schedules the team's draft `draft_id` as `new` says (what Compose holds now): the draft becomes
/// the post, keeping its id, with its deliveries written in the same transaction, checked as
/// [`schedule`] checks a new post. A draft scheduled or discarded meanwhile is refused.
pub async fn schedule_draft(
    conn: &mut PgConnection,
    team_id: Uuid,
    actor: Actor,
    draft_id: Uuid,
    new: &NewPost,
    rules: &MediaRules,
) -> Result<Uuid, DomainError> {
    let state = lock_draft(conn, team_id, draft_id).await?;
    schedule_post(conn, team_id, actor, new, rules, Some((draft_id, state)), Timing::At).await
}

/// Locks the team's draft `draft_id` to schedule it; refuses one that cannot be scheduled now,
/// saying why.
async fn lock_draft(conn: &mut PgConnection, team_id: Uuid, draft_id: Uuid) -> Result<PostState, DomainError> {
    let state = sqlx::query_scalar!(
        r#"select state as "state: PostState" from post where team_id = $1 and post_id = $2 for update"#,
        team_id,
        draft_id
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(DomainError::NotFound)?;
    if !state.can_become(PostState::Scheduled) {
        let why = match state {
            PostState::InReview => {
                "This post waits for review: it is scheduled once approved (the Review page), or saved as a draft again."
            }
            PostState::ChangesRequested => "Changes were requested on this post: save your changes, then submit it for review again.",
            _ => "This draft has been scheduled or discarded since you opened it. Start a new post, or open it from Drafts.",
        };
        return Err(FieldError::new("draft", why).into());
    }
    Ok(state)
}

/// [`schedule`], into a new post or the draft `draft` (already locked by the caller, in the state
/// given). Where the team's posts need approval, only an approved post (or a dry run, which
/// publishes nothing) is scheduled for someone whose posts need it: the others are refused with
/// what to do instead, whichever way they came (Compose, the batch form, the API).
async fn schedule_post(
    conn: &mut PgConnection,
    team_id: Uuid,
    actor: Actor,
    new: &NewPost,
    rules: &MediaRules,
    draft: Option<(Uuid, PostState)>,
    timing: Timing,
) -> Result<Uuid, DomainError> {
    // An approved post goes out as it was approved: scheduling it with other words, media or
    // accounts is an edit, which is reviewed again.
    let approved = match draft {
        Some((id, PostState::Approved)) => {
            let planned: Vec<Uuid> = sqlx::query_scalar!(
                "select account_id from post_planned_account where team_id = $1 and post_id = $2 order by account_id",
                team_id,
                id
            )
            .fetch_all(&mut *conn)
            .await?;
            let mut chosen = new.account_ids.clone();
            chosen.sort_unstable();
            chosen.dedup();
            content_of(&mut *conn, team_id, id).await? == new.content && planned == chosen
        }
        _ => false,
    };
    if !approved && !new.dry_run && reviews::must_submit(conn, team_id, actor).await? {
        return Err(FieldError::new(
            "intent",
            "Posts need approval in this team: use “Submit for review”, and the post is scheduled once it is approved.",
        )
        .into());
    }
    let draft = draft.map(|(id, _)| id);
    let mut account_ids = new.account_ids.clone();
    account_ids.sort_unstable();
    account_ids.dedup();
    if account_ids.is_empty() {
        return Err(FieldError::new("accounts", "Choose at least one account to publish to.").into());
    }
    let accounts = sqlx::query!(
        r#"select account_id, platform as "platform: Platform", name, status as "status: AccountStatus"
           from platform_account where team_id = $1 and account_id = any($2)"#,
        team_id,
        &account_ids
    )
    .fetch_all(&mut *conn)
    .await?;
    if accounts.len() != account_ids.len() {
        return Err(FieldError::new("accounts", "One of the chosen accounts no longer exists. Reload the page and choose again.").into());
    }
    if let Some(gone) = accounts.iter().find(|a| a.status == AccountStatus::Disconnected) {
        return Err(FieldError::new(
            "accounts",
            format!(
                "The {} account “{}” is disconnected. Reconnect it on the Accounts page, or untick it.",
                gone.platform.label(),
                gone.name
            ),
        )
        .into());
    }
    let mut platforms: Vec<Platform> = accounts.iter().map(|a| a.platform).collect();
    platforms.sort_by_key(|p| p.as_str());
    platforms.dedup();
    new.content.check(&platforms)?;
    check_media(&mut *conn, team_id, &new.content, &platforms, rules).await?;
    let retry = new.retry.check()?;
    // Each account's time: the post's, or its queue's next free slot (in `account_ids` order).
    let slots = match timing {
        Timing::At => None,
        Timing::Queue if new.dry_run => return Err(FieldError::new("intent", "A dry run happens now: it does not go into a queue.").into()),
        Timing::Queue => {
            let named: Vec<(Uuid, String)> = account_ids
                .iter()
                .map(|id| (*id, accounts.iter().find(|a| a.account_id == *id).map(|a| a.name.clone()).unwrap_or_default()))
                .collect();
            Some(queues::allocate(conn, team_id, &named).await?)
        }
    };
    let scheduled_at = match &slots {
        Some(slots) => slots.iter().map(|(slot, _)| slot.at).min().unwrap_or(new.scheduled_at),
        None => new.scheduled_at,
    };

    let author_id = super::api_tokens::author(&mut *conn, team_id, actor).await?;
    let post_id = match draft {
        None => sqlx::query_scalar!(
            r#"insert into post (team_id, author_id, text, link, scheduled_at, schedule_timezone, dry_run, max_attempts, retry_base_seconds)
                   select $1, $2, $3, $4, $5, $6, $7, coalesce($8, t.max_attempts), coalesce($9, t.retry_base_seconds)
                   from team t where t.team_id = $1
                   returning post_id"#,
            team_id,
            author_id,
            new.content.text,
            new.content.link,
            scheduled_at,
            new.timezone.name(),
            new.dry_run,
            retry.max_attempts,
            retry.first_retry_seconds,
        )
        .fetch_one(&mut *conn)
        .await?,
        Some(post_id) => {
            sqlx::query!(
                r#"update post p set text = $3, link = $4, scheduled_at = $5, schedule_timezone = $6, dry_run = $7,
                          max_attempts = coalesce($8, t.max_attempts), retry_base_seconds = coalesce($9, t.retry_base_seconds),
                          state = 'scheduled', updated_at = now()
                   from team t where t.team_id = $1 and p.team_id = $1 and p.post_id = $2"#,
                team_id,
                post_id,
                new.content.text,
                new.content.link,
                scheduled_at,
                new.timezone.name(),
                new.dry_run,
                retry.max_attempts,
                retry.first_retry_seconds,
            )
            .execute(&mut *conn)
            .await?;
            clear_parts(conn, post_id).await?;
            post_id
        }
    };
    write_content_parts(conn, team_id, post_id, &new.content).await?;
    let times: Vec<DateTime<Utc>> =
        slots.as_ref().map_or_else(|| vec![scheduled_at; account_ids.len()], |s| s.iter().map(|(slot, _)| slot.at).collect());
    let queued: Vec<Option<DateTime<Utc>>> = times.iter().map(|at| slots.as_ref().map(|_| *at)).collect();
    let paused: Vec<bool> = slots.as_ref().map_or_else(|| vec![false; account_ids.len()], |s| s.iter().map(|(_, p)| *p).collect());
    sqlx::query!(
        // A delivery to an account that already needs reconnecting starts held (the banner says
        // so) and goes out when the account is reconnected; one in a paused queue waits paused.
        r#"insert into delivery (team_id, post_id, account_id, next_attempt_at, queue_slot, state)
           select $1, $2, a.account_id, t.at, t.slot,
                  case when a.status <> 'connected' then 'held' when t.paused then 'paused' else 'scheduled' end::delivery_state
           from unnest($3::uuid[], $4::timestamptz[], $5::timestamptz[], $6::bool[]) as t (account_id, at, slot, paused)
           join platform_account a on a.team_id = $1 and a.account_id = t.account_id
           order by a.account_id"#,
        team_id,
        post_id,
        &account_ids,
        &times,
        &queued as &[Option<DateTime<Utc>>],
        &paused
    )
    .execute(&mut *conn)
    .await?;
    audit::record(
        &mut *conn,
        team_id,
        actor,
        "post_scheduled",
        "post",
        Some(&post_id.to_string()),
        json!({
            "accounts": account_ids.len(),
            "scheduled_at": scheduled_at,
            "timezone": new.timezone.name(),
            "dry_run": new.dry_run,
            "from_draft": draft.is_some(),
            "queued": slots.is_some(),
        }),
    )
    .await?;
    deliveries::wake_workers(conn, scheduled_at).await?;
    Ok(post_id)
}

/// Checks that the media `content` names are the team's and that each platform takes them.
pub(super) async fn check_media(
    conn: &mut PgConnection,
    team_id: Uuid,
    content: &PostContent,
    platforms: &[Platform],
    rules: &MediaRules,
) -> Result<(), DomainError> {
    let items = media::chosen(conn, team_id, &content.media_ids(), "media").await?;
    rules.check(content, platforms, |id| items.iter().find(|i| i.media_id == id).map(|i| (&i.facts, i.alt_text.as_str())))?;
    Ok(())
}

/// Overrides, thread items and media, written after the post row (or after clearing them, on
/// edit). The media were checked to be the team's ([`media::chosen`]); the foreign key on
/// (team_id, media_id) holds it anyway.
pub(super) async fn write_content_parts(
    conn: &mut PgConnection,
    team_id: Uuid,
    post_id: Uuid,
    content: &PostContent,
) -> Result<(), DomainError> {
    let (override_platforms, override_texts): (Vec<Platform>, Vec<String>) = content.overrides.iter().cloned().unzip();
    sqlx::query!(
        r#"insert into post_text_override (post_id, platform, text)
           select $1, platform, text from unnest($2::platform[], $3::text[]) as o (platform, text)"#,
        post_id,
        &override_platforms as &[Platform],
        &override_texts
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        r#"insert into post_thread_item (post_id, position, text)
           select $1, position::smallint, text from unnest($2::text[]) with ordinality as t (text, position)"#,
        post_id,
        &content.thread
    )
    .execute(&mut *conn)
    .await?;
    // Positions count from 1 within each list (a platform's own, or the shared one, per item).
    let mut positions: Vec<(Option<Platform>, u8, i16)> = Vec::new();
    let mut rows = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for choice in &content.media {
        let position = match positions.iter_mut().find(|(p, i, _)| *p == choice.platform && *i == choice.item) {
            Some((_, _, last)) => {
                *last += 1;
                *last
            }
            None => {
                positions.push((choice.platform, choice.item, 1));
                1
            }
        };
        rows.0.push(choice.platform.map(|p| p.as_str().to_owned()));
        rows.1.push(i16::from(choice.item));
        rows.2.push(position);
        rows.3.push(choice.media_id);
        rows.4.push(choice.alt_text.clone());
    }
    sqlx::query!(
        r#"insert into post_media (team_id, post_id, platform, item, position, media_id, alt_text)
           select $1, $2, m.platform::platform, m.item, m.position, m.media_id, m.alt_text
           from unnest($3::text[], $4::smallint[], $5::smallint[], $6::uuid[], $7::text[]) as m (platform, item, position, media_id, alt_text)"#,
        team_id,
        post_id,
        &rows.0 as &[Option<String>],
        &rows.1,
        &rows.2,
        &rows.3,
        &rows.4 as &[Option<String>],
    )
    .execute(&mut *conn)
    .await?;
    let (comment_platforms, comment_texts): (Vec<Platform>, Vec<String>) = content.first_comments.iter().cloned().unzip();
    sqlx::query!(
        r#"insert into post_first_comment (post_id, platform, text)
           select $1, platform, text from unnest($2::platform[], $3::text[]) as c (platform, text)"#,
        post_id,
        &comment_platforms as &[Platform],
        &comment_texts
    )
    .execute(&mut *conn)
    .await?;
    super::link_tracking::write_for_post(conn, team_id, post_id, &content.tracking).await
}

/// Empties a post's content parts and planned accounts, before they are written again
/// ([`write_content_parts`]; a scheduled post has no planned accounts).
pub(super) async fn clear_parts(conn: &mut PgConnection, post_id: Uuid) -> Result<(), DomainError> {
    sqlx::query!("delete from post_text_override where post_id = $1", post_id).execute(&mut *conn).await?;
    sqlx::query!("delete from post_thread_item where post_id = $1", post_id).execute(&mut *conn).await?;
    sqlx::query!("delete from post_media where post_id = $1", post_id).execute(&mut *conn).await?;
    sqlx::query!("delete from post_planned_account where post_id = $1", post_id).execute(&mut *conn).await?;
    sqlx::query!("delete from post_link_tracking where post_id = $1", post_id).execute(&mut *conn).await?;
    sqlx::query!("delete from post_first_comment where post_id = $1", post_id).execute(&mut *conn).await?;
    Ok(())
}

/// What [`schedule_once`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Idempotent {
    /// The post was written now.
    Created(Uuid),
    /// The key was used before with the same request: this is the post it made.
    Replayed(Uuid),
}

/// Schedules a post under an idempotency key: the first request with `key` writes the post and
/// the key in one transaction; a later one with the same body gets that post back, and one with
/// another body is refused. A concurrent duplicate waits on the key's row, then sees the first
/// one's post (or, if that one failed and rolled back, writes its own).
pub async fn schedule_once(
    pool: &PgPool,
    team_id: Uuid,
    actor: Actor,
    key: &str,
    request_hash: &[u8],
    new: &NewPost,
    rules: &MediaRules,
) -> Result<Idempotent, DomainError> {
    if key.is_empty() || key.chars().count() > 255 {
        return Err(FieldError::new("Idempotency-Key", "Use an Idempotency-Key of 1 to 255 characters.").into());
    }
    let mut tx = pool.begin().await?;
    // Take the key first: a concurrent request with the same key blocks here until we commit.
    let claimed = sqlx::query_scalar!(
        r#"insert into api_idempotency (team_id, key, request_hash, post_id)
           values ($1, $2, $3, null)
           on conflict (team_id, key) do nothing
           returning key"#,
        team_id,
        key,
        request_hash
    )
    .fetch_optional(&mut *tx)
    .await?;
    if claimed.is_none() {
        let earlier = sqlx::query!("select request_hash, post_id from api_idempotency where team_id = $1 and key = $2", team_id, key)
            .fetch_one(&mut *tx)
            .await?;
        if earlier.request_hash != request_hash {
            return Err(FieldError::new(
                "Idempotency-Key",
                "This Idempotency-Key was already used with a different request. Use a new key for a new post.",
            )
            .into());
        }
        // Committed rows always have their post (the id is set in the transaction that took the key).
        return earlier.post_id.map(Idempotent::Replayed).ok_or(DomainError::NotFound);
    }
    let post_id = schedule(&mut tx, team_id, actor, new, rules).await?;
    sqlx::query!("update api_idempotency set post_id = $3 where team_id = $1 and key = $2", team_id, key, post_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Idempotent::Created(post_id))
}

/// One delivery of the team, with the post it belongs to and its attempts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryDetail {
    /// The post it delivers.
    pub post_id: Uuid,
    /// The delivery as on its post's card.
    pub delivery: DeliveryChip,
    /// Its external id at the platform, once published.
    pub external_id: Option<String>,
    /// When it was published.
    pub published_at: Option<DateTime<Utc>>,
    /// Its attempts, oldest first.
    pub attempts: Vec<AttemptRow>,
}

/// One delivery of the team (`NotFound` for another team's id).
pub async fn delivery(pool: &PgPool, team_id: Uuid, delivery_id: Uuid) -> Result<DeliveryDetail, DomainError> {
    let d = sqlx::query!(
        r#"select d.post_id, d.external_id, d.published_at from delivery d where d.team_id = $1 and d.delivery_id = $2"#,
        team_id,
        delivery_id
    )
    .fetch_optional(pool)
    .await?
    .ok_or(DomainError::NotFound)?;
    let mut detail = get(pool, team_id, d.post_id).await?;
    let chip = detail.summary.deliveries.into_iter().find(|c| c.delivery_id == delivery_id).ok_or(DomainError::NotFound)?;
    detail.attempts.retain(|a| a.delivery_id == delivery_id);
    Ok(DeliveryDetail {
        post_id: d.post_id,
        delivery: chip,
        external_id: d.external_id,
        published_at: d.published_at,
        attempts: detail.attempts,
    })
}

/// Schedules several posts in one transaction: all of them, or (on any error) none.
pub async fn schedule_all(
    pool: &PgPool,
    team_id: Uuid,
    actor: Actor,
    posts: &[NewPost],
    rules: &MediaRules,
) -> Result<Vec<Uuid>, (usize, DomainError)> {
    let mut tx = pool.begin().await.map_err(|e| (0, e.into()))?;
    let mut ids = Vec::with_capacity(posts.len());
    for (index, post) in posts.iter().enumerate() {
        ids.push(schedule(&mut tx, team_id, actor, post, rules).await.map_err(|e| (index, e))?);
    }
    tx.commit().await.map_err(|e| (0, e.into()))?;
    Ok(ids)
}

/// One delivery as a chip on the dashboard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryChip {
    /// The delivery.
    pub delivery_id: Uuid,
    /// Its account.
    pub account_id: Uuid,
    /// The account's name.
    pub account_name: String,
    /// The account's platform.
    pub platform: Platform,
    /// Where it is.
    pub state: DeliveryState,
    /// The public link, once published.
    pub permalink: Option<String>,
    /// The last failure's class and the platform's words.
    pub last_error: Option<String>,
    /// When a worker takes it next (scheduled or retrying).
    pub next_attempt_at: DateTime<Utc>,
    /// Calls made so far.
    pub attempts: i16,
}

/// A post as listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PostSummary {
    /// The post.
    pub post_id: Uuid,
    /// The shared text.
    pub text: String,
    /// When it is (or was) due.
    pub scheduled_at: DateTime<Utc>,
    /// The zone it was entered in.
    pub timezone: TimeZone,
    /// Whether it is a dry run.
    pub dry_run: bool,
    /// Where it is in its lifecycle: scheduled, or (on the calendar) a draft with a planned time.
    pub state: PostState,
    /// Its deliveries, by platform then account name (none before it is scheduled).
    pub deliveries: Vec<DeliveryChip>,
}

impl PostSummary {
    /// Whether one of its deliveries is publishing, or is due (or due to be retried) within a
    /// minute of `now`: what is shown of it is about to change.
    pub fn is_about_to_change(&self, now: DateTime<Utc>) -> bool {
        let soon = now + chrono::Duration::minutes(1);
        self.deliveries.iter().any(|d| match d.state {
            DeliveryState::Publishing => true,
            DeliveryState::Scheduled | DeliveryState::Retrying => d.next_attempt_at <= soon,
            _ => false,
        })
    }

    /// Whether it may still be edited, rescheduled or cancelled: nothing has started publishing.
    pub fn is_editable(&self) -> bool {
        self.deliveries.iter().all(|d| matches!(d.state, DeliveryState::Scheduled | DeliveryState::Held) && d.attempts == 0)
    }
}

/// Which posts to list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PostFilter {
    /// Due at or after.
    pub from: Option<DateTime<Utc>>,
    /// Due before.
    pub until: Option<DateTime<Utc>>,
    /// With at least one delivery in this state.
    pub state: Option<DeliveryState>,
    /// Only posts after this one in the listing order (a page's last `(scheduled_at, post_id)`):
    /// the next page.
    pub after: Option<(DateTime<Utc>, Uuid)>,
    /// Only posts before this one in the listing order (a page's first): the previous page, the
    /// `limit` posts nearest to it. Ignored when `after` is set.
    pub before: Option<(DateTime<Utc>, Uuid)>,
    /// Also posts not yet scheduled that have a planned time (drafts, in review, approved): the
    /// dashboard lists what its calendar shows. Never when `state` is set (they have no deliveries).
    pub with_unscheduled: bool,
}

/// A post's row, before its deliveries are added.
struct PostRow {
    post_id: Uuid,
    text: String,
    scheduled_at: DateTime<Utc>,
    schedule_timezone: String,
    dry_run: bool,
    state: PostState,
}

/// The team's posts matching `filter`, latest due first (then by id, so a cursor is exact), at
/// most `limit`.
///
/// Every bound is an index condition on `post (team_id, scheduled_at desc, post_id desc)` (absent
/// ones become infinite rather than `$n is null or …`, which the planner cannot use to seek), so
/// a page costs the same at the first post as at the ten-thousandth.
pub async fn list(pool: &PgPool, team_id: Uuid, filter: &PostFilter, limit: i64) -> Result<Vec<PostSummary>, DomainError> {
    let rows = match (filter.after, filter.before) {
        (None, Some((at, id))) => {
            // The posts just before the cursor in listing order are the nearest ones due after it:
            // read upwards from it, then turn the page the right way round.
            let mut rows = sqlx::query_as!(
                PostRow,
                r#"select p.post_id, p.text, p.scheduled_at as "scheduled_at!", p.schedule_timezone, p.dry_run, p.state as "state: PostState"
                   from post p
                   where p.team_id = $1 and (p.state = 'scheduled' or ($8 and p.state <> 'cancelled'))
                     and p.scheduled_at >= coalesce($2, '-infinity'::timestamptz)
                     and p.scheduled_at < coalesce($3, 'infinity'::timestamptz)
                     and ($4::delivery_state is null or exists (
                           select 1 from delivery d where d.team_id = $1 and d.post_id = p.post_id and d.state = $4))
                     and (p.scheduled_at, p.post_id) > ($6::timestamptz, $7::uuid)
                   order by p.scheduled_at, p.post_id
                   limit $5"#,
                team_id,
                filter.from,
                filter.until,
                filter.state as Option<DeliveryState>,
                limit,
                at,
                id,
                filter.with_unscheduled,
            )
            .fetch_all(pool)
            .await?;
            rows.reverse();
            rows
        }
        (after, _) => {
            sqlx::query_as!(
                PostRow,
                r#"select p.post_id, p.text, p.scheduled_at as "scheduled_at!", p.schedule_timezone, p.dry_run, p.state as "state: PostState"
                   from post p
                   where p.team_id = $1 and (p.state = 'scheduled' or ($8 and p.state <> 'cancelled'))
                     and p.scheduled_at >= coalesce($2, '-infinity'::timestamptz)
                     and p.scheduled_at < coalesce($3, 'infinity'::timestamptz)
                     and ($4::delivery_state is null or exists (
                           select 1 from delivery d where d.team_id = $1 and d.post_id = p.post_id and d.state = $4))
                     and (p.scheduled_at, p.post_id) < (coalesce($6, 'infinity'::timestamptz), coalesce($7, 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid))
                   order by p.scheduled_at desc, p.post_id desc
                   limit $5"#,
                team_id,
                filter.from,
                filter.until,
                filter.state as Option<DeliveryState>,
                limit,
                after.map(|(at, _)| at),
                after.map(|(_, id)| id),
                filter.with_unscheduled,
            )
            .fetch_all(pool)
            .await?
        }
    };
    with_chips(pool, team_id, rows).await
}

/// Rows with their deliveries, in the same order.
async fn with_chips(pool: &PgPool, team_id: Uuid, rows: Vec<PostRow>) -> Result<Vec<PostSummary>, DomainError> {
    let ids: Vec<Uuid> = rows.iter().map(|p| p.post_id).collect();
    let mut chips = chips(pool, team_id, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|p| PostSummary {
            post_id: p.post_id,
            text: p.text,
            scheduled_at: p.scheduled_at,
            timezone: TimeZone::from_stored(&p.schedule_timezone),
            dry_run: p.dry_run,
            state: p.state,
            deliveries: chips.remove(&p.post_id).unwrap_or_default(),
        })
        .collect())
}

/// A position in the post listing, `(scheduled_at, post_id)`, as an opaque string for links and
/// API cursors (URL-safe base64 of `<RFC 3339>|<uuid>`).
pub fn encode_cursor(at: DateTime<Utc>, post_id: Uuid) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(format!("{}|{post_id}", at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)))
}

/// Reads [`encode_cursor`]'s output back; `None` for anything else.
pub fn decode_cursor(cursor: &str) -> Option<(DateTime<Utc>, Uuid)> {
    use base64::Engine as _;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor.trim()).ok()?;
    let raw = String::from_utf8(raw).ok()?;
    let (at, id) = raw.split_once('|')?;
    let at = DateTime::parse_from_rfc3339(at).ok()?.with_timezone(&Utc);
    Some((at, Uuid::parse_str(id).ok()?))
}

/// How many posts a calendar day counts before it says "at least": what a day costs to draw stays
/// the same however busy the team is (a month of a team posting 3,000 times a day counted every
/// post: 100,000 index entries a view, `crier bench --scenario month`).
pub const CALENDAR_COUNT_LIMIT: i64 = 100;

/// One day of the calendar: how many posts are due in it, and the first few.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CalendarDay {
    /// How many of the team's posts (matching the state, if any) are due that day, counted up to
    /// [`CALENDAR_COUNT_LIMIT`].
    pub total: i64,
    /// The day has more posts than `total` (it stopped counting at the limit).
    pub more_than_total: bool,
    /// The earliest of them, earliest first, at most the number asked for.
    pub first: Vec<PostSummary>,
}

/// The calendar's days: for each `[start, end)` in `days`, how many posts are due in it (up to
/// [`CALENDAR_COUNT_LIMIT`], or `per_day` if that is more) and the earliest `per_day` of them (with
/// a delivery in `state`, when set). Reads a bounded number of index entries a day however many
/// posts there are.
pub async fn calendar(
    pool: &PgPool,
    team_id: Uuid,
    days: &[(DateTime<Utc>, DateTime<Utc>)],
    state: Option<DeliveryState>,
    per_day: i64,
) -> Result<Vec<CalendarDay>, DomainError> {
    let (starts, ends): (Vec<DateTime<Utc>>, Vec<DateTime<Utc>>) = days.iter().copied().unzip();
    let count_limit = CALENDAR_COUNT_LIMIT.max(per_day);
    let rows = sqlx::query!(
        r#"select d.day as "day!", c.total as "total!", p.post_id as "post_id?", p.text as "text?", p.scheduled_at as "scheduled_at?",
                  p.schedule_timezone as "schedule_timezone?", p.dry_run as "dry_run?", p.state as "state?: PostState"
           from unnest($2::timestamptz[], $3::timestamptz[]) with ordinality as d (starts, ends, day)
           cross join lateral (
               select count(*) as total from (
                   select from post c
                   where c.team_id = $1 and c.scheduled_at >= d.starts and c.scheduled_at < d.ends and c.state <> 'cancelled'
                     and ($4::delivery_state is null or exists (
                           select 1 from delivery x where x.team_id = $1 and x.post_id = c.post_id and x.state = $4))
                   limit $6
               ) counted
           ) c
           left join lateral (
               select p.post_id, p.text, p.scheduled_at, p.schedule_timezone, p.dry_run, p.state from post p
               where p.team_id = $1 and p.scheduled_at >= d.starts and p.scheduled_at < d.ends and p.state <> 'cancelled'
                 and ($4::delivery_state is null or exists (
                       select 1 from delivery x where x.team_id = $1 and x.post_id = p.post_id and x.state = $4))
               order by p.scheduled_at, p.post_id
               limit $5
           ) p on true
           order by d.day, p.scheduled_at, p.post_id"#,
        team_id,
        &starts,
        &ends,
        state as Option<DeliveryState>,
        per_day,
        count_limit,
    )
    .fetch_all(pool)
    .await?;
    let mut totals = vec![0; days.len()];
    let mut posts: Vec<(usize, PostRow)> = Vec::new();
    for r in rows {
        let index = usize::try_from(r.day - 1).unwrap_or(0);
        if let Some(total) = totals.get_mut(index) {
            *total = r.total;
        }
        if let (Some(post_id), Some(text), Some(scheduled_at), Some(schedule_timezone), Some(dry_run), Some(state)) =
            (r.post_id, r.text, r.scheduled_at, r.schedule_timezone, r.dry_run, r.state)
        {
            posts.push((index, PostRow { post_id, text, scheduled_at, schedule_timezone, dry_run, state }));
        }
    }
    let (indexes, rows): (Vec<usize>, Vec<PostRow>) = posts.into_iter().unzip();
    let mut out: Vec<CalendarDay> =
        totals.into_iter().map(|total| CalendarDay { total, more_than_total: total >= count_limit, first: Vec::new() }).collect();
    for (index, post) in indexes.into_iter().zip(with_chips(pool, team_id, rows).await?) {
        out[index].first.push(post);
    }
    Ok(out)
}

/// How many of the team's deliveries have failed (what "Retry all failed" would retry).
pub async fn failed_count(pool: &PgPool, team_id: Uuid) -> Result<i64, DomainError> {
    Ok(sqlx::query_scalar!("select count(*) from delivery where team_id = $1 and state = 'failed'", team_id)
        .fetch_one(pool)
        .await?
        .unwrap_or(0))
}

async fn chips(pool: &PgPool, team_id: Uuid, post_ids: &[Uuid]) -> Result<std::collections::HashMap<Uuid, Vec<DeliveryChip>>, DomainError> {
    // From the ids outwards: with `d.post_id = any($2)` the generic plan also bitmap-scanned the
    // team's whole (team_id, state) index and ANDed the two, 6 ms a page for a team with 200,000
    // deliveries (`crier bench --scenario month`); a page's 50 posts are 50 index lookups.
    let rows = sqlx::query!(
        r#"select d.post_id, d.delivery_id, d.account_id, a.name, a.platform as "platform: Platform",
                  d.state as "state: DeliveryState", d.permalink, d.last_error_code, d.last_error_message,
                  d.next_attempt_at, d.attempts
           from unnest($2::uuid[]) as wanted (post_id)
           join delivery d on d.post_id = wanted.post_id and d.team_id = $1
           join platform_account a on a.account_id = d.account_id and a.team_id = d.team_id
           order by a.platform, a.name"#,
        team_id,
        post_ids
    )
    .fetch_all(pool)
    .await?;
    let mut by_post: std::collections::HashMap<Uuid, Vec<DeliveryChip>> = std::collections::HashMap::new();
    for r in rows {
        let last_error = error_words(r.last_error_message, r.last_error_code);
        by_post.entry(r.post_id).or_default().push(DeliveryChip {
            delivery_id: r.delivery_id,
            account_id: r.account_id,
            account_name: r.name,
            platform: r.platform,
            state: r.state,
            permalink: r.permalink,
            last_error,
            next_attempt_at: r.next_attempt_at,
            attempts: r.attempts,
        });
    }
    Ok(by_post)
}

/// The platform's words with its code: `Status is a duplicate. (187)`.
fn error_words(message: Option<String>, code: Option<String>) -> Option<String> {
    message.map(|message| match code {
        Some(code) => format!("{message} ({code})"),
        None => message,
    })
}

/// One call to a platform, for a post's timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttemptRow {
    /// The delivery it was for.
    pub delivery_id: Uuid,
    /// 1, 2, …
    pub attempt: i16,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended (none while it runs).
    pub finished_at: Option<DateTime<Utc>>,
    /// How it ended (none while it runs).
    pub outcome: Option<AttemptOutcome>,
    /// The platform's HTTP status.
    pub http_status: Option<i16>,
    /// How long the call took.
    pub duration_ms: Option<i32>,
    /// The platform's code and words, when it failed.
    pub error: Option<String>,
}

/// A post with everything its page shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PostDetail {
    /// The post as listed, with its deliveries.
    pub summary: PostSummary,
    /// What it says.
    pub content: PostContent,
    /// Its retry policy.
    pub retry: RetryPolicy,
    /// Every attempt, oldest first.
    pub attempts: Vec<AttemptRow>,
}

/// One post of the team, with its deliveries and attempts.
pub async fn get(pool: &PgPool, team_id: Uuid, post_id: Uuid) -> Result<PostDetail, DomainError> {
    // A post not yet scheduled has no deliveries and is a draft's business (`store::drafts`).
    let p = sqlx::query!(
        r#"select p.post_id, p.text, p.scheduled_at as "scheduled_at!", p.schedule_timezone, p.dry_run, p.max_attempts, p.retry_base_seconds,
                  p.state as "state: PostState"
           from post p where p.team_id = $1 and p.post_id = $2 and p.state = 'scheduled'"#,
        team_id,
        post_id
    )
    .fetch_optional(pool)
    .await?
    .ok_or(DomainError::NotFound)?;
    let content = content_of(&mut *pool.acquire().await?, team_id, post_id).await?;
    let deliveries = chips(pool, team_id, &[post_id]).await?.remove(&post_id).unwrap_or_default();
    let attempts = sqlx::query!(
        r#"select t.delivery_id, t.attempt, t.started_at, t.finished_at, t.outcome as "outcome: AttemptOutcome", t.http_status, t.duration_ms,
                  t.error_code, t.error_message
           from delivery_attempt t join delivery d on d.delivery_id = t.delivery_id
           where d.team_id = $1 and t.team_id = $1 and d.post_id = $2
           order by t.started_at, t.attempt"#,
        team_id,
        post_id
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| AttemptRow {
        delivery_id: r.delivery_id,
        attempt: r.attempt,
        started_at: r.started_at,
        finished_at: r.finished_at,
        outcome: r.outcome,
        http_status: r.http_status,
        duration_ms: r.duration_ms,
        error: error_words(r.error_message, r.error_code),
    })
    .collect();
    Ok(PostDetail {
        summary: PostSummary {
            post_id: p.post_id,
            text: p.text,
            scheduled_at: p.scheduled_at,
            timezone: TimeZone::from_stored(&p.schedule_timezone),
            dry_run: p.dry_run,
            state: p.state,
            deliveries,
        },
        content,
        retry: RetryPolicy { max_attempts: p.max_attempts, first_retry_seconds: p.retry_base_seconds },
        attempts,
    })
}

/// What the team's post `post_id` says: its text, overrides, link, thread and media.
pub(super) async fn content_of(conn: &mut PgConnection, team_id: Uuid, post_id: Uuid) -> Result<PostContent, DomainError> {
    let p = sqlx::query!(
        r#"select p.text, p.link,
                  coalesce((select array_agg(o.platform::text order by o.platform) from post_text_override o where o.post_id = p.post_id), '{}') as "override_platforms!",
                  coalesce((select array_agg(o.text order by o.platform) from post_text_override o where o.post_id = p.post_id), '{}') as "override_texts!",
                  coalesce((select array_agg(t.text order by t.position) from post_thread_item t where t.post_id = p.post_id), '{}') as "thread!",
                  coalesce((select array_agg(c.platform::text order by c.platform) from post_first_comment c where c.post_id = p.post_id), '{}') as "comment_platforms!",
                  coalesce((select array_agg(c.text order by c.platform) from post_first_comment c where c.post_id = p.post_id), '{}') as "comment_texts!"
           from post p where p.team_id = $1 and p.post_id = $2"#,
        team_id,
        post_id
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(DomainError::NotFound)?;
    let overrides = p
        .override_platforms
        .iter()
        .zip(p.override_texts)
        .filter_map(|(platform, text)| Some((platform.parse::<Platform>().ok()?, text)))
        .collect();
    let media = sqlx::query!(
        r#"select media_id, alt_text, platform as "platform: Platform", item from post_media
           where team_id = $1 and post_id = $2 order by platform nulls first, item, position"#,
        team_id,
        post_id
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|m| MediaChoice { media_id: m.media_id, alt_text: m.alt_text, platform: m.platform, item: m.item.clamp(0, 255) as u8 })
    .collect();
    let tracking = super::link_tracking::of_post(conn, team_id, post_id).await?;
    let first_comments = p
        .comment_platforms
        .iter()
        .zip(p.comment_texts)
        .filter_map(|(platform, text)| Some((platform.parse::<Platform>().ok()?, text)))
        .collect();
    Ok(PostContent { text: p.text, overrides, link: p.link, thread: p.thread, media, tracking, first_comments })
}

/// A post's new content and time.
#[derive(Clone, Debug)]
pub struct PostEdit {
    /// What it says now.
    pub content: PostContent,
    /// When it is due now.
    pub scheduled_at: DateTime<Utc>,
    /// The zone the time was entered in.
    pub timezone: TimeZone,
}

fn already_started() -> DomainError {
    FieldError::new("post", "This post has started publishing, so it can no longer be changed. Retry or cancel its deliveries instead.")
        .into()
}

/// Edits and reschedules a post that has not started publishing. Records `post_edited`.
pub async fn edit(
    pool: &PgPool,
    team_id: Uuid,
    actor: Actor,
    post_id: Uuid,
    edit: &PostEdit,
    rules: &MediaRules,
) -> Result<(), DomainError> {
    let mut tx = pool.begin().await?;
    // The queues it is in, locked before its deliveries (the order queue changes take them in).
    let queued: Vec<Uuid> = sqlx::query_scalar!(
        r#"select distinct account_id as "account_id!" from delivery
           where team_id = $1 and post_id = $2 and queue_slot is not null and state in ('scheduled', 'paused')
           order by 1"#,
        team_id,
        post_id
    )
    .fetch_all(&mut *tx)
    .await?;
    for account_id in &queued {
        queues::lock(&mut tx, *account_id).await?;
    }
    // Lock the deliveries first: a worker claiming one now waits, or has already moved it on.
    let states = sqlx::query!(
        r#"select d.state as "state: DeliveryState", d.attempts, a.platform as "platform: Platform"
           from delivery d join platform_account a on a.account_id = d.account_id
           where d.team_id = $1 and d.post_id = $2 for update of d"#,
        team_id,
        post_id
    )
    .fetch_all(&mut *tx)
    .await?;
    if states.is_empty() {
        return Err(DomainError::NotFound);
    }
    if !states.iter().all(|d| matches!(d.state, DeliveryState::Scheduled | DeliveryState::Held | DeliveryState::Paused) && d.attempts == 0)
    {
        return Err(already_started());
    }
    let previous = sqlx::query_scalar!("select scheduled_at from post where team_id = $1 and post_id = $2", team_id, post_id)
        .fetch_one(&mut *tx)
        .await?;
    let mut platforms: Vec<Platform> = states.iter().map(|d| d.platform).collect();
    platforms.sort_by_key(|p| p.as_str());
    platforms.dedup();
    edit.content.check(&platforms)?;
    check_media(&mut tx, team_id, &edit.content, &platforms, rules).await?;
    sqlx::query!(
        r#"update post set text = $3, link = $4, scheduled_at = $5, schedule_timezone = $6, updated_at = now()
           where team_id = $1 and post_id = $2"#,
        team_id,
        post_id,
        edit.content.text,
        edit.content.link,
        edit.scheduled_at,
        edit.timezone.name()
    )
    .execute(&mut *tx)
    .await?;
    clear_parts(&mut tx, post_id).await?;
    write_content_parts(&mut tx, team_id, post_id, &edit.content).await?;
    // A new time takes the post out of its queues, whose posts after it close up; the same time
    // keeps each delivery where it is, in its queue's slot.
    if previous != Some(edit.scheduled_at) {
        sqlx::query!(
            r#"update delivery set next_attempt_at = $3, queue_slot = null,
                      state = case when state = 'paused' then 'scheduled' else state end
               where team_id = $1 and post_id = $2 and state in ('scheduled', 'paused')"#,
            team_id,
            post_id,
            edit.scheduled_at
        )
        .execute(&mut *tx)
        .await?;
        for account_id in &queued {
            queues::close_gaps(&mut tx, team_id, *account_id).await?;
        }
    }
    audit::record(
        &mut *tx,
        team_id,
        actor,
        "post_edited",
        "post",
        Some(&post_id.to_string()),
        json!({ "scheduled_at": edit.scheduled_at, "timezone": edit.timezone.name() }),
    )
    .await?;
    deliveries::wake_workers(&mut tx, edit.scheduled_at).await?;
    tx.commit().await?;
    Ok(())
}

/// Cancels every delivery of the post that has not been published or started. Records
/// `post_cancelled`; answers how many were cancelled.
pub async fn cancel(pool: &PgPool, team_id: Uuid, actor: Actor, post_id: Uuid) -> Result<u64, DomainError> {
    let mut tx = pool.begin().await?;
    let exists = sqlx::query_scalar!("select count(*) from post where team_id = $1 and post_id = $2", team_id, post_id)
        .fetch_one(&mut *tx)
        .await?
        .unwrap_or(0);
    if exists == 0 {
        return Err(DomainError::NotFound);
    }
    let cancelled = sqlx::query!(
        r#"update delivery set state = 'cancelled'
           where team_id = $1 and post_id = $2 and state in ('scheduled', 'retrying', 'held', 'paused')"#,
        team_id,
        post_id
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if cancelled == 0 {
        return Err(FieldError::new(
            "post",
            "Nothing is left to cancel: every delivery of this post has been published, has failed or is publishing now.",
        )
        .into());
    }
    audit::record(&mut *tx, team_id, actor, "post_cancelled", "post", Some(&post_id.to_string()), json!({ "deliveries": cancelled }))
        .await?;
    tx.commit().await?;
    Ok(cancelled)
}

/// Takes a post back before anything of it was sent (Compose's "Undo"): every delivery is
/// cancelled, but only while each is still waiting for its first attempt; once one has been
/// claimed, nothing changes and the answer says it is too late. The deliveries are locked first,
/// so a worker claiming at the same moment either got there before (too late) or skips them
/// (claims skip locked rows) until they are cancelled. Records `post_cancelled` (with `undo`);
/// answers the post as it was, for the form it goes back to.
pub async fn undo(pool: &PgPool, team_id: Uuid, actor: Actor, post_id: Uuid) -> Result<PostDetail, DomainError> {
    let mut tx = pool.begin().await?;
    let deliveries = sqlx::query!(
        r#"select d.state as "state: DeliveryState", d.attempts from delivery d
           where d.team_id = $1 and d.post_id = $2 order by d.delivery_id for update"#,
        team_id,
        post_id
    )
    .fetch_all(&mut *tx)
    .await?;
    if deliveries.is_empty() {
        return Err(DomainError::NotFound);
    }
    if deliveries.iter().any(|d| d.state != DeliveryState::Scheduled || d.attempts > 0) {
        return Err(FieldError::new(
            "post",
            "Too late to undo: it has started publishing. Its page shows how it goes, and cancels what has not gone out yet.",
        )
        .into());
    }
    let cancelled = sqlx::query!("update delivery set state = 'cancelled' where team_id = $1 and post_id = $2", team_id, post_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    audit::record(
        &mut *tx,
        team_id,
        actor,
        "post_cancelled",
        "post",
        Some(&post_id.to_string()),
        json!({ "deliveries": cancelled, "undo": true }),
    )
    .await?;
    tx.commit().await?;
    get(pool, team_id, post_id).await
}

/// Puts failed deliveries back in the queue, due now, with their failures forgotten: one
/// (`delivery_id`), or every failed one of a post (`post_id`), or of the team (neither).
/// Records `delivery_retry_requested` for each; answers how many.
pub async fn retry_failed(
    pool: &PgPool,
    team_id: Uuid,
    actor: Actor,
    post_id: Option<Uuid>,
    delivery_id: Option<Uuid>,
) -> Result<u64, DomainError> {
    let mut tx = pool.begin().await?;
    let retried = sqlx::query!(
        r#"update delivery set state = 'scheduled', failures = 0, next_attempt_at = now(),
                  last_error_class = null, last_error_code = null, last_error_message = null
           where team_id = $1 and state = 'failed'
             and ($2::uuid is null or post_id = $2) and ($3::uuid is null or delivery_id = $3)
           returning delivery_id, post_id"#,
        team_id,
        post_id,
        delivery_id
    )
    .fetch_all(&mut *tx)
    .await?;
    if retried.is_empty() {
        return match delivery_id.or(post_id) {
            Some(_) => {
                Err(FieldError::new("delivery", "There is no failed delivery to retry here (it may have been retried already).").into())
            }
            None => Ok(0),
        };
    }
    for r in &retried {
        audit::record(
            &mut *tx,
            team_id,
            actor,
            "delivery_retry_requested",
            "delivery",
            Some(&r.delivery_id.to_string()),
            json!({ "post_id": r.post_id }),
        )
        .await?;
    }
    deliveries::wake_workers(&mut tx, Utc::now()).await?;
    tx.commit().await?;
    Ok(retried.len() as u64)
}

/// How many of the team's deliveries are held because their account needs re-authorising (the
/// banner every page shows).
pub async fn held_count(pool: &PgPool, team_id: Uuid) -> Result<i64, DomainError> {
    Ok(sqlx::query_scalar!("select count(*) from delivery where team_id = $1 and state = 'held'", team_id)
        .fetch_one(pool)
        .await?
        .unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(deliveries: &[(DeliveryState, i64)], now: DateTime<Utc>) -> PostSummary {
        PostSummary {
            post_id: Uuid::nil(),
            text: "hello".into(),
            scheduled_at: now,
            timezone: TimeZone::UTC,
            dry_run: false,
            state: PostState::Scheduled,
            deliveries: deliveries
                .iter()
                .map(|&(state, due_in_secs)| DeliveryChip {
                    delivery_id: Uuid::new_v4(),
                    account_id: Uuid::nil(),
                    account_name: "a".into(),
                    platform: Platform::X,
                    state,
                    permalink: None,
                    last_error: None,
                    next_attempt_at: now + chrono::Duration::seconds(due_in_secs),
                    attempts: 0,
                })
                .collect(),
        }
    }

    #[test]
    fn a_post_is_about_to_change_while_publishing_or_due_within_a_minute() {
        let now = Utc::now();
        assert!(summary(&[(DeliveryState::Publishing, -300)], now).is_about_to_change(now));
        assert!(summary(&[(DeliveryState::Scheduled, 30)], now).is_about_to_change(now));
        assert!(summary(&[(DeliveryState::Retrying, -5)], now).is_about_to_change(now), "overdue counts");
        assert!(summary(&[(DeliveryState::Published, 0), (DeliveryState::Retrying, 60)], now).is_about_to_change(now));
        assert!(!summary(&[(DeliveryState::Scheduled, 61)], now).is_about_to_change(now), "due later");
        assert!(!summary(&[(DeliveryState::Retrying, 3600)], now).is_about_to_change(now));
        for settled in
            [DeliveryState::Published, DeliveryState::Failed, DeliveryState::Held, DeliveryState::Cancelled, DeliveryState::DryRunOk]
        {
            assert!(!summary(&[(settled, 0)], now).is_about_to_change(now), "{settled:?} does not move by itself");
        }
    }
}
