//! Facebook Page media against the sandbox's Meta fake, over real HTTP: unpublished photos on one
//! feed post, a single photo post, a video through the resumable upload and its processing; alt
//! text and the exact bytes in the ledger; refusals, a failed chunk resumed, processing that never
//! ends, expired photos, throttling, and bounded reads.

#[path = "support/media.rs"]
mod media;
mod support;

use std::time::Duration;

use chrono::TimeDelta;
use crier_clients::{ErrorClass, FacebookClient, FacebookSettings, TokenSet, UploadOptions, VideoSource};
use crier_media::{ContentType, MediaKind};
use crier_protocol::media::{MEDIA_PROCESSING_FAILED, MEDIA_PROCESSING_TIMEOUT};
use crier_sandbox::FacebookMediaLimits;
use media::{Synthetic, gif_header, jpeg_header, mp4_header, options, png_header};
use secrecy::SecretString;
use serde_json::json;
use support::{Harness, query};
use url::Url;

const APP_ID: &str = "1234567890123456";
const APP_SECRET: &str = "meta-app-secret-value";
const REDIRECT: &str = "http://localhost:3000/connect/facebook/callback";
const PAGE: &str = "422575694827569";

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
