//! The login dialog (`/facebook/{version}/dialog/oauth`, §3.2): checks the request, shows the
//! permissions asked for, lets the person pick or name themselves and choose the Pages the app may
//! use (or add one), then redirects back with a code (or Meta's denial). A bad request is shown on
//! the page.

use std::collections::HashMap;

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use chrono::TimeDelta;

use super::front_door::check_version;
use super::state::{Code, DEFAULT_USER, FacebookState, Page};
use crate::Inner;
use crate::util::{self, html_escape};

const KNOWN_PERMISSIONS: &[&str] = &[
    "public_profile",
    "email",
    "pages_show_list",
    "pages_manage_posts",
    "pages_read_engagement",
    "pages_manage_engagement",
    "pages_read_user_engagement",
    "pages_manage_metadata",
    "business_management",
    // A post's insights (media-and-metrics.md §3.3).
    "read_insights",
];

const BANNER: &str = "Facebook sandbox: a fake of Meta's Graph API for trying Crier; nothing is posted anywhere.";

struct DialogRequest {
    app_id: String,
    app_name: String,
    redirect_uri: url::Url,
    scope: Vec<String>,
    state: String,
}

fn validate_dialog(meta: &FacebookState, params: &HashMap<String, String>) -> Result<DialogRequest, String> {
    let get = |k: &str| params.get(k).map(String::as_str).unwrap_or("");
    let app_id = get("client_id");
    let app = meta.apps.get(app_id).ok_or_else(|| "Invalid App ID: The provided app ID does not look like a valid app ID.".to_owned())?;
    let redirect_uri = get("redirect_uri");
    if redirect_uri != app.redirect_uri {
        return Err(
            "URL Blocked: This redirect failed because the redirect URI is not whitelisted in the app's Client OAuth Settings.".to_owned()
        );
    }
    let redirect = url::Url::parse(redirect_uri).map_err(|e| format!("The registered redirect_uri is not a URL: {e}."))?;
    if !matches!(get("response_type"), "" | "code") {
        return Err("response_type must be \"code\".".to_owned());
    }
    let scope: Vec<String> = get("scope").split([',', ' ']).filter(|s| !s.is_empty()).map(str::to_owned).collect();
    if let Some(bad) = scope.iter().find(|s| !KNOWN_PERMISSIONS.contains(&s.as_str())) {
        return Err(format!("Invalid Scopes: {bad}. This message is only shown to developers."));
    }
    Ok(DialogRequest {
        app_id: app_id.to_owned(),
        app_name: app.name.clone(),
        redirect_uri: redirect,
        scope,
        state: get("state").to_owned(),
    })
}

fn error_page(message: &str) -> Response {
    let body = format!("<h1>Sorry, something went wrong.</h1>\n<p class=\"error\">{}</p>", html_escape(message));
    (StatusCode::BAD_REQUEST, Html(util::html_page(BANNER, "Facebook sandbox: error", &body))).into_response()
}

pub(super) fn dialog_page(inner: &Inner, version: &str, params: &HashMap<String, String>) -> Response {
    if check_version(inner, version).is_err() {
        return error_page(&format!("Unknown Graph API version {version}."));
    }
    let state = inner.lock();
    let meta = &state.facebook;
    let request = match validate_dialog(meta, params) {
        Ok(request) => request,
        Err(message) => return error_page(&message),
    };
    let scopes: String = request.scope.iter().map(|s| format!("<li><code>{}</code></li>\n", html_escape(s))).collect();
    let hidden = util::hidden_inputs(params, &["response_type", "client_id", "redirect_uri", "scope", "state"]);
    let accounts: String = meta.users.iter().map(|u| format!("<option value=\"{}\"></option>", html_escape(&u.name))).collect();
    let default_id = &meta.users[0].id;
    let pages: String = meta
        .pages
        .iter()
        .map(|p| {
            let checked = if p.admins.contains(default_id) { " checked" } else { "" };
            format!(
                "<li><label><input type=\"checkbox\" name=\"page\" value=\"{}\"{checked}> {} ({})</label></li>\n",
                html_escape(&p.id),
                html_escape(&p.name),
                html_escape(&p.category)
            )
        })
        .collect();
    let body = format!(
        "<h1><strong>{app}</strong> is requesting access to your Facebook account</h1>\n\
         <p>Permissions:</p>\n<ul class=\"scopes\">\n{scopes}</ul>\n\
         <p>You will be sent back to <code>{redirect}</code>.</p>\n\
         <form method=\"post\" action=\"{action}\">\n{hidden}\
         <p><label for=\"account\">Account</label> \
         <input id=\"account\" name=\"account\" list=\"accounts\" value=\"{default}\">\
         <datalist id=\"accounts\">{accounts}</datalist> (pick a person, or type a new name)</p>\n\
         <fieldset><legend>Pages you manage that {app} may use</legend>\n<ul class=\"pages\">\n{pages}</ul>\n\
         <p><label for=\"new_page\">New Page</label> <input id=\"new_page\" name=\"new_page\"></p></fieldset>\n\
         <button type=\"submit\" name=\"action\" value=\"authorize\">Authorize</button>\n\
         <button type=\"submit\" name=\"action\" value=\"cancel\">Cancel</button>\n</form>",
        app = html_escape(&request.app_name),
        redirect = html_escape(request.redirect_uri.as_str()),
        action = html_escape(&format!("{}/facebook/{version}/dialog/oauth", inner.config.public_base)),
        default = DEFAULT_USER,
    );
    Html(util::html_page(BANNER, &format!("Log in with Facebook | {}", request.app_name), &body)).into_response()
}

pub(super) fn dialog_submit(inner: &Inner, version: &str, body: &[u8]) -> Response {
    if check_version(inner, version).is_err() {
        return error_page(&format!("Unknown Graph API version {version}."));
    }
    let form = util::parse_form(body);
    let now = inner.now();
    let code_ttl = TimeDelta::from_std(inner.config.facebook_code_ttl).unwrap_or(TimeDelta::minutes(10));
    let mut state = inner.lock();
    let meta = &mut state.facebook;
    let request = match validate_dialog(meta, &form) {
        Ok(request) => request,
        Err(message) => return error_page(&message),
    };
    let mut target = request.redirect_uri.clone();
    match form.get("action").map(String::as_str) {
        Some("cancel") => {
            // The manual-flow doc's denial redirect.
            target
                .query_pairs_mut()
                .append_pair("error", "access_denied")
                .append_pair("error_code", "200")
                .append_pair("error_description", "Permissions error")
                .append_pair("error_reason", "user_denied")
                .append_pair("state", &request.state);
            util::redirect(&target)
        }
        Some("authorize") => {
            let account = form.get("account").map(|a| a.trim()).filter(|a| !a.is_empty()).unwrap_or(DEFAULT_USER);
            if account.chars().count() > 100 {
                return error_page("A name is at most 100 characters.");
            }
            let user = meta.user_by_name(account);
            let mut chosen: Vec<String> =
                util::form_values(body, "page").into_iter().filter(|id| meta.pages.iter().any(|p| p.id == *id)).collect();
            if let Some(name) = form.get("new_page").map(|n| n.trim()).filter(|n| !n.is_empty()) {
                let id = (meta.pages.iter().filter_map(|p| p.id.parse::<u64>().ok()).max().unwrap_or(0) + 1).to_string();
                meta.pages.push(Page { id: id.clone(), name: name.to_owned(), category: "Community".to_owned(), admins: Vec::new() });
                chosen.push(id);
            }
            // Picking a Page makes the person its admin here (the sandbox has no other way to give roles).
            for page in meta.pages.iter_mut().filter(|p| chosen.contains(&p.id)) {
                if !page.admins.contains(&user.id) {
                    page.admins.push(user.id.clone());
                }
            }
            meta.grants.insert((user.id.clone(), request.app_id.clone()), chosen);
            let code = format!("AQ{}", util::random_token());
            let grant = Code {
                app_id: request.app_id,
                redirect_uri: form.get("redirect_uri").cloned().unwrap_or_default(),
                user_id: user.id,
                scope: request.scope,
                expires_at: now + code_ttl,
                used: false,
            };
            meta.codes.insert(code.clone(), grant);
            target.query_pairs_mut().append_pair("code", &code).append_pair("state", &request.state);
            util::redirect(&target)
        }
        _ => error_page("Choose Authorize or Cancel."),
    }
}
