//! Profile pictures: fetched when an account is connected or verified, from the URL the platform's
//! who-am-I answered, and stored by Crier (pages never hot-link a platform's image host).
//!
//! The URL comes from a platform's answer, so it is fetched like any address Crier is given:
//! through the [`OutboundClient`] (no internal addresses unless the operator allows them, as for
//! webhooks), with a size cap and a time limit. What comes back is kept only if its first bytes
//! say PNG, JPEG, GIF or WebP ([`Picture::parse`]); the `Content-Type` header is not believed.
//! A picture that cannot be fetched never fails the connect or the Verify, and leaves the picture
//! already stored in place.

use std::time::Duration;

use crier_domain::store::account_pictures::{self, MAX_PICTURE_BYTES, Picture, PictureRefused};
use crier_outbound::{AddressPolicy, ClientOptions, OutboundClient, OutboundError};
use uuid::Uuid;

use crate::Accounts;

/// How long one picture may take, from connecting to its last byte. A picture is a nicety: a
/// slow image host must not hold up a connect for long.
pub const PICTURE_TIMEOUT: Duration = Duration::from_secs(10);

/// Fetches profile pictures.
#[derive(Clone, Debug)]
pub struct PictureFetcher {
    http: OutboundClient,
}

/// Why a picture was not stored (logged; never shown, never failing anything).
#[derive(Debug, thiserror::Error)]
enum NotStored {
    #[error("the fetch failed: {0}")]
    Fetch(#[from] OutboundError),
    #[error("the image host answered HTTP {0}")]
    Status(u16),
    #[error("{0}")]
    Refused(#[from] PictureRefused),
    #[error("it could not be stored: {0}")]
    Store(#[from] crier_domain::DomainError),
}

impl PictureFetcher {
    /// A fetcher reading pictures of `max_bytes` at most (capped at what the store keeps) from
    /// addresses `policy` allows.
    pub fn new(policy: AddressPolicy, max_bytes: usize) -> Result<Self, OutboundError> {
        let options = ClientOptions {
            timeout: PICTURE_TIMEOUT,
            // Image hosts redirect to their CDNs (Facebook's `/picture` does); each hop is checked.
            max_redirects: 3,
            max_body: max_bytes.min(MAX_PICTURE_BYTES),
            ..ClientOptions::new(concat!("Crier/", env!("CARGO_PKG_VERSION"), " (profile pictures)"))
        };
        Ok(PictureFetcher { http: OutboundClient::new(policy, options)? })
    }

    async fn fetch(&self, url: &str) -> Result<Picture, NotStored> {
        let response = self.http.send(self.http.request(reqwest::Method::GET, url)?).await?;
        if !response.status().is_success() {
            return Err(NotStored::Status(response.status().as_u16()));
        }
        let bytes = self.http.read_body(response).await?;
        Ok(Picture::parse(bytes)?)
    }
}

impl Accounts {
    /// Fetches profile pictures with `fetcher` after connects and Verifies (without one, none are
    /// fetched: the admin CLI and the worker).
    pub fn with_pictures(mut self, fetcher: PictureFetcher) -> Self {
        self.pictures = Some(fetcher);
        self
    }

    /// Fetches and stores the account's picture from `url`, when there is one and a fetcher. Any
    /// failure is logged (without the URL, which may carry a signature) and changes nothing.
    pub(crate) async fn refresh_picture(&self, team_id: Uuid, account_id: Uuid, url: Option<&str>) {
        let (Some(fetcher), Some(url)) = (&self.pictures, url) else { return };
        let outcome = match fetcher.fetch(url).await {
            Ok(picture) => account_pictures::store(&self.pool, team_id, account_id, &picture).await.map_err(NotStored::from),
            Err(e) => Err(e),
        };
        match outcome {
            Ok(true) => tracing::info!(%account_id, "stored the account's new profile picture"),
            Ok(false) => tracing::debug!(%account_id, "the account's profile picture is unchanged"),
            Err(error) => tracing::warn!(%account_id, %error, "the account's profile picture was not stored; any earlier one is kept"),
        }
    }
}
