//! "Disconnect": the tokens are deleted first (what the team asked for), then revoked at the
//! platform where it can; the account's history is kept.

use crier_domain::store::accounts::{self, Account, Credentials};
use crier_domain::store::audit::Actor;
use uuid::Uuid;

use crate::{Accounts, AccountsError};

impl Accounts {
    /// Disconnects the account and answers it as it was. A failed revocation is logged, not an
    /// error: the tokens are gone from Crier either way.
    pub async fn disconnect(&self, team_id: Uuid, actor: Actor, account_id: Uuid) -> Result<Account, AccountsError> {
        let (account, credentials) = accounts::disconnect(&self.pool, &self.vault, team_id, account_id).await?;
        self.audit(team_id, actor, "account_disconnected", &account).await;
        // OAuth 1.0a keys are revoked in the X developer portal; a key that no longer opens
        // cannot be revoked at all.
        if let (Some(Credentials::OAuth2 { access_token, refresh_token }), Some(client)) = (credentials, self.clients.app(account.platform))
            && let Err(e) = client.revoke(&access_token, refresh_token.as_ref()).await
        {
            tracing::warn!(error = %e, account_id = %account.account_id, "revoking at the platform failed; the tokens are deleted anyway");
        }
        Ok(account)
    }
}
