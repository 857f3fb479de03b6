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
