//! The OAuth redirects: "Connect …" (`/accounts/connect/{platform}`) sends the browser to the
//! platform's consent page; the platform sends it back to `/oauth/{platform}/callback`. Both are
//! page loads behind the sign-in gate, which has put the signed-in member into the request.
//! The work is the accounts service's (`crier_accounts::connect`); this binds each attempt to the
//! browser session that started it and turns the answers into redirects with a message for the
//! Accounts page (`app::server::connections`).

use app::server::connections;
use app::state::AppState;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use crier_accounts::connect::{CallbackParams, Connected};
use crier_domain::store::Member;
use crier_platform::Platform;
use tower_sessions::Session;

fn back_to_accounts() -> Response {
    Redirect::to("/accounts").into_response()
}

/// Where a connect link was made for: the REST API's links name the token's team, so a person
/// signed in to another team does not connect an account there by mistake.
#[derive(serde::Deserialize)]
pub(super) struct ConnectFor {
    team: Option<uuid::Uuid>,
}

/// `GET /accounts/connect/{platform}` (the Connect buttons, and the REST API's `authorize_url`)
pub(super) async fn connect(
    State(state): State<AppState>,
    Extension(member): Extension<Member>,
    session: Session,
    Path(platform): Path<String>,
    Query(link): Query<ConnectFor>,
) -> Response {
    let Ok(platform) = platform.parse::<Platform>() else { return back_to_accounts() };
    if link.team.is_some_and(|team| team != member.team_id) {
        let text = "This connect link was made for another team. Sign in to that team, or use the Connect buttons here.";
        connections::set_flash_on(&session, false, text).await;
        return back_to_accounts();
    }
    let started = match state.accounts.start(&member, platform).await {
        Ok(started) => started,
        Err(problem) => {
            connections::set_flash_on(&session, false, connections::message(problem)).await;
            return back_to_accounts();
        }
    };
    if let Err(e) = connections::remember_start(&session, &started).await {
        connections::set_flash_on(&session, false, e.to_string()).await;
        return back_to_accounts();
    }
    // 303: the browser must GET the consent page.
    Redirect::to(started.url.as_str()).into_response()
}

/// `GET /oauth/{platform}/callback`
pub(super) async fn callback(
    State(state): State<AppState>,
    Extension(member): Extension<Member>,
    session: Session,
    Path(platform): Path<String>,
    Query(params): Query<CallbackParams>,
) -> Response {
    let Ok(platform) = platform.parse::<Platform>() else { return back_to_accounts() };
    let started_here = connections::started_in(&session).await;
    match state.accounts.callback(&member, platform, params, &started_here).await {
        Ok(Connected::Choose(connection_id)) => Redirect::to(&format!("/accounts/choose/{connection_id}")).into_response(),
        Ok(Connected::Account(account)) => {
            connections::set_flash_on(&session, true, format!("Connected {} account {}.", platform.label(), account.name)).await;
            back_to_accounts()
        }
        Err(problem) => {
            if let crier_accounts::AccountsError::Platform(e) = &problem {
                tracing::warn!(error = %e, %platform, "connecting an account failed at the platform");
            }
            connections::set_flash_on(&session, false, connections::message(problem)).await;
            back_to_accounts()
        }
    }
}
