//! X accounts connected with OAuth 1.0a user-context keys (developer portal → Keys and tokens),
//! pasted on the Accounts page or imported by `crier admin import-env`: checked with X's
//! who-am-I before anything is stored.

use crier_clients::{ErrorClass, OAuth1Credentials, XAuth};
use crier_domain::FieldError;
use crier_domain::account::AccountKind;
use crier_domain::store::accounts::{Account, Credentials, NewAccount};
use crier_platform::Platform;
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use crate::{Accounts, AccountsError};

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

impl XKeys {
    /// The four values as a form sends them (`api_key`, `api_secret`, `access_token`,
    /// `access_token_secret`), each required; surrounding spaces from a paste are dropped.
    pub fn parse(values: [String; 4]) -> Result<Self, AccountsError> {
        let names = ["api_key", "api_secret", "access_token", "access_token_secret"];
        let missing: Vec<_> = values
            .iter()
            .zip(names)
            .filter(|(value, _)| value.trim().is_empty())
            .map(|(_, field)| FieldError::new(field, "Paste this value from the X developer portal (Keys and tokens)."))
            .collect();
        if !missing.is_empty() {
            return Err(AccountsError::Invalid(missing));
        }
        let [consumer_key, consumer_secret, access_token, access_token_secret] = values.map(|v| SecretString::from(v.trim().to_owned()));
        Ok(XKeys { consumer_key, consumer_secret, access_token, access_token_secret })
    }
}

/// The client's form of stored OAuth 1.0a keys.
pub(crate) fn signing(
    consumer_key: &SecretString,
    consumer_secret: &SecretString,
    access_token: &SecretString,
    access_token_secret: &SecretString,
) -> OAuth1Credentials {
    OAuth1Credentials {
        consumer_key: consumer_key.expose_secret().to_owned(),
        consumer_secret: consumer_secret.clone(),
        token: access_token.expose_secret().to_owned(),
        token_secret: access_token_secret.clone(),
    }
}

impl Accounts {
    /// Checks the keys with X and connects the account they belong to, for `team_id`
    /// (`connected_by`: the member, or `None` for the admin CLI).
    pub async fn connect_x_keys(&self, team_id: Uuid, connected_by: Option<Uuid>, keys: XKeys) -> Result<Account, AccountsError> {
        let XKeys { consumer_key, consumer_secret, access_token, access_token_secret } = keys;
        let auth = XAuth::OAuth1(signing(&consumer_key, &consumer_secret, &access_token, &access_token_secret));
        let user = self.clients.x_keys().who_am_i(&auth).await.map_err(|e| match e.class {
            ErrorClass::NeedsReauth | ErrorClass::Permanent => AccountsError::CredentialsRefused(e),
            _ => AccountsError::Unreachable(e),
        })?;
        let picture = user.picture.clone();
        let new = NewAccount {
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
        };
        let account = self.connect_new(team_id, connected_by, new).await?;
        self.refresh_picture(team_id, account.account_id, picture.as_deref()).await;
        Ok(account)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_required_and_each_missing_one_is_named() {
        let error = XKeys::parse(["k".into(), " ".into(), "t".into(), String::new()]).err().expect("two are missing");
        let AccountsError::Invalid(fields) = error else { panic!("fields expected") };
        let named: Vec<_> = fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(named, ["api_secret", "access_token_secret"]);
        let Ok(keys) = XKeys::parse([" k ".into(), "s".into(), "t".into(), "ts".into()]) else { panic!("all four given") };
        assert_eq!(keys.consumer_key.expose_secret(), "k", "a paste's spaces are dropped");
    }
}
