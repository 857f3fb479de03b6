//! Accounts' profile pictures end to end: the app fetches them from the sandbox's image host when
//! an account is connected or verified, keeps only real pictures of a bounded size, and serves
//! them from its own address to the account's team (pages never point at the platform's URL).

mod support;

use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use support::{Browser, SANDBOX_CONTROL_TOKEN, TestApp, connect, connect_facebook_page};
use uuid::Uuid;

/// The account's external id (its id at the sandbox, which names its picture there).
async fn external_id(app: &TestApp, account_id: &str) -> String {
    sqlx::query_scalar("select external_id from platform_account where account_id = $1::uuid")
        .bind(account_id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// The stored picture's version and when it was fetched, if there is one.
async fn stored(app: &TestApp, account_id: &str) -> Option<(String, chrono::DateTime<chrono::Utc>)> {
    sqlx::query_as("select version, fetched_at from account_picture where account_id = $1::uuid")
        .bind(account_id)
        .fetch_optional(&app.pool)
        .await
        .unwrap()
}

/// What the sandbox's image host serves for `platform`'s account `id` now.
async fn sandbox_picture(app: &TestApp, platform: &str, id: &str) -> Vec<u8> {
    let response = reqwest::get(format!("{}/sandbox/pictures/{platform}/{id}.png", app.base)).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.bytes().await.unwrap().to_vec()
}

/// Makes the sandbox's image host answer `bytes` as `content_type` for that account from now on.
async fn replace_picture(app: &TestApp, platform: &str, id: &str, content_type: &str, bytes: Vec<u8>) {
    let response = reqwest::Client::new()
        .put(format!("{}/sandbox/control/pictures/{platform}/{id}", app.base))
        .bearer_auth(SANDBOX_CONTROL_TOKEN)
        .header(CONTENT_TYPE, content_type)
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
}

async fn verify(browser: &Browser, account_id: &str) {
    let verified = browser.call("accounts/verify", &[("account_id", account_id)]).await;
    assert_eq!(verified.status(), StatusCode::OK, "Verify succeeds whatever the picture");
}

/// The picture as a member's browser loads it.
async fn served(browser: &Browser, account_id: &str) -> reqwest::Response {
    browser.get(&format!("/accounts/{account_id}/picture")).await
}

#[tokio::test]
async fn profile_pictures_are_fetched_on_connect_and_served_from_crier() {
    let app = TestApp::spawn().await;
    let ada = app.owner("Acme", "ada@example.com").await;
    assert_eq!(connect(&ada, "x", &[("account", "acme_rockets")], "authorize").await, "/accounts");
    let id: String = sqlx::query_scalar("select account_id::text from platform_account").fetch_one(&app.pool).await.unwrap();
    let x_user = external_id(&app, &id).await;
    let original = sandbox_picture(&app, "x", &x_user).await;
    assert!(original.starts_with(b"\x89PNG\r\n\x1a\n"), "the sandbox serves a real PNG");

    // Exactly the platform's bytes, from Crier, as an image that cannot run as a page.
    let response = served(&ada, &id).await;
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    assert_eq!(headers[CONTENT_TYPE], "image/png");
    assert_eq!(headers[X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(headers[CONTENT_SECURITY_POLICY], "default-src 'none'; sandbox");
    let cache = headers[CACHE_CONTROL].to_str().unwrap();
    assert!(cache.starts_with("private") && cache.contains("max-age="), "cached privately: {cache}");
    assert_eq!(response.bytes().await.unwrap().to_vec(), original);

    // The Accounts page shows it from Crier's own address, versioned, never the platform's URL.
    let (version, fetched_at) = stored(&app, &id).await.expect("the picture is stored");
    let page = ada.page("/accounts").await;
    let src = format!("src=\"/accounts/{id}/picture?v={version}\"");
    assert!(page.contains(&src), "the page shows Crier's copy ({src})");
    assert!(!page.contains("/sandbox/pictures/"), "no page hot-links the platform's picture");
    assert!(ada.page("/compose").await.contains(&src), "Compose's account picker shows it too");

    // Wherever a delivery names the account: its chip on the dashboard and the post's page, its
    // dot on the calendar; and Status and Analytics name it with its picture too. (No worker runs
    // here: the post stays due.)
    let response = ada.call("posts/create", &[("text", "Pictures everywhere"), ("accounts[]", id.as_str()), ("intent", "now")]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let post: serde_json::Value = response.json().await.unwrap();
    let post_id = post["post_id"].as_str().unwrap().to_owned();
    for path in ["/".to_owned(), "/?view=month".to_owned(), format!("/posts/{post_id}"), "/status".to_owned(), "/analytics".to_owned()] {
        let page = ada.page(&path).await;
        assert!(page.contains(&format!("src=\"/accounts/{id}/picture?v={version}\"")), "{path} shows the account's picture");
        assert!(!page.contains("/sandbox/pictures/"), "{path} does not hot-link it");
    }

    // Verify with the same picture rewrites nothing.
    verify(&ada, &id).await;
    assert_eq!(stored(&app, &id).await, Some((version.clone(), fetched_at)), "unchanged bytes leave the row alone");

    // The REST API names it by its own URL, which answers the same bytes to the team's token.
    let created: serde_json::Value = ada.call("api_tokens/create", &[("name", "pictures"), ("role", "viewer")]).await.json().await.unwrap();
    let token = created["secret"].as_str().unwrap().to_owned();
    let api = |path: String| reqwest::Client::new().get(format!("{}{path}", app.base)).bearer_auth(&token).send();
    let account: serde_json::Value = api(format!("/api/v1/accounts/{id}")).await.unwrap().json().await.unwrap();
    let picture_url = format!("/api/v1/accounts/{id}/picture?v={version}");
    assert_eq!(account["picture_url"], picture_url.as_str());
    let response = api(picture_url).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[CONTENT_TYPE], "image/png");
    assert_eq!(response.bytes().await.unwrap().to_vec(), original);

    // Another team, a malformed id, an unknown account, nobody signed in: not found alike.
    let bob = app.owner("Bobcorp", "bob@example.com").await;
    assert_eq!(served(&bob, &id).await.status(), StatusCode::NOT_FOUND, "another team's picture is not found");
    assert_eq!(served(&ada, "not-an-id").await.status(), StatusCode::NOT_FOUND);
    assert_eq!(served(&ada, &Uuid::new_v4().to_string()).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(served(&app.browser(), &id).await.status(), StatusCode::NOT_FOUND, "signed out: no picture");
    let created: serde_json::Value = bob.call("api_tokens/create", &[("name", "theirs"), ("role", "viewer")]).await.json().await.unwrap();
    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/accounts/{id}/picture", app.base))
        .bearer_auth(created["secret"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND, "nor to another team's token");
}

#[tokio::test]
async fn verify_refreshes_a_picture_and_refuses_what_is_not_one() {
    let app = TestApp::spawn().await;
    let ada = app.owner("Acme", "ada@example.com").await;
    let id = connect_facebook_page(&app, &ada, "Picture Page").await;
    let page_id = external_id(&app, &id).await;
    let (first, _) = stored(&app, &id).await.expect("a Page's picture is stored when it is connected");
    assert_eq!(served(&ada, &id).await.bytes().await.unwrap().to_vec(), sandbox_picture(&app, "facebook", &page_id).await);

    // A new picture at the platform: Verify brings it, under a new URL.
    let new_picture = crier_media::fixtures::png(32, 32, 99);
    replace_picture(&app, "facebook", &page_id, "image/png", new_picture.clone()).await;
    verify(&ada, &id).await;
    let (second, _) = stored(&app, &id).await.unwrap();
    assert_ne!(first, second, "a new picture is a new version");
    assert_eq!(served(&ada, &id).await.bytes().await.unwrap().to_vec(), new_picture);
    assert!(ada.page("/accounts").await.contains(&format!("/accounts/{id}/picture?v={second}")));

    // What is not a picture, whatever its Content-Type says, and a picture too large: Verify still
    // succeeds and the stored picture stays.
    let refused = [
        ("image/png", b"<!doctype html><title>Not found</title>".to_vec()),
        ("image/svg+xml", b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>".to_vec()),
        ("image/png", {
            let mut huge = crier_media::fixtures::png(8, 8, 1);
            huge.resize(1024 * 1024 + 1, 0);
            huge
        }),
    ];
    for (content_type, bytes) in refused {
        replace_picture(&app, "facebook", &page_id, content_type, bytes).await;
        verify(&ada, &id).await;
        assert_eq!(stored(&app, &id).await.unwrap().0, second, "a refused picture ({content_type}) leaves the stored one");
        assert_eq!(served(&ada, &id).await.bytes().await.unwrap().to_vec(), new_picture);
    }
}

#[tokio::test]
async fn a_connect_succeeds_without_a_picture_when_the_platform_offers_none_that_fits() {
    let app = TestApp::spawn().await;
    let ada = app.owner("Acme", "ada@example.com").await;
    assert_eq!(connect(&ada, "x", &[("account", "acme_rockets")], "authorize").await, "/accounts");
    let id: String = sqlx::query_scalar("select account_id::text from platform_account").fetch_one(&app.pool).await.unwrap();
    let x_user = external_id(&app, &id).await;

    // Forget the picture, then reconnect while the platform answers a page instead of a picture.
    sqlx::query("delete from account_picture").execute(&app.pool).await.unwrap();
    replace_picture(&app, "x", &x_user, "image/jpeg", b"<html><body>Sign in to see this</body></html>".to_vec()).await;
    assert_eq!(connect(&ada, "x", &[("account", "acme_rockets")], "authorize").await, "/accounts", "the reconnect succeeds");
    assert_eq!(stored(&app, &id).await, None, "nothing that is not a picture is stored");
    assert_eq!(served(&ada, &id).await.status(), StatusCode::NOT_FOUND);

    // Pages name the account with its first letter instead.
    let page = ada.page("/accounts").await;
    assert!(!page.contains(&format!("/accounts/{id}/picture")), "no picture to show");
    assert!(
        page.contains("aria-hidden=\"true\" class=\"avatar letter\">a</span>acme_rockets"),
        "its first letter stands in, hidden from screen readers"
    );
}

#[tokio::test]
async fn a_linkedin_member_and_organization_bring_their_picture_and_logo() {
    let app = TestApp::spawn().await;
    let ada = app.owner("Acme", "ada@example.com").await;
    let next = connect(&ada, "linkedin", &[("account", "ada-lovelace"), ("new_organization", "Acme Rockets")], "authorize").await;
    let connection_id = next.rsplit('/').next().unwrap().to_owned();
    let choices: serde_json::Value = ada.call("accounts/choices", &[("connection_id", &connection_id)]).await.json().await.unwrap();
    let keys: Vec<String> = choices["options"].as_array().unwrap().iter().map(|o| o["key"].as_str().unwrap().to_owned()).collect();
    let mut form = vec![("connection_id".to_owned(), connection_id.clone())];
    form.extend(keys.iter().enumerate().map(|(i, key)| (format!("chosen[{i}]"), key.clone())));
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let chose = ada.call("accounts/choose", &form).await;
    assert!(chose.status().is_success() || chose.status().is_redirection(), "{}", chose.status());

    let accounts: Vec<(String, String)> =
        sqlx::query_as("select account_id::text, external_id from platform_account order by kind").fetch_all(&app.pool).await.unwrap();
    assert_eq!(accounts.len(), 2, "the member and the organization");
    for (id, external) in &accounts {
        // The member's picture from userinfo; the organization's logo through the Images API.
        let at_sandbox = match external.strip_prefix("urn:li:organization:") {
            Some(org) => format!("org-{org}"),
            None => external.trim_start_matches("urn:li:person:").to_owned(),
        };
        let response = served(&ada, id).await;
        assert_eq!(response.status(), StatusCode::OK, "{external} has a picture");
        assert_eq!(response.bytes().await.unwrap().to_vec(), sandbox_picture(&app, "linkedin", &at_sandbox).await);
    }
}
