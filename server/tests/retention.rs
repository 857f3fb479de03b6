//! Settings → Data retention: everyone sees it, owners and admins change it, a bad number is
//! refused with the field to fix and changes nothing.

mod support;

use reqwest::StatusCode;
use support::TestApp;

#[tokio::test]
async fn owners_set_the_teams_retention_within_the_floors_and_editors_only_read_it() {
    let app = TestApp::spawn().await;
    let owner = app.owner("Acme", "owner@acme.test").await;
    let page = owner.page("/settings").await;
    assert!(page.contains("Attempts of finished posts are kept 180 days, the audit trail 2 years"), "{page}");
    assert!(page.contains(r#"name="attempt_days""#) && page.contains(r#"min="30""#), "the form, with its floor: {page}");

    let saved = owner.call("settings/set_retention", &[("attempt_days", "60"), ("audit_days", "365")]).await;
    assert_eq!(saved.status(), StatusCode::OK);
    assert!(owner.page("/settings").await.contains("Attempts of finished posts are kept 60 days, the audit trail 1 year"));
    let recorded: serde_json::Value =
        sqlx::query_scalar("select metadata from audit_event where action = 'retention_changed'").fetch_one(&app.pool).await.unwrap();
    assert_eq!(recorded, serde_json::json!({ "attempt_days": 60, "audit_days": 365 }));

    // Under the floor: refused, the field named, nothing changed.
    let refused = owner.call("settings/set_retention", &[("attempt_days", "60"), ("audit_days", "30")]).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let said = refused.text().await.unwrap();
    assert!(said.contains("audit_days") && said.contains("from 90 to 3650"), "{said}");
    assert!(owner.page("/settings").await.contains("kept 60 days, the audit trail 1 year"));

    let editor = app.member(&owner, "ed@acme.test", "editor").await;
    assert_eq!(
        editor.call("settings/set_retention", &[("attempt_days", "30"), ("audit_days", "90")]).await.status(),
        StatusCode::FORBIDDEN
    );
    let theirs = editor.page("/settings").await;
    assert!(theirs.contains("kept 60 days, the audit trail 1 year"), "{theirs}");
    assert!(!theirs.contains(r#"name="attempt_days""#), "no form for an editor");

    // Another team keeps the defaults.
    let rival = app.owner("Rival", "owner@rival.test").await;
    assert!(rival.page("/settings").await.contains("kept 180 days, the audit trail 2 years"));
}
