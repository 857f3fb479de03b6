//! The engine's tests: a fresh database per test, the sandbox platforms over real HTTP (on the
//! system clock, as the engine runs on it), accounts connected through the sandbox's consent
//! pages, and the engine itself.

#![allow(dead_code)] // each test binary uses a different part

/// Fresh databases copied from a migrated template, as the domain's tests get theirs.
#[path = "../../../domain/tests/support/migrated.rs"]
pub mod migrated;
#[path = "../../../clients/tests/support/mod.rs"]
pub mod sandbox;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use crier_accounts::{Accounts, AppClient, Clients};
use crier_clients::{FacebookClient, FacebookSettings, LinkedInClient, LinkedInSettings, UploadOptions, XAuth, XClient, XSettings};
use crier_domain::account::AccountKind;
use crier_domain::delivery::DeliveryState;
use crier_domain::media_link::MediaLinks;
use crier_domain::password::Password;
use crier_domain::post::MediaRules;
use crier_domain::post::PostContent;
use crier_domain::store::accounts::{self, Credentials, NewAccount};
use crier_domain::store::audit::Actor;
use crier_domain::store::media::{self, MediaItem, NewMedia};
use crier_domain::store::posts::{self, NewPost};
use crier_domain::store::{Member, teams, vault_keys};
use crier_domain::timezone::TimeZone;
use crier_domain::{EmailAddress, TeamName};
use crier_media::inspect::InspectLimits;
use crier_media::storage::{MediaKey, MediaStore, StoreLocation};
use crier_platform::PerPlatform;
use crier_platform::Platform;
use crier_publisher::{EngineStats, PublisherConfig};
use crier_sandbox::SystemClock;
use crier_vault::{Vault, VaultKey};
use sandbox::{Harness, query, set};
use secrecy::SecretString;
use sqlx::PgPool;
use tokio::sync::oneshot;
use url::Url;
use uuid::Uuid;

pub const REDIRECT: &str = "http://localhost:3000/oauth/callback";

/// Everything a test needs.
pub struct Env {
    pub pool: PgPool,
    pub vault: Arc<Vault>,
    pub accounts: Arc<Accounts>,
    pub h: Harness,
    pub team: Member,
    /// Where the team's media is, and how the engine uploads it (polls without waiting).
    pub media: crier_publisher::MediaSettings,
    /// The media store's directory, removed with the test.
    pub media_dir: tempfile::TempDir,
}

/// A fresh database with a team, and a sandbox with an app on each platform.
pub async fn env() -> Env {
    let url = tokio::task::spawn_blocking(migrated::migrated_database).await.unwrap();
    let pool = PgPool::connect(&url).await.unwrap();
    let team = teams::sign_up(
        &pool,
        TeamName::parse("Acme").unwrap(),
        EmailAddress::parse("owner@acme.test").unwrap(),
        Password::parse(SecretString::from("correct horse battery")).unwrap(),
    )
    .await
    .unwrap();
    let key = [7u8; 32];
    let id = vault_keys::key_ids(&pool, &[vault_keys::fingerprint(&key)]).await.unwrap()[0];
    let vault = Arc::new(Vault::new(VaultKey::new(id, key).unwrap()));
    let h = sandbox::serve(
        |config| {
            config.clock = Arc::new(SystemClock);
            // Processing moves on at every status poll, without announcing a wait.
            config.x_media.processing.check_after_secs = 0;
            config.linkedin_media.processing.check_after_secs = 0;
            config.facebook_media.processing.check_after_secs = 0;
        },
        |s| {
            s.register_x_app("x-app", "x-secret", REDIRECT, "Crier");
            s.register_linkedin_app("li-app", "li-secret", REDIRECT, "Crier");
            s.register_facebook_app("1234567890123456", "meta-secret", REDIRECT, "Crier");
        },
    )
    .await;
    let apps = PerPlatform::from_fn(|platform| {
        Some(match platform {
            Platform::X => AppClient::X(XClient::new(XSettings::sandbox(&h.base, "x-app".into(), SecretString::from("x-secret")))),
            Platform::Linkedin => AppClient::Linkedin(LinkedInClient::new(LinkedInSettings::sandbox(
                &h.base,
                "li-app".into(),
                SecretString::from("li-secret"),
            ))),
            Platform::Facebook => AppClient::Facebook(FacebookClient::new(FacebookSettings::sandbox(
                &h.base,
                "1234567890123456".into(),
                SecretString::from("meta-secret"),
            ))),
        })
    });
    let x_keys = XClient::new(XSettings::sandbox(&h.base, String::new(), SecretString::from(String::new())));
    let clients = Clients::new(apps, x_keys, PerPlatform::from_fn(|_| true));
    let accounts = Arc::new(Accounts::new(pool.clone(), vault.clone(), clients, None));
    let media_dir = tempfile::tempdir().unwrap();
    let media = crier_publisher::MediaSettings {
        store: MediaStore::open(&StoreLocation::Directory(media_dir.path().to_owned())).unwrap(),
        rules: MediaRules::default(),
        upload: UploadOptions { poll_interval: Duration::from_millis(5), ..UploadOptions::default() },
        links: Arc::new(MediaLinks::new(&vault)),
        public_base: None,
        upload_memory: crier_publisher::UploadMemory::new(crier_publisher::DEFAULT_UPLOAD_MEMORY),
        facebook_video: crier_publisher::FacebookVideoRoute::default(),
    };
    Env { pool, vault, accounts, h, team, media, media_dir }
}

/// X's answer when a user's rate limit is spent until `reset`, as a sandbox fault's next response.
pub fn x_rate_limited(reset: chrono::DateTime<Utc>) -> serde_json::Value {
    serde_json::json!({
        "status": 429,
        "body": { "title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429 },
        "headers": { "x-rate-limit-limit": "100", "x-rate-limit-remaining": "0", "x-rate-limit-reset": reset.timestamp().to_string() }
    })
}

fn redirect() -> Url {
    Url::parse(REDIRECT).unwrap()
}

/// What a connected account is called in the sandbox.
pub struct Connected {
    pub account_id: Uuid,
    /// The platform's user id (faults and revocations are keyed by it).
    pub user_id: String,
    pub access_token: SecretString,
}

impl Env {
    /// Connects the X user `username` through the consent page, as the Connect button does.
    pub async fn connect_x(&self, username: &str) -> Connected {
        let x = self.accounts.clients().x().cloned().unwrap();
        let start = x.start_authorization(&redirect());
        let back = self.h.consent(&start.url, |fields| set(fields, "account", username), "authorize").await;
        let code = query(&back, "code").expect("a code");
        let tokens = x.exchange_code(&code, start.pkce_verifier.as_ref(), &redirect()).await.unwrap();
        let me = x.who_am_i(&XAuth::Bearer(tokens.access_token.clone())).await.unwrap();
        let new = NewAccount {
            platform: Platform::X,
            kind: AccountKind::Profile,
            external_id: me.id.clone(),
            name: me.name,
            handle: Some(me.username),
            authorized_by: me.id.clone(),
            credentials: Credentials::OAuth2 { access_token: tokens.access_token.clone(), refresh_token: tokens.refresh_token },
            token_expires_at: tokens.expires_at,
            refresh_expires_at: None,
            scopes: tokens.scopes,
        };
        let account = accounts::connect(&self.pool, &self.vault, self.team.team_id, Some(self.team.user_id), new).await.unwrap();
        Connected { account_id: account.account_id, user_id: me.id, access_token: tokens.access_token }
    }

    /// Connects the sandbox's default LinkedIn member, posting as themself.
    pub async fn connect_linkedin(&self) -> Connected {
        let li = self.accounts.clients().linkedin().cloned().unwrap();
        let start = li.start_authorization(&redirect());
        let back = self.h.consent(&start.url, |_| {}, "authorize").await;
        let tokens = li.exchange_code(&query(&back, "code").unwrap(), None, &redirect()).await.unwrap();
        let me = li.who_am_i(&tokens.access_token).await.unwrap();
        let new = NewAccount {
            platform: Platform::Linkedin,
            kind: AccountKind::Profile,
            external_id: format!("urn:li:person:{}", me.id),
            name: me.name,
            handle: None,
            authorized_by: me.id.clone(),
            credentials: Credentials::OAuth2 { access_token: tokens.access_token.clone(), refresh_token: tokens.refresh_token },
            token_expires_at: tokens.expires_at,
            refresh_expires_at: tokens.refresh_expires_at,
            scopes: tokens.scopes,
        };
        let account = accounts::connect(&self.pool, &self.vault, self.team.team_id, Some(self.team.user_id), new).await.unwrap();
        Connected { account_id: account.account_id, user_id: me.id, access_token: tokens.access_token }
    }

    /// Connects the sandbox's default Facebook Page.
    pub async fn connect_facebook(&self) -> Connected {
        let meta = self.accounts.clients().facebook().cloned().unwrap();
        let start = meta.start_authorization(&redirect());
        let back = self.h.consent(&start.url, |_| {}, "authorize").await;
        let user = meta.exchange_code(&query(&back, "code").unwrap(), None, &redirect()).await.unwrap();
        let me = meta.who_am_i(&user.access_token).await.unwrap();
        let page = meta.pages(&user.access_token).await.unwrap().into_iter().next().expect("a Page");
        let new = NewAccount {
            platform: Platform::Facebook,
            kind: AccountKind::Page,
            external_id: page.id.clone(),
            name: page.name,
            handle: None,
            authorized_by: me.id.clone(),
            credentials: Credentials::OAuth2 { access_token: page.access_token.clone(), refresh_token: None },
            token_expires_at: None,
            refresh_expires_at: None,
            scopes: user.scopes,
        };
        let account = accounts::connect(&self.pool, &self.vault, self.team.team_id, Some(self.team.user_id), new).await.unwrap();
        Connected { account_id: account.account_id, user_id: page.id, access_token: page.access_token }
    }

    /// Schedules `text` to `accounts`, due now (or as `tweak` says); returns the post.
    pub async fn post(&self, accounts: &[Uuid], text: &str, tweak: impl FnOnce(&mut NewPost)) -> Uuid {
        let mut new = NewPost {
            content: PostContent::parse(text, [], "", []).unwrap(),
            account_ids: accounts.to_vec(),
            scheduled_at: Utc::now(),
            timezone: TimeZone::UTC,
            dry_run: false,
            retry: Default::default(),
        };
        tweak(&mut new);
        posts::schedule_all(&self.pool, self.team.team_id, Actor::User(self.team.user_id), &[new], &Default::default())
            .await
            .map_err(|(_, e)| e)
            .unwrap()[0]
    }

    /// Adds a file to the team's library as an upload does: inspected (metadata stripped,
    /// orientation applied) and stored.
    pub async fn upload(&self, file_name: &str, bytes: &[u8], alt_text: &str) -> MediaItem {
        let media_id = Uuid::new_v4();
        let work = self.media_dir.path().join("incoming");
        std::fs::create_dir_all(&work).unwrap();
        let (input, output) = (work.join(format!("{media_id}.in")), work.join(format!("{media_id}.out")));
        std::fs::write(&input, bytes).unwrap();
        let inspected = crier_media::inspect::inspect(&input, &output, &InspectLimits::default()).expect("the fixture is acceptable");
        self.media.store.put_file(&MediaKey::original(self.team.team_id, media_id), &output).await.unwrap();
        let new = NewMedia {
            media_id,
            file_name: media::file_name(file_name, inspected.facts.content_type),
            facts: inspected.facts,
            sha256: inspected.sha256,
            alt_text: alt_text.to_owned(),
            has_thumbnail: false,
        };
        media::create(&self.pool, self.team.team_id, Actor::User(self.team.user_id), &new, u64::MAX).await.unwrap()
    }

    /// The post's deliveries' states, in account order.
    pub async fn states(&self, post_id: Uuid) -> Vec<DeliveryState> {
        posts::get(&self.pool, self.team.team_id, post_id).await.unwrap().summary.deliveries.iter().map(|d| d.state).collect()
    }

    /// Waits until every delivery of `post_id` is in a state `done` accepts (checked every 20 ms,
    /// for at most 30 s): a condition, not a guess at how long publishing takes.
    pub async fn wait_for(&self, post_id: Uuid, done: impl Fn(DeliveryState) -> bool) -> Vec<DeliveryState> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let states = self.states(post_id).await;
            if states.iter().all(|s| done(*s)) {
                return states;
            }
            assert!(tokio::time::Instant::now() < deadline, "post {post_id} still {states:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until `sql` (a scalar boolean query) is true.
    pub async fn wait_until(&self, what: &str, sql: &'static str) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let ok: bool = sqlx::query_scalar(sql).fetch_one(&self.pool).await.unwrap();
            if ok {
                return;
            }
            assert!(tokio::time::Instant::now() < deadline, "timed out waiting until {what}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Runs the engine one step: claims what is due, publishes it and writes the outcomes; answers
    /// the deliveries' new states. Tests that drive the engine this way wait for nothing.
    pub async fn step(&self) -> Vec<DeliveryState> {
        self.step_with(|_| {}).await
    }

    /// [`Env::step`] with the engine's configuration tweaked.
    pub async fn step_with(&self, tweak: impl FnOnce(&mut PublisherConfig)) -> Vec<DeliveryState> {
        let mut config = PublisherConfig::new("test-stepping-worker");
        tweak(&mut config);
        let ctx = crier_publisher::Context::new(
            self.pool.clone(),
            self.accounts.clone(),
            config,
            Arc::new(EngineStats::default()),
            self.media.clone(),
        );
        crier_publisher::step(&ctx).await.expect("the step runs").into_iter().map(|c| c.state).collect()
    }

    /// Starts an engine; stop it with the returned handle.
    pub fn start(&self, tweak: impl FnOnce(&mut PublisherConfig)) -> Engine {
        let mut config = PublisherConfig::new(format!("test-worker-{}", Uuid::new_v4()));
        config.heartbeat = Duration::from_millis(200);
        config.stale_after = Duration::from_secs(1);
        config.idle_poll = Duration::from_secs(1);
        tweak(&mut config);
        let stats = Arc::new(EngineStats::default());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(crier_publisher::run(
            crier_publisher::Context::new(self.pool.clone(), self.accounts.clone(), config.clone(), stats.clone(), self.media.clone()),
            async move {
                let _ = stopped.await;
            },
        ));
        Engine { stop: Some(stop), task, stats, name: config.worker }
    }

    /// The sandbox's accepted posts on `platform` ("x", "linkedin", "facebook") with `text`.
    pub fn copies(&self, platform: &str, text: &str) -> usize {
        self.h.sandbox.ledger().iter().filter(|e| e.platform == platform && e.text == text).count()
    }

    /// How many audit events of `action` the team has.
    pub async fn audited(&self, action: &str) -> i64 {
        sqlx::query_scalar("select count(*) from audit_event where team_id = $1 and action = $2")
            .bind(self.team.team_id)
            .bind(action)
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }
}

/// A running engine.
pub struct Engine {
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), crier_domain::DomainError>>,
    pub stats: Arc<EngineStats>,
    pub name: String,
}

impl Engine {
    /// Asks it to stop and waits until it has.
    pub async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.task.await.unwrap().unwrap();
    }
}
