//! An account's posting schedule and queue (`/accounts/{id}/queue`): the weekly times, the posts
//! waiting in order, moving them, removing one, pausing and resuming.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::errors::AppError;
#[cfg(feature = "ssr")]
use server_fn::ServerFn;

/// One post waiting in the queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueRow {
    /// Its delivery (the forms' id).
    pub delivery_id: String,
    /// Its post's page.
    pub post_id: String,
    /// The post's text.
    pub text: String,
    /// When, in the viewer's timezone.
    pub when: String,
    /// Why not at the slot's usual time (a skipped or repeated time), if so.
    pub note: Option<String>,
}

/// What the queue page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueData {
    /// The account's id.
    pub account_id: String,
    /// Its name.
    pub name: String,
    /// Its platform, in words.
    pub platform: String,
    /// The schedule's zone (the viewer's when none is set yet).
    pub timezone: String,
    /// Every zone, for the select.
    pub zones: Vec<String>,
    /// Each weekday's times, Monday first (`09:00, 17:30`).
    pub times: Vec<String>,
    /// Whether the account has a schedule.
    pub has_schedule: bool,
    /// Whether the queue is paused.
    pub paused: bool,
    /// What waits, in order.
    pub items: Vec<QueueRow>,
    /// Where the next posts go, in the viewer's timezone.
    pub next_free: Vec<String>,
    /// Whether the viewer may change it (editors and up).
    pub can_edit: bool,
}

/// The team's account's queue page.
#[server(prefix = "/api", endpoint = "queue")]
pub async fn queue_page(account_id: String) -> Result<QueueData, AppError> {
    use crier_domain::store::queues;

    use super::ssr::{current_member, parse_id, pool};
    let me = current_member().await?;
    let id = parse_id(&account_id)?;
    let view = queues::view(&pool()?, me.team_id, id).await?;
    let tz = me.timezone;
    let (timezone, times) = match &view.schedule {
        Some(s) => (s.week.timezone.name().to_owned(), (1..=7).map(|d| s.week.times_of(d)).collect()),
        None => (tz.name().to_owned(), vec![String::new(); 7]),
    };
    Ok(QueueData {
        account_id: id.to_string(),
        name: view.name,
        platform: view.platform,
        timezone,
        zones: crier_domain::timezone::TimeZone::all().map(str::to_owned).collect(),
        times,
        has_schedule: view.schedule.is_some(),
        paused: view.schedule.as_ref().is_some_and(|s| s.paused_at.is_some()),
        items: view
            .items
            .into_iter()
            .map(|q| QueueRow {
                delivery_id: q.delivery_id.to_string(),
                post_id: q.post_id.to_string(),
                text: q.text,
                when: tz.format(q.at),
                note: q.note,
            })
            .collect(),
        next_free: view.next_free.into_iter().map(|s| tz.format(s.at)).collect(),
        can_edit: me.role.can_edit(),
    })
}

/// Saves the account's weekly times (editors and up); the queue takes the new slots in order.
#[server(prefix = "/api", endpoint = "queue/schedule")]
#[allow(clippy::too_many_arguments)] // one per weekday, as the form posts them
pub async fn save_posting_schedule(
    account_id: String,
    timezone: String,
    #[server(default)] times_1: String,
    #[server(default)] times_2: String,
    #[server(default)] times_3: String,
    #[server(default)] times_4: String,
    #[server(default)] times_5: String,
    #[server(default)] times_6: String,
    #[server(default)] times_7: String,
) -> Result<(), AppError> {
    use crier_domain::posting_schedule::WeeklySchedule;
    use crier_domain::store::audit::Actor;
    use crier_domain::store::queues;

    use super::ssr::{editor, fail_form, notice_for_next_page, parse_id, pool};
    let times = [times_1, times_2, times_3, times_4, times_5, times_6, times_7];
    let typed: Vec<(String, &str)> = times
        .iter()
        .enumerate()
        .map(|(i, t)| (format!("times_{}", i + 1), t.as_str()))
        .chain([("timezone".to_owned(), timezone.as_str())])
        .collect();
    let outcome = async {
        let me = editor().await?;
        let week = WeeklySchedule::parse(&timezone, &times).map_err(|e| AppError::Fields(vec![e]))?;
        queues::set_schedule(&pool()?, me.team_id, Actor::User(me.user_id), parse_id(&account_id)?, &week).await?;
        Ok::<_, AppError>(week.slots.len())
    }
    .await;
    match outcome {
        Ok(slots) => {
            notice_for_next_page(SavePostingSchedule::PATH, &format!("Saved: {slots} times a week.")).await;
            Ok(())
        }
        Err(e) => {
            let kept: Vec<(&str, &str)> = typed.iter().map(|(k, v)| (k.as_str(), *v)).collect();
            fail_form(SavePostingSchedule::PATH, e, &kept).await
        }
    }
}

/// Moves a post in the queue (`how`: up, down, top) or shuffles it (`shuffle`).
#[server(prefix = "/api", endpoint = "queue/move")]
pub async fn move_in_queue(account_id: String, #[server(default)] delivery_id: String, how: String) -> Result<(), AppError> {
    use crier_domain::store::audit::Actor;
    use crier_domain::store::queues::{self, Move};

    use super::ssr::{editor, fail_form, parse_id, pool};
    let outcome = async {
        let me = editor().await?;
        let how = Move::parse(&how).ok_or_else(|| AppError::Refused("Choose up, down, top or shuffle.".into()))?;
        let delivery = if how == Move::Shuffle { None } else { Some(parse_id(&delivery_id)?) };
        Ok::<_, AppError>(queues::reorder(&pool()?, me.team_id, Actor::User(me.user_id), parse_id(&account_id)?, delivery, how).await?)
    }
    .await;
    match outcome {
        Ok(()) => Ok(()),
        Err(e) => fail_form(MoveInQueue::PATH, e, &[]).await,
    }
}

/// Removes a post from the queue (its delivery to this account is cancelled); the rest close up.
#[server(prefix = "/api", endpoint = "queue/remove")]
pub async fn remove_from_queue(account_id: String, delivery_id: String) -> Result<(), AppError> {
    use crier_domain::store::audit::Actor;
    use crier_domain::store::queues;

    use super::ssr::{editor, fail_form, parse_id, pool};
    let outcome = async {
        let me = editor().await?;
        Ok::<_, AppError>(
            queues::remove(&pool()?, me.team_id, Actor::User(me.user_id), parse_id(&account_id)?, parse_id(&delivery_id)?).await?,
        )
    }
    .await;
    match outcome {
        Ok(()) => Ok(()),
        Err(e) => fail_form(RemoveFromQueue::PATH, e, &[]).await,
    }
}

/// Pauses (`paused` = "true") or resumes the queue.
#[server(prefix = "/api", endpoint = "queue/pause")]
pub async fn pause_queue(account_id: String, paused: String) -> Result<(), AppError> {
    use crier_domain::store::audit::Actor;
    use crier_domain::store::queues;

    use super::ssr::{editor, fail_form, notice_for_next_page, parse_id, pool};
    let pause = paused.trim() == "true";
    let outcome = async {
        let me = editor().await?;
        Ok::<_, AppError>(queues::set_paused(&pool()?, me.team_id, Actor::User(me.user_id), parse_id(&account_id)?, pause).await?)
    }
    .await;
    match outcome {
        Ok(()) => {
            let words = if pause { "Paused: its posts wait until you resume it." } else { "Resumed: its posts took the next free times." };
            notice_for_next_page(PauseQueue::PATH, words).await;
            Ok(())
        }
        Err(e) => fail_form(PauseQueue::PATH, e, &[]).await,
    }
}
