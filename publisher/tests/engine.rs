//! The publishing engine end to end: a real Postgres, the sandbox platforms over HTTP, and the
//! engine's own loop. Every outcome class, backoff, pauses, refresh, reconnect and crash safety.

mod support;

use std::time::Duration;

use chrono::{TimeDelta, Utc};
use crier_domain::delivery::DeliveryState::{self, *};
use crier_domain::post::PostContent;
use crier_domain::store::deliveries::{self, Budget, Budgets};
use crier_domain::store::posts;
use crier_platform::Platform;
use serde_json::json;
use support::env;

/// Nothing more will happen without someone acting (or a retry's time coming).
fn finished(state: DeliveryState) -> bool {
    !matches!(state, Scheduled | Publishing | Retrying)
}

#[tokio::test]
async fn a_post_goes_out_to_x_linkedin_and_a_facebook_page_with_permalinks_attempts_and_audit() {
    let env = env().await;
    let x = env.connect_x("acme").await;
    let li = env.connect_linkedin().await;
    let fb = env.connect_facebook().await;
    let post = env
        .post(&[x.account_id, li.account_id, fb.account_id], "Launch day", |p| {
            p.content = PostContent::parse("Launch day", [], "https://example.com/launch", ["Part two".to_owned()]).unwrap();
        })
        .await;
    assert_eq!(env.step().await, [Published, Published, Published]);
    assert_eq!(env.states(post).await, [Published, Published, Published]);

    let detail = posts::get(&env.pool, env.team.team_id, post).await.unwrap();
    for d in &detail.summary.deliveries {
        assert!(d.permalink.as_deref().is_some_and(|p| p.starts_with("https://")), "{d:?}");
    }
    assert_eq!(env.copies("x", "Launch day\n\nhttps://example.com/launch"), 1, "the link rides at the end of the X text");
    assert_eq!(env.copies("x", "Part two"), 1, "the thread's reply");
    assert_eq!(env.copies("linkedin", "Launch day"), 1);
    assert_eq!(env.copies("facebook", "Launch day"), 1);
    let x_reply = env.h.sandbox.ledger().into_iter().find(|e| e.text == "Part two").unwrap();
    assert!(x_reply.in_reply_to.is_some(), "the reply is chained to the first post");

    assert_eq!(detail.attempts.len(), 3);
    assert!(detail.attempts.iter().all(|a| a.outcome == Some(crier_domain::delivery::AttemptOutcome::Published)
        && a.finished_at.is_some()
        && a.http_status == Some(201)));
    assert_eq!(env.audited("delivery_published").await, 3);
    let timed: i64 = sqlx::query_scalar(
        "select count(*) from audit_event where action = 'delivery_published' and metadata->>'outcome' = 'published'
           and (metadata->>'duration_ms')::int >= 0 and metadata->>'attempt' = '1'",
    )
    .fetch_one(&env.pool)
    .await
    .unwrap();
    assert_eq!(timed, 3, "each attempt's one record says how it went and how long it took");
    assert_eq!(env.audited("delivery_attempted").await, 0, "one record per attempt, not two");
    assert_eq!(env.audited("post_scheduled").await, 1);
    let nothing_claimed: i64 =
        sqlx::query_scalar("select count(*) from delivery where claimed_by is not null").fetch_one(&env.pool).await.unwrap();
    assert_eq!(nothing_claimed, 0);
}

#[tokio::test]
async fn a_dry_run_checks_everything_but_publishes_nothing() {
    let env = env().await;
    let x = env.connect_x("acme").await;
    let fb = env.connect_facebook().await;
    let post = env.post(&[x.account_id, fb.account_id], "Only a rehearsal", |p| p.dry_run = true).await;
    assert_eq!(env.step().await, [DryRunOk, DryRunOk]);
    assert_eq!(env.states(post).await, [DryRunOk, DryRunOk]);
    assert!(env.h.sandbox.ledger().is_empty(), "a dry run calls no publish endpoint");
    assert_eq!(env.audited("delivery_dry_run_ok").await, 2);
}

#[tokio::test]
async fn a_server_error_is_retried_with_backoff_then_published_and_gives_up_after_the_last_attempt() {
    let env = env().await;
    let x = env.connect_x("acme").await;
    env.h.control("/control/x/faults", json!({ "user_id": x.user_id, "next_responses": [{ "status": 503, "body": { "title": "Service Unavailable", "detail": "busy", "type": "about:blank", "status": 503 } }] })).await;
    let before = Utc::now();
    let post = env.post(&[x.account_id], "Retry me", |_| {}).await;
    assert_eq!(env.step().await, [Retrying]);
    assert_eq!(env.step().await, [], "nothing is due until the backoff has passed");
    let delivery = &posts::get(&env.pool, env.team.team_id, post).await.unwrap().summary.deliveries[0];
    let wait = delivery.next_attempt_at - before;
    assert!(wait >= TimeDelta::seconds(295) && wait <= TimeDelta::seconds(310), "first retry after base = 5 minutes, got {wait}");
    assert!(delivery.last_error.as_deref().is_some_and(|e| e.contains("busy")), "{:?}", delivery.last_error);

    // Five minutes later (moved, not waited for): the retry looks for the post first (a 503 may
    // have created it), finds nothing, and publishes once.
    sqlx::query("update delivery set next_attempt_at = now() where delivery_id = $1")
        .bind(delivery.delivery_id)
        .execute(&env.pool)
        .await
        .unwrap();
    assert_eq!(env.step().await, [Published]);
    assert_eq!(env.states(post).await, [Published]);
    assert_eq!(env.copies("x", "Retry me"), 1);

    // With one attempt allowed, the same failure is final, with the platform's reason.
    env.h.control("/control/x/faults", json!({ "user_id": x.user_id, "next_responses": [{ "status": 503, "body": { "title": "Service Unavailable", "detail": "busy", "type": "about:blank", "status": 503 } }] })).await;
    let last = env.post(&[x.account_id], "Only once", |p| p.retry.max_attempts = Some(1)).await;
    assert_eq!(env.step().await, [Failed]);
    let failed = &posts::get(&env.pool, env.team.team_id, last).await.unwrap().summary.deliveries[0];
    assert!(
        failed.last_error.as_deref().is_some_and(|e| e.contains("Gave up after 1 attempts") && e.contains("busy")),
        "{:?}",
        failed.last_error
    );
}

#[tokio::test]
async fn a_permanent_refusal_fails_with_the_platforms_reason_and_retry_puts_it_back() {
    let env = env().await;
    let x = env.connect_x("acme").await;
    let first = env.post(&[x.account_id], "Same words", |_| {}).await;
    assert_eq!(env.step().await, [Published]);
    assert_eq!(env.states(first).await, [Published]);
    // X refuses a duplicate of a recent post (403): retrying cannot help.
    let second = env.post(&[x.account_id], "Same words", |_| {}).await;
    assert_eq!(env.step().await, [Failed]);
    let failed = posts::get(&env.pool, env.team.team_id, second).await.unwrap();
    let reason = failed.summary.deliveries[0].last_error.clone().unwrap();
    assert!(reason.to_lowercase().contains("duplicate"), "{reason}");
    assert_eq!(failed.attempts[0].http_status, Some(403));

    // "Retry" on a failed delivery puts it back in the queue (it fails the same way here).
    let retried =
        posts::retry_failed(&env.pool, env.team.team_id, crier_domain::store::audit::Actor::User(env.team.user_id), Some(second), None)
            .await
            .unwrap();
    assert_eq!(retried, 1);
    assert_eq!(env.step().await, [Failed]);
    assert_eq!(env.states(second).await, [Failed]);
    assert_eq!(env.copies("x", "Same words"), 1);
}

#[tokio::test]
async fn a_rate_limited_account_pauses_until_its_reset_while_another_goes_on() {
    let env = env().await;
    let limited = env.connect_x("limited").await;
    let other = env.connect_x("other").await;
    let reset = Utc::now() + TimeDelta::seconds(3);
    env.h.control("/control/x/faults", json!({ "user_id": limited.user_id, "next_responses": [support::x_rate_limited(reset)] })).await;
    let engine = env.start(|_| {});
    let paused = env.post(&[limited.account_id], "Paused for a while", |_| {}).await;
    assert_eq!(env.wait_for(paused, |s| s == Retrying).await, [Retrying]);
    let paused_until: Option<chrono::DateTime<Utc>> = sqlx::query_scalar("select paused_until from platform_account where account_id = $1")
        .bind(limited.account_id)
        .fetch_one(&env.pool)
        .await
        .unwrap();
    assert_eq!(paused_until.map(|t| t.timestamp()), Some(reset.timestamp()), "paused until X's reset");

    let meanwhile = env.post(&[other.account_id], "Other accounts go on", |_| {}).await;
    assert_eq!(env.wait_for(meanwhile, finished).await, [Published]);
    assert_eq!(env.states(paused).await, [Retrying], "still waiting for its reset");

    // After the reset it resumes by itself, and the wait used up none of its attempts.
    assert_eq!(env.wait_for(paused, finished).await, [Published]);
    let failures: i16 =
        sqlx::query_scalar("select failures from delivery where post_id = $1").bind(paused).fetch_one(&env.pool).await.unwrap();
    assert_eq!(failures, 0);
    engine.stop().await;
}

#[tokio::test]
async fn crier_s_own_budget_waits_before_the_platform_refuses() {
    let env = env().await;
    let x = env.connect_x("acme").await;
    let engine =
        env.start(|c| c.budgets = Budgets::default().with(Platform::X, Some(Budget { limit: 2, window: Duration::from_secs(900) })));
    let posts: Vec<_> = futures_posts(&env, x.account_id, 3).await;
    env.wait_until("two went out", "select count(*) = 2 from delivery where state = 'published'").await;
    let (paused_until, used): (Option<chrono::DateTime<Utc>>, i32) =
        sqlx::query_as("select paused_until, budget_used from platform_account where account_id = $1")
            .bind(x.account_id)
            .fetch_one(&env.pool)
            .await
            .unwrap();
    assert_eq!(used, 2);
    let pause = paused_until.expect("paused once the budget is spent") - Utc::now();
    assert!(pause > TimeDelta::minutes(14), "until the 15-minute window ends: {pause}");
    let waiting: i64 = sqlx::query_scalar("select count(*) from delivery where post_id = any($1) and state = 'scheduled'")
        .bind(&posts)
        .fetch_one(&env.pool)
        .await
        .unwrap();
    assert_eq!(waiting, 1, "the third waits for the next window");
    assert_eq!(env.h.sandbox.ledger().len(), 2);
    engine.stop().await;
}

async fn futures_posts(env: &support::Env, account: uuid::Uuid, n: usize) -> Vec<uuid::Uuid> {
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(env.post(&[account], &format!("Post number {i}"), |_| {}).await);
    }
    ids
}

#[tokio::test]
async fn twenty_deliveries_on_an_expired_x_token_refresh_it_exactly_once() {
    let env = env().await;
    let x = env.connect_x("acme").await;
    // The access token is dead at X and Crier knows it has expired.
    env.h.control("/control/x/expire-token", json!({ "access_token": secrecy::ExposeSecret::expose_secret(&x.access_token) })).await;
    sqlx::query("update platform_account set token_expires_at = now() - interval '1 minute' where account_id = $1")
        .bind(x.account_id)
        .execute(&env.pool)
        .await
        .unwrap();
    let posts = futures_posts(&env, x.account_id, 20).await;
    let engine = env.start(|c| c.concurrency = 32);
    env.wait_until("all twenty are published", "select count(*) = 20 from delivery where state = 'published'").await;
    engine.stop().await;
    assert_eq!(env.audited("account_refreshed").await, 1, "one refresh; X rotates refresh tokens, so a second would have failed");
    assert_eq!(env.h.sandbox.ledger().len(), 20);
    for post in posts {
        assert_eq!(env.states(post).await, [Published]);
    }
}

#[tokio::test]
async fn a_token_the_platform_stops_honouring_early_is_renewed_once_and_the_posts_go_out() {
    let env = env().await;
    let x = env.connect_x("acme").await;
    // Dead at X, though Crier's record says it has hours left: the 401 is the first sign.
    env.h.control("/control/x/expire-token", json!({ "access_token": secrecy::ExposeSecret::expose_secret(&x.access_token) })).await;
    let posts = futures_posts(&env, x.account_id, 10).await;
    let engine = env.start(|c| c.concurrency = 16);
    env.wait_until("all ten are published", "select count(*) = 10 from delivery where state = 'published'").await;
    engine.stop().await;
    assert_eq!(env.audited("account_refreshed").await, 1, "renewed once, by whichever call met the refusal first");
    assert_eq!(env.audited("account_needs_reauth").await, 0, "nobody was asked to reconnect");
    assert_eq!(env.h.sandbox.ledger().len(), 10);
    for post in posts {
        assert_eq!(env.states(post).await, [Published]);
    }
}

#[tokio::test]
async fn a_revoked_account_holds_its_deliveries_until_it_is_reconnected() {
    let env = env().await;
    let x = env.connect_x("acme").await;
    env.h.control("/control/x/revoke-user", json!({ "user_id": x.user_id })).await;
    let post = env.post(&[x.account_id], "Held for now", |_| {}).await;
    let later = env.post(&[x.account_id], "Scheduled for tomorrow", |p| p.scheduled_at = Utc::now() + TimeDelta::days(1)).await;
    let engine = env.start(|_| {});
    assert_eq!(env.wait_for(post, |s| s == Held).await, [Held]);
    assert_eq!(env.states(later).await, [Held], "the account's other waiting deliveries are held too");
    let after = env.post(&[x.account_id], "Written while it needs re-auth", |_| {}).await;
    assert_eq!(env.states(after).await, [Held], "a new post to it starts held");
    let status: String = sqlx::query_scalar("select status::text from platform_account where account_id = $1")
        .bind(x.account_id)
        .fetch_one(&env.pool)
        .await
        .unwrap();
    assert_eq!(status, "needs_reauth");
    assert_eq!(posts::held_count(&env.pool, env.team.team_id).await.unwrap(), 3);
    assert_eq!(env.audited("account_needs_reauth").await, 1);

    // Reconnecting (the Connect button again) resumes them: the due one goes out now, the other
    // stays scheduled for tomorrow.
    env.connect_x("acme").await;
    assert_eq!(env.wait_for(post, finished).await, [Published]);
    assert_eq!(env.wait_for(after, finished).await, [Published]);
    assert_eq!(env.states(later).await, [Scheduled]);
    assert_eq!(env.copies("x", "Held for now"), 1);
    engine.stop().await;
}

#[tokio::test]
async fn meta_accepting_then_answering_500_publishes_exactly_one_copy() {
    let env = env().await;
    let fb = env.connect_facebook().await;
    env.h.control("/control/facebook/faults", json!({ "created_then_500": 1 })).await;
    let engine = env.start(|_| {});
    let post = env.post(&[fb.account_id], "Exactly once", |p| p.retry.first_retry_seconds = Some(1)).await;
    assert_eq!(env.wait_for(post, |s| s == Published).await, [Published]);
    engine.stop().await;
    assert_eq!(env.copies("facebook", "Exactly once"), 1, "the retry found the post instead of publishing again");
    let outcomes: Vec<String> =
        sqlx::query_scalar("select outcome::text from delivery_attempt order by attempt").fetch_all(&env.pool).await.unwrap();
    assert_eq!(outcomes, ["temporary", "reconciled"]);
}

#[tokio::test]
async fn claims_of_a_worker_that_died_mid_call_are_rescued_and_reconciled_not_published_twice() {
    let env = env().await;
    let x = env.connect_x("acme").await;
    let published = env.post(&[x.account_id], "Went out before the crash", |_| {}).await;
    let lost = env.post(&[x.account_id], "Never reached X", |_| {}).await;
    // A worker claims both and dies after X accepted the first (as kill -9 mid-call leaves it):
    // its claims stay "publishing" and it never heartbeats again.
    deliveries::register_worker(&env.pool, "dead-worker").await.unwrap();
    let claimed = deliveries::claim(&env.pool, "dead-worker", 10, &Budgets::default()).await.unwrap();
    assert_eq!(claimed.len(), 2);
    let x_client = env.accounts.clients().x().cloned().unwrap();
    x_client.publish(&crier_clients::XAuth::Bearer(x.access_token.clone()), "Went out before the crash").await.value.unwrap();
    sqlx::query("update publish_worker set last_seen = now() - interval '1 hour' where name = 'dead-worker'")
        .execute(&env.pool)
        .await
        .unwrap();

    let engine = env.start(|_| {});
    assert_eq!(env.wait_for(published, finished).await, [Published]);
    assert_eq!(env.wait_for(lost, finished).await, [Published]);
    engine.stop().await;
    assert_eq!(env.copies("x", "Went out before the crash"), 1, "found at X, not published again");
    assert_eq!(env.copies("x", "Never reached X"), 1);
    assert_eq!(env.audited("delivery_rescued").await, 2);
    let outcomes: Vec<String> = sqlx::query_scalar(
        "select t.outcome::text from delivery_attempt t join delivery d using (delivery_id) where d.post_id = $1 order by t.attempt",
    )
    .bind(published)
    .fetch_all(&env.pool)
    .await
    .unwrap();
    assert_eq!(outcomes, ["unknown", "reconciled"]);
}

#[tokio::test]
async fn two_workers_on_one_database_publish_every_delivery_once() {
    let env = env().await;
    let accounts = [env.connect_x("one").await, env.connect_x("two").await, env.connect_x("three").await];
    let ids: Vec<_> = accounts.iter().map(|a| a.account_id).collect();
    let first = env.start(|c| {
        c.batch_size = 7;
        c.concurrency = 8;
    });
    let second = env.start(|c| {
        c.batch_size = 5;
        c.concurrency = 8;
    });
    for i in 0..60 {
        env.post(&ids, &format!("Fan-out {i}"), |_| {}).await;
    }
    env.wait_until("all 180 deliveries are published", "select count(*) = 180 from delivery where state = 'published'").await;
    let (a, b) = (
        first.stats.published.load(std::sync::atomic::Ordering::Relaxed),
        second.stats.published.load(std::sync::atomic::Ordering::Relaxed),
    );
    first.stop().await;
    second.stop().await;
    let ledger = env.h.sandbox.ledger();
    assert_eq!(ledger.len(), 180);
    let mut seen = std::collections::HashSet::new();
    for entry in &ledger {
        assert!(seen.insert((entry.user_id.clone(), entry.text.clone())), "published twice: {entry:?}");
    }
    assert_eq!(a + b, 180);
    let attempts: i64 = sqlx::query_scalar("select count(*) from delivery_attempt").fetch_one(&env.pool).await.unwrap();
    assert_eq!(attempts, 180, "no delivery was claimed twice");
}

#[tokio::test]
async fn shutdown_lets_in_flight_publishes_finish_and_leaves_nothing_claimed() {
    let env = env().await;
    let x = env.connect_x("acme").await;
    env.h.control("/control/x/faults", json!({ "user_id": x.user_id, "latency_ms": 300 })).await;
    let engine = env.start(|c| c.shutdown_grace = Duration::from_secs(10));
    let post = env.post(&[x.account_id], "Slow but sure", |_| {}).await;
    env.wait_until("the call is under way", "select count(*) = 1 from delivery where state = 'publishing'").await;
    engine.stop().await;
    assert_eq!(env.states(post).await, [Published], "the call in flight was allowed to finish");
    let workers: i64 = sqlx::query_scalar("select count(*) from publish_worker").fetch_one(&env.pool).await.unwrap();
    assert_eq!(workers, 0);

    // With no grace at all, the claim is put back for a reconciled retry instead of left hanging.
    let engine = env.start(|c| c.shutdown_grace = Duration::ZERO);
    let cut = env.post(&[x.account_id], "Cut short", |_| {}).await;
    env.wait_until("the call is under way", "select count(*) = 1 from delivery where state = 'publishing'").await;
    engine.stop().await;
    assert_eq!(env.states(cut).await, [Retrying]);
    let reconcile: bool =
        sqlx::query_scalar("select reconcile from delivery where post_id = $1").bind(cut).fetch_one(&env.pool).await.unwrap();
    assert!(reconcile);
    let engine = env.start(|_| {});
    assert_eq!(env.wait_for(cut, finished).await, [Published]);
    engine.stop().await;
    assert_eq!(env.copies("x", "Cut short"), 1);
}

#[tokio::test]
async fn a_post_due_next_month_waits_and_a_due_one_starts_at_once() {
    let env = env().await;
    let x = env.connect_x("acme").await;
    let engine = env.start(|c| c.idle_poll = Duration::from_secs(60));
    let later = env.post(&[x.account_id], "Next month", |p| p.scheduled_at = Utc::now() + TimeDelta::days(30)).await;
    // Woken by the enqueue's notification, not by a poll (the poll is a minute here).
    let now = env.post(&[x.account_id], "Right now", |_| {}).await;
    assert_eq!(env.wait_for(now, finished).await, [Published]);
    assert_eq!(env.states(later).await, [Scheduled]);
    engine.stop().await;
}

#[tokio::test]
async fn scheduling_many_posts_for_later_does_not_wake_the_worker_once_a_post() {
    let env = env().await;
    let x = env.connect_x("acme").await;
    // A long idle poll: every pass of the loop here comes from a notification (or the first look).
    let engine = env.start(|c| c.idle_poll = Duration::from_secs(60));
    env.wait_until("the worker has registered", "select count(*) = 1 from publish_worker").await;
    let before = engine.stats.claim_passes.load(std::sync::atomic::Ordering::Relaxed);
    // A hundred posts for tomorrow, each scheduled in a transaction of its own (one notification each).
    for n in 0..100 {
        env.post(&[x.account_id], &format!("Tomorrow {n}"), |p| p.scheduled_at = Utc::now() + TimeDelta::days(1)).await;
    }
    // Then one due now: it goes out at once, after the hundred notifications before it were read.
    let now = env.post(&[x.account_id], "Right now", |_| {}).await;
    assert_eq!(env.wait_for(now, finished).await, [Published]);
    let passes = engine.stats.claim_passes.load(std::sync::atomic::Ordering::Relaxed) - before;
    assert!(passes <= 5, "the hundred posts for tomorrow woke the worker {passes} times");
    engine.stop().await;
}
