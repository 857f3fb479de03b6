//! Connecting accounts: the OAuth round trip, the LinkedIn/Facebook chooser, Verify, Disconnect
//! and X OAuth 1.0a keys. Server-side only; the server functions in `accounts` and the OAuth
//! endpoints in the server crate are thin adapters over these.
//!
//! The flow: "Connect X" → [`start`] records the connection (state hashed, PKCE verifier sealed)
//! and redirects to the platform → the platform redirects to `/oauth/{platform}/callback` →
//! [`callback`] consumes the state once, exchanges the code, asks who the token belongs to, and
//! either connects the account (X) or holds the sealed grant for the chooser (LinkedIn, Facebook).
//! Nothing is saved as an account until the platform has answered for it, so a cancel, an error
//! or an expired state leaves nothing half done.

use chrono::{DateTime, Utc};
use crier_clients::{XAuth, XClient, XUser};
use crier_domain::account::{AccountKind, Platform};
use crier_domain::store::accounts::{self, Account, CheckOutcome, Credentials, NewAccount};
use crier_domain::store::audit::{self, Actor};
use crier_domain::store::{Member, oauth_connections};
use crier_platforms::{ErrorClass, PlatformError};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use url::Url;
use uuid::Uuid;

use super::accounts::{ChoiceOption, ChoiceView, Flash, platform_label};
use super::ssr::session;
use crate::errors::AppError;
use crate::state::AppState;
use tower_sessions::Session;

const SESSION_FLASH_KEY: &str = "accounts_flash";

/// Leaves a one-time message for the next Accounts page view.
pub async fn set_flash(ok: bool, text: impl Into<String>) {
    if let Ok(session) = session().await {
        set_flash_on(&session, ok, text).await;
    }
}

/// Leaves a message on a session the caller already holds (the OAuth endpoints).
pub async fn set_flash_on(session: &Session, ok: bool, text: impl Into<String>) {
    let _ = session.insert(SESSION_FLASH_KEY, Flash { ok, text: text.into() }).await;
}

/// Takes the pending message, if any.
pub async fn take_flash() -> Option<Flash> {
    session().await.ok()?.remove::<Flash>(SESSION_FLASH_KEY).await.ok().flatten()
}

/// The redirect URI registered with each platform.
pub fn redirect_uri(state: &AppState, platform: Platform) -> Url {
    Url::parse(&format!("{}/oauth/{}/callback", state.public_base, platform.as_str())).expect("the public base is a URL")
}

/// Why a connect attempt stopped; each becomes a clear message on the Accounts page.
#[derive(Debug)]
pub enum ConnectProblem {
    /// The member may not connect accounts.
    Forbidden,
    /// No app is configured for the platform.
    Unavailable(Platform),
    /// The member pressed Cancel on the consent page.
    Cancelled(Platform),
    /// The platform answered the consent with an error.
    Refused(Platform, String),
    /// The state is unknown, used, expired or someone else's.
    Expired,
    /// A call to the platform failed.
    Platform(PlatformError),
    /// Everything else (logged).
    App(AppError),
}

impl From<AppError> for ConnectProblem {
    fn from(e: AppError) -> Self {
        ConnectProblem::App(e)
    }
}

impl From<crier_domain::DomainError> for ConnectProblem {
    fn from(e: crier_domain::DomainError) -> Self {
        match e {
            crier_domain::DomainError::ConnectionExpired => ConnectProblem::Expired,
            other => ConnectProblem::App(other.into()),
        }
    }
}

impl From<PlatformError> for ConnectProblem {
    fn from(e: PlatformError) -> Self {
        ConnectProblem::Platform(e)
    }
}

impl ConnectProblem {
    /// What the Accounts page says.
    pub fn message(&self) -> String {
        match self {
            ConnectProblem::Forbidden => "Only owners and admins connect accounts.".into(),
            ConnectProblem::Unavailable(p) => format!(
                "{} is not set up on this Crier: an administrator must set CRIER_{}_CLIENT_ID and CRIER_{}_CLIENT_SECRET.",
                platform_label(*p),
                env_name(*p),
                env_name(*p)
            ),
            ConnectProblem::Cancelled(p) => format!("You cancelled on {}'s consent page. Nothing was connected.", platform_label(*p)),
            ConnectProblem::Refused(p, why) => format!("{} did not grant access ({why}). Nothing was connected.", platform_label(*p)),
            ConnectProblem::Expired => {
                "That connection attempt is no longer valid (it expired after 10 minutes, was already used, or was started in another session). Nothing was connected; click Connect again.".into()
            }
            ConnectProblem::Platform(e) => {
                format!("{} answered with an error, so nothing was connected: {}. Try again in a moment.", platform_name(e), e.message)
            }
            ConnectProblem::App(e) => format!("{e} Nothing was connected."),
        }
    }
}

fn env_name(platform: Platform) -> &'static str {
    match platform {
        Platform::X => "X",
        Platform::Linkedin => "LINKEDIN",
        Platform::Facebook => "META",
    }
}

fn platform_name(e: &PlatformError) -> &'static str {
    match e.platform {
        crier_platforms::Platform::X => "X",
        crier_platforms::Platform::Linkedin => "LinkedIn",
        crier_platforms::Platform::Meta => "Facebook",
    }
}

/// Session key listing the connections this browser session started: a callback must come back
/// to the session that started it (not merely to the same person signed in elsewhere).
const SESSION_CONNECTIONS_KEY: &str = "oauth_connections";
/// A person rarely has more than one consent page open; older attempts simply expire.
const SESSION_CONNECTIONS_KEPT: usize = 5;

async fn session_connections(session: &Session) -> Vec<Uuid> {
    session.get::<Vec<Uuid>>(SESSION_CONNECTIONS_KEY).await.ok().flatten().unwrap_or_default()
}

/// "Connect …": records the attempt, binds it to this browser session, and returns where to send
/// the browser.
pub async fn start(state: &AppState, session: &Session, member: &Member, platform: Platform) -> Result<Url, ConnectProblem> {
    if !member.role.can_manage_members() {
        return Err(ConnectProblem::Forbidden);
    }
    let redirect = redirect_uri(state, platform);
    let begun = match platform {
        Platform::X => state.platforms.x.as_ref().map(|c| c.start_authorization(&redirect)),
        Platform::Linkedin => state.platforms.linkedin.as_ref().map(|c| c.start_authorization(&redirect)),
        Platform::Facebook => state.platforms.meta.as_ref().map(|c| c.start_authorization(&redirect)),
    }
    .ok_or(ConnectProblem::Unavailable(platform))?;
    let connection_id =
        oauth_connections::begin(&state.pool, &state.vault, member, platform, &begun.state, begun.pkce_verifier.as_ref()).await?;
    let mut mine = session_connections(session).await;
    mine.push(connection_id);
    let excess = mine.len().saturating_sub(SESSION_CONNECTIONS_KEPT);
    mine.drain(..excess);
    session.insert(SESSION_CONNECTIONS_KEY, mine).await.map_err(|e| ConnectProblem::App(internal(e)))?;
    Ok(begun.url)
}

/// What the platform put on the callback URL.
// No `Debug`: the authorization code is a credential until it is exchanged.
#[derive(Clone, Default, Deserialize)]
pub struct CallbackParams {
    /// The authorization code.
    pub code: Option<String>,
    /// Our state, echoed.
    pub state: Option<String>,
    /// An OAuth error (`access_denied` when the member cancelled).
    pub error: Option<String>,
    /// Its description.
    pub error_description: Option<String>,
    /// Facebook's reason for a cancel (`user_denied`).
    pub error_reason: Option<String>,
}

/// Where the callback sends the browser next.
pub enum CallbackNext {
    /// Back to the Accounts page with this message.
    Accounts(Flash),
    /// To the chooser for this connection.
    Choose(Uuid),
}

/// `/oauth/{platform}/callback`.
pub async fn callback(
    state: &AppState,
    session: &Session,
    member: &Member,
    platform: Platform,
    params: CallbackParams,
) -> Result<CallbackNext, ConnectProblem> {
    let Some(returned_state) = params.state.as_deref().filter(|s| !s.is_empty()) else {
        return Err(ConnectProblem::Expired);
    };
    // Consumed first, whatever the outcome: a cancelled or failed attempt cannot be replayed.
    let called_back = oauth_connections::consume_state(&state.pool, &state.vault, member, platform, returned_state).await?;
    let finish = |result| async move {
        // The attempt row only matters while choosing; otherwise it is done now.
        oauth_connections::finish(&state.pool, member, called_back.connection_id).await.ok();
        result
    };
    let mut mine = session_connections(session).await;
    let started_here = mine.contains(&called_back.connection_id);
    mine.retain(|id| *id != called_back.connection_id);
    let _ = session.insert(SESSION_CONNECTIONS_KEY, mine).await;
    if !started_here {
        // Started in another session (another browser, or a link someone was sent): burnt, refused.
        return finish(Err(ConnectProblem::Expired)).await;
    }
    if let Some(error) = params.error.as_deref() {
        // X and Facebook say `access_denied` (Facebook adds `error_reason=user_denied`); LinkedIn
        // says `user_cancelled_authorize` or, on its sign-in page, `user_cancelled_login`.
        let cancelled = matches!(error, "access_denied" | "user_cancelled_authorize" | "user_cancelled_login")
            || params.error_reason.as_deref() == Some("user_denied");
        let problem = if cancelled {
            ConnectProblem::Cancelled(platform)
        } else {
            ConnectProblem::Refused(platform, crier_platforms::redact(params.error_description.as_deref().unwrap_or(error)))
        };
        return finish(Err(problem)).await;
    }
    let Some(code) = params.code.as_deref().filter(|c| !c.is_empty()) else {
        return finish(Err(ConnectProblem::Refused(platform, "no authorization code was returned".into()))).await;
    };
    let redirect = redirect_uri(state, platform);
    let p = &state.platforms;
    match platform {
        Platform::X => {
            let client = p.x.as_ref().ok_or(ConnectProblem::Unavailable(platform))?;
            let result = async {
                let tokens = client.exchange_code(code, called_back.pkce_verifier.as_ref(), &redirect).await?;
                let user: XUser = client.who_am_i(&XAuth::Bearer(tokens.access_token.clone())).await?;
                let account = accounts::connect(
                    &state.pool,
                    &state.vault,
                    member.team_id,
                    Some(member.user_id),
                    NewAccount {
                        platform,
                        kind: AccountKind::Profile,
                        external_id: user.id.clone(),
                        name: user.name.clone(),
                        handle: Some(format!("@{}", user.username)),
                        authorized_by: user.id.clone(),
                        credentials: Credentials::OAuth2 { access_token: tokens.access_token, refresh_token: tokens.refresh_token },
                        token_expires_at: tokens.expires_at,
                        refresh_expires_at: tokens.refresh_expires_at,
                        scopes: tokens.scopes,
                    },
                )
                .await?;
                audit_account(&state.pool, member.team_id, Actor::User(member.user_id), "account_connected", &account).await;
                Ok::<_, ConnectProblem>(CallbackNext::Accounts(Flash { ok: true, text: format!("Connected X account {}.", account.name) }))
            }
            .await;
            finish(result).await
        }
        Platform::Linkedin => {
            let client = p.linkedin.as_ref().ok_or(ConnectProblem::Unavailable(platform))?;
            let result = async {
                let tokens = client.exchange_code(code, called_back.pkce_verifier.as_ref(), &redirect).await?;
                let me = client.who_am_i(&tokens.access_token).await?;
                // Organization access is optional: a member without admin rights, or an app without
                // the organization scopes, still connects their profile.
                let organizations = client.organizations(&tokens.access_token).await.unwrap_or_default();
                let mut options = vec![HeldOption {
                    key: format!("urn:li:person:{}", me.id),
                    kind: AccountKind::Profile,
                    name: me.name.clone(),
                    handle: None,
                    page_token: None,
                    page_token_expires_at: None,
                }];
                options.extend(organizations.into_iter().map(|org| HeldOption {
                    key: org.urn,
                    kind: AccountKind::Organization,
                    name: org.name,
                    handle: None,
                    page_token: None,
                    page_token_expires_at: None,
                }));
                hold(state, member, called_back.connection_id, platform, me.id, tokens, options).await
            }
            .await;
            if result.is_err() {
                return finish(result).await;
            }
            result
        }
        Platform::Facebook => {
            let client = p.meta.as_ref().ok_or(ConnectProblem::Unavailable(platform))?;
            let result = async {
                let tokens = client.exchange_code(code, called_back.pkce_verifier.as_ref(), &redirect).await?;
                let me = client.who_am_i(&tokens.access_token).await?;
                let pages = client.pages(&tokens.access_token).await?;
                if pages.is_empty() {
                    return Err(ConnectProblem::Refused(
                        platform,
                        "this Facebook user manages no Pages, or did not share any with Crier".into(),
                    ));
                }
                let options = pages
                    .into_iter()
                    .map(|page| HeldOption {
                        key: page.id,
                        kind: AccountKind::Page,
                        name: page.name,
                        handle: None,
                        page_token: Some(page.access_token.expose_secret().to_owned()),
                        page_token_expires_at: page.token_expires_at,
                    })
                    .collect();
                hold(state, member, called_back.connection_id, platform, me.id, tokens, options).await
            }
            .await;
            if result.is_err() {
                return finish(result).await;
            }
            result
        }
    }
}

/// The grant while the member chooses: sealed as one JSON value in the connection row.
#[derive(Serialize, Deserialize)]
struct HeldGrant {
    platform: Platform,
    authorized_by: String,
    access_token: String,
    refresh_token: Option<String>,
    token_expires_at: Option<DateTime<Utc>>,
    refresh_expires_at: Option<DateTime<Utc>>,
    scopes: Vec<String>,
    options: Vec<HeldOption>,
}

#[derive(Serialize, Deserialize)]
struct HeldOption {
    key: String,
    kind: AccountKind,
    name: String,
    handle: Option<String>,
    /// Facebook: the Page's own token.
    page_token: Option<String>,
    page_token_expires_at: Option<DateTime<Utc>>,
}

async fn hold(
    state: &AppState,
    member: &Member,
    connection_id: Uuid,
    platform: Platform,
    authorized_by: String,
    tokens: crier_clients::TokenSet,
    options: Vec<HeldOption>,
) -> Result<CallbackNext, ConnectProblem> {
    let grant = HeldGrant {
        platform,
        authorized_by,
        access_token: tokens.access_token.expose_secret().to_owned(),
        refresh_token: tokens.refresh_token.as_ref().map(|t| t.expose_secret().to_owned()),
        token_expires_at: tokens.expires_at,
        refresh_expires_at: tokens.refresh_expires_at,
        scopes: tokens.scopes,
        options,
    };
    let json = SecretString::from(serde_json::to_string(&grant).map_err(|e| ConnectProblem::App(internal(e)))?);
    oauth_connections::hold_grant(&state.pool, &state.vault, member, connection_id, &json).await?;
    Ok(CallbackNext::Choose(connection_id))
}

fn internal(e: impl std::fmt::Display) -> AppError {
    tracing::error!(error = %e, "connecting an account failed");
    AppError::Internal
}

async fn held(state: &AppState, member: &Member, connection_id: Uuid) -> Result<HeldGrant, AppError> {
    let (_, json) = oauth_connections::grant(&state.pool, &state.vault, member, connection_id).await?;
    serde_json::from_str(json.expose_secret()).map_err(internal)
}

/// The chooser's options (no tokens).
pub async fn choices(state: &AppState, member: &Member, connection_id: Uuid) -> Result<ChoiceView, AppError> {
    let grant = held(state, member, connection_id).await?;
    Ok(ChoiceView {
        platform: grant.platform,
        options: grant.options.iter().map(|o| ChoiceOption { key: o.key.clone(), label: o.name.clone(), kind: o.kind }).collect(),
    })
}

/// Connects the chosen options and ends the connection.
pub async fn finish_choice(state: &AppState, member: &Member, connection_id: Uuid, chosen: &[String]) -> Result<(), AppError> {
    let grant = held(state, member, connection_id).await?;
    let mut names = Vec::new();
    for option in grant.options.iter().filter(|o| chosen.contains(&o.key)) {
        let (credentials, token_expires_at, refresh_expires_at) = match &option.page_token {
            Some(page_token) => (
                Credentials::OAuth2 { access_token: SecretString::from(page_token.clone()), refresh_token: None },
                option.page_token_expires_at,
                None,
            ),
            None => (
                Credentials::OAuth2 {
                    access_token: SecretString::from(grant.access_token.clone()),
                    refresh_token: grant.refresh_token.clone().map(SecretString::from),
                },
                grant.token_expires_at,
                grant.refresh_expires_at,
            ),
        };
        let account = accounts::connect(
            &state.pool,
            &state.vault,
            member.team_id,
            Some(member.user_id),
            NewAccount {
                platform: grant.platform,
                kind: option.kind,
                external_id: option.key.clone(),
                name: option.name.clone(),
                handle: option.handle.clone(),
                authorized_by: grant.authorized_by.clone(),
                credentials,
                token_expires_at,
                refresh_expires_at,
                scopes: grant.scopes.clone(),
            },
        )
        .await?;
        audit_account(&state.pool, member.team_id, Actor::User(member.user_id), "account_connected", &account).await;
        names.push(account.name);
    }
    if names.is_empty() {
        return Err(AppError::Fields(vec![crier_domain::FieldError::new(
            "chosen",
            "None of the chosen accounts is on offer any more; start again.",
        )]));
    }
    oauth_connections::finish(&state.pool, member, connection_id).await?;
    set_flash(
        true,
        format!(
            "Connected {} {}: {}.",
            platform_label(grant.platform),
            if names.len() == 1 { "account" } else { "accounts" },
            names.join(", ")
        ),
    )
    .await;
    Ok(())
}

/// Abandons a connection after consent.
pub async fn cancel_choice(state: &AppState, member: &Member, connection_id: Uuid) -> Result<(), AppError> {
    oauth_connections::finish(&state.pool, member, connection_id).await?;
    set_flash(false, "Nothing was connected.").await;
    Ok(())
}

/// "Verify": who-am-I with the stored token (refreshing first when it has expired and Crier holds
/// a refresh token), then records the status.
pub async fn verify(state: &AppState, team_id: Uuid, account_id: Uuid) -> Result<Account, AppError> {
    let (account, credentials) = accounts::credentials(&state.pool, &state.vault, team_id, account_id).await?;
    let p = &state.platforms;
    let credentials = refresh_if_expired(state, team_id, &account, credentials).await;
    let checked: Result<String, PlatformError> = match (&credentials, account.platform, account.kind) {
        (Ok(Credentials::OAuth1 { consumer_key, consumer_secret, access_token, access_token_secret }), Platform::X, _) => p
            .x_keys
            .who_am_i(&XAuth::OAuth1(oauth1_credentials(consumer_key, consumer_secret, access_token, access_token_secret)))
            .await
            .map(|u| u.name),
        (Ok(Credentials::OAuth2 { access_token, .. }), Platform::X, _) => {
            p.x.as_ref().ok_or(unavailable(account.platform))?.who_am_i(&XAuth::Bearer(access_token.clone())).await.map(|u| u.name)
        }
        (Ok(Credentials::OAuth2 { access_token, .. }), Platform::Linkedin, AccountKind::Organization) => {
            let client = p.linkedin.as_ref().ok_or(unavailable(account.platform))?;
            match client.organizations(access_token).await {
                Ok(orgs) => match orgs.into_iter().find(|o| o.urn == account.external_id) {
                    Some(org) => Ok(org.name),
                    None => Err(PlatformError::new(
                        crier_platforms::Platform::Linkedin,
                        ErrorClass::NeedsReauth,
                        None,
                        None,
                        "the member no longer administers this organization",
                    )),
                },
                Err(e) => Err(e),
            }
        }
        (Ok(Credentials::OAuth2 { access_token, .. }), Platform::Linkedin, _) => {
            p.linkedin.as_ref().ok_or(unavailable(account.platform))?.who_am_i(access_token).await.map(|m| m.name)
        }
        (Ok(Credentials::OAuth2 { access_token, .. }), Platform::Facebook, _) => {
            p.meta.as_ref().ok_or(unavailable(account.platform))?.page(&account.external_id, access_token).await.map(|page| page.name)
        }
        (Ok(Credentials::OAuth1 { .. }), _, _) => return Err(AppError::Internal),
        (Err(e), _, _) => Err(e.clone()),
    };
    let outcome = match checked {
        Ok(name) => CheckOutcome::Healthy { name },
        Err(e) if e.class == ErrorClass::NeedsReauth => CheckOutcome::NeedsReauth(e.message.clone()),
        Err(e) => {
            // A temporary failure or a rate limit says nothing about the token: keep the status.
            return Err(AppError::Refused(format!(
                "{} could not be reached to verify this account ({}). Try again in a moment.",
                platform_label(account.platform),
                e.message
            )));
        }
    };
    let checked = accounts::record_check(&state.pool, team_id, account_id, &outcome).await?;
    if let CheckOutcome::NeedsReauth(_) = outcome {
        audit_account(&state.pool, team_id, Actor::System, "account_needs_reauth", &checked).await;
    }
    Ok(checked)
}

/// Records an account event: the account's id, platform and kind (never a token).
async fn audit_account(pool: &sqlx::PgPool, team_id: Uuid, actor: Actor, action: &str, account: &Account) {
    let metadata = serde_json::json!({ "platform": account.platform, "kind": account.kind, "external_id": account.external_id });
    audit::record_after(pool, team_id, actor, action, "account", Some(&account.account_id.to_string()), metadata).await;
}

fn unavailable(platform: Platform) -> AppError {
    AppError::Refused(format!("{} is not set up on this Crier any more.", platform_label(platform)))
}

/// X access tokens live two hours: a Verify after that refreshes first, through the publishing
/// engine's single-flight refresh, so a Verify and a worker never both spend X's rotating refresh
/// token (the loser would find it dead and the account wrongly "needs re-auth").
async fn refresh_if_expired(
    state: &AppState,
    team_id: Uuid,
    account: &Account,
    credentials: Credentials,
) -> Result<Credentials, PlatformError> {
    use crier_publisher::refresh::{RefreshError, Refresher, needs_refresh};
    let margin = chrono::TimeDelta::seconds(60);
    if !needs_refresh(account.can_refresh, account.token_expires_at, margin, Utc::now()) {
        return Ok(credentials);
    }
    let clients = state.platforms.publisher_clients();
    match Refresher::default().fresh_credentials(&state.pool, &state.vault, &clients, team_id, account.account_id, margin).await {
        Ok((_, fresh)) => Ok(fresh),
        Err(RefreshError::Platform(e)) => Err(e),
        Err(RefreshError::Store(e)) => {
            tracing::error!(error = %e, account_id = %account.account_id, "refreshing before Verify failed in the store");
            Ok(credentials)
        }
    }
}

/// "Disconnect" (the page and the REST API): deletes the tokens first (what the team asked for),
/// then revokes them at the platform where it can; a failed revoke is logged, not shown as a
/// failure. Answers the account as it was.
pub async fn disconnect(state: &AppState, team_id: Uuid, actor: Actor, account_id: Uuid) -> Result<Account, AppError> {
    let (account, credentials) = accounts::disconnect(&state.pool, &state.vault, team_id, account_id).await?;
    audit_account(&state.pool, team_id, actor, "account_disconnected", &account).await;
    let p = &state.platforms;
    let revoked = match (credentials, account.platform) {
        (Some(Credentials::OAuth2 { access_token, refresh_token }), Platform::X) => match &p.x {
            Some(c) => {
                // Revoking the refresh token ends the whole grant; the access token too, for good measure.
                let first = match &refresh_token {
                    Some(t) => c.revoke_refresh_token(t).await.map(drop),
                    None => Ok(()),
                };
                first.and(c.revoke(&access_token).await.map(drop))
            }
            None => Ok(()),
        },
        (Some(Credentials::OAuth2 { access_token, .. }), Platform::Linkedin) => match &p.linkedin {
            Some(c) => c.revoke(&access_token).await.map(drop),
            None => Ok(()),
        },
        (Some(Credentials::OAuth2 { access_token, .. }), Platform::Facebook) => match &p.meta {
            Some(c) => c.revoke(&access_token).await.map(drop),
            None => Ok(()),
        },
        // OAuth 1.0a keys are revoked in the X developer portal; a key that no longer opens
        // cannot be revoked at all.
        _ => Ok(()),
    };
    if let Err(e) = revoked {
        tracing::warn!(error = %e, account_id = %account.account_id, "revoking at the platform failed; the tokens are deleted anyway");
    }
    Ok(account)
}

/// X OAuth 1.0a keys: checked with who-am-I before anything is stored.
pub async fn connect_x_keys(state: &AppState, member: &Member, keys: [String; 4]) -> Result<Account, AppError> {
    let names = ["api_key", "api_secret", "access_token", "access_token_secret"];
    let errors: Vec<_> = keys
        .iter()
        .zip(names)
        .filter(|(value, _)| value.trim().is_empty())
        .map(|(_, field)| crier_domain::FieldError::new(field, "Paste this value from the X developer portal (Keys and tokens)."))
        .collect();
    if !errors.is_empty() {
        return Err(AppError::Fields(errors));
    }
    let [consumer_key, consumer_secret, access_token, access_token_secret] = keys.map(|k| SecretString::from(k.trim().to_owned()));
    let keys = XKeys { consumer_key, consumer_secret, access_token, access_token_secret };
    connect_x_oauth1(&state.platforms.x_keys, &state.pool, &state.vault, member.team_id, Some(member.user_id), keys).await
}

/// X OAuth 1.0a user-context keys as pasted or imported.
pub struct XKeys {
    /// API key (consumer key).
    pub consumer_key: SecretString,
    /// API key secret.
    pub consumer_secret: SecretString,
    /// Access token.
    pub access_token: SecretString,
    /// Access token secret.
    pub access_token_secret: SecretString,
}

/// Verifies OAuth 1.0a keys with X and stores them (the Accounts page, `crier admin import-env`).
pub async fn connect_x_oauth1(
    client: &XClient,
    pool: &sqlx::PgPool,
    vault: &crier_vault::Vault,
    team_id: Uuid,
    connected_by: Option<Uuid>,
    keys: XKeys,
) -> Result<Account, AppError> {
    let XKeys { consumer_key, consumer_secret, access_token, access_token_secret } = keys;
    let signing = oauth1_credentials(&consumer_key, &consumer_secret, &access_token, &access_token_secret);
    let user = client.who_am_i(&XAuth::OAuth1(signing)).await.map_err(|e| match e.class {
        ErrorClass::NeedsReauth | ErrorClass::Permanent => {
            AppError::Refused(format!("X refused these keys: {}. Check all four values.", e.message))
        }
        _ => AppError::Refused(format!("X could not be reached to check these keys ({}). Try again in a moment.", e.message)),
    })?;
    let account = accounts::connect(
        pool,
        vault,
        team_id,
        connected_by,
        NewAccount {
            platform: Platform::X,
            kind: AccountKind::Profile,
            external_id: user.id.clone(),
            name: user.name,
            handle: Some(format!("@{}", user.username)),
            authorized_by: user.id,
            credentials: Credentials::OAuth1 { consumer_key, consumer_secret, access_token, access_token_secret },
            token_expires_at: None,
            refresh_expires_at: None,
            scopes: Vec::new(),
        },
    )
    .await?;
    let actor = connected_by.map(Actor::User).unwrap_or(Actor::System);
    audit_account(pool, team_id, actor, "account_connected", &account).await;
    Ok(account)
}

/// The client's form of stored OAuth 1.0a keys.
fn oauth1_credentials(
    consumer_key: &SecretString,
    consumer_secret: &SecretString,
    access_token: &SecretString,
    access_token_secret: &SecretString,
) -> crier_clients::OAuth1Credentials {
    crier_clients::OAuth1Credentials {
        consumer_key: consumer_key.expose_secret().to_owned(),
        consumer_secret: consumer_secret.clone(),
        token: access_token.expose_secret().to_owned(),
        token_secret: access_token_secret.clone(),
    }
}
