//! `POST /compose/import`: the Import page's plain form (`multipart/form-data`, the file in the
//! part `file`). The file is read up to CRIER_IMPORT_MAX_FILE_SIZE, imported as the signed-in
//! member (their role for the team's approval rules, their timezone for the file's times), and the
//! report is kept in the session for the page the browser is sent back to (`/compose/import`),
//! which shows it once. `GET /compose/import/template.csv` is the template.

use std::time::Instant;

use app::server::imports::{ImportOutcome, ImportProblem, SESSION_IMPORT_REPORT_KEY};
use app::state::AppState;
use axum::extract::{Multipart, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Redirect, Response};
use crier_domain::import::TEMPLATE;
use crier_domain::store::audit::Actor;
use crier_domain::store::imports::{self, Importer};
use futures::TryStreamExt;
use tower_sessions::Session;

use crate::api::imports::read_limited;

/// Where the form comes back to.
const PAGE: &str = "/compose/import";

/// The template: a header row and two example posts.
pub(super) async fn template() -> Response {
    (
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8"),
            (CONTENT_DISPOSITION, "attachment; filename=\"crier-import-template.csv\""),
            (CACHE_CONTROL, "no-cache"),
        ],
        TEMPLATE,
    )
        .into_response()
}

pub(super) async fn upload(State(state): State<AppState>, session: Session, mut multipart: Multipart) -> Response {
    let member = match super::signed_in_editor(&state, &session, "import posts", "import posts").await {
        Ok(member) => member,
        Err(refused) => return refused,
    };
    let started = Instant::now();
    let refused = |file_name: String, message: String| ImportOutcome {
        file_name,
        imported: false,
        summary: message,
        problems: Vec::new(),
        more_problems: 0,
        millis: 0,
    };
    let outcome = loop {
        match multipart.next_field().await {
            Ok(Some(field)) if field.name() == Some("file") => {
                let file_name: String = field.file_name().unwrap_or_default().chars().take(200).collect();
                let bytes = match read_limited(field.map_err(|e| e.body_text()), state.import).await {
                    Ok(bytes) => bytes,
                    Err(_) => {
                        break refused(
                            file_name,
                            format!(
                                "Nothing was imported: the file is larger than an import accepts ({}). Split it into smaller files.",
                                crier_media::ByteSize(state.import.max_bytes)
                            ),
                        );
                    }
                };
                let importer = Importer {
                    team_id: member.team_id,
                    actor: Actor::User(member.user_id),
                    timezone: member.timezone,
                    limits: state.import,
                    rules: &state.media.rules,
                };
                let fetcher = crate::media_fetch::UrlMedia::new(
                    &state.media,
                    &state.pool,
                    member.team_id,
                    Actor::User(member.user_id),
                    state.outbound.clone(),
                    state.webhooks_allow_http,
                );
                let imported = imports::import(&state.pool, importer, &bytes, Some(&fetcher)).await;
                if !imported.as_ref().is_ok_and(|r| r.is_imported()) {
                    fetcher.take_back().await;
                }
                match imported {
                    Ok(report) => {
                        break ImportOutcome {
                            file_name,
                            imported: report.is_imported(),
                            summary: report.summary(),
                            problems: report
                                .problems
                                .into_iter()
                                .map(|p| ImportProblem { row: p.row, column: p.column, message: p.message })
                                .collect(),
                            more_problems: report.more_problems,
                            millis: started.elapsed().as_millis() as u64,
                        };
                    }
                    Err(error) => {
                        tracing::error!(%error, "a CSV import failed");
                        break refused(
                            file_name,
                            "Nothing was imported: something went wrong on our side. Please try again in a moment.".into(),
                        );
                    }
                }
            }
            Ok(Some(_)) => continue,
            Ok(None) => break refused(String::new(), "Choose a CSV file to import.".into()),
            Err(error) => break refused(String::new(), format!("The upload could not be read ({}). Try again.", error.body_text())),
        }
    };
    if let Err(error) = session.insert(SESSION_IMPORT_REPORT_KEY, &outcome).await {
        tracing::warn!(%error, "could not keep the import's report for the next page");
    }
    Redirect::to(PAGE).into_response()
}
