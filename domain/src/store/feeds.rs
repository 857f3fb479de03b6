//! The feeds a team follows, and what their polls found (see [`crate::feed`]).
//!
//! The team's side (add, list, remove) is scoped by the team in every query: another team's
//! feed id answers [`DomainError::NotFound`]. Owners and admins add and remove feeds; both are
//! audited (`feed_created`, `feed_deleted`).
//!
//! The poller's side claims feeds with a lease ([`claim_due`], [`claim_one`]: `for update skip
//! locked`, so two processes never poll one feed at once, and no transaction stays open while the
//! feed is fetched), takes each new item in a transaction of its own ([`take_item`]: the item's
//! key and the post it made are written together, so an item is never posted twice), and records
//! the outcome ([`finish`]), which ends the lease.

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::{Acquire, PgPool};
use uuid::Uuid;

use super::Member;
use super::audit::{self, Actor};
use super::{drafts, posts};
use crate::feed::{FeedMode, FeedTemplate, ItemFacts, MAX_FEEDS_PER_TEAM, NewFeed, next_poll_in};
use crate::post::{MediaRules, PostContent};
use crate::timezone::TimeZone;
use crate::{DomainError, FieldError};

/// A feed as its page shows it.
#[derive(Clone, Debug)]
pub struct FeedView {
    /// Its id.
    pub feed_id: Uuid,
    /// Its address.
    pub url: String,
    /// The feed's own title, once read.
    pub title: Option<String>,
    /// The posts' template.
    pub template: String,
    /// What new items become.
    pub mode: FeedMode,
    /// The accounts its posts go to: (id, name, platform label).
    pub accounts: Vec<(Uuid, String, String)>,
    /// When it was added.
    pub created_at: DateTime<Utc>,
    /// When it was last polled.
    pub last_polled_at: Option<DateTime<Utc>>,
    /// What the last poll did, in words.
    pub last_outcome: Option<String>,
    /// Why the last poll failed, in words.
    pub last_error: Option<String>,
    /// Failed polls in a row.
    pub error_count: i32,
    /// When it is polled next.
    pub next_poll_at: DateTime<Utc>,
    /// Its latest items (not those that were there before it was added), newest first.
    pub items: Vec<FeedItemView>,
}

/// An item a feed showed, and what became of it.
#[derive(Clone, Debug)]
pub struct FeedItemView {
    /// Its title.
    pub title: Option<String>,
    /// Its address.
    pub link: Option<String>,
    /// posted, drafted or skipped.
    pub state: String,
    /// Why it was skipped.
    pub reason: Option<String>,
    /// The post (or draft) it made, while it exists.
    pub post_id: Option<Uuid>,
    /// When Crier first saw it.
    pub seen_at: DateTime<Utc>,
}

/// How many of a feed's latest items its page shows.
pub const ITEMS_SHOWN: i64 = 10;

/// Adds a feed (owners and admins): its accounts must be the team's and connected, its address
/// new to the team, and the team under [`MAX_FEEDS_PER_TEAM`]. Its first poll is due at once.
pub async fn add(pool: &PgPool, me: &Member, feed: &NewFeed) -> Result<Uuid, DomainError> {
    me.require_manager()?;
    let mut tx = pool.begin().await?;
    // Serialises additions per team, so two at once cannot both pass the limit.
    sqlx::query!("select team_id from team where team_id = $1 for update", me.team_id).fetch_one(&mut *tx).await?;
    let count = sqlx::query_scalar!(r#"select count(*) as "count!" from feed where team_id = $1"#, me.team_id).fetch_one(&mut *tx).await?;
    if count >= MAX_FEEDS_PER_TEAM {
        return Err(FieldError::new("url", format!("A team can follow {MAX_FEEDS_PER_TEAM} feeds. Remove one first.")).into());
    }
    let usable = sqlx::query_scalar!(
        r#"select count(*) as "count!" from platform_account where team_id = $1 and account_id = any($2) and status <> 'disconnected'"#,
        me.team_id,
        &feed.account_ids
    )
    .fetch_one(&mut *tx)
    .await?;
    if usize::try_from(usable).unwrap_or(0) != feed.account_ids.len() {
        return Err(FieldError::new(
            "accounts",
            "One of the chosen accounts is disconnected or not the team's: reconnect it on the Accounts page, or untick it.",
        )
        .into());
    }
    let feed_id = sqlx::query_scalar!(
        "insert into feed (team_id, url, template, mode, created_by) values ($1, $2, $3, $4, $5) returning feed_id",
        me.team_id,
        feed.url.as_str(),
        feed.template.as_str(),
        feed.mode.as_str(),
        me.user_id
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| DomainError::on_constraint(e, "feed_team_url_key", FieldError::new("url", "The team already follows this feed.")))?;
    sqlx::query!("insert into feed_account (feed_id, account_id) select $1, unnest($2::uuid[])", feed_id, &feed.account_ids)
        .execute(&mut *tx)
        .await?;
    // The host only: a private feed's address may carry a key in its path or query.
    let host = host_of(feed.url.as_str());
    audit::record(
        &mut *tx,
        me.team_id,
        Actor::User(me.user_id),
        "feed_created",
        "feed",
        Some(&feed_id.to_string()),
        json!({ "host": host, "mode": feed.mode.as_str(), "accounts": feed.account_ids }),
    )
    .await?;
    tx.commit().await?;
    Ok(feed_id)
}

/// The host of a feed's address, for the audit trail.
fn host_of(url: &str) -> Option<String> {
    url::Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_owned))
}

/// Removes a feed of the team (owners and admins). The posts it made stay.
pub async fn remove(pool: &PgPool, me: &Member, feed_id: Uuid) -> Result<(), DomainError> {
    me.require_manager()?;
    let mut tx = pool.begin().await?;
    let url = sqlx::query_scalar!("delete from feed where team_id = $1 and feed_id = $2 returning url", me.team_id, feed_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(DomainError::NotFound)?;
    audit::record(
        &mut *tx,
        me.team_id,
        Actor::User(me.user_id),
        "feed_deleted",
        "feed",
        Some(&feed_id.to_string()),
        json!({ "host": host_of(&url) }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The team's feeds, oldest first, each with its accounts and latest items (two statements,
/// whatever the number of feeds).
pub async fn list(pool: &PgPool, team_id: Uuid) -> Result<Vec<FeedView>, DomainError> {
    let rows = sqlx::query!(
        r#"select f.feed_id, f.url, f.title, f.template, f.mode, f.created_at, f.last_polled_at, f.last_outcome, f.last_error,
                  f.error_count, f.next_poll_at,
                  coalesce(array_agg(a.account_id order by a.name) filter (where a.account_id is not null), '{}') as "account_ids!: Vec<Uuid>",
                  coalesce(array_agg(a.name order by a.name) filter (where a.account_id is not null), '{}') as "account_names!: Vec<String>",
                  coalesce(array_agg(a.platform::text order by a.name) filter (where a.account_id is not null), '{}') as "platforms!: Vec<String>"
           from feed f
           left join feed_account fa on fa.feed_id = f.feed_id
           left join platform_account a on a.account_id = fa.account_id and a.team_id = f.team_id
           where f.team_id = $1
           group by f.feed_id
           order by f.created_at, f.feed_id"#,
        team_id
    )
    .fetch_all(pool)
    .await?;
    let items = sqlx::query!(
        r#"select i.feed_id, i.title, i.link, i.state, i.reason, i.post_id, i.seen_at
           from feed f cross join lateral (
               select * from feed_item i where i.feed_id = f.feed_id and i.state <> 'existing' order by i.seen_at desc, i.item_key limit $2
           ) i
           where f.team_id = $1"#,
        team_id,
        ITEMS_SHOWN
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| FeedView {
            feed_id: r.feed_id,
            url: r.url,
            title: r.title,
            template: r.template,
            mode: FeedMode::parse(&r.mode).unwrap_or(FeedMode::Draft),
            accounts: r
                .account_ids
                .into_iter()
                .zip(r.account_names)
                .zip(r.platforms)
                .map(|((id, name), platform)| {
                    let label = platform.parse::<crier_platform::Platform>().map_or(platform, |p| p.label().to_owned());
                    (id, name, label)
                })
                .collect(),
            created_at: r.created_at,
            last_polled_at: r.last_polled_at,
            last_outcome: r.last_outcome,
            last_error: r.last_error,
            error_count: r.error_count,
            next_poll_at: r.next_poll_at,
            items: items
                .iter()
                .filter(|i| i.feed_id == r.feed_id)
                .map(|i| FeedItemView {
                    title: i.title.clone(),
                    link: i.link.clone(),
                    state: i.state.clone(),
                    reason: i.reason.clone(),
                    post_id: i.post_id,
                    seen_at: i.seen_at,
                })
                .collect(),
        })
        .collect())
}

/// One of the team's feeds.
pub async fn get(pool: &PgPool, team_id: Uuid, feed_id: Uuid) -> Result<FeedView, DomainError> {
    list(pool, team_id).await?.into_iter().find(|f| f.feed_id == feed_id).ok_or(DomainError::NotFound)
}

// ---------------------------------------------------------------------------------------------
// The poller's side.

/// A feed claimed for one poll.
#[derive(Clone, Debug)]
pub struct Claimed {
    /// The feed.
    pub feed_id: Uuid,
    /// Its team.
    pub team_id: Uuid,
    /// Its address.
    pub url: String,
    /// The posts' template (as stored: parsed again, and a feed whose template no longer parses
    /// is reported, not posted from).
    pub template: String,
    /// What new items become.
    pub mode: FeedMode,
    /// The accounts its posts go to.
    pub account_ids: Vec<Uuid>,
    /// Who writes its posts: the feed's creator while they are in the team, else the team's
    /// first owner (so the team's approval rule applies as it would to a person).
    pub actor: Actor,
    /// The validators to send back.
    pub etag: Option<String>,
    /// The `Last-Modified` to send back.
    pub last_modified: Option<String>,
    /// Whether a poll has read it before.
    pub primed: bool,
    /// When it was added.
    pub created_at: DateTime<Utc>,
    /// Failed polls in a row before this one.
    pub error_count: i32,
}

struct ClaimRow {
    feed_id: Uuid,
    team_id: Uuid,
    url: String,
    template: String,
    mode: String,
    etag: Option<String>,
    last_modified: Option<String>,
    primed: bool,
    created_at: DateTime<Utc>,
    error_count: i32,
    account_ids: Vec<Uuid>,
    author_id: Option<Uuid>,
}

impl From<ClaimRow> for Claimed {
    fn from(r: ClaimRow) -> Self {
        Claimed {
            feed_id: r.feed_id,
            team_id: r.team_id,
            url: r.url,
            template: r.template,
            mode: FeedMode::parse(&r.mode).unwrap_or(FeedMode::Draft),
            account_ids: r.account_ids,
            actor: r.author_id.map_or(Actor::System, Actor::User),
            etag: r.etag,
            last_modified: r.last_modified,
            primed: r.primed,
            created_at: r.created_at,
            error_count: r.error_count,
        }
    }
}

fn lease_end(now: DateTime<Utc>, lease: Duration) -> DateTime<Utc> {
    now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::minutes(5))
}

/// Claims up to `limit` feeds due at `now`, oldest due first, for `lease`; feeds another process
/// holds are skipped.
pub async fn claim_due(pool: &PgPool, now: DateTime<Utc>, lease: Duration, limit: i64) -> Result<Vec<Claimed>, DomainError> {
    claim(pool, now, lease, limit, None).await
}

/// Claims the team's feed `feed_id` now, whether or not it is due ("Check now"): `None` while
/// another poll of it is under way; [`DomainError::NotFound`] for another team's feed.
pub async fn claim_one(
    pool: &PgPool,
    team_id: Uuid,
    feed_id: Uuid,
    now: DateTime<Utc>,
    lease: Duration,
) -> Result<Option<Claimed>, DomainError> {
    let exists = sqlx::query_scalar!(r#"select count(*) as "count!" from feed where team_id = $1 and feed_id = $2"#, team_id, feed_id)
        .fetch_one(pool)
        .await?;
    if exists == 0 {
        return Err(DomainError::NotFound);
    }
    Ok(claim(pool, now, lease, 1, Some((team_id, feed_id))).await?.pop())
}

/// Claims feeds not held by another poll: the due ones, or the team's feed `only`, due or not.
async fn claim(
    pool: &PgPool,
    now: DateTime<Utc>,
    lease: Duration,
    limit: i64,
    only: Option<(Uuid, Uuid)>,
) -> Result<Vec<Claimed>, DomainError> {
    let rows = sqlx::query_as!(
        ClaimRow,
        r#"with due as (
               select feed_id from feed
               where (claimed_until is null or claimed_until <= $1)
                 -- An OR the planner can answer from two indexes (feed_due_idx, the key).
                 and (($4::uuid is null and next_poll_at <= $1) or (feed_id = $5 and team_id = $4))
               order by next_poll_at limit $3 for update skip locked
           ), claimed as (
               update feed f set claimed_until = $2 from due where f.feed_id = due.feed_id
               returning f.feed_id, f.team_id, f.url, f.template, f.mode, f.etag, f.last_modified, f.primed, f.created_at,
                         f.error_count, f.created_by
           )
           select c.feed_id as "feed_id!", c.team_id as "team_id!", c.url as "url!", c.template as "template!", c.mode as "mode!",
                  c.etag, c.last_modified, c.primed as "primed!", c.created_at as "created_at!", c.error_count as "error_count!",
                  array(select account_id from feed_account fa where fa.feed_id = c.feed_id order by account_id) as "account_ids!: Vec<Uuid>",
                  coalesce(
                      (select u.user_id from app_user u where u.user_id = c.created_by and u.team_id = c.team_id),
                      (select u.user_id from app_user u where u.team_id = c.team_id and u.role = 'owner' order by u.created_at limit 1)
                  ) as author_id
           from claimed c"#,
        now,
        lease_end(now, lease),
        limit,
        only.map(|(team_id, _)| team_id),
        only.map(|(_, feed_id)| feed_id)
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(Claimed::from).collect())
}

/// Which of `keys` the feed has not seen yet.
pub async fn unseen(pool: &PgPool, feed_id: Uuid, keys: &[String]) -> Result<HashSet<String>, DomainError> {
    let seen: HashSet<String> =
        sqlx::query_scalar!("select item_key from feed_item where feed_id = $1 and item_key = any($2)", feed_id, keys)
            .fetch_all(pool)
            .await?
            .into_iter()
            .collect();
    Ok(keys.iter().filter(|k| !seen.contains(*k)).cloned().collect())
}

/// Remembers items that were in the feed before it was added, so they are never posted.
pub async fn remember_existing(pool: &PgPool, feed_id: Uuid, items: &[(String, ItemFacts)]) -> Result<(), DomainError> {
    if items.is_empty() {
        return Ok(());
    }
    let keys: Vec<String> = items.iter().map(|(k, _)| k.clone()).collect();
    let titles: Vec<Option<String>> = items.iter().map(|(_, i)| i.title.as_deref().map(|t| clip(t, 300))).collect();
    let links: Vec<Option<String>> = items.iter().map(|(_, i)| i.link.as_deref().map(|l| clip(l, 2048))).collect();
    sqlx::query!(
        r#"insert into feed_item (feed_id, item_key, title, link, state)
           select $1, k, t, l, 'existing' from unnest($2::text[], $3::text[], $4::text[]) as x(k, t, l)
           on conflict (feed_id, item_key) do nothing"#,
        feed_id,
        &keys,
        &titles as &[Option<String>],
        &links as &[Option<String>]
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// What became of an item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Taken {
    /// A post was scheduled (now) or queued.
    Posted(Uuid),
    /// A draft was written.
    Drafted(Uuid),
    /// It could not be posted: why, in words. Not retried.
    Skipped(String),
    /// Another poll took it first.
    AlreadySeen,
}

fn clip(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// Takes one new item of a claimed feed: remembers its key and writes its post in one
/// transaction (with the same checks as Compose: each platform's text limit, the team's approval
/// rule, the accounts' state), or remembers it as skipped with the reason when the post is
/// refused. Only an unexpected failure (the database) leaves nothing written, for the next poll.
pub async fn take_item(
    pool: &PgPool,
    feed: &Claimed,
    template: &FeedTemplate,
    key: &str,
    item: &ItemFacts,
    now: DateTime<Utc>,
    rules: &MediaRules,
) -> Result<Taken, DomainError> {
    let mut tx = pool.begin().await?;
    let inserted = sqlx::query_scalar!(
        r#"insert into feed_item (feed_id, item_key, title, link, state, seen_at) values ($1, $2, $3, $4, 'skipped', $5)
           on conflict (feed_id, item_key) do nothing returning item_key"#,
        feed.feed_id,
        key,
        item.title.as_deref().map(|t| clip(t, 300)),
        item.link.as_deref().map(|l| clip(l, 2048)),
        now
    )
    .fetch_optional(&mut *tx)
    .await?;
    if inserted.is_none() {
        return Ok(Taken::AlreadySeen);
    }
    let text = template.render(item);
    // A savepoint: a refused post is undone and the item kept, as skipped.
    let mut post = (&mut *tx).begin().await?;
    let made = write_post(&mut post, feed, &text, now, rules).await;
    let skipped = |reason: String| (Taken::Skipped(reason.clone()), "skipped", None, Some(clip(&reason, 1000)));
    let (taken, state, post_id, reason) = match made {
        Ok(Made::Posted(id)) => {
            post.commit().await?;
            (Taken::Posted(id), "posted", Some(id), None)
        }
        Ok(Made::Drafted(id)) => {
            post.commit().await?;
            (Taken::Drafted(id), "drafted", Some(id), None)
        }
        Err(DomainError::Invalid(field)) => {
            post.rollback().await?;
            skipped(field.message)
        }
        Err(e @ (DomainError::Refused(_) | DomainError::Forbidden | DomainError::NotFound)) => {
            post.rollback().await?;
            skipped(format!("Not posted: {e}."))
        }
        Err(other) => return Err(other),
    };
    sqlx::query!(
        "update feed_item set state = $3, post_id = $4, reason = $5 where feed_id = $1 and item_key = $2",
        feed.feed_id,
        key,
        state,
        post_id,
        reason
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(taken)
}

/// A post [`write_post`] wrote.
enum Made {
    Posted(Uuid),
    Drafted(Uuid),
}

/// The item's post, through the paths Compose uses.
async fn write_post(
    conn: &mut sqlx::PgConnection,
    feed: &Claimed,
    text: &str,
    now: DateTime<Utc>,
    rules: &MediaRules,
) -> Result<Made, DomainError> {
    let content = PostContent::parse(text, Vec::new(), "", Vec::new())
        .map_err(|e| FieldError::new(&e.field, format!("The post made from the template is not valid: {}", e.message)))?
        // Its links are tracked as the team's defaults say, as Compose starts every post.
        .with_tracking(super::link_tracking::team_defaults_on(&mut *conn, feed.team_id).await?);
    match feed.mode {
        FeedMode::Draft => {
            let draft = drafts::Draft { content, account_ids: feed.account_ids.clone(), planned_at: None, timezone: TimeZone::UTC };
            Ok(Made::Drafted(drafts::save_in(conn, feed.team_id, feed.actor, None, &draft).await?))
        }
        mode => {
            let new = posts::NewPost {
                content,
                account_ids: feed.account_ids.clone(),
                scheduled_at: now,
                timezone: TimeZone::UTC,
                dry_run: false,
                retry: Default::default(),
            };
            let id = if mode == FeedMode::Queue {
                posts::add_to_queue(conn, feed.team_id, feed.actor, None, &new, rules).await?
            } else {
                posts::schedule(conn, feed.team_id, feed.actor, &new, rules).await?
            };
            Ok(Made::Posted(id))
        }
    }
}

/// How a poll ended.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// The feed answered 304 Not Modified.
    NotModified,
    /// The feed was read.
    Read {
        /// Its title.
        title: Option<String>,
        /// Its validators, to send next time (none when some new items wait for the next poll,
        /// so that it reads the feed in full again).
        etag: Option<String>,
        /// Its `Last-Modified`.
        last_modified: Option<String>,
        /// What was done, in words.
        words: String,
    },
    /// The poll failed: why, in words, and how long the feed asked us to wait.
    Failed {
        /// Why.
        error: String,
        /// `Retry-After`, when the feed said.
        retry_after: Option<Duration>,
    },
}

/// Records a claimed feed's poll at `now` and ends its lease: the next poll `interval` later, or
/// later still after failures ([`next_poll_in`]).
pub async fn finish(pool: &PgPool, feed: &Claimed, now: DateTime<Utc>, interval: Duration, outcome: &Outcome) -> Result<(), DomainError> {
    let after = |d: Duration| now + chrono::Duration::from_std(d).unwrap_or(chrono::Duration::hours(24));
    match outcome {
        Outcome::NotModified => {
            sqlx::query!(
                "update feed set last_polled_at = $2, last_outcome = 'Not modified since the last poll.', last_error = null, error_count = 0,
                        primed = true, next_poll_at = $3, claimed_until = null where feed_id = $1",
                feed.feed_id,
                now,
                after(next_poll_in(interval, 0, None))
            )
            .execute(pool)
            .await?;
        }
        Outcome::Read { title, etag, last_modified, words } => {
            sqlx::query!(
                "update feed set last_polled_at = $2, last_outcome = $3, last_error = null, error_count = 0, primed = true,
                        title = coalesce($4, title), etag = $5, last_modified = $6, next_poll_at = $7, claimed_until = null
                 where feed_id = $1",
                feed.feed_id,
                now,
                clip(words, 500),
                title.as_deref().map(|t| clip(t, 300)),
                etag.as_deref().filter(|e| e.len() <= 512),
                last_modified.as_deref().filter(|m| m.len() <= 128),
                after(next_poll_in(interval, 0, None))
            )
            .execute(pool)
            .await?;
        }
        Outcome::Failed { error, retry_after } => {
            let errors = u32::try_from(feed.error_count).unwrap_or(0).saturating_add(1);
            sqlx::query!(
                "update feed set last_polled_at = $2, last_error = $3, error_count = error_count + 1, next_poll_at = $4, claimed_until = null
                 where feed_id = $1",
                feed.feed_id,
                now,
                clip(error, 1000),
                after(next_poll_in(interval, errors, *retry_after))
            )
            .execute(pool)
            .await?;
        }
    }
    Ok(())
}
