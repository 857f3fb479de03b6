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
//!
//! Compose without JavaScript posts its whole form here with its "Upload" button
//! (`return_to=/compose`): what was typed (the text, the accounts ticked, the media already
//! attached…) is kept for the Compose page it returns to, as a refused post's would be, with the
//! new files added to its attachments.

use app::components::form::{FormValues, NOTICE_FIELD};
use app::server::posts::{COMPOSE_KEPT_FIELDS, CreatePost, compose_kept_values};
use app::server::ssr::SESSION_FORM_VALUES_KEY;
use app::state::AppState;
use axum::extract::{Multipart, State};
use axum::http::header::ACCEPT;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use crier_domain::store::audit::Actor;
use crier_domain::store::media::MediaItem;
use futures::TryStreamExt;
use leptos::server_fn::ServerFn;
use serde::Serialize;
use tower_sessions::Session;

use crate::uploads::{self, Incoming};

/// The most files one request may carry.
pub const MAX_FILES: usize = 10;
/// The path the plain form's outcome is kept under (the Media page reads it).
pub const FORM_PATH: &str = "/media/upload";
/// The longest of Compose's fields kept for its refill (as large as its own form may send).
const MAX_COMPOSE_FIELD_BYTES: usize = 64 * 1024;
/// All of Compose's fields kept for its refill, together.
const MAX_COMPOSE_BYTES: usize = 256 * 1024;
/// Where Compose's plain upload returns.
const COMPOSE_PAGE: &str = "/compose";

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
    let member = match super::signed_in_editor(&state, &session, "upload files", "upload media").await {
        Ok(member) => member,
        Err(refused) => return refused,
    };

    let mut alt_text = String::new();
    let mut return_to = String::from("/media");
    let mut answer = Answer { items: Vec::new(), errors: Vec::new() };
    let mut first_status = None;
    let mut files = 0;
    // Compose's typed fields, in the order sent (kept only if the form returns to Compose).
    let mut compose_fields: Vec<(String, String)> = Vec::new();
    let mut compose_bytes = 0;
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
            name if COMPOSE_KEPT_FIELDS.contains(&name) => {
                let name = name.to_owned();
                match read_text_up_to(field, MAX_COMPOSE_FIELD_BYTES).await {
                    Some(text) if compose_bytes + text.len() <= MAX_COMPOSE_BYTES => {
                        compose_bytes += text.len();
                        compose_fields.push((name, text));
                    }
                    _ => {
                        first_status.get_or_insert(StatusCode::PAYLOAD_TOO_LARGE);
                        answer.errors.push(FileError {
                            file_name: String::new(),
                            message: "The post's text is longer than any platform takes: shorten it, then upload.".into(),
                        });
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
    let notice = (!answer.items.is_empty()).then(|| {
        let names: Vec<&str> = answer.items.iter().map(|i| i.file_name.as_str()).collect();
        format!("Uploaded {}.", names.join(", "))
    });
    let error = (!answer.errors.is_empty()).then(|| {
        let words: Vec<String> = answer
            .errors
            .iter()
            .map(|e| if e.file_name.is_empty() { e.message.clone() } else { format!("{}: {}", e.file_name, e.message) })
            .collect();
        words.join(" ")
    });
    let kept = if return_to.split(['?', '#']).next() == Some(COMPOSE_PAGE) {
        compose_refill(compose_fields, &answer.items, notice, error)
    } else {
        let mut values = Vec::new();
        if let Some(notice) = notice {
            values.push((NOTICE_FIELD.to_owned(), notice));
            values.push(("uploaded".to_owned(), answer.items.iter().map(|i| i.id.as_str()).collect::<Vec<_>>().join(",")));
        }
        if let Some(error) = error {
            values.push(("error".to_owned(), error));
        }
        FormValues { path: FORM_PATH.to_owned(), values: values.into_iter().collect() }
    };
    if let Err(error) = session.insert(SESSION_FORM_VALUES_KEY, kept).await {
        tracing::warn!(%error, "could not keep an upload's outcome for the next page");
    }
    Redirect::to(&return_to).into_response()
}

/// What Compose shows when it comes back from its plain upload: what was typed, as a refused
/// post keeps it (under `CreatePost`'s path, which the Compose form refills from), with the new
/// items after the ones already attached (each with its alt text), and what the upload said.
fn compose_refill(mut fields: Vec<(String, String)>, added: &[UploadedJson], notice: Option<String>, error: Option<String>) -> FormValues {
    // Each attached item has its alt text beside it, in order; the new ones take the upload's.
    let attached = fields.iter().filter(|(k, _)| k == "media[]").count();
    let mut alts: Vec<String> = fields.iter().filter(|(k, _)| k == "media_alt[]").map(|(_, v)| v.clone()).collect();
    alts.resize(attached, String::new());
    fields.retain(|(k, _)| k != "media_alt[]");
    for item in added {
        fields.push(("media[]".to_owned(), item.id.clone()));
        alts.push(item.alt_text.clone());
    }
    fields.extend(alts.into_iter().map(|alt| ("media_alt[]".to_owned(), alt)));
    let mut values = compose_kept_values(&fields);
    values.extend(notice.map(|n| ("media_notice".to_owned(), n)));
    values.extend(error.map(|e| ("media_error".to_owned(), e)));
    FormValues { path: CreatePost::PATH.to_owned(), values: values.into_iter().collect() }
}

/// A text field, or `None` when it is longer than `max` bytes (Compose's fields, larger than
/// [`uploads::text_part`] takes).
async fn read_text_up_to(mut field: axum::extract::multipart::Field<'_>, max: usize) -> Option<String> {
    let mut bytes = Vec::new();
    while let Ok(Some(chunk)) = field.chunk().await {
        if bytes.len() + chunk.len() > max {
            return None;
        }
        bytes.extend_from_slice(&chunk);
    }
    Some(String::from_utf8_lossy(&bytes).into_owned())
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
