//! X media uploads against the sandbox's X fake, over real HTTP: every kind, alt text, the exact
//! bytes in the ledger, each refusal, injected faults on single steps, processing that never ends,
//! expired ids, and bounded reads.

#[path = "support/media.rs"]
mod media;
mod support;

use std::sync::Arc;
use std::time::Duration;

use chrono::TimeDelta;
use crier_clients::{ErrorClass, OAuth1Credentials, UploadOptions, XAuth, XClient, XPost, XSettings};
use crier_media::{ContentType, MediaKind};
use crier_protocol::media::{MEDIA_PROCESSING_FAILED, MEDIA_PROCESSING_TIMEOUT};
use crier_sandbox::XMediaLimits;
use media::{PIECE, Synthetic, gif_header, jpeg_header, mp4_header, options, png_header};
use secrecy::SecretString;
use serde_json::json;
use support::Harness;

const USERNAME: &str = "media_user";

async fn start_with(tweak: impl FnOnce(&mut XMediaLimits)) -> (Harness, XClient, XAuth) {
    let h = support::serve(|config| tweak(&mut config.x_media), |_| {}).await;
    h.sandbox.register_x_oauth1("ck", "cs", "at-media", "ts", USERNAME);
    let x = XClient::with_clock(XSettings::sandbox(&h.base, "unused".into(), SecretString::from("unused")), h.client_clock());
    let auth = XAuth::OAuth1(OAuth1Credentials {
        consumer_key: "ck".into(),
        consumer_secret: SecretString::from("cs"),
        token: "at-media".into(),
        token_secret: SecretString::from("ts"),
    });
    (h, x, auth)
}

async fn start() -> (Harness, XClient, XAuth) {
    start_with(|_| {}).await
}

fn steps(upload: &crier_clients::Upload) -> Vec<&str> {
    upload.steps.iter().map(|s| s.step.as_str()).collect()
}

#[tokio::test]
async fn an_image_with_alt_text_goes_in_one_request_and_the_ledger_has_its_bytes() {
    let (h, x, auth) = start().await;
    let png = Synthetic::new(png_header(640, 480), 20_000);
    let upload =
        x.upload_media(&auth, &png.upload(MediaKind::Image, ContentType::Png, "cat.png", Some("A cat on a mat")), &options(&h, 4096)).await;
    let media = upload.value.clone().unwrap();
    assert_eq!(steps(&upload), ["upload", "metadata"]);
    assert!(upload.steps.iter().all(|s| s.http_status == Some(200)), "{:?}", upload.steps);
    assert_eq!(media.expires_at, Some(h.now() + TimeDelta::hours(24)));
    // X's media windows are reported (one-shot: 500 per 15 minutes, one used).
    let budget = upload.steps[0].budget.unwrap();
    assert_eq!((budget.limit, budget.remaining), (Some(500), Some(499)));
    // One-shot images are one request by X's design, still read as one streamed range.
    assert_eq!(png.reads.lock().unwrap().clone(), vec![0..20_000u64]);

    let post = XPost { text: "Look".into(), media_ids: vec![media.platform_media_id.clone()], in_reply_to: None };
    let published = x.publish_post(&auth, &post).await.value.unwrap();
    let ledger = h.sandbox.ledger();
    assert_eq!(ledger.last().unwrap().post_id, published.external_id);
    let recorded = h.sandbox.post_media("x", &published.external_id);
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].media_id, media.platform_media_id);
    assert_eq!(recorded[0].sha256, png.sha256());
    assert_eq!((recorded[0].content_type.as_str(), recorded[0].byte_size), ("image/png", 20_000));
    assert_eq!(recorded[0].alt_text.as_deref(), Some("A cat on a mat"));
    // The control API shows the same, under the entry.
    let over_http: serde_json::Value = h.browser.get(format!("{}/control/ledger", h.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(over_http[0]["media"][0]["sha256"], json!(png.sha256()));
}

#[tokio::test]
async fn four_images_keep_their_order() {
    let (h, x, auth) = start().await;
    let items = [
        (Synthetic::new(png_header(100, 100), 3000), ContentType::Png),
        (Synthetic::new(jpeg_header(200, 100), 4000), ContentType::Jpeg),
        (Synthetic::new(png_header(50, 80), 5000), ContentType::Png),
        (Synthetic::new(jpeg_header(80, 50), 6000), ContentType::Jpeg),
    ];
    let mut ids = Vec::new();
    for (i, (item, ct)) in items.iter().enumerate() {
        let alt = format!("image {i}");
        let upload = x.upload_media(&auth, &item.upload(MediaKind::Image, *ct, "i", Some(&alt)), &options(&h, 4096)).await;
        ids.push(upload.value.unwrap().platform_media_id);
    }
    let published = x.publish_post(&auth, &XPost { text: "Four".into(), media_ids: ids.clone(), in_reply_to: None }).await.value.unwrap();
    let recorded = h.sandbox.post_media("x", &published.external_id);
    let got: Vec<(&str, &str, Option<&str>)> =
        recorded.iter().map(|m| (m.media_id.as_str(), m.sha256.as_str(), m.alt_text.as_deref())).collect();
    let shas: Vec<String> = items.iter().map(|(i, _)| i.sha256()).collect();
    let alts = ["image 0", "image 1", "image 2", "image 3"];
    let expected: Vec<(&str, &str, Option<&str>)> = (0..4).map(|i| (ids[i].as_str(), shas[i].as_str(), Some(alts[i]))).collect();
    assert_eq!(got, expected);

    // A fifth id is refused before any call; X refuses a GIF beside images.
    let five = XPost { text: "Five".into(), media_ids: [ids.clone(), vec![ids[0].clone()]].concat(), in_reply_to: None };
    assert_eq!(x.publish_post(&auth, &five).await.value.unwrap_err().class, ErrorClass::Permanent);
    let gif = Synthetic::new(gif_header(10, 10), 2000);
    let gif_id =
        x.upload_media(&auth, &gif.upload(MediaKind::Gif, ContentType::Gif, "g.gif", None), &options(&h, 4096)).await.value.unwrap();
    let mixed = XPost { text: "Mixed".into(), media_ids: vec![ids[0].clone(), gif_id.platform_media_id], in_reply_to: None };
    let e = x.publish_post(&auth, &mixed).await.value.unwrap_err();
    assert_eq!((e.class, e.status), (ErrorClass::Permanent, Some(400)));
    assert!(e.message.contains("1 animated GIF or 1 video"), "{e}");
}

#[tokio::test]
async fn a_gif_is_chunked_processed_and_polled_honouring_check_after_secs() {
    let (h, x, auth) = start().await;
    let gif = Synthetic::new(gif_header(320, 240), 250_000);
    let started = h.now();
    let upload =
        x.upload_media(&auth, &gif.upload(MediaKind::Gif, ContentType::Gif, "dance.gif", Some("Dancing")), &options(&h, 100_000)).await;
    let media = upload.value.clone().unwrap();
    assert_eq!(
        steps(&upload),
        ["initialize", "append 1 of 3", "append 2 of 3", "append 3 of 3", "finalize", "status", "status", "metadata"]
    );
    // Two polls, each after the announced second: the clock moved two seconds, nobody waited.
    assert_eq!(h.now() - started, TimeDelta::seconds(2));
    assert!(gif.largest_read() <= 100_000);
    let published =
        x.publish_post(&auth, &XPost { text: String::new(), media_ids: vec![media.platform_media_id], in_reply_to: None }).await;
    let recorded = h.sandbox.post_media("x", &published.value.unwrap().external_id);
    assert_eq!((recorded[0].sha256.as_str(), recorded[0].content_type.as_str()), (gif.sha256().as_str(), "image/gif"));
    assert_eq!(recorded[0].alt_text.as_deref(), Some("Dancing"));
}

#[tokio::test]
async fn a_video_streams_in_bounded_chunks_and_goes_on_a_thread_reply() {
    let (h, x, auth) = start().await;
    let size = 3 * 1024 * 1024 + 123;
    let video = Synthetic::new(mp4_header(1280, 720), size);
    let chunk = 256 * 1024;
    let upload = x
        .upload_media(&auth, &video.upload(MediaKind::Video, ContentType::Mp4, "clip.mp4", Some("ignored on video")), &options(&h, chunk))
        .await;
    let media = upload.value.clone().unwrap();
    let appends = upload.steps.iter().filter(|s| s.step.starts_with("append")).count();
    assert_eq!(appends, 13);
    assert!(!steps(&upload).contains(&"metadata"), "X takes no alt text on video");
    // Every read is one chunk at most, and the source made them a piece at a time.
    assert_eq!(video.largest_read(), chunk);
    assert!(PIECE <= chunk);
    let reads = video.reads.lock().unwrap().clone();
    assert_eq!(reads.iter().map(|r| r.end - r.start).sum::<u64>(), size);

    let posts = [
        XPost { text: "Part one".into(), ..XPost::default() },
        XPost { text: "Part two, with the video".into(), media_ids: vec![media.platform_media_id.clone()], in_reply_to: None },
    ];
    let thread = x.publish_thread_posts(&auth, &posts, None).await;
    assert!(thread.failure.is_none(), "{:?}", thread.failure);
    let ledger = h.sandbox.ledger();
    assert_eq!(ledger[1].in_reply_to.as_deref(), Some(thread.published[0].external_id.as_str()));
    assert!(h.sandbox.post_media("x", &thread.published[0].external_id).is_empty());
    let recorded = h.sandbox.post_media("x", &thread.published[1].external_id);
    assert_eq!((recorded[0].sha256.clone(), recorded[0].byte_size, recorded[0].alt_text.clone()), (video.sha256(), size, None));
}

#[tokio::test]
async fn refusals_are_permanent_with_x_reasons() {
    let (h, x, auth) = start_with(|l| {
        l.image_max_bytes = 10_000;
        l.video_max_bytes = 1_000_000;
    })
    .await;
    let opts = options(&h, 64 * 1024);
    // Too large: the one-shot image over its limit, the video at initialize.
    let big = Synthetic::new(png_header(10, 10), 10_001);
    let e = x.upload_media(&auth, &big.upload(MediaKind::Image, ContentType::Png, "big.png", None), &opts).await.value.unwrap_err();
    assert_eq!((e.class, e.status), (ErrorClass::Permanent, Some(400)));
    assert!(e.message.contains("10000-byte limit"), "{e}");
    let long = Synthetic::new(mp4_header(640, 360), 1_000_001);
    let upload = x.upload_media(&auth, &long.upload(MediaKind::Video, ContentType::Mp4, "long.mp4", None), &opts).await;
    assert_eq!(steps(&upload), ["initialize"]);
    assert_eq!(upload.value.unwrap_err().class, ErrorClass::Permanent);
    // Wrong type: PDF bytes said to be a PNG → "media type unrecognized" (plain text).
    let pdf = Synthetic::new(b"%PDF-1.7\n".to_vec(), 2000);
    let e = x.upload_media(&auth, &pdf.upload(MediaKind::Image, ContentType::Png, "x.png", None), &opts).await.value.unwrap_err();
    assert_eq!((e.class, e.message.as_str()), (ErrorClass::Permanent, "HTTP 400 Bad Request: media type unrecognized"));
    // A document: not for X, and nothing is sent.
    let upload = x.upload_media(&auth, &pdf.upload(MediaKind::Document, ContentType::Pdf, "x.pdf", None), &opts).await;
    assert!(upload.steps.is_empty());
    assert_eq!(upload.value.unwrap_err().class, ErrorClass::Permanent);
    // Bad aspect ratio: the video fails processing, with the reason.
    let wide = Synthetic::new(mp4_header(4000, 1000), 200_000);
    let e = x.upload_media(&auth, &wide.upload(MediaKind::Video, ContentType::Mp4, "wide.mp4", None), &opts).await.value.unwrap_err();
    assert_eq!((e.class, e.code.as_deref()), (ErrorClass::Permanent, Some(MEDIA_PROCESSING_FAILED)));
    assert!(e.message.contains("Aspect ratio 4000x1000"), "{e}");
    // Processing that fails with a reason (an injected fault), and posting its id is refused.
    h.control("/control/x/faults", json!({"processing_failure": "Unsupported video format"})).await;
    let video = Synthetic::new(mp4_header(640, 360), 200_000);
    let upload = x.upload_media(&auth, &video.upload(MediaKind::Video, ContentType::Mp4, "v.mp4", None), &opts).await;
    let e = upload.value.unwrap_err();
    assert_eq!((e.class, e.message.as_str()), (ErrorClass::Permanent, "media processing failed: Unsupported video format"));
}

#[tokio::test]
async fn a_5xx_on_a_middle_append_is_sent_again_and_the_upload_succeeds() {
    let (h, x, auth) = start().await;
    h.control("/control/x/faults", json!({"next_responses": [{"on": "append", "after": 1, "status": 503, "body": {"title": "Service Unavailable", "detail": "Service Unavailable", "type": "about:blank", "status": 503}}]})).await;
    let video = Synthetic::new(mp4_header(640, 360), 300_000);
    let upload = x.upload_media(&auth, &video.upload(MediaKind::Video, ContentType::Mp4, "v.mp4", None), &options(&h, 100_000)).await;
    let media = upload.value.clone().unwrap();
    assert_eq!(
        &steps(&upload)[..6],
        ["initialize", "append 1 of 3", "append 2 of 3", "append 2 of 3 (retry 1)", "append 3 of 3", "finalize"]
    );
    assert_eq!(upload.steps[2].http_status, Some(503));
    let published = x.publish_post(&auth, &XPost { text: "v".into(), media_ids: vec![media.platform_media_id], in_reply_to: None }).await;
    assert_eq!(h.sandbox.post_media("x", &published.value.unwrap().external_id)[0].sha256, video.sha256());

    // With no retries left, the 5xx ends the upload as temporary.
    h.control("/control/x/faults", json!({"next_responses": [{"on": "append", "status": 503}]})).await;
    let opts = UploadOptions { chunk_retries: 0, ..options(&h, 100_000) };
    let e = x.upload_media(&auth, &video.upload(MediaKind::Video, ContentType::Mp4, "v.mp4", None), &opts).await.value.unwrap_err();
    assert_eq!((e.class, e.status), (ErrorClass::Temporary, Some(503)));
}

#[tokio::test]
async fn a_stuck_status_hits_the_cap_as_temporary() {
    let (h, x, auth) = start().await;
    h.control("/control/x/faults", json!({"processing_stuck": true})).await;
    let video = Synthetic::new(mp4_header(640, 360), 100_000);
    let opts = UploadOptions { max_processing_wait: Duration::from_secs(30), ..options(&h, 64 * 1024) };
    let started = h.now();
    let upload = x.upload_media(&auth, &video.upload(MediaKind::Video, ContentType::Mp4, "v.mp4", None), &opts).await;
    let e = upload.value.clone().unwrap_err();
    assert_eq!((e.class, e.code.as_deref()), (ErrorClass::Temporary, Some(MEDIA_PROCESSING_TIMEOUT)));
    assert!(e.message.contains("in_progress"), "{e}");
    assert_eq!(upload.steps.iter().filter(|s| s.step == "status").count(), 30);
    assert_eq!(h.now() - started, TimeDelta::seconds(30));
}

#[tokio::test]
async fn an_expired_or_unprocessed_id_at_post_time_says_upload_again() {
    let (h, x, auth) = start().await;
    let png = Synthetic::new(png_header(10, 10), 1000);
    let media =
        x.upload_media(&auth, &png.upload(MediaKind::Image, ContentType::Png, "p.png", None), &options(&h, 4096)).await.value.unwrap();
    h.clock.advance(Duration::from_secs(24 * 3600 + 1));
    assert!(media.expires_at.unwrap() < h.now());
    let e = x
        .publish_post(&auth, &XPost { text: "late".into(), media_ids: vec![media.platform_media_id], in_reply_to: None })
        .await
        .value
        .unwrap_err();
    assert!(e.is_media_expired(), "{e:?}");
    assert_eq!((e.class, e.status), (ErrorClass::Temporary, Some(400)));
    assert!(e.message.starts_with("Your media IDs are invalid."), "{e}");
    // An unknown id says the same.
    let e =
        x.publish_post(&auth, &XPost { text: "unknown".into(), media_ids: vec!["123".into()], in_reply_to: None }).await.value.unwrap_err();
    assert!(e.is_media_expired());
}

#[tokio::test]
async fn a_429_on_upload_is_rate_limited_until_the_reset() {
    let (h, x, auth) = start().await;
    let reset = (h.now() + TimeDelta::minutes(7)).timestamp();
    h.control(
        "/control/x/faults",
        json!({"next_responses": [{"on": "upload", "status": 429, "headers": {"x-rate-limit-limit": "500", "x-rate-limit-remaining": "0", "x-rate-limit-reset": reset.to_string()}, "body": {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429}}]}),
    )
    .await;
    let png = Synthetic::new(png_header(10, 10), 1000);
    let upload = x.upload_media(&auth, &png.upload(MediaKind::Image, ContentType::Png, "p.png", None), &options(&h, 4096)).await;
    assert_eq!(upload.steps.len(), 1, "a rate limit is not retried within the upload");
    assert_eq!(upload.value.clone().unwrap_err().class, ErrorClass::RateLimited { until: h.now() + TimeDelta::minutes(7) });
    let budget = upload.budget().unwrap();
    assert_eq!((budget.remaining, budget.limit), (Some(0), Some(500)));
    let _ = Arc::clone(&png);
}
