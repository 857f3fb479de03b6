//! What the server gives every page render and server function, through Leptos context.

use std::sync::Arc;

use axum::extract::FromRef;
use crier_accounts::Accounts;
use crier_domain::store::status::Operations;
use crier_vault::Vault;
use leptos::prelude::LeptosOptions;
use sqlx::PgPool;

/// Shared server state.
#[derive(Clone, Debug)]
pub struct AppState {
    /// Where the compiled site lives, and its output name.
    pub leptos_options: LeptosOptions,
    /// The database.
    pub pool: PgPool,
    /// Seals and opens secrets (webhook signing secrets, values kept for one page view).
    pub vault: Arc<Vault>,
    /// The accounts service: connecting, verifying and disconnecting, and the platform clients.
    pub accounts: Arc<Accounts>,
    /// The public base URL without a trailing slash, for links people follow (invites) and OAuth
    /// redirect URIs.
    pub public_base: String,
    /// The REST API's operations, from its OpenAPI document (for the API page).
    pub api_reference: Arc<Vec<crate::server::developers::ApiOperation>>,
    /// The workers' settings this process was started with, and what readiness tolerates.
    pub operations: Operations,
    /// Who may create a team by signing up (CRIER_SIGNUP, resolved).
    pub sign_up: crier_domain::store::teams::SignUpPolicy,
    /// How often one client address may sign up or accept an invite.
    pub address_limits: crier_domain::store::throttle::AddressLimits,
    /// Whether webhook endpoints may be plain http:// (CRIER_WEBHOOKS_ALLOW_HTTP; development).
    pub webhooks_allow_http: bool,
    /// Which addresses URLs teams give may have (CRIER_OUTBOUND_ALLOW_NETWORKS): the webhook form
    /// refuses the others when an endpoint is added.
    pub outbound: crier_outbound::AddressPolicy,
    /// The media store and its limits.
    pub media: Arc<Media>,
    /// The SMTP server invitations are emailed through (CRIER_SMTP_URL), if any.
    pub mailer: Option<crier_mail::Mailer>,
    /// How large a CSV import may be (CRIER_IMPORT_MAX_ROWS, CRIER_IMPORT_MAX_FILE_SIZE).
    pub import: crier_domain::import::ImportLimits,
    /// The feed poller, for a feed's "Check now" (the same one the process polls due feeds with).
    pub feeds: Arc<crier_publisher::feeds::Poller>,
}

/// Media: where the bytes are, how large they may be, and the signer of links platforms fetch.
#[derive(Debug)]
pub struct Media {
    /// The store (a directory or an S3-compatible bucket).
    pub store: crier_media::storage::MediaStore,
    /// Where uploads are written while they arrive (this machine's disk).
    pub upload_dir: std::path::PathBuf,
    /// The largest file accepted, in bytes (CRIER_MEDIA_MAX_FILE_SIZE).
    pub max_file_bytes: u64,
    /// What one team may keep, in bytes (CRIER_MEDIA_TEAM_QUOTA).
    pub team_quota_bytes: u64,
    /// Signs the links platforms fetch media by.
    pub links: crier_domain::media_link::MediaLinks,
    /// Each platform's media rules (CRIER_*_MEDIA_LIMITS).
    pub rules: crier_domain::post::MediaRules,
    /// Uploads read (decoded, stripped) one at a time per process: decoding a photo takes up to
    /// 64 MiB, and the process stays under 100 MB.
    pub inspections: tokio::sync::Semaphore,
}

impl Media {
    /// Deletes an item's bytes (and thumbnail) after `store::media::delete` took it out of the
    /// library.
    pub async fn delete_bytes(&self, team_id: uuid::Uuid, media_id: uuid::Uuid) -> Result<(), crier_media::storage::StorageError> {
        use crier_media::storage::MediaKey;
        self.store.delete(&MediaKey::original(team_id, media_id)).await?;
        self.store.delete(&MediaKey::thumbnail(team_id, media_id)).await
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
