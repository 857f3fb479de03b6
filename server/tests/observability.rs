//! Operating Crier: `/healthz`, `/readyz` and the failing check it names, `/metrics` behind its
//! token or on its own address, and the Status page.

mod support;

use std::time::Duration;

use chrono::Utc;
use crier::config::{WebArgs, WebConfig};
use crier_domain::post::PostContent;
use crier_domain::store::audit::Actor;
use crier_domain::store::deliveries::{self, Budget};
use crier_domain::store::posts::{self, NewPost};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;
use support::TestApp;
use uuid::Uuid;

/// `GET /readyz`: the status and the report.
async fn readyz(app: &TestApp) -> (StatusCode, Value) {
    let response = app.browser().get("/readyz").await;
    (response.status(), response.json().await.unwrap())
}

/// The check named `name` in a readiness report.
fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"].as_array().unwrap().iter().find(|c| c["name"] == name).unwrap_or_else(|| panic!("no {name} check: {report}"))
}

/// The signed-up owner `email`'s team and person.
async fn owner_of(pool: &PgPool, email: &str) -> (Uuid, Uuid) {
    sqlx::query_as("select team_id, user_id from app_user where email = $1").bind(email).fetch_one(pool).await.unwrap()
}

/// An X account of the team, connected as far as the database knows (no worker runs, so its
/// sealed tokens are never opened).
async fn x_account(pool: &PgPool, team_id: Uuid, name: &str) -> Uuid {
    sqlx::query_scalar(
        "insert into platform_account (team_id, platform, kind, external_id, name, handle, authorized_by, auth_method, credentials)
         values ($1, 'x', 'profile', $2, $2, '@' || $2, $2, 'oauth2', '\\x00') returning account_id",
    )
    .bind(team_id)
    .bind(name)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// A post to `account` due at `at`; answers its delivery.
async fn post_at(pool: &PgPool, (team_id, user_id): (Uuid, Uuid), account: Uuid, at: chrono::DateTime<Utc>) -> Uuid {
    let new = NewPost {
        content: PostContent::parse("Status report", [], "", []).unwrap(),
        account_ids: vec![account],
        scheduled_at: at,
        timezone: crier_domain::timezone::TimeZone::UTC,
        dry_run: false,
        retry: Default::default(),
    };
    let post = posts::schedule_all(pool, team_id, Actor::User(user_id), &[new], &Default::default()).await.map_err(|(_, e)| e).unwrap()[0];
    sqlx::query_scalar("select delivery_id from delivery where post_id = $1").bind(post).fetch_one(pool).await.unwrap()
}

#[tokio::test]
async fn readyz_names_what_stops_publishing_and_answers_200_when_nothing_does() {
    let app = TestApp::spawn().await;
    let (status, report) = readyz(&app).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{report}");
    assert_eq!(report["failing"], json!(["worker"]), "{report}");
    assert!(check(&report, "worker")["detail"].as_str().unwrap().contains("no publishing worker runs"), "{report}");
    for passing in ["database", "migrations", "queue"] {
        assert_eq!(check(&report, passing)["verdict"], "pass", "{report}");
    }

    // A worker heartbeats: ready.
    deliveries::register_worker(&app.pool, "crier-worker-test").await.unwrap();
    let (status, report) = readyz(&app).await;
    assert_eq!((status, report["ready"].clone(), report["failing"].clone()), (StatusCode::OK, json!(true), json!([])), "{report}");

    // A delivery due ten minutes ago that nobody claimed: the workers are not keeping up.
    app.owner("Acme", "ada@example.com").await;
    let team = owner_of(&app.pool, "ada@example.com").await;
    let account = x_account(&app.pool, team.0, "acme").await;
    post_at(&app.pool, team, account, Utc::now() - chrono::TimeDelta::minutes(10)).await;
    let (status, report) = readyz(&app).await;
    assert_eq!((status, report["failing"].clone()), (StatusCode::SERVICE_UNAVAILABLE, json!(["queue"])), "{report}");
    assert!(check(&report, "queue")["detail"].as_str().unwrap().contains("has waited 10 min unclaimed"), "{report}");

    // Waiting for a rate limit's reset is waiting on purpose.
    sqlx::query("update platform_account set paused_until = now() + interval '1 hour' where account_id = $1")
        .bind(account)
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(readyz(&app).await.0, StatusCode::OK);

    // The worker falls silent.
    sqlx::query("update publish_worker set last_seen = now() - interval '5 minutes'").execute(&app.pool).await.unwrap();
    let (_, report) = readyz(&app).await;
    assert_eq!(report["failing"], json!(["worker"]));
    assert!(check(&report, "worker")["detail"].as_str().unwrap().contains("the last one was seen 5 min ago"), "{report}");

    // The database lacks a migration this binary carries.
    sqlx::query("update publish_worker set last_seen = now()").execute(&app.pool).await.unwrap();
    sqlx::query("delete from _sqlx_migrations where version = (select max(version) from _sqlx_migrations)")
        .execute(&app.pool)
        .await
        .unwrap();
    let (status, report) = readyz(&app).await;
    assert_eq!((status, report["failing"].clone()), (StatusCode::SERVICE_UNAVAILABLE, json!(["migrations"])), "{report}");
    assert!(check(&report, "migrations")["detail"].as_str().unwrap().contains("run `crier migrate`"), "{report}");
}

#[tokio::test]
async fn healthz_and_readyz_answer_503_when_the_database_is_gone() {
    let app = TestApp::spawn().await;
    let response = app.browser().get("/healthz").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap(), json!({ "status": "ok", "database": "ok" }));

    app.pool.close().await;
    let response = app.browser().get("/healthz").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.json::<Value>().await.unwrap()["database"], "unreachable");
    let (status, report) = readyz(&app).await;
    assert_eq!((status, report["failing"].clone()), (StatusCode::SERVICE_UNAVAILABLE, json!(["database"])), "{report}");
    for skipped in ["migrations", "worker", "queue"] {
        assert_eq!(check(&report, skipped)["verdict"], "skipped", "{report}");
    }
}

const TOKEN: &str = "metrics-token-for-the-tests";

fn with_metrics(tweak: impl FnOnce(&mut WebConfig)) -> WebConfig {
    let mut web = WebConfig::parse(&WebArgs { addr: "127.0.0.1:0".into(), ..WebArgs::default() }).unwrap();
    tweak(&mut web);
    web
}

#[tokio::test]
async fn metrics_need_the_bearer_token_and_count_requests_by_their_route() {
    let app = TestApp::spawn_configured(with_metrics(|web| web.metrics.token = Some(TOKEN.to_owned().into()))).await;
    let http = reqwest::Client::new();
    let scrape = |token: Option<&str>| {
        let request = http.get(format!("{}/metrics", app.base));
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
        .send()
    };
    let refused = scrape(None).await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(refused.headers()["www-authenticate"], "Bearer");
    assert_eq!(scrape(Some("metrics-token-for-the-testz")).await.unwrap().status(), StatusCode::UNAUTHORIZED);

    // Pages by their route, never by the raw path: a post's id would make a series per post.
    let post_id = Uuid::new_v4();
    assert_eq!(app.browser().get("/login").await.status(), StatusCode::OK);
    assert_eq!(app.browser().get(&format!("/posts/{post_id}")).await.status(), StatusCode::SEE_OTHER, "signed out: to the login page");
    let response = scrape(Some(TOKEN)).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    let text = response.text().await.unwrap();
    for series in [
        r#"crier_http_requests_total{method="GET",route="/login",status="200"}"#,
        r#"crier_http_requests_total{method="GET",route="/posts/{id}",status="303"}"#,
        r#"crier_http_request_duration_seconds_bucket{method="GET",route="/login",le="0.005"}"#,
        r#"crier_queue_depth{state="due"} 0"#,
        r#"crier_queue_depth{state="held"} 0"#,
        r#"crier_queue_depth{state="waiting"} 0"#,
        "crier_workers_alive 0",
        "crier_database_up 1",
    ] {
        assert!(text.contains(series), "{series} is missing from:\n{text}");
    }
    assert!(!text.contains(&post_id.to_string()), "no id in any label");
    assert!(text.contains("# HELP crier_http_requests_total HTTP requests answered"), "{text}");
    assert!(text.contains("# TYPE crier_http_request_duration_seconds histogram"), "a histogram with buckets, not a summary");
}

#[tokio::test]
async fn metrics_are_served_on_their_own_address_or_not_at_all() {
    let hidden = TestApp::spawn().await;
    assert_eq!(hidden.browser().get("/metrics").await.status(), StatusCode::NOT_FOUND, "neither a token nor an address");
    assert!(hidden.metrics_addr.is_none());

    let app = TestApp::spawn_configured(with_metrics(|web| web.metrics.addr = Some("127.0.0.1:0".parse().unwrap()))).await;
    assert_eq!(app.browser().get("/metrics").await.status(), StatusCode::NOT_FOUND, "not on the web address");
    let addr = app.metrics_addr.expect("bound");
    let response = reqwest::get(format!("http://{addr}/metrics")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.text().await.unwrap().contains("crier_database_up 1"));

    let guarded = TestApp::spawn_configured(with_metrics(|web| {
        web.metrics.addr = Some("127.0.0.1:0".parse().unwrap());
        web.metrics.token = Some(TOKEN.to_owned().into());
    }))
    .await;
    let url = format!("http://{}/metrics", guarded.metrics_addr.unwrap());
    assert_eq!(reqwest::get(&url).await.unwrap().status(), StatusCode::UNAUTHORIZED, "the token guards the separate address too");
    let client = reqwest::Client::new();
    assert_eq!(client.get(&url).bearer_auth(TOKEN).send().await.unwrap().status(), StatusCode::OK);
}

#[tokio::test]
async fn the_status_page_shows_the_teams_accounts_with_budgets_the_workers_and_the_queue() {
    let hourly = Budget { limit: 50, window: Duration::from_secs(3600) };
    let app = TestApp::spawn_configured(with_metrics(|web| {
        web.operations.budgets = web.operations.budgets.with(crier_platform::Platform::X, Some(hourly))
    }))
    .await;
    let ada = app.owner("Acme", "ada@example.com").await;
    let team = owner_of(&app.pool, "ada@example.com").await;
    sqlx::query("update app_user set timezone = 'Europe/Berlin' where user_id = $1").bind(team.1).execute(&app.pool).await.unwrap();
    let account = x_account(&app.pool, team.0, "acme").await;
    let (verified, paused, window): (chrono::DateTime<Utc>, chrono::DateTime<Utc>, chrono::DateTime<Utc>) = sqlx::query_as(
        "update platform_account set last_verified_at = now() - interval '1 hour', paused_until = now() + interval '10 minutes',
                budget_window_started_at = now() - interval '5 minutes', budget_used = 7,
                media_budget_window_started_at = now() - interval '1 minute', media_budget_used = 12
         where account_id = $1 returning last_verified_at, paused_until, budget_window_started_at",
    )
    .bind(account)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    post_at(&app.pool, team, account, Utc::now() + chrono::TimeDelta::days(1)).await;
    deliveries::register_worker(&app.pool, "crier-worker-status-page").await.unwrap();

    let html = ada.page("/status").await;
    let berlin = crier_domain::timezone::TimeZone::parse("Europe/Berlin").unwrap();
    for expected in [
        "<h1>Status</h1>".to_owned(),
        "acme @acme".to_owned(),
        "50 per 1 h".to_owned(),
        r#"<td data-label="Used this window">7</td>"#.to_owned(),
        r#"<td data-label="Media uploads">12 of 500 per 15 min</td>"#.to_owned(),
        berlin.format(verified),
        berlin.format(paused),
        berlin.format(window + chrono::TimeDelta::hours(1)),
        "crier-worker-status-page".to_owned(),
        "1 worker is publishing.".to_owned(),
        r#"<dd data-queue="waiting">1 (the next at "#.to_owned(),
        "Times are in Europe/Berlin.".to_owned(),
    ] {
        assert!(html.contains(&expected), "{expected:?} is not on the page:\n{html}");
    }

    // Another team sees its own (empty) status, never Acme's accounts.
    let bob = app.owner("Globex", "bob@example.com").await;
    let other = bob.page("/status").await;
    assert!(!other.contains("acme @acme"), "another team's account");
    assert!(other.contains("No accounts connected."));
    assert!(other.contains(r#"<dd data-queue="waiting">0</dd>"#), "another team's queue");

    // Without a live worker the page says so.
    sqlx::query("update publish_worker set last_seen = now() - interval '5 minutes'").execute(&app.pool).await.unwrap();
    assert!(ada.page("/status").await.contains("No worker is publishing"));
}
