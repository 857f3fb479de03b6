//! Bulk CSV import: the Import page's plain form, `POST /api/v1/posts/import` and
//! `crier admin import-csv`, against a real app and database.

mod support;

use std::process::Command;

use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crier::config::{WebArgs, WebConfig};
use crier_outbound::AddressPolicy;
use support::{Browser, TestApp, connect_x_account, location};

/// The name of the team's (only) X account.
async fn x_name(app: &TestApp) -> String {
    sqlx::query_scalar("select name from platform_account where platform = 'x' order by connected_at desc limit 1")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// A running app with a team (its owner signed in) that has an X account; answers the account's name.
async fn team_with_x(team: &str) -> (TestApp, Browser, String) {
    let app = TestApp::spawn().await;
    let owner = app.owner(team, "ada@example.com").await;
    connect_x_account(&app, &owner).await;
    let name = x_name(&app).await;
    (app, owner, name)
}

async fn posts(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from post").fetch_one(&app.pool).await.unwrap()
}

/// Uploads `csv` with the Import page's plain form, follows the redirect, and answers the page.
async fn import_page(browser: &Browser, csv: &[u8]) -> String {
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(csv.to_vec()).file_name("posts.csv").mime_str("text/csv").unwrap());
    let response = browser.client.post(format!("{}/compose/import", browser.base)).multipart(form).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "the form goes back to the page");
    let to = location(&response).unwrap();
    assert!(to == "/compose/import" || to.starts_with("/compose/import?job="), "{to}");
    finished_page(browser, &to).await
}

/// Whether a page is an import's progress (it reloads itself).
fn in_progress(page: &str) -> bool {
    page.contains(r#"http-equiv="refresh""#)
}

/// The Import page at `to` once the import it follows has finished: a running import's page
/// reloads itself, as a browser would.
async fn finished_page(browser: &Browser, to: &str) -> String {
    for _ in 0..600 {
        let page = browser.page(to).await;
        if !in_progress(&page) {
            return page;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the import at {to} did not finish");
}

/// Starts an import with the form and answers the page it is followed on.
async fn start_import(browser: &Browser, csv: &[u8]) -> String {
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(csv.to_vec()).file_name("big.csv").mime_str("text/csv").unwrap());
    let response = browser.client.post(format!("{}/compose/import", browser.base)).multipart(form).send().await.unwrap();
    let to = location(&response).unwrap();
    assert!(to.starts_with("/compose/import?job="), "{to}");
    to
}

async fn token(browser: &Browser) -> String {
    let created: Value = browser.call("api_tokens/create", &[("name", "import"), ("role", "editor")]).await.json().await.unwrap();
    created["secret"].as_str().unwrap().to_owned()
}

async fn api_import(app: &TestApp, token: &str, content_type: &str, body: Vec<u8>) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/posts/import", app.base))
        .bearer_auth(token)
        .header(CONTENT_TYPE, content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

#[tokio::test]
async fn a_good_file_is_imported_in_one_go_and_once() {
    let (app, ada, name) = team_with_x("Importers").await;
    let handle: String = sqlx::query_scalar("select handle from platform_account").fetch_one(&app.pool).await.unwrap();
    // A BOM, CRLF line ends, columns in another order, a quoted field with a newline and a comma,
    // a thread, an override for X and a blank row.
    let csv = format!(
        "\u{feff}accounts,date,time,text,text_x,thread,link\r\n\
         {name},2030-06-01,09:30,\"Line one\r\nline two, with a comma\",,,\r\n\
         x:{name},2030-06-02,10:00,Long text for other platforms,Short for X,\"Reply one\n---\nReply two\",https://example.com/a\r\n\
         ,,,,,,\r\n\
         {},2030-06-03,11:15,Third,,,\r\n\
         {handle},2030-06-04,12:00,Fourth (by handle),,,\r\n",
        name.to_uppercase()
    );
    let page = import_page(&ada, csv.as_bytes()).await;
    assert!(page.contains("Imported 4 posts."), "{page}");
    assert_eq!(posts(&app).await, 4);
    let due: Vec<String> = sqlx::query_scalar(
        "select to_char(d.next_attempt_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI') || ' ' || d.state::text
         from delivery d order by d.next_attempt_at",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        due,
        ["2030-06-01 09:30 scheduled", "2030-06-02 10:00 scheduled", "2030-06-03 11:15 scheduled", "2030-06-04 12:00 scheduled"]
    );
    let text: String = sqlx::query_scalar("select text from post order by scheduled_at limit 1").fetch_one(&app.pool).await.unwrap();
    assert_eq!(text, "Line one\r\nline two, with a comma");
    let replies: i64 = sqlx::query_scalar("select count(*) from post_thread_item").fetch_one(&app.pool).await.unwrap();
    assert_eq!(replies, 2);
    let x_text: String = sqlx::query_scalar("select text from post_text_override where platform = 'x'").fetch_one(&app.pool).await.unwrap();
    assert_eq!(x_text, "Short for X");

    // The same file again: nothing new.
    let page = import_page(&ada, csv.as_bytes()).await;
    assert!(page.contains("Nothing new to import: all 4 rows were already imported."), "{page}");
    assert_eq!(posts(&app).await, 4);
    // The template downloads.
    let template = ada.get("/compose/import/template.csv").await;
    assert_eq!(template.status(), StatusCode::OK);
    assert!(template.headers()[CONTENT_TYPE].to_str().unwrap().starts_with("text/csv"));
    assert!(template.text().await.unwrap().starts_with("text,text_x,text_linkedin,text_facebook,accounts,date,time"));
}

#[tokio::test]
async fn bad_rows_are_reported_by_row_and_column_and_nothing_is_written() {
    let (app, ada, name) = team_with_x("Careful").await;
    let long = "word ".repeat(70);
    let csv = format!(
        "text,accounts,date,time,media\n\
         Fine,{name},2030-06-01,09:30,\n\
         Nobody,Someone Else,2030-06-01,09:30,\n\
         Too long,{name},2030-06-01,09:30,\n\
         {long},{name},2030-06-01,09:45,\n\
         Old,{name},2020-01-01,09:30,\n\
         Queued,{name},queue,,\n\
         Remote,{name},2030-06-01,09:30,https://example.com/a.jpg\n\
         Odd,{name},2030-06-01,9h30,\n"
    );
    let page = import_page(&ada, csv.as_bytes()).await;
    assert!(page.contains("Nothing was imported"), "{page}");
    for expected in
        ["The team has no account named “Someone Else”", "X allows 280", "has passed", "has no posting schedule yet", "is not a time"]
    {
        assert!(page.contains(expected), "{expected} in {page}");
    }
    // Rows as a spreadsheet numbers them (the header is row 1).
    for row in ["<td data-label=\"Row\">3</td>", "<td data-label=\"Row\">5</td>", "<td data-label=\"Row\">9</td>"] {
        assert!(page.contains(row), "{row}");
    }
    assert!(!page.contains("<td data-label=\"Row\">2</td>"), "the good row has nothing to fix");
    assert!(!page.contains("<td data-label=\"Row\">4</td>"), "a text within every limit");
    assert_eq!(posts(&app).await, 0, "nothing written");

    // The same file over the API: problem+json with each row and column.
    let token = token(&ada).await;
    let (status, problem) = api_import(&app, &token, "text/csv", csv.into_bytes()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let errors = problem["errors"].as_array().unwrap();
    assert!(errors.iter().any(|e| e["row"] == 3 && e["column"] == "accounts"), "{problem}");
    assert!(errors.iter().any(|e| e["row"] == 5 && e["column"] == "text"), "{problem}");
    assert!(errors.iter().any(|e| e["row"] == 6 && e["column"] == "time"), "{problem}");
    assert_eq!(posts(&app).await, 0);
}

#[tokio::test]
async fn files_that_cannot_be_read_say_why() {
    let mut args = crier::config::WebArgs { addr: "127.0.0.1:0".into(), ..Default::default() };
    args.import.max_rows = 3;
    args.import.max_file_size = "2KB".into();
    let app = TestApp::spawn_with(args).await;
    let ada = app.owner("Sloppy", "ada@example.com").await;
    let token = token(&ada).await;
    let cases: [(&str, Vec<u8>, &str); 6] = [
        ("unknown column", b"text,accounts,date,colour\nHi,A,2030-01-01,red\n".to_vec(), "Unknown column: colour"),
        ("no header", b"Hello,Acme,2030-01-01,09:00\n".to_vec(), "must be the header"),
        ("missing columns", b"text,time\nHi,09:00\n".to_vec(), "Add the columns accounts, date"),
        (
            "too many rows",
            "text,accounts,date,time\n"
                .to_owned()
                .into_bytes()
                .into_iter()
                .chain("a,b,2030-01-01,09:00\n".repeat(4).into_bytes())
                .collect(),
            "more than 3 rows",
        ),
        ("not UTF-8", b"text,accounts,date,time\n\xe9t\xe9,A,2030-01-01,09:00\n".to_vec(), "not UTF-8"),
        ("an open quote", b"text,accounts,date,time\n\"never closed,A,2030-01-01,09:00\n".to_vec(), "never closed"),
    ];
    for (case, body, expected) in cases {
        let (status, problem) = api_import(&app, &token, "text/csv", body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{case}");
        assert!(problem.to_string().contains(expected), "{case}: {problem}");
    }
    let (status, problem) = api_import(&app, &token, "text/csv", vec![b'a'; 3000]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{problem}");
    assert_eq!(posts(&app).await, 0);
}

#[tokio::test]
async fn another_teams_account_names_are_not_matched() {
    let (app, _owner, name) = team_with_x("Owners Of X").await;
    let bob = app.owner("Outsiders", "bob@example.com").await;
    let page = import_page(&bob, format!("text,accounts,date,time\nHi,{name},2030-06-01,09:30\n").as_bytes()).await;
    assert!(page.contains(&format!("The team has no account named “{name}”")), "{page}");
    assert_eq!(posts(&app).await, 0);
}

#[tokio::test]
async fn the_teams_approval_rules_are_followed() {
    let (app, ada, name) = team_with_x("Reviewed").await;
    let saved = ada.call("settings/set_approvals", &[("rule", "everyone"), ("approvals", "1"), ("approvers", "editors")]).await;
    assert_eq!(saved.status(), StatusCode::OK);
    let page = import_page(&ada, format!("text,accounts,date,time\nHi,{name},2030-06-01,09:30\n").as_bytes()).await;
    assert!(page.contains("Your posts need approval in this team"), "{page}");
    assert_eq!(posts(&app).await, 0);
}

#[tokio::test]
async fn the_api_takes_a_csv_body_or_a_multipart_file() {
    let (app, ada, name) = team_with_x("Scripted").await;
    let token = token(&ada).await;
    let csv = format!("text,accounts,date,time\nOne,{name},2030-06-01,09:30\nTwo,{name},2030-06-01,10:30\n");
    let (status, answer) = api_import(&app, &token, "text/csv; charset=utf-8", csv.clone().into_bytes()).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!((answer["rows"].as_u64(), answer["imported"].as_u64(), answer["already_imported"].as_u64()), (Some(2), Some(2), Some(0)));
    // In Paris, 09:30 is 07:30 UTC in June.
    let paris = format!("{}/api/v1/posts/import?timezone=Europe/Paris", app.base);
    let more = format!("{csv}Three,{name},2030-06-01,09:30\n");
    let form = reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(more.into_bytes()).file_name("more.csv"));
    let response = reqwest::Client::new().post(paris).bearer_auth(&token).multipart(form).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let answer: Value = response.json().await.unwrap();
    // The first two rows are the same posts at other moments (Paris time), so they are new too.
    assert_eq!((answer["imported"].as_u64(), answer["already_imported"].as_u64()), (Some(3), Some(0)), "{answer}");
    let (status, answer) = api_import(&app, &token, "text/csv", csv.into_bytes()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((answer["imported"].as_u64(), answer["already_imported"].as_u64()), (Some(0), Some(2)), "{answer}");
    let paris_due: i64 =
        sqlx::query_scalar("select count(*) from post where scheduled_at = '2030-06-01 07:30:00+00'").fetch_one(&app.pool).await.unwrap();
    assert_eq!(paris_due, 2, "Three and One, in Paris");
    assert_eq!(posts(&app).await, 5);
}

#[tokio::test]
async fn concurrent_imports_of_one_file_write_each_row_once() {
    let (app, ada, name) = team_with_x("Racers").await;
    let token = token(&ada).await;
    let csv: String = std::iter::once("text,accounts,date,time\n".to_owned())
        .chain((0..40).map(|i| format!("Post {i},{name},2030-07-01,{:02}:{:02}\n", 8 + i / 60, i % 60)))
        .collect();
    let (a, b) = tokio::join!(
        api_import(&app, &token, "text/csv", csv.clone().into_bytes()),
        api_import(&app, &token, "text/csv", csv.into_bytes())
    );
    assert_eq!((a.0, b.0), (StatusCode::OK, StatusCode::OK), "{a:?} {b:?}");
    assert_eq!(a.1["imported"].as_u64().unwrap() + b.1["imported"].as_u64().unwrap(), 40);
    assert_eq!(a.1["already_imported"].as_u64().unwrap() + b.1["already_imported"].as_u64().unwrap(), 40);
    assert_eq!(posts(&app).await, 40);
}

#[tokio::test]
async fn the_cli_imports_as_the_first_owner_or_the_member_named() {
    let (app, _owner, name) = team_with_x("Operators").await;
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.csv");
    std::fs::write(&good, format!("text,accounts,date,time\nFrom the shell,{name},2030-06-01,09:30\n")).unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "text,accounts,date,time\nNobody,Someone,2030-06-01,09:30\n").unwrap();
    let url = app.url.clone();
    let output = tokio::task::spawn_blocking(move || {
        let run = |file: &std::path::Path, extra: &[&str]| {
            let mut command = Command::new(env!("CARGO_BIN_EXE_crier"));
            command.env_remove("CRIER_DATA_DIR").env("DATABASE_URL", &url).args(["admin", "import-csv", "--team", "operators"]);
            command.args(extra).arg(file);
            command.output().unwrap()
        };
        (run(&good, &[]), run(&good, &[]), run(&bad, &[]), run(&good, &["--as", "nobody@example.com"]))
    })
    .await
    .unwrap();
    let text = |o: &std::process::Output| format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(output.0.status.success(), "{}", text(&output.0));
    assert!(text(&output.0).contains("Imported 1 post."), "{}", text(&output.0));
    assert!(text(&output.1).contains("Nothing new to import"), "{}", text(&output.1));
    assert_eq!(output.2.status.code(), Some(1));
    assert!(text(&output.2).contains("row 2, accounts: The team has no account named “Someone”"), "{}", text(&output.2));
    assert_eq!(output.3.status.code(), Some(2));
    assert!(text(&output.3).contains("has no member nobody@example.com"), "{}", text(&output.3));
    let author: String =
        sqlx::query_scalar("select u.email from post p join app_user u on u.user_id = p.author_id").fetch_one(&app.pool).await.unwrap();
    assert_eq!(author, "ada@example.com");
}

#[tokio::test]
async fn the_default_row_limit_imports_in_one_request() {
    let (app, ada, name) = team_with_x("Bulk").await;
    let token = token(&ada).await;
    let rows = crier_domain::import::DEFAULT_MAX_ROWS;
    let csv: String = std::iter::once("text,accounts,date,time\n".to_owned())
        .chain(
            (0..rows)
                .map(|i| format!("Post number {i} of the bulk file,{name},2031-01-{:02},{:02}:{:02}\n", 1 + i / 1440, i / 60 % 24, i % 60)),
        )
        .collect();
    let started = std::time::Instant::now();
    let (status, answer) = api_import(&app, &token, "text/csv", csv.clone().into_bytes()).await;
    let first = started.elapsed();
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["imported"].as_u64(), Some(rows as u64));
    let started = std::time::Instant::now();
    let (_, again) = api_import(&app, &token, "text/csv", csv.into_bytes()).await;
    assert_eq!(again["already_imported"].as_u64(), Some(rows as u64));
    println!("csv import: rows={rows} first_ms={} again_ms={}", first.as_millis(), started.elapsed().as_millis());
    assert_eq!(posts(&app).await, rows as i64);
}

#[tokio::test]
async fn rows_into_the_queue_take_the_next_free_times_once() {
    let (app, ada, name) = team_with_x("Queued Import").await;
    let account: String = sqlx::query_scalar("select account_id::text from platform_account").fetch_one(&app.pool).await.unwrap();
    let file = format!("text,accounts,date,time\nFirst from the file,{name},queue,\nSecond from the file,{name},queue,\n");
    // Without a schedule: the row says what to do, and nothing is written.
    let refused = import_page(&ada, file.as_bytes()).await;
    assert!(refused.contains("has no posting schedule yet"), "{refused}");
    assert_eq!(posts(&app).await, 0);

    let mut form: Vec<(String, String)> = vec![("account_id".into(), account.clone()), ("timezone".into(), "UTC".into())];
    form.extend((1..=7).map(|d| (format!("times_{d}"), "08:00, 20:00".to_owned())));
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert!(ada.call("queue/schedule", &form).await.status().is_success());
    let page = import_page(&ada, file.as_bytes()).await;
    assert!(page.contains("Imported 2 posts."), "{page}");
    let slots: Vec<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("select queue_slot from delivery where queue_slot is not null order by queue_slot")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(slots.len(), 2);
    assert_eq!(slots[1] - slots[0], chrono::TimeDelta::hours(12), "one after the other");
    // The same file again adds nothing.
    let again = import_page(&ada, file.as_bytes()).await;
    assert!(again.contains("already imported"), "{again}");
    assert_eq!(posts(&app).await, 2);
}

/// A web server on this machine serving two pictures (counting how often the first is fetched)
/// and a missing file.
async fn file_server(fetched: Arc<AtomicUsize>) -> String {
    let router = axum::Router::new()
        .route(
            "/spring%20photo.png",
            axum::routing::get(move || {
                fetched.fetch_add(1, Ordering::SeqCst);
                async { ([("content-type", "image/png")], crier_media::fixtures::png(64, 48, 3)) }
            }),
        )
        .route("/other.png", axum::routing::get(|| async { ([("content-type", "image/png")], crier_media::fixtures::png(40, 40, 9)) }))
        .route("/missing.png", axum::routing::get(|| async { (StatusCode::NOT_FOUND, "gone") }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    base
}

async fn library(app: &TestApp) -> Vec<String> {
    sqlx::query_scalar("select file_name from media_item where deleted_at is null order by file_name").fetch_all(&app.pool).await.unwrap()
}

#[tokio::test]
async fn media_named_by_web_address_is_fetched_once_and_taken_back_when_the_file_is_refused() {
    // This machine's addresses are allowed here, as an operator allows an intranet.
    let mut web = WebConfig::parse(&WebArgs { addr: "127.0.0.1:0".into(), ..WebArgs::default() }).unwrap();
    web.webhooks_allow_http = true;
    web.outbound = AddressPolicy::allowing(vec!["127.0.0.0/8".parse().unwrap()]);
    let app = TestApp::spawn_configured(web).await;
    let ada = app.owner("Remote", "ada@example.com").await;
    connect_x_account(&app, &ada).await;
    let name = x_name(&app).await;
    let token = token(&ada).await;
    let fetched = Arc::new(AtomicUsize::new(0));
    let files = file_server(fetched.clone()).await;

    // Two rows name the same picture: it is fetched once, named after its address, and both use it.
    let csv = format!(
        "text,accounts,date,time,media\n\
         With a photo,{name},2031-01-01,09:00,{files}/spring%20photo.png\n\
         Same photo,{name},2031-01-01,10:00,{files}/spring%20photo.png\n"
    );
    let (status, report) = api_import(&app, &token, "text/csv", csv.clone().into_bytes()).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["imported"], 2);
    assert_eq!(fetched.load(Ordering::SeqCst), 1);
    assert_eq!(library(&app).await, ["spring photo.png"]);
    let attached: i64 = sqlx::query_scalar("select count(distinct post_id) from post_media").fetch_one(&app.pool).await.unwrap();
    assert_eq!(attached, 2);

    // The same file again: nothing new, nothing fetched.
    let (status, report) = api_import(&app, &token, "text/csv", csv.into_bytes()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((report["imported"].as_i64(), report["already_imported"].as_i64()), (Some(0), Some(2)));
    assert_eq!(fetched.load(Ordering::SeqCst), 1, "rows imported before fetch nothing");

    // One address answers 404 and another is a private one: the file is refused, each row says
    // why, and the picture fetched for its good row is taken back out of the library.
    let csv = format!(
        "text,accounts,date,time,media\n\
         Good,{name},2031-02-01,09:00,{files}/other.png\n\
         Gone,{name},2031-02-01,10:00,{files}/missing.png\n\
         Inside,{name},2031-02-01,11:00,http://10.1.2.3/secret.png\n"
    );
    let before = sqlx::query_scalar::<_, i64>("select count(*) from post").fetch_one(&app.pool).await.unwrap();
    let (status, problem) = api_import(&app, &token, "text/csv", csv.into_bytes()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let errors = problem["errors"].as_array().unwrap();
    assert!(errors.iter().any(|e| e["row"] == 3 && e["column"] == "media" && e.to_string().contains("HTTP 404")), "{problem}");
    assert!(errors.iter().any(|e| e["row"] == 4 && e.to_string().contains("not fetched")), "{problem}");
    assert_eq!(sqlx::query_scalar::<_, i64>("select count(*) from post").fetch_one(&app.pool).await.unwrap(), before, "nothing written");
    assert_eq!(library(&app).await, ["spring photo.png"], "what the refused file fetched is taken back");

    // The Import page fetches the same way.
    let csv = format!("text,accounts,date,time,media\nFrom the page,{name},2031-03-01,09:00,{files}/other.png\n");
    let page = import_page(&ada, csv.as_bytes()).await;
    assert!(page.contains("Imported 1 post"), "{page}");
    assert_eq!(library(&app).await, ["other.png", "spring photo.png"]);
}

#[tokio::test]
async fn a_running_import_shows_how_far_it_has_come_to_its_member_only() {
    let (app, ada, name) = team_with_x("Progress").await;
    let bob = app.member(&ada, "bob@example.com", "editor").await;
    let eve = app.owner("Elsewhere", "eve@example.com").await;
    let csv = format!("text,accounts,date,time\n{}", (1..=3).map(|n| format!("Post {n},{name},2199-06-0{n},09:00\n")).collect::<String>());
    // Hold the import where it claims its rows' keys: it has checked every row and is about to
    // schedule them.
    let mut held = app.pool.begin().await.unwrap();
    sqlx::query("lock table post_import in exclusive mode").execute(&mut *held).await.unwrap();
    let to = start_import(&ada, csv.as_bytes()).await;
    let mut page = String::new();
    for _ in 0..600 {
        page = ada.page(&to).await;
        if page.contains("Scheduling the posts") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(in_progress(&page), "a running import's page reloads itself: {page}");
    assert!(page.contains("Importing big.csv"), "{page}");
    assert!(page.contains("Scheduling the posts: 0 of 3"), "{page}");
    assert!(page.contains(r#"<progress max="3" value="0""#), "{page}");
    for (who, browser) in [("a teammate", &bob), ("another team", &eve)] {
        let theirs = browser.page(&to).await;
        assert!(!theirs.contains("big.csv") && !in_progress(&theirs), "{who} sees the import: {theirs}");
        assert!(theirs.contains("There is no report of this import to show"), "{who}: {theirs}");
    }
    assert_eq!(posts(&app).await, 0);

    held.rollback().await.unwrap();
    let done = finished_page(&ada, &to).await;
    assert!(done.contains("Imported 3 posts."), "{done}");
    assert!(done.contains("big.csv ("), "the report names the file and its time: {done}");
    assert_eq!(posts(&app).await, 3);
    // The report stays for the page's address (a reload shows it again).
    assert!(ada.page(&to).await.contains("Imported 3 posts."));
}

#[tokio::test]
async fn an_import_whose_process_ended_says_so_and_old_reports_are_pruned() {
    let (app, ada, _) = team_with_x("Restarted").await;
    let (team_id, user_id): (uuid::Uuid, uuid::Uuid) =
        sqlx::query_as("select team_id, user_id from app_user where email = 'ada@example.com'").fetch_one(&app.pool).await.unwrap();
    // A row as a process leaves it when it ends mid-import: running, not written for a minute.
    let stopped = uuid::Uuid::new_v4();
    sqlx::query(
        "insert into import_job (job_id, team_id, user_id, file_name, stage, done, total, started_at, updated_at)
         values ($1, $2, $3, 'lost.csv', 'scheduling', 10, 50, now() - interval '2 minutes', now() - interval '1 minute')",
    )
    .bind(stopped)
    .bind(team_id)
    .bind(user_id)
    .execute(&app.pool)
    .await
    .unwrap();
    let page = ada.page(&format!("/compose/import?job={stopped}")).await;
    assert!(!in_progress(&page), "{page}");
    assert!(page.contains("This import stopped before it finished"), "{page}");

    // A report from last month is pruned when the team starts another import.
    let old = uuid::Uuid::new_v4();
    sqlx::query(
        "insert into import_job (job_id, team_id, user_id, file_name, stage, report, started_at, updated_at, finished_at)
         values ($1, $2, $3, 'old.csv', 'finished', '{}', now() - interval '30 days', now() - interval '30 days', now() - interval '30 days')",
    )
    .bind(old)
    .bind(team_id)
    .bind(user_id)
    .execute(&app.pool)
    .await
    .unwrap();
    import_page(&ada, b"text,accounts,date,time\n").await;
    let left: Vec<uuid::Uuid> = sqlx::query_scalar("select job_id from import_job where job_id in ($1, $2)")
        .bind(stopped)
        .bind(old)
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(left, vec![stopped], "the month-old report is pruned; the stopped one is not finished, so kept");
    // A finished import cannot be made to run again.
    let rerun = sqlx::query("update import_job set stage = 'checking' where finished_at is not null").execute(&app.pool).await;
    assert!(rerun.is_err(), "a finished import has no stage but finished");
}
