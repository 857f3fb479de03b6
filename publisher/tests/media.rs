//! Media inside a delivery's attempt, end to end: files in the team's library (inspected and
//! stored as uploads are), the engine uploading them to the sandbox platforms over HTTP, and the
//! sandbox's ledger proving which bytes arrived, in which order, with which alt text.

mod support;

use std::sync::Arc;

use crier_clients::{BytesSource, MediaToUpload, XAuth, XPost};
use crier_domain::delivery::DeliveryState::*;
use crier_domain::post::{MediaChoice, PostContent};
use crier_domain::store::deliveries::{self, Budget, Budgets};
use crier_domain::store::media::MediaItem;
use crier_domain::store::posts;
use crier_domain::store::webhooks::{self, WebhookUrl};
use crier_domain::webhook::WebhookEvent;
use crier_media::fixtures;
use crier_media::storage::{MediaKey, MediaStore};
use crier_media::test_s3::TestS3;
use crier_platform::Platform;
use serde_json::json;
use support::{Env, env};
use uuid::Uuid;

/// Attaches `items` to the post (item 0), each with its alt text (`None`: the library's).
fn attach(content: &PostContent, items: &[(&MediaItem, Option<&str>)]) -> PostContent {
    attach_to(content, items.iter().map(|(m, alt)| (*m, *alt, 0)).collect())
}

fn attach_to(content: &PostContent, items: Vec<(&MediaItem, Option<&str>, u8)>) -> PostContent {
    let choices = items
        .into_iter()
        .map(|(m, alt, item)| MediaChoice { media_id: m.media_id, alt_text: alt.map(str::to_owned), platform: None, item })
        .collect();
    content.clone().with_media(choices).expect("the media choice is well formed")
}

/// The sandbox's record of what a published post carried: (SHA-256, content type, alt text).
fn received(env: &Env, platform: &str, text: &str) -> Vec<(String, String, Option<String>)> {
    let entry = env.h.sandbox.ledger().into_iter().find(|e| e.platform == platform && e.text == text).expect("the post is in the ledger");
    env.h.sandbox.post_media(platform, &entry.post_id).into_iter().map(|m| (m.sha256, m.content_type, m.alt_text)).collect()
}

/// The delivery's recorded media ids, in order, and the names of its last attempt's steps.
async fn recorded(env: &Env, post_id: Uuid) -> (Vec<String>, Vec<String>) {
    let ids: Vec<String> = sqlx::query_scalar(
        "select m.platform_media_id from delivery_media m join delivery d using (delivery_id)
         where d.post_id = $1 order by m.item, m.position",
    )
    .bind(post_id)
    .fetch_all(&env.pool)
    .await
    .unwrap();
    let steps: serde_json::Value = sqlx::query_scalar(
        "select t.steps from delivery_attempt t join delivery d using (delivery_id)
         where d.post_id = $1 order by t.attempt desc limit 1",
    )
    .bind(post_id)
    .fetch_one(&env.pool)
    .await
    .unwrap();
    let steps = steps.as_array().unwrap().iter().map(|s| s["step"].as_str().unwrap().to_owned()).collect();
    (ids, steps)
}

#[tokio::test]
async fn x_photos_go_out_in_order_with_alt_text_and_without_their_location() {
    let env = env().await;
    let x = env.connect_x("acme").await;
    let hook = WebhookUrl::parse("http://127.0.0.1:9/hook", true).unwrap();
    webhooks::create(&env.pool, &env.vault, &env.team, &hook, &[WebhookEvent::DeliveryPublished]).await.unwrap();
    let beach = env.upload("beach.jpg", &fixtures::photo(1200, 800, 6, 1), "A beach at dawn").await;
    let chart = env.upload("chart.png", &fixtures::png(800, 600, 2), "").await;
    let post =
        env.post(&[x.account_id], "Our week", |p| p.content = attach(&p.content, &[(&beach, None), (&chart, Some("Sales, up 20%"))])).await;
    assert_eq!(env.step().await, [Published]);

    assert_eq!(
        received(&env, "x", "Our week"),
        [
            (beach.sha256.clone(), "image/jpeg".to_owned(), Some("A beach at dawn".to_owned())),
            (chart.sha256.clone(), "image/png".to_owned(), Some("Sales, up 20%".to_owned())),
        ],
        "the exact stored bytes arrived, in order, each with its alt text"
    );
    let stored = env.media.store.read_small(&MediaKey::original(env.team.team_id, beach.media_id)).await.unwrap();
    assert!(!stored.windows(fixtures::GPS_SECRET.len()).any(|w| w == fixtures::GPS_SECRET), "what is published carries no GPS position");

    let (ids, steps) = recorded(&env, post).await;
    assert_eq!(ids.len(), 2, "each upload's media id is recorded");
    assert!(steps.iter().filter(|s| s.starts_with("upload")).count() >= 2, "every upload call is a step: {steps:?}");
    assert_eq!(steps.last().map(String::as_str), Some("post"), "{steps:?}");

    let payload: serde_json::Value =
        sqlx::query_scalar("select payload from webhook_call where event_type = 'delivery.published'").fetch_one(&env.pool).await.unwrap();
    let named: Vec<(String, String)> = payload["data"]["media"]
        .as_array()
        .expect("the webhook names the media")
        .iter()
        .map(|m| (m["media_id"].as_str().unwrap().to_owned(), m["platform_media_id"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(named, [(beach.media_id.to_string(), ids[0].clone()), (chart.media_id.to_string(), ids[1].clone())]);
}

#[tokio::test]
async fn an_x_thread_carries_a_gif_on_a_reply_and_a_video_on_the_post() {
    let env = env().await;
    let x = env.connect_x("acme").await;
    let video = env.upload("launch.mp4", &fixtures::mp4(&fixtures::VideoSpec::default()), "").await;
    let gif = env.upload("party.gif", &fixtures::gif(320, 240, 4, 100), "Confetti").await;
    env.post(&[x.account_id], "Launch video", |p| {
        p.content = PostContent::parse("Launch video", [], "", ["And the party".to_owned()]).unwrap();
        p.content = attach_to(&p.content, vec![(&video, None, 0), (&gif, None, 1)]);
    })
    .await;
    assert_eq!(env.step().await, [Published]);
    assert_eq!(received(&env, "x", "Launch video"), [(video.sha256.clone(), "video/mp4".to_owned(), None)]);
    assert_eq!(received(&env, "x", "And the party"), [(gif.sha256.clone(), "image/gif".to_owned(), Some("Confetti".to_owned()))]);
}

#[tokio::test]
async fn linkedin_takes_several_images_a_document_and_a_video_and_facebook_a_set_of_photos() {
    let env = env().await;
    let li = env.connect_linkedin().await;
    let fb = env.connect_facebook().await;
    let one = env.upload("one.png", &fixtures::png(1200, 627, 3), "First").await;
    let two = env.upload("two.jpg", &fixtures::photo(1200, 627, 1, 4), "Second").await;
    let deck = env.upload("Deck.pdf", &fixtures::pdf(3), "").await;
    let video = env.upload("clip.mp4", &fixtures::mp4(&fixtures::VideoSpec::default()), "").await;
    env.post(&[li.account_id, fb.account_id], "Two pictures", |p| p.content = attach(&p.content, &[(&one, None), (&two, None)])).await;
    env.post(&[li.account_id], "The deck", |p| p.content = attach(&p.content, &[(&deck, None)])).await;
    env.post(&[li.account_id], "The clip", |p| p.content = attach(&p.content, &[(&video, None)])).await;
    assert_eq!(env.step().await, [Published, Published, Published, Published]);

    let pictures = vec![
        (one.sha256.clone(), "image/png".to_owned(), Some("First".to_owned())),
        (two.sha256.clone(), "image/jpeg".to_owned(), Some("Second".to_owned())),
    ];
    assert_eq!(received(&env, "linkedin", "Two pictures"), pictures, "a multi-image post, in order");
    assert_eq!(received(&env, "facebook", "Two pictures"), pictures, "unpublished photos attached in order");
    assert_eq!(received(&env, "linkedin", "The deck"), [(deck.sha256.clone(), "application/pdf".to_owned(), None)]);
    assert_eq!(received(&env, "linkedin", "The clip"), [(video.sha256.clone(), "video/mp4".to_owned(), None)]);
}

#[tokio::test]
async fn a_retry_reuses_what_was_uploaded_and_uploads_again_what_the_platform_forgot() {
    let env = env().await;
    let x = env.connect_x("acme").await;
    let photo = env.upload("photo.png", &fixtures::png(640, 480, 5), "").await;
    // The post call fails after the upload went through.
    env.h.control("/control/x/faults", json!({ "user_id": x.user_id, "next_responses": [busy()] })).await;
    let post = env.post(&[x.account_id], "Try twice", |p| p.content = attach(&p.content, &[(&photo, None)])).await;
    assert_eq!(env.step().await, [Retrying]);
    let (first_ids, first_steps) = recorded(&env, post).await;
    assert_eq!(first_ids.len(), 1);
    assert!(first_steps.iter().any(|s| s.starts_with("upload")), "{first_steps:?}");

    let due_now = "update delivery set next_attempt_at = now() where post_id = $1";
    sqlx::query(due_now).bind(post).execute(&env.pool).await.unwrap();
    assert_eq!(env.step().await, [Published]);
    let (ids, steps) = recorded(&env, post).await;
    assert_eq!(ids, first_ids, "the same media id went out");
    assert!(!steps.iter().any(|s| s.starts_with("upload")), "nothing was uploaded again: {steps:?}");
    assert_eq!(env.copies("x", "Try twice"), 1);

    // A media id X no longer knows (expired, say) is uploaded again, once, in the same attempt.
    env.h.control("/control/x/faults", json!({ "user_id": x.user_id, "next_responses": [busy()] })).await;
    let other = env.post(&[x.account_id], "Forgotten", |p| p.content = attach(&p.content, &[(&photo, None)])).await;
    assert_eq!(env.step().await, [Retrying]);
    sqlx::query("update delivery_media set platform_media_id = '1999999999999999999' where delivery_id in (select delivery_id from delivery where post_id = $1)")
        .bind(other)
        .execute(&env.pool)
        .await
        .unwrap();
    sqlx::query(due_now).bind(other).execute(&env.pool).await.unwrap();
    assert_eq!(env.step().await, [Published]);
    let (ids, steps) = recorded(&env, other).await;
    assert_ne!(ids, ["1999999999999999999"], "the fresh upload's id is recorded");
    assert!(steps.iter().any(|s| s.starts_with("upload")), "uploaded again: {steps:?}");
    assert_eq!(received(&env, "x", "Forgotten"), [(photo.sha256.clone(), "image/png".to_owned(), None)]);
}

/// X's 503 on the post call (after the uploads went through).
fn busy() -> serde_json::Value {
    json!({ "on": "post", "status": 503, "body": { "title": "Service Unavailable", "detail": "busy", "type": "about:blank", "status": 503 } })
}

#[tokio::test]
async fn a_processing_failure_is_final_with_the_platforms_reason_and_deleted_media_is_refused_before_any_call() {
    let env = env().await;
    let x = env.connect_x("acme").await;
    let video = env.upload("broken.mp4", &fixtures::mp4(&fixtures::VideoSpec::default()), "").await;
    env.h.control("/control/x/faults", json!({ "processing_failure": "The video's audio track cannot be decoded" })).await;
    let post = env.post(&[x.account_id], "Broken video", |p| p.content = attach(&p.content, &[(&video, None)])).await;
    assert_eq!(env.step().await, [Failed]);
    let delivery = &posts::get(&env.pool, env.team.team_id, post).await.unwrap().summary.deliveries[0];
    assert!(delivery.last_error.as_deref().is_some_and(|e| e.contains("audio track cannot be decoded")), "{:?}", delivery.last_error);
    assert_eq!(env.copies("x", "Broken video"), 0);

    let photo = env.upload("gone.png", &fixtures::png(640, 480, 6), "").await;
    let gone = env.post(&[x.account_id], "Gone", |p| p.content = attach(&p.content, &[(&photo, None)])).await;
    sqlx::query("update media_item set deleted_at = now() where media_id = $1").bind(photo.media_id).execute(&env.pool).await.unwrap();
    assert_eq!(env.step().await, [Failed]);
    let delivery = &posts::get(&env.pool, env.team.team_id, gone).await.unwrap().summary.deliveries[0];
    assert!(delivery.last_error.as_deref().is_some_and(|e| e.contains("gone.png") && e.contains("deleted")), "{:?}", delivery.last_error);
    let (ids, steps) = recorded(&env, gone).await;
    assert!(ids.is_empty() && steps.is_empty(), "nothing was called: {ids:?} {steps:?}");
}

/// Uploads `photo` to X as the account, the way a worker does before it posts: its media id.
async fn upload_as_a_worker_would(env: &Env, x: &support::Connected, photo: &MediaItem) -> String {
    let bytes = env.media.store.read_small(&MediaKey::original(env.team.team_id, photo.media_id)).await.unwrap();
    let upload = MediaToUpload {
        kind: photo.facts.kind(),
        content_type: photo.facts.content_type,
        byte_size: bytes.len() as u64,
        file_name: photo.file_name.clone(),
        alt_text: None,
        source: Arc::new(BytesSource(bytes)),
    };
    let client = env.accounts.clients().x().cloned().unwrap();
    client.upload_media(&XAuth::Bearer(x.access_token.clone()), &upload, &env.media.upload).await.value.unwrap().platform_media_id
}

#[tokio::test]
async fn a_worker_killed_during_an_upload_or_during_the_post_call_still_ends_with_one_post() {
    let env = env().await;
    let x = env.connect_x("acme").await;
    let photo = env.upload("photo.png", &fixtures::png(640, 480, 7), "").await;
    let with_photo = |p: &mut posts::NewPost| p.content = attach(&p.content, &[(&photo, None)]);
    let mid_upload = env.post(&[x.account_id], "Killed mid-upload", with_photo).await;
    let before_post = env.post(&[x.account_id], "Killed before posting", with_photo).await;
    let after_post = env.post(&[x.account_id], "Killed after posting", with_photo).await;

    // A worker claims all three and is killed (its claims stay `publishing`, it never heartbeats
    // again): during the first's upload (the bytes reached X, the id was never recorded); after
    // the second's upload was recorded; and after X accepted the third's post call.
    deliveries::register_worker(&env.pool, "killed-worker").await.unwrap();
    let claimed = deliveries::claim(&env.pool, "killed-worker", 10, &Budgets::default()).await.unwrap();
    assert_eq!(claimed.len(), 3);
    let of = |post_id: Uuid| claimed.iter().find(|c| c.post_id == post_id).unwrap();
    upload_as_a_worker_would(&env, &x, &photo).await;
    for post_id in [before_post, after_post] {
        let id = upload_as_a_worker_would(&env, &x, &photo).await;
        let media = deliveries::media_of(&env.pool, of(post_id)).await.unwrap();
        deliveries::record_upload(&env.pool, of(post_id).delivery_id, &media[0], &id, None).await.unwrap();
        if post_id == after_post {
            let post = XPost { text: "Killed after posting".into(), media_ids: vec![id], in_reply_to: None };
            let client = env.accounts.clients().x().cloned().unwrap();
            client.publish_post(&XAuth::Bearer(x.access_token.clone()), &post).await.value.unwrap();
        }
    }
    sqlx::query("update publish_worker set last_seen = now() - interval '1 hour' where name = 'killed-worker'")
        .execute(&env.pool)
        .await
        .unwrap();

    let engine = env.start(|_| {});
    for post_id in [mid_upload, before_post, after_post] {
        assert_eq!(env.wait_for(post_id, |s| !matches!(s, Scheduled | Publishing | Retrying)).await, [Published]);
    }
    engine.stop().await;
    for text in ["Killed mid-upload", "Killed before posting", "Killed after posting"] {
        assert_eq!(env.copies("x", text), 1, "exactly one “{text}”");
        assert_eq!(received(&env, "x", text), [(photo.sha256.clone(), "image/png".to_owned(), None)], "{text}");
    }
    let (_, steps) = recorded(&env, mid_upload).await;
    assert!(steps.iter().any(|s| s.starts_with("upload")), "an unrecorded upload is made again: {steps:?}");
    let (_, steps) = recorded(&env, before_post).await;
    assert!(!steps.iter().any(|s| s.starts_with("upload")), "a recorded upload is reused: {steps:?}");
    let outcome: String = sqlx::query_scalar(
        "select t.outcome::text from delivery_attempt t join delivery d using (delivery_id) where d.post_id = $1 order by t.attempt desc limit 1",
    )
    .bind(after_post)
    .fetch_one(&env.pool)
    .await
    .unwrap();
    assert_eq!(outcome, "reconciled", "the post X already had was found, not sent again");
}

#[tokio::test]
async fn an_upload_refused_for_xs_media_rate_limit_pauses_the_account_without_using_an_attempt() {
    let env = env().await;
    let x = env.connect_x("acme").await;
    let photo = env.upload("photo.png", &fixtures::png(640, 480, 8), "").await;
    let reset = chrono::Utc::now() + chrono::TimeDelta::minutes(10);
    let mut limited = support::x_rate_limited(reset);
    limited["on"] = json!("upload");
    env.h.control("/control/x/faults", json!({ "user_id": x.user_id, "next_responses": [limited] })).await;
    let post = env.post(&[x.account_id], "After the window", |p| p.content = attach(&p.content, &[(&photo, None)])).await;
    assert_eq!(env.step().await, [Retrying]);
    let (paused_until, failures): (Option<chrono::DateTime<chrono::Utc>>, i16) =
        sqlx::query_as("select a.paused_until, d.failures from delivery d join platform_account a using (account_id) where d.post_id = $1")
            .bind(post)
            .fetch_one(&env.pool)
            .await
            .unwrap();
    assert_eq!(paused_until.map(|t| t.timestamp()), Some(reset.timestamp()), "paused until X's media window resets");
    assert_eq!(failures, 0, "waiting out a rate limit is not a failure");
    assert_eq!(env.copies("x", "After the window"), 0);
}

#[tokio::test]
async fn xs_media_budget_holds_back_only_the_post_that_would_overspend_it() {
    let env = env().await;
    let x = env.connect_x("acme").await;
    let window = std::time::Duration::from_secs(15 * 60);
    let four = |c: &mut crier_publisher::PublisherConfig| {
        c.media_budgets = c.media_budgets.with(Platform::X, Some(Budget { limit: 4, window }));
    };
    let beach = env.upload("beach.jpg", &fixtures::photo(640, 480, 6, 1), "A beach").await;
    let chart = env.upload("chart.png", &fixtures::png(640, 480, 2), "A chart").await;
    // Two photos with alt text: an upload and an alt-text call each, the whole budget of 4.
    env.post(&[x.account_id], "Two photos", |p| p.content = attach(&p.content, &[(&beach, None), (&chart, None)])).await;
    assert_eq!(env.step_with(four).await, [Published]);
    let used: i32 = sqlx::query_scalar("select media_budget_used from platform_account where account_id = $1")
        .bind(x.account_id)
        .fetch_one(&env.pool)
        .await
        .unwrap();
    assert_eq!(used, 4, "every upload call is counted");

    let waiting = env.post(&[x.account_id], "One more photo", |p| p.content = attach(&p.content, &[(&beach, None)])).await;
    let text = env.post(&[x.account_id], "Just words", |_| {}).await;
    let mut states = env.step_with(four).await;
    states.sort_by_key(|s| s.as_str());
    assert_eq!(states, [Published, Retrying], "the text post goes out; the photo waits");
    assert_eq!(env.states(text).await, [Published]);
    let (next, failures, message, paused, window_started): (
        chrono::DateTime<chrono::Utc>,
        i16,
        String,
        Option<chrono::DateTime<chrono::Utc>>,
        chrono::DateTime<chrono::Utc>,
    ) = sqlx::query_as(
        "select d.next_attempt_at, d.failures, d.last_error_message, a.paused_until, a.media_budget_window_started_at
         from delivery d join platform_account a using (account_id) where d.post_id = $1",
    )
    .bind(waiting)
    .fetch_one(&env.pool)
    .await
    .unwrap();
    assert_eq!(next, window_started + chrono::TimeDelta::minutes(15), "it waits for the window to end");
    assert_eq!(failures, 0, "waiting for the budget is not a failure");
    assert!(message.contains("media upload budget") && message.contains("beach.jpg"), "{message}");
    assert_eq!(paused, None, "the account is not paused: its other posts go on");
    assert_eq!(env.copies("x", "One more photo"), 0, "nothing was uploaded for it");

    // The window ends: it goes out.
    sqlx::query("update platform_account set media_budget_window_started_at = now() - interval '16 minutes' where account_id = $1;")
        .bind(x.account_id)
        .execute(&env.pool)
        .await
        .unwrap();
    sqlx::query("update delivery set next_attempt_at = now() where post_id = $1").bind(waiting).execute(&env.pool).await.unwrap();
    assert_eq!(env.step_with(four).await, [Published]);
    assert_eq!(received(&env, "x", "One more photo"), [(beach.sha256.clone(), "image/jpeg".to_owned(), Some("A beach".to_owned()))]);

    // An item needing more calls than a whole window holds goes alone in a fresh one.
    sqlx::query("update platform_account set media_budget_window_started_at = null, media_budget_used = 0 where account_id = $1")
        .bind(x.account_id)
        .execute(&env.pool)
        .await
        .unwrap();
    let video = env.upload("launch.mp4", &fixtures::mp4(&fixtures::VideoSpec::default()), "").await;
    env.post(&[x.account_id], "A long video", |p| p.content = attach(&p.content, &[(&video, None)])).await;
    let two = |c: &mut crier_publisher::PublisherConfig| {
        c.media_budgets = c.media_budgets.with(Platform::X, Some(Budget { limit: 2, window }));
    };
    assert_eq!(env.step_with(two).await, [Published], "initialize, append and finalize (3 calls) go in a fresh window of 2");
}

#[tokio::test]
async fn media_in_an_s3_store_is_read_by_range_and_published_byte_for_byte() {
    let mut env = env().await;
    env.media.store = MediaStore::open(&TestS3::shared().fresh_bucket("crier")).unwrap();
    // Small pieces, so the video goes as several APPENDs, each a range read from the bucket.
    env.media.upload.chunk_bytes = 256 * 1024;
    let x = env.connect_x("acme").await;
    let photo = env.upload("photo.jpg", &fixtures::photo(800, 600, 3, 9), "From the bucket").await;
    let video = env.upload("clip.mp4", &fixtures::mp4(&fixtures::VideoSpec::default()), "").await;
    let first = env.post(&[x.account_id], "A photo from S3", |p| p.content = attach(&p.content, &[(&photo, None)])).await;
    let second = env.post(&[x.account_id], "A video from S3", |p| p.content = attach(&p.content, &[(&video, None)])).await;
    assert_eq!(env.step().await, [Published, Published]);
    assert_eq!(
        received(&env, "x", "A photo from S3"),
        [(photo.sha256.clone(), "image/jpeg".to_owned(), Some("From the bucket".to_owned()))]
    );
    assert_eq!(received(&env, "x", "A video from S3"), [(video.sha256.clone(), "video/mp4".to_owned(), None)]);
    let (_, steps) = recorded(&env, second).await;
    assert!(steps.iter().filter(|s| s.starts_with("append")).count() >= 4, "the video went in pieces: {steps:?}");
    assert_eq!(recorded(&env, first).await.0.len(), 1);
}
