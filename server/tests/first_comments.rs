//! First comments over real HTTP against the sandbox platforms: under each published post (an X
//! reply to the thread's last part, a LinkedIn organization's comment, a Page's comment), each with
//! its own retries after a platform's failure, a refused one failed with its reason and sent again
//! by Retry, an unknown outcome settled by looking before sending; none for dry runs; shown on the
//! post's page and in the API. A sender stopped mid-call is in `crier-publisher`'s tests, and
//! workers killed with SIGKILL between posts and comments in the chaos test.

mod support;

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::AUTHORIZATION;
use serde_json::{Value, json};
use support::{Browser, SANDBOX_CONTROL_TOKEN, TestApp, connect, connect_facebook_page, connect_x_account};

async fn token(browser: &Browser) -> String {
    let created: Value = browser.call("api_tokens/create", &[("name", "script"), ("role", "editor")]).await.json().await.unwrap();
    created["secret"].as_str().unwrap().to_owned()
}

fn api(app: &TestApp, token: &str, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
    reqwest::Client::new().request(method, format!("{}{path}", app.base)).header(AUTHORIZATION, format!("Bearer {token}"))
}

async fn post_json(app: &TestApp, token: &str, id: &str) -> Value {
    api(app, token, reqwest::Method::GET, &format!("/api/v1/posts/{id}")).send().await.unwrap().json().await.unwrap()
}

async fn fault(app: &TestApp, platform: &str, body: Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/sandbox/control/{platform}/faults", app.base))
        .bearer_auth(SANDBOX_CONTROL_TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "fault accepted");
}

/// A LinkedIn organization the owner administers, connected; its account id.
async fn connect_linkedin_organization(app: &TestApp, owner: &Browser) -> String {
    let next = connect(owner, "linkedin", &[("account", "ada-lovelace"), ("new_organization", "Acme Rockets")], "authorize").await;
    let connection_id = next.rsplit('/').next().unwrap().to_owned();
    let choices: Value = owner.call("accounts/choices", &[("connection_id", &connection_id)]).await.json().await.unwrap();
    let key =
        choices["options"].as_array().unwrap().iter().find(|o| o["kind"] == "organization").unwrap()["key"].as_str().unwrap().to_owned();
    let chosen = owner.call("accounts/choose", &[("connection_id", &connection_id), ("chosen[0]", &key)]).await;
    assert!(chosen.status().is_success() || chosen.status().is_redirection());
    sqlx::query_scalar("select account_id::text from platform_account where name = 'Acme Rockets'").fetch_one(&app.pool).await.unwrap()
}

/// Polls the post through the API until `done` holds for every delivery.
async fn until(app: &TestApp, token: &str, id: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let post = post_json(app, token, id).await;
        if post["deliveries"].as_array().unwrap().iter().all(&done) {
            return post;
        }
        assert!(tokio::time::Instant::now() < deadline, "{what} within 30 s: {post}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn comment_state(delivery: &Value) -> &str {
    delivery["first_comment"]["state"].as_str().unwrap_or("none")
}

/// The ledger's comments and replies (entries that answer another).
fn replies(ledger: &Value) -> Vec<(String, String, String)> {
    ledger
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["in_reply_to"].is_string())
        .map(|e| (e["platform"].as_str().unwrap().into(), e["text"].as_str().unwrap().into(), e["in_reply_to"].as_str().unwrap().into()))
        .collect()
}

/// Brings a retry that waits (30 s at least) forward to now, and wakes the senders.
async fn due_now(app: &TestApp) {
    sqlx::query("update delivery_first_comment set next_attempt_at = now() where state = 'pending'").execute(&app.pool).await.unwrap();
    sqlx::query("select pg_notify('crier_first_comments', '')").execute(&app.pool).await.unwrap();
}

#[tokio::test]
async fn each_published_post_gets_its_comment_once_through_failures_retries_and_unknown_outcomes() {
    let app = TestApp::spawn_with_worker().await;
    let owner = app.owner("Acme", "owner@acme.test").await;
    let x = connect_x_account(&app, &owner).await;
    let page = connect_facebook_page(&app, &owner, "Acme Page").await;
    let org = connect_linkedin_organization(&app, &owner).await;
    let secret = token(&owner).await;

    // X's reply call fails once with a 503 (its outcome unknown); Facebook refuses the comment.
    fault(
        &app,
        "x",
        json!({ "next_responses": [{ "status": 503, "body": { "title": "Service Unavailable" }, "on": "post", "after": 2 }] }),
    )
    .await;
    fault(
        &app,
        "meta",
        json!({ "next_responses": [{ "status": 400, "on": "comment",
        "body": { "error": { "message": "(#100) The comment is not allowed.", "type": "OAuthException", "code": 100 } } }] }),
    )
    .await;

    let body = json!({
        "text": "We launch today",
        "thread": ["Here is how it works"],
        "account_ids": [x, page, org],
        "first_comments": { "x": "Questions? Reply here.", "linkedin": "Questions? Comment here.", "facebook": "Questions? Ask here." },
    });
    let created = api(&app, &secret, reqwest::Method::POST, "/api/v1/posts").json(&body).send().await.unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let id = created.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    assert_eq!(post_json(&app, &secret, &id).await["first_comments"]["linkedin"], "Questions? Comment here.");

    // LinkedIn's goes at once; X's waits for its retry; Facebook's fails with the reason.
    let post = until(&app, &secret, &id, "comments settled", |d| {
        matches!((d["platform"].as_str().unwrap(), comment_state(d)), ("linkedin", "posted") | ("x", "pending") | ("facebook", "failed"))
    })
    .await;
    let on =
        |post: &Value, platform: &str| post["deliveries"].as_array().unwrap().iter().find(|d| d["platform"] == platform).unwrap().clone();
    assert!(on(&post, "facebook")["first_comment"]["error"].as_str().unwrap().contains("not allowed"), "{post}");
    assert!(on(&post, "x")["first_comment"]["error"].is_string());
    assert_eq!(on(&post, "x")["state"], "published", "the post itself is out whatever its comment does");
    let unknown: bool = sqlx::query_scalar("select reconcile from delivery_first_comment where delivery_id = $1::uuid")
        .bind(on(&post, "x")["id"].as_str().unwrap())
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(unknown, "a 503 leaves the outcome unknown: the next attempt looks first");

    // The retry, brought forward: X's reply goes to the thread's last part.
    due_now(&app).await;
    let post = until(&app, &secret, &id, "X's comment retried", |d| comment_state(d) != "pending" && comment_state(d) != "sending").await;
    assert_eq!(comment_state(&on(&post, "x")), "posted");
    assert_eq!(on(&post, "x")["first_comment"]["attempts"], 2);

    // Retry on the post's page sends Facebook's again (the fault was used up).
    let html = owner.page(&format!("/posts/{id}")).await;
    assert!(html.contains("First comment: Failed") && html.contains("Retry the comment"), "the page says so and offers Retry");
    let facebook_delivery = on(&post, "facebook")["id"].as_str().unwrap().to_owned();
    let retried = owner.call("posts/retry_first_comment", &[("delivery_id", facebook_delivery.as_str())]).await;
    assert_eq!(retried.status(), StatusCode::OK);
    let post = until(&app, &secret, &id, "every comment posted", |d| comment_state(d) == "posted").await;
    let html = owner.page(&format!("/posts/{id}")).await;
    assert_eq!(html.matches("First comment: Posted").count(), 3, "the page shows each");
    assert!(html.contains("First comment on LinkedIn: "), "and what they say");

    let ledger = app.sandbox_ledger().await;
    let thread_last =
        ledger.as_array().unwrap().iter().find(|e| e["text"] == "Here is how it works").map(|e| e["post_id"].as_str().unwrap().to_owned());
    let mut comments = replies(&ledger);
    comments.retain(|(_, text, _)| text.starts_with("Questions?"));
    comments.sort();
    assert_eq!(comments.len(), 3, "one comment each, none twice: {comments:?}");
    assert_eq!(comments.iter().find(|c| c.0 == "x").unwrap().2, thread_last.unwrap(), "X's reply follows the thread");
    let linkedin_post = on(&post, "linkedin")["permalink"].as_str().unwrap().to_owned();
    assert!(linkedin_post.contains(&comments.iter().find(|c| c.0 == "linkedin").unwrap().2), "under the LinkedIn post");

    // Posted, but its worker stopped before saying so: the next attempt finds it and posts none.
    let delivery = on(&post, "linkedin")["id"].as_str().unwrap().to_owned();
    let team: String = sqlx::query_scalar("select team_id::text from delivery where delivery_id = $1::uuid")
        .bind(&delivery)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    sqlx::query("delete from delivery_first_comment where delivery_id = $1::uuid").bind(&delivery).execute(&app.pool).await.unwrap();
    sqlx::query(
        "insert into delivery_first_comment (delivery_id, team_id, text, reconcile, first_attempt_at, attempts)
         values ($1::uuid, $2::uuid, 'Questions? Comment here.', true, now() - interval '1 minute', 1)",
    )
    .bind(&delivery)
    .bind(&team)
    .execute(&app.pool)
    .await
    .unwrap();
    due_now(&app).await;
    until(&app, &secret, &id, "the lost outcome settled", |d| comment_state(d) == "posted").await;
    let again = replies(&app.sandbox_ledger().await).into_iter().filter(|c| c.0 == "linkedin").count();
    assert_eq!(again, 1, "found, not posted twice");
    let found: i64 = sqlx::query_scalar(
        "select count(*) from audit_event where action = 'first_comment_posted' and entity_id = $1 and metadata->>'reconciled' = 'true'",
    )
    .bind(&delivery)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(found, 1, "the audit trail says it was found");

    // A dry run and a post without comments queue none.
    for body in [
        json!({ "text": "Dry", "account_ids": [x], "dry_run": true, "first_comments": { "x": "Never sent" } }),
        json!({ "text": "No comment", "account_ids": [x] }),
    ] {
        let created = api(&app, &secret, reqwest::Method::POST, "/api/v1/posts").json(&body).send().await.unwrap();
        let id = created.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
        until(&app, &secret, &id, "out", |d| d["state"] == "dry_run_ok" || d["state"] == "published").await;
    }
    let rows: i64 = sqlx::query_scalar("select count(*) from delivery_first_comment").fetch_one(&app.pool).await.unwrap();
    assert_eq!(rows, 3);

    // Compose: its fields belong to the form (sent with or without the wasm), a draft keeps them.
    let compose = owner.page("/compose").await;
    assert!(compose.contains(r#"name="first_comment_x" form="compose-form""#), "the fields join Compose's form");
    let saved = owner
        .call(
            "posts/create",
            &[("text", "A draft"), ("accounts[]", x.as_str()), ("intent", "draft"), ("first_comment_linkedin", "Drafted comment")],
        )
        .await;
    assert_eq!(saved.status(), StatusCode::OK);
    let draft = saved.json::<Value>().await.unwrap()["draft_id"].as_str().unwrap().to_owned();
    assert!(owner.page(&format!("/compose?draft={draft}")).await.contains(">Drafted comment</textarea>"), "the draft reopens with it");

    // Too long, named by its field; another team sees none of it.
    let long = json!({ "text": "Long", "account_ids": [x], "first_comments": { "x": "y".repeat(281) } });
    let refused = api(&app, &secret, reqwest::Method::POST, "/api/v1/posts").json(&long).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.json::<Value>().await.unwrap()["errors"][0]["field"], "first_comments.x");
    let rival = app.owner("Rival", "owner@rival.test").await;
    let theirs = rival.call("posts/retry_first_comment", &[("delivery_id", facebook_delivery.as_str())]).await;
    assert_eq!(theirs.json::<Value>().await.unwrap(), json!(false), "another team's comment is not theirs to retry");
}
