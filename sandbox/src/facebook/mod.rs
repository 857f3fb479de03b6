//! The Meta fake (Facebook Pages through the Graph API): the login dialog, the token endpoint,
//! `/me`, `/me/accounts`, `DELETE /me/permissions` (de-authorizing the app), and a Page's feed,
//! under `/facebook/{version}/...` with any `vNN.N` version.
//!
//! Bodies and statuses follow platforms.md §3 and §5; where the reference says NOT FOUND, the
//! choice made here is noted at the spot. Every error uses Meta's envelope
//! `{"error":{"message","type","code"[,"error_subcode"],"fbtrace_id"}}`.

#![allow(clippy::result_large_err)]

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State as AxumState};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};

use crate::faults::Faults;
use crate::util::{self, html_escape};
use crate::{Inner, LedgerEntry};

type Shared = AxumState<Arc<Inner>>;

/// Rate limits of the Meta fake; windows slide (usage = calls in the last hour / 24 hours).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FacebookLimits {
    /// Platform limit for user-token calls: this many per hour × the app's users (§3.4: "200 * Number
    /// of Users"). Over it: code 4; `X-App-Usage` shows the percentage.
    pub app_calls_per_hour_per_user: u32,
    /// One user's user-token calls per hour (code 17 over it). Not published: 200.
    pub user_calls_per_hour: u32,
    /// Page-token calls per Page per 24 hours (§3.4: 4,800 × engaged users; here a flat number).
    /// Over it: code 32; `X-Page-Usage` and `X-Business-Use-Case-Usage` show the percentage.
    pub page_calls_per_day: u32,
    /// Posts per Page per hour (code 613 "Calls to this api have exceeded the rate limit."). Not published: 100.
    pub posts_per_page_per_hour: u32,
}

impl Default for FacebookLimits {
    fn default() -> Self {
        FacebookLimits {
            app_calls_per_hour_per_user: 200,
            user_calls_per_hour: 200,
            page_calls_per_day: 4800,
            posts_per_page_per_hour: 100,
        }
    }
}

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
];
const DEFAULT_USER: &str = "Sandbox User";
const DEFAULT_PAGE: &str = "422575694827569";

struct App {
    app_secret: String,
    redirect_uri: String,
    name: String,
}

#[derive(Clone)]
struct User {
    id: String,
    name: String,
}

struct Page {
    id: String,
    name: String,
    category: String,
    /// Users who can CREATE_CONTENT on the Page.
    admins: Vec<String>,
}

struct Code {
    app_id: String,
    redirect_uri: String,
    user_id: String,
    scope: Vec<String>,
    expires_at: DateTime<Utc>,
    used: bool,
}

#[derive(Clone)]
enum Kind {
    User { long_lived: bool },
    Page { page_id: String },
}

#[derive(Clone)]
struct Token {
    kind: Kind,
    user_id: String,
    app_id: String,
    scope: Vec<String>,
    /// None: never expires (Page tokens from a long-lived user token).
    expires_at: Option<DateTime<Utc>>,
    /// The error subcode when the token was invalidated (458 app removed, 460 password changed,
    /// 467 logged out).
    invalidated: Option<u32>,
}

struct Post {
    id: String,
    page_id: String,
    message: String,
    link: Option<String>,
    created_at: DateTime<Utc>,
    deleted: bool,
}

pub(crate) struct FacebookState {
    apps: HashMap<String, App>,
    users: Vec<User>,
    pages: Vec<Page>,
    /// (user, app) → the Pages the user granted the app on the dialog.
    grants: HashMap<(String, String), Vec<String>>,
    codes: HashMap<String, Code>,
    tokens: HashMap<String, Token>,
    posts: Vec<Post>,
    last_post_id: u64,
    /// Sliding windows: key → call instants.
    calls: HashMap<String, VecDeque<DateTime<Utc>>>,
    pub(crate) faults: Faults,
}

fn default_users() -> Vec<User> {
    vec![User { id: "10160000000000001".to_owned(), name: DEFAULT_USER.to_owned() }]
}

fn default_pages() -> Vec<Page> {
    vec![
        Page {
            id: DEFAULT_PAGE.to_owned(),
            name: "Sandbox Page".to_owned(),
            category: "Software".to_owned(),
            admins: vec!["10160000000000001".to_owned()],
        },
        Page {
            id: "112130216863063".to_owned(),
            name: "Second Sandbox Page".to_owned(),
            category: "Blogger".to_owned(),
            admins: vec!["10160000000000001".to_owned()],
        },
    ]
}

impl FacebookState {
    pub(crate) fn new() -> Self {
        FacebookState {
            apps: HashMap::new(),
            users: default_users(),
            pages: default_pages(),
            grants: HashMap::new(),
            codes: HashMap::new(),
            tokens: HashMap::new(),
            posts: Vec::new(),
            last_post_id: 917_077_345_377_399,
            calls: HashMap::new(),
            faults: Faults::new(),
        }
    }

    pub(crate) fn reset(&mut self) {
        let apps = std::mem::take(&mut self.apps);
        *self = FacebookState::new();
        self.apps = apps;
    }

    pub(crate) fn register_app(&mut self, app_id: &str, app_secret: &str, redirect_uri: &str, name: &str) {
        let app = App { app_secret: app_secret.to_owned(), redirect_uri: redirect_uri.to_owned(), name: name.to_owned() };
        self.apps.insert(app_id.to_owned(), app);
    }

    pub(crate) fn expire_token(&mut self, token: &str, now: DateTime<Utc>) -> bool {
        match self.tokens.get_mut(token) {
            Some(t) => {
                t.expires_at = Some(now);
                true
            }
            None => false,
        }
    }

    /// Every token of the user (and the Page tokens got through them) dies with 190/460.
    pub(crate) fn revoke_user(&mut self, user: &str) -> usize {
        let Some(id) = self.users.iter().find(|u| u.id == user || u.name == user).map(|u| u.id.clone()) else { return 0 };
        self.invalidate(460, |t| t.user_id == id)
    }

    /// The person removes the app (`DELETE /me/permissions`): its grant and unused codes go, and
    /// every token of that person for that app, Page tokens included, dies with 190/458 "App Not
    /// Installed" (§3.3: "user removed app"; §3.2: de-authorizing invalidates Page tokens). Their
    /// tokens for other apps live on.
    fn deauthorize(&mut self, user_id: &str, app_id: &str) {
        self.grants.remove(&(user_id.to_owned(), app_id.to_owned()));
        self.codes.retain(|_, c| !(c.user_id == user_id && c.app_id == app_id));
        self.invalidate(458, |t| t.user_id == user_id && t.app_id == app_id);
    }

    /// Invalidates every live token `which` picks with `subcode`; how many.
    fn invalidate(&mut self, subcode: u32, which: impl Fn(&Token) -> bool) -> usize {
        let mut count = 0;
        for t in self.tokens.values_mut().filter(|t| t.invalidated.is_none() && which(t)) {
            t.invalidated = Some(subcode);
            count += 1;
        }
        count
    }

    fn user_by_name(&mut self, name: &str) -> User {
        if let Some(u) = self.users.iter().find(|u| u.name.eq_ignore_ascii_case(name)) {
            return u.clone();
        }
        let next = self.users.iter().filter_map(|u| u.id.parse::<u64>().ok()).max().unwrap_or(10_160_000_000_000_000) + 1;
        let user = User { id: next.to_string(), name: name.to_owned() };
        self.users.push(user.clone());
        user
    }

    /// Counts one call in a sliding window; returns (calls in the window including this one, minutes
    /// until the oldest leaves it).
    fn count(&mut self, key: &str, period: TimeDelta, now: DateTime<Utc>) -> usize {
        let calls = self.calls.entry(key.to_owned()).or_default();
        while calls.front().is_some_and(|t| *t + period <= now) {
            calls.pop_front();
        }
        calls.push_back(now);
        calls.len()
    }

    fn used(&mut self, key: &str, period: TimeDelta, now: DateTime<Utc>) -> (usize, i64) {
        let calls = self.calls.entry(key.to_owned()).or_default();
        while calls.front().is_some_and(|t| *t + period <= now) {
            calls.pop_front();
        }
        let regain = calls.front().map(|t| ((*t + period - now).num_seconds() + 59) / 60).unwrap_or(0);
        (calls.len(), regain)
    }
}

pub(crate) fn routes() -> Router<Arc<Inner>> {
    Router::new()
        .route("/facebook/{version}/{node}", get(get_node).delete(delete_node))
        .route("/facebook/{version}/{node}/{edge}", get(get_edge).post(post_edge).delete(delete_edge))
}

// ---------------------------------------------------------------------------------------------
// Errors (§3.3).

fn trace_id() -> String {
    util::random_token().chars().filter(|c| c.is_ascii_alphanumeric()).take(11).collect()
}

fn graph_error(status: StatusCode, kind: &str, code: u32, subcode: Option<u32>, message: &str, transient: Option<bool>) -> Response {
    let mut error = json!({"message": message, "type": kind, "code": code});
    if let Some(subcode) = subcode {
        error["error_subcode"] = json!(subcode);
    }
    if let Some(transient) = transient {
        error["is_transient"] = json!(transient);
    }
    error["fbtrace_id"] = json!(trace_id());
    util::json(status, &json!({"error": error}), HeaderMap::new())
}

fn oauth_exception(code: u32, subcode: Option<u32>, message: &str) -> Response {
    graph_error(StatusCode::BAD_REQUEST, "OAuthException", code, subcode, message, None)
}

fn permission(message: &str) -> Response {
    oauth_exception(200, None, &format!("(#200) {message}"))
}

fn invalid_parameter(message: &str) -> Response {
    oauth_exception(100, None, &format!("(#100) {message}"))
}

fn transient_500() -> Response {
    graph_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "OAuthException",
        2,
        None,
        "An unexpected error has occurred. Please retry your request later.",
        Some(true),
    )
}

fn with_headers(mut response: Response, headers: HeaderMap) -> Response {
    response.headers_mut().extend(headers);
    response
}

fn fb_date(t: DateTime<Utc>) -> String {
    t.format("%A, %d-%b-%y %H:%M:%S UTC").to_string()
}

/// The token of a request: `access_token` in the query or form, or `Authorization: Bearer|OAuth`.
fn token_of<'a>(headers: &'a HeaderMap, params: &'a HashMap<String, String>) -> Option<&'a str> {
    params.get("access_token").map(String::as_str).filter(|t| !t.is_empty()).or_else(|| util::bearer_token(headers))
}

fn check_token(meta: &FacebookState, token: Option<&str>, now: DateTime<Utc>, me: bool) -> Result<(String, Token), Response> {
    let Some(token) = token else {
        return Err(if me {
            oauth_exception(2500, None, "An active access token must be used to query information about the current user.")
        } else {
            oauth_exception(104, None, "An access token is required to request this resource.")
        });
    };
    let Some(t) = meta.tokens.get(token) else {
        return Err(oauth_exception(190, None, "Invalid OAuth access token - Cannot parse access token"));
    };
    if let Some(subcode) = t.invalidated {
        let message = match subcode {
            460 => {
                "Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons.".to_owned()
            }
            // §3.3 names 458 "App Not Installed" without quoting its message; this wording is the sandbox's.
            458 => format!("Error validating access token: The user has not authorized application {}.", t.app_id),
            _ => "Error validating access token: The session is invalid because the user logged out.".to_owned(),
        };
        return Err(oauth_exception(190, Some(subcode), &message));
    }
    if let Some(expires_at) = t.expires_at
        && now >= expires_at
    {
        let message =
            format!("Error validating access token: Session has expired on {}. The current time is {}.", fb_date(expires_at), fb_date(now));
        return Err(oauth_exception(190, Some(463), &message));
    }
    Ok((token.to_owned(), t.clone()))
}

/// A `vNN.N` path prefix, optionally restricted to the configured versions.
fn check_version(inner: &Inner, version: &str) -> Result<(), Response> {
    let well_formed = version.strip_prefix('v').and_then(|v| v.split_once('.')).is_some_and(|(a, b)| {
        !a.is_empty() && !b.is_empty() && a.bytes().all(|c| c.is_ascii_digit()) && b.bytes().all(|c| c.is_ascii_digit())
    });
    let allowed = &inner.config.facebook_graph_versions;
    if !well_formed || (!allowed.is_empty() && !allowed.iter().any(|v| v == version)) {
        // The exact body for an unknown version is NOT FOUND (§6).
        return Err(oauth_exception(2500, None, &format!("Unknown path components: /{version}")));
    }
    Ok(())
}

/// Injected faults, scoped by the Facebook user behind the token.
async fn front_door(inner: &Inner, user: Option<&str>) -> Result<(), Response> {
    let throttled = |reset_secs: u64| {
        // A Page-level throttle whose usage header says when access comes back (in minutes).
        let mut headers = HeaderMap::new();
        headers.insert("x-business-use-case-usage", buc_usage(user.unwrap_or("0"), 100, reset_secs.div_ceil(60) as i64));
        let e = graph_error(StatusCode::BAD_REQUEST, "OAuthException", 32, None, "(#32) Page request limit reached", Some(true));
        with_headers(e, headers)
    };
    let decision = inner.lock().facebook.faults.decide(user, transient_500, throttled);
    decision.apply().await
}

fn user_of(inner: &Inner, headers: &HeaderMap, params: &HashMap<String, String>) -> Option<String> {
    let token = token_of(headers, params)?;
    inner.lock().facebook.tokens.get(token).map(|t| t.user_id.clone())
}

/// Counts a call against the platform (user token) or Page (Page token) limits; the usage headers
/// to send, or the throttling error (with the headers at 100%).
fn rate_limit(inner: &Inner, meta: &mut FacebookState, token: &Token, now: DateTime<Utc>) -> Result<HeaderMap, Response> {
    let limits = &inner.config.facebook_limits;
    let mut headers = HeaderMap::new();
    let pct = |used: usize, limit: u32| ((used as u64 * 100) / u64::from(limit.max(1))).min(100);
    match &token.kind {
        Kind::User { .. } => {
            let users = meta
                .tokens
                .values()
                .filter(|t| t.app_id == token.app_id)
                .map(|t| t.user_id.as_str())
                .collect::<std::collections::HashSet<_>>()
                .len()
                .max(1);
            let app_limit = limits.app_calls_per_hour_per_user.saturating_mul(users as u32);
            let app_key = format!("app:{}", token.app_id);
            let user_key = format!("user:{}:{}", token.app_id, token.user_id);
            let (app_used, _) = meta.used(&app_key, TimeDelta::hours(1), now);
            let (user_used, _) = meta.used(&user_key, TimeDelta::hours(1), now);
            if app_used >= app_limit as usize {
                let p = pct(app_used, app_limit);
                headers.insert("x-app-usage", app_usage(p));
                let e =
                    graph_error(StatusCode::BAD_REQUEST, "OAuthException", 4, None, "(#4) Application request limit reached", Some(true));
                return Err(with_headers(e, headers));
            }
            if user_used >= limits.user_calls_per_hour as usize {
                headers.insert("x-app-usage", app_usage(pct(app_used, app_limit)));
                let e = graph_error(StatusCode::BAD_REQUEST, "OAuthException", 17, None, "(#17) User request limit reached", Some(true));
                return Err(with_headers(e, headers));
            }
            let app_used = meta.count(&app_key, TimeDelta::hours(1), now);
            meta.count(&user_key, TimeDelta::hours(1), now);
            let p = pct(app_used, app_limit);
            // "There is no header if the Page's utilization is effectively 0%" (§3.4); the same for the app.
            if p > 0 {
                headers.insert("x-app-usage", app_usage(p));
            }
        }
        Kind::Page { page_id } => {
            let key = format!("page:{page_id}");
            let limit = limits.page_calls_per_day;
            let (used, regain) = meta.used(&key, TimeDelta::hours(24), now);
            if used >= limit as usize {
                headers.insert("x-page-usage", page_usage(100));
                headers.insert("x-business-use-case-usage", buc_usage(page_id, 100, regain));
                let e = graph_error(StatusCode::BAD_REQUEST, "OAuthException", 32, None, "(#32) Page request limit reached", Some(true));
                return Err(with_headers(e, headers));
            }
            let used = meta.count(&key, TimeDelta::hours(24), now);
            let p = pct(used, limit);
            if p > 0 {
                let regain = if p >= 100 { meta.used(&key, TimeDelta::hours(24), now).1 } else { 0 };
                headers.insert("x-page-usage", page_usage(p));
                headers.insert("x-business-use-case-usage", buc_usage(page_id, p, regain));
            }
        }
    }
    Ok(headers)
}

fn header_json(value: Value) -> HeaderValue {
    HeaderValue::from_str(&value.to_string()).expect("JSON is ASCII here")
}

fn app_usage(p: u64) -> HeaderValue {
    header_json(json!({"call_count": p, "total_time": p, "total_cputime": p}))
}

fn page_usage(p: u64) -> HeaderValue {
    header_json(json!({"call_count": p, "total_cputime": p, "total_time": p}))
}

fn buc_usage(page_id: &str, p: u64, regain_minutes: i64) -> HeaderValue {
    header_json(json!({ page_id: [{
        "type": "pages",
        "call_count": p,
        "total_cputime": p,
        "total_time": p,
        "estimated_time_to_regain_access": regain_minutes,
    }]}))
}

/// The common front of the API endpoints: version, faults, token, rate limits.
async fn enter(
    inner: &Inner,
    version: &str,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
    me: bool,
) -> Result<(Token, HeaderMap), Response> {
    check_version(inner, version)?;
    front_door(inner, user_of(inner, headers, params).as_deref()).await?;
    let now = inner.now();
    let mut state = inner.lock();
    let (_, token) = check_token(&state.facebook, token_of(headers, params), now, me)?;
    let usage = rate_limit(inner, &mut state.facebook, &token, now)?;
    Ok((token, usage))
}

// ---------------------------------------------------------------------------------------------
// Dispatch: `/facebook/{version}/{node}` and `/facebook/{version}/{node}/{edge}`.

async fn get_node(
    AxumState(inner): Shared,
    Path((version, node)): Path<(String, String)>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    if node == "me" {
        return me(&inner, &version, &headers, &params).await;
    }
    page_node(&inner, &version, &node, &headers, &params).await
}

async fn delete_node(
    AxumState(inner): Shared,
    Path((version, node)): Path<(String, String)>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    delete_post(&inner, &version, &node, &headers, &params).await
}

async fn get_edge(
    AxumState(inner): Shared,
    Path((version, node, edge)): Path<(String, String, String)>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    match (node.as_str(), edge.as_str()) {
        ("dialog", "oauth") => dialog_page(&inner, &version, &params),
        ("oauth", "access_token") => access_token(&inner, &version, &params).await,
        ("me", "accounts") => accounts(&inner, &version, &headers, &params).await,
        (_, "feed") | (_, "posts") | (_, "published_posts") => feed(&inner, &version, &node, &headers, &params).await,
        _ => unknown_path(&node, &edge),
    }
}

async fn post_edge(
    AxumState(inner): Shared,
    Path((version, node, edge)): Path<(String, String, String)>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    match (node.as_str(), edge.as_str()) {
        ("dialog", "oauth") => dialog_submit(&inner, &version, &body),
        (_, "feed") => {
            // JSON or form body; query parameters too (Graph merges them).
            let mut params = query;
            let is_json = headers
                .get(axum::http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|c| c.starts_with("application/json"));
            if is_json {
                match serde_json::from_slice::<Value>(&body) {
                    Ok(Value::Object(map)) => {
                        for (k, v) in map {
                            let v = match v {
                                Value::String(s) => s,
                                other => other.to_string(),
                            };
                            params.insert(k, v);
                        }
                    }
                    _ => return invalid_parameter("The request body is not valid JSON"),
                }
            } else {
                params.extend(util::parse_form(&body));
            }
            publish(&inner, &version, &node, &headers, &params).await
        }
        _ => unknown_path(&node, &edge),
    }
}

async fn delete_edge(
    AxumState(inner): Shared,
    Path((version, node, edge)): Path<(String, String, String)>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    match edge.as_str() {
        "permissions" => deauthorize(&inner, &version, &node, &headers, &params).await,
        _ => unknown_path(&node, &edge),
    }
}

fn unknown_path(node: &str, edge: &str) -> Response {
    oauth_exception(2500, None, &format!("Unknown path components: /{node}/{edge}"))
}

// ---------------------------------------------------------------------------------------------
// Login dialog (§3.2).

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

fn dialog_page(inner: &Inner, version: &str, params: &HashMap<String, String>) -> Response {
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

fn dialog_submit(inner: &Inner, version: &str, body: &[u8]) -> Response {
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

// ---------------------------------------------------------------------------------------------
// Token endpoint (§3.2): `GET /oauth/access_token`, code or fb_exchange_token; no refresh tokens.

fn new_token() -> String {
    format!("EAA{}{}", util::random_token(), util::random_token()).replace(['-', '_'], "Z")
}

async fn access_token(inner: &Inner, version: &str, params: &HashMap<String, String>) -> Response {
    if let Err(response) = check_version(inner, version) {
        return response;
    }
    if let Err(response) = front_door(inner, None).await {
        return response;
    }
    let now = inner.now();
    let config = &inner.config;
    let short_ttl = TimeDelta::from_std(config.facebook_short_user_token_ttl).unwrap_or(TimeDelta::hours(2));
    let long_ttl = TimeDelta::from_std(config.facebook_long_user_token_ttl).unwrap_or(TimeDelta::days(60));
    let get = |k: &str| params.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let mut state = inner.lock();
    let meta = &mut state.facebook;
    let Some(app_id) = get("client_id") else { return invalid_parameter("Missing client_id parameter.") };
    let Some(app) = meta.apps.get(app_id) else {
        return oauth_exception(101, None, "Error validating application. Invalid application ID.");
    };
    let Some(secret) = get("client_secret") else { return oauth_exception(1, None, "Missing client_secret parameter.") };
    if app.app_secret != secret {
        return oauth_exception(1, None, "Error validating client secret.");
    }
    let (user_id, scope, long_lived) = if get("grant_type") == Some("fb_exchange_token") {
        let Some(short) = get("fb_exchange_token") else { return invalid_parameter("Missing fb_exchange_token parameter.") };
        // "You can not use an expired token to request a long-lived token."
        let (_, t) = match check_token(meta, Some(short), now, false) {
            Ok(found) => found,
            Err(response) => return response,
        };
        if t.app_id != app_id || !matches!(t.kind, Kind::User { .. }) {
            return oauth_exception(190, None, "Invalid OAuth access token - Cannot parse access token");
        }
        (t.user_id, t.scope, true)
    } else {
        let Some(redirect_uri) = get("redirect_uri") else { return invalid_parameter("Missing redirect_uri parameter.") };
        let Some(code) = get("code") else { return invalid_parameter("Missing code parameter.") };
        let Some(grant) = meta.codes.get_mut(code) else { return oauth_exception(100, None, "Invalid verification code format.") };
        if grant.used {
            return oauth_exception(100, Some(36009), "This authorization code has been used.");
        }
        grant.used = true;
        if grant.app_id != app_id {
            return oauth_exception(100, None, "Invalid verification code format.");
        }
        if now >= grant.expires_at {
            return oauth_exception(100, Some(36007), "This authorization code has expired.");
        }
        if grant.redirect_uri != redirect_uri {
            return oauth_exception(
                100,
                Some(36008),
                "Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request",
            );
        }
        (grant.user_id.clone(), grant.scope.clone(), false)
    };
    let ttl = if long_lived { long_ttl } else { short_ttl };
    let token = new_token();
    let record = Token {
        kind: Kind::User { long_lived },
        user_id,
        app_id: app_id.to_owned(),
        scope,
        expires_at: Some(now + ttl),
        invalidated: None,
    };
    meta.tokens.insert(token.clone(), record);
    util::json(StatusCode::OK, &json!({"access_token": token, "token_type": "bearer", "expires_in": ttl.num_seconds()}), HeaderMap::new())
}

// ---------------------------------------------------------------------------------------------
// Nodes and edges.

async fn me(inner: &Inner, version: &str, headers: &HeaderMap, params: &HashMap<String, String>) -> Response {
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
            select(json!({"id": page.id, "name": page.name, "category": page.category}), fields)
        }
    };
    util::json(StatusCode::OK, &body, usage)
}

/// Keeps only the asked `fields` (always `id`).
fn select(all: Value, fields: &str) -> Value {
    let wanted: Vec<&str> = fields.split(',').map(str::trim).collect();
    let mut out = serde_json::Map::new();
    if let Value::Object(map) = all {
        for (k, v) in map {
            if k == "id" || wanted.contains(&k.as_str()) {
                out.insert(k, v);
            }
        }
    }
    Value::Object(out)
}

async fn accounts(inner: &Inner, version: &str, headers: &HeaderMap, params: &HashMap<String, String>) -> Response {
    let (token, usage) = match enter(inner, version, headers, params, true).await {
        Ok(entered) => entered,
        Err(response) => return response,
    };
    let Kind::User { long_lived } = token.kind else {
        return not_on_a_page("accounts");
    };
    if !token.scope.iter().any(|s| s == "pages_show_list") {
        return with_headers(permission("Requires pages_show_list permission to manage the object"), usage);
    }
    let now = inner.now();
    let page_ttl = TimeDelta::from_std(inner.config.facebook_short_page_token_ttl).unwrap_or(TimeDelta::hours(1));
    let mut state = inner.lock();
    let meta = &mut state.facebook;
    let granted = meta.grants.get(&(token.user_id.clone(), token.app_id.clone())).cloned().unwrap_or_default();
    let mut data = Vec::new();
    for page_id in granted {
        let Some(page) = meta.pages.iter().find(|p| p.id == page_id && p.admins.contains(&token.user_id)) else { continue };
        let (name, category) = (page.name.clone(), page.category.clone());
        let page_token = new_token();
        // From a short-lived user token: 1 hour; from a long-lived one: no expiry (§3.2).
        let expires_at = if long_lived { None } else { Some(now + page_ttl) };
        let record = Token {
            kind: Kind::Page { page_id: page_id.clone() },
            user_id: token.user_id.clone(),
            app_id: token.app_id.clone(),
            scope: token.scope.clone(),
            expires_at,
            invalidated: None,
        };
        meta.tokens.insert(page_token.clone(), record);
        data.push(json!({
            "access_token": page_token,
            "category": category,
            "category_list": [{"id": "2211", "name": category}],
            "name": name,
            "id": page_id,
            "tasks": ["ANALYZE", "ADVERTISE", "MODERATE", "CREATE_CONTENT", "MANAGE"],
        }));
    }
    let body = json!({"data": data, "paging": {"cursors": {"before": "QVFIUkJEZA", "after": "QVFIUkJEZA"}}});
    util::json(StatusCode::OK, &body, usage)
}

async fn page_node(inner: &Inner, version: &str, node: &str, headers: &HeaderMap, params: &HashMap<String, String>) -> Response {
    let (_token, usage) = match enter(inner, version, headers, params, false).await {
        Ok(entered) => entered,
        Err(response) => return response,
    };
    let state = inner.lock();
    let meta = &state.facebook;
    let fields = params.get("fields").map(String::as_str).unwrap_or("id,name");
    if let Some(page) = meta.pages.iter().find(|p| p.id == node) {
        return util::json(StatusCode::OK, &select(json!({"id": page.id, "name": page.name, "category": page.category}), fields), usage);
    }
    if let Some(post) = meta.posts.iter().find(|p| !p.deleted && p.id == node) {
        return util::json(StatusCode::OK, &select(post_json(post), fields), usage);
    }
    with_headers(not_found(node, "get"), usage)
}

/// With a Page token, `/me` is the Page, which has no such edge.
fn not_on_a_page(edge: &str) -> Response {
    invalid_parameter(&format!("Tried accessing nonexisting field ({edge}) on node type (Page)"))
}

/// `DELETE /me/permissions` or `DELETE /{user-id}/permissions` with a user token: the person
/// de-authorizes the app (see [`FacebookState::deauthorize`]). Meta's User permissions reference says
/// the answer is `true` (not in platforms.md); the sandbox answers `{"success": true}`, the shape
/// of §3.1's delete, which clients must accept too. Removing one permission
/// (`/permissions/{name}`) and calls with an app token are not served.
async fn deauthorize(inner: &Inner, version: &str, node: &str, headers: &HeaderMap, params: &HashMap<String, String>) -> Response {
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

fn not_found(id: &str, operation: &str) -> Response {
    let message = format!(
        "Unsupported {operation} request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api"
    );
    graph_error(StatusCode::BAD_REQUEST, "GraphMethodException", 100, Some(33), &message, None)
}

fn post_json(p: &Post) -> Value {
    let mut body = json!({"created_time": p.created_at.format("%Y-%m-%dT%H:%M:%S+0000").to_string(), "message": p.message, "id": p.id});
    if let Some(link) = &p.link {
        body["link"] = json!(link);
    }
    body
}

/// The Page a Page token may act on; user tokens are refused for Page publishing (§3.1).
fn page_token_for(token: &Token, page_id: &str) -> Result<(), Response> {
    match &token.kind {
        Kind::Page { page_id: own } if own == page_id => Ok(()),
        _ => Err(permission(
            "If posting to a page, requires both pages_read_engagement and pages_manage_posts as an admin with sufficient administrative permission",
        )),
    }
}

async fn publish(inner: &Inner, version: &str, page_id: &str, headers: &HeaderMap, params: &HashMap<String, String>) -> Response {
    let received_at = inner.now();
    let (token, usage) = match enter(inner, version, headers, params, false).await {
        Ok(entered) => entered,
        Err(response) => return response,
    };
    let now = inner.now();
    let mut state = inner.lock();
    if !state.facebook.pages.iter().any(|p| p.id == page_id) {
        return with_headers(not_found(page_id, "post"), usage);
    }
    if let Err(response) = page_token_for(&token, page_id) {
        return with_headers(response, usage);
    }
    if !token.scope.iter().any(|s| s == "pages_manage_posts")
        || !state.facebook.pages.iter().any(|p| p.id == page_id && p.admins.contains(&token.user_id))
    {
        return with_headers(
            permission(
                "The user must be an administrator, editor, or moderator of the page in order to impersonate it. / requires pages_manage_posts",
            ),
            usage,
        );
    }
    let message = params.get("message").cloned().unwrap_or_default();
    let link = params.get("link").filter(|l| !l.is_empty()).cloned();
    if message.is_empty() && link.is_none() {
        return with_headers(invalid_parameter("Missing message or attachment"), usage);
    }
    if let Some(link) = &link
        && url::Url::parse(link).is_err()
    {
        return with_headers(
            graph_error(
                StatusCode::BAD_REQUEST,
                "OAuthException",
                1609005,
                None,
                "Error Posting Link: the link could not be fetched.",
                None,
            ),
            usage,
        );
    }
    // Posts per Page per hour: 613.
    let post_key = format!("posts:{page_id}");
    let (posted, _) = state.facebook.used(&post_key, TimeDelta::hours(1), now);
    if posted >= inner.config.facebook_limits.posts_per_page_per_hour as usize {
        let e = graph_error(
            StatusCode::BAD_REQUEST,
            "OAuthException",
            613,
            None,
            "Calls to this api have exceeded the rate limit.",
            Some(true),
        );
        return with_headers(e, usage);
    }
    // "Duplicate posts cannot be published consecutively": the same as the Page's latest live post.
    let latest = state.facebook.posts.iter().rev().find(|p| !p.deleted && p.page_id == page_id);
    if latest.is_some_and(|p| p.message == message && p.link == link) {
        let e = graph_error(StatusCode::BAD_REQUEST, "OAuthException", 506, None, "(#506) Duplicate status message", Some(false));
        return with_headers(e, usage);
    }
    state.facebook.count(&post_key, TimeDelta::hours(1), now);
    state.facebook.last_post_id += 1 + util::random_u64() % 1000;
    let id = format!("{page_id}_{}", state.facebook.last_post_id);
    state.facebook.posts.push(Post {
        id: id.clone(),
        page_id: page_id.to_owned(),
        message: message.clone(),
        link: link.clone(),
        created_at: now,
        deleted: false,
    });
    let text = match &link {
        Some(link) if message.is_empty() => link.clone(),
        _ => message,
    };
    state.ledger.push(LedgerEntry {
        platform: "facebook".to_owned(),
        user_id: token.user_id.clone(),
        author: page_id.to_owned(),
        post_id: id.clone(),
        text,
        in_reply_to: None,
        received_at,
        accepted_at: now,
    });
    if state.facebook.faults.created_then_500 > 0 {
        state.facebook.faults.created_then_500 -= 1;
        state.facebook.faults.injected += 1;
        return with_headers(transient_500(), usage);
    }
    util::json(StatusCode::OK, &json!({"id": id}), usage)
}

async fn feed(inner: &Inner, version: &str, page_id: &str, headers: &HeaderMap, params: &HashMap<String, String>) -> Response {
    let (token, usage) = match enter(inner, version, headers, params, false).await {
        Ok(entered) => entered,
        Err(response) => return response,
    };
    let state = inner.lock();
    let meta = &state.facebook;
    if !meta.pages.iter().any(|p| p.id == page_id) {
        return with_headers(not_found(page_id, "get"), usage);
    }
    let allowed = match &token.kind {
        Kind::Page { page_id: own } => own == page_id,
        Kind::User { .. } => meta.pages.iter().any(|p| p.id == page_id && p.admins.contains(&token.user_id)),
    };
    if !allowed || !token.scope.iter().any(|s| s == "pages_read_engagement") {
        return with_headers(permission("Missing Permission: requires pages_read_engagement and a Page access token"), usage);
    }
    let limit = params.get("limit").and_then(|l| l.parse::<usize>().ok()).unwrap_or(25).clamp(1, 100);
    let data: Vec<Value> = meta.posts.iter().rev().filter(|p| !p.deleted && p.page_id == page_id).take(limit).map(post_json).collect();
    util::json(StatusCode::OK, &json!({"data": data, "paging": {"cursors": {"before": "QVFIUkJEZA", "after": "QVFIUkJEZA"}}}), usage)
}

async fn delete_post(inner: &Inner, version: &str, post_id: &str, headers: &HeaderMap, params: &HashMap<String, String>) -> Response {
    let (token, usage) = match enter(inner, version, headers, params, false).await {
        Ok(entered) => entered,
        Err(response) => return response,
    };
    let mut state = inner.lock();
    let Some(post) = state.facebook.posts.iter_mut().find(|p| !p.deleted && p.id == post_id) else {
        return with_headers(not_found(post_id, "delete"), usage);
    };
    let own_page = matches!(&token.kind, Kind::Page { page_id } if *page_id == post.page_id);
    if !own_page || !token.scope.iter().any(|s| s == "pages_manage_posts") {
        return with_headers(permission("The user hasn't authorized the application to perform this action"), usage);
    }
    post.deleted = true;
    util::json(StatusCode::OK, &json!({"success": true}), usage)
}
