//! One attempt at one delivery: from a claimed row to its [`Completion`].
//!
//! The order matters: nothing is called for an account that needs reconnecting; the text is
//! checked before any call; a token about to expire is renewed first; a dry run stops before the
//! publish call; and an attempt after an unknown outcome looks for the post before publishing.

use std::time::Instant;

use chrono::{DateTime, TimeDelta, Utc};
use crier_clients::{
    ErrorClass, FacebookPost, LinkedInArticle, LinkedInAuthor, LinkedInImage, LinkedInMedia, LinkedInPost, OAuth1Credentials,
    PlatformError, Published, RateBudget, RecentPost, Response, VideoSource, XAuth, XPost,
};
use crier_domain::account::AccountStatus;
use crier_domain::delivery::{AttemptOutcome, DeliveryState, FailureClass};
use crier_domain::post::PostContent;
use crier_domain::retry::RetryDecision;
use crier_domain::store::accounts::{self, Credentials};
use crier_domain::store::deliveries::{AttemptStep, Claimed, Completion, DeliveryMedia, FailureNote};
use crier_media::MediaKind;
use crier_platform::Platform;
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::engine::Context;
use crate::media::{self, FacebookVideoRoute, UploadFailed, Uploader, Uploads};
use crate::{reconcile, telemetry};
use crier_accounts::{RefreshError, needs_refresh};

/// How an attempt ended, before it is written down.
#[derive(Debug)]
pub enum Outcome {
    /// The platform has the post (`reconciled`: found at the platform, not published now).
    Published { external_id: String, permalink: Option<String>, reconciled: bool },
    /// A dry run passed every check.
    DryRunOk,
    /// Retrying cannot help.
    Permanent { class: FailureClass, code: Option<String>, message: String },
    /// Try again later; `ambiguous` when the post may have been created all the same.
    Temporary { error: PlatformError, ambiguous: bool },
    /// The account must wait until `until`.
    RateLimited { until: DateTime<Utc>, error: PlatformError },
    /// This delivery waits until `until` (Crier's media budget for the account is spent); the
    /// account is not paused, so its other posts go on.
    Deferred { until: DateTime<Utc>, message: String },
    /// The account needs reconnecting.
    NeedsReauth { message: String },
}

/// An outcome with what the call reported on the side.
#[derive(Debug)]
pub struct Attempted {
    /// What happened.
    pub outcome: Outcome,
    /// The platform's HTTP status of the deciding call.
    pub http_status: Option<u16>,
    /// X thread parts out so far.
    pub thread_ids: Vec<String>,
    /// The account's budget as the platform last reported it.
    pub budget: Option<RateBudget>,
    /// Every call of a post with media (uploads, status polls, the post): the attempt's steps.
    pub steps: Vec<AttemptStep>,
}

impl Attempted {
    fn new(outcome: Outcome, claimed: &Claimed) -> Self {
        Attempted { outcome, http_status: None, thread_ids: claimed.thread_ids.clone(), budget: None, steps: Vec::new() }
    }

    /// With the calls the uploads made, and the tighter of their budget and the post's.
    fn with_uploads(mut self, uploads: Uploads<'_>) -> Self {
        let (steps, budget) = uploads.into_parts();
        self.steps = steps;
        self.budget = media::tighter(self.budget, budget);
        self
    }
}

fn from_error(error: PlatformError) -> Outcome {
    match error.class {
        ErrorClass::Temporary => {
            // No answer (a timeout, a reset connection) or a server error: the platform may have
            // acted before failing. Meta documents exactly this for HTTP 500 code 2, and X's 5xx
            // are settled by reading the account's timeline. LinkedIn documents no such case, and
            // reading a member's posts needs a permission (r_member_social) apps rarely get, so
            // its 5xx answers are taken at their word and only a call that got no answer is in doubt.
            let ambiguous = outcome_unknown(&error);
            Outcome::Temporary { error, ambiguous }
        }
        ErrorClass::RateLimited { until } => Outcome::RateLimited { until, error },
        ErrorClass::NeedsReauth => Outcome::NeedsReauth { message: error.to_string() },
        ErrorClass::Permanent => {
            Outcome::Permanent { class: FailureClass::Permanent, code: error.code.clone(), message: error.message.clone() }
        }
    }
}

/// Whether a temporary failure may have acted all the same (see [`from_error`]): no answer, or on
/// X and Meta a server error; LinkedIn's 5xx are taken at their word.
pub(crate) fn outcome_unknown(error: &PlatformError) -> bool {
    match error.platform {
        Platform::Linkedin => error.status.is_none(),
        _ => error.status.is_none_or(|s| s >= 500),
    }
}

/// The author a LinkedIn account posts and comments as: its organization, or its member.
pub(crate) fn linkedin_author(external_id: &str) -> LinkedInAuthor {
    match external_id.strip_prefix("urn:li:organization:") {
        Some(id) => LinkedInAuthor::Organization(id.to_owned()),
        None => LinkedInAuthor::Member(external_id.strip_prefix("urn:li:person:").unwrap_or(external_id).to_owned()),
    }
}

/// An upload failed: classified as any failure, except that no post call was made, so the
/// outcome is never in doubt; or it was not made for want of budget.
fn upload_failed(failed: UploadFailed) -> Outcome {
    match failed {
        UploadFailed::Platform(error) => match from_error(error) {
            Outcome::Temporary { error, .. } => Outcome::Temporary { error, ambiguous: false },
            outcome => outcome,
        },
        UploadFailed::OverBudget { until, message } => Outcome::Deferred { until, message },
    }
}

/// The content as this delivery's platform gets it, its links tracked as the post chose.
async fn content(ctx: &Context, claimed: &Claimed) -> Result<PostContent, Outcome> {
    let post = PostContent {
        text: claimed.override_text.clone().unwrap_or_else(|| claimed.text.clone()),
        overrides: Vec::new(),
        link: claimed.link.clone(),
        thread: if claimed.platform == Platform::X { claimed.thread.clone() } else { Vec::new() },
        ..PostContent::default()
    };
    if claimed.tracking.is_off() {
        return Ok(post);
    }
    track_links(ctx, claimed, post).await
}

/// The most short links one delivery makes (a post's links beyond them get their UTM parameters
/// only): bounds the work a post full of links asks for.
const MAX_SHORT_LINKS: usize = 20;

/// Rewrites every link of `post` (its link and the addresses in its texts): UTM parameters for the
/// platform, then, if chosen, the delivery's short link. Short links are skipped in dry runs
/// (nothing is published, so nothing to count) and without an address people reach Crier at.
async fn track_links(ctx: &Context, claimed: &Claimed, mut post: PostContent) -> Result<PostContent, Outcome> {
    use crier_domain::link_tracking::{rewrite_links, tag};
    use crier_domain::store::link_tracking::shorten;

    let mut links: Vec<String> = post.link.iter().cloned().collect();
    for text in std::iter::once(&post.text).chain(&post.thread) {
        rewrite_links(text, |link| {
            links.push(link.to_owned());
            link.to_owned()
        });
    }
    let base = ctx.media.public_base.as_deref().map(|b| b.trim_end_matches('/'));
    let shorten_here = claimed.tracking.short_links && !claimed.dry_run;
    if shorten_here && base.is_none() {
        tracing::warn!(delivery_id = %claimed.delivery_id, "short links were chosen but this worker has no CRIER_PUBLIC_URL; links go out in full");
    }
    let mut replaced: Vec<(String, String)> = Vec::new();
    for link in links {
        if replaced.iter().any(|(from, _)| *from == link) {
            continue;
        }
        let tagged = match &claimed.tracking.utm {
            Some(utm) => tag(&link, claimed.platform, utm),
            None => link.clone(),
        };
        let is_web_address = Url::parse(&tagged).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
        let out = match base {
            Some(base) if shorten_here && is_web_address && replaced.len() < MAX_SHORT_LINKS => {
                match shorten(&ctx.pool, claimed.team_id, claimed.delivery_id, &tagged).await {
                    Ok(code) => format!("{base}/l/{code}"),
                    Err(e) => {
                        tracing::error!(error = %e, delivery_id = %claimed.delivery_id, "could not make a short link");
                        let message = "Crier could not record the post's short links; it tries again.";
                        let error = PlatformError::new(claimed.platform, ErrorClass::Temporary, None, None, message);
                        return Err(Outcome::Temporary { error, ambiguous: false });
                    }
                }
            }
            _ => tagged,
        };
        replaced.push((link, out));
    }
    let swap = |link: &str| replaced.iter().find(|(from, _)| from == link).map_or_else(|| link.to_owned(), |(_, to)| to.clone());
    post.text = rewrite_links(&post.text, swap);
    post.thread = post.thread.iter().map(|t| rewrite_links(t, swap)).collect();
    post.link = post.link.as_deref().map(swap);
    Ok(post)
}

/// What an attempt asks of the account, besides its own completion.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountEffects {
    /// Pause the account until then (a rate limit, or a budget the platform reports spent).
    pub pause_until: Option<DateTime<Utc>>,
    /// Mark the account as needing re-authorisation, with the reason.
    pub needs_reauth: Option<String>,
}

/// Runs one attempt: the completion to write, and what the account must undergo.
pub async fn run(ctx: &Context, claimed: &Claimed) -> (Completion, AccountEffects) {
    let started = Instant::now();
    let attempted = attempt(ctx, claimed).await;
    let took = started.elapsed();
    telemetry::attempted(claimed.platform, took);
    let duration_ms = i32::try_from(took.as_millis()).unwrap_or(i32::MAX);
    let mut effects = AccountEffects::default();
    if let Some(budget) = attempted.budget
        && budget.is_exhausted()
    {
        effects.pause_until = budget.reset_at;
    }
    match &attempted.outcome {
        Outcome::RateLimited { until, .. } => effects.pause_until = effects.pause_until.max(Some(*until)),
        // Held for want of a connected account needs no marking: its status already says so.
        Outcome::NeedsReauth { message } if claimed.status == AccountStatus::Connected => effects.needs_reauth = Some(message.clone()),
        _ => {}
    }
    (completion(claimed, attempted, duration_ms, Utc::now()), effects)
}

async fn attempt(ctx: &Context, claimed: &Claimed) -> Attempted {
    let name = claimed.platform.label();
    if claimed.status != AccountStatus::Connected {
        let why = match claimed.status {
            AccountStatus::Disconnected => "was disconnected",
            AccountStatus::Revoked => "was removed or revoked at the platform",
            _ => "needs to be reconnected",
        };
        let message =
            format!("The {name} account “{}” {why}; reconnect it on the Accounts page and this post goes out.", claimed.account_name);
        return Attempted::new(Outcome::NeedsReauth { message }, claimed);
    }
    let post = match content(ctx, claimed).await {
        Ok(post) => post,
        Err(outcome) => return Attempted::new(outcome, claimed),
    };
    if let Err(problem) = post.check(&[claimed.platform]) {
        return Attempted::new(Outcome::Permanent { class: FailureClass::Validation, code: None, message: problem.message }, claimed);
    }
    // Checked again here: the library or the platform's limits may have changed since scheduling.
    let media = match media::of(ctx, claimed).await {
        Ok(media) => media,
        Err(outcome) => return Attempted::new(outcome, claimed),
    };

    let credentials = match credentials(ctx, claimed).await {
        Ok(credentials) => credentials,
        Err(outcome) => return Attempted::new(outcome, claimed),
    };
    if claimed.dry_run {
        return Attempted::new(Outcome::DryRunOk, claimed);
    }
    let mut uploads = Uploads::new(ctx, claimed);
    let attempted = publish(ctx, claimed, &post, &media, &credentials, &mut uploads).await;
    // A platform may stop honouring an access token before its stated expiry (revoked
    // sessions, a clock skew, a shortened lifetime). With a refresh token in hand, renew once and
    // call again before asking a person to reconnect; only when nothing new went out, so a
    // thread never repeats a part.
    let refused = match (&attempted.outcome, &credentials) {
        (Outcome::NeedsReauth { .. }, Credentials::OAuth2 { access_token, refresh_token: Some(_) })
            if claimed.can_refresh && attempted.thread_ids == claimed.thread_ids =>
        {
            access_token
        }
        _ => return attempted.with_uploads(uploads),
    };
    let attempted = match ctx.accounts.renew_refused(claimed.team_id, claimed.account_id, refused).await {
        Ok((_, renewed)) => publish(ctx, claimed, &post, &media, &renewed, &mut uploads).await,
        Err(RefreshError::Platform(error)) => Attempted::new(from_error(error), claimed),
        Err(RefreshError::Store(e)) => Attempted::new(store_trouble(claimed, &e), claimed),
    };
    attempted.with_uploads(uploads)
}

async fn publish(
    ctx: &Context,
    claimed: &Claimed,
    post: &PostContent,
    media: &[DeliveryMedia],
    credentials: &Credentials,
    uploads: &mut Uploads<'_>,
) -> Attempted {
    match claimed.platform {
        Platform::X => publish_x(ctx, claimed, post, media, credentials, uploads).await,
        Platform::Linkedin => publish_linkedin(ctx, claimed, post, media, credentials, uploads).await,
        Platform::Facebook => publish_facebook(ctx, claimed, post, media, credentials, uploads).await,
    }
}

/// The account's credentials, renewed first when they expire within the margin.
async fn credentials(ctx: &Context, claimed: &Claimed) -> Result<Credentials, Outcome> {
    let margin = TimeDelta::from_std(ctx.config.refresh_margin).unwrap_or(TimeDelta::minutes(5));
    if needs_refresh(claimed.can_refresh, claimed.token_expires_at, margin, Utc::now()) {
        return match ctx.accounts.fresh_credentials(claimed.team_id, claimed.account_id, margin).await {
            Ok((_, credentials)) => Ok(credentials),
            Err(RefreshError::Platform(error)) => Err(from_error(error)),
            Err(RefreshError::Store(e)) => Err(store_trouble(claimed, &e)),
        };
    }
    if !claimed.can_refresh && claimed.token_expires_at.is_some_and(|at| at <= Utc::now()) {
        return Err(Outcome::NeedsReauth {
            message: format!("The {} token has expired; reconnect the account.", claimed.platform.label()),
        });
    }
    let Some(sealed) = &claimed.sealed_credentials else {
        return Err(Outcome::NeedsReauth { message: "The account holds no tokens; reconnect it.".into() });
    };
    accounts::open_credentials(ctx.accounts.vault(), claimed.team_id, claimed.platform, &claimed.external_id, sealed)
        .map_err(|e| store_trouble(claimed, &e))
}

/// The store or the key vault failed: retried (an operator can fix a missing key or a database
/// outage), never shown with its details.
fn store_trouble(claimed: &Claimed, e: &crier_domain::DomainError) -> Outcome {
    tracing::error!(error = %e, delivery_id = %claimed.delivery_id, "could not read the account's tokens");
    let message = match e {
        crier_domain::DomainError::SecretUnreadable(_) => "The account's tokens cannot be decrypted with the configured keys.",
        _ => "The account's tokens could not be read.",
    };
    Outcome::Temporary { error: PlatformError::new(claimed.platform, ErrorClass::Temporary, None, None, message), ambiguous: false }
}

fn unavailable(platform: Platform) -> Outcome {
    Outcome::Permanent {
        class: FailureClass::Configuration,
        code: None,
        message: format!("{} is not configured on this Crier.", platform.label()),
    }
}

async fn publish_x(
    ctx: &Context,
    claimed: &Claimed,
    post: &PostContent,
    media: &[DeliveryMedia],
    credentials: &Credentials,
    uploads: &mut Uploads<'_>,
) -> Attempted {
    let client = ctx.accounts.clients().x_api();
    let auth = x_auth(credentials);
    let mut parts = vec![post.published_text(Platform::X, false)];
    parts.extend(post.thread.iter().cloned());
    let mut thread_ids = claimed.thread_ids.clone();

    if claimed.reconcile && thread_ids.len() < parts.len() {
        let recent = client.recent_posts(&auth, &claimed.external_id, 20).await;
        match recent.value {
            Ok(recent) => {
                if let Some(found) = reconcile::find(&recent, &parts[thread_ids.len()], claimed.reconcile_since) {
                    thread_ids.push(found.external_id.clone());
                }
            }
            Err(error) => return Attempted { budget: recent.budget, thread_ids, ..Attempted::new(from_error(error), claimed) },
        }
    }
    if thread_ids.len() >= parts.len() {
        return x_published(thread_ids, true, None, None);
    }
    let mut published_now = 0;
    let mut reuploaded = false;
    loop {
        let outcome = if media.is_empty() {
            client.publish_thread(&auth, &parts[thread_ids.len()..], thread_ids.last().map(String::as_str)).await
        } else {
            // Every remaining part's media first (all of it processed), then the posts.
            let uploader = Uploader::X(client, &auth);
            let mut posts = Vec::with_capacity(parts.len() - thread_ids.len());
            for (index, text) in parts.iter().enumerate().skip(thread_ids.len()) {
                match uploads.ids(&uploader, &media::of_item(media, index)).await {
                    Ok(media_ids) => posts.push(XPost { text: text.clone(), media_ids, in_reply_to: None }),
                    Err(error) => return Attempted { thread_ids, ..Attempted::new(upload_failed(error), claimed) },
                }
            }
            let started = Instant::now();
            let outcome = client.publish_thread_posts(&auth, &posts, thread_ids.last().map(String::as_str)).await;
            let status = outcome.failure.as_ref().map_or(Some(201), |f| f.error.status);
            uploads.step("post", status, started.elapsed(), outcome.budget);
            outcome
        };
        thread_ids.extend(outcome.published.iter().map(|p| p.external_id.clone()));
        published_now += outcome.published.len();
        match outcome.failure {
            None => return x_published(thread_ids, published_now == 0, outcome.budget, Some(201)),
            // X forgot the media ids (expired, or never processed): upload the rest again, once.
            Some(failure) if failure.error.is_media_expired() && !reuploaded => {
                reuploaded = true;
                uploads.forget(i16::try_from(thread_ids.len()).unwrap_or(i16::MAX)).await;
            }
            Some(failure) => {
                let status = failure.error.status;
                return Attempted {
                    http_status: status,
                    thread_ids,
                    budget: outcome.budget,
                    ..Attempted::new(from_error(failure.error), claimed)
                };
            }
        }
    }
}

/// How an X account's calls are signed: its OAuth 2.0 token, or its OAuth 1.0a keys.
pub(crate) fn x_auth(credentials: &Credentials) -> XAuth {
    match credentials {
        Credentials::OAuth2 { access_token, .. } => XAuth::Bearer(access_token.clone()),
        Credentials::OAuth1 { consumer_key, consumer_secret, access_token, access_token_secret } => XAuth::OAuth1(OAuth1Credentials {
            consumer_key: consumer_key.expose_secret().to_owned(),
            consumer_secret: consumer_secret.clone(),
            token: access_token.expose_secret().to_owned(),
            token_secret: access_token_secret.clone(),
        }),
    }
}

fn x_published(thread_ids: Vec<String>, reconciled: bool, budget: Option<RateBudget>, http_status: Option<u16>) -> Attempted {
    let first = thread_ids[0].clone();
    Attempted {
        outcome: Outcome::Published { permalink: Some(crier_protocol::x::permalink(&first)), external_id: first, reconciled },
        http_status,
        thread_ids,
        budget,
        steps: Vec::new(),
    }
}

fn reconciled(found: Option<&RecentPost>) -> Option<Outcome> {
    found.map(|p| Outcome::Published { external_id: p.external_id.clone(), permalink: p.permalink.clone(), reconciled: true })
}

async fn publish_linkedin(
    ctx: &Context,
    claimed: &Claimed,
    post: &PostContent,
    media: &[DeliveryMedia],
    credentials: &Credentials,
    uploads: &mut Uploads<'_>,
) -> Attempted {
    let Some(client) = ctx.accounts.clients().linkedin() else { return Attempted::new(unavailable(Platform::Linkedin), claimed) };
    let Credentials::OAuth2 { access_token, .. } = credentials else {
        return Attempted::new(unavailable(Platform::Linkedin), claimed);
    };
    let author = linkedin_author(&claimed.external_id);
    let text = post.published_text(Platform::Linkedin, !media.is_empty());
    if claimed.reconcile {
        let recent = client.recent_posts(access_token, &author, 20).await;
        match recent.value {
            Ok(recent) => {
                if let Some(outcome) = reconciled(reconcile::find(&recent, &text, claimed.reconcile_since)) {
                    return Attempted::new(outcome, claimed);
                }
            }
            // A member's posts cannot be read without r_member_social: publishing again could post
            // twice, and reconnecting would not help. The person decides, told exactly why.
            Err(error)
                if matches!(author, LinkedInAuthor::Member(_))
                    && matches!(error.class, ErrorClass::NeedsReauth | ErrorClass::Permanent) =>
            {
                let message = "The call to LinkedIn got no answer, and LinkedIn does not let apps read a member's posts, so Crier \
                               cannot tell whether this post went out. Check the profile; if the post is not there, use Retry.";
                let outcome = Outcome::Permanent { class: FailureClass::Unknown, code: error.code.clone(), message: message.into() };
                return Attempted { budget: recent.budget, ..Attempted::new(outcome, claimed) };
            }
            Err(error) => return Attempted { budget: recent.budget, ..Attempted::new(from_error(error), claimed) },
        }
    }
    if media.is_empty() {
        let article =
            post.link.as_deref().and_then(|l| Url::parse(l).ok()).map(|source| LinkedInArticle { source, title: None, description: None });
        let response = client.publish(access_token, &LinkedInPost { author, text, article }).await;
        return finish_single(claimed, response.value, response.budget);
    }
    let own = media::of_item(media, 0);
    let uploader = Uploader::Linkedin(client, access_token, &author);
    let shown = LinkedInPost { author: author.clone(), text, article: None };
    let (shown, own) = (&shown, &own);
    upload_then_post(claimed, uploads, &uploader, own, move |urns| async move {
        client.publish_with_media(access_token, shown, &linkedin_media(own, urns)).await
    })
    .await
}

/// Uploads `media` (what is not uploaded yet) and makes the post with their ids. A post refused
/// because the platform forgot the ids (expired, or already used) is uploaded and sent again, once.
async fn upload_then_post<Fut>(
    claimed: &Claimed,
    uploads: &mut Uploads<'_>,
    uploader: &Uploader<'_>,
    media: &[&DeliveryMedia],
    post: impl Fn(Vec<String>) -> Fut,
) -> Attempted
where
    Fut: Future<Output = Response<Published>>,
{
    let mut reuploaded = false;
    loop {
        let ids = match uploads.ids(uploader, media).await {
            Ok(ids) => ids,
            Err(error) => return Attempted::new(upload_failed(error), claimed),
        };
        let started = Instant::now();
        let response = post(ids).await;
        uploads.answered("post", &response, started.elapsed());
        match response.value {
            Err(error) if error.is_media_expired() && !reuploaded => {
                reuploaded = true;
                uploads.forget(0).await;
            }
            value => return finish_single(claimed, value, response.budget),
        }
    }
}

/// What a LinkedIn post shows for its uploaded media (the rules allow one kind per post).
fn linkedin_media(media: &[&DeliveryMedia], urns: Vec<String>) -> LinkedInMedia {
    let alt = |m: &DeliveryMedia| (!m.alt_text.is_empty()).then(|| m.alt_text.clone());
    let first = media[0];
    match first.facts.kind() {
        MediaKind::Video => LinkedInMedia::Video { urn: urns[0].clone(), title: None },
        MediaKind::Document => LinkedInMedia::Document { urn: urns[0].clone(), title: first.file_name.clone() },
        MediaKind::Image | MediaKind::Gif if media.len() == 1 => {
            LinkedInMedia::Image(LinkedInImage { urn: urns[0].clone(), alt_text: alt(first) })
        }
        MediaKind::Image | MediaKind::Gif => {
            LinkedInMedia::MultiImage(media.iter().zip(urns).map(|(m, urn)| LinkedInImage { urn, alt_text: alt(m) }).collect())
        }
    }
}

async fn publish_facebook(
    ctx: &Context,
    claimed: &Claimed,
    post: &PostContent,
    media: &[DeliveryMedia],
    credentials: &Credentials,
    uploads: &mut Uploads<'_>,
) -> Attempted {
    let Some(client) = ctx.accounts.clients().facebook() else { return Attempted::new(unavailable(Platform::Facebook), claimed) };
    let Credentials::OAuth2 { access_token, .. } = credentials else {
        return Attempted::new(unavailable(Platform::Facebook), claimed);
    };
    let page_token: &SecretString = access_token;
    let message = post.published_text(Platform::Facebook, !media.is_empty());
    if claimed.reconcile {
        let recent = client.recent_posts(&claimed.external_id, page_token, 25).await;
        match recent.value {
            Ok(recent) => {
                if let Some(outcome) = reconciled(reconcile::find(&recent, &message, claimed.reconcile_since)) {
                    return Attempted::new(outcome, claimed);
                }
            }
            Err(error) => return Attempted { budget: recent.budget, ..Attempted::new(from_error(error), claimed) },
        }
    }
    let own = media::of_item(media, 0);
    if own.is_empty() {
        let link = post.link.as_deref().and_then(|l| Url::parse(l).ok());
        let response = client.publish(&claimed.external_id, page_token, &FacebookPost { message, link }).await;
        return finish_single(claimed, response.value, response.budget);
    }
    if let [video] = own.as_slice()
        && video.facts.kind() == MediaKind::Video
    {
        return publish_facebook_video(ctx, claimed, client, page_token, &message, video, uploads).await;
    }
    // Unpublished photos last a day and attach once.
    let uploader = Uploader::FacebookPhotos(client, &claimed.external_id, page_token);
    let (page_id, message) = (claimed.external_id.as_str(), message.as_str());
    upload_then_post(claimed, uploads, &uploader, &own, move |photo_ids| async move {
        client.publish_photos(page_id, page_token, message, &photo_ids).await
    })
    .await
}

/// A Page video, sent in chunks with the Page token or fetched by Meta from a signed link to
/// Crier's copy ([`FacebookVideoRoute`]); the post exists from the video call (the chunked
/// upload's `finish`) on. Its processing is then followed, and a processing failure is reported
/// with Meta's reason.
async fn publish_facebook_video(
    ctx: &Context,
    claimed: &Claimed,
    client: &crier_clients::FacebookClient,
    page_token: &SecretString,
    message: &str,
    video: &DeliveryMedia,
    uploads: &mut Uploads<'_>,
) -> Attempted {
    let (published, budget) = match ctx.media.facebook_video {
        FacebookVideoRoute::Link => {
            let link = match media::link(ctx, claimed, video) {
                Ok(link) => link,
                Err(outcome) => return Attempted::new(outcome, claimed),
            };
            let started = Instant::now();
            let response = client.publish_video(&claimed.external_id, page_token, VideoSource::Url(&link), message, None).await;
            uploads.answered("video", &response, started.elapsed());
            match response.value {
                Ok(published) => (published, response.budget),
                Err(error) => return finish_single(claimed, Err(error), response.budget),
            }
        }
        FacebookVideoRoute::Upload => {
            let upload = uploads.to_upload(video);
            if let Err(failed) = uploads.spend_budget(&upload).await {
                return Attempted::new(upload_failed(failed), claimed);
            }
            let in_flight = uploads.room_for(&upload).await;
            let sent = client.upload_page_video(&claimed.external_id, page_token, &upload, message, None, &ctx.media.upload).await;
            drop(in_flight);
            uploads.record(&sent.steps);
            let finishing = sent.steps.last().is_some_and(|s| s.step == crier_clients::PAGE_VIDEO_FINISH_STEP);
            match sent.value {
                Ok(published) => (published, None),
                // Only `finish` makes the post: a failure before it is an upload's, never in doubt.
                Err(error) if !finishing => return Attempted::new(upload_failed(error.into()), claimed),
                Err(error) => return finish_single(claimed, Err(error), None),
            }
        }
    };
    uploads.remember(video, &published.external_id, None).await;
    let processed = client.wait_for_video(&published.external_id, page_token, &ctx.media.upload).await;
    uploads.record(&processed.steps);
    match processed.value {
        Err(error) if error.class == ErrorClass::Permanent => {
            let message = format!("Facebook could not process the video: {}", error.message);
            Attempted::new(Outcome::Permanent { class: FailureClass::Permanent, code: error.code, message }, claimed)
        }
        // Still processing when Crier stopped waiting (or a status call failed): the post exists,
        // and publishing it again would post it twice.
        Err(error) => {
            tracing::warn!(delivery_id = %claimed.delivery_id, error = %error, "the Facebook video is published but its processing was not seen to end");
            finish_single(claimed, Ok(published), budget)
        }
        Ok(()) => finish_single(claimed, Ok(published), budget),
    }
}

fn finish_single(claimed: &Claimed, value: Result<Published, PlatformError>, budget: Option<RateBudget>) -> Attempted {
    match value {
        Ok(published) => Attempted {
            outcome: Outcome::Published { external_id: published.external_id, permalink: published.permalink, reconciled: false },
            http_status: Some(201),
            thread_ids: claimed.thread_ids.clone(),
            budget,
            steps: Vec::new(),
        },
        Err(error) => {
            let status = error.status;
            Attempted { http_status: status, budget, ..Attempted::new(from_error(error), claimed) }
        }
    }
}

fn note(class: FailureClass, error: &PlatformError) -> FailureNote {
    FailureNote { class, code: error.code.clone(), message: error.message.clone() }
}

/// What to write for an attempt: the delivery's next state, and the attempt's record.
pub fn completion(claimed: &Claimed, attempted: Attempted, duration_ms: i32, now: DateTime<Utc>) -> Completion {
    let mut c = Completion {
        delivery_id: claimed.delivery_id,
        attempt: claimed.attempt,
        platform: claimed.platform,
        state: DeliveryState::Failed,
        next_attempt_at: None,
        failures: claimed.failures,
        reconcile: false,
        thread_ids: attempted.thread_ids,
        external_id: None,
        permalink: None,
        failure: None,
        outcome: AttemptOutcome::Permanent,
        http_status: attempted.http_status.and_then(|s| i16::try_from(s).ok()),
        duration_ms,
        steps: attempted.steps,
    };
    match attempted.outcome {
        Outcome::Published { external_id, permalink, reconciled } => {
            c.state = DeliveryState::Published;
            c.external_id = Some(external_id);
            c.permalink = permalink;
            c.outcome = if reconciled { AttemptOutcome::Reconciled } else { AttemptOutcome::Published };
        }
        Outcome::DryRunOk => {
            c.state = DeliveryState::DryRunOk;
            c.outcome = AttemptOutcome::DryRunOk;
        }
        Outcome::Permanent { class, code, message } => {
            c.failure = Some(FailureNote { class, code, message });
            c.outcome = if class == FailureClass::Validation { AttemptOutcome::Validation } else { AttemptOutcome::Permanent };
        }
        Outcome::Temporary { error, ambiguous } => {
            c.failures = claimed.failures.saturating_add(1);
            c.outcome = AttemptOutcome::Temporary;
            c.reconcile = ambiguous || claimed.reconcile;
            match claimed.retry.after_failure(c.failures, now) {
                RetryDecision::RetryAt(at) => {
                    c.state = DeliveryState::Retrying;
                    c.next_attempt_at = Some(at);
                    c.failure = Some(note(FailureClass::Temporary, &error));
                }
                RetryDecision::GiveUp => {
                    // A "Retry" looks for the post first if this attempt's outcome is unknown.
                    c.state = DeliveryState::Failed;
                    c.failure = Some(FailureNote {
                        message: format!("Gave up after {} attempts. Last error: {}", c.failures, error.message),
                        ..note(FailureClass::Temporary, &error)
                    });
                }
            }
        }
        Outcome::RateLimited { until, error } => {
            // Not the delivery's fault: it does not use up an attempt.
            c.state = DeliveryState::Retrying;
            c.next_attempt_at = Some(until.max(now));
            c.outcome = AttemptOutcome::RateLimited;
            c.reconcile = claimed.reconcile;
            c.failure = Some(note(FailureClass::RateLimited, &error));
        }
        Outcome::Deferred { until, message } => {
            c.state = DeliveryState::Retrying;
            c.next_attempt_at = Some(until.max(now));
            c.outcome = AttemptOutcome::RateLimited;
            c.reconcile = claimed.reconcile;
            c.failure = Some(FailureNote { class: FailureClass::RateLimited, code: None, message });
        }
        Outcome::NeedsReauth { message } => {
            c.state = DeliveryState::Held;
            c.outcome = AttemptOutcome::NeedsReauth;
            c.reconcile = claimed.reconcile;
            c.failure = Some(FailureNote { class: FailureClass::NeedsReauth, code: None, message });
        }
    }
    c
}
