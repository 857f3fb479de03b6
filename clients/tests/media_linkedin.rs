//! LinkedIn media uploads against the sandbox's LinkedIn fake, over real HTTP: images (one and
//! several), a GIF, a video in parts, a PDF document; alt text and the exact bytes in the ledger;
//! refusals, injected faults on single parts, processing that never ends, unusable assets at post
//! time, and bounded reads.

#[path = "support/media.rs"]
mod media;
mod support;

use std::time::Duration;

use chrono::{TimeDelta, TimeZone, Utc};
use crier_clients::{
    ErrorClass, LinkedInAuthor, LinkedInClient, LinkedInImage, LinkedInMedia, LinkedInPost, LinkedInSettings, TokenSet, UploadOptions,
};
use crier_media::{ContentType, MediaKind};
use crier_protocol::media::{MEDIA_PROCESSING_FAILED, MEDIA_PROCESSING_TIMEOUT};
use crier_sandbox::LinkedInMediaLimits;
use media::{Synthetic, gif_header, jpeg_header, mp4_header, options, png_header};
use secrecy::SecretString;
use serde_json::json;
use support::{Harness, query};
use url::Url;

const CLIENT_ID: &str = "crier-linkedin-client";
const CLIENT_SECRET: &str = "linkedin-client-secret-value";
const REDIRECT: &str = "http://localhost:3000/connect/linkedin/callback";
const MEMBER: &str = "782bbtaQ";
const ORG: &str = "5515715";

async fn start_with(tweak: impl FnOnce(&mut LinkedInMediaLimits)) -> (Harness, LinkedInClient, SecretString) {
    let h = support::serve(
        |config| tweak(&mut config.linkedin_media),
        |sandbox| sandbox.register_linkedin_app(CLIENT_ID, CLIENT_SECRET, REDIRECT, "Crier"),
    )
    .await;
    let li = LinkedInClient::with_clock(
        LinkedInSettings::sandbox(&h.base, CLIENT_ID.into(), SecretString::from(CLIENT_SECRET)),
        h.client_clock(),
    );
    let start = li.start_authorization(&Url::parse(REDIRECT).unwrap());
    let back = h.consent(&start.url, |_| {}, "authorize").await;
    let tokens: TokenSet = li.exchange_code(&query(&back, "code").unwrap(), None, &Url::parse(REDIRECT).unwrap()).await.unwrap();
    (h, li, tokens.access_token)
}

async fn start() -> (Harness, LinkedInClient, SecretString) {
    // Small parts, so a video of a few hundred KB has several.
    start_with(|l| l.part_bytes = 64 * 1024).await
}

fn post(author: LinkedInAuthor, text: &str) -> LinkedInPost {
    LinkedInPost { author, text: text.to_owned(), article: None }
}

fn member() -> LinkedInAuthor {
    LinkedInAuthor::Member(MEMBER.into())
}

fn org() -> LinkedInAuthor {
    LinkedInAuthor::Organization(ORG.into())
}

fn steps(upload: &crier_clients::Upload) -> Vec<&str> {
    upload.steps.iter().map(|s| s.step.as_str()).collect()
}

#[tokio::test]
async fn a_member_image_with_alt_text_and_the_exact_bytes() {
    let (h, li, token) = start().await;
    let jpeg = Synthetic::new(jpeg_header(1200, 800), 50_000);
    let upload =
        li.upload_media(&token, &member(), &jpeg.upload(MediaKind::Image, ContentType::Jpeg, "p.jpg", None), &options(&h, 4096)).await;
    // A member's token cannot read image status (§2.5): one try, a 403, and the upload counts.
    assert_eq!(steps(&upload), ["initialize", "upload", "status"]);
    assert_eq!(upload.steps.iter().map(|s| s.http_status).collect::<Vec<_>>(), [Some(200), Some(201), Some(403)]);
    let media = upload.value.unwrap();
    assert!(media.platform_media_id.starts_with("urn:li:image:"));
    assert_eq!(media.expires_at, None);
    let image = LinkedInMedia::Image(LinkedInImage { urn: media.platform_media_id.clone(), alt_text: Some("A harbour at dusk".into()) });
    let published = li.publish_with_media(&token, &post(member(), "Harbour"), &image).await.value.unwrap();
    let recorded = h.sandbox.post_media("linkedin", &published.external_id);
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].sha256, jpeg.sha256());
    assert_eq!((recorded[0].content_type.as_str(), recorded[0].byte_size), ("image/jpeg", 50_000));
    assert_eq!(recorded[0].alt_text.as_deref(), Some("A harbour at dusk"));
}

#[tokio::test]
async fn an_organization_multi_image_post_keeps_order_and_alt_texts() {
    let (h, li, token) = start().await;
    let items = [
        Synthetic::new(png_header(800, 600), 9000),
        Synthetic::new(gif_header(300, 300), 7000),
        Synthetic::new(jpeg_header(640, 480), 8000),
    ];
    let types = [(MediaKind::Image, ContentType::Png), (MediaKind::Gif, ContentType::Gif), (MediaKind::Image, ContentType::Jpeg)];
    let mut images = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let upload = li.upload_media(&token, &org(), &item.upload(types[i].0, types[i].1, "i", None), &options(&h, 4096)).await;
        // An organization's token reads the status: AVAILABLE at once.
        assert_eq!(upload.steps.last().map(|s| (s.step.as_str(), s.http_status)), Some(("status", Some(200))));
        images.push(LinkedInImage { urn: upload.value.unwrap().platform_media_id, alt_text: Some(format!("alt {i}")) });
    }
    let published = li.publish_with_media(&token, &post(org(), "Three"), &LinkedInMedia::MultiImage(images.clone())).await.value.unwrap();
    let recorded = h.sandbox.post_media("linkedin", &published.external_id);
    let got: Vec<(String, String, Option<String>)> = recorded.into_iter().map(|m| (m.media_id, m.sha256, m.alt_text)).collect();
    let expected: Vec<(String, String, Option<String>)> =
        images.iter().zip(&items).map(|(i, item)| (i.urn.clone(), item.sha256(), i.alt_text.clone())).collect();
    assert_eq!(got, expected);
    // One image is not a multi-image post: refused before any call.
    let one = LinkedInMedia::MultiImage(images[..1].to_vec());
    assert_eq!(li.publish_with_media(&token, &post(org(), "One"), &one).await.value.unwrap_err().class, ErrorClass::Permanent);
}

#[tokio::test]
async fn a_video_goes_up_in_parts_each_streamed_from_its_range() {
    let (h, li, token) = start().await;
    let size = 300_000;
    let video = Synthetic::new(mp4_header(1280, 720), size);
    let upload =
        li.upload_media(&token, &member(), &video.upload(MediaKind::Video, ContentType::Mp4, "v.mp4", None), &options(&h, 4096)).await;
    let media = upload.value.clone().unwrap();
    assert_eq!(
        steps(&upload),
        ["initialize", "part 1 of 5", "part 2 of 5", "part 3 of 5", "part 4 of 5", "part 5 of 5", "finalize", "status", "status"],
        "PROCESSING, then AVAILABLE: {:?}",
        upload.steps
    );
    // Each part read as its own range: 64 KiB at most (LinkedIn's part size here).
    assert_eq!(video.largest_read(), 64 * 1024);
    assert_eq!(video.reads.lock().unwrap().len(), 5);
    let content = LinkedInMedia::Video { urn: media.platform_media_id.clone(), title: Some("Launch".into()) };
    let published = li.publish_with_media(&token, &post(member(), "Watch"), &content).await.value.unwrap();
    let recorded = h.sandbox.post_media("linkedin", &published.external_id);
    assert_eq!(
        (recorded[0].sha256.clone(), recorded[0].byte_size, recorded[0].content_type.clone()),
        (video.sha256(), size, "video/mp4".into())
    );
}

#[tokio::test]
async fn a_pdf_document_is_posted_with_its_title() {
    let (h, li, token) = start().await;
    let pdf = Synthetic::new(b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec(), 120_000);
    let upload =
        li.upload_media(&token, &org(), &pdf.upload(MediaKind::Document, ContentType::Pdf, "Deck.pdf", None), &options(&h, 4096)).await;
    let urn = upload.value.unwrap().platform_media_id;
    assert!(urn.starts_with("urn:li:document:"), "{urn}");
    let document = LinkedInMedia::Document { urn: urn.clone(), title: "Deck.pdf".into() };
    let published = li.publish_with_media(&token, &post(org(), "Our deck"), &document).await.value.unwrap();
    let recorded = h.sandbox.post_media("linkedin", &published.external_id);
    assert_eq!(
        (recorded[0].media_id.as_str(), recorded[0].sha256.as_str(), recorded[0].content_type.as_str()),
        (urn.as_str(), pdf.sha256().as_str(), "application/pdf")
    );
}

#[tokio::test]
async fn refusals_are_permanent_with_linkedin_reasons() {
    let (h, li, token) = start_with(|l| {
        l.part_bytes = 64 * 1024;
        l.video_bytes = (1000, 500_000);
        l.multi_image = (2, 3);
    })
    .await;
    let opts = options(&h, 4096);
    // Too large: a video over the limit, at initialize.
    let big = Synthetic::new(mp4_header(640, 360), 500_001);
    let upload = li.upload_media(&token, &member(), &big.upload(MediaKind::Video, ContentType::Mp4, "big.mp4", None), &opts).await;
    assert_eq!(steps(&upload), ["initialize"]);
    let e = upload.value.unwrap_err();
    assert_eq!((e.class, e.status), (ErrorClass::Permanent, Some(400)));
    // Wrong type: PDF bytes as an image fail processing, which an organization's token reads.
    let pdf = Synthetic::new(b"%PDF-1.4\n".to_vec(), 3000);
    let e = li.upload_media(&token, &org(), &pdf.upload(MediaKind::Image, ContentType::Png, "x.png", None), &opts).await.value.unwrap_err();
    assert_eq!((e.class, e.code.as_deref()), (ErrorClass::Permanent, Some(MEDIA_PROCESSING_FAILED)));
    assert!(e.message.contains("Unsupported image format application/pdf"), "{e}");
    // Bad aspect ratio: a video wider than 2.4:1.
    let wide = Synthetic::new(mp4_header(2500, 1000), 100_000);
    let e =
        li.upload_media(&token, &member(), &wide.upload(MediaKind::Video, ContentType::Mp4, "w.mp4", None), &opts).await.value.unwrap_err();
    assert!(e.message.contains("Aspect ratio 2500x1000"), "{e}");
    // Processing that fails with a reason (injected).
    h.control("/control/linkedin/faults", json!({"processing_failure": "Video is too long"})).await;
    let video = Synthetic::new(mp4_header(640, 360), 100_000);
    let e = li
        .upload_media(&token, &member(), &video.upload(MediaKind::Video, ContentType::Mp4, "v.mp4", None), &opts)
        .await
        .value
        .unwrap_err();
    assert_eq!((e.class, e.message.as_str()), (ErrorClass::Permanent, "media processing failed: Video is too long"));
    // Too many images for the sandbox's (lowered) multi-image limit: LinkedIn's 422.
    let mut images = Vec::new();
    for i in 0..4 {
        let png = Synthetic::new(png_header(100 + i, 100), 2000);
        let urn = li
            .upload_media(&token, &org(), &png.upload(MediaKind::Image, ContentType::Png, "p", None), &opts)
            .await
            .value
            .unwrap()
            .platform_media_id;
        images.push(LinkedInImage { urn, alt_text: None });
    }
    let e = li.publish_with_media(&token, &post(org(), "Four"), &LinkedInMedia::MultiImage(images)).await.value.unwrap_err();
    assert_eq!((e.class, e.status), (ErrorClass::Permanent, Some(422)));
    assert!(!e.is_media_expired());
}

#[tokio::test]
async fn a_5xx_on_a_middle_part_is_sent_again_and_the_upload_succeeds() {
    let (h, li, token) = start().await;
    h.control(
        "/control/linkedin/faults",
        json!({"next_responses": [{"on": "part", "after": 2, "status": 500, "body": {"message": "Internal Server Error", "status": 500}}]}),
    )
    .await;
    let video = Synthetic::new(mp4_header(640, 360), 200_000);
    let upload =
        li.upload_media(&token, &member(), &video.upload(MediaKind::Video, ContentType::Mp4, "v.mp4", None), &options(&h, 4096)).await;
    assert_eq!(&steps(&upload)[..6], ["initialize", "part 1 of 4", "part 2 of 4", "part 3 of 4", "part 3 of 4 (retry 1)", "part 4 of 4"]);
    assert_eq!(upload.steps[3].http_status, Some(500));
    let urn = upload.value.unwrap().platform_media_id;
    let published =
        li.publish_with_media(&token, &post(member(), "Retried"), &LinkedInMedia::Video { urn, title: None }).await.value.unwrap();
    assert_eq!(h.sandbox.post_media("linkedin", &published.external_id)[0].sha256, video.sha256());
}

#[tokio::test]
async fn a_stuck_status_hits_the_cap_as_temporary() {
    let (h, li, token) = start().await;
    h.control("/control/linkedin/faults", json!({"processing_stuck": true})).await;
    let video = Synthetic::new(mp4_header(640, 360), 100_000);
    let opts = UploadOptions { max_processing_wait: Duration::from_secs(60), ..options(&h, 4096) };
    let upload = li.upload_media(&token, &member(), &video.upload(MediaKind::Video, ContentType::Mp4, "v.mp4", None), &opts).await;
    let e = upload.value.clone().unwrap_err();
    assert_eq!((e.class, e.code.as_deref()), (ErrorClass::Temporary, Some(MEDIA_PROCESSING_TIMEOUT)));
    assert!(e.message.contains("PROCESSING"), "{e}");
    // Polled every 5 seconds (the default interval) for a minute.
    assert_eq!(upload.steps.iter().filter(|s| s.step == "status").count(), 12);
}

#[tokio::test]
async fn an_unusable_asset_at_post_time_says_upload_again() {
    let (h, li, token) = start().await;
    let e = li
        .publish_with_media(
            &token,
            &post(member(), "Ghost"),
            &LinkedInMedia::Image(LinkedInImage { urn: "urn:li:image:C4E10AQFoyyAjHPMQuQ".into(), alt_text: None }),
        )
        .await
        .value
        .unwrap_err();
    assert!(e.is_media_expired(), "{e:?}");
    assert_eq!((e.class, e.status), (ErrorClass::Temporary, Some(422)));
    // Another author's asset is not usable either.
    let png = Synthetic::new(png_header(10, 10), 1000);
    let urn = li
        .upload_media(&token, &org(), &png.upload(MediaKind::Image, ContentType::Png, "p", None), &options(&h, 4096))
        .await
        .value
        .unwrap()
        .platform_media_id;
    let e = li
        .publish_with_media(&token, &post(member(), "Not mine"), &LinkedInMedia::Image(LinkedInImage { urn, alt_text: None }))
        .await
        .value
        .unwrap_err();
    assert!(e.is_media_expired());
}

#[tokio::test]
async fn a_429_on_upload_waits_for_midnight_utc() {
    let (h, li, token) = start().await;
    h.control("/control/linkedin/faults", json!({"next_responses": [{"on": "initialize", "status": 429, "body": {"serviceErrorCode": 101, "message": "Resource level throttle limit for calls to this resource is reached.", "status": 429}}]})).await;
    let png = Synthetic::new(png_header(10, 10), 1000);
    let upload = li.upload_media(&token, &member(), &png.upload(MediaKind::Image, ContentType::Png, "p", None), &options(&h, 4096)).await;
    assert_eq!(steps(&upload), ["initialize"]);
    let midnight = Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap();
    assert_eq!(upload.value.unwrap_err().class, ErrorClass::RateLimited { until: midnight });
    let _ = TimeDelta::zero();
}

/// The fake's side, by hand: parts PUT out of order (one sent twice) still give the whole file's
/// SHA-256, and an upload URL past its expiry answers 401.
#[tokio::test]
async fn the_fake_takes_parts_in_any_order_and_expires_upload_urls() {
    let (h, li, token) = start().await;
    let rest = |method: reqwest::Method, url: String| {
        h.browser
            .request(method, url)
            .bearer_auth(secrecy::ExposeSecret::expose_secret(&token))
            .header("LinkedIn-Version", "202601")
            .header("X-Restli-Protocol-Version", "2.0.0")
    };
    let size = 200_000u64;
    let video = Synthetic::new(mp4_header(640, 360), size);
    let bytes: Vec<u8> = {
        use futures_util::StreamExt;
        let mut stream = crier_clients::MediaSource::read_range(video.as_ref(), 0..size).await.unwrap();
        let mut all = Vec::new();
        while let Some(chunk) = stream.next().await {
            all.extend_from_slice(&chunk.unwrap());
        }
        all
    };
    let init = json!({"initializeUploadRequest": {"owner": format!("urn:li:person:{MEMBER}"), "fileSizeBytes": size, "uploadCaptions": false, "uploadThumbnail": false}});
    let answer: serde_json::Value = rest(reqwest::Method::POST, format!("{}/linkedin/rest/videos?action=initializeUpload", h.base))
        .json(&init)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let parts = answer["value"]["uploadInstructions"].as_array().unwrap().clone();
    assert_eq!(parts.len(), 4);
    let mut etags = vec![String::new(); parts.len()];
    for i in [2usize, 0, 3, 1, 2] {
        let (first, last) = (parts[i]["firstByte"].as_u64().unwrap() as usize, parts[i]["lastByte"].as_u64().unwrap() as usize);
        let response = h.browser.put(parts[i]["uploadUrl"].as_str().unwrap()).body(bytes[first..=last].to_vec()).send().await.unwrap();
        assert_eq!(response.status(), 201);
        etags[i] = response.headers()["etag"].to_str().unwrap().to_owned();
    }
    let finalize = json!({"finalizeUploadRequest": {"video": answer["value"]["video"], "uploadToken": answer["value"]["uploadToken"], "uploadedPartIds": etags}});
    let response =
        rest(reqwest::Method::POST, format!("{}/linkedin/rest/videos?action=finalizeUpload", h.base)).json(&finalize).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let urn = answer["value"]["video"].as_str().unwrap().to_owned();
    let encoded = url::form_urlencoded::byte_serialize(urn.as_bytes()).collect::<String>();
    for expected in ["PROCESSING", "AVAILABLE"] {
        h.clock.advance(Duration::from_secs(1));
        let status: serde_json::Value =
            rest(reqwest::Method::GET, format!("{}/linkedin/rest/videos/{encoded}", h.base)).send().await.unwrap().json().await.unwrap();
        assert_eq!(status["status"], expected);
    }
    let published =
        li.publish_with_media(&token, &post(member(), "Out of order"), &LinkedInMedia::Video { urn, title: None }).await.value.unwrap();
    assert_eq!(h.sandbox.post_media("linkedin", &published.external_id)[0].sha256, video.sha256());

    // An image upload URL an hour and a second later: 401.
    let init = json!({"initializeUploadRequest": {"owner": format!("urn:li:person:{MEMBER}")}});
    let answer: serde_json::Value = rest(reqwest::Method::POST, format!("{}/linkedin/rest/images?action=initializeUpload", h.base))
        .json(&init)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["value"]["uploadUrlExpiresAt"], json!((h.now() + TimeDelta::hours(1)).timestamp_millis()));
    h.clock.advance(Duration::from_secs(3601));
    let response = h.browser.put(answer["value"]["uploadUrl"].as_str().unwrap()).body(png_header(10, 10)).send().await.unwrap();
    assert_eq!(response.status(), 401);
}
