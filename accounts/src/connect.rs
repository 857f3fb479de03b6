//! Connecting accounts by OAuth: start, callback, and the LinkedIn/Facebook chooser.
//!
//! "Connect X" → [`Accounts::start`] records the attempt (its state hashed, the PKCE verifier
//! sealed) and answers the consent page to send the browser to → the platform redirects to
//! `/oauth/{platform}/callback` → [`Accounts::callback`] consumes the state once, exchanges the
//! code, asks who the token belongs to, and either connects the account (X) or holds the sealed
//! grant for the chooser (LinkedIn, Facebook: [`Accounts::choices`], [`Accounts::choose`]).
//! Nothing is saved as an account until the platform has answered for it, so a cancel, an error or
//! an expired state leaves nothing half done.
//!
//! The caller binds an attempt to the browser session that started it: it keeps
//! [`Started::connection_id`] in that session and passes the session's list to the callback, which
//! refuses (and burns) an attempt that comes back to another session.

use chrono::{DateTime, Utc};
use crier_clients::{TokenSet, XAuth};
use crier_domain::account::AccountKind;
use crier_domain::store::accounts::{self, Account, Credentials, NewAccount};
use crier_domain::store::audit::Actor;
use crier_domain::store::{Member, oauth_connections};
use crier_domain::{DomainError, FieldError};
use crier_platform::Platform;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use url::Url;
use uuid::Uuid;

use crate::{Accounts, AccountsError};

/// A connection under way.
#[derive(Debug)]
pub struct Started {
    /// The platform's consent page: send the browser there.
    pub url: Url,
    /// The attempt: keep it in the browser session that started it.
    pub connection_id: Uuid,
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

/// What a callback led to.
#[derive(Debug)]
pub enum Connected {
    /// The account is connected (X: one token, one account).
    Account(Account),
    /// The person chooses what to connect from this connection's grant (LinkedIn, Facebook).
    Choose(Uuid),
}

/// One choice after LinkedIn or Facebook consent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choice {
    /// The platform's id of the profile, organization or Page.
    pub key: String,
    /// Its name.
    pub name: String,
    /// Profile, organization or Page.
    pub kind: AccountKind,
}

/// What a consent made available.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choices {
    /// Which platform.
    pub platform: Platform,
    /// What may be connected.
    pub options: Vec<Choice>,
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
    /// Where the platform serves its profile picture (absent in grants held before pictures).
    #[serde(default)]
    picture: Option<String>,
}

impl Accounts {
    /// "Connect …": records the attempt and answers where to send the browser.
    pub async fn start(&self, member: &Member, platform: Platform) -> Result<Started, AccountsError> {
        if !member.role.can_manage_members() {
            return Err(AccountsError::Forbidden);
        }
        let client = self.clients.app(platform).ok_or(AccountsError::Unavailable(platform))?;
        let redirect = self.callback_uri(platform)?;
        let begun = client.start_authorization(&redirect);
        let connection_id =
            oauth_connections::begin(&self.pool, &self.vault, member, platform, &begun.state, begun.pkce_verifier.as_ref()).await?;
        Ok(Started { url: begun.url, connection_id })
    }

    /// `/oauth/{platform}/callback`. `started_here` lists the attempts the callback's browser
    /// session started.
    pub async fn callback(
        &self,
        member: &Member,
        platform: Platform,
        params: CallbackParams,
        started_here: &[Uuid],
    ) -> Result<Connected, AccountsError> {
        let Some(returned_state) = params.state.as_deref().filter(|s| !s.is_empty()) else {
            return Err(AccountsError::Expired);
        };
        // Consumed first, whatever the outcome: a cancelled or failed attempt cannot be replayed.
        let called_back = oauth_connections::consume_state(&self.pool, &self.vault, member, platform, returned_state).await?;
        let connection_id = called_back.connection_id;
        let result = self.finish_callback(member, platform, params, started_here, called_back).await;
        if !matches!(result, Ok(Connected::Choose(_))) {
            // The attempt row only matters while choosing; otherwise it is done now.
            if let Err(e) = oauth_connections::finish(&self.pool, member, connection_id).await {
                tracing::warn!(error = %e, %connection_id, "could not close a finished connection attempt; it expires by itself");
            }
        }
        result
    }

    async fn finish_callback(
        &self,
        member: &Member,
        platform: Platform,
        params: CallbackParams,
        started_here: &[Uuid],
        called_back: oauth_connections::CalledBack,
    ) -> Result<Connected, AccountsError> {
        if !started_here.contains(&called_back.connection_id) {
            // Started in another session (another browser, or a link someone was sent): burnt, refused.
            return Err(AccountsError::Expired);
        }
        if let Some(error) = params.error.as_deref() {
            // X and Facebook say `access_denied` (Facebook adds `error_reason=user_denied`); LinkedIn
            // says `user_cancelled_authorize` or, on its sign-in page, `user_cancelled_login`.
            let cancelled = matches!(error, "access_denied" | "user_cancelled_authorize" | "user_cancelled_login")
                || params.error_reason.as_deref() == Some("user_denied");
            return Err(if cancelled {
                AccountsError::Cancelled(platform)
            } else {
                AccountsError::Refused { platform, reason: crier_protocol::redact(params.error_description.as_deref().unwrap_or(error)) }
            });
        }
        let Some(code) = params.code.as_deref().filter(|c| !c.is_empty()) else {
            return Err(AccountsError::Refused { platform, reason: "no authorization code was returned".into() });
        };
        let client = self.clients.app(platform).ok_or(AccountsError::Unavailable(platform))?;
        let redirect = self.callback_uri(platform)?;
        let tokens = client.exchange_code(code, called_back.pkce_verifier.as_ref(), &redirect).await.map_err(AccountsError::Platform)?;
        let connection_id = called_back.connection_id;
        match platform {
            Platform::X => {
                let client = self.clients.x().ok_or(AccountsError::Unavailable(platform))?;
                let user = client.who_am_i(&XAuth::Bearer(tokens.access_token.clone())).await.map_err(AccountsError::Platform)?;
                let picture = user.picture.clone();
                let new = NewAccount {
                    platform,
                    kind: AccountKind::Profile,
                    external_id: user.id.clone(),
                    name: user.name,
                    handle: Some(format!("@{}", user.username)),
                    authorized_by: user.id,
                    credentials: Credentials::OAuth2 { access_token: tokens.access_token, refresh_token: tokens.refresh_token },
                    token_expires_at: tokens.expires_at,
                    refresh_expires_at: tokens.refresh_expires_at,
                    scopes: tokens.scopes,
                };
                let account = self.connect_new(member.team_id, Some(member.user_id), new).await?;
                self.refresh_picture(member.team_id, account.account_id, picture.as_deref()).await;
                Ok(Connected::Account(account))
            }
            Platform::Linkedin => {
                let client = self.clients.linkedin().ok_or(AccountsError::Unavailable(platform))?;
                let me = client.who_am_i(&tokens.access_token).await.map_err(AccountsError::Platform)?;
                // Organization access is optional: a member without admin rights, or an app without
                // the organization scopes, still connects their profile.
                let organizations = client.organizations(&tokens.access_token).await.unwrap_or_default();
                let profile = HeldOption {
                    key: format!("urn:li:person:{}", me.id),
                    kind: AccountKind::Profile,
                    name: me.name,
                    handle: None,
                    page_token: None,
                    page_token_expires_at: None,
                    picture: me.picture,
                };
                let organizations = organizations.into_iter().map(|org| HeldOption {
                    key: org.urn,
                    kind: AccountKind::Organization,
                    name: org.name,
                    handle: None,
                    page_token: None,
                    page_token_expires_at: None,
                    picture: org.picture,
                });
                let options = std::iter::once(profile).chain(organizations).collect();
                self.hold(member, connection_id, platform, me.id, tokens, options).await
            }
            Platform::Facebook => {
                let client = self.clients.facebook().ok_or(AccountsError::Unavailable(platform))?;
                let me = client.who_am_i(&tokens.access_token).await.map_err(AccountsError::Platform)?;
                let pages = client.pages(&tokens.access_token).await.map_err(AccountsError::Platform)?;
                if pages.is_empty() {
                    return Err(AccountsError::Refused {
                        platform,
                        reason: "this Facebook user manages no Pages, or did not share any with Crier".into(),
                    });
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
                        picture: page.picture,
                    })
                    .collect();
                self.hold(member, connection_id, platform, me.id, tokens, options).await
            }
        }
    }

    fn callback_uri(&self, platform: Platform) -> Result<Url, AccountsError> {
        self.redirect_uri(platform).ok_or_else(|| {
            AccountsError::Domain(DomainError::Internal("this process has no public URL, so it connects nothing by OAuth".into()))
        })
    }

    async fn hold(
        &self,
        member: &Member,
        connection_id: Uuid,
        platform: Platform,
        authorized_by: String,
        tokens: TokenSet,
        options: Vec<HeldOption>,
    ) -> Result<Connected, AccountsError> {
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
        let json = serde_json::to_string(&grant).map_err(|e| DomainError::Internal(format!("the held grant cannot be written: {e}")))?;
        oauth_connections::hold_grant(&self.pool, &self.vault, member, connection_id, &SecretString::from(json)).await?;
        Ok(Connected::Choose(connection_id))
    }

    async fn held(&self, member: &Member, connection_id: Uuid) -> Result<HeldGrant, AccountsError> {
        member.require_manager()?;
        let (_, json) = oauth_connections::grant(&self.pool, &self.vault, member, connection_id).await?;
        serde_json::from_str(json.expose_secret())
            .map_err(|e| AccountsError::Domain(DomainError::Internal(format!("a held grant does not read back: {e}"))))
    }

    /// The chooser's options (no tokens).
    pub async fn choices(&self, member: &Member, connection_id: Uuid) -> Result<Choices, AccountsError> {
        let grant = self.held(member, connection_id).await?;
        Ok(Choices {
            platform: grant.platform,
            options: grant.options.iter().map(|o| Choice { key: o.key.clone(), name: o.name.clone(), kind: o.kind }).collect(),
        })
    }

    /// Connects the chosen options (by [`Choice::key`]) and ends the connection. Answers the
    /// platform and the accounts connected.
    pub async fn choose(&self, member: &Member, connection_id: Uuid, chosen: &[String]) -> Result<(Platform, Vec<Account>), AccountsError> {
        if chosen.is_empty() {
            return Err(FieldError::new("chosen", "Choose at least one account to connect, or cancel.").into());
        }
        let grant = self.held(member, connection_id).await?;
        let mut connected = Vec::new();
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
            let new = NewAccount {
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
            };
            let account = self.connect_new(member.team_id, Some(member.user_id), new).await?;
            self.refresh_picture(member.team_id, account.account_id, option.picture.as_deref()).await;
            connected.push(account);
        }
        if connected.is_empty() {
            return Err(FieldError::new("chosen", "None of the chosen accounts is on offer any more; start again.").into());
        }
        oauth_connections::finish(&self.pool, member, connection_id).await?;
        Ok((grant.platform, connected))
    }

    /// Abandons a connection after consent: the held tokens are deleted.
    pub async fn cancel_choice(&self, member: &Member, connection_id: Uuid) -> Result<(), AccountsError> {
        oauth_connections::finish(&self.pool, member, connection_id).await?;
        Ok(())
    }

    /// Stores a new (or reconnected) account and audits it.
    pub(crate) async fn connect_new(&self, team_id: Uuid, connected_by: Option<Uuid>, new: NewAccount) -> Result<Account, AccountsError> {
        let account = accounts::connect(&self.pool, &self.vault, team_id, connected_by, new).await?;
        let actor = connected_by.map(Actor::User).unwrap_or(Actor::System);
        self.audit(team_id, actor, "account_connected", &account).await;
        Ok(account)
    }
}
