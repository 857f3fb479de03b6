//! The delivery state machine and the audit trail, enforced by the database.

mod support;

use crier_domain::account::AccountKind;
use crier_domain::delivery::DeliveryState;
use crier_domain::store::accounts::{self, Credentials, NewAccount};
use crier_domain::store::audit::{self, Actor, AuditFilter};
use crier_domain::store::vault_keys;
use crier_platform::Platform;
use crier_vault::{Vault, VaultKey};
use serde_json::json;
use sqlx::PgPool;
use support::{pool, secret, team};
use uuid::Uuid;

async fn account(pool: &PgPool, team_id: Uuid) -> Uuid {
    let key = [8u8; 32];
    let id = vault_keys::key_ids(pool, &[vault_keys::fingerprint(&key)]).await.unwrap()[0];
    let vault = Vault::new(VaultKey::new(id, key).unwrap());
    let new = NewAccount {
        platform: Platform::X,
        kind: AccountKind::Profile,
        external_id: "42".into(),
        name: "Acme".into(),
        handle: None,
        authorized_by: "42".into(),
        credentials: Credentials::OAuth2 { access_token: secret("t"), refresh_token: None },
        token_expires_at: None,
        refresh_expires_at: None,
        scopes: vec![],
    };
    accounts::connect(pool, &vault, team_id, None, new).await.unwrap().account_id
}

/// A new scheduled delivery (due now).
async fn insert_delivery(pool: &PgPool, team_id: Uuid, post_id: Uuid, account_id: Uuid) -> Uuid {
    sqlx::query_scalar(
        "insert into delivery (team_id, post_id, account_id, next_attempt_at) values ($1, $2, $3, now()) returning delivery_id",
    )
    .bind(team_id)
    .bind(post_id)
    .bind(account_id)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// The columns a delivery in `state` must have to satisfy the table's CHECK constraints.
fn columns(state: DeliveryState) -> &'static str {
    match state {
        DeliveryState::Published => "external_id = '1', published_at = now(), claimed_by = null, claimed_at = null",
        DeliveryState::Publishing => "external_id = null, published_at = null, claimed_by = 'worker-1', claimed_at = now()",
        _ => "external_id = null, published_at = null, claimed_by = null, claimed_at = null",
    }
}

/// The statement that moves a delivery to `state` (text built only from our own enum).
fn set_state(state: DeliveryState) -> sqlx::AssertSqlSafe<String> {
    let name = serde_json::to_value(state).unwrap().as_str().unwrap().to_owned();
    sqlx::AssertSqlSafe(format!("update delivery set state = '{name}', {} where delivery_id = $1", columns(state)))
}

#[tokio::test]
async fn the_database_allows_exactly_the_transitions_the_state_machine_draws() {
    let pool = pool().await;
    let owner = team(&pool, "Acme", "ada@example.com").await;
    let account_id = account(&pool, owner.team_id).await;
    let post_id: Uuid = sqlx::query_scalar(
        "insert into post (team_id, author_id, text, scheduled_at, schedule_timezone) values ($1, $2, 'hello', now(), 'Europe/Berlin') returning post_id",
    )
    .bind(owner.team_id)
    .bind(owner.user_id)
    .fetch_one(&pool)
    .await
    .unwrap();

    let mut checked = 0;
    for from in DeliveryState::ALL {
        for to in DeliveryState::ALL.into_iter().filter(|to| *to != from) {
            let delivery_id = insert_delivery(&pool, owner.team_id, post_id, account_id).await;
            // Put it in `from` without the guard's say (a test fixture, not a transition).
            sqlx::query("alter table delivery disable trigger delivery_transition_guard").execute(&pool).await.unwrap();
            sqlx::query(set_state(from)).bind(delivery_id).execute(&pool).await.unwrap();
            sqlx::query("alter table delivery enable trigger delivery_transition_guard").execute(&pool).await.unwrap();

            let moved = sqlx::query(set_state(to)).bind(delivery_id).execute(&pool).await;
            match (&moved, from.can_become(to)) {
                (Ok(_), true) => {}
                (Err(sqlx::Error::Database(e)), false) => {
                    assert_eq!(e.constraint(), Some("delivery_transition"), "{from:?} → {to:?} refused by the guard: {e}")
                }
                (result, allowed) => panic!("{from:?} → {to:?}: Rust says allowed={allowed}, the database said {result:?}"),
            }
            sqlx::query("delete from delivery where delivery_id = $1").bind(delivery_id).execute(&pool).await.unwrap();
            checked += 1;
        }
    }
    assert_eq!(checked, DeliveryState::ALL.len() * (DeliveryState::ALL.len() - 1));

    // Claims and published ids are tied to their states.
    let delivery_id = insert_delivery(&pool, owner.team_id, post_id, account_id).await;
    let unclaimed = sqlx::query("update delivery set state = 'publishing' where delivery_id = $1").bind(delivery_id).execute(&pool).await;
    assert!(matches!(unclaimed, Err(sqlx::Error::Database(e)) if e.constraint() == Some("delivery_claimed_iff_publishing")));
    let moved_team =
        sqlx::query("update delivery set team_id = gen_random_uuid() where delivery_id = $1").bind(delivery_id).execute(&pool).await;
    assert!(moved_team.is_err(), "a delivery never changes team");
}

#[tokio::test]
async fn the_audit_trail_is_append_only_team_scoped_and_free_of_secrets() {
    let pool = pool().await;
    let acme = team(&pool, "Acme", "ada@example.com").await;
    let rival = team(&pool, "Rival", "eve@example.com").await;

    audit::record(&pool, acme.team_id, Actor::User(acme.user_id), "account_connected", "account", Some("a1"), json!({"platform": "x"}))
        .await
        .unwrap();
    audit::record(
        &pool,
        acme.team_id,
        Actor::System,
        "account_needs_reauth",
        "account",
        Some("a1"),
        json!({"error_class": "needs_reauth"}),
    )
    .await
    .unwrap();
    audit::record(&pool, rival.team_id, Actor::User(rival.user_id), "account_connected", "account", Some("b1"), json!({})).await.unwrap();

    for secretive in
        [json!({"access_token": "abc"}), json!({"nested": {"refresh_token": "x"}}), json!({"client_secret": "s"}), json!("text")]
    {
        assert!(audit::record(&pool, acme.team_id, Actor::System, "account_refreshed", "account", None, secretive).await.is_err());
    }

    let all = audit::list(&pool, acme.team_id, &AuditFilter::default(), 100).await.unwrap();
    assert_eq!(all.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), vec!["account_needs_reauth", "account_connected"]);
    assert_eq!(all[1].actor_label.as_deref(), Some("ada@example.com"));
    assert_eq!(all[0].actor_label, None, "the system has no label");
    let filtered =
        audit::list(&pool, acme.team_id, &AuditFilter { action: Some("account_connected".into()), ..AuditFilter::default() }, 100)
            .await
            .unwrap();
    assert_eq!(filtered.len(), 1);
    assert_eq!(audit::list(&pool, rival.team_id, &AuditFilter::default(), 100).await.unwrap().len(), 1, "each team sees its own");

    for statement in ["update audit_event set action = 'tampered'", "delete from audit_event", "truncate audit_event"] {
        let refused = sqlx::query(statement).execute(&pool).await;
        assert!(refused.is_err(), "{statement} must be refused");
    }
    let count: i64 = sqlx::query_scalar("select count(*) from audit_event").fetch_one(&pool).await.unwrap();
    assert_eq!(count, 3);
}

#[tokio::test]
async fn failed_logins_and_new_api_tokens_are_audited_without_secrets() {
    use crier_domain::Role;
    use crier_domain::store::{api_tokens, login};

    let pool = pool().await;
    let acme = team(&pool, "Acme", "ada@example.com").await;
    assert!(login::log_in(&pool, "ada@example.com", secret("not the password"), "192.0.2.7").await.is_err());
    assert!(login::log_in(&pool, "nobody@example.com", secret("whatever"), "192.0.2.7").await.is_err());
    let created = api_tokens::create(&pool, acme.team_id, "CI", Role::Editor, Some(acme.user_id), None).await.unwrap();

    let events = audit::list(&pool, acme.team_id, &AuditFilter::default(), 100).await.unwrap();
    let actions: Vec<_> = events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, vec!["token_created", "login_failed"], "an unknown email is nobody's event");
    assert_eq!(events[1].metadata, json!({"client_addr": "192.0.2.7"}));
    assert_eq!(events[0].actor_label.as_deref(), Some("ada@example.com"));
    let dump: String = sqlx::query_scalar("select string_agg(metadata::text, ' ') from audit_event").fetch_one(&pool).await.unwrap();
    assert!(!dump.contains(created.secret.expose()), "the token itself is never recorded");
    assert!(!dump.contains("not the password"));
}

#[tokio::test]
async fn the_database_allows_exactly_the_post_transitions_the_lifecycle_draws() {
    use crier_domain::post_state::PostState;
    let pool = pool().await;
    let owner = team(&pool, "Acme", "ada@example.com").await;
    let name = |state: PostState| state.as_str();
    let mut checked = 0;
    for from in PostState::ALL {
        for to in PostState::ALL.into_iter().filter(|to| *to != from) {
            // Put a post in `from` without the guards' say (a fixture, not a transition).
            sqlx::query("alter table post disable trigger user").execute(&pool).await.unwrap();
            let post_id: Uuid = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "insert into post (team_id, text, scheduled_at, schedule_timezone, state) values ($1, 'hello', now(), 'UTC', '{}') returning post_id",
                name(from)
            )))
            .bind(owner.team_id)
            .fetch_one(&pool)
            .await
            .unwrap();
            sqlx::query("alter table post enable trigger user").execute(&pool).await.unwrap();

            let moved = sqlx::query(sqlx::AssertSqlSafe(format!("update post set state = '{}' where post_id = $1", name(to))))
                .bind(post_id)
                .execute(&pool)
                .await;
            match (&moved, from.can_become(to)) {
                (Ok(_), true) => {}
                (Err(sqlx::Error::Database(e)), false) => {
                    assert_eq!(e.constraint(), Some("post_transition"), "{from:?} → {to:?} refused by the guard: {e}")
                }
                (result, allowed) => panic!("{from:?} → {to:?}: Rust says allowed={allowed}, the database said {result:?}"),
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 6 * 5);

    // A post is born a draft, in review or scheduled; a scheduled one has a time.
    for state in PostState::ALL {
        let born = sqlx::query(sqlx::AssertSqlSafe(format!(
            "insert into post (team_id, text, scheduled_at, schedule_timezone, state) values ($1, 'hello', now(), 'UTC', '{}')",
            name(state)
        )))
        .bind(owner.team_id)
        .execute(&pool)
        .await;
        assert_eq!(born.is_ok(), state.can_start(), "{state:?}: {born:?}");
    }
    let timeless = sqlx::query("insert into post (team_id, text, schedule_timezone, state) values ($1, 'hello', 'UTC', 'scheduled')")
        .bind(owner.team_id)
        .execute(&pool)
        .await;
    assert!(matches!(timeless, Err(sqlx::Error::Database(e)) if e.constraint() == Some("post_scheduled_has_time")));
    let draft = sqlx::query("insert into post (team_id, text, schedule_timezone, state) values ($1, 'hello', 'UTC', 'draft')")
        .bind(owner.team_id)
        .execute(&pool)
        .await;
    assert!(draft.is_ok(), "a draft needs no time: {draft:?}");
}
