//! Invites, roles and team isolation, over real HTTP.

mod support;

use reqwest::StatusCode;
use support::{Browser, PASSWORD, TestApp, error_of, location};

async fn invite(owner: &Browser, email: &str, role: &str) -> String {
    let response = owner.call("create_invite", &[("email", email), ("role", role)]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let created: serde_json::Value = response.json().await.unwrap();
    created["url"].as_str().unwrap().to_owned()
}

async fn join(app: &TestApp, url: &str) -> Browser {
    let token = url.rsplit('/').next().unwrap();
    let browser = app.browser();
    let response = browser.call("accept_invite", &[("token", token), ("password", PASSWORD)]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(location(&response).as_deref(), Some("/"));
    browser
}

async fn members(browser: &Browser) -> serde_json::Value {
    browser.call("members", &[]).await.json().await.unwrap()
}

fn user_id_of(view: &serde_json::Value, email: &str) -> String {
    view["members"].as_array().unwrap().iter().find(|m| m["email"] == email).unwrap()["user_id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_invite_link_lets_a_person_join_once() {
    let app = TestApp::spawn().await;
    let owner = app.owner("Acme", "ada@example.com").await;
    let url = invite(&owner, "Bob@Example.com", "editor").await;
    assert!(url.starts_with(&format!("{}/invite/crier_inv_", app.base)), "{url}");

    let stranger = app.browser();
    let page = stranger.page(&url.replace(&app.base, "")).await;
    assert!(page.contains("Join Acme"), "the invite page needs no session: {page}");
    assert!(page.contains("bob@example.com"));

    let bob = join(&app, &url).await;
    let dashboard = bob.page("/").await;
    assert!(dashboard.contains("Acme") && dashboard.contains("bob@example.com"));

    let again =
        error_of(app.browser().call("accept_invite", &[("token", url.rsplit('/').next().unwrap()), ("password", PASSWORD)]).await).await;
    assert!(again["Refused"].as_str().unwrap().contains("no longer valid"));
    let used_page = app.browser().page(&url.replace(&app.base, "")).await;
    assert!(used_page.contains("Invite not valid"), "{used_page}");

    let listed = members(&owner).await;
    let roles: Vec<(String, String)> = listed["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["email"].as_str().unwrap().to_owned(), m["role"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(roles, vec![("ada@example.com".into(), "owner".into()), ("bob@example.com".into(), "editor".into())]);
    let html = owner.page("/settings/members").await;
    assert!(html.contains("bob@example.com") && html.contains("Create invite"));
}

#[tokio::test]
async fn roles_limit_what_members_can_change() {
    let app = TestApp::spawn().await;
    let owner = app.owner("Acme", "ada@example.com").await;
    let viewer = join(&app, &invite(&owner, "viewer@example.com", "viewer").await).await;
    let editor = join(&app, &invite(&owner, "editor@example.com", "editor").await).await;
    let admin = join(&app, &invite(&owner, "admin@example.com", "admin").await).await;
    let view = members(&owner).await;
    let owner_id = user_id_of(&view, "ada@example.com");
    let viewer_id = user_id_of(&view, "viewer@example.com");

    for (who, name) in [(&viewer, "viewer"), (&editor, "editor")] {
        assert_eq!(
            error_of(who.call("create_invite", &[("email", "x@example.com"), ("role", "viewer")]).await).await,
            "Forbidden",
            "{name}"
        );
        assert_eq!(error_of(who.call("remove_member", &[("user_id", &viewer_id)]).await).await, "Forbidden", "{name}");
        assert_eq!(error_of(who.call("change_role", &[("user_id", &viewer_id), ("role", "admin")]).await).await, "Forbidden", "{name}");
        assert_eq!(members(who).await["can_manage"], false);
        assert!(!who.page("/settings/members").await.contains("Create invite"), "{name} sees no invite form");
    }
    assert_eq!(
        error_of(admin.call("change_role", &[("user_id", &viewer_id), ("role", "owner")]).await).await,
        "Forbidden",
        "only owners grant ownership"
    );
    assert_eq!(admin.call("change_role", &[("user_id", &viewer_id), ("role", "editor")]).await.status(), StatusCode::OK);

    let last_owner = error_of(owner.call("change_role", &[("user_id", &owner_id), ("role", "admin")]).await).await;
    assert!(last_owner["Refused"].as_str().unwrap().contains("at least one owner"));
    let last_owner = error_of(owner.call("remove_member", &[("user_id", &owner_id)]).await).await;
    assert!(last_owner["Refused"].as_str().unwrap().contains("at least one owner"));

    assert_eq!(owner.call("remove_member", &[("user_id", &viewer_id)]).await.status(), StatusCode::OK);
    assert_eq!(viewer.get("/").await.status(), StatusCode::SEE_OTHER, "a removed member is signed out at once");
}

#[tokio::test]
async fn another_teams_members_and_invites_are_unreachable() {
    let app = TestApp::spawn().await;
    let acme = app.owner("Acme", "ada@example.com").await;
    let globex = app.owner("Globex", "hank@example.com").await;
    invite(&globex, "secret-hire@example.com", "editor").await;
    let globex_view = members(&globex).await;
    let hank_id = user_id_of(&globex_view, "hank@example.com");
    let invite_id = globex_view["invites"][0]["invite_id"].as_str().unwrap().to_owned();

    assert_eq!(error_of(acme.call("change_role", &[("user_id", &hank_id), ("role", "viewer")]).await).await, "NotFound");
    assert_eq!(error_of(acme.call("remove_member", &[("user_id", &hank_id)]).await).await, "NotFound");
    assert_eq!(error_of(acme.call("revoke_invite", &[("invite_id", &invite_id)]).await).await, "NotFound");
    assert_eq!(error_of(acme.call("remove_member", &[("user_id", "not-a-uuid")]).await).await, "NotFound");

    let acme_view = members(&acme).await.to_string();
    assert!(!acme_view.contains("hank@example.com") && !acme_view.contains("secret-hire@example.com"));
    let acme_page = acme.page("/settings/members").await;
    assert!(!acme_page.contains("hank@example.com") && !acme_page.contains("secret-hire"));
    assert_eq!(members(&globex).await["members"][0]["role"], "owner", "Globex is untouched");
}

#[tokio::test]
async fn an_invite_created_without_script_still_shows_its_link_once() {
    let app = TestApp::spawn().await;
    let owner = app.owner("Acme", "ada@example.com").await;
    let response = owner.post_plain("create_invite", &[("email", "bob@example.com"), ("role", "viewer")], "/settings/members").await;
    assert!(response.status().is_redirection());
    let page = owner.page("/settings/members").await;
    let link =
        page.split(r#"id="invite-link" readonly value=""#).nth(1).and_then(|rest| rest.split('"').next()).expect("the link is shown");
    assert!(link.starts_with(&format!("{}/invite/crier_inv_", app.base)), "{link}");
    assert!(!owner.page("/settings/members").await.contains("id=\"invite-link\""), "shown once");
    assert!(app.browser().page(&link.replace(&app.base, "")).await.contains("Join Acme"), "and it works");
}
