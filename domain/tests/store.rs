//! The store against a real PostgreSQL: one fresh database per test.

mod support;

use crier_domain::password::Password;
use crier_domain::store::api_tokens::Admission;
use crier_domain::store::{api_tokens, housekeeping, invites, login, members, sessions::PgSessionStore, teams};
use crier_domain::{DomainError, EmailAddress, Role, TeamName};
use support::{pool, secret, team};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::SessionStore;

fn field_of(err: DomainError) -> String {
    match err {
        DomainError::Invalid(f) => f.field,
        other => panic!("expected a field error, got {other:?}"),
    }
}

#[tokio::test]
async fn sign_up_makes_an_owner_and_refuses_duplicates() {
    let pool = pool().await;
    let owner = team(&pool, "Acme", "Ada@Example.com").await;
    assert_eq!(owner.role, Role::Owner);
    assert_eq!(owner.email, "ada@example.com");
    assert_eq!(owner.team_name, "Acme");

    let again = |name: &'static str, email: &'static str| {
        let pool = pool.clone();
        async move {
            teams::sign_up(
                &pool,
                TeamName::parse(name).unwrap(),
                EmailAddress::parse(email).unwrap(),
                Password::parse(secret("correct horse battery")).unwrap(),
            )
            .await
            .unwrap_err()
        }
    };
    assert_eq!(field_of(again("ACME", "other@example.com").await), "team_name", "team names are unique regardless of case");
    assert_eq!(field_of(again("Other", "ADA@example.COM").await), "email", "emails are unique regardless of case");
    let teams: i64 = sqlx::query_scalar("select count(*) from team").fetch_one(&pool).await.unwrap();
    assert_eq!(teams, 1, "a refused sign-up leaves nothing behind");
}

#[tokio::test]
async fn log_in_accepts_the_right_password_only() {
    let pool = pool().await;
    let owner = team(&pool, "Acme", "ada@example.com").await;
    let member = login::log_in(&pool, "  ADA@example.com ", secret("correct horse battery"), "10.0.0.1").await.unwrap();
    assert_eq!(member, owner);
    assert!(matches!(
        login::log_in(&pool, "ada@example.com", secret("wrong password!"), "10.0.0.1").await,
        Err(DomainError::WrongCredentials)
    ));
    assert!(matches!(
        login::log_in(&pool, "nobody@example.com", secret("correct horse battery"), "10.0.0.1").await,
        Err(DomainError::WrongCredentials)
    ));
    let stored: String = sqlx::query_scalar("select password_hash from app_user").fetch_one(&pool).await.unwrap();
    assert!(stored.starts_with("$argon2id$"));
}

#[tokio::test]
async fn five_failures_per_email_throttle_that_email() {
    let pool = pool().await;
    team(&pool, "Acme", "ada@example.com").await;
    for attempt in 0..5 {
        let addr = format!("10.0.0.{attempt}");
        assert!(matches!(
            login::log_in(&pool, "ada@example.com", secret("wrong password!"), &addr).await,
            Err(DomainError::WrongCredentials)
        ));
    }
    // Even the right password is refused now, from a fresh address.
    match login::log_in(&pool, "ada@example.com", secret("correct horse battery"), "10.9.9.9").await {
        Err(DomainError::Throttled { retry_after_secs }) => assert!((1..=60).contains(&retry_after_secs), "{retry_after_secs}"),
        other => panic!("expected throttling, got {other:?}"),
    }
    // Once the failures are older than a minute, logging in works again.
    sqlx::query("update login_failure set failed_at = failed_at - interval '61 seconds'").execute(&pool).await.unwrap();
    assert!(login::log_in(&pool, "ada@example.com", secret("correct horse battery"), "10.9.9.9").await.is_ok());
}

#[tokio::test]
async fn five_failures_per_address_throttle_that_address() {
    let pool = pool().await;
    team(&pool, "Acme", "ada@example.com").await;
    for n in 0..5 {
        let _ = login::log_in(&pool, &format!("guess{n}@example.com"), secret("whatever123"), "10.0.0.7").await;
    }
    assert!(matches!(
        login::log_in(&pool, "ada@example.com", secret("correct horse battery"), "10.0.0.7").await,
        Err(DomainError::Throttled { .. })
    ));
    assert!(
        login::log_in(&pool, "ada@example.com", secret("correct horse battery"), "10.0.0.8").await.is_ok(),
        "other addresses are unaffected"
    );
}

#[tokio::test]
async fn invites_are_single_use_and_expire() {
    let pool = pool().await;
    let owner = team(&pool, "Acme", "ada@example.com").await;
    let created = invites::create(&pool, &owner, EmailAddress::parse("Bob@Example.com").unwrap(), Role::Editor).await.unwrap();
    let token = created.token.expose().to_owned();
    let details = invites::find_by_token(&pool, &token).await.unwrap();
    assert_eq!((details.team_name.as_str(), details.email.as_str(), details.role), ("Acme", "bob@example.com", Role::Editor));
    assert_eq!(invites::list_pending(&pool, owner.team_id).await.unwrap().len(), 1);

    let bob = invites::accept(&pool, &token, Password::parse(secret("bob's long password")).unwrap(), "203.0.113.1", &Default::default())
        .await
        .unwrap();
    assert_eq!((bob.team_id, bob.role), (owner.team_id, Role::Editor));
    assert!(matches!(
        invites::accept(&pool, &token, Password::parse(secret("another password")).unwrap(), "203.0.113.1", &Default::default()).await,
        Err(DomainError::InviteInvalid)
    ));
    assert!(invites::list_pending(&pool, owner.team_id).await.unwrap().is_empty());
    assert!(login::log_in(&pool, "bob@example.com", secret("bob's long password"), "10.0.0.1").await.is_ok());

    let expiring = invites::create(&pool, &owner, EmailAddress::parse("carol@example.com").unwrap(), Role::Viewer).await.unwrap();
    sqlx::query("update invite set expires_at = now() - interval '1 second'").execute(&pool).await.unwrap();
    assert!(matches!(invites::find_by_token(&pool, expiring.token.expose()).await, Err(DomainError::InviteInvalid)));

    let revoked = invites::create(&pool, &owner, EmailAddress::parse("dan@example.com").unwrap(), Role::Viewer).await.unwrap();
    invites::revoke(&pool, &owner, revoked.invite.invite_id).await.unwrap();
    assert!(matches!(
        invites::accept(
            &pool,
            revoked.token.expose(),
            Password::parse(secret("dan's long password")).unwrap(),
            "203.0.113.1",
            &Default::default()
        )
        .await,
        Err(DomainError::InviteInvalid)
    ));

    let stored: Vec<u8> = sqlx::query_scalar("select token_hash from invite limit 1").fetch_one(&pool).await.unwrap();
    assert_eq!(stored.len(), 32, "only the SHA-256 of the token is stored");
}

#[tokio::test]
async fn only_managers_invite_and_never_as_owner() {
    let pool = pool().await;
    let owner = team(&pool, "Acme", "ada@example.com").await;
    let editor = invites::accept(
        &pool,
        invites::create(&pool, &owner, EmailAddress::parse("ed@example.com").unwrap(), Role::Editor).await.unwrap().token.expose(),
        Password::parse(secret("editor's password")).unwrap(),
        "203.0.113.1",
        &Default::default(),
    )
    .await
    .unwrap();
    assert!(matches!(
        invites::create(&pool, &editor, EmailAddress::parse("x@example.com").unwrap(), Role::Viewer).await,
        Err(DomainError::Forbidden)
    ));
    assert_eq!(
        field_of(invites::create(&pool, &owner, EmailAddress::parse("x@example.com").unwrap(), Role::Owner).await.unwrap_err()),
        "role"
    );
    assert_eq!(
        field_of(invites::create(&pool, &owner, EmailAddress::parse("ED@example.com").unwrap(), Role::Viewer).await.unwrap_err()),
        "email"
    );
}

#[tokio::test]
async fn the_last_owner_stays_and_only_owners_touch_ownership() {
    let pool = pool().await;
    let owner = team(&pool, "Acme", "ada@example.com").await;
    let join = |email: &'static str, role: Role| {
        let (pool, owner) = (pool.clone(), owner.clone());
        async move {
            let invite = invites::create(&pool, &owner, EmailAddress::parse(email).unwrap(), role).await.unwrap();
            invites::accept(
                &pool,
                invite.token.expose(),
                Password::parse(secret("a long password")).unwrap(),
                "203.0.113.1",
                &Default::default(),
            )
            .await
            .unwrap()
        }
    };
    let admin = join("admin@example.com", Role::Admin).await;
    let viewer = join("viewer@example.com", Role::Viewer).await;

    assert!(matches!(members::change_role(&pool, &owner, owner.user_id, Role::Admin).await, Err(DomainError::LastOwner)));
    assert!(matches!(members::remove(&pool, &owner, owner.user_id).await, Err(DomainError::LastOwner)));
    assert!(matches!(members::change_role(&pool, &admin, viewer.user_id, Role::Owner).await, Err(DomainError::Forbidden)));
    assert!(matches!(members::remove(&pool, &admin, owner.user_id).await, Err(DomainError::Forbidden)));
    assert!(matches!(members::change_role(&pool, &viewer, admin.user_id, Role::Viewer).await, Err(DomainError::Forbidden)));

    members::change_role(&pool, &admin, viewer.user_id, Role::Editor).await.unwrap();
    members::change_role(&pool, &owner, admin.user_id, Role::Owner).await.unwrap();
    // Two owners now: the first may step down.
    members::change_role(&pool, &owner, owner.user_id, Role::Admin).await.unwrap();
    members::remove(&pool, &admin, viewer.user_id).await.unwrap();
    assert_eq!(members::find(&pool, viewer.user_id).await.unwrap(), None, "a removed member's sessions resolve to nobody");

    let listed: Vec<(String, Role)> = members::list(&pool, owner.team_id).await.unwrap().into_iter().map(|m| (m.email, m.role)).collect();
    assert_eq!(listed, vec![("admin@example.com".to_owned(), Role::Owner), ("ada@example.com".to_owned(), Role::Admin)]);
}

#[tokio::test]
async fn another_teams_ids_find_nothing() {
    let pool = pool().await;
    let acme = team(&pool, "Acme", "ada@example.com").await;
    let globex = team(&pool, "Globex", "hank@example.com").await;
    let globex_invite = invites::create(&pool, &globex, EmailAddress::parse("new@example.com").unwrap(), Role::Viewer).await.unwrap();

    assert!(matches!(members::change_role(&pool, &acme, globex.user_id, Role::Viewer).await, Err(DomainError::NotFound)));
    assert!(matches!(members::remove(&pool, &acme, globex.user_id).await, Err(DomainError::NotFound)));
    assert!(matches!(invites::revoke(&pool, &acme, globex_invite.invite.invite_id).await, Err(DomainError::NotFound)));
    assert!(members::list(&pool, acme.team_id).await.unwrap().iter().all(|m| m.email != "hank@example.com"));
    assert!(invites::list_pending(&pool, acme.team_id).await.unwrap().is_empty());

    let token = api_tokens::create(&pool, globex.team_id, "ci", Role::Editor, Some(globex.user_id), None).await.unwrap();
    assert!(matches!(api_tokens::revoke(&pool, acme.team_id, token.token.api_token_id).await, Err(DomainError::NotFound)));
    assert!(api_tokens::list(&pool, acme.team_id).await.unwrap().is_empty());
    assert_eq!(members::find(&pool, globex.user_id).await.unwrap().unwrap().role, Role::Owner, "untouched");
}

#[tokio::test]
async fn admin_create_user_creates_or_joins_a_team() {
    let pool = pool().await;
    let pw = || Password::parse(secret("a long password")).unwrap();
    let first = teams::create_user(
        &pool,
        TeamName::parse("Initech").unwrap(),
        EmailAddress::parse("peter@example.com").unwrap(),
        pw(),
        Role::Viewer,
    )
    .await
    .unwrap();
    assert!(first.created_team);
    assert_eq!(first.member.role, Role::Owner, "the first person of a new team owns it");
    let second = teams::create_user(
        &pool,
        TeamName::parse("initech").unwrap(),
        EmailAddress::parse("milton@example.com").unwrap(),
        pw(),
        Role::Viewer,
    )
    .await
    .unwrap();
    assert!(!second.created_team);
    assert_eq!((second.member.team_id, second.member.role), (first.member.team_id, Role::Viewer));
}

#[tokio::test]
async fn api_tokens_count_every_request_against_one_shared_limit_and_expire() {
    let pool = pool().await;
    let owner = team(&pool, "Acme", "ada@example.com").await;
    let created = api_tokens::create(&pool, owner.team_id, "ci", Role::Editor, Some(owner.user_id), Some(30)).await.unwrap();
    let expires = created.token.expires_at.expect("an expiry");
    assert!((expires - chrono::Utc::now() - chrono::TimeDelta::days(30)).num_minutes().abs() < 2);
    let secret = created.secret.expose().to_owned();
    // Three a minute, twenty at once (as from several web processes): exactly three admitted.
    let limit = Some(crier_domain::budget::Budget { limit: 3, window: std::time::Duration::from_secs(60) });
    let tries = (0..20).map(|_| {
        let (pool, secret) = (pool.clone(), secret.clone());
        tokio::spawn(async move { api_tokens::authenticate(&pool, &secret, limit).await.unwrap() })
    });
    let mut admitted = 0;
    for joined in tries {
        match joined.await.unwrap() {
            Some(Admission::Admitted(_)) => admitted += 1,
            Some(Admission::Limited { retry_after_secs }) => assert!((1..=60).contains(&retry_after_secs)),
            None => panic!("the token is valid"),
        }
    }
    assert_eq!(admitted, 3);

    sqlx::query("update api_token set expires_at = now() - interval '1 second'").execute(&pool).await.unwrap();
    assert_eq!(api_tokens::authenticate(&pool, &secret, None).await.unwrap(), None, "an expired token is unknown");
    assert!(api_tokens::parse_expiry_days("400").is_err() && api_tokens::parse_expiry_days("").unwrap().is_none());
}

#[tokio::test]
async fn a_members_tokens_and_invitations_follow_the_member() {
    let pool = pool().await;
    let owner = team(&pool, "Acme", "ada@example.com").await;
    let join = |email: &'static str, role: Role| {
        let (pool, owner) = (pool.clone(), owner.clone());
        async move {
            let invite = invites::create(&pool, &owner, EmailAddress::parse(email).unwrap(), role).await.unwrap();
            invites::accept(
                &pool,
                invite.token.expose(),
                Password::parse(secret("a long password")).unwrap(),
                "203.0.113.9",
                &Default::default(),
            )
            .await
            .unwrap()
        }
    };
    let admin = join("admin@example.com", Role::Admin).await;
    let admins_token = api_tokens::create(&pool, owner.team_id, "admin's", Role::Admin, Some(admin.user_id), None).await.unwrap();
    let viewer_token = api_tokens::create(&pool, owner.team_id, "read only", Role::Viewer, Some(admin.user_id), None).await.unwrap();
    let sent = invites::create(&pool, &admin, EmailAddress::parse("new@example.com").unwrap(), Role::Editor).await.unwrap();

    // Demoted to editor: the admin token acts as an editor now; the viewer's stays a viewer's.
    members::change_role(&pool, &owner, admin.user_id, Role::Editor).await.unwrap();
    let roles: Vec<(String, Role)> = api_tokens::list(&pool, owner.team_id).await.unwrap().into_iter().map(|t| (t.name, t.role)).collect();
    assert!(roles.contains(&("admin's".to_owned(), Role::Editor)) && roles.contains(&("read only".to_owned(), Role::Viewer)), "{roles:?}");

    // Removed: every token of theirs stops working, and their invitation is withdrawn.
    members::remove(&pool, &owner, admin.user_id).await.unwrap();
    for token in [&admins_token, &viewer_token] {
        assert_eq!(api_tokens::authenticate(&pool, token.secret.expose(), None).await.unwrap(), None);
    }
    assert!(matches!(invites::find_by_token(&pool, sent.token.expose()).await, Err(DomainError::InviteInvalid)));
    let audited: i64 =
        sqlx::query_scalar("select count(*) from audit_event where action in ('token_revoked', 'token_role_cut', 'invite_revoked')")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(audited, 4, "two revoked, one cut, one invitation withdrawn");
}

#[tokio::test]
async fn api_tokens_authenticate_until_revoked() {
    let pool = pool().await;
    let owner = team(&pool, "Acme", "ada@example.com").await;
    let created =
        api_tokens::create_for_team_name(&pool, &TeamName::parse("acme").unwrap(), "deploy bot", Role::Editor, None).await.unwrap();
    let secret_token = created.secret.expose().to_owned();
    assert!(secret_token.starts_with("crier_api_"));
    let Some(Admission::Admitted(caller)) = api_tokens::authenticate(&pool, &secret_token, None).await.unwrap() else {
        panic!("a valid token is admitted")
    };
    assert_eq!((caller.api_token_id, caller.team_id, caller.role), (created.token.api_token_id, owner.team_id, Role::Editor));
    assert!(api_tokens::list(&pool, owner.team_id).await.unwrap()[0].last_used_at.is_some());
    assert_eq!(api_tokens::authenticate(&pool, "crier_api_made_up", None).await.unwrap(), None);
    api_tokens::revoke(&pool, owner.team_id, created.token.api_token_id).await.unwrap();
    assert_eq!(api_tokens::authenticate(&pool, &secret_token, None).await.unwrap(), None);
    let unknown = api_tokens::create_for_team_name(&pool, &TeamName::parse("Nope").unwrap(), "x", Role::Viewer, None).await.unwrap_err();
    assert_eq!(field_of(unknown), "team");
    let stored: i64 = sqlx::query_scalar("select count(*) from api_token where position($1::bytea in token_hash) > 0")
        .bind(secret_token.as_bytes())
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored, 0, "the token itself is never stored");
}

#[tokio::test]
async fn sessions_round_trip_expire_and_are_pruned() {
    let pool = pool().await;
    let store = PgSessionStore::new(pool.clone());
    let mut record = Record {
        id: Id::default(),
        data: [("user_id".to_owned(), serde_json::json!("abc"))].into_iter().collect(),
        expiry_date: time::OffsetDateTime::now_utc() + time::Duration::days(7),
    };
    store.create(&mut record).await.unwrap();
    let loaded = store.load(&record.id).await.unwrap().unwrap();
    assert_eq!(loaded.data, record.data);
    assert_eq!(loaded.expiry_date.unix_timestamp(), record.expiry_date.unix_timestamp());

    let stored_keys: Vec<Vec<u8>> = sqlx::query_scalar("select session_id_hash from web_session").fetch_all(&pool).await.unwrap();
    assert_ne!(stored_keys[0], record.id.to_string().into_bytes(), "the cookie value is not stored");

    // A save per request slides the expiry; one that moves it by less than a minute and changes
    // nothing else writes nothing ("last seen" stays as it was).
    let seen_at = |pool: sqlx::PgPool| async move {
        sqlx::query_scalar::<_, chrono::DateTime<chrono::Utc>>("select last_seen_at from web_session").fetch_one(&pool).await.unwrap()
    };
    sqlx::query("update web_session set last_seen_at = '2030-01-01T00:00:00Z'").execute(&pool).await.unwrap();
    let marked = seen_at(pool.clone()).await;
    record.expiry_date += time::Duration::seconds(30);
    store.save(&record).await.unwrap();
    assert_eq!(seen_at(pool.clone()).await, marked, "30 s of sliding is not written");
    assert_eq!(
        store.load(&record.id).await.unwrap().unwrap().expiry_date.unix_timestamp(),
        (record.expiry_date - time::Duration::seconds(30)).unix_timestamp()
    );
    record.expiry_date += time::Duration::seconds(60);
    store.save(&record).await.unwrap();
    assert_ne!(seen_at(pool.clone()).await, marked, "90 s is");
    assert_eq!(store.load(&record.id).await.unwrap().unwrap().expiry_date.unix_timestamp(), record.expiry_date.unix_timestamp());
    sqlx::query("update web_session set last_seen_at = '2030-01-01T00:00:00Z'").execute(&pool).await.unwrap();
    record.data.insert("flash".to_owned(), serde_json::json!("saved"));
    store.save(&record).await.unwrap();
    assert_ne!(seen_at(pool.clone()).await, marked, "a change to the data is written at once");
    assert_eq!(store.load(&record.id).await.unwrap().unwrap().data, record.data);

    record.expiry_date = time::OffsetDateTime::now_utc() - time::Duration::seconds(1);
    store.save(&record).await.unwrap();
    assert!(store.load(&record.id).await.unwrap().is_none(), "expired sessions do not load");
    sqlx::query("insert into login_failure (email, client_addr, failed_at) values ('a@b.c', 'x', now() - interval '2 hours'), ('a@b.c', 'x', now())")
        .execute(&pool)
        .await
        .unwrap();
    let pruned = housekeeping::prune(&pool).await.unwrap();
    assert_eq!((pruned.sessions, pruned.login_failures), (1, 1));

    let mut other =
        Record { id: Id::default(), data: Default::default(), expiry_date: time::OffsetDateTime::now_utc() + time::Duration::days(1) };
    store.create(&mut other).await.unwrap();
    store.delete(&other.id).await.unwrap();
    assert!(store.load(&other.id).await.unwrap().is_none());
}
