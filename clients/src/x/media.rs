//! X media (media-and-metrics.md §1): images in one multipart request, GIFs and videos chunked
//! (initialize, APPEND per [`UploadOptions::chunk_bytes`] segment streamed from the source,
//! finalize), STATUS polls only when finalize returned `processing_info` (a STATUS on media
//! without it is a 400, §1.2), honouring `check_after_secs`, then alt text through media metadata
//! (images and GIFs; X takes none on video). Posts name the ids in `media.media_ids`, on any post
//! of a thread.

use std::time::Duration;

use chrono::TimeDelta;
use crier_platform::Platform;
use crier_protocol::x::media::{
    self as protocol, AppendResponse, InitializeRequest, MediaCategory, MediaData, MediaResponse, MetadataRequest, PostMedia, Processing,
};
use crier_protocol::{ErrorClass, PlatformError, Published};
use reqwest::Method;
use serde_json::json;

use super::{ThreadFailure, ThreadOutcome, XAuth, XClient, budget};
use crate::Response;
use crate::media::{MediaToUpload, Multipart, Steps, Upload, UploadOptions, UploadedMedia, Waiting, parse, ranges, read, send_retrying};

/// A post with media: its text, 1–4 media ids from [`XClient::upload_media`] (4 images, or one
/// GIF, or one video), and the post it replies to (threads).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct XPost {
    /// The text (may be empty when there is media).
    pub text: String,
    /// Media ids, in the order they are shown.
    pub media_ids: Vec<String>,
    /// The post this one replies to.
    pub in_reply_to: Option<String>,
}

impl XClient {
    /// A POST of a streamed multipart body, with the upload time limit.
    fn multipart(&self, url: url::Url, auth: &XAuth, form: Multipart, options: &UploadOptions) -> reqwest::RequestBuilder {
        form.attach(self.authorized(Method::POST, url, auth).timeout(options.request_timeout))
    }

    /// Uploads one media item for a post (§1.1–§1.3) and waits for X to process it. The answer's
    /// id goes in [`XPost::media_ids`] until [`UploadedMedia::expires_at`]; documents are refused
    /// (`Permanent`) without a call. See [`crate::media`] for the errors and the steps recorded.
    pub async fn upload_media(&self, auth: &XAuth, media: &MediaToUpload, options: &UploadOptions) -> Upload {
        let mut steps = Steps::new();
        let value = self.upload_steps(auth, media, options, &mut steps).await;
        steps.done(value)
    }

    async fn upload_steps(
        &self,
        auth: &XAuth,
        media: &MediaToUpload,
        options: &UploadOptions,
        steps: &mut Steps,
    ) -> Result<UploadedMedia, PlatformError> {
        let transport = &self.inner.transport;
        let Some(category) = MediaCategory::for_kind(media.kind) else {
            return Err(transport.permanent(None, format!("X takes images, GIFs and videos, not a {}", media.kind.label())));
        };
        let mut data = if category.is_chunked() {
            self.chunked(auth, media, category, options, steps).await?
        } else {
            self.one_shot(auth, media, category, options, steps).await?
        };
        let mut expires_at = data.expires_after_secs.map(|s| transport.now() + TimeDelta::seconds(s as i64));
        let waiting = Waiting::start(options, transport.now());
        loop {
            match data.processing() {
                Processing::Ready => break,
                Processing::Failed(e) => return Err(e),
                Processing::Wait { check_after_secs, state } => {
                    waiting.sleep(options, Duration::from_secs(check_after_secs), transport.now(), Platform::X, state.as_str()).await?;
                    let mut url = self.api_url(protocol::UPLOAD_PATH);
                    url.query_pairs_mut().append_pair("command", "STATUS").append_pair("media_id", &data.id);
                    let raw =
                        send_retrying(transport, steps, "status", options.chunk_retries, budget, protocol::classify_media_error, || {
                            let request = self.authorized(Method::GET, url.clone(), auth);
                            async move { Ok(request) }
                        })
                        .await?;
                    let status: MediaResponse = parse(transport, &raw, "a media status")?;
                    data = status.data;
                    expires_at = data.expires_after_secs.map(|s| transport.now() + TimeDelta::seconds(s as i64)).or(expires_at);
                }
            }
        }
        if let Some(alt_text) = media.alt_text.as_deref().filter(|t| !t.is_empty()) {
            if category == MediaCategory::TweetVideo {
                // X: alt text "can only be added to images at the moment" (§1.3): not sent.
            } else {
                let url = self.api_url(protocol::METADATA_PATH);
                let body = serde_json::to_value(MetadataRequest::alt_text(&data.id, alt_text)).expect("serializable");
                send_retrying(transport, steps, "metadata", options.chunk_retries, budget, protocol::classify_media_error, || {
                    let request = self.authorized(Method::POST, url.clone(), auth).json(&body);
                    async move { Ok(request) }
                })
                .await?;
            }
        }
        Ok(UploadedMedia { platform_media_id: data.id, expires_at })
    }

    /// `POST /2/media/upload`: the whole file, streamed as the multipart `media` field.
    async fn one_shot(
        &self,
        auth: &XAuth,
        media: &MediaToUpload,
        category: MediaCategory,
        options: &UploadOptions,
        steps: &mut Steps,
    ) -> Result<MediaData, PlatformError> {
        let transport = &self.inner.transport;
        let url = self.api_url(protocol::UPLOAD_PATH);
        let raw = send_retrying(transport, steps, "upload", options.chunk_retries, budget, protocol::classify_media_error, || async {
            let bytes = read(media, 0..media.byte_size, Platform::X).await?;
            let form = Multipart::new(
                &[("media_category", category.as_str())],
                "media",
                &media.file_name,
                media.content_type.mime(),
                bytes,
                media.byte_size,
            );
            Ok(self.multipart(url.clone(), auth, form, options))
        })
        .await?;
        Ok(parse::<MediaResponse>(transport, &raw, "a media upload")?.data)
    }

    /// Initialize, one APPEND per chunk (each streamed from its byte range), finalize.
    async fn chunked(
        &self,
        auth: &XAuth,
        media: &MediaToUpload,
        category: MediaCategory,
        options: &UploadOptions,
        steps: &mut Steps,
    ) -> Result<MediaData, PlatformError> {
        let transport = &self.inner.transport;
        let chunks = ranges(media.byte_size, options.chunk_bytes);
        if chunks.len() as u64 > protocol::MAX_SEGMENTS {
            let message = format!(
                "{} bytes in {}-byte segments is more than X's 1,000 segments: raise chunk_bytes",
                media.byte_size, options.chunk_bytes
            );
            return Err(transport.permanent(None, message));
        }
        let init =
            InitializeRequest { media_type: media.content_type.mime().to_owned(), total_bytes: media.byte_size, media_category: category };
        let body = serde_json::to_value(&init).expect("serializable");
        let url = self.api_url(protocol::INITIALIZE_PATH);
        let raw = send_retrying(transport, steps, "initialize", options.chunk_retries, budget, protocol::classify_media_error, || {
            let request = self.authorized(Method::POST, url.clone(), auth).json(&body);
            async move { Ok(request) }
        })
        .await?;
        let id = parse::<MediaResponse>(transport, &raw, "an initialized upload")?.data.id;
        let append_url = self.api_url(&protocol::append_path(&crate::transport::encode_segment(&id)));
        let total = chunks.len();
        for (index, range) in chunks.into_iter().enumerate() {
            let name = format!("append {} of {total}", index + 1);
            let segment = index.to_string();
            let raw = send_retrying(transport, steps, &name, options.chunk_retries, budget, protocol::classify_media_error, || async {
                let bytes = read(media, range.clone(), Platform::X).await?;
                let form = Multipart::new(
                    &[("segment_index", &segment)],
                    "media",
                    &media.file_name,
                    "application/octet-stream",
                    bytes,
                    range.end - range.start,
                );
                Ok(self.multipart(append_url.clone(), auth, form, options))
            })
            .await?;
            // The append answer's body was never observed (§1.2): read it if it is there.
            let _: AppendResponse = serde_json::from_slice(&raw.body).unwrap_or_default();
        }
        let url = self.api_url(&protocol::finalize_path(&crate::transport::encode_segment(&id)));
        let raw = send_retrying(transport, steps, "finalize", options.chunk_retries, budget, protocol::classify_media_error, || {
            // `{}`: an empty body is refused with "Request body must be a JSON object." (§1.1).
            let request = self.authorized(Method::POST, url.clone(), auth).json(&json!({}));
            async move { Ok(request) }
        })
        .await?;
        Ok(parse::<MediaResponse>(transport, &raw, "a finalized upload")?.data)
    }

    /// Publishes a post with media (and optionally as a reply) (`POST /2/tweets`, §1.2, §1.3). A
    /// refused media id (expired, unknown, not processed) is `Temporary` with
    /// [`PlatformError::is_media_expired`]: upload again, then post.
    pub async fn publish_post(&self, auth: &XAuth, post: &XPost) -> Response<Published> {
        if post.media_ids.len() > protocol::MAX_MEDIA_PER_POST {
            let e = PlatformError::new(Platform::X, ErrorClass::Permanent, None, None, "X takes at most 4 media ids on a post");
            return Response { value: Err(e), budget: None };
        }
        let mut body = json!({ "text": post.text });
        if !post.media_ids.is_empty() {
            body["media"] = serde_json::to_value(PostMedia { media_ids: post.media_ids.clone() }).expect("serializable");
        }
        if let Some(id) = &post.in_reply_to {
            body["reply"] = json!({ "in_reply_to_tweet_id": id });
        }
        self.create(auth, body).await
    }

    /// Publishes `posts` as a thread, each with its own media: each replies to the one before (the
    /// first to `in_reply_to` when given; the posts' own `in_reply_to` is ignored). Stops at the
    /// first failure, which names the post's index.
    pub async fn publish_thread_posts(&self, auth: &XAuth, posts: &[XPost], in_reply_to: Option<&str>) -> ThreadOutcome {
        let mut outcome = ThreadOutcome { published: Vec::new(), failure: None, budget: None };
        let mut previous = in_reply_to.map(str::to_owned);
        for (index, post) in posts.iter().enumerate() {
            let post = XPost { in_reply_to: previous.clone(), ..post.clone() };
            let response = self.publish_post(auth, &post).await;
            outcome.budget = response.budget.or(outcome.budget);
            match response.value {
                Ok(published) => {
                    previous = Some(published.external_id.clone());
                    outcome.published.push(published);
                }
                Err(error) => {
                    outcome.failure = Some(ThreadFailure { index, error });
                    break;
                }
            }
        }
        outcome
    }
}
