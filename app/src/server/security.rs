//! Settings → Security and the second step of signing in: two-factor sign-in (setting it up, the
//! code after the password, recovery codes, turning it off), the team rule requiring it, changing
//! the password, and the person's sessions.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::PasswordField;
use crate::errors::AppError;
#[cfg(feature = "ssr")]
use server_fn::ServerFn;

/// What the second step's page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingStep {
    /// The email whose password was verified.
    pub email: String,
    /// Whether two-factor must be set up first (the team requires it).
    pub set_up: bool,
}

/// The sign-in waiting for its second step in this session, if any (`None` once it expired).
#[server(prefix = "/api", endpoint = "sign_in/step")]
pub async fn sign_in_step() -> Result<Option<PendingStep>, AppError> {
    Ok(pending_member().await?.map(|(pending, member)| PendingStep { email: member.email, set_up: pending.set_up }))
}

/// The person whose password a pending sign-in verified, while it is live and they still exist.
#[cfg(feature = "ssr")]
async fn pending_member() -> Result<Option<(super::ssr::PendingSignIn, crier_domain::store::Member)>, AppError> {
    use super::ssr::{pending_sign_in, pool, session};
    let Some(pending) = pending_sign_in(&session().await?).await else { return Ok(None) };
    Ok(crier_domain::store::members::find(&pool()?, pending.user_id).await?.map(|member| (pending, member)))
}

#[cfg(feature = "ssr")]
fn sign_in_expired() -> AppError {
    AppError::Refused("Your sign-in took too long or has ended. Log in again with your email and password.".into())
}

/// After the password of `member` was verified (log-in, accepting an invite): `true` when a
/// second step must follow, in which case the session now holds only the pending sign-in and the
/// browser is on its way to that step's page; `false` when the caller signs them in.
#[cfg(feature = "ssr")]
pub async fn second_step_needed(member: &crier_domain::store::Member, next: Option<&str>) -> Result<bool, AppError> {
    use crier_domain::store::two_factor::{self, NextStep};

    use super::ssr::{begin_pending_sign_in, pool};
    match two_factor::next_step(&pool()?, member).await? {
        NextStep::SignIn => Ok(false),
        NextStep::Verify => begin_pending_sign_in(member, false, next.unwrap_or("/")).await.map(|()| true),
        NextStep::SetUp => begin_pending_sign_in(member, true, next.unwrap_or("/")).await.map(|()| true),
    }
}

/// Signs in a pending sign-in whose second step is done, and audits `login_succeeded`.
#[cfg(feature = "ssr")]
async fn finish_sign_in(member: &crier_domain::store::Member, how: &str) -> Result<(), AppError> {
    use crier_domain::store::audit::{self, Actor};

    use super::ssr::{client_addr, pool, sign_in};
    sign_in(member).await?;
    let metadata = serde_json::json!({ "client_addr": client_addr(), "second_factor": how });
    audit::record_after(
        &pool()?,
        member.team_id,
        Actor::User(member.user_id),
        "login_succeeded",
        "member",
        Some(&member.user_id.to_string()),
        metadata,
    )
    .await;
    Ok(())
}

/// The second step of signing in: a code from the authenticator app or a recovery code. Signs in
/// and goes where the log-in was headed.
#[server(prefix = "/api", endpoint = "sign_in/verify")]
pub async fn verify_sign_in(code: PasswordField) -> Result<(), AppError> {
    use crier_domain::store::two_factor;

    use super::ssr::{client_addr, fail_form, redirect, state};
    let outcome = async {
        let Some((pending, member)) = pending_member().await? else { return Err(sign_in_expired()) };
        if pending.set_up {
            return Err(sign_in_expired());
        }
        let state = state()?;
        let factor = two_factor::verify(&state.pool, &state.vault, &member, &code.0, &client_addr()).await?;
        finish_sign_in(&member, factor.as_str()).await?;
        Ok(pending.next)
    }
    .await;
    match outcome {
        Ok(next) => {
            redirect(&next);
            Ok(())
        }
        Err(e) => fail_form(VerifySignIn::PATH, e, &[]).await,
    }
}

/// What the setup page shows: the QR code to scan and the secret to type instead.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupKey {
    /// The QR code of the otpauth:// URL, as an SVG `data:` URL for an `<img>`.
    pub qr_code: String,
    /// The secret in base32, in groups of four, for typing into the app.
    pub secret: String,
    /// The account name the app lists it under (the email).
    pub account: String,
}

impl std::fmt::Debug for SetupKey {
    /// Never the secret (the QR code holds it too).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SetupKey").field("account", &self.account).finish_non_exhaustive()
    }
}

/// Who is setting two-factor up: the signed-in person, or a pending sign-in sent to set it up.
#[cfg(feature = "ssr")]
async fn setting_up() -> Result<(crier_domain::store::Member, Option<super::ssr::PendingSignIn>), AppError> {
    if let Some(member) = super::ssr::signed_in_member().await? {
        return Ok((member, None));
    }
    match pending_member().await? {
        Some((pending, member)) if pending.set_up => Ok((member, Some(pending))),
        _ => Err(AppError::Unauthenticated),
    }
}

/// Pages that show a secret must not be kept by the browser or a proxy.
#[cfg(feature = "ssr")]
fn no_store() {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.insert_header(http::header::CACHE_CONTROL, http::HeaderValue::from_static("no-store"));
    }
}

/// The QR code of `url` as an SVG `data:` URL (drawn on the server: nothing for the wasm).
#[cfg(feature = "ssr")]
fn qr_data_url(url: &str) -> Result<String, AppError> {
    use base64::Engine as _;
    use qrcode::render::svg;
    let code = qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M).map_err(|e| {
        tracing::error!(error = %e, "the otpauth URL does not fit a QR code");
        AppError::Internal
    })?;
    let image = code.render::<svg::Color<'_>>().min_dimensions(200, 200).quiet_zone(true).build();
    Ok(format!("data:image/svg+xml;base64,{}", base64::engine::general_purpose::STANDARD.encode(image)))
}

/// The secret to set up (the same one until it is confirmed): its QR code and base32 text.
#[server(prefix = "/api", endpoint = "settings/security/two_factor_setup")]
pub async fn two_factor_setup() -> Result<SetupKey, AppError> {
    use crier_domain::store::two_factor;
    use secrecy::ExposeSecret;

    let (member, _) = setting_up().await?;
    let state = super::ssr::state()?;
    let secret = two_factor::begin_setup(&state.pool, &state.vault, &member).await?;
    no_store();
    Ok(SetupKey {
        qr_code: qr_data_url(secret.otpauth_url().expose_secret())?,
        secret: secret.base32_grouped().expose_secret().to_owned(),
        account: member.email,
    })
}

/// Recovery codes just made, shown once.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryCodes(pub Vec<String>);

impl std::fmt::Debug for RecoveryCodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RecoveryCodes([{} REDACTED])", self.0.len())
    }
}

/// Turns two-factor on with a current code from the app, and answers the ten recovery codes
/// (shown once). A pending sign-in sent here by the team's rule is then signed in. After a plain
/// form post the browser goes to Settings → Security, which shows the codes that once.
#[server(prefix = "/api", endpoint = "settings/security/enable_two_factor")]
pub async fn enable_two_factor(code: String) -> Result<RecoveryCodes, AppError> {
    use crier_domain::store::two_factor;
    use secrecy::ExposeSecret;

    use super::ssr::{client_addr, fail_form, keep_secrets_for_next_page, redirect, state};
    let outcome = async {
        let (member, pending) = setting_up().await?;
        let state = state()?;
        let codes = two_factor::confirm_setup(&state.pool, &state.vault, &member, &code, &client_addr()).await?;
        if pending.is_some() {
            finish_sign_in(&member, "set_up").await?;
        }
        Ok::<_, AppError>((member, codes))
    }
    .await;
    match outcome {
        Ok((member, codes)) => {
            let plain: Vec<String> = codes.iter().map(|c| c.expose_secret().to_owned()).collect();
            // Sealed, never in clear text in the session row, for the one page view that shows them.
            keep_secrets_for_next_page(EnableTwoFactor::PATH, &member, &[("codes", &plain.join(" "))]).await;
            redirect("/settings/security");
            Ok(RecoveryCodes(plain))
        }
        Err(e) => fail_form(EnableTwoFactor::PATH, e, &[]).await,
    }
}

/// The recovery codes a plain form post just made, for the page view that follows it (empty for
/// any call from the browser: only a page render sees kept values).
#[server(prefix = "/api", endpoint = "settings/security/kept_codes")]
pub async fn kept_recovery_codes() -> Result<Option<RecoveryCodes>, AppError> {
    let Some(codes) = super::ssr::open_kept(EnableTwoFactor::PATH, "codes") else { return Ok(None) };
    no_store();
    Ok(Some(RecoveryCodes(codes.split(' ').map(str::to_owned).collect())))
}

/// One of the person's sessions, as the Security page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionLine {
    /// Its public id, for "Sign out".
    pub id: String,
    /// When it signed in, in the viewer's timezone.
    pub created: String,
    /// When a page was last loaded with it, in the viewer's timezone.
    pub last_seen: String,
    /// The client address it was last used from.
    pub client_addr: String,
    /// The browser, in words.
    pub browser: String,
    /// Whether it is the one asking.
    pub current: bool,
}

/// Everything Settings → Security shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityView {
    /// Whether two-factor sign-in is on.
    pub two_factor_on: bool,
    /// Since when, in the viewer's timezone.
    pub two_factor_since: Option<String>,
    /// Unused recovery codes.
    pub recovery_codes_left: i64,
    /// Whether the team requires two-factor.
    pub team_requires: bool,
    /// The person's live sessions, this one first.
    pub sessions: Vec<SessionLine>,
}

/// The person's security settings and sessions.
#[server(prefix = "/api", endpoint = "settings/security")]
pub async fn security_settings() -> Result<SecurityView, AppError> {
    use crier_domain::store::{sessions, two_factor};

    use super::ssr::{current_member, pool, session};
    let me = current_member().await?;
    let pool = pool()?;
    let status = two_factor::status(&pool, &me).await?;
    let listed = sessions::list_for_user(&pool, me.user_id, session().await?.id()).await?;
    Ok(SecurityView {
        two_factor_on: status.enabled_at.is_some(),
        two_factor_since: status.enabled_at.map(|at| me.timezone.format(at)),
        recovery_codes_left: status.recovery_codes_left,
        team_requires: status.team_requires,
        sessions: listed
            .into_iter()
            .map(|s| SessionLine {
                id: s.public_id.to_string(),
                created: me.timezone.format(s.created_at),
                last_seen: me.timezone.format(s.last_seen_at),
                client_addr: s.client_addr.unwrap_or_else(|| "unknown".into()),
                browser: s.browser,
                current: s.current,
            })
            .collect(),
    })
}

/// Turns two-factor off, after a current code from the app or the password. Refused while the
/// team requires it.
#[server(prefix = "/api", endpoint = "settings/security/disable_two_factor")]
pub async fn disable_two_factor(proof: PasswordField) -> Result<(), AppError> {
    use crier_domain::store::two_factor;

    use super::ssr::{client_addr, current_member, fail_form, notice_for_next_page, state};
    let outcome = async {
        let me = current_member().await?;
        let state = state()?;
        two_factor::disable(&state.pool, &state.vault, &me, proof.0.into(), &client_addr()).await?;
        Ok::<_, AppError>(())
    }
    .await;
    match outcome {
        Ok(()) => {
            notice_for_next_page(DisableTwoFactor::PATH, "Two-factor sign-in is off. Your password alone now signs you in.").await;
            Ok(())
        }
        Err(e) => fail_form(DisableTwoFactor::PATH, e, &[]).await,
    }
}

/// Changes the password after checking the current one, and signs out every other session.
/// Answers how many were signed out.
#[server(prefix = "/api", endpoint = "settings/security/change_password")]
pub async fn change_password(current_password: PasswordField, new_password: PasswordField) -> Result<u64, AppError> {
    use crier_domain::password::Password;
    use crier_domain::store::security;

    use super::ssr::{client_addr, current_member, fail_form, notice_for_next_page, pool, session};
    let outcome = async {
        let me = current_member().await?;
        let session = session().await?;
        let new = Password::parse(new_password.0.into());
        let signed_out = security::change_password(&pool()?, &me, current_password.0.into(), new, session.id(), &client_addr()).await?;
        // A new id for this session too: whoever might have copied its cookie is out as well.
        session.cycle_id().await.map_err(|e| {
            tracing::error!(error = %e, "session store failed");
            AppError::Internal
        })?;
        Ok::<_, AppError>(signed_out)
    }
    .await;
    match outcome {
        Ok(n) => {
            let others = match n {
                0 => "You had no other sessions.".to_owned(),
                1 => "Your 1 other session is signed out.".to_owned(),
                n => format!("Your {n} other sessions are signed out."),
            };
            notice_for_next_page(ChangePassword::PATH, &format!("Password changed. {others}")).await;
            Ok(n)
        }
        Err(e) => fail_form(ChangePassword::PATH, e, &[]).await,
    }
}

/// Signs out one of the person's other sessions (by the id the Security page lists).
#[server(prefix = "/api", endpoint = "settings/security/sign_out_session")]
pub async fn sign_out_session(session_id: String) -> Result<(), AppError> {
    use crier_domain::store::audit::{self, Actor};
    use crier_domain::store::sessions;

    use super::ssr::{current_member, fail_form, notice_for_next_page, parse_id, pool};
    let outcome = async {
        let me = current_member().await?;
        let id = parse_id(&session_id)?;
        let pool = pool()?;
        if !sessions::revoke(&pool, me.user_id, id).await? {
            return Err(AppError::NotFound);
        }
        let metadata = serde_json::json!({ "session": id.to_string() });
        audit::record_after(
            &pool,
            me.team_id,
            Actor::User(me.user_id),
            "session_revoked",
            "member",
            Some(&me.user_id.to_string()),
            metadata,
        )
        .await;
        Ok(())
    }
    .await;
    match outcome {
        Ok(()) => {
            notice_for_next_page(SignOutSession::PATH, "That session is signed out.").await;
            Ok(())
        }
        Err(e) => fail_form(SignOutSession::PATH, e, &[]).await,
    }
}

/// Signs out every session of the person but this one. Answers how many.
#[server(prefix = "/api", endpoint = "settings/security/sign_out_others")]
pub async fn sign_out_other_sessions() -> Result<u64, AppError> {
    use crier_domain::store::audit::{self, Actor};
    use crier_domain::store::sessions;

    use super::ssr::{current_member, fail_form, notice_for_next_page, pool, session};
    let outcome = async {
        let me = current_member().await?;
        let pool = pool()?;
        let n = sessions::revoke_others(&pool, me.user_id, session().await?.id()).await?;
        if n > 0 {
            let metadata = serde_json::json!({ "sessions": n });
            audit::record_after(
                &pool,
                me.team_id,
                Actor::User(me.user_id),
                "session_revoked",
                "member",
                Some(&me.user_id.to_string()),
                metadata,
            )
            .await;
        }
        Ok::<_, AppError>(n)
    }
    .await;
    match outcome {
        Ok(n) => {
            let text = match n {
                0 => "There were no other sessions.".to_owned(),
                1 => "1 other session is signed out.".to_owned(),
                n => format!("{n} other sessions are signed out."),
            };
            notice_for_next_page(SignOutOtherSessions::PATH, &text).await;
            Ok(n)
        }
        Err(e) => fail_form(SignOutOtherSessions::PATH, e, &[]).await,
    }
}

/// The team's two-factor rule, as Settings shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamTwoFactorRule {
    /// Whether every member must sign in with two-factor.
    pub required: bool,
    /// Whether the viewer may change it (owners).
    pub can_change: bool,
    /// Whether the viewer has two-factor on (an owner needs it to require it).
    pub viewer_has_it: bool,
}

/// The team's two-factor rule.
#[server(prefix = "/api", endpoint = "settings/team_two_factor")]
pub async fn team_two_factor() -> Result<TeamTwoFactorRule, AppError> {
    use crier_domain::store::two_factor;

    use super::ssr::{current_member, pool};
    let me = current_member().await?;
    let status = two_factor::status(&pool()?, &me).await?;
    Ok(TeamTwoFactorRule {
        required: status.team_requires,
        can_change: me.role == crier_domain::Role::Owner,
        viewer_has_it: status.enabled_at.is_some(),
    })
}

/// An owner requires two-factor sign-in for the whole team (`required` = "true") or stops
/// requiring it. Members without it set it up at their next sign-in.
#[server(prefix = "/api", endpoint = "settings/set_team_two_factor")]
pub async fn set_team_two_factor(required: String) -> Result<(), AppError> {
    use crier_domain::store::two_factor;

    use super::ssr::{current_member, fail_form, notice_for_next_page, pool};
    let required = required == "true";
    let outcome = async {
        let me = current_member().await?;
        two_factor::set_team_requirement(&pool()?, &me, required).await?;
        Ok::<_, AppError>(())
    }
    .await;
    match outcome {
        Ok(()) => {
            let text = if required {
                "Two-factor sign-in is now required: members without it set it up at their next sign-in."
            } else {
                "Two-factor sign-in is no longer required (members who have it keep it)."
            };
            notice_for_next_page(SetTeamTwoFactor::PATH, text).await;
            Ok(())
        }
        Err(e) => fail_form(SetTeamTwoFactor::PATH, e, &[]).await,
    }
}
