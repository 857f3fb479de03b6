//! Settings → API: the team's API tokens (create, shown once; revoke; last use) and the REST API's
//! reference, drawn from the OpenAPI document the server builds from its handlers.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::errors::AppError;
use crier_domain::Role;
#[cfg(feature = "ssr")]
use server_fn::ServerFn;

/// One operation of the REST API.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiOperation {
    /// GET, POST, PATCH, DELETE.
    pub method: String,
    /// `/api/v1/posts/{id}`.
    pub path: String,
    /// Its group (accounts, posts, insights, product brief).
    pub tag: String,
    /// What it does.
    pub summary: String,
}

/// A token as listed (never its secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRow {
    /// Its id (for revoking).
    pub api_token_id: String,
    /// Its label.
    pub name: String,
    /// The role it acts with.
    pub role: Role,
    /// When it was created, in the viewer's zone.
    pub created: String,
    /// When it was last used, in the viewer's zone.
    pub last_used: Option<String>,
    /// When it stops working, in the viewer's zone (marked when it has).
    pub expires: Option<String>,
}

/// Everything the API page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiPageData {
    /// The team's tokens (only for owners and admins).
    pub tokens: Vec<TokenRow>,
    /// Whether the viewer manages tokens.
    pub can_manage: bool,
    /// The API's operations.
    pub operations: Vec<ApiOperation>,
    /// This Crier's public URL (for the examples).
    pub base_url: String,
}

/// The API page's data.
#[server(prefix = "/api", endpoint = "developers")]
pub async fn developers_view() -> Result<ApiPageData, AppError> {
    use crier_domain::store::api_tokens;

    use super::ssr::{current_member, state};
    let me = current_member().await?;
    let state = state()?;
    let can_manage = me.role.can_manage_members();
    let tokens = if can_manage { api_tokens::list(&state.pool, me.team_id).await? } else { Vec::new() };
    Ok(ApiPageData {
        tokens: tokens
            .into_iter()
            .map(|t| TokenRow {
                api_token_id: t.api_token_id.to_string(),
                name: t.name,
                role: t.role,
                created: me.timezone.format(t.created_at),
                last_used: t.last_used_at.map(|at| me.timezone.format(at)),
                expires: t.expires_at.map(|at| {
                    let when = me.timezone.format(at);
                    if at <= chrono::Utc::now() { format!("{when} (expired)") } else { when }
                }),
            })
            .collect(),
        can_manage,
        operations: state.api_reference.as_ref().clone(),
        base_url: state.public_base.clone(),
    })
}

/// A new token: its secret, shown once.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewToken {
    /// Its label.
    pub name: String,
    /// The bearer secret.
    pub secret: String,
}

impl std::fmt::Debug for NewToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewToken").field("name", &self.name).field("secret", &"[REDACTED]").finish()
    }
}

/// What a second submission of the form answers: the secret was shown once.
#[cfg(feature = "ssr")]
const SENT_TWICE_TOKEN: &str = "This form was already sent, and the token made: it is in the list. Its secret was shown once; revoke it and create another if it was not copied.";

/// Creates a token for the team with a label and a role (admin, editor or viewer).
#[server(prefix = "/api", endpoint = "api_tokens/create")]
pub async fn create_api_token(
    name: String,
    role: String,
    #[server(default)] expires_in_days: String,
    #[server(default)] form_key: String,
) -> Result<NewToken, AppError> {
    use crier_domain::store::api_tokens;

    use super::ssr::{current_member, fail_form, keep_secrets_for_next_page, pool};
    let me = current_member().await?;
    let outcome = async {
        super::ssr::once_per_form(&form_key, &me, super::ssr::Replay::Refuse(SENT_TWICE_TOKEN), async {
            me.require_manager().map_err(AppError::from)?;
            let role = Role::parse(&role)
                .filter(|r| *r != Role::Owner)
                .ok_or_else(|| crier_domain::FieldError::new("role", "Choose a role: admin, editor or viewer."))?;
            let expires = api_tokens::parse_expiry_days(&expires_in_days)?;
            let created = api_tokens::create(&pool()?, me.team_id, &name, role, Some(me.user_id), expires).await?;
            Ok::<_, AppError>(NewToken { name: created.token.name, secret: created.secret.expose().to_owned() })
        })
        .await
    }
    .await;
    match outcome {
        Ok(token) => {
            // Without wasm the browser reloads the page: the secret must survive that one view.
            keep_secrets_for_next_page(CreateApiToken::PATH, &me, &[("token_secret", &token.secret), ("token_name", &token.name)]).await;
            Ok(token)
        }
        Err(e) => {
            fail_form(
                CreateApiToken::PATH,
                e,
                &[("name", name.as_str()), ("role", role.as_str()), ("expires_in_days", expires_in_days.as_str())],
            )
            .await
        }
    }
}

/// Revokes one of the team's tokens: requests with it answer 401 from now on.
#[server(prefix = "/api", endpoint = "api_tokens/revoke")]
pub async fn revoke_api_token(api_token_id: String) -> Result<(), AppError> {
    use crier_domain::store::api_tokens;
    use crier_domain::store::audit::{Actor, record_after};

    use super::ssr::{current_member, pool};
    let me = current_member().await?;
    me.require_manager().map_err(AppError::from)?;
    let id = super::ssr::parse_id(&api_token_id)?;
    let pool = pool()?;
    api_tokens::revoke(&pool, me.team_id, id).await?;
    record_after(&pool, me.team_id, Actor::User(me.user_id), "token_revoked", "api_token", Some(&id.to_string()), serde_json::json!({}))
        .await;
    Ok(())
}
