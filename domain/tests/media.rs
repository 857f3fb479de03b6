//! The media library: scoped by team everywhere (a post cannot carry another team's media, an id
//! from another team is "not found"), bounded by the team's quota, and an item a pending post
//! uses cannot be deleted.

mod support;

use chrono::{TimeDelta, Utc};
use crier_domain::DomainError;
use crier_domain::post::{MediaChoice, PostContent};
use crier_domain::store::audit::Actor;
use crier_domain::store::media::{self, MediaFilter, NewMedia};
use crier_domain::store::posts::{self, NewPost};
use crier_domain::timezone::TimeZone;
use crier_media::{ContentType, MediaFacts};
use crier_platform::Platform;
use support::{pool, team};
use uuid::Uuid;

const QUOTA: u64 = 10_000_000;

fn image(name: &str, bytes: u64) -> NewMedia {
    NewMedia {
        media_id: Uuid::new_v4(),
        facts: MediaFacts {
            content_type: ContentType::Jpeg,
            byte_size: bytes,
            width: Some(1200),
            height: Some(800),
            duration_ms: None,
            frames: None,
            frame_rate_milli: None,
            video_codec: None,
            audio_codec: None,
            pages: None,
        },
        sha256: [7; 32],
        file_name: name.into(),
        alt_text: String::new(),
        has_thumbnail: true,
    }
}

fn post_with(media: &[Uuid], account: Uuid) -> NewPost {
    let choices = media.iter().map(|id| MediaChoice { media_id: *id, alt_text: None, platform: None, item: 0 }).collect();
    NewPost {
        content: PostContent::parse("With a picture", [], "", []).unwrap().with_media(choices).unwrap(),
        account_ids: vec![account],
        scheduled_at: Utc::now() + TimeDelta::hours(1),
        timezone: TimeZone::parse("Europe/Berlin").unwrap(),
        dry_run: false,
        retry: Default::default(),
    }
}

#[tokio::test]
async fn the_library_is_the_teams_own_and_its_quota_holds() {
    let pool = pool().await;
    let ours = team(&pool, "Ours", "owner@ours.example").await;
    let theirs = team(&pool, "Theirs", "owner@theirs.example").await;

    let cat = media::create(&pool, ours.team_id, Actor::User(ours.user_id), &image("cat.jpg", 6_000_000), QUOTA).await.unwrap();
    assert_eq!(cat.uploaded_by.as_deref(), Some("owner@ours.example"));
    assert_eq!(cat.sha256, "07".repeat(32));
    assert_eq!(media::usage(&pool, ours.team_id).await.unwrap(), 6_000_000);

    // The quota: 6 MB used of 10, so 5 more do not fit and nothing is written.
    let refused = media::create(&pool, ours.team_id, Actor::User(ours.user_id), &image("dog.jpg", 5_000_000), QUOTA).await.unwrap_err();
    assert!(matches!(&refused, DomainError::Refused(words) if words.contains("past its media storage of 10.0 MB")), "{refused}");
    assert_eq!(media::list(&pool, ours.team_id, &MediaFilter::default(), 50).await.unwrap().len(), 1);

    // Another team sees nothing of it, whatever id it sends.
    assert!(matches!(media::get(&pool, theirs.team_id, cat.media_id).await, Err(DomainError::NotFound)));
    assert!(media::list(&pool, theirs.team_id, &MediaFilter::default(), 50).await.unwrap().is_empty());
    assert!(matches!(
        media::set_alt_text(&pool, theirs.team_id, Actor::User(theirs.user_id), cat.media_id, "x").await,
        Err(DomainError::NotFound)
    ));
    assert!(matches!(media::delete(&pool, theirs.team_id, Actor::User(theirs.user_id), cat.media_id).await, Err(DomainError::NotFound)));
    assert_eq!(media::usage(&pool, theirs.team_id).await.unwrap(), 0);

    // Nor can its posts carry it: the id is refused as if it did not exist.
    let their_account = support::account(&pool, theirs.team_id, Platform::X, &format!("x-{}", theirs.team_id)).await;
    let mut tx = pool.begin().await.unwrap();
    let error = posts::schedule(
        &mut tx,
        theirs.team_id,
        Actor::User(theirs.user_id),
        &post_with(&[cat.media_id], their_account),
        &Default::default(),
    )
    .await
    .unwrap_err();
    assert!(matches!(&error, DomainError::Invalid(field) if field.field == "media"), "{error}");
}

#[tokio::test]
async fn search_pages_and_alt_text() {
    let pool = pool().await;
    let owner = team(&pool, "Ours", "owner@ours.example").await;
    let actor = Actor::User(owner.user_id);
    for name in ["Summer_100%.jpg", "summer-beach.jpg", "winter.jpg"] {
        media::create(&pool, owner.team_id, actor, &image(name, 1000), QUOTA).await.unwrap();
    }
    let search = |s: &str| MediaFilter { search: Some(s.into()), ..Default::default() };
    assert_eq!(media::list(&pool, owner.team_id, &search("SUMMER"), 50).await.unwrap().len(), 2);
    // `%` and `_` are letters to search for, not patterns.
    let literal = media::list(&pool, owner.team_id, &search("_100%"), 50).await.unwrap();
    assert_eq!(literal.iter().map(|m| m.file_name.as_str()).collect::<Vec<_>>(), ["Summer_100%.jpg"]);

    let first = media::list(&pool, owner.team_id, &MediaFilter::default(), 2).await.unwrap();
    let last = first.last().unwrap();
    let rest = media::list(&pool, owner.team_id, &MediaFilter { after: Some((last.created_at, last.media_id)), ..Default::default() }, 2)
        .await
        .unwrap();
    assert_eq!(first.len() + rest.len(), 3);
    assert!(rest.iter().all(|r| first.iter().all(|f| f.media_id != r.media_id)), "pages do not repeat");

    let item = &first[0];
    media::set_alt_text(&pool, owner.team_id, actor, item.media_id, "  Waves at sunset  ").await.unwrap();
    assert_eq!(media::get(&pool, owner.team_id, item.media_id).await.unwrap().alt_text, "Waves at sunset");
    let too_long = media::set_alt_text(&pool, owner.team_id, actor, item.media_id, &"a".repeat(4001)).await.unwrap_err();
    assert!(matches!(too_long, DomainError::Invalid(field) if field.field == "alt_text"));
}

#[tokio::test]
async fn an_item_a_pending_post_carries_cannot_be_deleted_and_frees_its_quota_once_deleted() {
    let pool = pool().await;
    let owner = team(&pool, "Ours", "owner@ours.example").await;
    let actor = Actor::User(owner.user_id);
    let x = support::account(&pool, owner.team_id, Platform::X, &format!("x-{}", owner.team_id)).await;
    let cat = media::create(&pool, owner.team_id, actor, &image("cat.jpg", 4000), QUOTA).await.unwrap();

    let mut tx = pool.begin().await.unwrap();
    let post_id = posts::schedule(&mut tx, owner.team_id, actor, &post_with(&[cat.media_id], x), &Default::default()).await.unwrap();
    tx.commit().await.unwrap();
    let detail = posts::get(&pool, owner.team_id, post_id).await.unwrap();
    assert_eq!(detail.content.media_ids(), vec![cat.media_id]);
    assert_eq!(media::get(&pool, owner.team_id, cat.media_id).await.unwrap().used_by_posts, 1);

    let refused = media::delete(&pool, owner.team_id, actor, cat.media_id).await.unwrap_err();
    assert!(matches!(&refused, DomainError::Refused(words) if words.contains("“With a picture”")), "{refused}");

    posts::cancel(&pool, owner.team_id, actor, post_id).await.unwrap();
    media::delete(&pool, owner.team_id, actor, cat.media_id).await.unwrap();
    assert_eq!(media::usage(&pool, owner.team_id).await.unwrap(), 0);
    assert!(matches!(media::get(&pool, owner.team_id, cat.media_id).await, Err(DomainError::NotFound)));
    // The cancelled post still names what it carried.
    assert_eq!(posts::get(&pool, owner.team_id, post_id).await.unwrap().content.media_ids(), vec![cat.media_id]);
}

#[test]
fn a_post_carries_each_item_once_per_list_and_at_most_twenty() {
    let text = || PostContent::parse("Hi", [], "", ["Reply".to_owned()]).unwrap();
    let id = Uuid::new_v4();
    let choice = |item: u8, platform: Option<Platform>| MediaChoice { media_id: id, alt_text: Some("  ".into()), platform, item };
    let content = text().with_media(vec![choice(0, None), choice(0, Some(Platform::X)), choice(1, None)]).unwrap();
    assert_eq!(content.media_for(Platform::X, 0)[0].platform, Some(Platform::X), "a platform's own list wins");
    assert_eq!(content.media_for(Platform::Linkedin, 0)[0].platform, None);
    assert_eq!(content.media_for(Platform::X, 1).len(), 1);
    assert_eq!(content.media[0].alt_text, None, "blank alt text means the item's own");
    assert_eq!(text().with_media(vec![choice(0, None), choice(0, None)]).unwrap_err().field, "media");
    assert_eq!(text().with_media(vec![choice(2, None)]).unwrap_err().field, "media");
    let many = (0..21).map(|_| MediaChoice { media_id: Uuid::new_v4(), alt_text: None, platform: None, item: 0 }).collect();
    assert_eq!(text().with_media(many).unwrap_err().field, "media");
}

#[tokio::test]
async fn scheduling_checks_each_platforms_media_rules_with_the_configured_limits() {
    let pool = pool().await;
    let owner = team(&pool, "Ours", "owner@ours.example").await;
    let actor = Actor::User(owner.user_id);
    let x = support::account(&pool, owner.team_id, Platform::X, &format!("x-{}", owner.team_id)).await;
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(media::create(&pool, owner.team_id, actor, &image(&format!("{n}.jpg"), 1000), QUOTA).await.unwrap().media_id);
    }
    let mut tx = pool.begin().await.unwrap();
    let error = posts::schedule(&mut tx, owner.team_id, actor, &post_with(&ids, x), &Default::default()).await.unwrap_err();
    drop(tx);
    let DomainError::Invalid(field) = error else { panic!("expected a field error, got {error:?}") };
    assert_eq!(field.field, "media");
    assert!(field.message.contains("X posts up to 4 images") && field.message.contains("remove 1"), "{}", field.message);

    // An installation that lets X take six (CRIER_X_MEDIA_LIMITS) schedules it.
    let mut rules = crier_domain::post::MediaRules::default();
    rules.0[Platform::X].max_images = 6;
    let mut tx = pool.begin().await.unwrap();
    posts::schedule(&mut tx, owner.team_id, actor, &post_with(&ids, x), &rules).await.unwrap();
    tx.commit().await.unwrap();
}
