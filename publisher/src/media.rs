//! Media inside a delivery's attempt: which items the delivery sends (its platform's list, checked
//! again against the platform's rules), uploading each to the platform from the media store
//! (streamed by range, never held), and remembering every upload at once so that a retry, even
//! after the worker was killed, reuses an id that has not expired instead of uploading again.
//!
//! No transaction is open while bytes move. Every call an upload makes is a step of the attempt
//! (`delivery_attempt.steps`), and the rate-limit budgets the platforms report on those calls
//! (X's media windows, Meta's usage) pause the account like the posting calls' do.

use std::ops::Range;
use std::sync::Arc;

use tokio::sync::Semaphore;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use crier_clients::{
    ByteStream, FacebookClient, LinkedInAuthor, LinkedInClient, MediaSource, MediaToUpload, PlatformError, RateBudget, Response,
    UploadOptions, UploadStep, XAuth, XClient,
};
use crier_domain::delivery::FailureClass;
use crier_domain::media_link::MediaLinks;
use crier_domain::post::MediaRules;
use crier_domain::store::deliveries::{self, AttemptStep, Claimed, DeliveryMedia, MediaBudgetSpent};
use crier_media::Attachment;
use crier_media::storage::{MediaKey, MediaStore};
use futures_util::TryStreamExt;
use secrecy::SecretString;

use crate::attempt::Outcome;
use crate::engine::Context;

/// What the engine needs for media: where the bytes are, the rules, how uploads behave, and how
/// to make a link a platform fetches a file by.
#[derive(Clone)]
pub struct MediaSettings {
    /// The media store (the same the web processes write to).
    pub store: MediaStore,
    /// Each platform's rules (CRIER_*_MEDIA_LIMITS), checked again before anything is uploaded.
    pub rules: MediaRules,
    /// Chunk sizes, retries, how long processing may take.
    pub upload: UploadOptions,
    /// Signs links to media (Facebook fetches a video by URL).
    pub links: Arc<MediaLinks>,
    /// Where platforms reach Crier (CRIER_PUBLIC_URL), for those links; `None`: not configured.
    pub public_base: Option<String>,
    /// The media bytes the process's uploads may hold at once.
    pub upload_memory: Arc<UploadMemory>,
    /// How a Facebook Page video gets to Meta.
    pub facebook_video: FacebookVideoRoute,
}

/// How a Facebook Page video gets to Meta (CRIER_FACEBOOK_VIDEO_UPLOAD).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FacebookVideoRoute {
    /// The worker sends the bytes in chunks with the Page token (the Page's `upload_phase`
    /// upload): works wherever the worker can reach Meta. The default.
    #[default]
    Upload,
    /// Meta fetches the file from a signed link to Crier (`file_url`): one call and no upload
    /// traffic from the worker, but Crier must be reachable from the internet at CRIER_PUBLIC_URL.
    Link,
}

impl FacebookVideoRoute {
    /// `upload` or `link`.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "upload" => Ok(FacebookVideoRoute::Upload),
            "link" => Ok(FacebookVideoRoute::Link),
            other => {
                Err(format!("is `{other}`; use `upload` (the worker sends the bytes) or `link` (Meta fetches them from CRIER_PUBLIC_URL)"))
            }
        }
    }

    /// As [`FacebookVideoRoute::parse`] reads it.
    pub fn as_str(self) -> &'static str {
        match self {
            FacebookVideoRoute::Upload => "upload",
            FacebookVideoRoute::Link => "link",
        }
    }
}

/// The unit the upload memory is counted in.
const MEMORY_UNIT: u64 = 256 * 1024;

/// How many bytes of media a worker's uploads may have read and not yet sent, all together: 16 MiB.
/// Each upload holds up to a piece of its file (a small image whole, a video a chunk at a time)
/// about twice over while it is sent; without a bound, 128 publishes in flight with a
/// megabyte-sized photo each would take a worker far past 100 MB.
pub const DEFAULT_UPLOAD_MEMORY: u64 = 16 * 1024 * 1024;

/// The media bytes a process's uploads may hold at once, counted in 256 KiB units.
#[derive(Debug)]
pub struct UploadMemory {
    units: Semaphore,
    total: u32,
}

impl UploadMemory {
    /// Room for `bytes` of media in flight.
    pub fn new(bytes: u64) -> Arc<Self> {
        let total = u32::try_from(bytes.div_ceil(MEMORY_UNIT).max(1)).unwrap_or(u32::MAX).min(Semaphore::MAX_PERMITS as u32);
        Arc::new(UploadMemory { units: Semaphore::new(total as usize), total })
    }

    /// Waits until a piece of `piece_bytes` fits (a piece larger than the whole still goes, alone).
    async fn room_for(&self, piece_bytes: u64) -> tokio::sync::SemaphorePermit<'_> {
        let units = u32::try_from(piece_bytes.div_ceil(MEMORY_UNIT).max(1)).unwrap_or(u32::MAX).min(self.total);
        self.units.acquire_many(units).await.expect("the upload memory is never closed")
    }
}

impl std::fmt::Debug for MediaSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaSettings")
            .field("store", &self.store)
            .field("public_base", &self.public_base)
            .field("facebook_video", &self.facebook_video)
            .finish_non_exhaustive()
    }
}

/// How long before an uploaded id's expiry it is no longer reused (the post call must land
/// before the platform forgets it).
const REUSE_MARGIN: TimeDelta = TimeDelta::minutes(10);

/// A media item's bytes in the store, read by range.
struct StoreSource {
    store: MediaStore,
    key: MediaKey,
}

#[async_trait]
impl MediaSource for StoreSource {
    async fn read_range(&self, range: Range<u64>) -> std::io::Result<ByteStream> {
        let stream = self.store.stream_range(&self.key, range).await.map_err(std::io::Error::other)?;
        Ok(Box::pin(stream.map_err(std::io::Error::other)))
    }
}

/// The media the claimed delivery sends, checked: every item still in the library and within the
/// platform's rules (the limits may have changed since the post was scheduled). `Err` is the
/// outcome to record instead of publishing.
pub(crate) async fn of(ctx: &Context, claimed: &Claimed) -> Result<Vec<DeliveryMedia>, Outcome> {
    if !claimed.has_media {
        return Ok(Vec::new());
    }
    let media = deliveries::media_of(&ctx.pool, claimed).await.map_err(|e| {
        tracing::error!(error = %e, delivery_id = %claimed.delivery_id, "could not read the delivery's media");
        Outcome::Temporary {
            error: PlatformError::new(
                claimed.platform,
                crier_clients::ErrorClass::Temporary,
                None,
                None,
                "The post's media could not be read.",
            ),
            ambiguous: false,
        }
    })?;
    if let Some(gone) = media.iter().find(|m| m.deleted) {
        return Err(invalid(format!(
            "“{}” was deleted from the media library after this post was scheduled. Attach it again.",
            gone.file_name
        )));
    }
    let items = media.iter().map(|m| m.item).max().unwrap_or(0);
    let mut problems = Vec::new();
    for item in 0..=items {
        let attachments: Vec<Attachment> =
            media.iter().filter(|m| m.item == item).map(|m| Attachment { facts: &m.facts, alt_text: &m.alt_text }).collect();
        if attachments.is_empty() {
            continue;
        }
        let found = crier_media::check(claimed.platform, &attachments, &ctx.media.rules.0[claimed.platform]);
        problems.extend(found.iter().filter(|p| p.blocks()).map(ToString::to_string));
    }
    if !problems.is_empty() {
        return Err(invalid(format!("{}.", problems.join(". "))));
    }
    Ok(media)
}

fn invalid(message: String) -> Outcome {
    Outcome::Permanent { class: FailureClass::Validation, code: None, message }
}

/// Why an item was not uploaded.
#[derive(Debug)]
pub(crate) enum UploadFailed {
    /// The platform refused it, or could not be reached.
    Platform(PlatformError),
    /// Crier's media budget for the account has no room for it before `until`.
    OverBudget { until: DateTime<Utc>, message: String },
}

impl From<PlatformError> for UploadFailed {
    fn from(error: PlatformError) -> Self {
        UploadFailed::Platform(error)
    }
}

/// Who uploads, with which credentials.
pub(crate) enum Uploader<'a> {
    /// X, as the account.
    X(&'a XClient, &'a XAuth),
    /// LinkedIn, for the author.
    Linkedin(&'a LinkedInClient, &'a SecretString, &'a LinkedInAuthor),
    /// A Facebook Page's photos, uploaded unpublished.
    FacebookPhotos(&'a FacebookClient, &'a str, &'a SecretString),
}

/// One attempt's uploads: the ids so far and every call made.
pub(crate) struct Uploads<'a> {
    ctx: &'a Context,
    claimed: &'a Claimed,
    /// What this attempt uploaded: (item, position) and the platform's id.
    done: Vec<((i16, i16), String)>,
    /// Earlier attempts' uploads of this item and after are not to be reused (the platform
    /// refused them).
    forgotten_from: Option<i16>,
    /// Every call, uploads and the post, in order.
    steps: Vec<AttemptStep>,
    /// The tightest budget the calls reported.
    budget: Option<RateBudget>,
}

impl<'a> Uploads<'a> {
    pub(crate) fn new(ctx: &'a Context, claimed: &'a Claimed) -> Self {
        Uploads { ctx, claimed, done: Vec::new(), forgotten_from: None, steps: Vec::new(), budget: None }
    }

    /// The calls made and the tightest budget they reported.
    pub(crate) fn into_parts(self) -> (Vec<AttemptStep>, Option<RateBudget>) {
        (self.steps, self.budget)
    }

    /// Records calls a client made on the attempt's behalf.
    pub(crate) fn record(&mut self, steps: &[UploadStep]) {
        for step in steps {
            self.steps.push(AttemptStep { step: step.step.clone(), http_status: step.http_status, duration_ms: step.duration_ms });
            self.budget = tighter(self.budget, step.budget);
        }
    }

    /// Records a call of the attempt's own (the post).
    pub(crate) fn step(&mut self, step: &str, http_status: Option<u16>, took: std::time::Duration, budget: Option<RateBudget>) {
        self.steps.push(AttemptStep {
            step: step.to_owned(),
            http_status,
            duration_ms: u64::try_from(took.as_millis()).unwrap_or(u64::MAX),
        });
        self.budget = tighter(self.budget, budget);
    }

    /// Records a call of the attempt's own by its answer (201 when it succeeded).
    pub(crate) fn answered<T>(&mut self, step: &str, response: &Response<T>, took: std::time::Duration) {
        self.step(step, response.value.as_ref().map_or_else(|e| e.status, |_| Some(201)), took, response.budget);
    }

    /// The platform's ids of `media` (one item's list, in order): an earlier upload's while it
    /// has not expired, else uploaded now and remembered at once.
    pub(crate) async fn ids(&mut self, uploader: &Uploader<'_>, media: &[&DeliveryMedia]) -> Result<Vec<String>, UploadFailed> {
        let mut ids = Vec::with_capacity(media.len());
        let fresh_until = Utc::now() + REUSE_MARGIN;
        for item in media {
            if let Some((_, id)) = self.done.iter().find(|(at, _)| *at == (item.item, item.position)) {
                ids.push(id.clone());
                continue;
            }
            if let Some((id, expires)) = &item.uploaded
                && self.forgotten_from.is_none_or(|from| item.item < from)
                && expires.is_none_or(|at| at > fresh_until)
            {
                ids.push(id.clone());
                continue;
            }
            let upload = self.to_upload(item);
            let options = &self.ctx.media.upload;
            self.spend_budget(&upload).await?;
            let _in_flight = self.room_for(&upload).await;
            let uploaded = match uploader {
                Uploader::X(client, auth) => client.upload_media(auth, &upload, options).await,
                Uploader::Linkedin(client, token, author) => client.upload_media(token, author, &upload, options).await,
                Uploader::FacebookPhotos(client, page, token) => client.upload_photo(page, token, &upload, options).await,
            };
            self.record(&uploaded.steps);
            let uploaded = uploaded.value?;
            // Remembered before anything else happens: a crash from here on reuses it.
            self.remember(item, &uploaded.platform_media_id, uploaded.expires_at).await;
            ids.push(uploaded.platform_media_id);
        }
        Ok(ids)
    }

    /// The item as a client uploads it: its facts, and its bytes read from the store by range.
    pub(crate) fn to_upload(&self, item: &DeliveryMedia) -> MediaToUpload {
        MediaToUpload {
            kind: item.facts.kind(),
            content_type: item.facts.content_type,
            byte_size: item.facts.byte_size,
            file_name: item.file_name.clone(),
            alt_text: (!item.alt_text.is_empty()).then(|| item.alt_text.clone()),
            source: Arc::new(StoreSource {
                store: self.ctx.media.store.clone(),
                key: MediaKey::original(self.claimed.team_id, item.media_id),
            }),
        }
    }

    /// Waits while other uploads hold the process's media memory; the permit is the room for a
    /// piece of `media` (the whole of a small one, a chunk of a large one).
    pub(crate) async fn room_for(&self, media: &MediaToUpload) -> tokio::sync::SemaphorePermit<'a> {
        self.ctx.media.upload_memory.room_for(media.byte_size.min(self.ctx.media.upload.chunk_bytes)).await
    }

    /// Spends the calls uploading `media` will make from the account's media budget
    /// (CRIER_*_MEDIA_BUDGET), before the first of them. No room: the post waits for the window
    /// (an item the window cannot hold goes alone in a fresh one). A budget that cannot be read
    /// does not stop the upload: the platform's own limits still answer.
    pub(crate) async fn spend_budget(&mut self, media: &MediaToUpload) -> Result<(), UploadFailed> {
        let platform = self.claimed.platform;
        let Some(budget) = self.ctx.config.media_budgets[platform] else { return Ok(()) };
        let calls = i32::try_from(media.upload_calls(platform, &self.ctx.media.upload)).unwrap_or(i32::MAX);
        let spent = deliveries::spend_media_budget(&self.ctx.pool, self.claimed.team_id, self.claimed.account_id, calls, budget).await;
        match spent {
            Ok(MediaBudgetSpent::Granted) => Ok(()),
            Ok(MediaBudgetSpent::WaitUntil(until)) => Err(UploadFailed::OverBudget {
                until,
                message: format!(
                    "The media upload budget of the {} account “{}” ({budget} calls per window) has no room for “{}” ({calls} calls); \
                     the post goes out when the window ends.",
                    platform.label(),
                    self.claimed.account_name,
                    media.file_name,
                ),
            }),
            Err(e) => {
                tracing::warn!(error = %e, delivery_id = %self.claimed.delivery_id, "the media budget could not be spent; uploading all the same");
                Ok(())
            }
        }
    }

    /// Remembers what the platform calls `media` (the delivery's record of what went out, and
    /// an id a retry reuses).
    pub(crate) async fn remember(&mut self, media: &DeliveryMedia, platform_media_id: &str, expires_at: Option<DateTime<Utc>>) {
        self.done.push(((media.item, media.position), platform_media_id.to_owned()));
        if let Err(e) = deliveries::record_upload(&self.ctx.pool, self.claimed.delivery_id, media, platform_media_id, expires_at).await {
            tracing::warn!(error = %e, delivery_id = %self.claimed.delivery_id, "an upload could not be remembered; a retry uploads it again");
        }
    }

    /// Forgets the uploads of item `from` and after (X thread parts not yet out; 0 for the others'
    /// single post): the platform refused their ids (expired, or already used).
    pub(crate) async fn forget(&mut self, from: i16) {
        self.done.retain(|((item, _), _)| *item < from);
        self.forgotten_from = Some(self.forgotten_from.map_or(from, |f| f.min(from)));
        if let Err(e) = deliveries::forget_uploads(&self.ctx.pool, self.claimed.delivery_id, from).await {
            tracing::warn!(error = %e, delivery_id = %self.claimed.delivery_id, "could not forget refused uploads");
        }
    }
}

/// The tighter of two budgets, either of which may be unknown.
pub(crate) fn tighter(a: Option<RateBudget>, b: Option<RateBudget>) -> Option<RateBudget> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.tighter(b)),
        (a, b) => a.or(b),
    }
}

/// One item's media (0: the post, N: reply N), in order.
pub(crate) fn of_item(media: &[DeliveryMedia], item: usize) -> Vec<&DeliveryMedia> {
    media.iter().filter(|m| m.item as usize == item).collect()
}

/// A link the platform fetches the item's bytes by, valid for an hour; `Err`: CRIER_PUBLIC_URL is
/// not set, so no platform can reach Crier.
pub(crate) fn link(ctx: &Context, claimed: &Claimed, media: &DeliveryMedia) -> Result<String, Outcome> {
    let Some(base) = &ctx.media.public_base else {
        return Err(Outcome::Permanent {
            class: FailureClass::Configuration,
            code: None,
            message: format!(
                "{} fetches videos from Crier, which needs CRIER_PUBLIC_URL (the address the platform reaches Crier at) on the workers.",
                claimed.platform.label()
            ),
        });
    };
    let expires = Utc::now() + crier_domain::media_link::DEFAULT_LIFETIME;
    Ok(format!("{}{}", base.trim_end_matches('/'), ctx.media.links.path(claimed.team_id, media.media_id, expires)))
}
