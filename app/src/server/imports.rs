//! The Import page's data: the last import's report (kept in the session by the plain form's
//! route, `POST /compose/import`, and shown once), the viewer's timezone and the limits.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::errors::AppError;

/// Session key of the last import's report, shown once on the Import page.
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
    /// The last import's outcome, once.
    pub outcome: Option<ImportOutcome>,
}

/// The Import page's data; the last import's report is taken out of the session (shown once).
#[server(prefix = "/api", endpoint = "compose/import/view")]
pub async fn import_view() -> Result<ImportPageData, AppError> {
    use super::ssr::{current_member, session, state};
    let me = current_member().await?;
    let limits = state()?.import;
    let session = session().await?;
    let outcome = session.remove::<ImportOutcome>(SESSION_IMPORT_REPORT_KEY).await.ok().flatten();
    Ok(ImportPageData {
        timezone: me.timezone.name().to_owned(),
        max_rows: limits.max_rows,
        max_file: crier_media::ByteSize(limits.max_bytes).to_string(),
        can_import: me.role.can_edit(),
        outcome,
    })
}
