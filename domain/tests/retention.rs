//! Retention: the pruner deletes what each team's retention says is old, in batches, records it,
//! and the audit trail stays append-only for everyone else.

mod support;

use crier_domain::retention::Retention;
use crier_domain::store::Member;
use crier_domain::store::audit::Actor;
use crier_domain::store::retention;
use crier_platform::Platform;
use sqlx::PgPool;
use support::{account, pool, team};
use uuid::Uuid;

/// A delivery (in `state`) of a new post of the member's team to `account_id`, last changed
/// `days_ago` days ago, with `attempts` attempts of that time; answers the delivery.
async fn finished_delivery(pool: &PgPool, t: &Member, account_id: Uuid, state: &str, days_ago: i32, attempts: i16) -> Uuid {
    let post_id: Uuid = sqlx::query_scalar(
        "insert into post (team_id, author_id, text, scheduled_at, schedule_timezone) values ($1, $2, 'old', now(), 'UTC') returning post_id",
    )
    .bind(t.team_id)
    .bind(t.user_id)
    .fetch_one(pool)
    .await
    .unwrap();
    let published = state == "published";
    // Written as it was left then (the transition trigger stamps every update with now()).
    let delivery_id: Uuid = sqlx::query_scalar(
        "insert into delivery (team_id, post_id, account_id, state, external_id, published_at, next_attempt_at, updated_at)
         values ($1, $2, $3, $4::delivery_state, case when $5 then '1' end, case when $5 then now() end,
                 now() - make_interval(days => $6), now() - make_interval(days => $6))
         returning delivery_id",
    )
    .bind(t.team_id)
    .bind(post_id)
    .bind(account_id)
    .bind(state)
    .bind(published)
    .bind(days_ago)
    .fetch_one(pool)
    .await
    .unwrap();
    for attempt in 1..=attempts {
        sqlx::query(
            "insert into delivery_attempt (delivery_id, attempt, team_id, worker, started_at, finished_at, outcome)
             values ($1, $2, $3, 'w', now() - make_interval(days => $4), now() - make_interval(days => $4), 'temporary')",
        )
        .bind(delivery_id)
        .bind(attempt)
        .bind(t.team_id)
        .bind(days_ago)
        .execute(pool)
        .await
        .unwrap();
    }
    delivery_id
}

/// An audit record of the team from `days_ago` days ago.
async fn old_record(pool: &PgPool, team_id: Uuid, days_ago: i32) {
    sqlx::query(
        "insert into audit_event (team_id, occurred_at, actor_kind, action, entity) values ($1, now() - make_interval(days => $2), 'system', 'old_thing', 'team')",
    )
    .bind(team_id)
    .bind(days_ago)
    .execute(pool)
    .await
    .unwrap();
}

async fn count(pool: &PgPool, sql: &'static str, team_id: Uuid) -> i64 {
    sqlx::query_scalar(sql).bind(team_id).fetch_one(pool).await.unwrap()
}

#[tokio::test]
async fn each_teams_history_is_pruned_by_its_own_retention_in_batches_and_recorded() {
    let pool = pool().await;
    let keeps_defaults = team(&pool, "Defaults", "ada@example.com").await;
    let short = team(&pool, "Short", "bob@example.com").await;
    retention::set(&pool, short.team_id, Actor::User(short.user_id), Retention { attempt_days: 30, audit_days: 90 }).await.unwrap();
    assert_eq!(retention::team(&pool, keeps_defaults.team_id).await.unwrap(), Retention::DEFAULT);

    for t in [&keeps_defaults, &short] {
        let x = account(&pool, t.team_id, Platform::X, &t.team_id.to_string()).await;
        // 60 days old: past Short's 30, within the default 180.
        finished_delivery(&pool, t, x, "published", 60, 3).await;
        // 200 days old: past both.
        finished_delivery(&pool, t, x, "published", 200, 4).await;
        // Old, but its delivery is not finished: kept whatever its age.
        finished_delivery(&pool, t, x, "scheduled", 400, 2).await;
        for days in [100, 100, 800] {
            old_record(&pool, t.team_id, days).await;
        }
    }

    let pruned = retention::prune(&pool, 2).await.unwrap();
    assert_eq!(pruned.attempts, 4 + 3 + 4, "the default team's 200-day-old 4, and all 7 finished of the short team");
    assert_eq!(pruned.audit_records, 1 + 3, "the default team's 800-day-old record, and the short team's three");
    // Two deliveries' attempts, or two audit records, a statement.
    assert!(pruned.batches >= 6, "{pruned:?}");

    let attempts = "select count(*) from delivery_attempt where team_id = $1";
    assert_eq!(count(&pool, attempts, keeps_defaults.team_id).await, 3 + 2);
    assert_eq!(count(&pool, attempts, short.team_id).await, 2);
    let old = "select count(*) from audit_event where team_id = $1 and action = 'old_thing'";
    assert_eq!(count(&pool, old, keeps_defaults.team_id).await, 2);
    assert_eq!(count(&pool, old, short.team_id).await, 0);

    // Each team's trail says how much of its history went.
    for (t, attempts, records) in [(&keeps_defaults, 4, 1), (&short, 7, 3)] {
        let said: serde_json::Value = sqlx::query_scalar(
            "select metadata from audit_event where team_id = $1 and action = 'history_pruned' and actor_kind = 'system'",
        )
        .bind(t.team_id)
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(said, serde_json::json!({ "attempts": attempts, "audit_records": records }));
    }
    // The change of retention is in the short team's trail.
    assert_eq!(
        count(&pool, "select count(*) from audit_event where team_id = $1 and action = 'retention_changed'", short.team_id).await,
        1
    );

    // The next pass starts where this one stopped: at each team's cutoff.
    let marks: Vec<bool> = sqlx::query_scalar(
        "select attempts_pruned_before between now() - interval '181 days' and now() - interval '29 days' from team order by name",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(marks, vec![true, true]);

    // A second pass finds nothing, and records nothing.
    let again = retention::prune(&pool, 2).await.unwrap();
    assert_eq!((again.attempts, again.audit_records), (0, 0));
    assert_eq!(count(&pool, "select count(*) from audit_event where team_id = $1 and action = 'history_pruned'", short.team_id).await, 1);
}

#[tokio::test]
async fn the_audit_trail_stays_append_only_but_for_the_pruner_and_never_under_the_floor() {
    let pool = pool().await;
    let t = team(&pool, "Acme", "ada@example.com").await;
    old_record(&pool, t.team_id, 400).await;
    old_record(&pool, t.team_id, 30).await;

    let delete_old = "delete from audit_event where team_id = $1 and occurred_at < now() - interval '300 days'";
    let refused = sqlx::query(delete_old).bind(t.team_id).execute(&pool).await.unwrap_err();
    assert!(refused.to_string().contains("append-only"), "{refused}");

    // The pruner's setting lets old records go, and only old ones.
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("set local crier.audit_pruning = 'on'").execute(&mut *tx).await.unwrap();
    assert_eq!(sqlx::query(delete_old).bind(t.team_id).execute(&mut *tx).await.unwrap().rows_affected(), 1);
    let young = sqlx::query("delete from audit_event where team_id = $1").bind(t.team_id).execute(&mut *tx).await.unwrap_err();
    assert!(young.to_string().contains("append-only"), "a record under 90 days old: {young}");
    tx.rollback().await.unwrap();

    let mut tx = pool.begin().await.unwrap();
    sqlx::query("set local crier.audit_pruning = 'on'").execute(&mut *tx).await.unwrap();
    let update = sqlx::query("update audit_event set action = 'rewritten' where team_id = $1").bind(t.team_id).execute(&mut *tx).await;
    assert!(update.is_err(), "no record is ever rewritten");
    tx.rollback().await.unwrap();
    assert!(sqlx::query("truncate audit_event cascade").execute(&pool).await.is_err());

    // The table refuses a retention under the floors.
    let too_short = sqlx::query("insert into team_retention (team_id, attempt_days, audit_days) values ($1, 30, 60)")
        .bind(t.team_id)
        .execute(&pool)
        .await;
    assert!(too_short.is_err());
    assert_eq!(count(&pool, "select count(*) from audit_event where team_id = $1 and action = 'old_thing'", t.team_id).await, 2);
}
