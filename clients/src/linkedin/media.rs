//! LinkedIn media (media-and-metrics.md §2): images and documents are initialized, then PUT whole
//! to their upload URL in one streamed request (several PUTs to one URL would overwrite each
//! other); videos are initialized with their size, each part PUT to its own URL streamed from its
//! own byte range, the ETags collected in part order, finalized with the upload token verbatim,
//! then polled until AVAILABLE. A post names the asset in `content.media` (with `altText` on an
//! image, a `title` on a video or document) or several images in `content.multiImage`.
//!
//! Image and document status: `GET /rest/images|documents/{urn}` works with organization tokens
//! only; "a w_member_social (personal) token is write-only for those endpoints" (§2.5). The client
//! reads it once after the PUT and polls while it says PROCESSING; a 403 (a member's token) is
//! taken as "cannot tell", and the upload counts as done: LinkedIn processes images in moments, and
//! if one is not ready the post is refused with a media error ([`PlatformError::is_media_expired`]),
//! which uploads again on the next attempt. A PROCESSING_FAILED status is a permanent refusal.

use crier_media::MediaKind;
use crier_platform::Platform;
use crier_protocol::linkedin::media::{
    self as protocol, DocumentUpload, FinalizeUploadRequest, FinalizeVideoUpload, ImageUpload, InitializeUpload, InitializeUploadRequest,
    InitializeVideoUpload, MediaAsset, MediaContent, MultiImage, MultiImageItem, PostContent, ValueResponse, VideoUpload,
};
use crier_protocol::{ErrorClass, PlatformError, Published};
use reqwest::Method;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, ETAG};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::{LinkedInAuthor, LinkedInClient, LinkedInPost, no_budget, post_body};
use crate::Response;
use crate::media::{MediaToUpload, Steps, Upload, UploadOptions, UploadedMedia, Waiting, parse, read, send_retrying};
use crate::transport::encode_segment;

/// What a LinkedIn post shows (§2.4): assets from [`LinkedInClient::upload_media`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkedInMedia {
    /// One image, with its alt text.
    Image(LinkedInImage),
    /// 2 to 20 images, in order.
    MultiImage(Vec<LinkedInImage>),
    /// One video (LinkedIn takes no alt text on videos), with an optional title.
    Video {
        /// `urn:li:video:…`.
        urn: String,
        /// The title shown with it.
        title: Option<String>,
    },
    /// One PDF document, shown as a carousel; its title is shown on it (e.g. `Deck.pdf`).
    Document {
        /// `urn:li:document:…`.
        urn: String,
        /// The title.
        title: String,
    },
}

/// An image of a post, with its alt text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkedInImage {
    /// `urn:li:image:…`.
    pub urn: String,
    /// The alt text.
    pub alt_text: Option<String>,
}

impl LinkedInMedia {
    fn content(&self) -> PostContent {
        let media = |id: &str, alt_text: Option<String>, title: Option<String>| PostContent {
            media: Some(MediaContent { id: id.to_owned(), alt_text, title }),
            multi_image: None,
        };
        match self {
            LinkedInMedia::Image(image) => media(&image.urn, image.alt_text.clone(), None),
            LinkedInMedia::MultiImage(images) => PostContent {
                media: None,
                multi_image: Some(MultiImage {
                    images: images.iter().map(|i| MultiImageItem { id: i.urn.clone(), alt_text: i.alt_text.clone() }).collect(),
                }),
            },
            LinkedInMedia::Video { urn, title } => media(urn, None, title.clone()),
            LinkedInMedia::Document { urn, title } => media(urn, None, Some(title.clone())),
        }
    }
}

/// Which API an upload goes to.
fn api_path(kind: MediaKind) -> &'static str {
    match kind {
        MediaKind::Image | MediaKind::Gif => protocol::IMAGES_PATH,
        MediaKind::Video => protocol::VIDEOS_PATH,
        MediaKind::Document => protocol::DOCUMENTS_PATH,
    }
}

impl LinkedInClient {
    /// Uploads one media item owned by `owner` (the post's author) and waits until LinkedIn can
    /// use it (§2.1–§2.3, §2.5): GIFs go through the Images API, PDFs the Documents API. The URN
    /// goes in [`LinkedInMedia`]; LinkedIn gives no expiry (`expires_at` is `None`). See
    /// [`crate::media`] for the errors and the steps recorded.
    pub async fn upload_media(
        &self,
        token: &SecretString,
        owner: &LinkedInAuthor,
        media: &MediaToUpload,
        options: &UploadOptions,
    ) -> Upload {
        let mut steps = Steps::new();
        let value = match media.kind {
            MediaKind::Video => self.upload_video(token, owner, media, options, &mut steps).await,
            _ => self.upload_single(token, owner, media, options, &mut steps).await,
        };
        steps.done(value)
    }

    /// `POST …?action=initializeUpload` (recorded as `initialize`).
    async fn initialize(
        &self,
        token: &SecretString,
        url: Url,
        body: &serde_json::Value,
        options: &UploadOptions,
        steps: &mut Steps,
    ) -> Result<crate::transport::Raw, PlatformError> {
        let transport = &self.inner.transport;
        send_retrying(transport, steps, "initialize", options.chunk_retries, no_budget, protocol::classify_media_error, || {
            let request = self.rest(Method::POST, url.clone(), token).json(body);
            async move { Ok(request) }
        })
        .await
    }

    fn action_url(&self, kind: MediaKind, action: &str) -> Url {
        let mut url = self.api_url(api_path(kind));
        url.query_pairs_mut().append_pair("action", action);
        url
    }

    /// A PUT of bytes to an upload URL. LinkedIn's doc sample sends the bearer token too; it is
    /// only sent to LinkedIn's own hosts (or the configured API host, e.g. the sandbox), never to
    /// another host an answer might name.
    fn put(&self, url: &str, token: &SecretString, options: &UploadOptions) -> Result<reqwest::RequestBuilder, PlatformError> {
        let url = Url::parse(url).map_err(|_| self.inner.transport.permanent(Some(200), format!("the upload URL is not a URL: {url}")))?;
        let host = url.host_str().unwrap_or_default();
        let trusted = url.host_str() == self.inner.settings.api_url.host_str() || host == "linkedin.com" || host.ends_with(".linkedin.com");
        let request =
            self.inner.transport.http.put(url.clone()).timeout(options.request_timeout).header(CONTENT_TYPE, "application/octet-stream");
        Ok(if trusted { request.bearer_auth(token.expose_secret()) } else { request })
    }

    async fn upload_single(
        &self,
        token: &SecretString,
        owner: &LinkedInAuthor,
        media: &MediaToUpload,
        options: &UploadOptions,
        steps: &mut Steps,
    ) -> Result<UploadedMedia, PlatformError> {
        let transport = &self.inner.transport;
        let body = serde_json::to_value(InitializeUploadRequest { initialize_upload_request: InitializeUpload { owner: owner.urn() } })
            .expect("serializable");
        let url = self.action_url(media.kind, protocol::INITIALIZE_ACTION);
        let raw = self.initialize(token, url, &body, options, steps).await?;
        let (upload_url, urn) = if media.kind == MediaKind::Document {
            let v: ValueResponse<DocumentUpload> = parse(transport, &raw, "an initialized document upload")?;
            (v.value.upload_url, v.value.document)
        } else {
            let v: ValueResponse<ImageUpload> = parse(transport, &raw, "an initialized image upload")?;
            (v.value.upload_url, v.value.image)
        };
        send_retrying(transport, steps, "upload", options.chunk_retries, no_budget, protocol::classify_part_error, || async {
            let bytes = read(media, 0..media.byte_size, Platform::Linkedin).await?;
            Ok(self.put(&upload_url, token, options)?.header(CONTENT_LENGTH, media.byte_size).body(reqwest::Body::wrap_stream(bytes)))
        })
        .await?;
        self.wait_available(token, media.kind, &urn, options, steps, true).await?;
        Ok(UploadedMedia { platform_media_id: urn, expires_at: None })
    }

    async fn upload_video(
        &self,
        token: &SecretString,
        owner: &LinkedInAuthor,
        media: &MediaToUpload,
        options: &UploadOptions,
        steps: &mut Steps,
    ) -> Result<UploadedMedia, PlatformError> {
        let transport = &self.inner.transport;
        let init =
            InitializeVideoUpload { owner: owner.urn(), file_size_bytes: media.byte_size, upload_captions: false, upload_thumbnail: false };
        let body = serde_json::to_value(InitializeUploadRequest { initialize_upload_request: init }).expect("serializable");
        let url = self.action_url(MediaKind::Video, protocol::INITIALIZE_ACTION);
        let raw = self.initialize(token, url, &body, options, steps).await?;
        let upload: ValueResponse<VideoUpload> = parse(transport, &raw, "an initialized video upload")?;
        let upload = upload.value;
        let parts = upload.upload_instructions.len();
        let mut etags = Vec::with_capacity(parts);
        for (index, part) in upload.upload_instructions.iter().enumerate() {
            if part.last_byte >= media.byte_size || part.first_byte > part.last_byte {
                return Err(transport.permanent(
                    Some(200),
                    format!("part {} asks for bytes {}-{} of {}", index + 1, part.first_byte, part.last_byte, media.byte_size),
                ));
            }
            let range = part.first_byte..part.last_byte + 1;
            let name = format!("part {} of {parts}", index + 1);
            let raw = send_retrying(transport, steps, &name, options.chunk_retries, no_budget, protocol::classify_part_error, || async {
                let bytes = read(media, range.clone(), Platform::Linkedin).await?;
                Ok(self.put(&part.upload_url, token, options)?.header(CONTENT_LENGTH, part.len()).body(reqwest::Body::wrap_stream(bytes)))
            })
            .await?;
            // Sent back as LinkedIn gave them (quoted); whether it takes them bare is NOT FOUND.
            let Some(etag) = raw.headers.get(ETAG).and_then(|v| v.to_str().ok()) else {
                return Err(transport.unreadable(&raw, "a part upload with an ETag"));
            };
            etags.push(etag.to_owned());
        }
        let finalize = FinalizeUploadRequest {
            finalize_upload_request: FinalizeVideoUpload {
                video: upload.video.clone(),
                upload_token: upload.upload_token.clone(),
                uploaded_part_ids: etags,
            },
        };
        let body = serde_json::to_value(&finalize).expect("serializable");
        let url = self.action_url(MediaKind::Video, protocol::FINALIZE_ACTION);
        send_retrying(transport, steps, "finalize", options.chunk_retries, no_budget, protocol::classify_media_error, || {
            let request = self.rest(Method::POST, url.clone(), token).json(&body);
            async move { Ok(request) }
        })
        .await?;
        self.wait_available(token, MediaKind::Video, &upload.video, options, steps, false).await?;
        Ok(UploadedMedia { platform_media_id: upload.video, expires_at: None })
    }

    /// Polls the asset until AVAILABLE (a video waits [`UploadOptions::poll_interval`] before
    /// each poll); an image or document is read at once, and a 403 there (a member's token cannot
    /// read it, §2.5) ends the wait.
    async fn wait_available(
        &self,
        token: &SecretString,
        kind: MediaKind,
        urn: &str,
        options: &UploadOptions,
        steps: &mut Steps,
        read_at_once: bool,
    ) -> Result<(), PlatformError> {
        let transport = &self.inner.transport;
        let url = self.api_url(&format!("{}/{}", api_path(kind), encode_segment(urn)));
        let waiting = Waiting::start(options, transport.now());
        let mut last_state = "PROCESSING".to_owned();
        let mut first = true;
        loop {
            if !(first && read_at_once) {
                waiting.sleep(options, options.poll_interval, transport.now(), Platform::Linkedin, &last_state).await?;
            }
            first = false;
            let raw = steps
                .record("status", async {
                    let raw = transport.send(self.rest(Method::GET, url.clone(), token)).await;
                    (raw.as_ref().ok().map(|r| r.status), None, raw)
                })
                .await?;
            if raw.status == 403 && kind != MediaKind::Video {
                return Ok(());
            }
            if !raw.is_success() {
                let e = protocol::classify_media_error(raw.status, &raw.headers, &raw.body, transport.now());
                if e.class == ErrorClass::Temporary {
                    last_state = format!("HTTP {}", raw.status);
                    continue;
                }
                return Err(e);
            }
            let asset: MediaAsset = parse(transport, &raw, "a media asset")?;
            if asset.readiness()? {
                return Ok(());
            }
            last_state = asset.status.as_str().to_owned();
        }
    }

    /// Publishes a post with media (`POST /rest/posts`, §2.4). The post's `article` is ignored: a
    /// post shows media or a link card, not both. A refused asset (unknown, not AVAILABLE) is
    /// `Temporary` with [`PlatformError::is_media_expired`]: upload again, then post.
    pub async fn publish_with_media(&self, token: &SecretString, post: &LinkedInPost, media: &LinkedInMedia) -> Response<Published> {
        if let LinkedInMedia::MultiImage(images) = media {
            let (min, max) = protocol::MULTI_IMAGE_RANGE;
            if images.len() < min || images.len() > max {
                let message = format!("a LinkedIn multi-image post has {min} to {max} images, not {}", images.len());
                return Response {
                    value: Err(PlatformError::new(Platform::Linkedin, ErrorClass::Permanent, None, None, message)),
                    budget: None,
                };
            }
        }
        let mut body = post_body(&LinkedInPost { article: None, ..post.clone() });
        body["content"] = serde_json::to_value(media.content()).expect("serializable");
        self.create_post(token, body).await
    }
}
