//! Compose's previews, drawn by the server: the page renders them with the form, and the form's
//! island asks again as the form changes (`posts/preview`), swapping the answer in. The rules are
//! the ones the worker publishes by (`PostContent::published_text`, `crier_media::layout`,
//! `crier_text::shown`), and keeping them here rather than in the wasm keeps the bundle small.

use leptos::prelude::*;

use crate::errors::AppError;

/// Compose's previews as HTML, for what the form holds: the texts, the link, the thread, the
/// media and the ticked accounts (fields named as Compose names them; others are ignored).
/// Nothing is saved. Lenient by design: a text too long or a link not yet a link is previewed
/// as typed (the counters and the form's errors say what is wrong).
#[server(prefix = "/api", endpoint = "posts/preview")]
#[allow(clippy::too_many_arguments)]
pub async fn preview_post(
    #[server(default)] text: String,
    #[server(default)] text_x: String,
    #[server(default)] text_linkedin: String,
    #[server(default)] text_facebook: String,
    #[server(default)] link: String,
    #[server(default)] thread: Vec<String>,
    #[server(default)] accounts: Vec<String>,
    #[server(default)] media: Vec<String>,
    #[server(default)] media_alt: Vec<String>,
) -> Result<String, AppError> {
    use crier_domain::post::{MAX_TEXT_CHARS, MAX_THREAD_ITEM_CHARS, MAX_THREAD_ITEMS, PostContent};
    use crier_platform::Platform;

    use super::posts::{attached_media, compose_accounts};
    use super::ssr::{current_member, pool};

    let me = current_member().await?;
    let pool = pool()?;
    // Bounded work whatever is sent: each text at most what any platform takes, the thread at
    // most what X takes, the media as many as a post holds (`attached_media`).
    let bounded = |t: &str, most: usize| t.chars().take(most).collect::<String>();
    let own = [(Platform::X, &text_x), (Platform::Linkedin, &text_linkedin), (Platform::Facebook, &text_facebook)];
    let content = PostContent {
        text: bounded(&text, MAX_TEXT_CHARS),
        overrides: own.iter().filter(|(_, t)| !t.trim().is_empty()).map(|(p, t)| (*p, bounded(t, MAX_TEXT_CHARS))).collect(),
        link: Some(bounded(link.trim(), crier_domain::post::MAX_LINK_LEN)).filter(|l| !l.is_empty()),
        thread: thread.iter().take(MAX_THREAD_ITEMS).map(|t| bounded(t, MAX_THREAD_ITEM_CHARS)).collect(),
        ..PostContent::default()
    };
    let media = attached_media(&pool, me.team_id, &media, &media_alt).await?;
    let team_accounts = compose_accounts(&pool, me.team_id).await?;
    let ticked: Vec<_> = team_accounts.into_iter().filter(|a| accounts.contains(&a.account_id)).collect();
    Ok(render_previews(&content, &media, ticked))
}

/// The previews of `content` with `media` for `accounts` (before any is chosen, one unnamed card
/// per platform), as HTML: Compose's, and a review link's.
#[cfg(feature = "ssr")]
pub(crate) fn render_previews(
    content: &crier_domain::post::PostContent,
    media: &[crate::server::media::ComposeMedia],
    accounts: Vec<crate::server::posts::ComposeAccount>,
) -> String {
    use crate::components::preview::{PostPreviews, PreviewCard};
    use crier_platform::Platform;
    let chosen = !accounts.is_empty();
    // One card per account, by platform; before any is chosen, one unnamed card per platform.
    let whose: Vec<(Platform, Option<_>)> = if chosen {
        Platform::ALL
            .into_iter()
            .flat_map(|p| accounts.iter().filter(move |a| a.platform == p).map(move |a| (p, Some(a.clone()))))
            .collect()
    } else {
        Platform::ALL.into_iter().map(|p| (p, None)).collect()
    };
    let cards: Vec<PreviewCard> = whose
        .into_iter()
        .map(|(platform, account)| PreviewCard {
            account,
            platform,
            text: content.published_text(platform, !media.is_empty()),
            card: content.link.clone().filter(|_| media.is_empty()),
            media: media.to_vec(),
            thread: if platform == Platform::X { content.thread.clone() } else { Vec::new() },
        })
        .collect();
    // Rendered apart from any page, so under an owner of its own.
    Owner::new().with(|| view! { <PostPreviews cards chosen /> }.to_html())
}
