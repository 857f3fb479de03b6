//! Facebook Page media (media-and-metrics.md §3): photos are uploaded unpublished (`published=false`,
//! the bytes streamed as the multipart `source`, alt text as `alt_text_custom`) and then attached
//! to one feed post (`attached_media`), or uploaded and published at once as a single photo post.
//!
//! A video post is made one of three ways (§3.2), each needing something else:
//! - the chunked upload on the Page's `/videos` ([`FacebookClient::upload_page_video`]): the Page
//!   token alone, and Crier need not be reachable from the internet. `upload_phase=start` gives the
//!   video id and the first byte range, each `transfer` sends the range Meta asks for (at most
//!   [`UploadOptions::chunk_bytes`] of it) and gets the next, `finish` makes the post;
//! - a URL Meta fetches the file from ([`VideoSource::Url`] to [`FacebookClient::publish_video`]):
//!   the Page token, and Crier's signed media link reachable from the internet;
//! - the Resumable Upload API ([`FacebookClient::upload_video`], then [`VideoSource::Handle`]): a
//!   session on the app (`POST /{app-id}/uploads`) with a **user** token of someone with a role on
//!   the app (Meta's rule), which Crier does not hold; the bytes in [`UploadOptions::chunk_bytes`]
//!   chunks at their `file_offset` (after a failed chunk, `GET /upload:<id>` says where to resume),
//!   then `/videos` with the file handle and the Page token.
//!
//! Either way the video id is the post's, and its processing can be followed with
//! [`FacebookClient::wait_for_video`].

use crier_media::MediaKind;
use crier_platform::Platform;
use crier_protocol::facebook::media::{
    self as protocol, AttachedMedia, CHUNK_FIELD, ChunkRange, ChunkedFinish, ChunkedStart, FILE_OFFSET_HEADER, PhotoResponse, UploadHandle,
    UploadPhase, UploadSession, UploadSessionStatus, VideoCreated, VideoStatusResponse,
};
use crier_protocol::facebook::{classify_error, classify_publish, permalink};
use crier_protocol::rate_limit::meta_budget;
use crier_protocol::{ErrorClass, PlatformError, Published};
use reqwest::Method;
use reqwest::header::{AUTHORIZATION, CONTENT_LENGTH};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use url::Url;

use super::FacebookClient;
use crate::Response;
use crate::media::{
    MediaToUpload, Multipart, Stepped, Steps, Upload, UploadOptions, UploadedMedia, Waiting, parse, ranges, read, send_retrying,
};
use crate::transport::{Raw, Transport, encode_segment, endpoint};

/// Graph answers errors with a 2xx now and then; a body holding `error` is an error whatever the status.
fn has_error(body: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(body).ok().is_some_and(|v| v.get("error").is_some_and(|e| e.is_object()))
}

/// [`send_retrying`] for a Graph upload call: a 2xx holding `error` is that error.
async fn send_graph<F, Fut>(transport: &Transport, steps: &mut Steps, name: &str, retries: u32, build: F) -> Result<Raw, PlatformError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<reqwest::RequestBuilder, PlatformError>>,
{
    let raw = send_retrying(transport, steps, name, retries, meta_budget, classify_error, build).await?;
    if has_error(&raw.body) {
        return Err(classify_error(raw.status, &raw.headers, &raw.body, transport.now()));
    }
    Ok(raw)
}

/// Video flows take videos only: anything else is refused without a call.
fn video_only(transport: &Transport, media: &MediaToUpload) -> Result<(), PlatformError> {
    if media.kind != MediaKind::Video {
        return Err(transport.permanent(None, format!("a Facebook video upload takes a video, not a {}", media.kind.label())));
    }
    Ok(())
}

/// A video post's text fields: `description`, and `title` when there is one.
fn described<'a>(form: &mut Vec<(&'static str, &'a str)>, description: &'a str, title: Option<&'a str>) {
    form.push(("description", description));
    if let Some(title) = title {
        form.push(("title", title));
    }
}

/// A chunked upload's `upload_phase` form field.
fn phase(phase: UploadPhase) -> (&'static str, &'static str) {
    (UploadPhase::FIELD, phase.as_str())
}

/// The step of a Page video's chunked upload that makes the post ([`FacebookClient::upload_page_video`]):
/// a failure before it leaves no post behind, a failure of it may have made one.
pub const PAGE_VIDEO_FINISH_STEP: &str = "finish";

/// Where a Page video's bytes come from.
#[derive(Clone, Copy, Debug)]
pub enum VideoSource<'a> {
    /// A finished resumable upload's handle ([`FacebookClient::upload_video`]).
    Handle(&'a str),
    /// A URL Meta fetches the file from (Crier's signed media link).
    Url(&'a str),
}

impl FacebookClient {
    /// `/{page}/videos` on the video host ("The single exception is video uploads", §3).
    fn videos_endpoint(&self, page_id: &str) -> Url {
        let settings = &self.inner.settings;
        endpoint(&settings.video_api_url, &format!("/{}/{}/videos", settings.graph_version, encode_segment(page_id)))
    }

    /// A POST of a streamed multipart body with the token, with the upload time limit.
    fn multipart(&self, url: Url, token: &SecretString, form: Multipart, options: &UploadOptions) -> reqwest::RequestBuilder {
        form.attach(self.graph_url(Method::POST, url, token).timeout(options.request_timeout))
    }

    /// Uploads a photo unpublished, for [`FacebookClient::publish_photos`] (§3.1): its id, which
    /// Meta keeps about 24 hours (`expires_at`). Images and GIFs only (`Permanent` otherwise,
    /// without a call); a file Meta cannot read is code 324 "Missing or invalid image file".
    pub async fn upload_photo(&self, page_id: &str, page_token: &SecretString, media: &MediaToUpload, options: &UploadOptions) -> Upload {
        let mut steps = Steps::new();
        let value = self.photo(page_id, page_token, media, options, None, &mut steps).await.map(|photo| UploadedMedia {
            platform_media_id: photo.id,
            expires_at: Some(self.inner.transport.now() + protocol::UNPUBLISHED_PHOTO_LIFETIME),
        });
        steps.done(value)
    }

    /// Publishes a single photo post (§3.1): the photo uploaded and published at once with its
    /// caption; the post id (`post_id`) is the published post.
    pub async fn publish_photo(
        &self,
        page_id: &str,
        page_token: &SecretString,
        caption: &str,
        media: &MediaToUpload,
        options: &UploadOptions,
    ) -> Stepped<Published> {
        let mut steps = Steps::new();
        let value =
            self.photo(page_id, page_token, media, options, Some(caption), &mut steps).await.and_then(|photo| match photo.post_id {
                Some(id) => Ok(Published { permalink: Some(permalink(&id)), external_id: id }),
                None => Err(self.inner.transport.permanent(Some(200), "a published photo without a post_id")),
            });
        steps.done(value)
    }

    async fn photo(
        &self,
        page_id: &str,
        page_token: &SecretString,
        media: &MediaToUpload,
        options: &UploadOptions,
        caption: Option<&str>,
        steps: &mut Steps,
    ) -> Result<PhotoResponse, PlatformError> {
        let transport = &self.inner.transport;
        if !matches!(media.kind, MediaKind::Image | MediaKind::Gif) {
            return Err(transport.permanent(None, format!("a Facebook photo is an image, not a {}", media.kind.label())));
        }
        let url = self.graph_endpoint(&format!("/{}/photos", encode_segment(page_id)));
        let mut fields: Vec<(&str, &str)> = Vec::new();
        match caption {
            Some(caption) => fields.push(("caption", caption)),
            None => fields.push(("published", "false")),
        }
        if let Some(alt) = media.alt_text.as_deref().filter(|a| !a.is_empty()) {
            fields.push(("alt_text_custom", alt));
        }
        let name = if caption.is_some() { "photo post" } else { "photo" };
        let raw = send_graph(transport, steps, name, options.chunk_retries, || async {
            let bytes = read(media, 0..media.byte_size, Platform::Facebook).await?;
            let form = Multipart::new(&fields, "source", &media.file_name, media.content_type.mime(), bytes, media.byte_size);
            Ok(self.multipart(url.clone(), page_token, form, options))
        })
        .await?;
        parse(transport, &raw, "a photo")
    }

    /// Publishes a feed post with unpublished photos attached, in order (`POST /{page}/feed` with
    /// `attached_media`, §3.1). A photo that is gone (older than 24 hours, already used) is
    /// `Temporary` with [`PlatformError::is_media_expired`]: upload again, then post. As with
    /// [`FacebookClient::publish`], a `Temporary` code 2 may hide a created post.
    pub async fn publish_photos(
        &self,
        page_id: &str,
        page_token: &SecretString,
        message: &str,
        photo_ids: &[String],
    ) -> Response<Published> {
        let attached: Vec<AttachedMedia> = photo_ids.iter().map(|id| AttachedMedia { media_fbid: id.clone() }).collect();
        let body = json!({ "message": message, "attached_media": attached });
        let transport = &self.inner.transport;
        let request = self.graph(Method::POST, &format!("/{}/feed", encode_segment(page_id)), page_token).json(&body);
        let raw = transport.send(request).await;
        transport.respond(raw, meta_budget, |raw, now| classify_publish(raw.status, &raw.headers, &raw.body, now))
    }

    /// Uploads a video through the Resumable Upload API (§3.2) on this app
    /// ([`super::FacebookSettings::client_id`]), with a **user** token of someone with a role on
    /// the app (Meta refuses a session opened otherwise): the file handle, for
    /// [`FacebookClient::publish_video`]. Videos only (`Permanent` otherwise, without a call).
    pub async fn upload_video(&self, user_token: &SecretString, media: &MediaToUpload, options: &UploadOptions) -> Upload {
        let mut steps = Steps::new();
        let value = self.resumable(user_token, media, options, &mut steps).await;
        steps.done(value)
    }

    fn oauth_header(token: &SecretString) -> String {
        format!("OAuth {}", token.expose_secret())
    }

    async fn resumable(
        &self,
        user_token: &SecretString,
        media: &MediaToUpload,
        options: &UploadOptions,
        steps: &mut Steps,
    ) -> Result<UploadedMedia, PlatformError> {
        let transport = &self.inner.transport;
        video_only(transport, media)?;
        let settings = &self.inner.settings;
        let mut url = self.graph_endpoint(&format!("/{}/uploads", encode_segment(&settings.client_id)));
        url.query_pairs_mut()
            .append_pair("file_name", &media.file_name)
            .append_pair("file_length", &media.byte_size.to_string())
            .append_pair("file_type", media.content_type.mime());
        let raw = send_graph(transport, steps, "session", options.chunk_retries, || {
            let request = transport.http.post(url.clone()).header(AUTHORIZATION, Self::oauth_header(user_token));
            async move { Ok(request) }
        })
        .await?;
        let session: UploadSession = parse(transport, &raw, "an upload session")?;
        // The id becomes a path: `upload:` and URL-safe characters only.
        let well_formed = session.id.strip_prefix("upload:").is_some_and(|id| {
            !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'=' | b':' | b'.'))
        }) && !session.id.contains("..");
        if !well_formed {
            return Err(transport.unreadable(&raw, "an upload session id (upload:<id>)"));
        }
        // `upload:<id>` is the path as Meta writes it (the colon stays).
        let session_url = self.graph_endpoint(&format!("/{}", session.id));
        let chunks = ranges(media.byte_size, options.chunk_bytes);
        let total = chunks.len();
        let mut offset = 0u64;
        let mut handle = None;
        let mut failures = 0;
        while offset < media.byte_size || handle.is_none() {
            let index = chunks.iter().position(|r| r.contains(&offset)).unwrap_or(total.saturating_sub(1));
            let end = (offset + options.chunk_bytes.max(1)).min(media.byte_size);
            let name = if failures == 0 {
                format!("transfer {} of {total}", index + 1)
            } else {
                format!("transfer {} of {total} (retry {failures})", index + 1)
            };
            let bytes = read(media, offset..end, Platform::Facebook).await?;
            let request = transport
                .http
                .post(session_url.clone())
                .timeout(options.request_timeout)
                .header(AUTHORIZATION, Self::oauth_header(user_token))
                .header(FILE_OFFSET_HEADER, offset)
                .header(CONTENT_LENGTH, end - offset)
                .body(reqwest::Body::wrap_stream(bytes));
            let sent = steps
                .record(name, async {
                    let raw = transport.send(request).await;
                    let budget = raw.as_ref().ok().and_then(|r| meta_budget(&r.headers, transport.now()));
                    (raw.as_ref().ok().map(|r| r.status), budget, raw)
                })
                .await;
            let error = match sent {
                Ok(raw) if raw.is_success() && !has_error(&raw.body) => {
                    let h: UploadHandle = parse(transport, &raw, "an upload handle")?;
                    handle = Some(h.h);
                    offset = end;
                    failures = 0;
                    continue;
                }
                Ok(raw) => classify_error(raw.status, &raw.headers, &raw.body, transport.now()),
                Err(error) => error,
            };
            if error.class != ErrorClass::Temporary || failures >= options.chunk_retries {
                return Err(error);
            }
            failures += 1;
            // Where does the upload stand? Resume from there.
            let raw = send_retrying(transport, steps, "resume", options.chunk_retries, meta_budget, classify_error, || {
                let request = transport.http.get(session_url.clone()).header(AUTHORIZATION, Self::oauth_header(user_token));
                async move { Ok(request) }
            })
            .await?;
            let status: UploadSessionStatus = parse(transport, &raw, "an upload session's offset")?;
            offset = status.file_offset.min(media.byte_size);
        }
        Ok(UploadedMedia { platform_media_id: handle.unwrap_or_default(), expires_at: None })
    }

    /// Publishes the video post (`POST /{page}/videos` on the video host, §3.2) from a finished
    /// upload's handle or from a URL Meta fetches the file from (`file_url`: a signed link to
    /// Crier's copy, which needs only the Page token), with the Page token: the video id, which is the post's. Its processing goes
    /// on after this; [`FacebookClient::wait_for_video`] follows it.
    pub async fn publish_video(
        &self,
        page_id: &str,
        page_token: &SecretString,
        video: VideoSource<'_>,
        description: &str,
        title: Option<&str>,
    ) -> Response<Published> {
        let url = self.videos_endpoint(page_id);
        let mut form = match video {
            VideoSource::Handle(handle) => vec![("fbuploader_video_file_chunk", handle)],
            VideoSource::Url(file_url) => vec![("file_url", file_url)],
        };
        described(&mut form, description, title);
        let transport = &self.inner.transport;
        let raw = transport.send(self.graph_url(Method::POST, url, page_token).form(&form)).await;
        transport.respond(raw, meta_budget, |raw, now| {
            if !raw.is_success() || has_error(&raw.body) {
                return Err(classify_error(raw.status, &raw.headers, &raw.body, now));
            }
            let video: VideoCreated = parse(transport, raw, "a video")?;
            Ok(Published { permalink: Some(permalink(&video.id)), external_id: video.id })
        })
    }

    /// Publishes a video post through the chunked upload on the Page's `/videos` (§3.2, legacy
    /// chunked) with the Page token alone, whether Meta can reach Crier or not: `start` (the video
    /// id and the first range), a `transfer` of each range Meta asks for, then `finish` with the
    /// description and title. The video id is the post's; its processing goes on after this
    /// ([`FacebookClient::wait_for_video`]). Videos only (`Permanent` otherwise, without a call).
    ///
    /// Meta picks each range's size; no more than [`UploadOptions::chunk_bytes`] is read and sent
    /// at once, so a larger range is sent in part and Meta's answer says where to go on. A transfer
    /// that fails `Temporary` (5xx, no answer) is sent again from the same offset up to
    /// [`UploadOptions::chunk_retries`] times. `finish` is sent once: without an answer the post may
    /// exist all the same, so its `Temporary` error is returned as is for the caller to reconcile.
    pub async fn upload_page_video(
        &self,
        page_id: &str,
        page_token: &SecretString,
        media: &MediaToUpload,
        description: &str,
        title: Option<&str>,
        options: &UploadOptions,
    ) -> Stepped<Published> {
        let mut steps = Steps::new();
        let url = self.videos_endpoint(page_id);
        let value = async {
            let started = self.chunks(&url, page_token, media, options, &mut steps).await?;
            self.finish_chunks(&url, page_token, started, description, title, &mut steps).await
        }
        .await;
        steps.done(value)
    }

    /// The chunked upload's `start` and `transfer`s: the session, once every byte is in.
    async fn chunks(
        &self,
        url: &Url,
        page_token: &SecretString,
        media: &MediaToUpload,
        options: &UploadOptions,
        steps: &mut Steps,
    ) -> Result<ChunkedStart, PlatformError> {
        let transport = &self.inner.transport;
        video_only(transport, media)?;
        let file_size = media.byte_size.to_string();
        let form = [phase(UploadPhase::Start), ("file_size", file_size.as_str())];
        let raw = send_graph(transport, steps, "start", options.chunk_retries, || {
            let request = self.graph_url(Method::POST, url.clone(), page_token).form(&form);
            async move { Ok(request) }
        })
        .await?;
        let start: ChunkedStart = parse(transport, &raw, "a chunked upload session")?;
        let session = start.upload_session_id.as_str();
        let (mut range, mut status): (ChunkRange, u16) = (start.range, raw.status);
        let mut transfers = 0u64;
        let mut last_from = None;
        while let Some(asked) = range.next(media.byte_size).map_err(|why| transport.permanent(Some(status), why))? {
            // Each answer must move on, or the loop would never end.
            if last_from.is_some_and(|last| asked.start <= last) {
                return Err(transport.permanent(Some(status), format!("Meta asked again for bytes from {} after taking them", asked.start)));
            }
            last_from = Some(asked.start);
            let (from, to) = (asked.start, asked.end.min(asked.start.saturating_add(options.chunk_bytes.max(1))));
            transfers += 1;
            // Meta may change its ranges: the count is what the current one makes of the rest.
            let total = transfers - 1 + (media.byte_size - from).div_ceil(to - from);
            let offset = from.to_string();
            let fields = [phase(UploadPhase::Transfer), ("upload_session_id", session), ("start_offset", offset.as_str())];
            let raw = send_graph(transport, steps, &format!("transfer {transfers} of {total}"), options.chunk_retries, || async {
                let bytes = read(media, from..to, Platform::Facebook).await?;
                let form = Multipart::new(&fields, CHUNK_FIELD, &media.file_name, media.content_type.mime(), bytes, to - from);
                Ok(self.multipart(url.clone(), page_token, form, options))
            })
            .await?;
            (range, status) = (parse(transport, &raw, "a chunk range")?, raw.status);
        }
        Ok(start)
    }

    /// The chunked upload's `finish`, which makes the video post.
    async fn finish_chunks(
        &self,
        url: &Url,
        page_token: &SecretString,
        started: ChunkedStart,
        description: &str,
        title: Option<&str>,
        steps: &mut Steps,
    ) -> Result<Published, PlatformError> {
        let transport = &self.inner.transport;
        let mut form = vec![phase(UploadPhase::Finish), ("upload_session_id", started.upload_session_id.as_str())];
        described(&mut form, description, title);
        // Sent once (no retries): a finish whose answer is lost may have made the post.
        let raw = send_graph(transport, steps, PAGE_VIDEO_FINISH_STEP, 0, || {
            let request = self.graph_url(Method::POST, url.clone(), page_token).form(&form);
            async move { Ok(request) }
        })
        .await?;
        let finished: ChunkedFinish = parse(transport, &raw, "a finished upload")?;
        if !finished.success {
            return Err(transport.permanent(Some(raw.status), "Meta did not take the finished upload (success: false)"));
        }
        Ok(Published { permalink: Some(permalink(&started.video_id)), external_id: started.video_id })
    }

    /// Follows a video's processing (`GET /{video}?fields=status`, §3.2) until it is ready
    /// (`ready` or `upload_complete`), polling every [`UploadOptions::poll_interval`]: `error` is a
    /// `Permanent` refusal with Meta's reason, past [`UploadOptions::max_processing_wait`] a
    /// `Temporary` one.
    pub async fn wait_for_video(&self, video_id: &str, page_token: &SecretString, options: &UploadOptions) -> Stepped<()> {
        let mut steps = Steps::new();
        let value = self.video_ready(video_id, page_token, options, &mut steps).await;
        steps.done(value)
    }

    async fn video_ready(
        &self,
        video_id: &str,
        page_token: &SecretString,
        options: &UploadOptions,
        steps: &mut Steps,
    ) -> Result<(), PlatformError> {
        let transport = &self.inner.transport;
        let mut url: Url = self.graph_endpoint(&format!("/{}", encode_segment(video_id)));
        url.query_pairs_mut().append_pair("fields", "status");
        let waiting = Waiting::start(options, transport.now());
        let mut last_state = "processing".to_owned();
        loop {
            waiting.sleep(options, options.poll_interval, transport.now(), Platform::Facebook, &last_state).await?;
            let raw = send_retrying(transport, steps, "status", options.chunk_retries, meta_budget, classify_error, || {
                let request = self.graph_url(Method::GET, url.clone(), page_token);
                async move { Ok(request) }
            })
            .await?;
            let status: VideoStatusResponse = parse(transport, &raw, "a video status")?;
            if status.status.readiness()? {
                return Ok(());
            }
            last_state = status.status.video_status;
        }
    }
}
