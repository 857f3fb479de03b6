//! The dashboard with more posts than fit on a page: the list pages with plain links (older,
//! newer, one day), a calendar day shows its first few posts and "+N more", and every page is
//! complete server-rendered HTML whose links work without the wasm.

mod support;

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::Value;
use support::{Browser, TestApp, connect};

/// Posts on one page of the list, and a month's day (as the app says).
const PAGE: usize = app::server::posts::LIST_PAGE_SIZE as usize;
const MONTH_DAY: usize = app::server::posts::MONTH_POSTS_PER_DAY as usize;

/// An owner (timezone UTC) with a connected sandbox X account, and the account's id.
async fn team_with_x(app: &TestApp) -> (Browser, String) {
    let owner = app.owner("Acme", "owner@acme.test").await;
    assert_eq!(connect(&owner, "x", &[("account", "acme_x")], "authorize").await, "/accounts");
    let accounts: Value = owner.call("accounts", &[]).await.json().await.unwrap();
    (owner, accounts["accounts"][0]["account_id"].as_str().unwrap().to_owned())
}

/// Schedules `lines` (`YYYY-MM-DD HH:MM | text`) with Compose → Schedule batch.
async fn schedule(owner: &Browser, account: &str, lines: &[String]) {
    let posts = lines.join("\n");
    let response = owner.call("posts/batch", &[("posts", posts.as_str()), ("accounts[]", account)]).await;
    assert_eq!(response.status(), StatusCode::OK, "{}", response.text().await.unwrap());
}

/// The `data-post` ids of the page's list, in order.
fn listed(html: &str) -> Vec<String> {
    html.split("<li ")
        .skip(1)
        .filter_map(|tag| {
            let attributes = tag.split('>').next()?;
            attributes
                .contains("class=\"post-line\"")
                .then(|| attributes.split("data-post=\"").nth(1)?.split('"').next().map(str::to_owned))?
        })
        .collect()
}

/// The `href` of the page's link with `rel="<rel>"`, or whose text is exactly `text`.
fn link(html: &str, rel_or_text: &str) -> Option<String> {
    html.split("<a ").skip(1).find_map(|tag| {
        let (attributes, rest) = tag.split_once('>')?;
        let text = rest.split("</a>").next()?;
        let matches = attributes.contains(&format!("rel=\"{rel_or_text}\"")) || text == rel_or_text;
        matches.then(|| attributes.split("href=\"").nth(1)?.split('"').next().map(|h| h.replace("&amp;", "&")))?
    })
}

/// The calendar cell of `date` (up to the next one).
fn day_cell<'a>(html: &'a str, date: &str) -> &'a str {
    let start = html.find(&format!("data-date=\"{date}\"")).unwrap_or_else(|| panic!("no cell for {date}"));
    let cell = &html[start..];
    let end = cell[1..].find("data-date=").map_or(cell.len(), |n| n + 1);
    &cell[..end]
}

#[tokio::test]
async fn the_list_pages_with_links_and_a_busy_calendar_day_shows_the_first_few_and_how_many_more() {
    let app = TestApp::spawn().await;
    let (owner, x) = team_with_x(&app).await;
    // 2030-03-05 has 20 posts, five of them at 09:00 (ties on the time); 40 more spread over
    // the month: 60 in all, more than a page.
    let mut lines: Vec<String> = (0..20).map(|i| format!("2030-03-05 {:02}:{:02} | Busy day {i}", 9 + i / 5 * 2, 0)).collect();
    lines.extend((0..40).map(|i| format!("2030-03-{:02} 12:{:02} | Spread {i}", 6 + i % 20, i)));
    schedule(&owner, &x, &lines).await;

    let first = owner.page("/").await;
    let first_ids = listed(&first);
    assert_eq!(first_ids.len(), PAGE, "one page of posts");
    assert!(first.contains("Spread"), "latest due first");
    assert!(link(&first, "prev").is_none() && link(&first, "Newest").is_none(), "the first page has nothing newer");
    let older = link(&first, "next").expect("an Older link");
    assert!(older.starts_with("/?after="), "{older}");

    let second = owner.page(&older).await;
    let second_ids = listed(&second);
    assert_eq!(second_ids.len(), 60 - PAGE);
    assert!(link(&second, "next").is_none(), "the last page has nothing older");
    assert_eq!(link(&second, "Newest").as_deref(), Some("/"));
    let all: BTreeSet<&String> = first_ids.iter().chain(&second_ids).collect();
    assert_eq!(all.len(), 60, "every post once, none twice");

    // Back: the newer page is the first page again.
    let back = owner.page(&link(&second, "prev").expect("a Newer link")).await;
    assert_eq!(listed(&back), first_ids);

    // The month: the busy day shows its three earliest posts and a link to the rest.
    let month = owner.page("/?view=month&at=2030-03-01").await;
    assert!(month.contains("March 2030"));
    let busy = day_cell(&month, "2030-03-05");
    assert_eq!(busy.matches("href=\"/posts/").count(), MONTH_DAY, "{busy}");
    let earliest = r#"<time>09:00</time> <span class="entry-text">Busy day "#;
    assert_eq!(busy.matches(earliest).count(), MONTH_DAY, "the earliest (five are due at 09:00): {busy}");
    assert_eq!(busy.matches(r#"<img src="/icons/x.svg" alt="X · acme_x: Scheduled""#).count(), MONTH_DAY, "each delivery's icon");
    let more = format!("+{} more", 20 - MONTH_DAY);
    assert_eq!(link(busy, &more).as_deref(), Some("/?day=2030-03-05"), "{busy}");
    let quiet = day_cell(&month, "2030-03-06");
    assert_eq!(quiet.matches("href=\"/posts/").count(), 2);
    assert!(!quiet.contains("more</a>"), "a day that fits has no more link: {quiet}");

    // The day's list: its 20 posts, latest first, and a way back to every day.
    let day = owner.page("/?day=2030-03-05").await;
    assert!(day.contains("Due on Tue 5 March 2030"));
    let day_ids = listed(&day);
    assert_eq!(day_ids.len(), 20);
    assert!(link(&day, "next").is_none());
    assert_eq!(link(&day, "All days").as_deref(), Some("/"));

    // A status filter keeps the day; a week shows up to ten a day.
    let week = owner.page("/?view=week&at=2030-03-05&state=scheduled").await;
    let busy = day_cell(&week, "2030-03-05");
    assert_eq!(busy.matches("href=\"/posts/").count(), 10);
    // The week is a time grid: the posts due at 09:00 sit in the 09:00 row of their day.
    let nine = busy.find(r#"data-hour="09""#).expect("an hour row");
    let ten = busy.find(r#"data-hour="10""#).expect("the next");
    assert_eq!(busy[nine..ten].matches("href=\"/posts/").count(), 5, "five are due at 09:00");
    assert!(week.contains(r#"class="hours""#) && week.contains("<li>23:00</li>"), "the hours are labelled");
    let this_week = owner.page("/?view=week").await;
    assert!(this_week.contains(r#"class="slot now""#) && this_week.contains(r#"aria-label="Now, "#), "today's hour is marked");
    // The filters say what is shown, before any script runs.
    assert!(week.contains(r#"<option value="week" selected>Week</option>"#), "the Show select names the view shown");
    assert!(week.contains(r#"<option value="scheduled" selected>Scheduled</option>"#), "and the status");
    assert!(!week.contains(r#"<option value="" selected>List</option>"#));
    assert_eq!(link(busy, "+10 more").as_deref(), Some("/?state=scheduled&day=2030-03-05"));
    assert!(owner.page("/?view=week&at=2030-03-05&state=failed").await.matches("href=\"/posts/").count() == 0);
}

#[tokio::test]
async fn a_day_busier_than_the_calendar_counts_says_at_least_how_many_more() {
    let app = TestApp::spawn().await;
    let (owner, x) = team_with_x(&app).await;
    let limit = crier_domain::store::posts::CALENDAR_COUNT_LIMIT as usize;
    let lines: Vec<String> = (0..limit + 5).map(|i| format!("2030-04-10 {:02}:{:02} | Flood {i}", 8 + i / 60, i % 60)).collect();
    schedule(&owner, &x, &lines).await;

    let month = owner.page("/?view=month&at=2030-04-01").await;
    let busy = day_cell(&month, "2030-04-10");
    assert_eq!(busy.matches("href=\"/posts/").count(), MONTH_DAY, "{busy}");
    let more = format!("{}+ more", limit - MONTH_DAY);
    assert_eq!(link(busy, &more).as_deref(), Some("/?day=2030-04-10"), "counted up to the limit, and said so: {busy}");
    // The day's list is not capped: it pages through all of them.
    let day = owner.page("/?day=2030-04-10").await;
    assert_eq!(listed(&day).len(), PAGE);
    assert!(link(&day, "next").is_some());
}

#[tokio::test]
async fn a_page_link_crier_did_not_make_says_so() {
    let app = TestApp::spawn().await;
    let (owner, _) = team_with_x(&app).await;
    let page = owner.page("/?after=not-a-cursor").await;
    assert!(page.contains("role=\"alert\"") && page.contains("This page link is not one Crier made"), "{page}");
    let page = owner.page("/?day=yesterday").await;
    assert!(page.contains("Give a date as YYYY-MM-DD."));
}

#[tokio::test]
async fn the_dashboard_reloads_itself_only_while_a_post_it_shows_is_about_to_go_out() {
    // No worker runs in this app: a post published now stays due, as it is for a moment.
    let app = TestApp::spawn().await;
    let (owner, x) = team_with_x(&app).await;
    let reloads = "<leptos-island data-component=\"ReloadWhileBusy_";
    schedule(&owner, &x, &["2030-03-05 09:00 | Much later".to_owned()]).await;
    assert!(!owner.page("/").await.contains(reloads), "nothing shown is due within a minute");

    let response = owner.call("posts/create", &[("text", "Right now"), ("accounts[]", x.as_str()), ("intent", "now")]).await;
    assert_eq!(response.status(), StatusCode::OK, "{}", response.text().await.unwrap());
    assert!(owner.page("/").await.contains(reloads), "the list shows a post about to go out");
    assert!(owner.page("/?view=month").await.contains(reloads), "so does this month's calendar");
    assert!(!owner.page("/?day=2030-03-05").await.contains(reloads), "a page without it does not reload");
}

/// Compose's Undo button's opening tag, if the page has one.
fn undo_button(html: &str) -> Option<&str> {
    let end = html.find(">Undo</button>")?;
    let start = html[..end].rfind("<button")?;
    Some(&html[start..end])
}

#[tokio::test]
async fn undo_after_posting_takes_the_post_back_into_compose_until_it_has_started() {
    // No worker runs in this app: a post stays waiting for its first attempt.
    let app = TestApp::spawn().await;
    let (owner, x) = team_with_x(&app).await;
    let form = [
        ("text", "Launch day, take one"),
        ("text_x", "Launch day on X"),
        ("link", "https://example.com/launch"),
        ("thread[]", "And a reply"),
        ("accounts[]", x.as_str()),
        ("intent", "schedule"),
        ("scheduled_at", "2199-06-01T09:00"),
    ];
    let plain = owner.post_plain("posts/create", &form, "/compose").await;
    assert!(plain.status().is_redirection());
    let back = owner.page("/compose").await;
    assert!(back.contains(r#"<p role="status" class="notice">Scheduled for"#) && back.contains("Follow it"), "{back}");
    assert!(!back.contains("Launch day, take one"), "the form is empty after posting: a second click is not a second post");
    assert!(back.contains(&format!(r#"value="{x}" checked"#)), "the accounts stay ticked for the next post");
    let post_id: uuid::Uuid = sqlx::query_scalar("select post_id from post").fetch_one(&app.pool).await.unwrap();
    let offered = undo_button(&back).expect("an Undo button");
    assert!(offered.contains(&format!(r#"value="{post_id}""#)) && !offered.contains("hidden"), "the notice offers Undo: {offered}");
    assert!(back.contains(r#"<form id="undo-form" action="/api/posts/undo" method="post" hidden>"#), "{back}");

    // Undo, as the plain form's button sends it (the whole form, aimed at posts/undo).
    let undone = owner.post_plain("posts/undo", &[("post_id", &post_id.to_string()), ("text", "")], "/compose").await;
    assert!(undone.status().is_redirection());
    let again = owner.page("/compose").await;
    assert!(again.contains(r#"<p role="status" class="notice">Undone: nothing was sent"#), "{again}");
    assert!(undo_button(&again).is_none_or(|b| b.contains("hidden")), "nothing left to undo");
    for kept in [
        ">Launch day, take one</textarea>",
        ">Launch day on X</textarea>",
        "https://example.com/launch",
        ">And a reply</textarea>",
        "2199-06-01T09:00",
    ] {
        assert!(again.contains(kept), "{kept:?} is back in the form: {again}");
    }
    assert!(again.contains(&format!(r#"value="{x}" checked"#)), "the account is ticked again: {again}");
    let states: Vec<String> = sqlx::query_scalar("select state::text from delivery").fetch_all(&app.pool).await.unwrap();
    assert_eq!(states, ["cancelled"]);

    // Once a delivery has started, Undo changes nothing and says why.
    let response = owner.call("posts/create", &[("text", "Right now"), ("accounts[]", x.as_str()), ("intent", "now")]).await;
    let now: Value = response.json().await.unwrap();
    assert_eq!(now["dry_run"], false);
    let id = now["post_id"].as_str().unwrap().to_owned();
    // A worker claims it (as the engine does), so it is publishing.
    let budgets = crier_domain::store::deliveries::Budgets::default();
    let claimed = crier_domain::store::deliveries::claim(&app.pool, "test-worker", 10, &budgets).await.unwrap();
    assert_eq!(claimed.len(), 1, "only the published-now post is due");
    let late = owner.call("posts/undo", &[("post_id", &id)]).await;
    assert_eq!(late.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(late.text().await.unwrap().contains("Too late to undo"));
    let state: String =
        sqlx::query_scalar("select state::text from delivery where post_id = $1::uuid").bind(&id).fetch_one(&app.pool).await.unwrap();
    assert_eq!(state, "publishing", "nothing changed");

    // Another team cannot undo Acme's post.
    let eve = app.owner("Rival", "eve@example.com").await;
    let theirs = eve.call("posts/undo", &[("post_id", &post_id.to_string())]).await;
    assert_eq!(theirs.status(), StatusCode::NOT_FOUND);

    // A dry run keeps the post in the plain form, without Undo.
    let dry = [("text", "Just checking"), ("accounts[]", x.as_str()), ("intent", "dry_run")];
    assert!(owner.post_plain("posts/create", &dry, "/compose").await.status().is_redirection());
    let checked = owner.page("/compose").await;
    assert!(checked.contains(">Just checking</textarea>"), "{checked}");
    assert!(undo_button(&checked).is_none_or(|b| b.contains("hidden")), "no Undo after a dry run");
}

#[tokio::test]
async fn a_day_or_an_hour_on_the_calendar_opens_compose_then() {
    let app = TestApp::spawn().await;
    let (owner, _x) = team_with_x(&app).await;
    let month = owner.page("/?view=month&at=2199-06-01").await;
    let day = day_cell(&month, "2199-06-05");
    assert_eq!(link(day, "+").as_deref(), Some("/compose?on=2199-06-05"), "{day}");
    assert!(day.contains(r#"aria-label="New post on Wed 5""#), "{day}");

    let compose = owner.page("/compose?on=2199-06-05").await;
    assert!(
        compose.contains(r#"name="scheduled_at" type="datetime-local""#) && compose.contains(r#"value="2199-06-05T09:00""#),
        "09:00 that day"
    );
    // An hour of the week's grid: that hour; an hour that is not one, 09:00.
    let at_hour = owner.page("/compose?on=2199-06-05&at=14").await;
    assert!(at_hour.contains(r#"value="2199-06-05T14:00""#), "14:00 that day");
    let not_an_hour = owner.page("/compose?on=2199-06-05&at=25").await;
    assert!(not_an_hour.contains(r#"value="2199-06-05T09:00""#));
    // A day gone by, or not a day, starts at now as Compose always does.
    let today = chrono::Utc::now().format("%Y-%m-%dT").to_string();
    for on in ["2000-01-01", "soon", ""] {
        let page = owner.page(&format!("/compose?on={on}")).await;
        assert!(page.contains(&format!(r#"value="{today}"#)), "{on:?} starts today");
    }
}

#[tokio::test]
async fn a_post_moved_to_another_day_keeps_its_time_and_is_checked_as_an_edit() {
    let app = TestApp::spawn().await;
    let (owner, x) = team_with_x(&app).await;
    schedule(&owner, &x, &["2199-06-01 09:30 | Moving day".to_owned()]).await;
    let post_id: String = sqlx::query_scalar("select post_id::text from post").fetch_one(&app.pool).await.unwrap();
    let month = owner.page("/?view=month&at=2199-06-01").await;
    assert!(month.contains(&format!(r#"data-post="{post_id}" draggable="true""#)), "an editor drags posts: {month}");
    assert!(month.contains(r#"<script type="module" src="/calendar.js"></script>"#));

    let moved = owner.call("posts/move", &[("post_id", &post_id), ("day", "2199-06-04")]).await;
    assert_eq!(moved.status(), StatusCode::OK);
    assert_eq!(moved.json::<Value>().await.unwrap(), "Moved to 2199-06-04 09:30 UTC.");
    let (due, deliveries_due): (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) =
        sqlx::query_as("select p.scheduled_at, d.next_attempt_at from post p join delivery d using (post_id)")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(due.to_rfc3339(), "2199-06-04T09:30:00+00:00", "the time of day stays");
    assert_eq!(deliveries_due, due, "its delivery moves with it");
    let edited: i64 =
        sqlx::query_scalar("select count(*) from audit_event where action = 'post_edited'").fetch_one(&app.pool).await.unwrap();
    assert_eq!(edited, 1, "audited as an edit");

    // Dropped on an hour of the week: that hour, its minutes kept.
    let hour = owner.call("posts/move", &[("post_id", &post_id), ("day", "2199-06-04"), ("hour", "14")]).await;
    assert_eq!(hour.json::<Value>().await.unwrap(), "Moved to 2199-06-04 14:30 UTC.");
    let bad = owner.call("posts/move", &[("post_id", &post_id), ("day", "2199-06-04"), ("hour", "25")]).await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // A day gone by, or not a day: refused with the reason, nothing changed.
    for (day, says) in [("2000-01-01", "has passed"), ("Tuesday", "Drop the post on a day")] {
        let refused = owner.call("posts/move", &[("post_id", &post_id), ("day", day)]).await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.text().await.unwrap().contains(says), "{day}");
    }
    // Another team's post is not found; a viewer may not move it.
    let eve = app.owner("Rival", "eve@example.com").await;
    assert_eq!(eve.call("posts/move", &[("post_id", &post_id), ("day", "2199-06-05")]).await.status(), StatusCode::NOT_FOUND);
    // A post that has started publishing stays where it is.
    sqlx::query("update delivery set next_attempt_at = now()").execute(&app.pool).await.unwrap();
    let budgets = crier_domain::store::deliveries::Budgets::default();
    crier_domain::store::deliveries::claim(&app.pool, "test-worker", 10, &budgets).await.unwrap();
    let late = owner.call("posts/move", &[("post_id", &post_id), ("day", "2199-06-05")]).await;
    assert_eq!(late.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(late.text().await.unwrap().contains("started publishing"));
}

/// Compose's previews (`posts/preview`, and the page without wasm): each ticked account of the
/// team as its platform shows the post, marked and folded as its feed does.
#[tokio::test]
async fn compose_previews_show_each_chosen_account_as_its_platform_will() {
    let app = TestApp::spawn().await;
    let (owner, x) = team_with_x(&app).await;
    let other = app.owner("Other", "owner@other.test").await;
    assert_eq!(connect(&other, "x", &[("account", "other_x")], "authorize").await, "/accounts");
    let theirs: Value = other.call("accounts", &[]).await.json().await.unwrap();
    let theirs = theirs["accounts"][0]["account_id"].as_str().unwrap().to_owned();
    let preview = |fields: Vec<(&'static str, String)>| {
        let owner = &owner;
        async move {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let answer = owner.call("posts/preview", &fields).await;
            assert_eq!(answer.status(), StatusCode::OK);
            answer.json::<String>().await.unwrap().replace("<!>", "")
        }
    };

    let html = preview(vec![
        ("text", "Meet @ana at #RustConf".into()),
        ("link", "https://example.com/launch".into()),
        ("thread[]", "The second part".into()),
        ("accounts[]", x.clone()),
        // Another team's account, sent by hand: it names nothing here.
        ("accounts[]", theirs),
    ])
    .await;
    assert_eq!(html.matches("<article").count(), 1, "one card, the team's own ticked account: {html}");
    assert!(html.contains(r#"data-platform="x""#), "{html}");
    assert!(html.contains("@acme_x"), "the account's handle: {html}");
    assert!(!html.contains("other_x"), "{html}");
    assert!(html.contains(r#"<span class="mark mention">@ana</span>"#), "{html}");
    assert!(html.contains(r#"<span class="mark hashtag">#RustConf</span>"#), "{html}");
    // X puts the link in the text, shown without its scheme, and shows its card.
    assert!(html.contains(r#"<span class="mark link">example.com/launch</span>"#), "{html}");
    assert!(html.contains(r#"class="link-card""#), "{html}");
    assert!(html.contains("The second part"), "the thread's reply: {html}");

    // Nothing ticked: one unnamed card per platform; each feed folds a long text its own way.
    let html = preview(vec![("text", "word ".repeat(60))]).await;
    assert_eq!(html.matches("<article").count(), 3, "{html}");
    assert!(html.contains("Your LinkedIn account") && html.contains("Choose accounts"), "{html}");
    assert!(html.contains("Show more") && html.contains("…see more"), "X (over 280) and LinkedIn (over 210) fold: {html}");
    assert!(!html.contains(">See more") && !html.contains(" See more"), "Facebook shows 300 characters whole: {html}");

    // The page draws them too, with the form (nothing needs the wasm).
    let page = owner.page("/compose").await;
    assert!(page.contains(r#"id="compose-previews""#) && page.contains("Your Facebook account"), "{page}");
}

/// "Save draft" in Compose: nothing scheduled, listed on Drafts, reopened in Compose as saved, saved
/// again as the same draft, shown on the calendar as a draft, then scheduled as that post; with and
/// without wasm alike (the same server function, a plain post refills the form with the draft).
#[tokio::test]
async fn a_draft_is_saved_from_compose_reopened_and_scheduled_as_the_same_post() {
    let app = TestApp::spawn().await;
    let (owner, x) = team_with_x(&app).await;
    let save = |fields: Vec<(&'static str, String)>| {
        let owner = &owner;
        async move {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            owner.call("posts/create", &fields).await
        }
    };
    // Too long for X, and no time: a draft may be both.
    let long = "draft ".repeat(60);
    let answer =
        save(vec![("intent", "draft".into()), ("text", long.clone()), ("accounts[]", x.clone()), ("link", "https://example.com/d".into())])
            .await;
    assert_eq!(answer.status(), StatusCode::OK);
    let saved: Value = answer.json().await.unwrap();
    let draft = saved["draft_id"].as_str().unwrap().to_owned();
    assert!(saved["message"].as_str().unwrap().starts_with("Draft saved."), "{saved}");
    let deliveries: i64 = sqlx::query_scalar("select count(*) from delivery").fetch_one(&app.pool).await.unwrap();
    assert_eq!(deliveries, 0);

    let drafts = owner.page("/drafts").await;
    assert!(drafts.contains(&format!(r#"href="/compose?draft={draft}""#)) && drafts.contains("Not planned yet"), "{drafts}");
    let opened = owner.page(&format!("/compose?draft={draft}")).await;
    assert!(opened.contains(&format!(r#"name="draft" value="{draft}""#)), "the form names the draft: {opened}");
    assert!(opened.contains(long.trim()) && opened.contains(r#"value="https://example.com/d""#), "{opened}");
    assert!(opened.contains(&format!(r#"value="{x}" checked"#)), "its account ticked: {opened}");
    // Another team cannot open it.
    let rival = app.owner("Rival", "owner@rival.test").await;
    let theirs = rival.get(&format!("/compose?draft={draft}")).await.text().await.unwrap();
    assert!(!theirs.contains(long.trim()), "{theirs}");

    // Saved again with a planned time: the same draft, on the calendar as one.
    let again = save(vec![
        ("intent", "draft".into()),
        ("draft", draft.clone()),
        ("text", "Launch day".into()),
        ("accounts[]", x.clone()),
        ("scheduled_at", "2199-06-03T10:00".into()),
    ])
    .await;
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["draft_id"].as_str(), Some(draft.as_str()), "{again}");
    let month = owner.page("/?view=month&at=2199-06-01").await;
    let day = day_cell(&month, "2199-06-03");
    assert!(day.contains(r#"class="entry draft""#) && day.contains(&format!("/compose?draft={draft}")), "{day}");
    assert!(!day.contains("draggable"), "a draft is not dragged: {day}");
    // The day's list (where "+N more" leads) shows it too, marked, opening in Compose.
    let listed = owner.page("/?day=2199-06-03").await;
    assert!(listed.contains(r#"class="post-line draft""#) && listed.contains("Draft · planned for 2199-06-03 10:00"), "{listed}");

    // Scheduled from Compose: the draft becomes the post, with its delivery.
    let scheduled = save(vec![
        ("intent", "schedule".into()),
        ("draft", draft.clone()),
        ("text", "Launch day".into()),
        ("accounts[]", x.clone()),
        ("scheduled_at", "2199-06-03T10:00".into()),
    ])
    .await;
    assert_eq!(scheduled.status(), StatusCode::OK);
    let scheduled: Value = scheduled.json().await.unwrap();
    assert_eq!(scheduled["post_id"].as_str(), Some(draft.as_str()));
    assert!(scheduled["draft_id"].is_null());
    let post = owner.page(&format!("/posts/{draft}")).await;
    assert!(post.contains("Launch day") && post.contains("Scheduled"), "{post}");
    assert!(!owner.page("/drafts").await.contains(&draft));
}

/// Approvals over HTTP: the owner turns them on in Settings; an editor's Compose offers "Submit for
/// review" and refuses Schedule; the Review page lists the post for the owner (not for its author),
/// who approves it, and it is scheduled for its time.
#[tokio::test]
async fn with_approvals_on_an_editors_post_waits_on_the_review_page_until_approved() {
    let app = TestApp::spawn().await;
    let (owner, x) = team_with_x(&app).await;
    let saved = owner.call("settings/set_approvals", &[("rule", "editors"), ("approvals", "1"), ("approvers", "admins")]).await;
    assert_eq!(saved.status(), StatusCode::OK);
    let settings = owner.page("/settings").await;
    assert!(settings.contains("posts need 1 approval, each by an owner or admin"), "{settings}");
    let invite: Value = owner.call("create_invite", &[("email", "ed@acme.test"), ("role", "editor")]).await.json().await.unwrap();
    let token = invite["url"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
    let editor = app.browser();
    assert_eq!(editor.call("accept_invite", &[("token", token.as_str()), ("password", support::PASSWORD)]).await.status(), StatusCode::OK);

    let compose = editor.page("/compose").await;
    assert!(compose.contains(r#"value="review">Submit for review"#), "{compose}");
    let post = |intent: &'static str| {
        let editor = &editor;
        let x = x.clone();
        async move {
            editor
                .call(
                    "posts/create",
                    &[("intent", intent), ("text", "Launch day"), ("accounts[]", x.as_str()), ("scheduled_at", "2199-06-03T10:00")],
                )
                .await
        }
    };
    let refused = support::error_of(post("schedule").await).await;
    assert!(support::field_errors(&refused)["intent"].contains("Submit for review"), "{refused}");
    // Without JavaScript the refusal is shown on the page it comes back to.
    let plain = editor
        .post_plain(
            "posts/create",
            &[("intent", "schedule"), ("text", "Launch day"), ("accounts[]", x.as_str()), ("scheduled_at", "2199-06-03T10:00")],
            "/compose",
        )
        .await;
    let back = support::location(&plain).expect("a plain post comes back to Compose");
    let back = back.splitn(4, '/').nth(3).filter(|_| back.starts_with("http")).map_or(back.clone(), |path| format!("/{path}"));
    let shown = editor.page(&back).await;
    assert!(shown.contains(r#"id="intent-error""#) && shown.contains("use “Submit for review”"), "{shown}");
    let submitted: Value = post("review").await.json().await.unwrap();
    let id = submitted["post_id"].as_str().unwrap().to_owned();
    assert!(submitted["message"].as_str().unwrap().starts_with("Submitted for review"), "{submitted}");

    // The owner's bell says so on every page, and the notifications page links to the review.
    let dashboard = owner.page("/").await;
    assert!(dashboard.contains(r#"aria-label="Notifications, 1 unread""#), "{dashboard}");
    let told = owner.page("/notifications").await;
    assert!(told.contains(r#"<a href="/review">“Launch day” waits for your review.</a>"#), "{told}");
    assert_eq!(owner.call("notifications/read", &[]).await.json::<u64>().await.unwrap(), 1);
    assert!(owner.page("/").await.contains(r#"aria-label="Notifications""#));

    let own = editor.page("/review").await;
    assert!(own.contains("Launch day") && own.contains("Your own post: another approver decides on it."), "{own}");
    let review = owner.page("/review").await;
    assert!(review.contains("Launch day") && review.contains(r#"value="approve""#), "{review}");
    let approved: Value = owner.call("reviews/decide", &[("post_id", id.as_str()), ("decision", "approve")]).await.json().await.unwrap();
    assert!(approved.as_str().unwrap().starts_with("Approved and scheduled for 2199-06-03 10:00"), "{approved}");
    assert!(owner.page(&format!("/posts/{id}")).await.contains("Scheduled"));
    assert!(owner.page("/review").await.contains("Nothing waits for review."));
}

/// A post's page shows its activity (its events and comments) with a comment box; a draft's shows
/// in Compose; a plain comment post comes back to the page with it.
#[tokio::test]
async fn comments_show_in_a_posts_activity_on_its_page_and_in_compose_for_a_draft() {
    let app = TestApp::spawn().await;
    let (owner, x) = team_with_x(&app).await;
    schedule(&owner, &x, &["2199-06-01 09:30 | Talked about".to_owned()]).await;
    let post_id: String = sqlx::query_scalar("select post_id::text from post").fetch_one(&app.pool).await.unwrap();
    let commented =
        owner.post_plain("comments/add", &[("post_id", post_id.as_str()), ("body", "Ship it")], &format!("/posts/{post_id}")).await;
    assert!(commented.status().is_redirection(), "{}", commented.status());
    let page = owner.page(&format!("/posts/{post_id}")).await;
    assert!(page.contains(r#"<h2 id="activity-heading">Activity</h2>"#), "{page}");
    assert!(page.contains("Scheduled.") && page.contains("Ship it") && page.contains("Comment added."), "{page}");
    // A blank comment is refused in words, nothing added.
    let refused = support::error_of(owner.call("comments/add", &[("post_id", post_id.as_str()), ("body", "  ")]).await).await;
    assert!(support::field_errors(&refused)["body"].contains("Write something"), "{refused}");

    let draft: Value =
        owner.call("posts/create", &[("intent", "draft"), ("text", "Unsure yet"), ("accounts[]", x.as_str())]).await.json().await.unwrap();
    let draft = draft["draft_id"].as_str().unwrap().to_owned();
    owner.call("comments/add", &[("post_id", draft.as_str()), ("body", "Needs a picture")]).await;
    let compose = owner.page(&format!("/compose?draft={draft}")).await;
    assert!(compose.contains("Needs a picture") && compose.contains("Draft Saved."), "{compose}");
}

/// A client review link over HTTP: created in Settings, opened without an account (its post's
/// previews, nothing else), approved through it (a comment on the post), and closed once revoked.
#[tokio::test]
async fn a_review_link_opens_without_an_account_takes_a_decision_and_stops_when_revoked() {
    let app = TestApp::spawn().await;
    let (owner, x) = team_with_x(&app).await;
    schedule(&owner, &x, &["2199-06-01 09:30 | For the client".to_owned(), "2199-07-01 09:30 | Not shared".to_owned()]).await;
    let post_id: String =
        sqlx::query_scalar("select post_id::text from post where text = 'For the client'").fetch_one(&app.pool).await.unwrap();
    let created = owner.call("review_links/create", &[("label", "Client"), ("post_id", post_id.as_str()), ("days", "7")]).await;
    assert_eq!(created.status(), StatusCode::OK);
    let url: String = created.json().await.unwrap();
    let path = url.split_once("/r/").map(|(_, token)| format!("/r/{token}")).unwrap();

    let client = app.browser();
    let page = client.page(&path).await;
    assert!(page.contains("Review: Client") && page.contains("For the client") && !page.contains("Not shared"), "{page}");
    assert!(page.contains(r#"data-platform="x""#) && !page.contains("owner@acme.test"), "previews, and nothing of the team: {page}");
    let token = path.trim_start_matches("/r/");
    let decided = client
        .post_plain("r/decide", &[("token", token), ("post_id", post_id.as_str()), ("decision", "approve"), ("comment", "Lovely")], &path)
        .await;
    assert!(decided.status().is_redirection(), "{}", decided.status());
    assert!(client.page(&path).await.contains("Thank you: the team sees your approval."));
    let post = owner.page(&format!("/posts/{post_id}")).await;
    assert!(post.contains("Review link “Client”") && post.contains("Approved: Lovely"), "{post}");

    let links = owner.page("/settings/review-links").await;
    assert!(links.contains("Works until"), "{links}");
    let link_id: String = sqlx::query_scalar("select link_id::text from review_link").fetch_one(&app.pool).await.unwrap();
    assert_eq!(owner.call("review_links/revoke", &[("link_id", link_id.as_str())]).await.status(), StatusCode::OK);
    assert!(client.page(&path).await.contains("This link does not open"));
    let refused = client.call("r/decide", &[("token", token), ("post_id", post_id.as_str()), ("decision", "approve")]).await;
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);
}
