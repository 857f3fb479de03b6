//! The OAuth 2.0 consent page (`/x/i/oauth2/authorize`): checks the authorization request, shows
//! what the app asks for, lets the person pick or name an account, and redirects back with a code
//! (or `access_denied`). A bad request is shown on the page, never redirected.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Query, State as AxumState};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use chrono::TimeDelta;

use super::Shared;
use super::state::{Code, DEFAULT_USER, XState};
use crate::util::{self, html_escape};

/// Every scope X documents; anything else on the consent page is an error.
const KNOWN_SCOPES: &[(&str, &str)] = &[
    ("tweet.read", "View all posts you can see, including posts from protected accounts."),
    ("tweet.write", "Create and repost on your behalf."),
    ("tweet.moderate.write", "Hide and unhide replies to your posts."),
    ("users.read", "Any account you can view, including protected accounts."),
    ("users.email", "Your email address."),
    ("follows.read", "People who follow you and people you follow."),
    ("follows.write", "Follow and unfollow people for you."),
    ("offline.access", "Stay connected to your account until you revoke access."),
    ("space.read", "All the Spaces you can view."),
    ("mute.read", "Accounts you've muted."),
    ("mute.write", "Mute and unmute accounts for you."),
    ("like.read", "Posts you've liked and likes you can view."),
    ("like.write", "Like and un-like posts for you."),
    ("list.read", "Lists, list members, and list followers of lists you've created or are a member of."),
    ("list.write", "Create and manage lists for you."),
    ("block.read", "Accounts you've blocked."),
    ("block.write", "Block and unblock accounts for you."),
    ("bookmark.read", "Get Bookmarked posts from an authenticated user."),
    ("bookmark.write", "Bookmark and remove Bookmarks from posts."),
    ("media.write", "Upload media."),
    ("dm.read", "All your Direct Messages."),
    ("dm.write", "Send and manage Direct Messages for you."),
];

struct AuthorizeRequest {
    client_id: String,
    app_name: String,
    redirect_uri: url::Url,
    scope: Vec<String>,
    state: String,
    code_challenge: String,
}

fn validate_authorize(x: &XState, params: &HashMap<String, String>) -> Result<AuthorizeRequest, String> {
    let get = |k: &str| params.get(k).map(String::as_str).unwrap_or("");
    let client_id = get("client_id");
    let app = x.apps.get(client_id).ok_or_else(|| format!("Unknown client_id \"{client_id}\"."))?;
    let redirect_uri = get("redirect_uri");
    if redirect_uri != app.redirect_uri {
        return Err(format!("The redirect_uri \"{redirect_uri}\" does not match the callback URL registered for this app."));
    }
    let redirect = url::Url::parse(redirect_uri).map_err(|e| format!("The registered redirect_uri is not a URL: {e}."))?;
    if get("response_type") != "code" {
        return Err("response_type must be \"code\".".to_owned());
    }
    if get("code_challenge").is_empty() {
        return Err("Missing code_challenge (PKCE is required).".to_owned());
    }
    // X also accepts `plain`; the sandbox insists on S256, which is what Crier sends.
    if get("code_challenge_method") != "S256" {
        return Err("code_challenge_method must be \"S256\".".to_owned());
    }
    let state = get("state");
    if state.is_empty() || state.len() > 500 {
        return Err("state is required and must be at most 500 characters.".to_owned());
    }
    let scope: Vec<String> = get("scope").split_whitespace().map(str::to_owned).collect();
    if scope.is_empty() {
        return Err("Missing scope.".to_owned());
    }
    if let Some(unknown) = scope.iter().find(|s| !KNOWN_SCOPES.iter().any(|(k, _)| k == s)) {
        return Err(format!("Unknown scope \"{unknown}\"."));
    }
    Ok(AuthorizeRequest {
        client_id: client_id.to_owned(),
        app_name: app.name.clone(),
        redirect_uri: redirect,
        scope,
        state: state.to_owned(),
        code_challenge: get("code_challenge").to_owned(),
    })
}

fn page(title: &str, body: &str) -> String {
    util::html_page("X sandbox: a fake of X for trying Crier; nothing is posted anywhere.", title, body)
}

fn error_page(message: &str) -> Response {
    let body = format!(
        "<h1>Something went wrong</h1>\n<p class=\"error\">{}</p>\n<p>You weren't able to give access to the App. Go back and try logging in again.</p>",
        html_escape(message)
    );
    (StatusCode::BAD_REQUEST, Html(page("X sandbox: error", &body))).into_response()
}

pub(super) async fn authorize_page(AxumState(inner): Shared, Query(params): Query<HashMap<String, String>>) -> Response {
    let state = inner.lock();
    let request = match validate_authorize(&state.x, &params) {
        Ok(request) => request,
        Err(message) => return error_page(&message),
    };
    let scopes: String = request
        .scope
        .iter()
        .map(|s| {
            let description = KNOWN_SCOPES.iter().find(|(k, _)| k == s).map(|(_, d)| *d).unwrap_or("");
            format!("<li><code>{}</code>: {}</li>\n", html_escape(s), html_escape(description))
        })
        .collect();
    let hidden = util::hidden_inputs(
        &params,
        &["response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge", "code_challenge_method"],
    );
    let accounts: String = state.x.users.iter().map(|u| format!("<option value=\"{}\"></option>", html_escape(&u.username))).collect();
    let body = format!(
        "<h1><strong>{app}</strong> wants to access your X account</h1>\n\
         <p>It will be able to:</p>\n<ul class=\"scopes\">\n{scopes}</ul>\n\
         <p>You will be sent back to <code>{redirect}</code>.</p>\n\
         <form method=\"post\" action=\"{action}\">\n{hidden}\
         <p><label for=\"account\">Account</label> \
         <input id=\"account\" name=\"account\" list=\"accounts\" value=\"{default}\" pattern=\"[A-Za-z0-9_]{{1,15}}\">\
         <datalist id=\"accounts\">{accounts}</datalist> (pick one, or type a new username)</p>\n\
         <button type=\"submit\" name=\"action\" value=\"authorize\">Authorize</button>\n\
         <button type=\"submit\" name=\"action\" value=\"cancel\">Cancel</button>\n</form>",
        app = html_escape(&request.app_name),
        redirect = html_escape(request.redirect_uri.as_str()),
        action = html_escape(&format!("{}/x/i/oauth2/authorize", inner.config.public_base)),
        default = DEFAULT_USER,
    );
    Html(page(&format!("Authorize {} to access your account", request.app_name), &body)).into_response()
}

pub(super) async fn authorize_submit(AxumState(inner): Shared, body: Bytes) -> Response {
    let form = util::parse_form(&body);
    let now = inner.now();
    let mut state = inner.lock();
    let request = match validate_authorize(&state.x, &form) {
        Ok(request) => request,
        Err(message) => return error_page(&message),
    };
    let mut target = request.redirect_uri.clone();
    match form.get("action").map(String::as_str) {
        Some("cancel") => {
            target.query_pairs_mut().append_pair("error", "access_denied").append_pair("state", &request.state);
            util::redirect(&target)
        }
        Some("authorize") => {
            let account = form.get("account").map(|a| a.trim()).filter(|a| !a.is_empty()).unwrap_or(DEFAULT_USER);
            if account.len() > 15 || !account.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return error_page("An X username is 1 to 15 letters, digits or underscores.");
            }
            let user = state.x.user_by_username(account);
            let code = util::random_token();
            let ttl = TimeDelta::from_std(inner.config.x_code_ttl).unwrap_or(TimeDelta::seconds(30));
            state.x.codes.insert(
                code.clone(),
                Code {
                    client_id: request.client_id,
                    redirect_uri: form.get("redirect_uri").cloned().unwrap_or_default(),
                    scope: request.scope,
                    challenge: request.code_challenge,
                    user_id: user.id,
                    expires_at: now + ttl,
                },
            );
            target.query_pairs_mut().append_pair("state", &request.state).append_pair("code", &code);
            util::redirect(&target)
        }
        _ => error_page("Choose Authorize or Cancel."),
    }
}
