//! Crier on the open internet: every probe of the hardening issue, tried against the real app.

mod support;

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, CONTENT_TYPE, ORIGIN};
use serde_json::Value;
use support::{PASSWORD, TestApp, error_of, field_errors};

async fn count(app: &TestApp, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.pool).await.unwrap()
}

#[tokio::test]
async fn an_oversize_body_answers_413_before_anything_is_parsed_or_stored() {
    let app = TestApp::spawn().await;
    let visitor = app.browser();
    let huge = "t".repeat(1_900_000);
    let fetch = visitor.call("sign_up", &[("team_name", &huge), ("email", "a@example.com"), ("password", PASSWORD)]).await;
    assert_eq!(fetch.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let said = error_of(fetch).await;
    assert!(said["Refused"].as_str().unwrap().contains("64 KB"), "the form can say why: {said}");
    let plain = visitor.post_plain("sign_up", &[("team_name", &huge), ("email", "a@example.com"), ("password", PASSWORD)], "/signup").await;
    assert_eq!(plain.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(plain.text().await.unwrap().contains("too much to send at once"), "a page for a plain form post");
    assert_eq!(count(&app, "select count(*) from web_session").await, 0, "no session row for the refused visitor");
    assert_eq!(count(&app, "select count(*) from team").await, 0);

    // The REST API answers in problem+json.
    let api = reqwest::Client::new()
        .post(format!("{}/api/v1/posts", app.base))
        .header(CONTENT_TYPE, "application/json")
        .body(format!("{{\"text\": \"{}\"}}", "x".repeat(300 * 1024)))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(api.headers()[CONTENT_TYPE], "application/problem+json");
}

#[tokio::test]
async fn a_refused_visitor_form_keeps_only_a_small_refill() {
    let app = TestApp::spawn().await;
    let visitor = app.browser();
    let long = "n".repeat(40_000);
    let refused =
        visitor.post_plain("sign_up", &[("team_name", &long), ("email", "not an address"), ("password", "short")], "/signup").await;
    assert!(refused.status().is_redirection(), "back to the form with its errors");
    let kept: i64 = count(&app, "select coalesce(max(octet_length(data::text)), 0)::int8 from web_session").await;
    assert!(kept < 4_000, "an anonymous refusal keeps a few hundred characters at most, not {kept} bytes");
}

#[tokio::test]
async fn cross_site_requests_are_refused_login_and_token_creation_included() {
    let app = TestApp::spawn().await;
    let ada = app.owner("Acme", "ada@example.com").await;
    ada.log_out().await;

    let cross_site = |path: &str| {
        ada.client
            .post(format!("{}/api/{path}", app.base))
            .header(ORIGIN, "https://evil.example")
            .header("Sec-Fetch-Site", "cross-site")
            .header(ACCEPT, "text/html")
    };
    let login = cross_site("log_in").form(&[("email", "ada@example.com"), ("password", PASSWORD)]).send().await.unwrap();
    assert_eq!(login.status(), StatusCode::FORBIDDEN, "login CSRF is refused");
    assert!(login.text().await.unwrap().contains("came from another site"));
    assert_eq!(ada.get("/").await.status(), StatusCode::SEE_OTHER, "still signed out");

    // Signed in, a forged token creation riding on the cookie is refused too.
    assert_eq!(ada.log_in("ada@example.com", PASSWORD, None).await.status(), StatusCode::OK);
    let token = cross_site("api_tokens/create").form(&[("name", "stolen"), ("role", "admin")]).send().await.unwrap();
    assert_eq!(token.status(), StatusCode::FORBIDDEN);
    let same_site_sibling = ada
        .client
        .post(format!("{}/api/api_tokens/create", app.base))
        .header("Sec-Fetch-Site", "same-site")
        .form(&[("name", "sibling"), ("role", "admin")])
        .send()
        .await
        .unwrap();
    assert_eq!(same_site_sibling.status(), StatusCode::FORBIDDEN, "a sibling subdomain is another site");
    assert_eq!(count(&app, "select count(*) from api_token").await, 0);

    // From Crier's own pages it works, by Sec-Fetch-Site or by Origin.
    let own = ada
        .client
        .post(format!("{}/api/api_tokens/create", app.base))
        .header(ORIGIN, app.base.as_str())
        .form(&[("name", "mine"), ("role", "editor")])
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), StatusCode::OK);
    // The REST API is bearer-only: no Origin rule applies there.
    let api =
        reqwest::Client::new().post(format!("{}/api/v1/posts", app.base)).header(ORIGIN, "https://evil.example").send().await.unwrap();
    assert_eq!(api.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn twenty_wrong_passwords_at_once_leave_at_most_five_checked() {
    let app = TestApp::spawn().await;
    app.owner("Acme", "ada@example.com").await;
    let tries = (0..20).map(|_| {
        let browser = app.browser();
        tokio::spawn(async move { browser.log_in("ada@example.com", "a wrong password!", None).await.status() })
    });
    let mut statuses = Vec::new();
    for t in tries {
        statuses.push(t.await.unwrap());
    }
    let checked = statuses.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count();
    let throttled = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!((checked, throttled), (5, 15), "{statuses:?}");
    assert_eq!(count(&app, "select count(*) from login_failure").await, 5);
    // The right password is refused too until the window passes: it is the same email.
    let right = app.browser().log_in("ada@example.com", PASSWORD, None).await;
    assert_eq!(right.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(error_of(right).await["Throttled"].as_u64().unwrap() <= 60);
}

#[tokio::test]
async fn a_right_password_leaves_no_failure_behind() {
    let app = TestApp::spawn().await;
    let ada = app.owner("Acme", "ada@example.com").await;
    ada.log_out().await;
    assert_eq!(ada.log_in("ada@example.com", PASSWORD, None).await.status(), StatusCode::OK);
    assert_eq!(count(&app, "select count(*) from login_failure").await, 0);
}

#[tokio::test]
async fn extreme_dates_answer_with_a_message_never_a_500() {
    let app = TestApp::spawn().await;
    let ada = app.owner("Acme", "ada@example.com").await;
    for path in [
        "/?view=month&at=9999-12-01",
        "/?view=month&at=2199-12-01",
        "/?view=week&at=0001-01-01",
        "/?day=+275760-09-13",
        "/audit?from=9999-12-31&until=9999-12-31",
        "/analytics?from=0001-01-01&until=9999-12-31",
    ] {
        let response = ada.get(path).await;
        assert!(response.status().is_success(), "{path}: {}", response.status());
    }
    let page = ada.page("/?view=month&at=9999-12-01").await;
    assert!(page.contains("Give a date between 1970 and 2199"), "the page says what to type");
    // The month 2199-12 renders; its Next link (2200-01) answers with a message, not a crash.
    assert!(ada.page("/?view=month&at=2200-01-01").await.contains("Give a date between 1970 and 2199"));

    let token = ada.call("api_tokens/create", &[("name", "t"), ("role", "editor")]).await.json::<Value>().await.unwrap()["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let api = reqwest::Client::new();
    for query in ["from=0001-01-01T00:00:00Z&until=9999-12-31T00:00:00Z", "from=1970-01-01T00:00:00Z", "until=2300-01-01T00:00:00Z"] {
        let response = api.get(format!("{}/api/v1/analytics?{query}", app.base)).bearer_auth(&token).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{query}");
    }
    let far = api
        .post(format!("{}/api/v1/posts", app.base))
        .bearer_auth(&token)
        .json(&serde_json::json!({"text": "hello", "account_ids": [], "scheduled_at": "9999-01-01T00:00:00Z"}))
        .send()
        .await
        .unwrap();
    assert_eq!(far.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_removed_admins_token_answers_401_and_a_viewer_cannot_verify() {
    let app = TestApp::spawn().await;
    let ada = app.owner("Acme", "ada@example.com").await;
    async fn invite(app: &TestApp, ada: &support::Browser, email: &str, role: &str) -> support::Browser {
        let created: Value = ada.call("create_invite", &[("email", email), ("role", role)]).await.json().await.unwrap();
        let token = created["url"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
        let joiner = app.browser();
        assert_eq!(joiner.call("accept_invite", &[("token", &token), ("password", PASSWORD)]).await.status(), StatusCode::OK);
        joiner
    }
    let admin = invite(&app, &ada, "bob@example.com", "admin").await;
    let token: Value = admin.call("api_tokens/create", &[("name", "bob's script"), ("role", "admin")]).await.json().await.unwrap();
    let secret = token["secret"].as_str().unwrap().to_owned();
    let api = reqwest::Client::new();
    let url = format!("{}/api/v1/posts", app.base);
    let list = |secret: String| {
        let (api, url) = (api.clone(), url.clone());
        async move { api.get(url).bearer_auth(secret).send().await.unwrap().status() }
    };
    assert_eq!(list(secret.clone()).await, StatusCode::OK);
    let bob_id: String =
        sqlx::query_scalar("select user_id::text from app_user where email = 'bob@example.com'").fetch_one(&app.pool).await.unwrap();
    assert_eq!(ada.call("remove_member", &[("user_id", &bob_id)]).await.status(), StatusCode::OK);
    assert_eq!(list(secret).await, StatusCode::UNAUTHORIZED, "the token left with its maker");

    let viewer = invite(&app, &ada, "val@example.com", "viewer").await;
    let account = sqlx::query_scalar::<_, String>("select gen_random_uuid()::text").fetch_one(&app.pool).await.unwrap();
    let verify = viewer.call("accounts/verify", &[("account_id", &account)]).await;
    assert_eq!(verify.status(), StatusCode::FORBIDDEN, "Verify needs an editor");
    assert!(!viewer.page("/accounts").await.contains(">Verify<"), "and the page offers no Verify button to a viewer");
}

#[tokio::test]
async fn the_sandbox_ledger_answers_only_to_its_token() {
    let app = TestApp::spawn().await;
    let ada = app.owner("Acme", "ada@example.com").await;
    let ledger = format!("{}/sandbox/control/ledger", app.base);
    assert_eq!(ada.client.get(&ledger).send().await.unwrap().status(), StatusCode::NOT_FOUND, "a member's cookie is not enough");
    let wrong = reqwest::Client::new().get(&ledger).bearer_auth("not-the-control-token").send().await.unwrap();
    assert_eq!(wrong.status(), StatusCode::NOT_FOUND);
    let operator = reqwest::Client::new().get(&ledger).bearer_auth(support::SANDBOX_CONTROL_TOKEN).send().await.unwrap();
    assert_eq!(operator.status(), StatusCode::OK);
}

#[tokio::test]
async fn invite_only_instances_say_so_and_take_no_team() {
    use crier::config::{WebArgs, WebConfig};
    let web = WebConfig::parse(&WebArgs { addr: "127.0.0.1:0".into(), signup: Some("invite-only".into()), ..WebArgs::default() }).unwrap();
    let app = TestApp::spawn_configured(web).await;
    let visitor = app.browser();
    assert!(visitor.page("/signup").await.contains("Sign-up is by invitation"));
    let refused = visitor.sign_up("Acme", "ada@example.com", PASSWORD).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert!(error_of(refused).await["Refused"].as_str().unwrap().contains("invitation"));
    assert_eq!(count(&app, "select count(*) from team").await, 0);
}

#[tokio::test]
async fn without_the_sandbox_only_the_first_team_may_sign_up() {
    use crier::config::{WebArgs, WebConfig};
    let mut args = WebArgs { addr: "127.0.0.1:0".into(), ..WebArgs::default() };
    args.platforms.sandbox = Some("0".into());
    let app = TestApp::spawn_configured(WebConfig::parse(&args).unwrap()).await;
    assert_eq!(app.browser().sign_up("First", "first@example.com", PASSWORD).await.status(), StatusCode::OK);
    assert_eq!(app.browser().sign_up("Second", "second@example.com", PASSWORD).await.status(), StatusCode::CONFLICT);
    assert!(app.browser().page("/signup").await.contains("Sign-up is by invitation"));
}

#[tokio::test]
async fn sign_ups_from_one_address_are_limited() {
    use crier::config::{WebArgs, WebConfig};
    let web =
        WebConfig::parse(&WebArgs { addr: "127.0.0.1:0".into(), signup_rate_limit: Some("2/1h".into()), ..WebArgs::default() }).unwrap();
    let app = TestApp::spawn_configured(web).await;
    for n in 0..2 {
        assert_eq!(app.browser().sign_up(&format!("Team {n}"), &format!("p{n}@example.com"), PASSWORD).await.status(), StatusCode::OK);
    }
    let third = app.browser().sign_up("Team 3", "p3@example.com", PASSWORD).await;
    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_taken_team_name_is_refused_before_any_hashing_and_invites_check_the_team_only() {
    let app = TestApp::spawn().await;
    let ada = app.owner("Acme", "ada@example.com").await;
    let taken = app.browser().sign_up("acme", "other@example.com", PASSWORD).await;
    assert!(field_errors(&error_of(taken).await).contains_key("team_name"));
    // An address with an account in another team can be invited: nothing tells Acme it exists.
    app.owner("Globex", "gil@example.com").await;
    let invited = ada.call("create_invite", &[("email", "gil@example.com"), ("role", "editor")]).await;
    assert_eq!(invited.status(), StatusCode::OK);
    let own = ada.call("create_invite", &[("email", "ada@example.com"), ("role", "editor")]).await;
    assert!(field_errors(&error_of(own).await)["email"].contains("already a member of your team"));
}

#[tokio::test]
async fn the_same_compose_form_sent_twice_at_once_makes_one_post() {
    let app = TestApp::spawn().await;
    let ada = app.owner("Acme", "ada@example.com").await;
    let account = support::connect_x_account(&app, &ada).await;
    let form = [
        ("text", "Sent twice, posted once"),
        ("accounts[]", account.as_str()),
        ("intent", "schedule"),
        ("scheduled_at", "2199-06-01T09:00"),
        ("form_key", "0123456789abcdef0123456789abcdef"),
    ];
    let (first, second) = tokio::join!(ada.call("posts/create", &form), ada.call("posts/create", &form));
    assert_eq!((first.status(), second.status()), (StatusCode::OK, StatusCode::OK));
    let (first, second): (Value, Value) = (first.json().await.unwrap(), second.json().await.unwrap());
    assert_eq!(first["post_id"], second["post_id"], "the second answer is the first's post");
    assert_eq!(count(&app, "select count(*) from post").await, 1);

    // A token form sent twice makes one token; the second says where it is.
    let token_form = [("name", "ci"), ("role", "editor"), ("form_key", "fedcba9876543210fedcba9876543210")];
    assert_eq!(ada.call("api_tokens/create", &token_form).await.status(), StatusCode::OK);
    let again = ada.call("api_tokens/create", &token_form).await;
    assert!(error_of(again).await["Refused"].as_str().unwrap().contains("already sent"));
    assert_eq!(count(&app, "select count(*) from api_token").await, 1);

    // A refused form gives its key back: corrected, it goes through.
    let key = [("form_key", "aaaabbbbccccddddaaaabbbbccccdddd")];
    let refused = ada
        .call(
            "posts/create",
            &[&form[..4], &key[..]].concat().iter().map(|(k, v)| if *k == "text" { (*k, "") } else { (*k, *v) }).collect::<Vec<_>>(),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let corrected = ada.call("posts/create", &[&form[..4], &key[..]].concat()).await;
    assert_eq!(corrected.status(), StatusCode::OK);
    assert_eq!(count(&app, "select count(*) from post").await, 2);
}
