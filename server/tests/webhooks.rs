//! Settings → Webhooks over real HTTP: adding endpoints (with and without wasm), the secret shown
//! once and stored sealed, field errors that say what to fix, endpoints on internal addresses
//! refused unless the operator allows their network, roles (and what each sees of a URL), and the
//! test event's limit.

mod support;

use crier::config::{WebArgs, WebConfig};
use crier_outbound::AddressPolicy;
use reqwest::StatusCode;
use serde_json::Value;
use support::{Browser, PASSWORD, TestApp, error_of, field_errors, location};

async fn join_as(app: &TestApp, owner: &Browser, email: &str, role: &str) -> Browser {
    let created: Value = owner.call("create_invite", &[("email", email), ("role", role)]).await.json().await.unwrap();
    let token = created["url"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
    let browser = app.browser();
    assert_eq!(browser.call("accept_invite", &[("token", &token), ("password", PASSWORD)]).await.status(), StatusCode::OK);
    browser
}

/// The first `crier_whsec_…` in a page, if any.
fn secret_in(html: &str) -> Option<String> {
    let start = html.find("crier_whsec_")?;
    Some(html[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-').collect())
}

#[tokio::test]
async fn an_endpoint_is_added_its_secret_shown_once_and_kept_sealed() {
    let app = TestApp::spawn().await;
    let owner = app.owner("Acme", "ada@example.com").await;

    // Both problems at once, each saying what to fix.
    let refused = error_of(owner.call("settings/webhooks/create", &[("url", "http://hooks.example.com/crier")]).await).await;
    let fields = field_errors(&refused);
    assert!(fields["url"].contains("https://"), "{fields:?}");
    assert!(fields["events"].contains("at least one"), "{fields:?}");
    let refused =
        error_of(owner.call("settings/webhooks/create", &[("url", "hooks.example.com"), ("events[]", "delivery.failed")]).await).await;
    assert!(field_errors(&refused)["url"].contains("is not a URL"));

    // With wasm: the answer carries the secret.
    let response = owner
        .call(
            "settings/webhooks/create",
            &[
                ("url", "https://hooks.example.com/crier?token=abc"),
                ("events[]", "delivery.published"),
                ("events[]", "account.needs_reauth"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let created: Value = response.json().await.unwrap();
    let first_secret = created["secret"].as_str().unwrap().to_owned();
    assert!(first_secret.starts_with("crier_whsec_") && first_secret.len() > 40, "{first_secret}");
    let page = owner.page("/settings/webhooks").await;
    assert!(page.contains("https://hooks.example.com/crier?token=abc") && page.contains("delivery.published, account.needs_reauth"));
    assert!(page.contains("Send test event") && page.contains("No calls yet."));
    assert_eq!(secret_in(&page), None, "the list never shows a secret");

    // Without wasm: the browser is sent back to the page, which shows the new secret once.
    let response = owner
        .post_plain(
            "settings/webhooks/create",
            &[("url", "https://other.example.com/hook"), ("events[]", "delivery.failed")],
            "/settings/webhooks",
        )
        .await;
    assert!(response.status().is_redirection(), "{}", response.status());
    assert!(location(&response).is_some_and(|l| l.starts_with(&format!("{}/settings/webhooks", app.base))), "{:?}", location(&response));
    let page = owner.page("/settings/webhooks").await;
    let second_secret = secret_in(&page).expect("the secret is shown after a plain form post");
    assert_ne!(second_secret, first_secret);
    assert!(page.contains("it is not shown again"));
    assert_eq!(secret_in(&owner.page("/settings/webhooks").await), None, "only once");

    // At rest: sealed in the endpoint table, and never in clear text in a session.
    let stored: Vec<Vec<u8>> = sqlx::query_scalar("select secret from webhook_endpoint").fetch_all(&app.pool).await.unwrap();
    assert_eq!(stored.len(), 2);
    for sealed in &stored {
        for secret in [&first_secret, &second_secret] {
            assert!(!sealed.windows(secret.len()).any(|w| w == secret.as_bytes()), "sealed, not stored as typed");
        }
    }
    let sessions: Vec<String> = sqlx::query_scalar("select data::text from web_session").fetch_all(&app.pool).await.unwrap();
    assert!(sessions.iter().all(|s| !s.contains("crier_whsec_")), "the kept secret is sealed too");
    let audited: Vec<Value> = sqlx::query_scalar("select metadata from audit_event where action = 'webhook_created' order by audit_id")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(audited.len(), 2);
    assert_eq!(audited[0]["host"], "hooks.example.com");
    assert!(!audited[0].to_string().contains("token=abc"), "the audit trail names the host only: {}", audited[0]);

    // A refused plain post comes back with what was typed.
    let response = owner.post_plain("settings/webhooks/create", &[("url", "ftp://x.example.com/")], "/settings/webhooks").await;
    assert!(response.status().is_redirection());
    let page = owner.page(&location(&response).unwrap().replace(&app.base, "")).await;
    assert!(page.contains("value=\"ftp://x.example.com/\""), "the URL is refilled");
    assert!(page.contains("Choose at least one event"), "{page}");
}

#[tokio::test]
async fn everyone_sees_the_endpoints_and_only_owners_and_admins_change_them() {
    let app = TestApp::spawn().await;
    let owner = app.owner("Acme", "ada@example.com").await;
    let created: Value = owner
        .call("settings/webhooks/create", &[("url", "https://hooks.example.com/crier"), ("events[]", "delivery.published")])
        .await
        .json()
        .await
        .unwrap();
    assert!(created["secret"].is_string());
    let listed: Value = owner.call("settings/webhooks", &[]).await.json().await.unwrap();
    let endpoint_id = listed["endpoints"][0]["endpoint_id"].as_str().unwrap().to_owned();

    let editor = join_as(&app, &owner, "editor@example.com", "editor").await;
    let page = editor.page("/settings/webhooks").await;
    // Whole only for those who manage endpoints (the path may hold the receiver's token).
    assert!(
        page.contains("https://hooks.example.com/…")
            && !page.contains("hooks.example.com/crier")
            && page.contains("Owners and admins can add")
    );
    assert!(!page.contains("Add endpoint") && !page.contains("Send test event"), "read-only for editors");
    let id = [("endpoint_id", endpoint_id.as_str())];
    assert_eq!(error_of(editor.call("settings/webhooks/test", &id).await).await, "Forbidden");
    assert_eq!(error_of(editor.call("settings/webhooks/delete", &id).await).await, "Forbidden");
    assert_eq!(error_of(editor.call("settings/webhooks/enable", &[id[0], ("enabled", "false")]).await).await, "Forbidden");
    let refused = editor.call("settings/webhooks/create", &[("url", "https://evil.example.com/"), ("events[]", "delivery.failed")]).await;
    assert_eq!(error_of(refused).await, "Forbidden");

    // An admin may: a test event is queued at once and shows in the log.
    let admin = join_as(&app, &owner, "admin@example.com", "admin").await;
    let sent: Value = admin.call("settings/webhooks/test", &id).await.json().await.unwrap();
    assert!(sent.as_str().unwrap().contains("on its way"), "{sent}");
    let listed: Value = admin.call("settings/webhooks", &[]).await.json().await.unwrap();
    let line = &listed["endpoints"][0]["log"][0];
    assert_eq!((line["event"].as_str(), line["outcome"].as_str(), line["state"].as_str()), (Some("ping"), Some("queued"), Some("pending")));
    assert_eq!(listed["busy"], true, "the page looks again while a call is due");

    // Another team's owner finds nothing by that id, or at all.
    let stranger = app.owner("Globex", "gina@globex.test").await;
    let theirs: Value = stranger.call("settings/webhooks", &[]).await.json().await.unwrap();
    assert_eq!(theirs["endpoints"], serde_json::json!([]));
    assert_eq!(error_of(stranger.call("settings/webhooks/test", &id).await).await, "NotFound");
    assert_eq!(error_of(stranger.call("settings/webhooks/delete", &id).await).await, "NotFound");

    // Disabled: no tests; deleting removes it.
    assert_eq!(admin.call("settings/webhooks/enable", &[id[0], ("enabled", "false")]).await.status(), StatusCode::OK);
    assert!(error_of(admin.call("settings/webhooks/test", &id).await).await["Refused"].as_str().unwrap().contains("enable it"));
    assert!(owner.page("/settings/webhooks").await.contains("Disabled"));
    assert_eq!(owner.call("settings/webhooks/delete", &id).await.status(), StatusCode::OK);
    assert_eq!(error_of(owner.call("settings/webhooks/delete", &id).await).await, "NotFound");
}

/// Addresses inside, each with the words its refusal must carry.
const INTERNAL: [(&str, &str); 6] = [
    ("https://127.0.0.1:9/hook", "127.0.0.1 is a loopback address"),
    ("https://10.0.0.1/hook", "10.0.0.1 is a private address"),
    ("https://[::1]/hook", "::1 is a loopback address"),
    ("https://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
    ("https://localhost/hook", "localhost resolves to 127.0.0.1, a loopback address"),
    ("https://[::ffff:10.1.2.3]/hook", "a private address"),
];

#[tokio::test]
async fn endpoints_on_internal_addresses_are_refused_when_added_saying_why_and_what_allows_them() {
    let app = TestApp::spawn().await;
    let owner = app.owner("Acme", "ada@example.com").await;
    for (url, words) in INTERNAL {
        let refused = error_of(owner.call("settings/webhooks/create", &[("url", url), ("events[]", "delivery.failed")]).await).await;
        let fields = field_errors(&refused);
        let message = &fields["url"];
        assert!(message.contains(words), "{url}: {message}");
        assert!(message.contains("CRIER_OUTBOUND_ALLOW_NETWORKS"), "it names the setting that allows it: {message}");
    }
    let stored: i64 = sqlx::query_scalar("select count(*) from webhook_endpoint").fetch_one(&app.pool).await.unwrap();
    assert_eq!(stored, 0, "nothing was added");

    // Without wasm: the page comes back with the reason beside the URL as typed.
    let response = owner
        .post_plain("settings/webhooks/create", &[("url", "https://localhost/hook"), ("events[]", "delivery.failed")], "/settings/webhooks")
        .await;
    assert!(response.status().is_redirection());
    let page = owner.page(&location(&response).unwrap().replace(&app.base, "")).await;
    assert!(page.contains("value=\"https://localhost/hook\""), "the URL is refilled");
    assert!(page.contains("localhost resolves to 127.0.0.1, a loopback address"), "{page}");
}

#[tokio::test]
async fn with_the_operators_opt_in_internal_endpoints_are_accepted() {
    let mut web = WebConfig::parse(&WebArgs { addr: "127.0.0.1:0".into(), ..WebArgs::default() }).unwrap();
    web.outbound = AddressPolicy::parse("127.0.0.0/8,::1/128,10.0.0.0/8,169.254.169.254/32").unwrap();
    let app = TestApp::spawn_configured(web).await;
    let owner = app.owner("Acme", "ada@example.com").await;
    for (url, _) in INTERNAL {
        let response = owner.call("settings/webhooks/create", &[("url", url), ("events[]", "delivery.failed")]).await;
        assert_eq!(response.status(), StatusCode::OK, "{url}: {}", response.text().await.unwrap());
    }
    let stored: i64 = sqlx::query_scalar("select count(*) from webhook_endpoint").fetch_one(&app.pool).await.unwrap();
    assert_eq!(stored, INTERNAL.len() as i64);
    // Only what was allowed: another private range is still refused.
    let refused =
        error_of(owner.call("settings/webhooks/create", &[("url", "https://192.168.1.1/hook"), ("events[]", "delivery.failed")]).await)
            .await;
    assert!(field_errors(&refused)["url"].contains("192.168.1.1 is a private address"));
}

#[tokio::test]
async fn viewers_see_endpoint_urls_without_their_path_and_query_and_owners_and_admins_see_them_whole() {
    let app = TestApp::spawn().await;
    let owner = app.owner("Acme", "ada@example.com").await;
    let url = "https://hooks.example.com:8443/crier/in?token=abc";
    assert_eq!(owner.call("settings/webhooks/create", &[("url", url), ("events[]", "delivery.failed")]).await.status(), StatusCode::OK);

    let viewer = join_as(&app, &owner, "viewer@example.com", "viewer").await;
    let listed: Value = viewer.call("settings/webhooks", &[]).await.json().await.unwrap();
    assert_eq!(listed["endpoints"][0]["url"], "https://hooks.example.com:8443/…");
    let page = viewer.page("/settings/webhooks").await;
    assert!(page.contains("https://hooks.example.com:8443/…"), "{page}");
    assert!(!page.contains("token=abc") && !page.contains("/crier/in"), "neither path nor query");

    let admin = join_as(&app, &owner, "admin@example.com", "admin").await;
    for manager in [&owner, &admin] {
        let listed: Value = manager.call("settings/webhooks", &[]).await.json().await.unwrap();
        assert_eq!(listed["endpoints"][0]["url"], url);
        assert!(manager.page("/settings/webhooks").await.contains("token=abc"));
    }
}

#[tokio::test]
async fn a_test_event_is_sent_once_a_minute_per_endpoint_at_most() {
    let app = TestApp::spawn().await;
    let owner = app.owner("Acme", "ada@example.com").await;
    for url in ["https://hooks.example.com/a", "https://hooks.example.com/b"] {
        assert_eq!(owner.call("settings/webhooks/create", &[("url", url), ("events[]", "delivery.failed")]).await.status(), StatusCode::OK);
    }
    let listed: Value = owner.call("settings/webhooks", &[]).await.json().await.unwrap();
    let ids: Vec<String> = listed["endpoints"].as_array().unwrap().iter().map(|e| e["endpoint_id"].as_str().unwrap().to_owned()).collect();
    let first = [("endpoint_id", ids[0].as_str())];

    assert_eq!(owner.call("settings/webhooks/test", &first).await.status(), StatusCode::OK);
    let refused = error_of(owner.call("settings/webhooks/test", &first).await).await;
    let message = refused["Refused"].as_str().unwrap_or_else(|| panic!("{refused}"));
    assert!(message.contains("less than a minute ago") && message.contains("try again in"), "{message}");
    // Per endpoint, whoever asks: another admin is refused too; the other endpoint is not.
    let admin = join_as(&app, &owner, "admin@example.com", "admin").await;
    assert!(error_of(admin.call("settings/webhooks/test", &first).await).await["Refused"].is_string());
    assert_eq!(owner.call("settings/webhooks/test", &[("endpoint_id", ids[1].as_str())]).await.status(), StatusCode::OK);

    // Without wasm the page says so.
    let response = owner.post_plain("settings/webhooks/test", &first, "/settings/webhooks").await;
    assert!(response.status().is_redirection());
    let page = owner.page(&location(&response).unwrap().replace(&app.base, "")).await;
    assert!(page.contains("less than a minute ago"), "{page}");

    // Counted in the database (so every web process agrees): a minute later it may go again.
    let calls = || async {
        sqlx::query_scalar::<_, i64>("select count(*) from webhook_call where endpoint_id = $1::uuid")
            .bind(&ids[0])
            .fetch_one(&app.pool)
            .await
            .unwrap()
    };
    assert_eq!(calls().await, 1, "one test call queued, whatever was asked");
    sqlx::query("update webhook_endpoint set test_sent_at = test_sent_at - interval '61 seconds' where endpoint_id = $1::uuid")
        .bind(&ids[0])
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(owner.call("settings/webhooks/test", &first).await.status(), StatusCode::OK);
    assert_eq!(calls().await, 2);
}
