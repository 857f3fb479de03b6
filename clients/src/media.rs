//! Uploading media inside a delivery attempt: what the engine hands a client ([`MediaToUpload`],
//! whose bytes come from a [`MediaSource`]), what it gets back ([`Upload`]: the platform's media
//! id and when it expires, or the classified error, and every call made as an [`UploadStep`]), and
//! how long the client may wait ([`UploadOptions`]).
//!
//! Memory stays bounded whatever the file's size: the client never reads a whole file. It asks the
//! source for one byte range at a time (an X APPEND segment, a LinkedIn part, a Facebook chunk, or
//! for single-request uploads the whole file as one stream) and streams it into the request body;
//! the largest range it asks for is [`UploadOptions::chunk_bytes`] for X and Facebook, LinkedIn's
//! own part size for LinkedIn videos, and the whole file only for uploads that are one request by
//! the platform's design (X one-shot images, LinkedIn images and documents, Facebook photos), which
//! are still streamed, never buffered.
//!
//! Errors are [`PlatformError`]s classified as the other calls are: a refused format, a file too
//! large or a failed processing is `Permanent` with the platform's reason; 5xx, timeouts and
//! processing that outlasts [`UploadOptions::max_processing_wait`] are `Temporary`; a 429 is
//! `RateLimited` with its reset. A chunk or part that fails with a 5xx or no answer is sent again
//! up to [`UploadOptions::chunk_retries`] times within the upload (appends and part PUTs are
//! idempotent by index or range; Facebook's resumable session says where to resume, and a chunk of
//! its chunked upload is sent again from the same offset) before the upload gives up. A post that
//! names a media id the platform no longer takes is recognised by
//! [`PlatformError::is_media_expired`] (see `crier_protocol::media`).

use std::fmt;
use std::future::Future;
use std::ops::Range;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, TimeDelta, Utc};
use crier_media::{ContentType, MediaKind};
use crier_platform::Platform;
use crier_protocol::{PlatformError, RateBudget};
use futures_util::{Stream, StreamExt, stream};

use crate::transport::{Classify, Raw, Transport};

/// A stream of a media item's bytes.
pub type ByteStream = Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send + 'static>>;

/// Where a media item's bytes come from: the engine backs it with its object store (`get_range`),
/// tests with a file or bytes in memory. Ranges are half-open (`start..end`) and within the item.
#[async_trait]
pub trait MediaSource: Send + Sync {
    /// The bytes `range` of the item, as a stream.
    async fn read_range(&self, range: Range<u64>) -> std::io::Result<ByteStream>;
}

/// Bytes already in memory (small items, tests).
#[derive(Clone, Debug)]
pub struct BytesSource(pub Bytes);

#[async_trait]
impl MediaSource for BytesSource {
    async fn read_range(&self, range: Range<u64>) -> std::io::Result<ByteStream> {
        let (start, end) = (range.start as usize, range.end as usize);
        if start > end || end > self.0.len() {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "range outside the item"));
        }
        let chunk = self.0.slice(start..end);
        Ok(Box::pin(stream::iter([Ok(chunk)])))
    }
}

/// One media item to upload.
#[derive(Clone)]
pub struct MediaToUpload {
    /// Image, GIF, video or document: decides the platform's flow.
    pub kind: MediaKind,
    /// The sniffed type, sent as the item's MIME type.
    pub content_type: ContentType,
    /// The exact size: platforms that take it up front (X `total_bytes`, LinkedIn `fileSizeBytes`,
    /// Facebook `file_length`) check it against what arrives.
    pub byte_size: u64,
    /// The name given to platforms that want one (multipart file names, Facebook `file_name`).
    pub file_name: String,
    /// Alt text: X media metadata (images and GIFs), Facebook `alt_text_custom`; for LinkedIn it
    /// goes in the post ([`crate::LinkedInMedia`]).
    pub alt_text: Option<String>,
    /// The bytes.
    pub source: Arc<dyn MediaSource>,
}

impl MediaToUpload {
    /// How many calls uploading this item to `platform` makes, retries and status polls aside:
    /// what Crier's media budget counts before the upload starts. X: one-shot (images), or
    /// initialize, one APPEND per [`UploadOptions::chunk_bytes`] and finalize (GIFs, videos), plus
    /// the alt-text call on images and GIFs. LinkedIn: initialize and one PUT (images, documents),
    /// or initialize, a part per 4 MiB and finalize (videos). Facebook: one call per photo; a video
    /// by the Page's chunked upload: start, a transfer per chunk, finish.
    pub fn upload_calls(&self, platform: Platform, options: &UploadOptions) -> u32 {
        let pieces = |piece: u64| u32::try_from(self.byte_size.div_ceil(piece.max(1)).max(1)).unwrap_or(u32::MAX);
        let calls = match (platform, self.kind) {
            (Platform::X, kind) => {
                let alt = u32::from(kind != MediaKind::Video && self.alt_text.as_deref().is_some_and(|t| !t.is_empty()));
                let upload = match crier_protocol::x::media::MediaCategory::for_kind(kind) {
                    Some(category) if category.is_chunked() => pieces(options.chunk_bytes).saturating_add(2),
                    _ => 1,
                };
                upload + alt
            }
            (Platform::Linkedin, MediaKind::Video) => pieces(crier_protocol::linkedin::media::VIDEO_PART_BYTES).saturating_add(2),
            (Platform::Linkedin, _) => 2,
            (Platform::Facebook, MediaKind::Video) => pieces(options.chunk_bytes).saturating_add(2),
            (Platform::Facebook, _) => 1,
        };
        calls.max(1)
    }
}

impl fmt::Debug for MediaToUpload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MediaToUpload")
            .field("kind", &self.kind)
            .field("content_type", &self.content_type)
            .field("byte_size", &self.byte_size)
            .field("file_name", &self.file_name)
            .field("alt_text", &self.alt_text)
            .finish_non_exhaustive()
    }
}

/// A media item the platform took.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadedMedia {
    /// What the post names: X media id, LinkedIn URN, Facebook photo id or resumable-upload handle.
    pub platform_media_id: String,
    /// Until when the id may be used, when the platform said (X `expires_after_secs`; Facebook
    /// unpublished photos: 24 hours); `None` when it did not (LinkedIn assets).
    pub expires_at: Option<DateTime<Utc>>,
}

/// One HTTP call an upload made, for the attempt's record.
#[derive(Clone, Debug, PartialEq)]
pub struct UploadStep {
    /// What it was: `initialize`, `append 3 of 75`, `finalize`, `status`, `metadata`, `upload`,
    /// `part 2 of 4`, `photo`, `session`, `transfer 1 of 3`, `resume`, `start`, `finish`, … (a
    /// retried call is recorded again, with `(retry n)`).
    pub step: String,
    /// The answer's status; `None` when there was no answer.
    pub http_status: Option<u16>,
    /// How long the call took.
    pub duration_ms: u64,
    /// The rate-limit budget the answer reported (X's media windows, Meta's usage), to count.
    pub budget: Option<RateBudget>,
}

/// An upload's outcome, with every call it made (failed ones included).
#[derive(Clone, Debug, PartialEq)]
pub struct Stepped<T> {
    /// The outcome.
    pub value: Result<T, PlatformError>,
    /// Every call, in order.
    pub steps: Vec<UploadStep>,
}

/// What a media upload came to.
pub type Upload = Stepped<UploadedMedia>;

impl<T> Stepped<T> {
    /// The tightest budget any of the calls reported (see [`RateBudget::tighter`]).
    pub fn budget(&self) -> Option<RateBudget> {
        self.steps.iter().filter_map(|s| s.budget).reduce(RateBudget::tighter)
    }

    /// The outcome alone.
    pub fn into_result(self) -> Result<T, PlatformError> {
        self.value
    }
}

/// Sleeps between status polls. The wall clock by default; a test passes one that moves a manual
/// clock instead, so processing states are walked without waiting.
pub type Sleep = Arc<dyn Fn(Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// How an upload behaves: the engine's settings.
#[derive(Clone)]
pub struct UploadOptions {
    /// The largest byte range read and sent at once: X APPEND segments and Facebook chunks.
    /// 4 MiB by default, LinkedIn's own part size (memory stays bounded by it).
    pub chunk_bytes: u64,
    /// How many times a failed chunk or part (5xx, no answer) is sent again within the upload: 2.
    pub chunk_retries: u32,
    /// The longest wait for processing (sum of the waits between status polls) before the upload
    /// is a `Temporary` failure: 10 minutes.
    pub max_processing_wait: Duration,
    /// The wait between status polls where the platform gives none (LinkedIn, Facebook): 5 s.
    pub poll_interval: Duration,
    /// One upload request's time limit (a large single PUT takes longer than an API call): 10 min.
    pub request_timeout: Duration,
    /// How the client sleeps between polls.
    pub sleep: Sleep,
}

impl fmt::Debug for UploadOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UploadOptions")
            .field("chunk_bytes", &self.chunk_bytes)
            .field("chunk_retries", &self.chunk_retries)
            .field("max_processing_wait", &self.max_processing_wait)
            .field("poll_interval", &self.poll_interval)
            .field("request_timeout", &self.request_timeout)
            .finish_non_exhaustive()
    }
}

impl Default for UploadOptions {
    fn default() -> Self {
        UploadOptions {
            chunk_bytes: 4 * 1024 * 1024,
            chunk_retries: 2,
            max_processing_wait: Duration::from_secs(600),
            poll_interval: Duration::from_secs(5),
            request_timeout: Duration::from_secs(600),
            sleep: Arc::new(|d| Box::pin(tokio::time::sleep(d))),
        }
    }
}

/// The byte ranges of `size` bytes in pieces of at most `piece` bytes (at least one range, even
/// for an empty item).
pub(crate) fn ranges(size: u64, piece: u64) -> Vec<Range<u64>> {
    let piece = piece.max(1);
    let mut out = Vec::new();
    let mut start = 0;
    while start < size {
        let end = (start + piece).min(size);
        out.push(start..end);
        start = end;
    }
    if out.is_empty() {
        out.push(0..0);
    }
    out
}

/// Records the calls of one upload.
pub(crate) struct Steps {
    pub(crate) steps: Vec<UploadStep>,
}

impl Steps {
    pub(crate) fn new() -> Self {
        Steps { steps: Vec::new() }
    }

    /// Times `call` and records it under `name`: its status, duration and budget.
    pub(crate) async fn record<T>(
        &mut self,
        name: impl Into<String>,
        call: impl Future<Output = (Option<u16>, Option<RateBudget>, T)>,
    ) -> T {
        let started = Instant::now();
        let (http_status, budget, value) = call.await;
        let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.steps.push(UploadStep { step: name.into(), http_status, duration_ms, budget });
        value
    }

    pub(crate) fn done<T>(self, value: Result<T, PlatformError>) -> Stepped<T> {
        Stepped { value, steps: self.steps }
    }
}

/// A streamed `multipart/form-data` body: text fields, then one file field whose bytes come from
/// `file`, with an exact `Content-Length`.
pub(crate) struct Multipart {
    pub(crate) content_type: String,
    pub(crate) length: u64,
    pub(crate) body: reqwest::Body,
}

impl Multipart {
    pub(crate) fn new(fields: &[(&str, &str)], file_field: &str, file_name: &str, mime: &str, file: ByteStream, file_len: u64) -> Self {
        let mut boundary = [0u8; 16];
        getrandom::fill(&mut boundary).expect("the OS random source failed");
        let boundary: String = format!("crier-{}", boundary.iter().map(|b| format!("{b:02x}")).collect::<String>());
        let mut head = String::new();
        for (name, value) in fields {
            head.push_str(&format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"));
        }
        let file_name: String = file_name.chars().filter(|c| !matches!(c, '"' | '\r' | '\n' | '\\')).collect();
        head.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{file_field}\"; filename=\"{file_name}\"\r\nContent-Type: {mime}\r\n\r\n"
        ));
        let tail = format!("\r\n--{boundary}--\r\n");
        let length = head.len() as u64 + file_len + tail.len() as u64;
        let parts =
            stream::once(async move { Ok(Bytes::from(head)) }).chain(file).chain(stream::once(async move { Ok(Bytes::from(tail)) }));
        Multipart { content_type: format!("multipart/form-data; boundary={boundary}"), length, body: reqwest::Body::wrap_stream(parts) }
    }

    /// `request` with this body, its type and its exact length.
    pub(crate) fn attach(self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        request
            .header(reqwest::header::CONTENT_TYPE, self.content_type)
            .header(reqwest::header::CONTENT_LENGTH, self.length)
            .body(self.body)
    }
}

/// The item's bytes `range` as a request body, or a `Temporary` error when the source fails.
pub(crate) async fn read(
    media: &MediaToUpload,
    range: Range<u64>,
    platform: crier_platform::Platform,
) -> Result<ByteStream, PlatformError> {
    media.source.read_range(range.clone()).await.map_err(|e| {
        PlatformError::new(
            platform,
            crier_protocol::ErrorClass::Temporary,
            None,
            None,
            format!("reading bytes {}..{} of {} failed: {e}", range.start, range.end, media.file_name),
        )
    })
}

/// Waiting out processing: each wait between status polls goes through [`Waiting::sleep`], which
/// refuses (`Temporary`, naming the last state) once the waits would pass
/// [`UploadOptions::max_processing_wait`]. Measured on the client's clock, so a test whose sleep
/// moves a manual clock reaches the cap without waiting.
pub(crate) struct Waiting {
    started: DateTime<Utc>,
    cap: TimeDelta,
}

impl Waiting {
    pub(crate) fn start(options: &UploadOptions, now: DateTime<Utc>) -> Self {
        Waiting { started: now, cap: TimeDelta::from_std(options.max_processing_wait).unwrap_or(TimeDelta::MAX) }
    }

    /// Sleeps `wait` before the next poll, unless that would pass the cap.
    pub(crate) async fn sleep(
        &self,
        options: &UploadOptions,
        wait: Duration,
        now: DateTime<Utc>,
        platform: crier_platform::Platform,
        last_state: &str,
    ) -> Result<(), PlatformError> {
        let waited = now - self.started;
        if waited + TimeDelta::from_std(wait).unwrap_or(TimeDelta::MAX) > self.cap {
            return Err(crier_protocol::media::processing_timeout(platform, waited.num_seconds().max(0) as u64, last_state));
        }
        (options.sleep)(wait).await;
        Ok(())
    }
}

/// A platform's reading of rate-limit headers.
pub(crate) type BudgetOf = fn(&reqwest::header::HeaderMap, DateTime<Utc>) -> Option<RateBudget>;

/// Sends one upload call, recorded as `name`: `build` makes the request (again for a retry, since
/// a streamed body is spent), `classify` reads a refusal. A `Temporary` failure (5xx, no answer)
/// is tried again up to `retries` times, each recorded as `name (retry n)`; anything else ends it.
pub(crate) async fn send_retrying<F, Fut>(
    transport: &Transport,
    steps: &mut Steps,
    name: &str,
    retries: u32,
    budget: BudgetOf,
    classify: Classify,
    mut build: F,
) -> Result<Raw, PlatformError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<reqwest::RequestBuilder, PlatformError>>,
{
    let mut tries = 0;
    loop {
        let label = if tries == 0 { name.to_owned() } else { format!("{name} (retry {tries})") };
        let request = build().await?;
        let outcome = steps
            .record(label, async {
                let raw = transport.send(request).await;
                let status = raw.as_ref().ok().map(|r| r.status);
                let budget = raw.as_ref().ok().and_then(|r| budget(&r.headers, transport.now()));
                (status, budget, raw)
            })
            .await;
        let error = match outcome {
            Ok(raw) if raw.is_success() => return Ok(raw),
            Ok(raw) => classify(raw.status, &raw.headers, &raw.body, transport.now()),
            Err(error) => error,
        };
        if error.class != crier_protocol::ErrorClass::Temporary || tries >= retries {
            return Err(error);
        }
        tries += 1;
    }
}

/// A JSON answer read as `T`, or the 2xx-but-unreadable error.
pub(crate) fn parse<T: serde::de::DeserializeOwned>(transport: &Transport, raw: &Raw, what: &str) -> Result<T, PlatformError> {
    serde_json::from_slice(&raw.body).map_err(|_| transport.unreadable(raw, what))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_cover_the_item() {
        assert_eq!(ranges(10, 4), vec![0..4, 4..8, 8..10]);
        assert_eq!(ranges(8, 4), vec![0..4, 4..8]);
        assert_eq!(ranges(0, 4), vec![0..0]);
    }

    #[test]
    fn upload_calls_count_each_flows_calls() {
        let item = |kind, content_type, byte_size: u64, alt: &str| MediaToUpload {
            kind,
            content_type,
            byte_size,
            file_name: "f".into(),
            alt_text: Some(alt.to_owned()),
            source: Arc::new(BytesSource(Bytes::new())),
        };
        let options = UploadOptions { chunk_bytes: 1000, ..UploadOptions::default() };
        let photo = item(MediaKind::Image, ContentType::Jpeg, 500, "A beach");
        let bare = item(MediaKind::Image, ContentType::Png, 500, "");
        let video = item(MediaKind::Video, ContentType::Mp4, 2500, "A launch");
        assert_eq!(photo.upload_calls(Platform::X, &options), 2, "upload and alt text");
        assert_eq!(bare.upload_calls(Platform::X, &options), 1);
        assert_eq!(video.upload_calls(Platform::X, &options), 5, "initialize, 3 appends, finalize; no alt text on video");
        assert_eq!(photo.upload_calls(Platform::Linkedin, &options), 2, "initialize and PUT");
        assert_eq!(video.upload_calls(Platform::Linkedin, &options), 3, "one 4 MiB part");
        assert_eq!(photo.upload_calls(Platform::Facebook, &options), 1);
        assert_eq!(video.upload_calls(Platform::Facebook, &options), 5, "start, 3 transfers, finish");
    }

    #[tokio::test]
    async fn bytes_source_reads_ranges() {
        let source = BytesSource(Bytes::from_static(b"abcdef"));
        let mut s = source.read_range(1..4).await.unwrap();
        assert_eq!(s.next().await.unwrap().unwrap(), Bytes::from_static(b"bcd"));
        assert!(source.read_range(4..9).await.is_err());
    }
}
