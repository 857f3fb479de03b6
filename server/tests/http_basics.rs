//! Security headers, the 404 page and request ids (health and readiness: `observability.rs`).

mod support;

use reqwest::StatusCode;
use support::TestApp;

#[tokio::test]
async fn pages_carry_a_nonce_csp_matching_their_scripts() {
    let app = TestApp::spawn().await;
    let response = app.browser().get("/login").await;
    let headers = response.headers().clone();
    let html = response.text().await.unwrap();
    let csp = headers["content-security-policy"].to_str().unwrap();
    let nonce = csp.split("'nonce-").nth(1).and_then(|rest| rest.split('\'').next()).expect("a nonce in the policy");
    assert!(html.contains(&format!(r#"<script type="module" nonce="{nonce}">"#)), "the hydration script carries it");
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("'wasm-unsafe-eval'") && !csp.contains("unsafe-inline"));
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "same-origin");
    assert!(headers.contains_key("x-request-id"));

    let other = app.browser().get("/login").await.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert_ne!(other, csp, "a fresh nonce per response");
}

#[tokio::test]
async fn non_page_responses_get_a_deny_all_policy() {
    let app = TestApp::spawn().await;
    let response = app.browser().get("/healthz").await;
    assert!(response.headers()["content-security-policy"].to_str().unwrap().starts_with("default-src 'none'"));
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
}

#[tokio::test]
async fn unknown_pages_answer_a_clear_404() {
    let app = TestApp::spawn().await;
    let owner = app.owner("Acme", "ada@example.com").await;
    let response = owner.get("/no/such/page").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let html = response.text().await.unwrap();
    assert!(html.contains("Page not found"));
    assert!(html.contains(r#"href="/""#), "offers a way back");
}

#[tokio::test]
async fn server_errors_never_show_internals() {
    let app = TestApp::spawn().await;
    let owner = app.owner("Acme", "ada@example.com").await;
    // Break the database under the app: the page must say something plain, not the SQL error.
    sqlx::query("alter table invite rename to invite_gone").execute(&app.pool).await.unwrap();
    let response = owner.call("create_invite", &[("email", "bob@example.com"), ("role", "editor")]).await;
    assert!(response.status().is_server_error());
    let body = response.text().await.unwrap();
    assert_eq!(body, r#""Internal""#, "only the error's name crosses the wire");
    let html = owner.page("/settings/members").await;
    assert!(html.contains("Something went wrong on our side"), "the members list says so plainly");
    assert!(!html.contains("invite\" does not exist") && !html.contains("relation"), "no database text");
}

#[tokio::test]
async fn pages_arrive_complete_for_browsers_without_script() {
    let app = TestApp::spawn().await;
    let owner = app.owner("Acme", "ada@example.com").await;
    for path in ["/", "/settings/members", "/compose"] {
        let html = owner.page(path).await;
        assert!(!html.contains("Loading"), "{path} was sent with a loading placeholder instead of its content");
        assert!(html.contains("ada@example.com"), "{path} shows the signed-in frame in the HTML itself");
    }
}

#[tokio::test]
async fn server_function_errors_answer_fitting_statuses() {
    let app = TestApp::spawn().await;
    let owner = app.owner("Acme", "ada@example.com").await;
    let stranger = app.browser();
    let cases = [
        (stranger.log_in("ada@example.com", "wrong password", None).await, StatusCode::UNAUTHORIZED),
        (stranger.sign_up("", "x", "y").await, StatusCode::UNPROCESSABLE_ENTITY),
        (stranger.call("members", &[]).await, StatusCode::UNAUTHORIZED),
        (owner.call("remove_member", &[("user_id", "00000000-0000-0000-0000-000000000000")]).await, StatusCode::NOT_FOUND),
    ];
    for (response, expected) in cases {
        let url = response.url().to_string();
        assert_eq!(response.status(), expected, "{url}");
        assert!(response.headers().contains_key("serverfnerror"), "still a server-function error for the client");
    }
}

/// Building another app (as every test does) while pages render must not stall a render: route
/// generation suppresses resource loading process-wide (see `web::route_list`).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn building_apps_while_pages_render_never_stalls_a_render() {
    let app = TestApp::spawn().await;
    let owner = app.owner("Acme", "ada@example.com").await;
    let renders = async {
        for _ in 0..40 {
            let page = tokio::time::timeout(std::time::Duration::from_secs(20), owner.page("/settings/members")).await;
            assert!(page.expect("a page render stalled").contains("<h1>Members</h1>"));
        }
    };
    let builds = async {
        for _ in 0..6 {
            let _other = TestApp::spawn().await;
        }
    };
    tokio::join!(renders, builds);
}
