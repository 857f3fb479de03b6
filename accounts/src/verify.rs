//! "Verify": who-am-I with the stored token, recorded as the account's health.

use chrono::Utc;
use crier_clients::{ErrorClass, PlatformError, XAuth};
use crier_domain::account::AccountKind;
use crier_domain::store::accounts::{self, Account, CheckOutcome, Credentials};
use crier_domain::store::audit::Actor;
use crier_platform::Platform;
use uuid::Uuid;

use crate::keys::signing;
use crate::{Accounts, AccountsError, RefreshError, needs_refresh};

/// Who the platform says an account is.
struct Found {
    name: String,
    picture: Option<String>,
}

impl Accounts {
    /// Asks the platform who the account's token belongs to (renewing the token first when it has
    /// expired and Crier holds a refresh token) and records the answer: healthy, or needing
    /// re-authorisation. A platform that cannot be reached changes nothing and answers
    /// [`AccountsError::Unreachable`].
    pub async fn verify(&self, team_id: Uuid, account_id: Uuid) -> Result<Account, AccountsError> {
        let (account, credentials) = accounts::credentials(&self.pool, &self.vault, team_id, account_id).await?;
        let checked = match self.renewed_if_expired(team_id, &account, credentials).await {
            Ok(credentials) => self.who_is(&account, &credentials).await?,
            Err(e) => Err(e),
        };
        let (outcome, picture) = match checked {
            Ok(found) => (CheckOutcome::Healthy { name: found.name }, found.picture),
            Err(e) if e.class == ErrorClass::NeedsReauth => (CheckOutcome::NeedsReauth(e.message.clone()), None),
            // A temporary failure or a rate limit says nothing about the token: keep the status.
            Err(e) => return Err(AccountsError::Unreachable(e)),
        };
        let checked = accounts::record_check(&self.pool, team_id, account_id, &outcome).await?;
        if let CheckOutcome::NeedsReauth(_) = outcome {
            self.audit(team_id, Actor::System, "account_needs_reauth", &checked).await;
        }
        self.refresh_picture(team_id, account_id, picture.as_deref()).await;
        Ok(checked)
    }

    /// The name and picture the platform gives the account behind `credentials`, or its refusal.
    async fn who_is(&self, account: &Account, credentials: &Credentials) -> Result<Result<Found, PlatformError>, AccountsError> {
        let unavailable = || AccountsError::Unavailable(account.platform);
        Ok(match (credentials, account.platform, account.kind) {
            (Credentials::OAuth1 { consumer_key, consumer_secret, access_token, access_token_secret }, Platform::X, _) => {
                let auth = XAuth::OAuth1(signing(consumer_key, consumer_secret, access_token, access_token_secret));
                self.clients.x_keys().who_am_i(&auth).await.map(|u| Found { name: u.name, picture: u.picture })
            }
            (Credentials::OAuth2 { access_token, .. }, Platform::X, _) => {
                let user = self.clients.x().ok_or_else(unavailable)?.who_am_i(&XAuth::Bearer(access_token.clone())).await;
                user.map(|u| Found { name: u.name, picture: u.picture })
            }
            (Credentials::OAuth2 { access_token, .. }, Platform::Linkedin, AccountKind::Organization) => {
                let client = self.clients.linkedin().ok_or_else(unavailable)?;
                client.organizations(access_token).await.and_then(|orgs| match orgs.into_iter().find(|o| o.urn == account.external_id) {
                    Some(org) => Ok(Found { name: org.name, picture: org.picture }),
                    None => Err(PlatformError::new(
                        Platform::Linkedin,
                        ErrorClass::NeedsReauth,
                        None,
                        None,
                        "the member no longer administers this organization",
                    )),
                })
            }
            (Credentials::OAuth2 { access_token, .. }, Platform::Linkedin, _) => self
                .clients
                .linkedin()
                .ok_or_else(unavailable)?
                .who_am_i(access_token)
                .await
                .map(|m| Found { name: m.name, picture: m.picture }),
            (Credentials::OAuth2 { access_token, .. }, Platform::Facebook, _) => {
                let page = self.clients.facebook().ok_or_else(unavailable)?.page(&account.external_id, access_token).await;
                page.map(|page| Found { name: page.name, picture: page.picture })
            }
            (Credentials::OAuth1 { .. }, platform, _) => {
                return Err(AccountsError::Domain(crier_domain::DomainError::Internal(format!(
                    "a {platform} account holds OAuth 1.0a keys, which only X uses"
                ))));
            }
        })
    }

    /// X access tokens live two hours: a Verify after that refreshes first, through the same
    /// single-flight refresh the publishing engine uses, so a Verify and a worker never both spend
    /// X's rotating refresh token (the loser would find it dead and the account wrongly "needs
    /// re-auth").
    async fn renewed_if_expired(&self, team_id: Uuid, account: &Account, credentials: Credentials) -> Result<Credentials, PlatformError> {
        let margin = chrono::TimeDelta::seconds(60);
        if !needs_refresh(account.can_refresh, account.token_expires_at, margin, Utc::now()) {
            return Ok(credentials);
        }
        match self.fresh_credentials(team_id, account.account_id, margin).await {
            Ok((_, fresh)) => Ok(fresh),
            Err(RefreshError::Platform(e)) => Err(e),
            Err(RefreshError::Store(e)) => {
                tracing::error!(error = %e, account_id = %account.account_id, "refreshing before Verify failed in the store");
                Ok(credentials)
            }
        }
    }
}
