//! First comments' sender against the sandbox: a sender that stops dead in the middle of a call
//! (its task dropped, as a `kill -9` would leave it) leaves its claim behind; another sender
//! rescues it, looks for the comment first, and the Page has it exactly once.

mod support;

use std::time::Duration;

use crier_domain::delivery::DeliveryState;
use crier_platform::Platform;
use crier_publisher::first_comments::{self, FirstCommentConfig};
use serde_json::json;
use support::env;

#[tokio::test]
async fn a_sender_stopped_mid_call_is_rescued_and_the_comment_is_posted_once() {
    let env = env().await;
    let page = env.connect_facebook().await;
    let post = env
        .post(&[page.account_id], "Stopped between post and comment", |new| {
            new.content.first_comments = vec![(Platform::Facebook, "Here exactly once".into())];
        })
        .await;
    assert_eq!(env.step().await, [DeliveryState::Published]);
    env.wait_until("its comment queued", "select exists (select 1 from delivery_first_comment where state = 'pending')").await;

    // Every Graph call now takes a while: the sender is mid-call when it stops.
    env.h.control("/control/meta/faults", json!({ "latency_ms": 1500 })).await;
    let doomed = FirstCommentConfig { idle_poll: Duration::from_millis(100), ..FirstCommentConfig::new("doomed") };
    let sender = tokio::spawn(first_comments::run(env.pool.clone(), env.accounts.clone(), doomed, std::future::pending()));
    env.wait_until("the comment being sent", "select exists (select 1 from delivery_first_comment where state = 'sending')").await;
    sender.abort();
    assert!(sender.await.unwrap_err().is_cancelled(), "stopped dead: nothing released, nothing written");
    let claimed_by: String = sqlx::query_scalar("select claimed_by from delivery_first_comment").fetch_one(&env.pool).await.unwrap();
    assert_eq!(claimed_by, "doomed", "the claim is left behind");

    // The rescuer takes claims older than 4 s (longer than its own calls: two of 1.5 s). Its look
    // at the Page's comments is as slow as the stopped call, so it sees that call's comment if the
    // platform made it.
    env.wait_until("the claim stale", "select claimed_at < now() - interval '4 seconds' from delivery_first_comment").await;
    let rescuer = FirstCommentConfig {
        stale_after: Duration::from_secs(4),
        rescue_every: Duration::from_millis(200),
        idle_poll: Duration::from_millis(200),
        ..FirstCommentConfig::new("rescuer")
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(first_comments::run(env.pool.clone(), env.accounts.clone(), rescuer, async move {
        let _ = stopped.await;
    }));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (state, error): (String, Option<String>) =
            sqlx::query_as("select state::text, last_error from delivery_first_comment").fetch_one(&env.pool).await.unwrap();
        if state == "posted" {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "posted by the rescuer within 30 s: {state} {error:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = stop.send(());
    running.await.unwrap();
    assert_eq!(env.copies("facebook", "Here exactly once"), 1, "one comment, never two");
    let (attempts, reconcile): (i16, bool) =
        sqlx::query_as("select attempts, reconcile from delivery_first_comment").fetch_one(&env.pool).await.unwrap();
    assert_eq!(attempts, 2, "the stopped attempt, then the rescuer's");
    assert!(!reconcile);
    let parent = env.h.sandbox.ledger().into_iter().find(|e| e.text == "Stopped between post and comment").unwrap().post_id;
    let comment = env.h.sandbox.ledger().into_iter().find(|e| e.text == "Here exactly once").unwrap();
    assert_eq!(comment.in_reply_to.as_deref(), Some(parent.as_str()), "under the post");
    let _ = post;
}
