//! Sign-up, log-in, log-out, and who is signed in.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::PasswordField;
use crate::errors::AppError;
#[cfg(feature = "ssr")]
use server_fn::ServerFn;

/// The signed-in person as the pages show them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    /// Their team's name.
    pub team_name: String,
    /// Their email.
    pub email: String,
    /// Their role.
    pub role: crier_domain::Role,
    /// How many of their notifications are unread (the header's bell).
    #[serde(default)]
    pub unread: i64,
}

/// Who is signed in (`None` when nobody is).
#[server(prefix = "/api", endpoint = "me")]
pub async fn who_am_i() -> Result<Option<Me>, AppError> {
    let Some(member) = super::ssr::signed_in_member().await? else { return Ok(None) };
    let unread = crier_domain::store::notifications::unread(&super::ssr::pool()?, &member).await?;
    Ok(Some(Me { team_name: member.team_name, email: member.email, role: member.role, unread }))
}

/// Whether this Crier lets a visitor create a team (else the Sign up page says to ask for an
/// invitation).
#[server(prefix = "/api", endpoint = "sign_up_open")]
pub async fn sign_up_open() -> Result<bool, AppError> {
    let state = super::ssr::state()?;
    Ok(crier_domain::store::teams::sign_up_open(&state.pool, state.sign_up).await?)
}

/// Creates a team with the person as its owner, and signs them in.
#[server(prefix = "/api", endpoint = "sign_up")]
pub async fn sign_up(
    team_name: String,
    email: String,
    password: PasswordField,
    #[server(default)] timezone: String,
) -> Result<(), AppError> {
    use crier_domain::password::Password;
    use crier_domain::store::teams;
    use crier_domain::{EmailAddress, TeamName};

    use super::ssr::{client_addr, fail_form, redirect, sign_in, state};

    let kept = [("team_name", team_name.as_str()), ("email", email.as_str())];
    // Check every field before answering, so one submission shows every problem.
    let team = TeamName::parse(&team_name);
    let address = EmailAddress::parse(&email);
    let secret = Password::parse(password.0.into());
    let (team, address, secret) = match (team, address, secret) {
        (Ok(t), Ok(a), Ok(s)) => (t, a, s),
        (t, a, s) => {
            let fields = [t.err(), a.err(), s.err()].into_iter().flatten().collect();
            return fail_form(SignUp::PATH, AppError::Fields(fields), &kept).await;
        }
    };
    let state = state()?;
    let member = match teams::sign_up_from(&state.pool, state.sign_up, &client_addr(), &state.address_limits, team, address, secret).await {
        Ok(member) => member,
        Err(e) => return fail_form(SignUp::PATH, e.into(), &kept).await,
    };
    adopt_browser_timezone(&member, &timezone).await?;
    sign_in(&member).await?;
    redirect("/");
    Ok(())
}

/// Checks an email and password, signs in, and goes to `next` (a local path) or the dashboard.
#[server(prefix = "/api", endpoint = "log_in")]
pub async fn log_in(email: String, password: PasswordField, next: Option<String>) -> Result<(), AppError> {
    use crier_domain::store::login;

    use super::ssr::{client_addr, fail_form, pool, redirect, safe_next, sign_in};

    let client_addr = client_addr();
    let kept = [("email", email.as_str())];
    match login::log_in(&pool()?, &email, password.0.into(), &client_addr).await {
        Ok(member) => {
            // With two-factor on (or required by the team) the password alone does not sign in.
            if super::security::second_step_needed(&member, next.as_deref()).await? {
                return Ok(());
            }
            sign_in(&member).await?;
            use crier_domain::store::audit::{self, Actor};
            let metadata = serde_json::json!({ "client_addr": client_addr });
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
            redirect(&safe_next(next.as_deref()));
            Ok(())
        }
        Err(e) => fail_form(LogIn::PATH, e.into(), &kept).await,
    }
}

/// Ends the session everywhere it is stored, and goes to the login page.
#[server(prefix = "/api", endpoint = "log_out")]
pub async fn log_out() -> Result<(), AppError> {
    use super::ssr::{redirect, session};
    session().await?.flush().await.map_err(|e| {
        tracing::error!(error = %e, "session store failed");
        AppError::Internal
    })?;
    redirect("/login");
    Ok(())
}

/// Whether the Connect buttons go to the sandbox's fake platforms (every page then says so).
#[server(prefix = "/api", endpoint = "sandbox_mode")]
pub async fn sandbox_mode() -> Result<bool, AppError> {
    Ok(super::ssr::state()?.accounts.clients().any_sandboxed())
}

/// Takes the timezone the browser reported at sign-up (empty before the wasm has loaded, and
/// then UTC stays until the person picks one in Settings). It is not typed by the person, so a
/// value the database does not know is ignored rather than shown as an error.
#[cfg(feature = "ssr")]
pub(crate) async fn adopt_browser_timezone(member: &crier_domain::store::Member, reported: &str) -> Result<(), AppError> {
    use crier_domain::store::members;
    use crier_domain::timezone::TimeZone;
    if let Ok(timezone) = TimeZone::parse(reported) {
        members::set_timezone(&super::ssr::pool()?, member, timezone).await?;
    }
    Ok(())
}

/// The timezone settings: the person's zone and every zone to choose from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimezoneChoice {
    /// The person's zone.
    pub current: String,
    /// Every IANA zone.
    pub all: Vec<String>,
}

/// The person's timezone and the choices.
#[server(prefix = "/api", endpoint = "timezone")]
pub async fn timezone_settings() -> Result<TimezoneChoice, AppError> {
    use crier_domain::timezone::TimeZone;
    let me = super::ssr::current_member().await?;
    Ok(TimezoneChoice { current: me.timezone.name().to_owned(), all: TimeZone::all().map(str::to_owned).collect() })
}

/// Changes the timezone the person sees and enters times in.
#[server(prefix = "/api", endpoint = "set_timezone")]
pub async fn set_timezone(timezone: String) -> Result<String, AppError> {
    use crier_domain::store::members;
    use crier_domain::timezone::TimeZone;

    use super::ssr::{current_member, fail_form, notice_for_next_page, pool};
    let outcome = async {
        let me = current_member().await?;
        let zone = TimeZone::parse(&timezone)?;
        members::set_timezone(&pool()?, &me, zone).await?;
        Ok::<_, AppError>(zone.name().to_owned())
    }
    .await;
    match outcome {
        Ok(name) => {
            notice_for_next_page(SetTimezone::PATH, &format!("Times are now shown in {name}.")).await;
            Ok(name)
        }
        Err(e) => fail_form(SetTimezone::PATH, e, &[("timezone", timezone.as_str())]).await,
    }
}
