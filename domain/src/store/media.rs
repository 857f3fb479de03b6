//! A team's media library: the items (what was read from their bytes, their alt text, who
//! uploaded them), the storage they take against the team's quota, and where they are used.
//!
//! The bytes are in the media store (`crier_media::storage`); the caller stores them before
//! [`create`] and deletes them after [`delete`], so a row never names bytes that are not there
//! while it is in the library. Every function is scoped by team: another team's media id is
//! [`DomainError::NotFound`], as a malformed one is.

use chrono::{DateTime, Utc};
use crier_media::{ContentType, MediaFacts, MediaKind};
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::audit::{self, Actor};
use crate::{DomainError, FieldError};

pub use crate::post::MAX_ALT_TEXT_CHARS;
/// The longest file name kept (longer ones are cut, keeping the extension).
pub const MAX_FILE_NAME_CHARS: usize = 255;
/// The most items a list returns at once.
pub const MAX_PAGE: i64 = 100;

/// A media item about to be added; its bytes are already in the store.
#[derive(Clone, Debug)]
pub struct NewMedia {
    /// Chosen before the bytes were stored (their key is made from it).
    pub media_id: Uuid,
    /// What its bytes are.
    pub facts: MediaFacts,
    /// SHA-256 of the stored bytes.
    pub sha256: [u8; 32],
    /// The name it was uploaded under (cleaned with [`file_name`]).
    pub file_name: String,
    /// Alt text given with the upload (checked with [`alt_text`]).
    pub alt_text: String,
    /// Whether a thumbnail was stored beside it.
    pub has_thumbnail: bool,
}

/// A media item as the library shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaItem {
    /// Its id.
    pub media_id: Uuid,
    /// What its bytes are.
    pub facts: MediaFacts,
    /// SHA-256 of its bytes, in lowercase hex.
    pub sha256: String,
    /// The name it was uploaded under.
    pub file_name: String,
    /// Its alt text ("" when none).
    pub alt_text: String,
    /// Who uploaded it (none for an API token or a removed person).
    pub uploaded_by: Option<String>,
    /// Whether it has a thumbnail.
    pub has_thumbnail: bool,
    /// When it was uploaded.
    pub created_at: DateTime<Utc>,
    /// Posts that carry it.
    pub used_by_posts: i64,
}

impl MediaItem {
    /// Its kind.
    pub fn kind(&self) -> MediaKind {
        self.facts.kind()
    }
}

/// Cleans a file name for display: no path, no control characters, at most
/// [`MAX_FILE_NAME_CHARS`] characters (the extension kept); "upload" when nothing is left. It is
/// only ever shown, never used as a path or a key.
pub fn file_name(raw: &str, content_type: ContentType) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base.chars().filter(|c| !c.is_control()).collect::<String>().trim().to_owned();
    let cleaned =
        if cleaned.is_empty() || cleaned == "." || cleaned == ".." { format!("upload.{}", content_type.extension()) } else { cleaned };
    if cleaned.chars().count() <= MAX_FILE_NAME_CHARS {
        return cleaned;
    }
    let extension = cleaned.rsplit_once('.').map(|(_, e)| e).filter(|e| e.chars().count() <= 10).unwrap_or_default();
    let keep = MAX_FILE_NAME_CHARS - extension.chars().count() - 1;
    let stem: String = cleaned.chars().take(keep).collect();
    format!("{stem}.{extension}")
}

/// Checks alt text: trimmed, at most [`MAX_ALT_TEXT_CHARS`] characters.
pub fn alt_text(raw: &str, field: &str) -> Result<String, FieldError> {
    let text = raw.trim();
    if text.chars().count() > MAX_ALT_TEXT_CHARS {
        return Err(FieldError::new(
            field,
            format!(
                "This alt text is {} characters long; {MAX_ALT_TEXT_CHARS} at most. Describe the picture more briefly.",
                text.chars().count()
            ),
        ));
    }
    Ok(text.to_owned())
}

/// Bytes in words: "812 KB", "7.2 MB", "1.5 GB".
pub fn bytes_in_words(bytes: u64) -> String {
    const UNITS: [(&str, f64); 3] = [("GB", 1e9), ("MB", 1e6), ("KB", 1e3)];
    for (unit, size) in UNITS {
        let value = bytes as f64 / size;
        if value >= 1.0 {
            return if value >= 100.0 || unit == "KB" { format!("{value:.0} {unit}") } else { format!("{value:.1} {unit}") };
        }
    }
    format!("{bytes} bytes")
}

/// Bytes of media the team keeps (deleted items do not count).
pub async fn usage(pool: &PgPool, team_id: Uuid) -> Result<u64, DomainError> {
    let used = sqlx::query_scalar!(
        r#"select coalesce(sum(byte_size), 0)::bigint as "used!" from media_item where team_id = $1 and deleted_at is null"#,
        team_id
    )
    .fetch_one(pool)
    .await?;
    Ok(used.max(0) as u64)
}

/// What the quota says about one more file of `size` bytes: `Err` with the words to show.
pub fn quota_check(used: u64, size: u64, quota: u64) -> Result<(), DomainError> {
    if used.saturating_add(size) <= quota {
        return Ok(());
    }
    Err(DomainError::Refused(format!(
        "This file ({}) would take the team past its media storage of {}: {} is used. Delete media you no longer need on the Media page.",
        bytes_in_words(size),
        bytes_in_words(quota),
        bytes_in_words(used)
    )))
}

/// Adds an item to the team's library, if the team's quota has room for it (decided under a
/// per-team lock, so two uploads at once cannot both squeeze into the last megabytes). Records
/// `media_uploaded`.
pub async fn create(pool: &PgPool, team_id: Uuid, actor: Actor, new: &NewMedia, quota: u64) -> Result<MediaItem, DomainError> {
    let mut tx = pool.begin().await?;
    sqlx::query!("select pg_advisory_xact_lock(hashtextextended('media_quota:' || $1::text, 0))", team_id.to_string())
        .execute(&mut *tx)
        .await?;
    let used = sqlx::query_scalar!(
        r#"select coalesce(sum(byte_size), 0)::bigint as "used!" from media_item where team_id = $1 and deleted_at is null"#,
        team_id
    )
    .fetch_one(&mut *tx)
    .await?;
    quota_check(used.max(0) as u64, new.facts.byte_size, quota)?;
    let uploaded_by = match actor {
        Actor::User(id) => Some(id),
        _ => None,
    };
    let facts = &new.facts;
    sqlx::query!(
        r#"insert into media_item (media_id, team_id, kind, content_type, byte_size, width, height, duration_ms, frames,
                                   frame_rate_milli, video_codec, audio_codec, pages, sha256, file_name, alt_text,
                                   uploaded_by, has_thumbnail)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)"#,
        new.media_id,
        team_id,
        facts.kind() as MediaKind,
        facts.content_type.mime(),
        i64::try_from(facts.byte_size).map_err(|_| DomainError::Internal("a media size beyond i64".into()))?,
        facts.width.map(|w| w as i32),
        facts.height.map(|h| h as i32),
        facts.duration_ms.map(|d| d as i64),
        facts.frames.map(|f| f as i32),
        facts.frame_rate_milli.map(|f| f as i32),
        facts.video_codec.as_deref(),
        facts.audio_codec.as_deref(),
        facts.pages.map(|p| p as i32),
        &new.sha256[..],
        new.file_name,
        new.alt_text,
        uploaded_by,
        new.has_thumbnail,
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut *tx,
        team_id,
        actor,
        "media_uploaded",
        "media",
        Some(&new.media_id.to_string()),
        json!({ "kind": facts.kind().as_str(), "content_type": facts.content_type.mime(), "bytes": facts.byte_size }),
    )
    .await?;
    tx.commit().await?;
    get(pool, team_id, new.media_id).await
}

/// One row of `media_item` as the queries below read it.
struct Row {
    media_id: Uuid,
    content_type: String,
    byte_size: i64,
    width: Option<i32>,
    height: Option<i32>,
    duration_ms: Option<i64>,
    frames: Option<i32>,
    frame_rate_milli: Option<i32>,
    video_codec: Option<String>,
    audio_codec: Option<String>,
    pages: Option<i32>,
    sha256: Vec<u8>,
    file_name: String,
    alt_text: String,
    uploaded_by: Option<String>,
    has_thumbnail: bool,
    created_at: DateTime<Utc>,
    used_by_posts: i64,
}

impl Row {
    fn into_item(self) -> Result<MediaItem, DomainError> {
        let content_type: ContentType =
            self.content_type.parse().map_err(|_| DomainError::Internal(format!("media_item has content type {}", self.content_type)))?;
        let unsigned = |v: Option<i32>| v.map(|v| v.max(0) as u32);
        Ok(MediaItem {
            media_id: self.media_id,
            facts: MediaFacts {
                content_type,
                byte_size: self.byte_size.max(0) as u64,
                width: unsigned(self.width),
                height: unsigned(self.height),
                duration_ms: self.duration_ms.map(|d| d.max(0) as u64),
                frames: unsigned(self.frames),
                frame_rate_milli: unsigned(self.frame_rate_milli),
                video_codec: self.video_codec,
                audio_codec: self.audio_codec,
                pages: unsigned(self.pages),
            },
            sha256: self.sha256.iter().map(|b| format!("{b:02x}")).collect(),
            file_name: self.file_name,
            alt_text: self.alt_text,
            uploaded_by: self.uploaded_by,
            has_thumbnail: self.has_thumbnail,
            created_at: self.created_at,
            used_by_posts: self.used_by_posts,
        })
    }
}

/// One item of the team's library.
pub async fn get(pool: &PgPool, team_id: Uuid, media_id: Uuid) -> Result<MediaItem, DomainError> {
    let mut conn = pool.acquire().await?;
    items(&mut conn, team_id, Some(&[media_id]), &MediaFilter::default(), 1).await?.pop().ok_or(DomainError::NotFound)
}

/// Which part of the library to list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MediaFilter {
    /// Part of the file name, any case.
    pub search: Option<String>,
    /// Only this kind.
    pub kind: Option<MediaKind>,
    /// Items uploaded before this one (the cursor of the previous page's last item).
    pub after: Option<(DateTime<Utc>, Uuid)>,
}

/// The library, newest first, `limit` items after the cursor: at most [`MAX_PAGE`], and one more
/// (a caller asks for a page and one item, to tell whether another page follows).
pub async fn list(pool: &PgPool, team_id: Uuid, filter: &MediaFilter, limit: i64) -> Result<Vec<MediaItem>, DomainError> {
    let mut conn = pool.acquire().await?;
    items(&mut conn, team_id, None, filter, limit.clamp(1, MAX_PAGE + 1)).await
}

/// The one query that reads items: the team's, not deleted, `ids` only when given, filtered,
/// newest first.
async fn items(
    conn: &mut PgConnection,
    team_id: Uuid,
    ids: Option<&[Uuid]>,
    filter: &MediaFilter,
    limit: i64,
) -> Result<Vec<MediaItem>, DomainError> {
    let pattern = filter.search.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(|s| {
        let escaped: String =
            s.chars().take(100).flat_map(|c| if matches!(c, '%' | '_' | '\\') { vec!['\\', c] } else { vec![c] }).collect();
        format!("%{escaped}%")
    });
    let (after_time, after_id) = filter.after.map_or((None, None), |(t, id)| (Some(t), Some(id)));
    let rows = sqlx::query_as!(
        Row,
        r#"select m.media_id, m.content_type, m.byte_size, m.width, m.height, m.duration_ms, m.frames, m.frame_rate_milli,
                  m.video_codec, m.audio_codec, m.pages, m.sha256, m.file_name, m.alt_text, u.email as "uploaded_by?",
                  m.has_thumbnail, m.created_at,
                  (select count(distinct pm.post_id) from post_media pm where pm.media_id = m.media_id) as "used_by_posts!"
           from media_item m left join app_user u on u.user_id = m.uploaded_by
           where m.team_id = $1 and m.deleted_at is null
             and ($2::uuid[] is null or m.media_id = any($2))
             and ($3::text is null or m.file_name ilike $3)
             and ($4::media_kind is null or m.kind = $4)
             and ($5::timestamptz is null or (m.created_at, m.media_id) < ($5, $6))
           order by m.created_at desc, m.media_id desc
           limit $7"#,
        team_id,
        ids as Option<&[Uuid]>,
        pattern,
        filter.kind as Option<MediaKind>,
        after_time,
        after_id,
        limit,
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter().map(Row::into_item).collect()
}

/// Changes an item's alt text. Records `media_alt_text_changed` (without the text).
pub async fn set_alt_text(pool: &PgPool, team_id: Uuid, actor: Actor, media_id: Uuid, raw: &str) -> Result<(), DomainError> {
    let text = alt_text(raw, "alt_text")?;
    let mut tx = pool.begin().await?;
    let changed = sqlx::query!(
        "update media_item set alt_text = $3 where team_id = $1 and media_id = $2 and deleted_at is null",
        team_id,
        media_id,
        text
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed == 0 {
        return Err(DomainError::NotFound);
    }
    audit::record(
        &mut *tx,
        team_id,
        actor,
        "media_alt_text_changed",
        "media",
        Some(&media_id.to_string()),
        json!({ "chars": text.chars().count() }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Removes an item from the library, unless a post that has not gone out yet carries it (the
/// error names that post). Its row stays for the deliveries that published it; the caller then
/// deletes its bytes. Records `media_deleted`.
pub async fn delete(pool: &PgPool, team_id: Uuid, actor: Actor, media_id: Uuid) -> Result<MediaItem, DomainError> {
    let item = get(pool, team_id, media_id).await?;
    let mut tx = pool.begin().await?;
    // Locks the item so a post scheduled at this moment either sees it deleted or blocks this.
    let exists = sqlx::query_scalar!(
        "select media_id from media_item where team_id = $1 and media_id = $2 and deleted_at is null for update",
        team_id,
        media_id
    )
    .fetch_optional(&mut *tx)
    .await?;
    if exists.is_none() {
        return Err(DomainError::NotFound);
    }
    let pending = sqlx::query!(
        r#"select p.post_id, p.text, p.scheduled_at
           from post_media pm join post p on p.post_id = pm.post_id
           where pm.team_id = $1 and pm.media_id = $2
             and exists (select 1 from delivery d where d.post_id = p.post_id
                         and d.state in ('scheduled', 'publishing', 'retrying', 'held', 'failed'))
           order by p.scheduled_at limit 1"#,
        team_id,
        media_id
    )
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(post) = pending {
        let excerpt: String = post.text.chars().take(60).collect();
        let more = if post.text.chars().count() > 60 { "…" } else { "" };
        return Err(DomainError::Refused(format!(
            "“{}” is used by the post “{excerpt}{more}”, which has not gone out yet. Remove it from that post (or cancel the post) first.",
            item.file_name
        )));
    }
    sqlx::query!("update media_item set deleted_at = now() where team_id = $1 and media_id = $2", team_id, media_id)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut *tx,
        team_id,
        actor,
        "media_deleted",
        "media",
        Some(&media_id.to_string()),
        json!({ "kind": item.kind().as_str(), "bytes": item.facts.byte_size }),
    )
    .await?;
    tx.commit().await?;
    Ok(item)
}

/// The items of the team's library that `ids` names and that are still in it, in the order asked
/// (ids that are not the team's, or were deleted, are left out): what Compose shows as attached
/// after a plain form came back.
pub async fn found(pool: &PgPool, team_id: Uuid, ids: &[Uuid]) -> Result<Vec<MediaItem>, DomainError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut conn = pool.acquire().await?;
    let items = items(&mut conn, team_id, Some(ids), &MediaFilter::default(), (ids.len() as i64).min(MAX_PAGE)).await?;
    Ok(ids.iter().filter_map(|id| items.iter().find(|item| item.media_id == *id).cloned()).collect())
}

/// A post that carries a media item: where the Media page says the item is used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaUse {
    /// The item.
    pub media_id: Uuid,
    /// The post.
    pub post_id: Uuid,
    /// The post's text.
    pub text: String,
}

/// The most uses [`uses`] reads for one page of the library; the page says how many more there are.
pub const MAX_USES_READ: i64 = 500;

/// The posts that carry the items `media_ids`, each post once per item, latest due first (at most
/// [`MAX_USES_READ`] in all: an item's count of posts is exact in [`MediaItem::used_by_posts`]).
pub async fn uses(pool: &PgPool, team_id: Uuid, media_ids: &[Uuid]) -> Result<Vec<MediaUse>, DomainError> {
    if media_ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query!(
        r#"select pm.media_id, p.post_id, p.text
           from post_media pm join post p on p.team_id = pm.team_id and p.post_id = pm.post_id
           where pm.team_id = $1 and pm.media_id = any($2)
           order by p.scheduled_at desc, p.post_id
           limit $3"#,
        team_id,
        media_ids,
        MAX_USES_READ
    )
    .fetch_all(pool)
    .await?;
    let mut out: Vec<MediaUse> = Vec::with_capacity(rows.len());
    for r in rows {
        if !out.iter().any(|u| u.media_id == r.media_id && u.post_id == r.post_id) {
            out.push(MediaUse { media_id: r.media_id, post_id: r.post_id, text: r.text });
        }
    }
    Ok(out)
}

/// One media item a post carries, as a thumbnail beside the post shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PostThumbnail {
    /// The post.
    pub post_id: Uuid,
    /// The item.
    pub media_id: Uuid,
    /// Its kind.
    pub kind: MediaKind,
    /// The name it was uploaded under.
    pub file_name: String,
    /// The alt text the post gives it (or the item's own).
    pub alt_text: String,
    /// Whether a thumbnail can be shown (it has one and it is still in the library).
    pub has_thumbnail: bool,
}

/// The media `post_ids` carry, each item once per post, in the post's order (its shared list
/// first, then the platforms' own lists and the thread's): one query for a page of posts.
pub async fn thumbnails(pool: &PgPool, team_id: Uuid, post_ids: &[Uuid]) -> Result<Vec<PostThumbnail>, DomainError> {
    if post_ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query!(
        r#"select pm.post_id, pm.media_id, m.kind as "kind: MediaKind", m.file_name,
                  coalesce(nullif(pm.alt_text, ''), m.alt_text) as "alt_text!",
                  (m.has_thumbnail and m.deleted_at is null) as "has_thumbnail!"
           from post_media pm join media_item m on m.team_id = pm.team_id and m.media_id = pm.media_id
           where pm.team_id = $1 and pm.post_id = any($2)
           order by pm.post_id, pm.platform nulls first, pm.item, pm.position"#,
        team_id,
        post_ids
    )
    .fetch_all(pool)
    .await?;
    let mut out: Vec<PostThumbnail> = Vec::with_capacity(rows.len());
    for r in rows {
        if out.iter().any(|t| t.post_id == r.post_id && t.media_id == r.media_id) {
            continue;
        }
        out.push(PostThumbnail {
            post_id: r.post_id,
            media_id: r.media_id,
            kind: r.kind,
            file_name: r.file_name,
            alt_text: r.alt_text,
            has_thumbnail: r.has_thumbnail,
        });
    }
    Ok(out)
}

/// A media item a delivery uploaded to its platform: what went out, under which id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveredMedia {
    /// The delivery.
    pub delivery_id: Uuid,
    /// The item.
    pub media_id: Uuid,
    /// The name it was uploaded under.
    pub file_name: String,
    /// 0: the post itself; N: the X thread's reply N.
    pub item: i16,
    /// Its place in that item's media, from 1.
    pub position: i16,
    /// The platform's id for the upload.
    pub platform_media_id: String,
    /// When it was uploaded.
    pub uploaded_at: DateTime<Utc>,
    /// When the platform forgets an id it was not posted with, if it does.
    pub expires_at: Option<DateTime<Utc>>,
}

/// What each delivery of a post uploaded, by delivery, then reply, then position.
pub async fn delivered(pool: &PgPool, team_id: Uuid, post_id: Uuid) -> Result<Vec<DeliveredMedia>, DomainError> {
    Ok(sqlx::query_as!(
        DeliveredMedia,
        r#"select dm.delivery_id, dm.media_id, m.file_name, dm.item, dm.position, dm.platform_media_id, dm.uploaded_at, dm.expires_at
           from delivery_media dm
           join delivery d on d.delivery_id = dm.delivery_id
           join media_item m on m.media_id = dm.media_id and m.team_id = d.team_id
           where d.team_id = $1 and d.post_id = $2
           order by dm.delivery_id, dm.item, dm.position"#,
        team_id,
        post_id
    )
    .fetch_all(pool)
    .await?)
}

/// Which of `ids` are not items of the team's library (another team's, deleted, or never made),
/// in the order given: for an API to name the field that holds each.
pub async fn missing(pool: &PgPool, team_id: Uuid, ids: &[Uuid]) -> Result<Vec<Uuid>, DomainError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let found = sqlx::query_scalar!(
        "select media_id from media_item where team_id = $1 and media_id = any($2) and deleted_at is null",
        team_id,
        ids
    )
    .fetch_all(pool)
    .await?;
    Ok(ids.iter().filter(|id| !found.contains(id)).copied().collect())
}

/// The facts and alt text of the items `ids` names, in the team's library, in the order asked.
/// An id that is not the team's (or deleted) is an error on `field`.
pub async fn chosen(conn: &mut PgConnection, team_id: Uuid, ids: &[Uuid], field: &str) -> Result<Vec<MediaItem>, DomainError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // A share lock until the caller's transaction ends: an item being deleted now either is
    // deleted first (and refused here) or waits for the post that carries it to be written.
    sqlx::query!(
        "select media_id from media_item where team_id = $1 and media_id = any($2) and deleted_at is null for share",
        team_id,
        ids
    )
    .fetch_all(&mut *conn)
    .await?;
    let items = items(conn, team_id, Some(ids), &MediaFilter::default(), ids.len() as i64).await?;
    ids.iter()
        .map(|id| {
            items.iter().find(|item| item.media_id == *id).cloned().ok_or_else(|| {
                FieldError::new(field, "One of the attached media is no longer in the library. Remove it and attach it again.").into()
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_for_display_only() {
        assert_eq!(file_name("../../etc/passwd", ContentType::Png), "passwd");
        assert_eq!(file_name("C:\\Users\\me\\photo.jpg", ContentType::Jpeg), "photo.jpg");
        assert_eq!(file_name("\u{0}\u{7}", ContentType::Gif), "upload.gif");
        assert_eq!(file_name("..", ContentType::Pdf), "upload.pdf");
        let long = format!("{}.webp", "a".repeat(400));
        let kept = file_name(&long, ContentType::Webp);
        assert_eq!(kept.chars().count(), MAX_FILE_NAME_CHARS);
        assert!(kept.ends_with(".webp"));
    }

    #[test]
    fn alt_text_is_trimmed_and_bounded() {
        assert_eq!(alt_text("  A dog  ", "alt").unwrap(), "A dog");
        let error = alt_text(&"x".repeat(MAX_ALT_TEXT_CHARS + 1), "alt_text_2").unwrap_err();
        assert_eq!(error.field, "alt_text_2");
    }

    #[test]
    fn sizes_and_quotas_are_said_in_words() {
        assert_eq!(bytes_in_words(999), "999 bytes");
        assert_eq!(bytes_in_words(812_000), "812 KB");
        assert_eq!(bytes_in_words(7_200_000), "7.2 MB");
        assert_eq!(bytes_in_words(1_500_000_000), "1.5 GB");
        assert!(quota_check(90, 10, 100).is_ok());
        let refused = quota_check(95, 10, 100).unwrap_err().to_string();
        assert!(refused.contains("past its media storage of 100 bytes"), "{refused}");
    }
}
