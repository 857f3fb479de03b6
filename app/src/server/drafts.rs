//! Drafts: Compose's "Save draft" (in `posts::create_post`, intent `draft`), the Drafts page's
//! list, a draft reopened in Compose, and "Discard".

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::components::form::FormValues;
use crate::errors::AppError;
use crier_platform::Platform;
#[cfg(feature = "ssr")]
use server_fn::ServerFn;

/// A draft on the Drafts page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftRow {
    /// Its id.
    pub post_id: String,
    /// The start of its text.
    pub text: String,
    /// When it is planned for, in the viewer's zone ("not planned" when it is not).
    pub planned: String,
    /// When it was last saved, in the viewer's zone.
    pub saved: String,
    /// Who started it.
    pub author: String,
    /// The accounts it is meant for.
    pub accounts: Vec<(Platform, String)>,
    /// Where it is: "Draft", "In review", "Changes requested", "Approved".
    pub state: String,
    /// Whether it may be discarded (a draft, or one sent back).
    pub discardable: bool,
}

/// The Drafts page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftsPageData {
    /// The latest saved first.
    pub drafts: Vec<DraftRow>,
    /// How many there are (more than listed when over the page's limit).
    pub total: i64,
    /// Whether the viewer may write and discard drafts (editors and up).
    pub can_edit: bool,
}

/// The team's drafts.
#[server(prefix = "/api", endpoint = "drafts")]
pub async fn drafts_view() -> Result<DraftsPageData, AppError> {
    use crier_domain::store::drafts;

    use super::ssr::{current_member, pool};
    let me = current_member().await?;
    let (rows, total) = drafts::list(&pool()?, me.team_id).await?;
    let drafts = rows
        .into_iter()
        .map(|d| DraftRow {
            post_id: d.post_id.to_string(),
            text: d.text.chars().take(140).collect(),
            planned: d.planned_at.map_or_else(|| "Not planned yet".to_owned(), |at| me.timezone.format(at)),
            saved: me.timezone.format(d.updated_at),
            author: d.author.unwrap_or_else(|| "Someone who left the team".to_owned()),
            accounts: d.accounts,
            state: d.state.label().to_owned(),
            discardable: d.state.can_discard(),
        })
        .collect();
    Ok(DraftsPageData { drafts, total, can_edit: me.role.can_edit() })
}

/// The team's draft `post_id` as Compose's fields (the values a plain post of the form would
/// come back with), with `draft` naming it so that saving again updates it.
#[server(prefix = "/api", endpoint = "drafts/open")]
pub async fn draft_form(post_id: String) -> Result<FormValues, AppError> {
    use crier_domain::store::{drafts, parse_id};

    use super::posts::CreatePost;
    use super::ssr::{current_member, pool};
    use crate::components::form::join_list;
    let me = current_member().await?;
    let draft = drafts::get(&pool()?, me.team_id, parse_id(&post_id)?).await?;
    let content = &draft.content;
    let own = |platform: Platform| content.overrides.iter().find(|(p, _)| *p == platform).map(|(_, t)| t.clone()).unwrap_or_default();
    // Compose holds one shared media list for the post (per-platform and per-reply lists are the API's).
    let shared: Vec<_> = content.media.iter().filter(|m| m.platform.is_none() && m.item == 0).collect();
    let values = [
        ("draft", draft.post_id.to_string()),
        ("text", content.text.clone()),
        ("text_x", own(Platform::X)),
        ("text_linkedin", own(Platform::Linkedin)),
        ("text_facebook", own(Platform::Facebook)),
        ("link", content.link.clone().unwrap_or_default()),
        ("thread", join_list(&content.thread)),
        ("accounts", join_list(&draft.account_ids.iter().map(ToString::to_string).collect::<Vec<_>>())),
        (
            "scheduled_at",
            draft.planned_at.map(|at| at.with_timezone(&me.timezone.tz()).format("%Y-%m-%dT%H:%M").to_string()).unwrap_or_default(),
        ),
        ("media", join_list(&shared.iter().map(|m| m.media_id.to_string()).collect::<Vec<_>>())),
        ("media_alt", join_list(&shared.iter().map(|m| m.alt_text.clone().unwrap_or_default()).collect::<Vec<_>>())),
        ("utm", if content.tracking.utm.is_some() { "on".to_owned() } else { String::new() }),
        ("utm_campaign", content.tracking.utm.as_ref().and_then(|u| u.campaign.clone()).unwrap_or_default()),
        ("utm_medium", content.tracking.utm.as_ref().map(|u| u.medium.clone()).unwrap_or_default()),
        ("short_links", if content.tracking.short_links { "on".to_owned() } else { String::new() }),
        (super::posts::TRACKING_SENT, "1".to_owned()),
        ("first_comment_x", content.first_comment_for(Platform::X).unwrap_or_default().to_owned()),
        ("first_comment_linkedin", content.first_comment_for(Platform::Linkedin).unwrap_or_default().to_owned()),
        ("first_comment_facebook", content.first_comment_for(Platform::Facebook).unwrap_or_default().to_owned()),
    ];
    Ok(FormValues {
        path: CreatePost::PATH.to_owned(),
        // A draft without a time keeps its time field empty (Compose would start it at now).
        values: values.into_iter().filter(|(k, v)| !v.is_empty() || *k == "scheduled_at").map(|(k, v)| (k.to_owned(), v)).collect(),
    })
}

/// "Discard" on the Drafts page: the draft is no longer listed (the audit trail keeps it).
#[server(prefix = "/api", endpoint = "drafts/discard")]
pub async fn discard_draft(post_id: String) -> Result<(), AppError> {
    use crier_domain::store::audit::Actor;
    use crier_domain::store::{drafts, parse_id};

    use super::ssr::{current_member, pool};
    let me = current_member().await?;
    if !me.role.can_edit() {
        return Err(AppError::Forbidden);
    }
    drafts::discard(&pool()?, me.team_id, Actor::User(me.user_id), parse_id(&post_id)?).await?;
    super::ssr::notice_for_next_page(DiscardDraft::PATH, "Draft discarded.").await;
    Ok(())
}
