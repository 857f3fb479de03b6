//! The OAuth 2.0 consent page (`/linkedin/oauth/v2/authorization`, §2.5): checks the authorization
//! request, shows what the app asks for, lets the person pick or name a member and, with the
//! organization scopes, the organizations that member administers; then redirects back with a
//! code. Errors before the redirect URI is trusted are shown on the page; a bad scope goes back to
//! the app.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Query, State as AxumState};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use chrono::TimeDelta;

use super::Shared;
use super::state::{Code, DEFAULT_MEMBER, LinkedInState, Org};
use crate::util::{self, html_escape};

const KNOWN_SCOPES: &[(&str, &str)] = &[
    ("openid", "Use your name and photo to sign you in."),
    ("profile", "Use your name and photo."),
    ("email", "Use the primary email address associated with your LinkedIn account."),
    ("w_member_social", "Create, modify, and delete posts, comments, and reactions on your behalf."),
    ("r_member_social", "Retrieve your posts, comments, likes, and other engagement data."),
    ("w_organization_social", "Create, modify, and delete posts, comments, and reactions on your organization's behalf."),
    ("r_organization_social", "Retrieve your organization's posts, comments, reactions, and other engagement data."),
    ("rw_organization_admin", "Manage your organization's pages and retrieve reporting data."),
];
pub(super) const ORG_SCOPES: &[&str] = &["w_organization_social", "r_organization_social", "rw_organization_admin"];

struct AuthorizeRequest {
    client_id: String,
    app_name: String,
    redirect_uri: url::Url,
    scope: Vec<String>,
    state: String,
}

/// Errors before the redirect URI is trusted are shown on the page; a bad scope goes back to the app.
enum AuthorizeError {
    Page(String),
    Redirect(url::Url),
}

fn validate_authorize(li: &LinkedInState, params: &HashMap<String, String>) -> Result<AuthorizeRequest, AuthorizeError> {
    let get = |k: &str| params.get(k).map(String::as_str).unwrap_or("");
    let client_id = get("client_id");
    let app = li.apps.get(client_id).ok_or_else(|| AuthorizeError::Page(format!("Invalid client_id \"{client_id}\".")))?;
    let redirect_uri = get("redirect_uri");
    if redirect_uri != app.redirect_uri {
        return Err(AuthorizeError::Page("The redirect_uri does not match the registered value".to_owned()));
    }
    let redirect =
        url::Url::parse(redirect_uri).map_err(|e| AuthorizeError::Page(format!("The registered redirect_uri is not a URL: {e}.")))?;
    if get("response_type") != "code" {
        return Err(AuthorizeError::Page("response_type must be \"code\".".to_owned()));
    }
    let state = get("state").to_owned();
    // LinkedIn separates scopes with spaces (URL-encoded); commas are tolerated.
    let scope: Vec<String> = get("scope").split([' ', ',']).filter(|s| !s.is_empty()).map(str::to_owned).collect();
    let bad = scope.iter().find(|s| !KNOWN_SCOPES.iter().any(|(k, _)| k == s)).cloned();
    if scope.is_empty() || bad.is_some() {
        let mut target = redirect.clone();
        let description = match bad {
            Some(bad) => format!("Scope \"{bad}\" is not authorized for your application"),
            None => "A scope is required".to_owned(),
        };
        target
            .query_pairs_mut()
            .append_pair("error", "unauthorized_scope_error")
            .append_pair("error_description", &description)
            .append_pair("state", &state);
        return Err(AuthorizeError::Redirect(target));
    }
    Ok(AuthorizeRequest { client_id: client_id.to_owned(), app_name: app.name.clone(), redirect_uri: redirect, scope, state })
}

fn error_page(message: &str) -> Response {
    let body = format!("<h1>Bummer, something went wrong.</h1>\n<p class=\"error\">{}</p>", html_escape(message));
    (StatusCode::BAD_REQUEST, Html(util::html_page(BANNER, "LinkedIn sandbox: error", &body))).into_response()
}

const BANNER: &str = "LinkedIn sandbox: a fake of LinkedIn for trying Crier; nothing is posted anywhere.";

fn refuse(err: AuthorizeError) -> Response {
    match err {
        AuthorizeError::Page(message) => error_page(&message),
        AuthorizeError::Redirect(target) => util::redirect(&target),
    }
}

pub(super) async fn authorize_page(AxumState(inner): Shared, Query(params): Query<HashMap<String, String>>) -> Response {
    let state = inner.lock();
    let li = &state.linkedin;
    let request = match validate_authorize(li, &params) {
        Ok(request) => request,
        Err(err) => return refuse(err),
    };
    let scopes: String = request
        .scope
        .iter()
        .map(|s| {
            let description = KNOWN_SCOPES.iter().find(|(k, _)| k == s).map(|(_, d)| *d).unwrap_or("");
            format!("<li><code>{}</code>: {}</li>\n", html_escape(s), html_escape(description))
        })
        .collect();
    let hidden = util::hidden_inputs(&params, &["response_type", "client_id", "redirect_uri", "scope", "state"]);
    let accounts: String = li.members.iter().map(|m| format!("<option value=\"{}\"></option>", html_escape(&m.vanity))).collect();
    let orgs = if request.scope.iter().any(|s| ORG_SCOPES.contains(&s.as_str())) {
        let default_orgs = li.members.iter().find(|m| m.vanity == DEFAULT_MEMBER).map(|m| m.orgs.clone()).unwrap_or_default();
        let boxes: String = li
            .orgs
            .iter()
            .map(|o| {
                let checked = if default_orgs.contains(&o.id) { " checked" } else { "" };
                format!(
                    "<li><label><input type=\"checkbox\" name=\"organization\" value=\"{}\"{checked}> {}</label></li>\n",
                    o.id,
                    html_escape(&o.name)
                )
            })
            .collect();
        format!(
            "<fieldset><legend>Organizations this member administers</legend>\n<ul class=\"organizations\">\n{boxes}</ul>\n\
             <p><label for=\"new_organization\">New organization</label> <input id=\"new_organization\" name=\"new_organization\"></p>\n\
             <input type=\"hidden\" name=\"organizations_shown\" value=\"1\"></fieldset>\n"
        )
    } else {
        String::new()
    };
    let body = format!(
        "<h1><strong>{app}</strong> would like to access some of your LinkedIn info</h1>\n\
         <p>This will allow {app} to:</p>\n<ul class=\"scopes\">\n{scopes}</ul>\n\
         <p>You will be sent back to <code>{redirect}</code>.</p>\n\
         <form method=\"post\" action=\"{action}\">\n{hidden}\
         <p><label for=\"account\">Account</label> \
         <input id=\"account\" name=\"account\" list=\"accounts\" value=\"{default}\" pattern=\"[A-Za-z0-9_.\\-]{{3,100}}\">\
         <datalist id=\"accounts\">{accounts}</datalist> (pick a member, or type a new profile name)</p>\n{orgs}\
         <button type=\"submit\" name=\"action\" value=\"authorize\">Authorize</button>\n\
         <button type=\"submit\" name=\"action\" value=\"cancel\">Cancel</button>\n</form>",
        app = html_escape(&request.app_name),
        redirect = html_escape(request.redirect_uri.as_str()),
        action = html_escape(&format!("{}/linkedin/oauth/v2/authorization", inner.config.public_base)),
        default = DEFAULT_MEMBER,
    );
    Html(util::html_page(BANNER, &format!("{} | LinkedIn", request.app_name), &body)).into_response()
}

pub(super) async fn authorize_submit(AxumState(inner): Shared, body: Bytes) -> Response {
    let form = util::parse_form(&body);
    let now = inner.now();
    let code_ttl = TimeDelta::from_std(inner.config.linkedin_code_ttl).unwrap_or(TimeDelta::minutes(30));
    let mut state = inner.lock();
    let li = &mut state.linkedin;
    let request = match validate_authorize(li, &form) {
        Ok(request) => request,
        Err(err) => return refuse(err),
    };
    let mut target = request.redirect_uri.clone();
    match form.get("action").map(String::as_str) {
        Some("cancel") => {
            target
                .query_pairs_mut()
                .append_pair("error", "user_cancelled_authorize")
                .append_pair("error_description", "The user cancelled the authorization")
                .append_pair("state", &request.state);
            util::redirect(&target)
        }
        Some("authorize") => {
            let account = form.get("account").map(|a| a.trim()).filter(|a| !a.is_empty()).unwrap_or(DEFAULT_MEMBER);
            if !(3..=100).contains(&account.len()) || !account.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b)) {
                return error_page("A LinkedIn profile name is 3 to 100 letters, digits, '-', '_' or '.'.");
            }
            let member = li.member_by_vanity(account);
            if form.contains_key("organizations_shown") {
                let mut chosen: Vec<u64> = util::form_values(&body, "organization").iter().filter_map(|v| v.parse().ok()).collect();
                chosen.retain(|id| li.orgs.iter().any(|o| o.id == *id));
                if let Some(name) = form.get("new_organization").map(|n| n.trim()).filter(|n| !n.is_empty()) {
                    let id = li.orgs.iter().map(|o| o.id).max().unwrap_or(0) + 1;
                    let vanity = name.to_lowercase().split_whitespace().collect::<Vec<_>>().join("-");
                    li.orgs.push(Org { id, name: name.to_owned(), vanity });
                    chosen.push(id);
                }
                if let Some(m) = li.members.iter_mut().find(|m| m.id == member.id) {
                    m.orgs = chosen;
                }
            }
            let code = format!("AQ{}", util::random_token());
            li.codes.insert(
                code.clone(),
                Code {
                    client_id: request.client_id,
                    redirect_uri: form.get("redirect_uri").cloned().unwrap_or_default(),
                    scope: request.scope,
                    member_id: member.id,
                    expires_at: now + code_ttl,
                },
            );
            target.query_pairs_mut().append_pair("code", &code).append_pair("state", &request.state);
            util::redirect(&target)
        }
        _ => error_page("Choose Authorize or Cancel."),
    }
}
