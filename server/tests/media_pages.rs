//! The media pages against the real app: Compose attaches uploaded items (with JavaScript, and
//! through its plain "Upload" button without), the scheduler's media verdict comes back in words on
//! the `media` field, the dashboard and the post page show thumbnails, and the Media page lists,
//! searches and deletes, team by team (a pending post's item is refused, naming the post).

mod support;

use crier_media::fixtures;
use reqwest::StatusCode;
use serde_json::Value;
use support::{Browser, TestApp, connect_x_account, error_of, field_errors, location};

/// Uploads one file as Compose's script does and returns the item's id.
async fn upload(browser: &Browser, name: &str, bytes: Vec<u8>, alt: &str) -> String {
    let response = browser.upload(&[(name, bytes)], alt).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["items"][0]["id"].as_str().unwrap_or_else(|| panic!("upload answer: {body}")).to_owned()
}

/// Schedules `text` on `account` far ahead, with `media` (id, alt text) attached in order.
async fn schedule_with(browser: &Browser, account: &str, text: &str, media: &[(&str, &str)]) -> reqwest::Response {
    let mut form = vec![("text", text), ("accounts[]", account), ("intent", "schedule"), ("scheduled_at", "2199-06-01T09:00")];
    for (id, alt) in media {
        form.push(("media[]", id));
        form.push(("media_alt[]", alt));
    }
    browser.call("posts/create", &form).await
}

#[tokio::test]
async fn a_post_carries_its_attachments_and_every_page_shows_their_thumbnails() {
    let app = TestApp::spawn().await;
    let owner = app.owner("Acme", "owner@acme.example").await;
    let x = connect_x_account(&app, &owner).await;
    let chart = upload(&owner, "chart.png", fixtures::png(120, 80, 1), "").await;
    let photo = upload(&owner, "office.jpg", fixtures::photo(320, 240, 2, 0), "The office").await;

    // Compose's form sends the ids and each one's alt text, in order.
    let response = schedule_with(&owner, &x, "Our quarter in two pictures", &[(&chart, "Sales rose 20%"), (&photo, "")]).await;
    assert_eq!(response.status(), StatusCode::OK, "{}", response.text().await.unwrap());
    let post: Value = response.json().await.unwrap();
    let post_id = post["post_id"].as_str().unwrap();

    let page = owner.page(&format!("/posts/{post_id}")).await;
    let chart_thumb = format!("src=\"/media/{chart}/thumbnail\"");
    let photo_thumb = format!("src=\"/media/{photo}/thumbnail\"");
    assert!(page.contains(&chart_thumb) && page.contains(&photo_thumb), "{page}");
    assert!(page.find(&chart_thumb) < page.find(&photo_thumb), "in the order attached");
    assert!(page.contains("alt=\"Sales rose 20%\""), "the post's own alt text");
    assert!(page.contains("alt=\"The office\""), "the item's own alt text where the post gave none");

    let dashboard = owner.page("/").await;
    assert!(dashboard.contains(&chart_thumb), "the dashboard shows the post's thumbnails");

    // What a delivery uploaded (the publisher records it in delivery_media) is listed under it,
    // with the platform's media id.
    sqlx::query(
        "insert into delivery_media (delivery_id, media_id, item, position, platform_media_id, expires_at)
         select delivery_id, $2::uuid, 0, 1, '1720000000000000001', now() + interval '1 day' from delivery where post_id = $1::uuid",
    )
    .bind(post_id)
    .bind(&chart)
    .execute(&app.pool)
    .await
    .unwrap();
    let page = owner.page(&format!("/posts/{post_id}")).await;
    let sent = page.split("class=\"sent-media\"").nth(1).unwrap_or_else(|| panic!("no media sent listed: {page}"));
    assert!(sent.contains("chart.png (post, 1): X media id <code>1720000000000000001</code>"), "{sent}");

    // The Media page: both items, where they are used, the storage used of the quota.
    let media = owner.page("/media").await;
    assert!(media.contains("chart.png") && media.contains("office.jpg"));
    assert_eq!(media.matches("Used by 1 post").count(), 2, "{media}");
    assert_eq!(media.matches(&format!("href=\"/posts/{post_id}\">“Our quarter in two pictures”</a>")).count(), 2, "where: {media}");
    assert!(media.contains(" used</span>") && media.contains(" of "), "the storage used: {media}");
    let found = owner.page("/media?q=CHART").await;
    assert!(found.contains("chart.png") && !found.contains("office.jpg"), "a search by part of the name");

    // A pending post's item is not deleted; the refusal names the post.
    let refused = error_of(owner.call("media/delete", &[("media_id", &chart)]).await).await;
    let words = refused["Refused"].as_str().unwrap_or_else(|| panic!("{refused}"));
    assert!(words.contains("Our quarter in two pictures"), "{words}");
    // A plain form gets the same words on the page it comes back to, beside the item.
    let plain = owner.post_plain("media/delete", &[("media_id", &chart)], "/media").await;
    assert!(plain.status().is_redirection());
    let back = owner.page(&location(&plain).unwrap().replace(&app.base, "")).await;
    assert!(back.contains("which has not gone out yet"), "{back}");

    // Another team sees none of it and deletes nothing.
    let other = app.owner("Globex", "owner@globex.example").await;
    assert!(!other.page("/media").await.contains("chart.png"));
    assert!(!other.page("/").await.contains(&chart_thumb));
    assert_eq!(other.call("media/delete", &[("media_id", &photo)]).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(other.call("media/library", &[]).await.json::<Value>().await.unwrap(), serde_json::json!([]));

    // Cancelled, the post no longer holds the item back.
    assert_eq!(owner.call("posts/cancel", &[("post_id", post_id)]).await.status(), StatusCode::OK);
    assert_eq!(owner.call("media/delete", &[("media_id", &chart)]).await.status(), StatusCode::OK);
    let media = owner.page("/media").await;
    assert!(!media.contains("chart.png") && media.contains("office.jpg"));
}

#[tokio::test]
async fn the_media_rules_refuse_in_words_on_the_attachments() {
    let app = TestApp::spawn().await;
    let owner = app.owner("Acme", "owner@acme.example").await;
    let x = connect_x_account(&app, &owner).await;
    let mut ids = Vec::new();
    for seed in 0..5 {
        ids.push(upload(&owner, &format!("slide-{seed}.png"), fixtures::png(60, 40, seed), "A slide").await);
    }
    let media: Vec<(&str, &str)> = ids.iter().map(|id| (id.as_str(), "A slide")).collect();
    let refused = error_of(schedule_with(&owner, &x, "Five slides", &media).await).await;
    let words = &field_errors(&refused)["media"];
    assert!(words.contains('4'), "X takes four images: {words}");
    assert!(!words.contains("Error") && !words.contains("{"), "in words: {words}");

    // An id that is not one, or another team's item, is not in the library.
    let other = app.owner("Globex", "owner@globex.example").await;
    let theirs = upload(&other, "theirs.png", fixtures::png(60, 40, 9), "").await;
    for id in [theirs.as_str(), "not-an-id"] {
        let refused = error_of(schedule_with(&owner, &x, "Borrowed", &[(id, "")]).await).await;
        assert!(field_errors(&refused)["media"].contains("no longer in the library"), "{refused}");
    }

    // The library list Compose's picker asks for: this team's, newest first, by name.
    let picked: Value = owner.call("media/library", &[("q", "slide-4")]).await.json().await.unwrap();
    assert_eq!(picked.as_array().unwrap().len(), 1);
    assert_eq!(picked[0]["id"], ids[4]);
    assert_eq!(picked[0]["thumbnail_url"], format!("/media/{}/thumbnail", ids[4]));
}

#[tokio::test]
async fn composes_plain_upload_keeps_what_was_typed_and_attaches_the_files() {
    let app = TestApp::spawn().await;
    let owner = app.owner("Acme", "owner@acme.example").await;
    let x = connect_x_account(&app, &owner).await;
    let before = upload(&owner, "before.png", fixtures::png(60, 40, 3), "").await;

    // Compose without JavaScript: the whole form goes to the upload with its "Upload" button.
    let form = reqwest::multipart::Form::new()
        .text("text", "Typed before the upload")
        .text("accounts[]", x.clone())
        .text("media[]", before.clone())
        .text("media_alt[]", "Already here")
        .text("alt_text", "A new chart")
        .text("return_to", "/compose")
        .text("form_key", "0123456789abcdef0123456789abcdef")
        .part("file", reqwest::multipart::Part::bytes(fixtures::png(80, 60, 4)).file_name("new.png"));
    let response = owner.client.post(format!("{}/media/upload", owner.base)).multipart(form).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response).as_deref(), Some("/compose"));

    let compose = owner.page("/compose").await;
    assert!(compose.contains("Typed before the upload"), "the text is kept");
    assert!(compose.contains("Uploaded new.png."), "{compose}");
    let attached: Vec<&str> = compose.split("name=\"media[]\" value=\"").skip(1).filter_map(|rest| rest.split('"').next()).collect();
    assert_eq!(attached.len(), 2, "{compose}");
    assert_eq!(attached[0], before, "the item attached before comes first");
    assert!(compose.contains(">Already here</textarea>") && compose.contains(">A new chart</textarea>"), "each keeps its alt text");
    let new = attached[1].to_owned();

    // The plain post of that form schedules the post with both.
    let plain = owner
        .post_plain(
            "posts/create",
            &[
                ("text", "Typed before the upload"),
                ("accounts[]", &x),
                ("intent", "schedule"),
                ("scheduled_at", "2199-06-01T09:00"),
                ("media[]", &before),
                ("media_alt[]", "Already here"),
                ("media[]", &new),
                ("media_alt[]", "A new chart"),
            ],
            "/compose",
        )
        .await;
    assert!(plain.status().is_redirection());
    let back = owner.page("/compose").await;
    assert!(back.contains("Follow it"), "the plain post says what happened: {back}");
    let rows: i64 = sqlx::query_scalar("select count(*) from post_media").fetch_one(&app.pool).await.unwrap();
    assert_eq!(rows, 2);
}

#[tokio::test]
async fn a_batch_carries_the_media_ticked_on_every_post() {
    let app = TestApp::spawn().await;
    let owner = app.owner("Acme", "owner@acme.example").await;
    let x = connect_x_account(&app, &owner).await;
    let logo = upload(&owner, "logo.png", fixtures::png(64, 64, 7), "Our logo").await;

    let page = owner.page("/compose/batch").await;
    assert!(page.contains(&format!("src=\"/media/{logo}/thumbnail\"")), "the library's thumbnails: {page}");
    assert!(page.contains(&format!("name=\"media[]\" value=\"{logo}\"")));

    let posts = "2199-01-01 09:00 | First\n2199-01-02 09:00 | Second";
    let response = owner.call("posts/batch", &[("posts", posts), ("accounts[]", &x), ("media[]", &logo)]).await;
    assert_eq!(response.status(), StatusCode::OK, "{}", response.text().await.unwrap());
    let rows: i64 = sqlx::query_scalar("select count(*) from post_media").fetch_one(&app.pool).await.unwrap();
    assert_eq!(rows, 2, "each post carries it");
    let dashboard = owner.page("/").await;
    assert_eq!(dashboard.matches(&format!("src=\"/media/{logo}/thumbnail\"")).count(), 2);

    // A refused batch keeps the ticks.
    let plain = owner.post_plain("posts/batch", &[("posts", "not a line"), ("accounts[]", &x), ("media[]", &logo)], "/compose/batch").await;
    let back = owner.page(&location(&plain).unwrap().replace(&app.base, "")).await;
    assert!(back.contains(&format!("value=\"{logo}\" checked")), "{back}");
}
