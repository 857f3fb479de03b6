//! What a member can be told, and where: the kinds of notification, the channels a member turns
//! them on or off for, and the chat services a team can send them to. The database holds the same
//! lists (migration `20261212000010_notification_channels.sql`): a test compares them.

use serde::{Deserialize, Serialize};

/// A kind of notification (the `kind` of a `notification` and of a `notification_message`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    /// A post's delivery failed (its author; the owners and admins once the author left).
    DeliveryFailed,
    /// An account must be reconnected (owners and admins).
    AccountNeedsReauth,
    /// An account's access ends within 7 days (owners and admins).
    AccountTokenExpiring,
    /// A post waits for review (its approvers).
    PostSubmitted,
    /// A post was approved (its author).
    PostApproved,
    /// Changes were requested on a post (its author).
    PostChangesRequested,
    /// A comment mentions the member.
    CommentMention,
    /// A client reviewed a post through a review link (its author).
    ClientReviewed,
    /// Due posts wait unclaimed: publishing is stalled (owners and admins).
    PublishingStalled,
}

impl NotificationKind {
    /// Every kind, in the order the settings page lists them.
    pub const ALL: [NotificationKind; 9] = [
        NotificationKind::PostSubmitted,
        NotificationKind::PostApproved,
        NotificationKind::PostChangesRequested,
        NotificationKind::ClientReviewed,
        NotificationKind::CommentMention,
        NotificationKind::DeliveryFailed,
        NotificationKind::AccountNeedsReauth,
        NotificationKind::AccountTokenExpiring,
        NotificationKind::PublishingStalled,
    ];

    /// Its name in the database, forms and links.
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationKind::DeliveryFailed => "delivery_failed",
            NotificationKind::AccountNeedsReauth => "account_needs_reauth",
            NotificationKind::AccountTokenExpiring => "account_token_expiring",
            NotificationKind::PostSubmitted => "post_submitted",
            NotificationKind::PostApproved => "post_approved",
            NotificationKind::PostChangesRequested => "post_changes_requested",
            NotificationKind::CommentMention => "comment_mention",
            NotificationKind::ClientReviewed => "client_reviewed",
            NotificationKind::PublishingStalled => "publishing_stalled",
        }
    }

    /// The kind named `name`, if any.
    pub fn parse(name: &str) -> Option<NotificationKind> {
        NotificationKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// What it is, for the settings page and an email's unsubscribe line.
    pub fn label(self) -> &'static str {
        match self {
            NotificationKind::DeliveryFailed => "A post of mine failed to publish",
            NotificationKind::AccountNeedsReauth => "An account must be reconnected",
            NotificationKind::AccountTokenExpiring => "An account's access ends within 7 days",
            NotificationKind::PostSubmitted => "A post waits for my review",
            NotificationKind::PostApproved => "My post was approved",
            NotificationKind::PostChangesRequested => "Changes were requested on my post",
            NotificationKind::CommentMention => "A comment mentions me",
            NotificationKind::ClientReviewed => "A client reviewed my post",
            NotificationKind::PublishingStalled => "Publishing is stalled",
        }
    }

    /// Whether a team's chat channel can be told of it (a mention is for the person mentioned).
    pub fn for_chat(self) -> bool {
        self != NotificationKind::CommentMention
    }

    /// Whether only owners and admins are ever told of it (the settings page shows it to them).
    pub fn for_managers(self) -> bool {
        matches!(self, NotificationKind::AccountNeedsReauth | NotificationKind::AccountTokenExpiring | NotificationKind::PublishingStalled)
    }
}

/// Where a member is told.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// The bell and the Notifications page.
    App,
    /// An email (when the installation has an SMTP server).
    Email,
}

impl Channel {
    /// Both, in the settings page's order.
    pub const ALL: [Channel; 2] = [Channel::App, Channel::Email];

    /// Its name in the database and forms.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::App => "app",
            Channel::Email => "email",
        }
    }

    /// The channel named `name`, if any.
    pub fn parse(name: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

/// A chat service a team sends notifications to through an incoming webhook.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChatService {
    /// A Slack incoming webhook (`{"text": …}`, Slack's mrkdwn links).
    Slack,
    /// A Microsoft Teams incoming webhook or Workflows webhook (an Adaptive Card message).
    Teams,
}

impl ChatService {
    /// Both.
    pub const ALL: [ChatService; 2] = [ChatService::Slack, ChatService::Teams];

    /// Its name in the database and forms.
    pub fn as_str(self) -> &'static str {
        match self {
            ChatService::Slack => "slack",
            ChatService::Teams => "teams",
        }
    }

    /// The service named `name`, if any.
    pub fn parse(name: &str) -> Option<ChatService> {
        ChatService::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// Its name for people.
    pub fn label(self) -> &'static str {
        match self {
            ChatService::Slack => "Slack",
            ChatService::Teams => "Microsoft Teams",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for kind in NotificationKind::ALL {
            assert_eq!(NotificationKind::parse(kind.as_str()), Some(kind));
        }
        for channel in Channel::ALL {
            assert_eq!(Channel::parse(channel.as_str()), Some(channel));
        }
        for service in ChatService::ALL {
            assert_eq!(ChatService::parse(service.as_str()), Some(service));
        }
        assert_eq!(NotificationKind::parse("comment_added"), None);
    }
}
