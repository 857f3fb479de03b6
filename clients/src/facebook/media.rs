//! Facebook Page media (media-and-metrics.md §3): photos are uploaded unpublished (`published=false`,
//! the bytes streamed as the multipart `source`, alt text as `alt_text_custom`) and then attached
//! to one feed post (`attached_media`), or uploaded and published at once as a single photo post.
//! Videos go through the Resumable Upload API: a session on the app (`POST /{app-id}/uploads`, with
//! a **user** token of someone with a role on the app: Meta's rule, §3.2), the bytes in
//! [`UploadOptions::chunk_bytes`] chunks at their `file_offset` (after a failed chunk, `GET
//! /upload:<id>` says where to resume), then `POST /{page}/videos` with the file handle, which
//! makes the video post; its processing can be followed with [`FacebookClient::wait_for_video`].

use crier_media::MediaKind;
use crier_platform::Platform;
use crier_protocol::facebook::media::{
    self as protocol, AttachedMedia, FILE_OFFSET_HEADER, PhotoResponse, UploadHandle, UploadSession, UploadSessionStatus, VideoCreated,
    VideoStatusResponse,
};
use crier_protocol::facebook::{classify_error, classify_publish, permalink};
use crier_protocol::rate_limit::meta_budget;
use crier_protocol::{ErrorClass, PlatformError, Published};
use reqwest::Method;
use reqwest::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use url::Url;

use super::FacebookClient;
use crate::Response;
use crate::media::{
    MediaToUpload, Multipart, Stepped, Steps, Upload, UploadOptions, UploadedMedia, Waiting, parse, ranges, read, send_retrying,
};
use crate::transport::{encode_segment, endpoint};

/// Graph answers errors with a 2xx now and then; a body holding `error` is an error whatever the status.
fn has_error(body: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(body).ok().is_some_and(|v| v.get("error").is_some_and(|e| e.is_object()))
}

/// Where a Page video's bytes come from.
#[derive(Clone, Copy, Debug)]
pub enum VideoSource<'a> {
    /// A finished resumable upload's handle ([`FacebookClient::upload_video`]).
    Handle(&'a str),
    /// A URL Meta fetches the file from (Crier's signed media link).
    Url(&'a str),
}

impl FacebookClient {
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
        let raw = send_retrying(transport, steps, name, options.chunk_retries, meta_budget, classify_error, || async {
            let bytes = read(media, 0..media.byte_size, Platform::Facebook).await?;
            let form = Multipart::new(&fields, "source", &media.file_name, media.content_type.mime(), bytes, media.byte_size);
            Ok(self
                .graph_url(Method::POST, url.clone(), page_token)
                .timeout(options.request_timeout)
                .header(CONTENT_TYPE, form.content_type)
                .header(CONTENT_LENGTH, form.length)
                .body(form.body))
        })
        .await?;
        if has_error(&raw.body) {
            return Err(classify_error(raw.status, &raw.headers, &raw.body, transport.now()));
        }
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
        if media.kind != MediaKind::Video {
            return Err(transport.permanent(None, format!("a Facebook video upload takes a video, not a {}", media.kind.label())));
        }
        let settings = &self.inner.settings;
        let mut url = self.graph_endpoint(&format!("/{}/uploads", encode_segment(&settings.client_id)));
        url.query_pairs_mut()
            .append_pair("file_name", &media.file_name)
            .append_pair("file_length", &media.byte_size.to_string())
            .append_pair("file_type", media.content_type.mime());
        let raw = send_retrying(transport, steps, "session", options.chunk_retries, meta_budget, classify_error, || {
            let request = transport.http.post(url.clone()).header(AUTHORIZATION, Self::oauth_header(user_token));
            async move { Ok(request) }
        })
        .await?;
        if has_error(&raw.body) {
            return Err(classify_error(raw.status, &raw.headers, &raw.body, transport.now()));
        }
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
        let settings = &self.inner.settings;
        let url = endpoint(&settings.video_api_url, &format!("/{}/{}/videos", settings.graph_version, encode_segment(page_id)));
        let mut form = match video {
            VideoSource::Handle(handle) => vec![("fbuploader_video_file_chunk", handle)],
            VideoSource::Url(file_url) => vec![("file_url", file_url)],
        };
        form.push(("description", description));
        if let Some(title) = title {
            form.push(("title", title));
        }
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
