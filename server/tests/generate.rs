//! The brief's `POST /api/v2/content/generate` against a local web server: an HTML page and a
//! plain-text document become posts (a thread on X), scheduled, published now or kept as drafts;
//! a private address is refused under the outbound rules; bad requests say what to fix.

mod support;

use crier::config::{WebArgs, WebConfig};
use crier_outbound::AddressPolicy;
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{Browser, TestApp, connect_x_account};

const PAGE: &str = "<!doctype html><html><head><title>Crier ships queues</title></head><body>\
    <nav>Home | Blog</nav><h1>Crier ships queues</h1>\
    <p>Posting schedules are here. Every account gets its own weekly times! Add a post to the queue and it takes the next one.</p>\
    <p>Pausing a queue holds its posts. Resuming gives them fresh times, in order.</p></body></html>";
const DOC: &str = "Quarterly notes\n\nWe published 1,200 posts this quarter. None went out twice.\n\nNext: feeds and first comments.";

/// A web server on this machine serving the page, the document, and a source too large.
async fn source_server() -> String {
    let router = axum::Router::new()
        .route("/page", axum::routing::get(|| async { ([("content-type", "text/html; charset=utf-8")], PAGE) }))
        .route("/doc.txt", axum::routing::get(|| async { ([("content-type", "text/plain; charset=utf-8")], DOC) }))
        .route("/huge", axum::routing::get(|| async { ([("content-type", "text/plain")], "x".repeat(3 * 1024 * 1024)) }))
        .route("/image", axum::routing::get(|| async { ([("content-type", "image/png")], vec![0u8; 10]) }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    base
}

async fn app(allow_loopback: bool) -> TestApp {
    let mut web = WebConfig::parse(&WebArgs { addr: "127.0.0.1:0".into(), ..WebArgs::default() }).unwrap();
    web.webhooks_allow_http = true;
    if allow_loopback {
        web.outbound = AddressPolicy::allowing(vec!["127.0.0.0/8".parse().unwrap()]);
    }
    TestApp::spawn_configured(web).await
}

async fn token(browser: &Browser) -> String {
    let created: Value = browser.call("api_tokens/create", &[("name", "generator"), ("role", "editor")]).await.json().await.unwrap();
    created["secret"].as_str().unwrap().to_owned()
}

async fn generate(app: &TestApp, token: &str, body: Value) -> (StatusCode, Value) {
    let response =
        reqwest::Client::new().post(format!("{}/api/v2/content/generate", app.base)).bearer_auth(token).json(&body).send().await.unwrap();
    (response.status(), response.json().await.unwrap())
}

#[tokio::test]
async fn a_page_and_a_document_become_posts_now_later_or_as_drafts() {
    let app = app(true).await;
    let owner = app.owner("Generators", "owner@generate.test").await;
    let x = connect_x_account(&app, &owner).await;
    let token = token(&owner).await;
    let source = source_server().await;

    // A web page, published now on X: a thread whose first post is the title and the link.
    let (status, made) = generate(
        &app,
        &token,
        json!({ "content_request": { "source": { "type": "url", "url": format!("{source}/page") }, "channels": ["social_media"],
                "social_options": { "platforms": ["twitter"], "immediate": true } } }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(made["title"], "Crier ships queues");
    let post = &made["posts"][0];
    assert_eq!((post["platform"].as_str(), post["state"].as_str()), (Some("x"), Some("scheduled")));
    assert_eq!(post["text"], format!("Crier ships queues\n\n{source}/page"));
    let thread: Vec<&str> = post["thread"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
    assert!(thread[0].starts_with("Posting schedules are here. Every account gets its own weekly times!"), "{thread:?}");
    assert!(thread.iter().all(|t| !t.contains("Home | Blog")), "the page's navigation is left out: {thread:?}");
    assert_eq!(post["deliveries"][0]["account_id"], x);
    // The same request again derives the same posts.
    let (_, again) = generate(
        &app,
        &token,
        json!({ "content_request": { "source": { "type": "url", "url": format!("{source}/page") },
                "social_options": { "platforms": ["x"], "scheduled_for": "2031-01-05T09:00:00Z" } } }),
    )
    .await;
    assert_eq!(again["posts"][0]["thread"], post["thread"]);
    assert_eq!(again["posts"][0]["deliveries"][0]["at"], "2031-01-05T09:00:00Z");

    // A document, with no timing: drafts, listed with the team's drafts.
    let (status, drafted) = generate(
        &app,
        &token,
        json!({ "content_request": { "source": { "type": "document", "url": format!("{source}/doc.txt") },
                "social_options": { "platforms": ["twitter"] } } }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{drafted}");
    assert_eq!(drafted["title"], "Quarterly notes");
    assert_eq!(drafted["posts"][0]["state"], "draft");
    assert_eq!(drafted["posts"][0]["deliveries"].as_array().unwrap().len(), 0);
    let id = drafted["posts"][0]["id"].as_str().unwrap();
    assert!(owner.page("/drafts").await.contains(id), "the draft is on the Drafts page");

    // Inline text.
    let (status, inline) = generate(
        &app,
        &token,
        json!({ "content_request": { "source": { "type": "text", "text": "Hello\n\nA short note. Two sentences." },
                "social_options": { "platforms": ["twitter"], "scheduled_for": "2031-02-01T10:00:00Z" } } }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{inline}");
    assert_eq!(inline["posts"][0]["thread"], json!(["A short note. Two sentences."]));

    // Into the queue: the account's next free posting time.
    let mut form: Vec<(String, String)> = vec![("account_id".into(), x.clone()), ("timezone".into(), "UTC".into())];
    form.extend((1..=7).map(|d| (format!("times_{d}"), "07:00".to_owned())));
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert!(owner.call("queue/schedule", &form).await.status().is_success());
    let (status, queued) = generate(
        &app,
        &token,
        json!({ "content_request": { "source": { "type": "text", "text": "Queued\n\nFrom a text." },
                "social_options": { "platforms": ["twitter"], "queue": true } } }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{queued}");
    assert!(queued["posts"][0]["deliveries"][0]["at"].as_str().unwrap().ends_with("T07:00:00Z"), "{queued}");
}

#[tokio::test]
async fn bad_requests_and_sources_say_what_to_fix_and_make_nothing() {
    let app = app(true).await;
    let owner = app.owner("Careful Generators", "owner@careful.test").await;
    connect_x_account(&app, &owner).await;
    let token = token(&owner).await;
    let source = source_server().await;
    let cases = [
        (
            json!({ "source": { "type": "url", "url": format!("{source}/page") }, "social_options": { "platforms": ["myspace"] } }),
            "not a platform",
        ),
        (
            json!({ "source": { "type": "url", "url": format!("{source}/page") }, "social_options": { "platforms": ["linkedin"] } }),
            "no connected LinkedIn account",
        ),
        (
            json!({ "source": { "type": "url", "url": format!("{source}/page") }, "social_options": { "platforms": ["x"], "immediate": true, "queue": true } }),
            "Choose one of",
        ),
        (
            json!({ "source": { "type": "url", "url": format!("{source}/huge") }, "social_options": { "platforms": ["x"] } }),
            "larger than 2 MB",
        ),
        (
            json!({ "source": { "type": "url", "url": format!("{source}/image") }, "social_options": { "platforms": ["x"] } }),
            "not a text or a web page",
        ),
        (json!({ "source": { "type": "url", "url": format!("{source}/missing") }, "social_options": { "platforms": ["x"] } }), "HTTP 404"),
        (json!({ "source": { "type": "pdf" }, "social_options": { "platforms": ["x"] } }), "not a source type"),
        (json!({ "source": { "type": "text", "text": "   " }, "social_options": { "platforms": ["x"] } }), "Give the text"),
        (
            json!({ "source": { "type": "text", "text": "A" }, "channels": ["email"], "social_options": { "platforms": ["x"] } }),
            "social_media only",
        ),
    ];
    for (request, expected) in cases {
        let (status, problem) = generate(&app, &token, json!({ "content_request": request })).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert!(problem.to_string().contains(expected), "{expected} in {problem}");
    }
    let posts: i64 = sqlx::query_scalar("select count(*) from post").fetch_one(&app.pool).await.unwrap();
    assert_eq!(posts, 0);
    // A viewer's token makes nothing.
    let viewer: Value = owner.call("api_tokens/create", &[("name", "v"), ("role", "viewer")]).await.json().await.unwrap();
    let (status, _) = generate(
        &app,
        viewer["secret"].as_str().unwrap(),
        json!({ "content_request": { "source": { "type": "text", "text": "Hi" }, "social_options": { "platforms": ["x"] } } }),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_private_address_is_not_fetched() {
    let app = app(false).await;
    let owner = app.owner("Guarded", "owner@guarded.test").await;
    connect_x_account(&app, &owner).await;
    let token = token(&owner).await;
    let source = source_server().await;
    for url in [format!("{source}/page"), "http://169.254.169.254/latest/meta-data/".to_owned(), "http://10.0.0.1/doc".to_owned()] {
        let (status, problem) = generate(
            &app,
            &token,
            json!({ "content_request": { "source": { "type": "url", "url": url }, "social_options": { "platforms": ["x"] } } }),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert!(problem.to_string().contains("Not fetched"), "{problem}");
    }
}
