//! The Import page's data: the import the page follows (`?job=ID`, started by the plain form's
//! route, `POST /compose/import`): its progress while it runs, then its report; or a file the
//! route refused to read (kept in the session, shown once); the viewer's timezone and the limits.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::errors::AppError;

/// Session key of a file the form refused to read, shown once on the Import page.
pub const SESSION_IMPORT_REPORT_KEY: &str = "import_report";

/// One thing to fix in a file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportProblem {
    /// The row as a spreadsheet numbers it (the header is 1); `None`: the whole file.
    pub row: Option<usize>,
    /// The column, when one is to blame.
    pub column: Option<String>,
    /// What to fix.
    pub message: String,
}

/// What the last import did, as the page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportOutcome {
    /// The file's name, as the browser sent it.
    pub file_name: String,
    /// Whether it was imported.
    pub imported: bool,
    /// What happened, in a sentence.
    pub summary: String,
    /// What to fix (nothing was written if any).
    pub problems: Vec<ImportProblem>,
    /// Problems beyond those listed.
    pub more_problems: usize,
    /// How long the import took, in milliseconds.
    pub millis: u64,
}

/// An import still running, as the page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRunning {
    /// The file's name.
    pub file_name: String,
    /// What it is doing, in words.
    pub doing: String,
    /// The stage's items done, and in all (0 of 0: nothing to count).
    pub done: usize,
    /// The stage's items.
    pub of: usize,
}

/// What the Import page needs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImportPageData {
    /// The zone the file's dates and times are read in (the viewer's).
    pub timezone: String,
    /// The most rows a file may hold.
    pub max_rows: usize,
    /// The largest file, in words.
    pub max_file: String,
    /// Whether the viewer may import (editors and up).
    pub can_import: bool,
    /// The outcome of the import followed (or of a file refused), when there is one.
    pub outcome: Option<ImportOutcome>,
    /// The import followed, while it runs (the page refreshes itself).
    pub running: Option<ImportRunning>,
}

/// The Import page's data: the viewer's import `job` (another member's, or another team's, is
/// not found), or a refused file's outcome taken out of the session (shown once).
#[server(prefix = "/api", endpoint = "compose/import/view")]
pub async fn import_view(job: Option<String>) -> Result<ImportPageData, AppError> {
    use super::ssr::{current_member, session, state};
    use crier_domain::store::import_jobs::{self, JobState};
    let me = current_member().await?;
    let state = state()?;
    let limits = state.import;
    let (mut outcome, mut running) = (None, None);
    if let Some(job) = job {
        let found = match uuid::Uuid::parse_str(&job) {
            Ok(job_id) => import_jobs::get(&state.pool, me.team_id, me.user_id, job_id).await?,
            Err(_) => None,
        };
        let Some(found) = found else {
            return Ok(ImportPageData {
                outcome: Some(ImportOutcome::refused(
                    String::new(),
                    "There is no report of this import to show: reports are kept for a week, and only to the member who imported.",
                )),
                ..page(&me, limits)
            });
        };
        let file_name = found.file_name;
        match found.state {
            JobState::Running { stage, done, of } => running = Some(ImportRunning { file_name, doing: doing(stage).to_owned(), done, of }),
            JobState::Finished { report, millis } => {
                outcome = Some(ImportOutcome {
                    file_name,
                    imported: report.is_imported(),
                    summary: report.summary(),
                    problems: report
                        .problems
                        .into_iter()
                        .map(|p| ImportProblem { row: p.row, column: p.column, message: p.message })
                        .collect(),
                    more_problems: report.more_problems,
                    millis,
                })
            }
            JobState::Stopped => {
                outcome = Some(ImportOutcome::refused(
                    file_name,
                    "This import stopped before it finished: Crier restarted. Import the file again: any rows it had imported \
                     are recognised and skipped.",
                ))
            }
            JobState::Failed(failure) => outcome = Some(ImportOutcome::refused(file_name, &failure)),
        }
    } else {
        outcome = session().await?.remove::<ImportOutcome>(SESSION_IMPORT_REPORT_KEY).await.ok().flatten();
    }
    Ok(ImportPageData { outcome, running, ..page(&me, limits) })
}

/// The page with nothing to report.
#[cfg(feature = "ssr")]
fn page(me: &crier_domain::store::Member, limits: crier_domain::import::ImportLimits) -> ImportPageData {
    ImportPageData {
        timezone: me.timezone.name().to_owned(),
        max_rows: limits.max_rows,
        max_file: crier_media::ByteSize(limits.max_bytes).to_string(),
        can_import: me.role.can_edit(),
        outcome: None,
        running: None,
    }
}

impl ImportOutcome {
    /// A file that was not imported, for a reason that is not its rows.
    pub fn refused(file_name: String, summary: &str) -> Self {
        ImportOutcome { file_name, imported: false, summary: summary.to_owned(), problems: Vec::new(), more_problems: 0, millis: 0 }
    }
}

/// A running import's stage, in words.
#[cfg(feature = "ssr")]
fn doing(stage: crier_domain::store::imports::Stage) -> &'static str {
    use crier_domain::store::imports::Stage;
    match stage {
        Stage::Waiting => "Waiting for other imports to finish",
        Stage::Checking => "Checking the rows",
        Stage::Fetching => "Fetching media",
        Stage::Scheduling => "Scheduling the posts",
    }
}
