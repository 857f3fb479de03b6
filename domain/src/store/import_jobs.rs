//! CSV imports the Import page started, followed through their `import_job` row: the page's
//! worker creates it, records the import's [`Progress`] in it as the import runs (outside the
//! import's transaction: a second connection, so the page sees it), and finally the report. Rows
//! are the team's and the member's who started them: nobody else reads them.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::imports::{ImportReport, Progress, Stage};
use crate::DomainError;

/// How often a running import's row is written; a row older than [`STOPPED_AFTER`] belongs to an
/// import whose process ended.
pub const WRITE_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// How long a running import's row may go unwritten before the import is taken for stopped.
pub const STOPPED_AFTER: chrono::TimeDelta = chrono::TimeDelta::seconds(30);

/// How long a finished import's report is kept.
const KEPT_FOR: chrono::TimeDelta = chrono::TimeDelta::days(7);

/// An import as the page shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportJob {
    /// The file's name, as the browser sent it.
    pub file_name: String,
    /// Where it is.
    pub state: JobState,
}

/// Where an import is.
#[derive(Clone, Debug, PartialEq)]
pub enum JobState {
    /// Running: its stage, and the stage's items done and in all.
    Running { stage: Stage, done: usize, of: usize },
    /// Its process ended before it finished (a restart): its transaction was rolled back, unless
    /// it had just committed.
    Stopped,
    /// Finished with this report, in this many milliseconds.
    Finished { report: ImportReport, millis: u64 },
    /// It could not run (the database failed), in words for the page.
    Failed(String),
}

/// A new import of `file_name` by the member, waiting to run. Finished imports older than a week
/// are pruned here.
pub async fn create(pool: &PgPool, team_id: Uuid, user_id: Uuid, file_name: &str) -> Result<Uuid, DomainError> {
    let job_id = Uuid::new_v4();
    let file_name: String = file_name.chars().take(200).collect();
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "delete from import_job where team_id = $1 and coalesce(finished_at, updated_at) < now() - make_interval(secs => $2)",
        team_id,
        KEPT_FOR.as_seconds_f64()
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "insert into import_job (job_id, team_id, user_id, file_name) values ($1, $2, $3, $4)",
        job_id,
        team_id,
        user_id,
        file_name
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(job_id)
}

/// Writes how far the import has come (nothing, once it has finished).
pub async fn record(pool: &PgPool, job_id: Uuid, progress: &Progress) -> Result<(), DomainError> {
    let (stage, done, of) = progress.snapshot();
    sqlx::query!(
        "update import_job set stage = $2, done = $3, total = $4, updated_at = now()
         where job_id = $1 and finished_at is null",
        job_id,
        stage.as_str(),
        i32::try_from(done).unwrap_or(i32::MAX),
        i32::try_from(of).unwrap_or(i32::MAX)
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Records how the import ended: its report, or why it could not run.
pub async fn finish(pool: &PgPool, job_id: Uuid, ended: Result<&ImportReport, &str>) -> Result<(), DomainError> {
    let (report, failure) = match ended {
        Ok(report) => (Some(serde_json::to_value(report).map_err(|e| DomainError::Internal(e.to_string()))?), None),
        Err(failure) => (None, Some(failure)),
    };
    sqlx::query!(
        "update import_job set stage = 'finished', done = 0, total = 0, report = $2, failure = $3,
                updated_at = now(), finished_at = now()
         where job_id = $1 and finished_at is null",
        job_id,
        report,
        failure
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// The member's import `job_id` in the team, if it is theirs.
pub async fn get(pool: &PgPool, team_id: Uuid, user_id: Uuid, job_id: Uuid) -> Result<Option<ImportJob>, DomainError> {
    let row = sqlx::query!(
        r#"select file_name, stage, done, total, report, failure, started_at, updated_at, finished_at
           from import_job where job_id = $1 and team_id = $2 and user_id = $3"#,
        job_id,
        team_id,
        user_id
    )
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let state = match (row.finished_at, row.report, row.failure) {
        (Some(finished_at), Some(report), _) => JobState::Finished {
            report: serde_json::from_value(report).map_err(|e| DomainError::Internal(format!("an import's report: {e}")))?,
            millis: millis(row.started_at, finished_at),
        },
        (Some(_), None, failure) => JobState::Failed(failure.unwrap_or_default()),
        (None, ..) if Utc::now() - row.updated_at > STOPPED_AFTER => JobState::Stopped,
        (None, ..) => JobState::Running {
            stage: Stage::parse(&row.stage).unwrap_or(Stage::Waiting),
            done: usize::try_from(row.done).unwrap_or(0),
            of: usize::try_from(row.total).unwrap_or(0),
        },
    };
    Ok(Some(ImportJob { file_name: row.file_name, state }))
}

fn millis(from: DateTime<Utc>, to: DateTime<Utc>) -> u64 {
    u64::try_from((to - from).num_milliseconds()).unwrap_or(0)
}
