//! Media a CSV import names by web address, fetched into the team's library: through
//! `crier-outbound` (the webhooks' address rules: public addresses only unless the operator allows
//! more, every redirect hop checked, https unless CRIER_WEBHOOKS_ALLOW_HTTP), streamed to disk and
//! inspected exactly as an upload is ([`crate::uploads::receive`]: the size limit, the quota, the
//! media checks), never held in memory.
//!
//! An import is all or nothing, so what an import fetched is taken back ([`UrlMedia::take_back`])
//! when the import does not go through.

use std::collections::HashMap;
use std::time::Duration;

use app::state::Media;
use bytes::Bytes;
use crier_domain::store::audit::Actor;
use crier_domain::store::imports::MediaFetcher;
use crier_domain::store::media;
use crier_outbound::{AddressPolicy, ClientOptions, OutboundClient, OutboundError};
use futures::Stream;
use sqlx::PgPool;
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::uploads::{self, Incoming};

/// How long one file may take to arrive (a large video over a slow link).
const FETCH_TIMEOUT: Duration = Duration::from_secs(120);

/// Fetches for one import, and remembers what it added.
pub struct UrlMedia<'a> {
    media: &'a Media,
    pool: &'a PgPool,
    team_id: Uuid,
    actor: Actor,
    allow_http: bool,
    client: Option<OutboundClient>,
    added: Mutex<Vec<Uuid>>,
}

impl<'a> UrlMedia<'a> {
    /// A fetcher for the team's import by `actor`, under `policy`.
    pub fn new(media: &'a Media, pool: &'a PgPool, team_id: Uuid, actor: Actor, policy: AddressPolicy, allow_http: bool) -> Self {
        let options = ClientOptions {
            timeout: FETCH_TIMEOUT,
            connect_timeout: Duration::from_secs(10),
            max_redirects: 5,
            ..ClientOptions::new("Crier-Import")
        };
        let client = OutboundClient::new(policy, options)
            .inspect_err(|e| tracing::error!(error = %e, "the import's HTTP client cannot be built"))
            .ok();
        UrlMedia { media, pool, team_id, actor, allow_http, client, added: Mutex::new(Vec::new()) }
    }

    /// Removes what this import added (the import did not go through).
    pub async fn take_back(&self) {
        for media_id in self.added.lock().await.drain(..) {
            let removed = media::delete(self.pool, self.team_id, self.actor, media_id).await;
            let bytes = match removed {
                Ok(_) => self.media.delete_bytes(self.team_id, media_id).await.map_err(|e| e.to_string()),
                Err(error) => Err(error.to_string()),
            };
            if let Err(error) = bytes {
                tracing::warn!(%error, %media_id, "could not take back media fetched for an import that did not go through");
            }
        }
    }

    async fn one(&self, url: &str) -> Result<Uuid, String> {
        let Some(client) = &self.client else { return Err("Crier cannot fetch files right now.".into()) };
        let parsed = url::Url::parse(url).map_err(|_| "not a web address.".to_owned())?;
        match parsed.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            _ => return Err("give an https:// address.".into()),
        }
        let request = client.request(reqwest::Method::GET, url).map_err(|e| words(&e))?;
        let response = client.send(request).await.map_err(|e| words(&e))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("the server answered HTTP {}.", status.as_u16()));
        }
        if response.content_length().is_some_and(|n| n > self.media.max_file_bytes) {
            return Err(format!("the file is larger than Crier accepts ({}).", crier_media::ByteSize(self.media.max_file_bytes)));
        }
        let file_name = parsed
            .path_segments()
            .and_then(|mut s| s.next_back())
            .filter(|s| !s.is_empty())
            .map(percent_decoded)
            .unwrap_or_else(|| "media".to_owned());
        let incoming = Incoming { file_name: &file_name, alt_text: "" };
        let item =
            uploads::receive(self.media, self.pool, self.team_id, self.actor, incoming, body(response)).await.map_err(|e| e.to_string())?;
        self.added.lock().await.push(item.media_id);
        Ok(item.media_id)
    }
}

#[async_trait::async_trait]
impl MediaFetcher for UrlMedia<'_> {
    async fn fetch(&self, urls: &[String]) -> HashMap<String, Result<Uuid, String>> {
        let mut fetched = HashMap::with_capacity(urls.len());
        // One at a time: each is written to disk and inspected, and the inspections take turns anyway.
        for url in urls {
            fetched.insert(url.clone(), self.one(url).await);
        }
        fetched
    }
}

/// The answer's body as it arrives, chunk by chunk.
fn body(response: reqwest::Response) -> impl Stream<Item = Result<Bytes, reqwest::Error>> + Unpin {
    Box::pin(futures::stream::unfold(Some(response), |state| async move {
        let mut response = state?;
        match response.chunk().await {
            Ok(Some(chunk)) => Some((Ok(chunk), Some(response))),
            Ok(None) => None,
            Err(error) => Some((Err(error), None)),
        }
    }))
}

fn percent_decoded(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment).decode_utf8_lossy().into_owned()
}

fn words(error: &OutboundError) -> String {
    match error {
        OutboundError::Refused { .. } => format!("not fetched: {error}"),
        OutboundError::Timeout(limit) => format!("no answer within {} seconds.", limit.as_secs()),
        OutboundError::Unresolvable { host, .. } => format!("the name {host} does not resolve."),
        other => format!("could not be fetched: {other}"),
    }
}
