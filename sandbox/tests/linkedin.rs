//! The LinkedIn fake over real HTTP: the router is bound on 127.0.0.1:0 and called with reqwest.

mod support;

use std::collections::HashMap;
use std::time::Duration;

use crier_sandbox::{LinkedInLimits, SandboxConfig};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::Harness;

const CLIENT_ID: &str = "li-test-client";
const CLIENT_SECRET: &str = "li-s3cret";
const REDIRECT: &str = "http://localhost:3000/connect/linkedin/callback";
const APP_NAME: &str = "Crier LinkedIn Test";
const SCOPES: &str = "openid profile email w_member_social r_member_social";
const ORG_SCOPES: &str = "openid profile w_member_social w_organization_social r_organization_social";
const VERSION: &str = "202601";

async fn start() -> Harness {
    start_with(|_| {}).await
}

async fn start_with(tweak: impl FnOnce(&mut SandboxConfig)) -> Harness {
    support::serve(tweak, |sandbox| sandbox.register_linkedin_app(CLIENT_ID, CLIENT_SECRET, REDIRECT, APP_NAME)).await
}

fn authorize_params(scope: &str) -> Vec<(&'static str, String)> {
    vec![
        ("response_type", "code".into()),
        ("client_id", CLIENT_ID.into()),
        ("redirect_uri", REDIRECT.into()),
        ("scope", scope.into()),
        ("state", "foobar".into()),
    ]
}

fn query_of(location: &str) -> HashMap<String, String> {
    let url = reqwest::Url::parse(location).unwrap();
    url.query_pairs().into_owned().collect()
}

impl Harness {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn submit(&self, scope: &str, extra: &[(&str, &str)]) -> HashMap<String, String> {
        let mut form: Vec<(&str, String)> = authorize_params(scope);
        for (k, v) in extra {
            form.push((k, (*v).to_owned()));
        }
        let response = self.http.post(self.url("/linkedin/oauth/v2/authorization")).form(&form).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FOUND);
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        assert!(location.starts_with(REDIRECT), "{location}");
        query_of(&location)
    }

    async fn code(&self, scope: &str, account: &str) -> String {
        let query = self.submit(scope, &[("account", account), ("action", "authorize")]).await;
        assert_eq!(query["state"], "foobar");
        query["code"].clone()
    }

    async fn token(&self, form: &[(&str, &str)]) -> reqwest::Response {
        self.http.post(self.url("/linkedin/oauth/v2/accessToken")).form(form).send().await.unwrap()
    }

    async fn exchange(&self, code: &str, redirect: &str) -> reqwest::Response {
        self.token(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ])
        .await
    }

    async fn connect(&self, scope: &str, account: &str) -> Value {
        let code = self.code(scope, account).await;
        let response = self.exchange(&code, REDIRECT).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    async fn userinfo(&self, token: &str) -> reqwest::Response {
        self.http.get(self.url("/linkedin/v2/userinfo")).bearer_auth(token).send().await.unwrap()
    }

    fn rest(&self, method: reqwest::Method, path: &str, token: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, self.url(path))
            .bearer_auth(token)
            .header("LinkedIn-Version", VERSION)
            .header("X-Restli-Protocol-Version", "2.0.0")
    }

    async fn post(&self, token: &str, body: Value) -> reqwest::Response {
        self.rest(reqwest::Method::POST, "/linkedin/rest/posts", token).json(&body).send().await.unwrap()
    }

    async fn control(&self, path: &str, body: Value) -> reqwest::Response {
        self.http.post(self.url(path)).json(&body).send().await.unwrap()
    }
}

fn at(body: &Value) -> &str {
    body["access_token"].as_str().unwrap()
}

fn text_post(author: &str, commentary: &str) -> Value {
    json!({
        "author": author,
        "commentary": commentary,
        "visibility": "PUBLIC",
        "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [], "thirdPartyDistributionChannels": []},
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": false
    })
}

async fn sub(h: &Harness, token: &str) -> String {
    let body: Value = h.userinfo(token).await.json().await.unwrap();
    body["sub"].as_str().unwrap().to_owned()
}

async fn person(h: &Harness, token: &str) -> String {
    format!("urn:li:person:{}", sub(h, token).await)
}

async fn body_of(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

// ---------------------------------------------------------------------------------------------
// OAuth.

#[tokio::test]
async fn consent_page_names_the_app_scopes_account_and_buttons() {
    let h = start().await;
    let response = h.http.get(h.url("/linkedin/oauth/v2/authorization")).query(&authorize_params(ORG_SCOPES)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    assert!(html.contains(APP_NAME));
    for scope in ORG_SCOPES.split(' ') {
        assert!(html.contains(&format!("<code>{scope}</code>")), "{scope}");
    }
    assert!(html.contains(">Authorize</button>"));
    assert!(html.contains(">Cancel</button>"));
    assert!(html.contains("name=\"account\""));
    assert!(html.contains("Account"));
    assert!(html.contains("name=\"organization\""), "organization scopes offer the organizations");
    assert!(html.contains(&format!("action=\"{}/linkedin/oauth/v2/authorization\"", h.base)));
    for (name, _) in authorize_params(SCOPES) {
        assert!(html.contains(&format!("type=\"hidden\" name=\"{name}\"")), "{name}");
    }
    // Member scopes only: no organization picker.
    let html =
        h.http.get(h.url("/linkedin/oauth/v2/authorization")).query(&authorize_params(SCOPES)).send().await.unwrap().text().await.unwrap();
    assert!(!html.contains("name=\"organization\""));
}

#[tokio::test]
async fn redirect_mismatch_and_unknown_client_show_an_error_page() {
    let h = start().await;
    for (field, value) in [("redirect_uri", "http://evil.example/cb"), ("client_id", "nobody")] {
        let mut params = authorize_params(SCOPES);
        params.iter_mut().find(|(k, _)| *k == field).unwrap().1 = value.to_owned();
        let response = h.http.get(h.url("/linkedin/oauth/v2/authorization")).query(&params).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{field}");
        assert!(response.headers().get("location").is_none());
        assert!(!response.text().await.unwrap().contains(">Authorize</button>"));
    }
    // An unknown scope goes back to the app.
    let response =
        h.http.get(h.url("/linkedin/oauth/v2/authorization")).query(&authorize_params("openid r_nonsense")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    let query = query_of(response.headers()["location"].to_str().unwrap());
    assert_eq!(query["error"], "unauthorized_scope_error");
    assert_eq!(query["state"], "foobar");
}

#[tokio::test]
async fn cancel_redirects_with_user_cancelled_authorize() {
    let h = start().await;
    let query = h.submit(SCOPES, &[("action", "cancel")]).await;
    assert_eq!(query["error"], "user_cancelled_authorize");
    assert_eq!(query["state"], "foobar");
    assert!(query.contains_key("error_description"));
    assert!(!query.contains_key("code"));
}

#[tokio::test]
async fn full_flow_gives_sixty_day_tokens_and_userinfo() {
    let h = start().await;
    let body = h.connect(SCOPES, "ada-lovelace").await;
    assert_eq!(body["expires_in"], 5_184_000);
    assert_eq!(body["refresh_token_expires_in"], 31_536_000);
    assert!(body["refresh_token"].is_string());
    assert_eq!(body["scope"], "openid,profile,email,w_member_social,r_member_social");
    let info = body_of(h.userinfo(at(&body)).await).await;
    assert_eq!(info["name"], "Ada Lovelace");
    assert_eq!(info["given_name"], "Ada");
    assert_eq!(info["family_name"], "Lovelace");
    assert_eq!(info["email"], "ada-lovelace@example.com");
    assert!(info["sub"].as_str().unwrap().len() >= 8);
    // The same account again is the same member.
    let again = h.connect(SCOPES, "ada-lovelace").await;
    assert_eq!(body_of(h.userinfo(at(&again)).await).await["sub"], info["sub"]);
}

#[tokio::test]
async fn token_endpoint_errors() {
    let h = start().await;
    // Redirect mismatch: invalid_redirect_uri, and the code is spent.
    let code = h.code(SCOPES, "sandbox-member").await;
    let response = h.exchange(&code, "http://localhost:3000/other").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body_of(response).await["error"], "invalid_redirect_uri");
    let response = h.exchange(&code, REDIRECT).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body = body_of(response).await;
    assert_eq!(body["error"], "invalid_request");
    assert_eq!(body["error_description"], "authorization code not found");
    // Expired code (30 minutes).
    let code = h.code(SCOPES, "sandbox-member").await;
    h.clock.advance(Duration::from_secs(30 * 60));
    assert_eq!(body_of(h.exchange(&code, REDIRECT).await).await["error"], "invalid_redirect_uri");
    // Missing parameter and bad secret.
    let response = h.token(&[("grant_type", "authorization_code"), ("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET)]).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body_of(response).await["error_description"], "A required parameter \"code\" is missing");
    let code = h.code(SCOPES, "sandbox-member").await;
    let response = h
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", CLIENT_ID),
            ("client_secret", "wrong"),
        ])
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(body_of(response).await["error"], "invalid_client");
}

#[tokio::test]
async fn refresh_keeps_the_same_refresh_token_and_its_fixed_expiry() {
    let h = start().await;
    let first = h.connect(SCOPES, "sandbox-member").await;
    let rt = first["refresh_token"].as_str().unwrap();
    h.clock.advance(Duration::from_secs(59 * 24 * 3600));
    let refresh = [("grant_type", "refresh_token"), ("refresh_token", rt), ("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET)];
    let response = h.token(&refresh).await;
    assert_eq!(response.status(), StatusCode::OK);
    let second = body_of(response).await;
    assert_eq!(second["refresh_token"], rt, "LinkedIn does not rotate");
    assert_eq!(second["refresh_token_expires_in"], 306 * 24 * 3600);
    assert_eq!(second["expires_in"], 5_184_000);
    assert_ne!(second["access_token"], first["access_token"]);
    assert_eq!(h.userinfo(at(&second)).await.status(), StatusCode::OK);
    // Refresh again with the same token: still fine.
    assert_eq!(h.token(&refresh).await.status(), StatusCode::OK);
    // After 365 days the refresh token is dead: invalid_request.
    h.clock.advance(Duration::from_secs(307 * 24 * 3600));
    let response = h.token(&refresh).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body = body_of(response).await;
    assert_eq!(body["error"], "invalid_request");
    assert_eq!(body["error_description"], "The provided authorization grant or refresh token is invalid, expired or revoked");
}

#[tokio::test]
async fn apps_without_programmatic_refresh_get_no_refresh_token() {
    let h = start().await;
    assert!(h.sandbox.set_linkedin_refresh_tokens(CLIENT_ID, false));
    let body = h.connect(SCOPES, "sandbox-member").await;
    assert!(body.get("refresh_token").is_none());
    assert!(body.get("refresh_token_expires_in").is_none());
    // And through the control API.
    let response =
        h.control("/control/linkedin/apps", json!({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uri": REDIRECT, "name": APP_NAME, "refresh_tokens": true})).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(h.connect(SCOPES, "sandbox-member").await["refresh_token"].is_string());
}

#[tokio::test]
async fn shortened_token_lifetimes_from_the_config() {
    let h = start_with(|c| {
        c.linkedin_access_token_ttl = Duration::from_secs(60);
        c.linkedin_refresh_token_ttl = Duration::from_secs(120);
    })
    .await;
    let body = h.connect(SCOPES, "sandbox-member").await;
    assert_eq!(body["expires_in"], 60);
    assert_eq!(body["refresh_token_expires_in"], 120);
    h.clock.advance(Duration::from_secs(60));
    let response = h.userinfo(at(&body)).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(body_of(response).await, json!({"serviceErrorCode": 65600, "message": "Expired access token", "status": 401}));
}

// ---------------------------------------------------------------------------------------------
// Tokens at the API.

#[tokio::test]
async fn missing_unknown_expired_and_revoked_tokens_are_401_with_linkedin_bodies() {
    let h = start().await;
    let response = h.http.get(h.url("/linkedin/v2/userinfo")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(body_of(response).await, json!({"message": "Empty oauth2_access_token", "serviceErrorCode": 401, "status": 401}));
    let response = h.userinfo("nonsense").await;
    assert_eq!(body_of(response).await, json!({"serviceErrorCode": 65600, "message": "Invalid access token", "status": 401}));

    let body = h.connect(SCOPES, "sandbox-member").await;
    let response = h.control("/control/linkedin/expire-token", json!({"access_token": at(&body)})).await;
    assert_eq!(response.status(), StatusCode::OK);
    let me = person(&h, at(&h.connect(SCOPES, "sandbox-member").await)).await;
    let response = h.post(at(&body), text_post(&me, "hello")).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(body_of(response).await["message"], "Expired access token");

    let fresh = h.connect(SCOPES, "sandbox-member").await;
    let response = h.control("/control/linkedin/revoke-user", json!({"user_id": "sandbox-member"})).await;
    assert!(body_of(response).await["revoked"].as_u64().unwrap() >= 2);
    let response = h.userinfo(at(&fresh)).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body = body_of(response).await;
    assert_eq!(body["serviceErrorCode"], 65601);
    assert_eq!(body["code"], "REVOKED_ACCESS_TOKEN");
    // The refresh token died too.
    let refresh = [
        ("grant_type", "refresh_token"),
        ("refresh_token", fresh["refresh_token"].as_str().unwrap()),
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
    ];
    assert_eq!(h.token(&refresh).await.status(), StatusCode::BAD_REQUEST);
}

// ---------------------------------------------------------------------------------------------
// Posts.

#[tokio::test]
async fn publish_as_member_returns_201_with_x_restli_id_and_records_the_ledger() {
    let h = start().await;
    let token = h.connect(SCOPES, "sandbox-member").await;
    let me = person(&h, at(&token)).await;
    let mut body = text_post(&me, "Hello LinkedIn");
    body["content"] = json!({"article": {"source": "https://example.com/post", "title": "A post"}});
    let response = h.post(at(&token), body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let urn = response.headers()["x-restli-id"].to_str().unwrap().to_owned();
    assert!(urn.starts_with("urn:li:share:"), "{urn}");
    assert!(urn["urn:li:share:".len()..].parse::<u64>().unwrap() > 6_000_000_000_000_000_000);
    assert!(response.bytes().await.unwrap().is_empty());

    let ledger = h.sandbox.ledger();
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0].platform, "linkedin");
    assert_eq!(ledger[0].author, me);
    assert_eq!(ledger[0].post_id, urn);
    assert_eq!(ledger[0].text, "Hello LinkedIn");
    let over_http: Value = h.http.get(h.url("/control/ledger")).send().await.unwrap().json().await.unwrap();
    assert_eq!(over_http[0]["platform"], "linkedin");
    assert_eq!(over_http[0]["author"], me);
}

#[tokio::test]
async fn publish_as_an_administered_organization_only() {
    let h = start().await;
    // The default member administers 5515715; pick it and a new organization on the consent page.
    let query = h
        .submit(
            ORG_SCOPES,
            &[
                ("account", "org-admin"),
                ("organization", "5515715"),
                ("organizations_shown", "1"),
                ("new_organization", "Acme Widgets"),
                ("action", "authorize"),
            ],
        )
        .await;
    let token = body_of(h.exchange(&query["code"], REDIRECT).await).await;
    let acls = body_of(
        h.rest(reqwest::Method::GET, "/linkedin/rest/organizationAcls?q=roleAssignee&role=ADMINISTRATOR&state=APPROVED", at(&token))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let orgs: Vec<&str> = acls["elements"].as_array().unwrap().iter().map(|e| e["organization"].as_str().unwrap()).collect();
    assert_eq!(orgs.len(), 2, "{acls}");
    assert_eq!(orgs[0], "urn:li:organization:5515715");
    assert_eq!(acls["elements"][0]["role"], "ADMINISTRATOR");
    let new_org = orgs[1].to_owned();
    let org = body_of(
        h.rest(reqwest::Method::GET, &format!("/linkedin/rest/organizations/{}", &new_org["urn:li:organization:".len()..]), at(&token))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(org["localizedName"], "Acme Widgets");

    let response = h.post(at(&token), text_post("urn:li:organization:5515715", "From the org")).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(h.sandbox.ledger()[0].author, "urn:li:organization:5515715");
    // Not an administrator of 2414183: 403.
    let response = h.post(at(&token), text_post("urn:li:organization:2414183", "Not mine")).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(body_of(response).await["serviceErrorCode"], 100);
    // Member scopes only: no organization posting.
    let member = h.connect(SCOPES, "org-admin").await;
    assert_eq!(h.post(at(&member), text_post("urn:li:organization:5515715", "x")).await.status(), StatusCode::FORBIDDEN);
    // Someone else's person URN: 403.
    assert_eq!(h.post(at(&member), text_post("urn:li:person:someoneElse", "x")).await.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn duplicate_commentary_is_422_duplicate_post() {
    let h = start().await;
    let token = h.connect(SCOPES, "sandbox-member").await;
    let me = person(&h, at(&token)).await;
    let first = h.post(at(&token), text_post(&me, "Same words")).await;
    let urn = first.headers()["x-restli-id"].to_str().unwrap().to_owned();
    let response = h.post(at(&token), text_post(&me, "Same words")).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = body_of(response).await;
    assert_eq!(body["status"], 422);
    assert_eq!(body["errorDetails"]["inputErrors"][0]["code"], "DUPLICATE_POST");
    assert!(body["message"].as_str().unwrap().ends_with(&format!("Content is a duplicate of {urn}")));
    assert_eq!(h.sandbox.ledger().len(), 1);
}

#[tokio::test]
async fn unescaped_reserved_character_truncates_silently_escaped_is_kept_whole() {
    let h = start().await;
    let token = h.connect(SCOPES, "sandbox-member").await;
    let me = person(&h, at(&token)).await;
    let response = h.post(at(&token), text_post(&me, "Launch day (finally) is here")).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let escaped = r"Launch day \(finally\) is here \#1 \\o/";
    let response = h.post(at(&token), text_post(&me, escaped)).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let templates = "Thanks @[Devtestco](urn:li:organization:2414183) #coding {hashtag|\\#|rust} ok_then";
    assert_eq!(h.post(at(&token), text_post(&me, templates)).await.status(), StatusCode::CREATED);
    let ledger = h.sandbox.ledger();
    assert_eq!(ledger[0].text, "Launch day ");
    assert_eq!(ledger[1].text, escaped);
    assert_eq!(ledger[2].text, "Thanks @[Devtestco](urn:li:organization:2414183) #coding {hashtag|\\#|rust} ok");
}

#[tokio::test]
async fn over_3000_characters_is_422_and_validation_errors() {
    let h = start().await;
    let token = h.connect(SCOPES, "sandbox-member").await;
    let me = person(&h, at(&token)).await;
    assert_eq!(h.post(at(&token), text_post(&me, &"é".repeat(3000))).await.status(), StatusCode::CREATED);
    let response = h.post(at(&token), text_post(&me, &"a".repeat(3001))).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body_of(response).await["status"], 422);
    let response = h.post(at(&token), json!({"commentary": "no author"})).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body_of(response).await["message"].as_str().unwrap().contains("ERROR :: /author :: field is required but not found"));
    let response = h.rest(reqwest::Method::POST, "/linkedin/rest/posts", at(&token)).body("not json").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        body_of(response).await,
        json!({"status": 400, "code": "ILLEGAL_ARGUMENT", "message": "Request body could not be converted to data map"})
    );
    assert_eq!(h.sandbox.ledger().len(), 1);
}

#[tokio::test]
async fn version_and_restli_headers_are_required() {
    let h = start().await;
    let token = h.connect(SCOPES, "sandbox-member").await;
    let me = person(&h, at(&token)).await;
    let body = text_post(&me, "versions");
    let response = h
        .http
        .post(h.url("/linkedin/rest/posts"))
        .bearer_auth(at(&token))
        .header("X-Restli-Protocol-Version", "2.0.0")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body_of(response).await["code"], "VERSION_MISSING");
    for version in ["202401", "202604", "latest"] {
        let response = h
            .http
            .post(h.url("/linkedin/rest/posts"))
            .bearer_auth(at(&token))
            .header("LinkedIn-Version", version)
            .header("X-Restli-Protocol-Version", "2.0.0")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 426, "{version}");
        assert_eq!(
            body_of(response).await,
            json!({"status": 426, "code": "NONEXISTENT_VERSION", "message": format!("Requested version {version} is not active")})
        );
    }
    let response = h
        .http
        .post(h.url("/linkedin/rest/posts"))
        .bearer_auth(at(&token))
        .header("LinkedIn-Version", "202603")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(h.sandbox.ledger().is_empty());
}

#[tokio::test]
async fn daily_member_limit_is_429_until_midnight_utc() {
    let h = start_with(|c| c.linkedin_limits = LinkedInLimits { posts_per_member_per_day: 2, ..LinkedInLimits::default() }).await;
    let token = h.connect(SCOPES, "sandbox-member").await;
    let me = person(&h, at(&token)).await;
    assert_eq!(h.post(at(&token), text_post(&me, "one")).await.status(), StatusCode::CREATED);
    assert_eq!(h.post(at(&token), text_post(&me, "two")).await.status(), StatusCode::CREATED);
    let response = h.post(at(&token), text_post(&me, "three")).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        body_of(response).await,
        json!({"serviceErrorCode": 101, "message": "Resource level throttle limit for calls to this resource is reached.", "status": 429})
    );
    // Another member is not affected.
    let other = h.connect(SCOPES, "someone-else").await;
    let other_urn = person(&h, at(&other)).await;
    assert_eq!(h.post(at(&other), text_post(&other_urn, "three")).await.status(), StatusCode::CREATED);
    // 11:59:59 later is still the same UTC day; one second more is the next day.
    h.clock.advance(Duration::from_secs(12 * 3600 - 1));
    assert_eq!(h.post(at(&token), text_post(&me, "three")).await.status(), StatusCode::TOO_MANY_REQUESTS);
    h.clock.advance(Duration::from_secs(1));
    assert_eq!(h.post(at(&token), text_post(&me, "three")).await.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn list_recent_posts_and_delete() {
    let h = start().await;
    let token = h.connect(SCOPES, "sandbox-member").await;
    let me = person(&h, at(&token)).await;
    let mut urns = Vec::new();
    for text in ["first", "second", "third"] {
        let response = h.post(at(&token), text_post(&me, text)).await;
        urns.push(response.headers()["x-restli-id"].to_str().unwrap().to_owned());
    }
    let encoded: String = url::form_urlencoded::byte_serialize(me.as_bytes()).collect();
    let list_path = format!("/linkedin/rest/posts?author={encoded}&q=author&count=10");
    let list = body_of(h.rest(reqwest::Method::GET, &list_path, at(&token)).send().await.unwrap()).await;
    let texts: Vec<&str> = list["elements"].as_array().unwrap().iter().map(|e| e["commentary"].as_str().unwrap()).collect();
    assert_eq!(texts, ["third", "second", "first"]);
    assert_eq!(list["elements"][0]["id"], urns[2]);
    assert_eq!(list["elements"][0]["author"], me);

    let one: String = url::form_urlencoded::byte_serialize(urns[1].as_bytes()).collect();
    let response = h.rest(reqwest::Method::GET, &format!("/linkedin/rest/posts/{one}"), at(&token)).send().await.unwrap();
    assert_eq!(body_of(response).await["commentary"], "second");
    let response = h.rest(reqwest::Method::DELETE, &format!("/linkedin/rest/posts/{one}"), at(&token)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    // Idempotent.
    let response = h.rest(reqwest::Method::DELETE, &format!("/linkedin/rest/posts/{one}"), at(&token)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let list = body_of(h.rest(reqwest::Method::GET, &list_path, at(&token)).send().await.unwrap()).await;
    assert_eq!(list["elements"].as_array().unwrap().len(), 2);
    // Someone else cannot delete it.
    let other = h.connect(SCOPES, "someone-else").await;
    let two: String = url::form_urlencoded::byte_serialize(urns[2].as_bytes()).collect();
    let response = h.rest(reqwest::Method::DELETE, &format!("/linkedin/rest/posts/{two}"), at(&other)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // Reading needs r_member_social.
    let writer = h.connect("openid profile w_member_social", "sandbox-member").await;
    let response = h.rest(reqwest::Method::GET, &list_path, at(&writer)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn faults_are_per_platform() {
    let h = start().await;
    let token = h.connect(SCOPES, "sandbox-member").await;
    let response = h.control("/control/linkedin/faults", json!({"next_responses": [{"status": 504}]})).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(h.userinfo(at(&token)).await.status(), StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(h.userinfo(at(&token)).await.status(), StatusCode::OK);
    h.control("/control/linkedin/faults", json!({"error_rate": 1.0})).await;
    let response = h.userinfo(at(&token)).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body_of(response).await["status"], 500);
    h.http.delete(h.url("/control/linkedin/faults")).send().await.unwrap();
    assert_eq!(h.userinfo(at(&token)).await.status(), StatusCode::OK);
    // created_then_500 is Meta's.
    assert_eq!(h.control("/control/linkedin/faults", json!({"created_then_500": 1})).await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(h.control("/control/nowhere/faults", json!({})).await.status(), StatusCode::NOT_FOUND);
}

// ---------------------------------------------------------------------------------------------
// Metrics read-back (media-and-metrics.md §2.6).

/// A token of the default member, administrator of organization 5515715, with `scope`.
async fn org_admin(h: &Harness, scope: &str) -> Value {
    let query = h
        .submit(scope, &[("account", "org-admin"), ("organization", "5515715"), ("organizations_shown", "1"), ("action", "authorize")])
        .await;
    body_of(h.exchange(&query["code"], REDIRECT).await).await
}

fn encoded(urn: &str) -> String {
    urn.replace(':', "%3A").replace('(', "%28").replace(')', "%29").replace(',', "%2C")
}

#[tokio::test]
async fn social_actions_and_share_statistics_report_engagement_to_those_allowed() {
    let h = start().await;
    let admin = org_admin(&h, &format!("{ORG_SCOPES} rw_organization_admin")).await;
    let response = h.post(at(&admin), text_post("urn:li:organization:5515715", "From the org")).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let urn = response.headers()["x-restli-id"].to_str().unwrap().to_owned();
    let quiet = h.post(at(&admin), text_post("urn:li:organization:5515715", "Just now")).await;
    let quiet = quiet.headers()["x-restli-id"].to_str().unwrap().to_owned();

    // Two days on (the second post is as old: its numbers differ, not its age).
    h.clock.advance(Duration::from_secs(2 * 24 * 3600));
    let expected = crier_sandbox::engagement(&urn, chrono::TimeDelta::days(2));
    let actions =
        h.rest(reqwest::Method::GET, &format!("/linkedin/rest/socialActions/{}", encoded(&urn)), at(&admin)).send().await.unwrap();
    assert_eq!(actions.status(), StatusCode::OK);
    let actions = body_of(actions).await;
    assert_eq!(actions["target"], urn.as_str());
    assert_eq!(actions["likesSummary"]["totalLikes"], expected.likes);
    assert_eq!(actions["commentsSummary"]["aggregatedTotalComments"], expected.replies);

    let stats_path = format!(
        "/linkedin/rest/organizationalEntityShareStatistics?q=organizationalEntity&organizationalEntity={}&shares={}",
        encoded("urn:li:organization:5515715"),
        encoded(&format!("List({urn},{quiet},urn:li:share:1)")),
    );
    let stats = body_of(h.rest(reqwest::Method::GET, &stats_path, at(&admin)).send().await.unwrap()).await;
    let elements = stats["elements"].as_array().unwrap();
    assert_eq!(elements.len(), 2, "an unknown post is left out: {stats}");
    let first = &elements[0];
    assert_eq!(first["share"], urn.as_str());
    assert_eq!(first["organizationalEntity"], "urn:li:organization:5515715");
    assert_eq!(first["totalShareStatistics"]["impressionCount"], expected.impressions);
    assert_eq!(first["totalShareStatistics"]["likeCount"], expected.likes);
    assert_eq!(first["totalShareStatistics"]["shareCount"], expected.reposts);
    assert_eq!(first["totalShareStatistics"]["clickCount"], expected.link_clicks + expected.profile_clicks);

    // Without rw_organization_admin: no share statistics, social actions still.
    let social_only = org_admin(&h, ORG_SCOPES).await;
    let response = h.rest(reqwest::Method::GET, &stats_path, at(&social_only)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(body_of(response).await["serviceErrorCode"], 100);
    let path = format!("/linkedin/rest/socialActions/{}", encoded(&urn));
    assert_eq!(h.rest(reqwest::Method::GET, &path, at(&social_only)).send().await.unwrap().status(), StatusCode::OK);

    // A member's own post needs r_member_social (restricted): without it, 403.
    let member = h.connect(SCOPES, "member-one").await;
    let mine = h.post(at(&member), text_post(&person(&h, at(&member)).await, "Mine")).await;
    let mine = mine.headers()["x-restli-id"].to_str().unwrap().to_owned();
    let path = format!("/linkedin/rest/socialActions/{}", encoded(&mine));
    assert_eq!(h.rest(reqwest::Method::GET, &path, at(&member)).send().await.unwrap().status(), StatusCode::OK);
    let unprivileged = h.connect("openid profile email w_member_social", "member-one").await;
    let response = h.rest(reqwest::Method::GET, &path, at(&unprivileged)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(body_of(response).await["serviceErrorCode"], 100);
}

#[tokio::test]
async fn metrics_calls_have_a_daily_throttle_of_their_own() {
    let h = start_with(|c| c.linkedin_limits = LinkedInLimits { metrics_per_member_per_day: 2, ..LinkedInLimits::default() }).await;
    let member = h.connect(SCOPES, "member-one").await;
    let mine = h.post(at(&member), text_post(&person(&h, at(&member)).await, "Mine")).await;
    let path = format!("/linkedin/rest/socialActions/{}", encoded(mine.headers()["x-restli-id"].to_str().unwrap()));
    for _ in 0..2 {
        assert_eq!(h.rest(reqwest::Method::GET, &path, at(&member)).send().await.unwrap().status(), StatusCode::OK);
    }
    let response = h.rest(reqwest::Method::GET, &path, at(&member)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body_of(response).await["serviceErrorCode"], 101);
    // Posting's count is its own.
    assert_eq!(h.post(at(&member), text_post(&person(&h, at(&member)).await, "Still")).await.status(), StatusCode::CREATED);
}
