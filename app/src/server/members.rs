//! The Members page: list, invite, change role, remove; and joining by invite link.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::PasswordField;
use crate::errors::AppError;
use crier_domain::Role;
#[cfg(feature = "ssr")]
use server_fn::ServerFn;

/// One member as listed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRow {
    /// Their id (for the row's forms).
    pub user_id: String,
    /// Their email.
    pub email: String,
    /// Their role.
    pub role: Role,
    /// Whether this row is the person looking.
    pub is_you: bool,
}

/// A pending invite as listed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteRow {
    /// Its id (for revoking).
    pub invite_id: String,
    /// Who is invited.
    pub email: String,
    /// With which role.
    pub role: Role,
    /// Expiry, RFC 3339 UTC.
    pub expires_at: String,
}

/// Everything the Members page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembersView {
    /// The members.
    pub members: Vec<MemberRow>,
    /// Pending invites (only for those who manage members).
    pub invites: Vec<InviteRow>,
    /// Whether the viewer may invite, re-role and remove.
    pub can_manage: bool,
}

/// The members of the signed-in person's team.
#[server(prefix = "/api", endpoint = "members")]
pub async fn list_members() -> Result<MembersView, AppError> {
    use crier_domain::store::{invites, members};

    use super::ssr::{current_member, pool};
    let me = current_member().await?;
    let pool = pool()?;
    let rows = members::list(&pool, me.team_id).await?;
    let can_manage = me.role.can_manage_members();
    let pending = if can_manage { invites::list_pending(&pool, me.team_id).await? } else { Vec::new() };
    Ok(MembersView {
        members: rows
            .into_iter()
            .map(|m| MemberRow { user_id: m.user_id.to_string(), is_you: m.user_id == me.user_id, email: m.email, role: m.role })
            .collect(),
        invites: pending
            .into_iter()
            .map(|i| InviteRow { invite_id: i.invite_id.to_string(), email: i.email, role: i.role, expires_at: i.expires_at.to_rfc3339() })
            .collect(),
        can_manage,
    })
}

/// A created invite: the link to hand to the person (shown once), and whether it was emailed.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedInvite {
    /// Who it is for.
    pub email: String,
    /// The full link.
    pub url: String,
    /// What became of emailing it: "Emailed to …", why it was not, or empty without an SMTP server.
    pub emailed: String,
}

impl std::fmt::Debug for CreatedInvite {
    /// Never the link: it holds the invite's token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedInvite").field("email", &self.email).field("url", &"[REDACTED]").finish_non_exhaustive()
    }
}

/// Emails the invitation when this Crier has an SMTP server: answers what the page says of it.
/// Never fails the invite: the link is shown either way.
#[cfg(feature = "ssr")]
async fn email_invite(
    state: &crate::state::AppState,
    me: &crier_domain::store::Member,
    invite: &crier_domain::store::invites::PendingInvite,
    url: &str,
) -> String {
    const WITHIN: std::time::Duration = std::time::Duration::from_secs(15);
    let Some(mailer) = &state.mailer else {
        return String::new();
    };
    let email = &invite.email;
    let mail = crier_mail::invitation(email, &me.team_name, invite.role.label(), url, &me.timezone.format(invite.expires_at));
    match tokio::time::timeout(WITHIN, mailer.send(&mail)).await {
        Ok(Ok(())) => format!("Emailed to {email}."),
        Ok(Err(error)) => {
            tracing::warn!(%error, "an invitation could not be emailed");
            format!("It could not be emailed ({error}): send the link yourself.")
        }
        Err(_) => format!("The mail server did not answer within {} seconds: send the link yourself.", WITHIN.as_secs()),
    }
}

#[cfg(feature = "ssr")]
use super::ssr::parse_id;

#[cfg(feature = "ssr")]
fn parse_role_field(raw: &str) -> Result<Role, AppError> {
    Role::parse(raw).ok_or_else(|| crier_domain::FieldError::new("role", "Choose a role: admin, editor or viewer.").into())
}

/// What a second submission of the invite form answers: the link was shown once.
#[cfg(feature = "ssr")]
const SENT_TWICE_INVITE: &str = "This form was already sent, and the invitation made: it is in the list of pending invitations. Its link was shown once; revoke it and invite again for a new link.";

/// Creates an invite link for an email and a role.
#[server(prefix = "/api", endpoint = "create_invite")]
pub async fn create_invite(email: String, role: String, #[server(default)] form_key: String) -> Result<CreatedInvite, AppError> {
    use crier_domain::EmailAddress;
    use crier_domain::store::invites;

    use super::ssr::{current_member, fail_form, keep_secrets_for_next_page, state};
    let kept = [("email", email.as_str()), ("role", role.as_str())];
    let me = current_member().await?;
    let outcome = async {
        super::ssr::once_per_form(&form_key, &me, super::ssr::Replay::Refuse(SENT_TWICE_INVITE), async {
            let address = EmailAddress::parse(&email)?;
            let role = parse_role_field(&role)?;
            let state = state()?;
            let created = invites::create(&state.pool, &me, address, role).await?;
            audit(&me, "member_invited", "invite", &created.invite.invite_id.to_string(), serde_json::json!({ "role": role.as_str() }))
                .await;
            let url = format!("{}/invite/{}", state.public_base, created.token.expose());
            let emailed = email_invite(&state, &me, &created.invite, &url).await;
            Ok::<_, AppError>(CreatedInvite { email: created.invite.email, url, emailed })
        })
        .await
    }
    .await;
    match outcome {
        Ok(created) => {
            // Without wasm the browser reloads the page: the link must survive to be shown.
            keep_secrets_for_next_page(
                CreateInvite::PATH,
                &me,
                &[("invite_url", &created.url), ("invite_email", &created.email), ("invite_emailed", &created.emailed)],
            )
            .await;
            Ok(created)
        }
        Err(e) => fail_form(CreateInvite::PATH, e, &kept).await,
    }
}

/// Revokes a pending invite.
#[server(prefix = "/api", endpoint = "revoke_invite")]
pub async fn revoke_invite(invite_id: String) -> Result<(), AppError> {
    use crier_domain::store::invites;

    use super::ssr::{current_member, fail_form, pool};
    let outcome = async { Ok::<_, AppError>(invites::revoke(&pool()?, &current_member().await?, parse_id(&invite_id)?).await?) }.await;
    match outcome {
        Ok(()) => Ok(()),
        Err(e) => fail_form(RevokeInvite::PATH, e, &[]).await,
    }
}

/// Gives a member another role.
#[server(prefix = "/api", endpoint = "change_role")]
pub async fn change_role(user_id: String, role: String) -> Result<(), AppError> {
    use crier_domain::store::members;

    use super::ssr::{current_member, fail_form, pool};
    let outcome = async {
        let me = current_member().await?;
        let (target, role) = (parse_id(&user_id)?, parse_role_field(&role)?);
        members::change_role(&pool()?, &me, target, role).await?;
        audit(&me, "member_role_changed", "member", &target.to_string(), serde_json::json!({ "role": role.as_str() })).await;
        Ok::<_, AppError>(())
    }
    .await;
    match outcome {
        Ok(()) => Ok(()),
        Err(e) => fail_form(ChangeRole::PATH, e, &[]).await,
    }
}

/// Removes a member from the team.
#[server(prefix = "/api", endpoint = "remove_member")]
pub async fn remove_member(user_id: String) -> Result<(), AppError> {
    use crier_domain::store::members;

    use super::ssr::{current_member, fail_form, pool};
    let outcome = async {
        let me = current_member().await?;
        let target = parse_id(&user_id)?;
        members::remove(&pool()?, &me, target).await?;
        audit(&me, "member_removed", "member", &target.to_string(), serde_json::json!({})).await;
        Ok::<_, AppError>(())
    }
    .await;
    match outcome {
        Ok(()) => Ok(()),
        Err(e) => fail_form(RemoveMember::PATH, e, &[]).await,
    }
}

/// What the invite page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteSummary {
    /// The team.
    pub team_name: String,
    /// The invited email.
    pub email: String,
    /// The role they will have.
    pub role: Role,
}

/// Looks up an invite link (no session needed).
#[server(prefix = "/api", endpoint = "invite")]
pub async fn invite_info(token: String) -> Result<InviteSummary, AppError> {
    use crier_domain::store::invites;

    use super::ssr::pool;
    let details = invites::find_by_token(&pool()?, &token).await?;
    Ok(InviteSummary { team_name: details.team_name, email: details.email, role: details.role })
}

/// Joins a team through an invite link with a new password, and signs in.
#[server(prefix = "/api", endpoint = "accept_invite")]
pub async fn accept_invite(token: String, password: PasswordField, #[server(default)] timezone: String) -> Result<(), AppError> {
    use crier_domain::password::Password;
    use crier_domain::store::invites;

    use super::ssr::{fail_form, pool, redirect, sign_in};
    let outcome = async {
        let password = Password::parse(password.0.into())?;
        Ok::<_, AppError>(
            invites::accept(&pool()?, &token, password, &super::ssr::client_addr(), &super::ssr::state()?.address_limits).await?,
        )
    }
    .await;
    match outcome {
        Ok(member) => {
            super::auth::adopt_browser_timezone(&member, &timezone).await?;
            // A team that requires two-factor sends the new member to set it up first.
            if super::security::second_step_needed(&member, None).await? {
                return Ok(());
            }
            sign_in(&member).await?;
            redirect("/");
            Ok(())
        }
        Err(e) => fail_form(AcceptInvite::PATH, e, &[]).await,
    }
}

/// Records what a member did to the team's people (after it is done).
#[cfg(feature = "ssr")]
async fn audit(me: &crier_domain::store::Member, action: &str, entity: &str, entity_id: &str, metadata: serde_json::Value) {
    use crier_domain::store::audit::{Actor, record_after};
    if let Ok(pool) = super::ssr::pool() {
        record_after(&pool, me.team_id, Actor::User(me.user_id), action, entity, Some(entity_id), metadata).await;
    }
}
