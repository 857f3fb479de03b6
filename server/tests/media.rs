//! Media over HTTP, end to end against the real app: uploads stream in, are sniffed, stripped of
//! their metadata and stored (in a directory, and in a real S3 server); the bytes go to the
//! team's members only, with headers that stop a browser running them; bad files, big files and a
//! full team are refused in words, leaving nothing behind.

mod support;

use std::path::Path;

use crier::config::FacebookVideoRoute;
use crier_media::fixtures::{self, GPS_SECRET, VideoSpec};
use crier_media::test_s3::TestS3;
use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_RANGE, CONTENT_SECURITY_POLICY, CONTENT_TYPE, RANGE};
use serde_json::Value;
use sha2::{Digest, Sha256};
use support::{Browser, TestApp, location};

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The one item an upload answered with.
async fn uploaded(response: reqwest::Response) -> Value {
    assert_eq!(response.status(), StatusCode::OK, "the upload succeeds");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errors"], serde_json::json!([]), "{body}");
    body["items"][0].clone()
}

/// The first error an upload answered with.
async fn refused(response: reqwest::Response, status: StatusCode) -> String {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["items"], serde_json::json!([]));
    body["errors"][0]["message"].as_str().unwrap().to_owned()
}

async fn media_rows(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from media_item").fetch_one(&app.pool).await.unwrap()
}

fn files_in(dir: &Path) -> usize {
    std::fs::read_dir(dir).map(|entries| entries.count()).unwrap_or(0)
}

async fn uploads_a_photo_and_serves_it_to_its_team_only(app: &TestApp) {
    let owner = app.owner("Acme", "owner@acme.example").await;
    let photo = fixtures::photo(640, 480, 6, 3);
    assert!(contains(&photo, GPS_SECRET), "the photo carries a position");
    let item = uploaded(owner.upload(&[("../../holiday.jpg", photo)], "  Our office at dawn ").await).await;
    assert_eq!(item["kind"], "image");
    assert_eq!(item["file_name"], "holiday.jpg", "a name is for display: no path");
    assert_eq!(item["alt_text"], "Our office at dawn");
    assert_eq!((item["facts"]["width"].as_u64(), item["facts"]["height"].as_u64()), (Some(480), Some(640)), "turned upright");
    let id = item["id"].as_str().unwrap();

    let response = owner.get(&format!("/media/{id}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    assert_eq!(headers[CONTENT_TYPE], "image/jpeg");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers[CONTENT_SECURITY_POLICY], "default-src 'none'; sandbox");
    assert!(headers[CONTENT_DISPOSITION].to_str().unwrap().starts_with("inline; filename=\"holiday.jpg\""));
    assert!(headers[CACHE_CONTROL].to_str().unwrap().starts_with("private"));
    let bytes = response.bytes().await.unwrap();
    assert!(!contains(&bytes, GPS_SECRET) && !contains(&bytes, b"Exif\0\0"), "no EXIF, no position in what is served (and published)");
    assert_eq!(&bytes[..2], b"\xFF\xD8");
    let stored: Vec<u8> =
        sqlx::query_scalar("select sha256 from media_item where media_id = $1::uuid").bind(id).fetch_one(&app.pool).await.unwrap();
    assert_eq!(stored, Sha256::digest(&bytes).to_vec(), "the recorded SHA-256 is of the served bytes");

    let thumbnail = owner.get(item["thumbnail_url"].as_str().unwrap()).await;
    assert_eq!(thumbnail.status(), StatusCode::OK);
    assert_eq!(thumbnail.headers()[CONTENT_TYPE], "image/jpeg");

    let partial = owner.client.get(format!("{}/media/{id}", owner.base)).header(RANGE, "bytes=0-9").send().await.unwrap();
    assert_eq!(partial.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(partial.headers()[CONTENT_RANGE], format!("bytes 0-9/{}", bytes.len()));
    assert_eq!(partial.bytes().await.unwrap(), bytes.slice(0..10));

    // Another team, and nobody signed in: as if it did not exist.
    let rival = app.owner("Rival", "owner@rival.example").await;
    for path in [format!("/media/{id}"), format!("/media/{id}/thumbnail")] {
        assert_eq!(rival.get(&path).await.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(app.browser().get(&path).await.status(), StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn a_photo_in_a_directory_store_loses_its_position_and_is_its_teams_alone() {
    let app = TestApp::spawn().await;
    uploads_a_photo_and_serves_it_to_its_team_only(&app).await;
    assert_eq!(files_in(&app.media.upload_dir), 0, "nothing is left in the upload directory");
}

#[tokio::test]
async fn a_photo_in_an_s3_store_loses_its_position_and_is_its_teams_alone() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = TestS3::shared().fresh_bucket("crier");
    let app = TestApp::spawn_with_media(dir.path(), |media| media.store = bucket).await;
    uploads_a_photo_and_serves_it_to_its_team_only(&app).await;
    assert!(!dir.path().join("media").exists(), "the bytes went to the bucket, not the data directory");
}

#[tokio::test]
async fn files_off_the_allow_list_are_refused_in_words_and_leave_nothing() {
    let app = TestApp::spawn().await;
    let owner = app.owner("Acme", "owner@acme.example").await;
    let svg = refused(owner.upload(&[("logo.svg", fixtures::svg())], "").await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(svg.contains("SVG") && svg.contains("JPEG, PNG, WebP, GIF, MP4 or PDF"), "{svg}");
    let html = refused(owner.upload(&[("photo.jpg", fixtures::html())], "").await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(html.contains("HTML"), "the name does not matter: {html}");
    let mut truncated = fixtures::photo(200, 100, 1, 1);
    truncated.truncate(truncated.len() / 2);
    let damaged = refused(owner.upload(&[("cut.jpg", truncated)], "").await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(damaged.to_lowercase().contains("damaged"), "{damaged}");
    let nothing = refused(owner.upload(&[], "").await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(nothing, "Choose a file to upload.");
    assert_eq!(media_rows(&app).await, 0);
    assert_eq!(files_in(&app.media.upload_dir), 0);
    assert_eq!(files_in(&app.media.upload_dir.with_file_name("media")), 0, "nothing was stored");
}

#[tokio::test]
async fn a_file_over_the_limit_or_the_teams_quota_is_refused_and_not_kept() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn_with_media(dir.path(), |media| {
        media.max_file_bytes = 1_000_000;
        media.team_quota_bytes = 1_500_000;
    })
    .await;
    let owner = app.owner("Acme", "owner@acme.example").await;
    let video = fixtures::mp4(&VideoSpec { data_bytes: 1_200_000, ..VideoSpec::default() });
    let big = refused(owner.upload(&[("big.mp4", video)], "").await, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert_eq!(big, "This file is larger than Crier accepts (1.0 MB). Make it smaller and upload it again.");

    let clip = fixtures::mp4(&VideoSpec { data_bytes: 900_000, ..VideoSpec::default() });
    uploaded(owner.upload(&[("first.mp4", clip.clone())], "").await).await;
    let full = refused(owner.upload(&[("second.mp4", clip)], "").await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(full.contains("past its media storage of 1.5 MB") && full.contains("Media page"), "{full}");
    assert_eq!(media_rows(&app).await, 1);
    assert_eq!(files_in(&app.media.upload_dir), 0);
}

#[tokio::test]
async fn a_plain_form_uploads_without_javascript_and_viewers_cannot_upload() {
    let app = TestApp::spawn().await;
    let owner = app.owner("Acme", "owner@acme.example").await;
    let form = reqwest::multipart::Form::new()
        .text("return_to", "/compose")
        .part("file", reqwest::multipart::Part::bytes(fixtures::png(40, 30, 2)).file_name("chart.png"))
        .part("file", reqwest::multipart::Part::bytes(fixtures::gif(20, 20, 3, 100)).file_name("loop.gif"));
    let response = owner.client.post(format!("{}/media/upload", owner.base)).multipart(form).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response).as_deref(), Some("/compose"));
    assert_eq!(media_rows(&app).await, 2);

    let evil = reqwest::multipart::Form::new()
        .text("return_to", "//evil.example/")
        .part("file", reqwest::multipart::Part::bytes(fixtures::pdf(2)).file_name("deck.pdf"));
    let response = owner.client.post(format!("{}/media/upload", owner.base)).multipart(evil).send().await.unwrap();
    assert_eq!(location(&response).as_deref(), Some("/media"), "only our own pages");

    let viewer = invite_viewer(&app, &owner).await;
    let response = viewer.upload(&[("chart.png", fixtures::png(40, 30, 2))], "").await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(media_rows(&app).await, 3);
}

async fn invite_viewer(app: &TestApp, owner: &Browser) -> Browser {
    let link: Value = owner.call("create_invite", &[("email", "viewer@acme.example"), ("role", "viewer")]).await.json().await.unwrap();
    let token = link["url"].as_str().unwrap_or_else(|| panic!("invite answer: {link}")).rsplit('/').next().unwrap().to_owned();
    let viewer = app.browser();
    let accepted = viewer.call("accept_invite", &[("token", &token), ("password", support::PASSWORD)]).await;
    assert_eq!(accepted.status(), StatusCode::OK, "{}", accepted.text().await.unwrap());
    viewer
}

#[tokio::test]
async fn a_signed_link_serves_its_item_until_it_expires_and_nothing_else() {
    let app = TestApp::spawn().await;
    let owner = app.owner("Acme", "owner@acme.example").await;
    let item = uploaded(owner.upload(&[("deck.pdf", fixtures::pdf(3))], "").await).await;
    let id: uuid::Uuid = item["id"].as_str().unwrap().parse().unwrap();
    let team: uuid::Uuid = sqlx::query_scalar("select team_id from media_item").fetch_one(&app.pool).await.unwrap();
    let links = crier_domain::media_link::MediaLinks::new(&app.vault);
    let anyone = app.browser();

    let good = links.path(team, id, chrono::Utc::now() + chrono::TimeDelta::minutes(5));
    let response = anyone.get(&good).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[CONTENT_TYPE], "application/pdf");
    assert!(response.headers()[CONTENT_DISPOSITION].to_str().unwrap().starts_with("attachment;"), "documents download");
    assert_eq!(&response.bytes().await.unwrap()[..5], b"%PDF-");

    let expired = links.path(team, id, chrono::Utc::now() - chrono::TimeDelta::minutes(1));
    assert_eq!(anyone.get(&expired).await.status(), StatusCode::FORBIDDEN);
    let other_item = good.replace(&id.to_string(), &uuid::Uuid::new_v4().to_string());
    assert_eq!(anyone.get(&other_item).await.status(), StatusCode::FORBIDDEN);
    let tampered = good.replace("expires=", "expires=9");
    assert_eq!(anyone.get(&tampered).await.status(), StatusCode::FORBIDDEN);
}

/// Schedules `text` now to `account` with `media_id` attached, as Compose does (the rules checked).
async fn schedule_with_media(app: &TestApp, account: &str, text: &str, media_id: uuid::Uuid) -> uuid::Uuid {
    use crier_domain::post::{MediaChoice, PostContent};
    use crier_domain::store::{audit::Actor, posts};
    let (team, user): (uuid::Uuid, uuid::Uuid) =
        sqlx::query_as("select team_id, user_id from app_user limit 1").fetch_one(&app.pool).await.unwrap();
    let content = PostContent::parse(text, [], "https://example.com/launch", [])
        .unwrap()
        .with_media(vec![MediaChoice { media_id, alt_text: None, platform: None, item: 0 }])
        .unwrap();
    let new = posts::NewPost {
        content,
        account_ids: vec![account.parse().unwrap()],
        scheduled_at: chrono::Utc::now(),
        timezone: crier_domain::timezone::TimeZone::UTC,
        dry_run: false,
        retry: Default::default(),
    };
    posts::schedule_all(&app.pool, team, Actor::User(user), &[new], &Default::default()).await.map_err(|(_, e)| e).unwrap()[0]
}

#[tokio::test]
async fn a_facebook_video_is_sent_in_chunks_with_the_page_token_and_published() {
    let steps = publishes_a_facebook_video(FacebookVideoRoute::Upload).await;
    assert_eq!(steps.first().map(String::as_str), Some("start"), "{steps:?}");
    assert!(steps.iter().any(|s| s.starts_with("transfer")), "{steps:?}");
    assert!(steps.contains(&"finish".to_owned()), "{steps:?}");
}

#[tokio::test]
async fn a_facebook_video_is_fetched_by_the_platform_from_a_signed_link_and_published() {
    let steps = publishes_a_facebook_video(FacebookVideoRoute::Link).await;
    assert_eq!(steps.first().map(String::as_str), Some("video"), "one call, Meta fetches the file: {steps:?}");
    assert!(!steps.iter().any(|s| s.starts_with("transfer")), "{steps:?}");
}

/// Publishes a video to a Facebook Page through `route` with the worker in the app's process, and
/// checks that Meta got exactly the stored bytes; answers the attempt's steps.
async fn publishes_a_facebook_video(route: FacebookVideoRoute) -> Vec<String> {
    let app = TestApp::spawn_with_worker_media(|media| media.facebook_video = route).await;
    let owner = app.owner("Acme", "owner@acme.example").await;
    let page = support::connect_facebook_page(&app, &owner, "Acme Page").await;
    let video = uploaded(owner.upload(&[("launch.mp4", fixtures::mp4(&VideoSpec::default()))], "").await).await;
    let video_id: uuid::Uuid = video["id"].as_str().unwrap().parse().unwrap();
    let post = schedule_with_media(&app, &page, "Watch the launch", video_id).await;

    // Published by the worker in this process: polled until the delivery has settled.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    let (state, error): (String, Option<String>) = loop {
        let row: (String, Option<String>) = sqlx::query_as("select state::text, last_error_message from delivery where post_id = $1")
            .bind(post)
            .fetch_one(&app.pool)
            .await
            .unwrap();
        if !["scheduled", "publishing", "retrying"].contains(&row.0.as_str()) {
            break row;
        }
        assert!(tokio::time::Instant::now() < deadline, "the video post settles within 30 s: {row:?}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!((state.as_str(), error), ("published", None));

    let ledger = app.sandbox_ledger().await;
    let entry = ledger.as_array().unwrap().iter().find(|e| e["platform"] == "facebook").expect("the post is in the ledger");
    assert_eq!(entry["text"], "Watch the launch\n\nhttps://example.com/launch", "the link goes in the message of a video post");
    let sha256: String = sqlx::query_scalar("select encode(sha256, 'hex') from media_item where media_id = $1")
        .bind(video_id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(entry["media"][0]["sha256"], sha256.as_str(), "Meta fetched exactly the stored bytes");
    let recorded: String =
        sqlx::query_scalar("select m.platform_media_id from delivery_media m join delivery d using (delivery_id) where d.post_id = $1")
            .bind(post)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(entry["media"][0]["media_id"], recorded, "the delivery records the video's id");
    let steps: serde_json::Value =
        sqlx::query_scalar("select t.steps from delivery_attempt t join delivery d using (delivery_id) where d.post_id = $1")
            .bind(post)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    steps.as_array().unwrap().iter().map(|s| s["step"].as_str().unwrap().to_owned()).collect()
}
