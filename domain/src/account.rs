//! Connected social accounts: the values the Accounts page and the publishing engine share.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

/// What an account is at its platform.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "store", derive(sqlx::Type), sqlx(type_name = "account_kind", rename_all = "snake_case"))]
pub enum AccountKind {
    /// An X user or a LinkedIn member.
    Profile,
    /// A LinkedIn organization page the member administers.
    Organization,
    /// A Facebook Page.
    Page,
}

/// The stored status of an account (see the migration for each meaning).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "store", derive(sqlx::Type), sqlx(type_name = "account_status", rename_all = "snake_case"))]
pub enum AccountStatus {
    /// Tokens believed good.
    Connected,
    /// The platform refused the token; someone must reconnect.
    NeedsReauth,
    /// The account is gone at the platform.
    Revoked,
    /// Disconnected by the team; no tokens are kept.
    Disconnected,
}

/// How Crier authenticates to the platform for this account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "store", derive(sqlx::Type), sqlx(type_name = "auth_method", rename_all = "snake_case"))]
pub enum AuthMethod {
    /// OAuth 2.0 bearer tokens from the Connect button.
    Oauth2,
    /// X OAuth 1.0a user-context keys, pasted or imported from the environment.
    Oauth1,
}

/// What the Accounts page shows as the account's health: the stored status, plus "expiring soon"
/// derived from the token's expiry at the moment of looking.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountHealth {
    /// Ready to publish.
    Connected,
    /// Publishing works, but someone must reconnect before [`AccountHealth`]'s deadline.
    ExpiringSoon,
    /// Publishing is held until someone reconnects.
    NeedsReauth,
    /// The account is gone at the platform.
    Revoked,
}

impl AccountHealth {
    /// How close to the end of a token's life a team is warned.
    pub const WARN_BEFORE: TimeDelta = TimeDelta::days(7);

    /// The health of an account with this status whose access ends at `reauth_by` (if ever).
    pub fn at(status: AccountStatus, reauth_by: Option<DateTime<Utc>>, now: DateTime<Utc>) -> AccountHealth {
        match status {
            AccountStatus::NeedsReauth | AccountStatus::Disconnected => AccountHealth::NeedsReauth,
            AccountStatus::Revoked => AccountHealth::Revoked,
            AccountStatus::Connected => match reauth_by {
                Some(deadline) if deadline <= now => AccountHealth::NeedsReauth,
                Some(deadline) if deadline - now <= Self::WARN_BEFORE => AccountHealth::ExpiringSoon,
                _ => AccountHealth::Connected,
            },
        }
    }

    /// The words the page shows.
    pub fn label(self) -> &'static str {
        match self {
            AccountHealth::Connected => "Connected",
            AccountHealth::ExpiringSoon => "Expiring soon",
            AccountHealth::NeedsReauth => "Needs re-auth",
            AccountHealth::Revoked => "Revoked",
        }
    }
}

/// The moment a team must reconnect by: the refresh token's end when Crier can refresh (never,
/// when that end is unknown), otherwise the access token's.
pub fn reauth_by(
    can_refresh: bool,
    token_expires_at: Option<DateTime<Utc>>,
    refresh_expires_at: Option<DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
    if can_refresh { refresh_expires_at } else { token_expires_at }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn health_is_derived_from_the_deadline() {
        let now = Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap();
        let ok = AccountHealth::at(AccountStatus::Connected, Some(now + TimeDelta::days(30)), now);
        let soon = AccountHealth::at(AccountStatus::Connected, Some(now + TimeDelta::days(3)), now);
        let past = AccountHealth::at(AccountStatus::Connected, Some(now - TimeDelta::seconds(1)), now);
        let forever = AccountHealth::at(AccountStatus::Connected, None, now);
        assert_eq!(
            (ok, soon, past, forever),
            (AccountHealth::Connected, AccountHealth::ExpiringSoon, AccountHealth::NeedsReauth, AccountHealth::Connected)
        );
        assert_eq!(AccountHealth::at(AccountStatus::Revoked, None, now), AccountHealth::Revoked);
    }

    #[test]
    fn a_refreshable_account_lives_as_long_as_its_refresh_token() {
        let now = Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap();
        let access = Some(now + TimeDelta::hours(2));
        assert_eq!(reauth_by(true, access, None), None);
        assert_eq!(reauth_by(false, access, None), access);
        assert_eq!(reauth_by(true, access, Some(now + TimeDelta::days(365))), Some(now + TimeDelta::days(365)));
    }
}
