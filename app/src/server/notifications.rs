//! The notifications page and "Mark all read" (the header's bell counts the unread ones).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::errors::AppError;
#[cfg(feature = "ssr")]
use server_fn::ServerFn;

/// One notification, in words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationRow {
    /// What happened.
    pub words: String,
    /// Where to look.
    pub link: String,
    /// When, in the viewer's zone.
    pub when: String,
    /// Whether it was read.
    pub read: bool,
}

/// The signed-in person's latest notifications, newest first.
#[server(prefix = "/api", endpoint = "notifications")]
pub async fn notifications_page() -> Result<Vec<NotificationRow>, AppError> {
    use crier_domain::store::notifications;

    use super::ssr::{current_member, pool};
    let me = current_member().await?;
    Ok(notifications::latest(&pool()?, &me)
        .await?
        .into_iter()
        .map(|n| NotificationRow { words: n.words, link: n.link, when: me.timezone.format(n.at), read: n.read })
        .collect())
}

/// "Mark all read".
#[server(prefix = "/api", endpoint = "notifications/read")]
pub async fn mark_notifications_read() -> Result<u64, AppError> {
    use crier_domain::store::notifications;

    use super::ssr::{current_member, notice_for_next_page, pool};
    let me = current_member().await?;
    let marked = notifications::mark_all_read(&pool()?, &me).await?;
    notice_for_next_page(MarkNotificationsRead::PATH, "All read.").await;
    Ok(marked)
}

/// One kind of notification on the settings page, with the viewer's choices.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindChoice {
    /// Its name (`delivery_failed`…).
    pub kind: String,
    /// What it is.
    pub label: String,
    /// Shown under the bell.
    pub app: bool,
    /// Emailed.
    pub email: bool,
}

/// A team's chat channel, as the page shows it (never its URL).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatHookView {
    /// Its id.
    pub hook_id: String,
    /// "Slack" or "Microsoft Teams".
    pub service: String,
    /// The team's name for it.
    pub label: String,
    /// Scheme and host.
    pub url_hint: String,
    /// What it is told of, in words.
    pub kinds: Vec<String>,
}

/// One line of the team's notification log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageLine {
    /// When, in the viewer's zone.
    pub when: String,
    /// "Email" or "Chat".
    pub channel: String,
    /// The kind, in words.
    pub kind: String,
    /// sent, pending, failed, dropped…
    pub state: String,
    /// Why the last attempt failed.
    pub error: Option<String>,
}

/// Everything Settings → Notifications shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationSettingsView {
    /// The kinds the viewer can be told of, with their choices.
    pub kinds: Vec<KindChoice>,
    /// Whether this Crier sends email (an SMTP server is configured).
    pub email_available: bool,
    /// Whether the viewer manages the team's chat channels (owners and admins).
    pub can_manage: bool,
    /// The team's chat channels.
    pub hooks: Vec<ChatHookView>,
    /// The kinds a chat channel can be told of: (name, words).
    pub chat_kinds: Vec<(String, String)>,
    /// Whether http:// channel URLs are accepted here (development).
    pub allow_http: bool,
    /// The team's latest emails and chat posts (owners and admins).
    pub log: Vec<MessageLine>,
}

/// The signed-in member's notification settings, and the team's chat channels.
#[server(prefix = "/api", endpoint = "settings/notifications")]
pub async fn notification_settings() -> Result<NotificationSettingsView, AppError> {
    use crier_domain::notification::{Channel, NotificationKind};
    use crier_domain::store::notify;

    use super::ssr::{current_member, state};
    let me = current_member().await?;
    let state = state()?;
    let muted = notify::muted(&state.pool, &me).await?;
    let can_manage = me.role.can_manage_members();
    let kinds = NotificationKind::ALL
        .into_iter()
        .filter(|k| can_manage || !k.for_managers())
        .map(|k| KindChoice {
            kind: k.as_str().to_owned(),
            label: k.label().to_owned(),
            app: !muted.contains(&(k, Channel::App)),
            email: !muted.contains(&(k, Channel::Email)),
        })
        .collect();
    let words = |name: &str| NotificationKind::parse(name).map_or_else(|| name.to_owned(), |k| k.label().to_owned());
    let hooks = notify::chat_hooks(&state.pool, me.team_id)
        .await?
        .into_iter()
        .map(|h| ChatHookView {
            hook_id: h.hook_id.to_string(),
            service: h.service.label().to_owned(),
            label: h.label,
            url_hint: h.url_hint,
            kinds: h.kinds.iter().map(|k| k.label().to_owned()).collect(),
        })
        .collect();
    let log = if can_manage {
        notify::log(&state.pool, me.team_id, 20)
            .await?
            .into_iter()
            .map(|m| MessageLine {
                when: me.timezone.format(m.at),
                channel: if m.channel == "email" { "Email".into() } else { "Chat".into() },
                kind: words(&m.kind),
                state: m.state,
                error: m.last_error,
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(NotificationSettingsView {
        kinds,
        email_available: state.mailer.is_some(),
        can_manage,
        hooks,
        chat_kinds: NotificationKind::ALL
            .into_iter()
            .filter(|k| k.for_chat())
            .map(|k| (k.as_str().to_owned(), k.label().to_owned()))
            .collect(),
        allow_http: state.webhooks_allow_http,
        log,
    })
}

/// Saves what the member is told of: `on` holds `kind:channel` for each ticked box; every kind
/// the page showed them and left unticked is turned off (the others are left as they were).
#[server(prefix = "/api", endpoint = "settings/notifications/save")]
pub async fn save_notification_choices(#[server(default)] on: Vec<String>) -> Result<(), AppError> {
    use std::collections::BTreeSet;

    use crier_domain::notification::{Channel, NotificationKind};
    use crier_domain::store::notify;

    use super::ssr::{current_member, fail_form, notice_for_next_page, pool};
    let outcome = async {
        let me = current_member().await?;
        let pool = pool()?;
        if on.len() > 2 * NotificationKind::ALL.len() {
            return Err(AppError::Refused("Too many choices were sent: reload the page and try again.".into()));
        }
        let ticked: BTreeSet<(NotificationKind, Channel)> = on
            .iter()
            .filter_map(|pair| {
                let (kind, channel) = pair.split_once(':')?;
                Some((NotificationKind::parse(kind)?, Channel::parse(channel)?))
            })
            .collect();
        let shown = |k: &NotificationKind| me.role.can_manage_members() || !k.for_managers();
        let mut off: BTreeSet<(NotificationKind, Channel)> =
            notify::muted(&pool, &me).await?.into_iter().filter(|(k, _)| !shown(k)).collect();
        for kind in NotificationKind::ALL.into_iter().filter(shown) {
            for channel in Channel::ALL {
                if !ticked.contains(&(kind, channel)) {
                    off.insert((kind, channel));
                }
            }
        }
        notify::set_muted(&pool, &me, &off).await?;
        Ok(())
    }
    .await;
    match outcome {
        Ok(()) => {
            notice_for_next_page(SaveNotificationChoices::PATH, "Saved.").await;
            Ok(())
        }
        Err(e) => fail_form(SaveNotificationChoices::PATH, e, &[]).await,
    }
}

/// Adds a Slack or Microsoft Teams channel (owners and admins).
#[server(prefix = "/api", endpoint = "settings/notifications/chat/add")]
pub async fn add_chat_channel(
    service: String,
    label: String,
    url: String,
    #[server(default)] kinds: Vec<String>,
    #[server(default)] form_key: String,
) -> Result<(), AppError> {
    use crier_domain::store::notify::{self, NewChatHook};

    use super::ssr::{current_member, fail_form, notice_for_next_page, state};
    use crate::components::form::join_list;
    let typed_kinds = join_list(&kinds);
    // The URL is the channel's credential: never kept for the next page, typed again if refused.
    let typed = [("service", service.as_str()), ("label", label.as_str()), ("kinds", typed_kinds.as_str())];
    let outcome = async {
        let me = current_member().await?;
        if !me.role.can_manage_members() {
            return Err(AppError::Forbidden);
        }
        super::ssr::once_per_form(&form_key, &me, super::ssr::Replay::Same, async {
            let state = state()?;
            if kinds.len() > 20 {
                return Err(AppError::Refused("Too many kinds were sent: reload the page and try again.".into()));
            }
            let hook = NewChatHook::parse(&service, &label, &url, &kinds, state.webhooks_allow_http).map_err(AppError::Fields)?;
            let hook = NewChatHook {
                url: super::webhooks::refuse_internal(&state.outbound, hook.url).await.map_err(|e| AppError::Fields(vec![e]))?,
                ..hook
            };
            notify::add_chat_hook(&state.pool, &state.vault, &me, &hook).await?;
            Ok(())
        })
        .await
    }
    .await;
    match outcome {
        Ok(()) => {
            notice_for_next_page(AddChatChannel::PATH, "Channel added: Crier posts there when what you chose happens.").await;
            Ok(())
        }
        Err(e) => fail_form(AddChatChannel::PATH, e, &typed).await,
    }
}

/// Removes a chat channel (owners and admins).
#[server(prefix = "/api", endpoint = "settings/notifications/chat/remove")]
pub async fn remove_chat_channel(hook_id: String) -> Result<(), AppError> {
    use crier_domain::store::notify;

    use super::ssr::{current_member, fail_form, parse_id, pool};
    let outcome = async {
        let me = current_member().await?;
        Ok::<_, AppError>(notify::remove_chat_hook(&pool()?, &me, parse_id(&hook_id)?).await?)
    }
    .await;
    match outcome {
        Ok(()) => Ok(()),
        Err(e) => fail_form(RemoveChatChannel::PATH, e, &[]).await,
    }
}
