//! Posts: scheduling is one transaction, every read and write is scoped by team, and edits stop
//! once publishing has started.

mod support;

use chrono::{TimeDelta, Utc};
use crier_domain::DomainError;
use crier_domain::delivery::DeliveryState;
use crier_domain::post::PostContent;
use crier_domain::store::audit::Actor;
use crier_domain::store::posts::{self, NewPost, PostEdit, PostFilter};
use crier_domain::timezone::TimeZone;
use crier_platform::Platform;
use sqlx::PgPool;
use support::{account, pool, team};
use uuid::Uuid;

fn new_post(text: &str, accounts: &[Uuid]) -> NewPost {
    NewPost {
        content: PostContent::parse(text, [], "", []).unwrap(),
        account_ids: accounts.to_vec(),
        scheduled_at: Utc::now() + TimeDelta::hours(1),
        timezone: TimeZone::parse("Europe/Berlin").unwrap(),
        dry_run: false,
        retry: Default::default(),
    }
}

async fn count(pool: &PgPool, table: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("select count(*) from {table}"))).fetch_one(pool).await.unwrap()
}

#[tokio::test]
async fn a_batch_with_one_bad_post_leaves_nothing_behind() {
    let pool = pool().await;
    let owner = team(&pool, "Acme", "owner@acme.test").await;
    let x = account(&pool, owner.team_id, Platform::X, "1").await;
    let fine = new_post("Fine", &[x]);
    let too_long = new_post(&"a".repeat(281), &[x]);
    let (index, error) =
        posts::schedule_all(&pool, owner.team_id, Actor::User(owner.user_id), &[fine.clone(), too_long], &Default::default())
            .await
            .unwrap_err();
    assert_eq!(index, 1, "the error names the post at fault");
    assert!(matches!(&error, DomainError::Invalid(f) if f.field == "text" && f.message.contains("281")), "{error:?}");
    for table in ["post", "delivery", "post_thread_item", "audit_event where action = 'post_scheduled'"] {
        assert_eq!(count(&pool, table).await, 0, "{table}");
    }
    let ids = posts::schedule_all(&pool, owner.team_id, Actor::User(owner.user_id), &[fine], &Default::default()).await.unwrap();
    assert_eq!(ids.len(), 1);
    assert_eq!(count(&pool, "delivery").await, 1);
}

#[tokio::test]
async fn another_teams_posts_and_accounts_are_out_of_reach() {
    let pool = pool().await;
    let acme = team(&pool, "Acme", "owner@acme.test").await;
    let rival = team(&pool, "Rival", "owner@rival.test").await;
    let acme_x = account(&pool, acme.team_id, Platform::X, "1").await;
    let rival_x = account(&pool, rival.team_id, Platform::X, "2").await;
    let post = posts::schedule_all(&pool, acme.team_id, Actor::User(acme.user_id), &[new_post("Ours", &[acme_x])], &Default::default())
        .await
        .unwrap()[0];

    let err = posts::schedule_all(&pool, rival.team_id, Actor::User(rival.user_id), &[new_post("Theirs", &[acme_x])], &Default::default())
        .await
        .unwrap_err()
        .1;
    assert!(matches!(err, DomainError::Invalid(ref f) if f.field == "accounts"), "{err:?}");
    assert!(matches!(posts::get(&pool, rival.team_id, post).await, Err(DomainError::NotFound)));
    assert!(matches!(posts::cancel(&pool, rival.team_id, Actor::User(rival.user_id), post).await, Err(DomainError::NotFound)));
    let edit = PostEdit { content: PostContent::parse("Hijacked", [], "", []).unwrap(), scheduled_at: Utc::now(), timezone: TimeZone::UTC };
    assert!(matches!(
        posts::edit(&pool, rival.team_id, Actor::User(rival.user_id), post, &edit, &Default::default()).await,
        Err(DomainError::NotFound)
    ));
    assert!(posts::list(&pool, rival.team_id, &PostFilter::default(), 50).await.unwrap().is_empty());
    assert_eq!(posts::retry_failed(&pool, rival.team_id, Actor::User(rival.user_id), None, None).await.unwrap(), 0);
    assert_eq!(posts::get(&pool, acme.team_id, post).await.unwrap().summary.text, "Ours");
    let _ = rival_x;
}

#[tokio::test]
async fn a_post_is_edited_and_cancelled_until_publishing_starts() {
    let pool = pool().await;
    let owner = team(&pool, "Acme", "owner@acme.test").await;
    let x = account(&pool, owner.team_id, Platform::X, "1").await;
    let li = account(&pool, owner.team_id, Platform::Linkedin, "urn:li:person:abc").await;
    let actor = Actor::User(owner.user_id);
    let post =
        posts::schedule_all(&pool, owner.team_id, actor, &[new_post("First draft", &[x, li])], &Default::default()).await.unwrap()[0];

    let later = Utc::now() + TimeDelta::days(2);
    let content =
        PostContent::parse("Second draft", [(Platform::X, "Short for X".to_owned())], "https://example.com/news", ["And more".to_owned()])
            .unwrap();
    posts::edit(
        &pool,
        owner.team_id,
        actor,
        post,
        &PostEdit { content: content.clone(), scheduled_at: later, timezone: TimeZone::UTC },
        &Default::default(),
    )
    .await
    .unwrap();
    let detail = posts::get(&pool, owner.team_id, post).await.unwrap();
    assert_eq!(detail.content, content);
    assert!(
        detail.summary.deliveries.iter().all(|d| (d.next_attempt_at - later).num_milliseconds().abs() < 1),
        "deliveries follow the new time"
    );
    assert!(detail.summary.is_editable());

    // Once a delivery has started, the post is no longer editable.
    sqlx::query("update delivery set state = 'publishing', claimed_by = 'w', claimed_at = now(), attempts = 1 where account_id = $1")
        .bind(x)
        .execute(&pool)
        .await
        .unwrap();
    let err = posts::edit(
        &pool,
        owner.team_id,
        actor,
        post,
        &PostEdit { content, scheduled_at: later, timezone: TimeZone::UTC },
        &Default::default(),
    )
    .await
    .unwrap_err();
    assert!(matches!(&err, DomainError::Invalid(f) if f.field == "post"), "{err:?}");
    // Cancel takes what has not started; the delivery being published is left to finish.
    assert_eq!(posts::cancel(&pool, owner.team_id, actor, post).await.unwrap(), 1);
    let states: Vec<DeliveryState> =
        posts::get(&pool, owner.team_id, post).await.unwrap().summary.deliveries.iter().map(|d| d.state).collect();
    assert_eq!(states, [DeliveryState::Publishing, DeliveryState::Cancelled]);
    let audited: i64 =
        sqlx::query_scalar("select count(*) from audit_event where action in ('post_scheduled', 'post_edited', 'post_cancelled')")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(audited, 3);
}

#[tokio::test]
async fn a_thread_needs_an_x_account_and_the_link_must_be_a_web_address() {
    let pool = pool().await;
    let owner = team(&pool, "Acme", "owner@acme.test").await;
    let li = account(&pool, owner.team_id, Platform::Linkedin, "urn:li:person:abc").await;
    let mut post = new_post("Thread?", &[li]);
    post.content = PostContent::parse("Thread?", [], "", ["Reply".to_owned()]).unwrap();
    let err = posts::schedule_all(&pool, owner.team_id, Actor::User(owner.user_id), &[post], &Default::default()).await.unwrap_err().1;
    assert!(matches!(&err, DomainError::Invalid(f) if f.field == "thread"), "{err:?}");
    let err = posts::schedule_all(&pool, owner.team_id, Actor::User(owner.user_id), &[new_post("Nobody", &[])], &Default::default())
        .await
        .unwrap_err()
        .1;
    assert!(matches!(&err, DomainError::Invalid(f) if f.field == "accounts"), "{err:?}");
}

#[tokio::test]
async fn a_post_takes_the_teams_retry_policy_unless_it_sets_its_own_and_keeps_it_when_the_team_changes() {
    use crier_domain::retry::{RetryOverride, RetryPolicy};
    use crier_domain::store::teams;

    let pool = pool().await;
    let acme = team(&pool, "Acme", "owner@acme.test").await;
    let rival = team(&pool, "Rival", "owner@rival.test").await;
    let x = account(&pool, acme.team_id, Platform::X, "1").await;
    assert_eq!(teams::retry_policy(&pool, acme.team_id).await.unwrap(), RetryPolicy::default(), "the brief's 5 × 5 min");

    let before = posts::schedule_all(&pool, acme.team_id, Actor::User(acme.user_id), &[new_post("Before", &[x])], &Default::default())
        .await
        .unwrap()[0];
    let patient = RetryPolicy { max_attempts: 8, first_retry_seconds: 60 };
    teams::set_retry_policy(&pool, acme.team_id, Actor::User(acme.user_id), patient).await.unwrap();
    assert_eq!(teams::retry_policy(&pool, acme.team_id).await.unwrap(), patient);
    assert_eq!(teams::retry_policy(&pool, rival.team_id).await.unwrap(), RetryPolicy::default(), "only Acme changed");

    let after = posts::schedule_all(&pool, acme.team_id, Actor::User(acme.user_id), &[new_post("After", &[x])], &Default::default())
        .await
        .unwrap()[0];
    let mut own = new_post("Own", &[x]);
    own.retry = RetryOverride { max_attempts: Some(2), first_retry_seconds: None };
    let own = posts::schedule_all(&pool, acme.team_id, Actor::User(acme.user_id), &[own], &Default::default()).await.unwrap()[0];
    let retry_of = |id| {
        let pool = pool.clone();
        async move { posts::get(&pool, acme.team_id, id).await.unwrap().retry }
    };
    assert_eq!(retry_of(before).await, RetryPolicy::default(), "a written post keeps the policy it was scheduled with");
    assert_eq!(retry_of(after).await, patient);
    assert_eq!(retry_of(own).await, RetryPolicy { max_attempts: 2, first_retry_seconds: 60 }, "its own attempts, the team's wait");

    let mut silly = new_post("Silly", &[x]);
    silly.retry = RetryOverride { max_attempts: Some(50), first_retry_seconds: None };
    let (_, error) = posts::schedule_all(&pool, acme.team_id, Actor::User(acme.user_id), &[silly], &Default::default()).await.unwrap_err();
    assert!(matches!(&error, DomainError::Invalid(f) if f.field == "max_attempts"), "{error:?}");

    let changed: serde_json::Value =
        sqlx::query_scalar("select metadata from audit_event where action = 'retry_policy_changed' and team_id = $1")
            .bind(acme.team_id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(changed["max_attempts"], serde_json::json!({ "from": 5, "to": 8 }));
    assert_eq!(changed["retry_base_seconds"], serde_json::json!({ "from": 300, "to": 60 }));
}

/// `count` posts to `accounts`, due at the given times (in order), scheduled in one transaction.
async fn schedule_at(pool: &PgPool, owner: &crier_domain::store::Member, accounts: &[Uuid], times: &[chrono::DateTime<Utc>]) -> Vec<Uuid> {
    let batch: Vec<NewPost> =
        times.iter().enumerate().map(|(i, at)| NewPost { scheduled_at: *at, ..new_post(&format!("Post {i}"), accounts) }).collect();
    posts::schedule_all(pool, owner.team_id, Actor::User(owner.user_id), &batch, &Default::default()).await.unwrap()
}

#[tokio::test]
async fn the_post_list_pages_both_ways_with_cursors_without_gaps_or_repeats() {
    let pool = pool().await;
    let owner = team(&pool, "Acme", "owner@acme.test").await;
    let rival = team(&pool, "Rival", "owner@rival.test").await;
    let x = account(&pool, owner.team_id, Platform::X, "1").await;
    let rival_x = account(&pool, rival.team_id, Platform::X, "2").await;
    // Whole seconds: the database keeps microseconds, and the window below compares with these.
    let base = chrono::SubsecRound::trunc_subsecs(Utc::now() + TimeDelta::days(1), 0);
    // 23 posts, three of them at each time: the id breaks ties, so a page boundary inside a group
    // of equal times neither skips nor repeats one.
    let times: Vec<_> = (0..23).map(|i| base + TimeDelta::minutes(i / 3)).collect();
    let made = schedule_at(&pool, &owner, &[x], &times).await;
    schedule_at(&pool, &rival, &[rival_x], &times[..5]).await;

    let everything = posts::list(&pool, owner.team_id, &PostFilter::default(), 100).await.unwrap();
    assert_eq!(everything.len(), 23, "the team's posts only");
    let key = |p: &posts::PostSummary| (p.scheduled_at, p.post_id);
    assert!(everything.windows(2).all(|w| key(&w[0]) > key(&w[1])), "latest due first, then by id");
    let mut all_ids: Vec<Uuid> = everything.iter().map(|p| p.post_id).collect();
    all_ids.sort();
    let mut made_sorted = made.clone();
    made_sorted.sort();
    assert_eq!(all_ids, made_sorted);

    // Forwards: pages of 5 from `after` the last post of each page.
    let mut forward: Vec<Vec<Uuid>> = Vec::new();
    let mut filter = PostFilter::default();
    loop {
        let page = posts::list(&pool, owner.team_id, &filter, 5).await.unwrap();
        if page.is_empty() {
            break;
        }
        filter.after = page.last().map(key);
        forward.push(page.iter().map(|p| p.post_id).collect());
    }
    assert_eq!(forward.iter().map(Vec::len).collect::<Vec<_>>(), [5, 5, 5, 5, 3]);
    assert_eq!(forward.concat(), everything.iter().map(|p| p.post_id).collect::<Vec<_>>(), "the pages join up into the whole list");

    // Backwards from the last page: `before` its first post gives the previous page, in order.
    let oldest_page =
        posts::list(&pool, owner.team_id, &PostFilter { after: Some(key(&everything[19])), ..PostFilter::default() }, 5).await.unwrap();
    assert_eq!(oldest_page.iter().map(|p| p.post_id).collect::<Vec<_>>(), forward[4]);
    let mut before = key(&oldest_page[0]);
    for expected in forward[..4].iter().rev() {
        let page = posts::list(&pool, owner.team_id, &PostFilter { before: Some(before), ..PostFilter::default() }, 5).await.unwrap();
        assert_eq!(&page.iter().map(|p| p.post_id).collect::<Vec<_>>(), expected);
        before = key(&page[0]);
    }
    let past_the_top = posts::list(&pool, owner.team_id, &PostFilter { before: Some(before), ..PostFilter::default() }, 5).await.unwrap();
    assert!(past_the_top.is_empty(), "nothing is newer than the newest");

    // Bounds and a cursor together: only the posts due in the window, still paged.
    let window = PostFilter { from: Some(times[6]), until: Some(times[12]), ..PostFilter::default() };
    let first = posts::list(&pool, owner.team_id, &window, 4).await.unwrap();
    let rest = posts::list(&pool, owner.team_id, &PostFilter { after: first.last().map(key), ..window.clone() }, 4).await.unwrap();
    assert_eq!((first.len(), rest.len()), (4, 2), "six posts are due in [times[6], times[12])");
    assert!(first.iter().chain(&rest).all(|p| p.scheduled_at >= times[6] && p.scheduled_at < times[12]));
}

#[tokio::test]
async fn post_list_cursors_read_back_and_refuse_anything_else() {
    let at = Utc::now();
    let id = Uuid::new_v4();
    let cursor = posts::encode_cursor(at, id);
    assert!(cursor.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'), "safe in a URL as it is: {cursor}");
    let (back_at, back_id) = posts::decode_cursor(&cursor).unwrap();
    assert_eq!((back_at.timestamp_micros(), back_id), (at.timestamp_micros(), id));
    for bad in ["", "nonsense", "bm9wZQ", &cursor[..cursor.len() - 3]] {
        assert_eq!(posts::decode_cursor(bad), None, "{bad:?}");
    }
}

#[tokio::test]
async fn a_calendar_day_counts_all_its_posts_in_the_viewers_zone_and_lists_only_the_first_few() {
    use chrono::NaiveDate;

    let pool = pool().await;
    let owner = team(&pool, "Acme", "owner@acme.test").await;
    let x = account(&pool, owner.team_id, Platform::X, "1").await;
    let berlin = TimeZone::parse("Europe/Berlin").unwrap();
    let day = |d: u32| NaiveDate::from_ymd_opt(2030, 7, d).unwrap();
    let local = |d: u32, h: u32, m: u32| berlin.start_of_day(day(d)) + TimeDelta::hours(h.into()) + TimeDelta::minutes(m.into());
    // July 1st (Berlin): 7 posts, the first at 00:10 local (still June 30th in UTC). July 2nd: none.
    // July 3rd: 2 posts, the last at 23:50 local (already July 4th in UTC).
    let mut times: Vec<_> = (0..7).map(|i| local(1, 0, 10 + i * 7)).collect();
    times.push(local(3, 9, 0));
    times.push(local(3, 23, 50));
    let made = schedule_at(&pool, &owner, &[x], &times).await;
    let bounds: Vec<_> = (1..=3).map(|d| (berlin.start_of_day(day(d)), berlin.start_of_day(day(d + 1)))).collect();

    let days = posts::calendar(&pool, owner.team_id, &bounds, None, 3).await.unwrap();
    assert_eq!(days.iter().map(|d| d.total).collect::<Vec<_>>(), [7, 0, 2]);
    assert!(days.iter().all(|d| !d.more_than_total), "every count is exact");
    assert_eq!(days.iter().map(|d| d.first.len()).collect::<Vec<_>>(), [3, 0, 2], "at most three posts a day are read");
    assert_eq!(days[0].first.iter().map(|p| p.post_id).collect::<Vec<_>>(), made[..3], "the day's earliest, earliest first");
    assert_eq!(days[2].first.iter().map(|p| p.post_id).collect::<Vec<_>>(), made[7..]);
    assert!(days[0].first.iter().all(|p| p.deliveries.len() == 1), "with their deliveries");

    // With a status: only the posts with a delivery in it are counted and shown.
    posts::cancel(&pool, owner.team_id, Actor::User(owner.user_id), made[1]).await.unwrap();
    posts::cancel(&pool, owner.team_id, Actor::User(owner.user_id), made[8]).await.unwrap();
    let cancelled = posts::calendar(&pool, owner.team_id, &bounds, Some(DeliveryState::Cancelled), 3).await.unwrap();
    assert_eq!(cancelled.iter().map(|d| d.total).collect::<Vec<_>>(), [1, 0, 1]);
    assert_eq!(cancelled[0].first[0].post_id, made[1]);
    let scheduled = posts::calendar(&pool, owner.team_id, &bounds, Some(DeliveryState::Scheduled), 3).await.unwrap();
    assert_eq!(scheduled.iter().map(|d| d.total).collect::<Vec<_>>(), [6, 0, 1]);
    assert!(!scheduled[0].first.iter().any(|p| p.post_id == made[1]));
    assert_eq!(posts::failed_count(&pool, owner.team_id).await.unwrap(), 0);
}

#[tokio::test]
async fn a_calendar_day_stops_counting_at_the_limit_and_says_there_are_more() {
    let pool = pool().await;
    let owner = team(&pool, "Acme", "owner@acme.test").await;
    let x = account(&pool, owner.team_id, Platform::X, "1").await;
    let start = Utc::now() + TimeDelta::days(2);
    let limit = posts::CALENDAR_COUNT_LIMIT;
    // The first day: five more posts than the limit; the second: one fewer.
    let mut times: Vec<_> = (0..limit + 5).map(|i| start + TimeDelta::minutes(i)).collect();
    times.extend((0..limit - 1).map(|i| start + TimeDelta::days(1) + TimeDelta::minutes(i)));
    let made = schedule_at(&pool, &owner, &[x], &times).await;
    let bounds = [(start, start + TimeDelta::days(1)), (start + TimeDelta::days(1), start + TimeDelta::days(2))];

    let days = posts::calendar(&pool, owner.team_id, &bounds, None, 3).await.unwrap();
    assert_eq!((days[0].total, days[0].more_than_total), (limit, true), "counted up to the limit, and more");
    assert_eq!((days[1].total, days[1].more_than_total), (limit - 1, false), "under the limit: exact");
    assert_eq!(days[0].first.iter().map(|p| p.post_id).collect::<Vec<_>>(), made[..3], "still the day's earliest");
    // A state filter counts the same way.
    let scheduled = posts::calendar(&pool, owner.team_id, &bounds, Some(DeliveryState::Scheduled), 3).await.unwrap();
    assert_eq!((scheduled[0].total, scheduled[0].more_than_total), (limit, true));
    // Asking for more posts a day than the limit counts at least those.
    let wide = posts::calendar(&pool, owner.team_id, &bounds[..1], None, limit + 2).await.unwrap();
    assert_eq!((wide[0].total, wide[0].more_than_total, wide[0].first.len()), (limit + 2, true, (limit + 2) as usize));
}

#[tokio::test]
async fn a_draft_is_saved_without_deliveries_reopened_scheduled_as_the_same_post_or_discarded_and_stays_in_its_team() {
    use crier_domain::post_state::PostState;
    use crier_domain::store::drafts::{self, Draft};
    let pool = pool().await;
    let owner = team(&pool, "Acme", "owner@acme.test").await;
    let rival = team(&pool, "Rival", "owner@rival.test").await;
    let x = account(&pool, owner.team_id, Platform::X, "1").await;
    let theirs = account(&pool, rival.team_id, Platform::X, "2").await;
    let me = Actor::User(owner.user_id);
    // Too long for X: a draft may be, the schedule step says so.
    let long = "word ".repeat(70);
    let draft = Draft {
        content: PostContent::parse(&long, [], "https://example.com/d", ["a reply".to_owned()]).unwrap(),
        account_ids: vec![x],
        planned_at: None,
        timezone: TimeZone::parse("Europe/Berlin").unwrap(),
    };
    let id = drafts::save(&pool, owner.team_id, me, None, &draft).await.unwrap();
    assert_eq!(count(&pool, "delivery").await, 0, "a draft has no deliveries");
    let opened = drafts::get(&pool, owner.team_id, id).await.unwrap();
    assert_eq!((opened.content.text.as_str(), opened.account_ids.as_slice(), opened.planned_at), (long.trim(), &[x][..], None));
    assert_eq!(opened.content.thread, ["a reply"]);
    let (listed, total) = drafts::list(&pool, owner.team_id).await.unwrap();
    assert_eq!((listed.len(), total, listed[0].accounts[0].0), (1, 1, Platform::X));

    // Another team: not its draft to read, save over, schedule or discard; not its account to plan.
    assert!(matches!(drafts::get(&pool, rival.team_id, id).await, Err(DomainError::NotFound)));
    assert!(drafts::list(&pool, rival.team_id).await.unwrap().0.is_empty());
    assert!(drafts::save(&pool, rival.team_id, Actor::User(rival.user_id), Some(id), &draft).await.is_err());
    assert!(matches!(drafts::discard(&pool, rival.team_id, Actor::User(rival.user_id), id).await, Err(DomainError::NotFound)));
    let planned_theirs = Draft { account_ids: vec![theirs], ..draft.clone() };
    assert!(matches!(drafts::save(&pool, owner.team_id, me, Some(id), &planned_theirs).await, Err(DomainError::Invalid(_))));

    // Saved again: the same draft, now planned and shorter.
    let at = Utc::now() + TimeDelta::days(2);
    let shorter = Draft { content: PostContent::parse("Launch day", [], "", []).unwrap(), planned_at: Some(at), ..draft.clone() };
    assert_eq!(drafts::save(&pool, owner.team_id, me, Some(id), &shorter).await.unwrap(), id);
    let opened = drafts::get(&pool, owner.team_id, id).await.unwrap();
    assert_eq!((opened.content.text.as_str(), opened.content.thread.len()), ("Launch day", 0));
    assert_eq!(opened.planned_at.map(|t| t.timestamp()), Some(at.timestamp()));
    // On the calendar, as a draft.
    let day = (at - TimeDelta::hours(12), at + TimeDelta::hours(12));
    let calendar = posts::calendar(&pool, owner.team_id, &[day], None, 3).await.unwrap();
    assert_eq!((calendar[0].total, calendar[0].first[0].state), (1, PostState::Draft));
    // Not in the list of scheduled posts, nor a post's page.
    assert!(posts::list(&pool, owner.team_id, &PostFilter::default(), 10).await.unwrap().is_empty());
    // ... unless asked for (the dashboard lists what its calendar shows), and never under a delivery state.
    let with = PostFilter { with_unscheduled: true, ..PostFilter::default() };
    assert_eq!(posts::list(&pool, owner.team_id, &with, 10).await.unwrap()[0].state, PostState::Draft);
    let failed = PostFilter { state: Some(DeliveryState::Failed), ..with.clone() };
    assert!(posts::list(&pool, owner.team_id, &failed, 10).await.unwrap().is_empty());
    assert!(matches!(posts::get(&pool, owner.team_id, id).await, Err(DomainError::NotFound)));

    // Scheduled (refused while it does not fit, nothing changed), then as the same post.
    let rules = crier_domain::post::MediaRules::default();
    let mut tx = pool.begin().await.unwrap();
    let too_long = NewPost { content: draft.content.clone(), ..new_post("x", &[x]) };
    assert!(posts::schedule_draft(&mut tx, owner.team_id, me, id, &too_long, &rules).await.is_err());
    tx.rollback().await.unwrap();
    let mut tx = pool.begin().await.unwrap();
    let scheduled = posts::schedule_draft(&mut tx, owner.team_id, me, id, &new_post("Launch day", &[x]), &rules).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(scheduled, id);
    assert_eq!(count(&pool, "delivery").await, 1);
    assert_eq!(count(&pool, "post_planned_account").await, 0);
    assert_eq!(posts::get(&pool, owner.team_id, id).await.unwrap().summary.deliveries[0].state, DeliveryState::Scheduled);
    // No longer a draft: not saved over, scheduled twice or discarded.
    assert!(drafts::save(&pool, owner.team_id, me, Some(id), &shorter).await.is_err());
    let mut tx = pool.begin().await.unwrap();
    assert!(posts::schedule_draft(&mut tx, owner.team_id, me, id, &new_post("again", &[x]), &rules).await.is_err());
    drop(tx);
    assert!(matches!(drafts::discard(&pool, owner.team_id, me, id).await, Err(DomainError::NotFound)));

    // Another draft, discarded: listed no more.
    let other = drafts::save(&pool, owner.team_id, me, None, &shorter).await.unwrap();
    drafts::discard(&pool, owner.team_id, me, other).await.unwrap();
    assert_eq!(drafts::list(&pool, owner.team_id).await.unwrap().1, 0);
    assert!(matches!(drafts::get(&pool, owner.team_id, other).await, Err(DomainError::NotFound)));
}

/// A member of `owner`'s team with `role` (written directly: a fixture).
async fn member(pool: &PgPool, owner: &crier_domain::store::Member, email: &str, role: crier_domain::Role) -> crier_domain::store::Member {
    let user_id: Uuid =
        sqlx::query_scalar("insert into app_user (team_id, email, password_hash, role) values ($1, $2, 'x', $3) returning user_id")
            .bind(owner.team_id)
            .bind(email)
            .bind(role)
            .fetch_one(pool)
            .await
            .unwrap();
    crier_domain::store::Member { user_id, email: email.into(), role, ..owner.clone() }
}

#[tokio::test]
async fn with_approvals_on_an_editors_post_is_submitted_approved_by_two_others_and_scheduled_then() {
    use crier_domain::Role;
    use crier_domain::approval::ApprovalPolicy;
    use crier_domain::post_state::PostState;
    use crier_domain::store::drafts::{self, Draft};
    use crier_domain::store::reviews::{self, Decided, Decision};
    let pool = pool().await;
    let owner = team(&pool, "Acme", "owner@acme.test").await;
    let editor = member(&pool, &owner, "ed@acme.test", Role::Editor).await;
    let admin = member(&pool, &owner, "ad@acme.test", Role::Admin).await;
    let x = account(&pool, owner.team_id, Platform::X, "1").await;
    let rules = crier_domain::post::MediaRules::default();
    reviews::set_policy(&pool, owner.team_id, Actor::User(owner.user_id), ApprovalPolicy::parse("editors", "2", "admins").unwrap())
        .await
        .unwrap();

    // The editor cannot schedule it straight away (nor in a batch); a dry run is fine.
    let at = Utc::now() + TimeDelta::days(1);
    let refused = posts::schedule_all(&pool, owner.team_id, Actor::User(editor.user_id), &[new_post("Launch", &[x])], &rules).await;
    assert!(matches!(refused, Err((0, DomainError::Invalid(ref e))) if e.field == "intent"), "{refused:?}");
    let dry = NewPost { dry_run: true, ..new_post("Launch", &[x]) };
    assert!(posts::schedule_all(&pool, owner.team_id, Actor::User(editor.user_id), &[dry], &rules).await.is_ok());

    let draft = Draft {
        content: PostContent::parse("Launch day", [], "", []).unwrap(),
        account_ids: vec![x],
        planned_at: Some(at),
        timezone: TimeZone::UTC,
    };
    let id = reviews::submit(&pool, owner.team_id, Actor::User(editor.user_id), None, &draft, &rules).await.unwrap();
    assert_eq!(drafts::get(&pool, owner.team_id, id).await.unwrap().state, PostState::InReview);
    assert_eq!(reviews::in_review(&pool, &admin).await.unwrap().len(), 1);

    // Nobody approves their own; an editor is not an approver here; changes need a comment.
    assert!(reviews::decide(&pool, &editor, id, Decision::Approve, "", &rules).await.is_err());
    assert!(matches!(reviews::decide(&pool, &editor, id, Decision::Approve, "", &rules).await, Err(DomainError::Forbidden)));
    assert!(reviews::decide(&pool, &admin, id, Decision::RequestChanges, "  ", &rules).await.is_err());
    let admins_own = reviews::submit(&pool, owner.team_id, Actor::User(admin.user_id), None, &draft, &rules).await.unwrap();
    let own = reviews::decide(&pool, &admin, admins_own, Decision::Approve, "", &rules).await;
    assert!(matches!(own, Err(DomainError::Invalid(ref e)) if e.message.contains("own post")), "{own:?}");

    // Changes requested: back to the editor, who edits and submits again (a new round).
    assert_eq!(reviews::decide(&pool, &admin, id, Decision::RequestChanges, "Say when", &rules).await.unwrap(), Decided::ChangesRequested);
    let better = Draft { content: PostContent::parse("Launch day, 10:00", [], "", []).unwrap(), ..draft.clone() };
    reviews::submit(&pool, owner.team_id, Actor::User(editor.user_id), Some(id), &better, &rules).await.unwrap();

    // Two approvals: the admin's, then the owner's, which schedules it for its time.
    assert_eq!(
        reviews::decide(&pool, &admin, id, Decision::Approve, "", &rules).await.unwrap(),
        Decided::Waiting { approvals: 1, needed: 2 }
    );
    assert!(reviews::decide(&pool, &admin, id, Decision::Approve, "", &rules).await.is_err(), "one decision a round");
    assert!(matches!(reviews::decide(&pool, &owner, id, Decision::Approve, "", &rules).await.unwrap(), Decided::Scheduled(_)));
    let post = posts::get(&pool, owner.team_id, id).await.unwrap();
    assert_eq!((post.content.text.as_str(), post.summary.deliveries.len()), ("Launch day, 10:00", 1));
    assert_eq!(post.summary.deliveries[0].state, DeliveryState::Scheduled);

    // An approved post whose time has passed waits, and says so.
    let late = Draft { planned_at: Some(Utc::now() - TimeDelta::hours(1)), ..draft.clone() };
    let late_id = reviews::submit(&pool, owner.team_id, Actor::User(editor.user_id), None, &late, &rules).await.unwrap();
    reviews::decide(&pool, &admin, late_id, Decision::Approve, "", &rules).await.unwrap();
    let waits = reviews::decide(&pool, &owner, late_id, Decision::Approve, "", &rules).await.unwrap();
    assert!(matches!(&waits, Decided::Approved(why) if why.contains("has passed")), "{waits:?}");
    assert_eq!(drafts::get(&pool, owner.team_id, late_id).await.unwrap().state, PostState::Approved);
    // Its author schedules it for a new time, as approved; with other words it is an edit, refused.
    let edited = NewPost { content: PostContent::parse("Something else", [], "", []).unwrap(), ..new_post("x", &[x]) };
    let mut tx = pool.begin().await.unwrap();
    let refused = posts::schedule_draft(&mut tx, owner.team_id, Actor::User(editor.user_id), late_id, &edited, &rules).await;
    assert!(matches!(refused, Err(DomainError::Invalid(ref e)) if e.field == "intent"), "{refused:?}");
    drop(tx);
    let as_approved = NewPost { content: draft.content.clone(), ..new_post("x", &[x]) };
    let mut tx = pool.begin().await.unwrap();
    assert_eq!(
        posts::schedule_draft(&mut tx, owner.team_id, Actor::User(editor.user_id), late_id, &as_approved, &rules).await.unwrap(),
        late_id
    );
    tx.rollback().await.unwrap();
    // Edited after approval: reviewed again.
    drafts::save(&pool, owner.team_id, Actor::User(editor.user_id), Some(late_id), &draft).await.unwrap();
    assert_eq!(drafts::get(&pool, owner.team_id, late_id).await.unwrap().state, PostState::InReview);
    // Another team's approver sees none of it.
    let rival = team(&pool, "Rival", "owner@rival.test").await;
    assert!(reviews::in_review(&pool, &rival).await.unwrap().is_empty());
    assert!(matches!(reviews::decide(&pool, &rival, late_id, Decision::Approve, "", &rules).await, Err(DomainError::NotFound)));
}

#[tokio::test]
async fn the_audit_trail_tells_the_right_people_in_the_app_and_nobody_else() {
    use crier_domain::Role;
    use crier_domain::approval::ApprovalPolicy;
    use crier_domain::store::audit;
    use crier_domain::store::drafts::Draft;
    use crier_domain::store::notifications;
    use crier_domain::store::reviews::{self, Decision};
    let pool = pool().await;
    let owner = team(&pool, "Acme", "owner@acme.test").await;
    let editor = member(&pool, &owner, "ed@acme.test", Role::Editor).await;
    let admin = member(&pool, &owner, "ad@acme.test", Role::Admin).await;
    let viewer = member(&pool, &owner, "vi@acme.test", Role::Viewer).await;
    let rival = team(&pool, "Rival", "owner@rival.test").await;
    let x = account(&pool, owner.team_id, Platform::X, "1").await;
    let rules = crier_domain::post::MediaRules::default();
    reviews::set_policy(&pool, owner.team_id, Actor::User(owner.user_id), ApprovalPolicy::parse("editors", "1", "admins").unwrap())
        .await
        .unwrap();
    let unread = |who: &crier_domain::store::Member| {
        let (pool, who) = (pool.clone(), who.clone());
        async move { notifications::unread(&pool, &who).await.unwrap() }
    };

    // Submitted: the approvers are told, not the author or a viewer.
    let draft = Draft {
        content: PostContent::parse("Launch day", [], "", []).unwrap(),
        account_ids: vec![x],
        planned_at: Some(Utc::now() + TimeDelta::days(1)),
        timezone: TimeZone::UTC,
    };
    let id = reviews::submit(&pool, owner.team_id, Actor::User(editor.user_id), None, &draft, &rules).await.unwrap();
    assert_eq!((unread(&owner).await, unread(&admin).await, unread(&editor).await, unread(&viewer).await), (1, 1, 0, 0));
    let told = notifications::latest(&pool, &admin).await.unwrap();
    assert_eq!((told[0].words.as_str(), told[0].link.as_str()), ("“Launch day” waits for your review.", "/review"));

    // Decided: the author is told (the approver is not told of their own doing).
    reviews::decide(&pool, &admin, id, Decision::Approve, "", &rules).await.unwrap();
    assert_eq!((unread(&editor).await, unread(&admin).await), (1, 1));
    let told = notifications::latest(&pool, &editor).await.unwrap();
    assert_eq!(told[0].words, "“Launch day” was approved and scheduled.");
    assert_eq!(told[0].link, format!("/posts/{id}"));

    // Its delivery fails: its author is told; an account needing reconnecting: owners and admins.
    let delivery: Uuid = sqlx::query_scalar("select delivery_id from delivery where post_id = $1").bind(id).fetch_one(&pool).await.unwrap();
    audit::record(&pool, owner.team_id, Actor::System, "delivery_failed", "delivery", Some(&delivery.to_string()), serde_json::json!({}))
        .await
        .unwrap();
    audit::record(&pool, owner.team_id, Actor::System, "account_needs_reauth", "account", Some(&x.to_string()), serde_json::json!({}))
        .await
        .unwrap();
    assert_eq!((unread(&editor).await, unread(&owner).await, unread(&admin).await, unread(&viewer).await), (2, 2, 2, 0));
    let told = notifications::latest(&pool, &editor).await.unwrap();
    assert_eq!(told[0].words, "“Launch day” failed on Account 1.");
    let told = notifications::latest(&pool, &owner).await.unwrap();
    assert_eq!((told[0].words.as_str(), told[0].link.as_str()), ("Account 1 needs reconnecting: its posts wait until it is.", "/accounts"));

    // Read: the count is gone; another team never sees any of it.
    assert_eq!(notifications::mark_all_read(&pool, &editor).await.unwrap(), 2);
    assert_eq!(unread(&editor).await, 0);
    assert!(notifications::latest(&pool, &editor).await.unwrap().iter().all(|n| n.read));
    assert_eq!(unread(&rival).await, 0);
    assert!(notifications::latest(&pool, &rival).await.unwrap().is_empty());
    assert_eq!(notifications::mark_all_read(&pool, &rival).await.unwrap(), 0);
    assert_eq!(unread(&owner).await, 2, "marking someone's read leaves others' alone");
}

#[tokio::test]
async fn comments_mention_members_are_changed_by_their_author_only_and_join_the_posts_activity() {
    use crier_domain::Role;
    use crier_domain::store::{comments, notifications};
    let pool = pool().await;
    let owner = team(&pool, "Acme", "owner@acme.test").await;
    let editor = member(&pool, &owner, "ed@acme.test", Role::Editor).await;
    let viewer = member(&pool, &owner, "vi@acme.test", Role::Viewer).await;
    let rival = team(&pool, "Rival", "ed@rival.test").await;
    let x = account(&pool, owner.team_id, Platform::X, "1").await;
    let post = schedule_at(&pool, &owner, &[x], &[Utc::now() + TimeDelta::days(1)]).await[0];

    // "@ed" is the editor (not the rival team's ed@…); "@owner@acme.test" the owner, but it is
    // the owner's own comment. A viewer may comment.
    let first = comments::add(&pool, &owner, post, "Looks good, @ed: check the link. @owner@acme.test @nobody").await.unwrap();
    assert_eq!(notifications::unread(&pool, &editor).await.unwrap(), 1);
    assert_eq!(notifications::unread(&pool, &rival).await.unwrap(), 0);
    assert_eq!(notifications::unread(&pool, &owner).await.unwrap(), 0, "not told of one's own comment");
    let told = notifications::latest(&pool, &editor).await.unwrap();
    assert_eq!(told[0].link, format!("/posts/{post}"));
    assert!(told[0].words.starts_with("You were mentioned in a comment on"), "{}", told[0].words);
    comments::add(&pool, &viewer, post, "Agreed").await.unwrap();

    // Only its author changes it; an edit tells only who is newly mentioned.
    assert!(matches!(comments::edit(&pool, &editor, first, "mine now").await, Err(DomainError::NotFound)));
    assert!(matches!(comments::delete(&pool, &viewer, first).await, Err(DomainError::NotFound)));
    comments::edit(&pool, &owner, first, "Looks good, @ed and @vi.").await.unwrap();
    assert_eq!(notifications::unread(&pool, &editor).await.unwrap(), 1, "already told");
    assert_eq!(notifications::unread(&pool, &viewer).await.unwrap(), 1);
    assert!(comments::add(&pool, &owner, post, "   ").await.is_err());
    assert!(comments::add(&pool, &owner, post, &"x".repeat(4001)).await.is_err());

    // Another team: not its post to comment on or read.
    assert!(matches!(comments::add(&pool, &rival, post, "hi").await, Err(DomainError::NotFound)));
    assert!(comments::activity(&pool, &rival, post).await.unwrap().is_empty());

    // The activity: the post's scheduling, then the comments, oldest first; one's own marked.
    let feed = comments::activity(&pool, &owner, post).await.unwrap();
    let words: Vec<&str> = feed.iter().map(|a| a.words.as_str()).collect();
    assert_eq!(words, ["Scheduled.", "Looks good, @ed and @vi.", "Agreed"]);
    assert_eq!(feed[1].comment, Some((first, true, true)));
    assert_eq!(feed[2].who, "vi@acme.test");
    comments::delete(&pool, &owner, first).await.unwrap();
    assert_eq!(comments::activity(&pool, &owner, post).await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_review_link_shows_only_its_posts_until_it_expires_or_is_revoked_and_records_what_the_reviewer_says() {
    use crier_domain::Role;
    use crier_domain::store::review_links::{self, Scope};
    use crier_domain::store::{audit, comments};
    let pool = pool().await;
    let owner = team(&pool, "Acme", "owner@acme.test").await;
    let editor = member(&pool, &owner, "ed@acme.test", Role::Editor).await;
    let rival = team(&pool, "Rival", "owner@rival.test").await;
    let x = account(&pool, owner.team_id, Platform::X, "1").await;
    let theirs_account = account(&pool, rival.team_id, Platform::X, "2").await;
    let day = Utc::now() + TimeDelta::days(3);
    let ids = schedule_at(&pool, &owner, &[x], &[day, day + TimeDelta::hours(1), day + TimeDelta::days(10)]).await;
    let theirs = schedule_at(&pool, &rival, &[theirs_account], &[day]).await[0];

    // Owners and admins share; the link shows the posts in its range, not the others, nor another team's.
    assert!(matches!(review_links::create(&pool, &editor, "Client", Scope::Post(ids[0]), 7).await, Err(DomainError::Forbidden)));
    assert!(review_links::create(&pool, &owner, "Client", Scope::Post(theirs), 7).await.is_err());
    let range = Scope::Range(day - TimeDelta::hours(1), day + TimeDelta::days(1));
    let (link, token) = review_links::create(&pool, &owner, "Acme's client", range, 7).await.unwrap();
    let opened = review_links::open(&pool, token.expose()).await.unwrap().expect("a working link opens");
    assert_eq!(opened.post_ids, ids[..2]);
    assert!(review_links::shared(&pool, &opened, ids[2]).await.is_err(), "a post outside the range is not reachable");
    assert!(review_links::shared(&pool, &opened, theirs).await.is_err());
    assert_eq!(review_links::shared(&pool, &opened, ids[0]).await.unwrap().content.text, "Post 0");
    assert!(review_links::open(&pool, "crier_rvw_nothing").await.unwrap().is_none());

    // What the reviewer says is a comment, by the link, and an audit event with the link as actor.
    assert!(review_links::decide(&pool, &opened, ids[1], false, " ").await.is_err(), "changes need words");
    assert!(matches!(review_links::decide(&pool, &opened, theirs, true, "").await, Err(DomainError::NotFound)));
    review_links::decide(&pool, &opened, ids[1], false, "Say the date").await.unwrap();
    let feed = comments::activity(&pool, &owner, ids[1]).await.unwrap();
    let said = feed.last().unwrap();
    assert_eq!((said.who.as_str(), said.words.as_str()), ("Review link “Acme's client”", "Requested changes: Say the date"));
    // The post's author (the owner, who scheduled it) is told.
    let told = crier_domain::store::notifications::latest(&pool, &owner).await.unwrap();
    assert_eq!(told[0].words, "A client reviewed “Post 1” through a review link.");
    assert_eq!(told[0].link, format!("/posts/{}", ids[1]));
    let trail = audit::list(&pool, owner.team_id, &Default::default(), 10).await.unwrap();
    assert!(
        trail
            .iter()
            .any(|e| e.action == "review_link_changes_requested" && e.actor_label.as_deref() == Some("Review link “Acme's client”"))
    );

    // Revoked, or expired: it opens no more.
    review_links::revoke(&pool, &owner, link.link_id).await.unwrap();
    assert!(review_links::open(&pool, token.expose()).await.unwrap().is_none());
    let (_, later) = review_links::create(&pool, &owner, "Later", Scope::Post(ids[2]), 1).await.unwrap();
    sqlx::query(
        "update review_link set created_at = now() - interval '3 days', expires_at = now() - interval '1 second' where label = 'Later'",
    )
    .execute(&pool)
    .await
    .unwrap();
    assert!(review_links::open(&pool, later.expose()).await.unwrap().is_none());
    assert!(review_links::list(&pool, &rival).await.unwrap().is_empty());
}

#[tokio::test]
async fn an_account_whose_access_ends_within_a_week_warns_its_owners_and_admins_once_per_deadline() {
    use crier_domain::Role;
    use crier_domain::store::{housekeeping, notifications};
    let pool = pool().await;
    let owner = team(&pool, "Acme", "owner@acme.test").await;
    let admin = member(&pool, &owner, "ad@acme.test", Role::Admin).await;
    let editor = member(&pool, &owner, "ed@acme.test", Role::Editor).await;
    let ending = account(&pool, owner.team_id, Platform::Linkedin, "1").await;
    let renewed = account(&pool, owner.team_id, Platform::X, "2").await;
    // LinkedIn without a refresh token, ending in 3 days; X's access token ends in an hour but
    // Crier renews it (its refresh token lives on).
    sqlx::query("update platform_account set token_expires_at = now() + interval '3 days', can_refresh = false where account_id = $1")
        .bind(ending)
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query(
        "update platform_account set token_expires_at = now() + interval '1 hour', can_refresh = true, refresh_expires_at = now() + interval '90 days' where account_id = $1",
    )
    .bind(renewed)
    .execute(&pool)
    .await
    .unwrap();

    assert_eq!(housekeeping::warn_expiring(&pool).await.unwrap(), 1);
    assert_eq!(housekeeping::warn_expiring(&pool).await.unwrap(), 0, "once per deadline, whichever pass comes first");
    for who in [&owner, &admin] {
        let told = notifications::latest(&pool, who).await.unwrap();
        assert_eq!(told.len(), 1);
        assert_eq!(told[0].words, "Account 1 must be reconnected within 7 days, or its posts will wait.");
    }
    assert!(notifications::latest(&pool, &editor).await.unwrap().is_empty());
    // Reconnected with a new deadline, still close: warned again.
    sqlx::query("update platform_account set token_expires_at = now() + interval '5 days' where account_id = $1")
        .bind(ending)
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(housekeeping::warn_expiring(&pool).await.unwrap(), 1);
}

/// Every day at 00:00, 06:00, 12:00 and 18:00 UTC.
fn four_a_day() -> crier_domain::posting_schedule::WeeklySchedule {
    let times: [String; 7] = std::array::from_fn(|_| "00:00, 06:00, 12:00, 18:00".to_owned());
    crier_domain::posting_schedule::WeeklySchedule::parse("UTC", &times).unwrap()
}

async fn queued(pool: &PgPool, account: Uuid) -> Vec<(Uuid, chrono::DateTime<Utc>, String)> {
    sqlx::query_as(
        "select d.post_id, d.queue_slot, d.state::text from delivery d
         where d.account_id = $1 and d.queue_slot is not null and d.state in ('scheduled', 'paused') order by d.queue_slot",
    )
    .bind(account)
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn delivery_of(pool: &PgPool, post: Uuid) -> Uuid {
    sqlx::query_scalar("select delivery_id from delivery where post_id = $1").bind(post).fetch_one(pool).await.unwrap()
}

async fn add(pool: &PgPool, owner: &crier_domain::store::Member, text: &str, accounts: &[Uuid]) -> Result<Uuid, DomainError> {
    let mut tx = pool.begin().await.unwrap();
    let id = posts::add_to_queue(&mut tx, owner.team_id, Actor::User(owner.user_id), None, &new_post(text, accounts), &Default::default())
        .await?;
    tx.commit().await.unwrap();
    Ok(id)
}

#[tokio::test]
async fn added_posts_take_the_next_free_slots_even_when_added_at_once() {
    use crier_domain::store::queues;
    let pool = pool().await;
    let owner = team(&pool, "Queue Co", "owner@queue.test").await;
    let x = account(&pool, owner.team_id, Platform::X, "1").await;
    let linkedin = account(&pool, owner.team_id, Platform::Linkedin, "2").await;
    // Without a schedule, the error names the account and what to do.
    let refused = add(&pool, &owner, "Too early", &[x]).await.unwrap_err();
    assert!(
        matches!(&refused, DomainError::Invalid(e) if e.field == "accounts" && e.message.contains("no posting schedule")),
        "{refused:?}"
    );
    queues::set_schedule(&pool, owner.team_id, Actor::User(owner.user_id), x, &four_a_day()).await.unwrap();
    queues::set_schedule(&pool, owner.team_id, Actor::User(owner.user_id), linkedin, &four_a_day()).await.unwrap();

    // Ten added at the same moment from ten connections: ten different slots, in the schedule.
    let mut adds = tokio::task::JoinSet::new();
    for i in 0..10 {
        let (pool, owner) = (pool.clone(), owner.clone());
        adds.spawn(async move { add(&pool, &owner, &format!("Post {i}"), &[x]).await });
    }
    while let Some(added) = adds.join_next().await {
        added.unwrap().unwrap();
    }
    let slots: Vec<_> = queued(&pool, x).await.into_iter().map(|(_, at, _)| at).collect();
    assert_eq!(slots.len(), 10);
    let now = Utc::now();
    assert!(slots[0] > now && slots[0] <= now + TimeDelta::hours(6), "the first is the next slot");
    assert!(slots.windows(2).all(|w| w[1] - w[0] == TimeDelta::hours(6)), "then each following one: {slots:?}");
    assert!(slots.iter().all(|at| chrono::Timelike::hour(at) % 6 == 0 && chrono::Timelike::minute(at) == 0));

    // A post to both accounts: each account's own next slot, and the post's time is the earliest.
    let both = add(&pool, &owner, "Both", &[x, linkedin]).await.unwrap();
    let x_slot = queued(&pool, x).await.last().unwrap().1;
    let linkedin_slot = queued(&pool, linkedin).await[0].1;
    assert_eq!(x_slot - slots[9], TimeDelta::hours(6));
    assert_eq!(linkedin_slot, slots[0], "LinkedIn's queue was empty");
    assert_eq!(posts::get(&pool, owner.team_id, both).await.unwrap().summary.scheduled_at, linkedin_slot);

    // The database refuses two waiting deliveries at one slot of an account, whatever the code does.
    let clash = sqlx::query("update delivery set queue_slot = $2 where account_id = $1 and queue_slot = $3")
        .bind(x)
        .bind(slots[0])
        .bind(slots[1])
        .execute(&pool)
        .await;
    assert!(clash.unwrap_err().to_string().contains("delivery_queue_slot_free"));
}

#[tokio::test]
async fn a_queue_reorders_on_the_same_slots_closes_gaps_and_pauses_without_losing_its_order() {
    use crier_domain::store::queues::{self, Move};
    let pool = pool().await;
    let owner = team(&pool, "Order Co", "owner@order.test").await;
    let x = account(&pool, owner.team_id, Platform::X, "1").await;
    queues::set_schedule(&pool, owner.team_id, Actor::User(owner.user_id), x, &four_a_day()).await.unwrap();
    let ids: Vec<Uuid> = {
        let mut ids = Vec::new();
        for text in ["A", "B", "C", "D"] {
            ids.push(add(&pool, &owner, text, &[x]).await.unwrap());
        }
        ids
    };
    let before = queued(&pool, x).await;
    let times: Vec<_> = before.iter().map(|(_, at, _)| *at).collect();
    let order = |rows: Vec<(Uuid, chrono::DateTime<Utc>, String)>| rows.into_iter().map(|(p, _, _)| p).collect::<Vec<_>>();

    queues::reorder(&pool, owner.team_id, Actor::User(owner.user_id), x, Some(delivery_of(&pool, ids[2]).await), Move::Up).await.unwrap();
    assert_eq!(order(queued(&pool, x).await), vec![ids[0], ids[2], ids[1], ids[3]]);
    queues::reorder(&pool, owner.team_id, Actor::User(owner.user_id), x, Some(delivery_of(&pool, ids[3]).await), Move::Top).await.unwrap();
    assert_eq!(order(queued(&pool, x).await), vec![ids[3], ids[0], ids[2], ids[1]]);
    queues::reorder(&pool, owner.team_id, Actor::User(owner.user_id), x, Some(delivery_of(&pool, ids[3]).await), Move::Down).await.unwrap();
    let after = queued(&pool, x).await;
    assert_eq!(order(after.clone()), vec![ids[0], ids[3], ids[2], ids[1]]);
    assert_eq!(after.iter().map(|(_, at, _)| *at).collect::<Vec<_>>(), times, "the same slots, in a new order");
    queues::reorder(&pool, owner.team_id, Actor::User(owner.user_id), x, None, Move::Shuffle).await.unwrap();
    let mut shuffled = order(queued(&pool, x).await);
    shuffled.sort();
    let mut all = ids.clone();
    all.sort();
    assert_eq!(shuffled, all, "a shuffle keeps every post");

    // Removing the first closes the gap: the rest take the first slots.
    let first = queued(&pool, x).await[0].0;
    queues::remove(&pool, owner.team_id, Actor::User(owner.user_id), x, delivery_of(&pool, first).await).await.unwrap();
    let rest = queued(&pool, x).await;
    assert_eq!(rest.len(), 3);
    assert_eq!(rest.iter().map(|(_, at, _)| *at).collect::<Vec<_>>(), times[..3].to_vec());
    let cancelled: String =
        sqlx::query_scalar("select state::text from delivery where post_id = $1").bind(first).fetch_one(&pool).await.unwrap();
    assert_eq!(cancelled, "cancelled");

    // Paused: nothing waits as scheduled (no worker claims it), and a post added meanwhile waits
    // paused too; resumed: the same order, from the next free slot.
    let kept = order(queued(&pool, x).await);
    queues::set_paused(&pool, owner.team_id, Actor::User(owner.user_id), x, true).await.unwrap();
    add(&pool, &owner, "E", &[x]).await.unwrap();
    let paused = queued(&pool, x).await;
    assert!(paused.iter().all(|(_, _, state)| state == "paused"), "{paused:?}");
    let due: i64 = sqlx::query_scalar("select count(*) from delivery where account_id = $1 and state in ('scheduled', 'retrying')")
        .bind(x)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(due, 0);
    queues::set_paused(&pool, owner.team_id, Actor::User(owner.user_id), x, false).await.unwrap();
    let resumed = queued(&pool, x).await;
    assert!(resumed.iter().all(|(_, _, state)| state == "scheduled"));
    assert_eq!(order(resumed.clone())[..3], kept[..]);
    assert_eq!(resumed[0].1, times[0]);

    // The first edited to a time of its own leaves the queue; the rest close up.
    let leaving = order(queued(&pool, x).await)[0];
    let detail = posts::get(&pool, owner.team_id, leaving).await.unwrap();
    let own_time = Utc::now() + TimeDelta::days(30);
    let edit = PostEdit { content: detail.content, scheduled_at: own_time, timezone: TimeZone::UTC };
    posts::edit(&pool, owner.team_id, Actor::User(owner.user_id), leaving, &edit, &Default::default()).await.unwrap();
    let closed = queued(&pool, x).await;
    assert!(!order(closed.clone()).contains(&leaving));
    assert_eq!(closed[0].1, times[0], "the next one took the first time");
    let resumed = closed;

    // Another team reaches none of it.
    let rival = team(&pool, "Rival", "owner@rival.test").await;
    assert!(matches!(queues::view(&pool, rival.team_id, x).await, Err(DomainError::NotFound)));
    assert!(
        queues::reorder(&pool, rival.team_id, Actor::User(rival.user_id), x, Some(delivery_of(&pool, ids[1]).await), Move::Top)
            .await
            .is_err()
    );
    assert!(matches!(
        queues::set_schedule(&pool, rival.team_id, Actor::User(rival.user_id), x, &four_a_day()).await,
        Err(DomainError::NotFound)
    ));
    assert_eq!(order(queued(&pool, x).await), order(resumed));
}
