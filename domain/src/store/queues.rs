//! Posting schedules and queues: an account's weekly slots, and the posts waiting in its queue,
//! one delivery each at a slot of its own.
//!
//! - **Allocation.** A post added to the queue takes, for each account, the first slot after now
//!   that no waiting delivery of the account holds. Queue changes of one account are serialised
//!   (a transaction-scoped advisory lock), and the database refuses two waiting deliveries at one
//!   slot of an account (`delivery_queue_slot_free`), so two people adding at once never get the
//!   same slot.
//! - **Order.** A queue is its waiting deliveries in slot order. Moving one up, down or to the top,
//!   or shuffling, hands the same slots out in the new order; removing one (its delivery is
//!   cancelled) or resuming a paused queue, or changing the schedule, gives the queue, in its
//!   order, the first free slots after now again: the gaps close.
//! - **Pausing.** A paused queue's deliveries wait in state `paused` (no worker claims them) and
//!   take fresh slots when it resumes, so nothing goes out in a burst for the slots that passed.
//!
//! Only deliveries that have not been tried (state `scheduled` or `paused`, no attempt) are in a
//! queue's order; one being published has left it.

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::audit::{self, Actor};
use super::deliveries;
use crate::field_error::FieldError;
use crate::posting_schedule::{Slot, SlotTime, WeeklySchedule};
use crate::{DomainError, timezone::TimeZone};

/// The most posts a queue lists (and holds).
pub const MAX_QUEUED: i64 = 500;

/// An account's schedule as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// The week.
    pub week: WeeklySchedule,
    /// When the queue was paused, if it is.
    pub paused_at: Option<DateTime<Utc>>,
}

/// One post waiting in a queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Queued {
    /// Its delivery to this account.
    pub delivery_id: Uuid,
    /// Its post.
    pub post_id: Uuid,
    /// The post's text.
    pub text: String,
    /// The slot it holds.
    pub at: DateTime<Utc>,
    /// Why that slot is not at its wall-clock time (a skipped or repeated time), if so.
    pub note: Option<String>,
}

/// An account's queue page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueView {
    /// The account's name.
    pub name: String,
    /// Its platform's name for people.
    pub platform: String,
    /// Its schedule, if it has one.
    pub schedule: Option<Schedule>,
    /// What waits, in order.
    pub items: Vec<Queued>,
    /// The next free slots (for the page to show where the next posts go).
    pub next_free: Vec<SlotTime>,
}

/// Records what `actor` did to the account's queue or schedule.
async fn record(
    conn: &mut PgConnection,
    team_id: Uuid,
    actor: Actor,
    account_id: Uuid,
    action: &str,
    metadata: serde_json::Value,
) -> Result<(), DomainError> {
    audit::record(conn, team_id, actor, action, "account", Some(&account_id.to_string()), metadata).await
}

/// Serialises queue changes of one account (until the transaction ends).
pub(crate) async fn lock(conn: &mut PgConnection, account_id: Uuid) -> Result<(), DomainError> {
    sqlx::query!("select pg_advisory_xact_lock(hashtextextended('crier_queue:' || $1::text, 0))", account_id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The team's account's schedule, if it has one.
pub async fn schedule(conn: &mut PgConnection, team_id: Uuid, account_id: Uuid) -> Result<Option<Schedule>, DomainError> {
    let Some(row) =
        sqlx::query!("select timezone, paused_at from posting_schedule where team_id = $1 and account_id = $2", team_id, account_id)
            .fetch_optional(&mut *conn)
            .await?
    else {
        return Ok(None);
    };
    let slots = sqlx::query!("select weekday, minute from posting_slot where account_id = $1 order by weekday, minute", account_id)
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .filter_map(|s| Slot::new(u8::try_from(s.weekday).ok()?, u16::try_from(s.minute).ok()?))
        .collect();
    Ok(Some(Schedule { week: WeeklySchedule { timezone: TimeZone::from_stored(&row.timezone), slots }, paused_at: row.paused_at }))
}

/// The waiting deliveries of the account's queue, in order, locked.
async fn waiting(conn: &mut PgConnection, team_id: Uuid, account_id: Uuid) -> Result<Vec<(Uuid, DateTime<Utc>)>, DomainError> {
    Ok(sqlx::query!(
        r#"select delivery_id, queue_slot as "queue_slot!" from delivery
           where team_id = $1 and account_id = $2 and queue_slot is not null and state in ('scheduled', 'paused') and attempts = 0
           order by queue_slot, delivery_id
           for update"#,
        team_id,
        account_id
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|r| (r.delivery_id, r.queue_slot))
    .collect())
}

/// Gives `order`'s deliveries the slots `times`, in order (the deferred constraint allows swaps),
/// and each touched post its earliest delivery's time.
async fn assign(conn: &mut PgConnection, team_id: Uuid, order: &[Uuid], times: &[DateTime<Utc>]) -> Result<(), DomainError> {
    sqlx::query!(
        r#"with slot as (select * from unnest($2::uuid[], $3::timestamptz[]) as s (delivery_id, at)),
           moved as (
               update delivery d set queue_slot = s.at, next_attempt_at = s.at
               from slot s where d.team_id = $1 and d.delivery_id = s.delivery_id
               returning d.post_id
           )
           update post p set scheduled_at = (select min(d.next_attempt_at) from delivery d
                                             where d.post_id = p.post_id and d.state in ('scheduled', 'paused', 'held', 'retrying'))
           where p.team_id = $1 and p.post_id in (select post_id from moved)"#,
        team_id,
        order,
        times
    )
    .execute(&mut *conn)
    .await?;
    if let Some(first) = times.iter().min() {
        deliveries::wake_workers(conn, *first).await?;
    }
    Ok(())
}

/// The first `count` slots after now that none of `held` (other waiting deliveries' slots) holds.
fn free_slots(schedule: &WeeklySchedule, held: &[DateTime<Utc>], count: usize) -> Vec<SlotTime> {
    schedule.after(Utc::now()).filter(|slot| !held.contains(&slot.at)).take(count).collect()
}

/// The words for an account without slots.
fn no_slots(name: &str) -> DomainError {
    FieldError::new(
        "accounts",
        format!("“{name}” has no posting schedule yet: set its times on its queue page (Accounts → Queue), or choose a time."),
    )
    .into()
}

/// For each account of a post being added to the queue (the team's, checked by the caller, in
/// this order): its slot, and whether its queue is paused. Holds each account's queue lock until
/// the caller's transaction ends.
pub(crate) async fn allocate(
    conn: &mut PgConnection,
    team_id: Uuid,
    accounts: &[(Uuid, String)],
) -> Result<Vec<(SlotTime, bool)>, DomainError> {
    let mut chosen = Vec::with_capacity(accounts.len());
    for (account_id, name) in accounts {
        lock(conn, *account_id).await?;
        let schedule = schedule(conn, team_id, *account_id).await?.ok_or_else(|| no_slots(name))?;
        let held: Vec<DateTime<Utc>> = waiting(conn, team_id, *account_id).await?.into_iter().map(|(_, at)| at).collect();
        if held.len() as i64 >= MAX_QUEUED {
            return Err(FieldError::new("accounts", format!("“{name}”'s queue holds {MAX_QUEUED} posts already.")).into());
        }
        let slot = free_slots(&schedule.week, &held, 1).pop().ok_or_else(|| no_slots(name))?;
        chosen.push((slot, schedule.paused_at.is_some()));
    }
    Ok(chosen)
}

/// The team's account's queue.
pub async fn view(pool: &PgPool, team_id: Uuid, account_id: Uuid) -> Result<QueueView, DomainError> {
    let mut conn = pool.acquire().await?;
    let account = sqlx::query!(
        r#"select name, platform as "platform: crier_platform::Platform" from platform_account where team_id = $1 and account_id = $2"#,
        team_id,
        account_id
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(DomainError::NotFound)?;
    let schedule = schedule(&mut conn, team_id, account_id).await?;
    let rows = sqlx::query!(
        r#"select d.delivery_id, d.post_id, p.text, d.queue_slot as "queue_slot!" from delivery d join post p on p.post_id = d.post_id and p.team_id = d.team_id
           where d.team_id = $1 and d.account_id = $2 and d.queue_slot is not null and d.state in ('scheduled', 'paused') and d.attempts = 0
           order by d.queue_slot, d.delivery_id
           limit $3"#,
        team_id,
        account_id,
        MAX_QUEUED
    )
    .fetch_all(&mut *conn)
    .await?;
    // Each slot's note, found by walking the schedule's moments as far as the last one held.
    let notes: Vec<SlotTime> = match (&schedule, rows.last()) {
        (Some(s), Some(last)) => {
            s.week.after(rows[0].queue_slot - chrono::TimeDelta::seconds(1)).take_while(|t| t.at <= last.queue_slot).collect()
        }
        _ => Vec::new(),
    };
    let held: Vec<DateTime<Utc>> = rows.iter().map(|r| r.queue_slot).collect();
    let next_free = schedule.as_ref().map(|s| free_slots(&s.week, &held, 3)).unwrap_or_default();
    let items = rows
        .into_iter()
        .map(|r| Queued {
            note: notes.iter().find(|t| t.at == r.queue_slot).and_then(|t| t.note.clone()),
            delivery_id: r.delivery_id,
            post_id: r.post_id,
            text: r.text,
            at: r.queue_slot,
        })
        .collect();
    Ok(QueueView { name: account.name, platform: account.platform.label().to_owned(), schedule, items, next_free })
}

/// Saves the account's schedule (the caller checks the role: editors and up) and gives its queue, in order, the new schedule's
/// first free slots. Records `posting_schedule_saved`.
pub async fn set_schedule(pool: &PgPool, team_id: Uuid, actor: Actor, account_id: Uuid, week: &WeeklySchedule) -> Result<(), DomainError> {
    let mut tx = pool.begin().await?;
    let exists = sqlx::query_scalar!("select 1 from platform_account where team_id = $1 and account_id = $2", team_id, account_id)
        .fetch_optional(&mut *tx)
        .await?;
    if exists.is_none() {
        return Err(DomainError::NotFound);
    }
    lock(&mut tx, account_id).await?;
    sqlx::query!(
        r#"insert into posting_schedule (account_id, team_id, timezone) values ($1, $2, $3)
           on conflict (account_id) do update set timezone = excluded.timezone, updated_at = now()"#,
        account_id,
        team_id,
        week.timezone.name()
    )
    .execute(&mut *tx)
    .await?;
    let weekdays: Vec<i16> = week.slots.iter().map(|s| i16::from(s.weekday)).collect();
    let minutes: Vec<i16> = week.slots.iter().map(|s| i16::try_from(s.minute).unwrap_or(0)).collect();
    sqlx::query!("delete from posting_slot where account_id = $1", account_id).execute(&mut *tx).await?;
    sqlx::query!(
        "insert into posting_slot (account_id, weekday, minute) select $1, w, m from unnest($2::int2[], $3::int2[]) as s (w, m)",
        account_id,
        &weekdays,
        &minutes
    )
    .execute(&mut *tx)
    .await?;
    let order: Vec<Uuid> = waiting(&mut tx, team_id, account_id).await?.into_iter().map(|(id, _)| id).collect();
    reslot(&mut tx, team_id, account_id, week, &order).await?;
    record(
        &mut tx,
        team_id,
        actor,
        account_id,
        "posting_schedule_saved",
        json!({ "timezone": week.timezone.name(), "slots": week.slots.len(), "queued": order.len() }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Gives `order` the first slots after now, in order; with too few slots (none left in the
/// schedule), refuses.
async fn reslot(
    conn: &mut PgConnection,
    team_id: Uuid,
    account_id: Uuid,
    week: &WeeklySchedule,
    order: &[Uuid],
) -> Result<(), DomainError> {
    if order.is_empty() {
        return Ok(());
    }
    let times: Vec<DateTime<Utc>> = free_slots(week, &[], order.len()).into_iter().map(|s| s.at).collect();
    if times.len() < order.len() {
        let _ = account_id;
        return Err(FieldError::new(
            "times_1",
            format!("This queue holds {} posts: give the schedule at least one time, or remove them from the queue first.", order.len()),
        )
        .into());
    }
    assign(conn, team_id, order, &times).await
}

/// Gives the account's queue, in its order, the first free times again (after a post left it
/// other than through [`remove`], e.g. edited to a time of its own), on the caller's transaction.
pub(crate) async fn close_gaps(conn: &mut PgConnection, team_id: Uuid, account_id: Uuid) -> Result<(), DomainError> {
    lock(conn, account_id).await?;
    let Some(schedule) = schedule(conn, team_id, account_id).await? else { return Ok(()) };
    let order: Vec<Uuid> = waiting(conn, team_id, account_id).await?.into_iter().map(|(id, _)| id).collect();
    reslot(conn, team_id, account_id, &schedule.week, &order).await
}

/// A move in a queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Move {
    /// One place earlier.
    Up,
    /// One place later.
    Down,
    /// First.
    Top,
    /// Every post in a random order.
    Shuffle,
}

impl Move {
    /// Parses a form's button value.
    pub fn parse(raw: &str) -> Option<Move> {
        match raw.trim() {
            "up" => Some(Move::Up),
            "down" => Some(Move::Down),
            "top" => Some(Move::Top),
            "shuffle" => Some(Move::Shuffle),
            _ => None,
        }
    }
}

/// Reorders the account's queue (the caller checks the role: editors and up): moves `delivery_id` (not needed to shuffle),
/// handing the same slots out in the new order. Records `queue_reordered`.
pub async fn reorder(
    pool: &PgPool,
    team_id: Uuid,
    actor: Actor,
    account_id: Uuid,
    delivery_id: Option<Uuid>,
    how: Move,
) -> Result<(), DomainError> {
    let mut tx = pool.begin().await?;
    lock(&mut tx, account_id).await?;
    let held = waiting(&mut tx, team_id, account_id).await?;
    let times: Vec<DateTime<Utc>> = held.iter().map(|(_, at)| *at).collect();
    let mut order: Vec<Uuid> = held.iter().map(|(id, _)| *id).collect();
    match how {
        Move::Shuffle => shuffle(&mut order),
        _ => {
            let wanted = delivery_id.ok_or(DomainError::NotFound)?;
            let at = order.iter().position(|id| *id == wanted).ok_or_else(|| {
                DomainError::from(FieldError::new("queue", "That post is no longer waiting in this queue (it went out, or was removed)."))
            })?;
            match how {
                Move::Up if at > 0 => order.swap(at, at - 1),
                Move::Down if at + 1 < order.len() => order.swap(at, at + 1),
                Move::Top => {
                    let moved = order.remove(at);
                    order.insert(0, moved);
                }
                _ => {}
            }
        }
    }
    assign(&mut tx, team_id, &order, &times).await?;
    record(
        &mut tx,
        team_id,
        actor,
        account_id,
        "queue_reordered",
        json!({ "how": format!("{how:?}").to_lowercase(), "delivery": delivery_id }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Fisher–Yates with the operating system's randomness.
fn shuffle(order: &mut [Uuid]) {
    for i in (1..order.len()).rev() {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).expect("the operating system's random source is available");
        let j = usize::try_from(u64::from_le_bytes(bytes) % (i as u64 + 1)).unwrap_or(0);
        order.swap(i, j);
    }
}

/// Removes a post from the account's queue (the caller checks the role: editors and up): its delivery to this account is
/// cancelled, and the rest close the gap. Records `queue_removed`.
pub async fn remove(pool: &PgPool, team_id: Uuid, actor: Actor, account_id: Uuid, delivery_id: Uuid) -> Result<(), DomainError> {
    let mut tx = pool.begin().await?;
    lock(&mut tx, account_id).await?;
    let mut order: Vec<Uuid> = waiting(&mut tx, team_id, account_id).await?.into_iter().map(|(id, _)| id).collect();
    let at = order.iter().position(|id| *id == delivery_id).ok_or_else(|| {
        DomainError::from(FieldError::new("queue", "That post is no longer waiting in this queue (it went out, or was removed)."))
    })?;
    order.remove(at);
    sqlx::query!(
        "update delivery set state = 'cancelled', queue_slot = null where team_id = $1 and delivery_id = $2",
        team_id,
        delivery_id
    )
    .execute(&mut *tx)
    .await?;
    let week = schedule(&mut tx, team_id, account_id).await?.map(|s| s.week);
    if let Some(week) = week {
        reslot(&mut tx, team_id, account_id, &week, &order).await?;
    }
    record(&mut tx, team_id, actor, account_id, "queue_removed", json!({ "delivery": delivery_id })).await?;
    tx.commit().await?;
    Ok(())
}

/// Pauses or resumes the account's queue (the caller checks the role: editors and up): pausing holds its posts (state
/// `paused`), resuming gives them, in order, the first free slots after now. Records
/// `queue_paused` or `queue_resumed`.
pub async fn set_paused(pool: &PgPool, team_id: Uuid, actor: Actor, account_id: Uuid, paused: bool) -> Result<(), DomainError> {
    let mut tx = pool.begin().await?;
    lock(&mut tx, account_id).await?;
    let week = schedule(&mut tx, team_id, account_id)
        .await?
        .ok_or_else(|| DomainError::from(FieldError::new("queue", "Set a posting schedule first: this account has no queue yet.")))?
        .week;
    sqlx::query!(
        "update posting_schedule set paused_at = case when $3 then coalesce(paused_at, now()) end where team_id = $1 and account_id = $2",
        team_id,
        account_id,
        paused
    )
    .execute(&mut *tx)
    .await?;
    let order: Vec<Uuid> = waiting(&mut tx, team_id, account_id).await?.into_iter().map(|(id, _)| id).collect();
    let (from, to) = if paused { ("scheduled", "paused") } else { ("paused", "scheduled") };
    if !paused {
        reslot(&mut tx, team_id, account_id, &week, &order).await?;
    }
    sqlx::query!(
        "update delivery set state = $4::text::delivery_state where team_id = $1 and delivery_id = any($2) and state = $3::text::delivery_state",
        team_id,
        &order,
        from,
        to
    )
    .execute(&mut *tx)
    .await?;
    record(&mut tx, team_id, actor, account_id, if paused { "queue_paused" } else { "queue_resumed" }, json!({ "queued": order.len() }))
        .await?;
    tx.commit().await?;
    Ok(())
}

/// A free posting time of one of the team's accounts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FreeSlot {
    /// The account.
    pub account_id: Uuid,
    /// Its name.
    pub name: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// The most accounts and free times the calendar's week shows.
pub const FREE_SLOTS_SHOWN: usize = 200;

/// The team's accounts' free posting times between `from` and `until` (after now; queues not
/// paused), in time order, at most [`FREE_SLOTS_SHOWN`].
pub async fn free_between(pool: &PgPool, team_id: Uuid, from: DateTime<Utc>, until: DateTime<Utc>) -> Result<Vec<FreeSlot>, DomainError> {
    // Two statements for the whole team, whatever its number of accounts: each schedule with its
    // slots, and every slot held in the range.
    let accounts = sqlx::query!(
        r#"select s.account_id, a.name, s.timezone,
                  coalesce(array_agg(ps.weekday order by ps.weekday, ps.minute) filter (where ps.weekday is not null), '{}') as "weekdays!",
                  coalesce(array_agg(ps.minute order by ps.weekday, ps.minute) filter (where ps.weekday is not null), '{}') as "minutes!"
           from posting_schedule s
           join platform_account a on a.account_id = s.account_id and a.team_id = s.team_id
           left join posting_slot ps on ps.account_id = s.account_id
           where s.team_id = $1 and s.paused_at is null and a.status <> 'disconnected'
           group by s.account_id, a.name, s.timezone
           order by a.name, s.account_id limit 50"#,
        team_id
    )
    .fetch_all(pool)
    .await?;
    let start = from.max(Utc::now());
    let held: Vec<(Uuid, DateTime<Utc>)> = sqlx::query!(
        r#"select account_id, queue_slot as "queue_slot!" from delivery
           where team_id = $1 and queue_slot >= $2 and queue_slot < $3 and state in ('scheduled', 'paused')"#,
        team_id,
        start,
        until
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| (r.account_id, r.queue_slot))
    .collect();
    let mut free = Vec::new();
    for account in accounts {
        let slots = account
            .weekdays
            .iter()
            .zip(&account.minutes)
            .filter_map(|(w, m)| Slot::new(u8::try_from(*w).ok()?, u16::try_from(*m).ok()?))
            .collect();
        let week = WeeklySchedule { timezone: TimeZone::from_stored(&account.timezone), slots };
        free.extend(
            week.after(start)
                .take_while(|slot| slot.at < until)
                .filter(|slot| !held.contains(&(account.account_id, slot.at)))
                .take(FREE_SLOTS_SHOWN)
                .map(|slot| FreeSlot { account_id: account.account_id, name: account.name.clone(), at: slot.at }),
        );
    }
    free.sort_by_key(|f| (f.at, f.name.clone()));
    free.truncate(FREE_SLOTS_SHOWN);
    Ok(free)
}

/// Puts the team's post's delivery to `account_id` into that account's queue at `at`, one of its
/// free posting times (a post dropped on a free time in the calendar, already moved there). A
/// time that is not a free slot of the account, or a post with no waiting delivery to it, is left
/// as it is: answers whether it joined the queue. Records `queue_joined`.
pub async fn take_slot(
    pool: &PgPool,
    team_id: Uuid,
    actor: Actor,
    account_id: Uuid,
    post_id: Uuid,
    at: DateTime<Utc>,
) -> Result<bool, DomainError> {
    let mut tx = pool.begin().await?;
    lock(&mut tx, account_id).await?;
    let Some(schedule) = schedule(&mut tx, team_id, account_id).await? else { return Ok(false) };
    let held: Vec<DateTime<Utc>> = waiting(&mut tx, team_id, account_id).await?.into_iter().map(|(_, at)| at).collect();
    let is_free = schedule.week.after(at - chrono::TimeDelta::seconds(1)).next().is_some_and(|slot| slot.at == at) && !held.contains(&at);
    if !is_free {
        return Ok(false);
    }
    let state = if schedule.paused_at.is_some() { "paused" } else { "scheduled" };
    let joined = sqlx::query!(
        r#"update delivery set queue_slot = $4, next_attempt_at = $4, state = $5::text::delivery_state
           where team_id = $1 and post_id = $2 and account_id = $3 and state = 'scheduled' and attempts = 0"#,
        team_id,
        post_id,
        account_id,
        at,
        state
    )
    .execute(&mut *tx)
    .await?
    .rows_affected()
        > 0;
    if joined {
        record(&mut tx, team_id, actor, account_id, "queue_joined", json!({ "post": post_id, "at": at })).await?;
        tx.commit().await?;
    }
    Ok(joined)
}
