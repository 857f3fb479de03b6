//! The notification queue's store: the kinds the code and the database know are the same, a
//! claim takes a recipient's messages together (a parcel, capped), waits out the gathering time,
//! and a stopped sender's claims go back.

mod support;

use std::time::Duration;

use crier_domain::notification::NotificationKind;
use crier_domain::store::audit::{self, Actor};
use crier_domain::store::notify;
use sqlx::PgPool;
use support::{pool, team};
use uuid::Uuid;

async fn member(pool: &PgPool, team_id: Uuid, email: &str, role: &str) -> Uuid {
    sqlx::query_scalar("insert into app_user (team_id, email, password_hash, role) values ($1, $2, 'x', $3::member_role) returning user_id")
        .bind(team_id)
        .bind(email)
        .bind(role)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn every_kind_in_the_code_is_one_the_database_accepts_and_no_other() {
    let pool = pool().await;
    for constraint in ["notification_kind", "notification_mute_kind"] {
        let definition: String = sqlx::query_scalar("select pg_get_constraintdef(oid) from pg_constraint where conname = $1")
            .bind(constraint)
            .fetch_one(&pool)
            .await
            .unwrap();
        let named = definition.matches("::text").count();
        assert_eq!(named, NotificationKind::ALL.len(), "{constraint}: {definition}");
        for kind in NotificationKind::ALL {
            assert!(definition.contains(&format!("'{}'", kind.as_str())), "{constraint} lacks {}", kind.as_str());
        }
    }
}

#[tokio::test]
async fn a_claim_takes_each_recipients_messages_together_capped_and_after_the_gathering_time() {
    let pool = pool().await;
    let owner = team(&pool, "Queue", "owner@queue.test").await;
    member(&pool, owner.team_id, "admin@queue.test", "admin").await;
    member(&pool, owner.team_id, "editor@queue.test", "editor").await;
    // 60 accounts needing reconnecting, in one transaction: owners and admins are told.
    let mut tx = pool.begin().await.unwrap();
    for _ in 0..60 {
        let id = Uuid::new_v4().to_string();
        audit::record(&mut *tx, owner.team_id, Actor::System, "account_needs_reauth", "account", Some(&id), serde_json::json!({}))
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let queued: i64 =
        sqlx::query_scalar("select count(*) from notification_message where channel = 'email'").fetch_one(&pool).await.unwrap();
    assert_eq!(queued, 120, "60 each for the owner and the admin, none for the editor");

    // Within the gathering time nothing is claimed, and the notifier knows when to look.
    assert!(notify::claim(&pool, "w1", 10, Duration::from_secs(3600)).await.unwrap().is_empty());
    let due = notify::next_due(&pool, Duration::from_secs(3600)).await.unwrap().unwrap();
    assert!(due > chrono::Utc::now() + chrono::TimeDelta::minutes(59));

    let parcels = notify::claim(&pool, "w1", 10, Duration::ZERO).await.unwrap();
    assert_eq!(parcels.len(), 2, "one parcel per recipient");
    for parcel in &parcels {
        assert_eq!(parcel.messages.len(), notify::MAX_PER_PARCEL);
        assert_eq!(parcel.team_name, "Queue");
        assert!(matches!(&parcel.recipient, notify::Recipient::Email { address, .. } if address.ends_with("@queue.test")));
        assert!(!format!("{parcel:?}").contains("@queue.test"), "no address in Debug output");
    }
    let states: Vec<(String, i64)> =
        sqlx::query_as("select state, count(*) from notification_message group by state order by state").fetch_all(&pool).await.unwrap();
    assert_eq!(states, vec![("pending".to_owned(), 20), ("sending".to_owned(), 100)], "the rest wait for the next claim, untouched");
    let first_attempts: i64 = sqlx::query_scalar("select count(*) from notification_message where state = 'pending' and attempt = 0")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(first_attempts, 20);

    // Another sender finds the rest; the first one's stop puts its claims back.
    let rest = notify::claim(&pool, "w2", 10, Duration::ZERO).await.unwrap();
    assert_eq!(rest.iter().map(|p| p.messages.len()).sum::<usize>(), 20);
    assert_eq!(notify::requeue(&pool, Some("w1"), Duration::ZERO, 6).await.unwrap(), 100);
    assert_eq!(notify::requeue(&pool, None, Duration::from_secs(3600), 6).await.unwrap(), 0, "w2's claims are fresh");
    // An outcome for a claim no longer held is ignored.
    let stale = notify::Sent { message_id: parcels[0].messages[0].message_id, attempt: 1, state: "sent", next_at: None, error: None };
    assert_eq!(notify::complete(&pool, "w1", &[stale]).await.unwrap(), 0);
}

#[test]
fn unsubscribe_links_in_emails_sent_before_a_key_rotation_keep_working() {
    use crier_vault::{Vault, VaultKey};
    let query = |path: &str| -> Vec<String> {
        let query = path.strip_prefix("/unsubscribe?").unwrap();
        query.split('&').map(|pair| pair.split_once('=').unwrap().1.to_owned()).collect()
    };
    let old = || VaultKey::new(1, [1; 32]).unwrap();
    let new = || VaultKey::new(2, [2; 32]).unwrap();
    let user = Uuid::new_v4();
    let kind = NotificationKind::DeliveryFailed;
    let sent = notify::UnsubscribeLinks::new(&Vault::new(old())).path(user, kind);
    let [u, k, s] = <[String; 3]>::try_from(query(&sent)).unwrap();

    // After the rotation, the old key kept as a previous one: the old link still works.
    let rotated = notify::UnsubscribeLinks::new(&Vault::new(new()).with_previous(old()));
    assert_eq!(rotated.check(&u, &k, &s), Some((user, kind)));
    // New links are signed with the new key, and verify.
    let fresh = rotated.path(user, kind);
    assert_ne!(fresh, sent);
    let [u2, k2, s2] = <[String; 3]>::try_from(query(&fresh)).unwrap();
    assert_eq!(rotated.check(&u2, &k2, &s2), Some((user, kind)));
    // Once the old key is dropped, so are its links; and a signature never fits another person.
    let new_only = notify::UnsubscribeLinks::new(&Vault::new(new()));
    assert_eq!(new_only.check(&u, &k, &s), None);
    assert_eq!(rotated.check(&Uuid::new_v4().to_string(), &k, &s), None);
}
