//! Posting schedules and queues over HTTP: the queue page and its forms, Compose's "Add to
//! queue", bad times said per day, and another team reaching nothing.

mod support;

use reqwest::StatusCode;
use serde_json::Value;
use support::{TestApp, connect_x_account, error_of, field_errors, location};

#[tokio::test]
async fn a_schedule_is_set_posts_are_added_to_the_queue_moved_and_removed() {
    let app = TestApp::spawn().await;
    let owner = app.owner("Queue Team", "owner@queue.test").await;
    let x = connect_x_account(&app, &owner).await;
    let page = owner.page(&format!("/accounts/{x}/queue")).await;
    assert!(page.contains("Queue: test_x") && page.contains("Posting schedule"), "{page}");
    assert!(owner.page("/accounts").await.contains(&format!("href=\"/accounts/{x}/queue\"")));

    // Without a schedule, "Add to queue" says what to do.
    let refused = error_of(owner.call("posts/create", &[("text", "Early"), ("accounts[]", &x), ("intent", "queue")]).await).await;
    assert!(field_errors(&refused)["accounts"].contains("no posting schedule"), "{refused}");

    // A bad time names its day and keeps what was typed.
    let bad = owner
        .post_plain(
            "queue/schedule",
            &[("account_id", &x), ("timezone", "Europe/Berlin"), ("times_1", "09:00"), ("times_3", "9am")],
            &format!("/accounts/{x}/queue"),
        )
        .await;
    assert!(bad.status().is_redirection(), "{}", bad.status());
    // The error comes back in the address the browser is sent to, the typed values in the session.
    let back = location(&bad).unwrap();
    let page = owner.page(back.strip_prefix(&app.base).unwrap_or(&back)).await;
    assert!(page.contains("“9am” is not a time") && page.contains("value=\"9am\""), "{page}");

    let every_day: Vec<(String, String)> = (1..=7).map(|d| (format!("times_{d}"), "00:00, 06:00, 12:00, 18:00".to_owned())).collect();
    let mut form: Vec<(&str, &str)> = vec![("account_id", &x), ("timezone", "UTC")];
    form.extend(every_day.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let saved = owner.call("queue/schedule", &form).await;
    assert!(saved.status().is_success(), "{}", saved.text().await.unwrap());

    let mut added = Vec::new();
    for text in ["First queued", "Second queued", "Third queued"] {
        let response = owner.call("posts/create", &[("text", text), ("accounts[]", &x), ("intent", "queue")]).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        assert!(body["message"].as_str().unwrap().starts_with("Added to the queue: test_x at "), "{body}");
        added.push(body["post_id"].as_str().unwrap().to_owned());
    }
    let page = owner.page(&format!("/accounts/{x}/queue")).await;
    let position = |html: &str, text: &str| html.find(text).unwrap_or_else(|| panic!("{text} is not listed"));
    assert!(
        position(&page, "First queued") < position(&page, "Second queued")
            && position(&page, "Second queued") < position(&page, "Third queued")
    );

    // The third to the top, without a script (the form posts and the page comes back).
    let third: String = sqlx::query_scalar("select delivery_id::text from delivery where post_id = $1::uuid")
        .bind(&added[2])
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let moved = owner
        .post_plain("queue/move", &[("account_id", &x), ("delivery_id", &third), ("how", "top")], &format!("/accounts/{x}/queue"))
        .await;
    assert!(location(&moved).unwrap().contains(&format!("/accounts/{x}/queue")));
    let page = owner.page(&format!("/accounts/{x}/queue")).await;
    assert!(position(&page, "Third queued") < position(&page, "First queued"));
    let removed = owner.call("queue/remove", &[("account_id", &x), ("delivery_id", &third)]).await;
    assert!(removed.status().is_success());
    assert!(!owner.page(&format!("/accounts/{x}/queue")).await.contains("Third queued"));

    // Another team: its pages and forms find nothing of this queue.
    let rival = app.owner("Rival Team", "owner@rival.test").await;
    let rival_page = rival.get(&format!("/accounts/{x}/queue")).await.text().await.unwrap();
    assert!(!rival_page.contains("First queued") && !rival_page.contains("test_x"));
    let first: String = sqlx::query_scalar("select delivery_id::text from delivery where post_id = $1::uuid")
        .bind(&added[0])
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(rival.call("queue/remove", &[("account_id", &x), ("delivery_id", &first)]).await.status().is_client_error());
    assert!(rival.call("queue/pause", &[("account_id", &x), ("paused", "true")]).await.status().is_client_error());
    assert!(owner.page(&format!("/accounts/{x}/queue")).await.contains("First queued"));
}

#[tokio::test]
async fn the_api_sets_a_schedule_queues_posts_and_reorders_them() {
    let app = TestApp::spawn().await;
    let owner = app.owner("Api Queue", "owner@apiqueue.test").await;
    let x = connect_x_account(&app, &owner).await;
    let created: Value = owner.call("api_tokens/create", &[("name", "script"), ("role", "editor")]).await.json().await.unwrap();
    let token = created["secret"].as_str().unwrap().to_owned();
    let client = reqwest::Client::new();
    let api = |method: reqwest::Method, path: String| client.request(method, format!("{}{path}", app.base)).bearer_auth(&token);

    // A bad time and a bad weekday are named by their place in the list.
    let refused = api(reqwest::Method::PUT, format!("/api/v1/accounts/{x}/schedule"))
        .json(&serde_json::json!({ "timezone": "UTC", "slots": [{ "weekday": 8, "time": "09:00" }, { "weekday": 1, "time": "9am" }] }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let slots: Vec<Value> = (1..=7).flat_map(|d| ["00:00", "12:00"].map(|t| serde_json::json!({ "weekday": d, "time": t }))).collect();
    let set = api(reqwest::Method::PUT, format!("/api/v1/accounts/{x}/schedule"))
        .json(&serde_json::json!({ "timezone": "UTC", "slots": slots }))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), StatusCode::OK);
    let queue: Value = set.json().await.unwrap();
    assert_eq!(queue["schedule"]["slots"].as_array().unwrap().len(), 14);

    for text in ["Api one", "Api two"] {
        let post = api(reqwest::Method::POST, "/api/v1/posts".into())
            .json(&serde_json::json!({ "text": text, "account_ids": [x], "queue": true }))
            .send()
            .await
            .unwrap();
        assert_eq!(post.status(), StatusCode::CREATED);
    }
    let both = api(reqwest::Method::POST, "/api/v1/posts".into())
        .json(&serde_json::json!({ "text": "Timed", "account_ids": [x], "queue": true, "scheduled_at": "2030-01-01T09:00:00Z" }))
        .send()
        .await
        .unwrap();
    assert_eq!(both.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let queue: Value = api(reqwest::Method::GET, format!("/api/v1/accounts/{x}/queue")).send().await.unwrap().json().await.unwrap();
    let items = queue["items"].as_array().unwrap();
    assert_eq!(items.iter().map(|i| i["text"].as_str().unwrap()).collect::<Vec<_>>(), vec!["Api one", "Api two"]);
    let (first_at, second) = (items[0]["at"].clone(), items[1]["delivery_id"].as_str().unwrap().to_owned());
    let moved: Value = api(reqwest::Method::POST, format!("/api/v1/accounts/{x}/queue/move"))
        .json(&serde_json::json!({ "how": "top", "delivery_id": second }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(moved["items"][0]["text"], "Api two");
    assert_eq!(moved["items"][0]["at"], first_at, "it took the first time");
    let paused: Value = api(reqwest::Method::PUT, format!("/api/v1/accounts/{x}/queue/paused"))
        .json(&serde_json::json!({ "paused": true }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(paused["paused"], true);
    let gone: Value =
        api(reqwest::Method::DELETE, format!("/api/v1/accounts/{x}/queue/{second}")).send().await.unwrap().json().await.unwrap();
    assert_eq!(gone["items"].as_array().unwrap().len(), 1);

    // A viewer's token reads but does not change; another team's token finds nothing.
    let viewer: Value = owner.call("api_tokens/create", &[("name", "viewer"), ("role", "viewer")]).await.json().await.unwrap();
    let viewer = viewer["secret"].as_str().unwrap().to_owned();
    let read = client.get(format!("{}/api/v1/accounts/{x}/queue", app.base)).bearer_auth(&viewer).send().await.unwrap();
    assert_eq!(read.status(), StatusCode::OK);
    let write = client
        .put(format!("{}/api/v1/accounts/{x}/queue/paused", app.base))
        .bearer_auth(&viewer)
        .json(&serde_json::json!({ "paused": false }))
        .send()
        .await
        .unwrap();
    assert_eq!(write.status(), StatusCode::FORBIDDEN);
    let rival = app.owner("Api Rival", "owner@apirival.test").await;
    let rival_token: Value = rival.call("api_tokens/create", &[("name", "r"), ("role", "editor")]).await.json().await.unwrap();
    let rival_token = rival_token["secret"].as_str().unwrap().to_owned();
    let other = client.get(format!("{}/api/v1/accounts/{x}/queue", app.base)).bearer_auth(&rival_token).send().await.unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_week_shows_free_queue_times_and_a_post_dropped_on_one_joins_that_queue() {
    let app = TestApp::spawn().await;
    let owner = app.owner("Week Team", "owner@week.test").await;
    let x = connect_x_account(&app, &owner).await;
    let mut form: Vec<(String, String)> = vec![("account_id".into(), x.clone()), ("timezone".into(), "UTC".into())];
    form.extend((1..=7).map(|d| (format!("times_{d}"), "06:00, 18:30".to_owned())));
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert!(owner.call("queue/schedule", &form).await.status().is_success());

    // Next week, whatever today is: every time is still to come.
    let day = (chrono::Utc::now() + chrono::TimeDelta::days(8)).date_naive();
    let week = owner.page(&format!("/?view=week&at={day}")).await;
    assert_eq!(week.matches("class=\"free-slot\"").count(), 14, "two a day for seven days");
    assert!(week.contains("18:30 test_x · free"), "{week}");
    // Not in the month (too dense), nor in another team's week.
    assert!(!owner.page(&format!("/?view=month&at={day}")).await.contains("free-slot"));
    let rival = app.owner("Rival Week", "owner@rivalweek.test").await;
    assert!(!rival.page(&format!("/?view=week&at={day}")).await.contains("free-slot"));

    // A post at another time, dropped on 18:30 of that day: it moves there and joins the queue.
    let batch = owner.call("posts/batch", &[("posts", &format!("{day} 10:15 | Dropped in")), ("accounts[]", &x)]).await;
    assert_eq!(batch.status(), StatusCode::OK);
    let post: String = sqlx::query_scalar("select post_id::text from post where text = 'Dropped in'").fetch_one(&app.pool).await.unwrap();
    let moved =
        owner.call("posts/move", &[("post_id", &post), ("day", &day.to_string()), ("hour", "18"), ("minute", "30"), ("account", &x)]).await;
    assert_eq!(moved.status(), StatusCode::OK);
    let words: String = moved.json().await.unwrap();
    assert!(words.ends_with("into that account's queue."), "{words}");
    let slot: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("select queue_slot from delivery where post_id = $1::uuid").bind(&post).fetch_one(&app.pool).await.unwrap();
    assert_eq!(slot, Some(day.and_hms_opt(18, 30, 0).unwrap().and_utc()));
    let week = owner.page(&format!("/?view=week&at={day}")).await;
    assert_eq!(week.matches("class=\"free-slot\"").count(), 13, "that time is taken now");
    // Dropped on a time that is not free: it moves, and stays out of the queue.
    let moved =
        owner.call("posts/move", &[("post_id", &post), ("day", &day.to_string()), ("hour", "11"), ("minute", "45"), ("account", &x)]).await;
    let words: String = moved.json().await.unwrap();
    assert!(words.starts_with("Moved to") && !words.contains("queue"), "{words}");
}
