//! `POST /api/v1/posts/import`: a CSV file of posts, imported as the Import page imports it
//! ([`crier_domain::store::imports`]): every row or none, each row once however often the file is
//! sent.

use axum::Json;
use axum::body::Body;
use axum::extract::{FromRequest, Request, State};
use axum::http::header::CONTENT_TYPE;
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Caller;
use super::problem::{ApiError, Forbidden, ImportRefused, Internal, Malformed, RateLimited, TooLarge, Unauthenticated};
use super::{ApiQuery, ApiState};
use crier_domain::import::ImportLimits;
use crier_domain::store::imports::{self, ImportReport, Importer, Progress};

/// Where the file's local dates and times are.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// The IANA timezone the `date` and `time` columns are in (default UTC), e.g. `Europe/Paris`.
    pub timezone: Option<String>,
}

/// What an import did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportJson {
    /// The rows of posts in the file (blank rows aside).
    pub rows: usize,
    /// Posts scheduled by this request.
    pub imported: usize,
    /// Rows imported before (by an earlier request, or repeated in the file): skipped.
    pub already_imported: usize,
    /// What happened, in a sentence.
    pub summary: String,
}

/// The multipart form of an import (for the document; the handler reads the parts as they come).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ImportForm {
    /// The CSV file.
    #[schema(value_type = String, content_media_type = "text/csv")]
    file: Vec<u8>,
}

/// Import posts from a CSV file.
///
/// The body is the file (`Content-Type: text/csv`), or `multipart/form-data` with the file in the
/// part `file`. Columns (a header row is required, in any order): `text`, `text_x`,
/// `text_linkedin`, `text_facebook`, `accounts` (names, `;`-separated; `x:Name` picks a platform,
/// `@handle` an X account), `date` (`YYYY-MM-DD`, or `queue`: each account's next free posting time) and `time`
/// (`HH:MM`) in `timezone`, `link`, `thread` (replies separated by a line holding only `---`),
/// `media` (library item names or ids, `;`-separated). UTF-8 with or without a BOM, LF or CRLF,
/// quoted fields may hold newlines. The template is served at `/compose/import/template.csv`.
///
/// Every row is checked first (texts against each platform's limit, accounts, a time to come,
/// media, the team's approval rules for the token's role); if any is wrong nothing is written and
/// the 422 lists each row and column to fix. Otherwise all rows are scheduled in one transaction.
/// Each row is keyed by its content, accounts and time: sending the same file again imports
/// nothing new and says how many rows were already imported.
#[utoipa::path(post, path = "/api/v1/posts/import", tag = "posts", operation_id = "import_posts", params(ImportQuery),
    request_body(content((String = "text/csv"), (inline(ImportForm) = "multipart/form-data"))),
    responses((status = 200, description = "Imported (or nothing new to import): the counts", body = ImportJson),
              Malformed, Unauthenticated, Forbidden, TooLarge, ImportRefused, RateLimited, Internal),
    security(("bearer" = [])))]
pub async fn import(
    State(state): State<ApiState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<ImportQuery>,
    request: Request,
) -> Result<Json<ImportJson>, ApiError> {
    caller.require_editor()?;
    let timezone = super::posts::zone(query.timezone.as_deref())?;
    let bytes = file(request, state.import, &state).await?;
    let importer = Importer {
        team_id: caller.team_id(),
        actor: caller.actor(),
        timezone,
        limits: state.import,
        rules: &state.media.rules,
        progress: &Progress::default(),
    };
    let fetcher = crate::media_fetch::UrlMedia::new(
        &state.media,
        &state.pool,
        caller.team_id(),
        caller.actor(),
        state.outbound.clone(),
        state.outbound_allow_http,
    );
    let imported = imports::import(&state.pool, importer, &bytes, Some(&fetcher)).await;
    if !imported.as_ref().is_ok_and(|r| r.is_imported()) {
        fetcher.take_back().await;
    }
    answer(imported?)
}

fn answer(report: ImportReport) -> Result<Json<ImportJson>, ApiError> {
    let summary = report.summary();
    if !report.is_imported() {
        return Err(ApiError::Rows(summary, report.problems));
    }
    Ok(Json(ImportJson { rows: report.rows, imported: report.imported, already_imported: report.already_imported, summary }))
}

fn too_large(limits: ImportLimits) -> ApiError {
    ApiError::TooLarge(format!(
        "This file is larger than an import accepts ({} bytes, CRIER_IMPORT_MAX_FILE_SIZE). Split it into smaller files.",
        limits.max_bytes
    ))
}

/// The file: the body itself, or a multipart body's `file` part; read up to the size limit.
async fn file(request: Request, limits: ImportLimits, state: &ApiState) -> Result<Vec<u8>, ApiError> {
    let content_type = request.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        let mut multipart = axum::extract::Multipart::from_request(request, state).await?;
        loop {
            match multipart.next_field().await {
                Ok(Some(field)) if field.name() == Some("file") => {
                    return read_limited(field.map_err(|e| e.body_text()), limits).await;
                }
                Ok(Some(_)) => continue,
                Ok(None) => return Err(ApiError::Malformed("send the CSV file in the multipart part `file`".into())),
                Err(e) => return Err(ApiError::Malformed(e.body_text())),
            }
        }
    }
    if !content_type.is_empty() && !content_type.starts_with("text/") && !content_type.starts_with("application/octet-stream") {
        return Err(ApiError::Malformed(
            "send the CSV file as the body with `Content-Type: text/csv`, or as the part `file` of multipart/form-data".into(),
        ));
    }
    let body: Body = request.into_body();
    read_limited(body.into_data_stream().map_err(|e| e.to_string()), limits).await
}

/// Reads a stream of chunks, refusing it once it passes the limit.
pub(crate) async fn read_limited<S, B>(mut stream: S, limits: ImportLimits) -> Result<Vec<u8>, ApiError>
where
    S: futures::Stream<Item = Result<B, String>> + Unpin,
    B: AsRef<[u8]>,
{
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.try_next().await.map_err(|e| ApiError::Malformed(format!("the body could not be read ({e})")))? {
        bytes.extend_from_slice(chunk.as_ref());
        if bytes.len() as u64 > limits.max_bytes {
            return Err(too_large(limits));
        }
    }
    Ok(bytes)
}
