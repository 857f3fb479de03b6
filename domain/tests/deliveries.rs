//! The delivery state machine and the audit trail, enforced by the database.

mod support;

use crier_domain::delivery::DeliveryState;
use crier_domain::store::audit::{self, Actor, AuditFilter};
use crier_platform::Platform;
use serde_json::json;
use support::{insert_delivery, pool, secret, team};
use uuid::Uuid;

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
    let account_id = support::account(&pool, owner.team_id, Platform::X, "42").await;
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

#[tokio::test]
async fn workers_are_woken_only_for_what_falls_due_before_they_look_anyway() {
    use crier_domain::store::deliveries::{self, DUE_CHANNEL, WAKE_HORIZON};
    let pool = pool().await;
    let mut listener = sqlx::postgres::PgListener::connect_with(&pool).await.unwrap();
    listener.listen(DUE_CHANNEL).await.unwrap();
    let now = chrono::Utc::now();
    let horizon = chrono::TimeDelta::from_std(WAKE_HORIZON).unwrap();
    let tomorrow = now + chrono::TimeDelta::days(1);
    let soon = now + horizon / 2;
    let mut conn = pool.acquire().await.unwrap();
    // Notifications arrive in commit order: had tomorrow's been sent, it would come first.
    deliveries::wake_workers(&mut conn, tomorrow).await.unwrap();
    deliveries::wake_workers(&mut conn, now + horizon + chrono::TimeDelta::seconds(5)).await.unwrap();
    deliveries::wake_workers(&mut conn, soon).await.unwrap();
    let first = listener.recv().await.unwrap();
    assert_eq!(
        deliveries::due_of(first.payload()),
        Some(soon).map(|s| chrono::DateTime::from_timestamp_millis(s.timestamp_millis()).unwrap())
    );
    deliveries::wake_workers(&mut conn, now).await.unwrap();
    let second = listener.recv().await.unwrap();
    assert_eq!(deliveries::due_of(second.payload()).map(|d| d.timestamp_millis()), Some(now.timestamp_millis()));
}

#[tokio::test]
async fn the_watchdog_counts_deliveries_left_due_too_long_except_on_paused_accounts() {
    use crier_domain::store::deliveries::{self, next_wake};
    use std::time::Duration;
    let pool = pool().await;
    let owner = team(&pool, "Watched", "watch@example.com").await;
    let (running, paused) = (
        support::account(&pool, owner.team_id, Platform::X, "running").await,
        support::account(&pool, owner.team_id, Platform::X, "paused").await,
    );
    // Due two minutes ago, due just now, due tomorrow; and published long ago (its due time stays).
    let due = |account: Uuid, ago: &'static str, state: &'static str| {
        let pool = pool.clone();
        let team_id = owner.team_id;
        async move {
            let post: Uuid = sqlx::query_scalar(
                "insert into post (team_id, text, scheduled_at, schedule_timezone) values ($1, 'hello', now(), 'UTC') returning post_id",
            )
            .bind(team_id)
            .fetch_one(&pool)
            .await
            .unwrap();
            let published = state == "published";
            sqlx::query(
                "insert into delivery (team_id, post_id, account_id, next_attempt_at, state, external_id, published_at)
                 values ($1, $2, $3, now() - $4::interval, $5::delivery_state, case when $6 then '1' end, case when $6 then now() end)",
            )
            .bind(team_id)
            .bind(post)
            .bind(account)
            .bind(ago)
            .bind(state)
            .bind(published)
            .execute(&pool)
            .await
            .unwrap();
        }
    };
    let late_by = Duration::from_secs(60);
    assert_eq!(deliveries::overdue(&pool, late_by).await.unwrap(), 0);
    due(running, "2 minutes", "scheduled").await;
    due(running, "1 second", "scheduled").await;
    due(running, "-1 day", "scheduled").await;
    due(running, "3 days", "published").await;
    due(paused, "2 minutes", "retrying").await;
    assert_eq!(deliveries::overdue(&pool, late_by).await.unwrap(), 2, "both two minutes late, neither just due nor published");
    // A rate-limit pause is waited out on purpose: not a stall.
    deliveries::pause_account(&pool, owner.team_id, paused, chrono::Utc::now() + chrono::TimeDelta::minutes(10)).await.unwrap();
    assert_eq!(deliveries::overdue(&pool, late_by).await.unwrap(), 1);
    // The next wake-up is the running account's oldest, not the paused one's.
    let wake = next_wake(&pool).await.unwrap().unwrap();
    assert!(wake < chrono::Utc::now() - chrono::TimeDelta::seconds(100), "{wake}");

    // The status snapshot: the one due tomorrow counted as waiting, unless told not to count.
    use crier_domain::store::status::{Waiting, snapshot};
    let counted = snapshot(&pool, Duration::from_secs(60), Waiting::Count).await.unwrap();
    assert_eq!((counted.due, counted.waiting), (3, Some(1)));
    let probed = snapshot(&pool, Duration::from_secs(60), Waiting::Skip).await.unwrap();
    assert_eq!((probed.due, probed.waiting, probed.oldest_due_secs.is_some()), (3, None, true));
}
