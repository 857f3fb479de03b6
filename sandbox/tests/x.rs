//! The X fake over real HTTP: the router is bound on 127.0.0.1:0 and called with reqwest.

mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use crier_sandbox::XLimits;
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::Harness;

const CLIENT_ID: &str = "crier-test-client";
const CLIENT_SECRET: &str = "s3cret";
const REDIRECT: &str = "http://localhost:3000/connect/x/callback";
const APP_NAME: &str = "Crier Test App";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const SCOPES: &str = "tweet.read tweet.write users.read offline.access";

async fn start() -> Harness {
    start_with(XLimits::default()).await
}

async fn start_with(limits: XLimits) -> Harness {
    support::serve(|config| config.x_limits = limits, |sandbox| sandbox.register_x_app(CLIENT_ID, CLIENT_SECRET, REDIRECT, APP_NAME)).await
}

fn authorize_params(scope: &str) -> Vec<(&'static str, String)> {
    vec![
        ("response_type", "code".into()),
        ("client_id", CLIENT_ID.into()),
        ("redirect_uri", REDIRECT.into()),
        ("scope", scope.into()),
        ("state", "st4te".into()),
        ("code_challenge", crier_protocol::pkce::s256_challenge(VERIFIER)),
        ("code_challenge_method", "S256".into()),
    ]
}

fn query_of(location: &str) -> HashMap<String, String> {
    let query = location.split_once('?').map(|(_, q)| q).unwrap_or("");
    query.split('&').filter_map(|pair| pair.split_once('=')).map(|(k, v)| (k.to_owned(), v.replace("%20", " ").replace('+', " "))).collect()
}

impl Harness {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn consent(&self, params: &[(&str, String)]) -> reqwest::Response {
        self.http.get(self.url("/x/i/oauth2/authorize")).query(params).send().await.unwrap()
    }

    /// Submits the consent form; returns the redirect's query.
    async fn submit(&self, scope: &str, account: &str, action: &str) -> HashMap<String, String> {
        let mut form = authorize_params(scope);
        form.push(("account", account.into()));
        form.push(("action", action.into()));
        let response = self.http.post(self.url("/x/i/oauth2/authorize")).form(&form).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FOUND);
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        assert!(location.starts_with(REDIRECT), "{location}");
        query_of(&location)
    }

    async fn code(&self, scope: &str, account: &str) -> String {
        let query = self.submit(scope, account, "authorize").await;
        assert_eq!(query["state"], "st4te");
        query["code"].clone()
    }

    async fn token(&self, form: &[(&str, &str)]) -> reqwest::Response {
        self.http.post(self.url("/x/2/oauth2/token")).basic_auth(CLIENT_ID, Some(CLIENT_SECRET)).form(form).send().await.unwrap()
    }

    async fn exchange(&self, code: &str, verifier: &str) -> reqwest::Response {
        self.token(&[("grant_type", "authorization_code"), ("code", code), ("redirect_uri", REDIRECT), ("code_verifier", verifier)]).await
    }

    /// The whole flow for `account`: the token response body.
    async fn connect(&self, account: &str) -> Value {
        let code = self.code(SCOPES, account).await;
        let response = self.exchange(&code, VERIFIER).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    async fn me(&self, token: &str) -> reqwest::Response {
        self.http.get(self.url("/x/2/users/me")).bearer_auth(token).send().await.unwrap()
    }

    async fn post(&self, token: &str, body: Value) -> reqwest::Response {
        self.http.post(self.url("/x/2/tweets")).bearer_auth(token).json(&body).send().await.unwrap()
    }

    async fn control(&self, path: &str, body: Value) -> reqwest::Response {
        self.http.post(self.url(path)).json(&body).send().await.unwrap()
    }
}

fn at(body: &Value) -> &str {
    body["access_token"].as_str().unwrap()
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response.headers().get(name).unwrap_or_else(|| panic!("missing {name}")).to_str().unwrap()
}

const UNAUTHORIZED: &str = r#"{"title":"Unauthorized","type":"about:blank","status":401,"detail":"Unauthorized"}"#;

async fn assert_unauthorized(response: reqwest::Response) {
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, serde_json::from_str::<Value>(UNAUTHORIZED).unwrap());
}

async fn assert_oauth_error(response: reqwest::Response, status: StatusCode, error: &str, description: &str) {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], error, "{body}");
    assert_eq!(body["error_description"], description, "{body}");
}

// ---------------------------------------------------------------------------------------------
// Consent page.

#[tokio::test]
async fn consent_page_names_the_app_lists_scopes_and_has_both_buttons() {
    let h = start().await;
    let response = h.consent(&authorize_params(SCOPES)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(header(&response, "content-type").starts_with("text/html"));
    let html = response.text().await.unwrap();
    assert!(html.contains(APP_NAME));
    for scope in SCOPES.split(' ') {
        assert!(html.contains(&format!("<code>{scope}</code>")), "{scope}");
    }
    assert!(html.contains(">Authorize</button>"));
    assert!(html.contains(">Cancel</button>"));
    assert!(html.contains(&format!("action=\"{}/x/i/oauth2/authorize\"", h.base)));
    assert!(html.contains("name=\"account\""));
    assert!(html.contains("sandbox_user"));
    assert!(html.contains("Account"));
    for (name, _) in authorize_params(SCOPES) {
        assert!(html.contains(&format!("type=\"hidden\" name=\"{name}\"")), "{name}");
    }
}

#[tokio::test]
async fn consent_page_shows_errors_instead_of_redirecting() {
    let h = start().await;
    let cases: [(&str, &str, &str); 5] = [
        ("client_id", "nobody", "Unknown client_id"),
        ("redirect_uri", "http://evil.example/cb", "does not match"),
        ("code_challenge_method", "plain", "S256"),
        ("code_challenge", "", "code_challenge"),
        ("scope", "tweet.read nonsense.scope", "Unknown scope"),
    ];
    for (field, value, message) in cases {
        let mut params = authorize_params(SCOPES);
        params.iter_mut().find(|(k, _)| *k == field).unwrap().1 = value.to_owned();
        let response = h.consent(&params).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{field}");
        assert!(response.headers().get("location").is_none());
        let html = response.text().await.unwrap();
        assert!(html.contains(message), "{field}: {html}");
        assert!(!html.contains(">Authorize</button>"));

        // The form post is validated the same way: never a redirect to an unregistered URI.
        let mut form = params.clone();
        form.push(("action", "authorize".into()));
        let response = h.http.post(h.url("/x/i/oauth2/authorize")).form(&form).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{field}");
    }
}

#[tokio::test]
async fn cancel_redirects_with_access_denied_and_state() {
    let h = start().await;
    let query = h.submit(SCOPES, "sandbox_user", "cancel").await;
    assert_eq!(query["error"], "access_denied");
    assert_eq!(query["state"], "st4te");
    assert!(!query.contains_key("code"));
}

// ---------------------------------------------------------------------------------------------
// Token endpoint.

#[tokio::test]
async fn full_authorization_code_flow_with_pkce() {
    let h = start().await;
    let code = h.code(SCOPES, "sandbox_user").await;
    let response = h.exchange(&code, VERIFIER).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "cache-control"), "no-store");
    assert_eq!(header(&response, "pragma"), "no-cache");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 7200);
    assert_eq!(body["scope"], SCOPES);
    assert!(body["refresh_token"].as_str().unwrap().len() >= 40);

    let me = h.me(at(&body)).await;
    assert_eq!(me.status(), StatusCode::OK);
    assert_eq!(header(&me, "x-rate-limit-limit"), "75");
    assert_eq!(header(&me, "x-rate-limit-remaining"), "74");
    let me: Value = me.json().await.unwrap();
    assert_eq!(me, json!({"data": {"id": "1", "name": "Sandbox User", "username": "sandbox_user"}}));

    // A new account made on the fly from the consent page.
    let other = h.connect("alice_w").await;
    let me: Value = h.me(at(&other)).await.json().await.unwrap();
    assert_eq!(me["data"]["username"], "alice_w");
    assert_eq!(me["data"]["id"], "2");
    // And it is offered on the next consent page.
    let html = h.consent(&authorize_params(SCOPES)).await.text().await.unwrap();
    assert!(html.contains("alice_w"));
}

#[tokio::test]
async fn no_refresh_token_without_offline_access() {
    let h = start().await;
    let code = h.code("tweet.read users.read", "sandbox_user").await;
    let body: Value = h.exchange(&code, VERIFIER).await.json().await.unwrap();
    assert!(body.get("refresh_token").is_none());
    assert_eq!(body["scope"], "tweet.read users.read");
}

#[tokio::test]
async fn wrong_verifier_is_refused_and_spends_the_code() {
    let h = start().await;
    let code = h.code(SCOPES, "sandbox_user").await;
    let wrong = "x".repeat(43);
    let response = h.exchange(&code, &wrong).await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_request", "Value passed for the code_verifier was invalid.").await;
    let response = h.exchange(&code, VERIFIER).await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_request", "Value passed for the authorization code was invalid.").await;
}

#[tokio::test]
async fn a_code_is_single_use() {
    let h = start().await;
    let code = h.code(SCOPES, "sandbox_user").await;
    assert_eq!(h.exchange(&code, VERIFIER).await.status(), StatusCode::OK);
    let response = h.exchange(&code, VERIFIER).await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_request", "Value passed for the authorization code was invalid.").await;
}

#[tokio::test]
async fn a_code_expires_after_30_seconds() {
    let h = start().await;
    let fresh = h.code(SCOPES, "sandbox_user").await;
    let stale = h.code(SCOPES, "sandbox_user").await;
    h.clock.advance(Duration::from_secs(29));
    assert_eq!(h.exchange(&fresh, VERIFIER).await.status(), StatusCode::OK);
    h.clock.advance(Duration::from_secs(1));
    let response = h.exchange(&stale, VERIFIER).await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_request", "Value passed for the authorization code was invalid.").await;
}

#[tokio::test]
async fn token_request_redirect_uri_must_match() {
    let h = start().await;
    let code = h.code(SCOPES, "sandbox_user").await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", "http://localhost:3000/other"),
        ("code_verifier", VERIFIER),
    ];
    let response = h.token(&form).await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_request", "Value passed for the redirect_uri was invalid.").await;
    // Exact match: not even a trailing slash is forgiven.
    let code = h.code(SCOPES, "sandbox_user").await;
    let slash = format!("{REDIRECT}/");
    let form =
        [("grant_type", "authorization_code"), ("code", code.as_str()), ("redirect_uri", slash.as_str()), ("code_verifier", VERIFIER)];
    assert_eq!(h.token(&form).await.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn token_request_needs_valid_client_authentication() {
    let h = start().await;
    let code = h.code(SCOPES, "sandbox_user").await;
    let form = [("grant_type", "authorization_code"), ("code", code.as_str()), ("redirect_uri", REDIRECT), ("code_verifier", VERIFIER)];
    let url = h.url("/x/2/oauth2/token");
    // Unknown client.
    let response = h.http.post(&url).basic_auth("nobody", Some("x")).form(&form).send().await.unwrap();
    assert_oauth_error(response, StatusCode::UNAUTHORIZED, "unauthorized_client", "Missing valid authorization header").await;
    // Wrong secret.
    let response = h.http.post(&url).basic_auth(CLIENT_ID, Some("wrong")).form(&form).send().await.unwrap();
    assert_oauth_error(response, StatusCode::UNAUTHORIZED, "unauthorized_client", "Missing valid authorization header").await;
    // A confidential client without the Basic header (platforms.md §1.6, observed).
    let mut public_form = form.to_vec();
    public_form.push(("client_id", CLIENT_ID));
    let response = h.http.post(&url).form(&public_form).send().await.unwrap();
    assert_oauth_error(response, StatusCode::UNAUTHORIZED, "unauthorized_client", "Missing valid authorization header").await;
    // The code was not touched by the failed client authentication.
    assert_eq!(h.exchange(&code, VERIFIER).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn public_clients_send_client_id_in_the_body() {
    let h = start().await;
    h.sandbox.register_x_app("public-app", "", REDIRECT, "Public App");
    let mut form = authorize_params(SCOPES);
    form.iter_mut().find(|(k, _)| *k == "client_id").unwrap().1 = "public-app".into();
    form.push(("action", "authorize".into()));
    let response = h.http.post(h.url("/x/i/oauth2/authorize")).form(&form).send().await.unwrap();
    let code = query_of(response.headers()["location"].to_str().unwrap())["code"].clone();
    let token_form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
        ("client_id", "public-app"),
    ];
    let response = h.http.post(h.url("/x/2/oauth2/token")).form(&token_form).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn refresh_rotates_and_the_old_refresh_token_dies() {
    let h = start().await;
    let first = h.connect("sandbox_user").await;
    let old_refresh = first["refresh_token"].as_str().unwrap();
    let response = h.token(&[("grant_type", "refresh_token"), ("refresh_token", old_refresh)]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "cache-control"), "no-store");
    let second: Value = response.json().await.unwrap();
    let new_refresh = second["refresh_token"].as_str().unwrap();
    assert_ne!(new_refresh, old_refresh);
    assert_ne!(at(&second), at(&first));
    assert_eq!(second["expires_in"], 7200);
    assert_eq!(h.me(at(&second)).await.status(), StatusCode::OK);

    let reuse = h.token(&[("grant_type", "refresh_token"), ("refresh_token", old_refresh)]).await;
    assert_oauth_error(reuse, StatusCode::BAD_REQUEST, "invalid_request", "Value passed for the token was invalid.").await;
    let again = h.token(&[("grant_type", "refresh_token"), ("refresh_token", new_refresh)]).await;
    assert_eq!(again.status(), StatusCode::OK);
}

#[tokio::test]
async fn access_tokens_expire_after_two_hours() {
    let h = start().await;
    let body = h.connect("sandbox_user").await;
    h.clock.advance(Duration::from_secs(7199));
    assert_eq!(h.me(at(&body)).await.status(), StatusCode::OK);
    h.clock.advance(Duration::from_secs(1));
    assert_unauthorized(h.me(at(&body)).await).await;
    // The refresh token still works.
    let refresh = body["refresh_token"].as_str().unwrap();
    let renewed: Value = h.token(&[("grant_type", "refresh_token"), ("refresh_token", refresh)]).await.json().await.unwrap();
    assert_eq!(h.me(at(&renewed)).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn revoke_kills_the_token() {
    let h = start().await;
    let body = h.connect("sandbox_user").await;
    let url = h.url("/x/2/oauth2/revoke");
    let no_hint = h.http.post(&url).basic_auth(CLIENT_ID, Some(CLIENT_SECRET)).form(&[("token", at(&body))]).send().await.unwrap();
    assert_oauth_error(no_hint, StatusCode::BAD_REQUEST, "invalid_request", "Missing required parameter [token_type_hint].").await;
    assert_eq!(h.me(at(&body)).await.status(), StatusCode::OK);

    let form = [("token", at(&body)), ("token_type_hint", "access_token")];
    let response = h.http.post(&url).basic_auth(CLIENT_ID, Some(CLIENT_SECRET)).form(&form).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap(), json!({"revoked": true}));
    assert_unauthorized(h.me(at(&body)).await).await;
    assert_unauthorized(h.post(at(&body), json!({"text": "hi"})).await).await;

    let refresh = body["refresh_token"].as_str().unwrap();
    let form = [("token", refresh), ("token_type_hint", "refresh_token")];
    let response = h.http.post(&url).basic_auth(CLIENT_ID, Some(CLIENT_SECRET)).form(&form).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let reuse = h.token(&[("grant_type", "refresh_token"), ("refresh_token", refresh)]).await;
    assert_oauth_error(reuse, StatusCode::BAD_REQUEST, "invalid_request", "Value passed for the token was invalid.").await;
}

#[tokio::test]
async fn users_me_without_or_with_a_bad_token_is_401() {
    let h = start().await;
    assert_unauthorized(h.http.get(h.url("/x/2/users/me")).send().await.unwrap()).await;
    assert_unauthorized(h.me("not-a-token").await).await;
}

#[tokio::test]
async fn control_expire_token_and_revoke_user() {
    let h = start().await;
    let body = h.connect("sandbox_user").await;
    let response = h.control("/control/x/expire-token", json!({"access_token": at(&body)})).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_unauthorized(h.me(at(&body)).await).await;
    let unknown = h.control("/control/x/expire-token", json!({"access_token": "nope"})).await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);

    let body = h.connect("sandbox_user").await;
    let other = h.connect("bob").await;
    let response = h.control("/control/x/revoke-user", json!({"user_id": "1"})).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_unauthorized(h.me(at(&body)).await).await;
    let refresh = body["refresh_token"].as_str().unwrap();
    let reuse = h.token(&[("grant_type", "refresh_token"), ("refresh_token", refresh)]).await;
    assert_oauth_error(reuse, StatusCode::BAD_REQUEST, "invalid_request", "Value passed for the token was invalid.").await;
    assert_eq!(h.me(at(&other)).await.status(), StatusCode::OK);
}

// ---------------------------------------------------------------------------------------------
// Publishing.

#[tokio::test]
async fn publish_records_the_ledger_with_realistic_ids() {
    let h = start().await;
    let token = h.connect("sandbox_user").await;
    let mut ids = Vec::new();
    for text in ["first post", "second post"] {
        let response = h.post(at(&token), json!({"text": text})).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["data"]["text"], text);
        let id = body["data"]["id"].as_str().unwrap().to_owned();
        assert_eq!(id.len(), 19, "{id}");
        ids.push(id.parse::<u64>().unwrap());
    }
    assert!(ids[1] > ids[0]);

    let ledger = h.sandbox.ledger();
    assert_eq!(ledger.len(), 2);
    assert_eq!(ledger[0].platform, "x");
    assert_eq!(ledger[0].user_id, "1");
    assert_eq!(ledger[0].text, "first post");
    assert_eq!(ledger[0].post_id, ids[0].to_string());
    assert_eq!(ledger[0].in_reply_to, None);
    assert_eq!(ledger[0].accepted_at, Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap());

    let over_http: Value = h.http.get(h.url("/control/ledger")).send().await.unwrap().json().await.unwrap();
    // Over HTTP each entry also lists its media (none for a text post).
    let mut expected = serde_json::to_value(&ledger).unwrap();
    for entry in expected.as_array_mut().unwrap() {
        entry["media"] = json!([]);
    }
    assert_eq!(over_http, expected);

    let reset = h.control("/control/reset", json!({})).await;
    assert_eq!(reset.status(), StatusCode::OK);
    assert!(h.sandbox.ledger().is_empty());
    assert_unauthorized(h.me(at(&token)).await).await;
}

#[tokio::test]
async fn duplicate_text_within_24_hours_is_403() {
    let h = start().await;
    let token = h.connect("sandbox_user").await;
    assert_eq!(h.post(at(&token), json!({"text": "same"})).await.status(), StatusCode::CREATED);
    let response = h.post(at(&token), json!({"text": "same"})).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response.headers().contains_key("x-rate-limit-remaining"));
    let body: Value = response.json().await.unwrap();
    let expected = json!({"detail":"You are not allowed to create a Tweet with duplicate content.","type":"about:blank","title":"Forbidden","status":403});
    assert_eq!(body, expected);
    // Another user may say the same thing.
    let other = h.connect("carol").await;
    assert_eq!(h.post(at(&other), json!({"text": "same"})).await.status(), StatusCode::CREATED);
    // A day later it is no longer a duplicate (a fresh token: the old one expired).
    h.clock.advance(Duration::from_secs(24 * 3600));
    let token = h.connect("sandbox_user").await;
    assert_eq!(h.post(at(&token), json!({"text": "same"})).await.status(), StatusCode::CREATED);
    assert_eq!(h.sandbox.ledger().len(), 3);
}

#[tokio::test]
async fn rate_limit_headers_count_down_and_429_at_the_limit() {
    let h = start().await;
    let token = h.connect("sandbox_user").await;
    let window_end = (Utc.with_ymd_and_hms(2026, 3, 1, 12, 15, 0).unwrap()).timestamp().to_string();
    for i in 0..100u32 {
        let response = h.post(at(&token), json!({"text": format!("post {i}")})).await;
        assert_eq!(response.status(), StatusCode::CREATED, "{i}");
        assert_eq!(header(&response, "x-rate-limit-limit"), "100");
        assert_eq!(header(&response, "x-rate-limit-remaining"), (99 - i).to_string());
        assert_eq!(header(&response, "x-rate-limit-reset"), window_end);
        assert_eq!(header(&response, "x-user-limit-24hour-remaining"), (9_999 - i).to_string());
        assert!(response.headers().contains_key("x-user-limit-24hour-limit"));
        assert!(response.headers().contains_key("x-user-limit-24hour-reset"));
        assert!(response.headers().contains_key("x-app-limit-24hour-remaining"));
    }
    let response = h.post(at(&token), json!({"text": "one too many"})).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(&response, "x-rate-limit-remaining"), "0");
    assert_eq!(header(&response, "x-rate-limit-reset"), window_end);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({"title":"Too Many Requests","detail":"Too Many Requests","type":"about:blank","status":429}));
    assert_eq!(h.sandbox.ledger().len(), 100);

    // Another user has their own window.
    let other = h.connect("dave").await;
    assert_eq!(h.post(at(&other), json!({"text": "mine"})).await.status(), StatusCode::CREATED);

    h.clock.advance(Duration::from_secs(15 * 60));
    let token = h.connect("sandbox_user").await;
    let response = h.post(at(&token), json!({"text": "after the window"})).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(header(&response, "x-rate-limit-remaining"), "99");
}

#[tokio::test]
async fn the_24_hour_user_cap_answers_429_with_the_daily_headers() {
    let h = start_with(XLimits { post_per_24h_user: 2, ..XLimits::default() }).await;
    let token = h.connect("sandbox_user").await;
    for text in ["a", "b"] {
        assert_eq!(h.post(at(&token), json!({"text": text})).await.status(), StatusCode::CREATED);
    }
    let response = h.post(at(&token), json!({"text": "c"})).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(&response, "x-user-limit-24hour-remaining"), "0");
    assert_eq!(header(&response, "x-user-limit-24hour-limit"), "2");
    let reset = Utc.with_ymd_and_hms(2026, 3, 2, 12, 0, 0).unwrap().timestamp().to_string();
    assert_eq!(header(&response, "x-user-limit-24hour-reset"), reset);
    assert_ne!(header(&response, "x-rate-limit-remaining"), "0");
}

#[tokio::test]
async fn over_length_text_is_refused() {
    let h = start().await;
    let token = h.connect("sandbox_user").await;
    assert_eq!(h.post(at(&token), json!({"text": "a".repeat(280)})).await.status(), StatusCode::CREATED);
    let response = h.post(at(&token), json!({"text": "b".repeat(281)})).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["type"], "https://api.x.com/2/problems/invalid-request");
    assert_eq!(body["title"], "Invalid Request");
    assert!(body["errors"][0]["parameters"]["text"].is_array());
    // 141 CJK characters weigh 282.
    let response = h.post(at(&token), json!({"text": "故".repeat(141)})).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    // Malformed and unknown fields.
    let response = h.http.post(h.url("/x/2/tweets")).bearer_auth(at(&token)).body("{not json").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(h.post(at(&token), json!({"text": "x", "bogus": 1})).await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(h.post(at(&token), json!({})).await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(h.sandbox.ledger().len(), 1);
}

#[tokio::test]
async fn a_thread_is_recorded_with_in_reply_to() {
    let h = start().await;
    let token = h.connect("sandbox_user").await;
    let mut previous: Option<String> = None;
    for part in ["1/3 thread", "2/3 thread", "3/3 thread"] {
        let mut body = json!({"text": part});
        if let Some(id) = &previous {
            body["reply"] = json!({"in_reply_to_tweet_id": id});
        }
        let response = h.post(at(&token), body).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: Value = response.json().await.unwrap();
        previous = Some(body["data"]["id"].as_str().unwrap().to_owned());
    }
    let ledger = h.sandbox.ledger();
    assert_eq!(ledger[0].in_reply_to, None);
    assert_eq!(ledger[1].in_reply_to.as_deref(), Some(ledger[0].post_id.as_str()));
    assert_eq!(ledger[2].in_reply_to.as_deref(), Some(ledger[1].post_id.as_str()));

    let response = h.post(at(&token), json!({"text": "orphan", "reply": {"in_reply_to_tweet_id": "1234567890"}})).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["detail"], "You attempted to reply to a Tweet that is deleted or not visible to you.");
}

#[tokio::test]
async fn delete_and_timeline() {
    let h = start().await;
    let token = h.connect("sandbox_user").await;
    let other = h.connect("erin").await;
    let mut ids = Vec::new();
    for text in ["one", "two", "three"] {
        let body: Value = h.post(at(&token), json!({"text": text})).await.json().await.unwrap();
        ids.push(body["data"]["id"].as_str().unwrap().to_owned());
    }
    let timeline: Value = h.http.get(h.url("/x/2/users/1/tweets")).bearer_auth(at(&token)).send().await.unwrap().json().await.unwrap();
    let texts: Vec<&str> = timeline["data"].as_array().unwrap().iter().map(|p| p["text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["three", "two", "one"]);
    assert_eq!(timeline["meta"]["result_count"], 3);
    assert_eq!(timeline["meta"]["newest_id"], ids[2].as_str());
    assert_eq!(timeline["meta"]["oldest_id"], ids[0].as_str());

    let url = h.url(&format!("/x/2/tweets/{}", ids[1]));
    let response = h.http.delete(&url).bearer_auth(at(&other)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = h.http.delete(&url).bearer_auth(at(&token)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap(), json!({"data": {"deleted": true}}));
    let response = h.http.delete(&url).bearer_auth(at(&token)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    let timeline: Value = h.http.get(h.url("/x/2/users/1/tweets")).bearer_auth(at(&token)).send().await.unwrap().json().await.unwrap();
    assert_eq!(timeline["meta"]["result_count"], 2);
    let empty: Value = h.http.get(h.url("/x/2/users/2/tweets")).bearer_auth(at(&token)).send().await.unwrap().json().await.unwrap();
    assert_eq!(empty, json!({"meta": {"result_count": 0}}));
    // The ledger keeps every accepted post.
    assert_eq!(h.sandbox.ledger().len(), 3);
}

// ---------------------------------------------------------------------------------------------
// Faults.

#[tokio::test]
async fn faults_next_responses_are_served_in_order_then_normal_service() {
    let h = start().await;
    let token = h.connect("sandbox_user").await;
    let faults = json!({"next_responses": [
        {"status": 503, "body": {"title": "Service Unavailable", "detail": "Service Unavailable", "type": "about:blank", "status": 503}},
        {"status": 429, "body": {"title":"Too Many Requests","detail":"Too Many Requests","type":"about:blank","status":429},
         "headers": {"x-rate-limit-remaining": "0", "x-rate-limit-reset": "1772367300"}},
    ]});
    assert_eq!(h.control("/control/x/faults", faults).await.status(), StatusCode::OK);
    let first = h.post(at(&token), json!({"text": "a"})).await;
    assert_eq!(first.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(first.json::<Value>().await.unwrap()["title"], "Service Unavailable");
    let second = h.post(at(&token), json!({"text": "a"})).await;
    assert_eq!(second.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(&second, "x-rate-limit-reset"), "1772367300");
    assert_eq!(h.post(at(&token), json!({"text": "a"})).await.status(), StatusCode::CREATED);
    assert_eq!(h.sandbox.ledger().len(), 1);
}

#[tokio::test]
async fn faults_scoped_to_a_user_leave_others_alone() {
    let h = start().await;
    let alice = h.connect("sandbox_user").await;
    let bob = h.connect("bob").await;
    let faults = json!({"user_id": "2", "next_responses": [{"status": 500}]});
    h.control("/control/x/faults", faults).await;
    assert_eq!(h.post(at(&alice), json!({"text": "a"})).await.status(), StatusCode::CREATED);
    assert_eq!(h.post(at(&bob), json!({"text": "b"})).await.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(h.post(at(&bob), json!({"text": "b"})).await.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn faults_error_rate_over_a_bounded_number_of_calls() {
    // users/me allows 75 per 15 minutes: raise it so that only the injected errors fail.
    let h = start_with(XLimits { users_me_per_15min: 1_000, ..XLimits::default() }).await;
    let token = h.connect("sandbox_user").await;
    h.control("/control/x/faults", json!({"error_rate": 0.3, "seed": 42})).await;
    let mut failures = 0;
    for _ in 0..200 {
        let response = h.me(at(&token)).await;
        match response.status() {
            StatusCode::SERVICE_UNAVAILABLE => failures += 1,
            StatusCode::OK => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert!((30..=90).contains(&failures), "{failures} failures out of 200 at 30%");

    h.control("/control/x/faults", json!({"error_rate": 1.0})).await;
    for _ in 0..10 {
        assert_eq!(h.post(at(&token), json!({"text": "never"})).await.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
    assert!(h.sandbox.ledger().is_empty());
    let cleared = h.http.delete(h.url("/control/x/faults")).send().await.unwrap();
    assert_eq!(cleared.status(), StatusCode::OK);
    assert_eq!(h.post(at(&token), json!({"text": "now"})).await.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn faults_rate_limit_rate_answers_429_with_the_reset_and_shares_one_draw_with_errors() {
    let h = start_with(XLimits { users_me_per_15min: 1_000, ..XLimits::default() }).await;
    let token = h.connect("sandbox_user").await;
    h.control("/control/x/faults", json!({"error_rate": 0.2, "rate_limit_rate": 0.3, "rate_limit_reset_secs": 7, "seed": 9})).await;
    let (mut errors, mut limited) = (0, 0);
    for _ in 0..300 {
        let response = h.me(at(&token)).await;
        match response.status() {
            StatusCode::SERVICE_UNAVAILABLE => errors += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                limited += 1;
                let header = |name: &str| response.headers()[name].to_str().unwrap().parse::<i64>().unwrap();
                assert_eq!(header("x-rate-limit-remaining"), 0);
                let wait = header("x-rate-limit-reset") - crier_sandbox::Clock::now(h.clock.as_ref()).timestamp();
                assert_eq!(wait, 7, "resets seven seconds after the refusal");
            }
            StatusCode::OK => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert!((30..=90).contains(&errors), "{errors} errors out of 300 at 20%");
    assert!((60..=120).contains(&limited), "{limited} refusals out of 300 at 30%");
    let over = h.control("/control/x/faults", json!({"error_rate": 0.6, "rate_limit_rate": 0.6})).await;
    assert_eq!(over.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn faults_latency_jitter_adds_up_to_its_bound() {
    let h = start().await;
    let token = h.connect("sandbox_user").await;
    h.control("/control/x/faults", json!({"latency_ms": 20, "latency_jitter_ms": 200, "seed": 3})).await;
    let mut took = Vec::new();
    for _ in 0..8 {
        let started = Instant::now();
        assert_eq!(h.me(at(&token)).await.status(), StatusCode::OK);
        took.push(started.elapsed());
    }
    assert!(took.iter().all(|t| *t >= Duration::from_millis(20)), "{took:?}");
    let spread = took.iter().max().unwrap().saturating_sub(*took.iter().min().unwrap());
    assert!(spread >= Duration::from_millis(20), "eight draws of up to 200 ms vary: {took:?}");
}

#[tokio::test]
async fn faults_latency_delays_responses() {
    let h = start().await;
    let token = h.connect("sandbox_user").await;
    h.control("/control/x/faults", json!({"latency_ms": 150})).await;
    let started = Instant::now();
    assert_eq!(h.me(at(&token)).await.status(), StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(150));
    h.control("/control/reset", json!({})).await;
    let token = h.connect("sandbox_user").await;
    let started = Instant::now();
    assert_eq!(h.me(at(&token)).await.status(), StatusCode::OK);
    assert!(started.elapsed() < Duration::from_millis(150));
}

#[tokio::test]
async fn faults_apply_to_the_token_endpoint_too() {
    let h = start().await;
    let code = h.code(SCOPES, "sandbox_user").await;
    h.control("/control/x/faults", json!({"next_responses": [{"status": 503, "body": "upstream down"}]})).await;
    let response = h.exchange(&code, VERIFIER).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.text().await.unwrap(), "upstream down");
    // The fault answered before the code was looked at: it still works.
    assert_eq!(h.exchange(&code, VERIFIER).await.status(), StatusCode::OK);
}

// ---------------------------------------------------------------------------------------------
// OAuth 1.0a user context (platforms.md §1.1, §1.10).

const CONSUMER_KEY: &str = "xvz1evFS4wEEPTGEFPHBog";
const CONSUMER_SECRET: &str = "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw";
const ACCESS_TOKEN: &str = "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb";
const TOKEN_SECRET: &str = "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE";

fn oauth1_creds(consumer_secret: &str, token_secret: &str) -> crier_protocol::oauth1::OAuth1Credentials {
    crier_protocol::oauth1::OAuth1Credentials {
        consumer_key: CONSUMER_KEY.into(),
        consumer_secret: consumer_secret.into(),
        token: ACCESS_TOKEN.into(),
        token_secret: token_secret.into(),
    }
}

impl Harness {
    /// The `Authorization` header for `method url`, signed at the sandbox clock's time.
    fn oauth1(&self, method: &str, url: &str, creds: &crier_protocol::oauth1::OAuth1Credentials, nonce: &str) -> String {
        let now = crier_sandbox::Clock::now(&*self.clock).timestamp() as u64;
        crier_protocol::oauth1::authorization_header(method, url, &[], creds, nonce, now)
    }
}

#[tokio::test]
async fn oauth1_signed_requests_act_as_the_registered_user() {
    let h = start().await;
    let user_id = h.sandbox.register_x_oauth1(CONSUMER_KEY, CONSUMER_SECRET, ACCESS_TOKEN, TOKEN_SECRET, "oauth_one");
    assert_ne!(user_id, "1");
    let creds = oauth1_creds(CONSUMER_SECRET, TOKEN_SECRET);

    let me = h.url("/x/2/users/me");
    let response = h.http.get(&me).header("authorization", h.oauth1("GET", &me, &creds, "nonce-me")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["data"], json!({"id": user_id, "name": "oauth_one", "username": "oauth_one"}));

    // A JSON body is not signed (§1.10): only the method and the URL are.
    let tweets = h.url("/x/2/tweets");
    let response = h
        .http
        .post(&tweets)
        .header("authorization", h.oauth1("POST", &tweets, &creds, "nonce-post"))
        .json(&json!({"text": "signed with OAuth 1.0a"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert!(response.headers().contains_key("x-rate-limit-remaining"));
    let ledger = h.sandbox.ledger();
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0].user_id, user_id);
    assert_eq!(ledger[0].text, "signed with OAuth 1.0a");

    // Query parameters are signed: the timeline with max_results.
    let timeline = format!("{}?max_results=5", h.url(&format!("/x/2/users/{user_id}/tweets")));
    let response = h.http.get(&timeline).header("authorization", h.oauth1("GET", &timeline, &creds, "nonce-tl")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["meta"]["result_count"], 1);
}

#[tokio::test]
async fn oauth1_bad_signatures_get_the_401_problem() {
    let h = start().await;
    h.sandbox.register_x_oauth1(CONSUMER_KEY, CONSUMER_SECRET, ACCESS_TOKEN, TOKEN_SECRET, "oauth_one");
    let good = oauth1_creds(CONSUMER_SECRET, TOKEN_SECRET);
    let me = h.url("/x/2/users/me");
    let get = |header: String| h.http.get(&me).header("authorization", header).send();

    // Wrong consumer secret, wrong token secret.
    assert_unauthorized(get(h.oauth1("GET", &me, &oauth1_creds("wrong", TOKEN_SECRET), "n1")).await.unwrap()).await;
    assert_unauthorized(get(h.oauth1("GET", &me, &oauth1_creds(CONSUMER_SECRET, "wrong"), "n2")).await.unwrap()).await;
    // Signed for another URL (a query the request does not carry), or another method.
    assert_unauthorized(get(h.oauth1("GET", &format!("{me}?user.fields=id"), &good, "n3")).await.unwrap()).await;
    assert_unauthorized(get(h.oauth1("POST", &me, &good, "n4")).await.unwrap()).await;
    // Unknown access token; a consumer key that is not the token's.
    let mut unknown = good.clone();
    unknown.token = "12345-unknown".into();
    assert_unauthorized(get(h.oauth1("GET", &me, &unknown, "n5")).await.unwrap()).await;
    let mut other_app = good.clone();
    other_app.consumer_key = "another-app".into();
    assert_unauthorized(get(h.oauth1("GET", &me, &other_app, "n6")).await.unwrap()).await;
    // A tampered signature.
    let header = h.oauth1("GET", &me, &good, "n7");
    let start = header.find("oauth_signature=\"").unwrap() + "oauth_signature=\"".len();
    let mut tampered = header.clone();
    tampered.replace_range(start..start + 1, if &header[start..=start] == "A" { "B" } else { "A" });
    assert_unauthorized(get(tampered).await.unwrap()).await;
    // The untampered one is fine, once: a replayed nonce is refused.
    assert_eq!(get(header.clone()).await.unwrap().status(), StatusCode::OK);
    assert_unauthorized(get(header).await.unwrap()).await;
    // A timestamp more than 5 minutes off the sandbox clock.
    let stale = h.oauth1("GET", &me, &good, "n8");
    h.clock.advance(Duration::from_secs(301));
    assert_unauthorized(get(stale).await.unwrap()).await;
    assert_eq!(get(h.oauth1("GET", &me, &good, "n9")).await.unwrap().status(), StatusCode::OK);
}

#[tokio::test]
async fn oauth1_credentials_over_the_control_api_and_revoke_user() {
    let h = start().await;
    let response = h
        .control(
            "/control/x/oauth1-credentials",
            json!({"consumer_key": CONSUMER_KEY, "consumer_secret": CONSUMER_SECRET, "access_token": ACCESS_TOKEN, "token_secret": TOKEN_SECRET, "username": "sandbox_user"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({"registered": true, "user_id": "1"}));
    let bad = h
        .control(
            "/control/x/oauth1-credentials",
            json!({"consumer_key": "", "consumer_secret": "", "access_token": "t", "token_secret": "", "username": "x"}),
        )
        .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);

    let creds = oauth1_creds(CONSUMER_SECRET, TOKEN_SECRET);
    let me = h.url("/x/2/users/me");
    let response = h.http.get(&me).header("authorization", h.oauth1("GET", &me, &creds, "c1")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap()["data"]["username"], "sandbox_user");

    let revoked: Value = h.control("/control/x/revoke-user", json!({"user_id": "1"})).await.json().await.unwrap();
    assert_eq!(revoked, json!({"revoked": 1}));
    let response = h.http.get(&me).header("authorization", h.oauth1("GET", &me, &creds, "c2")).send().await.unwrap();
    assert_unauthorized(response).await;
}

// ---------------------------------------------------------------------------------------------
// Metrics read-back (media-and-metrics.md §1.6).

#[tokio::test]
async fn posts_read_back_with_metrics_that_grow_with_age_in_batches_of_at_most_a_hundred() {
    let h = start_with(XLimits { lookup_ids_per_call: 3, ..XLimits::default() }).await;
    let token = h.connect("sandbox_user").await;
    let mut ids = Vec::new();
    for text in ["one", "two"] {
        let body: Value = h.post(at(&token), json!({"text": text})).await.json().await.unwrap();
        ids.push(body["data"]["id"].as_str().unwrap().to_owned());
    }
    let lookup = |token: String, ids: String, fields: &'static str| {
        let url = h.url("/x/2/tweets");
        let http = h.http.clone();
        async move { http.get(url).query(&[("ids", ids.as_str()), ("tweet.fields", fields)]).bearer_auth(token).send().await.unwrap() }
    };
    let all = "public_metrics,non_public_metrics,organic_metrics";

    // A day later (with fresh tokens: they last two hours): the engagement model's numbers for
    // each post at that age, every group.
    h.clock.advance(Duration::from_secs(24 * 3600));
    let token = h.connect("sandbox_user").await;
    let response = lookup(at(&token).to_owned(), ids.join(","), all).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().contains_key("x-rate-limit-remaining"));
    let body: Value = response.json().await.unwrap();
    assert!(body.get("errors").is_none(), "{body}");
    let day = crier_sandbox::engagement(&ids[0], chrono::TimeDelta::days(1));
    let first = &body["data"][0];
    assert_eq!(first["id"], ids[0].as_str());
    assert_eq!(first["public_metrics"]["like_count"], day.likes);
    assert_eq!(first["public_metrics"]["impression_count"], day.impressions);
    assert_eq!(first["public_metrics"]["retweet_count"], day.reposts);
    assert_eq!(first["non_public_metrics"]["url_link_clicks"], day.link_clicks);
    assert_eq!(first["non_public_metrics"]["engagements"], day.engagements());
    assert_eq!(first["organic_metrics"]["reply_count"], day.replies);
    assert!(day.impressions > 0);
    assert_ne!(body["data"][1]["public_metrics"], first["public_metrics"], "each post has its own numbers");

    // A week later the same post has more.
    h.clock.advance(Duration::from_secs(6 * 24 * 3600));
    let (token, other) = (h.connect("sandbox_user").await, h.connect("erin").await);
    let body: Value = lookup(at(&token).to_owned(), ids[0].clone(), "public_metrics").await.json().await.unwrap();
    let week = crier_sandbox::engagement(&ids[0], chrono::TimeDelta::days(7));
    assert_eq!(body["data"][0]["public_metrics"]["impression_count"], week.impressions);
    assert!(week.impressions > day.impressions);
    assert!(body["data"][0].get("non_public_metrics").is_none(), "only the groups asked for");

    // Someone else's post: public metrics yes, private ones refused and the post left out.
    let body: Value = lookup(at(&other).to_owned(), ids[0].clone(), "public_metrics").await.json().await.unwrap();
    assert_eq!(body["data"][0]["public_metrics"]["like_count"], week.likes);
    let body: Value = lookup(at(&other).to_owned(), ids[0].clone(), all).await.json().await.unwrap();
    assert!(body.get("data").is_none(), "{body}");
    let problems: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(problems, ["https://api.x.com/2/problems/not-authorized-for-field"; 2]);
    // One's own, but past 30 days: the same.
    h.clock.advance(Duration::from_secs(24 * 24 * 3600));
    let token = h.connect("sandbox_user").await;
    let body: Value = lookup(at(&token).to_owned(), ids[0].clone(), "non_public_metrics").await.json().await.unwrap();
    assert_eq!(body["errors"][0]["title"], "Field Authorization Error", "{body}");

    // Unknown ids are problems beside what was found; too many ids, or none, is a 400.
    let body: Value = lookup(at(&token).to_owned(), format!("{},123", ids[1]), "public_metrics").await.json().await.unwrap();
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
    assert_eq!(body["errors"][0]["resource_id"], "123");
    assert_eq!(body["errors"][0]["title"], "Not Found Error");
    let response = lookup(at(&token).to_owned(), "1,2,3,4".into(), "public_metrics").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("not between 1 and 3"), "{body}");
    let response = lookup(at(&token).to_owned(), "x1".into(), "public_metrics").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn reading_metrics_has_its_own_rate_limit() {
    let h = start_with(XLimits { lookup_per_15min: 2, ..XLimits::default() }).await;
    let token = h.connect("sandbox_user").await;
    let body: Value = h.post(at(&token), json!({"text": "one"})).await.json().await.unwrap();
    let id = body["data"]["id"].as_str().unwrap().to_owned();
    let url = format!("{}?ids={id}&tweet.fields=public_metrics", h.url("/x/2/tweets"));
    for left in ["1", "0"] {
        let response = h.http.get(&url).bearer_auth(at(&token)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(header(&response, "x-rate-limit-remaining"), left);
    }
    let response = h.http.get(&url).bearer_auth(at(&token)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    // Publishing's window is its own.
    assert_eq!(h.post(at(&token), json!({"text": "two"})).await.status(), StatusCode::CREATED);
}
