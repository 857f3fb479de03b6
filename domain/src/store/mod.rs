//! The Postgres store. Every function that reads or writes team data takes the team (or the
//! signed-in [`Member`], which carries it) and filters by it in SQL, so an id from another team
//! simply finds nothing.

pub mod account_pictures;
pub mod accounts;
pub mod analytics;
pub mod api_tokens;
pub mod audit;
pub mod comments;
pub mod deliveries;
pub mod drafts;
pub mod feeds;
pub mod first_comments;
pub mod form_keys;
pub mod housekeeping;
pub mod import_jobs;
pub mod imports;
pub mod invites;
pub mod link_tracking;
pub mod login;
pub mod media;
pub mod media_uploads;
pub mod members;
pub mod notifications;
pub mod notify;
pub mod oauth_connections;
pub mod posts;
pub mod queues;
pub mod retention;
pub mod review_links;
pub mod reviews;
pub mod security;
pub mod sessions;
pub mod status;
pub mod teams;
pub mod throttle;
pub mod two_factor;
pub mod vault_keys;
pub mod webhooks;

use uuid::Uuid;

use crate::Role;

/// A signed-in person as every request sees them: who, in which team, with which role.
/// Loaded fresh from the database on each request, so a removed member is signed out at once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// The person.
    pub user_id: Uuid,
    /// Their team.
    pub team_id: Uuid,
    /// Their team's name.
    pub team_name: String,
    /// Their (normalised) email address.
    pub email: String,
    /// Their role in the team.
    pub role: Role,
    /// The timezone they see and enter times in.
    pub timezone: crate::timezone::TimeZone,
}

/// An id from a form or an address. A malformed one is "not found", like another team's: nothing
/// tells a caller which ids exist.
pub fn parse_id(raw: &str) -> Result<Uuid, crate::DomainError> {
    Uuid::parse_str(raw.trim()).map_err(|_| crate::DomainError::NotFound)
}

/// The accounts a form ticked (their ids as the form sends them).
pub fn parse_account_ids(raw: &[String]) -> Result<Vec<Uuid>, crate::FieldError> {
    raw.iter()
        .map(|id| {
            Uuid::parse_str(id.trim()).map_err(|_| crate::FieldError::new("accounts", "Choose the accounts again (reload the page)."))
        })
        .collect()
}

impl Member {
    /// Fails with `Forbidden` unless this member may manage members and settings.
    pub fn require_manager(&self) -> Result<(), crate::DomainError> {
        if self.role.can_manage_members() { Ok(()) } else { Err(crate::DomainError::Forbidden) }
    }

    /// Fails with `Forbidden` unless this member may edit (editors, admins and owners).
    pub fn require_editor(&self) -> Result<(), crate::DomainError> {
        if self.role.can_edit() { Ok(()) } else { Err(crate::DomainError::Forbidden) }
    }
}
