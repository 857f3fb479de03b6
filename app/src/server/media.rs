//! The team's media library for the pages: the Media page (list, search, alt text, delete,
//! storage used), the items Compose attaches, and the thumbnails beside posts.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::errors::AppError;
use crier_media::{MediaFacts, MediaKind};
#[cfg(feature = "ssr")]
use server_fn::ServerFn;

/// A media item as Compose holds it: what `POST /media/upload` answers for each file (its `kind`
/// is read from the facts), and what the library list gives. In the browser too: the island checks
/// the facts against each platform's rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComposeMedia {
    /// The item's id.
    pub id: String,
    /// The name it was uploaded under.
    pub file_name: String,
    /// What its bytes are.
    pub facts: MediaFacts,
    /// The alt text it is attached with (its own, unless the form said otherwise).
    #[serde(default)]
    pub alt_text: String,
    /// Its thumbnail, when it has one (videos and PDFs have none).
    #[serde(default)]
    pub thumbnail_url: Option<String>,
}

impl ComposeMedia {
    /// A line about it: "Video · 12 s · 3.4 MB", "PDF document · 3 pages · 120 KB", "Image · 1200 × 800 · 412 KB".
    pub fn summary(&self) -> String {
        summary(&self.facts)
    }
}

/// The words about an item's facts shown beside its name.
pub fn summary(facts: &MediaFacts) -> String {
    let mut words = match facts.kind() {
        MediaKind::Image => "Image".to_owned(),
        MediaKind::Gif => "GIF".to_owned(),
        MediaKind::Video => "Video".to_owned(),
        MediaKind::Document => "PDF document".to_owned(),
    };
    if let Some(ms) = facts.duration_ms.filter(|_| facts.kind() == MediaKind::Video) {
        words.push_str(&format!(" · {}", crier_media::HumanDuration { ms, precise: false }));
    }
    if let (Some(w), Some(h)) = (facts.width, facts.height) {
        words.push_str(&format!(" · {w} × {h}"));
    }
    if let Some(pages) = facts.pages {
        words.push_str(&format!(" · {pages} {}", if pages == 1 { "page" } else { "pages" }));
    }
    words.push_str(&format!(" · {}", crier_media::ByteSize(facts.byte_size)));
    words
}

/// A post's media item as a thumbnail shows it (dashboard, calendar, post page).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaThumb {
    /// The item.
    pub id: String,
    /// Its kind.
    pub kind: MediaKind,
    /// The name it was uploaded under.
    pub file_name: String,
    /// Its alt text for the post ("" when none).
    pub alt_text: String,
    /// Whether a thumbnail image can be shown (not for videos, PDFs, or items deleted since).
    pub has_thumbnail: bool,
}

impl MediaThumb {
    /// What a screen reader says of it: the alt text, or the kind and name.
    pub fn described(&self) -> String {
        if self.alt_text.trim().is_empty() { format!("{}: {}", kind_title(self.kind), self.file_name) } else { self.alt_text.clone() }
    }
}

/// "Image", "GIF", "Video", "PDF".
pub fn kind_title(kind: MediaKind) -> &'static str {
    match kind {
        MediaKind::Image => "Image",
        MediaKind::Gif => "GIF",
        MediaKind::Video => "Video",
        MediaKind::Document => "PDF",
    }
}

/// One item of the Media page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LibraryItem {
    /// Its id.
    pub id: String,
    /// The name it was uploaded under.
    pub file_name: String,
    /// Its kind.
    pub kind: MediaKind,
    /// "Video · 12 s · 1280 × 720 · 3.4 MB".
    pub summary: String,
    /// Who uploaded it (none for an API token or a removed person).
    pub uploaded_by: Option<String>,
    /// When, in the viewer's timezone.
    pub uploaded_at: String,
    /// How many posts carry it.
    pub used_by_posts: i64,
    /// The latest of those posts (at most [`USES_SHOWN`]): id and the start of its text.
    pub used_in: Vec<(String, String)>,
    /// Its own alt text.
    pub alt_text: String,
    /// Whether it has a thumbnail.
    pub has_thumbnail: bool,
}

/// What the Media page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaPageData {
    /// One page of the library, newest first.
    pub items: Vec<LibraryItem>,
    /// The next page's cursor (older items), when there is one.
    pub older: Option<String>,
    /// Bytes the team keeps.
    pub used_bytes: u64,
    /// Bytes it may keep.
    pub quota_bytes: u64,
    /// "12 MB of 1 GB used".
    pub storage: String,
    /// The largest file accepted, in words.
    pub max_file: String,
    /// Whether the viewer may upload, edit and delete (editors and up).
    pub can_edit: bool,
}

/// Posts named beside each item of the Media page (the rest are counted).
pub const USES_SHOWN: usize = 3;

/// Items on one page of the Media page.
pub const MEDIA_PAGE_SIZE: i64 = 24;
/// Items Compose's library list shows.
pub const LIBRARY_PICK_SIZE: i64 = 12;

#[cfg(feature = "ssr")]
fn parse_kind(raw: &str) -> Result<Option<MediaKind>, AppError> {
    match raw.trim() {
        "" => Ok(None),
        "image" => Ok(Some(MediaKind::Image)),
        "gif" => Ok(Some(MediaKind::Gif)),
        "video" => Ok(Some(MediaKind::Video)),
        "document" => Ok(Some(MediaKind::Document)),
        _ => Err(AppError::Fields(vec![crier_domain::FieldError::new("kind", "Choose a kind from the list.")])),
    }
}

#[cfg(feature = "ssr")]
impl ComposeMedia {
    /// From a library item.
    pub fn from_item(item: crier_domain::store::media::MediaItem) -> ComposeMedia {
        ComposeMedia {
            id: item.media_id.to_string(),
            thumbnail_url: item.has_thumbnail.then(|| format!("/media/{}/thumbnail", item.media_id)),
            file_name: item.file_name,
            facts: item.facts,
            alt_text: item.alt_text,
        }
    }
}

/// The media a page of posts carries, by post id (for [`MediaThumb`]s beside each).
#[cfg(feature = "ssr")]
pub async fn thumbs_by_post(
    pool: &sqlx::PgPool,
    team_id: uuid::Uuid,
    post_ids: &[uuid::Uuid],
) -> Result<std::collections::HashMap<String, Vec<MediaThumb>>, AppError> {
    let mut by_post: std::collections::HashMap<String, Vec<MediaThumb>> = std::collections::HashMap::new();
    for t in crier_domain::store::media::thumbnails(pool, team_id, post_ids).await? {
        by_post.entry(t.post_id.to_string()).or_default().push(MediaThumb {
            id: t.media_id.to_string(),
            kind: t.kind,
            file_name: t.file_name,
            alt_text: t.alt_text,
            has_thumbnail: t.has_thumbnail,
        });
    }
    Ok(by_post)
}

/// The Media page: one page of the team's library (`q`: part of the name; `kind`: image, gif,
/// video or document; `after`: the cursor of the previous page's last item), and the storage used.
#[server(prefix = "/api", endpoint = "media")]
pub async fn media_page(
    #[server(default)] q: String,
    #[server(default)] kind: String,
    #[server(default)] after: String,
) -> Result<MediaPageData, AppError> {
    use crier_domain::store::media::{self, MediaFilter};
    use crier_domain::store::posts::{decode_cursor, encode_cursor};

    use super::ssr::{current_member, state};
    let me = current_member().await?;
    let state = state()?;
    let after = match after.trim() {
        "" => None,
        raw => Some(decode_cursor(raw).ok_or_else(|| {
            AppError::Fields(vec![crier_domain::FieldError::new(
                "after",
                "This page link is not one Crier made. Start again from the newest.",
            )])
        })?),
    };
    let filter = MediaFilter { search: Some(q).filter(|q| !q.trim().is_empty()), kind: parse_kind(&kind)?, after };
    let mut items = media::list(&state.pool, me.team_id, &filter, MEDIA_PAGE_SIZE + 1).await?;
    let older = (items.len() > MEDIA_PAGE_SIZE as usize).then(|| {
        items.truncate(MEDIA_PAGE_SIZE as usize);
        items.last().map(|last| encode_cursor(last.created_at, last.media_id))
    });
    let ids: Vec<uuid::Uuid> = items.iter().map(|item| item.media_id).collect();
    let mut used_in: std::collections::HashMap<uuid::Uuid, Vec<(String, String)>> = std::collections::HashMap::new();
    for found in media::uses(&state.pool, me.team_id, &ids).await? {
        let shown = used_in.entry(found.media_id).or_default();
        if shown.len() < USES_SHOWN {
            let excerpt: String = found.text.chars().take(40).collect();
            let more = if found.text.chars().count() > 40 { "…" } else { "" };
            shown.push((found.post_id.to_string(), format!("{excerpt}{more}")));
        }
    }
    let used_bytes = media::usage(&state.pool, me.team_id).await?;
    let quota_bytes = state.media.team_quota_bytes;
    Ok(MediaPageData {
        items: items
            .into_iter()
            .map(|item| LibraryItem {
                id: item.media_id.to_string(),
                kind: item.kind(),
                summary: summary(&item.facts),
                uploaded_by: item.uploaded_by,
                uploaded_at: me.timezone.format(item.created_at),
                used_by_posts: item.used_by_posts,
                used_in: used_in.remove(&item.media_id).unwrap_or_default(),
                alt_text: item.alt_text,
                has_thumbnail: item.has_thumbnail,
                file_name: item.file_name,
            })
            .collect(),
        older: older.flatten(),
        used_bytes,
        quota_bytes,
        storage: format!("{} of {} used", crier_media::ByteSize(used_bytes), crier_media::ByteSize(quota_bytes)),
        max_file: crier_media::ByteSize(state.media.max_file_bytes).to_string(),
        can_edit: me.role.can_edit(),
    })
}

/// Compose's "From the library": the newest items whose name holds `q` (at most
/// [`LIBRARY_PICK_SIZE`]): Compose's and the batch form's lists to attach from.
#[server(prefix = "/api", endpoint = "media/library")]
pub async fn media_library(#[server(default)] q: String) -> Result<Vec<ComposeMedia>, AppError> {
    use crier_domain::store::media::{self, MediaFilter};

    use super::ssr::{current_member, pool};
    let me = current_member().await?;
    let filter = MediaFilter { search: Some(q).filter(|q| !q.trim().is_empty()), ..MediaFilter::default() };
    Ok(media::list(&pool()?, me.team_id, &filter, LIBRARY_PICK_SIZE).await?.into_iter().map(ComposeMedia::from_item).collect())
}

/// The signed-in member, if their role may change the library.
#[cfg(feature = "ssr")]
async fn editor() -> Result<crier_domain::store::Member, AppError> {
    let me = super::ssr::current_member().await?;
    if me.role.can_edit() { Ok(me) } else { Err(AppError::Forbidden) }
}

/// "Save alt text" on the Media page: the item's own alt text (a post may give it another).
#[server(prefix = "/api", endpoint = "media/alt-text")]
pub async fn set_media_alt_text(media_id: String, #[server(default)] alt_text: String) -> Result<String, AppError> {
    use crier_domain::store::audit::Actor;
    use crier_domain::store::media;

    use super::ssr::{fail_form, notice_for_next_page, parse_id, pool};
    let outcome = async {
        let me = editor().await?;
        let pool = pool()?;
        let id = parse_id(&media_id)?;
        media::set_alt_text(&pool, me.team_id, Actor::User(me.user_id), id, &alt_text).await?;
        let item = media::get(&pool, me.team_id, id).await?;
        Ok::<_, AppError>(format!("Saved the alt text of {}.", item.file_name))
    }
    .await;
    match outcome {
        Ok(message) => {
            notice_for_next_page(SetMediaAltText::PATH, &message).await;
            Ok(message)
        }
        Err(e) => fail_form(SetMediaAltText::PATH, e, &[("media_id", media_id.as_str()), ("alt_text", alt_text.as_str())]).await,
    }
}

/// "Delete" on the Media page: refused while a post that has not gone out carries the item (the
/// refusal names the post); its bytes are deleted from the store after it leaves the library.
#[server(prefix = "/api", endpoint = "media/delete")]
pub async fn delete_media(media_id: String) -> Result<String, AppError> {
    use crier_domain::store::audit::Actor;
    use crier_domain::store::media;

    use super::ssr::{fail_form, media as media_state, notice_for_next_page, pool};
    let outcome = async {
        let me = editor().await?;
        let id = super::ssr::parse_id(&media_id)?;
        let item = media::delete(&pool()?, me.team_id, Actor::User(me.user_id), id).await?;
        // Out of the library now; bytes left behind by a store that fails here cost space only.
        if let Err(error) = media_state()?.delete_bytes(me.team_id, id).await {
            tracing::warn!(%error, media_id = %id, "a deleted media item's bytes were not removed from the store");
        }
        Ok::<_, AppError>(format!("Deleted {}.", item.file_name))
    }
    .await;
    match outcome {
        Ok(message) => {
            notice_for_next_page(DeleteMedia::PATH, &message).await;
            Ok(message)
        }
        Err(e) => fail_form(DeleteMedia::PATH, e, &[("media_id", media_id.as_str())]).await,
    }
}
