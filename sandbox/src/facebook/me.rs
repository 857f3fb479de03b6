//! The person behind a user token: `GET /me` (with a Page token, the Page) and
//! `DELETE /me/permissions` (de-authorizing the app).

use std::collections::HashMap;

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;

use super::errors::{not_found, not_on_a_page, oauth_exception, with_headers};
use super::front_door::enter;
use super::pages::select;
use super::state::Kind;
use crate::Inner;
use crate::util;

pub(super) async fn me(inner: &Inner, version: &str, headers: &HeaderMap, params: &HashMap<String, String>) -> Response {
    let (token, usage) = match enter(inner, version, headers, params, true).await {
        Ok(entered) => entered,
        Err(response) => return response,
    };
    let state = inner.lock();
    let fields = params.get("fields").map(String::as_str).unwrap_or("id,name");
    let body = match &token.kind {
        Kind::User { .. } => {
            let Some(user) = state.facebook.users.iter().find(|u| u.id == token.user_id) else {
                return oauth_exception(190, None, "Invalid OAuth access token");
            };
            select(json!({"id": user.id, "name": user.name}), fields)
        }
        // With a Page token, /me is the Page.
        Kind::Page { page_id } => {
            let Some(page) = state.facebook.pages.iter().find(|p| p.id == *page_id) else {
                return oauth_exception(190, None, "Invalid OAuth access token");
            };
            let picture = super::pages::page_picture(inner, &page.id);
            select(json!({"id": page.id, "name": page.name, "category": page.category, "picture": picture}), fields)
        }
    };
    util::json(StatusCode::OK, &body, usage)
}

/// `DELETE /me/permissions` or `DELETE /{user-id}/permissions` with a user token: the person
/// de-authorizes the app (see [`FacebookState::deauthorize`](super::FacebookState::deauthorize)).
/// Meta's User permissions reference says the answer is `true` (not in platforms.md); the sandbox
/// answers `{"success": true}`, the shape of §3.1's delete, which clients must accept too.
/// Removing one permission (`/permissions/{name}`) and calls with an app token are not served.
pub(super) async fn deauthorize(
    inner: &Inner,
    version: &str,
    node: &str,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
) -> Response {
    let (token, usage) = match enter(inner, version, headers, params, node == "me").await {
        Ok(entered) => entered,
        Err(response) => return response,
    };
    if !matches!(token.kind, Kind::User { .. }) {
        return with_headers(not_on_a_page("permissions"), usage);
    }
    if node != "me" && node != token.user_id {
        return with_headers(not_found(node, "delete"), usage);
    }
    inner.lock().facebook.deauthorize(&token.user_id, &token.app_id);
    util::json(StatusCode::OK, &json!({"success": true}), usage)
}
