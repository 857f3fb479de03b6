//! Compose's previews: each chosen account's post as its platform's feed will show it (picture,
//! name and handle, the text with its links, mentions and hashtags marked and folded where the
//! feed folds it, the link card, the media laid out and cropped as the platform does, and on X the
//! thread). Drawn by the server (`server::preview`), on the page and again as the form changes, so
//! none of it is in the wasm.

use leptos::prelude::*;

use crate::components::attachments::media_grid;
use crate::components::avatar::Avatar;
use crate::components::platform_icon::PlatformIcon;
use crate::server::media::ComposeMedia;
use crate::server::posts::ComposeAccount;
use crier_platform::Platform;
use crier_text::{Mark, Piece};

/// One card: whose post, on which platform, and what it shows.
pub struct PreviewCard {
    /// The account posting it; `None` before any is chosen (the platform's card, unnamed).
    pub account: Option<ComposeAccount>,
    /// Its platform.
    pub platform: Platform,
    /// The text as published (the link added where the platform puts it in the text).
    pub text: String,
    /// The link shown as a card, if the platform shows one for this post.
    pub card: Option<String>,
    /// The media, in order, with their alt texts.
    pub media: Vec<ComposeMedia>,
    /// The X thread's replies (empty elsewhere).
    pub thread: Vec<String>,
}

/// The cards, or a line saying there is nothing to show yet.
#[component]
pub fn PostPreviews(cards: Vec<PreviewCard>, chosen: bool) -> impl IntoView {
    let hint =
        if chosen { "As each account's followers will see it." } else { "Choose accounts under “Publish to” to see each one's post." };
    view! {
        <p class="hint">{hint}</p>
        {cards.into_iter().map(card).collect_view()}
    }
}

fn card(card: PreviewCard) -> impl IntoView {
    let platform = card.platform;
    let account = card.account.clone();
    let replies = card
        .thread
        .iter()
        .filter(|reply| !reply.trim().is_empty())
        .map(|reply| {
            view! {
                <div class="preview-reply">
                    {head(account.clone(), platform)}
                    {body(platform, reply)}
                </div>
            }
        })
        .collect_view();
    view! {
        <article class="preview" data-platform=platform.as_str() aria-label=format!("{} preview", platform.label())>
            {head(card.account, platform)}
            {body(platform, &card.text)}
            {media_grid(platform, &card.media)}
            {card.card.map(|link| link_card(platform, &link))}
            {replies}
        </article>
    }
}

/// Who posts: the picture, the name and (on X) the handle, and the platform's icon.
fn head(account: Option<ComposeAccount>, platform: Platform) -> impl IntoView {
    let name = account.as_ref().map_or_else(|| format!("Your {} account", platform.label()), |a| a.name.clone());
    let handle = account.as_ref().and_then(|a| a.handle.clone()).filter(|_| platform == Platform::X);
    let picture = account.and_then(|a| a.picture);
    view! {
        <header class="preview-head">
            <Avatar name=name.clone() picture />
            <span class="preview-who">
                <strong>{name}</strong>
                {handle.map(|h| view! { <span class="handle">{format!("@{h}")}</span> })}
            </span>
            <PlatformIcon platform size=16 label=platform.label() />
        </header>
    }
}

/// The text, marked as the platform marks it, folded where its feed folds it.
fn body(platform: Platform, text: &str) -> impl IntoView + use<> {
    let shown = crier_text::shown(platform, text);
    let more = match platform {
        Platform::X => "Show more",
        Platform::Linkedin => "…see more",
        Platform::Facebook => "See more",
    };
    let folded = !shown.rest.is_empty();
    view! {
        <p class="post-text">
            {pieces(shown.lead)}
            {folded.then(|| view! { <span class="fold" title="The rest shows when a reader opens the post">{format!(" {more}")}</span> })}
        </p>
    }
}

fn pieces(pieces: Vec<Piece>) -> impl IntoView {
    pieces
        .into_iter()
        .map(|piece| match piece.mark {
            Mark::Plain => view! { <span>{piece.text}</span> }.into_any(),
            mark => view! { <span class=format!("mark {}", mark.as_str())>{piece.text}</span> }.into_any(),
        })
        .collect_view()
}

/// The card a link gets: the site's address (its title and image are the page's own, read by the
/// platform when the post goes out).
fn link_card(platform: Platform, link: &str) -> impl IntoView + use<> {
    let host = link.split("://").nth(1).unwrap_or(link).split(['/', '?', '#']).next().unwrap_or_default().to_owned();
    let host = if platform == Platform::Facebook { host.to_uppercase() } else { host };
    view! {
        <div class="link-card">
            <span class="link-host">{host}</span>
            <span class="link-url">{link.to_owned()}</span>
        </div>
    }
}
