//! `GET /accounts/{id}/picture`: an account's profile picture as Crier stored it, to signed-in
//! members of the account's team (another team's account, or none, is 404 alike). The answer's
//! headers are [`crate::media_bytes::account_picture`]'s, shared with the REST API.

use app::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use crier_domain::DomainError;
use crier_domain::store::account_pictures;
use tower_sessions::Session;
use uuid::Uuid;

use super::media_files::team_of;

pub(super) async fn picture(State(state): State<AppState>, session: Session, Path(id): Path<String>) -> Response {
    let team_id = match team_of(&session, &state).await {
        Ok(team) => team,
        Err(answer) => return answer,
    };
    let Ok(account_id) = Uuid::parse_str(&id) else {
        return (StatusCode::NOT_FOUND, "No such picture.").into_response();
    };
    match account_pictures::get(&state.pool, team_id, account_id).await {
        Ok(stored) => crate::media_bytes::account_picture(stored),
        Err(DomainError::NotFound) => (StatusCode::NOT_FOUND, "No such picture.").into_response(),
        Err(error) => {
            tracing::error!(%error, "reading an account picture failed");
            (StatusCode::SERVICE_UNAVAILABLE, "Crier cannot reach its database right now. Please try again in a moment.").into_response()
        }
    }
}
