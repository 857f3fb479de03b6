//! `POST /media/upload`: files from the pages, as `multipart/form-data` (one or more `file` fields;
//! an `alt_text` field applies to the files after it). The Compose page sends one file per request
//! from a script and shows its progress; the Media page's plain form works without JavaScript.
//!
//! The body is not read into memory: each file streams through [`crate::uploads::receive`]. A
//! request may carry at most [`MAX_FILES`] files, each at most CRIER_MEDIA_MAX_FILE_SIZE.
//!
//! Answers: JSON for a script (`Accept: application/json`): `{"items": [...], "errors": [...]}`,
//! with the status of the first error when nothing was added; a plain form post is sent back to
//! the page named by `return_to` (default `/media`) with what happened shown there.

use app::components::form::{FormValues, NOTICE_FIELD};
use app::server::ssr::{SESSION_FORM_VALUES_KEY, member_from_session};
use app::state::AppState;
use axum::extract::{Multipart, State};
use axum::http::header::ACCEPT;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use crier_domain::store::audit::Actor;
use crier_domain::store::media::MediaItem;
use futures::TryStreamExt;
use serde::Serialize;
use tower_sessions::Session;

use crate::uploads::{self, Incoming};

/// The most files one request may carry.
pub const MAX_FILES: usize = 10;
/// The path the plain form's outcome is kept under (the Media page reads it).
pub const FORM_PATH: &str = "/media/upload";

/// An added item as the page's script reads it.
#[derive(Serialize)]
pub struct UploadedJson {
    /// Its id.
    pub id: String,
    /// image, gif, video, document.
    pub kind: &'static str,
    /// The name shown.
    pub file_name: String,
    /// Its facts, for the per-platform checks in the browser.
    pub facts: crier_media::MediaFacts,
    /// Its alt text.
    pub alt_text: String,
    /// Its thumbnail's URL, if it has one.
    pub thumbnail_url: Option<String>,
}

impl From<&MediaItem> for UploadedJson {
    fn from(item: &MediaItem) -> Self {
        UploadedJson {
            id: item.media_id.to_string(),
            kind: item.kind().as_str(),
            file_name: item.file_name.clone(),
            facts: item.facts.clone(),
            alt_text: item.alt_text.clone(),
            thumbnail_url: item.has_thumbnail.then(|| format!("/media/{}/thumbnail", item.media_id)),
        }
    }
}

#[derive(Serialize)]
struct FileError {
    file_name: String,
    message: String,
}

#[derive(Serialize)]
struct Answer {
    items: Vec<UploadedJson>,
    errors: Vec<FileError>,
}

/// A page a plain form may return to: one of ours, nothing else.
fn return_path(raw: &str) -> &str {
    let ok = raw.starts_with('/') && !raw.starts_with("//") && !raw.contains('\\') && raw.len() <= 512;
    if ok { raw } else { "/media" }
}

pub(super) async fn upload(State(state): State<AppState>, session: Session, headers: HeaderMap, mut multipart: Multipart) -> Response {
    let wants_json = headers.get(ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("application/json"));
    let member = match member_from_session(&session, &state.pool).await {
        Ok(Some(member)) => member,
        Ok(None) => return (StatusCode::UNAUTHORIZED, "Sign in to upload files.").into_response(),
        Err(_) => {
            return (StatusCode::SERVICE_UNAVAILABLE, "Crier cannot reach its database right now. Please try again in a moment.")
                .into_response();
        }
    };
    if !member.role.can_edit() {
        return (StatusCode::FORBIDDEN, "Viewers cannot upload media. Ask an owner or admin for the editor role.").into_response();
    }

    let mut alt_text = String::new();
    let mut return_to = String::from("/media");
    let mut answer = Answer { items: Vec::new(), errors: Vec::new() };
    let mut first_status = None;
    let mut files = 0;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(error) => {
                first_status.get_or_insert(StatusCode::BAD_REQUEST);
                answer
                    .errors
                    .push(FileError { file_name: String::new(), message: format!("The upload could not be read ({error}). Try again.") });
                break;
            }
        };
        match field.name().unwrap_or_default() {
            "file" => {
                let file_name = field.file_name().unwrap_or_default().to_owned();
                // A plain form with no file chosen still sends an empty part.
                if file_name.is_empty() {
                    continue;
                }
                files += 1;
                if files > MAX_FILES {
                    first_status.get_or_insert(StatusCode::PAYLOAD_TOO_LARGE);
                    answer
                        .errors
                        .push(FileError { file_name, message: format!("At most {MAX_FILES} files at once: upload the rest next.") });
                    break;
                }
                let incoming = Incoming { file_name: &file_name, alt_text: &alt_text };
                let body = field.map_err(|e| e.to_string());
                match uploads::receive(&state.media, &state.pool, member.team_id, Actor::User(member.user_id), incoming, Box::pin(body))
                    .await
                {
                    Ok(item) => answer.items.push(UploadedJson::from(&item)),
                    Err(error) => {
                        first_status.get_or_insert(error.status());
                        answer.errors.push(FileError { file_name, message: error.to_string() });
                    }
                }
            }
            name @ ("alt_text" | "return_to") => {
                let name = name.to_owned();
                match uploads::text_part(field).await {
                    Some(text) if name == "alt_text" => alt_text = text,
                    Some(text) => return_to = return_path(&text).to_owned(),
                    None => {
                        first_status.get_or_insert(StatusCode::PAYLOAD_TOO_LARGE);
                        answer.errors.push(FileError { file_name: String::new(), message: format!("The {name} field is too long.") });
                        break;
                    }
                }
            }
            // Other fields (a form key, a button's name) are not for this handler.
            _ => {
                if uploads::text_part(field).await.is_none() {
                    break;
                }
            }
        }
    }
    if answer.items.is_empty() && answer.errors.is_empty() {
        first_status = Some(StatusCode::UNPROCESSABLE_ENTITY);
        answer.errors.push(FileError { file_name: String::new(), message: "Choose a file to upload.".into() });
    }

    if wants_json {
        let status = if answer.items.is_empty() { first_status.unwrap_or(StatusCode::UNPROCESSABLE_ENTITY) } else { StatusCode::OK };
        return (status, axum::Json(answer)).into_response();
    }
    // A plain form: back to the page, which shows what happened.
    let mut values = Vec::new();
    if !answer.items.is_empty() {
        let names: Vec<&str> = answer.items.iter().map(|i| i.file_name.as_str()).collect();
        values.push((NOTICE_FIELD.to_owned(), format!("Uploaded {}.", names.join(", "))));
        values.push(("uploaded".to_owned(), answer.items.iter().map(|i| i.id.as_str()).collect::<Vec<_>>().join(",")));
    }
    if !answer.errors.is_empty() {
        let words: Vec<String> = answer
            .errors
            .iter()
            .map(|e| if e.file_name.is_empty() { e.message.clone() } else { format!("{}: {}", e.file_name, e.message) })
            .collect();
        values.push(("error".to_owned(), words.join(" ")));
    }
    let kept = FormValues { path: FORM_PATH.to_owned(), values: values.into_iter().collect() };
    if let Err(error) = session.insert(SESSION_FORM_VALUES_KEY, kept).await {
        tracing::warn!(%error, "could not keep an upload's outcome for the next page");
    }
    Redirect::to(&return_to).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_form_returns_only_to_our_own_pages() {
        assert_eq!(return_path("/compose"), "/compose");
        assert_eq!(return_path("//evil.example/x"), "/media");
        assert_eq!(return_path("https://evil.example"), "/media");
        assert_eq!(return_path("/\\evil.example"), "/media");
    }
}
