//! Link tracking over real HTTP: UTM parameters per platform and Crier's short links in what the
//! sandbox platforms receive, clicks counted per delivery (crawlers and HEAD not), shown on the
//! post's page, in Analytics and in the API; the team's defaults, who may change them, and what
//! Compose and the API start with; other teams see none of it.

mod support;

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CACHE_CONTROL, LOCATION, USER_AGENT};
use serde_json::{Value, json};
use support::{Browser, TestApp, connect_facebook_page, connect_x_account};

const BROWSER_AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";

async fn token(browser: &Browser, role: &str) -> String {
    let response = browser.call("api_tokens/create", &[("name", "script"), ("role", role)]).await;
    assert_eq!(response.status(), StatusCode::OK, "creating a token");
    let created: Value = response.json().await.unwrap();
    created["secret"].as_str().unwrap().to_owned()
}

fn api(app: &TestApp, token: &str, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
    reqwest::Client::new().request(method, format!("{}{path}", app.base)).header(AUTHORIZATION, format!("Bearer {token}"))
}

async fn post_json(app: &TestApp, token: &str, id: &str) -> Value {
    let response = api(app, token, reqwest::Method::GET, &format!("/api/v1/posts/{id}")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// Polls the post (through the API) until every delivery is published.
async fn until_published(app: &TestApp, token: &str, id: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let post = post_json(app, token, id).await;
        let states: Vec<&str> = post["deliveries"].as_array().unwrap().iter().map(|d| d["state"].as_str().unwrap()).collect();
        if states.iter().all(|s| *s == "published") {
            return post;
        }
        assert!(tokio::time::Instant::now() < deadline, "published within 30 s: {states:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The short links (`<base>/l/<code>`) in a text, in order.
fn short_links<'a>(text: &'a str, base: &str) -> Vec<&'a str> {
    let prefix = format!("{base}/l/");
    text.split_whitespace().filter(|w| w.starts_with(&prefix)).map(|w| w.trim_end_matches('.')).collect()
}

/// A client that does not follow redirects, as a person's browser's first request.
fn visitor() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

async fn clicks_of(app: &TestApp, link: &str) -> i64 {
    let code = link.rsplit('/').next().unwrap();
    sqlx::query_scalar("select coalesce(sum(clicks), 0)::int8 from short_link_click where code = $1")
        .bind(code)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn short_links_carry_each_platforms_utm_parameters_and_count_peoples_clicks_per_delivery() {
    let app = TestApp::spawn_with_worker().await;
    let owner = app.owner("Acme", "owner@acme.test").await;
    let x = connect_x_account(&app, &owner).await;
    let page = connect_facebook_page(&app, &owner, "Acme Page").await;
    let secret = token(&owner, "editor").await;
    let body = json!({
        "text": "Read https://example.com/post?ref=1. Then tell us.",
        "link": "https://example.com/launch",
        "account_ids": [x, page],
        "link_tracking": { "utm": true, "utm_campaign": "spring launch", "short_links": true },
    });
    let created = api(&app, &secret, reqwest::Method::POST, "/api/v1/posts").json(&body).send().await.unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let id = created.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let post = until_published(&app, &secret, &id).await;
    assert_eq!(post["link_tracking"], json!({ "utm": true, "utm_campaign": "spring launch", "utm_medium": "social", "short_links": true }));
    assert_eq!(post["link"], "https://example.com/launch", "the post keeps its link as written");

    // What each platform received: short links only, the sentence's full stop kept outside.
    let ledger = app.sandbox_ledger().await;
    let sent = |platform: &str| {
        ledger.as_array().unwrap().iter().find(|e| e["platform"] == platform).unwrap()["text"].as_str().unwrap().to_owned()
    };
    let (on_x, on_facebook) = (sent("x"), sent("facebook"));
    assert!(!on_x.contains("example.com") && !on_facebook.contains("example.com"), "{on_x} / {on_facebook}");
    let x_links = short_links(&on_x, &app.base);
    assert_eq!(x_links.len(), 2, "the text's link and the appended one: {on_x}");
    assert!(on_x.starts_with(&format!("Read {}. Then", x_links[0])), "{on_x}");
    let facebook_links = short_links(&on_facebook, &app.base);
    assert_eq!(facebook_links.len(), 1, "Facebook gets the link as its card, not in the text: {on_facebook}");
    assert_ne!(x_links[0], facebook_links[0], "each delivery has links of its own");

    // A person's click: redirected to the link with X's parameters, counted, never cached.
    let follow = |link: &str, agent: &'static str| visitor().get(link).header(USER_AGENT, agent).send();
    let response = follow(x_links[0], BROWSER_AGENT).await.unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(
        response.headers()[LOCATION],
        "https://example.com/post?ref=1&utm_source=twitter&utm_medium=social&utm_campaign=spring+launch"
    );
    assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
    follow(x_links[0], BROWSER_AGENT).await.unwrap();
    let appended = follow(x_links[1], BROWSER_AGENT).await.unwrap();
    assert_eq!(appended.headers()[LOCATION], "https://example.com/launch?utm_source=twitter&utm_medium=social&utm_campaign=spring+launch");
    let on_page = visitor().get(facebook_links[0]).header(USER_AGENT, BROWSER_AGENT).send().await.unwrap();
    assert!(on_page.headers()[LOCATION].to_str().unwrap().contains("utm_source=facebook"), "Facebook's own source");
    // Crawlers drawing previews, and HEAD requests, are redirected but not counted.
    let crawler = follow(x_links[0], "Twitterbot/1.0").await.unwrap();
    assert_eq!(crawler.status(), StatusCode::FOUND);
    visitor().head(x_links[0]).header(USER_AGENT, BROWSER_AGENT).send().await.unwrap();
    assert_eq!(clicks_of(&app, x_links[0]).await, 2);
    assert_eq!(clicks_of(&app, x_links[1]).await, 1);
    assert_eq!(clicks_of(&app, facebook_links[0]).await, 1);
    // No visitor's address or agent is kept: the counts are all there is.
    let columns: Vec<String> = sqlx::query_scalar(
        "select column_name::text from information_schema.columns where table_name in ('short_link', 'short_link_click') order by 1",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(columns, ["clicks", "code", "code", "created_at", "day", "delivery_id", "team_id", "url"]);

    // Codes Crier never made: not found, and nothing counted.
    for missing in ["/l/AAAAAAAAAA", "/l/short", &format!("/l/{}", "a".repeat(5000))] {
        let response = visitor().get(format!("{}{missing}", app.base)).header(USER_AGENT, BROWSER_AGENT).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{missing}");
    }

    // Per delivery in the API, on the post's page and in Analytics.
    let post = post_json(&app, &secret, &id).await;
    let clicks_on =
        |platform: &str| post["deliveries"].as_array().unwrap().iter().find(|d| d["platform"] == platform).unwrap()["clicks"].clone();
    assert_eq!((clicks_on("x"), clicks_on("facebook")), (json!(3), json!(1)));
    let html = owner.page(&format!("/posts/{id}")).await;
    assert!(html.contains("3 clicks on its short links") && html.contains("1 click on its short links"), "the post's page");
    assert!(html.contains("campaign “spring launch”"), "the page says what its links get");
    let analytics = owner.page("/analytics").await;
    assert!(analytics.contains("data-link-clicks=\"4\""), "Analytics counts every click");

    // Another team sees none of it.
    let rival = app.owner("Rival", "owner@rival.test").await;
    let rival_token = token(&rival, "admin").await;
    let theirs = api(&app, &rival_token, reqwest::Method::GET, &format!("/api/v1/posts/{id}")).send().await.unwrap();
    assert_eq!(theirs.status(), StatusCode::NOT_FOUND);
    assert!(rival.page("/analytics").await.contains("No clicks on Crier short links"), "no clicks of another team");
}

#[tokio::test]
async fn the_teams_defaults_start_compose_and_the_api_and_only_owners_and_admins_change_them() {
    let app = TestApp::spawn_with_worker().await;
    let owner = app.owner("Acme", "owner@acme.test").await;
    let x = connect_x_account(&app, &owner).await;

    // Off until the team turns it on.
    assert!(owner.page("/settings").await.contains("Links go out as written."));
    let saved = owner.call("settings/set_link_tracking", &[("utm", "on"), ("utm_medium", "email"), ("utm_campaign", "weekly")]).await;
    assert_eq!(saved.status(), StatusCode::OK);
    let audit: i64 =
        sqlx::query_scalar("select count(*) from audit_event where action = 'link_tracking_changed'").fetch_one(&app.pool).await.unwrap();
    assert_eq!(audit, 1, "the change is in the audit trail");
    // Refused: a campaign too long. Nothing changes.
    let long = "c".repeat(101);
    let refused = owner.call("settings/set_link_tracking", &[("utm", "on"), ("utm_campaign", long.as_str())]).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text().await.unwrap().contains("utm_campaign"), "the field is named");
    let settings = owner.page("/settings").await;
    assert!(settings.contains("medium “email”, campaign “weekly”"), "the saved defaults stand");

    // An editor may not change them.
    let invite: Value = owner.call("create_invite", &[("email", "ed@acme.test"), ("role", "editor")]).await.json().await.unwrap();
    let secret = invite["url"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
    let editor = app.browser();
    assert_eq!(editor.call("accept_invite", &[("token", secret.as_str()), ("password", support::PASSWORD)]).await.status(), StatusCode::OK);
    assert_eq!(editor.call("settings/set_link_tracking", &[("short_links", "on")]).await.status(), StatusCode::FORBIDDEN);
    assert!(editor.page("/settings").await.contains("Owners and admins can change this."));

    // Compose starts with them: the box ticked, the values in, and the fields joined to the form.
    let compose = owner.page("/compose").await;
    assert!(compose.contains(r#"id="compose-form""#), "{compose}");
    assert!(compose.contains(r#"name="utm" value="on" form="compose-form" checked"#), "UTM ticked by default");
    assert!(compose.contains(r#"value="weekly""#) && compose.contains(r#"value="email""#));

    // The API without a choice takes them too; the published link carries them (no short links).
    let script = token(&owner, "editor").await;
    let body = json!({ "text": "Newsletter", "link": "https://example.com/issue-7", "account_ids": [x] });
    let created = api(&app, &script, reqwest::Method::POST, "/api/v1/posts").json(&body).send().await.unwrap();
    let id = created.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let post = until_published(&app, &script, &id).await;
    assert_eq!(post["link_tracking"]["utm_medium"], "email");
    let ledger = app.sandbox_ledger().await;
    assert_eq!(ledger[0]["text"], "Newsletter\n\nhttps://example.com/issue-7?utm_source=twitter&utm_medium=email&utm_campaign=weekly");
    assert!(post["deliveries"][0].get("clicks").is_none(), "no short links, no clicks to count");

    // Imported, generated and batch posts take the team's defaults too.
    let name: String =
        sqlx::query_scalar("select name from platform_account where account_id = $1::uuid").bind(&x).fetch_one(&app.pool).await.unwrap();
    let csv = format!("text,accounts,date,time,link\nImported,{name},2031-01-01,09:00,https://example.com/csv\n");
    let imported = api(&app, &script, reqwest::Method::POST, "/api/v1/posts/import")
        .header(reqwest::header::CONTENT_TYPE, "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert!(imported.status().is_success(), "{:?}", imported.text().await);
    let generated = api(&app, &script, reqwest::Method::POST, "/api/v2/content/generate")
        .json(&json!({ "content_request": { "source": { "type": "text", "text": "Generated\n\nSee https://example.com/gen." },
                       "social_options": { "platforms": ["twitter"], "scheduled_for": "2031-02-01T10:00:00Z" } } }))
        .send()
        .await
        .unwrap();
    assert_eq!(generated.status(), StatusCode::CREATED);
    let batch =
        owner.call("posts/batch", &[("posts", "2031-03-01 09:00 | Batched https://example.com/b"), ("accounts[]", x.as_str())]).await;
    assert_eq!(batch.status(), StatusCode::OK);
    let tracked: Vec<String> = sqlx::query_scalar(
        "select p.text from post p join post_link_tracking t using (post_id) where t.utm and t.utm_medium = 'email' order by p.created_at",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(tracked.len(), 4, "the API's, the import's, the generated and the batch's post: {tracked:?}");

    // Compose sent with both boxes unticked: the post's links go out as written.
    let later = (chrono::Utc::now() + chrono::TimeDelta::days(2)).format("%Y-%m-%dT%H:%M").to_string();
    let composed = owner
        .call(
            "posts/create",
            &[
                ("text", "As written"),
                ("link", "https://example.com/plain"),
                ("accounts[]", x.as_str()),
                ("intent", "schedule"),
                ("scheduled_at", later.as_str()),
                ("utm_medium", "email"),
                ("tracking_sent", "1"),
            ],
        )
        .await;
    assert_eq!(composed.status(), StatusCode::OK);
    let composed_id = composed.json::<Value>().await.unwrap()["post_id"].as_str().unwrap().to_owned();
    let composed = post_json(&app, &script, &composed_id).await;
    assert_eq!(composed["link_tracking"], json!({ "utm": false, "utm_campaign": null, "utm_medium": null, "short_links": false }));

    // An edit without a choice keeps the post's; with one, replaces it; a bad one names the field.
    let patch = |body: Value| api(&app, &script, reqwest::Method::PATCH, &format!("/api/v1/posts/{composed_id}")).json(&body).send();
    assert_eq!(patch(json!({ "text": "Still as written" })).await.unwrap().status(), StatusCode::OK);
    assert_eq!(post_json(&app, &script, &composed_id).await["link_tracking"]["utm"], false);
    assert_eq!(patch(json!({ "link_tracking": { "short_links": true } })).await.unwrap().status(), StatusCode::OK);
    assert_eq!(post_json(&app, &script, &composed_id).await["link_tracking"]["short_links"], true);
    let bad = patch(json!({ "link_tracking": { "utm": true, "utm_medium": "a\nb" } })).await.unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = bad.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "link_tracking.utm_medium", "{problem}");
    assert_eq!(post_json(&app, &script, &composed_id).await["link_tracking"]["short_links"], true, "a refused edit changes nothing");
}
