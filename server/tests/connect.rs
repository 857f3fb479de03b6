//! Connecting accounts end to end over real HTTP: the app with its sandbox platforms, a browser's
//! cookie jar, the consent forms posted like a person would, the callbacks, the chooser, Verify,
//! Disconnect, cancel, replayed state and cross-team ids.

mod support;

use std::collections::HashMap;

use reqwest::StatusCode;
use serde_json::Value;
use support::{Browser, TestApp, connect, form_of, location};

async fn accounts(browser: &Browser) -> Value {
    let response = browser.call("accounts", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

fn names(view: &Value) -> Vec<String> {
    view["accounts"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap().to_owned()).collect()
}

fn by_name<'a>(view: &'a Value, name: &str) -> &'a Value {
    view["accounts"].as_array().unwrap().iter().find(|a| a["name"] == name).unwrap_or_else(|| panic!("no account {name} in {view}"))
}

#[tokio::test]
async fn connect_x_verify_and_disconnect_through_the_sandbox() {
    let app = TestApp::spawn().await;
    let ada = app.owner("Acme", "ada@example.com").await;

    let page = ada.page("/accounts").await;
    for button in ["Connect X", "Connect LinkedIn", "Connect Facebook"] {
        assert!(page.contains(button), "the page offers {button}");
    }
    assert!(page.contains("Sandbox"), "the sandbox badge is shown");

    assert_eq!(connect(&ada, "x", &[("account", "acme_rockets")], "authorize").await, "/accounts");
    let page = ada.page("/accounts").await;
    assert!(page.contains("Connected X account acme_rockets."), "the outcome is shown once");
    assert!(!ada.page("/accounts").await.contains("Connected X account"), "…and only once");
    let view = accounts(&ada).await;
    let x = by_name(&view, "acme_rockets");
    assert_eq!((x["platform"].as_str(), x["health"].as_str(), x["refreshes"].as_bool()), (Some("x"), Some("connected"), Some(true)));

    // No token in plain text anywhere in the database.
    let dump: Vec<(String,)> = sqlx::query_as("select row_to_json(t)::text from platform_account t").fetch_all(&app.pool).await.unwrap();
    let sealed: Vec<u8> = sqlx::query_scalar("select credentials from platform_account").fetch_one(&app.pool).await.unwrap();
    assert_eq!(dump.len(), 1);
    assert!(sealed.len() > 60 && sealed[0] == 1, "credentials are a sealed vault value");

    // Reconnecting the same X user updates the account instead of adding one.
    connect(&ada, "x", &[("account", "acme_rockets")], "authorize").await;
    assert_eq!(names(&accounts(&ada).await), vec!["acme_rockets"]);

    let id = x["account_id"].as_str().unwrap().to_owned();
    let verified = ada.call("accounts/verify", &[("account_id", &id)]).await;
    assert_eq!(verified.status(), StatusCode::OK);
    let verified: Value = verified.json().await.unwrap();
    assert_eq!(verified["health"], "connected");
    assert!(verified["last_verified_at"].is_string());

    // Another team cannot see, verify or disconnect it.
    let eve = app.owner("Rival", "eve@example.com").await;
    assert!(names(&accounts(&eve).await).is_empty());
    assert_eq!(eve.call("accounts/verify", &[("account_id", &id)]).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(eve.call("accounts/disconnect", &[("account_id", &id)]).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(eve.call("accounts/verify", &[("account_id", "not-a-uuid")]).await.status(), StatusCode::NOT_FOUND);

    let disconnected = ada.call("accounts/disconnect", &[("account_id", &id)]).await;
    assert_eq!(disconnected.status(), StatusCode::OK);
    assert!(names(&accounts(&ada).await).is_empty());
    let (rows, tokens): (i64, i64) =
        sqlx::query_as("select count(*), count(credentials) from platform_account").fetch_one(&app.pool).await.unwrap();
    assert_eq!((rows, tokens), (1, 0), "history kept, tokens deleted");
}

#[tokio::test]
async fn cancel_replay_and_roles_leave_nothing_half_saved() {
    let app = TestApp::spawn().await;
    let ada = app.owner("Acme", "ada@example.com").await;

    assert_eq!(connect(&ada, "x", &[("account", "acme")], "cancel").await, "/accounts");
    let page = ada.page("/accounts").await;
    assert!(
        page.contains("You cancelled on X&#x27;s consent page. Nothing was connected.")
            || page.contains("You cancelled on X's consent page. Nothing was connected."),
        "{page}"
    );
    let count: i64 = sqlx::query_scalar("select count(*) from platform_account").fetch_one(&app.pool).await.unwrap();
    assert_eq!(count, 0);

    // A callback replayed with a used state is refused.
    let start = ada.get("/accounts/connect/x").await;
    let consent_url = location(&start).unwrap();
    let html = ada.client.get(&consent_url).send().await.unwrap().text().await.unwrap();
    let (_, mut fields) = form_of(&html);
    fields.push(("account".into(), "acme".into()));
    fields.push(("action".into(), "authorize".into()));
    let post_to = consent_url.split('?').next().unwrap().to_owned();
    let callback = location(&ada.client.post(&post_to).form(&fields).send().await.unwrap()).unwrap();
    assert_eq!(location(&ada.client.get(&callback).send().await.unwrap()).as_deref(), Some("/accounts"));
    assert!(ada.page("/accounts").await.contains("Connected X account acme."));
    ada.client.get(&callback).send().await.unwrap();
    assert!(ada.page("/accounts").await.contains("That connection attempt is no longer valid"));
    let count: i64 = sqlx::query_scalar("select count(*) from platform_account").fetch_one(&app.pool).await.unwrap();
    assert_eq!(count, 1);

    // A forged state never matches.
    let forged = ada.get("/oauth/x/callback?code=abc&state=forged").await;
    assert_eq!(location(&forged).as_deref(), Some("/accounts"));
    assert!(ada.page("/accounts").await.contains("no longer valid"));

    // Editors see accounts but cannot connect or disconnect.
    let editor_link: Value = ada.call("create_invite", &[("email", "ed@example.com"), ("role", "editor")]).await.json().await.unwrap();
    let token = editor_link["url"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
    let ed = app.browser();
    let joined = ed.call("accept_invite", &[("token", &token), ("password", support::PASSWORD)]).await;
    assert_eq!(joined.status(), StatusCode::OK, "{}", joined.text().await.unwrap());
    let start = ed.get("/accounts/connect/x").await;
    assert_eq!(location(&start).as_deref(), Some("/accounts"));
    assert!(ed.page("/accounts").await.contains("Only owners and admins connect"));
    let id = accounts(&ada).await["accounts"][0]["account_id"].as_str().unwrap().to_owned();
    assert_eq!(ed.call("accounts/disconnect", &[("account_id", &id)]).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(names(&accounts(&ed).await), vec!["acme"]);
}

#[tokio::test]
async fn linkedin_profile_and_organization_and_facebook_pages_are_chosen() {
    let app = TestApp::spawn().await;
    let ada = app.owner("Acme", "ada@example.com").await;

    let next = connect(&ada, "linkedin", &[("account", "ada-lovelace"), ("new_organization", "Acme Rockets")], "authorize").await;
    assert!(next.starts_with("/accounts/choose/"), "LinkedIn goes to the chooser: {next}");
    let connection_id = next.rsplit('/').next().unwrap().to_owned();
    let choices: Value = ada.call("accounts/choices", &[("connection_id", &connection_id)]).await.json().await.unwrap();
    let options: HashMap<String, String> = choices["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["kind"].as_str().unwrap().to_owned(), o["key"].as_str().unwrap().to_owned()))
        .collect();
    assert!(options["profile"].starts_with("urn:li:person:"), "{choices}");
    assert!(options["organization"].starts_with("urn:li:organization:"), "{choices}");
    assert!(ada.page(&next).await.contains("Acme Rockets"), "the chooser renders");
    let chose = ada
        .call(
            "accounts/choose",
            &[("connection_id", &connection_id), ("chosen[0]", &options["profile"]), ("chosen[1]", &options["organization"])],
        )
        .await;
    assert!(chose.status().is_success() || chose.status().is_redirection(), "{}", chose.status());
    let view = accounts(&ada).await;
    assert_eq!(by_name(&view, "Acme Rockets")["kind"], "organization");
    assert_eq!(view["accounts"].as_array().unwrap().len(), 2);
    // The held grant is gone once used.
    assert_eq!(ada.call("accounts/choices", &[("connection_id", &connection_id)]).await.status(), StatusCode::CONFLICT);

    let next = connect(&ada, "facebook", &[("account", "ada.fb"), ("new_page", "Acme Page")], "authorize").await;
    assert!(next.starts_with("/accounts/choose/"), "Facebook goes to the chooser: {next}");
    let connection_id = next.rsplit('/').next().unwrap().to_owned();
    let choices: Value = ada.call("accounts/choices", &[("connection_id", &connection_id)]).await.json().await.unwrap();
    let page = choices["options"].as_array().unwrap().iter().find(|o| o["label"] == "Acme Page").expect("the Page is offered").clone();
    let none = ada.call("accounts/choose", &[("connection_id", &connection_id)]).await;
    assert_eq!(none.status(), StatusCode::UNPROCESSABLE_ENTITY, "choosing nothing is a clear error");
    ada.call("accounts/choose", &[("connection_id", &connection_id), ("chosen[0]", page["key"].as_str().unwrap())]).await;
    let view = accounts(&ada).await;
    let fb = by_name(&view, "Acme Page");
    assert_eq!((fb["platform"].as_str(), fb["kind"].as_str()), (Some("facebook"), Some("page")));

    for account in view["accounts"].as_array().unwrap() {
        let id = account["account_id"].as_str().unwrap();
        let verified = ada.call("accounts/verify", &[("account_id", id)]).await;
        assert_eq!(verified.status(), StatusCode::OK, "verify {}", account["name"]);
        let verified: Value = verified.json().await.unwrap();
        assert_eq!(verified["health"], "connected", "{verified}");
    }
}

#[tokio::test]
async fn with_a_configured_app_connect_goes_to_that_platform_and_the_sandbox_stays_off() {
    use crier::config::{AppArgs, PlatformArgs, WebArgs};
    use crier_platform::Platform;
    use secrecy::SecretString;

    // Stands in for the real X: a sandbox on its own port, reached only through the configured URLs.
    let (platform, fake_x) = crier_sandbox::Sandbox::serve_local(crier_sandbox::SandboxConfig::default()).await.unwrap();
    let mut platforms = PlatformArgs::default();
    platforms.apps[Platform::X] = AppArgs {
        client_id: Some("real-app".into()),
        client_secret: Some(SecretString::from("real-secret".to_owned())),
        authorize_url: Some(format!("{platform}/x/i/oauth2/authorize")),
        token_url: Some(format!("{platform}/x/2/oauth2/token")),
        api_url: Some(format!("{platform}/x")),
    };
    let app = TestApp::spawn_with(WebArgs { addr: "127.0.0.1:0".into(), platforms, ..WebArgs::default() }).await;
    fake_x.register_x_app("real-app", "real-secret", &format!("{}/oauth/x/callback", app.base), "Acme's Crier");
    let ada = app.owner("Acme", "ada@example.com").await;

    let page = ada.page("/accounts").await;
    assert!(!page.contains("sandbox-badge"), "no sandbox badge with a real app configured");
    assert!(page.contains("LinkedIn and Facebook are not set up on this Crier"), "unconfigured platforms say why their button is off");
    assert_eq!(ada.get("/sandbox/control/ledger").await.status(), StatusCode::NOT_FOUND, "the sandbox is not mounted");

    let start = ada.get("/accounts/connect/x").await;
    let consent = location(&start).unwrap();
    assert!(consent.starts_with(&format!("{platform}/x/i/oauth2/authorize?")), "to the configured platform: {consent}");
    assert!(consent.contains("client_id=real-app") && consent.contains("code_challenge_method=S256"), "{consent}");
    let html = ada.client.get(&consent).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Acme&#39;s Crier") || html.contains("Acme's Crier"));
    let (_, mut fields) = form_of(&html);
    fields.push(("account".into(), "acme_real".into()));
    fields.push(("action".into(), "authorize".into()));
    let callback = location(&ada.client.post(consent.split('?').next().unwrap()).form(&fields).send().await.unwrap()).unwrap();
    assert!(callback.starts_with(&format!("{}/oauth/x/callback?", app.base)));
    assert_eq!(location(&ada.client.get(&callback).send().await.unwrap()).as_deref(), Some("/accounts"));
    assert_eq!(names(&accounts(&ada).await), vec!["acme_real"]);

    let linkedin = ada.get("/accounts/connect/linkedin").await;
    assert_eq!(location(&linkedin).as_deref(), Some("/accounts"));
    assert!(ada.page("/accounts").await.contains("CRIER_LINKEDIN_CLIENT_ID"), "the refusal names the setting");
}

#[tokio::test]
async fn x_oauth1_keys_are_checked_then_stored_sealed() {
    let app = TestApp::spawn().await;
    let ada = app.owner("Acme", "ada@example.com").await;
    let registered = ada
        .client
        .post(format!("{}/sandbox/control/x/oauth1-credentials", app.base))
        .bearer_auth(support::SANDBOX_CONTROL_TOKEN)
        .json(&serde_json::json!({
            "consumer_key": "ck-acme-0001", "consumer_secret": "cs-acme-secret-0001",
            "access_token": "at-acme-token-0001", "token_secret": "ts-acme-secret-0001", "username": "acme_keys"
        }))
        .send()
        .await
        .unwrap();
    assert!(registered.status().is_success());
    let keys = |secret: &'static str| {
        [
            ("api_key", "ck-acme-0001"),
            ("api_secret", "cs-acme-secret-0001"),
            ("access_token", "at-acme-token-0001"),
            ("access_token_secret", secret),
        ]
    };

    let blank =
        ada.call("accounts/x-keys", &[("api_key", ""), ("api_secret", ""), ("access_token", " "), ("access_token_secret", "x")]).await;
    assert_eq!(blank.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let fields = support::field_errors(&blank.json().await.unwrap());
    assert_eq!(fields.len(), 3, "every empty key is named: {fields:?}");

    let wrong = ada.call("accounts/x-keys", &keys("not-the-secret")).await;
    assert_eq!(wrong.status(), StatusCode::CONFLICT);
    assert!(wrong.text().await.unwrap().contains("X refused these keys"));
    assert!(names(&accounts(&ada).await).is_empty(), "refused keys store nothing");

    let added = ada.call("accounts/x-keys", &keys("ts-acme-secret-0001")).await;
    assert_eq!(added.status(), StatusCode::OK);
    let view = accounts(&ada).await;
    let account = by_name(&view, "acme_keys");
    assert_eq!((account["oauth1"].as_bool(), account["health"].as_str()), (Some(true), Some("connected")));
    let verified: Value =
        ada.call("accounts/verify", &[("account_id", account["account_id"].as_str().unwrap())]).await.json().await.unwrap();
    assert_eq!(verified["health"], "connected");
    let dump: Vec<(String,)> = sqlx::query_as("select row_to_json(t)::text from platform_account t").fetch_all(&app.pool).await.unwrap();
    for secret in ["cs-acme-secret-0001", "at-acme-token-0001", "ts-acme-secret-0001", "ck-acme-0001"] {
        assert!(!dump[0].0.contains(secret), "{secret} in plain text");
    }
}

#[tokio::test]
async fn verify_refreshes_an_expired_x_token_and_reports_a_revoked_one() {
    let app = TestApp::spawn().await;
    let ada = app.owner("Acme", "ada@example.com").await;
    connect(&ada, "x", &[("account", "acme_refresh")], "authorize").await;
    let id = accounts(&ada).await["accounts"][0]["account_id"].as_str().unwrap().to_owned();
    let sealed = || async {
        sqlx::query_as::<_, (Vec<u8>, chrono::DateTime<chrono::Utc>)>("select credentials, token_expires_at from platform_account")
            .fetch_one(&app.pool)
            .await
            .unwrap()
    };

    // Two hours later (as far as Crier knows): Verify refreshes first, and stores the rotated tokens.
    sqlx::query("update platform_account set token_expires_at = now() - interval '1 minute'").execute(&app.pool).await.unwrap();
    let (before, _) = sealed().await;
    let verified: Value = ada.call("accounts/verify", &[("account_id", &id)]).await.json().await.unwrap();
    assert_eq!(verified["health"], "connected", "{verified}");
    let (after, expires) = sealed().await;
    assert_ne!(before, after, "new tokens were sealed and stored");
    assert!(expires > chrono::Utc::now() + chrono::TimeDelta::minutes(100), "the new access token lives about two hours");

    // The member revokes the app at X: Verify says so and keeps the account for reconnecting.
    let user_id: Value = ada
        .client
        .get(format!("{}/sandbox/control/ledger", app.base))
        .bearer_auth(support::SANDBOX_CONTROL_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(user_id.is_array());
    let external_id: String = sqlx::query_scalar("select external_id from platform_account").fetch_one(&app.pool).await.unwrap();
    let revoked = ada
        .client
        .post(format!("{}/sandbox/control/x/revoke-user", app.base))
        .bearer_auth(support::SANDBOX_CONTROL_TOKEN)
        .json(&serde_json::json!({"user_id": external_id}))
        .send()
        .await
        .unwrap();
    assert!(revoked.status().is_success());
    let verified: Value = ada.call("accounts/verify", &[("account_id", &id)]).await.json().await.unwrap();
    assert_eq!(verified["health"], "needs_reauth", "{verified}");
    assert!(verified["detail"].is_string(), "the platform's words are shown: {verified}");
    let page = ada.page("/accounts").await;
    assert!(page.contains("Needs re-auth"));
}

#[tokio::test]
async fn a_callback_must_come_back_to_the_session_that_started_it() {
    let app = TestApp::spawn().await;
    let ada = app.owner("Acme", "ada@example.com").await;
    // The same person, signed in from a second browser.
    let other = app.browser();
    assert_eq!(other.log_in("ada@example.com", support::PASSWORD, None).await.status(), StatusCode::OK);

    let consent_url = location(&ada.get("/accounts/connect/x").await).unwrap();
    let html = ada.client.get(&consent_url).send().await.unwrap().text().await.unwrap();
    let (_, mut fields) = form_of(&html);
    fields.push(("account".into(), "acme".into()));
    fields.push(("action".into(), "authorize".into()));
    let callback = location(&ada.client.post(consent_url.split('?').next().unwrap()).form(&fields).send().await.unwrap()).unwrap();

    assert_eq!(location(&other.client.get(&callback).send().await.unwrap()).as_deref(), Some("/accounts"));
    assert!(other.page("/accounts").await.contains("no longer valid"));
    let count: i64 = sqlx::query_scalar("select count(*) from platform_account").fetch_one(&app.pool).await.unwrap();
    assert_eq!(count, 0, "nothing connected from the other session");
    // …and the attempt is burnt for the session that started it, too.
    ada.client.get(&callback).send().await.unwrap();
    assert!(ada.page("/accounts").await.contains("no longer valid"));
}

#[tokio::test]
async fn the_audit_page_lists_account_and_member_actions_for_the_team_only() {
    let app = TestApp::spawn().await;
    let ada = app.owner("Acme", "ada@example.com").await;
    connect(&ada, "x", &[("account", "acme_audit")], "authorize").await;
    let id = accounts(&ada).await["accounts"][0]["account_id"].as_str().unwrap().to_owned();
    ada.call("accounts/disconnect", &[("account_id", &id)]).await;
    ada.call("create_invite", &[("email", "ed@example.com"), ("role", "editor")]).await;

    let page: Value = ada.call("audit", &[]).await.json().await.unwrap();
    assert_eq!((&page["older"], &page["newer"]), (&Value::Null, &Value::Null), "one page holds it all");
    let rows = &page["rows"];
    let actions: Vec<&str> = rows.as_array().unwrap().iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert_eq!(actions, vec!["member_invited", "account_disconnected", "account_connected"], "{rows}");
    assert_eq!(rows[1]["actor"], "ada@example.com");
    assert_eq!(rows[1]["entity_id"], id.as_str());
    assert!(rows[1]["details"].as_str().unwrap().contains("\"platform\":\"x\""));

    let filtered: Value = ada.call("audit", &[("entity", "account"), ("action", "account_connected")]).await.json().await.unwrap();
    assert_eq!(filtered["rows"].as_array().unwrap().len(), 1);
    let bad = ada.call("audit", &[("from", "21/11/2026")]).await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(support::field_errors(&bad.json().await.unwrap())["from"].contains("YYYY-MM-DD"));

    let page = ada.page("/audit?entity=account").await;
    assert!(page.contains("account_disconnected") && !page.contains("member_invited"), "the page filters by its query");

    let eve = app.owner("Rival", "eve@example.com").await;
    let theirs: Value = eve.call("audit", &[]).await.json().await.unwrap();
    assert_eq!(theirs["rows"], serde_json::json!([]), "another team sees none of Acme's events");
    assert!(eve.log_out().await.status().is_success());
    assert_eq!(eve.log_in("eve@example.com", support::PASSWORD, None).await.status(), StatusCode::OK);
    let theirs: Value = eve.call("audit", &[]).await.json().await.unwrap();
    let theirs = &theirs["rows"];
    assert_eq!(theirs.as_array().unwrap().len(), 1, "only Eve's own login: {theirs}");
    assert_eq!((theirs[0]["action"].as_str(), theirs[0]["actor"].as_str()), (Some("login_succeeded"), Some("eve@example.com")));
}

#[tokio::test]
async fn the_audit_page_pages_through_every_event_keeping_its_filters() {
    let app = TestApp::spawn().await;
    let ada = app.owner("Acme", "ada@example.com").await;
    let team_id: uuid::Uuid = sqlx::query_scalar("select team_id from team where name = 'Acme'").fetch_one(&app.pool).await.unwrap();
    // 250 events of one action (and some others) through the audit trail's own writer.
    for n in 0..250 {
        crier_domain::store::audit::record(
            &app.pool,
            team_id,
            crier_domain::store::audit::Actor::System,
            "test_event",
            "post",
            Some(&format!("e{n:03}")),
            serde_json::json!({ "n": n }),
        )
        .await
        .unwrap();
    }
    let shown = |html: &str| -> Vec<String> { html.match_indices("post e").map(|(i, _)| html[i + 5..i + 9].to_owned()).collect() };
    let href = |html: &str, rel: &str| -> Option<String> {
        let at = html.find(&format!(r#"rel="{rel}""#))?;
        let start = html[..at].rfind("href=\"")? + 6;
        Some(html[start..html[start..].find('"')? + start].replace("&amp;", "&"))
    };

    let first = ada.page("/audit?action=test_event").await;
    let newest: Vec<String> = (150..250).rev().map(|n| format!("e{n:03}")).collect();
    assert_eq!(shown(&first), newest, "the newest 100, newest first");
    assert!(href(&first, "prev").is_none(), "the newest page has no newer one");
    let older = href(&first, "next").expect("an Older link");
    assert!(older.starts_with("/audit?action=test_event&before="), "the filter is kept: {older}");

    let second = ada.page(&older).await;
    assert_eq!(shown(&second), (50..150).rev().map(|n| format!("e{n:03}")).collect::<Vec<_>>());
    let third = ada.page(&href(&second, "next").expect("an Older link")).await;
    assert_eq!(shown(&third), (0..50).rev().map(|n| format!("e{n:03}")).collect::<Vec<_>>(), "down to the first event");
    assert!(href(&third, "next").is_none(), "nothing older than the first");

    // Back up: Newer from the last page shows the one before it.
    let back = ada.page(&href(&third, "prev").expect("a Newer link")).await;
    assert_eq!(shown(&back), shown(&second));
    let top = ada.page(&href(&back, "prev").expect("a Newer link")).await;
    assert_eq!(shown(&top), newest);
    assert!(href(&top, "prev").is_none(), "back at the newest");

    let bad = ada.page("/audit?before=yesterday").await;
    assert!(bad.contains("This page link is not valid"), "a broken page link says so");
    // Another team's cursor shows only its own events.
    let eve = app.owner("Rival", "eve@example.com").await;
    assert!(shown(&eve.page(&older).await).is_empty(), "another team sees none of Acme's events");
}

#[tokio::test]
async fn times_are_shown_in_the_persons_timezone_taken_at_sign_up_and_changed_in_settings() {
    let app = TestApp::spawn().await;
    let ada = app.browser();
    let signed_up = ada
        .call(
            "sign_up",
            &[("team_name", "Acme"), ("email", "ada@example.com"), ("password", support::PASSWORD), ("timezone", "Europe/Berlin")],
        )
        .await;
    assert_eq!(signed_up.status(), StatusCode::OK);
    let settings: Value = ada.call("timezone", &[]).await.json().await.unwrap();
    assert_eq!(settings["current"], "Europe/Berlin", "the browser's zone is adopted at sign-up");
    assert!(settings["all"].as_array().unwrap().iter().any(|z| z == "Asia/Tokyo"));

    connect(&ada, "x", &[("account", "acme_tz")], "authorize").await;
    let id = accounts(&ada).await["accounts"][0]["account_id"].as_str().unwrap().to_owned();
    let verified: Value = ada.call("accounts/verify", &[("account_id", &id)]).await.json().await.unwrap();
    let shown = verified["last_verified_at"].as_str().unwrap();
    assert!(shown.ends_with(" CET") || shown.ends_with(" CEST"), "shown in Berlin time: {shown}");

    let bad = ada.call("set_timezone", &[("timezone", "Mars/Olympus")]).await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(support::field_errors(&bad.json().await.unwrap()).contains_key("timezone"));
    assert_eq!(ada.call("set_timezone", &[("timezone", "Asia/Tokyo")]).await.status(), StatusCode::OK);
    let verified: Value = ada.call("accounts/verify", &[("account_id", &id)]).await.json().await.unwrap();
    assert!(verified["last_verified_at"].as_str().unwrap().ends_with(" JST"), "{verified}");
    let audit: Value = ada.call("audit", &[]).await.json().await.unwrap();
    assert!(audit["rows"][0]["shown_at"].as_str().unwrap().ends_with(" JST"));

    // A sign-up before the wasm loaded reports no zone: UTC until the person chooses.
    let bob = app.browser();
    bob.sign_up("Bobs", "bob@example.com", support::PASSWORD).await;
    let settings: Value = bob.call("timezone", &[]).await.json().await.unwrap();
    assert_eq!(settings["current"], "UTC");
}
