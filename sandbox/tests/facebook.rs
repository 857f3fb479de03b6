//! The Meta (Facebook Pages) fake over real HTTP: the router is bound on 127.0.0.1:0 and called with reqwest.

mod support;

use std::collections::HashMap;
use std::time::Duration;

use crier_sandbox::{FacebookLimits, SandboxConfig};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::Harness;

const APP_ID: &str = "1234567890123456";
const APP_SECRET: &str = "meta-s3cret";
const REDIRECT: &str = "http://localhost:3000/connect/facebook/callback";
const APP_NAME: &str = "Crier Meta Test";
const SCOPES: &str = "pages_manage_posts,pages_read_engagement,pages_show_list";
const V: &str = "v26.0";
const PAGE: &str = "422575694827569";
/// A second app, registered by the tests that need one.
const OTHER_APP_ID: &str = "6543210987654321";
const OTHER_APP_SECRET: &str = "other-s3cret";
const OTHER_REDIRECT: &str = "http://localhost:4000/auth/facebook";

async fn start() -> Harness {
    start_with(|_| {}).await
}

async fn start_with(tweak: impl FnOnce(&mut SandboxConfig)) -> Harness {
    support::serve(tweak, |sandbox| sandbox.register_facebook_app(APP_ID, APP_SECRET, REDIRECT, APP_NAME)).await
}

fn dialog_params() -> Vec<(&'static str, String)> {
    dialog_params_for(APP_ID, REDIRECT)
}

fn dialog_params_for(app_id: &str, redirect: &str) -> Vec<(&'static str, String)> {
    vec![
        ("client_id", app_id.into()),
        ("redirect_uri", redirect.into()),
        ("state", "st4te".into()),
        ("scope", SCOPES.into()),
        ("response_type", "code".into()),
    ]
}

fn query_of(location: &str) -> HashMap<String, String> {
    reqwest::Url::parse(location).unwrap().query_pairs().into_owned().collect()
}

impl Harness {
    fn url(&self, path: &str) -> String {
        format!("{}/facebook/{V}{path}", self.base)
    }

    async fn submit(&self, extra: &[(&str, &str)]) -> HashMap<String, String> {
        self.submit_to(APP_ID, REDIRECT, extra).await
    }

    /// Submits `app_id`'s login dialog with `extra` fields; the query it redirects back with.
    async fn submit_to(&self, app_id: &str, redirect: &str, extra: &[(&str, &str)]) -> HashMap<String, String> {
        let mut form = dialog_params_for(app_id, redirect);
        for (k, v) in extra {
            form.push((k, (*v).to_owned()));
        }
        let response = self.http.post(self.url("/dialog/oauth")).form(&form).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FOUND);
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        assert!(location.starts_with(redirect), "{location}");
        query_of(&location)
    }

    async fn code(&self, account: &str, pages: &[&str]) -> String {
        let mut extra = vec![("account", account), ("action", "authorize")];
        for page in pages {
            extra.push(("page", page));
        }
        let query = self.submit(&extra).await;
        assert_eq!(query["state"], "st4te");
        query["code"].clone()
    }

    async fn exchange(&self, code: &str, redirect: &str) -> reqwest::Response {
        self.exchange_for(APP_ID, APP_SECRET, code, redirect).await
    }

    async fn exchange_for(&self, app_id: &str, secret: &str, code: &str, redirect: &str) -> reqwest::Response {
        let params = [("client_id", app_id), ("redirect_uri", redirect), ("client_secret", secret), ("code", code)];
        self.http.get(self.url("/oauth/access_token")).query(&params).send().await.unwrap()
    }

    /// A short-lived user token for `account` through the second app (registered here).
    async fn other_app_token(&self, account: &str) -> String {
        self.sandbox.register_facebook_app(OTHER_APP_ID, OTHER_APP_SECRET, OTHER_REDIRECT, "Other App");
        let query = self.submit_to(OTHER_APP_ID, OTHER_REDIRECT, &[("account", account), ("action", "authorize"), ("page", PAGE)]).await;
        let response = self.exchange_for(OTHER_APP_ID, OTHER_APP_SECRET, &query["code"], OTHER_REDIRECT).await;
        body_of(response).await["access_token"].as_str().unwrap().to_owned()
    }

    /// `DELETE /me/permissions` (or `/{node}/permissions`) with `token`.
    async fn deauthorize(&self, node: &str, token: &str) -> reqwest::Response {
        self.http.delete(self.url(&format!("/{node}/permissions"))).bearer_auth(token).send().await.unwrap()
    }

    async fn me(&self, token: &str) -> reqwest::Response {
        self.http.get(self.url("/me")).bearer_auth(token).send().await.unwrap()
    }

    async fn long_lived(&self, short: &str) -> reqwest::Response {
        let params =
            [("grant_type", "fb_exchange_token"), ("client_id", APP_ID), ("client_secret", APP_SECRET), ("fb_exchange_token", short)];
        self.http.get(self.url("/oauth/access_token")).query(&params).send().await.unwrap()
    }

    /// Short-lived user token for `account` with the default Page.
    async fn user_token(&self, account: &str) -> String {
        let code = self.code(account, &[PAGE]).await;
        let body: Value = self.exchange(&code, REDIRECT).await.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    async fn accounts(&self, user_token: &str) -> reqwest::Response {
        self.http.get(self.url("/me/accounts")).bearer_auth(user_token).send().await.unwrap()
    }

    /// A Page token through a long-lived user token (never expires).
    async fn page_token(&self, account: &str) -> String {
        let short = self.user_token(account).await;
        let long: Value = self.long_lived(&short).await.json().await.unwrap();
        let accounts: Value = self.accounts(long["access_token"].as_str().unwrap()).await.json().await.unwrap();
        accounts["data"].as_array().unwrap().iter().find(|p| p["id"] == PAGE).unwrap()["access_token"].as_str().unwrap().to_owned()
    }

    async fn publish(&self, page_token: &str, message: &str) -> reqwest::Response {
        self.http.post(self.url(&format!("/{PAGE}/feed"))).bearer_auth(page_token).json(&json!({"message": message})).send().await.unwrap()
    }

    async fn control(&self, path: &str, body: Value) -> reqwest::Response {
        self.http.post(format!("{}{path}", self.base)).json(&body).send().await.unwrap()
    }
}

async fn body_of(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

/// Meta's envelope: status 400 unless told, the code/subcode, a type and an fbtrace_id.
async fn assert_graph_error(response: reqwest::Response, status: StatusCode, code: u64, subcode: Option<u64>) -> Value {
    assert_eq!(response.status(), status);
    let body = body_of(response).await;
    let error = &body["error"];
    assert_eq!(error["code"], code, "{body}");
    assert_eq!(error.get("error_subcode").and_then(Value::as_u64), subcode, "{body}");
    assert!(error["message"].is_string() && error["type"].is_string() && error["fbtrace_id"].is_string(), "{body}");
    body
}

// ---------------------------------------------------------------------------------------------
// Login dialog and tokens.

#[tokio::test]
async fn dialog_names_the_app_permissions_account_pages_and_buttons() {
    let h = start().await;
    let response = h.http.get(h.url("/dialog/oauth")).query(&dialog_params()).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    assert!(html.contains(APP_NAME));
    for scope in SCOPES.split(',') {
        assert!(html.contains(&format!("<code>{scope}</code>")), "{scope}");
    }
    assert!(html.contains(">Authorize</button>"));
    assert!(html.contains(">Cancel</button>"));
    assert!(html.contains("name=\"account\"") && html.contains("Account"));
    assert!(html.contains(&format!("name=\"page\" value=\"{PAGE}\"")));
    assert!(html.contains("Sandbox Page"));
    assert!(html.contains(&format!("action=\"{}/facebook/{V}/dialog/oauth\"", h.base)));
    // Any vNN.N works; a malformed version does not.
    let response = h.http.get(format!("{}/facebook/v19.0/dialog/oauth", h.base)).query(&dialog_params()).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let response = h.http.get(format!("{}/facebook/latest/dialog/oauth", h.base)).query(&dialog_params()).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn redirect_mismatch_is_an_error_page_and_cancel_is_access_denied() {
    let h = start().await;
    let mut params = dialog_params();
    params[1].1 = "http://evil.example/cb".into();
    let response = h.http.get(h.url("/dialog/oauth")).query(&params).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.headers().get("location").is_none());
    assert!(response.text().await.unwrap().contains("URL Blocked"));

    let query = h.submit(&[("action", "cancel")]).await;
    assert_eq!(query["error"], "access_denied");
    assert_eq!(query["error_reason"], "user_denied");
    assert_eq!(query["state"], "st4te");
    assert!(!query.contains_key("code"));
}

#[tokio::test]
async fn code_exchange_long_lived_exchange_and_page_tokens() {
    let h = start().await;
    let code = h.code("Grace Hopper", &[PAGE]).await;
    let response = h.exchange(&code, REDIRECT).await;
    assert_eq!(response.status(), StatusCode::OK);
    let short = body_of(response).await;
    assert_eq!(short["token_type"], "bearer");
    assert_eq!(short["expires_in"], 7200);
    assert!(short.get("refresh_token").is_none());
    let short_token = short["access_token"].as_str().unwrap();
    // A code is single use.
    assert_graph_error(h.exchange(&code, REDIRECT).await, StatusCode::BAD_REQUEST, 100, Some(36009)).await;

    let me = body_of(h.http.get(h.url("/me")).query(&[("fields", "id,name"), ("access_token", short_token)]).send().await.unwrap()).await;
    assert_eq!(me["name"], "Grace Hopper");
    assert!(me["id"].as_str().unwrap().parse::<u64>().is_ok());

    // Page tokens from the short-lived user token last an hour.
    let accounts = body_of(h.accounts(short_token).await).await;
    let page = &accounts["data"][0];
    assert_eq!(page["id"], PAGE);
    assert_eq!(page["name"], "Sandbox Page");
    assert!(page["tasks"].as_array().unwrap().contains(&json!("CREATE_CONTENT")));
    let short_page_token = page["access_token"].as_str().unwrap().to_owned();
    assert_eq!(accounts["data"].as_array().unwrap().len(), 1, "only the Pages picked on the dialog");

    let response = h.long_lived(short_token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let long = body_of(response).await;
    assert_eq!(long["expires_in"], 5_184_000);
    assert_ne!(long["access_token"], short["access_token"]);
    let long_token = long["access_token"].as_str().unwrap().to_owned();
    let accounts = body_of(h.accounts(&long_token).await).await;
    let long_page_token = accounts["data"][0]["access_token"].as_str().unwrap().to_owned();

    // Three hours later: the short-lived user and Page tokens are dead (190/463), the long-lived ones live.
    h.clock.advance(Duration::from_secs(3 * 3600));
    assert_graph_error(h.http.get(h.url("/me")).bearer_auth(short_token).send().await.unwrap(), StatusCode::BAD_REQUEST, 190, Some(463))
        .await;
    assert_graph_error(h.publish(&short_page_token, "late").await, StatusCode::BAD_REQUEST, 190, Some(463)).await;
    // "You can not use an expired token to request a long-lived token."
    assert_graph_error(h.long_lived(short_token).await, StatusCode::BAD_REQUEST, 190, Some(463)).await;
    assert_eq!(h.http.get(h.url("/me")).bearer_auth(&long_token).send().await.unwrap().status(), StatusCode::OK);
    // Page tokens from a long-lived user token never expire.
    h.clock.advance(Duration::from_secs(400 * 24 * 3600));
    assert_eq!(h.publish(&long_page_token, "still here").await.status(), StatusCode::OK);
    assert_graph_error(h.http.get(h.url("/me")).bearer_auth(&long_token).send().await.unwrap(), StatusCode::BAD_REQUEST, 190, Some(463))
        .await;
}

#[tokio::test]
async fn token_endpoint_errors() {
    let h = start().await;
    let code = h.code("Sandbox User", &[PAGE]).await;
    let body = assert_graph_error(h.exchange(&code, "http://localhost:3000/other").await, StatusCode::BAD_REQUEST, 100, Some(36008)).await;
    assert_eq!(body["error"]["type"], "OAuthException");
    let code = h.code("Sandbox User", &[PAGE]).await;
    h.clock.advance(Duration::from_secs(11 * 60));
    assert_graph_error(h.exchange(&code, REDIRECT).await, StatusCode::BAD_REQUEST, 100, Some(36007)).await;
    assert_graph_error(h.exchange("garbage", REDIRECT).await, StatusCode::BAD_REQUEST, 100, None).await;
    let params = [("client_id", APP_ID), ("redirect_uri", REDIRECT), ("client_secret", "wrong"), ("code", "x")];
    let response = h.http.get(h.url("/oauth/access_token")).query(&params).send().await.unwrap();
    assert_graph_error(response, StatusCode::BAD_REQUEST, 1, None).await;
}

#[tokio::test]
async fn invalid_and_revoked_tokens_are_190() {
    let h = start().await;
    assert_graph_error(h.http.get(h.url("/me")).bearer_auth("EAAnonsense").send().await.unwrap(), StatusCode::BAD_REQUEST, 190, None).await;
    assert_graph_error(h.http.get(h.url("/me")).send().await.unwrap(), StatusCode::BAD_REQUEST, 2500, None).await;
    let page_token = h.page_token("Sandbox User").await;
    let response = h.control("/control/facebook/revoke-user", json!({"user_id": "Sandbox User"})).await;
    assert!(body_of(response).await["revoked"].as_u64().unwrap() >= 3);
    assert_graph_error(h.publish(&page_token, "after revoke").await, StatusCode::BAD_REQUEST, 190, Some(460)).await;

    let user = h.user_token("Sandbox User").await;
    assert_eq!(h.control("/control/facebook/expire-token", json!({"access_token": user})).await.status(), StatusCode::OK);
    let body = assert_graph_error(h.accounts(&user).await, StatusCode::BAD_REQUEST, 190, Some(463)).await;
    assert!(body["error"]["message"].as_str().unwrap().starts_with("Error validating access token: Session has expired on"));
}

#[tokio::test]
async fn deleting_permissions_kills_that_persons_tokens_for_that_app_only() {
    let h = start().await;
    let short = h.user_token("Sandbox User").await;
    let long = body_of(h.long_lived(&short).await).await["access_token"].as_str().unwrap().to_owned();
    let accounts = body_of(h.accounts(&long).await).await;
    let page_token = accounts["data"][0]["access_token"].as_str().unwrap().to_owned();
    let other_app = h.other_app_token("Sandbox User").await;
    let other_person = h.page_token("Someone Else").await;

    let response = h.deauthorize("me", &long).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body_of(response).await, json!({"success": true}));

    // The user tokens (short- and long-lived) and the Page token derived from them: 190/458.
    for token in [&short, &long] {
        let body = assert_graph_error(h.me(token).await, StatusCode::BAD_REQUEST, 190, Some(458)).await;
        assert!(body["error"]["message"].as_str().unwrap().starts_with("Error validating access token:"), "{body}");
        assert_eq!(body["error"]["type"], "OAuthException");
    }
    assert_graph_error(h.publish(&page_token, "after removing the app").await, StatusCode::BAD_REQUEST, 190, Some(458)).await;
    assert_graph_error(h.long_lived(&short).await, StatusCode::BAD_REQUEST, 190, Some(458)).await;
    assert_graph_error(h.deauthorize("me", &long).await, StatusCode::BAD_REQUEST, 190, Some(458)).await;
    assert!(h.sandbox.ledger().is_empty());

    // The same person's token for another app, and another person's token for this app, live on.
    assert_eq!(h.me(&other_app).await.status(), StatusCode::OK);
    assert_eq!(h.publish(&other_person, "still connected").await.status(), StatusCode::OK);
    // The Page token would never have expired; it stays dead.
    h.clock.advance(Duration::from_secs(24 * 3600));
    assert_graph_error(h.publish(&page_token, "a day later").await, StatusCode::BAD_REQUEST, 190, Some(458)).await;
    // Logging in again authorizes the app afresh.
    let again = h.page_token("Sandbox User").await;
    assert_eq!(h.publish(&again, "connected again").await.status(), StatusCode::OK);
    assert_eq!(h.sandbox.ledger().len(), 2);
}

#[tokio::test]
async fn deleting_permissions_needs_the_persons_own_user_token() {
    let h = start().await;
    assert_graph_error(h.http.delete(h.url("/me/permissions")).send().await.unwrap(), StatusCode::BAD_REQUEST, 2500, None).await;
    // With a Page token, /me is the Page: no permissions edge, and nothing is revoked.
    let page_token = h.page_token("Sandbox User").await;
    assert_graph_error(h.deauthorize("me", &page_token).await, StatusCode::BAD_REQUEST, 100, None).await;
    assert_eq!(h.publish(&page_token, "still works").await.status(), StatusCode::OK);

    // `/{user-id}/permissions` works for the token's own person only.
    let user = h.user_token("Sandbox User").await;
    let someone_else = body_of(h.me(&h.user_token("Someone Else").await).await).await["id"].as_str().unwrap().to_owned();
    assert_graph_error(h.deauthorize(&someone_else, &user).await, StatusCode::BAD_REQUEST, 100, Some(33)).await;
    // A code from before the app was removed cannot be exchanged afterwards.
    let pending = h.code("Sandbox User", &[PAGE]).await;
    let own = body_of(h.me(&user).await).await["id"].as_str().unwrap().to_owned();
    assert_eq!(h.deauthorize(&own, &user).await.status(), StatusCode::OK);
    assert_graph_error(h.publish(&page_token, "gone").await, StatusCode::BAD_REQUEST, 190, Some(458)).await;
    assert_graph_error(h.exchange(&pending, REDIRECT).await, StatusCode::BAD_REQUEST, 100, None).await;
    // Other edges cannot be deleted.
    let user = h.user_token("Sandbox User").await;
    let response = h.http.delete(h.url("/me/accounts")).bearer_auth(&user).send().await.unwrap();
    assert_graph_error(response, StatusCode::BAD_REQUEST, 2500, None).await;
}

// ---------------------------------------------------------------------------------------------
// Publishing.

#[tokio::test]
async fn publish_returns_page_post_id_and_records_the_ledger() {
    let h = start().await;
    let page_token = h.page_token("Sandbox User").await;
    let response = h.publish(&page_token, "Hello Facebook").await;
    assert_eq!(response.status(), StatusCode::OK);
    let id = body_of(response).await["id"].as_str().unwrap().to_owned();
    let (page, post) = id.split_once('_').unwrap();
    assert_eq!(page, PAGE);
    assert!(post.parse::<u64>().is_ok());
    // Form bodies and access_token as a parameter work too, with a link.
    let response = h
        .http
        .post(h.url(&format!("/{PAGE}/feed")))
        .form(&[("message", "With a link"), ("link", "https://example.com/post"), ("access_token", &page_token)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    let ledger = h.sandbox.ledger();
    assert_eq!(ledger.len(), 2);
    assert_eq!(ledger[0].platform, "facebook");
    assert_eq!(ledger[0].author, PAGE);
    assert_eq!(ledger[0].post_id, id);
    assert_eq!(ledger[0].text, "Hello Facebook");
    let over_http: Value = h.http.get(format!("{}/control/ledger", h.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(over_http[1]["author"], PAGE);
}

#[tokio::test]
async fn publishing_needs_a_page_token_for_that_page() {
    let h = start().await;
    let user = h.user_token("Sandbox User").await;
    assert_graph_error(h.publish(&user, "with a user token").await, StatusCode::BAD_REQUEST, 200, None).await;
    let page_token = h.page_token("Sandbox User").await;
    let response =
        h.http.post(h.url("/112130216863063/feed")).bearer_auth(&page_token).json(&json!({"message": "other page"})).send().await.unwrap();
    assert_graph_error(response, StatusCode::BAD_REQUEST, 200, None).await;
    let response = h.http.post(h.url(&format!("/{PAGE}/feed"))).bearer_auth(&page_token).json(&json!({})).send().await.unwrap();
    assert_graph_error(response, StatusCode::BAD_REQUEST, 100, None).await;
    assert!(h.sandbox.ledger().is_empty());
}

#[tokio::test]
async fn duplicate_is_506() {
    let h = start().await;
    let page_token = h.page_token("Sandbox User").await;
    assert_eq!(h.publish(&page_token, "Same again").await.status(), StatusCode::OK);
    let body = assert_graph_error(h.publish(&page_token, "Same again").await, StatusCode::BAD_REQUEST, 506, None).await;
    assert_eq!(body["error"]["message"], "(#506) Duplicate status message");
    assert_eq!(h.sandbox.ledger().len(), 1);
}

#[tokio::test]
async fn created_then_500_leaves_exactly_one_ledger_entry() {
    let h = start().await;
    let page_token = h.page_token("Sandbox User").await;
    assert_eq!(h.control("/control/facebook/faults", json!({"created_then_500": 1})).await.status(), StatusCode::OK);
    let response = h.publish(&page_token, "Did it post?").await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = body_of(response).await;
    assert_eq!(body["error"]["code"], 2);
    assert_eq!(body["error"]["is_transient"], true);
    assert_eq!(h.sandbox.ledger().len(), 1);
    // A naive retry hits the duplicate check; the ledger still has one entry.
    assert_graph_error(h.publish(&page_token, "Did it post?").await, StatusCode::BAD_REQUEST, 506, None).await;
    assert_eq!(h.sandbox.ledger().len(), 1);
    // The post is there in the feed.
    let feed = body_of(h.http.get(h.url(&format!("/{PAGE}/feed"))).bearer_auth(&page_token).send().await.unwrap()).await;
    assert_eq!(feed["data"][0]["message"], "Did it post?");
    assert_eq!(feed["data"][0]["id"], json!(h.sandbox.ledger()[0].post_id));
}

#[tokio::test]
async fn page_usage_headers_rise_and_code_32_at_the_limit() {
    let h = start_with(|c| c.facebook_limits = FacebookLimits { page_calls_per_day: 4, ..FacebookLimits::default() }).await;
    let page_token = h.page_token("Sandbox User").await;
    let mut seen = Vec::new();
    for i in 0..4 {
        let response = h.publish(&page_token, &format!("post {i}")).await;
        assert_eq!(response.status(), StatusCode::OK);
        let usage: Value = serde_json::from_str(response.headers()["x-page-usage"].to_str().unwrap()).unwrap();
        seen.push(usage["call_count"].as_u64().unwrap());
        let buc: Value = serde_json::from_str(response.headers()["x-business-use-case-usage"].to_str().unwrap()).unwrap();
        assert_eq!(buc[PAGE][0]["type"], "pages");
        assert_eq!(buc[PAGE][0]["call_count"], usage["call_count"]);
    }
    assert_eq!(seen, [25, 50, 75, 100]);
    h.clock.advance(Duration::from_secs(3600));
    let response = h.publish(&page_token, "one too many").await;
    let buc: Value = serde_json::from_str(response.headers()["x-business-use-case-usage"].to_str().unwrap()).unwrap();
    assert_eq!(buc[PAGE][0]["estimated_time_to_regain_access"], 23 * 60);
    let body = assert_graph_error(response, StatusCode::BAD_REQUEST, 32, None).await;
    assert_eq!(body["error"]["is_transient"], true);
    // The window slides: 24 hours after the first call, room again.
    h.clock.advance(Duration::from_secs(23 * 3600));
    assert_eq!(h.publish(&page_token, "later").await.status(), StatusCode::OK);
    assert_eq!(h.sandbox.ledger().len(), 5);
}

#[tokio::test]
async fn app_usage_header_and_codes_4_and_17() {
    let h = start_with(|c| {
        c.facebook_limits = FacebookLimits { app_calls_per_hour_per_user: 4, user_calls_per_hour: 3, ..FacebookLimits::default() }
    })
    .await;
    let user = h.user_token("Sandbox User").await;
    let me = |t: String| {
        let h = &h;
        async move { h.http.get(h.url("/me")).bearer_auth(t).send().await.unwrap() }
    };
    let response = me(user.clone()).await;
    let usage: Value = serde_json::from_str(response.headers()["x-app-usage"].to_str().unwrap()).unwrap();
    assert_eq!(usage["call_count"], 25);
    me(user.clone()).await;
    me(user.clone()).await;
    assert_graph_error(me(user.clone()).await, StatusCode::BAD_REQUEST, 17, None).await;
    // Another user has their own budget (and the app's budget grows with its users).
    let other = h.user_token("Someone Else").await;
    assert_eq!(me(other.clone()).await.status(), StatusCode::OK);
    h.clock.advance(Duration::from_secs(3600));
    assert_eq!(me(user).await.status(), StatusCode::OK, "the hour slid past");
}

#[tokio::test]
async fn app_limit_code_4_with_one_user() {
    let h = start_with(|c| {
        c.facebook_limits = FacebookLimits { app_calls_per_hour_per_user: 2, user_calls_per_hour: 100, ..FacebookLimits::default() }
    })
    .await;
    let user = h.user_token("Sandbox User").await;
    for expected in [50, 100] {
        let response = h.http.get(h.url("/me")).bearer_auth(&user).send().await.unwrap();
        let usage: Value = serde_json::from_str(response.headers()["x-app-usage"].to_str().unwrap()).unwrap();
        assert_eq!(usage["call_count"], expected);
    }
    let response = h.http.get(h.url("/me")).bearer_auth(&user).send().await.unwrap();
    let usage: Value = serde_json::from_str(response.headers()["x-app-usage"].to_str().unwrap()).unwrap();
    assert_eq!(usage["call_count"], 100);
    let body = assert_graph_error(response, StatusCode::BAD_REQUEST, 4, None).await;
    assert_eq!(body["error"]["message"], "(#4) Application request limit reached");
}

#[tokio::test]
async fn posts_per_hour_code_613() {
    let h = start_with(|c| c.facebook_limits = FacebookLimits { posts_per_page_per_hour: 2, ..FacebookLimits::default() }).await;
    let page_token = h.page_token("Sandbox User").await;
    assert_eq!(h.publish(&page_token, "a").await.status(), StatusCode::OK);
    assert_eq!(h.publish(&page_token, "b").await.status(), StatusCode::OK);
    assert_graph_error(h.publish(&page_token, "c").await, StatusCode::BAD_REQUEST, 613, None).await;
    h.clock.advance(Duration::from_secs(3600));
    assert_eq!(h.publish(&page_token, "c").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn feed_lists_recent_posts_and_delete() {
    let h = start().await;
    let page_token = h.page_token("Sandbox User").await;
    let mut ids = Vec::new();
    for text in ["first", "second", "third"] {
        ids.push(body_of(h.publish(&page_token, text).await).await["id"].as_str().unwrap().to_owned());
    }
    let feed =
        body_of(h.http.get(h.url(&format!("/{PAGE}/feed"))).query(&[("limit", "2")]).bearer_auth(&page_token).send().await.unwrap()).await;
    let messages: Vec<&str> = feed["data"].as_array().unwrap().iter().map(|p| p["message"].as_str().unwrap()).collect();
    assert_eq!(messages, ["third", "second"]);
    assert_eq!(feed["data"][0]["created_time"], "2026-03-01T12:00:00+0000");

    let response = h.http.delete(h.url(&format!("/{}", ids[1]))).bearer_auth(&page_token).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body_of(response).await, json!({"success": true}));
    let response = h.http.delete(h.url(&format!("/{}", ids[1]))).bearer_auth(&page_token).send().await.unwrap();
    assert_graph_error(response, StatusCode::BAD_REQUEST, 100, Some(33)).await;
    let feed = body_of(h.http.get(h.url(&format!("/{PAGE}/feed"))).bearer_auth(&page_token).send().await.unwrap()).await;
    assert_eq!(feed["data"].as_array().unwrap().len(), 2);
    // A user token cannot delete a Page post.
    let user = h.user_token("Sandbox User").await;
    let response = h.http.delete(h.url(&format!("/{}", ids[0]))).bearer_auth(&user).send().await.unwrap();
    assert_graph_error(response, StatusCode::BAD_REQUEST, 200, None).await;
}

#[tokio::test]
async fn faults_scoped_to_facebook_leave_other_platforms_alone() {
    let h = start().await;
    let page_token = h.page_token("Sandbox User").await;
    h.control("/control/facebook/faults", json!({"next_responses": [{"status": 503, "body": {"error": {"code": 1, "message": "x"}}}]}))
        .await;
    assert_eq!(h.publish(&page_token, "x").await.status(), StatusCode::SERVICE_UNAVAILABLE);
    h.control("/control/facebook/faults", json!({"error_rate": 1.0})).await;
    let body = assert_graph_error(h.publish(&page_token, "y").await, StatusCode::INTERNAL_SERVER_ERROR, 2, None).await;
    assert_eq!(body["error"]["is_transient"], true);
    assert!(h.sandbox.ledger().is_empty(), "random errors do not create");
    h.http.delete(format!("{}/control/facebook/faults", h.base)).send().await.unwrap();
    assert_eq!(h.publish(&page_token, "z").await.status(), StatusCode::OK);
    // Reset forgets posts and tokens, keeps the app.
    assert_eq!(h.control("/control/reset", json!({})).await.status(), StatusCode::OK);
    assert!(h.sandbox.ledger().is_empty());
    assert_graph_error(h.publish(&page_token, "z").await, StatusCode::BAD_REQUEST, 190, None).await;
    assert!(h.user_token("Sandbox User").await.len() > 10);
}

// ---------------------------------------------------------------------------------------------
// Metrics read-back (media-and-metrics.md §3.3).

/// A Page token for PAGE whose person granted `scope`.
async fn page_token_with(h: &Harness, account: &str, scope: &str) -> String {
    let mut form: Vec<(&str, String)> = dialog_params().into_iter().filter(|(k, _)| *k != "scope").collect();
    form.extend([("scope", scope.to_owned()), ("account", account.into()), ("action", "authorize".into()), ("page", PAGE.into())]);
    let response = h.http.post(h.url("/dialog/oauth")).form(&form).send().await.unwrap();
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let short = body_of(h.exchange(&query_of(&location)["code"], REDIRECT).await).await;
    let long = body_of(h.long_lived(short["access_token"].as_str().unwrap()).await).await;
    let accounts = body_of(h.accounts(long["access_token"].as_str().unwrap()).await).await;
    accounts["data"].as_array().unwrap().iter().find(|p| p["id"] == PAGE).unwrap()["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_posts_counts_and_insights_grow_with_its_age_for_those_allowed() {
    let h = start().await;
    let token = page_token_with(&h, "page-admin", &format!("{SCOPES},read_insights")).await;
    let id = body_of(h.publish(&token, "Hello Page").await).await["id"].as_str().unwrap().to_owned();
    h.clock.advance(Duration::from_secs(3 * 24 * 3600));
    let expected = crier_sandbox::engagement(&id, chrono::TimeDelta::days(3));

    let fields = "reactions.summary(total_count).limit(0),comments.summary(true).limit(0),shares";
    let post = body_of(h.http.get(h.url(&format!("/{id}"))).query(&[("fields", fields)]).bearer_auth(&token).send().await.unwrap()).await;
    assert_eq!(post["id"], id.as_str());
    assert_eq!(post["reactions"]["summary"]["total_count"], expected.likes);
    assert_eq!(post["comments"]["summary"]["total_count"], expected.replies);
    match expected.reposts {
        0 => assert!(post.get("shares").is_none(), "no shares: the field is left out: {post}"),
        n => assert_eq!(post["shares"]["count"], n),
    }
    assert!(post.get("message").is_none(), "only the fields asked for");

    let insights = h.url(&format!("/{id}/insights"));
    let body =
        body_of(h.http.get(&insights).query(&[("metric", "post_media_view,post_clicks")]).bearer_auth(&token).send().await.unwrap()).await;
    let values: Vec<(&str, &Value)> =
        body["data"].as_array().unwrap().iter().map(|m| (m["name"].as_str().unwrap(), &m["values"][0]["value"])).collect();
    assert_eq!(
        values,
        [("post_media_view", &json!(expected.impressions)), ("post_clicks", &json!(expected.link_clicks + expected.profile_clicks))]
    );
    assert_eq!(body["data"][0]["period"], "lifetime");

    // One retired metric fails the whole call.
    let response = h.http.get(&insights).query(&[("metric", "post_media_view,post_impressions")]).bearer_auth(&token).send().await.unwrap();
    let body = assert_graph_error(response, StatusCode::BAD_REQUEST, 100, None).await;
    assert_eq!(body["error"]["message"], "(#100) The value must be a valid insights metric");

    // Without read_insights: no insights; without pages_read_engagement: no counts.
    let plain = page_token_with(&h, "page-admin", SCOPES).await;
    let response = h.http.get(&insights).query(&[("metric", "post_clicks")]).bearer_auth(&plain).send().await.unwrap();
    assert_graph_error(response, StatusCode::BAD_REQUEST, 200, None).await;
    let blind = page_token_with(&h, "page-admin", "pages_manage_posts,pages_show_list").await;
    let response = h.http.get(h.url(&format!("/{id}"))).query(&[("fields", fields)]).bearer_auth(&blind).send().await.unwrap();
    assert_graph_error(response, StatusCode::BAD_REQUEST, 200, None).await;
    // The post itself stays readable without the counts.
    let response = h.http.get(h.url(&format!("/{id}"))).query(&[("fields", "message")]).bearer_auth(&blind).send().await.unwrap();
    assert_eq!(body_of(response).await["message"], "Hello Page");
}
