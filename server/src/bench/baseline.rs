//! The baseline: a deliberately minimal publishing loop over the same delivery rows, to show what
//! this PostgreSQL and this machine allow. Each task claims one due delivery
//! (`FOR UPDATE SKIP LOCKED`, one statement), makes the same HTTP call Crier makes, and updates the
//! same row (one statement). Nothing else: no attempt rows, no audit trail, no budgets, no
//! retries, no rescue. Crier's engine does all of those; the ratio says what they cost.
//!
//! Its SQL is written at run time rather than checked by the compiler like the store's: it is a
//! measuring stick, not Crier's code, and the benchmark's short run in CI fails if it breaks.

use std::sync::Arc;

use crier_clients::{OAuth1Credentials, XAuth, XClient};
use crier_domain::store::accounts::{self, Credentials};
use crier_platform::Platform;
use crier_vault::Vault;
use secrecy::ExposeSecret;
use sqlx::PgPool;
use uuid::Uuid;

/// Claims the most overdue scheduled delivery, if any, with what the call needs.
const CLAIM_ONE: &str = "with next as (
        select delivery_id from delivery
        where state = 'scheduled' and next_attempt_at <= now()
        order by next_attempt_at
        limit 1
        for update skip locked
    )
    update delivery d set state = 'publishing', claimed_by = 'baseline', claimed_at = now(), attempts = d.attempts + 1
    from next, post p, platform_account a
    where d.delivery_id = next.delivery_id and p.post_id = d.post_id and a.account_id = d.account_id
    returning d.delivery_id, d.team_id, p.text, a.external_id, a.credentials";

const PUBLISHED: &str = "update delivery set state = 'published', claimed_by = null, claimed_at = null,
        external_id = $2, permalink = $3, published_at = now(), updated_at = now()
    where delivery_id = $1";

const FAILED: &str = "update delivery set state = 'failed', claimed_by = null, claimed_at = null,
        last_error_message = $2, updated_at = now()
    where delivery_id = $1";

/// What [`CLAIM_ONE`] returns.
#[derive(sqlx::FromRow)]
struct Claimed {
    delivery_id: Uuid,
    team_id: Uuid,
    text: String,
    external_id: String,
    credentials: Option<Vec<u8>>,
}

/// Runs `tasks` loops until nothing due is left.
pub async fn run(pool: PgPool, vault: Arc<Vault>, x: XClient, tasks: usize) -> anyhow::Result<()> {
    let mut loops = tokio::task::JoinSet::new();
    for _ in 0..tasks.max(1) {
        let (pool, vault, x) = (pool.clone(), vault.clone(), x.clone());
        loops.spawn(async move { publish_until_empty(&pool, &vault, &x).await });
    }
    while let Some(done) = loops.join_next().await {
        done??;
    }
    Ok(())
}

async fn publish_until_empty(pool: &PgPool, vault: &Vault, x: &XClient) -> anyhow::Result<()> {
    loop {
        let Some(Claimed { delivery_id, team_id, text, external_id, credentials }) = sqlx::query_as(CLAIM_ONE).fetch_optional(pool).await?
        else {
            return Ok(());
        };
        let sealed = credentials.ok_or_else(|| anyhow::anyhow!("a benchmark account has no credentials"))?;
        let auth = match accounts::open_credentials(vault, team_id, Platform::X, &external_id, &sealed)? {
            Credentials::OAuth1 { consumer_key, consumer_secret, access_token, access_token_secret } => XAuth::OAuth1(OAuth1Credentials {
                consumer_key: consumer_key.expose_secret().to_owned(),
                consumer_secret,
                token: access_token.expose_secret().to_owned(),
                token_secret: access_token_secret,
            }),
            Credentials::OAuth2 { access_token, .. } => XAuth::Bearer(access_token),
        };
        match x.publish(&auth, &text).await.value {
            Ok(published) => {
                sqlx::query(PUBLISHED).bind(delivery_id).bind(published.external_id).bind(published.permalink).execute(pool).await?
            }
            Err(e) => sqlx::query(FAILED).bind(delivery_id).bind(e.message).execute(pool).await?,
        };
    }
}
