//! The Accounts page: connected accounts with their status, Verify, Disconnect, the LinkedIn /
//! Facebook chooser after consent, and X OAuth 1.0a keys. The OAuth redirects themselves are
//! plain HTTP endpoints (see `connections`), not server functions.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::PasswordField;
use crate::errors::AppError;
use crier_domain::account::{AccountHealth, AccountKind};
use crier_platform::Platform;

/// One account as listed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRow {
    /// Crier's id (for the row's forms).
    pub account_id: String,
    /// Which platform.
    pub platform: Platform,
    /// Profile, organization or Page.
    pub kind: AccountKind,
    /// Display name.
    pub name: String,
    /// `@username` on X.
    pub handle: Option<String>,
    /// Health now.
    pub health: AccountHealth,
    /// The platform's words on a failed check.
    pub detail: Option<String>,
    /// When re-authorisation is due, in the viewer's timezone, if ever.
    pub reauth_by: Option<String>,
    /// When the access token expires, in the viewer's timezone, if it does.
    pub token_expires_at: Option<String>,
    /// Whether Crier refreshes the access token itself.
    pub refreshes: bool,
    /// Last publish, in the viewer's timezone.
    pub last_used_at: Option<String>,
    /// Last successful Verify, in the viewer's timezone.
    pub last_verified_at: Option<String>,
    /// OAuth 1.0a keys rather than a Connect button.
    pub oauth1: bool,
    /// Where Crier serves its profile picture, once it has one.
    pub picture: Option<String>,
}

/// A platform's Connect button.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectOption {
    /// Which platform.
    pub platform: Platform,
    /// "X", "LinkedIn", "Facebook".
    pub label: String,
    /// Whether the button works: an app is configured, or the sandbox stands in.
    pub available: bool,
    /// Whether it goes to the sandbox rather than the real platform.
    pub sandbox: bool,
}

/// A one-time message from the last redirect (connected, cancelled, expired...).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flash {
    /// Good news or a problem.
    pub ok: bool,
    /// What to show.
    pub text: String,
}

/// Everything the Accounts page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountsView {
    /// The team's accounts.
    pub accounts: Vec<AccountRow>,
    /// One per platform.
    pub connect: Vec<ConnectOption>,
    /// Whether the viewer may connect and disconnect.
    pub can_manage: bool,
    /// Whether the viewer may run Verify (editors and up).
    pub can_verify: bool,
    /// The message from the last connect attempt, shown once.
    pub flash: Option<Flash>,
}

/// The row of `account`; `pictures` are the team's picture URLs by account
/// ([`crier_domain::store::account_pictures::urls`]).
#[cfg(feature = "ssr")]
pub(crate) fn row(
    account: crier_domain::store::accounts::Account,
    now: chrono::DateTime<chrono::Utc>,
    zone: crier_domain::timezone::TimeZone,
    pictures: &std::collections::HashMap<uuid::Uuid, String>,
) -> AccountRow {
    use crier_domain::account::AuthMethod;
    let rfc = |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| zone.format(t));
    AccountRow {
        account_id: account.account_id.to_string(),
        platform: account.platform,
        kind: account.kind,
        health: account.health(now),
        reauth_by: rfc(account.reauth_by()),
        token_expires_at: rfc(account.token_expires_at),
        refreshes: account.can_refresh,
        last_used_at: rfc(account.last_used_at),
        last_verified_at: rfc(account.last_verified_at),
        oauth1: account.auth_method == AuthMethod::Oauth1,
        picture: pictures.get(&account.account_id).cloned(),
        detail: account.status_detail,
        handle: account.handle,
        name: account.name,
    }
}

/// The team's accounts, the Connect buttons, and the pending message.
#[server(prefix = "/api", endpoint = "accounts")]
pub async fn list_accounts() -> Result<AccountsView, AppError> {
    use crier_domain::store::accounts;

    use super::connections::take_flash;
    use super::ssr::{current_member, state};
    let me = current_member().await?;
    let state = state()?;
    let now = chrono::Utc::now();
    let rows = accounts::list(&state.pool, me.team_id).await?;
    let pictures = crier_domain::store::account_pictures::urls(&state.pool, me.team_id).await?;
    let connect = Platform::ALL
        .into_iter()
        .map(|platform| ConnectOption {
            platform,
            label: platform.label().into(),
            available: state.accounts.clients().is_available(platform),
            sandbox: state.accounts.clients().is_sandboxed(platform),
        })
        .collect();
    Ok(AccountsView {
        accounts: rows.into_iter().map(|a| row(a, now, me.timezone, &pictures)).collect(),
        connect,
        can_manage: me.role.can_manage_members(),
        can_verify: me.role.can_edit(),
        flash: take_flash().await,
    })
}

#[cfg(feature = "ssr")]
use super::ssr::parse_id;

/// "Verify": asks the platform who the token belongs to and records the answer.
#[server(prefix = "/api", endpoint = "accounts/verify")]
pub async fn verify_account(account_id: String) -> Result<AccountRow, AppError> {
    use super::ssr::{current_member, state};
    let me = current_member().await?;
    me.require_editor().map_err(AppError::from)?;
    let id = parse_id(&account_id)?;
    let state = state()?;
    let account = state.accounts.verify(me.team_id, id).await?;
    let pictures = crier_domain::store::account_pictures::urls(&state.pool, me.team_id).await?;
    let row = row(account, chrono::Utc::now(), me.timezone, &pictures);
    super::connections::set_flash(true, format!("Verified {}: {}.", row.name, row.health.label().to_lowercase())).await;
    Ok(row)
}

/// "Disconnect": deletes the tokens (revoking them at the platform where it can), keeps history.
#[server(prefix = "/api", endpoint = "accounts/disconnect")]
pub async fn disconnect_account(account_id: String) -> Result<(), AppError> {
    use super::ssr::{current_member, state};
    let me = current_member().await?;
    me.require_manager().map_err(AppError::from)?;
    let id = parse_id(&account_id)?;
    let account = state()?.accounts.disconnect(me.team_id, crier_domain::store::audit::Actor::User(me.user_id), id).await?;
    super::connections::set_flash(
        true,
        format!("Disconnected {} account {}. Its history is kept.", account.platform.label(), account.name),
    )
    .await;
    Ok(())
}

/// One choice after LinkedIn or Facebook consent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChoiceOption {
    /// The platform's id of the profile, organization or Page.
    pub key: String,
    /// Its name.
    pub label: String,
    /// Profile, organization or Page.
    pub kind: AccountKind,
}

/// The chooser's content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChoiceView {
    /// Which platform.
    pub platform: Platform,
    /// What may be connected.
    pub options: Vec<ChoiceOption>,
}

/// What a LinkedIn or Facebook consent made available.
#[server(prefix = "/api", endpoint = "accounts/choices")]
pub async fn connection_choices(connection_id: String) -> Result<ChoiceView, AppError> {
    use super::ssr::{current_member, state};
    let me = current_member().await?;
    me.require_manager().map_err(AppError::from)?;
    let id = parse_id(&connection_id)?;
    let choices = state()?.accounts.choices(&me, id).await?;
    Ok(ChoiceView {
        platform: choices.platform,
        options: choices.options.into_iter().map(|o| ChoiceOption { key: o.key, label: o.name, kind: o.kind }).collect(),
    })
}

/// Connects the chosen profile, organizations or Pages, then returns to the Accounts page.
#[server(prefix = "/api", endpoint = "accounts/choose")]
pub async fn choose_accounts(connection_id: String, #[server(default)] chosen: Vec<String>) -> Result<(), AppError> {
    use super::ssr::{current_member, state};
    let me = current_member().await?;
    me.require_manager().map_err(AppError::from)?;
    let id = parse_id(&connection_id)?;
    let (platform, connected) = state()?.accounts.choose(&me, id, &chosen).await?;
    let names: Vec<_> = connected.into_iter().map(|a| a.name).collect();
    let accounts = if names.len() == 1 { "account" } else { "accounts" };
    super::connections::set_flash(true, format!("Connected {} {accounts}: {}.", platform.label(), names.join(", "))).await;
    leptos_axum::redirect("/accounts");
    Ok(())
}

/// Abandons a connection after consent: the held tokens are deleted.
#[server(prefix = "/api", endpoint = "accounts/choose-cancel")]
pub async fn cancel_choice(connection_id: String) -> Result<(), AppError> {
    use super::ssr::{current_member, state};
    let me = current_member().await?;
    let id = parse_id(&connection_id)?;
    state()?.accounts.cancel_choice(&me, id).await?;
    super::connections::set_flash(false, "Nothing was connected.").await;
    leptos_axum::redirect("/accounts");
    Ok(())
}

/// Connects an X account with OAuth 1.0a keys (developer portal → Keys and tokens).
#[server(prefix = "/api", endpoint = "accounts/x-keys")]
pub async fn add_x_keys(
    api_key: PasswordField,
    api_secret: PasswordField,
    access_token: PasswordField,
    access_token_secret: PasswordField,
) -> Result<AccountRow, AppError> {
    use super::ssr::{current_member, state};
    let me = current_member().await?;
    me.require_manager().map_err(AppError::from)?;
    let keys = crier_accounts::keys::XKeys::parse([api_key.0, api_secret.0, access_token.0, access_token_secret.0])?;
    let state = state()?;
    let account = state.accounts.connect_x_keys(me.team_id, Some(me.user_id), keys).await?;
    super::connections::set_flash(true, format!("Connected X account {} with its keys.", account.name)).await;
    let pictures = crier_domain::store::account_pictures::urls(&state.pool, me.team_id).await?;
    Ok(row(account, chrono::Utc::now(), me.timezone, &pictures))
}
