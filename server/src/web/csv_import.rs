//! `POST /compose/import`: the Import page's plain form (`multipart/form-data`, the file in the
//! part `file`). The file is read up to CRIER_IMPORT_MAX_FILE_SIZE and imported in the background
//! as the signed-in member (their role for the team's approval rules, their timezone for the
//! file's times), followed through an `import_job` row
//! ([`crier_domain::store::import_jobs`]): the browser is sent to `/compose/import?job=ID`, which
//! shows the import's progress (refreshing itself, no JavaScript needed) and then its report. A
//! small file is usually done before the answer goes back, so its report shows at once.
//!
//! A file that cannot be read (none chosen, too large, a broken upload) never becomes an import:
//! its refusal is kept in the session for the page, which shows it once.
//! `GET /compose/import/template.csv` is the template.

use std::sync::Arc;
use std::time::Duration;

use app::server::imports::{ImportOutcome, SESSION_IMPORT_REPORT_KEY};
use app::state::AppState;
use axum::extract::{Multipart, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Redirect, Response};
use crier_domain::import::TEMPLATE;
use crier_domain::outage::Outage;
use crier_domain::store::Member;
use crier_domain::store::audit::Actor;
use crier_domain::store::import_jobs;
use crier_domain::store::imports::{self, Importer, Progress};
use futures::TryStreamExt;
use tokio::sync::Semaphore;
use tower_sessions::Session;
use uuid::Uuid;

use crate::api::imports::read_limited;

/// Where the form comes back to.
const PAGE: &str = "/compose/import";

/// Imports the pages run at once in this process; the others wait their turn (each holds a
/// database connection for its transaction, and may be fetching media).
static RUNNING: Semaphore = Semaphore::const_new(2);

const SOMETHING_WENT_WRONG: &str = "Nothing was imported: something went wrong on our side. Please try again in a moment.";

/// How long the form's answer waits for an import to finish, so a small file's report shows at
/// once instead of a progress page.
const WAIT_FOR_SMALL: Duration = Duration::from_millis(1500);

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
    let refused = loop {
        match multipart.next_field().await {
            Ok(Some(field)) if field.name() == Some("file") => {
                let file_name: String = field.file_name().unwrap_or_default().chars().take(200).collect();
                let Ok(bytes) = read_limited(field.map_err(|e| e.body_text()), state.import).await else {
                    break ImportOutcome::refused(
                        file_name,
                        &format!(
                            "Nothing was imported: the file is larger than an import accepts ({}). Split it into smaller files.",
                            crier_media::ByteSize(state.import.max_bytes)
                        ),
                    );
                };
                let job_id = match import_jobs::create(&state.pool, member.team_id, member.user_id, &file_name).await {
                    Ok(job_id) => job_id,
                    Err(error) => {
                        tracing::error!(%error, "a CSV import could not start");
                        break ImportOutcome::refused(file_name, SOMETHING_WENT_WRONG);
                    }
                };
                let task = tokio::spawn(run(state.clone(), member, job_id, bytes));
                // The task goes on if this gives up waiting: the page follows it.
                let _ = tokio::time::timeout(WAIT_FOR_SMALL, task).await;
                return Redirect::to(&format!("{PAGE}?job={job_id}")).into_response();
            }
            Ok(Some(_)) => continue,
            Ok(None) => break ImportOutcome::refused(String::new(), "Choose a CSV file to import."),
            Err(error) => {
                break ImportOutcome::refused(String::new(), &format!("The upload could not be read ({}). Try again.", error.body_text()));
            }
        }
    };
    if let Err(error) = session.insert(SESSION_IMPORT_REPORT_KEY, &refused).await {
        tracing::warn!(%error, "could not keep the import's refusal for the next page");
    }
    Redirect::to(PAGE).into_response()
}

/// Runs one import, writing its progress to its row twice a second and its report at the end.
async fn run(state: AppState, member: Member, job_id: Uuid, bytes: Vec<u8>) {
    let progress = Arc::new(Progress::default());
    let writer = tokio::spawn(write_progress(state.pool.clone(), job_id, progress.clone()));
    let imported = {
        let _turn = RUNNING.acquire().await;
        let importer = Importer {
            team_id: member.team_id,
            actor: Actor::User(member.user_id),
            timezone: member.timezone,
            limits: state.import,
            rules: &state.media.rules,
            progress: &progress,
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
        imported
    };
    writer.abort();
    let ended = match &imported {
        Ok(report) => Ok(report),
        Err(error) => {
            tracing::error!(%error, "a CSV import failed");
            Err(SOMETHING_WENT_WRONG)
        }
    };
    if let Err(error) = import_jobs::finish(&state.pool, job_id, ended).await {
        tracing::error!(%error, %job_id, "a CSV import's report could not be kept");
    }
}

/// Writes the import's progress to its row every [`import_jobs::WRITE_EVERY`] until aborted; the
/// writes also tell the page the import is alive. While the database does not answer, it backs
/// off and logs the outage once, not every tick.
async fn write_progress(pool: sqlx::PgPool, job_id: Uuid, progress: Arc<Progress>) {
    let mut writing = Outage::new("recording a CSV import's progress");
    loop {
        let wait = match import_jobs::record(&pool, job_id, &progress).await {
            Ok(()) => {
                writing.ok();
                import_jobs::WRITE_EVERY
            }
            Err(error) => writing.failed(&error),
        };
        tokio::time::sleep(wait).await;
    }
}
