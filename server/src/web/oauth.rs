//! The OAuth redirects: "Connect …" (`/accounts/connect/{platform}`) sends the browser to the
//! platform's consent page; the platform sends it back to `/oauth/{platform}/callback`. Both are
//! page loads behind the sign-in gate, which has put the signed-in member into the request.
//! The work is in `app::server::connections`; this only turns its answers into redirects.

use app::server::connections::{self, CallbackNext, CallbackParams};
use app::state::AppState;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use crier_domain::account::Platform;
use crier_domain::store::Member;
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
    match connections::start(&state, &session, &member, platform).await {
        // 303: the browser must GET the consent page.
        Ok(url) => Redirect::to(url.as_str()).into_response(),
        Err(problem) => {
            connections::set_flash_on(&session, false, problem.message()).await;
            back_to_accounts()
        }
    }
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
    match connections::callback(&state, &session, &member, platform, params).await {
        Ok(CallbackNext::Choose(connection_id)) => Redirect::to(&format!("/accounts/choose/{connection_id}")).into_response(),
        Ok(CallbackNext::Accounts(flash)) => {
            connections::set_flash_on(&session, flash.ok, flash.text).await;
            back_to_accounts()
        }
        Err(problem) => {
            if let connections::ConnectProblem::Platform(e) = &problem {
                tracing::warn!(error = %e, %platform, "connecting an account failed at the platform");
            }
            connections::set_flash_on(&session, false, problem.message()).await;
            back_to_accounts()
        }
    }
}
