//! The REST API's media over real HTTP: a script with a team token uploads (multipart, and
//! resumable in chunks), lists with cursors, reads and deletes its team's media, and posts carry
//! it by id (and publish it, with the alt text the post chose); other teams' ids answer as missing
//! ones do, viewers read but do not change, and refused files and a full team are problems that
//! say what to fix.

mod support;

use std::path::{Path, PathBuf};

use crier_media::fixtures::{self, VideoSpec};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, LOCATION};
use reqwest::multipart::{Form, Part};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use support::{Browser, TestApp, connect};

/// A token for the browser's team, made through Settings → API.
async fn token(browser: &Browser, name: &str, role: &str) -> String {
    let response = browser.call("api_tokens/create", &[("name", name), ("role", role)]).await;
    assert_eq!(response.status(), StatusCode::OK, "creating a token");
    let created: Value = response.json().await.unwrap();
    created["secret"].as_str().unwrap().to_owned()
}

/// A script's HTTP client.
struct Script {
    base: String,
    token: String,
    client: reqwest::Client,
}

impl Script {
    async fn new(app: &TestApp, browser: &Browser, role: &str) -> Script {
        Script { base: app.base.clone(), token: token(browser, role, role).await, client: reqwest::Client::new() }
    }

    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, format!("{}{path}", self.base)).header(AUTHORIZATION, format!("Bearer {}", self.token))
    }

    async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path).send().await.unwrap()
    }

    async fn delete(&self, path: &str) -> Response {
        self.request(Method::DELETE, path).send().await.unwrap()
    }

    async fn send(&self, method: Method, path: &str, body: &Value) -> Response {
        self.request(method, path).json(body).send().await.unwrap()
    }

    async fn ok(&self, path: &str) -> Value {
        let response = self.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.json().await.unwrap()
    }

    /// `POST /api/v1/media` with one file (and alt text before it, when given).
    async fn upload(&self, name: &str, bytes: Vec<u8>, alt_text: Option<&str>) -> Response {
        let mut form = Form::new();
        if let Some(alt_text) = alt_text {
            form = form.text("alt_text", alt_text.to_owned());
        }
        let form = form.part("file", Part::bytes(bytes).file_name(name.to_owned()));
        self.request(Method::POST, "/api/v1/media").multipart(form).send().await.unwrap()
    }

    /// An upload that succeeds: the item.
    async fn uploaded(&self, name: &str, bytes: Vec<u8>, alt_text: Option<&str>) -> Value {
        let response = self.upload(name, bytes, alt_text).await;
        assert_eq!(response.status(), StatusCode::CREATED, "uploading {name}");
        let location = response.headers()[LOCATION].to_str().unwrap().to_owned();
        let item: Value = response.json().await.unwrap();
        assert_eq!(location, format!("/api/v1/media/{}", item["id"].as_str().unwrap()));
        item
    }

    /// `PATCH` a chunk of a resumable upload at `offset`.
    async fn chunk(&self, upload: &str, offset: usize, bytes: &[u8]) -> Response {
        self.request(Method::PATCH, &format!("/api/v1/media/uploads/{upload}"))
            .header("upload-offset", offset.to_string())
            .header(CONTENT_TYPE, "application/offset+octet-stream")
            .body(bytes.to_vec())
            .send()
            .await
            .unwrap()
    }
}

/// A problem+json answer with `status`: the body.
async fn problem(response: Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status);
    assert_eq!(response.headers()[CONTENT_TYPE], "application/problem+json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], status.as_u16());
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{body}");
    body
}

async fn count(app: &TestApp, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.pool).await.unwrap()
}

/// Every file under `dir`, at any depth.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries.flatten().flat_map(|entry| if entry.path().is_dir() { files_under(&entry.path()) } else { vec![entry.path()] }).collect()
}

/// Where the app's media store keeps resumable uploads' chunks (a directory store).
fn chunks_dir(app: &TestApp) -> PathBuf {
    app.media.upload_dir.with_file_name("media").join("uploads")
}

#[tokio::test]
async fn a_script_uploads_lists_reads_and_deletes_its_teams_media_and_no_one_elses() {
    let app = TestApp::spawn().await;
    let owner = app.owner("Acme", "owner@acme.example").await;
    let editor = Script::new(&app, &owner, "editor").await;
    let viewer = Script::new(&app, &owner, "viewer").await;
    let rival_owner = app.owner("Rival", "owner@rival.example").await;
    let rival = Script::new(&app, &rival_owner, "admin").await;

    // Alt text before or after the file.
    let photo = editor.uploaded("../office.jpg", fixtures::photo(320, 240, 1, 1), Some("  Our office ")).await;
    assert_eq!((photo["kind"].as_str(), photo["content_type"].as_str()), (Some("image"), Some("image/jpeg")));
    assert_eq!((photo["file_name"].as_str(), photo["alt_text"].as_str()), (Some("office.jpg"), Some("Our office")));
    assert_eq!((photo["width"].as_u64(), photo["height"].as_u64()), (Some(320), Some(240)));
    let form = Form::new().part("file", Part::bytes(fixtures::png(40, 30, 2)).file_name("chart.png")).text("alt_text", "A chart");
    let response = editor.request(Method::POST, "/api/v1/media").multipart(form).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let chart: Value = response.json().await.unwrap();
    assert_eq!(chart["alt_text"], "A chart", "alt text after the file counts too");
    let gif = editor.uploaded("loop.gif", fixtures::gif(20, 20, 3, 100), None).await;
    assert_eq!((gif["kind"].as_str(), gif["alt_text"].as_str()), (Some("gif"), Some("")));
    let ids: Vec<&str> = [&gif, &chart, &photo].iter().map(|item| item["id"].as_str().unwrap()).collect();

    // Newest first, two at a time, without gaps or repeats.
    let first = viewer.ok("/api/v1/media?limit=2").await;
    let page: Vec<&str> = first["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(page, ids[..2]);
    let cursor = first["next_cursor"].as_str().expect("a second page");
    let second = viewer.ok(&format!("/api/v1/media?limit=2&cursor={cursor}")).await;
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert_eq!(second["items"][0]["id"], ids[2]);
    assert!(second["next_cursor"].is_null());
    let gifs = viewer.ok("/api/v1/media?kind=gif").await;
    assert_eq!(gifs["items"].as_array().unwrap().len(), 1);
    assert_eq!(gifs["items"][0]["id"], ids[0]);
    let named = viewer.ok("/api/v1/media?q=OFFICE").await;
    assert_eq!(named["items"].as_array().unwrap().len(), 1);
    assert_eq!(named["items"][0]["id"], ids[2]);
    let bad_kind = problem(viewer.get("/api/v1/media?kind=audio").await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(bad_kind["errors"][0]["field"], "kind");
    let bad_cursor = problem(viewer.get("/api/v1/media?cursor=nonsense").await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(bad_cursor["errors"][0]["field"], "cursor");
    assert_eq!(rival.ok("/api/v1/media").await["items"], json!([]), "another team sees none of it");

    // One item, its bytes and its thumbnail; a viewer reads them.
    let one = viewer.ok(&format!("/api/v1/media/{}", ids[2])).await;
    assert_eq!(one["sha256"], photo["sha256"]);
    let bytes = viewer.get(&format!("/api/v1/media/{}/content", ids[2])).await;
    assert_eq!(bytes.status(), StatusCode::OK);
    assert_eq!(bytes.headers()[CONTENT_TYPE], "image/jpeg");
    assert_eq!(&bytes.bytes().await.unwrap()[..2], b"\xFF\xD8");
    let thumbnail = viewer.get(&format!("/api/v1/media/{}/thumbnail", ids[2])).await;
    assert_eq!(thumbnail.headers()[CONTENT_TYPE], "image/jpeg");

    // Another team's id answers exactly as a missing one does, for reading and for deleting.
    let missing = format!("/api/v1/media/{}", uuid::Uuid::new_v4());
    let theirs = format!("/api/v1/media/{}", ids[2]);
    let not_found = problem(rival.get(&missing).await, StatusCode::NOT_FOUND).await;
    assert_eq!(problem(rival.get(&theirs).await, StatusCode::NOT_FOUND).await, not_found);
    assert_eq!(problem(rival.get(&format!("{theirs}/content")).await, StatusCode::NOT_FOUND).await, not_found);
    assert_eq!(problem(rival.delete(&theirs).await, StatusCode::NOT_FOUND).await, not_found);
    assert_eq!(problem(rival.delete(&missing).await, StatusCode::NOT_FOUND).await, not_found);
    let renamed = rival.send(Method::PATCH, &theirs, &json!({"alt_text": "Mine now"})).await;
    assert_eq!(problem(renamed, StatusCode::NOT_FOUND).await, not_found);

    // Viewers read but do not upload, change or delete.
    problem(viewer.upload("chart.png", fixtures::png(40, 30, 2), None).await, StatusCode::FORBIDDEN).await;
    problem(viewer.delete(&theirs).await, StatusCode::FORBIDDEN).await;
    problem(viewer.send(Method::PATCH, &theirs, &json!({"alt_text": "x"})).await, StatusCode::FORBIDDEN).await;
    assert_eq!(count(&app, "select count(*) from media_item").await, 3);

    // The editor changes alt text and deletes; the bytes go with the item.
    let changed = editor.send(Method::PATCH, &theirs, &json!({"alt_text": "The office at dawn"})).await;
    assert_eq!(changed.status(), StatusCode::OK);
    assert_eq!(changed.json::<Value>().await.unwrap()["alt_text"], "The office at dawn");
    let stored_before = files_under(&app.media.upload_dir.with_file_name("media")).len();
    assert_eq!(editor.delete(&theirs).await.status(), StatusCode::NO_CONTENT);
    problem(editor.get(&theirs).await, StatusCode::NOT_FOUND).await;
    assert_eq!(files_under(&app.media.upload_dir.with_file_name("media")).len(), stored_before - 2, "the photo and its thumbnail");
    assert_eq!(editor.ok("/api/v1/media").await["items"].as_array().unwrap().len(), 2);

    // The document lists the routes.
    let doc = editor.ok("/api/v1/openapi.json").await;
    for path in ["/api/v1/media", "/api/v1/media/{id}", "/api/v1/media/uploads", "/api/v1/media/uploads/{id}/complete"] {
        assert!(doc["paths"].get(path).is_some(), "{path} is documented");
    }
}

#[tokio::test]
async fn posts_carry_media_by_id_and_other_teams_ids_are_missing_ones() {
    let app = TestApp::spawn().await;
    let owner = app.owner("Acme", "owner@acme.example").await;
    assert_eq!(connect(&owner, "x", &[("account", "acme")], "authorize").await, "/accounts");
    let accounts: Value = owner.call("accounts", &[]).await.json().await.unwrap();
    let account = accounts["accounts"][0]["account_id"].as_str().unwrap().to_owned();
    let script = Script::new(&app, &owner, "editor").await;
    let rival_owner = app.owner("Rival", "owner@rival.example").await;
    let rival = Script::new(&app, &rival_owner, "editor").await;

    let photo = script.uploaded("office.jpg", fixtures::photo(320, 240, 1, 1), Some("Our office")).await;
    let chart = script.uploaded("chart.png", fixtures::png(40, 30, 2), Some("A chart")).await;
    let (photo_id, chart_id) = (photo["id"].as_str().unwrap(), chart["id"].as_str().unwrap());
    let later = (chrono::Utc::now() + chrono::TimeDelta::days(1)).to_rfc3339();
    let body = json!({
        "text": "We moved!",
        "account_ids": [account],
        "scheduled_at": later,
        "media": [{"id": photo_id, "alt_text": "The new office"}, {"id": chart_id, "platform": "x"}],
    });
    let response = script.send(Method::POST, "/api/v1/posts", &body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: Value = response.json().await.unwrap();
    let expected = json!([
        {"id": photo_id, "alt_text": "The new office", "platform": null, "item": 0},
        {"id": chart_id, "alt_text": null, "platform": "x", "item": 0},
    ]);
    assert_eq!(created["media"], expected);
    let post = script.ok(&format!("/api/v1/posts/{}", created["id"].as_str().unwrap())).await;
    assert_eq!(post["media"], expected, "GET returns what was stored");

    // An item a scheduled post carries stays until the post lets go of it.
    let held = problem(script.delete(&format!("/api/v1/media/{chart_id}")).await, StatusCode::CONFLICT).await;
    assert!(held["detail"].as_str().unwrap().contains("post"), "{held}");
    let edited = script
        .send(Method::PATCH, &format!("/api/v1/posts/{}", created["id"].as_str().unwrap()), &json!({"media": [{"id": photo_id}]}))
        .await;
    assert_eq!(edited.status(), StatusCode::OK);
    assert_eq!(edited.json::<Value>().await.unwrap()["media"], json!([{"id": photo_id, "alt_text": null, "platform": null, "item": 0}]));
    assert_eq!(script.delete(&format!("/api/v1/media/{chart_id}")).await.status(), StatusCode::NO_CONTENT);

    // Another team's item as media: the same answer as an id that names nothing, and no post.
    let theirs = rival.uploaded("theirs.png", fixtures::png(40, 30, 3), None).await;
    let posts_before = count(&app, "select count(*) from post").await;
    let mut answers = Vec::new();
    for id in [theirs["id"].as_str().unwrap().to_owned(), uuid::Uuid::new_v4().to_string()] {
        let body = json!({"text": "Borrowed", "account_ids": [account], "media": [{"id": photo_id}, {"id": id}]});
        let refused = problem(script.send(Method::POST, "/api/v1/posts", &body).await, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(refused["errors"][0]["field"], "media[1].id", "{refused}");
        assert!(refused["errors"][0]["detail"].as_str().unwrap().contains("POST /api/v1/media"), "{refused}");
        answers.push(refused);
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(count(&app, "select count(*) from post").await, posts_before);
}

#[tokio::test]
async fn refused_files_and_a_full_team_are_problems_that_say_what_to_fix() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn_with_media(dir.path(), |media| {
        media.max_file_bytes = 1_000_000;
        media.team_quota_bytes = 1_500_000;
    })
    .await;
    let owner = app.owner("Acme", "owner@acme.example").await;
    let script = Script::new(&app, &owner, "editor").await;

    let svg = problem(script.upload("logo.svg", fixtures::svg(), None).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(svg["errors"][0]["field"], "file");
    let words = svg["errors"][0]["detail"].as_str().unwrap();
    assert!(words.contains("SVG") && words.contains("JPEG, PNG, WebP, GIF, MP4 or PDF"), "{words}");
    let html = problem(script.upload("photo.jpg", fixtures::html(), None).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(html["errors"][0]["detail"].as_str().unwrap().contains("HTML"), "the name does not matter: {html}");
    let form = Form::new().text("alt_text", "Nothing");
    let nothing =
        problem(script.request(Method::POST, "/api/v1/media").multipart(form).send().await.unwrap(), StatusCode::UNPROCESSABLE_ENTITY)
            .await;
    assert_eq!(nothing["errors"][0]["field"], "file");
    let not_multipart = script.send(Method::POST, "/api/v1/media", &json!({"file": "x"})).await;
    problem(not_multipart, StatusCode::BAD_REQUEST).await;

    let big = fixtures::mp4(&VideoSpec { data_bytes: 1_200_000, ..VideoSpec::default() });
    let too_big = problem(script.upload("big.mp4", big, None).await, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert_eq!(too_big["detail"], "This file is larger than Crier accepts (1.0 MB). Make it smaller and upload it again.");
    let announced = script.send(Method::POST, "/api/v1/media/uploads", &json!({"file_name": "big.mp4", "byte_size": 1_200_000})).await;
    assert_eq!(problem(announced, StatusCode::PAYLOAD_TOO_LARGE).await["detail"], too_big["detail"], "told before a byte is sent");

    let clip = fixtures::mp4(&VideoSpec { data_bytes: 900_000, ..VideoSpec::default() });
    script.uploaded("first.mp4", clip.clone(), None).await;
    let full = problem(script.upload("second.mp4", clip.clone(), None).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    let words = full["errors"][0]["detail"].as_str().unwrap();
    assert!(words.contains("past its media storage of 1.5 MB"), "{words}");
    let announced = script.send(Method::POST, "/api/v1/media/uploads", &json!({"file_name": "second.mp4", "byte_size": clip.len()})).await;
    let full = problem(announced, StatusCode::CONFLICT).await;
    assert!(full["detail"].as_str().unwrap().contains("past its media storage of 1.5 MB"), "{full}");
    assert_eq!(count(&app, "select count(*) from media_item").await, 1);
    assert_eq!(count(&app, "select count(*) from media_upload").await, 0);
    assert_eq!(files_under(&app.media.upload_dir).len(), 0, "nothing is left in the upload directory");
}

#[tokio::test]
async fn a_large_video_arrives_in_chunks_in_order_and_becomes_an_item() {
    let app = TestApp::spawn().await;
    let owner = app.owner("Acme", "owner@acme.example").await;
    let script = Script::new(&app, &owner, "editor").await;
    let viewer = Script::new(&app, &owner, "viewer").await;
    let rival_owner = app.owner("Rival", "owner@rival.example").await;
    let rival = Script::new(&app, &rival_owner, "admin").await;
    const CHUNK: usize = 262_144;
    let video = fixtures::mp4(&VideoSpec { data_bytes: 600_000, with_location: false, ..VideoSpec::default() });
    let announce = json!({"file_name": "launch.mp4", "byte_size": video.len(), "chunk_bytes": CHUNK, "alt_text": "Our launch"});

    problem(viewer.send(Method::POST, "/api/v1/media/uploads", &announce).await, StatusCode::FORBIDDEN).await;
    let bad_chunk = json!({"file_name": "launch.mp4", "byte_size": video.len(), "chunk_bytes": 1000});
    let refused = problem(script.send(Method::POST, "/api/v1/media/uploads", &bad_chunk).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(refused["errors"][0]["field"], "chunk_bytes");

    let response = script.send(Method::POST, "/api/v1/media/uploads", &announce).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let upload: Value = response.json().await.unwrap();
    let id = upload["id"].as_str().unwrap().to_owned();
    assert_eq!((upload["offset"].as_u64(), upload["state"].as_str()), (Some(0), Some("receiving")));
    let path = format!("/api/v1/media/uploads/{id}");

    let first = script.chunk(&id, 0, &video[..CHUNK]).await;
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(first.json::<Value>().await.unwrap()["offset"], CHUNK);
    let again = script.chunk(&id, 0, &video[..CHUNK]).await;
    assert_eq!(again.json::<Value>().await.unwrap()["offset"], CHUNK, "a resent chunk changes nothing");

    // A chunk skipped: 409, saying the offset to send.
    let skipped = script.chunk(&id, 2 * CHUNK, &video[2 * CHUNK..]).await;
    assert_eq!(skipped.headers()["upload-offset"], CHUNK.to_string().as_str());
    let skipped = problem(skipped, StatusCode::CONFLICT).await;
    assert!(skipped["detail"].as_str().unwrap().contains(&format!("offset {CHUNK}")), "{skipped}");
    let short = problem(script.chunk(&id, CHUNK, &video[CHUNK..CHUNK + 10]).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(short["errors"][0]["field"], "body");
    let long = script.chunk(&id, CHUNK, &video[CHUNK..CHUNK * 2 + 1]).await;
    problem(long, StatusCode::PAYLOAD_TOO_LARGE).await;
    let early = script.request(Method::POST, &format!("{path}/complete")).send().await.unwrap();
    let early = problem(early, StatusCode::CONFLICT).await;
    assert!(early["detail"].as_str().unwrap().contains(&format!("from offset {CHUNK}")), "{early}");
    let no_offset = script.request(Method::PATCH, &path).body(video[CHUNK..2 * CHUNK].to_vec()).send().await.unwrap();
    assert_eq!(problem(no_offset, StatusCode::UNPROCESSABLE_ENTITY).await["errors"][0]["field"], "Upload-Offset");

    // Other teams and viewers: as if it did not exist, and no changes.
    problem(rival.get(&path).await, StatusCode::NOT_FOUND).await;
    problem(rival.chunk(&id, CHUNK, &video[CHUNK..2 * CHUNK]).await, StatusCode::NOT_FOUND).await;
    problem(viewer.chunk(&id, CHUNK, &video[CHUNK..2 * CHUNK]).await, StatusCode::FORBIDDEN).await;
    assert_eq!(viewer.ok(&path).await["offset"], CHUNK, "a viewer sees where it stands");

    for offset in [CHUNK, 2 * CHUNK] {
        let end = (offset + CHUNK).min(video.len());
        let response = script.chunk(&id, offset, &video[offset..end]).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.json::<Value>().await.unwrap()["offset"], end);
    }
    let done = script.request(Method::POST, &format!("{path}/complete")).send().await.unwrap();
    assert_eq!(done.status(), StatusCode::CREATED);
    let item: Value = done.json().await.unwrap();
    assert_eq!((item["kind"].as_str(), item["alt_text"].as_str()), (Some("video"), Some("Our launch")));
    assert_eq!((item["width"].as_u64(), item["duration_ms"].as_u64()), (Some(1280), Some(10_000)));
    let content = script.get(&format!("/api/v1/media/{}/content", item["id"].as_str().unwrap())).await;
    assert_eq!(content.bytes().await.unwrap().len() as u64, item["byte_size"].as_u64().unwrap());
    let status = script.ok(&path).await;
    assert_eq!((status["state"].as_str(), status["media_id"].as_str()), (Some("completed"), item["id"].as_str()));
    let twice = script.request(Method::POST, &format!("{path}/complete")).send().await.unwrap();
    assert_eq!(twice.status(), StatusCode::OK);
    assert_eq!(twice.json::<Value>().await.unwrap()["id"], item["id"], "completing again answers the same item");
    assert_eq!(files_under(&chunks_dir(&app)).len(), 0, "the chunks are gone");
    assert_eq!(count(&app, "select count(*) from media_item").await, 1);
}

#[tokio::test]
async fn uploads_given_up_or_abandoned_leave_nothing_behind() {
    let app = TestApp::spawn().await;
    let owner = app.owner("Acme", "owner@acme.example").await;
    let script = Script::new(&app, &owner, "editor").await;
    const CHUNK: usize = 262_144;
    let start = || json!({"file_name": "clip.mp4", "byte_size": 3 * CHUNK, "chunk_bytes": CHUNK});
    let bytes = vec![7u8; CHUNK];

    // Cancelled by its client.
    let cancelled: Value = script.send(Method::POST, "/api/v1/media/uploads", &start()).await.json().await.unwrap();
    let cancelled = cancelled["id"].as_str().unwrap().to_owned();
    assert_eq!(script.chunk(&cancelled, 0, &bytes).await.status(), StatusCode::OK);
    assert_eq!(files_under(&chunks_dir(&app)).len(), 1);
    assert_eq!(script.delete(&format!("/api/v1/media/uploads/{cancelled}")).await.status(), StatusCode::NO_CONTENT);
    problem(script.get(&format!("/api/v1/media/uploads/{cancelled}")).await, StatusCode::NOT_FOUND).await;
    assert_eq!(files_under(&chunks_dir(&app)).len(), 0);

    // Abandoned: past its expiry, housekeeping deletes its chunks and its row.
    let abandoned: Value = script.send(Method::POST, "/api/v1/media/uploads", &start()).await.json().await.unwrap();
    let abandoned = abandoned["id"].as_str().unwrap().to_owned();
    assert_eq!(script.chunk(&abandoned, 0, &bytes).await.status(), StatusCode::OK);
    let open: Value = script.send(Method::POST, "/api/v1/media/uploads", &start()).await.json().await.unwrap();
    sqlx::query(
        "update media_upload set created_at = now() - interval '2 days', expires_at = now() - interval '1 day' where upload_id = $1::uuid",
    )
    .bind(&abandoned)
    .execute(&app.pool)
    .await
    .unwrap();
    let late = problem(script.chunk(&abandoned, CHUNK, &bytes).await, StatusCode::CONFLICT).await;
    assert!(late["detail"].as_str().unwrap().contains("Start a new upload"), "{late}");
    let store = crier_media::storage::MediaStore::open(&app.media.store).unwrap();
    assert_eq!(crier::resumable::sweep(&store, &app.pool).await.unwrap(), 1);
    assert_eq!(files_under(&chunks_dir(&app)).len(), 0);
    assert_eq!(count(&app, "select count(*) from media_upload").await, 1, "the open upload stays");
    assert_eq!(script.ok(&format!("/api/v1/media/uploads/{}", open["id"].as_str().unwrap())).await["state"], "receiving");
}

#[tokio::test]
async fn a_post_made_through_the_api_publishes_its_media_with_the_alt_text_it_chose() {
    let app = TestApp::spawn_with_worker().await;
    let owner = app.owner("Acme", "owner@acme.example").await;
    let account = support::connect_x_account(&app, &owner).await;
    let script = Script::new(&app, &owner, "editor").await;
    let photo = script.uploaded("office.jpg", fixtures::photo(640, 480, 1, 1), Some("Our office")).await;
    let body = json!({
        "text": "We moved!",
        "account_ids": [account],
        "media": [{"id": photo["id"], "alt_text": "The new office at dawn"}],
    });
    let response = script.send(Method::POST, "/api/v1/posts", &body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let post = response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();

    // Published by the worker in this process: polled until the delivery has settled.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    let delivery = loop {
        let delivery = script.ok(&format!("/api/v1/posts/{post}")).await["deliveries"][0].clone();
        if !["scheduled", "publishing", "retrying"].contains(&delivery["state"].as_str().unwrap()) {
            break delivery;
        }
        assert!(tokio::time::Instant::now() < deadline, "the post settles within 30 s: {delivery}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!((delivery["state"].as_str(), &delivery["error"]), (Some("published"), &Value::Null), "{delivery}");

    let ledger = app.sandbox_ledger().await;
    let entry = ledger.as_array().unwrap().iter().find(|e| e["platform"] == "x").expect("the post is in the ledger");
    assert_eq!(entry["media"][0]["sha256"], photo["sha256"], "X received exactly the stored bytes");
    assert_eq!(entry["media"][0]["alt_text"], "The new office at dawn", "the post's alt text, not the item's");
}
