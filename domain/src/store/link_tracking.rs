//! Link tracking's store: the team's defaults, each post's choice (written with its content
//! parts), the short links made as deliveries go out, and their clicks.
//!
//! Short links are looked up by code alone (a visitor has nothing else); everything a team reads
//! is filtered by its id.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::audit::{self, Actor};
use crate::DomainError;
use crate::link_tracking::{LinkTracking, SHORT_CODE_LEN, Utm, is_short_code};
use crier_platform::Platform;

fn tracking(utm: bool, campaign: Option<String>, medium: String, short_links: bool) -> LinkTracking {
    LinkTracking { utm: utm.then_some(Utm { campaign, medium }), short_links }
}

/// The team's defaults, which Compose starts a new post with.
pub async fn team_defaults(pool: &PgPool, team_id: Uuid) -> Result<LinkTracking, DomainError> {
    team_defaults_on(&mut *pool.acquire().await?, team_id).await
}

/// [`team_defaults`] on a connection (inside a caller's transaction).
pub async fn team_defaults_on(conn: &mut PgConnection, team_id: Uuid) -> Result<LinkTracking, DomainError> {
    let row = sqlx::query!("select link_utm, link_utm_campaign, link_utm_medium, link_short from team where team_id = $1", team_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(DomainError::NotFound)?;
    Ok(tracking(row.link_utm, row.link_utm_campaign, row.link_utm_medium, row.link_short))
}

/// Sets the team's defaults (posts already written keep their own). Records
/// `link_tracking_changed` with the new choice.
pub async fn set_team_defaults(pool: &PgPool, team_id: Uuid, actor: Actor, chosen: &LinkTracking) -> Result<(), DomainError> {
    let mut tx = pool.begin().await?;
    let medium = chosen.utm.as_ref().map_or(crate::link_tracking::DEFAULT_UTM_MEDIUM, |u| u.medium.as_str());
    let campaign = chosen.utm.as_ref().and_then(|u| u.campaign.as_deref());
    let updated = sqlx::query!(
        "update team set link_utm = $2, link_utm_campaign = $3, link_utm_medium = $4, link_short = $5 where team_id = $1",
        team_id,
        chosen.utm.is_some(),
        campaign,
        medium,
        chosen.short_links,
    )
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() == 0 {
        return Err(DomainError::NotFound);
    }
    let metadata =
        json!({ "utm": chosen.utm.is_some(), "utm_medium": medium, "utm_campaign": campaign, "short_links": chosen.short_links });
    audit::record(&mut *tx, team_id, actor, "link_tracking_changed", "team", Some(&team_id.to_string()), metadata).await?;
    tx.commit().await?;
    Ok(())
}

/// Writes a post's choice (nothing when its links go out as written); the post's earlier choice
/// is removed by `posts::clear_parts` first.
pub(super) async fn write_for_post(
    conn: &mut PgConnection,
    team_id: Uuid,
    post_id: Uuid,
    chosen: &LinkTracking,
) -> Result<(), DomainError> {
    if chosen.is_off() {
        return Ok(());
    }
    let medium = chosen.utm.as_ref().map_or(crate::link_tracking::DEFAULT_UTM_MEDIUM, |u| u.medium.as_str());
    sqlx::query!(
        r#"insert into post_link_tracking (post_id, team_id, utm, utm_campaign, utm_medium, short_links)
           values ($1, $2, $3, $4, $5, $6)"#,
        post_id,
        team_id,
        chosen.utm.is_some(),
        chosen.utm.as_ref().and_then(|u| u.campaign.as_deref()),
        medium,
        chosen.short_links,
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A post's choice.
pub(super) async fn of_post(conn: &mut PgConnection, team_id: Uuid, post_id: Uuid) -> Result<LinkTracking, DomainError> {
    let row = sqlx::query!(
        "select utm, utm_campaign, utm_medium, short_links from post_link_tracking where team_id = $1 and post_id = $2",
        team_id,
        post_id
    )
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|r| tracking(r.utm, r.utm_campaign, r.utm_medium, r.short_links)).unwrap_or_default())
}

/// What the engine reads of a claimed delivery's post (columns of the claim's left join).
pub(super) fn from_claim(utm: Option<bool>, campaign: Option<String>, medium: Option<String>, short_links: Option<bool>) -> LinkTracking {
    tracking(utm.unwrap_or(false), campaign, medium.unwrap_or_default(), short_links.unwrap_or(false))
}

/// A fresh random code of [`SHORT_CODE_LEN`] letters and digits.
fn new_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut bytes = [0u8; SHORT_CODE_LEN];
    getrandom::fill(&mut bytes).expect("the operating system's random source is available");
    // 256 = 4 × 62 + 8: the first eight letters come up a little more often, which costs a
    // guesser nothing worth having.
    bytes.iter().map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()])).collect()
}

/// The delivery's short link to `url`: made on its first attempt, the same one on every retry
/// (so a post found by reconciliation carries the link that counts). Returns the code.
pub async fn shorten(pool: &PgPool, team_id: Uuid, delivery_id: Uuid, url: &str) -> Result<String, DomainError> {
    // A fresh code colliding with another link's is astronomically unlikely; a few tries settle it.
    for _ in 0..4 {
        let code = new_code();
        let found = sqlx::query_scalar!(
            r#"with made as (
                   insert into short_link (code, team_id, delivery_id, url)
                   select $1, d.team_id, d.delivery_id, $4 from delivery d where d.team_id = $2 and d.delivery_id = $3
                   on conflict do nothing
                   returning code
               )
               select code as "code!" from made
               union all
               select code from short_link where team_id = $2 and delivery_id = $3 and md5(url) = md5($4) and url = $4
               limit 1"#,
            code,
            team_id,
            delivery_id,
            url,
        )
        .fetch_optional(pool)
        .await?;
        if let Some(code) = found {
            return Ok(code);
        }
    }
    Err(DomainError::Internal("no free short link code after four tries".into()))
}

/// Where a short link goes, counting the click when `count` (a person's GET, not a crawler's
/// preview). `None` for a code Crier never made.
pub async fn follow(pool: &PgPool, code: &str, count: bool) -> Result<Option<String>, DomainError> {
    if !is_short_code(code) {
        return Ok(None);
    }
    let url = sqlx::query_scalar!(
        r#"with link as (select code, url from short_link where code = $1),
           counted as (
               insert into short_link_click (code, day, clicks)
               select code, (now() at time zone 'utc')::date, 1 from link where $2
               on conflict (code, day) do update set clicks = short_link_click.clicks + 1
           )
           select url from link"#,
        code,
        count,
    )
    .fetch_optional(pool)
    .await?;
    Ok(url)
}

/// Clicks on each delivery of a post (deliveries without short links are absent).
pub async fn clicks_by_delivery(pool: &PgPool, team_id: Uuid, post_id: Uuid) -> Result<HashMap<Uuid, i64>, DomainError> {
    let rows = sqlx::query!(
        r#"select s.delivery_id, coalesce(sum(c.clicks), 0)::int8 as "clicks!"
           from short_link s join delivery d on d.delivery_id = s.delivery_id and d.team_id = $1
           left join short_link_click c on c.code = s.code
           where s.team_id = $1 and d.post_id = $2
           group by s.delivery_id"#,
        team_id,
        post_id
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.delivery_id, r.clicks)).collect())
}

/// One post's clicks in a range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PostClicks {
    /// The post.
    pub post_id: Uuid,
    /// The start of its text.
    pub text: String,
    /// Clicks in the range, all its deliveries together.
    pub clicks: i64,
}

/// Short-link clicks in a range of UTC days: the total, per platform, and the posts with most.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Clicks {
    /// All clicks.
    pub total: i64,
    /// Per platform, those with clicks.
    pub by_platform: Vec<(Platform, i64)>,
    /// The ten posts with most clicks.
    pub top_posts: Vec<PostClicks>,
}

/// The team's short-link clicks on the UTC days from `from` to `until` (both included as days).
pub async fn clicks(pool: &PgPool, team_id: Uuid, from: DateTime<Utc>, until: DateTime<Utc>) -> Result<Clicks, DomainError> {
    let (first, last) = (from.date_naive(), until.date_naive());
    let by_platform = sqlx::query!(
        r#"select a.platform as "platform: Platform", sum(c.clicks)::int8 as "clicks!"
           from short_link_click c
           join short_link s on s.code = c.code and s.team_id = $1
           join delivery d on d.delivery_id = s.delivery_id and d.team_id = $1
           join platform_account a on a.account_id = d.account_id and a.team_id = $1
           where c.day between $2 and $3
           group by a.platform order by a.platform"#,
        team_id,
        first,
        last
    )
    .fetch_all(pool)
    .await?;
    let top_posts = sqlx::query!(
        r#"select p.post_id, left(p.text, 120) as "text!", sum(c.clicks)::int8 as "clicks!"
           from short_link_click c
           join short_link s on s.code = c.code and s.team_id = $1
           join delivery d on d.delivery_id = s.delivery_id and d.team_id = $1
           join post p on p.post_id = d.post_id and p.team_id = $1
           where c.day between $2 and $3
           group by p.post_id
           order by 3 desc, p.post_id
           limit 10"#,
        team_id,
        first,
        last
    )
    .fetch_all(pool)
    .await?;
    let by_platform: Vec<(Platform, i64)> = by_platform.into_iter().map(|r| (r.platform, r.clicks)).collect();
    Ok(Clicks {
        total: by_platform.iter().map(|(_, c)| c).sum(),
        by_platform,
        top_posts: top_posts.into_iter().map(|r| PostClicks { post_id: r.post_id, text: r.text, clicks: r.clicks }).collect(),
    })
}
