//! The REST API over real HTTP: a script with a team token does what the pages do; tokens, roles,
//! other teams, pagination, idempotency, problem+json, rate limits, the OpenAPI document, and the
//! product brief's endpoints in the brief's shapes. Against the app with its sandbox platforms.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, LOCATION, RETRY_AFTER, WWW_AUTHENTICATE};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use support::{Browser, TestApp, connect};

/// A token for the browser's team, made through Settings → API.
async fn token(browser: &Browser, name: &str, role: &str) -> String {
    let response = browser.call("api_tokens/create", &[("name", name), ("role", role)]).await;
    assert_eq!(response.status(), StatusCode::OK, "creating a token");
    let created: Value = response.json().await.unwrap();
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("crier_api_"));
    secret
}

/// A script's HTTP client.
struct Script {
    base: String,
    token: String,
    client: reqwest::Client,
}

impl Script {
    fn new(app: &TestApp, token: &str) -> Script {
        Script { base: app.base.clone(), token: token.to_owned(), client: reqwest::Client::new() }
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, format!("{}{path}", self.base)).header(AUTHORIZATION, format!("Bearer {}", self.token))
    }

    async fn get(&self, path: &str) -> Response {
        self.request(reqwest::Method::GET, path).send().await.unwrap()
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: &Value) -> Response {
        self.request(method, path).json(body).send().await.unwrap()
    }

    async fn ok(&self, path: &str) -> Value {
        let response = self.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.json().await.unwrap()
    }
}

/// A problem+json answer: its status, and the body.
async fn problem(response: Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status);
    assert_eq!(response.headers()[CONTENT_TYPE], "application/problem+json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], status.as_u16());
    assert_eq!(body["type"], "about:blank");
    assert!(body["title"].is_string() && body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{body}");
    body
}

fn fields(problem: &Value) -> Vec<String> {
    problem["errors"].as_array().map(|e| e.iter().map(|f| f["field"].as_str().unwrap().to_owned()).collect()).unwrap_or_default()
}

/// An owner of `team` with a connected sandbox X account `@handle`, and its id.
async fn team_with_x(app: &TestApp, team: &str, handle: &str) -> (Browser, String) {
    let owner = app.owner(team, &format!("owner@{}.test", team.to_lowercase())).await;
    assert_eq!(connect(&owner, "x", &[("account", handle)], "authorize").await, "/accounts");
    let accounts: Value = owner.call("accounts", &[]).await.json().await.unwrap();
    let id = accounts["accounts"][0]["account_id"].as_str().unwrap().to_owned();
    (owner, id)
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned())).fetch_one(&app.pool).await.unwrap()
}

#[tokio::test]
async fn a_script_with_a_token_schedules_edits_cancels_and_reads_like_the_pages_do() {
    let app = TestApp::spawn().await;
    let (owner, x) = team_with_x(&app, "Acme", "acme_x").await;
    let script = Script::new(&app, &token(&owner, "CMS", "editor").await);

    let accounts = script.ok("/api/v1/accounts").await;
    assert_eq!(accounts.as_array().unwrap().len(), 1);
    assert_eq!(accounts[0]["platform"], "x");
    assert_eq!(accounts[0]["status"], "connected");
    assert!(accounts[0].get("access_token").is_none() && !accounts.to_string().contains("token\":"), "no token leaks: {accounts}");
    assert_eq!(script.ok(&format!("/api/v1/accounts/{x}")).await["id"], x.as_str());

    // Create with an idempotency key; a retry returns the same post; another body with the key is refused.
    let at = (Utc::now() + TimeDelta::hours(2)).to_rfc3339();
    let body = json!({ "text": "Launch day", "texts": { "x": "Launch day on X" }, "link": "https://example.com/launch",
                       "account_ids": [x], "scheduled_at": at, "timezone": "Europe/Berlin", "max_attempts": 3 });
    let send = |key: &'static str, body: Value| {
        script.request(reqwest::Method::POST, "/api/v1/posts").header("Idempotency-Key", key).json(&body).send()
    };
    let created = send("launch-1", body.clone()).await.unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let location = created.headers()[LOCATION].to_str().unwrap().to_owned();
    let post: Value = created.json().await.unwrap();
    let post_id = post["id"].as_str().unwrap().to_owned();
    assert_eq!(location, format!("/api/v1/posts/{post_id}"));
    assert_eq!(
        (post["texts"]["x"].as_str(), post["timezone"].as_str(), post["max_attempts"].as_i64()),
        (Some("Launch day on X"), Some("Europe/Berlin"), Some(3))
    );
    assert_eq!(post["deliveries"][0]["state"], "scheduled");
    assert_eq!(post["editable"], true);

    let replayed = send("launch-1", body.clone()).await.unwrap();
    assert_eq!(replayed.status(), StatusCode::OK);
    assert_eq!(replayed.headers()["idempotent-replayed"], "true");
    assert_eq!(replayed.json::<Value>().await.unwrap()["id"], post_id.as_str());
    let mut other = body.clone();
    other["text"] = json!("Something else");
    let refused = problem(send("launch-1", other).await.unwrap(), StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(fields(&refused), ["Idempotency-Key"]);
    assert_eq!(count(&app, "select count(*) from post").await, 1, "one post for three requests");

    // Edit, read back, list, cancel.
    let patched = script.send(reqwest::Method::PATCH, &format!("/api/v1/posts/{post_id}"), &json!({ "text": "Launch day!" })).await;
    assert_eq!(patched.status(), StatusCode::OK);
    let patched: Value = patched.json().await.unwrap();
    assert_eq!(
        (patched["text"].as_str(), patched["texts"]["x"].as_str()),
        (Some("Launch day!"), Some("Launch day on X")),
        "absent fields stay"
    );
    let listed = script.ok("/api/v1/posts?state=scheduled").await;
    assert_eq!(listed["items"][0]["id"], post_id.as_str());
    assert!(listed["next_cursor"].is_null());
    let delivery_id = patched["deliveries"][0]["id"].as_str().unwrap().to_owned();
    let cancelled = script.request(reqwest::Method::DELETE, &format!("/api/v1/posts/{post_id}")).send().await.unwrap();
    assert_eq!(cancelled.json::<Value>().await.unwrap()["deliveries"], 1);
    assert_eq!(script.ok(&format!("/api/v1/deliveries/{delivery_id}")).await["state"], "cancelled");
    assert_eq!(script.ok(&format!("/api/publishing/status/{delivery_id}")).await["state"], "cancelled", "the brief's name for it");

    // The audit trail names the token as the actor.
    let audit = script.ok("/api/v1/audit?action=post_scheduled").await;
    assert_eq!(audit["items"][0]["actor"], "api_token");
    assert_eq!(audit["items"][0]["actor_label"], "CMS");
    let edited = script.ok(&format!("/api/v1/audit?entity=post&entity_id={post_id}")).await;
    let actions: BTreeSet<&str> = edited["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, BTreeSet::from(["post_cancelled", "post_edited", "post_scheduled"]));

    // Verify asks the platform (the sandbox) and answers the account as it is now.
    let verified = script.request(reqwest::Method::POST, &format!("/api/v1/accounts/{x}/verify")).send().await.unwrap();
    assert_eq!(verified.status(), StatusCode::OK);
    let verified: Value = verified.json().await.unwrap();
    assert_eq!(verified["status"], "connected");
    assert!(verified["last_verified_at"].is_string(), "the check is recorded: {verified}");
    // Retry on a post with nothing failed changes nothing, and says why.
    let retried = script.request(reqwest::Method::POST, &format!("/api/v1/posts/{post_id}/retry")).send().await.unwrap();
    let retried = problem(retried, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(retried["errors"][0]["detail"].as_str().unwrap().contains("no failed delivery"), "{retried}");
    // Connecting needs a person at a browser: an editor may not start it, and the link names the team.
    problem(script.send(reqwest::Method::POST, "/api/v1/accounts/connect", &json!({ "platform": "x" })).await, StatusCode::FORBIDDEN).await;

    let check = script.send(reqwest::Method::POST, "/api/v1/text/check", &json!({ "platform": "twitter", "text": "Hello 👋" })).await;
    assert_eq!(check.json::<Value>().await.unwrap(), json!({ "platform": "x", "length": 8, "limit": 280, "valid": true }));
}

#[tokio::test]
async fn tokens_roles_and_other_teams_ids_are_enforced_with_problem_details() {
    let app = TestApp::spawn().await;
    let (acme, acme_x) = team_with_x(&app, "Acme", "acme_x").await;
    let (rival, _) = team_with_x(&app, "Rival", "rival_x").await;
    let editor = Script::new(&app, &token(&acme, "editor", "editor").await);
    let viewer = Script::new(&app, &token(&acme, "viewer", "viewer").await);
    let rival_script = Script::new(&app, &token(&rival, "rival", "admin").await);

    // No token, a made-up one.
    let anonymous = reqwest::get(format!("{}/api/v1/posts", app.base)).await.unwrap();
    assert!(anonymous.headers()[WWW_AUTHENTICATE].to_str().unwrap().starts_with("Bearer"));
    problem(anonymous, StatusCode::UNAUTHORIZED).await;
    problem(Script::new(&app, "crier_api_made_up").get("/api/v1/posts").await, StatusCode::UNAUTHORIZED).await;

    // A viewer reads but does not write; an editor does not disconnect accounts.
    let post = json!({ "text": "Hi", "account_ids": [acme_x], "scheduled_at": (Utc::now() + TimeDelta::hours(1)).to_rfc3339() });
    problem(viewer.send(reqwest::Method::POST, "/api/v1/posts", &post).await, StatusCode::FORBIDDEN).await;
    assert_eq!(viewer.get("/api/v1/posts").await.status(), StatusCode::OK);
    problem(editor.request(reqwest::Method::DELETE, &format!("/api/v1/accounts/{acme_x}")).send().await.unwrap(), StatusCode::FORBIDDEN)
        .await;
    let created: Value = editor.send(reqwest::Method::POST, "/api/v1/posts", &post).await.json().await.unwrap();
    let post_id = created["id"].as_str().unwrap();
    let delivery_id = created["deliveries"][0]["id"].as_str().unwrap();

    // Another team's ids answer 404, whatever the method; nothing changes.
    for path in [format!("/api/v1/posts/{post_id}"), format!("/api/v1/deliveries/{delivery_id}"), format!("/api/v1/accounts/{acme_x}")] {
        problem(rival_script.get(&path).await, StatusCode::NOT_FOUND).await;
    }
    problem(
        rival_script.request(reqwest::Method::DELETE, &format!("/api/v1/posts/{post_id}")).send().await.unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        rival_script.request(reqwest::Method::POST, &format!("/api/v1/posts/{post_id}/retry")).send().await.unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        rival_script.send(reqwest::Method::PATCH, &format!("/api/v1/posts/{post_id}"), &json!({"text": "pwned"})).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        rival_script.request(reqwest::Method::DELETE, &format!("/api/v1/accounts/{acme_x}")).send().await.unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    let rivals_post = json!({ "text": "Hi", "account_ids": [acme_x] });
    let refused =
        problem(rival_script.send(reqwest::Method::POST, "/api/v1/posts", &rivals_post).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(fields(&refused), ["account_ids"], "another team's account is not one to post to");
    assert!(rival_script.ok("/api/v1/posts").await["items"].as_array().unwrap().is_empty());
    assert!(rival_script.ok("/api/v1/audit?entity=post").await["items"].as_array().unwrap().is_empty());
    assert_eq!(editor.ok(&format!("/api/v1/posts/{post_id}")).await["text"], "Hi");
    assert_eq!(editor.ok(&format!("/api/v1/accounts/{acme_x}")).await["status"], "connected");

    // Malformed ids and unknown paths are problems too, never the app's HTML.
    problem(editor.get("/api/v1/posts/not-a-uuid").await, StatusCode::NOT_FOUND).await;
    problem(editor.get("/api/v1/nothing-here").await, StatusCode::NOT_FOUND).await;

    // A revoked token stops working at once.
    let tokens: Value = acme.call("developers", &[]).await.json().await.unwrap();
    let viewer_id =
        tokens["tokens"].as_array().unwrap().iter().find(|t| t["name"] == "viewer").unwrap()["api_token_id"].as_str().unwrap().to_owned();
    assert!(
        tokens["tokens"].as_array().unwrap().iter().find(|t| t["name"] == "viewer").unwrap()["last_used"].is_string(),
        "last use shown"
    );
    assert_eq!(acme.call("api_tokens/revoke", &[("api_token_id", &viewer_id)]).await.status(), StatusCode::OK);
    problem(viewer.get("/api/v1/posts").await, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn bad_input_gets_field_errors_and_saves_nothing() {
    let app = TestApp::spawn().await;
    let (owner, x) = team_with_x(&app, "Acme", "acme_x").await;
    let script = Script::new(&app, &token(&owner, "CMS", "editor").await);
    let script = &script;
    let post = |body: Value| async move { script.send(reqwest::Method::POST, "/api/v1/posts", &body).await };

    let too_long = problem(post(json!({ "text": "a".repeat(281), "account_ids": [x] })).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(fields(&too_long), ["text"]);
    assert!(too_long["errors"][0]["detail"].as_str().unwrap().contains("281"), "{too_long}");
    let own_text = problem(
        post(json!({ "text": "ok", "texts": { "x": "b".repeat(300) }, "account_ids": [x] })).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(fields(&own_text), ["texts.x"]);
    let nobody = problem(post(json!({ "text": "Hi", "account_ids": [] })).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(fields(&nobody), ["account_ids"]);
    let past = (Utc::now() - TimeDelta::hours(1)).to_rfc3339();
    let late =
        problem(post(json!({ "text": "Hi", "account_ids": [x], "scheduled_at": past })).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(fields(&late), ["scheduled_at"]);
    let zone =
        problem(post(json!({ "text": "Hi", "account_ids": [x], "timezone": "Mars/Olympus" })).await, StatusCode::UNPROCESSABLE_ENTITY)
            .await;
    assert_eq!(fields(&zone), ["timezone"]);
    let retries =
        problem(post(json!({ "text": "Hi", "account_ids": [x], "max_attempts": 99 })).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(fields(&retries), ["max_attempts"]);
    let typo = problem(post(json!({ "txt": "Hi", "account_ids": [x] })).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(fields(&typo), ["body"]);
    let not_json =
        script.request(reqwest::Method::POST, "/api/v1/posts").header(CONTENT_TYPE, "application/json").body("{").send().await.unwrap();
    problem(not_json, StatusCode::BAD_REQUEST).await;
    let bad_limit = problem(script.get("/api/v1/posts?limit=0").await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(fields(&bad_limit), ["limit"]);
    let bad_cursor = problem(script.get("/api/v1/posts?cursor=nonsense").await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(fields(&bad_cursor), ["cursor"]);

    assert_eq!(count(&app, "select count(*) from post").await, 0);
    assert_eq!(count(&app, "select count(*) from delivery").await, 0);
}

#[tokio::test]
async fn posts_and_the_audit_trail_page_with_cursors_newest_first_without_gaps_or_repeats() {
    let app = TestApp::spawn().await;
    let (owner, x) = team_with_x(&app, "Acme", "acme_x").await;
    let script = Script::new(&app, &token(&owner, "CMS", "editor").await);
    let base = Utc::now() + TimeDelta::days(1);
    let mut made = Vec::new();
    for i in 0..5 {
        // Two posts share a time: the id breaks the tie, so the cursor is exact.
        let at = base + TimeDelta::minutes(i.min(3));
        let body = json!({ "text": format!("Post {i}"), "account_ids": [x], "scheduled_at": at.to_rfc3339() });
        let created: Value = script.send(reqwest::Method::POST, "/api/v1/posts", &body).await.json().await.unwrap();
        made.push(created["id"].as_str().unwrap().to_owned());
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/posts?limit=2".to_owned();
    let mut pages = 0;
    loop {
        let page = script.ok(&path).await;
        pages += 1;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|p| (p["scheduled_at"].as_str().unwrap().to_owned(), p["id"].as_str().unwrap().to_owned())));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/posts?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 5);
    let ids: BTreeSet<&String> = seen.iter().map(|(_, id)| id).collect();
    assert_eq!(ids, made.iter().collect(), "every post once");
    let times: Vec<chrono::DateTime<Utc>> = seen.iter().map(|(t, _)| t.parse().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest due first: {times:?}");

    let first = script.ok("/api/v1/audit?limit=3").await;
    let second = script.ok(&format!("/api/v1/audit?limit=3&cursor={}", first["next_cursor"].as_str().unwrap())).await;
    let ids: Vec<i64> =
        first["items"].as_array().unwrap().iter().chain(second["items"].as_array().unwrap()).map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first, no repeats: {ids:?}");
}

#[tokio::test]
async fn a_token_over_its_rate_limit_gets_429_with_retry_after() {
    let app =
        TestApp::spawn_with(crier::config::WebArgs { addr: "127.0.0.1:0".into(), api_rate_limit: "3/1m".into(), ..Default::default() })
            .await;
    let owner = app.owner("Acme", "owner@acme.test").await;
    let busy = Script::new(&app, &token(&owner, "busy", "viewer").await);
    let calm = Script::new(&app, &token(&owner, "calm", "viewer").await);
    for _ in 0..3 {
        assert_eq!(busy.get("/api/v1/accounts").await.status(), StatusCode::OK);
    }
    let limited = busy.get("/api/v1/accounts").await;
    let wait: u64 = limited.headers()[RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "the window of a minute ends within 60 s: {wait}");
    let body = problem(limited, StatusCode::TOO_MANY_REQUESTS).await;
    assert!(body["detail"].as_str().unwrap().contains("Try again in"));
    assert_eq!(calm.get("/api/v1/accounts").await.status(), StatusCode::OK, "each token has its own limit");
}

#[tokio::test]
async fn the_openapi_document_lists_every_route_and_the_api_page_shows_them() {
    let app = TestApp::spawn().await;
    let doc: Value = reqwest::get(format!("{}/api/v1/openapi.json", app.base)).await.unwrap().json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    let listed: BTreeSet<String> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| item.as_object().unwrap().keys().map(move |method| format!("{} {path}", method.to_uppercase())))
        .collect();
    let served: BTreeSet<String> = [
        "GET /api/v1/accounts",
        "GET /api/v1/accounts/{id}",
        "DELETE /api/v1/accounts/{id}",
        "POST /api/v1/accounts/{id}/verify",
        "POST /api/v2/content/generate",
        "POST /api/v1/posts/import",
        "GET /api/v1/accounts/{id}/queue",
        "PUT /api/v1/accounts/{id}/schedule",
        "POST /api/v1/accounts/{id}/queue/move",
        "DELETE /api/v1/accounts/{id}/queue/{delivery_id}",
        "PUT /api/v1/accounts/{id}/queue/paused",
        "GET /api/v1/accounts/{id}/picture",
        "POST /api/v1/accounts/connect",
        "GET /api/v1/posts",
        "POST /api/v1/posts",
        "GET /api/v1/posts/{id}",
        "PATCH /api/v1/posts/{id}",
        "DELETE /api/v1/posts/{id}",
        "POST /api/v1/posts/{id}/retry",
        "GET /api/v1/deliveries/{id}",
        "GET /api/v1/drafts",
        "POST /api/v1/drafts",
        "GET /api/v1/drafts/{id}",
        "PUT /api/v1/drafts/{id}",
        "DELETE /api/v1/drafts/{id}",
        "POST /api/v1/drafts/{id}/submit",
        "POST /api/v1/drafts/{id}/schedule",
        "GET /api/v1/review",
        "POST /api/v1/posts/{id}/review",
        "GET /api/v1/posts/{id}/activity",
        "POST /api/v1/posts/{id}/comments",
        "PATCH /api/v1/comments/{id}",
        "DELETE /api/v1/comments/{id}",
        "GET /api/v1/feeds",
        "POST /api/v1/feeds",
        "GET /api/v1/feeds/{id}",
        "DELETE /api/v1/feeds/{id}",
        "GET /api/v1/media",
        "POST /api/v1/media",
        "GET /api/v1/media/{id}",
        "PATCH /api/v1/media/{id}",
        "DELETE /api/v1/media/{id}",
        "GET /api/v1/media/{id}/content",
        "GET /api/v1/media/{id}/thumbnail",
        "POST /api/v1/media/uploads",
        "GET /api/v1/media/uploads/{id}",
        "PATCH /api/v1/media/uploads/{id}",
        "DELETE /api/v1/media/uploads/{id}",
        "POST /api/v1/media/uploads/{id}/complete",
        "GET /api/v1/analytics",
        "GET /api/v1/status",
        "GET /api/v1/audit",
        "POST /api/v1/text/check",
        "GET /api/v2/social/status",
        "GET /api/v2/social/analytics",
        "GET /api/social-media/accounts",
        "DELETE /api/social-media/accounts/{id}",
        "POST /api/social-media/oauth/connect",
        "GET /api/publishing/status/{distributionId}",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    assert_eq!(listed, served);
    // Every operation answers 401 without a token: each listed route is really served.
    let client = reqwest::Client::new();
    for route in &served {
        let (method, path) = route.split_once(' ').unwrap();
        let path = path.replace("{id}", &uuid::Uuid::new_v4().to_string()).replace("{distributionId}", &uuid::Uuid::new_v4().to_string());
        let response = client.request(method.parse().unwrap(), format!("{}{path}", app.base)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{route}");
    }

    let owner = app.owner("Acme", "owner@acme.test").await;
    let page: Value = owner.call("developers", &[]).await.json().await.unwrap();
    assert_eq!(page["operations"].as_array().unwrap().len(), served.len(), "the API page lists every operation");
    let html = owner.page("/settings/api").await;
    assert!(html.contains("/api/v1/posts/{id}") && html.contains("Create token"), "the page renders on the server");
}

#[tokio::test]
async fn published_posts_show_in_analytics_status_and_the_briefs_endpoints_in_its_shapes() {
    let app = TestApp::spawn_with_worker().await;
    let (owner, x) = team_with_x(&app, "Acme", "acme_x").await;
    let script = Script::new(&app, &token(&owner, "ops", "admin").await);
    let mut posts = Vec::new();
    for text in ["One", "Two", "Three"] {
        let created: Value =
            script.send(reqwest::Method::POST, "/api/v1/posts", &json!({ "text": text, "account_ids": [x] })).await.json().await.unwrap();
        posts.push(created["id"].as_str().unwrap().to_owned());
    }
    // Published by the worker in the same process: poll until all three are out.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let states: Vec<String> = futures_states(&script, &posts).await;
        if states.iter().all(|s| s == "published") {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "published within 30 s: {states:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let analytics = script.ok("/api/v1/analytics").await;
    assert_eq!(analytics["posts"], 3);
    assert_eq!(analytics["totals"], json!({ "deliveries": 3, "published": 3, "failed": 0, "success_rate": 1.0 }));
    assert_eq!(analytics["platforms"][0]["platform"], "x");
    assert_eq!(analytics["accounts"][0]["name"], "acme_x");
    assert_eq!(analytics["attempts_per_published"], 1.0);
    assert!(analytics["average_publish_ms"].as_f64().unwrap() >= 0.0);
    let series = analytics["series"].as_array().unwrap();
    assert_eq!(series.len(), 30);
    assert_eq!(series.iter().map(|b| b["published"].as_i64().unwrap()).sum::<i64>(), 3, "the series adds up");

    // The Analytics page renders the same figures on the server, and its CSV adds up.
    let page = owner.page("/analytics").await;
    assert!(page.contains("Per day") && page.contains("<svg") && page.contains("100.0%"), "figures and chart render server-side");
    let csv = owner.get("/analytics/export.csv").await;
    assert_eq!(csv.headers()[CONTENT_TYPE], "text/csv; charset=utf-8");
    let csv = csv.text().await.unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("step_start_utc,step_start_local,published,failed,waiting_at_end"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 30, "a row per day of the last 30");
    assert_eq!(rows.iter().map(|r| r[2].parse::<i64>().unwrap()).sum::<i64>(), 3);
    let bad = owner.get("/analytics/export.csv?from=2026-13-01").await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(script.get("/analytics/export.csv").await.url().path(), "/login", "a token is not a signed-in person");

    let status = script.ok("/api/v1/status").await;
    assert_eq!(status["scheduler_status"], "active");
    assert_eq!(status["queue"]["posts_waiting"], 0);

    // The brief's shapes, key for key.
    assert_eq!(
        script.ok("/api/v2/social/status").await,
        json!({ "platforms": { "twitter": "connected" }, "scheduler_status": "active", "queued_posts": 0 })
    );
    assert_eq!(
        script.ok("/api/v2/social/analytics").await,
        json!({ "total_posts": 3, "successful_posts": 3, "failed_posts": 0, "platforms": { "twitter": { "posts": 3, "success_rate": 1.0 } } })
    );
    assert_eq!(script.ok("/api/social-media/accounts").await[0]["id"], x.as_str());
    let unknown = problem(
        script.send(reqwest::Method::POST, "/api/v1/accounts/connect", &json!({ "platform": "myspace" })).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(fields(&unknown), ["platform"]);
    let v1_link: Value =
        script.send(reqwest::Method::POST, "/api/v1/accounts/connect", &json!({ "platform": "x" })).await.json().await.unwrap();
    assert!(v1_link["authorize_url"].as_str().unwrap().contains("/accounts/connect/x?team="), "{v1_link}");
    let link = script.send(reqwest::Method::POST, "/api/social-media/oauth/connect", &json!({ "platform": "linkedin" })).await;
    let link: Value = link.json().await.unwrap();
    let url = link["authorize_url"].as_str().unwrap();
    assert!(url.starts_with(&format!("{}/accounts/connect/linkedin?team=", app.base)), "{url}");
    // The link, opened by a signed-in owner of the team, goes on to the platform's consent page.
    let opened = owner.get(url.trim_start_matches(&app.base)).await;
    assert_eq!(opened.status(), StatusCode::SEE_OTHER);
    assert!(support::location(&opened).unwrap().contains("/sandbox/linkedin/"), "to LinkedIn's consent");
    let disconnected = script.request(reqwest::Method::DELETE, &format!("/api/social-media/accounts/{x}")).send().await.unwrap();
    assert_eq!(disconnected.status(), StatusCode::OK);
    assert!(script.ok("/api/v1/accounts").await.as_array().unwrap().is_empty());
}

async fn futures_states(script: &Script, posts: &[String]) -> Vec<String> {
    let mut states = Vec::new();
    for id in posts {
        let post = script.ok(&format!("/api/v1/posts/{id}")).await;
        states.push(post["deliveries"][0]["state"].as_str().unwrap().to_owned());
    }
    states
}

/// A member of `owner`'s team with `role`, signed in, through an invite.
async fn member(app: &TestApp, owner: &Browser, email: &str, role: &str) -> Browser {
    let invite: Value = owner.call("create_invite", &[("email", email), ("role", role)]).await.json().await.unwrap();
    let secret = invite["url"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
    let browser = app.browser();
    let accepted = browser.call("accept_invite", &[("token", secret.as_str()), ("password", support::PASSWORD)]).await;
    assert_eq!(accepted.status(), StatusCode::OK, "accepting the invite");
    browser
}

/// The comments in the post `id`'s activity, as `script` sees them.
async fn comments_in(script: &Script, id: &str) -> Vec<Value> {
    let activity = script.ok(&format!("/api/v1/posts/{id}/activity")).await;
    activity["items"].as_array().unwrap().iter().filter(|i| i["comment_id"].is_string()).cloned().collect()
}

/// `script`'s answer to `method path` with `body`, with its status checked, as JSON (204: null).
async fn expect(script: &Script, method: reqwest::Method, path: &str, body: Option<&Value>, status: StatusCode) -> Value {
    let request = script.request(method.clone(), path);
    let response = match body {
        Some(body) => request.json(body).send().await.unwrap(),
        None => request.send().await.unwrap(),
    };
    if status.is_client_error() {
        return problem(response, status).await;
    }
    assert_eq!(response.status(), status, "{method} {path}");
    if status == StatusCode::NO_CONTENT { Value::Null } else { response.json().await.unwrap() }
}

#[tokio::test]
async fn drafts_are_saved_listed_replaced_discarded_and_scheduled_through_the_api_and_viewers_only_read() {
    use reqwest::Method;
    let app = TestApp::spawn().await;
    let (owner, x) = team_with_x(&app, "Acme", "acme_x").await;
    let script = Script::new(&app, &token(&owner, "CMS", "editor").await);
    let viewer = Script::new(&app, &token(&owner, "Reader", "viewer").await);
    let planned = Utc::now() + TimeDelta::hours(3);

    // Save: nothing is scheduled, and it counts as written by the token's creator.
    let body = json!({ "text": "Next week", "texts": { "x": "Next week on X" }, "account_ids": [x],
                       "planned_at": planned.to_rfc3339(), "timezone": "Europe/Berlin" });
    let response = script.send(Method::POST, "/api/v1/drafts", &body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()[LOCATION].to_str().unwrap().to_owned();
    let draft: Value = response.json().await.unwrap();
    let id = draft["id"].as_str().unwrap().to_owned();
    assert_eq!(location, format!("/api/v1/drafts/{id}"));
    assert_eq!((draft["state"].as_str(), draft["texts"]["x"].as_str()), (Some("draft"), Some("Next week on X")));
    assert_eq!((draft["account_ids"][0].as_str(), draft["timezone"].as_str()), (Some(x.as_str()), Some("Europe/Berlin")));
    assert_eq!(count(&app, "select count(*) from delivery").await, 0, "a draft has no deliveries");
    let listed = viewer.ok("/api/v1/drafts").await;
    assert_eq!((listed["total"].as_i64(), listed["items"][0]["id"].as_str()), (Some(1), Some(id.as_str())));
    assert_eq!(listed["items"][0]["author"], "owner@acme.test");
    assert_eq!(listed["items"][0]["accounts"][0]["name"], "acme_x");

    // Replace it whole: the per-platform text left out is gone.
    let replaced = expect(
        &script,
        Method::PUT,
        &format!("/api/v1/drafts/{id}"),
        Some(&json!({ "text": "Next Tuesday", "account_ids": [x] })),
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (replaced["text"].as_str(), replaced["texts"]["x"].as_str(), replaced["planned_at"].as_str()),
        (Some("Next Tuesday"), None, None)
    );
    assert_eq!(viewer.ok(&format!("/api/v1/drafts/{id}")).await["text"], "Next Tuesday");

    // A viewer's token reads but writes nothing.
    let path = format!("/api/v1/drafts/{id}");
    for (method, path, body) in [
        (Method::POST, "/api/v1/drafts".to_owned(), Some(&body)),
        (Method::PUT, path.clone(), Some(&body)),
        (Method::DELETE, path.clone(), None),
        (Method::POST, format!("{path}/submit"), None),
        (Method::POST, format!("{path}/schedule"), Some(&json!({}))),
    ] {
        expect(&viewer, method, &path, body, StatusCode::FORBIDDEN).await;
    }
    assert_eq!(viewer.ok(&path).await["text"], "Next Tuesday", "nothing changed");

    // Scheduling needs a time (it has no planned one now), still to come.
    let untimed = expect(&script, Method::POST, &format!("{path}/schedule"), Some(&json!({})), StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(fields(&untimed), ["scheduled_at"]);
    let past = json!({ "scheduled_at": (Utc::now() - TimeDelta::hours(1)).to_rfc3339() });
    expect(&script, Method::POST, &format!("{path}/schedule"), Some(&past), StatusCode::UNPROCESSABLE_ENTITY).await;
    let at = json!({ "scheduled_at": planned.to_rfc3339() });
    let post = expect(&script, Method::POST, &format!("{path}/schedule"), Some(&at), StatusCode::OK).await;
    assert_eq!((post["id"].as_str(), post["text"].as_str()), (Some(id.as_str()), Some("Next Tuesday")));
    assert_eq!(post["deliveries"][0]["state"], "scheduled");
    assert_eq!(script.ok(&format!("/api/v1/posts/{id}")).await["deliveries"].as_array().unwrap().len(), 1);
    expect(&script, Method::GET, &path, None, StatusCode::NOT_FOUND).await;
    expect(&script, Method::POST, &format!("{path}/schedule"), Some(&at), StatusCode::NOT_FOUND).await;
    assert_eq!(script.ok("/api/v1/drafts").await["total"], 0);

    // Discard another draft.
    let other = expect(&script, Method::POST, "/api/v1/drafts", Some(&json!({ "text": "Maybe" })), StatusCode::CREATED).await;
    let other_path = format!("/api/v1/drafts/{}", other["id"].as_str().unwrap());
    expect(&script, Method::DELETE, &other_path, None, StatusCode::NO_CONTENT).await;
    expect(&script, Method::GET, &other_path, None, StatusCode::NOT_FOUND).await;
    expect(&script, Method::DELETE, &other_path, None, StatusCode::NOT_FOUND).await;
    assert_eq!(count(&app, "select count(*) from post where state = 'cancelled'").await, 1);

    // Bad input says which field to fix, and saves nothing.
    let (rival, rival_x) = team_with_x(&app, "Rival", "rival_x").await;
    drop(rival);
    let refused = |body: Value, field: &'static str| {
        let script = &script;
        async move {
            let answer = expect(script, Method::POST, "/api/v1/drafts", Some(&body), StatusCode::UNPROCESSABLE_ENTITY).await;
            assert_eq!(fields(&answer), [field], "{answer}");
        }
    };
    refused(json!({ "text": "  " }), "text").await;
    refused(json!({ "text": "Hi", "account_ids": [rival_x] }), "account_ids").await;
    refused(json!({ "text": "Hi", "media": [{ "id": uuid::Uuid::new_v4() }] }), "media[0].id").await;
    refused(json!({ "text": "Hi", "timezone": "Mars/Olympus" }), "timezone").await;
    refused(json!({ "text": "Hi", "link": "example" }), "link").await;
    refused(json!({ "txt": "Hi" }), "body").await;
    refused(json!({ "text": "Hi", "planned": "tomorrow" }), "body").await;
    assert_eq!(count(&app, "select count(*) from post").await, 2, "the scheduled one and the discarded one");
}

#[tokio::test]
async fn with_approvals_a_tokens_draft_is_submitted_and_decided_through_another_members_token_never_its_authors() {
    use reqwest::Method;
    let app = TestApp::spawn().await;
    let (owner, x) = team_with_x(&app, "Acme", "acme_x").await;
    // Every member's posts need one approval, by an editor or more: the author's token (made by
    // an admin, as tokens are) could approve by its role, and must not.
    let saved = owner.call("settings/set_approvals", &[("rule", "everyone"), ("approvals", "1"), ("approvers", "editors")]).await;
    assert_eq!(saved.status(), StatusCode::OK);
    let ana = member(&app, &owner, "ana@acme.test", "admin").await;
    let author = Script::new(&app, &token(&ana, "Ana's CMS", "editor").await);
    let approver = Script::new(&app, &token(&owner, "Owner's script", "admin").await);
    let planned = Utc::now() + TimeDelta::hours(5);

    let draft = expect(
        &author,
        Method::POST,
        "/api/v1/drafts",
        Some(&json!({ "text": "Launch", "account_ids": [x], "planned_at": planned.to_rfc3339() })),
        StatusCode::CREATED,
    )
    .await;
    let id = draft["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/drafts/{id}");
    // Scheduling it is refused: it must be submitted.
    let refused = expect(&author, Method::POST, &format!("{path}/schedule"), Some(&json!({})), StatusCode::CONFLICT).await;
    assert!(refused["detail"].as_str().unwrap().contains(&format!("POST /api/v1/drafts/{id}/submit")), "{refused}");
    assert_eq!(count(&app, "select count(*) from delivery").await, 0);

    let submitted = expect(&author, Method::POST, &format!("{path}/submit"), None, StatusCode::OK).await;
    assert_eq!(submitted["state"], "in_review");
    expect(&author, Method::POST, &format!("{path}/submit"), None, StatusCode::CONFLICT).await;
    // Not discarded while approvers look at it.
    expect(&author, Method::DELETE, &path, None, StatusCode::CONFLICT).await;

    // The author's token sees it as theirs and cannot approve it.
    let theirs = author.ok("/api/v1/review").await;
    assert_eq!((theirs["items"][0]["id"].as_str(), theirs["items"][0]["can_decide"].as_bool()), (Some(id.as_str()), Some(false)));
    assert_eq!(theirs["items"][0]["author"], "ana@acme.test");
    let review = format!("/api/v1/posts/{id}/review");
    let own = expect(&author, Method::POST, &review, Some(&json!({ "decision": "approve" })), StatusCode::CONFLICT).await;
    assert!(own["detail"].as_str().unwrap().contains("Nobody approves their own post"), "{own}");
    assert_eq!(author.ok(&path).await["state"], "in_review");

    // Another member's token requests changes: a comment is required.
    let listed = approver.ok("/api/v1/review").await;
    assert_eq!((listed["items"][0]["can_decide"].as_bool(), listed["items"][0]["approvals_needed"].as_i64()), (Some(true), Some(1)));
    let bare =
        expect(&approver, Method::POST, &review, Some(&json!({ "decision": "request_changes" })), StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(fields(&bare), ["comment"]);
    let unknown = expect(&approver, Method::POST, &review, Some(&json!({ "decision": "maybe" })), StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(fields(&unknown), ["body"]);
    let sent_back = expect(
        &approver,
        Method::POST,
        &review,
        Some(&json!({ "decision": "request_changes", "comment": "Say which day." })),
        StatusCode::OK,
    )
    .await;
    assert_eq!(sent_back["state"], "changes_requested");
    assert_eq!(author.ok(&path).await["state"], "changes_requested");
    let activity = author.ok(&format!("/api/v1/posts/{id}/activity")).await;
    assert!(
        activity["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["who"] == "owner@acme.test" && i["words"] == "Requested changes. “Say which day.”"),
        "{activity}"
    );
    expect(&approver, Method::POST, &review, Some(&json!({ "decision": "approve" })), StatusCode::CONFLICT).await;

    // Edited (a draft again), submitted again, approved: scheduled for its time, with its delivery.
    let fixed = expect(
        &author,
        Method::PUT,
        &path,
        Some(&json!({ "text": "Launch on Tuesday", "account_ids": [x], "planned_at": planned.to_rfc3339() })),
        StatusCode::OK,
    )
    .await;
    assert_eq!(fixed["state"], "draft");
    expect(&author, Method::POST, &format!("{path}/submit"), None, StatusCode::OK).await;
    let approved = expect(&approver, Method::POST, &review, Some(&json!({ "decision": "approve" })), StatusCode::OK).await;
    assert_eq!(approved["state"], "scheduled", "{approved}");
    let scheduled_at: chrono::DateTime<Utc> = approved["scheduled_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(scheduled_at.timestamp(), planned.timestamp());
    let post = author.ok(&format!("/api/v1/posts/{id}")).await;
    assert_eq!((post["text"].as_str(), post["deliveries"][0]["state"].as_str()), (Some("Launch on Tuesday"), Some("scheduled")));
    assert_eq!(count(&app, "select count(*) from delivery").await, 1);
    assert!(approver.ok("/api/v1/review").await["items"].as_array().unwrap().is_empty());
    // The decision is the approving member's in the audit trail.
    assert_eq!(
        count(&app, "select count(*) from audit_event e join app_user u on u.user_id = e.actor_id where e.action = 'post_approved' and u.email = 'owner@acme.test'").await,
        1
    );
}

#[tokio::test]
async fn comments_are_their_authors_and_another_teams_drafts_posts_and_comments_answer_404() {
    use reqwest::Method;
    let app = TestApp::spawn().await;
    let (owner, x) = team_with_x(&app, "Acme", "acme_x").await;
    let mine = Script::new(&app, &token(&owner, "Owner's CMS", "editor").await);
    let reader = Script::new(&app, &token(&owner, "Owner's reader", "viewer").await);
    let ana = member(&app, &owner, "ana@acme.test", "admin").await;
    let anas = Script::new(&app, &token(&ana, "Ana's CMS", "editor").await);
    let (rival_owner, _) = team_with_x(&app, "Rival", "rival_x").await;
    let rival = Script::new(&app, &token(&rival_owner, "Rival", "admin").await);

    let draft =
        expect(&mine, Method::POST, "/api/v1/drafts", Some(&json!({ "text": "Hello", "account_ids": [x] })), StatusCode::CREATED).await;
    let id = draft["id"].as_str().unwrap().to_owned();
    let response = mine.send(Method::POST, &format!("/api/v1/posts/{id}/comments"), &json!({ "body": "  @ana have a look " })).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let comment: Value = response.json().await.unwrap();
    let comment_id = comment["id"].as_str().unwrap().to_owned();
    assert_eq!(comment["body"], "@ana have a look");
    assert_eq!(
        count(&app, "select count(*) from post_comment c join app_user u on u.user_id = c.author_id where u.email = 'owner@acme.test'")
            .await,
        1
    );

    let seen_by_owner = comments_in(&mine, &id).await;
    assert_eq!(seen_by_owner.len(), 1);
    assert_eq!((seen_by_owner[0]["who"].as_str(), seen_by_owner[0]["own"].as_bool()), (Some("owner@acme.test"), Some(true)));
    assert_eq!(comments_in(&anas, &id).await[0]["own"], false);

    // Only its author (through any of their tokens, whatever its role) changes it; another member's is a 404.
    let comment_path = format!("/api/v1/comments/{comment_id}");
    expect(&anas, Method::PATCH, &comment_path, Some(&json!({ "body": "mine now" })), StatusCode::NOT_FOUND).await;
    expect(&anas, Method::DELETE, &comment_path, None, StatusCode::NOT_FOUND).await;
    let blank = expect(&mine, Method::PATCH, &comment_path, Some(&json!({ "body": " " })), StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(fields(&blank), ["body"]);
    let edited = expect(&reader, Method::PATCH, &comment_path, Some(&json!({ "body": "@ana please look" })), StatusCode::OK).await;
    assert_eq!(edited["body"], "@ana please look");
    let after = comments_in(&mine, &id).await;
    assert_eq!((after[0]["words"].as_str(), after[0]["edited"].as_bool()), (Some("@ana please look"), Some(true)));
    let too_long = json!({ "body": "a".repeat(4001) });
    expect(&anas, Method::POST, &format!("/api/v1/posts/{id}/comments"), Some(&too_long), StatusCode::UNPROCESSABLE_ENTITY).await;

    // Another team's ids answer 404 like missing ones, and change nothing.
    let missing = uuid::Uuid::new_v4();
    for target in [id.as_str(), &missing.to_string()] {
        let draft_path = format!("/api/v1/drafts/{target}");
        let post_path = format!("/api/v1/posts/{target}");
        for (method, path, body) in [
            (Method::GET, draft_path.clone(), None),
            (Method::PUT, draft_path.clone(), Some(json!({ "text": "pwned" }))),
            (Method::DELETE, draft_path.clone(), None),
            (Method::POST, format!("{draft_path}/submit"), None),
            (
                Method::POST,
                format!("{draft_path}/schedule"),
                Some(json!({ "scheduled_at": (Utc::now() + TimeDelta::hours(1)).to_rfc3339() })),
            ),
            (Method::POST, format!("{post_path}/review"), Some(json!({ "decision": "approve" }))),
            (Method::GET, format!("{post_path}/activity"), None),
            (Method::POST, format!("{post_path}/comments"), Some(json!({ "body": "hi" }))),
        ] {
            expect(&rival, method, &path, body.as_ref(), StatusCode::NOT_FOUND).await;
        }
    }
    for target in [comment_id.as_str(), &missing.to_string()] {
        let path = format!("/api/v1/comments/{target}");
        expect(&rival, Method::PATCH, &path, Some(&json!({ "body": "pwned" })), StatusCode::NOT_FOUND).await;
        expect(&rival, Method::DELETE, &path, None, StatusCode::NOT_FOUND).await;
    }
    assert_eq!(rival.ok("/api/v1/drafts").await["total"], 0);
    assert!(rival.ok("/api/v1/review").await["items"].as_array().unwrap().is_empty());
    assert_eq!(mine.ok(&format!("/api/v1/drafts/{id}")).await["text"], "Hello");
    assert_eq!(comments_in(&mine, &id).await[0]["words"], "@ana please look");

    // A token no member created (crier admin create-token) does not comment or decide.
    let team_id: uuid::Uuid = sqlx::query_scalar("select team_id from team where name = 'Acme'").fetch_one(&app.pool).await.unwrap();
    let cli = crier_domain::store::api_tokens::create(&app.pool, team_id, "CLI", crier_domain::Role::Admin, None, None).await.unwrap();
    let cli = Script::new(&app, cli.secret.expose());
    let nobody =
        expect(&cli, Method::POST, &format!("/api/v1/posts/{id}/comments"), Some(&json!({ "body": "hi" })), StatusCode::CONFLICT).await;
    assert!(nobody["detail"].as_str().unwrap().contains("acts for no member"), "{nobody}");
    assert_eq!(cli.ok("/api/v1/drafts").await["total"], 1, "it still reads drafts");

    expect(&mine, Method::DELETE, &comment_path, None, StatusCode::NO_CONTENT).await;
    assert!(comments_in(&mine, &id).await.is_empty());
}
