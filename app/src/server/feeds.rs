//! Settings → Feeds: the RSS and Atom feeds the team follows (owners and admins add, remove and
//! check them; everyone sees them), each with its last poll, its last error and the posts it made.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::errors::AppError;
#[cfg(feature = "ssr")]
use server_fn::ServerFn;

/// An item a feed showed, as its page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedItemRow {
    /// Its title (or its address).
    pub title: String,
    /// What became of it, in words.
    pub what: String,
    /// posted, drafted, skipped.
    pub state: String,
    /// Its post or draft, while it exists.
    pub post_link: Option<String>,
    /// When Crier saw it, in the viewer's zone.
    pub when: String,
}

/// A feed, as its page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedRow {
    /// Its id.
    pub feed_id: String,
    /// Its address.
    pub url: String,
    /// Its title once read, else its address.
    pub name: String,
    /// The posts' template.
    pub template: String,
    /// What new items become, in words.
    pub mode: String,
    /// Its accounts, in words.
    pub accounts: Vec<String>,
    /// When it was last polled and what that did, in words.
    pub last_poll: String,
    /// Why the last poll failed, in words.
    pub last_error: Option<String>,
    /// When it is polled next, in words.
    pub next_poll: String,
    /// Its latest items.
    pub items: Vec<FeedItemRow>,
}

/// An account the form offers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedAccountChoice {
    /// Its id.
    pub account_id: String,
    /// "X · @name".
    pub label: String,
}

/// Everything Settings → Feeds shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedSettingsView {
    /// Whether the viewer adds and removes feeds (owners and admins).
    pub can_manage: bool,
    /// The team's feeds.
    pub feeds: Vec<FeedRow>,
    /// The team's connected accounts.
    pub accounts: Vec<FeedAccountChoice>,
    /// (name, words) of what new items can become.
    pub modes: Vec<(String, String)>,
    /// Minutes between two polls of a feed, at least.
    pub min_interval_minutes: u64,
    /// Whether http:// feeds are accepted here (development).
    pub allow_http: bool,
}

/// The team's feeds and what the form offers.
#[server(prefix = "/api", endpoint = "settings/feeds")]
pub async fn feed_settings() -> Result<FeedSettingsView, AppError> {
    use crier_domain::account::AccountStatus;
    use crier_domain::feed::FeedMode;
    use crier_domain::store::{accounts, feeds};

    use super::ssr::{current_member, state};
    let me = current_member().await?;
    let state = state()?;
    let tz = &me.timezone;
    let rows = feeds::list(&state.pool, me.team_id)
        .await?
        .into_iter()
        .map(|f| {
            let last_poll = match (f.last_polled_at, &f.last_outcome) {
                (None, _) => "Not polled yet: the first poll comes within a minute (or use Check now).".to_owned(),
                (Some(at), Some(outcome)) if f.last_error.is_none() => format!("{}: {outcome}", tz.format(at)),
                (Some(at), _) => format!("{}: failed ({} in a row).", tz.format(at), f.error_count),
            };
            let items = f
                .items
                .into_iter()
                .map(|i| {
                    let (what, post_link) = match i.state.as_str() {
                        "posted" => ("Posted".to_owned(), i.post_id.map(|id| format!("/posts/{id}"))),
                        "drafted" => ("Draft".to_owned(), i.post_id.map(|id| format!("/compose?draft={id}"))),
                        _ => (format!("Skipped: {}", i.reason.unwrap_or_default()), None),
                    };
                    FeedItemRow {
                        title: i.title.or(i.link).unwrap_or_else(|| "(untitled)".into()),
                        what,
                        state: i.state,
                        post_link,
                        when: tz.format(i.seen_at),
                    }
                })
                .collect();
            FeedRow {
                feed_id: f.feed_id.to_string(),
                name: f.title.clone().unwrap_or_else(|| f.url.clone()),
                url: f.url,
                template: f.template,
                mode: f.mode.label().to_owned(),
                accounts: f.accounts.into_iter().map(|(_, name, platform)| format!("{platform} · {name}")).collect(),
                last_poll,
                last_error: f.last_error,
                next_poll: tz.format(f.next_poll_at),
                items,
            }
        })
        .collect();
    let accounts = accounts::list(&state.pool, me.team_id)
        .await?
        .into_iter()
        .filter(|a| a.status != AccountStatus::Disconnected)
        .map(|a| FeedAccountChoice { account_id: a.account_id.to_string(), label: format!("{} · {}", a.platform.label(), a.name) })
        .collect();
    Ok(FeedSettingsView {
        can_manage: me.role.can_manage_members(),
        feeds: rows,
        accounts,
        modes: FeedMode::ALL.into_iter().map(|m| (m.as_str().to_owned(), m.label().to_owned())).collect(),
        min_interval_minutes: state.feeds.min_interval().as_secs() / 60,
        allow_http: state.webhooks_allow_http,
    })
}

/// Adds a feed (owners and admins). A refused form comes back with what was typed.
#[server(prefix = "/api", endpoint = "settings/feeds/add")]
pub async fn add_feed(
    url: String,
    #[server(default)] accounts: Vec<String>,
    template: String,
    mode: String,
    #[server(default)] form_key: String,
) -> Result<(), AppError> {
    use crier_domain::feed::NewFeed;
    use crier_domain::store::feeds;

    use super::ssr::{current_member, fail_form, notice_for_next_page, once_per_form, state};
    use crate::components::form::join_list;
    let typed_accounts = join_list(&accounts);
    let typed = [("url", url.as_str()), ("accounts", typed_accounts.as_str()), ("template", template.as_str()), ("mode", mode.as_str())];
    let outcome = async {
        let me = current_member().await?;
        if !me.role.can_manage_members() {
            return Err(AppError::Forbidden);
        }
        once_per_form(&form_key, &me, super::ssr::Replay::Same, async {
            let state = state()?;
            let feed = NewFeed::parse(&url, &accounts, &template, &mode, state.webhooks_allow_http).map_err(AppError::Fields)?;
            crier_publisher::feeds::check_address(&state.outbound, &feed.url).await.map_err(|e| AppError::Fields(vec![e]))?;
            feeds::add(&state.pool, &me, &feed).await?;
            Ok(())
        })
        .await
    }
    .await;
    match outcome {
        Ok(()) => {
            notice_for_next_page(AddFeed::PATH, "Feed added: Crier reads it within a minute, then every few minutes.").await;
            Ok(())
        }
        Err(e) => fail_form(AddFeed::PATH, e, &typed).await,
    }
}

/// Removes a feed (owners and admins); the posts it made stay.
#[server(prefix = "/api", endpoint = "settings/feeds/remove")]
pub async fn remove_feed(feed_id: String) -> Result<(), AppError> {
    use crier_domain::store::feeds;

    use super::ssr::{current_member, fail_form, notice_for_next_page, parse_id, pool};
    let outcome = async {
        let me = current_member().await?;
        Ok::<_, AppError>(feeds::remove(&pool()?, &me, parse_id(&feed_id)?).await?)
    }
    .await;
    match outcome {
        Ok(()) => {
            notice_for_next_page(RemoveFeed::PATH, "Feed removed. The posts it made stay.").await;
            Ok(())
        }
        Err(e) => fail_form(RemoveFeed::PATH, e, &[]).await,
    }
}

/// Polls a feed now (owners and admins), and says what that did.
#[server(prefix = "/api", endpoint = "settings/feeds/check")]
pub async fn check_feed(feed_id: String) -> Result<String, AppError> {
    use super::ssr::{current_member, fail_form, notice_for_next_page, parse_id, state};
    let outcome = async {
        let me = current_member().await?;
        if !me.role.can_manage_members() {
            return Err(AppError::Forbidden);
        }
        let id = parse_id(&feed_id)?;
        let report = state()?.feeds.check_now(me.team_id, id).await?;
        Ok(match report {
            None => "The feed is being polled right now: reload the page in a moment.".to_owned(),
            Some(r) if r.error.is_some() => format!("Checked: {}", r.error.unwrap_or_default()),
            Some(r) if r.not_modified => "Checked: the feed has not changed since the last poll.".to_owned(),
            Some(r) => match (r.made, r.skipped) {
                (0, 0) => "Checked: no new items.".to_owned(),
                (made, skipped) => format!("Checked: {made} new post(s) made, {skipped} item(s) skipped."),
            },
        })
    }
    .await;
    match outcome {
        Ok(words) => {
            notice_for_next_page(CheckFeed::PATH, &words).await;
            Ok(words)
        }
        Err(e) => fail_form(CheckFeed::PATH, e, &[]).await,
    }
}
