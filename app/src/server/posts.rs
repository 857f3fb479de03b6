//! Compose, schedule, and follow posts: the server functions behind the Compose page, the
//! dashboard and each post's page. Times go out already written in the viewer's timezone.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::errors::AppError;
use crier_domain::delivery::DeliveryState;
use crier_domain::retry::RetryPolicy;
use crier_platform::Platform;
#[cfg(feature = "ssr")]
use server_fn::ServerFn;

/// An account the Compose page offers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComposeAccount {
    /// Crier's id.
    pub account_id: String,
    /// Which platform.
    pub platform: Platform,
    /// Its name at the platform.
    pub name: String,
    /// Its @handle, where the platform has one (X), without the "@".
    pub handle: Option<String>,
    /// Where Crier serves its profile picture, once it has one.
    pub picture: Option<String>,
    /// Why it cannot take posts now (needs reconnecting), if so; its posts are then held.
    pub warning: Option<String>,
}

/// What the Compose page needs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ComposeData {
    /// The team's accounts that are not disconnected.
    pub accounts: Vec<ComposeAccount>,
    /// The viewer's timezone.
    pub timezone: String,
    /// Now, in it, as a `datetime-local` value.
    pub now_local: String,
    /// The time the schedule field starts with: now, or the time clicked on the calendar if it
    /// is still to come (`?on=` a day, at 09:00 or at the week's hour `&at=`).
    pub starts_at: String,
    /// Whether the viewer may publish (editors and up).
    pub can_publish: bool,
    /// Whether the viewer's posts wait for approval (then Compose submits them for review).
    #[serde(default)]
    pub needs_review: bool,
    /// The team's retry policy, which a post follows unless it sets its own.
    pub retry: RetryPolicy,
    /// The form's one-time key (sending the form twice makes one post).
    pub form_key: String,
    /// Each platform's media rules as configured: the island checks attachments with them.
    pub media_rules: crier_domain::post::MediaRules,
    /// The media the form starts with (after a plain upload or a refused plain post, or chosen on
    /// the Media page), with the alt text each is attached with.
    pub attached: Vec<crate::server::media::ComposeMedia>,
    /// The largest file accepted, in words.
    pub max_file: String,
}

/// The accounts to choose from and the viewer's timezone; `media` are the ids of the items the
/// form starts with attached (those no longer in the team's library are left out), `media_alt`
/// the alt text each is attached with (the item's own where empty or missing).
#[server(prefix = "/api", endpoint = "compose")]
pub async fn compose_view(
    #[server(default)] media: Vec<String>,
    #[server(default)] media_alt: Vec<String>,
    #[server(default)] on: String,
    #[server(default)] at: String,
    #[server(default)] draft: String,
) -> Result<ComposeData, AppError> {
    use crier_domain::store::teams;

    use super::ssr::{current_member, pool};
    let me = current_member().await?;
    let pool = pool()?;
    let media_state = super::ssr::media()?;
    let attached = attached_media(&pool, me.team_id, &media, &media_alt).await?;
    let accounts = compose_accounts(&pool, me.team_id).await?;
    let retry = teams::retry_policy(&pool, me.team_id).await?;
    let now = chrono::Utc::now().with_timezone(&me.timezone.tz());
    let now_local = now.format("%Y-%m-%dT%H:%M").to_string();
    // A day (and, from the week, an hour) clicked on the calendar: then, or 09:00 that day, if
    // it is still to come; anything else (not a day, a time passed) starts at now, as Compose does.
    // (Both are local times written alike, so they compare as text.)
    let hour = at.trim().parse::<u8>().ok().filter(|h| *h < 24).unwrap_or(9);
    let starts_at = chrono::NaiveDate::parse_from_str(on.trim(), "%Y-%m-%d")
        .ok()
        .map(|day| format!("{}T{hour:02}:00", day.format("%Y-%m-%d")))
        .filter(|clicked| *clicked > now_local)
        .unwrap_or_else(|| now_local.clone());
    Ok(ComposeData {
        accounts,
        timezone: me.timezone.name().to_owned(),
        now_local,
        starts_at,
        can_publish: me.role.can_edit(),
        needs_review: needs_review(&pool, &me, &draft).await?,
        retry,
        form_key: super::ssr::new_form_key(),
        media_rules: media_state.rules.clone(),
        attached,
        max_file: crier_media::ByteSize(media_state.max_file_bytes).to_string(),
    })
}

/// Whether Compose offers only "Submit for review": the team's rule for the member's role, unless
/// the form holds an approved draft of the team (then Publish now and Schedule are offered; the
/// store still refuses it if it was changed since it was approved).
#[cfg(feature = "ssr")]
async fn needs_review(pool: &sqlx::PgPool, me: &crier_domain::store::Member, draft: &str) -> Result<bool, AppError> {
    use crier_domain::post_state::PostState;
    use crier_domain::store::drafts;
    if !crier_domain::store::reviews::policy(pool, me.team_id).await?.needs_review(me.role) {
        return Ok(false);
    }
    let approved = match crier_domain::store::parse_id(draft.trim()) {
        Ok(id) => matches!(drafts::get(pool, me.team_id, id).await, Ok(d) if d.state == PostState::Approved),
        Err(_) => false,
    };
    Ok(!approved)
}

/// The items `ids` names that are in the team's library, each with the alt text given beside it
/// (its own when none was given), in order, once each.
#[cfg(feature = "ssr")]
pub(crate) async fn attached_media(
    pool: &sqlx::PgPool,
    team_id: uuid::Uuid,
    ids: &[String],
    alts: &[String],
) -> Result<Vec<crate::server::media::ComposeMedia>, AppError> {
    let mut wanted: Vec<(uuid::Uuid, Option<&String>)> = Vec::new();
    for (index, raw) in ids.iter().enumerate().take(crier_domain::post::MAX_MEDIA_PER_ITEM) {
        if let Ok(id) = uuid::Uuid::parse_str(raw.trim())
            && !wanted.iter().any(|(seen, _)| *seen == id)
        {
            wanted.push((id, alts.get(index).filter(|alt| !alt.trim().is_empty())));
        }
    }
    let just_ids: Vec<uuid::Uuid> = wanted.iter().map(|(id, _)| *id).collect();
    let found = crier_domain::store::media::found(pool, team_id, &just_ids).await?;
    Ok(found
        .into_iter()
        .map(|item| {
            let alt = wanted.iter().find(|(id, _)| *id == item.media_id).and_then(|(_, alt)| alt.cloned());
            let mut shown = crate::server::media::ComposeMedia::from_item(item);
            if let Some(alt) = alt {
                shown.alt_text = alt;
            }
            shown
        })
        .collect())
}

/// The team's accounts that can be chosen in Compose (every one not disconnected).
#[cfg(feature = "ssr")]
pub(crate) async fn compose_accounts(pool: &sqlx::PgPool, team_id: uuid::Uuid) -> Result<Vec<ComposeAccount>, AppError> {
    use crier_domain::account::AccountStatus;
    let rows = crier_domain::store::accounts::list(pool, team_id).await?;
    let mut pictures = crier_domain::store::account_pictures::urls(pool, team_id).await?;
    Ok(rows
        .into_iter()
        .filter(|a| a.status != AccountStatus::Disconnected)
        .map(|a| ComposeAccount {
            account_id: a.account_id.to_string(),
            platform: a.platform,
            name: a.name.clone(),
            handle: a.handle.as_deref().map(|h| h.trim_start_matches('@').to_owned()),
            picture: pictures.remove(&a.account_id),
            warning: (a.status != AccountStatus::Connected).then(|| "needs reconnecting: posts wait until it is".to_owned()),
        })
        .collect())
}

/// The fields of Compose a plain form post keeps for the page it comes back to (never the form's
/// key, the button pressed or the file being uploaded): `create_post` when it refuses the post, and
/// `POST /media/upload` when Compose's "Upload" button sent the form there. A field named `x[]` is
/// a list, kept under `x` (see [`crate::components::form::refill_list`]).
pub const COMPOSE_KEPT_FIELDS: [&str; 12] = [
    "text",
    "text_x",
    "text_linkedin",
    "text_facebook",
    "link",
    "thread[]",
    "accounts[]",
    "scheduled_at",
    "max_attempts",
    "first_retry_minutes",
    "media[]",
    "media_alt[]",
];

/// Compose's typed fields (`name`, `value` as the form sent them, lists repeated) as the values
/// a refill reads: each of [`COMPOSE_KEPT_FIELDS`] once, lists joined.
pub fn compose_kept_values(fields: &[(String, String)]) -> Vec<(String, String)> {
    COMPOSE_KEPT_FIELDS
        .iter()
        .filter_map(|name| {
            let values: Vec<String> = fields.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect();
            if values.is_empty() {
                return None;
            }
            match name.strip_suffix("[]") {
                Some(list) => Some((list.to_owned(), crate::components::form::join_list(&values))),
                None => Some(((*name).to_owned(), values.concat())),
            }
        })
        .collect()
}

/// What a schedule time means: the moment in the viewer's zone and in UTC, or why it is not one
/// (a time the clocks skip, or one that happens twice). For the line under the time field.
#[server(prefix = "/api", endpoint = "compose/time")]
pub async fn explain_time(scheduled_at: String, #[server(default)] occurrence: String) -> Result<String, AppError> {
    use super::ssr::current_member;
    let me = current_member().await?;
    if scheduled_at.trim().is_empty() {
        return Ok("No time yet: a draft or a post for review can wait without one.".to_owned());
    }
    let moment = me.timezone.schedule_time(&scheduled_at, parse_occurrence(&occurrence)).map_err(|e| AppError::Fields(vec![e]))?;
    Ok(format!("{} = {} UTC", me.timezone.format(moment), moment.format("%Y-%m-%d %H:%M")))
}

#[cfg(feature = "ssr")]
fn parse_occurrence(raw: &str) -> Option<crier_domain::timezone::Occurrence> {
    use crier_domain::timezone::Occurrence;
    match raw.trim() {
        "earlier" => Some(Occurrence::Earlier),
        "later" => Some(Occurrence::Later),
        _ => None,
    }
}

#[cfg(feature = "ssr")]
use super::ssr::editor;

/// A form's post content: the shared text, the X, LinkedIn and Facebook texts, link and thread.
#[cfg(feature = "ssr")]
fn parse_content(text: &str, own: [String; 3], link: &str, thread: Vec<String>) -> Result<crier_domain::post::PostContent, AppError> {
    let [x, linkedin, facebook] = own;
    let overrides = [(Platform::X, x), (Platform::Linkedin, linkedin), (Platform::Facebook, facebook)];
    crier_domain::post::PostContent::parse(text, overrides, link, thread).map_err(|e| AppError::Fields(vec![e]))
}

/// What came of a submitted post.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scheduled {
    /// The new post.
    pub post_id: String,
    /// A sentence for the page: what happens next, with the time in the viewer's zone and UTC.
    pub message: String,
    /// The form's key for its next post (a form posted in place stays on the page).
    pub next_form_key: String,
    /// A dry run: the form keeps the post (it was a check); otherwise it empties, with an Undo.
    pub dry_run: bool,
    /// A draft was saved (this is its id): the form keeps it, and saving again updates it.
    #[serde(default)]
    pub draft_id: Option<String>,
}

/// "Publish now", "Schedule" or "Dry run" (`intent`): writes the post and its deliveries in one
/// transaction; from a draft (`draft`, its id), the draft becomes that post. "Save draft" (intent
/// `draft`) saves it without deliveries (a new draft, or `draft` again). Nothing is saved when
/// anything is wrong; the error names the field, and the form comes back as it was typed (with or
/// without wasm).
#[server(prefix = "/api", endpoint = "posts/create")]
#[allow(clippy::too_many_arguments)]
pub async fn create_post(
    text: String,
    #[server(default)] text_x: String,
    #[server(default)] text_linkedin: String,
    #[server(default)] text_facebook: String,
    #[server(default)] link: String,
    #[server(default)] thread: Vec<String>,
    #[server(default)] accounts: Vec<String>,
    #[server(default)] intent: String,
    #[server(default)] scheduled_at: String,
    #[server(default)] occurrence: String,
    #[server(default)] max_attempts: String,
    #[server(default)] first_retry_minutes: String,
    #[server(default)] media: Vec<String>,
    #[server(default)] media_alt: Vec<String>,
    #[server(default)] form_key: String,
    #[server(default)] draft: String,
    #[server(default)] utm: String,
    #[server(default)] utm_campaign: String,
    #[server(default)] utm_medium: String,
    #[server(default)] short_links: String,
    #[server(default)] first_comment_x: String,
    #[server(default)] first_comment_linkedin: String,
    #[server(default)] first_comment_facebook: String,
) -> Result<Scheduled, AppError> {
    use super::ssr::fail_form;
    use crate::components::form::join_list;
    let typed_thread = join_list(&thread);
    let typed_accounts = join_list(&accounts);
    let typed_media = join_list(&media);
    let typed_alts = join_list(&media_alt);
    let typed = [
        ("text", text.as_str()),
        ("text_x", text_x.as_str()),
        ("text_linkedin", text_linkedin.as_str()),
        ("text_facebook", text_facebook.as_str()),
        ("link", link.as_str()),
        ("thread", typed_thread.as_str()),
        ("accounts", typed_accounts.as_str()),
        ("scheduled_at", scheduled_at.as_str()),
        ("max_attempts", max_attempts.as_str()),
        ("first_retry_minutes", first_retry_minutes.as_str()),
        ("media", typed_media.as_str()),
        ("media_alt", typed_alts.as_str()),
        ("draft", draft.as_str()),
        ("utm", utm.as_str()),
        ("utm_campaign", utm_campaign.as_str()),
        ("utm_medium", utm_medium.as_str()),
        ("short_links", short_links.as_str()),
        // Link tracking's fields were part of what was sent (an unticked box sends nothing).
        (TRACKING_SENT, "1"),
        ("first_comment_x", first_comment_x.as_str()),
        ("first_comment_linkedin", first_comment_linkedin.as_str()),
        ("first_comment_facebook", first_comment_facebook.as_str()),
    ];
    let outcome = async {
        let me = editor().await?;
        let form = PostForm {
            media: &media,
            media_alt: &media_alt,
            text: &text,
            texts: [&text_x, &text_linkedin, &text_facebook],
            link: &link,
            thread: &thread,
            accounts: &accounts,
            intent: &intent,
            scheduled_at: &scheduled_at,
            occurrence: &occurrence,
            max_attempts: &max_attempts,
            first_retry_minutes: &first_retry_minutes,
            draft: &draft,
            tracking: [&utm, &utm_campaign, &utm_medium, &short_links],
            first_comments: [&first_comment_x, &first_comment_linkedin, &first_comment_facebook],
        };
        super::ssr::once_per_form(&form_key, &me, super::ssr::Replay::Same, create_post_once(&me, form)).await
    }
    .await;
    match outcome {
        Ok(done) => {
            // A plain post comes back to an empty Compose that says what happened, where to follow
            // it and how to undo it; a dry run comes back with the post still in the form.
            let said = [(crate::components::form::NOTICE_FIELD, done.message.as_str()), ("post_id", done.post_id.as_str())];
            let kept: Vec<(&str, &str)> = if let Some(saved) = &done.draft_id {
                // A saved draft stays in the form, now naming the draft.
                said.into_iter().chain(typed.into_iter().filter(|(k, _)| *k != "draft")).chain([("draft", saved.as_str())]).collect()
            } else if done.dry_run {
                said.into_iter().chain(typed).collect()
            } else {
                said.into_iter().chain([(UNDO_FIELD, "1"), ("accounts", typed_accounts.as_str())]).collect()
            };
            super::ssr::keep_for_next_page(CreatePost::PATH, &kept).await;
            Ok(done)
        }
        Err(e) => fail_form(CreatePost::PATH, e, &typed).await,
    }
}

/// Marks kept form values that include link tracking's fields, so Compose shows an unticked box
/// unticked rather than the team's default.
pub const TRACKING_SENT: &str = "tracking_sent";

/// Link tracking's fields (`utm` and `short_links` are checkboxes: ticked when not empty).
#[cfg(feature = "ssr")]
pub(crate) fn parse_tracking([utm, campaign, medium, short]: [&String; 4]) -> Result<crier_domain::link_tracking::LinkTracking, AppError> {
    crier_domain::link_tracking::LinkTracking::parse(!utm.trim().is_empty(), campaign, medium, !short.trim().is_empty())
        .map_err(|e| AppError::Fields(vec![e]))
}

/// Compose's fields as sent.
#[cfg(feature = "ssr")]
struct PostForm<'a> {
    text: &'a str,
    texts: [&'a String; 3],
    link: &'a str,
    thread: &'a [String],
    accounts: &'a [String],
    intent: &'a str,
    scheduled_at: &'a str,
    occurrence: &'a str,
    max_attempts: &'a str,
    first_retry_minutes: &'a str,
    media: &'a [String],
    media_alt: &'a [String],
    draft: &'a str,
    /// Link tracking: `utm`, `utm_campaign`, `utm_medium`, `short_links`.
    tracking: [&'a String; 4],
    /// First comments on X, LinkedIn and Facebook.
    first_comments: [&'a String; 3],
}

/// Compose's attachments (`media[]` ids, `media_alt[]` the alt text of each, in the same order) as
/// the post's shared media list. An id that is not an id is, like another team's, not in the library.
#[cfg(feature = "ssr")]
fn parse_media(ids: &[String], alts: &[String]) -> Result<Vec<crier_domain::post::MediaChoice>, AppError> {
    use crier_domain::FieldError;
    use crier_domain::post::MediaChoice;
    ids.iter()
        .enumerate()
        .filter(|(_, raw)| !raw.trim().is_empty())
        .map(|(index, raw)| {
            let media_id = uuid::Uuid::parse_str(raw.trim()).map_err(|_| {
                AppError::Fields(vec![FieldError::new(
                    "media",
                    "One of the attached media is no longer in the library. Remove it and attach it again.",
                )])
            })?;
            Ok(MediaChoice { media_id, alt_text: alts.get(index).cloned(), platform: None, item: 0 })
        })
        .collect()
}

/// [`create_post`]'s work, done once per form.
#[cfg(feature = "ssr")]
async fn create_post_once(me: &crier_domain::store::Member, form: PostForm<'_>) -> Result<Scheduled, AppError> {
    use crier_domain::FieldError;
    use crier_domain::store::audit::Actor;
    use crier_domain::store::posts::{self, NewPost};

    use super::ssr::{media, pool};
    let PostForm {
        text,
        texts: [text_x, text_linkedin, text_facebook],
        link,
        thread,
        accounts,
        intent,
        scheduled_at,
        occurrence,
        max_attempts,
        first_retry_minutes,
        media: media_ids,
        media_alt,
        draft,
        tracking,
        first_comments,
    } = form;
    {
        let content = parse_content(text, [text_x.clone(), text_linkedin.clone(), text_facebook.clone()], link, thread.to_vec())?
            .with_media(parse_media(media_ids, media_alt)?)
            .map_err(|e| AppError::Fields(vec![e]))?
            .with_tracking(parse_tracking(tracking)?)
            .with_first_comments(Platform::ALL.into_iter().zip(first_comments.map(|c| c.clone())))
            .map_err(|e| AppError::Fields(vec![e]))?;
        let retry = crier_domain::retry::RetryOverride::parse(max_attempts, first_retry_minutes).map_err(|e| AppError::Fields(vec![e]))?;
        let account_ids = crier_domain::store::parse_account_ids(accounts)?;
        let draft_id = if draft.trim().is_empty() { None } else { Some(crier_domain::store::parse_id(draft)?) };
        let now = chrono::Utc::now();
        if intent == "draft" || intent == "review" {
            return save_draft(me, draft_id, content, account_ids, scheduled_at, occurrence, intent == "review").await;
        }
        if intent == "queue" {
            return add_to_queue(
                me,
                draft_id,
                NewPost { content, account_ids, scheduled_at: now, timezone: me.timezone, dry_run: false, retry },
            )
            .await;
        }
        let (scheduled_for, dry_run) = match intent {
            "schedule" => {
                let at = me.timezone.schedule_time(scheduled_at, parse_occurrence(occurrence)).map_err(|e| AppError::Fields(vec![e]))?;
                if crier_domain::post::has_passed(at, now) {
                    return Err(AppError::Fields(vec![FieldError::new(
                        "scheduled_at",
                        format!("{} has passed. Choose a later time, or use “Publish now”.", me.timezone.format(at)),
                    )]));
                }
                (at, false)
            }
            "dry_run" => (now, true),
            _ => (now, false),
        };
        let new = NewPost { content, account_ids, scheduled_at: scheduled_for, timezone: me.timezone, dry_run, retry };
        let ids = match draft_id {
            // A draft scheduled becomes the post; a dry run of it checks a copy and keeps the draft.
            Some(draft_id) if !dry_run => {
                let pool = pool()?;
                let mut tx = pool.begin().await.map_err(crier_domain::DomainError::from)?;
                let id = posts::schedule_draft(&mut tx, me.team_id, Actor::User(me.user_id), draft_id, &new, &media()?.rules).await?;
                tx.commit().await.map_err(crier_domain::DomainError::from)?;
                vec![id]
            }
            _ => posts::schedule_all(&pool()?, me.team_id, Actor::User(me.user_id), std::slice::from_ref(&new), &media()?.rules)
                .await
                .map_err(|(_, e)| AppError::from(e))?,
        };
        let n = new.account_ids.len();
        let accounts_word = if n == 1 { "1 account".to_owned() } else { format!("{n} accounts") };
        let message = match intent {
            "schedule" => format!("Scheduled for {} to {accounts_word}.", me.timezone.format_with_utc(scheduled_for)),
            "dry_run" => format!("Dry run started for {accounts_word}: everything is checked, nothing is published."),
            _ => format!("Publishing now to {accounts_word}."),
        };
        Ok::<_, AppError>(Scheduled {
            post_id: ids[0].to_string(),
            message,
            next_form_key: super::ssr::new_form_key(),
            dry_run,
            draft_id: None,
        })
    }
}

/// "Add to queue": each account's delivery takes its queue's next free slot.
#[cfg(feature = "ssr")]
async fn add_to_queue(
    me: &crier_domain::store::Member,
    draft_id: Option<uuid::Uuid>,
    new: crier_domain::store::posts::NewPost,
) -> Result<Scheduled, AppError> {
    use crier_domain::store::audit::Actor;
    use crier_domain::store::posts;

    use super::ssr::{media, pool};
    let pool = pool()?;
    let mut tx = pool.begin().await.map_err(crier_domain::DomainError::from)?;
    let id = posts::add_to_queue(&mut tx, me.team_id, Actor::User(me.user_id), draft_id, &new, &media()?.rules).await?;
    tx.commit().await.map_err(crier_domain::DomainError::from)?;
    let slots = posts::queued_slots(&pool, me.team_id, id).await?;
    let when: Vec<String> = slots.iter().map(|(name, at)| format!("{name} at {}", me.timezone.format(*at))).collect();
    Ok(Scheduled {
        post_id: id.to_string(),
        message: format!("Added to the queue: {}.", when.join("; ")),
        next_form_key: super::ssr::new_form_key(),
        dry_run: false,
        draft_id: None,
    })
}

/// "Save draft": the post as typed, without deliveries; its time (if typed) is when it is planned.
/// "Submit for review" (`review`): saved so, and waiting for approval (`store::reviews`).
#[cfg(feature = "ssr")]
async fn save_draft(
    me: &crier_domain::store::Member,
    draft_id: Option<uuid::Uuid>,
    content: crier_domain::post::PostContent,
    account_ids: Vec<uuid::Uuid>,
    scheduled_at: &str,
    occurrence: &str,
    review: bool,
) -> Result<Scheduled, AppError> {
    use crier_domain::store::audit::Actor;
    use crier_domain::store::drafts::{self, Draft};
    use crier_domain::store::reviews;

    let planned_at = if scheduled_at.trim().is_empty() {
        None
    } else {
        Some(me.timezone.schedule_time(scheduled_at, parse_occurrence(occurrence)).map_err(|e| AppError::Fields(vec![e]))?)
    };
    let draft = Draft { content, account_ids, planned_at, timezone: me.timezone };
    let pool = super::ssr::pool()?;
    if review {
        let id = reviews::submit(&pool, me.team_id, Actor::User(me.user_id), draft_id, &draft, &super::ssr::media()?.rules).await?;
        let message = "Submitted for review. It is scheduled for its time once it is approved; Drafts shows where it is.".to_owned();
        // The form keeps it (naming it): an edit saved from here goes back to review.
        let draft_id = Some(id.to_string());
        return Ok(Scheduled { post_id: id.to_string(), message, next_form_key: super::ssr::new_form_key(), dry_run: false, draft_id });
    }
    let id = drafts::save(&pool, me.team_id, Actor::User(me.user_id), draft_id, &draft).await?;
    let message = match planned_at {
        Some(at) => format!("Draft saved, planned for {}. Nothing is scheduled until you schedule it.", me.timezone.format(at)),
        None => "Draft saved. Nothing is scheduled until you schedule it.".to_owned(),
    };
    Ok(Scheduled {
        post_id: id.to_string(),
        message,
        next_form_key: super::ssr::new_form_key(),
        dry_run: false,
        draft_id: Some(id.to_string()),
    })
}

/// One delivery's chip.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chip {
    /// The delivery.
    pub delivery_id: String,
    /// The account's name.
    pub account: String,
    /// The account's platform.
    pub platform: Platform,
    /// Where Crier serves the account's profile picture, if it has one.
    pub picture: Option<String>,
    /// Where it is.
    pub state: DeliveryState,
    /// The post at the platform, once published.
    pub permalink: Option<String>,
    /// Why it failed or waits.
    pub error: Option<String>,
    /// When it is tried next (scheduled or retrying), in the viewer's zone.
    pub next_attempt: Option<String>,
}

/// A post on the dashboard.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostCard {
    /// The post.
    pub post_id: String,
    /// Its text (shortened).
    pub text: String,
    /// When it is due, in the viewer's zone.
    pub when: String,
    /// The day it is due, in the viewer's zone (`YYYY-MM-DD`), for the calendar.
    pub day: String,
    /// A dry run.
    pub dry_run: bool,
    /// One chip per account.
    pub chips: Vec<Chip>,
    /// Nothing has started publishing: it may be edited or cancelled.
    pub editable: bool,
    /// The media it carries, in order, each once.
    pub media: Vec<crate::server::media::MediaThumb>,
    /// A draft with a planned time (on the calendar): opened in Compose, not moved.
    #[serde(default)]
    pub draft: bool,
}

/// The post's card; `pictures` are the team's account picture URLs by account
/// ([`crier_domain::store::account_pictures::urls`]).
#[cfg(feature = "ssr")]
fn card(
    post: crier_domain::store::posts::PostSummary,
    zone: crier_domain::timezone::TimeZone,
    pictures: &std::collections::HashMap<uuid::Uuid, String>,
) -> PostCard {
    let draft = post.state != crier_domain::post_state::PostState::Scheduled;
    let editable = post.is_editable() && !draft;
    let mut text: String = post.text.chars().take(140).collect();
    if post.text.chars().count() > 140 {
        text.push('…');
    }
    let local = post.scheduled_at.with_timezone(&zone.tz());
    PostCard {
        post_id: post.post_id.to_string(),
        text,
        when: zone.format(post.scheduled_at),
        day: local.format("%Y-%m-%d").to_string(),
        dry_run: post.dry_run,
        editable,
        media: Vec::new(),
        draft,
        chips: post
            .deliveries
            .into_iter()
            .map(|d| Chip {
                delivery_id: d.delivery_id.to_string(),
                account: d.account_name,
                platform: d.platform,
                picture: pictures.get(&d.account_id).cloned(),
                state: d.state,
                permalink: d.permalink,
                error: d.last_error,
                next_attempt: matches!(d.state, DeliveryState::Scheduled | DeliveryState::Retrying).then(|| zone.format(d.next_attempt_at)),
            })
            .collect(),
    }
}

/// The card with the media its post carries (taken from `thumbs`, by post id).
#[cfg(feature = "ssr")]
fn with_media(mut card: PostCard, thumbs: &mut std::collections::HashMap<String, Vec<crate::server::media::MediaThumb>>) -> PostCard {
    card.media = thumbs.remove(&card.post_id).unwrap_or_default();
    card
}

/// A day of the calendar.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarDay {
    /// `YYYY-MM-DD` in the viewer's zone.
    pub date: String,
    /// "Mon 23".
    pub label: String,
    /// Inside the month shown (month view pads whole weeks).
    pub in_range: bool,
    /// Today.
    pub today: bool,
    /// The day's earliest posts, earliest first (a few; the rest are counted in `more`).
    pub posts: Vec<PostCard>,
    /// How many more posts are due that day than `posts` shows (the day's list has them all).
    pub more: i64,
    /// There are more than `more` (the calendar stops counting a day at a hundred posts).
    pub more_at_least: bool,
}

/// A free time in an account's queue, as the week shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FreeSlotCard {
    /// The account's id (a post dropped here joins its queue).
    pub account_id: String,
    /// Its name.
    pub account: String,
    /// The day, `YYYY-MM-DD` in the viewer's zone.
    pub day: String,
    /// The time, `HH:MM` in the viewer's zone.
    pub time: String,
}

/// The dashboard's data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardData {
    /// The list's page of posts, latest due first (empty for the calendar views).
    pub posts: Vec<PostCard>,
    /// The calendar's days (empty for the list).
    pub days: Vec<CalendarDay>,
    /// What is shown: "All posts", "Due on Tue 1 December 2026", "Week of 2026-11-23", "November 2026".
    pub title: String,
    /// The `at` of the previous and next week or month.
    pub previous: String,
    /// See `previous`.
    pub next: String,
    /// The list's next page (older posts): the `after` cursor, when there is one.
    pub older: Option<String>,
    /// The list's previous page (newer posts): the `before` cursor, when there is one.
    pub newer: Option<String>,
    /// The team's failed deliveries, for "Retry all failed".
    pub failed: i64,
    /// Whether a post shown is publishing or due within a minute (the page then looks again soon).
    pub busy: bool,
    /// Whether the viewer may retry and cancel.
    pub can_publish: bool,
    /// The time of day now in the viewer's zone (`HH:MM`): the week marks it on today.
    pub now_time: String,
    /// The week's free times in the team's accounts' queues (the week view only).
    pub free_slots: Vec<FreeSlotCard>,
}

/// Posts on one page of the list.
pub const LIST_PAGE_SIZE: i64 = 50;
/// Posts a month's day shows before "+N more".
pub const MONTH_POSTS_PER_DAY: i64 = 3;
/// Posts a week's day shows before "+N more".
pub const WEEK_POSTS_PER_DAY: i64 = 10;

/// The team's posts as a list (`view` empty), a week or a month (`week`, `month`) around `at`
/// (`YYYY-MM-DD`, the viewer's today when empty), with a delivery in `state` (any when empty).
///
/// The list shows [`LIST_PAGE_SIZE`] posts a page, due on `day` (`YYYY-MM-DD` in the viewer's
/// zone) when given, starting after the `after` cursor or ending before the `before` one (from
/// the page's links). A calendar day shows its earliest few posts and how many more there are.
/// However many posts the team has, a page reads a bounded number of them.
#[server(prefix = "/api", endpoint = "posts")]
pub async fn dashboard(
    #[server(default)] state: String,
    #[server(default)] view: String,
    #[server(default)] at: String,
    #[server(default)] day: String,
    #[server(default)] after: String,
    #[server(default)] before: String,
) -> Result<DashboardData, AppError> {
    use chrono::{Datelike, Months, NaiveDate, TimeDelta};
    use crier_domain::FieldError;
    use crier_domain::store::posts::{self, PostFilter};

    use super::ssr::{current_member, pool};
    let me = current_member().await?;
    let pool = pool()?;
    let state = match state.trim() {
        "" => None,
        name => Some(
            name.parse::<DeliveryState>()
                .map_err(|_| AppError::Fields(vec![FieldError::new("state", "Choose a status from the list.")]))?,
        ),
    };
    let date = |field: &'static str, raw: &str| crier_domain::timezone::parse_day(field, raw).map_err(|e| AppError::Fields(vec![e]));
    let cursor = |field: &'static str, raw: &str| -> Result<Option<(chrono::DateTime<chrono::Utc>, uuid::Uuid)>, AppError> {
        match raw.trim() {
            "" => Ok(None),
            raw => posts::decode_cursor(raw).map(Some).ok_or_else(|| {
                AppError::Fields(vec![FieldError::new(field, "This page link is not one Crier made. Start again from the newest posts.")])
            }),
        }
    };
    let local_now = chrono::Utc::now().with_timezone(&me.timezone.tz());
    let (today, now_time) = (local_now.date_naive(), local_now.format("%H:%M").to_string());
    let day = date("day", &day)?;
    let at = date("at", &at)?.or(day).unwrap_or(today);
    let failed = posts::failed_count(&pool, me.team_id).await?;
    let can_publish = me.role.can_edit();

    let (first, last, shown_first, shown_last, title, previous, next, per_day) = match view.as_str() {
        "week" => {
            let monday = at - TimeDelta::days(i64::from(at.weekday().num_days_from_monday()));
            let sunday = monday + TimeDelta::days(6);
            let title = format!("Week of {monday}");
            (monday, sunday, monday, sunday, title, monday - TimeDelta::days(7), monday + TimeDelta::days(7), WEEK_POSTS_PER_DAY)
        }
        "month" => {
            let first = at.with_day(1).unwrap_or(at);
            let last = (first + Months::new(1)) - TimeDelta::days(1);
            let shown_first = first - TimeDelta::days(i64::from(first.weekday().num_days_from_monday()));
            let shown_last = last + TimeDelta::days(6 - i64::from(last.weekday().num_days_from_monday()));
            let title = first.format("%B %Y").to_string();
            (first, last, shown_first, shown_last, title, first - Months::new(1), first + Months::new(1), MONTH_POSTS_PER_DAY)
        }
        _ => {
            // The list: one page of posts, newest due first.
            // The list shows what the calendar shows: drafts with a planned time too, marked.
            let mut filter = PostFilter {
                state,
                after: cursor("after", &after)?,
                before: cursor("before", &before)?,
                with_unscheduled: true,
                ..PostFilter::default()
            };
            if filter.after.is_some() {
                filter.before = None;
            }
            if let Some(day) = day {
                filter.from = Some(me.timezone.start_of_day(day));
                filter.until = Some(me.timezone.start_of_day(day + TimeDelta::days(1)));
            }
            let mut page = posts::list(&pool, me.team_id, &filter, LIST_PAGE_SIZE + 1).await?;
            let more = page.len() > LIST_PAGE_SIZE as usize;
            let (has_newer, has_older) = if filter.before.is_some() {
                // Read upwards from the cursor: the extra post is the newest, at the top.
                if more {
                    page.remove(0);
                }
                (more, true)
            } else {
                page.truncate(LIST_PAGE_SIZE as usize);
                (filter.after.is_some(), more)
            };
            let at_cursor =
                |p: Option<&crier_domain::store::posts::PostSummary>| p.map(|p| posts::encode_cursor(p.scheduled_at, p.post_id));
            let newer = if has_newer { at_cursor(page.first()) } else { None };
            let older = if has_older { at_cursor(page.last()) } else { None };
            let title = match day {
                Some(day) => format!("Due on {}", day.format("%a %-d %B %Y")),
                None => "All posts".to_owned(),
            };
            let now = chrono::Utc::now();
            let busy = page.iter().any(|p| p.is_about_to_change(now));
            let ids: Vec<uuid::Uuid> = page.iter().map(|p| p.post_id).collect();
            let mut thumbs = crate::server::media::thumbs_by_post(&pool, me.team_id, &ids).await?;
            let pictures = crier_domain::store::account_pictures::urls(&pool, me.team_id).await?;
            return Ok(DashboardData {
                posts: page.into_iter().map(|p| with_media(card(p, me.timezone, &pictures), &mut thumbs)).collect(),
                days: Vec::new(),
                title,
                previous: at.to_string(),
                next: at.to_string(),
                older,
                newer,
                failed,
                busy,
                can_publish,
                now_time: now_time.clone(),
                free_slots: Vec::new(),
            });
        }
    };
    let dates: Vec<NaiveDate> = shown_first.iter_days().take_while(|d| *d <= shown_last).collect();
    let bounds: Vec<_> = dates.iter().map(|d| (me.timezone.start_of_day(*d), me.timezone.start_of_day(*d + TimeDelta::days(1)))).collect();
    let counted = posts::calendar(&pool, me.team_id, &bounds, state, per_day).await?;
    let now = chrono::Utc::now();
    let busy = counted.iter().flat_map(|found| &found.first).any(|p| p.is_about_to_change(now));
    let ids: Vec<uuid::Uuid> = counted.iter().flat_map(|found| &found.first).map(|p| p.post_id).collect();
    let mut thumbs = crate::server::media::thumbs_by_post(&pool, me.team_id, &ids).await?;
    let pictures = crier_domain::store::account_pictures::urls(&pool, me.team_id).await?;
    let days = dates
        .into_iter()
        .zip(counted)
        .map(|(d, found)| CalendarDay {
            date: d.to_string(),
            label: d.format("%a %-d").to_string(),
            in_range: d >= first && d <= last,
            today: d == today,
            more: found.total - found.first.len() as i64,
            more_at_least: found.more_than_total,
            posts: found.first.into_iter().map(|p| with_media(card(p, me.timezone, &pictures), &mut thumbs)).collect(),
        })
        .collect();
    let free_slots = if view == "week" {
        let (from, until) = (me.timezone.start_of_day(shown_first), me.timezone.start_of_day(shown_last + TimeDelta::days(1)));
        crier_domain::store::queues::free_between(&pool, me.team_id, from, until)
            .await?
            .into_iter()
            .map(|f| {
                let local = f.at.with_timezone(&me.timezone.tz());
                FreeSlotCard {
                    account_id: f.account_id.to_string(),
                    account: f.name,
                    day: local.format("%Y-%m-%d").to_string(),
                    time: local.format("%H:%M").to_string(),
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(DashboardData {
        free_slots,
        posts: Vec::new(),
        days,
        title,
        previous: previous.to_string(),
        next: next.to_string(),
        older: None,
        newer: None,
        failed,
        busy,
        can_publish,
        now_time,
    })
}

/// Deliveries held until an account is reconnected (for the banner on every page).
#[server(prefix = "/api", endpoint = "posts/held")]
pub async fn held_deliveries() -> Result<i64, AppError> {
    use super::ssr::{pool, signed_in_member};
    match signed_in_member().await? {
        Some(me) => Ok(crier_domain::store::posts::held_count(&pool()?, me.team_id).await?),
        None => Ok(0),
    }
}

/// One attempt on a post's page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptLine {
    /// The account.
    pub account: String,
    /// 1, 2, …
    pub attempt: i16,
    /// When it started, in the viewer's zone.
    pub started: String,
    /// What came of it.
    pub outcome: String,
    /// The platform's HTTP status.
    pub http_status: Option<i16>,
    /// How long it took.
    pub duration_ms: Option<i32>,
    /// The platform's words.
    pub error: Option<String>,
}

/// Everything a post's page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostView {
    /// The post as on the dashboard.
    pub card: PostCard,
    /// The whole text.
    pub text: String,
    /// The link.
    pub link: Option<String>,
    /// The X thread's replies.
    pub thread: Vec<String>,
    /// Per-platform texts.
    pub overrides: Vec<(Platform, String)>,
    /// Every attempt, oldest first.
    pub attempts: Vec<AttemptLine>,
    /// Whether the viewer may change it.
    pub can_publish: bool,
    /// Its due time in the viewer's zone as a `datetime-local` value, for the edit form.
    pub scheduled_local: String,
    /// Its retry policy.
    pub retry: RetryPolicy,
    /// Whether a delivery is publishing or due within a minute (the page then looks again soon).
    pub busy: bool,
    /// Its media lists: the shared one first, then each platform's own and the thread's.
    pub media_lists: Vec<MediaList>,
    /// What each delivery uploaded to its platform.
    pub sent: Vec<SentMedia>,
    /// What its links get as they go out, in words.
    pub tracking: String,
    /// Short-link clicks per delivery (by delivery id), for the deliveries that have short links.
    pub clicks: Vec<(String, i64)>,
    /// Its first comments' texts, per platform.
    pub first_comment_texts: Vec<(Platform, String)>,
    /// Where each delivery's first comment is (for the deliveries that are out and have one).
    pub first_comments: Vec<FirstCommentLine>,
}

/// A delivery's first comment on the post's page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirstCommentLine {
    /// The delivery it is under.
    pub delivery_id: String,
    /// "Posted", "Waiting", "Sending", "Failed".
    pub state: String,
    /// Where it is seen.
    pub permalink: Option<String>,
    /// Why it failed or waits.
    pub error: Option<String>,
    /// Whether Retry is offered (failed, and the viewer may publish).
    pub can_retry: bool,
}

/// One list of a post's media: the shared one, a platform's own, or a thread reply's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaList {
    /// "Every platform", "X only", "X, reply 2".
    pub label: String,
    /// Its items, in order.
    pub items: Vec<crate::server::media::MediaThumb>,
}

/// A media item one delivery uploaded: which, and the platform's id for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentMedia {
    /// The delivery.
    pub delivery_id: String,
    /// The item's name.
    pub file_name: String,
    /// "Post" or "Reply 2", then its place: "Post, 1".
    pub place: String,
    /// The platform's media id.
    pub platform_media_id: String,
    /// When it was uploaded, in the viewer's zone.
    pub uploaded: String,
    /// When the platform forgets it if unused, in the viewer's zone.
    pub expires: Option<String>,
}

#[cfg(feature = "ssr")]
use super::ssr::parse_id;

/// One post of the team.
#[server(prefix = "/api", endpoint = "posts/show")]
pub async fn post_page(post_id: String) -> Result<PostView, AppError> {
    use crier_domain::store::posts;

    use super::ssr::{current_member, pool};
    let me = current_member().await?;
    let pool = pool()?;
    let detail = posts::get(&pool, me.team_id, parse_id(&post_id)?).await?;
    let thumbs = crate::server::media::thumbs_by_post(&pool, me.team_id, &[detail.summary.post_id])
        .await?
        .remove(&detail.summary.post_id.to_string())
        .unwrap_or_default();
    let media_lists = media_lists(&detail.content, &thumbs);
    let pictures = crier_domain::store::account_pictures::urls(&pool, me.team_id).await?;
    let sent = crier_domain::store::media::delivered(&pool, me.team_id, detail.summary.post_id)
        .await?
        .into_iter()
        .map(|m| SentMedia {
            delivery_id: m.delivery_id.to_string(),
            file_name: m.file_name,
            place: if m.item == 0 { format!("post, {}", m.position) } else { format!("reply {}, {}", m.item, m.position) },
            platform_media_id: m.platform_media_id,
            uploaded: me.timezone.format(m.uploaded_at),
            expires: m.expires_at.map(|at| me.timezone.format(at)),
        })
        .collect();
    let names: std::collections::HashMap<uuid::Uuid, String> =
        detail.summary.deliveries.iter().map(|d| (d.delivery_id, format!("{} ({})", d.account_name, d.platform.label()))).collect();
    let attempts = detail
        .attempts
        .iter()
        .map(|a| AttemptLine {
            account: names.get(&a.delivery_id).cloned().unwrap_or_default(),
            attempt: a.attempt,
            started: me.timezone.format(a.started_at),
            outcome: a.outcome.map_or("in progress", |o| o.words()).to_owned(),
            http_status: a.http_status,
            duration_ms: a.duration_ms,
            error: a.error.clone(),
        })
        .collect();
    let first_comments = crier_domain::store::first_comments::of_post(&pool, me.team_id, detail.summary.post_id)
        .await?
        .into_iter()
        .map(|c| FirstCommentLine {
            delivery_id: c.delivery_id.to_string(),
            state: c.state.label().to_owned(),
            permalink: c.permalink,
            error: c.error,
            can_retry: c.state == crier_domain::store::first_comments::FirstCommentState::Failed && me.role.can_edit(),
        })
        .collect();
    let clicks = crier_domain::store::link_tracking::clicks_by_delivery(&pool, me.team_id, detail.summary.post_id)
        .await?
        .into_iter()
        .map(|(id, clicks)| (id.to_string(), clicks))
        .collect();
    Ok(PostView {
        busy: detail.summary.is_about_to_change(chrono::Utc::now()),
        text: detail.content.text.clone(),
        link: detail.content.link.clone(),
        thread: detail.content.thread.clone(),
        overrides: detail.content.overrides.clone(),
        retry: detail.retry,
        scheduled_local: detail.summary.scheduled_at.with_timezone(&me.timezone.tz()).format("%Y-%m-%dT%H:%M").to_string(),
        card: PostCard { media: thumbs, ..card(detail.summary, me.timezone, &pictures) },
        attempts,
        can_publish: me.role.can_edit(),
        media_lists,
        sent,
        tracking: detail.content.tracking.describe(),
        first_comment_texts: detail.content.first_comments.clone(),
        first_comments,
        clicks,
    })
}

/// A post's media lists for its page, each item as a thumbnail (from `thumbs`, the post's items).
#[cfg(feature = "ssr")]
fn media_lists(content: &crier_domain::post::PostContent, thumbs: &[crate::server::media::MediaThumb]) -> Vec<MediaList> {
    let mut lists: Vec<MediaList> = Vec::new();
    for choice in &content.media {
        let label = match (choice.platform, choice.item) {
            (None, 0) => "Every platform".to_owned(),
            (Some(platform), 0) => format!("{} only", platform.label()),
            (None, reply) => format!("Reply {reply}"),
            (Some(platform), reply) => format!("{}, reply {reply}", platform.label()),
        };
        let Some(thumb) = thumbs.iter().find(|t| t.id == choice.media_id.to_string()) else { continue };
        let mut thumb = thumb.clone();
        if let Some(alt) = choice.alt_text.clone() {
            thumb.alt_text = alt;
        }
        match lists.iter_mut().find(|l| l.label == label) {
            Some(list) => list.items.push(thumb),
            None => lists.push(MediaList { label, items: vec![thumb] }),
        }
    }
    lists
}

/// "Cancel": every delivery not yet published or started.
#[server(prefix = "/api", endpoint = "posts/cancel")]
pub async fn cancel_post(post_id: String) -> Result<u64, AppError> {
    use crier_domain::store::audit::Actor;
    use crier_domain::store::posts;

    use super::ssr::pool;
    let me = editor().await?;
    Ok(posts::cancel(&pool()?, me.team_id, Actor::User(me.user_id), parse_id(&post_id)?).await?)
}

/// "Move to another day" (or hour): the calendar's drag and drop (`public/calendar.js`). The post
/// goes to `day` (`YYYY-MM-DD`) at its time of day in the viewer's timezone, or, dropped on an
/// hour of the week (`hour`, `00`–`23`), at that hour with its minutes, with the same checks as
/// editing (nothing started, the platforms' rules); a moment in the past, or a time the clocks
/// skip or repeat that day, is refused with the reason. From the keyboard, a post's page
/// reschedules it ("Edit or reschedule").
#[server(prefix = "/api", endpoint = "posts/move")]
pub async fn move_post(
    post_id: String,
    day: String,
    #[server(default)] hour: String,
    #[server(default)] minute: String,
    #[server(default)] account: String,
) -> Result<String, AppError> {
    use crier_domain::FieldError;
    use crier_domain::store::audit::Actor;
    use crier_domain::store::posts::{self, PostEdit};

    use super::ssr::{media, pool};
    let me = editor().await?;
    let pool = pool()?;
    let post_id = parse_id(&post_id)?;
    let day = chrono::NaiveDate::parse_from_str(day.trim(), "%Y-%m-%d")
        .map_err(|_| AppError::Fields(vec![FieldError::new("day", "Drop the post on a day of the calendar.")]))?;
    let hour = match hour.trim() {
        "" => None,
        given => Some(
            given
                .parse::<u8>()
                .ok()
                .filter(|h| *h < 24)
                .ok_or_else(|| AppError::Fields(vec![FieldError::new("hour", "Drop the post on an hour of the week.")]))?,
        ),
    };
    let detail = posts::get(&pool, me.team_id, post_id).await?;
    let local = detail.summary.scheduled_at.with_timezone(&me.timezone.tz());
    // A free queue time gives the minute too.
    let minute = match minute.trim() {
        "" => None,
        given => Some(
            given
                .parse::<u8>()
                .ok()
                .filter(|m| *m < 60)
                .ok_or_else(|| AppError::Fields(vec![FieldError::new("minute", "Drop the post on a time of the week.")]))?,
        ),
    };
    let time = match (hour, minute) {
        (Some(hour), Some(minute)) => format!("{hour:02}:{minute:02}"),
        (Some(hour), None) => format!("{hour:02}:{}", local.format("%M")),
        (None, _) => local.format("%H:%M").to_string(),
    };
    let at = me
        .timezone
        .schedule_time(&format!("{}T{time}", day.format("%Y-%m-%d")), None)
        .map_err(|e| AppError::Fields(vec![FieldError::new("day", format!("{} Open the post to choose a time.", e.message))]))?;
    if crier_domain::post::has_passed(at, chrono::Utc::now()) {
        return Err(AppError::Fields(vec![FieldError::new(
            "day",
            format!("{} has passed. Drop the post on a later day.", me.timezone.format(at)),
        )]));
    }
    let edit = PostEdit { content: detail.content, scheduled_at: at, timezone: me.timezone };
    posts::edit(&pool, me.team_id, Actor::User(me.user_id), post_id, &edit, &media()?.rules).await?;
    // Dropped on a free time of an account's queue: its delivery to that account joins the queue there.
    if let Ok(account_id) = crier_domain::store::parse_id(account.trim())
        && crier_domain::store::queues::take_slot(&pool, me.team_id, Actor::User(me.user_id), account_id, post_id, at).await?
    {
        return Ok(format!("Moved to {}, into that account's queue.", me.timezone.format_with_utc(at)));
    }
    Ok(format!("Moved to {}.", me.timezone.format_with_utc(at)))
}

/// The kept field that offers Undo under a plain post's notice.
pub const UNDO_FIELD: &str = "undo";

/// "Undo" right after Publish now or Schedule: takes the post back while nothing of it has been
/// sent ([`crier_domain::store::posts::undo`]) and answers what to say. A plain form post goes back
/// to Compose with the post in the form again.
#[server(prefix = "/api", endpoint = "posts/undo")]
pub async fn undo_post(post_id: String) -> Result<String, AppError> {
    use crate::components::form::{NOTICE_FIELD, join_list};
    use crier_domain::store::audit::Actor;
    use crier_domain::store::posts;

    use super::ssr::{fail_form, keep_for_next_page, pool};
    let undone = async {
        let me = editor().await?;
        let detail = posts::undo(&pool()?, me.team_id, Actor::User(me.user_id), parse_id(&post_id)?).await?;
        Ok::<_, AppError>((me, detail))
    }
    .await;
    let (me, detail) = match undone {
        Ok(done) => done,
        Err(e) => {
            let said = e.page_message();
            return fail_form(CreatePost::PATH, e, &[(NOTICE_FIELD, said.as_str()), ("post_id", post_id.as_str())]).await;
        }
    };
    let message = "Undone: nothing was sent, and the post is back in the form.".to_owned();
    let content = &detail.content;
    let own = |platform: crier_platform::Platform| {
        content.overrides.iter().find(|(p, _)| *p == platform).map(|(_, t)| t.clone()).unwrap_or_default()
    };
    let shared: Vec<&crier_domain::post::MediaChoice> = content.media.iter().filter(|m| m.platform.is_none() && m.item == 0).collect();
    let accounts: Vec<String> = detail.summary.deliveries.iter().map(|d| d.account_id.to_string()).collect();
    let media: Vec<String> = shared.iter().map(|m| m.media_id.to_string()).collect();
    let alts: Vec<String> = shared.iter().map(|m| m.alt_text.clone().unwrap_or_default()).collect();
    let (texts, thread, accounts, media, alts) =
        (crier_platform::Platform::ALL.map(own), join_list(&content.thread), join_list(&accounts), join_list(&media), join_list(&alts));
    let when = detail.summary.scheduled_at.with_timezone(&me.timezone.tz()).format("%Y-%m-%dT%H:%M").to_string();
    let link = content.link.clone().unwrap_or_default();
    let mut kept = vec![
        (NOTICE_FIELD, message.as_str()),
        ("post_id", post_id.as_str()),
        ("text", content.text.as_str()),
        ("link", link.as_str()),
        ("thread", thread.as_str()),
        ("accounts", accounts.as_str()),
        ("media", media.as_str()),
        ("media_alt", alts.as_str()),
        ("scheduled_at", when.as_str()),
    ];
    for (platform, text) in crier_platform::Platform::ALL.into_iter().zip(&texts) {
        kept.push((platform_text_field(platform), text.as_str()));
    }
    keep_for_next_page(CreatePost::PATH, &kept).await;
    Ok(message)
}

/// The form field of a platform's own text: `text_x`, `text_linkedin`, `text_facebook`.
pub fn platform_text_field(platform: crier_platform::Platform) -> &'static str {
    match platform {
        crier_platform::Platform::X => "text_x",
        crier_platform::Platform::Linkedin => "text_linkedin",
        crier_platform::Platform::Facebook => "text_facebook",
    }
}

/// "Retry" on one failed delivery, or (with a post and no delivery) all of a post's failed ones,
/// or (with neither) every failed delivery of the team.
#[server(prefix = "/api", endpoint = "posts/retry")]
pub async fn retry_failed(#[server(default)] post_id: String, #[server(default)] delivery_id: String) -> Result<u64, AppError> {
    use crier_domain::store::audit::Actor;
    use crier_domain::store::posts;

    use super::ssr::pool;
    let me = editor().await?;
    let optional = |raw: &str| if raw.trim().is_empty() { Ok(None) } else { parse_id(raw).map(Some) };
    Ok(posts::retry_failed(&pool()?, me.team_id, Actor::User(me.user_id), optional(&post_id)?, optional(&delivery_id)?).await?)
}

/// "Retry" beside a failed first comment: it is looked for, then sent again.
#[server(prefix = "/api", endpoint = "posts/retry_first_comment")]
pub async fn retry_first_comment(delivery_id: String) -> Result<bool, AppError> {
    use super::ssr::pool;
    let me = editor().await?;
    Ok(crier_domain::store::first_comments::retry(&pool()?, me.team_id, parse_id(&delivery_id)?).await?)
}

/// "Save changes" on a post that has not started publishing: its texts, link, thread and time.
#[server(prefix = "/api", endpoint = "posts/edit")]
#[allow(clippy::too_many_arguments)]
pub async fn edit_post(
    post_id: String,
    text: String,
    #[server(default)] text_x: String,
    #[server(default)] text_linkedin: String,
    #[server(default)] text_facebook: String,
    #[server(default)] link: String,
    #[server(default)] thread: Vec<String>,
    scheduled_at: String,
    #[server(default)] occurrence: String,
) -> Result<String, AppError> {
    use crier_domain::store::audit::Actor;
    use crier_domain::store::posts::{self, PostEdit};

    use super::ssr::{fail_form, media, notice_for_next_page, pool};
    let typed = [("text", text.as_str()), ("link", link.as_str()), ("scheduled_at", scheduled_at.as_str())];
    let outcome = async {
        let me = editor().await?;
        let pool = pool()?;
        let post_id = parse_id(&post_id)?;
        // The page's form changes the texts and the time; the post keeps its media and link
        // tracking as they are.
        let kept = posts::get(&pool, me.team_id, post_id).await?.content;
        let content = parse_content(&text, [text_x, text_linkedin, text_facebook], &link, thread)?
            .with_media(kept.media)
            .map_err(|e| AppError::Fields(vec![e]))?
            .with_tracking(kept.tracking);
        let content = crier_domain::post::PostContent { first_comments: kept.first_comments, ..content };
        let at = me.timezone.schedule_time(&scheduled_at, parse_occurrence(&occurrence)).map_err(|e| AppError::Fields(vec![e]))?;
        let edit = PostEdit { content, scheduled_at: at, timezone: me.timezone };
        posts::edit(&pool, me.team_id, Actor::User(me.user_id), post_id, &edit, &media()?.rules).await?;
        Ok::<_, AppError>(format!("Saved. Due {}.", me.timezone.format_with_utc(at)))
    }
    .await;
    match outcome {
        Ok(message) => {
            notice_for_next_page(EditPost::PATH, &message).await;
            Ok(message)
        }
        Err(e) => fail_form(EditPost::PATH, e, &typed).await,
    }
}

/// "Schedule batch": several posts to the same accounts, one per line as
/// `YYYY-MM-DD HH:MM | text` in the viewer's timezone; all are scheduled, or (if any line is
/// wrong) none, and the error names the line.
#[server(prefix = "/api", endpoint = "posts/batch")]
pub async fn schedule_batch(
    posts: String,
    #[server(default)] accounts: Vec<String>,
    #[server(default)] media: Vec<String>,
    #[server(default)] form_key: String,
) -> Result<String, AppError> {
    use crier_domain::FieldError;
    use crier_domain::post::PostContent;
    use crier_domain::store::audit::Actor;
    use crier_domain::store::posts::{self, NewPost};

    use super::ssr::{fail_form, notice_for_next_page, pool};
    let typed_accounts = crate::components::form::join_list(&accounts);
    let typed_media = crate::components::form::join_list(&media);
    let typed = [("posts", posts.as_str()), ("accounts", typed_accounts.as_str()), ("media", typed_media.as_str())];
    let outcome = async {
        let me = editor().await?;
        super::ssr::once_per_form(&form_key, &me, super::ssr::Replay::Same, async {
            let refuse = |message: String| AppError::Fields(vec![FieldError::new("posts", message)]);
            let account_ids = crier_domain::store::parse_account_ids(&accounts)?;
            // The media ticked go with every post of the batch, each with its own alt text.
            let chosen = parse_media(&media, &[])?;
            let given = posts.lines().filter(|l| !l.trim().is_empty()).count();
            if given > crier_domain::post::MAX_BATCH_POSTS {
                return Err(refuse(format!(
                    "That is {given} posts; a batch may schedule at most {}. Split it into several batches.",
                    crier_domain::post::MAX_BATCH_POSTS
                )));
            }
            // Each post's links are tracked as the team's defaults say, as Compose starts every post.
            let tracking = crier_domain::store::link_tracking::team_defaults(&pool()?, me.team_id).await?;
            let mut batch = Vec::new();
            for (index, line) in posts.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
                let number = index + 1;
                let (when, text) = line
                    .split_once('|')
                    .ok_or_else(|| refuse(format!("Line {number}: write the time, a | and the text, e.g. 2026-12-01 09:30 | Hello.")))?;
                let at = me.timezone.schedule_time(when, None).map_err(|e| refuse(format!("Line {number}: {}", e.message)))?;
                let content = PostContent::parse(text, [], "", [])
                    .and_then(|content| content.with_media(chosen.clone()))
                    .map_err(|e| refuse(format!("Line {number}: {}", e.message)))?
                    .with_tracking(tracking.clone());
                batch.push(NewPost {
                    content,
                    account_ids: account_ids.clone(),
                    scheduled_at: at,
                    timezone: me.timezone,
                    dry_run: false,
                    retry: Default::default(),
                });
            }
            if batch.is_empty() {
                return Err(refuse("Write at least one post, one per line.".into()));
            }
            let lines: Vec<usize> = posts.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()).map(|(i, _)| i + 1).collect();
            let rules = &super::ssr::media()?.rules;
            posts::schedule_all(&pool()?, me.team_id, Actor::User(me.user_id), &batch, rules).await.map_err(|(index, e)| {
                match AppError::from(e) {
                    AppError::Fields(fields) if fields.iter().any(|f| f.field == "text") => refuse(format!(
                        "Line {}: {}",
                        lines[index],
                        fields.iter().map(|f| f.message.as_str()).collect::<Vec<_>>().join(" ")
                    )),
                    other => other,
                }
            })?;
            let n = batch.len();
            Ok::<_, AppError>(format!(
                "Scheduled {n} {} to {} {}.",
                if n == 1 { "post" } else { "posts" },
                account_ids.len(),
                if account_ids.len() == 1 { "account" } else { "accounts" }
            ))
        })
        .await
    }
    .await;
    match outcome {
        Ok(done) => {
            notice_for_next_page(ScheduleBatch::PATH, &done).await;
            Ok(done)
        }
        Err(e) => fail_form(ScheduleBatch::PATH, e, &typed).await,
    }
}
