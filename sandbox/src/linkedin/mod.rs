//! The LinkedIn fake: OAuth 2.0 3-legged (`/linkedin/oauth/v2/...`), OpenID userinfo
//! (`/linkedin/v2/userinfo`) and the versioned Posts API (`/linkedin/rest/...`).
//!
//! Bodies and statuses follow platforms.md §2, §4.2 and §5; where the reference says NOT FOUND,
//! the choice made here is noted at the spot.

#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State as AxumState};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Datelike, TimeDelta, Utc};
use serde_json::{Value, json};

use crate::faults::Faults;
use crate::util::{self, html_escape};
use crate::{Inner, LedgerEntry};

type Shared = AxumState<Arc<Inner>>;

/// Limits and versions of the LinkedIn fake.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkedInLimits {
    /// Calls to `POST /rest/posts` per member per app per UTC day (reset at 00:00 UTC). LinkedIn
    /// does not publish it (platforms.md §2.6); 150 posts/day is the third-party figure.
    pub posts_per_member_per_day: u32,
    /// How many monthly `LinkedIn-Version`s are active: the current month (by the sandbox clock)
    /// and the `active_versions - 1` before it ("retired after about a year", §2.1). Default 12.
    pub active_versions: u32,
}

impl Default for LinkedInLimits {
    fn default() -> Self {
        LinkedInLimits { posts_per_member_per_day: 150, active_versions: 12 }
    }
}

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
const ORG_SCOPES: &[&str] = &["w_organization_social", "r_organization_social", "rw_organization_admin"];

const DEFAULT_MEMBER: &str = "sandbox-member";
/// Reserved characters of the little text format (platforms.md §2.4).
const RESERVED: &[char] = &['\\', '|', '{', '}', '@', '[', ']', '(', ')', '<', '>', '#', '*', '_', '~'];
const MAX_COMMENTARY: usize = 3000;

struct App {
    client_secret: String,
    redirect_uri: String,
    name: String,
    /// "Programmatic refresh tokens" (approved partners only, §2.5).
    refresh_tokens: bool,
}

#[derive(Clone)]
struct Member {
    /// The OpenID `sub`; the person URN is `urn:li:person:{id}`.
    id: String,
    /// What the consent page's Account field names (a public-profile vanity name).
    vanity: String,
    given_name: String,
    family_name: String,
    /// Organization ids this member administers.
    orgs: Vec<u64>,
}

struct Org {
    id: u64,
    name: String,
    vanity: String,
}

struct Code {
    client_id: String,
    redirect_uri: String,
    scope: Vec<String>,
    member_id: String,
    expires_at: DateTime<Utc>,
}

struct Access {
    member_id: String,
    client_id: String,
    scope: Vec<String>,
    expires_at: DateTime<Utc>,
    revoked: bool,
}

struct Refresh {
    member_id: String,
    client_id: String,
    scope: Vec<String>,
    /// Fixed at the first issue: refreshing does not extend it (§2.5).
    expires_at: DateTime<Utc>,
}

struct Post {
    urn: String,
    member_id: String,
    author: String,
    commentary: String,
    visibility: String,
    lifecycle_state: String,
    distribution: Value,
    content: Option<Value>,
    created_at: DateTime<Utc>,
    deleted: bool,
}

pub(crate) struct LinkedInState {
    apps: HashMap<String, App>,
    members: Vec<Member>,
    orgs: Vec<Org>,
    codes: HashMap<String, Code>,
    access: HashMap<String, Access>,
    refresh: HashMap<String, Refresh>,
    posts: Vec<Post>,
    last_post_id: u64,
    /// (member, app, UTC day) → calls to `POST /rest/posts`.
    daily: HashMap<(String, String, chrono::NaiveDate), u32>,
    pub(crate) faults: Faults,
}

fn default_members() -> Vec<Member> {
    vec![Member {
        id: "782bbtaQ".to_owned(),
        vanity: DEFAULT_MEMBER.to_owned(),
        given_name: "Sandbox".to_owned(),
        family_name: "Member".to_owned(),
        orgs: vec![5515715],
    }]
}

fn default_orgs() -> Vec<Org> {
    vec![
        Org { id: 5515715, name: "Sandbox Organization".to_owned(), vanity: "sandbox-organization".to_owned() },
        Org { id: 2414183, name: "Devtestco".to_owned(), vanity: "devtestco".to_owned() },
    ]
}

impl LinkedInState {
    pub(crate) fn new() -> Self {
        LinkedInState {
            apps: HashMap::new(),
            members: default_members(),
            orgs: default_orgs(),
            codes: HashMap::new(),
            access: HashMap::new(),
            refresh: HashMap::new(),
            posts: Vec::new(),
            last_post_id: 0,
            daily: HashMap::new(),
            faults: Faults::new(),
        }
    }

    pub(crate) fn reset(&mut self) {
        let apps = std::mem::take(&mut self.apps);
        *self = LinkedInState::new();
        self.apps = apps;
    }

    pub(crate) fn register_app(&mut self, client_id: &str, client_secret: &str, redirect_uri: &str, name: &str) {
        let refresh_tokens = self.apps.get(client_id).is_none_or(|a| a.refresh_tokens);
        let app =
            App { client_secret: client_secret.to_owned(), redirect_uri: redirect_uri.to_owned(), name: name.to_owned(), refresh_tokens };
        self.apps.insert(client_id.to_owned(), app);
    }

    /// False when the app is unknown.
    pub(crate) fn set_refresh_tokens(&mut self, client_id: &str, enabled: bool) -> bool {
        match self.apps.get_mut(client_id) {
            Some(app) => {
                app.refresh_tokens = enabled;
                true
            }
            None => false,
        }
    }

    pub(crate) fn expire_token(&mut self, token: &str, now: DateTime<Utc>) -> bool {
        if let Some(access) = self.access.get_mut(token) {
            access.expires_at = now;
            return true;
        }
        if let Some(refresh) = self.refresh.get_mut(token) {
            refresh.expires_at = now;
            return true;
        }
        false
    }

    /// The member removed the app: every token dies (65601 REVOKED_ACCESS_TOKEN). Accepts the
    /// member id (`sub`), the person URN or the vanity name.
    pub(crate) fn revoke_user(&mut self, user: &str) -> usize {
        let Some(id) = self.find_member(user).map(|m| m.id.clone()) else { return 0 };
        let mut count = 0;
        for access in self.access.values_mut().filter(|a| a.member_id == id && !a.revoked) {
            access.revoked = true;
            count += 1;
        }
        let before = self.refresh.len();
        self.refresh.retain(|_, r| r.member_id != id);
        count + before - self.refresh.len()
    }

    fn find_member(&self, key: &str) -> Option<&Member> {
        let key = key.strip_prefix("urn:li:person:").unwrap_or(key);
        self.members.iter().find(|m| m.id == key || m.vanity.eq_ignore_ascii_case(key))
    }

    fn member_by_vanity(&mut self, vanity: &str) -> Member {
        if let Some(m) = self.members.iter().find(|m| m.vanity.eq_ignore_ascii_case(vanity)) {
            return m.clone();
        }
        // An OpenID `sub`: 10 URL-safe characters, as in the documented sample ("782bbtaQ").
        let id: String = util::random_token().chars().filter(|c| c.is_ascii_alphanumeric()).take(10).collect();
        let mut words = vanity.split(['-', '_', '.']).filter(|w| !w.is_empty()).map(capitalize);
        let given_name = words.next().unwrap_or_else(|| vanity.to_owned());
        let family_name = words.collect::<Vec<_>>().join(" ");
        let member = Member { id, vanity: vanity.to_owned(), given_name, family_name, orgs: Vec::new() };
        self.members.push(member.clone());
        member
    }

    fn member(&self, id: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.id == id)
    }
}

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

fn full_name(m: &Member) -> String {
    if m.family_name.is_empty() { m.given_name.clone() } else { format!("{} {}", m.given_name, m.family_name) }
}

pub(crate) fn routes() -> Router<Arc<Inner>> {
    Router::new()
        .route("/linkedin/oauth/v2/authorization", get(authorize_page).post(authorize_submit))
        .route("/linkedin/oauth/v2/accessToken", axum::routing::post(token))
        .route("/linkedin/oauth/v2/introspectToken", axum::routing::post(introspect))
        .route("/linkedin/v2/userinfo", get(userinfo))
        .route("/linkedin/rest/posts", get(list_posts).post(create_post))
        .route("/linkedin/rest/posts/{urn}", get(get_post).delete(delete_post))
        .route("/linkedin/rest/organizationAcls", get(organization_acls))
        .route("/linkedin/rest/organizations/{id}", get(organization))
}

// ---------------------------------------------------------------------------------------------
// Error bodies (platforms.md §2.6).

fn error(status: StatusCode, body: Value) -> Response {
    util::json(status, &body, HeaderMap::new())
}

fn rest_error(status: u16, code: &str, message: &str) -> Response {
    let status_code = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    error(status_code, json!({"status": status, "code": code, "message": message}))
}

fn forbidden(message: &str) -> Response {
    error(StatusCode::FORBIDDEN, json!({"serviceErrorCode": 100, "message": message, "status": 403}))
}

fn unprocessable(message: &str) -> Response {
    error(StatusCode::UNPROCESSABLE_ENTITY, json!({"message": message, "status": 422}))
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    util::json(status, &json!({"error": error, "error_description": description}), HeaderMap::new())
}

/// Why a bearer token was refused.
enum TokenProblem {
    Missing,
    Unknown,
    Expired,
    Revoked,
}

fn token_error(problem: TokenProblem) -> Response {
    let body = match problem {
        TokenProblem::Missing => json!({"message": "Empty oauth2_access_token", "serviceErrorCode": 401, "status": 401}),
        TokenProblem::Unknown => json!({"serviceErrorCode": 65600, "message": "Invalid access token", "status": 401}),
        // The exact serviceErrorCode for expiry is NOT FOUND (§6); §5 suggests 65600 "Expired access token".
        TokenProblem::Expired => json!({"serviceErrorCode": 65600, "message": "Expired access token", "status": 401}),
        TokenProblem::Revoked => json!({
            "status": 401,
            "serviceErrorCode": 65601,
            "code": "REVOKED_ACCESS_TOKEN",
            "message": "The token used in the request has been revoked by the user",
        }),
    };
    error(StatusCode::UNAUTHORIZED, body)
}

#[derive(Clone)]
struct Auth {
    member_id: String,
    client_id: String,
    scope: Vec<String>,
}

impl Auth {
    fn has(&self, scope: &str) -> bool {
        self.scope.iter().any(|s| s == scope)
    }
}

fn bearer(li: &LinkedInState, headers: &HeaderMap, now: DateTime<Utc>) -> Result<Auth, TokenProblem> {
    let token = util::bearer_token(headers).filter(|t| !t.is_empty()).ok_or(TokenProblem::Missing)?;
    let access = li.access.get(token).ok_or(TokenProblem::Unknown)?;
    if access.revoked {
        return Err(TokenProblem::Revoked);
    }
    if now >= access.expires_at {
        return Err(TokenProblem::Expired);
    }
    Ok(Auth { member_id: access.member_id.clone(), client_id: access.client_id.clone(), scope: access.scope.clone() })
}

/// LinkedIn's 429: a daily throttle. No rate-limit headers are documented (§2.6): the client
/// waits for the next 00:00 UTC.
fn daily_throttle() -> Response {
    let body =
        json!({"serviceErrorCode": 101, "message": "Resource level throttle limit for calls to this resource is reached.", "status": 429});
    error(StatusCode::TOO_MANY_REQUESTS, body)
}

fn transient() -> Response {
    // §2.6 lists 500/504 without a body; LinkedIn's usual error fields.
    error(StatusCode::INTERNAL_SERVER_ERROR, json!({"message": "Internal Server Error", "status": 500}))
}

/// Injected faults first (scoped by the member behind the token), then the token check.
async fn front_door(inner: &Inner, headers: &HeaderMap, check_token: bool) -> Result<Option<Auth>, Response> {
    let (auth, decision) = {
        let mut state = inner.lock();
        let auth = bearer(&state.linkedin, headers, inner.now());
        let member = auth.as_ref().ok().map(|a| a.member_id.clone());
        let decision = state.linkedin.faults.decide(member.as_deref(), transient, |_| daily_throttle());
        (auth, decision)
    };
    decision.apply().await?;
    if !check_token {
        return Ok(None);
    }
    auth.map(Some).map_err(token_error)
}

async fn authed(inner: &Inner, headers: &HeaderMap) -> Result<Auth, Response> {
    front_door(inner, headers, true).await.map(|a| a.expect("checked"))
}

/// `LinkedIn-Version: YYYYMM` and `X-Restli-Protocol-Version: 2.0.0` on every `/rest` call (§2.1).
fn check_versions(inner: &Inner, headers: &HeaderMap) -> Result<(), Response> {
    let Some(version) = headers.get("linkedin-version").and_then(|v| v.to_str().ok()).map(str::trim) else {
        // Not in platforms.md: the body LinkedIn is seen to send without the header.
        return Err(rest_error(
            400,
            "VERSION_MISSING",
            "A version must be present. Please specify a version by adding the LinkedIn-Version header.",
        ));
    };
    if !is_active_version(version, inner.now(), inner.config.linkedin_limits.active_versions) {
        return Err(rest_error(426, "NONEXISTENT_VERSION", &format!("Requested version {version} is not active")));
    }
    if headers.get("x-restli-protocol-version").and_then(|v| v.to_str().ok()).map(str::trim) != Some("2.0.0") {
        // Not documented: the posts API is Rest.li 2.0 only; a 400 in LinkedIn's shape.
        return Err(rest_error(400, "ILLEGAL_ARGUMENT", "The X-Restli-Protocol-Version header must be 2.0.0."));
    }
    Ok(())
}

/// `YYYYMM` (LinkedIn also accepts `YYYYMM.RR` patch releases) within the active window.
fn is_active_version(version: &str, now: DateTime<Utc>, active: u32) -> bool {
    let month_part = version.split_once('.').map(|(m, _)| m).unwrap_or(version);
    if month_part.len() != 6 || !month_part.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let (Ok(year), Ok(month)) = (month_part[..4].parse::<i32>(), month_part[4..].parse::<i32>()) else { return false };
    if !(1..=12).contains(&month) {
        return false;
    }
    let asked = year * 12 + month - 1;
    let current = now.year() * 12 + now.month0() as i32;
    asked <= current && asked > current - active as i32
}

// ---------------------------------------------------------------------------------------------
// Consent page.

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

async fn authorize_page(AxumState(inner): Shared, Query(params): Query<HashMap<String, String>>) -> Response {
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

async fn authorize_submit(AxumState(inner): Shared, body: Bytes) -> Response {
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

// ---------------------------------------------------------------------------------------------
// Token endpoint (§2.5): client credentials in the form body.

fn missing(parameter: &str) -> Response {
    oauth_error(StatusCode::BAD_REQUEST, "invalid_request", &format!("A required parameter \"{parameter}\" is missing"))
}

const BAD_REFRESH: &str = "The provided authorization grant or refresh token is invalid, expired or revoked";

async fn token(AxumState(inner): Shared, body: Bytes) -> Response {
    if let Err(response) = front_door(&inner, &HeaderMap::new(), false).await {
        return response;
    }
    let form = util::parse_form(&body);
    let now = inner.now();
    let ttl = TimeDelta::from_std(inner.config.linkedin_access_token_ttl).unwrap_or(TimeDelta::days(60));
    let refresh_ttl = TimeDelta::from_std(inner.config.linkedin_refresh_token_ttl).unwrap_or(TimeDelta::days(365));
    let mut state = inner.lock();
    let li = &mut state.linkedin;
    let get = |k: &str| form.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let Some(grant_type) = get("grant_type") else { return missing("grant_type") };
    if !matches!(grant_type, "authorization_code" | "refresh_token") {
        return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", "The grant_type is not supported");
    }
    let Some(client_id) = get("client_id") else { return missing("client_id") };
    let Some(client_secret) = get("client_secret") else { return missing("client_secret") };
    let refresh_enabled = match li.apps.get(client_id) {
        Some(app) if app.client_secret == client_secret => app.refresh_tokens,
        _ => return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "Client authentication failed"),
    };
    let body = if grant_type == "authorization_code" {
        let Some(code) = get("code") else { return missing("code") };
        let Some(redirect_uri) = get("redirect_uri") else { return missing("redirect_uri") };
        // Single use: spent by any attempt.
        let Some(grant) = li.codes.remove(code) else {
            return oauth_error(StatusCode::UNAUTHORIZED, "invalid_request", "authorization code not found");
        };
        if grant.client_id != client_id || grant.redirect_uri != redirect_uri || now >= grant.expires_at {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_redirect_uri",
                "Unable to retrieve access token: appid/redirect uri/code verifier does not match authorization code. Or authorization code expired. Or external member binding exists",
            );
        }
        // "Requesting a different scope invalidates previously issued access tokens" (§2.5).
        let mut scope = grant.scope.clone();
        scope.sort();
        for access in li.access.values_mut().filter(|a| a.member_id == grant.member_id && a.client_id == client_id) {
            let mut old = access.scope.clone();
            old.sort();
            if old != scope {
                access.revoked = true;
            }
        }
        let access_token = issue_access(li, &grant.member_id, client_id, &grant.scope, ttl, now);
        let mut body = json!({"access_token": access_token, "expires_in": ttl.num_seconds(), "scope": grant.scope.join(",")});
        if refresh_enabled {
            let refresh_token = format!("AQ{}", util::random_token());
            let refresh =
                Refresh { member_id: grant.member_id, client_id: client_id.to_owned(), scope: grant.scope, expires_at: now + refresh_ttl };
            li.refresh.insert(refresh_token.clone(), refresh);
            body["refresh_token"] = json!(refresh_token);
            body["refresh_token_expires_in"] = json!(refresh_ttl.num_seconds());
        }
        body
    } else {
        let Some(refresh_token) = get("refresh_token") else { return missing("refresh_token") };
        let (member_id, scope, expires_at) = match li.refresh.get(refresh_token) {
            Some(r) if r.client_id == client_id && now < r.expires_at && refresh_enabled => {
                (r.member_id.clone(), r.scope.clone(), r.expires_at)
            }
            _ => return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", BAD_REFRESH),
        };
        let access_token = issue_access(li, &member_id, client_id, &scope, ttl, now);
        // The same refresh token, its expiry not extended (§2.5).
        json!({
            "access_token": access_token,
            "expires_in": ttl.num_seconds(),
            "refresh_token": refresh_token,
            "refresh_token_expires_in": (expires_at - now).num_seconds(),
            "scope": scope.join(","),
        })
    };
    let no_store = HeaderMap::from_iter([
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        (header::PRAGMA, HeaderValue::from_static("no-cache")),
    ]);
    util::json(StatusCode::OK, &body, no_store)
}

fn issue_access(li: &mut LinkedInState, member_id: &str, client_id: &str, scope: &[String], ttl: TimeDelta, now: DateTime<Utc>) -> String {
    // Real tokens are ~500 characters ("plan for 1000"); these are shorter but opaque the same way.
    let token = format!("AQV{}{}", util::random_token(), util::random_token());
    let access = Access {
        member_id: member_id.to_owned(),
        client_id: client_id.to_owned(),
        scope: scope.to_vec(),
        expires_at: now + ttl,
        revoked: false,
    };
    li.access.insert(token.clone(), access);
    token
}

async fn introspect(AxumState(inner): Shared, body: Bytes) -> Response {
    let form = util::parse_form(&body);
    let now = inner.now();
    let state = inner.lock();
    let li = &state.linkedin;
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    match li.apps.get(get("client_id")) {
        Some(app) if app.client_secret == get("client_secret") => {}
        _ => return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "Client authentication failed"),
    }
    let body = match li.access.get(get("token")) {
        Some(a) => {
            let status = if a.revoked {
                "revoked"
            } else if now >= a.expires_at {
                "expired"
            } else {
                "active"
            };
            json!({
                "active": status == "active",
                "client_id": a.client_id,
                "authorized_at": (a.expires_at - TimeDelta::days(60)).timestamp(),
                "created_at": (a.expires_at - TimeDelta::days(60)).timestamp(),
                "status": status,
                "expires_at": a.expires_at.timestamp(),
                "scope": a.scope.join(","),
                "auth_type": "3L",
            })
        }
        None => json!({"active": false}),
    };
    util::json(StatusCode::OK, &body, HeaderMap::new())
}

// ---------------------------------------------------------------------------------------------
// Who am I and organizations.

async fn userinfo(AxumState(inner): Shared, headers: HeaderMap) -> Response {
    let auth = match authed(&inner, &headers).await {
        Ok(auth) => auth,
        Err(response) => return response,
    };
    if !auth.has("openid") {
        return forbidden("Not enough permissions to access: userinfo.GET.NO_VERSION");
    }
    let state = inner.lock();
    let Some(m) = state.linkedin.member(&auth.member_id) else { return token_error(TokenProblem::Unknown) };
    let mut body = json!({"sub": m.id});
    if auth.has("profile") {
        body["name"] = json!(full_name(m));
        body["given_name"] = json!(m.given_name);
        body["family_name"] = json!(m.family_name);
        body["picture"] = json!(format!("https://media.licdn.com/dms/image/sandbox/{}/profile-displayphoto-shrink_100_100/0/", m.id));
        body["locale"] = json!({"country": "US", "language": "en"});
    }
    if auth.has("email") {
        body["email"] = json!(format!("{}@example.com", m.vanity));
        body["email_verified"] = json!(true);
    }
    util::json(StatusCode::OK, &body, HeaderMap::new())
}

/// `GET /rest/organizationAcls?q=roleAssignee[&role=ADMINISTRATOR][&state=APPROVED]`: the organizations
/// the member administers. Not in platforms.md: the shape of LinkedIn's Organization Access Control API.
async fn organization_acls(AxumState(inner): Shared, headers: HeaderMap, Query(query): Query<HashMap<String, String>>) -> Response {
    let auth = match authed(&inner, &headers).await {
        Ok(auth) => auth,
        Err(response) => return response,
    };
    if let Err(response) = check_versions(&inner, &headers) {
        return response;
    }
    if !ORG_SCOPES.iter().any(|s| auth.has(s)) {
        return forbidden("Not enough permissions to access: organizationAcls.FINDER-roleAssignee");
    }
    if query.get("q").map(String::as_str) != Some("roleAssignee") {
        return rest_error(400, "ILLEGAL_ARGUMENT", "The finder \"q\" must be roleAssignee.");
    }
    let role = query.get("role").map(String::as_str).unwrap_or("ADMINISTRATOR");
    let acl_state = query.get("state").map(String::as_str).unwrap_or("APPROVED");
    let state = inner.lock();
    let orgs = state.linkedin.member(&auth.member_id).map(|m| m.orgs.clone()).unwrap_or_default();
    let elements: Vec<Value> = if role == "ADMINISTRATOR" && acl_state == "APPROVED" {
        orgs.iter()
            .map(|id| {
                json!({
                    "roleAssignee": format!("urn:li:person:{}", auth.member_id),
                    "state": "APPROVED",
                    "role": "ADMINISTRATOR",
                    "organization": format!("urn:li:organization:{id}"),
                })
            })
            .collect()
    } else {
        Vec::new()
    };
    let body = json!({"paging": {"count": 10, "start": 0, "total": elements.len(), "links": []}, "elements": elements});
    util::json(StatusCode::OK, &body, HeaderMap::new())
}

async fn organization(AxumState(inner): Shared, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(response) = authed(&inner, &headers).await {
        return response;
    }
    if let Err(response) = check_versions(&inner, &headers) {
        return response;
    }
    let state = inner.lock();
    match state.linkedin.orgs.iter().find(|o| o.id.to_string() == id) {
        Some(o) => util::json(
            StatusCode::OK,
            &json!({"id": o.id, "localizedName": o.name, "vanityName": o.vanity, "name": {"localized": {"en_US": o.name}}}),
            HeaderMap::new(),
        ),
        None => rest_error(404, "NOT_FOUND", &format!("Organization {id} not found")),
    }
}

// ---------------------------------------------------------------------------------------------
// Posts API (§2.2, §2.4).

/// The commentary LinkedIn keeps: cut at the first unescaped reserved character that does not open
/// a template (`@[name](urn:li:...)` mention, `{hashtag|\#|tag}`, `#tag`), §2.4. Escapes are kept as sent.
pub(crate) fn little_text_keep(commentary: &str) -> &str {
    let chars: Vec<(usize, char)> = commentary.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        if c == '\\' {
            match chars.get(i + 1) {
                Some((_, next)) if RESERVED.contains(next) => {
                    i += 2;
                    continue;
                }
                // A lone backslash before an ordinary character, or at the end: reserved, unescaped.
                _ => return &commentary[..at],
            }
        }
        if RESERVED.contains(&c) {
            match template_len(&commentary[at..]) {
                Some(len) => {
                    let end = at + len;
                    while i < chars.len() && chars[i].0 < end {
                        i += 1;
                    }
                    continue;
                }
                None => return &commentary[..at],
            }
        }
        i += 1;
    }
    commentary
}

/// Byte length of a template starting at `s`, if one does.
fn template_len(s: &str) -> Option<usize> {
    if let Some(rest) = s.strip_prefix("@[") {
        let close = rest.find("](")?;
        let name = &rest[..close];
        if name.contains(['[', ']', '(', ')']) {
            return None;
        }
        let after = &rest[close + 2..];
        let end = after.find(')')?;
        let urn = &after[..end];
        let ok = ["urn:li:person:", "urn:li:organization:"].iter().any(|p| {
            urn.strip_prefix(p).is_some_and(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        });
        return ok.then_some(2 + close + 2 + end + 1);
    }
    if let Some(rest) = s.strip_prefix("{hashtag|\\#|") {
        let end = rest.find('}')?;
        let tag = &rest[..end];
        let ok = !tag.is_empty() && tag.chars().all(|c| c.is_alphanumeric());
        return ok.then_some("{hashtag|\\#|".len() + end + 1);
    }
    if let Some(rest) = s.strip_prefix('#') {
        let len: usize = rest.chars().take_while(|c| c.is_alphanumeric()).map(char::len_utf8).sum();
        return (len > 0).then_some(1 + len);
    }
    None
}

const VISIBILITIES: &[&str] = &["CONNECTIONS", "PUBLIC", "LOGGED_IN", "CONTAINER"];
const LIFECYCLES: &[&str] = &["DRAFT", "PUBLISHED", "PUBLISH_REQUESTED", "PUBLISH_FAILED"];
/// LinkedIn ids are time-ordered like X's; the share id in §2.6 is from 2023.
const LINKEDIN_EPOCH_MS: i64 = 0;

async fn create_post(AxumState(inner): Shared, headers: HeaderMap, body: Bytes) -> Response {
    let received_at = inner.now();
    let auth = match authed(&inner, &headers).await {
        Ok(auth) => auth,
        Err(response) => return response,
    };
    if let Err(response) = check_versions(&inner, &headers) {
        return response;
    }
    let now = inner.now();
    let daily_limit = inner.config.linkedin_limits.posts_per_member_per_day;
    let mut state = inner.lock();
    // Member-level daily throttle: every call counts, reset at 00:00 UTC (§2.6).
    let day_key = (auth.member_id.clone(), auth.client_id.clone(), now.date_naive());
    let used = state.linkedin.daily.get(&day_key).copied().unwrap_or(0);
    if used >= daily_limit {
        return daily_throttle();
    }
    state.linkedin.daily.insert(day_key, used + 1);

    let request = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(map)) => map,
        _ => return rest_error(400, "ILLEGAL_ARGUMENT", "Request body could not be converted to data map"),
    };
    let missing: String = ["author", "commentary", "visibility", "distribution", "lifecycleState"]
        .iter()
        .filter(|f| !request.contains_key(**f))
        .map(|f| format!("ERROR :: /{f} :: field is required but not found and has no default value\n"))
        .collect();
    if !missing.is_empty() {
        return unprocessable(&missing);
    }
    let string = |f: &str| request.get(f).and_then(Value::as_str).map(str::to_owned);
    let (Some(author), Some(commentary), Some(visibility), Some(lifecycle_state)) =
        (string("author"), string("commentary"), string("visibility"), string("lifecycleState"))
    else {
        return unprocessable("ERROR :: author, commentary, visibility and lifecycleState must be strings\n");
    };
    if !VISIBILITIES.contains(&visibility.as_str()) {
        return unprocessable(&format!("ERROR :: /visibility :: \"{visibility}\" is not an enum symbol\n"));
    }
    if !LIFECYCLES.contains(&lifecycle_state.as_str()) {
        return unprocessable(&format!("ERROR :: /lifecycleState :: \"{lifecycle_state}\" is not an enum symbol\n"));
    }
    let distribution = request.get("distribution").cloned().unwrap_or(Value::Null);
    if distribution.get("feedDistribution").and_then(Value::as_str).is_none() {
        return unprocessable("ERROR :: /distribution/feedDistribution :: field is required but not found and has no default value\n");
    }
    let content = request.get("content").cloned();
    if let Some(article) = content.as_ref().and_then(|c| c.get("article"))
        && article.get("source").and_then(Value::as_str).is_none_or(|s| url::Url::parse(s).is_err())
    {
        return unprocessable("ERROR :: /content/article/source :: field is required but not found and has no default value\n");
    }
    // Who may post as whom (§2.2 permissions).
    if let Some(person) = author.strip_prefix("urn:li:person:") {
        if person != auth.member_id {
            return forbidden(&format!("Not enough permissions to access: partnerApiPostsExternal.CREATE.{}", "member mismatch"));
        }
        if !auth.has("w_member_social") {
            return forbidden("Not enough permissions to access: partnerApiPostsExternal.CREATE.NO_VERSION");
        }
    } else if let Some(org) = author.strip_prefix("urn:li:organization:") {
        let admin = state.linkedin.member(&auth.member_id).is_some_and(|m| m.orgs.iter().any(|o| o.to_string() == org));
        if !auth.has("w_organization_social") || !admin {
            return forbidden("Not enough permissions to access: partnerApiPostsExternal.CREATE.NO_VERSION");
        }
    } else {
        return unprocessable(&format!("ERROR :: /author :: \"{author}\" is not a valid person or organization URN\n"));
    }
    // Length: 3,000 characters (secondary, §2.2), counted on the commentary as sent.
    let length = commentary.chars().count();
    if length > MAX_COMMENTARY {
        let body = json!({
            "errorDetailType": "com.linkedin.common.error.BadRequest",
            "message": format!("ERROR :: /commentary :: commentary length {length} exceeds the maximum of {MAX_COMMENTARY} characters"),
            "errorDetails": {"inputErrors": [{"description": "Text length exceeds the maximum", "input": {"inputPath": {"fieldPath": "/commentary"}}, "code": "MAX_LENGTH_EXCEEDED"}]},
            "status": 422,
        });
        return error(StatusCode::UNPROCESSABLE_ENTITY, body);
    }
    let kept = little_text_keep(&commentary).to_owned();
    // Duplicate: the same author's live post with the same commentary (no time window documented).
    if let Some(original) =
        state.linkedin.posts.iter().find(|p| !p.deleted && p.author == author && p.commentary == kept && p.content == content)
    {
        let body = json!({
            "errorDetailType": "com.linkedin.common.error.BadRequest",
            "message": format!("com.linkedin.content.common.exception.BadRequestResponseException: Content is a duplicate of {}", original.urn),
            "errorDetails": {"inputErrors": [{"description": "Duplicate post is detected", "input": {}, "code": "DUPLICATE_POST"}]},
            "status": 422,
        });
        return error(StatusCode::UNPROCESSABLE_ENTITY, body);
    }
    let id = util::time_id(&mut state.linkedin.last_post_id, now, LINKEDIN_EPOCH_MS, 6_800_000_000_000_000_000);
    let urn = format!("urn:li:share:{id}");
    state.linkedin.posts.push(Post {
        urn: urn.clone(),
        member_id: auth.member_id.clone(),
        author: author.clone(),
        commentary: kept.clone(),
        visibility,
        lifecycle_state,
        distribution,
        content,
        created_at: now,
        deleted: false,
    });
    state.ledger.push(LedgerEntry {
        platform: "linkedin".to_owned(),
        user_id: auth.member_id,
        author,
        post_id: urn.clone(),
        text: kept,
        in_reply_to: None,
        received_at,
        accepted_at: now,
    });
    let mut response = StatusCode::CREATED.into_response();
    let headers = response.headers_mut();
    headers.insert("x-restli-id", HeaderValue::from_str(&urn).expect("ascii urn"));
    headers.insert("x-linkedin-id", HeaderValue::from_str(&urn).expect("ascii urn"));
    response
}

fn post_json(p: &Post) -> Value {
    let millis = p.created_at.timestamp_millis();
    let mut body = json!({
        "id": p.urn,
        "author": p.author,
        "commentary": p.commentary,
        "visibility": p.visibility,
        "distribution": p.distribution,
        "lifecycleState": p.lifecycle_state,
        "isReshareDisabledByAuthor": false,
        "createdAt": millis,
        "publishedAt": millis,
        "lastModifiedAt": millis,
        "lifecycleStateInfo": {"isEditedByAuthor": false},
    });
    if let Some(content) = &p.content {
        body["content"] = content.clone();
    }
    body
}

/// Reading posts needs the restricted read scopes (§2.2).
fn may_read(li: &LinkedInState, auth: &Auth, author: &str) -> bool {
    if author.strip_prefix("urn:li:person:").is_some() {
        return auth.has("r_member_social");
    }
    if let Some(org) = author.strip_prefix("urn:li:organization:") {
        let admin = li.member(&auth.member_id).is_some_and(|m| m.orgs.iter().any(|o| o.to_string() == org));
        return admin && auth.has("r_organization_social");
    }
    false
}

async fn get_post(AxumState(inner): Shared, headers: HeaderMap, Path(urn): Path<String>) -> Response {
    let auth = match authed(&inner, &headers).await {
        Ok(auth) => auth,
        Err(response) => return response,
    };
    if let Err(response) = check_versions(&inner, &headers) {
        return response;
    }
    let state = inner.lock();
    match state.linkedin.posts.iter().find(|p| !p.deleted && p.urn == urn) {
        Some(p) if may_read(&state.linkedin, &auth, &p.author) => util::json(StatusCode::OK, &post_json(p), HeaderMap::new()),
        Some(_) => forbidden("Not enough permissions to access: partnerApiPostsExternal.GET.NO_VERSION"),
        None => rest_error(404, "NOT_FOUND", &format!("Post {urn} not found")),
    }
}

async fn list_posts(AxumState(inner): Shared, headers: HeaderMap, Query(query): Query<HashMap<String, String>>) -> Response {
    let auth = match authed(&inner, &headers).await {
        Ok(auth) => auth,
        Err(response) => return response,
    };
    if let Err(response) = check_versions(&inner, &headers) {
        return response;
    }
    if query.get("q").map(String::as_str) != Some("author") {
        return rest_error(400, "ILLEGAL_ARGUMENT", "The finder \"q\" must be author.");
    }
    let Some(author) = query.get("author") else { return rest_error(400, "ILLEGAL_ARGUMENT", "The author parameter is required.") };
    let count = query.get("count").and_then(|c| c.parse::<usize>().ok()).unwrap_or(10).clamp(1, 100);
    let start = query.get("start").and_then(|c| c.parse::<usize>().ok()).unwrap_or(0);
    let state = inner.lock();
    let li = &state.linkedin;
    if !may_read(li, &auth, author) {
        return forbidden("Not enough permissions to access: partnerApiPostsExternal.FINDER-author.NO_VERSION");
    }
    let all: Vec<&Post> = li.posts.iter().rev().filter(|p| !p.deleted && p.author == *author).collect();
    let elements: Vec<Value> = all.iter().skip(start).take(count).map(|p| post_json(p)).collect();
    let body = json!({"paging": {"start": start, "count": count, "links": [], "total": all.len()}, "elements": elements});
    util::json(StatusCode::OK, &body, HeaderMap::new())
}

/// 204, idempotent (§2.2): an unknown or already deleted post answers 204 too.
async fn delete_post(AxumState(inner): Shared, headers: HeaderMap, Path(urn): Path<String>) -> Response {
    let auth = match authed(&inner, &headers).await {
        Ok(auth) => auth,
        Err(response) => return response,
    };
    if let Err(response) = check_versions(&inner, &headers) {
        return response;
    }
    let mut state = inner.lock();
    let li = &mut state.linkedin;
    let orgs = li.member(&auth.member_id).map(|m| m.orgs.clone()).unwrap_or_default();
    if let Some(post) = li.posts.iter_mut().find(|p| !p.deleted && p.urn == urn) {
        let own = post.member_id == auth.member_id && post.author.starts_with("urn:li:person:") && auth.has("w_member_social");
        let org = post.author.strip_prefix("urn:li:organization:").is_some_and(|o| orgs.iter().any(|id| id.to_string() == o))
            && auth.has("w_organization_social");
        if !own && !org {
            return forbidden("Not enough permissions to access: partnerApiPostsExternal.DELETE.NO_VERSION");
        }
        post.deleted = true;
    }
    StatusCode::NO_CONTENT.into_response()
}
