//! Sign-up, login, logout, throttling, sessions and the sign-in gate, over real HTTP.

mod support;

use reqwest::StatusCode;
use support::{PASSWORD, TestApp, error_of, field_errors, location};

#[tokio::test]
async fn sign_up_signs_in_and_shows_the_dashboard() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    let response = browser.sign_up("Acme Rockets", "Ada@Example.com", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(location(&response).as_deref(), Some("/"), "the page is sent to the dashboard");

    let dashboard = browser.page("/").await;
    assert!(dashboard.contains("<h1>Dashboard</h1>"));
    assert!(dashboard.contains("Acme Rockets"), "shows the team");
    assert!(dashboard.contains("ada@example.com"), "shows the signed-in person, normalised");
    for link in ["Dashboard", "Compose", "Accounts", "Analytics", "Audit", "Settings"] {
        assert!(dashboard.contains(&format!(">{link}</a>")), "navigation has {link}");
    }
    assert!(dashboard.contains(">Log out</button>"));
}

#[tokio::test]
async fn sign_up_reports_every_bad_field_and_keeps_nothing() {
    let app = TestApp::spawn().await;
    let error = error_of(app.browser().sign_up("  ", "not an email", "short").await).await;
    let fields = field_errors(&error);
    assert_eq!(fields["team_name"], "Enter a team name.");
    assert!(fields["email"].contains("valid email address"), "{fields:?}");
    assert_eq!(fields["password"], "Use at least 10 characters for the password.");
    let teams: i64 = sqlx::query_scalar("select count(*) from team").fetch_one(&app.pool).await.unwrap();
    assert_eq!(teams, 0);

    app.owner("Acme", "ada@example.com").await;
    let taken = error_of(app.browser().sign_up("acme", "bob@example.com", PASSWORD).await).await;
    assert!(field_errors(&taken)["team_name"].contains("already exists"));
}

#[tokio::test]
async fn log_out_ends_the_session_and_log_in_starts_a_new_one() {
    let app = TestApp::spawn().await;
    let browser = app.owner("Acme", "ada@example.com").await;
    let key_before: Vec<u8> = sqlx::query_scalar("select session_id_hash from web_session").fetch_one(&app.pool).await.unwrap();

    let response = browser.log_out().await;
    assert_eq!(location(&response).as_deref(), Some("/login"));
    let sessions: i64 = sqlx::query_scalar("select count(*) from web_session").fetch_one(&app.pool).await.unwrap();
    assert_eq!(sessions, 0, "the session is flushed from the store, not just forgotten by the browser");
    assert_eq!(browser.get("/").await.status(), StatusCode::SEE_OTHER);

    let response = browser.log_in("ada@example.com", PASSWORD, None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let key_after: Vec<u8> = sqlx::query_scalar("select session_id_hash from web_session").fetch_one(&app.pool).await.unwrap();
    assert_ne!(key_after, key_before, "a new session id after login");
    assert!(browser.page("/").await.contains("ada@example.com"));
}

#[tokio::test]
async fn session_cookie_is_httponly_lax_and_lasts_a_week_of_inactivity() {
    let app = TestApp::spawn().await;
    let response = app.browser().sign_up("Acme", "ada@example.com", PASSWORD).await;
    let cookie = response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("crier_session="))
        .expect("a session cookie is set");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain http in tests: {cookie}");
    assert!(cookie.contains("Max-Age=604800"), "7 days: {cookie}");
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_answer() {
    let app = TestApp::spawn().await;
    app.owner("Acme", "ada@example.com").await;
    let wrong = error_of(app.browser().log_in("ada@example.com", "not the password", None).await).await;
    let unknown = error_of(app.browser().log_in("nobody@example.com", "not the password", None).await).await;
    assert_eq!(wrong, serde_json::json!("WrongCredentials"));
    assert_eq!(wrong, unknown);
}

#[tokio::test]
async fn five_failures_in_a_minute_are_throttled_with_a_wait_time() {
    let app = TestApp::spawn().await;
    app.owner("Acme", "ada@example.com").await;
    let browser = app.browser();
    for _ in 0..5 {
        assert_eq!(error_of(browser.log_in("ada@example.com", "wrong password", None).await).await, "WrongCredentials");
    }
    let throttled = error_of(browser.log_in("ada@example.com", PASSWORD, None).await).await;
    let seconds = throttled["Throttled"].as_u64().unwrap_or_else(|| panic!("expected Throttled, got {throttled}"));
    assert!((1..=60).contains(&seconds));

    // What the page shows.
    let response = browser.post_plain("log_in", &[("email", "ada@example.com"), ("password", PASSWORD)], "/login").await;
    let page = browser.page(&location(&response).unwrap().replace(&app.base, "")).await;
    assert!(page.contains("Too many failed attempts. Try again in "), "the page says how long to wait");
}

#[tokio::test]
async fn signed_out_pages_redirect_to_login_and_come_back() {
    let app = TestApp::spawn().await;
    app.owner("Acme", "ada@example.com").await;
    let browser = app.browser();
    for (path, next) in [("/", "%2F"), ("/compose", "%2Fcompose"), ("/settings/members?x=1", "%2Fsettings%2Fmembers%3Fx%3D1")] {
        let response = browser.get(path).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(location(&response), Some(format!("/login?next={next}")), "{path}");
    }
    for public in ["/login", "/signup", "/healthz"] {
        assert_eq!(browser.get(public).await.status(), StatusCode::OK, "{public} needs no session");
    }
    let response = browser.log_in("ada@example.com", PASSWORD, Some("/compose")).await;
    assert_eq!(location(&response).as_deref(), Some("/compose"));
    assert!(browser.page("/compose").await.contains("<h1>Compose</h1>"));
}

#[tokio::test]
async fn next_is_followed_only_to_local_paths() {
    let app = TestApp::spawn().await;
    app.owner("Acme", "ada@example.com").await;
    for hostile in ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"] {
        let browser = app.browser();
        let response = browser.log_in("ada@example.com", PASSWORD, Some(hostile)).await;
        assert_eq!(location(&response).as_deref(), Some("/"), "{hostile} is refused");
    }
}

#[tokio::test]
async fn an_expired_session_is_signed_out() {
    let app = TestApp::spawn().await;
    let browser = app.owner("Acme", "ada@example.com").await;
    assert_eq!(browser.get("/").await.status(), StatusCode::OK);
    sqlx::query("update web_session set expires_at = now() - interval '1 second'").execute(&app.pool).await.unwrap();
    let response = browser.get("/").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response).as_deref(), Some("/login?next=%2F"));
    let me = browser.call("me", &[]).await.json::<serde_json::Value>().await.unwrap();
    assert_eq!(me, serde_json::Value::Null, "server functions see nobody either");
}

#[tokio::test]
async fn logging_in_cycles_an_existing_session_id() {
    let app = TestApp::spawn().await;
    app.owner("Acme", "ada@example.com").await;
    let browser = app.browser();
    // A failed plain form post leaves an anonymous session (holding the typed email).
    browser.post_plain("log_in", &[("email", "ada@example.com"), ("password", "wrong password")], "/login").await;
    let before: Vec<Vec<u8>> = sqlx::query_scalar("select session_id_hash from web_session").fetch_all(&app.pool).await.unwrap();
    assert_eq!(before.len(), 2, "the owner's session and the anonymous one");

    browser.log_in("ada@example.com", PASSWORD, None).await;
    let after: Vec<Vec<u8>> = sqlx::query_scalar("select session_id_hash from web_session").fetch_all(&app.pool).await.unwrap();
    assert_eq!(after.len(), 2);
    let new: Vec<_> = after.iter().filter(|k| !before.contains(k)).collect();
    assert_eq!(new.len(), 1, "the anonymous session's id was replaced, not reused (no session fixation)");
}

#[tokio::test]
async fn a_failed_plain_form_post_shows_the_error_and_keeps_what_was_typed() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    let response = browser
        .post_plain(
            "sign_up",
            &[("team_name", "Acme Rockets"), ("email", "not-an-email"), ("password", "correct horse battery")],
            "/signup",
        )
        .await;
    assert!(response.status().is_redirection(), "{}", response.status());
    let back = location(&response).unwrap();
    assert!(back.starts_with(&format!("{}/signup?", app.base)) && back.contains("__err="), "{back}");

    let page = browser.page(&back.replace(&app.base, "")).await;
    assert!(page.contains("Enter a valid email address"), "the field error is shown inline");
    assert!(page.contains(r#"value="Acme Rockets""#), "the team name is kept");
    assert!(page.contains(r#"value="not-an-email""#), "the email is kept");
    assert!(!page.contains("correct horse battery"), "passwords are never echoed back");

    let again = browser.page(&back.replace(&app.base, "")).await;
    assert!(!again.contains(r#"value="Acme Rockets""#), "kept values are shown once");
}

async fn failed_logins_from(browser: &support::Browser, forwarded_for: &str, emails: &[&str]) {
    for email in emails {
        let response = browser
            .client
            .post(format!("{}/api/log_in", browser.base))
            .header("x-forwarded-for", forwarded_for)
            .form(&[("email", *email), ("password", "wrong password")])
            .send()
            .await
            .unwrap();
        assert_eq!(error_of(response).await, "WrongCredentials");
    }
}

#[tokio::test]
async fn behind_a_trusted_proxy_throttling_counts_per_client_not_per_proxy() {
    use crier::config::WebArgs;
    let app =
        TestApp::spawn_with(WebArgs { addr: "127.0.0.1:0".into(), trusted_proxies: Some("127.0.0.1".into()), ..WebArgs::default() }).await;
    app.owner("Acme", "ada@example.com").await;
    let browser = app.browser();
    // Five different emails, so only the per-address limit can trip.
    failed_logins_from(&browser, "203.0.113.7", &["a@x.io", "b@x.io", "c@x.io", "d@x.io", "e@x.io"]).await;
    let blocked = browser
        .client
        .post(format!("{}/api/log_in", app.base))
        .header("x-forwarded-for", "203.0.113.7")
        .form(&[("email", "ada@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert!(error_of(blocked).await["Throttled"].is_u64(), "that client is throttled");
    let other = browser
        .client
        .post(format!("{}/api/log_in", app.base))
        .header("x-forwarded-for", "203.0.113.8")
        .form(&[("email", "ada@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::OK, "another client behind the same proxy is not");
}

#[tokio::test]
async fn a_forged_forwarded_for_header_does_not_escape_throttling() {
    let app = TestApp::spawn().await;
    app.owner("Acme", "ada@example.com").await;
    let browser = app.browser();
    for (n, email) in ["a@x.io", "b@x.io", "c@x.io", "d@x.io", "e@x.io"].iter().enumerate() {
        failed_logins_from(&browser, &format!("203.0.113.{n}"), &[email]).await;
    }
    let response = browser.log_in("ada@example.com", PASSWORD, None).await;
    assert!(error_of(response).await["Throttled"].is_u64(), "no trusted proxy: the header is ignored, the peer is throttled");
}
