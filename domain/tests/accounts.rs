//! Connected accounts and OAuth connections against a real PostgreSQL: sealing, team isolation,
//! reconnects, key rotation, single-use state.

mod support;

use chrono::{TimeDelta, Utc};
use crier_domain::DomainError;
use crier_domain::account::{AccountHealth, AccountKind, AccountStatus};
use crier_domain::store::accounts::{self, CheckOutcome, Credentials, NewAccount};
use crier_domain::store::{oauth_connections, vault_keys};
use crier_platform::Platform;
use crier_vault::{Vault, VaultKey};
use secrecy::ExposeSecret;
use sqlx::PgPool;
use support::{pool, secret, team};

const ACCESS: &str = "xat-plaintext-access-token-0123456789";
const REFRESH: &str = "xrt-plaintext-refresh-token-9876543210";

fn x_account(external_id: &str, name: &str, access: &str) -> NewAccount {
    NewAccount {
        platform: Platform::X,
        kind: AccountKind::Profile,
        external_id: external_id.into(),
        name: name.into(),
        handle: Some(name.to_lowercase()),
        authorized_by: external_id.into(),
        credentials: Credentials::OAuth2 { access_token: secret(access), refresh_token: Some(secret(REFRESH)) },
        token_expires_at: Some(Utc::now() + TimeDelta::hours(2)),
        refresh_expires_at: None,
        scopes: vec!["tweet.write".into(), "offline.access".into()],
    }
}

/// Every byte of every row of the account tables, as text (what a dump would show).
async fn dump(pool: &PgPool) -> String {
    let rows: Vec<(String,)> =
        sqlx::query_as("select row_to_json(t)::text from platform_account t union all select row_to_json(o)::text from oauth_connection o")
            .fetch_all(pool)
            .await
            .unwrap();
    rows.into_iter().map(|(r,)| r).collect::<Vec<_>>().join("\n")
}

async fn vault_with(pool: &PgPool, key: [u8; 32]) -> Vault {
    let ids = vault_keys::key_ids(pool, &[vault_keys::fingerprint(&key)]).await.unwrap();
    Vault::new(VaultKey::new(ids[0], key).unwrap())
}

#[tokio::test]
async fn credentials_are_sealed_at_rest_and_open_for_their_team_only() {
    let pool = pool().await;
    let vault = vault_with(&pool, [7; 32]).await;
    let acme = team(&pool, "Acme", "ada@example.com").await;
    let rival = team(&pool, "Rival", "eve@example.com").await;

    let account = accounts::connect(&pool, &vault, acme.team_id, Some(acme.user_id), x_account("42", "Acme", ACCESS)).await.unwrap();
    assert_eq!(account.status, AccountStatus::Connected);
    assert!(account.can_refresh);
    assert_eq!(account.health(Utc::now()), AccountHealth::Connected);

    let dump = dump(&pool).await;
    assert!(dump.contains("\"external_id\":\"42\""), "the dump reads the row: {dump}");
    assert!(!dump.contains(ACCESS) && !dump.contains(REFRESH), "a token is in plain text: {dump}");
    assert!(!dump.contains("xat-") && !dump.contains("xrt-"));

    let (_, credentials) = accounts::credentials(&pool, &vault, acme.team_id, account.account_id).await.unwrap();
    match credentials {
        Credentials::OAuth2 { access_token, refresh_token } => {
            assert_eq!(access_token.expose_secret(), ACCESS);
            assert_eq!(refresh_token.unwrap().expose_secret(), REFRESH);
        }
        other => panic!("expected OAuth2 credentials, got {other:?}"),
    }
    assert!(!format!("{:?}", x_account("1", "n", ACCESS)).contains(ACCESS), "Debug shows a token");

    // Another team's id answers exactly like a missing one, for every operation.
    let id = account.account_id;
    assert!(matches!(accounts::get(&pool, rival.team_id, id).await, Err(DomainError::NotFound)));
    assert!(matches!(accounts::credentials(&pool, &vault, rival.team_id, id).await, Err(DomainError::NotFound)));
    assert!(matches!(accounts::disconnect(&pool, &vault, rival.team_id, id).await, Err(DomainError::NotFound)));
    assert!(matches!(
        accounts::record_check(&pool, rival.team_id, id, &CheckOutcome::Revoked("x".into())).await,
        Err(DomainError::NotFound)
    ));
    assert!(accounts::list(&pool, rival.team_id).await.unwrap().is_empty());
    assert_eq!(accounts::get(&pool, acme.team_id, id).await.unwrap().status, AccountStatus::Connected);
}

#[tokio::test]
async fn a_wrong_key_fails_closed_and_a_moved_ciphertext_does_not_open() {
    let pool = pool().await;
    let vault = vault_with(&pool, [1; 32]).await;
    let acme = team(&pool, "Acme", "ada@example.com").await;
    let a = accounts::connect(&pool, &vault, acme.team_id, None, x_account("1", "One", ACCESS)).await.unwrap();
    let b = accounts::connect(&pool, &vault, acme.team_id, None, x_account("2", "Two", "another-token")).await.unwrap();

    let stranger = vault_with(&pool, [2; 32]).await;
    assert!(matches!(accounts::credentials(&pool, &stranger, acme.team_id, a.account_id).await, Err(DomainError::SecretUnreadable(_))));

    // Copy account 1's sealed credentials onto account 2: the associated data refuses them.
    sqlx::query(
        "update platform_account set credentials = (select credentials from platform_account where account_id = $1) where account_id = $2",
    )
    .bind(a.account_id)
    .bind(b.account_id)
    .execute(&pool)
    .await
    .unwrap();
    assert!(matches!(accounts::credentials(&pool, &vault, acme.team_id, b.account_id).await, Err(DomainError::SecretUnreadable(_))));
}

#[tokio::test]
async fn reconnecting_updates_the_account_and_disconnect_keeps_the_row_without_tokens() {
    let pool = pool().await;
    let vault = vault_with(&pool, [3; 32]).await;
    let acme = team(&pool, "Acme", "ada@example.com").await;
    let first = accounts::connect(&pool, &vault, acme.team_id, None, x_account("42", "Old name", "token-1")).await.unwrap();
    accounts::record_check(&pool, acme.team_id, first.account_id, &CheckOutcome::NeedsReauth("token expired".into())).await.unwrap();
    assert_eq!(accounts::get(&pool, acme.team_id, first.account_id).await.unwrap().status, AccountStatus::NeedsReauth);

    let again = accounts::connect(&pool, &vault, acme.team_id, None, x_account("42", "New name", "token-2")).await.unwrap();
    assert_eq!(again.account_id, first.account_id, "a reconnect must not add a second account");
    assert_eq!((again.name.as_str(), again.status), ("New name", AccountStatus::Connected));
    assert_eq!(accounts::list(&pool, acme.team_id).await.unwrap().len(), 1);

    let (gone, credentials) = accounts::disconnect(&pool, &vault, acme.team_id, first.account_id).await.unwrap();
    assert_eq!(gone.account_id, first.account_id);
    match credentials.expect("the tokens come back once, to revoke") {
        Credentials::OAuth2 { access_token, .. } => assert_eq!(access_token.expose_secret(), "token-2"),
        other => panic!("{other:?}"),
    }
    assert!(accounts::list(&pool, acme.team_id).await.unwrap().is_empty());
    let (kept, nulls): (i64, i64) =
        sqlx::query_as("select count(*), count(*) filter (where credentials is null and status = 'disconnected') from platform_account")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!((kept, nulls), (1, 1), "the row stays (history), its tokens go");
    assert!(matches!(accounts::disconnect(&pool, &vault, acme.team_id, first.account_id).await, Err(DomainError::NotFound)));
}

#[tokio::test]
async fn rotation_reseals_everything_under_the_new_key() {
    let pool = pool().await;
    let old_key = [4u8; 32];
    let new_key = [5u8; 32];
    let old = vault_with(&pool, old_key).await;
    let acme = team(&pool, "Acme", "ada@example.com").await;
    let account = accounts::connect(&pool, &old, acme.team_id, None, x_account("42", "Acme", ACCESS)).await.unwrap();
    let before: Vec<u8> = sqlx::query_scalar("select credentials from platform_account").fetch_one(&pool).await.unwrap();

    let ids = vault_keys::key_ids(&pool, &[vault_keys::fingerprint(&new_key), vault_keys::fingerprint(&old_key)]).await.unwrap();
    assert_ne!(ids[0], ids[1], "each key gets its own id");
    let rotating = Vault::new(VaultKey::new(ids[0], new_key).unwrap()).with_previous(VaultKey::new(ids[1], old_key).unwrap());
    let report = accounts::reseal_all(&pool, &rotating).await.unwrap();
    assert_eq!((report.resealed, report.current, report.unreadable), (1, 0, 0));
    let after: Vec<u8> = sqlx::query_scalar("select credentials from platform_account").fetch_one(&pool).await.unwrap();
    assert_eq!((before[1], after[1]), (ids[1], ids[0]), "the key id byte moved to the new key");

    // The new key alone opens it; the old key alone no longer does.
    let new_only = Vault::new(VaultKey::new(ids[0], new_key).unwrap());
    let (_, credentials) = accounts::credentials(&pool, &new_only, acme.team_id, account.account_id).await.unwrap();
    assert!(matches!(credentials, Credentials::OAuth2 { access_token, .. } if access_token.expose_secret() == ACCESS));
    assert!(accounts::credentials(&pool, &old, acme.team_id, account.account_id).await.is_err());
    let again = accounts::reseal_all(&pool, &new_only).await.unwrap();
    assert_eq!((again.resealed, again.current), (0, 1));
    // The same key always gets the same id.
    assert_eq!(vault_keys::key_ids(&pool, &[vault_keys::fingerprint(&new_key)]).await.unwrap(), vec![ids[0]]);
}

#[tokio::test]
async fn an_oauth_state_is_single_use_bound_to_its_member_and_expires() {
    let pool = pool().await;
    let vault = vault_with(&pool, [6; 32]).await;
    let ada = team(&pool, "Acme", "ada@example.com").await;
    let eve = team(&pool, "Rival", "eve@example.com").await;
    let verifier = secret("verifier-0123456789-0123456789-0123456789-abc");

    oauth_connections::begin(&pool, &vault, &ada, Platform::X, "state-1", Some(&verifier)).await.unwrap();
    assert!(!dump(&pool).await.contains("verifier-0123"), "the PKCE verifier is sealed");
    assert!(!dump(&pool).await.contains("state-1"), "the state is hashed");
    // Someone else, or another platform's callback, cannot consume it.
    assert!(matches!(
        oauth_connections::consume_state(&pool, &vault, &eve, Platform::X, "state-1").await,
        Err(DomainError::ConnectionExpired)
    ));
    assert!(matches!(
        oauth_connections::consume_state(&pool, &vault, &ada, Platform::Linkedin, "state-1").await,
        Err(DomainError::ConnectionExpired)
    ));
    let called_back = oauth_connections::consume_state(&pool, &vault, &ada, Platform::X, "state-1").await.unwrap();
    assert_eq!(called_back.pkce_verifier.unwrap().expose_secret(), verifier.expose_secret());
    assert!(matches!(
        oauth_connections::consume_state(&pool, &vault, &ada, Platform::X, "state-1").await,
        Err(DomainError::ConnectionExpired)
    ));

    // A held grant is readable by its member only, and gone after finish.
    let grant = secret(r#"{"pages":[{"id":"1","token":"page-token-abc"}]}"#);
    oauth_connections::hold_grant(&pool, &vault, &ada, called_back.connection_id, &grant).await.unwrap();
    assert!(!dump(&pool).await.contains("page-token-abc"));
    assert!(matches!(oauth_connections::grant(&pool, &vault, &eve, called_back.connection_id).await, Err(DomainError::ConnectionExpired)));
    let (platform, held) = oauth_connections::grant(&pool, &vault, &ada, called_back.connection_id).await.unwrap();
    assert_eq!((platform, held.expose_secret()), (Platform::X, grant.expose_secret()));
    oauth_connections::finish(&pool, &ada, called_back.connection_id).await.unwrap();
    assert!(oauth_connections::grant(&pool, &vault, &ada, called_back.connection_id).await.is_err());

    // Past its ten minutes, a state answers like a used one.
    oauth_connections::begin(&pool, &vault, &ada, Platform::X, "state-2", None).await.unwrap();
    sqlx::query("update oauth_connection set expires_at = now() - interval '1 second'").execute(&pool).await.unwrap();
    assert!(matches!(
        oauth_connections::consume_state(&pool, &vault, &ada, Platform::X, "state-2").await,
        Err(DomainError::ConnectionExpired)
    ));
}
