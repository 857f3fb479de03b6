//! Facebook Page media against the sandbox's Meta fake, over real HTTP: unpublished photos on one
//! feed post, a single photo post, a video through the resumable upload and its processing, a
//! video through the chunked upload on the Page's `/videos` with the Page token alone; alt text and
//! the exact bytes in the ledger; refusals, a failed chunk resumed or sent again, processing that
//! never ends, expired photos, throttling, and bounded reads.

#[path = "support/media.rs"]
mod media;
mod support;

use std::time::Duration;

use chrono::TimeDelta;
use crier_clients::{ErrorClass, FacebookClient, FacebookSettings, TokenSet, UploadOptions, VideoSource};
use crier_media::{ContentType, MediaKind};
use crier_protocol::facebook::DEFAULT_GRAPH_VERSION;
use crier_protocol::media::{MEDIA_PROCESSING_FAILED, MEDIA_PROCESSING_TIMEOUT};
use crier_sandbox::FacebookMediaLimits;
use media::{Synthetic, gif_header, jpeg_header, mp4_header, options, png_header};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use support::{Harness, query};
use url::Url;

const APP_ID: &str = "1234567890123456";
const APP_SECRET: &str = "meta-app-secret-value";
const REDIRECT: &str = "http://localhost:3000/connect/facebook/callback";
const PAGE: &str = "422575694827569";
const SECOND_PAGE: &str = "112130216863063";

struct Fb {
    h: Harness,
    meta: FacebookClient,
    user: SecretString,
    page: SecretString,
}

async fn start_with(tweak: impl FnOnce(&mut FacebookMediaLimits)) -> Fb {
    let h = support::serve(
        |config| tweak(&mut config.facebook_media),
        |sandbox| sandbox.register_facebook_app(APP_ID, APP_SECRET, REDIRECT, "Crier"),
    )
    .await;
    let meta =
        FacebookClient::with_clock(FacebookSettings::sandbox(&h.base, APP_ID.into(), SecretString::from(APP_SECRET)), h.client_clock());
    let redirect = Url::parse(REDIRECT).unwrap();
    let start = meta.start_authorization(&redirect);
    let back = h.consent(&start.url, |_| {}, "authorize").await;
    let user: TokenSet = meta.exchange_code(&query(&back, "code").unwrap(), None, &redirect).await.unwrap();
    let page = meta.pages(&user.access_token).await.unwrap().into_iter().find(|p| p.id == PAGE).unwrap().access_token;
    Fb { h, meta, user: user.access_token, page }
}

async fn start() -> Fb {
    start_with(|_| {}).await
}

fn steps<T>(upload: &crier_clients::Stepped<T>) -> Vec<&str> {
    upload.steps.iter().map(|s| s.step.as_str()).collect()
}

#[tokio::test]
async fn unpublished_photos_with_alt_text_on_one_feed_post() {
    let Fb { h, meta, page, .. } = start().await;
    let items = [
        (Synthetic::new(jpeg_header(1080, 1080), 40_000), ContentType::Jpeg),
        (Synthetic::new(png_header(640, 480), 30_000), ContentType::Png),
    ];
    let mut ids = Vec::new();
    for (i, (item, ct)) in items.iter().enumerate() {
        let alt = format!("photo {i}");
        let upload = meta.upload_photo(PAGE, &page, &item.upload(MediaKind::Image, *ct, "p", Some(&alt)), &options(&h, 4096)).await;
        assert_eq!(steps(&upload), ["photo"]);
        let photo = upload.value.unwrap();
        assert_eq!(photo.expires_at, Some(h.now() + TimeDelta::hours(24)));
        ids.push(photo.platform_media_id);
    }
    let published = meta.publish_photos(PAGE, &page, "Two photos", &ids).await.value.unwrap();
    assert!(published.external_id.starts_with(&format!("{PAGE}_")));
    let recorded = h.sandbox.post_media("facebook", &published.external_id);
    let got: Vec<(&str, &str, Option<&str>)> =
        recorded.iter().map(|m| (m.media_id.as_str(), m.sha256.as_str(), m.alt_text.as_deref())).collect();
    let shas: Vec<String> = items.iter().map(|(i, _)| i.sha256()).collect();
    assert_eq!(got, [(ids[0].as_str(), shas[0].as_str(), Some("photo 0")), (ids[1].as_str(), shas[1].as_str(), Some("photo 1"))]);
    assert_eq!(h.sandbox.ledger().last().unwrap().text, "Two photos");
    // A photo is attached once: used again, it is gone.
    let e = meta.publish_photos(PAGE, &page, "Again", &ids[..1]).await.value.unwrap_err();
    assert!(e.is_media_expired(), "{e:?}");
}

#[tokio::test]
async fn a_single_photo_post_and_a_gif() {
    let Fb { h, meta, page, .. } = start().await;
    let gif = Synthetic::new(gif_header(200, 200), 12_000);
    let posted = meta
        .publish_photo(PAGE, &page, "A GIF", &gif.upload(MediaKind::Gif, ContentType::Gif, "g.gif", Some("Waving")), &options(&h, 4096))
        .await;
    assert_eq!(steps(&posted), ["photo post"]);
    let published = posted.value.unwrap();
    let recorded = h.sandbox.post_media("facebook", &published.external_id);
    assert_eq!((recorded[0].sha256.as_str(), recorded[0].alt_text.as_deref()), (gif.sha256().as_str(), Some("Waving")));
    assert_eq!(h.sandbox.ledger().last().unwrap().text, "A GIF");
}

#[tokio::test]
async fn a_video_through_the_resumable_upload_in_bounded_chunks() {
    let Fb { h, meta, user, page } = start().await;
    let size = 350_000;
    let video = Synthetic::new(mp4_header(1920, 1080), size);
    let upload =
        meta.upload_video(&user, &video.upload(MediaKind::Video, ContentType::Mp4, "launch.mp4", None), &options(&h, 100_000)).await;
    assert_eq!(steps(&upload), ["session", "transfer 1 of 4", "transfer 2 of 4", "transfer 3 of 4", "transfer 4 of 4"]);
    assert_eq!(video.largest_read(), 100_000);
    let handle = upload.value.unwrap().platform_media_id;
    let published = meta.publish_video(PAGE, &page, VideoSource::Handle(&handle), "Our launch", Some("Launch")).await.value.unwrap();
    let recorded = h.sandbox.post_media("facebook", &published.external_id);
    assert_eq!(
        (recorded[0].media_id.as_str(), recorded[0].sha256.as_str(), recorded[0].byte_size),
        (published.external_id.as_str(), video.sha256().as_str(), size)
    );
    assert_eq!(h.sandbox.ledger().last().unwrap().text, "Our launch");
    let ready = meta.wait_for_video(&published.external_id, &page, &options(&h, 4096)).await;
    assert_eq!(steps(&ready), ["status", "status"]);
    ready.value.unwrap();
}

#[tokio::test]
async fn refusals_are_permanent_with_meta_reasons() {
    let Fb { h, meta, user, page } = start_with(|l| {
        l.photo_max_bytes = 10_000;
        l.max_attached_photos = 2;
    })
    .await;
    let opts = options(&h, 4096);
    // Wrong type: WebP is not a photo Meta takes here, PDF bytes neither.
    for (bytes, ct) in [(b"RIFF\0\0\0\0WEBPVP8 ".to_vec(), ContentType::Webp), (b"%PDF-1.7\n".to_vec(), ContentType::Png)] {
        let item = Synthetic::new(bytes, 2000);
        let e = meta.upload_photo(PAGE, &page, &item.upload(MediaKind::Image, ct, "x", None), &opts).await.value.unwrap_err();
        assert_eq!((e.class, e.code.as_deref(), e.message.as_str()), (ErrorClass::Permanent, Some("324"), "Missing or invalid image file"));
    }
    // Too large.
    let big = Synthetic::new(png_header(10, 10), 10_001);
    let e =
        meta.upload_photo(PAGE, &page, &big.upload(MediaKind::Image, ContentType::Png, "big.png", None), &opts).await.value.unwrap_err();
    assert_eq!((e.class, e.code.as_deref()), (ErrorClass::Permanent, Some("100")));
    // Too many photos on one post.
    let mut ids = Vec::new();
    for i in 0..3 {
        let png = Synthetic::new(png_header(10 + i, 10), 1000);
        ids.push(
            meta.upload_photo(PAGE, &page, &png.upload(MediaKind::Image, ContentType::Png, "p", None), &opts)
                .await
                .value
                .unwrap()
                .platform_media_id,
        );
    }
    let e = meta.publish_photos(PAGE, &page, "Three", &ids).await.value.unwrap_err();
    assert_eq!(e.class, ErrorClass::Permanent);
    assert!(!e.is_media_expired() && e.message.contains("At most 2 photos"), "{e}");
    // A video whose processing fails, with the reason.
    h.control("/control/facebook/faults", json!({"processing_failure": "Video format not supported"})).await;
    let video = Synthetic::new(mp4_header(640, 360), 50_000);
    let handle = meta
        .upload_video(&user, &video.upload(MediaKind::Video, ContentType::Mp4, "v.mp4", None), &opts)
        .await
        .value
        .unwrap()
        .platform_media_id;
    let published = meta.publish_video(PAGE, &page, VideoSource::Handle(&handle), "Broken", None).await.value.unwrap();
    let e = meta.wait_for_video(&published.external_id, &page, &opts).await.value.unwrap_err();
    assert_eq!((e.class, e.code.as_deref()), (ErrorClass::Permanent, Some(MEDIA_PROCESSING_FAILED)));
    assert!(e.message.ends_with("Video format not supported"), "{e}");
    // A resumable session needs a user token (§3.2): the Page token is refused.
    let upload = meta.upload_video(&page, &video.upload(MediaKind::Video, ContentType::Mp4, "v.mp4", None), &opts).await;
    assert_eq!(steps(&upload), ["session"]);
    assert_eq!(upload.value.unwrap_err().status, Some(400));
}

#[tokio::test]
async fn a_failed_chunk_is_resumed_from_where_the_session_stands() {
    let Fb { h, meta, user, page } = start().await;
    let transient = json!({"error": {"message": "An unexpected error has occurred. Please retry your request later.", "type": "OAuthException", "code": 2, "is_transient": true}});
    h.control("/control/facebook/faults", json!({"next_responses": [{"on": "transfer", "after": 1, "status": 500, "body": transient}]}))
        .await;
    let video = Synthetic::new(mp4_header(640, 360), 250_000);
    let upload = meta.upload_video(&user, &video.upload(MediaKind::Video, ContentType::Mp4, "v.mp4", None), &options(&h, 100_000)).await;
    assert_eq!(steps(&upload), ["session", "transfer 1 of 3", "transfer 2 of 3", "resume", "transfer 2 of 3 (retry 1)", "transfer 3 of 3"]);
    let handle = upload.value.unwrap().platform_media_id;
    let published = meta.publish_video(PAGE, &page, VideoSource::Handle(&handle), "Resumed", None).await.value.unwrap();
    assert_eq!(h.sandbox.post_media("facebook", &published.external_id)[0].sha256, video.sha256());
}

#[tokio::test]
async fn a_stuck_video_hits_the_cap_as_temporary() {
    let Fb { h, meta, user, page } = start().await;
    h.control("/control/facebook/faults", json!({"processing_stuck": true})).await;
    let video = Synthetic::new(mp4_header(640, 360), 50_000);
    let handle = meta
        .upload_video(&user, &video.upload(MediaKind::Video, ContentType::Mp4, "v.mp4", None), &options(&h, 65_536))
        .await
        .value
        .unwrap()
        .platform_media_id;
    let published = meta.publish_video(PAGE, &page, VideoSource::Handle(&handle), "Stuck", None).await.value.unwrap();
    let opts = UploadOptions { max_processing_wait: Duration::from_secs(20), ..options(&h, 4096) };
    let waited = meta.wait_for_video(&published.external_id, &page, &opts).await;
    let e = waited.value.unwrap_err();
    assert_eq!((e.class, e.code.as_deref()), (ErrorClass::Temporary, Some(MEDIA_PROCESSING_TIMEOUT)));
    assert_eq!(waited.steps.len(), 4);
}

#[tokio::test]
async fn a_photo_older_than_a_day_is_gone_at_post_time() {
    let Fb { h, meta, page, .. } = start().await;
    let png = Synthetic::new(png_header(10, 10), 1000);
    let photo =
        meta.upload_photo(PAGE, &page, &png.upload(MediaKind::Image, ContentType::Png, "p", None), &options(&h, 4096)).await.value.unwrap();
    h.clock.advance(Duration::from_secs(24 * 3600 + 1));
    let e = meta.publish_photos(PAGE, &page, "Late", &[photo.platform_media_id]).await.value.unwrap_err();
    assert!(e.is_media_expired(), "{e:?}");
    assert_eq!(e.class, ErrorClass::Temporary);
}

#[tokio::test]
async fn a_throttled_photo_upload_is_rate_limited_with_the_regain_estimate() {
    let Fb { h, meta, page, .. } = start().await;
    let buc =
        json!({PAGE: [{"type": "pages", "call_count": 100, "total_cputime": 10, "total_time": 10, "estimated_time_to_regain_access": 9}]})
            .to_string();
    let body =
        json!({"error": {"message": "(#32) Page request limit reached", "type": "OAuthException", "code": 32, "is_transient": true}});
    h.control(
        "/control/facebook/faults",
        json!({"next_responses": [{"on": "photos", "status": 400, "body": body, "headers": {"x-business-use-case-usage": buc}}]}),
    )
    .await;
    let png = Synthetic::new(png_header(10, 10), 1000);
    let upload = meta.upload_photo(PAGE, &page, &png.upload(MediaKind::Image, ContentType::Png, "p", None), &options(&h, 4096)).await;
    assert_eq!(upload.value.clone().unwrap_err().class, ErrorClass::RateLimited { until: h.now() + TimeDelta::minutes(9) });
    assert_eq!(upload.budget().unwrap().usage_percent, Some(100));
}

#[tokio::test]
async fn a_video_by_url_is_fetched_only_from_crier_media_links() {
    let Fb { meta, page, .. } = start().await;
    // The fake fetches Crier's own signed links only (`<crier>/media/link/…`): anything else is
    // Meta's 389, whatever it points at.
    for url in ["http://169.254.169.254/latest/meta-data/", "http://127.0.0.1:1/media/link/x/y"] {
        let error = meta.publish_video(PAGE, &page, VideoSource::Url(url), "Launch", None).await.value.unwrap_err();
        assert_eq!(error.class, ErrorClass::Permanent, "{error:?}");
        assert!(error.message.contains("Unable to fetch video file from URL"), "{}", error.message);
    }
}

/// The Meta fake's ranges for the chunked upload in these tests: a 100,000-byte video takes four.
const META_RANGE: u64 = 30_000;

#[tokio::test]
async fn a_page_video_in_chunks_with_the_page_token_alone() {
    let Fb { h, meta, page, .. } = start_with(|l| l.page_upload_chunk_bytes = META_RANGE).await;
    let size = 100_000;
    let four = ["start", "transfer 1 of 4", "transfer 2 of 4", "transfer 3 of 4", "transfer 4 of 4", "finish"];
    // Meta's ranges are smaller than the client's chunks: each is sent whole.
    let video = Synthetic::new(mp4_header(1280, 720), size);
    let upload = video.upload(MediaKind::Video, ContentType::Mp4, "launch.mp4", None);
    let posted = meta.upload_page_video(PAGE, &page, &upload, "Our launch", Some("Launch"), &options(&h, 64 * 1024)).await;
    assert_eq!(steps(&posted), four);
    assert_eq!(*video.reads.lock().unwrap(), [0..30_000, 30_000..60_000, 60_000..90_000, 90_000..100_000]);
    let published = posted.value.unwrap();
    let recorded = h.sandbox.post_media("facebook", &published.external_id);
    assert_eq!(
        (recorded[0].media_id.as_str(), recorded[0].content_type.as_str(), recorded[0].sha256.as_str(), recorded[0].byte_size),
        (published.external_id.as_str(), "video/mp4", video.sha256().as_str(), size)
    );
    assert_eq!(h.sandbox.ledger().last().unwrap().text, "Our launch");
    let ready = meta.wait_for_video(&published.external_id, &page, &options(&h, 4096)).await;
    ready.value.unwrap();
    // Meta's ranges are larger than the client's chunks: no more than a chunk is read and sent at
    // once, and Meta's answer says where to go on.
    let video = Synthetic::new(mp4_header(640, 360), size);
    let upload = video.upload(MediaKind::Video, ContentType::Mp4, "teaser.mp4", None);
    let posted = meta.upload_page_video(PAGE, &page, &upload, "The teaser", None, &options(&h, 25_000)).await;
    assert_eq!(steps(&posted), four);
    assert_eq!(*video.reads.lock().unwrap(), [0..25_000, 25_000..50_000, 50_000..75_000, 75_000..100_000]);
    let published = posted.value.unwrap();
    assert_eq!(h.sandbox.post_media("facebook", &published.external_id)[0].sha256, video.sha256());
    assert_eq!(h.sandbox.ledger().last().unwrap().text, "The teaser");
}

#[tokio::test]
async fn a_failed_page_video_transfer_is_sent_again_from_the_same_offset() {
    let Fb { h, meta, page, .. } = start_with(|l| l.page_upload_chunk_bytes = META_RANGE).await;
    let transient = json!({"error": {"message": "An unexpected error has occurred. Please retry your request later.", "type": "OAuthException", "code": 2, "is_transient": true}});
    h.control("/control/facebook/faults", json!({"next_responses": [{"on": "transfer", "after": 1, "status": 500, "body": transient}]}))
        .await;
    let video = Synthetic::new(mp4_header(640, 360), 100_000);
    let upload = video.upload(MediaKind::Video, ContentType::Mp4, "v.mp4", None);
    let posted = meta.upload_page_video(PAGE, &page, &upload, "Sent again", None, &options(&h, 64 * 1024)).await;
    assert_eq!(
        steps(&posted),
        ["start", "transfer 1 of 4", "transfer 2 of 4", "transfer 2 of 4 (retry 1)", "transfer 3 of 4", "transfer 4 of 4", "finish"]
    );
    assert_eq!(posted.steps[2].http_status, Some(500));
    assert_eq!(*video.reads.lock().unwrap(), [0..30_000, 30_000..60_000, 30_000..60_000, 60_000..90_000, 90_000..100_000]);
    let published = posted.value.unwrap();
    assert_eq!(h.sandbox.post_media("facebook", &published.external_id)[0].sha256, video.sha256());
    let posts: Vec<_> = h.sandbox.ledger().into_iter().filter(|e| e.platform == "facebook").map(|e| e.post_id).collect();
    assert_eq!(posts, [published.external_id]);
}

#[tokio::test]
async fn a_failed_finish_is_not_sent_again() {
    // Without an answer to `finish` the post may exist: the error goes back as it is, for the
    // caller to reconcile, and `finish` is not sent again.
    let Fb { h, meta, page, .. } = start_with(|l| l.page_upload_chunk_bytes = META_RANGE).await;
    let transient = json!({"error": {"message": "An unexpected error has occurred. Please retry your request later.", "type": "OAuthException", "code": 2, "is_transient": true}});
    h.control("/control/facebook/faults", json!({"next_responses": [{"on": "finish", "status": 500, "body": transient}]})).await;
    let video = Synthetic::new(mp4_header(640, 360), 50_000);
    let upload = video.upload(MediaKind::Video, ContentType::Mp4, "v.mp4", None);
    let posted = meta.upload_page_video(PAGE, &page, &upload, "Unanswered", None, &options(&h, 64 * 1024)).await;
    assert_eq!(steps(&posted), ["start", "transfer 1 of 2", "transfer 2 of 2", "finish"]);
    assert_eq!(posted.value.unwrap_err().class, ErrorClass::Temporary);
}

#[tokio::test]
async fn an_image_is_not_a_page_video() {
    let Fb { h, meta, page, .. } = start().await;
    let png = Synthetic::new(png_header(10, 10), 1000);
    let upload = png.upload(MediaKind::Image, ContentType::Png, "p.png", None);
    let posted = meta.upload_page_video(PAGE, &page, &upload, "Not a video", None, &options(&h, 4096)).await;
    assert!(posted.steps.is_empty());
    assert_eq!(posted.value.unwrap_err().class, ErrorClass::Permanent);
    assert!(png.reads.lock().unwrap().is_empty());
    assert!(h.sandbox.ledger().is_empty());
}

/// A chunked upload's `transfer` as a client sends it: the text fields, then the bytes.
async fn transfer(http: &reqwest::Client, url: &str, token: &SecretString, session: &str, offset: u64, bytes: &[u8]) -> reqwest::Response {
    let boundary = "crier-test-boundary";
    let mut body = Vec::new();
    for (name, value) in [("upload_phase", "transfer"), ("upload_session_id", session), ("start_offset", &offset.to_string())] {
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes());
    }
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"video_file_chunk\"; filename=\"v.mp4\"\r\nContent-Type: video/mp4\r\n\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let content_type = format!("multipart/form-data; boundary={boundary}");
    http.post(url).bearer_auth(token.expose_secret()).header("content-type", content_type).body(body).send().await.unwrap()
}

#[tokio::test]
async fn a_chunked_upload_refuses_finish_before_every_byte_and_chunks_out_of_place() {
    let Fb { h, meta, user, page } = start_with(|l| {
        l.page_upload_chunk_bytes = 1000;
        l.video_max_bytes = 10_000;
    })
    .await;
    let second = meta.pages(&user).await.unwrap().into_iter().find(|p| p.id == SECOND_PAGE).unwrap().access_token;
    let http = reqwest::Client::new();
    let videos = |page_id: &str| format!("{}/facebook/{DEFAULT_GRAPH_VERSION}/{page_id}/videos", h.base);
    let form = |page_id: &str, token: &SecretString, form: &[(&str, &str)]| {
        http.post(videos(page_id)).bearer_auth(token.expose_secret()).form(form).send()
    };
    async fn refused(response: reqwest::Response) -> (u16, u64, String) {
        let status = response.status().as_u16();
        let body: serde_json::Value = response.json().await.unwrap();
        (status, body["error"]["code"].as_u64().unwrap_or_default(), body["error"]["message"].as_str().unwrap_or_default().to_owned())
    }
    let started: serde_json::Value =
        form(PAGE, &page, &[("upload_phase", "start"), ("file_size", "5000")]).await.unwrap().json().await.unwrap();
    assert_eq!((&started["start_offset"], &started["end_offset"]), (&json!("0"), &json!("1000")));
    let session = started["upload_session_id"].as_str().unwrap();
    let mp4 = mp4_header(640, 360);
    // The first range goes in, and the next is asked for.
    let first = [mp4.as_slice(), &[0u8; 1000]].concat();
    let next: serde_json::Value = transfer(&http, &videos(PAGE), &page, session, 0, &first[..1000]).await.json().await.unwrap();
    assert_eq!(next, json!({"start_offset": "1000", "end_offset": "2000"}));
    // Finishing before every byte is in is refused.
    let finish = [("upload_phase", "finish"), ("upload_session_id", session), ("description", "Too soon")];
    let (status, code, message) = refused(form(PAGE, &page, &finish).await.unwrap()).await;
    assert_eq!((status, code), (400, 100));
    assert!(message.contains("1000 of 5000 bytes"), "{message}");
    // A chunk that is not where the upload stands is refused.
    let (status, code, message) = refused(transfer(&http, &videos(PAGE), &page, session, 2000, &[7u8; 1000]).await).await;
    assert_eq!((status, code), (400, 100));
    assert!(message.contains("start_offset 2000 does not match the upload, which has 1000 bytes"), "{message}");
    // Another Page's token does not reach the session; an unknown session is no session.
    let (_, code, message) = refused(form(SECOND_PAGE, &second, &finish).await.unwrap()).await;
    assert_eq!(code, 100);
    assert!(message.contains("does not exist or has expired"), "{message}");
    let unknown = [("upload_phase", "finish"), ("upload_session_id", "nope"), ("description", "?")];
    assert_eq!(refused(form(PAGE, &page, &unknown).await.unwrap()).await.1, 100);
    // Larger than the Page takes.
    let (_, code, message) = refused(form(PAGE, &page, &[("upload_phase", "start"), ("file_size", "10001")]).await.unwrap()).await;
    assert_eq!(code, 100);
    assert!(message.contains("at most 10000 bytes"), "{message}");
    // A day on, the session is gone.
    h.clock.advance(Duration::from_secs(24 * 3600 + 1));
    let (_, code, message) = refused(form(PAGE, &page, &finish).await.unwrap()).await;
    assert_eq!(code, 100);
    assert!(message.contains("does not exist or has expired"), "{message}");
    assert!(h.sandbox.ledger().is_empty());
}
