//! Connected social accounts and their sealed credentials.
//!
//! Every function takes the team and filters by it in SQL: another team's account id answers
//! [`DomainError::NotFound`], exactly like an id that never existed. Credentials are sealed by the
//! [`Vault`] before they reach a query and opened only by [`credentials`]; the associated data
//! binds them to the account's identity (team, platform, external id), which is stable across
//! reconnects, so a sealed value moved to another row fails to open.

use chrono::{DateTime, Utc};
use crier_vault::Vault;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

use crate::account::{AccountHealth, AccountKind, AccountStatus, AuthMethod, reauth_by};
use crate::{DomainError, FieldError};
use crier_platform::Platform;

/// An account as listed (never its credentials).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    /// Crier's id for it.
    pub account_id: Uuid,
    /// Which platform.
    pub platform: Platform,
    /// Profile, organization or Page.
    pub kind: AccountKind,
    /// The platform's id (X user id, LinkedIn URN, Page id).
    pub external_id: String,
    /// Display name.
    pub name: String,
    /// `@username` on X.
    pub handle: Option<String>,
    /// The platform user who granted access.
    pub authorized_by: String,
    /// OAuth 2.0 or X OAuth 1.0a.
    pub auth_method: AuthMethod,
    /// Stored status.
    pub status: AccountStatus,
    /// The platform's last word on a failed check.
    pub status_detail: Option<String>,
    /// When the access token stops working, if it does.
    pub token_expires_at: Option<DateTime<Utc>>,
    /// Whether Crier holds a refresh token.
    pub can_refresh: bool,
    /// When the refresh token stops working, if known.
    pub refresh_expires_at: Option<DateTime<Utc>>,
    /// When it was (re)connected.
    pub connected_at: DateTime<Utc>,
    /// When Crier last published with it.
    pub last_used_at: Option<DateTime<Utc>>,
    /// When "Verify" last succeeded.
    pub last_verified_at: Option<DateTime<Utc>>,
}

impl Account {
    /// The moment the team must reconnect by, if any.
    pub fn reauth_by(&self) -> Option<DateTime<Utc>> {
        reauth_by(self.can_refresh, self.token_expires_at, self.refresh_expires_at)
    }

    /// The health shown on the Accounts page.
    pub fn health(&self, now: DateTime<Utc>) -> AccountHealth {
        AccountHealth::at(self.status, self.reauth_by(), now)
    }
}

/// What Crier presents to the platform. Secrets stay in [`SecretString`]s (`Debug` shows none).
#[derive(Debug)]
pub enum Credentials {
    /// OAuth 2.0 bearer token, and a refresh token where the platform issued one.
    OAuth2 {
        /// The bearer token.
        access_token: SecretString,
        /// The refresh token, if any.
        refresh_token: Option<SecretString>,
    },
    /// X OAuth 1.0a user context: the app's API key and secret and the user's access token and secret.
    OAuth1 {
        /// API key (consumer key).
        consumer_key: SecretString,
        /// API key secret (consumer secret).
        consumer_secret: SecretString,
        /// Access token.
        access_token: SecretString,
        /// Access token secret.
        access_token_secret: SecretString,
    },
}

/// The sealed form: JSON inside the vault. Built from and into [`Credentials`] only here, and
/// wiped on drop.
#[derive(Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
enum SealedCredentials {
    Oauth2 { access_token: String, refresh_token: Option<String> },
    Oauth1 { consumer_key: String, consumer_secret: String, access_token: String, access_token_secret: String },
}

impl Drop for SealedCredentials {
    fn drop(&mut self) {
        use secrecy::zeroize::Zeroize;
        match self {
            SealedCredentials::Oauth2 { access_token, refresh_token } => {
                access_token.zeroize();
                refresh_token.zeroize();
            }
            SealedCredentials::Oauth1 { consumer_key, consumer_secret, access_token, access_token_secret } => {
                consumer_key.zeroize();
                consumer_secret.zeroize();
                access_token.zeroize();
                access_token_secret.zeroize();
            }
        }
    }
}

impl Credentials {
    /// Which method these are.
    pub fn method(&self) -> AuthMethod {
        match self {
            Credentials::OAuth2 { .. } => AuthMethod::Oauth2,
            Credentials::OAuth1 { .. } => AuthMethod::Oauth1,
        }
    }

    fn seal(&self, vault: &Vault, aad: &[u8]) -> Vec<u8> {
        let s = |secret: &SecretString| secret.expose_secret().to_owned();
        let sealed = match self {
            Credentials::OAuth2 { access_token, refresh_token } => {
                SealedCredentials::Oauth2 { access_token: s(access_token), refresh_token: refresh_token.as_ref().map(s) }
            }
            Credentials::OAuth1 { consumer_key, consumer_secret, access_token, access_token_secret } => SealedCredentials::Oauth1 {
                consumer_key: s(consumer_key),
                consumer_secret: s(consumer_secret),
                access_token: s(access_token),
                access_token_secret: s(access_token_secret),
            },
        };
        let json = SecretString::from(serde_json::to_string(&sealed).expect("credentials serialise"));
        vault.seal(&json, aad)
    }

    fn open(vault: &Vault, sealed: &[u8], aad: &[u8]) -> Result<Credentials, DomainError> {
        let json = vault.open(sealed, aad).map_err(|e| DomainError::SecretUnreadable(e.to_string()))?;
        let parsed: SealedCredentials = serde_json::from_str(json.expose_secret())
            .map_err(|_| DomainError::SecretUnreadable("sealed credentials are not in the expected form".into()))?;
        let s = |value: &String| SecretString::from(value.clone());
        Ok(match &parsed {
            SealedCredentials::Oauth2 { access_token, refresh_token } => {
                Credentials::OAuth2 { access_token: s(access_token), refresh_token: refresh_token.as_ref().map(s) }
            }
            SealedCredentials::Oauth1 { consumer_key, consumer_secret, access_token, access_token_secret } => Credentials::OAuth1 {
                consumer_key: s(consumer_key),
                consumer_secret: s(consumer_secret),
                access_token: s(access_token),
                access_token_secret: s(access_token_secret),
            },
        })
    }
}

/// The associated data that binds sealed credentials to one account.
fn credentials_aad(team_id: Uuid, platform: Platform, external_id: &str) -> Vec<u8> {
    format!("platform_account:{team_id}:{platform}:{external_id}:credentials").into_bytes()
}

/// An account being connected (or reconnected: same team, platform and external id).
#[derive(Debug)]
pub struct NewAccount {
    /// Which platform.
    pub platform: Platform,
    /// Profile, organization or Page.
    pub kind: AccountKind,
    /// The platform's id.
    pub external_id: String,
    /// Display name.
    pub name: String,
    /// `@username` on X.
    pub handle: Option<String>,
    /// The platform user who granted access.
    pub authorized_by: String,
    /// What to present.
    pub credentials: Credentials,
    /// When the access token stops working.
    pub token_expires_at: Option<DateTime<Utc>>,
    /// When the refresh token stops working, if known.
    pub refresh_expires_at: Option<DateTime<Utc>>,
    /// Granted scopes.
    pub scopes: Vec<String>,
}

/// The columns every read selects, in [`Account`]'s order.
macro_rules! account_from_row {
    ($row:expr) => {{
        let r = $row;
        Account {
            account_id: r.account_id,
            platform: r.platform,
            kind: r.kind,
            external_id: r.external_id,
            name: r.name,
            handle: r.handle,
            authorized_by: r.authorized_by,
            auth_method: r.auth_method,
            status: r.status,
            status_detail: r.status_detail,
            token_expires_at: r.token_expires_at,
            can_refresh: r.can_refresh,
            refresh_expires_at: r.refresh_expires_at,
            connected_at: r.connected_at,
            last_used_at: r.last_used_at,
            last_verified_at: r.last_verified_at,
        }
    }};
}

/// The team's accounts (not the disconnected ones), by platform and name.
pub async fn list(pool: &PgPool, team_id: Uuid) -> Result<Vec<Account>, DomainError> {
    let rows = sqlx::query!(
        r#"select account_id, platform as "platform: Platform", kind as "kind: AccountKind", external_id, name, handle,
                  authorized_by, auth_method as "auth_method: AuthMethod", status as "status: AccountStatus", status_detail,
                  token_expires_at, can_refresh, refresh_expires_at, connected_at, last_used_at, last_verified_at
           from platform_account
           where team_id = $1 and status <> 'disconnected'
           order by platform, lower(name), account_id"#,
        team_id
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| account_from_row!(r)).collect())
}

/// One of the team's accounts (disconnected ones answer `NotFound`).
pub async fn get(pool: &PgPool, team_id: Uuid, account_id: Uuid) -> Result<Account, DomainError> {
    let row = sqlx::query!(
        r#"select account_id, platform as "platform: Platform", kind as "kind: AccountKind", external_id, name, handle,
                  authorized_by, auth_method as "auth_method: AuthMethod", status as "status: AccountStatus", status_detail,
                  token_expires_at, can_refresh, refresh_expires_at, connected_at, last_used_at, last_verified_at
           from platform_account
           where team_id = $1 and account_id = $2 and status <> 'disconnected'"#,
        team_id,
        account_id
    )
    .fetch_optional(pool)
    .await?
    .ok_or(DomainError::NotFound)?;
    Ok(account_from_row!(row))
}

/// Connects an account, or reconnects it: a second connect of the same platform account updates
/// its tokens and name, clears any failure status, and keeps its id and history.
pub async fn connect(
    pool: &PgPool,
    vault: &Vault,
    team_id: Uuid,
    connected_by: Option<Uuid>,
    new: NewAccount,
) -> Result<Account, DomainError> {
    let name = new.name.trim();
    if name.is_empty() {
        return Err(FieldError::new("name", "The platform returned no name for this account.").into());
    }
    let name: String = name.chars().take(200).collect();
    if new.credentials.method() == AuthMethod::Oauth1 && new.platform != Platform::X {
        return Err(FieldError::new("platform", "OAuth 1.0a keys are for X accounts only.").into());
    }
    let sealed = new.credentials.seal(vault, &credentials_aad(team_id, new.platform, &new.external_id));
    let can_refresh = matches!(&new.credentials, Credentials::OAuth2 { refresh_token: Some(_), .. });
    let mut tx = pool.begin().await?;
    let row = sqlx::query!(
        r#"insert into platform_account
               (team_id, platform, kind, external_id, name, handle, authorized_by, auth_method, credentials,
                token_expires_at, can_refresh, refresh_expires_at, scopes, connected_by)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
           on conflict (team_id, platform, external_id) do update set
               kind = excluded.kind, name = excluded.name, handle = excluded.handle,
               authorized_by = excluded.authorized_by, auth_method = excluded.auth_method,
               credentials = excluded.credentials, token_expires_at = excluded.token_expires_at,
               can_refresh = excluded.can_refresh, refresh_expires_at = excluded.refresh_expires_at,
               scopes = excluded.scopes, connected_by = excluded.connected_by, connected_at = now(),
               status = 'connected', status_detail = null, disconnected_at = null
           returning account_id, platform as "platform: Platform", kind as "kind: AccountKind", external_id, name, handle,
                     authorized_by, auth_method as "auth_method: AuthMethod", status as "status: AccountStatus", status_detail,
                     token_expires_at, can_refresh, refresh_expires_at, connected_at, last_used_at, last_verified_at"#,
        team_id,
        new.platform as Platform,
        new.kind as AccountKind,
        new.external_id,
        name,
        new.handle,
        new.authorized_by,
        new.credentials.method() as AuthMethod,
        sealed,
        new.token_expires_at,
        can_refresh,
        new.refresh_expires_at,
        &new.scopes,
        connected_by,
    )
    .fetch_one(&mut *tx)
    .await?;
    // A reconnected account's held deliveries go out again, in the same transaction.
    super::deliveries::resume_account(&mut tx, team_id, row.account_id).await?;
    tx.commit().await?;
    Ok(account_from_row!(row))
}

/// Opens credentials sealed for the account (`team_id`, `platform`, `external_id`): for the
/// publishing engine, which reads the sealed value with its claim.
pub fn open_credentials(
    vault: &Vault,
    team_id: Uuid,
    platform: Platform,
    external_id: &str,
    sealed: &[u8],
) -> Result<Credentials, DomainError> {
    Credentials::open(vault, sealed, &credentials_aad(team_id, platform, external_id))
}

/// An account with its opened credentials, for a call to its platform.
pub async fn credentials(pool: &PgPool, vault: &Vault, team_id: Uuid, account_id: Uuid) -> Result<(Account, Credentials), DomainError> {
    let row = sqlx::query!(
        r#"select account_id, platform as "platform: Platform", kind as "kind: AccountKind", external_id, name, handle,
                  authorized_by, auth_method as "auth_method: AuthMethod", status as "status: AccountStatus", status_detail,
                  token_expires_at, can_refresh, refresh_expires_at, connected_at, last_used_at, last_verified_at,
                  credentials as "credentials!"
           from platform_account
           where team_id = $1 and account_id = $2 and status <> 'disconnected'"#,
        team_id,
        account_id
    )
    .fetch_optional(pool)
    .await?
    .ok_or(DomainError::NotFound)?;
    let credentials = Credentials::open(vault, &row.credentials, &credentials_aad(team_id, row.platform, &row.external_id))?;
    Ok((account_from_row!(row), credentials))
}

/// Replaces an account's tokens after a refresh (X rotates its refresh token on every use, so the
/// new one must be stored before anything else happens).
pub async fn replace_tokens(
    pool: &PgPool,
    vault: &Vault,
    account: &Account,
    team_id: Uuid,
    credentials: &Credentials,
    token_expires_at: Option<DateTime<Utc>>,
    refresh_expires_at: Option<DateTime<Utc>>,
) -> Result<(), DomainError> {
    let sealed = credentials.seal(vault, &credentials_aad(team_id, account.platform, &account.external_id));
    let can_refresh = matches!(credentials, Credentials::OAuth2 { refresh_token: Some(_), .. });
    let updated = sqlx::query!(
        r#"update platform_account
           set credentials = $3, token_expires_at = $4, refresh_expires_at = coalesce($5, refresh_expires_at), can_refresh = $6
           where team_id = $1 and account_id = $2 and status <> 'disconnected'"#,
        team_id,
        account.account_id,
        sealed,
        token_expires_at,
        refresh_expires_at,
        can_refresh,
    )
    .execute(pool)
    .await?;
    if updated.rows_affected() == 0 { Err(DomainError::NotFound) } else { Ok(()) }
}

/// What a connection check found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckOutcome {
    /// The platform accepted the token; the name it reported (accounts get renamed).
    Healthy {
        /// The current display name.
        name: String,
    },
    /// The token is refused; someone must reconnect. The platform's (redacted) words.
    NeedsReauth(String),
    /// The account is gone at the platform.
    Revoked(String),
}

/// Records a connection check ("Verify", or a publish that met a refused token).
pub async fn record_check(pool: &PgPool, team_id: Uuid, account_id: Uuid, outcome: &CheckOutcome) -> Result<Account, DomainError> {
    let (status, detail, name) = match outcome {
        CheckOutcome::Healthy { name } => (AccountStatus::Connected, None, Some(name.trim()).filter(|n| !n.is_empty())),
        CheckOutcome::NeedsReauth(detail) => (AccountStatus::NeedsReauth, Some(detail.as_str()), None),
        CheckOutcome::Revoked(detail) => (AccountStatus::Revoked, Some(detail.as_str()), None),
    };
    let row = sqlx::query!(
        r#"update platform_account
           set status = $3, status_detail = $4, name = coalesce(left($5, 200), name),
               last_verified_at = case when $3 = 'connected'::account_status then now() else last_verified_at end
           where team_id = $1 and account_id = $2 and status <> 'disconnected'
           returning account_id, platform as "platform: Platform", kind as "kind: AccountKind", external_id, name, handle,
                     authorized_by, auth_method as "auth_method: AuthMethod", status as "status: AccountStatus", status_detail,
                     token_expires_at, can_refresh, refresh_expires_at, connected_at, last_used_at, last_verified_at"#,
        team_id,
        account_id,
        status as AccountStatus,
        detail,
        name,
    )
    .fetch_optional(pool)
    .await?
    .ok_or(DomainError::NotFound)?;
    Ok(account_from_row!(row))
}

/// Disconnects an account: its credentials are deleted (returned once, so the caller can revoke
/// them at the platform), its row and history stay.
pub async fn disconnect(
    pool: &PgPool,
    vault: &Vault,
    team_id: Uuid,
    account_id: Uuid,
) -> Result<(Account, Option<Credentials>), DomainError> {
    let mut tx = pool.begin().await?;
    let row = sqlx::query!(
        r#"select account_id, platform as "platform: Platform", kind as "kind: AccountKind", external_id, name, handle,
                  authorized_by, auth_method as "auth_method: AuthMethod", status as "status: AccountStatus", status_detail,
                  token_expires_at, can_refresh, refresh_expires_at, connected_at, last_used_at, last_verified_at,
                  credentials as "credentials!"
           from platform_account
           where team_id = $1 and account_id = $2 and status <> 'disconnected'
           for update"#,
        team_id,
        account_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(DomainError::NotFound)?;
    sqlx::query!(
        r#"update platform_account set credentials = null, status = 'disconnected', disconnected_at = now(), status_detail = null
           where team_id = $1 and account_id = $2"#,
        team_id,
        account_id
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    // A token that cannot be opened (key lost) cannot be revoked either; the disconnect still
    // stands, because deleting it is what the team asked for.
    let credentials = Credentials::open(vault, &row.credentials, &credentials_aad(team_id, row.platform, &row.external_id)).ok();
    Ok((account_from_row!(row), credentials))
}

/// What a key rotation did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ResealReport {
    /// Values re-encrypted under the current key.
    pub resealed: u64,
    /// Values already under the current key.
    pub current: u64,
    /// Values no configured key opens (left as they are; those accounts need reconnecting).
    pub unreadable: u64,
}

/// Re-encrypts every account's credentials under the vault's current key (`crier admin rotate-key`),
/// and drops OAuth connections in progress (they live 10 minutes; restarting one is cheaper than
/// carrying their keys). Each row is re-sealed in its own short update, checked against the value
/// read, so a concurrent reconnect is never overwritten with stale tokens.
pub async fn reseal_all(pool: &PgPool, vault: &Vault) -> Result<ResealReport, DomainError> {
    let rows = sqlx::query!(
        r#"select team_id, account_id, platform as "platform: Platform", external_id, credentials as "credentials!"
           from platform_account where credentials is not null"#
    )
    .fetch_all(pool)
    .await?;
    let mut report = ResealReport::default();
    for row in rows {
        if !vault.needs_reseal(&row.credentials) {
            report.current += 1;
            continue;
        }
        match vault.reseal(&row.credentials, &credentials_aad(row.team_id, row.platform, &row.external_id)) {
            Ok(resealed) => {
                sqlx::query!(
                    "update platform_account set credentials = $3 where account_id = $1 and credentials = $2",
                    row.account_id,
                    row.credentials,
                    resealed
                )
                .execute(pool)
                .await?;
                report.resealed += 1;
            }
            Err(_) => report.unreadable += 1,
        }
    }
    sqlx::query!("delete from oauth_connection").execute(pool).await?;
    Ok(report)
}
